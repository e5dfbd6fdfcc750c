//! Streaming aggregation: a file too large to hold, read in batches of rows
//! ([`TableLoader::take_rows`]) into the cube of [the contract](super) plus a uniform reservoir
//! sample of its rows, holding one batch, the cube's cells and the sample at a time.
//!
//! The file's first batch chooses the cube as [`CubeSpec::for_view`] would for the whole file:
//! its first time column, category, boolean and few-valued number columns as dimensions, other
//! number columns as measures, a proposed weight column as the weight. When the cells outgrow
//! [`StreamSettings::max_cells`], hours step up to days (summing whole periods, so no cell is
//! estimated), then the dimension with most values keeps its top half (the rest `(other)`),
//! and only when every dimension is down to two values do days become weeks. A dimension collects its values up to
//! [`StreamSettings::max_values`]; values first seen after that, and values outside its top
//! [`CubeSpec::top`] at the end, are folded into `(other)`. Each fold is stated in the notes. The
//! cube holds the finest rows and each period's total (the other grouping sets serve warehouse
//! users; the app reads only the finest rows).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::{bucket_start, write_cube, Cell, CubeError, CubeSpec, FinestKey, DEFAULT_TOP, OTHER};
use crate::analysis::series::{Granularity, WallClock, Zone};
use crate::data::filter::{evaluate_filter, Filter};
use crate::data::builder::BuildMemory;
use crate::data::load::{load_bytes, Finishing, LoadError, LoadOptions, LoadReport, TableLoader};
use crate::data::readers::{ReaderEnd, ReaderJob};
use crate::data::table::{format_float, ColumnData, ColumnType, Strings, Table, Value};
use crate::data::weights::{propose_weight, weight_column};
use crate::format::format_count;

/// Rows the reservoir sample keeps by default.
pub const SAMPLE_ROWS: usize = 50_000;
/// Cells (period × dimension values) held before hours step up to days and rare values fold, by
/// default: the cube's finest rows, which the tab then holds as a table (about 100 bytes each).
pub const MAX_CELLS: usize = 2_000_000;
/// The column of the sample giving each row's weight: the events it stands for.
pub const SAMPLE_WEIGHT: &str = "sample_weight";

/// How a file is streamed into a cube.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamSettings {
    /// The zone periods start in.
    pub utc_offset_minutes: i32,
    pub time_zone: Option<String>,
    /// Fixed periods; `None`: hours, stepping up to days and weeks as cells accumulate.
    pub granularity: Option<Granularity>,
    /// Rows outside it are left out of the cube and the sample.
    pub filter: Filter,
    /// The cube's dimensions and measures, when not chosen from the first rows.
    pub dimensions: Option<Vec<String>>,
    pub measures: Option<Vec<String>>,
    /// Values kept per dimension; the rest are `(other)`.
    pub top: usize,
    /// Distinct values a dimension collects; values first seen after are `(other)` at once.
    pub max_values: usize,
    pub max_cells: usize,
    pub sample_rows: usize,
    pub seed: u64,
    /// Every grouping set of the contract (each dimension, each pair), as a warehouse writes
    /// them; otherwise the finest rows and each period's total, all the app reads.
    pub every_grouping_set: bool,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            utc_offset_minutes: 0,
            time_zone: None,
            granularity: None,
            filter: Filter::default(),
            dimensions: None,
            measures: None,
            top: DEFAULT_TOP,
            max_values: 20 * DEFAULT_TOP,
            max_cells: MAX_CELLS,
            sample_rows: SAMPLE_ROWS,
            seed: super::sql::SAMPLE_SEED,
            every_grouping_set: false,
        }
    }
}

/// Why a file could not be streamed into a cube.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Cube(#[from] CubeError),
}

/// What a stream became.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedCube {
    /// The cube, as CSV in the contract's shape.
    pub cube_csv: String,
    /// The sample's rows as CSV with their [`SAMPLE_WEIGHT`] (the source's own weight column,
    /// if any, is folded into it); `None` when no row passed.
    pub sample_csv: Option<String>,
    /// What the cube holds: its final periods, dimensions and measures.
    pub spec: CubeSpec,
    /// Rows read (rejected rows not counted) and rows that passed the filter with a time.
    pub rows_read: u64,
    pub rows_in_cube: u64,
    pub sample_len: usize,
    /// What was folded, skipped or coarsened, in words for the analyst.
    pub notes: Vec<String>,
}

/// A dimension's values: id 0 is missing, 1 is `(other)`, `2 + i` is `values[i]`.
#[derive(Default)]
struct Dictionary {
    ids: FxHashMap<Box<str>, u32>,
    values: Vec<Box<str>>,
    events: Vec<f64>,
    folded: Vec<bool>,
    /// Values first seen after `max_values` (folded at once).
    overflowed: bool,
}

const MISSING_ID: u32 = 0;
const OTHER_ID: u32 = 1;

impl Dictionary {
    fn id(&mut self, text: &str, max_values: usize) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        if self.values.len() >= max_values {
            self.overflowed = true;
            return OTHER_ID;
        }
        let id = self.values.len() as u32 + 2;
        self.ids.insert(text.into(), id);
        self.values.push(text.into());
        self.events.push(0.0);
        self.folded.push(false);
        id
    }

    /// The id a cell holds for `id`: `(other)` once folded.
    fn cell_id(&self, id: u32) -> u32 {
        match id.checked_sub(2).and_then(|i| self.folded.get(i as usize)) {
            Some(true) => OTHER_ID,
            _ => id,
        }
    }

    fn add_events(&mut self, id: u32, events: f64) {
        if let Some(e) = id.checked_sub(2).and_then(|i| self.events.get_mut(i as usize)) {
            *e += events;
        }
    }

    /// Values not folded yet, most events first (ties by text).
    fn ranked(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.values.len()).filter(|&i| !self.folded.get(i).copied().unwrap_or(true)).collect();
        order.sort_by(|&a, &b| {
            let (ea, eb) = (self.events.get(a).copied().unwrap_or(0.0), self.events.get(b).copied().unwrap_or(0.0));
            eb.total_cmp(&ea).then_with(|| self.values.get(a).cmp(&self.values.get(b)))
        });
        order
    }

    /// Folds all but the `keep` values with most events; how many were folded.
    fn keep_top(&mut self, keep: usize) -> usize {
        let ranked = self.ranked();
        let mut folded = 0;
        for &i in ranked.iter().skip(keep) {
            if let Some(f) = self.folded.get_mut(i) {
                *f = true;
                folded += 1;
            }
        }
        folded
    }
}

/// A cube being built from batches of rows.
pub struct CubeStream {
    settings: StreamSettings,
    zone: Zone,
    /// Chosen from the first batch.
    spec: Option<CubeSpec>,
    granularity: Granularity,
    header: Vec<String>,
    dictionaries: Vec<Dictionary>,
    /// Keyed by the period (two words) then each dimension's id: looked up by a slice, so a row
    /// allocates only when it opens a cell.
    cells: FxHashMap<Box<[u32]>, Cell>,
    sample: Vec<(Vec<String>, f64)>,
    rng: ChaCha8Rng,
    rows_read: u64,
    /// Rows that passed the filter (the sample's population).
    passed: u64,
    without_time: u64,
    coarsened: Vec<Granularity>,
    /// Per dimension: rarer values were folded while reading, to bound the cells.
    folded_for_cells: Vec<bool>,
    /// Per column: cells that did not read as the column's type (counted as missing).
    mismatches: Vec<u64>,
}

impl CubeStream {
    pub fn new(settings: StreamSettings) -> Result<Self, CubeError> {
        let zone = Zone::new(settings.utc_offset_minutes, settings.time_zone.as_deref()).map_err(|e| CubeError::Choose(e.to_string()))?;
        let granularity = match settings.granularity {
            Some(Granularity::Auto) => Granularity::Day,
            Some(g) => g,
            None => Granularity::Hour,
        };
        let rng = ChaCha8Rng::seed_from_u64(settings.seed);
        Ok(Self {
            settings,
            zone,
            spec: None,
            granularity,
            header: Vec::new(),
            dictionaries: Vec::new(),
            cells: FxHashMap::default(),
            sample: Vec::new(),
            rng,
            rows_read: 0,
            passed: 0,
            without_time: 0,
            coarsened: Vec::new(),
            folded_for_cells: Vec::new(),
            mismatches: Vec::new(),
        })
    }

    /// The cube's cells so far (memory grows with them, not with rows).
    pub fn cells(&self) -> usize {
        self.cells.len()
    }

    fn choose(&mut self, batch: &Table) -> Result<CubeSpec, CubeError> {
        let time = batch
            .columns
            .iter()
            .find(|c| c.kind == ColumnType::Timestamp)
            .ok_or_else(|| CubeError::Choose("a column of dates and times to count events by period (none of the first rows' columns reads as one)".into()))?;
        let columns: Vec<(String, ColumnType)> = batch.columns.iter().map(|c| (c.name.clone(), c.kind)).collect();
        let weight = propose_weight(&columns);
        let mut spec = CubeSpec::for_view(batch, &time.name, self.granularity, self.settings.utc_offset_minutes, self.settings.time_zone.clone(), weight, self.settings.filter.clone())?;
        spec.granularity = self.granularity;
        spec.top = self.settings.top;
        if let Some(dimensions) = &self.settings.dimensions {
            spec.dimensions.clone_from(dimensions);
        }
        if let Some(measures) = &self.settings.measures {
            spec.measures.clone_from(measures);
        }
        self.header = batch.columns.iter().map(|c| c.name.clone()).collect();
        self.dictionaries = spec.dimensions.iter().map(|_| Dictionary::default()).collect();
        self.folded_for_cells = vec![false; spec.dimensions.len()];
        self.mismatches = vec![0; batch.columns.len()];
        Ok(spec)
    }

    /// Adds a batch of rows (the columns the first batch had, in its order). `first_row`: the
    /// batch's first row in the file (1-based), to name rows in messages.
    pub fn add(&mut self, batch: &Table, first_row: u64) -> Result<(), CubeError> {
        let spec = match self.spec.take() {
            Some(spec) => spec,
            None => self.choose(batch)?,
        };
        let result = self.add_rows(batch, first_row, &spec);
        self.spec = Some(spec);
        result?;
        if self.cells.len() > self.settings.max_cells {
            self.compact()?;
        }
        Ok(())
    }

    fn add_rows(&mut self, batch: &Table, first_row: u64, spec: &CubeSpec) -> Result<(), CubeError> {
        let names: Vec<&str> = batch.columns.iter().map(|c| c.name.as_str()).collect();
        if names != self.header {
            return Err(CubeError::Choose(format!("the same columns in every part of the file (from row {first_row} they are {})", names.join(", "))));
        }
        self.rows_read += batch.n_rows as u64;
        for (count, column) in self.mismatches.iter_mut().zip(&batch.columns) {
            *count += column.mismatches.len() as u64;
        }
        let at_row = |e: String| CubeError::Choose(format!("{e} (counting rows from row {first_row} of the file)"));
        let weights = match &spec.weight {
            Some(name) => Some(weight_column(batch, name).map_err(|e| at_row(e.to_string()))?),
            None => None,
        };
        let time = batch.column(&spec.time).ok_or_else(|| CubeError::UnknownColumn(spec.time.clone()))?;
        let ColumnData::Timestamp { ms, valid } = &time.data else {
            return Err(CubeError::WrongType { column: spec.time.clone(), kind: time.kind.label().to_string(), wanted: "a timestamp".into() });
        };
        let dims = spec.dimensions.iter().map(|d| batch.column(d).ok_or_else(|| CubeError::UnknownColumn(d.clone()))).collect::<Result<Vec<_>, _>>()?;
        let measures = spec.measures.iter().map(|m| batch.column(m).ok_or_else(|| CubeError::UnknownColumn(m.clone()))).collect::<Result<Vec<_>, _>>()?;
        let selected = evaluate_filter(batch, &spec.filter).map_err(|e| at_row(e.to_string()))?;
        // A dictionary column's codes map to ids once per batch.
        let mut code_ids: Vec<Vec<Option<u32>>> = dims
            .iter()
            .map(|c| match &c.data {
                ColumnData::Str(Strings::Dict { dict, .. }) => vec![None; dict.len()],
                _ => Vec::new(),
            })
            .collect();
        let max_values = self.settings.max_values;
        let mut key = vec![0u32; dims.len() + 2];
        for row in selected {
            let r = row as usize;
            let weight = weights.as_ref().and_then(|w| w.get(r).copied()).unwrap_or(1.0);
            self.passed += 1;
            self.offer_sample(batch, r, weight);
            let Some(&t) = ms.get(r).filter(|_| valid.get(r)) else {
                self.without_time += 1;
                continue;
            };
            let bucket = bucket_start(self.granularity, self.zone.local_ms(t));
            put_bucket(&mut key, bucket);
            for (((slot, column), dictionary), codes) in key.iter_mut().skip(2).zip(&dims).zip(&mut self.dictionaries).zip(&mut code_ids) {
                let id = match (&column.data, column.value(r)) {
                    (_, Value::Missing) => MISSING_ID,
                    (ColumnData::Str(Strings::Dict { codes: row_codes, .. }), Value::Str(text)) => {
                        let code = row_codes.get(r).unwrap_or(0) as usize;
                        match codes.get(code).copied().flatten() {
                            Some(id) => id,
                            None => {
                                let id = dictionary.id(text, max_values);
                                if let Some(slot) = codes.get_mut(code) {
                                    *slot = Some(id);
                                }
                                id
                            }
                        }
                    }
                    (_, Value::Str(text)) => dictionary.id(text, max_values),
                    (_, value) => dictionary.id(&value.display(), max_values),
                };
                dictionary.add_events(id, weight);
                *slot = dictionary.cell_id(id);
            }
            if !self.cells.contains_key(key.as_slice()) {
                self.cells.insert(key.clone().into_boxed_slice(), (0.0, vec![None; measures.len()]));
            }
            let Some(cell) = self.cells.get_mut(key.as_slice()) else { continue };
            cell.0 += weight;
            for (sum, column) in cell.1.iter_mut().zip(&measures) {
                if let Some(x) = column.numeric(r) {
                    *sum.get_or_insert(0.0) += x * weight;
                }
            }
        }
        Ok(())
    }

    /// Algorithm R: every row that passed is in the sample with the same chance.
    fn offer_sample(&mut self, batch: &Table, row: usize, weight: f64) {
        let k = self.settings.sample_rows;
        if k == 0 {
            return;
        }
        if self.sample.len() < k {
            self.sample.push((batch.row_text(row), weight));
            return;
        }
        let j = self.rng.gen_range(0..self.passed);
        if let Some(slot) = self.sample.get_mut(j as usize) {
            *slot = (batch.row_text(row), weight);
        }
    }

    /// Fewer cells: hours become days (when the periods are not fixed); then the dimension with
    /// most values keeps its top half, the rest folded into `(other)`, until the cells are half
    /// the limit (so that this does not run again at once); then days become weeks.
    fn compact(&mut self) -> Result<(), CubeError> {
        let fixed = self.settings.granularity.is_some();
        let mut limit = self.settings.max_cells;
        while self.cells.len() > limit {
            let widest = (0..self.dictionaries.len()).map(|d| (self.dictionaries.get(d).map_or(0, |dict| dict.ranked().len()), d)).max();
            let coarser = match self.granularity {
                Granularity::Hour if !fixed => Some(Granularity::Day),
                Granularity::Day if !fixed && widest.is_none_or(|(values, _)| values <= 2) => Some(Granularity::Week),
                _ => None,
            };
            if let Some(coarser) = coarser {
                self.granularity = coarser;
                self.coarsened.push(coarser);
                if let Some(spec) = &mut self.spec {
                    spec.granularity = coarser;
                }
                remap(&mut self.cells, |bucket| bucket_start(coarser, bucket), |_, id| id);
                continue;
            }
            let Some((values, d)) = widest.filter(|(values, _)| *values > 2) else {
                return Err(CubeError::Choose(format!(
                    "fewer than {} cells (periods × dimension values), but with two values per dimension it still has {}: choose fewer dimensions",
                    format_count(self.settings.max_cells as u64),
                    format_count(self.cells.len() as u64)
                )));
            };
            if let Some(dictionary) = self.dictionaries.get_mut(d) {
                dictionary.keep_top(values / 2);
            }
            if let Some(folded) = self.folded_for_cells.get_mut(d) {
                *folded = true;
            }
            let dictionaries = &self.dictionaries;
            remap(&mut self.cells, |bucket| bucket, |d, id| dictionaries.get(d).map_or(id, |dict| dict.cell_id(id)));
            limit = self.settings.max_cells / 2;
        }
        Ok(())
    }

    /// The cube and the sample.
    pub fn finish(mut self) -> Result<StreamedCube, CubeError> {
        let Some(mut spec) = self.spec.take() else {
            return Err(CubeError::Choose("rows to aggregate (the file has none)".into()));
        };
        spec.granularity = self.granularity;
        let top = spec.top;
        let mut notes = Vec::new();
        let mut folded_dims = Vec::new();
        for (dictionary, name) in self.dictionaries.iter_mut().zip(&spec.dimensions) {
            let beyond = dictionary.ranked().len().saturating_sub(top);
            if beyond > 0 || dictionary.overflowed {
                folded_dims.push(match dictionary.overflowed {
                    true => format!("“{name}” (more than {} values; those first seen after them went to {OTHER} directly)", format_count(self.settings.max_values as u64)),
                    false => format!("“{name}” ({} values)", format_count((top + beyond) as u64)),
                });
            }
            dictionary.keep_top(top);
        }
        let text_of = |d: usize, id: u32| -> Option<&str> {
            let dictionary = self.dictionaries.get(d)?;
            match dictionary.cell_id(id) {
                MISSING_ID => None,
                OTHER_ID => Some(OTHER),
                id => dictionary.values.get(id as usize - 2).map(|v| &**v),
            }
        };
        let mut finest: FxHashMap<FinestKey<&str>, Cell> = FxHashMap::default();
        let mut rows_in_cube = 0.0;
        for (key, cell) in &self.cells {
            let (bucket, ids) = split_key(key);
            let values = ids.iter().enumerate().map(|(d, &id)| text_of(d, id)).collect();
            rows_in_cube += cell.0;
            merge(finest.entry((bucket, values)).or_insert_with(|| (0.0, vec![None; cell.1.len()])), cell);
        }
        // By default the finest rows and each period's total: the rows the app reads and the rows
        // that mark the dimensions (the other sets would multiply the rows by up to 38).
        let k = spec.dimensions.len();
        let sets = if self.settings.every_grouping_set { super::grouping_sets(k) } else { vec![(0..k).collect(), Vec::new()] };
        let cube_csv = write_cube(&spec, &finest, &sets)?;

        notes.push(format!(
            "Read {} rows into a cube by {} ({} in {}) of {}{}, with {} as measures{}.",
            format_count(self.rows_read),
            spec.time,
            granularity_words(self.granularity),
            match (&spec.time_zone, spec.utc_offset_minutes) {
                (Some(zone), _) => zone.clone(),
                (None, 0) => "UTC".to_string(),
                (None, minutes) => format!("UTC{}{:02}:{:02}", if minutes < 0 { '−' } else { '+' }, minutes.abs() / 60, minutes.abs() % 60),
            },
            if spec.dimensions.is_empty() { "no dimension".to_string() } else { spec.dimensions.join(", ") },
            spec.weight.as_ref().map(|w| format!(", each row counting as its “{w}” events")).unwrap_or_default(),
            if spec.measures.is_empty() { "nothing".to_string() } else { spec.measures.join(", ") },
            if spec.filter.clauses.is_empty() { String::new() } else { format!(" ({} rows passed the filter)", format_count(self.passed)) },
        ));
        if let Some(last) = self.coarsened.last() {
            notes.push(format!("Periods were made longer ({}) to keep the cube under {} cells.", granularity_words(*last), format_count(self.settings.max_cells as u64)));
        }
        let folded_while_reading: Vec<String> = spec.dimensions.iter().zip(&self.folded_for_cells).zip(&self.dictionaries).filter(|((_, &f), _)| f).map(|((name, _), dict)| format!("“{name}” to {}", format_count(dict.ranked().len() as u64))).collect();
        if !folded_while_reading.is_empty() {
            notes.push(format!(
                "To keep the cube under {} cells, rarer values were folded into {OTHER} while reading: {} values with most events.",
                format_count(self.settings.max_cells as u64),
                folded_while_reading.join(", ")
            ));
        }
        if !folded_dims.is_empty() {
            notes.push(format!("Kept the {} values with most events of {}; the rest are {OTHER}.", format_count(top as u64), folded_dims.join(", ")));
        }
        if self.without_time > 0 {
            let are = if self.without_time == 1 { "is" } else { "are" };
            notes.push(format!("{} without a readable {} {are} not in the cube (they are in the sample).", crate::format::plural(self.without_time, "row"), spec.time));
        }
        for (name, &count) in self.header.iter().zip(&self.mismatches).filter(|(_, &c)| c > 0) {
            let count_as = if count == 1 { "counts" } else { "count" };
            notes.push(format!("{} of “{name}” did not read as the type of its first rows and {count_as} as missing.", crate::format::plural(count, "value")));
        }
        let sample_len = self.sample.len();
        let sample_csv = if sample_len == 0 { None } else { Some(self.sample_csv(&spec)?) };
        if sample_len > 0 {
            notes.push(match self.passed as usize == sample_len {
                true => format!("The sample holds every row ({}).", format_count(sample_len as u64)),
                false => format!(
                    "The sample is {} rows drawn uniformly (seed {}); each stands for {} rows (“{SAMPLE_WEIGHT}”).",
                    format_count(sample_len as u64),
                    self.settings.seed,
                    format_float((self.passed as f64 / sample_len as f64 * 100.0).round() / 100.0)
                ),
            });
        }
        Ok(StreamedCube { cube_csv, sample_csv, spec, rows_read: self.rows_read, rows_in_cube: rows_in_cube as u64, sample_len, notes })
    }

    /// The sample with each row's weight: its own (when the source is weighted) times the
    /// rows each sampled row stands for.
    fn sample_csv(&self, spec: &CubeSpec) -> Result<String, CubeError> {
        let scale = self.passed as f64 / self.sample.len().max(1) as f64;
        let skip = spec.weight.as_ref().and_then(|w| self.header.iter().position(|h| h == w));
        let keep = |i: usize| Some(i) != skip;
        let error = |e: csv::Error| CubeError::Choose(format!("the sample could not be written: {e}"));
        let mut out = csv::Writer::from_writer(Vec::new());
        let header: Vec<&str> = self.header.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, h)| h.as_str()).chain([SAMPLE_WEIGHT]).collect();
        out.write_record(&header).map_err(error)?;
        for (row, weight) in &self.sample {
            let weight = if self.passed as usize == self.sample.len() { *weight } else { weight * scale };
            let record: Vec<String> = row.iter().enumerate().filter(|(i, _)| keep(*i)).map(|(_, v)| v.clone()).chain([format_float(weight)]).collect();
            out.write_record(&record).map_err(error)?;
        }
        let bytes = out.into_inner().map_err(|e| CubeError::Choose(format!("the sample could not be written: {e}")))?;
        String::from_utf8(bytes).map_err(|e| CubeError::Choose(e.to_string()))
    }
}

/// Writes `bucket` into a cell key's first two words.
fn put_bucket(key: &mut [u32], bucket: i64) {
    let bits = bucket as u64;
    if let [hi, lo, ..] = key {
        (*hi, *lo) = ((bits >> 32) as u32, bits as u32);
    }
}

/// A cell key's period and dimension ids.
fn split_key(key: &[u32]) -> (i64, &[u32]) {
    match key {
        [hi, lo, ids @ ..] => (((u64::from(*hi) << 32) | u64::from(*lo)) as i64, ids),
        _ => (0, &[]),
    }
}

/// The cells re-keyed (longer periods, folded values), merging those that meet.
fn remap(cells: &mut FxHashMap<Box<[u32]>, Cell>, bucket: impl Fn(i64) -> i64, id: impl Fn(usize, u32) -> u32) {
    let old = std::mem::take(cells);
    for (key, cell) in old {
        let (b, ids) = split_key(&key);
        let mut new_key = vec![0u32; key.len()];
        put_bucket(&mut new_key, bucket(b));
        for ((slot, d), &i) in new_key.iter_mut().skip(2).zip(0..).zip(ids) {
            *slot = id(d, i);
        }
        merge(cells.entry(new_key.into_boxed_slice()).or_insert_with(|| (0.0, vec![None; cell.1.len()])), &cell);
    }
}

fn merge(into: &mut Cell, cell: &Cell) {
    into.0 += cell.0;
    for (sum, part) in into.1.iter_mut().zip(&cell.1) {
        if let Some(part) = part {
            *sum.get_or_insert(0.0) += part;
        }
    }
}

fn granularity_words(granularity: Granularity) -> &'static str {
    match granularity {
        Granularity::Hour => "hourly",
        Granularity::Day | Granularity::Auto => "daily",
        Granularity::Week => "weekly",
        Granularity::Month => "monthly",
    }
}

/// A file streamed chunk by chunk into a cube: the loader and the [`CubeStream`] it feeds, for
/// the worker (with its progress and memory guard), the command line and [`stream_cube`].
pub struct FileStream {
    loader: Option<TableLoader>,
    /// Once the file is read: its table being built (in steps for Parquet), then what loading
    /// it said.
    finishing: Option<Finishing>,
    rest: Option<LoadReport>,
    cube: CubeStream,
    /// The file row (1-based) the next batch starts at.
    next_row: u64,
    /// Batches of rows added to the cube so far.
    batches: usize,
}

impl FileStream {
    pub fn new(options: LoadOptions, settings: StreamSettings) -> Result<Self, StreamError> {
        Ok(Self { loader: Some(TableLoader::new(options)), finishing: None, rest: None, cube: CubeStream::new(settings)?, next_row: 1, batches: 0 })
    }

    /// Hands a Parquet file or a workbook to a reader elsewhere (see
    /// [`TableLoader::with_reader_outside`]).
    pub fn with_reader_outside(mut self) -> Self {
        self.loader = self.loader.map(TableLoader::with_reader_outside);
        self
    }

    /// Feeds the next chunk of the file; the rows it completes go into the cube. A compressed
    /// chunk goes in pieces ([`TableLoader::piece_bytes`]), their rows into the cube after each,
    /// so a batch's memory does not grow with how well the file compresses.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), StreamError> {
        let mut rest = chunk;
        loop {
            let Some(loader) = self.loader.as_mut() else { return Err(StreamError::Load(LoadError::Empty)) };
            let (piece, after) = rest.split_at(loader.piece_bytes().max(1).min(rest.len()));
            loader.push(piece)?;
            if let Some(batch) = loader.take_rows() {
                self.add(&batch)?;
            }
            rest = after;
            if rest.is_empty() {
                return Ok(());
            }
        }
    }

    fn add(&mut self, batch: &Table) -> Result<(), StreamError> {
        self.cube.add(batch, self.next_row)?;
        self.next_row += batch.n_rows as u64;
        self.batches += 1;
        Ok(())
    }

    /// Once the file is read, the next step of its rows into the cube (one for a text file, a
    /// batch of rows at a time for Parquet); `true` when every row is in.
    pub fn finish_step(&mut self) -> Result<bool, StreamError> {
        if self.rest.is_some() {
            return Ok(true);
        }
        if let Some(loader) = self.loader.take() {
            self.finishing = Some(loader.finishing()?);
        }
        let Some(finishing) = self.finishing.as_mut() else { return Ok(true) };
        let done = finishing.step()?;
        if let Some(batch) = finishing.take_rows() {
            self.add(&batch)?;
        }
        Ok(match done {
            Some(rest) => {
                self.rest(rest)?;
                true
            }
            None => false,
        })
    }

    /// What loading said, once every row is read: its last rows go into the cube.
    fn rest(&mut self, mut rest: LoadReport) -> Result<(), StreamError> {
        self.finishing = None;
        if rest.table.n_rows > 0 {
            self.add(&rest.table)?;
        }
        rest.table = Table::default();
        self.rest = Some(rest);
        Ok(())
    }

    /// The reader the file needs, once its first bytes tell; and handing the file to a reader
    /// that reads it itself (see [`TableLoader::hand_over_file`]).
    pub fn reader_kind(&self) -> Option<crate::data::readers::ReaderKind> {
        self.loader.as_ref().and_then(TableLoader::reader_kind)
    }

    pub fn hand_over_file(&mut self) -> Option<crate::data::readers::ReaderKind> {
        self.loader.as_mut().and_then(TableLoader::hand_over_file)
    }

    /// Once the file is read: the file a reader elsewhere is to turn into text (the browser's
    /// reader worker; see [`Finishing::reader_job`]), whose text then goes to
    /// [`FileStream::feed_text`] and [`FileStream::end_text`]; `None` when the rows are read here.
    pub fn reader_job(&mut self) -> Result<Option<ReaderJob>, StreamError> {
        if let Some(loader) = self.loader.take() {
            self.finishing = Some(loader.finishing()?);
        }
        Ok(self.finishing.as_mut().and_then(Finishing::reader_job))
    }

    /// A batch of a reader's text; its rows go into the cube.
    pub fn feed_text(&mut self, text: &[u8], rows: (u64, Option<u64>)) -> Result<(), StreamError> {
        let Some(finishing) = self.finishing.as_mut() else { return Err(StreamError::Load(LoadError::Empty)) };
        finishing.feed_text(text, rows)?;
        if let Some(batch) = finishing.take_rows() {
            self.add(&batch)?;
        }
        Ok(())
    }

    /// The reader's last word: every row is in the cube.
    pub fn end_text(&mut self, end: ReaderEnd) -> Result<(), StreamError> {
        let Some(finishing) = self.finishing.as_mut() else { return Err(StreamError::Load(LoadError::Empty)) };
        let rest = finishing.end_text(end)?;
        self.rest(rest)
    }

    /// The rows the file holds, once known before they are read (Parquet).
    pub fn total_rows(&self) -> Option<u64> {
        self.finishing.as_ref().and_then(|f| f.rows().1)
    }

    /// Rows read so far.
    pub fn rows_read(&self) -> u64 {
        match (&self.loader, &self.finishing) {
            (Some(loader), _) => loader.rows_loaded(),
            (None, Some(finishing)) => finishing.rows().0,
            (None, None) => self.next_row - 1,
        }
    }

    /// Batches of rows read into the cube so far (one a chunk of plain text; one a piece of a
    /// compressed chunk).
    pub fn batches(&self) -> usize {
        self.batches
    }

    /// The cube's cells so far.
    pub fn cells(&self) -> usize {
        self.cube.cells()
    }

    /// Memory the rows of the batch being read hold.
    pub fn batch_memory(&self) -> BuildMemory {
        match (&self.loader, &self.finishing) {
            (Some(loader), _) => loader.memory(),
            (None, Some(finishing)) => finishing.memory(),
            (None, None) => BuildMemory::default(),
        }
    }

    /// The cube and the sample, with what loading the file said (its dialect, rejected rows and
    /// notices; its table holds no rows).
    pub fn finish(mut self) -> Result<(StreamedCube, LoadReport), StreamError> {
        while !self.finish_step()? {}
        let rest = self.rest.take().ok_or(StreamError::Load(LoadError::Empty))?;
        Ok((self.cube.finish()?, rest))
    }

    /// The cube loaded as the table, with the file's dialect, rejected rows and notices beside
    /// the stream's notes; and the sample (CSV, rows) when there is one.
    pub fn finish_loaded(self) -> Result<(LoadReport, Option<(String, usize)>), StreamError> {
        let (streamed, rest) = self.finish()?;
        let mut report = load_bytes(streamed.cube_csv.as_bytes(), LoadOptions::default())?;
        // What the load says is the source's, not the cube text's; values that did not read as
        // their type are counted over every batch in the stream's notes.
        report.notices = streamed.notes;
        report.notices.extend(rest.notices.into_iter().filter(|n| !n.contains("did not read as")));
        report.rejected = rest.rejected;
        report.rejected_total = rest.rejected_total;
        report.dialect = rest.dialect;
        report.text_bytes = rest.text_bytes;
        Ok((report, streamed.sample_csv.map(|csv| (csv, streamed.sample_len))))
    }
}

/// Feeds all of `reader` into a [`FileStream`], `batch_bytes` of text at a time (native tools
/// and tests); finish it for the cube.
pub fn stream_reader<R: std::io::Read>(mut reader: R, options: LoadOptions, settings: StreamSettings, batch_bytes: usize) -> Result<FileStream, StreamError> {
    let mut stream = FileStream::new(options, settings)?;
    let mut buffer = vec![0u8; batch_bytes.max(1)];
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(LoadError::NotText { reason: format!("it could not be read: {e}") }.into()),
        };
        stream.push(buffer.get(..n).unwrap_or_default())?;
    }
    Ok(stream)
}

/// The cube of all of `reader` (see [`stream_reader`]).
pub fn stream_cube<R: std::io::Read>(reader: R, options: LoadOptions, settings: StreamSettings, batch_bytes: usize) -> Result<StreamedCube, StreamError> {
    Ok(stream_reader(reader, options, settings, batch_bytes)?.finish()?.0)
}
