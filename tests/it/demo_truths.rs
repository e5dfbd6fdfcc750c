//! The demo dataset carries the truths that later analyses are tested against: check they are
//! really in the data (after a round trip through the loader), so those tests mean something.

use std::collections::HashMap;

use vigil::analysis::bsts::BstsSettings;
use vigil::analysis::contract::run_now;
use vigil::analysis::impact::{Impact, ImpactParams};
use vigil::analysis::labels::LabelSpec;
use vigil::analysis::prevalence::{Design, Prevalence, PrevalenceParams};
use vigil::analysis::rings::{Rings, RingsParams};
use vigil::analysis::series::{Granularity, Metric};
use vigil::data::demo::{
    audit_truth, demo_csv, ring_account_ids, truths, DemoParams, DEFAULT_DEVICE, DEMO_COLUMNS, LAUNCH_COUNTRIES, LAUNCH_DAY,
    LAUNCH_EFFECT,
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
}
