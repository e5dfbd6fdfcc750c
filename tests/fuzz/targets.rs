//! The fuzz targets' bodies, shared by cargo-fuzz (`tests/fuzz/fuzz_targets/`, `make fuzz`) and
//! the corpus replay that `cargo test` runs (`tests/it/fuzz_replay.rs`). Each takes arbitrary
//! bytes; the only acceptable outcomes are a value or a typed error, never a panic.

#![allow(dead_code, clippy::panic)] // a fuzz target reports a broken invariant by panicking

use vigil::analysis::backtest::{backtest, score_curves, BacktestParams, RuleSpec, ScoreParams};
use vigil::analysis::cluster::{cluster, Algorithm, ClusterParams, Encoding, FeatureSpec};
use vigil::analysis::labels::{check_labels, LabelParams, LabelSpec};
use vigil::analysis::profile::{profile_table, ProfileParams};
use vigil::analysis::regression::{regress, RegressionKind, RegressionParams};
use vigil::analysis::rootcause::{explain_change, RcaParams, Window};
use vigil::analysis::series::{build_series, Granularity, Metric, SeriesParams};
use vigil::analysis::tree::{learn_tree, TreeParams};
use vigil::analysis::trend::{analyze_series, TrendParams};
use vigil::data::expr::{compile, parse, to_sql};
use vigil::data::load::{load_bytes, LoadOptions, TableLoader};
use vigil::data::table::{ColumnData, ColumnType, Table};
use vigil::viewstate;

/// Largest table the analyses target runs on (keeps each run fast).
const MAX_ROWS: usize = 2_000;

/// CSV loading and type inference from arbitrary bytes, pushed in chunks whose sizes come from
/// the first four bytes: any split of a file must load as the whole file does.
pub fn csv_load(data: &[u8]) {
    let (sizes, body) = data.split_at(data.len().min(4));
    let mut loader = TableLoader::new(LoadOptions::default());
    let mut rest = body;
    let mut k = 0;
    let mut pushed = Ok(());
    while !rest.is_empty() && pushed.is_ok() {
        let size = usize::from(sizes.get(k % sizes.len().max(1)).copied().unwrap_or(64)).max(1);
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        pushed = loader.push(chunk);
        rest = tail;
        k += 1;
    }
    let chunked = pushed.and_then(|()| loader.finish());
    let whole = load_bytes(body, LoadOptions::default());
    match (&chunked, &whole) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.table.n_rows, b.table.n_rows, "rows differ between chunked and whole loads");
            let names = |t: &Table| t.columns.iter().map(|c| (c.name.clone(), c.kind)).collect::<Vec<_>>();
            assert_eq!(names(&a.table), names(&b.table), "columns differ between chunked and whole loads");
            for row in 0..a.table.n_rows.min(50) {
                for column in &a.table.columns {
                    let _ = column.value(row).display();
                }
            }
        }
        // The same failure (a gzip error's byte offset is only as precise as the chunk it
        // was found in).
        (Err(a), Err(b)) => assert_eq!(std::mem::discriminant(a), std::mem::discriminant(b), "{a} / {b}"),
        _ => panic!("chunked load {:?} but whole load {:?}", chunked.as_ref().map(|r| r.table.n_rows), whole.as_ref().map(|r| r.table.n_rows)),
    }
}

/// The loader on several threads against one thread, on arbitrary bytes: the first three bytes
/// choose the threads (2–4), the text each parses at a time (1–256 bytes: split points anywhere,
/// inside quotes too) and the rows sampled for types (1–8). Everything must be equal: the table,
/// the rejected rows with their lines and offsets, the notices, or the same error. The parts are
/// parsed in turn on one thread (the same parts, guesses and merge; threads would cost more than
/// the parsing here — `tests/it/parallel_load.rs` runs them on threads). The fourth byte runs
/// the browser's way as well (1–3 helpers: each block's parts sent as messages, as many blocks
/// ahead as helpers, the answers merged, some lost): the dialect guessed from its first 32–1,056
/// bytes, so that the text is parsed while it is pushed, and its low bits drop answers or (its
/// second bit) cut them short.
pub fn csv_parallel(data: &[u8]) {
    let (knobs, body) = data.split_at(data.len().min(4));
    let knob = |k: usize, default: u8| usize::from(knobs.get(k).copied().unwrap_or(default));
    let (threads, block, sample) = (2 + knob(0, 0) % 3, 1 + knob(1, 63), 1 + knob(2, 2) % 8);
    let load = |threads: usize| {
        let mut loader = TableLoader::new(LoadOptions::default()).with_parallel_blocks(threads, block, sample).parts_on_one_thread();
        for chunk in body.chunks(97) {
            loader.push(chunk)?;
        }
        loader.finish()
    };
    assert_eq!(load(1), load(threads), "{threads} threads, blocks of {block} bytes, {sample} rows sampled");
    let (sniff, mut lost) = (32 + 4 * knob(3, 0), knob(3, 0) as u64 & 0b101);
    let serial = {
        let mut loader = TableLoader::new(LoadOptions::default()).with_sniff_bytes(sniff).with_parallel_blocks(1, block, sample);
        body.chunks(97).try_for_each(|chunk| loader.push(chunk)).and_then(|()| loader.finish())
    };
    let helped = {
        let mut loader = TableLoader::new(LoadOptions::default()).with_sniff_bytes(sniff).with_parallel_blocks(1, block, sample).with_helpers(threads - 1, block);
        // An answer lost, or cut short (the fourth byte's second bit): either part is parsed
        // again by the table worker.
        let cut = knob(3, 0) & 0b10 != 0;
        let mut damage = move |mut answer: Vec<u8>| {
            lost = lost.rotate_right(1);
            match (lost & (1 << 63) != 0, cut) {
                (false, _) => Some(answer),
                (true, true) => {
                    answer.truncate(answer.len() / 3);
                    Some(answer)
                }
                (true, false) => None,
            }
        };
        body.chunks(97).try_for_each(|chunk| loader.push(chunk).and_then(|()| loader.run_blocks_by_message(threads - 1, &mut damage))).and_then(|()| loader.finish())
    };
    assert_eq!(serial, helped, "{} helpers ({0} blocks ahead), blocks of {block} bytes, {sample} rows sampled, dialect from {sniff} bytes", threads - 1);
}

fn rule_table() -> Table {
    let csv = "n,x,country,flag,when\n1,0.5,BR,true,2026-01-01\n,NaN,,false,\n-3,1e300,US,,2026-02-30\n";
    load_bytes(csv.as_bytes(), LoadOptions::default()).map(|r| r.table).unwrap_or_else(|_| Table::default())
}

/// The rule language: parse, print as SQL, compile and evaluate on a table with missing cells.
pub fn rule(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(expr) = parse(&text) else { return };
    let table = rule_table();
    let _ = to_sql(&expr, Some(&table));
    let _ = to_sql(&expr, None);
    let compiled = compile(&table, &expr);
    if let Ok(compiled) = &compiled {
        for row in 0..table.n_rows {
            let _ = compiled.eval(row);
        }
    }
}

/// The view in a link: decode anything, fit it to a table, and what is written back decodes
/// to the same view without complaint.
pub fn view_link(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut decoded = viewstate::decode(&text);
    let columns: Vec<(String, ColumnType)> =
        [("created_at", ColumnType::Timestamp), ("country", ColumnType::Category), ("risk_score", ColumnType::Float), ("decision", ColumnType::Category)]
            .iter()
            .map(|(n, k)| (n.to_string(), *k))
            .collect();
    let _ = viewstate::reconcile(&mut decoded.state, &columns);
    let again = viewstate::decode(&viewstate::encode(&decoded.state));
    assert!(again.notices.is_empty(), "a written view reads back with notices: {:?}", again.notices);
    assert_eq!(again.state, decoded.state, "a written view reads back differently");
}

fn first_of(table: &Table, pred: impl Fn(ColumnType) -> bool) -> Option<String> {
    table.columns.iter().find(|c| pred(c.kind)).map(|c| c.name.clone())
}

/// Every analysis entry point on whatever table the bytes load as (degenerate ones included:
/// one row, all missing, constant, NaN, huge values).
pub fn analyses(data: &[u8]) {
    let Ok(report) = load_bytes(data, LoadOptions::default()) else { return };
    let table = &report.table;
    if table.n_rows > MAX_ROWS || table.columns.len() > 40 {
        return;
    }
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let _ = profile_table(table, &rows, &ProfileParams::default());
    let numeric: Vec<String> = table.columns.iter().filter(|c| matches!(c.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean)).map(|c| c.name.clone()).collect();
    let category = first_of(table, |k| matches!(k, ColumnType::Category | ColumnType::Boolean));
    if let Some(time) = first_of(table, |k| k == ColumnType::Timestamp) {
        let metrics = [Metric::Count].into_iter().chain(numeric.first().map(|c| Metric::Mean { column: c.clone() }));
        for metric in metrics {
            let params = SeriesParams { time_column: time.clone(), metric: metric.clone(), granularity: Granularity::Auto, utc_offset_minutes: 0, time_zone: None, split: None };
            if let Ok(series) = build_series(table, &rows, &params) {
                let _ = analyze_series(&series, &TrendParams::default());
            }
        }
        if let Some(ColumnData::Timestamp { ms, .. }) = table.column(&time).map(|c| &c.data) {
            let (lo, hi) = (ms.iter().copied().min().unwrap_or(0), ms.iter().copied().max().unwrap_or(0));
            let mid = lo / 2 + hi / 2;
            let params = RcaParams {
                time_column: time.clone(),
                metric: Metric::Count,
                baseline: Window { start_ms: lo, end_ms: mid },
                incident: Window { start_ms: mid, end_ms: hi.saturating_add(1) },
                dimensions: None,
                max_depth: 3,
                explain_share: 0.8,
            };
            let _ = explain_change(table, &rows, &params);
        }
    }
    if let Some(label) = category.clone() {
        let params = LabelParams { label: label.clone(), positive: Vec::new(), item: None, reviewer: None, time: None, now_ms: Some(0) };
        let _ = check_labels(table, &rows, &params);
        let spec = LabelSpec { column: label.clone(), positive: Vec::new() };
        if let Some(first) = numeric.first() {
            let rules = vec![RuleSpec { name: "r".into(), text: format!("`{}` > 0", first.replace('`', "``")) }];
            let _ = backtest(table, &rows, &BacktestParams { rules, label: spec.clone(), time_column: None });
            let _ = score_curves(table, &rows, &ScoreParams { score: first.clone(), label: spec.clone(), threshold: None, min_precision: 0.9 });
            let features = numeric.iter().take(4).map(|c| FeatureSpec { column: c.clone(), encoding: Encoding::Numeric }).collect();
            let _ = learn_tree(table, &rows, &TreeParams { features, label: spec.clone(), max_depth: 3, min_leaf: 1, test_share: 0.3, seed: 1, precision_target: 0.8 });
            let _ = regress(table, &rows, &RegressionParams { kind: RegressionKind::Logistic, target: None, label: Some(spec), predictors: numeric.iter().take(3).cloned().collect() });
            let _ = regress(table, &rows, &RegressionParams { kind: RegressionKind::Linear, target: Some(first.clone()), label: None, predictors: numeric.iter().skip(1).take(3).cloned().collect() });
        }
    }
    if !numeric.is_empty() {
        let features: Vec<FeatureSpec> = numeric.iter().take(4).map(|c| FeatureSpec { column: c.clone(), encoding: Encoding::Numeric }).collect();
        for algorithm in [Algorithm::KMeans { k: Some(2), n_init: 1, max_iter: 20 }, Algorithm::Dbscan { eps: None, min_points: 3 }, Algorithm::Gmm { k: 2, max_iter: 20 }] {
            let params = ClusterParams { features: features.clone(), algorithm, sample_limit: 500, scan_k: false, ..ClusterParams::default() };
            let _ = cluster(table, &rows, &params);
        }
    }
}
