//! Ground-truth integrity: can the label column be trusted?
//!
//! Given a label column (and optionally which classes count as positive, an item id and a
//! reviewer id): class prevalence overall and over time; items carrying different labels;
//! reviewer agreement (Cohen's kappa on items rated exactly twice, Fleiss' kappa on items
//! rated by the usual number of reviewers, per-reviewer positive rate and agreement with the
//! other ratings); and label leakage, columns that predict the label almost perfectly (often
//! filled only after review). Kappas match statsmodels' `cohens_kappa` / `fleiss_kappa`
//! (`tests/it/reference_labels.rs`). Prevalence and leakage count events (row weights);
//! agreement counts ratings, one per item and reviewer whatever the row's weight, since it is
//! between judgments (the app says so when rows are weighted).

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::contract::{has_column, missing_column, run_now, Analysis, FitColumns, Progress, Weights};
use super::parallel;
use crate::data::table::{float_key, float_of_key, Column, ColumnData, ColumnType, Strings, Table, Value};
use crate::data::time::Buckets;

/// A label column and its positive classes (the Profile tab's label choice), as other analyses
/// read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelSpec {
    pub column: String,
    /// Empty: the default, [`default_positive`].
    pub positive: Vec<String>,
}

/// The positive classes when none are chosen, given the classes from the most frequent down:
/// `true` for a true/false column (whichever is more frequent: a column that says whether a
/// row is violating names its positive), else every class but the most frequent one.
pub fn default_positive<'a>(kind: ColumnType, classes: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    match kind {
        ColumnType::Boolean => vec!["true".to_string()],
        _ => classes.into_iter().skip(1).map(str::to_string).collect(),
    }
}

impl LabelSpec {
    /// The positive classes: as chosen, or [`default_positive`].
    pub fn positive_classes(&self, table: &Table) -> Option<Vec<String>> {
        let column = table.column(&self.column)?;
        if !self.positive.is_empty() {
            return Some(self.positive.clone());
        }
        let all: Vec<u32> = (0..table.n_rows as u32).collect();
        let top = column.value_counts(&all, 1000).top;
        Some(default_positive(column.kind, top.iter().map(|(v, _)| v.as_str())))
    }

    /// Per table row: `Some(positive?)`, or `None` where the label is missing; `None` overall
    /// when there is no such column.
    pub fn truth(&self, table: &Table) -> Option<Vec<Option<bool>>> {
        let column = table.column(&self.column)?;
        let positive: rustc_hash::FxHashSet<String> = self.positive_classes(table)?.into_iter().collect();
        Some(
            (0..table.n_rows)
                .map(|r| match column.value(r) {
                    Value::Missing => None,
                    Value::Str(s) => Some(positive.contains(s)),
                    other => Some(positive.contains(&other.display())),
                })
                .collect(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelParams {
    pub label: String,
    /// Classes counted as positive (e.g. `removed`, `restricted`); empty: the default,
    /// [`default_positive`] (`true` for a true/false column, else every class but the most
    /// frequent one).
    pub positive: Vec<String>,
    pub item: Option<String>,
    pub reviewer: Option<String>,
    /// Timestamp column for prevalence over time; `None`: the first timestamp column.
    pub time: Option<String>,
    /// "Now" (from the UI's clock): later timestamps are left out of prevalence over time,
    /// where a mistyped future date would stretch the axis.
    #[serde(default)]
    pub now_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("there is no column {0:?}")]
    UnknownColumn(String),
    #[error("the label column {column:?} is {kind}; choose a category or boolean column")]
    NotCategorical { column: String, kind: String },
    #[error("the label column {0:?} has no values in the selected rows")]
    NoLabels(String),
    #[error("stopped before it finished")]
    Stopped,
}

impl From<crate::analysis::contract::Stopped> for LabelError {
    fn from(_: crate::analysis::contract::Stopped) -> Self {
        Self::Stopped
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrevalenceOverTime {
    pub bucket_ms: i64,
    pub start_ms: i64,
    /// Labelled events per period (rows, or their weights' sum), and the positive ones.
    pub totals: Vec<f64>,
    pub positives: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflicts {
    /// Items seen in more than one row.
    pub repeated_items: usize,
    /// Of those, items with more than one distinct label.
    pub conflicting_items: usize,
    /// Up to 20 conflicting items with their labels and counts.
    pub examples: Vec<(String, Vec<(String, usize)>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewerStats {
    pub reviewer: String,
    pub ratings: usize,
    pub positive_rate: f64,
    /// Share of this reviewer's ratings on multiply-rated items that match the other ratings'
    /// majority (ties count as disagreement); `None` without such items.
    pub agreement: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Items rated exactly twice (by two different reviewers) and Cohen's kappa over them.
    pub pairs: usize,
    pub cohen_kappa: Option<f64>,
    /// Fleiss' kappa over items rated by exactly `raters` reviewers.
    pub fleiss_kappa: Option<f64>,
    pub fleiss_items: usize,
    pub raters: usize,
    pub reviewers: Vec<ReviewerStats>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leak {
    pub column: String,
    /// Balanced accuracy (the mean of the hit rates on positives and on the rest) of the best
    /// prediction of positive-vs-rest from this column alone: 0.5 is a guess, whatever the
    /// classes' sizes.
    pub balanced_accuracy: f64,
    pub how: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelReport {
    pub label: String,
    pub positive: Vec<String>,
    /// Events per class (rows, or their weights' sum), most first.
    pub classes: Vec<(String, f64)>,
    /// Events without a label.
    pub missing: f64,
    pub positive_rate: f64,
    /// Accuracy of always predicting the most frequent class.
    pub baseline: f64,
    pub over_time: Option<PrevalenceOverTime>,
    pub conflicts: Option<Conflicts>,
    pub agreement: Option<Agreement>,
    /// Columns predicting positive-vs-rest with balanced accuracy ≥ [`LEAK_ACCURACY`], best
    /// first.
    pub leaks: Vec<Leak>,
    /// Why leakage was not judged (too few labelled rows on one side), when it was not.
    #[serde(default)]
    pub leaks_not_judged: Option<String>,
}

/// Balanced accuracy from a single other column at which it is reported as a possible leak.
/// (Plain accuracy would report every column of a label whose commonest class is 98 % of the
/// rows: always guessing that class is right that often.)
pub const LEAK_ACCURACY: f64 = 0.98;

/// Fewest labelled rows on each side (positive, the rest) for leakage to be judged: with one
/// positive among a thousand rows, a column holding its top value 4 % of the time would "predict"
/// it with 98 % balanced accuracy by chance (8 % per column); with ten, no column does.
pub const MIN_LEAK_ROWS: usize = 10;

fn column<'t>(table: &'t Table, name: &str) -> Result<&'t Column, LabelError> {
    table.column(name).ok_or_else(|| LabelError::UnknownColumn(name.to_string()))
}

/// A cell's text, borrowed from the column when it holds text.
fn text(column: &Column, row: u32) -> Option<Cow<'_, str>> {
    match column.value(row as usize) {
        Value::Missing => None,
        Value::Str(s) => Some(Cow::Borrowed(s)),
        value => Some(Cow::Owned(value.display())),
    }
}

/// No reviewer, no label: the id of a missing text.
const NONE: u32 = u32::MAX;

/// A dictionary code whose text has no id yet ([`Interned::id_at`]).
const UNSEEN: u32 = u32::MAX - 1;

/// Texts numbered in the order they are first seen: labels and reviewers are then
/// handled as numbers (a million rows of labels are not a million copied strings).
#[derive(Default)]
struct Interned<'t> {
    ids: FxHashMap<Cow<'t, str>, u32>,
    names: Vec<Cow<'t, str>>,
}

impl<'t> Interned<'t> {
    fn id(&mut self, text: Option<Cow<'t, str>>) -> u32 {
        let Some(text) = text else { return NONE };
        if let Some(&id) = self.ids.get(&text) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(text.clone());
        self.ids.insert(text, id);
        id
    }

    /// [`Interned::id`] of `column`'s text at `row`. A dictionary column's code is looked up in
    /// `by_code` (its ids so far): each distinct text is hashed once, not once a row.
    fn id_at(&mut self, column: &'t Column, row: u32, by_code: &mut Vec<u32>) -> u32 {
        if let ColumnData::Str(Strings::Dict { codes, dict }) = &column.data {
            let Some(code) = codes.get(row as usize) else { return NONE };
            if by_code.len() != dict.len() {
                *by_code = vec![UNSEEN; dict.len()];
            }
            // A missing value's code is past the dictionary.
            let Some(slot) = by_code.get_mut(code as usize) else { return NONE };
            if *slot == UNSEEN {
                *slot = self.id(text(column, row));
            }
            return *slot;
        }
        self.id(text(column, row))
    }

    fn name(&self, id: u32) -> String {
        self.names.get(id as usize).map(|n| n.to_string()).unwrap_or_default()
    }
}

/// Cohen's kappa of a square contingency table (rows: rater 1, columns: rater 2).
pub fn cohen_kappa(table: &[Vec<f64>]) -> Option<f64> {
    let n: f64 = table.iter().flatten().sum();
    if n <= 0.0 {
        return None;
    }
    let k = table.len();
    let observed = (0..k).map(|i| table.get(i).and_then(|r| r.get(i)).copied().unwrap_or(0.0)).sum::<f64>() / n;
    let expected = (0..k)
        .map(|i| {
            let row: f64 = table.get(i).map_or(0.0, |r| r.iter().sum());
            let col: f64 = table.iter().map(|r| r.get(i).copied().unwrap_or(0.0)).sum();
            row * col
        })
        .sum::<f64>()
        / (n * n);
    (expected < 1.0).then(|| (observed - expected) / (1.0 - expected))
}

/// Fleiss' kappa of an items × categories table of rating counts (equal raters per item).
pub fn fleiss_kappa(counts: &[Vec<f64>]) -> Option<f64> {
    let items = counts.len() as f64;
    let raters: f64 = counts.first()?.iter().sum();
    if items < 1.0 || raters < 2.0 {
        return None;
    }
    let categories = counts.first()?.len();
    let p_j: Vec<f64> = (0..categories)
        .map(|j| counts.iter().map(|r| r.get(j).copied().unwrap_or(0.0)).sum::<f64>() / (items * raters))
        .collect();
    let p_bar = counts
        .iter()
        .map(|r| (r.iter().map(|c| c * c).sum::<f64>() - raters) / (raters * (raters - 1.0)))
        .sum::<f64>()
        / items;
    let p_e: f64 = p_j.iter().map(|p| p * p).sum();
    (p_e < 1.0).then(|| (p_bar - p_e) / (1.0 - p_e))
}

fn over_time(rows: &[u32], weights: Weights<'_>, labels: &[Option<bool>], time: Option<&Column>, now_ms: Option<i64>) -> Option<PrevalenceOverTime> {
    let time = time?;
    let stamped: Vec<(i64, bool, f64)> = rows
        .iter()
        .zip(labels)
        .filter_map(|(&row, label)| match (time.value(row as usize), label) {
            (Value::Timestamp(ms), Some(positive)) if now_ms.is_none_or(|now| ms <= now) && weights.of(row) > 0.0 => Some((ms, *positive, weights.of(row))),
            _ => None,
        })
        .collect();
    let min = stamped.iter().map(|(t, _, _)| *t).min()?;
    let max = stamped.iter().map(|(t, _, _)| *t).max()?;
    let buckets = Buckets::day_or_week(min, max);
    if buckets.count > 5000 {
        return None; // a stray far-off date: the per-period view would be meaningless
    }
    let mut totals = vec![0.0; buckets.count];
    let mut positives = vec![0.0; buckets.count];
    for (t, positive, w) in stamped {
        let Some(idx) = buckets.index(t) else { continue };
        if let Some(total) = totals.get_mut(idx) {
            *total += w;
        }
        if let Some(p) = positives.get_mut(idx).filter(|_| positive) {
            *p += w;
        }
    }
    Some(PrevalenceOverTime { bucket_ms: buckets.bucket_ms, start_ms: buckets.start_ms, totals, positives })
}

/// Ratings grouped by item, items in the order they first appear: item k's ratings are
/// `ratings[starts[k]..starts[k + 1]]`, `(reviewer, label)` ids in row order, one per (item,
/// reviewer) pair (a reviewer rating an item twice, a duplicated row, counts once); its id is
/// the text of row `first_rows[k]`.
struct ItemRatings<'t> {
    first_rows: Vec<u32>,
    starts: Vec<usize>,
    ratings: Vec<(u32, u32)>,
    reviewers: Interned<'t>,
}

impl ItemRatings<'_> {
    /// Each item's first row and its ratings.
    fn items(&self) -> impl Iterator<Item = (u32, &[(u32, u32)])> {
        self.first_rows.iter().zip(self.starts.windows(2)).map(|(&row, span)| (row, self.ratings.get(span[0]..span[1]).unwrap_or_default()))
    }
}

/// An item's identity, as its text would say it, without a copy of the text: two rows rate the
/// same item when their keys are equal.
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
enum ItemKey<'t> {
    Text(&'t str),
    Int(i64),
    /// The bits of the number (−0 as 0, every NaN as one: they read the same).
    Float(u64),
    Bool(bool),
    /// Times by their displayed text, which is what the items were told apart by.
    Shown(Box<str>),
}

fn item_key(column: &Column, row: u32) -> Option<ItemKey<'_>> {
    Some(match column.value(row as usize) {
        Value::Missing => return None,
        Value::Str(s) => ItemKey::Text(s),
        Value::Int(v) => ItemKey::Int(v),
        Value::Float(v) => ItemKey::Float(match v {
            _ if v == 0.0 => 0,
            _ if v.is_nan() => f64::NAN.to_bits(),
            _ => v.to_bits(),
        }),
        Value::Bool(b) => ItemKey::Bool(b),
        value @ Value::Timestamp(_) => ItemKey::Shown(value.display().into()),
    })
}

fn ratings_by_item<'t>(rows: &[u32], labels: &[u32], item: &'t Column, reviewer: Option<&'t Column>) -> ItemRatings<'t> {
    use std::hash::BuildHasher;
    ratings_hashed(rows, labels, item, reviewer, |key| rustc_hash::FxBuildHasher.hash_one(key))
}

/// [`ratings_by_item`] with the hash of the items' keys given (a test gives every key one).
fn ratings_hashed<'t>(rows: &[u32], labels: &[u32], item: &'t Column, reviewer: Option<&'t Column>, hash: impl Fn(&ItemKey<'_>) -> u64) -> ItemRatings<'t> {
    let mut reviewers = Interned::default();
    // (hash of the item's key, row, place in `rows`) of each rated row, sorted: 16 bytes a row
    // and no table of the items (there may be as many as rows). Items whose keys hash alike are
    // told apart below.
    let rated: Vec<(u64, u32, u32)> = rows
        .iter()
        .zip(labels)
        .zip(0u32..)
        .filter(|((_, &label), _)| label != NONE)
        .filter_map(|((&row, _), at)| item_key(item, row).map(|key| (hash(&key), row, at)))
        .collect();
    let mut rated = sorted_by_top_byte(&rated);
    // Each item's span of `rated`, its rows in order.
    let mut spans: Vec<(u32, u32)> = Vec::new();
    for run in rated.chunk_by_mut(|a, b| a.0 == b.0) {
        let start = spans.last().map_or(0, |s| s.1);
        let end = start + run.len() as u32;
        // A hash of one row is one item: its key is not read (a miss in the table for each).
        if run.len() == 1 {
            spans.push((start, end));
            continue;
        }
        let first = run.first().and_then(|r| item_key(item, r.1));
        if run.iter().skip(1).all(|r| item_key(item, r.1) == first) {
            spans.push((start, end));
            continue;
        }
        // Different items with one hash: by key, then row.
        run.sort_by_cached_key(|r| (item_key(item, r.1), r.1));
        let mut from = start;
        for same in run.chunk_by(|a, b| item_key(item, a.1) == item_key(item, b.1)) {
            spans.push((from, from + same.len() as u32));
            from += same.len() as u32;
        }
    }
    // Items in the order they first appear: by their first row. A row rates one item, so is the
    // first row of one item at most: when the rated rows are most of the rows up to the last, a
    // slot per row orders the items without a sort (whose reads of each item's first row were
    // scattered: 370 ms of the 500 MB demo's 880).
    let first_row = |&(start, _): &(u32, u32)| rated.get(start as usize).map_or(0, |r| r.1);
    let slots = rated.iter().map(|r| r.1 as usize + 1).max().unwrap_or(0);
    if slots <= 4 * rated.len() + 1024 {
        let mut span_at_row = vec![NONE; slots];
        for (k, span) in spans.iter().enumerate() {
            if let Some(slot) = span_at_row.get_mut(first_row(span) as usize) {
                *slot = k as u32;
            }
        }
        spans = span_at_row.into_iter().filter(|&k| k != NONE).filter_map(|k| spans.get(k as usize).copied()).collect();
    } else {
        spans.sort_unstable_by_key(first_row);
    }
    let mut first_rows = Vec::with_capacity(spans.len());
    let mut starts = Vec::with_capacity(spans.len() + 1);
    starts.push(0);
    let mut ratings: Vec<(u32, u32)> = Vec::with_capacity(rated.len());
    let mut reviewer_ids = Vec::new();
    for &(start, end) in &spans {
        first_rows.push(first_row(&(start, end)));
        let from = ratings.len();
        for &(_, row, at) in rated.get(start as usize..end as usize).unwrap_or_default() {
            let who = reviewer.map_or(NONE, |r| reviewers.id_at(r, row, &mut reviewer_ids));
            let label = labels.get(at as usize).copied().unwrap_or(NONE);
            if who == NONE || !ratings.get(from..).unwrap_or_default().iter().any(|&(w, _)| w == who) {
                ratings.push((who, label));
            }
        }
        starts.push(ratings.len());
    }
    ItemRatings { first_rows, starts, ratings, reviewers }
}

/// `rated` sorted: first grouped by the hash's top byte, then each group sorted in cache (one
/// sort of 2.4 M of them took 100–200 ms).
fn sorted_by_top_byte(rated: &[(u64, u32, u32)]) -> Vec<(u64, u32, u32)> {
    let (mut sorted, groups) = parallel::by_top_byte(rated, |r| r.0);
    for group in groups {
        sorted.get_mut(group).unwrap_or_default().sort_unstable();
    }
    sorted
}

fn conflicts(items: &ItemRatings<'_>, item: &Column, labels: &Interned<'_>) -> Conflicts {
    let mut repeated_items = 0;
    let mut conflicting_items = 0;
    let mut examples = Vec::new();
    for (first_row, ratings) in items.items().filter(|(_, r)| r.len() > 1) {
        repeated_items += 1;
        let mut counts: Vec<(u32, usize)> = Vec::new();
        for &(_, label) in ratings {
            match counts.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => counts.push((label, 1)),
            }
        }
        if counts.len() > 1 {
            conflicting_items += 1;
            if examples.len() < 20 {
                let id = text(item, first_row).map(Cow::into_owned).unwrap_or_default();
                examples.push((id, counts.into_iter().map(|(label, n)| (labels.name(label), n)).collect()));
            }
        }
    }
    Conflicts { repeated_items, conflicting_items, examples }
}

/// `class_of` and `positive` are indexed by label id: its class's place in `classes`, and
/// whether it counts as positive.
fn agreement(items: &ItemRatings<'_>, k: usize, class_of: &[Option<usize>], positive: &[bool]) -> Agreement {
    let index = |label: u32| class_of.get(label as usize).copied().flatten();
    let is_positive = |label: u32| positive.get(label as usize).copied().unwrap_or(false);
    // Cohen: items with exactly two ratings, first vs second.
    let mut table = vec![vec![0.0; k]; k];
    let mut pairs = 0;
    for (_, ratings) in items.items().filter(|(_, r)| r.len() == 2) {
        if let (Some(a), Some(b)) = (ratings.first().and_then(|r| index(r.1)), ratings.get(1).and_then(|r| index(r.1))) {
            if let Some(cell) = table.get_mut(a).and_then(|row| row.get_mut(b)) {
                *cell += 1.0;
                pairs += 1;
            }
        }
    }
    // Fleiss: items with the most common number of ratings (at least 2).
    let mut per_count: FxHashMap<usize, usize> = FxHashMap::default();
    for (_, ratings) in items.items().filter(|(_, r)| r.len() >= 2) {
        *per_count.entry(ratings.len()).or_default() += 1;
    }
    let raters = per_count.iter().max_by_key(|(len, n)| (**n, **len)).map_or(0, |(len, _)| *len);
    let fleiss_rows: Vec<Vec<f64>> = items
        .items()
        .filter(|(_, r)| r.len() == raters && raters >= 2)
        .map(|(_, ratings)| {
            let mut row = vec![0.0; k];
            for &(_, label) in ratings {
                if let Some(cell) = index(label).and_then(|i| row.get_mut(i)) {
                    *cell += 1.0;
                }
            }
            row
        })
        .collect();
    // Per reviewer: positive rate; agreement with the majority of the other ratings.
    let mut stats: FxHashMap<u32, (usize, usize, usize, usize)> = FxHashMap::default(); // ratings, positives, compared, agreed
    for (_, ratings) in items.items() {
        for (idx, &(who, label)) in ratings.iter().enumerate() {
            if who == NONE {
                continue;
            }
            let entry = stats.entry(who).or_default();
            entry.0 += 1;
            entry.1 += usize::from(is_positive(label));
            if ratings.len() > 1 {
                let mut others: Vec<(u32, usize)> = Vec::new();
                for &(_, other) in ratings.iter().enumerate().filter(|(j, _)| *j != idx).map(|(_, r)| r) {
                    match others.iter_mut().find(|(l, _)| *l == other) {
                        Some((_, n)) => *n += 1,
                        None => others.push((other, 1)),
                    }
                }
                others.sort_by_key(|other| std::cmp::Reverse(other.1));
                let majority = match (others.first(), others.get(1)) {
                    (Some(first), Some(second)) if first.1 == second.1 => None, // tie
                    (Some(first), _) => Some(first.0),
                    _ => None,
                };
                entry.2 += 1;
                entry.3 += usize::from(majority == Some(label));
            }
        }
    }
    let mut reviewers: Vec<ReviewerStats> = stats
        .into_iter()
        .map(|(reviewer, (ratings, positives, compared, agreed))| ReviewerStats {
            reviewer: items.reviewers.name(reviewer),
            ratings,
            positive_rate: positives as f64 / ratings.max(1) as f64,
            agreement: (compared > 0).then(|| agreed as f64 / compared as f64),
        })
        .collect();
    reviewers.sort_by(|a, b| a.reviewer.cmp(&b.reviewer));
    Agreement {
        pairs,
        cohen_kappa: cohen_kappa(&table),
        fleiss_kappa: fleiss_kappa(&fleiss_rows),
        fleiss_items: fleiss_rows.len(),
        raters,
        reviewers,
    }
}

/// Balanced accuracy of predicting the class from groups (each group predicts its class of the
/// largest share): `scale` is 1 / (classes × a class's events), so that each class weighs alike;
/// each key comes with its class and weight. (Weights are added as they are and scaled at the
/// end: scaled row by row, a thousand rows' shares add up to 1 + 5·10⁻¹⁵.)
fn group_accuracy<K: std::hash::Hash + Eq>(keys: impl Iterator<Item = (K, (usize, f64))>, scale: &[f64]) -> f64 {
    let mut counts: FxHashMap<K, Vec<f64>> = FxHashMap::default();
    for (key, (class, w)) in keys {
        let row = counts.entry(key).or_insert_with(|| vec![0.0; scale.len()]);
        if let Some(c) = row.get_mut(class) {
            *c += w;
        }
    }
    counts.values().map(|c| best_share(c, scale)).sum::<f64>()
}

/// A group's largest class share: its events of a class × that class's `scale`.
fn best_share(counts: &[f64], scale: &[f64]) -> f64 {
    counts.iter().zip(scale).map(|(c, s)| c * s).fold(0.0, f64::max)
}

/// [`group_accuracy`] of groups numbered `0..groups` (a missing flag, a dictionary's codes):
/// counted in a table, not a map, and the groups' majorities added in their order.
fn numbered_accuracy(keys: impl Iterator<Item = (usize, (usize, f64))>, groups: usize, scale: &[f64]) -> f64 {
    let classes = scale.len();
    let mut counts = vec![0.0; groups * classes];
    for (group, (class, w)) in keys {
        if let Some(c) = counts.get_mut(group * classes + class).filter(|_| class < classes) {
            *c += w;
        }
    }
    counts.chunks(classes.max(1)).map(|c| best_share(c, scale)).sum::<f64>()
}

/// Most distinct values [`stump_accuracy`] counts rather than sorts.
const MAX_STUMP_VALUES: usize = 1 << 14;

/// Best balanced accuracy of one threshold on a numeric column for a binary label, over the
/// rows with a value: `pairs` are (value, place in `labelled`, positive), `weight` the weight
/// of a place in `labelled`. 0 when the rows with a value are all on one side.
fn stump_accuracy(pairs: Vec<(f64, u32, bool)>, weight: impl Fn(u32) -> f64) -> f64 {
    let mut sides = [0.0; 2];
    for &(_, at, positive) in &pairs {
        sides[usize::from(positive)] += weight(at);
    }
    if sides.iter().any(|&events| events <= 0.0) {
        return 0.0;
    }
    stump_of_few(&pairs, &weight, sides).unwrap_or_else(|| stump_by_sorting(pairs, weight, sides))
}

/// The balanced accuracy of a threshold with `below` events under it (`below_pos` of them
/// positive), of `sides` (the rest's events, the positives'): the better of calling the values
/// below it positive or those above.
fn threshold_accuracy(below: f64, below_pos: f64, sides: [f64; 2]) -> f64 {
    let [rest, positive] = sides;
    let below_neg = below - below_pos;
    // Hit rates of "above is positive"; the other way round hits the complements.
    let above = (below_neg / rest + (positive - below_pos) / positive) / 2.0;
    above.max(1.0 - above)
}

/// [`stump_accuracy`] of any values, sorted.
fn stump_by_sorting(mut pairs: Vec<(f64, u32, bool)>, weight: impl Fn(u32) -> f64, sides: [f64; 2]) -> f64 {
    // Ties may come in any order: accuracy is only read where the value changes.
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut below, mut below_pos, mut best) = (0.0, 0.0, 0.5);
    for (idx, &(value, at, positive)) in pairs.iter().enumerate() {
        let w = weight(at);
        below += w;
        if positive {
            below_pos += w;
        }
        let next_differs = pairs.get(idx + 1).is_none_or(|next| next.0 > value);
        if next_differs {
            best = threshold_accuracy(below, below_pos, sides).max(best);
        }
    }
    best
}

/// [`stump_accuracy`] of values of which there are at most [`MAX_STUMP_VALUES`] distinct (no
/// NaN): each value's events and positive events added up in a map, the thresholds tried
/// between the distinct values sorted. `None` otherwise. (Whole weights add up alike in any
/// order; fractional ones may differ in the last bit, as between two sorts.)
fn stump_of_few(pairs: &[(f64, u32, bool)], weight: &impl Fn(u32) -> f64, sides: [f64; 2]) -> Option<f64> {
    // −0 and 0 are one value (float_key).
    let mut by_value: FxHashMap<u64, (f64, f64)> = FxHashMap::default();
    for &(value, at, positive) in pairs {
        if value.is_nan() {
            return None;
        }
        let w = weight(at);
        let (all, pos) = by_value.entry(float_key(value)).or_default();
        *all += w;
        if positive {
            *pos += w;
        }
        if by_value.len() > MAX_STUMP_VALUES {
            return None;
        }
    }
    let mut values: Vec<(f64, f64, f64)> = by_value.into_iter().map(|(bits, (all, pos))| (float_of_key(bits), all, pos)).collect();
    values.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let (mut below, mut below_pos, mut best) = (0.0, 0.0, 0.5);
    for &(_, all, pos) in &values {
        below += all;
        below_pos += pos;
        best = threshold_accuracy(below, below_pos, sides).max(best);
    }
    Some(best)
}

/// `labels` are ids, `positive` says which ids are positive.
/// Columns that give the label away (see [`Leak`]), or why that was not judged.
fn leaks(table: &Table, rows: &[u32], weights: Weights<'_>, labels: &[u32], positive: &[bool], exclude: &[&str]) -> Result<Vec<Leak>, String> {
    // Judged on positive vs the rest: the question a detection rule answers. Eight bytes a
    // labelled row (weights are read from the table's rows); each numeric column below adds 16
    // while it is judged.
    let labelled: Vec<(u32, bool)> = rows.iter().zip(labels).filter(|(_, &l)| l != NONE).map(|(&row, &l)| (row, positive.get(l as usize).copied().unwrap_or(false))).collect();
    let positives = labelled.iter().filter(|l| l.1).count();
    let fewest = [("positive", positives), ("the rest", labelled.len() - positives)].into_iter().min_by_key(|side| side.1).unwrap_or(("positive", 0));
    if fewest.1 < MIN_LEAK_ROWS {
        return Err(format!("Leakage is judged when positive and the rest each have at least {MIN_LEAK_ROWS} labelled rows; here {} has {}.", fewest.0, crate::format::format_count(fewest.1 as u64)));
    }
    // Each side's events (the rest's, the positives').
    let mut sides = [0.0; 2];
    for &(row, positive) in &labelled {
        sides[usize::from(positive)] += weights.of(row);
    }
    if sides.iter().any(|&events| events <= 0.0) {
        return Err("Leakage is not judged: one side of the label has no events (its rows weigh 0).".into());
    }
    // Each side weighs alike: accuracies below are balanced ones.
    let scale = sides.map(|events| 1.0 / (2.0 * events));
    let events = sides[0] + sides[1];
    let candidates: Vec<&Column> = table.columns.iter().filter(|c| !exclude.contains(&c.name.as_str()) && weights.describes_events(&c.name)).collect();
    let classed = |&(row, positive): &(u32, bool)| (usize::from(positive), weights.of(row));
    let weighted = weights.column().is_some();
    // Each column is judged on its own: natively, as many at once as there are cores.
    let mut out: Vec<Leak> = parallel::map(&candidates, |column| {
        let missing_acc = numbered_accuracy(labelled.iter().map(|l| (usize::from(column.value(l.0 as usize) == Value::Missing), classed(l))), 2, &scale);
        let mut best = (missing_acc, "whether it is missing".to_string());
        let distinct_enough = matches!(column.kind, ColumnType::Category | ColumnType::Boolean);
        if distinct_enough && (column.count_distinct() * 5) as f64 <= events {
            let acc = match &column.data {
                // A dictionary's codes stand for its distinct texts: grouped without a copy of each.
                // (A missing value, past the dictionary, is a group of its own.)
                ColumnData::Str(Strings::Dict { codes, dict }) => numbered_accuracy(labelled.iter().map(|l| (codes.get(l.0 as usize).map_or(dict.len(), |code| (code as usize).min(dict.len())), classed(l))), dict.len() + 1, &scale),
                _ => group_accuracy(labelled.iter().map(|l| (text(column, l.0), classed(l))), &scale),
            };
            if acc > best.0 {
                best = (acc, "its value".to_string());
            }
        }
        if matches!(column.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Timestamp) {
            let pairs: Vec<(f64, u32, bool)> = labelled
                .iter()
                .zip(0u32..)
                .filter_map(|(&(row, positive), at)| match column.value(row as usize) {
                    Value::Int(v) | Value::Timestamp(v) => Some((v as f64, at, positive)),
                    Value::Float(v) => Some((v, at, positive)),
                    _ => None,
                })
                .collect();
            // A row's weight by its place in `labelled` (read from the table only when rows are
            // weighted: in value order those reads are scattered).
            let weight = |at: u32| if weighted { labelled.get(at as usize).map_or(0.0, |l| weights.of(l.0)) } else { 1.0 };
            // Only when most events have a value: a threshold on a few says little.
            if pairs.iter().map(|p| weight(p.1)).sum::<f64>() * 2.0 > events {
                let acc = stump_accuracy(pairs, weight);
                if acc > best.0 {
                    best = (acc, "one threshold on it (positive vs the rest)".to_string());
                }
            }
        }
        (best.0 >= LEAK_ACCURACY).then(|| Leak { column: column.name.clone(), balanced_accuracy: best.0, how: best.1 })
    })
    .into_iter()
    .flatten()
    .collect();
    out.sort_by(|a, b| b.balanced_accuracy.total_cmp(&a.balanced_accuracy));
    Ok(out)
}

/// The ground-truth checks as an analysis.
pub struct Labels;

impl Analysis for Labels {
    const NAME: &'static str = "labels";
    const TITLE: &'static str = "Ground truth";
    const WEIGHTED: bool = true;
    type Params = LabelParams;
    type Report = LabelReport;
    type Error = LabelError;

    fn check(params: &LabelParams) -> Result<(), LabelError> {
        if params.label.is_empty() {
            return Err(LabelError::UnknownColumn(String::new()));
        }
        Ok(())
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &LabelParams, progress: &mut impl Progress) -> Result<LabelReport, LabelError> {
        check_in_steps(table, rows, weights, params, progress).await
    }
}

/// Checks the label column over the selected rows.
pub fn check_labels(table: &Table, rows: &[u32], params: &LabelParams) -> Result<LabelReport, LabelError> {
    run_now::<Labels>(table, rows, params)
}

async fn check_in_steps(table: &Table, rows: &[u32], weights: Weights<'_>, params: &LabelParams, progress: &mut impl Progress) -> Result<LabelReport, LabelError> {
    progress.step("labels", "Reading the labels", 0.0).await?;
    let label_column = column(table, &params.label)?;
    if !matches!(label_column.kind, ColumnType::Category | ColumnType::Boolean) {
        return Err(LabelError::NotCategorical { column: params.label.clone(), kind: label_column.kind.label().to_string() });
    }
    let item = params.item.as_deref().map(|name| column(table, name)).transpose()?;
    let reviewer = params.reviewer.as_deref().map(|name| column(table, name)).transpose()?;
    let time = match &params.time {
        Some(name) => Some(column(table, name)?),
        None => table.columns.iter().find(|c| c.kind == ColumnType::Timestamp),
    };
    let mut names = Interned::default();
    let mut by_code = Vec::new();
    let labels: Vec<u32> = rows.iter().map(|&row| names.id_at(label_column, row, &mut by_code)).collect();
    // Events per label id, in the order labels are first seen.
    let mut events = vec![0.0; names.names.len()];
    let mut all = 0.0;
    for (&row, &label) in rows.iter().zip(&labels) {
        let w = weights.of(row);
        all += w;
        if let Some(n) = events.get_mut(label as usize) {
            *n += w;
        }
    }
    let mut classes: Vec<(String, f64)> = names.names.iter().map(|n| n.to_string()).zip(events).collect();
    classes.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let labelled: f64 = classes.iter().map(|(_, n)| n).sum();
    if labelled <= 0.0 {
        return Err(LabelError::NoLabels(params.label.clone()));
    }
    let positive: Vec<String> = if params.positive.is_empty() { default_positive(label_column.kind, classes.iter().map(|(c, _)| c.as_str())) } else { params.positive.clone() };
    // (From +0: an empty sum of floats is −0, which the report would show as "−0 %".)
    let positives: f64 = classes.iter().filter(|(c, _)| positive.contains(c)).fold(0.0, |sum, (_, n)| sum + n);
    // By label id: positive or not, and its place among the classes.
    let positive_id: Vec<bool> = names.names.iter().map(|n| positive.iter().any(|p| p == n)).collect();
    let class_of: Vec<Option<usize>> = names.names.iter().map(|n| classes.iter().position(|(c, _)| c == n)).collect();
    let is_positive: Vec<Option<bool>> = labels.iter().map(|&l| positive_id.get(l as usize).copied()).collect();
    let mut exclude = vec![params.label.as_str()];
    exclude.extend(params.item.as_deref());
    exclude.extend(params.reviewer.as_deref());
    let by_item = || {
        let items = item.map(|item| ratings_by_item(rows, &labels, item, reviewer));
        let conflicts = items.as_ref().zip(item).map(|(items, item)| conflicts(items, item, &names));
        let agreement = items.as_ref().filter(|_| reviewer.is_some()).map(|items| agreement(items, classes.len(), &class_of, &positive_id));
        (conflicts, agreement, over_time(rows, weights, &is_positive, time, params.now_ms))
    };
    let leaking = || leaks(table, rows, weights, &labels, &positive_id, &exclude);
    // Natively the items' checks (on one core) run beside the leakage checks; in the browser one
    // after the other, each a step that may be cancelled.
    let ((conflicts, agreement, over_time), leaks) = if parallel::threads() > 1 {
        progress.step("agreement", "Items, reviewers, agreement and leakage", 0.3).await?;
        parallel::join(by_item, leaking)
    } else {
        progress.step("agreement", "Items, reviewers and agreement", 0.3).await?;
        let checked = by_item();
        progress.step("leakage", "Columns that give the label away", 0.6).await?;
        (checked, leaking())
    };
    let (leaks, leaks_not_judged) = match leaks {
        Ok(leaks) => (leaks, None),
        Err(why) => (Vec::new(), Some(why)),
    };
    Ok(LabelReport {
        label: params.label.clone(),
        baseline: classes.first().map_or(0.0, |(_, n)| *n / labelled),
        positive_rate: positives / labelled,
        missing: all - labelled,
        over_time,
        conflicts,
        agreement,
        leaks,
        leaks_not_judged,
        positive,
        classes,
    })
}


impl FitColumns for LabelParams {
    /// Dropped whole when the label column is gone; a missing companion column is dropped alone.
    fn fit_columns(mut self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        if !has_column(columns, &self.label) {
            notices.push(missing_column("label settings", &self.label));
            return None;
        }
        for slot in [&mut self.item, &mut self.reviewer, &mut self.time] {
            if let Some(column) = slot.take_if(|c| !has_column(columns, c)) {
                notices.push(missing_column("label companion column", &column));
            }
        }
        Some(self)
    }
}

/// A first guess at the label, item and reviewer columns, from names and types (`(name, type)`
/// as loaded): what the app proposes, and what the command line uses when a view sets no label.
pub fn guess_label(columns: &[(String, ColumnType)]) -> Option<LabelParams> {
    let words = |name: &str| name.to_ascii_lowercase();
    let categorical = |c: &&(String, ColumnType)| matches!(c.1, ColumnType::Category | ColumnType::Boolean);
    let labelish = ["label", "decision", "verdict", "outcome", "actioned", "violation", "is_"];
    let (label, _) = columns.iter().filter(categorical).find(|c| labelish.iter().any(|w| words(&c.0).contains(w)))?;
    let reviewer = columns.iter().find(|c| ["reviewer", "rater", "moderator", "annotator", "agent"].iter().any(|w| words(&c.0).contains(w)));
    let item = columns.iter().find(|c| c.1 == ColumnType::Identifier && &c.0 != label);
    Some(LabelParams {
        label: label.clone(),
        positive: Vec::new(),
        item: item.map(|c| c.0.clone()),
        reviewer: reviewer.map(|c| c.0.clone()),
        time: None,
        now_ms: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};

    proptest::proptest! {
        /// Counting each value's events gives the balanced accuracy of sorting them (whole
        /// weights), and groups numbered in a table that of groups in a map.
        #[test]
        fn stumps_of_few_values_and_numbered_groups(cells in proptest::collection::vec((-20i32..20, 0u32..4, proptest::bool::ANY), 1..400)) {
            let pairs: Vec<(f64, u32, bool)> = cells.iter().zip(0u32..).map(|(&(v, _, positive), at)| (if v == 0 && positive { -0.0 } else { f64::from(v) / 2.0 }, at, positive)).collect();
            let weights: Vec<f64> = cells.iter().map(|c| f64::from(c.1)).collect();
            let weight = |at: u32| weights[at as usize];
            let mut sides = [0.0; 2];
            for &(_, at, positive) in &pairs {
                sides[usize::from(positive)] += weight(at);
            }
            if sides.iter().all(|&events| events > 0.0) {
                proptest::prop_assert_eq!(stump_of_few(&pairs, &weight, sides), Some(stump_by_sorting(pairs.clone(), weight, sides)));
            }
            let keyed = || cells.iter().map(|&(v, w, positive)| ((v.rem_euclid(5)) as usize, (usize::from(positive), f64::from(w))));
            let scale = sides.map(|events| if events > 0.0 { 1.0 / (2.0 * events) } else { 0.0 });
            // (Shares of the groups added in another order: equal to the last bits.)
            let (numbered, grouped) = (numbered_accuracy(keyed(), 5, &scale), group_accuracy(keyed(), &scale));
            proptest::prop_assert!((numbered - grouped).abs() < 1e-12, "{} {}", numbered, grouped);
        }
    }

    #[test]
    fn a_true_false_label_counts_true_as_positive_whichever_is_more_frequent() {
        let params = |label: &str| LabelParams { label: label.into(), positive: Vec::new(), item: None, reviewer: None, time: None, now_ms: None };
        // Mostly true: the minority ("false") was the default positive.
        let table = load_bytes(b"violating,reason\ntrue,spam\ntrue,scam\ntrue,spam\nfalse,spam\n", LoadOptions::default()).unwrap().table;
        assert_eq!(table.column("violating").unwrap().kind, ColumnType::Boolean);
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let report = check_labels(&table, &rows, &params("violating")).unwrap();
        assert_eq!(report.positive, vec!["true".to_string()]);
        assert!((report.positive_rate - 0.75).abs() < 1e-12, "{}", report.positive_rate);
        let spec = LabelSpec { column: "violating".into(), positive: Vec::new() };
        assert_eq!(spec.positive_classes(&table), Some(vec!["true".to_string()]));
        assert_eq!(spec.truth(&table).unwrap(), vec![Some(true), Some(true), Some(true), Some(false)]);
        // One row, all true: 100 % positive (it read 0 %, positive "none").
        let one = load_bytes(b"violating\ntrue\n", LoadOptions::default()).unwrap().table;
        assert_eq!(check_labels(&one, &[0], &params("violating")).unwrap().positive_rate, 1.0);
        // A category keeps every class but the most frequent one.
        assert_eq!(check_labels(&table, &rows, &params("reason")).unwrap().positive, vec!["scam".to_string()]);
    }

    #[test]
    fn kappas_hand_computed() {
        // Perfect agreement, and a textbook 2×2: po = 0.7, pe = 0.5 → 0.4.
        assert_eq!(cohen_kappa(&[vec![5.0, 0.0], vec![0.0, 5.0]]), Some(1.0));
        let k = cohen_kappa(&[vec![20.0, 5.0], vec![10.0, 15.0]]).unwrap();
        assert!((k - 0.4).abs() < 1e-12, "{k}");
        // Fleiss, 3 items × 2 raters: [2,0], [0,2], [1,1] → P̄ = 2/3, pe = 0.5 → 1/3.
        let f = fleiss_kappa(&[vec![2.0, 0.0], vec![0.0, 2.0], vec![1.0, 1.0]]).unwrap();
        assert!((f - 1.0 / 3.0).abs() < 1e-12, "{f}");
        assert_eq!(cohen_kappa(&[]), None);
    }

    #[test]
    fn items_whose_keys_hash_alike_are_told_apart() {
        let table = load_bytes(b"item,who,label\nb,r1,spam\na,r1,ham\nb,r2,ham\nc,r1,spam\na,r2,ham\nb,r1,spam\n", LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let labels: Vec<u32> = vec![0, 1, 1, 0, 1, 0];
        let (item, who) = (table.column("item").unwrap(), table.column("who").unwrap());
        let as_lists = |r: ItemRatings<'_>| r.items().map(|(first, ratings)| (first, ratings.to_vec())).collect::<Vec<_>>();
        let apart = as_lists(ratings_by_item(&rows, &labels, item, Some(who)));
        // Items b (rows 0, 2; row 5 is r1 again), a (1, 4), c (3), by their first rows.
        assert_eq!(apart, vec![(0, vec![(0, 0), (1, 1)]), (1, vec![(0, 1), (1, 1)]), (3, vec![(0, 0)])]);
        assert_eq!(as_lists(ratings_hashed(&rows, &labels, item, Some(who), |_| 7)), apart);
    }

    #[test]
    fn items_of_a_few_rows_far_apart_are_in_order_of_their_first_row() {
        // Rows 0..2010, of which four are selected: items ordered by a sort, not by slots.
        let mut csv = String::from("item,who\nb,r1\na,r1\nb,r2\n");
        csv.extend((3..2010).map(|i| format!("x{i},r1\n")));
        csv.push_str("a,r2\n");
        let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
        let (item, who) = (table.column("item").unwrap(), table.column("who").unwrap());
        let as_lists = |r: ItemRatings<'_>| r.items().map(|(first, ratings)| (first, ratings.to_vec())).collect::<Vec<_>>();
        let (rows, labels) = (vec![1, 2, 2005, 2010], vec![0, 1, 0, 1]);
        let items = vec![(1, vec![(0, 0), (1, 1)]), (2, vec![(1, 1)]), (2005, vec![(0, 0)])];
        assert_eq!(as_lists(ratings_by_item(&rows, &labels, item, Some(who))), items);
        // Every row selected (slots), the same items first.
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let labels = vec![0; rows.len()];
        let all = as_lists(ratings_by_item(&rows, &labels, item, Some(who)));
        assert_eq!(all.iter().map(|i| i.0).take(4).collect::<Vec<_>>(), vec![0, 1, 3, 4]);
        assert_eq!(all.len(), 2 + 2007);
    }

    #[test]
    fn items_that_read_the_same_are_one_item() {
        // Numeric item ids: -0 reads "0" like 0; 1.5 twice; 2.5 once. The conflicting item is
        // named by the text of its first row.
        let table = load_bytes(b"item,label\n0,spam\n2.5,ham\n-0,ham\n1.5,spam\n1.5,spam\n", LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let params = LabelParams { label: "label".into(), positive: vec![], item: Some("item".into()), reviewer: None, time: None, now_ms: None };
        let conflicts = check_labels(&table, &rows, &params).unwrap().conflicts.unwrap();
        assert_eq!((conflicts.repeated_items, conflicts.conflicting_items), (2, 1));
        assert_eq!(conflicts.examples, vec![("0".to_string(), vec![("spam".to_string(), 1), ("ham".to_string(), 1)])]);
    }

    #[test]
    fn conflicts_agreement_and_leaks() {
        let csv = "item,reviewer,label,filled_after,noise\n\
                   a,r1,yes,2026-01-01,3\na,r2,yes,2026-01-01,1\n\
                   b,r1,no,,2\nb,r2,yes,2026-01-02,5\n\
                   c,r1,no,,4\nc,r2,no,,2\nc,r2,no,,2\n\
                   d,r1,yes,2026-01-03,1\n";
        let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let params = LabelParams {
            label: "label".into(),
            // yes/no reads as a boolean column: classes are shown as true / false.
            positive: vec!["true".into()],
            item: Some("item".into()),
            reviewer: Some("reviewer".into()),
            time: None,
            now_ms: None,
        };
        let report = check_labels(&table, &rows, &params).unwrap();
        // Equal counts: ordered by name.
        assert_eq!(report.classes, vec![("false".to_string(), 4.0), ("true".to_string(), 4.0)]);
        let conflicts = report.conflicts.unwrap();
        assert_eq!((conflicts.repeated_items, conflicts.conflicting_items), (3, 1));
        let agreement = report.agreement.unwrap();
        // Items a, b, c rated twice (c's duplicate row counts once): 2 agree of 3.
        assert_eq!(agreement.pairs, 3);
        assert_eq!(agreement.raters, 2);
        let r1 = agreement.reviewers.iter().find(|r| r.reviewer == "r1").unwrap();
        assert_eq!((r1.ratings, r1.agreement), (4, Some(2.0 / 3.0)));
        // Four rows on each side: too few to judge leakage on.
        assert_eq!(report.leaks, vec![]);
        assert_eq!(report.leaks_not_judged.as_deref(), Some("Leakage is judged when positive and the rest each have at least 10 labelled rows; here positive has 4."));
    }

    #[test]
    fn leaks_are_judged_by_balanced_accuracy() {
        // 20 positives among 1,000 rows: always guessing "no" is right 98 % of the time, so every
        // column would reach 98 % plain accuracy. Only the column filled after review leaks.
        let mut csv = String::from("label,filled_after,noise,kind\n");
        for i in 0..1000u32 {
            let positive = i % 50 == 0;
            let filled = if positive { "2026-01-02" } else { "" };
            csv.push_str(&format!("{},{filled},{},{}\n", if positive { "yes" } else { "no" }, (i * 7919) % 101, ["a", "b", "c"][(i % 3) as usize]));
        }
        let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let params = LabelParams { label: "label".into(), positive: vec![], item: None, reviewer: None, time: None, now_ms: None };
        let report = check_labels(&table, &rows, &params).unwrap();
        assert_eq!(report.baseline, 0.98);
        let leaks: Vec<(&str, f64)> = report.leaks.iter().map(|l| (l.column.as_str(), l.balanced_accuracy)).collect();
        assert_eq!(leaks, [("filled_after", 1.0)]);
        assert_eq!(report.leaks_not_judged, None);
    }

    #[test]
    fn one_class_has_no_leaks_and_no_negative_zero() {
        let table = load_bytes(b"created_at,label,reason\n2026-01-01,1,spam\n", LoadOptions::default()).unwrap().table;
        let params = |label: &str| LabelParams { label: label.into(), positive: vec![], item: None, reviewer: None, time: None, now_ms: None };
        // One category: nothing positive, and "0 %", not "−0 %".
        let report = check_labels(&table, &[0], &params("reason")).unwrap();
        assert!(report.positive_rate.is_sign_positive() && report.positive_rate == 0.0);
        assert_eq!(report.leaks, vec![]);
        assert!(report.leaks_not_judged.is_some());
        // A 1 is read as true, the positive of a true/false label.
        let report = check_labels(&table, &[0], &params("label")).unwrap();
        assert_eq!(report.positive_rate, 1.0);
        assert_eq!(report.leaks, vec![]);
        assert!(report.leaks_not_judged.is_some());
    }

    #[test]
    fn wrong_label_columns_are_errors() {
        let table = load_bytes(b"n,c\n1,x\n2,y\n", LoadOptions::default()).unwrap().table;
        let params = |label: &str| LabelParams { label: label.into(), positive: vec![], item: None, reviewer: None, time: None, now_ms: None };
        assert!(matches!(check_labels(&table, &[0, 1], &params("n")), Err(LabelError::NotCategorical { .. })));
        assert!(matches!(check_labels(&table, &[0, 1], &params("zz")), Err(LabelError::UnknownColumn(_))));
        assert!(matches!(check_labels(&table, &[], &params("c")), Err(LabelError::NoLabels(_))));
    }
}
