# Sourced by the other scripts: puts the installed tools on PATH.
# shellcheck shell=bash
export PATH="$HOME/.cargo/bin:$PWD/end2end/node_modules/.bin:$PATH"
