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
    weighted_quantiles_sorted(sorted, [q]).map(|[value]| value)
}

/// [`weighted_quantile_sorted`] of several `qs` (in any order) in one pass over the values, with
/// the same sums and so the same bits as one call each.
pub fn weighted_quantiles_sorted<const N: usize>(sorted: &[(f64, f64)], qs: [f64; N]) -> Option<[f64; N]> {
    let total: f64 = sorted.iter().map(|&(_, w)| w).sum();
    if total <= 0.0 {
        return None;
    }
    // Each quantile lies between events `below` and `below + 1`.
    let places = qs.map(|q| {
        let position = q.clamp(0.0, 1.0) * (total - 1.0).max(0.0);
        let below = position.floor();
        (below, position - below)
    });
    let mut events: Vec<f64> = places.iter().flat_map(|&(below, fraction)| [below, if fraction > 0.0 { below + 1.0 } else { below }]).collect();
    events.sort_unstable_by(f64::total_cmp);
    events.dedup();
    let values = values_at_events(sorted, &events)?;
    let value_of = |k: f64| events.iter().position(|&e| e == k).and_then(|at| values.get(at)).copied();
    let mut out = [f64::NAN; N];
    for (slot, &(below, fraction)) in out.iter_mut().zip(&places) {
        let low = value_of(below)?;
        *slot = if fraction > 0.0 { low + (value_of(below + 1.0)? - low) * fraction } else { low };
    }
    Some(out)
}

/// [`value_at_event`] of each of `events` (ascending), walking the values once.
fn values_at_events(sorted: &[(f64, f64)], events: &[f64]) -> Option<Vec<f64>> {
    let last = sorted.last()?.0;
    let (mut at, mut cumulative) = (0, 0.0);
    let mut out = Vec::with_capacity(events.len());
    for &k in events {
        // The first value whose events, with those before it, pass k (as `value_at_event`).
        while k.partial_cmp(&cumulative) != Some(std::cmp::Ordering::Less) {
            let Some(&(_, weight)) = sorted.get(at) else { break };
            cumulative += weight;
            at += 1;
        }
        out.push(if k < cumulative { sorted.get(at.wrapping_sub(1)).map_or(last, |p| p.0) } else { last });
    }
    Some(out)
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
    let [min, q1, median, q3, max] = weighted_quantiles_sorted(sorted, [0.0, 0.25, 0.5, 0.75, 1.0]).unwrap_or([f64::NAN; 5]);
    Some(Describe {
        count: n,
        mean,
        std,
        min,
        q1,
        median,
        q3,
        max,
        skew,
        zeros: sorted.iter().filter(|&&(v, _)| v == 0.0).fold(0.0, |total, &(_, w)| total + w),
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

/// Number of bins by numpy's "auto" rule (numpy 2): the smaller bin width of Freedman–Diaconis
/// and Sturges, where Freedman–Diaconis is at least half the square-root rule's width (so at most
/// 2√n bins, and 2√n when the IQR is 0); capped at [`MAX_BINS`].
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
    let iqr = weighted_quantiles_sorted(sorted, [0.75, 0.25]).map_or(0.0, |[q3, q1]| q3 - q1);
    let fd_width = 2.0 * iqr / n.cbrt();
    let sqrt_width = range / n.sqrt();
    let width = fd_width.max(sqrt_width / 2.0).min(sturges_width);
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
    let mad = weighted_quantile_sorted(&deviations_sorted(sorted, median), 0.5).filter(|&m| m > 0.0)?;
    let reach = 3.5 * mad / 0.6745;
    let (low_fence, high_fence) = (median - reach, median + reach);
    // Same test as |0.6745 (x − median) / MAD| > 3.5, counted per side.
    let z = |v: f64| 0.6745 * (v - median) / mad;
    // Folded from +0: `f64`'s `sum` of nothing is -0.0, which the JSON report printed.
    let low = sorted.iter().filter(|&&(v, _)| z(v) < -3.5).fold(0.0, |total, &(_, w)| total + w);
    let high = sorted.iter().filter(|&&(v, _)| z(v) > 3.5).fold(0.0, |total, &(_, w)| total + w);
    Some(MadOutliers { low, high, low_fence, high_fence })
}

/// |v − centre| of values sorted with their weights, sorted: the values below the centre read
/// backwards and those from it on read forwards are each in order, so they are merged, not
/// sorted (which took a third of a numeric column's profile).
fn deviations_sorted(sorted: &[(f64, f64)], centre: f64) -> Vec<(f64, f64)> {
    let split = sorted.partition_point(|&(v, _)| v < centre);
    let (below, above) = sorted.split_at(split);
    let mut left = below.iter().rev().map(|&(v, w)| ((v - centre).abs(), w)).peekable();
    let mut right = above.iter().map(|&(v, w)| ((v - centre).abs(), w)).peekable();
    let mut out = Vec::with_capacity(sorted.len());
    loop {
        let next = match (left.peek(), right.peek()) {
            (Some(l), Some(r)) if l.0 <= r.0 => left.next(),
            (Some(_), Some(_)) | (None, Some(_)) => right.next(),
            (Some(_), None) => left.next(),
            (None, None) => break,
        };
        out.extend(next);
    }
    out
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
    fn counts_of_nothing_are_positive_zero() {
        // The JSON report printed "zeros": -0.0 (an empty `f64` sum).
        let sorted = [(1.0, 1.0), (2.0, 1.0), (3.0, 1.0)];
        assert!(describe_weighted(&sorted).unwrap().zeros.is_sign_positive());
        let outliers = mad_outliers_weighted(&sorted).unwrap();
        assert!(outliers.low.is_sign_positive() && outliers.high.is_sign_positive());
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

    /// The quantile at `q` read event by event, as `weighted_quantile_sorted` did before it read
    /// several in one pass.
    fn one_quantile(sorted: &[(f64, f64)], q: f64) -> Option<f64> {
        let total: f64 = sorted.iter().map(|&(_, w)| w).sum();
        if total <= 0.0 {
            return None;
        }
        let position = q.clamp(0.0, 1.0) * (total - 1.0).max(0.0);
        let (below, fraction) = (position.floor(), position - position.floor());
        let low = value_at_event(sorted, below)?;
        Some(if fraction > 0.0 { low + (value_at_event(sorted, below + 1.0)? - low) * fraction } else { low })
    }

    proptest::proptest! {
        /// Several quantiles in one pass are those of one pass each, bit for bit; the merged
        /// deviations are the sorted ones.
        #[test]
        fn quantiles_in_one_pass_and_merged_deviations(
            mut sorted in proptest::collection::vec((-50i32..50, 1u8..5, proptest::bool::ANY), 0..300),
            qs in proptest::array::uniform5(0.0f64..=1.0),
            centre in -60i32..60,
        ) {
            let sorted: Vec<(f64, f64)> = {
                sorted.sort_unstable();
                // Whole and fractional weights; values a quarter apart.
                sorted.iter().map(|&(v, w, half)| (f64::from(v) / 4.0, f64::from(w) * if half { 0.5 } else { 1.0 })).collect()
            };
            let one: Option<Vec<u64>> = qs.iter().map(|&q| one_quantile(&sorted, q).map(f64::to_bits)).collect();
            let all = weighted_quantiles_sorted(&sorted, qs).map(|values| values.map(f64::to_bits).to_vec());
            proptest::prop_assert_eq!(one, all);
            let centre = f64::from(centre) / 4.0;
            let mut deviations: Vec<(f64, f64)> = sorted.iter().map(|&(v, w)| ((v - centre).abs(), w)).collect();
            deviations.sort_by(|a, b| a.0.total_cmp(&b.0));
            let merged = deviations_sorted(&sorted, centre);
            let values = |d: &[(f64, f64)]| d.iter().map(|p| p.0.to_bits()).collect::<Vec<_>>();
            proptest::prop_assert_eq!(values(&merged), values(&deviations));
            let weights = |d: &[(f64, f64)]| { let mut w: Vec<u64> = d.iter().map(|p| p.1.to_bits()).collect(); w.sort_unstable(); w };
            proptest::prop_assert_eq!(weights(&merged), weights(&deviations));
        }
    }
}
