//! A Bayesian structural time-series counterfactual, as Google's CausalImpact (R) computes it:
//! the series before an intervention is modelled as a local level (optionally a seasonal cycle)
//! plus a static regression on control series that the intervention did not touch; the model's
//! posterior predictive over the periods after it is what would have happened without it.
//!
//! ```text
//! y_t = μ_t + s_t + x_tᵀβ + ε_t     ε_t ~ N(0, σ²)
//! μ_{t+1} = μ_t + η_t               η_t ~ N(0, σ²_level)
//! s_{t+1} = −(s_t + … + s_{t−S+2}) + ω_t   (with a cycle of S periods)
//! ```
//!
//! The same priors as `CausalImpact` 1.4 over `bsts` 0.9 (data standardised on the periods
//! before, so sd(y) = 1): level sd ~ SdPrior(guess 0.01, 32 observations, at most 1); seasonal sd
//! ~ SdPrior(0.01, 0.01, at most 1); without controls, the noise sd ~ SdPrior(1, 0.01, at most
//! 1.2). With controls, the spike-and-slab prior of `SpikeSlabPrior`: each control in the model
//! with probability min(1, 3/k); β | σ² ~ N(0, σ²Ω) with Ω⁻¹ = 0.01/n·(½XᵀX + ½diag XᵀX); σ²
//! with 50 prior observations guessing R² = 0.8; σ at most 1.2.
//!
//! Gibbs sampling, seeded: the state path by Durbin and Koopman's (2002) simulation smoother
//! given y − Xβ; each variance from its conjugate (truncated) gamma posterior; the inclusion of
//! each control by a Gibbs flip on its posterior with β and σ² integrated out, then σ² and β.
//! After the burn-in, each draw's predictive series (state + regression + noise) gives the
//! counterfactual, its intervals by quantiles across draws (R's type 7), and the tail-area
//! probability of the post-period sum.

use linfa_linalg::cholesky::Cholesky;
use linfa_linalg::triangular::{SolveTriangular, UPLO};
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, StandardNormal};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Gamma as GammaDist};

use super::stats::quantile_sorted;

/// The sampler's settings; the defaults are the R package's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BstsSettings {
    /// MCMC iterations (R: `niter = 1000`).
    #[serde(default = "default_iterations")]
    pub iterations: usize,
    /// The share of iterations discarded as burn-in.
    #[serde(default = "default_burn")]
    pub burn_in: f64,
    /// Prior guess of the level's standard deviation, in units of sd(y) (R: `prior.level.sd`).
    #[serde(default = "default_level_sd")]
    pub prior_level_sd: f64,
    /// A seasonal cycle of this many periods (R: `nseasons`); 0 or 1: none.
    #[serde(default)]
    pub seasons: usize,
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_iterations() -> usize {
    1000
}
fn default_burn() -> f64 {
    0.1
}
fn default_level_sd() -> f64 {
    0.01
}
fn default_seed() -> u64 {
    1
}

impl Default for BstsSettings {
    fn default() -> Self {
        BstsSettings { iterations: default_iterations(), burn_in: default_burn(), prior_level_sd: default_level_sd(), seasons: 0, seed: default_seed() }
    }
}

/// The longest cycle the sampler accepts (its state has one dimension per season).
pub const MAX_SEASONS: usize = 60;
/// Controls at most (the spike-and-slab sampler is cubic in them).
pub const MAX_CONTROLS: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum BstsError {
    #[error("the counterfactual needs at least 3 periods with a value before the intervention (has {0})")]
    TooFewPeriods(usize),
    #[error("the metric is constant before the intervention: there is nothing to model")]
    Constant,
    #[error("iterations must be between 100 and 100,000, burn-in between 0 and 0.9, the level's prior sd positive, at most {MAX_SEASONS} seasons")]
    Settings,
}

impl BstsSettings {
    pub fn check(&self) -> Result<(), BstsError> {
        let ok = (100..=100_000).contains(&self.iterations) && (0.0..=0.9).contains(&self.burn_in) && self.prior_level_sd.is_finite() && self.prior_level_sd > 0.0 && self.seasons <= MAX_SEASONS;
        if ok {
            Ok(())
        } else {
            Err(BstsError::Settings)
        }
    }
}

/// An interval: the 2.5 % and 97.5 % quantiles across draws.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    #[serde(with = "super::nan_serde::one")]
    pub mean: f64,
    #[serde(with = "super::nan_serde::one")]
    pub low: f64,
    #[serde(with = "super::nan_serde::one")]
    pub high: f64,
}

/// CausalImpact's summary over the periods after (averages, or totals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectSummary {
    #[serde(with = "super::nan_serde::one")]
    pub actual: f64,
    /// The counterfactual (prediction without the intervention).
    pub predicted: Band,
    /// Actual − predicted.
    pub absolute: Band,
    /// Absolute over the predicted mean (R's `RelEffect`).
    pub relative: Band,
}

/// One control's part in the regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlWeight {
    pub name: String,
    /// Share of draws with it in the model.
    pub inclusion: f64,
    /// Its mean coefficient (standardised units) over the draws that include it.
    #[serde(with = "super::nan_serde::one")]
    pub coefficient: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterfactual {
    /// Per period (all of them): the counterfactual prediction with its interval.
    pub predicted: Vec<Band>,
    /// Per period: actual − predicted.
    pub pointwise: Vec<Band>,
    /// Per period after the intervention (zero before): the running sum of the effect.
    pub cumulative: Vec<Band>,
    /// The first period after the intervention.
    pub first_after: usize,
    pub average: EffectSummary,
    pub total: EffectSummary,
    /// The posterior tail-area probability of the post-period sum (R's `p`).
    pub p_value: f64,
    pub controls: Vec<ControlWeight>,
    pub seasons: usize,
    pub draws: usize,
    pub settings: BstsSettings,
}

/// The model's data, standardised.
struct Data {
    y: Vec<f64>,
    /// Row-major n × k.
    x: Array2<f64>,
    mean: f64,
    sd: f64,
}

/// The filter's record of one period: a_t, P_t, v_t / F_t (NaN: missing) and K_t.
type Filtered = (Vec<f64>, Vec<Vec<f64>>, f64, Vec<f64>);

/// The Gibbs sampler's state, stepped one iteration at a time so that the caller can report
/// progress and stop between iterations.
pub struct Sampler {
    data: Data,
    names: Vec<String>,
    settings: BstsSettings,
    first_after: usize,
    m: usize,
    rng: ChaCha8Rng,
    level_var: f64,
    season_var: f64,
    obs_var: f64,
    beta: Vec<f64>,
    include: Vec<bool>,
    state: Vec<Vec<f64>>,
    /// Spike-and-slab constants.
    omega_inv: Array2<f64>,
    xtx: Array2<f64>,
    prior_inclusion: f64,
    iteration: usize,
    /// Kept draws: the predictive series (original units), the inclusion and coefficients.
    kept: Vec<Vec<f64>>,
    inclusion_count: Vec<usize>,
    coefficient_sum: Vec<f64>,
}

const LEVEL_PRIOR_N: f64 = 32.0;
const SMALL_PRIOR_N: f64 = 0.01;
const OBS_UPPER: f64 = 1.2;
const EXPECTED_MODEL_SIZE: f64 = 3.0;
const EXPECTED_R2: f64 = 0.8;
const REGRESSION_PRIOR_DF: f64 = 50.0;
const PRIOR_INFORMATION_WEIGHT: f64 = 0.01;
const DIAGONAL_SHRINKAGE: f64 = 0.5;

fn sample_sd(values: impl Iterator<Item = f64> + Clone) -> Option<(f64, f64)> {
    let n = values.clone().count();
    if n < 2 {
        return None;
    }
    let mean = values.clone().sum::<f64>() / n as f64;
    let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
    Some((mean, var.sqrt()))
}

impl Sampler {
    /// `y` per period (NaN: no value), `controls` each a named series of the same length with
    /// every value finite, `first_after` the first period after the intervention.
    pub fn new(y: &[f64], controls: &[(String, Vec<f64>)], first_after: usize, settings: &BstsSettings) -> Result<Sampler, BstsError> {
        settings.check()?;
        let n = y.len();
        let before = y.iter().take(first_after).copied().filter(|v| v.is_finite());
        if before.clone().count() < 3 {
            return Err(BstsError::TooFewPeriods(before.count()));
        }
        let (mean, sd) = sample_sd(before).ok_or(BstsError::TooFewPeriods(0))?;
        if sd.is_nan() || sd <= 1e-12 * mean.abs().max(1.0) {
            return Err(BstsError::Constant);
        }
        // Standardised on the periods before; after the intervention y is unknown to the model.
        let ys: Vec<f64> = y.iter().enumerate().map(|(t, &v)| if t < first_after && v.is_finite() { (v - mean) / sd } else { f64::NAN }).collect();
        let mut names = Vec::new();
        let mut columns: Vec<Vec<f64>> = Vec::new();
        for (name, series) in controls.iter().take(MAX_CONTROLS) {
            if series.len() != n || series.iter().any(|v| !v.is_finite()) {
                continue;
            }
            let Some((m, s)) = sample_sd(series.iter().take(first_after).copied()) else { continue };
            if s.is_nan() || s <= 1e-12 * m.abs().max(1.0) {
                continue;
            }
            names.push(name.clone());
            columns.push(series.iter().map(|v| (v - m) / s).collect());
        }
        let k = columns.len();
        let x = Array2::from_shape_fn((n, k), |(t, j)| columns[j][t]);
        let seasons = if settings.seasons > 1 { settings.seasons } else { 0 };
        let m = 1 + seasons.saturating_sub(1);
        // Ω⁻¹ from every row (R passes the whole predictor matrix); XᵀX of the observed rows.
        let all = x.t().dot(&x);
        let omega_inv = Array2::from_shape_fn((k, k), |(i, j)| {
            let w = if i == j { 1.0 } else { 1.0 - DIAGONAL_SHRINKAGE };
            PRIOR_INFORMATION_WEIGHT / n as f64 * w * all[[i, j]]
        });
        let observed: Vec<usize> = (0..n).filter(|&t| ys[t].is_finite()).collect();
        let xtx = Array2::from_shape_fn((k, k), |(i, j)| observed.iter().map(|&t| x[[t, i]] * x[[t, j]]).sum());
        let first = ys.iter().copied().find(|v| v.is_finite()).unwrap_or(0.0);
        let mut state = vec![vec![0.0; m]; n];
        for s in &mut state {
            s[0] = first;
        }
        Ok(Sampler {
            data: Data { y: ys, x, mean, sd },
            names,
            settings: settings.clone(),
            first_after,
            m,
            rng: rand::SeedableRng::seed_from_u64(settings.seed),
            level_var: (settings.prior_level_sd).powi(2),
            season_var: 1e-4,
            obs_var: 1.0,
            beta: vec![0.0; k],
            include: vec![true; k],
            state,
            omega_inv,
            xtx,
            prior_inclusion: if k == 0 { 0.0 } else { (EXPECTED_MODEL_SIZE / k as f64).min(1.0) },
            iteration: 0,
            kept: Vec::new(),
            inclusion_count: vec![0; k],
            coefficient_sum: vec![0.0; k],
        })
    }

    pub fn iterations(&self) -> usize {
        self.settings.iterations
    }

    fn burn(&self) -> usize {
        (self.settings.iterations as f64 * self.settings.burn_in).floor() as usize
    }

    fn z_alpha(&self, t: usize) -> f64 {
        let s = &self.state[t];
        s[0] + if self.m > 1 { s[1] } else { 0.0 }
    }

    fn offset(&self, t: usize) -> f64 {
        self.beta.iter().enumerate().map(|(j, b)| b * self.data.x[[t, j]]).sum()
    }

    /// One Gibbs iteration (and, after the burn-in, one kept draw).
    pub fn step(&mut self) {
        self.draw_state();
        self.draw_state_variances();
        if self.beta.is_empty() {
            let (sse, count) = self.residual_sum_of_squares();
            self.obs_var = draw_variance(&mut self.rng, SMALL_PRIOR_N, SMALL_PRIOR_N, sse, count, OBS_UPPER);
        } else {
            self.draw_regression();
        }
        self.iteration += 1;
        if self.iteration > self.burn() {
            self.keep();
        }
    }

    fn residual_sum_of_squares(&self) -> (f64, usize) {
        let mut sse = 0.0;
        let mut count = 0;
        for t in 0..self.data.y.len() {
            let y = self.data.y[t];
            if y.is_finite() {
                let e = y - self.z_alpha(t) - self.offset(t);
                sse += e * e;
                count += 1;
            }
        }
        (sse, count)
    }

    /// The transition T·a.
    fn transition(&self, a: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.m];
        out[0] = a[0];
        if self.m > 1 {
            out[1] = -a[1..].iter().sum::<f64>();
            out[2..self.m].copy_from_slice(&a[1..self.m - 1]);
        }
        out
    }

    /// Durbin and Koopman's simulation smoother: a draw of the state path given y − Xβ.
    fn draw_state(&mut self) {
        let (n, m) = (self.data.y.len(), self.m);
        let q = [self.level_var, self.season_var];
        // Simulate from the model: initial state from its prior N(a1, 1) (level at the first
        // value, seasonal effects at zero), then forward.
        let first = self.data.y.iter().copied().find(|v| v.is_finite()).unwrap_or(0.0);
        let mut plus: Vec<Vec<f64>> = Vec::with_capacity(n);
        let mut y_plus = vec![f64::NAN; n];
        let mut a: Vec<f64> = (0..m).map(|i| if i == 0 { first } else { 0.0 } + normal(&mut self.rng)).collect();
        let obs_sd = self.obs_var.sqrt();
        for (t, y_plus) in y_plus.iter_mut().enumerate() {
            if self.data.y[t].is_finite() {
                *y_plus = a[0] + if m > 1 { a[1] } else { 0.0 } + obs_sd * normal(&mut self.rng);
            }
            let mut next = self.transition(&a);
            next[0] += q[0].sqrt() * normal(&mut self.rng);
            if m > 1 {
                next[1] += q[1].sqrt() * normal(&mut self.rng);
            }
            plus.push(a);
            a = next;
        }
        let w: Vec<f64> = (0..n).map(|t| self.data.y[t] - self.offset(t) - y_plus[t]).collect();
        let smoothed = self.smooth(&w, &q);
        for t in 0..n {
            for i in 0..m {
                self.state[t][i] = plus[t][i] + smoothed[t][i];
            }
        }
    }

    /// The Kalman filter and state smoother of `w` (NaN: missing) with a zero initial mean and
    /// the prior's unit initial variance: E[α | w].
    fn smooth(&self, w: &[f64], q: &[f64; 2]) -> Vec<Vec<f64>> {
        let (n, m) = (w.len(), self.m);
        let h = self.obs_var;
        let mut a = vec![0.0; m];
        let mut p = vec![vec![0.0; m]; m];
        for (i, row) in p.iter_mut().enumerate() {
            row[i] = 1.0;
        }
        // Stored per period: a_t, P_t, v_t / F_t, K_t (NaN v: missing).
        let mut store: Vec<Filtered> = Vec::with_capacity(n);
        for &wt in w.iter() {
            // Z = e1 (+ e2 with a season): PZ' and F.
            let pz: Vec<f64> = (0..m).map(|i| p[i][0] + if m > 1 { p[i][1] } else { 0.0 }).collect();
            // A variance worn to nothing by rounding counts as no observation (never a division by 0).
            let f_raw = pz[0] + if m > 1 { pz[1] } else { 0.0 } + h;
            let observed = wt.is_finite() && f_raw > 1e-300;
            let f = if observed { f_raw } else { 0.0 };
            let v = if observed { wt - a[0] - if m > 1 { a[1] } else { 0.0 } } else { 0.0 };
            let k: Vec<f64> = if observed { self.transition(&pz).iter().map(|x| x / f).collect() } else { vec![0.0; m] };
            // a_{t+1} = T a + K v; P_{t+1} = T P T' − K F K' + Q  (= T P L' + Q).
            let ta = self.transition(&a);
            let next_a: Vec<f64> = (0..m).map(|i| ta[i] + k[i] * v).collect();
            let tp: Vec<Vec<f64>> = {
                // (T P) rows: apply T to each column of P.
                let cols: Vec<Vec<f64>> = (0..m).map(|j| self.transition(&(0..m).map(|i| p[i][j]).collect::<Vec<_>>())).collect();
                (0..m).map(|i| (0..m).map(|j| cols[j][i]).collect()).collect()
            };
            // T P T': apply T to each row of T P (as a column of its transpose).
            let tpt_rows: Vec<Vec<f64>> = (0..m).map(|i| self.transition(&tp[i])).collect();
            let mut next_p = vec![vec![0.0; m]; m];
            for i in 0..m {
                for j in 0..m {
                    next_p[i][j] = tpt_rows[i][j] - k[i] * f * k[j];
                }
            }
            next_p[0][0] += q[0];
            if m > 1 {
                next_p[1][1] += q[1];
            }
            store.push((a, p, if observed { v / f } else { f64::NAN }, k));
            a = next_a;
            p = next_p;
        }
        // Backward: r_{t−1} = Z' v/F + L' r_t with L = T − K Z; α̂_t = a_t + P_t r_{t−1}.
        let mut r = vec![0.0; m];
        let mut out = vec![vec![0.0; m]; n];
        for t in (0..n).rev() {
            let (a, p, v_over_f, k) = &store[t];
            // T' r.
            let mut tr = vec![0.0; m];
            tr[0] = r[0];
            if m > 1 {
                for i in 1..m {
                    tr[i] = -r[1] + if i + 1 < m { r[i + 1] } else { 0.0 };
                }
            }
            if v_over_f.is_finite() {
                let kr: f64 = k.iter().zip(&r).map(|(a, b)| a * b).sum();
                tr[0] += v_over_f - kr;
                if m > 1 {
                    tr[1] += v_over_f - kr;
                }
            }
            r = tr;
            for i in 0..m {
                out[t][i] = a[i] + (0..m).map(|j| p[i][j] * r[j]).sum::<f64>();
            }
        }
        out
    }

    fn draw_state_variances(&mut self) {
        let n = self.state.len();
        let (mut level, mut season) = (0.0, 0.0);
        for t in 0..n.saturating_sub(1) {
            let d = self.state[t + 1][0] - self.state[t][0];
            level += d * d;
            if self.m > 1 {
                let expected = -self.state[t][1..].iter().sum::<f64>();
                let d = self.state[t + 1][1] - expected;
                season += d * d;
            }
        }
        let guess = self.settings.prior_level_sd;
        self.level_var = draw_variance(&mut self.rng, LEVEL_PRIOR_N, guess * guess * LEVEL_PRIOR_N, level, n - 1, 1.0);
        if self.m > 1 {
            self.season_var = draw_variance(&mut self.rng, SMALL_PRIOR_N, SMALL_PRIOR_N * 1e-4, season, n - 1, 1.0);
        }
    }

    /// Spike-and-slab regression of y − state on the controls (observed periods).
    fn draw_regression(&mut self) {
        let k = self.beta.len();
        let n = self.data.y.len();
        let mut xty = vec![0.0; k];
        let mut yty = 0.0;
        let mut count = 0usize;
        for t in 0..n {
            let y = self.data.y[t];
            if !y.is_finite() {
                continue;
            }
            let r = y - self.z_alpha(t);
            yty += r * r;
            count += 1;
            for (j, xj) in xty.iter_mut().enumerate() {
                *xj += self.data.x[[t, j]] * r;
            }
        }
        let prior_ss = REGRESSION_PRIOR_DF * (1.0 - EXPECTED_R2);
        let df = REGRESSION_PRIOR_DF + count as f64;
        // Inclusion flips in random order, each a Gibbs draw between the two models.
        if self.prior_inclusion < 1.0 {
            let mut order: Vec<usize> = (0..k).collect();
            order.shuffle(&mut self.rng);
            for j in order {
                self.include[j] = true;
                let with = self.log_model_posterior(&xty, yty, prior_ss, df);
                self.include[j] = false;
                let without = self.log_model_posterior(&xty, yty, prior_ss, df);
                let p_with = 1.0 / (1.0 + (without - with).exp());
                self.include[j] = self.rng.gen::<f64>() < p_with;
            }
        }
        let chosen: Vec<usize> = (0..k).filter(|&j| self.include[j]).collect();
        let fit = self.posterior_moments(&chosen, &xty, yty, prior_ss);
        let (ss, mean, chol) = match fit {
            Some(f) => f,
            None => (prior_ss + yty, Array1::zeros(0), Array2::zeros((0, 0))),
        };
        self.obs_var = draw_variance(&mut self.rng, df - count as f64, 0.0, ss, count, OBS_UPPER);
        // β = β̃ + σ L⁻ᵀ z with V⁻¹ = L Lᵀ.
        self.beta.iter_mut().for_each(|b| *b = 0.0);
        if !chosen.is_empty() {
            let z = Array2::from_shape_fn((chosen.len(), 1), |_| normal(&mut self.rng));
            let lt = chol.t().to_owned();
            let dev = lt.solve_triangular(&z, UPLO::Upper).unwrap_or_else(|_| Array2::zeros((chosen.len(), 1)));
            for (i, &j) in chosen.iter().enumerate() {
                self.beta[j] = mean[i] + self.obs_var.sqrt() * dev[[i, 0]];
            }
        }
    }

    /// For the controls in `chosen`: (SS, β̃, L) with V⁻¹ = XᵀX + Ω⁻¹ = L Lᵀ, β̃ = V Xᵀy and
    /// SS = prior ss + yᵀy − β̃ᵀ V⁻¹ β̃. `None` for an empty model or a singular one.
    fn posterior_moments(&self, chosen: &[usize], xty: &[f64], yty: f64, prior_ss: f64) -> Option<(f64, Array1<f64>, Array2<f64>)> {
        if chosen.is_empty() {
            return None;
        }
        let c = chosen.len();
        let precision = Array2::from_shape_fn((c, c), |(a, b)| self.xtx[[chosen[a], chosen[b]]] + self.omega_inv[[chosen[a], chosen[b]]]);
        let l = precision.cholesky().ok()?;
        let rhs = Array2::from_shape_fn((c, 1), |(a, _)| xty[chosen[a]]);
        let half = l.solve_triangular(&rhs, UPLO::Lower).ok()?;
        let mean = l.t().to_owned().solve_triangular(&half, UPLO::Upper).ok()?;
        let explained: f64 = half.iter().map(|h| h * h).sum();
        Some((prior_ss + yty - explained, mean.column(0).to_owned(), l))
    }

    /// log p(γ | y) up to a constant, with β and σ² integrated out.
    fn log_model_posterior(&self, xty: &[f64], yty: f64, prior_ss: f64, df: f64) -> f64 {
        let k = self.include.len();
        let chosen: Vec<usize> = (0..k).filter(|&j| self.include[j]).collect();
        let pi = self.prior_inclusion;
        let prior = chosen.len() as f64 * pi.ln() + (k - chosen.len()) as f64 * (1.0 - pi).ln();
        if chosen.is_empty() {
            return prior - df / 2.0 * (prior_ss + yty).ln();
        }
        let c = chosen.len();
        let omega = Array2::from_shape_fn((c, c), |(a, b)| self.omega_inv[[chosen[a], chosen[b]]]);
        let Ok(lo) = omega.cholesky() else { return f64::NEG_INFINITY };
        let Some((ss, _, l)) = self.posterior_moments(&chosen, xty, yty, prior_ss) else { return f64::NEG_INFINITY };
        let log_det = |l: &Array2<f64>| (0..l.nrows()).map(|i| l[[i, i]].ln()).sum::<f64>();
        prior + log_det(&lo) - log_det(&l) - df / 2.0 * ss.max(1e-300).ln()
    }

    fn keep(&mut self) {
        let n = self.data.y.len();
        let sd = self.obs_var.sqrt();
        let draw: Vec<f64> = (0..n).map(|t| (self.z_alpha(t) + self.offset(t) + sd * normal(&mut self.rng)) * self.data.sd + self.data.mean).collect();
        self.kept.push(draw);
        for j in 0..self.beta.len() {
            if self.include[j] {
                self.inclusion_count[j] += 1;
                self.coefficient_sum[j] += self.beta[j];
            }
        }
    }

    /// CausalImpact's inferences from the kept draws, against the actual series `y`.
    pub fn finish(self, y: &[f64]) -> Counterfactual {
        let n = y.len();
        let draws = self.kept.len();
        let band = |values: &mut Vec<f64>, actual: Option<f64>| -> Band {
            values.retain(|v| v.is_finite());
            values.sort_by(f64::total_cmp);
            let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
            let (low, high) = (quantile_sorted(values, 0.025).unwrap_or(f64::NAN), quantile_sorted(values, 0.975).unwrap_or(f64::NAN));
            match actual {
                // Effects: actual minus each draw, so the quantiles swap.
                Some(a) => Band { mean: a - mean, low: a - high, high: a - low },
                None => Band { mean, low, high },
            }
        };
        let column = |t: usize| -> Vec<f64> { self.kept.iter().map(|d| d[t]).collect() };
        let predicted: Vec<Band> = (0..n).map(|t| band(&mut column(t), None)).collect();
        let pointwise: Vec<Band> = (0..n).map(|t| if y[t].is_finite() { band(&mut column(t), Some(y[t])) } else { Band { mean: f64::NAN, low: f64::NAN, high: f64::NAN } }).collect();
        let after: Vec<usize> = (self.first_after..n).filter(|&t| y[t].is_finite()).collect();
        let mut running = vec![0.0; draws];
        let mut actual_running = 0.0;
        let mut cumulative = Vec::with_capacity(n);
        for t in 0..n {
            if t >= self.first_after && y[t].is_finite() {
                actual_running += y[t];
                for (sum, d) in running.iter_mut().zip(&self.kept) {
                    *sum += d[t];
                }
                cumulative.push(band(&mut running.clone(), Some(actual_running)));
            } else if t >= self.first_after {
                cumulative.push(cumulative.last().copied().unwrap_or(Band { mean: 0.0, low: 0.0, high: 0.0 }));
            } else {
                cumulative.push(Band { mean: 0.0, low: 0.0, high: 0.0 });
            }
        }
        let sums: Vec<f64> = self.kept.iter().map(|d| after.iter().map(|&t| d[t]).sum()).collect();
        let actual_sum: f64 = after.iter().map(|&t| y[t]).sum();
        let periods = after.len().max(1) as f64;
        let summary = |scale: f64| -> EffectSummary {
            let mut values: Vec<f64> = sums.iter().map(|s| s / scale).collect();
            let actual = actual_sum / scale;
            let predicted = band(&mut values.clone(), None);
            let absolute = band(&mut values, Some(actual));
            // Per draw (R ≥ 1.2: RelEffect and its interval from the samples' ratios).
            let mut ratios: Vec<f64> = sums.iter().map(|s| (actual - s / scale) / (s / scale)).collect();
            let relative = band(&mut ratios, None);
            EffectSummary { actual, predicted, absolute, relative }
        };
        let (average, total) = (summary(periods), summary(1.0));
        // Tail area: the share of draws (with the actual) at least as extreme, on the nearer side.
        let above = sums.iter().filter(|&&s| s >= actual_sum).count() + 1;
        let below = sums.iter().filter(|&&s| s <= actual_sum).count() + 1;
        let p_value = above.min(below) as f64 / (draws + 1) as f64;
        let controls = self
            .names
            .iter()
            .enumerate()
            .map(|(j, name)| ControlWeight {
                name: name.clone(),
                inclusion: self.inclusion_count[j] as f64 / draws.max(1) as f64,
                coefficient: if self.inclusion_count[j] > 0 { self.coefficient_sum[j] / self.inclusion_count[j] as f64 } else { f64::NAN },
            })
            .collect();
        Counterfactual {
            predicted,
            pointwise,
            cumulative,
            first_after: self.first_after,
            average,
            total,
            p_value,
            controls,
            seasons: if self.m > 1 { self.m } else { 0 },
            draws,
            settings: self.settings,
        }
    }
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// σ² from 1/σ² ~ Gamma((df + n)/2, rate (ss + sse)/2), truncated to σ ≤ `upper` (in units of
/// sd(y) = 1): rejection first, the inverse CDF when the bound cuts most of the mass.
fn draw_variance(rng: &mut ChaCha8Rng, prior_df: f64, prior_ss: f64, sse: f64, n: usize, upper: f64) -> f64 {
    let shape = (prior_df + n as f64) / 2.0;
    let rate = ((prior_ss + sse) / 2.0).max(1e-300);
    let lower_precision = 1.0 / (upper * upper);
    if let Ok(gamma) = Gamma::new(shape, 1.0 / rate) {
        for _ in 0..20 {
            let g: f64 = gamma.sample(rng);
            if g >= lower_precision && g.is_finite() {
                return 1.0 / g;
            }
        }
    }
    match GammaDist::new(shape, rate) {
        Ok(dist) => {
            let from = dist.cdf(lower_precision);
            let u = from + (1.0 - from) * rng.gen::<f64>();
            let g = dist.inverse_cdf(u.min(1.0 - 1e-16));
            if g.is_finite() && g >= lower_precision {
                1.0 / g
            } else {
                upper * upper
            }
        }
        Err(_) => upper * upper,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn run(y: &[f64], controls: &[(String, Vec<f64>)], first_after: usize, settings: &BstsSettings) -> Counterfactual {
        let mut s = Sampler::new(y, controls, first_after, settings).unwrap();
        for _ in 0..s.iterations() {
            s.step();
        }
        s.finish(y)
    }

    #[test]
    fn a_step_after_the_intervention_is_found_and_none_without() {
        let mut rng: ChaCha8Rng = rand::SeedableRng::seed_from_u64(3);
        let base: Vec<f64> = (0..100).map(|_| 10.0 + normal(&mut rng)).collect();
        let stepped: Vec<f64> = base.iter().enumerate().map(|(t, v)| if t >= 70 { v + 3.0 } else { *v }).collect();
        let settings = BstsSettings::default();
        let effect = run(&stepped, &[], 70, &settings);
        assert!(effect.average.absolute.low > 2.0 && effect.average.absolute.high < 4.0, "{:?}", effect.average);
        assert!(effect.p_value < 0.01);
        let none = run(&base, &[], 70, &settings);
        assert!(none.average.absolute.low < 0.0 && none.average.absolute.high > 0.0, "{:?}", none.average);
        assert!(none.p_value > 0.05);
    }

    #[test]
    fn seeded_runs_repeat_and_bad_input_is_refused() {
        let y: Vec<f64> = (0..40).map(|t| (t % 7) as f64 + if t > 30 { 2.0 } else { 0.0 }).collect();
        let settings = BstsSettings { seasons: 7, iterations: 200, ..BstsSettings::default() };
        assert_eq!(run(&y, &[], 30, &settings), run(&y, &[], 30, &settings));
        assert_eq!(run(&y, &[], 30, &settings).seasons, 7);
        assert_eq!(Sampler::new(&[1.0, 1.0, 1.0, 1.0, 2.0], &[], 4, &settings).err(), Some(BstsError::Constant));
        assert_eq!(Sampler::new(&[1.0, 2.0, 3.0], &[], 2, &settings).err(), Some(BstsError::TooFewPeriods(2)));
        assert_eq!(Sampler::new(&y, &[], 30, &BstsSettings { iterations: 5, ..settings }).err(), Some(BstsError::Settings));
    }
}
