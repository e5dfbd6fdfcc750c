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

/// Reads `sheet` of the workbook (`None`: the first sheet with a non-empty cell) as CSV text;
/// with `or_first`, the first such sheet when the workbook has no `sheet` (a link made on
/// another copy), with a notice.
/// `progress` is told the rows read so far and the rows the sheet says it spans, when it does.
pub fn sheet_as_csv(bytes: &[u8], sheet: Option<&str>, or_first: bool, progress: &mut dyn FnMut(u64, Option<u64>)) -> Result<SheetText, WorkbookError> {
    sheet_as_csv_within(bytes, sheet, or_first, MAX_PART_BYTES, MAX_PART_BYTES, progress)
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

/// Where a sheet's cells are and about how much CSV text they make (a sparse sheet spans rows ×
/// columns of empty fields, and a shared string repeated in many cells is written in each).
#[derive(Clone, Copy)]
struct Extent {
    rows: (u32, u32),
    columns: (u32, u32),
    text: u64,
}

impl Extent {
    fn height(&self) -> u64 {
        u64::from(self.rows.1 - self.rows.0) + 1
    }

    fn width(&self) -> u64 {
        u64::from(self.columns.1 - self.columns.0) + 1
    }

    /// About the bytes of CSV text the cells make.
    fn size(&self) -> u64 {
        self.height().saturating_mul(self.width()).saturating_add(self.text)
    }
}

/// A sheet's non-empty cells, read once: their text one after another, and for each its row,
/// column and where its text ends.
struct SheetCells {
    extent: Extent,
    text: String,
    cells: Vec<(u32, u32, usize)>,
    errors: u64,
    first_error: Option<String>,
}

fn unreadable(sheet: &str, e: XlsxError) -> WorkbookError {
    WorkbookError::Unreadable(format!("sheet “{sheet}”: {e}"))
}

/// Rows of a sheet read between two calls of the progress callback.
const PROGRESS_ROWS: u32 = 4_096;

/// Reads the non-empty cells of `sheet` (`None`: it has none), with progress (rows read, and the
/// rows the sheet says it spans). Cells are held up to `text_limit` bytes of text; past it, the
/// rest of the sheet is only measured, for the message.
fn read_cells(book: &mut Xlsx<Cursor<&[u8]>>, sheet: &str, text_limit: u64, progress: &mut dyn FnMut(u64, Option<u64>)) -> Result<Option<SheetCells>, WorkbookError> {
    let mut reader = book.worksheet_cells_reader(sheet).map_err(|e| unreadable(sheet, e))?;
    // The rows the sheet says it spans (its `dimension`, which writers may leave out): for
    // progress only.
    let dimensions = reader.dimensions();
    let spanned = (dimensions.end.0 > 0).then(|| u64::from(dimensions.end.0) + 1);
    let mut out: Option<SheetCells> = None;
    let mut fits = true;
    let mut next_progress = PROGRESS_ROWS;
    while let Some(cell) = reader.next_cell().map_err(|e| unreadable(sheet, e))? {
        let value = cell.get_value();
        let bytes = match value {
            DataRef::Empty => continue,
            DataRef::SharedString(s) => s.len(),
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.len(),
            _ => 24,
        } as u64;
        let (row, column) = cell.get_position();
        if row >= next_progress {
            next_progress = row.saturating_add(PROGRESS_ROWS);
            progress(u64::from(row), spanned.filter(|&rows| rows > u64::from(row)));
        }
        let cells = out.get_or_insert_with(|| SheetCells { extent: Extent { rows: (row, row), columns: (column, column), text: 0 }, text: String::new(), cells: Vec::new(), errors: 0, first_error: None });
        let e = &mut cells.extent;
        e.rows = (e.rows.0.min(row), e.rows.1.max(row));
        e.columns = (e.columns.0.min(column), e.columns.1.max(column));
        // Quotes doubled at worst, the field's own quotes.
        e.text = e.text.saturating_add(bytes * 2 + 2);
        if fits && (e.size() > text_limit || e.width() > crate::data::load::MAX_COLUMNS as u64) {
            // Too large to write: measured on, for the message, but no longer held.
            fits = false;
            cells.text = String::new();
            cells.cells = Vec::new();
        }
        if let DataRef::Error(e) = value {
            cells.errors += 1;
            cells.first_error.get_or_insert_with(|| e.to_string());
        }
        if fits {
            cell_text(value, &mut cells.text);
            cells.cells.push((row, column, cells.text.len()));
        }
    }
    Ok(out)
}

/// [`sheet_as_csv`] with each part unpacked up to `limit` bytes and the text up to `text_limit`,
/// and progress.
fn sheet_as_csv_within(bytes: &[u8], sheet: Option<&str>, or_first: bool, limit: u64, text_limit: u64, progress: &mut dyn FnMut(u64, Option<u64>)) -> Result<SheetText, WorkbookError> {
    check_sizes(bytes, limit)?;
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        WorkbookError::Unreadable(match e {
            XlsxError::Zip(e) => return damaged(e),
            XlsxError::FileNotFound(part) => format!("the zip file holds no workbook (no {part})"),
            other => other.to_string(),
        })
    })?;
    let sheets = book.sheet_names();
    // A sheet the link names that this copy lacks: the first with data, said in a notice.
    let mut missing = None;
    let sheet = match sheet {
        Some(wanted) if or_first && !sheets.iter().any(|s| s == wanted) => {
            missing = Some(wanted);
            None
        }
        sheet => sheet,
    };
    let (name, read) = match sheet {
        Some(wanted) => {
            if !sheets.iter().any(|s| s == wanted) {
                return Err(WorkbookError::NoSheet { wanted: wanted.to_string(), sheets });
            }
            let read = read_cells(&mut book, wanted, text_limit, progress)?.ok_or_else(|| WorkbookError::EmptySheet(wanted.to_string()))?;
            (wanted.to_string(), read)
        }
        None => {
            let mut found = None;
            for name in &sheets {
                if let Some(read) = read_cells(&mut book, name, text_limit, progress)? {
                    found = Some((name.clone(), read));
                    break;
                }
            }
            found.ok_or_else(|| WorkbookError::NoData { sheets: sheets.clone() })?
        }
    };
    let SheetCells { extent, text, mut cells, errors, first_error } = read;
    let size = extent.size();
    if size > text_limit || extent.width() > crate::data::load::MAX_COLUMNS as u64 {
        return Err(WorkbookError::TooWide { sheet: name, rows: extent.height(), columns: extent.width(), bytes: size, limit: text_limit });
    }
    // Row by row, left to right (writers store them so; a sheet stored otherwise reads the same).
    let starts: Vec<usize> = std::iter::once(0).chain(cells.iter().map(|&(_, _, end)| end)).collect();
    let mut order: Vec<usize> = (0..cells.len()).collect();
    if !cells.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)) {
        order.sort_by_key(|&i| (cells[i].0, cells[i].1));
    }
    let mut csv = Vec::with_capacity(size as usize);
    // The next cell to write; the empty ones between are written as empty fields, so every row
    // has the sheet's width.
    let (first, last) = extent.columns;
    let (mut row, mut column) = (extent.rows.0, first);
    let comma = |csv: &mut Vec<u8>, at: u32| {
        if at > first {
            csv.push(b',');
        }
    };
    let mut previous = None;
    for i in order {
        let (r, c, end) = cells[i];
        // The same cell twice (a damaged sheet): the first stands.
        if previous == Some((r, c)) {
            continue;
        }
        previous = Some((r, c));
        while row < r {
            for at in column..=last {
                comma(&mut csv, at);
            }
            csv.push(b'\n');
            (row, column) = (row + 1, first);
        }
        for at in column..=c {
            comma(&mut csv, at);
        }
        write_field(text.get(starts[i]..end).unwrap_or_default(), &mut csv);
        column = c + 1;
    }
    cells.clear();
    for at in column..=last {
        comma(&mut csv, at);
    }
    csv.push(b'\n');
    let mut notices = Vec::new();
    if let Some(wanted) = missing {
        notices.push(format!("This workbook has no sheet “{wanted}”, which the link names: read “{name}”, the first with data (its sheets: {}).", quoted(&sheets)));
    } else if sheets.len() > 1 {
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
        assert!(sheet_as_csv_within(book, Some("Reports"), false, 1 << 20, 1 << 20, &mut |_, _| {}).is_ok());
        let err = sheet_as_csv_within(book, Some("Reports"), false, 4 << 10, 1 << 20, &mut |_, _| {}).unwrap_err();
        assert!(matches!(&err, WorkbookError::TooLarge { part, .. } if part.starts_with("xl/worksheets/sheet")), "{err}");
    }

    #[test]
    fn a_sheet_whose_text_would_not_fit_is_refused_before_it_is_written() {
        let book = include_bytes!("../../tests/fixtures/reports.xlsx");
        let err = sheet_as_csv_within(book, Some("Reports"), false, 1 << 20, 40 << 10, &mut |_, _| {}).unwrap_err();
        assert!(err.to_string().starts_with("the sheet “Reports” would make 0 MB of text (401 rows × 8 columns), more than the 0 MB"), "{err}");
    }

    #[test]
    fn a_sheet_a_link_names_falls_back_to_the_first_when_this_copy_lacks_it() {
        let book = include_bytes!("../../tests/fixtures/reports.xlsx");
        let first = sheet_as_csv(book, None, false, &mut |_, _| {}).unwrap();
        // Named by hand (the command's --sheet): refused, naming the sheets there are.
        let err = sheet_as_csv(book, Some("Old"), false, &mut |_, _| {}).unwrap_err();
        assert!(matches!(&err, WorkbookError::NoSheet { wanted, .. } if wanted == "Old"), "{err}");
        // Named by a link: the first sheet with data, and a notice saying so.
        let read = sheet_as_csv(book, Some("Old"), true, &mut |_, _| {}).unwrap();
        assert_eq!((&read.csv, &read.workbook), (&first.csv, &first.workbook));
        assert_eq!(read.notices[0], format!("This workbook has no sheet “Old”, which the link names: read “{}”, the first with data (its sheets: {}).", first.workbook.sheet, quoted(&first.workbook.sheets)));
        // A sheet it has is read as named.
        let notes = sheet_as_csv(book, Some("Notes"), true, &mut |_, _| {}).unwrap();
        assert_eq!(notes.workbook.sheet, "Notes");
        assert!(notes.notices.iter().all(|n| !n.contains("link")));
    }

    /// A workbook of one sheet, "Data", whose worksheet part is `sheet` (its `<sheetData>` and
    /// what comes before it).
    fn workbook(sheet: &str) -> Vec<u8> {
        use std::io::Write;
        let parts = [
            ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string()),
            ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string()),
            ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string()),
            ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string()),
            ("xl/worksheets/sheet1.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{sheet}</sheetData></worksheet>"#)),
        ];
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, text) in parts {
            zip.start_file(name, zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored)).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// Rows `rows` of a sheet: a header, then `n` and `n²` in columns B and C.
    fn rows_xml(rows: impl Iterator<Item = u32>) -> String {
        rows.map(|r| if r == 1 { r#"<row r="1"><c r="B1" t="inlineStr"><is><t>n</t></is></c><c r="C1" t="inlineStr"><is><t>square</t></is></c></row>"#.to_string() } else { format!(r#"<row r="{r}"><c r="B{r}"><v>{r}</v></c><c r="C{r}"><v>{}</v></c></row>"#, u64::from(r) * u64::from(r)) }).collect()
    }

    #[test]
    fn a_sheet_is_read_in_one_pass_with_progress_in_any_order() {
        let dimension = r#"<dimension ref="B1:C10000"/><sheetData>"#;
        let book = workbook(&format!("{dimension}{}", rows_xml(1..=10_000)));
        let mut calls = Vec::new();
        let read = sheet_as_csv(&book, None, false, &mut |done, total| calls.push((done, total))).unwrap();
        // Rows are counted from 0: the 4,097th row is row 4,096.
        assert_eq!(calls, vec![(4_096, Some(10_000)), (8_192, Some(10_000))]);
        let csv = String::from_utf8(read.csv.clone()).unwrap();
        assert_eq!(csv.lines().count(), 10_000);
        assert_eq!(&csv[..22], "n,square\n2,4\n3,9\n4,16\n");
        assert!(csv.ends_with("10000,100000000\n"), "{}", &csv[csv.len() - 40..]);
        // Without a dimension, progress has no total; rows stored out of order (and a cell
        // stored twice: the first stands) read the same.
        let mut shuffled: Vec<u32> = (1..=10_000).collect();
        shuffled.swap(2, 9_000);
        shuffled.insert(5, 9_000);
        let mut calls = Vec::new();
        let again = sheet_as_csv(&workbook(&format!("<sheetData>{}", rows_xml(shuffled.into_iter()))), None, false, &mut |done, total| calls.push((done, total))).unwrap();
        assert_eq!(again.csv, read.csv);
        assert!(calls.iter().all(|(_, total)| total.is_none()) && !calls.is_empty(), "{calls:?}");
    }

    #[test]
    fn what_is_not_a_workbook_says_so() {
        let err = sheet_as_csv(b"PK\x03\x04 not really a zip", None, false, &mut |_, _| {}).unwrap_err();
        assert!(matches!(err, WorkbookError::Unreadable(_)), "{err}");
        assert!(err.to_string().starts_with("this looks like an Excel workbook"));
    }
}
