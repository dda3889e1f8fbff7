#!/usr/bin/env bash
# Prints the sizes of the release wasm and JS that load with the widget, raw and gzipped, and
# compares the gzipped wasm with its budget. Run after `cargo leptos build --release`.
#   scripts/size-report.sh            report (says OVER BUDGET, exits 0)
#   scripts/size-report.sh --enforce  also exit 1 when over budget
set -euo pipefail
cd "$(dirname "$0")/.."
budget_kib=${AXE_WASM_BUDGET_KIB:-120}
enforce=false
[[ "${1:-}" == "--enforce" ]] && enforce=true
pkg=target/site/pkg
status=0
for file in "$pkg/axe.wasm" "$pkg/axe.js"; do
  if [[ ! -f "$file" ]]; then
    echo "size-report: $file is missing; run cargo leptos build --release first" >&2
    exit 1
  fi
  raw=$(stat -c %s "$file")
  gz=$(gzip -9 -c "$file" | wc -c)
  awk -v f="$file" -v r="$raw" -v g="$gz" 'BEGIN {
    printf "size-report: %-22s raw %8d B (%6.1f KiB)   gzip -9 %8d B (%6.1f KiB)\n", f, r, r / 1024, g, g / 1024
  }'
  if [[ "$file" == *.wasm ]] && (( gz > budget_kib * 1024 )); then
    echo "size-report: OVER BUDGET: the gzipped wasm is over its budget of $budget_kib KiB" >&2
    $enforce && status=1
  fi
done
exit $status
