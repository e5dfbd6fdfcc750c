"""scikit-learn's ROC AUC, average precision and threshold metrics of the demo's risk score,
for tests/it/reference_scores.rs, unweighted and with the sample weight 0.5 + (row % 7) / 4.
Argument: the demo CSV. Prints JSON."""
import json
import sys

import pandas as pd
from sklearn.metrics import average_precision_score, precision_score, recall_score, roc_auc_score

df = pd.read_csv(sys.argv[1], keep_default_na=False, na_values=[""])
df["w"] = 0.5 + (df.index % 7) * 0.25
df = df[df["decision"].notna() & df["risk_score"].notna()]
y = df["decision"].isin(["removed", "restricted"]).astype(int)
score = df["risk_score"].astype(float)
flag = (score >= 0.5).astype(int)
json.dump(
    {
        "rows": int(len(df)),
        "positives": int(y.sum()),
        "roc_auc": roc_auc_score(y, score),
        "average_precision": average_precision_score(y, score),
        "precision_at_half": precision_score(y, flag),
        "recall_at_half": recall_score(y, flag),
        "weighted": {
            "rows": float(df["w"].sum()),
            "positives": float(df["w"][y == 1].sum()),
            "roc_auc": roc_auc_score(y, score, sample_weight=df["w"]),
            "average_precision": average_precision_score(y, score, sample_weight=df["w"]),
            "precision_at_half": precision_score(y, flag, sample_weight=df["w"]),
            "recall_at_half": recall_score(y, flag, sample_weight=df["w"]),
        },
    },
    sys.stdout,
)
