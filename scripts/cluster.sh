#!/usr/bin/env bash
# Runs AXE as several nodes on this machine, the way a deployment runs them on several: one
# PostgreSQL, one Redis, three AXE nodes (127.0.0.1:3001-3003) and HAProxy in front of them on
# http://127.0.0.1:3000. Installs what is missing (Debian packages), builds the release site,
# keeps the data in axe-data/cluster/ (PostgreSQL's and Redis's), and logs each process there.
# Ctrl-C stops everything: the nodes drain first (/readyz 503, then their sockets close).
#
#   scripts/cluster.sh             three nodes
#   AXE_NODES=5 scripts/cluster.sh five (ports 3001-3005)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --cluster
source scripts/env.sh
scripts/build-editor.sh
cargo leptos build --release --split

nodes=${AXE_NODES:-3}
dir="$PWD/axe-data/cluster"
pg_port=${AXE_CLUSTER_PG_PORT:-5433}
redis_port=${AXE_CLUSTER_REDIS_PORT:-6380}
mkdir -p "$dir/redis"
say() { printf '[cluster] %s\n' "$*"; }

# PostgreSQL, as the postgres user when run as root (it refuses to run as root).
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
as_pg() { if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [[ ! -f "$dir/pg/PG_VERSION" ]]; then
  say "creating the PostgreSQL cluster in $dir/pg"
  mkdir -p "$dir/pg" "$dir/pg-log"
  [[ "$(id -u)" == 0 ]] && chown postgres: "$dir/pg" "$dir/pg-log"
  as_pg "$pg_bin/initdb" -D "$dir/pg" -A trust -U postgres >"$dir/initdb.log"
fi
as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg-log/postgres.log" -w \
  -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
database="postgres://postgres@127.0.0.1:$pg_port/postgres"

# Redis with an append-only file: leases survive its restart (AXE also copes when they do not).
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir/redis" --appendonly yes \
  --daemonize yes --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis.log"

pids=()
stop_all() {
  say "stopping: nodes drain, then HAProxy, Redis and PostgreSQL stop"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -f "$dir/haproxy.pid" ]] && kill "$(cat "$dir/haproxy.pid")" 2>/dev/null || true
  redis-cli -p "$redis_port" shutdown >/dev/null 2>&1 || true
  as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null 2>&1 || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Every client reaches the nodes from the balancer's address, so the per-address connect limit
# would be shared by everyone (AXE does not trust X-Forwarded-For for limits yet): it is raised,
# and the per-subject limit still applies.
addrs=()
for n in $(seq 1 "$nodes"); do
  addr="127.0.0.1:$((3000 + n))"
  addrs+=("$addr")
  AXE_ADDR="$addr" AXE_NODE_ID="node-$n" AXE_DATABASE_URL="$database" \
    AXE_REDIS_URL="redis://127.0.0.1:$redis_port" \
    AXE_ALLOWED_ORIGINS="${AXE_ALLOWED_ORIGINS:-http://127.0.0.1:3000,http://localhost:3000}" \
    AXE_RATE_CONNECTS_PER_MIN="${AXE_RATE_CONNECTS_PER_MIN:-6000}" \
    target/release/server >"$dir/node-$n.log" 2>&1 &
  pids+=("$!")
done

STATS_ADDR=127.0.0.1:3099 scripts/haproxy-config.sh 127.0.0.1:3000 "${addrs[@]}" >"$dir/haproxy.cfg"
haproxy -D -p "$dir/haproxy.pid" -f "$dir/haproxy.cfg"

say "AXE at http://127.0.0.1:3000 ($nodes nodes: ${addrs[*]}; HAProxy's view: http://127.0.0.1:3099/stats)"
say "logs in $dir/; Ctrl-C stops everything"
wait "${pids[@]}"
