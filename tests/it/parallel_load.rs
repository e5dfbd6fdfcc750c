//! The loader on several threads gives exactly what it gives on one: the same table (types,
//! dictionaries, cells that did not fit), the same rejected rows with the same line numbers and
//! byte offsets, the same notices — for any split of the text into parts, including splits
//! inside quoted fields (where a part's guessed start is wrong and it is parsed again).

use proptest::prelude::*;
use vigil::data::load::{LoadError, LoadOptions, LoadReport, TableLoader, SNIFF_BYTES};

fn load(bytes: &[u8], chunk: usize, parallel: Option<(usize, usize, usize)>) -> Result<LoadReport, LoadError> {
    load_sniffing(bytes, chunk, parallel, SNIFF_BYTES)
}

/// [`load`] with the dialect guessed from the first `sniff` bytes.
fn load_sniffing(bytes: &[u8], chunk: usize, parallel: Option<(usize, usize, usize)>, sniff: usize) -> Result<LoadReport, LoadError> {
    let mut loader = TableLoader::new(LoadOptions::default()).with_sniff_bytes(sniff);
    if let Some((threads, block, sample)) = parallel {
        loader = loader.with_parallel_blocks(threads, block, sample);
    } else {
        // The same sample, on one thread.
        loader = loader.with_parallel_blocks(1, 1, SAMPLE);
    }
    for part in bytes.chunks(chunk.max(1)) {
        loader.push(part)?;
    }
    loader.finish()
}

/// As the browser's table worker loads with `helpers` helper workers: each block's parts go
/// out as messages and come back as bytes, up to `ahead` blocks before the oldest is merged;
/// `damage` (two bits per part, in turn) drops an answer (as a helper that crashed would),
/// cuts it short or adds a byte to it, and the table worker parses that part itself. Blocks are taken after every push, or only some
/// (`every`): those left are parsed when the load ends. The dialect is guessed from the first `sniff` bytes, so that a small file is parsed
/// while it is pushed (compare with [`load_sniffing`]).
fn load_by_helpers(bytes: &[u8], chunk: usize, (helpers, block, sample): (usize, usize, usize), (damage, every, ahead): (u64, usize, usize), sniff: usize) -> Result<LoadReport, LoadError> {
    let mut loader = TableLoader::new(LoadOptions::default()).with_sniff_bytes(sniff).with_parallel_blocks(1, block, sample).with_helpers(helpers, block);
    let mut bits = damage;
    let mut on_the_way = move |mut answer: Vec<u8>| {
        let what = bits & 0b11;
        bits = bits.rotate_right(2);
        match what {
            0 => Some(answer),
            1 => None,
            2 => {
                answer.truncate(answer.len() / 2);
                Some(answer)
            }
            _ => {
                answer.push(0);
                Some(answer)
            }
        }
    };
    for (k, piece) in bytes.chunks(chunk.max(1)).enumerate() {
        loader.push(piece)?;
        if k % every.max(1) == 0 {
            loader.run_blocks_by_message(ahead, &mut on_the_way)?;
        }
    }
    loader.finish()
}

/// Rows sampled for types in these tests: few, so small files are parsed in parts.
const SAMPLE: usize = 3;

/// One field: numbers (so an integer column meets a fraction after its sample), words with
/// multi-byte letters, quoted text holding delimiters, quotes, line ends, and missing cells.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0i64..1000).prop_map(|n| n.to_string()),
        1 => (0i64..1000, 1u8..99).prop_map(|(n, f)| format!("{n}.{f}")),
        2 => prop::sample::select(vec!["a", "b", "é", "日本", "🙂 x", "NA", "", "true", "2026-01-02"]).prop_map(String::from),
        2 => prop::collection::vec(prop::sample::select(vec!["x", ",", "\n", "\r\n", "\"\"", " ", "ß", "\r"]), 0..6)
            .prop_map(|parts| format!("\"{}\"", parts.concat())),
        1 => Just(String::from("ab\"c")),
    ]
}

/// One line: usually three fields, sometimes two or four (a rejected row), ended by LF, CRLF or
/// a lone CR; sometimes a blank line.
fn line() -> impl Strategy<Value = String> {
    let fields = prop_oneof![8 => Just(3usize), 1 => Just(2), 1 => Just(4)];
    let end = prop::sample::select(vec!["\n", "\n", "\n", "\r\n", "\r"]);
    prop_oneof![
        12 => (fields, prop::collection::vec(field(), 4), end)
            .prop_map(|(n, fields, end)| format!("{}{end}", fields[..n].join(","))),
        1 => prop::sample::select(vec!["\n", "\r\n"]).prop_map(String::from),
    ]
}

fn file() -> impl Strategy<Value = (Vec<u8>, bool)> {
    (prop::collection::vec(line(), 0..60), any::<bool>()).prop_map(|(lines, last_newline)| {
        let mut text = String::from("id,value,note\n");
        text.push_str(&lines.concat());
        if !last_newline {
            text.truncate(text.trim_end_matches(['\n', '\r']).len());
        }
        (text.into_bytes(), last_newline)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn threads_and_split_points_never_change_the_result(
        (bytes, _) in file(),
        threads in 2usize..5,
        block in 1usize..200,
        chunk in 1usize..300,
    ) {
        let serial = load(&bytes, chunk, None);
        let parallel = load(&bytes, chunk, Some((threads, block, SAMPLE)));
        prop_assert_eq!(&serial, &parallel);
    }

    #[test]
    fn helpers_and_split_points_never_change_the_result(
        (bytes, _) in file(),
        helpers in 1usize..5,
        block in 1usize..200,
        chunk in 1usize..300,
        damage in prop_oneof![3 => Just(0u64), 1 => any::<u64>()],
        every in 1usize..4,
        ahead in 1usize..5,
        sniff in 40usize..400,
    ) {
        let serial = load_sniffing(&bytes, chunk, None, sniff);
        let helped = load_by_helpers(&bytes, chunk, (helpers, block, SAMPLE), (damage, every, ahead), sniff);
        prop_assert_eq!(serial, helped);
    }
}

/// Files up to this size are split into blocks of 1, 7, 64 and 1,000 bytes; larger ones into
/// blocks of 1,000 and 4,096.
const TINY_BLOCKS_UP_TO: usize = 16 << 10;

#[test]
fn the_fixtures_and_csv_spectrum_load_the_same_on_several_threads() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs = ["tests/fixtures/hostile", "tests/fixtures", "tests/fuzz/corpus/csv_load", "tests/e2e/node_modules/csv-spectrum/csvs"].map(|dir| root.join(dir));
    let mut files = 0;
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_file() {
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else { continue };
            if bytes.len() > 4 << 20 {
                continue;
            }
            files += 1;
            // Blocks of a few bytes start threads for nearly every line: on the larger hostile
            // files (up to 612 KB) they made this test over 10 minutes of CI's debug build. The
            // property tests cover tiny blocks on small files.
            let splits: &[(usize, usize)] = if bytes.len() <= TINY_BLOCKS_UP_TO { &[(2, 1), (3, 7), (2, 64), (4, 1000)] } else { &[(2, 1000), (4, 4096)] };
            for &(threads, block) in splits {
                let serial = load(&bytes, 1 << 16, None);
                let parallel = load(&bytes, 1 << 16, Some((threads, block, SAMPLE)));
                assert!(serial == parallel, "{}: {threads} threads, blocks of {block} bytes", path.display());
                if block < 64 {
                    continue; // (a helper's reader is built for each part: the property test has tiny parts)
                }
                // Parsed while pushed (in chunks of 512 bytes, the dialect guessed from as many).
                let serial = load_sniffing(&bytes, 512, None, 512);
                let helped = load_by_helpers(&bytes, 512, (threads, block, SAMPLE), (0, 1, 3), 512);
                assert!(serial == helped, "{}: {threads} helpers, blocks of {block} bytes", path.display());
            }
        }
    }
    assert!(files >= 30, "only {files} fixture files found (csv-spectrum comes with `make e2e-deps`)");
}

#[test]
fn a_dictionary_passes_to_an_arena_at_the_same_total_as_one_thread() {
    // Each part sees fewer distinct values than the dictionary's limit; together they pass it.
    let mut text = String::from("id,label\n");
    for i in 0..70_000 {
        text.push_str(&format!("{i},v{}\n", i % 69_000));
    }
    let serial = load(text.as_bytes(), 1 << 20, None).unwrap();
    let parallel = load(text.as_bytes(), 1 << 20, Some((3, 100_000, SAMPLE))).unwrap();
    assert!(matches!(&serial.table.columns[1].data, vigil::data::table::ColumnData::Str(vigil::data::table::Strings::Arena { .. })));
    assert!(serial == parallel);
}

#[test]
fn an_integer_column_that_meets_a_fraction_in_a_later_part_is_float_throughout() {
    let mut text = String::from("n\n");
    for i in 0..5_000 {
        text.push_str(&format!("{i}\n"));
    }
    text.push_str("0.5\n-0\n");
    let serial = load(text.as_bytes(), 4096, None).unwrap();
    let parallel = load(text.as_bytes(), 4096, Some((2, 1000, SAMPLE))).unwrap();
    assert_eq!(serial.table.columns[0].kind, vigil::data::table::ColumnType::Float);
    assert!(serial == parallel);
}

#[test]
fn a_quoted_record_running_through_several_parts_is_read_once_on_threads() {
    // Blocks of 2 × 4 KiB cut into 8 parts of about 1 KiB: a quoted cell of 3 KiB of short lines
    // starts in the first part, so this reader's record runs on through the parts it takes next
    // (and the other thread's guessed starts inside it are wrong and parsed again); rows after
    // it, and a row of the wrong width, keep their line numbers.
    let mut text = String::from("id,note,n\n");
    for block in 0..6 {
        text.push_str(&format!("{block},\""));
        for line in 0..300 {
            text.push_str(&format!("l{line}, x\n"));
        }
        text.push_str("\",1\n");
        for row in 0..200 {
            text.push_str(&format!("{row},plain,{}\n", row % 5));
        }
        text.push_str("short,row\n");
    }
    let serial = load(text.as_bytes(), 1000, None).unwrap();
    for threads in [2, 3] {
        let parallel = load(text.as_bytes(), 1000, Some((threads, 4096, SAMPLE))).unwrap();
        assert_eq!(serial.table.n_rows, 6 * 201);
        assert_eq!(serial.rejected.len(), 6);
        assert!(serial == parallel, "{threads} threads");
    }
}

#[test]
fn a_readers_text_is_parsed_as_it_comes_when_helpers_parse_the_loads_own_text() {
    // The browser's table worker with helpers, handed a Parquet file: the reader worker's text
    // arrives a batch at a time and must be parsed as it comes (it waited, whole, for blocks
    // that no helper would take, until the end).
    let parquet = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports.parquet")).unwrap();
    let mut loader = TableLoader::new(LoadOptions::default()).with_helpers(3, 1024).with_reader_outside();
    loader.push(&parquet).unwrap();
    let mut finishing = loader.finishing().unwrap();
    assert!(finishing.reader_job().is_some());
    let mut text = String::from("id,score\n");
    for i in 0..20_000 {
        text.push_str(&format!("{i},{}\n", i % 7));
    }
    finishing.feed_text(text.as_bytes(), (20_000, Some(40_000))).unwrap();
    assert_eq!(finishing.take_rows().map(|rows| rows.n_rows), Some(20_000), "the batch's rows are not all parsed yet");
}
