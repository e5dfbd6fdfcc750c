//! Excel workbooks (.xlsx) as a stage of the loader: the file is held whole (a zip is read from
//! its directory at the end), one sheet is read by `calamine`, and its cells are written as CSV
//! text for the body, so types, header detection and rejected rows are the CSV loader's. Dates
//! become ISO text (the loader reads them as times), numbers their shortest exact text, formula
//! errors (`#N/A`, `#DIV/0!`) missing values with a notice.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, XlsxError};
use serde::{Deserialize, Serialize};

/// The sheet read and the workbook's sheets, in their order (for the choice in the app and
/// `vigil --sheet`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workbook {
    pub sheet: String,
    pub sheets: Vec<String>,
}

/// A workbook's sheet as CSV text, with what the reader should know.
#[derive(Debug)]
pub struct SheetText {
    pub csv: Vec<u8>,
    pub workbook: Workbook,
    pub notices: Vec<String>,
}

/// Most bytes a sheet (or the shared strings) may unpack to. Its cells are held at once (about
/// twice the XML in memory, then its text and table), and a zip packs gigabytes of repeated XML
/// into megabytes: a workbook built to exhaust memory is refused before its cells are read.
pub const MAX_PART_BYTES: u64 = if cfg!(target_arch = "wasm32") { 512 << 20 } else { 8 << 30 };

/// Why a workbook could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkbookError {
    #[error("this looks like an Excel workbook (a zip file) but cannot be read as one: {0}")]
    Unreadable(String),
    #[error("the workbook has no sheet “{wanted}” (its sheets: {})", quoted(sheets))]
    NoSheet { wanted: String, sheets: Vec<String> },
    #[error("the workbook has no sheet with data (its sheets: {})", quoted(sheets))]
    NoData { sheets: Vec<String> },
    #[error("the sheet “{0}” is empty")]
    EmptySheet(String),
    #[error("the workbook's part {part} unpacks to more than {} MB (a very large sheet, or a file built to exhaust memory); Vigil reads sheets up to that size: save the sheet as CSV, which is read as a stream", limit >> 20)]
    TooLarge { part: String, limit: u64 },
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("“{n}”")).collect::<Vec<_>>().join(", ")
}

/// A zip file's first bytes (an .xlsx is one).
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// Reads `sheet` of the workbook (`None`: the first sheet with a non-empty cell) as CSV text.
pub fn sheet_as_csv(bytes: &[u8], sheet: Option<&str>) -> Result<SheetText, WorkbookError> {
    sheet_as_csv_within(bytes, sheet, MAX_PART_BYTES)
}

fn damaged(e: zip::result::ZipError) -> WorkbookError {
    WorkbookError::Unreadable(format!("the zip file is damaged or cut short ({e})"))
}

/// Unpacks each sheet and the shared strings up to `limit` bytes (counted, not taken from the
/// zip's directory, which may lie).
fn check_sizes(bytes: &[u8], limit: u64) -> Result<(), WorkbookError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).map_err(damaged)?;
        let name = part.name().to_string();
        if !(name.starts_with("xl/worksheets/") || name == "xl/sharedStrings.xml") {
            continue;
        }
        let unpacked = std::io::copy(&mut std::io::Read::take(&mut part, limit + 1), &mut std::io::sink()).map_err(|e| WorkbookError::Unreadable(format!("{name}: {e}")))?;
        if unpacked > limit {
            return Err(WorkbookError::TooLarge { part: name, limit });
        }
    }
    Ok(())
}

fn sheet_as_csv_within(bytes: &[u8], sheet: Option<&str>, limit: u64) -> Result<SheetText, WorkbookError> {
    check_sizes(bytes, limit)?;
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        WorkbookError::Unreadable(match e {
            XlsxError::Zip(e) => format!("the zip file is damaged or cut short ({e})"),
            XlsxError::FileNotFound(part) => format!("the zip file holds no workbook (no {part})"),
            other => other.to_string(),
        })
    })?;
    let sheets = book.sheet_names();
    let (name, range) = match sheet {
        Some(wanted) => {
            if !sheets.iter().any(|s| s == wanted) {
                return Err(WorkbookError::NoSheet { wanted: wanted.to_string(), sheets });
            }
            let range = book.worksheet_range(wanted).map_err(|e| WorkbookError::Unreadable(format!("sheet “{wanted}”: {e}")))?;
            if range.used_cells().next().is_none() {
                return Err(WorkbookError::EmptySheet(wanted.to_string()));
            }
            (wanted.to_string(), range)
        }
        None => {
            let mut found = None;
            for name in &sheets {
                let range = book.worksheet_range(name).map_err(|e| WorkbookError::Unreadable(format!("sheet “{name}”: {e}")))?;
                if range.used_cells().next().is_some() {
                    found = Some((name.clone(), range));
                    break;
                }
            }
            found.ok_or_else(|| WorkbookError::NoData { sheets: sheets.clone() })?
        }
    };
    let mut csv = Vec::with_capacity(range.get_size().0 * range.get_size().1 * 8);
    let mut errors = 0u64;
    let mut first_error = None;
    let mut cell = String::new();
    for row in range.rows() {
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                csv.push(b',');
            }
            cell.clear();
            if let Data::Error(e) = value {
                errors += 1;
                first_error.get_or_insert_with(|| e.to_string());
            }
            cell_text(value, &mut cell);
            write_field(&cell, &mut csv);
        }
        csv.push(b'\n');
    }
    let mut notices = Vec::new();
    if sheets.len() > 1 {
        notices.push(format!("Read sheet “{name}” of {} ({}).", sheets.len(), quoted(&sheets)));
    }
    if let Some(first) = first_error {
        let cells = if errors == 1 { "1 cell".to_string() } else { format!("{} cells", crate::format::format_count(errors)) };
        notices.push(format!("{cells} with a formula error (the first {first}) read as missing."));
    }
    Ok(SheetText { csv, workbook: Workbook { sheet: name, sheets }, notices })
}

/// A cell as the text the CSV loader reads.
fn cell_text(value: &Data, out: &mut String) {
    use std::fmt::Write;
    match value {
        Data::Empty | Data::Error(_) => {}
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => out.push_str(s),
        Data::Int(n) => {
            let _ = write!(out, "{n}");
        }
        // Rust writes the shortest text that reads back to the same float ("3" for 3.0).
        Data::Float(x) => {
            let _ = write!(out, "{x}");
        }
        Data::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Data::DateTime(dt) => {
            let days = dt.as_f64();
            if dt.is_duration() {
                // A duration as Excel shows it, hours past 24 included ("36:30:00").
                let total = (days * 86_400.0).round() as i64;
                let _ = write!(out, "{}:{:02}:{:02}", total / 3600, (total / 60) % 60, total % 60);
                return;
            }
            // Rounded to the millisecond (Excel's precision; the date parts calamine gives
            // without chrono truncate, up to a second off).
            let Some(at) = dt.as_datetime() else { return };
            let format = if (0.0..1.0).contains(&days) {
                // A time of day alone.
                "%H:%M:%S"
            } else if at.time() == chrono::NaiveTime::MIN {
                "%Y-%m-%d"
            } else if at.and_utc().timestamp_subsec_millis() == 0 {
                "%Y-%m-%dT%H:%M:%S"
            } else {
                "%Y-%m-%dT%H:%M:%S%.3f"
            };
            let _ = write!(out, "{}", at.format(format));
        }
    }
}

/// One CSV field, quoted when it holds a comma, quote or line break (or starts with a space).
fn write_field(text: &str, csv: &mut Vec<u8>) {
    if text.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) || text.starts_with(' ') {
        csv.push(b'"');
        for b in text.bytes() {
            if b == b'"' {
                csv.push(b'"');
            }
            csv.push(b);
        }
        csv.push(b'"');
    } else {
        csv.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    #[test]
    fn fields_are_quoted_when_they_must_be() {
        let mut csv = Vec::new();
        for text in ["plain", "a,b", "say \"hi\"", "two\nlines", " lead", ""] {
            write_field(text, &mut csv);
            csv.push(b'|');
        }
        assert_eq!(String::from_utf8(csv).unwrap(), "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\" lead\"||");
    }

    #[test]
    fn cells_read_as_the_loader_expects() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        let text = |value: Data| {
            let mut out = String::new();
            cell_text(&value, &mut out);
            out
        };
        assert_eq!(text(Data::Float(3.0)), "3");
        assert_eq!(text(Data::Float(0.1)), "0.1");
        assert_eq!(text(Data::Int(-7)), "-7");
        assert_eq!(text(Data::Bool(true)), "true");
        assert_eq!(text(Data::Empty), "");
        // 2025-10-13 12:59:02.400 (Excel's 1900 system), the day alone, a time alone, 1.5 days.
        let at = |v: f64, kind| Data::DateTime(ExcelDateTime::new(v, kind, false));
        assert_eq!(text(at(45943.541, ExcelDateTimeType::DateTime)), "2025-10-13T12:59:02.400");
        assert_eq!(text(at(45943.0, ExcelDateTimeType::DateTime)), "2025-10-13");
        assert_eq!(text(at(0.75, ExcelDateTimeType::DateTime)), "18:00:00");
        assert_eq!(text(at(1.5208333333, ExcelDateTimeType::TimeDelta)), "36:30:00");
    }

    #[test]
    fn a_sheet_that_unpacks_beyond_the_limit_is_refused_before_it_is_read() {
        let book = include_bytes!("../../tests/fixtures/reports.xlsx");
        assert!(sheet_as_csv_within(book, Some("Reports"), 1 << 20).is_ok());
        let err = sheet_as_csv_within(book, Some("Reports"), 4 << 10).unwrap_err();
        assert!(matches!(&err, WorkbookError::TooLarge { part, .. } if part.starts_with("xl/worksheets/sheet")), "{err}");
    }

    #[test]
    fn what_is_not_a_workbook_says_so() {
        let err = sheet_as_csv(b"PK\x03\x04 not really a zip", None).unwrap_err();
        assert!(matches!(err, WorkbookError::Unreadable(_)), "{err}");
        assert!(err.to_string().starts_with("this looks like an Excel workbook"));
    }
}
