//! Learned heuristics: a decision tree (linfa-trees, Gini) fitted on chosen features to the
//! label, on a seeded training split, read back as a tree and as rules: every leaf's path in
//! the rule language with its precision and support on the training and held-out rows, so a
//! leaf can become an editable rule.
//!
//! Weighted rows: the tree is grown on events (a row of weight w weighs w in the Gini and in the
//! minimum leaf) and every count and accuracy is of events. The held-out split is of rows: an
//! aggregated row's events are all trained on or all held out, so held-out figures on an
//! aggregation are not those of the raw rows (the report says so).

use linfa::prelude::*;
use linfa_trees::{DecisionTree, SplitQuality};
use ndarray::{Array1, Array2, ArrayView1, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::contract::{has_column, missing_column, run_now, Analysis, FitColumns, Progress, Weights};
use super::features::{prepare_features, Encoding, FeatureError, FeatureParams, FeatureSpec};
use super::labels::LabelSpec;
use crate::data::expr::quote_column;
use crate::format::{format_count, format_events};
use crate::data::table::{format_float, ColumnType, Table};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeParams {
    pub features: Vec<FeatureSpec>,
    pub label: LabelSpec,
    pub max_depth: usize,
    /// Smallest number of training events (rows, unweighted) in a leaf.
    pub min_leaf: usize,
    /// Share of the labelled rows held out for testing.
    pub test_share: f64,
    pub seed: u64,
    /// A leaf predicts positive only when its training precision reaches this (0.5: the
    /// majority). Negatives weigh t / (1 − t), so the tree looks for precise segments, which
    /// linfa would otherwise prune away beside a sibling of the same majority.
    pub precision_target: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Error)]
pub enum TreeError {
    #[error("there is no label column “{0}”")]
    NoLabel(String),
    #[error(transparent)]
    Features(#[from] FeatureError),
    #[error("{what} must be {range}")]
    BadParameter { what: String, range: String },
    #[error("{}: need at least 20 to train and test", labelled_rows(.0))]
    TooFewRows(usize),
    #[error("the tree could not be fitted: {0}")]
    Fit(String),
    #[error("stopped before it finished")]
    Stopped,
}

/// "no labelled row", "only 1 labelled row", "only 12 labelled rows".
fn labelled_rows(n: &usize) -> String {
    if *n == 0 { "no labelled row".into() } else { format!("only {}", crate::format::plural(*n as u64, "labelled row")) }
}

impl From<crate::analysis::contract::Stopped> for TreeError {
    fn from(_: crate::analysis::contract::Stopped) -> Self {
        Self::Stopped
    }
}

/// One node, in depth-first order (a node's children follow it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub depth: usize,
    /// The condition from the parent to this node (rule syntax); `None` at the root.
    pub condition: Option<String>,
    /// The split of an inner node, as rule text for its left child (`feature < value`).
    pub split: Option<String>,
    pub leaf: bool,
    /// Whether the node predicts the positive class.
    pub predicts_positive: bool,
    /// Events (rows when unweighted) in training and held out, and how many are positive.
    pub train_rows: f64,
    pub train_positives: f64,
    pub test_rows: f64,
    pub test_positives: f64,
    /// Index of the leaf rule (leaves only).
    pub leaf_index: Option<usize>,
}

/// A leaf as a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeafRule {
    /// The path's conditions joined by `and`.
    pub text: String,
    pub predicts_positive: bool,
    pub train_rows: f64,
    pub train_positives: f64,
    pub test_rows: f64,
    pub test_positives: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeReport {
    pub features: Vec<String>,
    pub nodes: Vec<Node>,
    pub leaves: Vec<LeafRule>,
    /// Events in training and held out (rows when unweighted).
    pub train_rows: f64,
    pub test_rows: f64,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
    /// Held-out accuracy of always predicting the majority class.
    pub baseline_accuracy: f64,
    /// Held out: the share of the events in positive leaves that are positive (`None` when no
    /// held-out event falls in one), and the share of the positive events they hold (`None`
    /// without a held-out positive). Accuracy alone flatters a tree on a rare label.
    #[serde(default)]
    pub test_precision: Option<f64>,
    #[serde(default)]
    pub test_recall: Option<f64>,
    /// (feature, share of the impurity decrease), largest first.
    pub importance: Vec<(String, f64)>,
    pub notes: Vec<String>,
}

/// Rule text for "feature < value" or its negation, reading one-hot features ("country = BR")
/// back as equalities.
fn condition_text(feature: &str, value: f64, left: bool) -> String {
    if let Some((column, category)) = feature.split_once(" = ") {
        if (0.0..1.0).contains(&value) {
            let quoted = format!("\"{}\"", category.replace('"', "\"\""));
            return if left { format!("{} != {quoted}", quote_column(column)) } else { format!("{} = {quoted}", quote_column(column)) };
        }
    }
    let v = format_float((value * 1e6).round() / 1e6);
    if left { format!("{} < {v}", quote_column(feature)) } else { format!("{} >= {v}", quote_column(feature)) }
}

/// Fits the tree on the given rows (features × rows, labels 0/1, events per row); negatives
/// weigh `negative_weight` (1: plain Gini) times their events.
pub fn fit(x: &Array2<f64>, y: &Array1<usize>, events: &[f64], max_depth: usize, min_leaf: usize, negative_weight: f32) -> Result<DecisionTree<f64, usize>, TreeError> {
    let weights: Array1<f32> = fit_weights(y, events, negative_weight).collect();
    let dataset = Dataset::new(x.clone(), y.clone()).with_weights(weights);
    // linfa compares a node's row count (not its weight) with the minimum split: on weighted
    // rows that would stop a node of few rows but many events, so only the leaf minimum (by
    // weight, which implies the split's) applies there.
    let min_split = if events.iter().all(|&w| w == 1.0) { 2 * min_leaf } else { 2 };
    DecisionTree::params()
        .split_quality(SplitQuality::Gini)
        .max_depth(Some(max_depth))
        .min_weight_leaf(min_leaf as f32)
        .min_weight_split(min_split as f32)
        .fit(&dataset)
        .map_err(|e| TreeError::Fit(e.to_string()))
}

/// The weight [`fit`] gives each training row: its events, times `negative_weight` for a
/// negative.
fn fit_weights<'a>(y: &'a Array1<usize>, events: &'a [f64], negative_weight: f32) -> impl Iterator<Item = f32> + 'a {
    y.iter().zip(events).map(move |(&label, &w)| w as f32 * if label == 1 { 1.0 } else { negative_weight })
}

/// Each feature's share of the tree's impurity decrease, as scikit-learn's
/// `feature_importances_` counts it (mean decrease in impurity): a split's decrease weighted by
/// the share of the training weight that reaches its node, summed per feature, then scaled to
/// sum to 1. (linfa's own `feature_importance` averages the splits' decreases unweighted, so a
/// split of twenty rows deep in the tree counted as much as the root's.) `x`, `y`, `events` and
/// `negative_weight` are those the tree was fitted on.
pub fn feature_importance(model: &DecisionTree<f64, usize>, x: &Array2<f64>, y: &Array1<usize>, events: &[f64], negative_weight: f32) -> Vec<f64> {
    let weights: Vec<f64> = fit_weights(y, events, negative_weight).map(f64::from).collect();
    let mut decrease = vec![0.0; x.ncols()];
    let mut stack = vec![(model.root_node(), (0..x.nrows()).collect::<Vec<usize>>())];
    while let Some((node, rows)) = stack.pop() {
        if node.is_leaf() {
            continue;
        }
        let (feature, value, impurity_decrease) = node.split();
        let reaching: f64 = rows.iter().filter_map(|&i| weights.get(i)).sum();
        if let Some(total) = decrease.get_mut(feature) {
            *total += reaching * impurity_decrease;
        }
        // As `route` and linfa's `predict` go: left when the feature is below the split.
        let (left, right): (Vec<usize>, Vec<usize>) = rows.into_iter().partition(|&i| x.get((i, feature)).is_some_and(|&v| v < value));
        let children = node.children();
        for (child, part) in [(children.first(), left), (children.get(1), right)] {
            if let Some(child) = child.and_then(|c| c.as_deref()) {
                stack.push((child, part));
            }
        }
    }
    let sum: f64 = decrease.iter().sum();
    if sum > 0.0 {
        decrease.iter_mut().for_each(|d| *d /= sum);
    }
    decrease
}

/// The leaf a row falls in, by the path of child choices (linfa's own `predict` rule: left when
/// the feature is below the split).
fn route(root: &linfa_trees::TreeNode<f64, usize>, row: ArrayView1<f64>) -> Vec<bool> {
    let mut path = Vec::new();
    let mut node = root;
    while !node.is_leaf() {
        let (feature, value, _) = node.split();
        let left = row.get(feature).is_some_and(|&v| v < value);
        let children = node.children();
        let next = if left { children.first() } else { children.get(1) };
        match next.and_then(|c| c.as_deref()) {
            Some(child) => {
                path.push(left);
                node = child;
            }
            None => break,
        }
    }
    path
}

/// A decision tree read back as rules, as an analysis.
pub struct Tree;

impl Analysis for Tree {
    const NAME: &'static str = "tree";
    const TITLE: &'static str = "Decision tree";
    const WEIGHTED: bool = true;
    type Params = TreeParams;
    type Report = TreeReport;
    type Error = TreeError;

    fn check(params: &TreeParams) -> Result<(), TreeError> {
        if !(1..=12).contains(&params.max_depth) {
            return Err(TreeError::BadParameter { what: "the depth".to_string(), range: "between 1 and 12".to_string() });
        }
        if params.min_leaf == 0 {
            return Err(TreeError::BadParameter { what: "the minimum leaf size".to_string(), range: "at least 1".to_string() });
        }
        if !(0.5..=0.99).contains(&params.precision_target) {
            return Err(TreeError::BadParameter { what: "the precision target".to_string(), range: "between 50 % and 99 %".to_string() });
        }
        if !(0.05..=0.8).contains(&params.test_share) {
            return Err(TreeError::BadParameter { what: "the held-out share".to_string(), range: "between 5 % and 80 %".to_string() });
        }
        Ok(())
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &TreeParams, progress: &mut impl Progress) -> Result<TreeReport, TreeError> {
        learn_in_steps(table, rows, weights, params, progress).await
    }
}

/// Fits and reads back a tree on the labelled rows among `rows`.
pub fn learn_tree(table: &Table, rows: &[u32], params: &TreeParams) -> Result<TreeReport, TreeError> {
    run_now::<Tree>(table, rows, params)
}

async fn learn_in_steps(table: &Table, rows: &[u32], weights: Weights<'_>, params: &TreeParams, progress: &mut impl Progress) -> Result<TreeReport, TreeError> {
    progress.step("features", "Reading the features", 0.0).await?;
    let truth = params.label.truth(table).ok_or_else(|| TreeError::NoLabel(params.label.column.clone()))?;
    // A row of weight 0 is no event.
    let labelled: Vec<u32> = rows.iter().copied().filter(|&r| truth.get(r as usize).copied().flatten().is_some() && weights.of(r) > 0.0).collect();
    if labelled.len() < 20 {
        return Err(TreeError::TooFewRows(labelled.len()));
    }
    // The label column itself is no feature.
    let features: Vec<FeatureSpec> = params.features.iter().filter(|f| f.column != params.label.column).cloned().collect();
    let prepared = prepare_features(table, &labelled, &FeatureParams::raw(features), weights)?;
    let x = prepared.raw;
    let y: Array1<usize> = labelled.iter().map(|&r| usize::from(truth.get(r as usize).copied().flatten() == Some(true))).collect();
    let events: Vec<f64> = labelled.iter().map(|&r| weights.of(r)).collect();

    let mut order: Vec<usize> = (0..labelled.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(params.seed));
    let n_test = ((labelled.len() as f64) * params.test_share).round() as usize;
    let (test_idx, train_idx) = order.split_at(n_test.clamp(1, labelled.len() - 1));
    let (mut train_idx, mut test_idx) = (train_idx.to_vec(), test_idx.to_vec());
    train_idx.sort_unstable();
    test_idx.sort_unstable();
    let x_train = x.select(Axis(0), &train_idx);
    let y_train: Array1<usize> = train_idx.iter().map(|&i| y[i]).collect();
    let events_train: Vec<f64> = train_idx.iter().map(|&i| events[i]).collect();
    let t = params.precision_target;
    progress.step("fit", "Growing the tree", 0.4).await?;
    let model = fit(&x_train, &y_train, &events_train, params.max_depth, params.min_leaf, (t / (1.0 - t)) as f32)?;
    progress.step("evaluate", "Training and held-out precision per node", 0.8).await?;

    // Route every row to its leaf path.
    let paths: Vec<Vec<bool>> = x.rows().into_iter().map(|row| route(model.root_node(), row)).collect();
    let is_test: Vec<bool> = {
        let mut t = vec![false; labelled.len()];
        for &i in &test_idx {
            t[i] = true;
        }
        t
    };
    let mut nodes = Vec::new();
    let mut leaves = Vec::new();
    let names = &prepared.names;
    // Depth-first over the tree with the path so far.
    // (node, its path of left/right choices, the conditions so far, the condition into it)
    type Visit<'m> = (&'m linfa_trees::TreeNode<f64, usize>, Vec<bool>, Vec<String>, Option<String>);
    let mut stack: Vec<Visit> = vec![(model.root_node(), Vec::new(), Vec::new(), None)];
    let (mut train_correct, mut test_correct) = (0.0, 0.0);
    while let Some((node, path, conditions, condition)) = stack.pop() {
        let mut counts = [0.0f64; 4]; // train events, train positives, test events, test positives
        for (i, p) in paths.iter().enumerate() {
            if p.len() >= path.len() && p[..path.len()] == path[..] {
                let slot = if is_test[i] { 2 } else { 0 };
                counts[slot] += events[i];
                counts[slot + 1] += events[i] * y[i] as f64;
            }
        }
        let leaf = node.is_leaf();
        let predicts_positive = if leaf { node.prediction() == Some(1) } else { counts[1] >= t * counts[0] };
        let split = (!leaf).then(|| {
            let (feature, value, _) = node.split();
            condition_text(names.get(feature).map_or("?", String::as_str), value, true)
        });
        let leaf_index = leaf.then(|| {
            leaves.push(LeafRule {
                text: if conditions.is_empty() { "(every row)".into() } else { conditions.join(" and ") },
                predicts_positive,
                train_rows: counts[0],
                train_positives: counts[1],
                test_rows: counts[2],
                test_positives: counts[3],
            });
            if predicts_positive {
                train_correct += counts[1];
                test_correct += counts[3];
            } else {
                train_correct += counts[0] - counts[1];
                test_correct += counts[2] - counts[3];
            }
            leaves.len() - 1
        });
        nodes.push(Node {
            depth: path.len(),
            condition,
            split,
            leaf,
            predicts_positive,
            train_rows: counts[0],
            train_positives: counts[1],
            test_rows: counts[2],
            test_positives: counts[3],
            leaf_index,
        });
        if !leaf {
            let (feature, value, _) = node.split();
            let name = names.get(feature).map_or("?", String::as_str);
            let children = node.children();
            // Right first on the stack so the left child comes out first.
            for (left, child) in [(false, children.get(1)), (true, children.first())] {
                if let Some(child) = child.and_then(|c| c.as_deref()) {
                    let text = condition_text(name, value, left);
                    let mut child_path = path.clone();
                    child_path.push(left);
                    let mut child_conditions = conditions.clone();
                    child_conditions.push(text.clone());
                    stack.push((child, child_path, child_conditions, Some(text)));
                }
            }
        }
    }
    let test_events: f64 = test_idx.iter().map(|&i| events[i]).sum();
    let train_events: f64 = train_idx.iter().map(|&i| events[i]).sum();
    let test_positives: f64 = test_idx.iter().filter(|&&i| y[i] == 1).map(|&i| events[i]).sum();
    let share = |part: f64, whole: f64| if whole > 0.0 { part / whole } else { 0.0 };
    let baseline_accuracy = share(test_positives.max(test_events - test_positives), test_events);
    let importance_values = feature_importance(&model, &x_train, &y_train, &events_train, (t / (1.0 - t)) as f32);
    let mut importance: Vec<(String, f64)> = names.iter().cloned().zip(importance_values.iter().copied()).filter(|(_, v)| *v > 0.0).collect();
    importance.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut notes = prepared.transforms.clone();
    if weights.is_weighted() {
        notes.push(format!(
            "Trained on {} rows ({} events), tested on {} held-out rows ({} events) (seed {}). The split is of rows: an aggregated row's events are all trained on or all held out, so held-out figures differ from those of the raw rows.",
            format_count(train_idx.len() as u64),
            format_events(train_events),
            format_count(test_idx.len() as u64),
            format_events(test_events),
            params.seed
        ));
    } else {
        notes.push(format!("Trained on {} rows, tested on {} held out (seed {}).", format_count(train_idx.len() as u64), format_count(test_idx.len() as u64), params.seed));
    }
    if t > 0.5 {
        notes.push(format!("Leaves predict positive at ≥ {:.0} % training precision (negatives weigh {:.2}).", t * 100.0, t / (1.0 - t)));
    }
    let flagged: f64 = leaves.iter().filter(|l| l.predicts_positive).map(|l| l.test_rows).sum();
    let caught: f64 = leaves.iter().filter(|l| l.predicts_positive).map(|l| l.test_positives).sum();
    Ok(TreeReport {
        test_precision: (flagged > 0.0).then(|| caught / flagged),
        test_recall: (test_positives > 0.0).then(|| caught / test_positives),
        features: names.clone(),
        nodes,
        leaves,
        train_rows: train_events,
        test_rows: test_events,
        train_accuracy: share(train_correct, train_events),
        test_accuracy: share(test_correct, test_events),
        baseline_accuracy,
        importance,
        notes,
    })
}

/// Numeric features for every numeric column but the label (the UI's default).
pub fn numeric_features(columns: &[(String, crate::data::table::ColumnType)], label: &str) -> Vec<FeatureSpec> {
    use crate::data::table::ColumnType;
    columns
        .iter()
        .filter(|(name, kind)| name != label && matches!(kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean))
        .map(|(name, _)| FeatureSpec { column: name.clone(), encoding: Encoding::Numeric })
        .collect()
}


impl FitColumns for TreeParams {
    /// Dropped whole when a feature or the label column is gone.
    fn fit_columns(self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        let absent = self.features.iter().map(|f| f.column.as_str()).chain([self.label.column.as_str()]).find(|c| !has_column(columns, c));
        if let Some(column) = absent {
            notices.push(missing_column("decision tree settings", column));
            return None;
        }
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failing unwrap is a failing test
    use super::*;

    #[test]
    fn too_few_rows_and_points_are_counted_in_words() {
        assert_eq!(TreeError::TooFewRows(0).to_string(), "no labelled row: need at least 20 to train and test");
        assert_eq!(TreeError::TooFewRows(1).to_string(), "only 1 labelled row: need at least 20 to train and test");
        let points = |points| FeatureError::TooFewPoints { points, dropped: 1_200, needed: 2 }.to_string();
        assert_eq!(points(0), "no point has every feature (1,200 dropped for missing values); need at least 2");
        assert_eq!(points(1), "only 1 point has every feature (1,200 dropped for missing values); need at least 2");
        assert_eq!(points(5), "only 5 points have every feature (1,200 dropped for missing values); need at least 2");
    }

    #[test]
    fn conditions_read_as_rules() {
        assert_eq!(condition_text("prior_strikes", 1.5, false), "prior_strikes >= 1.5");
        assert_eq!(condition_text("account_age_days", 29.5, true), "account_age_days < 29.5");
        assert_eq!(condition_text("country = BR", 0.5, true), "country != \"BR\"");
        assert_eq!(condition_text("country = BR", 0.5, false), "country = \"BR\"");
        assert_eq!(condition_text("share of x", 0.5, true), "`share of x` < 0.5");
        // Every leaf text parses in the rule language.
        assert!(crate::data::expr::parse(&format!("{} and {}", condition_text("country = B\"R", 0.5, false), condition_text("in", 2.0, true))).is_ok());
    }

    #[test]
    fn a_tree_without_features_says_so() {
        let csv: String = std::iter::once("x,label\n".to_string()).chain((0..40).map(|i| format!("{i},{}\n", ["a", "b"][i % 2]))).collect();
        let table = crate::data::load::load_bytes(csv.as_bytes(), crate::data::load::LoadOptions::default()).unwrap().table;
        let label = LabelSpec { column: "label".into(), positive: vec!["a".into()] };
        let params = TreeParams { features: Vec::new(), label, max_depth: 3, min_leaf: 1, test_share: 0.25, seed: 7, precision_target: 0.5 };
        let rows: Vec<u32> = (0..40).collect();
        let err = learn_tree(&table, &rows, &params).unwrap_err().to_string();
        assert!(err.contains("choose at least one column"), "{err}");
    }
}
