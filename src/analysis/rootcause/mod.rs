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

//!
//! The analysis in order: [`cube`] selects the windows' rows and codes every dimension per row;
//! [`search`] runs Adtributor per dimension, the beam over combinations, the descent to the root
//! cause and the ranking; [`summary`] says it in a line and draws the timelines.

use serde::{Deserialize, Serialize};

use super::contract::{has_column, missing_column, run_now, Analysis, FitColumns, Progress, Weights};
use super::series::Metric;
use crate::data::filter::{Clause, FilterError};
use crate::data::table::{ColumnType, Table};
use cube::Cube;
use search::Search;

mod adtributor;
mod cube;
mod rates;
mod search;
mod stats;
mod summary;

/// Most values a category dimension may have to take part (ids are not dimensions).
pub const MAX_VALUES: usize = 1_000;
/// Quantile buckets for numeric dimensions.
pub const NUMERIC_BUCKETS: usize = 5;
/// A numeric column with at most this many distinct values is explained by its values.
pub const DISCRETE_VALUES: usize = 20;
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
const KEEP: f64 = 0.6;
/// … and concentrates it: the kept share over the share of the baseline the condition holds.
const MIN_LIFT: f64 = 1.5;
/// Weight of a numeric bucket's lift when choosing between conditions.
const BUCKET_DISCOUNT: f64 = 0.8;
/// Single values the root cause is descended from (the best by score, discounted for mix
/// shifts); the descent that carries the change best wins.
const STARTS: usize = 4;
/// Two values of one dimension replace their parent as the root cause only when they hold its
/// change this many times more densely (specificity over the parent's).
const PAIR_DENSITY: f64 = 1.1;
/// A second root cause must be this specific: the share of its incident value that is change.
const MIN_SPECIFICITY: f64 = 0.2;
/// A second root cause must carry at least this share of the change.
const SECOND_CAUSE_SHARE: f64 = 0.1;
/// Fewer baseline rows than this and a segment's own baseline mix is too thin to compare with.
const MIN_BASELINE_ROWS: f64 = 30.0;
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

impl RcaParams {
    /// The explanation of an incident against its baseline as "Explain" asks for it (every
    /// dimension, combinations to depth 3), in the Trends tab and on the command line.
    pub fn explaining(time_column: String, metric: Metric, baseline: Window, incident: Window) -> Self {
        Self { time_column, metric, baseline, incident, dimensions: None, max_depth: 3, explain_share: 0.8 }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub enum RcaError {
    #[error("there is no column {0:?}")]
    UnknownColumn(String),
    #[error("{0:?} is not a timestamp column")]
    NotTime(String),
    #[error("{0} does not split into parts: choose a row count, a sum or a rate")]
    Metric(String),
    #[error("{column:?} is a {kind} column; a sum needs numbers")]
    NotNumeric { column: String, kind: String },
    #[error("the {0} window is empty or reversed")]
    EmptyWindow(String),
    #[error("the baseline and incident windows overlap")]
    Overlap,
    #[error("no row falls in the {0} window")]
    NoRows(String),
    #[error("the metric did not change between the windows")]
    NoChange,
    #[error("no column can explain the change (no category, boolean or numeric column besides the metric)")]
    NoDimensions,
    #[error("depth must be 1, 2 or 3 (got {0})")]
    BadDepth(usize),
    #[error("rate condition: {0}")]
    Condition(#[from] FilterError),
    #[error("stopped before it finished")]
    Stopped,
}

impl From<crate::analysis::contract::Stopped> for RcaError {
    fn from(_: crate::analysis::contract::Stopped) -> Self {
        Self::Stopped
    }
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
    /// The root cause: indices into `segments` (one, or two when two segments carry the change
    /// together); empty when no segment carries it.
    #[serde(default)]
    pub causes: Vec<usize>,
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
    #[serde(with = "crate::analysis::nan_serde")]
    pub total: Vec<f64>,
    /// Per segment (in report order), the metric of its rows (rates: the segment's own rate).
    pub segments: Vec<TimelineSeries>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineSeries {
    #[serde(with = "crate::analysis::nan_serde")]
    pub with: Vec<f64>,
    /// The metric of all other rows.
    #[serde(with = "crate::analysis::nan_serde")]
    pub without: Vec<f64>,
}

/// Root cause as an analysis.
pub struct RootCause;

impl Analysis for RootCause {
    const NAME: &'static str = "rca";
    const TITLE: &'static str = "Root cause";
    const WEIGHTED: bool = true;
    type Params = RcaParams;
    type Report = RcaReport;
    type Error = RcaError;

    fn check(params: &RcaParams) -> Result<(), RcaError> {
        if !(1..=3).contains(&params.max_depth) {
            return Err(RcaError::BadDepth(params.max_depth));
        }
        if params.baseline.len() <= 0 {
            return Err(RcaError::EmptyWindow("baseline".to_string()));
        }
        if params.incident.len() <= 0 {
            return Err(RcaError::EmptyWindow("incident".to_string()));
        }
        if params.baseline.start_ms < params.incident.end_ms && params.incident.start_ms < params.baseline.end_ms {
            return Err(RcaError::Overlap);
        }
        Ok(())
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &RcaParams, progress: &mut impl Progress) -> Result<RcaReport, RcaError> {
        explain_in_steps(table, rows, weights, params, progress).await
    }
}

/// Explains the change of `params.metric` between the windows over the selected `rows`.
pub fn explain_change(table: &Table, rows: &[u32], params: &RcaParams) -> Result<RcaReport, RcaError> {
    run_now::<RootCause>(table, rows, params)
}

/// Rows between two progress steps while reading the windows.
const ROWS_PER_STEP: usize = 1 << 18;

/// [`explain_change`] in steps (after [`RootCause::check`]): it steps `progress` every
/// [`ROWS_PER_STEP`] rows read, per dimension coded and per beam candidate extended.
async fn explain_in_steps(table: &Table, rows: &[u32], weights: Weights<'_>, params: &RcaParams, progress: &mut impl Progress) -> Result<RcaReport, RcaError> {
    let cube = Cube::select(table, rows, weights, params, progress).await?;
    let (dims, skipped) = cube::dimensions(table, params, &cube.rows.table_rows, weights, progress).await?;
    let search = Search::new(cube, dims);
    let mut dimensions = search.adtributor(params.explain_share);
    dimensions.sort_by(|a, b| b.surprise.total_cmp(&a.surprise).then_with(|| a.column.cmp(&b.column)));
    let (found, examined) = search.beam(params.max_depth, progress).await?;
    progress.step("ranking", "Testing and ranking", 0.9).await?;
    let (causes, read) = search.root_causes(&found, params.max_depth, examined);
    let found = search.prune(found, &causes);
    let segments = search.rank(&causes, found, examined + read);
    let metric_label = params.metric.describe_weighted(weights);
    let summary = summary::summarise(&segments[..causes.len().min(segments.len())], &search.cube.totals, &metric_label, search.cube.is_rate);
    let timeline = search.timeline(params, &segments);
    Ok(RcaReport {
        metric_label,
        is_rate: search.cube.is_rate,
        totals: search.cube.totals.clone(),
        dimensions,
        causes: (0..causes.len().min(segments.len())).collect(),
        segments,
        examined: examined + read,
        summary,
        skipped,
        baseline: params.baseline.clone(),
        incident: params.incident.clone(),
        timeline,
    })
}

impl FitColumns for RcaParams {
    /// Drops the windows when their time or metric column is gone; drops missing dimensions.
    fn fit_columns(mut self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        let mut named = vec![self.time_column.clone()];
        named.extend(self.metric.column().map(str::to_string));
        if let Some(column) = named.into_iter().find(|c| !has_column(columns, c)) {
            notices.push(missing_column("root-cause windows", &column));
            return None;
        }
        if let Some(dimensions) = self.dimensions.as_mut() {
            dimensions.retain(|column| has_column(columns, column) || {
                notices.push(missing_column("root-cause dimension", column));
                false
            });
        }
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code
    use super::cube::Acc;
    use super::stats::{binomial_upper_tail, js_divergence, ln_gamma, segment_rate_contribution};
    use super::summary::summarise;
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
        // scipy.stats.binom.sf(k - 1, n, p) on both sides of the mean, from 5 to 20 million
        // trials.
        let third = 1.0 / 29.0;
        for (k, n, p, sf) in [
            (3, 10, 0.5, 0.9453125),
            (2, 5, 0.9, 0.99954),
            (60, 1_000, 0.01, 1.843827984012186e-27),
            (250, 6_000, third, 0.0016789000451445364),
            (150, 6_000, third, 0.9999895698805287),
            (5_200, 100_000, 0.05, 0.001995480069652547),
            (1_000_500, 20_000_000, 0.05, 0.3041191939223546),
            (999_000, 20_000_000, 0.05, 0.8476719341155678),
        ] {
            let ours = binomial_upper_tail(k, n, p);
            // ln Γ's relative error times its size (about n ln n) is what is left of the last digits.
            let tolerance = 1e-11 + 1e-15 * n as f64 * (n as f64).ln();
            assert!((ours - sf).abs() <= tolerance * sf, "P(X ≥ {k}), Bin({n}, {p}): {ours} against {sf}");
        }
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
        assert_eq!(summarise(&[segment(0.6), segment(0.3)], &totals, "rows", false), "90 % of the +100 rows (+10 %) came from c=v (60 %) and c=v (30 %) together");
        assert_eq!(summarise(&[segment(0.8), segment(0.4)], &totals, "rows", false), "+120 rows came from c=v (+80) and c=v (+40) together, more than the whole change of +100 rows (+10 %): the rest moved −20");
        assert_eq!(summarise(&[segment(1.01)], &totals, "rows", false), "100 % of the +100 rows (+10 %) came from c=v");
        assert_eq!(summarise(&[], &totals, "rows", false), "The +100 rows (+10 %) is spread out: no segment carries it.");
    }

    #[test]
    fn rate_effects_add_up_to_the_change() {
        let total = Acc { num: [30.0, 60.0], den: [100.0, 120.0], rows: [100.0, 120.0], expected: 0.0 };
        let parts = [Acc { num: [10.0, 40.0], den: [50.0, 80.0], rows: [50.0, 80.0], expected: 0.0 }, Acc { num: [20.0, 20.0], den: [50.0, 40.0], rows: [50.0, 40.0], expected: 0.0 }];
        let sum: f64 = parts.iter().map(|p| segment_rate_contribution(p, &total)).sum();
        assert!((sum - (60.0 / 120.0 - 30.0 / 100.0)).abs() < 1e-12);
    }
}
