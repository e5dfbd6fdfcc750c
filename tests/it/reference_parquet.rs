//! The Parquet reader against pyarrow: one seeded table written by pyarrow under every codec
//! (none, snappy, gzip, brotli, lz4, zstd, and once with 97-row row groups, version 2 data pages
//! and no dictionaries) is read by Vigil as pyarrow reads it back: the same columns (struct
//! fields under dotted names), cell for cell (times in UTC to the millisecond, with and without
//! a zone, in µs, ns and ms; dates; decimals; unsigned integers; nulls; lists as text), each
//! column of the type an analyst expects. Runs `tests/reference/parquet_reference.py`
//! (`make py-deps`).

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use vigil::data::load::{load_bytes, LoadError, LoadOptions};
use super::reference_xlsx::cell_json;
use vigil::data::table::{ColumnType, Value as Cell};
use vigil::warehouse::stream::{stream_cube, StreamSettings};

/// Numbers to 1e-7 relative (float32 values are written as their own shortest text).
fn same(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            (a - b).abs() <= 1e-7 * a.abs().max(b.abs()).max(1.0)
        }
        _ => got == want,
    }
}

#[test]
fn parquet_files_read_as_pyarrow_reads_them() {
    let dir = std::env::temp_dir().join(format!("vigil-parquet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/parquet_reference.py");
    let output = Command::new("python3").arg(&script).arg(&dir).arg("7").output().expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reference: Value = serde_json::from_slice(&output.stdout).unwrap();
    let expected_names = &reference["columns"];
    let rows = reference["rows"].as_array().unwrap();
    use ColumnType::*;
    let expected_types = [Identifier, Category, Float, Integer, Integer, Float, Timestamp, Timestamp, Timestamp, Timestamp, Float, Boolean, Integer, Category, Category, Integer];
    for (codec, path) in reference["files"].as_object().unwrap() {
        let bytes = std::fs::read(path.as_str().unwrap()).unwrap();
        let report = load_bytes(&bytes, LoadOptions::default()).unwrap_or_else(|e| panic!("{codec}: {e}"));
        let table = &report.table;
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(&serde_json::to_value(&names).unwrap(), expected_names, "{codec}");
        let types: Vec<ColumnType> = table.columns.iter().map(|c| c.kind).collect();
        assert_eq!(types, expected_types, "{codec}: {names:?}");
        assert_eq!(rows.len(), table.n_rows, "{codec}");
        for (row, want) in rows.iter().enumerate() {
            for (column, want) in want.as_array().unwrap().iter().enumerate() {
                let got = cell_json(table, column, row);
                assert!(same(&got, want), "{codec}: {} row {row}: {got} ≠ pyarrow's {want}", names[column]);
            }
        }
        assert_eq!(report.rejected_total, 0, "{codec}");
        let file = report.dialect.parquet.as_ref().unwrap();
        let described = report.dialect.describe();
        match codec.as_str() {
            "none" => assert_eq!(described, "Parquet, 1 row group"),
            "pages-v2" => assert_eq!(described, format!("Parquet, {} row groups, zstd", reference["row_groups"])),
            other => assert_eq!(described, format!("Parquet, 1 row group, {other}")),
        }
        assert_eq!(file.rows, rows.len() as u64);
        assert!(report.notices.iter().any(|n| n == "Lists read as text (“[a, b]”): “tags”."), "{codec}: {:?}", report.notices);
    }

    // Streamed into a cube (a file too large for the tab), a row group at a time: every row
    // is in it, once.
    let small = std::fs::read(reference["files"]["pages-v2"].as_str().unwrap()).unwrap();
    let streamed = stream_cube(small.as_slice(), LoadOptions::default(), StreamSettings::default(), 4096).unwrap();
    assert_eq!(streamed.rows_read, rows.len() as u64);
    assert_eq!(streamed.rows_in_cube, rows.len() as u64);

    // 2,000 columns: every one, every row.
    let wide = load_bytes(&std::fs::read(reference["wide"].as_str().unwrap()).unwrap(), LoadOptions::default()).unwrap();
    assert_eq!((wide.table.n_rows, wide.table.columns.len()), (300, 2000));
    for (column, want) in [0, 1999].into_iter().zip(reference["wide_sums"].as_array().unwrap()) {
        let sum: i64 = (0..300).map(|row| match wide.table.columns[column].value(row) {
            Cell::Int(v) => v,
            other => panic!("{other:?}"),
        }).sum();
        assert_eq!(sum, want.as_i64().unwrap(), "column {column}");
    }

    // Edge cases (found by a review): nulls of a one-column file are rows, not empty lines;
    // struct fields named "item" or "element" inside a list keep their names; values quoted
    // with ' or holding a comma or control characters are values (the text Vigil writes is not
    // sniffed); 256-bit decimals are read.
    let edges = &reference["edges"];
    let edge = |name: &str| load_bytes(&std::fs::read(edges[name]["path"].as_str().unwrap()).unwrap(), LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let one = edge("one");
    assert_eq!(one.table.n_rows, 100);
    assert_eq!((0..100).filter(|&row| one.table.columns[0].value(row) == Cell::Missing).count(), 25);
    let names = edge("names");
    let names: Vec<&str> = names.table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(serde_json::to_value(&names).unwrap(), edges["names"]["columns"]);
    let quoted = edge("quoted");
    assert_eq!((quoted.table.n_rows, quoted.rejected_total), (200, 0));
    for (row, want) in edges["quoted"]["first"].as_array().unwrap().iter().enumerate() {
        assert_eq!(cell_json(&quoted.table, 0, row), *want);
    }
    let amounts = edge("decimal256");
    for (row, want) in edges["decimal256"]["values"].as_array().unwrap().iter().enumerate() {
        assert!(same(&cell_json(&amounts.table, 0, row), want), "row {row}");
    }
    // Text that starts with Parquet's magic is text.
    let text = load_bytes(b"PAR1,b\n1,2\n3,4\n", LoadOptions::default()).unwrap();
    assert_eq!((text.table.n_rows, text.table.columns[0].name.as_str()), (2, "PAR1"));

    // Cut short, or damaged inside: each says what is wrong.
    let bytes = std::fs::read(reference["files"]["zstd"].as_str().unwrap()).unwrap();
    let cut = load_bytes(&bytes[..bytes.len() / 2], LoadOptions::default()).unwrap_err();
    assert!(matches!(&cut, LoadError::Parquet(m) if m.starts_with("this looks like a Parquet file but cannot be read as one")), "{cut}");
    let mut damaged = bytes.clone();
    for b in &mut damaged[200..4000] {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    let err = load_bytes(&damaged, LoadOptions::default()).unwrap_err();
    assert!(matches!(&err, LoadError::Parquet(m) if m.starts_with("the Parquet file is damaged in column")), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// 20,000 copies of a Parquet file with bytes changed at random (seeded), in the pages, the footer
/// or its length:
/// each is read or refused with a message, never a panic.
#[test]
fn damaged_parquet_files_are_refused_not_crashed_on() {
    use rand::{Rng, SeedableRng};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(25);
    let (mut read, mut refused) = (0, 0);
    {
        let original = std::fs::read(dir.join("reports.parquet")).unwrap();
        for _ in 0..20000 {
            let mut bytes = original.clone();
            for _ in 0..rng.gen_range(1..6) {
                // Mostly in the footer, where the schema and offsets are.
                let at = if rng.gen_bool(0.5) { bytes.len() - 1 - rng.gen_range(0..bytes.len().min(2000)) } else { rng.gen_range(0..bytes.len()) };
                bytes[at] = rng.gen();
            }
            match load_bytes(&bytes, LoadOptions::default()) {
                Ok(_) => read += 1,
                Err(err) => {
                    assert!(!err.to_string().is_empty());
                    refused += 1;
                }
            }
        }
    }
    assert!(refused > 100 && read > 10, "{read} read, {refused} refused");
}
