//! Fitting in bounded steps: the k scan, k-means (linfa's k-means++ start, then Lloyd
//! iterations), DBSCAN with its k-distance curve, the Gaussian mixture, and the assignment of
//! every point.

use linfa::traits::{Fit, Predict};
use linfa::DatasetBase;
use linfa_clustering::{Dbscan, GaussianMixtureModel, KMeans, KMeansInit};
use linfa_nn::distance::L2Dist;
use linfa_nn::{CommonNearestNeighbour, NearestNeighbour};
use ndarray::{Array2, ArrayView2, Axis, Slice};
use rand::seq::index::sample as sample_indices;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::map::{project, Projection};
use super::{Algorithm, ClusterError, ClusterParams, Prepared, ASSIGN_CHUNK, DBSCAN_MAX_FIT, GMM_MAX_FIT, NOISE, SCAN_KS, SCAN_SAMPLE, SILHOUETTE_SAMPLE};

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

/// A sample of events for the fit, as point indices in increasing order with repeats: a point
/// of weight w stands for w events. Whole weights adding up to at most `limit` are expanded
/// exactly (each point w times: the fit then sees what it would see on the raw rows); otherwise
/// `limit` events are drawn with replacement in proportion to the weights, seeded.
pub fn event_sample(weights: &[f64], limit: usize, seed: u64) -> Vec<usize> {
    let total: f64 = weights.iter().sum();
    if weights.iter().all(|w| w.fract() == 0.0) && total <= limit as f64 {
        return weights.iter().enumerate().flat_map(|(p, &w)| std::iter::repeat_n(p, w as usize)).collect();
    }
    if total <= 0.0 {
        return Vec::new();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xE7E1_75A3);
    let mut draws: Vec<f64> = (0..limit).map(|_| rng.gen_range(0.0..total)).collect();
    draws.sort_unstable_by(f64::total_cmp);
    let mut picked = Vec::with_capacity(limit);
    let (mut point, mut below) = (0, 0.0);
    for draw in draws {
        while point + 1 < weights.len() && draw >= below + weights[point] {
            below += weights[point];
            point += 1;
        }
        picked.push(point);
    }
    picked
}

/// The fit sample of a [`Prepared`]: rows without replacement when each point is one event,
/// else [`event_sample`].
pub(super) fn fit_sample(prepared: &Prepared, limit: usize, seed: u64) -> Vec<usize> {
    if prepared.unit_weights() {
        seeded_sample(prepared.n_points(), limit, seed)
    } else {
        event_sample(&prepared.weights, limit, seed)
    }
}

pub(super) fn rows_of(x: &Array2<f64>, idx: &[usize]) -> Array2<f64> {
    x.select(Axis(0), idx)
}

/// Squared Euclidean distance; four running sums so the loop vectorises (wasm simd128).
pub(super) fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
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

/// Sum of squared distances of points to their nearest centroid, each times its weight.
pub(super) fn weighted_inertia(x: ArrayView2<f64>, weights: &[f64], centroids: &Array2<f64>) -> f64 {
    let d = centroids.ncols();
    let flat: Vec<f64> = centroids.iter().copied().collect();
    let mut total = 0.0;
    let mut p = 0;
    for_each_row(x, |point| {
        total += weights.get(p).copied().unwrap_or(1.0) * closest(point, &flat, d).1;
        p += 1;
    });
    total
}

/// Sum of squared distances of points to their nearest centroid, and the memberships.
pub(super) fn nearest(x: ArrayView2<f64>, centroids: &Array2<f64>) -> (Vec<usize>, f64) {
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
pub(super) fn lloyd_step(x: ArrayView2<f64>, centroids: &Array2<f64>) -> Array2<f64> {
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
pub(super) fn knee(curve: &[f64]) -> f64 {
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
pub(super) enum Model {
    None,
    Centroids(Array2<f64>),
    /// DBSCAN: labels of the sample's points and the core points (sample positions).
    Dbscan { labels: Vec<i32>, core: Vec<usize>, eps: f64 },
    Gmm(Box<GaussianMixtureModel<f64>>),
}

/// Steps of a clustering fit over a [`Prepared`] matrix.
pub struct Fitter {
    pub(super) params: ClusterParams,
    /// Points the model is fitted on (indices into the points, increasing; a point repeats when
    /// it stands for several of the events sampled, see [`event_sample`]).
    pub(super) sample: Vec<usize>,
    phase: Phase,
    fit_x: Array2<f64>,
    scan_x: Array2<f64>,
    /// Convergence thresholds of `fit_x` and `scan_x` (a pass over the data each: computed once).
    fit_tolerance: f64,
    scan_tolerance: f64,
    pub k_scan: Vec<KScore>,
    pub k_distance: Option<KDistance>,
    pub(super) k: usize,
    pub(super) eps: Option<f64>,
    best: Option<(f64, Array2<f64>)>,
    pub(super) iterations: u64,
    pub(super) model: Model,
    pub(super) labels: Vec<i32>,
    pub(super) map: Option<Projection>,
    pub(super) notes: Vec<String>,
}

impl Fitter {
    pub fn new(prepared: &Prepared, params: &ClusterParams) -> Self {
        let limit = match params.algorithm {
            Algorithm::Dbscan { .. } => params.sample_limit.min(DBSCAN_MAX_FIT),
            Algorithm::Gmm { .. } => params.sample_limit.min(GMM_MAX_FIT),
            Algorithm::KMeans { .. } => params.sample_limit,
        };
        let sample = fit_sample(prepared, limit, params.seed);
        let fit_x = rows_of(&prepared.x, &sample);
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
            sample,
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
                    Model::Dbscan { labels, core, eps } => assign_dbscan(chunk, next, &self.sample, &self.fit_x, labels, core, *eps)?,
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

    /// Final labels, renumbered 1.. by size in events (largest first); noise stays [`NOISE`].
    pub(super) fn ordered_labels(&self, weights: &[f64]) -> (Vec<i32>, usize) {
        let max = self.labels.iter().copied().max().unwrap_or(NOISE);
        let mut sizes: Vec<(i32, usize, f64)> = (0..=max).map(|c| (c, 0, 0.0)).collect();
        for (p, &l) in self.labels.iter().enumerate() {
            if l >= 0 {
                if let Some(s) = sizes.get_mut(l as usize) {
                    s.1 += 1;
                    s.2 += weights.get(p).copied().unwrap_or(1.0);
                }
            }
        }
        sizes.sort_by(|a, b| b.2.total_cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
        let mut rename = vec![NOISE; (max + 1).max(0) as usize];
        let mut n = 0;
        for (new, (old, size, _)) in sizes.iter().enumerate() {
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
fn assign_dbscan(chunk: ArrayView2<f64>, offset: usize, sample: &[usize], fit_x: &Array2<f64>, labels: &[i32], core: &[usize], eps: f64) -> Result<Vec<i32>, ClusterError> {
    let in_sample: FxHashMap<usize, usize> = sample.iter().enumerate().filter(|(_, &p)| p >= offset && p < offset + chunk.nrows()).map(|(s, &p)| (p, s)).collect();
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
