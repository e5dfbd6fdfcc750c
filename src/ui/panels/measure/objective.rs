//! Objectives in the Measure tab: where the prevalence (or a metric) is heading by a due date
//! at the current trend, with its 80 % interval, and what a target would take beyond it.

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;

use super::{readable, MeasurePanel};
use crate::analysis::objective::{ObjectiveParams, ObjectiveReport, ObjectiveSource};
use crate::analysis::series::{Granularity, Metric};
use crate::data::table::ColumnType;
use crate::data::time::{format_date_ms, parse_timestamp_text};
use crate::format::{compact_number, format_count, format_rate};
use crate::plot::timeseries::draw_counterfactual_panel;
use crate::protocol::ColumnSummary;
use crate::ui::chart::{period_chart, theme};
use crate::ui::controls::name_options;
use crate::ui::export::Exportable;
use crate::ui::jobs::JobProgress;
use crate::ui::state::AppState;

/// The objective's settings on screen, complete or not.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Draft {
    /// "prevalence" (the settings above), "count", "sum" or "mean".
    pub source: &'static str,
    pub time: Option<String>,
    pub metric_column: Option<String>,
    pub weekly: bool,
    pub by_ms: Option<i64>,
    pub target: Option<f64>,
}

impl Draft {
    fn params(&self) -> Option<ObjectiveParams> {
        let source = match self.source {
            "prevalence" => ObjectiveSource::Prevalence(MeasurePanel::get().prevalence.params.get_untracked().filter(|p| p.time.is_some())?),
            kind => {
                let metric = match (kind, self.metric_column.clone()) {
                    ("sum", Some(column)) => Metric::Sum { column },
                    ("mean", Some(column)) => Metric::Mean { column },
                    ("count", _) => Metric::Count,
                    _ => return None,
                };
                ObjectiveSource::Metric { time_column: self.time.clone()?, metric, granularity: if self.weekly { Granularity::Week } else { Granularity::Day } }
            }
        };
        Some(ObjectiveParams { source, by_ms: self.by_ms?, target: self.target })
    }

    pub(super) fn of(params: &ObjectiveParams) -> Self {
        let (source, time, metric_column, weekly) = match &params.source {
            ObjectiveSource::Prevalence(_) => ("prevalence", None, None, false),
            ObjectiveSource::Metric { time_column, metric, granularity } => {
                let (kind, column) = match metric {
                    Metric::Sum { column } => ("sum", Some(column.clone())),
                    Metric::Mean { column } => ("mean", Some(column.clone())),
                    _ => ("count", None),
                };
                (kind, Some(time_column.clone()), column, *granularity == Granularity::Week)
            }
        };
        Self { source, time, metric_column, weekly, by_ms: Some(params.by_ms), target: params.target }
    }
}

/// Runs the objective when the draft is complete (again when the prevalence settings change).
pub(super) fn apply(draft: Draft) {
    let panel = MeasurePanel::get();
    match draft.params() {
        Some(params) if panel.objective.params.get_untracked().as_ref() != Some(&params) || panel.objective.result.with_untracked(Option::is_none) => panel.objective.request(params),
        Some(_) => {}
        None => panel.objective.reset(),
    }
    panel.objective_draft.set(draft);
}

#[component]
pub(super) fn ObjectiveSection(columns: Vec<ColumnSummary>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let panel = MeasurePanel::get();
    let job = panel.objective;
    let draft = panel.objective_draft;
    let times: Vec<String> = columns.iter().filter(|c| c.kind == ColumnType::Timestamp).map(|c| c.name.clone()).collect();
    let numbers: Vec<String> = columns.iter().filter(|c| matches!(c.kind, ColumnType::Integer | ColumnType::Float) && !state.is_weight(&c.name)).map(|c| c.name.clone()).collect();
    if draft.with_untracked(|d| d.source.is_empty()) {
        draft.update(|d| {
            d.source = "prevalence";
            d.time = times.first().cloned();
        });
    }
    // The prevalence's settings changed above: project the new estimate.
    Effect::new(move |_| {
        let prevalence = panel.prevalence.params.get();
        let d = draft.get_untracked();
        if d.source == "prevalence" && prevalence.is_some() {
            apply(d);
        }
    });
    let edit = move |change: &dyn Fn(&mut Draft)| {
        let mut next = draft.get_untracked();
        change(&mut next);
        apply(next);
    };
    let controls = move || {
        let d = draft.get();
        let date = d.by_ms.map(format_date_ms).unwrap_or_default();
        let target = d.target.map(|t| if d.source == "prevalence" { format!("{}", (t * 1e6).round() / 1e4) } else { format!("{t}") }).unwrap_or_default();
        let is_rate = d.source == "prevalence";
        view! {
            <div class="editor-row measure-controls" data-testid="objective-controls">
                <label>"of "
                    <select aria-label="Objective metric" data-testid="objective-source" on:change=move |e| { let v = event_target_value(&e); edit(&|d| { d.source = match v.as_str() { "count" => "count", "sum" => "sum", "mean" => "mean", _ => "prevalence" }; d.target = None; }) }>
                        <option value="prevalence" selected=d.source == "prevalence">"prevalence (as set above)"</option>
                        <option value="count" selected=d.source == "count">"events"</option>
                        <option value="sum" selected=d.source == "sum">"sum of"</option>
                        <option value="mean" selected=d.source == "mean">"mean of"</option>
                    </select>
                </label>
                {matches!(d.source, "sum" | "mean").then(|| view! {
                    <select aria-label="Objective column" data-testid="objective-column" on:change=move |e| { let v = event_target_value(&e); edit(&|d| d.metric_column = (!v.is_empty()).then(|| v.clone())) }>
                        {name_options(numbers.clone(), d.metric_column.clone(), Some("choose…"))}
                    </select>
                })}
                {(!is_rate).then(|| view! {
                    <label>"over "
                        <select aria-label="Objective time column" data-testid="objective-time" on:change=move |e| { let v = event_target_value(&e); edit(&|d| d.time = (!v.is_empty()).then(|| v.clone())) }>
                            {name_options(times.clone(), d.time.clone(), None)}
                        </select>
                    </label>
                    <label>"per "
                        <select aria-label="Objective period" data-testid="objective-period" on:change=move |e| { let weekly = event_target_value(&e) == "week"; edit(&|d| d.weekly = weekly) }>
                            <option value="day" selected=!d.weekly>"day"</option>
                            <option value="week" selected=d.weekly>"week"</option>
                        </select>
                    </label>
                })}
                <label title="The day the objective is due (UTC)">"due "
                    <input type="date" data-testid="objective-date" prop:value=date on:change=move |e| { let ms = parse_timestamp_text(&event_target_value(&e)); edit(&|d| d.by_ms = ms) }/>
                </label>
                <label title="The value the team wants to reach by then">"target "
                    <input type="number" class="narrow" step="any" data-testid="objective-target" placeholder=if is_rate { "%" } else { "value" } prop:value=target on:change=move |e| {
                        let v = event_target_value(&e).parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| if is_rate { v / 100.0 } else { v });
                        edit(&|d| d.target = v)
                    }/>
                    {is_rate.then_some(" %")}
                </label>
            </div>
        }
    };
    view! {
        <section class="panel" data-testid="objective">
            <div class="panel-head">
                <h2>"Objective"</h2>
                <p class="muted small">"Where the current trend leads by a due date (the Trends tab's forecast, 80 % interval), and what a target would take beyond it."</p>
            </div>
            {controls}
            {move || match (job.params.with(Option::is_some), job.result.get()) {
                (false, _) => view! { <p class="muted" data-testid="objective-empty">{move || if draft.with(|d| d.source == "prevalence") && MeasurePanel::get().prevalence.params.with(|p| p.as_ref().is_none_or(|p| p.time.is_none())) { "Set the prevalence's time column above, then choose the due date." } else { "Choose the due date (and a target, to see what it takes)." }}</p> }.into_any(),
                (true, None) => view! {
                    <JobProgress running=Signal::derive(move || job.running.get()) on_cancel=Callback::new(move |()| job.cancel()) testid="objective-pending" cancel_testid="objective-cancel" idle="Projecting"/>
                }.into_any(),
                (true, Some(Err(err))) => view! { <p class="problem" data-testid="objective-error">{format!("Cannot project the objective: {err}.")}</p> }.into_any(),
                (true, Some(Ok(report))) => view! { <ObjectiveResults report=report/> }.into_any(),
            }}
        </section>
    }
}

/// A value in a sentence: whole numbers with separators from 1,000, else three significant digits.
fn precise(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    if v.abs() >= 1000.0 {
        let whole = format_count(v.abs().round() as u64);
        return if v < 0.0 { format!("-{whole}") } else { whole };
    }
    readable(v)
}

#[component]
fn ObjectiveResults(report: Arc<ObjectiveReport>) -> impl IntoView {
    let is_rate = report.label.starts_with("prevalence");
    let show = move |v: f64| if is_rate { format_rate(v) } else { precise(v) };
    let signed = move |v: f64| crate::format::with_sign(v, show(v));
    let p = report.projection.clone();
    let due = format_date_ms(report.by_ms);
    let headline = format!("by {due} at the current trend (80 %: {} – {})", show(p.lower80), show(p.upper80));
    let target_text = report.target.zip(report.needed.clone()).map(|(t, n)| {
        let chance = p.probability.map(|q| format!(" The trend alone gets there with probability {}.", format_rate(q))).unwrap_or_default();
        if n.within_reach {
            format!("The target {} is within the trend's 80 % interval: achievable without an intervention, if the trend holds.{chance}", show(t))
        } else {
            let relative = n.relative.map(|r| format!(" ({} of the projected value)", crate::format::with_sign(r, format_rate(r)))).unwrap_or_default();
            let scale = MeasurePanel::get()
                .impact
                .result
                .with_untracked(|r| r.as_ref().and_then(|r| r.as_ref().ok()).and_then(|i| i.counterfactual.as_ref().map(|c| c.average.relative.mean)))
                .map(|e| format!(" For scale, the launch measured below moved its metric by {}.", crate::format::with_sign(e, format_rate(e))))
                .unwrap_or_default();
            // A rate's gap is in percentage points; its relative size in per cent.
            let gap = if is_rate { format!("{} points", crate::format::format_signed(n.absolute * 100.0, 1)) } else { signed(n.absolute) };
            format!("Reaching {} by {due} takes an intervention worth {gap}{relative} beyond the trend.{chance}{scale}", show(t))
        }
    });
    let notes = report.notes.clone();
    view! {
        <div class="measure-results">
            <p class="headline" data-testid="objective-projection"><strong class="big">{show(p.value)}</strong>{format!(" {}", report.label)}" "{headline}</p>
            {target_text.map(|t| view! { <p data-testid="objective-needed">{t}</p> })}
            <ObjectiveChart report=report.clone()/>
            {(!notes.is_empty()).then(|| view! { <ul class="notices">{notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul> })}
        </div>
    }
}

#[component]
fn ObjectiveChart(report: Arc<ObjectiveReport>) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let hover = RwSignal::new(None::<usize>);
    let problem = RwSignal::new(None::<String>);
    let history = report.starts_ms.len();
    let x: Arc<Vec<f64>> = Arc::new(report.starts_ms.iter().chain(&report.forecast_starts_ms).map(|&s| s as f64).collect());
    let pad = |future: &[f64]| -> Vec<f64> { std::iter::repeat_n(f64::NAN, history).chain(future.iter().copied()).collect() };
    let actual: Arc<Vec<f64>> = Arc::new(report.values.iter().copied().chain(std::iter::repeat_n(f64::NAN, report.forecast.len())).collect());
    let bands = Arc::new([pad(&report.forecast), pad(&report.lower80), pad(&report.upper80)]);
    let first_forecast = report.forecast_starts_ms.first().map_or(f64::NAN, |&s| s as f64);
    let is_rate = report.label.starts_with("prevalence");
    let target = report.target;
    let (ad, bd) = (actual.clone(), bands.clone());
    let on_move = period_chart(canvas, x.clone(), hover, problem, move |area, xd, hovered| {
        let [e, l, h] = &*bd;
        let y_label = move |v: f64| if is_rate { format_rate(v) } else { compact_number(v) };
        draw_counterfactual_panel(area, xd, Some(&ad), (e, l, h), first_forecast, false, target, theme(), hovered, &|v| format_date_ms(v as i64), &y_label).map_err(|e| e.to_string())
    });
    let readout = move || {
        let i = hover.get()?;
        let show = |v: f64| if is_rate { format_rate(v) } else { precise(v) };
        let when = format_date_ms(*x.get(i)? as i64);
        if i < history {
            Some(format!("{when}: {}", actual.get(i).filter(|v| v.is_finite()).map_or("no value".into(), |&v| show(v))))
        } else {
            Some(format!("{when}: forecast {} (80 %: {} – {})", show(bands[0][i]), show(bands[1][i]), show(bands[2][i])))
        }
    };
    view! {
        <p class="muted small"><span class="swatch line-actual"></span>" per period · "<span class="swatch line-predicted"></span>" the trend's forecast, "<span class="swatch band"></span>" 80 % interval"
            {target.map(|_| view! { " · "<span class="swatch line-target"></span>" the target" })}</p>
        <div class="chart">
            <Exportable name="objective-chart" title="The trend's projection to the due date">
                <canvas node_ref=canvas data-testid="objective-chart" style="height: 180px" on:mousemove=on_move on:mouseleave=move |_| hover.set(None)></canvas>
            </Exportable>
            <div class="chart-readout muted" data-testid="objective-readout">{move || readout().unwrap_or_else(|| "\u{a0}".into())}</div>
        </div>
        {move || problem.get().map(|p| view! { <p class="problem">"Chart could not be drawn: " {p}</p> })}
    }
}
