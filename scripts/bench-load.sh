#!/usr/bin/env bash
# The server's load benchmarks against the release server in its own process (axe-load drives
# it from a second process):
#   scripts/bench-load.sh [N=10000] [PINGS=2000]   RSS per idle session, ping p50/p99 with N open
#   scripts/bench-load.sh --churn SECONDS          connect/chat/apply/leave churn; prints the
#                                                  server's RSS every minute (the leak soak)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=idle
if [[ "${1:-}" == "--churn" ]]; then
  mode=churn
  churn_secs=${2:?--churn needs a duration in seconds}
else
  sessions=${1:-10000}
  pings=${2:-2000}
fi
port=${AXE_BENCH_PORT:-3900}
source scripts/env.sh
cargo build --release -p server --bin server --bin axe-load
ulimit -n 20000
# A fresh database of its own, so earlier runs' sessions do not count; and copies of the
# binaries, so a rebuild during a long soak does not touch the running ones.
db_dir="$(mktemp -d)"
cp target/release/server target/release/axe-load "$db_dir/"
# One address and one subject open every session: the connect, chat, connection and ownership
# limits are raised so the benchmark measures the sessions, not the limits. The offline responder answers
# (no model server), with a short pause between words so the churn is not all waiting.
LEPTOS_OUTPUT_NAME=axe AXE_ADDR="127.0.0.1:$port" AXE_LOG=warn \
  AXE_DATABASE_URL="sqlite:$db_dir/axe.db" AXE_RATE_CONNECTS_PER_MIN=100000000 \
  AXE_RATE_CHAT_PER_MIN=100000 AXE_OFFLINE_DELAY_MS=1 \
  AXE_MAX_SESSIONS_PER_SUBJECT=100000000 AXE_MAX_CONNECTIONS=100000 "$db_dir/server" &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true; rm -rf "$db_dir"' EXIT
for _ in $(seq 1 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then break; fi
  sleep 0.1
done
if [[ $mode == churn ]]; then
  "$db_dir/axe-load" --url "ws://127.0.0.1:$port" --server-pid "$server_pid" \
    --churn-secs "$churn_secs"
else
  "$db_dir/axe-load" --url "ws://127.0.0.1:$port" --sessions "$sessions" \
    --server-pid "$server_pid" --pings "$pings"
fi
