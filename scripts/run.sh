#!/usr/bin/env bash
# Sets up what is missing, builds the release site and serves AXE at http://127.0.0.1:3000
# (or AXE_ADDR) on its embedded defaults. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
scripts/build-editor.sh
cargo leptos build --release --split
exec target/release/server
