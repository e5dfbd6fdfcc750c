//! The impact of an intervention (a launch, a policy, a new classifier) on a metric, by
//! difference in differences: the metric per period in each group of a split (countries,
//! surfaces), the treated groups against control groups the launch did not touch, before and
//! after the intervention.
//!
//! ```text
//! y_gt = α + β·treated_g + γ·after_t + δ·(treated_g × after_t) + ε_gt     δ: the effect
//! ```
//!
//! One observation per group and complete period, fitted by the regression's least squares;
//! standard errors cluster-robust by group (CR1: `G/(G − 1) · (N − 1)/(N − K)`, as statsmodels'
//! `cov_type="cluster"`), the interval and p-value from Student's t with `G − 1` degrees of
//! freedom (statsmodels' `use_t=True`: few clusters, honest intervals). Before trusting δ, the
//! parallel-trends check: the treated − control gap's slope over the periods before.

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::bsts::{BstsError, BstsSettings, Counterfactual, Sampler};
use super::contract::{has_column, missing_column, Analysis, FitColumns, Progress, Weights};
use super::regression::{ols_clustered, t_quantile, t_two_sided, RegressionError};
use super::series::{build_series_in_steps, Granularity, Metric, SeriesError, SeriesParams, SplitParams, MAX_SPLIT, OTHER};
use crate::data::table::{ColumnType, Table, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImpactParams {
    pub time_column: String,
    pub metric: Metric,
    #[serde(default = "day")]
    pub granularity: Granularity,
    /// The column whose values are the groups.
    pub split: String,
    /// Groups the intervention reached.
    pub treated: Vec<String>,
    /// Groups it did not reach; empty: every other group (the most frequent ones, the rest as
    /// one group).
    #[serde(default)]
    pub control: Vec<String>,
    /// When it took effect (UTC ms): periods starting at or after it are "after".
    pub intervention_ms: i64,
    /// The Bayesian structural time-series counterfactual of the treated groups' mean, with the
    /// control groups as regressors (CausalImpact); `None`: difference in differences only.
    #[serde(default = "some_counterfactual")]
    pub counterfactual: Option<BstsSettings>,
}

fn some_counterfactual() -> Option<BstsSettings> {
    Some(BstsSettings::default())
}

fn day() -> Granularity {
    Granularity::Day
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ImpactError {
    #[error("choose {0}")]
    Choose(String),
    #[error("at most {MAX_SPLIT} treated and control groups in all (chose {0})")]
    TooManyGroups(usize),
    #[error("“{0}” is both treated and control")]
    Both(String),
    #[error("{0}")]
    Series(SeriesError),
    #[error("“{value}” is not a value of “{column}” in the selected rows (or not among its {MAX_SPLIT} most frequent)")]
    NoGroup { column: String, value: String },
    #[error("no control group: every group was treated")]
    NoControl,
    #[error("the data has no complete period {0} the intervention; move it, or widen the filter")]
    NoPeriods(String),
    #[error("{0} groups: a cluster-robust error needs at least 3 (treated and control together)")]
    TooFewGroups(usize),
    #[error("{0}")]
    Regression(RegressionError),
    #[error("counterfactual: {0}")]
    Counterfactual(BstsError),
    #[error("stopped before it finished")]
    Stopped,
}

impl From<super::contract::Stopped> for ImpactError {
    fn from(_: super::contract::Stopped) -> Self {
        Self::Stopped
    }
}

impl From<SeriesError> for ImpactError {
    fn from(err: SeriesError) -> Self {
        match err {
            SeriesError::Stopped => Self::Stopped,
            other => Self::Series(other),
        }
    }
}

/// One group's means before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    pub name: String,
    pub treated: bool,
    pub before: f64,
    pub after: f64,
}

/// The difference-in-differences estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiD {
    /// δ: the change in the treated groups beyond the change in the control groups.
    pub effect: f64,
    pub std_error: f64,
    pub t: f64,
    pub p_value: f64,
    pub low: f64,
    pub high: f64,
    /// `G − 1`.
    pub df: f64,
    pub clusters: usize,
    pub observations: usize,
    /// Mean of the treated groups before and after, of the control groups before and after.
    pub treated_before: f64,
    pub treated_after: f64,
    pub control_before: f64,
    pub control_after: f64,
    /// The effect relative to where the treated groups would be without it
    /// (`treated_before + control_after − control_before`); `None` when that is 0.
    pub relative: Option<f64>,
}

/// Whether treated and control moved alike before the intervention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreTrend {
    /// Slope of (treated − control) per period before, and its two-sided p-value.
    pub slope: f64,
    pub p_value: f64,
    pub periods: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImpactReport {
    pub metric_label: String,
    pub granularity: Granularity,
    pub intervention_ms: i64,
    /// Complete periods used, and the mean of the treated and of the control groups in each.
    pub starts_ms: Vec<i64>,
    #[serde(with = "super::nan_serde")]
    pub treated_mean: Vec<f64>,
    #[serde(with = "super::nan_serde")]
    pub control_mean: Vec<f64>,
    pub groups: Vec<GroupRow>,
    pub did: DiD,
    pub pre_trend: Option<PreTrend>,
    /// The counterfactual over `starts_ms` (None when not asked for, or when the series
    /// cannot carry it: then a note says why).
    pub counterfactual: Option<Counterfactual>,
    pub notes: Vec<String>,
}

pub struct Impact;

impl Analysis for Impact {
    const NAME: &'static str = "impact";
    const TITLE: &'static str = "Impact";
    const WEIGHTED: bool = true;
    const IN_LINK: bool = true;
    type Params = ImpactParams;
    type Report = ImpactReport;
    type Error = ImpactError;

    fn fit_link(params: ImpactParams, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<ImpactParams> {
        params.fit_columns(columns, notices)
    }

    fn check(params: &ImpactParams) -> Result<(), ImpactError> {
        if params.time_column.is_empty() {
            return Err(ImpactError::Choose("the time column".into()));
        }
        if params.split.is_empty() {
            return Err(ImpactError::Choose("the column whose values are the groups (country, surface)".into()));
        }
        if params.treated.is_empty() {
            return Err(ImpactError::Choose("the treated groups".into()));
        }
        if let Some(both) = params.treated.iter().find(|t| params.control.contains(t)) {
            return Err(ImpactError::Both(both.clone()));
        }
        if params.treated.len() + params.control.len() > MAX_SPLIT {
            return Err(ImpactError::TooManyGroups(params.treated.len() + params.control.len()));
        }
        if let Some(settings) = &params.counterfactual {
            settings.check().map_err(ImpactError::Counterfactual)?;
        }
        Ok(())
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &ImpactParams, progress: &mut impl Progress) -> Result<ImpactReport, ImpactError> {
        progress.step("series", "The metric per group and period", 0.0).await?;
        let split = table.column(&params.split).ok_or_else(|| ImpactError::Series(SeriesError::UnknownColumn(params.split.clone())))?;
        // With named controls, only their rows and the treated rows: each chosen group is its own.
        let chosen: Vec<u32> = if params.control.is_empty() {
            rows.to_vec()
        } else {
            rows.iter()
                .copied()
                .filter(|&r| match split.value(r as usize) {
                    Value::Missing => false,
                    v => {
                        let v = v.display();
                        params.treated.contains(&v) || params.control.contains(&v)
                    }
                })
                .collect()
        };
        let series_params = SeriesParams {
            time_column: params.time_column.clone(),
            metric: params.metric.clone(),
            granularity: params.granularity,
            utc_offset_minutes: 0,
            time_zone: None,
            split: Some(SplitParams { column: params.split.clone(), top: MAX_SPLIT }),
        };
        let series = build_series_in_steps(table, &chosen, weights, &series_params, progress).await?;
        progress.step("fit", "Difference in differences", 0.8).await?;
        for value in &params.treated {
            if !series.groups.iter().any(|g| &g.label == value) {
                return Err(ImpactError::NoGroup { column: params.split.clone(), value: value.clone() });
            }
        }
        let is_control = |label: &str| if params.control.is_empty() { !params.treated.iter().any(|t| t == label) } else { params.control.iter().any(|c| c == label) };
        let groups: Vec<(&super::series::SeriesGroup, bool)> = series
            .groups
            .iter()
            .filter_map(|g| {
                if params.treated.contains(&g.label) {
                    Some((g, true))
                } else if is_control(&g.label) {
                    Some((g, false))
                } else {
                    None
                }
            })
            .collect();
        if !groups.iter().any(|(_, t)| !t) {
            return Err(ImpactError::NoControl);
        }
        if groups.len() < 3 {
            return Err(ImpactError::TooFewGroups(groups.len()));
        }
        let (first, end) = series.complete;
        let periods: Vec<usize> = (first..end.min(series.starts_ms.len())).collect();
        let after = |i: usize| series.starts_ms.get(i).is_some_and(|&s| s >= params.intervention_ms);
        if !periods.iter().any(|&i| !after(i)) {
            return Err(ImpactError::NoPeriods("before".into()));
        }
        if !periods.iter().any(|&i| after(i)) {
            return Err(ImpactError::NoPeriods("after".into()));
        }
        // The panel: one row per group and complete period with a value.
        let (mut x, mut y, mut clusters) = (Vec::new(), Vec::new(), Vec::new());
        for (k, (group, treated)) in groups.iter().enumerate() {
            for &i in &periods {
                let Some(&value) = group.values.get(i).filter(|v| v.is_finite()) else { continue };
                let (d, a) = (f64::from(u8::from(*treated)), f64::from(u8::from(after(i))));
                x.extend([1.0, d, a, d * a]);
                y.push(value);
                clusters.push(k);
            }
        }
        let n = y.len();
        let x = Array2::from_shape_vec((n, 4), x).map_err(|_| ImpactError::Regression(RegressionError::TooFewRows { rows: n as u64, parameters: 4 }))?;
        let fit = ols_clustered(&x, &Array1::from(y), &clusters).map_err(ImpactError::Regression)?;
        let effect = fit.beta[3];
        let se = fit.cov[[3, 3]].max(0.0).sqrt();
        let df = (groups.len() - 1) as f64;
        let q = t_quantile(0.975, df);
        let mean_of = |treated: bool, later: bool| {
            finite_mean(groups.iter().filter(|(_, t)| *t == treated).flat_map(|(g, _)| periods.iter().filter(move |&&i| after(i) == later).filter_map(move |&i| g.values.get(i).copied()))).unwrap_or(0.0)
        };
        let (tb, ta, cb, ca) = (mean_of(true, false), mean_of(true, true), mean_of(false, false), mean_of(false, true));
        let counterfactual = tb + ca - cb;
        let did = DiD {
            effect,
            std_error: se,
            t: effect / se,
            p_value: t_two_sided(effect / se, df),
            low: effect - q * se,
            high: effect + q * se,
            df,
            clusters: groups.len(),
            observations: n,
            treated_before: tb,
            treated_after: ta,
            control_before: cb,
            control_after: ca,
            relative: (counterfactual != 0.0).then(|| effect / counterfactual),
        };
        let average = |treated: bool, i: usize| {
            finite_mean(groups.iter().filter(|(_, t)| *t == treated).filter_map(|(g, _)| g.values.get(i).copied())).unwrap_or(f64::NAN)
        };
        let treated_mean: Vec<f64> = periods.iter().map(|&i| average(true, i)).collect();
        let control_mean: Vec<f64> = periods.iter().map(|&i| average(false, i)).collect();
        let gap: Vec<(f64, f64)> = periods.iter().enumerate().filter(|(_, &i)| !after(i)).filter_map(|(k, _)| Some((k as f64, treated_mean.get(k)? - control_mean.get(k)?))).filter(|(_, v)| v.is_finite()).collect();
        let pre_trend = slope(&gap).map(|(slope, p_value)| PreTrend { slope, p_value, periods: gap.len() });
        let mut notes = Vec::new();
        if groups.iter().filter(|(_, t)| *t).count() == 1 {
            notes.push("one treated group: its cluster-robust error leans on the control groups alone; read the interval as a guide".into());
        }
        if groups.iter().any(|(g, _)| g.label == OTHER) {
            notes.push(format!("“{OTHER}” (every less frequent value of “{}”) is one control group", params.split));
        }
        if pre_trend.as_ref().is_some_and(|p| p.p_value < 0.05) {
            notes.push("treated and control groups were already drifting apart before the intervention (pre-trend p < 0.05): the parallel-trends assumption is doubtful".into());
        }
        let counterfactual = match &params.counterfactual {
            Some(settings) => {
                let first_after = periods.iter().position(|&i| after(i)).unwrap_or(periods.len());
                let mut controls = Vec::new();
                let mut gaps = Vec::new();
                for (g, _) in groups.iter().filter(|(_, t)| !t) {
                    let values: Vec<f64> = periods.iter().map(|&i| g.values.get(i).copied().unwrap_or(f64::NAN)).collect();
                    if values.iter().all(|v| v.is_finite()) {
                        controls.push((g.label.clone(), values));
                    } else {
                        gaps.push(g.label.clone());
                    }
                }
                if !gaps.is_empty() {
                    notes.push(format!("the counterfactual leaves out {} (a period without a value)", gaps.iter().map(|g| format!("“{g}”")).collect::<Vec<_>>().join(", ")));
                }
                match Sampler::new(&treated_mean, &controls, first_after, settings) {
                    Ok(mut sampler) => {
                        let total = sampler.iterations();
                        for i in 0..total {
                            if i % 50 == 0 {
                                progress.step("counterfactual", "Sampling the counterfactual (Gibbs)", 0.85 + 0.15 * i as f64 / total as f64).await?;
                            }
                            sampler.step();
                        }
                        Some(sampler.finish(&treated_mean))
                    }
                    Err(e) => {
                        notes.push(format!("no counterfactual: {e}"));
                        None
                    }
                }
            }
            None => None,
        };
        Ok(ImpactReport {
            metric_label: series.metric_label.clone(),
            granularity: series.granularity,
            intervention_ms: params.intervention_ms,
            starts_ms: periods.iter().filter_map(|&i| series.starts_ms.get(i).copied()).collect(),
            treated_mean,
            control_mean,
            groups: groups.iter().map(|(g, t)| GroupRow { name: g.label.clone(), treated: *t, before: mean_group(g, &periods, &after, false), after: mean_group(g, &periods, &after, true) }).collect(),
            did,
            pre_trend,
            counterfactual,
            notes,
        })
    }
}

fn mean_group(group: &super::series::SeriesGroup, periods: &[usize], after: &impl Fn(usize) -> bool, later: bool) -> f64 {
    finite_mean(periods.iter().filter(|&&i| after(i) == later).filter_map(|&i| group.values.get(i).copied())).unwrap_or(f64::NAN)
}

/// The mean of the finite values, if any.
fn finite_mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.filter(|v| v.is_finite()).fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// OLS slope of `points` and its two-sided p-value (t with n − 2 degrees of freedom).
fn slope(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 3 {
        return None;
    }
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    let rss: f64 = points.iter().map(|p| (p.1 - my - b * (p.0 - mx)).powi(2)).sum();
    let se = (rss / (n - 2.0) / sxx).sqrt();
    Some((b, if se > 0.0 { t_two_sided(b / se, n - 2.0) } else if b == 0.0 { 1.0 } else { 0.0 }))
}

impl FitColumns for ImpactParams {
    fn fit_columns(self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        let mut needed = vec![self.time_column.as_str(), self.split.as_str()];
        needed.extend(self.metric.columns());
        for column in needed {
            if !has_column(columns, column) {
                notices.push(missing_column("impact settings", column));
                return None;
            }
        }
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_trend_slope_and_p_equal_scipy_linregress() {
        let close = |ours: f64, theirs: f64| assert!((ours - theirs).abs() <= 1e-9 * theirs.abs().max(1e-12), "ours {ours}, scipy {theirs}");
        let points = |ys: &[f64]| ys.iter().enumerate().map(|(x, &y)| (x as f64, y)).collect::<Vec<_>>();
        // scipy.stats.linregress(range(5), [1, 1.4, 1.1, 2, 1.9]) and of eight flat points.
        let (b, p) = slope(&points(&[1.0, 1.4, 1.1, 2.0, 1.9])).unwrap_or_default();
        close(b, 0.24);
        close(p, 0.079_095_699_382_054_74);
        let (b, p) = slope(&points(&[3.0, 2.9, 3.2, 3.0, 3.1, 2.8, 3.3, 3.0])).unwrap_or_default();
        close(b, 0.010_714_285_714_285_697);
        close(p, 0.697_552_567_685_823_7);
        assert_eq!(slope(&points(&[1.0, 2.0])), None);
    }
}
