#!/usr/bin/env bash
# A throwaway HAProxy in front of the cluster tests' nodes, from Debian's package. The tests
# start and kill the nodes themselves, always on these ports.
#   scripts/test-haproxy.sh start   balances 127.0.0.1:$AXE_TEST_LB_PORT (17100) over the nodes
#                                   127.0.0.1:17101..17103 and prints "LB_ADDR NODE_ADDR..."; its
#                                   status page is at http://127.0.0.1:17199/stats (port + 99)
#   scripts/test-haproxy.sh stop    stops it
# The ports are below Linux's ephemeral range (32768 and up), so that no client socket of the
# tests can hold a node's port when a killed node is started again.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${AXE_TEST_LB_PORT:-17100}"
dir="${TMPDIR:-/tmp}/axe-test-haproxy-$port"
command -v haproxy >/dev/null || { echo "HAProxy is not installed: run scripts/setup.sh --test" >&2; exit 1; }
nodes=("127.0.0.1:$((port + 1))" "127.0.0.1:$((port + 2))" "127.0.0.1:$((port + 3))")

stop() {
  if [[ -f "$dir/haproxy.pid" ]]; then
    kill "$(cat "$dir/haproxy.pid")" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start)
    stop
    mkdir -p "$dir"
    STATS_ADDR="127.0.0.1:$((port + 99))" \
      scripts/haproxy-config.sh "127.0.0.1:$port" "${nodes[@]}" >"$dir/haproxy.cfg"
    haproxy -D -p "$dir/haproxy.pid" -f "$dir/haproxy.cfg" 2>"$dir/haproxy.log" \
      || { cat "$dir/haproxy.log" >&2; exit 1; }
    echo "127.0.0.1:$port ${nodes[*]}"
    ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
