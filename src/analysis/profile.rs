//! Column profiles, correlations and data-quality alerts over the selected rows.
//!
//! "Can I trust this export?" Each column gets the profile its type calls for (numbers:
//! describe + histogram + robust outliers; timestamps: range, rows per day, gaps, future
//! dates; categories and identifiers: top values and repeats; text: lengths). Alerts follow
//! ydata-profiling's kinds that apply to a CSV, each with evidence and, where rows show it, a
//! filter clause that selects them.

use rustc_hash::{FxHashMap, FxHasher};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

use super::contract::{run_now, Analysis, Progress, Weights};
use super::parallel;
use super::stats::{auto_bin_count_weighted, describe_weighted, histogram_weighted, mad_outliers_weighted, Describe, Histogram, MadOutliers};
use crate::data::filter::Clause;
use crate::data::table::{float_key, float_of_key, Column, ColumnData, ColumnType, Strings, Table, Value};
use crate::data::time::{days_from_civil, Buckets, DAY_MS};
use crate::format::{format_count, format_events, format_percent};

/// Parameters of a profile run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileParams {
    /// "Now" for future-date checks (the UI passes the clock; pure code never reads it).
    pub now_ms: Option<i64>,
    /// Share of missing values above which a column is flagged.
    pub missing_alert_share: f64,
    /// Top values kept per column.
    pub top_values: usize,
    /// A column that should identify each row (e.g. `report_id`): its repeats are flagged.
    #[serde(default)]
    pub key: Option<String>,
}

impl Default for ProfileParams {
    fn default() -> Self {
        Self { now_ms: None, missing_alert_share: 0.05, top_values: 10, key: None }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub enum ProfileError {
    #[error("the missing-value threshold must be between 0 and 1, got {0}")]
    BadThreshold(f64),
    #[error("top values must be between 1 and 1000, got {0}")]
    BadTopValues(usize),
    #[error("the key column {0:?} does not exist")]
    UnknownKey(String),
    #[error("stopped before it finished")]
    Stopped,
}

impl From<crate::analysis::contract::Stopped> for ProfileError {
    fn from(_: crate::analysis::contract::Stopped) -> Self {
        Self::Stopped
    }
}

impl ProfileParams {
    pub fn check(&self) -> Result<(), ProfileError> {
        if !(0.0..=1.0).contains(&self.missing_alert_share) {
            return Err(ProfileError::BadThreshold(self.missing_alert_share));
        }
        if !(1..=1000).contains(&self.top_values) {
            return Err(ProfileError::BadTopValues(self.top_values));
        }
        Ok(())
    }
}

/// Rows (or events, when rows are weighted) per time bucket, for a sparkline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeSeriesCounts {
    pub bucket_ms: i64,
    pub start_ms: i64,
    pub counts: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProfileDetail {
    Numeric {
        describe: Option<Describe>,
        histogram: Option<Histogram>,
        /// Histogram of log10(1 + x), for non-negative skewed columns (counts, ages).
        log_histogram: Option<Histogram>,
        outliers: Option<MadOutliers>,
    },
    Time {
        min_ms: Option<i64>,
        max_ms: Option<i64>,
        per_bucket: Option<TimeSeriesCounts>,
        /// Longest run of empty buckets inside the range, in buckets.
        longest_gap: usize,
        /// Events dated in the future, or before 1900 / after 2099.
        future: f64,
        impossible: f64,
    },
    /// Categories, booleans and identifiers: the most frequent values with their events, the
    /// events of the others, and how many values occur more than once.
    Values { top: Vec<(String, f64)>, other: f64, repeated_values: usize },
    Text { lengths: Option<Describe>, length_histogram: Option<Histogram>, top: Vec<(String, f64)> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    pub name: String,
    pub kind: ColumnType,
    /// Events with a value and without (rows, or their weights' sum).
    pub present: f64,
    pub missing: f64,
    /// Distinct values (values, not events).
    pub distinct: usize,
    /// Values that did not fit the column type at load (in the whole table).
    pub mismatches: usize,
    /// `inf` / `NaN` numbers at load, stored as missing (in the whole table).
    pub non_finite: usize,
    pub detail: ProfileDetail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    Info,
    Warning,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlertKind {
    Missing,
    Constant,
    Imbalanced,
    Infinite,
    Unique,
    HighCardinality,
    Skewed,
    Zeros,
    Outliers,
    MixedTypes,
    DuplicateRows,
    DuplicateKey,
    RepeatedValues,
    TimestampGap,
    FutureDates,
    ImpossibleDates,
    HighCorrelation,
}

impl AlertKind {
    pub fn label(self) -> &'static str {
        match self {
            AlertKind::Missing => "missing",
            AlertKind::Constant => "constant",
            AlertKind::Imbalanced => "imbalanced",
            AlertKind::Infinite => "infinite",
            AlertKind::Unique => "unique",
            AlertKind::HighCardinality => "high cardinality",
            AlertKind::Skewed => "skewed",
            AlertKind::Zeros => "zeros",
            AlertKind::Outliers => "outliers",
            AlertKind::MixedTypes => "mixed types",
            AlertKind::DuplicateRows => "duplicate rows",
            AlertKind::DuplicateKey => "duplicate key",
            AlertKind::RepeatedValues => "repeated ids",
            AlertKind::TimestampGap => "timestamp gap",
            AlertKind::FutureDates => "future dates",
            AlertKind::ImpossibleDates => "impossible dates",
            AlertKind::HighCorrelation => "high correlation",
        }
    }
}

/// A data-quality finding with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub severity: Severity,
    pub column: Option<String>,
    pub message: String,
    /// How much is affected (share of rows, or |r|), for sorting.
    pub magnitude: f64,
    /// A filter that selects the rows showing the problem, when there is one.
    pub evidence: Option<Clause>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    pub a: String,
    pub b: String,
    pub pearson: f64,
    pub spearman: f64,
    /// Events with both values.
    pub pairs: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableProfile {
    /// Events profiled (rows, or their weights' sum).
    pub rows: f64,
    pub columns: Vec<ColumnProfile>,
    pub correlations: Vec<Correlation>,
    /// When the rows are more than [`MAX_CORRELATION_ROWS`], the correlations come from a seeded
    /// random sample of that many of them: (rows in the sample, rows in all).
    #[serde(default)]
    pub correlation_sample: Option<(usize, usize)>,
    /// Events identical to an earlier one in every column that describes them.
    pub duplicate_rows: f64,
    pub alerts: Vec<Alert>,
}

/// Numeric columns take part in correlations up to this many (pairs grow quadratically).
const MAX_CORRELATION_COLUMNS: usize = 30;
/// Rows whose correlations are computed exactly; more are sampled down to this many. A
/// correlation's standard error on 4 M rows is under 0.0005, while every pair of columns sorts
/// its values: on 49 M rows (`vigil analyze`, the 10 GB demo CSV) the profile took 395 s with
/// the exact pass and 246 s with the sample (the peak memory of the run did not change).
pub const MAX_CORRELATION_ROWS: usize = 4_000_000;
/// The sample's seed (the same rows in the app and the command, run after run).
const CORRELATION_SEED: u64 = 0x5eed_c0de;

/// `rows`, or a seeded uniform sample of `max` of them in row order when there are more.
fn sample_rows(rows: &[u32], max: usize) -> Option<Vec<u32>> {
    use rand::SeedableRng;
    if rows.len() <= max {
        return None;
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(CORRELATION_SEED);
    let mut picked = rand::seq::index::sample(&mut rng, rows.len(), max).into_vec();
    picked.sort_unstable();
    Some(picked.into_iter().filter_map(|i| rows.get(i).copied()).collect())
}

/// A numeric column's cells, its storage matched once rather than per cell (the correlations
/// read every pair's cells).
#[derive(Clone, Copy)]
enum Numbers<'a> {
    Int(&'a [i64], &'a crate::data::table::Bitmap),
    Float(&'a [f64], &'a crate::data::table::Bitmap),
    Other(&'a Column),
}

impl<'a> Numbers<'a> {
    fn of(column: &'a Column) -> Self {
        match &column.data {
            ColumnData::Int { values, valid } => Numbers::Int(values, valid),
            ColumnData::Float { values, valid } => Numbers::Float(values, valid),
            _ => Numbers::Other(column),
        }
    }

    /// As `numeric(column.value(row))`.
    #[inline]
    fn get(self, row: usize) -> Option<f64> {
        match self {
            Numbers::Int(values, valid) => values.get(row).filter(|_| valid.get(row)).map(|&v| v as f64),
            Numbers::Float(values, valid) => values.get(row).filter(|_| valid.get(row)).copied(),
            Numbers::Other(column) => numeric(column.value(row)),
        }
    }
}

fn numeric(value: Value<'_>) -> Option<f64> {
    match value {
        Value::Int(v) => Some(v as f64),
        Value::Float(v) => Some(v),
        _ => None,
    }
}

/// Values sorted with their weights, equal values as one of their weights' sum (rows of weight 0
/// stand for no event and are left out).
fn sorted_with_weights(values: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = values.filter(|&(v, w)| v.is_finite() && w > 0.0).collect();
    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // Equal values as one, of their weights' sum: the statistics count events by weight, and a
    // column of a few thousand distinct values is then walked a few thousand times, not a
    // million (its histograms, moments and quantiles took 150 ms a column of 2.4 M rows).
    sorted.dedup_by(|next, kept| {
        let same = next.0 == kept.0;
        if same {
            kept.1 += next.1;
        }
        same
    });
    sorted
}

/// A time column's detail and its number of distinct times (among events).
fn time_profile(column: &Column, rows: &[u32], weights: Weights<'_>, now_ms: Option<i64>) -> (ProfileDetail, usize) {
    let mut times: Vec<(i64, f64)> = rows
        .iter()
        .filter_map(|&row| match column.value(row as usize) {
            Value::Timestamp(ms) if weights.of(row) > 0.0 => Some((ms, weights.of(row))),
            _ => None,
        })
        .collect();
    times.sort_unstable_by_key(|&(t, _)| t);
    let distinct = times.chunk_by(|a, b| a.0 == b.0).count();
    let lower = days_from_civil(1900, 1, 1) * DAY_MS;
    let upper = days_from_civil(2100, 1, 1) * DAY_MS;
    let events = |keep: &dyn Fn(i64) -> bool| times.iter().filter(|&&(t, _)| keep(t)).map(|&(_, w)| w).sum::<f64>();
    let impossible = events(&|t| t < lower || t >= upper);
    let future = now_ms.map_or(0.0, |now| events(&|t| t > now && t < upper));
    let plausible: Vec<(i64, f64)> = times.iter().copied().filter(|&(t, _)| t >= lower && t < upper).collect();
    let (min_ms, max_ms) = (plausible.first().map(|p| p.0), plausible.last().map(|p| p.0));
    // Events per period and gaps cover the past only: future dates are flagged on their own
    // and would otherwise stretch the axis into an empty "gap".
    let past: Vec<(i64, f64)> = plausible.iter().copied().filter(|&(t, _)| now_ms.is_none_or(|now| t <= now)).collect();
    let per_bucket = past.first().zip(past.last()).map(|(&(min, _), &(max, _))| {
        let buckets = Buckets::day_or_week(min, max);
        let mut counts = vec![0.0; buckets.count];
        for &(t, w) in &past {
            if let Some(c) = buckets.index(t).and_then(|idx| counts.get_mut(idx)) {
                *c += w;
            }
        }
        TimeSeriesCounts { bucket_ms: buckets.bucket_ms, start_ms: buckets.start_ms, counts }
    });
    let longest_gap = per_bucket.as_ref().map_or(0, |p| {
        let (mut longest, mut run) = (0, 0);
        for &c in &p.counts {
            run = if c <= 0.0 { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        longest
    });
    (ProfileDetail::Time { min_ms, max_ms, per_bucket, longest_gap, future, impossible }, distinct)
}

/// The most frequent values (by events), the number of distinct values, and how many occur more
/// than once (as events).
fn top_values(column: &Column, rows: &[u32], weights: Weights<'_>, limit: usize) -> (Vec<(String, f64)>, usize, usize) {
    if !weights.is_weighted() {
        let counts = column.value_counts(rows, limit);
        return (counts.top.into_iter().map(|(v, n)| (v, n as f64)).collect(), counts.distinct, counts.repeated);
    }
    let mut totals: FxHashMap<String, f64> = FxHashMap::default();
    for &row in rows {
        let (value, w) = (column.value(row as usize), weights.of(row));
        if value != Value::Missing && w > 0.0 {
            *totals.entry(value.display()).or_default() += w;
        }
    }
    let repeated = totals.values().filter(|&&n| n > 1.0).count();
    let mut top: Vec<(String, f64)> = totals.into_iter().collect();
    let distinct = top.len();
    top.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(limit);
    (top, distinct, repeated)
}

/// A log10(1 + x) histogram of whole numbers with each bin holding at least one whole number:
/// near zero, equal widths in log space are narrower than one step (log10(2) from 0 to 1),
/// which drew a comb of bins that no value can fall in. Such a bin joins the next.
fn merge_bins_without_integers(histogram: Histogram) -> Histogram {
    let value = |edge: f64| 10f64.powf(edge) - 1.0;
    let Histogram { edges, counts } = histogram;
    let Some(&first) = edges.first() else { return Histogram { edges, counts } };
    let (mut merged_edges, mut merged_counts) = (vec![first], Vec::with_capacity(counts.len()));
    let mut pending = 0.0;
    for (i, (&hi, &count)) in edges.iter().skip(1).zip(&counts).enumerate() {
        pending += count;
        let lo = merged_edges.last().copied().unwrap_or(first);
        // A whole number in [lo, hi) in value space (a little slack for the logs' rounding);
        // the last bin always closes.
        let holds_integer = (value(lo) - 1e-9).ceil() < value(hi) - 1e-9;
        if holds_integer || i + 2 == edges.len() {
            merged_edges.push(hi);
            merged_counts.push(pending);
            pending = 0.0;
        }
    }
    Histogram { edges: merged_edges, counts: merged_counts }
}

fn profile_column(column: &Column, rows: &[u32], weights: Weights<'_>, params: &ProfileParams) -> ColumnProfile {
    let present_rows: Vec<u32> = rows.iter().copied().filter(|&r| column.value(r as usize) != Value::Missing).collect();
    let present: f64 = present_rows.iter().map(|&r| weights.of(r)).sum();
    let all: f64 = rows.iter().map(|&r| weights.of(r)).sum();
    let (detail, distinct) = match column.kind {
        ColumnType::Integer | ColumnType::Float => {
            let sorted = sorted_with_weights(present_rows.iter().filter_map(|&r| numeric(column.value(r as usize)).map(|v| (v, weights.of(r)))));
            let distinct = sorted.len();
            let hist = histogram_weighted(&sorted, auto_bin_count_weighted(&sorted));
            let summary = describe_weighted(&sorted);
            let skewed = summary.as_ref().and_then(|d| d.skew).is_some_and(|s| s > 1.0);
            let log_histogram = (skewed && sorted.first().is_some_and(|&(min, _)| min >= 0.0)).then(|| {
                // Sorted, so equal values are neighbours: each distinct value's log is taken once.
                let mut last = (f64::NAN, f64::NAN);
                let logs: Vec<(f64, f64)> = sorted
                    .iter()
                    .map(|&(v, w)| {
                        if v.to_bits() != last.0.to_bits() {
                            last = (v, v.ln_1p() / std::f64::consts::LN_10);
                        }
                        (last.1, w)
                    })
                    .collect();
                let histogram = histogram_weighted(&logs, auto_bin_count_weighted(&logs));
                if column.kind == ColumnType::Integer { histogram.map(merge_bins_without_integers) } else { histogram }
            });
            let detail = ProfileDetail::Numeric {
                describe: summary,
                histogram: hist,
                log_histogram: log_histogram.flatten(),
                outliers: mad_outliers_weighted(&sorted),
            };
            (detail, distinct)
        }
        ColumnType::Timestamp => time_profile(column, &present_rows, weights, params.now_ms),
        ColumnType::Text => {
            // Lengths in characters, counted where the text lies (no copy per row).
            let length = |r: u32| match column.value(r as usize) {
                Value::Str(s) => s.chars().count(),
                value => value.display().chars().count(),
            };
            let sorted = sorted_with_weights(present_rows.iter().map(|&r| (length(r) as f64, weights.of(r))));
            let (top, distinct, _) = top_values(column, &present_rows, weights, params.top_values);
            let detail = ProfileDetail::Text {
                lengths: describe_weighted(&sorted),
                length_histogram: histogram_weighted(&sorted, auto_bin_count_weighted(&sorted)),
                top,
            };
            (detail, distinct)
        }
        ColumnType::Category | ColumnType::Boolean | ColumnType::Identifier => {
            let (top, distinct, repeated_values) = top_values(column, &present_rows, weights, params.top_values);
            let shown: f64 = top.iter().map(|(_, n)| n).sum();
            let detail = ProfileDetail::Values { top, other: present - shown, repeated_values };
            (detail, distinct)
        }
    };
    ColumnProfile {
        name: column.name.clone(),
        kind: column.kind,
        present,
        missing: all - present,
        distinct,
        mismatches: column.mismatches.len(),
        non_finite: column.non_finite,
        detail,
    }
}

/// Average ranks (ties share the mean rank) of values with their weights, a value of weight w
/// taking w places, as Spearman's correlation needs.
fn ranks(values: &[(f64, f64)]) -> Vec<f64> {
    let mut sorted: Vec<(f64, u32)> = values.iter().enumerate().map(|(i, v)| (v.0, i as u32)).collect();
    let weights: Vec<f64> = values.iter().map(|v| v.1).collect();
    ranks_of_few(&sorted, &weights, values.len()).unwrap_or_else(|| {
        // Unstable is fine: tied values get the same (average) rank whatever their order.
        sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        ranks_of_sorted(&sorted, &weights, values.len())
    })
}

/// [`ranks`] of the values in `sorted` ((value, index) by value; `weights` by index), at their
/// indices among `n` (NaN at an index without a value).
fn ranks_of_sorted(sorted: &[(f64, u32)], weights: &[f64], n: usize) -> Vec<f64> {
    let weight = |i: u32| weights.get(i as usize).copied().unwrap_or(0.0);
    let mut ranks = vec![f64::NAN; n];
    let (mut start, mut before) = (0, 0.0);
    while let Some(&(first, _)) = sorted.get(start) {
        let tied_count = sorted.get(start..).unwrap_or_default().iter().take_while(|(v, _)| *v == first).count();
        let tied = sorted.get(start..start + tied_count.max(1)).unwrap_or_default();
        let weight_tied: f64 = tied.iter().map(|&(_, i)| weight(i)).sum();
        let rank = before + (weight_tied + 1.0) / 2.0; // the mean of places before+1 ..= before+weight
        for &(_, i) in tied {
            if let Some(r) = ranks.get_mut(i as usize) {
                *r = rank;
            }
        }
        before += weight_tied;
        start += tied.len();
    }
    ranks
}

/// Most distinct values [`ranks_of_few`] counts (its map stays in cache).
const MAX_FEW_VALUES: usize = 1 << 14;

/// [`ranks_of_sorted`] of `values` ((value, index), in any order) without sorting them, when
/// they hold at most [`MAX_FEW_VALUES`] distinct values (a count, a score in steps): each value's
/// weight is added up, the distinct values are sorted and each index takes its value's average
/// rank. `None` when there are more. (Whole weights add up alike in any order; a tie's
/// fractional weights may differ in the last bit, as between two sorts.)
fn ranks_of_few(values: &[(f64, u32)], weights: &[f64], n: usize) -> Option<Vec<f64>> {
    // −0 and 0 are tied: one key (float_key).
    let mut by_value: FxHashMap<u64, f64> = FxHashMap::default();
    for &(v, i) in values {
        // NaN is tied with nothing, not even itself.
        if v.is_nan() {
            return None;
        }
        *by_value.entry(float_key(v)).or_default() += weights.get(i as usize).copied().unwrap_or(0.0);
        if by_value.len() > MAX_FEW_VALUES {
            return None;
        }
    }
    let mut distinct: Vec<(u64, f64)> = by_value.iter().map(|(&bits, &weight)| (bits, weight)).collect();
    distinct.sort_unstable_by(|a, b| float_of_key(a.0).total_cmp(&float_of_key(b.0)));
    let mut before = 0.0;
    for (bits, weight_tied) in distinct {
        // The mean of places before+1 ..= before+weight, as in `ranks_of_sorted`.
        by_value.insert(bits, before + (weight_tied + 1.0) / 2.0);
        before += weight_tied;
    }
    let mut ranks = vec![f64::NAN; n];
    for &(v, i) in values {
        if let (Some(rank), Some(&of_value)) = (ranks.get_mut(i as usize), by_value.get(&float_key(v))) {
            *rank = of_value;
        }
    }
    Some(ranks)
}

/// Ranks among a subset, from the ranks among all: `ranks[k]` is the rank of `values[k]` among
/// them and the `left_out` values (with their weights); each loses the weight left out below it
/// and half the weight left out tied with it, as [`ranks`] of the subset would give.
fn without_left_out(ranks: &mut [f64], values: &[f64], mut left_out: Vec<(f64, f64)>) {
    if left_out.is_empty() {
        return;
    }
    left_out.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // The distinct values left out, each with the weight left out below it and up to it (sums
    // in sorted order). Searching these (often few: a count column's zeros) rather than every
    // value left out keeps the search in cache.
    let (mut distinct, mut below, mut upto) = (Vec::new(), Vec::new(), Vec::new());
    let mut sum = 0.0;
    for &(value, weight) in &left_out {
        if distinct.last() != Some(&value) {
            distinct.push(value);
            below.push(sum);
            upto.push(sum);
        }
        sum += weight;
        if let Some(last) = upto.last_mut() {
            *last = sum;
        }
    }
    for (rank, &v) in ranks.iter_mut().zip(values) {
        let at = distinct.partition_point(|&e| e < v);
        let under = below.get(at).copied().unwrap_or(sum);
        let tied = if distinct.get(at) == Some(&v) { upto.get(at).copied().unwrap_or(sum) } else { under };
        *rank -= under + (tied - under) / 2.0;
    }
}

/// Pearson's r; `None` when either side has no spread or fewer than 3 pairs.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    let ones = vec![1.0; n];
    weighted_pearson(x, y, &ones)
}

/// Pearson's r of pairs with weights; `None` when either side has no spread or the weights add
/// up to fewer than 3.
fn weighted_pearson(x: &[f64], y: &[f64], w: &[f64]) -> Option<f64> {
    pearson_of(x.iter().zip(y).zip(w).map(|((&a, &b), &w)| (a, b, w)))
}

/// Pearson's r of `points` (x, y, weight), adding up in their order (each pass walks them anew).
fn pearson_of(points: impl Iterator<Item = (f64, f64, f64)> + Clone) -> Option<f64> {
    let n: f64 = points.clone().map(|p| p.2).sum();
    if n < 3.0 {
        return None;
    }
    let mean_x = points.clone().map(|(a, _, w)| a * w).sum::<f64>() / n;
    let mean_y = points.clone().map(|(_, b, w)| b * w).sum::<f64>() / n;
    let mut centred = Centred::around(mean_x, mean_y);
    for (a, b, w) in points {
        centred.add(a, b, w);
    }
    centred.r()
}

/// The centred sums of products and squares of weighted points about their means, in the
/// order the points are added.
struct Centred {
    mean: (f64, f64),
    sxy: f64,
    sxx: f64,
    syy: f64,
}

impl Centred {
    fn around(mean_x: f64, mean_y: f64) -> Self {
        Centred { mean: (mean_x, mean_y), sxy: 0.0, sxx: 0.0, syy: 0.0 }
    }

    fn add(&mut self, a: f64, b: f64, w: f64) {
        let (dx, dy) = (a - self.mean.0, b - self.mean.1);
        self.sxy += w * dx * dy;
        self.sxx += w * dx * dx;
        self.syy += w * dy * dy;
    }

    /// Pearson's r; `None` when a side does not vary.
    fn r(&self) -> Option<f64> {
        (self.sxx > 0.0 && self.syy > 0.0).then(|| (self.sxy / (self.sxx * self.syy).sqrt()).clamp(-1.0, 1.0))
    }
}

/// Spearman's rho: Pearson's r of the average ranks.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    let ones = vec![1.0; x.len().min(y.len())];
    weighted_spearman(x, y, &ones)
}

fn weighted_spearman(x: &[f64], y: &[f64], w: &[f64]) -> Option<f64> {
    let with = |v: &[f64]| v.iter().copied().zip(w.iter().copied()).collect::<Vec<_>>();
    weighted_pearson(&ranks(&with(x)), &ranks(&with(y)), w)
}

/// A numeric column's ranks among all events and, when it has a value at every event, the
/// spread of its values and of its ranks.
struct Ranked {
    ranks: Vec<f64>,
    spreads: Option<(Spread, Spread)>,
    few: Option<Few>,
}

/// A numeric column of at most [`MAX_FEW_VALUES`] distinct values (a count, a score in steps):
/// each event's value as its place among them in ascending order, [`Few::NONE`] where it has
/// none. −0 and 0 are one value.
struct Few {
    codes: Vec<u16>,
    /// The distinct values, ascending.
    values: Vec<f64>,
}

impl Few {
    const NONE: u16 = u16::MAX;

    /// The codes of `n` events from `values` ((value, event), in event order); `None` with NaN
    /// or past [`MAX_FEW_VALUES`] distinct values.
    fn of(values: &[(f64, u32)], n: usize) -> Option<Few> {
        let mut code_of: FxHashMap<u64, u16> = FxHashMap::default();
        let mut found: Vec<u64> = Vec::new();
        let mut codes_found = Vec::with_capacity(values.len());
        for &(v, _) in values {
            if v.is_nan() {
                return None;
            }
            let code = *code_of.entry(float_key(v)).or_insert_with(|| {
                found.push(float_key(v));
                (found.len() - 1) as u16
            });
            if found.len() > MAX_FEW_VALUES {
                return None;
            }
            codes_found.push(code);
        }
        let mut ascending: Vec<(f64, usize)> = found.iter().map(|&key| float_of_key(key)).zip(0..).collect();
        ascending.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut place = vec![0u16; found.len()];
        for (at, &(_, code)) in ascending.iter().enumerate() {
            if let Some(p) = place.get_mut(code) {
                *p = at as u16;
            }
        }
        let mut codes = vec![Self::NONE; n];
        for (&(_, event), &code) in values.iter().zip(&codes_found) {
            if let (Some(c), Some(&p)) = (codes.get_mut(event as usize), place.get(usize::from(code))) {
                *c = p;
            }
        }
        Some(Few { codes, values: ascending.into_iter().map(|(v, _)| v).collect() })
    }

    /// The value of `code` (0 for −0: the same sums, as adding −0 and 0 to a sum that is not −0
    /// gives the same, and a sum of zeros only gives a zero spread).
    fn value(&self, code: u16) -> f64 {
        self.values.get(usize::from(code)).copied().unwrap_or(f64::NAN)
    }

    /// The average rank of each distinct value among the events `weighted` gives ((code,
    /// weight), in event order), as [`ranks_of_sorted`] would rank them.
    fn ranks(&self, weighted: impl Iterator<Item = (u16, f64)>) -> Vec<f64> {
        let mut tied = vec![0.0; self.values.len()];
        for (code, w) in weighted {
            if let Some(t) = tied.get_mut(usize::from(code)) {
                *t += w;
            }
        }
        Self::ranks_of_tied(&tied)
    }

    /// The average rank of each distinct value, ascending, given the weight `tied` at each.
    fn ranks_of_tied(tied: &[f64]) -> Vec<f64> {
        let mut before = 0.0;
        tied.iter()
            .map(|&weight_tied| {
                // The mean of places before+1 ..= before+weight, as in `ranks_of_sorted`.
                let rank = before + (weight_tied + 1.0) / 2.0;
                before += weight_tied;
                rank
            })
            .collect()
    }
}

/// The weighted mean of values and their centred sum of squares, as [`weighted_pearson`] adds
/// them up.
#[derive(Clone, Copy)]
struct Spread {
    mean: f64,
    squares: f64,
}

impl Spread {
    fn of(values: impl Iterator<Item = f64> + Clone, w: &[f64], n: f64) -> Self {
        let mean = values.clone().zip(w).map(|(a, w)| a * w).sum::<f64>() / n;
        let squares = values.zip(w).fold(0.0, |sum, (a, w)| {
            let d = a - mean;
            sum + w * d * d
        });
        Spread { mean, squares }
    }

    /// Pearson's r with `other` given the centred sum of products, as [`weighted_pearson`].
    fn r(&self, other: &Spread, products: f64) -> Option<f64> {
        (self.squares > 0.0 && other.squares > 0.0).then(|| (products / (self.squares * other.squares).sqrt()).clamp(-1.0, 1.0))
    }
}

/// Most positions (events × numeric columns) whose ranks among all events are kept for the
/// correlations: 8 bytes each (10 with a [`Few`] code), 320 MB at most; past it each pair sorts its own values.
const MAX_RANKED_POSITIONS: usize = 32 << 20;

fn correlations(table: &Table, rows: &[u32], weights: Weights<'_>) -> Vec<Correlation> {
    correlations_ranking_at_most(table, rows, weights, MAX_RANKED_POSITIONS)
}

/// [`correlations`], keeping the columns' ranks only within `max_ranked` positions.
fn correlations_ranking_at_most(table: &Table, rows: &[u32], weights: Weights<'_>, max_ranked: usize) -> Vec<Correlation> {
    let numeric_columns: Vec<&Column> = table
        .columns
        .iter()
        .filter(|c| matches!(c.kind, ColumnType::Integer | ColumnType::Float) && weights.describes_events(&c.name))
        .take(MAX_CORRELATION_COLUMNS)
        .collect();
    // The events (rows of weight > 0) and, for each column, the Spearman rank of each event's
    // value among all the column's values, from one sort: a pair's ranks are these, less what
    // the events the other column has no value for took (a pass in row order, not a sort per
    // pair). A column holding NaN (its ties are not comparisons) sorts per pair.
    let events: Vec<u32> = rows.iter().copied().filter(|&r| weights.of(r) > 0.0).collect();
    let event_weights: Vec<f64> = events.iter().map(|&r| weights.of(r)).collect();
    let value_at = |column: Numbers<'_>, position: usize| events.get(position).and_then(|&r| column.get(r as usize));
    let n: f64 = event_weights.iter().sum();
    let ranked: Vec<Option<Ranked>> = if events.len().saturating_mul(numeric_columns.len()) <= max_ranked {
        parallel::map(&numeric_columns, |column| {
            let cells = Numbers::of(column);
            let mut sorted: Vec<(f64, u32)> = (0..events.len()).filter_map(|p| value_at(cells, p).map(|v| (v, p as u32))).collect();
            if sorted.iter().any(|(v, _)| v.is_nan()) {
                return None;
            }
            let complete = sorted.len() == events.len();
            let few = Few::of(&sorted, events.len());
            let ranks = match &few {
                Some(few) => {
                    let of_code = few.ranks(few.codes.iter().zip(&event_weights).filter(|(&c, _)| c != Few::NONE).map(|(&c, &w)| (c, w)));
                    few.codes.iter().map(|&c| of_code.get(usize::from(c)).copied().unwrap_or(f64::NAN)).collect()
                }
                None => {
                    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                    ranks_of_sorted(&sorted, &event_weights, events.len())
                }
            };
            let spreads = complete.then(|| {
                let values = (0..events.len()).map(|p| value_at(cells, p).unwrap_or(f64::NAN));
                (Spread::of(values, &event_weights, n), Spread::of(ranks.iter().copied(), &event_weights, n))
            });
            Some(Ranked { ranks, spreads, few })
        })
    } else {
        Vec::new()
    };
    let pairs: Vec<(usize, usize)> = (0..numeric_columns.len()).flat_map(|a| (a + 1..numeric_columns.len()).map(move |b| (a, b))).collect();
    let correlation = |&(idx, jdx): &(usize, usize)| -> Option<Correlation> {
        let (a, b) = (numeric_columns.get(idx)?, numeric_columns.get(jdx)?);
        let (a_cells, b_cells) = (Numbers::of(a), Numbers::of(b));
        let (x_ranked, y_ranked) = (ranked.get(idx).and_then(Option::as_ref), ranked.get(jdx).and_then(Option::as_ref));
        // Both columns have a value at every event: their means and spreads are known, and one
        // pass adds up the products (the sums weighted_pearson would make, in its order).
        if let (Some(x), Some(y)) = (x_ranked, y_ranked) {
            if let (Some((x_values, x_ranks)), Some((y_values, y_ranks))) = (x.spreads, y.spreads) {
                if n < 3.0 {
                    return None;
                }
                let (mut values, mut ranks) = (0.0, 0.0);
                for (p, &w) in event_weights.iter().enumerate() {
                    let (vx, vy) = (value_at(a_cells, p).unwrap_or(f64::NAN), value_at(b_cells, p).unwrap_or(f64::NAN));
                    let (rx, ry) = (x.ranks.get(p).copied().unwrap_or(f64::NAN), y.ranks.get(p).copied().unwrap_or(f64::NAN));
                    values += w * (vx - x_values.mean) * (vy - y_values.mean);
                    ranks += w * (rx - x_ranks.mean) * (ry - y_ranks.mean);
                }
                return Some(Correlation { a: a.name.clone(), b: b.name.clone(), pearson: x_values.r(&y_values, values)?, spearman: x_ranks.r(&y_ranks, ranks)?, pairs: n });
            }
        }
        // Both columns have few distinct values: each side's ranks among the pair's events come
        // from the weight of each of its values there (an array, no map, no copy of the pair).
        if let Some((x_few, y_few)) = x_ranked.zip(y_ranked).and_then(|(x, y)| x.few.as_ref().zip(y.few.as_ref())) {
            let both = || x_few.codes.iter().zip(&y_few.codes).zip(&event_weights).filter(|((&cx, &cy), _)| cx != Few::NONE && cy != Few::NONE).map(|((&cx, &cy), &w)| (cx, cy, w));
            // Three passes, each sum added up in the pair's order as `pearson_of` would: the
            // events and each side's weight per value (its ranks); the ranks' sums; the centred
            // sums of the values and of the ranks.
            let (mut n, mut x_sum, mut y_sum) = (-0.0, -0.0, -0.0);
            let (mut x_tied, mut y_tied) = (vec![0.0; x_few.values.len()], vec![0.0; y_few.values.len()]);
            for (cx, cy, w) in both() {
                n += w;
                x_sum += x_few.value(cx) * w;
                y_sum += y_few.value(cy) * w;
                if let (Some(x), Some(y)) = (x_tied.get_mut(usize::from(cx)), y_tied.get_mut(usize::from(cy))) {
                    *x += w;
                    *y += w;
                }
            }
            if n < 3.0 {
                return None;
            }
            let (x_ranks, y_ranks) = (Few::ranks_of_tied(&x_tied), Few::ranks_of_tied(&y_tied));
            let rank = |ranks: &[f64], code: u16| ranks.get(usize::from(code)).copied().unwrap_or(f64::NAN);
            let (mut x_rank_sum, mut y_rank_sum) = (-0.0, -0.0);
            for (cx, cy, w) in both() {
                x_rank_sum += rank(&x_ranks, cx) * w;
                y_rank_sum += rank(&y_ranks, cy) * w;
            }
            let mut values = Centred::around(x_sum / n, y_sum / n);
            let mut ranks = Centred::around(x_rank_sum / n, y_rank_sum / n);
            for (cx, cy, w) in both() {
                values.add(x_few.value(cx), y_few.value(cy), w);
                ranks.add(rank(&x_ranks, cx), rank(&y_ranks, cy), w);
            }
            return Some(Correlation { a: a.name.clone(), b: b.name.clone(), pearson: values.r()?, spearman: ranks.r()?, pairs: n });
        }
        let all_ranks = x_ranked.zip(y_ranked).map(|(x, y)| (&x.ranks, &y.ranks));
        // The pair's events in row order; the values each side has where the other has none.
        let room = events.len();
        let ranks_room = if all_ranks.is_some() { room } else { 0 };
        let (mut xs, mut ys, mut ws) = (Vec::with_capacity(room), Vec::with_capacity(room), Vec::with_capacity(room));
        let (mut x_ranks, mut y_ranks) = (Vec::with_capacity(ranks_room), Vec::with_capacity(ranks_room));
        let (mut x_alone, mut y_alone) = (Vec::new(), Vec::new());
        for (p, &w) in event_weights.iter().enumerate() {
            match (value_at(a_cells, p), value_at(b_cells, p)) {
                (Some(x), Some(y)) => {
                    xs.push(x);
                    ys.push(y);
                    ws.push(w);
                    if let Some((x_all, y_all)) = all_ranks {
                        x_ranks.push(x_all.get(p).copied().unwrap_or(f64::NAN));
                        y_ranks.push(y_all.get(p).copied().unwrap_or(f64::NAN));
                    }
                }
                (Some(x), None) => x_alone.push((x, w)),
                (None, Some(y)) => y_alone.push((y, w)),
                (None, None) => {}
            }
        }
        let spearman = if all_ranks.is_some() {
            // A side the other left values out of: ranked among the pair's events at once when
            // its values are few (a search per value otherwise, 40 ms a million).
            let among_pair = |ranks: Vec<f64>, values: &[f64], left_out: Vec<(f64, f64)>| {
                if left_out.is_empty() {
                    return ranks;
                }
                let positions: Vec<(f64, u32)> = values.iter().zip(0u32..).map(|(&v, p)| (v, p)).collect();
                ranks_of_few(&positions, &ws, values.len()).unwrap_or_else(|| {
                    let mut ranks = ranks;
                    without_left_out(&mut ranks, values, left_out);
                    ranks
                })
            };
            weighted_pearson(&among_pair(x_ranks, &xs, x_alone), &among_pair(y_ranks, &ys, y_alone), &ws)
        } else {
            weighted_spearman(&xs, &ys, &ws)
        };
        Some(Correlation { a: a.name.clone(), b: b.name.clone(), pearson: weighted_pearson(&xs, &ys, &ws)?, spearman: spearman?, pairs: ws.iter().sum() })
    };
    parallel::map(&pairs, correlation).into_iter().flatten().collect()
}

/// A hash of each of `rows` over `columns` (those that describe the events: not the weight,
/// nor a cube's measures), a column at a time: each column's cells are read in one typed loop,
/// not as a [`Value`] each (the duplicates' hashing took 0.25 s of 2.4 M rows' 24 columns that way).
fn hash_rows(columns: &[&Column], rows: &[u32]) -> Vec<u64> {
    // A missing cell (another value may hash alike: equal hashes are compared cell by cell).
    const MISSING: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |hash: &mut u64, cell: u64| *hash = (hash.rotate_left(5) ^ cell).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    let mut hashes = vec![0u64; rows.len()];
    for column in columns {
        let cells = hashes.iter_mut().zip(rows);
        match &column.data {
            ColumnData::Str(Strings::Dict { codes, .. }) => cells.for_each(|(hash, &row)| mix(hash, codes.get(row as usize).map_or(MISSING, u64::from))),
            ColumnData::Int { values, valid } | ColumnData::Timestamp { ms: values, valid } => cells.for_each(|(hash, &row)| {
                let row = row as usize;
                mix(hash, values.get(row).filter(|_| valid.get(row)).map_or(MISSING, |&v| v as u64));
            }),
            ColumnData::Float { values, valid } => cells.for_each(|(hash, &row)| {
                let row = row as usize;
                mix(hash, values.get(row).filter(|_| valid.get(row)).map_or(MISSING, |v| v.to_bits()));
            }),
            ColumnData::Bool { values, valid } => cells.for_each(|(hash, &row)| {
                let row = row as usize;
                mix(hash, if valid.get(row) { u64::from(values.get(row)) } else { MISSING });
            }),
            ColumnData::Str(strings) => cells.for_each(|(hash, &row)| {
                mix(
                    hash,
                    strings.get(row as usize).map_or(MISSING, |text| {
                        let mut hasher = FxHasher::default();
                        text.hash(&mut hasher);
                        hasher.finish()
                    }),
                );
            }),
        }
    }
    hashes
}

/// Events identical to an earlier selected event (hash-grouped, then compared cell by cell):
/// each distinct row content of w events in all adds w − 1.
fn count_duplicate_rows(table: &Table, rows: &[u32], weights: Weights<'_>) -> f64 {
    let columns: Vec<&Column> = table.columns.iter().filter(|c| weights.describes_events(&c.name)).collect();
    let events: Vec<u32> = rows.iter().copied().filter(|&r| weights.of(r) > 0.0).collect();
    // Hashing every cell is most of the work: natively, on every core.
    let chunks: Vec<&[u32]> = events.chunks(1 << 16).collect();
    let hashes: Vec<u64> = parallel::map(&chunks, |chunk| hash_rows(&columns, chunk)).concat();
    let same = |a: u32, b: u32| columns.iter().all(|c| c.value(a as usize) == c.value(b as usize));
    duplicate_events(&events, &hashes, |row| weights.of(row), same)
}

/// The events beyond the first of each distinct content: `events` with their `hashes`, `same`
/// telling whether two rows' contents are equal. Each content keeps its first row and its
/// events; contents whose hashes collide are chained (`next`), no list allocated per hash.
///
/// The events are first spread over buckets by their hash's top byte: equal contents hash
/// alike, so share a bucket, and a bucket's map stays in cache (one map of every hash missed it
/// at nearly every event: 330 ms of 2.4 M events). Natively the buckets share the cores.
fn duplicate_events(events: &[u32], hashes: &[u64], weight: impl Fn(u32) -> f64 + Sync, same: impl Fn(u32, u32) -> bool + Sync) -> f64 {
    let every: Vec<u32> = (0..hashes.len() as u32).collect();
    let (positions, groups) = parallel::by_top_byte(&every, |&p| hashes.get(p as usize).copied().unwrap_or(0));
    drop(every);
    let buckets: Vec<&[u32]> = groups.into_iter().map(|group| positions.get(group).unwrap_or_default()).collect();
    let in_bucket = |positions: &&[u32]| -> f64 {
        const END: u32 = u32::MAX;
        let mut first_of_hash: FxHashMap<u64, u32> = FxHashMap::with_capacity_and_hasher(positions.len(), Default::default());
        let mut contents: Vec<(u32, f64, u32)> = Vec::with_capacity(positions.len());
        for (&row, &hash) in positions.iter().filter_map(|&p| events.get(p as usize).zip(hashes.get(p as usize))) {
            let w = weight(row);
            let mut at = *first_of_hash.entry(hash).or_insert(END);
            let mut last = END;
            while let Some(&(other, _, next)) = contents.get(at as usize) {
                if same(other, row) {
                    break;
                }
                (last, at) = (at, next);
            }
            match contents.get_mut(at as usize) {
                Some((_, events, _)) => *events += w,
                None => {
                    let new = contents.len() as u32;
                    contents.push((row, w, END));
                    match contents.get_mut(last as usize) {
                        Some((_, _, next)) => *next = new,
                        None => {
                            first_of_hash.insert(hash, new);
                        }
                    }
                }
            }
        }
        contents.iter().map(|&(_, events, _)| (events - 1.0).max(0.0)).sum()
    };
    parallel::map(&buckets, in_bucket).iter().sum()
}

/// A column's alerts; `unit` is what it counts ("rows", or "events" when rows are weighted).
fn column_alerts(profile: &ColumnProfile, rows: f64, unit: &str, params: &ProfileParams, alerts: &mut Vec<Alert>) {
    let name = &profile.name;
    let mut push = |kind, severity, message: String, magnitude: f64, evidence: Option<Clause>| {
        alerts.push(Alert { kind, severity, column: Some(name.clone()), message, magnitude, evidence });
    };
    let share = |n: f64| n / rows.max(1.0);
    let missing_share = share(profile.missing);
    if profile.present <= 0.0 {
        push(AlertKind::Missing, Severity::Warning, format!("{name} is empty in every selected {}", unit.trim_end_matches('s')), 1.0, None);
        return;
    }
    if missing_share > params.missing_alert_share {
        push(
            AlertKind::Missing,
            Severity::Warning,
            format!("{name} is missing in {} of {unit} ({})", format_percent(missing_share), format_events(profile.missing)),
            missing_share,
            Some(Clause::Missing { column: name.clone(), missing: true }),
        );
    }
    if profile.distinct == 1 && profile.present > 1.0 {
        push(AlertKind::Constant, Severity::Warning, format!("{name} has a single value"), 1.0, None);
    }
    if profile.non_finite > 0 {
        push(
            AlertKind::Infinite,
            Severity::Warning,
            format!(
                "{name}: {} {} infinite or not a number and {} as missing",
                crate::format::plural(profile.non_finite as u64, "value"),
                if profile.non_finite == 1 { "was" } else { "were" },
                if profile.non_finite == 1 { "counts" } else { "count" },
            ),
            share(profile.non_finite as f64),
            None,
        );
    }
    if profile.mismatches > 0 {
        push(
            AlertKind::MixedTypes,
            Severity::Warning,
            format!(
                "{name}: {} did not read as {} at load and {} as missing",
                crate::format::plural(profile.mismatches as u64, "value"),
                profile.kind.label(),
                if profile.mismatches == 1 { "counts" } else { "count" },
            ),
            share(profile.mismatches as f64),
            None,
        );
    }
    let is_key_like = matches!(profile.kind, ColumnType::Identifier);
    if profile.distinct as f64 == profile.present && profile.present > 50.0 && !is_key_like && profile.kind != ColumnType::Text {
        push(AlertKind::Unique, Severity::Info, format!("{name} has a different value in every row"), 1.0, None);
    }
    match &profile.detail {
        ProfileDetail::Values { repeated_values, top, .. } => {
            let top_share = top.first().map_or(0.0, |(_, n)| *n / profile.present);
            if profile.distinct > 1 && top_share >= 0.95 && profile.kind != ColumnType::Identifier {
                let value = top.first().map(|(v, _)| v.clone()).unwrap_or_default();
                let rare: Vec<String> = top.iter().skip(1).map(|(v, _)| v.clone()).collect();
                push(
                    AlertKind::Imbalanced,
                    Severity::Info,
                    format!("{name} is nearly constant: {value} in {} of {unit}", format_percent(top_share)),
                    top_share,
                    Some(Clause::InSet { column: name.clone(), values: rare, negate: false }),
                );
            }
            if profile.kind == ColumnType::Category && profile.distinct > 50 {
                push(
                    AlertKind::HighCardinality,
                    Severity::Info,
                    format!("{name} has {} distinct values", profile.distinct),
                    share(profile.distinct as f64),
                    None,
                );
            }
            if is_key_like && *repeated_values > 0 {
                let most = top.first().map(|(v, n)| format!("; most repeated: {v} ×{}", format_events(*n))).unwrap_or_default();
                push(
                    AlertKind::RepeatedValues,
                    Severity::Info,
                    format!("{name}: {} values occur more than once{most}", format_count(*repeated_values as u64)),
                    share(*repeated_values as f64),
                    None,
                );
            }
        }
        ProfileDetail::Numeric { describe: Some(d), outliers, .. } => {
            if let Some(skew) = d.skew.filter(|s| s.abs() > 3.0) {
                push(AlertKind::Skewed, Severity::Info, format!("{name} is heavily skewed (skew {skew:.1}); a log scale may read better"), skew.abs() / 10.0, None);
            }
            let zero_share = d.zeros / d.count.max(1.0);
            if zero_share > 0.5 {
                push(AlertKind::Zeros, Severity::Info, format!("{name} is zero in {} of {unit}", format_percent(zero_share)), zero_share, None);
            }
            if let Some(o) = outliers.filter(|o| o.count() > 0.0) {
                // Evidence: the side with more outliers (a filter is an AND of clauses).
                let evidence = if o.high >= o.low {
                    Clause::Range { column: name.clone(), min: Some(o.high_fence.next_up()), max: None }
                } else {
                    Clause::Range { column: name.clone(), min: None, max: Some(o.low_fence.next_down()) }
                };
                push(
                    AlertKind::Outliers,
                    Severity::Info,
                    format!("{name}: {} outliers by the robust MAD rule ({}; {} high, {} low)", format_events(o.count()), format_percent(share(o.count())), format_events(o.high), format_events(o.low)),
                    share(o.count()),
                    Some(evidence),
                );
            }
        }
        ProfileDetail::Time { future, impossible, longest_gap, per_bucket, .. } => {
            if *future > 0.0 {
                let evidence = params.now_ms.map(|now| Clause::TimeRange { column: name.clone(), start_ms: Some(now + 1), end_ms: None });
                push(AlertKind::FutureDates, Severity::Warning, format!("{name}: {} {} in the future", format_events(*future), if *future == 1.0 { "timestamp is" } else { "timestamps are" }), share(*future), evidence);
            }
            if *impossible > 0.0 {
                push(AlertKind::ImpossibleDates, Severity::Warning, format!("{name}: {} timestamps before 1900 or after 2099", format_events(*impossible)), share(*impossible), None);
            }
            if let Some(p) = per_bucket.as_ref().filter(|_| *longest_gap >= 2) {
                let busy = p.counts.iter().sum::<f64>() / p.counts.iter().filter(|&&c| c > 0.0).count().max(1) as f64;
                // Empty buckets only mean something where rows were expected in them.
                if busy >= 10.0 {
                    let period = if p.bucket_ms == DAY_MS { "days" } else { "weeks" };
                    push(AlertKind::TimestampGap, Severity::Warning, format!("{name}: no {unit} for {longest_gap} {period} in a row"), *longest_gap as f64 / p.counts.len().max(1) as f64, None);
                }
            }
        }
        _ => {}
    }
}

/// The profile as an analysis: every column, correlations, duplicates and alerts.
pub struct Profile;

impl Analysis for Profile {
    const NAME: &'static str = "profile";
    const TITLE: &'static str = "Profile";
    const WEIGHTED: bool = true;
    type Params = ProfileParams;
    type Report = TableProfile;
    type Error = ProfileError;

    fn check(params: &ProfileParams) -> Result<(), ProfileError> {
        params.check()
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &ProfileParams, progress: &mut impl Progress) -> Result<TableProfile, ProfileError> {
        profile_in_steps(table, rows, weights, params, progress).await
    }
}

/// Profiles `selection` (row indices) of `table`.
pub fn profile_table(table: &Table, selection: &[u32], params: &ProfileParams) -> Result<TableProfile, ProfileError> {
    run_now::<Profile>(table, selection, params)
}

async fn profile_in_steps(table: &Table, selection: &[u32], weights: Weights<'_>, params: &ProfileParams, progress: &mut impl Progress) -> Result<TableProfile, ProfileError> {
    if let Some(key) = params.key.as_deref().filter(|k| table.column(k).is_none()) {
        return Err(ProfileError::UnknownKey(key.to_string()));
    }
    let rows: f64 = selection.iter().map(|&r| weights.of(r)).sum();
    let n_columns = table.columns.len().max(1) as f64;
    let mut columns: Vec<ColumnProfile> = Vec::with_capacity(table.columns.len());
    // A step per column in the browser; natively, every column in one step, as many at once as
    // there are cores (columns in steps of two left a core idle while the slower of each pair
    // ran: the 10 GB file's profile took 214 s in steps, 149 s in one).
    let per_step = if parallel::threads() > 1 { table.columns.len().max(1) } else { 1 };
    for (done, chunk) in table.columns.chunks(per_step).scan(0, |done, chunk| Some((std::mem::replace(done, *done + chunk.len()), chunk))) {
        let names: Vec<&str> = chunk.iter().map(|c| c.name.as_str()).collect();
        progress.step("columns", &names.join(", "), 0.7 * done as f64 / n_columns).await?;
        // The weight and a cube's measures describe rows, not events: each row counts once.
        columns.extend(parallel::map(chunk, |column| profile_column(column, selection, if weights.describes_events(&column.name) { weights } else { Weights::ONE }, params)));
    }
    progress.step("correlations", "", 0.7).await?;
    let sample = sample_rows(selection, MAX_CORRELATION_ROWS);
    let correlation_sample = sample.as_ref().map(|s| (s.len(), selection.len()));
    let correlations = correlations(table, sample.as_deref().unwrap_or(selection), weights);
    progress.step("duplicates", "", 0.85).await?;
    let duplicate_rows = count_duplicate_rows(table, selection, weights);
    let mut alerts = Vec::new();
    let unit = if weights.is_weighted() { "events" } else { "rows" };
    for profile in &columns {
        // Shares of the column's own total (rows for the weight and measures, else events).
        let own = if weights.describes_events(&profile.name) { unit } else { "rows" };
        column_alerts(profile, profile.present + profile.missing, own, params, &mut alerts);
    }
    if let Some(key) = params.key.as_deref() {
        if let Some(profile) = columns.iter().find(|c| c.name == key) {
            let repeats = (profile.present - profile.distinct as f64).max(0.0);
            if repeats > 0.0 {
                alerts.push(Alert {
                    kind: AlertKind::DuplicateKey,
                    severity: Severity::Warning,
                    column: Some(key.to_string()),
                    message: format!("key {key}: {} {unit} repeat a value already seen ({} distinct of {} present)", format_events(repeats), profile.distinct, format_events(profile.present)),
                    magnitude: repeats / rows.max(1.0),
                    evidence: None,
                });
            }
            if profile.missing > 0.0 {
                alerts.push(Alert {
                    kind: AlertKind::DuplicateKey,
                    severity: Severity::Warning,
                    column: Some(key.to_string()),
                    message: format!("key {key} is missing in {} {unit}", format_events(profile.missing)),
                    magnitude: profile.missing / rows.max(1.0),
                    evidence: Some(Clause::Missing { column: key.to_string(), missing: true }),
                });
            }
        }
    }
    if duplicate_rows > 0.0 {
        let share = duplicate_rows / rows.max(1.0);
        alerts.push(Alert {
            kind: AlertKind::DuplicateRows,
            severity: Severity::Warning,
            column: None,
            message: format!("{} {unit} ({}) are exact copies of an earlier {}", format_events(duplicate_rows), format_percent(share), unit.trim_end_matches('s')),
            magnitude: share,
            evidence: None,
        });
    }
    for c in correlations.iter().filter(|c| c.pearson.abs() > 0.9 || c.spearman.abs() > 0.9) {
        alerts.push(Alert {
            kind: AlertKind::HighCorrelation,
            severity: Severity::Info,
            column: Some(c.a.clone()),
            message: format!("{} and {} are highly correlated (Pearson {:.2}, Spearman {:.2})", c.a, c.b, c.pearson, c.spearman),
            magnitude: c.pearson.abs().max(c.spearman.abs()),
            evidence: None,
        });
    }
    alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.magnitude.total_cmp(&a.magnitude)));
    Ok(TableProfile { rows, columns, correlations, correlation_sample, duplicate_rows, alerts })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)] // test code
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};

    fn profile(csv: &str, now_ms: Option<i64>) -> TableProfile {
        let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        profile_table(&table, &rows, &ProfileParams { now_ms, ..ProfileParams::default() }).unwrap()
    }

    fn kinds(p: &TableProfile) -> Vec<(AlertKind, Option<&str>)> {
        p.alerts.iter().map(|a| (a.kind, a.column.as_deref())).collect()
    }

    #[test]
    fn alerts_for_missing_constant_duplicates_future() {
        let csv = "id,c,k,when\na,x,1,2026-01-01\nb,,1,2026-01-02\nc,y,1,2030-01-01\nc,y,1,2030-01-01\n";
        let now = days_from_civil(2026, 6, 1) * DAY_MS;
        let p = profile(csv, Some(now));
        let found = kinds(&p);
        assert!(found.contains(&(AlertKind::Missing, Some("c"))), "{found:?}");
        assert!(found.contains(&(AlertKind::Constant, Some("k"))), "{found:?}");
        assert!(found.contains(&(AlertKind::DuplicateRows, None)), "{found:?}");
        assert!(found.contains(&(AlertKind::FutureDates, Some("when"))), "{found:?}");
        assert_eq!(p.duplicate_rows, 1.0);
        // The future rows neither stretch the per-day counts nor make a gap.
        let ProfileDetail::Time { per_bucket: Some(per_day), longest_gap, .. } = &p.columns[3].detail else { panic!() };
        assert_eq!((per_day.counts.clone(), *longest_gap), (vec![1.0, 1.0], 0));
        let future = p.alerts.iter().find(|a| a.kind == AlertKind::FutureDates).unwrap();
        assert_eq!(future.evidence, Some(Clause::TimeRange { column: "when".into(), start_ms: Some(now + 1), end_ms: None }));
    }

    #[test]
    fn infinite_nearly_constant_and_outlier_evidence() {
        let mut csv = String::from("x,c,y\ninf,b,11\nNaN,a,11\n");
        for idx in 0..40 {
            csv.push_str(&format!("{},a,{}\n", idx % 5, 10 + idx % 3));
        }
        csv.push_str("3,a,500\n");
        let p = profile(&csv, None);
        let infinite = p.alerts.iter().find(|a| a.kind == AlertKind::Infinite).unwrap();
        // "NaN" is read as missing at load; the one inf is what is left, in the singular.
        assert_eq!(infinite.message, "x: 1 value was infinite or not a number and counts as missing");
        let imbalanced = p.alerts.iter().find(|a| a.kind == AlertKind::Imbalanced).unwrap();
        assert_eq!(imbalanced.evidence, Some(Clause::InSet { column: "c".into(), values: vec!["b".into()], negate: false }));
        let outliers = p.alerts.iter().find(|a| a.kind == AlertKind::Outliers && a.column.as_deref() == Some("y")).unwrap();
        let Some(Clause::Range { min: Some(fence), max: None, .. }) = outliers.evidence else { panic!("{outliers:?}") };
        assert!(fence > 12.0 && fence < 500.0, "{fence}");
    }

    #[test]
    fn numeric_and_value_profiles() {
        let p = profile("n,c\n1,a\n2,a\n3,b\n4,a\n", None);
        let ProfileDetail::Numeric { describe: Some(d), histogram: Some(h), .. } = &p.columns[0].detail else { panic!() };
        assert_eq!((d.median, h.counts.iter().sum::<f64>()), (2.5, 4.0));
        let ProfileDetail::Values { top, other, .. } = &p.columns[1].detail else { panic!() };
        assert_eq!((top.clone(), *other), (vec![("a".to_string(), 3.0), ("b".to_string(), 1.0)], 0.0));
    }

    #[test]
    fn spearman_uses_average_ranks() {
        // scipy.stats.spearmanr([1,2,2,3],[1,3,2,4]) = 0.9486832980505138
        let rho = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!((rho - 0.948_683_298_050_513_8).abs() < 1e-12);
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
    }

    /// A seeded table of four numeric columns with ties, missing cells and NaN, and weights
    /// of 0–3 in a column of their own.
    fn numeric_table(rows: usize) -> (Table, Vec<f64>) {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut csv = String::from("a,b,c,d,w\n");
        let mut weights = Vec::new();
        for _ in 0..rows {
            let r = next();
            let cell = |v: String, missing: bool| if missing { String::new() } else { v };
            let w = (r >> 60) % 4;
            weights.push(w as f64);
            csv.push_str(&format!(
                "{},{},{},{},{w}\n",
                cell(((r >> 8) % 7).to_string(), r % 11 == 0),
                cell(format!("{:.2}", ((r >> 20) % 1000) as f64 / 10.0), r % 5 == 0),
                if r % 97 == 0 { "NaN".to_string() } else { ((r >> 32) % 50).to_string() },
                cell(((r >> 40) % 3).to_string(), false),
            ));
        }
        (load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table, weights)
    }

    #[test]
    fn correlations_from_ranks_among_all_equal_sorting_each_pair() {
        let (table, weights) = numeric_table(3_000);
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        for weights in [Weights::ONE, Weights::per_row("w", &weights)] {
            let ranked_once = correlations_ranking_at_most(&table, &rows, weights, usize::MAX);
            // Every pair of a, b, c and d (and w, when it is a column like the others).
            assert_eq!(ranked_once.len(), if weights.is_weighted() { 6 } else { 10 });
            assert_eq!(ranked_once, correlations_ranking_at_most(&table, &rows, weights, 0));
            // And over a selection that leaves rows out.
            let some: Vec<u32> = rows.iter().copied().filter(|r| r % 3 != 1).collect();
            assert_eq!(correlations_ranking_at_most(&table, &some, weights, usize::MAX), correlations_ranking_at_most(&table, &some, weights, 0));
        }
    }

    #[test]
    fn correlations_of_columns_without_gaps_equal_those_of_each_pair() {
        // x, y and z have a value in every row (their spreads are computed once); g has gaps.
        let mut csv = String::from("x,y,z,g,w\n");
        let mut weights = Vec::new();
        for i in 0u64..2_500 {
            let r = i.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17);
            let w = (r >> 58) % 3;
            weights.push(w as f64);
            let g = if r % 7 == 0 { String::new() } else { (r % 40).to_string() };
            csv.push_str(&format!("{},{:.3},{},{g},{w}\n", r % 9, ((r >> 9) % 10_000) as f64 / 7.0, ((r >> 30) % 5) as i64 - 2));
        }
        let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let some: Vec<u32> = rows.iter().copied().filter(|r| r % 4 != 1).collect();
        for weights in [Weights::ONE, Weights::per_row("w", &weights)] {
            for rows in [&rows, &some] {
                let found = correlations_ranking_at_most(&table, rows, weights, usize::MAX);
                assert_eq!(found.len(), if weights.is_weighted() { 6 } else { 10 });
                assert_eq!(found, correlations_ranking_at_most(&table, rows, weights, 0));
            }
        }
    }

    #[test]
    fn ranks_of_few_values_equal_ranks_from_a_sort() {
        let values: Vec<(f64, f64)> = (0u64..5_000).map(|i| (((i * 7919) % 61) as f64 - 30.0, ((i * 31) % 4) as f64 + 1.0)).chain([(-0.0, 2.0), (0.0, 1.0)]).collect();
        let positions: Vec<(f64, u32)> = values.iter().zip(0u32..).map(|(&(v, _), i)| (v, i)).collect();
        let weights: Vec<f64> = values.iter().map(|v| v.1).collect();
        let counted = ranks_of_few(&positions, &weights, values.len()).unwrap();
        let mut sorted = positions.clone();
        sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let from_sort = ranks_of_sorted(&sorted, &weights, values.len());
        assert_eq!(counted.iter().map(|r| r.to_bits()).collect::<Vec<_>>(), from_sort.iter().map(|r| r.to_bits()).collect::<Vec<_>>());
        assert_eq!(ranks_of_few(&[(1.0, 0), (f64::NAN, 1)], &[1.0, 1.0], 2), None);
        let many: Vec<(f64, u32)> = (0..MAX_FEW_VALUES as u32 + 1).map(|i| (f64::from(i), i)).collect();
        assert_eq!(ranks_of_few(&many, &vec![1.0; many.len()], many.len()), None);
    }

    #[test]
    fn few_values_rank_as_the_counted_ranks() {
        let values: Vec<(f64, u32)> = (0u32..4_000).map(|i| (f64::from((i * 7919) % 53) - 26.0, i)).chain([(-0.0, 4_000), (0.0, 4_001)]).collect();
        let weights: Vec<f64> = (0..values.len()).map(|i| ((i * 31) % 4) as f64 + 0.5).collect();
        let few = Few::of(&values, values.len() + 1).unwrap();
        assert_eq!(few.values.len(), 53);
        assert_eq!(few.codes.last(), Some(&Few::NONE), "an event without a value has no code");
        let of_code = few.ranks(few.codes.iter().zip(&weights).filter(|(&c, _)| c != Few::NONE).map(|(&c, &w)| (c, w)));
        let ranks: Vec<u64> = few.codes.iter().take(values.len()).map(|&c| of_code[usize::from(c)].to_bits()).collect();
        let counted = ranks_of_few(&values, &weights, values.len()).unwrap();
        assert_eq!(ranks, counted.iter().map(|r| r.to_bits()).collect::<Vec<_>>());
        assert!(Few::of(&[(1.0, 0), (f64::NAN, 1)], 2).is_none());
        let many: Vec<(f64, u32)> = (0..MAX_FEW_VALUES as u32 + 1).map(|i| (f64::from(i), i)).collect();
        assert!(Few::of(&many, many.len()).is_none());
    }

    #[test]
    fn ranks_without_the_left_out_values_equal_ranks_of_the_rest() {
        let sorted_ranks = |values: &[(f64, f64)]| {
            let mut sorted: Vec<(f64, u32)> = values.iter().zip(0u32..).map(|(v, i)| (v.0, i)).collect();
            sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            ranks_of_sorted(&sorted, &values.iter().map(|v| v.1).collect::<Vec<_>>(), values.len())
        };
        // Values with ties and distinct ones, whole weights; every third left out.
        let all: Vec<(f64, f64)> = (0u64..3_000).map(|i| (((i * 2_654_435_761) % 1_000) as f64 / 8.0, ((i * 7) % 3) as f64 + 1.0)).collect();
        type Placed = Vec<(usize, (f64, f64))>;
        let (kept, left_out): (Placed, Placed) = all.iter().copied().enumerate().partition(|(i, _)| i % 3 != 0);
        let among_all = sorted_ranks(&all);
        let mut ranks: Vec<f64> = kept.iter().map(|&(i, _)| among_all[i]).collect();
        let values: Vec<f64> = kept.iter().map(|(_, v)| v.0).collect();
        without_left_out(&mut ranks, &values, left_out.iter().map(|(_, v)| *v).collect());
        let kept: Vec<(f64, f64)> = kept.iter().map(|(_, v)| *v).collect();
        assert_eq!(ranks, sorted_ranks(&kept));
    }

    #[test]
    fn many_rows_are_sampled_for_correlations_the_same_way_each_time() {
        let (table, _) = numeric_table(20_000);
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        assert_eq!(sample_rows(&rows, 20_000), None);
        let sample = sample_rows(&rows, 5_000).unwrap();
        assert_eq!(sample.len(), 5_000);
        assert!(sample.windows(2).all(|w| w[0] < w[1]), "in row order, no row twice");
        assert_eq!(sample_rows(&rows, 5_000).unwrap(), sample);
        // Near the exact values (standard error about 1/√5000 = 0.014).
        let exact = correlations(&table, &rows, Weights::ONE);
        let sampled = correlations(&table, &sample, Weights::ONE);
        for (e, s) in exact.iter().zip(&sampled) {
            assert_eq!((&e.a, &e.b), (&s.a, &s.b));
            assert!((e.pearson - s.pearson).abs() < 0.06 && (e.spearman - s.spearman).abs() < 0.06, "{e:?} {s:?}");
        }
        // A quarter of the rows: about a quarter of each pair's rows.
        assert!((sampled[0].pairs - exact[0].pairs / 4.0).abs() < 150.0, "{} of {}", sampled[0].pairs, exact[0].pairs);
    }

    #[test]
    fn duplicates_are_counted_alike_when_every_hash_collides() {
        let (table, weights) = numeric_table(2_000);
        let columns: Vec<&Column> = table.columns.iter().filter(|c| c.name != "w").collect();
        let events: Vec<u32> = (0..table.n_rows as u32).collect();
        let hashes = hash_rows(&columns, &events);
        let same = |a: u32, b: u32| columns.iter().all(|c| c.value(a as usize) == c.value(b as usize));
        let weight = |r: u32| weights[r as usize];
        let hashed = duplicate_events(&events, &hashes, weight, same);
        assert!(hashed > 0.0, "the table has repeated rows");
        assert_eq!(hashed, duplicate_events(&events, &vec![0; events.len()], weight, same));
        assert_eq!(hashed, count_duplicate_rows(&table, &events, Weights::per_row("w", &weights)));
    }

    #[test]
    fn key_repeats_and_log_histograms() {
        let table = load_bytes(b"id,n\na,1\na,1\nb,1\nc,1000\n,2\nd,3\ne,5000\n", LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let params = ProfileParams { key: Some("id".into()), ..ProfileParams::default() };
        let p = profile_table(&table, &rows, &params).unwrap();
        let keys: Vec<&str> = p.alerts.iter().filter(|a| a.kind == AlertKind::DuplicateKey).map(|a| a.message.as_str()).collect();
        assert_eq!(keys, vec!["key id: 1 rows repeat a value already seen (5 distinct of 6 present)", "key id is missing in 1 rows"]);
        let ProfileDetail::Numeric { log_histogram: Some(h), .. } = &p.columns[1].detail else { panic!("skewed counts get a log histogram") };
        assert!((h.edges.last().unwrap() - 5001f64.log10()).abs() < 1e-12);
        // Whole numbers: no bin without a whole number in it, and every count kept.
        assert_eq!(h.counts.iter().sum::<f64>(), 7.0);
        for pair in h.edges.windows(2) {
            let (lo, hi) = (10f64.powf(pair[0]) - 1.0, 10f64.powf(pair[1]) - 1.0);
            assert!((lo - 1e-9).ceil() < hi - 1e-9 || pair[1] == *h.edges.last().unwrap(), "{lo} – {hi}");
        }
        let merged = merge_bins_without_integers(Histogram { edges: vec![0.0, 0.1, 0.2, 0.3, 0.4, 1.0], counts: vec![3.0, 0.0, 0.0, 1.0, 2.0] });
        // 10^0.1 − 1 = 0.26, 10^0.2 − 1 = 0.58, 10^0.3 − 1 = 0.995, 10^0.4 − 1 = 1.51: the
        // first whole number after 0 is 1, in the fourth bin.
        assert_eq!((merged.edges, merged.counts), (vec![0.0, 0.1, 0.4, 1.0], vec![3.0, 1.0, 2.0]));
        let bad = ProfileParams { key: Some("nope".into()), ..ProfileParams::default() };
        assert_eq!(profile_table(&table, &rows, &bad), Err(ProfileError::UnknownKey("nope".into())));
    }

    #[test]
    fn bad_params_are_refused() {
        let table = Table::default();
        let bad = ProfileParams { missing_alert_share: 2.0, ..ProfileParams::default() };
        assert_eq!(profile_table(&table, &[], &bad), Err(ProfileError::BadThreshold(2.0)));
    }

    #[test]
    fn degenerate_tables_do_not_panic() {
        for csv in ["a\n1\n", "a,b\n,\n,\n", "a\nNaN\ninf\n", "t\n2026-01-01\n", "x\n1e308\n-1e308\n"] {
            let _ = profile(csv, Some(0));
        }
    }
}
