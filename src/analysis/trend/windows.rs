//! The windows a trend hands to root cause, and the time column a trend starts with: shared by
//! the Trends tab and the command line, so both explain the same incident the same way.

use serde::Serialize;

use super::{Direction, TrendReport};
use crate::analysis::rootcause::Window;
use crate::analysis::series::{Granularity, Series};
use crate::data::table::ColumnType;

/// How far back the baseline of a root-cause comparison reaches: whole weeks for hours and
/// days (the weekly cycle cancels), eight weeks, six months.
pub fn baseline_span_ms(granularity: Granularity) -> i64 {
    match granularity {
        Granularity::Hour => 7 * crate::data::time::DAY_MS,
        Granularity::Day | Granularity::Auto => 14 * crate::data::time::DAY_MS,
        Granularity::Week => 56 * crate::data::time::DAY_MS,
        Granularity::Month => 182 * crate::data::time::DAY_MS,
    }
}

/// The baseline of a window starting at `start`: the span before it, not before the data
/// starts (`data_start`), and at least one millisecond long.
pub fn baseline_before(start: i64, granularity: Granularity, data_start: i64) -> Window {
    Window { start_ms: (start - baseline_span_ms(granularity)).max(data_start).min(start - 1), end_ms: start }
}

/// The baseline and incident windows of periods `first ..= last` of the series: the periods,
/// and the span before them (whole weeks, not before the data starts).
pub fn incident_windows(series: &Series, first: usize, last: usize) -> Option<(Window, Window)> {
    let (&start, &data_start) = (series.starts_ms.get(first)?, series.starts_ms.first()?);
    let end = series.starts_ms.get(last + 1).copied().or_else(|| series.next_start_ms(1))?;
    Some((baseline_before(start, series.granularity, data_start), Window { start_ms: start, end_ms: end }))
}

/// The timestamp column to start with: one whose name says "created" or "time", else the first.
pub fn default_time_column<'a>(columns: impl IntoIterator<Item = (&'a str, ColumnType)>) -> Option<String> {
    let times: Vec<&str> = columns.into_iter().filter(|(_, kind)| *kind == ColumnType::Timestamp).map(|(name, _)| name).collect();
    let preferred = ["created", "reported", "time", "date", "_at"];
    preferred
        .iter()
        .find_map(|word| times.iter().find(|name| name.to_ascii_lowercase().contains(word)))
        .or(times.first())
        .map(|name| (*name).to_string())
}

/// An incident of a trend with the windows root cause compares: what the Trends tab lists for
/// Root cause, and what the command line explains.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundIncident {
    /// Its periods as the reader sees them ("2026-09-24 – 2026-09-27").
    pub period: String,
    pub periods: usize,
    pub direction: Direction,
    pub actual: f64,
    pub expected: f64,
    pub excess: f64,
    pub max_z: f64,
    /// The windows to explain it: the span before it, and its periods.
    pub baseline: Window,
    pub incident: Window,
}

/// A trend's incidents, largest first (by excess over expected, relative); none without a model.
pub fn found_incidents(report: &TrendReport) -> Vec<FoundIncident> {
    let Ok(analysis) = &report.analysis else { return Vec::new() };
    let series = &report.series;
    let bucket = |i: usize| series.starts_ms.get(i).map(|&ms| series.format_start(ms)).unwrap_or_default();
    let mut list: Vec<FoundIncident> = analysis
        .incidents
        .iter()
        .filter_map(|i| {
            let (baseline, incident) = incident_windows(series, i.start, i.end)?;
            let period = if i.start == i.end { bucket(i.start) } else { format!("{} – {}", bucket(i.start), bucket(i.end)) };
            Some(FoundIncident { period, periods: i.end - i.start + 1, direction: i.direction, actual: i.actual_total, expected: i.expected_total, excess: i.excess, max_z: i.max_z, baseline, incident })
        })
        .collect();
    let size = |i: &FoundIncident| if i.expected.abs() > 0.0 { (i.excess / i.expected).abs() } else { i.excess.abs() };
    list.sort_by(|a, b| size(b).total_cmp(&size(a)));
    list
}
