//! Detection rules and score thresholds against ground truth.
//!
//! [`backtest`] evaluates rules (the language of [`crate::data::expr`]) on the rows passing the
//! filter whose label is present: the confusion matrix, precision / recall / F1, flagged volume
//! per day and precision per week (drift), and, across rules, overlaps, disagreements, each
//! rule's marginal catch given the others and the union as a rule set. [`score_curves`] gives
//! ROC and precision-recall curves of a numeric score with scikit-learn's AUC and average
//! precision, the confusion at a threshold and the lowest threshold reaching a precision.
//!
//! Both are weighted: a row of weight w is w events, so counts are sums of weights (a confusion
//! of events) and the curves are scikit-learn's with `sample_weight`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::contract::{has_column, missing_column, run_now, Analysis, FitColumns, Progress, Weights};
use super::labels::LabelSpec;
use crate::data::expr::{compile, parse, to_sql};
use crate::data::table::{ColumnType, Table, Value};
use crate::data::time::DAY_MS;

/// Rules side by side: at most this many.
pub const MAX_RULES: usize = 12;
/// Curves are thinned to about this many points for drawing.
const CURVE_POINTS: usize = 400;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSpec {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestParams {
    pub rules: Vec<RuleSpec>,
    pub label: LabelSpec,
    /// For flagged volume per day and precision per week; `None`: the first timestamp column.
    pub time_column: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Error)]
pub enum BacktestError {
    #[error("there is no label column “{0}”")]
    NoLabel(String),
    #[error("choose a label column in the Profile tab (Ground truth) first")]
    ChooseLabel,
    #[error("write a rule first, e.g. prior_strikes >= 2 and account_age_days < 30")]
    NoRules,
    #[error("no row has a label")]
    NoLabelledRows,
    #[error("at most {MAX_RULES} rules side by side")]
    TooManyRules,
    #[error("there is no column “{0}”")]
    NoColumn(String),
    #[error("“{column}” is {kind}: a score must be a number")]
    NotNumeric { column: String, kind: String },
    #[error("the score needs both classes among the labelled rows with a score ({positives} positive, {negatives} negative)")]
    OneClass { positives: u64, negatives: u64 },
    #[error("stopped before it finished")]
    Stopped,
}

impl From<crate::analysis::contract::Stopped> for BacktestError {
    fn from(_: crate::analysis::contract::Stopped) -> Self {
        Self::Stopped
    }
}

/// Events (rows, or the sum of their weights) of a binary decision against the truth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
    pub tn: f64,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

impl Confusion {
    fn add(&mut self, flagged: bool, positive: bool, weight: f64) {
        match (flagged, positive) {
            (true, true) => self.tp += weight,
            (true, false) => self.fp += weight,
            (false, true) => self.fn_ += weight,
            (false, false) => self.tn += weight,
        }
    }

    pub fn flagged(&self) -> f64 {
        self.tp + self.fp
    }

    pub fn total(&self) -> f64 {
        self.tp + self.fp + self.fn_ + self.tn
    }

    /// NaN when nothing is flagged.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// NaN when there is no positive.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    pub fn f1(&self) -> f64 {
        ratio(2.0 * self.tp, 2.0 * self.tp + self.fp + self.fn_)
    }
}

/// Flagged events and precision in one week (Monday 00:00 UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekPoint {
    pub start_ms: i64,
    pub flagged: f64,
    pub true_positives: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    pub name: String,
    pub text: String,
    pub sql: String,
    pub sql_notes: Vec<String>,
    pub confusion: Confusion,
    /// Positive events this rule catches that no other rule does.
    pub marginal: f64,
    /// (day start ms, flagged events), every day of the span.
    pub daily: Vec<(i64, f64)>,
    pub weekly: Vec<WeekPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    pub label: String,
    pub positive_classes: Vec<String>,
    /// Events passing the filter with a label (rows, or their weights' sum).
    pub rows: f64,
    pub positives: f64,
    /// Events without a label, left out.
    pub missing_label: f64,
    /// Per rule, its result or why it cannot run (a typo, a column that does not fit).
    pub rules: Vec<Result<RuleResult, String>>,
    /// The rules that run, as one rule set (any of them flags).
    pub union: Option<Confusion>,
    /// `overlap[i][j]`: events both rule i and rule j flag (i = j: rule i's flagged events).
    pub overlap: Vec<Vec<f64>>,
    /// `disagree[i][j]`: events exactly one of the two flags.
    pub disagree: Vec<Vec<f64>>,
    pub time_column: Option<String>,
}

/// Monday-based week index of a UTC day number (day 0 = Thursday 1970-01-01).
fn week_of_day(day: i64) -> i64 {
    (day + 3).div_euclid(7)
}

/// Rules backtested against the label, as an analysis.
pub struct Backtest;

impl Analysis for Backtest {
    const NAME: &'static str = "backtest";
    const TITLE: &'static str = "Rules";
    const WEIGHTED: bool = true;
    type Params = BacktestParams;
    type Report = BacktestReport;
    type Error = BacktestError;

    fn check(params: &BacktestParams) -> Result<(), BacktestError> {
        if params.label.column.is_empty() {
            return Err(BacktestError::ChooseLabel);
        }
        if params.rules.iter().all(|r| r.text.trim().is_empty()) {
            return Err(BacktestError::NoRules);
        }
        if params.rules.len() > MAX_RULES {
            return Err(BacktestError::TooManyRules);
        }
        Ok(())
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &BacktestParams, progress: &mut impl Progress) -> Result<BacktestReport, BacktestError> {
        backtest_in_steps(table, rows, weights, params, progress).await
    }
}

/// Evaluates the rules on `rows` (rows with a missing label are left out and counted).
pub fn backtest(table: &Table, rows: &[u32], params: &BacktestParams) -> Result<BacktestReport, BacktestError> {
    run_now::<Backtest>(table, rows, params)
}

async fn backtest_in_steps(table: &Table, rows: &[u32], weights: Weights<'_>, params: &BacktestParams, progress: &mut impl Progress) -> Result<BacktestReport, BacktestError> {
    progress.step("label", "Reading the label", 0.0).await?;
    let truth = params.label.truth(table).ok_or_else(|| BacktestError::NoLabel(params.label.column.clone()))?;
    let positive_classes = params.label.positive_classes(table).unwrap_or_default();
    let labelled: Vec<(usize, bool)> = rows.iter().filter_map(|&r| truth.get(r as usize).copied().flatten().map(|t| (r as usize, t))).collect();
    if labelled.is_empty() {
        return Err(BacktestError::NoLabelledRows);
    }
    let weight: Vec<f64> = labelled.iter().map(|&(r, _)| weights.of(r as u32)).collect();
    let labelled_events: f64 = weight.iter().sum();
    let all_events: f64 = rows.iter().map(|&r| weights.of(r)).sum();
    // (From +0: an empty sum of floats is −0.)
    let positives: f64 = labelled.iter().zip(&weight).filter(|((_, t), _)| *t).fold(0.0, |sum, (_, w)| sum + w);
    let time_column = match &params.time_column {
        Some(name) => Some(table.column(name).ok_or_else(|| BacktestError::NoColumn(name.clone()))?),
        None => table.columns.iter().find(|c| c.kind == ColumnType::Timestamp),
    };
    let days: Vec<Option<i64>> = labelled
        .iter()
        .map(|&(r, _)| match time_column.map(|c| c.value(r)) {
            Some(Value::Timestamp(ms)) => Some(ms.div_euclid(DAY_MS)),
            _ => None,
        })
        .collect();
    // The span of days: the bulk of the rows (0.5 % trimmed at each end from 200 rows), so a
    // mistyped year does not stretch the axis.
    let mut sorted_days: Vec<i64> = days.iter().flatten().copied().collect();
    sorted_days.sort_unstable();
    let trim = if sorted_days.len() >= 200 { sorted_days.len() / 200 } else { 0 };
    let span = match (sorted_days.get(trim), sorted_days.len().checked_sub(1 + trim).and_then(|i| sorted_days.get(i))) {
        (Some(&lo), Some(&hi)) if hi - lo <= 3660 => Some((lo, hi)),
        _ => None,
    };

    // Flags per rule (None: the rule does not run).
    let mut flags: Vec<Option<Vec<bool>>> = Vec::new();
    let mut results: Vec<Result<RuleResult, String>> = Vec::new();
    for (rule_idx, spec) in params.rules.iter().enumerate() {
        progress.step("rules", &spec.name, 0.1 + 0.8 * rule_idx as f64 / params.rules.len() as f64).await?;
        let compiled = parse(&spec.text).map_err(|e| e.to_string()).and_then(|expr| {
            let (sql, notes) = to_sql(&expr, Some(table));
            compile(table, &expr).map(|c| (c, sql, notes)).map_err(|e| e.to_string())
        });
        match compiled {
            Ok((compiled, sql, sql_notes)) => {
                let mut confusion = Confusion::default();
                let mut rule_flags = Vec::with_capacity(labelled.len());
                let mut daily = span.map(|(lo, hi)| vec![0.0; (hi - lo + 1) as usize]).unwrap_or_default();
                let mut weekly: std::collections::BTreeMap<i64, (f64, f64)> = Default::default();
                for (idx, (&(row, positive), &w)) in labelled.iter().zip(&weight).enumerate() {
                    let flagged = compiled.flags(row);
                    confusion.add(flagged, positive, w);
                    rule_flags.push(flagged);
                    if let (true, Some(day), Some((lo, hi))) = (flagged, days.get(idx).copied().flatten(), span) {
                        if (lo..=hi).contains(&day) {
                            if let Some(slot) = daily.get_mut((day - lo) as usize) {
                                *slot += w;
                            }
                            let week = weekly.entry(week_of_day(day)).or_default();
                            week.0 += w;
                            if positive {
                                week.1 += w;
                            }
                        }
                    }
                }
                flags.push(Some(rule_flags));
                results.push(Ok(RuleResult {
                    name: spec.name.clone(),
                    text: spec.text.clone(),
                    sql,
                    sql_notes,
                    confusion,
                    marginal: 0.0,
                    daily: span.map(|(lo, _)| daily.iter().enumerate().map(|(i, &n)| ((lo + i as i64) * DAY_MS, n)).collect()).unwrap_or_default(),
                    weekly: weekly.into_iter().map(|(w, (flagged, tp))| WeekPoint { start_ms: (w * 7 - 3) * DAY_MS, flagged, true_positives: tp }).collect(),
                }));
            }
            Err(message) => {
                flags.push(None);
                results.push(Err(message));
            }
        }
    }

    // Across rules.
    let n = params.rules.len();
    let mut overlap = vec![vec![0.0; n]; n];
    let mut disagree = vec![vec![0.0; n]; n];
    let mut union = Confusion::default();
    let mut marginal = vec![0.0; n];
    let running: Vec<usize> = (0..n).filter(|&i| flags[i].is_some()).collect();
    for (idx, (&(_, positive), &w)) in labelled.iter().zip(&weight).enumerate() {
        let hit: Vec<bool> = (0..n).map(|i| flags[i].as_ref().and_then(|f| f.get(idx)).copied().unwrap_or(false)).collect();
        for &i in &running {
            for &j in &running {
                if hit[i] && hit[j] {
                    overlap[i][j] += w;
                }
                if hit[i] != hit[j] {
                    disagree[i][j] += w;
                }
            }
        }
        let count = hit.iter().filter(|&&h| h).count();
        union.add(count > 0, positive, w);
        if positive && count == 1 {
            if let Some(i) = hit.iter().position(|&h| h) {
                marginal[i] += w;
            }
        }
    }
    for (result, m) in results.iter_mut().zip(marginal) {
        if let Ok(r) = result {
            r.marginal = m;
        }
    }
    Ok(BacktestReport {
        label: params.label.column.clone(),
        positive_classes,
        rows: labelled_events,
        positives,
        missing_label: all_events - labelled_events,
        rules: results,
        union: (!running.is_empty()).then_some(union),
        overlap,
        disagree,
        time_column: time_column.map(|c| c.name.clone()),
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreParams {
    pub score: String,
    pub label: LabelSpec,
    /// Flag rows with score ≥ threshold; `None`: 0.5 within the score's range, else its median.
    pub threshold: Option<f64>,
    /// Report the lowest threshold whose precision reaches this.
    pub min_precision: f64,
}

/// The Models tab's score choices, as the link stores them; with the label they make the
/// [`ScoreParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScoreSettings {
    pub column: Option<String>,
    pub threshold: Option<f64>,
    pub min_precision: f64,
}

impl Default for ScoreSettings {
    fn default() -> Self {
        Self { column: None, threshold: None, min_precision: 0.9 }
    }
}

impl ScoreSettings {
    /// The analysis's parameters, once a score column is chosen.
    pub fn params(&self, label: LabelSpec) -> Option<ScoreParams> {
        Some(ScoreParams { score: self.column.clone()?, label, threshold: self.threshold, min_precision: self.min_precision })
    }
}

impl FitColumns for ScoreSettings {
    fn fit_columns(mut self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        if let Some(column) = self.column.take_if(|c| !has_column(columns, c)) {
            notices.push(missing_column("score column", &column));
        }
        if !(self.min_precision.is_finite() && (0.0..=1.0).contains(&self.min_precision)) {
            self.min_precision = Self::default().min_precision;
        }
        Some(self)
    }
}

/// One point of a curve: the threshold and what flagging score ≥ threshold gives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub threshold: f64,
    pub tpr: f64,
    pub fpr: f64,
    pub precision: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreReport {
    pub score: String,
    pub label: String,
    /// Labelled events with a score (rows, or their weights' sum).
    pub rows: f64,
    pub positives: f64,
    /// Labelled events without a score (left out).
    pub missing_score: f64,
    /// Area under the ROC curve (scikit-learn's `roc_auc_score` with the weights as `sample_weight`).
    pub roc_auc: f64,
    /// Average precision (scikit-learn's `average_precision_score`, weighted likewise).
    pub average_precision: f64,
    /// Every distinct threshold, descending, thinned for drawing (first and last kept).
    pub curve: Vec<CurvePoint>,
    pub threshold: f64,
    pub at_threshold: Confusion,
    pub min_precision: f64,
    /// The lowest threshold with precision ≥ `min_precision` (the most recall at that precision).
    pub best_for_precision: Option<CurvePoint>,
}

/// A score column against the label, as an analysis.
pub struct Scores;

impl Analysis for Scores {
    const NAME: &'static str = "scores";
    const TITLE: &'static str = "Score curves";
    const WEIGHTED: bool = true;
    type Params = ScoreParams;
    type Report = ScoreReport;
    type Error = BacktestError;

    fn check(params: &ScoreParams) -> Result<(), BacktestError> {
        if params.score.is_empty() {
            return Err(BacktestError::NoColumn(String::new()));
        }
        Ok(())
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &ScoreParams, progress: &mut impl Progress) -> Result<ScoreReport, BacktestError> {
        progress.step("curves", "Sorting the scores", 0.0).await?;
        curves(table, rows, weights, params)
    }
}

/// ROC and precision-recall of a numeric score against the label.
pub fn score_curves(table: &Table, rows: &[u32], params: &ScoreParams) -> Result<ScoreReport, BacktestError> {
    run_now::<Scores>(table, rows, params)
}

/// [`score_curves`], each row counting as its weight.
fn curves(table: &Table, rows: &[u32], weights: Weights<'_>, params: &ScoreParams) -> Result<ScoreReport, BacktestError> {
    let truth = params.label.truth(table).ok_or_else(|| BacktestError::NoLabel(params.label.column.clone()))?;
    let column = table.column(&params.score).ok_or_else(|| BacktestError::NoColumn(params.score.clone()))?;
    if !matches!(column.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean) {
        return Err(BacktestError::NotNumeric { column: column.name.clone(), kind: column.kind.label().to_string() });
    }
    let mut missing_score = 0.0;
    // (score, positive, weight); a row of weight 0 stands for no event.
    let mut pairs: Vec<(f64, bool, f64)> = Vec::with_capacity(rows.len());
    for &r in rows {
        let Some(positive) = truth.get(r as usize).copied().flatten() else { continue };
        let w = weights.of(r);
        match column.numeric(r as usize) {
            Some(score) if w > 0.0 => pairs.push((score, positive, w)),
            Some(_) => {}
            None => missing_score += w,
        }
    }
    let (p, n) = pairs.iter().fold((0.0, 0.0), |(p, n), &(_, positive, w)| if positive { (p + w, n) } else { (p, n + w) });
    if p <= 0.0 || n <= 0.0 {
        let events = |e: f64| e.round().max(0.0) as u64;
        return Err(BacktestError::OneClass { positives: events(p), negatives: events(n) });
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    // Cumulative events at each distinct threshold, descending (scikit-learn's
    // `_binary_clf_curve` with `sample_weight`).
    let mut points: Vec<(f64, f64, f64)> = Vec::new();
    let (mut tp, mut fp) = (0.0, 0.0);
    for (idx, &(score, positive, w)) in pairs.iter().enumerate() {
        if positive {
            tp += w;
        } else {
            fp += w;
        }
        if pairs.get(idx + 1).is_none_or(|next| next.0 != score) {
            points.push((score, tp, fp));
        }
    }
    // ROC AUC: trapezoids from (0, 0).
    let mut roc_auc = 0.0;
    let (mut prev_fpr, mut prev_tpr) = (0.0, 0.0);
    for &(_, tp, fp) in &points {
        let (fpr, tpr) = (fp / n, tp / p);
        roc_auc += (fpr - prev_fpr) * (tpr + prev_tpr) / 2.0;
        (prev_fpr, prev_tpr) = (fpr, tpr);
    }
    // Average precision: Σ (Rₖ − Rₖ₋₁) Pₖ over descending thresholds.
    let mut average_precision = 0.0;
    let mut prev_recall = 0.0;
    for &(_, tp, fp) in &points {
        let recall = tp / p;
        average_precision += (recall - prev_recall) * (tp / (tp + fp));
        prev_recall = recall;
    }
    let curve_all: Vec<CurvePoint> = points
        .iter()
        .map(|&(threshold, tp, fp)| CurvePoint { threshold, tpr: tp / p, fpr: fp / n, precision: tp / (tp + fp) })
        .collect();
    let step = curve_all.len().div_ceil(CURVE_POINTS).max(1);
    let mut curve: Vec<CurvePoint> = curve_all.iter().step_by(step).copied().collect();
    if let (Some(last), Some(kept)) = (curve_all.last(), curve.last()) {
        if last != kept {
            curve.push(*last);
        }
    }
    let (lo, hi) = (pairs.last().map_or(0.0, |p| p.0), pairs.first().map_or(1.0, |p| p.0));
    let threshold = params.threshold.filter(|t| t.is_finite()).unwrap_or_else(|| {
        if lo >= 0.0 && hi <= 1.0 {
            0.5
        } else {
            // The score of the middle event, counted from the highest score down.
            let descending: Vec<(f64, f64)> = pairs.iter().map(|&(score, _, w)| (score, w)).collect();
            crate::analysis::stats::value_at_event(&descending, ((p + n) / 2.0).floor()).unwrap_or(0.0)
        }
    });
    let mut at_threshold = Confusion::default();
    for &(score, positive, w) in &pairs {
        at_threshold.add(score >= threshold, positive, w);
    }
    let best_for_precision = curve_all.iter().rev().find(|c| c.precision >= params.min_precision).copied();
    Ok(ScoreReport {
        score: params.score.clone(),
        label: params.label.column.clone(),
        rows: p + n,
        positives: p,
        missing_score,
        roc_auc,
        average_precision,
        curve,
        threshold,
        at_threshold,
        min_precision: params.min_precision,
        best_for_precision,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failing unwrap is a failing test
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};

    fn table() -> Table {
        let csv = "t,label,a,b,score\n\
            2026-01-05T10:00:00Z,bad,1,0,0.9\n\
            2026-01-05T11:00:00Z,bad,1,1,0.8\n\
            2026-01-06T10:00:00Z,ok,1,0,0.8\n\
            2026-01-13T10:00:00Z,ok,0,1,0.3\n\
            2026-01-13T11:00:00Z,bad,0,1,0.4\n\
            2026-01-14T10:00:00Z,ok,0,0,0.1\n\
            2026-01-14T12:00:00Z,,1,1,0.5\n";
        load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
    }

    fn label() -> LabelSpec {
        LabelSpec { column: "label".into(), positive: vec!["bad".into()] }
    }

    #[test]
    fn confusion_drift_overlap_and_marginal_catch() {
        let t = table();
        let rows: Vec<u32> = (0..t.n_rows as u32).collect();
        let rules = vec![
            RuleSpec { name: "A".into(), text: "a = 1".into() },
            RuleSpec { name: "B".into(), text: "b = 1".into() },
            RuleSpec { name: "typo".into(), text: "b = ".into() },
        ];
        let report = backtest(&t, &rows, &BacktestParams { rules, label: label(), time_column: None }).unwrap();
        assert_eq!((report.rows, report.positives, report.missing_label), (6.0, 3.0, 1.0));
        let a = report.rules[0].as_ref().unwrap();
        assert_eq!(a.confusion, Confusion { tp: 2.0, fp: 1.0, fn_: 1.0, tn: 2.0 });
        assert!((a.confusion.precision() - 2.0 / 3.0).abs() < 1e-12);
        assert!((a.confusion.f1() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(a.sql, "\"a\" = 1");
        let b = report.rules[1].as_ref().unwrap();
        assert_eq!(b.confusion, Confusion { tp: 2.0, fp: 1.0, fn_: 1.0, tn: 2.0 });
        // A alone catches row 0, B alone row 4.
        assert_eq!((a.marginal, b.marginal), (1.0, 1.0));
        assert!(report.rules[2].as_ref().unwrap_err().contains("at character 5"));
        assert_eq!(report.union, Some(Confusion { tp: 3.0, fp: 2.0, fn_: 0.0, tn: 1.0 }));
        assert_eq!(report.overlap[0][1], 1.0);
        assert_eq!(report.overlap[0][0], 3.0);
        assert_eq!(report.disagree[0][1], 4.0);
        // Days 5, 6, …, 14 (flagged on the 5th twice, the 6th once); weeks of the 5th and 12th.
        assert_eq!(a.daily.len(), 10);
        assert_eq!(a.daily[0].1, 2.0);
        assert_eq!(a.weekly.len(), 1);
        assert_eq!((a.weekly[0].flagged, a.weekly[0].true_positives), (3.0, 2.0));
        assert_eq!(crate::data::time::format_iso_ms(a.weekly[0].start_ms), "2026-01-05T00:00:00Z");
        assert_eq!(b.weekly.len(), 2);
    }

    #[test]
    fn auc_with_ties_and_thresholds() {
        let t = table();
        let rows: Vec<u32> = (0..t.n_rows as u32).collect();
        let report = score_curves(&t, &rows, &ScoreParams { score: "score".into(), label: label(), threshold: None, min_precision: 0.7 }).unwrap();
        // Positives 0.9, 0.8, 0.4; negatives 0.8, 0.3, 0.1: 7.5 of 9 pairs ordered (a tie counts half).
        assert!((report.roc_auc - 7.5 / 9.0).abs() < 1e-12, "{}", report.roc_auc);
        // scikit-learn: average_precision_score([1,1,0,0,1,0], [.9,.8,.8,.3,.4,.1]) = 0.8055…
        assert!((report.average_precision - 0.805_555_555_555_555_6).abs() < 1e-12, "{}", report.average_precision);
        assert_eq!(report.threshold, 0.5);
        assert_eq!(report.at_threshold, Confusion { tp: 2.0, fp: 1.0, fn_: 1.0, tn: 2.0 });
        let best = report.best_for_precision.unwrap();
        assert_eq!(best.threshold, 0.4);
        let err = score_curves(&t, &rows, &ScoreParams { score: "label".into(), label: label(), threshold: None, min_precision: 0.5 }).unwrap_err();
        assert!(err.to_string().contains("must be a number"));
    }
}
