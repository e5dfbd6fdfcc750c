//! Difference in differences against statsmodels (OLS with standard errors clustered by group,
//! `use_t=True`) on seeded daily events in six countries, two of them launched on day 40 with
//! a known effect. Runs `tests/reference/impact_reference.py` (`make py-deps`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use vigil::analysis::contract::{run_now, run_weighted, Weights};
use vigil::analysis::bsts::BstsSettings;
use vigil::analysis::impact::{Impact, ImpactParams};
use vigil::analysis::series::{Granularity, Metric};
use vigil::data::load::{load_bytes, LoadOptions};
use vigil::data::time::{days_from_civil, format_iso_ms, DAY_MS};

const COUNTRIES: [(&str, f64); 6] = [("BR", 60.0), ("DE", 40.0), ("IN", 80.0), ("US", 70.0), ("ZA", 30.0), ("MX", 50.0)];
const TREATED: [&str; 2] = ["BR", "IN"];

/// Events at random times of each day; the treated countries lose 30 % of their events from
/// day 40 on (a friction launch), every country drifts up slowly.
fn events(seed: u64) -> (String, i64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = days_from_civil(2026, 6, 1) * DAY_MS;
    let mut csv = String::from("created_at,country\n");
    for day in 0..60 {
        for (country, base) in COUNTRIES {
            let launched = TREATED.contains(&country) && day >= 40;
            let mean = base * (1.0 + 0.003 * day as f64) * if launched { 0.7 } else { 1.0 } * rng.gen_range(0.85..1.15);
            for _ in 0..mean.round() as i64 {
                let at = start + day * DAY_MS + rng.gen_range(0..DAY_MS);
                let _ = writeln!(csv, "{},{country}", format_iso_ms(at));
            }
        }
    }
    (csv, start + 40 * DAY_MS)
}

#[test]
fn difference_in_differences_matches_statsmodels() {
    let (csv, intervention) = events(23);
    let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let params = ImpactParams {
        time_column: "created_at".into(),
        metric: Metric::Count,
        granularity: Granularity::Day,
        split: "country".into(),
        treated: TREATED.iter().map(|s| s.to_string()).collect(),
        control: vec!["DE".into(), "US".into(), "ZA".into(), "MX".into()],
        intervention_ms: intervention,
        counterfactual: Some(BstsSettings { seasons: 7, ..BstsSettings::default() }),
    };
    let report = run_now::<Impact>(&table, &rows, &params).unwrap();
    // The counterfactual of the treated groups' mean, from the controls, sees the same cut.
    let cf = report.counterfactual.as_ref().unwrap();
    assert!((-0.36..-0.24).contains(&cf.average.relative.mean), "counterfactual {:?}", cf.average);
    assert!(cf.average.absolute.high < 0.0 && cf.p_value < 0.01, "{:?} p {}", cf.average, cf.p_value);
    assert_eq!(cf.predicted.len(), report.starts_ms.len());
    let did = &report.did;
    assert_eq!(did.clusters, 6);
    // The launch cut about 30 % of the treated groups' events.
    let relative = did.relative.unwrap();
    assert!((-0.36..-0.24).contains(&relative), "relative effect {relative}");
    assert!(did.high < 0.0 && did.p_value < 0.01, "{did:?}");
    assert!(report.pre_trend.as_ref().unwrap().p_value > 0.01, "parallel before: {:?}", report.pre_trend);

    let dir = std::env::temp_dir().join(format!("vigil-impact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("events.csv");
    std::fs::write(&path, &csv).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/impact_reference.py");
    let (first, last) = (report.starts_ms[0], *report.starts_ms.last().unwrap());
    let output = Command::new("python3")
        .arg(&script)
        .arg(&path)
        .args([first.to_string(), last.to_string(), intervention.to_string(), TREATED.join(","), params.control.join(",")])
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "reference script failed (make py-deps?):\n{}", String::from_utf8_lossy(&output.stderr));
    let reference: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(did.observations as u64, reference["n"].as_u64().unwrap());
    for (what, ours) in [("effect", did.effect), ("se", did.std_error), ("p", did.p_value), ("low", did.low), ("high", did.high)] {
        let theirs = reference[what].as_f64().unwrap();
        assert!((ours - theirs).abs() <= 1e-6 * theirs.abs().max(1.0), "{what}: ours {ours}, statsmodels {theirs}");
    }

    // Every other country as control gives the same answer here (all six are chosen).
    let rest = run_now::<Impact>(&table, &rows, &ImpactParams { control: Vec::new(), ..params.clone() }).unwrap();
    assert!((rest.did.effect - did.effect).abs() < 1e-9);

    // The same events as a cube (one row per country and hour, stamped mid-hour, with its
    // count): the same answer.
    let mut counts: std::collections::BTreeMap<(String, String), f64> = Default::default();
    for line in csv.lines().skip(1) {
        let (at, country) = line.split_once(',').unwrap();
        *counts.entry((format!("{}:30:00Z", &at[..13]), country.to_string())).or_default() += 1.0;
    }
    let mut cube = String::from("created_at,country,n\n");
    for ((at, country), n) in &counts {
        let _ = writeln!(cube, "{at},{country},{n}");
    }
    let cube = load_bytes(cube.as_bytes(), LoadOptions::default()).unwrap().table;
    let n: Vec<f64> = counts.values().copied().collect();
    let weighted = run_weighted::<Impact>(&cube, &(0..cube.n_rows as u32).collect::<Vec<_>>(), Weights::per_row("n", &n), &params).unwrap();
    assert!((weighted.did.effect - did.effect).abs() < 1e-9 && (weighted.did.std_error - did.std_error).abs() < 1e-9);
}
