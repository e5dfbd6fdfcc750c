"""Reference reviewer agreement for tests/reference_labels.rs, computed by statsmodels.

Usage: python3 labels_reference.py DATA.csv LABEL ITEM REVIEWER
Ratings: one per (item, reviewer), the first in file order. Cohen's kappa over items rated
exactly twice (first rating vs second); Fleiss' kappa over items with the most common number
(at least 2) of ratings. Prints JSON {"pairs", "cohen", "raters", "fleiss_items", "fleiss"}.
"""
import json
import sys
from collections import Counter

import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

path, label, item, reviewer = sys.argv[1:5]
frame = pd.read_csv(path, dtype=str, keep_default_na=False)
frame = frame[(frame[label] != "") & (frame[item] != "")]
frame = frame.drop_duplicates(subset=[item, reviewer], keep="first")
ratings = frame.groupby(item, sort=False)[label].apply(list)
classes = sorted(frame[label].unique())
index = {c: i for i, c in enumerate(classes)}

pairs = [r for r in ratings if len(r) == 2]
table = np.zeros((len(classes), len(classes)))
for first, second in pairs:
    table[index[first], index[second]] += 1

lengths = Counter(len(r) for r in ratings if len(r) >= 2)
raters = max(lengths.items(), key=lambda kv: (kv[1], kv[0]))[0]
subjects = np.array([[index[x] for x in r] for r in ratings if len(r) == raters])
counts, _ = aggregate_raters(subjects, n_cat=len(classes))
print(json.dumps({
    "pairs": len(pairs),
    "cohen": float(cohens_kappa(table).kappa),
    "raters": int(raters),
    "fleiss_items": int(len(subjects)),
    "fleiss": float(fleiss_kappa(counts, method="fleiss")),
}))
