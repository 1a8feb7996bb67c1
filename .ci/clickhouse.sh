#!/usr/bin/env bash
# A throw-away two-shard ClickHouse cluster for the tests: `.ci/clickhouse.sh start DIR [BASE_PORT]`
# starts two clickhouse-server processes on 127.0.0.1, each with its own config folder, data path
# and ports under DIR (node N listens for HTTP on BASE_PORT+10*(N-1), for its native protocol one
# above, for replication two above), and both configs name the cluster `trailmap` of two shards with
# one replica each, so a Distributed table on either node spans both. Run as root, the servers run
# as Debian's unprivileged `clickhouse` user. The script waits until both answer `SELECT 1` (a
# bounded number of tries) and prints the URL the tests take in TRAILMAP_TEST_CLICKHOUSE:
# `clickhouse://127.0.0.1:HTTP1,127.0.0.1:HTTP2/default?cluster=trailmap` (every shard's HTTP
# address, the first one the node queries go to; the store creates its tables on each).
# `.ci/clickhouse.sh stop DIR` stops each server by the PID it recorded and removes DIR.
#
# Debian ships ClickHouse 18.16 only (`apt-get install clickhouse-server clickhouse-client`); the
# store's SQL is written to run on it and on current servers alike.
set -euo pipefail

# Runs the command in place of the calling (background) shell, as the clickhouse user when root:
# exec, and setpriv's own exec (no child process, unlike runuser), keep the PID of the background
# job the server's own.
as_clickhouse() {
  if [ "$(id -u)" = 0 ] && id clickhouse >/dev/null 2>&1; then
    exec setpriv --reuid=clickhouse --regid=clickhouse --init-groups -- "$@"
  else
    exec "$@"
  fi
}

# The config of node $1 (1 or 2) under $2 with the base port $3.
write_config() {
  local node=$1 home=$2 base=$3
  local http=$((base + 10 * (node - 1)))
  mkdir -p "$home/data" "$home/tmp" "$home/format_schemas" "$home/user_files"
  cat >"$home/config.xml" <<XML
<yandex>
  <logger><level>warning</level><log>$home/server.log</log><errorlog>$home/server.err.log</errorlog><console>0</console></logger>
  <http_port>$http</http_port>
  <tcp_port>$((http + 1))</tcp_port>
  <interserver_http_port>$((http + 2))</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$home/data/</path>
  <tmp_path>$home/tmp/</tmp_path>
  <user_files_path>$home/user_files/</user_files_path>
  <format_schema_path>$home/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <remote_servers>
    <trailmap>
      <shard><replica><host>127.0.0.1</host><port>$((base + 1))</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>$((base + 11))</port></replica></shard>
    </trailmap>
  </remote_servers>
</yandex>
XML
  # `default` (no password, loopback only) is the user the shards query each other as; `trailmap`
  # (password `trailmap`) lets the tests check a URL with a user and a password.
  cat >"$home/users.xml" <<XML
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default>
    <trailmap><password>trailmap</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></trailmap>
  </users>
  <quotas><default></default></quotas>
</yandex>
XML
}

case "${1:-}" in
  start)
    dir=$2 base=${3:-18123}
    command -v clickhouse-server >/dev/null || [ -x /usr/sbin/clickhouse-server ] \
      || { echo "ClickHouse is not installed (apt-get install clickhouse-server clickhouse-client)" >&2; exit 1; }
    server=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
    mkdir -p "$dir"
    for node in 1 2; do
      home="$dir/node$node"
      write_config "$node" "$home" "$base"
      [ "$(id -u)" = 0 ] && id clickhouse >/dev/null 2>&1 && chown -R clickhouse: "$home"
      # setsid detaches the server from this script's session, so it outlives the script; setsid
      # and setpriv both exec, so $! is the server's PID, which stop kills.
      as_clickhouse setsid "$server" --config-file="$home/config.xml" >"$home/stdout.log" 2>&1 </dev/null &
      echo $! >"$dir/node$node.pid"
    done
    for node in 1 2; do
      port=$((base + 10 * (node - 1)))
      ok=
      # Up to 300 tries of at most a second each: a cold 18.16 starts within a few seconds.
      for _ in $(seq 1 300); do
        if curl -fsS --max-time 1 "http://127.0.0.1:$port/?query=SELECT%201" >/dev/null 2>&1; then ok=1; break; fi
        kill -0 "$(cat "$dir/node$node.pid")" 2>/dev/null || break
        sleep 0.1
      done
      if [ -z "$ok" ]; then
        echo "ClickHouse node $node did not answer on port $port; its log:" >&2
        tail -n 20 "$dir/node$node/server.err.log" "$dir/node$node/stdout.log" >&2 2>/dev/null || true
        exit 1
      fi
    done
    echo "clickhouse://127.0.0.1:$base,127.0.0.1:$((base + 10))/default?cluster=trailmap"
    ;;
  stop)
    dir=$2
    for node in 1 2; do
      pidfile="$dir/node$node.pid"
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      kill -TERM "$pid" 2>/dev/null || true
      # The server ends within seconds of SIGTERM; wait for the process itself, not a fixed time,
      # and kill it after a minute so a stuck server never holds CI.
      for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start DIR [BASE_PORT] | stop DIR" >&2
    exit 2
    ;;
esac
