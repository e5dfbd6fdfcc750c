//! The Networks tab's emerging terms: words whose share of posts bursts (Kleinberg's two-state
//! model), each with its timeline and its bursts marked, and a filter on the word.

use std::sync::Arc;

use leptos::prelude::*;

use crate::analysis::terms::{Period, Term, TermsParams, TermsReport};
use crate::data::filter::Clause;
use crate::data::table::ColumnType;
use crate::data::time::{format_date_ms, parse_timestamp_text};
use crate::format::{format_events, format_rate};
use crate::protocol::ColumnSummary;
use crate::ui::controls::name_options;
use crate::ui::export::{ExportKind, Exportable};
use crate::ui::state::AppState;

use super::{ask_on_new_view, job_body, NetworksPanel, Wording};

/// The settings a first visit starts from: the first free-text column and the first timestamp.
fn first_settings(columns: &[ColumnSummary]) -> Option<TermsParams> {
    let text = columns.iter().find(|c| c.kind == ColumnType::Text)?;
    let time = columns.iter().find(|c| c.kind == ColumnType::Timestamp)?;
    Some(TermsParams::of(&text.name, &time.name))
}

pub(super) fn ask(state: AppState, params: TermsParams) {
    let panel = NetworksPanel::get();
    panel.terms_asked_at.set(Some(state.view_version.get_untracked()));
    panel.terms.request(params);
}

fn change(state: AppState, update: impl FnOnce(&mut TermsParams)) {
    if let Some(mut params) = NetworksPanel::get().terms.params.get_untracked() {
        update(&mut params);
        ask(state, params);
    }
}

const PERIODS: [(Period, &str); 4] = [(Period::Auto, "auto"), (Period::Hour, "hour"), (Period::Day, "day"), (Period::Week, "week")];
const GAMMAS: [f64; 4] = [0.5, 1.0, 2.0, 4.0];

const TERMS_WORDING: Wording = Wording {
    hint: "Choose a text column and a time column to look for bursting words.",
    idle: "Counting words",
    failed: "Cannot look for emerging terms:",
    hint_id: "terms-empty",
    pending_id: "terms-pending",
    cancel_id: "terms-cancel",
    error_id: "terms-error",
};

#[component]
pub(super) fn TermsSection() -> impl IntoView {
    let state = expect_context::<AppState>();
    let panel = NetworksPanel::get();
    let job = panel.terms;
    ask_on_new_view(state, job, panel.terms_asked_at, |_, columns| first_settings(columns), ask);
    move || {
        let columns = state.summary.with(|s| s.as_ref().map(|s| s.columns.clone()))?;
        Some(view! {
            <section class="panel" data-testid="terms">
                <div class="panel-head">
                    <h2>"Emerging terms"</h2>
                    <p class="muted small">"Words whose share of posts bursts above their usual rate (Kleinberg's two-state model: a burst state at twice the base rate, entered at a cost), heaviest burst first."</p>
                </div>
                <Controls columns=columns/>
                {job_body(job, TERMS_WORDING, |report| view! { <TermsResults report=report/> }.into_any())}
            </section>
        })
    }
}

#[component]
fn Controls(columns: Vec<ColumnSummary>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let job = NetworksPanel::get().terms;
    let texts: Vec<String> = columns.iter().filter(|c| matches!(c.kind, ColumnType::Text | ColumnType::Category)).map(|c| c.name.clone()).collect();
    let times: Vec<String> = columns.iter().filter(|c| c.kind == ColumnType::Timestamp).map(|c| c.name.clone()).collect();
    move || {
        let params = job.params.get();
        let text = params.as_ref().map(|p| p.text.clone());
        let time = params.as_ref().map(|p| p.time.clone());
        let period = params.as_ref().map_or(Period::Auto, |p| p.period);
        let gamma = params.as_ref().map_or(1.0, |p| p.gamma);
        let min_count = params.as_ref().map_or(10, |p| p.min_count);
        let since = params.as_ref().and_then(|p| p.since_ms).map(format_date_ms).unwrap_or_default();
        let first_time = times.first().cloned();
        view! {
            <div class="editor-row measure-controls" data-testid="terms-controls">
                <label>"text "
                    <select aria-label="Text column for terms" data-testid="terms-text" on:change=move |e| {
                        let v = event_target_value(&e);
                        if v.is_empty() { return job.reset() }
                        match (job.params.get_untracked(), first_time.clone()) {
                            (Some(_), _) => change(state, |p| p.text = v),
                            (None, Some(t)) => ask(state, TermsParams::of(&v, &t)),
                            (None, None) => {}
                        }
                    }>
                        {name_options(texts.clone(), text, Some("choose…"))}
                    </select>
                </label>
                <label>"time "
                    <select aria-label="Time column for terms" data-testid="terms-time" on:change=move |e| {
                        let v = event_target_value(&e);
                        change(state, |p| p.time = v)
                    }>
                        {name_options(times.clone(), time, None)}
                    </select>
                </label>
                <label>"per "
                    <select aria-label="Period" data-testid="terms-period" on:change=move |e| {
                        let v = event_target_value(&e);
                        if let Some(&(p, _)) = PERIODS.iter().find(|(_, l)| *l == v) { change(state, |q| q.period = p) }
                    }>
                        {PERIODS.iter().map(|&(p, label)| view! { <option value=label selected=p == period>{label}</option> }).collect_view()}
                    </select>
                </label>
                <label title="How much a burst must stand out to be entered (Kleinberg's γ: the cost of entering it is γ·ln of the number of periods)">"burst cost γ "
                    <select aria-label="Burst cost" data-testid="terms-gamma" on:change=move |e| {
                        if let Ok(g) = event_target_value(&e).parse::<f64>() { change(state, |p| p.gamma = g) }
                    }>
                        {GAMMAS.iter().map(|&g| view! { <option value=g.to_string() selected=(g - gamma).abs() < 1e-9>{g.to_string()}</option> }).collect_view()}
                    </select>
                </label>
                <label title="List only words with a burst on or after this day (UTC); the whole span is still their baseline. Empty: any time">"bursting since "
                    <input type="date" data-testid="terms-since" prop:value=since on:change=move |e| {
                        let since_ms = parse_timestamp_text(&event_target_value(&e));
                        change(state, |p| p.since_ms = since_ms)
                    }/>
                </label>
                <label title="Words in fewer posts are not followed">"in at least "
                    <input type="number" class="narrow" min="2" step="1" data-testid="terms-min-count" prop:value=min_count.to_string()
                        on:change=move |e| { if let Ok(v) = event_target_value(&e).parse::<usize>() { change(state, |p| p.min_count = v.max(2)) } }/>
                    " posts"
                </label>
            </div>
        }
    }
}

#[component]
fn TermsResults(report: Arc<TermsReport>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let r = report.clone();
    let per = match r.period {
        Period::Hour => "hour",
        Period::Week => "week",
        Period::Day | Period::Auto => "day",
    };
    let params = NetworksPanel::get().terms.params.get_untracked();
    let since = params.as_ref().and_then(|p| p.since_ms).map(|ms| format!(" since {}", format_date_ms(ms))).unwrap_or_default();
    let summary = format!(
        "{} of {} words in {} or more posts burst{since} (per {per}, {} periods).",
        format_events(r.bursting as f64),
        format_events(r.followed as f64),
        params.as_ref().map_or(10, |p| p.min_count),
        r.period_starts.len(),
    );
    let rows: Vec<_> = r.terms.iter().map(|t| term_row(state, t, &r)).collect();
    view! {
        <div class="measure-results">
            <p data-testid="terms-summary">{summary}</p>
            {(!r.notes.is_empty()).then(|| view! { <ul class="notices">{r.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul> })}
            {if r.terms.is_empty() {
                view! { <p class="muted" data-testid="terms-none">"No word bursts: every word keeps to its usual share. Lower γ to see smaller bursts."</p> }.into_any()
            } else {
                view! {
                    <Exportable name="terms-table" kind=ExportKind::Table><div class="table-wrap">
                        <table class="grid" data-testid="terms-table">
                            <thead><tr>
                                <th>"term"</th><th class="num">"posts"</th><th class="num">"usual share"</th><th>"heaviest burst"</th>
                                <th class="num">"share in it"</th><th class="num">"weight"</th><th class="num">"bursts"</th><th>"timeline"</th><th></th>
                            </tr></thead>
                            <tbody>{rows}</tbody>
                        </table></div>
                    </Exportable>
                }.into_any()
            }}
        </div>
    }
}

fn term_row(state: AppState, term: &Term, report: &TermsReport) -> impl IntoView {
    let clause = Clause::Contains { column: report.text.clone(), text: term.term.clone() };
    let heaviest = &term.bursts[0];
    let day = |p: usize| report.period_starts.get(p).map(|&ms| format_date_ms(ms)).unwrap_or_default();
    let when = if heaviest.first == heaviest.last { day(heaviest.first) } else { format!("{} – {}", day(heaviest.first), day(heaviest.last)) };
    let share = heaviest.with_term / heaviest.posts.max(f64::MIN_POSITIVE);
    view! {
        <tr data-testid="terms-row">
            <td data-testid="terms-term">{term.term.clone()}</td>
            <td class="num">{format_events(term.posts)}</td>
            <td class="num">{format_rate(term.base_rate)}</td>
            <td data-testid="terms-when">{when}</td>
            <td class="num">{format_rate(share)}</td>
            <td class="num">{format!("{:.1}", heaviest.weight)}</td>
            <td class="num">{term.bursts.len()}</td>
            <td>{sparkline(term, report)}</td>
            <td><button class="button small" data-testid="terms-filter" title="Keep only rows whose text contains this word, in every tab" on:click=move |_| state.show_rows(clause.clone())>"Filter"</button></td>
        </tr>
    }
}

/// The word's share of posts per period as a small line, its bursts shaded.
fn sparkline(term: &Term, report: &TermsReport) -> impl IntoView {
    let n = term.timeline.len().max(2);
    let shares: Vec<f64> = term.timeline.iter().zip(&report.posts).map(|(r, d)| if *d > 0.0 { r / d } else { 0.0 }).collect();
    let top = shares.iter().copied().fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let (w, h) = (160.0, 24.0);
    let x = |p: usize| p as f64 / (n - 1) as f64 * w;
    let points = shares.iter().enumerate().map(|(p, s)| format!("{:.1},{:.1}", x(p), h - 1.0 - s / top * (h - 2.0))).collect::<Vec<_>>().join(" ");
    let bands: Vec<_> = term
        .bursts
        .iter()
        .map(|b| {
            let (x0, x1) = (x(b.first) - 1.0, x(b.last) + 1.0);
            view! { <rect class="burst" x=format!("{x0:.1}") y="0" width=format!("{:.1}", (x1 - x0).max(2.0)) height=h.to_string()></rect> }
        })
        .collect();
    let label = format!("share of posts with “{}” per period, bursts shaded", term.term);
    view! {
        <svg class="sparkline" viewBox=format!("0 0 {w} {h}") width=w.to_string() height=h.to_string() role="img" aria-label=label>
            {bands}
            <polyline points=points></polyline>
        </svg>
    }
}
