#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failing unwrap is a failing test
use super::sql::{cube_sql, sample_sql, Dialect};
use super::*;
use crate::analysis::contract::Weights;
use crate::data::load::{load_bytes, LoadOptions};

fn table(csv: &str) -> Table {
    load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
}

const EVENTS_CSV: &str = "at,country,spam,views\n\
2026-03-02T23:30:00Z,BR,true,10\n\
2026-03-02T10:00:00Z,BR,false,\n\
2026-03-02T11:00:00Z,US,false,4\n\
2026-03-03T01:00:00Z,ID,true,2\n\
2026-03-03T02:00:00Z,,false,6\n";

fn spec(t: &Table, top: usize, offset: i32) -> CubeSpec {
    let mut spec = CubeSpec::for_view(t, "at", Granularity::Day, offset, None, None, Filter::default()).unwrap();
    // Few values: views would be a dimension; here it is summed.
    assert_eq!(spec.dimensions, ["country", "spam", "views"]);
    spec.dimensions.pop();
    spec.measures = vec!["views".into()];
    spec.top = top;
    spec
}

#[test]
fn the_view_becomes_a_cube_of_its_dimensions_and_measures() {
    let t = table(EVENTS_CSV);
    let s = spec(&t, 1, 0);
    let rows: Vec<u32> = (0..t.n_rows as u32).collect();
    let csv = aggregate_csv(&t, &rows, Weights::ONE, &s).unwrap();
    // The top country is BR (2 events), the top spam value false (3): US, ID and true fold
    // into (other); a missing country stays missing. Measures are per event, a cell without
    // any value has none, and the total is Σ views over its events: (4 + 10) / 3.
    assert_eq!(
        csv,
        "ts_bucket,country,spam,grouping_id,events,views\n\
2026-03-02 00:00:00,(other),false,0,1,4\n\
2026-03-02 00:00:00,BR,(other),0,1,10\n\
2026-03-02 00:00:00,BR,false,0,1,\n\
2026-03-02 00:00:00,(other),,1,1,4\n\
2026-03-02 00:00:00,BR,,1,2,5\n\
2026-03-02 00:00:00,,(other),2,1,10\n\
2026-03-02 00:00:00,,false,2,2,2\n\
2026-03-02 00:00:00,,,3,3,4.666666666666667\n\
2026-03-03 00:00:00,,false,0,1,6\n\
2026-03-03 00:00:00,(other),(other),0,1,2\n\
2026-03-03 00:00:00,,,1,1,6\n\
2026-03-03 00:00:00,(other),,1,1,2\n\
2026-03-03 00:00:00,,(other),2,1,2\n\
2026-03-03 00:00:00,,false,2,1,6\n\
2026-03-03 00:00:00,,,3,2,4\n"
    );
    // Three hours east, the 23:30 row moves to the next day.
    let east = aggregate_csv(&t, &rows, Weights::ONE, &spec(&t, 1, 180)).unwrap();
    assert!(east.contains("2026-03-03 00:00:00,,,3,3,"), "{east}");
}

#[test]
fn a_cube_is_recognised_and_checked() {
    let t = table(EVENTS_CSV);
    let rows: Vec<u32> = (0..t.n_rows as u32).collect();
    let mut cube = table(&aggregate_csv(&t, &rows, Weights::ONE, &spec(&t, 10, 0)).unwrap());
    let info = recognise(&mut cube).unwrap().unwrap();
    assert_eq!((info.weight.as_str(), info.time.as_str()), (EVENTS, TS_BUCKET));
    assert_eq!(info.dimensions, ["country", "spam"]);
    assert_eq!(info.measures, ["views", GROUPING_ID]);
    assert!(recognise(&mut t.clone()).unwrap().is_none());

    let bad = |csv: &str| recognise(&mut table(csv)).unwrap_err().to_string();
    let head = "ts_bucket,country,grouping_id,events\n";
    let e = bad(&format!("{head}2026-03-02,BR,0,2\n2026-03-02,US,0,-1\n2026-03-02,,1,1\n"));
    assert!(e.contains("row 2") && e.contains("0 or more"), "{e}");
    let e = bad(&format!("{head}2026-03-02,BR,0,2.5\n2026-03-02,,1,2.5\n"));
    assert!(e.contains("row 1") && e.contains("whole numbers"), "{e}");
    let e = bad(&format!("{head}2026-03-02,BR,0,2\n2026-03-02,US,0,3\n2026-03-02,,1,6\n"));
    assert!(e.contains("row 3") && e.contains("is 6 events") && e.contains("add up to 5"), "{e}");
    let e = bad("ts_bucket,country,grouping_id,events,views\n2026-03-02,BR,0,2,1\n2026-03-02,,1,2,2\n");
    assert!(e.contains("sum of views"), "{e}");
    // A single dimension's row against its finest rows, named by its cell.
    let head2 = "ts_bucket,country,spam,grouping_id,events\n";
    let e = bad(&format!("{head2}2026-03-02,BR,true,0,2\n2026-03-02,BR,false,0,3\n2026-03-02,BR,,1,4\n2026-03-02,,,3,5\n"));
    assert!(e.contains("row 3 (2026-03-02T00:00:00Z, country = BR) is 4 events") && e.contains("add up to 5"), "{e}");
    let e = bad(&format!("{head2}2026-03-02,BR,true,0,2\n2026-03-02,,,7,2\n"));
    assert!(e.contains("grouping_id is 7 in row 2") && e.contains("0 … 3"), "{e}");
    let e = bad(&format!("{head}2026-03-02,BR,0,2\n,US,0,3\n"));
    assert!(e.contains("ts_bucket is missing in row 2"), "{e}");
    // A cell that is not its type is named with its text and row, not called missing.
    let e = bad(&format!("{head}2026-03-02,BR,0,2\n2026-03-02,US,0,lots\n2026-03-02,,1,5\n"));
    assert!(e.contains("events is “lots”") && e.contains("row 2") && e.contains("not a whole number"), "{e}");
    let e = bad(&format!("{head}2026-03-02,BR,0,2\n2026-03-02,US,0,3\n2026-03-02,ID,0,4\nnot a time,US,0,3\n"));
    assert!(e.contains("ts_bucket is “not a time”") && e.contains("row 4"), "{e}");
    let e = bad(&format!("{head}2026-03-02,BR,0,2\n2026-03-02,US,0.5,3\n"));
    assert!(e.contains("grouping_id is “0.5” in row 2") && e.contains("whole number"), "{e}");
    let e = bad(&format!("{head}2026-03-02,BR,0,2\n2026-03-02,US,0,inf\n2026-03-02,,1,5\n"));
    assert!(e.contains("events is missing or not finite (NaN, inf) in row 2"), "{e}");
    // Events past 2^53 are named in their own row (not in the total they break), briefly.
    let e = bad(&format!("{head}2026-03-02,BR,0,2\n2026-03-02,US,0,1e308\n2026-03-02,,1,5\n"));
    assert!(e.contains("events is 1e308 in row 2") && e.contains("at most 2^53"), "{e}");
    // A grouping id no cube of these columns has: named before it is taken for the totals.
    let e = bad(&format!("{head2}2026-03-02,BR,true,0,2\n2026-03-02,,,9223372036854775807,2\n"));
    assert!(e.contains("grouping_id is 9.223372036854776e18 in row 2") && e.contains("with 2 columns beside"), "{e}");

    // A dimension whose values read as numbers is a dimension (NULL in the totals), as text.
    let mut versions = table("ts_bucket,app_version,grouping_id,events,views\n2026-03-02,31.0,0,2,1\n2026-03-02,32.1,0,1,4\n2026-03-02,,1,3,2\n");
    let info = recognise(&mut versions).unwrap().unwrap();
    assert_eq!((info.dimensions.as_slice(), info.measures.as_slice()), (["app_version".to_string()].as_slice(), ["views".to_string(), GROUPING_ID.to_string()].as_slice()));
    assert_eq!(versions.column("app_version").unwrap().kind, ColumnType::Category);
}

#[test]
fn every_dialect_writes_its_own_time_quoting_and_strings() {
    let t = table(EVENTS_CSV);
    let mut s = spec(&t, 50, 330);
    s.filter = Filter { clauses: vec![Clause::InSet { column: "country".into(), values: vec!["O'Hara".into()], negate: true }, Clause::Contains { column: "country".into(), text: "B".into() }] };
    let sql = |s: &CubeSpec, d: Dialect| cube_sql(s, d, "db.events", Some(&t)).unwrap().sql;
    let spark = sql(&s, Dialect::Spark);
    assert!(spark.contains("DATE_TRUNC('DAY', `at` + INTERVAL 330 MINUTES)"), "{spark}");
    assert!(spark.contains("'O\\'Hara'") && spark.contains("instr(lower(CAST(`country` AS STRING)), 'b') > 0"), "{spark}");
    assert!(spark.contains("GROUP BY GROUPING SETS (\n  (`ts_bucket`, `country`, `spam`),\n  (`ts_bucket`, `country`),\n  (`ts_bucket`, `spam`),\n  (`ts_bucket`)\n)"), "{spark}");
    assert!(spark.contains("GROUPING(`country`) * 2 + GROUPING(`spam`) * 1 AS `grouping_id`"), "{spark}");
    let duck = sql(&s, Dialect::DuckDb);
    assert!(duck.contains("date_trunc('day', \"at\" + INTERVAL (330) MINUTE)") && duck.contains("'O''Hara'"), "{duck}");
    assert!(sql(&s, Dialect::BigQuery).contains("DATETIME_TRUNC(DATETIME_ADD(DATETIME(`at`), INTERVAL 330 MINUTE), DAY)"));
    assert!(sql(&s, Dialect::Trino).contains("date_trunc('day', \"at\" + INTERVAL '330' MINUTE)"));
    assert!(sql(&s, Dialect::Snowflake).contains("DATE_TRUNC('DAY', DATEADD(MINUTE, 330, \"at\"))"));
    s.time_zone = Some("America/Sao_Paulo".into());
    s.granularity = Granularity::Week;
    assert!(sql(&s, Dialect::BigQuery).contains("DATETIME_TRUNC(DATETIME(`at`, 'America/Sao_Paulo'), ISOWEEK)"));
    assert!(sql(&s, Dialect::DuckDb).contains("date_trunc('week', timezone('America/Sao_Paulo', timezone('UTC', \"at\")))"));
    let sample = sample_sql(&s, Dialect::Spark, "db.events", Some(&t), 100, 7).unwrap();
    assert!(sample.sql.contains("rand(7)") && sample.sql.contains("vigil_w0 / vigil_p AS vigil_weight"), "{}", sample.sql);
    assert_eq!(Dialect::from_name("Presto"), Some(Dialect::Trino));
    assert_eq!(Dialect::from_name("oracle"), None);
    // The table is written as given: quoted names pass, what would end or hide the query does not.
    for name in ["`proj.ds.events`", "\"Events 2026\".raw", "db.events"] {
        assert!(cube_sql(&s, Dialect::DuckDb, name, Some(&t)).unwrap().sql.contains(&format!("FROM {name}")), "{name}");
    }
    for (name, what) in [("x; DROP TABLE y; --", "“;”"), ("events -- all", "a comment"), ("a /* b */", "a comment"), ("ev\nents", "line break"), (" ", "nothing")] {
        let e = cube_sql(&s, Dialect::DuckDb, name, Some(&t)).unwrap_err().to_string();
        assert!(e.contains(what), "{name}: {e}");
        assert!(sample_sql(&s, Dialect::Spark, name, Some(&t), 100, 7).is_err(), "{name}");
    }
    assert!(sample_sql(&s, Dialect::Spark, "db.events", Some(&t), 0, 7).unwrap_err().to_string().contains("at least one row per period"));
}

#[test]
fn a_cube_holds_each_dimension_each_pair_and_the_total_once() {
    assert_eq!(grouping_sets(0), [Vec::<usize>::new()]);
    assert_eq!(grouping_sets(2), [vec![0, 1], vec![0], vec![1], vec![]]);
    assert_eq!(grouping_sets(3).len(), 1 + 3 + 3 + 1);
    assert_eq!(grouping_sets(MAX_PAIRED + 1).len(), 1 + MAX_PAIRED + 1 + 1);
    assert_eq!((grouping_id(&[0, 1, 2], 3), grouping_id(&[0], 3), grouping_id(&[1, 2], 3), grouping_id(&[], 3)), (0, 3, 4, 7));
    // Without dimensions the period's one row is both the finest and the total (written once).
    let t = table(EVENTS_CSV);
    let mut s = spec(&t, 10, 0);
    (s.dimensions, s.measures) = (Vec::new(), Vec::new());
    let rows: Vec<u32> = (0..t.n_rows as u32).collect();
    assert_eq!(aggregate_csv(&t, &rows, Weights::ONE, &s).unwrap(), "ts_bucket,grouping_id,events\n2026-03-02 00:00:00,0,3\n2026-03-03 00:00:00,0,2\n");
}

/// Hourly events over ten days: 40 countries (a few common, many rare), three platforms, a
/// measure with gaps, a weight column `n` when `weighted`, and a row without a time every 997.
fn hourly_events(rows: usize, weighted: bool) -> String {
    let mut out = String::from(if weighted { "at,country,platform,views,n\n" } else { "at,country,platform,views\n" });
    for i in 0..rows {
        let hour = ((i as u64).wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407) >> 33) % 240;
        let at = if i % 997 == 5 { String::new() } else { crate::data::time::format_iso_ms(1_772_323_200_000 + hour as i64 * 3_600_000) };
        let country = if i % 3 == 0 { format!("C{}", i % 40) } else { ["BR", "US", "ID"][i % 3 % 2].to_string() };
        let platform = ["ios", "android", "web"][(i / 7) % 3];
        let views = if i % 11 == 0 { String::new() } else { format!("{}.5", i % 97) };
        out.push_str(&format!("{at},{country},{platform},{views}"));
        if weighted {
            out.push_str(&format!(",{}", 1 + i % 4));
        }
        out.push('\n');
    }
    out
}

/// Two cube CSVs are the same: the same rows in the same order, numbers to 1e-9 relative (a
/// stream sums cells in another order).
fn same_cube(a: &str, b: &str) {
    let (a_lines, b_lines): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(a_lines.len(), b_lines.len(), "row counts differ");
    for (x, y) in a_lines.iter().zip(&b_lines) {
        for (p, q) in x.split(',').zip(y.split(',')) {
            let close = match (p.parse::<f64>(), q.parse::<f64>()) {
                (Ok(p), Ok(q)) => (p - q).abs() <= 1e-9 * p.abs().max(q.abs()).max(1.0),
                _ => p == q,
            };
            assert!(close, "{x}\n{y}");
        }
    }
}

fn streamed(csv: &str, settings: stream::StreamSettings) -> stream::StreamedCube {
    // Small reads: many batches, each with its own dictionaries.
    stream::stream_cube(csv.as_bytes(), LoadOptions::default(), settings, 4096).unwrap()
}

#[test]
fn a_streamed_file_becomes_the_cube_its_rows_make() {
    for weighted in [false, true] {
        let csv = hourly_events(30_000, weighted);
        let t = table(&csv);
        let rows: Vec<u32> = (0..t.n_rows as u32).collect();
        let filter = Filter { clauses: vec![Clause::InSet { column: "platform".into(), values: vec!["web".into()], negate: true }] };
        for (granularity, top, offset, filter) in [(Granularity::Day, 5, 0, Filter::default()), (Granularity::Hour, 1000, -180, filter)] {
            let settings = stream::StreamSettings { granularity: Some(granularity), top, utc_offset_minutes: offset, filter, every_grouping_set: true, ..Default::default() };
            let cube = streamed(&csv, settings);
            assert_eq!((cube.spec.dimensions.as_slice(), cube.spec.measures.as_slice()), (["country", "platform"].map(String::from).as_slice(), ["views".to_string()].as_slice()));
            assert_eq!(cube.spec.weight.as_deref(), weighted.then_some("n"));
            let weights = cube.spec.weight.as_ref().map(|w| crate::data::weights::weight_column(&t, w).unwrap());
            let w = weights.as_ref().map_or(Weights::ONE, |w| Weights::per_row("n", w));
            same_cube(&cube.cube_csv, &aggregate_csv(&t, &rows, w, &cube.spec).unwrap());
            assert!(recognise(&mut table(&cube.cube_csv)).unwrap().is_some());
            assert_eq!(cube.rows_read, 30_000);
        }
    }
}

#[test]
fn a_compressed_chunk_is_streamed_in_pieces() {
    use std::io::Write;
    let csv = hourly_events(60_000, false);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(csv.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    assert!(gz.len() > 3 * crate::data::load::GZIP_PIECE_BYTES, "{} bytes", gz.len());
    // The whole file as one chunk: its rows taken a piece at a time, the same cube as the text
    // read in reads of 4 KiB.
    let settings = || stream::StreamSettings { granularity: Some(Granularity::Day), ..Default::default() };
    let mut whole = stream::FileStream::new(LoadOptions::default(), settings()).unwrap();
    whole.push(&gz).unwrap();
    assert!(whole.batches() >= gz.len() / crate::data::load::GZIP_PIECE_BYTES - 1, "{} batches", whole.batches());
    let (cube, load) = whole.finish().unwrap();
    assert!(load.dialect.gzip);
    assert_eq!(cube.rows_read, 60_000);
    same_cube(&cube.cube_csv, &streamed(&csv, settings()).cube_csv);
    // Plain text is pushed whole: one batch for the chunk.
    let mut plain = stream::FileStream::new(LoadOptions::default(), settings()).unwrap();
    plain.push(csv.as_bytes()).unwrap();
    assert!(plain.batches() <= 1, "{} batches", plain.batches());
}

#[test]
fn a_stream_steps_its_periods_up_and_folds_values_to_stay_small() {
    let csv = hourly_events(30_000, false);
    let t = table(&csv);
    let rows: Vec<u32> = (0..t.n_rows as u32).collect();
    // 240 hours × 126 country-platform pairs do not fit in 3,000 cells; 10 days × 126 do.
    let cube = streamed(&csv, stream::StreamSettings { max_cells: 3000, every_grouping_set: true, ..Default::default() });
    assert_eq!(cube.spec.granularity, Granularity::Day);
    assert!(cube.notes.iter().any(|n| n.contains("daily")), "{:?}", cube.notes);
    same_cube(&cube.cube_csv, &aggregate_csv(&t, &rows, Weights::ONE, &cube.spec).unwrap());
    // Days are kept before weeks: the widest dimension halves (country: 42 → 21 → 10 → 5 values,
    // with (other)) until the cells are half the limit.
    let cube = streamed(&csv, stream::StreamSettings { max_cells: 400, ..Default::default() });
    assert_eq!(cube.spec.granularity, Granularity::Day);
    assert!(cube.notes.iter().any(|n| n.contains("while reading: “country” to 5 values with most events")), "{:?}", cube.notes);
    assert!(recognise(&mut table(&cube.cube_csv)).unwrap().is_some());
    // Two weeks (March 2026 starts on a Sunday) × 126 pairs: beyond 100 cells, countries fold.
    let cube = streamed(&csv, stream::StreamSettings { max_cells: 100, ..Default::default() });
    assert_eq!(cube.spec.granularity, Granularity::Week);
    assert!(cube.notes.iter().any(|n| n.contains("folded into (other) while reading")), "{:?}", cube.notes);
    assert!(recognise(&mut table(&cube.cube_csv)).unwrap().is_some());
    // A dimension with more values than it collects: the later ones are (other) at once; every
    // event is still counted.
    let cube = streamed(&csv, stream::StreamSettings { max_values: 4, granularity: Some(Granularity::Day), ..Default::default() });
    assert!(cube.notes.iter().any(|n| n.contains("“country” (more than 4 values")), "{:?}", cube.notes);
    let total: f64 = table(&cube.cube_csv).column("events").map(|c| (0..c.len()).filter_map(|r| c.numeric(r)).sum()).unwrap();
    // Each event is in the finest rows and the period's total.
    assert_eq!(total, (cube.rows_in_cube * 2) as f64);
    assert_eq!(cube.rows_in_cube, 30_000 - 31);
    assert!(cube.notes.iter().any(|n| n.starts_with("31 rows without a readable at")), "{:?}", cube.notes);
}

#[test]
fn a_stream_keeps_a_uniform_weighted_sample() {
    let csv = hourly_events(30_000, true);
    let settings = stream::StreamSettings { sample_rows: 2000, granularity: Some(Granularity::Day), ..Default::default() };
    let cube = streamed(&csv, settings.clone());
    let sample = table(cube.sample_csv.as_deref().unwrap());
    assert_eq!((sample.n_rows, cube.sample_len), (2000, 2000));
    assert!(sample.column("n").is_none(), "the source's weight is folded into the sample's");
    let weights = crate::data::weights::weight_column(&sample, stream::SAMPLE_WEIGHT).unwrap();
    // Each row stands for 15 rows times its own weight (1–4, 2.5 on average): about 75,000 events.
    let events: f64 = weights.iter().sum();
    assert!((events / 75_000.0 - 1.0).abs() < 0.05, "{events}");
    assert!(weights.iter().all(|w| [15.0, 30.0, 45.0, 60.0].contains(w)), "{:?}", &weights[..10]);
    // Seeded: the same file gives the same sample.
    assert_eq!(streamed(&csv, settings).sample_csv, cube.sample_csv);
    // A small file's sample is the file.
    let small = streamed(&hourly_events(100, false), stream::StreamSettings::default());
    assert_eq!(small.sample_len, 100);
    assert!(small.notes.iter().any(|n| n == "The sample holds every row (100)."), "{:?}", small.notes);
}

#[test]
fn a_stream_without_times_or_rows_says_what_it_needs() {
    let err = stream::stream_cube("a,b\nx,1\ny,2\n".as_bytes(), LoadOptions::default(), stream::StreamSettings::default(), 4096).unwrap_err().to_string();
    assert!(err.contains("a column of dates and times"), "{err}");
    let err = stream::stream_cube("a,b\n".as_bytes(), LoadOptions::default(), stream::StreamSettings::default(), 4096).unwrap_err().to_string();
    assert!(err.contains("no data rows"), "{err}");
    let err = stream::stream_cube("at,n\n2026-01-01,3\n2026-01-02,-1\n".as_bytes(), LoadOptions::default(), stream::StreamSettings::default(), 4096).unwrap_err().to_string();
    assert!(err.contains("-1 in row 2"), "{err}");
}

/// A cube with thousands of grouping ids: checking each against every finest row was
/// quadratic in memory (a map of finest rows × ids) and stalled the browser's worker until it
/// died. The work is bounded, and refused before it starts.
#[test]
fn a_cube_with_too_many_grouping_ids_is_refused_at_once() {
    let dims: Vec<String> = (0..13).map(|i| format!("d{i}")).collect();
    let mut csv = format!("ts_bucket,{},grouping_id,events\n", dims.join(","));
    let finest = 20_000;
    for row in 0..finest {
        let values: Vec<String> = (0..13).map(|i| format!("v{}", (row >> i) & 1)).collect();
        csv.push_str(&format!("2026-03-02,{},0,1\n", values.join(",")));
    }
    // 2,600 ids, each rolling up some dimensions (their cells are empty); the last the total.
    for g in (1..2_600u64).chain([(1 << 13) - 1]) {
        let values: Vec<&str> = (0..13).map(|i| if g & (1 << (12 - i)) != 0 { "" } else { "v0" }).collect();
        csv.push_str(&format!("2026-03-02,{},{g},1\n", values.join(",")));
    }
    let err = recognise(&mut table(&csv)).unwrap_err();
    assert!(matches!(err, CubeError::TooManyGroupings { ids: 2_600, finest: 20_000, .. }), "{err}");
    assert!(err.to_string().starts_with("the cube has 2,600 rolled-up grouping ids over 20,000 finest rows"), "{err}");
}
