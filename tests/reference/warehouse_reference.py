"""The SQL Vigil writes for a cube, run by real engines and compared with the cube Vigil computes.

Usage: warehouse_reference.py DIR CASE... [--spark]

DIR holds events.csv (the raw rows), and per CASE: CASE.cube.csv (Vigil's own cube) and
CASE.<dialect>.sql for spark, trino, bigquery, snowflake and duckdb. For each case:

* the DuckDB query runs in DuckDB over events.csv;
* every dialect's query parses with sqlglot as that dialect, is transpiled to DuckDB and runs
  there (its meaning, checked by an engine);
* with --spark, the Spark SQL query runs in Apache Spark (local mode, 2 cores);

and each result must equal Vigil's cube: the same cells, events exactly, measures to 1e-9.
DuckDB's (and Spark's) answers are written beside as CASE.duckdb.out.csv (CASE.spark.out.csv)
for the Rust test to run trends and root causes on. Exits non-zero with the differences
otherwise.
"""

import csv
import math
import os
import sys

import duckdb
import sqlglot

DIALECTS = ["spark", "trino", "bigquery", "snowflake", "duckdb"]
KEY = None  # set from the header: every column up to events


def read_vigil_cube(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def norm_time(value):
    text = str(value)
    return text[:19].replace("T", " ")


def normalise(header, records):
    """Cells keyed by (ts_bucket, dimensions..., grouping_id) → (events, measures...)."""
    events_at = header.index("events")
    out = {}
    for record in records:
        values = ["" if v is None else v for v in record]
        key = (norm_time(values[0]),) + tuple(str(v) for v in values[1:events_at])
        key = tuple(k if k not in ("None",) else "" for k in key)
        numbers = []
        for v in values[events_at:]:
            numbers.append(None if v == "" else float(v))
        if key in out:
            raise AssertionError(f"duplicate cell {key}")
        out[key] = numbers
    return out


def booleans_as_vigil(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_result(path, header, rows):
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        for row in rows:
            cells = []
            for i, v in enumerate(row):
                if v is None:
                    cells.append("")
                elif i == 0:
                    cells.append(norm_time(v))
                elif isinstance(v, float):
                    cells.append(repr(v))
                else:
                    cells.append(str(v))
            out.writerow(cells)


def compare(name, ours, theirs):
    problems = []
    missing = sorted(set(ours) - set(theirs))
    extra = sorted(set(theirs) - set(ours))
    if missing:
        problems.append(f"{len(missing)} cells only in Vigil's cube, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{len(extra)} cells only in {name}, e.g. {extra[:3]}")
    for key in sorted(set(ours) & set(theirs)):
        a, b = ours[key], theirs[key]
        if a[0] != b[0]:
            problems.append(f"{key}: events {a[0]} vs {b[0]}")
        for x, y in zip(a[1:], b[1:]):
            if (x is None) != (y is None) or (x is not None and not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)):
                problems.append(f"{key}: measure {x} vs {y}")
        if len(problems) > 10:
            break
    if problems:
        raise AssertionError(f"{name} differs from Vigil's cube:\n  " + "\n  ".join(problems[:10]))
    return len(ours)


def duckdb_connection(directory):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE events AS SELECT * FROM read_csv(?, header = true, columns = {"
        "'created_at': 'VARCHAR', 'country': 'VARCHAR', 'platform': 'VARCHAR', 'reason': 'VARCHAR',"
        "'flagged': 'BOOLEAN', 'views': 'BIGINT', 'reports': 'BIGINT'})",
        [os.path.join(directory, "events.csv")],
    )
    # The warehouse's column is a UTC TIMESTAMP without zone.
    con.execute("CREATE OR REPLACE TABLE events AS SELECT * REPLACE (CAST(replace(replace(created_at, 'T', ' '), 'Z', '') AS TIMESTAMP) AS created_at) FROM events")
    return con


def run_duckdb(con, sql):
    result = con.execute(sql)
    header = [d[0] for d in result.description]
    rows = [[booleans_as_vigil(v) for v in row] for row in result.fetchall()]
    return header, rows


def spark_session():
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("vigil-warehouse")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )


def spark_events(spark, directory):
    from pyspark.sql import functions as F

    frame = spark.read.option("header", True).csv(os.path.join(directory, "events.csv"))
    frame = frame.select(
        F.to_timestamp(F.regexp_replace("created_at", "Z$", ""), "yyyy-MM-dd'T'HH:mm:ss").alias("created_at"),
        "country",
        "platform",
        "reason",
        F.col("flagged").cast("boolean").alias("flagged"),
        F.col("views").cast("bigint").alias("views"),
        F.col("reports").cast("bigint").alias("reports"),
    )
    frame.createOrReplaceTempView("events")


def run_spark(spark, sql):
    frame = spark.sql(sql)
    header = frame.columns
    rows = []
    for row in frame.collect():
        rows.append([booleans_as_vigil(v) for v in row])
    return header, rows


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    use_spark = "--spark" in sys.argv
    directory, cases = args[0], args[1:]
    con = duckdb_connection(directory)
    spark = None
    if use_spark:
        spark = spark_session()
        spark_events(spark, directory)
    for case in cases:
        header, records = read_vigil_cube(os.path.join(directory, f"{case}.cube.csv"))
        ours = normalise(header, records)
        for dialect in DIALECTS:
            with open(os.path.join(directory, f"{case}.{dialect}.sql")) as f:
                sql = f.read()
            parsed = sqlglot.parse(sql, read=dialect)
            if len(parsed) != 1:
                raise AssertionError(f"{case}/{dialect}: {len(parsed)} statements")
            if dialect == "duckdb":
                got_header, got = run_duckdb(con, sql)
                assert got_header == header, f"{case}/duckdb header {got_header} vs {header}"
                n = compare(f"{case}: DuckDB", ours, normalise(got_header, got))
                write_result(os.path.join(directory, f"{case}.duckdb.out.csv"), got_header, got)
                print(f"{case}: DuckDB's cube equals Vigil's ({n} cells)")
            transpiled = sqlglot.transpile(sql, read=dialect, write="duckdb")[0]
            got_header, got = run_duckdb(con, transpiled)
            compare(f"{case}: {dialect} SQL transpiled to DuckDB", ours, normalise(header, got))
            print(f"{case}: {dialect} SQL parses as {dialect} and, in DuckDB, equals Vigil's cube")
            if dialect == "spark" and spark is not None:
                got_header, got = run_spark(spark, sql)
                assert got_header == header, f"{case}/spark header {got_header} vs {header}"
                n = compare(f"{case}: Apache Spark", ours, normalise(got_header, got))
                write_result(os.path.join(directory, f"{case}.spark.out.csv"), got_header, got)
                print(f"{case}: Apache Spark's cube equals Vigil's ({n} cells)")
    if spark is not None:
        spark.stop()


if __name__ == "__main__":
    main()
