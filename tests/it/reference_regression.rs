//! Regression against statsmodels on its bundled datasets: OLS on longley (notoriously
//! ill-conditioned) and stackloss to 1e-6 relative in coefficients and standard errors, Logit on
//! spector to 1e-4; with frequency weights, against statsmodels' GLM with `freq_weights` (and
//! WLS's R²). Runs `tests/reference/regression_reference.py` (`make py-deps`).

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;
use vigil::analysis::labels::LabelSpec;
use vigil::analysis::contract::{run_weighted, Weights};
use vigil::analysis::regression::{regress, Regression, RegressionKind, RegressionParams};
use vigil::data::load::{load_bytes, LoadOptions};

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn close(ours: f64, theirs: f64, rel: f64) -> bool {
    (ours - theirs).abs() <= rel * theirs.abs().max(1e-12)
}

fn params(case: &Value, logistic: bool) -> RegressionParams {
    let target = case["target"].as_str().unwrap().to_string();
    let predictors = case["predictors"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    if logistic {
        // GRADE is 0/1: the positive class is "1".
        RegressionParams { kind: RegressionKind::Logistic, target: None, label: Some(LabelSpec { column: target, positive: vec!["1".into()] }), predictors }
    } else {
        RegressionParams { kind: RegressionKind::Linear, target: Some(target), label: None, predictors }
    }
}

/// statsmodels' answers for every case, computed once for both tests.
fn reference() -> &'static Value {
    static REFERENCE: OnceLock<Value> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/regression_reference.py");
        let output = Command::new("python3").arg(&script).output().expect("python3 runs");
        assert!(output.status.success(), "reference script failed (make py-deps?):\n{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    })
}

#[test]
fn weighted_least_squares_and_irls_equal_statsmodels_freq_weights() {
    let reference = reference();
    for (name, logistic) in [("stackloss_weighted", false), ("spector_weighted", true)] {
        let case = &reference[name];
        let table = load_bytes(case["csv"].as_str().unwrap().as_bytes(), LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let weights = floats(&case["weights"]);
        let report = run_weighted::<Regression>(&table, &rows, Weights::per_row("w", &weights), &params(case, logistic)).unwrap();
        for (key, ours) in [("params", report.coefficients.iter().map(|c| c.estimate).collect::<Vec<_>>()), ("bse", report.coefficients.iter().map(|c| c.std_error).collect())] {
            let theirs = floats(&case[key]);
            assert_eq!(ours.len(), theirs.len());
            assert!(ours.iter().zip(&theirs).all(|(a, b)| close(*a, *b, 1e-6)), "{name} {key}: ours {ours:?} statsmodels {theirs:?}");
        }
        assert!(close(report.rows, weights.iter().sum(), 1e-12));
        if logistic {
            let llf = -report.log_loss.unwrap() * report.rows;
            assert!(close(llf, case["llf"].as_f64().unwrap(), 1e-6), "{name} log-likelihood {llf} vs {}", case["llf"]);
            assert!(close(report.auc.unwrap(), case["auc"].as_f64().unwrap(), 1e-9), "{name} AUC {} vs scikit-learn's {}", report.auc.unwrap(), case["auc"]);
        } else {
            assert!(close(report.r_squared.unwrap(), case["rsquared"].as_f64().unwrap(), 1e-9), "{name} R² {} vs {}", report.r_squared.unwrap(), case["rsquared"]);
        }
    }
}

#[test]
fn ols_and_logit_equal_statsmodels() {
    let reference = reference();
    let mut failures = Vec::new();
    for (name, logistic, tolerance) in [("longley", false, 1e-6), ("stackloss", false, 1e-6), ("spector", true, 1e-4)] {
        let case = &reference[name];
        let table = load_bytes(case["csv"].as_str().unwrap().as_bytes(), LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let report = regress(&table, &rows, &params(case, logistic)).unwrap();
        for (key, ours) in [
            ("params", report.coefficients.iter().map(|c| c.estimate).collect::<Vec<_>>()),
            ("bse", report.coefficients.iter().map(|c| c.std_error).collect()),
            ("stat", report.coefficients.iter().map(|c| c.statistic).collect()),
            ("ci_low", report.coefficients.iter().map(|c| c.ci_low).collect()),
            ("ci_high", report.coefficients.iter().map(|c| c.ci_high).collect()),
        ] {
            let theirs = floats(&case[key]);
            let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs() / b.abs().max(1e-12)).fold(0.0f64, f64::max);
            eprintln!("{name} {key}: worst relative difference {worst:.2e}");
            if ours.len() != theirs.len() || !ours.iter().zip(&theirs).all(|(a, b)| close(*a, *b, tolerance)) {
                failures.push(format!("{name} {key}: ours {ours:?} statsmodels {theirs:?}"));
            }
        }
        // p-values: absolute (they can be tiny).
        let p_theirs = floats(&case["pvalues"]);
        for (c, p) in report.coefficients.iter().zip(&p_theirs) {
            if (c.p_value - p).abs() > 1e-6 {
                failures.push(format!("{name} p-value of {}: {} vs {p}", c.name, c.p_value));
            }
        }
        if logistic {
            let llf = case["llf"].as_f64().unwrap();
            if !close(-report.log_loss.unwrap() * report.rows, llf, 1e-6) {
                failures.push(format!("{name} log-likelihood {} vs {llf}", -report.log_loss.unwrap() * report.rows));
            }
            if !close(report.pseudo_r_squared.unwrap(), case["prsquared"].as_f64().unwrap(), 1e-6) {
                failures.push(format!("{name} pseudo R²"));
            }
            if !close(report.auc.unwrap(), case["auc"].as_f64().unwrap(), 1e-9) {
                failures.push(format!("{name} AUC {} vs scikit-learn's {}", report.auc.unwrap(), case["auc"]));
            }
        } else {
            if !close(report.r_squared.unwrap(), case["rsquared"].as_f64().unwrap(), 1e-9) {
                failures.push(format!("{name} R² {} vs {}", report.r_squared.unwrap(), case["rsquared"]));
            }
            if !close(report.adj_r_squared.unwrap(), case["rsquared_adj"].as_f64().unwrap(), 1e-9) {
                failures.push(format!("{name} adjusted R²"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
