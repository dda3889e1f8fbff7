#!/usr/bin/env bash
# The open-session benchmark: builds the release site, then times opening the widget in Chromium
# for a new session and for a seeded 5,000-turn one (end2end/bench/open-session.bench.ts).
#   scripts/bench-open.sh            (AXE_BENCH_RUNS=30 opens of each)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/build-editor.sh
cargo leptos build --release --split
cd end2end && npx playwright test -c playwright.bench.config.ts --reporter=list
