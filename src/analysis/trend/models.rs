//! Models of one series: decomposition, forecast, anomalies, incidents, changepoints, a linear
//! trend and a goal projection. The modelling is `augurs`: MSTL (robust STL inside) with an
//! AutoETS trend model, the periodogram seasonality detector and Bayesian online changepoint
//! detection; this module chooses their inputs and turns their output into findings.
//!
//! * **Scale**: a series whose every value is positive is modelled in logs (multiplicative:
//!   cycles, incidents and noise in proportion to the level) and reported in its units; any
//!   other series in its units.
//! * **Decomposition**: robust MSTL over the seasonal periods that fit the series (the
//!   granularity's natural cycles and those the periodogram finds) and are actually present
//!   (seasonal strength ≥ [`MIN_SEASONAL_STRENGTH`], and a calendar cycle's shape repeats from
//!   one half of the series to the other where it fits three times, [`halves_agreement`]).
//!   Without a seasonal cycle the trend is the AutoETS level.
//! * **Forecast**: the fitted model `horizon` periods ahead with 80 % and 95 % intervals, fitted
//!   in units (a trend that adds a number a period goes on adding it); the intervals are widened
//!   when the first period's is narrower than the scale the last period was judged by.
//! * **Anomalies**: a point is anomalous when its remainder's robust z-score
//!   `(r − median r) / σ` exceeds the sensitivity, or when it lies more than sensitivity × σ
//!   (or the forecast's own σ, if larger) from the model's one-step-ahead forecast (the ETS
//!   filter: each expected value uses only the periods before it; smoothing parameters are
//!   fitted once). σ is the scale of a point's distance from a fit that did not see it
//!   ([`judging_scale`]): the noise, from the MAD of differences a cycle apart
//!   ([`noise_sigma_at`]), plus the fit's own error, which is what the fit absorbed of the
//!   noise. In logs one relative scale times the expected value; in units a local one.
//! * **Incidents**: runs of consecutive anomalies in the same direction, with the excess over
//!   the expected value (trend + seasonal).
//! * **Changepoints**: BOCPD (Normal–Gamma) on the deseasonalised series with anomalies
//!   replaced by the trend, scaled by its noise; kept when a line with one slope through the
//!   segments either side, with a step at the cut, steps by more than twice the noise of a
//!   difference and three standard errors (steady growth cut into pieces does not step).

use augurs::changepoint::dist::NormalGamma;
use augurs::changepoint::{Detector as _, NormalGammaDetector};
use augurs::ets::AutoETS;
use augurs::mstl::stlrs::{MstlParams, StlParams};
use augurs::mstl::MSTLModel;
use augurs::seasons::{Detector as _, PeriodogramDetector};
use augurs::{Fit, Forecast, Predict};
use serde::{Deserialize, Serialize};

use crate::analysis::series::Series;
use crate::analysis::stats::quantile_sorted;

/// Fewest defined points the models run on.
pub const MIN_POINTS: usize = 8;
/// Points further than this many σ from the robust baseline are replaced by it before the
/// final fit (lower than the flagging threshold: the ramps of an incident must not lift its
/// own baseline).
const CLEANING_Z: f64 = 2.5;
/// Longest forecast horizon.
pub const MAX_HORIZON: usize = 1_000;
/// Seasonal components weaker than this (Wang, Smith & Hyndman's strength, 0–1) are dropped.
pub const MIN_SEASONAL_STRENGTH: f64 = 0.3;
/// A cycle the periodogram finds (not a calendar one) counts only when the series holds this
/// many of it: a monthly cycle needs six months …
const MIN_DETECTED_CYCLES: usize = 6;
/// … and when it repeats: its shape (the median by phase of the detrended series) estimated on
/// each half of the series correlates at least this well.
const MIN_HALF_AGREEMENT: f64 = 0.5;
/// Points further than this many σ from the calendar cycles are excursions, replaced before
/// longer cycles are looked for and cycles are judged (higher than [`CLEANING_Z`]: a real longer
/// cycle's crests, which the calendar model misses, must survive).
const EXCURSION_Z: f64 = 4.0;
/// Largest magnitude the robust (f32) decomposition is given.
const MAX_ROBUST_VALUE: f64 = 1e30;
/// Points on each side of a point whose noise sets its scale (at least two of the longest cycle).
const NOISE_HALF_WINDOW: usize = 28;
/// The 97.5 % quantile of the standard normal (turns 95 % half-widths into σ).
const Z975: f64 = 1.959_963_984_540_054;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendParams {
    /// Periods to forecast.
    pub horizon: usize,
    /// Threshold, in robust standard deviations, for a point to be anomalous (lower flags more).
    pub sensitivity: f64,
    /// Fit the linear trend to ln(value) (growth per period) instead of the value.
    pub log_trend: bool,
    /// A goal value: the projection reports the probability of reaching it.
    pub target: Option<f64>,
    /// Values the metric cannot go below / above (0 for counts, 0 and 1 for rates); forecasts
    /// and intervals are clamped to them.
    pub lower_bound: Option<f64>,
    pub upper_bound: Option<f64>,
}

impl Default for TrendParams {
    fn default() -> Self {
        Self { horizon: 14, sensitivity: 4.0, log_trend: false, target: None, lower_bound: None, upper_bound: None }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub enum TrendError {
    #[error("only {found} {} a value; the models need at least {MIN_POINTS}", if *found == 1 { "period has" } else { "periods have" })]
    TooShort { found: usize },
    #[error("the sensitivity must be between 1 and 20 (got {0})")]
    BadSensitivity(f64),
    #[error("the forecast horizon must be at most {MAX_HORIZON} periods (got {0})")]
    BadHorizon(usize),
    #[error("the model could not be fitted: {0}")]
    Model(String),
}

/// A seasonal cycle in the decomposition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seasonal {
    pub period: usize,
    /// 0 (none) to 1 (all variation is seasonal), on the remainder's scale.
    pub strength: f64,
    #[serde(with = "crate::analysis::nan_serde")]
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Spike,
    Dip,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    pub index: usize,
    pub actual: f64,
    pub expected: f64,
    /// Robust z-score of the remainder.
    pub z: f64,
    /// Flagged because the remainder is extreme.
    pub by_remainder: bool,
    /// Flagged because it lies outside the one-step-ahead forecast's interval.
    pub by_forecast: bool,
    pub direction: Direction,
}

/// A run of consecutive anomalies in one direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub start: usize,
    /// Last anomalous index (inclusive).
    pub end: usize,
    pub peak: usize,
    pub peak_actual: f64,
    pub actual_total: f64,
    pub expected_total: f64,
    /// Actual minus expected, summed over the run.
    pub excess: f64,
    pub direction: Direction,
    /// Largest |robust z| in the run.
    pub max_z: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changepoint {
    /// First index of the new segment.
    pub index: usize,
    /// The level just before and just after: a line with one slope through the segments
    /// either side, with a step at the change, read at it.
    pub before: f64,
    pub after: f64,
}

/// Ordinary least squares of value (or ln value) on the period index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearTrend {
    pub log: bool,
    pub slope: f64,
    pub intercept: f64,
    pub slope_std_error: f64,
    pub r_squared: f64,
    /// Two-sided p-value of the slope (t-test, n − 2 degrees of freedom).
    pub p_value: f64,
    pub n: usize,
}

impl LinearTrend {
    /// The fitted value at period `index` (in the metric's units, also for a log fit).
    pub fn at(&self, index: f64) -> f64 {
        let y = self.intercept + self.slope * index;
        if self.log { y.exp() } else { y }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastBands {
    #[serde(with = "crate::analysis::nan_serde")]
    pub point: Vec<f64>,
    #[serde(with = "crate::analysis::nan_serde")]
    pub lower80: Vec<f64>,
    #[serde(with = "crate::analysis::nan_serde")]
    pub upper80: Vec<f64>,
    #[serde(with = "crate::analysis::nan_serde")]
    pub lower95: Vec<f64>,
    #[serde(with = "crate::analysis::nan_serde")]
    pub upper95: Vec<f64>,
}

/// Where the forecast ends up at the horizon, and the chance of reaching a goal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    /// Periods after the last observed one.
    pub steps: usize,
    pub value: f64,
    pub lower80: f64,
    pub upper80: f64,
    pub target: Option<f64>,
    /// P(value ≥ target) when the target is above the current level, P(value ≤ target) when
    /// below (normal predictive distribution).
    pub probability: Option<f64>,
    pub target_above: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendAnalysis {
    /// The series the models saw (gaps filled by linear interpolation).
    #[serde(with = "crate::analysis::nan_serde")]
    pub filled: Vec<f64>,
    pub imputed: usize,
    /// Periods far from the robust baseline (more than the sensitivity or 2.5 σ, whichever is
    /// lower) that were replaced by it before the final fit, so that incidents bend neither the
    /// expected values nor the forecast.
    pub set_aside: usize,
    /// Periods the periodogram found on the series with its anomalies replaced, that repeat
    /// (before fitting and strength checks).
    pub detected_periods: Vec<usize>,
    pub seasonal: Vec<Seasonal>,
    #[serde(with = "crate::analysis::nan_serde")]
    pub trend: Vec<f64>,
    #[serde(with = "crate::analysis::nan_serde")]
    pub remainder: Vec<f64>,
    /// Trend + seasonal.
    #[serde(with = "crate::analysis::nan_serde")]
    pub expected: Vec<f64>,
    /// One-step-ahead forecast and its 95 % interval.
    #[serde(with = "crate::analysis::nan_serde")]
    pub one_step: Vec<f64>,
    #[serde(with = "crate::analysis::nan_serde")]
    pub one_step_lower: Vec<f64>,
    #[serde(with = "crate::analysis::nan_serde")]
    pub one_step_upper: Vec<f64>,
    pub anomalies: Vec<Anomaly>,
    pub incidents: Vec<Incident>,
    pub changepoints: Vec<Changepoint>,
    pub linear: Option<LinearTrend>,
    pub forecast: ForecastBands,
    pub projection: Option<Projection>,
    pub model: String,
    /// The periods modelled, `model_range.0 .. model_range.1` of the series (partial first or
    /// last periods are left out); every per-period vector above is aligned with the whole
    /// series (NaN outside the range) and the forecast starts at period `model_range.1`.
    pub model_range: (usize, usize),
}

/// Linear interpolation over NaNs; the ends take the nearest defined value.
fn fill_gaps(values: &[f64]) -> (Vec<f64>, usize) {
    let defined: Vec<(usize, f64)> = values.iter().copied().enumerate().filter(|(_, v)| v.is_finite()).collect();
    let mut out = values.to_vec();
    let mut imputed = 0;
    for (idx, slot) in out.iter_mut().enumerate() {
        if slot.is_finite() {
            continue;
        }
        imputed += 1;
        let after = defined.partition_point(|&(i, _)| i < idx);
        *slot = match (after.checked_sub(1).and_then(|b| defined.get(b)), defined.get(after)) {
            (Some(&(i0, y0)), Some(&(i1, y1))) => y0 + (y1 - y0) * (idx - i0) as f64 / (i1 - i0) as f64,
            (Some(&(_, y)), None) | (None, Some(&(_, y))) => y,
            (None, None) => 0.0,
        };
    }
    (out, imputed)
}

/// Median and MAD of values (MAD unscaled).
fn median_mad(values: &[f64]) -> Option<(f64, f64)> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_unstable_by(f64::total_cmp);
    let median = quantile_sorted(&sorted, 0.5)?;
    let mut deviations: Vec<f64> = sorted.iter().map(|v| (v - median).abs()).collect();
    deviations.sort_unstable_by(f64::total_cmp);
    Some((median, quantile_sorted(&deviations, 0.5)?))
}

fn model_error(err: impl std::fmt::Display) -> TrendError {
    TrendError::Model(err.to_string())
}

/// The fitted pieces, whichever model was used.
struct Fitted {
    seasonal: Vec<Seasonal>,
    trend: Vec<f64>,
    remainder: Vec<f64>,
    in_sample: Forecast,
    forecast80: Forecast,
    forecast95: Forecast,
    model: String,
}

impl Fitted {
    /// Trend + seasonal components.
    fn expected(&self) -> Vec<f64> {
        (0..self.trend.len())
            .map(|i| self.trend.get(i).copied().unwrap_or(0.0) + self.seasonal.iter().map(|s| s.values.get(i).copied().unwrap_or(0.0)).sum::<f64>())
            .collect()
    }
}

fn mstl_params() -> MstlParams {
    MstlParams::new()
}

/// Trend + seasonal of a robust MSTL (outliers get low weight, so incidents do not lift it);
/// `None` without seasonal periods or when it cannot be fitted.
fn robust_baseline(y: &[f64], periods: &[usize]) -> Option<Vec<f64>> {
    let (trend, seasonal) = robust_parts(y, periods)?;
    Some(trend.iter().zip(&seasonal).map(|(t, s)| t + s).collect())
}

/// The trend and the summed seasonal components of a robust MSTL.
fn robust_parts(y: &[f64], periods: &[usize]) -> Option<(Vec<f64>, Vec<f64>)> {
    // The decomposition runs in f32 and its robustness weights sort residuals: values whose
    // residuals could overflow to infinity or NaN would stop it, so such series go without.
    if periods.is_empty() || y.iter().any(|v| !v.is_finite() || v.abs() > MAX_ROBUST_VALUE) {
        return None;
    }
    let mut stl = StlParams::new();
    stl.robust(true);
    let mut params = MstlParams::new();
    params.stl_params(stl);
    let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    let fit = params.fit(&y32, periods).ok()?;
    let trend = (0..y.len()).map(|i| f64::from(fit.trend().get(i).copied().unwrap_or(0.0))).collect();
    let seasonal = (0..y.len()).map(|i| fit.seasonal().iter().map(|s| f64::from(s.get(i).copied().unwrap_or(0.0))).sum::<f64>()).collect();
    Some((trend, seasonal))
}

/// A robust trend where no cycle fits (a weekly series shorter than two and a half years, a
/// daily one shorter than two and a half weeks): the running median over `2·half + 1` periods,
/// which a run of up to `half` excursions does not move. Near the ends the window shrinks
/// symmetrically (a steady trend stays unbiased); each end point takes Tukey's rule, the median
/// of itself, its neighbour's smooth and that smooth extrapolated (R's `runmed` with
/// `endrule = "median"`).
fn running_median(y: &[f64], half: usize) -> Vec<f64> {
    let n = y.len();
    let median = |window: &[f64]| -> f64 {
        let mut sorted = window.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        quantile_sorted(&sorted, 0.5).unwrap_or(f64::NAN)
    };
    let mut smooth: Vec<f64> = (0..n)
        .map(|i| {
            let reach = half.min(i).min(n - 1 - i);
            y.get(i - reach..=i + reach).map_or(f64::NAN, median)
        })
        .collect();
    if n >= 3 {
        let tukey = |end: f64, next: f64, after: f64| median(&[end, next, 3.0 * next - 2.0 * after]);
        smooth[0] = tukey(y[0], smooth[1], smooth[2]);
        smooth[n - 1] = tukey(y[n - 1], smooth[n - 2], smooth[n - 3]);
    }
    smooth
}

fn fit_models(y: &[f64], periods: &[usize], horizon: usize) -> Result<Fitted, TrendError> {
    if periods.is_empty() {
        let fitted = AutoETS::non_seasonal().fit(y).map_err(model_error)?;
        let in_sample = fitted.predict_in_sample(0.95).map_err(model_error)?;
        let trend = in_sample.point.clone();
        let remainder = y.iter().zip(&trend).map(|(a, b)| a - b).collect();
        return Ok(Fitted {
            seasonal: Vec::new(),
            trend,
            remainder,
            forecast80: fitted.predict(horizon, 0.8).map_err(model_error)?,
            forecast95: fitted.predict(horizon, 0.95).map_err(model_error)?,
            in_sample,
            model: format!("AutoETS {}", fitted.model().model_type()),
        });
    }
    let model = MSTLModel::new(periods.to_vec(), AutoETS::non_seasonal().into_trend_model()).mstl_params(mstl_params());
    let fitted = model.fit(y).map_err(model_error)?;
    let decomposition = fitted.fit();
    let strengths = decomposition.seasonal_strength();
    let seasonal = periods
        .iter()
        .zip(decomposition.seasonal())
        .zip(strengths)
        .map(|((&period, values), strength)| Seasonal { period, strength: if strength.is_finite() { strength } else { 0.0 }, values: values.iter().map(|&v| f64::from(v)).collect() })
        .collect();
    let listed: Vec<String> = periods.iter().map(usize::to_string).collect();
    Ok(Fitted {
        seasonal,
        trend: decomposition.trend().iter().map(|&v| f64::from(v)).collect(),
        remainder: decomposition.remainder().iter().map(|&v| f64::from(v)).collect(),
        in_sample: fitted.predict_in_sample(0.95).map_err(model_error)?,
        forecast80: fitted.predict(horizon, 0.8).map_err(model_error)?,
        forecast95: fitted.predict(horizon, 0.95).map_err(model_error)?,
        model: format!("MSTL (periods {}) + AutoETS trend", listed.join(", ")),
    })
}

/// The natural (calendar) cycles that fit at least two and a half times into `n` periods.
fn fitting_cycles(n: usize, natural: &[usize]) -> Vec<usize> {
    natural.iter().copied().filter(|&p| p >= 2 && n >= p * 5 / 2).collect()
}

/// Seasonal periods to try: the fitting natural cycles, and up to two cycles the periodogram
/// nominates on `adjusted` (the series without excursions, less its calendar cycles) that fit
/// [`MIN_DETECTED_CYCLES`] times and repeat: `repeats(p)` is the [`halves_agreement`] of the
/// series cleaned with `p` among the cycles (where anomalies cannot vote: shapes are medians by
/// phase). Two spikes a month apart are not a monthly cycle.
fn candidate_periods(adjusted: &[f64], natural: &[usize], repeats: &dyn Fn(usize) -> Option<f64>) -> (Vec<usize>, Vec<usize>) {
    let n = adjusted.len();
    let mut periods = natural.to_vec();
    if n < 16 {
        return (periods, Vec::new());
    }
    // The periodogram of a short series often peaks at a multiple of the cycle, a step off:
    // each nomination's half and third are tried too, each ±1, and the one that repeats best wins.
    let mut detected: Vec<usize> = Vec::new();
    for nominated in PeriodogramDetector::default().detect(adjusted) {
        let nominated = nominated as usize;
        let best = [1, 2, 3]
            .into_iter()
            .flat_map(|k| {
                let centre = (nominated + k / 2) / k;
                [centre.saturating_sub(1), centre, centre + 1]
            })
            // A detected period within one step of a natural one is that cycle.
            .filter(|&p| p >= 2 && n >= p * MIN_DETECTED_CYCLES && !periods.iter().chain(&detected).any(|&q| q.abs_diff(p) <= 1))
            .filter_map(|p| repeats(p).map(|r| (r, p)))
            .filter(|&(r, _)| r >= MIN_HALF_AGREEMENT)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, p)) = best {
            detected.push(p);
        }
        if detected.len() == 2 {
            break;
        }
    }
    periods.extend(detected.iter().copied());
    periods.sort_unstable();
    periods.dedup();
    (periods, detected)
}

/// `y` with the points further than [`EXCURSION_Z`] robust σ from the simplest model (trend and
/// calendar cycles of a robust MSTL) replaced by it, and that model's seasonal part: the series
/// in which incidents cannot vote for a cycle.
fn without_excursions(y: &[f64], natural: &[usize]) -> (Vec<f64>, Option<Vec<f64>>) {
    let Some((trend, seasonal)) = robust_parts(y, natural) else { return (y.to_vec(), None) };
    let residual: Vec<f64> = y.iter().zip(&trend).zip(&seasonal).map(|((v, t), s)| v - t - s).collect();
    let sigma = median_mad(&residual).map(|(median, mad)| (median, 1.4826 * mad));
    let clean = y
        .iter()
        .zip(&trend)
        .zip(&seasonal)
        .zip(&residual)
        .map(|(((v, t), s), r)| match sigma {
            Some((median, sigma)) if sigma > 0.0 && ((r - median) / sigma).abs() > EXCURSION_Z => t + s,
            _ => *v,
        })
        .collect();
    (clean, Some(seasonal))
}

/// How well a cycle of `period` repeats: the series less its centred moving average over one
/// period (the trend), summarised by the median at each phase on each half of the series, gives
/// two shapes; their Pearson correlation (it counts from [`MIN_HALF_AGREEMENT`]). A pattern made
/// by one or two excursions moves no median, or lives in one half only, and fails.
fn halves_agreement(y: &[f64], period: usize) -> Option<f64> {
    let n = y.len();
    // Each half then holds every phase at least once past the moving average's ends.
    if period < 2 || n < 3 * period {
        return None;
    }
    // Centred moving average over one period (2×p for an even period, as in classical
    // decomposition), defined where the window fits.
    let half = period / 2;
    let detrended: Vec<Option<f64>> = (0..n)
        .map(|i| {
            if i < half || i + half >= n {
                return None;
            }
            let window = y.get(i - half..=i + half)?;
            let mean = if period.is_multiple_of(2) {
                let (first, last) = (window.first()?, window.last()?);
                (window.iter().sum::<f64>() - 0.5 * (first + last)) / period as f64
            } else {
                window.iter().sum::<f64>() / period as f64
            };
            Some(y.get(i)? - mean)
        })
        .collect();
    // The median by phase: one excursion in a phase moves its mean, not its median.
    let shape = |range: std::ops::Range<usize>| -> Vec<f64> {
        let mut by_phase: Vec<Vec<f64>> = vec![Vec::new(); period];
        for i in range {
            if let (Some(Some(d)), Some(phase)) = (detrended.get(i), by_phase.get_mut(i % period)) {
                phase.push(*d);
            }
        }
        by_phase.iter().map(|values| median_mad(values).map_or(0.0, |(m, _)| m)).collect()
    };
    let (a, b) = (shape(0..n / 2), shape(n / 2..n));
    crate::analysis::profile::pearson(&a, &b)
}

/// Ordinary least squares of `y` (or ln y) on the index.
pub fn linear_trend(values: &[f64], log: bool) -> Option<LinearTrend> {
    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite() && (!log || **v > 0.0))
        .map(|(i, &v)| (i as f64, if log { v.ln() } else { v }))
        .collect();
    let n = points.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let sse = (syy - slope * sxy).max(0.0);
    let r_squared = if syy > 0.0 { 1.0 - sse / syy } else { 1.0 };
    let df = nf - 2.0;
    let slope_std_error = (sse / df / sxx).sqrt();
    let p_value = if slope_std_error > 0.0 {
        crate::analysis::regression::t_two_sided(slope / slope_std_error, df)
    } else if slope == 0.0 {
        1.0
    } else {
        0.0
    };
    Some(LinearTrend { log, slope, intercept, slope_std_error, r_squared, p_value, n })
}

/// Robust noise scale of a series: 1.4826 · MAD of first differences / √2 (σ for white noise,
/// insensitive to level shifts, slow trends and a few spikes).
fn noise_sigma(values: &[f64]) -> Option<f64> {
    noise_sigma_at(values, 1).filter(|s| *s > 0.0)
}

/// [`noise_sigma`] from the differences `lag` periods apart (zero for a series without noise):
/// at a cycle's length they cancel the cycle without fitting it (a fitted cycle absorbs part of
/// each point's own noise).
fn noise_sigma_at(values: &[f64], lag: usize) -> Option<f64> {
    let diffs: Vec<f64> = values.iter().zip(values.get(lag..).unwrap_or_default()).map(|(a, b)| b - a).collect();
    let (_, mad) = median_mad(&diffs)?;
    Some(1.4826 * mad / std::f64::consts::SQRT_2)
}

/// Robust spread of values about their median: 1.4826 · MAD (σ for a normal sample).
fn spread(values: &[f64]) -> Option<f64> {
    median_mad(values).map(|(_, mad)| 1.4826 * mad)
}

/// `measure` of the points within `half_window` of each point, or of all of them without a
/// window (counts grow noisier as they grow: one scale for a year of growth would call the busy
/// end's ordinary days anomalies); the global measure where a window is too thin.
fn local_scale(values: &[f64], half_window: Option<usize>, measure: &dyn Fn(&[f64]) -> Option<f64>) -> Option<Vec<f64>> {
    let global = measure(values)?;
    Some(
        (0..values.len())
            .map(|i| match half_window {
                Some(half) => {
                    let window = values.get(i.saturating_sub(half)..(i + half + 1).min(values.len())).unwrap_or_default();
                    if window.len() > half { measure(window).unwrap_or(global) } else { global }
                }
                None => global,
            })
            .collect(),
    )
}

/// The scale a point's remainder is judged by, from the noise `noise` (σ of the series about its
/// true level) and the spread of the fit's remainders `fit_spread`. A fit absorbs part of each
/// point's noise (its remainders spread less than the noise: the expected values are off by
/// the difference, σ²_fit = σ² − spread²), while a point far enough out to be judged was
/// replaced by the baseline before the fit and absorbed none: its distance from the expected
/// value has variance σ² + σ²_fit. A remainder that spreads more than the noise (a model that
/// misses part of the series) is its own scale.
fn judging_scale(noise: f64, fit_spread: f64) -> f64 {
    if fit_spread >= noise {
        fit_spread
    } else {
        (2.0 * noise * noise - fit_spread * fit_spread).sqrt()
    }
}

/// Flags anomalies of `actual` given the remainder (actual − expected), the noise scale at each
/// point and the one-step-ahead forecast with its 95 % interval.
fn flag_anomalies(actual: &[f64], defined: &[bool], expected: &[f64], sigma: Option<&[f64]>, one_step: &Forecast, sensitivity: f64, warmup: usize) -> Vec<Anomaly> {
    let remainder: Vec<f64> = actual.iter().zip(expected).map(|(a, e)| a - e).collect();
    let median = median_mad(&remainder).map_or(0.0, |(m, _)| m);
    let lower = one_step.intervals.as_ref().map(|i| i.lower.as_slice()).unwrap_or_default();
    let upper = one_step.intervals.as_ref().map(|i| i.upper.as_slice()).unwrap_or_default();
    let mut found: Vec<Anomaly> = Vec::new();
    for (index, &value) in actual.iter().enumerate() {
        if !defined.get(index).copied().unwrap_or(false) {
            continue;
        }
        let local = sigma.and_then(|s| s.get(index)).copied();
        let floor = local.unwrap_or(0.0);
        let z = local.map_or(0.0, |sigma| (remainder.get(index).copied().unwrap_or(0.0) - median) / sigma);
        let by_remainder = z.abs() > sensitivity;
        let forecast = one_step.point.get(index).copied().unwrap_or(value);
        let mut by_forecast = index >= warmup
            && match (lower.get(index), upper.get(index)) {
                (Some(&lo), Some(&hi)) if hi > lo => (value - forecast).abs() > sensitivity * ((hi - lo) / (2.0 * Z975)).max(floor),
                _ => false,
            };
        let expected_value = expected.get(index).copied().unwrap_or(value);
        let reference = if by_remainder { expected_value } else { forecast };
        let direction = if value >= reference { Direction::Spike } else { Direction::Dip };
        // The forecast right after an anomaly was made from it: its rebound is not news.
        if !by_remainder && found.last().is_some_and(|prev| prev.index + 1 == index && prev.direction != direction) {
            by_forecast = false;
        }
        if by_remainder || by_forecast {
            found.push(Anomaly { index, actual: value, expected: expected_value, z, by_remainder, by_forecast, direction });
        }
    }
    found
}

fn group_incidents(anomalies: &[Anomaly]) -> Vec<Incident> {
    let mut incidents: Vec<Incident> = Vec::new();
    for anomaly in anomalies {
        let excess = anomaly.actual - anomaly.expected;
        match incidents.last_mut() {
            Some(last) if last.end + 1 == anomaly.index && last.direction == anomaly.direction => {
                last.end = anomaly.index;
                last.actual_total += anomaly.actual;
                last.expected_total += anomaly.expected;
                last.excess += excess;
                let peak_excess = last.peak_actual - anomalies.iter().find(|a| a.index == last.peak).map_or(0.0, |a| a.expected);
                if excess.abs() > peak_excess.abs() {
                    last.peak = anomaly.index;
                    last.peak_actual = anomaly.actual;
                }
                last.max_z = last.max_z.max(anomaly.z.abs());
            }
            _ => incidents.push(Incident {
                start: anomaly.index,
                end: anomaly.index,
                peak: anomaly.index,
                peak_actual: anomaly.actual,
                actual_total: anomaly.actual,
                expected_total: anomaly.expected,
                excess,
                direction: anomaly.direction,
                max_z: anomaly.z.abs(),
            }),
        }
    }
    incidents.sort_by(|a, b| b.excess.abs().total_cmp(&a.excess.abs()));
    incidents
}

fn find_changepoints(fitted: &Fitted, remainder: &[f64], anomalies: &[Anomaly]) -> Vec<Changepoint> {
    let n = remainder.len();
    // Deseasonalised, with anomalies put back on the trend.
    let mut clean: Vec<f64> = fitted.trend.iter().zip(remainder).map(|(t, r)| t + r).collect();
    for anomaly in anomalies {
        if let (Some(slot), Some(&t)) = (clean.get_mut(anomaly.index), fitted.trend.get(anomaly.index)) {
            *slot = t;
        }
    }
    let Some(sigma) = noise_sigma(&clean) else { return Vec::new() };
    let Some((center, _)) = median_mad(&clean) else { return Vec::new() };
    let scaled: Vec<f64> = clean.iter().map(|v| (v - center) / sigma).collect();
    let Ok(prior) = NormalGamma::new(0.0, 1.0, 1.0, 1.0) else { return Vec::new() };
    let mut detector = NormalGammaDetector::normal_gamma(250.0, prior);
    let min_segment = 3.max(n / 30);
    let mut cuts: Vec<usize> = detector.detect_changepoints(&scaled).into_iter().filter(|&i| i >= min_segment && i + min_segment <= n).collect();
    cuts.sort_unstable();
    cuts.dedup();
    // Keep cuts at least a segment apart, then those that move the level.
    let mut spaced: Vec<usize> = Vec::new();
    for cut in cuts {
        if spaced.last().is_none_or(|&last| cut >= last + min_segment) {
            spaced.push(cut);
        }
    }
    let mut found = Vec::new();
    for (k, &cut) in spaced.iter().enumerate() {
        let from = if k == 0 { 0 } else { spaced[k - 1] };
        let to = spaced.get(k + 1).copied().unwrap_or(n);
        if let Some(shift) = level_shift(&clean, from, cut, to) {
            // More than twice the noise of a difference, and three standard errors.
            let needed = (2.0 * sigma * std::f64::consts::SQRT_2).max(3.0 * sigma * shift.unscaled_error);
            if (shift.after - shift.before).abs() > needed {
                found.push(Changepoint { index: cut, before: shift.before, after: shift.after });
            }
        }
    }
    // A step the smoother spread over a few points shows as two close cuts the same way: one
    // shift, at the larger of the two jumps.
    let mut merged: Vec<Changepoint> = Vec::new();
    for next in found {
        match merged.last_mut() {
            Some(last) if next.index < last.index + 2 * min_segment && (next.after - next.before).signum() == (last.after - last.before).signum() => {
                if (next.after - next.before).abs() > (last.after - last.before).abs() {
                    last.index = next.index;
                }
                last.after = next.after;
            }
            _ => merged.push(next),
        }
    }
    merged
}

/// The jump at `cut` of `values[from..to]`: least squares of a line with one slope and a step
/// at the cut, `v = a + b·(i − cut + ½) + d·[i ≥ cut]`. `before` is `a` and `after` is `a + d`,
/// the level either side of the cut; `unscaled_error` is d's standard error per unit of noise.
/// Steady growth that BOCPD cut into pieces has no step (segment medians, compared before,
/// differed by 11 % on the demo's smooth growth); a step does.
struct LevelShift {
    before: f64,
    after: f64,
    unscaled_error: f64,
}

fn level_shift(values: &[f64], from: usize, cut: usize, to: usize) -> Option<LevelShift> {
    let y = ndarray::Array1::from(values.get(from..to)?.to_vec());
    let at = cut as f64 - 0.5;
    let x = ndarray::Array2::from_shape_fn((to - from, 3), |(row, col)| {
        let i = (from + row) as f64;
        match col {
            0 => 1.0,
            1 => i - at,
            _ => f64::from(u8::from(i > at)),
        }
    });
    let (beta, unscaled) = crate::analysis::regression::least_squares(&x, &y).ok()?;
    Some(LevelShift { before: beta[0], after: beta[0] + beta[2], unscaled_error: unscaled[[2, 2]].sqrt() })
}

fn clamp_all(values: &mut [f64], lower: Option<f64>, upper: Option<f64>) {
    for v in values {
        if let Some(lo) = lower {
            *v = v.max(lo);
        }
        if let Some(hi) = upper {
            *v = v.min(hi);
        }
    }
}

/// `forecast` with its interval's distance from the point multiplied by `factor` on each side.
fn widened(forecast: &Forecast, factor: f64) -> Forecast {
    let widen = |bound: &[f64]| -> Vec<f64> { forecast.point.iter().zip(bound).map(|(p, b)| p + factor * (b - p)).collect() };
    Forecast {
        point: forecast.point.clone(),
        intervals: forecast.intervals.as_ref().map(|i| augurs::ForecastIntervals { level: i.level, lower: widen(&i.lower), upper: widen(&i.upper) }),
    }
}

fn intervals(forecast: &Forecast) -> (Vec<f64>, Vec<f64>) {
    forecast.intervals.as_ref().map_or_else(
        || (forecast.point.clone(), forecast.point.clone()),
        |i| (i.lower.clone(), i.upper.clone()),
    )
}

/// The scale the models work in: a series whose every value is positive is modelled in logs
/// (its cycles, incidents and noise grow with its level: a Saturday 25 % busier is 25 % busier
/// in March and in June, and one noise scale fits a year of growth); other series in their units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    Units,
    Log,
}

impl Scale {
    fn of(values: &[f64]) -> Self {
        if values.iter().filter(|v| v.is_finite()).all(|&v| v > 0.0) { Self::Log } else { Self::Units }
    }

    // libm's exp and ln, not std's: std's are the platform's (glibc natively, libm in wasm32),
    // and the command must give the worker's numbers bit for bit.
    fn model(self, value: f64) -> f64 {
        match self {
            Self::Units => value,
            Self::Log => libm::log(value),
        }
    }

    fn units(self, value: f64) -> f64 {
        match self {
            Self::Units => value,
            Self::Log => libm::exp(value),
        }
    }

    fn all_units(self, values: &[f64]) -> Vec<f64> {
        values.iter().map(|&v| self.units(v)).collect()
    }

    /// A forecast (point and interval) in the metric's units (quantiles map through exp).
    fn forecast_units(self, forecast: &Forecast) -> Forecast {
        let mut out = forecast.clone();
        out.point = self.all_units(&forecast.point);
        if let Some(intervals) = out.intervals.as_mut() {
            intervals.lower = self.all_units(&intervals.lower);
            intervals.upper = self.all_units(&intervals.upper);
        }
        out
    }
}

/// Runs every model over `values` (NaN = undefined period); `natural_periods` are the
/// granularity's cycles (7 for days, 24 and 168 for hours, …). Every result is in the metric's
/// units, whichever [`Scale`] the models worked in.
pub fn analyze(values: &[f64], natural_periods: &[usize], params: &TrendParams) -> Result<TrendAnalysis, TrendError> {
    if !(1.0..=20.0).contains(&params.sensitivity) {
        return Err(TrendError::BadSensitivity(params.sensitivity));
    }
    if params.horizon > MAX_HORIZON {
        return Err(TrendError::BadHorizon(params.horizon));
    }
    let defined: Vec<bool> = values.iter().map(|v| v.is_finite()).collect();
    let found = defined.iter().filter(|&&d| d).count();
    if found < MIN_POINTS {
        return Err(TrendError::TooShort { found });
    }
    let scale = Scale::of(values);
    let modelled: Vec<f64> = values.iter().map(|&v| scale.model(v)).collect();
    let (filled, imputed) = fill_gaps(&modelled);
    // Cycles are looked for and judged where excursions from the calendar cycles are already
    // replaced: an incident must neither weaken a real cycle's strength nor become part of a
    // longer cycle's shape.
    let natural = fitting_cycles(filled.len(), natural_periods);
    let (spike_free, natural_seasonal) = without_excursions(&filled, &natural);
    let less_natural = |series: Vec<f64>| -> Vec<f64> {
        match &natural_seasonal {
            Some(seasonal) => series.iter().zip(seasonal).map(|(v, s)| v - s).collect(),
            None => series,
        }
    };
    let adjusted = less_natural(spike_free.clone());
    // A nominated cycle is judged on the series cleaned with it among the cycles: a real
    // monthly cycle's crests are excursions from trend and week alone, and cleaning them away
    // would leave nothing to repeat.
    let repeats = |period: usize| -> Option<f64> {
        let mut with = natural.clone();
        with.push(period);
        match without_excursions(&filled, &with) {
            (clean, Some(_)) => halves_agreement(&less_natural(clean), period),
            (_, None) => halves_agreement(&adjusted, period),
        }
    };
    let (candidates, detected_periods) = candidate_periods(&adjusted, &natural, &repeats);
    let judged = fit_models(&spike_free, &candidates, params.horizon)?;
    // A calendar cycle must also repeat where the series is long enough to tell (three cycles):
    // on noise, MSTL's seasonal strength passes 0.3 for a weekly cycle in most series of three to
    // five weeks and in a third of those of six to eight.
    let repeating = |period: usize| !natural.contains(&period) || halves_agreement(&filled, period).is_none_or(|r| r >= MIN_HALF_AGREEMENT);
    let present: Vec<usize> = judged.seasonal.iter().filter(|s| s.strength >= MIN_SEASONAL_STRENGTH && repeating(s.period)).map(|s| s.period).collect();
    let first = if present == candidates && spike_free == filled { judged } else { fit_models(&filled, &present, params.horizon)? };
    let warmup = present.iter().copied().max().unwrap_or(0).max(3);
    // Noise below a thousandth of the typical level is rounding (the decomposition runs in
    // f32), not signal: a noise-free series must not call its rounding errors anomalies.
    let floor = match scale {
        Scale::Units => median_mad(&filled.iter().map(|v| v.abs()).collect::<Vec<_>>()).map_or(0.0, |(m, _)| 1e-3 * m),
        Scale::Log => 1e-3,
    };
    // The noise from differences a cycle apart (the longest; shorter cycles that do not divide
    // it are taken off first), and the scale each point is judged by, given how much of the
    // noise a fit absorbs.
    let lag = present.iter().copied().max().unwrap_or(1);
    let uncycled: Vec<f64> = (0..filled.len())
        .map(|i| filled.get(i).copied().unwrap_or(0.0) - first.seasonal.iter().filter(|s| !lag.is_multiple_of(s.period)).map(|s| s.values.get(i).copied().unwrap_or(0.0)).sum::<f64>())
        .collect();
    let half_window = match scale {
        // In units, counts grow noisier as they grow: the scale is local.
        Scale::Units => Some(NOISE_HALF_WINDOW.max(2 * warmup)),
        // In logs the noise is relative: one scale, which a run of incidents cannot inflate.
        Scale::Log => None,
    };
    let judging = |fit: &Fitted, left_out: &[Anomaly]| -> Option<Vec<f64>> {
        let mut kept = uncycled.clone();
        for point in left_out {
            if let Some(slot) = kept.get_mut(point.index) {
                *slot = f64::NAN;
            }
        }
        let noise = local_scale(&kept, half_window, &|window| noise_sigma_at(window, lag))?;
        let fit_spread = local_scale(&fit.remainder, half_window, &spread)?;
        Some(noise.iter().zip(&fit_spread).map(|(&n, &r)| judging_scale(n, r).max(floor)).collect())
    };
    let sigma = judging(&first, &[]);
    // Points far from a robust baseline are replaced by it and the model is refitted: incidents
    // then bend neither the expected values they are measured against nor the forecast, and
    // the final (plain) fit keeps ordinary noise in proportion.
    // Without a cycle, the robust trend of the calendar cycles' fit: the plain fit's expected
    // values are its one-step forecasts, which follow an incident a period late (put back as
    // the baseline, they kept it in the cleaned series, and its end was then a jump the other
    // way).
    let baseline = robust_baseline(&spike_free, &present)
        .or_else(|| robust_parts(&spike_free, &natural).map(|(trend, _)| trend))
        .unwrap_or_else(|| running_median(&spike_free, (spike_free.len() / 4).clamp(2, 6)));
    let suspects = flag_anomalies(&filled, &defined, &baseline, sigma.as_deref(), &first.in_sample, CLEANING_Z.min(params.sensitivity), warmup);
    // The ones beyond the threshold too are likely incidents: they are left out of the noise the
    // final fit's points are judged by (a four-day wave touches eight of a quarter's differences a
    // week apart, and widened the demo's noise by a fifth). The ordinary tails set aside at 2.5 σ
    // stay in it: without them it would be too narrow.
    let beyond = if params.sensitivity > CLEANING_Z { flag_anomalies(&filled, &defined, &baseline, sigma.as_deref(), &first.in_sample, params.sensitivity, warmup) } else { suspects.clone() };
    let mut clean = filled.clone();
    for suspect in &suspects {
        if let (Some(slot), Some(&b)) = (clean.get_mut(suspect.index), baseline.get(suspect.index)) {
            *slot = b;
        }
    }
    let fitted = if suspects.is_empty() { first } else { fit_models(&clean, &present, params.horizon)? };
    let expected = fitted.expected();
    let remainder: Vec<f64> = filled.iter().zip(&expected).map(|(a, e)| a - e).collect();
    // The points are judged against the final fit, by how much of the noise it absorbed.
    let sigma = if suspects.is_empty() { sigma } else { judging(&fitted, &beyond) };

    // From here on, the metric's units. An anomaly is scored in units: in logs, σ at a point is
    // the relative noise times the expected value there.
    let filled_units = scale.all_units(&filled);
    let expected_units = scale.all_units(&expected);
    let sigma_units: Option<Vec<f64>> = sigma.map(|s| match scale {
        Scale::Units => s,
        Scale::Log => s.iter().zip(&expected_units).map(|(s, e)| s * e).collect(),
    });
    // The one-step forecasts come from the cleaned fit: a forecast made from an incident's own
    // level would call the days after it dips.
    let one_step = scale.forecast_units(&fitted.in_sample);
    let anomalies = flag_anomalies(&filled_units, &defined, &expected_units, sigma_units.as_deref(), &one_step, params.sensitivity, warmup);
    let incidents = group_incidents(&anomalies);
    // Level shifts are found in the model's scale and reported in units.
    let mut changepoints = find_changepoints(&fitted, &remainder, &anomalies);
    for c in &mut changepoints {
        c.before = scale.units(c.before);
        c.after = scale.units(c.after);
    }
    let linear = linear_trend(values, params.log_trend);

    // The forecast is made in units: a trend that adds the same number each period goes on
    // adding it (in logs, AutoETS would bend it). The cleaned series is refitted for it.
    let units_fit;
    let forecaster = match scale {
        Scale::Units => &fitted,
        Scale::Log => {
            units_fit = fit_models(&scale.all_units(&clean), &present, params.horizon)?;
            &units_fit
        }
    };
    // The bands are the trend model's, fitted to what the cycles left of the cleaned series:
    // the cycles absorbed part of its noise and the cleaning trimmed its tails, so its first
    // period's band can be narrower than the scale the last period was judged by (the noise
    // plus the fit's error). Every period's band is then widened by that ratio.
    let widening = match (sigma_units.as_ref().and_then(|s| s.last()), forecaster.forecast95.intervals.as_ref()) {
        (Some(&judged), Some(bands)) => {
            let first = bands.upper.first().zip(bands.lower.first()).map_or(0.0, |(hi, lo)| (hi - lo) / (2.0 * Z975));
            if first > 0.0 && judged > first { judged / first } else { 1.0 }
        }
        _ => 1.0,
    };
    let forecast80 = widened(&forecaster.forecast80, widening);
    let forecast95 = widened(&forecaster.forecast95, widening);
    let (mut lower80, mut upper80) = intervals(&forecast80);
    let (mut lower95, mut upper95) = intervals(&forecast95);
    let mut point = forecast95.point.clone();
    for series in [&mut point, &mut lower80, &mut upper80, &mut lower95, &mut upper95] {
        clamp_all(series, params.lower_bound, params.upper_bound);
    }
    let projection = params.horizon.checked_sub(1).and_then(|last| {
        let value = *point.get(last)?;
        let (lo95, hi95) = (*forecast95.intervals.as_ref()?.lower.get(last)?, *forecast95.intervals.as_ref()?.upper.get(last)?);
        let raw_point = *forecast95.point.get(last)?;
        let sigma = (hi95 - lo95) / (2.0 * Z975);
        let current = expected_units.last().copied().unwrap_or(value);
        let (probability, target_above) = match params.target.filter(|t| t.is_finite()) {
            Some(target) if sigma > 0.0 => {
                let above = target >= current;
                let below_cdf = distrs::Normal::cdf(target, raw_point, sigma);
                (Some(if above { 1.0 - below_cdf } else { below_cdf }), Some(above))
            }
            Some(target) => {
                let above = target >= current;
                (Some(if (raw_point >= target) == above { 1.0 } else { 0.0 }), Some(above))
            }
            None => (None, None),
        };
        Some(Projection {
            steps: params.horizon,
            value,
            lower80: *lower80.get(last)?,
            upper80: *upper80.get(last)?,
            target: params.target,
            probability,
            target_above,
        })
    });
    let (one_step_lower, one_step_upper) = intervals(&one_step);
    // The decomposition in units: in logs, each cycle is what it adds on top of the trend and
    // the cycles before it, so trend + seasonal = expected and the remainder is what is left.
    let trend = scale.all_units(&fitted.trend);
    let mut reached = fitted.trend.clone();
    let seasonal = fitted
        .seasonal
        .iter()
        .map(|s| {
            let values = match scale {
                Scale::Units => s.values.clone(),
                Scale::Log => reached
                    .iter_mut()
                    .zip(&s.values)
                    .map(|(level, v)| {
                        let before = scale.units(*level);
                        *level += v;
                        scale.units(*level) - before
                    })
                    .collect(),
            };
            Seasonal { period: s.period, strength: s.strength, values }
        })
        .collect();
    let remainder_units = filled_units.iter().zip(&expected_units).map(|(a, e)| a - e).collect();
    let model = match scale {
        Scale::Units => fitted.model.clone(),
        Scale::Log => format!("{} on logs (multiplicative)", fitted.model),
    };
    Ok(TrendAnalysis {
        filled: filled_units,
        imputed,
        set_aside: suspects.len(),
        detected_periods,
        seasonal,
        trend,
        remainder: remainder_units,
        expected: expected_units,
        one_step: one_step.point,
        one_step_lower,
        one_step_upper,
        anomalies,
        incidents,
        changepoints,
        linear,
        forecast: ForecastBands { point, lower80, upper80, lower95, upper95 },
        projection,
        model,
        model_range: (0, values.len()),
    })
}

/// Runs [`analyze`] over a series' complete periods, with the metric's natural bounds (counts
/// are never negative, rates stay in 0–1) unless `params` sets its own, and re-aligns every
/// result with the whole series.
pub fn analyze_series(series: &Series, params: &TrendParams) -> Result<TrendAnalysis, TrendError> {
    let (start, end) = series.complete;
    let values = series.values.get(start..end).unwrap_or_default();
    let mut analysis = analyze(values, series.granularity.natural_periods(), params)?;
    let n = series.values.len();
    let pad = |v: &mut Vec<f64>| {
        let mut full = vec![f64::NAN; start];
        full.append(v);
        full.resize(n, f64::NAN);
        *v = full;
    };
    for v in [
        &mut analysis.filled, &mut analysis.trend, &mut analysis.remainder, &mut analysis.expected,
        &mut analysis.one_step, &mut analysis.one_step_lower, &mut analysis.one_step_upper,
    ] {
        pad(v);
    }
    for seasonal in &mut analysis.seasonal {
        pad(&mut seasonal.values);
    }
    for anomaly in &mut analysis.anomalies {
        anomaly.index += start;
    }
    for incident in &mut analysis.incidents {
        incident.start += start;
        incident.end += start;
        incident.peak += start;
    }
    for changepoint in &mut analysis.changepoints {
        changepoint.index += start;
    }
    if let Some(linear) = &mut analysis.linear {
        // Refer the line to series indices.
        linear.intercept -= linear.slope * start as f64;
    }
    analysis.model_range = (start, end);
    Ok(analysis)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    /// 140 days: level 100, weekly cycle ±15, noise σ 3, seeded.
    pub(super) fn weekly(seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..140)
            .map(|i| {
                let noise: f64 = rng.sample(StandardNormal);
                100.0 + 15.0 * (std::f64::consts::TAU * i as f64 / 7.0).sin() + 3.0 * noise
            })
            .collect()
    }

    #[test]
    fn a_spike_on_a_series_without_noise_is_flagged() {
        // Differences a week apart are all zero: the noise is zero, and the spike is judged by
        // the rounding floor.
        let week = [100.0, 104.0, 106.0, 105.0, 102.0, 92.0, 91.0];
        let mut y: Vec<f64> = (0..70).map(|i| week[i % 7]).collect();
        y[40] += 30.0;
        let a = analyze(&y, &[7], &TrendParams::default()).unwrap();
        assert_eq!(a.anomalies.iter().map(|x| (x.index, x.by_remainder)).collect::<Vec<_>>(), vec![(40, true)], "{:?}", a.anomalies);
    }

    #[test]
    fn weekly_cycle_is_found_and_a_quiet_series_has_no_anomalies() {
        let y = weekly(1);
        let a = analyze(&y, &[7], &TrendParams::default()).unwrap();
        assert_eq!(a.seasonal.iter().map(|s| s.period).collect::<Vec<_>>(), vec![7]);
        assert!(a.seasonal[0].strength > 0.8);
        assert!(a.anomalies.is_empty(), "{:?}", a.anomalies);
        assert!(a.changepoints.is_empty(), "{:?}", a.changepoints);
        assert_eq!(a.forecast.point.len(), 14);
        for i in 0..14 {
            assert!(a.forecast.lower95[i] <= a.forecast.lower80[i] && a.forecast.lower80[i] <= a.forecast.point[i]);
            assert!(a.forecast.point[i] <= a.forecast.upper80[i] && a.forecast.upper80[i] <= a.forecast.upper95[i]);
        }
        // The forecast keeps the weekly shape: day 140 + k has the phase of day k.
        let truth = |i: usize| 100.0 + 15.0 * (std::f64::consts::TAU * i as f64 / 7.0).sin();
        let mae: f64 = (0..14).map(|k| (a.forecast.point[k] - truth(140 + k)).abs()).sum::<f64>() / 14.0;
        assert!(mae < 4.0, "forecast MAE {mae}");
    }

    #[test]
    fn a_spike_becomes_one_incident_with_its_excess() {
        let mut y = weekly(2);
        for v in &mut y[90..93] {
            *v += 60.0;
        }
        let a = analyze(&y, &[7], &TrendParams::default()).unwrap();
        assert_eq!(a.incidents.len(), 1, "{:?}", a.incidents);
        let incident = &a.incidents[0];
        assert_eq!((incident.start, incident.end), (90, 92));
        assert_eq!(incident.direction, Direction::Spike);
        assert!((incident.excess - 180.0).abs() < 30.0, "excess {}", incident.excess);
    }

    #[test]
    fn a_positive_series_is_modelled_in_logs_and_reported_in_units() {
        // 140 days growing 1 % a day, Saturdays 30 % busier, 2 % noise.
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let y: Vec<f64> = (0..140)
            .map(|i| 100.0 * 1.01f64.powi(i) * if i % 7 == 5 { 1.3 } else { 1.0 } * (1.0 + 0.02 * rng.sample::<f64, _>(StandardNormal)))
            .collect();
        let a = analyze(&y, &[7], &TrendParams::default()).unwrap();
        assert!(a.model.ends_with("on logs (multiplicative)"), "{}", a.model);
        for (i, &v) in y.iter().enumerate() {
            assert!((a.filled[i] - v).abs() < 1e-9 * v);
            let parts = a.trend[i] + a.seasonal.iter().map(|s| s.values[i]).sum::<f64>() + a.remainder[i];
            assert!((parts - v).abs() < 1e-9 * v, "{i}: {parts} vs {v}");
            assert!((a.expected[i] + a.remainder[i] - v).abs() < 1e-9 * v);
        }
        // The Saturday lift grows with the level (1.01^133 ≈ 3.8 times from the first to the last).
        let (first, last) = (a.seasonal[0].values[5], a.seasonal[0].values[138]);
        assert!(first > 0.0 && (3.0..4.6).contains(&(last / first)), "{first} → {last}");
        assert!(a.anomalies.is_empty(), "{:?}", a.anomalies);
        // Forecasts and bands are in units, ordered, and continue the level.
        assert!(a.forecast.point[0] > 0.7 * a.expected[139] && a.forecast.point[0] < 1.5 * a.expected[139]);
        assert!(a.forecast.lower95[0] < a.forecast.point[0] && a.forecast.point[0] < a.forecast.upper95[0]);
        // A zero keeps a series in its units.
        let mut with_zero = y.clone();
        with_zero[3] = 0.0;
        assert!(!analyze(&with_zero, &[7], &TrendParams::default()).unwrap().model.contains("logs"));
    }

    #[test]
    fn a_level_shift_is_a_changepoint() {
        let mut y = weekly(3);
        for v in &mut y[70..] {
            *v += 40.0;
        }
        let a = analyze(&y, &[7], &TrendParams::default()).unwrap();
        assert!(a.changepoints.iter().any(|c| c.index.abs_diff(70) <= 2 && c.after - c.before > 30.0), "{:?}", a.changepoints);
        // A smoother cannot follow a step exactly: only the points at the step may stand out.
        assert!(a.anomalies.iter().all(|x| x.index.abs_diff(70) <= 3), "{:?}", a.anomalies);
    }

    #[test]
    fn a_level_shift_is_read_at_the_cut_and_a_steady_slope_has_none() {
        // One slope and a step: read exactly, whatever the segments' lengths.
        let line = |i: usize| 10.0 + 0.5 * i as f64;
        let stepped: Vec<f64> = (0..60).map(|i| line(i) + if i >= 20 { 7.0 } else { 0.0 }).collect();
        let shift = level_shift(&stepped, 0, 20, 60).unwrap();
        assert!((shift.before - line(20) + 0.5 * 0.5).abs() < 1e-9 && (shift.after - shift.before - 7.0).abs() < 1e-9, "{} {}", shift.before, shift.after);
        let steady: Vec<f64> = (0..60).map(line).collect();
        let none = level_shift(&steady, 5, 20, 60).unwrap();
        assert!((none.after - none.before).abs() < 1e-9);
        // d's standard error per unit noise: √(1/n₁ + 1/n₂ + (mean gap)² / Sxx within) for equal
        // slopes, here 15 and 40 points.
        let (n1, n2) = (15.0f64, 40.0f64);
        let sxx = (n1 * (n1 * n1 - 1.0) + n2 * (n2 * n2 - 1.0)) / 12.0;
        let gap = (n1 + n2) / 2.0;
        assert!((none.unscaled_error - (1.0 / n1 + 1.0 / n2 + gap * gap / sxx).sqrt()).abs() < 1e-9);
        // Too few points for three parameters.
        assert!(level_shift(&steady, 19, 20, 21).is_none());
    }

    #[test]
    fn a_running_median_passes_over_a_short_run_and_follows_a_line() {
        // A line with a two-point excursion: the window of 5 takes the line's values near them
        // (5: the median of 6, 8, 100, 90, 14; 6: of 8, 100, 90, 14, 16), not the excursion's.
        let mut y: Vec<f64> = (0..12).map(|i| 2.0 * i as f64).collect();
        y[5] = 100.0;
        y[6] = 90.0;
        let smooth = running_median(&y, 2);
        assert_eq!(smooth[5], 14.0);
        assert_eq!(smooth[6], 16.0);
        assert_eq!(smooth[9], 18.0);
        // Near the ends the window shrinks symmetrically (index 1: the median of 0, 2, 4); each end
        // takes Tukey's rule: the median of itself, its neighbour's smooth and that extrapolated.
        assert_eq!(smooth[1], 2.0);
        assert_eq!(smooth[0], 0.0);
        // A spike at the end: the median of 500, 20 and 3 · 20 − 2 · 18 (the line through the
        // smooth, which brackets the end's own value on a line, extrapolated two steps).
        let mut spiked = y.clone();
        spiked[11] = 500.0;
        assert_eq!(running_median(&spiked, 2)[11], 24.0);
        assert_eq!(running_median(&y, 2)[11], 22.0);
        assert_eq!(running_median(&[3.0, 1.0], 2), vec![3.0, 1.0]);
    }

    #[test]
    fn projection_gives_goal_probabilities() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let y: Vec<f64> = (0..60).map(|i| 50.0 + i as f64 + 2.0 * rng.sample::<f64, _>(StandardNormal)).collect();
        let params = TrendParams { horizon: 10, target: Some(119.0), ..TrendParams::default() };
        let a = analyze(&y, &[], &params).unwrap();
        let p = a.projection.unwrap();
        assert_eq!(p.steps, 10);
        assert!((p.value - 119.5).abs() < 3.0, "{p:?}");
        assert!(p.lower80 < p.value && p.value < p.upper80);
        let prob = p.probability.unwrap();
        assert!(prob > 0.3 && prob < 0.8, "{prob}");
        let unreachable = analyze(&y, &[], &TrendParams { target: Some(400.0), ..params.clone() }).unwrap();
        assert!(unreachable.projection.unwrap().probability.unwrap() < 0.01);
        let linear = a.linear.unwrap();
        assert!((linear.slope - 1.0).abs() < 0.05 && linear.r_squared > 0.95 && linear.p_value < 1e-10);
    }

    #[test]
    fn degenerate_series_never_panic() {
        let p = TrendParams::default();
        assert!(matches!(analyze(&[1.0; 5], &[7], &p), Err(TrendError::TooShort { found: 5 })));
        assert!(matches!(analyze(&[f64::NAN; 30], &[7], &p), Err(TrendError::TooShort { found: 0 })));
        for series in [vec![0.0; 30], vec![5.0; 200], (0..30).map(|i| if i % 10 == 0 { 1.0 } else { 0.0 }).collect(), vec![1e12; 40]] {
            let _ = analyze(&series, &[7], &p);
            let _ = analyze(&series, &[24, 168], &p);
        }
        // A noise-free cycle: rounding in the f32 decomposition is not an anomaly.
        let exact: Vec<f64> = (0..28).map(|i| 9.0 + (i % 7) as f64).collect();
        assert!(analyze(&exact, &[7], &p).unwrap().anomalies.is_empty());
        let mut gappy = weekly(4);
        for i in (0..140).step_by(5) {
            gappy[i] = f64::NAN;
        }
        let a = analyze(&gappy, &[7], &p).unwrap();
        assert_eq!(a.imputed, 28);
        assert!(a.anomalies.iter().all(|x| x.index % 5 != 0));
        assert!(matches!(analyze(&gappy, &[7], &TrendParams { sensitivity: 0.0, ..p.clone() }), Err(TrendError::BadSensitivity(_))));
    }
}
