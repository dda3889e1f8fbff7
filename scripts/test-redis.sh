#!/usr/bin/env bash
# A throwaway Redis server for the cluster tests, from Debian's package, with no persistence
# (a restart loses every lease, as a real Redis restart without persistence does).
#   scripts/test-redis.sh start     starts it on 127.0.0.1:$AXE_TEST_REDIS_PORT (16379), prints its URL
#   scripts/test-redis.sh restart   stops it and starts it again, empty, on the same port
#   scripts/test-redis.sh down      stops it (as an outage: `restart` brings it back)
#   scripts/test-redis.sh stop      stops it and removes its folder
set -euo pipefail
port="${AXE_TEST_REDIS_PORT:-16379}"
dir="${TMPDIR:-/tmp}/axe-test-redis-$port"
command -v redis-server >/dev/null || { echo "Redis is not installed: run scripts/setup.sh --test" >&2; exit 1; }

stop() {
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 1 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 || break
    sleep 0.1
  done
}

start() {
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
  for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  cat "$dir/redis.log" >&2
  exit 1
}

case "${1:-}" in
  start) stop; start; echo "redis://127.0.0.1:$port" ;;
  restart) stop; start ;;
  down) stop ;;
  stop) stop; rm -rf "$dir" ;;
  *) echo "usage: $0 start|restart|down|stop" >&2; exit 2 ;;
esac
