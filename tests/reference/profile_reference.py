"""Reference statistics for tests/reference_stats.rs, computed by pandas / numpy / scipy.

Usage: python3 profile_reference.py DATA.csv COLUMN [COLUMN ...]
Prints JSON: per column pandas' describe() fields, skew, zeros, the MAD-rule outlier count and
numpy's "auto" bin count and the histogram's counts; and pairwise Pearson / Spearman correlations (pairwise complete).
"""
import json
import sys

import numpy as np
import pandas as pd

path, columns = sys.argv[1], sys.argv[2:]
frame = pd.read_csv(path, usecols=columns)
out = {"columns": {}, "correlations": {}}
for name in columns:
    values = frame[name].replace([np.inf, -np.inf], np.nan).dropna().astype(float)
    d = values.describe()
    median = values.median()
    mad = (values - median).abs().median()
    outliers = int(((0.6745 * (values - median) / mad).abs() > 3.5).sum()) if mad > 0 else 0
    out["columns"][name] = {
        "count": int(d["count"]),
        "mean": float(d["mean"]),
        "std": float(d["std"]),
        "min": float(d["min"]),
        "q1": float(d["25%"]),
        "median": float(d["50%"]),
        "q3": float(d["75%"]),
        "max": float(d["max"]),
        "skew": float(values.skew()),
        "zeros": int((values == 0).sum()),
        "outliers": outliers,
        "auto_bins": len(np.histogram_bin_edges(values.to_numpy(), bins="auto")) - 1,
        "auto_counts": np.histogram(values.to_numpy(), bins="auto")[0].tolist(),
    }
for method in ("pearson", "spearman"):
    corr = frame[columns].astype(float).corr(method=method)
    out["correlations"][method] = {f"{a}|{b}": float(corr.loc[a, b]) for a in columns for b in columns if a < b}
print(json.dumps(out))
