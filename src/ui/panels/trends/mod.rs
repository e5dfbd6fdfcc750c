//! The Trends tab: a metric over time (respecting the global filter), its decomposition,
//! forecast, anomalies, incidents, changepoints, linear trend and a goal projection. The
//! worker builds the series and runs the models; this file only chooses, draws and explains.

use std::sync::Arc;

use leptos::ev;
use leptos::html::Canvas;
use leptos::prelude::*;

use serde_json::{Map, Value};

use crate::analysis::contract::FitColumns;
use crate::analysis::rootcause::Window;
use crate::analysis::series::{format_bucket, format_offset, Clock, Granularity, MetricKind, Series};
use crate::analysis::trend::{baseline_before, incident_windows, Direction, Incident, Trend, TrendAnalysis, TrendReport, TrendSettings, MAX_HORIZON};
use crate::data::filter::Clause;
use crate::data::table::ColumnType;
use crate::format::{capitalise, compact_number, format_count, plural};
use crate::plot::canvas::draw_on_canvas;
use crate::plot::timeseries::{draw_line_panel, draw_stacked, draw_time_chart, forecast_x, index_at, palette, x_at, TimeChart, TrendLayers, PALETTE};
use crate::protocol::ColumnSummary;
use crate::ui::chart::{draw_soon, theme};
use crate::ui::client;
use crate::ui::download::download_text;
use crate::ui::export::Exportable;
use crate::ui::jobs::{Job, JobProgress};
use crate::ui::state::{AppState, Incidents, Intent, Measure};

/// The timestamp column to start with (see [`crate::analysis::trend::default_time_column`]).
fn default_time(columns: &[ColumnSummary]) -> Option<String> {
    crate::analysis::trend::default_time_column(columns.iter().map(|c| (c.name.as_str(), c.kind)))
}
use crate::viewstate::take_setting;
use chart::*;
use controls::*;
use decomposition::*;
use findings::*;
use marks::*;

mod chart;
mod controls;
mod decomposition;
mod findings;
mod marks;
mod warehouse;

/// The Trends tab.
pub const TAB: super::TabEntry = super::TabEntry {
    slug: "trends",
    label: "Trends",
    init: publish,
    view: || view! { <TrendsTab/> }.into_any(),
    reset: || {
        let panel = TrendsPanel::get();
        panel.settings.set(TrendSettings::default());
        panel.marks.set(Vec::new());
    },
    link: Some(super::Link { write, read }),
};

/// The Trends tab's state: its settings (what the link stores and the analysis receives), the
/// trend analysis, and the windows marked on the chart.
#[derive(Clone, Copy)]
pub struct TrendsPanel {
    pub settings: RwSignal<TrendSettings>,
    pub job: Job<Trend>,
    /// Windows marked on the trend chart (UTC ms, `[start, end)`, in time order; at most two:
    /// baseline then incident).
    pub marks: RwSignal<Vec<(i64, i64)>>,
}

impl TrendsPanel {
    fn new() -> Self {
        Self { settings: RwSignal::new(TrendSettings::default()), job: Job::new(), marks: RwSignal::new(Vec::new()) }
    }
}

super::panel_state!(TrendsPanel);

/// Creates the panel and keeps what it measures, and the incidents it found when asked, where
/// other panels can read them.
fn publish(state: AppState) {
    // The browser's zone is asked once, in its own task shortly after start (while data loads),
    // not in the task that first draws this tab: where the browser has no Temporal, the first
    // `Intl.DateTimeFormat` takes 17–41 ms (`controls::temporal_zone`).
    set_timeout(|| drop(browser_zone()), std::time::Duration::from_millis(500));
    let panel = TrendsPanel::get();
    let settings = panel.settings;
    Effect::new(move |_| {
        if state.intent.get() == Some(Intent::FindIncidents) {
            state.intent.set(None);
            refresh_trend(state);
        }
    });
    Effect::new(move |_| {
        let incidents = match (panel.job.is_running(), panel.job.result.get()) {
            (true, None) => Incidents::Pending,
            (_, None) => Incidents::Unavailable("choose what to measure in the Trends tab".into()),
            (_, Some(Err(err))) => Incidents::Unavailable(format!("Trends could not build its series ({err})")),
            (_, Some(Ok(report))) => found_incidents(&report, &settings.get_untracked()),
        };
        state.incidents.set(Some(incidents));
    });
    Effect::new(move |_| {
        let measure = settings.with(|s| {
            let time_column = s.time.clone()?;
            let counts_instead = matches!(s.metric, MetricKind::Mean | MetricKind::Median | MetricKind::P95 | MetricKind::Distinct);
            Some(Measure { time_column, metric: s.decomposable_metric(), counts_instead })
        });
        state.measure.set(measure);
    });
}

fn write(_state: AppState, settings: &mut Map<String, Value>) {
    super::put(settings, "trend", &TrendsPanel::get().settings.get());
}

fn read(_state: AppState, settings: &mut Map<String, Value>, columns: &[(String, ColumnType)], notices: &mut Vec<String>) {
    let trend: TrendSettings = take_setting::<TrendSettings>(settings, "trend", "trend settings", notices).and_then(|t| t.fit_columns(columns, notices)).unwrap_or_default();
    // A link without a time column keeps the one chosen for this table.
    TrendsPanel::get().settings.update(|current| {
        let time = trend.time.clone().or_else(|| current.time.clone());
        *current = TrendSettings { time, ..trend };
    });
}

/// The incidents of a trend as other panels read them, largest first (by excess over expected).
fn found_incidents(report: &TrendReport, settings: &TrendSettings) -> Incidents {
    if let Err(err) = &report.analysis {
        return Incidents::Unavailable(format!("Trends has no model of this series ({err})"));
    }
    let Some(time_column) = settings.time.clone() else { return Incidents::Unavailable("no time column is chosen".into()) };
    let series = &report.series;
    Incidents::Found {
        time_column,
        measured: format!("{} per {}", capitalise(&series.metric_label), period_name(series.granularity)),
        rate: settings.metric == MetricKind::Rate,
        list: crate::analysis::trend::found_incidents(report),
    }
}

/// Builds the trend for the view on screen (another tab reads its incidents): with the
/// settings chosen in Trends, or over the default time column.
fn refresh_trend(state: AppState) {
    let panel = TrendsPanel::get();
    if panel.settings.with_untracked(|s| s.time.is_none()) {
        let time = state.summary.with_untracked(|s| s.as_ref().and_then(|s| default_time(&s.columns)));
        panel.settings.update(|s| s.time = time);
    }
    if let Some(params) = panel.settings.with_untracked(TrendSettings::job) {
        panel.job.request(params);
    }
}

/// What the analysis needs of the settings, when they are complete (display-only choices, such
/// as small multiples, left at their defaults so that changing them does not run it again).
/// What stops a trend, said for the reader.
fn trend_problem(err: &crate::protocol::JobError) -> String {
    match err {
        crate::protocol::JobError::Cancelled => "The trend was cancelled; change a setting or the filter to build it again.".into(),
        other => format!("Cannot build the series: {other}."),
    }
}

/// A metric value for reading: rates as percentages, large numbers with separators.
fn fmt_value(value: f64, rate: bool) -> String {
    if !value.is_finite() {
        return "—".into();
    }
    if rate {
        return format!("{:.2} %", value * 100.0);
    }
    // Whole from 100 ("962 – 1,107", not "961.8 – 1,107"), then one decimal, two, three.
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        let sign = if value < 0.0 { "−" } else { "" };
        format!("{sign}{}", format_count(magnitude.round() as u64))
    } else if magnitude >= 10.0 || magnitude == magnitude.trunc() {
        format!("{value:.1}").trim_end_matches(".0").to_string()
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

fn fmt_signed(value: f64, rate: bool) -> String {
    crate::format::with_sign(value, fmt_value(value, rate))
}

fn axis_value(value: f64, rate: bool) -> String {
    if rate { format!("{:.1} %", value * 100.0) } else { compact_number(value) }
}


fn period_name(granularity: Granularity) -> &'static str {
    match granularity {
        Granularity::Hour => "hour",
        Granularity::Day | Granularity::Auto => "day",
        Granularity::Week => "week",
        Granularity::Month => "month",
    }
}

#[component]
pub fn TrendsTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let panel = TrendsPanel::get();
    let settings = panel.settings;
    // Windows marked on one time column mean nothing on another.
    Effect::new(move |previous: Option<Option<String>>| {
        let time = settings.with(|s| s.time.clone());
        if previous.is_some_and(|p| p != time) {
            panel.marks.set(Vec::new());
        }
        time
    });
    let columns = Memo::new(move |_| state.summary.with(|s| s.as_ref().map(|s| s.columns.clone()).unwrap_or_default()));
    // First visit after a load: pick the time column.
    Effect::new(move |_| {
        let cols = columns.get();
        let current = settings.with_untracked(|s| s.time.clone());
        if current.is_none() || !cols.iter().any(|c| Some(&c.name) == current.as_ref() && c.kind == ColumnType::Timestamp) {
            let time = default_time(&cols);
            settings.update(|s| s.time = time);
        }
    });
    // A memo: display-only choices do not run the analysis again.
    let request = Memo::new(move |_| settings.with(TrendSettings::job));
    Effect::new(move |_| {
        state.view_version.track();
        if let Some(params) = request.get() {
            panel.job.request(params);
        }
    });
    let has_time = move || columns.with(|cols| cols.iter().any(|c| c.kind == ColumnType::Timestamp));
    view! {
        {move || match (state.summary.with(Option::is_some), has_time()) {
            (false, _) => view! { <section class="panel"><p>"Load data to see trends."</p></section> }.into_any(),
            (true, false) => view! {
                <section class="panel" data-testid="trend-error">
                    <p class="problem">"No column holds timestamps. Trends need one: if a column holds dates as text or numbers, change its type to timestamp in the Data tab."</p>
                </section>
            }.into_any(),
            (true, true) => view! { <TrendControls columns=columns/> <TrendResults/> <warehouse::WarehouseQuery/> }.into_any(),
        }}
    }
}


#[component]
fn TrendResults() -> impl IntoView {
    move || {
        let job = TrendsPanel::get().job;
        let pending = job.is_running();
        match job.result.get() {
            None if pending => view! {
                <JobProgress running=Signal::derive(move || job.running.get()) on_cancel=Callback::new(move |()| job.cancel()) testid="trend-pending" cancel_testid="trend-cancel" idle="Building the series and fitting the models"/>
            }.into_any(),
            None => view! { <section class="panel"><p class="muted">"Choose what to measure above."</p></section> }.into_any(),
            Some(Err(err)) => view! { <section class="panel" data-testid="trend-error"><p class="problem">{trend_problem(&err)}</p></section> }.into_any(),
            Some(Ok(report)) => view! { <TrendReportView report=report pending=pending/> }.into_any(),
        }
    }
}

#[component]
fn TrendReportView(report: Arc<TrendReport>, pending: bool) -> impl IntoView {
    let settings = TrendsPanel::get().settings.get_untracked();
    let rate = settings.metric == MetricKind::Rate;
    let series = &report.series;
    let zone = series.zone_label();
    let x_range = RwSignal::new(None::<(f64, f64)>);
    let hover = RwSignal::new(None::<usize>);
    let selected = RwSignal::new(None::<usize>);
    let title = format!("{} per {} ({zone})", capitalise(&series.metric_label), period_name(series.granularity));
    let mut notes: Vec<String> = Vec::new();
    if let Some(excluded) = &series.excluded {
        let (first, last) = (crate::data::time::format_display_ms(excluded.first_ms), crate::data::time::format_display_ms(excluded.last_ms));
        let dated = if first == last { first } else { format!("{first} – {last}") };
        let (lie, are) = if excluded.rows == 1 { ("lies", "is") } else { ("lie", "are") };
        notes.push(format!("{} dated {dated} {lie} far outside the rest of the timeline (future-dated or mistyped?) and {are} left out of the chart.", plural(excluded.rows, "row")));
    }
    if series.missing_time > 0 {
        notes.push(format!("{} no time value.", has(series.missing_time, "selected row")));
    }
    if series.missing_metric > 0 && !matches!(settings.metric, MetricKind::Count | MetricKind::Rate) {
        notes.push(format!("{} no value to measure.", has(series.missing_metric, "row")));
    }
    if settings.granularity != Granularity::Auto && settings.granularity != series.granularity {
        let (chosen, used) = (period_name(settings.granularity), period_name(series.granularity));
        notes.push(format!("Every time is the start of a {used} (a cube's periods, or dates without a time): {chosen}s would be empty between them, so the trend is by {used}."));
    }
    let (first, end) = series.complete;
    if first > 0 {
        notes.push(format!("The first {} ({}) is only partly covered by the data: shown hollow, not modelled.", period_name(series.granularity), series.format_start(series.starts_ms[0])));
    }
    if end < series.starts_ms.len() {
        let last = series.starts_ms.last().copied().unwrap_or(0);
        notes.push(format!("The last {} ({}) is only partly covered by the data: shown hollow, not modelled.", period_name(series.granularity), series.format_start(last)));
    }
    let analysis = report.analysis.clone();
    let model_line = match &analysis {
        Ok(a) => {
            let cycles = if a.seasonal.is_empty() {
                "no seasonal cycle".to_string()
            } else {
                a.seasonal.iter().map(|s| format!("cycle of {} {}s (strength {:.2})", s.period, period_name(series.granularity), s.strength)).collect::<Vec<_>>().join(", ")
            };
            if a.imputed > 0 {
                notes.push(format!("{} without a value {} interpolated for the models.", plural(a.imputed as u64, "period"), if a.imputed == 1 { "was" } else { "were" }));
            }
            format!("{} · {cycles} · {} periods · {:.0} ms", a.model, a.model_range.1 - a.model_range.0, TrendsPanel::get().job.elapsed_ms.get_untracked())
        }
        Err(err) => format!("No models: {err}."),
    };
    let report_for_chart = report.clone();
    let split = (!series.groups.is_empty()).then(|| report.clone());
    view! {
        <section class="panel" data-testid="trend-panel" class:stale=pending>
            <div class="panel-head">
                <h2 data-testid="trend-title">{title.clone()}</h2>
                <span class="muted small" data-testid="trend-model">{model_line}</span>
            </div>
            <TrendChart report=report_for_chart x_range=x_range hover=hover selected=selected rate=rate title=title/>
            <p class="muted small">"Drag across the chart to zoom, double-click to reset, click an incident to explain it; Shift-drag (or “Mark windows”) marks a baseline and an incident to compare. Red dots are anomalies, shaded bands incidents, dashed lines changepoints; the blue band is the forecast (80 % and 95 % intervals)."</p>
            {(!notes.is_empty()).then(|| view! { <ul class="notices" data-testid="trend-notes">{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul> })}
        </section>
        // The split right under the chart it splits: choosing one shows it where the eye is.
        {split.map(|r| view! { <SplitPanel report=r x_range=x_range hover=hover rate=rate/> })}
        {analysis.ok().map(|a| {
            let a = Arc::new(a);
            view! {
                <Findings report=report.clone() analysis=a.clone() rate=rate/>
                <Incidents report=report.clone() analysis=a.clone() rate=rate selected=selected/>
                <Decomposition report=report.clone() analysis=a x_range=x_range hover=hover/>
            }
        })}
    }
}

/// "1 row has", "3 rows have".
fn has(n: u64, noun: &str) -> String {
    format!("{} {}", plural(n, noun), if n == 1 { "has" } else { "have" })
}
