//! Descriptive statistics with the conventions of the reference tools analysts compare with:
//! pandas' `describe()` (sample standard deviation, quantiles by linear interpolation),
//! pandas' `skew()` (adjusted Fisher–Pearson, G1), numpy's `histogram_bin_edges(bins="auto")`,
//! and the robust MAD outlier rule (Iglewicz & Hoaglin: |modified z| > 3.5).
//! `tests/it/reference_stats.rs` checks them against numpy / pandas / scipy on the same data.
//! Each has a weighted form over values sorted with their weights, in which a value of weight w
//! counts as w copies of it (frequency weights): a table and its exact aggregation agree.

use serde::{Deserialize, Serialize};

/// Summary of a sample of finite numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Describe {
    /// Values (or the sum of their weights).
    pub count: f64,
    pub mean: f64,
    /// Sample standard deviation (n − 1); `None` for fewer than 2 values.
    pub std: Option<f64>,
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
    /// Adjusted Fisher–Pearson skewness (pandas); `None` for fewer than 3 values or no spread.
    pub skew: Option<f64>,
    /// Zero values (or the sum of their weights).
    pub zeros: f64,
}

/// Quantile `q` in 0..=1 of sorted values, linear interpolation between closest ranks
/// (numpy's default, pandas' `quantile`). `None` for no values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = q.clamp(0.0, 1.0) * last as f64;
    let below = position.floor() as usize;
    let fraction = position - below as f64;
    let low = *sorted.get(below)?;
    match sorted.get(below + 1) {
        Some(&high) if fraction > 0.0 => Some(low + (high - low) * fraction),
        _ => Some(low),
    }
}

/// The value of event `k` (0-based) of values sorted with their weights, a value of weight w
/// being w events; the last value past the end.
pub fn value_at_event(sorted: &[(f64, f64)], k: f64) -> Option<f64> {
    let mut cumulative = 0.0;
    for &(value, weight) in sorted {
        cumulative += weight;
        if k < cumulative {
            return Some(value);
        }
    }
    sorted.last().map(|&(value, _)| value)
}

/// [`quantile_sorted`] of values sorted with their weights: a value of weight w counts as w
/// copies of it (so a table and its aggregation agree); non-integer weights step between them.
/// `None` when the weights add up to nothing.
pub fn weighted_quantile_sorted(sorted: &[(f64, f64)], q: f64) -> Option<f64> {
    let total: f64 = sorted.iter().map(|&(_, w)| w).sum();
    if total <= 0.0 {
        return None;
    }
    let position = q.clamp(0.0, 1.0) * (total - 1.0).max(0.0);
    let below = position.floor();
    let fraction = position - below;
    let low = value_at_event(sorted, below)?;
    if fraction > 0.0 {
        let high = value_at_event(sorted, below + 1.0)?;
        Some(low + (high - low) * fraction)
    } else {
        Some(low)
    }
}

/// Describes finite values (callers drop missing ones first). `None` when empty.
pub fn describe(values: &[f64]) -> Option<Describe> {
    describe_weighted(&unit_weights(values))
}

/// Finite values sorted, each of weight 1.
fn unit_weights(values: &[f64]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = values.iter().copied().filter(|v| v.is_finite()).map(|v| (v, 1.0)).collect();
    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    sorted
}

/// [`describe`] of finite values sorted with their weights (> 0). `None` when the weights add
/// up to nothing.
pub fn describe_weighted(sorted: &[(f64, f64)]) -> Option<Describe> {
    let n: f64 = sorted.iter().map(|&(_, w)| w).sum();
    if n <= 0.0 {
        return None;
    }
    // Two-pass moments: mean first, then centred sums (stable for large offsets).
    let mean = sorted.iter().map(|&(v, w)| v * w).sum::<f64>() / n;
    let (m2, m3) = sorted.iter().fold((0.0, 0.0), |(m2, m3), &(v, w)| {
        let d = v - mean;
        (m2 + w * d * d, m3 + w * d * d * d)
    });
    let std = (n > 1.0).then(|| (m2 / (n - 1.0)).sqrt());
    let skew = (n > 2.0 && m2 > 0.0).then(|| {
        let g1 = (m3 / n) / (m2 / n).powf(1.5);
        g1 * (n * (n - 1.0)).sqrt() / (n - 2.0)
    });
    let q = |p| weighted_quantile_sorted(sorted, p).unwrap_or(f64::NAN);
    Some(Describe {
        count: n,
        mean,
        std,
        min: q(0.0),
        q1: q(0.25),
        median: q(0.5),
        q3: q(0.75),
        max: q(1.0),
        skew,
        zeros: sorted.iter().filter(|&&(v, _)| v == 0.0).map(|&(_, w)| w).sum(),
    })
}

/// Bin edges and counts; the last bin includes its upper edge (numpy's convention).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub edges: Vec<f64>,
    /// Values per bin (or the sum of their weights).
    pub counts: Vec<f64>,
}

/// Most bins a histogram gets (numpy's "auto" can ask for thousands on huge samples).
pub const MAX_BINS: usize = 100;

/// Number of bins by numpy's "auto" rule: the smaller bin width of Freedman–Diaconis and
/// Sturges (Sturges alone when the IQR is 0), capped at [`MAX_BINS`].
pub fn auto_bin_count(sorted: &[f64]) -> usize {
    auto_bin_count_weighted(&sorted.iter().map(|&v| (v, 1.0)).collect::<Vec<_>>())
}

/// [`auto_bin_count`] of values sorted with their weights (n and the IQR count events).
pub fn auto_bin_count_weighted(sorted: &[(f64, f64)]) -> usize {
    let n: f64 = sorted.iter().map(|&(_, w)| w).sum();
    let (Some(&(min, _)), Some(&(max, _))) = (sorted.first(), sorted.last()) else { return 1 };
    let range = max - min;
    if n < 2.0 || range <= 0.0 {
        return 1;
    }
    let sturges_width = range / (n.log2() + 1.0);
    let iqr = weighted_quantile_sorted(sorted, 0.75).unwrap_or(0.0) - weighted_quantile_sorted(sorted, 0.25).unwrap_or(0.0);
    let fd_width = 2.0 * iqr / n.cbrt();
    let width = if fd_width > 0.0 { fd_width.min(sturges_width) } else { sturges_width };
    ((range / width).ceil() as usize).clamp(1, MAX_BINS)
}

/// Histogram of finite values with `bins` equal-width bins over [min, max].
pub fn histogram(values: &[f64], bins: usize) -> Option<Histogram> {
    histogram_weighted(&values.iter().map(|&v| (v, 1.0)).collect::<Vec<_>>(), bins)
}

/// [`histogram`] of values with their weights: a bin holds the weights of its values.
pub fn histogram_weighted(values: &[(f64, f64)], bins: usize) -> Option<Histogram> {
    let finite = values.iter().copied().filter(|v| v.0.is_finite());
    let (min, max) = finite.clone().map(|(v, _)| v).fold(None, |acc: Option<(f64, f64)>, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })?;
    let bins = bins.max(1);
    // A single value gets a unit-wide bin around it (numpy does the same).
    let (lo, hi) = if max > min { (min, max) } else { (min - 0.5, max + 0.5) };
    let width = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins).map(|idx| if idx == bins { hi } else { lo + width * idx as f64 }).collect();
    let mut counts = vec![0.0; bins];
    for (v, w) in finite {
        let idx = (((v - lo) / width) as usize).min(bins - 1);
        if let Some(count) = counts.get_mut(idx) {
            *count += w;
        }
    }
    Some(Histogram { edges, counts })
}

/// Outliers by the robust rule: values whose modified z-score `0.6745 (x − median) / MAD`
/// exceeds 3.5 in absolute value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MadOutliers {
    /// Values (or the sum of their weights) below and above the fences.
    pub low: f64,
    pub high: f64,
    /// Values below `low_fence` or above `high_fence` are outliers.
    pub low_fence: f64,
    pub high_fence: f64,
}

impl MadOutliers {
    pub fn count(&self) -> f64 {
        self.low + self.high
    }
}

/// The MAD outliers of sorted values; `None` when the MAD is 0 (over half the values equal),
/// where no value is called an outlier.
pub fn mad_outliers(sorted: &[f64]) -> Option<MadOutliers> {
    mad_outliers_weighted(&sorted.iter().map(|&v| (v, 1.0)).collect::<Vec<_>>())
}

/// [`mad_outliers`] of values sorted with their weights (weighted median and MAD).
pub fn mad_outliers_weighted(sorted: &[(f64, f64)]) -> Option<MadOutliers> {
    let median = weighted_quantile_sorted(sorted, 0.5)?;
    let mut deviations: Vec<(f64, f64)> = sorted.iter().map(|&(v, w)| ((v - median).abs(), w)).collect();
    deviations.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mad = weighted_quantile_sorted(&deviations, 0.5).filter(|&m| m > 0.0)?;
    let reach = 3.5 * mad / 0.6745;
    let (low_fence, high_fence) = (median - reach, median + reach);
    // Same test as |0.6745 (x − median) / MAD| > 3.5, counted per side.
    let z = |v: f64| 0.6745 * (v - median) / mad;
    let low = sorted.iter().filter(|&&(v, _)| z(v) < -3.5).map(|&(_, w)| w).sum();
    let high = sorted.iter().filter(|&&(v, _)| z(v) > 3.5).map(|&(_, w)| w).sum();
    Some(MadOutliers { low, high, low_fence, high_fence })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn describe_small_hand_computed() {
        let d = describe(&[1.0, 2.0, 3.0, 4.0, 10.0]).unwrap();
        assert_eq!((d.count, d.min, d.q1, d.median, d.q3, d.max), (5.0, 1.0, 2.0, 3.0, 4.0, 10.0));
        assert!(close(d.mean, 4.0));
        // sample variance: (9 + 4 + 1 + 0 + 36) / 4 = 12.5
        assert!(close(d.std.unwrap(), 12.5f64.sqrt()));
        // pandas: pd.Series([1,2,3,4,10]).skew() = 1.697056274847714 (G1; by hand: m2 = 50,
        // m3 = 180, g1 = 36 / 10^1.5, G1 = g1 · √20 / 3)
        assert!((d.skew.unwrap() - 1.697_056_274_847_714).abs() < 1e-12);
    }

    #[test]
    fn quantiles_interpolate() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&sorted, 0.25), Some(1.75));
        assert_eq!(quantile_sorted(&sorted, 0.5), Some(2.5));
        assert_eq!(quantile_sorted(&[], 0.5), None);
        assert_eq!(quantile_sorted(&[7.0], 0.9), Some(7.0));
    }

    #[test]
    fn degenerate_samples() {
        let d = describe(&[5.0]).unwrap();
        assert_eq!((d.std, d.skew), (None, None));
        let d = describe(&[2.0, 2.0, 2.0]).unwrap();
        assert_eq!((d.std, d.skew), (Some(0.0), None));
        assert!(describe(&[f64::NAN]).is_none());
        assert_eq!(histogram(&[3.0, 3.0], auto_bin_count(&[3.0, 3.0])).unwrap().counts, vec![2.0]);
    }

    #[test]
    fn histogram_includes_the_maximum_in_the_last_bin() {
        let h = histogram(&[0.0, 1.0, 2.0, 3.0, 4.0], 4).unwrap();
        assert_eq!(h.edges, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(h.counts, vec![1.0, 1.0, 1.0, 2.0]);
    }

    #[test]
    fn mad_flags_only_far_values() {
        let mut values = vec![10.0, 11.0, 9.0, 10.5, 9.5, 10.0, 10.2, 9.8];
        values.push(40.0);
        values.sort_by(f64::total_cmp);
        let found = mad_outliers(&values).unwrap();
        assert_eq!((found.low, found.high), (0.0, 1.0));
        assert!(found.high_fence < 40.0 && found.high_fence > 11.0);
        assert_eq!(mad_outliers(&[1.0, 1.0, 1.0, 50.0]), None);
    }
}
