#!/usr/bin/env bash
# What a host page loads from AXE's server, in three figures (gzip -9, as the server sends it
# to a browser that takes gzip), from the release site (`cargo leptos build --release --split`):
#   before open  the loader /axe/embed.js (button and its styles inline): all a page loads
#                until the person opens AXE
#   panel        opening the chat panel: the widget's module, the wasm-bindgen glue and split
#                helper, the main wasm and the widget's styles
#   canvas       opening the canvas on top: its lazy wasm chunk and the CodeMirror editor module
# Each is compared with its budget (KiB):
#   AXE_BUDGET_BEFORE_OPEN_KIB  20    the target
#   AXE_BUDGET_PANEL_KIB        260   a ratchet at today's size; the target, 120, is NOT met
#   AXE_BUDGET_CANVAS_KIB       260   a ratchet at today's size (the editor module is most of it)
#   scripts/size-report.sh            report (says OVER BUDGET, exits 0)
#   scripts/size-report.sh --enforce  exit 1 when a figure is over its budget
set -euo pipefail
cd "$(dirname "$0")/.."
enforce=false
[[ "${1:-}" == "--enforce" ]] && enforce=true
site=target/site
status=0

gz() { gzip -9 -c "$1" | wc -c; }

# figure NAME BUDGET_KIB FILE...: prints each file and the total, checks the budget.
figure() {
  local name=$1 budget=$2 total=0 file size
  shift 2
  for file in "$@"; do
    if [[ ! -f "$file" ]]; then
      echo "size-report: $file is missing; run cargo leptos build --release --split first" >&2
      exit 1
    fi
    size=$(gz "$file")
    total=$((total + size))
    awk -v f="${file#"$site"/}" -v r="$(stat -c %s "$file")" -v g="$size" 'BEGIN {
      printf "size-report:   %-52s raw %8d B   gzip %8d B (%6.1f KiB)\n", f, r, g, g / 1024 }'
  done
  awk -v n="$name" -v t="$total" -v b="$budget" 'BEGIN {
    printf "size-report: %-12s %7.1f KiB gzip (budget %d KiB)\n", n, t / 1024, b }'
  if ((total > budget * 1024)); then
    echo "size-report: OVER BUDGET: $name is over its budget of $budget KiB" >&2
    $enforce && status=1
  fi
  return 0
}

shopt -s nullglob
figure "before open" "${AXE_BUDGET_BEFORE_OPEN_KIB:-20}" "$site/embed/loader.js"
figure "panel" "${AXE_BUDGET_PANEL_KIB:-260}" "$site/embed/widget.js" "$site/pkg/axe.js" \
  "$site"/pkg/__wasm_split*.js "$site/pkg/axe.wasm" "$site/pkg/axe.css"
figure "canvas" "${AXE_BUDGET_CANVAS_KIB:-260}" "$site"/pkg/split_*.wasm "$site/editor/axe-editor.js"
exit $status
