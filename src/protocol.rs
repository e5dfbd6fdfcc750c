//! The typed messages between the UI thread and the worker that owns the table.
//!
//! Both sides serialise these with serde (MessagePack) over `postMessage`; a `File` to load
//! travels beside the bytes as its own structured-clone value. Results are small by
//! construction: summaries, one page of rows, reports, never the table.
//!
//! Every analysis goes through one pair: `Run` (any analysis of the registry, with its
//! parameters) is answered by `Step`s while it runs, then one `Done` with its report or a
//! typed [`JobError`]. The other requests are about the table and the view (rows, filter,
//! types, values) or follow-up questions on a clustering the worker keeps.

use serde::{Deserialize, Serialize};


use crate::analysis::registry::{AnyError, AnyParams, AnyReport};
use crate::data::demo::DemoParams;
use crate::data::filter::Filter;
use crate::data::sort::SortKey;
use crate::data::load::{LoadOptions, LoadReport, RejectedRow};
use crate::data::table::{ColumnType, Table};
use crate::format::format_count;

/// Where a table came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DataSource {
    Demo(DemoParams),
    /// A local file: its name (the bytes are sent beside the request).
    File { name: String },
    /// Several local files with the same columns, appended in this order (the bytes are sent
    /// beside the request, in the same order).
    Files { names: Vec<String> },
    Url { url: String },
}

impl DataSource {
    pub fn describe(&self) -> String {
        match self {
            Self::Demo(params) => format!("demo dataset ({} rows, seed {})", format_count(params.rows as u64), params.seed),
            Self::File { name } => name.clone(),
            Self::Files { names } => format!("{} files: {}", names.len(), names.join(", ")),
            Self::Url { url } => url.clone(),
        }
    }
}

/// A message as bytes for `postMessage` (MessagePack, fields by name).
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, String> {
    rmp_serde::to_vec_named(message).map_err(|e| format!("cannot encode a message: {e}"))
}

/// A message back from bytes; an error names what did not fit. Two steps, bytes to a MessagePack
/// tree then the tree to `T`: the byte decoder is compiled once, not once per type the message
/// holds (which made it the largest part of the page's module).
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let tree = rmpv::decode::read_value(&mut &bytes[..]).map_err(|e| format!("cannot decode a message: {e}"))?;
    T::deserialize(tree::Tree(tree)).map_err(|e| format!("cannot decode a message: {e}"))
}

/// A MessagePack tree read as a typed message, in the layout rmp-serde writes (structs as maps by
/// field name, a unit variant as its name, any other variant as a map of one entry: its name to
/// its content). rmpv's own reader of trees expects another layout (variants as arrays).
mod tree {
    use rmpv::Value;
    use serde::de::{self, DeserializeSeed, Visitor};
    use std::fmt;

    #[derive(Debug)]
    pub struct Error(String);

    impl fmt::Display for Error {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for Error {}

    impl de::Error for Error {
        fn custom<T: fmt::Display>(message: T) -> Self {
            Error(message.to_string())
        }
    }

    pub struct Tree(pub Value);

    impl<'de> de::Deserializer<'de> for Tree {
        type Error = Error;

        /// As rmp-serde, which wrote the message.
        fn is_human_readable(&self) -> bool {
            false
        }

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.0 {
                Value::Nil => visitor.visit_unit(),
                Value::Boolean(b) => visitor.visit_bool(b),
                Value::Integer(n) => match (n.as_u64(), n.as_i64()) {
                    (Some(u), _) => visitor.visit_u64(u),
                    (None, Some(i)) => visitor.visit_i64(i),
                    (None, None) => Err(Error(format!("integer {n} out of range"))),
                },
                Value::F32(x) => visitor.visit_f32(x),
                Value::F64(x) => visitor.visit_f64(x),
                Value::String(s) => match s.into_str() {
                    Some(s) => visitor.visit_string(s),
                    None => Err(Error("a text that is not UTF-8".into())),
                },
                Value::Binary(b) => visitor.visit_byte_buf(b),
                Value::Array(items) => {
                    let mut seq = Seq(items.into_iter());
                    let out = visitor.visit_seq(&mut seq)?;
                    match seq.0.len() {
                        0 => Ok(out),
                        left => Err(Error(format!("{left} elements too many in an array"))),
                    }
                }
                Value::Map(entries) => visitor.visit_map(Map { entries: entries.into_iter(), value: None }),
                Value::Ext(tag, _) => Err(Error(format!("an unexpected extension (type {tag})"))),
            }
        }

        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.0 {
                Value::Nil => visitor.visit_none(),
                _ => visitor.visit_some(self),
            }
        }

        fn deserialize_enum<V: Visitor<'de>>(self, _name: &'static str, _variants: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
            match self.0 {
                tag @ Value::String(_) => visitor.visit_enum(Variant { tag, content: None }),
                Value::Map(mut entries) if entries.len() == 1 => match entries.pop() {
                    Some((tag, content)) => visitor.visit_enum(Variant { tag, content: Some(content) }),
                    None => Err(Error("an empty map for a variant".into())),
                },
                other => Err(Error(format!("a variant expected, found {other}"))),
            }
        }

        fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
            visitor.visit_newtype_struct(self)
        }

        fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
            match self.0 {
                Value::Nil => visitor.visit_unit(),
                Value::Array(items) if items.is_empty() => visitor.visit_unit(),
                other => Err(Error(format!("a unit struct expected, found {other}"))),
            }
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
            seq tuple tuple_struct map struct identifier ignored_any
        }
    }

    struct Seq(std::vec::IntoIter<Value>);

    impl<'de> de::SeqAccess<'de> for Seq {
        type Error = Error;

        fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
            self.0.next().map(|item| seed.deserialize(Tree(item))).transpose()
        }

        fn size_hint(&self) -> Option<usize> {
            Some(self.0.len())
        }
    }

    struct Map {
        entries: std::vec::IntoIter<(Value, Value)>,
        value: Option<Value>,
    }

    impl<'de> de::MapAccess<'de> for Map {
        type Error = Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
            match self.entries.next() {
                Some((key, value)) => {
                    self.value = Some(value);
                    seed.deserialize(Tree(key)).map(Some)
                }
                None => Ok(None),
            }
        }

        fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
            seed.deserialize(Tree(self.value.take().unwrap_or(Value::Nil)))
        }

        fn size_hint(&self) -> Option<usize> {
            Some(self.entries.len())
        }
    }

    struct Variant {
        tag: Value,
        content: Option<Value>,
    }

    impl<'de> de::EnumAccess<'de> for Variant {
        type Error = Error;
        type Variant = Content;

        fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Content), Error> {
            Ok((seed.deserialize(Tree(self.tag))?, Content(self.content)))
        }
    }

    struct Content(Option<Value>);

    impl<'de> de::VariantAccess<'de> for Content {
        type Error = Error;

        fn unit_variant(self) -> Result<(), Error> {
            match self.0 {
                None | Some(Value::Nil) => Ok(()),
                Some(other) => Err(Error(format!("a unit variant with content {other}"))),
            }
        }

        fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
            seed.deserialize(Tree(self.0.unwrap_or(Value::Nil)))
        }

        fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
            de::Deserializer::deserialize_any(Tree(self.0.unwrap_or(Value::Nil)), visitor)
        }

        fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
            self.tuple_variant(fields.len(), visitor)
        }
    }
}

/// A request from the UI; `id` ties responses to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: u64,
    pub request: Request,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// With `cube`, the file is streamed into a cube and a sample instead of loaded whole (see
    /// [`crate::warehouse::stream`]): for a file larger than the tab can hold.
    Load {
        source: DataSource,
        options: LoadOptions,
        #[serde(default)]
        cube: Option<crate::warehouse::stream::StreamSettings>,
    },
    /// The streamed file's sample as CSV (answered with `StreamSample`).
    StreamSample,
    /// Stop request `id` if it is still running (loads stop at the next chunk).
    Cancel { id: u64 },
    /// Display text of rows `start .. start + count` of the current view (filtered, sorted).
    Rows { start: usize, count: usize },
    /// Sets the global filter, the grid's sort order and the weight column (how many events
    /// each row stands for); answered with `View`.
    SetView { filter: Filter, sort: Option<SortKey>, weight: Option<String> },
    /// Re-reads a column as another type (from its stored values; the file is not re-read).
    SetType { column: String, kind: ColumnType },
    /// The most frequent values of a column (for the filter picker).
    ColumnValues { column: String, limit: usize },
    /// Runs an analysis over the rows passing the filter; answered with `Step`s, then `Done`.
    /// Cancel stops it at its next step.
    Run { params: AnyParams },
    /// Adds (or computes again) a derived column (see [`crate::analysis::groups`]); answered with
    /// `Step`s, then `Summary` and `View` when the column is there, then `Done` with the
    /// grouping's report. Requests sent meanwhile (but Cancel and Load) wait until it is done:
    /// they may name the column.
    Derive { spec: crate::analysis::groups::DerivedColumn },
    /// Adds columns from a second file (a lookup join, see [`crate::data::join`]). With the file
    /// beside the request, it is read first and kept; with `spec`, its columns are added to the
    /// table (the kept file must be `name`). Answered with `Summary` and `View` when columns were
    /// added, then `Joined`. Requests sent meanwhile (but Cancel and Load) wait until it is done.
    Join { name: String, spec: Option<crate::data::join::JoinSpec> },
    /// Details of one point of the last cluster map (by its position in the map).
    ClusterPoint { index: usize },
    /// A filter clause for the last map's points in a rectangle (map units), or of one cluster.
    ClusterSelect { selection: MapSelection },
    /// The last clustering's membership as CSV.
    ClusterExport,
    /// The rows passing the filter, in the grid's order, as CSV (formula-like text neutralised).
    ExportRows,
    /// The last report of each analysis, as the JSON document `vigil analyze` writes, with
    /// `notes` (the data, the filter, the link).
    ExportReports { notes: Vec<String> },
    /// The query that computes the cube of the current view (filter and weight) at these
    /// periods, or a weighted sample of its rows, from the warehouse table `source`.
    WarehouseSql {
        time: String,
        granularity: crate::analysis::series::Granularity,
        utc_offset_minutes: i32,
        time_zone: Option<String>,
        dialect: crate::warehouse::sql::Dialect,
        source: String,
        sample: bool,
    },
}

/// Which points of the cluster map to turn into a filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MapSelection {
    Rectangle { x: (f64, f64), y: (f64, f64) },
    /// A lasso: the polygon's corners in map units.
    Polygon(Vec<(f64, f64)>),
    Cluster(i32),
}

/// One point of the cluster map, for hover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointDetail {
    pub index: usize,
    /// "reported_account_id A900012" or "row 1,234".
    pub name: String,
    pub cluster: i32,
    /// Feature values before transforms.
    pub features: Vec<(String, f64)>,
    pub rows: usize,
}

/// A message from the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// The worker is listening; requests sent earlier were queued by the UI.
    Ready,
    Progress(Progress),
    Loaded { id: u64, summary: TableSummary },
    /// The load failed; the previously loaded table (if any) is still there.
    /// `too_large`: the memory guard refused the file; it can be streamed into a cube instead.
    LoadFailed {
        id: u64,
        message: String,
        #[serde(default)]
        too_large: bool,
    },
    /// The sample a streamed file kept, as CSV with its weights (`None`: no file was streamed).
    StreamSample { id: u64, csv: Option<String> },
    Cancelled { id: u64 },
    /// Rows of the view: each with its 0-based row index in the table.
    Rows { id: u64, start: usize, rows: Vec<(usize, Vec<String>)> },
    /// The view changed: how many rows pass the filter. A filter that does not fit the table
    /// is dropped and explained in `error`.
    /// `error`: the filter was removed; `weight_error`: the weight column was.
    View { id: u64, matched: usize, total: usize, error: Option<String>, weight_error: Option<String> },
    /// The summary was completed or changed (distinct counts after a load, a re-typed column).
    Summary { id: u64, summary: TableSummary },
    ColumnValues { id: u64, column: String, values: Vec<(String, usize)>, distinct: usize },
    /// How far an analysis is: its phase ("fit"), what it does ("k-means run 2 of 4") and the
    /// fraction done (0–1).
    Step { id: u64, phase: String, detail: String, fraction: f64 },
    /// An analysis ended: its report, or why not; its worker time in all and per phase.
    Done { id: u64, result: Result<Box<AnyReport>, JobError>, elapsed_ms: f64, timings: Vec<(String, f64)> },
    Joined { id: u64, answer: JoinAnswer },
    ClusterPoint { id: u64, result: Result<PointDetail, QueryError> },
    /// The clause and how many points it selects.
    ClusterSelect { id: u64, result: Result<(crate::data::filter::Clause, usize), QueryError> },
    ClusterExport { id: u64, result: Result<String, QueryError> },
    ExportRows { id: u64, result: Result<String, QueryError> },
    ExportReports { id: u64, result: Result<String, QueryError> },
    WarehouseSql { id: u64, result: Result<crate::warehouse::sql::Query, QueryError> },
    /// A request about the table that could not be served (e.g. rows before anything is loaded).
    Failed { id: u64, error: QueryError },
}

/// The lookup file a `Join` read or used, and whether the join asked for was made (what it did
/// is then among the summary's notices). Flat, without a `Result`: the page's module stays small.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JoinAnswer {
    pub name: String,
    pub rows: u64,
    pub columns: Vec<String>,
    /// A first guess at the key in the table and in the lookup file (empty: none).
    pub key: String,
    pub lookup_key: String,
    /// Why the file could not be read or the join made.
    pub problem: Option<String>,
}

/// What every request says once the worker crashed twice in a row and was not started again.
pub const ENGINE_STOPPED: &str = "the analysis engine stopped after an internal error and was not restarted; reload the page to continue";

/// Why an analysis gave no report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum JobError {
    /// The analysis itself failed: its own reason.
    #[error("{0}")]
    Failed(AnyError),
    #[error("the analysis was cancelled")]
    Cancelled,
    /// The worker crashed twice in a row and was not started again (the page says so).
    #[error("{ENGINE_STOPPED}")]
    EngineStopped,
    /// Other data was loaded while it ran: its answer would be about a table no longer there.
    #[error("the data changed while the analysis ran; run it again")]
    Superseded,
    #[error("no data is loaded")]
    NoData,
    /// A derived column could not be made: why.
    #[error("{0}")]
    Derive(crate::analysis::groups::DeriveError),
}

/// Why a question about the table or a clustering could not be answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum QueryError {
    #[error("no data is loaded")]
    NoData,
    #[error("there is no column {0:?}")]
    NoColumn(String),
    #[error("run the clustering first")]
    NoClustering,
    #[error("there is no point {0} on the map")]
    NoSuchPoint(usize),
    #[error("{0}")]
    Refused(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub id: u64,
    pub bytes: u64,
    /// Total bytes when known (files; URLs with a Content-Length).
    pub total_bytes: Option<u64>,
    pub rows: u64,
    /// The rows the file holds, when known before they are read (a Parquet file, whose rows
    /// are decoded once the file is read).
    #[serde(default)]
    pub total_rows: Option<u64>,
}

impl Progress {
    /// Completed fraction in 0..=1, when the total is known.
    pub fn fraction(&self) -> Option<f64> {
        if let Some(total) = self.total_rows.filter(|&t| t > 0) {
            return Some((self.rows as f64 / total as f64).clamp(0.0, 1.0));
        }
        self.total_bytes.filter(|&t| t > 0).map(|t| (self.bytes as f64 / t as f64).clamp(0.0, 1.0))
    }
}

/// What the UI knows about a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSummary {
    pub name: String,
    pub kind: ColumnType,
    pub missing: usize,
    /// Exact distinct count; `None` until the worker has counted (just after loading).
    pub distinct: Option<usize>,
    /// Values that did not fit the type (now missing).
    pub mismatches: usize,
    pub heap_bytes: usize,
}

/// What the UI knows about the loaded table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSummary {
    pub source: DataSource,
    pub n_rows: usize,
    pub columns: Vec<ColumnSummary>,
    /// The file's format in words ([`crate::data::load::Dialect::describe`]), written by the worker.
    pub format: String,
    pub notices: Vec<String>,
    pub rejected: Vec<RejectedRow>,
    pub rejected_total: u64,
    /// Bytes as read (compressed size for gzip).
    pub source_bytes: u64,
    pub text_bytes: u64,
    pub elapsed_ms: f64,
    pub heap_bytes: usize,
    /// The table is a cube (see [`crate::warehouse`]): its finest rows and weight.
    #[serde(default)]
    pub cube: Option<crate::warehouse::CubeInfo>,
    /// A column that looks like "each row is this many events", offered as the weight.
    #[serde(default)]
    pub proposed_weight: Option<String>,
    /// The table is the cube of a streamed file, which kept a sample of this many rows.
    #[serde(default)]
    pub streamed_sample: Option<usize>,
    /// The data is a sheet of an Excel workbook: which, and the workbook's sheets.
    #[serde(default)]
    pub workbook: Option<crate::data::readers::Workbook>,
}

impl TableSummary {
    pub fn from_report(report: &LoadReport, source: DataSource, source_bytes: u64, elapsed_ms: f64) -> Self {
        Self {
            source,
            n_rows: report.table.n_rows,
            columns: column_summaries(&report.table),
            format: report.dialect.describe(),
            notices: report.notices.clone(),
            rejected: report.rejected.clone(),
            rejected_total: report.rejected_total,
            source_bytes,
            text_bytes: report.text_bytes,
            elapsed_ms,
            heap_bytes: report.table.heap_bytes(),
            cube: None,
            proposed_weight: None,
            streamed_sample: None,
            workbook: report.dialect.workbook.clone(),
        }
    }

    /// After one column changed (re-typed, derived, replaced): it is counted again; the others
    /// keep the distinct counts they had (counted now only when they had none yet), so a change
    /// to one column of a million rows does not recount every column.
    pub fn refresh_column(&mut self, table: &Table, changed: &str) {
        let before: rustc_hash::FxHashMap<String, Option<usize>> = std::mem::take(&mut self.columns).into_iter().map(|c| (c.name, c.distinct)).collect();
        self.columns = column_summaries(table);
        for (summary, column) in self.columns.iter_mut().zip(&table.columns) {
            summary.distinct = match before.get(&column.name) {
                Some(&Some(count)) if column.name != changed => Some(count),
                _ => Some(column.count_distinct()),
            };
        }
        self.heap_bytes = table.heap_bytes();
    }

    /// Brings the column list up to date after a load, with the distinct counts made
    /// (`distinct`, one per column, counted by [`crate::data::table::DistinctCount`] in parts by
    /// the worker).
    pub fn refresh_columns_counted(&mut self, table: &Table, distinct: &[usize]) {
        self.columns = column_summaries(table);
        for (column, &count) in self.columns.iter_mut().zip(distinct) {
            column.distinct = Some(count);
        }
        self.heap_bytes = table.heap_bytes();
    }

    /// Load throughput in MB/s of text.
    pub fn megabytes_per_second(&self) -> Option<f64> {
        (self.elapsed_ms > 0.0).then(|| self.text_bytes as f64 / 1e6 / (self.elapsed_ms / 1000.0))
    }
}

/// Per-column facts; distinct counts (a hash set per column) only when asked.
fn column_summaries(table: &Table) -> Vec<ColumnSummary> {
    table
        .columns
        .iter()
        .map(|column| ColumnSummary {
            name: column.name.clone(),
            kind: column.kind,
            missing: table.n_rows.saturating_sub(column.count_valid()),
            distinct: None,
            mismatches: column.mismatches.len(),
            heap_bytes: column.heap_bytes(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)] // test code: a failing unwrap is a failing test
    use super::*;

    /// One column re-typed: it alone is counted again; the others keep their counts (here a
    /// planted one, to tell kept from recounted), and one without a count yet gets it.
    #[test]
    fn a_changed_column_is_recounted_alone() {
        use crate::data::builder::retype_column;
        use crate::data::load::{load_bytes, LoadOptions};
        use crate::data::table::ColumnType;
        let mut report = load_bytes(b"a,b,c\n1,x,p\n2,y,p\n2,1,q\n", LoadOptions::default()).unwrap();
        let mut summary = TableSummary::from_report(&report, DataSource::Demo(DemoParams { rows: 3, seed: 1 }), 30, 1.0);
        summary.refresh_columns_counted(&report.table, &[999, 3, 2]);
        summary.columns[2].distinct = None;
        let b = &mut report.table.columns[1];
        *b = retype_column(b, ColumnType::Integer);
        summary.refresh_column(&report.table, "b");
        let counts: Vec<_> = summary.columns.iter().map(|c| (c.name.as_str(), c.kind, c.distinct)).collect();
        assert_eq!(counts, vec![("a", ColumnType::Integer, Some(999)), ("b", ColumnType::Integer, Some(1)), ("c", ColumnType::Category, Some(2))]);
        assert_eq!(summary.columns[1].missing, 2);
    }

    /// Every shape serde gives a message, as rmp-serde writes it, read back by the tree reader;
    /// what does not fit is an error naming it, not a panic.
    #[test]
    fn the_tree_reader_reads_every_shape_rmp_serde_writes() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Unit;
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Inner {
            a: u8,
            b: Option<String>,
        }
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        enum Tagged {
            One { x: f64 },
            Two,
        }
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        enum Shape {
            Plain,
            Newtype(i64),
            Pair(u32, String),
            Named { inner: Inner, flag: bool },
        }
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct All {
            shapes: Vec<Shape>,
            tagged: Vec<Tagged>,
            unit: Unit,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            skipped: Option<u64>,
            #[serde(flatten)]
            flat: Inner,
            map: std::collections::BTreeMap<String, (i8, f32)>,
            bytes: Vec<u8>,
            nan: f64,
            result: Result<u16, String>,
            big: u64,
        }
        let all = All {
            shapes: vec![Shape::Plain, Shape::Newtype(-5), Shape::Pair(7, "é".into()), Shape::Named { inner: Inner { a: 255, b: None }, flag: true }],
            tagged: vec![Tagged::One { x: -0.5 }, Tagged::Two],
            unit: Unit,
            skipped: None,
            flat: Inner { a: 1, b: Some("x".into()) },
            map: [("k".to_string(), (-128, 1.5))].into_iter().collect(),
            bytes: vec![0, 1, 255],
            nan: f64::NAN,
            result: Err("no".into()),
            big: u64::MAX,
        };
        let bytes = encode(&all).unwrap();
        let back: All = decode(&bytes).unwrap();
        assert!(back.nan.is_nan());
        assert_eq!(All { nan: 0.0, ..back }, All { nan: 0.0, ..all });

        // A wrong type, a too-long array, an integer out of range, a truncated message.
        assert!(decode::<Inner>(&encode(&(1u8, 2u8, 3u8)).unwrap()).unwrap_err().contains("cannot decode"));
        assert!(decode::<(u8,)>(&encode(&(1u8, 2u8)).unwrap()).is_err());
        assert!(decode::<u8>(&encode(&300u16).unwrap()).is_err());
        assert!(decode::<All>(&bytes[..bytes.len() / 2]).is_err());
    }

    #[test]
    fn requests_round_trip() {
        let envelope = Envelope {
            id: 3,
            request: Request::Load { source: DataSource::Demo(DemoParams { rows: 10, seed: 1 }), options: LoadOptions::default(), cube: None },
        };
        assert_eq!(decode::<Envelope>(&encode(&envelope).unwrap()).unwrap(), envelope);
    }

    fn done(report: AnyReport) -> Response {
        Response::Done { id: 1, result: Ok(Box::new(report)), elapsed_ms: 1.0, timings: vec![("columns".into(), 1.0)] }
    }

    /// Profiles of degenerate and hostile tables cross intact, undefined statistics (NaN)
    /// included: JSON turned NaN into null and the page then failed to decode the profile.
    #[test]
    fn profiles_of_hostile_files_cross_with_their_nans() {
        use crate::analysis::profile::{profile_table, ProfileParams};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile");
        let mut crossed = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let Ok(report) = crate::data::load::load_bytes(&bytes, LoadOptions::default()) else { continue };
            let rows: Vec<u32> = (0..report.table.n_rows as u32).collect();
            let profile = profile_table(&report.table, &rows, &ProfileParams::default()).unwrap();
            let response = done(AnyReport::Profile(profile));
            let bytes = encode(&response).unwrap();
            let back: Response = decode(&bytes).unwrap();
            // NaN != NaN: compare the encodings.
            assert_eq!(encode(&back).unwrap(), bytes);
            crossed += 1;
        }
        assert!(crossed >= 6, "{crossed} hostile files loaded");
        let one = crate::data::load::load_bytes(b"x,y\n1,\n", LoadOptions::default()).unwrap().table;
        let profile = profile_table(&one, &[0], &ProfileParams::default()).unwrap();
        let bytes = encode(&done(AnyReport::Profile(profile))).unwrap();
        assert!(decode::<Response>(&bytes).is_ok());
    }

    /// Every trend report crosses, NaNs included (a response that fails to decode would
    /// leave the tab waiting forever).
    #[test]
    fn trend_reports_round_trip_with_undefined_periods() {
        use crate::analysis::series::{build_series, Granularity, Metric, SeriesParams};
        use crate::analysis::trend::{analyze_series, TrendParams, TrendReport};
        use crate::data::load::load_bytes;
        let mut csv = String::from("t,v\n");
        for day in 1..=28 {
            for hour in [1, 9, 17] {
                // Day 10 has no values: the mean is undefined there.
                let v = if day == 10 { String::new() } else { (day % 7 + hour).to_string() };
                csv.push_str(&format!("2026-02-{day:02}T{hour:02}:00:00Z,{v}\n"));
            }
        }
        let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        for metric in [Metric::Count, Metric::Mean { column: "v".into() }] {
            let params = SeriesParams { time_column: "t".into(), metric, granularity: Granularity::Day, utc_offset_minutes: 0, time_zone: None, split: None };
            let series = build_series(&table, &rows, &params).unwrap();
            let analysis = analyze_series(&series, &TrendParams::default());
            let sent = TrendReport { series, analysis };
            let Response::Done { result: Ok(back), .. } = decode(&encode(&done(AnyReport::Trend(sent.clone()))).unwrap()).unwrap() else { panic!("no report") };
            let AnyReport::Trend(back) = *back else { panic!("not a trend report") };
            let nan_at = |v: &[f64]| v.iter().map(|x| x.is_nan()).collect::<Vec<_>>();
            assert_eq!(nan_at(&back.series.values), nan_at(&sent.series.values));
            assert_eq!(back.analysis.is_ok(), sent.analysis.is_ok());
        }
    }

    #[test]
    fn formatting() {
        let p = Progress { id: 1, bytes: 50, total_bytes: Some(200), rows: 0, total_rows: None };
        assert_eq!(p.fraction(), Some(0.25));
    }
}
