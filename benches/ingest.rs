//! Native ingest benchmark: the demo dataset as CSV through the streaming loader.
//!
//! `make bench` runs it. It prints MB/s of CSV text (median of 5 runs, `VIGIL_BENCH_RUNS` for more) and rows/s on 1, 2 and 4
//! threads (the scaling curve; `VIGIL_BENCH_THREADS=1` for one row), and stops if any gives
//! another table than one thread; the browser comparison with peers (uDSV, PapaParse,
//! DuckDB-WASM, Arquero) belongs to the data engine's browser benchmark. No timing assertions:
//! numbers are reported, not enforced.

use std::time::Instant;

// The allocator the `vigil` command uses (see its main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use vigil::analysis::profile::{profile_table, ProfileParams};
use vigil::data::demo::{demo_csv, DemoParams};
use vigil::data::load::{LoadOptions, TableLoader};

fn main() {
    let rows = std::env::var("VIGIL_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let csv = demo_csv(DemoParams { rows, seed: 7 });
    let megabytes = csv.len() as f64 / 1e6;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // VIGIL_BENCH_RUNS: more runs than 5, e.g. so that a profile is mostly the load.
    let runs = std::env::var("VIGIL_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_usize).max(1);
    println!("native ingest: demo dataset, {rows} rows, {megabytes:.1} MB of CSV, 4 MiB chunks, median of {runs}; {cores} cores");
    println!("| threads | MB/s | rows/s | median s | × 1 thread |\n|---|---|---|---|---|");
    let mut last_table = None;
    let mut one_thread = None;
    // VIGIL_BENCH_THREADS=1 (or "1,2"): only those rows of the curve, e.g. under a profiler.
    let curve: Vec<usize> = std::env::var("VIGIL_BENCH_THREADS")
        .ok()
        .map(|list| list.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2, 4]);
    for threads in curve {
        let mut timings = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            let mut loader = TableLoader::new(LoadOptions::default()).with_size_hint(csv.len() as u64).with_threads(threads);
            for chunk in csv.chunks(4 << 20) {
                if let Err(err) = loader.push(chunk) {
                    eprintln!("load failed: {err}");
                    return;
                }
            }
            let finished = loader.finish();
            // The load's time only: comparing the tables and dropping the last one are not.
            timings.push(started.elapsed().as_secs_f64());
            match finished {
                Ok(report) => {
                    assert_eq!(report.table.n_rows, rows, "row count");
                    match &last_table {
                        // The same table whatever the threads (checked here on the real size too).
                        Some(first) => assert!(first == &report.table, "{threads} threads gave another table"),
                        None => last_table = Some(report.table),
                    }
                }
                Err(err) => {
                    eprintln!("load failed: {err}");
                    return;
                }
            }
        }
        timings.sort_by(f64::total_cmp);
        let median = timings[timings.len() / 2];
        let base = *one_thread.get_or_insert(median);
        println!(
            "| {threads} | {:.0} | {:.0} | {median:.3} | {:.2}× |",
            megabytes / median,
            rows as f64 / median,
            base / median
        );
    }
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
