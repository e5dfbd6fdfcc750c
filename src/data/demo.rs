//! The bundled demo dataset: a deterministic, seeded Trust & Safety export.
//!
//! One row is one user report with its moderation review, over [`DEMO_DAYS`] days starting
//! [`DEMO_START`]. The generator is the test data for every analysis, so the truths it injects
//! are fixed and listed in `tests/fixtures/DEMO.md` (kept in step with [`truths`]):
//!
//! * weekly (weekends +25 %) and daily (evening peak) seasonality and a slow upward trend;
//! * incident "scam wave": days 52–55, `reason=scam ∧ country=BR ∧ app_version=32.1`, from
//!   accounts under 7 days old;
//! * incident "harassment brigade": day 74 12:00 to day 75 18:00 UTC,
//!   `reason=harassment ∧ country=US ∧ platform=web`;
//! * a coordinated ring of 40 accounts (`A9…` ids) with near-identical behaviour (2–4 days
//!   old, ~12 followers, ~88 posts/day, Indonesia, Android 32.0, reported for spam);
//! * a rule-like label pattern: `prior_strikes >= 2 ∧ account_age_days < 30` is almost
//!   always a violation;
//! * QA double reviews (`review_type=qa`) with realistic reviewer disagreement, one lenient
//!   reviewer (`RV07`), and a leakage column (`actioned_at`, filled only when actioned);
//! * dirt: blank countries, `NA` follower counts, missing risk scores, exact duplicate rows,
//!   and two timestamps a year in the future;
//! * a prevalence audit: a stratified sample of reports (by the risk score's band, sampled at
//!   different rates) labelled by experts with the truth, and each band's population size;
//! * a launch with a known effect: from [`LAUNCH_DAY`] the content's views fall by
//!   [`LAUNCH_EFFECT`] in [`LAUNCH_COUNTRIES`] only;
//! * devices: each account has its own (a few pairs share one, as families do), a default id
//!   ([`DEFAULT_DEVICE`]) turns up on hundreds of accounts, and the ring's 40 accounts share six
//!   devices, chained so that they form one ring;
//! * the reported posts' text: a copy-paste campaign (every post reported in a half-hour window
//!   has [`CAMPAIGN_TEXT`], a code differing), the ring's spam ([`RING_TEXT`]), everyday phrases
//!   many accounts post ([`EVERYDAY`]), and otherwise random words.
//!
//! Everything is drawn from four ChaCha8 streams seeded by [`DemoParams::seed`] (the second for
//! the audit and views columns, the third for devices, the fourth for the posts' text, so earlier
//! columns kept their values when later ones were added); the same parameters always give
//! byte-identical CSV.

use std::io::{self, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::time::{days_from_civil, format_iso_ms, DAY_MS, HOUR_MS};

/// First day of the demo data: Monday 2026-08-03, 00:00 UTC.
pub const DEMO_START: (i64, u32, u32) = (2026, 8, 3);
/// Number of days covered.
pub const DEMO_DAYS: i64 = 91;
/// Rows in the demo the app opens with.
pub const DEFAULT_DEMO_ROWS: usize = 100_000;
/// Seed of the demo the app opens with.
pub const DEFAULT_DEMO_SEED: u64 = 7;

/// Size and seed of a generated demo dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoParams {
    pub rows: usize,
    pub seed: u64,
}

impl Default for DemoParams {
    fn default() -> Self {
        Self { rows: DEFAULT_DEMO_ROWS, seed: DEFAULT_DEMO_SEED }
    }
}

/// Column names of the demo CSV, in order.
pub const DEMO_COLUMNS: [&str; 24] = [
    "report_id", "created_at", "reporter_id", "reported_account_id", "content_id", "reason",
    "country", "platform", "app_version", "account_age_days", "follower_count", "posts_per_day",
    "prior_strikes", "risk_score", "review_type", "reviewer_id", "decision", "actioned_at",
    "views", "score_band", "band_population", "audit_label", "device_id", "content_text",
];

/// Day (from [`DEMO_START`]) a friction launch took effect: Monday 2026-10-05.
pub const LAUNCH_DAY: i64 = 63;
/// Countries the launch reached.
pub const LAUNCH_COUNTRIES: [&str; 3] = ["IN", "MX", "PH"];
/// The launch's relative effect on views in those countries (−30 %).
pub const LAUNCH_EFFECT: f64 = -0.30;
/// The device id an emulator or a privacy setting reports: shared by many unrelated accounts.
pub const DEFAULT_DEVICE: &str = "D00000000";
/// Devices the ring's accounts share.
const RING_DEVICES: usize = 6;

/// An account's own device (accounts `…01`, `…41`, `…81`… share their neighbour's, as a family
/// would).
fn own_device(account_id: &str) -> String {
    let n: u64 = account_id.get(1..).and_then(|digits| digits.parse().ok()).unwrap_or(0);
    device_name(if n % 40 == 1 { n - 1 } else { n })
}

/// A device id from a number (accounts' numbers; the ring's devices from 2⁴⁰ on, which no
/// account number reaches).
fn device_name(n: u64) -> String {
    format!("D{:08x}", (n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32)
}

/// The device of a row: the ring's accounts use two of the six ring devices each (account `i`
/// uses devices `i` and `i + 1`, modulo six), others their own or, now and then, the default.
fn device(rng: &mut ChaCha8Rng, account_id: &str) -> String {
    if let Some(idx) = account_id.strip_prefix("A9").and_then(|d| d.parse::<usize>().ok()) {
        let k = (idx + index_below(rng, 2)) % RING_DEVICES;
        return device_name((1 << 40) + k as u64);
    }
    if rng.gen::<f64>() < 0.005 {
        return DEFAULT_DEVICE.to_string();
    }
    own_device(account_id)
}

/// The copy-paste campaign: every report filed in this window (UTC ms from [`DEMO_START`]) is
/// of a post with the campaign's text, a short code differing ([`CAMPAIGN_TEXT`]).
pub const CAMPAIGN_START_MS: i64 = 45 * DAY_MS + 19 * HOUR_MS;
pub const CAMPAIGN_END_MS: i64 = CAMPAIGN_START_MS + HOUR_MS / 2;
/// The campaign's text; `{}` is a three-character code that differs between posts.
pub const CAMPAIGN_TEXT: &str = "🔥 FREE 10,000 followers in 24h!! Tap fastfollow.example/{} — offer ends tonight";
/// The ring's spam; `{}` is four digits.
pub const RING_TEXT: &str = "Earn $500 a day from home, message me on WhatsApp +62 812 {} for details";
/// Everyday phrases many unrelated accounts post, each on this share of the other rows.
pub const EVERYDAY: [&str; 4] = ["link in bio", "follow for follow", "who else is watching this in 2026?", "dm me for collab"];
const EVERYDAY_SHARE: f64 = 0.003;
const POST_WORDS: [&str; 96] = [
    "the", "a", "my", "our", "this", "new", "best", "last", "today", "tomorrow", "weekend", "morning",
    "night", "summer", "winter", "city", "beach", "game", "match", "team", "coach", "fans", "music",
    "album", "song", "concert", "movie", "show", "episode", "recipe", "dinner", "coffee", "pizza",
    "garden", "dog", "cat", "puppy", "baby", "family", "friends", "school", "exam", "work", "office",
    "trip", "flight", "train", "road", "photo", "video", "story", "news", "update", "sale", "shop",
    "dress", "shoes", "phone", "laptop", "camera", "book", "art", "painting", "class", "gym", "run",
    "bike", "park", "rain", "sun", "snow", "love", "hate", "great", "awful", "funny", "crazy",
    "amazing", "boring", "happy", "sad", "finally", "again", "never", "always", "really", "so",
    "very", "just", "and", "but", "with", "for", "at", "in", "on",
];

/// The text of a row's reported post: the campaign's in its window, the ring's spam for the
/// ring's accounts, now and then an everyday phrase, otherwise a post of 4–12 random words.
fn post_text(rng: &mut ChaCha8Rng, account_id: &str, since_start_ms: i64) -> String {
    let code = |rng: &mut ChaCha8Rng, alphabet: &[u8], n: usize| (0..n).map(|_| char::from(alphabet[index_below(rng, alphabet.len())])).collect::<String>();
    if (CAMPAIGN_START_MS..CAMPAIGN_END_MS).contains(&since_start_ms) {
        let text = CAMPAIGN_TEXT.replace("{}", &code(rng, b"abcdefghjkmnpqrstuvwxyz23456789", 3));
        // A third copied with other case or spacing.
        return match index_below(rng, 6) {
            0 => text.to_uppercase(),
            1 => text.replace(' ', "  "),
            _ => text,
        };
    }
    if account_id.starts_with("A9") {
        return RING_TEXT.replace("{}", &code(rng, b"0123456789", 4));
    }
    let everyday = rng.gen::<f64>();
    if everyday < EVERYDAY_SHARE * EVERYDAY.len() as f64 {
        return EVERYDAY[((everyday / EVERYDAY_SHARE) as usize).min(EVERYDAY.len() - 1)].to_string();
    }
    let words = 4 + index_below(rng, 9);
    let mut text = (0..words).map(|_| POST_WORDS[index_below(rng, POST_WORDS.len())]).collect::<Vec<_>>().join(" ");
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..];
    }
    text
}

/// Share of each risk-score band's primary reports that the audit labelled.
pub const AUDIT_RATES: [(&str, f64); 3] = [("low", 0.04), ("medium", 0.03), ("high", 0.01)];

/// What the audit and views columns estimate, computed from the hidden truth of every primary
/// review (duplicated rows and QA reviews are not new content).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AuditTruth {
    /// Primary reports per band, in the order of [`AUDIT_RATES`] (the `band_population` column).
    pub band_population: [u64; 3],
    /// Primary reports whose content truly violates.
    pub violating: u64,
    /// Primary reports.
    pub reports: u64,
    /// Views of truly violating content, and of all content.
    pub violating_views: f64,
    pub views: f64,
}

impl AuditTruth {
    /// The share of reported content that violates.
    pub fn prevalence(&self) -> f64 {
        self.violating as f64 / self.reports.max(1) as f64
    }

    /// The share of views of reported content that were views of violating content.
    pub fn view_prevalence(&self) -> f64 {
        self.violating_views / self.views.max(1.0)
    }
}

/// A known fact about the generated data that tests check analyses against.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub name: &'static str,
    pub start_ms: i64,
    pub end_ms: i64,
    /// The root cause as `(column, value)` pairs.
    pub cause: &'static [(&'static str, &'static str)],
}

/// The injected incidents, with their windows in UTC ms.
pub fn truths() -> Vec<Incident> {
    let start = start_ms();
    vec![
        Incident {
            name: "scam wave",
            start_ms: start + 52 * DAY_MS,
            end_ms: start + 56 * DAY_MS,
            cause: &[("reason", "scam"), ("country", "BR"), ("app_version", "32.1")],
        },
        Incident {
            name: "harassment brigade",
            start_ms: start + 74 * DAY_MS + 12 * HOUR_MS,
            end_ms: start + 75 * DAY_MS + 18 * HOUR_MS,
            cause: &[("reason", "harassment"), ("country", "US"), ("platform", "web")],
        },
    ]
}

/// Ids of the coordinated ring's accounts.
pub fn ring_account_ids() -> Vec<String> {
    (0..RING_SIZE).map(|idx| format!("A9{idx:05}")).collect()
}

const RING_SIZE: usize = 40;
const REASONS: [(&str, f64, f64); 9] = [
    // (reason, share of base reports, base violation probability)
    ("spam", 0.30, 0.55),
    ("harassment", 0.16, 0.45),
    ("scam", 0.10, 0.60),
    ("nudity", 0.10, 0.50),
    ("hate_speech", 0.08, 0.45),
    ("misinformation", 0.09, 0.30),
    ("violent_extremism", 0.03, 0.35),
    ("self_harm", 0.04, 0.40),
    ("other", 0.10, 0.15),
];
const COUNTRIES: [(&str, f64); 13] = [
    ("US", 0.27), ("IN", 0.14), ("BR", 0.10), ("ID", 0.08), ("MX", 0.06), ("GB", 0.06),
    ("PH", 0.05), ("DE", 0.05), ("NG", 0.04), ("TR", 0.04), ("FR", 0.04), ("JP", 0.03),
    ("CA", 0.04),
];
const PLATFORMS: [(&str, f64); 3] = [("android", 0.52), ("ios", 0.33), ("web", 0.15)];
const REVIEWERS: usize = 24;
const LENIENT_REVIEWER: usize = 7;

fn start_ms() -> i64 {
    let (y, m, d) = DEMO_START;
    days_from_civil(y, m, d) * DAY_MS
}

/// Draws an item with probability proportional to its weight (`table` must not be empty;
/// rounding at the top end falls to the last item).
fn pick<T: Copy>(rng: &mut ChaCha8Rng, table: &[(T, f64)]) -> T {
    let total: f64 = table.iter().map(|(_, w)| w).sum();
    let mut u = rng.gen::<f64>() * total;
    let mut chosen = None;
    for &(item, weight) in table {
        chosen = Some(item);
        if u < weight {
            break;
        }
        u -= weight;
    }
    chosen.unwrap_or_else(|| table[0].0)
}

/// App version in use on a mobile platform on `day` (staged roll-outs).
fn app_version(rng: &mut ChaCha8Rng, day: i64) -> &'static str {
    let weights: [(&str, f64); 4] = [
        ("31.0", (1.0 - day as f64 / 25.0).max(0.03)),
        ("31.2", if day < 8 { 0.1 } else { (1.0 - (day - 40) as f64 / 40.0).clamp(0.05, 1.0) }),
        ("32.0", if day < 30 { 0.0 } else { ((day - 30) as f64 / 20.0).min(1.0) }),
        ("32.1", if day < 50 { 0.0 } else { ((day - 50) as f64 / 15.0).min(1.2) }),
    ];
    pick(rng, &weights)
}

struct Account {
    id: String,
    age_days: i64,
    followers: i64,
    posts_per_day: f64,
    strikes: i64,
    country: &'static str,
    platform: &'static str,
}

struct Report {
    at_ms: i64,
    reason: &'static str,
    account: Account,
    app_version: &'static str,
    /// Whether the content truly violates policy (what reviewers try to see).
    violation: bool,
    /// Forced rows ignore the dirt injection (they carry the injected truths).
    clean: bool,
}

fn lognormal(rng: &mut ChaCha8Rng, mu: f64, sigma: f64) -> f64 {
    (mu + sigma * rng.sample::<f64, _>(StandardNormal)).exp()
}

/// A uniform index below `n`, drawn as a `u64`: `gen_range` over `usize` draws 32-bit numbers
/// on wasm32 and 64-bit ones natively, so the app's demo would differ from the native one.
fn index_below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    rng.gen_range(0..n as u64) as usize
}

fn random_account(rng: &mut ChaCha8Rng, pool: usize) -> Account {
    // Squaring the uniform skews towards low indices: some accounts are reported often.
    let idx = (rng.gen::<f64>().powi(2) * pool as f64) as usize;
    // Account attributes derive from the index through a dedicated stream, so an account
    // keeps them across its reports.
    let mut acc_rng = ChaCha8Rng::seed_from_u64(0xACC0_0000 ^ idx as u64);
    let strikes = match acc_rng.gen::<f64>() {
        u if u < 0.70 => 0,
        u if u < 0.85 => 1,
        u if u < 0.94 => 2,
        u if u < 0.98 => 3,
        _ => acc_rng.gen_range(4..=6),
    };
    Account {
        id: format!("A{idx:06}"),
        age_days: (lognormal(&mut acc_rng, 5.5, 1.3) as i64).clamp(0, 5000),
        followers: lognormal(&mut acc_rng, 4.0, 1.8) as i64,
        posts_per_day: (lognormal(&mut acc_rng, 0.3, 0.9) * 10.0).round() / 10.0,
        strikes,
        country: pick(&mut acc_rng, &COUNTRIES),
        platform: pick(&mut acc_rng, &PLATFORMS),
    }
}

/// Hourly intensity of base reports: trend × weekly × daily seasonality.
fn hourly_weights() -> Vec<f64> {
    (0..DEMO_DAYS * 24)
        .map(|hour| {
            let day = hour / 24;
            let hour_of_day = (hour % 24) as f64;
            let weekday = day % 7; // day 0 is a Monday
            let weekly = if weekday >= 5 { 1.25 } else { 1.0 };
            let daily = 1.0 + 0.45 * (std::f64::consts::TAU * (hour_of_day - 20.0) / 24.0).cos();
            let trend = 1.0 + 0.004 * day as f64;
            weekly * daily * trend
        })
        .collect()
}

fn sample_hour(rng: &mut ChaCha8Rng, cumulative: &[f64]) -> i64 {
    let total = cumulative.last().copied().unwrap_or(1.0);
    let u = rng.gen::<f64>() * total;
    cumulative.partition_point(|&c| c <= u).min(cumulative.len().saturating_sub(1)) as i64
}

fn violation_probability(reason: &str, account: &Account) -> f64 {
    let base = REASONS.iter().find(|(name, _, _)| *name == reason).map_or(0.3, |(_, _, p)| *p);
    if account.strikes >= 2 && account.age_days < 30 {
        return 0.96;
    }
    let mut p = base;
    if account.strikes >= 1 {
        p += 0.12;
    }
    if account.age_days < 14 {
        p += 0.10;
    }
    p.min(0.9)
}

/// Generates the reports (before review), sorted by time.
fn generate_reports(params: DemoParams, rng: &mut ChaCha8Rng) -> Vec<Report> {
    let start = start_ms();
    let weights = hourly_weights();
    let cumulative: Vec<f64> = weights
        .iter()
        .scan(0.0, |acc, w| {
            *acc += w;
            Some(*acc)
        })
        .collect();
    let pool = (params.rows / 3).max(50);
    let new_age_dist = |rng: &mut ChaCha8Rng| rng.gen_range(0..7);

    let scam_share = 0.027;
    let brigade_share = 0.014;
    let ring_share = 0.015;
    let mut reports = Vec::with_capacity(params.rows);
    for _ in 0..params.rows {
        let kind = rng.gen::<f64>();
        let report = if kind < scam_share {
            // Scam wave: triangular ramp over days 52–55.
            let offset = (rng.gen::<f64>() + rng.gen::<f64>()) / 2.0 * 4.0 * DAY_MS as f64;
            let idx = index_below(rng, pool.max(1));
            let account = Account {
                id: format!("A8{idx:05}"),
                age_days: new_age_dist(rng),
                followers: rng.gen_range(0..40),
                posts_per_day: (rng.gen_range(5.0..30.0_f64) * 10.0).round() / 10.0,
                strikes: 0,
                country: "BR",
                platform: if rng.gen::<f64>() < 0.8 { "android" } else { "ios" },
            };
            Report {
                at_ms: start + 52 * DAY_MS + (offset as i64) / 1000 * 1000,
                reason: "scam",
                account,
                app_version: "32.1",
                violation: rng.gen::<f64>() < 0.9,
                clean: true,
            }
        } else if kind < scam_share + brigade_share {
            let offset = rng.gen::<f64>() * 30.0 * HOUR_MS as f64;
            let mut account = random_account(rng, pool);
            account.country = "US";
            account.platform = "web";
            Report {
                at_ms: start + 74 * DAY_MS + 12 * HOUR_MS + (offset as i64) / 1000 * 1000,
                reason: "harassment",
                violation: rng.gen::<f64>() < 0.7,
                account,
                app_version: "",
                clean: true,
            }
        } else if kind < scam_share + brigade_share + ring_share {
            let idx = index_below(rng, RING_SIZE);
            let mut acc_rng = ChaCha8Rng::seed_from_u64(0x9000 + idx as u64);
            let account = Account {
                id: format!("A9{idx:05}"),
                age_days: acc_rng.gen_range(2..=4),
                followers: acc_rng.gen_range(10..=14),
                posts_per_day: (acc_rng.gen_range(85.0..91.0_f64) * 10.0).round() / 10.0,
                strikes: 0,
                country: "ID",
                platform: "android",
            };
            let hour = sample_hour(rng, &cumulative);
            Report {
                at_ms: start + hour * HOUR_MS + rng.gen_range(0..3600) * 1000,
                reason: "spam",
                account,
                app_version: "32.0",
                violation: true,
                clean: true,
            }
        } else {
            let hour = sample_hour(rng, &cumulative);
            let reason_table: Vec<(&'static str, f64)> = REASONS.iter().map(|(r, w, _)| (*r, *w)).collect();
            let reason = pick(rng, &reason_table);
            let account = random_account(rng, pool);
            let violation = rng.gen::<f64>() < violation_probability(reason, &account);
            let version = if account.platform == "web" { "" } else { app_version(rng, hour / 24) };
            Report {
                at_ms: start + hour * HOUR_MS + rng.gen_range(0..3600) * 1000,
                reason,
                account,
                app_version: version,
                violation,
                clean: false,
            }
        };
        reports.push(report);
    }
    reports.sort_by_key(|r| r.at_ms);
    reports
}

/// Reviewer `idx` decides whether a report violates policy.
fn review(rng: &mut ChaCha8Rng, reviewer: usize, violation: bool) -> bool {
    let (sensitivity, false_positive) =
        if reviewer == LENIENT_REVIEWER { (0.70, 0.03) } else { (0.93, 0.05) };
    if violation {
        rng.gen::<f64>() < sensitivity
    } else {
        rng.gen::<f64>() < false_positive
    }
}

/// Band of a risk score, as an index into [`AUDIT_RATES`].
fn band(score: f64) -> usize {
    if score >= 0.6 {
        2
    } else if score >= 0.3 {
        1
    } else {
        0
    }
}

/// Writes the demo dataset as CSV: a header and exactly `params.rows` data rows (QA reviews and
/// duplicated rows included).
pub fn write_demo_csv<W: Write>(params: DemoParams, out: W) -> io::Result<()> {
    // The band populations are only known once every row is drawn: draw them once without
    // building rows (the generator is deterministic), then write.
    let truth = generate(params, io::sink(), None)?;
    generate(params, out, Some(truth.band_population)).map(|_| ())
}

/// The truths behind the audit and views columns of the demo with these parameters.
pub fn audit_truth(params: DemoParams) -> AuditTruth {
    generate(params, io::sink(), None).unwrap_or_default()
}

/// Draws every row and writes it to `out` once the band populations are known; without them it
/// only counts (the same draws, no rows built).
fn generate<W: Write>(params: DemoParams, out: W, band_population: Option<[u64; 3]>) -> io::Result<AuditTruth> {
    let write = band_population.is_some();
    let band_population = band_population.unwrap_or_default();
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    // A second stream for the columns added later, so the earlier ones kept their values.
    let mut extra = ChaCha8Rng::seed_from_u64(params.seed ^ 0xA0D1_7000_0000);
    let mut devices = ChaCha8Rng::seed_from_u64(params.seed ^ 0xDE71_CE00_0000);
    let mut posts = ChaCha8Rng::seed_from_u64(params.seed ^ 0x7E47_0000_0000);
    let mut truth = AuditTruth::default();
    let qa_share = 0.05;
    let duplicate_share = 0.003;
    // Each report may add a QA row or a duplicate: generate enough reports that the output
    // reaches exactly `params.rows` rows, and stop there.
    let base_rows = ((params.rows as f64) / (1.0 + qa_share + duplicate_share) * 1.02).ceil() as usize + 10;
    let reports = generate_reports(DemoParams { rows: base_rows, seed: params.seed }, &mut rng);
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    writer.write_record(DEMO_COLUMNS)?;
    let mut written = 0usize;
    let future_rows = if params.rows >= 1000 { [base_rows / 3, base_rows / 3 * 2] } else { [usize::MAX; 2] };
    for (idx, report) in reports.iter().enumerate() {
        if written >= params.rows {
            break;
        }
        let account = &report.account;
        let dirty = !report.clean;
        let mut at_ms = report.at_ms;
        if future_rows.contains(&idx) {
            at_ms += 365 * DAY_MS; // a year typo in the export
        }
        // The model's score: informative but imperfect; blind to the ring's behaviour.
        let logit = if report.violation { 1.2 } else { -1.4 } + 0.9 * rng.sample::<f64, _>(StandardNormal)
            + if account.id.starts_with("A9") { -0.8 } else { 0.0 };
        let risk_score = 1.0 / (1.0 + (-logit).exp());
        let reviewer = index_below(&mut rng, REVIEWERS);
        let actioned = review(&mut rng, reviewer, report.violation);
        let decision = |actioned: bool, rng: &mut ChaCha8Rng| {
            if !actioned {
                "no_action"
            } else if rng.gen::<f64>() < 0.7 {
                "removed"
            } else {
                "restricted"
            }
        };
        let primary_decision = decision(actioned, &mut rng);
        let country = if dirty && rng.gen::<f64>() < 0.008 { "" } else { account.country };
        let followers = if dirty && rng.gen::<f64>() < 0.005 { "NA".to_string() } else { account.followers.to_string() };
        let score = if dirty && rng.gen::<f64>() < 0.003 { String::new() } else { format!("{risk_score:.3}") };
        let report_id = format!("R{:08}", idx + 1);
        let reporter = format!("U{:07}", index_below(&mut rng, (params.rows / 2).max(10)));
        let content_id = format!("C{:08}", 10_000_000 + idx * 7 % 89_999_999);
        let age = (account.age_days + (at_ms - start_ms()) / DAY_MS / 4).to_string();
        // Views before review: violating content spreads further, weekends bring 15 % more
        // everywhere, and the launch cuts them in its countries.
        let day = (at_ms - start_ms()).div_euclid(DAY_MS);
        let weekend = if day.rem_euclid(7) >= 5 { 1.15 } else { 1.0 };
        let mut views = lognormal(&mut extra, if report.violation { 5.0 } else { 4.4 }, 0.6) * weekend;
        if day >= LAUNCH_DAY && LAUNCH_COUNTRIES.contains(&account.country) {
            views *= 1.0 + LAUNCH_EFFECT;
        }
        let views = views.round();
        let band = band(risk_score);
        let audited = extra.gen::<f64>() < AUDIT_RATES[band].1;
        let audit_label = if !audited {
            ""
        } else if report.violation {
            "violating"
        } else {
            "benign"
        };
        let band_size = band_population[band].to_string();
        let device_id = device(&mut devices, &account.id);
        let content_text = post_text(&mut posts, &account.id, at_ms - start_ms());
        let record_for = |review_type: &str, reviewer: usize, decision: &str, review_ms: i64, audit_label: &str| {
            let actioned_at = if decision == "no_action" { String::new() } else { format_iso_ms(review_ms) };
            [
                report_id.clone(),
                format_iso_ms(at_ms),
                reporter.clone(),
                account.id.clone(),
                content_id.clone(),
                report.reason.to_string(),
                country.to_string(),
                account.platform.to_string(),
                report.app_version.to_string(),
                age.clone(),
                followers.clone(),
                format!("{:.1}", account.posts_per_day),
                account.strikes.to_string(),
                score.clone(),
                review_type.to_string(),
                format!("RV{reviewer:02}"),
                decision.to_string(),
                actioned_at,
                format!("{views}"),
                AUDIT_RATES[band].0.to_string(),
                band_size.clone(),
                audit_label.to_string(),
                device_id.clone(),
                content_text.clone(),
            ]
        };
        let review_ms = at_ms + rng.gen_range(600..36 * 3600) * 1000;
        let primary = write.then(|| record_for("primary", reviewer, primary_decision, review_ms, audit_label));
        if let Some(row) = &primary {
            writer.write_record(row)?;
        }
        written += 1;
        truth.band_population[band] += 1;
        truth.reports += 1;
        truth.views += views;
        if report.violation {
            truth.violating += 1;
            truth.violating_views += views;
        }
        if dirty && rng.gen::<f64>() < duplicate_share && written < params.rows {
            if let Some(row) = &primary {
                writer.write_record(row)?;
            }
            written += 1;
        }
        if rng.gen::<f64>() < qa_share && written < params.rows {
            let qa_reviewer = (reviewer + rng.gen_range(1..REVIEWERS as u64) as usize) % REVIEWERS;
            let qa_actioned = review(&mut rng, qa_reviewer, report.violation);
            let qa_decision = decision(qa_actioned, &mut rng);
            if write {
                writer.write_record(record_for("qa", qa_reviewer, qa_decision, review_ms + 2 * DAY_MS, ""))?;
            }
            written += 1;
        }
    }
    writer.flush()?;
    Ok(truth)
}

/// The demo dataset as CSV bytes.
pub fn demo_csv(params: DemoParams) -> Vec<u8> {
    let mut out = Vec::with_capacity(params.rows.saturating_mul(160));
    // Writing into a Vec cannot fail.
    let _ = write_demo_csv(params, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed() {
        let a = demo_csv(DemoParams { rows: 500, seed: 3 });
        let b = demo_csv(DemoParams { rows: 500, seed: 3 });
        let c = demo_csv(DemoParams { rows: 500, seed: 4 });
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn row_count_is_exact() {
        let csv = demo_csv(DemoParams { rows: 2000, seed: 1 });
        let lines = csv.iter().filter(|&&b| b == b'\n').count() - 1;
        assert_eq!(lines, 2000);
    }

    #[test]
    fn start_is_a_monday() {
        // 1970-01-01 was a Thursday (weekday 3 counting Monday as 0).
        let days = start_ms() / DAY_MS;
        assert_eq!((days + 3).rem_euclid(7), 0);
    }
}
