//! Trends on the demo dataset: the injected incidents are flagged, quiet periods are not.

use vigil::analysis::series::{build_series, Granularity, Metric, Series, SeriesParams};
use vigil::analysis::trend::{analyze_series, TrendAnalysis, TrendParams};
use vigil::data::demo::{demo_csv, truths, DemoParams};
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
