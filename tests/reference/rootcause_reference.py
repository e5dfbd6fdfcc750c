"""Reference p-values of root-cause segments for tests/it/reference_rootcause.rs, by scipy.

Usage: python3 rootcause_reference.py DATA.csv TIME BASE_START BASE_END INC_START INC_END < SEGMENTS.json
Times in epoch milliseconds; windows are [start, end). SEGMENTS.json: {"examined": m,
"segments": [[[column, value], ...], ...]}. For each segment, its rows in either window are
counted from the data; given n of them, the incident's rows k follow Binomial(n, f) with f the
incident's share of the time. The p-value of a rise is the exact upper tail, doubled and
Bonferroni-adjusted: min(1, 2 * binom.sf(k - 1, n, f) * m). Prints JSON
[{"n", "k", "p"}, ...] in the segments' order.
"""
import json
import sys

import pandas as pd
from scipy.stats import binom

path, time = sys.argv[1:3]
base_start, base_end, inc_start, inc_end = map(int, sys.argv[3:7])
asked = json.load(sys.stdin)
frame = pd.read_csv(path, dtype=str, keep_default_na=False)
ms = (pd.to_datetime(frame[time], utc=True, format="ISO8601") - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
in_base = (ms >= base_start) & (ms < base_end)
in_inc = (ms >= inc_start) & (ms < inc_end)
f = (inc_end - inc_start) / ((inc_end - inc_start) + (base_end - base_start))
out = []
for conditions in asked["segments"]:
    mask = pd.Series(True, index=frame.index)
    for column, value in conditions:
        mask &= frame[column] == value
    n = int((mask & (in_base | in_inc)).sum())
    k = int((mask & in_inc).sum())
    p = min(1.0, 2.0 * float(binom.sf(k - 1, n, f)) * asked["examined"])
    out.append({"n": n, "k": k, "p": p})
print(json.dumps(out))
