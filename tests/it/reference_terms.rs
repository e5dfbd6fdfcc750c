//! Emerging terms against an independent Python implementation of Kleinberg's two-state model
//! (scipy's binomial, NumPy dynamic programming; `tests/reference/terms_reference.py`) on seeded
//! posts: a weekly rhythm of everyday words, planted bursts of different lengths and strengths,
//! a slow drift, and words too rare to follow. The same words burst, over the same days, with
//! the same weights.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use vigil::analysis::contract::run_now;
use vigil::analysis::terms::{Period, Terms, TermsParams, MAX_TERMS};
use vigil::data::load::{load_bytes, LoadOptions};

const EVERYDAY: [&str; 24] = [
    "garden", "coffee", "weekend", "music", "dinner", "photo", "friends", "school", "office", "travel", "beach", "movie",
    "recipe", "puppy", "concert", "morning", "running", "painting", "camera", "laptop", "football", "summer", "library", "bakery",
];

/// (word, first day, days, share of that day's posts)
const PLANTED: [(&str, usize, usize, f64); 5] =
    [("giveaway", 20, 1, 0.05), ("blackout", 35, 3, 0.08), ("airdrop", 50, 2, 0.04), ("outage", 70, 5, 0.03), ("petition", 80, 1, 0.2)];

fn posts(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut csv = String::from("at,text\n");
    for day in 0..91usize {
        let weekend = day % 7 >= 5;
        let volume = if weekend { 260 } else { 200 } + rng.gen_range(0..40);
        for _ in 0..volume {
            let mut words: Vec<String> = (0..rng.gen_range(3..8)).map(|_| EVERYDAY[rng.gen_range(0..EVERYDAY.len())].to_string()).collect();
            // A slow drift: "streaming" grows from 1 % to 3 % of posts.
            if rng.gen::<f64>() < 0.01 + 0.02 * day as f64 / 90.0 {
                words.push("streaming".into());
            }
            for &(word, first, days, share) in &PLANTED {
                if (first..first + days).contains(&day) && rng.gen::<f64>() < share {
                    words.push(word.into());
                }
            }
            // The planted words also turn up now and then outside their bursts.
            if rng.gen::<f64>() < 0.002 {
                words.push(PLANTED[rng.gen_range(0..PLANTED.len())].0.into());
            }
            if rng.gen::<f64>() < 0.001 {
                words.push(format!("rare{}", rng.gen_range(0..1000)));
            }
            let at = day as i64 * 86_400 + rng.gen_range(0..86_400);
            let _ = writeln!(csv, "{},{}", vigil::data::time::format_iso_ms(1_785_715_200_000 + at * 1000), words.join(" "));
        }
    }
    csv
}

#[test]
fn bursts_match_an_independent_implementation() {
    let csv = posts(3);
    let dir = std::env::temp_dir().join(format!("vigil-terms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("posts.csv");
    std::fs::write(&path, &csv).unwrap();
    let (scale, gamma, min_count) = (2.0, 1.0, 10);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/terms_reference.py");
    let output = Command::new("python3").arg(&script).arg(&path).args([scale.to_string(), gamma.to_string(), min_count.to_string()]).output().expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reference: BTreeMap<String, Value> = serde_json::from_slice(&output.stdout).unwrap();

    let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let report = run_now::<Terms>(&table, &rows, &TermsParams { scale, gamma, min_count, ..TermsParams::of("text", "at") }).unwrap();
    assert_eq!(report.period, Period::Day);
    assert_eq!(report.period_starts.len(), 91);
    assert_eq!(report.bursting, reference.len(), "bursting words: Vigil {}, reference {:?}", report.bursting, reference.keys().collect::<Vec<_>>());
    assert!(reference.len() <= MAX_TERMS);
    for term in &report.terms {
        let theirs = &reference[&term.term];
        assert!((term.base_rate - theirs["base_rate"].as_f64().unwrap()).abs() < 1e-12, "{}", term.term);
        let mut ours: Vec<(u64, u64, f64)> = term.bursts.iter().map(|b| (b.first as u64, b.last as u64, b.weight)).collect();
        ours.sort_by_key(|b| b.0);
        let theirs: Vec<(u64, u64, f64)> = theirs["bursts"].as_array().unwrap().iter().map(|b| (b[0].as_u64().unwrap(), b[1].as_u64().unwrap(), b[2].as_f64().unwrap())).collect();
        assert_eq!(ours.len(), theirs.len(), "{}: {ours:?} vs {theirs:?}", term.term);
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!((a.0, a.1), (b.0, b.1), "{}", term.term);
            assert!((a.2 - b.2).abs() <= 1e-9 * b.2.abs().max(1.0), "{}: weight {} vs {}", term.term, a.2, b.2);
        }
    }
    // The planted words' heaviest bursts are their days; no everyday word bursts; the drift
    // ("streaming", tripling over the period) bursts at its end, as an emerging word should.
    for &(word, first, days, _) in &PLANTED {
        let term = report.terms.iter().find(|t| t.term == word).unwrap_or_else(|| panic!("{word} not found in {:?}", report.terms.iter().map(|t| (&t.term, &t.bursts)).collect::<Vec<_>>()));
        let heaviest = &term.bursts[0];
        // It starts on the first planted day and covers them all; the model may bridge a few quiet
        // days after it when the word turns up again soon (leaving and re-entering would cost more).
        assert_eq!(heaviest.first, first, "{word}");
        assert!((first + days - 1..=first + days + 2).contains(&heaviest.last), "{word}: {heaviest:?}");
    }
    assert!(report.terms.iter().all(|t| !EVERYDAY.contains(&t.term.as_str())));
    let drift = report.terms.iter().find(|t| t.term == "streaming").unwrap();
    assert_eq!(drift.bursts[0].last, 90);
    println!("{} words followed, {} bursting: {:?}", report.followed, report.bursting, report.terms.iter().map(|t| (&t.term, t.bursts.len())).collect::<Vec<_>>());
}
