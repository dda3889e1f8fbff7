#!/usr/bin/env bash
# The idle-session load benchmark: starts the release server, opens N sessions from a separate
# process (axe-load), prints the server's RSS per idle session and the ping round trip p50/p99.
#   scripts/bench-load.sh [N=10000] [PINGS=2000]
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-10000}
pings=${2:-2000}
port=${AXE_BENCH_PORT:-3900}
source scripts/env.sh
cargo build --release -p server --bin server --bin axe-load
ulimit -n 20000
# A fresh database of its own, so earlier runs' sessions do not count.
db_dir="$(mktemp -d)"
# One address and one subject open every session: the connect and ownership limits are raised
# so the benchmark measures the sessions, not the limits.
LEPTOS_OUTPUT_NAME=axe AXE_ADDR="127.0.0.1:$port" AXE_LOG=warn \
  AXE_DATABASE_URL="sqlite:$db_dir/axe.db" AXE_RATE_CONNECTS_PER_MIN=100000000 \
  AXE_MAX_SESSIONS_PER_SUBJECT=100000000 target/release/server &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true; rm -rf "$db_dir"' EXIT
for _ in $(seq 1 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then break; fi
  sleep 0.1
done
target/release/axe-load --url "ws://127.0.0.1:$port" --sessions "$sessions" \
  --server-pid "$server_pid" --pings "$pings"
