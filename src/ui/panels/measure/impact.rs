//! The impact of a launch, in the Measure tab: choose the metric, the column whose values are
//! the groups, which groups the launch reached and when; read the difference in differences
//! with its interval, the treated and control means per period around the launch, each group
//! before and after, and whether they moved alike before.

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;

use super::{readable, MeasurePanel};
use crate::analysis::bsts::{Band, BstsSettings, Counterfactual};
use crate::analysis::impact::{ImpactParams, ImpactReport};
use crate::analysis::series::{Granularity, Metric, MAX_SPLIT};
use crate::data::table::ColumnType;
use crate::data::time::{format_date_ms, parse_timestamp_text};
use crate::format::{capitalise, compact_number, format_rate};
use crate::plot::timeseries::{draw_counterfactual_panel, draw_lines_with_marker};
use crate::protocol::{ColumnSummary, Request};
use crate::ui::chart::{period_chart, theme};
use crate::ui::client::send;
use crate::ui::controls::name_options;
use crate::ui::export::{ExportKind, Exportable};
use crate::ui::jobs::JobProgress;
use crate::ui::state::{AppState, Intent};

/// The settings on screen, complete or not (no treated group yet, no date).
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Draft {
    pub time: Option<String>,
    /// "count", "sum", "mean", or "other" (`other`: a metric brought from Trends).
    pub metric: &'static str,
    pub other: Option<Metric>,
    pub metric_column: Option<String>,
    pub weekly: bool,
    pub split: Option<String>,
    pub treated: Vec<String>,
    /// The control groups; empty: every value not treated.
    pub control: Vec<String>,
    pub intervention_ms: Option<i64>,
    /// The Bayesian structural time-series counterfactual, and its weekly cycle (daily periods).
    pub counterfactual: bool,
    pub weekly_cycle: bool,
}

impl Draft {
    /// The analysis's parameters, once every choice is made.
    fn params(&self) -> Option<ImpactParams> {
        let metric = match (self.metric, self.metric_column.clone()) {
            ("sum", Some(column)) => Metric::Sum { column },
            ("mean", Some(column)) => Metric::Mean { column },
            ("count", _) | ("", _) => Metric::Count,
            ("other", _) => self.other.clone()?,
            _ => return None,
        };
        if self.treated.is_empty() {
            return None;
        }
        Some(ImpactParams {
            time_column: self.time.clone()?,
            metric,
            granularity: if self.weekly { Granularity::Week } else { Granularity::Day },
            split: self.split.clone()?,
            treated: self.treated.clone(),
            control: self.control.clone(),
            intervention_ms: self.intervention_ms?,
            counterfactual: self.counterfactual.then(|| BstsSettings { seasons: if !self.weekly && self.weekly_cycle { 7 } else { 0 }, ..BstsSettings::default() }),
        })
    }

    /// The draft of settings read from a link.
    pub(super) fn of(params: &ImpactParams) -> Self {
        let (metric, metric_column, other) = match &params.metric {
            Metric::Sum { column } => ("sum", Some(column.clone()), None),
            Metric::Mean { column } => ("mean", Some(column.clone()), None),
            Metric::Count => ("count", None, None),
            m => ("other", None, Some(m.clone())),
        };
        Self {
            time: Some(params.time_column.clone()),
            metric,
            metric_column,
            other,
            weekly: params.granularity == Granularity::Week,
            split: Some(params.split.clone()),
            treated: params.treated.clone(),
            control: params.control.clone(),
            intervention_ms: Some(params.intervention_ms),
            counterfactual: params.counterfactual.is_some(),
            weekly_cycle: params.counterfactual.as_ref().is_some_and(|c| c.seasons == 7),
        }
    }
}

/// Takes Trends' "Measure a launch from here": its time column, metric, periods and split, and
/// the marked window's start as the launch; the treated groups are left to choose.
pub(super) fn take_intents(state: AppState) {
    Effect::new(move |_| {
        if let Some(Intent::MeasureLaunch { time_column, metric, weekly, split, intervention_ms }) = state.intent.get() {
            state.intent.set(None);
            let panel = MeasurePanel::get();
            let mut next = panel.draft.get_untracked();
            // Never opened: the section's defaults first.
            if next.time.is_none() {
                next.counterfactual = true;
                next.weekly_cycle = true;
            }
            next.time = Some(time_column);
            (next.metric, next.metric_column, next.other) = match metric {
                Metric::Count => ("count", None, None),
                Metric::Sum { column } => ("sum", Some(column), None),
                Metric::Mean { column } => ("mean", Some(column), None),
                other => ("other", None, Some(other)),
            };
            next.weekly = weekly;
            if split.is_some() && split != next.split {
                next.split = split;
                next.treated.clear();
                next.control.clear();
            }
            next.intervention_ms = Some(intervention_ms);
            apply(next);
            state.tab.set(super::TAB.slug);
        }
    });
}

/// The split column's values (most frequent first), once the worker has listed them.
fn split_values(state: AppState, split: Option<&str>) -> Vec<String> {
    state.column_values.with(|cv| cv.as_ref().filter(|cv| Some(cv.column.as_str()) == split).map(|cv| cv.values.iter().map(|(v, _)| v.clone()).collect()).unwrap_or_default())
}

/// Runs the analysis when the draft is complete.
fn apply(draft: Draft) {
    let panel = MeasurePanel::get();
    match draft.params() {
        Some(params) if panel.impact.params.get_untracked().as_ref() != Some(&params) || panel.impact.result.with_untracked(Option::is_none) => panel.impact.request(params),
        Some(_) => {}
        None => panel.impact.reset(),
    }
    panel.draft.set(draft);
}

#[component]
pub(super) fn ImpactSection(columns: Vec<ColumnSummary>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let panel = MeasurePanel::get();
    let job = panel.impact;
    let draft = panel.draft;
    let times: Vec<String> = columns.iter().filter(|c| c.kind == ColumnType::Timestamp).map(|c| c.name.clone()).collect();
    let numbers: Vec<String> = columns.iter().filter(|c| matches!(c.kind, ColumnType::Integer | ColumnType::Float) && !state.is_weight(&c.name)).map(|c| c.name.clone()).collect();
    let groups: Vec<String> = columns.iter().filter(|c| matches!(c.kind, ColumnType::Category | ColumnType::Boolean)).map(|c| c.name.clone()).collect();
    if draft.with_untracked(|d| d.time.is_none()) {
        draft.update(|d| {
            d.time = times.first().cloned();
            d.metric = "count";
            d.counterfactual = true;
            d.weekly_cycle = true;
        });
    }
    // The split column's values, for the roles.
    Effect::new(move |_| {
        if let Some(split) = draft.with(|d| d.split.clone()) {
            if state.column_values.with_untracked(|cv| cv.as_ref().is_none_or(|cv| cv.column != split)) {
                send(Request::ColumnValues { column: split, limit: 50 }, None);
            }
        }
    });
    let edit = move |change: &dyn Fn(&mut Draft)| {
        let mut next = draft.get_untracked();
        change(&mut next);
        apply(next);
    };
    let controls = move || {
        let d = draft.get();
        let numbers = numbers.clone();
        let date = d.intervention_ms.map(format_date_ms).unwrap_or_default();
        view! {
            <div class="editor-row measure-controls" data-testid="impact-controls">
                <label>"over "
                    <select aria-label="Time column" data-testid="impact-time" on:change=move |e| { let v = event_target_value(&e); edit(&|d| d.time = (!v.is_empty()).then(|| v.clone())) }>
                        {name_options(times.clone(), d.time.clone(), None)}
                    </select>
                </label>
                <label>"metric "
                    <select aria-label="Metric" data-testid="impact-metric" on:change=move |e| { let v = event_target_value(&e); edit(&|d| d.metric = match v.as_str() { "sum" => "sum", "mean" => "mean", "other" if d.other.is_some() => "other", _ => "count" }) }>
                        <option value="count" selected=d.metric == "count">"events"</option>
                        <option value="sum" selected=d.metric == "sum">"sum of"</option>
                        <option value="mean" selected=d.metric == "mean">"mean of"</option>
                        {d.other.as_ref().map(|m| view! { <option value="other" selected=d.metric == "other">{format!("{} (as in Trends)", m.describe())}</option> })}
                    </select>
                </label>
                {matches!(d.metric, "sum" | "mean").then(|| view! {
                    <select aria-label="Metric column" data-testid="impact-metric-column" on:change=move |e| { let v = event_target_value(&e); edit(&|d| d.metric_column = (!v.is_empty()).then(|| v.clone())) }>
                        {name_options(numbers.clone(), d.metric_column.clone(), Some("choose…"))}
                    </select>
                })}
                <label>"per "
                    <select aria-label="Period" data-testid="impact-period" on:change=move |e| { let weekly = event_target_value(&e) == "week"; edit(&|d| d.weekly = weekly) }>
                        <option value="day" selected=!d.weekly>"day"</option>
                        <option value="week" selected=d.weekly>"week"</option>
                    </select>
                </label>
                <label title="The column whose values the launch reached or not: countries, surfaces">"groups "
                    <select aria-label="Group column" data-testid="impact-split" on:change=move |e| { let v = event_target_value(&e); edit(&|d| { d.split = (!v.is_empty()).then(|| v.clone()); d.treated.clear(); d.control.clear(); }) }>
                        {name_options(groups.clone(), d.split.clone(), Some("choose…"))}
                    </select>
                </label>
                <label title="The first day with the launch in effect (UTC)">"launched on "
                    <input type="date" data-testid="impact-date" prop:value=date on:change=move |e| {
                        let ms = parse_timestamp_text(&event_target_value(&e));
                        edit(&|d| d.intervention_ms = ms)
                    }/>
                </label>
            </div>
            <div class="editor-row measure-controls">
                <label title="A Bayesian structural time-series model of the treated groups before the launch, with the control groups as regressors (CausalImpact), predicts what they would have done without it">
                    <input type="checkbox" data-testid="impact-counterfactual" prop:checked=d.counterfactual on:change=move |e| { let on = event_target_checked(&e); edit(&|d| d.counterfactual = on) }/>
                    " counterfactual (Bayesian structural time series)"
                </label>
                {(d.counterfactual && !d.weekly).then(|| view! {
                    <label title="Model a cycle of 7 days (most safety metrics differ between weekdays and weekends)">
                        <input type="checkbox" data-testid="impact-weekly-cycle" prop:checked=d.weekly_cycle on:change=move |e| { let on = event_target_checked(&e); edit(&|d| d.weekly_cycle = on) }/>
                        " weekly cycle"
                    </label>
                })}
            </div>
            <Roles/>
        }
    };
    view! {
        <section class="panel" data-testid="impact">
            <div class="panel-head">
                <h2>"Impact of a launch"</h2>
                <p class="muted small">"Difference in differences: the change in the groups the launch reached, beyond the change in the groups it did not."</p>
            </div>
            {controls}
            {move || match (job.params.with(Option::is_some), job.result.get()) {
                (false, _) => view! { <p class="muted" data-testid="impact-empty">"Choose the groups column, mark the groups the launch reached, and the day it took effect."</p> }.into_any(),
                (true, None) => view! {
                    <JobProgress running=Signal::derive(move || job.running.get()) on_cancel=Callback::new(move |()| job.cancel()) testid="impact-pending" cancel_testid="impact-cancel" idle="Estimating the effect"/>
                }.into_any(),
                (true, Some(Err(err))) => view! { <p class="problem" data-testid="impact-error">{format!("Cannot estimate the impact: {err}.")}</p> }.into_any(),
                (true, Some(Ok(report))) => view! { <ImpactResults report=report/> }.into_any(),
            }}
        </section>
    }
}

/// Each value of the group column: treated, control or left out.
#[component]
fn Roles() -> impl IntoView {
    let state = expect_context::<AppState>();
    let draft = MeasurePanel::get().draft;
    move || {
        let d = draft.get();
        let split = d.split.clone()?;
        let values = split_values(state, Some(&split));
        if values.is_empty() {
            return Some(view! { <p class="muted small">"Listing the values…"</p> }.into_any());
        }
        let shown = values.len().min(MAX_SPLIT * 4);
        Some(
            view! {
                <div class="class-choices" data-testid="impact-roles">
                    <span class="muted small">{format!("each value of “{split}”: ")}</span>
                    {values.iter().take(shown).map(|value| {
                        let role = if d.treated.contains(value) { "treated" } else if d.control.is_empty() || d.control.contains(value) { "control" } else { "out" };
                        let name = value.clone();
                        let all = values.clone();
                        view! {
                            <label class="class-choice">{value.clone()}" "
                                <select aria-label=format!("Role of {value}") data-testid="impact-role" data-value=value.clone() on:change=move |e| {
                                    let role = event_target_value(&e);
                                    let mut next = draft.get_untracked();
                                    // Leaving one out names every control group explicitly.
                                    if role == "out" && next.control.is_empty() {
                                        next.control = all.iter().filter(|v| !next.treated.contains(v)).cloned().collect();
                                    }
                                    next.treated.retain(|v| *v != name);
                                    next.control.retain(|v| *v != name);
                                    match role.as_str() {
                                        "treated" => next.treated.push(name.clone()),
                                        "control" if !next.control.is_empty() => next.control.push(name.clone()),
                                        _ => {}
                                    }
                                    apply(next);
                                }>
                                    <option value="control" selected=role == "control">"control"</option>
                                    <option value="treated" selected=role == "treated">"treated"</option>
                                    <option value="out" selected=role == "out">"left out"</option>
                                </select>
                            </label>
                        }
                    }).collect_view()}
                </div>
            }
            .into_any(),
        )
    }
}

#[component]
fn ImpactResults(report: Arc<ImpactReport>) -> impl IntoView {
    let d = report.did.clone();
    let (groups, notes) = (report.groups.clone(), report.notes.clone());
    let per = if report.granularity == Granularity::Week { "week" } else { "day" };
    let p_text = if d.p_value < 0.001 { "p < 0.001".to_string() } else { format!("p = {:.3}", d.p_value) };
    let relative = d.relative.map(|r| format!(" ({} against where the treated groups would be without it)", signed_rate(r))).unwrap_or_default();
    let significance = if d.p_value < 0.05 { "unlikely to be chance" } else { "could be chance" };
    let summary = format!(
        "{} changed by {} per {per} in the treated groups beyond the change in the control groups{relative}; 95 % interval {} to {}, {p_text} ({significance}; t with {} degrees of freedom, errors clustered by group, {} groups × periods).",
        capitalise(&report.metric_label),
        signed(d.effect),
        signed(d.low),
        signed(d.high),
        d.df,
        d.observations
    );
    let trend = report.pre_trend.as_ref().map(|p| {
        // No evidence of a trend is not evidence of none: with few periods only a steep one shows.
        let verdict = match (p.p_value < 0.05, p.periods < PRE_PERIODS_FOR_TREND) {
            (true, _) => "not parallel: read the effect with care".to_string(),
            (false, false) => "no sign of a trend, so the groups look parallel".to_string(),
            (false, true) => format!("no sign of a trend, but with {} periods only a steep one would show: add periods before the launch to check", p.periods),
        };
        format!("Before the launch the treated − control gap moved {} per {per} over {} periods (p = {:.2}): {verdict}.", signed(p.slope), p.periods, p.p_value)
    });
    view! {
        <div class="measure-results">
            <p class="headline" data-testid="impact-effect"><strong class="big">{signed(d.effect)}</strong>{format!(" per {per} ({} – {})", signed(d.low), signed(d.high))}</p>
            <p data-testid="impact-summary">{summary}</p>
            {trend.map(|t| view! { <p class="muted small" data-testid="impact-pretrend">{t}</p> })}
            <Exportable name="impact-means" kind=ExportKind::Table><table class="grid compact" data-testid="impact-means">
                <thead><tr><th></th><th class="num">"before"</th><th class="num">"after"</th><th class="num">"change"</th></tr></thead>
                <tbody>
                    <tr><td>"treated"</td><td class="num">{readable(d.treated_before)}</td><td class="num">{readable(d.treated_after)}</td><td class="num">{signed(d.treated_after - d.treated_before)}</td></tr>
                    <tr><td>"control"</td><td class="num">{readable(d.control_before)}</td><td class="num">{readable(d.control_after)}</td><td class="num">{signed(d.control_after - d.control_before)}</td></tr>
                    <tr><th>"difference in differences"</th><td></td><td></td><th class="num">{signed(d.effect)}</th></tr>
                </tbody>
            </table></Exportable>
            <ImpactChart report=report.clone()/>
            {report.counterfactual.clone().map(|c| view! { <CounterfactualResults report=report.clone() counterfactual=Arc::new(c)/> })}
            <h3>"Each group"</h3>
            <div class="table-wrap short">
                <Exportable name="impact-groups" kind=ExportKind::Table><table class="grid" data-testid="impact-groups">
                    <thead><tr><th>"group"</th><th>"role"</th><th class="num">"before"</th><th class="num">"after"</th><th class="num">"change"</th></tr></thead>
                    <tbody>
                        {groups.iter().map(|g| view! {
                            <tr><td>{g.name.clone()}</td><td>{if g.treated { "treated" } else { "control" }}</td><td class="num">{readable(g.before)}</td><td class="num">{readable(g.after)}</td><td class="num">{signed(g.after - g.before)}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table></Exportable>
            </div>
            {(!notes.is_empty()).then(|| view! {
                <ul class="notices" data-testid="impact-notes">{notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul>
            })}
        </div>
    }
}

#[component]
fn ImpactChart(report: Arc<ImpactReport>) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let hover = RwSignal::new(None::<usize>);
    let problem = RwSignal::new(None::<String>);
    let x: Arc<Vec<f64>> = Arc::new(report.starts_ms.iter().map(|&s| s as f64).collect());
    let r = report.clone();
    let on_move = period_chart(canvas, x, hover, problem, move |area, xd, hovered| {
        let lines: [(&[f64], usize); 2] = [(&r.treated_mean, 3), (&r.control_mean, 0)];
        draw_lines_with_marker(area, xd, &lines, Some(r.intervention_ms as f64), theme(), hovered, &|v| format_date_ms(v as i64), &compact_number).map_err(|e| e.to_string())
    });
    let readout = move || {
        let i = hover.get()?;
        Some(format!("{}: treated {} · control {}", format_date_ms(*report.starts_ms.get(i)?), compact_number(*report.treated_mean.get(i)?), compact_number(*report.control_mean.get(i)?)))
    };
    view! {
        <p class="muted small"><span class="swatch treated"></span>" treated groups (mean) · "<span class="swatch control"></span>" control groups (mean) · dashed: the launch"</p>
        <div class="chart">
            <Exportable name="impact-chart" title="Treated and control groups around the launch">
                <canvas node_ref=canvas data-testid="impact-chart" style="height: 200px" on:mousemove=on_move on:mouseleave=move |_| hover.set(None)></canvas>
            </Exportable>
            <div class="chart-readout muted" data-testid="impact-readout">{move || readout().unwrap_or_else(|| "\u{a0}".into())}</div>
        </div>
        {move || problem.get().map(|p| view! { <p class="problem">"Chart could not be drawn: " {p}</p> })}
    }
}


/// A signed figure: "+12", "−3.5" (the minus sign, as elsewhere on screen).
fn signed(v: f64) -> String {
    crate::format::with_sign(v, readable(v))
}

fn signed_rate(v: f64) -> String {
    crate::format::with_sign(v, format_rate(v))
}

/// The paragraph a stakeholder can paste, in the spirit of CausalImpact's report.
fn counterfactual_paragraph(report: &ImpactReport, c: &Counterfactual) -> String {
    let per = if report.granularity == Granularity::Week { "week" } else { "day" };
    let periods = c.predicted.len().saturating_sub(c.first_after);
    let model = {
        let mut parts = vec!["a local level".to_string()];
        if c.seasons > 1 {
            parts.push(format!("a cycle of {} {per}s", c.seasons));
        }
        match c.controls.len() {
            0 => {}
            1 => parts.push("a regression on 1 control group".into()),
            n => parts.push(format!("a regression on {n} control groups")),
        }
        parts.join(", ")
    };
    let (a, t) = (&c.average, &c.total);
    let verdict = if c.p_value < 0.05 {
        "so the effect is unlikely to be chance"
    } else {
        "so the data cannot tell the effect from noise: it could be chance"
    };
    format!(
        "After the launch on {date}, {metric} in the treated groups averaged {actual} per {per}. Without it, a Bayesian structural time-series model fitted to the periods before ({model}) expected {pred} (95 % interval {plo} to {phi}). The difference, {effect} per {per} ({rel}; 95 % interval {elo} to {ehi}), adds up to {total} over the {periods} {per}s after (95 % interval {tlo} to {thi}). The probability of an effect at least this large by chance alone is p = {p} (posterior tail area), {verdict}.",
        date = format_date_ms(report.intervention_ms),
        metric = report.metric_label,
        actual = readable(a.actual),
        pred = readable(a.predicted.mean),
        plo = readable(a.predicted.low),
        phi = readable(a.predicted.high),
        effect = signed(a.absolute.mean),
        rel = signed_rate(a.relative.mean),
        elo = signed(a.absolute.low),
        ehi = signed(a.absolute.high),
        total = signed(t.absolute.mean),
        tlo = signed(t.absolute.low),
        thi = signed(t.absolute.high),
        p = if c.p_value < 0.001 { "< 0.001".to_string() } else { format!("{:.3}", c.p_value) },
    )
}

#[component]
fn CounterfactualResults(report: Arc<ImpactReport>, counterfactual: Arc<Counterfactual>) -> impl IntoView {
    let c = counterfactual;
    let per = if report.granularity == Granularity::Week { "week" } else { "day" };
    let paragraph = counterfactual_paragraph(&report, &c);
    let copy = paragraph.clone();
    let copied = RwSignal::new(false);
    let row = |name: &'static str, s: &crate::analysis::bsts::EffectSummary| -> [String; 5] {
        let interval = |b: &Band, f: fn(f64) -> String| format!("{} ({} – {})", f(b.mean), f(b.low), f(b.high));
        [name.to_string(), readable(s.actual), interval(&s.predicted, readable), interval(&s.absolute, signed), interval(&s.relative, signed_rate)]
    };
    let rows = [row("average per period", &c.average), row("total after the launch", &c.total)];
    let probability = 1.0 - c.p_value;
    let controls = c.controls.clone();
    view! {
        <h3>"Counterfactual: what the treated groups would have done without the launch"</h3>
        <p class="headline" data-testid="counterfactual-effect"><strong class="big">{signed(c.average.absolute.mean)}</strong>{format!(" per {per} ({}; {} – {})", signed_rate(c.average.relative.mean), signed(c.average.absolute.low), signed(c.average.absolute.high))}</p>
        <p data-testid="counterfactual-summary">{paragraph}</p>
        <div class="toggle">
            <button class="button small" data-testid="counterfactual-copy" on:click=move |_| {
                if let Some(window) = web_sys::window() {
                    let _ = window.navigator().clipboard().write_text(&copy);
                    copied.set(true);
                }
            }>"Copy paragraph"</button>
            {move || copied.get().then(|| view! { <span class="muted small">"Copied."</span> })}
        </div>
        <Exportable name="impact-counterfactual" kind=ExportKind::Table><table class="grid compact" data-testid="counterfactual-table">
            <thead><tr><th></th><th class="num">"actual"</th><th class="num">"without the launch (95 %)"</th><th class="num">"effect (95 %)"</th><th class="num">"relative (95 %)"</th></tr></thead>
            <tbody>
                {rows.iter().map(|[name, actual, predicted, absolute, relative]| view! {
                    <tr><td>{name.clone()}</td><td class="num">{actual.clone()}</td><td class="num">{predicted.clone()}</td><td class="num">{absolute.clone()}</td><td class="num">{relative.clone()}</td></tr>
                }).collect_view()}
            </tbody>
        </table></Exportable>
        <p class="muted small" data-testid="counterfactual-probability">{format!(
            "Posterior tail-area probability p = {}; probability of a causal effect {}. {} draws kept of {} (seed {}, burn-in {}), local level prior sd {} of the series' sd.",
            if c.p_value < 0.001 { "< 0.001".to_string() } else { format!("{:.3}", c.p_value) },
            format_rate(probability),
            c.draws,
            c.settings.iterations,
            c.settings.seed,
            format_rate(c.settings.burn_in),
            c.settings.prior_level_sd
        )}</p>
        <CounterfactualCharts report=report.clone() counterfactual=c.clone()/>
        {(!controls.is_empty()).then(|| view! {
            <div class="table-wrap short">
                <Exportable name="impact-controls" kind=ExportKind::Table><table class="grid compact" data-testid="counterfactual-controls">
                    <thead><tr><th>"control group"</th><th class="num">"in the model"</th><th class="num">"coefficient (standardised)"</th></tr></thead>
                    <tbody>
                        {controls.iter().map(|w| view! {
                            <tr><td>{w.name.clone()}</td><td class="num">{format_rate(w.inclusion)}</td><td class="num">{if w.coefficient.is_finite() { signed(w.coefficient) } else { "–".into() }}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table></Exportable>
            </div>
        })}
    }
}

/// CausalImpact's three panels, one hover across them.
#[component]
fn CounterfactualCharts(report: Arc<ImpactReport>, counterfactual: Arc<Counterfactual>) -> impl IntoView {
    let hover = RwSignal::new(None::<usize>);
    let x: Arc<Vec<f64>> = Arc::new(report.starts_ms.iter().map(|&s| s as f64).collect());
    let split = |bands: &[Band]| -> [Vec<f64>; 3] { [bands.iter().map(|b| b.mean).collect(), bands.iter().map(|b| b.low).collect(), bands.iter().map(|b| b.high).collect()] };
    let panels = [
        ("counterfactual-chart", "Actual and without the launch", Some(report.treated_mean.clone()), split(&counterfactual.predicted), false),
        ("counterfactual-pointwise", "Effect per period", None, split(&counterfactual.pointwise), true),
        ("counterfactual-cumulative", "Cumulative effect", None, split(&counterfactual.cumulative), true),
    ];
    let intervention = report.intervention_ms as f64;
    let charts = panels
        .into_iter()
        .map(|(testid, title, actual, bands, zero)| {
            let canvas = NodeRef::<Canvas>::new();
            let problem = RwSignal::new(None::<String>);
            let on_move = period_chart(canvas, x.clone(), hover, problem, move |area, xd, hovered| {
                let [e, l, h] = &bands;
                draw_counterfactual_panel(area, xd, actual.as_deref(), (e, l, h), intervention, zero, None, theme(), hovered, &|v| format_date_ms(v as i64), &compact_number).map_err(|e| e.to_string())
            });
            view! {
                <div class="chart">
                    <p class="muted small chart-title">{title}</p>
                    <Exportable name=testid title=title>
                        <canvas node_ref=canvas data-testid=testid style="height: 150px" on:mousemove=on_move on:mouseleave=move |_| hover.set(None)></canvas>
                    </Exportable>
                </div>
                {move || problem.get().map(|p| view! { <p class="problem">"Chart could not be drawn: " {p}</p> })}
            }
        })
        .collect_view();
    let c = counterfactual.clone();
    let readout = move || {
        let i = hover.get()?;
        let (p, e, k) = (c.predicted.get(i)?, c.pointwise.get(i)?, c.cumulative.get(i)?);
        let mut text = format!("{}: actual {} · without the launch {} ({} – {})", format_date_ms(*report.starts_ms.get(i)?), compact_number(*report.treated_mean.get(i)?), compact_number(p.mean), compact_number(p.low), compact_number(p.high));
        if e.mean.is_finite() {
            text.push_str(&format!(" · effect {}", signed(e.mean)));
        }
        if i >= c.first_after {
            text.push_str(&format!(" · cumulative {} ({} – {})", signed(k.mean), signed(k.low), signed(k.high)));
        }
        Some(text)
    };
    view! {
        <p class="muted small"><span class="swatch line-actual"></span>" treated groups (mean) · "<span class="swatch line-predicted"></span>" without the launch, "<span class="swatch band"></span>" 95 % interval · dashed: the launch"</p>
        {charts}
        <div class="chart-readout muted" data-testid="counterfactual-readout">{move || readout().unwrap_or_else(|| "\u{a0}".into())}</div>
    }
}

/// Periods before the launch from which the pre-trend check can see a moderate trend; with fewer
/// the reading says that its "no sign" is weak.
const PRE_PERIODS_FOR_TREND: usize = 8;
