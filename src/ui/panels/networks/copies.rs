//! The Networks tab's copy-paste campaigns: groups of near-identical texts (MinHash and LSH,
//! confirmed by exact Jaccard), co-posting first, each one put in the filter with a click.

use std::sync::Arc;

use leptos::prelude::*;

use crate::analysis::copies::{CopiesParams, CopiesReport, CopyGroup, ShingleKind};
use crate::analysis::groups::Grouping;
use crate::data::filter::Clause;
use crate::data::table::ColumnType;
use crate::data::time::{format_date_ms, format_iso_ms, DAY_MS, HOUR_MS};
use crate::format::{format_events, format_rate};
use crate::protocol::ColumnSummary;
use crate::ui::controls::name_options;
use crate::ui::export::{ExportKind, Exportable};
use crate::ui::state::AppState;

use super::{ask_on_new_view, entity_guess, job_body, AddColumn, NetworksPanel, Wording};

/// The settings a first visit starts from: the first free-text column, an account-like column,
/// the first timestamp, the label chosen in the Profile tab.
pub(super) fn first_settings(state: AppState, columns: &[ColumnSummary]) -> Option<CopiesParams> {
    let text = columns.iter().find(|c| c.kind == ColumnType::Text)?.name.clone();
    let time = columns.iter().find(|c| c.kind == ColumnType::Timestamp).map(|c| c.name.clone());
    Some(CopiesParams { entity: entity_guess(columns), time, label: state.chosen_label(), ..CopiesParams::of(&text) })
}

pub(super) fn ask(state: AppState, params: CopiesParams) {
    let panel = NetworksPanel::get();
    panel.copies_asked_at.set(Some(state.view_version.get_untracked()));
    panel.copies.request(params);
}

fn change(state: AppState, update: impl FnOnce(&mut CopiesParams)) {
    if let Some(mut params) = NetworksPanel::get().copies.params.get_untracked() {
        update(&mut params);
        ask(state, params);
    }
}

const WINDOWS: [(i64, &str); 4] = [(60_000, "1 minute"), (10 * 60_000, "10 minutes"), (HOUR_MS, "1 hour"), (DAY_MS, "1 day")];
const THRESHOLDS: [f64; 5] = [0.5, 0.6, 0.7, 0.8, 0.9];

const COPIES_WORDING: Wording = Wording {
    hint: "Choose a text column (a post, a message, a bio) to look for copies.",
    idle: "Comparing texts",
    failed: "Cannot look for copies:",
    hint_id: "copies-empty",
    pending_id: "copies-pending",
    cancel_id: "copies-cancel",
    error_id: "copies-error",
};

#[component]
pub(super) fn CopiesSection() -> impl IntoView {
    let state = expect_context::<AppState>();
    let panel = NetworksPanel::get();
    let job = panel.copies;
    ask_on_new_view(state, job, panel.copies_asked_at, first_settings, ask);
    move || {
        let columns = state.summary.with(|s| s.as_ref().map(|s| s.columns.clone()))?;
        Some(view! {
            <section class="panel" data-testid="copies">
                <div class="panel-head">
                    <h2>"Copy-paste campaigns"</h2>
                    <p class="muted small">"Posts whose text is the same or nearly so (MinHash over shingles, confirmed by their exact Jaccard similarity); the same text from many accounts within minutes ranks first."</p>
                </div>
                <Controls columns=columns/>
                {job_body(job, COPIES_WORDING, |report| view! { <CopiesResults report=report/> }.into_any())}
            </section>
        })
    }
}

#[component]
fn Controls(columns: Vec<ColumnSummary>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let job = NetworksPanel::get().copies;
    let texts: Vec<String> = columns.iter().filter(|c| matches!(c.kind, ColumnType::Text | ColumnType::Category | ColumnType::Identifier)).map(|c| c.name.clone()).collect();
    let keys: Vec<String> = columns.iter().filter(|c| matches!(c.kind, ColumnType::Identifier | ColumnType::Category | ColumnType::Integer)).map(|c| c.name.clone()).collect();
    let first = first_settings(state, &columns);
    let first_time = columns.iter().find(|c| c.kind == ColumnType::Timestamp).map(|c| c.name.clone());
    let guess = entity_guess(&columns);
    move || {
        let params = job.params.get();
        let text = params.as_ref().map(|p| p.text.clone());
        let entity = params.as_ref().and_then(|p| p.entity.clone());
        let kind = params.as_ref().map_or(ShingleKind::Characters, |p| p.shingles);
        let size = params.as_ref().map_or(5, |p| p.size);
        let threshold = params.as_ref().map_or(0.7, |p| p.threshold);
        let window = params.as_ref().map_or(10 * 60_000, |p| p.window_ms);
        let min_rows = params.as_ref().map_or(3, |p| p.min_rows);
        let (first, first_time, guess) = (first.clone(), first_time.clone(), guess.clone());
        view! {
            <div class="editor-row measure-controls" data-testid="copies-controls">
                <label>"text "
                    <select aria-label="Text column" data-testid="copies-text" on:change=move |e| {
                        let v = event_target_value(&e);
                        if v.is_empty() { return job.reset() }
                        match job.params.get_untracked() {
                            Some(_) => change(state, |p| { if p.entity.as_deref() == Some(v.as_str()) { p.entity = None } p.text = v }),
                            None => ask(state, CopiesParams {
                                time: first_time.clone(),
                                entity: guess.clone().filter(|g| *g != v),
                                label: first.as_ref().and_then(|f| f.label.clone()),
                                ..CopiesParams::of(&v)
                            }),
                        }
                    }>
                        {name_options(texts.clone(), text.clone(), Some("choose…"))}
                    </select>
                </label>
                <label title="Who posted it: distinct accounts and co-posting count them">"accounts "
                    <select aria-label="Account column" data-testid="copies-entity" on:change=move |e| {
                        let v = event_target_value(&e);
                        change(state, |p| p.entity = (!v.is_empty() && v != p.text).then_some(v))
                    }>
                        {name_options(keys.iter().filter(|k| Some(*k) != text.as_ref()).cloned().collect(), entity, Some("none"))}
                    </select>
                </label>
                <label title="Texts are compared by their overlapping windows of characters (robust to small edits) or of words">"shingles "
                    <select aria-label="Shingles" data-testid="copies-shingles" on:change=move |e| {
                        let words = event_target_value(&e) == "words";
                        change(state, |p| {
                            p.shingles = if words { ShingleKind::Words } else { ShingleKind::Characters };
                            p.size = if words { 3 } else { 5 };
                        })
                    }>
                        <option value="characters" selected=kind == ShingleKind::Characters>{format!("{} characters", if kind == ShingleKind::Characters { size } else { 5 })}</option>
                        <option value="words" selected=kind == ShingleKind::Words>{format!("{} words", if kind == ShingleKind::Words { size } else { 3 })}</option>
                    </select>
                </label>
                <label title="Texts whose shingles overlap at least this much (Jaccard similarity) are copies">"similarity ≥ "
                    <select aria-label="Similarity threshold" data-testid="copies-threshold" on:change=move |e| {
                        if let Ok(t) = event_target_value(&e).parse::<f64>() { change(state, |p| p.threshold = t) }
                    }>
                        {THRESHOLDS.iter().map(|&t| view! { <option value=t.to_string() selected=(t - threshold).abs() < 1e-9>{format!("{t:.1}")}</option> }).collect_view()}
                    </select>
                </label>
                <label title="Co-posting counts the accounts that posted a group's texts this close in time">"co-posting within "
                    <select aria-label="Co-posting window" data-testid="copies-window" on:change=move |e| {
                        if let Ok(ms) = event_target_value(&e).parse::<i64>() { change(state, |p| p.window_ms = ms) }
                    }>
                        {WINDOWS.iter().map(|&(ms, label)| view! { <option value=ms.to_string() selected=ms == window>{label}</option> }).collect_view()}
                    </select>
                </label>
                <label title="Groups with fewer rows are not listed">"at least "
                    <input type="number" class="narrow" min="2" step="1" data-testid="copies-min-rows" prop:value=min_rows.to_string()
                        on:change=move |e| { if let Ok(v) = event_target_value(&e).parse::<usize>() { change(state, |p| p.min_rows = v.max(2)) } }/>
                    " rows"
                </label>
            </div>
        }
    }
}

/// "8 min", "3 h", "2 days".
fn span(ms: i64) -> String {
    match ms {
        m if m < HOUR_MS => format!("{} min", (m + 30_000) / 60_000),
        m if m < 2 * DAY_MS => format!("{} h", m / HOUR_MS),
        m => format!("{} days", m / DAY_MS),
    }
}

#[component]
fn CopiesResults(report: Arc<CopiesReport>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let unit = state.counted();
    let r = report.clone();
    let shingles = match r.shingles {
        ShingleKind::Characters => format!("{}-character shingles", r.size),
        ShingleKind::Words => format!("{}-word shingles", r.size),
    };
    let summary = format!(
        "{} {} of {} or more {} with near-identical “{}” ({} distinct texts compared; {}, similarity ≥ {:.1}): {} of {} {} are copies.",
        format_events(r.groups_found as f64),
        if r.groups_found == 1 { "group" } else { "groups" },
        r.min_rows,
        unit,
        r.text,
        format_events(r.distinct_texts as f64),
        shingles,
        r.threshold,
        format_events(r.rows_in_groups),
        format_events(r.rows),
        unit,
    );
    let method = format!(
        "MinHash of {} permutations in {} bands of {}; {} pairs compared, {} confirmed by their exact similarity. Texts compared in lower case with runs of spaces as one.",
        r.permutations,
        r.bands,
        r.rows_per_band,
        format_events(r.candidate_pairs as f64),
        format_events(r.similar_pairs as f64)
    );
    let rows_view: Vec<_> = r.groups.iter().map(|g| group_row(state, g, &r.text, r.window_ms)).collect();
    let has_accounts = r.entity.is_some();
    view! {
        <div class="measure-results">
            <p data-testid="copies-summary">{summary}</p>
            <p class="muted small">{method}</p>
            {NetworksPanel::get().copies.params.get_untracked().filter(|_| r.groups_found > 0).map(|p| view! { <AddColumn grouping=Grouping::Copies(p) groups="groups" testid="copies-derive"/> })}
            {(!r.notes.is_empty()).then(|| view! { <ul class="notices">{r.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul> })}
            {if r.groups.is_empty() {
                view! { <p class="muted" data-testid="copies-none">"No copies: no text is repeated that often. Lower “at least” or the similarity."</p> }.into_any()
            } else {
                view! {
                    <Exportable name="copies-table" kind=ExportKind::Table><div class="table-wrap tall">
                        <table class="grid" data-testid="copies-table">
                            <thead><tr>
                                <th class="num">"#"</th><th class="num">{unit}</th><th class="num">"texts"</th>
                                {has_accounts.then(|| view! { <th class="num">"accounts"</th> })}
                                <th>"co-posting"</th><th>"first · last"</th><th class="num">"positive"</th><th>"example"</th><th></th>
                            </tr></thead>
                            <tbody>{rows_view}</tbody>
                        </table></div>
                    </Exportable>
                }.into_any()
            }}
        </div>
    }
}

fn group_row(state: AppState, group: &CopyGroup, text: &str, window_ms: i64) -> impl IntoView {
    let clause = Clause::InSet { column: text.to_string(), values: group.values.clone(), negate: false };
    let co_posting = group
        .co_posting
        .as_ref()
        .filter(|c| c.accounts > 1)
        .map(|c| (format!("{} accounts in {} · {}", c.accounts, span(c.end_ms - c.start_ms), format_iso_ms(c.start_ms).get(..16).unwrap_or_default().replace('T', " ")), c.accounts))
        .map(|(label, n)| {
            let class = if n >= 5 { "co-posting" } else { "" };
            view! { <span class=class data-testid="copies-co-posting">{label}</span> }.into_any()
        })
        .unwrap_or_else(|| view! { <span class="muted">{format!("none within {}", span(window_ms))}</span> }.into_any());
    let when = match (group.first_ms, group.last_ms) {
        (Some(a), Some(b)) if format_date_ms(a) == format_date_ms(b) => format_date_ms(a),
        (Some(a), Some(b)) => format!("{} · {}", format_date_ms(a), format_date_ms(b)),
        _ => String::new(),
    };
    let example = group.examples.first().map(|e| e.0.clone()).unwrap_or_default();
    let all_examples = group.examples.iter().map(|(t, w)| format!("{} ×{}", t, format_events(*w))).collect::<Vec<_>>().join("\n");
    let similarity = if group.min_similarity < 1.0 { format!("near-identical (similarity ≥ {:.2})", group.min_similarity) } else { "identical".into() };
    view! {
        <tr data-testid="copies-row">
            <td class="num">{group.id}</td>
            <td class="num">{format_events(group.rows)}</td>
            <td class="num" title=similarity>{format_events(group.texts as f64)}</td>
            {group.accounts.map(|a| view! { <td class="num">{format_events(a as f64)}</td> })}
            <td>{co_posting}</td>
            <td>{when}</td>
            <td class="num">{group.label_rate.map(format_rate).unwrap_or_else(|| "—".into())}</td>
            <td class="example" title=all_examples data-testid="copies-example">{example}</td>
            <td><button class="button small" data-testid="copies-filter" title="Keep only rows with these texts in every tab" on:click=move |_| state.show_rows(clause.clone())>"Filter"</button></td>
        </tr>
    }
}
