//! Parquet files as a stage of the loader: the file is held whole (Parquet is read from its
//! footer, at the end) or read in ranges ([`RangeFile`]: the browser's reader worker reads the
//! `File` itself, a row group at a time), its columns are decoded by the `parquet` crate a batch of rows at a
//! time, and each batch is written as CSV text for the body, so header, types, notices and the
//! memory guard are the CSV loader's. Logical types become the text the loader reads as such:
//! timestamps ISO text in UTC to the millisecond (Vigil's precision; `Z` when the file says they
//! are UTC), dates and times of day ISO text, decimals exact decimal text, strings (dictionary
//! encoded or not) their text, UUIDs their usual form, other bytes hexadecimal. Nested structs
//! become dotted names (`account.country`); lists (and maps) of values one text column
//! (`[a, b]`) with a notice; lists of lists are left out with a notice.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use parquet::basic::{ConvertedType, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::basic::Encoding;
use parquet::column::page::{Page, PageMetadata, PageReader};
use parquet::column::reader::{get_column_reader, ColumnReader};
use parquet::data_type::{ByteArray, FixedLenByteArray, Int96};
use parquet::file::reader::{ChunkReader, FileReader, Length, SerializedFileReader};
use parquet::schema::types::{ColumnDescriptor, Type};
use super::json::write_field;
use super::readers::ParquetFile;

/// Rows decoded (and written as text) at a time: the loader's progress, Cancel and memory
/// guard act between batches. Fewer for a wide file: a batch holds about `BATCH_CELLS` cells.
const BATCH_ROWS: usize = 16_384;
const BATCH_CELLS: usize = 1 << 20;

/// Why a Parquet file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParquetError {
    #[error("this looks like a Parquet file but cannot be read as one: {0}")]
    Unreadable(String),
    #[error("the Parquet file has no column Vigil can read{}", if skipped.is_empty() { String::new() } else { format!(" ({})", skipped.join("; ")) })]
    NoColumns { skipped: Vec<String> },
    #[error("the Parquet file has {found} columns; Vigil reads at most {max}")]
    TooManyColumns { found: usize, max: usize },
    #[error("the Parquet file's row group {group} unpacks to {} MB, more than the {} MB Vigil decodes at once here (a file built to exhaust memory, or written with very large row groups: write it with smaller ones)", bytes >> 20, limit >> 20)]
    TooLarge { group: usize, bytes: u64, limit: u64 },
    #[error("the Parquet file is damaged in column “{column}” (row group {group}): {message}")]
    Column { column: String, group: usize, message: String },
}

/// Most bytes a row group may say it unpacks to: its pages are decoded column by column, a
/// batch at a time, but a file whose sizes are absurd is refused before anything is decoded.
pub const MAX_ROW_GROUP_BYTES: u64 = if cfg!(target_arch = "wasm32") { 1 << 30 } else { 16 << 30 };

/// How a leaf column's values become text.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Plain,
    Unsigned,
    Date,
    /// Time of day in units per millisecond (1, 1,000, 1,000,000).
    Time(i64),
    /// Since the epoch, in units per millisecond; UTC or local (written without a zone).
    Timestamp(i64, bool),
    Int96,
    Text,
    Bytes,
    Decimal(i32),
    Uuid,
    Float16,
}

/// A leaf column read as one column of the table.
struct Leaf {
    index: usize,
    name: String,
    kind: Kind,
    max_def: i16,
    /// For a list: the definition level at which the list itself is there (empty or not) and
    /// the one at which an element is (null or not); `None` for a column of single values.
    list: Option<(i16, i16)>,
}

/// A Parquet file being read as CSV text, a batch of rows at a time.
pub struct ParquetText {
    reader: Box<dyn FileReader>,
    /// Read in ranges: each row group's column chunks are read at once when it starts.
    ranges: Option<RangeFile>,
    leaves: Vec<Leaf>,
    /// The next row group, and the column readers of the one being read.
    group: usize,
    readers: Vec<ColumnReader>,
    rows_done: u64,
    info: ParquetFile,
    notices: Vec<String>,
    cells: Vec<Cells>,
    invalid: Invalid,
    batch_rows: usize,
}

/// One column's cells of a batch: their text one after another, and where each ends.
#[derive(Default)]
struct Cells {
    text: String,
    ends: Vec<usize>,
    missing: Vec<bool>,
}

impl Cells {
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.missing.clear();
    }

    fn end(&mut self, missing: bool) {
        self.ends.push(self.text.len());
        self.missing.push(missing);
    }
}

/// Values that have no text Vigil reads (a time outside the calendar, NaN), counted for a notice.
#[derive(Default)]
struct Invalid {
    count: u64,
    first: Option<String>,
}

fn unreadable(e: parquet::errors::ParquetError) -> ParquetError {
    ParquetError::Unreadable(e.to_string())
}

impl ParquetText {
    /// Reads the footer and the schema; nothing is decoded yet.
    pub fn open(bytes: Vec<u8>) -> Result<Self, ParquetError> {
        Self::open_within(Bytes::from(bytes), None, MAX_ROW_GROUP_BYTES)
    }

    /// [`ParquetText::open`] for a file read in ranges: its footer now, each row group's column
    /// chunks when the row group starts, so that memory holds one row group's compressed bytes
    /// rather than the file.
    pub fn open_ranges(file: RangeFile) -> Result<Self, ParquetError> {
        Self::open_within(file.clone(), Some(file), MAX_ROW_GROUP_BYTES)
    }

    fn open_within<R: ChunkReader + 'static>(source: R, ranges: Option<RangeFile>, limit: u64) -> Result<Self, ParquetError> {
        let file_bytes = source.len();
        let cut_short = || ParquetError::Unreadable("the file is cut short (it does not end with a Parquet footer)".into());
        if file_bytes < 12 {
            return Err(cut_short());
        }
        match source.get_bytes(file_bytes - 4, 4) {
            Ok(tail) if tail.as_ref() == b"PAR1" => {}
            Ok(_) => return Err(cut_short()),
            Err(e) => return Err(unreadable(e)),
        }
        let reader: Box<dyn FileReader> = Box::new(SerializedFileReader::new(source).map_err(unreadable)?);
        let metadata = reader.metadata();
        let schema = metadata.file_metadata().schema_descr();
        let mut leaves = Vec::new();
        let mut skipped = Vec::new();
        let mut lists = Vec::new();
        for index in 0..schema.num_columns() {
            let descr = schema.column(index);
            match leaf(schema.root_schema(), &descr, index) {
                Ok(leaf) => {
                    if leaf.list.is_some() {
                        lists.push(leaf.name.clone());
                    }
                    leaves.push(leaf);
                }
                Err(why) => skipped.push(format!("“{}” {why}", descr.path().string())),
            }
        }
        if leaves.is_empty() {
            return Err(ParquetError::NoColumns { skipped });
        }
        if leaves.len() > super::load::MAX_COLUMNS {
            return Err(ParquetError::TooManyColumns { found: leaves.len(), max: super::load::MAX_COLUMNS });
        }
        let mut codecs: Vec<String> = Vec::new();
        for (group, meta) in metadata.row_groups().iter().enumerate() {
            let bytes = meta.columns().iter().fold(0u64, |sum, c| sum.saturating_add(c.uncompressed_size().max(0) as u64));
            if bytes > limit {
                return Err(ParquetError::TooLarge { group: group + 1, bytes, limit });
            }
            for column in meta.columns() {
                // The reader asserts these (a panic): a damaged footer is refused here.
                let start = column.dictionary_page_offset().unwrap_or_else(|| column.data_page_offset());
                let length = column.compressed_size();
                if start < 0 || length < 0 || (start as u64).saturating_add(length as u64) > file_bytes {
                    return Err(ParquetError::Unreadable(format!("its footer places column “{}” of row group {} outside the file", column.column_path().string(), group + 1)));
                }
                let name = format!("{:?}", column.compression_codec()).to_lowercase().replace("lz4_raw", "lz4");
                if name != "uncompressed" && !codecs.contains(&name) {
                    codecs.push(name);
                }
            }
        }
        let mut notices = Vec::new();
        if !skipped.is_empty() {
            notices.push(format!("Left out of the Parquet file: {}.", skipped.join("; ")));
        }
        if !lists.is_empty() {
            let names = lists.iter().map(|n| format!("“{n}”")).collect::<Vec<_>>().join(", ");
            notices.push(format!("Lists read as text (“[a, b]”): {names}."));
        }
        let info = ParquetFile { rows: metadata.file_metadata().num_rows().max(0) as u64, row_groups: metadata.num_row_groups(), codecs };
        let cells = leaves.iter().map(|_| Cells::default()).collect();
        let batch_rows = (BATCH_CELLS / leaves.len()).clamp(64, BATCH_ROWS);
        Ok(Self { reader, ranges, leaves, group: 0, readers: Vec::new(), rows_done: 0, info, notices, cells, invalid: Invalid::default(), batch_rows })
    }

    /// The header row: the columns' names.
    pub fn header(&self, out: &mut Vec<u8>) {
        for (i, leaf) in self.leaves.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_field(&leaf.name, out);
        }
        out.push(b'\n');
    }

    /// Rows written so far, and the file's rows.
    pub fn progress(&self) -> (u64, u64) {
        (self.rows_done, self.info.rows)
    }

    /// Writes the next batch of rows to `out` as CSV text; `false` once every row is written.
    pub fn next_batch(&mut self, out: &mut Vec<u8>) -> Result<bool, ParquetError> {
        let metadata = self.reader.metadata();
        loop {
            if self.readers.is_empty() {
                if self.group >= metadata.num_row_groups() {
                    return Ok(false);
                }
                if let Some(file) = &self.ranges {
                    // Its column chunks at once: one read, not one per page.
                    let columns = metadata.row_group(self.group).columns();
                    let start = columns.iter().map(|c| c.byte_range().0).min().unwrap_or(0);
                    let end = columns.iter().map(|c| c.byte_range().0.saturating_add(c.byte_range().1)).max().unwrap_or(0);
                    file.hold(start, end.saturating_sub(start)).map_err(|e| ParquetError::Unreadable(format!("row group {} could not be read ({e})", self.group + 1)))?;
                }
                let group = self.reader.get_row_group(self.group).map_err(unreadable)?;
                let mut readers = Vec::with_capacity(self.leaves.len());
                let schema = metadata.file_metadata().schema_descr();
                for leaf in &self.leaves {
                    let pages = group.get_column_page_reader(leaf.index).map_err(|e| ParquetError::Column { column: leaf.name.clone(), group: self.group + 1, message: e.to_string() })?;
                    readers.push(get_column_reader(schema.column(leaf.index), Box::new(CheckedPages { inner: pages, dictionary: false, levels_left: leaf.list.map(|_| MAX_LIST_LEVELS), max_def: leaf.max_def, max_rep: i16::from(leaf.list.is_some()), physical: schema.column(leaf.index).physical_type() })));
                }
                self.readers = readers;
                self.group += 1;
            }
            let mut rows = None;
            for ((leaf, reader), cells) in self.leaves.iter().zip(&mut self.readers).zip(&mut self.cells) {
                cells.clear();
                let read = read_batch(reader, leaf, self.batch_rows, cells, &mut self.invalid).map_err(|e| ParquetError::Column { column: leaf.name.clone(), group: self.group, message: e.to_string() })?;
                match rows {
                    None => rows = Some(read),
                    Some(n) if n != read => {
                        return Err(ParquetError::Column { column: leaf.name.clone(), group: self.group, message: format!("it holds {read} rows where the columns before hold {n}") });
                    }
                    Some(_) => {}
                }
            }
            let rows = rows.unwrap_or(0);
            if let Some((leaf, _)) = self.leaves.iter().zip(&self.cells).find(|(_, cells)| cells.ends.len() != rows || cells.missing.len() != rows) {
                return Err(ParquetError::Column { column: leaf.name.clone(), group: self.group, message: format!("its levels make a different number of rows than the {rows} read") });
            }
            if rows == 0 {
                // This row group is read: on to the next.
                self.readers.clear();
                continue;
            }
            for row in 0..rows {
                for (i, cells) in self.cells.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    if cells.missing[row] {
                        // One column: an empty line would be skipped, `""` reads as missing.
                        if self.cells.len() == 1 {
                            out.extend_from_slice(b"\"\"");
                        }
                        continue;
                    }
                    let start = if row == 0 { 0 } else { cells.ends[row - 1] };
                    let text = &cells.text[start..cells.ends[row]];
                    if text.is_empty() {
                        // The loader reads an empty text as missing, as in a CSV file.
                        out.extend_from_slice(b"\"\"");
                    } else {
                        write_field(text, out);
                    }
                }
                out.push(b'\n');
            }
            self.rows_done += rows as u64;
            return Ok(true);
        }
    }

    /// What was read and what the reader should know, once every row is written.
    pub fn finish(mut self) -> (ParquetFile, Vec<String>) {
        if let Some(first) = self.invalid.first.take() {
            let values = if self.invalid.count == 1 { "1 value".to_string() } else { format!("{} values", crate::format::format_count(self.invalid.count)) };
            self.notices.push(format!("{values} with no readable text (the first {first}) read as missing."));
        }
        (self.info, self.notices)
    }
}

/// Reads `length` bytes at `offset` of a file this process does not hold (the browser's
/// `File`, read with `FileReaderSync` in the reader worker). A plain function, as the crate
/// wants its sources `Send + Sync` and a `Blob` is neither: the reader worker keeps the file.
pub type ReadAt = fn(u64, usize) -> std::io::Result<Vec<u8>>;

/// Most bytes a row group's column chunks may span to be read at once; a larger row group is
/// read a page at a time (more reads, the same bytes).
const MAX_HELD_BYTES: u64 = 256 << 20;

/// Bytes read at once past a page header's start: headers are small, and read on demand.
const HEADER_READ_BYTES: usize = 64 << 10;

/// A Parquet file read in ranges ([`ReadAt`]): the row group being read is held, once read
/// whole ([`RangeFile::hold`]); other reads (the footer, page headers past it) are read as asked.
#[derive(Clone)]
pub struct RangeFile {
    len: u64,
    read_at: ReadAt,
    held: Arc<Mutex<Held>>,
}

/// What a [`RangeFile`] holds: the row group's bytes, the last read past them, and counts.
#[derive(Default)]
struct Held {
    group: Option<(u64, Bytes)>,
    last: Option<(u64, Bytes)>,
    reads: u64,
    most: u64,
}

impl Held {
    /// The held bytes from `start` on, up to `len` of them (fewer when a window ends first).
    fn from(&self, start: u64, len: usize) -> Option<Bytes> {
        [&self.group, &self.last].into_iter().flatten().find_map(|(at, bytes)| {
            let from = usize::try_from(start.checked_sub(*at)?).ok()?;
            (from < bytes.len()).then(|| bytes.slice(from..bytes.len().min(from.saturating_add(len))))
        })
    }
}

impl RangeFile {
    pub fn new(len: u64, read_at: ReadAt) -> Self {
        Self { len, read_at, held: Arc::default() }
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        // One thread reads: a poisoned lock only means a read panicked, and its data stands.
        self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads `len` bytes at `start` (fewer past the end), counting the read.
    fn read(&self, start: u64, len: usize) -> std::io::Result<Bytes> {
        let len = len.min(usize::try_from(self.len.saturating_sub(start)).unwrap_or(usize::MAX));
        let bytes = (self.read_at)(start, len)?;
        if bytes.len() != len {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("{} bytes read at {start} where {len} were asked for", bytes.len())));
        }
        let mut held = self.held();
        held.reads += 1;
        held.most = held.most.max(len as u64);
        Ok(Bytes::from(bytes))
    }

    /// Reads `len` bytes at `start` once and serves what lies in them from memory until the
    /// next call (a row group's column chunks); too long a span is not held.
    pub fn hold(&self, start: u64, len: u64) -> std::io::Result<()> {
        self.held().group = None;
        if len == 0 || len > MAX_HELD_BYTES {
            return Ok(());
        }
        let bytes = self.read(start, len as usize)?;
        self.held().group = Some((start, bytes));
        Ok(())
    }

    /// Reads made so far, and the most bytes one of them asked for.
    pub fn reads(&self) -> (u64, u64) {
        let held = self.held();
        (held.reads, held.most)
    }
}

impl Length for RangeFile {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for RangeFile {
    type T = RangeRead;

    fn get_read(&self, start: u64) -> parquet::errors::Result<RangeRead> {
        Ok(RangeRead { file: self.clone(), at: start })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        if let Some(bytes) = self.held().from(start, length).filter(|b| b.len() == length) {
            return Ok(bytes);
        }
        if start.saturating_add(length as u64) > self.len {
            return Err(parquet::errors::ParquetError::EOF(format!("{length} bytes at {start} lie past the file's end ({} bytes)", self.len)));
        }
        self.read(start, length).map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
    }
}

/// Reads a [`RangeFile`] on from an offset (the crate reads page headers this way).
pub struct RangeRead {
    file: RangeFile,
    at: u64,
}

impl std::io::Read for RangeRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at >= self.file.len || buf.is_empty() {
            return Ok(0);
        }
        let held = self.file.held().from(self.at, buf.len());
        let bytes = match held {
            Some(bytes) => bytes,
            None => {
                let bytes = self.file.read(self.at, buf.len().max(HEADER_READ_BYTES))?;
                self.file.held().last = Some((self.at, bytes.clone()));
                bytes.slice(..bytes.len().min(buf.len()))
            }
        };
        buf[..bytes.len()].copy_from_slice(&bytes);
        self.at += bytes.len() as u64;
        Ok(bytes.len())
    }
}

/// A column's pages as the crate reads them, with what its decoder asserts checked first: a
/// data page dictionary-encoded before any dictionary page panicked in the crate (found by
/// `tests/it/reference_parquet.rs` changing bytes of a file at random).
struct CheckedPages {
    inner: Box<dyn PageReader>,
    dictionary: bool,
    /// Levels a list column may still hold in this row group: run-length encoding lets a few
    /// bytes claim a hundred million of them, all decoded at once in one record.
    levels_left: Option<u64>,
    /// The column's highest definition and repetition levels (none read when 0).
    max_def: i16,
    max_rep: i16,
    physical: Physical,
}

/// Whether `buf` holds `count` length-prefixed byte strings (PLAIN byte arrays): the crate's
/// plain decoder reads each length without checking that four bytes are left (a panic).
fn holds_byte_arrays(buf: &[u8], count: u32) -> bool {
    let mut at = 0usize;
    for _ in 0..count {
        let Some(len) = buf.get(at..at + 4).and_then(|b| <[u8; 4]>::try_from(b).ok()) else { return false };
        at = at.saturating_add(4).saturating_add(u32::from_le_bytes(len) as usize);
        if at > buf.len() {
            return false;
        }
    }
    true
}

/// A little-endian `u32` at `at`.
fn u32_at(buf: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(buf.get(at..at.checked_add(4)?)?.try_into().ok()?) as usize)
}

/// How many of `count` definition levels equal `max_def` (values that are there), read from
/// the run-length / bit-packed hybrid encoding; `None` when the levels are cut short.
fn defined_values(levels: &[u8], count: u32, max_def: i16) -> Option<u64> {
    let max = u64::try_from(max_def).ok()?;
    let width = (64 - max.leading_zeros()) as usize;
    let (mut at, mut seen, mut defined) = (0usize, 0u64, 0u64);
    let count = u64::from(count);
    while seen < count {
        // The run's header: ULEB128.
        let mut header = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *levels.get(at)?;
            at += 1;
            header |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        if header & 1 == 1 {
            // Bit-packed: groups of eight values, `width` bits each, least significant first.
            let groups = usize::try_from(header >> 1).ok()?;
            let run = levels.get(at..at.checked_add(groups.checked_mul(width)?)?)?;
            at += run.len();
            let take = (groups as u64 * 8).min(count - seen);
            for i in 0..take as usize {
                let value = (0..width).fold(0u64, |value, b| {
                    let bit = i * width + b;
                    value | (u64::from(run.get(bit / 8).copied().unwrap_or(0) >> (bit % 8) & 1) << b)
                });
                defined += u64::from(value == max);
            }
            seen += take;
        } else {
            // A run of one value, in as few whole bytes as its width needs.
            let bytes = width.div_ceil(8);
            let value = levels.get(at..at.checked_add(bytes)?)?.iter().rev().fold(0u64, |v, &b| v << 8 | u64::from(b));
            at += bytes;
            let take = (header >> 1).min(count - seen);
            if value == max {
                defined += take;
            }
            seen += take;
        }
    }
    Some(defined)
}

impl CheckedPages {
    /// Whether a data page of PLAIN byte arrays holds as many values as its definition levels
    /// say are there: the crate's decoder reads each value's length without checking that four
    /// bytes are left (a panic on a damaged page).
    fn holds_its_values(&self, page: &Page) -> bool {
        let (values, defined) = match page {
            Page::DataPage { buf, num_values, .. } => {
                // Levels in v1 pages: each section its length (four bytes) then its runs.
                let mut at = 0usize;
                if self.max_rep > 0 {
                    let Some(len) = u32_at(buf, at) else { return false };
                    at = at.saturating_add(4).saturating_add(len);
                }
                let defined = if self.max_def > 0 {
                    let Some(len) = u32_at(buf, at) else { return false };
                    let Some(levels) = buf.get(at + 4..(at + 4).saturating_add(len)) else { return false };
                    at = at + 4 + len;
                    defined_values(levels, *num_values, self.max_def)
                } else {
                    Some(u64::from(*num_values))
                };
                (buf.get(at..), defined)
            }
            Page::DataPageV2 { buf, num_values, def_levels_byte_len, rep_levels_byte_len, .. } => {
                let (rep, def) = (*rep_levels_byte_len as usize, *def_levels_byte_len as usize);
                let defined = if self.max_def > 0 { buf.get(rep..rep + def).and_then(|levels| defined_values(levels, *num_values, self.max_def)) } else { Some(u64::from(*num_values)) };
                (buf.get(rep + def..), defined)
            }
            Page::DictionaryPage { .. } => return true,
        };
        match (values, defined.and_then(|d| u32::try_from(d).ok())) {
            (Some(values), Some(defined)) => holds_byte_arrays(values, defined),
            _ => false,
        }
    }
}

/// Most values a list column holds in one row group.
const MAX_LIST_LEVELS: u64 = 1 << 25;

impl Iterator for CheckedPages {
    type Item = parquet::errors::Result<Page>;

    fn next(&mut self) -> Option<Self::Item> {
        self.get_next_page().transpose()
    }
}

impl PageReader for CheckedPages {
    #[allow(deprecated)] // BIT_PACKED: the encoding refused
    fn get_next_page(&mut self) -> parquet::errors::Result<Option<Page>> {
        let page = self.inner.get_next_page()?;
        let refuse = |why: &str| Err(parquet::errors::ParquetError::General(why.into()));
        match &page {
            Some(Page::DictionaryPage { buf, num_values, .. }) => {
                if self.physical == Physical::BYTE_ARRAY && !holds_byte_arrays(buf, *num_values) {
                    return refuse("its dictionary holds fewer values than it says");
                }
                self.dictionary = true;
            }
            Some(page) => {
                if matches!(page.encoding(), Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY) && !self.dictionary {
                    return refuse("a page is dictionary-encoded but the column has no dictionary");
                }
                // What the crate's level decoders would read past the page's end (a panic).
                match page {
                    Page::DataPage { def_level_encoding, rep_level_encoding, .. } if (self.max_def > 0 && *def_level_encoding == Encoding::BIT_PACKED) || (self.max_rep > 0 && *rep_level_encoding == Encoding::BIT_PACKED) => {
                        return refuse("its levels are in the old bit-packed encoding, which Vigil does not read (write the file again with a current writer)");
                    }
                    Page::DataPageV2 { buf, def_levels_byte_len, rep_levels_byte_len, .. } if u64::from(*def_levels_byte_len) + u64::from(*rep_levels_byte_len) > buf.len() as u64 => {
                        return refuse("a page's levels are longer than the page");
                    }
                    _ => {}
                }
                if self.physical == Physical::BYTE_ARRAY && page.encoding() == Encoding::PLAIN && !self.holds_its_values(page) {
                    return refuse("a page holds fewer values than its levels say");
                }
                if let Some(left) = &mut self.levels_left {
                    *left = match left.checked_sub(u64::from(page.num_values())) {
                        Some(left) => left,
                        None => return refuse(&format!("a list column holds more than {} values in one row group; Vigil reads lists up to that", crate::format::format_count(MAX_LIST_LEVELS))),
                    };
                }
            }
            None => {}
        }
        Ok(page)
    }

    fn peek_next_page(&mut self) -> parquet::errors::Result<Option<PageMetadata>> {
        self.inner.peek_next_page()
    }

    fn skip_next_page(&mut self) -> parquet::errors::Result<()> {
        self.inner.skip_next_page()
    }
}

/// How the leaf column `descr` is read, or why it is left out.
fn leaf(root: &Type, descr: &ColumnDescriptor, index: usize) -> Result<Leaf, String> {
    let parts = descr.path().parts();
    // Definition levels along the path: the list's own, then its element's.
    let (mut def, mut list_def, mut element_def) = (0i16, None, None);
    let mut node = root;
    let mut names = Vec::new();
    // The groups the LIST and MAP layouts add are not part of the name: the repeated child of
    // a LIST- or MAP-annotated group, and a LIST's element when it is that group's only field.
    let (mut wrapper_next, mut element_next) = (false, false);
    for part in parts {
        let Some(child) = node.get_fields().iter().find(|f| f.name() == part) else {
            return Err("is not where the schema says".into());
        };
        let wrapper = wrapper_next || (element_next && node.get_fields().len() == 1);
        element_next = wrapper_next && wrapper_next_is_list(node);
        let info = child.get_basic_info();
        wrapper_next = matches!(info.logical_type_ref(), Some(LogicalType::List | LogicalType::Map)) || matches!(info.converted_type(), ConvertedType::LIST | ConvertedType::MAP | ConvertedType::MAP_KEY_VALUE);
        let repetition = child.get_basic_info().has_repetition().then(|| child.get_basic_info().repetition());
        if repetition == Some(Repetition::REPEATED) {
            if list_def.is_some() {
                return Err("is a list of lists (left out)".into());
            }
            list_def = Some(def);
            def += 1;
            element_def = Some(def);
        } else if repetition == Some(Repetition::OPTIONAL) {
            def += 1;
        }
        if !wrapper {
            names.push(part.clone());
        }
        node = child;
    }
    if names.is_empty() {
        names.push(parts.join("."));
    }
    if descr.physical_type() == Physical::FIXED_LEN_BYTE_ARRAY && descr.type_length() <= 0 {
        return Err(format!("has values of {} bytes (left out)", descr.type_length()));
    }
    let logical = descr.logical_type_ref();
    let converted = descr.converted_type();
    let kind = match descr.physical_type() {
        Physical::BOOLEAN | Physical::FLOAT | Physical::DOUBLE => Kind::Plain,
        Physical::INT32 | Physical::INT64 => match (logical, converted) {
            (Some(LogicalType::Date), _) | (_, ConvertedType::DATE) => Kind::Date,
            (Some(LogicalType::Decimal(d)), _) => Kind::Decimal(d.scale),
            (_, ConvertedType::DECIMAL) => Kind::Decimal(descr.type_scale()),
            (Some(LogicalType::Time(t)), _) => Kind::Time(per_ms(&t.unit)),
            (_, ConvertedType::TIME_MILLIS) => Kind::Time(1),
            (_, ConvertedType::TIME_MICROS) => Kind::Time(1_000),
            (Some(LogicalType::Timestamp(t)), _) => Kind::Timestamp(per_ms(&t.unit), t.is_adjusted_to_u_t_c),
            (_, ConvertedType::TIMESTAMP_MILLIS) => Kind::Timestamp(1, true),
            (_, ConvertedType::TIMESTAMP_MICROS) => Kind::Timestamp(1_000, true),
            (Some(LogicalType::Integer(i)), _) if !i.is_signed => Kind::Unsigned,
            (_, ConvertedType::UINT_32 | ConvertedType::UINT_64) => Kind::Unsigned,
            _ => Kind::Plain,
        },
        Physical::INT96 => Kind::Int96,
        Physical::BYTE_ARRAY | Physical::FIXED_LEN_BYTE_ARRAY => match (logical, converted) {
            (Some(LogicalType::Decimal(d)), _) => Kind::Decimal(d.scale),
            (_, ConvertedType::DECIMAL) => Kind::Decimal(descr.type_scale()),
            (Some(LogicalType::Uuid), _) => Kind::Uuid,
            (Some(LogicalType::Float16), _) => Kind::Float16,
            (Some(LogicalType::String | LogicalType::Enum | LogicalType::Json), _) | (_, ConvertedType::UTF8 | ConvertedType::ENUM | ConvertedType::JSON) => Kind::Text,
            _ => Kind::Bytes,
        },
    };
    // A decimal's scale within what any decimal has (a damaged one would write its zeros).
    let kind = match kind {
        Kind::Decimal(scale) if !(-76..=76).contains(&scale) => Kind::Bytes,
        other => other,
    };
    let list = list_def.zip(element_def);
    Ok(Leaf { index, name: names.join("."), kind, max_def: descr.max_def_level(), list })
}

/// Whether `group` is annotated as a list (its repeated child may wrap a single element).
fn wrapper_next_is_list(group: &Type) -> bool {
    let info = group.get_basic_info();
    matches!(info.logical_type_ref(), Some(LogicalType::List)) || info.converted_type() == ConvertedType::LIST
}

fn per_ms(unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::MILLIS => 1,
        TimeUnit::MICROS => 1_000,
        TimeUnit::NANOS => 1_000_000,
    }
}

/// A value of a column as text.
trait Text {
    fn write(&self, kind: Kind, out: &mut String, invalid: &mut Invalid);
}

fn note_invalid(invalid: &mut Invalid, what: impl FnOnce() -> String) {
    invalid.count += 1;
    if invalid.first.is_none() {
        invalid.first = Some(what());
    }
}

/// Two digits.
fn push_2(out: &mut String, n: i64) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// `YYYY-MM-DD` of a day since 1970; `false` outside years 0 to 9999 (what the loader reads).
fn push_date(days: i64, out: &mut String) -> bool {
    let (year, month, day) = crate::data::time::civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return false;
    }
    push_2(out, year / 100);
    push_2(out, year % 100);
    out.push('-');
    push_2(out, i64::from(month));
    out.push('-');
    push_2(out, i64::from(day));
    true
}

/// `HH:MM:SS.mmm` of a millisecond of the day.
fn push_time(ms: i64, out: &mut String) {
    push_2(out, ms / 3_600_000);
    out.push(':');
    push_2(out, ms / 60_000 % 60);
    out.push(':');
    push_2(out, ms / 1000 % 60);
    out.push('.');
    out.push(char::from(b'0' + (ms / 100 % 10) as u8));
    push_2(out, ms % 100);
}

/// ISO 8601 to the millisecond (written by hand: a formatter per value was most of the time
/// spent on a file of times).
fn write_timestamp(ms: i64, utc: bool, out: &mut String, invalid: &mut Invalid) {
    const DAY_MS: i64 = 86_400_000;
    if !push_date(ms.div_euclid(DAY_MS), out) {
        note_invalid(invalid, || format!("a time {ms} ms from 1970"));
        return;
    }
    out.push('T');
    push_time(ms.rem_euclid(DAY_MS), out);
    if utc {
        out.push('Z');
    }
}

fn write_integer(value: i128, kind: Kind, out: &mut String, invalid: &mut Invalid) {
    use std::fmt::Write;
    match kind {
        Kind::Date => {
            if !i64::try_from(value).is_ok_and(|days| push_date(days, out)) {
                note_invalid(invalid, || format!("a date {value} days from 1970"));
            }
        }
        Kind::Time(per_ms) => {
            let ms = i64::try_from(value).unwrap_or(i64::MAX).div_euclid(per_ms);
            if (0..86_400_000).contains(&ms) {
                push_time(ms, out);
            } else {
                note_invalid(invalid, || format!("a time of day {ms} ms after midnight"));
            }
        }
        Kind::Timestamp(per_ms, utc) => write_timestamp(i64::try_from(value).unwrap_or(i64::MAX).div_euclid(per_ms), utc, out, invalid),
        Kind::Decimal(scale) => write_decimal(value, scale, out),
        // i128's own formatting is several times slower, and every value but a u64's fits.
        _ => match i64::try_from(value) {
            Ok(v) => {
                let _ = write!(out, "{v}");
            }
            Err(_) => {
                let _ = write!(out, "{value}");
            }
        },
    }
}

/// An unscaled decimal as exact text ("-12.30" for -1230 at scale 2).
fn write_decimal(unscaled: i128, scale: i32, out: &mut String) {
    use std::fmt::Write;
    if scale <= 0 {
        let _ = write!(out, "{unscaled}");
        for _ in 0..-scale {
            out.push('0');
        }
        return;
    }
    let digits = unscaled.unsigned_abs().to_string();
    let scale = scale as usize;
    if unscaled < 0 {
        out.push('-');
    }
    if digits.len() <= scale {
        out.push_str("0.");
        for _ in digits.len()..scale {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        let _ = write!(out, "{whole}.{fraction}");
    }
}

impl Text for bool {
    fn write(&self, _: Kind, out: &mut String, _: &mut Invalid) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl Text for i32 {
    fn write(&self, kind: Kind, out: &mut String, invalid: &mut Invalid) {
        let value = if kind == Kind::Unsigned { i128::from(*self as u32) } else { i128::from(*self) };
        write_integer(value, kind, out, invalid);
    }
}

impl Text for i64 {
    fn write(&self, kind: Kind, out: &mut String, invalid: &mut Invalid) {
        let value = if kind == Kind::Unsigned { i128::from(*self as u64) } else { i128::from(*self) };
        write_integer(value, kind, out, invalid);
    }
}

/// A float's shortest text (an f32's own: "0.1", not its f64 widening's "0.10000000149"); NaN
/// and infinities have none.
fn write_float(value: impl std::fmt::Display, finite: bool, out: &mut String, invalid: &mut Invalid) {
    use std::fmt::Write;
    if finite {
        let _ = write!(out, "{value}");
    } else {
        note_invalid(invalid, || value.to_string());
    }
}

impl Text for f32 {
    fn write(&self, _: Kind, out: &mut String, invalid: &mut Invalid) {
        write_float(self, self.is_finite(), out, invalid);
    }
}

impl Text for f64 {
    fn write(&self, _: Kind, out: &mut String, invalid: &mut Invalid) {
        write_float(self, self.is_finite(), out, invalid);
    }
}

impl Text for Int96 {
    fn write(&self, _: Kind, out: &mut String, invalid: &mut Invalid) {
        write_timestamp(self.to_nanos().div_euclid(1_000_000), true, out, invalid);
    }
}

fn write_bytes(bytes: &[u8], kind: Kind, out: &mut String, invalid: &mut Invalid) {
    use std::fmt::Write;
    match kind {
        Kind::Text => out.push_str(&String::from_utf8_lossy(bytes)),
        Kind::Decimal(scale) => {
            let Some(&first) = bytes.first() else {
                note_invalid(invalid, || "a decimal of 0 bytes".into());
                return;
            };
            // Big-endian two's complement, sign-extended to 16 bytes. A wider one (256 bits)
            // is read when its leading bytes only extend the sign.
            let fill = if first & 0x80 != 0 { 0xff } else { 0 };
            let wide_by = bytes.len().saturating_sub(16);
            let fits = bytes[..wide_by].iter().all(|&b| b == fill) && bytes.get(wide_by).is_some_and(|&b| (b & 0x80 != 0) == (fill == 0xff));
            if wide_by > 0 && !fits {
                note_invalid(invalid, || format!("a decimal of {} bytes beyond 38 digits", bytes.len()));
                return;
            }
            let bytes = &bytes[wide_by..];
            let mut wide = [fill; 16];
            wide[16 - bytes.len()..].copy_from_slice(bytes);
            write_decimal(i128::from_be_bytes(wide), scale, out);
        }
        Kind::Uuid if bytes.len() == 16 => {
            for (i, b) in bytes.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    out.push('-');
                }
                let _ = write!(out, "{b:02x}");
            }
        }
        Kind::Float16 if bytes.len() == 2 => {
            let value = half::f16::from_le_bytes([bytes[0], bytes[1]]).to_f64();
            write_float(value, value.is_finite(), out, invalid);
        }
        _ => {
            for b in bytes {
                let _ = write!(out, "{b:02x}");
            }
        }
    }
}

impl Text for ByteArray {
    fn write(&self, kind: Kind, out: &mut String, invalid: &mut Invalid) {
        write_bytes(self.data(), kind, out, invalid);
    }
}

impl Text for FixedLenByteArray {
    fn write(&self, kind: Kind, out: &mut String, invalid: &mut Invalid) {
        write_bytes(self.data(), kind, out, invalid);
    }
}

/// Reads the next `rows` rows (whole records) of a column into `cells`; the rows read.
fn read_batch(reader: &mut ColumnReader, leaf: &Leaf, rows: usize, cells: &mut Cells, invalid: &mut Invalid) -> parquet::errors::Result<usize> {
    match reader {
        ColumnReader::BoolColumnReader(r) => read_typed(r, leaf, rows, cells, invalid),
        ColumnReader::Int32ColumnReader(r) => read_typed(r, leaf, rows, cells, invalid),
        ColumnReader::Int64ColumnReader(r) => read_typed(r, leaf, rows, cells, invalid),
        ColumnReader::Int96ColumnReader(r) => read_typed(r, leaf, rows, cells, invalid),
        ColumnReader::FloatColumnReader(r) => read_typed(r, leaf, rows, cells, invalid),
        ColumnReader::DoubleColumnReader(r) => read_typed(r, leaf, rows, cells, invalid),
        ColumnReader::ByteArrayColumnReader(r) => read_typed(r, leaf, rows, cells, invalid),
        ColumnReader::FixedLenByteArrayColumnReader(r) => read_typed(r, leaf, rows, cells, invalid),
    }
}

fn read_typed<T>(reader: &mut parquet::column::reader::ColumnReaderImpl<T>, leaf: &Leaf, rows: usize, cells: &mut Cells, invalid: &mut Invalid) -> parquet::errors::Result<usize>
where
    T: parquet::data_type::DataType,
    T::T: Text,
{
    let (mut values, mut defs, mut reps) = (Vec::new(), Vec::new(), Vec::new());
    let mut records = 0;
    // A call may stop at a page's end: read on until the batch is full or the column ends.
    while records < rows {
        let (read, _, _) = reader.read_records(rows - records, (leaf.max_def > 0).then_some(&mut defs), leaf.list.is_some().then_some(&mut reps), &mut values)?;
        if read == 0 {
            break;
        }
        records += read;
    }
    let mut values = values.iter();
    // Writes the next value; whether it has text (NaN or a time outside the calendar has none).
    let mut next = |cells: &mut Cells, invalid: &mut Invalid| -> parquet::errors::Result<bool> {
        let value = values.next().ok_or_else(|| parquet::errors::ParquetError::General("fewer values than its levels say".into()))?;
        let before = cells.text.len();
        value.write(leaf.kind, &mut cells.text, invalid);
        Ok(cells.text.len() > before || matches!(leaf.kind, Kind::Text | Kind::Bytes))
    };
    match leaf.list {
        None if leaf.max_def == 0 => {
            for _ in 0..records {
                let written = next(cells, invalid)?;
                cells.end(!written);
            }
        }
        None => {
            for &def in &defs {
                if def == leaf.max_def {
                    let written = next(cells, invalid)?;
                    cells.end(!written);
                } else {
                    cells.end(true);
                }
            }
        }
        Some((list_def, element_def)) => {
            // A record starts at each repetition level 0: "[a, b]", "[]", or missing.
            // `open`: a list is being written, and whether it has an element yet.
            let mut open: Option<bool> = None;
            for (&def, &rep) in defs.iter().zip(&reps) {
                if rep == 0 {
                    if open.take().is_some() {
                        close_list(cells);
                    }
                    if def < list_def {
                        cells.end(true);
                        continue;
                    }
                    cells.text.push('[');
                    open = Some(false);
                }
                if open.is_none() {
                    // A value continuing a list that was never opened (a damaged file).
                    return Err(parquet::errors::ParquetError::General("a list continues where none began".into()));
                }
                if def >= element_def {
                    if open == Some(true) {
                        cells.text.push_str(", ");
                    }
                    open = Some(true);
                    if def < leaf.max_def || !next(cells, invalid)? {
                        cells.text.push_str("null");
                    }
                }
            }
            if open.is_some() {
                close_list(cells);
            }
        }
    }
    Ok(records)
}

fn close_list(cells: &mut Cells) {
    cells.text.push(']');
    cells.end(false);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    #[test]
    fn decimals_are_exact_text() {
        let text = |v: i128, scale: i32| {
            let mut out = String::new();
            write_decimal(v, scale, &mut out);
            out
        };
        assert_eq!(text(-1230, 2), "-12.30");
        assert_eq!(text(5, 3), "0.005");
        assert_eq!(text(-5, 3), "-0.005");
        assert_eq!(text(12, 0), "12");
        assert_eq!(text(12, -2), "1200");
        assert_eq!(text(i128::MAX, 38), "1.70141183460469231731687303715884105727");
        let mut out = String::new();
        write_bytes(&[0xff, 0x85], Kind::Decimal(1), &mut out, &mut Invalid::default());
        assert_eq!(out, "-12.3");
    }

    #[test]
    fn times_are_iso_text_to_the_millisecond() {
        let text = |ms: i64, utc: bool| {
            let mut out = String::new();
            write_timestamp(ms, utc, &mut out, &mut Invalid::default());
            out
        };
        assert_eq!(text(0, true), "1970-01-01T00:00:00.000Z");
        assert_eq!(text(-1, false), "1969-12-31T23:59:59.999");
        assert_eq!(text(1_767_323_045_120, true), "2026-01-02T03:04:05.120Z");
        for ms in [-62_167_219_200_000, 253_402_300_799_999, 1_767_323_045_120] {
            assert_eq!(crate::data::time::parse_timestamp_text(&text(ms, true)), Some(ms));
        }
        let mut invalid = Invalid::default();
        let mut out = String::new();
        write_timestamp(253_402_300_800_000, true, &mut out, &mut invalid);
        assert_eq!((out.as_str(), invalid.count), ("", 1));
    }

    #[test]
    fn definition_levels_are_counted_as_the_crate_reads_them() {
        // A run of five 1s (header 5 << 1), then eight bit-packed levels 0,1,0,1,0,1,0,1 (one
        // group: header 1 << 1 | 1, one byte at width 1).
        let levels = [10, 1, 3, 0b1010_1010];
        assert_eq!(defined_values(&levels, 13, 1), Some(9));
        assert_eq!(defined_values(&levels, 11, 1), Some(8), "only the levels the page has");
        assert_eq!(defined_values(&levels, 14, 1), None, "cut short");
        // Width 2 (max 2): levels 2,1,2,0 packed two bits each, then a run of three 2s.
        let levels = [3, 0b0010_0110, 0, 6, 2];
        assert_eq!(defined_values(&levels, 11, 2), Some(5));
        // A header of nothing, over and over, ends with the bytes.
        assert_eq!(defined_values(&[0; 64], 1, 1), None);
    }

    #[test]
    fn what_is_not_parquet_says_so() {
        for bytes in [b"PAR1".to_vec(), b"PAR1 not really parquet PAR1".to_vec(), b"PAR1\0\0\0\0\0\0\0\0\0\0\0\0".to_vec()] {
            let err = ParquetText::open(bytes).err().unwrap();
            assert!(matches!(err, ParquetError::Unreadable(_)), "{err}");
            assert!(err.to_string().starts_with("this looks like a Parquet file but cannot be read as one"), "{err}");
        }
    }
}
