//! The demo dataset carries the truths that later analyses are tested against: check they are
//! really in the data (after a round trip through the loader), so those tests mean something.

use std::collections::HashMap;

use vigil::analysis::bsts::BstsSettings;
use vigil::analysis::contract::{complete, run_now, Unobserved};
use vigil::analysis::groups::{derive, DerivedColumn, Grouping};
use vigil::data::filter::Filter;
use vigil::analysis::copies::{Copies, CopiesParams};
use vigil::analysis::terms::{Period, Terms, TermsParams};
use vigil::analysis::impact::{Impact, ImpactParams};
use vigil::analysis::labels::LabelSpec;
use vigil::analysis::prevalence::{Design, Prevalence, PrevalenceParams};
use vigil::analysis::rings::{Rings, RingsParams};
use vigil::analysis::series::{Granularity, Metric};
use vigil::data::demo::{
    audit_truth, demo_csv, ring_account_ids, truths, DemoParams, CAMPAIGN_END_MS, CAMPAIGN_START_MS, CAMPAIGN_TEXT, RING_TEXT, DEFAULT_DEVICE, DEMO_COLUMNS, EVERYDAY,
    LAUNCH_COUNTRIES, LAUNCH_DAY, LAUNCH_EFFECT,
};
use vigil::data::load::{load_bytes, LoadOptions};
use vigil::data::time::{days_from_civil, DAY_MS};
use vigil::data::table::{ColumnType, Table, Value};

#[path = "../common/demo_fingerprint.rs"]
mod demo_fingerprint;

#[test]
fn the_default_demo_has_the_fingerprint_the_wasm_test_checks() {
    let csv = demo_csv(DemoParams::default());
    assert_eq!(csv.len(), demo_fingerprint::DEFAULT_DEMO_BYTES);
    assert_eq!(demo_fingerprint::fnv1a(&csv), demo_fingerprint::DEFAULT_DEMO_FNV1A);
}

fn demo(rows: usize) -> Table {
    load_bytes(&demo_csv(DemoParams { rows, seed: 7 }), LoadOptions::default()).unwrap().table
}

fn text(table: &Table, column: &str, row: usize) -> String {
    table.column(column).unwrap().value(row).display()
}

#[test]
fn schema_and_types() {
    let table = demo(20_000);
    assert_eq!(table.n_rows, 20_000);
    let names: Vec<_> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, DEMO_COLUMNS);
    let kind = |name: &str| table.column(name).unwrap().kind;
    assert_eq!(kind("created_at"), ColumnType::Timestamp);
    assert_eq!(kind("report_id"), ColumnType::Identifier);
    assert_eq!(kind("reason"), ColumnType::Category);
    assert_eq!(kind("app_version"), ColumnType::Category);
    assert_eq!(kind("risk_score"), ColumnType::Float);
    assert_eq!(kind("prior_strikes"), ColumnType::Integer);
    assert_eq!(kind("actioned_at"), ColumnType::Timestamp);
}

/// Share of rows in `[start, end)` matching every `(column, value)` pair, and the same
/// share in the week before.
fn cause_share(table: &Table, start: i64, end: i64, cause: &[(&str, &str)]) -> (f64, f64) {
    let created = table.column("created_at").unwrap();
    let week = 7 * 86_400_000;
    let (mut inside, mut inside_match, mut before, mut before_match) = (0, 0, 0, 0);
    for row in 0..table.n_rows {
        let Value::Timestamp(ms) = created.value(row) else { continue };
        let matches = cause.iter().all(|(col, val)| text(table, col, row) == *val);
        if (start..end).contains(&ms) {
            inside += 1;
            inside_match += usize::from(matches);
        } else if (start - week..start).contains(&ms) {
            before += 1;
            before_match += usize::from(matches);
        }
    }
    (inside_match as f64 / inside as f64, before_match as f64 / before as f64)
}

#[test]
fn incidents_are_concentrated_in_their_cause() {
    let table = demo(100_000);
    for incident in truths() {
        let (during, before) = cause_share(&table, incident.start_ms, incident.end_ms, incident.cause);
        assert!(during > 0.2, "{}: cause share during incident {during:.3}", incident.name);
        assert!(before < 0.02, "{}: cause share before incident {before:.3}", incident.name);
    }
}

#[test]
fn ring_accounts_behave_alike() {
    let table = demo(50_000);
    let ring: Vec<String> = ring_account_ids();
    let mut posts: HashMap<String, Vec<f64>> = HashMap::new();
    for row in 0..table.n_rows {
        let account = text(&table, "reported_account_id", row);
        if ring.contains(&account) {
            let Value::Float(p) = table.column("posts_per_day").unwrap().value(row) else { panic!("posts_per_day") };
            posts.entry(account).or_default().push(p);
            assert_eq!(text(&table, "country", row), "ID");
            assert_eq!(text(&table, "reason", row), "spam");
        }
    }
    assert!(posts.len() >= 35, "ring accounts seen: {}", posts.len());
    assert!(posts.values().flatten().all(|p| (85.0..=91.0).contains(p)));
}

#[test]
fn dirt_is_present() {
    let table = demo(20_000);
    let country = table.column("country").unwrap();
    assert!(country.count_valid() < table.n_rows, "some blank countries");
    let followers = table.column("follower_count").unwrap();
    assert!(followers.count_valid() < table.n_rows, "some NA follower counts");
    let qa = (0..table.n_rows).filter(|&r| text(&table, "review_type", r) == "qa").count();
    assert!((600..1400).contains(&qa), "QA reviews: {qa}");
    let ids: Vec<String> = (0..table.n_rows).map(|r| text(&table, "report_id", r)).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert!(unique.len() < ids.len(), "duplicate report ids from QA rows and duplicates");
}

/// The audit is a stratified sample: the stratified estimate covers the true share of violating
/// reports (which the generator knows), the naive share of the sample does not, and the
/// view-weighted estimate covers the true share of views.
#[test]
fn the_audit_estimates_the_true_prevalence() {
    let params = DemoParams::default();
    let truth = audit_truth(params);
    let table = load_bytes(&demo_csv(params), LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let label = LabelSpec { column: "audit_label".into(), positive: vec!["violating".into()] };
    let naive = run_now::<Prevalence>(&table, &rows, &PrevalenceParams::of(label.clone())).unwrap();
    let stratified = PrevalenceParams {
        stratum: Some("score_band".into()),
        design: Design::Population("band_population".into()),
        ..PrevalenceParams::of(label)
    };
    let report = run_now::<Prevalence>(&table, &rows, &stratified).unwrap();
    let (p, o) = (truth.prevalence(), &report.overall);
    assert!((0.45..0.6).contains(&p), "true prevalence {p}");
    assert!(o.low <= p && p <= o.high, "stratified {:.4} [{:.4}, {:.4}] misses the truth {p:.4}", o.estimate, o.low, o.high);
    assert!(naive.overall.high < p - 0.1, "the naive share {:?} is far below the truth {p}", naive.overall);
    let populations: Vec<f64> = report.strata.iter().map(|s| s.population.unwrap_or(f64::NAN)).collect();
    let mut expected: Vec<f64> = truth.band_population.iter().map(|&n| n as f64).collect();
    expected.sort_by(f64::total_cmp);
    let mut got = populations.clone();
    got.sort_by(f64::total_cmp);
    assert_eq!(got, expected, "each band's population is its count of primary reports");

    let views = run_now::<Prevalence>(&table, &rows, &PrevalenceParams { views: Some("views".into()), ..stratified }).unwrap();
    let (v, o) = (truth.view_prevalence(), &views.overall);
    assert!(v > p + 0.05, "violating content is seen more: {v} vs {p}");
    assert!(o.low <= v && v <= o.high, "view-weighted {:.4} [{:.4}, {:.4}] misses the truth {v:.4}", o.estimate, o.low, o.high);
}

/// The launch cut views by 30 % in its three countries from day 63: difference in differences
/// and the counterfactual both find that, with the other countries as controls.
#[test]
fn the_launch_has_its_known_effect() {
    let table = demo(100_000);
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let (y, m, d) = vigil::data::demo::DEMO_START;
    let params = ImpactParams {
        time_column: "created_at".into(),
        metric: Metric::Mean { column: "views".into() },
        granularity: Granularity::Day,
        split: "country".into(),
        treated: LAUNCH_COUNTRIES.iter().map(|c| c.to_string()).collect(),
        control: Vec::new(),
        intervention_ms: (days_from_civil(y, m, d) + LAUNCH_DAY) * DAY_MS,
        counterfactual: Some(BstsSettings::default()),
    };
    let report = run_now::<Impact>(&table, &rows, &params).unwrap();
    let did = &report.did;
    let relative = did.relative.unwrap();
    assert!((LAUNCH_EFFECT - 0.06..LAUNCH_EFFECT + 0.06).contains(&relative), "relative effect {relative}");
    assert!(did.high < 0.0 && did.p_value < 0.01, "{did:?}");
    let expected = did.treated_after * (1.0 - 1.0 / (1.0 + LAUNCH_EFFECT));
    assert!(did.low <= expected && expected <= did.high, "{did:?} misses {expected}");
    let cf = report.counterfactual.as_ref().unwrap();
    let r = &cf.average.relative;
    assert!(r.low <= LAUNCH_EFFECT && LAUNCH_EFFECT <= r.high, "counterfactual {:?}", cf.average);
    assert!(cf.p_value < 0.01);
}

/// The ring's 40 accounts share six devices: with the default settings they are the largest ring,
/// exactly, almost all actioned; the default device id (on hundreds of accounts) ties nobody.
#[test]
fn the_ring_shares_devices() {
    let table = demo(100_000);
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let label = LabelSpec { column: "decision".into(), positive: vec!["removed".into(), "restricted".into()] };
    let params = RingsParams { label: Some(label), time: Some("created_at".into()), ..RingsParams::of("reported_account_id", &["device_id"]) };
    let report = run_now::<Rings>(&table, &rows, &params).unwrap();
    let ring = &report.rings[0];
    let mut members = ring.members.clone();
    members.sort();
    assert_eq!(members, ring_account_ids());
    assert_eq!(ring.shared_values, vec![("device_id".to_string(), 6)]);
    assert!(ring.label_rate.unwrap() > 0.85, "{:?}", ring.label_rate);
    assert!(report.rings.iter().skip(1).all(|r| r.entities < 10), "{:?}", report.rings.iter().map(|r| r.entities).collect::<Vec<_>>());
    assert_eq!(report.excluded.len(), 1);
    assert_eq!(report.excluded[0].value, DEFAULT_DEVICE);
    assert!(report.excluded[0].entities > 200, "{:?}", report.excluded);

    // As a derived column (the tab's "Add as a column"): "ring 1" on exactly the ring's rows, and
    // every listed ring's rows under its own number.
    let spec = DerivedColumn { column: "ring".into(), from: Grouping::Rings(params), filter: Filter::default(), weight: None };
    let (column, _) = complete(derive(&table, &spec, &[], &[], &mut Unobserved)).unwrap().unwrap();
    let ring_ids: std::collections::HashSet<String> = ring_account_ids().into_iter().collect();
    for row in 0..table.n_rows {
        let in_ring = ring_ids.contains(&text(&table, "reported_account_id", row));
        assert_eq!(column.value(row).display() == "ring 1", in_ring, "row {row}");
    }
    for ring in &report.rings {
        let label = format!("ring {}", ring.id);
        assert_eq!((0..table.n_rows).filter(|&r| column.value(r).display() == label).count() as f64, ring.rows, "{label}");
    }
}

/// The copy-paste campaign: with the tab's defaults (text `content_text`, accounts
/// `reported_account_id`, 5-character shingles, similarity ≥ 0.7, co-posting within 10 minutes)
/// it is the first group, holding exactly the rows filed in its half hour; the ring's spam is
/// one group of its 40 accounts; each everyday phrase is one group of identical texts posted by
/// many accounts but never by more than a few within ten minutes.
#[test]
fn the_campaign_is_found_first() {
    let table = demo(100_000);
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let start = days_from_civil(2026, 8, 3) * DAY_MS;
    let in_window: Vec<u32> = rows
        .iter()
        .copied()
        .filter(|&r| matches!(table.column("created_at").unwrap().value(r as usize), Value::Timestamp(ms) if (CAMPAIGN_START_MS..CAMPAIGN_END_MS).contains(&(ms - start))))
        .collect();
    let accounts: std::collections::HashSet<String> = in_window.iter().map(|&r| text(&table, "reported_account_id", r as usize)).collect();
    let params = CopiesParams { entity: Some("reported_account_id".into()), time: Some("created_at".into()), ..CopiesParams::of("content_text") };
    let report = run_now::<Copies>(&table, &rows, &params).unwrap();
    let first = &report.groups[0];
    assert_eq!(first.rows, in_window.len() as f64);
    assert_eq!(first.accounts, Some(accounts.len()));
    assert!(first.examples[0].0.contains("fastfollow.example/"), "{:?}", first.examples);
    let co = first.co_posting.as_ref().unwrap();
    assert!(co.accounts >= 8, "{co:?}");
    let ring = report.groups.iter().find(|g| g.examples[0].0.contains("WhatsApp")).unwrap();
    assert_eq!(ring.accounts, Some(40));
    for phrase in EVERYDAY {
        let group = report.groups.iter().find(|g| g.examples[0].0 == phrase).unwrap_or_else(|| panic!("{phrase}"));
        assert_eq!(group.texts, 1);
        assert!(group.accounts.unwrap() > 100, "{phrase}: {:?}", group.accounts);
        assert!(group.co_posting.as_ref().unwrap().accounts < co.accounts / 2, "{phrase}: {:?}", group.co_posting);
    }
    println!(
        "campaign: {} rows, {} accounts, {} texts, co-posting {co:?}; {} groups, {} rows in groups",
        first.rows, accounts.len(), first.texts, report.groups_found, report.rows_in_groups
    );
    for g in report.groups.iter().take(8) {
        println!("{} rows {} accounts {:?} co {:?} {:?}", g.rows, g.texts, g.accounts, g.co_posting.as_ref().map(|c| c.accounts), g.examples[0].0);
    }
}

/// Emerging terms with the tab's defaults (text `content_text`, time `created_at`, per day,
/// s = 2, γ = 1): the campaign's words burst on its day, 2026-09-17, and lead the list; the
/// ring's spam words follow, far lighter; no everyday word bursts.
#[test]
fn the_campaign_words_burst_on_its_day() {
    let table = demo(100_000);
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let report = run_now::<Terms>(&table, &rows, &TermsParams::of("content_text", "created_at")).unwrap();
    assert_eq!(report.period, Period::Day);
    // The two timestamps a year in the future are left out, not stretched over.
    assert_eq!(report.period_starts.len(), 90);
    assert!(report.notes.iter().any(|n| n.starts_with("2 rows dated far outside")), "{:?}", report.notes);
    let campaign_day = days_from_civil(2026, 9, 17) * DAY_MS;
    for term in ["fastfollow", "followers", "offer", "tonight"] {
        let t = report.terms.iter().find(|t| t.term == term).unwrap_or_else(|| panic!("{term}"));
        assert_eq!(report.period_starts[t.bursts[0].first], campaign_day, "{term}");
        assert_eq!(t.bursts[0].first, t.bursts[0].last, "{term}");
    }
    // The campaign's nine words first; then only the ring's spam words, on its busiest day
    // (2026-09-10, twice its usual share), with a much lighter weight.
    let top: Vec<&str> = report.terms.iter().take(9).map(|t| t.term.as_str()).collect();
    assert!(top.iter().all(|t| CAMPAIGN_TEXT.to_lowercase().contains(t)), "{top:?}");
    assert_eq!(report.bursting, 15);
    let ring_day = days_from_civil(2026, 9, 10) * DAY_MS;
    for t in &report.terms[9..] {
        assert!(RING_TEXT.to_lowercase().contains(&t.term), "{}", t.term);
        assert_eq!(report.period_starts[t.bursts[0].first], ring_day, "{}", t.term);
        assert!(t.bursts[0].weight < report.terms[0].bursts[0].weight / 2.0);
    }
    println!("{} bursting of {} followed: {:?}", report.bursting, report.followed, report.terms.iter().map(|t| (&t.term, t.bursts.len(), t.bursts[0].weight)).collect::<Vec<_>>());
    // Bursting since the day after the ring's (the whole span still the baseline): the campaign's.
    let since = TermsParams { since_ms: Some(ring_day + DAY_MS), ..TermsParams::of("content_text", "created_at") };
    let later = run_now::<Terms>(&table, &rows, &since).unwrap();
    let mut words: Vec<&str> = later.terms.iter().map(|t| t.term.as_str()).collect();
    words.sort_unstable();
    assert_eq!(words, top.iter().copied().collect::<std::collections::BTreeSet<_>>().into_iter().collect::<Vec<_>>());
    assert_eq!(later.terms[0].base_rate, report.terms[0].base_rate);
}
