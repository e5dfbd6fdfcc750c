//! Clusters: rows, or entities aggregated from rows, grouped by k-means, DBSCAN or a Gaussian
//! mixture (linfa), mapped to 2-D by exact PCA (covariance eigendecomposition) and described by what sets each
//! cluster apart.
//!
//! The work is split so the worker can report progress and honour a cancel between steps:
//! [`prepare`] reads the table once into an owned feature matrix ([`Prepared`]); a [`Fitter`]
//! then advances one bounded step at a time (one k of the scan, one Lloyd iteration, one slice
//! of the assignment) with no access to the table; [`describe`] reads the table again for the
//! cluster profiles. [`cluster`] runs the three in a row (tests, benchmarks).
//!
//! Large inputs: the model is fitted on a seeded sample ([`ClusterParams::sample_limit`];
//! DBSCAN and the Gaussian mixture at most [`DBSCAN_MAX_FIT`] / [`GMM_MAX_FIT`] points) and
//! every point is then assigned (nearest centroid; most probable component; DBSCAN: the
//! cluster of the nearest core point within eps, else noise). The report says so.

use linfa::traits::{Fit, Predict};
use linfa::DatasetBase;
use linfa_clustering::{Dbscan, GaussianMixtureModel, KMeans, KMeansInit};
use linfa_nn::distance::L2Dist;
use linfa_nn::{CommonNearestNeighbour, NearestNeighbour};
use ndarray::{Array2, ArrayView2, Axis, Slice};
use rand::seq::index::sample as sample_indices;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::data::filter::Clause;
use crate::data::table::{Column, ColumnData, ColumnType, Strings, Table, Value, MISSING_CODE};

/// Features after one-hot expansion.
pub const MAX_FEATURES: usize = 64;
/// One-hot encoding keeps this many most frequent values of a column (the rest are all-zero).
pub const ONE_HOT_TOP: usize = 8;
/// Default number of points the model is fitted on.
pub const DEFAULT_SAMPLE: usize = 100_000;
/// DBSCAN's neighbourhood queries grow faster than linearly: it fits on at most this many.
pub const DBSCAN_MAX_FIT: usize = 20_000;
/// The Gaussian mixture's EM runs in one call (no progress inside): it fits on at most this many.
pub const GMM_MAX_FIT: usize = 20_000;
/// Silhouette is quadratic: computed on a sample of this many points.
pub const SILHOUETTE_SAMPLE: usize = 2_000;
/// The k scan (elbow and silhouette) fits on a sample of this many points.
pub const SCAN_SAMPLE: usize = 10_000;
/// Candidate k of the scan.
pub const SCAN_KS: std::ops::RangeInclusive<usize> = 2..=10;
/// At most this many points go to the map (a seeded sample beyond).
pub const MAP_POINTS: usize = 200_000;
/// Points per assignment step.
const ASSIGN_CHUNK: usize = 50_000;
/// Label of DBSCAN's noise.
pub const NOISE: i32 = -1;

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Algorithm {
    /// k-means (Lloyd, k-means++ init). `k: None` picks the k with the best silhouette.
    KMeans { k: Option<usize>, n_init: usize, max_iter: u64 },
    /// DBSCAN; `eps: None` takes the knee of the k-distance curve.
    Dbscan { eps: Option<f64>, min_points: usize },
    /// Gaussian mixture, full covariances, k-means init.
    Gmm { k: usize, max_iter: u64 },
}

impl Algorithm {
    pub fn name(&self) -> &'static str {
        match self {
            Self::KMeans { .. } => "k-means",
            Self::Dbscan { .. } => "DBSCAN",
            Self::Gmm { .. } => "Gaussian mixture",
        }
    }
}

pub use super::labels::LabelSpec;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterParams {
    /// Aggregate rows per value of this column first (`None`: cluster rows).
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
    pub algorithm: Algorithm,
    pub sample_limit: usize,
    pub seed: u64,
    pub label: Option<LabelSpec>,
    /// k-means: also fit k = 2..=10 on a sample for the elbow and silhouette chart (always
    /// when k is left to the scan).
    #[serde(default = "yes")]
    pub scan_k: bool,
}

fn yes() -> bool {
    true
}

impl Default for ClusterParams {
    fn default() -> Self {
        Self {
            entity: None,
            features: Vec::new(),
            entity_count: true,
            log1p: true,
            standardise: true,
            clip_z: Some(5.0),
            missing: MissingPolicy::Median,
            algorithm: Algorithm::KMeans { k: None, n_init: 4, max_iter: 300 },
            sample_limit: DEFAULT_SAMPLE,
            seed: 7,
            label: None,
            scan_k: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum ClusterError {
    #[error("there is no column {0:?}")]
    NoColumn(String),
    #[error("column {column:?} is {kind}, not a number: encode it one-hot or by frequency")]
    NotNumeric { column: String, kind: &'static str },
    #[error("choose at least one feature")]
    NoFeatures,
    #[error("{0} features after one-hot encoding; at most {MAX_FEATURES}")]
    TooManyFeatures(usize),
    #[error("{what} must be {range}")]
    BadParameter { what: &'static str, range: &'static str },
    #[error("only {points} points have every feature ({dropped} dropped for missing values); need at least {needed}")]
    TooFewPoints { points: usize, dropped: usize, needed: usize },
    #[error("every feature is constant over these points: nothing to separate")]
    Constant,
    #[error("{0}")]
    Model(String),
    #[error("the data changed while clustering; run again")]
    Stale,
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
    /// Points the model is fitted on (indices into the points).
    pub sample: Vec<usize>,
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
fn category_codes(column: &Column, rows: &[u32]) -> (Vec<String>, Vec<Option<u32>>) {
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

fn row_features(table: &Table, rows: &[u32], spec: &FeatureSpec) -> Result<Vec<RowFeature>, ClusterError> {
    let column = table.column(&spec.column).ok_or_else(|| ClusterError::NoColumn(spec.column.clone()))?;
    match spec.encoding {
        Encoding::Numeric => {
            if !matches!(column.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean) {
                return Err(ClusterError::NotNumeric { column: column.name.clone(), kind: column.kind.label() });
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

fn median_of(values: &mut [f64]) -> f64 {
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

fn check_params(params: &ClusterParams) -> Result<(), ClusterError> {
    if params.features.is_empty() && !(params.entity.is_some() && params.entity_count) {
        return Err(ClusterError::NoFeatures);
    }
    if params.sample_limit < 10 {
        return Err(ClusterError::BadParameter { what: "the fit sample", range: "at least 10 points" });
    }
    if let Some(z) = params.clip_z {
        if !(z.is_finite() && z > 0.0) {
            return Err(ClusterError::BadParameter { what: "the clip threshold", range: "a positive number of standard deviations" });
        }
    }
    match &params.algorithm {
        Algorithm::KMeans { k, n_init, max_iter } => {
            if k.is_some_and(|k| !(2..=50).contains(&k)) {
                return Err(ClusterError::BadParameter { what: "k", range: "between 2 and 50" });
            }
            if !(1..=50).contains(n_init) || *max_iter == 0 {
                return Err(ClusterError::BadParameter { what: "runs and iterations", range: "at least 1 (at most 50 runs)" });
            }
        }
        Algorithm::Dbscan { eps, min_points } => {
            if eps.is_some_and(|e| !(e.is_finite() && e > 0.0)) {
                return Err(ClusterError::BadParameter { what: "eps", range: "a positive number" });
            }
            if !(2..=1000).contains(min_points) {
                return Err(ClusterError::BadParameter { what: "min points", range: "between 2 and 1000" });
            }
        }
        Algorithm::Gmm { k, max_iter } => {
            if !(1..=30).contains(k) || *max_iter == 0 {
                return Err(ClusterError::BadParameter { what: "k", range: "between 1 and 30, with at least one iteration" });
            }
        }
    }
    Ok(())
}

/// Reads the features of `rows` (rows or per-entity aggregates), handles missing values and
/// applies the transforms; picks the seeded fit sample.
pub fn prepare(table: &Table, rows: &[u32], params: &ClusterParams) -> Result<Prepared, ClusterError> {
    check_params(params)?;
    let mut features = Vec::new();
    for spec in &params.features {
        features.extend(row_features(table, rows, spec)?);
        if features.len() > MAX_FEATURES {
            return Err(ClusterError::TooManyFeatures(features.len()));
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
            let column = table.column(entity).ok_or_else(|| ClusterError::NoColumn(entity.clone()))?;
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
        return Err(ClusterError::TooFewPoints { points: kept.len(), dropped, needed });
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
        return Err(ClusterError::Constant);
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(ClusterError::Model("values too large to cluster (the transforms overflow); log1p or clip them".into()));
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

    let limit = match params.algorithm {
        Algorithm::Dbscan { .. } => params.sample_limit.min(DBSCAN_MAX_FIT),
        Algorithm::Gmm { .. } => params.sample_limit.min(GMM_MAX_FIT),
        Algorithm::KMeans { .. } => params.sample_limit,
    };
    let sample = seeded_sample(n_points, limit, params.seed);
    Ok(Prepared {
        names,
        raw,
        x,
        entity_ids,
        member_offsets,
        member_rows,
        sample,
        dropped,
        imputed,
        transforms,
        n_table_rows: rows.len(),
    })
}

/// `limit` of `0..n` in increasing order, the same for the same seed (all of them if n ≤ limit).
pub fn seeded_sample(n: usize, limit: usize, seed: u64) -> Vec<usize> {
    if n <= limit {
        return (0..n).collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5A3D_1E00);
    let mut picked = sample_indices(&mut rng, n, limit).into_vec();
    picked.sort_unstable();
    picked
}

fn rows_of(x: &Array2<f64>, idx: &[usize]) -> Array2<f64> {
    x.select(Axis(0), idx)
}

/// Squared Euclidean distance; four running sums so the loop vectorises (wasm simd128).
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for lane in 0..4 {
            let t = x[lane] - y[lane];
            acc[lane] += t * t;
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += (x - y) * (x - y);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Index of the nearest of the centroids (row-major, `d` per centroid) and its squared distance.
fn closest(point: &[f64], centroids: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, centroid) in centroids.chunks_exact(d.max(1)).enumerate() {
        let dist = squared_distance(point, centroid);
        if dist < best.1 {
            best = (c, dist);
        }
    }
    best
}

/// Calls `f` with each row of `x` as a slice (copied only when `x` is not row-major).
fn for_each_row(x: ArrayView2<f64>, mut f: impl FnMut(&[f64])) {
    let mut buffer = Vec::with_capacity(x.ncols());
    for row in x.rows() {
        match row.as_slice() {
            Some(slice) => f(slice),
            None => {
                buffer.clear();
                buffer.extend(row.iter().copied());
                f(&buffer);
            }
        }
    }
}

/// Sum of squared distances of points to their nearest centroid, and the memberships.
fn nearest(x: ArrayView2<f64>, centroids: &Array2<f64>) -> (Vec<usize>, f64) {
    let d = centroids.ncols();
    let flat: Vec<f64> = centroids.iter().copied().collect();
    let mut labels = Vec::with_capacity(x.nrows());
    let mut total = 0.0;
    for_each_row(x, |point| {
        let (best, best_d) = closest(point, &flat, d);
        labels.push(best);
        total += best_d;
    });
    (labels, total)
}

/// One Lloyd iteration as scikit-learn runs it: every point to its nearest centroid, every
/// centroid to the mean of its points (an empty cluster keeps its centroid). linfa's own loop
/// is generic over distances and 2× slower here, so only its k-means++ start is used.
fn lloyd_step(x: ArrayView2<f64>, centroids: &Array2<f64>) -> Array2<f64> {
    let (k, d) = centroids.dim();
    let flat: Vec<f64> = centroids.iter().copied().collect();
    let mut sums = vec![0.0; k * d];
    let mut counts = vec![0u64; k];
    for_each_row(x, |point| {
        let (best, _) = closest(point, &flat, d);
        if let Some(sum) = sums.get_mut(best * d..best * d + d) {
            for (s, v) in sum.iter_mut().zip(point) {
                *s += v;
            }
        }
        if let Some(c) = counts.get_mut(best) {
            *c += 1;
        }
    });
    let mut updated = centroids.clone();
    for (c, mut row) in updated.rows_mut().into_iter().enumerate() {
        let n = counts.get(c).copied().unwrap_or(0);
        if n > 0 {
            for (j, v) in row.iter_mut().enumerate() {
                *v = sums.get(c * d + j).copied().unwrap_or(0.0) / n as f64;
            }
        }
    }
    updated
}

/// Mean silhouette over a seeded sample of at most [`SILHOUETTE_SAMPLE`] points (noise left
/// out); `None` with fewer than two clusters.
pub fn silhouette(x: ArrayView2<f64>, labels: &[i32], seed: u64) -> Option<f64> {
    let valid: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] != NOISE).collect();
    let picked: Vec<usize> = seeded_sample(valid.len(), SILHOUETTE_SAMPLE, seed).into_iter().filter_map(|i| valid.get(i).copied()).collect();
    let mut ids: Vec<i32> = picked.iter().map(|&i| labels[i]).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() < 2 {
        return None;
    }
    let slot: FxHashMap<i32, usize> = ids.iter().enumerate().map(|(s, &c)| (c, s)).collect();
    let mut sizes = vec![0usize; ids.len()];
    for &i in &picked {
        sizes[slot[&labels[i]]] += 1;
    }
    let mut total = 0.0;
    let mut sums = vec![0.0; ids.len()];
    for &i in &picked {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for &j in &picked {
            if i != j {
                let d: f64 = x.row(i).iter().zip(x.row(j).iter()).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
                sums[slot[&labels[j]]] += d;
            }
        }
        let own = slot[&labels[i]];
        if sizes[own] <= 1 {
            continue; // silhouette 0 by convention
        }
        let a = sums[own] / (sizes[own] - 1) as f64;
        let b = (0..ids.len()).filter(|&s| s != own && sizes[s] > 0).map(|s| sums[s] / sizes[s] as f64).fold(f64::INFINITY, f64::min);
        let denom = a.max(b);
        if denom > 0.0 {
            total += (b - a) / denom;
        }
    }
    Some(total / picked.len() as f64)
}

/// One k of the elbow / silhouette scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KScore {
    pub k: usize,
    /// Sum of squared distances to the nearest centroid over the scan sample.
    pub inertia: f64,
    pub silhouette: Option<f64>,
}

/// The sorted distances to the `k`-th nearest neighbour, for choosing DBSCAN's eps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KDistance {
    pub k: usize,
    /// Descending, at most 400 points (evenly thinned).
    pub distances: Vec<f64>,
    /// Of the full curve.
    pub n: usize,
    /// The knee: farthest point from the chord of the curve.
    pub suggested_eps: f64,
}

/// k-distance curve over `x` (the point itself is not its own neighbour).
pub fn k_distance(x: ArrayView2<f64>, k: usize) -> Result<KDistance, ClusterError> {
    let index = CommonNearestNeighbour::KdTree.from_batch(&x, L2Dist).map_err(|e| ClusterError::Model(format!("neighbour index: {e}")))?;
    let mut distances = Vec::with_capacity(x.nrows());
    for point in x.rows() {
        let found = index.k_nearest(point, k + 1).map_err(|e| ClusterError::Model(format!("neighbour search: {e}")))?;
        let d = found
            .last()
            .map(|(p, _)| p.iter().zip(point.iter()).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt())
            .unwrap_or(0.0);
        distances.push(d);
    }
    distances.sort_by(|a, b| b.total_cmp(a));
    let n = distances.len();
    let suggested_eps = knee(&distances);
    let step = n.div_ceil(400).max(1);
    let thinned = distances.iter().step_by(step).copied().collect();
    Ok(KDistance { k, distances: thinned, n, suggested_eps })
}

/// Knee of a descending curve: the point farthest below the chord from first to last.
fn knee(curve: &[f64]) -> f64 {
    let n = curve.len();
    let (Some(&first), Some(&last)) = (curve.first(), curve.last()) else { return 0.0 };
    if n < 3 {
        return first;
    }
    let mut best = (0.0, first);
    for (i, &d) in curve.iter().enumerate() {
        let chord = first + (last - first) * i as f64 / (n - 1) as f64;
        let gap = chord - d;
        if gap > best.0 {
            best = (gap, d);
        }
    }
    if best.1 > 0.0 {
        best.1
    } else {
        curve.iter().copied().find(|&d| d > 0.0).unwrap_or(1.0)
    }
}

/// Progress of a [`Fitter`].
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Working { stage: String, fraction: f64 },
    Done,
}

enum Phase {
    Scan { next: usize },
    KDistance,
    KMeans { run: usize, iter: u64, centroids: Option<Array2<f64>> },
    Dbscan,
    Gmm,
    Assign { next: usize },
    Project,
    Done,
}

/// The fitted model, as far as assignment needs it.
enum Model {
    None,
    Centroids(Array2<f64>),
    /// DBSCAN: labels of the sample's points and the core points (sample positions).
    Dbscan { labels: Vec<i32>, core: Vec<usize>, eps: f64 },
    Gmm(Box<GaussianMixtureModel<f64>>),
}

/// Steps of a clustering fit over a [`Prepared`] matrix.
pub struct Fitter {
    params: ClusterParams,
    phase: Phase,
    fit_x: Array2<f64>,
    scan_x: Array2<f64>,
    /// Convergence thresholds of `fit_x` and `scan_x` (a pass over the data each: computed once).
    fit_tolerance: f64,
    scan_tolerance: f64,
    pub k_scan: Vec<KScore>,
    pub k_distance: Option<KDistance>,
    k: usize,
    eps: Option<f64>,
    best: Option<(f64, Array2<f64>)>,
    iterations: u64,
    model: Model,
    labels: Vec<i32>,
    map: Option<Projection>,
    notes: Vec<String>,
}

impl Fitter {
    pub fn new(prepared: &Prepared, params: &ClusterParams) -> Self {
        let fit_x = rows_of(&prepared.x, &prepared.sample);
        let scan_idx = seeded_sample(fit_x.nrows(), SCAN_SAMPLE, params.seed ^ 0x5CA7);
        let scan_x = rows_of(&fit_x, &scan_idx);
        let phase = match &params.algorithm {
            Algorithm::KMeans { k: Some(_), .. } if !params.scan_k => Phase::KMeans { run: 0, iter: 0, centroids: None },
            Algorithm::KMeans { .. } => Phase::Scan { next: *SCAN_KS.start() },
            Algorithm::Dbscan { .. } => Phase::KDistance,
            Algorithm::Gmm { .. } => Phase::Gmm,
        };
        let (k, eps) = match &params.algorithm {
            Algorithm::KMeans { k, .. } => (k.unwrap_or(0), None),
            Algorithm::Gmm { k, .. } => (*k, None),
            Algorithm::Dbscan { eps, .. } => (0, *eps),
        };
        let (fit_tolerance, scan_tolerance) = (tolerance(fit_x.view()), tolerance(scan_x.view()));
        Self {
            params: params.clone(),
            phase,
            fit_x,
            scan_x,
            fit_tolerance,
            scan_tolerance,
            k_scan: Vec::new(),
            k_distance: None,
            k,
            eps,
            best: None,
            iterations: 0,
            model: Model::None,
            labels: Vec::new(),
            map: None,
            notes: Vec::new(),
        }
    }

    fn kmeans_step(&self, x: ArrayView2<f64>, k: usize, init: KMeansInit<f64>, seed: u64) -> Result<Array2<f64>, ClusterError> {
        let dataset = DatasetBase::from(x);
        let model = KMeans::params_with_rng(k, ChaCha8Rng::seed_from_u64(seed))
            .n_runs(1)
            .max_n_iterations(1)
            .init_method(init)
            .fit(&dataset)
            .map_err(|e| ClusterError::Model(format!("k-means: {e}")))?;
        Ok(model.centroids().clone())
    }

    /// A full k-means fit (scan): runs `n_init` times to convergence, keeps the best inertia.
    fn kmeans_full(&self, x: ArrayView2<f64>, k: usize, n_init: usize, seed: u64) -> Result<(Array2<f64>, f64), ClusterError> {
        let dataset = DatasetBase::from(x);
        let model = KMeans::params_with_rng(k, ChaCha8Rng::seed_from_u64(seed))
            .n_runs(n_init)
            .max_n_iterations(100)
            .tolerance(self.scan_tolerance)
            .fit(&dataset)
            .map_err(|e| ClusterError::Model(format!("k-means: {e}")))?;
        let centroids = model.centroids().clone();
        let (_, inertia) = nearest(x, &centroids);
        Ok((centroids, inertia))
    }

    /// What the next step does: "k scan", "fit", "assign", "map" or "done" (for timings).
    pub fn phase_name(&self) -> &'static str {
        match self.phase {
            Phase::Scan { .. } => "k scan",
            Phase::KDistance => "k-distance",
            Phase::KMeans { .. } | Phase::Dbscan | Phase::Gmm => "fit",
            Phase::Assign { .. } => "assign",
            Phase::Project => "map",
            Phase::Done => "done",
        }
    }

    /// Lloyd iterations run so far (k-means).
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// Advances one bounded step.
    pub fn step(&mut self, prepared: &Prepared) -> Result<Step, ClusterError> {
        let n_points = prepared.n_points();
        let phase = std::mem::replace(&mut self.phase, Phase::Done);
        let (next, stage, fraction) = match phase {
            Phase::Scan { next } => {
                let k = next;
                if k > *SCAN_KS.end() || k >= self.scan_x.nrows() {
                    if self.k == 0 {
                        let best = self.k_scan.iter().filter_map(|s| s.silhouette.map(|v| (s.k, v))).max_by(|a, b| a.1.total_cmp(&b.1));
                        self.k = best.map_or(3, |(k, _)| k);
                        self.notes.push(format!("k = {} has the best silhouette of k = 2–{}", self.k, self.k_scan.last().map_or(2, |s| s.k)));
                    }
                    self.k = self.k.min(self.fit_x.nrows());
                    (Phase::KMeans { run: 0, iter: 0, centroids: None }, "k-means".to_string(), 0.2)
                } else {
                    let (centroids, inertia) = self.kmeans_full(self.scan_x.view(), k, 2, self.params.seed.wrapping_add(k as u64))?;
                    let (labels, _) = nearest(self.scan_x.view(), &centroids);
                    let labels: Vec<i32> = labels.into_iter().map(|l| l as i32).collect();
                    let silhouette = silhouette(self.scan_x.view(), &labels, self.params.seed);
                    self.k_scan.push(KScore { k, inertia, silhouette });
                    let done = (k - SCAN_KS.start() + 1) as f64 / (SCAN_KS.end() - SCAN_KS.start() + 1) as f64;
                    (Phase::Scan { next: k + 1 }, format!("Scanning k = {k}"), 0.2 * done)
                }
            }
            Phase::KMeans { run, iter, centroids } => {
                let Algorithm::KMeans { n_init, max_iter, .. } = self.params.algorithm else { return Err(ClusterError::Model("internal: not k-means".into())) };
                let seed = self.params.seed.wrapping_add(1000 + run as u64);
                let x = self.fit_x.view();
                let updated = match &centroids {
                    // linfa's k-means++ start (and its first iteration).
                    None => self.kmeans_step(x, self.k, KMeansInit::KMeansPlusPlus, seed)?,
                    Some(c) => lloyd_step(x, c),
                };
                self.iterations += 1;
                let shift: f64 = centroids.as_ref().map_or(f64::INFINITY, |c| (c - &updated).mapv(|v| v * v).sum());
                let converged = shift <= self.fit_tolerance || iter + 1 >= max_iter;
                let fraction = 0.2 + 0.6 * (run as f64 + if converged { 1.0 } else { (iter as f64 / 30.0).min(0.9) }) / n_init as f64;
                if converged {
                    let (_, inertia) = nearest(x, &updated);
                    if self.best.as_ref().is_none_or(|(b, _)| inertia < *b) {
                        self.best = Some((inertia, updated));
                    }
                    if run + 1 < n_init {
                        (Phase::KMeans { run: run + 1, iter: 0, centroids: None }, format!("k-means run {} of {n_init}", run + 2), fraction)
                    } else {
                        let centroids = self.best.as_ref().map(|(_, c)| c.clone()).unwrap_or_default();
                        self.model = Model::Centroids(centroids);
                        (Phase::Assign { next: 0 }, "Assigning points".to_string(), 0.8)
                    }
                } else {
                    (Phase::KMeans { run, iter: iter + 1, centroids: Some(updated) }, format!("k-means run {} of {n_init}, iteration {}", run + 1, iter + 2), fraction)
                }
            }
            Phase::KDistance => {
                let Algorithm::Dbscan { min_points, .. } = self.params.algorithm else { return Err(ClusterError::Model("internal: not DBSCAN".into())) };
                let curve = k_distance(self.fit_x.view(), min_points.saturating_sub(1).max(1))?;
                if self.eps.is_none() {
                    self.eps = Some(curve.suggested_eps);
                    self.notes.push(format!("eps = {:.3} from the knee of the {}-distance curve", curve.suggested_eps, curve.k));
                }
                self.k_distance = Some(curve);
                (Phase::Dbscan, "DBSCAN".to_string(), 0.3)
            }
            Phase::Dbscan => {
                let Algorithm::Dbscan { min_points, .. } = self.params.algorithm else { return Err(ClusterError::Model("internal: not DBSCAN".into())) };
                let eps = self.eps.unwrap_or(1.0);
                let params = Dbscan::params(min_points).tolerance(eps);
                let params = linfa::ParamGuard::check(params).map_err(|e| ClusterError::Model(format!("DBSCAN: {e}")))?;
                let memberships = linfa::traits::Transformer::transform(&params, &self.fit_x.view());
                let labels: Vec<i32> = memberships.iter().map(|m| m.map_or(NOISE, |c| c as i32)).collect();
                let core = core_points(self.fit_x.view(), &labels, eps, min_points)?;
                self.model = Model::Dbscan { labels, core, eps };
                (Phase::Assign { next: 0 }, "Assigning points".to_string(), 0.8)
            }
            Phase::Gmm => {
                let Algorithm::Gmm { k, max_iter } = self.params.algorithm else { return Err(ClusterError::Model("internal: not a mixture".into())) };
                let dataset = DatasetBase::from(self.fit_x.view());
                let model = GaussianMixtureModel::params_with_rng(k.min(self.fit_x.nrows()), ChaCha8Rng::seed_from_u64(self.params.seed))
                    .max_n_iterations(max_iter)
                    .tolerance(1e-3)
                    .reg_covariance(1e-6)
                    .fit(&dataset)
                    .map_err(|e| ClusterError::Model(format!("Gaussian mixture: {e}")))?;
                self.model = Model::Gmm(Box::new(model));
                (Phase::Assign { next: 0 }, "Assigning points".to_string(), 0.8)
            }
            Phase::Assign { next } => {
                if next == 0 {
                    self.labels = vec![NOISE; n_points];
                }
                let end = (next + ASSIGN_CHUNK).min(n_points);
                let chunk = prepared.x.slice_axis(Axis(0), Slice::from(next..end));
                let assigned: Vec<i32> = match &self.model {
                    Model::Centroids(c) => nearest(chunk, c).0.into_iter().map(|l| l as i32).collect(),
                    Model::Gmm(g) => g.predict(&chunk).iter().map(|&l| l as i32).collect(),
                    Model::Dbscan { labels, core, eps } => assign_dbscan(chunk, next, prepared, &self.fit_x, labels, core, *eps)?,
                    Model::None => return Err(ClusterError::Model("internal: no model".into())),
                };
                if let Some(slot) = self.labels.get_mut(next..end) {
                    slot.copy_from_slice(&assigned);
                }
                if end >= n_points {
                    (Phase::Project, "Projecting (PCA)".to_string(), 0.9)
                } else {
                    (Phase::Assign { next: end }, "Assigning points".to_string(), 0.8 + 0.1 * end as f64 / n_points as f64)
                }
            }
            Phase::Project => {
                self.map = Some(project(prepared, self.params.seed)?);
                (Phase::Done, "Done".to_string(), 1.0)
            }
            Phase::Done => return Ok(Step::Done),
        };
        self.phase = next;
        Ok(Step::Working { stage, fraction })
    }

    /// Final labels, renumbered 1.. by size (largest first); noise stays [`NOISE`].
    fn ordered_labels(&self) -> (Vec<i32>, usize) {
        let max = self.labels.iter().copied().max().unwrap_or(NOISE);
        let mut sizes: Vec<(i32, usize)> = (0..=max).map(|c| (c, 0)).collect();
        for &l in &self.labels {
            if l >= 0 {
                if let Some(s) = sizes.get_mut(l as usize) {
                    s.1 += 1;
                }
            }
        }
        sizes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut rename = vec![NOISE; (max + 1).max(0) as usize];
        let mut n = 0;
        for (new, (old, size)) in sizes.iter().enumerate() {
            if *size > 0 {
                rename[*old as usize] = new as i32 + 1;
                n += 1;
            }
        }
        let labels = self.labels.iter().map(|&l| if l >= 0 { rename.get(l as usize).copied().unwrap_or(NOISE) } else { NOISE }).collect();
        (labels, n)
    }
}

/// Tolerance on the squared centroid shift: scikit-learn's, 1e-4 × the mean feature variance.
fn tolerance(x: ArrayView2<f64>) -> f64 {
    let n = x.nrows().max(1) as f64;
    let mean_var = x.columns().into_iter().map(|c| {
        let m = c.sum() / n;
        c.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n
    }).sum::<f64>() / x.ncols().max(1) as f64;
    1e-4 * mean_var.max(1e-12)
}

/// Sample positions of DBSCAN's core points (at least `min_points` within eps, itself included).
fn core_points(x: ArrayView2<f64>, labels: &[i32], eps: f64, min_points: usize) -> Result<Vec<usize>, ClusterError> {
    let index = CommonNearestNeighbour::KdTree.from_batch(&x, L2Dist).map_err(|e| ClusterError::Model(format!("neighbour index: {e}")))?;
    let mut core = Vec::new();
    for (i, point) in x.rows().into_iter().enumerate() {
        if labels.get(i).is_some_and(|&l| l != NOISE) {
            let n = index.within_range(point, eps).map_err(|e| ClusterError::Model(format!("neighbour search: {e}")))?.len();
            if n >= min_points {
                core.push(i);
            }
        }
    }
    Ok(core)
}

/// DBSCAN labels of points `offset..` (the fit sample keeps its own; others take the cluster
/// of the nearest core point within eps, else noise).
fn assign_dbscan(chunk: ArrayView2<f64>, offset: usize, prepared: &Prepared, fit_x: &Array2<f64>, labels: &[i32], core: &[usize], eps: f64) -> Result<Vec<i32>, ClusterError> {
    let in_sample: FxHashMap<usize, usize> = prepared.sample.iter().enumerate().filter(|(_, &p)| p >= offset && p < offset + chunk.nrows()).map(|(s, &p)| (p, s)).collect();
    let core_x = rows_of(fit_x, core);
    let index = if core.is_empty() { None } else { Some(CommonNearestNeighbour::KdTree.from_batch(&core_x, L2Dist).map_err(|e| ClusterError::Model(format!("neighbour index: {e}")))?) };
    let mut out = Vec::with_capacity(chunk.nrows());
    for (i, point) in chunk.rows().into_iter().enumerate() {
        if let Some(&s) = in_sample.get(&(offset + i)) {
            out.push(labels.get(s).copied().unwrap_or(NOISE));
            continue;
        }
        let label = match &index {
            Some(index) => {
                let found = index.k_nearest(point, 1).map_err(|e| ClusterError::Model(format!("neighbour search: {e}")))?;
                match found.first() {
                    Some((p, c)) if p.iter().zip(point.iter()).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt() <= eps => {
                        core.get(*c).and_then(|&s| labels.get(s)).copied().unwrap_or(NOISE)
                    }
                    _ => NOISE,
                }
            }
            None => NOISE,
        };
        out.push(label);
    }
    Ok(out)
}

/// Map points (point indices), their 2-D coordinates, and the variance share of each axis.
type Projection = (Vec<usize>, Array2<f64>, [f64; 2]);

/// PCA to 2-D (fitted on a sample) of a seeded sample of at most [`MAP_POINTS`] points.
fn project(prepared: &Prepared, seed: u64) -> Result<Projection, ClusterError> {
    let idx = seeded_sample(prepared.n_points(), MAP_POINTS, seed ^ 0x3A9);
    let x = rows_of(&prepared.x, &idx);
    if x.ncols() < 2 {
        let mut coords = Array2::zeros((x.nrows(), 2));
        coords.column_mut(0).assign(&x.column(0));
        return Ok((idx, coords, [1.0, 0.0]));
    }
    // Exact PCA: the covariance of a seeded sample, its symmetric eigendecomposition, the two
    // largest components. (linfa-reduction's PCA runs a randomised iterative solver, LOBPCG,
    // which produced NaN on a 333,000-entity map in the browser, and linfa-linalg panics on NaN:
    // a panic ends the worker.) Anything non-finite is refused with a message instead.
    if let Some(position) = x.iter().position(|v| !v.is_finite()) {
        let (row, column) = (position / x.ncols(), position % x.ncols());
        let name = prepared.names.get(column).cloned().unwrap_or_default();
        return Err(ClusterError::Model(format!("the map cannot be drawn: feature “{name}” of point {row} is not a finite number after the transforms")));
    }
    let fit = rows_of(&x, &seeded_sample(x.nrows(), DEFAULT_SAMPLE, seed ^ 0x3AA));
    let n = fit.nrows();
    let Some(mean) = fit.mean_axis(Axis(0)).filter(|_| n >= 2) else {
        return Err(ClusterError::Model("the map needs at least two points".into()));
    };
    let centred = &fit - &mean;
    let covariance = centred.t().dot(&centred) / (n - 1) as f64;
    if covariance.iter().any(|v| !v.is_finite()) {
        return Err(ClusterError::Model(format!("the map cannot be drawn: the covariance of {n} sampled points is not finite")));
    }
    use linfa_linalg::eigh::{EigSort, Eigh};
    let (values, vectors) = covariance.eigh().map_err(|e| ClusterError::Model(format!("PCA: {e}")))?.sort_eig_desc();
    let mut axes = Array2::<f64>::zeros((x.ncols(), 2));
    for j in 0..2 {
        let mut column = vectors.column(j).to_owned();
        // A fixed sign: the largest loading positive, so that the same data draws the same map.
        let largest = column.iter().copied().fold(0.0f64, |a, v| if v.abs() > a.abs() { v } else { a });
        if largest < 0.0 {
            column.mapv_inplace(|v| -v);
        }
        axes.column_mut(j).assign(&column);
    }
    let coords = (&x - &mean).dot(&axes);
    let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
    let share = |j: usize| if total > 0.0 { values.get(j).copied().unwrap_or(0.0).max(0.0) / total } else { 0.0 };
    Ok((idx, coords, [share(0), share(1)]))
}

/// One feature's shift in a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureShift {
    pub feature: String,
    pub mean: f64,
    pub rest_mean: f64,
    /// Standardised mean difference (cluster vs the rest, pooled SD).
    pub smd: f64,
    /// Cluster mean over the overall median (when the median is positive).
    pub median_ratio: Option<f64>,
}

/// A category value over-represented in a cluster's rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryShare {
    pub column: String,
    pub value: String,
    pub share: f64,
    pub overall: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterProfile {
    /// 1.. by size; [`NOISE`] for DBSCAN's noise.
    pub id: i32,
    pub size: usize,
    pub share: f64,
    pub rows: usize,
    pub label_rate: Option<f64>,
    pub shifts: Vec<FeatureShift>,
    pub categories: Vec<CategoryShare>,
    pub summary: String,
}

/// The scatter of the map, quantised: per point x, y (u16 over the ranges) and cluster (u16,
/// noise = 65535), little-endian, base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapData {
    pub n: usize,
    pub of: usize,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    pub explained: [f64; 2],
    pub packed: String,
}

pub const MAP_NOISE: u16 = u16::MAX;

impl MapData {
    /// Decodes into `(x, y, cluster)` in data units (cluster: [`NOISE`] for noise).
    pub fn points(&self) -> Vec<(f64, f64, i32)> {
        use base64::Engine;
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&self.packed) else { return Vec::new() };
        let scale = |q: u16, (lo, hi): (f64, f64)| lo + (hi - lo) * f64::from(q) / 65535.0;
        bytes
            .chunks_exact(6)
            .map(|c| {
                let x = u16::from_le_bytes([c[0], c[1]]);
                let y = u16::from_le_bytes([c[2], c[3]]);
                let k = u16::from_le_bytes([c[4], c[5]]);
                (scale(x, self.x_range), scale(y, self.y_range), if k == MAP_NOISE { NOISE } else { i32::from(k) })
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterReport {
    /// "rows" or the entity column.
    pub level: String,
    pub entity: Option<String>,
    pub n_points: usize,
    pub n_rows: usize,
    pub fit_points: usize,
    pub dropped: usize,
    pub imputed: usize,
    pub features: Vec<String>,
    pub transforms: Vec<String>,
    pub algorithm: String,
    pub k: usize,
    pub eps: Option<f64>,
    pub iterations: u64,
    pub clusters: Vec<ClusterProfile>,
    pub noise: usize,
    /// k-means: sum of squared distances of all points to their centroid (transformed units).
    pub inertia: Option<f64>,
    pub silhouette: Option<f64>,
    pub k_scan: Vec<KScore>,
    pub k_distance: Option<KDistance>,
    pub map: MapData,
    pub label: Option<String>,
    pub notes: Vec<String>,
}

/// The result the worker keeps: the report and what hover, selection and export read.
pub struct Outcome {
    pub report: ClusterReport,
    pub prepared: Prepared,
    /// Per point, 1.. by size or [`NOISE`].
    pub labels: Vec<i32>,
    /// Map point → point index.
    pub map_index: Vec<usize>,
    pub map_coords: Array2<f64>,
}

fn format_ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.1}×")
    }
}

/// Per table row: whether its label is positive (a missing label counts as not positive).
fn label_flags(table: &Table, label: &LabelSpec) -> Result<Vec<bool>, ClusterError> {
    let truth = label.truth(table).ok_or_else(|| ClusterError::NoColumn(label.column.clone()))?;
    Ok(truth.into_iter().map(|t| t == Some(true)).collect())
}

/// Cluster profiles, map and report from a finished fit (reads the table for category values
/// and labels).
pub fn describe(table: &Table, prepared: Prepared, mut fitter: Fitter) -> Result<Outcome, ClusterError> {
    if prepared.member_rows.iter().any(|&r| r as usize >= table.n_rows) {
        return Err(ClusterError::Stale);
    }
    let params = fitter.params.clone();
    let (labels, n_clusters) = fitter.ordered_labels();
    let n_points = prepared.n_points();
    let n_features = prepared.raw.ncols();

    let label_rows = params.label.as_ref().map(|l| label_flags(table, l)).transpose()?;
    let overall_medians: Vec<f64> = (0..n_features).map(|j| median_of(&mut prepared.raw.column(j).to_vec())).collect();
    // Category columns worth profiling: categories with a handful of values.
    type Codes<'t> = (&'t Column, Vec<String>, Vec<Option<u32>>);
    let categorical: Vec<Codes> = table
        .columns
        .iter()
        .filter(|c| matches!(c.kind, ColumnType::Category | ColumnType::Boolean))
        .filter(|c| Some(c.name.as_str()) != params.entity.as_deref() && Some(&c.name) != params.label.as_ref().map(|l| &l.column))
        .filter_map(|c| {
            let (labels, codes) = category_codes(c, &prepared.member_rows);
            (labels.len() >= 2 && labels.len() <= 200).then_some((c, labels, codes))
        })
        .collect();

    let mut ids: Vec<i32> = (1..=n_clusters as i32).collect();
    let noise = labels.iter().filter(|&&l| l == NOISE).count();
    if noise > 0 {
        ids.push(NOISE);
    }
    let point_of_member: Vec<usize> = (0..n_points).flat_map(|p| std::iter::repeat_n(p, prepared.rows_of(p).len())).collect();
    let unit = params.entity.clone().unwrap_or_else(|| "rows".into());
    let mut clusters = Vec::new();
    for &id in &ids {
        let members: Vec<usize> = (0..n_points).filter(|&p| labels[p] == id).collect();
        let size = members.len();
        let in_set: Vec<bool> = labels.iter().map(|&l| l == id).collect();
        let mut shifts = Vec::new();
        for j in 0..n_features {
            let col = prepared.raw.column(j);
            let (mut s_in, mut q_in, mut s_out, mut q_out) = (0.0, 0.0, 0.0, 0.0);
            for (p, &v) in col.iter().enumerate() {
                if in_set[p] {
                    s_in += v;
                    q_in += v * v;
                } else {
                    s_out += v;
                    q_out += v * v;
                }
            }
            let n_in = size as f64;
            let n_out = (n_points - size) as f64;
            let mean = if n_in > 0.0 { s_in / n_in } else { f64::NAN };
            let rest_mean = if n_out > 0.0 { s_out / n_out } else { f64::NAN };
            let var_in = if n_in > 1.0 { ((q_in - n_in * mean * mean) / (n_in - 1.0)).max(0.0) } else { 0.0 };
            let var_out = if n_out > 1.0 { ((q_out - n_out * rest_mean * rest_mean) / (n_out - 1.0)).max(0.0) } else { 0.0 };
            let pooled = ((var_in + var_out) / 2.0).sqrt();
            let diff = mean - rest_mean;
            let smd = if pooled > 1e-12 { diff / pooled } else if diff.abs() > 1e-12 { diff.signum() * 99.0 } else { 0.0 };
            let median = overall_medians.get(j).copied().unwrap_or(f64::NAN);
            let median_ratio = (median > 0.0 && mean.is_finite()).then(|| mean / median);
            shifts.push(FeatureShift { feature: prepared.names[j].clone(), mean, rest_mean, smd: if smd.is_finite() { smd } else { 0.0 }, median_ratio });
        }
        shifts.sort_by(|a, b| b.smd.abs().total_cmp(&a.smd.abs()));
        shifts.truncate(6);

        let member_set: Vec<usize> = (0..prepared.member_rows.len()).filter(|&m| point_of_member.get(m).is_some_and(|&p| in_set[p])).collect();
        let rows = member_set.len();
        let mut categories = Vec::new();
        for (column, values, codes) in &categorical {
            let mut counts_in = vec![0usize; values.len()];
            let mut counts_all = vec![0usize; values.len()];
            for code in codes.iter().flatten() {
                counts_all[*code as usize] += 1;
            }
            for &m in &member_set {
                if let Some(Some(code)) = codes.get(m) {
                    counts_in[*code as usize] += 1;
                }
            }
            let total_all = codes.len().max(1) as f64;
            let best = (0..values.len())
                .map(|v| (v, counts_in[v] as f64 / rows.max(1) as f64, counts_all[v] as f64 / total_all))
                .max_by(|a, b| (a.1 - a.2).total_cmp(&(b.1 - b.2)));
            if let Some((v, share, overall)) = best {
                if share - overall > 0.05 {
                    categories.push(CategoryShare { column: column.name.clone(), value: values[v].clone(), share, overall });
                }
            }
        }
        categories.sort_by(|a, b| (b.share - b.overall).total_cmp(&(a.share - a.overall)));
        categories.truncate(4);

        let label_rate = label_rows.as_ref().map(|flags| {
            let hits = member_set.iter().filter(|&&m| prepared.member_rows.get(m).is_some_and(|&r| flags.get(r as usize).copied().unwrap_or(false))).count();
            hits as f64 / rows.max(1) as f64
        });

        let name = if id == NOISE { "Noise".to_string() } else { format!("Cluster {id}") };
        let mut parts = vec![format!("{name}: {} {} ({:.1} %)", crate::protocol::format_count(size as u64), unit, 100.0 * size as f64 / n_points.max(1) as f64)];
        if let (Some(rate), Some(label)) = (label_rate, &params.label) {
            parts.push(format!("{:.0} % {} positive", 100.0 * rate, label.column));
        }
        for shift in shifts.iter().filter(|s| s.smd.abs() >= 0.5).take(2) {
            match shift.median_ratio {
                Some(r) if !(0.5..=2.0).contains(&r) => parts.push(format!("{} {} median", shift.feature, format_ratio(r))),
                _ => parts.push(format!("{} {} (rest {})", shift.feature, short(shift.mean), short(shift.rest_mean))),
            }
        }
        if let Some(c) = categories.first() {
            parts.push(format!("{:.0} % {} = {}", 100.0 * c.share, c.column, c.value));
        }
        clusters.push(ClusterProfile {
            id,
            size,
            share: size as f64 / n_points.max(1) as f64,
            rows,
            label_rate,
            shifts,
            categories,
            summary: parts.join(", "),
        });
    }

    let inertia = match &fitter.model {
        Model::Centroids(c) => Some(nearest(prepared.x.view(), c).1),
        _ => None,
    };
    let sil = silhouette(prepared.x.view(), &labels, params.seed);
    let (map_index, map_coords, explained) = fitter.map.take().ok_or(ClusterError::Model("internal: no map".into()))?;
    let map = pack_map(&map_coords, &map_index, &labels, n_points, explained);
    let mut notes = std::mem::take(&mut fitter.notes);
    if prepared.sample.len() < n_points {
        notes.push(format!(
            "Fitted on a seeded sample of {} of {} points; every point was then assigned.",
            crate::protocol::format_count(prepared.sample.len() as u64),
            crate::protocol::format_count(n_points as u64)
        ));
    }
    if map.n < n_points {
        notes.push(format!("The map shows a seeded sample of {} points.", crate::protocol::format_count(map.n as u64)));
    }
    let algorithm = match &params.algorithm {
        Algorithm::KMeans { n_init, .. } => format!("k-means, k = {}, best of {n_init} runs (k-means++), seed {}", fitter.k, params.seed),
        Algorithm::Dbscan { min_points, .. } => format!("DBSCAN, eps = {:.3}, min points = {min_points}", fitter.eps.unwrap_or(0.0)),
        Algorithm::Gmm { k, .. } => format!("Gaussian mixture, k = {k}, full covariances, seed {}", params.seed),
    };
    let report = ClusterReport {
        level: unit,
        entity: params.entity.clone(),
        n_points,
        n_rows: prepared.n_table_rows,
        fit_points: prepared.sample.len(),
        dropped: prepared.dropped,
        imputed: prepared.imputed,
        features: prepared.names.clone(),
        transforms: prepared.transforms.clone(),
        algorithm,
        k: n_clusters,
        eps: fitter.eps,
        iterations: fitter.iterations,
        clusters,
        noise,
        inertia,
        silhouette: sil,
        k_scan: std::mem::take(&mut fitter.k_scan),
        k_distance: fitter.k_distance.take(),
        map,
        label: params.label.as_ref().map(|l| l.column.clone()),
        notes,
    };
    Ok(Outcome { report, prepared, labels, map_index, map_coords })
}

fn short(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn pack_map(coords: &Array2<f64>, index: &[usize], labels: &[i32], of: usize, explained: [f64; 2]) -> MapData {
    use base64::Engine;
    let range = |c: usize| {
        let col = coords.column(c);
        let lo = col.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() && hi.is_finite() {
            if hi > lo {
                (lo, hi)
            } else {
                (lo - 1.0, hi + 1.0)
            }
        } else {
            (0.0, 1.0)
        }
    };
    let (x_range, y_range) = (range(0), range(1));
    let quant = |v: f64, (lo, hi): (f64, f64)| (((v - lo) / (hi - lo)).clamp(0.0, 1.0) * 65535.0).round() as u16;
    let mut bytes = Vec::with_capacity(index.len() * 6);
    for (row, &p) in coords.rows().into_iter().zip(index) {
        let k = labels.get(p).copied().unwrap_or(NOISE);
        let k = if k == NOISE { MAP_NOISE } else { k.clamp(0, i32::from(MAP_NOISE) - 1) as u16 };
        bytes.extend_from_slice(&quant(row[0], x_range).to_le_bytes());
        bytes.extend_from_slice(&quant(row[1], y_range).to_le_bytes());
        bytes.extend_from_slice(&k.to_le_bytes());
    }
    MapData { n: index.len(), of, x_range, y_range, explained, packed: base64::engine::general_purpose::STANDARD.encode(bytes) }
}

/// Runs the whole pipeline without yielding (tests, benchmarks, native use).
pub fn cluster(table: &Table, rows: &[u32], params: &ClusterParams) -> Result<Outcome, ClusterError> {
    let prepared = prepare(table, rows, params)?;
    let mut fitter = Fitter::new(&prepared, params);
    while let Step::Working { .. } = fitter.step(&prepared)? {}
    describe(table, prepared, fitter)
}

impl Outcome {
    /// Membership as CSV: id (or row number), cluster, and the two map coordinates where drawn.
    pub fn membership_csv(&self) -> String {
        let mut out = csv::Writer::from_writer(Vec::new());
        let id_header = self.report.entity.clone().unwrap_or_else(|| "row".into());
        let _ = out.write_record([id_header.as_str(), "cluster"]);
        for (p, &label) in self.labels.iter().enumerate() {
            let id = match self.prepared.entity_ids.get(p) {
                Some(id) => crate::data::export::neutralise_formula(id),
                None => self.prepared.rows_of(p).first().map_or(String::new(), |&r| (r as usize + 1).to_string()),
            };
            let cluster = if label == NOISE { "noise".to_string() } else { label.to_string() };
            let _ = out.write_record([id, cluster]);
        }
        String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// Map points inside a rectangle (data units), as point indices.
    pub fn points_in(&self, x: (f64, f64), y: (f64, f64)) -> Vec<usize> {
        let (x0, x1) = (x.0.min(x.1), x.0.max(x.1));
        let (y0, y1) = (y.0.min(y.1), y.0.max(y.1));
        self.map_coords
            .rows()
            .into_iter()
            .zip(&self.map_index)
            .filter(|(c, _)| c[0] >= x0 && c[0] <= x1 && c[1] >= y0 && c[1] <= y1)
            .map(|(_, &p)| p)
            .collect()
    }

    /// Map points inside a polygon (data units, implicitly closed), as point indices.
    pub fn points_in_polygon(&self, polygon: &[(f64, f64)]) -> Vec<usize> {
        if polygon.len() < 3 {
            return Vec::new();
        }
        self.map_coords
            .rows()
            .into_iter()
            .zip(&self.map_index)
            .filter(|(c, _)| inside_polygon(c[0], c[1], polygon))
            .map(|(_, &p)| p)
            .collect()
    }

    /// A filter clause selecting these points: their entity ids, or the values of a unique row
    /// identifier column for rows.
    pub fn clause_for(&self, table: &Table, points: &[usize]) -> Result<Clause, String> {
        if points.is_empty() {
            return Err("no points are selected".into());
        }
        if points.len() > MAX_SELECTION {
            return Err(format!("{} points are selected; a filter can hold at most {MAX_SELECTION}", points.len()));
        }
        if let Some(entity) = &self.report.entity {
            let values = points.iter().filter_map(|&p| self.prepared.entity_ids.get(p).cloned()).collect();
            return Ok(Clause::InSet { column: entity.clone(), values, negate: false });
        }
        let rows: Vec<u32> = points.iter().filter_map(|&p| self.prepared.rows_of(p).first().copied()).collect();
        let id_column = table
            .columns
            .iter()
            .find(|c| c.kind == ColumnType::Identifier && c.count_valid() == table.n_rows && c.count_distinct() == table.n_rows)
            .ok_or("the table has no unique row identifier column to filter rows by; cluster per entity instead")?;
        let values = rows.iter().map(|&r| id_column.value(r as usize).display()).collect();
        Ok(Clause::InSet { column: id_column.name.clone(), values, negate: false })
    }

    /// Points of one cluster (1.. or [`NOISE`]).
    pub fn points_of(&self, cluster: i32) -> Vec<usize> {
        (0..self.labels.len()).filter(|&p| self.labels[p] == cluster).collect()
    }
}

/// Even-odd ray casting: whether (x, y) lies inside the closed polygon.
pub fn inside_polygon(x: f64, y: f64, polygon: &[(f64, f64)]) -> bool {
    let mut inside = false;
    let mut previous = match polygon.last() {
        Some(&p) => p,
        None => return false,
    };
    for &(px, py) in polygon {
        let (qx, qy) = previous;
        if (py > y) != (qy > y) && x < (qx - px) * (y - py) / (qy - py) + px {
            inside = !inside;
        }
        previous = (px, py);
    }
    inside
}

/// A selection becomes an `in` filter of at most this many values.
pub const MAX_SELECTION: usize = 20_000;

/// Adjusted Rand index of two labelings (for the reference checks).
pub fn adjusted_rand_index(a: &[i32], b: &[i32]) -> f64 {
    let n = a.len().min(b.len());
    let mut table: FxHashMap<(i32, i32), u64> = FxHashMap::default();
    let mut rows: FxHashMap<i32, u64> = FxHashMap::default();
    let mut cols: FxHashMap<i32, u64> = FxHashMap::default();
    for i in 0..n {
        *table.entry((a[i], b[i])).or_default() += 1;
        *rows.entry(a[i]).or_default() += 1;
        *cols.entry(b[i]).or_default() += 1;
    }
    let c2 = |v: u64| (v * v.saturating_sub(1)) as f64 / 2.0;
    let index: f64 = table.values().map(|&v| c2(v)).sum();
    let sum_a: f64 = rows.values().map(|&v| c2(v)).sum();
    let sum_b: f64 = cols.values().map(|&v| c2(v)).sum();
    let expected = sum_a * sum_b / c2(n as u64).max(1.0);
    let max = (sum_a + sum_b) / 2.0;
    if (max - expected).abs() < 1e-12 {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)] // test code: a failing unwrap is a failing test
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};

    fn table(csv: &str) -> Table {
        load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
    }

    fn params(features: &[(&str, Encoding)], algorithm: Algorithm) -> ClusterParams {
        ClusterParams {
            features: features.iter().map(|(c, e)| FeatureSpec { column: (*c).into(), encoding: *e }).collect(),
            algorithm,
            ..ClusterParams::default()
        }
    }

    fn all_rows(t: &Table) -> Vec<u32> {
        (0..t.n_rows as u32).collect()
    }

    #[test]
    fn degenerate_tables_are_errors_not_panics() {
        let algorithms = [
            Algorithm::KMeans { k: None, n_init: 2, max_iter: 50 },
            Algorithm::KMeans { k: Some(3), n_init: 1, max_iter: 50 },
            Algorithm::Dbscan { eps: None, min_points: 3 },
            Algorithm::Gmm { k: 2, max_iter: 50 },
        ];
        let cases = [
            ("a,b\n1,2\n", "one row"),
            ("a,b\n,\n,\n,\n,\n", "all missing"),
            ("a,b\n1,1\n1,1\n1,1\n1,1\n1,1\n", "constant"),
            ("a,b\n1,NaN\n2,inf\n3,\n4,5\n", "non-finite"),
            ("a,b\n1e308,-1e308\n-1e308,1e308\n0,0\n5,5\n7,1\n", "huge"),
        ];
        for (csv, what) in cases {
            let t = table(csv);
            for algorithm in &algorithms {
                for missing in [MissingPolicy::Drop, MissingPolicy::Median] {
                    let p = ClusterParams { missing, ..params(&[("a", Encoding::Numeric), ("b", Encoding::Numeric)], algorithm.clone()) };
                    match cluster(&t, &all_rows(&t), &p) {
                        Ok(outcome) => assert_eq!(outcome.labels.len(), outcome.report.n_points, "{what} {algorithm:?}"),
                        Err(err) => assert!(!err.to_string().is_empty(), "{what}"),
                    }
                }
            }
        }
    }

    #[test]
    fn parameters_and_columns_are_checked() {
        let t = table("a,c\n1,x\n2,y\n3,x\n4,y\n");
        let rows = all_rows(&t);
        let err = |p: ClusterParams| cluster(&t, &rows, &p).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(params(&[], Algorithm::Gmm { k: 2, max_iter: 10 })).contains("at least one feature"));
        assert!(err(params(&[("nope", Encoding::Numeric)], Algorithm::Gmm { k: 2, max_iter: 10 })).contains("no column"));
        assert!(err(params(&[("c", Encoding::Numeric)], Algorithm::Gmm { k: 2, max_iter: 10 })).contains("not a number"));
        assert!(err(params(&[("a", Encoding::Numeric)], Algorithm::KMeans { k: Some(1), n_init: 1, max_iter: 10 })).contains("k must be"));
        assert!(err(params(&[("a", Encoding::Numeric)], Algorithm::Dbscan { eps: Some(f64::NAN), min_points: 3 })).contains("eps"));
    }

    #[test]
    fn entities_aggregate_counts_means_and_shares() {
        let t = table("id,v,c\nx,1,p\nx,3,q\ny,10,p\ny,,p\ny,20,p\nz,5,q\n");
        let p = ClusterParams {
            entity: Some("id".into()),
            log1p: false,
            standardise: false,
            clip_z: None,
            ..params(&[("v", Encoding::Numeric), ("c", Encoding::OneHot)], Algorithm::KMeans { k: Some(2), n_init: 1, max_iter: 10 })
        };
        let prepared = prepare(&t, &all_rows(&t), &p).unwrap();
        assert_eq!(prepared.names, ["rows", "v (mean)", "share c = p", "share c = q"]);
        assert_eq!(prepared.entity_ids, ["x", "y", "z"]);
        let row = |i: usize| prepared.raw.row(i).to_vec();
        assert_eq!(row(0), [2.0, 2.0, 0.5, 0.5]);
        assert_eq!(row(1), [3.0, 15.0, 1.0, 0.0]);
        assert_eq!(row(2), [1.0, 5.0, 0.0, 1.0]);
        assert_eq!(prepared.rows_of(1), [2, 3, 4]);
    }

    #[test]
    fn map_round_trips_through_its_packing() {
        let coords = Array2::from_shape_vec((3, 2), vec![0.0, 1.0, 2.0, -1.0, 1.0, 0.0]).unwrap();
        let map = pack_map(&coords, &[0, 1, 2], &[1, NOISE, 2], 3, [0.6, 0.3]);
        let points = map.points();
        assert_eq!(points.len(), 3);
        assert!((points[1].0 - 2.0).abs() < 1e-4 && (points[1].1 + 1.0).abs() < 1e-4);
        assert_eq!(points.iter().map(|p| p.2).collect::<Vec<_>>(), [1, NOISE, 2]);
    }

    #[test]
    fn lloyd_step_moves_centroids_to_their_means() {
        for d in [1usize, 3, 4, 7, 10] {
            let x = Array2::from_shape_fn((9, d), |(i, j)| if i < 5 { (i * j) as f64 * 0.1 } else { 10.0 + (i + j) as f64 });
            let centroids = Array2::from_shape_fn((3, d), |(c, _)| [0.0, 12.0, 1000.0][c]);
            let updated = lloyd_step(x.view(), &centroids);
            let (labels, _) = nearest(x.view(), &centroids);
            for c in 0..3 {
                let members: Vec<usize> = (0..9).filter(|&i| labels[i] == c).collect();
                for j in 0..d {
                    let expected = if members.is_empty() { centroids[[c, j]] } else { members.iter().map(|&i| x[[i, j]]).sum::<f64>() / members.len() as f64 };
                    assert!((updated[[c, j]] - expected).abs() < 1e-12, "d {d} c {c} j {j}");
                }
            }
            // Naive squared distances agree with the unrolled ones.
            let naive: f64 = x.row(8).iter().zip(centroids.row(1)).map(|(a, b)| (a - b) * (a - b)).sum();
            assert!((squared_distance(x.row(8).as_slice().unwrap(), centroids.row(1).as_slice().unwrap()) - naive).abs() < 1e-9);
        }
    }

    #[test]
    fn polygon_contains_its_inside_only() {
        let square = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)];
        assert!(inside_polygon(1.0, 1.0, &square));
        assert!(!inside_polygon(3.0, 1.0, &square));
        assert!(!inside_polygon(1.0, -0.5, &square));
        // A concave "C": the notch is outside.
        let c = [(0.0, 0.0), (3.0, 0.0), (3.0, 1.0), (1.0, 1.0), (1.0, 2.0), (3.0, 2.0), (3.0, 3.0), (0.0, 3.0)];
        assert!(inside_polygon(0.5, 1.5, &c));
        assert!(!inside_polygon(2.0, 1.5, &c));
        assert!(!inside_polygon(1.0, 1.0, &[(0.0, 0.0), (1.0, 1.0)]));
    }

    #[test]
    fn knee_of_a_hockey_stick() {
        let mut curve: Vec<f64> = (0..10).map(|i| 10.0 - i as f64).collect();
        curve.extend(std::iter::repeat_n(0.5, 90));
        assert!((knee(&curve) - 1.0).abs() < 0.6, "{}", knee(&curve));
    }
}
