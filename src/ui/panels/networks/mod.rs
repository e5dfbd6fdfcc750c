//! The Networks tab: rings of entities (accounts) tied by attribute values they share (devices,
//! IPs, payment instruments), ranked, each one put in the filter with a click and drawn as a
//! node-link graph; copy-paste campaigns, groups of near-identical texts (`copies.rs`); and emerging
//! terms, words whose share of posts bursts (`terms.rs`).

mod copies;
mod terms;

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;
use serde_json::{Map, Value};

use crate::analysis::contract::FitColumns;
use crate::analysis::copies::{Copies, CopiesParams};
use crate::analysis::groups::{DerivedColumn, Grouping};
use crate::analysis::terms::{Terms, TermsParams};
use crate::analysis::rings::{Ring, Rings, RingsParams, RingsReport};
use crate::data::filter::Clause;
use crate::data::table::ColumnType;
use crate::data::time::{format_date_ms, DAY_MS, HOUR_MS};
use crate::format::{format_events, format_rate};
use crate::plot::network::{draw_network, layout, node_at};
use crate::protocol::ColumnSummary;
use crate::ui::chart::{draw_soon, theme};
use crate::ui::client;
use crate::ui::controls::name_options;
use crate::ui::export::{ExportKind, Exportable};
use crate::analysis::registry::Registered;
use crate::ui::jobs::{Job, JobProgress};
use crate::ui::state::AppState;
use crate::viewstate::take_setting;

/// The Networks tab.
pub const TAB: super::TabEntry = super::TabEntry {
    slug: "networks",
    label: "Networks",
    init: |_| {
        NetworksPanel::get();
    },
    view: || view! { <NetworksTab/> }.into_any(),
    reset: || {
        let panel = NetworksPanel::get();
        panel.asked_at.set(None);
        panel.copies_asked_at.set(None);
        panel.terms_asked_at.set(None);
        panel.selected.set(1);
    },
    link: Some(super::Link { write, read }),
};

#[derive(Clone, Copy)]
pub struct NetworksPanel {
    rings: Job<Rings>,
    /// The ring drawn (its id).
    selected: RwSignal<usize>,
    /// The view's version when the rings shown were asked for (another filter asks again).
    asked_at: RwSignal<Option<u64>>,
    copies: Job<Copies>,
    copies_asked_at: RwSignal<Option<u64>>,
    terms: Job<Terms>,
    terms_asked_at: RwSignal<Option<u64>>,
}

impl NetworksPanel {
    fn new() -> Self {
        Self { rings: Job::new(), selected: RwSignal::new(1), asked_at: RwSignal::new(None), copies: Job::new(), copies_asked_at: RwSignal::new(None), terms: Job::new(), terms_asked_at: RwSignal::new(None) }
    }
}

super::panel_state!(NetworksPanel);

fn write(_state: AppState, settings: &mut Map<String, Value>) {
    super::put(settings, "rings", &NetworksPanel::get().rings.params.get());
    super::put(settings, "copies", &NetworksPanel::get().copies.params.get());
    super::put(settings, "terms", &NetworksPanel::get().terms.params.get());
}

fn read(state: AppState, settings: &mut Map<String, Value>, columns: &[(String, ColumnType)], notices: &mut Vec<String>) {
    let panel = NetworksPanel::get();
    match take_setting::<RingsParams>(settings, "rings", "ring settings", notices).and_then(|p| p.fit_columns(columns, notices)) {
        Some(params) => ask(state, params),
        None => panel.rings.reset(),
    }
    match take_setting::<CopiesParams>(settings, "copies", "copies settings", notices).and_then(|p| p.fit_columns(columns, notices)) {
        Some(params) => copies::ask(state, params),
        None => panel.copies.reset(),
    }
    match take_setting::<TermsParams>(settings, "terms", "emerging terms settings", notices).and_then(|p| p.fit_columns(columns, notices)) {
        Some(params) => terms::ask(state, params),
        None => panel.terms.reset(),
    }
}

fn ask(state: AppState, params: RingsParams) {
    let panel = NetworksPanel::get();
    panel.asked_at.set(Some(state.view_version.get_untracked()));
    panel.selected.set(1);
    panel.rings.request(params);
}

fn change(state: AppState, update: impl FnOnce(&mut RingsParams)) {
    if let Some(mut params) = NetworksPanel::get().rings.params.get_untracked() {
        update(&mut params);
        ask(state, params);
    }
}

/// Asks `job` again whenever the view changes (a new filter, the first visit, a new table): with
/// its settings, or on a first visit with those `first` guesses; `asked_at` is the view's version
/// when it was last asked.
fn ask_on_new_view<A>(state: AppState, job: Job<A>, asked_at: RwSignal<Option<u64>>, first: fn(AppState, &[ColumnSummary]) -> Option<A::Params>, ask: fn(AppState, A::Params))
where
    A: Registered + 'static,
    A::Params: Send + Sync + 'static,
    A::Report: Send + Sync + 'static,
{
    Effect::new(move |_| {
        let version = state.view_version.get();
        let Some(columns) = state.summary.with(|s| s.as_ref().map(|s| s.columns.clone())) else { return };
        if let Some(params) = job.params.get_untracked().or_else(|| first(state, &columns)) {
            if asked_at.get_untracked() != Some(version) || job.result.with_untracked(Option::is_none) && !job.is_running() {
                ask(state, params);
            }
        }
    });
}

/// What one section says in each state, and its elements' test ids.
#[derive(Clone, Copy)]
struct Wording {
    /// Before anything is asked: what to choose.
    hint: &'static str,
    /// The progress bar's label before the first step arrives.
    idle: &'static str,
    /// "Cannot …", before the reason.
    failed: &'static str,
    hint_id: &'static str,
    pending_id: &'static str,
    cancel_id: &'static str,
    error_id: &'static str,
}

/// Under a section's controls: the hint before anything is asked, the progress (with Cancel)
/// while the first answer is on its way, the error, or the results (with the progress of a newer
/// request above them).
fn job_body<A>(job: Job<A>, wording: Wording, results: fn(Arc<A::Report>) -> AnyView) -> impl Fn() -> AnyView
where
    A: Registered + 'static,
    A::Params: Send + Sync + 'static,
    A::Report: Send + Sync + 'static,
{
    let asked = Memo::new(move |_| job.params.with(Option::is_some));
    let progress = move || {
        view! { <JobProgress running=Signal::derive(move || job.running.get()) on_cancel=Callback::new(move |()| job.cancel()) testid=wording.pending_id cancel_testid=wording.cancel_id idle=wording.idle/> }
    };
    move || match (asked.get(), job.result.get()) {
        (false, _) => view! { <p class="muted" data-testid=wording.hint_id>{wording.hint}</p> }.into_any(),
        (true, None) => progress().into_any(),
        (true, Some(Err(err))) => view! { <p class="problem" data-testid=wording.error_id>{format!("{} {err}.", wording.failed)}</p> }.into_any(),
        (true, Some(Ok(report))) => view! { {progress()} {results(report)} }.into_any(),
    }
}

/// The name a derived column of `grouping` gets: the name of the one made from the same kind of
/// grouping (made again with these settings), or the first of "ring", "ring_2", … the table
/// does not have.
fn derived_name(state: AppState, grouping: &Grouping) -> String {
    let base = grouping.base_name();
    if let Some(made) = state.derived.with(|all| all.iter().find(|d| d.from.base_name() == base).map(|d| d.column.clone())) {
        return made;
    }
    let taken = |name: &str| state.summary.with(|s| s.as_ref().is_some_and(|s| s.columns.iter().any(|c| c.name == name)));
    std::iter::once(base.to_string()).chain((2..).map(|i| format!("{base}_{i}"))).find(|name| !taken(name)).unwrap_or_else(|| base.to_string())
}

/// "Add as a column": each row's group in the report on screen (numbered as listed; rows in no
/// group empty) becomes a category column of the table, for Trends splits, Root cause, Clusters
/// and rules. The link keeps how it was made, and makes it again when opened.
#[component]
fn AddColumn(grouping: Grouping, groups: &'static str, testid: &'static str) -> impl IntoView {
    let state = expect_context::<AppState>();
    let name = {
        let grouping = grouping.clone();
        Memo::new(move |_| derived_name(state, &grouping))
    };
    let made = move || state.derived.with(|all| all.iter().any(|d| d.column == name.get()));
    let add = move |_| {
        let spec = DerivedColumn { column: name.get_untracked(), from: grouping.clone(), filter: state.filter.get_untracked(), weight: state.weight.get_untracked() };
        client::derive(state, spec);
    };
    let mine = move || state.deriving.with(|d| d.as_ref().is_some_and(|(column, _)| *column == name.get()));
    let outcome = move || {
        let (column, outcome) = state.derive_outcome.get()?;
        if column != name.get() {
            return None;
        }
        Some(match outcome {
            Ok(()) => {
                let (rows, distinct) = state.summary.with(|s| {
                    let s = s.as_ref()?;
                    s.columns.iter().find(|c| c.name == column).map(|c| (s.n_rows.saturating_sub(c.missing), c.distinct))
                })?;
                let counted = distinct.map(|d| format!(" in {} {}", format_events(d as f64), if d == 1 { groups.trim_end_matches('s') } else { groups })).unwrap_or_default();
                view! {
                    <p class="muted small" data-testid=format!("{testid}-done")>
                        {format!("Added the column “{column}”: {} rows{counted}, the others empty. Split Trends by it, explain a change with it in Root cause, or use it in Clusters and rules.", format_events(rows as f64))}
                    </p>
                }.into_any()
            }
            Err(message) => view! { <p class="problem" data-testid=format!("{testid}-error")>{message}</p> }.into_any(),
        })
    };
    view! {
        <div class="editor-row">
            <button class="button small" data-testid=testid disabled=mine title=move || format!("Each row's {} (as numbered here; rows in none left empty) as the column “{}”, usable in every tab", groups.trim_end_matches('s'), name.get()) on:click=add>
                {move || format!("{} column “{}”", if made() { "Update the" } else { "Add as a" }, name.get())}
            </button>
        </div>
        <JobProgress running=Signal::derive(move || state.deriving.get().filter(|(column, _)| *column == name.get()).map(|(_, r)| r)) on_cancel=Callback::new(move |()| client::cancel_derive(state)) testid="derive-pending" cancel_testid="derive-cancel" idle="Adding the column"/>
        {outcome}
    }
}

/// Words in a column name (split at anything but letters and digits), lower case.
fn words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// An account-like column: an identifier or category named like an account, a user or an actor.
fn entity_guess(columns: &[ColumnSummary]) -> Option<String> {
    let candidate = |c: &&ColumnSummary| matches!(c.kind, ColumnType::Identifier | ColumnType::Category);
    let named = |word: &str| columns.iter().filter(candidate).find(|c| words(&c.name).iter().any(|w| w == word)).map(|c| c.name.clone());
    named("account").or_else(|| named("user")).or_else(|| named("actor"))
}

/// Whether a column's name says it holds an attribute accounts share.
fn looks_shared(name: &str) -> bool {
    const WORDS: [&str; 14] = ["device", "ip", "ipv4", "ipv6", "payment", "card", "email", "phone", "fingerprint", "cookie", "wallet", "iban", "imei", "idfa"];
    words(name).iter().any(|w| WORDS.contains(&w.as_str()))
}

/// The settings a first visit starts from: an account-like column as the entity, columns named
/// like devices or IPs as attributes, the first timestamp, the label chosen in the Profile tab.
fn first_settings(state: AppState, columns: &[ColumnSummary]) -> Option<RingsParams> {
    let entity = entity_guess(columns)?;
    let attributes: Vec<String> = columns.iter().filter(|c| c.name != entity && looks_shared(&c.name)).map(|c| c.name.clone()).take(3).collect();
    if attributes.is_empty() {
        return None;
    }
    let time = columns.iter().find(|c| c.kind == ColumnType::Timestamp).map(|c| c.name.clone());
    Some(RingsParams { time, label: state.chosen_label(), attributes, ..RingsParams::of(&entity, &[]) })
}

#[component]
pub fn NetworksTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let panel = NetworksPanel::get();
    let job = panel.rings;
    ask_on_new_view(state, job, panel.asked_at, first_settings, ask);
    move || {
        let Some(columns) = state.summary.with(|s| s.as_ref().map(|s| s.columns.clone())) else {
            return view! { <section class="panel"><p>"Load data to look for rings."</p></section> }.into_any();
        };
        view! {
            <section class="panel" data-testid="rings">
                <div class="panel-head">
                    <h2>"Rings"</h2>
                    <p class="muted small">"Accounts tied together by values they share — a device, an IP, a payment instrument — found as connected groups; values shared by too many accounts (carrier NAT, default ids) tie nobody."</p>
                </div>
                <Controls columns=columns/>
                {job_body(job, RINGS_WORDING, |report| view! { <RingsResults report=report/> }.into_any())}
            </section>
            <copies::CopiesSection/>
            <terms::TermsSection/>
        }
        .into_any()
    }
}

const RINGS_WORDING: Wording = Wording {
    hint: "Choose the entity column (an account id) and the attributes accounts may share (a device id, an IP).",
    idle: "Finding rings",
    failed: "Cannot find rings:",
    hint_id: "rings-empty",
    pending_id: "rings-pending",
    cancel_id: "rings-cancel",
    error_id: "rings-error",
};

const WINDOWS: [(i64, &str); 5] = [(0, "any time"), (10 * 60_000, "10 minutes"), (HOUR_MS, "1 hour"), (DAY_MS, "1 day"), (7 * DAY_MS, "7 days")];

#[component]
fn Controls(columns: Vec<ColumnSummary>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let job = NetworksPanel::get().rings;
    let keys: Vec<String> = columns.iter().filter(|c| matches!(c.kind, ColumnType::Identifier | ColumnType::Category | ColumnType::Integer)).map(|c| c.name.clone()).collect();
    let has_time = columns.iter().any(|c| c.kind == ColumnType::Timestamp);
    let first_time = columns.iter().find(|c| c.kind == ColumnType::Timestamp).map(|c| c.name.clone());
    move || {
        let params = job.params.get();
        let entity = params.as_ref().map(|p| p.entity.clone());
        let chosen: Vec<String> = params.as_ref().map(|p| p.attributes.clone()).unwrap_or_default();
        let window = params.as_ref().and_then(|p| p.window_ms).unwrap_or(0);
        let cap = params.as_ref().map_or(50, |p| p.cap);
        let min_size = params.as_ref().map_or(3, |p| p.min_size);
        let first_time = first_time.clone();
        view! {
            <div class="editor-row measure-controls" data-testid="rings-controls">
                <label>"entity "
                    <select aria-label="Entity column" data-testid="rings-entity" on:change=move |e| {
                        let v = event_target_value(&e);
                        if v.is_empty() { return job.reset() }
                        match job.params.get_untracked() {
                            Some(_) => change(state, |p| { p.attributes.retain(|a| *a != v); p.entity = v }),
                            None => ask(state, RingsParams { label: state.chosen_label(), time: first_time.clone(), ..RingsParams::of(&v, &[]) }),
                        }
                    }>
                        {name_options(keys.clone(), entity.clone(), Some("choose…"))}
                    </select>
                </label>
                <span class="class-choices" data-testid="rings-attributes">"shared "
                    {keys.iter().filter(|k| Some(*k) != entity.as_ref()).map(|k| {
                        let name = k.clone();
                        let on = chosen.contains(k);
                        view! {
                            <label class="check"><input type="checkbox" data-testid="rings-attribute" data-value=k.clone() prop:checked=on on:change=move |e| {
                                let ticked = event_target_checked(&e);
                                let name = name.clone();
                                change(state, move |p| {
                                    p.attributes.retain(|a| *a != name);
                                    if ticked { p.attributes.push(name) }
                                })
                            }/>{k.clone()}</label>
                        }
                    }).collect_view()}
                </span>
                <label title="A value used by more accounts than this ties nobody (carrier NAT, default device ids)">"values of at most "
                    <input type="number" class="narrow" min="2" step="1" data-testid="rings-cap" prop:value=cap.to_string()
                        on:change=move |e| { if let Ok(v) = event_target_value(&e).parse::<usize>() { change(state, |p| p.cap = v.max(2)) } }/>
                    " accounts tie"
                </label>
                <label title="Two uses of a value tie their accounts only when this close in time">"within "
                    <select aria-label="Time window" data-testid="rings-window" disabled=!has_time on:change=move |e| {
                        let ms = event_target_value(&e).parse::<i64>().unwrap_or(0);
                        change(state, |p| { p.window_ms = (ms > 0).then_some(ms); })
                    }>
                        {WINDOWS.iter().map(|&(ms, label)| view! { <option value=ms.to_string() selected=ms == window>{label}</option> }).collect_view()}
                    </select>
                </label>
                <label title="Rings with fewer accounts are not listed">"at least "
                    <input type="number" class="narrow" min="2" step="1" data-testid="rings-min-size" prop:value=min_size.to_string()
                        on:change=move |e| { if let Ok(v) = event_target_value(&e).parse::<usize>() { change(state, |p| p.min_size = v.max(2)) } }/>
                    " accounts"
                </label>
            </div>
        }
    }
}

/// "3 h", "2 days": a spread of first appearances.
fn spread(ms: i64) -> String {
    match ms {
        m if m < HOUR_MS => format!("{} min", m / 60_000),
        m if m < 2 * DAY_MS => format!("{} h", m / HOUR_MS),
        m => format!("{} days", m / DAY_MS),
    }
}

#[component]
fn RingsResults(report: Arc<RingsReport>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let panel = NetworksPanel::get();
    let unit = state.counted();
    let r = report.clone();
    let attributes = r.attributes.iter().map(|a| format!("“{a}”")).collect::<Vec<_>>().join(", ");
    let summary = format!(
        "{} {} of {} or more accounts (“{}”) tied by {}: {} of {} accounts share a value with another; the largest group has {}.",
        format_events(r.rings_found as f64),
        if r.rings_found == 1 { "ring" } else { "rings" },
        r.min_size,
        r.entity,
        attributes,
        format_events(r.tied_entities as f64),
        format_events(r.entities as f64),
        format_events(r.largest_component as f64),
    );
    let excluded = (!r.excluded.is_empty()).then(|| {
        let listed: Vec<String> = r.excluded.iter().take(5).map(|x| format!("{} = {} ({} accounts)", x.column, x.value, format_events(x.entities as f64))).collect();
        let more = r.excluded_count.saturating_sub(listed.len());
        format!(
            "Left out, shared by more than {} accounts: {}{}.",
            r.cap,
            listed.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        )
    });
    let splits: Vec<String> = r.splits.iter().map(|s| format!("A group of {} accounts was split into {} communities (Louvain, modularity {:.2}).", format_events(s.entities as f64), s.communities, s.modularity)).collect();
    let entity = r.entity.clone();
    let rows_view: Vec<_> = r.rings.iter().map(|ring| ring_row(state, ring, &entity)).collect();
    let rings = r.rings.clone();
    let selected_ring = Memo::new({
        let rings = rings.clone();
        move |_| rings.iter().find(|ring| ring.id == panel.selected.get()).cloned()
    });
    view! {
        <div class="measure-results">
            <p data-testid="rings-summary">{summary}</p>
            {panel.rings.params.get_untracked().filter(|_| r.rings_found > 0).map(|p| view! { <AddColumn grouping=Grouping::Rings(p) groups="rings" testid="rings-derive"/> })}
            {excluded.map(|x| view! { <p class="muted small" data-testid="rings-excluded">{x}</p> })}
            {splits.into_iter().map(|s| view! { <p class="muted small" data-testid="rings-split">{s}</p> }).collect_view()}
            {(!r.notes.is_empty()).then(|| view! { <ul class="notices">{r.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul> })}
            {if rings.is_empty() {
                view! { <p class="muted" data-testid="rings-none">"No rings: no value ties that many accounts. Lower “at least”, raise the cap, or add attributes."</p> }.into_any()
            } else {
                view! {
                    <Exportable name="rings-table" kind=ExportKind::Table><div class="table-wrap short">
                        <table class="grid" data-testid="rings-table">
                            <thead><tr>
                                <th class="num">"#"</th><th class="num">"accounts"</th><th class="num">{unit}</th><th>"shared values"</th><th>"most shared"</th>
                                <th class="num">"positive"</th><th>"first seen"</th><th>"last seen"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {rows_view}
                            </tbody>
                        </table></div>
                    </Exportable>
                    {move || selected_ring.get().map(|ring| view! { <RingDrawing ring=Arc::new(ring) entity=entity.clone()/> })}
                }.into_any()
            }}
        </div>
    }
}

fn ring_row(state: AppState, ring: &Ring, entity: &str) -> impl IntoView {
    let panel = NetworksPanel::get();
    let id = ring.id;
    let clause = Clause::InSet { column: entity.to_string(), values: ring.members.clone(), negate: false };
    let shared = ring.shared_values.iter().map(|(c, n)| format!("{n} {c} value{}", if *n == 1 { "" } else { "s" })).collect::<Vec<_>>().join(", ");
    let top = ring.top_shared.first().map(|v| format!("{} ({} accounts)", v.value, v.entities)).unwrap_or_default();
    let first = ring.first_seen_ms.map(|(a, b)| format!("{} · every member within {}", format_date_ms(a), spread(b - a))).unwrap_or_default();
    let last = ring.last_seen_ms.map(format_date_ms).unwrap_or_default();
    let community = ring.community_of.map(|c| format!(" (part of group {c})")).unwrap_or_default();
    view! {
        <tr data-testid="ring-row" class:selected=move || panel.selected.get() == id on:click=move |_| panel.selected.set(id) title="Click to draw this ring">
            <td class="num">{id}</td>
            <td class="num">{format_events(ring.entities as f64)}{community}</td>
            <td class="num">{format_events(ring.rows)}</td>
            <td>{shared}</td>
            <td>{top}</td>
            <td class="num">{ring.label_rate.map(format_rate).unwrap_or_else(|| "—".into())}</td>
            <td>{first}</td>
            <td>{last}</td>
            <td><button class="button small" data-testid="ring-filter" title="Keep only this ring's accounts in every tab" on:click=move |e| { e.stop_propagation(); state.show_rows(clause.clone()) }>"Filter"</button></td>
        </tr>
    }
}

#[component]
fn RingDrawing(ring: Arc<Ring>, entity: String) -> impl IntoView {
    let Some(graph) = ring.graph.clone() else {
        return view! { <p class="muted small" data-testid="ring-too-large">{format!("Ring {} is too large to draw ({} accounts).", ring.id, ring.entities)}</p> }.into_any();
    };
    let members = ring.members.len();
    let n = members + graph.values.len();
    let edges: Vec<(usize, usize)> = graph.links.iter().map(|&(m, v)| (m as usize, members + v as usize)).collect();
    let iterations = (2_000_000 / (n * n).max(1)).clamp(30, 300);
    let positions = Arc::new(layout(n, &edges, iterations, ring.id as u64));
    let is_entity: Arc<Vec<bool>> = Arc::new((0..n).map(|i| i < members).collect());
    let edges = Arc::new(edges);
    let canvas = NodeRef::<Canvas>::new();
    let hover = RwSignal::new(None::<usize>);
    let problem = RwSignal::new(None::<String>);
    let (p, k, e) = (positions.clone(), is_entity.clone(), edges.clone());
    Effect::new(move |_| {
        let hovered = hover.get();
        let Some(element) = canvas.get() else { return };
        let (p, k, e) = (p.clone(), k.clone(), e.clone());
        draw_soon(&element, move |element| {
            let drawn = crate::plot::canvas::draw_on_canvas(element, |area| draw_network(area, &p, &k, &e, theme(), hovered).map_err(|e| e.to_string()));
            problem.try_set(drawn.err());
        });
    });
    let pm = positions.clone();
    let on_move = move |event: leptos::ev::MouseEvent| {
        let Some(element) = canvas.get_untracked() else { return };
        let found = node_at(&pm, f64::from(event.offset_x()), f64::from(event.offset_y()), element.width(), element.height(), 8.0);
        if hover.get_untracked() != found {
            hover.set(found);
        }
    };
    let r = ring.clone();
    let links = edges.clone();
    let readout = move || {
        let i = hover.get()?;
        let degree = links.iter().filter(|&&(a, b)| a == i || b == i).count();
        Some(if i < members {
            format!("{entity} {} · {degree} shared values", r.members.get(i)?)
        } else {
            let (column, value) = graph.values.get(i - members)?;
            format!("{column} {value} · used by {degree} of the ring's accounts")
        })
    };
    let title = format!("Ring {}: {} accounts and the values they share", ring.id, ring.entities);
    view! {
        <h3>{title.clone()}</h3>
        <p class="muted small"><span class="swatch node-entity"></span>" accounts · "<span class="swatch node-value"></span>" shared values (hover to name them) · click a row above to draw another ring"</p>
        <div class="chart">
            <Exportable name="ring-graph" title=title>
                <canvas node_ref=canvas data-testid="ring-graph" style="height: 360px" on:mousemove=on_move on:mouseleave=move |_| hover.set(None)></canvas>
            </Exportable>
            <div class="chart-readout muted" data-testid="ring-readout">{move || readout().unwrap_or_else(|| "\u{a0}".into())}</div>
        </div>
        {move || problem.get().map(|p| view! { <p class="problem">"Chart could not be drawn: " {p}</p> })}
    }
    .into_any()
}
