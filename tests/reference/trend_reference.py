"""Reference forecasts and linear trends for tests/reference_trend.rs, computed by statsmodels.

Usage: python3 trend_reference.py [HOLDOUT [PERIOD]]   (defaults 24 and 12)

Data: statsmodels' bundled `co2` (Mauna Loa, weekly, March 1958 - December 2001, with gaps),
prepared as in statsmodels' own STL example: monthly means (`resample("MS").mean()`) with the
empty months forward-filled (`ffill()`), 526 months. The last HOLDOUT months are held out.

Forecasts (HOLDOUT steps ahead from the training series):
* `stl_ets_aan`, `stl_ets_aadn`: `STLForecast` (STL, period PERIOD, statsmodels' defaults) with
  an `ETSModel` on the seasonally adjusted series, additive error and additive trend, undamped
  and damped. `stl_ets` is the one of the two with the lower AIC (as an automatic ETS would
  choose) and is the reference the Rust test compares against.
* `ets_aaa`: a plain `ETSModel`, additive error, trend and seasonality (period PERIOD).
* `seasonal_naive`: the last PERIOD training values repeated.
MASE = mean |holdout - forecast| / (mean in-sample |y[t] - y[t - PERIOD]|).

Linear trends: statsmodels `OLS` of y (and of ln y) on a constant and the index 0..n-1, for the
training series and for a short noisy series (numpy RandomState(3), 40 points,
y = 10 + 0.03 i + N(0, 1)) whose slope p-value does not underflow.

Prints JSON with the series, forecasts, MASEs, 95 % interval coverage of the STL+ETS reference
and the OLS results.
"""
import json
import sys
import warnings

import numpy as np
import statsmodels.api as sm
from statsmodels.datasets import co2
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.stl import STLForecast

warnings.simplefilter("ignore")  # optimizer convergence chatter must not reach stdout/stderr

holdout = int(sys.argv[1]) if len(sys.argv) > 1 else 24
period = int(sys.argv[2]) if len(sys.argv) > 2 else 12

monthly = co2.load_pandas().data["co2"].resample("MS").mean()
missing_months = int(monthly.isna().sum())
series = monthly.ffill()
train, test = series.iloc[:-holdout], series.iloc[-holdout:]
y_train = train.to_numpy(dtype=float)
y_test = test.to_numpy(dtype=float)
scale = float(np.mean(np.abs(y_train[period:] - y_train[:-period])))


def mase(forecast):
    return float(np.mean(np.abs(y_test - np.asarray(forecast, dtype=float))) / scale)


def stl_ets(damped):
    model = STLForecast(
        train,
        ETSModel,
        model_kwargs={"error": "add", "trend": "add", "damped_trend": damped},
        period=period,
    )
    result = model.fit(fit_kwargs={"disp": False})
    frame = result.get_prediction(start=len(train), end=len(train) + holdout - 1).summary_frame(alpha=0.05)
    point = frame["mean"].to_numpy(dtype=float)
    lower = frame["mean_ci_lower"].to_numpy(dtype=float)
    upper = frame["mean_ci_upper"].to_numpy(dtype=float)
    coverage = float(np.mean((y_test >= lower) & (y_test <= upper)))
    return {
        "model": f"STLForecast(period={period}) + ETSModel(error=add, trend=add, damped={damped})",
        "aic": float(result.model_result.aic),
        "forecast": point.tolist(),
        "lower95": lower.tolist(),
        "upper95": upper.tolist(),
        "mase": mase(point),
        "coverage95": coverage,
    }


aan = stl_ets(False)
aadn = stl_ets(True)
chosen = min((aan, aadn), key=lambda r: r["aic"])

ets = ETSModel(train, error="add", trend="add", seasonal="add", seasonal_periods=period).fit(disp=False)
ets_forecast = np.asarray(ets.forecast(holdout), dtype=float)

naive = np.resize(y_train[-period:], holdout)


def ols(values, log):
    y = np.log(values) if log else np.asarray(values, dtype=float)
    x = sm.add_constant(np.arange(len(y), dtype=float))
    fit = sm.OLS(y, x).fit()
    return {
        "intercept": float(fit.params[0]),
        "slope": float(fit.params[1]),
        "slope_std_error": float(fit.bse[1]),
        "r_squared": float(fit.rsquared),
        "p_value": float(fit.pvalues[1]),
        "n": int(fit.nobs),
    }


rng = np.random.RandomState(3)
noisy = 10.0 + 0.03 * np.arange(40) + rng.normal(0.0, 1.0, 40)

print(json.dumps({
    "data": "statsmodels.datasets.co2, monthly means (resample MS), ffill",
    "missing_months": missing_months,
    "period": period,
    "train": y_train.tolist(),
    "test": y_test.tolist(),
    "mase_scale": scale,
    "stl_ets": chosen,
    "stl_ets_aan": aan,
    "stl_ets_aadn": aadn,
    "ets_aaa": {
        "model": f"ETSModel(error=add, trend=add, seasonal=add, period={period})",
        "forecast": ets_forecast.tolist(),
        "mase": mase(ets_forecast),
    },
    "seasonal_naive": {"forecast": naive.tolist(), "mase": mase(naive)},
    "ols": {
        "co2": ols(y_train, False),
        "co2_log": ols(y_train, True),
        "noisy": ols(noisy, False),
        "noisy_log": ols(noisy, True),
    },
    "noisy": noisy.tolist(),
}))
