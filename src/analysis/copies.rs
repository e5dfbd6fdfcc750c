//! Copies: groups of near-identical texts (copy-paste campaigns), found by MinHash with
//! locality-sensitive hashing and confirmed by the exact Jaccard similarity of their shingles.
//!
//! ```text
//! rows ──▶ text, normalised (lower case, runs of white space as one space, trimmed)
//!          identical normalised texts are one document
//! document ──▶ shingles: its k-character (or k-word) windows, hashed (the whole text when shorter)
//!          ──▶ MinHash signature of `permutations` values ──▶ b bands of r values (b·r ≤ permutations,
//!              chosen for the threshold as datasketch does: least false positive + false negative area)
//! documents sharing a band ──▶ candidate pairs ──▶ exact Jaccard of their shingle sets ≥ threshold
//!          ──▶ union-find: groups (single linkage)
//! ```
//!
//! Each group reports its rows (weighted), distinct texts and accounts, time span, examples, the
//! positive share of a label, and co-posting: the most accounts that posted it within the window
//! (default 10 minutes) — the signature of a coordinated campaign, which ranks groups first.
//! Checked against datasketch and brute-force exact Jaccard in `tests/it/reference_copies.rs`.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::contract::{has_column, has_time_column, missing_column, Analysis, FitColumns, Kept, Progress, RowGroups, Stopped, Weights};
use super::labels::LabelSpec;
use super::rings::{Codes, UnionFind};
use crate::data::table::{ColumnType, Table, Value};

/// Groups listed in a report (the first ranked).
pub const MAX_GROUPS: usize = 200;
/// Distinct raw texts kept per group (for the filter).
pub const MAX_VALUES: usize = 2_000;
/// Example texts per group, and their length at most (characters).
pub const MAX_EXAMPLES: usize = 3;
pub const EXAMPLE_CHARS: usize = 280;
/// A bucket of at most this many documents has all its pairs compared; a larger one compares
/// each document with the bucket's first and its previous one.
const ALL_PAIRS_UP_TO: usize = 32;
/// Scan rows (or documents) between two progress steps.
const STEP_ROWS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShingleKind {
    /// Windows of `size` characters: robust to small edits, the default for short posts.
    #[default]
    Characters,
    /// Windows of `size` words.
    Words,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopiesParams {
    /// The text column (a post, a message, a profile bio).
    pub text: String,
    /// The column naming who posted it (an account id), for distinct accounts and co-posting.
    #[serde(default)]
    pub entity: Option<String>,
    /// A timestamp column, for time spans and co-posting.
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub shingles: ShingleKind,
    /// Characters or words per shingle.
    #[serde(default = "default_size")]
    pub size: usize,
    /// Texts at least this similar (Jaccard of their shingles) are copies of each other.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// MinHash permutations (more: fewer missed pairs, slower).
    #[serde(default = "default_permutations")]
    pub permutations: usize,
    /// Co-posting counts the accounts that posted a group's texts within this many ms.
    #[serde(default = "default_window")]
    pub window_ms: i64,
    /// The label whose positive share each group reports.
    #[serde(default)]
    pub label: Option<LabelSpec>,
    /// Groups with fewer rows are not listed.
    #[serde(default = "default_min_rows")]
    pub min_rows: usize,
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_size() -> usize {
    5
}
fn default_threshold() -> f64 {
    0.7
}
fn default_permutations() -> usize {
    128
}
fn default_window() -> i64 {
    10 * 60_000
}
fn default_min_rows() -> usize {
    3
}
fn default_seed() -> u64 {
    1
}

impl CopiesParams {
    /// Defaults for a text column.
    pub fn of(text: &str) -> Self {
        Self {
            text: text.into(),
            entity: None,
            time: None,
            shingles: ShingleKind::Characters,
            size: default_size(),
            threshold: default_threshold(),
            permutations: default_permutations(),
            window_ms: default_window(),
            label: None,
            min_rows: default_min_rows(),
            seed: default_seed(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum CopiesError {
    #[error("choose the text column")]
    ChooseText,
    #[error("there is no column “{0}”")]
    UnknownColumn(String),
    #[error("“{0}” is not a timestamp column")]
    NotTime(String),
    #[error("“{0}” is the text column; choose another column for the accounts")]
    TextAsEntity(String),
    #[error("the shingle size must be between 1 and 32")]
    Size,
    #[error("the similarity threshold must be above 0 and at most 1")]
    Threshold,
    #[error("the permutations must be between 16 and 1024")]
    Permutations,
    #[error("the co-posting window must be positive")]
    Window,
    #[error("the smallest group must have at least 2 rows")]
    MinRows,
    #[error("stopped before it finished")]
    Stopped,
}

impl From<Stopped> for CopiesError {
    fn from(_: Stopped) -> Self {
        Self::Stopped
    }
}

/// The most accounts that posted a group's texts within the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoPosting {
    /// Distinct accounts (rows when there is no account column) in the busiest window.
    pub accounts: usize,
    /// Rows in that window.
    pub rows: usize,
    /// Its first and last row (UTC ms).
    pub start_ms: i64,
    pub end_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyGroup {
    /// 1 for the first ranked, in the order listed.
    pub id: usize,
    /// Rows (their weights) with one of its texts.
    pub rows: f64,
    /// Distinct normalised texts.
    pub texts: usize,
    /// Distinct accounts that posted it (with an account column).
    pub accounts: Option<usize>,
    /// First and last row (UTC ms), with a time column.
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub co_posting: Option<CoPosting>,
    /// Its most posted texts (at most [`MAX_EXAMPLES`], cut to [`EXAMPLE_CHARS`]) with their rows.
    pub examples: Vec<(String, f64)>,
    /// Its texts as they appear in the data (at most [`MAX_VALUES`]), for the filter.
    pub values: Vec<String>,
    /// The lowest similarity of a pair that joined it (1 when its texts are identical).
    pub min_similarity: f64,
    pub label_rate: Option<f64>,
    pub labelled: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopiesReport {
    pub text: String,
    pub entity: Option<String>,
    pub shingles: ShingleKind,
    pub size: usize,
    pub threshold: f64,
    pub permutations: usize,
    /// The LSH banding: `bands` bands of `rows_per_band` MinHash values.
    pub bands: usize,
    pub rows_per_band: usize,
    /// Rows with a text (their weights), and distinct normalised texts.
    pub rows: f64,
    pub distinct_texts: usize,
    /// Pairs compared (sharing a band and not yet in one group), and those whose exact Jaccard
    /// reached the threshold.
    pub candidate_pairs: usize,
    pub similar_pairs: usize,
    pub groups: Vec<CopyGroup>,
    /// Groups of at least `min_rows` rows, listed or not.
    pub groups_found: usize,
    /// Rows in those groups.
    pub rows_in_groups: f64,
    pub label_overall: Option<f64>,
    pub window_ms: i64,
    pub min_rows: usize,
    pub notes: Vec<String>,
    /// Each analysed row's group, listed or not (for a derived column; in the worker only).
    #[serde(skip)]
    pub kept: Kept<RowGroups>,
}

pub struct Copies;

impl Analysis for Copies {
    const NAME: &'static str = "copies";
    const TITLE: &'static str = "Near-duplicate text";
    const WEIGHTED: bool = true;
    const IN_LINK: bool = true;
    type Params = CopiesParams;
    type Report = CopiesReport;
    type Error = CopiesError;

    fn fit_link(params: CopiesParams, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<CopiesParams> {
        params.fit_columns(columns, notices)
    }

    fn check(params: &CopiesParams) -> Result<(), CopiesError> {
        if params.text.is_empty() {
            return Err(CopiesError::ChooseText);
        }
        if params.entity.as_deref() == Some(params.text.as_str()) {
            return Err(CopiesError::TextAsEntity(params.text.clone()));
        }
        if !(1..=32).contains(&params.size) {
            return Err(CopiesError::Size);
        }
        if !(params.threshold > 0.0 && params.threshold <= 1.0) {
            return Err(CopiesError::Threshold);
        }
        if !(16..=1024).contains(&params.permutations) {
            return Err(CopiesError::Permutations);
        }
        if params.window_ms <= 0 {
            return Err(CopiesError::Window);
        }
        if params.min_rows < 2 {
            return Err(CopiesError::MinRows);
        }
        Ok(())
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &CopiesParams, progress: &mut impl Progress) -> Result<CopiesReport, CopiesError> {
        let column = |name: &str| table.column(name).ok_or_else(|| CopiesError::UnknownColumn(name.to_string()));
        let text_column = column(&params.text)?;
        let entity_column = params.entity.as_deref().map(column).transpose()?;
        let time_column = match &params.time {
            Some(t) => {
                let c = column(t)?;
                if c.kind != ColumnType::Timestamp {
                    return Err(CopiesError::NotTime(t.clone()));
                }
                Some(c)
            }
            None => None,
        };
        let truth = params.label.as_ref().and_then(|l| l.truth(table));
        let mut notes = Vec::new();

        // Documents: one per distinct normalised text.
        progress.step("texts", "Reading the texts", 0.0).await?;
        let mut raw = Codes::new(text_column);
        let mut raw_doc: Vec<u32> = Vec::new();
        let mut doc_index: FxHashMap<String, u32> = FxHashMap::default();
        let mut docs: Vec<String> = Vec::new();
        let mut row_doc: Vec<(u32, u32)> = Vec::with_capacity(rows.len());
        let mut text_rows = 0.0;
        for (done, &row) in rows.iter().enumerate() {
            if done % STEP_ROWS == STEP_ROWS - 1 {
                progress.step("texts", "Reading the texts", 0.2 * done as f64 / rows.len().max(1) as f64).await?;
            }
            if weights.of(row) <= 0.0 {
                continue;
            }
            let Some(code) = raw.code(row as usize) else { continue };
            if code as usize == raw_doc.len() {
                let normal = normalise(&raw.names[code as usize]);
                let doc = if normal.is_empty() {
                    u32::MAX
                } else {
                    let next = docs.len() as u32;
                    *doc_index.entry(normal).or_insert_with_key(|k| {
                        docs.push(k.clone());
                        next
                    })
                };
                raw_doc.push(doc);
            }
            let doc = raw_doc[code as usize];
            if doc != u32::MAX {
                row_doc.push((row, doc));
                text_rows += weights.of(row);
            }
        }
        drop(doc_index);
        let n = docs.len();

        // Shingles and MinHash band keys per document.
        let (bands, per_band) = lsh_bands(params.threshold, params.permutations);
        let hasher = MinHasher::new(params.permutations, params.seed);
        let mut shingle_sets = Arena::default();
        let mut band_keys: Vec<u64> = Vec::with_capacity(n * bands);
        let mut signature = vec![0u64; params.permutations];
        for (d, doc) in docs.iter().enumerate() {
            if d % (STEP_ROWS / 4) == STEP_ROWS / 4 - 1 {
                progress.step("minhash", "Signing the texts", 0.2 + 0.5 * d as f64 / n.max(1) as f64).await?;
            }
            let set = shingles(doc, params.shingles, params.size);
            hasher.sign_into(&set, &mut signature);
            for band in signature.chunks_exact(per_band).take(bands) {
                band_keys.push(band.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &v| mix(h ^ v)));
            }
            shingle_sets.push(set.iter().map(|&h| h as u32).collect());
        }

        // Candidate pairs from shared bands, confirmed by exact Jaccard.
        let mut union = UnionFind::new(n);
        let mut min_similarity = vec![1.0f64; n];
        let (mut candidates, mut similar) = (0usize, 0usize);
        let mut seen: FxHashSet<(u32, u32)> = FxHashSet::default();
        for band in 0..bands {
            progress.step("pairs", &format!("Comparing texts (band {} of {bands})", band + 1), 0.7 + 0.25 * band as f64 / bands as f64).await?;
            let mut buckets: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
            for d in 0..n {
                buckets.entry(band_keys[d * bands + band]).or_default().push(d as u32);
            }
            for bucket in buckets.values().filter(|b| b.len() > 1) {
                let mut compare = |a: u32, b: u32| {
                    let pair = (a.min(b), a.max(b));
                    if union.find(a) == union.find(b) || !seen.insert(pair) {
                        return;
                    }
                    candidates += 1;
                    let j = jaccard_sorted(shingle_sets.get(a as usize), shingle_sets.get(b as usize));
                    if j >= params.threshold {
                        similar += 1;
                        let (ra, rb) = (union.find(a), union.find(b));
                        let low = min_similarity[ra as usize].min(min_similarity[rb as usize]).min(j);
                        union.join(a, b);
                        let root = union.find(a) as usize;
                        min_similarity[root] = low;
                    }
                };
                if bucket.len() <= ALL_PAIRS_UP_TO {
                    for (i, &a) in bucket.iter().enumerate() {
                        for &b in &bucket[i + 1..] {
                            compare(a, b);
                        }
                    }
                } else {
                    for i in 1..bucket.len() {
                        compare(bucket[0], bucket[i]);
                        if i > 1 {
                            compare(bucket[i - 1], bucket[i]);
                        }
                    }
                }
            }
        }
        drop(seen);
        drop(shingle_sets);

        // Groups: rows per component.
        progress.step("groups", "Describing the groups", 0.95).await?;
        let mut by_root: FxHashMap<u32, Vec<(u32, u32)>> = FxHashMap::default();
        for &(row, doc) in &row_doc {
            by_root.entry(union.find(doc)).or_default().push((row, doc));
        }
        let mut groups: Vec<(u32, Vec<(u32, u32)>)> = by_root
            .into_iter()
            .filter(|(_, g)| g.iter().map(|&(row, _)| weights.of(row)).sum::<f64>() >= params.min_rows as f64)
            .collect();
        let groups_found = groups.len();
        let has_time = time_column.is_some();
        if has_time && rows.iter().any(|&r| matches!(time_column.map(|c| c.value(r as usize)), Some(Value::Missing))) {
            notes.push("rows without a time are left out of time spans and co-posting".into());
        }
        let mut entities = entity_column.map(Codes::new);
        let described: Vec<CopyGroup> = groups
            .iter_mut()
            .map(|(root, members)| {
                let times: Vec<Option<i64>> = members
                    .iter()
                    .map(|&(row, _)| match time_column.map(|c| c.value(row as usize)) {
                        Some(Value::Timestamp(ms)) => Some(ms),
                        _ => None,
                    })
                    .collect();
                let who: Option<Vec<Option<u32>>> = entities.as_mut().map(|codes| members.iter().map(|&(row, _)| codes.code(row as usize)).collect());
                describe(members, &times, who.as_deref(), &docs, |row| text_column.value(row as usize).display(), weights, truth.as_deref(), params.window_ms, min_similarity[*root as usize])
            })
            .collect();
        let rows_in_groups = described.iter().map(|g| g.rows).sum();
        let mut order: Vec<usize> = (0..described.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&described[a], &described[b]);
            let co = |g: &CopyGroup| g.co_posting.as_ref().map_or(0, |c| c.accounts);
            co(b).cmp(&co(a))
                .then_with(|| b.accounts.unwrap_or(0).cmp(&a.accounts.unwrap_or(0)))
                .then_with(|| b.rows.total_cmp(&a.rows))
                .then_with(|| a.examples.first().map(|e| &e.0).cmp(&b.examples.first().map(|e| &e.0)))
        });
        let mut row_groups = RowGroups { rows: Vec::new(), groups: order.len() };
        for (rank, &g) in order.iter().enumerate() {
            row_groups.rows.extend(groups[g].1.iter().map(|&(row, _)| (row, rank as u32 + 1)));
        }
        let mut slots: Vec<Option<CopyGroup>> = described.into_iter().map(Some).collect();
        let mut described: Vec<CopyGroup> = order.iter().take(MAX_GROUPS).filter_map(|&g| slots[g].take()).collect();
        for (i, g) in described.iter_mut().enumerate() {
            g.id = i + 1;
        }

        let (labelled, positives) = match &truth {
            Some(t) => row_doc.iter().fold((0.0, 0.0), |(l, p), &(row, _)| match t.get(row as usize).copied().flatten() {
                Some(positive) => (l + weights.of(row), p + if positive { weights.of(row) } else { 0.0 }),
                None => (l, p),
            }),
            None => (0.0, 0.0),
        };
        Ok(CopiesReport {
            text: params.text.clone(),
            entity: params.entity.clone(),
            shingles: params.shingles,
            size: params.size,
            threshold: params.threshold,
            permutations: params.permutations,
            bands,
            rows_per_band: per_band,
            rows: text_rows,
            distinct_texts: n,
            candidate_pairs: candidates,
            similar_pairs: similar,
            groups: described,
            groups_found,
            rows_in_groups,
            label_overall: (labelled > 0.0).then(|| positives / labelled),
            window_ms: params.window_ms,
            min_rows: params.min_rows,
            notes,
            kept: Kept::new(row_groups),
        })
    }
}

/// The figures of one group from its `(row, document)` members.
#[allow(clippy::too_many_arguments)]
fn describe(
    members: &mut [(u32, u32)],
    times: &[Option<i64>],
    who: Option<&[Option<u32>]>,
    docs: &[String],
    text_of: impl Fn(u32) -> String,
    weights: Weights,
    truth: Option<&[Option<bool>]>,
    window_ms: i64,
    min_similarity: f64,
) -> CopyGroup {
    let (mut rows, mut labelled, mut positives) = (0.0, 0.0, 0.0);
    let mut per_doc: FxHashMap<u32, f64> = FxHashMap::default();
    let mut values: Vec<String> = Vec::new();
    let mut seen_values: FxHashSet<String> = FxHashSet::default();
    for &(row, doc) in members.iter() {
        let w = weights.of(row);
        rows += w;
        *per_doc.entry(doc).or_default() += w;
        if let Some(Some(positive)) = truth.map(|t| t.get(row as usize).copied().flatten()) {
            labelled += w;
            if positive {
                positives += w;
            }
        }
        if values.len() < MAX_VALUES {
            let text = text_of(row);
            if seen_values.insert(text.clone()) {
                values.push(text);
            }
        }
    }
    let mut by_rows: Vec<(u32, f64)> = per_doc.into_iter().collect();
    by_rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| docs[a.0 as usize].cmp(&docs[b.0 as usize])));
    // Examples as posted: the first raw text seen for each of the most posted documents.
    let examples = by_rows
        .iter()
        .take(MAX_EXAMPLES)
        .map(|&(doc, w)| {
            let posted = members.iter().find(|m| m.1 == doc).map_or_else(|| docs[doc as usize].clone(), |m| text_of(m.0));
            (posted.chars().take(EXAMPLE_CHARS).collect(), w)
        })
        .collect();
    let accounts = who.map(|w| w.iter().flatten().collect::<FxHashSet<_>>().len());

    // Co-posting: the busiest window of `window_ms` over the group's timed rows.
    let mut timed: Vec<(i64, Option<u32>)> = times.iter().zip(0..).filter_map(|(t, i)| t.map(|t| (t, who.and_then(|w| w[i]).or(Some(u32::MAX - i as u32))))).collect();
    timed.sort_unstable();
    let (first_ms, last_ms) = (timed.first().map(|t| t.0), timed.last().map(|t| t.0));
    let co_posting = (!timed.is_empty()).then(|| {
        let mut inside: FxHashMap<Option<u32>, usize> = FxHashMap::default();
        let mut best = CoPosting { accounts: 0, rows: 0, start_ms: timed[0].0, end_ms: timed[0].0 };
        let mut lo = 0;
        for hi in 0..timed.len() {
            *inside.entry(timed[hi].1).or_default() += 1;
            while timed[hi].0 - timed[lo].0 > window_ms {
                if let Some(c) = inside.get_mut(&timed[lo].1) {
                    *c -= 1;
                    if *c == 0 {
                        inside.remove(&timed[lo].1);
                    }
                }
                lo += 1;
            }
            if inside.len() > best.accounts {
                best = CoPosting { accounts: inside.len(), rows: hi + 1 - lo, start_ms: timed[lo].0, end_ms: timed[hi].0 };
            }
        }
        best
    });
    CopyGroup {
        id: 0,
        rows,
        texts: by_rows.len(),
        accounts,
        first_ms,
        last_ms,
        co_posting,
        examples,
        values,
        min_similarity,
        label_rate: (labelled > 0.0).then(|| positives / labelled),
        labelled,
    }
}

/// Lower case, runs of white space as one space, trimmed.
pub fn normalise(text: &str) -> String {
    text.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

/// The hashed shingles of a normalised text, sorted and distinct: its windows of `size`
/// characters (Unicode scalar values) or words; the whole text when it is shorter.
pub fn shingles(text: &str, kind: ShingleKind, size: usize) -> Vec<u64> {
    let size = size.max(1);
    let mut out: Vec<u64> = match kind {
        ShingleKind::Characters => {
            let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain(std::iter::once(text.len())).collect();
            let chars = bounds.len() - 1;
            if chars <= size {
                vec![hash_bytes(text.as_bytes())]
            } else {
                (0..=chars - size).map(|i| hash_bytes(&text.as_bytes()[bounds[i]..bounds[i + size]])).collect()
            }
        }
        ShingleKind::Words => {
            let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
            if words.len() <= size {
                vec![hash_bytes(words.join(" ").as_bytes())]
            } else {
                words.windows(size).map(|w| hash_bytes(w.join(" ").as_bytes())).collect()
            }
        }
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// FNV-1a over the bytes, then a 64-bit finaliser (stable across platforms and releases).
fn hash_bytes(bytes: &[u8]) -> u64 {
    mix(bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)))
}

/// splitmix64's finaliser: a bijection of 64-bit values that mixes every bit.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// MinHash over hashed shingles: permutation `i` maps a shingle `h` to `mix(h ^ key_i)`, with
/// keys drawn from the seed.
pub struct MinHasher {
    keys: Vec<u64>,
}

impl MinHasher {
    pub fn new(permutations: usize, seed: u64) -> Self {
        Self { keys: (0..permutations as u64).map(|i| mix(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(i + 1))).collect() }
    }

    /// The signature of a shingle set (all `u64::MAX` for an empty set).
    pub fn signature(&self, set: &[u64]) -> Vec<u64> {
        let mut out = vec![0; self.keys.len()];
        self.sign_into(set, &mut out);
        out
    }

    fn sign_into(&self, set: &[u64], out: &mut [u64]) {
        for (slot, &key) in out.iter_mut().zip(&self.keys) {
            *slot = set.iter().map(|&h| mix(h ^ key)).min().unwrap_or(u64::MAX);
        }
    }
}

/// The MinHash estimate of Jaccard similarity: the share of equal signature values.
pub fn estimate(a: &[u64], b: &[u64]) -> f64 {
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / a.len().max(1) as f64
}

/// Exact Jaccard similarity of two sorted, distinct sets.
pub fn jaccard_sorted<T: Ord>(a: &[T], b: &[T]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        1.0
    } else {
        both as f64 / union as f64
    }
}

/// The LSH banding for a threshold: `b` bands of `r` rows (`b·r ≤ permutations`) minimising the
/// area under the false-positive curve below the threshold plus the false-negative area above
/// it, equally weighted (datasketch's `_optimal_param`), integrated by Simpson's rule.
pub fn lsh_bands(threshold: f64, permutations: usize) -> (usize, usize) {
    let collide = |s: f64, b: usize, r: usize| 1.0 - (1.0 - s.powi(r as i32)).powi(b as i32);
    let integrate = |f: &dyn Fn(f64) -> f64, lo: f64, hi: f64| {
        let steps = 200;
        let h = (hi - lo) / steps as f64;
        (0..=steps).map(|k| f(lo + k as f64 * h) * if k == 0 || k == steps { 1.0 } else if k % 2 == 1 { 4.0 } else { 2.0 }).sum::<f64>() * h / 3.0
    };
    let mut best = (f64::INFINITY, 1, permutations.max(1));
    for b in 1..=permutations {
        for r in 1..=permutations / b {
            let false_positive = integrate(&|s| collide(s, b, r), 0.0, threshold);
            let false_negative = integrate(&|s| 1.0 - collide(s, b, r), threshold, 1.0);
            let error = 0.5 * false_positive + 0.5 * false_negative;
            if error < best.0 {
                best = (error, b, r);
            }
        }
    }
    (best.1, best.2)
}

/// Sorted sets of shingle hashes (their low 32 bits), one after the other.
#[derive(Default)]
struct Arena {
    values: Vec<u32>,
    ends: Vec<usize>,
}

impl Arena {
    fn push(&mut self, mut set: Vec<u32>) {
        set.sort_unstable();
        set.dedup();
        self.values.extend(set);
        self.ends.push(self.values.len());
    }

    fn get(&self, i: usize) -> &[u32] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.values[start..self.ends[i]]
    }
}

impl FitColumns for CopiesParams {
    fn fit_columns(mut self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        if !has_column(columns, &self.text) {
            notices.push(missing_column("copies' text column", &self.text));
            return None;
        }
        if let Some(e) = self.entity.clone() {
            if !has_column(columns, &e) {
                notices.push(missing_column("copies' account column", &e));
                self.entity = None;
            }
        }
        if let Some(t) = self.time.clone() {
            if !has_time_column(columns, &t) {
                notices.push(missing_column("copies' time column", &t));
                self.time = None;
            }
        }
        if let Some(l) = self.label.clone() {
            if !has_column(columns, &l.column) {
                notices.push(missing_column("copies' label", &l.column));
                self.label = None;
            }
        }
        self.size = self.size.clamp(1, 32);
        self.permutations = self.permutations.clamp(16, 1024);
        Some(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::analysis::contract::{run_now, run_weighted};
    use crate::data::load::{load_bytes, LoadOptions};

    fn table(csv: &str) -> Table {
        load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
    }

    fn run(csv: &str, params: &CopiesParams) -> CopiesReport {
        let t = table(csv);
        let rows: Vec<u32> = (0..t.n_rows as u32).collect();
        run_now::<Copies>(&t, &rows, params).unwrap()
    }

    #[test]
    fn normalises_and_shingles() {
        assert_eq!(normalise("  Buy  NOW\tcheap\n"), "buy now cheap");
        assert_eq!(shingles("abc", ShingleKind::Characters, 5).len(), 1);
        assert_eq!(shingles("abcdef", ShingleKind::Characters, 5).len(), 2);
        assert_eq!(shingles("aaaaaa", ShingleKind::Characters, 2).len(), 1);
        assert_eq!(shingles("a b c d", ShingleKind::Words, 3).len(), 2);
        // Multi-byte characters count as one.
        assert_eq!(shingles("ééééé", ShingleKind::Characters, 5).len(), 1);
    }

    #[test]
    fn jaccard_and_estimate() {
        let a = shingles("the quick brown fox jumps over the lazy dog", ShingleKind::Words, 1);
        let b = shingles("the quick brown fox jumps over the lazy cat", ShingleKind::Words, 1);
        // {the quick brown fox jumps over lazy} + dog | cat: 7 shared of 9.
        assert!((jaccard_sorted(&a, &b) - 7.0 / 9.0).abs() < 1e-12);
        let m = MinHasher::new(512, 3);
        let e = estimate(&m.signature(&a), &m.signature(&b));
        assert!((e - 7.0 / 9.0).abs() < 0.08, "{e}");
        assert_eq!(estimate(&m.signature(&a), &m.signature(&a)), 1.0);
    }

    #[test]
    fn bands_match_datasketch() {
        // datasketch 2.0.0: `_optimal_param(t, 128, 0.5, 0.5)` for t = 0.7, 0.5, 0.9.
        assert_eq!(lsh_bands(0.7, 128), (14, 9));
        assert_eq!(lsh_bands(0.5, 128), (25, 5));
        assert_eq!(lsh_bands(0.9, 128), (5, 25));
    }

    #[test]
    fn groups_copies_and_ranks_co_posting_first() {
        let mut csv = String::from("account,at,text\n");
        // A campaign: 8 accounts within 5 minutes, the same text with a different code.
        for i in 0..8 {
            csv += &format!("c{i},2026-01-02T10:0{i}:00Z,Get FREE followers now!!! visit example.com/x{i}{i}7 limited offer\n");
        }
        // An everyday phrase: 6 accounts over six days.
        for i in 0..6 {
            csv += &format!("e{i},2026-01-0{}T10:00:00Z,link in bio\n", i + 1);
        }
        // Unrelated texts.
        for i in 0..20 {
            csv += &format!("u{i},2026-01-03T1{}:00:00Z,my cat number {i} likes sunny windows {}\n", i % 10, i * 7919);
        }
        let mut params = CopiesParams::of("text");
        params.entity = Some("account".into());
        params.time = Some("at".into());
        let report = run(&csv, &params);
        assert_eq!(report.groups_found, 2, "{:#?}", report.groups);
        let first = &report.groups[0];
        assert_eq!((first.rows, first.texts, first.accounts), (8.0, 8, Some(8)));
        assert_eq!(first.co_posting.as_ref().unwrap().accounts, 8);
        assert!(first.min_similarity >= 0.7 && first.min_similarity < 1.0);
        assert_eq!(report.groups[1].examples[0].0, "link in bio");
        assert_eq!(report.groups[1].co_posting.as_ref().unwrap().accounts, 1);
        assert_eq!(report.groups[1].min_similarity, 1.0);
        assert_eq!(report.distinct_texts, 8 + 1 + 20);
    }

    #[test]
    fn empty_and_missing_texts() {
        let report = run("text\n\n   \nhello\n", &CopiesParams::of("text"));
        assert_eq!(report.distinct_texts, 1);
        assert!(report.groups.is_empty());
        let t = table("a,b\n1,2\n");
        let err = run_now::<Copies>(&t, &[0], &CopiesParams::of("text")).unwrap_err();
        assert_eq!(err, CopiesError::UnknownColumn("text".into()));
        assert_eq!(Copies::check(&CopiesParams { threshold: 0.0, ..CopiesParams::of("t") }), Err(CopiesError::Threshold));
    }

    #[test]
    fn weights_count_rows() {
        let csv = "text,n\nspam spam spam,3\nspam spam spam,2\nother words here,1\n";
        let t = table(csv);
        let weights: Vec<f64> = vec![3.0, 2.0, 1.0];
        let report = run_weighted::<Copies>(&t, &[0, 1, 2], Weights::per_row("n", &weights), &CopiesParams { min_rows: 2, ..CopiesParams::of("text") }).unwrap();
        assert_eq!(report.groups.len(), 1);
        assert_eq!(report.groups[0].rows, 5.0);
        assert_eq!(report.rows, 6.0);
    }
}
