#!/usr/bin/env bash
# The ClickHouse side of `trailmap-bench funnel`: installs Debian's clickhouse-server if missing,
# starts a private server on loopback (its own data directory under SCRATCH, no systemd), loads the
# exported events, runs the windowFunnel query RUNS times and prints one JSON object: the version,
# every run's seconds (as reported by `clickhouse-client --time`), the load time and the customers
# per furthest level. Stops the server on exit.
#
# Usage: bench/funnel_clickhouse.sh EVENTS_TSV WINDOW_MS RUNS SCRATCH STEP1 STEP2 ...
#
# Debian's ClickHouse is 18.16: its windowFunnel takes only a UInt32 or DateTime timestamp, keeps
# level timestamps in an Int32 (timestamps from 2^31 on never start a chain), has no DateTime64
# and no modes (no 'strict', no 'strict_order'). Milliseconds since 1970 do not fit, and seconds
# would move chains across the window boundary, so each customer's timeline is cut into blocks of
# BLOCK_MS whose events carry milliseconds since the block's start; a block also holds the next
# WINDOW_MS of events, so every chain lies whole inside the block of its first event, and a
# customer's furthest level is the largest over their blocks. The blocks are built at load time,
# outside the timed query.
set -euo pipefail

tsv=$1; window_ms=$2; runs=$3; scratch=$4; shift 4
steps=("$@")

if ! command -v clickhouse-client >/dev/null || ! command -v clickhouse-server >/dev/null; then
    echo "installing clickhouse-server and clickhouse-client ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y clickhouse-server clickhouse-client >&2
fi

# Block length: a block plus one window of milliseconds must stay below 2^31.
block_ms=$((2147000000 - window_ms))
if (( window_ms > block_ms )); then
    echo "window ${window_ms} ms is too long for ClickHouse 18.16's 32-bit timestamps (at most about 12 days)" >&2
    exit 2
fi

home="$scratch/clickhouse"
rm -rf "$home"
mkdir -p "$home/data" "$home/tmp" "$home/format_schemas"
port=${CLICKHOUSE_BENCH_PORT:-19000}
cat > "$home/config.xml" <<XML
<yandex>
  <logger><level>warning</level><log>$home/server.log</log><errorlog>$home/server.err.log</errorlog><console>0</console></logger>
  <tcp_port>$port</tcp_port>
  <http_port>$((port + 1))</http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$home/data/</path>
  <tmp_path>$home/tmp/</tmp_path>
  <format_schema_path>$home/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>1073741824</mark_cache_size>
</yandex>
XML
cat > "$home/users.xml" <<XML
<yandex>
  <profiles><default><max_memory_usage>16000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
XML

clickhouse-server --config-file="$home/config.xml" >"$home/stdout.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT

client() { clickhouse-client --port "$port" "$@"; }
for _ in $(seq 1 100); do
    if client -q "SELECT 1" >/dev/null 2>&1; then break; fi
    sleep 0.2
done
version=$(client -q "SELECT version()")

conditions=""
names=""
for step in "${steps[@]}"; do
    conditions+="${conditions:+, }event = '${step}'"
    names+="${names:+, }'${step}'"
done

started=$(date +%s.%N)
client -q "CREATE TABLE raw (customer Int64, ts Int64, event String, seq UInt64) ENGINE = MergeTree ORDER BY (customer, ts, seq)"
client -q "INSERT INTO raw FORMAT TabSeparated" < "$tsv"
origin=$(client -q "SELECT min(ts) FROM raw")
# An event at offset d from the origin belongs to block intDiv(d, B), and also to the block before
# when it falls within one window of its own block's start.
client -q "CREATE TABLE events (customer Int64, block UInt32, ts UInt32, event String, seq UInt64) ENGINE = MergeTree ORDER BY (customer, block, ts, seq)"
client -q "INSERT INTO events SELECT customer, block, toUInt32(ts - $origin - block * $block_ms), event, seq FROM raw
           ARRAY JOIN if(((ts - $origin) % $block_ms) < $window_ms AND ts - $origin >= $block_ms,
                         [toUInt32(intDiv(ts - $origin, $block_ms)), toUInt32(intDiv(ts - $origin, $block_ms) - 1)],
                         [toUInt32(intDiv(ts - $origin, $block_ms))]) AS block"
client -q "OPTIMIZE TABLE events FINAL"
load_seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
rows=$(client -q "SELECT count() FROM raw")
block_rows=$(client -q "SELECT count() FROM events")

query="SELECT level, count() FROM (
    SELECT customer, max(level) AS level FROM (
        SELECT customer, block, windowFunnel($window_ms)(ts, $conditions) AS level
        FROM events WHERE event IN ($names) GROUP BY customer, block)
    GROUP BY customer)
WHERE level > 0 GROUP BY level ORDER BY level FORMAT TabSeparated"

seconds=()
result=""
for _ in $(seq 1 "$runs"); do
    result=$(client --time -q "$query" 2>"$home/time.txt")
    seconds+=("$(tail -n 1 "$home/time.txt")")
done

levels=$(echo "$result" | awk 'BEGIN{ORS=""; print "{"} NF==2 {printf "%s\"%s\": %s", (n++ ? ", " : ""), $1, $2} END{print "}"}')
runs_json=$(IFS=,; echo "[${seconds[*]}]")
echo "{\"clickhouse\": \"$version\", \"rows\": $rows, \"block_rows\": $block_rows, \"block_ms\": $block_ms, \"load_seconds\": $load_seconds, \"seconds\": $runs_json, \"levels\": $levels}"
