//! The prevalence estimate on screen: the headline with its interval, the positive classes,
//! the estimate per period with its band, per stratum and per value, and the label planner.

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;

use super::change;
use crate::analysis::prevalence::{Estimate, LabelPlan, PrevalenceReport};
use crate::data::time::{format_date_ms, DAY_MS};
use crate::format::{format_events, format_rate};
use crate::plot::timeseries::draw_band_chart;
use crate::ui::chart::{period_chart, theme};
use crate::ui::export::{ExportKind, Exportable};
use crate::ui::state::AppState;

fn interval(e: &Estimate) -> String {
    format!("{} – {}", format_rate(e.low), format_rate(e.high))
}

#[component]
pub(super) fn PrevalenceResults(report: Arc<PrevalenceReport>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let unit = state.counted();
    let o = report.overall.clone();
    let level = format!("{:.0} %", report.confidence * 100.0);
    let precision = o.deff.map(|d| format!(" · design effect {d:.2} (as precise as a simple sample of {})", format_events(o.labelled / d.max(1e-9))));
    let df = report.degrees_of_freedom.map(|df| format!(", t with {} degrees of freedom", format_events(df)));
    view! {
        <div class="measure-results">
            <p class="headline" data-testid="prevalence-estimate">
                <strong class="big">{format_rate(o.estimate)}</strong>
                {format!(" {} ({level} interval {}, {}{})", report.positive.join(", "), interval(&o), report.interval, df.unwrap_or_default())}
            </p>
            <p class="muted small" data-testid="prevalence-summary">
                {format!("{} positive of {} labelled {unit} · {}", format_events(o.positives), format_events(o.labelled), report.design)}
                {precision}
                {(report.unlabelled > 0.0).then(|| format!(" · {} without a label left out", format_events(report.unlabelled)))}
            </p>
            <Classes report=report.clone()/>
            {o.binomial.map(|b| view! {
                <Exportable name="prevalence-intervals" kind=ExportKind::Table><table class="grid compact" data-testid="prevalence-intervals">
                    <thead><tr><th>"interval"</th><th class="num">"low"</th><th class="num">"high"</th><th>"when to use it"</th></tr></thead>
                    <tbody>
                        <tr><td>"Wilson"</td><td class="num">{format_rate(b.wilson.0)}</td><td class="num">{format_rate(b.wilson.1)}</td><td class="muted small">"close to its stated coverage at every rate; the default"</td></tr>
                        <tr><td>"Clopper–Pearson"</td><td class="num">{format_rate(b.clopper_pearson.0)}</td><td class="num">{format_rate(b.clopper_pearson.1)}</td><td class="muted small">"never below its coverage (conservative): for commitments"</td></tr>
                        <tr><td>"Jeffreys"</td><td class="num">{format_rate(b.jeffreys.0)}</td><td class="num">{format_rate(b.jeffreys.1)}</td><td class="muted small">"Bayesian with a Beta(½, ½) prior; good for rare events"</td></tr>
                    </tbody>
                </table></Exportable>
            })}
            {report.over_time.clone().filter(|t| !t.periods.is_empty()).map(|t| view! { <OverTimeChart report=report.clone() bucket_ms=t.bucket_ms/> })}
            {(!report.strata.is_empty()).then(|| view! { <StrataTable report=report.clone()/> })}
            {report.breakdown.clone().map(|b| {
                let rows: Vec<(String, Estimate)> = b.groups.into_iter().map(|g| (g.value, g.estimate)).collect();
                let title = format!("By {}", b.column);
                let more = (b.more > 0).then(|| format!("{} rarer values not shown", b.more));
                view! { <EstimateTable title=title name="prevalence-by" column=b.column rows=rows more=more/> }
            })}
            {report.plan.clone().map(|plan| view! { <Planner plan=plan confidence=report.confidence/> })}
            {(!report.notes.is_empty()).then(|| view! {
                <ul class="notices" data-testid="prevalence-notes">{report.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul>
            })}
        </div>
    }
}

/// The label's values: ticked ones count as violating.
#[component]
fn Classes(report: Arc<PrevalenceReport>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let total: f64 = report.classes.iter().map(|(_, n)| n).sum();
    let positive = report.positive.clone();
    view! {
        <div class="class-choices" data-testid="prevalence-classes">
            <span class="muted small">{format!("violating values of “{}”: ", report.label)}</span>
            {report.classes.iter().map(|(class, n)| {
                let checked = positive.contains(class);
                let name = class.clone();
                let resolved = positive.clone();
                view! {
                    <label class="class-choice" title=format!("{} labelled", format_events(*n))>
                        <input type="checkbox" prop:checked=checked data-testid="prevalence-class" on:change=move |_| {
                            let mut next = resolved.clone();
                            match next.iter().position(|c| *c == name) {
                                Some(i) => { next.remove(i); }
                                None => next.push(name.clone()),
                            }
                            change(state, |p| p.label.positive = next);
                        }/>
                        {format!("{class} ({})", format_rate(*n / total.max(1e-300)))}
                    </label>
                }
            }).collect_view()}
        </div>
    }
}

#[component]
fn OverTimeChart(report: Arc<PrevalenceReport>, bucket_ms: i64) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let hover = RwSignal::new(None::<usize>);
    let problem = RwSignal::new(None::<String>);
    let periods = report.over_time.as_ref().map(|t| t.periods.clone()).unwrap_or_default();
    // Every period of the span, with a gap where none was labelled.
    let first = periods.first().map_or(0, |p| p.start_ms);
    let slots = periods.last().map_or(0, |p| ((p.start_ms - first) / bucket_ms.max(1)) as usize + 1);
    let mut filled: Vec<Option<crate::analysis::prevalence::PeriodRow>> = vec![None; slots];
    for p in &periods {
        if let Some(slot) = filled.get_mut(((p.start_ms - first) / bucket_ms.max(1)) as usize) {
            *slot = Some(p.clone());
        }
    }
    let periods = filled;
    let x: Arc<Vec<f64>> = Arc::new((0..slots).map(|i| (first + i as i64 * bucket_ms) as f64).collect());
    let column = report.over_time.as_ref().map(|t| t.column.clone()).unwrap_or_default();
    let pick = |f: fn(&Estimate) -> f64| periods.iter().map(|p| p.as_ref().map_or(f64::NAN, |p| f(&p.estimate))).collect::<Vec<f64>>();
    let (estimate, low, high) = (pick(|e| e.estimate), pick(|e| e.low), pick(|e| e.high));
    let on_move = period_chart(canvas, x, hover, problem, move |area, xd, hovered| {
        draw_band_chart(area, xd, &estimate, &low, &high, theme(), hovered, &|v| format_date_ms(v as i64), &|v| format_rate(v)).map_err(|e| e.to_string())
    });
    let per = if bucket_ms == DAY_MS { "day" } else { "week" };
    let level = format!("{:.0} %", report.confidence * 100.0);
    let readout = move || {
        let p = periods.get(hover.get()?)?.as_ref()?;
        let e = &p.estimate;
        Some(format!("{} {}: {} ({level} {}) · {} positive of {} labelled", if per == "day" { "Day" } else { "Week of" }, format_date_ms(p.start_ms), format_rate(e.estimate), interval(e), format_events(e.positives), format_events(e.labelled)))
    };
    let left_out = report.over_time.as_ref().map_or(0.0, |t| t.left_out);
    let note = if left_out > 0.0 { format!(" · {} labelled {} dated far outside the rest of the timeline (future-dated or mistyped?) left out", format_events(left_out), if left_out == 1.0 { "row" } else { "rows" }) } else { String::new() };
    view! {
        <p class="muted small">{format!("Per {per} of “{column}” (UTC), with its interval{note}")}</p>
        <div class="chart">
            <Exportable name="prevalence-chart" title=format!("Prevalence of {} per {per}", report.label)>
                <canvas node_ref=canvas data-testid="prevalence-chart" style="height: 200px" on:mousemove=on_move on:mouseleave=move |_| hover.set(None)></canvas>
            </Exportable>
            <div class="chart-readout muted" data-testid="prevalence-readout">{move || readout().unwrap_or_else(|| "\u{a0}".into())}</div>
        </div>
        {move || problem.get().map(|p| view! { <p class="problem">"Chart could not be drawn: " {p}</p> })}
    }
}

#[component]
fn StrataTable(report: Arc<PrevalenceReport>) -> impl IntoView {
    let unit = expect_context::<AppState>().counted();
    view! {
        <h3>"Per stratum"</h3>
        <div class="table-wrap short">
            <Exportable name="prevalence-strata" kind=ExportKind::Table><table class="grid" data-testid="prevalence-strata">
                <thead><tr><th>"stratum"</th><th class="num">"population"</th><th class="num">"weight"</th><th class="num">{format!("labelled {unit}")}</th><th class="num">"positive"</th><th class="num">"prevalence"</th><th class="num">"interval"</th></tr></thead>
                <tbody>
                    {report.strata.iter().map(|s| view! {
                        <tr>
                            <td>{s.name.clone()}</td>
                            <td class="num">{s.population.map_or("–".into(), format_events)}</td>
                            <td class="num">{format_rate(s.weight_share)}</td>
                            <td class="num">{format_events(s.estimate.labelled)}</td>
                            <td class="num">{format_events(s.estimate.positives)}</td>
                            <td class="num">{format_rate(s.estimate.estimate)}</td>
                            <td class="num">{interval(&s.estimate)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></Exportable>
        </div>
    }
}

#[component]
fn EstimateTable(title: String, name: &'static str, column: String, rows: Vec<(String, Estimate)>, more: Option<String>) -> impl IntoView {
    let unit = expect_context::<AppState>().counted();
    view! {
        <h3>{title}</h3>
        // At most a few dozen groups: shown whole, not in a short scroller that hides some.
        <div class="table-wrap">
            <Exportable name=name kind=ExportKind::Table><table class="grid" data-testid=name>
                <thead><tr><th>{column}</th><th class="num">{format!("labelled {unit}")}</th><th class="num">"positive"</th><th class="num">"prevalence"</th><th class="num">"interval"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|(value, e)| view! {
                        <tr>
                            <td>{value}</td>
                            <td class="num">{format_events(e.labelled)}</td>
                            <td class="num">{format_events(e.positives)}</td>
                            <td class="num">{format_rate(e.estimate)}</td>
                            <td class="num">{interval(&e)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></Exportable>
        </div>
        {more.map(|m| view! { <p class="muted small">{m}</p> })}
    }
}

#[component]
fn Planner(plan: LabelPlan, confidence: f64) -> impl IntoView {
    let target = format!("±{} points at {:.0} %", (plan.target_margin * 1e4).round() / 100.0, confidence * 100.0);
    let headline = if plan.more > 0.0 {
        format!("To reach {target}: label {} more ({} in all).", format_events(plan.more), format_events(plan.needed))
    } else {
        format!("The labels so far already reach {target} (it needs {}).", format_events(plan.needed))
    };
    view! {
        <div class="label-block" data-testid="prevalence-plan">
            <h3>"How many more labels"</h3>
            <p data-testid="prevalence-plan-summary"><strong>{headline}</strong></p>
            {(!plan.strata.is_empty()).then(|| view! {
                <div class="table-wrap short">
                    <Exportable name="prevalence-allocation" kind=ExportKind::Table><table class="grid compact" data-testid="prevalence-allocation">
                        <thead><tr><th>"stratum"</th><th class="num">"labelled"</th><th class="num">"allocated"</th><th class="num">"more"</th></tr></thead>
                        <tbody>
                            {plan.strata.iter().map(|s| view! {
                                <tr><td>{s.name.clone()}</td><td class="num">{format_events(s.labelled)}</td><td class="num">{format_events(s.allocated)}</td><td class="num">{format_events(s.more)}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table></Exportable>
                </div>
            })}
            <p class="muted small">{plan.method.clone()}</p>
        </div>
    }
}

