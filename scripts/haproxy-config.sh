#!/usr/bin/env bash
# Prints an HAProxy configuration that balances AXE nodes: WebSocket-aware (a socket stays on
# its node for its life), health-checked on /readyz (a draining node gets no new connections;
# a dead one is skipped within a second). A session's socket goes to the node its id hashes
# to (consistent hashing of the path), so a reconnect finds the node that already holds the
# session and nothing has to move; when that node is down or draining, only its sessions move.
# Everything else (pages, the widget's files, the sessions API) goes to the least busy node.
#   scripts/haproxy-config.sh LISTEN_ADDR NODE_ADDR...
#   e.g. scripts/haproxy-config.sh 127.0.0.1:3000 127.0.0.1:3001 127.0.0.1:3002 127.0.0.1:3003
# With STATS_ADDR set, HAProxy's own status page (which nodes it sees up) is served there at
# /stats (add ;csv for a table); keep it on loopback.
set -euo pipefail
listen=${1:?usage: $0 LISTEN_ADDR NODE_ADDR...}
shift
# The nodes, health-checked: no shutdown-sessions, since a draining node closes its own sockets
# (1001) after AXE_DRAIN_SECS.
servers() {
  echo "    option httpchk GET /readyz"
  echo "    http-check expect status 200"
  echo "    default-server inter 500ms fall 1 rise 2"
  local n=1
  for node in "$@"; do
    echo "    server node-$n $node check"
    n=$((n + 1))
  done
}

cat <<CFG
global
    # Two file descriptors per proxied connection: keep under the process's open-file limit
    # (20,000 on these machines), or raise both together.
    maxconn 9000

defaults
    mode http
    option http-server-close
    # Tells the nodes who the client is: a forwarded request never counts as local, so
    # /metrics and /dashboard stay closed to the world behind the balancer.
    option forwardfor
    # A refused connection to a node that just died is tried again, on another node.
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    # An upgraded WebSocket: idle up to the widget's ping period several times over.
    timeout tunnel 1h
    # A node answers 503 while a session moves to it: the client retries, not the balancer.
    timeout queue 5s

frontend axe
    bind $listen
    use_backend sockets if { path_beg /api/axe/ws/ }
    default_backend nodes
$(if [[ -n "${STATS_ADDR:-}" ]]; then printf '\nfrontend stats\n    bind %s\n    stats enable\n    stats uri /stats\n' "$STATS_ADDR"; fi)

backend sockets
    # The path without its query (?last_seq=N changes on every reconnect).
    balance uri path-only
    hash-type consistent
$(servers "$@")

backend nodes
    balance leastconn
$(servers "$@")
CFG
