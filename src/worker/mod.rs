//! The Web Worker side: owns the loaded table and answers typed [`Request`]s.
//!
//! Loads are async loops over chunks (file slices, network reads, or slices of the generated
//! demo CSV). Between chunks the loop yields to the event loop with a zero timeout, so a
//! `Cancel` message is seen and the page's progress bar moves. A failed or cancelled load
//! leaves the previously loaded table in place.

pub mod helpers;
pub mod reader;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{Blob, DedicatedWorkerGlobalScope, MessageEvent};

use crate::analysis::cluster::{ClusterReport, Outcome as ClusterOutcome};
use crate::analysis::contract::{Progress as AnalysisProgress, Stopped};
use crate::analysis::groups::{derive, DerivedColumn};
use crate::analysis::registry::{run_any, AnyParams, AnyReport};
use crate::data::builder::retype_column;
use crate::data::demo::demo_csv;
use crate::analysis::contract::Weights;
use crate::data::filter::{evaluate_filter, Filter, Selection};
use crate::data::join::{lookup_join, JoinSpec};
use crate::data::load::{memory_check, rows_memory_check, Finishing, LoadError, LoadOptions, LoadReport, MemoryReading, TableLoader};
use crate::data::readers::{ReaderEnd, ReaderJob, ReaderKind};
use crate::warehouse::stream::{FileStream, StreamError, StreamSettings};
use crate::data::table::{DistinctCount, Table};
use crate::data::sort::{sort_selection, SortKey};
use crate::protocol::{DataSource, Envelope, JobError, JoinAnswer, MapSelection, PointDetail, Progress, QueryError, Request, Response, TableSummary};

/// Bytes read per step from a file.
const FILE_CHUNK_BYTES: f64 = 4.0 * 1024.0 * 1024.0;
/// Bytes a chunk read from the file's stream waits for, unless the file ends first: while a
/// chunk is parsed the browser keeps reading the file into the stream's pipe (2 MiB in
/// Chromium), so one read then brings what is there at once. Waiting for a whole
/// [`FILE_CHUNK_BYTES`] meant waiting, idle, for the pipe to fill again: a sixth of a 200 MB
/// load's time in the worker's profile, and one worker read it at 151 MB/s instead of 170
/// (`make bench`, 2026-12-05).
const STREAM_CHUNK_MIN_BYTES: u32 = 1 << 20;
/// Milliseconds at least between two progress messages of a file's load: the page redraws its
/// bar for each, and a chunk from a stream can be 1 MiB (at one message a chunk, the 200 MB
/// demo's 110 messages took 155 ms of the page's main thread).
const PROGRESS_EVERY_MS: f64 = 50.0;
/// Bytes of the generated demo pushed per step.
const DEMO_CHUNK_BYTES: usize = 1 << 20;

#[derive(Default)]
struct State {
    /// The loaded table; shared with a long analysis running in steps, which keeps its copy
    /// if a new table replaces it meanwhile.
    table: Option<Rc<Table>>,
    summary: Option<TableSummary>,
    filter: Filter,
    sort: Option<SortKey>,
    /// The weight column and each row's weight (checked when chosen).
    weight: Option<(String, Rc<Vec<f64>>)>,
    /// A cube's measures: they aggregate events rather than describe them.
    measures: Rc<Vec<String>>,
    /// The rows the grid shows: those passing `filter`, ordered by `sort`.
    view: Selection,
    /// Requests the UI asked to cancel.
    cancelled: Vec<u64>,
    /// The reader worker a load is waiting for (its request id): Cancel ends it at once.
    reading: Option<(u64, reader::Interrupt)>,
    /// Bumped by every load: an analysis started on an older table is stale.
    generation: u64,
    /// Loads running now: the last table's distinct counts wait for them, rather than take the
    /// worker's time from the next file's load.
    loading: u32,
    /// The sample kept by the last load when it streamed a file into a cube (CSV).
    sample: Option<Rc<String>>,
    /// The last report of each analysis, with its request id (the clustering's points are
    /// read back for hover, selection and export).
    reports: Vec<(u64, AnyReport)>,
    /// The table's derived columns (see [`crate::analysis::groups`]), by name.
    derived: Vec<String>,
    /// The lookup file read for a join (its name, its table, its rows set aside as unreadable),
    /// kept until the join is made.
    lookup: Option<(String, Table, u64)>,
    /// The derived column or the join being made (its request id): other requests wait in
    /// `waiting`.
    deriving: Option<u64>,
    waiting: Vec<JsValue>,
}

impl State {
    /// Re-evaluates the filter and sort; a filter that no longer fits is dropped and its
    /// error returned.
    fn rebuild_view(&mut self) -> Option<String> {
        let Some(table) = &self.table else {
            self.view.clear();
            return None;
        };
        let (mut view, error) = match evaluate_filter(table, &self.filter) {
            Ok(selection) => (selection, None),
            Err(err) => {
                self.filter = Filter::default();
                ((0..table.n_rows as u32).collect(), Some(format!("The filter was removed: {err}.")))
            }
        };
        if let Some(key) = &self.sort {
            if !sort_selection(table, &mut view, key) {
                self.sort = None;
            }
        }
        self.view = view;
        error
    }

    /// The last clustering's points.
    fn clustering(&self) -> Result<&ClusterOutcome, QueryError> {
        self.reports
            .iter()
            .find_map(|(_, report)| match report {
                AnyReport::Cluster(ClusterReport { kept, .. }) => kept.get(),
                _ => None,
            })
            .ok_or(QueryError::NoClustering)
    }

    /// Keeps `report` as its analysis's last one, unless a later request's is already there.
    fn keep(&mut self, id: u64, report: AnyReport) {
        match self.reports.iter_mut().find(|(_, r)| r.name() == report.name()) {
            Some(slot) if slot.0 < id => *slot = (id, report),
            Some(_) => {}
            None => self.reports.push((id, report)),
        }
    }

    fn view_response(&mut self, id: u64) -> Response {
        let error = self.rebuild_view();
        let total = self.table.as_ref().map_or(0, |t| t.n_rows);
        Response::View { id, matched: self.view.len(), total, error, weight_error: None }
    }

    /// Sets the weight column (`None`: one event per row); a column that cannot weigh the
    /// rows is refused, with why.
    fn set_weight(&mut self, column: Option<String>) -> Option<String> {
        if self.weight.as_ref().map(|(c, _)| c) == column.as_ref() {
            return None;
        }
        self.weight = None;
        let (Some(column), Some(table)) = (column, &self.table) else { return None };
        match crate::data::weights::weight_column(table, &column) {
            Ok(weights) => {
                self.weight = Some((column, Rc::new(weights)));
                None
            }
            Err(err) => Some(format!("The weight column was removed: {err}.")),
        }
    }
}

type Shared = Rc<RefCell<State>>;

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(response: &Response) {
    match crate::protocol::encode(response) {
        Ok(bytes) => {
            // The bytes' buffer is transferred, not copied.
            let array = js_sys::Uint8Array::from(bytes.as_slice());
            let transfer = js_sys::Array::of1(&array.buffer());
            if let Err(err) = scope().post_message_with_transfer(&array, &transfer) {
                web_sys::console::error_2(&"vigil worker: postMessage failed".into(), &err);
            }
        }
        Err(err) => web_sys::console::error_1(&format!("vigil worker: {err}").into()),
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Whether a progress message is due: `every_ms` since the last one (the first always).
struct ProgressPace {
    every_ms: f64,
    last_ms: f64,
}

impl ProgressPace {
    fn every(every_ms: f64) -> Self {
        Self { every_ms, last_ms: f64::NEG_INFINITY }
    }

    fn due(&mut self, now: f64) -> bool {
        let due = now - self.last_ms >= self.every_ms;
        if due {
            self.last_ms = now;
        }
        due
    }
}

/// Lets the event loop run (incoming messages such as Cancel) before continuing. A message
/// to ourselves through a `MessageChannel` is not clamped the way nested `setTimeout`s are.
async fn yield_now() {
    let Ok(channel) = web_sys::MessageChannel::new() else { return };
    let promise = Promise::new(&mut |resolve, _reject| {
        channel.port1().set_onmessage(Some(&resolve));
        let _ = channel.port2().post_message(&JsValue::NULL);
    });
    let _ = JsFuture::from(promise).await;
    channel.port1().set_onmessage(None);
}

/// Resolves after `ms` milliseconds (the worker's `setTimeout`); at once if the timer cannot be
/// set.
async fn sleep_ms(ms: i32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        if scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).is_err() {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Entry point of the worker binary.
pub fn run() {
    // A panic would otherwise end the worker as a bare "unreachable" trap: say where it was.
    std::panic::set_hook(Box::new(console_error_panic_hook::hook));
    if helpers::is_helper() {
        return helpers::serve();
    }
    let state: Shared = Rc::new(RefCell::new(State::default()));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        handle_message(&state, &event.data());
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    warm_up();
    post(&Response::Ready);
}

/// Rows of the demo loaded as the worker starts ([`warm_up`]): 3,000 made the first load of a
/// 32 MB file in a fresh browser context 53 ms faster (median of nine, in turn), 600 only 22.
const WARM_UP_ROWS: usize = 3_000;

/// Loads a few demo rows as the worker starts, through the path a large file takes
/// ([`crate::data::load::load_as_helpers_do`]), and drops the table. The browser compiles a
/// function when it is first called and optimises it once it has run a while: this way that
/// happens while the page opens and the analyst picks a file, not during the first load (a
/// helper runs this module's compiled code, see `helpers`). It delays the worker's first answer
/// by about 170 ms on this machine (a link that loads data at once waits that much more).
fn warm_up() {
    let csv = demo_csv(crate::data::demo::DemoParams { rows: WARM_UP_ROWS, seed: 1 });
    if let Err(err) = crate::data::load::load_as_helpers_do(&csv, LoadOptions::default(), 64 << 10) {
        web_sys::console::warn_1(&format!("vigil worker: the warm-up load failed: {err}").into());
    }
}

fn handle_message(state: &Shared, data: &JsValue) {
    let bytes = Reflect::get(data, &"envelope".into()).ok().and_then(|v| v.dyn_into::<js_sys::Uint8Array>().ok()).map(|a| a.to_vec());
    let envelope = match bytes.as_deref().map(crate::protocol::decode::<Envelope>) {
        Some(Ok(envelope)) => envelope,
        Some(Err(err)) => {
            web_sys::console::error_1(&format!("vigil worker: bad request: {err}").into());
            return;
        }
        None => return,
    };
    let id = envelope.id;
    // While a derived column or a join is made, requests that may name its columns wait (a link's filter, a panel's
    // settings); Cancel and a new load go through.
    if !matches!(envelope.request, Request::Cancel { .. } | Request::Load { .. }) && state.borrow().deriving.is_some() {
        state.borrow_mut().waiting.push(data.clone());
        return;
    }
    match envelope.request {
        Request::Cancel { id: target } => {
            let mut state = state.borrow_mut();
            state.cancelled.push(target);
            if let Some((_, interrupt)) = state.reading.take_if(|(reading, _)| *reading == target) {
                interrupt.interrupt();
            }
        }
        Request::Derive { spec } => {
            state.borrow_mut().deriving = Some(id);
            let state = state.clone();
            spawn_local(async move { derive_job(state, id, spec).await });
        }
        Request::Join { name, spec } => {
            let file = Reflect::get(data, &"file".into()).ok().and_then(|f| f.dyn_into::<Blob>().ok());
            state.borrow_mut().deriving = Some(id);
            let state = state.clone();
            spawn_local(async move { join_job(state, id, name, spec, file).await });
        }
        Request::Load { source, options, cube } => {
            // One file as `file`; several as the array `files`, in order.
            let mut files: Vec<Blob> = Reflect::get(data, &"file".into()).ok().and_then(|f| f.dyn_into::<Blob>().ok()).into_iter().collect();
            if let Some(list) = Reflect::get(data, &"files".into()).ok().and_then(|f| f.dyn_into::<js_sys::Array>().ok()) {
                files.extend(list.iter().filter_map(|f| f.dyn_into::<Blob>().ok()));
            }
            let state = state.clone();
            spawn_local(async move { load(state, id, source, options, cube, files).await });
        }
        request => answer(state, id, request),
    }
}

/// The requests answered at once, out of [`handle_message`]: a function of its own, so that the
/// first message (often the load) does not wait for all of them to be compiled. The browser
/// compiles a function when it is first called; with every request's code inlined (wasm-opt
/// inlines a function with one caller: `-ocimfs` in index.html bounds that), `handle_message` was
/// 207 KB of wasm, compiled in the first load's time.
#[inline(never)]
fn answer(state: &Shared, id: u64, request: Request) {
    match request {
        // Handled by `handle_message`.
        Request::Cancel { .. } | Request::Derive { .. } | Request::Join { .. } | Request::Load { .. } => {}
        Request::StreamSample => {
            let csv = state.borrow().sample.as_deref().cloned();
            post(&Response::StreamSample { id, csv });
        }
        Request::Rows { start, count } => {
            let state = state.borrow();
            let response = match &state.table {
                Some(table) => {
                    let end = start.saturating_add(count).min(state.view.len());
                    let rows = state
                        .view
                        .get(start.min(end)..end)
                        .unwrap_or_default()
                        .iter()
                        .map(|&row| (row as usize, table.row_text(row as usize)))
                        .collect();
                    Response::Rows { id, start, rows }
                }
                None => Response::Failed { id, error: QueryError::NoData },
            };
            post(&response);
        }
        Request::SetView { filter, sort, weight } => {
            let mut state = state.borrow_mut();
            state.filter = filter;
            state.sort = sort;
            let weight_error = state.set_weight(weight);
            let mut response = state.view_response(id);
            if let Response::View { weight_error: slot, .. } = &mut response {
                *slot = weight_error;
            }
            post(&response);
        }
        Request::SetType { column, kind } => {
            let mut guard = state.borrow_mut();
            let state = &mut *guard;
            let response = match state.table.as_mut().map(Rc::make_mut) {
                Some(table) => match table.columns.iter_mut().find(|c| c.name == column) {
                    Some(target) => {
                        *target = retype_column(target, kind);
                        let table = &*table;
                        match state.summary.as_mut() {
                            Some(summary) => {
                                summary.refresh_column(table, &column);
                                Response::Summary { id, summary: summary.clone() }
                            }
                            None => Response::Failed { id, error: QueryError::NoData },
                        }
                    }
                    None => Response::Failed { id, error: QueryError::NoColumn(column) },
                },
                None => Response::Failed { id, error: QueryError::NoData },
            };
            post(&response);
            // The filter or sort may refer to the re-typed column.
            let view = state.view_response(id);
            post(&view);
        }
        Request::Run { params } => {
            let state = state.clone();
            spawn_local(async move { run_job(state, id, params).await });
        }
        Request::ClusterPoint { index } => {
            let state = state.borrow();
            let result = state.clustering().and_then(|outcome| {
                let &point = outcome.map_index.get(index).ok_or(QueryError::NoSuchPoint(index))?;
                Ok(PointDetail {
                    index,
                    name: outcome.prepared.point_name(point, outcome.entity.as_deref()),
                    cluster: outcome.labels.get(point).copied().unwrap_or(crate::analysis::cluster::NOISE),
                    features: outcome
                        .prepared
                        .names
                        .iter()
                        .enumerate()
                        .map(|(j, name)| (name.clone(), outcome.prepared.raw.get((point, j)).copied().unwrap_or(f64::NAN)))
                        .collect(),
                    rows: outcome.prepared.rows_of(point).len(),
                })
            });
            post(&Response::ClusterPoint { id, result });
        }
        Request::ClusterSelect { selection } => {
            let state = state.borrow();
            let result = match (state.clustering(), &state.table) {
                (Ok(outcome), Some(table)) => {
                    let points = match selection {
                        MapSelection::Rectangle { x, y } => outcome.points_in(x, y),
                        MapSelection::Polygon(corners) => outcome.points_in_polygon(&corners),
                        MapSelection::Cluster(cluster) => outcome.points_of(cluster),
                    };
                    outcome.clause_for(table, &points).map(|clause| (clause, points.len())).map_err(QueryError::Refused)
                }
                (Err(err), _) => Err(err),
                (_, None) => Err(QueryError::NoData),
            };
            post(&Response::ClusterSelect { id, result });
        }
        Request::ClusterExport => {
            let state = state.borrow();
            let result = state.clustering().map(ClusterOutcome::membership_csv);
            post(&Response::ClusterExport { id, result });
        }
        Request::ExportRows => {
            let state = state.borrow();
            let result = match &state.table {
                Some(table) => rows_csv(table, &state.view).map_err(QueryError::Refused),
                None => Err(QueryError::NoData),
            };
            post(&Response::ExportRows { id, result });
        }
        Request::ExportReports { notes } => {
            let state = state.borrow();
            let reports: Vec<AnyReport> = state.reports.iter().map(|(_, report)| report.clone()).collect();
            let result = if state.table.is_none() {
                Err(QueryError::NoData)
            } else {
                serde_json::to_string_pretty(&crate::document::reports_json(&reports, &notes)).map_err(|e| QueryError::Refused(e.to_string()))
            };
            post(&Response::ExportReports { id, result });
        }
        Request::WarehouseSql { time, granularity, utc_offset_minutes, time_zone, dialect, source, sample } => {
            let state = state.borrow();
            let result = match &state.table {
                Some(table) => warehouse_sql(table, &state, WarehouseView { time, granularity, utc_offset_minutes, time_zone }, dialect, source.trim(), sample).map_err(QueryError::Refused),
                None => Err(QueryError::NoData),
            };
            post(&Response::WarehouseSql { id, result });
        }
        Request::ColumnValues { column, limit } => {
            let state = state.borrow();
            let response = match state.table.as_ref().and_then(|t| t.column(&column)) {
                Some(found) => {
                    let all_rows: Vec<u32> = (0..found.len() as u32).collect();
                    let counts = found.value_counts(&all_rows, limit);
                    Response::ColumnValues { id, column, values: counts.top, distinct: counts.distinct }
                }
                None => Response::Failed { id, error: QueryError::NoColumn(column) },
            };
            post(&response);
        }
    }
}

/// Largest CSV export of rows; beyond it the user is asked to filter (the text crosses to the
/// page as one string, and a Blob is made of it there).
const MAX_EXPORT_BYTES: usize = 256 << 20;

/// The periods a warehouse query aggregates into (the Trends tab's).
struct WarehouseView {
    time: String,
    granularity: crate::analysis::series::Granularity,
    utc_offset_minutes: i32,
    time_zone: Option<String>,
}

/// The cube (or weighted sample) query of the view on screen: its filter and weight column.
fn warehouse_sql(table: &crate::data::table::Table, state: &State, view: WarehouseView, dialect: crate::warehouse::sql::Dialect, source: &str, sample: bool) -> Result<crate::warehouse::sql::Query, String> {
    use crate::warehouse::sql::{cube_sql, sample_sql, SAMPLE_PER_PERIOD, SAMPLE_SEED};
    if source.is_empty() {
        return Err("name the warehouse table that holds the events".into());
    }
    let weight = state.weight.as_ref().map(|(column, _)| column.clone());
    let spec = crate::warehouse::CubeSpec::for_view(table, &view.time, view.granularity, view.utc_offset_minutes, view.time_zone, weight, state.filter.clone()).map_err(|e| e.to_string())?;
    let query = if sample { sample_sql(&spec, dialect, source, Some(table), SAMPLE_PER_PERIOD, SAMPLE_SEED) } else { cube_sql(&spec, dialect, source, Some(table)) };
    query.map_err(|e| e.to_string())
}

fn rows_csv(table: &crate::data::table::Table, rows: &[u32]) -> Result<String, String> {
    let mut out = Vec::new();
    crate::data::export::write_rows_csv(table, rows.iter().map(|&r| r as usize), &mut out, true).map_err(|e| format!("Cannot write the rows: {e}."))?;
    if out.len() > MAX_EXPORT_BYTES {
        return Err(format!(
            "The {} rows make {} of CSV, more than the {} one download can hold here. Filter the rows first, or export them from the warehouse.",
            crate::format::format_count(rows.len() as u64),
            crate::format::format_bytes(out.len() as u64),
            crate::format::format_bytes(MAX_EXPORT_BYTES as u64)
        ));
    }
    String::from_utf8(out).map_err(|_| "The rows are not valid text.".to_string())
}

/// Runs an analysis of the registry over the table and view as they are now, reporting its
/// steps; answers `Done` with its report, or why there is none (failed, cancelled, or the data
/// changed meanwhile).
async fn run_job(state: Shared, id: u64, params: AnyParams) {
    let started = now_ms();
    let snapshot = {
        let guard = state.borrow();
        guard.table.clone().map(|table| (table, guard.view.clone(), guard.generation, guard.weight.clone(), guard.measures.clone()))
    };
    let Some((table, rows, generation, weight, measures)) = snapshot else {
        post(&Response::Done { id, result: Err(JobError::NoData), elapsed_ms: 0.0, timings: Vec::new() });
        return;
    };
    let weights = match &weight {
        Some((column, values)) => Weights::per_row(column, values).with_measures(&measures),
        None => Weights::ONE,
    };
    let mut progress = JobProgress::new(state.clone(), id, generation, started);
    let outcome = run_any(&table, &rows, weights, &params, &mut progress).await;
    let timings = progress.finish();
    let mut guard = state.borrow_mut();
    let cancelled = guard.cancelled.contains(&id);
    guard.cancelled.retain(|&c| c != id);
    let result = match outcome {
        _ if guard.generation != generation => Err(JobError::Superseded),
        Err(_) if cancelled => Err(JobError::Cancelled),
        Err(err) => Err(JobError::Failed(err)),
        Ok(report) => {
            guard.keep(id, report.clone());
            Ok(Box::new(report))
        }
    };
    drop(guard);
    post(&Response::Done { id, result, elapsed_ms: now_ms() - started, timings });
}

/// Makes the derived column `spec` (replacing one of that name), then answers the requests that
/// waited for it. `Done` comes before the new `Summary`, so the page knows the column is derived
/// when it first sees it.
async fn derive_job(state: Shared, id: u64, spec: DerivedColumn) {
    let started = now_ms();
    let snapshot = {
        let guard = state.borrow();
        guard.table.clone().map(|table| (table, guard.generation, guard.derived.clone(), guard.measures.clone()))
    };
    let mut after: Vec<Response> = Vec::new();
    let result = match snapshot {
        None => Err(JobError::NoData),
        Some((table, generation, derived, measures)) => {
            let mut progress = JobProgress::new(state.clone(), id, generation, started);
            let outcome = derive(&table, &spec, &derived, &measures, &mut progress).await;
            drop(table);
            let mut guard = state.borrow_mut();
            let state = &mut *guard;
            let cancelled = state.cancelled.contains(&id);
            state.cancelled.retain(|&c| c != id);
            match outcome {
                _ if state.generation != generation => Err(JobError::Superseded),
                Err(_) if cancelled => Err(JobError::Cancelled),
                Err(err) => Err(JobError::Derive(err)),
                Ok((column, report)) => match (state.table.as_mut().map(Rc::make_mut), state.summary.as_mut()) {
                    (Some(table), Some(summary)) => {
                        let replaced = table.put_column(column);
                        summary.refresh_column(table, &spec.column);
                        after.push(Response::Summary { id, summary: summary.clone() });
                        if !state.derived.contains(&spec.column) {
                            state.derived.push(spec.column.clone());
                        }
                        // New values under a name the view may use (the filter, a split): the
                        // view is rebuilt, and what follows it runs again.
                        if replaced {
                            after.push(state.view_response(id));
                        }
                        Ok(Box::new(report))
                    }
                    _ => Err(JobError::NoData),
                },
            }
        }
    };
    post(&Response::Done { id, result, elapsed_ms: now_ms() - started, timings: Vec::new() });
    for response in &after {
        post(response);
    }
    release_waiting(&state);
}

/// The derived column or join is done: answers the requests that waited for it, in order.
fn release_waiting(state: &Shared) {
    state.borrow_mut().deriving = None;
    let waiting = std::mem::take(&mut state.borrow_mut().waiting);
    for (i, data) in waiting.iter().enumerate() {
        handle_message(state, data);
        if state.borrow().deriving.is_some() {
            // Another derived column or join: the rest waits for it, ahead of anything sent since.
            let mut guard = state.borrow_mut();
            let later = std::mem::take(&mut guard.waiting);
            guard.waiting = waiting[i + 1..].iter().cloned().chain(later).collect();
            break;
        }
    }
}

/// Reads the lookup file sent (if any) and keeps it, then makes the join asked for (if any);
/// then answers the requests that waited.
async fn join_job(state: Shared, id: u64, name: String, spec: Option<JoinSpec>, file: Option<Blob>) {
    let answer = join_answer(&state, id, name.clone(), spec, file).await.unwrap_or_else(|problem| JoinAnswer { name, problem: Some(problem), ..JoinAnswer::default() });
    state.borrow_mut().cancelled.retain(|&c| c != id);
    post(&Response::Joined { id, answer });
    release_waiting(&state);
}

async fn join_answer(state: &Shared, id: u64, name: String, spec: Option<JoinSpec>, file: Option<Blob>) -> Result<JoinAnswer, String> {
    let generation = state.borrow().generation;
    if let Some(blob) = file {
        // The file read before is let go first: two lookup files need not fit at once.
        state.borrow_mut().lookup = None;
        let report = match load_blob(state, id, LoadOptions::default(), None, blob).await {
            Outcome::Done(report, ..) => report,
            Outcome::Failed(message) | Outcome::TooLarge(message) => return Err(format!("{name}: {message}")),
            Outcome::Cancelled => return Err(format!("Reading {name} was cancelled.")),
        };
        if state.borrow().generation == generation {
            state.borrow_mut().lookup = Some((name.clone(), report.table, report.rejected_total));
        }
    }
    let mut guard = state.borrow_mut();
    let state = &mut *guard;
    if state.generation != generation {
        return Err("Other data was loaded meanwhile: add the columns again.".into());
    }
    let (Some(table), Some((_, lookup, rejected))) = (state.table.as_mut(), state.lookup.as_ref().filter(|(kept, ..)| *kept == name)) else {
        return Err(if state.table.is_none() { "No data is loaded to add columns to.".into() } else { format!("{name} is no longer open here: choose it again.") });
    };
    let table_columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let columns: Vec<String> = lookup.columns.iter().map(|c| c.name.clone()).collect();
    let (key, lookup_key) = crate::data::join::propose_key(&table_columns, &columns).unwrap_or_default();
    let answer = JoinAnswer { name, rows: lookup.n_rows as u64, columns, key, lookup_key, problem: None };
    let Some(spec) = spec else { return Ok(answer) };
    let table = Rc::make_mut(table);
    let joined = lookup_join(table, lookup, &spec).map_err(|e| format!("Cannot add columns from {}: {e}.", answer.name))?;
    let set_aside = match rejected {
        0 => String::new(),
        n => format!(" {} rows of {} were set aside as unreadable.", crate::format::format_count(*n), answer.name),
    };
    if let (Some(summary), Some(first)) = (state.summary.as_mut(), joined.columns.first()) {
        summary.refresh_column(table, first);
        // What the join did is said with the data's own notices.
        summary.notices.push(joined.describe(&answer.name, spec.repeated) + &set_aside);
        post(&Response::Summary { id, summary: summary.clone() });
    }
    state.lookup = None;
    post(&state.view_response(id));
    Ok(answer)
}

/// The worker's side of an analysis's progress: posts its steps (at most every 100 ms), lets
/// the event loop run (at most every 50 ms) so a Cancel or a new load gets through, answers
/// "stop" after either, and times each phase.
struct JobProgress {
    state: Shared,
    id: u64,
    generation: u64,
    last_yield: f64,
    posts: ProgressPace,
    phase: Option<(&'static str, f64)>,
    timings: Vec<(String, f64)>,
}

impl JobProgress {
    fn new(state: Shared, id: u64, generation: u64, started: f64) -> Self {
        Self { state, id, generation, last_yield: started, posts: ProgressPace::every(100.0), phase: None, timings: Vec::new() }
    }

    /// Adds the time since the phase began to its total.
    fn close_phase(&mut self, now: f64) {
        if let Some((phase, since)) = self.phase.take() {
            match self.timings.iter_mut().find(|(name, _)| name == phase) {
                Some(slot) => slot.1 += now - since,
                None => self.timings.push((phase.to_string(), now - since)),
            }
        }
    }

    /// Worker time per phase, in the order the phases came.
    fn finish(mut self) -> Vec<(String, f64)> {
        self.close_phase(now_ms());
        self.timings
    }
}

impl AnalysisProgress for JobProgress {
    async fn step(&mut self, phase: &'static str, detail: &str, fraction: f64) -> Result<(), Stopped> {
        let now = now_ms();
        if self.phase.is_none_or(|(current, _)| current != phase) {
            self.close_phase(now);
            self.phase = Some((phase, now));
        }
        if self.posts.due(now) {
            post(&Response::Step { id: self.id, phase: phase.to_string(), detail: detail.to_string(), fraction });
        }
        if now - self.last_yield >= 50.0 {
            yield_now().await;
            self.last_yield = now_ms();
        }
        let state = self.state.borrow();
        if state.cancelled.contains(&self.id) || state.generation != self.generation {
            return Err(Stopped);
        }
        Ok(())
    }
}

enum Outcome {
    /// The table, the bytes read, and the sample when the file was streamed into a cube.
    Done(LoadReport, u64, Option<(String, usize)>),
    Failed(String),
    /// The memory guard refused the file (it can be streamed instead).
    TooLarge(String),
    Cancelled,
}

/// How a load reads: into a table, or streamed into a cube.
type Mode = Option<StreamSettings>;

async fn load(state: Shared, id: u64, source: DataSource, options: LoadOptions, cube: Mode, files: Vec<Blob>) {
    state.borrow_mut().loading += 1;
    let mut started = now_ms();
    let outcome = match &source {
        DataSource::Demo(params) => {
            let bytes = demo_csv(*params);
            // Time the load, not the generator: the throughput shown is the loader's.
            started = now_ms();
            let total = bytes.len() as u64;
            let chunks = bytes.chunks(DEMO_CHUNK_BYTES).map(<[u8]>::to_vec);
            read_chunks(&state, id, options, cube, Some(total), IterSource(chunks)).await
        }
        DataSource::File { .. } => match files.into_iter().next() {
            Some(blob) => load_blob(&state, id, options, cube, blob).await,
            None => Outcome::Failed("the file was not passed to the worker".into()),
        },
        DataSource::Files { names } => load_several(&state, id, options, cube, names, files).await,
        DataSource::Url { url } => load_url(&state, id, options, cube, url).await,
    };
    let elapsed_ms = now_ms() - started;
    let response = match outcome {
        Outcome::Done(mut report, source_bytes, sample) => match crate::warehouse::recognise(&mut report.table) {
            // A cube that is not sound is refused; the table loaded before stays.
            Err(err) => Response::LoadFailed { id, message: format!("This file is a Vigil cube, but {err}."), too_large: false },
            Ok(cube) => {
                let mut summary = TableSummary::from_report(&report, source, source_bytes, elapsed_ms);
                summary.streamed_sample = sample.as_ref().map(|(_, rows)| *rows);
                state.borrow_mut().sample = sample.map(|(csv, _)| Rc::new(csv));
                let columns: Vec<(String, crate::data::table::ColumnType)> = summary.columns.iter().map(|c| (c.name.clone(), c.kind)).collect();
                summary.proposed_weight = crate::data::weights::propose_weight(&columns);
                let mut state = state.borrow_mut();
                state.measures = Rc::new(cube.as_ref().map(|c| c.measures.clone()).unwrap_or_default());
                summary.cube = cube;
                state.table = Some(Rc::new(report.table));
                state.summary = Some(summary.clone());
                state.generation += 1;
                state.reports.clear();
                state.derived.clear();
                state.lookup = None;
                // A new table starts unfiltered, unsorted and unweighted; the UI re-applies a
                // view it wants.
                state.filter = Filter::default();
                state.sort = None;
                state.weight = None;
                state.rebuild_view();
                Response::Loaded { id, summary }
            }
        },
        Outcome::Failed(message) => Response::LoadFailed { id, message, too_large: false },
        Outcome::TooLarge(message) => Response::LoadFailed { id, message, too_large: true },
        Outcome::Cancelled => Response::Cancelled { id },
    };
    {
        let mut state = state.borrow_mut();
        state.cancelled.retain(|&c| c != id);
        state.loading -= 1;
    }
    let loaded = matches!(response, Response::Loaded { .. });
    post(&response);
    if loaded {
        // The table is usable now; distinct counts follow once the UI has had the news, counted
        // in parts with a yield between them, so a request sent at once (an analysis, a Cancel)
        // is answered at once: a million distinct strings per column took seconds.
        yield_now().await;
        let Some(table) = state.borrow().table.clone() else { return };
        let mut distinct = Vec::with_capacity(table.columns.len());
        for column in &table.columns {
            let mut count = DistinctCount::new(column);
            while !count.advance(DISTINCT_STEP_ROWS) {
                yield_now().await;
                // A new load runs: the counts wait for its end (it may fail or be cancelled, and
                // this table stays).
                while state.borrow().loading > 0 {
                    sleep_ms(DISTINCT_WAIT_MS).await;
                }
                // Another table came meanwhile (a new load, a re-typed or derived column, which
                // brings its own counts): let this one go now.
                if !state.borrow().table.as_ref().is_some_and(|now| Rc::ptr_eq(now, &table)) {
                    return;
                }
            }
            distinct.push(count.count());
        }
        // No yield since the last check: `table` is still the current one.
        if let Some(summary) = state.borrow_mut().summary.as_mut() {
            summary.refresh_columns_counted(&table, &distinct);
            post(&Response::Summary { id, summary: summary.clone() });
        }
    }
}

/// Rows of a column counted between two yields of the distinct counts after a load.
const DISTINCT_STEP_ROWS: usize = 100_000;
/// How often distinct counts that wait for a load look whether it has ended.
const DISTINCT_WAIT_MS: i32 = 50;

/// A source of chunks: `next` yields the next chunk, `None` at the end, or an error message.
trait ChunkSource {
    async fn next(&mut self) -> Result<Option<Vec<u8>>, String>;

    /// The file itself, when the chunks come from one (a reader is handed it rather than its
    /// bytes).
    fn file(&self) -> Option<Blob> {
        None
    }
}

/// Whether a file the loader found to be a reader's goes to the reader as the `File` itself, so
/// that no worker holds it whole: a workbook does, and a Parquet file that ends as one (text may
/// start with "PAR1"; it is then read on as text).
async fn hands_over(kind: ReaderKind, file: &Blob) -> bool {
    match kind {
        ReaderKind::Workbook => true,
        ReaderKind::Parquet => {
            let size = file.size();
            let Ok(tail) = file.slice_with_f64_and_f64((size - 4.0).max(0.0), size) else { return false };
            match JsFuture::from(tail.array_buffer()).await {
                Ok(buffer) => Uint8Array::new(&buffer).to_vec() == b"PAR1",
                Err(_) => false,
            }
        }
    }
}

struct IterSource<I>(I);

impl<I: Iterator<Item = Vec<u8>>> ChunkSource for IterSource<I> {
    async fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        Ok(self.0.next())
    }
}

/// Memory the worker may hold for tables (the wasm32 address space is 4 GiB; analyses, the
/// table kept while another loads, and the allocator's slack need the rest).
const MEMORY_LIMIT: u64 = 5 << 29;

/// The worker's linear memory in bytes (its high-water mark: wasm memory never shrinks).
fn memory_bytes() -> u64 {
    core::arch::wasm32::memory_size(0) as u64 * 65_536
}

async fn load_chunks(state: &Shared, id: u64, options: LoadOptions, total: Option<u64>, mut source: impl ChunkSource) -> Outcome {
    // Text is parsed on every core: the helpers start with the load of a large file, else with
    // the first block of text.
    let workers = helpers::wanted();
    let helpers_wanted = workers - 1;
    let mut loader = TableLoader::new(options).with_helpers(helpers_wanted, helpers::PART_BYTES);
    let mut pool = (helpers_wanted > 0 && total.is_some_and(|bytes| bytes >= helpers::SPAWN_EARLY_BYTES)).then(|| helpers::Helpers::spawn(helpers_wanted));
    if let Some(bytes) = total {
        loader = loader.with_size_hint(bytes);
    }
    // What the first chunk says the file is (a reader's file is told apart by its first bytes).
    let (mut gzip, mut json, mut reader) = (false, false, None);
    let mut bytes = 0u64;
    let mut handed = None;
    let mut pace = ProgressPace::every(PROGRESS_EVERY_MS);
    loop {
        if state.borrow().cancelled.contains(&id) {
            return Outcome::Cancelled;
        }
        let chunk = match source.next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(message) => return Outcome::Failed(message),
        };
        if bytes == 0 {
            gzip = chunk.starts_with(&[0x1f, 0x8b]);
            json = !gzip && crate::data::json::detect(chunk.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&chunk)).is_some();
            reader = ReaderKind::of(&chunk);
        }
        // Before reading anything, will a file of this size fit at all; then, while reading,
        // stop cleanly before the tab runs out of memory.
        // (The rows lag the bytes read while text waits for helpers.)
        let parsed = (bytes as f64 * loader.parsed_share()) as u64;
        let reading = MemoryReading { memory_now: memory_bytes(), table: loader.memory(), read: parsed, total, gzip, json, reader: if bytes == 0 { reader } else { loader.reader_kind() } };
        if let Err(err) = memory_check(&reading, MEMORY_LIMIT) {
            return Outcome::TooLarge(describe_load_error(&err));
        }
        bytes += chunk.len() as u64;
        if let Err(err) = loader.push(&chunk) {
            return Outcome::Failed(describe_load_error(&err));
        }
        if let Err(err) = send_blocks(&mut loader, &mut pool, helpers_wanted).await {
            return Outcome::Failed(describe_load_error(&err));
        }
        if let (Some(kind), Some(file)) = (loader.reader_kind(), source.file()) {
            if hands_over(kind, &file).await {
                loader.hand_over_file();
                bytes = total.unwrap_or(bytes);
                handed = Some(file);
                break;
            }
        }
        if pace.due(now_ms()) {
            post(&Response::Progress(Progress { id, bytes, total_bytes: total, rows: loader.rows_loaded(), total_rows: None }));
        }
        yield_now().await;
    }
    if let Some(pool) = &mut pool {
        loop {
            match pool.merge_oldest(&mut loader).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(err) => return Outcome::Failed(describe_load_error(&err)),
            }
        }
    }
    drop(pool);
    // A Parquet file's rows are decoded now, a batch a step, with progress, Cancel and the
    // memory guard between steps.
    let mut finishing = match loader.finishing() {
        Ok(finishing) => finishing,
        Err(err) => return Outcome::Failed(describe_load_error(&err)),
    };
    // A Parquet file or a workbook: its text comes from the reader worker.
    if let Some(job) = finishing.reader_job() {
        return read_with_reader(state, id, (job, handed), bytes, total, LoadSink(finishing)).await;
    }
    loop {
        match finishing.step() {
            Ok(Some(report)) => return Outcome::Done(report, bytes, None),
            Ok(None) => {}
            Err(err) => return Outcome::Failed(describe_load_error(&err)),
        }
        if state.borrow().cancelled.contains(&id) {
            return Outcome::Cancelled;
        }
        let (rows, total_rows) = finishing.rows();
        if let Some(total_rows) = total_rows {
            if let Err(err) = rows_memory_check(memory_bytes(), finishing.memory(), rows, total_rows, bytes, MEMORY_LIMIT) {
                return Outcome::TooLarge(describe_load_error(&err));
            }
        }
        post(&Response::Progress(Progress { id, bytes, total_bytes: total, rows, total_rows }));
        yield_now().await;
    }
}

/// Sends the blocks of text waiting in `loader` to the helpers (started on the first), merging
/// the oldest whenever as many as they may hold are out, or when text that must be parsed here
/// waits behind them.
async fn send_blocks(loader: &mut TableLoader, pool: &mut Option<helpers::Helpers>, wanted: usize) -> Result<(), LoadError> {
    loop {
        let in_flight = pool.as_ref().map_or(0, helpers::Helpers::in_flight);
        if pool.as_ref().is_some_and(|pool| !pool.has_room()) {
            if let Some(pool) = pool.as_mut() {
                pool.merge_oldest(loader).await?;
            }
            continue;
        }
        match loader.next_block(in_flight > 0)? {
            Some(block) => {
                let helping = pool.get_or_insert_with(|| helpers::Helpers::spawn(wanted));
                helping.ready().await;
                helping.send(block);
            }
            None if in_flight > 0 && loader.waits() => {
                if let Some(pool) = pool.as_mut() {
                    pool.merge_oldest(loader).await?;
                }
            }
            None => return Ok(()),
        }
    }
}

/// A reader's text parsed into a table being loaded, or streamed into a cube.
trait ReaderSink {
    /// Parses a batch of text (the reader's rows written so far, the file's rows when known);
    /// the outcome that ends the load when it cannot go on.
    fn feed(&mut self, text: &[u8], rows: (u64, Option<u64>), bytes: u64) -> Result<(), Box<Outcome>>;
    /// Rows parsed so far, and the file's rows when known.
    fn rows(&self) -> (u64, Option<u64>);
    fn end(self, end: ReaderEnd, bytes: u64) -> Outcome;
}

struct LoadSink(Finishing);

impl ReaderSink for LoadSink {
    fn feed(&mut self, text: &[u8], rows: (u64, Option<u64>), bytes: u64) -> Result<(), Box<Outcome>> {
        self.0.feed_text(text, rows).map_err(|err| Outcome::Failed(describe_load_error(&err)))?;
        if let (done, Some(total_rows)) = rows {
            rows_memory_check(memory_bytes(), self.0.memory(), done, total_rows, bytes, MEMORY_LIMIT).map_err(|err| Outcome::TooLarge(describe_load_error(&err)))?;
        }
        Ok(())
    }

    fn rows(&self) -> (u64, Option<u64>) {
        self.0.rows()
    }

    fn end(mut self, end: ReaderEnd, bytes: u64) -> Outcome {
        match self.0.end_text(end) {
            Ok(report) => Outcome::Done(report, bytes, None),
            Err(err) => Outcome::Failed(describe_load_error(&err)),
        }
    }
}

/// Hands the file (`bytes` long; the `File` itself when given) to the reader worker and feeds its text, a batch at a time, to
/// `sink`, with progress; Cancel ends the reader at once. The next batch is asked for before
/// this one is parsed: the reader decodes while the table worker parses, at most two batches
/// apart.
async fn read_with_reader(state: &Shared, id: u64, (job, file): (ReaderJob, Option<Blob>), bytes: u64, total: Option<u64>, mut sink: impl ReaderSink) -> Outcome {
    let reader = match reader::ReaderWorker::start(job, file).await {
        Ok(reader) => reader,
        Err(err) => return Outcome::Failed(describe_load_error(&err)),
    };
    state.borrow_mut().reading = Some((id, reader.interrupt()));
    let outcome = loop {
        let reply = reader.reply().await;
        if state.borrow().cancelled.contains(&id) {
            break Outcome::Cancelled;
        }
        match reply {
            reader::Reply::Text(text, rows) => {
                // The reader decodes the next batch while this one is parsed (two threads).
                if let Err(err) = reader.ask_next() {
                    break Outcome::Failed(describe_load_error(&err));
                }
                if let Err(outcome) = sink.feed(&text, rows, bytes) {
                    break *outcome;
                }
                let (rows, total_rows) = sink.rows();
                post(&Response::Progress(Progress { id, bytes, total_bytes: total.filter(|_| total_rows.is_some()), rows, total_rows }));
            }
            // The file is read: without the rows it spans, the bar has no end to show.
            reader::Reply::Progress((rows, total_rows)) => post(&Response::Progress(Progress { id, bytes, total_bytes: total.filter(|_| total_rows.is_some()), rows, total_rows })),
            reader::Reply::End(end) => break sink.end(end, bytes),
            reader::Reply::Failed(err) => break Outcome::Failed(describe_load_error(&err)),
        }
    };
    state.borrow_mut().reading.take_if(|(reading, _)| *reading == id);
    outcome
}

async fn read_chunks(state: &Shared, id: u64, options: LoadOptions, cube: Mode, total: Option<u64>, source: impl ChunkSource) -> Outcome {
    match cube {
        Some(settings) => stream_chunks(state, id, options, settings, total, source).await,
        None => load_chunks(state, id, options, total, source).await,
    }
}

/// Streams the chunks into a cube and a sample (see [`crate::warehouse::stream`]): memory holds
/// one chunk's rows, the cells and the sample, whatever the file's size. The cube is then loaded
/// as the table, the sample kept for `StreamSample`.
async fn stream_chunks(state: &Shared, id: u64, options: LoadOptions, settings: StreamSettings, total: Option<u64>, mut source: impl ChunkSource) -> Outcome {
    let failed = stream_failed;
    let mut stream = match FileStream::new(options, settings) {
        Ok(stream) => stream,
        Err(err) => return failed(err),
    };
    let mut bytes = 0u64;
    let mut handed = None;
    let mut pace = ProgressPace::every(PROGRESS_EVERY_MS);
    loop {
        if state.borrow().cancelled.contains(&id) {
            return Outcome::Cancelled;
        }
        let chunk = match source.next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(message) => return Outcome::Failed(message),
        };
        // Only what is held counts: the cells and the sample, not the file's size.
        let reading = MemoryReading { memory_now: memory_bytes(), table: stream.batch_memory(), read: bytes, total: None, gzip: false, json: false, reader: None };
        if let Err(err) = memory_check(&reading, MEMORY_LIMIT) {
            return cube_too_large(&err, &stream);
        }
        bytes += chunk.len() as u64;
        if let Err(err) = stream.push(&chunk) {
            return failed(err);
        }
        if let (Some(kind), Some(file)) = (stream.reader_kind(), source.file()) {
            if hands_over(kind, &file).await {
                stream.hand_over_file();
                bytes = total.unwrap_or(bytes);
                handed = Some(file);
                break;
            }
        }
        if pace.due(now_ms()) {
            post(&Response::Progress(Progress { id, bytes, total_bytes: total, rows: stream.rows_read(), total_rows: None }));
        }
        yield_now().await;
    }
    // A Parquet file or a workbook: its text comes from the reader worker.
    match stream.reader_job() {
        Ok(Some(job)) => return read_with_reader(state, id, (job, handed), bytes, total, StreamSink(stream)).await,
        Ok(None) => {}
        Err(err) => return failed(err),
    }
    // The rows go into the cube now (a step for text; a batch a step when the readers are here).
    loop {
        match stream.finish_step() {
            Ok(true) => break,
            Ok(false) => {}
            Err(err) => return failed(err),
        }
        if state.borrow().cancelled.contains(&id) {
            return Outcome::Cancelled;
        }
        let reading = MemoryReading { memory_now: memory_bytes(), table: stream.batch_memory(), read: bytes, total: None, gzip: false, json: false, reader: None };
        if let Err(err) = memory_check(&reading, MEMORY_LIMIT) {
            return cube_too_large(&err, &stream);
        }
        post(&Response::Progress(Progress { id, bytes, total_bytes: total, rows: stream.rows_read(), total_rows: stream.total_rows() }));
        yield_now().await;
    }
    match stream.finish_loaded() {
        Ok((report, sample)) => Outcome::Done(report, bytes, sample),
        Err(err) => failed(err),
    }
}

fn stream_failed(err: StreamError) -> Outcome {
    Outcome::Failed(match err {
        StreamError::Load(err) => describe_load_error(&err),
        StreamError::Cube(err) => format!("This file cannot be streamed into a cube: {err}."),
    })
}

fn cube_too_large(err: &LoadError, stream: &FileStream) -> Outcome {
    Outcome::Failed(format!("{} The cube itself outgrew the memory ({} cells): choose a file with fewer dimensions.", describe_load_error(err), crate::format::format_count(stream.cells() as u64)))
}

struct StreamSink(FileStream);

impl ReaderSink for StreamSink {
    fn feed(&mut self, text: &[u8], rows: (u64, Option<u64>), bytes: u64) -> Result<(), Box<Outcome>> {
        self.0.feed_text(text, rows).map_err(stream_failed)?;
        // Only what is held counts: the cells and the sample, not the file's size.
        let reading = MemoryReading { memory_now: memory_bytes(), table: self.0.batch_memory(), read: bytes, total: None, gzip: false, json: false, reader: None };
        Ok(memory_check(&reading, MEMORY_LIMIT).map_err(|err| cube_too_large(&err, &self.0))?)
    }

    fn rows(&self) -> (u64, Option<u64>) {
        (self.0.rows_read(), self.0.total_rows())
    }

    fn end(mut self, end: ReaderEnd, bytes: u64) -> Outcome {
        if let Err(err) = self.0.end_text(end) {
            return stream_failed(err);
        }
        match self.0.finish_loaded() {
            Ok((report, sample)) => Outcome::Done(report, bytes, sample),
            Err(err) => stream_failed(err),
        }
    }
}

fn describe_load_error(err: &LoadError) -> String {
    let mut message = err.to_string();
    if let Some(first) = message.get(..1) {
        message = first.to_uppercase() + message.get(1..).unwrap_or_default();
    }
    if !message.ends_with('.') {
        message.push('.');
    }
    message
}

/// A file's chunks. Read through the file's stream into one buffer used again for every chunk
/// where the browser gives the stream a reader that fills the caller's buffer ("BYOB";
/// Chromium does): a buffer made for each chunk is freed only when the worker collects
/// garbage, and such buffers were a quarter of a 200 MB load's peak memory. A chunk is what the
/// stream has ready, at least [`STREAM_CHUNK_MIN_BYTES`]. Elsewhere, or with
/// `reading=slices` in the worker's address (tests), each chunk is read into a new buffer by
/// `Blob.slice().arrayBuffer()`, the next while this one is parsed.
struct BlobSource {
    blob: Blob,
    offset: f64,
    /// The next chunk, being read while this one is parsed.
    ahead: Option<JsFuture>,
    /// The file's stream read into `buffer`, when the browser can.
    byob: Option<web_sys::ReadableStreamByobReader>,
    buffer: Option<js_sys::ArrayBuffer>,
}

impl BlobSource {
    fn new(blob: Blob) -> Self {
        let slices_asked = scope().location().search().split(['?', '&']).any(|pair| pair == "reading=slices");
        let byob = (|| {
            if slices_asked {
                return None;
            }
            let stream = blob.stream();
            let get_reader = Reflect::get(&stream, &"getReader".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
            let options = js_sys::Object::new();
            Reflect::set(&options, &"mode".into(), &"byob".into()).ok()?;
            // Throws where the stream is not a byte stream.
            Some(get_reader.call1(&stream, &options).ok()?.unchecked_into::<web_sys::ReadableStreamByobReader>())
        })();
        Self { blob, offset: 0.0, ahead: None, byob, buffer: None }
    }

    /// Starts reading the chunk at `offset`.
    fn read_from(&self, offset: f64) -> Result<JsFuture, String> {
        let end = (offset + FILE_CHUNK_BYTES).min(self.blob.size());
        let slice = self.blob.slice_with_f64_and_f64(offset, end).map_err(|e| format!("cannot read the file: {e:?}"))?;
        Ok(JsFuture::from(slice.array_buffer()))
    }

    /// The next chunk read from the stream into the kept buffer (up to its size).
    async fn next_from_stream(&mut self, reader: &web_sys::ReadableStreamByobReader) -> Result<Option<Vec<u8>>, String> {
        let fail = |e: JsValue| format!("cannot read the file: {e:?}");
        let mut buffer = self.buffer.take().unwrap_or_else(|| js_sys::ArrayBuffer::new(FILE_CHUNK_BYTES as u32));
        let room = buffer.byte_length();
        let mut filled = 0;
        let mut done = false;
        while filled < room.min(STREAM_CHUNK_MIN_BYTES) && !done {
            let view = Uint8Array::new_with_byte_offset_and_length(&buffer, filled, room - filled);
            let result = JsFuture::from(reader.read_with_array_buffer_view(&view)).await.map_err(fail)?;
            done = reader::get(&result, "done").is_truthy();
            // The stream hands the buffer back (moved, not copied) in the view it filled.
            match reader::get(&result, "value").dyn_into::<Uint8Array>() {
                Ok(value) => {
                    buffer = value.buffer();
                    filled += value.byte_length();
                }
                // A stream ends without handing the buffer back only when cancelled; the bytes
                // of this chunk read so far went with the buffer.
                Err(_) if done && filled == 0 => return Ok(None),
                Err(_) => return Err("cannot read the file: its stream ended without its bytes".into()),
            }
        }
        self.offset += f64::from(filled);
        let bytes = Uint8Array::new_with_byte_offset_and_length(&buffer, 0, filled).to_vec();
        self.buffer = Some(buffer);
        Ok((filled > 0).then_some(bytes))
    }
}

impl ChunkSource for BlobSource {
    fn file(&self) -> Option<Blob> {
        Some(self.blob.clone())
    }

    async fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        let size = self.blob.size();
        if self.offset >= size {
            return Ok(None);
        }
        if let Some(reader) = self.byob.clone() {
            return self.next_from_stream(&reader).await;
        }
        let reading = match self.ahead.take() {
            Some(reading) => reading,
            None => self.read_from(self.offset)?,
        };
        self.offset = (self.offset + FILE_CHUNK_BYTES).min(size);
        if self.offset < size {
            self.ahead = Some(self.read_from(self.offset)?);
        }
        let buffer = reading.await.map_err(|e| format!("cannot read the file: {e:?}"))?;
        Ok(Some(Uint8Array::new(&buffer).to_vec()))
    }
}

async fn load_blob(state: &Shared, id: u64, options: LoadOptions, cube: Mode, blob: Blob) -> Outcome {
    let total = blob.size() as u64;
    read_chunks(state, id, options, cube, Some(total), BlobSource::new(blob)).await
}

/// Several files with the same columns, one after another, appended into one table with a
/// `source` column (`data::append`); the first that cannot load stops the load, named.
async fn load_several(state: &Shared, id: u64, options: LoadOptions, cube: Mode, names: &[String], files: Vec<Blob>) -> Outcome {
    if cube.is_some() {
        return Outcome::Failed("A cube is read from one file: open the files one at a time to stream them.".into());
    }
    if names.len() != files.len() {
        return Outcome::Failed(format!("{} files were named but {} passed to the worker.", names.len(), files.len()));
    }
    let mut parts = Vec::with_capacity(files.len());
    let mut bytes = 0;
    for (name, blob) in names.iter().zip(files) {
        match load_blob(state, id, options.clone(), None, blob).await {
            Outcome::Done(report, read, _) => {
                bytes += read;
                parts.push((name.clone(), report));
            }
            // Refused as too large: streaming is for one file, so no offer to stream.
            Outcome::Failed(message) | Outcome::TooLarge(message) => return Outcome::Failed(format!("{name}: {message}")),
            Outcome::Cancelled => return Outcome::Cancelled,
        }
    }
    match crate::data::append::append(parts) {
        Ok(report) => Outcome::Done(report, bytes, None),
        Err(err) => Outcome::Failed(describe_append_error(&err)),
    }
}

/// "These files do not have the same columns as a.csv: b.csv lacks “x”."
fn describe_append_error(err: &crate::data::append::SchemaMismatch) -> String {
    let message = err.to_string();
    let mut chars = message.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str() + ".").unwrap_or_default()
}

struct StreamSource {
    reader: web_sys::ReadableStreamDefaultReader,
}

impl ChunkSource for StreamSource {
    async fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        let result = JsFuture::from(self.reader.read())
            .await
            .map_err(|e| format!("the download was interrupted: {}", js_error_text(&e)))?;
        let done = Reflect::get(&result, &"done".into()).ok().and_then(|v| v.as_bool()).unwrap_or(true);
        if done {
            return Ok(None);
        }
        let value = Reflect::get(&result, &"value".into()).map_err(|e| js_error_text(&e))?;
        Ok(Some(Uint8Array::new(&value).to_vec()))
    }
}

fn js_error_text(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

async fn load_url(state: &Shared, id: u64, options: LoadOptions, cube: Mode, url: &str) -> Outcome {
    let response = match JsFuture::from(scope().fetch_with_str(url)).await {
        Ok(response) => response.unchecked_into::<web_sys::Response>(),
        Err(err) => {
            return Outcome::Failed(format!(
                "Could not fetch {url}: {}. The server may be unreachable, or it does not allow \
                 cross-origin requests (CORS); download the file and open it instead.",
                js_error_text(&err)
            ))
        }
    };
    if !response.ok() {
        return Outcome::Failed(format!("Could not fetch {url}: the server answered {} {}", response.status(), response.status_text()));
    }
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok());
    let Some(body) = response.body() else {
        return Outcome::Failed(format!("Could not fetch {url}: the response has no body"));
    };
    let reader = body.get_reader().unchecked_into::<web_sys::ReadableStreamDefaultReader>();
    read_chunks(state, id, options, cube, total, StreamSource { reader }).await
}
