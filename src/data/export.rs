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
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    writer.write_record(table.columns.iter().map(|c| c.name.as_str()))?;
    let mut record: Vec<String> = Vec::with_capacity(table.columns.len());
    for row in 0..table.n_rows {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failing unwrap is a failing test
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};

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
