//! Features of rows or of entities: the numbers a model sees, read once from the table into
//! an owned matrix. Numbers as they are; categories one-hot (top values) or as their frequency;
//! per entity, the rows are grouped and become a row count, means and value shares. Missing
//! values are imputed by the median or the point is dropped; then log1p for skewed counts,
//! clipping and standardising. Used by the clusters and the decision tree.

use ndarray::Array2;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use thiserror::Error;

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
    #[error("only {points} points have every feature ({dropped} dropped for missing values); need at least {needed}")]
    TooFewPoints { points: usize, dropped: usize, needed: usize },
    #[error("every feature is constant over these points: nothing to separate")]
    Constant,
    #[error("values too large to use (the transforms overflow); log1p or clip them")]
    Overflow,
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
}

impl Prepared {
    pub fn n_points(&self) -> usize {
        self.x.nrows()
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
            let code = raw.get(row as usize).copied().unwrap_or(MISSING_CODE);
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

fn row_features(table: &Table, rows: &[u32], spec: &FeatureSpec) -> Result<Vec<RowFeature>, FeatureError> {
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
            let mut counts = vec![0usize; labels.len()];
            for code in codes.iter().flatten() {
                if let Some(c) = counts.get_mut(*code as usize) {
                    *c += 1;
                }
            }
            if spec.encoding == Encoding::Frequency {
                let total = rows.len().max(1) as f64;
                let values = codes
                    .iter()
                    .map(|code| code.and_then(|c| counts.get(c as usize)).map_or(f64::NAN, |&n| n as f64 / total))
                    .collect();
                return Ok(vec![RowFeature { name: format!("{} (frequency)", column.name), values }]);
            }
            let mut order: Vec<usize> = (0..labels.len()).collect();
            order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then_with(|| labels[a].cmp(&labels[b])));
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

pub(crate) fn median_of(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn skewness(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    if n < 3.0 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n;
    let m2 = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let m3 = values.iter().map(|v| (v - mean).powi(3)).sum::<f64>() / n;
    if m2 <= 0.0 {
        0.0
    } else {
        m3 / m2.powf(1.5)
    }
}

/// Reads the features of `rows` (rows or per-entity aggregates), handles missing values and
/// applies the transforms.
pub fn prepare_features(table: &Table, rows: &[u32], params: &FeatureParams) -> Result<Prepared, FeatureError> {
    let mut features = Vec::new();
    for spec in &params.features {
        features.extend(row_features(table, rows, spec)?);
        if features.len() > MAX_FEATURES {
            return Err(FeatureError::TooManyFeatures(features.len()));
        }
    }

    // Points: rows, or entities with their rows.
    let (mut names, mut columns, entity_ids, member_offsets, member_rows) = match &params.entity {
        None => {
            let names: Vec<String> = features.iter().map(|f| f.name.clone()).collect();
            let columns: Vec<Vec<f64>> = features.into_iter().map(|f| f.values).collect();
            (names, columns, Vec::new(), (0..=rows.len() as u32).collect::<Vec<u32>>(), rows.to_vec())
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
            if params.entity_count {
                names.push("rows".to_string());
                columns.push(offsets.windows(2).map(|w| f64::from(w[1] - w[0])).collect());
            }
            for feature in features {
                let means = offsets
                    .windows(2)
                    .map(|w| {
                        let (mut sum, mut count) = (0.0, 0usize);
                        for &p in positions.get(w[0] as usize..w[1] as usize).unwrap_or_default() {
                            let v = feature.values.get(p as usize).copied().unwrap_or(f64::NAN);
                            if v.is_finite() {
                                sum += v;
                                count += 1;
                            }
                        }
                        if count == 0 {
                            f64::NAN
                        } else {
                            sum / count as f64
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
            (names, columns, labels, offsets, member_rows)
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
                let mut present: Vec<f64> = column.iter().copied().filter(|v| v.is_finite()).collect();
                let missing = column.len() - present.len();
                if missing == 0 {
                    continue;
                }
                let median = median_of(&mut present);
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
            if values.iter().all(|&v| v >= 0.0) && skewness(&values) > 1.0 {
                col.mapv_inplace(f64::ln_1p);
                logged.push(name.clone());
            }
        }
        let n = col.len() as f64;
        let mean = col.sum() / n;
        let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
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
            let mean = col.sum() / n;
            let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
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
    })
}
