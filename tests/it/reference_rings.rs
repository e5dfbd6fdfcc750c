//! Rings against networkx on the same seeded accounts: identical connected components of the
//! entity–value graph (values over the cap left out), and the split of the largest component
//! with a modularity within 0.02 of networkx's Louvain at the same resolution. Runs
//! `tests/reference/rings_reference.py` (`make py-deps`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use vigil::analysis::contract::run_now;
use vigil::analysis::rings::{Rings, RingsParams};
use vigil::data::load::{load_bytes, LoadOptions};

/// Background accounts with their own devices and sparse IPs, three NAT addresses used by a tenth
/// of all rows, 12 planted rings sharing devices, and six clusters of 40 accounts sharing IPs
/// within the cluster and a few across (one component of 240 to split).
fn accounts(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut csv = String::from("account,device,ip\n");
    let nat = |rng: &mut ChaCha8Rng| format!("100.64.0.{}", rng.gen_range(1..4));
    for i in 0..2_000 {
        for _ in 0..rng.gen_range(1..5) {
            let ip = if rng.gen::<f64>() < 0.1 { nat(&mut rng) } else { format!("10.{}.{}.{}", rng.gen_range(0..50), rng.gen_range(0..100), rng.gen_range(0..100)) };
            let _ = writeln!(csv, "u{i},dev{i},{ip}");
        }
    }
    for r in 0..12 {
        let size = 4 + 2 * r;
        for j in 0..size {
            for _ in 0..rng.gen_range(1..4) {
                let _ = writeln!(csv, "r{r}_{j},rd{r}_{},{}", rng.gen_range(0..2), nat(&mut rng));
            }
        }
    }
    for c in 0..6 {
        for j in 0..40 {
            for _ in 0..rng.gen_range(2..5) {
                let cluster = if j < 2 && rng.gen::<f64>() < 0.5 { (c + 1) % 6 } else { c };
                let _ = writeln!(csv, "g{c}_{j},gd{c}_{j},172.16.{cluster}.{}", rng.gen_range(0..8));
            }
        }
    }
    csv
}

fn reference(csv: &str, cap: usize, resolution: f64) -> Value {
    let dir = std::env::temp_dir().join(format!("vigil-rings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("accounts.csv");
    std::fs::write(&path, csv).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/rings_reference.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(&path)
        .args(["account", &cap.to_string(), &resolution.to_string(), "device", "ip"])
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "reference script failed (make py-deps?):\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn components_and_communities_match_networkx() {
    let csv = accounts(5);
    let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let theirs = reference(&csv, 50, 1.0);

    // Components: every one, unsplit.
    let whole = RingsParams { min_size: 2, split_above: usize::MAX, ..RingsParams::of("account", &["device", "ip"]) };
    let ours = run_now::<Rings>(&table, &rows, &whole).unwrap();
    let expected: Vec<Vec<String>> = theirs["components"].as_array().unwrap().iter().map(|c| c.as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect()).collect();
    assert_eq!(ours.components, expected.len());
    assert!(ours.rings_found <= vigil::analysis::rings::MAX_RINGS, "all components listed");
    let mut got: Vec<Vec<String>> = ours.rings.iter().map(|r| {
        let mut m = r.members.clone();
        m.sort();
        m
    }).collect();
    got.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a[0].cmp(&b[0])));
    assert_eq!(got, expected);
    assert_eq!(ours.excluded.len(), 3, "the NAT addresses: {:?}", ours.excluded);
    assert_eq!(ours.largest_component as u64, theirs["largest_entities"].as_u64().unwrap());
    assert_eq!(ours.largest_component, 240);

    // The largest component split into communities, as good as networkx's Louvain.
    for resolution in [1.0, 0.5] {
        let theirs = if resolution == 1.0 { theirs.clone() } else { reference(&csv, 50, resolution) };
        let split = run_now::<Rings>(&table, &rows, &RingsParams { resolution, split_above: 200, min_size: 2, ..whole.clone() }).unwrap();
        assert_eq!(split.splits.len(), 1);
        let (q, nx) = (split.splits[0].modularity, theirs["modularity"].as_f64().unwrap());
        assert!((q - nx).abs() <= 0.02, "resolution {resolution}: modularity ours {q}, networkx {nx}");
        if resolution == 1.0 {
            // The six planted clusters come out as communities of about 40.
            assert!((5..=10).contains(&split.splits[0].communities), "{:?}", split.splits);
            assert!(split.rings.iter().filter(|r| r.community_of.is_some()).all(|r| r.entities <= 80), "{:?}", split.rings.iter().map(|r| r.entities).collect::<Vec<_>>());
        }
    }
}
