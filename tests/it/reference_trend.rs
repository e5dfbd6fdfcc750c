//! Forecasts and linear trends against statsmodels on its bundled `co2` data (monthly Mauna Loa
//! CO₂, 1958–2001). Runs `tests/reference/trend_reference.py` (`make py-deps` installs
//! statsmodels); the script prints the exact monthly series both sides use.
//! `cargo test --test reference_trend -- --nocapture` prints the MASEs.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use vigil::analysis::trend::{analyze, linear_trend, LinearTrend, TrendParams};

const HOLDOUT: usize = 24;
const PERIOD: usize = 12;
/// Ours may be at most this many times statsmodels' STL+ETS MASE: the same model family
/// (seasonal decomposition + additive-trend ETS on the adjusted series) should land close.
const MASE_TOLERANCE: f64 = 1.5;

fn reference() -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/trend_reference.py");
    let output = Command::new("python3")
        .arg(&script)
        .args([HOLDOUT.to_string(), PERIOD.to_string()])
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "reference script failed (make py-deps?):\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn floats(value: &Value) -> Vec<f64> {
    value.as_array().expect("an array").iter().map(|v| v.as_f64().expect("a number")).collect()
}

/// Mean absolute error over the holdout, scaled by the in-sample seasonal-naive MAE.
fn mase(train: &[f64], test: &[f64], forecast: &[f64], period: usize) -> f64 {
    let scale = train.windows(period + 1).map(|w| (w[period] - w[0]).abs()).sum::<f64>() / (train.len() - period) as f64;
    let mae = test.iter().zip(forecast).map(|(a, f)| (a - f).abs()).sum::<f64>() / test.len() as f64;
    mae / scale
}

#[test]
fn co2_forecast_is_as_good_as_statsmodels_stl_ets() {
    let reference = reference();
    let train = floats(&reference["train"]);
    let test = floats(&reference["test"]);
    assert_eq!(test.len(), HOLDOUT);
    assert!(train.len() > 400, "training series too short: {}", train.len());

    let analysis = analyze(&train, &[PERIOD], &TrendParams { horizon: HOLDOUT, ..TrendParams::default() }).unwrap();
    let forecast = &analysis.forecast;
    assert_eq!(forecast.point.len(), HOLDOUT);
    assert!(analysis.seasonal.iter().any(|s| s.period == PERIOD), "no yearly cycle in {:?}", analysis.model);

    // Same scaling on both sides.
    let scale = reference["mase_scale"].as_f64().unwrap();
    let naive_mase = mase(&train, &test, &floats(&reference["seasonal_naive"]["forecast"]), PERIOD);
    assert!((naive_mase - reference["seasonal_naive"]["mase"].as_f64().unwrap()).abs() < 1e-9, "MASE definitions differ");

    let ours = mase(&train, &test, &forecast.point, PERIOD);
    let theirs = reference["stl_ets"]["mase"].as_f64().unwrap();
    let inside = test
        .iter()
        .zip(forecast.lower95.iter().zip(&forecast.upper95))
        .filter(|&(y, (lo, hi))| lo <= y && y <= hi)
        .count();
    let coverage = inside as f64 / HOLDOUT as f64;
    let mean_width = |lower: &[f64], upper: &[f64]| upper.iter().zip(lower).map(|(u, l)| u - l).sum::<f64>() / lower.len() as f64;
    eprintln!("co2, last {HOLDOUT} months held out (MASE scale {scale:.4}):");
    eprintln!(
        "  ours: {:<50} MASE {ours:.4}, 95 % coverage {coverage:.2}, mean 95 % width {:.3}",
        analysis.model,
        mean_width(&forecast.lower95, &forecast.upper95)
    );
    for key in ["stl_ets_aan", "stl_ets_aadn", "ets_aaa"] {
        let r = &reference[key];
        let cover = r["coverage95"]
            .as_f64()
            .map(|c| format!(", 95 % coverage {c:.2}, mean 95 % width {:.3}", mean_width(&floats(&r["lower95"]), &floats(&r["upper95"]))))
            .unwrap_or_default();
        eprintln!("  statsmodels: {:<80} MASE {:.4}{cover}", r["model"].as_str().unwrap(), r["mase"].as_f64().unwrap());
    }
    eprintln!("  seasonal naive MASE {naive_mase:.4}");
    eprintln!("  reference (lower AIC): {}", reference["stl_ets"]["model"].as_str().unwrap());

    assert!(ours < 1.0, "ours ({ours}) does not beat the seasonal-naive forecast");
    assert!(ours <= theirs * MASE_TOLERANCE, "our MASE {ours} vs statsmodels STL+ETS {theirs} (tolerance ×{MASE_TOLERANCE})");
    assert!(coverage >= 0.7, "only {inside} of {HOLDOUT} holdout months inside our 95 % interval");
}

fn assert_matches(ours: &LinearTrend, theirs: &Value, what: &str) {
    let close = |value: f64, key: &str| {
        let expected = theirs[key].as_f64().unwrap();
        let error = (value - expected).abs() / expected.abs().max(1e-300);
        assert!(error < 1e-6, "{what} {key}: ours {value}, statsmodels {expected} (relative error {error:e})");
    };
    assert_eq!(ours.n as u64, theirs["n"].as_u64().unwrap(), "{what} n");
    close(ours.slope, "slope");
    close(ours.intercept, "intercept");
    close(ours.slope_std_error, "slope_std_error");
    close(ours.r_squared, "r_squared");
    let expected_p = theirs["p_value"].as_f64().unwrap();
    if expected_p < 1e-12 {
        // Far in the tail: ours is 1 − CDF in double precision, so only "tiny" is comparable.
        assert!(ours.p_value < 1e-12, "{what} p-value: ours {}, statsmodels {expected_p:e}", ours.p_value);
    } else {
        close(ours.p_value, "p_value");
    }
}

#[test]
fn linear_trend_matches_statsmodels_ols() {
    let reference = reference();
    let train = floats(&reference["train"]);
    let noisy = floats(&reference["noisy"]);
    let ols = &reference["ols"];
    for (values, log, key) in [(&train, false, "co2"), (&train, true, "co2_log"), (&noisy, false, "noisy"), (&noisy, true, "noisy_log")] {
        let ours = linear_trend(values, log).unwrap();
        assert_eq!(ours.log, log);
        assert_matches(&ours, &ols[key], key);
    }
    // The noisy series is there so the p-value comparison means something.
    let p = ols["noisy"]["p_value"].as_f64().unwrap();
    assert!(p > 1e-3 && p < 0.9, "noisy series p-value {p} no longer exercises the t-test");
}
