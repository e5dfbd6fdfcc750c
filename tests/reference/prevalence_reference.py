"""Reference prevalence estimates for tests/it/reference_prevalence.rs.

statsmodels' proportion_confint (Wilson, Clopper-Pearson, Jeffreys) for the simple sample, and
samplics' TaylorEstimator (Taylor-linearised variance, logit interval) for the stratified,
Horvitz-Thompson and view-weighted designs, overall and by country (domains).
Usage: prevalence_reference.py FILE.csv  ->  JSON on stdout.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from samplics import PopParam, TaylorEstimator  # noqa: E402
from statsmodels.stats.proportion import proportion_confint  # noqa: E402

df = pd.read_csv(sys.argv[1])
y = (df["label"] == "violating").astype(float).to_numpy()
out = {}

methods = {"wilson": "wilson", "clopper_pearson": "beta", "jeffreys": "jeffreys"}


def binomial(mask):
    x, n = float(y[mask].sum()), float(mask.sum())
    return {"x": x, "n": n, **{k: list(proportion_confint(x, n, 0.05, m)) for k, m in methods.items()}}


everyone = np.ones(len(df), dtype=bool)
out["simple"] = binomial(everyone)
out["simple_by_country"] = {c: binomial((df["country"] == c).to_numpy()) for c in sorted(df["country"].unique())}

n_h = df.groupby("band")["band"].transform("size").to_numpy()
N_h = df["population"].to_numpy()
# Strata as integer codes (samplics matches the fpc's keys against them).
codes, bands = pd.factorize(df["band"])
fpc = {int(h): 1 - (codes == h).sum() / df.loc[codes == h, "population"].iloc[0] for h in range(len(bands))}


def taylor(weight, stratum=None, fpc=None, domain=None):
    est = TaylorEstimator(PopParam.prop)
    kwargs = {"y": y, "samp_weight": weight, "remove_nan": True}
    if stratum is not None:
        kwargs["stratum"] = stratum
    if fpc is not None:
        kwargs["fpc"] = fpc
    if domain is not None:
        kwargs["domain"] = domain
    est.estimate(**kwargs)

    def pick(d):
        # Keyed by level (and domain first when given); the level is 1.0 (positive).
        if domain is None:
            return float(d[1.0])
        return {str(k): float(v[1.0]) for k, v in d.items()}

    if domain is None:
        return {"estimate": pick(est.point_est), "se": pick(est.stderror), "low": pick(est.lower_ci), "high": pick(est.upper_ci)}
    p, s, lo, hi = (pick(d) for d in (est.point_est, est.stderror, est.lower_ci, est.upper_ci))
    return {k: {"estimate": p[k], "se": s[k], "low": lo[k], "high": hi[k]} for k in p}


stratum = codes
design = N_h / n_h
out["stratified"] = taylor(design, stratum, fpc)
out["stratified_by_country"] = taylor(design, stratum, fpc, df["country"].to_numpy())
out["horvitz_thompson"] = taylor(1.0 / df["probability"].to_numpy())
out["views"] = taylor(design * df["views"].to_numpy(), stratum, fpc)
json.dump(out, sys.stdout)
