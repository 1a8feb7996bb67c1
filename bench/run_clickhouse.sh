#!/usr/bin/env bash
# The ClickHouse benchmark in one command: starts the two-shard rig (.ci/clickhouse.sh) on a base
# port found free from BASE_PORT up, builds trailmap and trailmap-bench in release mode, runs
# `trailmap-bench clickhouse` against the rig (load throughput, bytes per event on disk, and the
# engine benchmark's funnel pushed down beside the embedded engine and chDB, counts checked equal),
# and stops the rig it started. Results go to bench/results/clickhouse.{md,json}. Run as root, as
# CI runs the rig (the servers run as Debian's `clickhouse` user).
#
# Usage: bench/run_clickhouse.sh [SIZE [RUNS [BASE_PORT]]]     e.g. bench/run_clickhouse.sh 10000000
#
# With TRAILMAP_TEST_CLICKHOUSE set, that cluster is used and no rig is started. Python packages
# (chdb, duckdb, pyarrow, pandas) go into $BENCH_VENV (default /work/scratch/venv-bench, the engine
# benchmark's); data go to $BENCH_SCRATCH (default /work/scratch/engines, shared with the engine
# benchmark so its store of the same size is reused) and the rig's data to $BENCH_SCRATCH/rig.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-10000000}
runs=${2:-3}
port=${3:-18600}
venv=${BENCH_VENV:-/work/scratch/venv-bench}
scratch=${BENCH_SCRATCH:-/work/scratch/engines}
mkdir -p "$scratch"
if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import chdb, duckdb, pyarrow, pandas" 2>/dev/null \
    || "$venv/bin/pip" install --quiet chdb duckdb pyarrow pandas
cargo build --release -p trailmap -p trailmap-bench
target=${CARGO_TARGET_DIR:-target}

rig=
if [[ -z ${TRAILMAP_TEST_CLICKHOUSE:-} ]]; then
    # Other rigs may be running (CI, other benchmarks): take the first base port whose six ports
    # (HTTP, native and interserver of each node) nobody listens on.
    while ss -ltn | awk '{print $4}' | grep -Eq ":($port|$((port + 1))|$((port + 2))|$((port + 10))|$((port + 11))|$((port + 12)))\$"; do
        port=$((port + 100))
    done
    rig=$scratch/rig
    trap '.ci/clickhouse.sh stop "$rig"' EXIT
    TRAILMAP_TEST_CLICKHOUSE=$(.ci/clickhouse.sh start "$rig" "$port")
    export TRAILMAP_TEST_CLICKHOUSE
fi
"$target/release/trailmap-bench" --scratch "$scratch" clickhouse --events "$size" --runs "$runs" --python "$venv/bin/python"
