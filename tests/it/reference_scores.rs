//! Score curves against scikit-learn: ROC AUC, average precision and the confusion at a
//! threshold of the demo's `risk_score` (3 decimals: many ties) against `decision`, to 1e-9;
//! unweighted and with sample weights (a row of weight w stands for w events). And the rules'
//! backtest: confusion matrix, precision, recall and F1 of two rules and of either.
//! Runs `tests/reference/scores_reference.py` (`make py-deps` installs scikit-learn).

use std::path::Path;
use std::process::Command;

use vigil::analysis::backtest::{score_curves, Backtest, BacktestParams, Confusion, RuleSpec, ScoreParams, ScoreReport, Scores};
use vigil::analysis::contract::{run_weighted, Weights};
use vigil::analysis::labels::LabelSpec;
use vigil::data::demo::{demo_csv, DemoParams};
use vigil::data::load::{load_bytes, LoadOptions};

#[test]
fn roc_auc_and_average_precision_equal_scikit_learn() {
    let csv = demo_csv(DemoParams { rows: 30_000, seed: 11 });
    let path = std::env::temp_dir().join(format!("vigil-scores-{}.csv", std::process::id()));
    std::fs::write(&path, &csv).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/scores_reference.py");
    let output = Command::new("python3").arg(&script).arg(&path).output().expect("python3 runs");
    let _ = std::fs::remove_file(&path);
    assert!(output.status.success(), "reference script failed (make py-deps?):\n{}", String::from_utf8_lossy(&output.stderr));
    let reference: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let table = load_bytes(&csv, LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let label = LabelSpec { column: "decision".into(), positive: vec!["removed".into(), "restricted".into()] };
    let params = ScoreParams { score: "risk_score".into(), label, threshold: Some(0.5), min_precision: 0.9 };
    same(&score_curves(&table, &rows, &params).unwrap(), &reference);
    let weights: Vec<f64> = (0..table.n_rows).map(|row| 0.5 + (row % 7) as f64 * 0.25).collect();
    same(&run_weighted::<Scores>(&table, &rows, Weights::per_row("w", &weights), &params).unwrap(), &reference["weighted"]);

    // The rules' backtest against confusion_matrix, precision_score, recall_score and f1_score.
    let rule = |name: &str, text: &str| RuleSpec { name: name.into(), text: text.into() };
    let backtest_params = BacktestParams {
        rules: vec![rule("young_strikes", "prior_strikes >= 2 and account_age_days < 30"), rule("scam_br", "reason = scam and country = BR")],
        label: params.label.clone(),
        time_column: None,
    };
    for (kind, report) in [
        ("unweighted", run_weighted::<Backtest>(&table, &rows, Weights::ONE, &backtest_params).unwrap()),
        ("weighted", run_weighted::<Backtest>(&table, &rows, Weights::per_row("w", &weights), &backtest_params).unwrap()),
    ] {
        let mut confusions: Vec<(&str, Confusion)> = report.rules.iter().map(|r| { let r = r.as_ref().unwrap(); (r.name.as_str(), r.confusion) }).collect();
        confusions.push(("either", report.union.unwrap()));
        for (name, confusion) in confusions {
            let theirs = &reference["rules"][kind][name];
            let get = |key: &str| theirs[key].as_f64().unwrap();
            for (what, ours, key) in [("TP", confusion.tp, "tp"), ("FP", confusion.fp, "fp"), ("FN", confusion.fn_, "fn"), ("TN", confusion.tn, "tn"), ("precision", confusion.precision(), "precision"), ("recall", confusion.recall(), "recall"), ("F1", confusion.f1(), "f1")] {
                assert!((ours - get(key)).abs() <= 1e-9 * get(key).abs().max(1.0), "{kind} {name} {what}: ours {ours}, scikit-learn {}", get(key));
            }
        }
    }
}

fn same(report: &ScoreReport, reference: &serde_json::Value) {
    let get = |key: &str| reference[key].as_f64().unwrap();
    eprintln!("ROC AUC ours {:.12} sklearn {:.12}; AP ours {:.12} sklearn {:.12}", report.roc_auc, get("roc_auc"), report.average_precision, get("average_precision"));
    assert!((report.rows - get("rows")).abs() < 1e-6);
    assert!((report.positives - get("positives")).abs() < 1e-6);
    assert!((report.roc_auc - get("roc_auc")).abs() < 1e-9);
    assert!((report.average_precision - get("average_precision")).abs() < 1e-9);
    assert!((report.at_threshold.precision() - get("precision_at_half")).abs() < 1e-9);
    assert!((report.at_threshold.recall() - get("recall_at_half")).abs() < 1e-9);
}
