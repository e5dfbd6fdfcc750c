//! The UI's handle on the worker: sends [`Request`]s, turns [`Response`]s into state.
//!
//! Requests made before the worker reports `Ready` are queued, since a worker drops messages
//! that arrive before its wasm module has installed the handler. Analyses' steps and answers
//! go to the job that asked (`jobs::deliver`); answers to questions go to the callback given
//! to [`ask`]; what a load means for the rest of the app is the shell's ([`Hooks`]).

use std::cell::RefCell;

use js_sys::{Object, Reflect};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, MessageEvent, Worker};

use super::jobs::{self, JobEvent};
use super::state::{AppState, ColumnValues, Loading, RowPage};
use crate::analysis::groups::DerivedColumn;
use crate::data::join::JoinSpec;
use crate::data::load::LoadOptions;
use crate::format::capitalise;
use crate::protocol::{DataSource, Envelope, JobError, JoinAnswer, QueryError, Request, Response, ENGINE_STOPPED};
use crate::viewstate::JoinRef;

struct Client {
    worker: Worker,
    ready: bool,
    queue: Vec<JsValue>,
    next_id: u64,
}

/// Restarts closer together than this mean the crash repeats: the app stops restarting.
const RESTART_QUIET_MS: f64 = 15_000.0;

/// A response larger than this (a report) is decoded in its message's task and handled, with
/// the drawing that follows, in a task of its own, so that the two never add up in one task.
const HANDLE_LATER_BYTES: u32 = 16 * 1024;

/// What the shell does when a load ends or the worker restarts (the client knows no panel).
#[derive(Clone, Copy)]
pub struct Hooks {
    /// A table was loaded; the client has reset the app's shared state.
    pub loaded: fn(AppState),
    /// A load failed or was cancelled.
    pub abandoned: fn(),
    /// The worker was restarted: reopen this source (with its file) and the view on screen.
    pub reopen: fn(AppState, DataSource, Vec<File>),
}

type Answer = Box<dyn FnOnce(Response)>;

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
    static HOOKS: std::cell::Cell<Option<Hooks>> = const { std::cell::Cell::new(None) };
    /// The load asked for last, and the one the table on screen came from (with its file).
    static REQUESTED: RefCell<Option<(DataSource, Vec<File>)>> = const { RefCell::new(None) };
    static LOADED: RefCell<Option<(DataSource, Vec<File>)>> = const { RefCell::new(None) };
    /// Responses decoded and not handled yet, in the order they came ([`HANDLE_LATER_BYTES`]).
    static LATER: RefCell<std::collections::VecDeque<Response>> = const { RefCell::new(std::collections::VecDeque::new()) };
    /// Set when the worker crashed twice in a row and was not started again: every request is
    /// then answered here, at once, with [`ENGINE_STOPPED`] (a worker whose wasm trapped must
    /// not be asked again: its memory and state are no longer what they were).
    static STOPPED: std::cell::Cell<Option<AppState>> = const { std::cell::Cell::new(None) };
    /// When the worker was last restarted after a crash (ms since the epoch).
    static LAST_RESTART: std::cell::Cell<f64> = const { std::cell::Cell::new(f64::NEG_INFINITY) };
    /// The files columns were added from, by name: a join is made again from them after a
    /// restart or when going back to a view.
    static LOOKUPS: RefCell<Vec<(String, File)>> = const { RefCell::new(Vec::new()) };
    /// Questions waiting for their answer, by request id.
    static ANSWERS: RefCell<rustc_hash::FxHashMap<u64, Answer>> = RefCell::new(rustc_hash::FxHashMap::default());
}

/// Asks the worker a question about the table or a clustering; `answer` gets the response.
pub fn ask(request: Request, answer: impl FnOnce(Response) + 'static) {
    let id = send(request, None);
    ANSWERS.with_borrow_mut(|answers| answers.insert(id, Box::new(answer)));
}

/// Starts the worker and routes its responses into `state`.
pub fn start(state: AppState, hooks: Hooks) -> Result<(), String> {
    HOOKS.set(Some(hooks));
    let worker = spawn(state)?;
    CLIENT.with_borrow_mut(|client| *client = Some(Client { worker, ready: false, queue: Vec::new(), next_id: 1 }));
    Ok(())
}

/// The table worker's address: `workers=N` in the page's own address (`…/?workers=2#demo`) is
/// passed on, the number of workers that parse a large file (`worker/helpers.rs`), and so is
/// `reading=slices`, a file read a slice at a time as where the browser has no byte streams
/// (`worker::BlobSource`; tests).
fn worker_url() -> String {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let passed: Vec<&str> = search
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| pair.strip_prefix("workers=").is_some_and(|n| n.parse::<u32>().is_ok()) || *pair == "reading=slices")
        .collect();
    match passed.as_slice() {
        [] => "./vigil-worker_loader.js".into(),
        _ => format!("./vigil-worker_loader.js?{}", passed.join("&")),
    }
}

/// A new worker with its handlers: responses go to `state`; a crash restarts it.
fn spawn(state: AppState) -> Result<Worker, String> {
    let worker = Worker::new(&worker_url()).map_err(|e| format!("cannot start the worker: {e:?}"))?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Ok(bytes) = event.data().dyn_into::<js_sys::Uint8Array>() else { return };
        match crate::protocol::decode::<Response>(&bytes.to_vec()) {
            Ok(response) => {
                // Responses keep their order: one waiting holds back those after it.
                let waiting = LATER.with_borrow(|later| !later.is_empty());
                if waiting || bytes.length() > HANDLE_LATER_BYTES {
                    LATER.with_borrow_mut(|later| later.push_back(response));
                    if !waiting {
                        handle_later(state);
                    }
                } else {
                    handle(state, response);
                }
            }
            Err(err) => web_sys::console::error_1(&format!("vigil: bad response from worker: {err}").into()),
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| restart(state));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    Ok(worker)
}

/// Handles the first response in [`LATER`] in the next task, and the rest in a task each.
fn handle_later(state: AppState) {
    set_timeout(
        move || {
            let Some(response) = LATER.with_borrow_mut(std::collections::VecDeque::pop_front) else { return };
            handle(state, response);
            if LATER.with_borrow(|later| !later.is_empty()) {
                handle_later(state);
            }
        },
        std::time::Duration::ZERO,
    );
}

/// The worker crashed (an internal error: its state can no longer be trusted). A new one is
/// started and the data on screen loaded again with the view on screen (filter, types, tab,
/// analyses); a load that crashed it is not retried. A second crash soon after stops there.
fn restart(state: AppState) {
    let now = js_sys::Date::now();
    let repeated = now - LAST_RESTART.get() < RESTART_QUIET_MS;
    LAST_RESTART.set(now);
    let crashed_load = state.loading.get_untracked().map(|l| l.what);
    state.loading.set(None);
    // Nothing in flight will answer, and what the old worker said is not handled.
    jobs::reset_all();
    LATER.with_borrow_mut(std::collections::VecDeque::clear);
    ANSWERS.with_borrow_mut(rustc_hash::FxHashMap::clear);
    let fresh = if repeated { Err("it stopped again right after a restart".to_string()) } else { spawn(state) };
    let old = CLIENT.with_borrow_mut(|slot| {
        let client = slot.as_mut()?;
        client.queue.clear();
        match &fresh {
            Ok(worker) => {
                let old = std::mem::replace(&mut client.worker, worker.clone());
                client.ready = false;
                Some(old)
            }
            // The crashed worker is stopped too, and nothing is sent to it again.
            Err(_) => {
                client.ready = false;
                Some(client.worker.clone())
            }
        }
    });
    if let Some(old) = old {
        old.terminate();
    }
    if let Err(why) = fresh {
        STOPPED.set(Some(state));
        state.worker_notice.set(Some(format!("The analysis engine stopped on an internal error and was not restarted ({why}). Reload the page to continue.")));
        return;
    }
    let reopen = LOADED.with_borrow(Clone::clone);
    let told = match (&crashed_load, &reopen) {
        (Some(what), Some(_)) => format!("Loading {what} stopped the analysis engine on an internal error; it was restarted with the data you had open."),
        (Some(what), None) => format!("Loading {what} stopped the analysis engine on an internal error; it was restarted."),
        (None, _) => "The analysis engine stopped on an internal error; it was restarted and your data and view reopened.".to_string(),
    };
    state.worker_notice.set(Some(told));
    if let (Some((source, files)), Some(hooks)) = (reopen, HOOKS.get()) {
        (hooks.reopen)(state, source, files);
    }
}

/// Sends a request (with a file to load, if any); returns its id.
pub fn send(request: Request, file: Option<File>) -> u64 {
    send_files(request, file.into_iter().collect())
}

/// Sends a request with files to load: one as `file`, several as the array `files`, in order.
fn send_files(request: Request, files: Vec<File>) -> u64 {
    CLIENT.with_borrow_mut(|slot| {
        let Some(client) = slot.as_mut() else { return 0 };
        let id = client.next_id;
        client.next_id += 1;
        if let Some(state) = STOPPED.get() {
            // Answered after the caller has noted the id, as the worker would answer.
            set_timeout(move || refuse_stopped(state, id), std::time::Duration::ZERO);
            return id;
        }
        let message = Object::new();
        match crate::protocol::encode(&Envelope { id, request }) {
            Ok(bytes) => {
                let _ = Reflect::set(&message, &"envelope".into(), &js_sys::Uint8Array::from(bytes.as_slice()).into());
            }
            Err(err) => {
                web_sys::console::error_1(&format!("vigil: {err}").into());
                return id;
            }
        }
        match files.as_slice() {
            [] => {}
            [file] => {
                let _ = Reflect::set(&message, &"file".into(), file);
            }
            several => {
                let list: js_sys::Array = several.iter().collect();
                let _ = Reflect::set(&message, &"files".into(), &list);
            }
        }
        if client.ready {
            post(&client.worker, &message);
        } else {
            client.queue.push(message.into());
        }
        id
    })
}

/// Answers request `id` with [`ENGINE_STOPPED`], whatever it asked: a load fails, an analysis
/// ends with the error, a question is refused.
fn refuse_stopped(state: AppState, id: u64) {
    handle(state, Response::LoadFailed { id, message: capitalise(ENGINE_STOPPED) + ".", too_large: false });
    jobs::deliver(id, JobEvent::Done { result: Err(JobError::EngineStopped), elapsed_ms: 0.0, timings: Vec::new() });
    if ANSWERS.with_borrow(|answers| answers.contains_key(&id)) {
        handle(state, Response::Failed { id, error: QueryError::Refused(ENGINE_STOPPED.into()) });
    }
}

fn post(worker: &Worker, message: &JsValue) {
    if let Err(err) = worker.post_message(message) {
        web_sys::console::error_2(&"vigil: postMessage to worker failed".into(), &err);
    }
}

fn handle(state: AppState, response: Response) {
    match response {
        Response::Ready => CLIENT.with_borrow_mut(|slot| {
            if let Some(client) = slot.as_mut() {
                client.ready = true;
                for message in client.queue.drain(..) {
                    post(&client.worker, &message);
                }
            }
        }),
        Response::Progress(progress) => state.loading.update(|loading| {
            if let Some(loading) = loading.as_mut().filter(|l| l.id == progress.id) {
                loading.progress = Some(progress);
            }
        }),
        Response::Loaded { id, summary } => {
            if is_current_load(state, id) {
                LOADED.set(REQUESTED.with_borrow(Clone::clone));
                state.loading.set(None);
                state.error.set(None);
                // The worker starts a new table unfiltered and unsorted.
                state.filter.set(Default::default());
                state.sort.set(None);
                state.weight.set(None);
                state.matched.set(Some(summary.n_rows));
                let cube = summary.cube.clone();
                state.label_params.set(None);
                state.intent.set(None);
                state.page.set(None);
                state.type_overrides.set(Vec::new());
                state.derived.set(Vec::new());
                state.joins.set(Vec::new());
                state.join_draft.set(None);
                state.deriving.set(None);
                state.derive_outcome.set(None);
                jobs::reset_all();
                ANSWERS.with_borrow_mut(rustc_hash::FxHashMap::clear);
                state.summary.set(Some(summary));
                state.view_version.update(|v| *v += 1);
                if let Some(hooks) = HOOKS.get() {
                    (hooks.loaded)(state);
                }
                // A cube is analysed over its finest rows, each standing for its events.
                if let Some(cube) = cube {
                    state.filter.update(|f| {
                        if !f.clauses.contains(&cube.finest) {
                            f.clauses.push(cube.finest);
                        }
                    });
                    state.weight.update(|w| {
                        w.get_or_insert(cube.weight);
                    });
                    apply_view(state);
                }
            }
        }
        Response::LoadFailed { id, message, too_large } => {
            if is_current_load(state, id) {
                state.loading.set(None);
                abandoned();
                state.stream_offer.set(too_large);
                let kept = if state.summary.get_untracked().is_some() { " The data loaded before is still here." } else { "" };
                state.error.set(Some(format!("{message}{kept}")));
            }
        }
        Response::Cancelled { id } => {
            if is_current_load(state, id) {
                state.loading.set(None);
                abandoned();
            }
        }
        Response::Step { id, phase, detail, fraction } => jobs::deliver(id, JobEvent::Step { phase, detail, fraction }),
        Response::Done { id, result, elapsed_ms, timings } => jobs::deliver(id, JobEvent::Done { result, elapsed_ms, timings }),
        answer @ (Response::Joined { .. } | Response::ClusterPoint { .. } | Response::ClusterSelect { .. } | Response::ClusterExport { .. } | Response::ExportRows { .. } | Response::ExportReports { .. } | Response::WarehouseSql { .. } | Response::StreamSample { .. }) => {
            let id = match &answer {
                Response::Joined { id, .. } | Response::ClusterPoint { id, .. } | Response::ClusterSelect { id, .. } | Response::ClusterExport { id, .. } | Response::ExportRows { id, .. } | Response::ExportReports { id, .. } | Response::WarehouseSql { id, .. } | Response::StreamSample { id, .. } => *id,
                _ => return,
            };
            if let Some(callback) = ANSWERS.with_borrow_mut(|answers| answers.remove(&id)) {
                callback(answer);
            }
        }
        Response::Rows { start, rows, .. } => state.page.set(Some(RowPage { start, rows })),
        Response::View { matched, error, weight_error, .. } => {
            state.matched.set(Some(matched));
            if let Some(message) = error {
                state.filter.set(Default::default());
                state.error.set(Some(message));
            }
            if let Some(message) = weight_error {
                state.weight.set(None);
                state.error.set(Some(message));
            }
            state.view_version.update(|v| *v += 1);
        }
        Response::Summary { summary, .. } => {
            // Only for the table on screen (a newer load may have replaced it).
            if state.summary.with_untracked(|s| s.as_ref().map(|s| &s.source) == Some(&summary.source)) {
                state.summary.set(Some(summary));
            }
        }
        Response::ColumnValues { column, values, distinct, .. } => {
            state.column_values.set(Some(ColumnValues { column, values, distinct }));
        }
        Response::Failed { id, error } => {
            ANSWERS.with_borrow_mut(|answers| answers.remove(&id));
            let mut message = error.to_string();
            if let Some(first) = message.get(..1) {
                message = first.to_uppercase() + message.get(1..).unwrap_or_default() + ".";
            }
            state.error.set(Some(message));
        }
    }
}

fn abandoned() {
    if let Some(hooks) = HOOKS.get() {
        (hooks.abandoned)();
    }
}

fn is_current_load(state: AppState, id: u64) -> bool {
    state.loading.get_untracked().is_some_and(|l| l.id == id)
}

/// Starts loading `source`, replacing any load in flight.
pub fn load(state: AppState, source: DataSource, file: Option<File>) {
    start_load(state, source, file.into_iter().collect(), None);
}

/// Loads several files with the same columns as one table (appended in order, with a `source`
/// column).
pub fn load_files(state: AppState, files: Vec<File>) {
    let source = DataSource::Files { names: files.iter().map(File::name).collect() };
    start_load(state, source, files, None);
}

/// Loads `source` again with the files it was read from.
pub fn load_again(state: AppState, source: DataSource, files: Vec<File>, cube: bool) {
    start_load(state, source, files, cube.then(Default::default));
}

/// Streams `source` into a cube and a sample instead of loading it whole (a file larger than
/// the tab): trends, incidents and root cause then run on the cube.
pub fn load_as_cube(state: AppState, source: DataSource, file: Option<File>) {
    start_load(state, source, file.into_iter().collect(), Some(Default::default()));
}

/// Streams the load that was just refused as too large.
pub fn stream_refused(state: AppState) {
    if let Some((source, files)) = REQUESTED.with_borrow(Clone::clone) {
        start_load(state, source, files, Some(Default::default()));
    }
}

/// Reads another sheet of the workbook on screen (a new table: the view starts afresh).
pub fn load_sheet(state: AppState, sheet: String) {
    if let Some((source, files)) = LOADED.with_borrow(Clone::clone) {
        // A link's view still being applied (its joins) is given up: this is other data.
        super::share::forget_pending(state);
        send_load(state, source, files, None, LoadOptions { sheet: Some(sheet), ..Default::default() });
    }
}

fn start_load(state: AppState, source: DataSource, files: Vec<File>, cube: Option<crate::warehouse::stream::StreamSettings>) {
    // A link's view names the sheet of a workbook it was made on; a copy without it is read
    // from its first sheet, with a notice.
    let sheet = super::share::pending_sheet();
    let sheet_or_first = sheet.is_some();
    send_load(state, source, files, cube, LoadOptions { sheet, sheet_or_first, ..Default::default() });
}

fn send_load(state: AppState, source: DataSource, files: Vec<File>, cube: Option<crate::warehouse::stream::StreamSettings>, options: LoadOptions) {
    if let Some(previous) = state.loading.get_untracked() {
        send(Request::Cancel { id: previous.id }, None);
    }
    let what = source.describe();
    REQUESTED.set(Some((source.clone(), files.clone())));
    let id = send_files(Request::Load { source, options, cube }, files);
    state.error.set(None);
    state.stream_offer.set(false);
    state.loading.set(Some(Loading { id, what, progress: None }));
}

/// Sends the current filter and sort to the worker.
pub fn apply_view(state: AppState) {
    let filter = state.filter.get_untracked();
    let sort = state.sort.get_untracked();
    let weight = state.weight.get_untracked();
    send(Request::SetView { filter, sort, weight }, None);
}

/// Re-types a column in the worker and remembers the choice for the view's link.
pub fn set_type(state: AppState, column: String, kind: crate::data::table::ColumnType) {
    send(Request::SetType { column: column.clone(), kind }, None);
    state.type_overrides.update(|all| {
        all.retain(|(c, _)| *c != column);
        all.push((column, kind));
    });
}

/// Makes the derived column `spec` in the worker (replacing one of that name), following its
/// progress; once made it is part of the view (and its link).
pub fn derive(state: AppState, spec: DerivedColumn) {
    let column = spec.column.clone();
    let id = send(Request::Derive { spec: spec.clone() }, None);
    state.deriving.set(Some((column.clone(), jobs::Running { id, phase: String::new(), detail: "Starting".into(), fraction: 0.0 })));
    state.derive_outcome.set(None);
    jobs::follow(id, move |id, event| {
        let current = state.deriving.with_untracked(|d| d.as_ref().is_some_and(|(_, r)| r.id == id));
        match event {
            JobEvent::Step { phase, detail, fraction } => {
                if current {
                    state.deriving.set(Some((column.clone(), jobs::Running { id, phase, detail, fraction })));
                }
            }
            JobEvent::Done { result, .. } => {
                if current {
                    state.deriving.set(None);
                }
                let outcome = match result {
                    Ok(_) => {
                        state.derived.update(|all| {
                            all.retain(|d| d.column != spec.column);
                            all.push(spec.clone());
                        });
                        Ok(())
                    }
                    Err(err) => Err(format!("Cannot add the column “{column}”: {err}.")),
                };
                state.derive_outcome.set(Some((column.clone(), outcome)));
            }
        }
    });
}

/// Adds columns from the lookup file `name` (a lookup join): with `file`, the file is read first
/// (its reading shown as a load, with Cancel); with `spec`, the columns are added and the join
/// becomes part of the view. `answer` gets the lookup file's columns, or why not.
pub fn join(state: AppState, name: String, spec: Option<JoinSpec>, file: Option<File>, answer: impl FnOnce(JoinAnswer) + 'static) {
    // One reading at a time: the load in progress would be replaced on screen by this one.
    if state.loading.with_untracked(Option::is_some) {
        answer(JoinAnswer { name, problem: Some("Wait until the data has loaded, then add columns from another file.".into()), ..JoinAnswer::default() });
        return;
    }
    if let Some(file) = &file {
        LOOKUPS.with_borrow_mut(|all| {
            all.retain(|(n, _)| *n != name);
            all.push((name.clone(), file.clone()));
        });
    }
    let reading = file.is_some().then(|| name.clone());
    let id = send(Request::Join { name, spec: spec.clone() }, file);
    if let Some(what) = reading {
        state.loading.set(Some(Loading { id, what, progress: None }));
    }
    ANSWERS.with_borrow_mut(|answers| {
        answers.insert(
            id,
            Box::new(move |response| {
                let Response::Joined { answer: joined, .. } = response else { return };
                if state.loading.get_untracked().is_some_and(|l| l.id == id) {
                    state.loading.set(None);
                }
                if let (None, Some(spec)) = (&joined.problem, spec) {
                    state.joins.update(|all| all.push(JoinRef { file: joined.name.clone(), spec }));
                }
                answer(joined);
            }),
        )
    });
}

/// The file columns were last added from under this name, if the reader gave it.
pub fn lookup_file(name: &str) -> Option<File> {
    LOOKUPS.with_borrow(|all| all.iter().find(|(n, _)| n == name).map(|(_, f)| f.clone()))
}

/// Stops making the derived column in flight, if any.
pub fn cancel_derive(state: AppState) {
    // The worker's answer (cancelled) says it.
    if let Some((_, running)) = state.deriving.get_untracked() {
        send(Request::Cancel { id: running.id }, None);
        state.deriving.set(None);
    }
}

/// Cancels the load in flight, if any.
pub fn cancel(state: AppState) {
    if let Some(loading) = state.loading.get_untracked() {
        send(Request::Cancel { id: loading.id }, None);
        state.loading.set(None);
        abandoned();
    }
}
