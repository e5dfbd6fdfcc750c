//! Root cause on a real-world benchmark: RS, 135 labelled incidents of a CDN's video delivery
//! (RobustSpot's data as redistributed in the RiskLoc repository, MIT; `tests/fixtures/rs/`).
//! Each file is a minute-by-minute cube: dimensions, `cnt` requests and `value` failures per
//! cell. The monitored measure is the failure ratio sum(value) / sum(cnt) (its complement, the
//! success ratio, is what the operators watch); each cell is a row standing for its `cnt`
//! requests.
//!
//! Evaluated as its publishers did: the anomalous minute against the mean of the 4 minutes
//! before it (the baseline window is scaled to the incident's length, which is that mean); an
//! answer is right when a root cause Vigil names equals a labelled combination, and every other
//! root cause it names counts as a false positive. Vigil names one cause, or two when two
//! segments carry the change together (8 cases are labelled with two).

use std::path::Path;

use vigil::analysis::rootcause::{explain_change, RcaParams, Window};
use vigil::analysis::series::Metric;
use vigil::data::builder::retype_column;
use vigil::data::load::{load_bytes, LoadOptions};
use vigil::data::table::ColumnType;

/// One labelled incident: its file, anomalous minute (epoch seconds) and causes.
struct Case {
    data: String,
    timestamp: i64,
    causes: Vec<Vec<(String, String)>>,
}

/// `{'bitrate':2000, 'p2p':1}` → [("bitrate", "2000"), ("p2p", "1")].
fn parse_combination(text: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = text
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split(',')
        .filter_map(|pair| {
            let (key, value) = pair.split_once(':')?;
            let clean = |s: &str| s.trim().trim_matches('\'').trim_matches('"').to_string();
            Some((clean(key), clean(value)))
        })
        .collect();
    pairs.sort();
    pairs
}

/// The labels of `anomaly.yaml` (a list of `data`, `timestamp`, `cause` entries).
fn cases(dir: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(dir.join("anomaly.yaml")).expect("anomaly.yaml");
    let mut out: Vec<Case> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("- data:") {
            out.push(Case { data: name.trim().to_string(), timestamp: 0, causes: Vec::new() });
        } else if let (Some(value), Some(case)) = (line.strip_prefix("timestamp:"), out.last_mut()) {
            case.timestamp = value.trim().parse().expect("timestamp");
        } else if let (Some(value), Some(case)) = (line.strip_prefix("cause:"), out.last_mut()) {
            let value = value.trim();
            case.causes = if value.starts_with('[') {
                value.trim_start_matches('[').trim_end_matches(']').split('}').filter(|p| p.contains(':')).map(|p| parse_combination(p.trim_start_matches(", ").trim_start_matches(','))).collect()
            } else {
                vec![parse_combination(value)]
            };
        }
    }
    out
}

/// True positives, false positives and false negatives of one case.
fn score(case: &Case, dir: &Path) -> (usize, usize, usize, String) {
    let bytes = std::fs::read(dir.join(format!("{}.csv.gz", case.data))).expect("case file");
    let mut table = load_bytes(&bytes, LoadOptions::default()).expect("loads").table;
    // Dimensions are category codes, not quantities; `min` is epoch seconds.
    for column in &mut table.columns {
        let kind = match column.name.as_str() {
            "min" => ColumnType::Timestamp,
            "value" | "cnt" => continue,
            _ => ColumnType::Category,
        };
        if column.kind != kind {
            *column = retype_column(column, kind);
        }
    }
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let t = case.timestamp * 1000;
    let params = RcaParams {
        time_column: "min".into(),
        metric: Metric::Ratio { numerator: "value".into(), denominator: "cnt".into() },
        baseline: Window { start_ms: t - 4 * 60_000, end_ms: t },
        incident: Window { start_ms: t, end_ms: t + 60_000 },
        dimensions: None,
        max_depth: 3,
        explain_share: 0.8,
    };
    let report = match explain_change(&table, &rows, &params) {
        Ok(report) => report,
        Err(err) => return (0, 0, case.causes.len(), format!("{}: {err}", case.data)),
    };
    let answers: Vec<Vec<(String, String)>> = report
        .causes
        .iter()
        .filter_map(|&i| report.segments.get(i))
        .map(|s| {
            let mut pairs: Vec<(String, String)> = s.conditions.iter().map(|c| (c.column.clone(), c.value.clone())).collect();
            pairs.sort();
            pairs
        })
        .collect();
    let tp = answers.iter().filter(|a| case.causes.contains(a)).count();
    let fp = answers.len() - tp;
    let fn_ = case.causes.iter().filter(|c| !answers.contains(c)).count();
    (tp, fp, fn_, format!("{}: truth {:?}, answer {:?}", case.data, case.causes, answers))
}

#[test]
fn rs_benchmark_root_causes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rs");
    let cases = cases(&dir);
    assert_eq!(cases.len(), 135, "labelled incidents");
    assert_eq!(cases.iter().map(|c| c.causes.len()).sum::<usize>(), 143, "labelled causes");
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    let mut misses = Vec::new();
    let only = std::env::var("RS_CASE").ok();
    for case in cases.iter().filter(|c| only.as_ref().is_none_or(|o| c.data.starts_with(o.as_str()))) {
        let (t, f, n, line) = score(case, &dir);
        tp += t;
        fp += f;
        fn_ += n;
        if f > 0 || n > 0 {
            misses.push(line);
        }
    }
    let f1 = 2.0 * tp as f64 / (2 * tp + fp + fn_) as f64;
    eprintln!("RS, 135 incidents, 143 labelled causes (RiskLoc repository implementations, default settings, same files):");
    eprintln!("  method      TP   FP   FN  F1");
    for (method, t, f, n, score) in [("RobustSpot", 122, 320, 21, 0.417), ("Adtributor", 75, 330, 68, 0.274), ("Squeeze", 46, 164, 97, 0.261), ("HotSpot", 6, 138, 137, 0.042), ("RiskLoc", 4, 178, 139, 0.025)] {
        eprintln!("  {method:<10} {t:>4} {f:>4} {n:>4}  {score:.3}");
    }
    eprintln!("  Vigil      {tp:>4} {fp:>4} {fn_:>4}  {f1:.3}");
    for miss in &misses {
        eprintln!("    {miss}");
    }
    assert!(f1 >= 0.8, "F1 {f1:.3}");
}
