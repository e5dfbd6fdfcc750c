//! Features of rows or of entities: the numbers a model sees, read once from the table into
//! an owned matrix. Numbers as they are; categories one-hot (top values) or as their frequency;
//! per entity, the rows are grouped and become a row count, means and value shares. Missing
//! values are imputed by the median or the point is dropped; then log1p for skewed counts,
//! clipping and standardising. Used by the clusters and the decision tree.
//!
//! Weighted rows ([`Weights`]): a row of weight w counts as w events everywhere — frequencies,
//! the top one-hot values, an entity's event count, means and shares, and the medians, skewness,
//! means and SDs of the transforms — so a table and its exact aggregation give the same
//! features. Each point carries a weight: its row's (rows) or 1 (an entity is one point however
//! many events it has). Rows of weight 0 stand for no event and are left out.

use ndarray::Array2;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::contract::Weights;
use super::stats::weighted_quantile_sorted;
use crate::data::table::{Column, ColumnData, ColumnType, Strings, Table, Value, MISSING_CODE};

/// Features after one-hot expansion.
pub const MAX_FEATURES: usize = 64;
/// One-hot encoding keeps this many most frequent values of a column (the rest are all-zero).
pub const ONE_HOT_TOP: usize = 8;

/// How a column becomes features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoding {
    /// The number itself (entities: the mean over their rows).
    Numeric,
    /// One 0/1 feature per frequent value (entities: the share of their rows with it).
    OneHot,
    /// The value's share of all rows (entities: the mean over their rows).
    Frequency,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub column: String,
    pub encoding: Encoding,
}

/// What to do with a point missing a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissingPolicy {
    Drop,
    /// Replace by the feature's median.
    Median,
}


/// How to read features: what they are, per row or per entity, and the transforms.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureParams {
    /// Aggregate rows per value of this column first (`None`: one point per row).
    pub entity: Option<String>,
    pub features: Vec<FeatureSpec>,
    /// Entities: add the number of rows per entity as a feature.
    pub entity_count: bool,
    /// `log1p` every non-negative feature whose skewness exceeds 1.
    pub log1p: bool,
    /// Subtract the mean and divide by the standard deviation.
    pub standardise: bool,
    /// Clip features to mean ± this many standard deviations.
    pub clip_z: Option<f64>,
    pub missing: MissingPolicy,
}

impl FeatureParams {
    /// The numbers as they are: no transform, missing values imputed (the tree's features).
    pub fn raw(features: Vec<FeatureSpec>) -> Self {
        Self { entity: None, features, entity_count: false, log1p: false, standardise: false, clip_z: None, missing: MissingPolicy::Median }
    }
}

#[derive(Debug, Clone, PartialEq, Error, Serialize, Deserialize)]
pub enum FeatureError {
    #[error("there is no column {0:?}")]
    NoColumn(String),
    #[error("column {column:?} is {kind}, not a number: encode it one-hot or by frequency")]
    NotNumeric { column: String, kind: String },
    #[error("{0} features after one-hot encoding; at most {MAX_FEATURES}")]
    TooManyFeatures(usize),
    #[error("{} every feature ({} for missing values); need at least {needed}", points_having(*points), plural_dropped(*dropped))]
    TooFewPoints { points: usize, dropped: usize, needed: usize },
    #[error("no feature is chosen: choose at least one column")]
    NoFeatures,
    #[error("every feature is constant over these points: nothing to separate")]
    Constant,
    #[error("values too large to use (the transforms overflow); log1p or clip them")]
    Overflow,
}

/// "no point has", "only 1 point has", "only 12 points have".
fn points_having(points: usize) -> String {
    match points {
        0 => "no point has".into(),
        1 => "only 1 point has".into(),
        n => format!("only {} points have", crate::format::format_count(n as u64)),
    }
}

fn plural_dropped(dropped: usize) -> String {
    format!("{} dropped", crate::format::format_count(dropped as u64))
}

/// Rows or entities as an owned feature matrix: everything the fit needs, nothing borrowed.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Feature names ("posts_per_day", "country = BR", "rows").
    pub names: Vec<String>,
    /// Values before transforms (imputed where missing), points × features.
    pub raw: Array2<f64>,
    /// Transformed values the model sees.
    pub x: Array2<f64>,
    /// Entities: each point's id. Rows: empty.
    pub entity_ids: Vec<String>,
    /// Table rows of each point (rows: one each), as offsets into `member_rows`.
    pub member_offsets: Vec<u32>,
    pub member_rows: Vec<u32>,
    pub dropped: usize,
    pub imputed: usize,
    pub transforms: Vec<String>,
    pub n_table_rows: usize,
    /// Per point: how many events it counts for in the fit (its row's weight; 1 per entity).
    pub weights: Vec<f64>,
    /// Events in the rows read (their weights' sum; the row count when unweighted).
    pub events: f64,
    /// Whether rows carried weights.
    pub weighted: bool,
}

impl Prepared {
    pub fn n_points(&self) -> usize {
        self.x.nrows()
    }

    /// Whether every point counts once (no weights, or entities).
    pub fn unit_weights(&self) -> bool {
        self.weights.iter().all(|&w| w == 1.0)
    }

    /// Table rows of point `idx`.
    pub fn rows_of(&self, idx: usize) -> &[u32] {
        let start = self.member_offsets.get(idx).copied().unwrap_or(0) as usize;
        let end = self.member_offsets.get(idx + 1).copied().unwrap_or(0) as usize;
        self.member_rows.get(start..end).unwrap_or_default()
    }

    /// "account A900012" or "row 1,234".
    pub fn point_name(&self, idx: usize, entity: Option<&str>) -> String {
        match (entity, self.entity_ids.get(idx)) {
            (Some(column), Some(id)) => format!("{column} {id}"),
            _ => format!("row {}", self.rows_of(idx).first().map_or(0, |&r| r as usize + 1)),
        }
    }
}

/// Labels and display codes of a column over some rows, in first-seen order; missing cells get
/// `None`.
pub(crate) fn category_codes(column: &Column, rows: &[u32]) -> (Vec<String>, Vec<Option<u32>>) {
    let mut labels: Vec<String> = Vec::new();
    let mut codes = Vec::with_capacity(rows.len());
    if let ColumnData::Str(Strings::Dict { codes: raw, dict }) = &column.data {
        let mut map: FxHashMap<u32, u32> = FxHashMap::default();
        for &row in rows {
            let code = raw.get(row as usize).unwrap_or(MISSING_CODE);
            if code == MISSING_CODE {
                codes.push(None);
                continue;
            }
            let next = labels.len() as u32;
            let mapped = *map.entry(code).or_insert_with(|| {
                labels.push(dict.get(code as usize).map(|s| s.to_string()).unwrap_or_default());
                next
            });
            codes.push(Some(mapped));
        }
        return (labels, codes);
    }
    let mut index: FxHashMap<String, u32> = FxHashMap::default();
    for &row in rows {
        let value = column.value(row as usize);
        if value == Value::Missing {
            codes.push(None);
            continue;
        }
        let text = value.display();
        let next = labels.len() as u32;
        let code = match index.get(&text) {
            Some(&c) => c,
            None => {
                labels.push(text.clone());
                index.insert(text, next);
                next
            }
        };
        codes.push(Some(code));
    }
    (labels, codes)
}

/// One feature's values per table row in `rows` (NaN where missing).
struct RowFeature {
    name: String,
    values: Vec<f64>,
}

fn row_features(table: &Table, rows: &[u32], weights: Weights, spec: &FeatureSpec) -> Result<Vec<RowFeature>, FeatureError> {
    let column = table.column(&spec.column).ok_or_else(|| FeatureError::NoColumn(spec.column.clone()))?;
    match spec.encoding {
        Encoding::Numeric => {
            if !matches!(column.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean) {
                return Err(FeatureError::NotNumeric { column: column.name.clone(), kind: column.kind.label().into() });
            }
            let values = rows.iter().map(|&r| column.numeric(r as usize).unwrap_or(f64::NAN)).collect();
            Ok(vec![RowFeature { name: column.name.clone(), values }])
        }
        Encoding::OneHot | Encoding::Frequency => {
            let (labels, codes) = category_codes(column, rows);
            // Events per value, and of all rows (a missing value's events count in the total).
            let mut counts = vec![0.0f64; labels.len()];
            let mut total = 0.0;
            for (&row, code) in rows.iter().zip(&codes) {
                let w = weights.of(row);
                total += w;
                if let Some(c) = code.and_then(|c| counts.get_mut(c as usize)) {
                    *c += w;
                }
            }
            if spec.encoding == Encoding::Frequency {
                let total = if total > 0.0 { total } else { 1.0 };
                let values = codes
                    .iter()
                    .map(|code| code.and_then(|c| counts.get(c as usize)).map_or(f64::NAN, |&n| n / total))
                    .collect();
                return Ok(vec![RowFeature { name: format!("{} (frequency)", column.name), values }]);
            }
            let mut order: Vec<usize> = (0..labels.len()).collect();
            order.sort_by(|&a, &b| counts[b].total_cmp(&counts[a]).then_with(|| labels[a].cmp(&labels[b])));
            order.truncate(ONE_HOT_TOP);
            Ok(order
                .into_iter()
                .map(|code| RowFeature {
                    name: format!("{} = {}", column.name, labels[code]),
                    values: codes
                        .iter()
                        .map(|c| match c {
                            Some(c) => f64::from(u8::from(*c as usize == code)),
                            None => f64::NAN,
                        })
                        .collect(),
                })
                .collect())
        }
    }
}

/// Weighted mean and population SD (Σw·(v − m)² / Σw) of `values` with the points' `weights`.
fn mean_sd(values: impl Iterator<Item = f64> + Clone, weights: &[f64]) -> (f64, f64) {
    let total: f64 = weights.iter().sum();
    let total = if total > 0.0 { total } else { 1.0 };
    let mean = values.clone().zip(weights).map(|(v, w)| w * v).sum::<f64>() / total;
    let var = values.zip(weights).map(|(v, w)| w * (v - mean).powi(2)).sum::<f64>() / total;
    (mean, var.sqrt())
}

/// Weighted skewness (g1: the third central moment over the second's 3/2 power); 0 for fewer
/// than three events.
fn skewness(values: &[f64], weights: &[f64]) -> f64 {
    let n: f64 = weights.iter().sum();
    if n < 3.0 {
        return 0.0;
    }
    let mean = values.iter().zip(weights).map(|(v, w)| w * v).sum::<f64>() / n;
    let m2 = values.iter().zip(weights).map(|(v, w)| w * (v - mean).powi(2)).sum::<f64>() / n;
    let m3 = values.iter().zip(weights).map(|(v, w)| w * (v - mean).powi(3)).sum::<f64>() / n;
    if m2 <= 0.0 {
        0.0
    } else {
        m3 / m2.powf(1.5)
    }
}

/// The median of the points' values, each counted its weight's times (NaN when nothing weighs).
pub(crate) fn weighted_median(values: impl Iterator<Item = (f64, f64)>) -> f64 {
    let mut sorted: Vec<(f64, f64)> = values.filter(|(v, w)| v.is_finite() && *w > 0.0).collect();
    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    weighted_quantile_sorted(&sorted, 0.5).unwrap_or(f64::NAN)
}

/// Reads the features of `rows` (rows or per-entity aggregates), handles missing values and
/// applies the transforms.
pub fn prepare_features(table: &Table, rows: &[u32], params: &FeatureParams, weights: Weights) -> Result<Prepared, FeatureError> {
    if params.features.is_empty() && !(params.entity.is_some() && params.entity_count) {
        return Err(FeatureError::NoFeatures);
    }
    let weighted_rows: Vec<u32>;
    let rows = if weights.is_weighted() {
        weighted_rows = rows.iter().copied().filter(|&r| weights.of(r) > 0.0).collect();
        &weighted_rows[..]
    } else {
        rows
    };
    let events: f64 = rows.iter().map(|&r| weights.of(r)).sum();
    let mut features = Vec::new();
    for spec in &params.features {
        features.extend(row_features(table, rows, weights, spec)?);
        if features.len() > MAX_FEATURES {
            return Err(FeatureError::TooManyFeatures(features.len()));
        }
    }

    // Points: rows, or entities with their rows.
    let (mut names, mut columns, entity_ids, member_offsets, member_rows, point_weights) = match &params.entity {
        None => {
            let names: Vec<String> = features.iter().map(|f| f.name.clone()).collect();
            let columns: Vec<Vec<f64>> = features.into_iter().map(|f| f.values).collect();
            let point_weights = rows.iter().map(|&r| weights.of(r)).collect();
            (names, columns, Vec::new(), (0..=rows.len() as u32).collect::<Vec<u32>>(), rows.to_vec(), point_weights)
        }
        Some(entity) => {
            let column = table.column(entity).ok_or_else(|| FeatureError::NoColumn(entity.clone()))?;
            let (labels, codes) = category_codes(column, rows);
            let n = labels.len();
            // Group the positions in `rows` by entity (counting sort).
            let mut counts = vec![0u32; n + 1];
            for code in codes.iter().flatten() {
                counts[*code as usize + 1] += 1;
            }
            for idx in 1..counts.len() {
                counts[idx] += counts[idx - 1];
            }
            let offsets = counts.clone();
            let mut fill = counts;
            let mut positions = vec![0u32; offsets.last().copied().unwrap_or(0) as usize];
            for (pos, code) in codes.iter().enumerate() {
                if let Some(code) = code {
                    let slot = &mut fill[*code as usize];
                    if let Some(p) = positions.get_mut(*slot as usize) {
                        *p = pos as u32;
                    }
                    *slot += 1;
                }
            }
            let member_rows: Vec<u32> = positions.iter().map(|&p| rows.get(p as usize).copied().unwrap_or(0)).collect();
            let mut names = Vec::new();
            let mut columns = Vec::new();
            let weight_at = |p: u32| rows.get(p as usize).map_or(0.0, |&r| weights.of(r));
            if params.entity_count {
                names.push(if weights.is_weighted() { "events" } else { "rows" }.to_string());
                columns.push(offsets.windows(2).map(|w| positions.get(w[0] as usize..w[1] as usize).unwrap_or_default().iter().map(|&p| weight_at(p)).sum()).collect());
            }
            for feature in features {
                let means = offsets
                    .windows(2)
                    .map(|w| {
                        let (mut sum, mut count) = (0.0, 0.0);
                        for &p in positions.get(w[0] as usize..w[1] as usize).unwrap_or_default() {
                            let v = feature.values.get(p as usize).copied().unwrap_or(f64::NAN);
                            if v.is_finite() {
                                let w = weight_at(p);
                                sum += w * v;
                                count += w;
                            }
                        }
                        if count > 0.0 {
                            sum / count
                        } else {
                            f64::NAN
                        }
                    })
                    .collect();
                let name = if feature.name.contains(" = ") {
                    format!("share {}", feature.name)
                } else {
                    format!("{} (mean)", feature.name)
                };
                names.push(name);
                columns.push(means);
            }
            let point_weights = vec![1.0; labels.len()];
            (names, columns, labels, offsets, member_rows, point_weights)
        }
    };
    let n_points_all = columns.first().map_or(0, Vec::len);

    // Missing values.
    let mut keep: Vec<bool> = vec![true; n_points_all];
    let mut imputed = 0;
    let mut transforms = Vec::new();
    match params.missing {
        MissingPolicy::Drop => {
            for column in &columns {
                for (k, v) in keep.iter_mut().zip(column) {
                    if !v.is_finite() {
                        *k = false;
                    }
                }
            }
        }
        MissingPolicy::Median => {
            for (name, column) in names.iter().zip(columns.iter_mut()) {
                let missing = column.iter().filter(|v| !v.is_finite()).count();
                if missing == 0 {
                    continue;
                }
                let median = weighted_median(column.iter().copied().zip(point_weights.iter().copied()));
                let fill = if median.is_finite() { median } else { 0.0 };
                column.iter_mut().filter(|v| !v.is_finite()).for_each(|v| *v = fill);
                imputed += missing;
                transforms.push(format!("{name}: {missing} missing replaced by the median {}", crate::data::table::format_float((fill * 1000.0).round() / 1000.0)));
            }
        }
    }
    let kept: Vec<usize> = (0..n_points_all).filter(|&i| keep[i]).collect();
    let dropped = n_points_all - kept.len();
    let needed = 3;
    if kept.len() < needed {
        return Err(FeatureError::TooFewPoints { points: kept.len(), dropped, needed });
    }
    let n_points = kept.len();
    let n_features = columns.len();
    let mut raw = Array2::<f64>::zeros((n_points, n_features));
    for (j, column) in columns.iter().enumerate() {
        for (i, &p) in kept.iter().enumerate() {
            raw[[i, j]] = column.get(p).copied().unwrap_or(0.0);
        }
    }
    let point_weights: Vec<f64> = if dropped == 0 { point_weights } else { kept.iter().map(|&p| point_weights.get(p).copied().unwrap_or(1.0)).collect() };
    let (entity_ids, member_offsets, member_rows) = if dropped == 0 {
        (entity_ids, member_offsets, member_rows)
    } else {
        let mut offsets = vec![0u32];
        let mut members = Vec::new();
        for &p in &kept {
            let start = member_offsets.get(p).copied().unwrap_or(0) as usize;
            let end = member_offsets.get(p + 1).copied().unwrap_or(0) as usize;
            members.extend_from_slice(member_rows.get(start..end).unwrap_or_default());
            offsets.push(members.len() as u32);
        }
        let ids = if entity_ids.is_empty() { entity_ids } else { kept.iter().map(|&p| entity_ids.get(p).cloned().unwrap_or_default()).collect() };
        (ids, offsets, members)
    };

    // Transforms.
    let mut x = raw.clone();
    let mut logged = Vec::new();
    let mut constant = 0;
    for (j, name) in names.iter_mut().enumerate() {
        let mut col = x.column_mut(j);
        if params.log1p {
            let values: Vec<f64> = col.iter().copied().collect();
            if values.iter().all(|&v| v >= 0.0) && skewness(&values, &point_weights) > 1.0 {
                col.mapv_inplace(f64::ln_1p);
                logged.push(name.clone());
            }
        }
        let (mean, sd) = mean_sd(col.iter().copied(), &point_weights);
        if sd <= 1e-12 * mean.abs().max(1.0) {
            constant += 1;
        }
        if let Some(z) = params.clip_z {
            // Huge values overflow the mean or SD: then there is nothing sensible to clip to
            // (and `clamp` would panic on NaN bounds); the overflow is reported below.
            let (lo, hi) = (mean - z * sd, mean + z * sd);
            if sd > 0.0 && lo.is_finite() && hi.is_finite() && lo <= hi {
                col.mapv_inplace(|v| v.clamp(lo, hi));
            }
        }
        if params.standardise {
            let (mean, sd) = mean_sd(col.iter().copied(), &point_weights);
            col.mapv_inplace(|v| if sd > 0.0 { (v - mean) / sd } else { 0.0 });
        }
    }
    if constant == n_features {
        return Err(FeatureError::Constant);
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(FeatureError::Overflow);
    }
    if !logged.is_empty() {
        transforms.push(format!("log1p (skewed, non-negative): {}", logged.join(", ")));
    }
    if let Some(z) = params.clip_z {
        transforms.push(format!("clipped to mean ± {z} SD"));
    }
    if params.standardise {
        transforms.push("standardised (mean 0, SD 1)".into());
    }
    if dropped > 0 {
        transforms.push(format!("{dropped} points with a missing feature dropped"));
    }

    Ok(Prepared {
        names,
        raw,
        x,
        entity_ids,
        member_offsets,
        member_rows,
        dropped,
        imputed,
        transforms,
        n_table_rows: rows.len(),
        weights: point_weights,
        events,
        weighted: weights.is_weighted(),
    })
}
