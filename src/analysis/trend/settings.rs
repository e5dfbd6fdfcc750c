//! The Trends tab's settings: what the link stores, what the controls edit and what the trend
//! analysis receives — one definition, with its defaults, its ranges and its fit to a table.

use serde::{Deserialize, Serialize};

use super::TrendParams;
use crate::analysis::series::{Granularity, Metric, MetricKind, SeriesError, SeriesParams, SplitParams};
use crate::data::filter::Clause;
use crate::data::table::ColumnType;

/// Ranges the Trends controls offer; values outside are clamped when a link is read.
pub const TREND_TOP: (usize, usize) = (1, 12);
pub const TREND_HORIZON: (usize, usize) = (1, 365);
pub const TREND_SENSITIVITY: (f64, f64) = (1.0, 10.0);
pub const UTC_OFFSET_MINUTES: i32 = 14 * 60;

/// What the Trends tab measures and how it models it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrendSettings {
    /// The time column (`None` until one is chosen).
    pub time: Option<String>,
    pub metric: MetricKind,
    /// The metric's column (sum … distinct) or the rate condition's column.
    pub column: Option<String>,
    /// The value the rate counts (`column = value`).
    pub rate_value: Option<String>,
    /// A ratio's denominator (`column` is its numerator).
    pub denominator: Option<String>,
    pub granularity: Granularity,
    pub utc_offset_minutes: i32,
    /// An IANA zone, replacing the offset.
    pub time_zone: Option<String>,
    pub split: Option<String>,
    /// Split groups shown (the most frequent values); the rest are "other".
    pub top: usize,
    /// A split drawn as small multiples instead of stacked areas.
    pub multiples: bool,
    /// Periods to forecast.
    pub horizon: usize,
    /// Anomaly threshold in robust standard deviations.
    pub sensitivity: f64,
    pub log_trend: bool,
    /// A goal for the projection.
    pub target: Option<f64>,
}

impl Default for TrendSettings {
    fn default() -> Self {
        Self {
            time: None,
            metric: MetricKind::Count,
            column: None,
            rate_value: None,
            denominator: None,
            granularity: Granularity::Auto,
            utc_offset_minutes: 0,
            time_zone: None,
            split: None,
            top: 5,
            multiples: false,
            horizon: 14,
            sensitivity: TrendParams::default().sensitivity,
            log_trend: false,
            target: None,
        }
    }
}

impl TrendSettings {
    /// Changes the granularity, keeping the forecast about as long in time: 14 days become 2
    /// weeks, not 14 weeks (a forecast as long as the history squeezes the data to one side of
    /// the chart). `shown` is the granularity the series on screen was built at (what the
    /// current setting stood for, `Auto` resolved); `span_ms`, the data's time span, says what a
    /// new `Auto` will stand for. Without them, a change from or to `Auto` keeps the horizon.
    pub fn set_granularity(&mut self, granularity: Granularity, shown: Option<Granularity>, span_ms: Option<i64>) {
        let hours = |g: Granularity| match g {
            Granularity::Auto => None,
            Granularity::Hour => Some(1.0),
            Granularity::Day => Some(24.0),
            Granularity::Week => Some(168.0),
            Granularity::Month => Some(730.5),
        };
        let from = shown.or((self.granularity != Granularity::Auto).then_some(self.granularity)).and_then(hours);
        let to = match (granularity, span_ms) {
            (Granularity::Auto, Some(span)) => hours(granularity.resolve(span)),
            _ => hours(granularity),
        };
        if let (Some(from), Some(to), true) = (from, to, self.horizon > 0) {
            self.horizon = ((self.horizon as f64 * from / to).round() as usize).clamp(1, super::models::MAX_HORIZON);
        }
        self.granularity = granularity;
    }

    /// The metric, once its column (and a rate's value) is chosen.
    pub fn metric(&self) -> Option<Metric> {
        let column = self.column.clone();
        Some(match self.metric {
            MetricKind::Count => Metric::Count,
            MetricKind::Sum => Metric::Sum { column: column? },
            MetricKind::Mean => Metric::Mean { column: column? },
            MetricKind::Median => Metric::Median { column: column? },
            MetricKind::P95 => Metric::P95 { column: column? },
            MetricKind::Distinct => Metric::Distinct { column: column? },
            MetricKind::Rate => Metric::Rate { condition: Clause::InSet { column: column?, values: vec![self.rate_value.clone()?], negate: false } },
            MetricKind::Ratio => Metric::Ratio { numerator: column?, denominator: self.denominator.clone()? },
        })
    }

    /// The metric as a change can be explained by parts (count, sum, rate, ratio); others
    /// explain the row count.
    pub fn decomposable_metric(&self) -> Metric {
        match self.metric() {
            Some(metric @ (Metric::Sum { .. } | Metric::Rate { .. } | Metric::Ratio { .. })) => metric,
            _ => Metric::Count,
        }
    }

    /// The series to build, or what is still to choose.
    pub fn series_params(&self) -> Result<SeriesParams, SeriesError> {
        let time_column = self.time.clone().ok_or_else(|| SeriesError::Choose("a time column".into()))?;
        let metric = self.metric().ok_or_else(|| {
            SeriesError::Choose(match (self.metric, &self.column) {
                (MetricKind::Rate, Some(_)) => "the value the rate counts".into(),
                (MetricKind::Ratio, Some(_)) => "the ratio's denominator".into(),
                (MetricKind::Ratio, None) => "the ratio's numerator".into(),
                _ => format!("the column of the {}", self.metric.slug()),
            })
        })?;
        Ok(SeriesParams {
            time_column,
            metric,
            granularity: self.granularity,
            utc_offset_minutes: self.utc_offset_minutes,
            time_zone: self.time_zone.clone(),
            split: self.split.clone().map(|column| SplitParams { column, top: self.top }),
        })
    }

    /// Whether the series can be built (a time column and the metric's column are chosen).
    pub fn is_complete(&self) -> bool {
        self.series_params().is_ok()
    }

    /// What the analysis is asked to run, once the settings are complete: the settings without
    /// display-only choices (small multiples), so that toggling them runs nothing again.
    pub fn job(&self) -> Option<TrendSettings> {
        self.is_complete().then(|| TrendSettings { multiples: false, ..self.clone() })
    }

    /// The models' parameters, with the metric's natural bounds.
    pub fn model_params(&self) -> TrendParams {
        let (lower_bound, upper_bound) = match self.metric {
            MetricKind::Count | MetricKind::Distinct => (Some(0.0), None),
            MetricKind::Rate => (Some(0.0), Some(1.0)),
            _ => (None, None),
        };
        TrendParams { horizon: self.horizon, sensitivity: self.sensitivity, log_trend: self.log_trend, target: self.target, lower_bound, upper_bound }
    }

    /// Brings numbers into the ranges the controls offer and drops an unknown zone; says what
    /// changed.
    pub fn clamp(&mut self, notices: &mut Vec<String>) {
        let top = self.top.clamp(TREND_TOP.0, TREND_TOP.1);
        let horizon = self.horizon.clamp(TREND_HORIZON.0, TREND_HORIZON.1);
        let sensitivity = if self.sensitivity.is_finite() { self.sensitivity.clamp(TREND_SENSITIVITY.0, TREND_SENSITIVITY.1) } else { Self::default().sensitivity };
        let offset = self.utc_offset_minutes.clamp(-UTC_OFFSET_MINUTES, UTC_OFFSET_MINUTES);
        if (top, horizon, offset) != (self.top, self.horizon, self.utc_offset_minutes) || sensitivity.to_bits() != self.sensitivity.to_bits() {
            notices.push("some trend settings were out of range and were brought back into it".into());
        }
        (self.top, self.horizon, self.sensitivity, self.utc_offset_minutes) = (top, horizon, sensitivity, offset);
        if self.target.is_some_and(|t| !t.is_finite()) {
            self.target = None;
        }
        if let Some(name) = self.time_zone.take() {
            // Only the name's form: the tz database lives in the worker, which says when it does
            // not know a zone.
            match crate::analysis::series::plausible_zone_name(&name) {
                true => self.time_zone = Some(name),
                false => notices.push(format!("the time zone {name:?} is not known; the UTC offset is used")),
            }
        }
    }
}


impl crate::analysis::contract::FitColumns for TrendSettings {
    /// Brings numbers into range and drops the columns the table lacks (the rest stays).
    fn fit_columns(mut self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        self.clamp(notices);
        for slot in [&mut self.time, &mut self.column, &mut self.denominator, &mut self.split] {
            if let Some(column) = slot.take_if(|c| !crate::analysis::contract::has_column(columns, c)) {
                notices.push(crate::analysis::contract::missing_column("trend setting", &column));
            }
        }
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::time::DAY_MS;

    #[test]
    fn a_new_granularity_keeps_the_forecast_about_as_long_in_time() {
        let mut s = TrendSettings::default();
        let ninety_days = Some(90 * DAY_MS);
        // Auto was days on screen: 14 days become 2 weeks, and back to Auto (days over 90 days).
        s.set_granularity(Granularity::Week, Some(Granularity::Day), ninety_days);
        assert_eq!((s.granularity, s.horizon), (Granularity::Week, 2));
        s.set_granularity(Granularity::Auto, Some(Granularity::Week), ninety_days);
        assert_eq!(s.horizon, 14);
        // What the series was built at wins over the setting (a cube's days under "hour").
        s.granularity = Granularity::Hour;
        s.set_granularity(Granularity::Week, Some(Granularity::Day), ninety_days);
        assert_eq!(s.horizon, 2);
        // At least one period; at most the analysis's limit; none stays none.
        s.set_granularity(Granularity::Month, Some(Granularity::Week), ninety_days);
        assert_eq!(s.horizon, 1);
        s.horizon = 900;
        s.set_granularity(Granularity::Hour, Some(Granularity::Month), ninety_days);
        assert_eq!(s.horizon, crate::analysis::trend::MAX_HORIZON);
        s.horizon = 0;
        s.set_granularity(Granularity::Day, Some(Granularity::Hour), ninety_days);
        assert_eq!(s.horizon, 0);
        // Nothing on screen and Auto set: the horizon is kept.
        s = TrendSettings::default();
        s.set_granularity(Granularity::Week, None, None);
        assert_eq!((s.granularity, s.horizon), (Granularity::Week, 14));

    }
}
