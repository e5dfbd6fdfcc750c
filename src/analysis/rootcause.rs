//! Root cause of a change between two time windows: which dimension values, and which
//! combinations of up to three, carry the change of a metric (count, sum or rate).
//!
//! * **Single dimension** (Adtributor, Bhagwan et al., NSDI 2014): for each dimension and value,
//!   the share of the baseline and the incident, the value's contribution to the change
//!   (explanatory power) and the Jensen–Shannon surprise of its share moving. Dimensions rank
//!   by the surprise of the values that explain the change. A rate's change is split into mix
//!   and rate effects (shift-share with midpoint weights, which add up exactly).
//! * **Combinations** (in the spirit of HotSpot / Squeeze): conjunctions of values across up to
//!   three dimensions, grown from the values that move with the change (a beam of the best
//!   candidates per level), ranked by the share of the change they explain times how specific
//!   they are (the share of the segment's incident volume that is excess).
//! * **Significance**: counts and sums are tested on row counts with the exact conditional test
//!   for two Poisson rates (binomial given the total), rates with a two-proportion z-test;
//!   p-values are Bonferroni-adjusted over the segments examined. Segments that are not
//!   significant rank after those that are.
//!
//! The baseline is scaled to the incident window's length, so windows of different lengths
//! compare per unit of time.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::series::Metric;
use crate::data::filter::{evaluate_filter, Clause, Filter, FilterError};
use crate::data::table::{Column, ColumnData, ColumnType, Strings, Table, Value, MISSING_CODE};

/// Most values a category dimension may have to take part (ids are not dimensions).
pub const MAX_VALUES: usize = 1_000;
/// Quantile buckets for numeric dimensions.
pub const NUMERIC_BUCKETS: usize = 5;
/// Candidates kept per level of the combination search.
const BEAM: usize = 24;
/// Segments reported.
const TOP_SEGMENTS: usize = 25;
/// Segments with a timeline in the report.
const TIMELINE_SEGMENTS: usize = 10;
/// Adjusted p-value under which a finding is called significant.
pub const ALPHA: f64 = 0.01;
/// A condition is added to the root cause only if the extended segment keeps this share of the
/// change …
const KEEP: f64 = 0.85;
/// … and concentrates it: the kept share over the share of the baseline the condition holds.
const MIN_LIFT: f64 = 1.5;
/// Weight of a numeric bucket's lift when choosing between conditions.
const BUCKET_DISCOUNT: f64 = 0.8;
/// Fewer baseline rows than this and a segment's own baseline mix is too thin to compare with.
const MIN_BASELINE_ROWS: u64 = 30;
/// Label of missing values.
pub const MISSING_LABEL: &str = "(missing)";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub start_ms: i64,
    /// Exclusive.
    pub end_ms: i64,
}

impl Window {
    fn contains(&self, ms: i64) -> bool {
        ms >= self.start_ms && ms < self.end_ms
    }

    fn len(&self) -> i64 {
        self.end_ms - self.start_ms
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RcaParams {
    pub time_column: String,
    /// Count, Sum or Rate (other metrics do not decompose into parts).
    pub metric: Metric,
    pub baseline: Window,
    pub incident: Window,
    /// Columns to explain by; `None`: every category and boolean column with 2..=1000 values
    /// and every numeric column (bucketed by quantiles).
    pub dimensions: Option<Vec<String>>,
    /// Largest number of conditions in a combination (1–3).
    pub max_depth: usize,
    /// The share of the change the "smallest explaining set" of a dimension must reach.
    pub explain_share: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RcaError {
    #[error("there is no column {0:?}")]
    UnknownColumn(String),
    #[error("{0:?} is not a timestamp column")]
    NotTime(String),
    #[error("{0} does not split into parts: choose a row count, a sum or a rate")]
    Metric(String),
    #[error("{column:?} is a {kind} column; a sum needs numbers")]
    NotNumeric { column: String, kind: &'static str },
    #[error("the {0} window is empty or reversed")]
    EmptyWindow(&'static str),
    #[error("the baseline and incident windows overlap")]
    Overlap,
    #[error("no row falls in the {0} window")]
    NoRows(&'static str),
    #[error("the metric did not change between the windows")]
    NoChange,
    #[error("no column can explain the change (no category, boolean or numeric column besides the metric)")]
    NoDimensions,
    #[error("depth must be 1, 2 or 3 (got {0})")]
    BadDepth(usize),
    #[error("rate condition: {0}")]
    Condition(#[from] FilterError),
    #[error("cancelled")]
    Cancelled,
}

/// One condition of a segment: a dimension and one of its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub column: String,
    /// Displayed value (`"(missing)"`, or `"[7, 30)"` for a numeric bucket).
    pub value: String,
    /// The filter clause selecting it.
    pub clause: Clause,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Baseline value scaled to the incident window's length (for rates: the baseline rate).
    pub baseline: f64,
    pub incident: f64,
    pub delta: f64,
    /// Rows in each window.
    pub baseline_rows: u64,
    pub incident_rows: u64,
    /// Incident window length ÷ baseline window length.
    pub scale: f64,
}

/// A value of a dimension, Adtributor-style.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueFinding {
    pub value: String,
    pub baseline: f64,
    pub incident: f64,
    pub delta: f64,
    /// Share of the total change (explanatory power); can be negative or above 1.
    pub share_of_delta: f64,
    /// Jensen–Shannon surprise of the value's share moving.
    pub surprise: f64,
    /// Rates only: the rate effect and the mix effect (they add up to `delta`).
    pub rate_effect: Option<f64>,
    pub mix_effect: Option<f64>,
    pub baseline_share: f64,
    pub incident_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionFinding {
    pub column: String,
    /// Sum of the surprise of the values that explain the change.
    pub surprise: f64,
    /// Values by contribution (in the direction of the change first).
    pub values: Vec<ValueFinding>,
    /// The fewest values (largest contributions first) explaining `explain_share` of the change;
    /// empty when the dimension cannot.
    pub explaining: Vec<String>,
    pub explained: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub conditions: Vec<Condition>,
    pub baseline: f64,
    pub incident: f64,
    pub delta: f64,
    pub share_of_delta: f64,
    /// Share of the segment's incident value that is change (0–1); for decreases, of its
    /// baseline value.
    pub specificity: f64,
    pub score: f64,
    /// Bonferroni-adjusted p-value.
    pub p_value: f64,
    pub significant: bool,
    pub baseline_rows: u64,
    pub incident_rows: u64,
}

impl Condition {
    /// `country=BR`, `account_age_days < 48`, `risk_score in [0.2, 0.4)`.
    pub fn describe(&self) -> String {
        let numeric_bucket = matches!(self.clause, Clause::Range { .. });
        match self.value.chars().next() {
            Some('<' | '≥') if numeric_bucket => format!("{} {}", self.column, self.value),
            Some('[') if numeric_bucket => format!("{} in {}", self.column, self.value),
            _ => format!("{}={}", self.column, self.value),
        }
    }
}

impl Segment {
    /// `reason=scam ∧ country=BR ∧ account_age_days < 48`.
    pub fn describe(&self) -> String {
        self.conditions.iter().map(Condition::describe).collect::<Vec<_>>().join(" ∧ ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RcaReport {
    pub metric_label: String,
    pub is_rate: bool,
    pub totals: Totals,
    pub dimensions: Vec<DimensionFinding>,
    pub segments: Vec<Segment>,
    /// Segments examined (the Bonferroni factor).
    pub examined: usize,
    /// The sentence for an incident review.
    pub summary: String,
    /// Columns left out, with why.
    pub skipped: Vec<(String, String)>,
    /// The windows compared (as asked).
    pub baseline: Window,
    pub incident: Window,
    pub timeline: Timeline,
}

/// The metric per period across both windows: in total and for each of the first segments
/// (to see the change with and without them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub bucket_ms: i64,
    pub starts_ms: Vec<i64>,
    #[serde(with = "super::nan_serde")]
    pub total: Vec<f64>,
    /// Per segment (in report order), the metric of its rows (rates: the segment's own rate).
    pub segments: Vec<TimelineSeries>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineSeries {
    #[serde(with = "super::nan_serde")]
    pub with: Vec<f64>,
    /// The metric of all other rows.
    #[serde(with = "super::nan_serde")]
    pub without: Vec<f64>,
}

/// Buckets of an hour for spans up to four days, of a day beyond (UTC).
fn timeline(params: &RcaParams, rows: &Rows, is_rate: bool, member: impl Fn(usize, usize) -> bool, n_segments: usize) -> Timeline {
    let start = params.baseline.start_ms.min(params.incident.start_ms);
    let end = params.baseline.end_ms.max(params.incident.end_ms);
    let bucket_ms = if end - start <= 4 * crate::data::time::DAY_MS { crate::data::time::HOUR_MS } else { crate::data::time::DAY_MS };
    let first = start.div_euclid(bucket_ms) * bucket_ms;
    let n = usize::try_from((end - 1 - first).div_euclid(bucket_ms) + 1).unwrap_or(0).min(20_000);
    let starts_ms: Vec<i64> = (0..n).map(|i| first + i as i64 * bucket_ms).collect();
    // [num, den] per bucket: total, then (with, without) per segment.
    let mut total = vec![[0.0f64; 2]; n];
    let mut with = vec![vec![[0.0f64; 2]; n]; n_segments];
    let mut without = vec![vec![[0.0f64; 2]; n]; n_segments];
    for (i, &t) in rows.time.iter().enumerate() {
        let Ok(b) = usize::try_from((t - first).div_euclid(bucket_ms)) else { continue };
        let num = rows.num.get(i).copied().unwrap_or(0.0);
        let add = |slot: Option<&mut [f64; 2]>| {
            if let Some(slot) = slot {
                slot[0] += num;
                slot[1] += 1.0;
            }
        };
        add(total.get_mut(b));
        for k in 0..n_segments {
            let target = if member(i, k) { with.get_mut(k) } else { without.get_mut(k) };
            add(target.and_then(|series| series.get_mut(b)));
        }
    }
    let finish = |cells: Vec<[f64; 2]>| -> Vec<f64> {
        cells.into_iter().map(|[num, den]| if is_rate { if den > 0.0 { num / den } else { f64::NAN } } else { num }).collect()
    };
    Timeline {
        bucket_ms,
        starts_ms,
        total: finish(total),
        segments: with.into_iter().zip(without).map(|(w, o)| TimelineSeries { with: finish(w), without: finish(o) }).collect(),
    }
}

/// A dimension as codes per window row.
struct Dimension {
    column: String,
    labels: Vec<String>,
    clauses: Vec<Clause>,
    codes: Vec<u32>,
}

/// Per-value accumulators: (baseline, incident) of the metric's numerator and denominator and
/// row counts.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    num: [f64; 2],
    den: [f64; 2],
    rows: [u64; 2],
}

impl Acc {
    fn add(&mut self, window: usize, num: f64, den: f64) {
        if let (Some(n), Some(d), Some(r)) = (self.num.get_mut(window), self.den.get_mut(window), self.rows.get_mut(window)) {
            *n += num;
            *d += den;
            *r += 1;
        }
    }
}

/// Rows of the two windows with their metric values.
struct Rows {
    /// Table row of each window row.
    table_rows: Vec<u32>,
    window: Vec<u8>,
    num: Vec<f64>,
    time: Vec<i64>,
}

fn category_dimension(column: &Column, rows: &[u32]) -> Result<Dimension, String> {
    let mut index: FxHashMap<String, u32> = FxHashMap::default();
    let mut labels: Vec<String> = Vec::new();
    let mut codes = Vec::with_capacity(rows.len());
    let dict = match &column.data {
        ColumnData::Str(Strings::Dict { codes, dict }) => Some((codes, dict)),
        _ => None,
    };
    let mut dict_map: FxHashMap<u32, u32> = FxHashMap::default();
    for &row in rows {
        let code = match dict {
            Some((dict_codes, dict_values)) => {
                let raw = dict_codes.get(row as usize).copied().unwrap_or(MISSING_CODE);
                match dict_map.get(&raw) {
                    Some(&c) => c,
                    None => {
                        let label = if raw == MISSING_CODE { MISSING_LABEL.to_string() } else { dict_values.get(raw as usize).map(|s| s.to_string()).unwrap_or_default() };
                        let c = *index.entry(label.clone()).or_insert_with(|| {
                            labels.push(label);
                            (labels.len() - 1) as u32
                        });
                        dict_map.insert(raw, c);
                        c
                    }
                }
            }
            None => {
                let value = column.value(row as usize);
                let label = if value == Value::Missing { MISSING_LABEL.to_string() } else { value.display() };
                match index.get(&label) {
                    Some(&c) => c,
                    None => {
                        labels.push(label.clone());
                        let c = (labels.len() - 1) as u32;
                        index.insert(label, c);
                        c
                    }
                }
            }
        };
        codes.push(code);
        if labels.len() > MAX_VALUES {
            return Err(format!("more than {MAX_VALUES} distinct values"));
        }
    }
    if labels.len() < 2 {
        return Err("a single value in these windows".into());
    }
    let clauses = labels
        .iter()
        .map(|label| {
            if label == MISSING_LABEL {
                Clause::Missing { column: column.name.clone(), missing: true }
            } else {
                Clause::InSet { column: column.name.clone(), values: vec![label.clone()], negate: false }
            }
        })
        .collect();
    Ok(Dimension { column: column.name.clone(), labels, clauses, codes })
}

/// Quantile buckets of a numeric column over the window rows: `[lo, hi)` labels.
fn numeric_dimension(column: &Column, rows: &[u32]) -> Result<Dimension, String> {
    let values: Vec<Option<f64>> = rows.iter().map(|&r| column.numeric(r as usize)).collect();
    let mut sorted: Vec<f64> = values.iter().flatten().copied().collect();
    if sorted.is_empty() {
        return Err("no values in these windows".into());
    }
    sorted.sort_unstable_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..NUMERIC_BUCKETS)
        .filter_map(|k| sorted.get(k * sorted.len() / NUMERIC_BUCKETS).copied())
        .collect();
    edges.dedup();
    if let Some(&min) = sorted.first() {
        edges.retain(|&e| e > min);
    }
    if edges.is_empty() {
        return Err("a single value in these windows".into());
    }
    let fmt = |v: f64| crate::data::table::format_float(v);
    let mut labels: Vec<String> = Vec::new();
    let mut clauses: Vec<Clause> = Vec::new();
    let name = &column.name;
    for k in 0..=edges.len() {
        let lo = if k == 0 { None } else { edges.get(k - 1).copied() };
        let hi = edges.get(k).copied();
        labels.push(match (lo, hi) {
            (None, Some(h)) => format!("< {}", fmt(h)),
            (Some(l), Some(h)) => format!("[{}, {})", fmt(l), fmt(h)),
            (Some(l), None) => format!("≥ {}", fmt(l)),
            (None, None) => "any".into(),
        });
        // Ranges are closed in the filter: the upper edge's own value belongs to the next
        // bucket, so the filter stops just below it.
        clauses.push(Clause::Range { column: name.clone(), min: lo, max: hi.map(|h| f64::from_bits(h.to_bits().wrapping_sub(1)).min(h)) });
    }
    let missing_code = labels.len() as u32;
    let mut any_missing = false;
    let codes = values
        .iter()
        .map(|v| match v {
            Some(x) => edges.partition_point(|&e| e <= *x) as u32,
            None => {
                any_missing = true;
                missing_code
            }
        })
        .collect();
    if any_missing {
        labels.push(MISSING_LABEL.into());
        clauses.push(Clause::Missing { column: name.clone(), missing: true });
    }
    Ok(Dimension { column: name.clone(), labels, clauses, codes })
}

/// Metric value of a segment from its accumulator: scaled baseline and incident.
fn values_of(acc: &Acc, is_rate: bool, scale: f64) -> (f64, f64) {
    if is_rate {
        let rate = |w: usize| if acc.den[w] > 0.0 { acc.num[w] / acc.den[w] } else { 0.0 };
        (rate(0), rate(1))
    } else {
        (acc.num[0] * scale, acc.num[1])
    }
}

fn js_divergence(p: f64, q: f64) -> f64 {
    let term = |a: f64, m: f64| if a > 0.0 && m > 0.0 { a * (a / m).ln() } else { 0.0 };
    let m = (p + q) / 2.0;
    0.5 * (term(p, m) + term(q, m))
}

/// ln of the binomial upper tail P(X ≥ k), X ~ Bin(n, p), by summing terms in log space
/// (normal approximation with continuity correction beyond 5,000 trials).
fn binomial_upper_tail(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    if n > 5_000 {
        let (nf, kf) = (n as f64, k as f64);
        let sd = (nf * p * (1.0 - p)).sqrt();
        return 1.0 - distrs::Normal::cdf(kf - 0.5, nf * p, sd);
    }
    let ln_choose = |n: u64, k: u64| ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0);
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let terms: Vec<f64> = (k..=n).map(|i| ln_choose(n, i) + i as f64 * lp + (n - i) as f64 * lq).collect();
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (max.exp() * terms.iter().map(|t| (t - max).exp()).sum::<f64>()).clamp(0.0, 1.0)
}

/// Lanczos approximation of ln Γ(x) for x > 0 (g = 7, n = 9; ~1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9, 676.520_368_121_885_1, -1_259.139_216_722_402_8, 771.323_428_777_653_1,
        -176.615_029_162_140_6, 12.507_343_278_686_905, -0.138_571_095_265_720_12, 9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI.ln() - (std::f64::consts::PI * x).sin().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Two-sided p-value of the change of a segment (before adjustment).
fn p_value(acc: &Acc, is_rate: bool, incident_fraction: f64, increase: bool) -> f64 {
    if is_rate {
        // Two-proportion z-test of the segment's rate between the windows.
        let (n0, n1) = (acc.den[0], acc.den[1]);
        if n0 <= 0.0 || n1 <= 0.0 {
            return 1.0;
        }
        let pooled = (acc.num[0] + acc.num[1]) / (n0 + n1);
        let se = (pooled * (1.0 - pooled) * (1.0 / n0 + 1.0 / n1)).sqrt();
        if se <= 0.0 {
            return if (acc.num[1] / n1 - acc.num[0] / n0).abs() > 0.0 { 0.0 } else { 1.0 };
        }
        let z = (acc.num[1] / n1 - acc.num[0] / n0) / se;
        return (2.0 * (1.0 - distrs::Normal::cdf(z.abs(), 0.0, 1.0))).clamp(0.0, 1.0);
    }
    // Rows in the incident window given all the segment's rows: Binomial(n, share of time).
    let n = acc.rows[0] + acc.rows[1];
    let k = acc.rows[1];
    let tail = if increase { binomial_upper_tail(k, n, incident_fraction) } else { binomial_upper_tail(n - k, n, 1.0 - incident_fraction) };
    (2.0 * tail).min(1.0)
}

fn metric_parts<'t>(table: &'t Table, metric: &Metric) -> Result<(Option<&'t Column>, Option<Vec<bool>>), RcaError> {
    match metric {
        Metric::Count => Ok((None, None)),
        Metric::Sum { column } => {
            let c = table.column(column).ok_or_else(|| RcaError::UnknownColumn(column.clone()))?;
            if !matches!(c.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean) {
                return Err(RcaError::NotNumeric { column: column.clone(), kind: c.kind.label() });
            }
            Ok((Some(c), None))
        }
        Metric::Rate { condition } => {
            let matched = evaluate_filter(table, &Filter { clauses: vec![condition.clone()] })?;
            let mut hits = vec![false; table.n_rows];
            for row in matched {
                if let Some(h) = hits.get_mut(row as usize) {
                    *h = true;
                }
            }
            Ok((None, Some(hits)))
        }
        other => Err(RcaError::Metric(other.describe())),
    }
}

/// Explains the change of `params.metric` between the windows over the selected `rows`.
pub fn explain_change(table: &Table, rows: &[u32], params: &RcaParams) -> Result<RcaReport, RcaError> {
    let future = std::pin::pin!(explain_change_in_steps(table, rows, params, |_, _| std::future::ready(true)));
    // Every step answers at once, so one poll runs the whole analysis.
    match std::future::Future::poll(future, &mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => Err(RcaError::Cancelled),
    }
}

/// Rows between two calls of the `step` callback while reading the windows.
const ROWS_PER_STEP: usize = 1 << 18;

/// [`explain_change`] in steps: between steps it awaits `step(stage, fraction done)`, which
/// may report progress and let other work run (the worker yields to its event loop there);
/// when that resolves to `false` the analysis stops with [`RcaError::Cancelled`].
pub async fn explain_change_in_steps<F, Fut>(table: &Table, rows: &[u32], params: &RcaParams, mut step: F) -> Result<RcaReport, RcaError>
where
    F: FnMut(&'static str, f64) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    if !(1..=3).contains(&params.max_depth) {
        return Err(RcaError::BadDepth(params.max_depth));
    }
    if params.baseline.len() <= 0 {
        return Err(RcaError::EmptyWindow("baseline"));
    }
    if params.incident.len() <= 0 {
        return Err(RcaError::EmptyWindow("incident"));
    }
    if params.baseline.start_ms < params.incident.end_ms && params.incident.start_ms < params.baseline.end_ms {
        return Err(RcaError::Overlap);
    }
    let time = table.column(&params.time_column).ok_or_else(|| RcaError::UnknownColumn(params.time_column.clone()))?;
    let ColumnData::Timestamp { ms, valid } = &time.data else { return Err(RcaError::NotTime(params.time_column.clone())) };
    let (value_column, condition) = metric_parts(table, &params.metric)?;
    let is_rate = condition.is_some();
    let scale = params.incident.len() as f64 / params.baseline.len() as f64;
    let incident_fraction = params.incident.len() as f64 / (params.incident.len() + params.baseline.len()) as f64;

    // The rows of the two windows.
    let mut window_rows = Rows { table_rows: Vec::new(), window: Vec::new(), num: Vec::new(), time: Vec::new() };
    let mut total = Acc::default();
    for (n, &row) in rows.iter().enumerate() {
        if n % ROWS_PER_STEP == 0 && !step("Selecting the windows' rows", 0.2 * n as f64 / rows.len() as f64).await {
            return Err(RcaError::Cancelled);
        }
        let r = row as usize;
        if !valid.get(r) {
            continue;
        }
        let Some(&t) = ms.get(r) else { continue };
        let window = if params.baseline.contains(t) {
            0
        } else if params.incident.contains(t) {
            1
        } else {
            continue;
        };
        let num = match (value_column, &condition) {
            (Some(column), _) => column.numeric(r).unwrap_or(0.0),
            (None, Some(hits)) => f64::from(u8::from(hits.get(r).copied().unwrap_or(false))),
            (None, None) => 1.0,
        };
        total.add(window, num, 1.0);
        window_rows.table_rows.push(row);
        window_rows.time.push(t);
        window_rows.window.push(window as u8);
        window_rows.num.push(num);
    }
    if total.rows[0] == 0 {
        return Err(RcaError::NoRows("baseline"));
    }
    if total.rows[1] == 0 {
        return Err(RcaError::NoRows("incident"));
    }
    let (base_total, inc_total) = values_of(&total, is_rate, scale);
    let delta = inc_total - base_total;
    if delta.abs() <= f64::EPSILON * base_total.abs().max(1.0) {
        return Err(RcaError::NoChange);
    }
    let totals = Totals { baseline: base_total, incident: inc_total, delta, baseline_rows: total.rows[0], incident_rows: total.rows[1], scale };

    // Dimensions.
    let metric_column_name = match &params.metric {
        Metric::Sum { column } => Some(column.as_str()),
        Metric::Rate { condition } => Some(condition.column()),
        _ => None,
    };
    let mut skipped: Vec<(String, String)> = Vec::new();
    let mut dims: Vec<Dimension> = Vec::new();
    let chosen: Vec<&Column> = match &params.dimensions {
        Some(names) => names.iter().map(|n| table.column(n).ok_or_else(|| RcaError::UnknownColumn(n.clone()))).collect::<Result<_, _>>()?,
        None => table.columns.iter().filter(|c| c.name != params.time_column && Some(c.name.as_str()) != metric_column_name).collect(),
    };
    let n_chosen = chosen.len();
    for (k, column) in chosen.into_iter().enumerate() {
        if !step("Grouping by each column", 0.2 + 0.4 * k as f64 / n_chosen.max(1) as f64).await {
            return Err(RcaError::Cancelled);
        }
        let built = match column.kind {
            ColumnType::Category | ColumnType::Boolean => category_dimension(column, &window_rows.table_rows),
            ColumnType::Integer | ColumnType::Float => numeric_dimension(column, &window_rows.table_rows),
            ColumnType::Identifier | ColumnType::Text | ColumnType::Timestamp => {
                if params.dimensions.is_some() {
                    Err(format!("a {} column does not group rows", column.kind.label()))
                } else {
                    continue;
                }
            }
        };
        match built {
            Ok(d) => dims.push(d),
            Err(why) => skipped.push((column.name.clone(), why)),
        }
    }
    if dims.is_empty() {
        return Err(RcaError::NoDimensions);
    }

    // Level 1: every value of every dimension.
    let level1: Vec<Vec<Acc>> = dims
        .iter()
        .map(|d| {
            let mut accs = vec![Acc::default(); d.labels.len()];
            for (i, &code) in d.codes.iter().enumerate() {
                if let Some(acc) = accs.get_mut(code as usize) {
                    acc.add(usize::from(window_rows.window.get(i).copied().unwrap_or(0)), window_rows.num.get(i).copied().unwrap_or(0.0), 1.0);
                }
            }
            accs
        })
        .collect();

    let dimensions: Vec<DimensionFinding> = dims.iter().zip(&level1).map(|(d, accs)| adtributor(d, accs, &total, &totals, is_rate, params.explain_share)).collect();
    let mut dimensions = dimensions;
    dimensions.sort_by(|a, b| b.surprise.total_cmp(&a.surprise).then_with(|| a.column.cmp(&b.column)));

    // Combinations: a beam search over conjunctions.
    let contribution = |acc: &Acc| -> f64 {
        if is_rate {
            segment_rate_contribution(acc, &total)
        } else {
            let (b, i) = values_of(acc, false, scale);
            i - b
        }
    };
    type Key = Vec<(usize, u32)>;
    let window_of = |i: usize| usize::from(window_rows.window.get(i).copied().unwrap_or(0));
    let num_of = |i: usize| window_rows.num.get(i).copied().unwrap_or(0.0);
    // Every one-condition extension of a segment, with its accumulator.
    let children = |key: &Key| -> Vec<(Key, Acc)> {
        let members: Vec<usize> = (0..window_rows.table_rows.len())
            .filter(|&i| key.iter().all(|&(d, v)| dims.get(d).and_then(|dim| dim.codes.get(i)).copied() == Some(v)))
            .collect();
        let mut out = Vec::new();
        for (d, dim) in dims.iter().enumerate() {
            if key.iter().any(|&(used, _)| used == d) {
                continue;
            }
            let mut accs = vec![Acc::default(); dim.labels.len()];
            for &i in &members {
                if let Some(acc) = dim.codes.get(i).and_then(|&code| accs.get_mut(code as usize)) {
                    acc.add(window_of(i), num_of(i), 1.0);
                }
            }
            for (code, acc) in accs.into_iter().enumerate().filter(|(_, acc)| acc.rows[0] + acc.rows[1] > 0) {
                let mut extended = key.clone();
                extended.push((d, code as u32));
                extended.sort_unstable();
                out.push((extended, acc));
            }
        }
        out
    };
    let mut examined = 0usize;
    let mut found: Vec<(Key, Acc)> = Vec::new();
    let mut frontier: Vec<(Key, Acc)> = Vec::new();
    for (d, accs) in level1.iter().enumerate() {
        for (v, acc) in accs.iter().enumerate() {
            examined += 1;
            frontier.push((vec![(d, v as u32)], *acc));
        }
    }
    let rank = |items: &mut Vec<(Key, Acc)>| {
        items.sort_by(|a, b| {
            let (sa, sb) = (contribution(&a.1) * delta.signum(), contribution(&b.1) * delta.signum());
            sb.total_cmp(&sa)
        });
    };
    rank(&mut frontier);
    frontier.truncate(BEAM);
    found.extend(frontier.iter().cloned());
    for depth in 2..=params.max_depth {
        let mut next: FxHashMap<Key, Acc> = FxHashMap::default();
        for (k, (key, _)) in frontier.iter().enumerate() {
            let done = (depth - 2) as f64 + k as f64 / frontier.len().max(1) as f64;
            if !step("Searching combinations", 0.6 + 0.3 * done / (params.max_depth - 1) as f64).await {
                return Err(RcaError::Cancelled);
            }
            for (extended, acc) in children(key) {
                if let std::collections::hash_map::Entry::Vacant(slot) = next.entry(extended) {
                    examined += 1;
                    slot.insert(acc);
                }
            }
        }
        let mut level: Vec<(Key, Acc)> = next.into_iter().collect();
        rank(&mut level);
        level.truncate(BEAM);
        found.extend(level.iter().cloned());
        frontier = level;
    }

    // Lift of the condition that extends `parent` into `child`: the share of the parent's
    // change the child keeps over the share of the parent's baseline it holds (the overall
    // baseline share of the value when the parent has too little baseline).
    let level1_of = |&(d, v): &(usize, u32)| level1.get(d).and_then(|accs| accs.get(v as usize)).copied().unwrap_or_default();
    let baseline_share = |part: &Acc, whole: &Acc| if is_rate { share(part.den[0], whole.den[0]) } else { share(part.num[0], whole.num[0]) };
    let lift = |parent: &Acc, child: &Acc, added: &(usize, u32)| -> (f64, f64) {
        let kept = contribution(child) / contribution(parent).abs().min(delta.abs()).max(f64::MIN_POSITIVE) * delta.signum();
        let base = if parent.rows[0] >= MIN_BASELINE_ROWS { baseline_share(child, parent) } else { baseline_share(&level1_of(added), &total) };
        // A value whose share grows everywhere (a roll-out, a mix shift) is no concentration:
        // compare with its share of the incident rows outside the parent as well.
        let pick = |a: &Acc| if is_rate { a.den[1] } else { a.num[1] };
        let outside = share(pick(&level1_of(added)) - pick(child), pick(&total) - pick(parent));
        let base = base.max(outside);
        (kept, if base > 0.0 { kept / base } else { f64::INFINITY })
    };
    if !step("Testing and ranking", 0.9).await {
        return Err(RcaError::Cancelled);
    }
    // The root cause: from the best single value, add conditions while one keeps most of the
    // change and concentrates it (iDice / HotSpot-style descent).
    let score_of = |acc: &Acc| -> f64 {
        let share_of = contribution(acc) / delta;
        if share_of <= 0.0 {
            return 0.0;
        }
        share_of.min(1.0 / share_of) * specificity(acc, is_rate, scale, delta)
    };
    let is_missing = |&(d, v): &(usize, u32)| dims.get(d).and_then(|dim| dim.labels.get(v as usize)).is_some_and(|l| l == MISSING_LABEL);
    let mut best: Option<(Key, Acc)> = found
        .iter()
        .filter(|(k, _)| k.len() == 1)
        .max_by(|a, b| {
            let (sa, sb) = (score_of(&a.1), score_of(&b.1));
            // On a tie (redundant columns), a value over "(missing)".
            if (sa - sb).abs() <= 1e-9 * sa.abs().max(sb.abs()) {
                b.0.iter().any(is_missing).cmp(&a.0.iter().any(is_missing))
            } else {
                sa.total_cmp(&sb)
            }
        })
        .cloned();
    if let Some((mut key, mut acc)) = best.take() {
        while key.len() < params.max_depth {
            let next = children(&key)
                .into_iter()
                .filter_map(|(child_key, child)| {
                    let added = child_key.iter().find(|c| !key.contains(c)).copied()?;
                    let (kept, lifted) = lift(&acc, &child, &added);
                    let missing = is_missing(&added);
                    // Between conditions that concentrate alike, a category value describes
                    // the cause better than a quantile bucket of a number.
                    let bucket = dims.get(added.0).and_then(|d| d.clauses.get(added.1 as usize)).is_some_and(|c| matches!(c, Clause::Range { .. }));
                    let preference = if bucket { lifted * BUCKET_DISCOUNT } else { lifted };
                    (kept >= KEEP && lifted >= MIN_LIFT).then_some((child_key, child, preference, missing))
                })
                // The most concentrating condition first (rarer in the baseline, same change);
                // on a tie (redundant columns) a value over "(missing)".
                .max_by(|a, b| {
                    let close = (a.2 - b.2).abs() <= 1e-9 * a.2.abs().max(b.2.abs());
                    if close { b.3.cmp(&a.3) } else { a.2.total_cmp(&b.2) }
                });
            match next {
                Some((child_key, child, _, _)) => {
                    examined += 1;
                    key = child_key;
                    acc = child;
                }
                None => break,
            }
        }
        best = Some((key, acc));
    }
    // Drop segments holding a condition that does not concentrate the change (its parent
    // without it is in the list and explains as much).
    let known: FxHashMap<Key, Acc> = found.iter().cloned().collect();
    found.retain(|(key, acc)| {
        key.len() < 2
            || key.iter().all(|c| {
                let parent: Key = key.iter().filter(|x| *x != c).copied().collect();
                known.get(&parent).is_none_or(|p| lift(p, acc, c).1 >= MIN_LIFT)
            })
    });
    if let Some(best) = &best {
        found.retain(|(k, _)| k != &best.0);
    }

    // Score, test and rank the segments; the descended root cause first when significant.
    let first_key = best.as_ref().map(|(k, _)| k.clone());
    let mut segments: Vec<Segment> = best
        .into_iter()
        .chain(found)
        .filter_map(|(key, acc)| {
            let (baseline, incident) = values_of(&acc, is_rate, scale);
            let seg_delta = contribution(&acc);
            let share = seg_delta / delta;
            if share <= 0.0 {
                return None;
            }
            let specificity = specificity(&acc, is_rate, scale, delta);
            let raw_p = p_value(&acc, is_rate, incident_fraction, delta > 0.0);
            let p_value = (raw_p * examined as f64).min(1.0);
            let conditions = key
                .iter()
                .filter_map(|&(d, v)| {
                    let dim = dims.get(d)?;
                    Some(Condition { column: dim.column.clone(), value: dim.labels.get(v as usize)?.clone(), clause: dim.clauses.get(v as usize)?.clone() })
                })
                .collect();
            Some(Segment {
                conditions,
                baseline,
                incident,
                delta: seg_delta,
                share_of_delta: share,
                specificity,
                score: share.min(1.0 / share) * specificity,
                p_value,
                significant: p_value < ALPHA,
                baseline_rows: acc.rows[0],
                incident_rows: acc.rows[1],
            })
        })
        .collect();
    let is_first = |s: &Segment| first_key.as_ref().is_some_and(|k| k.len() == s.conditions.len() && s.conditions.iter().all(|c| k.iter().any(|&(d, v)| dims.get(d).is_some_and(|dim| dim.column == c.column && dim.labels.get(v as usize) == Some(&c.value)))));
    segments.sort_by(|a, b| {
        b.significant
            .cmp(&a.significant)
            .then_with(|| is_first(b).cmp(&is_first(a)))
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| a.conditions.len().cmp(&b.conditions.len()))
    });
    segments.truncate(TOP_SEGMENTS);

    let metric_label = params.metric.describe();
    let summary = summarise(&segments, &totals, &metric_label, is_rate);
    // The metric per period over both windows, in total and for the top segments.
    let keys: Vec<Key> = segments
        .iter()
        .take(TIMELINE_SEGMENTS)
        .map(|seg| {
            seg.conditions
                .iter()
                .filter_map(|c| {
                    let d = dims.iter().position(|dim| dim.column == c.column)?;
                    let v = dims.get(d)?.labels.iter().position(|l| *l == c.value)?;
                    Some((d, v as u32))
                })
                .collect()
        })
        .collect();
    let timeline = timeline(params, &window_rows, is_rate, |i, k| {
        keys.get(k).is_some_and(|key| key.iter().all(|&(d, v)| dims.get(d).and_then(|dim| dim.codes.get(i)).copied() == Some(v)))
    }, keys.len());
    Ok(RcaReport { metric_label, is_rate, totals, dimensions, segments, examined, summary, skipped, baseline: params.baseline.clone(), incident: params.incident.clone(), timeline })
}

/// Share of a segment's incident value that is change in the direction of the total (of its
/// baseline value for decreases), 0–1.
fn specificity(acc: &Acc, is_rate: bool, scale: f64, delta: f64) -> f64 {
    let (baseline, incident) = values_of(acc, is_rate, scale);
    let own = incident - baseline;
    if own * delta <= 0.0 {
        return 0.0;
    }
    let reference = if delta > 0.0 { incident } else { baseline };
    if reference.abs() > 0.0 { (own / reference).abs().min(1.0) } else { 0.0 }
}

/// A segment's contribution to a rate's change: its rate effect plus its mix effect.
fn segment_rate_contribution(acc: &Acc, total: &Acc) -> f64 {
    let (w0, w1) = (share(acc.den[0], total.den[0]), share(acc.den[1], total.den[1]));
    let (r0, r1) = (share(acc.num[0], acc.den[0]), share(acc.num[1], acc.den[1]));
    let (w_mid, r_mid) = ((w0 + w1) / 2.0, (r0 + r1) / 2.0);
    w_mid * (r1 - r0) + r_mid * (w1 - w0)
}

fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

fn adtributor(d: &Dimension, accs: &[Acc], total: &Acc, totals: &Totals, is_rate: bool, explain_share: f64) -> DimensionFinding {
    let delta = totals.delta;
    let mut values: Vec<ValueFinding> = d
        .labels
        .iter()
        .zip(accs)
        .map(|(label, acc)| {
            let (baseline, incident) = values_of(acc, is_rate, totals.scale);
            let (baseline_share, incident_share) = if is_rate {
                (share(acc.den[0], total.den[0]), share(acc.den[1], total.den[1]))
            } else {
                (share(acc.num[0], total.num[0]), share(acc.num[1], total.num[1]))
            };
            let (rate_effect, mix_effect, contribution) = if is_rate {
                let (r0, r1) = (share(acc.num[0], acc.den[0]), share(acc.num[1], acc.den[1]));
                let rate = (baseline_share + incident_share) / 2.0 * (r1 - r0);
                let mix = (r0 + r1) / 2.0 * (incident_share - baseline_share);
                (Some(rate), Some(mix), rate + mix)
            } else {
                (None, None, incident - baseline)
            };
            ValueFinding {
                value: label.clone(),
                baseline,
                incident,
                delta: contribution,
                share_of_delta: contribution / delta,
                surprise: js_divergence(baseline_share, incident_share),
                rate_effect,
                mix_effect,
                baseline_share,
                incident_share,
            }
        })
        .collect();
    values.sort_by(|a, b| b.share_of_delta.total_cmp(&a.share_of_delta).then_with(|| a.value.cmp(&b.value)));
    // Adtributor's explanatory set: by surprise, values each explaining ≥ 10 % until the set
    // explains `explain_share`; the dimension's score is the set's surprise.
    let mut by_surprise: Vec<&ValueFinding> = values.iter().filter(|v| v.share_of_delta >= 0.1).collect();
    by_surprise.sort_by(|a, b| b.surprise.total_cmp(&a.surprise));
    let (mut surprise, mut explained_ep) = (0.0, 0.0);
    for v in &by_surprise {
        if explained_ep >= explain_share {
            break;
        }
        surprise += v.surprise;
        explained_ep += v.share_of_delta;
    }
    // The fewest values (by contribution) reaching the share.
    let mut explaining = Vec::new();
    let mut explained = 0.0;
    for v in values.iter().filter(|v| v.share_of_delta > 0.0) {
        if explained >= explain_share {
            break;
        }
        explained += v.share_of_delta;
        explaining.push(v.value.clone());
    }
    if explained < explain_share {
        explaining.clear();
    }
    DimensionFinding { column: d.column.clone(), surprise, values, explaining, explained }
}

fn summarise(segments: &[Segment], totals: &Totals, metric_label: &str, is_rate: bool) -> String {
    let pct = if totals.baseline.abs() > 0.0 { format!(" ({:+.0} %)", totals.delta / totals.baseline * 100.0) } else { String::new() };
    let signed = |delta: f64| {
        if is_rate {
            format!("{:+.2} points", delta * 100.0)
        } else {
            let sign = if delta >= 0.0 { "+" } else { "−" };
            format!("{sign}{}", crate::format::format_count(delta.abs().round() as u64))
        }
    };
    let change = signed(totals.delta);
    match segments.first() {
        // More than the whole change: the rest moved the other way; say so rather than "109 %".
        Some(top) if top.share_of_delta > 1.005 => format!(
            "{} {metric_label} came from {}, more than the whole change of {change} {metric_label}{pct}: the rest moved {}",
            signed(top.delta),
            top.describe(),
            signed(totals.delta - top.delta)
        ),
        Some(top) => format!("{:.0} % of the {change} {metric_label}{pct} came from {}", top.share_of_delta * 100.0, top.describe()),
        None => format!("The {change} {metric_label}{pct} is spread out: no segment carries it."),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code
    use super::*;

    #[test]
    fn ln_gamma_and_binomial_tails_match_known_values() {
        // ln Γ(5) = ln 24; ln Γ(0.5) = ln √π.
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        // scipy.stats.binom.sf(7, 10, 0.5) = P(X ≥ 8) = 56/1024.
        assert!((binomial_upper_tail(8, 10, 0.5) - 56.0 / 1024.0).abs() < 1e-12);
        assert_eq!(binomial_upper_tail(0, 10, 0.3), 1.0);
        assert_eq!(binomial_upper_tail(11, 10, 0.3), 0.0);
    }

    #[test]
    fn js_divergence_is_zero_for_no_shift_and_grows_with_it() {
        assert_eq!(js_divergence(0.2, 0.2), 0.0);
        assert!(js_divergence(0.2, 0.6) > js_divergence(0.2, 0.3));
    }

    #[test]
    fn a_segment_carrying_more_than_the_change_is_said_plainly() {
        let totals = Totals { baseline: 1000.0, incident: 1100.0, delta: 100.0, baseline_rows: 1000, incident_rows: 1100, scale: 1.0 };
        let segment = |share: f64| Segment {
            conditions: vec![Condition { column: "c".into(), value: "v".into(), clause: Clause::InSet { column: "c".into(), values: vec!["v".into()], negate: false } }],
            baseline: 10.0,
            incident: 10.0 + 100.0 * share,
            delta: 100.0 * share,
            share_of_delta: share,
            specificity: 1.0,
            score: 1.0,
            p_value: 0.0,
            significant: true,
            baseline_rows: 10,
            incident_rows: 120,
        };
        assert_eq!(summarise(&[segment(0.9)], &totals, "rows", false), "90 % of the +100 rows (+10 %) came from c=v");
        assert_eq!(summarise(&[segment(1.2)], &totals, "rows", false), "+120 rows came from c=v, more than the whole change of +100 rows (+10 %): the rest moved −20");
    }

    #[test]
    fn rate_effects_add_up_to_the_change() {
        let total = Acc { num: [30.0, 60.0], den: [100.0, 120.0], rows: [100, 120] };
        let parts = [Acc { num: [10.0, 40.0], den: [50.0, 80.0], rows: [50, 80] }, Acc { num: [20.0, 20.0], den: [50.0, 40.0], rows: [50, 40] }];
        let sum: f64 = parts.iter().map(|p| segment_rate_contribution(p, &total)).sum();
        assert!((sum - (60.0 / 120.0 - 30.0 / 100.0)).abs() < 1e-12);
    }
}
