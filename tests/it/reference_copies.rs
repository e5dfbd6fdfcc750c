//! Near-duplicate texts against the reference: on seeded texts (background posts, planted
//! families of copies that differ by a short code, exact copies in other case and spacing), the
//! groups equal the connected components of "exact Jaccard ≥ threshold" over every pair
//! (brute force in Python); the exact Jaccard of a sample of pairs equals Python's on the same
//! shingles; Vigil's and datasketch's MinHash estimates are both within the estimator's error of
//! it; the LSH banding is datasketch's. Runs `tests/reference/copies_reference.py` (`make py-deps`).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use vigil::analysis::contract::run_now;
use vigil::analysis::copies::{estimate, jaccard_sorted, normalise, shingles, Copies, CopiesParams, MinHasher, ShingleKind};
use vigil::data::load::{load_bytes, LoadOptions};

const WORDS: [&str; 40] = [
    "sunny", "market", "river", "coffee", "garden", "window", "yellow", "travel", "dinner", "music", "office", "morning", "puppy", "summer",
    "bridge", "camera", "pencil", "forest", "ticket", "planet", "silver", "orange", "rocket", "castle", "winter", "guitar", "island", "candle",
    "meadow", "harbor", "violet", "copper", "lantern", "marble", "pepper", "saddle", "timber", "velvet", "walnut", "zephyr",
];

const TEMPLATES: [&str; 6] = [
    "Get 10000 FREE followers in 24 hours, visit fastfollow.example/{} limited offer today only",
    "Congratulations you won an iPhone 17, claim it now at prize-claim.example/{} before midnight",
    "Earn 500 dollars a day from home, message me on telegram @quickcash{} for details",
    "Your account will be suspended, verify your password at secure-login.example/{} immediately",
    "Crypto giveaway: send 0.1 BTC and get 1 BTC back, wallet bc1q{} hurry up friends",
    "Hot singles in your area are waiting, join free at meetnow.example/{} no credit card",
];

struct Corpus {
    texts: Vec<String>,
    /// Index ranges of each planted family's texts.
    families: Vec<std::ops::Range<usize>>,
}

fn corpus(seed: u64) -> Corpus {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut texts = Vec::new();
    for _ in 0..1_500 {
        let n = rng.gen_range(6..16);
        texts.push((0..n).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect::<Vec<_>>().join(" "));
    }
    let code = |rng: &mut ChaCha8Rng| (0..3).map(|_| char::from(b"abcdefghijkmnpqrstuvwxyz23456789"[rng.gen_range(0..32)])).collect::<String>();
    let mut families = Vec::new();
    for (f, template) in TEMPLATES.iter().enumerate() {
        let start = texts.len();
        for _ in 0..3 + 2 * f {
            let text = template.replace("{}", &code(&mut rng));
            // Now and then the same copy in other case and spacing.
            if rng.gen::<f64>() < 0.3 {
                texts.push(format!("  {}", text.to_uppercase().replace(' ', "   ")));
            }
            texts.push(text);
        }
        families.push(start..texts.len());
    }
    // Exact copies of a few background posts (one text each: no family).
    for i in 0..5 {
        let t = texts[i * 100].clone();
        texts.push(t.to_uppercase());
    }
    Corpus { texts, families }
}

fn csv_of(texts: &[String]) -> String {
    let mut csv = String::from("text\n");
    for t in texts {
        csv += &format!("\"{}\"\n", t.replace('"', "\"\""));
    }
    csv
}

#[test]
fn copies_match_brute_force_and_datasketch() {
    let Corpus { texts, families } = corpus(11);
    let (k, threshold, permutations) = (5usize, 0.7, 128usize);

    // Pairs: every pair inside a family, and 300 random pairs.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut pairs: Vec<(usize, usize)> = families.iter().flat_map(|r| r.clone().flat_map(move |i| (i + 1..r.end).map(move |j| (i, j)))).collect();
    for _ in 0..300 {
        pairs.push((rng.gen_range(0..texts.len()), rng.gen_range(0..texts.len())));
    }

    let dir = std::env::temp_dir().join(format!("vigil-copies-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("texts.json"), serde_json::to_string(&texts).unwrap()).unwrap();
    std::fs::write(dir.join("pairs.json"), serde_json::to_string(&pairs).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/copies_reference.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(dir.join("texts.json"))
        .arg(dir.join("pairs.json"))
        .args([k.to_string(), threshold.to_string(), permutations.to_string()])
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reference: Value = serde_json::from_slice(&output.stdout).unwrap();

    // Exact Jaccard on the same shingles (hashed in Vigil, strings in Python), and the estimates.
    let hasher = MinHasher::new(permutations, 1);
    let sets: Vec<Vec<u64>> = texts.iter().map(|t| shingles(&normalise(t), ShingleKind::Characters, k)).collect();
    let signatures: Vec<Vec<u64>> = sets.iter().map(|s| hasher.signature(s)).collect();
    // Each estimate within five standard errors of the MinHash estimator (plus one permutation's
    // worth), at most 2 % of them beyond three (0.3 % expected), and Vigil's mean error no worse
    // than datasketch's (datasketch itself strays to 4 standard errors on a pair of this corpus).
    let (mut ours_error, mut theirs_error, mut ours_far, mut theirs_far) = (0.0, 0.0, 0usize, 0usize);
    for (p, &(i, j)) in pairs.iter().enumerate() {
        let exact = reference["exact"][p].as_f64().unwrap();
        let theirs = reference["datasketch"][p].as_f64().unwrap();
        let ours = estimate(&signatures[i], &signatures[j]);
        assert!((jaccard_sorted(&sets[i], &sets[j]) - exact).abs() < 1e-12, "pair {i},{j}: exact {exact}");
        let sigma = (exact * (1.0 - exact) / permutations as f64).sqrt();
        let slack = 1.0 / permutations as f64;
        assert!((ours - exact).abs() <= 5.0 * sigma + slack, "pair {i},{j}: Vigil {ours} vs exact {exact}");
        assert!((theirs - exact).abs() <= 5.0 * sigma + slack, "pair {i},{j}: datasketch {theirs} vs exact {exact}");
        ours_far += usize::from((ours - exact).abs() > 3.0 * sigma + slack);
        theirs_far += usize::from((theirs - exact).abs() > 3.0 * sigma + slack);
        ours_error += (ours - exact).abs();
        theirs_error += (theirs - exact).abs();
    }
    let n = pairs.len() as f64;
    println!(
        "{} pairs: mean |estimate − exact| Vigil {:.4}, datasketch {:.4}; beyond 3 standard errors: Vigil {ours_far}, datasketch {theirs_far}",
        pairs.len(),
        ours_error / n,
        theirs_error / n
    );
    assert!(ours_far as f64 <= 0.02 * n && theirs_far as f64 <= 0.02 * n);
    assert!(ours_error / n <= 1.2 * theirs_error / n + 0.002, "Vigil's MinHash errs more than datasketch's");

    // Banding as datasketch chooses it.
    let report = {
        let table = load_bytes(csv_of(&texts).as_bytes(), LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        run_now::<Copies>(&table, &rows, &CopiesParams { min_rows: 2, ..CopiesParams::of("text") }).unwrap()
    };
    assert_eq!(serde_json::json!([report.bands, report.rows_per_band]), reference["bands"]);

    // Groups of two texts or more equal the brute-force components.
    let ours: BTreeSet<Vec<String>> = report
        .groups
        .iter()
        .map(|g| g.values.iter().map(|v| normalise(v)).collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>())
        .filter(|g| g.len() >= 2)
        .collect();
    let theirs: BTreeSet<Vec<String>> = reference["components"].as_array().unwrap().iter().map(|c| c.as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect()).collect();
    assert_eq!(ours.len(), TEMPLATES.len());
    assert_eq!(ours, theirs);
    // The exact copies of background posts are groups of one text and two rows.
    assert_eq!(report.groups.iter().filter(|g| g.texts == 1 && g.rows == 2.0).count(), 5);
    println!("{} candidate pairs, {} similar; {} groups", report.candidate_pairs, report.similar_pairs, report.groups_found);
}
