//! The cube contract: the one table shape a warehouse (or Vigil itself) aggregates events into,
//! so that trends, incidents and root cause run on data of any size from a small result.
//!
//! ```text
//! ts_bucket | dim_1 … dim_k | grouping_id | events | measure_1 … measure_m
//! ```
//!
//! * `ts_bucket`: the start of the period in the view's zone, as a wall-clock timestamp without
//!   zone (read it in UTC at the view's granularity).
//! * `dim_i`: each dimension as text; its top values are kept and the rest folded into
//!   `(other)` (stated in the query). NULL is a missing value in the finest rows, "rolled up"
//!   in the others: `grouping_id` says which.
//! * `grouping_id`: `Σ GROUPING(dim_i)·2^(k−1−i)`: 0 for the finest rows (every dimension), 2^k − 1
//!   for the period's total, between them each dimension alone and each pair of dimensions (pairs
//!   when there are at most [`MAX_PAIRED`] dimensions), see [`grouping_sets`]. Only the finest
//!   rows are analysed; every rolled-up row is checked against them on load.
//! * `events`: the events of the cell (the weight of its row).
//! * `measure_j`: per event, `SUM(x)/events`, so that the weighted sum gives back `SUM(x)`
//!   exactly, and ratios of two measures stay exact.
//!
//! [`sql`] writes the query producing it; [`aggregate_csv`] computes it from loaded rows (the
//! reference the warehouse's answer is compared with); [`recognise`] checks a loaded cube.

pub mod sql;
pub mod stream;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::analysis::contract::{shorten, Weights};
use crate::analysis::series::{Granularity, WallClock, Zone};
use crate::data::filter::{evaluate_filter, Clause, Filter};
use crate::data::table::{format_float, format_float_brief, ColumnData, ColumnType, Table, Value};
use crate::format::{format_count, plural};
use crate::data::time::{civil_from_days, days_from_civil, format_iso_ms, DAY_MS, HOUR_MS};
pub use crate::data::weights::EVENTS;

pub const TS_BUCKET: &str = "ts_bucket";
pub const GROUPING_ID: &str = "grouping_id";
/// The value a dimension's rare values are folded into.
pub const OTHER: &str = "(other)";
/// Values kept per dimension by default.
pub const DEFAULT_TOP: usize = 1_000;
/// Most dimensions whose pairs a cube holds (8 make 28 pairs; beyond, the sets would outgrow the
/// finest rows many times over).
pub const MAX_PAIRED: usize = 8;

/// The sets of dimensions (by position) a cube of `k` dimensions holds per period, each once: all
/// of them (the finest rows), each alone, each pair (up to [`MAX_PAIRED`] dimensions), none (the
/// total).
pub fn grouping_sets(k: usize) -> Vec<Vec<usize>> {
    let mut sets = vec![(0..k).collect::<Vec<usize>>()];
    sets.extend((0..k).map(|i| vec![i]));
    if k <= MAX_PAIRED {
        sets.extend((0..k).flat_map(|i| (i + 1..k).map(move |j| vec![i, j])));
    }
    sets.push(Vec::new());
    let mut seen = rustc_hash::FxHashSet::default();
    sets.retain(|set| seen.insert(set.clone()));
    sets
}

/// A cube row's cell: its period, grouping id and dimension values (None: missing or rolled up).
/// The grouping id of a set of `k` dimensions: bit `k − 1 − i` for each dimension `i` rolled up.
pub fn grouping_id(set: &[usize], k: usize) -> u64 {
    // Or-ed, not summed: past 64 dimensions the high bits coincide instead of overflowing.
    (0..k).filter(|i| !set.contains(i)).fold(0, |id, i| id | 1u64 << (k - 1 - i).min(63))
}

/// What the cube aggregates: the view's time, dimensions, measures and filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CubeSpec {
    pub time: String,
    /// The periods (`Auto` is read as days).
    pub granularity: Granularity,
    pub utc_offset_minutes: i32,
    pub time_zone: Option<String>,
    pub dimensions: Vec<String>,
    pub measures: Vec<String>,
    /// The source's own weight column, when its rows are already weighted.
    pub weight: Option<String>,
    pub filter: Filter,
    /// Values kept per dimension; the rest are `(other)`.
    pub top: usize,
}

/// Why a cube cannot be made or read; rows are 1-based, as on screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum CubeError {
    #[error("the cube needs {0}")]
    Choose(String),
    #[error("there is no column “{0}”")]
    UnknownColumn(String),
    #[error("“{column}” is {kind}, not {wanted}")]
    WrongType { column: String, kind: String, wanted: String },
    #[error("{0}")]
    Filter(String),
    #[error("the table name “{name}” holds {what}: give the table or view as the warehouse names it (schema.table)")]
    Source { name: String, what: &'static str },
    #[error("the cube's {column} is {value} in row {row}{more}: {why}")]
    BadRow { column: String, row: usize, value: String, more: String, why: String },
    #[error("the cube's row {row} ({cell}) is {total} {what}, but its finest rows add up to {parts}: the rolled-up rows disagree with their parts")]
    Disagree { cell: String, row: usize, what: String, total: String, parts: String },
    #[error("the cube has {} rolled-up grouping ids over {} finest rows: checking each against its finest rows would take more than {} steps (Vigil's SQL writes {sql} for these dimensions)", format_count(*ids as u64), format_count(*finest as u64), format_count(MAX_CHECK_STEPS as u64))]
    TooManyGroupings { ids: usize, finest: usize, sql: usize },
}

/// Most (finest row, rolled-up grouping id) pairs [`recognise`] checks: 50 million. Vigil's
/// SQL writes a few dozen grouping sets ([`grouping_sets`]), so a cube of a million finest rows
/// passes; a file with thousands of ids is refused at once instead of stalling the load.
pub const MAX_CHECK_STEPS: usize = 50_000_000;

impl CubeSpec {
    /// The cube of a view over `table`: its time column and granularity (days for `Auto`: a
    /// daily cube serves weekly and monthly trends too), every category and boolean column as a dimension (but the time, the
    /// weight and ids), every number column as a measure.
    pub fn for_view(table: &Table, time: &str, granularity: Granularity, utc_offset_minutes: i32, time_zone: Option<String>, weight: Option<String>, filter: Filter) -> Result<CubeSpec, CubeError> {
        let column = table.column(time).ok_or_else(|| CubeError::UnknownColumn(time.to_string()))?;
        if column.kind != ColumnType::Timestamp {
            return Err(CubeError::WrongType { column: time.to_string(), kind: column.kind.label().to_string(), wanted: "a timestamp".into() });
        }
        // Days serve every coarser view too (weeks and months are made of them in the app).
        let granularity = if granularity == Granularity::Auto { Granularity::Day } else { granularity };
        let is_weight = |name: &str| weight.as_deref() == Some(name);
        // A number column with few values (an app version, a count of strikes) is a dimension,
        // as root cause reads it; other number columns are measures.
        let few_values = |c: &crate::data::table::Column| c.count_distinct() <= crate::analysis::rootcause::DISCRETE_VALUES;
        let is_dimension = |c: &crate::data::table::Column| match c.kind {
            ColumnType::Category | ColumnType::Boolean => true,
            ColumnType::Integer | ColumnType::Float => few_values(c),
            _ => false,
        };
        let dimensions = table.columns.iter().filter(|c| c.name != time && !is_weight(&c.name) && is_dimension(c)).map(|c| c.name.clone()).collect();
        let measures = table.columns.iter().filter(|c| !is_weight(&c.name) && !is_dimension(c) && matches!(c.kind, ColumnType::Integer | ColumnType::Float)).map(|c| c.name.clone()).collect();
        Ok(CubeSpec { time: time.to_string(), granularity, utc_offset_minutes, time_zone, dimensions, measures, weight, filter, top: DEFAULT_TOP })
    }

    fn zone(&self) -> Result<Zone, CubeError> {
        Zone::new(self.utc_offset_minutes, self.time_zone.as_deref()).map_err(|e| CubeError::Choose(e.to_string()))
    }
}

/// The local wall-clock start (as ms read in UTC) of the period holding local time `local_ms`.
pub fn bucket_start(granularity: Granularity, local_ms: i64) -> i64 {
    match granularity {
        Granularity::Hour => local_ms.div_euclid(HOUR_MS) * HOUR_MS,
        Granularity::Day | Granularity::Auto => local_ms.div_euclid(DAY_MS) * DAY_MS,
        // Day 0 (1970-01-01) was a Thursday: weeks start on Monday.
        Granularity::Week => ((local_ms.div_euclid(DAY_MS) + 3).div_euclid(7) * 7 - 3) * DAY_MS,
        Granularity::Month => {
            let (y, m, _) = civil_from_days(local_ms.div_euclid(DAY_MS));
            days_from_civil(y, m, 1) * DAY_MS
        }
    }
}

/// The cube of `rows` (each standing for its weight) as CSV in the contract's shape, rows in
/// the order of their period, then grouping id (finest first, total last), then dimension values: the reference a
/// warehouse's cube is compared with, and what a file too large to hold becomes.
pub fn aggregate_csv(table: &Table, rows: &[u32], weights: Weights<'_>, spec: &CubeSpec) -> Result<String, CubeError> {
    let zone = spec.zone()?;
    let time = table.column(&spec.time).ok_or_else(|| CubeError::UnknownColumn(spec.time.clone()))?;
    let ColumnData::Timestamp { ms, valid } = &time.data else {
        return Err(CubeError::WrongType { column: spec.time.clone(), kind: time.kind.label().to_string(), wanted: "a timestamp".into() });
    };
    let dims = spec.dimensions.iter().map(|d| table.column(d).ok_or_else(|| CubeError::UnknownColumn(d.clone()))).collect::<Result<Vec<_>, _>>()?;
    let measures = spec.measures.iter().map(|m| table.column(m).ok_or_else(|| CubeError::UnknownColumn(m.clone()))).collect::<Result<Vec<_>, _>>()?;

    let selected = evaluate_filter(table, &spec.filter).map_err(|e| CubeError::Filter(e.to_string()))?;
    let mut passes = vec![false; table.n_rows];
    for row in selected {
        if let Some(p) = passes.get_mut(row as usize) {
            *p = true;
        }
    }
    let rows: Vec<u32> = rows.iter().copied().filter(|&r| passes.get(r as usize).copied().unwrap_or(false) && valid.get(r as usize)).collect();
    // Each dimension's kept values: the `top` with most events (ties by text).
    let text = |column: &crate::data::table::Column, row: u32| match column.value(row as usize) {
        Value::Missing => None,
        value => Some(value.display()),
    };
    let mut kept: Vec<rustc_hash::FxHashSet<String>> = Vec::new();
    for column in &dims {
        let mut totals: FxHashMap<String, f64> = FxHashMap::default();
        for &row in &rows {
            if let Some(value) = text(column, row) {
                *totals.entry(value).or_default() += weights.of(row);
            }
        }
        let mut ranked: Vec<(String, f64)> = totals.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        kept.push(ranked.into_iter().take(spec.top).map(|(v, _)| v).collect());
    }
    // (bucket, dimension values) → events, Σ measure·weight (`None` while no row had a value,
    // as SQL's SUM of NULLs is NULL).
    let mut cells: FxHashMap<FinestKey, Cell> = FxHashMap::default();
    for &row in &rows {
        let Some(&t) = ms.get(row as usize) else { continue };
        let bucket = bucket_start(spec.granularity, zone.local_ms(t));
        let key: Vec<Option<String>> = dims
            .iter()
            .zip(&kept)
            .map(|(column, keep)| text(column, row).map(|v| if keep.contains(&v) { v } else { OTHER.to_string() }))
            .collect();
        let weight = weights.of(row);
        let cell = cells.entry((bucket, key)).or_insert_with(|| (0.0, vec![None; measures.len()]));
        cell.0 += weight;
        for (sum, column) in cell.1.iter_mut().zip(&measures) {
            if let Some(x) = column.numeric(row as usize) {
                *sum.get_or_insert(0.0) += x * weight;
            }
        }
    }
    write_cube(spec, &cells, &grouping_sets(spec.dimensions.len()))
}

/// A finest cell's key: its period and dimension values (None: missing).
pub(crate) type FinestKey<V = String> = (i64, Vec<Option<V>>);
/// A cell's events and Σ measure·weight (`None` while no row had a value, as SQL's SUM of NULLs
/// is NULL).
pub(crate) type Cell = (f64, Vec<Option<f64>>);

/// The cube of the finest `cells` as CSV: each of `sets` (see [`grouping_sets`]) summed from them,
/// rows in the order of their period, then grouping id (finest first, total last), then dimension
/// values.
/// Values are any text (`String` from rows, `&str` borrowed from a stream's dictionaries).
pub(crate) fn write_cube<V: AsRef<str> + Clone + Ord + std::hash::Hash>(spec: &CubeSpec, cells: &FxHashMap<FinestKey<V>, Cell>, sets: &[Vec<usize>]) -> Result<String, CubeError> {
    let measures = &spec.measures;
    let dims = &spec.dimensions;
    // Every grouping set, summed from the finest cells: (bucket, grouping id, values with the
    // rolled-up dimensions as None).
    let k = dims.len();
    let sets: Vec<(u64, Vec<bool>)> = sets.iter().map(|set| (grouping_id(set, k), (0..k).map(|i| set.contains(&i)).collect())).collect();
    let mut rolled: FxHashMap<(i64, u64, Vec<Option<V>>), Cell> = FxHashMap::default();
    for ((bucket, values), cell) in cells {
        for (gid, kept) in &sets {
            let masked = values.iter().zip(kept).map(|(v, &keep)| if keep { v.clone() } else { None }).collect();
            let into = rolled.entry((*bucket, *gid, masked)).or_insert_with(|| (0.0, vec![None; measures.len()]));
            into.0 += cell.0;
            for (sum, part) in into.1.iter_mut().zip(&cell.1) {
                if let Some(part) = part {
                    *sum.get_or_insert(0.0) += part;
                }
            }
        }
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = std::iter::once(TS_BUCKET).chain(spec.dimensions.iter().map(String::as_str)).chain([GROUPING_ID, EVENTS]).chain(spec.measures.iter().map(String::as_str)).collect();
    let write = |out: &mut csv::Writer<Vec<u8>>, bucket: i64, values: &[Option<V>], gid: u64, cell: &Cell| {
        let iso = format_iso_ms(bucket);
        let mut record: Vec<String> = vec![iso.trim_end_matches('Z').replace('T', " ")];
        record.extend(values.iter().map(|v| v.as_ref().map(|v| v.as_ref().to_string()).unwrap_or_default()));
        record.push(gid.to_string());
        record.push(format_float(cell.0));
        // A measure with no value in the cell stays empty (as SUM of NULLs is NULL).
        record.extend(cell.1.iter().map(|&s| match s {
            Some(s) if cell.0 > 0.0 => format_float(s / cell.0),
            _ => String::new(),
        }));
        out.write_record(&record)
    };
    let csv_error = |e: csv::Error| CubeError::Choose(format!("the cube could not be written: {e}"));
    out.write_record(&header).map_err(csv_error)?;
    // Sorted once at the end: cheaper than keeping a tree of a million keys in order.
    let mut rolled: Vec<_> = rolled.into_iter().collect();
    rolled.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for ((bucket, gid, values), cell) in &rolled {
        write(&mut out, *bucket, values, *gid, cell).map_err(csv_error)?;
    }
    let bytes = out.into_inner().map_err(|e| CubeError::Choose(format!("the cube could not be written: {e}")))?;
    String::from_utf8(bytes).map_err(|e| CubeError::Choose(e.to_string()))
}

/// A loaded table recognised as a cube: what the view should use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CubeInfo {
    /// The rows to analyse: the finest (`grouping_id = 0`), as a filter clause the view shows.
    pub finest: Clause,
    pub weight: String,
    pub time: String,
    pub dimensions: Vec<String>,
    /// The measures and the grouping id: columns that aggregate events rather than describe
    /// them (see [`crate::analysis::contract::Weights::with_measures`]).
    pub measures: Vec<String>,
    /// Said on load: what is exact on the cube and what is not.
    pub notice: String,
}

/// A missing cell of a contract column, as a message says it: the text it held when that
/// did not read as the column's type (kept by the loader), else "missing".
fn missing_cell(column: &crate::data::table::Column, row: usize) -> String {
    match column.mismatches.iter().find(|m| m.row == row) {
        Some(m) => format!("“{}”, not {}", shorten(&m.text), match column.kind {
            ColumnType::Timestamp => "a time",
            ColumnType::Integer if column.name == GROUPING_ID => "a whole number",
            _ => "a number",
        }),
        None if column.non_finite > 0 => "missing or not finite (NaN, inf)".into(),
        None => "missing".into(),
    }
}

/// Whether `table` is a cube (it has `ts_bucket`, `grouping_id` and `events`) and, if so, that
/// it is sound: events are whole numbers, 0 or more, and each period's total row (when
/// present) agrees with its finest rows. The contract's columns are first read as their types
/// (a few distinct grouping ids load as a category). `Ok(None)`: not a cube.
pub fn recognise(table: &mut Table) -> Result<Option<CubeInfo>, CubeError> {
    if [TS_BUCKET, GROUPING_ID, EVENTS].iter().any(|name| table.column(name).is_none()) {
        return Ok(None);
    }
    for column in table.columns.iter_mut() {
        let kind = match column.name.as_str() {
            TS_BUCKET => ColumnType::Timestamp,
            GROUPING_ID => ColumnType::Integer,
            EVENTS if column.kind != ColumnType::Float => ColumnType::Integer,
            _ => continue,
        };
        if column.kind != kind {
            let retyped = crate::data::builder::retype_column(column, kind);
            // A cell that does not read as its type is refused, by its row.
            if let Some(row) = (0..column.len()).find(|&r| column.value(r) != Value::Missing && retyped.value(r) == Value::Missing) {
                let wanted = match kind {
                    ColumnType::Timestamp => "a time",
                    ColumnType::Integer => "a whole number",
                    _ => "a number",
                };
                let value = format!("“{}”", shorten(&column.value(row).display()));
                return Err(CubeError::BadRow { column: column.name.clone(), row: row + 1, value, more: String::new(), why: format!("that is not {wanted}") });
            }
            *column = retyped;
        }
    }
    // Grouping ids past what the columns beside the contract's could roll up: such a row would
    // be taken for the periods' totals below, and its empty cells for the dimensions.
    let beside = table.columns.len().saturating_sub(3);
    let any_grouping = (1u64 << beside.min(63)) - 1;
    if let Some(gid) = table.column(GROUPING_ID) {
        if let Some(row) = (0..table.n_rows).find(|&r| gid.numeric(r).is_some_and(|g| g < 0.0 || g > any_grouping as f64)) {
            let value = gid.numeric(row).map(format_float_brief).unwrap_or_default();
            let why = format!("with {} beside {TS_BUCKET}, {GROUPING_ID} and {EVENTS}, a grouping id is 0 … {any_grouping}", plural(beside as u64, "column"));
            return Err(CubeError::BadRow { column: GROUPING_ID.into(), row: row + 1, value, more: String::new(), why });
        }
    }
    // Dimensions are NULL in the period totals (the rows of the highest grouping id), measures
    // are not: a dimension whose values read as numbers (an app version) is still a dimension,
    // read as text as the query wrote it. Without rolled-up rows, text columns are the dimensions.
    let known = [TS_BUCKET, GROUPING_ID, EVENTS];
    let is_dimension: Vec<bool> = {
        let gid = table.column(GROUPING_ID);
        let highest = (0..table.n_rows).filter_map(|r| gid.and_then(|g| g.numeric(r))).fold(0.0, f64::max);
        let rolled: Vec<usize> = (0..table.n_rows).filter(|&r| highest > 0.0 && gid.and_then(|g| g.numeric(r)) == Some(highest)).collect();
        table
            .columns
            .iter()
            .map(|c| {
                let numeric = matches!(c.kind, ColumnType::Integer | ColumnType::Float);
                !known.contains(&c.name.as_str()) && if rolled.is_empty() { !numeric } else { rolled.iter().all(|&r| c.value(r) == Value::Missing) }
            })
            .collect()
    };
    for (column, &dimension) in table.columns.iter_mut().zip(&is_dimension) {
        if dimension && matches!(column.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean) {
            *column = crate::data::builder::retype_column(column, ColumnType::Category);
        }
    }
    let table = &*table;
    let (Some(ts), Some(gid), Some(events)) = (table.column(TS_BUCKET), table.column(GROUPING_ID), table.column(EVENTS)) else { return Ok(None) };
    let want = |column: &crate::data::table::Column, ok: bool, wanted: &str| {
        if ok { Ok(()) } else { Err(CubeError::WrongType { column: column.name.clone(), kind: column.kind.label().to_string(), wanted: wanted.into() }) }
    };
    want(ts, ts.kind == ColumnType::Timestamp, "a timestamp")?;
    want(gid, gid.kind == ColumnType::Integer, "an integer")?;
    want(events, matches!(events.kind, ColumnType::Integer | ColumnType::Float), "a number")?;
    let dimensions: Vec<String> = table.columns.iter().zip(&is_dimension).filter(|(_, &d)| d).map(|(c, _)| c.name.clone()).collect();
    let measures: Vec<String> = table.columns.iter().zip(&is_dimension).filter(|(c, &d)| !d && !known.contains(&c.name.as_str())).map(|(c, _)| c.name.clone()).collect();
    // Every row has its period and grouping id.
    if let Some(row) = (0..table.n_rows).find(|&r| gid.numeric(r).is_none() || ts.value(r) == Value::Missing) {
        let column = if gid.numeric(row).is_none() { gid } else { ts };
        return Err(CubeError::BadRow { column: column.name.clone(), row: row + 1, value: missing_cell(column, row), more: String::new(), why: "every cube row has its period and grouping id".into() });
    }
    // Events: present, whole, not negative, and counted exactly.
    let mut bad: Vec<(usize, String, &str)> = Vec::new();
    for row in 0..table.n_rows {
        match events.numeric(row) {
            None => bad.push((row, missing_cell(events, row), "every cell needs its number of events")),
            Some(e) if !e.is_finite() || e < 0.0 => bad.push((row, format_float_brief(e), "a number of events is 0 or more")),
            Some(e) if e.fract() != 0.0 => bad.push((row, format_float_brief(e), "a cube counts events in whole numbers (a sample's weights belong in a weight column, not a cube)")),
            Some(e) if e > crate::data::weights::MAX_WEIGHT => bad.push((row, format_float_brief(e), "a cell counts at most 2^53 events (9,007,199,254,740,992), past which sums are not exact")),
            Some(_) => {}
        }
        if bad.len() > 3 {
            break;
        }
    }
    if let Some((row, value, why)) = bad.first() {
        let more = match bad.len() {
            1 => String::new(),
            n => format!(" (and in rows {})", bad.iter().skip(1).take(n - 1).map(|(r, _, _)| (r + 1).to_string()).collect::<Vec<_>>().join(", ")),
        };
        return Err(CubeError::BadRow { column: EVENTS.into(), row: row + 1, value: value.clone(), more, why: (*why).to_string() });
    }
    // Every rolled-up row against the finest rows it sums: events exactly, measures·events to
    // 1e-9. A row's grouping id says which dimensions it keeps.
    let k = dimensions.len();
    let all_rolled_up = (1u64 << k.min(63)) - 1;
    if let Some(row) = (0..table.n_rows).find(|&r| gid.numeric(r).is_some_and(|g| g < 0.0 || g > all_rolled_up as f64)) {
        let value = gid.numeric(row).map(format_float_brief).unwrap_or_default();
        return Err(CubeError::BadRow { column: GROUPING_ID.into(), row: row + 1, value, more: String::new(), why: format!("with {} a grouping id is 0 … {all_rolled_up}", plural(k as u64, "dimension")) });
    }
    let dims: Vec<&crate::data::table::Column> = dimensions.iter().filter_map(|d| table.column(d)).collect();
    let measure_columns: Vec<&crate::data::table::Column> = measures.iter().filter_map(|m| table.column(m)).collect();
    let ColumnData::Timestamp { ms, .. } = &ts.data else { return Ok(None) };
    let kept = |g: u64| -> Vec<bool> { (0..k).map(|i| g & (1u64 << (k - 1 - i).min(63)) == 0).collect() };
    let gid_of = |row: usize| gid.numeric(row).map(|g| g as u64);
    // The rolled-up rows by grouping id; each id's rows are checked in a pass over the finest
    // rows, so the work is finest rows × ids, and it is bounded before it starts.
    let mut rolled: std::collections::BTreeMap<u64, Vec<usize>> = std::collections::BTreeMap::new();
    let mut finest: Vec<usize> = Vec::new();
    for row in 0..table.n_rows {
        match gid_of(row) {
            Some(0) => finest.push(row),
            Some(g) => rolled.entry(g).or_default().push(row),
            None => {}
        }
    }
    let steps = finest.len().saturating_mul(rolled.len());
    if steps > MAX_CHECK_STEPS {
        return Err(CubeError::TooManyGroupings { ids: rolled.len(), finest: finest.len(), sql: grouping_sets(k).len().saturating_sub(1) });
    }
    // Each dimension's values as codes, the same for equal text (one key per cell, no string
    // built per row and id).
    let codes: Vec<Vec<u32>> = dims
        .iter()
        .map(|c| {
            let mut seen: FxHashMap<String, u32> = FxHashMap::default();
            (0..table.n_rows)
                .map(|row| match c.value(row) {
                    Value::Missing => u32::MAX,
                    value => {
                        let next = seen.len() as u32;
                        *seen.entry(value.display()).or_insert(next)
                    }
                })
                .collect()
        })
        .collect();
    let key = |row: usize, keep: &[bool]| -> (i64, Vec<u32>) {
        let values = codes.iter().zip(keep).filter(|(_, keep)| **keep).map(|(c, _)| c.get(row).copied().unwrap_or(u32::MAX)).collect();
        (ms.get(row).copied().unwrap_or(0), values)
    };
    for (&g, rows) in &rolled {
        let keep = kept(g);
        let mut parts: FxHashMap<(i64, Vec<u32>), (f64, Vec<f64>)> = FxHashMap::default();
        for &row in &finest {
            let e = events.numeric(row).unwrap_or(0.0);
            let cell = parts.entry(key(row, &keep)).or_insert_with(|| (0.0, vec![0.0; measures.len()]));
            cell.0 += e;
            for (sum, column) in cell.1.iter_mut().zip(&measure_columns) {
                *sum += column.numeric(row).unwrap_or(0.0) * e;
            }
        }
        for &row in rows {
            let (part_events, part_sums) = parts.get(&key(row, &keep)).cloned().unwrap_or((0.0, vec![0.0; measures.len()]));
            let total = events.numeric(row).unwrap_or(0.0);
            let cell = || {
                let when = format_iso_ms(ms.get(row).copied().unwrap_or(0));
                let described: Vec<String> = dimensions
                    .iter()
                    .zip(&dims)
                    .zip(&keep)
                    .filter(|(_, keep)| **keep)
                    .map(|((d, c), _)| match c.value(row) {
                        Value::Missing => format!("{d} = (missing)"),
                        value => format!("{d} = {}", value.display()),
                    })
                    .collect();
                if described.is_empty() { format!("the total of {when}") } else { format!("{when}, {}", described.join(", ")) }
            };
            if total != part_events {
                return Err(CubeError::Disagree { cell: cell(), row: row + 1, what: "events".into(), total: format_float_brief(total), parts: format_float_brief(part_events) });
            }
            for ((name, column), part) in measures.iter().zip(&measure_columns).zip(part_sums) {
                let sum = column.numeric(row).unwrap_or(0.0) * total;
                if (sum - part).abs() > 1e-9 * sum.abs().max(part.abs()).max(1.0) {
                    return Err(CubeError::Disagree { cell: cell(), row: row + 1, what: format!("in the sum of {name}"), total: format_float_brief(sum), parts: format_float_brief(part) });
                }
            }
        }
    }
    let notice = format!(
        "This is a Vigil cube: each row stands for its “{EVENTS}”, and only the finest rows ({GROUPING_ID} = 0) are analysed (every rolled-up row was checked against them). Counts, sums, rates and ratios are exact; means, medians and p95 of a measure are over cells, not events, and distinct counts only count the values of a dimension."
    );
    Ok(Some(CubeInfo {
        finest: Clause::InSet { column: GROUPING_ID.into(), values: vec!["0".into()], negate: false },
        weight: EVENTS.into(),
        time: TS_BUCKET.into(),
        dimensions,
        measures: measures.into_iter().chain([GROUPING_ID.to_string()]).collect(),
        notice,
    }))
}

#[cfg(test)]
mod tests;
