//! Prevalence against statsmodels (the three binomial intervals) and samplics (the
//! Taylor-linearised stratified, Horvitz–Thompson and view-weighted estimators, overall and by
//! domain) on one seeded labelled sample. Runs `tests/reference/prevalence_reference.py`
//! (`make py-deps` installs both).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use vigil::analysis::contract::run_now;
use vigil::analysis::labels::LabelSpec;
use vigil::analysis::prevalence::{Design, Estimate, Interval, Prevalence, PrevalenceParams};
use vigil::data::load::{load_bytes, LoadOptions};

/// Four score bands sampled at different rates from populations of very different sizes, the
/// violating share rising with the band; five countries; views per item; a per-row inclusion
/// probability for the Horvitz–Thompson design.
fn sample_csv() -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    let bands = [("low", 400, 200_000.0, 0.004), ("mid", 300, 20_000.0, 0.05), ("high", 200, 2_000.0, 0.3), ("top", 100, 400.0, 0.8)];
    let countries = ["BR", "DE", "IN", "US", "ZA"];
    let mut csv = String::from("label,band,population,country,views,probability,reviewed_at\n");
    for (band, n, population, rate) in bands {
        for _ in 0..n {
            let violating = rng.gen::<f64>() < rate;
            let country = countries[rng.gen_range(0..countries.len())];
            let views = (rng.gen::<f64>() * 6.0).exp().round();
            let probability = n as f64 / population * rng.gen_range(0.5..1.5);
            let day = rng.gen_range(1..=28);
            let _ = writeln!(csv, "{},{band},{population},{country},{views},{probability},2026-10-{day:02}T12:00:00Z", if violating { "violating" } else { "fine" });
        }
    }
    csv
}

fn close(what: &str, ours: f64, theirs: &Value) {
    let theirs = theirs.as_f64().unwrap_or_else(|| panic!("{what}: no reference value"));
    assert!((ours - theirs).abs() < 1e-9, "{what}: ours {ours}, reference {theirs}");
}

fn same_taylor(what: &str, ours: &Estimate, theirs: &Value) {
    close(&format!("{what} estimate"), ours.estimate, &theirs["estimate"]);
    close(&format!("{what} se"), ours.se, &theirs["se"]);
    close(&format!("{what} low"), ours.low, &theirs["low"]);
    close(&format!("{what} high"), ours.high, &theirs["high"]);
}

#[test]
fn prevalence_matches_statsmodels_and_samplics() {
    let csv = sample_csv();
    let dir = std::env::temp_dir().join(format!("vigil-prevalence-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sample.csv");
    std::fs::write(&path, &csv).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/prevalence_reference.py");
    let output = Command::new("python3").arg(&script).arg(&path).output().expect("python3 runs");
    assert!(output.status.success(), "reference script failed (make py-deps?):\n{}", String::from_utf8_lossy(&output.stderr));
    let reference: Value = serde_json::from_slice(&output.stdout).unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let simple = PrevalenceParams { by: Some("country".into()), time: Some("reviewed_at".into()), ..PrevalenceParams::of(LabelSpec { column: "label".into(), positive: vec!["violating".into()] }) };

    // Simple sample: all three intervals, overall and per country.
    let report = run_now::<Prevalence>(&table, &rows, &simple).unwrap();
    assert!(report.simple);
    let check_binomial = |what: &str, ours: &Estimate, theirs: &Value| {
        assert_eq!(ours.positives, theirs["x"].as_f64().unwrap(), "{what}");
        assert_eq!(ours.labelled, theirs["n"].as_f64().unwrap(), "{what}");
        let b = ours.binomial.unwrap();
        for (name, (low, high)) in [("wilson", b.wilson), ("clopper_pearson", b.clopper_pearson), ("jeffreys", b.jeffreys)] {
            close(&format!("{what} {name} low"), low, &theirs[name][0]);
            close(&format!("{what} {name} high"), high, &theirs[name][1]);
        }
    };
    check_binomial("overall", &report.overall, &reference["simple"]);
    let breakdown = report.breakdown.as_ref().unwrap();
    assert_eq!(breakdown.groups.len(), 5);
    for group in &breakdown.groups {
        check_binomial(&group.value, &group.estimate, &reference["simple_by_country"][&group.value]);
    }
    // The headline interval is the one chosen.
    let jeffreys = run_now::<Prevalence>(&table, &rows, &PrevalenceParams { interval: Interval::Jeffreys, ..simple.clone() }).unwrap();
    assert_eq!((jeffreys.overall.low, jeffreys.overall.high), jeffreys.overall.binomial.unwrap().jeffreys);
    // Periods partition the sample.
    let periods = &report.over_time.as_ref().unwrap().periods;
    assert_eq!(periods.iter().map(|p| p.estimate.labelled).sum::<f64>(), report.overall.labelled);

    // Stratified by band with population sizes (finite population correction), overall and by
    // country as domains.
    let stratified = PrevalenceParams { stratum: Some("band".into()), design: Design::Population("population".into()), target_margin: Some(0.001), ..simple.clone() };
    let report = run_now::<Prevalence>(&table, &rows, &stratified).unwrap();
    assert!(!report.simple);
    same_taylor("stratified", &report.overall, &reference["stratified"]);
    for group in &report.breakdown.as_ref().unwrap().groups {
        same_taylor(&format!("stratified {}", group.value), &group.estimate, &reference["stratified_by_country"][&group.value]);
    }
    // The stratified estimate is far from the raw share: the top band is oversampled.
    assert!(report.overall.estimate < 0.5 * run_now::<Prevalence>(&table, &rows, &simple).unwrap().overall.estimate);
    // Kish's design effect: the design's variance over a simple sample's of the same size. The
    // bands predict the label, so stratifying on them pays (below 1).
    let o = &report.overall;
    let deff = o.deff.unwrap();
    assert!((deff - o.se * o.se / (o.estimate * (1.0 - o.estimate) / o.labelled)).abs() < 1e-12);
    assert!(deff < 1.0, "stratification on a predictive band: deff {deff}");
    let plan = report.plan.as_ref().unwrap();
    assert_eq!(plan.strata.len(), 4);
    assert!(plan.more > 0.0);

    // Horvitz–Thompson weights from per-row inclusion probabilities.
    let ht = PrevalenceParams { design: Design::Probability("probability".into()), ..simple.clone() };
    same_taylor("Horvitz–Thompson", &run_now::<Prevalence>(&table, &rows, &ht).unwrap().overall, &reference["horvitz_thompson"]);

    // Share of views, stratified.
    let views = PrevalenceParams { views: Some("views".into()), ..stratified };
    same_taylor("views", &run_now::<Prevalence>(&table, &rows, &views).unwrap().overall, &reference["views"]);
}
