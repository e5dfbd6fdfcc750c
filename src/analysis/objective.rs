//! Objectives with achievable key results: where a metric (or a prevalence estimated from
//! labels) is heading by a date, with the 80 % interval of the Trends tab's own forecast, and
//! how large an intervention's effect would have to be to reach a chosen target instead.
//!
//! The series is the one Trends or the prevalence per period would show; the projection is
//! [`super::trend::models::analyze`]'s (MSTL with the natural cycle, AutoETS forecast, the
//! metric's bounds), so this tab and Trends never disagree about the same series and horizon.

use serde::{Deserialize, Serialize};

use super::contract::{has_column, missing_column, Analysis, FitColumns, Progress, Stopped, Weights};
use super::prevalence::{Prevalence, PrevalenceError, PrevalenceParams};
use super::series::{build_series_in_steps, Granularity, Metric, SeriesError, SeriesParams};
use super::trend::{analyze, Projection, TrendError, TrendParams, MAX_HORIZON};
use crate::data::table::{ColumnType, Table};
use crate::data::time::{format_date_ms, DAY_MS};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ObjectiveSource {
    /// A metric over time (events, a sum, a mean…) per day or week.
    Metric { time_column: String, metric: Metric, granularity: Granularity },
    /// The prevalence per period from labelled rows (its `time` column must be set).
    Prevalence(PrevalenceParams),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveParams {
    pub source: ObjectiveSource,
    /// The date the objective is due (UTC ms): the projection is for the period holding it.
    pub by_ms: i64,
    /// The value the team wants to reach by then.
    #[serde(default)]
    pub target: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ObjectiveError {
    #[error("choose {0}")]
    Choose(String),
    #[error("per day or per week only")]
    Granularity,
    #[error("{0}")]
    Series(SeriesError),
    #[error("{0}")]
    Prevalence(PrevalenceError),
    #[error("{0}")]
    Trend(TrendError),
    #[error("the date must be after the last complete period ({0})")]
    NotAfter(String),
    #[error("the date is {0} periods ahead; the forecast reaches {MAX_HORIZON} at most")]
    TooFar(usize),
    #[error("stopped before it finished")]
    Stopped,
}

impl From<Stopped> for ObjectiveError {
    fn from(_: Stopped) -> Self {
        Self::Stopped
    }
}

/// What reaching the target takes, against the projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Needed {
    /// Target − projected value.
    pub absolute: f64,
    /// Of the projected value (None when it is 0).
    pub relative: Option<f64>,
    /// The target lies inside the projection's 80 % interval: the current trend may reach it
    /// without any intervention.
    pub within_reach: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveReport {
    pub label: String,
    pub bucket_ms: i64,
    /// The periods modelled and their values (NaN: a period without one).
    pub starts_ms: Vec<i64>,
    #[serde(with = "super::nan_serde")]
    pub values: Vec<f64>,
    /// The forecast per period after the last, up to the due date's period.
    pub forecast_starts_ms: Vec<i64>,
    #[serde(with = "super::nan_serde")]
    pub forecast: Vec<f64>,
    #[serde(with = "super::nan_serde")]
    pub lower80: Vec<f64>,
    #[serde(with = "super::nan_serde")]
    pub upper80: Vec<f64>,
    pub projection: Projection,
    pub by_ms: i64,
    pub target: Option<f64>,
    pub needed: Option<Needed>,
    pub notes: Vec<String>,
}

pub struct Objective;

impl Analysis for Objective {
    const NAME: &'static str = "objective";
    const TITLE: &'static str = "Objective";
    const WEIGHTED: bool = true;
    const IN_LINK: bool = true;
    type Params = ObjectiveParams;
    type Report = ObjectiveReport;
    type Error = ObjectiveError;

    fn fit_link(params: ObjectiveParams, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<ObjectiveParams> {
        params.fit_columns(columns, notices)
    }

    fn check(params: &ObjectiveParams) -> Result<(), ObjectiveError> {
        match &params.source {
            ObjectiveSource::Metric { time_column, granularity, .. } => {
                if time_column.is_empty() {
                    return Err(ObjectiveError::Choose("the time column".into()));
                }
                if !matches!(granularity, Granularity::Day | Granularity::Week) {
                    return Err(ObjectiveError::Granularity);
                }
            }
            ObjectiveSource::Prevalence(p) => {
                if p.time.as_deref().is_none_or(str::is_empty) {
                    return Err(ObjectiveError::Choose("the prevalence's time column".into()));
                }
                Prevalence::check(p).map_err(ObjectiveError::Prevalence)?;
            }
        }
        if params.target.is_some_and(|t| !t.is_finite()) {
            return Err(ObjectiveError::Choose("a finite target".into()));
        }
        Ok(())
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &ObjectiveParams, progress: &mut impl Progress) -> Result<ObjectiveReport, ObjectiveError> {
        progress.step("series", "The series per period", 0.0).await?;
        // (label, bucket, starts, values, natural cycles, bounds)
        let (label, bucket_ms, starts_ms, values, natural, bounds) = match &params.source {
            ObjectiveSource::Metric { time_column, metric, granularity } => {
                let series_params = SeriesParams { time_column: time_column.clone(), metric: metric.clone(), granularity: *granularity, utc_offset_minutes: 0, time_zone: None, split: None };
                let series = build_series_in_steps(table, rows, weights, &series_params, progress).await.map_err(|e| match e {
                    SeriesError::Stopped => ObjectiveError::Stopped,
                    other => ObjectiveError::Series(other),
                })?;
                let (first, end) = series.complete;
                let end = end.min(series.starts_ms.len());
                let bucket = if *granularity == Granularity::Week { 7 * DAY_MS } else { DAY_MS };
                let bounds = match metric {
                    Metric::Count | Metric::Distinct { .. } => (Some(0.0), None),
                    Metric::Rate { .. } => (Some(0.0), Some(1.0)),
                    _ => (None, None),
                };
                (series.metric_label.clone(), bucket, series.starts_ms[first.min(end)..end].to_vec(), series.values[first.min(end)..end].to_vec(), granularity.natural_periods(), bounds)
            }
            ObjectiveSource::Prevalence(p) => {
                let report = Prevalence::run(table, rows, weights, p, progress).await.map_err(|e| match e {
                    PrevalenceError::Stopped => ObjectiveError::Stopped,
                    other => ObjectiveError::Prevalence(other),
                })?;
                let over = report.over_time.ok_or_else(|| ObjectiveError::Choose("the prevalence's time column".into()))?;
                let bucket = over.bucket_ms.max(1);
                let (Some(first), Some(last)) = (over.periods.first(), over.periods.last()) else {
                    return Err(ObjectiveError::Trend(TrendError::TooShort { found: 0 }));
                };
                let n = ((last.start_ms - first.start_ms) / bucket) as usize + 1;
                if n > MAX_HORIZON * 10 {
                    return Err(ObjectiveError::TooFar(n));
                }
                let starts: Vec<i64> = (0..n).map(|i| first.start_ms + i as i64 * bucket).collect();
                let mut values = vec![f64::NAN; n];
                for period in &over.periods {
                    if let Some(slot) = values.get_mut(((period.start_ms - first.start_ms) / bucket) as usize) {
                        *slot = period.estimate.estimate;
                    }
                }
                let granularity = if bucket >= 7 * DAY_MS { Granularity::Week } else { Granularity::Day };
                // Named as the prevalence's headline names it: the positive classes, then their column.
                let name = if report.positive.is_empty() { format!("prevalence of {}", report.label) } else { format!("prevalence of {} ({})", report.positive.join(", "), report.label) };
                (name, bucket, starts, values, granularity.natural_periods(), (Some(0.0), Some(1.0)))
            }
        };
        progress.step("forecast", "The trend's projection", 0.8).await?;
        let last = *starts_ms.last().ok_or(ObjectiveError::Trend(TrendError::TooShort { found: 0 }))?;
        if params.by_ms < last + bucket_ms {
            return Err(ObjectiveError::NotAfter(format_date_ms(last)));
        }
        let steps = ((params.by_ms - last) / bucket_ms) as usize;
        if steps > MAX_HORIZON {
            return Err(ObjectiveError::TooFar(steps));
        }
        let trend_params = TrendParams { horizon: steps, target: params.target, lower_bound: bounds.0, upper_bound: bounds.1, ..TrendParams::default() };
        let analysis = analyze(&values, natural, &trend_params).map_err(ObjectiveError::Trend)?;
        let projection = analysis.projection.ok_or(ObjectiveError::Trend(TrendError::TooShort { found: 0 }))?;
        let needed = params.target.map(|t| Needed {
            absolute: t - projection.value,
            relative: (projection.value != 0.0).then(|| (t - projection.value) / projection.value),
            within_reach: (projection.lower80..=projection.upper80).contains(&t),
        });
        let mut notes = Vec::new();
        if analysis.imputed > 0 {
            notes.push(format!("{} periods without a value were filled between their neighbours", analysis.imputed));
        }
        Ok(ObjectiveReport {
            label,
            bucket_ms,
            forecast_starts_ms: (1..=steps).map(|s| last + s as i64 * bucket_ms).collect(),
            forecast: analysis.forecast.point.clone(),
            lower80: analysis.forecast.lower80.clone(),
            upper80: analysis.forecast.upper80.clone(),
            starts_ms,
            values,
            projection,
            by_ms: params.by_ms,
            target: params.target,
            needed,
            notes,
        })
    }
}

impl FitColumns for ObjectiveParams {
    fn fit_columns(self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        match &self.source {
            ObjectiveSource::Metric { time_column, metric, .. } => {
                let mut needed = vec![time_column.as_str()];
                needed.extend(metric.columns());
                for column in needed {
                    if !has_column(columns, column) {
                        notices.push(missing_column("objective settings", column));
                        return None;
                    }
                }
                Some(self)
            }
            ObjectiveSource::Prevalence(p) => {
                let fitted = p.clone().fit_columns(columns, notices)?;
                Some(ObjectiveParams { source: ObjectiveSource::Prevalence(fitted), ..self })
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::analysis::contract::run_now;
    use crate::analysis::labels::LabelSpec;
    use crate::data::load::{load_bytes, LoadOptions};
    use crate::data::time::format_iso_ms;

    const START: i64 = 1_780_272_000_000; // 2026-06-01

    /// 90 days: events growing by 1 a day over 40 with a weekly cycle; every tenth event labelled,
    /// positive with a probability falling from 10 % to 4 %.
    fn table() -> Table {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut csv = String::from("created_at,label\n");
        for day in 0..90i64 {
            let n = 40 + day + if day % 7 == 5 { 15 } else { 0 } + rng.gen_range(0..5);
            for k in 0..n {
                let p = 0.10 - 0.06 * day as f64 / 90.0;
                let label = if k % 10 == 0 { if rng.gen::<f64>() < p { "violating" } else { "fine" } } else { "" };
                csv.push_str(&format!("{},{label}\n", format_iso_ms(START + day * DAY_MS + k * 1000)));
            }
        }
        load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
    }

    #[test]
    fn the_projection_is_the_trends_one_and_the_needed_effect_its_gap_to_the_target() {
        let table = table();
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let by = START + 119 * DAY_MS + 3_600_000;
        let params = ObjectiveParams { source: ObjectiveSource::Metric { time_column: "created_at".into(), metric: Metric::Count, granularity: Granularity::Day }, by_ms: by, target: Some(100.0) };
        let report = run_now::<Objective>(&table, &rows, &params).unwrap();
        // The last day ends after a few minutes: incomplete, not modelled (as in Trends).
        assert_eq!(report.starts_ms.len(), 89);
        assert_eq!(report.forecast.len(), 31);
        assert_eq!(*report.forecast_starts_ms.last().unwrap(), START + 119 * DAY_MS);
        // The same models on the same series and horizon as Trends: bit-equal.
        let direct = analyze(&report.values, &[7], &TrendParams { horizon: 31, target: Some(100.0), lower_bound: Some(0.0), ..TrendParams::default() }).unwrap();
        assert_eq!(Some(&report.projection), direct.projection.as_ref());
        // About 40 + 119 + a weekday's noise: well above 100.
        let p = &report.projection;
        assert!((150.0..175.0).contains(&p.value) && p.lower80 < p.value && p.value < p.upper80, "{p:?}");
        let needed = report.needed.as_ref().unwrap();
        assert_eq!(needed.absolute, 100.0 - p.value);
        assert_eq!(needed.relative, Some((100.0 - p.value) / p.value));
        assert!(!needed.within_reach);
        let too_early = ObjectiveParams { by_ms: START + 88 * DAY_MS + 5, ..params.clone() };
        assert!(matches!(run_now::<Objective>(&table, &rows, &too_early), Err(ObjectiveError::NotAfter(_))));
        let too_far = ObjectiveParams { by_ms: START + 2000 * DAY_MS, ..params };
        assert!(matches!(run_now::<Objective>(&table, &rows, &too_far), Err(ObjectiveError::TooFar(_))));
    }

    #[test]
    fn a_prevalence_objective_projects_the_estimate_per_period() {
        let table = table();
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let prevalence = PrevalenceParams { time: Some("created_at".into()), ..PrevalenceParams::of(LabelSpec { column: "label".into(), positive: vec!["violating".into()] }) };
        let params = ObjectiveParams { source: ObjectiveSource::Prevalence(prevalence.clone()), by_ms: START + 120 * DAY_MS, target: Some(0.03) };
        let report = run_now::<Objective>(&table, &rows, &params).unwrap();
        let direct = run_now::<Prevalence>(&table, &rows, &prevalence).unwrap();
        let per_day: Vec<f64> = direct.over_time.unwrap().periods.iter().map(|p| p.estimate.estimate).collect();
        assert_eq!(report.values, per_day);
        let p = &report.projection;
        assert!((0.0..=1.0).contains(&p.lower80) && p.upper80 <= 1.0, "bounded as a rate: {p:?}");
        assert_eq!(report.label, "prevalence of violating (label)");
        let no_time = ObjectiveParams { source: ObjectiveSource::Prevalence(PrevalenceParams { time: None, ..prevalence }), ..params };
        assert!(matches!(Objective::check(&no_time), Err(ObjectiveError::Choose(_))));
    }
}
