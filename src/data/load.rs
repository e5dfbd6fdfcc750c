//! Streaming CSV loading: bytes in, in chunks of any size; a typed [`Table`] out.
//!
//! The pipeline is push-based so the worker can feed it as file slices or network chunks
//! arrive, and never holds the file as one buffer:
//!
//! ```text
//! chunks → [gzip inflate, if the magic bytes say so] → [UTF-16 → UTF-8, if a BOM or the
//! bytes' pattern says so] → sniff (first 64 KiB: encoding, delimiter, header) → csv-core
//! records → sample of rows → type inference → column builders
//! ```
//!
//! Rows whose field count differs from the header, or that exceed [`MAX_RECORD_BYTES`], are
//! rejected with their line number, byte offset and reason; the rest of the file loads.

use std::borrow::Cow;
use std::io::{self, Write};

use csv_core::{ReadRecordResult, ReaderBuilder};
use wide::u8x16;
use serde::{Deserialize, Serialize};

use super::wire::{Reader, Writer};
use super::builder::{BuildMemory, ColumnBuilder, SentColumn};
use super::json::{JsonShape, JsonText};
use super::infer::{infer_column, is_missing, Inferred};
use super::readers::{ReaderEnd, ReaderFile, ReaderJob, ReaderKind};
use super::table::{ColumnType, Table};

/// Bytes looked at to choose encoding, delimiter and header.
pub const SNIFF_BYTES: usize = 64 * 1024;
/// Rows (at most) looked at to infer column types.
pub const SAMPLE_ROWS: usize = 10_000;
/// Cells (at most) held in the inference sample: wide files get fewer sample rows.
pub const SAMPLE_CELLS: usize = 1_000_000;
/// Widest file Vigil reads.
pub const MAX_COLUMNS: usize = 20_000;
/// Longest record Vigil reads; longer ones are rejected (often an unterminated quote).
pub const MAX_RECORD_BYTES: usize = 16 << 20;
/// Rejected rows kept for display; beyond this they are only counted.
pub const MAX_REJECTED_KEPT: usize = 1_000;
/// Sampled values needed before a mostly-distinct string column goes straight to an arena.
const ARENA_SAMPLE_MIN: usize = 1_000;
/// Characters of a rejected row's text kept for display.
const REJECTED_TEXT_CHARS: usize = 300;

/// Choices the user can make about how a file is read; `None` means "detect".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadOptions {
    pub delimiter: Option<u8>,
    pub has_header: Option<bool>,
    /// `false` reads every column as text, exactly as written.
    pub infer_types: bool,
    /// The sheet of an Excel workbook to read (`None`: the first with data).
    #[serde(default)]
    pub sheet: Option<String>,
    /// The sheet was named by a link made on another copy of the workbook: when this one lacks
    /// it, the first sheet with data is read, with a notice (an error otherwise).
    #[serde(default)]
    pub sheet_or_first: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { delimiter: None, has_header: None, infer_types: true, sheet: None, sheet_or_first: false }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextEncoding {
    Utf8,
    Windows1252,
    /// Decoded to UTF-8 before parsing (Excel's "Unicode text" export is UTF-16 LE with a BOM).
    Utf16Le,
    Utf16Be,
}

impl TextEncoding {
    /// Whether the parser reads UTF-8 (UTF-16 arrives decoded); otherwise Windows-1252.
    fn parsed_as_utf8(self) -> bool {
        self != Self::Windows1252
    }
}

/// How the file was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dialect {
    pub delimiter: u8,
    /// `"` almost always; `'` when the file quotes with single quotes.
    pub quote: u8,
    pub has_header: bool,
    pub encoding: TextEncoding,
    pub bom: bool,
    pub gzip: bool,
    /// JSON text, read as records of flattened objects (the fields above then describe the
    /// delimited text each record becomes).
    #[serde(default)]
    pub json: Option<JsonShape>,
    /// Several files appended into one table: the dialects of those after the first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<Dialect>,
    /// An Excel workbook's sheet, read as comma-separated text (the fields above describe it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workbook: Option<super::readers::Workbook>,
    /// A Parquet file, read as comma-separated text with a header row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parquet: Option<super::readers::ParquetFile>,
}

impl Dialect {
    /// "comma-separated, header row, UTF-8 with BOM, gzip"; "JSON Lines, UTF-8"; for several
    /// files of different formats, "comma-separated, header row, UTF-8 (2 files); JSON Lines,
    /// UTF-8 (1 file)".
    pub fn describe(&self) -> String {
        let mut kinds: Vec<(String, usize)> = Vec::new();
        for text in std::iter::once(self).chain(&self.others).map(Dialect::describe_one) {
            match kinds.iter_mut().find(|(k, _)| *k == text) {
                Some((_, n)) => *n += 1,
                None => kinds.push((text, 1)),
            }
        }
        match kinds.as_slice() {
            [(one, _)] => one.clone(),
            _ => kinds.iter().map(|(k, n)| format!("{k} ({n} file{})", if *n == 1 { "" } else { "s" })).collect::<Vec<_>>().join("; "),
        }
    }

    /// One file's dialect in words.
    fn describe_one(d: &Dialect) -> String {
        let delimiter = match d.delimiter {
            b',' => "comma-separated".to_string(),
            b'\t' => "tab-separated".to_string(),
            b';' => "semicolon-separated".to_string(),
            b'|' => "pipe-separated".to_string(),
            other => format!("{:?}-separated", char::from(other)),
        };
        let header = if d.has_header { "header row" } else { "no header" }.to_string();
        if let Some(file) = &d.parquet {
            return file.describe();
        }
        if let Some(book) = &d.workbook {
            let which = book.sheets.iter().position(|s| *s == book.sheet).map(|i| format!(" ({} of {})", i + 1, book.sheets.len())).unwrap_or_default();
            return format!("Excel workbook, sheet “{}”{which}, {header}", book.sheet);
        }
        let mut parts = match d.json {
            Some(shape) => vec![shape.title().to_string()],
            None => vec![delimiter, header],
        };
        parts.push(match (d.encoding, d.bom) {
            (TextEncoding::Utf8, true) => "UTF-8 with BOM".into(),
            (TextEncoding::Utf8, false) => "UTF-8".into(),
            (TextEncoding::Windows1252, _) => "Windows-1252".into(),
            (TextEncoding::Utf16Le, bom) => format!("UTF-16 little-endian{}", if bom { " with BOM" } else { "" }),
            (TextEncoding::Utf16Be, bom) => format!("UTF-16 big-endian{}", if bom { " with BOM" } else { "" }),
        });
        if d.quote != b'"' && d.json.is_none() {
            parts.push(format!("quoted with {}", char::from(d.quote)));
        }
        if d.gzip {
            parts.push("gzip".into());
        }
        parts.join(", ")
    }
}

/// A row that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    /// 1-based line where the record starts.
    pub line: u64,
    /// Byte offset (of the decompressed text) where the record starts.
    pub byte_offset: u64,
    pub reason: String,
    /// The start of the record's text, fields joined by the delimiter.
    pub text: String,
}

/// What loading produced: the table and everything the user should know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadReport {
    pub table: Table,
    pub dialect: Dialect,
    pub rejected: Vec<RejectedRow>,
    pub rejected_total: u64,
    pub notices: Vec<String>,
    /// Bytes of text read (after decompression).
    pub text_bytes: u64,
}

fn fmt_gb(bytes: u64) -> String {
    if bytes >= 1 << 30 { format!("{:.1} GB", bytes as f64 / (1u64 << 30) as f64) } else { format!("{} MB", bytes >> 20) }
}

/// Memory the loaded table takes per byte of CSV text, with room to spare (the demo export
/// takes 1.37 bytes per byte). Used only before any row is read.
pub const TABLE_BYTES_PER_TEXT_BYTE: f64 = 1.5;
/// The same for JSON, whose keys are repeated in every record (the demo export as JSON Lines
/// takes 0.40 bytes per byte; records of long texts under short keys approach CSV's density, and
/// are stopped by the readings during the load if the file then turns out not to fit).
pub const JSON_TABLE_BYTES_PER_TEXT_BYTE: f64 = 0.6;
/// Text bytes per compressed byte assumed for a gzip file before reading it.
pub const GZIP_RATIO: f64 = 6.0;
/// Room columns get beyond their estimated final size: the estimate moves a little as rows
/// arrive, and each step up copies a buffer.
pub const CAPACITY_HEADROOM: f64 = 0.05;

/// Compressed bytes pushed at a time when the rows are taken in batches ([`TableLoader::piece_bytes`]).
pub const GZIP_PIECE_BYTES: usize = 64 * 1024;

/// File bytes pushed between two capacity plans ([`TableLoader::with_size_hint`]).
const PLAN_SLICE_BYTES: usize = 128 * 1024;
/// Parts each thread's share of a block is cut into when a file is parsed on threads: they
/// are taken as the threads get to them ([`Body::parse_block_on_threads`]).
const PARTS_PER_THREAD: usize = 4;
/// Text each thread parses at a time when a file is parsed on several ([`TableLoader::with_threads`]).
const PARALLEL_BLOCK_BYTES: usize = 8 << 20;

/// A part of the text parsed by its own reader.
struct Part<'a> {
    body: PartBody<'a>,
    /// Where the part's last record ends in its block (after its line end), or `None` when the
    /// block ended inside that record.
    end: Option<usize>,
}

/// The reader of a [`Part`]: a fork that parsed it here, or a helper's, read from its answer.
// (A block's few parts, moved a few times each: a box would only add an allocation a part.)
#[allow(clippy::large_enum_variant)]
enum PartBody<'a> {
    Fork(Body),
    Sent(SentBody<'a>),
}

/// A reader as [`Body::encode`] wrote it, its columns borrowed from the bytes ([`SentColumn`]).
struct SentBody<'a> {
    dialect: Dialect,
    infer_types: bool,
    markers: bool,
    header: Option<Vec<String>>,
    rows: usize,
    bytes_consumed: u64,
    lines_consumed: u64,
    rejected_total: u64,
    invalid_utf8_fields: u64,
    between_records: bool,
    rejected: Vec<RejectedRow>,
    columns: Vec<SentColumn<'a>>,
}

impl<'a> SentBody<'a> {
    /// The reader [`Body::encode`] wrote; `None` when the bytes do not make one (a column's
    /// rows not the reader's, columns not the header's).
    fn read(r: &mut Reader<'a>) -> Option<Self> {
        let dialect: Dialect = rmp_serde::from_slice(r.bytes()?).ok()?;
        let (infer_types, markers) = (r.bool()?, r.bool()?);
        let has_header = r.bool()?;
        let n = r.usize()?;
        let mut header = Vec::new();
        for _ in 0..n {
            header.push(r.string()?);
        }
        let rows = r.usize()?;
        let (bytes_consumed, lines_consumed, rejected_total, invalid_utf8_fields) = (r.u64()?, r.u64()?, r.u64()?, r.u64()?);
        let between_records = r.bool()?;
        let rejected = rmp_serde::from_slice(r.bytes()?).ok()?;
        let n = r.usize()?;
        let mut columns = Vec::new();
        for _ in 0..n {
            let column = SentColumn::read(r)?;
            if column.rows() != rows {
                return None;
            }
            columns.push(column);
        }
        let header = has_header.then_some(header);
        if n != header.as_ref().map_or(0, Vec::len) {
            return None;
        }
        Some(Self { dialect, infer_types, markers, header, rows, bytes_consumed, lines_consumed, rejected_total, invalid_utf8_fields, between_records, rejected, columns })
    }
}

/// A block of text to parse in parts: the first here, the others by helpers
/// ([`TableLoader::with_helpers`]).
pub struct Block {
    text: Vec<u8>,
    /// Each part's share of the text.
    spans: Vec<(usize, usize)>,
    at_end: bool,
    /// The empty reader each helper starts from ([`Body::encode`]).
    fork: Vec<u8>,
}

/// What a helper is sent for one part of a [`Block`].
pub struct PartTask<'a> {
    /// The reader it starts from (see [`PartParser::parse`]).
    pub fork: &'a [u8],
    /// The block's text from where the part starts to the block's end (a part reads on past
    /// its share to the end of its last record).
    pub text: &'a [u8],
    /// Where its share ends in `text`.
    pub stop: usize,
    /// The block ends the file.
    pub at_end: bool,
}

impl Block {
    /// The parts for helpers, in order: the block's parts after its first.
    pub fn parts(&self) -> Vec<PartTask<'_>> {
        self.spans
            .iter()
            .skip(1)
            .map(|&(start, stop)| PartTask { fork: &self.fork, text: self.text.get(start..).unwrap_or_default(), stop: stop - start, at_end: self.at_end })
            .collect()
    }
}

/// A helper's work: parses parts of blocks ([`PartTask`]) and answers with each part as bytes,
/// for [`TableLoader::merge_block`]. The reader a part starts from is read from its bytes once,
/// while the blocks' forks stay the same, and each part's reader is kept, emptied with its
/// columns' room, for the next part: a new reader's columns grow from nothing, copying
/// themselves as they double.
#[derive(Default)]
pub struct PartParser {
    /// The last fork's bytes, and the reader they make.
    fork: Option<(Vec<u8>, Body)>,
    answer: Writer,
}

impl PartParser {
    /// Parses a part (`text` from its start to the block's end, its share ending at `stop`)
    /// with the reader `fork`; `None` when it cannot (the table worker then parses the part
    /// itself, and meets any error in the text there).
    pub fn parse(&mut self, fork: &[u8], text: &[u8], stop: usize, at_end: bool) -> Option<&[u8]> {
        if self.fork.as_ref().is_none_or(|(bytes, _)| bytes != fork) {
            self.fork = None;
            self.fork = Some((fork.to_vec(), Body::decode(&mut Reader::new(fork))?));
        }
        let (_, template) = self.fork.as_mut()?;
        let part = template.fork().parse_part(text, 0, stop.min(text.len()), at_end).ok()?;
        let PartBody::Fork(body) = part.body else { return None };
        let w = &mut self.answer;
        w.bytes.clear();
        match part.end {
            Some(end) => {
                w.bool(true);
                w.usize(end);
            }
            None => w.bool(false),
        }
        body.encode(w);
        template.recycle(body);
        Some(&self.answer.bytes)
    }
}

/// What the memory guard looks at, at one moment of a load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryReading {
    /// Memory the loading side holds now (in the worker: its wasm linear memory).
    pub memory_now: u64,
    /// The table being built (part of `memory_now`).
    pub table: BuildMemory,
    /// File bytes read so far (compressed bytes for gzip).
    pub read: u64,
    /// The file's size, when known.
    pub total: Option<u64>,
    pub gzip: bool,
    /// The text is JSON ([`crate::data::json::detect`] on the first bytes).
    pub json: bool,
    /// A file for a reader (Parquet, a workbook; its first bytes tell), held whole while it is
    /// read when it comes other than as a `File`: its table cannot be told from its size, so
    /// only what is held counts until its rows are decoded ([`rows_memory_check`]).
    pub reader: Option<ReaderKind>,
}

impl MemoryReading {
    /// Memory the load will hold at its peak, projected from what it holds now.
    ///
    /// Before any row is built, from the file's size ([`TABLE_BYTES_PER_TEXT_BYTE`]). Then from
    /// the table itself: what grows with rows is scaled by the share of the file read, plus
    /// the headroom columns are given ([`CAPACITY_HEADROOM`]) and, when a buffer must still
    /// grow, its copy; dictionaries are taken as they are; what is not the table stays. Not
    /// from the growth of `memory_now`, which jumps when columns reserve their estimated
    /// final size (that read a 1 GB file as needing 29 GB).
    pub fn projected_peak(&self) -> u64 {
        let per_byte = self.table_per_file_byte();
        let Some(total) = self.total.filter(|&total| total > 0 && self.read <= total && self.reader.is_none()) else {
            // Unknown length (or a length that was wrong): only what is held counts.
            return self.memory_now;
        };
        let rest = self.memory_now.saturating_sub(self.table.held());
        if self.read == 0 || self.table.per_row_used == 0 {
            let text_left = total.saturating_sub(self.read) as f64;
            return self.memory_now.saturating_add((per_byte * text_left) as u64);
        }
        let scale = total as f64 / self.read as f64;
        let expected = self.table.per_row_used as f64 * scale;
        let reserved = self.table.per_row_reserved as f64;
        // Columns that must still grow step up to the expectation plus headroom, each buffer
        // copied as it does (the old copy held meanwhile).
        let per_row = if expected <= reserved {
            reserved
        } else {
            expected * (1.0 + CAPACITY_HEADROOM) + self.table.largest_buffer as f64 * scale
        };
        let table = per_row + self.table.fixed as f64;
        (rest as f64 + table).min(u64::MAX as f64) as u64
    }

    /// Bytes of table assumed per byte of the file before any row is built.
    fn table_per_file_byte(&self) -> f64 {
        let text = if self.json { JSON_TABLE_BYTES_PER_TEXT_BYTE } else { TABLE_BYTES_PER_TEXT_BYTE };
        if self.gzip { text * GZIP_RATIO } else { text }
    }
}

/// The memory guard: whether a load can go on within `limit` bytes. Before reading, the file's
/// size says whether it can fit; while reading, the table's projected size
/// ([`MemoryReading::projected_peak`]) stops a file that will not fit before the tab runs out.
pub fn memory_check(reading: &MemoryReading, limit: u64) -> Result<(), LoadError> {
    let projected = reading.projected_peak();
    if projected <= limit && reading.memory_now <= limit {
        return Ok(());
    }
    let fits_text = if reading.reader.is_some() { limit } else { (limit as f64 / reading.table_per_file_byte()) as u64 };
    let format = match (reading.reader, reading.json, reading.gzip) {
        (Some(ReaderKind::Parquet), ..) => "Parquet",
        (Some(ReaderKind::Workbook), ..) => "Excel workbook",
        (None, true, true) => "gzipped JSON",
        (None, true, false) => "JSON",
        (None, false, true) => "gzipped CSV",
        (None, false, false) => "CSV",
    };
    Err(LoadError::TooLarge { needed: projected.max(reading.memory_now), limit, fits_text, format, read: reading.read })
}

/// The memory guard while a file read from its end (Parquet) is decoded: `rows` of its
/// `total_rows` are in the table, which holds `table`; the file is `file_bytes`.
pub fn rows_memory_check(memory_now: u64, table: BuildMemory, rows: u64, total_rows: u64, file_bytes: u64, limit: u64) -> Result<(), LoadError> {
    // The rows stand for the file's bytes in the projection: it scales what the rows hold.
    let reading = MemoryReading { memory_now, table, read: rows, total: Some(total_rows), gzip: false, json: false, reader: None };
    let needed = reading.projected_peak().max(memory_now);
    if rows == 0 || needed <= limit {
        return Ok(());
    }
    let fits_text = (file_bytes as f64 * limit as f64 / needed as f64) as u64;
    Err(LoadError::TooLarge { needed, limit, fits_text, format: "Parquet", read: file_bytes })
}

/// Why a file could not be loaded at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("the file is empty")]
    Empty,
    #[error("this file needs about {} of memory once loaded{}, more than the {} a browser tab can hold for data here (about {} of {format}). Load less: export only the columns you need, a sample of the rows, or counts pre-aggregated in the warehouse (per day and dimension), or split the file", fmt_gb(*needed), if *read > 0 { " (stopped after reading part of it)" } else { "" }, fmt_gb(*limit), fmt_gb(*fits_text))]
    TooLarge { needed: u64, limit: u64, fits_text: u64, format: &'static str, read: u64 },
    #[error("the file has a header ({}) but no data rows{}", crate::format::plural(*columns as u64, "column"), set_aside.as_ref().map(|(n, first)| format!(" that could be read: {} set aside, the first because of {first}", crate::format::format_count(*n))).unwrap_or_default())]
    NoRows { columns: usize, set_aside: Option<(u64, String)> },
    #[error("no JSON object could be read{}", set_aside.as_ref().map(|(n, first)| format!(": {} set aside, the first because of {first}", crate::format::plural(*n, "record"))).unwrap_or_else(|| ": the objects have no keys".into()))]
    NoRecords { set_aside: Option<(u64, String)> },
    #[error("this does not look like a CSV text file: {reason}")]
    NotText { reason: String },
    #[error("the header line is longer than {max_mib} MiB (often a quote that is never closed)")]
    HeaderTooLong { max_mib: usize },
    /// `found` is `None` when the header was too wide to count to its end.
    #[error("the header has {} columns; Vigil reads at most {max}", found.map_or_else(|| format!("more than {max}"), |n| n.to_string()))]
    TooManyColumns { found: Option<usize>, max: usize },
    #[error("the gzip data is corrupt or truncated (after {compressed_bytes} compressed bytes): {message}")]
    Gzip { compressed_bytes: u64, message: String },
    /// An Excel workbook that cannot be read, or lacks the sheet asked for.
    #[error("{0}")]
    Workbook(String),
    /// A Parquet file that cannot be read.
    #[error("{0}")]
    Parquet(String),
}

/// Push-based loader: `push` chunks, then `finish`.
pub struct TableLoader {
    input: Input,
    compressed_bytes: u64,
    size_hint: Option<u64>,
    parallel: Parallel,
    /// A reader's file is handed on ([`Finishing::reader_job`]) even when the readers are here.
    reader_outside: bool,
}

/// How a loader may parse in parallel: the threads, the text each parses at a time, and the
/// rows sampled for types (fixed, except in tests that want small files parsed in parts).
#[derive(Debug, Clone, Copy)]
struct Parallel {
    threads: usize,
    block_bytes: usize,
    sample_rows: Option<usize>,
    /// The parts are parsed one after another on this thread (the same parts, speculation and
    /// merge; fuzzing runs millions of small files, where starting threads would be all the
    /// time spent).
    one_thread: bool,
    /// The parts after each block's first are parsed elsewhere (the browser's helper workers):
    /// the blocks wait in [`Body::deferred`] for [`TableLoader::next_block`].
    outside: bool,
    /// Text read before the dialect is guessed and parsing starts ([`SNIFF_BYTES`]; tests
    /// make it small, so that small files are parsed while they are pushed).
    sniff_bytes: usize,
}

impl Parallel {
    /// How text that arrives here in batches (a reader's) is parsed: on threads as before, but
    /// not waiting for helpers, which only a load's own blocks go to (a reader's text would
    /// wait, whole, until the end).
    fn here(self) -> Self {
        if self.outside {
            Self { threads: 1, outside: false, ..self }
        } else {
            self
        }
    }
}

impl Default for Parallel {
    fn default() -> Self {
        Self { threads: 1, block_bytes: PARALLEL_BLOCK_BYTES, sample_rows: None, one_thread: false, outside: false, sniff_bytes: SNIFF_BYTES }
    }
}

enum Input {
    /// Fewer than four bytes seen: cannot tell gzip or a workbook from text yet.
    Undecided(Vec<u8>, LoadOptions),
    /// A file for a reader (a Parquet file, an Excel workbook), held whole until the end: both
    /// are read from their end (Parquet's footer, a zip's directory).
    Binary(ReaderKind, Vec<u8>, LoadOptions),
    /// A reader's file that the reader reads itself from where it lies (the browser's `File`):
    /// no bytes are held ([`TableLoader::hand_over_file`]).
    Handed(ReaderKind, LoadOptions),
    Plain(Box<Parser>),
    Gzip(Box<Gunzip>),
    /// A previous push failed; the loader only reports that error.
    Failed(LoadError),
}

impl TableLoader {
    pub fn new(options: LoadOptions) -> Self {
        Self { input: Input::Undecided(Vec::new(), options), compressed_bytes: 0, size_hint: None, parallel: Parallel::default(), reader_outside: false }
    }

    /// Parses the text on up to `threads` threads at once, once the column types are inferred
    /// (native programs, on rayon's pool; the browser's worker has one thread, unless it is
    /// built with wasm atomics and a pool of web workers over its shared memory, as the
    /// experiment in `benches/wasm-threads/`). The table, the rejected rows and the notices are
    /// exactly those of one thread. Set before the first push.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.parallel.threads = if cfg!(all(target_arch = "wasm32", not(target_feature = "atomics"))) { 1 } else { threads.max(1) };
        self
    }

    /// Tests: each thread parses `block_bytes` at a time (any split of the text, down to one
    /// byte), after `sample_rows` rows were sampled for types.
    #[doc(hidden)]
    pub fn with_parallel_blocks(mut self, threads: usize, block_bytes: usize, sample_rows: usize) -> Self {
        self = self.with_threads(threads);
        self.parallel.block_bytes = block_bytes.max(1);
        self.parallel.sample_rows = Some(sample_rows.max(1));
        self
    }

    /// Parses the text in blocks whose parts after the first are parsed by `helpers` elsewhere
    /// (the browser's helper workers: workers share no threads), a part each: after each push,
    /// the caller takes each block ([`TableLoader::next_block`]), sends those parts out
    /// ([`Block::parts`], parsed by [`PartParser::parse`]) and merges the answers
    /// ([`TableLoader::merge_block`], which parses the first part here, continuing the text
    /// before it), in order. Blocks not taken are parsed here when the load finishes. The
    /// table, the rejected rows and the notices are those of one thread. Set before the first
    /// push.
    pub fn with_helpers(mut self, helpers: usize, block_bytes: usize) -> Self {
        if helpers > 0 {
            self.parallel.threads = helpers + 1;
            self.parallel.block_bytes = block_bytes.max(1);
            self.parallel.outside = true;
        }
        self
    }

    /// The next block of text to parse in parts ([`TableLoader::with_helpers`]); `None` when
    /// no block waits, or when text that must be parsed here waits and `in_flight` blocks were
    /// sent out and not merged yet ([`TableLoader::waits`] then says so: merge them first).
    /// Blocks may be sent out before the ones before them are merged: a part's reader starts
    /// from the columns' types then, and merging gives the same table.
    pub fn next_block(&mut self, in_flight: bool) -> Result<Option<Block>, LoadError> {
        let Some(body) = self.body_mut() else { return Ok(None) };
        let block = body.next_block(in_flight);
        if let Err(err) = &block {
            self.input = Input::Failed(err.clone());
        }
        block
    }

    /// Text waits to be parsed in parts or here ([`TableLoader::next_block`]).
    pub fn waits(&self) -> bool {
        self.body().is_some_and(|body| !body.deferred.is_empty())
    }

    /// Puts a block's parts in the table, in order: its first part parsed here, then `answers`,
    /// each later part's answer from [`PartParser::parse`], `None` for a helper that failed. A
    /// part that does not start where the text before it stopped (its start was a guess inside
    /// a quoted field), or that has no usable answer, is parsed here.
    pub fn merge_block(&mut self, block: Block, answers: Vec<Option<Vec<u8>>>) -> Result<(), LoadError> {
        // Room for the rows expected, before they come (a column that outgrew its room would
        // double).
        self.plan_capacity();
        let Some(body) = self.body_mut() else { return Err(LoadError::Empty) };
        body.sent_bytes = body.sent_bytes.saturating_sub(block.text.len() as u64);
        let first_stop = block.spans.first().map_or(block.text.len(), |&(_, stop)| stop);
        let merged = body.parse_span(&block.text, 0, first_stop).and_then(|first| {
            let later = block.spans.get(1..).unwrap_or_default();
            let parts = answers.iter().zip(later).map(|(answer, &(start, _))| answer.as_deref().and_then(|bytes| body.decode_part(bytes, start))).collect();
            body.merge_parts(&block.text, later, first, parts, false)
        });
        if let Err(err) = &merged {
            self.input = Input::Failed(err.clone());
        }
        merged
    }

    /// Tests and fuzzing: the blocks waiting for helpers ([`TableLoader::with_helpers`]) parsed
    /// as the browser's table worker has them parsed, here: each part sent as a message
    /// ([`Block::parts`]), answered by [`PartParser::parse`], merged from its answer. Each
    /// answer passes through `on_the_way`, part by part: `None` is an answer that never came
    /// (its helper crashed), other bytes a damaged one. Up to `ahead` blocks are sent out
    /// before the oldest is merged.
    #[doc(hidden)]
    pub fn run_blocks_by_message(&mut self, ahead: usize, on_the_way: &mut dyn FnMut(Vec<u8>) -> Option<Vec<u8>>) -> Result<(), LoadError> {
        let mut in_flight = std::collections::VecDeque::new();
        let mut helper = PartParser::default();
        loop {
            if in_flight.len() < ahead.max(1) {
                if let Some(block) = self.next_block(!in_flight.is_empty())? {
                    let answers: Vec<Option<Vec<u8>>> = block.parts().iter().map(|task| helper.parse(task.fork, task.text, task.stop, task.at_end).map(<[u8]>::to_vec).and_then(&mut *on_the_way)).collect();
                    in_flight.push_back((block, answers));
                    continue;
                }
            }
            let Some((block, answers)) = in_flight.pop_front() else {
                if self.waits() {
                    continue; // text to parse here, now that nothing is in flight
                }
                return Ok(());
            };
            self.merge_block(block, answers)?;
        }
    }

    /// Tests: the dialect is guessed from the first `bytes` (not [`SNIFF_BYTES`]), and parsing
    /// starts then: a small file is parsed while it is pushed, as a large one is.
    #[doc(hidden)]
    pub fn with_sniff_bytes(mut self, bytes: usize) -> Self {
        self.parallel.sniff_bytes = bytes.max(1);
        self
    }

    /// Fuzzing: the parts of [`TableLoader::with_parallel_blocks`] parsed in turn on this thread.
    #[doc(hidden)]
    pub fn parts_on_one_thread(mut self) -> Self {
        self.parallel.one_thread = true;
        self
    }

    /// Hands a Parquet file or a workbook to a reader elsewhere ([`Finishing::reader_job`]), as a
    /// loader built without the `readers` feature does (the browser's table worker): tests drive
    /// that path natively.
    pub fn with_reader_outside(mut self) -> Self {
        self.reader_outside = true;
        self
    }

    /// The file's size in bytes (compressed, for gzip), when known (files, downloads with a
    /// length): once the type sample is read, columns reserve room for the rows estimated from
    /// the share of the file read, and step up exactly when the estimate grows, instead of
    /// growing by doubling; peak memory stays near the table's size.
    pub fn with_size_hint(mut self, bytes: u64) -> Self {
        self.size_hint = Some(bytes);
        self
    }

    /// How many of the file's next bytes to push before taking the rows: all of them for plain
    /// text; for gzip, [`GZIP_PIECE_BYTES`], whatever the ratio so far (a file may compress 3 to 1
    /// and then 1,000 to 1), so a batch never holds more than deflate's 1,032 to 1 of a piece,
    /// about 66 MB. A caller that takes the rows after each push ([`TableLoader::take_rows`])
    /// pushes a compressed chunk in pieces this size.
    pub fn piece_bytes(&self) -> usize {
        match &self.input {
            Input::Gzip(_) | Input::Undecided(..) => GZIP_PIECE_BYTES,
            Input::Plain(_) | Input::Binary(..) | Input::Handed(..) | Input::Failed(_) => usize::MAX,
        }
    }

    /// Rows accepted so far.
    pub fn rows_loaded(&self) -> u64 {
        match &self.input {
            Input::Plain(parser) => parser.rows_loaded(),
            Input::Gzip(decoder) => decoder.get_ref().rows_loaded(),
            Input::Undecided(..) | Input::Binary(..) | Input::Handed(..) | Input::Failed(_) => 0,
        }
    }

    /// Feeds the next chunk of the file.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), LoadError> {
        // Columns are given room between slices: a whole chunk's rows could outgrow the
        // headroom and double a column.
        for slice in chunk.chunks(PLAN_SLICE_BYTES) {
            self.push_slice(slice)?;
        }
        Ok(())
    }

    fn push_slice(&mut self, chunk: &[u8]) -> Result<(), LoadError> {
        self.compressed_bytes += chunk.len() as u64;
        let result = match &mut self.input {
            Input::Undecided(head, options) => {
                head.extend_from_slice(chunk);
                if head.len() < 4 {
                    return Ok(());
                }
                let head = std::mem::take(head);
                let options = std::mem::take(options);
                if let Some(kind) = ReaderKind::of(&head) {
                    self.input = Input::Binary(kind, head, options);
                    return Ok(());
                }
                let gzip = head.starts_with(&[0x1f, 0x8b]);
                let mut parser = Parser::new(options, gzip);
                parser.parallel = self.parallel;
                if gzip {
                    self.input = Input::Gzip(Box::new(Gunzip::new(parser)));
                } else {
                    self.input = Input::Plain(Box::new(parser));
                }
                self.push_decided(&head)
            }
            Input::Failed(err) => Err(err.clone()),
            Input::Binary(_, bytes, _) => {
                bytes.extend_from_slice(chunk);
                Ok(())
            }
            Input::Handed(..) => Err(LoadError::Parquet("internal: the file was handed to its reader".into())),
            Input::Plain(_) | Input::Gzip(_) => self.push_decided(chunk),
        };
        result?;
        self.plan_capacity();
        Ok(())
    }

    /// The reader the file needs (a Parquet file, a workbook), once its first bytes tell.
    pub fn reader_kind(&self) -> Option<ReaderKind> {
        match &self.input {
            Input::Binary(kind, ..) | Input::Handed(kind, _) => Some(*kind),
            _ => None,
        }
    }

    /// For a reader's file ([`TableLoader::reader_kind`]) whose reader elsewhere reads the file
    /// itself (the browser's reader worker is handed the `File`): the bytes read so far are let
    /// go, nothing more is pushed, and [`Finishing::reader_job`] gives a job without bytes. The
    /// caller has checked that a Parquet file ends as one (text may start with "PAR1").
    pub fn hand_over_file(&mut self) -> Option<ReaderKind> {
        let Input::Binary(kind, _, options) = &mut self.input else { return None };
        let kind = *kind;
        self.input = Input::Handed(kind, std::mem::take(options));
        Some(kind)
    }

    /// Gives the columns room for the rows the file is estimated to hold, from the share of
    /// it read so far (a no-op until types are inferred, or when the size is unknown).
    fn plan_capacity(&mut self) {
        let Some(total) = self.size_hint.filter(|&total| total > 0) else { return };
        let share_read = self.compressed_bytes as f64 / total as f64 * self.parsed_share();
        if let Some(body) = self.body_mut() {
            body.plan_capacity(share_read);
        }
    }

    /// The share of the text read so far that is parsed into rows: text waits for parts to be
    /// parsed (the next block, blocks at helpers), so the rows lag the bytes read. Estimates
    /// from the rows (the columns' room, the memory guard's projection) scale the bytes read by
    /// this.
    pub fn parsed_share(&self) -> f64 {
        let Some(body) = self.body() else { return 1.0 };
        let parsed = body.bytes_parsed() as f64;
        let waiting = body.text_waiting() as f64;
        if parsed + waiting > 0.0 {
            parsed / (parsed + waiting)
        } else {
            1.0
        }
    }

    fn body(&self) -> Option<&Body> {
        match &self.input {
            Input::Plain(parser) => parser.body.as_ref(),
            Input::Gzip(decoder) => decoder.get_ref().body.as_ref(),
            Input::Undecided(..) | Input::Binary(..) | Input::Handed(..) | Input::Failed(_) => None,
        }
    }

    fn body_mut(&mut self) -> Option<&mut Body> {
        match &mut self.input {
            Input::Plain(parser) => parser.body.as_mut(),
            Input::Gzip(decoder) => decoder.get_mut().body.as_mut(),
            Input::Undecided(..) | Input::Binary(..) | Input::Handed(..) | Input::Failed(_) => None,
        }
    }

    /// The rows read since the last call, as a table, and room for the next ones: a file read in
    /// batches (streamed into a cube) never holds more than one batch. `None` while the types
    /// are still being inferred (the first rows are held until then) or when no row is new.
    /// Columns keep the types inferred from the first rows; [`TableLoader::finish`] gives the
    /// rows after the last batch.
    pub fn take_rows(&mut self) -> Option<Table> {
        self.body_mut().and_then(Body::take_rows)
    }

    /// Memory the table being built holds so far.
    pub fn memory(&self) -> BuildMemory {
        self.body().map(Body::memory).unwrap_or_default()
    }

    fn push_decided(&mut self, chunk: &[u8]) -> Result<(), LoadError> {
        let result = match &mut self.input {
            Input::Plain(parser) => parser.feed(chunk),
            Input::Gzip(decoder) => {
                let written = decoder.write_all(chunk);
                match decoder.get_mut().error.take() {
                    Some(err) => Err(err),
                    None => written.map_err(|err| LoadError::Gzip {
                        compressed_bytes: self.compressed_bytes,
                        message: err.to_string(),
                    }),
                }
            }
            Input::Undecided(..) | Input::Binary(..) | Input::Handed(..) => Ok(()),
            Input::Failed(err) => Err(err.clone()),
        };
        if let Err(err) = &result {
            self.input = Input::Failed(err.clone());
        }
        result
    }

    /// Ends the input and builds the table.
    pub fn finish(self) -> Result<LoadReport, LoadError> {
        let mut finishing = self.finishing()?;
        loop {
            if let Some(report) = finishing.step()? {
                return Ok(report);
            }
        }
    }

    /// Ends the input; the table is then built in steps ([`Finishing::step`]) when the file is
    /// one for a reader (Parquet: a batch of rows a step, so that the worker can report
    /// progress, honour Cancel and watch memory meanwhile), at once otherwise. Built without the
    /// `readers` feature (the browser's table worker), a reader's file is handed on
    /// ([`Finishing::reader_job`]) and its text fed back ([`Finishing::feed_text`]).
    pub fn finishing(mut self) -> Result<Finishing, LoadError> {
        let (kind, bytes, options, handed) = match self.input {
            Input::Binary(kind, bytes, options) => (kind, bytes, options, false),
            Input::Handed(kind, options) => (kind, Vec::new(), options, true),
            input => {
                self.input = input;
                return self.finish_at_once().map(|report| Finishing(Finish::Ready(Box::new(report))));
            }
        };
        if kind == ReaderKind::Parquet && !handed && !bytes.ends_with(b"PAR1") && looks_binary(bytes.get(..bytes.len().min(SNIFF_BYTES)).unwrap_or_default()).is_none() {
            // Text that happens to start with "PAR1", not a Parquet file cut short.
            let mut parser = Parser::new(options, false);
            parser.parallel = self.parallel.here();
            parser.feed(&bytes)?;
            return parser.finish().map(|report| Finishing(Finish::Ready(Box::new(report))));
        }
        let parser = match kind {
            // Comma-separated with the columns' names as the header, as written.
            ReaderKind::Parquet => {
                let mut parser = Parser::new(LoadOptions { delimiter: Some(b','), has_header: Some(true), sheet: None, ..options.clone() }, false);
                parser.written = true;
                parser
            }
            // Comma-separated as written; the header is detected (or chosen) as for any text.
            ReaderKind::Workbook => Parser::new(LoadOptions { delimiter: Some(b','), sheet: None, ..options.clone() }, false),
        };
        let mut parser = Box::new(parser);
        parser.parallel = self.parallel.here();
        let job = ReaderJob { kind, bytes, sheet: options.sheet, sheet_or_first: options.sheet_or_first };
        #[cfg(feature = "readers")]
        let source = if self.reader_outside || handed { TextSource::Outside(Some(job)) } else { TextSource::Here(Box::new(super::readers::Reading::open(job)?), Vec::new()) };
        #[cfg(not(feature = "readers"))]
        let source = TextSource::Outside(Some(job));
        Ok(Finishing(Finish::Text { source, parser, rows: (0, None) }))
    }

    fn finish_at_once(self) -> Result<LoadReport, LoadError> {
        match self.input {
            Input::Undecided(head, options) => {
                let mut parser = Parser::new(options, false);
                parser.feed(&head)?;
                parser.finish()
            }
            Input::Binary(..) | Input::Handed(..) => Err(LoadError::Parquet("internal: a reader's file is finished in steps".into())),
            Input::Plain(parser) => parser.finish(),
            Input::Gzip(decoder) => {
                let (parser, trailing) = decoder.finish().map_err(|err| LoadError::Gzip {
                    compressed_bytes: self.compressed_bytes,
                    message: err.to_string(),
                })?;
                let mut report = parser.finish()?;
                if trailing > 0 {
                    report.notices.push(format!("{} after the end of the compressed data were ignored (as gzip does)", crate::format::plural(trailing, "byte")));
                }
                Ok(report)
            }
            Input::Failed(err) => Err(err),
        }
    }
}

/// Gzip members one after another, as gzip(1) reads them. Bytes after a member that do not
/// start another (zero padding, or junk a transfer appended) are counted and ignored, as gzip(1)
/// ignores "trailing garbage", instead of failing the whole load.
struct Gunzip {
    member: flate2::write::GzDecoder<Parser>,
    /// A member ended: the first bytes after it, until two tell whether another member starts.
    between: Option<Vec<u8>>,
    /// Bytes ignored after the last member.
    trailing: u64,
}

impl Gunzip {
    const MAGIC: [u8; 2] = [0x1f, 0x8b];

    fn new(parser: Parser) -> Self {
        Self { member: flate2::write::GzDecoder::new(parser), between: None, trailing: 0 }
    }

    fn get_ref(&self) -> &Parser {
        self.member.get_ref()
    }

    fn get_mut(&mut self) -> &mut Parser {
        self.member.get_mut()
    }

    fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            if self.trailing > 0 {
                self.trailing += buf.len() as u64;
                return Ok(());
            }
            if let Some(held) = &mut self.between {
                let take = (Self::MAGIC.len() - held.len()).min(buf.len());
                held.extend_from_slice(buf.get(..take).unwrap_or_default());
                buf = buf.get(take..).unwrap_or_default();
                if held.len() < Self::MAGIC.len() {
                    return Ok(());
                }
                if held.as_slice() != Self::MAGIC {
                    self.trailing = (held.len() + buf.len()) as u64;
                    self.between = None;
                    return Ok(());
                }
                // Another member: a fresh decoder over the same parser.
                let held = self.between.take().unwrap_or_default();
                let placeholder = flate2::write::GzDecoder::new(Parser::new(LoadOptions::default(), true));
                let parser = std::mem::replace(&mut self.member, placeholder).finish()?;
                self.member = flate2::write::GzDecoder::new(parser);
                self.member.write_all(&held)?;
                continue;
            }
            match self.member.write(buf)? {
                // The member ended (its trailer was read): what follows decides.
                0 => self.between = Some(Vec::with_capacity(Self::MAGIC.len())),
                n => buf = buf.get(n..).unwrap_or_default(),
            }
        }
        Ok(())
    }

    /// The parser, and how many bytes after the last member were ignored.
    fn finish(self) -> io::Result<(Parser, u64)> {
        let trailing = self.trailing + self.between.map_or(0, |held| held.len() as u64);
        Ok((self.member.finish()?, trailing))
    }
}

/// The last step of a load: see [`TableLoader::finishing`].
pub struct Finishing(Finish);

enum Finish {
    /// A reader's text being parsed: the reader, the parser, and the rows written so far with
    /// the file's rows when known.
    Text { source: TextSource, parser: Box<Parser>, rows: (u64, Option<u64>) },
    Ready(Box<LoadReport>),
    Spent,
}

/// Where a reader's text comes from.
enum TextSource {
    /// The reader runs here, a batch a step (the batch's text reused).
    #[cfg(feature = "readers")]
    Here(Box<super::readers::Reading>, Vec<u8>),
    /// A reader elsewhere (the browser's reader worker) is given the file and sends its text
    /// back; the file until it is handed on.
    Outside(Option<ReaderJob>),
}

impl Finishing {
    /// Builds the next part of the table; the report once the table is built.
    pub fn step(&mut self) -> Result<Option<LoadReport>, LoadError> {
        match &mut self.0 {
            Finish::Ready(_) => match std::mem::replace(&mut self.0, Finish::Spent) {
                Finish::Ready(report) => Ok(Some(*report)),
                _ => Err(LoadError::Empty),
            },
            Finish::Spent => Err(LoadError::Empty),
            #[cfg(feature = "readers")]
            Finish::Text { source, parser, rows } if matches!(source, TextSource::Here(..)) => {
                let TextSource::Here(reading, batch) = source else { return Err(LoadError::Empty) };
                batch.clear();
                if reading.next_batch(batch)? {
                    parser.feed(batch)?;
                    *rows = reading.progress();
                    return Ok(None);
                }
                let TextSource::Here(reading, _) = std::mem::replace(source, TextSource::Outside(None)) else { return Err(LoadError::Empty) };
                self.end_text(reading.finish()).map(Some)
            }
            Finish::Text { .. } => Err(LoadError::Parquet("internal: this file is read by the reader worker".into())),
        }
    }

    /// The file a reader elsewhere is to turn into text, once (a loader built without the
    /// `readers` feature); `None` otherwise.
    pub fn reader_job(&mut self) -> Option<ReaderJob> {
        match &mut self.0 {
            Finish::Text { source: TextSource::Outside(job), .. } => job.take(),
            _ => None,
        }
    }

    /// A batch of the reader's text, with the rows it has written so far and the file's rows
    /// when known.
    pub fn feed_text(&mut self, text: &[u8], rows: (u64, Option<u64>)) -> Result<(), LoadError> {
        match &mut self.0 {
            Finish::Text { parser, rows: seen, .. } => {
                *seen = rows;
                parser.feed(text)
            }
            _ => Err(LoadError::Parquet("internal: text for a file that is not read by a reader".into())),
        }
    }

    /// The reader's last word: the table, with what the reader said about the file.
    pub fn end_text(&mut self, end: ReaderEnd) -> Result<LoadReport, LoadError> {
        let Finish::Text { parser, .. } = std::mem::replace(&mut self.0, Finish::Spent) else {
            return Err(LoadError::Parquet("internal: the end of a file that is not read by a reader".into()));
        };
        let mut report = parser.finish()?;
        match end.file {
            ReaderFile::Parquet(file) => report.dialect.parquet = Some(file),
            ReaderFile::Workbook(workbook) => report.dialect.workbook = Some(workbook),
        }
        report.notices.splice(0..0, end.notices);
        Ok(report)
    }

    /// Rows read into the table so far, and the rows the file holds when known.
    pub fn rows(&self) -> (u64, Option<u64>) {
        match &self.0 {
            Finish::Text { rows, .. } => *rows,
            Finish::Ready(report) => (report.table.n_rows as u64, None),
            Finish::Spent => (0, None),
        }
    }

    /// The rows built since the last call (see [`TableLoader::take_rows`]).
    pub fn take_rows(&mut self) -> Option<Table> {
        match &mut self.0 {
            Finish::Text { parser, .. } => parser.body.as_mut().and_then(Body::take_rows),
            Finish::Ready(_) | Finish::Spent => None,
        }
    }

    /// Memory the table being built holds so far.
    pub fn memory(&self) -> BuildMemory {
        match &self.0 {
            Finish::Text { parser, .. } => parser.body.as_ref().map(Body::memory).unwrap_or_default(),
            Finish::Ready(_) | Finish::Spent => BuildMemory::default(),
        }
    }
}

/// Loads `bytes` as the browser's table worker loads a large file with a helper, on this
/// thread: types sampled from 100 rows, then blocks of `block_bytes` parsed in parts as a
/// helper parses them ([`PartParser`]) and merged from their answers. The worker runs it on a
/// few rows as it starts, so that the code a load runs is compiled before the first file comes.
pub fn load_as_helpers_do(bytes: &[u8], options: LoadOptions, block_bytes: usize) -> Result<LoadReport, LoadError> {
    let mut loader = TableLoader::new(options).with_sniff_bytes(block_bytes).with_parallel_blocks(1, block_bytes, 100).with_helpers(1, block_bytes);
    loader.push(bytes)?;
    loader.run_blocks_by_message(2, &mut Some)?;
    loader.finish()
}

/// Loads a whole in-memory file (tests, the demo, native tools).
pub fn load_bytes(bytes: &[u8], options: LoadOptions) -> Result<LoadReport, LoadError> {
    let mut loader = TableLoader::new(options);
    for chunk in bytes.chunks(1 << 20) {
        loader.push(chunk)?;
    }
    loader.finish()
}

/// The text stage: sniffing, then records.
struct Parser {
    options: LoadOptions,
    gzip: bool,
    sniff_buf: Vec<u8>,
    /// UTF-16 text is decoded here, chunk by chunk (a code unit or a surrogate pair may be cut
    /// by a chunk's end), before anything else sees it.
    utf16: Option<Utf16>,
    /// JSON text becomes delimited records here, before the body reads them.
    json: Option<JsonText>,
    /// The delimited text of the last chunk of JSON (reused).
    json_out: Vec<u8>,
    body: Option<Body>,
    /// An error raised while gzip was driving `write` (io::Write cannot carry it).
    error: Option<LoadError>,
    parallel: Parallel,
    /// The text was written by one of Vigil's own stages (Parquet): comma-separated, quoted with
    /// `"`, UTF-8, a header row. Nothing is guessed: values quoted with `'` or holding control
    /// characters are values, not a dialect or a binary file.
    written: bool,
}

impl Parser {
    fn new(options: LoadOptions, gzip: bool) -> Self {
        Self { options, gzip, sniff_buf: Vec::new(), utf16: None, json: None, json_out: Vec::new(), body: None, error: None, parallel: Parallel::default(), written: false }
    }

    fn rows_loaded(&self) -> u64 {
        self.body.as_ref().map_or(0, |b| b.rows_read() as u64)
    }

    fn feed(&mut self, chunk: &[u8]) -> Result<(), LoadError> {
        if self.body.is_some() {
            return match &mut self.utf16 {
                Some(utf16) => {
                    let text = utf16.decode(chunk, false);
                    self.feed_decoded(&text)
                }
                None => self.feed_decoded(chunk),
            };
        }
        self.sniff_buf.extend_from_slice(chunk);
        if self.sniff_buf.len() >= self.parallel.sniff_bytes {
            self.start_body(false)?;
        }
        Ok(())
    }

    fn start_body(&mut self, whole_file: bool) -> Result<(), LoadError> {
        let mut buf = std::mem::take(&mut self.sniff_buf);
        if self.written {
            let dialect = Dialect { delimiter: b',', quote: b'"', has_header: true, encoding: TextEncoding::Utf8, bom: false, gzip: false, json: None, others: Vec::new(), workbook: None, parquet: None };
            let mut body = Body::new(dialect, self.options.infer_types);
            body.parallel = self.parallel;
            // The reader knows which values are missing: it writes them empty.
            body.markers = false;
            body.feed(&buf)?;
            self.body = Some(body);
            return Ok(());
        }
        let mut utf16 = Utf16::detect(&buf);
        if let Some(decoder) = &mut utf16 {
            buf = decoder.decode(&buf, whole_file);
        }
        let bom = buf.starts_with(b"\xef\xbb\xbf");
        let text = buf.get(if bom { 3 } else { 0 }..).unwrap_or_default();
        if let Some(shape) = super::json::detect(text) {
            let encoding = utf16.as_ref().map_or(TextEncoding::Utf8, |d| d.encoding);
            let bom = bom || utf16.as_ref().is_some_and(|d| d.bom);
            let dialect = Dialect { delimiter: b',', quote: b'"', has_header: true, encoding, bom, gzip: self.gzip, json: Some(shape), others: Vec::new(), workbook: None, parquet: None };
            let mut body = Body::new(dialect, self.options.infer_types);
            body.parallel = self.parallel;
            let mut json = JsonText::new(shape);
            json.push(text, &mut self.json_out);
            body.feed(&self.json_out)?;
            self.body = Some(body);
            self.json = Some(json);
            self.utf16 = utf16;
            return Ok(());
        }
        let (mut dialect, skip) = sniff(&buf, &self.options, self.gzip, whole_file)?;
        if let Some(decoder) = &utf16 {
            dialect.encoding = decoder.encoding;
            dialect.bom = decoder.bom;
        }
        let mut body = Body::new(dialect, self.options.infer_types);
        body.parallel = self.parallel;
        body.feed(buf.get(skip..).unwrap_or_default())?;
        self.body = Some(body);
        self.utf16 = utf16;
        Ok(())
    }

    fn finish(mut self) -> Result<LoadReport, LoadError> {
        if self.body.is_none() {
            self.start_body(true)?;
        } else if let Some(utf16) = &mut self.utf16 {
            // A last odd byte or lone surrogate becomes U+FFFD, as any decoder would show it.
            let rest = utf16.decode(&[], true);
            self.feed_decoded(&rest)?;
        }
        let Some(mut body) = self.body else { return Err(LoadError::Empty) };
        let Some(mut json) = self.json else { return body.finish() };
        self.json_out.clear();
        json.finish(&mut self.json_out);
        body.feed(&self.json_out)?;
        let set_aside = json.rejected.first().map(|r| (json.rejected_total, format!("line {}: {}", r.line, r.reason)));
        if !json.has_columns() {
            return Err(LoadError::NoRecords { set_aside });
        }
        let (taken, infer_types) = (body.taken, body.infer_types);
        let mut report = body.finish().map_err(|err| match err {
            LoadError::NoRows { .. } => LoadError::NoRecords { set_aside: set_aside.clone() },
            other => other,
        })?;
        json.add_late_columns(&mut report.table, taken, infer_types, &mut report.notices);
        report.notices.extend(json.notices());
        report.rejected = std::mem::take(&mut json.rejected);
        report.rejected_total = json.rejected_total;
        report.text_bytes = json.bytes_read();
        Ok(report)
    }

    /// Text (decoded, if it was UTF-16), to the JSON stage or the body.
    fn feed_decoded(&mut self, text: &[u8]) -> Result<(), LoadError> {
        let Some(body) = &mut self.body else { return Ok(()) };
        match &mut self.json {
            Some(json) => {
                self.json_out.clear();
                json.push(text, &mut self.json_out);
                body.feed(&self.json_out)
            }
            None => body.feed(text),
        }
    }
}

/// A UTF-16 file being decoded to UTF-8 (`encoding_rs`, streaming).
struct Utf16 {
    decoder: encoding_rs::Decoder,
    encoding: TextEncoding,
    bom: bool,
}

impl Utf16 {
    /// UTF-16 by its byte-order mark, or without one when the pattern is unmistakable: of the
    /// first 16 or more code units, at least 90 % have a zero high byte and a non-zero low one
    /// (text in the Latin range), which no UTF-8 or single-byte text has.
    fn detect(sample: &[u8]) -> Option<Self> {
        let with_bom = |encoding: &'static encoding_rs::Encoding, kind| Some(Self { decoder: encoding.new_decoder_with_bom_removal(), encoding: kind, bom: true });
        let without_bom = |encoding: &'static encoding_rs::Encoding, kind| Some(Self { decoder: encoding.new_decoder_without_bom_handling(), encoding: kind, bom: false });
        if sample.starts_with(b"\xff\xfe") && !sample.starts_with(b"\xff\xfe\0\0") {
            return with_bom(encoding_rs::UTF_16LE, TextEncoding::Utf16Le);
        }
        if sample.starts_with(b"\xfe\xff") {
            return with_bom(encoding_rs::UTF_16BE, TextEncoding::Utf16Be);
        }
        let units = sample.len() / 2;
        if units < 16 {
            return None;
        }
        let pairs = sample.chunks_exact(2);
        let little = pairs.clone().filter(|p| matches!(p, [low, 0] if *low != 0)).count();
        let big = pairs.filter(|p| matches!(p, [0, low] if *low != 0)).count();
        if little * 10 >= units * 9 {
            without_bom(encoding_rs::UTF_16LE, TextEncoding::Utf16Le)
        } else if big * 10 >= units * 9 {
            without_bom(encoding_rs::UTF_16BE, TextEncoding::Utf16Be)
        } else {
            None
        }
    }

    /// `bytes` as UTF-8; a code unit cut by the chunk's end waits for the next (or, `last`,
    /// becomes U+FFFD).
    fn decode(&mut self, mut bytes: &[u8], last: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len() * 3 / 2 + 16);
        loop {
            let room = self.decoder.max_utf8_buffer_length(bytes.len()).unwrap_or(bytes.len()).clamp(16, 1 << 22);
            let start = out.len();
            out.resize(start + room, 0);
            let (result, read, written, _) = self.decoder.decode_to_utf8(bytes, out.get_mut(start..).unwrap_or_default(), last);
            out.truncate(start + written);
            bytes = bytes.get(read..).unwrap_or_default();
            if result == encoding_rs::CoderResult::InputEmpty {
                return out;
            }
        }
    }
}

impl Write for Parser {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.feed(buf) {
            Ok(()) => Ok(buf.len()),
            Err(err) => {
                let message = err.to_string();
                self.error = Some(err);
                Err(io::Error::other(message))
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn looks_binary(sample: &[u8]) -> Option<String> {
    if sample.starts_with(b"PK\x03\x04") {
        return Some("it is a ZIP archive; unzip it and open the CSV inside".into());
    }
    if sample.starts_with(b"%PDF") {
        return Some("it is a PDF document".into());
    }
    if sample.starts_with(b"\x89PNG") || sample.starts_with(b"\xff\xd8\xff") || sample.starts_with(b"GIF8") {
        return Some("it is an image".into());
    }
    // Seen only after one gzip layer came off (a file starting so is read as gzip).
    if sample.starts_with(b"\x1f\x8b") {
        return Some("it is compressed twice (gzip inside gzip); decompress it once (gunzip) and open the result".into());
    }
    if sample.starts_with(b"\xff\xfe\0\0") || sample.starts_with(b"\0\0\xfe\xff") {
        return Some("it is UTF-32 text, which Vigil does not read; save it as UTF-8 (or UTF-16)".into());
    }
    let control = sample
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f)
        .count();
    (sample.len() >= 16 && control * 10 > sample.len())
        .then(|| format!("{} % of its first bytes are control characters", control * 100 / sample.len()))
}

/// Record boundaries of `sample` under `delimiter`: field count per complete record.
fn field_counts(sample: &[u8], delimiter: u8, whole_file: bool, max_records: usize) -> Vec<usize> {
    let mut reader = CsvReader::new(delimiter, b'"');
    let mut out = vec![0u8; sample.len().max(1)];
    let mut ends = vec![0usize; 4096];
    let mut counts = Vec::new();
    let mut input = sample;
    loop {
        let (result, nin, _, nend) = reader.read_record(input, &mut out, &mut ends);
        input = input.get(nin..).unwrap_or_default();
        match result {
            ReadRecordResult::Record => {
                counts.push(nend);
                if counts.len() >= max_records {
                    break;
                }
            }
            ReadRecordResult::InputEmpty if input.is_empty() => {
                if !whole_file {
                    break; // the last, partial record does not count
                }
            }
            ReadRecordResult::End | ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => break,
            ReadRecordResult::InputEmpty => {}
        }
    }
    counts
}

/// Fields of the first `max_records` complete records under `delimiter`, as text.
fn sample_records(sample: &[u8], delimiter: u8, quote: u8, whole_file: bool, max_records: usize) -> Vec<Vec<String>> {
    let mut reader = CsvReader::new(delimiter, quote);
    let mut out = vec![0u8; sample.len().max(1)];
    let mut ends = vec![0usize; MAX_COLUMNS.min(8192)];
    let mut records = Vec::new();
    let mut input = sample;
    loop {
        let (result, nin, _, nend) = reader.read_record(input, &mut out, &mut ends);
        input = input.get(nin..).unwrap_or_default();
        match result {
            ReadRecordResult::Record => {
                let mut start = 0;
                let fields = ends
                    .get(..nend)
                    .unwrap_or_default()
                    .iter()
                    .map(|&end| {
                        let field = String::from_utf8_lossy(out.get(start..end).unwrap_or_default()).into_owned();
                        start = end;
                        field
                    })
                    .collect();
                records.push(fields);
                if records.len() >= max_records {
                    break;
                }
            }
            ReadRecordResult::InputEmpty if input.is_empty() && !whole_file => break,
            ReadRecordResult::InputEmpty => {}
            _ => break,
        }
    }
    records
}

/// Chooses encoding, delimiter and header from the start of the text. Returns the dialect
/// and how many leading bytes (a BOM) to skip.
fn sniff(sample: &[u8], options: &LoadOptions, gzip: bool, whole_file: bool) -> Result<(Dialect, usize), LoadError> {
    let bom = sample.starts_with(b"\xef\xbb\xbf");
    let skip = if bom { 3 } else { 0 };
    let text = sample.get(skip..).unwrap_or_default();
    if text.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(LoadError::Empty);
    }
    if let Some(reason) = looks_binary(text) {
        return Err(LoadError::NotText { reason });
    }
    let encoding = match std::str::from_utf8(text) {
        Ok(_) => TextEncoding::Utf8,
        // A multi-byte character cut by the end of the sample is still UTF-8.
        Err(err) if err.error_len().is_none() => TextEncoding::Utf8,
        Err(_) if bom => TextEncoding::Utf8,
        Err(_) => TextEncoding::Windows1252,
    };
    let delimiter = options.delimiter.unwrap_or_else(|| detect_delimiter(text, whole_file));
    let quote = detect_quote(text, delimiter);
    let has_header = options.has_header.unwrap_or_else(|| detect_header(text, delimiter, quote, whole_file));
    Ok((Dialect { delimiter, quote, has_header, encoding, bom, gzip, json: None, others: Vec::new(), workbook: None, parquet: None }, skip))
}

fn detect_delimiter(text: &[u8], whole_file: bool) -> u8 {
    let mut best = (b',', 0.0);
    for delimiter in [b',', b'\t', b';', b'|'] {
        let counts = field_counts(text, delimiter, whole_file, 200);
        let Some(mode) = mode_of(&counts) else { continue };
        if mode < 2 {
            continue;
        }
        let consistent = counts.iter().filter(|&&c| c == mode).count() as f64 / counts.len() as f64;
        // Prefer consistency, then more columns (a comma inside text fields of a TSV gives
        // inconsistent counts and loses).
        let score = consistent * 1000.0 + (mode as f64).min(999.0);
        if score > best.1 {
            best = (delimiter, score);
        }
    }
    best.0
}

/// `'` when single quotes open and close fields more often than double quotes do (a quote
/// right after a delimiter or line start, and one right before a delimiter or line end).
fn detect_quote(text: &[u8], delimiter: u8) -> u8 {
    let fences = |quote: u8| {
        text.windows(2)
            .filter(|w| {
                let opens = matches!(w, [a, b] if (*a == delimiter || *a == b'\n') && *b == quote);
                let closes = matches!(w, [a, b] if *a == quote && (*b == delimiter || *b == b'\n' || *b == b'\r'));
                opens || closes
            })
            .count()
    };
    let single = fences(b'\'');
    if single > 0 && single > fences(b'"') * 2 {
        b'\''
    } else {
        b'"'
    }
}

fn mode_of(counts: &[usize]) -> Option<usize> {
    let mut tally: Vec<(usize, usize)> = Vec::new();
    for &count in counts {
        match tally.iter_mut().find(|(value, _)| *value == count) {
            Some((_, n)) => *n += 1,
            None => tally.push((count, 1)),
        }
    }
    tally.into_iter().max_by_key(|&(value, n)| (n, value)).map(|(value, _)| value)
}

/// A header is assumed unless the first row's cells read as the same kinds of values as the
/// rest of their columns (numbers, dates, booleans) and none reads as a title of a typed column.
fn detect_header(text: &[u8], delimiter: u8, quote: u8, whole_file: bool) -> bool {
    let records = sample_records(text, delimiter, quote, whole_file, 50);
    let Some((first, rest)) = records.split_first() else { return true };
    if rest.is_empty() {
        return true;
    }
    let mut evidence = 0i32;
    for (col_idx, head) in first.iter().enumerate() {
        let values: Vec<&str> = rest
            .iter()
            .filter_map(|r| r.get(col_idx))
            .map(String::as_str)
            .filter(|t| !is_missing(t))
            .collect();
        let inferred = infer_column("", &values);
        if inferred == Inferred::Strings || is_missing(head) {
            continue;
        }
        if infer_column("", &[head.as_str()]) == inferred
            || (inferred == Inferred::Float && infer_column("", &[head.as_str()]) == Inferred::Integer)
        {
            evidence -= 1;
        } else {
            evidence += 1;
        }
    }
    evidence >= 0
}

enum Phase {
    Sampling { rows: SampleRows, limit: usize },
    Building(Vec<ColumnBuilder>),
}

/// The rows read for type inference, kept flat: their fields' text one after the other, and
/// where each field ends. (A `String` per field made the 10,000 rows of the 200 MB demo's sample
/// cost about 30 ms natively, 3 µs a row against 0.4 µs once the types were known: a quarter
/// million allocations, freed again, and read column by column.)
#[derive(Default)]
struct SampleRows {
    text: String,
    ends: Vec<usize>,
    /// Fields per row: the header's width (a row of another width is rejected before it is
    /// sampled).
    width: usize,
    rows: usize,
}

impl SampleRows {
    fn push_field(&mut self, field: &str) {
        self.text.push_str(field);
        self.ends.push(self.text.len());
    }

    /// Ends the row whose fields were pushed since the last one.
    fn end_row(&mut self) {
        self.rows += 1;
    }

    fn len(&self) -> usize {
        self.rows
    }

    fn field(&self, index: usize) -> &str {
        let start = index.checked_sub(1).and_then(|before| self.ends.get(before)).copied().unwrap_or(0);
        let end = self.ends.get(index).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or_default()
    }

    /// Column `column`'s fields, row by row.
    fn column(&self, column: usize) -> impl Iterator<Item = &str> {
        let width = self.width.max(1);
        (0..self.rows).map(move |row| self.field(row * width + column))
    }

    /// Row `row`'s fields.
    fn row(&self, row: usize) -> impl Iterator<Item = &str> {
        let width = self.width.max(1);
        (row * width..(row + 1) * width).map(move |index| self.field(index))
    }
}

thread_local! {
    /// Readers of [`CsvReader`]s dropped on this thread, by delimiter and quote, for the next.
    static CSV_READERS: std::cell::RefCell<Vec<((u8, u8), csv_core::Reader)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Readers kept per thread: one per part of a block at most, and the sniffer's few.
const KEPT_CSV_READERS: usize = 16;

/// csv-core's reader for a delimiter and quote, as if new. Building one computes its transition
/// tables, and csv-core's `Clone` leaves them out, so a reader that is dropped goes back to its
/// thread's pool and the next one for the same dialect is that reader, reset. (A load makes
/// readers for the sniffer's candidates and for every part of a file parsed in parts; in the
/// fuzz target, whose parts are a few bytes, building them was two thirds of the time.)
struct CsvReader {
    dialect: (u8, u8),
    reader: Option<csv_core::Reader>,
}

impl CsvReader {
    fn new(delimiter: u8, quote: u8) -> Self {
        let dialect = (delimiter, quote);
        let kept = CSV_READERS.with_borrow_mut(|kept| kept.iter().position(|(d, _)| *d == dialect).map(|i| kept.swap_remove(i).1));
        let reader = match kept {
            Some(mut reader) => {
                reader.reset();
                reader
            }
            None => ReaderBuilder::new().delimiter(delimiter).quote(quote).build(),
        };
        Self { dialect, reader: Some(reader) }
    }
}

impl Drop for CsvReader {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            // `try_with`: a thread's pool may be gone while its other thread-locals are dropped.
            let _ = CSV_READERS.try_with(|kept| {
                if let Ok(mut kept) = kept.try_borrow_mut() {
                    if kept.len() < KEPT_CSV_READERS {
                        kept.push((self.dialect, reader));
                    }
                }
            });
        }
    }
}

impl std::ops::Deref for CsvReader {
    type Target = csv_core::Reader;
    fn deref(&self) -> &csv_core::Reader {
        // Only `drop` takes the reader out.
        self.reader.as_ref().unwrap_or_else(|| unreachable!("a CsvReader keeps its reader until dropped"))
    }
}

impl std::ops::DerefMut for CsvReader {
    fn deref_mut(&mut self) -> &mut csv_core::Reader {
        self.reader.as_mut().unwrap_or_else(|| unreachable!("a CsvReader keeps its reader until dropped"))
    }
}

struct Body {
    dialect: Dialect,
    infer_types: bool,
    /// The usual missing markers apply ("NA", "null"…); not to text a reader wrote, where
    /// only an empty cell is missing (see [`ColumnBuilder::without_markers`]).
    markers: bool,
    reader: CsvReader,
    out: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    ends_len: usize,
    oversized: bool,
    record_line: u64,
    record_byte: u64,
    /// `\r` not followed by `\n` (old Mac line ends): csv-core counts only `\n` as lines.
    lone_crs: u64,
    /// The last byte consumed was `\r`; whether it is lone depends on the next byte.
    pending_cr: bool,
    bytes_consumed: u64,
    header: Option<Vec<String>>,
    phase: Phase,
    rows: usize,
    /// Rows already handed out by [`Body::take_rows`].
    taken: usize,
    rejected: Vec<RejectedRow>,
    rejected_total: u64,
    notices: Vec<String>,
    invalid_utf8_fields: u64,
    /// Lines this reader did not count: blank lines skipped between records, and the lines of
    /// parts parsed by other readers and absorbed ([`Body::absorb`]).
    line_offset: u64,
    /// The last record has ended and the next has not begun: the reader is where a fresh one
    /// would be, so the bytes that follow may be parsed by another.
    between_records: bool,
    /// Threads that may parse parts of the file at once (1: all on this one).
    parallel: Parallel,
    /// Text waiting to be parsed in parts.
    pending: Vec<u8>,
    /// Readers of parts already absorbed, empty, kept for the next block.
    spare: Vec<Body>,
    /// Parts parsed on other threads that start where the text before them stopped, in order,
    /// not yet absorbed: each is absorbed while the next block's parts are being parsed
    /// ([`Body::parse_block`]), so that copying its columns is not time the other threads wait.
    /// Anything that reads or adds rows absorbs them first ([`Body::absorb_waiting`]).
    waiting: Vec<Body>,
    /// Text waiting for helpers, in order ([`TableLoader::with_helpers`]).
    deferred: std::collections::VecDeque<Deferred>,
    /// Bytes of text in blocks handed out ([`TableLoader::next_block`]) and not merged yet.
    sent_bytes: u64,
    /// Lines of the text [`Body::feed_serial`] reads, split and waiting to be pushed into the
    /// columns a column at a time ([`Body::push_lines`]).
    lines: LineBatch,
}

/// Unquoted lines of the header's width, in the text being read, that go to the columns
/// together: a column's cells of a few hundred lines are pushed in one run
/// ([`ColumnBuilder::push_cells`]) instead of a row's cells one column after another, which
/// measured faster (the type is matched once a run, and each column's buffers and dictionary
/// stay in the cache while it is filled).
#[derive(Debug, Default)]
struct LineBatch {
    /// Where each line starts in the text.
    starts: Vec<usize>,
    /// Where each field of each line ends in the text, a line's fields after the other's.
    ends: Vec<usize>,
}

/// Fields a [`LineBatch`] holds before its lines are pushed.
const BATCH_FIELDS: usize = 8192;

/// Text whose parsing waits for helpers ([`Parallel::outside`]).
enum Deferred {
    /// A block to parse in parts, and whether it ends the file.
    Block(Vec<u8>, bool),
    /// Text parsed here on one reader (a line longer than two blocks; the end of the file).
    Serial(Vec<u8>),
}

impl Body {
    fn new(dialect: Dialect, infer_types: bool) -> Self {
        let mut reader = CsvReader::new(dialect.delimiter, dialect.quote);
        // csv-core drops a BOM at the start of its input, which need not be the file's (the
        // sniffer drops that one): its first read is of nothing.
        let _ = reader.read_record(&[], &mut [], &mut []);
        Self {
            dialect,
            infer_types,
            markers: true,
            reader,
            out: vec![0; 64 * 1024],
            ends: vec![0; 256],
            out_len: 0,
            ends_len: 0,
            oversized: false,
            record_line: 1,
            record_byte: 0,
            lone_crs: 0,
            pending_cr: false,
            bytes_consumed: 0,
            header: None,
            phase: Phase::Sampling { rows: SampleRows::default(), limit: SAMPLE_ROWS },
            rows: 0,
            taken: 0,
            rejected: Vec::new(),
            rejected_total: 0,
            notices: Vec::new(),
            invalid_utf8_fields: 0,
            line_offset: 0,
            between_records: true,
            parallel: Parallel::default(),
            pending: Vec::new(),
            spare: Vec::new(),
            waiting: Vec::new(),
            deferred: std::collections::VecDeque::new(),
            sent_bytes: 0,
            lines: LineBatch::default(),
        }
    }

    fn feed(&mut self, mut input: &[u8]) -> Result<(), LoadError> {
        if self.parallel.threads < 2 && !self.parallel.outside {
            return self.feed_serial(input);
        }
        if !input.is_empty() {
            // While the sample for types is read, a line at a time: the text after the sample's
            // last row goes to the parallel path.
            while matches!(self.phase, Phase::Sampling { .. }) && !input.is_empty() {
                let line = memchr::memchr(b'\n', input).map_or(input.len(), |at| at + 1);
                let (head, rest) = input.split_at(line);
                self.feed_serial(head)?;
                input = rest;
            }
            if input.is_empty() {
                return Ok(());
            }
        }
        match self.phase {
            Phase::Building(_) => self.feed_parallel(input),
            Phase::Sampling { .. } => self.feed_serial(input),
        }
    }

    fn feed_serial(&mut self, text: &[u8]) -> Result<(), LoadError> {
        let read = self.read_serial(text);
        // Lines waiting in the batch are all before where reading stopped, an error included.
        self.push_lines(text);
        read
    }

    /// [`Body::feed_serial`], but lines of the fast path may wait in [`Body::lines`].
    fn read_serial(&mut self, text: &[u8]) -> Result<(), LoadError> {
        self.absorb_waiting();
        let mut input = text;
        let at_end = input.is_empty();
        loop {
            if self.between_records {
                // Blank lines between records: csv-core skips them without a record, so they
                // are counted here, and the next record's line is where it starts.
                let blank = input.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
                let (skipped, rest) = input.split_at(blank);
                self.count_lone_crs(skipped);
                self.line_offset += memchr::memchr_iter(b'\n', skipped).count() as u64;
                self.bytes_consumed += blank as u64;
                input = rest;
                if !input.is_empty() {
                    self.between_records = false;
                    self.record_line = self.lines_consumed() + 1 + u64::from(self.pending_cr);
                    self.record_byte = self.bytes_consumed;
                    if let Some((length, batched)) = self.split_unquoted(input, text.len() - input.len()) {
                        // The line holds no `\r` but the one of a `\r\n` end (the scan stops at the
                        // first), and is not blank: only a `\r` just before it can be lone.
                        self.lone_crs += u64::from(self.pending_cr);
                        self.pending_cr = false;
                        let rest = input.get(length..).unwrap_or_default();
                        self.line_offset += 1;
                        self.bytes_consumed += length as u64;
                        input = rest;
                        if !batched || self.lines.ends.len() >= BATCH_FIELDS {
                            self.push_lines(text);
                        }
                        if !batched {
                            self.handle_record()?;
                        }
                        self.out_len = 0;
                        self.ends_len = 0;
                        self.between_records = true;
                        continue;
                    }
                }
            }
            let out = self.out.get_mut(self.out_len..).unwrap_or_default();
            let ends = self.ends.get_mut(self.ends_len..).unwrap_or_default();
            let (result, nin, nout, nend) = self.reader.read_record(input, out, ends);
            self.count_lone_crs(input.get(..nin).unwrap_or_default());
            input = input.get(nin..).unwrap_or_default();
            self.bytes_consumed += nin as u64;
            self.out_len += nout;
            self.ends_len += nend;
            match result {
                ReadRecordResult::InputEmpty => {
                    if input.is_empty() && !at_end {
                        return Ok(());
                    }
                }
                ReadRecordResult::OutputFull => {
                    if self.out.len() >= MAX_RECORD_BYTES {
                        // Keep reading to the end of the record, discarding its bytes.
                        self.oversized = true;
                        self.out_len = 0;
                    } else {
                        self.out.resize(self.out.len() * 2, 0);
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() > MAX_COLUMNS {
                        self.oversized = true;
                        self.ends_len = 0;
                    } else {
                        self.ends.resize(self.ends.len() * 2, 0);
                    }
                }
                ReadRecordResult::Record => {
                    self.push_lines(text);
                    self.handle_record()?;
                    self.out_len = 0;
                    self.ends_len = 0;
                    self.oversized = false;
                    self.between_records = true;
                }
                ReadRecordResult::End => return Ok(()),
            }
        }
    }

    /// The fast path for most records: a whole line of `input` without a quote, split at its
    /// delimiters in one pass ([`scan_line`]) rather than read byte by byte. Returns the line's
    /// length with its `\n` or `\r\n`, and whether its row is taken care of: a row of the
    /// header's width, in valid UTF-8, while columns are built, waits with the lines around it
    /// to go to the builders ([`Body::batch_line`]; `input` is at `at` in the text); any other
    /// line fills `out` and `ends` as csv-core would, for [`Body::handle_record`]. `None` leaves the record to csv-core (a quote, a lone
    /// `\r`, a line not yet whole, or one larger than the buffers).
    fn split_unquoted(&mut self, input: &[u8], at: usize) -> Option<(usize, bool)> {
        let scan = scan_line(input, self.dialect.delimiter, self.dialect.quote, &mut self.ends, self.out.len())?;
        let (end, fields) = (scan.stop, scan.fields);
        let length = match (input.get(end), input.get(end + 1)) {
            (Some(b'\n'), _) => end + 1,
            (Some(b'\r'), Some(b'\n')) => end + 2,
            _ => return None,
        };
        let line = input.get(..end)?;
        // A line longer than the record buffer goes to csv-core, which grows the buffer or
        // rejects the record as oversized.
        if line.len() > self.out.len() {
            return None;
        }
        if self.batch_line(line, at, fields, scan.ascii) {
            return Some((length, true));
        }
        // As csv-core writes a record: the fields one after another, and where each ends.
        let mut start = 0;
        for index in 0..fields {
            let field_end = *self.ends.get(index)?;
            let field = line.get(start..field_end)?;
            let written = start - index;
            self.out.get_mut(written..written + field.len())?.copy_from_slice(field);
            *self.ends.get_mut(index)? = written + field.len();
            start = field_end + 1;
        }
        self.out_len = line.len() + 1 - fields;
        self.ends_len = fields;
        Some((length, false))
    }

    /// Adds an unquoted `line`, at `at` in the text, whose `fields` end where `ends` says, to
    /// the lines waiting for the columns ([`Body::push_lines`]), when that is all
    /// [`Body::handle_record`] would do with it: columns are being built, the line has the
    /// header's width and is valid UTF-8 (`ascii` when it is known to be ASCII). Returns whether
    /// it did.
    fn batch_line(&mut self, line: &[u8], at: usize, fields: usize, ascii: bool) -> bool {
        let (Phase::Building(builders), Some(header)) = (&self.phase, &self.header) else {
            return false;
        };
        // Fields of valid UTF-8 split at an ASCII delimiter are valid too; ASCII is read the
        // same in every encoding the loader knows.
        let utf8 = (ascii || self.dialect.encoding.parsed_as_utf8()) && self.dialect.delimiter.is_ascii();
        if fields != header.len() || fields != builders.len() || !utf8 || fields == 0 {
            return false;
        }
        let Some(ends) = self.ends.get(..fields) else { return false };
        if !ascii && std::str::from_utf8(line).is_err() {
            return false;
        }
        self.rows += 1;
        self.lines.starts.push(at);
        self.lines.ends.extend(ends.iter().map(|end| at + end));
        true
    }

    /// Pushes the lines waiting in [`Body::lines`], read from `text`, into the columns, a
    /// column at a time.
    fn push_lines(&mut self, text: &[u8]) {
        let lines = &mut self.lines;
        let (Some(&from), Some(&to), Phase::Building(builders)) = (lines.starts.first(), lines.ends.last(), &mut self.phase) else {
            lines.starts.clear();
            lines.ends.clear();
            return;
        };
        let fields = builders.len().max(1);
        // The lines and what lies between them (line ends, blank lines) are valid UTF-8: each
        // line was checked, or known to be ASCII, when it was batched.
        let bytes = text.get(from..to).unwrap_or_default();
        let region = std::str::from_utf8(bytes);
        for (column, builder) in builders.iter_mut().enumerate() {
            let spans = lines.starts.iter().zip(lines.ends.chunks_exact(fields)).map(|(&start, ends)| {
                let begin = match column.checked_sub(1) {
                    Some(before) => ends.get(before).map_or(start, |end| end + 1),
                    None => start,
                };
                (begin.saturating_sub(from), ends.get(column).map_or(begin, |&end| end).saturating_sub(from))
            });
            match &region {
                Ok(region) => builder.push_cells(spans.map(|(begin, end)| region.get(begin..end).unwrap_or_default())),
                // Not reached (see above); decoded cell by cell rather than trusted.
                Err(_) => {
                    for (begin, end) in spans {
                        builder.push(&String::from_utf8_lossy(bytes.get(begin..end).unwrap_or_default()));
                    }
                }
            }
        }
        lines.starts.clear();
        lines.ends.clear();
    }

    /// Lines of text consumed so far (csv-core counts lines from 1, by `\n`; a `\r` whose
    /// next byte is not yet known is not counted).
    fn lines_consumed(&self) -> u64 {
        self.line_offset + self.reader.line().saturating_sub(1) + self.lone_crs
    }

    /// Feeds `input` a line at a time until a record ends with a line: returns the bytes fed
    /// (all of them when no record ends at a line end in `input`).
    fn feed_to_boundary(&mut self, input: &[u8]) -> Result<usize, LoadError> {
        let mut fed = 0;
        while fed < input.len() {
            let rest = input.get(fed..).unwrap_or_default();
            let line = memchr::memchr(b'\n', rest).map_or(rest.len(), |at| at + 1);
            self.feed_serial(rest.get(..line).unwrap_or_default())?;
            fed += line;
            if self.between_records && rest.get(line - 1) == Some(&b'\n') {
                break;
            }
        }
        Ok(fed)
    }

    /// The parallel path: text is gathered into blocks of a few MiB per thread, each parsed in
    /// parts at once ([`Body::parse_block`]). A block ends at its last line end (the rest waits
    /// for the next); the last block of the file is all that is left. Each byte is copied once,
    /// into the block it belongs to: a block waiting for helpers is the gathered text itself
    /// (copying the input into a buffer and then each block out of it was 8 % of the table
    /// worker's time with one helper, in Chromium's profile of the 200 MB demo).
    fn feed_parallel(&mut self, mut input: &[u8]) -> Result<(), LoadError> {
        let at_end = input.is_empty();
        let block_bytes = self.parallel.block_bytes * self.parallel.threads;
        loop {
            // The gathered text topped up to a block.
            let (head, rest) = input.split_at(block_bytes.saturating_sub(self.pending.len()).min(input.len()));
            self.pending.extend_from_slice(head);
            input = rest;
            let gathered = self.pending.len();
            if gathered == 0 || (!at_end && gathered < block_bytes) {
                break;
            }
            let usable = if at_end && gathered <= block_bytes {
                gathered
            } else if let Some(at) = self.pending.get(..block_bytes).and_then(|head| memchr::memrchr(b'\n', head)) {
                at + 1
            } else {
                // A line longer than a block: the rest of the input joins it.
                self.pending.extend_from_slice(input);
                input = &[];
                if let Some(at) = memchr::memchr(b'\n', &self.pending) {
                    at + 1 // a line longer than a block is a block
                } else if at_end {
                    self.pending.len()
                } else {
                    if self.pending.len() > 2 * block_bytes {
                        // No line end in two blocks' worth: csv-core reads it with bounded memory.
                        let text = std::mem::take(&mut self.pending);
                        self.serial_in_turn(&text)?;
                    }
                    break;
                }
            };
            let ends_file = at_end && usable == self.pending.len();
            let mut block = std::mem::take(&mut self.pending);
            if self.parallel.outside {
                // The block keeps the gathered text's buffer; what follows its last line end
                // starts the next.
                self.pending = Vec::with_capacity(block_bytes);
                self.pending.extend_from_slice(block.get(usable..).unwrap_or_default());
                block.truncate(usable);
                self.deferred.push_back(Deferred::Block(block, ends_file));
            } else {
                let parsed = self.parse_block(block.get(..usable).unwrap_or_default(), ends_file);
                block.drain(..usable.min(block.len()));
                self.pending = block;
                parsed?;
            }
        }
        if at_end {
            self.serial_in_turn(&[])?;
        }
        Ok(())
    }

    /// Parses `text` on this reader, after any text waiting for helpers.
    fn serial_in_turn(&mut self, text: &[u8]) -> Result<(), LoadError> {
        if self.parallel.outside {
            self.deferred.push_back(Deferred::Serial(text.to_vec()));
            Ok(())
        } else {
            self.feed_serial(text)
        }
    }

    /// The next block waiting for helpers (see [`TableLoader::next_block`]).
    fn next_block(&mut self, in_flight: bool) -> Result<Option<Block>, LoadError> {
        while let Some(deferred) = self.deferred.front() {
            if in_flight && matches!(deferred, Deferred::Serial(_)) {
                return Ok(None);
            }
            match self.deferred.pop_front() {
                None => break,
                Some(Deferred::Serial(text)) => self.feed_serial(&text)?,
                Some(Deferred::Block(text, at_end)) => {
                    self.sent_bytes += text.len() as u64;
                    let spans = self.plan_spans(&text, self.parallel.threads);
                    let mut w = Writer::default();
                    let fork = self.fork();
                    fork.encode(&mut w);
                    self.spare.push(fork);
                    return Ok(Some(Block { text, spans, at_end, fork: w.bytes }));
                }
            }
        }
        Ok(None)
    }

    /// Bytes of text read and not parsed yet: gathering into a block, waiting for helpers, or
    /// at them.
    fn text_waiting(&self) -> u64 {
        let deferred: usize = self.deferred.iter().map(|(Deferred::Block(text, _) | Deferred::Serial(text))| text.len()).sum();
        (self.pending.len() + deferred) as u64 + self.sent_bytes
    }

    /// Parses here, in turn, the text still waiting for helpers.
    fn run_deferred_here(&mut self) -> Result<(), LoadError> {
        while let Some(deferred) = self.deferred.pop_front() {
            match deferred {
                Deferred::Serial(text) => self.feed_serial(&text)?,
                Deferred::Block(text, at_end) => self.parse_block(&text, at_end)?,
            }
        }
        Ok(())
    }

    /// Parses `block` in parts, and absorbs them in order.
    ///
    /// Parts start after a line end near an equal share of the block: a guess, since the line
    /// end may sit inside a quoted field. Each part reads the records that start in its share and
    /// keeps reading to the end of the last one, so each knows exactly where it stopped. This
    /// reader parses the first part itself, continuing the record it may be inside (and its
    /// columns need no copy); a later part whose guess differs from where the one before it
    /// stopped is parsed again from there, serially (rare, and what it costs is one part).
    fn parse_block(&mut self, block: &[u8], at_end: bool) -> Result<(), LoadError> {
        if !(self.parallel.one_thread || self.parallel.outside) {
            return self.parse_block_on_threads(block, at_end);
        }
        let spans = self.plan_spans(block, self.parallel.threads);
        let forks: Vec<(usize, usize, Body)> = spans.iter().skip(1).map(|&(start, stop)| (start, stop, self.fork())).collect();
        let first_stop = spans.first().map_or(block.len(), |&(_, stop)| stop);
        let first = self.parse_span(block, 0, first_stop);
        let parts: Vec<Option<Part>> = forks.into_iter().map(|(start, stop, fork)| fork.parse_part(block, start, stop, at_end).ok()).collect();
        self.merge_parts(block, spans.get(1..).unwrap_or_default(), first?, parts, false)
    }

    /// [`Body::parse_block`] on threads (rayon's pool; this reader parses on the calling thread,
    /// `in_place_scope`): the block is cut into [`PARTS_PER_THREAD`] parts a
    /// thread. This reader takes them from the front, each continuing its own columns (no copy),
    /// while the other threads take them from the back, each into a fork of its own; they meet
    /// wherever their speeds take them, so no thread waits for another more than a part. The
    /// forks' parts wait in [`Body::waiting`] and are absorbed while the next block is parsed
    /// (a fixed share of each block left one thread waiting for the other about a tenth of the
    /// load: the threads do not parse at the same speed, and absorbing takes this one time).
    fn parse_block_on_threads(&mut self, block: &[u8], at_end: bool) -> Result<(), LoadError> {
        use std::sync::{Mutex, MutexGuard, PoisonError};
        fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
            mutex.lock().unwrap_or_else(PoisonError::into_inner)
        }
        let spans = self.plan_spans(block, self.parallel.threads * PARTS_PER_THREAD);
        let count = spans.len();
        // The parts not taken yet: from the first to before the second.
        let untaken = Mutex::new((1, count));
        let take_front = || {
            let mut untaken = lock(&untaken);
            (untaken.0 < untaken.1).then(|| {
                untaken.0 += 1;
                untaken.0 - 1
            })
        };
        let take_back = || {
            let mut untaken = lock(&untaken);
            (untaken.0 < untaken.1).then(|| {
                untaken.1 -= 1;
                untaken.1
            })
        };
        let forks: Vec<Mutex<Option<Body>>> = (1..count).map(|_| Mutex::new(Some(self.fork()))).collect();
        let spans = &spans;
        let results: Mutex<Vec<(usize, Option<Part>)>> = Mutex::new(Vec::new());
        let parsed = rayon::in_place_scope(|scope| {
            let take_back = &take_back;
            let forks = &forks;
            let results = &results;
            // (No more threads than parts after the first: a tiny block starts none.)
            for _ in 1..self.parallel.threads.min(count) {
                scope.spawn(move |_| {
                    let mut done = Vec::new();
                    while let Some(index) = take_back() {
                        let fork = index.checked_sub(1).and_then(|at| forks.get(at)).and_then(|fork| lock(fork).take());
                        if let (Some(fork), Some(&(start, stop))) = (fork, spans.get(index)) {
                            done.push((index, fork.parse_part(block, start, stop, at_end).ok()));
                        }
                    }
                    lock(results).extend(done);
                });
            }
            // The last block's parts, while the threads parse this one's.
            self.absorb_waiting();
            let mut parsed = self.parse_span(block, 0, spans.first().map_or(block.len(), |&(_, stop)| stop));
            while let Ok(at) = parsed {
                let Some(&(_, stop)) = take_front().and_then(|index| spans.get(index)) else { break };
                // (Past its end already when a record ran on through the part.)
                if at < stop {
                    parsed = self.parse_span(block, at, stop);
                }
            }
            if parsed.is_err() {
                // The text has an error: the threads stop after the part they are at.
                let mut untaken = lock(&untaken);
                untaken.1 = untaken.0;
            }
            parsed
        });
        let mut done = results.into_inner().unwrap_or_else(PoisonError::into_inner);
        let parsed = parsed?;
        // This reader took the parts before `front`, the other threads those from it on.
        let front = lock(&untaken).0;
        for fork in forks.iter().take(front.saturating_sub(1)) {
            if let Some(fork) = lock(fork).take() {
                self.spare.push(fork);
            }
        }
        done.sort_unstable_by_key(|&(index, _)| index);
        let mut done = done.into_iter().peekable();
        let parts: Vec<Option<Part>> = (front..count).map(|index| done.next_if(|&(at, _)| at == index).and_then(|(_, part)| part)).collect();
        self.merge_parts(block, spans.get(front..).unwrap_or_default(), parsed, parts, true)
    }

    /// Where each of `parts` equal parts of `block` starts and ends (fewer when the block has
    /// too few line ends).
    fn plan_spans(&self, block: &[u8], parts: usize) -> Vec<(usize, usize)> {
        let mut starts = vec![0];
        for k in 1..parts {
            // (In 64 bits: a block times the parts overflows a 32-bit size in the worker.)
            let nominal = (block.len() as u64 * k as u64 / parts as u64) as usize;
            let from = nominal.saturating_sub(1);
            let Some(at) = block.get(from..).and_then(|rest| memchr::memchr(b'\n', rest)) else { break };
            let start = from + at + 1;
            if start > starts.last().copied().unwrap_or(0) && start < block.len() {
                starts.push(start);
            }
        }
        starts.iter().enumerate().map(|(k, &start)| (start, starts.get(k + 1).copied().unwrap_or(block.len()))).collect()
    }

    /// Puts the parts of `block` for `spans` (each part parsed by a fork; the text before them
    /// parsed here to `parsed`), in order: a part that starts where the text before it stopped
    /// is absorbed; one that does not (its start was a guess inside a quoted field), or that
    /// failed (`None`: its error, if the text has one, is met again here), is parsed again here
    /// from there. With `wait`, the parts that fit are left in [`Body::waiting`] (absorbed
    /// while the next block is parsed) rather than absorbed now.
    fn merge_parts(&mut self, block: &[u8], spans: &[(usize, usize)], mut parsed: usize, parts: Vec<Option<Part>>, wait: bool) -> Result<(), LoadError> {
        for (part, &(start, stop)) in parts.into_iter().zip(spans) {
            if parsed >= stop {
                continue; // within a record the part before read to its end
            }
            match part {
                Some(Part { body, end: Some(end) }) if start == parsed => {
                    match body {
                        PartBody::Fork(body) if wait => self.waiting.push(body),
                        PartBody::Fork(body) => self.absorb(body),
                        PartBody::Sent(body) => self.absorb_sent(body),
                    }
                    parsed = end;
                }
                part => {
                    if let Some(Part { body: PartBody::Fork(body), .. }) = part {
                        self.recycle(body);
                    }
                    parsed = self.parse_span(block, parsed, stop)?;
                }
            }
        }
        Ok(())
    }

    /// Reads the records of `block` that start in `start..stop` (and the end of one begun
    /// before `start`), the last one to its end even past `stop`; returns where it stopped (the
    /// block's end when the block ends inside that record).
    fn parse_span(&mut self, block: &[u8], start: usize, stop: usize) -> Result<usize, LoadError> {
        if stop > start {
            // (An empty input would tell csv-core the text has ended.)
            self.feed_serial(block.get(start..stop).unwrap_or_default())?;
        }
        let ended_at_line = stop > start && block.get(stop - 1) == Some(&b'\n');
        if self.between_records && ended_at_line {
            return Ok(stop);
        }
        Ok(stop + self.feed_to_boundary(block.get(stop..).unwrap_or_default())?)
    }

    /// A reader for a later part of the same text, with empty columns of the same types.
    fn fork(&mut self) -> Body {
        if let Some(spare) = self.spare.pop() {
            return spare;
        }
        let mut fork = Body::new(self.dialect.clone(), self.infer_types);
        fork.markers = self.markers;
        fork.header = self.header.clone();
        if let Phase::Building(builders) = &self.phase {
            fork.phase = Phase::Building(builders.iter().map(ColumnBuilder::fork).collect());
        }
        fork
    }

    /// [`Body::parse_span`] by a fork: the part's `end` is where it stopped, or `None` when the
    /// block ended inside its last record (only before the end of the file).
    fn parse_part(mut self, block: &[u8], start: usize, stop: usize, at_end: bool) -> Result<Part<'static>, LoadError> {
        let end = self.parse_span(block, start, stop)?;
        if at_end && end == block.len() {
            self.feed_serial(&[])?;
            return Ok(Part { body: PartBody::Fork(self), end: Some(end) });
        }
        let complete = self.between_records && end > start && block.get(end - 1) == Some(&b'\n');
        Ok(Part { body: PartBody::Fork(self), end: complete.then_some(end) })
    }

    /// Absorbs the parts waiting ([`Body::waiting`]), in order.
    fn absorb_waiting(&mut self) {
        for part in std::mem::take(&mut self.waiting) {
            self.absorb(part);
        }
    }

    /// Rows read, with those of parts waiting to be absorbed.
    fn rows_read(&self) -> usize {
        self.rows + self.waiting.iter().map(|part| part.rows).sum::<usize>()
    }

    /// Bytes of text parsed, with those of parts waiting to be absorbed.
    fn bytes_parsed(&self) -> u64 {
        self.bytes_consumed + self.waiting.iter().map(|part| part.bytes_consumed).sum::<u64>()
    }

    /// Puts a part parsed by a [`Body::fork`] of this reader, which starts where this one
    /// stopped, after what this one read. The part's columns are moved out; its reader is kept
    /// (with their room) for the next block's part, so a block's columns do not fault fresh
    /// pages in.
    fn absorb(&mut self, mut part: Body) {
        let lines = part.lines_consumed();
        let rejected = std::mem::take(&mut part.rejected);
        self.add_counts(lines, rejected, (part.rejected_total, part.invalid_utf8_fields), part.bytes_consumed, part.rows);
        if let (Phase::Building(builders), Phase::Building(more)) = (&mut self.phase, &mut part.phase) {
            for (builder, more) in builders.iter_mut().zip(more) {
                builder.append(more);
            }
        }
        self.recycle(part);
    }

    /// Puts a part a helper parsed (read from its answer by [`Body::decode_part`]), which
    /// starts where this one stopped, after what this one read: its columns are copied once,
    /// from the answer's bytes.
    fn absorb_sent(&mut self, part: SentBody<'_>) {
        self.add_counts(part.lines_consumed, part.rejected, (part.rejected_total, part.invalid_utf8_fields), part.bytes_consumed, part.rows);
        if let Phase::Building(builders) = &mut self.phase {
            for (builder, more) in builders.iter_mut().zip(part.columns) {
                builder.append_sent(more);
            }
        }
    }

    /// Counts a later part's lines, rejected rows (on their lines and at their byte offsets in
    /// the whole text), rejected and invalid cells, bytes and rows after these.
    fn add_counts(&mut self, lines: u64, rejected: Vec<RejectedRow>, (rejected_total, invalid_utf8_fields): (u64, u64), bytes: u64, rows: usize) {
        let lines_before = self.lines_consumed();
        let bytes_before = self.bytes_consumed;
        self.line_offset += lines;
        let room = MAX_REJECTED_KEPT.saturating_sub(self.rejected.len());
        self.rejected.extend(rejected.into_iter().take(room).map(|row| RejectedRow {
            line: row.line + lines_before,
            byte_offset: row.byte_offset + bytes_before,
            ..row
        }));
        self.rejected_total += rejected_total;
        self.invalid_utf8_fields += invalid_utf8_fields;
        self.bytes_consumed += bytes;
        self.rows += rows;
    }

    /// The reader as bytes ([`super::wire`]): what a part's reader needs to go on (the
    /// dialect, the header, its columns, where it stopped and what it set aside); not the
    /// state of a record begun (a part is sent between records).
    fn encode(&self, w: &mut Writer) {
        w.bytes(&rmp_serde::to_vec(&self.dialect).unwrap_or_default());
        w.bool(self.infer_types);
        w.bool(self.markers);
        let header = self.header.as_deref().unwrap_or_default();
        w.bool(self.header.is_some());
        w.usize(header.len());
        for name in header {
            w.str(name);
        }
        w.usize(self.rows);
        w.u64(self.bytes_consumed);
        w.u64(self.lines_consumed());
        w.u64(self.rejected_total);
        w.u64(self.invalid_utf8_fields);
        w.bool(self.between_records);
        w.bytes(&rmp_serde::to_vec(&self.rejected).unwrap_or_default());
        let builders: &[ColumnBuilder] = match &self.phase {
            Phase::Building(builders) => builders,
            Phase::Sampling { .. } => &[],
        };
        w.usize(builders.len());
        for builder in builders {
            builder.encode(w);
        }
    }

    /// A reader from [`Body::encode`]'s bytes; `None` when they do not make one.
    fn decode(r: &mut Reader<'_>) -> Option<Body> {
        let sent = SentBody::read(r)?;
        let mut body = Body::new(sent.dialect, sent.infer_types);
        body.markers = sent.markers;
        body.header = sent.header;
        body.rows = sent.rows;
        body.bytes_consumed = sent.bytes_consumed;
        body.line_offset = sent.lines_consumed;
        body.rejected_total = sent.rejected_total;
        body.invalid_utf8_fields = sent.invalid_utf8_fields;
        body.between_records = sent.between_records;
        body.rejected = sent.rejected;
        body.phase = Phase::Building(sent.columns.into_iter().map(ColumnBuilder::from_sent).collect());
        Some(body)
    }

    /// A helper's answer ([`PartParser::parse`]) for the part that starts at `start` of its
    /// block, its columns borrowed from `answer`; `None` when it is not one whose columns fit
    /// these.
    fn decode_part<'a>(&self, answer: &'a [u8], start: usize) -> Option<Part<'a>> {
        let mut r = Reader::new(answer);
        let end = if r.bool()? { Some(start.checked_add(r.usize()?)?) } else { None };
        let body = SentBody::read(&mut r)?;
        let Phase::Building(mine) = &self.phase else { return None };
        let fits = mine.len() == body.columns.len() && mine.iter().zip(&body.columns).all(|(main, sent)| sent.fits(main));
        (r.is_done() && fits && body.header == self.header).then_some(Part { body: PartBody::Sent(body), end })
    }

    /// Keeps a part's reader, emptied, for the next block's part.
    fn recycle(&mut self, mut part: Body) {
        if let (Phase::Building(builders), Phase::Building(main)) = (&mut part.phase, &self.phase) {
            for (builder, main) in builders.iter_mut().zip(main) {
                builder.restart_like(main);
            }
        }
        part.rejected.clear();
        part.restart();
        // A block's parts at the threads, and the last block's waiting.
        if self.spare.len() < 2 * self.parallel.threads * PARTS_PER_THREAD {
            self.spare.push(part);
        }
    }

    /// A part's reader made ready for another part (its empty columns keep their room).
    fn restart(&mut self) {
        // (Reset, not rebuilt: building csv-core's DFA is the costly part of a small part.)
        self.reader.reset();
        let _ = self.reader.read_record(&[], &mut [], &mut []);
        self.out_len = 0;
        self.ends_len = 0;
        self.oversized = false;
        self.record_line = 1;
        self.record_byte = 0;
        self.lone_crs = 0;
        self.pending_cr = false;
        self.bytes_consumed = 0;
        self.rows = 0;
        self.rejected_total = 0;
        self.invalid_utf8_fields = 0;
        self.line_offset = 0;
        self.between_records = true;
    }

    fn count_lone_crs(&mut self, consumed: &[u8]) {
        let Some(&last) = consumed.last() else { return };
        if self.pending_cr && consumed.first() != Some(&b'\n') {
            self.lone_crs += 1;
        }
        for pos in memchr::memchr_iter(b'\r', consumed) {
            if consumed.get(pos + 1).is_some_and(|&next| next != b'\n') {
                self.lone_crs += 1;
            }
        }
        self.pending_cr = last == b'\r';
    }

    fn field_text<'a>(&mut self, bytes: &'a [u8]) -> Cow<'a, str> {
        match (self.dialect.encoding.parsed_as_utf8(), std::str::from_utf8(bytes)) {
            (true, Ok(text)) => Cow::Borrowed(text),
            (true, Err(_)) => {
                self.invalid_utf8_fields += 1;
                encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0
            }
            (false, _) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
        }
    }

    fn reject(&mut self, reason: String) {
        self.rejected_total += 1;
        if self.rejected.len() >= MAX_REJECTED_KEPT {
            return;
        }
        let text = if self.oversized {
            String::from("(record too large to show)")
        } else {
            let delimiter = char::from(self.dialect.delimiter).to_string();
            let mut start = 0;
            let fields: Vec<String> = self
                .ends
                .get(..self.ends_len)
                .unwrap_or_default()
                .iter()
                .map(|&end| {
                    let field = String::from_utf8_lossy(self.out.get(start..end).unwrap_or_default()).into_owned();
                    start = end;
                    field
                })
                .collect();
            fields.join(&delimiter).chars().take(REJECTED_TEXT_CHARS).collect()
        };
        self.rejected.push(RejectedRow { line: self.record_line, byte_offset: self.record_byte, reason, text });
    }

    fn handle_record(&mut self) -> Result<(), LoadError> {
        let n_fields = self.ends_len;
        if self.oversized && self.header.is_none() {
            // The header itself is too wide or too long: nothing after it can be trusted.
            return Err(if self.ends.len() > MAX_COLUMNS { LoadError::TooManyColumns { found: None, max: MAX_COLUMNS } } else { LoadError::HeaderTooLong { max_mib: MAX_RECORD_BYTES >> 20 } });
        }
        if self.oversized {
            self.reject(format!(
                "record longer than {} MiB or wider than {MAX_COLUMNS} fields (often an unterminated quote)",
                MAX_RECORD_BYTES >> 20
            ));
            return Ok(());
        }
        let blank = n_fields == 1 && self.ends.first() == Some(&0);
        let Some(header) = &self.header else {
            if blank {
                return Ok(());
            }
            if n_fields > MAX_COLUMNS {
                return Err(LoadError::TooManyColumns { found: Some(n_fields), max: MAX_COLUMNS });
            }
            let names = self.take_fields();
            let (names, renamed) = unique_names(&names, self.dialect.has_header);
            if renamed > 0 {
                self.notices.push(format!("{renamed} blank or duplicate column names were renamed"));
            }
            let width = names.len();
            self.header = Some(names);
            if let Phase::Sampling { limit, rows } = &mut self.phase {
                *limit = self.parallel.sample_rows.unwrap_or((SAMPLE_CELLS / width.max(1)).clamp(100, SAMPLE_ROWS));
                rows.width = width;
            }
            if !self.dialect.has_header {
                self.push_row();
            }
            return Ok(());
        };
        if blank && header.len() > 1 {
            return Ok(());
        }
        if n_fields != header.len() {
            let expected = header.len();
            let hint = if n_fields < expected && self.record_spans_lines() { " (an unterminated quote?)" } else { "" };
            self.reject(format!("{n_fields} fields, expected {expected}{hint}"));
            return Ok(());
        }
        self.push_row();
        Ok(())
    }

    fn record_spans_lines(&self) -> bool {
        self.out.get(..self.out_len).is_some_and(|bytes| bytes.contains(&b'\n'))
    }

    fn take_fields(&mut self) -> Vec<String> {
        let ends: Vec<usize> = self.ends.get(..self.ends_len).unwrap_or_default().to_vec();
        let out = std::mem::take(&mut self.out);
        let mut start = 0;
        let fields = ends
            .iter()
            .map(|&end| {
                let text = self.field_text(out.get(start..end).unwrap_or_default()).into_owned();
                start = end;
                text
            })
            .collect();
        self.out = out;
        fields
    }

    fn push_row(&mut self) {
        self.rows += 1;
        if let Phase::Building(builders) = &mut self.phase {
            let out = std::mem::take(&mut self.out);
            let mut start = 0;
            let ends = std::mem::take(&mut self.ends);
            let record = out.get(..self.out_len).unwrap_or_default();
            // One validation per record; fields of valid UTF-8 split at ASCII delimiters are
            // valid too. Only a record that fails is decoded field by field.
            let utf8_record = if self.dialect.encoding.parsed_as_utf8() { std::str::from_utf8(record).ok() } else { None };
            for (builder, &end) in builders.iter_mut().zip(ends.get(..self.ends_len).unwrap_or_default()) {
                let bytes = out.get(start..end).unwrap_or_default();
                let field = utf8_record.and_then(|text| text.get(start..end));
                start = end;
                if let Some(text) = field {
                    builder.push(text);
                    continue;
                }
                match self.dialect.encoding.parsed_as_utf8().then(|| std::str::from_utf8(bytes)) {
                    Some(Ok(text)) => builder.push(text),
                    Some(Err(_)) => {
                        self.invalid_utf8_fields += 1;
                        builder.push(&encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0);
                    }
                    None => builder.push(&encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0),
                }
            }
            self.out = out;
            self.ends = ends;
            return;
        }
        let ends = std::mem::take(&mut self.ends);
        let out = std::mem::take(&mut self.out);
        let mut start = 0;
        for &end in ends.get(..self.ends_len).unwrap_or_default() {
            let text = self.field_text(out.get(start..end).unwrap_or_default());
            start = end;
            if let Phase::Sampling { rows, .. } = &mut self.phase {
                rows.push_field(&text);
            }
        }
        self.out = out;
        self.ends = ends;
        if let Phase::Sampling { rows, limit } = &mut self.phase {
            rows.end_row();
            if rows.len() >= *limit {
                self.start_building();
            }
        }
    }

    /// Infers column types from the sampled rows and replays them into builders.
    fn start_building(&mut self) {
        let Phase::Sampling { rows, .. } = std::mem::replace(&mut self.phase, Phase::Building(Vec::new())) else {
            return;
        };
        let names = self.header.clone().unwrap_or_default();
        let infer_types = self.infer_types;
        let markers = self.markers;
        let mut builders: Vec<ColumnBuilder> = names
            .iter()
            .enumerate()
            .map(|(col_idx, name)| {
                let sample: Vec<&str> = rows
                    .column(col_idx)
                    .filter(|text| if markers { !is_missing(text) } else { !text.is_empty() })
                    .collect();
                let mut builder = if infer_types {
                    ColumnBuilder::for_inferred(infer_column(name, &sample))
                } else {
                    ColumnBuilder::for_type(ColumnType::Text)
                };
                if !markers {
                    builder = builder.without_markers();
                }
                if sample.len() >= ARENA_SAMPLE_MIN {
                    let distinct: rustc_hash::FxHashSet<&str> = sample.iter().copied().collect();
                    if distinct.len() * 2 > sample.len() {
                        builder.prefer_arena();
                    }
                }
                builder
            })
            .collect();
        for row in 0..rows.len() {
            for (builder, text) in builders.iter_mut().zip(rows.row(row)) {
                builder.push(text);
            }
        }
        self.phase = Phase::Building(builders);
    }

    /// Steps the columns' capacity up to the rows (and arena text) expected once the whole
    /// file is read, with [`CAPACITY_HEADROOM`], given the share of the file read so far.
    fn plan_capacity(&mut self, share_read: f64) {
        if !(share_read > 0.0 && share_read <= 1.0) {
            return;
        }
        let rows = (self.rows_read() as f64 / share_read) as usize;
        // A column's arena text in the parts waiting to be absorbed.
        let waiting = &self.waiting;
        let waiting_text = |index: usize| -> usize {
            let builders = waiting.iter().filter_map(|part| if let Phase::Building(builders) = &part.phase { builders.get(index) } else { None });
            builders.map(ColumnBuilder::arena_text_bytes).sum()
        };
        let Phase::Building(builders) = &mut self.phase else { return };
        for (index, builder) in builders.iter_mut().enumerate() {
            let text = builder.arena_text_bytes() + waiting_text(index);
            let text_bytes = (text as f64 / share_read) as usize;
            builder.plan_capacity(rows, text_bytes, CAPACITY_HEADROOM);
        }
    }

    fn take_rows(&mut self) -> Option<Table> {
        self.absorb_waiting();
        let Phase::Building(builders) = &mut self.phase else { return None };
        let names = self.header.as_ref()?;
        let n_rows = self.rows - self.taken;
        if n_rows == 0 {
            return None;
        }
        let columns = builders
            .iter_mut()
            .zip(names)
            .map(|(builder, name)| {
                let next = builder.next_batch();
                std::mem::replace(builder, next).finish(name)
            })
            .collect();
        self.taken = self.rows;
        Some(Table { columns, n_rows })
    }

    fn memory(&self) -> BuildMemory {
        let mut memory = BuildMemory::default();
        for body in std::iter::once(self).chain(&self.waiting) {
            if let Phase::Building(builders) = &body.phase {
                for builder in builders {
                    memory.add(builder.memory());
                }
            }
        }
        memory
    }

    fn finish(mut self) -> Result<LoadReport, LoadError> {
        self.feed(&[])?;
        self.run_deferred_here()?;
        self.absorb_waiting();
        let Some(names) = self.header.clone() else { return Err(LoadError::Empty) };
        if self.rows == 0 {
            let set_aside = self.rejected.first().map(|r| (self.rejected_total, format!("line {}: {}", r.line, r.reason)));
            return Err(LoadError::NoRows { columns: names.len(), set_aside });
        }
        if matches!(self.phase, Phase::Sampling { .. }) {
            self.start_building();
        }
        let Phase::Building(builders) = self.phase else { return Err(LoadError::Empty) };
        let columns: Vec<_> = builders.into_iter().zip(&names).map(|(b, name)| b.finish(name)).collect();
        let mut notices = self.notices;
        if self.dialect.encoding == TextEncoding::Windows1252 {
            notices.push("the file is not valid UTF-8; it was read as Windows-1252".into());
        } else if self.invalid_utf8_fields > 0 {
            let fields = self.invalid_utf8_fields;
            let were = if fields == 1 { "was" } else { "were" };
            notices.push(format!("{} {were} not valid UTF-8 and {were} read as Windows-1252", crate::format::plural(fields, "field")));
        }
        for column in columns.iter().filter(|c| !c.mismatches.is_empty()) {
            let examples: Vec<String> =
                column.mismatches.iter().take(3).map(|m| format!("{:?} (row {})", m.text, m.row + 1)).collect();
            let count = column.mismatches.len() as u64;
            notices.push(format!(
                "column {:?}: {} did not read as {} and {} treated as missing, e.g. {}",
                column.name,
                crate::format::plural(count, "value"),
                column.kind.label(),
                if count == 1 { "is" } else { "are" },
                examples.join(", ")
            ));
        }
        if self.rejected_total > 0 {
            let rows = if self.rejected_total == 1 { "1 row was".to_string() } else { format!("{} rows were", crate::format::format_count(self.rejected_total)) };
            notices.push(format!("{rows} rejected; see Rejected rows"));
        }
        Ok(LoadReport {
            table: Table { columns, n_rows: self.rows - self.taken },
            dialect: self.dialect,
            rejected: self.rejected,
            rejected_total: self.rejected_total,
            notices,
            text_bytes: self.bytes_consumed,
        })
    }
}

/// Where [`scan_line`] found a line's end.
struct LineScan {
    /// The index of the line's first `\n`, `\r` or quote.
    stop: usize,
    /// Fields in the line before `stop` (their ends are in the `ends` given).
    fields: usize,
    /// Whether every byte before `stop` is ASCII.
    ascii: bool,
}

/// Reads the line at the start of `input` in one pass, 16 bytes at a time (SIMD where the
/// target has it, through `wide`): where each field ends (its delimiter, then the stop) goes into
/// `ends`, until the first `\n`, `\r` or `quote`. `None` when `input` has no such byte, when the
/// line has more fields than `ends` has room for, or when it runs past `max_len` bytes: the
/// caller leaves those lines to csv-core.
fn scan_line(input: &[u8], delimiter: u8, quote: u8, ends: &mut [usize], max_len: usize) -> Option<LineScan> {
    const LANES: usize = 16;
    let (delimiter, newline, cr, quote) =
        (u8x16::splat(delimiter), u8x16::splat(b'\n'), u8x16::splat(b'\r'), u8x16::splat(quote));
    let mut fields = 0;
    let mut high = 0;
    let mut base = 0;
    loop {
        let rest = input.get(base..).unwrap_or_default();
        // The last bytes of `input`, padded: bits past its end are masked off.
        let mut block = [0u8; LANES];
        let valid = match rest.get(..LANES) {
            Some(whole) => {
                block.copy_from_slice(whole);
                u32::MAX
            }
            None if rest.is_empty() => return None,
            None => {
                block.get_mut(..rest.len())?.copy_from_slice(rest);
                (1 << rest.len()) - 1
            }
        };
        let bytes = u8x16::new(block);
        let stops = (bytes.simd_eq(newline) | bytes.simd_eq(cr) | bytes.simd_eq(quote)).to_bitmask() & valid;
        // Only the bytes before the stop belong to the line.
        let in_line = if stops == 0 { valid } else { (1 << stops.trailing_zeros()) - 1 };
        let mut delimiters = bytes.simd_eq(delimiter).to_bitmask() & in_line;
        high |= bytes.to_bitmask() & in_line;
        while delimiters != 0 {
            *ends.get_mut(fields)? = base + delimiters.trailing_zeros() as usize;
            fields += 1;
            delimiters &= delimiters - 1;
        }
        if stops != 0 {
            let stop = base + stops.trailing_zeros() as usize;
            *ends.get_mut(fields)? = stop;
            return Some(LineScan { stop, fields: fields + 1, ascii: high == 0 });
        }
        base += LANES;
        if base > max_len {
            return None;
        }
    }
}

/// Header names made unique and non-blank. Returns the names and how many were changed.
fn unique_names(raw: &[String], has_header: bool) -> (Vec<String>, usize) {
    let mut names: Vec<String> = Vec::with_capacity(raw.len());
    let mut renamed = 0;
    for (col_idx, raw_name) in raw.iter().enumerate() {
        let trimmed = raw_name.trim();
        let base = if !has_header || trimmed.is_empty() {
            if has_header {
                renamed += 1;
            }
            format!("column_{}", col_idx + 1)
        } else {
            trimmed.to_string()
        };
        let mut name = base.clone();
        let mut suffix = 2;
        while names.contains(&name) {
            name = format!("{base}_{suffix}");
            suffix += 1;
        }
        if name != base {
            renamed += 1;
        }
        names.push(name);
    }
    (names, renamed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failing unwrap is a failing test
    use super::*;
    use crate::data::table::Value;

    #[test]
    fn the_warm_up_load_reads_what_one_thread_reads() {
        // The worker's warm-up: a few demo rows loaded in blocks through messages.
        let csv = crate::data::demo::demo_csv(crate::data::demo::DemoParams { rows: 3_000, seed: 1 });
        let block = 64 << 10;
        let warm = load_as_helpers_do(&csv, LoadOptions::default(), block).unwrap();
        let mut serial = TableLoader::new(LoadOptions::default()).with_sniff_bytes(block).with_parallel_blocks(1, block, 100);
        serial.push(&csv).unwrap();
        let serial = serial.finish().unwrap();
        assert_eq!(warm.table.n_rows, 3_000);
        assert!(csv.len() > 4 * block, "the rows make several blocks");
        assert_eq!(warm.table, serial.table);
        assert_eq!((warm.rejected_total, warm.notices.len()), (serial.rejected_total, serial.notices.len()));
    }

    #[test]
    fn a_kept_csv_reader_reads_like_a_new_one() {
        let (mut out, mut ends) = ([0u8; 64], [0usize; 8]);
        let kept = |dialect: (u8, u8)| CSV_READERS.with_borrow(|kept| kept.iter().filter(|(d, _)| *d == dialect).count());
        let before = kept((b';', b'\''));
        {
            // Left inside a quoted field of the third line.
            let mut used = CsvReader::new(b';', b'\'');
            let mut input: &[u8] = b"a;b\nc;d\n'open";
            while !input.is_empty() {
                let (_, nin, _, _) = used.read_record(input, &mut out, &mut ends);
                input = &input[nin..];
            }
            assert_eq!(used.line(), 3);
        }
        assert_eq!(kept((b';', b'\'')), before + 1, "a dropped reader is kept");
        let mut reader = CsvReader::new(b';', b'\'');
        assert_eq!(kept((b';', b'\'')), before, "the next reader of the dialect is the kept one");
        let (result, nin, nout, nend) = reader.read_record(b"x;'y;z'\n", &mut out, &mut ends);
        assert_eq!((result, nin, nend, reader.line()), (ReadRecordResult::Record, 8, 2, 2));
        assert_eq!(&out[..nout], b"xy;z");
        assert_eq!(ends[..2], [1, 4]);
    }

    fn load(text: &str) -> LoadReport {
        load_bytes(text.as_bytes(), LoadOptions::default()).expect("loads")
    }

    const GB: u64 = 1 << 30;
    const MB: u64 = 1 << 20;

    fn reading(memory_now: u64, table: BuildMemory, read: u64, total: Option<u64>) -> MemoryReading {
        MemoryReading { memory_now, table, read, total, gzip: false, json: false, reader: None }
    }

    #[test]
    fn the_memory_guard_says_what_fits() {
        let limit = 5 * GB / 2;
        let empty = BuildMemory::default();
        // Before reading: a 1 GB text file fits in 2.5 GB, a 2 GB one does not, nor a 1 GB gzip.
        assert!(memory_check(&reading(100 * MB, empty, 0, Some(GB)), limit).is_ok());
        let err = memory_check(&reading(100 * MB, empty, 0, Some(2 * GB)), limit).unwrap_err();
        assert_eq!(err.to_string(), "this file needs about 3.1 GB of memory once loaded, more than the 2.5 GB a browser tab can hold for data here (about 1.7 GB of CSV). Load less: export only the columns you need, a sample of the rows, or counts pre-aggregated in the warehouse (per day and dimension), or split the file");
        assert!(memory_check(&MemoryReading { gzip: true, ..reading(100 * MB, empty, 0, Some(GB / 2)) }, limit).is_err());
        // JSON repeats its keys in every record: 3 GB of JSON Lines fits where 2 GB of CSV does
        // not; 5 GB does not, and the message says how much JSON would.
        assert!(memory_check(&MemoryReading { json: true, ..reading(100 * MB, empty, 0, Some(3 * GB)) }, limit).is_ok());
        let err = memory_check(&MemoryReading { json: true, ..reading(100 * MB, empty, 0, Some(5 * GB)) }, limit).unwrap_err();
        assert!(err.to_string().contains("(about 4.2 GB of JSON)"), "{err}");
        // Unknown length: only what is held counts.
        assert!(memory_check(&reading(2 * GB, empty, GB, None), limit).is_ok());
        assert!(memory_check(&reading(3 * GB, empty, GB, None), limit).is_err());
        // A reader's file: its table cannot be told from its size (its rows are checked as they
        // are decoded), only what is held counts, and the message names the format.
        for (kind, name) in [(ReaderKind::Parquet, "Parquet"), (ReaderKind::Workbook, "Excel workbook")] {
            assert!(memory_check(&MemoryReading { reader: Some(kind), ..reading(100 * MB, empty, 0, Some(2 * GB)) }, limit).is_ok());
            let err = memory_check(&MemoryReading { reader: Some(kind), ..reading(3 * GB, empty, GB, Some(2 * GB)) }, limit).unwrap_err();
            assert!(err.to_string().contains(&format!("(about 2.5 GB of {name})")), "{err}");
        }
    }

    #[test]
    fn a_parquet_file_is_guarded_by_its_rows() {
        // 100,000 of 10 M rows decoded hold 40 MB: the whole file would need 4 GB and more (the
        // columns' headroom, a buffer copied as it grows); about a fifth of it would fit.
        let limit = 5 * GB / 2;
        let table = BuildMemory { per_row_used: 40 * MB, per_row_reserved: 40 * MB, fixed: 0, largest_buffer: 8 * MB };
        let err = rows_memory_check(300 * MB, table, 100_000, 10_000_000, 200 * MB, limit).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("this file needs about 5.1 GB of memory once loaded (stopped after reading part of it)") && text.contains("(about 97 MB of Parquet)"), "{text}");
        assert!(rows_memory_check(300 * MB, table, 1_000_000, 10_000_000, 200 * MB, limit).is_ok());
        // Nothing decoded yet: nothing to project from.
        assert!(rows_memory_check(300 * MB, BuildMemory::default(), 0, 10_000_000, 200 * MB, limit).is_ok());
    }

    #[test]
    fn a_reservation_is_not_read_as_growth() {
        // Issue 16: 32 MB into a 1,000 MB file, the columns have reserved room for the whole
        // file (1.4 GB) and fill 45 MB of it. The memory grew by 1.4 GB for 32 MB read, which
        // extrapolated to 29 GB; the table's own size says 1.4 GB.
        let limit = 5 * GB / 2;
        let table = BuildMemory { per_row_used: 45 * MB, per_row_reserved: 1_434 * MB, fixed: 2 * MB, largest_buffer: 8 * MB };
        let now = reading(60 * MB + table.held(), table, 32 * MB, Some(1_000 * MB));
        let projected = now.projected_peak();
        assert!((1_490 * MB..1_520 * MB).contains(&projected), "{} MB", projected / MB);
        assert!(memory_check(&now, limit).is_ok());
        // A file twice as dense as the estimate: 2 bytes of table per byte read projects to
        // 2.9 GB after 100 MB, and the load stops there, saying so.
        let table = BuildMemory { per_row_used: 200 * MB, per_row_reserved: 210 * MB, fixed: 0, largest_buffer: 20 * MB };
        let dense = reading(60 * MB + table.held(), table, 100 * MB, Some(1_400 * MB));
        assert!(dense.projected_peak() > 2_900 * MB, "{} MB", dense.projected_peak() / MB);
        assert!(memory_check(&dense, limit).unwrap_err().to_string().contains("stopped after reading part of it"));
        // A length that turns out wrong (more read than announced) is not extrapolated.
        assert_eq!(reading(GB, table, 2 * GB, Some(GB)).projected_peak(), GB);
    }

    /// Loads `file` in 1 MiB chunks with its size known, as the worker does, and returns the
    /// projected table size at every chunk once types are inferred, the largest memory the
    /// table held at any chunk, the finished table's size, and the table's memory just before
    /// it finished.
    fn projection_trace(file: &[u8]) -> (Vec<u64>, u64, u64, BuildMemory) {
        let mut loader = TableLoader::new(LoadOptions::default()).with_size_hint(file.len() as u64);
        let (mut projections, mut peak) = (Vec::new(), 0);
        let mut read = 0u64;
        for chunk in file.chunks(1 << 20) {
            let table = loader.memory();
            if table.per_row_used > 0 {
                // The loader's own memory: only the table (the rest stays as it is).
                projections.push(reading(table.held(), table, read, Some(file.len() as u64)).projected_peak());
            }
            loader.push(chunk).unwrap();
            read += chunk.len() as u64;
            peak = peak.max(loader.memory().held());
        }
        let last = loader.memory();
        let report = loader.finish().unwrap();
        (projections, peak, report.table.heap_bytes() as u64, last)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// Generated files shaped like real loads: numbers, dictionaries, arena strings.
    fn shaped_file(rows: usize, row_text: impl Fn(usize) -> String) -> Vec<u8> {
        let mut file = String::from("id,when,n,score,reason,country,comment\n");
        for row_idx in 0..rows {
            file.push_str(&row_text(row_idx));
            file.push('\n');
        }
        file.into_bytes()
    }

    #[test]
    fn the_memory_projection_follows_real_loads() {
        // Stated margins: the projection never overshoots the table's peak by more than 12 %
        // (the headroom columns get, dictionaries, a buffer copy counted while it may still
        // happen); on files whose rows look alike throughout it never falls short by more
        // than 3 % once types are inferred. A file whose later rows differ cannot be foreseen
        // and is stopped by the next readings instead.
        let demo = crate::data::demo::demo_csv(crate::data::demo::DemoParams { rows: 120_000, seed: 3 });
        let reasons = ["spam", "scam", "harassment", "nudity", "other"];
        let uniform = shaped_file(200_000, |i| {
            format!("r{i},2026-0{}-1{} 10:00:00,{},{}.5,{},C{},note {}", 1 + i % 9, i % 10, i % 1000, i % 77, reasons[i % 5], i % 40, i * 7919 % 100_003)
        });
        // Short rows first, long rows later (more text per row than the sample showed), and
        // the reverse (more rows than the sample foretold).
        let growing = shaped_file(150_000, |i| format!("r{i},2026-01-01,{i},1.5,spam,BR,{}", "x".repeat(i / 5_000)));
        let shrinking = shaped_file(150_000, |i| format!("r{i},2026-01-01,{i},1.5,spam,BR,{}", "x".repeat(30 - (i / 5_000).min(30))));
        // A category column whose dictionary fills past its limit and moves to an arena.
        let filling = shaped_file(200_000, |i| format!("r{i},2026-01-01,{i},1.5,v{},BR,ok", i * 3 / 4));
        let cases: [(&str, Vec<u8>, bool); 6] = [
            ("demo", demo.clone(), true),
            ("demo gzip", gzip(&demo), true),
            ("uniform", uniform, true),
            ("growing rows", growing, false),
            ("shrinking rows", shrinking, false),
            ("dictionary filling", filling, false),
        ];
        for (name, file, alike) in cases {
            let (projections, peak, finished, last) = projection_trace(&file);
            let truth = peak.max(finished);
            assert!(projections.len() >= 2, "{name}: {} readings", projections.len());
            for (reading_idx, &projected) in projections.iter().enumerate() {
                let ratio = projected as f64 / truth as f64;
                assert!(ratio <= 1.12, "{name}: reading {reading_idx} projects {projected} bytes, {ratio:.3}× the peak {truth}");
                if alike {
                    assert!(ratio >= 0.97, "{name}: reading {reading_idx} projects {projected} bytes, {ratio:.3}× the peak {truth}");
                }
            }
            // Columns stepped up exactly, never by doubling (which holds up to 2×): they hold
            // their cells plus about the headroom; more when early rows promised more rows than
            // came ("growing rows"), where the room was reserved before the file said otherwise,
            // and when they promised more text a row than came ("shrinking rows": the text's room
            // was reserved at the first rows' length, about 1 MB over 150,000 rows of 45 bytes).
            let allowed = match name {
                "growing rows" => f64::INFINITY,
                "shrinking rows" => 1.0 + 4.0 * CAPACITY_HEADROOM,
                _ => 1.0 + 3.0 * CAPACITY_HEADROOM,
            };
            let slack = last.per_row_reserved as f64 / last.per_row_used as f64;
            assert!(slack <= allowed, "{name}: columns hold {slack:.3}× their cells");
        }
    }

    #[test]
    fn basic_typed_columns() {
        let report = load("id,when,n,x,flag,reason\nr1,2026-01-01,1,0.5,true,spam\nr2,2026-01-02,2,1.5,false,scam\n");
        let table = &report.table;
        assert_eq!(table.n_rows, 2);
        let kinds: Vec<_> = table.columns.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [ColumnType::Category, ColumnType::Timestamp, ColumnType::Integer, ColumnType::Float, ColumnType::Boolean, ColumnType::Category]);
        assert_eq!(table.columns[2].value(1), Value::Int(2));
        assert_eq!(report.dialect.delimiter, b',');
        assert!(report.dialect.has_header);
    }

    #[test]
    fn delimiters_and_line_endings() {
        for (text, delimiter) in [
            ("a\tb\r\n1\t2\r\n3\t4\r\n", b'\t'),
            ("a;b\r1;2\r3;4\r", b';'),
            ("a|b\n1|2\n3|4", b'|'),
            ("a,b\n1,2\n3,4", b','),
        ] {
            let report = load(text);
            assert_eq!(report.dialect.delimiter, delimiter, "{text:?}");
            assert_eq!(report.table.n_rows, 2, "{text:?}");
            assert_eq!(report.table.columns[1].value(1), Value::Int(4), "{text:?}");
        }
    }

    #[test]
    fn bom_and_quotes() {
        let report = load("\u{feff}name,comment\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\"\n");
        assert!(report.dialect.bom);
        assert_eq!(report.table.columns[0].name, "name");
        assert_eq!(report.table.columns[1].value(0), Value::Str("said \"hi\"\nthen left"));
    }

    #[test]
    fn single_quoted_files() {
        let report = load("name,note\n'Smith, J','it''s fine'\n'Lee',x\n");
        assert_eq!(report.dialect.quote, b'\'');
        assert_eq!(report.table.n_rows, 2);
        assert_eq!(report.table.columns[0].value(0), Value::Str("Smith, J"));
        assert_eq!(report.table.columns[1].value(0), Value::Str("it's fine"));
        // An apostrophe inside text does not switch the quote.
        let report = load("name,note\nO'Brien,don't\n\"A, B\",x\n");
        assert_eq!(report.dialect.quote, b'"');
        assert_eq!(report.table.columns[0].value(1), Value::Str("A, B"));
    }

    #[test]
    fn wrong_field_counts_are_rejected_with_lines() {
        let report = load("a,b\n1,2\n3\n4,5,6\n7,8\n");
        assert_eq!(report.table.n_rows, 2);
        assert_eq!(report.rejected_total, 2);
        assert_eq!(report.rejected[0].line, 3);
        assert_eq!(report.rejected[0].reason, "1 fields, expected 2");
        assert_eq!(report.rejected[1].line, 4);
        assert_eq!(report.rejected[1].byte_offset, 10);
    }

    #[test]
    fn line_numbers_for_every_line_ending() {
        for newline in ["\n", "\r\n", "\r"] {
            let text = ["a,b", "1,2", "\"multi", "line\",3", "4", "5,6"].join(newline) + newline;
            for size in [1, 3, 1000] {
                let mut loader = TableLoader::new(LoadOptions::default());
                for chunk in text.as_bytes().chunks(size) {
                    loader.push(chunk).unwrap();
                }
                let report = loader.finish().unwrap();
                assert_eq!(report.table.n_rows, 3, "{newline:?} chunk {size}");
                assert_eq!(report.rejected.len(), 1, "{newline:?} chunk {size}");
                assert_eq!(report.rejected[0].line, 5, "{newline:?} chunk {size}");
            }
        }
    }

    #[test]
    fn a_rejected_row_after_blank_lines_has_its_own_line_and_offset() {
        // csv-core skips blank lines without a record: the line is where the record starts.
        for newline in ["\n", "\r\n", "\r"] {
            let text = ["a,b", "1,2", "", "", "3", "4,5"].join(newline) + newline;
            let report = load(&text);
            assert_eq!(report.rejected.len(), 1, "{newline:?}");
            assert_eq!(report.rejected[0].line, 5, "{newline:?}");
            assert_eq!(report.rejected[0].byte_offset, text.find("3").unwrap() as u64, "{newline:?}");
        }
    }

    #[test]
    fn scan_line_finds_what_a_byte_by_byte_reading_finds() {
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state >> 33
        };
        for _ in 0..20_000 {
            let len = next() as usize % 70;
            let input: Vec<u8> = (0..len).map(|_| [b',', b'a', 0, 0xff, b'\t', b'x', b'"', b'\n', b'\r', b'e'][next() as usize % 10]).collect();
            let room = next() as usize % 12;
            let max_len = next() as usize % 80;
            for (delimiter, quote) in [(b',', b'"'), (b'\t', b'"'), (0, b'"'), (b',', 0xff)] {
                let mut ends = vec![0; room];
                let fast = scan_line(&input, delimiter, quote, &mut ends, max_len).map(|scan| (scan.stop, ends[..scan.fields].to_vec(), scan.ascii));
                // The same, a byte at a time.
                let stop = input.iter().position(|&b| b == b'\n' || b == b'\r' || b == quote);
                let slow = stop.and_then(|stop| {
                    let line = &input[..stop];
                    let mut ends: Vec<usize> = line.iter().enumerate().filter(|&(_, &b)| b == delimiter).map(|(at, _)| at).collect();
                    ends.push(stop);
                    (ends.len() <= room).then(|| (stop, ends, line.is_ascii()))
                });
                let context = format!("{input:?} {delimiter} {quote} room {room} max {max_len}");
                match slow {
                    Some(slow) if slow.0 <= max_len => assert_eq!(fast, Some(slow), "{context}"),
                    // A line past `max_len` may be given up from the first block after it.
                    Some(slow) => assert!(fast.is_none() || fast == Some(slow), "{context}"),
                    None => assert_eq!(fast, None, "{context}"),
                }
            }
        }
    }

    #[test]
    fn headerless_numeric_file() {
        let report = load("1,2.5\n3,4.5\n5,6.5\n");
        assert!(!report.dialect.has_header);
        assert_eq!(report.table.n_rows, 3);
        assert_eq!(report.table.columns[0].name, "column_1");
    }

    #[test]
    fn duplicate_and_blank_names() {
        let report = load("a,a,,b\n1,2,3,4\n");
        let names: Vec<_> = report.table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "a_2", "column_3", "b"]);
        assert!(report.notices.iter().any(|n| n.contains("renamed")));
    }

    #[test]
    fn empty_header_only_binary() {
        assert_eq!(load_bytes(b"", LoadOptions::default()), Err(LoadError::Empty));
        assert_eq!(load_bytes(b"\xef\xbb\xbf", LoadOptions::default()), Err(LoadError::Empty));
        assert_eq!(load_bytes(b"a,b,c\n", LoadOptions::default()), Err(LoadError::NoRows { columns: 3, set_aside: None }));
        let huge = format!("note\n\"{}\"\n", "x".repeat(MAX_RECORD_BYTES + 1));
        let Err(err) = load_bytes(huge.as_bytes(), LoadOptions::default()) else { panic!("a lone oversized row loaded") };
        assert!(err.to_string().starts_with("the file has a header (1 column) but no data rows that could be read: 1 set aside, the first because of line 2: record longer than 16 MiB"), "{err}");
        let binary: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 256) as u8).collect();
        assert!(matches!(load_bytes(&binary, LoadOptions::default()), Err(LoadError::NotText { .. })));
        // Named, not counted as control characters: a file compressed twice, and UTF-32.
        let twice = gzip(&gzip(b"a,b\n1,2\n3,4\n"));
        assert!(load_bytes(&twice, LoadOptions::default()).unwrap_err().to_string().contains("compressed twice"));
        let text = "\u{feff}a,b\n1,2\n".chars().map(u32::from);
        for utf32 in [text.clone().flat_map(u32::to_le_bytes).collect::<Vec<u8>>(), text.flat_map(u32::to_be_bytes).collect()] {
            assert!(load_bytes(&utf32, LoadOptions::default()).unwrap_err().to_string().contains("UTF-32"));
        }
    }

    #[test]
    fn utf16_is_decoded_with_or_without_a_bom_in_any_chunks() {
        // Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated; a surrogate pair (😀) and
        // Latin-1 letters among ASCII.
        let text = "name\tcount\twhen\ncafé\t3\t2026-05-01\nnaïve 😀\t14\t2026-05-02\nplain\t5\t2026-05-03\n";
        let utf8 = load_bytes(text.as_bytes(), LoadOptions::default()).unwrap();
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let cases = [
            ([b"\xff\xfe".as_slice(), &le].concat(), TextEncoding::Utf16Le, true),
            ([b"\xfe\xff".as_slice(), &be].concat(), TextEncoding::Utf16Be, true),
            (le.clone(), TextEncoding::Utf16Le, false),
            (be, TextEncoding::Utf16Be, false),
        ];
        for (bytes, encoding, bom) in cases {
            // Whole, and pushed one byte at a time (code units and the surrogate pair cut).
            for chunk in [bytes.len(), 1, 3] {
                let mut loader = TableLoader::new(LoadOptions::default());
                for part in bytes.chunks(chunk) {
                    loader.push(part).unwrap();
                }
                let report = loader.finish().unwrap();
                assert_eq!((report.dialect.encoding, report.dialect.bom, report.dialect.delimiter), (encoding, bom, b'\t'));
                assert_eq!(report.table, utf8.table, "{encoding:?} bom {bom}, chunks of {chunk}");
            }
        }
        assert_eq!(utf8.table.columns[1].kind, ColumnType::Integer);
        // Gzipped UTF-16 too.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&[b"\xff\xfe".as_slice(), &le].concat()).unwrap();
        assert_eq!(load_bytes(&gz.finish().unwrap(), LoadOptions::default()).unwrap().table, utf8.table);
        // A last odd byte is U+FFFD on a line of its own, set aside like any short row (not a
        // panic); ASCII text is not mistaken for UTF-16.
        let odd = load_bytes(&[b"\xff\xfe".as_slice(), &le, b"x"].concat(), LoadOptions::default()).unwrap();
        assert_eq!((odd.table.n_rows, odd.rejected_total), (3, 1));
        assert!(odd.rejected[0].text.contains('\u{fffd}'), "{:?}", odd.rejected);
        assert_eq!(load_bytes(b"a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n", LoadOptions::default()).unwrap().dialect.encoding, TextEncoding::Utf8);
    }

    #[test]
    fn windows_1252_fallback() {
        let report = load_bytes(b"name\ncaf\xe9\n", LoadOptions::default()).unwrap();
        assert_eq!(report.dialect.encoding, TextEncoding::Windows1252);
        assert_eq!(report.table.columns[0].value(0), Value::Str("café"));
    }

    #[test]
    fn gzip_input_in_tiny_chunks() {
        let text = "a,b\n1,x\n2,y\n";
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text.as_bytes()).unwrap();
        let gz = encoder.finish().unwrap();
        let mut loader = TableLoader::new(LoadOptions::default());
        for byte in &gz {
            loader.push(std::slice::from_ref(byte)).unwrap();
        }
        let report = loader.finish().unwrap();
        assert!(report.dialect.gzip);
        assert_eq!(report.table.n_rows, 2);
        assert_eq!(report.table.columns[1].value(1), Value::Str("y"));
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&b"a,b\n1,2\n".repeat(1000)).unwrap();
        let gz = encoder.finish().unwrap();
        let result = load_bytes(gz.get(..gz.len() / 2).unwrap(), LoadOptions::default());
        assert!(matches!(result, Err(LoadError::Gzip { .. })), "{result:?}");
    }

    /// Members one after another are one text; bytes after the last that start no member are
    /// ignored with a notice, as gzip(1) does (the load failed as "corrupt or truncated").
    #[test]
    fn gzip_members_are_read_in_turn_and_trailing_bytes_ignored() {
        let (first, second) = (gzip(b"a,b\n1,x\n"), gzip(b"2,y\n3,z\n"));
        let both = [first.as_slice(), &second].concat();
        for (extra, ignored) in [(&b""[..], None), (b"JUNKJUNK", Some("8 bytes after")), (&[0u8; 512], Some("512 bytes")), (b"\n", Some("1 byte after"))] {
            let bytes = [both.as_slice(), extra].concat();
            // Whole, and a byte at a time (a member's end and the bytes after it cut anywhere).
            let mut loader = TableLoader::new(LoadOptions::default());
            for byte in &bytes {
                loader.push(std::slice::from_ref(byte)).unwrap();
            }
            for report in [load_bytes(&bytes, LoadOptions::default()).unwrap(), loader.finish().unwrap()] {
                assert_eq!(report.table.n_rows, 3, "{extra:?}");
                assert_eq!(report.table.columns[1].value(2), Value::Str("z"));
                let notice = report.notices.iter().find(|n| n.contains("after the end of the compressed data"));
                match ignored {
                    Some(says) => assert!(notice.is_some_and(|n| n.starts_with(says)), "{:?}", report.notices),
                    None => assert!(notice.is_none(), "{:?}", report.notices),
                }
            }
        }
        // A member that starts and breaks off is still an error.
        let broken = [both.as_slice(), &first[..first.len() / 2]].concat();
        assert!(matches!(load_bytes(&broken, LoadOptions::default()), Err(LoadError::Gzip { .. })));
    }

    #[test]
    fn oversized_record_rejected_rest_loads() {
        let mut text = String::from("a,b\n1,2\n3,\"");
        text.push_str(&"x".repeat(MAX_RECORD_BYTES + 10));
        text.push_str("\"\n5,6\n");
        let report = load(&text);
        assert_eq!(report.table.n_rows, 2);
        assert_eq!(report.rejected_total, 1);
        assert!(report.rejected[0].reason.contains("MiB"));
    }

    #[test]
    fn wide_files_load_and_too_wide_headers_are_refused() {
        let width = 10_000;
        let header: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
        let row: Vec<String> = (0..width).map(|i| i.to_string()).collect();
        let text = format!("{}\n{}\n{}\n", header.join(","), row.join(","), row.join(","));
        let report = load(&text);
        assert_eq!(report.table.columns.len(), width);
        assert_eq!(report.table.n_rows, 2);
        assert_eq!(report.table.columns[9_999].value(1), Value::Int(9_999));
        let too_wide = format!("{}\n1\n", vec!["x"; MAX_COLUMNS + 5].join(","));
        assert!(matches!(
            load_bytes(too_wide.as_bytes(), LoadOptions::default()),
            Err(LoadError::TooManyColumns { max: MAX_COLUMNS, .. })
        ));
        // A header too wide to count to its end is not given a count it does not have.
        let far_too_wide = format!("{}\n1\n", vec!["x"; 10 * MAX_COLUMNS].join(","));
        let e = load_bytes(far_too_wide.as_bytes(), LoadOptions::default()).unwrap_err().to_string();
        assert_eq!(e, format!("the header has more than {MAX_COLUMNS} columns; Vigil reads at most {MAX_COLUMNS}"));
        // A header that never ends (a quote never closed) is too long, not too wide.
        let unclosed = format!("id,\"name\n{}\n", "1,abc\n".repeat((MAX_RECORD_BYTES + (1 << 20)) / 6));
        let e = load_bytes(unclosed.as_bytes(), LoadOptions::default()).unwrap_err().to_string();
        assert!(e.starts_with("the header line is longer than"), "{e}");
    }

    #[test]
    fn text_only_option_keeps_cells_as_written() {
        let options = LoadOptions { infer_types: false, ..LoadOptions::default() };
        let report = load_bytes(b"zip,n
08123,1.50
", options).unwrap();
        assert!(report.table.columns.iter().all(|c| c.kind == ColumnType::Text));
        assert_eq!(report.table.columns[1].value(0), Value::Str("1.50"));
    }

    #[test]
    fn size_hints_right_or_wrong_do_not_change_the_table() {
        let csv = crate::data::demo::demo_csv(crate::data::demo::DemoParams { rows: 3000, seed: 2 });
        let plain = load_bytes(&csv, LoadOptions::default()).unwrap();
        for hint in [csv.len() as u64, 10, csv.len() as u64 * 3] {
            let mut loader = TableLoader::new(LoadOptions::default()).with_size_hint(hint);
            for chunk in csv.chunks(100_000) {
                loader.push(chunk).unwrap();
            }
            assert_eq!(loader.finish().unwrap(), plain, "hint {hint}");
        }
    }

    #[test]
    fn chunk_boundaries_do_not_matter() {
        let text = "id,v,when\na,1,2026-01-01\n\"b,\"\"c\",2,2026-01-02\nd,3,2026-01-03\n";
        let whole = load(text);
        for size in 1..8 {
            let mut loader = TableLoader::new(LoadOptions::default());
            for chunk in text.as_bytes().chunks(size) {
                loader.push(chunk).unwrap();
            }
            assert_eq!(loader.finish().unwrap().table, whole.table, "chunk size {size}");
        }
    }
}
