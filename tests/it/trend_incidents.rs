//! Incidents on generated daily series, scored by precision and recall: the traps that made
//! Trends invent a monthly cycle. Daily counts with a weekly cycle, a slow trend and
//! overdispersed noise; three spikes of 2–5 days (+35 % to +100 %). Three shapes:
//!
//! - **Spaced**: the spikes about a month apart (28–32 days) and no monthly pattern at all: a
//!   cycle made of the spikes themselves would expect them again and flag false dips.
//! - **Monthly**: a true monthly pattern (±20 %, a 30-day wave) over 210 days:
//!   the 30-day cycle is found, and the spikes still are.
//! - **Early**: a spike in the first month, after two full weeks of history.
//!
//! An injected spike is found when an incident overlaps it; an incident overlapping none is false.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use vigil::analysis::trend::{analyze, TrendParams};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Shape {
    Spaced,
    Monthly,
    Early,
}

/// A generated series and its spikes (first and last day, inclusive).
struct Case {
    values: Vec<f64>,
    spikes: Vec<(usize, usize)>,
}

fn generate(seed: u64, shape: Shape) -> Case {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7E3D_0019);
    let days = if shape == Shape::Monthly { 210 } else { 120 };
    let level = rng.gen_range(500.0..3000.0);
    let weekly: [f64; 7] = [1.0, 1.02, 0.98, 1.0, 1.05, 1.25, 1.2];
    let phase = rng.gen_range(0..7);
    let growth = rng.gen_range(0.0..0.004);
    let mut spikes: Vec<(usize, usize)> = Vec::new();
    let length = |rng: &mut ChaCha8Rng| rng.gen_range(2..=5);
    match shape {
        Shape::Spaced | Shape::Monthly => {
            let mut start = rng.gen_range(20..35);
            for _ in 0..3 {
                let len = length(&mut rng);
                if start + len + 2 < days {
                    spikes.push((start, start + len - 1));
                }
                start += rng.gen_range(28..=32);
            }
        }
        Shape::Early => {
            let start = rng.gen_range(14..28);
            spikes.push((start, start + length(&mut rng) - 1));
            let start = rng.gen_range(50..70);
            spikes.push((start, start + length(&mut rng) - 1));
            let start = rng.gen_range(85..110);
            spikes.push((start, start + length(&mut rng) - 1));
        }
    }
    let lifts: Vec<f64> = spikes.iter().map(|_| rng.gen_range(0.35..1.0)).collect();
    let noise = Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!());
    let values = (0..days)
        .map(|day| {
            let mut mean = level * (1.0 + growth * day as f64) * weekly[(day + phase) % 7];
            if shape == Shape::Monthly {
                mean *= 1.0 + 0.2 * (std::f64::consts::TAU * day as f64 / 30.0).sin();
            }
            if let Some(k) = spikes.iter().position(|&(a, b)| (a..=b).contains(&day)) {
                mean *= 1.0 + lifts[k];
            }
            // Poisson noise and 3 % day-to-day overdispersion.
            let sd = (mean + (0.03 * mean).powi(2)).sqrt();
            (mean + sd * noise.sample(&mut rng)).round().max(0.0)
        })
        .collect();
    Case { values, spikes }
}

/// (true incidents found, spikes, false incidents, incidents) over `trials` seeds, printing misses.
fn score(shape: Shape, trials: u64) -> (usize, usize, usize, usize, usize) {
    let first: u64 = std::env::var("TREND_FIRST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let (mut found, mut spikes, mut false_alarms, mut incidents, mut monthly) = (0, 0, 0, 0, 0);
    for seed in first..first + trials {
        let case = generate(seed, shape);
        let analysis = analyze(&case.values, &[7], &TrendParams::default()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let overlaps = |(a, b): (usize, usize), i: &vigil::analysis::trend::Incident| i.start <= b && i.end >= a;
        let hit = case.spikes.iter().filter(|&&s| analysis.incidents.iter().any(|i| overlaps(s, i))).count();
        let wrong: Vec<_> = analysis.incidents.iter().filter(|i| !case.spikes.iter().any(|&s| overlaps(s, i))).collect();
        let cycles: Vec<usize> = analysis.seasonal.iter().map(|s| s.period).collect();
        if cycles.iter().any(|&p| (28..=32).contains(&p)) {
            monthly += 1;
        }
        if hit < case.spikes.len() || !wrong.is_empty() {
            eprintln!(
                "  {shape:?} seed {seed}: spikes {:?}, found {hit}, false {:?}, cycles {cycles:?}",
                case.spikes,
                wrong.iter().map(|i| (i.start, i.end, i.direction)).collect::<Vec<_>>()
            );
        }
        found += hit;
        spikes += case.spikes.len();
        false_alarms += wrong.len();
        incidents += analysis.incidents.len();
    }
    (found, spikes, false_alarms, incidents, monthly)
}

#[test]
fn incidents_a_cycle_apart_make_no_phantom_cycle_and_early_ones_are_found() {
    let trials = 40;
    let (mut found, mut spikes, mut wrong, mut listed) = (0, 0, 0, 0);
    for shape in [Shape::Spaced, Shape::Monthly, Shape::Early] {
        let (hit, injected, false_alarms, incidents, monthly) = score(shape, trials);
        let precision = (incidents - false_alarms) as f64 / incidents.max(1) as f64;
        eprintln!(
            "{shape:?}: recall {:.1} % ({hit}/{injected}), precision {:.1} % ({false_alarms} false of {incidents}), a ~30-day cycle in {monthly} of {trials} series",
            hit as f64 / injected as f64 * 100.0,
            precision * 100.0
        );
        match shape {
            // No cycle the data does not have, and so no false dips from one.
            Shape::Spaced | Shape::Early => {
                assert_eq!(monthly, 0, "{shape:?}: a monthly cycle the data does not have");
                assert!(precision >= 0.95, "{shape:?}: precision {precision}");
            }
            // The real cycle is found, and few false incidents remain: single days where the
            // monthly shape, estimated from 7 cycles, is a little off (precision 100 % on these
            // seeds, 99.4 % on seeds 40–279 that the model was not tuned on; 95.2 % and 94.0 %
            // when remainders were judged by the noise of the deseasonalised series alone).
            Shape::Monthly => {
                assert!(monthly as f64 >= 0.9 * trials as f64, "the true monthly cycle found in only {monthly} of {trials}");
                assert!(precision >= 0.93, "{shape:?}: precision {precision}");
            }
        }
        found += hit;
        spikes += injected;
        wrong += false_alarms;
        listed += incidents;
    }
    let recall = found as f64 / spikes as f64;
    let precision = (listed - wrong) as f64 / listed.max(1) as f64;
    eprintln!("all: recall {:.1} %, precision {:.1} %", recall * 100.0, precision * 100.0);
    assert!(recall >= 0.97, "recall {recall}");
    assert!(precision >= 0.95, "precision {precision}");
}
