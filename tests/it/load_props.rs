//! Property tests of the loader: it never panics, chunking never matters, and a table written
//! as CSV reads back as the same table.

use proptest::prelude::*;
use vigil::data::export::write_table_csv;
use vigil::data::load::{load_bytes, LoadOptions, TableLoader};

fn load_chunked(bytes: &[u8], chunk: usize) -> Result<vigil::data::load::LoadReport, vigil::data::load::LoadError> {
    let mut loader = TableLoader::new(LoadOptions::default());
    for part in bytes.chunks(chunk.max(1)) {
        loader.push(part)?;
    }
    loader.finish()
}

/// CSV-ish bytes: mostly delimiters, quotes, newlines, digits and letters, some anything.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => prop::sample::select(b",;\t|\"\r\n 0123456789.-eE+abcxyzTZ:/".to_vec()),
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..600)
}

/// Text files: like `csvish` but printable (control bytes make a file read as binary,
/// by design), with some non-ASCII letters.
fn texty() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        6 => prop::sample::select(vec![",", ";", "\"", "\n", "\r\n", " ", "0", "1", "7", ".", "-", "e", "a", "x", "Z", ":", "2026-01-02", "NA", "true"]),
        1 => prop::sample::select(vec!["é", "ß", "日本", "🙂"]),
    ];
    prop::collection::vec(piece, 0..200).prop_map(|pieces| pieces.concat().into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_load_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), chunk in 1usize..64) {
        let _ = load_chunked(&bytes, chunk);
    }

    #[test]
    fn chunk_boundaries_never_change_the_result(bytes in csvish(), chunk in 1usize..40) {
        let whole = load_bytes(&bytes, LoadOptions::default());
        let chunked = load_chunked(&bytes, chunk);
        prop_assert_eq!(whole, chunked);
    }

    #[test]
    fn write_then_read_gives_the_same_table(bytes in texty()) {
        if let Ok(report) = load_bytes(&bytes, LoadOptions::default()) {
            let mut written = Vec::new();
            write_table_csv(&report.table, &mut written, false).unwrap();
            let options = LoadOptions { delimiter: Some(b','), has_header: Some(true), ..LoadOptions::default() };
            let again = load_bytes(&written, options).unwrap();
            prop_assert_eq!(&again.table.columns.iter().map(|c| &c.name).collect::<Vec<_>>(),
                            &report.table.columns.iter().map(|c| &c.name).collect::<Vec<_>>());
            prop_assert_eq!(again.table.n_rows, report.table.n_rows);
            for (a, b) in again.table.columns.iter().zip(&report.table.columns) {
                for row in 0..report.table.n_rows {
                    prop_assert_eq!(a.value(row).display(), b.value(row).display(), "column {} row {}", b.name, row);
                }
            }
        }
    }
}
