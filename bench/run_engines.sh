#!/usr/bin/env bash
# The engine benchmark in one command: Trailmap against chDB (ClickHouse in-process) and DuckDB on
# a seeded event log of SIZE events, whole query against whole query (cold: `trailmap funnel`
# against fresh processes over Parquet; warm: `trailmap serve` over HTTP against chDB's MergeTree
# in a kept session), and Markov attribution against ChannelAttribution, all in one run; results
# are added to bench/results/engines.{md,json}. See bench/engines.py for what is timed.
#
# Usage: bench/run_engines.sh SIZE [RUNS]      e.g. bench/run_engines.sh 10000000
#
# Python packages (chdb, duckdb, pyarrow, pandas, channelattribution and matplotlib, which
# ChannelAttribution imports) go into a venv outside the repository, $BENCH_VENV
# (default /work/scratch/venv-bench); data go to $BENCH_SCRATCH (default /work/scratch/engines):
# the store (about 36 bytes an event), the TSV export, the Parquet file and chDB's session folder.
# Delete it after big sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:?usage: bench/run_engines.sh SIZE [RUNS]}
runs=${2:-3}
venv=${BENCH_VENV:-/work/scratch/venv-bench}
export BENCH_SCRATCH=${BENCH_SCRATCH:-/work/scratch/engines}
if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import chdb, duckdb, pyarrow, pandas, matplotlib, ChannelAttribution" 2>/dev/null \
    || "$venv/bin/pip" install --quiet chdb duckdb pyarrow pandas matplotlib channelattribution
cargo build --release -p trailmap -p trailmap-bench
target=${CARGO_TARGET_DIR:-target}
export TRAILMAP_BENCH=$target/release/trailmap-bench
export TRAILMAP=$target/release/trailmap
exec "$venv/bin/python" bench/engines.py "$size" "$runs"
