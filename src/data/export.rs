//! Writing a table back out as CSV.
//!
//! Cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR at the start)
//! are prefixed with `'` when `neutralise_formulas` is set, as exports for people should be;
//! round-trip tests write without it.

use std::io::Write;

use super::table::{Table, Value};

/// Whether a spreadsheet would treat the text as a formula.
pub fn is_formula_like(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// The text as a spreadsheet shows it: formula-like text gets a leading `'`.
pub fn neutralise_formula(text: &str) -> String {
    if is_formula_like(text) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// Writes `table` (header and every row) as comma-separated CSV.
pub fn write_table_csv<W: Write>(table: &Table, out: W, neutralise_formulas: bool) -> csv::Result<()> {
    write_rows_csv(table, 0..table.n_rows, out, neutralise_formulas)
}

/// Writes the header and the rows `rows` (table indices, in this order) as CSV; with
/// `neutralise_formulas`, text cells a spreadsheet would run get a leading `'`.
pub fn write_rows_csv<W: Write>(table: &Table, rows: impl IntoIterator<Item = usize>, out: W, neutralise_formulas: bool) -> csv::Result<()> {
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    writer.write_record(table.columns.iter().map(|c| c.name.as_str()))?;
    let mut record: Vec<String> = Vec::with_capacity(table.columns.len());
    for row in rows {
        record.clear();
        for column in &table.columns {
            let value = column.value(row);
            let mut text = value.display();
            if neutralise_formulas && matches!(value, Value::Str(_)) && is_formula_like(&text) {
                text.insert(0, '\'');
            }
            record.push(text);
        }
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes `rows` (the first one the header) as comma-separated CSV for people, for tables the
/// UI shows (incidents, segments, coefficients, …): formula-like cells are neutralised unless
/// they read as a number (`-0.52`, `-1,234`). Trailing columns empty in every row (a column of
/// buttons) are left out.
pub fn text_rows_csv(rows: &[Vec<String>]) -> String {
    let width = rows.iter().map(|row| row.iter().rposition(|cell| !cell.trim().is_empty()).map_or(0, |i| i + 1)).max().unwrap_or(0);
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    for row in rows {
        let cells = row.iter().take(width).map(|cell| {
            let number = cell.trim().replace(',', "").parse::<f64>().is_ok();
            if number { cell.clone() } else { neutralise_formula(cell) }
        });
        // Writing into a Vec cannot fail.
        let _ = writer.write_record(cells);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failing unwrap is a failing test
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};

    #[test]
    fn shown_tables_keep_numbers_and_neutralise_formulas() {
        let rows = vec![
            vec!["segment".to_string(), "delta".to_string()],
            vec!["=HYPERLINK(\"x\")".to_string(), "-1,234".to_string()],
            vec!["a, \"b\"".to_string(), "-0.5".to_string(), "extra".to_string()],
            vec!["-risky".to_string(), "+3".to_string(), String::new(), " ".to_string()],
        ];
        assert_eq!(text_rows_csv(&rows), "segment,delta\n\"'=HYPERLINK(\"\"x\"\")\",\"-1,234\"\n\"a, \"\"b\"\"\",-0.5,extra\n'-risky,+3,\n");
        let table = load_bytes(b"id,n\nA,1\nB,2\nC,3\n", LoadOptions::default()).unwrap().table;
        let mut some = Vec::new();
        write_rows_csv(&table, [2, 0], &mut some, true).unwrap();
        assert_eq!(String::from_utf8(some).unwrap(), "id,n\nC,3\nA,1\n");
    }

    #[test]
    fn formulas_are_neutralised_only_when_asked() {
        let table = load_bytes(b"name,n\n=cmd|x,1\nok,-2\n", LoadOptions::default()).unwrap().table;
        let mut plain = Vec::new();
        write_table_csv(&table, &mut plain, false).unwrap();
        assert_eq!(String::from_utf8(plain).unwrap(), "name,n\n=cmd|x,1\nok,-2\n");
        let mut safe = Vec::new();
        write_table_csv(&table, &mut safe, true).unwrap();
        assert_eq!(String::from_utf8(safe).unwrap(), "name,n\n'=cmd|x,1\nok,-2\n");
    }
}

