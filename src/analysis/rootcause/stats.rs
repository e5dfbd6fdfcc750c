//! The arithmetic of a segment: its metric values, contribution, specificity, surprise and
//! p-value.

use super::cube::Acc;

/// Metric value of a segment from its accumulator: scaled baseline and incident.
pub(super) fn values_of(acc: &Acc, is_rate: bool, scale: f64) -> (f64, f64) {
    if is_rate {
        let rate = |w: usize| if acc.den[w] > 0.0 { acc.num[w] / acc.den[w] } else { 0.0 };
        (rate(0), rate(1))
    } else {
        (acc.num[0] * scale, acc.num[1])
    }
}

/// The G statistic (log-likelihood ratio test of independence) of the 2×2 table
/// `[[a, b], [c, d]]` of non-negative weights; chi-square with one degree of freedom under
/// independence.
pub(super) fn g_test(a: f64, b: f64, c: f64, d: f64) -> f64 {
    let n = a + b + c + d;
    if n <= 0.0 || [a, b, c, d].iter().any(|v| *v < 0.0 || !v.is_finite()) {
        return 0.0;
    }
    let term = |observed: f64, expected: f64| if observed > 0.0 && expected > 0.0 { observed * (observed / expected).ln() } else { 0.0 };
    let (row1, row2, col1, col2) = (a + b, c + d, a + c, b + d);
    (2.0 * (term(a, row1 * col1 / n) + term(b, row1 * col2 / n) + term(c, row2 * col1 / n) + term(d, row2 * col2 / n))).max(0.0)
}

/// The chi-square (one degree of freedom) value a statistic must reach for a p-value below `p`.
pub(super) fn chi2_critical(p: f64) -> f64 {
    let z = distrs::Normal::ppf(1.0 - p.clamp(1e-300, 1.0) / 2.0, 0.0, 1.0);
    z * z
}

pub(super) fn js_divergence(p: f64, q: f64) -> f64 {
    let term = |a: f64, m: f64| if a > 0.0 && m > 0.0 { a * (a / m).ln() } else { 0.0 };
    let m = (p + q) / 2.0;
    0.5 * (term(p, m) + term(q, m))
}

/// The binomial upper tail P(X ≥ k), X ~ Bin(n, p), exact for any `n`: the terms are summed
/// outward from `k`, each from the one before (P(i+1) / P(i) = (n − i) / (i + 1) · p / (1 − p)),
/// on the side of `k` away from the mean, where they fall, until what is left cannot change the
/// sum. A `k` below the mean gives 1 − P(X ≤ k − 1), summed downward the same way. The cost
/// grows with the standard deviation, not with `n`; past [`TAIL_STEPS`] terms (a segment of more
/// than about 10^10 events) the rest is bounded by a geometric series and added, so the p-value
/// can only be too large, never too small.
pub(super) fn binomial_upper_tail(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (nf, q) = (n as f64, 1.0 - p);
    let ln_term = |i: u64| ln_gamma(nf + 1.0) - ln_gamma(i as f64 + 1.0) - ln_gamma((n - i) as f64 + 1.0) + i as f64 * p.ln() + (n - i) as f64 * q.ln();
    if k as f64 >= nf * p {
        // Upward from k: the ratio of each term to the one before.
        sum_falling_terms(k, n, ln_term(k), |i| (n - i) as f64 / (i + 1) as f64 * (p / q)).min(1.0)
    } else {
        // P(X ≤ k − 1) downward from k − 1 (i counts the steps down).
        let lower = sum_falling_terms(0, k - 1, ln_term(k - 1), |i| (k - 1 - i) as f64 / (n - (k - 1 - i) + 1) as f64 * (q / p));
        (1.0 - lower).clamp(0.0, 1.0)
    }
}

/// Terms summed in one direction before the rest is bounded instead of added.
const TAIL_STEPS: u64 = 1 << 20;

/// Σ of terms that fall: the first is e^`ln_first` (at step `from`), each next one the one
/// before times `ratio(step)`, up to step `to`.
fn sum_falling_terms(from: u64, to: u64, ln_first: f64, ratio: impl Fn(u64) -> f64) -> f64 {
    let mut term = ln_first.exp();
    let mut sum = 0.0;
    let mut step = from;
    loop {
        sum += term;
        if step >= to || term == 0.0 {
            return sum;
        }
        let r = ratio(step);
        // Past the mode every later ratio is smaller: the rest is below term · r / (1 − r).
        if r < 1.0 {
            let rest = term * r / (1.0 - r);
            if rest <= sum * 1e-16 || step - from >= TAIL_STEPS {
                return sum + rest;
            }
        }
        term *= r;
        step += 1;
    }
}

/// Lanczos approximation of ln Γ(x) for x > 0 (g = 7, n = 9; ~1e-15 relative).
pub(super) fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9, 676.520_368_121_885_1, -1_259.139_216_722_402_8, 771.323_428_777_653_1,
        -176.615_029_162_140_6, 12.507_343_278_686_905, -0.138_571_095_265_720_12, 9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI.ln() - (std::f64::consts::PI * x).sin().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// How a segment's change is tested: one test for every segment of a metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Test {
    /// A rate, or a ratio that is a share of its denominator (failures ÷ requests).
    Proportions,
    /// A ratio above 1 over the two windows (reports ÷ accounts): see [`poisson_rates_p`].
    PoissonRates,
    /// A count or sum, with the share of its events expected in the incident window.
    Counts { incident_fraction: f64 },
}

/// The p-value of a segment's change (before adjustment). A rate: the two-sided
/// two-proportion z-test. A count: the exact conditional test of the segment's rows in the
/// incident window given all its rows, Binomial(n, `incident_fraction`: the share expected in
/// the incident window, weekdays counted as the change shown is), in the
/// direction of the total change, doubled: the central two-sided p-value for a segment that moved
/// with the total (the segments that explain it); near 1 for one that moved against it.
pub(super) fn p_value(acc: &Acc, test: Test, increase: bool) -> f64 {
    let incident_fraction = match test {
        Test::Proportions => return proportions_p(acc),
        Test::PoissonRates => return poisson_rates_p(acc),
        Test::Counts { incident_fraction } => incident_fraction,
    };
    // Rows in the incident window given all the segment's rows: Binomial(n, expected share).
    let n = super::cube::events(acc.rows[0] + acc.rows[1]);
    let k = super::cube::events(acc.rows[1]).min(n);
    let tail = if increase { binomial_upper_tail(k, n, incident_fraction) } else { binomial_upper_tail(n - k, n, 1.0 - incident_fraction) };
    (2.0 * tail).min(1.0)
}

/// Two-proportion z-test of the segment's rate between the windows (pooled), two-sided.
fn proportions_p(acc: &Acc) -> f64 {
    let (n0, n1) = (acc.den[0], acc.den[1]);
    if n0 <= 0.0 || n1 <= 0.0 {
        return 1.0;
    }
    // (A segment of a ratio that is a share overall may pass 1 alone: its variance stays ≥ 0.)
    let pooled = ((acc.num[0] + acc.num[1]) / (n0 + n1)).min(1.0);
    let se = (pooled * (1.0 - pooled) * (1.0 / n0 + 1.0 / n1)).sqrt();
    if se <= 0.0 {
        return if (acc.num[1] / n1 - acc.num[0] / n0).abs() > 0.0 { 0.0 } else { 1.0 };
    }
    let z = (acc.num[1] / n1 - acc.num[0] / n0) / se;
    (2.0 * (1.0 - distrs::Normal::cdf(z.abs(), 0.0, 1.0))).clamp(0.0, 1.0)
}

/// The p-value of a ratio that is not a share of its denominator (reports ÷ accounts, above 1
/// over the two windows: the two-proportion test does not apply, its variance would be
/// negative): the numerator's events as Poisson counts over the denominator's exposure. Given both windows' events n, the
/// incident's k follow Binomial(n, the incident's share of the denominator) when the rate did
/// not change; the tail in the direction the segment moved, doubled.
fn poisson_rates_p(acc: &Acc) -> f64 {
    if acc.den[0] <= 0.0 || acc.den[1] <= 0.0 {
        return 1.0;
    }
    let n = super::cube::events(acc.num[0] + acc.num[1]);
    let k = super::cube::events(acc.num[1]).min(n);
    let share = acc.den[1] / (acc.den[0] + acc.den[1]);
    let rose = acc.num[1] / acc.den[1] > acc.num[0] / acc.den[0];
    let tail = if rose { binomial_upper_tail(k, n, share) } else { binomial_upper_tail(n - k, n, 1.0 - share) };
    (2.0 * tail).min(1.0)
}

/// Share of a segment's incident value that is change in the direction of the total (of its
/// baseline value for decreases), 0–1.
pub(super) fn specificity(acc: &Acc, is_rate: bool, scale: f64, delta: f64) -> f64 {
    let (baseline, incident) = values_of(acc, is_rate, scale);
    let own = incident - baseline;
    if own * delta <= 0.0 {
        return 0.0;
    }
    let reference = if delta > 0.0 { incident } else { baseline };
    if reference.abs() > 0.0 { (own / reference).abs().min(1.0) } else { 0.0 }
}

/// A segment's contribution to a rate's change: its rate effect plus its mix effect.
pub(super) fn segment_rate_contribution(acc: &Acc, total: &Acc) -> f64 {
    let (w0, w1) = (share(acc.den[0], total.den[0]), share(acc.den[1], total.den[1]));
    let (r0, r1) = (share(acc.num[0], acc.den[0]), share(acc.num[1], acc.den[1]));
    let (w_mid, r_mid) = ((w0 + w1) / 2.0, (r0 + r1) / 2.0);
    w_mid * (r1 - r0) + r_mid * (w1 - w0)
}

pub(super) fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(num: [f64; 2], den: [f64; 2]) -> Acc {
        Acc { num, den, rows: den, expected: 0.0 }
    }

    fn close(ours: f64, theirs: f64) {
        assert!((ours - theirs).abs() <= 1e-9 * theirs, "ours {ours}, reference {theirs}");
    }

    #[test]
    fn rate_p_values_equal_the_references() {
        // statsmodels: proportions_ztest([60, 40], [1000, 1200]) (incident 60 of 1,000 against
        // baseline 40 of 1,200).
        close(p_value(&acc([40.0, 60.0], [1200.0, 1000.0]), Test::Proportions, true), 0.002_790_412_126_945_28);
        // A ratio above 1 (reports per account): 300 reports over 100 accounts, then 90 over 20.
        // scipy: 2 · binom.sf(89, 390, 20 / 120); and for 40 over 20, 2 · binom.cdf(40, 340, 20 / 120).
        close(p_value(&acc([300.0, 90.0], [100.0, 20.0]), Test::PoissonRates, true), 0.001_376_643_957_367_203_6);
        close(p_value(&acc([300.0, 40.0], [100.0, 20.0]), Test::PoissonRates, true), 0.014_750_289_044_749_714);
    }
}
