//! Excel workbooks (.xlsx) as a stage of the loader: the file is held whole (a zip is read from
//! its directory at the end), one sheet is read by `calamine`, and its cells are written as CSV
//! text for the body, so types, header detection and rejected rows are the CSV loader's. Dates
//! become ISO text (the loader reads them as times), numbers their shortest exact text, formula
//! errors (`#N/A`, `#DIV/0!`) missing values with a notice.

use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx, XlsxError};

use super::json::write_field;
use super::readers::Workbook;

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
    #[error("the sheet “{sheet}” would make {} MB of text ({} rows × {} columns), more than the {} MB and {} columns Vigil reads from a sheet here: save the sheet as CSV, which is read as a stream", bytes >> 20, crate::format::format_count(*rows), crate::format::format_count(*columns), limit >> 20, crate::format::format_count(crate::data::load::MAX_COLUMNS as u64))]
    TooWide { sheet: String, rows: u64, columns: u64, bytes: u64, limit: u64 },
    #[error("the workbook's part {part} unpacks to more than {} MB (a very large sheet, or a file built to exhaust memory); Vigil reads sheets up to that size: save the sheet as CSV, which is read as a stream", limit >> 20)]
    TooLarge { part: String, limit: u64 },
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("“{n}”")).collect::<Vec<_>>().join(", ")
}

/// Reads `sheet` of the workbook (`None`: the first sheet with a non-empty cell) as CSV text.
pub fn sheet_as_csv(bytes: &[u8], sheet: Option<&str>) -> Result<SheetText, WorkbookError> {
    sheet_as_csv_within(bytes, sheet, MAX_PART_BYTES, MAX_PART_BYTES)
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
        // As calamine finds parts: whatever the case, with either slash.
        let path = name.to_lowercase().replace('\\', "/");
        if !(path.starts_with("xl/worksheets/") || path == "xl/sharedstrings.xml") {
            continue;
        }
        let unpacked = std::io::copy(&mut std::io::Read::take(&mut part, limit + 1), &mut std::io::sink()).map_err(|e| WorkbookError::Unreadable(format!("{name}: {e}")))?;
        if unpacked > limit {
            return Err(WorkbookError::TooLarge { part: name, limit });
        }
    }
    Ok(())
}

/// Where a sheet's cells are and about how much CSV text they make (read before the text is
/// written: a sparse sheet spans rows × columns of empty fields, and a shared string repeated in
/// many cells is written in each).
struct Extent {
    rows: (u32, u32),
    columns: (u32, u32),
    text: u64,
}

fn unreadable(sheet: &str, e: XlsxError) -> WorkbookError {
    WorkbookError::Unreadable(format!("sheet “{sheet}”: {e}"))
}

/// The extent of the non-empty cells of `sheet` (`None`: it has none).
fn measure(book: &mut Xlsx<Cursor<&[u8]>>, sheet: &str) -> Result<Option<Extent>, WorkbookError> {
    let mut reader = book.worksheet_cells_reader(sheet).map_err(|e| unreadable(sheet, e))?;
    let mut extent: Option<Extent> = None;
    while let Some(cell) = reader.next_cell().map_err(|e| unreadable(sheet, e))? {
        let text = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::SharedString(s) => s.len(),
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.len(),
            _ => 24,
        } as u64;
        let (row, column) = cell.get_position();
        let e = extent.get_or_insert(Extent { rows: (row, row), columns: (column, column), text: 0 });
        e.rows = (e.rows.0.min(row), e.rows.1.max(row));
        e.columns = (e.columns.0.min(column), e.columns.1.max(column));
        // Quotes doubled at worst, the field's own quotes.
        e.text = e.text.saturating_add(text * 2 + 2);
    }
    Ok(extent)
}

/// [`sheet_as_csv`] with each part unpacked up to `limit` bytes and the text up to `text_limit`.
fn sheet_as_csv_within(bytes: &[u8], sheet: Option<&str>, limit: u64, text_limit: u64) -> Result<SheetText, WorkbookError> {
    check_sizes(bytes, limit)?;
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        WorkbookError::Unreadable(match e {
            XlsxError::Zip(e) => return damaged(e),
            XlsxError::FileNotFound(part) => format!("the zip file holds no workbook (no {part})"),
            other => other.to_string(),
        })
    })?;
    let sheets = book.sheet_names();
    let (name, extent) = match sheet {
        Some(wanted) => {
            if !sheets.iter().any(|s| s == wanted) {
                return Err(WorkbookError::NoSheet { wanted: wanted.to_string(), sheets });
            }
            let extent = measure(&mut book, wanted)?.ok_or_else(|| WorkbookError::EmptySheet(wanted.to_string()))?;
            (wanted.to_string(), extent)
        }
        None => {
            let mut found = None;
            for name in &sheets {
                if let Some(extent) = measure(&mut book, name)? {
                    found = Some((name.clone(), extent));
                    break;
                }
            }
            found.ok_or_else(|| WorkbookError::NoData { sheets: sheets.clone() })?
        }
    };
    let height = u64::from(extent.rows.1 - extent.rows.0) + 1;
    let width = u64::from(extent.columns.1 - extent.columns.0) + 1;
    let size = height.saturating_mul(width).saturating_add(extent.text);
    if size > text_limit || width > crate::data::load::MAX_COLUMNS as u64 {
        return Err(WorkbookError::TooWide { sheet: name, rows: height, columns: width, bytes: size, limit: text_limit });
    }
    let mut csv = Vec::with_capacity(size as usize);
    let mut errors = 0u64;
    let mut first_error = None;
    let mut field = String::new();
    // The next cell to write: cells arrive row by row, left to right; the empty ones between
    // are written as empty fields, so every row has the sheet's width.
    let (first, last) = extent.columns;
    let (mut row, mut column) = (extent.rows.0, first);
    let comma = |csv: &mut Vec<u8>, at: u32| {
        if at > first {
            csv.push(b',');
        }
    };
    let mut reader = book.worksheet_cells_reader(&name).map_err(|e| unreadable(&name, e))?;
    while let Some(cell) = reader.next_cell().map_err(|e| unreadable(&name, e))? {
        let value = cell.get_value();
        if matches!(value, DataRef::Empty) {
            continue;
        }
        let (r, c) = cell.get_position();
        if r < row || (r == row && c < column) {
            return Err(WorkbookError::Unreadable(format!("sheet “{name}”: its cells are not stored in order (row {}, column {})", r + 1, c + 1)));
        }
        while row < r {
            for at in column..=last {
                comma(&mut csv, at);
            }
            csv.push(b'\n');
            (row, column) = (row + 1, first);
        }
        for at in column..c {
            comma(&mut csv, at);
        }
        comma(&mut csv, c);
        if let DataRef::Error(e) = value {
            errors += 1;
            first_error.get_or_insert_with(|| e.to_string());
        }
        field.clear();
        cell_text(value, &mut field);
        write_field(&field, &mut csv);
        column = c + 1;
    }
    for at in column..=last {
        comma(&mut csv, at);
    }
    csv.push(b'\n');
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
fn cell_text(value: &DataRef<'_>, out: &mut String) {
    use std::fmt::Write;
    match value {
        DataRef::Empty | DataRef::Error(_) => {}
        DataRef::SharedString(s) => out.push_str(s),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => out.push_str(s),
        DataRef::Int(n) => {
            let _ = write!(out, "{n}");
        }
        // Rust writes the shortest text that reads back to the same float ("3" for 3.0).
        DataRef::Float(x) => {
            let _ = write!(out, "{x}");
        }
        DataRef::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        DataRef::DateTime(dt) => {
            let days = dt.as_f64();
            if dt.is_duration() {
                // A duration as Excel shows it, hours past 24 included ("36:30:00", "-1:30:00").
                let total = (days * 86_400.0).round() as i64;
                let sign = if total < 0 { "-" } else { "" };
                let total = total.unsigned_abs();
                let _ = write!(out, "{sign}{}:{:02}:{:02}", total / 3600, (total / 60) % 60, total % 60);
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
        let text = |value: DataRef<'_>| {
            let mut out = String::new();
            cell_text(&value, &mut out);
            out
        };
        assert_eq!(text(DataRef::Float(3.0)), "3");
        assert_eq!(text(DataRef::Float(0.1)), "0.1");
        assert_eq!(text(DataRef::Int(-7)), "-7");
        assert_eq!(text(DataRef::Bool(true)), "true");
        assert_eq!(text(DataRef::Empty), "");
        // 2025-10-13 12:59:02.400 (Excel's 1900 system), the day alone, a time alone, 1.5 days.
        let at = |v: f64, kind| DataRef::DateTime(ExcelDateTime::new(v, kind, false));
        assert_eq!(text(at(45943.541, ExcelDateTimeType::DateTime)), "2025-10-13T12:59:02.400");
        assert_eq!(text(at(45943.0, ExcelDateTimeType::DateTime)), "2025-10-13");
        assert_eq!(text(at(0.75, ExcelDateTimeType::DateTime)), "18:00:00");
        assert_eq!(text(at(1.5208333333, ExcelDateTimeType::TimeDelta)), "36:30:00");
        assert_eq!(text(at(-0.0625, ExcelDateTimeType::TimeDelta)), "-1:30:00");
        assert_eq!(text(DataRef::SharedString("a, b")), "a, b");
    }

    #[test]
    fn a_sheet_that_unpacks_beyond_the_limit_is_refused_before_it_is_read() {
        let book = include_bytes!("../../tests/fixtures/reports.xlsx");
        assert!(sheet_as_csv_within(book, Some("Reports"), 1 << 20, 1 << 20).is_ok());
        let err = sheet_as_csv_within(book, Some("Reports"), 4 << 10, 1 << 20).unwrap_err();
        assert!(matches!(&err, WorkbookError::TooLarge { part, .. } if part.starts_with("xl/worksheets/sheet")), "{err}");
    }

    #[test]
    fn a_sheet_whose_text_would_not_fit_is_refused_before_it_is_written() {
        let book = include_bytes!("../../tests/fixtures/reports.xlsx");
        let err = sheet_as_csv_within(book, Some("Reports"), 1 << 20, 40 << 10).unwrap_err();
        assert!(err.to_string().starts_with("the sheet “Reports” would make 0 MB of text (401 rows × 8 columns), more than the 0 MB"), "{err}");
    }

    #[test]
    fn what_is_not_a_workbook_says_so() {
        let err = sheet_as_csv(b"PK\x03\x04 not really a zip", None).unwrap_err();
        assert!(matches!(err, WorkbookError::Unreadable(_)), "{err}");
        assert!(err.to_string().starts_with("this looks like an Excel workbook"));
    }
}
