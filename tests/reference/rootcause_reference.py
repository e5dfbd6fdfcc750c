"""Reference p-values of root-cause segments for tests/it/reference_rootcause.rs, by scipy.

Usage: python3 rootcause_reference.py DATA.csv TIME BASE_START BASE_END INC_START INC_END < SEGMENTS.json
Times in epoch milliseconds; windows are [start, end). SEGMENTS.json: {"examined": m,
"segments": [[[column, value], ...], ...]}. For each segment, its rows in either window are
counted from the data; given n of them, the incident's rows k follow Binomial(n, f) with f the
share of events expected in the incident window: s / (1 + s), s the baseline's scale to the
incident window. When the baseline spans a week or more and holds every weekday of the
incident, s adds up, per weekday (UTC), the baseline's events per day of that weekday times the
incident's days of it, over the baseline's events; else s is the ratio of the windows' lengths.
The p-value of a rise is the exact upper tail, doubled and
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
DAY = 86_400_000


def weekday_days(start, end):
    """Days of each weekday (0 = Monday) in [start, end), by their share of each day."""
    days = [0.0] * 7
    at = start
    while at < end:
        following = min((at // DAY + 1) * DAY, end)
        days[pd.Timestamp(at, unit="ms").day_of_week] += (following - at) / DAY
        at = following
    return days


scale = (inc_end - inc_start) / (base_end - base_start)
base_days, inc_days = weekday_days(base_start, base_end), weekday_days(inc_start, inc_end)
if base_end - base_start >= 7 * DAY and all(b > 0 for b, i in zip(base_days, inc_days) if i > 0):
    per_weekday = pd.to_datetime(ms[in_base], unit="ms").dt.day_of_week.value_counts()
    expected = sum(per_weekday.get(wd, 0) / base_days[wd] * inc_days[wd] for wd in range(7) if inc_days[wd] > 0)
    scale = expected / int(in_base.sum())
f = scale / (1 + scale)
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
