#!/usr/bin/env bash
# Prints an HAProxy configuration that balances AXE nodes: WebSocket-aware (a socket stays on
# its node for its life), health-checked on /readyz (a draining node gets no new connections;
# a dead one is skipped within a second), new connections to the node with the fewest.
#   scripts/haproxy-config.sh LISTEN_ADDR NODE_ADDR...
#   e.g. scripts/haproxy-config.sh 127.0.0.1:3000 127.0.0.1:3001 127.0.0.1:3002 127.0.0.1:3003
# With STATS_ADDR set, HAProxy's own status page (which nodes it sees up) is served there at
# /stats (add ;csv for a table); keep it on loopback.
set -euo pipefail
listen=${1:?usage: $0 LISTEN_ADDR NODE_ADDR...}
shift
cat <<CFG
global
    # Two file descriptors per proxied connection: keep under the process's open-file limit
    # (20,000 on these machines), or raise both together.
    maxconn 9000

defaults
    mode http
    option http-server-close
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
    default_backend nodes
$(if [[ -n "${STATS_ADDR:-}" ]]; then printf '\nfrontend stats\n    bind %s\n    stats enable\n    stats uri /stats\n' "$STATS_ADDR"; fi)

backend nodes
    balance leastconn
    option httpchk GET /readyz
    http-check expect status 200
    # No shutdown-sessions: a draining node closes its own sockets (1001) after AXE_DRAIN_SECS.
    default-server inter 500ms fall 1 rise 2
CFG
n=1
for node in "$@"; do
  echo "    server node-$n $node check"
  n=$((n + 1))
done
