"""statsmodels' OLS on longley and stackloss and Logit on spector, for
tests/it/reference_regression.rs. Prints JSON: per case the data as CSV text, the columns, and
statsmodels' params, bse, t/z, p-values, 95 % intervals and fit statistics (for Logit also
scikit-learn's ROC AUC of the fitted probabilities). The weighted cases
give each row the frequency weight 0.5 + (row % 4) / 2: GLM with `freq_weights` (params, bse,
log-likelihood) and WLS (R²)."""
import json
import sys

import statsmodels.api as sm
from sklearn.metrics import roc_auc_score

out = {}


def case(name, data, endog, exog, logit=False):
    frame = data.data[[endog] + exog].copy()
    x = sm.add_constant(frame[exog])
    model = (sm.Logit if logit else sm.OLS)(frame[endog], x).fit(disp=0) if logit else sm.OLS(frame[endog], x).fit()
    ci = model.conf_int(0.05)
    entry = {
        "csv": frame.to_csv(index=False),
        "target": endog,
        "predictors": exog,
        "params": model.params.tolist(),
        "bse": model.bse.tolist(),
        "stat": model.tvalues.tolist(),
        "pvalues": model.pvalues.tolist(),
        "ci_low": ci[0].tolist(),
        "ci_high": ci[1].tolist(),
    }
    if logit:
        entry["llf"] = float(model.llf)
        entry["prsquared"] = float(model.prsquared)
        entry["auc"] = float(roc_auc_score(frame[endog], model.predict(x)))
    else:
        entry["rsquared"] = float(model.rsquared)
        entry["rsquared_adj"] = float(model.rsquared_adj)
    out[name] = entry


def weighted(name, data, endog, exog, logit=False):
    frame = data.data[[endog] + exog].copy()
    w = 0.5 + (frame.index % 4) * 0.5
    x = sm.add_constant(frame[exog])
    family = sm.families.Binomial() if logit else sm.families.Gaussian()
    model = sm.GLM(frame[endog], x, family=family, freq_weights=w).fit(tol=1e-13)
    entry = {
        "csv": frame.to_csv(index=False),
        "target": endog,
        "predictors": exog,
        "weights": w.tolist(),
        "params": model.params.tolist(),
        "bse": model.bse.tolist(),
    }
    if logit:
        entry["llf"] = float(model.llf)
        entry["auc"] = float(roc_auc_score(frame[endog], model.predict(x), sample_weight=w))
    else:
        entry["rsquared"] = float(sm.WLS(frame[endog], x, weights=w).fit().rsquared)
    out[name] = entry


case("longley", sm.datasets.longley.load_pandas(), "TOTEMP", ["GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"])
case("stackloss", sm.datasets.stackloss.load_pandas(), "STACKLOSS", ["AIRFLOW", "WATERTEMP", "ACIDCONC"])
case("spector", sm.datasets.spector.load_pandas(), "GRADE", ["GPA", "TUCE", "PSI"], logit=True)
weighted("stackloss_weighted", sm.datasets.stackloss.load_pandas(), "STACKLOSS", ["AIRFLOW", "WATERTEMP", "ACIDCONC"])
weighted("spector_weighted", sm.datasets.spector.load_pandas(), "GRADE", ["GPA", "TUCE", "PSI"], logit=True)
json.dump(out, sys.stdout)
