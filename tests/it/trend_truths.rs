//! Trends on the demo dataset: the injected incidents are flagged, quiet periods are not; and on
//! generated daily series, a weekly cycle is found where there is one and seldom where there is
//! none, quiet days are seldom flagged while clear spikes are found, the forecast bands hold
//! about as many of the days that follow as they say, and a level shift is a changepoint while
//! steady or bending growth is not (nor the demo's; its launch is), and an excursion on a
//! series without a cycle is one incident, its end no incident the other way.

use vigil::analysis::series::{build_series, Granularity, Metric, Series, SeriesParams};
use vigil::analysis::trend::{analyze_series, TrendAnalysis, TrendParams};
use vigil::data::demo::{demo_csv, truths, DemoParams, LAUNCH_COUNTRIES, LAUNCH_DAY, LAUNCH_EFFECT};
use vigil::data::load::{load_bytes, LoadOptions};
use vigil::data::table::Table;

fn demo() -> Table {
    load_bytes(&demo_csv(DemoParams::default()), LoadOptions::default()).unwrap().table
}

fn series(table: &Table, granularity: Granularity) -> Series {
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let params = SeriesParams { time_column: "created_at".into(), metric: Metric::Count, granularity, utc_offset_minutes: 0, time_zone: None, split: None };
    build_series(table, &rows, &params).unwrap()
}

fn run(series: &Series) -> TrendAnalysis {
    analyze_series(series, &TrendParams { lower_bound: Some(0.0), ..TrendParams::default() }).unwrap()
}

#[test]
fn daily_counts_flag_both_incidents_and_nothing_else() {
    let table = demo();
    let s = series(&table, Granularity::Auto);
    assert_eq!(s.granularity, Granularity::Day);
    assert!((89..=91).contains(&s.values.len()), "the future-dated rows are left out: {}", s.values.len());
    assert!(s.excluded.as_ref().is_some_and(|e| e.rows >= 2));
    let a = run(&s);
    let start = s.starts_ms[0];
    let day = |ms: i64| ((ms - start) / 86_400_000) as usize;
    for truth in truths() {
        let (first, last) = (day(truth.start_ms), day(truth.end_ms - 1));
        assert!(
            a.incidents.iter().any(|i| i.start <= last && i.end >= first && i.excess > 0.0),
            "{} (days {first}–{last}) not flagged: {:?}",
            truth.name,
            a.incidents
        );
    }
    // Every flagged day lies in an injected incident.
    let inside = |idx: usize| truths().iter().any(|t| idx >= day(t.start_ms) && idx <= day(t.end_ms - 1));
    for anomaly in &a.anomalies {
        assert!(inside(anomaly.index), "quiet day {} flagged: {anomaly:?}", anomaly.index);
    }
    assert!(a.seasonal.iter().any(|x| x.period == 7), "weekly cycle: {:?}", a.seasonal);
    // The excess of each incident is close to the injected volume (scam wave 2.7 % of rows,
    // brigade 1.4 %).
    let excess: Vec<f64> = a.incidents.iter().take(2).map(|i| i.excess).collect();
    assert!((excess[0] - 2_700.0).abs() < 400.0 && (excess[1] - 1_400.0).abs() < 400.0, "{excess:?}");
    // The last day is cut short by the export: shown, not modelled.
    assert_eq!(a.model_range.1, s.values.len() - 1);
}

#[test]
fn hourly_counts_find_daily_and_weekly_cycles_and_the_brigade() {
    let table = demo();
    let s = series(&table, Granularity::Hour);
    let started = std::time::Instant::now();
    let a = run(&s);
    eprintln!("hourly: {} points in {:?}; {}", s.values.len(), started.elapsed(), a.model);
    assert!(a.seasonal.iter().any(|x| x.period == 24));
    // The two largest incidents are the two injected ones.
    let start = s.starts_ms[0];
    let hour = |ms: i64| ((ms - start) / 3_600_000) as usize;
    for truth in truths() {
        let (first, last) = (hour(truth.start_ms), hour(truth.end_ms - 1));
        assert!(
            a.incidents.iter().take(2).any(|i| i.start <= last && i.end >= first && i.excess > 0.0),
            "{} not among the top incidents: {:?}",
            truth.name,
            &a.incidents[..2.min(a.incidents.len())]
        );
    }
}

#[test]
fn the_launch_is_a_changepoint_and_steady_growth_is_not() {
    let table = demo();
    // Rows per day grow 0.4 % a day and never shift: BOCPD cuts the growth into pieces, and
    // their medians differed by 11 %, which was reported as a shift on 2026-09-02.
    let daily = run(&series(&table, Granularity::Day));
    assert!(daily.changepoints.is_empty(), "a shift in steady growth: {:?}", daily.changepoints);
    // The launch cut views by 30 % in its countries from day 63.
    let country = table.column("country").unwrap();
    let rows: Vec<u32> = (0..table.n_rows as u32).filter(|&r| LAUNCH_COUNTRIES.contains(&country.value(r as usize).display().as_str())).collect();
    let params = SeriesParams { time_column: "created_at".into(), metric: Metric::Mean { column: "views".into() }, granularity: Granularity::Day, utc_offset_minutes: 0, time_zone: None, split: None };
    let views = build_series(&table, &rows, &params).unwrap();
    let a = run(&views);
    let launch = a.changepoints.iter().find(|c| c.index.abs_diff(LAUNCH_DAY as usize) <= 2);
    let change = launch.map(|c| c.after / c.before - 1.0);
    assert!(change.is_some_and(|c| (LAUNCH_EFFECT - 0.1..LAUNCH_EFFECT + 0.1).contains(&c)), "the launch: {:?}", a.changepoints);
    assert_eq!(a.changepoints.len(), 1, "{:?}", a.changepoints);
}

/// `days` of a daily count around 1,000 growing 0.2 % a day, with Gaussian noise of relative
/// size `noise`, a weekly cycle (±9 %) when `weekly`, and a 3-day doubling a third of the way
/// in when `spike`.
fn generated(days: usize, noise: f64, weekly: bool, spike: bool, seed: u64) -> Vec<f64> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    let week = [0.0, 0.04, 0.06, 0.05, 0.02, -0.08, -0.09];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0, noise).unwrap();
    (0..days)
        .map(|t| {
            let cycle = if weekly { week[t % 7] } else { 0.0 };
            let burst = if spike && (days / 3..days / 3 + 3).contains(&t) { 2.0 } else { 1.0 };
            1000.0 * (1.0 + 0.002 * t as f64) * (1.0 + cycle) * (1.0 + normal.sample(&mut rng)) * burst
        })
        .collect()
}

fn finds_weekly(values: &[f64]) -> bool {
    let a = vigil::analysis::trend::analyze(values, &[7], &TrendParams::default()).unwrap();
    a.seasonal.iter().any(|s| s.period == 7)
}

#[test]
fn a_weekly_cycle_is_found_where_there_is_one_and_seldom_in_noise() {
    // Noise alone, three to eight weeks: MSTL's seasonal strength alone passed 0.3 in 36 of these
    // 50 series; the cycle must also repeat (halves agreement), which noise seldom does (7).
    let in_noise = [21, 28, 35, 42, 56].iter().flat_map(|&days| (1..=10).map(move |seed| finds_weekly(&generated(days, 0.02, false, false, seed)))).filter(|&found| found).count();
    assert!(in_noise <= 8, "a weekly cycle found in {in_noise} of 50 noise series");
    // A real cycle, two and a half weeks to three months, noise up to 5 %, with an incident.
    let cases = [(18, 0.02, false), (21, 0.02, false), (21, 0.02, true), (28, 0.02, true), (28, 0.04, false), (42, 0.04, true), (90, 0.05, true)];
    let missed: Vec<(usize, f64, bool, u64)> = cases
        .iter()
        .flat_map(|&(days, noise, spike)| (1..=10).map(move |seed| (days, noise, spike, seed)))
        .filter(|&(days, noise, spike, seed)| !finds_weekly(&generated(days, noise, true, spike, seed)))
        .collect();
    assert!(missed.len() <= 2, "a real weekly cycle missed in {missed:?} (of 70)");
}

/// Flags on quiet daily series (a weekly cycle, slow growth, Gaussian noise of 0.3–3 %, 5 weeks
/// to a year; in logs and, less 1,100, in units), and how many one-day spikes of `k` × the
/// noise are found, mid-series and on the last day (where a scheduled `vigil detect` looks).
fn flags_and_finds(signed: bool, k: f64) -> (usize, usize, usize, usize) {
    let (mut days_seen, mut flagged, mut found, mut spikes) = (0, 0, 0, 0);
    let shift = if signed { 1100.0 } else { 0.0 };
    let run = |values: &[f64]| vigil::analysis::trend::analyze(&values.iter().map(|v| v - shift).collect::<Vec<_>>(), &[7], &TrendParams::default()).unwrap();
    for days in [35, 90, 365] {
        for noise in [0.003, 0.01, 0.03] {
            for seed in 1..=8 {
                let seed = seed * 1_009 + days as u64;
                let quiet = generated(days, noise, true, false, seed);
                days_seen += days;
                flagged += run(&quiet).anomalies.len();
                let sign = if seed.is_multiple_of(2) { 1.0 } else { -1.0 };
                for at in [days / 2 + seed as usize % 5, days - 1] {
                    let mut spiked = quiet.clone();
                    spiked[at] *= 1.0 + sign * k * noise;
                    spikes += 1;
                    found += usize::from(run(&spiked).anomalies.iter().any(|a| a.index == at));
                }
            }
        }
    }
    (days_seen, flagged, found, spikes)
}

#[test]
fn quiet_series_seldom_flag_a_day_and_clear_spikes_are_found() {
    // A remainder used to be judged by the noise of the deseasonalised series, which the fitted
    // cycle had absorbed part of (about 0.8 × the noise), while a point set aside before the
    // final fit is off its expected value by its noise plus the fit's own error: 6.5 quiet days
    // in 1,000 were flagged in logs (1 in 150), 7.5 in units. Judged by the noise from
    // differences a week apart and the fit's error: 0.26 and 2.5. The price: a spike of 8 × the
    // noise is found 136 times of 144 in logs (143 before), 128 in units (143); the ones missed
    // are on 5-week series but for 8 last days in units (a multiplicative cycle fitted in units).
    for (signed, most, least) in [(false, 1.0, 0.9), (true, 3.0, 0.85)] {
        let (days, flagged, found, spikes) = flags_and_finds(signed, 8.0);
        let per_thousand = 1_000.0 * flagged as f64 / days as f64;
        eprintln!("signed {signed}: {flagged} flags in {days} quiet days ({per_thousand:.2} per 1,000); 8σ spikes found {found} of {spikes}");
        assert!(per_thousand <= most, "signed {signed}: {flagged} flags in {days} quiet days");
        assert!(found as f64 >= least * spikes as f64, "signed {signed}: 8σ spikes found {found} of {spikes}");
    }
}

/// `days` of daily counts around `level` with a weekend lift, slow growth, Poisson noise and 3 %
/// day-to-day overdispersion (the shape `trend_incidents` uses, without incidents).
fn counts(days: usize, level: f64, seed: u64) -> Vec<f64> {
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, Normal};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let weekly = [1.0, 1.02, 0.98, 1.0, 1.05, 1.25, 1.2];
    let growth = rng.gen_range(0.0..0.004);
    let normal = Normal::new(0.0, 1.0).unwrap();
    (0..days)
        .map(|day| {
            let mean = level * (1.0 + growth * day as f64) * weekly[day % 7];
            let sd = (mean + (0.03 * mean).powi(2)).sqrt();
            (mean + sd * normal.sample(&mut rng)).round().max(0.0)
        })
        .collect()
}

#[test]
fn forecast_bands_cover_about_as_often_as_they_say() {
    // Two weeks ahead of daily counts of 2, 4 and 8 months, 20 series each. The bands were the
    // trend model's, fitted to what the cycles left of the cleaned series, and held 69.6 % and
    // 86.5 % of the days that followed; widened to the scale the last day was judged by (the
    // noise plus the fit's error), 79.6 % and 94.0 %. (On `generated` series, which this was
    // first measured on: 70.1 % and 85.8 %, then 84.0 % and 94.4 %.)
    let (mut in80, mut in95, mut total) = (0, 0, 0);
    for days in [60, 120, 240] {
        for seed in 1..=20 {
            let level = [300.0, 1_000.0, 5_000.0][seed as usize % 3];
            let all = counts(days + 14, level, 9_000 + seed + days as u64);
            let (past, future) = all.split_at(days);
            let a = vigil::analysis::trend::analyze(past, &[7], &TrendParams { lower_bound: Some(0.0), ..TrendParams::default() }).unwrap();
            let f = &a.forecast;
            for (k, &y) in future.iter().enumerate() {
                total += 1;
                in80 += usize::from((f.lower80[k]..=f.upper80[k]).contains(&y));
                in95 += usize::from((f.lower95[k]..=f.upper95[k]).contains(&y));
            }
        }
    }
    let (c80, c95) = (in80 as f64 / total as f64, in95 as f64 / total as f64);
    eprintln!("of {total} days ahead: 80 % band held {:.1} %, 95 % band {:.1} %", 100.0 * c80, 100.0 * c95);
    assert!((0.75..=0.9).contains(&c80), "80 % band held {c80}");
    assert!((0.91..=0.99).contains(&c95), "95 % band held {c95}");
}

/// `days` of daily counts around 1,000 with a weekend lift, Poisson noise and 3 % day-to-day
/// overdispersion, growing `growth` a day (compounded) and from `kink` (if any) `growth + bend`
/// a day, and from `step` (if any) `1 + effect` times higher.
fn shifted(days: usize, growth: f64, kink: Option<(usize, f64)>, step: Option<(usize, f64)>, seed: u64) -> Vec<f64> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let weekly = [1.0, 1.02, 0.98, 1.0, 1.05, 1.25, 1.2];
    let normal = Normal::new(0.0, 1.0).unwrap();
    let mut log_level = 0.0;
    (0..days)
        .map(|day| {
            log_level += growth + kink.filter(|&(at, _)| day >= at).map_or(0.0, |(_, bend)| bend);
            let jump = step.filter(|&(at, _)| day >= at).map_or(1.0, |(_, effect)| 1.0 + effect);
            let mean = 1_000.0 * log_level.exp() * weekly[day % 7] * jump;
            let sd = (mean + (0.03 * mean).powi(2)).sqrt();
            (mean + sd * normal.sample(&mut rng)).round().max(0.0)
        })
        .collect()
}

#[test]
fn level_shifts_are_changepoints_and_steady_or_bending_growth_is_not() {
    let run = |values: &[f64]| vigil::analysis::trend::analyze(values, &[7], &TrendParams { lower_bound: Some(0.0), ..TrendParams::default() }).unwrap().changepoints;
    let (mut quiet, mut false_quiet, mut bent, mut false_bent, mut steps, mut found, mut off, mut false_step) = (0, 0, 0, 0, 0, 0, 0, 0);
    for days in [42, 90, 180] {
        for seed in 1..=12u64 {
            let seed = seed * 7_919 + days as u64;
            let growth = [0.0, 0.002, 0.004, 0.008][seed as usize % 4];
            quiet += 1;
            false_quiet += run(&shifted(days, growth, None, None, seed)).len();
            let at = days / 3 + seed as usize % (days / 3);
            bent += 1;
            let bend = if seed.is_multiple_of(2) { 0.006 } else { -0.006 };
            false_bent += run(&shifted(days, growth, Some((at, bend)), None, seed)).len();
            let effect = [0.2, -0.2, 0.3, -0.3][(seed / 4) as usize % 4];
            steps += 1;
            let changepoints = run(&shifted(days, growth, None, Some((at, effect)), seed));
            let hit = changepoints.iter().find(|c| c.index.abs_diff(at) <= 3);
            found += usize::from(hit.is_some());
            off += usize::from(hit.is_some_and(|c| ((c.after / c.before - 1.0) - effect).abs() > 0.1));
            false_step += changepoints.len() - usize::from(hit.is_some());
        }
    }
    eprintln!("changepoints: {false_quiet} in {quiet} steady series, {false_bent} in {bent} bending; steps found {found} of {steps} ({off} with the size off by > 10 points), {false_step} others");
    // Segment medians either side of BOCPD's cuts, compared before, found 45 changepoints in
    // these 36 steady series and 57 in the bending ones; 33 steps of 36, 14 of them with the
    // size off by more than 10 points, and 31 changepoints besides. A line with one slope and
    // a step at the cut: 0, 4, 35 (none off) and 0.
    assert!(false_quiet <= 2, "{false_quiet} changepoints in {quiet} steady series");
    assert!(false_bent <= 6, "{false_bent} changepoints in {bent} bending series");
    assert!(found >= 33 && off <= 3, "steps found {found} of {steps}, {off} with the size off");
    assert!(false_step <= 3, "{false_step} changepoints besides the steps");
}

/// Excursions of 2–5 periods and 3–8 × the noise, up or down, on series of `lengths` periods
/// without a cycle, whose calendar cycle is `natural`: how many, how many found (in all, and of
/// 5 × the noise or more), overlapped by an incident the wrong way, and followed within three
/// periods by an incident the other way.
fn excursions(natural: usize, lengths: [usize; 3]) -> [usize; 6] {
    let (mut cases, mut found, mut wrong_way, mut after, mut large, mut large_found) = (0, 0, 0, 0, 0, 0);
    for n in lengths {
        for seed in 1..=20u64 {
            let seed = seed * 104_729 + n as u64;
            let noise = [0.01, 0.03][seed as usize % 2];
            let mut values = generated(n, noise, false, false, seed);
            let (start, length) = (n / 3 + seed as usize % (n / 3), 2 + seed as usize % 4);
            let sign = if (seed / 2).is_multiple_of(2) { 1.0 } else { -1.0 };
            let size = [3.0, 5.0, 8.0][(seed / 4) as usize % 3] * noise;
            for v in &mut values[start..start + length] {
                *v *= 1.0 + sign * size;
            }
            let a = vigil::analysis::trend::analyze(&values, &[natural], &TrendParams::default()).unwrap();
            cases += 1;
            let overlapping: Vec<_> = a.incidents.iter().filter(|i| i.start < start + length && i.end >= start).collect();
            let hit = overlapping.iter().any(|i| i.excess.signum() == sign);
            found += usize::from(hit);
            if size >= 5.0 * noise {
                large += 1;
                large_found += usize::from(hit);
            }
            wrong_way += usize::from(overlapping.iter().any(|i| i.excess.signum() != sign));
            after += usize::from(a.incidents.iter().any(|i| i.start >= start + length && i.start <= start + length + 3 && i.excess.signum() != sign));
        }
    }
    [cases, found, large, large_found, wrong_way, after]
}

#[test]
fn an_incident_on_a_series_without_a_cycle_is_measured_from_where_it_left() {
    // A rate, a mean or a median often has no weekly cycle; weekly series have no cycle that
    // fits (52 weeks would need two and a half years).
    for (what, natural, lengths, least_found) in [("days", 7, [42, 90, 180], 0.85), ("weeks", 52, [26, 52, 104], 0.8)] {
        let [cases, found, large, large_found, wrong_way, after] = excursions(natural, lengths);
        eprintln!("{what}: excursions found {found} of {cases} ({large_found} of {large} of 5 × the noise or more); {wrong_way} overlapped by an incident the wrong way, {after} followed by one the other way");
        // Without a cycle the cleaning's baseline was the plain fit's one-step forecasts, which
        // follow an excursion a period late: put back in its place, they kept it in the cleaned
        // series, and the return to the level was an incident the other way in 19 of the 60
        // daily series (15–18 on seeds 21–80) and 21 of the weekly ones. From a robust trend
        // (the calendar fit's, or a running median where no calendar cycle fits): 1 and 0, with
        // 39 of 42 and 33 of 39 large excursions found (37 and 32 before; the weekly misses are
        // mostly on half-year series, whose 25 differences give a noisy scale).
        assert_eq!(wrong_way, 0, "{what}");
        assert!(after <= 3, "{what}: {after} returns to the level called incidents the other way");
        assert!(large_found as f64 >= least_found * large as f64, "{what}: {large_found} of {large} large excursions found");
    }
}
