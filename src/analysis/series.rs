//! A metric over time: rows passing the filter, bucketed by a time column at a granularity in
//! a time zone (a fixed UTC offset, or an IANA zone whose days follow its daylight-saving
//! rules: 23- and 25-hour days, hours counted as they pass), reduced per bucket (count, sum, mean, median, p95, distinct, rate) and
//! optionally split by a category (top N + other).
//!
//! Buckets cover the whole span with no gaps (a quiet period is a zero, not a missing point).
//! A few rows far outside the bulk of the timeline (typically future-dated typos) would
//! stretch the axis into a long empty run; they are left out and reported instead.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::contract::{complete, Progress, Unobserved, Weights};
use super::stats::weighted_quantile_sorted;
use crate::data::filter::{evaluate_filter, Clause, Filter, FilterError};
use crate::data::table::{Column, ColumnData, ColumnType, Strings, Table, Value, MISSING_CODE};
use crate::data::time::{civil_from_days, days_from_civil, format_iso_ms, DAY_MS, HOUR_MS};

/// Largest number of buckets a series may have (models and charts stay interactive).
pub const MAX_BUCKETS: usize = 5_000;
/// Largest number of split groups shown besides "other".
pub const MAX_SPLIT: usize = 12;
/// Label of the group holding every value outside the top N.
pub const OTHER: &str = "(other)";
/// Label of the group of rows with no value in the split column.
pub const MISSING_GROUP: &str = "(missing)";

/// Declared finest first (`Auto` before all): the order compares coarseness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Granularity {
    /// Chosen from the span: hours up to 3 days, days up to 400 days, weeks up to 5 years,
    /// months beyond.
    Auto,
    Hour,
    Day,
    /// ISO weeks, starting Monday.
    Week,
    /// Calendar months.
    Month,
}

impl Granularity {
    pub const ALL: [Granularity; 5] = [Self::Auto, Self::Hour, Self::Day, Self::Week, Self::Month];

    pub fn label(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.label() == label)
    }

    /// The coarsest periods every time starts one of (in UTC: a date-only column, a cube's
    /// `ts_bucket`); `None` when the times are not all whole hours. Buckets finer than this would
    /// be empty between the times, so a series is never finer.
    pub fn grain_of(times: impl IntoIterator<Item = i64>) -> Option<Granularity> {
        let (mut day, mut week, mut month, mut any) = (true, true, true, false);
        for t in times {
            if t.rem_euclid(HOUR_MS) != 0 {
                return None;
            }
            any = true;
            day &= t.rem_euclid(DAY_MS) == 0;
            if day {
                let days = t.div_euclid(DAY_MS);
                // Day 0 (1970-01-01) was a Thursday.
                week &= (days + 3).rem_euclid(7) == 0;
                month &= civil_from_days(days).2 == 1;
            }
        }
        any.then_some(match (day, week, month) {
            (false, _, _) => Self::Hour,
            (true, _, true) => Self::Month,
            (true, true, false) => Self::Week,
            (true, false, false) => Self::Day,
        })
    }

    /// The natural seasonal cycles at this granularity (periods per cycle).
    pub fn natural_periods(self) -> &'static [usize] {
        match self {
            Self::Hour => &[24, 168],
            Self::Day => &[7],
            Self::Week => &[52],
            Self::Month => &[12],
            Self::Auto => &[],
        }
    }

    pub fn resolve(self, span_ms: i64) -> Self {
        match self {
            Self::Auto if span_ms <= 3 * DAY_MS => Self::Hour,
            Self::Auto if span_ms <= 400 * DAY_MS => Self::Day,
            Self::Auto if span_ms <= 5 * 366 * DAY_MS => Self::Week,
            Self::Auto => Self::Month,
            other => other,
        }
    }
}

/// What is measured in each bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Metric {
    Count,
    Sum { column: String },
    Mean { column: String },
    Median { column: String },
    P95 { column: String },
    /// Distinct values of an id (or any) column.
    Distinct { column: String },
    /// Rows matching `condition` ÷ rows in the bucket.
    Rate { condition: Clause },
    /// Sum of `numerator` ÷ sum of `denominator` (failures ÷ requests, violative views ÷
    /// views): rows that stand for many events weigh by their denominator.
    Ratio { numerator: String, denominator: String },
}

impl Metric {
    /// "rows", "sum of risk_score", "rate of decision in {actioned}".
    pub fn describe(&self) -> String {
        match self {
            Metric::Count => "rows".into(),
            Metric::Sum { column } => format!("sum of {column}"),
            Metric::Mean { column } => format!("mean of {column}"),
            Metric::Median { column } => format!("median of {column}"),
            Metric::P95 { column } => format!("p95 of {column}"),
            Metric::Distinct { column } => format!("distinct {column}"),
            Metric::Rate { condition } => format!("share with {}", condition.describe()),
            Metric::Ratio { numerator, denominator } => format!("{numerator} ÷ {denominator}"),
        }
    }

    /// [`Metric::describe`] of rows that stand for events: a count counts "events".
    pub fn describe_weighted(&self, weights: Weights<'_>) -> String {
        match self {
            Metric::Count if weights.is_weighted() => "events".into(),
            other => other.describe(),
        }
    }

    /// Whether a bucket with no rows has the value 0 (counts and sums) rather than none.
    fn zero_when_empty(&self) -> bool {
        matches!(self, Metric::Count | Metric::Sum { .. } | Metric::Distinct { .. })
    }

    /// Whether the metric is a share or a ratio (not scaled with window length; its change is
    /// split into rate and mix effects).
    pub fn is_rate(&self) -> bool {
        matches!(self, Metric::Rate { .. } | Metric::Ratio { .. })
    }

    /// The column the metric reads (a rate's condition column), if any.
    pub fn column(&self) -> Option<&str> {
        match self {
            Metric::Count => None,
            Metric::Sum { column } | Metric::Mean { column } | Metric::Median { column } | Metric::P95 { column } | Metric::Distinct { column } => Some(column),
            Metric::Rate { condition } => Some(condition.column()).filter(|c| !c.is_empty()),
            Metric::Ratio { numerator, .. } => Some(numerator),
        }
    }

    /// Every column the metric reads.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Metric::Ratio { numerator, denominator } => vec![numerator, denominator],
            other => other.column().into_iter().collect(),
        }
    }
}

/// What a trend measures, before its column is chosen (the Trends tab's metric menu).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    Count,
    Sum,
    Mean,
    Median,
    P95,
    Distinct,
    Rate,
    Ratio,
}

impl MetricKind {
    pub const ALL: [MetricKind; 8] = [Self::Count, Self::Sum, Self::Mean, Self::Median, Self::P95, Self::Distinct, Self::Rate, Self::Ratio];

    pub fn label(self) -> &'static str {
        match self {
            Self::Count => "row count",
            Self::Sum => "sum of",
            Self::Mean => "mean of",
            Self::Median => "median of",
            Self::P95 => "p95 of",
            Self::Distinct => "distinct count of",
            Self::Rate => "share of rows where",
            Self::Ratio => "ratio of sums",
        }
    }

    /// Its name in links ("p95").
    pub fn slug(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Sum => "sum",
            Self::Mean => "mean",
            Self::Median => "median",
            Self::P95 => "p95",
            Self::Distinct => "distinct",
            Self::Rate => "rate",
            Self::Ratio => "ratio",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitParams {
    pub column: String,
    /// Groups shown (the most frequent values); the rest are summed into "other".
    pub top: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesParams {
    pub time_column: String,
    pub metric: Metric,
    pub granularity: Granularity,
    /// Offset of the reporting time zone from UTC, in minutes (buckets start at its midnight).
    pub utc_offset_minutes: i32,
    /// An IANA time zone ("Europe/Berlin"): when set, it replaces the fixed offset.
    #[serde(default)]
    pub time_zone: Option<String>,
    pub split: Option<SplitParams>,
}

/// The reporting time zone of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    /// A fixed offset from UTC, in minutes.
    Fixed(i32),
    /// An IANA zone with its daylight-saving rules.
    Named(chrono_tz::Tz),
}

impl Zone {
    /// The zone named `name` (IANA), or the fixed offset when there is no name.
    pub fn new(offset_minutes: i32, name: Option<&str>) -> Result<Self, SeriesError> {
        match name {
            Some(name) => name.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| SeriesError::UnknownZone(name.to_string())),
            None if offset_minutes.abs() > 14 * 60 => Err(SeriesError::BadOffset(offset_minutes)),
            None => Ok(Zone::Fixed(offset_minutes)),
        }
    }

    /// "UTC", "UTC+05:30", "Europe/Berlin".
    pub fn label(self) -> String {
        match self {
            Zone::Fixed(minutes) => format_offset(minutes),
            Zone::Named(tz) => tz.name().to_string(),
        }
    }

    /// The zone's offsets from `from_ms` to `to_ms` (UTC): the offset in force at `from_ms`,
    /// then each change, to the millisecond. Empty for a fixed offset.
    fn offsets(self, from_ms: i64, to_ms: i64) -> Vec<(i64, i32)> {
        let Zone::Named(_) = self else { return Vec::new() };
        let offset = |utc: i64| i32::try_from((self.local_ms(utc) - utc) / 60_000).unwrap_or(0);
        let mut out = vec![(from_ms, offset(from_ms))];
        // Steps of six hours: no zone has changed its clocks twice within one.
        let step = 6 * HOUR_MS;
        let mut at = from_ms;
        while at < to_ms {
            let next = at.saturating_add(step).min(to_ms);
            let now = offset(next);
            if out.last().is_some_and(|&(_, before)| before != now) {
                // The change lies in (at, next]: halve the interval to the millisecond.
                let (mut lo, mut hi) = (at, next);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if offset(mid) == now { hi = mid } else { lo = mid }
                }
                out.push((hi, now));
            }
            at = next;
        }
        out
    }
}

/// Whether `name` has the form of an IANA zone name ("Europe/Berlin", "Etc/GMT+5", "UTC"),
/// for code that must not link the tz database (the UI); [`Zone::new`] knows which exist.
pub fn plausible_zone_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_-+".contains(&b)) && !name.starts_with(['/', '-', '+'])
}

/// Converts between UTC instants and wall-clock time (milliseconds of a UTC calendar).
pub trait WallClock {
    /// The wall-clock time at UTC instant `utc_ms`.
    fn local_ms(&self, utc_ms: i64) -> i64;
    /// The UTC instant of wall-clock time `local_ms`: the earlier of two when clocks go back,
    /// the end of the jump when the time does not exist (clocks go forward).
    fn utc_ms(&self, local_ms: i64) -> i64;
}

impl WallClock for Zone {
    fn local_ms(&self, utc_ms: i64) -> i64 {
        match *self {
            Zone::Fixed(minutes) => utc_ms + i64::from(minutes) * 60_000,
            Zone::Named(tz) => {
                use chrono::{Offset, TimeZone};
                let Some(at) = chrono::DateTime::from_timestamp_millis(utc_ms) else { return utc_ms };
                utc_ms + i64::from(tz.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc()) * 1000
            }
        }
    }

    fn utc_ms(&self, local_ms: i64) -> i64 {
        match *self {
            Zone::Fixed(minutes) => local_ms - i64::from(minutes) * 60_000,
            Zone::Named(tz) => {
                use chrono::TimeZone;
                // Transitions fall on whole quarter hours: the first valid quarter is the jump's end.
                for quarter in 0..=8 {
                    let wall = local_ms + quarter * 15 * 60_000;
                    let Some(at) = chrono::DateTime::from_timestamp_millis(wall) else { break };
                    if let Some(found) = tz.from_local_datetime(&at.naive_utc()).earliest() {
                        return found.timestamp_millis();
                    }
                }
                local_ms
            }
        }
    }
}

/// A series' zone as the table of its offsets over the series' span (and years beyond it),
/// computed where the series was built: the UI formats times with it and never links the
/// time-zone database (about 70 kB compressed) into the first-paint module.
#[derive(Debug, Clone, PartialEq)]
pub struct Clock {
    fixed_minutes: i32,
    /// `(from UTC ms, offset minutes)`, ascending; the first offset also holds before its start.
    offsets: std::sync::Arc<[(i64, i32)]>,
}

impl Clock {
    fn offset_at(&self, utc_ms: i64) -> i32 {
        let after = self.offsets.partition_point(|&(from, _)| from <= utc_ms);
        self.offsets.get(after.saturating_sub(1)).map_or(self.fixed_minutes, |&(_, minutes)| minutes)
    }
}

impl WallClock for Clock {
    fn local_ms(&self, utc_ms: i64) -> i64 {
        utc_ms + i64::from(self.offset_at(utc_ms)) * 60_000
    }

    fn utc_ms(&self, local_ms: i64) -> i64 {
        let mut offsets: Vec<i32> = self.offsets.iter().map(|&(_, minutes)| minutes).collect();
        offsets.push(self.fixed_minutes);
        offsets.sort_unstable();
        offsets.dedup();
        // As `Zone::utc_ms`: the earliest instant showing that wall time, else the first valid
        // quarter hour after it.
        for quarter in 0..=8 {
            let wall = local_ms + quarter * 15 * 60_000;
            let found = offsets.iter().map(|&minutes| wall - i64::from(minutes) * 60_000).filter(|&utc| self.local_ms(utc) == wall).min();
            if let Some(utc) = found {
                return utc;
            }
        }
        local_ms
    }
}

/// One line of a split series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesGroup {
    pub label: String,
    #[serde(with = "super::nan_serde")]
    pub values: Vec<f64>,
    /// Rows of this group in the selection.
    pub rows: u64,
}

/// Rows left out of the series because they lie far outside the rest of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Excluded {
    pub rows: u64,
    pub first_ms: i64,
    pub last_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// The granularity used (never `Auto`).
    pub granularity: Granularity,
    pub utc_offset_minutes: i32,
    /// The IANA zone, when one was chosen instead of a fixed offset.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The named zone's offsets from a year before the first bucket to ten years after the
    /// last, `(from UTC ms, offset minutes)` (see [`Series::clock`]); empty for a fixed offset.
    #[serde(default)]
    pub zone_offsets: Vec<(i64, i32)>,
    /// Start of each bucket, UTC milliseconds.
    pub starts_ms: Vec<i64>,
    /// The metric per bucket; `NaN` where it is undefined (a mean of no rows).
    #[serde(with = "super::nan_serde")]
    pub values: Vec<f64>,
    /// Rows per bucket.
    pub rows: Vec<u64>,
    pub groups: Vec<SeriesGroup>,
    pub metric_label: String,
    /// Selected rows with no time value.
    pub missing_time: u64,
    /// Selected rows without a value for the metric's column (they still count in the bucket
    /// totals of a rate's denominator but not in sums or means).
    pub missing_metric: u64,
    pub excluded: Option<Excluded>,
    /// Buckets `complete.0 .. complete.1` are fully covered by the data; a first or last bucket
    /// the data starts late in or ends early in (an export cut mid-day) is shown but not
    /// modelled.
    pub complete: (usize, usize),
}

impl Series {
    /// The series' time zone as its table of offsets (exact over the series and ten years on).
    pub fn clock(&self) -> Clock {
        Clock { fixed_minutes: self.utc_offset_minutes, offsets: self.zone_offsets.as_slice().into() }
    }

    /// "UTC", "UTC+05:30", "Europe/Berlin".
    pub fn zone_label(&self) -> String {
        self.time_zone.clone().unwrap_or_else(|| format_offset(self.utc_offset_minutes))
    }

    /// Text of a period start in the series' time zone (see [`format_bucket`]).
    pub fn format_start(&self, start_ms: i64) -> String {
        format_bucket(self.granularity, &self.clock(), start_ms)
    }

    /// Start of the bucket after the last one (for axis ranges and forecasts).
    pub fn next_start_ms(&self, steps: usize) -> Option<i64> {
        let last = *self.starts_ms.last()?;
        let (mut start, clock) = (last, self.clock());
        for _ in 0..steps {
            start = advance(self.granularity, &clock, start)?;
        }
        Some(start)
    }

    /// The whole periods a dragged range `[a, b]` (UTC ms, either order) touches, as a window
    /// `[start, end)` on period boundaries, and how many periods it spans; clamped to the
    /// observed periods. `None` for an empty series.
    pub fn snap_window(&self, a: f64, b: f64) -> Option<(i64, i64, usize)> {
        let (lo, hi) = (a.min(b), a.max(b));
        let last = self.starts_ms.len().checked_sub(1)?;
        let at = |v: f64| self.starts_ms.partition_point(|&start| (start as f64) <= v).saturating_sub(1).min(last);
        let (first, end) = (at(lo), at(hi));
        let start = *self.starts_ms.get(first)?;
        let stop = match self.starts_ms.get(end + 1) {
            Some(&next) => next,
            None => self.next_start_ms(1)?,
        };
        Some((start, stop, end - first + 1))
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub enum SeriesError {
    #[error("there is no column {0:?}")]
    UnknownColumn(String),
    #[error("{column:?} is a {kind} column, not a timestamp; choose a time column or change its type in the Data tab")]
    NotTime { column: String, kind: String },
    #[error("{column:?} is a {kind} column; {metric} needs numbers")]
    NotNumeric { column: String, kind: String, metric: String },
    #[error("no selected row has a value in {0:?}")]
    NoTimes(String),
    #[error("{granularity} buckets over this span would make {buckets} points (at most {max}); {}", if granularity.eq_ignore_ascii_case("month") { "filter to a shorter time range (dates centuries apart are often typos)" } else { "choose a coarser granularity or filter to a shorter time range" })]
    TooManyBuckets { granularity: String, buckets: u64, max: usize },
    #[error("the time zone offset {0} minutes is outside −14:00 … +14:00")]
    BadOffset(i32),
    #[error("{0:?} is not a time zone of the IANA database (e.g. Europe/Berlin)")]
    UnknownZone(String),
    #[error("rate condition: {0}")]
    Condition(#[from] FilterError),
    #[error("choose {0}")]
    Choose(String),
    #[error("stopped before it finished")]
    Stopped,
}

impl From<crate::analysis::contract::Stopped> for SeriesError {
    fn from(_: crate::analysis::contract::Stopped) -> Self {
        Self::Stopped
    }
}

/// Bucket index of local time `local_ms` on a granularity's own scale (hours, days, Monday
/// weeks, months since the epoch).
fn bucket_key(granularity: Granularity, local_ms: i64) -> i64 {
    match granularity {
        Granularity::Hour => local_ms.div_euclid(HOUR_MS),
        Granularity::Day | Granularity::Auto => local_ms.div_euclid(DAY_MS),
        // Day 0 (1970-01-01) was a Thursday: shift so weeks start on Monday.
        Granularity::Week => (local_ms.div_euclid(DAY_MS) + 3).div_euclid(7),
        Granularity::Month => {
            let (y, m, _) = civil_from_days(local_ms.div_euclid(DAY_MS));
            y * 12 + i64::from(m) - 1
        }
    }
}

/// Local start (ms) of the bucket with key `key`.
fn key_start_local(granularity: Granularity, key: i64) -> i64 {
    match granularity {
        Granularity::Hour => key * HOUR_MS,
        Granularity::Day | Granularity::Auto => key * DAY_MS,
        Granularity::Week => (key * 7 - 3) * DAY_MS,
        Granularity::Month => {
            let (y, m) = (key.div_euclid(12), key.rem_euclid(12) as u32 + 1);
            days_from_civil(y, m, 1) * DAY_MS
        }
    }
}

/// The UTC start of the bucket after the one starting at `start_ms`. Hours are counted as they
/// pass (a day with a clock change has 23 or 25 of them); days, weeks and months follow the
/// local calendar.
fn advance(granularity: Granularity, zone: &impl WallClock, start_ms: i64) -> Option<i64> {
    if granularity == Granularity::Hour {
        return start_ms.checked_add(HOUR_MS);
    }
    let key = bucket_key(granularity, zone.local_ms(start_ms));
    Some(zone.utc_ms(key_start_local(granularity, key.checked_add(1)?)))
}

/// Hash key of a cell for distinct counts (dictionary code, integer bits or hashed text).
fn distinct_key(column: &Column, row: usize) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    match &column.data {
        ColumnData::Str(Strings::Dict { codes, .. }) => codes.get(row).filter(|&c| c != MISSING_CODE).map(u64::from),
        _ => match column.value(row) {
            Value::Missing => None,
            Value::Int(v) | Value::Timestamp(v) => Some(v as u64),
            Value::Float(v) => Some(crate::data::table::float_key(v)),
            Value::Bool(v) => Some(u64::from(v)),
            Value::Str(text) => {
                let mut hasher = rustc_hash::FxHasher::default();
                text.hash(&mut hasher);
                Some(hasher.finish())
            }
        },
    }
}

/// Splits times sorted with their weights into the bulk and far-out tails: a head or tail
/// holding under 0.5 % of the events, separated from the rest by a gap longer than the rest's
/// own span, is left out (only from 200 events up: in a small sample every row counts). A row
/// of weight w counts as w rows at its time, so a table and its aggregation agree.
pub(crate) fn bulk_range(sorted: &[(i64, f64)]) -> (usize, usize) {
    let (mut lo, mut hi) = (0, sorted.len());
    let total: f64 = sorted.iter().map(|&(_, w)| w).sum();
    let limit = (total / 200.0).floor();
    if limit < 1.0 {
        return (lo, hi);
    }
    loop {
        let window = sorted.get(lo..hi).unwrap_or_default();
        let weight: f64 = window.iter().map(|&(_, w)| w).sum();
        if weight < 3.0 || window.len() < 2 {
            return (lo, hi);
        }
        let (mut best_gap, mut best_at) = (0i64, 0usize);
        for (idx, pair) in window.windows(2).enumerate() {
            let gap = pair[1].0 - pair[0].0;
            if gap > best_gap {
                (best_gap, best_at) = (gap, idx + 1);
            }
        }
        let head: f64 = window.get(..best_at).unwrap_or_default().iter().map(|&(_, w)| w).sum();
        let tail = weight - head;
        let rest_span = |a: usize, b: usize| window.get(b - 1).map_or(0, |p| p.0) - window.get(a).map_or(0, |p| p.0);
        if best_at > 0 && tail <= limit && tail < head && best_gap > rest_span(0, best_at).max(DAY_MS) {
            hi = lo + best_at;
        } else if best_at > 0 && head <= limit && head < tail && best_gap > rest_span(best_at, window.len()).max(DAY_MS) {
            lo += best_at;
        } else {
            return (lo, hi);
        }
    }
}

/// Which split group each selected row falls in, and the group labels (top values, then
/// "(other)" when needed, then "(missing)" when needed).
fn split_groups(column: &Column, rows: &[u32], weights: Weights<'_>, top: usize) -> (Vec<String>, Vec<u32>) {
    let mut labels: Vec<String> = if weights.is_weighted() {
        let mut totals: FxHashMap<String, f64> = FxHashMap::default();
        for &row in rows {
            let value = column.value(row as usize);
            if value != Value::Missing {
                *totals.entry(value.display()).or_default() += weights.of(row);
            }
        }
        let mut ranked: Vec<(String, f64)> = totals.into_iter().filter(|&(_, w)| w > 0.0).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.into_iter().take(top.clamp(1, MAX_SPLIT)).map(|(label, _)| label).collect()
    } else {
        column.value_counts(rows, top.clamp(1, MAX_SPLIT)).top.into_iter().map(|(label, _)| label).collect()
    };
    let index: FxHashMap<String, u32> = labels.iter().enumerate().map(|(i, l)| (l.clone(), i as u32)).collect();
    let (other, missing) = (labels.len() as u32, labels.len() as u32 + 1);
    let mut any_other = false;
    let mut any_missing = false;
    let assignment = rows
        .iter()
        .map(|&row| {
            let value = column.value(row as usize);
            if value == Value::Missing {
                any_missing = true;
                return missing;
            }
            let text = match value {
                Value::Str(s) => std::borrow::Cow::Borrowed(s),
                other_value => std::borrow::Cow::Owned(other_value.display()),
            };
            index.get(text.as_ref()).copied().unwrap_or_else(|| {
                any_other = true;
                other
            })
        })
        .collect::<Vec<u32>>();
    labels.push(OTHER.into());
    labels.push(MISSING_GROUP.into());
    // Drop the synthetic groups nobody fell into (renumbering "(missing)" if "(other)" goes).
    let assignment = match (any_other, any_missing) {
        (false, true) => assignment.into_iter().map(|g| if g == missing { other } else { g }).collect(),
        _ => assignment,
    };
    if !any_missing {
        labels.pop();
    }
    if !any_other {
        labels.remove(other as usize);
    }
    (labels, assignment)
}

/// Accumulates one metric over buckets.
enum Acc {
    Count(Vec<f64>),
    Sum(Vec<f64>),
    Mean(Vec<f64>, Vec<f64>),
    /// Values with their weights, per bucket, and the quantile.
    Quantile(Vec<Vec<(f64, f64)>>, f64),
    Distinct(FxHashSet<(u32, u64)>),
    Rate(Vec<f64>),
    Ratio(Vec<f64>, Vec<f64>),
}

impl Acc {
    fn new(metric: &Metric, buckets: usize) -> Self {
        match metric {
            Metric::Count => Acc::Count(vec![0.0; buckets]),
            Metric::Sum { .. } => Acc::Sum(vec![0.0; buckets]),
            Metric::Mean { .. } => Acc::Mean(vec![0.0; buckets], vec![0.0; buckets]),
            Metric::Median { .. } => Acc::Quantile(vec![Vec::new(); buckets], 0.5),
            Metric::P95 { .. } => Acc::Quantile(vec![Vec::new(); buckets], 0.95),
            Metric::Distinct { .. } => Acc::Distinct(FxHashSet::default()),
            Metric::Rate { .. } => Acc::Rate(vec![0.0; buckets]),
            Metric::Ratio { .. } => Acc::Ratio(vec![0.0; buckets], vec![0.0; buckets]),
        }
    }

    /// The metric per bucket, from the accumulators and the events (summed weights) per bucket.
    fn finish(self, events: &[f64], zero_when_empty: bool) -> Vec<f64> {
        let empty = |value: f64, n: f64| if n == 0.0 && !zero_when_empty { f64::NAN } else { value };
        match self {
            Acc::Count(v) | Acc::Sum(v) => v.into_iter().zip(events).map(|(v, &n)| empty(v, n)).collect(),
            Acc::Mean(sums, weights) => sums.into_iter().zip(weights).map(|(s, w)| if w == 0.0 { f64::NAN } else { s / w }).collect(),
            Acc::Quantile(lists, q) => lists
                .into_iter()
                .map(|mut values| {
                    values.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                    weighted_quantile_sorted(&values, q).unwrap_or(f64::NAN)
                })
                .collect(),
            Acc::Distinct(pairs) => {
                let mut counts = vec![0.0; events.len()];
                for (bucket, _) in pairs {
                    if let Some(c) = counts.get_mut(bucket as usize) {
                        *c += 1.0;
                    }
                }
                counts
            }
            Acc::Rate(hits) => hits.into_iter().zip(events).map(|(h, &n)| if n == 0.0 { f64::NAN } else { h / n }).collect(),
            Acc::Ratio(nums, dens) => nums.into_iter().zip(dens).map(|(n, d)| if d == 0.0 { f64::NAN } else { n / d }).collect(),
        }
    }
}

/// The column a metric reads, checked to fit the metric.
fn metric_column<'t>(table: &'t Table, metric: &Metric) -> Result<Option<&'t Column>, SeriesError> {
    let name = match metric {
        Metric::Count | Metric::Rate { .. } => return Ok(None),
        Metric::Ratio { numerator, denominator } => {
            for name in [numerator, denominator] {
                let column = table.column(name).ok_or_else(|| SeriesError::UnknownColumn(name.clone()))?;
                if !matches!(column.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean) {
                    return Err(SeriesError::NotNumeric { column: name.clone(), kind: column.kind.label().to_string(), metric: metric.describe() });
                }
            }
            numerator
        }
        Metric::Sum { column } | Metric::Mean { column } | Metric::Median { column } | Metric::P95 { column } | Metric::Distinct { column } => column,
    };
    let column = table.column(name).ok_or_else(|| SeriesError::UnknownColumn(name.clone()))?;
    let numeric_kind = matches!(column.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean);
    if !numeric_kind && !matches!(metric, Metric::Distinct { .. }) {
        return Err(SeriesError::NotNumeric { column: name.clone(), kind: column.kind.label().to_string(), metric: metric.describe() });
    }
    Ok(Some(column))
}

/// Rows read between two progress steps.
const ROWS_PER_STEP: usize = 1 << 18;

/// Builds the series of `params.metric` over the selected `rows`.
pub fn build_series(table: &Table, rows: &[u32], params: &SeriesParams) -> Result<Series, SeriesError> {
    complete(build_series_in_steps(table, rows, Weights::ONE, params, &mut Unobserved)).unwrap_or(Err(SeriesError::Stopped))
}

/// [`build_series`], stepping `progress` every [`ROWS_PER_STEP`] rows.
/// Each row counts as its weight in `weights`: counts are sums of weights, sums and means
/// weighted, rates weighted shares, quantiles of the weighted distribution; a distinct count
/// counts values, whatever their weight.
pub async fn build_series_in_steps(table: &Table, rows: &[u32], weights: Weights<'_>, params: &SeriesParams, progress: &mut impl Progress) -> Result<Series, SeriesError> {
    progress.step("aggregate", "Reading the time column", 0.0).await?;
    let zone = Zone::new(params.utc_offset_minutes, params.time_zone.as_deref())?;
    let time = table.column(&params.time_column).ok_or_else(|| SeriesError::UnknownColumn(params.time_column.clone()))?;
    let ColumnData::Timestamp { ms, valid } = &time.data else {
        return Err(SeriesError::NotTime { column: params.time_column.clone(), kind: time.kind.label().to_string() });
    };
    let value_column = metric_column(table, &params.metric)?;
    let ratio_denominator = match &params.metric {
        Metric::Ratio { denominator, .. } => table.column(denominator),
        _ => None,
    };
    let condition: Option<Vec<bool>> = match &params.metric {
        Metric::Rate { condition } => {
            let matched = evaluate_filter(table, &Filter { clauses: vec![condition.clone()] })?;
            let mut hits = vec![false; table.n_rows];
            for row in matched {
                if let Some(hit) = hits.get_mut(row as usize) {
                    *hit = true;
                }
            }
            Some(hits)
        }
        _ => None,
    };

    // Rows with a time, and the bulk of the timeline.
    let timed: Vec<(u32, i64)> = rows
        .iter()
        .filter(|&&row| valid.get(row as usize))
        .filter_map(|&row| ms.get(row as usize).map(|&t| (row, t)))
        .collect();
    let missing_time = (rows.len() - timed.len()) as u64;
    let mut sorted: Vec<(i64, f64)> = timed.iter().map(|&(row, t)| (t, weights.of(row))).collect();
    sorted.sort_unstable_by_key(|&(t, _)| t);
    let (lo, hi) = bulk_range(&sorted);
    let (Some(&(first, _)), Some(&(last, _))) = (sorted.get(lo), hi.checked_sub(1).and_then(|h| sorted.get(h))) else {
        return Err(SeriesError::NoTimes(params.time_column.clone()));
    };
    let excluded = (lo > 0 || hi < sorted.len()).then(|| {
        let out: Vec<i64> = sorted.get(..lo).unwrap_or_default().iter().chain(sorted.get(hi..).unwrap_or_default()).map(|&(t, _)| t).collect();
        Excluded {
            rows: out.len() as u64,
            first_ms: out.iter().copied().min().unwrap_or(first),
            last_ms: out.iter().copied().max().unwrap_or(last),
        }
    });
    drop(sorted);

    // Never finer than the times themselves (whole days: no hourly buckets empty between them).
    let granularity = match (params.granularity.resolve(last - first), Granularity::grain_of(timed.iter().map(|&(_, t)| t))) {
        (chosen, Some(grain)) if grain > chosen => grain,
        (chosen, _) => chosen,
    };
    // Hours are counted as they pass from the first local hour; other buckets are keys of the
    // local calendar.
    let first_key = bucket_key(granularity, zone.local_ms(first));
    let first_hour = zone.utc_ms(key_start_local(Granularity::Hour, bucket_key(Granularity::Hour, zone.local_ms(first))));
    let key_of = |t: i64| -> i64 {
        if granularity == Granularity::Hour {
            (t - first_hour).div_euclid(HOUR_MS)
        } else {
            bucket_key(granularity, zone.local_ms(t)) - first_key
        }
    };
    let buckets = (key_of(last) + 1).max(1) as u64;
    if buckets > MAX_BUCKETS as u64 {
        return Err(SeriesError::TooManyBuckets { granularity: granularity.label().to_string(), buckets, max: MAX_BUCKETS });
    }
    let n = buckets as usize;
    let starts_ms: Vec<i64> = (0..n as i64)
        .map(|k| if granularity == Granularity::Hour { first_hour + k * HOUR_MS } else { zone.utc_ms(key_start_local(granularity, first_key + k)) })
        .collect();

    // Split groups, if any.
    let split = match &params.split {
        Some(split) => {
            let column = table.column(&split.column).ok_or_else(|| SeriesError::UnknownColumn(split.column.clone()))?;
            let timed_rows: Vec<u32> = timed.iter().map(|&(row, _)| row).collect();
            Some(split_groups(column, &timed_rows, weights, split.top))
        }
        None => None,
    };
    let n_groups = split.as_ref().map_or(0, |(labels, _)| labels.len());

    let mut row_counts = vec![0u64; n];
    let mut events = vec![0.0f64; n];
    let mut total = Acc::new(&params.metric, n);
    let mut per_group: Vec<Acc> = (0..n_groups).map(|_| Acc::new(&params.metric, n)).collect();
    let mut group_events = vec![vec![0.0f64; n]; n_groups];
    let mut group_totals = vec![0u64; n_groups];
    let mut missing_metric = 0u64;
    for (idx, &(row, t)) in timed.iter().enumerate() {
        if idx % ROWS_PER_STEP == 0 {
            progress.step("aggregate", "Aggregating the periods", 0.1 + 0.6 * idx as f64 / timed.len() as f64).await?;
        }
        if t < first || t > last {
            continue;
        }
        let Ok(bucket) = usize::try_from(key_of(t)) else { continue };
        let (Some(count), Some(bucket_events)) = (row_counts.get_mut(bucket), events.get_mut(bucket)) else { continue };
        let weight = weights.of(row);
        *count += 1;
        *bucket_events += weight;
        let group = split.as_ref().and_then(|(_, assignment)| assignment.get(idx)).map(|&g| g as usize);
        if let Some(g) = group {
            if let Some(n) = group_events.get_mut(g).and_then(|r| r.get_mut(bucket)) {
                *n += weight;
            }
            if let Some(n) = group_totals.get_mut(g) {
                *n += 1;
            }
        }
        let row = row as usize;
        // A ratio's denominator: each part sums its own values (SUM(a) / SUM(b), as a warehouse
        // and the root cause read it); a row without either is missing.
        let denominator = match (&params.metric, ratio_denominator) {
            (Metric::Ratio { .. }, Some(column)) => Some(column.numeric(row)),
            _ => None,
        };
        let value = match (&params.metric, value_column) {
            (Metric::Count, _) => Some(1.0),
            (Metric::Rate { .. }, _) => Some(if condition.as_ref().and_then(|c| c.get(row)).copied().unwrap_or(false) { 1.0 } else { 0.0 }),
            (Metric::Distinct { .. }, Some(column)) => distinct_key(column, row).map(|k| k as f64),
            (_, Some(column)) => column.numeric(row),
            (_, None) => None,
        };
        let (value, denominator) = match denominator {
            Some(None) if value.is_none() => (None, None),
            Some(d) => (Some(value.unwrap_or(0.0)), Some(d.unwrap_or(0.0))),
            None => (value, None),
        };
        let Some(value) = value else {
            missing_metric += 1;
            continue;
        };
        let distinct = match (&params.metric, value_column) {
            (Metric::Distinct { .. }, Some(column)) => distinct_key(column, row),
            _ => None,
        };
        let add = |acc: &mut Acc| match acc {
            Acc::Ratio(nums, dens) => {
                if let (Some(n), Some(d)) = (nums.get_mut(bucket), dens.get_mut(bucket)) {
                    *n += weight * value;
                    *d += weight * denominator.unwrap_or(0.0);
                }
            }
            Acc::Count(v) | Acc::Sum(v) | Acc::Rate(v) => {
                if let Some(slot) = v.get_mut(bucket) {
                    *slot += weight * value;
                }
            }
            Acc::Mean(sums, counts) => {
                if let (Some(s), Some(c)) = (sums.get_mut(bucket), counts.get_mut(bucket)) {
                    *s += weight * value;
                    *c += weight;
                }
            }
            Acc::Quantile(lists, _) => {
                if let Some(list) = lists.get_mut(bucket).filter(|_| weight > 0.0) {
                    list.push((value, weight));
                }
            }
            Acc::Distinct(set) => {
                if let Some(key) = distinct {
                    set.insert((bucket as u32, key));
                }
            }
        };
        add(&mut total);
        if let Some(acc) = group.and_then(|g| per_group.get_mut(g)) {
            add(acc);
        }
    }
    let zero = params.metric.zero_when_empty();
    let values = total.finish(&events, zero);
    let complete = complete_range(&starts_ms, granularity, zone, first, last, events.iter().sum());
    const YEAR_MS: i64 = 366 * DAY_MS;
    let zone_offsets = match (starts_ms.first(), starts_ms.last()) {
        (Some(&from), Some(&to)) => zone.offsets(from.saturating_sub(YEAR_MS), to.saturating_add(10 * YEAR_MS)),
        _ => Vec::new(),
    };
    let groups = match split {
        Some((labels, _)) => labels
            .into_iter()
            .zip(per_group)
            .zip(group_events.iter().zip(group_totals))
            .map(|((label, acc), (events_per_bucket, total_rows))| SeriesGroup { label, values: acc.finish(events_per_bucket, zero), rows: total_rows })
            .collect(),
        None => Vec::new(),
    };
    Ok(Series {
        granularity,
        utc_offset_minutes: params.utc_offset_minutes,
        time_zone: match zone {
            Zone::Named(tz) => Some(tz.name().to_string()),
            Zone::Fixed(_) => None,
        },
        zone_offsets,
        starts_ms,
        values,
        rows: row_counts,
        groups,
        metric_label: params.metric.describe_weighted(weights),
        missing_time,
        missing_metric,
        excluded,
        complete,
    })
}

/// The buckets the data covers fully: the first is partial when the data starts well after
/// its start, the last when the data ends well before its end ("well" = ten typical gaps
/// between rows, and at least 1 % of a bucket). Only trimmed with three or more buckets.
fn complete_range(starts_ms: &[i64], granularity: Granularity, zone: Zone, first: i64, last: i64, events: f64) -> (usize, usize) {
    let n = starts_ms.len();
    let (Some(&first_start), Some(&last_start)) = (starts_ms.first(), starts_ms.last()) else { return (0, n) };
    if n < 3 || events < 2.0 {
        return (0, n);
    }
    let Some(end) = advance(granularity, &zone, last_start) else { return (0, n) };
    let typical_gap = (last - first) as f64 / (events - 1.0);
    let bucket = (end - last_start) as f64;
    let slack = (10.0 * typical_gap).max(0.01 * bucket);
    let head = usize::from((first - first_start) as f64 > slack);
    let tail = usize::from((end - 1 - last) as f64 > slack);
    (head, n - tail)
}

/// Text of a bucket start in the series' time zone: `2026-08-03`, `2026-08-03 14:00`,
/// `2026-08` (months). An hour the clocks go back over (it happens twice) names its offset:
/// `2026-11-01 01:00 (UTC−04:00)`, then `2026-11-01 01:00 (UTC−05:00)`.
pub fn format_bucket(granularity: Granularity, zone: &impl WallClock, start_ms: i64) -> String {
    let local = zone.local_ms(start_ms);
    let iso = format_iso_ms(local);
    match granularity {
        Granularity::Hour => {
            let text = iso.get(..16).unwrap_or(&iso).replacen('T', " ", 1);
            let wall_hour = |utc: i64| zone.local_ms(utc).div_euclid(HOUR_MS);
            let repeated = wall_hour(start_ms - HOUR_MS) == wall_hour(start_ms) || wall_hour(start_ms + HOUR_MS) == wall_hour(start_ms);
            if repeated {
                let minutes = (local - start_ms) / 60_000;
                format!("{text} ({})", format_offset(i32::try_from(minutes).unwrap_or(0)))
            } else {
                text
            }
        }
        Granularity::Month => iso.get(..7).unwrap_or(&iso).to_string(),
        Granularity::Day | Granularity::Week | Granularity::Auto => iso.get(..10).unwrap_or(&iso).to_string(),
    }
}

/// "UTC", "UTC+05:30", "UTC−08:00".
pub fn format_offset(utc_offset_minutes: i32) -> String {
    if utc_offset_minutes == 0 {
        return "UTC".into();
    }
    let sign = if utc_offset_minutes < 0 { '−' } else { '+' };
    let minutes = utc_offset_minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};

    fn table(csv: &str) -> Table {
        load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
    }

    fn params(metric: Metric, granularity: Granularity) -> SeriesParams {
        SeriesParams { time_column: "t".into(), metric, granularity, utc_offset_minutes: 0, time_zone: None, split: None }
    }

    fn all(table: &Table) -> Vec<u32> {
        (0..table.n_rows as u32).collect()
    }

    const CSV: &str = "t,v,kind,user\n\
        2026-01-01T10:00:00Z,1,a,u1\n\
        2026-01-01T23:30:00Z,3,b,u1\n\
        2026-01-03T05:00:00Z,10,a,u2\n\
        2026-01-03T06:00:00Z,,a,u3\n";

    #[test]
    fn daily_counts_fill_quiet_days_with_zero() {
        let t = table(CSV);
        let s = build_series(&t, &all(&t), &params(Metric::Count, Granularity::Day)).unwrap();
        assert_eq!(s.granularity, Granularity::Day);
        assert_eq!(s.values, vec![2.0, 0.0, 2.0]);
        assert_eq!(format_bucket(s.granularity, &Zone::Fixed(0), s.starts_ms[0]), "2026-01-01");
        assert_eq!(s.next_start_ms(1).map(|ms| format_bucket(Granularity::Day, &Zone::Fixed(0), ms)).as_deref(), Some("2026-01-04"));
    }

    #[test]
    fn offsets_move_rows_across_midnight() {
        let t = table(CSV);
        let mut p = params(Metric::Count, Granularity::Day);
        p.utc_offset_minutes = 60;
        let s = build_series(&t, &all(&t), &p).unwrap();
        // 23:30 UTC is 00:30 on Jan 2 at UTC+01:00.
        assert_eq!(s.values, vec![1.0, 1.0, 2.0]);
        assert_eq!(format_bucket(s.granularity, &Zone::Fixed(60), s.starts_ms[0]), "2026-01-01");
        assert_eq!(format_offset(330), "UTC+05:30");
        assert_eq!(format_offset(-480), "UTC−08:00");
        p.utc_offset_minutes = 15 * 60;
        assert!(matches!(build_series(&t, &all(&t), &p), Err(SeriesError::BadOffset(_))));
    }

    #[test]
    fn named_zones_follow_daylight_saving() {
        let iso = |text: &str| crate::data::time::parse_timestamp_text(text).unwrap();
        // New York springs forward on 2026-03-08 (a 23-hour day): 04:30Z is 23:30 on the 7th,
        // 05:30Z 00:30 on the 8th, 03:30Z on the 9th is 23:30 EDT on the 8th.
        let t = table("t\n2026-03-08T04:30:00Z\n2026-03-08T05:30:00Z\n2026-03-09T03:30:00Z\n2026-03-09T04:30:00Z\n");
        let mut p = params(Metric::Count, Granularity::Day);
        p.time_zone = Some("America/New_York".into());
        let s = build_series(&t, &all(&t), &p).unwrap();
        assert_eq!(s.values, vec![1.0, 2.0, 1.0]);
        assert_eq!(s.starts_ms, vec![iso("2026-03-07T05:00:00Z"), iso("2026-03-08T05:00:00Z"), iso("2026-03-09T04:00:00Z")]);
        assert_eq!(s.next_start_ms(1), Some(iso("2026-03-10T04:00:00Z")));
        assert_eq!(s.format_start(s.starts_ms[1]), "2026-03-08");
        assert_eq!(s.zone_label(), "America/New_York");
        // The fixed offset of EST puts both late rows on the 8th.
        p.time_zone = None;
        p.utc_offset_minutes = -300;
        assert_eq!(build_series(&t, &all(&t), &p).unwrap().values, vec![1.0, 3.0]);
        // Falling back on 2026-11-01: 01:30 EDT, 01:30 EST and 02:30 EST are three hours.
        let t = table("t\n2026-11-01T05:30:00Z\n2026-11-01T06:30:00Z\n2026-11-01T07:30:00Z\n");
        let mut p = params(Metric::Count, Granularity::Hour);
        p.time_zone = Some("America/New_York".into());
        let s = build_series(&t, &all(&t), &p).unwrap();
        assert_eq!(s.values, vec![1.0, 1.0, 1.0]);
        let labels: Vec<String> = s.starts_ms.iter().map(|&ms| s.format_start(ms)).collect();
        assert_eq!(labels, ["2026-11-01 01:00 (UTC−04:00)", "2026-11-01 01:00 (UTC−05:00)", "2026-11-01 02:00"]);
        // A wall-clock time inside the spring gap maps to the end of the jump.
        let zone = Zone::new(0, Some("America/New_York")).unwrap();
        assert_eq!(zone.utc_ms(iso("2026-03-08T02:30:00Z")), iso("2026-03-08T07:00:00Z"));
        assert!(matches!(Zone::new(0, Some("Mars/Olympus")), Err(SeriesError::UnknownZone(_))));
    }

    #[test]
    fn a_series_clock_agrees_with_its_zone() {
        let iso = |text: &str| crate::data::time::parse_timestamp_text(text).unwrap();
        let t = table("t\n2019-01-01T00:00:00Z\n2020-06-01T00:00:00Z\n");
        // Half-hour daylight saving, a 45-minute zone, the southern hemisphere, a zone that
        // stopped changing its clocks (Brazil, 2019), and a fixed offset.
        for name in ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kathmandu", "America/Sao_Paulo"] {
            let mut p = params(Metric::Count, Granularity::Week);
            p.time_zone = Some(name.into());
            let s = build_series(&t, &all(&t), &p).unwrap();
            let (zone, clock) = (Zone::new(0, Some(name)).unwrap(), s.clock());
            assert!(name == "Asia/Kathmandu" || s.zone_offsets.len() > 2, "{name}: {:?}", s.zone_offsets);
            // Every quarter hour from a year before the series to ten years after it.
            let mut at = iso("2018-01-01T00:00:00Z");
            while at < iso("2030-06-01T00:00:00Z") {
                assert_eq!(WallClock::local_ms(&clock, at), zone.local_ms(at), "{name} at {at}");
                assert_eq!(WallClock::utc_ms(&clock, at), zone.utc_ms(at), "{name} wall {at}");
                at += 15 * 60_000;
            }
            for granularity in [Granularity::Hour, Granularity::Day, Granularity::Week, Granularity::Month] {
                assert_eq!(format_bucket(granularity, &clock, iso("2026-11-01T06:00:00Z")), format_bucket(granularity, &zone, iso("2026-11-01T06:00:00Z")));
            }
        }
        let s = build_series(&t, &all(&t), &SeriesParams { utc_offset_minutes: 330, ..params(Metric::Count, Granularity::Day) }).unwrap();
        assert!(s.zone_offsets.is_empty());
        assert_eq!(WallClock::local_ms(&s.clock(), 0), 330 * 60_000);
        assert_eq!(s.zone_label(), "UTC+05:30");
    }

    #[test]
    fn reductions() {
        let t = table(CSV);
        let rows = all(&t);
        let day = |metric| build_series(&t, &rows, &params(metric, Granularity::Day)).unwrap();
        let col = || "v".to_string();
        assert_eq!(day(Metric::Sum { column: col() }).values, vec![4.0, 0.0, 10.0]);
        let mean = day(Metric::Mean { column: col() });
        assert_eq!(mean.values[0], 2.0);
        assert!(mean.values[1].is_nan());
        assert_eq!(mean.values[2], 10.0);
        assert_eq!(mean.missing_metric, 1);
        assert_eq!(day(Metric::Median { column: col() }).values[0], 2.0);
        // numpy.percentile([1, 3], 95) = 2.9
        assert!((day(Metric::P95 { column: col() }).values[0] - 2.9).abs() < 1e-12);
        assert_eq!(day(Metric::Distinct { column: "user".into() }).values, vec![1.0, 0.0, 2.0]);
        let rate = day(Metric::Rate { condition: Clause::InSet { column: "kind".into(), values: vec!["a".into()], negate: false } });
        assert_eq!(rate.values[0], 0.5);
        assert!(rate.values[1].is_nan());
        assert_eq!(rate.values[2], 1.0);
        assert!(matches!(
            build_series(&t, &rows, &params(Metric::Mean { column: "kind".into() }, Granularity::Day)),
            Err(SeriesError::NotNumeric { .. })
        ));
    }

    #[test]
    fn never_finer_than_the_times() {
        let granularity = |csv: &str, chosen: Granularity| build_series(&table(csv), &all(&table(csv)), &params(Metric::Count, chosen)).unwrap().granularity;
        // Dates only, over two days: not hours (Auto's choice for so short a span).
        let dates = "t\n2026-01-05\n2026-01-06\n2026-01-06\n";
        assert_eq!(granularity(dates, Granularity::Auto), Granularity::Day);
        assert_eq!(granularity(dates, Granularity::Hour), Granularity::Day);
        assert_eq!(granularity(dates, Granularity::Month), Granularity::Month);
        // A weekly cube (Mondays), a monthly one (the 1st), and times of day.
        assert_eq!(granularity("t\n2026-01-05\n2026-01-12\n2026-02-02\n", Granularity::Day), Granularity::Week);
        assert_eq!(granularity("t\n2026-01-01\n2026-02-01\n2026-03-01\n", Granularity::Week), Granularity::Month);
        assert_eq!(granularity("t\n2026-01-05T13:00:00Z\n2026-01-06\n", Granularity::Auto), Granularity::Hour);
        assert_eq!(Granularity::grain_of([0, 90_000]), None);
        assert_eq!(Granularity::grain_of([]), None);
    }

    #[test]
    fn weeks_start_monday_and_months_are_calendar_months() {
        // 2026-01-04 is a Sunday, 2026-01-05 a Monday.
        let t = table("t\n2026-01-04T12:00:00Z\n2026-01-05T00:00:00Z\n2026-03-31T23:00:00Z\n");
        let s = build_series(&t, &all(&t), &params(Metric::Count, Granularity::Week)).unwrap();
        assert_eq!(format_bucket(s.granularity, &Zone::Fixed(0), s.starts_ms[0]), "2025-12-29");
        assert_eq!(format_bucket(s.granularity, &Zone::Fixed(0), s.starts_ms[1]), "2026-01-05");
        assert_eq!((s.values[0], s.values[1]), (1.0, 1.0));
        let m = build_series(&t, &all(&t), &params(Metric::Count, Granularity::Month)).unwrap();
        assert_eq!(m.values, vec![2.0, 0.0, 1.0]);
        assert_eq!(format_bucket(m.granularity, &Zone::Fixed(0), m.starts_ms[2]), "2026-03");
        assert_eq!(m.next_start_ms(1).map(|ms| format_bucket(Granularity::Month, &Zone::Fixed(0), ms)).as_deref(), Some("2026-04"));
    }

    #[test]
    fn split_keeps_top_values_and_sums_the_rest() {
        let t = table("t,k\n2026-01-01,a\n2026-01-01,a\n2026-01-01,b\n2026-01-02,c\n2026-01-02,\n");
        let mut p = params(Metric::Count, Granularity::Day);
        p.split = Some(SplitParams { column: "k".into(), top: 1 });
        let s = build_series(&t, &all(&t), &p).unwrap();
        let labels: Vec<&str> = s.groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(labels, vec!["a", OTHER, MISSING_GROUP]);
        assert_eq!(s.groups[0].values, vec![2.0, 0.0]);
        assert_eq!(s.groups[1].values, vec![1.0, 1.0]);
        assert_eq!(s.groups[2].values, vec![0.0, 1.0]);
        let sum: Vec<f64> = (0..2).map(|i| s.groups.iter().map(|g| g.values[i]).sum()).collect();
        assert_eq!(sum, s.values);
    }

    #[test]
    fn far_out_rows_are_excluded_and_reported() {
        let mut csv = String::from("t\n");
        for day in 1..=28 {
            for _ in 0..10 {
                csv.push_str(&format!("2026-02-{day:02}T12:00:00Z\n"));
            }
        }
        csv.push_str("2027-02-01T00:00:00Z\n");
        let t = table(&csv);
        let s = build_series(&t, &all(&t), &params(Metric::Count, Granularity::Auto)).unwrap();
        assert_eq!(s.values.len(), 28);
        assert_eq!(s.excluded.as_ref().map(|e| e.rows), Some(1));
        // Ten rows a day (all at noon) are too sparse to call the first or last day partial.
        assert_eq!(s.complete, (0, 28));
    }

    #[test]
    fn fully_covered_buckets_are_complete() {
        let mut csv = String::from("t\n");
        for day in 1..=5 {
            for hour in 0..24 {
                csv.push_str(&format!("2026-02-{day:02}T{hour:02}:30:00Z\n"));
            }
        }
        let t = table(&csv);
        let s = build_series(&t, &all(&t), &params(Metric::Count, Granularity::Day)).unwrap();
        assert_eq!(s.complete, (0, 5));
        // The same data cut at 06:00 on the last day and starting at 18:00 on the first.
        let cut: Vec<u32> = all(&t).into_iter().filter(|r| (18..4 * 24 + 6).contains(r)).collect();
        let s = build_series(&t, &cut, &params(Metric::Count, Granularity::Day)).unwrap();
        assert_eq!(s.complete, (1, 4));
    }

    #[test]
    fn dragged_ranges_snap_to_whole_periods() {
        let day = crate::data::time::DAY_MS;
        let series = Series {
            granularity: Granularity::Day,
            utc_offset_minutes: 0,
            time_zone: None,
            zone_offsets: Vec::new(),
            starts_ms: (0..10).map(|d| d * day).collect(),
            values: vec![1.0; 10],
            rows: vec![1; 10],
            groups: Vec::new(),
            metric_label: "rows".into(),
            missing_time: 0,
            missing_metric: 0,
            excluded: None,
            complete: (0, 10),
        };
        let ms = |d: f64| d * day as f64;
        // Mid-day 2.5 to mid-day 4.2, dragged right to left: days 2, 3, 4.
        assert_eq!(series.snap_window(ms(4.2), ms(2.5)), Some((2 * day, 5 * day, 3)));
        // A click is one period; before the first and past the last are clamped.
        assert_eq!(series.snap_window(ms(7.1), ms(7.1)), Some((7 * day, 8 * day, 1)));
        assert_eq!(series.snap_window(ms(-3.0), ms(0.5)), Some((0, day, 1)));
        assert_eq!(series.snap_window(ms(8.5), ms(14.0)), Some((8 * day, 10 * day, 2)));
        assert_eq!(Series { starts_ms: Vec::new(), ..series }.snap_window(0.0, 1.0), None);
    }

    #[test]
    fn errors_name_the_problem() {
        let t = table(CSV);
        let rows = all(&t);
        let mut p = params(Metric::Count, Granularity::Day);
        p.time_column = "kind".into();
        assert!(matches!(build_series(&t, &rows, &p), Err(SeriesError::NotTime { .. })));
        p.time_column = "nope".into();
        assert!(matches!(build_series(&t, &rows, &p), Err(SeriesError::UnknownColumn(_))));
        assert!(matches!(build_series(&t, &[], &params(Metric::Count, Granularity::Day)), Err(SeriesError::NoTimes(_))));
        let wide = table("t\n2000-01-01T01:00:00Z\n2026-01-01\n");
        let err = build_series(&wide, &all(&wide), &params(Metric::Count, Granularity::Hour)).unwrap_err();
        assert!(matches!(err, SeriesError::TooManyBuckets { .. }), "{err}");
        assert!(err.to_string().contains("choose a coarser granularity"), "{err}");
        // Months are the coarsest: only a shorter range helps.
        let typo = table("t\n2026-01-01T01:00:00Z\n9999-01-01\n0001-01-01\n");
        let err = build_series(&typo, &all(&typo), &params(Metric::Count, Granularity::Month)).unwrap_err().to_string();
        assert!(err.contains("filter to a shorter time range") && !err.contains("coarser"), "{err}");
    }
}
