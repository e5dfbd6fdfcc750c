//! JSON input: JSON Lines (NDJSON, one object per line), a stream of objects over several lines
//! each (`jq` without `-c`), or one array of objects (an API's export). Read as a stream, like
//! CSV: each object is flattened (nested objects to dotted names, `{"user": {"id": 7}}` to
//! `user.id`; arrays kept as their JSON text) and handed to the CSV body as one delimited record,
//! so types, sampling, parallel parsing, batches and memory planning are the CSV loader's.
//!
//! The columns are the keys of the first [`HEADER_RECORDS`] objects, in order of appearance. A
//! key first seen later is collected apart and becomes a column at the end of the load (missing
//! in the rows before it); a file streamed in batches cannot add one and says so.
//!
//! A line (or object) that is not valid JSON, not an object, nested too deeply or too long is
//! set aside with its line number, like a CSV row with the wrong field count.

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::builder::ColumnBuilder;
use crate::format::format_count;
use super::infer::{infer_column, is_missing};
use super::load::{RejectedRow, MAX_COLUMNS, MAX_RECORD_BYTES, MAX_REJECTED_KEPT, SAMPLE_ROWS};
use super::table::Table;

/// Objects whose keys make the columns (and whose rows wait until the columns are known).
pub const HEADER_RECORDS: usize = 1_000;
/// Longest JSON record read: its delimited text (quotes doubled, an empty field per absent key)
/// must fit the CSV body's [`MAX_RECORD_BYTES`].
pub const MAX_JSON_RECORD_BYTES: usize = MAX_RECORD_BYTES / 2 - MAX_COLUMNS;
/// Most cells the keys first seen after [`HEADER_RECORDS`] objects may add (each key a column
/// of every row): 40 million, at most a few hundred MB (400,000 in unit tests, to reach it in
/// a small file).
pub const MAX_LATE_CELLS: usize = if cfg!(test) { 400_000 } else { 40_000_000 };
/// Deepest nesting read (serde_json's own limit is 128): deeper records are set aside.
const MAX_DEPTH: usize = 64;
/// Characters of a set-aside record's text kept for display.
const REJECTED_TEXT_CHARS: usize = 300;

/// How the JSON text holds its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JsonShape {
    /// One object per line (JSON Lines, NDJSON): a bad line is set aside alone.
    Lines,
    /// Objects one after another, each over several lines.
    Objects,
    /// One array whose elements are the records.
    Array,
}

impl JsonShape {
    pub fn title(self) -> &'static str {
        match self {
            Self::Lines => "JSON Lines",
            Self::Objects => "JSON objects",
            Self::Array => "JSON array",
        }
    }
}

/// The shape of JSON text, from its start (after any BOM): a first line that is only `{`, a
/// stream of objects over several lines; another line starting an object, JSON Lines; `[`
/// then `{` (or `]`), an array of records. Anything else is not JSON for Vigil (a CSV never starts so).
pub fn detect(text: &[u8]) -> Option<JsonShape> {
    let mut significant = text.iter().enumerate().filter(|(_, b)| !b.is_ascii_whitespace());
    let (start, &first) = significant.next()?;
    let next = significant.next().map(|(_, &b)| b);
    match (first, next) {
        (b'[', Some(b'{' | b']')) => Some(JsonShape::Array),
        // An array of numbers, strings or arrays: JSON, but not records; read as JSON, each value
        // is set aside saying so (as CSV it was a header of "[1", "2", "3]" and no rows). A CSV
        // header in brackets ("[name],[time]") starts with a letter and stays a CSV.
        (b'[', Some(b'[' | b'"' | b'-' | b'0'..=b'9')) => Some(JsonShape::Array),
        (b'{', Some(b'"' | b'}')) => {
            // Pretty printers (jq, Python's json.dumps with an indent) put the opening brace on
            // a line of its own; any other first line is a record of JSON Lines (a broken one
            // is set aside alone).
            let rest = text.get(start..).unwrap_or_default();
            let line = rest.get(..memchr::memchr(b'\n', rest).unwrap_or(rest.len())).unwrap_or_default();
            match line.trim_ascii() {
                b"{" => Some(JsonShape::Objects),
                _ => Some(JsonShape::Lines),
            }
        }
        _ => None,
    }
}

/// A column whose key first appeared after the columns were fixed.
struct Late {
    name: String,
    /// (row, text) of each row that has it.
    values: Vec<(usize, String)>,
}

/// JSON text in, delimited text (a header, then one record per object) out.
pub struct JsonText {
    shape: JsonShape,
    /// The current record's bytes (the unfinished line, for JSON Lines).
    record: Vec<u8>,
    /// The current record outgrew [`MAX_JSON_RECORD_BYTES`]: its bytes are dropped until it ends.
    oversized: bool,
    /// Document shapes: inside a record, the nesting depth, and the string state.
    in_record: bool,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Array shape: the opening `[` was read; the closing `]` was read.
    opened: bool,
    closed: bool,
    /// Bytes after the array's `]` that are not whitespace.
    trailing: u64,
    /// 1-based line of the next byte, and the byte offset of the next byte.
    line: u64,
    byte: u64,
    record_line: u64,
    record_byte: u64,
    names: Vec<String>,
    index: FxHashMap<String, usize>,
    /// Rows read before the columns are fixed, as (column, text).
    held: Vec<Vec<(usize, String)>>,
    fixed: bool,
    late: Vec<Late>,
    late_index: FxHashMap<String, usize>,
    /// Keys dropped because the file already has [`MAX_COLUMNS`] columns.
    dropped_keys: u64,
    /// Values whose flattened name another value of the same record had (`"a.b"` beside
    /// `"a": {"b": …}`, or a key written twice), kept under `name_2`, `name_3`…, and the first
    /// such name.
    renamed_keys: u64,
    first_renamed: Option<String>,
    /// Columns in which some value was an array (kept as JSON text).
    array_columns: Vec<String>,
    /// Rows written (after the columns were fixed) or held.
    rows: usize,
    pub rejected: Vec<RejectedRow>,
    pub rejected_total: u64,
    /// A reusable buffer for one row's flattened cells.
    cells: Vec<(String, String)>,
    /// Per column, this row's text (reused).
    row_text: Vec<Option<String>>,
}

impl JsonText {
    pub fn new(shape: JsonShape) -> Self {
        Self {
            shape,
            record: Vec::new(),
            oversized: false,
            in_record: false,
            depth: 0,
            in_string: false,
            escaped: false,
            opened: false,
            closed: false,
            trailing: 0,
            line: 1,
            byte: 0,
            record_line: 1,
            record_byte: 0,
            names: Vec::new(),
            index: FxHashMap::default(),
            held: Vec::new(),
            fixed: false,
            late: Vec::new(),
            late_index: FxHashMap::default(),
            dropped_keys: 0,
            renamed_keys: 0,
            first_renamed: None,
            array_columns: Vec::new(),
            rows: 0,
            rejected: Vec::new(),
            rejected_total: 0,
            cells: Vec::new(),
            row_text: Vec::new(),
        }
    }

    /// Reads `input`, appending the delimited text of every record it completes to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        match self.shape {
            JsonShape::Lines => self.push_lines(input, out),
            JsonShape::Objects | JsonShape::Array => self.push_document(input, out),
        }
    }

    /// Ends the input: the last record, and the header if fewer than [`HEADER_RECORDS`] came.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match self.shape {
            JsonShape::Lines => {
                if !self.record.is_empty() || self.oversized {
                    self.end_record(out);
                }
            }
            JsonShape::Objects | JsonShape::Array => {
                if self.in_record {
                    if self.depth > 0 || self.in_string {
                        self.reject_current("the file ends inside this JSON value (truncated?)".into());
                    } else {
                        self.end_record(out);
                    }
                }
            }
        }
        self.fix_columns(out);
    }

    /// Bytes of JSON text read.
    pub fn bytes_read(&self) -> u64 {
        self.byte
    }

    /// Whether any column was read (an all-`{}` or all-rejected file has none).
    pub fn has_columns(&self) -> bool {
        !self.names.is_empty()
    }

    fn push_lines(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            match memchr::memchr(b'\n', input) {
                Some(at) => {
                    let (line, rest) = input.split_at(at + 1);
                    self.take_bytes(line.get(..at).unwrap_or_default());
                    self.byte += 1;
                    if !self.record.is_empty() || self.oversized {
                        self.end_record(out);
                    }
                    self.line += 1;
                    self.record_line = self.line;
                    self.record_byte = self.byte;
                    input = rest;
                }
                None => {
                    self.take_bytes(input);
                    input = &[];
                }
            }
        }
    }

    /// Adds bytes to the current line (blank lines and surrounding spaces are not records).
    fn take_bytes(&mut self, bytes: &[u8]) {
        if self.record.is_empty() && !self.oversized {
            let blank = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
            self.byte += blank as u64;
            self.record_byte = self.byte;
            let bytes = bytes.get(blank..).unwrap_or_default();
            self.byte += bytes.len() as u64;
            self.append(bytes);
        } else {
            self.byte += bytes.len() as u64;
            self.append(bytes);
        }
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.oversized {
            return;
        }
        if self.record.len() + bytes.len() > MAX_JSON_RECORD_BYTES {
            self.oversized = true;
            self.record.clear();
            self.record.shrink_to(64 * 1024);
            return;
        }
        self.record.extend_from_slice(bytes);
    }

    fn push_document(&mut self, input: &[u8], out: &mut Vec<u8>) {
        // Records are the values at depth 0 (a stream of objects) or 1 (inside the array).
        let array = self.shape == JsonShape::Array;
        let base = usize::from(array);
        // Where the current record's bytes not yet appended begin.
        let mut start = 0;
        for (at, &b) in input.iter().enumerate() {
            if b == b'\n' {
                self.line += 1;
            }
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            if !self.in_record {
                start = at + 1;
                if b.is_ascii_whitespace() {
                    continue;
                }
                if self.closed || (array && !self.opened && b != b'[') {
                    self.trailing += 1;
                } else if array && !self.opened {
                    self.opened = true;
                    self.depth = 1;
                } else if b == b']' && array && self.depth == 1 {
                    self.closed = true;
                    self.depth = 0;
                } else if b != b',' {
                    self.in_record = true;
                    self.record_line = self.line;
                    self.record_byte = self.byte + at as u64;
                    start = at;
                    self.record_byte_opened(b);
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' if self.depth > base => {
                    self.depth -= 1;
                    if self.depth == base {
                        self.append_span(input, &mut start, at + 1);
                        self.end_record(out);
                    }
                }
                // A bare value (a number, `true`, a string…) ends at a separator.
                b'}' | b']' | b',' | b' ' | b'\t' | b'\r' | b'\n' if self.depth == base => {
                    self.append_span(input, &mut start, at);
                    self.end_record(out);
                    start = at + 1;
                    if b == b']' && array && self.depth == 1 {
                        self.closed = true;
                        self.depth = 0;
                    }
                }
                _ => {}
            }
        }
        if self.in_record {
            self.append_span(input, &mut start, input.len());
        }
        self.byte += input.len() as u64;
    }

    /// The first byte of a record: a string or a nesting opens.
    fn record_byte_opened(&mut self, b: u8) {
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            _ => {}
        }
    }

    fn append_span(&mut self, input: &[u8], start: &mut usize, end: usize) {
        let span = input.get(*start..end).unwrap_or_default();
        // Line ends inside a record are whitespace to JSON; the record travels as one line.
        self.append(span);
        *start = end;
    }

    fn reject_current(&mut self, reason: String) {
        let text = if self.oversized {
            String::from("(record too large to show)")
        } else {
            String::from_utf8_lossy(&self.record).chars().take(REJECTED_TEXT_CHARS).collect()
        };
        self.reject(reason, text);
        self.reset_record();
    }

    fn reject(&mut self, reason: String, text: String) {
        self.rejected_total += 1;
        if self.rejected.len() < MAX_REJECTED_KEPT {
            self.rejected.push(RejectedRow { line: self.record_line, byte_offset: self.record_byte, reason, text });
        }
    }

    fn reset_record(&mut self) {
        self.record.clear();
        self.oversized = false;
        self.in_record = false;
        self.depth = usize::from(self.shape == JsonShape::Array && self.opened && !self.closed);
        self.in_string = false;
        self.escaped = false;
    }

    fn end_record(&mut self, out: &mut Vec<u8>) {
        if self.oversized {
            self.reject_current(format!("record longer than {} MiB", MAX_JSON_RECORD_BYTES >> 20));
            return;
        }
        let first = self.record.iter().find(|b| !b.is_ascii_whitespace()).copied();
        let not_an_object = match first {
            Some(b'[') => Some("an array"),
            Some(b'"') => Some("a string"),
            Some(b'-' | b'0'..=b'9') => Some("a number"),
            Some(b't' | b'f') => Some("true or false"),
            Some(b'n') => Some("null"),
            _ => None,
        };
        if let Some(kind) = not_an_object {
            if serde_json::from_slice::<serde::de::IgnoredAny>(&self.record).is_ok() {
                self.reject_current(format!("{kind}, not a JSON object"));
                return;
            }
        }
        let mut cells = std::mem::take(&mut self.cells);
        cells.clear();
        let mut arrays = Vec::new();
        let mut reader = serde_json::Deserializer::from_slice(&self.record);
        let parsed = Flatten { prefix: None, depth: 0, cells: &mut cells, arrays: &mut arrays }.deserialize(&mut reader).and_then(|()| reader.end());
        match parsed {
            Ok(()) => {
                for name in arrays {
                    if !self.array_columns.contains(&name) {
                        self.array_columns.push(name);
                    }
                }
                self.add_row(&mut cells, out);
                self.reset_record();
            }
            Err(err) => {
                let text = err.to_string();
                let reason = if text.contains("recursion limit") || text.starts_with(NESTED) {
                    format!("{NESTED} {MAX_DEPTH} levels")
                } else {
                    format!("not valid JSON: {text}")
                };
                self.reject_current(reason);
            }
        }
        self.cells = cells;
    }

    /// One object's cells: held until the columns are fixed, then written as a record.
    fn add_row(&mut self, cells: &mut Vec<(String, String)>, out: &mut Vec<u8>) {
        let row = self.rows;
        self.rows += 1;
        self.rename_repeated(cells);
        if !self.fixed {
            let mut held = Vec::with_capacity(cells.len());
            for (name, text) in cells.drain(..) {
                if let Some(column) = self.column_for(name) {
                    held.push((column, text));
                }
            }
            self.held.push(held);
            if self.held.len() >= HEADER_RECORDS {
                self.fix_columns(out);
            }
            return;
        }
        self.row_text.clear();
        self.row_text.resize(self.names.len(), None);
        for (name, text) in cells.drain(..) {
            match self.index.get(&name) {
                Some(&column) => {
                    if let Some(slot) = self.row_text.get_mut(column) {
                        slot.get_or_insert(text);
                    }
                }
                None => self.add_late(name, row, text),
            }
        }
        let row_text = std::mem::take(&mut self.row_text);
        write_record(out, row_text.iter().map(|t| t.as_deref().unwrap_or("")));
        self.row_text = row_text;
    }

    /// Gives a record's repeated names their own columns, as a CSV header's duplicates are:
    /// the second `a.b` of a record becomes `a.b_2` (not dropped for the first).
    fn rename_repeated(&mut self, cells: &mut [(String, String)]) {
        let repeats = {
            let mut seen = rustc_hash::FxHashSet::default();
            cells.iter().any(|(name, _)| !seen.insert(name.as_str()))
        };
        if !repeats {
            return;
        }
        let mut seen: rustc_hash::FxHashSet<String> = rustc_hash::FxHashSet::default();
        for (name, _) in cells.iter_mut() {
            if seen.insert(name.clone()) {
                continue;
            }
            let mut suffix = 2;
            while !seen.insert(format!("{name}_{suffix}")) {
                suffix += 1;
            }
            self.first_renamed.get_or_insert_with(|| name.clone());
            *name = format!("{name}_{suffix}");
            self.renamed_keys += 1;
        }
    }

    /// The column of `name` while the columns are being gathered (a new one if there is room).
    fn column_for(&mut self, name: String) -> Option<usize> {
        if let Some(&column) = self.index.get(&name) {
            return Some(column);
        }
        if self.names.len() >= MAX_COLUMNS {
            self.dropped_keys += 1;
            return None;
        }
        let column = self.names.len();
        self.index.insert(name.clone(), column);
        self.names.push(name);
        Some(column)
    }

    fn add_late(&mut self, name: String, row: usize, text: String) {
        let slot = match self.late_index.get(&name) {
            Some(&slot) => slot,
            None => {
                if self.names.len() + self.late.len() >= MAX_COLUMNS {
                    self.dropped_keys += 1;
                    return;
                }
                self.late_index.insert(name.clone(), self.late.len());
                self.late.push(Late { name, values: Vec::new() });
                self.late.len() - 1
            }
        };
        if let Some(late) = self.late.get_mut(slot) {
            if late.values.last().is_none_or(|(last, _)| *last != row) {
                late.values.push((row, text));
            }
        }
    }

    /// Writes the header and the held rows; later keys become late columns.
    fn fix_columns(&mut self, out: &mut Vec<u8>) {
        if self.fixed {
            return;
        }
        self.fixed = true;
        if self.names.is_empty() {
            return;
        }
        write_record(out, self.names.iter().map(String::as_str));
        let mut row_text: Vec<&str> = vec![""; self.names.len()];
        for held in &self.held {
            row_text.iter_mut().for_each(|t| *t = "");
            for (column, text) in held {
                if let Some(slot) = row_text.get_mut(*column) {
                    if slot.is_empty() {
                        *slot = text;
                    }
                }
            }
            write_record(out, row_text.iter().copied());
        }
        self.held = Vec::new();
    }

    /// What the user should know: arrays kept as text, keys dropped, lines set aside, a
    /// missing `]`, text after it.
    pub fn notices(&self) -> Vec<String> {
        let mut notices = Vec::new();
        if !self.array_columns.is_empty() {
            let names: Vec<String> = self.array_columns.iter().take(5).map(|n| format!("“{n}”")).collect();
            let more = self.array_columns.len().saturating_sub(5);
            notices.push(format!(
                "JSON arrays are kept as their JSON text in {}{}",
                names.join(", "),
                if more > 0 { format!(" and {more} more columns") } else { String::new() }
            ));
        }
        if let Some(first) = &self.first_renamed {
            let values = if self.renamed_keys == 1 { "1 value".to_string() } else { format!("{} values", format_count(self.renamed_keys)) };
            notices.push(format!("{values} had the name of another value in the same record (as “{first}”, a dotted key beside a nested one, or a key written twice) and were kept in columns named with _2, _3…"));
        }
        if self.dropped_keys > 0 {
            notices.push(format!("{} values of keys beyond the first {MAX_COLUMNS} columns were not read", self.dropped_keys));
        }
        if self.rejected_total > 0 {
            let records = if self.rejected_total == 1 { "1 record was".to_string() } else { format!("{} records were", self.rejected_total) };
            notices.push(format!("{records} set aside; see Rejected rows"));
        }
        if self.shape == JsonShape::Array && self.opened && !self.closed {
            notices.push("the JSON array has no closing “]” (a truncated file?); every whole record before the end was read".into());
        }
        if self.trailing > 0 {
            notices.push(format!("{} bytes after the JSON array's closing “]” were ignored", self.trailing));
        }
        notices
    }

    /// Adds the columns whose keys first appeared after the first [`HEADER_RECORDS`] objects to
    /// `table` (typed like any column, missing where a row lacks the key), or, when rows were
    /// already handed out in batches, says which were left out.
    pub fn add_late_columns(&mut self, table: &mut Table, rows_taken: usize, infer_types: bool, notices: &mut Vec<String>) {
        let late = std::mem::take(&mut self.late);
        if late.is_empty() {
            return;
        }
        if rows_taken > 0 {
            let names: Vec<String> = late.iter().take(5).map(|l| format!("“{}”", l.name)).collect();
            notices.push(format!(
                "{} keys first appear after the first {HEADER_RECORDS} records and are not in this streamed table: {}",
                late.len(),
                names.join(", ")
            ));
            return;
        }
        // Each late key is a column of every row: many keys over many rows (a file whose objects
        // each bring a key of their own) would be rows × keys cells, gigabytes from a small
        // file. Those past the budget are named and left out.
        let fit = (MAX_LATE_CELLS / table.n_rows.max(1)).max(1);
        if late.len() > fit {
            let names: Vec<String> = late.iter().skip(fit).take(5).map(|l| format!("“{}”", l.name)).collect();
            notices.push(format!(
                "{} keys first appear after the first {HEADER_RECORDS} records; as columns of all {} rows they would take more than {} cells, so the first {} were read and {} were not: {}{}",
                format_count(late.len() as u64),
                format_count(table.n_rows as u64),
                format_count(MAX_LATE_CELLS as u64),
                format_count(fit as u64),
                format_count((late.len() - fit) as u64),
                names.join(", "),
                if late.len() - fit > 5 { " …" } else { "" }
            ));
        }
        for Late { name, values } in late.into_iter().take(fit) {
            let sample: Vec<&str> = values.iter().map(|(_, t)| t.as_str()).filter(|t| !is_missing(t)).take(SAMPLE_ROWS).collect();
            let mut builder = if infer_types { ColumnBuilder::for_inferred(infer_column(&name, &sample)) } else { ColumnBuilder::for_type(super::table::ColumnType::Text) };
            let mut next = 0;
            for (row, text) in &values {
                while next < *row {
                    builder.push("");
                    next += 1;
                }
                builder.push(text);
                next += 1;
            }
            while next < table.n_rows {
                builder.push("");
                next += 1;
            }
            let mut unique = name.clone();
            let mut n = 2;
            while table.column(&unique).is_some() {
                unique = format!("{name} ({n})");
                n += 1;
            }
            table.columns.push(builder.finish(&unique));
        }
    }
}

/// Start of the message for a record nested too deeply.
const NESTED: &str = "nested deeper than";

/// Reads one JSON value as cells while it is parsed (no tree is built): an object's keys in
/// the file's order, nested objects under dotted names (`user.id`), arrays as their compact JSON
/// text, null as missing. The name is `prefix`, `None` at the record's root.
struct Flatten<'a> {
    prefix: Option<&'a str>,
    depth: usize,
    cells: &'a mut Vec<(String, String)>,
    arrays: &'a mut Vec<String>,
}

impl Flatten<'_> {
    fn cell(self, text: String) {
        self.cells.push((self.prefix.unwrap_or_default().to_string(), text));
    }
}

impl<'de> DeserializeSeed<'de> for Flatten<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Flatten<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.cell(v.to_string());
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.cell(v.to_string());
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.cell(v.to_string());
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // As serde_json writes it (shortest text that reads back to the same number).
        self.cell(serde_json::Number::from_f64(v).map_or_else(String::new, |n| n.to_string()));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.cell(v.to_string());
        Ok(())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.cell(v);
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.cell(String::new());
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom(format!("{NESTED} {MAX_DEPTH} levels")));
        }
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let name = match self.prefix {
                Some(prefix) => format!("{prefix}.{key}"),
                None => key.into_owned(),
            };
            map.next_value_seed(Flatten { prefix: Some(&name), depth: self.depth + 1, cells: &mut *self.cells, arrays: &mut *self.arrays })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        let name = self.prefix.unwrap_or_default();
        if !self.arrays.iter().any(|a| a == name) {
            self.arrays.push(name.to_string());
        }
        self.cell(Value::Array(items).to_string());
        Ok(())
    }
}

/// One CSV field, quoted when it holds a comma, quote or line break (or starts with a space).
pub(super) fn write_field(text: &str, csv: &mut Vec<u8>) {
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

/// One comma-separated record, quoted where needed; a lone empty field is written `""` so the
/// record is not read as a blank line.
fn write_record<'a>(out: &mut Vec<u8>, fields: impl Iterator<Item = &'a str>) {
    let mut count = 0;
    let mut last_empty = false;
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        count += 1;
        last_empty = field.is_empty();
        write_field(field, out);
    }
    if count == 1 && last_empty {
        out.extend_from_slice(b"\"\"");
    }
    out.push(b'\n');
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::data::load::{load_bytes, LoadError, LoadOptions, LoadReport, TableLoader};
    use crate::data::table::{ColumnType, Value as Cell};

    fn load(text: &str) -> LoadReport {
        load_bytes(text.as_bytes(), LoadOptions::default()).unwrap()
    }

    fn cells(report: &LoadReport, name: &str) -> Vec<String> {
        let column = report.table.column(name).unwrap_or_else(|| panic!("no column {name}"));
        (0..report.table.n_rows).map(|row| column.value(row).display()).collect()
    }

    #[test]
    fn json_lines_are_flattened_typed_and_keep_their_rows() {
        let text = concat!(
            r#"{"id": 1, "user": {"name": "ana", "age": 31}, "at": "2024-03-01T10:00:00Z", "ok": true, "tags": ["a", "b"]}"#,
            "\n\n",
            r#"{"id": 2, "user": {"name": "bo, \"the\" one"}, "at": "2024-03-02T11:30:00Z", "ok": false, "tags": []}"#,
            "\r\n",
            r#"{"id": 3, "user": null, "at": null, "ok": null, "score": 2.5}"#,
        );
        let report = load(text);
        assert_eq!(report.dialect.json, Some(JsonShape::Lines));
        assert_eq!(report.table.n_rows, 3);
        let names: Vec<&str> = report.table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "user.name", "user.age", "at", "ok", "tags", "user", "score"]);
        // The table a CSV of the same cells gives (types inferred the same way).
        let csv = "id,user.name,user.age,at,ok,tags,user,score\n1,ana,31,2024-03-01T10:00:00Z,true,\"[\"\"a\"\",\"\"b\"\"]\",,\n2,\"bo, \"\"the\"\" one\",,2024-03-02T11:30:00Z,false,[],,\n3,,,,,,,2.5\n";
        assert_eq!(report.table, load(csv).table);
        assert_eq!(report.table.column("at").unwrap().kind, ColumnType::Timestamp);
        assert_eq!(report.table.column("ok").unwrap().kind, ColumnType::Boolean);
        assert_eq!(cells(&report, "user.name")[1], "bo, \"the\" one");
        assert_eq!(report.table.column("user.age").unwrap().value(1), Cell::Missing);
        assert_eq!(cells(&report, "tags")[0], r#"["a","b"]"#);
        assert!(report.notices.iter().any(|n| n.contains("“tags”")), "{:?}", report.notices);
        assert_eq!(report.table.column("score").unwrap().numeric(2), Some(2.5));
        assert_eq!(report.text_bytes, text.len() as u64);
    }

    #[test]
    fn bad_lines_are_set_aside_with_their_line_numbers() {
        let deep = format!("{}{}", "{\"a\":".repeat(100), "1".to_string() + &"}".repeat(100));
        let text = format!("{{\"a\": 1}}\n{{\"a\": 2\n[1, 2]\n\n{deep}\n{{\"a\": 5}}\n\"text\"\n");
        let report = load(&text);
        assert_eq!(cells(&report, "a"), ["1", "5"]);
        let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 5, 7]);
        assert!(report.rejected[0].reason.starts_with("not valid JSON"), "{}", report.rejected[0].reason);
        assert_eq!(report.rejected[1].reason, "an array, not a JSON object");
        assert!(report.rejected[2].reason.contains("nested deeper"), "{}", report.rejected[2].reason);
        assert_eq!(report.rejected_total, 4);
        assert_eq!(report.rejected[0].byte_offset, 9);
        assert_eq!(report.rejected[0].text, "{\"a\": 2");
    }

    #[test]
    fn arrays_and_streams_of_pretty_objects_read_like_lines() {
        let lines = "{\"k\": \"x\", \"n\": 1}\n{\"k\": \"y]}\\\"\", \"n\": 2}\n";
        let array = "[\n  {\n    \"k\": \"x\",\n    \"n\": 1\n  },\n  {\"k\": \"y]}\\\"\", \"n\": 2}\n]\n";
        let stream = "{\n  \"k\": \"x\",\n  \"n\": 1\n}\n{\n  \"k\": \"y]}\\\"\",\n  \"n\": 2\n}\n";
        let expected = load(lines);
        for (text, shape) in [(array, JsonShape::Array), (stream, JsonShape::Objects)] {
            let report = load(text);
            assert_eq!(report.dialect.json, Some(shape));
            assert_eq!(report.table, expected.table, "{text}");
            assert!(report.rejected.is_empty(), "{:?}", report.rejected);
            assert!(report.notices.is_empty(), "{:?}", report.notices);
        }
        // A bare value among the records is set aside with its line; a truncated array keeps
        // what came whole.
        let report = load("[{\"n\": 1},\n 7,\n {\"n\": 3}, {\"n\": 4");
        assert_eq!(cells(&report, "n"), ["1", "3"]);
        assert_eq!(report.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect::<Vec<_>>(), [(2, "a number, not a JSON object"), (3, "the file ends inside this JSON value (truncated?)")]);
        assert!(report.notices.iter().any(|n| n.contains("no closing")), "{:?}", report.notices);
        let report = load("[{\"n\": 1}] trailing");
        assert!(report.notices.iter().any(|n| n.contains("8 bytes after")), "{:?}", report.notices);
    }

    #[test]
    fn keys_first_seen_late_become_columns_missing_before() {
        let mut text = String::new();
        let rows = SAMPLE_ROWS + 2_000;
        for i in 0..rows {
            match i {
                1_020 => text.push_str(&format!("{{\"i\": {i}, \"late\": 7.5}}\n")),
                1_030 => text.push_str(&format!("{{\"i\": {i}, \"late\": 8}}\n")),
                _ => text.push_str(&format!("{{\"i\": {i}}}\n")),
            }
        }
        let report = load(&text);
        assert_eq!(report.table.n_rows, rows);
        let late = report.table.column("late").unwrap();
        assert_eq!(late.kind, ColumnType::Float);
        assert_eq!(late.len(), report.table.n_rows);
        assert_eq!(late.count_valid(), 2);
        assert_eq!((late.numeric(1_020), late.numeric(1_030), late.numeric(1_031)), (Some(7.5), Some(8.0), None));
        // Streamed in batches, the rows before it are gone: the key is named, not added.
        let mut loader = TableLoader::new(LoadOptions::default());
        let mut taken = 0;
        for chunk in text.as_bytes().chunks(4096) {
            loader.push(chunk).unwrap();
            taken += loader.take_rows().map_or(0, |t| t.n_rows);
        }
        let report = loader.finish().unwrap();
        assert_eq!(taken + report.table.n_rows, rows);
        assert!(report.table.column("late").is_none());
        assert!(report.notices.iter().any(|n| n.contains("“late”")), "{:?}", report.notices);
    }

    /// Objects that each bring a key of their own: 20,000 of them killed the browser's worker
    /// (20,000 columns of 20,000 rows). Keys past the cell budget are named and left out.
    #[test]
    fn late_keys_past_the_cell_budget_are_left_out_and_named() {
        let rows = 2_000;
        let text: String = (0..rows).map(|i| format!("{{\"k{i}\": {i}}}\n")).collect();
        let report = load(&text);
        assert_eq!(report.table.n_rows, rows);
        // 1,000 columns from the header records, then 200 of the 1,000 late keys (200 × 2,000
        // rows is the budget of 400,000 cells).
        let fit = MAX_LATE_CELLS / rows;
        assert_eq!(report.table.columns.len(), HEADER_RECORDS + fit);
        assert_eq!(report.table.column(&format!("k{}", HEADER_RECORDS + fit - 1)).map(|c| c.count_valid()), Some(1));
        assert!(report.table.column(&format!("k{}", HEADER_RECORDS + fit)).is_none());
        let notice = report.notices.iter().find(|n| n.contains("keys first appear")).expect("a notice");
        assert!(notice.contains("1,000 keys") && notice.contains("the first 200 were read and 800 were not: “k1200”"), "{notice}");
    }

    /// `{"a.b": 1, "a": {"b": 2}}`: the nested value was dropped without a word.
    #[test]
    fn a_name_repeated_in_a_record_gets_its_own_column() {
        let report = load("{\"a.b\": 1, \"a\": {\"b\": 2}}\n{\"a.b\": 3, \"a\": {\"b\": 4}, \"c\": 5, \"c\": 6}\n");
        assert_eq!(cells(&report, "a.b"), ["1", "3"]);
        assert_eq!(cells(&report, "a.b_2"), ["2", "4"]);
        assert_eq!(cells(&report, "c_2"), ["", "6"]);
        let notice = report.notices.iter().find(|n| n.contains("_2")).expect("a notice");
        assert!(notice.starts_with("3 values had the name of another value in the same record (as “a.b”"), "{notice}");
    }

    #[test]
    fn any_chunking_gzip_and_utf16_give_the_same_table() {
        let text = "[{\"a\": \"é\", \"b\": {\"c\": [1, {\"d\": 2}]}},\n{\"a\": \"z\\u00e9\", \"b\": {\"c\": null}}]";
        let whole = load(text);
        for size in [1, 2, 3, 7] {
            let mut loader = TableLoader::new(LoadOptions::default());
            for chunk in text.as_bytes().chunks(size) {
                loader.push(chunk).unwrap();
            }
            assert_eq!(loader.finish().unwrap().table, whole.table, "chunks of {size}");
        }
        let lines = "{\"a\": \"é\"}\n{\"a\": \"x\"}\n";
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend(lines.encode_utf16().flat_map(u16::to_le_bytes));
        let report = load_bytes(&utf16, LoadOptions::default()).unwrap();
        assert_eq!(report.table, load(lines).table);
        assert_eq!(report.dialect.encoding, crate::data::load::TextEncoding::Utf16Le);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, lines.as_bytes()).unwrap();
        let report = load_bytes(&gz.finish().unwrap(), LoadOptions::default()).unwrap();
        assert!(report.dialect.gzip);
        assert_eq!(report.table, load(lines).table);
    }

    #[test]
    fn json_with_nothing_to_read_is_a_clear_error() {
        for (text, says) in [
            ("[]", "no keys"),
            ("{}\n{}\n", "no keys"),
            ("{\"a\": 1\n{\"b\"\n", "2 records set aside"),
            ("[1, 2, 3]", "3 records set aside, the first because of line 1: a number, not a JSON object"),
            ("[[1, 2], [3, 4]]\n", "2 records set aside"),
            ("[\"a\", \"b\"]", "not a JSON object"),
        ] {
            let err = load_bytes(text.as_bytes(), LoadOptions::default()).unwrap_err();
            assert!(matches!(err, LoadError::NoRecords { .. }), "{text}: {err:?}");
            assert!(err.to_string().contains(says), "{text}: {err}");
        }
        // A CSV whose first cell starts with a brace is still a CSV.
        let report = load("{a},b\n1,2\n");
        assert_eq!(load("[name],[time]\nx,1\n").table.n_rows, 1);
        assert_eq!(report.dialect.json, None);
        assert_eq!(report.table.columns[0].name, "{a}");
    }

    #[test]
    fn a_single_column_keeps_its_missing_rows() {
        let report = load("{\"a\": 1}\n{\"a\": null}\n{}\n{\"a\": 4}\n");
        assert_eq!(report.table.n_rows, 4);
        assert_eq!(report.table.column("a").unwrap().count_valid(), 2);
    }
}
