//! Reviewer agreement against statsmodels on the demo dataset (QA double reviews), and leakage
//! against scikit-learn's balanced accuracy. Runs `tests/reference/labels_reference.py` and
//! `tests/reference/leaks_reference.py` (`make py-deps` installs statsmodels and scikit-learn).

use std::path::Path;
use std::process::Command;

use vigil::analysis::contract::{run_weighted, Weights};
use vigil::analysis::labels::{check_labels, LabelParams, Labels, LEAK_ACCURACY};
use vigil::data::demo::{demo_csv, DemoParams};
use vigil::data::load::{load_bytes, LoadOptions};

#[test]
fn kappas_match_statsmodels() {
    let csv = demo_csv(DemoParams { rows: 30_000, seed: 9 });
    let dir = std::env::temp_dir().join(format!("vigil-labels-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("demo.csv");
    std::fs::write(&path, &csv).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/labels_reference.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(&path)
        .args(["decision", "report_id", "reviewer_id"])
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "reference script failed (make py-deps?):\n{}", String::from_utf8_lossy(&output.stderr));
    let reference: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let table = load_bytes(&csv, LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let params = LabelParams {
        label: "decision".into(),
        positive: vec![],
        item: Some("report_id".into()),
        reviewer: Some("reviewer_id".into()),
        time: None,
        now_ms: None,
    };
    let report = check_labels(&table, &rows, &params).unwrap();
    let agreement = report.agreement.unwrap();
    assert!(agreement.pairs > 500, "too few QA pairs to mean anything: {}", agreement.pairs);
    assert_eq!(agreement.pairs as u64, reference["pairs"].as_u64().unwrap());
    assert_eq!(agreement.raters as u64, reference["raters"].as_u64().unwrap());
    assert_eq!(agreement.fleiss_items as u64, reference["fleiss_items"].as_u64().unwrap());
    let close = |ours: f64, key: &str| {
        let theirs = reference[key].as_f64().unwrap();
        assert!((ours - theirs).abs() < 1e-9, "{key}: ours {ours}, statsmodels {theirs}");
    };
    close(agreement.cohen_kappa.unwrap(), "cohen");
    close(agreement.fleiss_kappa.unwrap(), "fleiss");
    // The demo's leakage column must be caught.
    assert_eq!(report.leaks.first().map(|l| l.column.as_str()), Some("actioned_at"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Leakage against scikit-learn's balanced accuracy (`tests/reference/leaks_reference.py`), on
/// a label whose positives are 2 % of the rows: always guessing "no" is right 98 % of the time,
/// so plain accuracy would name every column. Columns are made to land on both sides of the
/// 98 % line; the columns named and their scores must be the reference's, unweighted and with
/// weights.
#[test]
fn leaks_match_scikit_learn_balanced_accuracy() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut csv = String::from("label,filled_after,near,below,cat,noise,sparse,flag\n");
    for i in 0..2000 {
        let positive = i % 50 == 7;
        let u = next();
        // Filled for positives and for 3 of the rest; a day for each.
        let filled = if positive || i % 650 == 3 { format!("2026-01-{:02}", 1 + i % 28) } else { String::new() };
        // Positives high, with 3 % of the rest among them (about 98.5 %); "below" also has one
        // positive low and 2.5 % of the rest high (about 97.5 %).
        let near = if positive || i % 33 == 0 { 900.0 + u * 100.0 } else { u * 900.0 };
        let below = if (positive && i != 7) || (!positive && i % 40 == 0) { 800.0 + u * 200.0 } else { u * 800.0 };
        let cat = if positive || i % 97 == 0 { "x7".to_string() } else { format!("x{}", (u * 7.0) as u32) };
        let noise = (next() * 100.0) as u32;
        let sparse = if i % 3 == 0 { format!("{:.3}", next()) } else { String::new() };
        let flag = if next() < 0.5 { "true" } else { "false" };
        csv.push_str(&format!("{},{filled},{near:.3},{below:.3},{cat},{noise},{sparse},{flag}\n", if positive { "yes" } else { "no" }));
    }
    let dir = std::env::temp_dir().join(format!("vigil-leaks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("leaks.csv");
    std::fs::write(&path, &csv).unwrap();
    let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
    let kinds: Vec<String> = table.columns.iter().skip(1).map(|c| format!("{}:{}", c.name, format!("{:?}", c.kind).to_lowercase())).collect();
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let params = LabelParams { label: "label".into(), positive: vec!["true".into()], item: None, reviewer: None, time: None, now_ms: None };
    let weights: Vec<f64> = (0..table.n_rows).map(|row| 1.0 + (row % 5) as f64 * 0.5).collect();
    let weight_list = weights.iter().map(f64::to_string).collect::<Vec<_>>().join(",");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/leaks_reference.py");
    for weighted in [false, true] {
        let mut command = Command::new("python3");
        command.arg(&script).arg(&path).args(["label", "yes"]).args(&kinds);
        if weighted {
            command.args(["--weights", &weight_list]);
        }
        let output = command.output().expect("python3 runs");
        assert!(output.status.success(), "reference script failed (make py-deps?):\n{}", String::from_utf8_lossy(&output.stderr));
        let reference: std::collections::BTreeMap<String, f64> = serde_json::from_slice(&output.stdout).unwrap();
        let report = match weighted {
            false => check_labels(&table, &rows, &params).unwrap(),
            true => run_weighted::<Labels>(&table, &rows, Weights::per_row("w", &weights), &params).unwrap(),
        };
        eprintln!("weighted {weighted}: ours {:?}\nscikit-learn {reference:?}", report.leaks);
        let expected: Vec<&String> = reference.iter().filter(|(_, &score)| score >= LEAK_ACCURACY).map(|(name, _)| name).collect();
        let mut named: Vec<&String> = report.leaks.iter().map(|l| &l.column).collect();
        named.sort();
        assert_eq!(named, expected, "weighted {weighted}");
        for leak in &report.leaks {
            assert!((leak.balanced_accuracy - reference[&leak.column]).abs() < 1e-9, "{}: ours {}, scikit-learn {}", leak.column, leak.balanced_accuracy, reference[&leak.column]);
        }
        // Unweighted, the made columns land where they were made to: some named, some just
        // under the line (weighted, "below" crosses it: the rest's rows among the positives' values weigh 1, half the mean weight).
        for (column, named) in [("filled_after", true), ("near", true), ("cat", true), ("below", weighted), ("noise", false), ("sparse", false), ("flag", false)] {
            assert_eq!(reference[column] >= LEAK_ACCURACY, named, "{column}: {}", reference[column]);
        }
        assert!(reference["below"] > 0.9, "{}", reference["below"]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
