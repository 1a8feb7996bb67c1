"""The embedded engine's and chDB's sides of the ClickHouse benchmark (`trailmap-bench clickhouse`
calls this with the engine benchmark's prepared store and export): the same ordered funnel timed
exactly as bench/engines.py times it, whose functions it reuses, and printed as one JSON object on
standard output for the Rust side to compare with the funnel pushed down to the ClickHouse rig.

Usage: python bench/clickhouse_sides.py DB TSV EVENTS RUNS
(environment: TRAILMAP_BENCH, TRAILMAP and BENCH_SCRATCH, as for engines.py)

- cold: a fresh process from start to printed counts, taking turns run by run: `trailmap funnel
  --format json` over the store on disk, and a fresh Python importing chDB and querying the same
  events in a Parquet file (the query's own time kept beside it).
- warm: `trailmap serve` asked over HTTP on a kept-alive connection (its journeys kept from a
  first request), then chDB querying a MergeTree table loaded and optimised in a kept session.
"""

import json
import os
import sys

# Importing engines.py would leave a __pycache__ folder in bench/, inside the repository.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import engines  # noqa: E402  (the path above must be set first)


def main():
    db, tsv, events, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    import chdb

    parquet = engines.parquet_of(tsv, events)
    out = {"chdb_version": chdb.__version__, "load_averages": {"start": os.getloadavg()[0]}}
    cold = {"trailmap_cli": [], "chdb": [], "chdb_query": []}
    levels = {}
    chdb_script = engines.cold_script_chdb(parquet)
    # Taking turns run by run, so a burst of other work on the shared cores falls on both.
    for _ in range(runs):
        seconds, answer = engines.timed_process(
            [engines.TRAILMAP, "--db", db, "--format", "json", "funnel", "--steps", ",".join(engines.STEPS), "--window", "7d"]
        )
        cold["trailmap_cli"].append(seconds)
        levels["trailmap_cli"] = engines.trailmap_levels(answer)
        whole, query, levels["chdb_parquet"] = engines.timed_python(chdb_script)
        cold["chdb"].append(whole)
        cold["chdb_query"].append(query)
    out["cold"] = cold
    out["load_averages"]["after cold"] = os.getloadavg()[0]

    warm = engines.warm_trailmap(db, runs)
    levels["trailmap_http"] = warm.pop("levels")
    mergetree = engines.warm_chdb(parquet, runs)
    levels["chdb_mergetree"] = mergetree.pop("levels")
    out["warm"] = {"trailmap": warm, "chdb": mergetree}
    out["load_averages"]["after warm"] = os.getloadavg()[0]
    out["levels"] = levels
    print(json.dumps(out))


if __name__ == "__main__":
    main()
