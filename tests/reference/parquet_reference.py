"""Parquet files for the Parquet reader's reference test: writes one seeded table with pyarrow
under every codec (and once with small row groups, version 2 data pages and no dictionaries),
then prints what pyarrow reads back, as JSON, in the form Vigil gives it: times as ms since the
epoch in UTC (floored: Vigil keeps milliseconds), dates as their midnight, decimals as numbers,
lists as the text "[a, b]" (null elements "null"), struct fields under dotted names, nulls null.

usage: parquet_reference.py OUT_DIR SEED
"""

import datetime as dt
import decimal
import json
import os
import random
import sys

import pyarrow as pa
import pyarrow.parquet as pq

CODECS = ["none", "snappy", "gzip", "brotli", "lz4", "zstd"]


def table(seed):
    rng = random.Random(seed)
    n = 700
    reasons = ["spam", "scam, phishing", 'say "hi"', "harassment\nthreat", "hate", "ünïcode ✓"]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

    def maybe(value, p=0.06):
        return None if rng.random() < p else value

    rows = []
    for i in range(n):
        at = start + dt.timedelta(microseconds=rng.randrange(0, 90 * 86400 * 10**6))
        rows.append({
            "report_id": f"r{i:05d}",
            "reason": rng.choice(reasons),
            "score": maybe(round(rng.uniform(-5, 100), rng.choice([0, 2, 6]))),
            "strikes": maybe(rng.randrange(0, 9)),
            "followers": rng.randrange(-2**62, 2**62),
            "ratio": maybe(rng.random()),
            "created_at": at,
            "local_at": maybe(at.replace(tzinfo=None) + dt.timedelta(microseconds=rng.randrange(1000))),
            "zoned_ms": at.replace(microsecond=at.microsecond // 1000 * 1000),
            "day": maybe(at.date()),
            "amount": maybe(decimal.Decimal(rng.randrange(-10**9, 10**9)) / 100),
            "escalated": maybe(rng.random() < 0.3),
            "reach": rng.randrange(0, 2**32),
            "tags": rng.choice([None, [], ["a"], ["a", "b, c"], ["x", None]]),
            "account": maybe({"country": rng.choice(["fr", "us", None]), "age": rng.randrange(13, 90)}),
        })
    schema = pa.schema([
        ("report_id", pa.string()),
        ("reason", pa.string()),
        ("score", pa.float64()),
        ("strikes", pa.int32()),
        ("followers", pa.int64()),
        ("ratio", pa.float32()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("local_at", pa.timestamp("ns")),
        ("zoned_ms", pa.timestamp("ms", tz="America/New_York")),
        ("day", pa.date32()),
        ("amount", pa.decimal128(12, 2)),
        ("escalated", pa.bool_()),
        ("reach", pa.uint32()),
        ("tags", pa.list_(pa.string())),
        ("account", pa.struct([("country", pa.string()), ("age", pa.int16())])),
    ])
    return pa.Table.from_pylist(rows, schema=schema)


def ms(value):
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return (value - dt.date(1970, 1, 1)).days * 86400000


def plain(name, value):
    if value is None:
        return None
    if name in ("created_at", "zoned_ms", "day"):
        return ms(value)
    if name == "local_at":
        # pyarrow gives nanoseconds as a pandas-free datetime (microseconds) here: read the ints.
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list):
        return "[" + ", ".join("null" if v is None else v for v in value) + "]"
    return value


def main():
    out, seed = sys.argv[1], int(sys.argv[2])
    data = table(seed)
    files = {}
    for codec in CODECS:
        path = os.path.join(out, f"reports-{codec}.parquet")
        pq.write_table(data, path, compression=codec)
        files[codec] = path
    small = os.path.join(out, "reports-pages-v2.parquet")
    pq.write_table(data, small, compression="zstd", row_group_size=97, data_page_version="2.0", use_dictionary=False)
    files["pages-v2"] = small
    # A wide file: 2,000 columns of 300 rows (a batch then holds fewer rows).
    wide = pa.table({f"c{j}": pa.array([(i * 7 + j) % 101 for i in range(300)], pa.int64()) for j in range(2000)})
    wide_path = os.path.join(out, "wide.parquet")
    pq.write_table(wide, wide_path, compression="snappy")
    wide_sums = [sum(wide.column(j).to_pylist()) for j in (0, 1999)]
    # Edge cases: one column with nulls (a missing cell must not make an empty line), a list of
    # structs whose fields are named like the LIST layout's wrappers, values quoted with ' or
    # holding a comma or control characters, 256-bit decimals.
    edges = {}
    one = pa.table({"n": pa.array([None if i % 4 == 0 else i for i in range(100)], pa.int64())})
    edges["one"] = (one, {"rows": 100, "missing": 25})
    line = pa.struct([("item", pa.string()), ("element", pa.string()), ("qty", pa.int32())])
    lines = pa.table({"lines": pa.array([[{"item": "a", "element": "b", "qty": 1}], None, []], pa.list_(line))})
    edges["names"] = (lines, {"columns": ["lines.item", "lines.element", "lines.qty"]})
    quoted = pa.table({"who": ["'c0'", "Smith, John", "\x1b[31mred\x1b[0m", 'say "hi"'] * 50, "k": list(range(200))})
    edges["quoted"] = (quoted, {"rows": 200, "first": ["'c0'", "Smith, John", "\x1b[31mred\x1b[0m", 'say "hi"']})
    wide_decimal = pa.table({"amount": pa.array([decimal.Decimal("12.34"), decimal.Decimal("-0.05"), None], pa.decimal256(40, 2))})
    edges["decimal256"] = (wide_decimal, {"values": [12.34, -0.05, None]})
    edge_files = {}
    for name, (tab, want) in edges.items():
        path = os.path.join(out, f"edge-{name}.parquet")
        pq.write_table(tab, path)
        edge_files[name] = {"path": path, **want}
    back = pq.read_table(files["zstd"])
    flat = back.flatten()
    # Nanosecond times as integers (Python's datetime stops at microseconds).
    local_ns = back.column("local_at").cast(pa.int64()).to_pylist()
    columns = flat.column_names
    rows = []
    for i, row in enumerate(flat.to_pylist()):
        cells = []
        for name in columns:
            if name == "local_at":
                cells.append(None if local_ns[i] is None else local_ns[i] // 1_000_000)
            else:
                cells.append(plain(name, row[name]))
        rows.append(cells)
    for codec, path in files.items():
        assert pq.read_table(path).equals(back), codec
    json.dump({"edges": edge_files, "wide": wide_path, "wide_sums": wide_sums, "files": files, "columns": columns, "rows": rows, "row_groups": pq.ParquetFile(small).num_row_groups}, sys.stdout)


if __name__ == "__main__":
    main()
