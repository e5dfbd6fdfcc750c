//! Reviewer agreement against statsmodels on the demo dataset (QA double reviews).
//! Runs `tests/reference/labels_reference.py` (`make py-deps` installs statsmodels).

use std::path::Path;
use std::process::Command;

use vigil::analysis::labels::{check_labels, LabelParams};
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
