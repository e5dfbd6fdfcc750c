#!/usr/bin/env python3
"""`vigil analyze` against DuckDB and Polars on the same file, on this machine, in one run.

Vigil loads the CSV and runs its default analysis (profile and alerts, label checks, the daily
trend with its models and incidents, a root cause per incident). DuckDB and Polars only load the
file and compute the aggregations those analyses need: a per-column summary (DuckDB's SUMMARIZE,
Polars' describe), the daily counts, and a root-cause cube (counts per value of each category
column and each pair of them, in the incident and in the two weeks before, for each incident
Vigil found). They do less work than Vigil; the ratio says what Vigil's extra analysis costs.

Environment: VIGIL_CLI_MB (size of the generated demo CSV, default 500), VIGIL_CLI_RUNS
(median of, default 3). Prints one JSON line with the figures and the ratios.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import combinations

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIGIL = os.path.join(ROOT, "target", "release", "vigil")
DEMO = os.path.join(ROOT, "target", "release", "vigil-demo")
BYTES_PER_ROW = 204  # the demo's CSV (24 columns), measured: 1 M rows are 203,958,375 bytes
DIMENSIONS = ["reason", "country", "platform", "app_version", "review_type"]


def median_time(runs, fn):
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


VIGIL_PEAK_MB = []


def run_vigil(path, out):
    proc = subprocess.Popen([VIGIL, "analyze", path, "--out", out, "--format", "json", "-q"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    VIGIL_PEAK_MB.append(usage.ru_maxrss / 1024)
    if status != 0:
        sys.exit(f"vigil failed: {proc.stderr.read().decode()}")
    with open(os.path.join(out, "vigil-report.json")) as f:
        doc = json.load(f)
    return [(i["baseline"]["start_iso"], i["start_iso"], i["end_iso"]) for i in doc["incidents"]]


def duckdb_run(path, windows):
    import duckdb

    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}')")
    con.execute("SUMMARIZE t").fetchall()
    con.execute("SELECT date_trunc('day', created_at) AS d, count(*) FROM t GROUP BY 1 ORDER BY 1").fetchall()
    sets = ", ".join(f"({a})" for a in DIMENSIONS) + ", " + ", ".join(f"({a}, {b})" for a, b in combinations(DIMENSIONS, 2))
    cols = ", ".join(DIMENSIONS)
    for base, start, end in windows:
        con.execute(
            f"""SELECT {cols}, count(*) FILTER (WHERE created_at >= '{start}' AND created_at < '{end}') AS incident,
                       count(*) FILTER (WHERE created_at >= '{base}' AND created_at < '{start}') AS baseline
                FROM t WHERE created_at >= '{base}' AND created_at < '{end}'
                GROUP BY GROUPING SETS ({sets})"""
        ).fetchall()
    con.close()


def polars_run(path, windows):
    import polars as pl
    from datetime import datetime

    df = pl.read_csv(path, try_parse_dates=True, infer_schema_length=10_000)
    df.describe()
    df.group_by(pl.col("created_at").dt.truncate("1d")).len().sort("created_at")
    iso = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
    for base, start, end in windows:
        b, s, e = iso(base), iso(start), iso(end)
        created = pl.col("created_at")
        w = df.filter((created >= b) & (created < e)).with_columns((created >= s).alias("in_incident"))
        for keys in [[d] for d in DIMENSIONS] + [list(p) for p in combinations(DIMENSIONS, 2)]:
            w.group_by(keys).agg(pl.col("in_incident").sum().alias("incident"), (~pl.col("in_incident")).sum().alias("baseline"))


def run_peer(name, path, windows):
    """One run of a peer in a process of its own: (seconds inside it, its peak RSS in MB)."""
    proc = subprocess.Popen([sys.executable, __file__, "--peer", name, path, json.dumps(windows)], stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"{name} failed")
    return float(out), usage.ru_maxrss / 1024


def peer(name, runs, path, windows):
    results = [run_peer(name, path, windows) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def main():
    mb = float(os.environ.get("VIGIL_CLI_MB", "500"))
    runs = int(os.environ.get("VIGIL_CLI_RUNS", "3"))
    rows = int(mb * 1e6 / BYTES_PER_ROW)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "demo.csv")
        with open(path, "wb") as f:
            subprocess.run([DEMO, str(rows), "7"], stdout=f, check=True)
        size = os.path.getsize(path)
        out = os.path.join(tmp, "out")
        vigil_s, windows = median_time(runs, lambda: run_vigil(path, out))
        duck_s, duck_mb = peer("duckdb", runs, path, windows)
        polars_s, polars_mb = peer("polars", runs, path, windows)
        result = {
            "file_mb": round(size / 1e6, 1),
            "rows": rows,
            "incidents": len(windows),
            "vigil_s": round(vigil_s, 2),
            "vigil_mb_per_s": round(size / 1e6 / vigil_s, 1),
            "vigil_peak_rss_mb": round(max(VIGIL_PEAK_MB)),
            "duckdb_s": round(duck_s, 2),
            "polars_s": round(polars_s, 2),
            "duckdb_peak_rss_mb": round(duck_mb),
            "polars_peak_rss_mb": round(polars_mb),
            "vigil_vs_duckdb": round(duck_s / vigil_s, 2),
            "vigil_vs_polars": round(polars_s / vigil_s, 2),
        }
        print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--peer":
        run = {"duckdb": duckdb_run, "polars": polars_run}[sys.argv[2]]
        start = time.perf_counter()
        run(sys.argv[3], [tuple(w) for w in json.loads(sys.argv[4])])
        print(time.perf_counter() - start)
    else:
        main()
