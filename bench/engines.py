"""The engine benchmark's driver (run it through bench/run_engines.sh): one seeded event log, the
same 4-step, 7-day ordered funnel and the same attribution computed in one run by Trailmap, chDB
(ClickHouse in-process, MergeTree table; and straight over Parquet for the cold start) and DuckDB
(in-memory table); counts checked equal; results written to bench/results/engines.{md,json}.

Usage: python bench/engines.py EVENTS [RUNS]   (with trailmap-bench built in release mode)

Environment: TRAILMAP_BENCH (the trailmap-bench binary), BENCH_SCRATCH (where the data go).

What is timed, each the median of RUNS:
- loaded: the funnel query alone over data already in the engine's memory or table.
- cold: a fresh process from start to printed counts: trailmap-bench engines-cold over the store
  on disk; python -c "import chdb; chdb.query(...)" over the same events in a Parquet file.
- Markov: Trailmap's exact order-1 chain over the attribution paths; ChannelAttribution's
  markov_model (order 1) over the same paths aggregated by path text.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date

STEPS = ["page_view", "add_to_cart", "checkout_started", "purchase"]
WINDOW_MS = 7 * 86_400_000
BIN = os.environ.get("TRAILMAP_BENCH", "target/release/trailmap-bench")
SCRATCH = os.environ.get("BENCH_SCRATCH", "/work/scratch/engines")
# Largest difference allowed between Trailmap's exact Markov shares and ChannelAttribution's, in
# share points: ChannelAttribution estimates the chain by simulating paths, so its shares carry
# sampling error of about 1/sqrt(simulated conversions); with its default 100,000 simulations
# that is well under one point, and two points leave room for its convergence stop.
MARKOV_TOLERANCE = 0.02


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def median(xs):
    return statistics.median(xs)


def run_json(args):
    out = subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def timed_process(args):
    started = time.perf_counter()
    out = subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True).stdout
    return time.perf_counter() - started, json.loads(out.strip().splitlines()[-1])


def funnel_levels(rows):
    return {str(int(level)): int(n) for level, n in rows if int(level) > 0}


def chdb_funnel_sql(source):
    conds = ", ".join(f"event = '{s}'" for s in STEPS)
    names = ", ".join(f"'{s}'" for s in STEPS)
    # windowFunnel's window is in the timestamp's unit (ms here); ClickHouse's boundary rule is
    # `timestamp <= first + window`, as Trailmap's. Customers without a step-1 event get level 0
    # and are left out, as Trailmap counts only those who entered.
    return (
        f"SELECT level, count() FROM (SELECT customer, windowFunnel({WINDOW_MS})(toUInt64(ts), {conds}) AS level "
        f"FROM {source} WHERE event IN ({names}) GROUP BY customer) GROUP BY level ORDER BY level"
    )


def compaction_note(c):
    if not c or "events" not in c:
        return "not compacted (run before compaction existed)"
    if c.get("rewritten"):
        return f"compacted in this run, {c['segments_before']} segments rewritten in customer order in {c['seconds']:.1f} s"
    return f"in customer order ({c['segments_after']} segments, compacted when first written; checked in {c['seconds']:.1f} s)"


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
    mem_kib = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 1048576, 1), "os": platform.platform(), "date": date.today().isoformat(), "commit": commit}


def main():
    events = int(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    os.makedirs(SCRATCH, exist_ok=True)
    import chdb
    import duckdb

    log(f"preparing {events} events ...")
    prepared = run_json([BIN, "--scratch", SCRATCH, "engines-prepare", "--events", str(events)])
    db, tsv, paths_csv = prepared["db"], prepared["tsv"], prepared["paths_csv"]
    parquet = os.path.join(SCRATCH, f"engines-{events}.parquet")
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE events AS SELECT * FROM read_csv(?, delim = '\t', header = false, quote = '', "
        "columns = {'customer': 'BIGINT', 'ts': 'BIGINT', 'event': 'VARCHAR', 'seq': 'BIGINT', 'channel': 'VARCHAR'})",
        [tsv],
    )
    con.execute(f"COPY (SELECT customer, ts, event, seq FROM events) TO '{parquet}' (FORMAT parquet)")
    results = {"machine": machine(), "events": prepared["events"], "customers": prepared["customers"], "steps": STEPS, "window_ms": WINDOW_MS, "runs": runs}
    results["compaction"] = {**prepared.get("compaction", {}), "seconds": prepared.get("compact_seconds")}
    # Other work on the shared cores slows every engine; the load average says how busy they were.
    results["load_average_start"] = os.getloadavg()[0]

    log("trailmap: loaded funnel, memory, attribution ...")
    ours = run_json([BIN, "engines-run", db, "--runs", str(runs)])
    results["trailmap"] = ours
    # Peak memory of answering one funnel in a fresh process (load, group, one funnel): the
    # target's figure. The runs above repeat the funnel, and mimalloc keeps freed memory a little
    # while before returning it, so their peak also counts reports already freed.
    once = run_json([BIN, "engines-run", db, "--runs", "1"])
    results["trailmap_one_funnel_peak_bytes_per_event"] = once["peak_bytes_per_event"]
    cold = [timed_process([BIN, "engines-cold", db]) for _ in range(runs)]
    results["trailmap_cold_seconds"] = [s for s, _ in cold]
    assert all(c["levels"] == ours["levels"] for _, c in cold), "cold and loaded counts differ"

    log("duckdb ...")
    sys.path.insert(0, os.path.dirname(__file__))
    from funnel_duckdb import funnel_sql

    sql = funnel_sql(STEPS, WINDOW_MS)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = con.execute(sql).fetchall()
        seconds.append(time.perf_counter() - started)
    results["duckdb"] = {"version": duckdb.__version__, "seconds": seconds, "levels": funnel_levels(rows)}
    con.close()
    del con

    log("chdb: MergeTree ...")
    from chdb import session as chs

    sess = chs.Session(os.path.join(SCRATCH, "chdb-session"))
    sess.query("DROP TABLE IF EXISTS events")
    sess.query("CREATE TABLE events (customer Int64, ts Int64, event LowCardinality(String), seq Int64) ENGINE = MergeTree ORDER BY (customer, ts, seq)")
    started = time.perf_counter()
    sess.query(f"INSERT INTO events SELECT customer, ts, event, seq FROM file('{parquet}', Parquet)")
    load_seconds = time.perf_counter() - started
    sess.query("OPTIMIZE TABLE events FINAL")
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        out = sess.query(chdb_funnel_sql("events"), "CSV")
        seconds.append(time.perf_counter() - started)
    rows = [l.split(",") for l in str(out).strip().splitlines()]
    results["chdb"] = {"version": chdb.__version__, "load_seconds": load_seconds, "seconds": seconds, "levels": funnel_levels(rows)}
    sess.query("DROP TABLE events")
    sess.close()

    log("chdb cold over Parquet ...")
    script = f"import chdb; print(chdb.query({chdb_funnel_sql(f'file({parquet!r}, Parquet)')!r}, 'CSV'))"
    cold_chdb = []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", script], check=True, stdout=subprocess.PIPE, text=True).stdout
        cold_chdb.append(time.perf_counter() - started)
    cold_levels = funnel_levels([l.split(",") for l in out.strip().splitlines()])
    results["chdb_parquet_cold_seconds"] = cold_chdb

    log("ChannelAttribution ...")
    import pandas as pd
    from ChannelAttribution import markov_model
    import ChannelAttribution

    paths = pd.read_csv(paths_csv)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        ca = markov_model(paths, "path", "total_conversions", var_null="total_null", order=1, ncore=2, verbose=False, flg_pro=False)
        seconds.append(time.perf_counter() - started)
    if isinstance(ca, dict):
        ca = ca["result"]
    total = ca["total_conversions"].sum()
    ca_shares = {str(r["channel_name"]): float(r["total_conversions"]) / total for _, r in ca.iterrows()}
    ours_shares = ours["attribution"]["markov_shares"]
    differences = {c: abs(ours_shares.get(c, 0.0) - ca_shares.get(c, 0.0)) for c in set(ours_shares) | set(ca_shares)}
    results["channelattribution"] = {"version": getattr(ChannelAttribution, "__version__", "2.2.5"), "seconds": seconds, "shares": ca_shares, "max_share_difference": float(max(differences.values()))}

    # Counts must agree across engines.
    levels = ours["levels"]
    mismatches = {name: other for name, other in [("duckdb", results["duckdb"]["levels"]), ("chdb", results["chdb"]["levels"]), ("chdb-parquet", cold_levels)] if other != levels}
    results["counts_equal"] = not mismatches
    results["markov_within_tolerance"] = bool(results["channelattribution"]["max_share_difference"] <= MARKOV_TOLERANCE)
    out_dir = os.environ.get("BENCH_OUT", "bench/results")
    write(out_dir, results)
    if mismatches:
        log(f"MISMATCH: trailmap {levels} vs {mismatches}")
        sys.exit(1)
    if not results["markov_within_tolerance"]:
        log(f"Markov shares differ by more than {MARKOV_TOLERANCE}: {differences}")
        sys.exit(1)


def write(out_dir, r):
    """Adds this size's results to engines.json (one entry per size) and rewrites engines.md."""
    path = os.path.join(out_dir, "engines.json")
    try:
        everything = json.load(open(path))
    except (FileNotFoundError, ValueError):
        everything = {}
    everything[str(r["events"])] = r
    json.dump(everything, open(path, "w"), indent=2, sort_keys=True)
    lines = [
        "# Engine benchmark: Trailmap against chDB (ClickHouse) and DuckDB",
        "",
        "Rerun with `bench/run_engines.sh SIZE [RUNS]` (SIZE = events, such as 1000000). Each size's figures come from one run",
        "of that command, in which every engine computes the same thing over the same events. Times are medians of the runs.",
        "Funnel: ordered, 4 steps (" + " → ".join(STEPS) + "), 7-day window from step 1, boundary included;",
        "counts are customers per furthest step and must be equal in every engine or the run fails.",
        "",
        "The 2 cores are shared with other work (builds and tests of other engineers ran during some committed runs), so",
        "absolute times vary by up to 2x between runs; the ratios compare engines run minutes apart in the same run, and the",
        "load average at the start of each run says how busy the machine was. Compare ratios within one run only.",
        "",
        "\"Data loaded\" means the events as the engine keeps them in memory for queries: a `Journeys` (the `EventTable` grouped",
        "by customer in time order), so grouping is part of loading, as ClickHouse's MergeTree is sorted by (customer, ts) when",
        "written. The Trailmap row \"load + journeys + funnel\" gives the whole cost in one process. The server keeps them the",
        "same way: its read apps share one business's journeys (`trailmap_app::journeys_cache`) while the business's data",
        "version is unchanged, so a second funnel, path or retention query skips loading and grouping.",
        "",
        "The store is compacted once written (`trailmap compact`, as chDB's table gets `OPTIMIZE TABLE events FINAL`): its",
        "segments hold each customer's events together in time order, so a load hands the engine rows already grouped and",
        "grouping is a check pass. A reused store is only checked. Events appended after a compaction are merged in by the",
        "grouping (up to an eighth of the rows); beyond that a load regroups everything until the next compaction.",
        "",
        "How the engine gets there (2026-11-23, third pass): the funnel's report is tallied by each thread over its own",
        "range of customers (the customers and times behind every step, per breakdown group) on rayon's long-lived threads,",
        "and the ranges' lists are appended in order, with the first range's lists reserved for everyone so nothing is copied",
        "to grow. An ordered funnel finds each customer's furthest step in one pass with no branch that depends on the",
        "events (windowFunnel's latest anchor per step, each step's anchor kept or taken from the previous step's by a",
        "conditional move: which events match a step follows no pattern a processor predicts), then follows only the chain",
        "from the earliest anchor that reaches that step, and none for customers who only entered; the per-customer",
        "outcomes are read from the step lists when asked instead of filled every funnel. Time summaries select the median",
        "and 90th percentile instead of sorting. Loading reads SQLite blobs on the connection's thread while two decoder",
        "threads decompress segments and write their rows straight into their place in columns sized for every row (each",
        "segment claims its place in order, then the writing runs at once: most of a load's time is the system providing",
        "fresh pages as they are first written); each row's customer is an index in id order, resolved per identity once.",
        "Grouping leaves rows already in customer order where they are (a compacted store, see above), merges in a tail of",
        "rows appended since, and otherwise moves rows in place in three passes that each keep few write positions in play.",
        "The cold process, like `trailmap funnel`, loads only the events whose names the steps match (64% of these events),",
        "the rows chDB reads with its `WHERE event IN (...)`; the loaded figure's `Journeys` hold every event.",
        "Attribution's path building looks up channels and the conversion rule in per-string tables, touches are 16 bytes,",
        "and the Markov chain counts transitions without allocating per touch.",
        "",
        "Memory: the funnel's table is 16 bytes per event (time 8, name 4, customer as a 4-byte index into the table's",
        "distinct customers) and grouping moves rows in place. Above the table: a fixed part that does not grow with the",
        "events (the page cache, buffers and allocator of the load, the threads), which is why small sizes show more bytes",
        "per event, and the funnel's report (the customers behind each step and the times between steps).",
        "The target's figure is one funnel in a fresh process (load, group, one funnel); the figure after all the runs also",
        "counts earlier runs' reports that mimalloc has freed but not yet returned to the system.",
        "",
    ]
    lines += [
        "## Summary",
        "",
        "| events | funnel loaded: Trailmap / chDB (s) | ratio | cold: Trailmap / chDB Parquet (s) | Markov with paths: Trailmap / ChannelAttribution (s) | peak bytes per event (one funnel) |",
        "|---|---|---|---|---|---|",
    ]
    for key in sorted(everything, key=int):
        r = everything[key]
        t = r["trailmap"]
        loaded, ch = t["median_funnel_seconds"], median(r["chdb"]["seconds"])
        cold, cold_ch = median(r["trailmap_cold_seconds"]), median(r["chdb_parquet_cold_seconds"])
        markov = t["attribution"]["median_paths_seconds"] + t["attribution"]["median_markov_seconds"]
        peak = r.get("trailmap_one_funnel_peak_bytes_per_event", t["peak_bytes_per_event"])
        lines.append(
            f"| {r['events']:,} | {loaded:.3f} / {ch:.3f} | {ch / loaded:.1f}x | {cold:.3f} / {cold_ch:.3f} | "
            f"{markov:.3f} / {median(r['channelattribution']['seconds']):.3f} | {peak:.1f} |"
        )
    lines.append("")
    for key in sorted(everything, key=int):
        r = everything[key]
        m, t = r["machine"], r["trailmap"]
        a = t["attribution"]
        loaded = t["median_funnel_seconds"]
        ch, dd = median(r["chdb"]["seconds"]), median(r["duckdb"]["seconds"])
        cold, cold_ch = median(r["trailmap_cold_seconds"]), median(r["chdb_parquet_cold_seconds"])
        ca = median(r["channelattribution"]["seconds"])
        ours_markov = a["median_markov_seconds"]
        ours_markov_all = a["median_paths_seconds"] + ours_markov
        # Runs before the one-funnel figure existed measured after all runs.
        one_funnel_peak = r.get("trailmap_one_funnel_peak_bytes_per_event", t["peak_bytes_per_event"])
        lines += [
            f"## {r['events']:,} events ({r['customers']:,} customers)",
            "",
            f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['os']}",
            f"- load average (1 min) when the run started: {r.get('load_average_start', float('nan')):.2f}",
            f"- date: {m['date']}, commit {m['commit']}; chDB {r['chdb']['version']}, DuckDB {r['duckdb']['version']}, ChannelAttribution {r['channelattribution']['version']}",
            f"- store: {compaction_note(r.get('compaction'))}",
            "",
            "| what | Trailmap | chDB | DuckDB | chDB / Trailmap | DuckDB / Trailmap |",
            "|---|---|---|---|---|---|",
            f"| funnel, data loaded (s) | **{loaded:.3f}** | {ch:.3f} (MergeTree) | {dd:.3f} (in-memory table) | {ch / loaded:.1f}x | {dd / loaded:.1f}x |",
            f"| funnel, cold: fresh process to counts (s) | **{cold:.3f}** (store on disk) | {cold_ch:.3f} (Parquet) | | {cold_ch / cold:.2f}x | |",
            f"| Trailmap load ({t['load_seconds']:.3f} s) + journeys ({t['journeys_seconds']:.3f} s) + funnel (s) | {t['load_seconds'] + t['journeys_seconds'] + loaded:.3f} | | | | |",
            "",
            "Customers per furthest step (n = customers who did step 1):",
            "",
            "| step | Trailmap | chDB MergeTree | DuckDB |",
            "|---|---|---|---|",
        ]
        for k, step in enumerate(STEPS, 1):
            g = lambda d: d.get(str(k), 0)
            lines.append(f"| {k} {step} | {g(t['levels'])} | {g(r['chdb']['levels'])} | {g(r['duckdb']['levels'])} |")
        lines += [
            "",
            f"Counts equal in all engines (chDB over Parquet included): **{'yes' if r['counts_equal'] else 'NO'}**.",
            "",
            f"Memory: peak **{one_funnel_peak:.1f} bytes per event** for one funnel in a fresh process (VmHWM after the funnel minus VmRSS "
            f"before loading; customer + time + name loaded); {t['peak_bytes_per_event']:.1f} after the {len(t['funnel_seconds'])} runs of the loaded "
            f"figure ({(t['after_load_peak_bytes'] - t['baseline_bytes']) / r['events']:.1f} after loading, "
            f"{(t['after_journeys_peak_bytes'] - t['baseline_bytes']) / r['events']:.1f} after grouping, the rest is the funnel's report); "
            f"the grouped table itself holds {t['table_bytes_per_event']:.1f} bytes per event.",
            "",
            f"Attribution over {a['journeys']:,} journeys ({a['paths']:,} paths, {a['conversions']:,} conversions, 30-day lookback, GA4 channels):",
            f"Markov order 1, Trailmap exact solve {ours_markov:.3f} s (+ {a['median_paths_seconds']:.3f} s building the paths from the journeys = {ours_markov_all:.3f} s), "
            f"ChannelAttribution markov_model {ca:.3f} s over the same paths: {ca / ours_markov_all:.1f}x Trailmap's time with path building. "
            f"Largest difference in a channel's share: {r['channelattribution']['max_share_difference'] * 100:.2f} points "
            f"(tolerance {MARKOV_TOLERANCE * 100:.0f}, see engines.py).",
            "",
            "| channel | first touch | last touch | Markov share, Trailmap | Markov share, ChannelAttribution |",
            "|---|---|---|---|---|",
        ]
        for c in sorted(a["markov_shares"], key=lambda c: -a["markov_shares"][c]):
            lines.append(
                f"| {c} | {a['first_touch'].get(c, 0):.0f} | {a['last_touch'].get(c, 0):.0f} | {a['markov_shares'][c] * 100:.2f}% | "
                f"{r['channelattribution']['shares'].get(c, 0) * 100:.2f}% |"
            )
        lines += [
            "",
            "Targets:",
            "",
            f"- funnel over loaded data under 1 s: {'met' if loaded < 1 else 'NOT met'} ({loaded:.3f} s)",
            f"- at least 10x faster than ClickHouse (chDB) in the same run: {'met' if ch / loaded >= 10 else 'NOT met'} ({ch / loaded:.1f}x)",
            f"- cold start no slower than chDB over Parquet: {'met' if cold <= cold_ch else 'NOT met'} ({cold:.3f} s vs {cold_ch:.3f} s)",
            f"- Markov faster than ChannelAttribution: {'met' if ours_markov_all < ca else 'NOT met'} ({ours_markov_all:.3f} s vs {ca:.3f} s)",
            f"- peak memory at most 24 bytes per event (one funnel, fresh process): {'met' if one_funnel_peak <= 24 else 'NOT met'} ({one_funnel_peak:.1f})",
            "",
        ]
    open(os.path.join(out_dir, "engines.md"), "w").write("\n".join(lines))


if __name__ == "__main__":
    main()
