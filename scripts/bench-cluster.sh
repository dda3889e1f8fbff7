#!/usr/bin/env bash
# The cluster benchmark (numbers, not a test): one AXE node, then three behind HAProxy, over the
# same Redis and a fresh PostgreSQL database each, on this machine. For each it prints
#   - chat throughput: `axe-load --churn-secs` visits per second (a visit connects, sends a chat,
#     streams the offline reply, applies its diff and leaves: one chat and three commits);
#   - idle sessions: IDLE sessions opened and held, the nodes' memory for them, ping p50/p99.
# Every process shares this machine's cores (and the client runs here too), so three nodes
# cannot show three times one: read the ratio as what the coordination costs, not as scaling.
#
#   scripts/bench-cluster.sh [SECONDS=60] [IDLE=3000]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
idle=${2:-3000}
scripts/setup.sh --cluster >/dev/null
source scripts/env.sh
cargo build --release -p server --bin server --bin axe-load
ulimit -n 20000
export AXE_TEST_PG_PORT=15460 AXE_TEST_REDIS_PORT=16460 AXE_TEST_LB_PORT=17400
pg_admin=$(scripts/test-postgres.sh start)
redis_url=$(scripts/test-redis.sh start)
read -r lb node1 node2 node3 <<<"$(scripts/test-haproxy.sh start 2>/dev/null)"
pids=()
stop_nodes() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap 'stop_nodes; scripts/test-haproxy.sh stop; scripts/test-redis.sh stop; scripts/test-postgres.sh stop' EXIT

# Starts nodes on the given addresses over database $1; waits until each is ready.
start_nodes() {
  local database=$1
  shift
  psql -q "$pg_admin" -c "CREATE DATABASE $database" >/dev/null
  local n=0
  for addr in "$@"; do
    n=$((n + 1))
    LEPTOS_OUTPUT_NAME=axe AXE_ADDR="$addr" AXE_NODE_ID="bench-$database-$n" AXE_LOG=warn \
      AXE_DATABASE_URL="${pg_admin%/*}/$database" AXE_REDIS_URL="$redis_url" \
      AXE_RATE_CONNECTS_PER_MIN=100000000 AXE_RATE_CHAT_PER_MIN=100000 AXE_OFFLINE_DELAY_MS=1 \
      AXE_MAX_SESSIONS_PER_SUBJECT=100000000 AXE_MAX_CONNECTIONS=100000 AXE_LLM_CONCURRENCY=64 \
      target/release/server >/dev/null &
    pids+=("$!")
  done
  for addr in "$@"; do
    for _ in $(seq 1 300); do
      curl -sf "http://$addr/readyz" >/dev/null && continue 2
      sleep 0.1
    done
    echo "the node on $addr never became ready" >&2
    exit 1
  done
}

# One configuration: churn for $secs, then $idle idle sessions (memory summed over the nodes).
measure() {
  local label=$1 url=$2
  local visits
  visits=$(target/release/axe-load --url "ws://$url" --churn-secs "$secs" --report-secs "$secs" \
    | awk 'NR > 1 {v = $2} END {print v}')
  printf '%s: %s visits in %s s = %.1f chats/s\n' "$label" "$visits" "$secs" \
    "$(echo "$visits / $secs" | bc -l)"
  local all
  all=$(IFS=,; echo "${pids[*]}")
  target/release/axe-load --url "ws://$url" --sessions "$idle" --pings 1000 --server-pid "$all" \
    | sed "s/^/$label: /"
}

# Waits until the balancer sees $1 nodes up in both its backends.
balanced() {
  until [[ "$(curl -s "http://127.0.0.1:$((AXE_TEST_LB_PORT + 99))/stats;csv" \
    | awk -F, '$1 ~ /^(nodes|sockets)$/ && $2 ~ /^node-/ && $18 == "UP"' | wc -l)" -ge $(($1 * 2)) ]]; do
    sleep 0.2
  done
}

start_nodes bench_one "$node1"
measure "1 node " "$node1"
stop_nodes

start_nodes bench_three "$node1" "$node2" "$node3"
balanced 3
measure "3 nodes" "$lb"
