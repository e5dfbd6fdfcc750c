"""Reference seasonal decomposition and seasonal strength for tests/it/reference_trend.rs.

Usage: python3 decomposition_reference.py < {"values": [...], "periods": [7, ...], "log": bool}

The decomposition is MSTL (Bandara, Hyndman & Bergmeir 2021) as statsmodels' `MSTL` runs it:
the periods in ascending order, each removed by an STL fit of the series less the other
cycles, the whole repeated twice (once for a single period); seasonal window 7 + 4 i for the
i-th period (from 1). Each STL fit has the settings of Cleveland et al.'s program as R's `stl`
defaults them (seasonal smoother of degree 0; trend and low-pass of degree 1; low-pass window
the next odd integer from p; each smoother evaluated every ceil(window / 10) points; 2 inner
and no robustness iterations).

statsmodels' `STL` refuses a low-pass window equal to an odd period (R's default for a weekly
cycle), so each fit is `rstl` (a literal NumPy port of R's `stl`). The script first checks
that `rstl` gives statsmodels' `STL` to 1e-9 with a low-pass window both accept, and stops
if it does not.

With `log`, the series is decomposed in logs and reported in its units as Vigil reports it:
the trend is exp(trend), each cycle is what it adds on top of the trend and the cycles
before it (exp(trend + s_1 + ... + s_k) - exp(trend + s_1 + ... + s_{k-1})).

Seasonal strength (Wang, Smith & Hyndman 2006): max(0, 1 - Var(R) / Var(S_k + R)), computed
in the scale the series is decomposed in.

With `forecast` ({"point", "lower95", "upper95", "target", "current"}: the last forecast
period), also the 80 % band a normal forecast error with the 95 % band's spread gives, and the
probability that the value passes `target` (above it when the target is at or above the
current expected value, below it otherwise), from scipy's normal distribution.

Prints JSON: {"trend": [...], "seasonal": {"7": [...], ...}, "strength": {"7": s, ...},
"forecast": {"lower80", "upper80", "probability"}}.
"""
import json
import math
import sys

import numpy as np
from rstl import STL as RSTL
from scipy.stats import norm
from statsmodels.tsa.seasonal import STL


def next_odd(x):
    n = int(math.ceil(x))
    return n if n % 2 == 1 else n + 1


def stl(series, period, seasonal_window, low_pass=None):
    fit = RSTL(series, period, seasonal_window, l_window=low_pass)
    return fit.seasonal, fit.trend


def check_rstl_is_statsmodels(series, period, seasonal_window):
    low_pass = next_odd(period + 1)
    trend_window = next_odd(1.5 * period / (1.0 - 1.5 / seasonal_window))
    theirs = STL(
        series,
        period=period,
        seasonal=seasonal_window,
        trend=trend_window,
        low_pass=low_pass,
        seasonal_deg=0,
        trend_deg=1,
        low_pass_deg=1,
        seasonal_jump=math.ceil(seasonal_window / 10),
        trend_jump=math.ceil(trend_window / 10),
        low_pass_jump=math.ceil(low_pass / 10),
        robust=False,
    ).fit(inner_iter=2, outer_iter=0)
    seasonal, trend = stl(series, period, seasonal_window, low_pass)
    worst = max(np.max(np.abs(seasonal - theirs.seasonal)), np.max(np.abs(trend - theirs.trend)))
    if not worst <= 1e-9 * max(1.0, np.max(np.abs(series))):
        sys.exit(f"rstl and statsmodels' STL differ by {worst} (period {period})")


def main():
    request = json.load(sys.stdin)
    y = np.asarray(request["values"], dtype=float)
    periods = sorted(request["periods"])
    log = bool(request["log"])
    x = np.log(y) if log else y.copy()
    for i, period in enumerate(periods):
        check_rstl_is_statsmodels(x, period, 7 + 4 * (i + 1))

    seasonal = {p: np.zeros_like(x) for p in periods}
    deseasonalised = x.copy()
    trend = np.zeros_like(x)
    for iteration in range(1 if len(periods) == 1 else 2):
        for i, period in enumerate(periods):
            if iteration > 0:
                deseasonalised += seasonal[period]
            seasonal[period], trend = stl(deseasonalised, period, 7 + 4 * (i + 1))
            deseasonalised -= seasonal[period]
    remainder = deseasonalised - trend

    strength = {}
    for period in periods:
        strength[str(period)] = max(0.0, 1.0 - np.var(remainder) / np.var(seasonal[period] + remainder))

    reported = {}
    if log:
        reached = trend.copy()
        for period in periods:
            before = np.exp(reached)
            reached = reached + seasonal[period]
            reported[str(period)] = (np.exp(reached) - before).tolist()
        trend_units = np.exp(trend)
    else:
        reported = {str(p): seasonal[p].tolist() for p in periods}
        trend_units = trend
    answer = {"trend": trend_units.tolist(), "seasonal": reported, "strength": strength}
    forecast = request.get("forecast")
    if forecast:
        point = forecast["point"]
        sigma = (forecast["upper95"] - forecast["lower95"]) / (2.0 * norm.ppf(0.975))
        target = forecast["target"]
        above = target >= forecast["current"]
        answer["forecast"] = {
            "lower80": norm.ppf(0.1, point, sigma),
            "upper80": norm.ppf(0.9, point, sigma),
            "probability": norm.sf(target, point, sigma) if above else norm.cdf(target, point, sigma),
        }
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
