//! The view in the URL (see `viewstate`): opening a link loads its data and restores its view
//! once the data is in; changes to the view are written back to the fragment (a new history
//! entry when the data, tab or filter changes, so Back and Forward move between views; the
//! same entry otherwise); Back / Forward re-apply the view they land on.

use std::cell::RefCell;

use leptos::ev;
use leptos::prelude::*;

use super::client;
use super::panels::{self, TABS};
use super::state::AppState;
use crate::data::demo::DemoParams;
use crate::protocol::DataSource;
use crate::viewstate::{self, JoinRef, SourceRef, ViewState};

thread_local! {
    /// The view of the link being opened, applied when its data has loaded.
    static PENDING: RefCell<Option<ViewState>> = const { RefCell::new(None) };
    /// The view of the link being opened while the columns it adds from other files are added
    /// (its `joins` are those still to add), applied when they are.
    static JOINING: RefCell<Option<ViewState>> = const { RefCell::new(None) };
    /// Data source, tab and filter of the fragment written last (a change makes a new entry).
    static LAST_KEY: RefCell<String> = const { RefCell::new(String::new()) };
    /// The view on screen, when it has not been written to the fragment yet.
    static UNWRITTEN: RefCell<Option<ViewState>> = const { RefCell::new(None) };
}

fn location() -> Option<web_sys::Location> {
    web_sys::window().map(|w| w.location())
}

fn current_fragment() -> String {
    location().and_then(|l| l.hash().ok()).unwrap_or_default()
}

pub fn source_ref(source: &DataSource) -> SourceRef {
    match source {
        DataSource::Demo(params) => SourceRef::Demo { rows: params.rows, seed: params.seed },
        DataSource::Url { url } => SourceRef::Url { url: url.clone() },
        DataSource::File { name } => SourceRef::File { name: name.clone() },
        DataSource::Files { names } => SourceRef::Files { names: names.clone() },
    }
}

/// Opens the page's link: loads its data (the demo when it names none) with its view pending.
/// Call once, after the worker client has started.
pub fn open_link(state: AppState) {
    let decoded = viewstate::decode(&current_fragment());
    state.link_notices.set(decoded.notices);
    open_view(state, decoded.state);
    let _ = window_event_listener(ev::popstate, move |_| follow_history(state));
}

/// Loads `source` as the view wants it: whole, or streamed into a cube.
fn load_as_viewed(state: AppState, source: DataSource, file: Option<web_sys::File>, streamed: bool) {
    match streamed {
        true => client::load_as_cube(state, source, file),
        false => client::load(state, source, file),
    }
}

/// The sheet of a workbook the view waiting for its data was made on.
pub fn pending_sheet() -> Option<String> {
    PENDING.with_borrow(|view| view.as_ref().and_then(|v| v.sheet.clone()))
}

/// Whether the view waiting for its file streamed that file into a cube.
pub fn pending_streamed() -> bool {
    PENDING.with_borrow(|view| view.as_ref().is_some_and(|v| v.streamed))
}

fn open_view(state: AppState, view: ViewState) {
    let source = view.source.clone();
    let streamed = view.streamed;
    PENDING.set(Some(view));
    match source {
        Some(SourceRef::Demo { rows, seed }) => load_as_viewed(state, DataSource::Demo(DemoParams { rows, seed }), None, streamed),
        // Not a web address (`javascript:`, `file:`, `data:`): said, and the demo opened as
        // for a link without data; nothing of the link's view is applied to it.
        Some(SourceRef::Url { url }) if not_web_address(&url).is_some() => {
            PENDING.set(None);
            let why = not_web_address(&url).unwrap_or_default();
            state.link_notices.update(|all| all.push(format!("its data was not loaded: {why}; the demo is shown instead")));
            client::load(state, DataSource::Demo(DemoParams::default()), None);
        }
        // Another site is contacted only when the reader agrees (see `UrlWanted`).
        Some(SourceRef::Url { url }) if foreign_host(&url).is_some() => state.url_wanted.set(Some(url)),
        Some(SourceRef::Url { url }) => load_as_viewed(state, DataSource::Url { url }, None, streamed),
        // The link cannot carry a local file: ask for the reader's copy (see `FileWanted`).
        Some(SourceRef::File { name }) => state.file_wanted.set(Some(name)),
        Some(SourceRef::Files { names }) => state.file_wanted.set(Some(viewstate::describe_files(&names))),
        None => client::load(state, DataSource::Demo(DemoParams::default()), None),
    }
}

/// Why `url` is not a data address Vigil loads (`data:`, `javascript:`, `file:`, `blob:`…:
/// only http and https are), as a clause to show; `None` for a web address (a relative one
/// among them).
pub fn not_web_address(url: &str) -> Option<String> {
    let location = location()?;
    let parsed = web_sys::Url::new_with_base(url, &location.href().ok()?).ok();
    let protocol = parsed.as_ref().map(web_sys::Url::protocol);
    match protocol.as_deref() {
        Some("http:" | "https:") => None,
        Some(other) => Some(format!("“{}” is a {other} address, and Vigil loads data only from web addresses (http or https)", crate::analysis::contract::shorten(url))),
        None => Some(format!("“{}” is not an address Vigil can load", crate::analysis::contract::shorten(url))),
    }
}

/// The host `url` would be fetched from (empty for a scheme without one), when that is not the
/// app's own origin; `None` for the app's own files (a relative address among them).
fn foreign_host(url: &str) -> Option<String> {
    let location = location()?;
    let parsed = web_sys::Url::new_with_base(url, &location.href().ok()?).ok()?;
    (parsed.origin() != location.origin().ok()?).then(|| parsed.host())
}

/// Back / Forward (or an edited fragment): the view of the entry landed on.
fn follow_history(state: AppState) {
    UNWRITTEN.set(None);
    let decoded = viewstate::decode(&current_fragment());
    state.link_notices.set(decoded.notices);
    let mut view = decoded.state;
    let current = state.summary.with_untracked(|s| s.as_ref().map(|s| source_ref(&s.source)));
    let sheet = state.summary.with_untracked(|s| s.as_ref().and_then(|s| s.workbook.as_ref()).map(|w| w.sheet.clone()));
    LAST_KEY.set(key_of(&view));
    // Another sheet of the same workbook is other data: it is read again.
    if view.source.is_none() || (view.source == current && (view.sheet.is_none() || view.sheet == sheet)) {
        // Columns added since stay (the view does not name them); those it adds are added.
        let made = state.joins.get_untracked();
        view.joins.retain(|j| !made.contains(j));
        add_joins(state, view);
    } else {
        open_view(state, view);
    }
}

/// The worker restarted: loads `source` again and puts the view on screen back on it.
pub fn reopen(state: AppState, source: DataSource, files: Vec<web_sys::File>) {
    let view = current_view(state);
    let streamed = view.as_ref().is_some_and(|v| v.streamed);
    PENDING.set(view);
    client::load_again(state, source, files, streamed);
}

/// The user gave up on the link's view (loaded other data by hand instead of the file asked for).
pub fn forget_pending(state: AppState) {
    PENDING.set(None);
    JOINING.set(None);
    state.file_wanted.set(None);
    state.url_wanted.set(None);
    state.lookup_wanted.set(None);
}

/// Called when a load has finished (after the shared state was reset): every panel back to its
/// defaults, then the view of the link being opened, if any.
pub fn on_loaded(state: AppState) {
    panels::reset();
    state.file_wanted.set(None);
    state.url_wanted.set(None);
    if let Some(view) = PENDING.take() {
        add_joins(state, view);
    }
}

/// Adds the columns `view` adds from other files, one file after another (asking the reader for
/// a file not given yet in this tab), then applies the view: its other parts may name them.
fn add_joins(state: AppState, mut view: ViewState) {
    let Some(next) = view.joins.first().cloned() else {
        JOINING.set(None);
        state.lookup_wanted.set(None);
        apply(state, &mut view);
        return;
    };
    let file = client::lookup_file(&next.file);
    JOINING.set(Some(view));
    match file {
        Some(file) => join_next(state, next, file),
        None => state.lookup_wanted.set(Some(next.file)),
    }
}

/// Adds the columns of `join` (the first of the view being opened) from `file`, then goes on.
fn join_next(state: AppState, join: JoinRef, file: web_sys::File) {
    state.lookup_wanted.set(None);
    client::join(state, join.file, Some(join.spec), Some(file), move |answer| {
        if let Some(problem) = answer.problem {
            state.link_notices.update(|all| all.push(problem));
        }
        next_join(state);
    });
}

/// The first join of the view being opened is done (or skipped): on with the rest.
fn next_join(state: AppState) {
    if let Some(mut view) = JOINING.take() {
        if !view.joins.is_empty() {
            view.joins.remove(0);
        }
        add_joins(state, view);
    }
}

/// The reader gave the file the link's join asked for (`None`: skipped it; the parts of the
/// view that name its columns are then left out, each with a notice).
pub fn lookup_given(state: AppState, file: Option<web_sys::File>) {
    let Some(next) = JOINING.with_borrow(|view| view.as_ref().and_then(|v| v.joins.first().cloned())) else { return };
    match file {
        Some(file) => join_next(state, next, file),
        None => {
            state.link_notices.update(|all| all.push(format!("the columns from {} were not added", next.file)));
            next_join(state);
        }
    }
}

/// A load failed or was cancelled: the link's view has no data to apply to.
pub fn on_load_abandoned() {
    PENDING.set(None);
}

/// Puts `view` on screen over the loaded table: fits it to the table's columns (saying what
/// did not fit), then sets every part of the view; each panel takes its own settings and
/// re-runs the analyses they show.
fn apply(state: AppState, view: &mut ViewState) {
    let Some(columns) = state.summary.with_untracked(|s| s.as_ref().map(|s| s.columns.iter().map(|c| (c.name.clone(), c.kind)).collect::<Vec<_>>())) else {
        return;
    };
    // Derived columns first: the filter and the panels' settings may name them.
    let mut columns = columns;
    let mut notices = Vec::new();
    view.derived = crate::analysis::groups::fit_derived(std::mem::take(&mut view.derived), &mut columns, &mut notices);
    notices.extend(viewstate::reconcile(view, &columns));
    if let Some(slug) = &view.tab {
        match panels::tab(slug) {
            Some(tab) => state.tab.set(tab.slug),
            None => notices.push(format!("ignored the unknown tab “{slug}”")),
        }
    }
    for (column, kind) in &view.types {
        let already = columns.iter().any(|(name, k)| name == column && k == kind);
        if !already {
            client::set_type(state, column.clone(), *kind);
        }
    }
    // The worker holds every later request until each column is made.
    for spec in &view.derived {
        if !state.derived.with_untracked(|made| made.contains(spec)) {
            client::derive(state, spec.clone());
        }
    }
    state.filter.set(view.filter.clone());
    state.sort.set(view.sort.clone());
    state.weight.set(view.weight.clone());
    client::apply_view(state);
    let mut settings = std::mem::take(&mut view.settings);
    for link in TABS.iter().filter_map(|tab| tab.link.as_ref()) {
        (link.read)(state, &mut settings, &columns, &mut notices);
    }
    for key in settings.keys() {
        notices.push(format!("ignored the unknown setting “{}” in the link", crate::analysis::contract::shorten(key)));
    }
    state.link_notices.update(|all| all.extend(notices));
}

/// The view on screen, as the link describes it (reads every signal it names, so an effect
/// calling it follows them all).
fn current_view(state: AppState) -> Option<ViewState> {
    let source = state.summary.with(|s| s.as_ref().map(|s| source_ref(&s.source)))?;
    let mut settings = serde_json::Map::new();
    for link in TABS.iter().filter_map(|tab| tab.link.as_ref()) {
        (link.write)(state, &mut settings);
    }
    Some(ViewState {
        source: Some(source),
        tab: Some(state.tab.get().to_string()),
        types: state.type_overrides.get(),
        filter: state.filter.get(),
        sort: state.sort.get(),
        weight: state.weight.get(),
        sheet: state.summary.with(|s| s.as_ref().and_then(|s| s.workbook.as_ref()).map(|w| w.sheet.clone())),
        joins: state.joins.get(),
        derived: state.derived.get(),
        streamed: state.summary.with(|s| s.as_ref().is_some_and(|s| s.streamed_sample.is_some())),
        settings,
    })
}

/// What makes a new history entry when it changes.
fn key_of(view: &ViewState) -> String {
    let only = ViewState { source: view.source.clone(), sheet: view.sheet.clone(), tab: view.tab.clone(), filter: view.filter.clone(), ..ViewState::default() };
    viewstate::encode(&only)
}

/// Keeps the fragment equal to the view on screen. Nothing is written while a link's view
/// waits for its data (the link stays as it was opened).
///
/// The fragment is written after the next frame: writing it makes Chromium bring style and
/// layout up to date at once, which in the task that built a new tab held the main thread
/// another 18–27 ms on the 1 M-row demo. After the frame they are up to date already.
pub fn install_writer(state: AppState) {
    Effect::new(move |_| {
        let Some(view) = current_view(state) else { return };
        // Nor while a link's joins are being added: the rest of its view is not on screen yet.
        if PENDING.with_borrow(Option::is_some) || JOINING.with_borrow(Option::is_some) || state.file_wanted.with(Option::is_some) || state.url_wanted.with(Option::is_some) || state.lookup_wanted.with(Option::is_some) {
            return;
        }
        let scheduled = UNWRITTEN.replace(Some(view)).is_some();
        if !scheduled {
            request_animation_frame(|| set_timeout(write_link, std::time::Duration::ZERO));
        }
    });
}

/// Writes the view waiting to be written (see [`install_writer`]) to the fragment, unless a
/// link's view has started to open since.
fn write_link() {
    let Some(view) = UNWRITTEN.take() else { return };
    if PENDING.with_borrow(Option::is_some) || JOINING.with_borrow(Option::is_some) {
        return;
    }
    let fragment = viewstate::encode(&view);
    if current_fragment().trim_start_matches('#') == fragment {
        return;
    }
    let Some(history) = web_sys::window().and_then(|w| w.history().ok()) else { return };
    let key = key_of(&view);
    let new_entry = LAST_KEY.with_borrow(|last| !last.is_empty() && *last != key);
    LAST_KEY.set(key);
    let url = format!("#{fragment}");
    let written = if new_entry {
        history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
    } else {
        history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
    };
    if let Err(err) = written {
        web_sys::console::warn_2(&"vigil: cannot write the view to the URL".into(), &err);
    }
}

/// The link of the view on screen (written first, when it waits for the next frame).
pub fn current_link() -> String {
    write_link();
    location().and_then(|l| l.href().ok()).unwrap_or_default()
}

/// Shows what of an opened link could not be applied.
#[component]
pub fn LinkNotices() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        let notices = state.link_notices.get();
        (!notices.is_empty()).then(|| {
            view! {
                <div class="banner notice" role="status" data-testid="link-notice">
                    <div>
                        <strong>"Parts of this link's view were not applied."</strong>
                        <ul>{notices.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                    </div>
                    <button class="button small" aria-label="Dismiss" on:click=move |_| state.link_notices.set(Vec::new())>"Dismiss"</button>
                </div>
            }
        })
    }
}

/// The files of a picker or a drop, in the order given.
pub fn all_files(files: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    files.map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect()).unwrap_or_default()
}

/// The file types the pickers offer (a file of another type still loads when dropped).
pub const ACCEPTED: &str = ".csv,.tsv,.txt,.gz,.jsonl,.ndjson,.json,.xlsx,.parquet,text/csv,text/tab-separated-values,application/json,application/x-ndjson,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The files chosen in the `<input type="file">` an event came from.
pub fn picked_files(event: &ev::Event) -> Vec<web_sys::File> {
    use wasm_bindgen::JsCast;
    all_files(event.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()).and_then(|i| i.files()))
}

/// Asks for the reader's copy of a local file a link names (the link carries none of it), or
/// to go on another way.
#[component]
fn FileAsked(
    name: String,
    testid: &'static str,
    purpose: &'static str,
    explanation: &'static str,
    multiple: bool,
    on_files: Callback<Vec<web_sys::File>>,
    other_testid: &'static str,
    other_label: &'static str,
    on_other: Callback<()>,
) -> impl IntoView {
    let pick = move |event: ev::Event| {
        let files = picked_files(&event);
        if !files.is_empty() {
            on_files.run(files);
        }
    };
    view! {
        <section class="panel file-wanted" data-testid=testid>
            <h2>"Open " <code>{name.clone()}</code> {purpose}</h2>
            <p>{explanation}</p>
            <div class="actions">
                <label class="button primary">"Open " {name} "…"
                    <input type="file" multiple=multiple accept=ACCEPTED data-testid=format!("{testid}-input") on:change=pick/>
                </label>
                <button class="button" data-testid=other_testid on:click=move |_| on_other.run(())>{other_label}</button>
            </div>
        </section>
    }
}

/// The other choice where a view asks for its data while other data is open (the reader went
/// back in the history to a view of a file or another site): that data stays.
const KEEP_LABEL: &str = "Keep the data open now";

/// The reader keeps the data open rather than give a view's: the view waiting is dropped, and the
/// link becomes that of the view on screen again (the writer skipped it while the view waited).
fn keep_open(state: AppState) {
    forget_pending(state);
    UNWRITTEN.set(untrack(|| current_view(state)));
    write_link();
}

/// Whether data is open (the request for a view's data then offers to keep it, not the demo).
fn data_open(state: AppState) -> bool {
    state.summary.with_untracked(Option::is_some)
}

/// A link made from a local file: asks the reader for their copy.
#[component]
pub fn FileWanted(on_files: Callback<Vec<web_sys::File>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let demo = Callback::new(move |()| {
        forget_pending(state);
        client::load(state, DataSource::Demo(DemoParams::default()), None);
    });
    let keep = Callback::new(move |()| keep_open(state));
    move || {
        state.file_wanted.get().map(|name| {
            // Come back to in the history with data open: that data stays unless a file is given.
            let (other_testid, other_label, on_other) = match data_open(state) {
                true => ("file-wanted-keep", KEEP_LABEL, keep),
                false => ("file-wanted-demo", "Use the demo data instead", demo),
            };
            view! {
                <FileAsked name=name testid="file-wanted" purpose=" to see this view" multiple=true on_files=on_files
                    explanation="This link was made from a file on the sender's computer; links never carry data. Open your copy of the file and the view (tab, filter, settings) is restored."
                    other_testid=other_testid other_label=other_label on_other=on_other/>
            }
        })
    }
}

/// A link that adds columns from a local file: asks for the reader's copy (or to go on without
/// those columns).
#[component]
pub fn LookupWanted() -> impl IntoView {
    let state = expect_context::<AppState>();
    let given = Callback::new(move |files: Vec<web_sys::File>| lookup_given(state, files.into_iter().next()));
    let skip = Callback::new(move |()| lookup_given(state, None));
    move || {
        state.lookup_wanted.get().map(|name| {
            view! {
                <FileAsked name=name testid="lookup-wanted" purpose=" to add its columns" multiple=false on_files=given
                    explanation="This view adds columns from a second file on the sender's computer. Open your copy and the view is restored with them."
                    other_testid="lookup-wanted-skip" other_label="Go on without these columns" on_other=skip/>
            }
        })
    }
}

/// A link whose data is on another site: says which, and fetches nothing until the reader agrees
/// (opening a link never contacts a third party silently).
#[component]
pub fn UrlWanted() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        state.url_wanted.get().map(|url| {
            let host = foreign_host(&url).filter(|h| !h.is_empty()).unwrap_or_else(|| "another site".into());
            let load = {
                let url = url.clone();
                move |_| {
                    state.url_wanted.set(None);
                    load_as_viewed(state, DataSource::Url { url: url.clone() }, None, pending_streamed());
                }
            };
            view! {
                <section class="panel file-wanted" data-testid="url-wanted">
                    <h2>"This link loads its data from " <code>{host.clone()}</code></h2>
                    <p>"Vigil contacts no other site unless you agree. Loading asks " {host.clone()} " for " <code class="wrap" data-testid="url-wanted-address">{url}</code> "; the data then stays in this tab, like every file you open."</p>
                    <div class="actions">
                        <button class="button primary" data-testid="url-wanted-load" on:click=load>{format!("Load from {host}")}</button>
                        {match data_open(state) {
                            true => view! {
                                <button class="button" data-testid="url-wanted-keep" on:click=move |_| keep_open(state)>{KEEP_LABEL}</button>
                            }.into_any(),
                            false => view! {
                                <button class="button" data-testid="url-wanted-demo" on:click=move |_| {
                                    forget_pending(state);
                                    client::load(state, DataSource::Demo(DemoParams::default()), None);
                                }>"Use the demo data instead"</button>
                            }.into_any(),
                        }}
                    </div>
                </section>
            }
        })
    }
}

/// "Copy link": the view's link to the clipboard (or shown to copy by hand when the browser
/// refuses).
#[component]
pub fn CopyLink() -> impl IntoView {
    let state = expect_context::<AppState>();
    let copied = RwSignal::new(None::<Result<(), String>>);
    let copy = move |_| {
        let link = current_link();
        let Some(clipboard) = web_sys::window().map(|w| w.navigator().clipboard()) else { return };
        let promise = clipboard.write_text(&link);
        leptos::task::spawn_local(async move {
            let result = wasm_bindgen_futures::JsFuture::from(promise).await;
            copied.set(Some(result.map(|_| ()).map_err(|_| link)));
            clear_later(copied);
        });
    };
    view! {
        <span class="copy-link">
            <button class="button small" data-testid="copy-link" disabled=move || state.summary.with(Option::is_none)
                title="Copy a link to this view: data source, tab, filter and settings (never the data itself)"
                on:click=copy>"Copy link"</button>
            {move || match copied.get() {
                Some(Ok(())) => Some(view! { <span class="muted small" role="status" data-testid="link-copied">"Link copied"</span> }.into_any()),
                Some(Err(link)) => Some(view! {
                    <input class="link-text" readonly aria-label="Link to this view" prop:value=link
                        on:focus=move |event| { if let Some(input) = event.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok()) { input.select(); } }/>
                }.into_any()),
                None => None,
            }}
        </span>
    }
}

/// Clears the "copied" note after a few seconds.
fn clear_later(copied: RwSignal<Option<Result<(), String>>>) {
    if copied.get_untracked().is_some_and(|r| r.is_ok()) {
        set_timeout(move || copied.set(None), std::time::Duration::from_secs(3));
    }
}
