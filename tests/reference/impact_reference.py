"""Reference difference in differences for tests/it/reference_impact.rs.

Counts events per country and day from the CSV, keeps the days FIRST..LAST (UTC ms, the
complete periods the app used), and fits y ~ treated + after + treated:after by OLS with
standard errors clustered by country (statsmodels, cov_type="cluster", use_t=True).
Usage: impact_reference.py FILE.csv FIRST_MS LAST_MS INTERVENTION_MS TREATED,... CONTROL,...
"""
import json
import sys

import numpy as np
import pandas as pd
import statsmodels.api as sm

path, first, last, intervention = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
treated, control = sys.argv[5].split(","), sys.argv[6].split(",")
df = pd.read_csv(path)
epoch = pd.Timestamp(0, tz="UTC")
df["day"] = (pd.to_datetime(df["created_at"], utc=True, format="ISO8601").dt.floor("D") - epoch) // pd.Timedelta(milliseconds=1)
df = df[df["country"].isin(treated + control) & (df["day"] >= first) & (df["day"] <= last)]
panel = df.groupby(["country", "day"]).size().unstack(fill_value=0).stack().rename("y").reset_index()
panel["treated"] = panel["country"].isin(treated).astype(float)
panel["after"] = (panel["day"] >= intervention).astype(float)
X = np.column_stack([np.ones(len(panel)), panel["treated"], panel["after"], panel["treated"] * panel["after"]])
codes, _ = pd.factorize(panel["country"])
fit = sm.OLS(panel["y"].to_numpy(float), X).fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
low, high = fit.conf_int()[3]
json.dump({"effect": fit.params[3], "se": fit.bse[3], "p": fit.pvalues[3], "low": low, "high": high, "n": len(panel)}, sys.stdout)
