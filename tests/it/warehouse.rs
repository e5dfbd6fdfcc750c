//! Weighted rows and the cube: a table and its exact aggregation (GROUP BY every column, with a
//! count) give the same trends and root causes; the cube Vigil computes and the cube DuckDB
//! computes from the SQL Vigil writes are equal, and every dialect's SQL parses as its own
//! (sqlglot) and means the same once transpiled to DuckDB (`tests/reference/warehouse_reference.py`;
//! Spark runs in `make test-warehouse`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil::analysis::cluster::{Algorithm, Cluster, ClusterParams, ClusterReport, Encoding, FeatureSpec};
use vigil::analysis::backtest::{Backtest, BacktestParams, RuleSpec, ScoreParams, Scores};
use vigil::analysis::contract::{run_weighted, Weights};
use vigil::analysis::labels::{LabelParams, LabelSpec, Labels};
use vigil::analysis::profile::{Profile, ProfileParams};
use vigil::analysis::regression::{Regression, RegressionKind, RegressionParams, RegressionReport};
use vigil::analysis::rootcause::{RcaParams, RcaReport, RootCause, Window};
use vigil::analysis::series::{Granularity, Metric, MetricKind, Series};
use vigil::analysis::trend::{Trend, TrendReport, TrendSettings};
use vigil::data::filter::{evaluate_filter, Clause, Filter};
use vigil::data::load::{load_bytes, LoadOptions};
use vigil::data::table::Table;
use vigil::data::time::DAY_MS;
use vigil::data::weights::weight_column;
use vigil::warehouse::sql::{cube_sql, Dialect};
use vigil::warehouse::stream::{stream_cube, StreamSettings};
use vigil::warehouse::{aggregate_csv, recognise, CubeSpec};

/// March 2026 onwards, 70 days.
const START_MS: i64 = 1_772_323_200_000;
const DAYS: i64 = 70;

/// Seeded events at midnight UTC each day (so that a GROUP BY merges them) with an incident: on days 50–52, Indonesian Android reports of
/// scams triple.
pub fn raw_events(rows: usize, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = String::from("created_at,country,platform,reason,flagged,views,reports\n");
    let pick = |rng: &mut ChaCha8Rng, list: &[&'static str], weights: &[f64]| -> &'static str {
        let total: f64 = weights.iter().sum();
        let mut u = rng.gen::<f64>() * total;
        for (item, w) in list.iter().zip(weights) {
            if u < *w {
                return item;
            }
            u -= w;
        }
        list[list.len() - 1]
    };
    let mut written = 0;
    while written < rows {
        let day = rng.gen_range(0..DAYS);
        let country = pick(&mut rng, &["BR", "US", "ID", "IN", "DE", ""], &[30.0, 25.0, 15.0, 15.0, 10.0, 5.0]);
        let platform = pick(&mut rng, &["ios", "android", "web"], &[35.0, 45.0, 20.0]);
        let reason = pick(&mut rng, &["scam", "spam", "abuse"], &[30.0, 50.0, 20.0]);
        let incident = (50..53).contains(&day) && country == "ID" && platform == "android" && reason == "scam";
        let copies = if incident { 3 } else { 1 };
        for _ in 0..copies {
            let t = START_MS + day * DAY_MS;
            let iso = vigil::data::time::format_iso_ms(t);
            let flagged = rng.gen_bool(if reason == "scam" { 0.6 } else { 0.2 });
            let views = rng.gen_range(1..3);
            let reports = if rng.gen_bool(0.1) { String::new() } else { rng.gen_range(1..3).to_string() };
            out.push_str(&format!("{iso},{country},{platform},{reason},{flagged},{views},{reports}\n"));
            written += 1;
        }
    }
    out
}

fn load(csv: &str) -> Table {
    load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
}

/// GROUP BY every column, with a count `n`.
fn group_by_every_column(table: &Table) -> String {
    let mut counts: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for row in 0..table.n_rows {
        *counts.entry(table.row_text(row)).or_default() += 1;
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    header.push("n".into());
    out.write_record(&header).unwrap();
    for (values, n) in counts {
        let mut record = values;
        record.push(n.to_string());
        out.write_record(&record).unwrap();
    }
    String::from_utf8(out.into_inner().unwrap()).unwrap()
}

/// Two cube CSVs hold the same rows in the same order, numbers to 1e-9 relative.
fn same_cube_csv(a: &str, b: &str, what: &str) {
    let (a_lines, b_lines): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(a_lines.len(), b_lines.len(), "{what}: row counts differ");
    for (x, y) in a_lines.iter().zip(&b_lines) {
        for (p, q) in x.split(',').zip(y.split(',')) {
            let same = match (p.parse::<f64>(), q.parse::<f64>()) {
                (Ok(p), Ok(q)) => (p - q).abs() <= 1e-9 * p.abs().max(q.abs()).max(1.0),
                _ => p == q,
            };
            assert!(same, "{what}:\n{x}\n{y}");
        }
    }
}

fn close(a: f64, b: f64, what: &str) {
    let same = (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    assert!(same, "{what}: {a} ≠ {b}");
}

/// `complete`: whether the periods the data covers fully must agree too (a cube cannot tell a
/// period its data starts late in: its rows carry the period, not the time).
fn same_series(a: &Series, b: &Series, what: &str, complete: bool) {
    assert_eq!(a.values.len(), b.values.len(), "{what}: periods");
    for (i, (x, y)) in a.values.iter().zip(&b.values).enumerate() {
        close(*x, *y, &format!("{what}, period {i}"));
    }
    assert_eq!(a.groups.len(), b.groups.len(), "{what}: groups");
    for (g, h) in a.groups.iter().zip(&b.groups) {
        assert_eq!(g.label, h.label, "{what}: group order");
        for (i, (x, y)) in g.values.iter().zip(&h.values).enumerate() {
            close(*x, *y, &format!("{what}, {} period {i}", g.label));
        }
    }
    if complete {
        assert_eq!(a.complete, b.complete, "{what}: complete periods");
    }
}

fn trend(table: &Table, rows: &[u32], weights: Weights<'_>, settings: &TrendSettings) -> TrendReport {
    run_weighted::<Trend>(table, rows, weights, settings).unwrap()
}

fn same_trend(a: &TrendReport, b: &TrendReport, what: &str) {
    same_series(&a.series, &b.series, what, true);
    let incidents = |r: &TrendReport| vigil::analysis::trend::found_incidents(r).into_iter().map(|i| (i.incident.start_ms, i.incident.end_ms)).collect::<Vec<_>>();
    assert_eq!(incidents(a), incidents(b), "{what}: incidents");
}

/// A summary of the rows, in the words of the weighted side (a count counts events).
fn as_events(summary: &str) -> String {
    summary.replace(" rows ", " events ")
}

/// `a` from rows, `b` from weighted rows.
fn same_cause(a: &RcaReport, b: &RcaReport, what: &str) {
    assert_eq!(as_events(&a.summary), b.summary, "{what}: summary");
    close(a.totals.delta, b.totals.delta, &format!("{what}: change"));
    let show = |r: &RcaReport| r.segments.iter().map(|s| format!("{:?} {:.4} p={:.3e}", s.conditions.iter().map(|c| format!("{}={}", c.column, c.value)).collect::<Vec<_>>(), s.delta, s.p_value)).collect::<Vec<_>>().join("\n");
    assert_eq!(a.segments.len(), b.segments.len(), "{what}: segments\n{}\n---\n{}", show(a), show(b));
    for (s, t) in a.segments.iter().zip(&b.segments) {
        assert_eq!(s.conditions, t.conditions, "{what}: segment");
        close(s.delta, t.delta, &format!("{what}: change in {:?}", s.conditions));
        close(s.p_value, t.p_value, &format!("{what}: p-value of {:?}", s.conditions));
    }
    assert_eq!(a.dimensions.len(), b.dimensions.len(), "{what}: dimensions");
    for (d, e) in a.dimensions.iter().zip(&b.dimensions) {
        assert_eq!(d.column, e.column, "{what}: dimension order");
        close(d.surprise, e.surprise, &format!("{what}: surprise of {}", d.column));
    }
}

fn settings(metric: MetricKind, column: Option<&str>) -> TrendSettings {
    TrendSettings { time: Some("created_at".into()), metric, column: column.map(Into::into), granularity: Granularity::Day, ..TrendSettings::default() }
}

fn metrics() -> Vec<(&'static str, TrendSettings)> {
    vec![
        ("count", settings(MetricKind::Count, None)),
        ("sum", settings(MetricKind::Sum, Some("views"))),
        ("mean", settings(MetricKind::Mean, Some("views"))),
        ("median", settings(MetricKind::Median, Some("views"))),
        ("p95", settings(MetricKind::P95, Some("reports"))),
        ("distinct", settings(MetricKind::Distinct, Some("country"))),
        ("rate", TrendSettings { rate_value: Some("scam".into()), ..settings(MetricKind::Rate, Some("reason")) }),
        ("ratio", TrendSettings { denominator: Some("views".into()), ..settings(MetricKind::Ratio, Some("reports")) }),
        ("split count", TrendSettings { split: Some("country".into()), top: 3, ..settings(MetricKind::Count, None) }),
        ("weekly rate in São Paulo", TrendSettings { rate_value: Some("scam".into()), granularity: Granularity::Week, time_zone: Some("America/Sao_Paulo".into()), ..settings(MetricKind::Rate, Some("reason")) }),
    ]
}

fn explaining(metric: Metric, dimensions: Option<Vec<String>>, time: &str) -> RcaParams {
    let day = |d: i64| START_MS + d * DAY_MS;
    RcaParams { dimensions, ..RcaParams::explaining(time.into(), metric, Window { start_ms: day(36), end_ms: day(50) }, Window { start_ms: day(50), end_ms: day(53) }) }
}

fn rca_metrics() -> Vec<(&'static str, Metric)> {
    vec![
        ("count", Metric::Count),
        ("sum", Metric::Sum { column: "views".into() }),
        ("rate", Metric::Rate { condition: Clause::InSet { column: "reason".into(), values: vec!["scam".into()], negate: false } }),
        ("ratio", Metric::Ratio { numerator: "reports".into(), denominator: "views".into() }),
    ]
}

#[test]
fn a_table_and_its_exact_aggregation_give_the_same_answers() {
    let raw = load(&raw_events(100_000, 11));
    let all: Vec<u32> = (0..raw.n_rows as u32).collect();
    let aggregated = load(&group_by_every_column(&raw));
    assert!(aggregated.n_rows * 2 < raw.n_rows, "the aggregation merges rows: {} of {}", aggregated.n_rows, raw.n_rows);
    let weights = weight_column(&aggregated, "n").unwrap();
    let w = Weights::per_row("n", &weights);
    let cells: Vec<u32> = (0..aggregated.n_rows as u32).collect();
    for (what, s) in metrics() {
        same_trend(&trend(&raw, &all, Weights::ONE, &s), &trend(&aggregated, &cells, w, &s), what);
    }
    // Every column is a dimension on both sides (the count is the weight, not a dimension).
    for (what, metric) in rca_metrics() {
        let params = explaining(metric, None, "created_at");
        let a = run_weighted::<RootCause>(&raw, &all, Weights::ONE, &params).unwrap();
        let b = run_weighted::<RootCause>(&aggregated, &cells, w, &params).unwrap();
        same_cause(&a, &b, what);
        if what == "count" {
            assert!(a.summary.contains("ID") && a.summary.contains("android"), "{}", a.summary);
        }
    }
    same_models(&raw, &all, &aggregated, &cells, w);
}

/// Equal JSON, numbers to 1e-9 relative.
fn same_json(a: &serde_json::Value, b: &serde_json::Value, path: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => close(x.as_f64().unwrap(), y.as_f64().unwrap(), path),
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: lengths");
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                same_json(u, v, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>(), "{path}: keys");
            for (k, u) in x {
                same_json(u, &y[k], &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

/// Profile, ground truth, rules, score curves and regressions: counts of events are whole numbers on both sides, so
/// the rules' and the curves' reports are equal to the bit; fits to 1e-9.
fn same_models(raw: &Table, all: &[u32], aggregated: &Table, cells: &[u32], w: Weights<'_>) {
    let label = LabelSpec { column: "flagged".into(), positive: vec!["true".into()] };
    let rules = BacktestParams {
        rules: vec![
            RuleSpec { name: "scam views".into(), text: "reason = \"scam\" and views >= 2".into() },
            RuleSpec { name: "Indonesia".into(), text: "country = \"ID\"".into() },
            RuleSpec { name: "reported".into(), text: "reports >= 2".into() },
        ],
        label: label.clone(),
        time_column: None,
    };
    let a = run_weighted::<Backtest>(raw, all, Weights::ONE, &rules).unwrap();
    let b = run_weighted::<Backtest>(aggregated, cells, w, &rules).unwrap();
    assert!(a.rules.iter().all(Result::is_ok) && a.rules[0].as_ref().unwrap().daily.len() >= DAYS as usize, "{a:?}");
    assert_eq!(a, b, "rules");
    // The profile: every number within 1e-9, the weight column's own card and alerts aside.
    let settings = ProfileParams { key: Some("reports".into()), ..ProfileParams::default() };
    let a = serde_json::to_value(run_weighted::<Profile>(raw, all, Weights::ONE, &settings).unwrap()).unwrap();
    let mut b = serde_json::to_value(run_weighted::<Profile>(aggregated, cells, w, &settings).unwrap()).unwrap();
    for list in ["columns", "alerts"] {
        b[list].as_array_mut().unwrap().retain(|entry| entry.get("name").or(entry.get("column")).and_then(|n| n.as_str()) != Some("n"));
    }
    // The weighted side counts events in its messages where the raw side counts rows.
    let b: serde_json::Value = serde_json::from_str(&b.to_string().replace(" events", " rows").replace("earlier event", "earlier row")).unwrap();
    assert!(a["duplicate_rows"].as_f64().unwrap() > 1000.0 && !a["correlations"].as_array().unwrap().is_empty(), "{a}");
    same_json(&a, &b, "profile");
    let checks = LabelParams { label: "flagged".into(), positive: vec!["true".into()], item: None, reviewer: None, time: None, now_ms: None };
    let a = run_weighted::<Labels>(raw, all, Weights::ONE, &checks).unwrap();
    assert!(a.over_time.as_ref().is_some_and(|t| t.totals.len() >= DAYS as usize), "{a:?}");
    assert_eq!(a, run_weighted::<Labels>(aggregated, cells, w, &checks).unwrap(), "ground truth");
    let score = ScoreParams { score: "reports".into(), label: label.clone(), threshold: None, min_precision: 0.5 };
    assert_eq!(run_weighted::<Scores>(raw, all, Weights::ONE, &score).unwrap(), run_weighted::<Scores>(aggregated, cells, w, &score).unwrap(), "score curves");
    let same_fit = |a: &RegressionReport, b: &RegressionReport, what: &str| {
        close(a.rows, b.rows, what);
        close(a.dropped, b.dropped, what);
        for (x, y) in a.coefficients.iter().zip(&b.coefficients) {
            assert_eq!(x.name, y.name, "{what}");
            for (u, v, part) in [(x.estimate, y.estimate, "estimate"), (x.std_error, y.std_error, "standard error"), (x.p_value, y.p_value, "p-value")] {
                close(u, v, &format!("{what}: {part} of {}", x.name));
            }
        }
        for (u, v) in [(a.r_squared, b.r_squared), (a.log_loss, b.log_loss), (a.pseudo_r_squared, b.pseudo_r_squared), (a.auc, b.auc)] {
            close(u.unwrap_or(0.0), v.unwrap_or(0.0), what);
        }
    };
    let predictors = vec!["country".to_string(), "platform".to_string(), "reports".to_string()];
    for (what, params) in [
        ("linear regression", RegressionParams { kind: RegressionKind::Linear, target: Some("views".into()), label: None, predictors: predictors.clone() }),
        ("logistic regression", RegressionParams { kind: RegressionKind::Logistic, target: None, label: Some(label.clone()), predictors: vec!["reason".into(), "views".into(), "platform".into()] }),
    ] {
        let a = run_weighted::<Regression>(raw, all, Weights::ONE, &params).unwrap();
        let b = run_weighted::<Regression>(aggregated, cells, w, &params).unwrap();
        same_fit(&a, &b, what);
    }
    same_clusters(raw, all, aggregated, cells, w, &label);
}

/// Clusters: entities (countries) from events, and rows as events. Whole weights within the fit
/// sample are expanded, so both sides fit the same points (in another order): the same
/// clusters, sizes, shares, shifts, category shares, label rates and inertia.
fn same_clusters(raw: &Table, all: &[u32], aggregated: &Table, cells: &[u32], w: Weights<'_>, label: &LabelSpec) {
    let feature = |column: &str, encoding| FeatureSpec { column: column.into(), encoding };
    let kmeans = |k| Algorithm::KMeans { k: Some(k), n_init: 4, max_iter: 300 };
    let cases = [
        (
            "countries",
            ClusterParams {
                entity: Some("country".into()),
                features: vec![feature("views", Encoding::Numeric), feature("flagged", Encoding::Numeric), feature("platform", Encoding::OneHot)],
                algorithm: kmeans(2),
                label: Some(label.clone()),
                scan_k: false,
                ..ClusterParams::default()
            },
        ),
        (
            "rows",
            ClusterParams {
                features: vec![feature("views", Encoding::Numeric), feature("reports", Encoding::Numeric), feature("reason", Encoding::OneHot), feature("platform", Encoding::Frequency)],
                algorithm: kmeans(3),
                label: Some(label.clone()),
                scan_k: false,
                ..ClusterParams::default()
            },
        ),
    ];
    // An entity's count is of "rows" on the raw side and of "events" on the weighted one.
    let profiles = |r: &ClusterReport| {
        let text = serde_json::to_string(&r.clusters.iter().map(|c| (c.events, c.share, c.rows, c.label_rate, &c.shifts, &c.categories)).collect::<Vec<_>>()).unwrap();
        serde_json::from_str::<serde_json::Value>(&text.replace("\"feature\":\"events\"", "\"feature\":\"rows\"")).unwrap()
    };
    for (what, params) in cases {
        let a = run_weighted::<Cluster>(raw, all, Weights::ONE, &params).unwrap();
        let b = run_weighted::<Cluster>(aggregated, cells, w, &params).unwrap();
        assert!(b.weighted && !a.weighted && a.k == b.k, "{what}");
        close(a.events, b.events, what);
        close(a.inertia.unwrap_or(0.0), b.inertia.unwrap_or(0.0), &format!("{what}: inertia"));
        assert_eq!(a.features.len(), b.features.len(), "{what}");
        same_json(&profiles(&a), &profiles(&b), what);
        eprintln!("{what}: {:?}", a.clusters.iter().map(|c| &c.summary).collect::<Vec<_>>());
    }
}

/// The Gaussian mixture and DBSCAN fit on at most 20,000 points: on 15,000 events and their
/// aggregation, both fit every event.
#[test]
fn mixtures_and_dbscan_fit_an_aggregation_like_its_rows() {
    let raw = load(&raw_events(15_000, 12));
    let all: Vec<u32> = (0..raw.n_rows as u32).collect();
    let aggregated = load(&group_by_every_column(&raw));
    let weights = weight_column(&aggregated, "n").unwrap();
    let cells: Vec<u32> = (0..aggregated.n_rows as u32).collect();
    let feature = |column: &str, encoding| FeatureSpec { column: column.into(), encoding };
    let cases = [
        (
            "rows, Gaussian mixture",
            ClusterParams {
                features: vec![feature("views", Encoding::Numeric), feature("reports", Encoding::Numeric), feature("reason", Encoding::Frequency)],
                algorithm: Algorithm::Gmm { k: 2, max_iter: 100 },
                scan_k: false,
                ..ClusterParams::default()
            },
        ),
        (
            "rows, DBSCAN",
            ClusterParams {
                features: vec![feature("views", Encoding::Numeric), feature("reports", Encoding::Numeric), feature("reason", Encoding::Frequency)],
                algorithm: Algorithm::Dbscan { eps: Some(0.5), min_points: 10 },
                scan_k: false,
                ..ClusterParams::default()
            },
        ),
    ];
    for (what, params) in cases {
        let a = run_weighted::<Cluster>(&raw, &all, Weights::ONE, &params).unwrap();
        let b = run_weighted::<Cluster>(&aggregated, &cells, Weights::per_row("n", &weights), &params).unwrap();
        assert_eq!(a.k, b.k, "{what}");
        for (x, y) in a.clusters.iter().zip(&b.clusters) {
            close(x.events, y.events, what);
            same_json(&serde_json::to_value(&x.shifts).unwrap(), &serde_json::to_value(&y.shifts).unwrap(), what);
        }
        eprintln!("{what}: {:?}", a.clusters.iter().map(|c| &c.summary).collect::<Vec<_>>());
    }
}

/// The cube of the raw rows, loaded and recognised as the app does: its finest rows and weights.
fn cube_view(csv: &str) -> (Table, Vec<u32>, Vec<f64>, Vec<String>) {
    let mut cube = load(csv);
    let info = recognise(&mut cube).unwrap().expect("recognised as a cube");
    let rows = evaluate_filter(&cube, &Filter { clauses: vec![info.finest] }).unwrap();
    let weights = weight_column(&cube, &info.weight).unwrap();
    (cube, rows, weights, info.measures)
}

/// The cube of the events: views and reports (a few values each, so dimensions by default) as
/// measures, summed.
fn spec(raw: &Table, granularity: Granularity, zone: Option<&str>, filter: Filter) -> CubeSpec {
    let mut spec = CubeSpec::for_view(raw, "created_at", granularity, 0, zone.map(Into::into), None, filter).unwrap();
    assert_eq!(spec.dimensions, ["country", "platform", "reason", "flagged", "views", "reports"]);
    spec.dimensions.truncate(4);
    spec.measures = vec!["views".into(), "reports".into()];
    spec
}

#[test]
fn the_cube_answers_trends_and_root_causes_like_the_rows() {
    let raw = load(&raw_events(60_000, 12));
    let all: Vec<u32> = (0..raw.n_rows as u32).collect();
    let daily = spec(&raw, Granularity::Day, None, Filter::default());
    let (cube, rows, weights, measures) = cube_view(&aggregate_csv(&raw, &all, Weights::ONE, &daily).unwrap());
    let w = Weights::per_row("events", &weights).with_measures(&measures);
    let on_cube = |s: &TrendSettings| TrendSettings { time: Some("ts_bucket".into()), ..s.clone() };
    for (what, s) in metrics().into_iter().filter(|(what, _)| ["count", "sum", "rate", "ratio", "split count"].contains(what)) {
        same_trend(&trend(&raw, &all, Weights::ONE, &s), &trend(&cube, &rows, w, &on_cube(&s)), &format!("cube {what}"));
    }
    for (what, metric) in rca_metrics() {
        // The text columns but the metric's own, as the root cause picks them without being told.
        let dims = ["country", "platform", "reason", "flagged"].into_iter().filter(|d| !metric.columns().contains(d)).map(String::from).collect();
        let a = run_weighted::<RootCause>(&raw, &all, Weights::ONE, &explaining(metric.clone(), Some(dims), "created_at")).unwrap();
        // On the cube, the dimensions are its text columns without being told.
        let b = run_weighted::<RootCause>(&cube, &rows, w, &explaining(metric, None, "ts_bucket")).unwrap();
        same_cause(&a, &b, &format!("cube {what}"));
    }

    // Weekly periods in a zone with a filter: the cube's periods are the zone's wall clock.
    let filter = Filter { clauses: vec![Clause::InSet { column: "platform".into(), values: vec!["web".into()], negate: true }] };
    let weekly = spec(&raw, Granularity::Week, Some("America/Sao_Paulo"), filter.clone());
    let (cube, rows, weights, _) = cube_view(&aggregate_csv(&raw, &all, Weights::ONE, &weekly).unwrap());
    let filtered = evaluate_filter(&raw, &filter).unwrap();
    let s = TrendSettings { granularity: Granularity::Week, time_zone: Some("America/Sao_Paulo".into()), ..settings(MetricKind::Count, None) };
    let a = trend(&raw, &filtered, Weights::ONE, &s);
    let b = trend(&cube, &rows, Weights::per_row("events", &weights), &TrendSettings { time_zone: None, ..on_cube(&s) });
    same_series(&a.series, &b.series, "weekly in São Paulo", false);
    let labels = |r: &TrendReport| r.series.starts_ms.iter().map(|&t| r.series.format_start(t)).collect::<Vec<_>>();
    assert_eq!(labels(&a), labels(&b));
}

/// Writes `rows` seeded events, Vigil's cubes and every dialect's SQL for four views, has
/// `warehouse_reference.py` run them (DuckDB; Spark too when `spark`), then runs trends and root
/// causes on the engines' daily cubes: they must equal those on the raw rows.
fn check_warehouse(rows: usize, spark: bool) {
    let csv = raw_events(rows, 13);
    let raw = load(&csv);
    let all: Vec<u32> = (0..raw.n_rows as u32).collect();
    let dir = std::env::temp_dir().join(format!("vigil-warehouse-{}-{rows}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("events.csv"), &csv).unwrap();
    let rule = Clause::Rule { name: "r".into(), text: "views >= 2 or reason = \"it's\"".into(), negate: false };
    let cases = [
        ("daily", spec(&raw, Granularity::Day, None, Filter::default()), 1000),
        ("weekly-zone-filtered", spec(&raw, Granularity::Week, Some("America/Sao_Paulo"), Filter { clauses: vec![Clause::InSet { column: "platform".into(), values: vec!["web".into()], negate: true }, Clause::Contains { column: "reason".into(), text: "A".into() }, rule] }), 1000),
        ("hourly-offset-top2", CubeSpec { utc_offset_minutes: 330, ..spec(&raw, Granularity::Hour, None, Filter::default()) }, 2),
        ("monthly", spec(&raw, Granularity::Month, None, Filter { clauses: vec![Clause::Range { column: "views".into(), min: Some(2.0), max: None }, Clause::Missing { column: "reports".into(), missing: false }] }), 1000),
    ];
    let mut names = Vec::new();
    for (name, mut spec, top) in cases {
        spec.top = top;
        // The app's streaming loader reads the file in small pieces into the same cube as the
        // rows give; the engines' cubes are compared with it.
        let settings = StreamSettings { utc_offset_minutes: spec.utc_offset_minutes, time_zone: spec.time_zone.clone(), granularity: Some(spec.granularity), filter: spec.filter.clone(), top, dimensions: Some(spec.dimensions.clone()), measures: Some(spec.measures.clone()), every_grouping_set: true, ..Default::default() };
        let streamed = stream_cube(csv.as_bytes(), LoadOptions::default(), settings, 256 * 1024).unwrap();
        assert_eq!((&streamed.spec.dimensions, &streamed.spec.measures), (&spec.dimensions, &spec.measures), "{name}");
        same_cube_csv(&streamed.cube_csv, &aggregate_csv(&raw, &all, Weights::ONE, &spec).unwrap(), name);
        std::fs::write(dir.join(format!("{name}.cube.csv")), &streamed.cube_csv).unwrap();
        for dialect in Dialect::ALL {
            let query = cube_sql(&spec, dialect, "events", Some(&raw)).unwrap();
            std::fs::write(dir.join(format!("{name}.{}.sql", dialect.name())), query.sql).unwrap();
        }
        names.push(name);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/warehouse_reference.py");
    let mut command = Command::new("python3");
    command.arg(&script).arg(&dir).args(&names);
    if spark {
        command.arg("--spark");
    }
    let output = command.output().expect("python3 runs");
    assert!(output.status.success(), "the warehouse check failed (does `make py-deps` install duckdb and sqlglot? `make test-warehouse` pyspark and Java?):\n{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    println!("{}", String::from_utf8_lossy(&output.stdout));

    let engines: &[&str] = if spark { &["duckdb", "spark"] } else { &["duckdb"] };
    for engine in engines {
        let (cube, rows, weights, measures) = cube_view(&std::fs::read_to_string(dir.join(format!("daily.{engine}.out.csv"))).unwrap());
        let w = Weights::per_row("events", &weights).with_measures(&measures);
        for (what, s) in metrics().into_iter().filter(|(what, _)| ["count", "rate", "ratio"].contains(what)) {
            let a = trend(&raw, &all, Weights::ONE, &s);
            let b = trend(&cube, &rows, w, &TrendSettings { time: Some("ts_bucket".into()), ..s });
            same_trend(&a, &b, &format!("{engine}'s cube, {what}"));
        }
        for (what, metric) in rca_metrics().into_iter().take(3) {
            let dims = ["country", "platform", "reason", "flagged"].into_iter().filter(|d| !metric.columns().contains(d)).map(String::from).collect();
            let a = run_weighted::<RootCause>(&raw, &all, Weights::ONE, &explaining(metric.clone(), Some(dims), "created_at")).unwrap();
            let b = run_weighted::<RootCause>(&cube, &rows, w, &explaining(metric, None, "ts_bucket")).unwrap();
            same_cause(&a, &b, &format!("{engine}'s cube, {what}"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn warehouse_sql_computes_the_same_cube() {
    check_warehouse(20_000, false);
}

/// `make test-warehouse`: a few million events through Apache Spark (local, 2 cores) as well.
#[test]
#[ignore = "needs pyspark and Java 17: make test-warehouse"]
fn spark_computes_the_same_cube_from_millions_of_events() {
    let rows = std::env::var("VIGIL_WAREHOUSE_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000_000);
    check_warehouse(rows, true);
}

/// The demo's scam wave explained from its cube: the same root cause as from its rows, over the
/// cube's dimensions (`app_version` reads as numbers but is one: NULL in the period totals).
#[test]
fn the_demo_scam_wave_has_the_same_cause_from_its_cube() {
    let raw = load(&String::from_utf8(vigil::data::demo::demo_csv(vigil::data::demo::DemoParams { rows: 60_000, seed: 7 })).unwrap());
    let all: Vec<u32> = (0..raw.n_rows as u32).collect();
    let daily = CubeSpec::for_view(&raw, "created_at", Granularity::Day, 0, None, None, Filter::default()).unwrap();
    let (cube, rows, weights, measures) = cube_view(&aggregate_csv(&raw, &all, Weights::ONE, &daily).unwrap());
    assert!(!measures.contains(&"app_version".to_string()), "{measures:?}");
    let wave = vigil::data::time::parse_timestamp_text("2026-09-24").unwrap();
    let params = |time: &str, dimensions| RcaParams {
        dimensions,
        ..RcaParams::explaining(time.into(), Metric::Count, Window { start_ms: wave - 14 * DAY_MS, end_ms: wave }, Window { start_ms: wave, end_ms: wave + 4 * DAY_MS })
    };
    let a = run_weighted::<RootCause>(&raw, &all, Weights::ONE, &params("created_at", Some(daily.dimensions.clone()))).unwrap();
    let b = run_weighted::<RootCause>(&cube, &rows, Weights::per_row("events", &weights).with_measures(&measures), &params("ts_bucket", None)).unwrap();
    // The same cause and change; the conditions name the same values (a number column's
    // condition is a range on the rows, a value of the text dimension on the cube).
    assert_eq!(as_events(&a.summary), b.summary);
    close(a.totals.delta, b.totals.delta, "the change");
    let named = |r: &RcaReport| r.segments.iter().take(5).map(|s| (s.conditions.iter().map(|c| format!("{}={}", c.column, c.value)).collect::<Vec<_>>(), s.delta)).collect::<Vec<_>>();
    for ((x, dx), (y, dy)) in named(&a).into_iter().zip(named(&b)) {
        assert_eq!(x, y);
        close(dx, dy, "a segment's change");
    }
    assert!(a.summary.contains("country=BR") && a.summary.contains("app_version=32.1"), "{}", a.summary);
}
