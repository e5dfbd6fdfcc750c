"""Reference leakage scores for tests/it/reference_labels.rs, by scikit-learn's balanced accuracy.

Usage: python3 leaks_reference.py DATA.csv LABEL POSITIVE[,POSITIVE…] COLUMN:KIND… [--weights W]
KIND is how Vigil typed the column: category, boolean, integer, float or timestamp. For each
column, the best balanced accuracy (sklearn.metrics.balanced_accuracy_score) of predicting
"positive vs the rest" from it alone, among: whether it is missing; its value (category and
boolean columns with at most a fifth as many distinct values as events; a missing value is a
group of its own); one threshold (number and time columns with a value for more than half the
events, over those rows, every cut between distinct values tried, either side positive). A
group predicts the side of the larger share of that side's events. With --weights, row i
weighs W[i] (a comma-separated list) everywhere. Prints JSON {column: best}.
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score

args = sys.argv[1:]
weights = None
if "--weights" in args:
    at = args.index("--weights")
    weights = np.array([float(w) for w in args[at + 1].split(",")])
    args = args[:at] + args[at + 2:]
path, label, positives, *columns = args
frame = pd.read_csv(path, dtype=str, keep_default_na=False)
if weights is None:
    weights = np.ones(len(frame))
labelled = frame[label] != ""
frame, weights = frame[labelled].reset_index(drop=True), weights[labelled.to_numpy()]
y = frame[label].isin(positives.split(",")).to_numpy()
sides = np.array([weights[~y].sum(), weights[y].sum()])


def by_groups(keys):
    """Each group predicts the side with the larger share of that side's events."""
    table = pd.DataFrame({"key": keys, "pos": y, "w": weights})
    shares = table.groupby(["key", "pos"])["w"].sum().unstack(fill_value=0.0)
    for side in (False, True):
        if side not in shares.columns:
            shares[side] = 0.0
    predicts = (shares[True] / sides[1]) > (shares[False] / sides[0])
    return balanced_accuracy_score(y, table["key"].map(predicts).to_numpy(), sample_weight=weights)


def by_threshold(values):
    has = ~np.isnan(values)
    if weights[has].sum() * 2 <= weights.sum() or y[has].all() or not y[has].any():
        return 0.0
    v, t, w = values[has], y[has], weights[has]
    best = 0.5
    for cut in np.unique(v)[:-1]:
        above = v > cut
        score = balanced_accuracy_score(t, above, sample_weight=w)
        best = max(best, score, 1.0 - score)
    return best


out = {}
for spec in columns:
    name, kind = spec.rsplit(":", 1)
    cells = frame[name]
    best = by_groups((cells == "").to_numpy())
    if kind in ("category", "boolean") and cells[cells != ""].nunique() * 5 <= weights.sum():
        best = max(best, by_groups(cells.to_numpy()))
    if kind in ("integer", "float"):
        best = max(best, by_threshold(pd.to_numeric(cells.replace("", np.nan)).to_numpy(dtype=float)))
    if kind == "timestamp":
        best = max(best, by_threshold(np.array([pd.Timestamp(c).value if c else np.nan for c in cells], dtype=float)))
    out[name] = best
print(json.dumps(out))
