//! Native k-means on the browser benchmark's blob data (`make bench` runs it from
//! benches/browser/run.mjs): Vigil's own pipeline and a plain linfa fit, timed the same way as in
//! the browser, printed as one JSON line for run.mjs to compare against.
//!
//! `VIGIL_KMEANS_CSV=path VIGIL_KMEANS_K=8 VIGIL_KMEANS_ITER=20 cargo bench --bench cluster`
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark code: failures should be loud

use std::time::Instant;

use linfa::traits::Fit;
use linfa::DatasetBase;
use linfa_clustering::KMeans;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use vigil::analysis::contract::Weights;
use vigil::analysis::cluster::{describe, prepare, Algorithm, ClusterParams, Encoding, FeatureSpec, Fitter, MissingPolicy, Step};
use vigil::data::load::{load_bytes, LoadOptions};

fn main() {
    let Ok(path) = std::env::var("VIGIL_KMEANS_CSV") else {
        eprintln!("set VIGIL_KMEANS_CSV to a CSV of numeric columns (benches/browser/run.mjs writes one)");
        return;
    };
    let k: usize = std::env::var("VIGIL_KMEANS_K").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let iterations: u64 = std::env::var("VIGIL_KMEANS_ITER").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let bytes = std::fs::read(&path).expect("read the CSV");
    let table = load_bytes(&bytes, LoadOptions::default()).expect("load").table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let params = ClusterParams {
        entity: None,
        features: table.columns.iter().map(|c| FeatureSpec { column: c.name.clone(), encoding: Encoding::Numeric }).collect(),
        entity_count: false,
        log1p: false,
        standardise: false,
        clip_z: None,
        missing: MissingPolicy::Drop,
        algorithm: Algorithm::KMeans { k: Some(k), n_init: 1, max_iter: iterations },
        sample_limit: table.n_rows,
        seed: 7,
        label: None,
        scan_k: false,
    };

    // Vigil's pipeline, phase by phase (the worker times the same phases).
    let started = Instant::now();
    let prepared = prepare(&table, &rows, Weights::ONE, &params).expect("prepare");
    let features_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut fitter = Fitter::new(&prepared, &params);
    let mut fit_ms = 0.0;
    loop {
        let phase = fitter.phase_name();
        let step_started = Instant::now();
        let step = fitter.step(&prepared).expect("step");
        if phase == "fit" {
            fit_ms += step_started.elapsed().as_secs_f64() * 1000.0;
        }
        if step == Step::Done {
            break;
        }
    }
    let vigil_iterations = fitter.iterations();
    let outcome = describe(&table, Weights::ONE, prepared, fitter).expect("describe");
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;

    // Plain linfa: one k-means++ run of at most `iterations` Lloyd steps on the same matrix.
    let x = outcome.kept.get().expect("kept points").prepared.x.clone();
    let linfa_started = Instant::now();
    let model = KMeans::params_with_rng(k, ChaCha8Rng::seed_from_u64(7))
        .n_runs(1)
        .max_n_iterations(iterations)
        .tolerance(1e-12)
        .fit(&DatasetBase::from(x.view()))
        .expect("linfa fit");
    let linfa_ms = linfa_started.elapsed().as_secs_f64() * 1000.0;
    let _ = model;

    println!(
        "{{\"rows\":{},\"features\":{},\"k\":{k},\"vigil_total_ms\":{total_ms:.1},\"vigil_features_ms\":{features_ms:.1},\"vigil_fit_ms\":{fit_ms:.1},\"vigil_iterations\":{vigil_iterations},\"linfa_fit_ms\":{linfa_ms:.1},\"linfa_max_iterations\":{iterations},\"threads\":{}}}",
        table.n_rows,
        table.columns.len(),
        // rayon's pool (linfa's assignment step) follows RAYON_NUM_THREADS; 0 or unset: every core.
        std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 0).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    );
}
