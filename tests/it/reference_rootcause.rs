//! Root cause's p-values against scipy's exact binomial tail on the same rows.
//!
//! Runs `tests/reference/rootcause_reference.py`, which counts each segment's rows in the two
//! windows from the CSV itself and takes `2 · binom.sf(k − 1, n, f) · examined`, f the share of
//! events expected on the incident's day of the week. The segments hold from 300 to 6,000 rows: a normal approximation, once used past 5,000, understated the
//! 6,000-row segment's tail by 23 % and made it significant.

use std::path::Path;
use std::process::Command;

use vigil::analysis::rootcause::{explain_change, RcaParams, Window};
use vigil::analysis::series::Metric;
use vigil::data::load::{load_bytes, LoadOptions};

const DAY_MS: i64 = 86_400_000;
/// 2026-03-01T00:00:00Z.
const START_MS: i64 = 1_772_323_200_000;

/// `count` rows of (country, platform) spread evenly over `[from, to)`.
fn spread(csv: &mut String, count: i64, from: i64, to: i64, country: &str, platforms: &[&str]) {
    for i in 0..count {
        let ms = from + (to - from) * i / count;
        let when = vigil::data::time::format_iso_ms(ms);
        let platform = platforms[i as usize % platforms.len()];
        csv.push_str(&format!("{when},{country},{platform}\n"));
    }
}

#[test]
fn segment_p_values_match_scipys_exact_binomial_tail() {
    let (incident_start, incident_end) = (START_MS + 28 * DAY_MS, START_MS + 29 * DAY_MS);
    let mut csv = String::from("created_at,country,platform\n");
    // country=A: 6,000 rows, 250 of them on the incident's day (a rise of 1.2× its share).
    spread(&mut csv, 5_750, START_MS, incident_start, "A", &["web", "ios"]);
    spread(&mut csv, 250, incident_start, incident_end, "A", &["web", "web", "ios"]);
    // country=B: the spike (400 against about 71 a day before).
    spread(&mut csv, 2_000, START_MS, incident_start, "B", &["web", "android"]);
    spread(&mut csv, 400, incident_start, incident_end, "B", &["android"]);
    // country=C: small, with a small rise.
    spread(&mut csv, 290, START_MS, incident_start, "C", &["ios"]);
    spread(&mut csv, 18, incident_start, incident_end, "C", &["ios"]);
    // Sundays are busier (the incident's day is a Sunday): the events expected that day, and so
    // each segment's null, are of a Sunday, not of a 29th of the time.
    for sunday in (0..4).map(|week| START_MS + week * 7 * DAY_MS) {
        spread(&mut csv, 20, sunday, sunday + DAY_MS, "B", &["web", "android"]);
        spread(&mut csv, 10, sunday, sunday + DAY_MS, "C", &["ios"]);
    }

    let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let params = RcaParams {
        time_column: "created_at".into(),
        metric: Metric::Count,
        baseline: Window { start_ms: START_MS, end_ms: incident_start },
        incident: Window { start_ms: incident_start, end_ms: incident_end },
        dimensions: None,
        max_depth: 2,
        explain_share: 0.8,
    };
    let report = explain_change(&table, &rows, &params).unwrap();
    let segments: Vec<Vec<(String, String)>> = report.segments.iter().map(|s| s.conditions.iter().map(|c| (c.column.clone(), c.value.clone())).collect()).collect();
    assert!(segments.iter().any(|s| s == &[("country".to_string(), "A".to_string())]), "country=A is a segment: {segments:?}");

    let dir = std::env::temp_dir().join(format!("vigil-rootcause-reference-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rca.csv");
    std::fs::write(&path, &csv).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/rootcause_reference.py");
    let windows = [START_MS, incident_start, incident_start, incident_end].map(|ms| ms.to_string());
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(&path)
        .arg("created_at")
        .args(&windows)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let asked = serde_json::json!({ "examined": report.examined, "segments": segments });
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), asked.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the reference script failed (does `make py-deps` install scipy and pandas?):\n{}", String::from_utf8_lossy(&output.stderr));
    let reference: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();

    let mut large = 0;
    for (segment, expected) in report.segments.iter().zip(&reference) {
        let what = segment.describe();
        assert_eq!(segment.baseline_rows + segment.incident_rows, expected["n"].as_u64().unwrap(), "{what}: rows");
        assert_eq!(segment.incident_rows, expected["k"].as_u64().unwrap(), "{what}: incident rows");
        let p = expected["p"].as_f64().unwrap();
        assert!((segment.p_value - p).abs() <= 1e-9 * p.max(1e-300) + 1e-300, "{what}: p {} against scipy's {p}", segment.p_value);
        assert_eq!(segment.significant, p < 0.01, "{what}: p {p}");
        large += usize::from(expected["n"].as_u64().unwrap() > 5_000);
    }
    assert!(large > 0, "a segment of more than 5,000 rows is checked");
}
