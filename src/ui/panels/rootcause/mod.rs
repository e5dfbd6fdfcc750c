//! The Root cause tab: explain the change of a metric between a baseline and an incident
//! window (opened from a Trends incident, or typed): the one-line summary, ranked segments with
//! a contribution chart, the selected segment's timeline with and without it, and the
//! per-dimension breakdown.

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;

use serde_json::{Map, Value};

use crate::analysis::contract::FitColumns;
use crate::analysis::rootcause::{DimensionFinding, RcaParams, RcaReport, RootCause, Segment, ValueFinding, Window};
use crate::analysis::series::Metric;
use crate::data::filter::Clause;
use crate::data::table::ColumnType;
use crate::data::time::{format_display_ms, parse_timestamp_text, HOUR_MS};
use crate::format::{capitalise, format_count, format_whole_percent, with_minus_sign as minus};
use crate::plot::canvas::draw_on_canvas;
use crate::plot::timeseries::{draw_stacked, draw_time_chart, index_at, x_at, TimeChart};
use crate::protocol::JobError;
use crate::ui::chart::{draw_soon, theme};
use crate::ui::controls::Later;
use crate::ui::export::{ExportKind, Exportable};
use crate::ui::jobs::{Job, JobProgress};
use crate::ui::state::{AppState, Intent};
use crate::viewstate::take_setting;
use choose::{explain_windows, Choice, MetricChooser, TrendIncidents};

mod choose;

/// The Root cause tab.
pub const TAB: super::TabEntry = super::TabEntry {
    slug: "root-cause",
    label: "Root cause",
    init: take_intents,
    view: || view! { <RootCauseTab/> }.into_any(),
    reset: || RootCausePanel::get().choice.set(Choice::default()),
    link: Some(super::Link { write, read }),
};

/// The Root cause tab's state: the analysis (its parameters are the windows on screen) and the
/// metric chosen to explain.
#[derive(Clone, Copy)]
pub struct RootCausePanel {
    pub job: Job<RootCause>,
    pub choice: RwSignal<Choice>,
}

impl RootCausePanel {
    fn new() -> Self {
        Self { job: Job::new(), choice: RwSignal::new(Choice::default()) }
    }
}

super::panel_state!(RootCausePanel);

/// Takes the requests to explain a change (from Trends): runs the analysis and shows this tab.
fn take_intents(state: AppState) {
    let job = RootCausePanel::get().job;
    Effect::new(move |_| {
        if let Some(Intent::Explain { time_column, metric, baseline, incident }) = state.intent.get() {
            state.intent.set(None);
            job.clear();
            // Trends asks in its own metric.
            RootCausePanel::get().choice.set(Choice::default());
            job.request(RcaParams::explaining(time_column, metric, baseline, incident));
            state.tab.set(TAB.slug);
        }
    });
}

fn write(_state: AppState, settings: &mut Map<String, Value>) {
    if let Some(params) = RootCausePanel::get().job.params.get() {
        super::put(settings, "rca", &Some(params));
    }
}

fn read(state: AppState, settings: &mut Map<String, Value>, columns: &[(String, ColumnType)], notices: &mut Vec<String>) {
    let panel = RootCausePanel::get();
    let params: Option<RcaParams> = take_setting::<RcaParams>(settings, "rca", "root-cause windows", notices).and_then(|p| p.fit_columns(columns, notices));
    match params {
        Some(params) => {
            let trends = state.measure.with_untracked(|m| m.as_ref().map(|m| m.metric.clone()));
            panel.choice.set(Choice::of(&params.metric, trends.as_ref()));
            panel.job.request(params);
        }
        None => {
            panel.choice.set(Choice::default());
            panel.job.reset();
        }
    }
}

/// What stops an explanation, said for the reader.
fn problem(err: &JobError) -> String {
    match err {
        JobError::Cancelled => "The analysis was cancelled; press Explain to run it again.".into(),
        other => format!("Cannot explain the change: {other}."),
    }
}

fn fmt(value: f64, rate: bool) -> String {
    if !value.is_finite() {
        return "—".into();
    }
    if rate {
        return minus(format!("{:.2} %", value * 100.0));
    }
    let rounded = value.round();
    let sign = if rounded < 0.0 { "−" } else { "" };
    if (value - rounded).abs() < 1e-9 || value.abs() >= 100.0 {
        format!("{sign}{}", format_count(rounded.abs() as u64))
    } else {
        minus(format!("{value:.1}"))
    }
}

fn fmt_delta(value: f64, rate: bool) -> String {
    if rate {
        return minus(format!("{:+.2} pt", value * 100.0));
    }
    let text = fmt(value.abs(), false);
    if value >= 0.0 { format!("+{text}") } else { format!("−{text}") }
}

/// A share of the change, signed as the changes beside it are ("−24 %", not "-24 %").
fn fmt_share(share: f64) -> String {
    minus(format_whole_percent(share))
}

fn fmt_p(p: f64) -> String {
    if p < 1e-4 { "< 0.0001".into() } else { format!("{p:.4}") }
}

#[component]
pub fn RootCauseTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let job = RootCausePanel::get().job;
    // The report whose view was built last: a new one is built in two tasks; the same one
    // rebuilt (a run started, the data's summary changed) keeps all its parts on screen.
    let built_for = StoredValue::new(0usize);
    // Whether there is data at all: the incidents and the form are not rebuilt when the data's
    // summary changes, nor when a run starts or ends (only the part below them is).
    let has_data = Memo::new(move |_| state.summary.with(Option::is_some));
    move || {
        if !has_data.get() {
            return view! { <section class="panel"><p>"Load data to explain a change."</p></section> }.into_any();
        }
        let progress = move || view! {
            <JobProgress running=Signal::derive(move || job.running.get()) on_cancel=Callback::new(move |()| job.cancel()) testid="rca-pending" cancel_testid="rca-cancel" idle="Comparing the windows"/>
        };
        view! {
            <TrendIncidents/>
            <WindowsForm/>
            {move || {
                let pending = job.is_running();
                match job.result.get() {
                    None if pending => progress().into_any(),
                    None => view! {
                        <section class="panel"><p class="muted">"Press Explain on an incident above, or type the two windows and press Explain."</p></section>
                    }.into_any(),
                    Some(Err(_)) if pending => progress().into_any(),
                    Some(Err(err)) => view! { <section class="panel" data-testid="rca-error"><p class="problem">{problem(&err)}</p></section> }.into_any(),
                    Some(Ok(report)) => {
                        let key = Arc::as_ptr(&report) as usize;
                        let defer = built_for.get_value() != key;
                        built_for.set_value(key);
                        view! { {pending.then(progress)} <Report report=report pending=pending defer=defer/> }.into_any()
                    }
                }
            }}
        }
        .into_any()
    }
}

#[component]
fn WindowsForm() -> impl IntoView {
    let state = expect_context::<AppState>();
    let job = RootCausePanel::get().job;
    let current = job.params.get_untracked();
    let show = |ms: Option<i64>| ms.map(|v| format_display_ms(v).get(..16).unwrap_or_default().to_string()).unwrap_or_default();
    let base_from = RwSignal::new(show(current.as_ref().map(|p| p.baseline.start_ms)));
    let base_to = RwSignal::new(show(current.as_ref().map(|p| p.baseline.end_ms)));
    let inc_from = RwSignal::new(show(current.as_ref().map(|p| p.incident.start_ms)));
    let inc_to = RwSignal::new(show(current.as_ref().map(|p| p.incident.end_ms)));
    let depth = RwSignal::new(current.as_ref().map_or(3, |p| p.max_depth));
    let problem = RwSignal::new(None::<String>);
    // Follow windows set elsewhere (an incident opened from Trends).
    Effect::new(move |_| {
        if let Some(p) = job.params.get() {
            base_from.set(show(Some(p.baseline.start_ms)));
            base_to.set(show(Some(p.baseline.end_ms)));
            inc_from.set(show(Some(p.incident.start_ms)));
            inc_to.set(show(Some(p.incident.end_ms)));
            depth.set(p.max_depth);
        }
    });
    let explain = move |_| {
        let parse = |label: &str, text: String| parse_timestamp_text(text.trim()).ok_or_else(|| format!("{label}: “{text}” is not a date and time (YYYY-MM-DD HH:MM, UTC)"));
        let windows = (|| -> Result<(Window, Window), String> {
            let baseline = Window { start_ms: parse("baseline from", base_from.get_untracked())?, end_ms: parse("baseline to", base_to.get_untracked())? };
            let incident = Window { start_ms: parse("incident from", inc_from.get_untracked())?, end_ms: parse("incident to", inc_to.get_untracked())? };
            Ok((baseline, incident))
        })();
        // The time column Trends measures, else the first.
        let time_column = state.measure.get_untracked().map(|m| m.time_column).or_else(|| {
            state.summary.get_untracked().and_then(|s| s.columns.into_iter().find(|c| c.kind == ColumnType::Timestamp).map(|c| c.name))
        });
        match (windows, time_column) {
            (Ok((baseline, incident)), Some(time_column)) => {
                explain_windows(state, time_column, (baseline, incident), depth.get_untracked(), problem);
            }
            (Err(message), _) => problem.set(Some(message)),
            (_, None) => problem.set(Some("No column holds timestamps.".into())),
        }
    };
    let input = move |signal: RwSignal<String>, testid: &'static str, label: &'static str| {
        view! {
            <input type="text" class="when" placeholder="YYYY-MM-DD HH:MM" aria-label=label data-testid=testid
                prop:value=move || signal.get() on:input=move |e| signal.set(event_target_value(&e))/>
        }
    };
    view! {
        <section class="panel rca-form" data-testid="rca-form">
            <div class="control-row">
                <MetricChooser/>
            </div>
            <div class="control-row">
                <label>"incident " {input(inc_from, "rca-incident-from", "Incident from")} " to " {input(inc_to, "rca-incident-to", "Incident to")}</label>
                <label>"vs baseline " {input(base_from, "rca-baseline-from", "Baseline from")} " to " {input(base_to, "rca-baseline-to", "Baseline to")}</label>
                <label>"combinations of up to "
                    <select data-testid="rca-depth" prop:value=move || depth.get().to_string() on:change=move |e| { if let Ok(d) = event_target_value(&e).parse() { depth.set(d) } }>
                        <option value="1">"1"</option><option value="2">"2"</option><option value="3">"3"</option>
                    </select>
                    " conditions"
                </label>
                <button class="button primary small" data-testid="rca-explain" on:click=explain>"Explain"</button>
            </div>
            <p class="muted small">"Times in UTC; the end of each window is excluded. The baseline is scaled to the incident window's length. Rows outside the global filter are left out."</p>
            {move || problem.get().map(|p| view! { <p class="problem">{p}</p> })}
        </section>
    }
}

#[component]
fn Report(report: Arc<RcaReport>, pending: bool, defer: bool) -> impl IntoView {
    let state = expect_context::<AppState>();
    let rate = report.is_rate;
    let t = &report.totals;
    let selected = RwSignal::new(0usize);
    let copied = RwSignal::new(false);
    let summary = report.summary.clone();
    let summary_copy = summary.clone();
    let totals = format!(
        "{}: baseline {} (scaled to the incident window; {} rows) → incident {} ({} rows), change {}",
        capitalise(&report.metric_label),
        fmt(t.baseline, rate),
        format_count(t.baseline_rows),
        fmt(t.incident, rate),
        format_count(t.incident_rows),
        fmt_delta(t.delta, rate)
    );
    let elapsed = RootCausePanel::get().job.elapsed_ms.get_untracked();
    let segments = report.segments.clone();
    let max_share = segments.iter().take(10).map(|s| s.share_of_delta.abs()).fold(0.0, f64::max).max(1e-9);
    let skipped = report.skipped.clone();
    let timeline_report = report.clone();
    let apply = move |conditions: Vec<Clause>| {
        state.add_to_filter(conditions);
        state.tab.set("trends");
    };
    view! {
        <section class="panel" class:stale=pending data-testid="rca-summary-panel">
            <div class="panel-head">
                <h2>"What changed"</h2>
                <span class="muted small">{format!("{} segments examined · {:.0} ms", format_count(report.examined as u64), elapsed)}</span>
            </div>
            <p class="lead" data-testid="rca-summary">{summary}</p>
            <p class="muted small">{totals}</p>
            <div class="toggle">
                <button class="button small" data-testid="rca-copy" on:click=move |_| {
                    if let Some(window) = web_sys::window() {
                        let _ = window.navigator().clipboard().write_text(&summary_copy);
                        copied.set(true);
                    }
                }>"Copy summary"</button>
                {move || copied.get().then(|| view! { <span class="muted small">"Copied."</span> })}
            </div>
        </section>
        <section class="panel" data-testid="rca-segments">
            <h2>"Segments that carry the change"</h2>
            <Exportable name="segments" kind=ExportKind::Table><div class="table-wrap">
                <table class="grid" data-testid="rca-table">
                    <thead><tr>
                        <th>"Segment"</th><th class="num">"Baseline"</th><th class="num">"Incident"</th><th class="num">"Change"</th>
                        <th>"Share of change"</th><th class="num">"Specificity"</th><th class="num">"p (adjusted)"</th><th></th>
                    </tr></thead>
                    <tbody>
                        {segments.iter().enumerate().map(|(k, s)| {
                            let clauses: Vec<Clause> = s.conditions.iter().map(|c| c.clause.clone()).collect();
                            let width = (s.share_of_delta.abs() / max_share * 100.0).min(100.0);
                            view! {
                                <tr data-testid="rca-row" class:selected=move || selected.get() == k class:insignificant=!s.significant on:click=move |_| selected.set(k)>
                                    <td class="segment">{s.describe()}</td>
                                    <td class="num">{fmt(s.baseline, rate)}</td>
                                    <td class="num">{fmt(s.incident, rate)}</td>
                                    <td class="num">{fmt_delta(s.delta, rate)}</td>
                                    <td class="share-cell"><span class="share-bar" style=format!("width: calc((100% - 20px) * {:.3})", width / 100.0)></span><span class="share-text">{fmt_share(s.share_of_delta)}</span></td>
                                    <td class="num">{format!("{:.2}", s.specificity)}</td>
                                    <td class="num" title=if s.significant { "significant" } else { "not significant: could be noise" }>{fmt_p(s.p_value)}{(!s.significant).then_some(" ·ns")}</td>
                                    <td><button class="button small" data-testid="rca-filter" title="Add this segment to the global filter and see the trend"
                                        on:click=move |e| { e.stop_propagation(); apply(clauses.clone()) }>"Filter"</button></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table></div>
            </Exportable>
            <p class="muted small">"Share of change: the segment's own change over the total change (bars). Specificity: the part of the segment's incident value that is change. p: exact test on row counts (rates: two-proportion z-test), Bonferroni-adjusted over every segment examined; ns = not significant at 1 %."</p>
        </section>
        <Later defer=defer>
            <SegmentTimeline report=timeline_report.clone() selected=selected/>
        </Later>
        <Later defer=defer>
            <section class="panel" data-testid="rca-dimensions">
                <h2>"By dimension " <span class="muted small">"(ranked by surprise: how unexpectedly the mix moved)"</span></h2>
                {report.dimensions.iter().take(12).enumerate().map(|(k, d)| view! { <DimensionBlock finding=d.clone() rate=rate open=k == 0/> }).collect_view()}
                {(!skipped.is_empty()).then(|| view! {
                    <p class="muted small">{format!("Not used: {}", skipped.iter().map(|(c, why)| format!("{c} ({why})")).collect::<Vec<_>>().join(", "))}</p>
                })}
            </section>
        </Later>
    }
}

/// The metric over both windows: total, the selected segment, and everything else.
#[component]
fn SegmentTimeline(report: Arc<RcaReport>, selected: RwSignal<usize>) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let problem = RwSignal::new(None::<String>);
    let hover = RwSignal::new(None::<usize>);
    let rate = report.is_rate;
    let tl = &report.timeline;
    let x: Arc<Vec<f64>> = Arc::new(tl.starts_ms.iter().map(|&v| v as f64).collect());
    let range = (x.first().copied().unwrap_or(0.0), x.last().copied().unwrap_or(0.0) + tl.bucket_ms as f64);
    let hourly = tl.bucket_ms == HOUR_MS;
    let label = move |v: f64| {
        let text = format_display_ms(v as i64);
        if hourly { format!("{}h", text.get(5..13).unwrap_or_default()) } else { text.get(..10).unwrap_or_default().to_string() }
    };
    let incident_span = {
        let starts = &tl.starts_ms;
        let (a, b) = (report.incident.start_ms, report.incident.end_ms);
        let first = starts.iter().position(|&s| s >= a);
        let last = starts.iter().rposition(|&s| s < b);
        first.zip(last)
    };
    let draw_report = report.clone();
    let xd = x.clone();
    Effect::new(move |_| {
        let k = selected.get();
        let hovered = hover.get();
        let Some(element) = canvas.get() else { return };
        let (draw_report, xd) = (draw_report.clone(), xd.clone());
        draw_soon(&element, move |element| {
        let Some(series) = draw_report.timeline.segments.get(k) else { return };
        let incidents: Vec<(usize, usize)> = incident_span.into_iter().collect();
        let result = draw_on_canvas(element, |area| {
            if rate {
                // Rates do not stack: the segment's rate and the rest's rate as lines.
                let chart = TimeChart {
                    x: &xd,
                    actual: &series.with,
                    expected: &series.without,
                    linear: &[],
                    forecast: None,
                    anomalies: &[],
                    incidents: &incidents,
                    selected_incident: None,
                    changepoints: &[],
                    partial: &[],
                    x_range: range,
                    hover: hovered.and_then(|h| xd.get(h).copied()),
                    brush: None,
                    marked: &[],
                };
                draw_time_chart(area, &chart, theme(), false, &label, &|v| format!("{:.1} %", v * 100.0)).map_err(|e| e.to_string())
            } else {
                let groups: Vec<&[f64]> = vec![&series.with, &series.without];
                draw_stacked(area, &xd, &groups, range, theme(), hovered, &label, &|v| crate::format::compact_number(v)).map_err(|e| e.to_string())
            }
        });
        problem.try_set(result.err());
        });
    });
    let xh = x.clone();
    let on_move = move |event: leptos::ev::MouseEvent| {
        let Some(element) = canvas.get_untracked() else { return };
        let found = x_at(f64::from(event.offset_x()), f64::from(element.client_width()), range).and_then(|v| index_at(&xh, v));
        if hover.get_untracked() != found {
            hover.set(found);
        }
    };
    let read_report = report.clone();
    let readout = move || {
        let k = selected.get();
        hover.get().and_then(|i| {
            let tl = &read_report.timeline;
            let s = tl.segments.get(k)?;
            Some(format!(
                "{}: total {} · segment {} · without it {}",
                label(*tl.starts_ms.get(i)? as f64),
                fmt(*tl.total.get(i)?, rate),
                fmt(*s.with.get(i)?, rate),
                fmt(*s.without.get(i)?, rate)
            ))
        })
    };
    let title_report = report.clone();
    let title = move || title_report.segments.get(selected.get()).map(Segment::describe).unwrap_or_default();
    let export_report = report.clone();
    let export_title = move || export_report.segments.get(selected.get_untracked()).map(Segment::describe).unwrap_or_default();
    view! {
        <section class="panel" data-testid="rca-timeline">
            <h2>"With and without " <span class="segment-name">{title}</span></h2>
            <div class="chart">
                <Exportable name="rca-chart" title=Signal::derive(move || format!("With and without {}", export_title()))>
                    <canvas node_ref=canvas data-testid="rca-chart" style="height: 220px" on:mousemove=on_move on:mouseleave=move |_| hover.set(None)></canvas>
                </Exportable>
                <div class="chart-readout muted" data-testid="rca-readout">{move || readout().unwrap_or_else(|| "\u{a0}".into())}</div>
                {move || problem.get().map(|p| view! { <p class="problem">{p}</p> })}
            </div>
            <div class="legend small">
                {if rate {
                    view! { <span><i class="swatch line-actual"></i>"the segment's rate"</span><span><i class="swatch line-expected"></i>"the rest's rate"</span> }.into_any()
                } else {
                    view! { <span><i class="swatch" style="background: rgb(53,88,212)"></i>"the segment"</span><span><i class="swatch" style="background: rgb(230,120,30)"></i>"everything else"</span> }.into_any()
                }}
                {rate.then(|| view! { <span><i class="swatch" style="background: rgba(214,48,49,0.25)"></i>"incident window"</span> })}
                <span class="muted">"Click a segment in the table to show it here."</span>
            </div>
        </section>
    }
}

#[component]
fn DimensionBlock(finding: DimensionFinding, rate: bool, open: bool) -> impl IntoView {
    let explaining = if finding.explaining.is_empty() {
        "no small set of its values explains the change".to_string()
    } else {
        format!("{} explain{} {} of the change", finding.explaining.join(", "), if finding.explaining.len() == 1 { "s" } else { "" }, format_whole_percent(finding.explained))
    };
    let values: Vec<_> = finding.values.iter().take(12).cloned().collect();
    // A closed block's table is made in a task of its own, after the blocks: the twelve tables
    // at once were most of a 57 ms task on the 1 M-row demo. It is made even if never opened,
    // since a saved report (a copy of the page) holds every block's table.
    view! {
        <details class="dimension" open=open data-testid="rca-dimension">
            <summary><strong>{finding.column.clone()}</strong>{format!(" · surprise {:.3} · {explaining}", finding.surprise)}</summary>
            <Later defer=!open>{breakdown_table(values.clone(), rate)}</Later>
        </details>
    }
}

/// A dimension's values: their shares and values in both windows, and their part of the change.
fn breakdown_table(values: Vec<ValueFinding>, rate: bool) -> impl IntoView {
    view! {
        <Exportable name="breakdown" kind=ExportKind::Table><div class="table-wrap short">
            <table class="grid">
                <thead><tr>
                    <th>"Value"</th><th class="num">"Baseline share"</th><th class="num">"Incident share"</th>
                    <th class="num">"Baseline"</th><th class="num">"Incident"</th><th class="num">"Change"</th><th class="num">"Share of change"</th><th class="num">"Surprise"</th>
                    {rate.then(|| view! { <th class="num">"Rate effect"</th><th class="num">"Mix effect"</th> })}
                </tr></thead>
                <tbody>
                    {values.into_iter().map(|v| view! {
                        <tr>
                            <td>{v.value.clone()}</td>
                            <td class="num">{format!("{:.1} %", v.baseline_share * 100.0)}</td>
                            <td class="num">{format!("{:.1} %", v.incident_share * 100.0)}</td>
                            <td class="num">{fmt(v.baseline, rate)}</td>
                            <td class="num">{fmt(v.incident, rate)}</td>
                            <td class="num">{fmt_delta(v.delta, rate)}</td>
                            <td class="num">{fmt_share(v.share_of_delta)}</td>
                            <td class="num">{format!("{:.4}", v.surprise)}</td>
                            {rate.then(|| view! {
                                <td class="num">{fmt_delta(v.rate_effect.unwrap_or(0.0), true)}</td>
                                <td class="num">{fmt_delta(v.mix_effect.unwrap_or(0.0), true)}</td>
                            })}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
        </Exportable>
    }
}
