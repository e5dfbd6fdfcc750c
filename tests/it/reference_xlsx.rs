//! The .xlsx reader against pandas: a seeded workbook written by openpyxl (a notes sheet, an
//! empty sheet, a reports sheet of texts with commas, quotes and line breaks, numbers, dates,
//! date-times, booleans, empty cells and formula errors) read by Vigil gives, sheet by sheet,
//! the columns and cells `pandas.read_excel` gives, with each column's type as an analyst
//! expects. Runs `tests/reference/xlsx_reference.py` (`make py-deps`).

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use vigil::data::load::{load_bytes, LoadError, LoadOptions};
use vigil::data::table::{ColumnType, Table, Value as Cell};

/// A cell as JSON, as the Python references print it (also used by the Parquet reference).
pub(crate) fn cell_json(table: &Table, column: usize, row: usize) -> Value {
    match table.columns[column].value(row) {
        Cell::Missing => Value::Null,
        Cell::Str(s) => Value::from(s),
        Cell::Int(v) => Value::from(v as f64),
        Cell::Float(v) => Value::from(v),
        Cell::Bool(b) => Value::from(b),
        Cell::Timestamp(ms) => Value::from(ms as f64),
    }
}

fn same(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) => (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() <= 1e-9,
        _ => got == want,
    }
}

#[test]
fn an_xlsx_sheet_reads_as_pandas_reads_it() {
    let dir = std::env::temp_dir().join(format!("vigil-xlsx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("reports.xlsx");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/xlsx_reference.py");
    let output = Command::new("python3").arg(&script).arg(&path).arg("11").output().expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reference: Value = serde_json::from_slice(&output.stdout).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    // By default the first sheet with data; another by name.
    let notes = load_bytes(&bytes, LoadOptions::default()).unwrap();
    let book = notes.dialect.workbook.as_ref().unwrap();
    assert_eq!(book.sheet, "Notes");
    assert_eq!(serde_json::to_value(&book.sheets).unwrap(), reference["sheets"]);
    assert_eq!(notes.dialect.describe(), "Excel workbook, sheet “Notes” (1 of 3), header row");
    assert!(notes.notices.iter().any(|n| n == "Read sheet “Notes” of 3 (“Notes”, “Empty”, “Reports”)."), "{:?}", notes.notices);

    let report = load_bytes(&bytes, LoadOptions { sheet: Some("Reports".into()), ..LoadOptions::default() }).unwrap();
    let expected = &reference["Reports"];
    let table = &report.table;
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(serde_json::to_value(&names).unwrap(), expected["columns"]);
    let types: Vec<ColumnType> = table.columns.iter().map(|c| c.kind).collect();
    use ColumnType::*;
    assert_eq!(types, [Identifier, Category, Float, Integer, Timestamp, Timestamp, Boolean, Category], "{names:?}");
    let rows = expected["rows"].as_array().unwrap();
    assert_eq!(rows.len(), table.n_rows);
    for (row, want) in rows.iter().enumerate() {
        for (column, want) in want.as_array().unwrap().iter().enumerate() {
            let got = cell_json(table, column, row);
            assert!(same(&got, want), "{} row {row}: {got} ≠ pandas' {want}", names[column]);
        }
    }
    assert!(report.notices.iter().any(|n| n == "2 cells with a formula error (the first #DIV/0!) read as missing."), "{:?}", report.notices);
    assert_eq!(report.rejected_total, 0);

    // A sheet that is not there, an empty one, a damaged file: each says what is wrong.
    let missing = load_bytes(&bytes, LoadOptions { sheet: Some("Appeals".into()), ..LoadOptions::default() }).unwrap_err();
    assert_eq!(missing.to_string(), "the workbook has no sheet “Appeals” (its sheets: “Notes”, “Empty”, “Reports”)");
    let empty = load_bytes(&bytes, LoadOptions { sheet: Some("Empty".into()), ..LoadOptions::default() }).unwrap_err();
    assert_eq!(empty.to_string(), "the sheet “Empty” is empty");
    let cut = load_bytes(&bytes[..bytes.len() / 2], LoadOptions::default()).unwrap_err();
    assert!(matches!(&cut, LoadError::Workbook(m) if m.starts_with("this looks like an Excel workbook")), "{cut}");
    std::fs::remove_dir_all(&dir).ok();
}
