#!/usr/bin/env bash
# A throwaway PostgreSQL server for the storage tests, from Debian's package.
#   scripts/test-postgres.sh start   initialises a cluster in a temporary folder, starts it on
#                                    127.0.0.1:$AXE_TEST_PG_PORT (15432) with trust auth, and
#                                    prints its admin URL
#   scripts/test-postgres.sh stop    stops it and removes the folder
# As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail
port="${AXE_TEST_PG_PORT:-15432}"
dir="${TMPDIR:-/tmp}/axe-test-pg-$port"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[[ -n "$bin" ]] || { echo "PostgreSQL is not installed: run scripts/setup.sh --test" >&2; exit 1; }

as_owner() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start)
    stop
    mkdir -p "$dir"
    [[ "$(id -u)" == 0 ]] && chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
