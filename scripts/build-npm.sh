#!/usr/bin/env bash
# Packs the npm package @axe/widget (no publishing) from the release site: the sources in
# frontend/npm/ plus the build's wasm, JS glue, styles, split chunks and editor module.
#   scripts/build-npm.sh      -> target/npm/axe-widget-<version>.tgz (path printed last)
# Run after `cargo leptos build --release --split`.
set -euo pipefail
cd "$(dirname "$0")/.."
site=target/site
[[ -f $site/pkg/axe.wasm ]] || { echo "build-npm: run cargo leptos build --release --split first" >&2; exit 1; }
out=target/npm
rm -rf "$out/package"
mkdir -p "$out/package/embed" "$out/package/pkg" "$out/package/editor"
cp frontend/npm/package.json frontend/npm/*.js frontend/npm/*.d.ts frontend/npm/README.md "$out/package/"
cp "$site/embed/widget.js" "$out/package/embed/"
cp "$site"/pkg/*.js "$site"/pkg/*.wasm "$site"/pkg/*.css "$site"/pkg/*.json "$out/package/pkg/"
cp "$site/editor/axe-editor.js" "$out/package/editor/"
(cd "$out/package" && npm pack --pack-destination .. --silent)
ls -1 "$out"/axe-widget-*.tgz | tail -1
