#!/usr/bin/env bash
# Bundles the canvas's code editor (CodeMirror 6, frontend/editor/) into
# frontend/assets/editor/axe-editor.js, which cargo-leptos copies into the site. Skips the work
# when the bundle is newer than its sources. Needs `scripts/setup.sh` first (npm packages).
set -euo pipefail
cd "$(dirname "$0")/../frontend/editor"
out=../assets/editor/axe-editor.js
if [[ -f "$out" ]] && [[ -z "$(find src package-lock.json -newer "$out" -print -quit)" ]]; then
  exit 0
fi
echo "[build-editor] bundling CodeMirror into $out"
npm run --silent build
