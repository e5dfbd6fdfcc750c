//! Native ingest benchmark: the demo dataset as CSV through the streaming loader.
//!
//! `make bench` runs it. It prints MB/s of CSV text (median of 5 runs) and rows/s; the
//! browser comparison with peers (uDSV, PapaParse, DuckDB-WASM, Arquero) belongs to the data
//! engine's browser benchmark. No assertions: numbers are reported, not enforced.

use std::time::Instant;

use vigil::analysis::profile::{profile_table, ProfileParams};
use vigil::data::demo::{demo_csv, DemoParams};
use vigil::data::load::{LoadOptions, TableLoader};

fn main() {
    let rows = std::env::var("VIGIL_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let csv = demo_csv(DemoParams { rows, seed: 7 });
    let megabytes = csv.len() as f64 / 1e6;
    println!("native ingest: demo dataset, {rows} rows, {megabytes:.1} MB of CSV, 4 MiB chunks");
    let mut timings = Vec::new();
    let mut last_table = None;
    for _ in 0..5 {
        let started = Instant::now();
        let mut loader = TableLoader::new(LoadOptions::default()).with_size_hint(csv.len() as u64);
        for chunk in csv.chunks(4 << 20) {
            if let Err(err) = loader.push(chunk) {
                eprintln!("load failed: {err}");
                return;
            }
        }
        match loader.finish() {
            Ok(report) => {
                assert_eq!(report.table.n_rows, rows, "row count");
                last_table = Some(report.table);
            }
            Err(err) => {
                eprintln!("load failed: {err}");
                return;
            }
        }
        timings.push(started.elapsed().as_secs_f64());
    }
    timings.sort_by(f64::total_cmp);
    let median = timings[timings.len() / 2];
    println!(
        "| tool | MB/s | rows/s | median s |\n|---|---|---|---|\n| vigil (native) | {:.0} | {:.0} | {median:.3} |",
        megabytes / median,
        rows as f64 / median
    );
    if let Some(table) = last_table {
        let selection: Vec<u32> = (0..table.n_rows as u32).collect();
        let started = Instant::now();
        match profile_table(&table, &selection, &ProfileParams::default()) {
            Ok(profile) => println!(
                "native profile: {} rows × {} columns, {} alerts, in {:.2} s",
                profile.rows,
                profile.columns.len(),
                profile.alerts.len(),
                started.elapsed().as_secs_f64()
            ),
            Err(err) => eprintln!("profile failed: {err}"),
        }
    }
}
