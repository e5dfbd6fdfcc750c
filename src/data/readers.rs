//! The readers of binary formats (Parquet files, Excel workbooks): each turns a whole file into
//! comma-separated text for the loader's body, a batch at a time. Their code and crates are
//! behind the `readers` feature: the command and the tests read such files in-process
//! ([`Reading`]); the browser's table worker is built without them and hands the file
//! ([`ReaderJob`]) to the reader worker, loaded only when such a file is opened, which sends the
//! text back batch by batch ([`crate::data::load::Finishing::feed_text`]). This module's types are
//! what both sides share.

use serde::{Deserialize, Serialize};

/// A Parquet file's first (and last) bytes.
pub fn is_parquet(head: &[u8]) -> bool {
    head.starts_with(b"PAR1")
}

/// A zip file's first bytes (an .xlsx is one).
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// Which reader a file needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReaderKind {
    Parquet,
    Workbook,
}

impl ReaderKind {
    /// The reader a file with these first bytes needs (at least four of them), if any.
    pub fn of(head: &[u8]) -> Option<Self> {
        if is_zip(head) {
            Some(Self::Workbook)
        } else if is_parquet(head) {
            Some(Self::Parquet)
        } else {
            None
        }
    }
}

/// A file handed to a reader: its bytes (none when the reader reads the file itself, see
/// [`crate::data::load::TableLoader::hand_over_file`]), and the sheet asked for (workbooks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderJob {
    pub kind: ReaderKind,
    pub bytes: Vec<u8>,
    pub sheet: Option<String>,
    /// See [`crate::data::load::LoadOptions::sheet_or_first`].
    pub sheet_or_first: bool,
}

/// What the app says about a Parquet file read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParquetFile {
    pub rows: u64,
    pub row_groups: usize,
    /// The codecs its columns are compressed with ("zstd", "snappy"…), in the order met.
    pub codecs: Vec<String>,
}

impl ParquetFile {
    /// "Parquet, 3 row groups, zstd".
    pub fn describe(&self) -> String {
        let groups = if self.row_groups == 1 { "1 row group".to_string() } else { format!("{} row groups", self.row_groups) };
        let mut parts = vec!["Parquet".to_string(), groups];
        if !self.codecs.is_empty() {
            parts.push(self.codecs.join(" and "));
        }
        parts.join(", ")
    }
}

/// The sheet read and the workbook's sheets, in their order (for the choice in the app and
/// `vigil --sheet`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workbook {
    pub sheet: String,
    pub sheets: Vec<String>,
}

/// What a reader says once a file's text is written: the file, and notices for the analyst.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderEnd {
    pub file: ReaderFile,
    pub notices: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReaderFile {
    Parquet(ParquetFile),
    Workbook(Workbook),
}

/// A file being read by its reader in this process (see the module's text).
#[cfg(feature = "readers")]
pub enum Reading {
    /// The file, and its header row until the first batch takes it.
    Parquet(Box<super::parquet::ParquetText>, Vec<u8>),
    /// A sheet's text is written at once (calamine reads a sheet whole) and handed on whole.
    Workbook(Box<super::xlsx::SheetText>),
}

#[cfg(feature = "readers")]
impl Reading {
    /// Opens the file (a workbook's sheet is read here).
    pub fn open(job: ReaderJob) -> Result<Self, super::load::LoadError> {
        Self::open_with_progress(job, &mut |_, _| {})
    }

    /// [`Reading::open`], told the rows of a workbook's sheet read so far (and the rows it
    /// says it spans) while it is read.
    pub fn open_with_progress(job: ReaderJob, progress: &mut dyn FnMut(u64, Option<u64>)) -> Result<Self, super::load::LoadError> {
        use super::load::LoadError;
        match job.kind {
            ReaderKind::Parquet => super::parquet::ParquetText::open(job.bytes).map(Self::parquet).map_err(|e| LoadError::Parquet(e.to_string())),
            ReaderKind::Workbook => super::xlsx::sheet_as_csv(&job.bytes, job.sheet.as_deref(), job.sheet_or_first, progress)
                .map(|sheet| Self::Workbook(Box::new(sheet)))
                .map_err(|e| LoadError::Workbook(e.to_string())),
        }
    }

    /// Opens a Parquet file read in ranges (the reader worker reads the browser's `File`).
    pub fn open_parquet_ranges(file: super::parquet::RangeFile) -> Result<Self, super::load::LoadError> {
        super::parquet::ParquetText::open_ranges(file).map(Self::parquet).map_err(|e| super::load::LoadError::Parquet(e.to_string()))
    }

    /// A Parquet file opened, its header row held for the first batch.
    fn parquet(text: super::parquet::ParquetText) -> Self {
        let mut header = Vec::new();
        text.header(&mut header);
        Self::Parquet(Box::new(text), header)
    }

    /// Appends the next batch of text to `out` (a Parquet file's header comes with its first
    /// batch); `false` at the end.
    pub fn next_batch(&mut self, out: &mut Vec<u8>) -> Result<bool, super::load::LoadError> {
        match self {
            Self::Parquet(text, header) => {
                out.append(header);
                text.next_batch(out).map_err(|e| super::load::LoadError::Parquet(e.to_string()))
            }
            Self::Workbook(sheet) => {
                let more = !sheet.csv.is_empty();
                out.append(&mut sheet.csv);
                Ok(more)
            }
        }
    }

    /// Rows written so far, and the rows the file holds when known.
    pub fn progress(&self) -> (u64, Option<u64>) {
        match self {
            Self::Parquet(text, _) => {
                let (done, total) = text.progress();
                (done, Some(total))
            }
            Self::Workbook(_) => (0, None),
        }
    }

    /// What the reader says about the file, once every batch is written.
    pub fn finish(self) -> ReaderEnd {
        match self {
            Self::Parquet(text, _) => {
                let (file, notices) = text.finish();
                ReaderEnd { file: ReaderFile::Parquet(file), notices }
            }
            Self::Workbook(sheet) => ReaderEnd { file: ReaderFile::Workbook(sheet.workbook), notices: sheet.notices },
        }
    }
}
