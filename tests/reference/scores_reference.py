"""scikit-learn's ROC AUC, average precision and threshold metrics of the demo's risk score,
for tests/it/reference_scores.rs, unweighted and with the sample weight 0.5 + (row % 7) / 4;
and the rules' backtest: confusion matrix, precision, recall and F1 of two rules and of either
(a missing value is not flagged), over the labelled rows. Argument: the demo CSV. Prints JSON."""
import json
import sys

import pandas as pd
from sklearn.metrics import average_precision_score, confusion_matrix, f1_score, precision_score, recall_score, roc_auc_score

df = pd.read_csv(sys.argv[1], keep_default_na=False, na_values=[""])
df["w"] = 0.5 + (df.index % 7) * 0.25
labelled = df[df["decision"].notna()]
truth = labelled["decision"].isin(["removed", "restricted"]).astype(int)
# Comparisons with a missing value are False: not flagged.
rules = {
    "young_strikes": (labelled["prior_strikes"] >= 2) & (labelled["account_age_days"] < 30),
    "scam_br": (labelled["reason"] == "scam") & (labelled["country"] == "BR"),
}
rules["either"] = rules["young_strikes"] | rules["scam_br"]


def rule_metrics(weight):
    out = {}
    for name, flagged in rules.items():
        tn, fp, fn, tp = confusion_matrix(truth, flagged.astype(int), sample_weight=weight).ravel()
        out[name] = {
            "tp": float(tp), "fp": float(fp), "fn": float(fn), "tn": float(tn),
            "precision": precision_score(truth, flagged, sample_weight=weight),
            "recall": recall_score(truth, flagged, sample_weight=weight),
            "f1": f1_score(truth, flagged, sample_weight=weight),
        }
    return out


rule_results = {"unweighted": rule_metrics(None), "weighted": rule_metrics(labelled["w"])}
df = df[df["decision"].notna() & df["risk_score"].notna()]
y = df["decision"].isin(["removed", "restricted"]).astype(int)
score = df["risk_score"].astype(float)
flag = (score >= 0.5).astype(int)
json.dump(
    {
        "rules": rule_results,
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
