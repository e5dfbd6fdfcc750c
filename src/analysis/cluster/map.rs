//! The cluster map: exact PCA to two dimensions, the points packed for the page, and the
//! geometry of selecting points on it.

use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use super::fit::{fit_sample, rows_of, seeded_sample};
use super::{ClusterError, Prepared, DEFAULT_SAMPLE, MAP_POINTS, NOISE};

/// Map points (point indices), their 2-D coordinates, and the variance share of each axis.
pub(super) type Projection = (Vec<usize>, Array2<f64>, [f64; 2]);

/// PCA to 2-D (fitted on a sample of events) of a seeded sample of at most [`MAP_POINTS`] points.
pub(super) fn project(prepared: &Prepared, seed: u64) -> Result<Projection, ClusterError> {
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
    // Fitted on a sample of events: of the map's points, or drawn by weight from all points.
    let fit = if prepared.unit_weights() { rows_of(&x, &seeded_sample(x.nrows(), DEFAULT_SAMPLE, seed ^ 0x3AA)) } else { rows_of(&prepared.x, &fit_sample(prepared, DEFAULT_SAMPLE, seed ^ 0x3AA)) };
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

/// The order to draw map points in: noise first (under everything), then the clusters by
/// number, each one's points in map order; the same order as a stable sort by that key, made by
/// counting (the keys are the clusters, few): sorting 200,000 points by comparison on the page
/// was a main-thread task of its own.
pub fn drawing_order(points: &[(f64, f64, i32)]) -> Vec<usize> {
    let key = |point: &(f64, f64, i32)| if point.2 == NOISE { 0 } else { point.2 };
    let mut starts = std::collections::BTreeMap::<i32, usize>::new();
    for point in points {
        *starts.entry(key(point)).or_default() += 1;
    }
    let mut next = 0;
    for slot in starts.values_mut() {
        let count = *slot;
        *slot = next;
        next += count;
    }
    let mut order = vec![0; points.len()];
    for (index, point) in points.iter().enumerate() {
        if let Some(slot) = starts.get_mut(&key(point)) {
            if let Some(place) = order.get_mut(*slot) {
                *place = index;
            }
            *slot += 1;
        }
    }
    order
}

pub(super) fn pack_map(coords: &Array2<f64>, index: &[usize], labels: &[i32], of: usize, explained: [f64; 2]) -> MapData {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The counted order is the order of a stable sort by drawing key (noise, then clusters).
        #[test]
        fn drawing_order_is_a_stable_sort_by_cluster(labels in proptest::collection::vec(prop_oneof![Just(NOISE), 0..14i32], 0..400)) {
            let points: Vec<(f64, f64, i32)> = labels.iter().enumerate().map(|(i, &k)| (i as f64, -(i as f64), k)).collect();
            let mut sorted: Vec<usize> = (0..points.len()).collect();
            sorted.sort_by_key(|&i| if points[i].2 == NOISE { 0 } else { points[i].2 });
            prop_assert_eq!(drawing_order(&points), sorted);
        }
    }
}
