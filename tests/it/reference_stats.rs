//! Profile statistics against pandas / numpy / scipy on the same data (the demo dataset).
//!
//! Runs `tests/reference/profile_reference.py` with the machine's python3 (`make test`
//! installs numpy, pandas and scipy). A missing Python stack fails the test with a message:
//! numbers we cannot check are not numbers we ship.

use std::path::Path;
use std::process::Command;

use vigil::analysis::profile::{profile_table, ProfileDetail, ProfileParams};
use vigil::analysis::stats::MAX_BINS;
use vigil::data::demo::{demo_csv, DemoParams};
use vigil::data::load::{load_bytes, LoadOptions};

const NUMERIC: [&str; 7] = ["account_age_days", "follower_count", "posts_per_day", "prior_strikes", "risk_score", "views", "band_population"];

fn close(ours: f64, reference: f64, what: &str) {
    let tolerance = 1e-9 * reference.abs().max(1.0);
    assert!((ours - reference).abs() <= tolerance, "{what}: ours {ours}, reference {reference}");
}

#[test]
fn profile_matches_pandas_numpy_scipy() {
    let csv = demo_csv(DemoParams { rows: 20_000, seed: 5 });
    check_profile(&csv, "20,000 rows");
    // 500 rows: numpy's "auto" gives at most 2√500 ≈ 45 bins, below Vigil's cap of 100, so
    // the bin rule itself is checked (prior_strikes' IQR is 0 there), and every bin's count.
    let head: Vec<&[u8]> = csv.split_inclusive(|&b| b == b'\n').take(501).collect();
    check_profile(&head.concat(), "500 rows");
}

fn check_profile(csv: &[u8], label: &str) {
    let dir = std::env::temp_dir().join(format!("vigil-reference-{}-{}", std::process::id(), label.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("demo.csv");
    std::fs::write(&path, csv).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/profile_reference.py");
    let output = Command::new("python3").arg(&script).arg(&path).args(NUMERIC).output().expect("python3 runs");
    assert!(
        output.status.success(),
        "the reference script failed (does `make py-deps` install numpy, pandas, scipy?):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let table = load_bytes(csv, LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let profile = profile_table(&table, &rows, &ProfileParams::default()).unwrap();
    for name in NUMERIC {
        let expected = &reference["columns"][name];
        let column = profile.columns.iter().find(|c| c.name == name).unwrap();
        let ProfileDetail::Numeric { describe: Some(d), histogram: Some(h), outliers, .. } = &column.detail else {
            panic!("{name} is not numeric")
        };
        let f = |key: &str| expected[key].as_f64().unwrap();
        assert_eq!(d.count, f("count"), "{name} count");
        close(d.mean, f("mean"), &format!("{name} mean"));
        close(d.std.unwrap(), f("std"), &format!("{name} std"));
        for (ours, key) in [(d.min, "min"), (d.q1, "q1"), (d.median, "median"), (d.q3, "q3"), (d.max, "max")] {
            close(ours, f(key), &format!("{name} {key}"));
        }
        close(d.skew.unwrap(), f("skew"), &format!("{name} skew"));
        assert_eq!(d.zeros, f("zeros"), "{name} zeros");
        assert_eq!(outliers.map_or(0.0, |o| o.count()), f("outliers"), "{name} MAD outliers");
        assert_eq!(h.counts.len() as f64, f("auto_bins").min(MAX_BINS as f64), "{name} histogram bins ({label})");
        if f("auto_bins") < MAX_BINS as f64 {
            let counts: Vec<f64> = expected["auto_counts"].as_array().unwrap().iter().map(|c| c.as_f64().unwrap()).collect();
            assert_eq!(h.counts, counts, "{name} histogram counts ({label})");
        }
    }
    for c in &profile.correlations {
        let key = if c.a < c.b { format!("{}|{}", c.a, c.b) } else { format!("{}|{}", c.b, c.a) };
        close(c.pearson, reference["correlations"]["pearson"][&key].as_f64().unwrap(), &format!("pearson {key}"));
        close(c.spearman, reference["correlations"]["spearman"][&key].as_f64().unwrap(), &format!("spearman {key}"));
    }
    assert_eq!(profile.correlations.len(), NUMERIC.len() * (NUMERIC.len() - 1) / 2);
    let _ = std::fs::remove_dir_all(&dir);
}
