//! Root cause on harder generated exports, shaped like real ones and not tuned on: six category
//! dimensions with Zipf-like values, a version-like build number written as a decimal, an
//! outcome column (`enforced`) that depends on other dimensions but not on the incident,
//! weekday seasonality, incidents of 2–5 days against the two weeks before, causes of depth 1–3,
//! and one case in five with two causes at once (two values of one dimension).
//!
//! Scored by rows, as an analyst would check it: the rows the answer selects in the incident
//! window against the rows of the true cause there (Jaccard ≥ 0.95 counts as right).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashSet;
use vigil::analysis::rootcause::{explain_change, RcaParams, Segment, Window};
use vigil::analysis::series::Metric;
use vigil::data::filter::{evaluate_filter, Filter};
use vigil::data::load::{load_bytes, LoadOptions};
use vigil::data::table::Table;

use super::rootcause_random::zipf;

const DAY: i64 = 86_400_000;
const START: i64 = 1_780_000_000_000 / DAY * DAY;
const BUILDS: [&str; 5] = ["41.2", "41.3", "41.4", "42.0", "42.1"];

/// The dimensions: name and values.
fn dimensions() -> Vec<(&'static str, Vec<String>)> {
    let named = |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>();
    vec![
        ("market", ["BR", "US", "IN", "ID", "MX", "DE", "FR", "GB", "JP", "NG", "PH", "TR"].map(String::from).to_vec()),
        ("client", ["android", "ios", "web"].map(String::from).to_vec()),
        ("surface", ["feed", "search", "dm", "profile", "live"].map(String::from).to_vec()),
        ("reason", named("r", 8)),
        ("acct_tenure", ["<1d", "1-7d", "7-30d", "30d+"].map(String::from).to_vec()),
        ("lang", named("l", 10)),
        ("build", BUILDS.map(String::from).to_vec()),
    ]
}

/// A generated export and its truth: the incident window and the cause (one or two segments).
pub struct Case {
    pub csv: String,
    pub incident: Window,
    pub baseline: Window,
    pub causes: Vec<Vec<(String, String)>>,
}

/// What the incident does to the cause's rows.
#[derive(Clone, Copy, PartialEq)]
pub enum Shape {
    /// Extra rows: the count rises.
    Volume,
    /// The same rows, more of them `failed` (a column only this shape has): the failure rate
    /// rises (by 10–40 points over its baseline of about 5 %, more for a small cause).
    Rate,
}

pub fn generate_shaped(seed: u64, shape: Shape) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x4A5D_0018);
    let dims = dimensions();
    let days = 60;
    let inc_days = rng.gen_range(2..=5);
    let inc_start = rng.gen_range(21..days - inc_days);
    // Causes: depth 1–3 over distinct dimensions; one case in five has a second cause that
    // differs in one value of the first cause's first dimension.
    let depth = rng.gen_range(1..=3);
    let mut order: Vec<usize> = (0..dims.len()).collect();
    for i in 0..depth {
        let j = rng.gen_range(i..dims.len());
        order.swap(i, j);
    }
    let first: Vec<(usize, usize)> = order[..depth].iter().map(|&d| (d, zipf(&mut rng, dims[d].1.len().min(6)))).collect();
    let mut causes = vec![first.clone()];
    if rng.gen_bool(0.2) {
        let (d, v) = first[0];
        let other = (v + 1 + rng.gen_range(0..dims[d].1.len() - 1)) % dims[d].1.len();
        let mut second = first.clone();
        second[0] = (d, other);
        causes.push(second);
    }
    let per_day = 1_500.0;
    // Excess: 25 %–150 % of the cause segment's own volume, at least 3 % of the window's.
    let lift = [0.25, 0.5, 1.0, 1.5][rng.gen_range(0..4)];
    let mut csv = String::from("created_at,");
    csv.push_str(&dims.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(","));
    csv.push_str(if shape == Shape::Rate { ",enforced,failed\n" } else { ",enforced\n" });
    // Rates: the cause's failure rate rises by 10–40 points, and by at least enough for its extra
    // failures to be a tenth of the window's (about 5 % of all rows).
    let organic = |segment: &[(usize, usize)]| -> f64 {
        segment
            .iter()
            .map(|&(d, v)| {
                let n = dims[d].1.len();
                let total: f64 = (1..=n).map(|i| 1.0 / i as f64).sum();
                1.0 / (v + 1) as f64 / total
            })
            .product()
    };
    let drawn = if shape == Shape::Rate { [0.1, 0.2, 0.3, 0.4][rng.gen_range(0..4)] } else { 0.0 };
    let failing = f64::max(drawn, 0.1 * 0.05 / organic(&causes[0]).max(1e-9)).min(0.9);
    let in_incident = |day: i64| (inc_start as i64..(inc_start + inc_days) as i64).contains(&day);
    let row = |rng: &mut ChaCha8Rng, day: i64, forced: &[(usize, usize)], csv: &mut String| {
        let t = START + day * DAY + rng.gen_range(0..DAY);
        csv.push_str(&vigil::data::time::format_iso_ms(t));
        let mut values = Vec::new();
        for (d, (_, labels)) in dims.iter().enumerate() {
            let v = forced.iter().find(|(fd, _)| *fd == d).map_or_else(|| zipf(rng, labels.len()), |&(_, v)| v);
            values.push(v);
            csv.push(',');
            csv.push_str(&labels[v]);
        }
        // The outcome depends on the market and the client, never on the incident.
        let p = 0.15 + 0.5 * f64::from(u8::from(values[1] == 0)) + 0.02 * values[0] as f64;
        csv.push_str(if rng.gen_bool(p.min(0.95)) { ",true" } else { ",false" });
        if shape == Shape::Rate {
            // Failures: about 5 %, more on the web client; in the incident, more in the cause.
            let caused = in_incident(day) && causes.iter().any(|c| c.iter().all(|&(d, v)| values[d] == v));
            let p = 0.04 + 0.03 * f64::from(u8::from(values[1] == 2)) + if caused { failing } else { 0.0 };
            csv.push(',');
            csv.push_str(if rng.gen_bool(p.min(0.95)) { "true" } else { "false" });
        }
        csv.push('\n');
    };
    for day in 0..days {
        // Weekends are quieter; a slow upward trend.
        let weekday = (day + 4) % 7;
        let season = if weekday >= 5 { 0.65 } else { 1.0 };
        let n = (per_day * season * (1.0 + day as f64 / 400.0) * (1.0 + 0.1 * (rng.gen::<f64>() - 0.5))) as usize;
        for _ in 0..n {
            row(&mut rng, day as i64, &[], &mut csv);
        }
        if shape == Shape::Volume && (inc_start..inc_start + inc_days).contains(&day) {
            for cause in &causes {
                let extra = (n as f64 * (organic(cause) * lift).max(0.03)) as usize;
                for _ in 0..extra {
                    row(&mut rng, day as i64, cause, &mut csv);
                }
            }
        }
    }
    let incident = Window { start_ms: START + inc_start as i64 * DAY, end_ms: START + (inc_start + inc_days) as i64 * DAY };
    let baseline = Window { start_ms: incident.start_ms - 14 * DAY, end_ms: incident.start_ms };
    let causes = causes.iter().map(|c| c.iter().map(|&(d, v)| (dims[d].0.to_string(), dims[d].1[v].clone())).collect()).collect();
    Case { csv, incident, baseline, causes }
}

/// Rows of `table` in the incident window matching any of the segments (conditions as
/// column = value, compared as displayed).
fn rows_of(table: &Table, incident: &Window, segments: &[Vec<(String, String)>]) -> FxHashSet<u32> {
    let time = table.column("created_at").expect("time column");
    let in_window: Vec<u32> = (0..table.n_rows as u32)
        .filter(|&r| matches!(time.value(r as usize), vigil::data::table::Value::Timestamp(t) if t >= incident.start_ms && t < incident.end_ms))
        .collect();
    in_window
        .into_iter()
        .filter(|&r| segments.iter().any(|seg| seg.iter().all(|(c, v)| table.column(c).is_some_and(|col| col.value(r as usize).display() == *v))))
        .collect()
}

/// Rows the answer's segments select in the incident window (through their filter clauses).
fn rows_of_answer(table: &Table, incident: &Window, segments: &[&Segment]) -> FxHashSet<u32> {
    let time = table.column("created_at").expect("time column");
    let mut out = FxHashSet::default();
    for segment in segments {
        let filter = Filter { clauses: segment.conditions.iter().map(|c| c.clause.clone()).collect() };
        let Ok(rows) = evaluate_filter(table, &filter) else { continue };
        out.extend(rows.into_iter().filter(|&r| matches!(time.value(r as usize), vigil::data::table::Value::Timestamp(t) if t >= incident.start_ms && t < incident.end_ms)));
    }
    out
}

fn jaccard(a: &FxHashSet<u32>, b: &FxHashSet<u32>) -> f64 {
    let union = a.union(b).count();
    if union == 0 { 1.0 } else { a.intersection(b).count() as f64 / union as f64 }
}

#[test]
fn harder_generated_incidents_are_found_by_rows() {
    let accuracy = accuracy_by_rows(Shape::Volume, Metric::Count);
    assert!(accuracy >= 0.95, "top-1 by rows {accuracy}");
}

/// The same exports where the incident raises the share of failed rows in the cause instead of
/// adding rows: the failure rate's root cause.
#[test]
fn harder_generated_rate_incidents_are_found_by_rows() {
    let failed = vigil::data::filter::Clause::InSet { column: "failed".into(), values: vec!["true".into()], negate: false };
    let accuracy = accuracy_by_rows(Shape::Rate, Metric::Rate { condition: failed });
    assert!(accuracy >= 0.8, "top-1 by rows {accuracy}");
}

/// Top-1 by rows over 60 generated cases (`RCA_FIRST_SEED` moves them to held-out seeds,
/// `RCA_SEED` runs one).
fn accuracy_by_rows(shape: Shape, metric: Metric) -> f64 {
    let trials = 60;
    let mut right = 0;
    let mut misses = Vec::new();
    let first: u64 = std::env::var("RCA_FIRST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let only: Option<u64> = std::env::var("RCA_SEED").ok().and_then(|s| s.parse().ok());
    for seed in (first..first + trials).filter(|s| only.is_none_or(|o| o == *s)) {
        let case = generate_shaped(seed, shape);
        let table = load_bytes(case.csv.as_bytes(), LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let params = RcaParams { time_column: "created_at".into(), metric: metric.clone(), baseline: case.baseline.clone(), incident: case.incident.clone(), dimensions: None, max_depth: 3, explain_share: 0.8 };
        let report = explain_change(&table, &rows, &params).unwrap();
        let truth = rows_of(&table, &case.incident, &case.causes);
        let answer: Vec<&Segment> = report.causes.iter().filter_map(|&i| report.segments.get(i)).collect();
        let score = jaccard(&truth, &rows_of_answer(&table, &case.incident, &answer));
        if score >= 0.95 {
            right += 1;
        } else {
            misses.push(format!("seed {seed}: truth {:?}, answer {:?} (Jaccard {score:.2}); {}", case.causes, answer.iter().map(|s| s.describe()).collect::<Vec<_>>(), report.summary));
        }
    }
    let accuracy = right as f64 / trials as f64;
    eprintln!("root cause of {} on {trials} harder generated incidents: top-1 by rows {:.0} %", metric.describe(), accuracy * 100.0);
    for miss in &misses {
        eprintln!("  {miss}");
    }
    accuracy
}
