//! The demo dataset carries the truths that later analyses are tested against: check they are
//! really in the data (after a round trip through the loader), so those tests mean something.

use std::collections::HashMap;

use vigil::data::demo::{demo_csv, ring_account_ids, truths, DemoParams, DEMO_COLUMNS};
use vigil::data::load::{load_bytes, LoadOptions};
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
