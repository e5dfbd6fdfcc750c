//! Clusterings against scikit-learn on its bundled datasets (iris, wine, breast_cancer).
//! Runs `tests/reference/cluster_reference.py` (`make py-deps` installs scikit-learn): both
//! sides cluster the same standardised features with the same settings, and each is scored by
//! the adjusted Rand index against the true classes. With weights (`sample_weight`), k-means
//! reaches scikit-learn's weighted inertia (the objective: labelings of equal inertia may differ,
//! so their ARIs are printed, not compared) and DBSCAN finds its clusters.
//! `cargo test --release --test reference_cluster -- --nocapture` prints the table.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use vigil::analysis::cluster::{adjusted_rand_index, Algorithm, Cluster, ClusterParams, ClusterReport, Encoding, FeatureSpec, MissingPolicy};
use vigil::analysis::contract::{run_weighted, Weights};
use vigil::data::load::{load_bytes, LoadOptions};
use vigil::data::table::Table;

/// The ARIs of the same algorithm with the same settings must agree this closely.
const ARI_TOLERANCE: f64 = 0.02;

fn reference() -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/cluster_reference.py");
    let output = Command::new("python3").arg(&script).output().expect("python3 runs");
    assert!(output.status.success(), "reference script failed (make py-deps?):\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The features `f0…`, and a weight column `w` when given.
fn table_of(x: &[Vec<f64>], weights: Option<&[f64]>) -> Table {
    let n_features = x[0].len();
    let mut csv = (0..n_features).map(|j| format!("f{j}")).collect::<Vec<_>>().join(",");
    csv.push_str(if weights.is_some() { ",w\n" } else { "\n" });
    for (i, row) in x.iter().enumerate() {
        csv.push_str(&row.iter().map(|v| format!("{v}")).collect::<Vec<_>>().join(","));
        if let Some(w) = weights {
            csv.push_str(&format!(",{}", w[i]));
        }
        csv.push('\n');
    }
    load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
}

/// The clustering's labels per point, and its report (rows weighted by `w` when it exists).
fn run(table: &Table, algorithm: Algorithm) -> (Vec<i32>, ClusterReport) {
    let params = ClusterParams {
        entity: None,
        features: table.columns.iter().filter(|c| c.name != "w").map(|c| FeatureSpec { column: c.name.clone(), encoding: Encoding::Numeric }).collect(),
        entity_count: false,
        log1p: false,
        standardise: false,
        clip_z: None,
        missing: MissingPolicy::Drop,
        algorithm,
        seed: 0,
        // Fractional weights: the fit draws this many events by weight.
        sample_limit: 20_000,
        ..ClusterParams::default()
    };
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let weights = vigil::data::weights::weight_column(table, "w").ok();
    let weights = weights.as_deref().map_or(Weights::ONE, |w| Weights::per_row("w", w));
    let report = run_weighted::<Cluster>(table, &rows, weights, &params).unwrap();
    (report.kept.get().unwrap().labels.clone(), report)
}

#[test]
fn kmeans_gmm_and_dbscan_agree_with_scikit_learn() {
    let reference = reference();
    let mut failures = Vec::new();
    eprintln!("{:<14} {:>22} {:>22} {:>18} {:>18} {:>16}", "dataset", "k-means ARI (sk/ours)", "inertia (sk/ours)", "GMM ARI (sk/ours)", "DBSCAN ARI", "DBSCAN vs sk ARI");
    for name in ["iris", "wine", "breast_cancer"] {
        let data = &reference[name];
        let x: Vec<Vec<f64>> = data["x"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()).collect();
        let y: Vec<i32> = data["y"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap() as i32).collect();
        let k = data["k"].as_u64().unwrap() as usize;
        let table = table_of(&x, None);
        assert_eq!(table.n_rows, y.len());

        let (km_labels, km) = run(&table, Algorithm::KMeans { k: Some(k), n_init: 10, max_iter: 300 });
        let km_ari = adjusted_rand_index(&km_labels, &y);
        let sk_km_ari = data["kmeans"]["ari"].as_f64().unwrap();
        let inertia = km.inertia.unwrap();
        let sk_inertia = data["kmeans"]["inertia"].as_f64().unwrap();

        let (gmm_labels, _) = run(&table, Algorithm::Gmm { k, max_iter: 100 });
        let gmm_ari = adjusted_rand_index(&gmm_labels, &y);
        let sk_gmm_ari = data["gmm"]["ari"].as_f64().unwrap();

        let eps = data["eps"].as_f64().unwrap();
        let min_points = data["min_samples"].as_u64().unwrap() as usize;
        let (db_labels, _) = run(&table, Algorithm::Dbscan { eps: Some(eps), min_points });
        let db_ari = adjusted_rand_index(&db_labels, &y);
        let sk_db: Vec<i32> = data["dbscan"]["labels"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap() as i32).collect();
        let sk_db_ari = data["dbscan"]["ari"].as_f64().unwrap();
        let db_agreement = adjusted_rand_index(&db_labels, &sk_db);
        eprintln!(
            "{name:<14} {:>10.4} / {:<9.4} {:>10.2} / {:<9.2} {:>8.4} / {:<7.4} {:>8.4} / {:<7.4} {:>16.4}",
            sk_km_ari, km_ari, sk_inertia, inertia, sk_gmm_ari, gmm_ari, sk_db_ari, db_ari, db_agreement
        );
        if (km_ari - sk_km_ari).abs() > ARI_TOLERANCE {
            failures.push(format!("{name}: k-means ARI {km_ari:.4} vs scikit-learn {sk_km_ari:.4}"));
        }
        // The same objective: ours may not be worse than scikit-learn's best of 10 by over 0.1 %.
        if inertia > sk_inertia * 1.001 {
            failures.push(format!("{name}: k-means inertia {inertia:.3} vs scikit-learn {sk_inertia:.3}"));
        }
        if (db_ari - sk_db_ari).abs() > ARI_TOLERANCE {
            failures.push(format!("{name}: DBSCAN ARI {db_ari:.4} vs scikit-learn {sk_db_ari:.4}"));
        }
        // EM from linfa's k-means start against scikit-learn's best of 5 k-means starts.
        if (gmm_ari - sk_gmm_ari).abs() > ARI_TOLERANCE {
            failures.push(format!("{name}: GMM ARI {gmm_ari:.4} vs scikit-learn {sk_gmm_ari:.4}"));
        }
        // Weighted: whole weights are fitted as repeated rows; fractional ones on 20,000 events
        // drawn by weight, whose inertia (over the rows, by weight) may be 0.5 % above.
        for (kind, slack) in [("whole", 1.001), ("fractional", 1.005)] {
            let reference = &data["weighted"][kind];
            let weights: Vec<f64> = reference["weights"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            let table = table_of(&x, Some(&weights));
            let (labels, km) = run(&table, Algorithm::KMeans { k: Some(k), n_init: 10, max_iter: 300 });
            let (ari, inertia) = (adjusted_rand_index(&labels, &y), km.inertia.unwrap());
            let (sk_ari, sk_inertia) = (reference["kmeans"]["ari"].as_f64().unwrap(), reference["kmeans"]["inertia"].as_f64().unwrap());
            eprintln!("{name:<14} {kind:<10} k-means ARI {sk_ari:.4} / {ari:.4}, inertia {sk_inertia:.2} / {inertia:.2}");
            if inertia > sk_inertia * slack {
                failures.push(format!("{name} ({kind} weights): k-means ARI {ari:.4}, inertia {inertia:.3} vs scikit-learn {sk_ari:.4}, {sk_inertia:.3}"));
            }
            // DBSCAN's core test counts weights (whole ones: repeated rows): the same clusters.
            // Fractional weights are drawn as events, which a density test cannot match exactly.
            if kind == "whole" {
                let (db_labels, _) = run(&table, Algorithm::Dbscan { eps: Some(eps), min_points });
                let sk_db: Vec<i32> = reference["dbscan"]["labels"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap() as i32).collect();
                let db_agreement = adjusted_rand_index(&db_labels, &sk_db);
                if db_agreement < 1.0 - 1e-9 {
                    failures.push(format!("{name} (whole weights): DBSCAN agrees with scikit-learn's at ARI {db_agreement:.4}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The silhouette (of fewer points than its sample: all of them) against scikit-learn's
/// `silhouette_score`: of the true classes, with a singleton (which scores 0), and of DBSCAN's
/// clusters with its noise left out.
#[test]
fn silhouette_matches_scikit_learn() {
    let reference = reference();
    let mut compared = 0;
    for name in ["iris", "wine", "breast_cancer"] {
        let data = &reference[name];
        let rows: Vec<Vec<f64>> = data["x"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()).collect();
        let x = ndarray::Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j]);
        let labels = |key: &str| -> Vec<i32> { data[key].as_array().unwrap().iter().map(|v| v.as_i64().unwrap() as i32).collect() };
        let classes = labels("y");
        let mut singleton = classes.clone();
        singleton[0] = 99;
        let noise_free = data["dbscan"]["labels"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap() as i32).map(|l| if l < 0 { vigil::analysis::cluster::NOISE } else { l }).collect::<Vec<_>>();
        for (key, labels) in [("classes", &classes), ("singleton", &singleton), ("dbscan", &noise_free)] {
            let ours = vigil::analysis::cluster::silhouette(x.view(), labels, 7);
            let theirs = data["silhouette"][key].as_f64();
            eprintln!("{name} {key}: silhouette ours {ours:?}, scikit-learn {theirs:?}");
            match (ours, theirs) {
                (Some(ours), Some(theirs)) => assert!((ours - theirs).abs() < 1e-9, "{name} {key}: silhouette ours {ours}, scikit-learn {theirs}"),
                (ours, theirs) => assert_eq!(ours.is_some(), theirs.is_some(), "{name} {key}: one cluster has no silhouette"),
            }
            compared += usize::from(ours.is_some());
        }
    }
    assert!(compared >= 7, "only {compared} silhouettes compared");
}

#[test]
fn adjusted_rand_index_matches_known_values() {
    // Identical partitions (up to renaming) score 1; scikit-learn's documented examples.
    assert!((adjusted_rand_index(&[0, 0, 1, 1], &[1, 1, 0, 0]) - 1.0).abs() < 1e-12);
    assert!((adjusted_rand_index(&[0, 0, 1, 2], &[0, 0, 1, 1]) - 0.5714285714285715).abs() < 1e-12);
    assert!((adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 1, 2]) - 0.5714285714285715).abs() < 1e-12);
    assert!((adjusted_rand_index(&[0, 0, 0, 0], &[0, 1, 2, 3]) - 0.0).abs() < 1e-12);
}
