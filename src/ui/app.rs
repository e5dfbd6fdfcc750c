//! The app shell: header, data sources, load progress, error banner and tabs.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement};

use super::client::{self, Hooks};
use super::controls::Later;
use super::export::{JsonButton, ReportButton};
use super::filter_bar::FilterBar;
use super::panels::{self, TABS};
use super::share::{self, CopyLink, FileWanted, LinkNotices, LookupWanted, UrlWanted};
use super::state::AppState;
use crate::data::demo::DemoParams;
use crate::format::{format_bytes, format_count};
use crate::protocol::DataSource;

/// What a load means for the rest of the app: the panels' defaults and a link's view.
const HOOKS: Hooks = Hooks { loaded: share::on_loaded, abandoned: share::on_load_abandoned, reopen: share::reopen };

/// Runs `step` in a task of its own, under `owner` (the app's, for the signals it creates).
fn in_next_task(owner: Option<Owner>, step: impl FnOnce() + 'static) {
    set_timeout(
        move || match owner {
            Some(owner) => owner.with(step),
            None => step(),
        },
        std::time::Duration::ZERO,
    );
}

#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    panels::init(state);
    let dragging = RwSignal::new(false);
    // A memo, so that summary updates (distinct counts, re-typing) do not rebuild the filter bar.
    let has_data = Memo::new(move |_| state.summary.with(Option::is_some));
    install_drop_handlers(state, dragging);
    // The worker, the link's load and the link writer (in that order: the writer must not
    // replace the link before it is read) start after the shell, each in a task of its own: the
    // first task also instantiates the page's module and compiles what it calls, and the three
    // in one task took 66 ms in a `make bench` trace (2026-12-05).
    let owner = Owner::current();
    let (link_owner, writer_owner) = (owner.clone(), owner.clone());
    in_next_task(owner, move || match client::start(state, HOOKS) {
        Ok(()) => in_next_task(link_owner, move || {
            share::open_link(state);
            in_next_task(writer_owner, move || share::install_writer(state));
        }),
        Err(message) => {
            state.error.set(Some(message));
            in_next_task(writer_owner, move || share::install_writer(state));
        }
    });

    view! {
        <div class="app" class:dragging=move || dragging.get()>
            <header class="topbar">
                <div class="brand">
                    <span class="logo" aria-hidden="true">"◉"</span>
                    <h1>"Vigil"</h1>
                    <span class="tagline">"safety-signal explorer · runs in your browser, nothing leaves it"</span>
                </div>
                <SourceBar/>
            </header>
            // The banners and the tab's content one task after the header and the tabs.
            <Later>
                <LoadProgress/>
                <ErrorBanner/>
                <LinkNotices/>
                <UrlWanted/>
                <LookupWanted/>
                <FileWanted on_files=Callback::new(move |mut files: Vec<File>| if share::pending_streamed() && files.len() == 1 { stream_file(state, files.remove(0)) } else { load_files(state, files) })/>
            </Later>
            <nav class="tabs" role="tablist">
                {TABS
                    .into_iter()
                    .map(|tab| {
                        view! {
                            <button
                                role="tab"
                                class="tab"
                                class:active=move || state.tab.get() == tab.slug
                                aria-selected=move || (state.tab.get() == tab.slug).to_string()
                                data-testid=format!("tab-{}", tab.slug)
                                on:click=move |_| state.tab.set(tab.slug)
                            >
                                {tab.label}
                            </button>
                        }
                    })
                    .collect_view()}
                <span class="tab-actions"><CopyLink/><ReportButton/><JsonButton/></span>
            </nav>
            <main class="content">
                <Later>
                    {move || has_data.get().then(|| view! { <FilterBar/> })}
                    {move || panels::tab(state.tab.get()).map(|tab| (tab.view)())}
                </Later>
            </main>
            <div class="drop-overlay" aria-hidden="true">
                <div>"Drop a CSV, TSV or JSON file (or a .gz of one), an Excel workbook or a Parquet file, to load it"</div>
            </div>
        </div>
    }
}

fn first_file(files: Option<web_sys::FileList>) -> Option<File> {
    files.and_then(|list| list.get(0))
}

/// Loads the files chosen or dropped: one as it is, several appended into one table.
fn load_files(state: AppState, mut files: Vec<File>) {
    // A link waiting for its file applies to this one; otherwise the user chose other data.
    if state.file_wanted.get_untracked().is_none() {
        share::forget_pending(state);
    }
    match files.len() {
        0 => state.error.set(Some("Nothing to load: drop a file (CSV, TSV, JSON Lines or JSON, or a .gz of one).".into())),
        1 => {
            let file = files.remove(0);
            client::load(state, DataSource::File { name: file.name() }, Some(file));
        }
        _ => {
            // In name order (daily exports are named by their day), whatever the order picked:
            // an insertion sort (a few files; a library sort adds kilobytes to the first paint).
            for i in 1..files.len() {
                let mut j = i;
                while j > 0 && files.get(j - 1).map(File::name) > files.get(j).map(File::name) {
                    files.swap(j - 1, j);
                    j -= 1;
                }
            }
            client::load_files(state, files);
        }
    }
}

fn stream_file(state: AppState, file: File) {
    // A link waiting for its file applies to this one; otherwise the user chose other data.
    if state.file_wanted.get_untracked().is_none() {
        share::forget_pending(state);
    }
    client::load_as_cube(state, DataSource::File { name: file.name() }, Some(file));
}

fn install_drop_handlers(state: AppState, dragging: RwSignal<bool>) {
    let _ = window_event_listener(ev::dragover, move |event| {
        event.prevent_default();
        dragging.set(true);
    });
    let _ = window_event_listener(ev::dragleave, move |event| {
        // Leaving the window (not just a child element) has no related target.
        if event.related_target().is_none() {
            dragging.set(false);
        }
    });
    let _ = window_event_listener(ev::drop, move |event| {
        event.prevent_default();
        dragging.set(false);
        load_files(state, share::all_files(event.data_transfer().and_then(|dt| dt.files())));
    });
}

#[component]
fn SourceBar() -> impl IntoView {
    let state = expect_context::<AppState>();
    let url = RwSignal::new(String::new());
    let on_file = move |event: ev::Event| {
        let Some(input) = event.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
        let files = share::all_files(input.files());
        if !files.is_empty() {
            load_files(state, files);
        }
        // Let the same file be chosen again.
        input.set_value("");
    };
    let on_large_file = move |event: ev::Event| {
        let Some(input) = event.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
        if let Some(file) = first_file(input.files()) {
            stream_file(state, file);
        }
        input.set_value("");
    };
    let load_url = move || {
        let text = url.get_untracked().trim().to_string();
        if text.is_empty() {
            state.error.set(Some("Enter the address of a data file first.".into()));
            return;
        }
        if let Some(why) = share::not_web_address(&text) {
            state.error.set(Some(format!("{why}. To open a file on this computer, use Open file….")));
            return;
        }
        share::forget_pending(state);
        client::load(state, DataSource::Url { url: text }, None);
    };
    view! {
        <div class="sources">
            <label class="button primary" data-testid="open-file" title="One file, or several with the same columns (appended in name order, with a source column)">
                "Open file…"
                <input type="file" multiple accept=share::ACCEPTED on:change=on_file/>
            </label>
            <label class="button" data-testid="open-large" title="Read a file of any size into a cube (counts by hour or day and dimension) plus a sample of its rows: trends, incidents and root cause on all of it">
                "Large file as cube…"
                <input type="file" accept=share::ACCEPTED on:change=on_large_file/>
            </label>
            <form
                class="url-form"
                on:submit=move |event: ev::SubmitEvent| {
                    event.prevent_default();
                    load_url();
                }
            >
                <input
                    type="url"
                    placeholder="https://…/export.csv"
                    aria-label="Data file address"
                    data-testid="url-input"
                    prop:value=move || url.get()
                    on:input=move |event| url.set(event_target_value(&event))
                />
                <button type="submit" class="button" data-testid="load-url">"Load URL"</button>
            </form>
            <button
                class="button"
                data-testid="load-demo"
                on:click=move |_| {
                    share::forget_pending(state);
                    client::load(state, DataSource::Demo(DemoParams::default()), None);
                }
            >
                "Demo dataset"
            </button>
        </div>
    }
}

#[component]
fn LoadProgress() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        state.loading.get().map(|loading| {
            let progress = loading.progress.clone();
            let fraction = progress.as_ref().and_then(|p| p.fraction());
            let detail = match &progress {
                Some(p) => {
                    let total = p.total_bytes.map(|t| format!(" of {}", format_bytes(t))).unwrap_or_default();
                    let rows = p.total_rows.map(|t| format!(" of {}", format_count(t))).unwrap_or_default();
                    format!("{}{} · {}{rows} rows", format_bytes(p.bytes), total, format_count(p.rows))
                }
                None => "starting…".to_string(),
            };
            view! {
                <div class="progress" role="status" data-testid="load-progress">
                    <span class="progress-label">"Loading " {loading.what.clone()}</span>
                    <div class="bar" class:indeterminate=fraction.is_none()>
                        <div class="fill" style=format!("width: {:.1}%", fraction.unwrap_or(0.3) * 100.0)></div>
                    </div>
                    <span class="progress-detail">{detail}</span>
                    <button class="button small" data-testid="cancel-load" on:click=move |_| client::cancel(state)>
                        "Cancel"
                    </button>
                </div>
            }
        })
    }
}

/// A dismissible alert over the page showing `message` while it is set.
fn dismissible(message: RwSignal<Option<String>>, testid: &'static str) -> impl IntoView {
    move || {
        message.get().map(|text| {
            view! {
                <div class="banner error" role="alert" data-testid=testid>
                    <span>{text}</span>
                    <button class="button small" aria-label="Dismiss" on:click=move |_| message.set(None)>
                        "Dismiss"
                    </button>
                </div>
            }
        })
    }
}

#[component]
fn ErrorBanner() -> impl IntoView {
    let state = expect_context::<AppState>();
    let offer = move || {
        state.stream_offer.get().then(|| {
            view! {
                <div class="banner notice" data-testid="stream-offer">
                    <span>"Or read it as a cube: counts by period and dimension plus a sample of its rows, for trends, incidents and root cause on the whole file."</span>
                    <button class="button small primary" data-testid="stream-instead" on:click=move |_| client::stream_refused(state)>
                        "Read as a cube"
                    </button>
                </div>
            }
        })
    };
    // The offer goes with the refusal it answers.
    Effect::new(move |_| {
        if state.error.with(Option::is_none) {
            state.stream_offer.set(false);
        }
    });
    view! { {dismissible(state.worker_notice, "worker-restarted")} {dismissible(state.error, "error-banner")} {offer} }
}
