//! One handle per analysis on the page: [`Job`] sends a checked request to the worker, follows
//! its progress, cancels it, and accepts only the answer to the request asked last. Every
//! analysis of the registry gets the same mechanism: progress with Cancel, stale answers
//! dropped, a reset when new data is loaded or the worker restarts.
//!
//! Answers are routed by request id: [`Job::request`] registers the job under the id it sent,
//! and the worker client hands each `Step` and `Done` to [`deliver`].

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use rustc_hash::FxHashMap;

use super::client::send;
use crate::analysis::contract::Analysis;
use crate::analysis::registry::{AnyReport, Registered};
use crate::protocol::{JobError, Request};

/// An analysis in flight: its request id, phase, what it does, how far it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Running {
    pub id: u64,
    pub phase: String,
    pub detail: String,
    pub fraction: f64,
}

/// What the worker says about a request.
pub enum JobEvent {
    Step { phase: String, detail: String, fraction: f64 },
    Done { result: Result<Box<AnyReport>, JobError>, elapsed_ms: f64, timings: Vec<(String, f64)> },
}

type Route = Rc<dyn Fn(u64, JobEvent)>;

thread_local! {
    /// Request id → the job waiting for it.
    static ROUTES: RefCell<FxHashMap<u64, Route>> = RefCell::new(FxHashMap::default());
    /// Every job's reset, to clear them all at once.
    static RESETS: RefCell<Vec<Rc<dyn Fn()>>> = const { RefCell::new(Vec::new()) };
}

/// Hands a worker event to the job that sent request `id` (a finished request is forgotten).
pub fn deliver(id: u64, event: JobEvent) {
    let done = matches!(event, JobEvent::Done { .. });
    let route = ROUTES.with_borrow_mut(|routes| if done { routes.remove(&id) } else { routes.get(&id).cloned() });
    if let Some(route) = route {
        route(id, event);
    }
}

/// Hands the `Step`s and `Done` of request `id` to `route` (a request that is not a [`Job`]'s:
/// a derived column).
pub fn follow(id: u64, route: impl Fn(u64, JobEvent) + 'static) {
    ROUTES.with_borrow_mut(|routes| routes.insert(id, Rc::new(route)));
}

/// Clears every job (a new table, or a restarted worker: nothing in flight will answer).
pub fn reset_all() {
    ROUTES.with_borrow_mut(FxHashMap::clear);
    let resets: Vec<Rc<dyn Fn()>> = RESETS.with_borrow(Clone::clone);
    for reset in resets {
        reset();
    }
}

/// The page's handle on one analysis: what was asked last, whether it runs, and its answer.
pub struct Job<A: Analysis> {
    /// The parameters asked for last (part of the view's link where the panel says so).
    pub params: RwSignal<Option<A::Params>>,
    pub running: RwSignal<Option<Running>>,
    /// The answer to the request asked last: the report, or why there is none.
    pub result: RwSignal<Option<Result<Arc<A::Report>, JobError>>>,
    /// Worker time of the shown answer, in all and per phase.
    pub elapsed_ms: RwSignal<f64>,
    pub timings: RwSignal<Vec<(String, f64)>>,
    analysis: PhantomData<fn() -> A>,
}

impl<A: Analysis> Clone for Job<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A: Analysis> Copy for Job<A> {}

impl<A> Job<A>
where
    A: Registered + 'static,
    A::Params: Send + Sync + 'static,
    A::Report: Send + Sync + 'static,
{
    /// A new idle job; it is reset with every other by [`reset_all`].
    pub fn new() -> Self {
        let job = Self {
            params: RwSignal::new(None),
            running: RwSignal::new(None),
            result: RwSignal::new(None),
            elapsed_ms: RwSignal::new(0.0),
            timings: RwSignal::new(Vec::new()),
            analysis: PhantomData,
        };
        RESETS.with_borrow_mut(|resets| resets.push(Rc::new(move || job.reset())));
        job
    }

    /// Runs the analysis with `params` over the view, replacing any request in flight. The
    /// parameters are checked first: a typed error is shown at once, without a round trip.
    pub fn request(self, params: A::Params) {
        self.cancel_quietly();
        self.params.set(Some(params.clone()));
        if let Err(err) = A::check(&params) {
            self.result.set(Some(Err(JobError::Failed(A::wrap_error(err)))));
            return;
        }
        let id = send(Request::Run { params: A::wrap(params) }, None);
        self.running.set(Some(Running { id, phase: String::new(), detail: "Starting".into(), fraction: 0.0 }));
        ROUTES.with_borrow_mut(|routes| routes.insert(id, Rc::new(move |id, event| self.on_event(id, event))));
    }

    fn on_event(self, id: u64, event: JobEvent) {
        if self.running.with_untracked(|r| r.as_ref().map(|r| r.id)) != Some(id) {
            return; // superseded by a later request, or cancelled
        }
        match event {
            JobEvent::Step { phase, detail, fraction } => self.running.set(Some(Running { id, phase, detail, fraction })),
            JobEvent::Done { result, elapsed_ms, timings } => {
                let result = result.and_then(|report| A::report_of(*report).map(Arc::new).ok_or(JobError::Superseded));
                self.running.set(None);
                self.elapsed_ms.set(elapsed_ms);
                self.timings.set(timings);
                self.result.set(Some(result));
            }
        }
    }

    /// Stops the request in flight; the answer shown before stays.
    fn cancel_quietly(self) {
        if let Some(running) = self.running.get_untracked() {
            send(Request::Cancel { id: running.id }, None);
            ROUTES.with_borrow_mut(|routes| routes.remove(&running.id));
            self.running.set(None);
        }
    }

    /// Stops the request in flight. The answer shown before stays; with none, the job says it
    /// was cancelled.
    pub fn cancel(self) {
        if self.running.with_untracked(Option::is_some) {
            self.cancel_quietly();
            if !self.result.with_untracked(|r| matches!(r, Some(Ok(_)))) {
                self.result.set(Some(Err(JobError::Cancelled)));
            }
        }
    }

    /// Back to idle: nothing asked, nothing shown.
    pub fn reset(self) {
        self.cancel_quietly();
        self.params.set(None);
        self.result.set(None);
        self.timings.set(Vec::new());
    }

    /// Forgets the answer (the request stays, e.g. before asking again with new data).
    pub fn clear(self) {
        self.result.set(None);
    }

    /// Whether a request is in flight (tracked).
    pub fn is_running(self) -> bool {
        self.running.with(Option::is_some)
    }

    /// The report shown, if any (tracked).
    pub fn report(self) -> Option<Arc<A::Report>> {
        self.result.with(|r| r.as_ref().and_then(|r| r.as_ref().ok().cloned()))
    }
}

impl<A> Default for Job<A>
where
    A: Registered + 'static,
    A::Params: Send + Sync + 'static,
    A::Report: Send + Sync + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

/// The progress of a running analysis: its stage, a bar, the percentage and Cancel. Shown
/// while `running` is set; `testid` names the panel, `cancel_testid` its button.
#[component]
pub fn JobProgress(running: Signal<Option<Running>>, on_cancel: Callback<()>, testid: &'static str, cancel_testid: &'static str, #[prop(into)] idle: String) -> impl IntoView {
    move || {
        running.get().map(|run| {
            let stage = if run.detail.is_empty() { idle.clone() } else { run.detail.clone() };
            view! {
                <section class="panel progress" data-testid=testid role="status">
                    <span class="progress-label">{stage}"…"</span>
                    <div class="bar"><div class="fill" style=format!("width: {:.0}%", run.fraction * 100.0)></div></div>
                    <span class="progress-detail">{format!("{:.0} %", run.fraction * 100.0)}</span>
                    <button class="button small" data-testid=cancel_testid on:click=move |_| on_cancel.run(())>"Cancel"</button>
                </section>
            }
        })
    }
}
