//! Emerging terms: words of a text column whose share of posts bursts, by Kleinberg's two-state
//! model for batched data ("Bursty and hierarchical structure in streams", 2002, §4).
//!
//! ```text
//! rows ──▶ period of its time (hour, day or week) and its distinct words (lower case, letters and
//!          digits, 3 characters or more, not only digits, not a stop word)
//! per word w and period t: r_t posts with w out of d_t posts
//! base rate p₀ = Σr / Σd, burst rate p₁ = s·p₀ (s = 2); a word in 1/s of all posts or more
//!          cannot burst
//! cost of state j at t: −[r_t ln p_j + (d_t − r_t) ln(1 − p_j)]    (the binomial coefficient is the
//!                       same in both states and cancels)
//! moving up a state costs γ ln n (n periods), down is free; the cheapest state sequence by
//! dynamic programming (Viterbi), starting in the base state
//! a burst: a run of burst states; its weight Σ (cost₀ − cost₁) over the run
//! ```
//!
//! Words are ranked by their heaviest burst (within the chosen period when one is given).
//! Checked against an independent Python implementation (scipy's binomial, NumPy dynamic
//! programming) in `tests/it/reference_terms.rs`.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::contract::{has_column, has_time_column, missing_column, Analysis, FitColumns, Progress, Stopped, Weights};
use crate::data::table::{ColumnType, Table, Value};
use crate::data::time::{DAY_MS, HOUR_MS};

/// Words listed in a report.
pub const MAX_TERMS: usize = 30;
/// Words followed per period at most (the most used of those frequent enough).
pub const MAX_TRACKED: usize = 20_000;
/// Periods at most (a finer grain over a long span is refused).
pub const MAX_PERIODS: usize = 5_000;
const STEP_ROWS: usize = 100_000;
/// Common words that never make a term.
const STOP_WORDS: [&str; 40] = [
    "the", "and", "for", "with", "this", "that", "you", "your", "are", "was", "were", "from", "have", "has", "had", "but", "not",
    "all", "our", "out", "its", "it's", "his", "her", "she", "him", "they", "them", "their", "what", "who", "why", "how", "when",
    "can", "will", "just", "than", "then", "been",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Hours up to 3 days of data, days up to a year, weeks beyond.
    #[default]
    Auto,
    Hour,
    Day,
    Week,
}

impl Period {
    fn resolve(self, span_ms: i64) -> Self {
        match self {
            Self::Auto if span_ms <= 3 * DAY_MS => Self::Hour,
            Self::Auto if span_ms <= 400 * DAY_MS => Self::Day,
            Self::Auto => Self::Week,
            other => other,
        }
    }

    pub fn ms(self) -> i64 {
        match self {
            Self::Hour => HOUR_MS,
            Self::Week => 7 * DAY_MS,
            Self::Day | Self::Auto => DAY_MS,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermsParams {
    pub text: String,
    pub time: String,
    #[serde(default)]
    pub period: Period,
    /// The burst rate as a multiple of the base rate (Kleinberg's s).
    #[serde(default = "default_scale")]
    pub scale: f64,
    /// The cost of entering a burst, in units of ln n (Kleinberg's γ).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
    /// Words in fewer posts are not followed.
    #[serde(default = "default_min_count")]
    pub min_count: usize,
    /// Only bursts that end at or after this time (UTC ms) rank a word.
    #[serde(default)]
    pub since_ms: Option<i64>,
}

fn default_scale() -> f64 {
    2.0
}
fn default_gamma() -> f64 {
    1.0
}
fn default_min_count() -> usize {
    10
}

impl TermsParams {
    pub fn of(text: &str, time: &str) -> Self {
        Self { text: text.into(), time: time.into(), period: Period::Auto, scale: default_scale(), gamma: default_gamma(), min_count: default_min_count(), since_ms: None }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum TermsError {
    #[error("choose the text column and a time column")]
    Choose,
    #[error("there is no column “{0}”")]
    UnknownColumn(String),
    #[error("“{0}” is not a timestamp column")]
    NotTime(String),
    #[error("the burst rate must be more than 1× the base rate")]
    Scale,
    #[error("the cost of a burst must be a positive number")]
    Gamma,
    #[error("a word must be in at least 2 posts to be followed")]
    MinCount,
    #[error("{0} periods are too many (at most {MAX_PERIODS}): choose a coarser period")]
    TooManyPeriods(usize),
    #[error("stopped before it finished")]
    Stopped,
}

impl From<Stopped> for TermsError {
    fn from(_: Stopped) -> Self {
        Self::Stopped
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Burst {
    /// Its first and last period (indices into the report's periods).
    pub first: usize,
    pub last: usize,
    pub weight: f64,
    /// Posts with the word, and all posts, over the burst.
    pub with_term: f64,
    pub posts: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    pub term: String,
    /// Posts with it over all periods, and its base rate (share of posts).
    pub posts: f64,
    pub base_rate: f64,
    /// Its bursts, heaviest first.
    pub bursts: Vec<Burst>,
    /// Posts with it per period.
    pub timeline: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermsReport {
    pub text: String,
    pub period: Period,
    /// Start of each period (UTC ms), and its posts.
    pub period_starts: Vec<i64>,
    pub posts: Vec<f64>,
    /// Distinct words, and those frequent enough to follow.
    pub words: usize,
    pub followed: usize,
    /// Words with a burst (within the chosen period), listed or not.
    pub bursting: usize,
    pub terms: Vec<Term>,
    pub scale: f64,
    pub gamma: f64,
    pub notes: Vec<String>,
}

pub struct Terms;

impl Analysis for Terms {
    const NAME: &'static str = "terms";
    const TITLE: &'static str = "Emerging terms";
    const WEIGHTED: bool = true;
    const IN_LINK: bool = true;
    type Params = TermsParams;
    type Report = TermsReport;
    type Error = TermsError;

    fn fit_link(params: TermsParams, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<TermsParams> {
        params.fit_columns(columns, notices)
    }

    fn check(params: &TermsParams) -> Result<(), TermsError> {
        if params.text.is_empty() || params.time.is_empty() {
            return Err(TermsError::Choose);
        }
        if !(params.scale.is_finite() && params.scale > 1.0) {
            return Err(TermsError::Scale);
        }
        if !(params.gamma.is_finite() && params.gamma > 0.0) {
            return Err(TermsError::Gamma);
        }
        if params.min_count < 2 {
            return Err(TermsError::MinCount);
        }
        Ok(())
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &TermsParams, progress: &mut impl Progress) -> Result<TermsReport, TermsError> {
        let column = |name: &str| table.column(name).ok_or_else(|| TermsError::UnknownColumn(name.to_string()));
        let text_column = column(&params.text)?;
        let time_column = column(&params.time)?;
        if time_column.kind != ColumnType::Timestamp {
            return Err(TermsError::NotTime(params.time.clone()));
        }
        let mut notes = Vec::new();
        // Rows with a text and a time.
        let timed: Vec<(u32, i64)> = rows
            .iter()
            .filter(|&&r| weights.of(r) > 0.0 && !matches!(text_column.value(r as usize), Value::Missing))
            .filter_map(|&r| match time_column.value(r as usize) {
                Value::Timestamp(ms) => Some((r, ms)),
                _ => None,
            })
            .collect();
        let untimed = rows.len() - timed.len();
        if untimed > 0 {
            notes.push(format!("{untimed} rows without a text or a time left out"));
        }
        // The periods span the middle 99.8 % of times, widened by a twentieth on each side: a few
        // mistyped years neither turn days into weeks nor stretch every timeline (they are left
        // out, and said).
        let mut times: Vec<i64> = timed.iter().map(|&(_, t)| t).collect();
        times.sort_unstable();
        let (lo, hi) = match times.len() {
            0 => (0, 0),
            k => {
                let (a, b) = (times[k / 1000], times[k - 1 - k / 1000]);
                let margin = (b - a) / 20;
                (a.saturating_sub(margin), b.saturating_add(margin))
            }
        };
        drop(times);
        let before = timed.len();
        let timed: Vec<(u32, i64)> = timed.into_iter().filter(|&(_, t)| (lo..=hi).contains(&t)).collect();
        if timed.len() < before {
            notes.push(format!(
                "{} dated far outside the rest of the timeline (future-dated or mistyped?) left out: filter them out or correct their times",
                crate::format::plural((before - timed.len()) as u64, "row")
            ));
        }
        let (lo, hi) = timed.iter().fold((i64::MAX, i64::MIN), |(lo, hi), &(_, t)| (lo.min(t), hi.max(t)));
        let period = params.period.resolve(hi.saturating_sub(lo).max(0));
        let width = period.ms();
        let start = if timed.is_empty() { 0 } else { lo.div_euclid(width) * width };
        let n = if timed.is_empty() { 0 } else { ((hi - start) / width + 1) as usize };
        if n > MAX_PERIODS {
            return Err(TermsError::TooManyPeriods(n));
        }

        // Pass 1: posts per word.
        progress.step("words", "Counting words", 0.0).await?;
        let mut totals: FxHashMap<String, f64> = FxHashMap::default();
        let mut words_of = Vec::new();
        for (done, &(row, _)) in timed.iter().enumerate() {
            if done % STEP_ROWS == STEP_ROWS - 1 {
                progress.step("words", "Counting words", 0.4 * done as f64 / timed.len() as f64).await?;
            }
            words(&text_column.value(row as usize).display(), &mut words_of);
            for w in words_of.drain(..) {
                *totals.entry(w).or_default() += weights.of(row);
            }
        }
        let word_count = totals.len();
        let mut followed: Vec<(String, f64)> = totals.into_iter().filter(|(_, c)| *c >= params.min_count as f64).collect();
        followed.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        if followed.len() > MAX_TRACKED {
            notes.push(format!("only the {MAX_TRACKED} most used of {} frequent words followed", followed.len()));
            followed.truncate(MAX_TRACKED);
        }
        let index: FxHashMap<&str, usize> = followed.iter().enumerate().map(|(i, (w, _))| (w.as_str(), i)).collect();

        // Pass 2: posts per period, and per word and period.
        progress.step("periods", "Counting words per period", 0.4).await?;
        let mut posts = vec![0.0; n];
        let mut counts = vec![0.0; followed.len() * n];
        for (done, &(row, t)) in timed.iter().enumerate() {
            if done % STEP_ROWS == STEP_ROWS - 1 {
                progress.step("periods", "Counting words per period", 0.4 + 0.4 * done as f64 / timed.len() as f64).await?;
            }
            let p = ((t - start) / width) as usize;
            let w = weights.of(row);
            posts[p] += w;
            words(&text_column.value(row as usize).display(), &mut words_of);
            for word in words_of.drain(..) {
                if let Some(&i) = index.get(word.as_str()) {
                    counts[i * n + p] += w;
                }
            }
        }

        // Bursts per word.
        progress.step("bursts", "Finding bursts", 0.8).await?;
        let since = params.since_ms.map(|s| if s <= start { 0 } else { ((s - start) / width) as usize });
        let mut terms: Vec<Term> = Vec::new();
        for (i, (term, total)) in followed.iter().enumerate() {
            if i % 2_000 == 1_999 {
                progress.step("bursts", "Finding bursts", 0.8 + 0.2 * i as f64 / followed.len() as f64).await?;
            }
            let r = &counts[i * n..(i + 1) * n];
            let (base_rate, mut bursts) = bursts_of(r, &posts, params.scale, params.gamma);
            if let Some(since) = since {
                bursts.retain(|b| b.last >= since);
            }
            if !bursts.is_empty() {
                terms.push(Term { term: term.clone(), posts: *total, base_rate, bursts, timeline: r.to_vec() });
            }
        }
        let bursting = terms.len();
        terms.sort_by(|a, b| b.bursts[0].weight.total_cmp(&a.bursts[0].weight).then_with(|| a.term.cmp(&b.term)));
        terms.truncate(MAX_TERMS);
        Ok(TermsReport {
            text: params.text.clone(),
            period,
            period_starts: (0..n as i64).map(|p| start + p * width).collect(),
            posts,
            words: word_count,
            followed: followed.len(),
            bursting,
            terms,
            scale: params.scale,
            gamma: params.gamma,
            notes,
        })
    }
}

/// The distinct words of a text, into `out` (cleared first).
pub fn words(text: &str, out: &mut Vec<String>) {
    out.clear();
    for token in text.split(|c: char| !c.is_alphanumeric()) {
        if token.chars().count() < 3 || token.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let word = token.to_lowercase();
        if STOP_WORDS.contains(&word.as_str()) || out.contains(&word) {
            continue;
        }
        out.push(word);
    }
}

/// Kleinberg's two-state batched model on one word: `r[t]` posts with it out of `d[t]`. Returns
/// its base rate and its bursts, heaviest first.
pub fn bursts_of(r: &[f64], d: &[f64], scale: f64, gamma: f64) -> (f64, Vec<Burst>) {
    let states = burst_states(r, d, scale, gamma);
    let (p0, p1) = rates(r, d, scale);
    let cost = |t: usize, p: f64| -(r[t] * p.ln() + (d[t] - r[t]) * (1.0 - p).ln());
    let mut bursts = Vec::new();
    let mut t = 0;
    while t < states.len() {
        if !states[t] {
            t += 1;
            continue;
        }
        let first = t;
        while t < states.len() && states[t] {
            t += 1;
        }
        let last = t - 1;
        let weight = (first..=last).map(|u| cost(u, p0) - cost(u, p1)).sum();
        bursts.push(Burst { first, last, weight, with_term: r[first..=last].iter().sum(), posts: d[first..=last].iter().sum() });
    }
    bursts.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| a.first.cmp(&b.first)));
    (p0, bursts)
}

fn rates(r: &[f64], d: &[f64], scale: f64) -> (f64, f64) {
    let p0 = r.iter().sum::<f64>() / d.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    (p0, p0 * scale)
}

/// The cheapest state sequence (true: burst), by dynamic programming from the base state.
pub fn burst_states(r: &[f64], d: &[f64], scale: f64, gamma: f64) -> Vec<bool> {
    let n = r.len();
    if n == 0 {
        return Vec::new();
    }
    let (p0, p1) = rates(r, d, scale);
    // A word in 1/s of all posts or more cannot burst to s times its rate.
    if !(p0 > 0.0 && p0 * scale < 1.0) {
        return vec![false; n];
    }
    let up = gamma * (n as f64).ln();
    let cost = |t: usize, p: f64| -(r[t] * p.ln() + (d[t] - r[t]) * (1.0 - p).ln());
    // best[j]: the cheapest cost of the periods so far ending in state j; from[t][j]: the state
    // before t on that path.
    let mut best = [cost(0, p0), up + cost(0, p1)];
    let mut from: Vec<[bool; 2]> = vec![[false, false]; n];
    for (t, previous) in from.iter_mut().enumerate().skip(1) {
        let to_base = if best[0] <= best[1] { (best[0], false) } else { (best[1], true) };
        let to_burst = if best[1] <= best[0] + up { (best[1], true) } else { (best[0] + up, false) };
        *previous = [to_base.1, to_burst.1];
        best = [to_base.0 + cost(t, p0), to_burst.0 + cost(t, p1)];
    }
    let mut states = vec![false; n];
    let mut state = best[1] < best[0];
    for t in (0..n).rev() {
        states[t] = state;
        state = from[t][usize::from(state)];
    }
    states
}

impl FitColumns for TermsParams {
    fn fit_columns(self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        if !has_column(columns, &self.text) {
            notices.push(missing_column("emerging terms' text column", &self.text));
            return None;
        }
        if !has_time_column(columns, &self.time) {
            notices.push(missing_column("emerging terms' time column", &self.time));
            return None;
        }
        Some(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::analysis::contract::run_now;
    use crate::data::load::{load_bytes, LoadOptions};

    #[test]
    fn words_are_distinct_lower_case_and_long_enough() {
        let mut out = Vec::new();
        words("Buy BUY now: the 2026 crypto-giveaway at é.example, 42x ok", &mut out);
        assert_eq!(out, ["buy", "now", "crypto", "giveaway", "example", "42x"]);
    }

    #[test]
    fn a_spike_is_a_burst_and_a_steady_word_is_not() {
        let d = vec![100.0; 20];
        let mut r = vec![5.0; 20];
        r[12] = 40.0;
        r[13] = 35.0;
        let (p0, bursts) = bursts_of(&r, &d, 2.0, 1.0);
        assert!((p0 - 165.0 / 2000.0).abs() < 1e-12);
        assert_eq!(bursts.len(), 1);
        assert_eq!((bursts[0].first, bursts[0].last), (12, 13));
        assert!(bursts[0].weight > 0.0);
        assert!(bursts_of(&[5.0; 20], &d, 2.0, 1.0).1.is_empty());
        // A higher cost of entering a burst keeps a small bump out.
        let mut small = vec![5.0; 20];
        small[3] = 13.0;
        assert!(!bursts_of(&small, &d, 2.0, 1.0).1.is_empty());
        assert!(bursts_of(&small, &d, 2.0, 3.0).1.is_empty());
    }

    #[test]
    fn finds_the_word_of_a_campaign() {
        let mut csv = String::from("at,text\n");
        for day in 1..=28 {
            for i in 0..20 {
                csv += &format!("2026-02-{day:02}T10:{i:02}:00Z,my garden and coffee number {i}\n");
            }
            if day == 20 {
                for i in 0..15 {
                    csv += &format!("2026-02-20T11:{i:02}:00Z,free followers at fastfollow now\n");
                }
            }
        }
        let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let report = run_now::<Terms>(&table, &rows, &TermsParams::of("text", "at")).unwrap();
        assert_eq!(report.period, Period::Day);
        assert_eq!(report.period_starts.len(), 28);
        let names: Vec<&str> = report.terms.iter().map(|t| t.term.as_str()).collect();
        // "now" too; "garden", "coffee", "number" are in every post and cannot burst.
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(["fastfollow", "followers", "free", "now"].iter().all(|w| names.contains(w)), "{names:?}");
        assert_eq!((report.terms[0].bursts[0].first, report.terms[0].bursts[0].last), (19, 19));
        // Since a later day: no burst left.
        let later = run_now::<Terms>(&table, &rows, &TermsParams { since_ms: Some(report.period_starts[25]), ..TermsParams::of("text", "at") }).unwrap();
        assert!(later.terms.is_empty());
        assert_eq!(Terms::check(&TermsParams { scale: 1.0, ..TermsParams::of("t", "a") }), Err(TermsError::Scale));
    }
}
