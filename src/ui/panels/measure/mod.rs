//! The Measure tab: how much violating content there is, from a labelled sample — prevalence
//! with its confidence interval under the sample's design (simple, stratified with population
//! sizes, or unequal inclusion probabilities), per stratum, per period and per value of a
//! dimension, and how many more labels reach a chosen precision; where it (or a metric) is
//! heading by a due date and what a target would take; the impact of a launch.

use leptos::prelude::*;
use serde_json::{Map, Value};

use crate::analysis::contract::FitColumns;
use crate::analysis::labels::LabelSpec;
use crate::analysis::impact::{Impact, ImpactParams};
use crate::analysis::objective::{Objective, ObjectiveParams};
use crate::analysis::prevalence::{Design, Interval, Prevalence, PrevalenceParams};
use crate::data::table::ColumnType;
use crate::protocol::ColumnSummary;
use crate::ui::controls::name_options;
use crate::ui::jobs::{Job, JobProgress};
use crate::ui::state::AppState;
use crate::viewstate::take_setting;

mod impact;
mod objective;
mod results;

/// The Measure tab.
pub const TAB: super::TabEntry = super::TabEntry {
    slug: "measure",
    label: "Measure",
    init: |state| {
        MeasurePanel::get();
        impact::take_intents(state);
    },
    view: || view! { <MeasureTab/> }.into_any(),
    reset: || {
        let panel = MeasurePanel::get();
        panel.asked_at.set(None);
        panel.draft.set(impact::Draft::default());
        panel.objective_draft.set(objective::Draft::default());
    },
    link: Some(super::Link { write, read }),
};

/// The Measure tab's state: the prevalence estimate (its parameters are the settings on
/// screen), and the impact of a launch with its settings as chosen so far.
#[derive(Clone, Copy)]
pub struct MeasurePanel {
    pub prevalence: Job<Prevalence>,
    pub impact: Job<Impact>,
    pub objective: Job<Objective>,
    draft: RwSignal<impact::Draft>,
    objective_draft: RwSignal<objective::Draft>,
    /// The view's version when the estimate shown was asked for (another filter asks again).
    asked_at: RwSignal<Option<u64>>,
}

impl MeasurePanel {
    fn new() -> Self {
        Self {
            prevalence: Job::new(),
            impact: Job::new(),
            objective: Job::new(),
            draft: RwSignal::new(impact::Draft::default()),
            objective_draft: RwSignal::new(objective::Draft::default()),
            asked_at: RwSignal::new(None),
        }
    }
}

super::panel_state!(MeasurePanel);

fn write(_state: AppState, settings: &mut Map<String, Value>) {
    let panel = MeasurePanel::get();
    super::put(settings, "prevalence", &panel.prevalence.params.get());
    super::put(settings, "impact", &panel.impact.params.get());
    super::put(settings, "objective", &panel.objective.params.get());
}

fn read(state: AppState, settings: &mut Map<String, Value>, columns: &[(String, ColumnType)], notices: &mut Vec<String>) {
    let panel = MeasurePanel::get();
    match take_setting::<PrevalenceParams>(settings, "prevalence", "prevalence settings", notices).and_then(|p| p.fit_columns(columns, notices)) {
        Some(params) => ask(state, params),
        None => panel.prevalence.reset(),
    }
    match take_setting::<ImpactParams>(settings, "impact", "impact settings", notices).and_then(|p| p.fit_columns(columns, notices)) {
        Some(params) => {
            panel.draft.set(impact::Draft::of(&params));
            panel.impact.request(params);
        }
        None => {
            panel.draft.set(impact::Draft::default());
            panel.impact.reset();
        }
    }
    match take_setting::<ObjectiveParams>(settings, "objective", "objective settings", notices).and_then(|p| p.fit_columns(columns, notices)) {
        Some(params) => {
            panel.objective_draft.set(objective::Draft::of(&params));
            panel.objective.request(params);
        }
        None => {
            panel.objective_draft.set(objective::Draft::default());
            panel.objective.reset();
        }
    }
}

/// Estimates with `params` over the current view.
fn ask(state: AppState, params: PrevalenceParams) {
    let panel = MeasurePanel::get();
    panel.asked_at.set(Some(state.view_version.get_untracked()));
    panel.prevalence.request(params);
}

/// Changes the settings on screen and estimates again.
fn change(state: AppState, update: impl FnOnce(&mut PrevalenceParams)) {
    if let Some(mut params) = MeasurePanel::get().prevalence.params.get_untracked() {
        update(&mut params);
        ask(state, params);
    }
}

/// The settings a first visit starts from: the label chosen in the Profile tab (or guessed),
/// a simple sample, per period over the first timestamp column.
fn first_settings(state: AppState, columns: &[ColumnSummary]) -> Option<PrevalenceParams> {
    let label = state.chosen_label()?;
    let time = columns.iter().find(|c| c.kind == ColumnType::Timestamp).map(|c| c.name.clone());
    Some(PrevalenceParams { time, ..PrevalenceParams::of(label) })
}

fn names(columns: &[ColumnSummary], keep: impl Fn(&ColumnSummary) -> bool) -> Vec<String> {
    columns.iter().filter(|c| keep(c)).map(|c| c.name.clone()).collect()
}

/// A number for reading: a few significant digits, trailing zeros dropped.
fn readable(v: f64) -> String {
    let digits = match v.abs() {
        // Whole, with thousands separators: "2,484".
        a if a >= 100.0 => return crate::format::format_value(v.round()),
        a if a >= 10.0 => 1,
        a if a >= 1.0 => 2,
        _ => 3,
    };
    let text = format!("{v:.digits$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

/// Empty is none.
fn chosen(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

#[component]
pub fn MeasureTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let panel = MeasurePanel::get();
    let job = panel.prevalence;
    // A new filter (or first visit, or a new table): estimate again.
    Effect::new(move |_| {
        let version = state.view_version.get();
        let Some(columns) = state.summary.with(|s| s.as_ref().map(|s| s.columns.clone())) else { return };
        let params = job.params.get_untracked().or_else(|| first_settings(state, &columns));
        if let Some(params) = params {
            if panel.asked_at.get_untracked() != Some(version) || job.result.with_untracked(Option::is_none) && !job.is_running() {
                ask(state, params);
            }
        }
    });
    // Whether settings exist, not which: a change of setting keeps the estimate on screen
    // (ticked boxes stay as clicked) until the new one arrives.
    let asked = Memo::new(move |_| job.params.with(Option::is_some));
    move || {
        let Some(columns) = state.summary.with(|s| s.as_ref().map(|s| s.columns.clone())) else {
            return view! { <section class="panel"><p>"Load data to measure prevalence."</p></section> }.into_any();
        };
        let columns_for_impact = columns.clone();
        let columns_for_objective = columns.clone();
        view! {
            <section class="panel" data-testid="prevalence">
                <div class="panel-head">
                    <h2>"Prevalence"</h2>
                    <p class="muted small">"The share of content (or of its views) that violates, estimated from a labelled sample with its confidence interval."</p>
                </div>
                <Controls columns=columns/>
                {move || match (asked.get().then_some(()), job.result.get()) {
                    (None, _) => view! { <p class="muted" data-testid="prevalence-empty">"Choose the label column: the reviewers' decisions on a sample of content."</p> }.into_any(),
                    (Some(_), None) => view! {
                        <JobProgress running=Signal::derive(move || job.running.get()) on_cancel=Callback::new(move |()| job.cancel()) testid="prevalence-pending" cancel_testid="prevalence-cancel" idle="Estimating"/>
                    }.into_any(),
                    (Some(_), Some(Err(err))) => view! { <p class="problem" data-testid="prevalence-error">{format!("Cannot estimate prevalence: {err}.")}</p> }.into_any(),
                    (Some(_), Some(Ok(report))) => view! {
                        <JobProgress running=Signal::derive(move || job.running.get()) on_cancel=Callback::new(move |()| job.cancel()) testid="prevalence-pending" cancel_testid="prevalence-cancel" idle="Estimating"/>
                        <results::PrevalenceResults report=report/>
                    }.into_any(),
                }}
            </section>
            <objective::ObjectiveSection columns=columns_for_objective/>
            <impact::ImpactSection columns=columns_for_impact/>
        }
        .into_any()
    }
}

/// The settings: label and positive classes, the design, the breakdowns, the interval and the
/// planner's target.
#[component]
fn Controls(columns: Vec<ColumnSummary>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let job = MeasurePanel::get().prevalence;
    let labels = names(&columns, |c| matches!(c.kind, ColumnType::Category | ColumnType::Boolean | ColumnType::Integer));
    let groups = names(&columns, |c| matches!(c.kind, ColumnType::Category | ColumnType::Boolean | ColumnType::Integer | ColumnType::Identifier));
    let numbers = names(&columns, |c| matches!(c.kind, ColumnType::Integer | ColumnType::Float));
    let times = names(&columns, |c| c.kind == ColumnType::Timestamp);
    move || {
        let params = job.params.get();
        let p = params.clone();
        let get = move |f: fn(&PrevalenceParams) -> Option<String>| p.as_ref().and_then(f);
        let (design_kind, design_column) = match params.as_ref().map(|p| &p.design) {
            Some(Design::Population(c)) => ("population", Some(c.clone())),
            Some(Design::Probability(c)) => ("probability", Some(c.clone())),
            _ => ("simple", None),
        };
        let confidence = params.as_ref().map_or(0.95, |p| p.confidence);
        let interval = params.as_ref().map_or(Interval::Wilson, |p| p.interval);
        let margin = params.as_ref().and_then(|p| p.target_margin).map(|m| format!("{}", (m * 1e4).round() / 100.0)).unwrap_or_default();
        let set_design = move |kind: String, column: Option<String>| {
            change(state, |p| {
                p.design = match (kind.as_str(), column) {
                    ("population", Some(c)) => Design::Population(c),
                    ("probability", Some(c)) => Design::Probability(c),
                    _ => Design::Simple,
                };
            })
        };
        let numbers_for_design = numbers.clone();
        let design_kind_now = design_kind.to_string();
        view! {
            <div class="editor-row measure-controls" data-testid="prevalence-controls">
                <label>"label "
                    <select aria-label="Label column" data-testid="prevalence-label" on:change=move |e| {
                        match chosen(event_target_value(&e)) {
                            Some(column) => {
                                let label = LabelSpec { column, positive: Vec::new() };
                                match job.params.get_untracked() {
                                    Some(_) => change(state, |p| p.label = label),
                                    None => ask(state, PrevalenceParams::of(label)),
                                }
                            }
                            None => job.reset(),
                        }
                    }>
                        {name_options(labels.clone(), params.as_ref().map(|p| p.label.column.clone()), Some("choose…"))}
                    </select>
                </label>
                <label title="Strata the sample was drawn in (a score band, a queue)">"stratum "
                    <select aria-label="Stratum column" data-testid="prevalence-stratum" on:change=move |e| { let v = chosen(event_target_value(&e)); change(state, |p| { p.stratum = v; if p.stratum.is_none() && matches!(p.design, Design::Population(_)) { p.design = Design::Simple } }) }>
                        {name_options(groups.clone(), get(|p| p.stratum.clone()), Some("(none)"))}
                    </select>
                </label>
                <label title="How the labelled rows were drawn">"sample "
                    <select aria-label="Sampling design" data-testid="prevalence-design" on:change=move |e| {
                        let kind = event_target_value(&e);
                        let column = numbers_for_design.first().cloned();
                        set_design(kind, column)
                    }>
                        <option value="simple" selected=design_kind == "simple">"simple random"</option>
                        <option value="population" selected=design_kind == "population" disabled=params.as_ref().is_none_or(|p| p.stratum.is_none())>"stratified, population per stratum"</option>
                        <option value="probability" selected=design_kind == "probability">"inclusion probability per row"</option>
                    </select>
                </label>
                {(design_kind != "simple").then(|| view! {
                    <label>{if design_kind == "population" { "population in " } else { "probability in " }}
                        <select aria-label="Design column" data-testid="prevalence-design-column" on:change=move |e| set_design(design_kind_now.clone(), chosen(event_target_value(&e)))>
                            {name_options(numbers.clone(), design_column.clone(), None)}
                        </select>
                    </label>
                })}
                <label title="Views of each item: estimate the share of views that are violating">"views "
                    <select aria-label="Views column" data-testid="prevalence-views" on:change=move |e| { let v = chosen(event_target_value(&e)); change(state, |p| p.views = v) }>
                        {name_options(numbers.clone(), get(|p| p.views.clone()), Some("(count items)"))}
                    </select>
                </label>
                <label>"over "
                    <select aria-label="Time column" data-testid="prevalence-time" on:change=move |e| { let v = chosen(event_target_value(&e)); change(state, |p| p.time = v) }>
                        {name_options(times.clone(), get(|p| p.time.clone()), Some("(no time)"))}
                    </select>
                </label>
                <label>"by "
                    <select aria-label="Breakdown column" data-testid="prevalence-by-column" on:change=move |e| { let v = chosen(event_target_value(&e)); change(state, |p| p.by = v) }>
                        {name_options(groups.clone(), get(|p| p.by.clone()), Some("(none)"))}
                    </select>
                </label>
                <label>"confidence "
                    <select aria-label="Confidence" data-testid="prevalence-confidence" on:change=move |e| { if let Ok(c) = event_target_value(&e).parse::<f64>() { change(state, |p| p.confidence = c) } }>
                        {[0.9, 0.95, 0.99].into_iter().map(|c| view! { <option value=c.to_string() selected=(c - confidence).abs() < 1e-9>{format!("{:.0} %", c * 100.0)}</option> }).collect_view()}
                    </select>
                </label>
                <label title="The interval of a simple sample (a stratified or weighted sample uses the design's)">"interval "
                    <select aria-label="Interval" data-testid="prevalence-interval" on:change=move |e| {
                        let chosen = match event_target_value(&e).as_str() { "clopper_pearson" => Interval::ClopperPearson, "jeffreys" => Interval::Jeffreys, _ => Interval::Wilson };
                        change(state, |p| p.interval = chosen)
                    }>
                        {[(Interval::Wilson, "wilson"), (Interval::ClopperPearson, "clopper_pearson"), (Interval::Jeffreys, "jeffreys")].into_iter().map(|(i, v)| view! { <option value=v selected=i == interval>{i.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label title="The planner: labels needed for an interval of ± this many percentage points">"target ± "
                    <input type="number" class="narrow" min="0.001" max="50" step="0.1" placeholder="points" data-testid="prevalence-target" prop:value=margin
                        on:change=move |e| { let v = event_target_value(&e).parse::<f64>().ok().filter(|v| *v > 0.0 && *v <= 50.0).map(|v| v / 100.0); change(state, |p| p.target_margin = v) }/>
                    " pts"
                </label>
            </div>
        }
    }
}
