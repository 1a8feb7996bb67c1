"""The DuckDB side of `trailmap-bench funnel`: loads the exported events (customer, time in ms,
event name, recorded order) into an in-memory table, computes every customer's furthest funnel
step RUNS times with one SQL query, and prints one JSON object with every run's seconds (measured
here around the query only), the load time and the customers per furthest level. Installs duckdb
with pip when it is missing.

Usage: python3 bench/funnel_duckdb.py EVENTS_TSV WINDOW_MS RUNS STEP1 STEP2 ...

The query has Trailmap's semantics (see crates/analytics/src/funnel.rs): a chain starts at a
step-1 event; each next step is the customer's earliest event of that step after the previous
one (events ordered by time, then recorded order, so one event serves one step); every event of
the chain is within WINDOW_MS of the first, boundary included; the furthest level is the longest
chain over all starts. Taking the earliest next event is optimal, so each start needs one lookup
per step: the position of the next event of step k after a row comes from a window function, and
the chain follows those positions with one join per step.
"""

import json
import subprocess
import sys
import time

try:
    import duckdb
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "duckdb"], check=True, stdout=sys.stderr)
    import duckdb


def funnel_sql(steps, window_ms):
    n = len(steps)
    step_case = " ".join(f"WHEN '{name}' THEN {k + 1}" for k, name in enumerate(steps))
    names = ", ".join(f"'{name}'" for name in steps)
    # next_k: the position of the customer's first event of step k strictly after this row.
    nexts = ",\n        ".join(
        f"min(CASE WHEN step = {k} THEN pos END) OVER (PARTITION BY customer ORDER BY pos "
        f"ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_{k}"
        for k in range(2, n + 1)
    )
    joins = []
    level_terms = []
    previous = "s1"
    for k in range(2, n + 1):
        joins.append(f"LEFT JOIN marked s{k} ON s{k}.pos = {previous}.next_{k}")
        level_terms.append(f"(s{k}.pos IS NOT NULL AND s{k}.ts <= s1.ts + {window_ms})::INTEGER")
        previous = f"s{k}"
    level = " + ".join(["1"] + level_terms)
    return f"""
WITH steps AS (
    SELECT customer, ts, seq, CASE event {step_case} END AS step,
           row_number() OVER (ORDER BY customer, ts, seq) AS pos
    FROM events WHERE event IN ({names})
),
marked AS (
    SELECT customer, ts, step, pos,
        {nexts}
    FROM steps
),
chains AS (
    SELECT s1.customer, {level} AS level
    FROM marked s1
    {' '.join(joins)}
    WHERE s1.step = 1
)
SELECT level, count(*) AS customers
FROM (SELECT customer, max(level) AS level FROM chains GROUP BY customer)
GROUP BY level ORDER BY level
"""


def main():
    path, window_ms, runs, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE events AS SELECT * FROM read_csv(?, delim = '\t', header = false, "
        "columns = {'customer': 'BIGINT', 'ts': 'BIGINT', 'event': 'VARCHAR', 'seq': 'BIGINT'})",
        [path],
    )
    load_seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
    sql = funnel_sql(steps, window_ms)
    seconds = []
    result = []
    for _ in range(runs):
        started = time.perf_counter()
        result = con.execute(sql).fetchall()
        seconds.append(time.perf_counter() - started)
    levels = {str(level): count for level, count in result}
    print(json.dumps({"duckdb": duckdb.__version__, "rows": rows, "load_seconds": load_seconds, "seconds": seconds, "levels": levels}))


if __name__ == "__main__":
    main()
