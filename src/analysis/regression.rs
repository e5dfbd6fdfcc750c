//! Linear (OLS) and logistic regression with coefficient tables as statsmodels prints them:
//! estimate, standard error, t or z, p-value, 95 % interval (and odds ratios for logistic),
//! R² / adjusted R², or log-loss, McFadden's pseudo-R² and AUC. Category predictors enter
//! one-hot with their most frequent value as the reference level. Rows missing any value are
//! left out (statsmodels' `missing='drop'`). Least squares go through a Householder QR
//! (linfa-linalg), so ill-conditioned designs such as Longley's keep their digits; logistic
//! regression is Newton-Raphson (IRLS) on the same QR.
//!
//! Weighted rows are frequency weights (a row of weight w is w events, statsmodels'
//! `freq_weights`): weighted least squares with Σw − p residual degrees of freedom, weighted
//! IRLS, so a table and its exact aggregation give the same fit.

use linfa_linalg::qr::QR;
use linfa_linalg::triangular::{SolveTriangular, UPLO};
use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::contract::{has_column, missing_column, run_now, Analysis, FitColumns, Progress, Weights};
use super::labels::LabelSpec;
use crate::data::table::{Column, ColumnType, Table, Value};

/// Category predictors with more levels than this are refused (one column per level).
pub const MAX_LEVELS: usize = 30;
/// Points of the residual plot (a seeded-free, evenly spaced subset).
const RESIDUAL_POINTS: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegressionKind {
    Linear,
    Logistic,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionParams {
    pub kind: RegressionKind,
    /// Linear: the numeric column to explain. Logistic: ignored (the label is the outcome).
    pub target: Option<String>,
    /// Logistic: the outcome (positive classes = 1).
    pub label: Option<LabelSpec>,
    pub predictors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Error)]
pub enum RegressionError {
    #[error("there is no column “{0}”")]
    NoColumn(String),
    #[error("choose {0}")]
    Missing(String),
    #[error("“{column}” is {kind}: {need}")]
    WrongType { column: String, kind: String, need: String },
    #[error("“{0}” has more than {MAX_LEVELS} values: too many for one-hot predictors")]
    TooManyLevels(String),
    #[error("{rows} complete rows for {parameters} parameters: need more rows than parameters")]
    TooFewRows { rows: u64, parameters: usize },
    #[error("the predictors are collinear (one is a combination of others): drop one of them")]
    Collinear,
    #[error("the outcome is separated perfectly (or nearly) by the predictors: the estimates diverge")]
    Separation,
    #[error("the outcome has one class only among the complete rows")]
    OneClass,
    #[error("stopped before it finished")]
    Stopped,
}

impl From<crate::analysis::contract::Stopped> for RegressionError {
    fn from(_: crate::analysis::contract::Stopped) -> Self {
        Self::Stopped
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficient {
    pub name: String,
    pub estimate: f64,
    pub std_error: f64,
    /// t (linear) or z (logistic).
    pub statistic: f64,
    pub p_value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionReport {
    pub kind: RegressionKind,
    pub outcome: String,
    /// Complete events fitted (rows, or their weights' sum).
    pub rows: f64,
    /// Events left out for a missing value.
    pub dropped: f64,
    pub coefficients: Vec<Coefficient>,
    pub df_residual: f64,
    /// Linear.
    pub r_squared: Option<f64>,
    pub adj_r_squared: Option<f64>,
    /// Logistic.
    pub log_loss: Option<f64>,
    pub pseudo_r_squared: Option<f64>,
    pub auc: Option<f64>,
    /// (fitted, residual) for the plot; linear: response residuals, logistic: Pearson.
    pub residuals: Vec<(f64, f64)>,
    pub notes: Vec<String>,
}

/// Two-sided p-value of Student's t (statrs: distrs' t CDF is wrong in its tail series).
pub fn t_two_sided(t: f64, df: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) if t.is_finite() => (2.0 * dist.sf(t.abs())).clamp(0.0, 1.0),
        _ => f64::NAN,
    }
}

/// The `p` quantile of Student's t.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |dist| dist.inverse_cdf(p))
}

/// A predictor's design columns: one for a number, one per non-reference level for a category.
enum Design<'t> {
    Number(&'t Column),
    Levels { column: &'t Column, levels: Vec<String> },
}

fn design<'t>(table: &'t Table, name: &str, rows: &[u32]) -> Result<(Design<'t>, Vec<String>, Option<String>), RegressionError> {
    let column = table.column(name).ok_or_else(|| RegressionError::NoColumn(name.to_string()))?;
    match column.kind {
        ColumnType::Integer | ColumnType::Float | ColumnType::Boolean => Ok((Design::Number(column), vec![name.to_string()], None)),
        ColumnType::Category | ColumnType::Identifier | ColumnType::Text => {
            let counts = column.value_counts(rows, MAX_LEVELS + 1);
            if counts.distinct > MAX_LEVELS {
                return Err(RegressionError::TooManyLevels(name.to_string()));
            }
            let mut levels: Vec<String> = counts.top.into_iter().map(|(v, _)| v).collect();
            let reference = if levels.is_empty() { None } else { Some(levels.remove(0)) };
            levels.sort();
            let names = levels.iter().map(|l| format!("{name}[{l}]")).collect();
            Ok((Design::Levels { column, levels }, names, reference))
        }
        ColumnType::Timestamp => Err(RegressionError::WrongType { column: name.to_string(), kind: column.kind.label().to_string(), need: "use a number or a category".to_string() }),
    }
}

/// Coefficients, their covariance's unscaled form (X'X)⁻¹ and the residual sum of squares of
/// the least-squares fit of `y` on `x`.
pub(crate) fn least_squares(x: &Array2<f64>, y: &Array1<f64>) -> Result<(Array1<f64>, Array2<f64>), RegressionError> {
    let qr = x.qr().map_err(|_| RegressionError::Collinear)?;
    let (q, r) = qr.into_decomp();
    let p = x.ncols();
    let scale = r.diag().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if r.diag().iter().any(|v| v.abs() <= scale * 1e-12 * p as f64) {
        return Err(RegressionError::Collinear);
    }
    let qty = q.t().dot(y);
    let beta = r
        .solve_triangular(&qty.insert_axis(Axis(1)), UPLO::Upper)
        .map_err(|_| RegressionError::Collinear)?
        .column(0)
        .to_owned();
    let r_inv = r.solve_triangular(&Array2::eye(p), UPLO::Upper).map_err(|_| RegressionError::Collinear)?;
    let unscaled = r_inv.dot(&r_inv.t());
    Ok((beta, unscaled))
}

/// A least-squares fit with its covariance clustered by group.
#[derive(Debug, Clone)]
pub struct ClusteredFit {
    pub beta: Array1<f64>,
    pub cov: Array2<f64>,
}

/// Least squares of `y` on `x` (same QR as the regression) with the covariance cluster-robust
/// by `clusters` (one id per row): the sandwich `(X'X)⁻¹ Σ_g X_g'e_g e_g'X_g (X'X)⁻¹` times
/// `G/(G − 1) · (N − 1)/(N − K)` (CR1, statsmodels' `cov_type="cluster"`).
pub fn ols_clustered(x: &Array2<f64>, y: &Array1<f64>, clusters: &[usize]) -> Result<ClusteredFit, RegressionError> {
    let (n, k) = x.dim();
    if n <= k || clusters.len() != n {
        return Err(RegressionError::TooFewRows { rows: n as u64, parameters: k });
    }
    let (beta, unscaled) = least_squares(x, y)?;
    let resid = y - &x.dot(&beta);
    let groups = clusters.iter().max().map_or(0, |m| m + 1);
    let mut scores = Array2::<f64>::zeros((groups, k));
    for ((row, &e), &g) in x.rows().into_iter().zip(resid.iter()).zip(clusters) {
        let mut score = scores.row_mut(g);
        score.scaled_add(e, &row);
    }
    let used = scores.rows().into_iter().filter(|r| r.iter().any(|v| *v != 0.0)).count().max(2) as f64;
    let factor = used / (used - 1.0) * (n as f64 - 1.0) / (n - k) as f64;
    let cov = unscaled.dot(&scores.t().dot(&scores)).dot(&unscaled) * factor;
    Ok(ClusteredFit { beta, cov })
}

fn sigmoid(v: f64) -> f64 {
    if v >= 0.0 {
        1.0 / (1.0 + (-v).exp())
    } else {
        let e = v.exp();
        e / (1.0 + e)
    }
}

/// Linear or logistic regression, as an analysis.
pub struct Regression;

impl Analysis for Regression {
    const NAME: &'static str = "regression";
    const TITLE: &'static str = "Regression";
    const WEIGHTED: bool = true;
    type Params = RegressionParams;
    type Report = RegressionReport;
    type Error = RegressionError;

    fn check(params: &RegressionParams) -> Result<(), RegressionError> {
        if params.predictors.is_empty() {
            return Err(RegressionError::Missing("at least one predictor".to_string()));
        }
        Ok(())
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &RegressionParams, progress: &mut impl Progress) -> Result<RegressionReport, RegressionError> {
        regress_in_steps(table, rows, weights, params, progress).await
    }
}

/// Fits the regression over `rows`.
pub fn regress(table: &Table, rows: &[u32], params: &RegressionParams) -> Result<RegressionReport, RegressionError> {
    run_now::<Regression>(table, rows, params)
}

async fn regress_in_steps(table: &Table, rows: &[u32], weights: Weights<'_>, params: &RegressionParams, progress: &mut impl Progress) -> Result<RegressionReport, RegressionError> {
    progress.step("design", "Building the design matrix", 0.0).await?;
    // The outcome per row.
    let (outcome_name, outcome): (String, Vec<Option<f64>>) = match params.kind {
        RegressionKind::Linear => {
            let name = params.target.clone().ok_or(RegressionError::Missing("a numeric column to explain".to_string()))?;
            let column = table.column(&name).ok_or_else(|| RegressionError::NoColumn(name.clone()))?;
            if !matches!(column.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean) {
                return Err(RegressionError::WrongType { column: name, kind: column.kind.label().to_string(), need: "linear regression explains a number".to_string() });
            }
            (name, rows.iter().map(|&r| column.numeric(r as usize)).collect())
        }
        RegressionKind::Logistic => {
            let label = params.label.clone().ok_or(RegressionError::Missing("a label column (Profile tab)".to_string()))?;
            let truth = label.truth(table).ok_or_else(|| RegressionError::NoColumn(label.column.clone()))?;
            (label.column.clone(), rows.iter().map(|&r| truth.get(r as usize).copied().flatten().map(|t| f64::from(u8::from(t)))).collect())
        }
    };
    let mut names = vec!["Intercept".to_string()];
    let mut designs = Vec::new();
    let mut notes = Vec::new();
    for predictor in params.predictors.iter().filter(|p| **p != outcome_name) {
        let (d, cols, reference) = design(table, predictor, rows)?;
        if let Some(reference) = reference {
            notes.push(format!("{predictor}: reference level “{reference}” (the most frequent)."));
        }
        names.extend(cols);
        designs.push(d);
    }
    // Complete rows only.
    let mut x_rows: Vec<f64> = Vec::new();
    let mut y: Vec<f64> = Vec::new();
    let mut wt: Vec<f64> = Vec::new();
    let mut dropped = 0.0;
    'rows: for (idx, &row) in rows.iter().enumerate() {
        let weight = weights.of(row);
        if weight <= 0.0 {
            continue;
        }
        let Some(target) = outcome.get(idx).copied().flatten() else {
            dropped += weight;
            continue;
        };
        let mut values = vec![1.0];
        for d in &designs {
            match d {
                Design::Number(column) => match column.numeric(row as usize) {
                    Some(v) => values.push(v),
                    None => {
                        dropped += weight;
                        continue 'rows;
                    }
                },
                Design::Levels { column, levels } => {
                    let value = column.value(row as usize);
                    if value == Value::Missing {
                        dropped += weight;
                        continue 'rows;
                    }
                    let text = value.display();
                    values.extend(levels.iter().map(|l| f64::from(u8::from(*l == text))));
                }
            }
        }
        x_rows.extend(values);
        y.push(target);
        wt.push(weight);
    }
    let (m, p) = (y.len(), names.len());
    // Events: the rows, or the sum of their weights.
    let n: f64 = wt.iter().sum();
    let too_few = || RegressionError::TooFewRows { rows: n.round() as u64, parameters: p };
    if n <= p as f64 || m < p {
        return Err(too_few());
    }
    let x = Array2::from_shape_vec((m, p), x_rows).map_err(|_| too_few())?;
    let y = Array1::from(y);
    let wt = Array1::from(wt);
    let df = n - p as f64;
    let step = m.div_ceil(RESIDUAL_POINTS).max(1);
    if dropped > 0.0 {
        notes.push(format!("{} {} with a missing value left out.", crate::format::format_events(dropped), if weights.is_weighted() { "events" } else { "rows" }));
    }
    let rows_of = |v: &Array1<f64>| v.view().insert_axis(Axis(1)).to_owned();

    progress.step("fit", "Fitting", 0.5).await?;
    match params.kind {
        RegressionKind::Linear => {
            let sw = wt.mapv(f64::sqrt);
            let (beta, unscaled) = least_squares(&(&x * &rows_of(&sw)), &(&y * &sw))?;
            let fitted = x.dot(&beta);
            let resid = &y - &fitted;
            let rss = (&wt * &resid.mapv(|v| v * v)).sum();
            let sigma2 = rss / df;
            let mean = (&wt * &y).sum() / n;
            let tss = (&wt * &y.mapv(|v| (v - mean) * (v - mean))).sum();
            let r2 = if tss > 0.0 { 1.0 - rss / tss } else { f64::NAN };
            let adj = 1.0 - (1.0 - r2) * (n - 1.0) / df;
            let q = t_quantile(0.975, df);
            let coefficients = names
                .iter()
                .enumerate()
                .map(|(j, name)| {
                    let se = (sigma2 * unscaled[[j, j]]).max(0.0).sqrt();
                    let t = beta[j] / se;
                    Coefficient { name: name.clone(), estimate: beta[j], std_error: se, statistic: t, p_value: t_two_sided(t, df), ci_low: beta[j] - q * se, ci_high: beta[j] + q * se }
                })
                .collect();
            Ok(RegressionReport {
                kind: params.kind,
                outcome: outcome_name,
                rows: n,
                dropped,
                coefficients,
                df_residual: df,
                r_squared: Some(r2),
                adj_r_squared: Some(adj),
                log_loss: None,
                pseudo_r_squared: None,
                auc: None,
                residuals: fitted.iter().zip(resid.iter()).step_by(step).map(|(&f, &r)| (f, r)).collect(),
                notes,
            })
        }
        RegressionKind::Logistic => {
            let positives = (&wt * &y).sum();
            if positives <= 0.0 || positives >= n {
                return Err(RegressionError::OneClass);
            }
            let mut beta = Array1::<f64>::zeros(p);
            let mut unscaled = Array2::<f64>::eye(p);
            let mut converged = false;
            for _ in 0..100 {
                let eta = x.dot(&beta);
                let prob = eta.mapv(sigmoid);
                let variance = prob.mapv(|v| (v * (1.0 - v)).max(1e-300));
                let w = &wt * &variance;
                // Weighted least squares on the working response.
                let sw = w.mapv(f64::sqrt);
                let xw = &x * &rows_of(&sw);
                let z = &eta + &((&y - &prob) / &variance);
                let (next, cov) = least_squares(&xw, &(&z * &sw))?;
                let change = (&next - &beta).iter().fold(0.0f64, |m, v| m.max(v.abs()));
                beta = next;
                unscaled = cov;
                if !beta.iter().all(|v| v.is_finite()) || beta.iter().any(|v| v.abs() > 1e6) {
                    return Err(RegressionError::Separation);
                }
                if change < 1e-10 {
                    converged = true;
                    break;
                }
            }
            if !converged {
                return Err(RegressionError::Separation);
            }
            // The covariance at the final estimate.
            let prob = x.dot(&beta).mapv(sigmoid);
            let w = &wt * &prob.mapv(|v| (v * (1.0 - v)).max(1e-300));
            let xw = &x * &rows_of(&w.mapv(f64::sqrt));
            if let Ok((_, cov)) = least_squares(&xw, &Array1::zeros(m)) {
                unscaled = cov;
            }
            let loglik: f64 = y.iter().zip(prob.iter()).zip(wt.iter()).map(|((&t, &q), &w)| w * if t > 0.5 { q.max(1e-300).ln() } else { (1.0 - q).max(1e-300).ln() }).sum();
            let base = positives / n;
            let null: f64 = positives * base.ln() + (n - positives) * (1.0 - base).ln();
            let zq = distrs::Normal::ppf(0.975, 0.0, 1.0);
            let coefficients = names
                .iter()
                .enumerate()
                .map(|(j, name)| {
                    let se = unscaled[[j, j]].max(0.0).sqrt();
                    let z = beta[j] / se;
                    let p_value = (2.0 * (1.0 - distrs::Normal::cdf(z.abs(), 0.0, 1.0))).clamp(0.0, 1.0);
                    Coefficient { name: name.clone(), estimate: beta[j], std_error: se, statistic: z, p_value, ci_low: beta[j] - zq * se, ci_high: beta[j] + zq * se }
                })
                .collect();
            // AUC of the fitted probabilities: the chance a positive event scores above a negative
            // one, ties counting half.
            let mut pairs: Vec<(f64, bool, f64)> = prob.iter().zip(y.iter()).zip(wt.iter()).map(|((&q, &t), &w)| (q, t > 0.5, w)).collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (mut ordered, mut negatives_below, mut i) = (0.0, 0.0, 0);
            while i < pairs.len() {
                let mut j = i;
                while j + 1 < pairs.len() && pairs[j + 1].0 == pairs[i].0 {
                    j += 1;
                }
                let (pos, neg) = pairs[i..=j].iter().fold((0.0, 0.0), |(p, q), &(_, t, w)| if t { (p + w, q) } else { (p, q + w) });
                ordered += pos * (negatives_below + neg / 2.0);
                negatives_below += neg;
                i = j + 1;
            }
            let auc = ordered / (positives * (n - positives));
            notes.push("Odds ratio = exp(estimate): the factor on the odds of a positive label per unit (or versus the reference level).".into());
            Ok(RegressionReport {
                kind: params.kind,
                outcome: outcome_name,
                rows: n,
                dropped,
                coefficients,
                df_residual: df,
                r_squared: None,
                adj_r_squared: None,
                log_loss: Some(-loglik / n),
                pseudo_r_squared: Some(1.0 - loglik / null),
                auc: Some(auc),
                residuals: prob
                    .iter()
                    .zip(y.iter())
                    .step_by(step)
                    .map(|(&q, &t)| (q, (t - q) / (q * (1.0 - q)).max(1e-12).sqrt()))
                    .collect(),
                notes,
            })
        }
    }
}


impl FitColumns for RegressionParams {
    /// Dropped whole when a predictor, the target or the label column is gone.
    fn fit_columns(self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        let absent = self.predictors.iter().map(String::as_str).chain(self.target.as_deref()).chain(self.label.as_ref().map(|l| l.column.as_str())).find(|c| !has_column(columns, c));
        if let Some(column) = absent {
            notices.push(missing_column("regression settings", column));
            return None;
        }
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failing unwrap is a failing test
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};

    #[test]
    fn exact_line_and_refusals() {
        let t = load_bytes(b"x,y,z,c\n1,3,2,a\n2,5,4,b\n3,7,6,a\n4,9.0001,8,b\n5,11,10,a\n", LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..5).collect();
        let params = |predictors: &[&str]| RegressionParams { kind: RegressionKind::Linear, target: Some("y".into()), label: None, predictors: predictors.iter().map(|s| s.to_string()).collect() };
        let report = regress(&t, &rows, &params(&["x"])).unwrap();
        assert!((report.coefficients[1].estimate - 2.0).abs() < 1e-3);
        assert!((report.coefficients[0].estimate - 1.0).abs() < 1e-3);
        assert!(report.r_squared.unwrap() > 0.9999);
        assert!(matches!(regress(&t, &rows, &params(&["x", "z"])), Err(RegressionError::Collinear)));
        assert!(matches!(regress(&t, &rows[..2], &params(&["x"])), Err(RegressionError::TooFewRows { .. })));
        let with_category = regress(&t, &rows, &params(&["x", "c"])).unwrap();
        assert_eq!(with_category.coefficients[2].name, "c[b]");
        assert!((t_quantile(0.975, 10.0) - 2.228_138_851_986_274).abs() < 1e-9);
        // Far in the tail, where distrs' series overflowed (scipy: 2 · t.sf(50, 9)).
        assert!((t_two_sided(50.0, 9.0) / 2.568_952_910_874_797_6e-12 - 1.0).abs() < 1e-3);
    }
}
