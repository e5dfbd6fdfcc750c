//! Root cause on many generated incidents: random dimensions and cardinalities, causes of
//! depth 1–3 at any value, excess from 5 % to 40 % of the incident window's volume, day-to-day
//! noise, and a distractor: in the incident window another dimension's mix shifts (a roll-out)
//! without changing the volume.
//! Reports top-1 and top-3 accuracy (exact condition sets) and keeps floors as a test.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil::analysis::rootcause::{explain_change, RcaParams, Window};
use vigil::analysis::series::Metric;
use vigil::data::load::{load_bytes, LoadOptions};

const DAY: i64 = 86_400_000;
const START: i64 = 1_780_000_000_000 / DAY * DAY;

/// Draws an index with weights ∝ 1/(i+1) (a Zipf-like mix of common and rare values).
pub fn zipf(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let total: f64 = (1..=n).map(|i| 1.0 / i as f64).sum();
    let mut x = rng.gen::<f64>() * total;
    for i in 0..n {
        x -= 1.0 / (i + 1) as f64;
        if x <= 0.0 {
            return i;
        }
    }
    n - 1
}

struct Case {
    csv: String,
    cause: Vec<(String, String)>,
}

fn generate(seed: u64) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_dims = rng.gen_range(4..=10);
    let cards: Vec<usize> = (0..n_dims).map(|_| rng.gen_range(3..=12)).collect();
    let depth = rng.gen_range(1..=3);
    let mut dims: Vec<usize> = (0..n_dims).collect();
    for i in 0..depth {
        let j = rng.gen_range(i..n_dims);
        dims.swap(i, j);
    }
    let cause: Vec<(usize, usize)> = dims[..depth].iter().map(|&d| (d, rng.gen_range(0..cards[d]))).collect();
    // The distractor: a dimension outside the cause whose value `shift_to` takes 30 % of the
    // incident window's organic rows.
    let distractor = dims[depth];
    let shift_to = rng.gen_range(0..cards[distractor]);
    let per_day = 400.0;
    let (base_days, inc_days) = (21, 3);
    let excess_share = [0.05, 0.1, 0.2, 0.4][rng.gen_range(0..4)];
    let mut csv = String::from("t");
    for d in 0..n_dims {
        csv.push_str(&format!(",d{d}"));
    }
    csv.push('\n');
    let row = |rng: &mut ChaCha8Rng, day: i64, forced: &[(usize, usize)], csv: &mut String| {
        let t = START + day * DAY + rng.gen_range(0..DAY);
        csv.push_str(&vigil::data::time::format_iso_ms(t));
        for (d, &card) in cards.iter().enumerate() {
            let v = forced.iter().find(|(fd, _)| *fd == d).map_or_else(|| zipf(rng, card), |&(_, v)| v);
            csv.push_str(&format!(",v{v}"));
        }
        csv.push('\n');
    };
    for day in 0..base_days + inc_days {
        // Poisson-ish daily volume with ±10 % day-to-day wobble.
        let n = (per_day * (1.0 + 0.1 * (rng.gen::<f64>() - 0.5))) as usize;
        for _ in 0..n {
            let shifted = day >= base_days && rng.gen::<f64>() < 0.3;
            let forced: &[(usize, usize)] = if shifted { &[(distractor, shift_to)] } else { &[] };
            row(&mut rng, day, forced, &mut csv);
        }
    }
    let extra = (per_day * inc_days as f64 * excess_share / (1.0 - excess_share)) as usize;
    for _ in 0..extra {
        let day = base_days + rng.gen_range(0..inc_days);
        row(&mut rng, day, &cause, &mut csv);
    }
    Case { csv, cause: cause.iter().map(|&(d, v)| (format!("d{d}"), format!("v{v}"))).collect() }
}

#[test]
fn random_incidents_are_found() {
    let trials = 60;
    let (mut top1, mut top3) = (0, 0);
    let mut misses = Vec::new();
    for seed in 0..trials {
        let case = generate(seed);
        let table = load_bytes(case.csv.as_bytes(), LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let params = RcaParams {
            time_column: "t".into(),
            metric: Metric::Count,
            baseline: Window { start_ms: START, end_ms: START + 21 * DAY },
            incident: Window { start_ms: START + 21 * DAY, end_ms: START + 24 * DAY },
            dimensions: None,
            max_depth: 3,
            explain_share: 0.8,
        };
        let report = explain_change(&table, &rows, &params).unwrap();
        let mut truth = case.cause.clone();
        truth.sort();
        let matches = |s: &vigil::analysis::rootcause::Segment| {
            let mut got: Vec<(String, String)> = s.conditions.iter().map(|c| (c.column.clone(), c.value.clone())).collect();
            got.sort();
            got == truth
        };
        let rank = report.segments.iter().position(matches);
        if rank == Some(0) {
            top1 += 1;
        }
        if rank.is_some_and(|r| r < 3) {
            top3 += 1;
        } else {
            misses.push(format!("seed {seed}: truth {truth:?}, got {}", report.segments.first().map(|s| s.describe()).unwrap_or_default()));
        }
    }
    let (a1, a3) = (top1 as f64 / trials as f64, top3 as f64 / trials as f64);
    eprintln!("root cause on {trials} generated incidents: top-1 {:.0} %, top-3 {:.0} %", a1 * 100.0, a3 * 100.0);
    for miss in &misses {
        eprintln!("  {miss}");
    }
    // Measured 85 % / 88 % (the misses are mostly 5 % excesses drowned by day-to-day noise or
    // by the distractor's mix shift); floors leave room for seeds, not for regressions.
    assert!(a1 >= 0.75, "top-1 accuracy {a1}");
    assert!(a3 >= 0.8, "top-3 accuracy {a3}");
}
