//! Decision trees against scikit-learn's DecisionTreeClassifier on breast_cancer: the same
//! split, the same depth, held-out accuracy within 0.02, unweighted and with frequency weights
//! (`sample_weight`); and on a tree both grow alike, the same feature importances (mean decrease
//! in impurity, as `feature_importances_`). And on the demo, a tree finds the
//! injected rule-like pattern (`prior_strikes >= 2 ∧ account_age_days < 30`).

use std::path::Path;
use std::process::Command;

use linfa::prelude::Predict;
use ndarray::{Array1, Array2};
use vigil::analysis::cluster::{Encoding, FeatureSpec};
use vigil::analysis::labels::LabelSpec;
use vigil::analysis::tree::{feature_importance, fit, learn_tree, TreeParams};
use vigil::data::demo::{demo_csv, DemoParams};
use vigil::data::load::{load_bytes, LoadOptions};

#[test]
fn held_out_accuracy_matches_scikit_learn() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/tree_reference.py");
    let output = Command::new("python3").arg(&script).output().expect("python3 runs");
    assert!(output.status.success(), "reference script failed (make py-deps?):\n{}", String::from_utf8_lossy(&output.stderr));
    let reference: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows: Vec<Vec<f64>> = reference["x"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()).collect();
    let y: Vec<usize> = reference["y"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let pick = |key: &str| -> Vec<usize> { reference[key].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect() };
    let (train, test) = (pick("train"), pick("test"));
    let matrix = |idx: &[usize]| Array2::from_shape_fn((idx.len(), rows[0].len()), |(i, j)| rows[idx[i]][j]);
    let labels = |idx: &[usize]| idx.iter().map(|&i| y[i]).collect::<Array1<usize>>();
    let weights: Vec<f64> = reference["weights"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let ones = vec![1.0; train.len()];
    let train_weights: Vec<f64> = train.iter().map(|&i| weights[i]).collect();
    for depth in 1..=5usize {
        for (events, key) in [(&ones, "accuracy"), (&train_weights, "weighted_accuracy")] {
            let model = fit(&matrix(&train), &labels(&train), events, depth, 1, 1.0).unwrap();
            let predicted = model.predict(&matrix(&test));
            let weight = |i: usize| if key == "accuracy" { 1.0 } else { weights[i] };
            let correct: f64 = predicted.iter().zip(&test).filter(|(a, &i)| **a == y[i]).map(|(_, &i)| weight(i)).sum();
            let ours = correct / test.iter().map(|&i| weight(i)).sum::<f64>();
            let theirs = reference[key][depth.to_string()].as_f64().unwrap();
            eprintln!("depth {depth} {key}: ours {ours:.4}, scikit-learn {theirs:.4}");
            assert!((ours - theirs).abs() <= 0.02, "depth {depth} {key}: {ours:.4} vs {theirs:.4}");
        }
    }
    importances_match(&reference["synthetic"]);
}

/// Feature importances against `feature_importances_` on trees both libraries grow alike (the
/// reference's synthetic data: clear splits; scikit-learn's tree pruned as linfa prunes),
/// unweighted and weighted, depths 1 to 4.
fn importances_match(synthetic: &serde_json::Value) {
    let floats = |v: &serde_json::Value| -> Vec<f64> { v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
    let rows: Vec<Vec<f64>> = synthetic["x"].as_array().unwrap().iter().map(floats).collect();
    let x = Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j]);
    let y: Array1<usize> = synthetic["y"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let weights = floats(&synthetic["weights"]);
    let ones = vec![1.0; y.len()];
    for depth in 1..=4usize {
        for (events, kind) in [(&ones, "unweighted"), (&weights, "weighted")] {
            let model = fit(&x, &y, events, depth, 1, 1.0).unwrap();
            // The nodes in preorder, as scikit-learn lists them: the feature split on, -2 at a leaf.
            let mut features = Vec::new();
            let mut stack = vec![model.root_node()];
            while let Some(node) = stack.pop() {
                if node.is_leaf() {
                    features.push(-2);
                    continue;
                }
                features.push(node.split().0 as i64);
                stack.extend(node.children().iter().rev().filter_map(|c| c.as_deref()));
            }
            let tree = &synthetic[kind][depth.to_string()];
            let theirs: Vec<i64> = tree["features"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
            assert_eq!(features, theirs, "depth {depth} {kind}: the trees differ");
            let ours = feature_importance(&model, &x, &y, events, 1.0);
            let theirs = floats(&tree["importance"]);
            eprintln!("depth {depth} {kind}: importance ours {ours:.4?}, scikit-learn {theirs:.4?}");
            for (feature, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                // (linfa adds class weights in f32.)
                assert!((a - b).abs() < 1e-4, "depth {depth} {kind} feature {feature}: importance ours {a:.6}, scikit-learn {b:.6}");
            }
        }
    }
}

#[test]
fn a_tree_recovers_the_demo_rule() {
    let table = load_bytes(&demo_csv(DemoParams::default()), LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let numeric = |c: &str| FeatureSpec { column: c.into(), encoding: Encoding::Numeric };
    let params = TreeParams {
        features: vec![numeric("account_age_days"), numeric("prior_strikes"), numeric("follower_count"), numeric("posts_per_day")],
        label: LabelSpec { column: "decision".into(), positive: vec!["removed".into(), "restricted".into()] },
        max_depth: 6,
        min_leaf: 20,
        test_share: 0.3,
        seed: 7,
        precision_target: 0.85,
    };
    let report = learn_tree(&table, &rows, &params).unwrap();
    eprintln!("accuracy train {:.3} test {:.3} baseline {:.3}", report.train_accuracy, report.test_accuracy, report.baseline_accuracy);
    for leaf in &report.leaves {
        eprintln!("  {} → {} ({} / {} train, {} / {} test)", leaf.text, leaf.predicts_positive, leaf.train_positives, leaf.train_rows, leaf.test_positives, leaf.test_rows);
    }
    // A positive leaf whose path bounds both injected conditions: strikes from below at 2
    // (a split at 1.5 or 2.5 on whole numbers), account age from above near 30 (the CSV's ages
    // drift up by a quarter of the day number, DEMO.md), precise on held-out rows (the label is
    // the reviewers' decision: 96 % violations × 93 % sensitivity ≈ 89 %).
    let bound = |text: &str, prefix: &str, range: std::ops::RangeInclusive<f64>| {
        text.split(" and ").any(|c| c.strip_prefix(prefix).and_then(|v| v.parse::<f64>().ok()).is_some_and(|v| range.contains(&v)))
    };
    let found = report.leaves.iter().find(|l| {
        l.predicts_positive
            && bound(&l.text, "prior_strikes >= ", 1.5..=2.5)
            && bound(&l.text, "account_age_days < ", 20.0..=45.0)
            && l.test_rows >= 20.0
            && l.test_positives / l.test_rows >= 0.8
    });
    assert!(found.is_some(), "no leaf recovers the rule");
    // Its text is a rule Vigil can run.
    assert!(vigil::data::expr::parse(&found.unwrap().text).is_ok());
}
