//! The UI's handle on the worker: sends [`Request`]s, turns [`Response`]s into state.
//!
//! Requests made before the worker reports `Ready` are queued, since a worker drops messages
//! that arrive before its wasm module has installed the handler.

use std::cell::RefCell;

use js_sys::{Object, Reflect};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, MessageEvent, Worker};

use super::state::{AppState, ColumnValues, Loading, RowPage};
use crate::protocol::{Envelope, Request, Response};

struct Client {
    worker: Worker,
    ready: bool,
    queue: Vec<JsValue>,
    next_id: u64,
}

/// Restarts closer together than this mean the crash repeats: the app stops restarting.
const RESTART_QUIET_MS: f64 = 15_000.0;

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
    /// The load asked for last, and the one the table on screen came from (with its file).
    static REQUESTED: RefCell<Option<(crate::protocol::DataSource, Option<File>)>> = const { RefCell::new(None) };
    static LOADED: RefCell<Option<(crate::protocol::DataSource, Option<File>)>> = const { RefCell::new(None) };
    /// When the worker was last restarted after a crash (ms since the epoch).
    static LAST_RESTART: std::cell::Cell<f64> = const { std::cell::Cell::new(f64::NEG_INFINITY) };
    /// Id of the latest trend request; older answers are dropped.
    static LATEST_TREND: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Id of the latest root-cause request.
    static LATEST_RCA: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Starts a clustering (cancelling one in flight); its steps and result land in `state`.
pub fn request_cluster(state: AppState, params: crate::analysis::cluster::ClusterParams) {
    cancel_cluster(state);
    let id = send(Request::Cluster { params: params.clone() }, None);
    state.cluster_params.set(Some(params));
    state.cluster_point.set(None);
    state.cluster_selection.set(None);
    state.cluster_view.set(state.view_version.get_untracked());
    state.cluster_running.set(Some(super::state::ClusterRun { id, stage: "Reading features".into(), fraction: 0.0 }));
}

/// Stops the clustering in flight, if any (the result shown before stays).
pub fn cancel_cluster(state: AppState) {
    if let Some(run) = state.cluster_running.get_untracked() {
        send(Request::Cancel { id: run.id }, None);
        state.cluster_running.set(None);
    }
}

/// Asks the worker to explain a change; answers to earlier requests will be ignored.
pub fn request_root_cause(state: AppState, params: crate::analysis::rootcause::RcaParams) {
    let id = send(Request::RootCause { params }, None);
    LATEST_RCA.set(id);
    state.rca_pending.set(true);
    state.rca_progress.set(Some(("Starting".into(), 0.0)));
}

/// Stops the root-cause analysis in flight, if any.
pub fn cancel_root_cause(state: AppState) {
    if state.rca_pending.get_untracked() {
        send(Request::Cancel { id: LATEST_RCA.get() }, None);
        // An answer already on its way is not shown.
        LATEST_RCA.set(0);
        state.rca_pending.set(false);
        state.rca_progress.set(None);
        state.rca.set(Some(Err("The analysis was cancelled; press Explain to run it again.".into())));
    }
}

/// Asks for a trend report; answers to earlier trend requests will be ignored.
pub fn request_trend(state: AppState, series: crate::analysis::series::SeriesParams, model: crate::analysis::trend::TrendParams) {
    let id = send(Request::Trend { series, model }, None);
    LATEST_TREND.set(id);
    state.trend_pending.set(true);
}

/// Starts the worker and routes its responses into `state`.
pub fn start(state: AppState) -> Result<(), String> {
    let worker = spawn(state)?;
    CLIENT.with_borrow_mut(|client| *client = Some(Client { worker, ready: false, queue: Vec::new(), next_id: 1 }));
    Ok(())
}

/// A new worker with its handlers: responses go to `state`; a crash restarts it.
fn spawn(state: AppState) -> Result<Worker, String> {
    let worker = Worker::new("./vigil-worker_loader.js").map_err(|e| format!("cannot start the worker: {e:?}"))?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Ok(bytes) = event.data().dyn_into::<js_sys::Uint8Array>() else { return };
        match crate::protocol::decode::<Response>(&bytes.to_vec()) {
            Ok(response) => handle(state, response),
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

/// The worker crashed (an internal error: its state can no longer be trusted). A new one is
/// started and the data on screen loaded again with the view on screen (filter, types, tab,
/// analyses); a load that crashed it is not retried. A second crash soon after stops there.
fn restart(state: AppState) {
    let now = js_sys::Date::now();
    let repeated = now - LAST_RESTART.get() < RESTART_QUIET_MS;
    LAST_RESTART.set(now);
    let crashed_load = state.loading.get_untracked().map(|l| l.what);
    state.loading.set(None);
    state.trend_pending.set(false);
    state.rca_pending.set(false);
    state.rca_progress.set(None);
    state.cluster_running.set(None);
    state.tree_pending.set(false);
    let fresh = if repeated { Err("it stopped again right after a restart".to_string()) } else { spawn(state) };
    let old = CLIENT.with_borrow_mut(|slot| {
        let client = slot.as_mut()?;
        match &fresh {
            Ok(worker) => {
                let old = std::mem::replace(&mut client.worker, worker.clone());
                client.ready = false;
                client.queue.clear();
                Some(old)
            }
            Err(_) => None,
        }
    });
    if let Some(old) = old {
        old.terminate();
    }
    if let Err(why) = fresh {
        state.worker_notice.set(Some(format!("The analysis engine stopped on an internal error and was not restarted ({why}). Reload the page to continue.")));
        return;
    }
    let reopen = LOADED.with_borrow(Clone::clone);
    let view = super::share::view_on_screen(state);
    let told = match (&crashed_load, &reopen) {
        (Some(what), Some(_)) => format!("Loading {what} stopped the analysis engine on an internal error; it was restarted with the data you had open."),
        (Some(what), None) => format!("Loading {what} stopped the analysis engine on an internal error; it was restarted."),
        (None, _) => "The analysis engine stopped on an internal error; it was restarted and your data and view reopened.".to_string(),
    };
    state.worker_notice.set(Some(told));
    if let Some((source, file)) = reopen {
        super::share::reopen(state, view, source, file);
    }
}

/// Sends a request (with a file to load, if any); returns its id.
pub fn send(request: Request, file: Option<File>) -> u64 {
    CLIENT.with_borrow_mut(|slot| {
        let Some(client) = slot.as_mut() else { return 0 };
        let id = client.next_id;
        client.next_id += 1;
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
        if let Some(file) = file {
            let _ = Reflect::set(&message, &"file".into(), &file);
        }
        if client.ready {
            post(&client.worker, &message);
        } else {
            client.queue.push(message.into());
        }
        id
    })
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
                state.matched.set(Some(summary.n_rows));
                state.label_params.set(None);
                state.profile_key.set(None);
                state.labels.set(None);
                state.trend.set(None);
                state.trend_settings.reset();
                state.rca.set(None);
                state.rca_params.set(None);
                state.trend_marks.set(Vec::new());
                state.cluster.set(None);
                state.cluster_params.set(None);
                state.cluster_running.set(None);
                state.cluster_point.set(None);
                state.cluster_selection.set(None);
                state.backtest.set(None);
                state.scores.set(None);
                state.tree.set(None);
                state.regression.set(None);
                state.tree_params.set(None);
                state.regression_params.set(None);
                state.score_column.set(None);
                state.score_threshold.set(None);
                state.page.set(None);
                state.type_overrides.set(Vec::new());
                state.summary.set(Some(summary));
                state.view_version.update(|v| *v += 1);
                super::share::on_loaded(state);
            }
        }
        Response::LoadFailed { id, message } => {
            if is_current_load(state, id) {
                state.loading.set(None);
                super::share::on_load_abandoned();
                let kept = if state.summary.get_untracked().is_some() { " The data loaded before is still here." } else { "" };
                state.error.set(Some(format!("{message}{kept}")));
            }
        }
        Response::Cancelled { id } => {
            if is_current_load(state, id) {
                state.loading.set(None);
                super::share::on_load_abandoned();
            }
            if state.cluster_running.get_untracked().is_some_and(|r| r.id == id) {
                state.cluster_running.set(None);
            }
        }
        Response::Step { id, stage, fraction } => {
            if LATEST_RCA.get() == id && state.rca_pending.get_untracked() {
                state.rca_progress.set(Some((stage, fraction)));
            } else {
                state.cluster_running.update(|run| {
                    if let Some(run) = run.as_mut().filter(|r| r.id == id) {
                        run.stage = stage;
                        run.fraction = fraction;
                    }
                });
            }
        }
        Response::Cluster { id, result, elapsed_ms, timings } => {
            if state.cluster_running.get_untracked().is_some_and(|r| r.id == id) {
                state.cluster_running.set(None);
                state.cluster_elapsed_ms.set(elapsed_ms);
                state.cluster_timings.set(timings);
                state.cluster.set(Some(result));
            }
        }
        Response::Backtest { result, .. } => state.backtest.set(Some(result)),
        Response::Scores { result, .. } => state.scores.set(Some(result)),
        Response::Regression { result, .. } => state.regression.set(Some(result)),
        Response::Tree { result, .. } => {
            state.tree_pending.set(false);
            state.tree.set(Some(result));
        }
        Response::ClusterPoint { result, .. } => state.cluster_point.set(result.ok()),
        Response::ClusterSelect { result, .. } => state.cluster_selection.set(Some(result)),
        Response::ClusterExport { result, .. } => {
            let saved = result.and_then(|csv| super::download::download_text("clusters.csv", "text/csv", &csv));
            if let Err(message) = saved {
                state.error.set(Some(format!("Cannot export the clusters: {message}")));
            }
        }
        Response::ExportRows { result, .. } => {
            let saved = result.and_then(|csv| super::download::download_text("vigil-rows.csv", "text/csv", &csv));
            if let Err(message) = saved {
                state.error.set(Some(format!("Cannot export the rows: {message}")));
            }
        }
        Response::Rows { start, rows, .. } => state.page.set(Some(RowPage { start, rows })),
        Response::View { matched, error, .. } => {
            state.matched.set(Some(matched));
            if let Some(message) = error {
                state.filter.set(Default::default());
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
        Response::Profile { profile, .. } => state.profile.set(Some(profile)),
        Response::Labels { result, .. } => state.labels.set(Some(result)),
        Response::Trend { id, result } => {
            // Only the answer to the latest request (settings may have changed meanwhile).
            if LATEST_TREND.get() == id {
                state.trend_pending.set(false);
                state.trend.set(Some(result));
            }
        }
        Response::ColumnValues { column, values, distinct, .. } => {
            state.column_values.set(Some(ColumnValues { column, values, distinct }));
        }
        Response::RootCause { id, result, elapsed_ms } => {
            if LATEST_RCA.get() == id {
                state.rca_pending.set(false);
                state.rca_progress.set(None);
                state.rca_elapsed_ms.set(elapsed_ms);
                state.rca.set(Some(result));
            }
        }
        Response::Failed { id, message } => {
            if LATEST_TREND.get() == id {
                state.trend_pending.set(false);
            }
            if LATEST_RCA.get() == id {
                state.rca_pending.set(false);
                state.rca_progress.set(None);
            }
            if state.cluster_running.get_untracked().is_some_and(|r| r.id == id) {
                state.cluster_running.set(None);
            }
            state.error.set(Some(message));
        }
    }
}

fn is_current_load(state: AppState, id: u64) -> bool {
    state.loading.get_untracked().is_some_and(|l| l.id == id)
}

/// Starts loading `source`, replacing any load in flight.
pub fn load(state: AppState, source: crate::protocol::DataSource, file: Option<File>) {
    if let Some(previous) = state.loading.get_untracked() {
        send(Request::Cancel { id: previous.id }, None);
    }
    let what = source.describe();
    REQUESTED.set(Some((source.clone(), file.clone())));
    let id = send(Request::Load { source, options: Default::default() }, file);
    state.error.set(None);
    state.loading.set(Some(Loading { id, what, progress: None }));
}

/// Sends the current filter and sort to the worker.
pub fn apply_view(state: AppState) {
    let filter = state.filter.get_untracked();
    let sort = state.sort.get_untracked();
    send(Request::SetView { filter, sort }, None);
}

/// Re-types a column in the worker and remembers the choice for the view's link.
pub fn set_type(state: AppState, column: String, kind: crate::data::table::ColumnType) {
    send(Request::SetType { column: column.clone(), kind }, None);
    state.type_overrides.update(|all| {
        all.retain(|(c, _)| *c != column);
        all.push((column, kind));
    });
}

/// Cancels the load in flight, if any.
pub fn cancel(state: AppState) {
    if let Some(loading) = state.loading.get_untracked() {
        send(Request::Cancel { id: loading.id }, None);
        state.loading.set(None);
        super::share::on_load_abandoned();
    }
}
