#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests: `.ci/postgres.sh start DIR PORT` creates it in DIR
# (initdb as the unprivileged `postgres` user, which Debian's package creates; PostgreSQL refuses to
# run as root), listening on 127.0.0.1:PORT only, with password authentication for the superuser
# `trailmap` (password `trailmap`), and prints the URL the tests take in TRAILMAP_TEST_POSTGRES.
# `.ci/postgres.sh stop DIR` stops it by the PID in its postmaster.pid and removes DIR.
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    dir=$2 port=$3
    [ -n "$bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    printf 'trailmap\n' >"$dir.pw"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir.pw"
    as_postgres "$bin/initdb" -D "$dir/data" -U trailmap --pwfile="$dir.pw" --auth=scram-sha-256 \
      --encoding=UTF8 --locale=C >"$dir.initdb.log"
    rm -f "$dir.pw"
    # Tests create a database each; fsync stays on, since the kill tests rely on durable commits.
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300 -c shared_buffers=256MB" start >/dev/null
    echo "postgres://trailmap:trailmap@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir=$2
    if [ -f "$dir/data/postmaster.pid" ]; then
      pid=$(head -1 "$dir/data/postmaster.pid")
      kill -INT "$pid" 2>/dev/null || true
      # A fast shutdown ends within seconds; wait for the process itself, not a fixed time.
      while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    rm -rf "$dir" "$dir.initdb.log"
    ;;
  *)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
