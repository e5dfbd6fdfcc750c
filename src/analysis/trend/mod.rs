//! A metric over time and its models, as one analysis: the settings the Trends tab shows (and
//! the link stores) → the series ([`super::series`]) → its models ([`models`]).

mod models;
mod settings;
mod windows;

pub use models::*;
pub use settings::{TrendSettings, TREND_HORIZON, TREND_SENSITIVITY, TREND_TOP, UTC_OFFSET_MINUTES};
pub use windows::{baseline_before, baseline_span_ms, default_time_column, found_incidents, incident_windows, FoundIncident};

use serde::{Deserialize, Serialize};

use super::contract::{Analysis, Progress, Weights};
use super::series::{build_series_in_steps, Series, SeriesError};
use crate::data::table::Table;

/// A metric over time and its models; the models may fail (too few periods) while the series
/// is still worth showing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendReport {
    pub series: Series,
    pub analysis: Result<TrendAnalysis, TrendError>,
}

/// The Trends tab's analysis.
pub struct Trend;

impl Analysis for Trend {
    const NAME: &'static str = "trend";
    const TITLE: &'static str = "Trend";
    const WEIGHTED: bool = true;
    type Params = TrendSettings;
    type Report = TrendReport;
    type Error = SeriesError;

    fn check(params: &TrendSettings) -> Result<(), SeriesError> {
        params.series_params().map(|_| ())
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &TrendSettings, progress: &mut impl Progress) -> Result<TrendReport, SeriesError> {
        let series = build_series_in_steps(table, rows, weights, &params.series_params()?, progress).await?;
        progress.step("models", "Decomposing, forecasting, finding anomalies", 0.8).await?;
        let analysis = analyze_series(&series, &params.model_params());
        Ok(TrendReport { series, analysis })
    }
}
