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
//!
//! Weighted rows: a row of weight w is w events, in the features (see [`super::features`]), in
//! the fit — the fit sample is a sample of events ([`event_sample`]: whole weights within the
//! sample limit are expanded exactly, so k-means, DBSCAN's core test and the mixture's EM see
//! what they would see on the raw rows; otherwise events are drawn in proportion to the
//! weights) — and in the sizes, shares, shifts, category shares, label rates, inertia and
//! silhouette of the report. An entity is one point however many events it has.


mod describe;
mod fit;
mod map;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::contract::{has_column, missing_column, run_now, Analysis, FitColumns, Progress, Weights};
use crate::data::table::{ColumnType, Table};

pub use super::features::{Encoding, FeatureError, FeatureParams, FeatureSpec, MissingPolicy, Prepared, MAX_FEATURES, ONE_HOT_TOP};
pub use super::labels::LabelSpec;
pub use describe::{describe, CategoryShare, ClusterProfile, ClusterReport, FeatureShift, Outcome, SMD_UNBOUNDED};
pub use fit::{event_sample, k_distance, seeded_sample, silhouette, Fitter, KDistance, KScore, Step};
pub use map::{drawing_order, inside_polygon, MapData, MAP_NOISE, MAX_SELECTION};

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
pub(super) const ASSIGN_CHUNK: usize = 50_000;
/// Label of DBSCAN's noise.
pub const NOISE: i32 = -1;

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

impl ClusterParams {
    /// The feature part of the parameters.
    pub fn feature_params(&self) -> FeatureParams {
        FeatureParams {
            entity: self.entity.clone(),
            features: self.features.clone(),
            entity_count: self.entity_count,
            log1p: self.log1p,
            standardise: self.standardise,
            clip_z: self.clip_z,
            missing: self.missing,
        }
    }
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

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Error)]
pub enum ClusterError {
    #[error("there is no column {0:?}")]
    NoColumn(String),
    #[error(transparent)]
    Features(#[from] FeatureError),
    #[error("choose at least one feature")]
    NoFeatures,
    #[error("{what} must be {range}")]
    BadParameter { what: String, range: String },
    #[error("{0}")]
    Model(String),
    #[error("the data changed while clustering; run again")]
    Stale,
    #[error("stopped before it finished")]
    Stopped,
}

impl From<crate::analysis::contract::Stopped> for ClusterError {
    fn from(_: crate::analysis::contract::Stopped) -> Self {
        Self::Stopped
    }
}

fn check_params(params: &ClusterParams) -> Result<(), ClusterError> {
    if params.features.is_empty() && !(params.entity.is_some() && params.entity_count) {
        return Err(ClusterError::NoFeatures);
    }
    if params.sample_limit < 10 {
        return Err(ClusterError::BadParameter { what: "the fit sample".to_string(), range: "at least 10 points".to_string() });
    }
    if let Some(z) = params.clip_z {
        if !(z.is_finite() && z > 0.0) {
            return Err(ClusterError::BadParameter { what: "the clip threshold".to_string(), range: "a positive number of standard deviations".to_string() });
        }
    }
    match &params.algorithm {
        Algorithm::KMeans { k, n_init, max_iter } => {
            if k.is_some_and(|k| !(2..=50).contains(&k)) {
                return Err(ClusterError::BadParameter { what: "k".to_string(), range: "between 2 and 50".to_string() });
            }
            if !(1..=50).contains(n_init) || *max_iter == 0 {
                return Err(ClusterError::BadParameter { what: "runs and iterations".to_string(), range: "at least 1 (at most 50 runs)".to_string() });
            }
        }
        Algorithm::Dbscan { eps, min_points } => {
            if eps.is_some_and(|e| !(e.is_finite() && e > 0.0)) {
                return Err(ClusterError::BadParameter { what: "eps".to_string(), range: "a positive number".to_string() });
            }
            if !(2..=1000).contains(min_points) {
                return Err(ClusterError::BadParameter { what: "min points".to_string(), range: "between 2 and 1000".to_string() });
            }
        }
        Algorithm::Gmm { k, max_iter } => {
            if !(1..=30).contains(k) || *max_iter == 0 {
                return Err(ClusterError::BadParameter { what: "k".to_string(), range: "between 1 and 30, with at least one iteration".to_string() });
            }
        }
    }
    Ok(())
}

/// Reads the features of `rows` (rows or per-entity aggregates, each row counted as its weight's
/// number of events) after checking the parameters.
pub fn prepare(table: &Table, rows: &[u32], weights: Weights, params: &ClusterParams) -> Result<Prepared, ClusterError> {
    check_params(params)?;
    Ok(super::features::prepare_features(table, rows, &params.feature_params(), weights)?)
}

/// Clusters as an analysis: features, the fit in bounded steps, then the profiles and map.
pub struct Cluster;

impl Analysis for Cluster {
    const NAME: &'static str = "clusters";
    const TITLE: &'static str = "Clusters";
    const WEIGHTED: bool = true;
    type Params = ClusterParams;
    type Report = ClusterReport;
    type Error = ClusterError;

    fn check(params: &ClusterParams) -> Result<(), ClusterError> {
        check_params(params)
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &ClusterParams, progress: &mut impl Progress) -> Result<ClusterReport, ClusterError> {
        progress.step("features", "Reading features", 0.0).await?;
        let prepared = super::features::prepare_features(table, rows, &params.feature_params(), weights)?;
        let mut fitter = Fitter::new(&prepared, params);
        // Each step is announced before it runs, so the time until the next announcement is
        // its own; the text says what it does.
        let (mut detail, mut fraction) = (String::from("Features ready"), 0.0);
        loop {
            progress.step(fitter.phase_name(), &detail, 0.02 + 0.9 * fraction).await?;
            match fitter.step(&prepared)? {
                Step::Done => break,
                Step::Working { stage, fraction: done } => (detail, fraction) = (stage, done),
            }
        }
        progress.step("profiles", "Describing the clusters", 0.95).await?;
        describe(table, weights, prepared, fitter)
    }
}

/// Runs the whole pipeline without yielding (tests, benchmarks, native use).
pub fn cluster(table: &Table, rows: &[u32], params: &ClusterParams) -> Result<ClusterReport, ClusterError> {
    run_now::<Cluster>(table, rows, params)
}

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



impl FitColumns for ClusterParams {
    /// Dropped whole when a feature, the entity or the label column is gone.
    fn fit_columns(self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        let mut named: Vec<&str> = self.features.iter().map(|f| f.column.as_str()).collect();
        named.extend(self.entity.as_deref());
        named.extend(self.label.as_ref().map(|l| l.column.as_str()));
        if let Some(column) = named.into_iter().find(|c| !has_column(columns, c)) {
            notices.push(missing_column("clustering settings", column));
            return None;
        }
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)] // test code: a failing unwrap is a failing test
    use super::fit::{knee, lloyd_step, nearest, squared_distance};
    use super::map::pack_map;
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};
    use ndarray::Array2;

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
                        Ok(report) => assert_eq!(report.kept.get().map(|o| o.labels.len()), Some(report.n_points), "{what} {algorithm:?}"),
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
        let prepared = prepare(&t, &all_rows(&t), Weights::ONE, &p).unwrap();
        assert_eq!(prepared.names, ["rows", "v (mean)", "share c = p", "share c = q"]);
        assert_eq!(prepared.entity_ids, ["x", "y", "z"]);
        let row = |i: usize| prepared.raw.row(i).to_vec();
        assert_eq!(row(0), [2.0, 2.0, 0.5, 0.5]);
        assert_eq!(row(1), [3.0, 15.0, 1.0, 0.0]);
        assert_eq!(row(2), [1.0, 5.0, 0.0, 1.0]);
        assert_eq!(prepared.rows_of(1), [2, 3, 4]);
    }

    #[test]
    fn label_rate_counts_labelled_members_only() {
        // Cluster of 1s: one positive, one negative, three without a label: 50 %, not 20 %.
        // Cluster of 100s: none labelled: no rate (not 0 %, nor −0 %).
        let t = table("v,label\n1,yes\n1.1,no\n1.2,\n1.3,\n1.4,\n100,\n101,\n102,\n");
        let p = ClusterParams {
            label: Some(LabelSpec { column: "label".into(), positive: vec!["true".into()] }),
            scan_k: false,
            ..params(&[("v", Encoding::Numeric)], Algorithm::KMeans { k: Some(2), n_init: 2, max_iter: 50 })
        };
        let report = cluster(&t, &all_rows(&t), &p).unwrap();
        let rates: Vec<(usize, Option<f64>)> = report.clusters.iter().map(|c| (c.size, c.label_rate)).collect();
        assert_eq!(rates, [(5, Some(0.5)), (3, None)]);
        assert!(report.clusters[0].summary.contains("50 % label positive"), "{}", report.clusters[0].summary);
        assert!(!report.clusters[1].summary.contains("positive"), "{}", report.clusters[1].summary);
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
