#!/usr/bin/env python3
"""JSON Lines flattened by pandas.json_normalize (nested objects to dotted names), for
tests/it/reference_json.rs. Prints {"rows": n, "columns": {name: [cell, ...]}} where a cell is
null (missing), a number, a bool, a string, or an array as compact JSON text; strings that
are ISO 8601 times also carry their epoch milliseconds: {"s": text, "ms": ms}."""

import json
import math
import sys
from datetime import datetime, timezone

import pandas as pd


def cell(value):
    if isinstance(value, list):
        return {"array": json.dumps(value, separators=(",", ":"), ensure_ascii=False)}
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return {"s": value, "ms": round(moment.timestamp() * 1000)}
        except ValueError:
            return {"s": value}
    raise TypeError(f"unexpected {value!r}")


with open(sys.argv[1], encoding="utf-8") as f:
    records = [json.loads(line) for line in f if line.strip()]
frame = pd.json_normalize(records, sep=".")
columns = {name: [cell(v) for v in frame[name].astype(object).tolist()] for name in frame.columns}
print(json.dumps({"rows": len(frame), "columns": columns}))
