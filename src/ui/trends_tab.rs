//! The Trends tab: a metric over time (respecting the global filter), its decomposition,
//! forecast, anomalies, incidents, changepoints, linear trend and a goal projection. The
//! worker builds the series and runs the models; this file only chooses, draws and explains.

use std::sync::Arc;

use leptos::ev;
use leptos::html::Canvas;
use leptos::prelude::*;

use super::chart::theme;
use super::client::{self, request_trend};
use super::download::download_text;
use super::export::Exportable;
use super::rootcause_tab::{explain_windows, open_root_cause};
use crate::analysis::rootcause::Window;
use super::state::{AppState, MetricKind, SplitView, Tab, TrendSettings};
use crate::analysis::series::{format_bucket, format_offset, Granularity, Metric, Series, SeriesParams, SplitParams, Zone};
use crate::analysis::trend::{Direction, Incident, TrendAnalysis, TrendParams, MAX_HORIZON};
use crate::data::filter::Clause;
use crate::data::table::ColumnType;
use crate::format::{capitalise, compact_number, format_count};
use crate::plot::canvas::draw_on_canvas;
use crate::plot::timeseries::{draw_line_panel, draw_stacked, draw_time_chart, index_at, palette, x_at, ForecastDraw, TimeChart, PALETTE};
use crate::protocol::{ColumnSummary, TrendReport};

/// Time zones offered (minutes east of UTC).
const OFFSETS: [i32; 30] = [
    -720, -660, -600, -540, -480, -420, -360, -300, -240, -180, -120, -60, 0, 60, 120, 180, 210, 240, 270, 300, 330, 345, 360,
    420, 480, 540, 570, 600, 660, 720,
];

/// IANA zones offered besides fixed offsets (analysts' usual reporting zones).
const ZONES: [&str; 39] = [
    "America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York", "America/Toronto", "America/Mexico_City",
    "America/Bogota", "America/Sao_Paulo", "America/Argentina/Buenos_Aires", "Europe/London", "Europe/Dublin", "Europe/Lisbon",
    "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Warsaw", "Europe/Istanbul",
    "Europe/Moscow", "Africa/Lagos", "Africa/Cairo", "Africa/Johannesburg", "Africa/Nairobi", "Asia/Dubai", "Asia/Karachi",
    "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Jakarta", "Asia/Singapore", "Asia/Manila", "Asia/Shanghai",
    "Asia/Hong_Kong", "Asia/Seoul", "Asia/Tokyo", "Australia/Perth", "Australia/Sydney", "Pacific/Auckland",
];

/// The browser's own IANA zone, if it names one the tz database knows.
fn browser_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    let name = js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into()).ok()?.as_string()?;
    // A UTC browser adds nothing to the fixed offsets.
    let fixed = name == "UTC" || name == "GMT" || name.starts_with("Etc/");
    crate::analysis::series::Zone::new(0, Some(&name)).ok().filter(|_| !fixed).map(|_| name)
}

/// The zone choices: the browser's first, the usual ones, and one chosen elsewhere (a link).
fn zone_choices(chosen: Option<String>) -> Vec<(String, String)> {
    let mut names: Vec<String> = Vec::new();
    let own = browser_zone();
    for name in own.iter().cloned().chain(ZONES.iter().map(|z| (*z).to_string())).chain(chosen) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let text = if own.as_deref() == Some(name.as_str()) { format!("{name} (this browser)") } else { name.clone() };
            (name, text)
        })
        .collect()
}

/// Builds the request from the settings; `None` until a time column exists (and, for metrics
/// with a column, one is chosen).
fn build_request(settings: &TrendSettings) -> Option<(SeriesParams, TrendParams)> {
    let time_column = settings.time.get()?;
    let column = settings.column.get();
    let kind = settings.kind.get();
    let metric = match kind {
        MetricKind::Count => Metric::Count,
        MetricKind::Sum => Metric::Sum { column: column? },
        MetricKind::Mean => Metric::Mean { column: column? },
        MetricKind::Median => Metric::Median { column: column? },
        MetricKind::P95 => Metric::P95 { column: column? },
        MetricKind::Distinct => Metric::Distinct { column: column? },
        MetricKind::Rate => Metric::Rate {
            condition: Clause::InSet { column: column?, values: vec![settings.rate_value.get()?], negate: false },
        },
    };
    let (lower_bound, upper_bound) = match kind {
        MetricKind::Count | MetricKind::Distinct => (Some(0.0), None),
        MetricKind::Rate => (Some(0.0), Some(1.0)),
        _ => (None, None),
    };
    let series = SeriesParams {
        time_column,
        metric,
        granularity: settings.granularity.get(),
        utc_offset_minutes: settings.utc_offset_minutes.get(),
        time_zone: settings.time_zone.get(),
        split: settings.split.get().map(|column| SplitParams { column, top: settings.top.get() }),
    };
    let model = TrendParams {
        horizon: settings.horizon.get(),
        sensitivity: settings.sensitivity.get(),
        log_trend: settings.log_trend.get(),
        target: settings.target.get(),
        lower_bound,
        upper_bound,
    };
    Some((series, model))
}

/// The timestamp column to start with: one whose name says "created" or "time", else the first.
fn default_time(columns: &[ColumnSummary]) -> Option<String> {
    let times: Vec<&ColumnSummary> = columns.iter().filter(|c| c.kind == ColumnType::Timestamp).collect();
    let preferred = ["created", "reported", "time", "date", "_at"];
    preferred
        .iter()
        .find_map(|word| times.iter().find(|c| c.name.to_ascii_lowercase().contains(word)))
        .or(times.first())
        .map(|c| c.name.clone())
}

/// A metric value for reading: rates as percentages, large numbers with separators.
fn fmt_value(value: f64, rate: bool) -> String {
    if !value.is_finite() {
        return "—".into();
    }
    if rate {
        return format!("{:.2} %", value * 100.0);
    }
    let magnitude = value.abs();
    if magnitude >= 1000.0 {
        let sign = if value < 0.0 { "−" } else { "" };
        format!("{sign}{}", format_count(magnitude.round() as u64))
    } else if magnitude >= 10.0 || magnitude == magnitude.trunc() {
        format!("{value:.1}").trim_end_matches(".0").to_string()
    } else {
        format!("{value:.3}")
    }
}

fn fmt_signed(value: f64, rate: bool) -> String {
    if value > 0.0 { format!("+{}", fmt_value(value, rate)) } else { fmt_value(value, rate).replacen('-', "−", 1) }
}

fn axis_value(value: f64, rate: bool) -> String {
    if rate { format!("{:.1} %", value * 100.0) } else { compact_number(value) }
}

/// Starts of the forecast periods: the forecast begins at `model_end` (which may be a partial
/// period already in the series) and runs `horizon` periods.
fn forecast_x(series: &Series, model_end: usize, horizon: usize) -> Vec<f64> {
    let n = series.starts_ms.len();
    (0..horizon)
        .filter_map(|k| {
            let idx = model_end + k;
            match series.starts_ms.get(idx) {
                Some(&ms) => Some(ms as f64),
                None => series.next_start_ms(idx + 1 - n).map(|ms| ms as f64),
            }
        })
        .collect()
}

/// How far back the baseline of a root-cause comparison reaches: whole weeks for hours and
/// days (the weekly cycle cancels), eight weeks, six months.
fn baseline_span_ms(granularity: Granularity) -> i64 {
    match granularity {
        Granularity::Hour => 7 * crate::data::time::DAY_MS,
        Granularity::Day | Granularity::Auto => 14 * crate::data::time::DAY_MS,
        Granularity::Week => 56 * crate::data::time::DAY_MS,
        Granularity::Month => 182 * crate::data::time::DAY_MS,
    }
}

/// Opens periods `first ..= last` of the series in the Root cause tab.
fn explain_periods(state: AppState, series: &Series, first: usize, last: usize) {
    let Some(time_column) = state.trend_settings.time.get_untracked() else { return };
    let (Some(&start), Some(&data_start)) = (series.starts_ms.get(first), series.starts_ms.first()) else { return };
    let Some(end) = series.starts_ms.get(last + 1).copied().or_else(|| series.next_start_ms(1)) else { return };
    open_root_cause(state, time_column, start, end, baseline_span_ms(series.granularity), data_start);
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
    let settings = state.trend_settings;
    // Windows marked on one time column mean nothing on another.
    Effect::new(move |previous: Option<Option<String>>| {
        let time = settings.time.get();
        if previous.is_some_and(|p| p != time) {
            state.trend_marks.set(Vec::new());
        }
        time
    });
    let columns = Memo::new(move |_| state.summary.with(|s| s.as_ref().map(|s| s.columns.clone()).unwrap_or_default()));
    // First visit after a load: pick the time column.
    Effect::new(move |_| {
        let cols = columns.get();
        let current = settings.time.get_untracked();
        if current.is_none() || !cols.iter().any(|c| Some(&c.name) == current.as_ref() && c.kind == ColumnType::Timestamp) {
            settings.time.set(default_time(&cols));
        }
    });
    let request = Memo::new(move |_| build_request(&settings));
    Effect::new(move |_| {
        state.view_version.track();
        if let Some((series, model)) = request.get() {
            request_trend(state, series, model);
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
            (true, true) => view! { <TrendControls columns=columns/> <TrendResults/> }.into_any(),
        }}
    }
}

#[component]
fn TrendControls(columns: Memo<Vec<ColumnSummary>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let s = state.trend_settings;
    let names_of = move |pred: fn(ColumnType) -> bool| columns.get().into_iter().filter(|c| pred(c.kind)).map(|c| c.name).collect::<Vec<_>>();
    // One flat list of options (a "none" entry first when allowed); the select's value is set
    // through `prop:value` so it follows the settings.
    let options = move |names: Vec<String>, current: Option<String>, none: Option<&'static str>| {
        let mut items: Vec<(String, String, bool)> = Vec::new();
        if let Some(label) = none {
            items.push((String::new(), label.to_string(), current.is_none()));
        }
        items.extend(names.into_iter().map(|name| {
            let selected = current.as_deref() == Some(name.as_str());
            (name.clone(), name, selected)
        }));
        items.into_iter().map(|(value, label, selected)| view! { <option value=value selected=selected>{label}</option> }).collect_view()
    };
    let opt_string = |v: String| (!v.is_empty()).then_some(v);
    // Values for the rate condition (the most frequent values of its column).
    Effect::new(move |_| {
        if s.kind.get() == MetricKind::Rate {
            if let Some(column) = s.column.get() {
                client::send(crate::protocol::Request::ColumnValues { column, limit: 200 }, None);
            }
        }
    });
    let column_choice = move || {
        let kind = s.kind.get();
        let pred: fn(ColumnType) -> bool = match kind {
            MetricKind::Count => return None,
            MetricKind::Sum | MetricKind::Mean | MetricKind::Median | MetricKind::P95 => |k| matches!(k, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean),
            MetricKind::Distinct => |k| k != ColumnType::Text,
            MetricKind::Rate => |k| matches!(k, ColumnType::Category | ColumnType::Boolean | ColumnType::Integer),
        };
        let names = names_of(pred);
        // Keep the chosen column only if it fits the metric.
        let current = s.column.get().filter(|c| names.contains(c));
        if current.is_none() && s.column.get_untracked().is_some() {
            s.column.set(None);
        }
        Some(view! {
            <select aria-label="Metric column" data-testid="trend-column" prop:value=move || s.column.get().unwrap_or_default() on:change=move |e| { s.rate_value.set(None); s.column.set(opt_string(event_target_value(&e))) }>
                {options(names, current, Some("choose a column…"))}
            </select>
        })
    };
    let rate_value = move || {
        (s.kind.get() == MetricKind::Rate).then(|| {
            let column = s.column.get();
            let values: Vec<String> = state
                .column_values
                .get()
                .filter(|cv| Some(&cv.column) == column.as_ref())
                .map(|cv| cv.values.into_iter().map(|(v, _)| v).collect())
                .unwrap_or_default();
            view! {
                <span class="muted">"="</span>
                <select aria-label="Rate value" data-testid="trend-rate-value" prop:value=move || s.rate_value.get().unwrap_or_default() on:change=move |e| s.rate_value.set(opt_string(event_target_value(&e)))>
                    {options(values, s.rate_value.get(), Some("choose a value…"))}
                </select>
            }
        })
    };
    view! {
        <section class="panel trend-controls" data-testid="trend-controls">
            <div class="control-row">
                <label>"Metric "
                    <select aria-label="Metric" data-testid="trend-metric" on:change=move |e| {
                        if let Some(kind) = MetricKind::from_slug(&event_target_value(&e)) { s.kind.set(kind) }
                    }>
                        {MetricKind::ALL.into_iter().map(|k| view! { <option value=k.slug() selected=move || s.kind.get() == k>{k.label()}</option> }).collect_view()}
                    </select>
                </label>
                <span class="control-group">{column_choice}{rate_value}</span>
                <label>"over "
                    <select aria-label="Time column" data-testid="trend-time" prop:value=move || s.time.get().unwrap_or_default() on:change=move |e| s.time.set(opt_string(event_target_value(&e)))>
                        {move || options(names_of(|k| k == ColumnType::Timestamp), s.time.get(), None)}
                    </select>
                </label>
                <label>"per "
                    <select aria-label="Granularity" data-testid="trend-granularity" on:change=move |e| {
                        if let Some(g) = Granularity::from_label(&event_target_value(&e)) { s.granularity.set(g) }
                    }>
                        {Granularity::ALL.into_iter().map(|g| view! { <option value=g.label() selected=move || s.granularity.get() == g>{g.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"time zone "
                    <select aria-label="Time zone" class="zone-select" data-testid="trend-offset" on:change=move |e| {
                        let value = event_target_value(&e);
                        if let Some(name) = value.strip_prefix("zone:") {
                            s.time_zone.set(Some(name.to_string()));
                        } else if let Ok(minutes) = value.trim_start_matches("offset:").parse::<i32>() {
                            s.time_zone.set(None);
                            s.utc_offset_minutes.set(minutes);
                        }
                    }>
                        <optgroup label="Fixed offsets">
                            {OFFSETS.into_iter().map(|m| view! { <option value=format!("offset:{m}") selected=move || s.time_zone.get().is_none() && s.utc_offset_minutes.get() == m>{format_offset(m)}</option> }).collect_view()}
                        </optgroup>
                        <optgroup label="Time zones (daylight saving)">
                            {zone_choices(s.time_zone.get_untracked()).into_iter().map(|(name, text)| {
                                let value = format!("zone:{name}");
                                view! { <option value=value selected=move || s.time_zone.get().as_deref() == Some(name.as_str())>{text}</option> }
                            }).collect_view()}
                        </optgroup>
                    </select>
                </label>
            </div>
            <div class="control-row">
                <label>"split by "
                    <select aria-label="Split by" data-testid="trend-split" prop:value=move || s.split.get().unwrap_or_default() on:change=move |e| s.split.set(opt_string(event_target_value(&e)))>
                        {move || options(names_of(|k| matches!(k, ColumnType::Category | ColumnType::Boolean)), s.split.get(), Some("(nothing)"))}
                    </select>
                </label>
                {move || s.split.get().is_some().then(|| view! {
                    <label>"top "
                        <input type="number" min="1" max=crate::analysis::series::MAX_SPLIT.to_string() class="narrow" data-testid="trend-top"
                            prop:value=move || s.top.get().to_string()
                            on:change=move |e| { if let Ok(n) = event_target_value(&e).parse::<usize>() { s.top.set(n.clamp(1, crate::analysis::series::MAX_SPLIT)) } }/>
                    </label>
                    <span class="toggle">
                        <button class="button small" class:primary=move || s.split_view.get() == SplitView::Stacked data-testid="split-stacked" on:click=move |_| s.split_view.set(SplitView::Stacked)>"stacked"</button>
                        <button class="button small" class:primary=move || s.split_view.get() == SplitView::Multiples data-testid="split-multiples" on:click=move |_| s.split_view.set(SplitView::Multiples)>"small multiples"</button>
                    </span>
                })}
                <label>"forecast "
                    <input type="number" min="0" max=MAX_HORIZON.to_string() class="narrow" data-testid="trend-horizon"
                        prop:value=move || s.horizon.get().to_string()
                        on:change=move |e| { if let Ok(n) = event_target_value(&e).parse::<usize>() { s.horizon.set(n.min(MAX_HORIZON)) } }/>
                    " periods"
                </label>
                <label title="Robust standard deviations from the expected value before a point is called anomalous">"anomaly threshold "
                    <input type="range" min="2" max="8" step="0.5" data-testid="trend-sensitivity"
                        prop:value=move || s.sensitivity.get().to_string()
                        on:change=move |e| { if let Ok(v) = event_target_value(&e).parse::<f64>() { s.sensitivity.set(v) } }/>
                    <span class="tabular">{move || format!(" {:.1} σ", s.sensitivity.get())}</span>
                </label>
                <label class="log-toggle"><input type="checkbox" data-testid="trend-log" prop:checked=move || s.log_trend.get() on:change=move |e| s.log_trend.set(event_target_checked(&e))/>"log trend"</label>
                <label>"goal "
                    <input type="number" step="any" class="narrow" placeholder="value" data-testid="trend-target"
                        prop:value=move || s.target.get().map(|t| t.to_string()).unwrap_or_default()
                        on:change=move |e| s.target.set(event_target_value(&e).trim().parse::<f64>().ok().filter(|t| t.is_finite()))/>
                </label>
            </div>
        </section>
    }
}

#[component]
fn TrendResults() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        let pending = state.trend_pending.get();
        match state.trend.get() {
            None if pending => view! { <section class="panel" data-testid="trend-pending"><p class="muted">"Building the series and fitting the models…"</p></section> }.into_any(),
            None => view! { <section class="panel"><p class="muted">"Choose what to measure above."</p></section> }.into_any(),
            Some(Err(message)) => view! { <section class="panel" data-testid="trend-error"><p class="problem">{message}</p></section> }.into_any(),
            Some(Ok(report)) => view! { <TrendReportView report=Arc::new(*report) pending=pending/> }.into_any(),
        }
    }
}

#[component]
fn TrendReportView(report: Arc<TrendReport>, pending: bool) -> impl IntoView {
    let state = expect_context::<AppState>();
    let rate = matches!(state.trend_settings.kind.get_untracked(), MetricKind::Rate);
    let series = &report.series;
    let zone = series.zone().label();
    let x_range = RwSignal::new(None::<(f64, f64)>);
    let hover = RwSignal::new(None::<usize>);
    let selected = RwSignal::new(None::<usize>);
    let title = format!("{} per {} ({zone})", capitalise(&series.metric_label), period_name(series.granularity));
    let mut notes: Vec<String> = Vec::new();
    if let Some(excluded) = &series.excluded {
        notes.push(format!(
            "{} rows dated {} – {} lie far outside the rest of the timeline (future-dated or mistyped?) and are left out of the chart.",
            format_count(excluded.rows),
            crate::data::time::format_display_ms(excluded.first_ms),
            crate::data::time::format_display_ms(excluded.last_ms)
        ));
    }
    if series.missing_time > 0 {
        notes.push(format!("{} selected rows have no time value.", format_count(series.missing_time)));
    }
    if series.missing_metric > 0 && !matches!(state.trend_settings.kind.get_untracked(), MetricKind::Count | MetricKind::Rate) {
        notes.push(format!("{} rows have no value to measure.", format_count(series.missing_metric)));
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
                notes.push(format!("{} periods without a value were interpolated for the models.", a.imputed));
            }
            format!("{} · {cycles} · {} periods · {:.0} ms", a.model, a.model_range.1 - a.model_range.0, report.elapsed_ms)
        }
        Err(message) => message.clone(),
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
        {analysis.ok().map(|a| {
            let a = Arc::new(a);
            view! {
                <Findings report=report.clone() analysis=a.clone() rate=rate/>
                <Incidents report=report.clone() analysis=a.clone() rate=rate selected=selected/>
                <Decomposition report=report.clone() analysis=a x_range=x_range hover=hover/>
            }
        })}
        {split.map(|r| view! { <SplitPanel report=r x_range=x_range hover=hover rate=rate/> })}
    }
}

/// The hover text for a period (observed, or forecast when past the last observed).
fn readout(report: &TrendReport, idx: usize, rate: bool) -> Option<String> {
    let s = &report.series;
    let fmt = |v: f64| fmt_value(v, rate);
    let a = report.analysis.as_ref().ok();
    if let Some(&start) = s.starts_ms.get(idx) {
        let mut text = format!("{}: {}", s.format_start(start), fmt(*s.values.get(idx)?));
        text.push_str(&format!(" ({} rows)", format_count(*s.rows.get(idx)?)));
        if let Some(a) = a {
            if let Some(e) = a.expected.get(idx).filter(|e| e.is_finite()) {
                text.push_str(&format!(" · expected {}", fmt(*e)));
            }
            if let (Some(lo), Some(hi)) = (a.one_step_lower.get(idx).filter(|v| v.is_finite()), a.one_step_upper.get(idx).filter(|v| v.is_finite())) {
                text.push_str(&format!(" · one-step 95 % {} – {}", fmt(*lo), fmt(*hi)));
            }
            if let Some(anomaly) = a.anomalies.iter().find(|x| x.index == idx) {
                text.push_str(&format!(" · anomaly ({}, z = {:.1})", if anomaly.direction == Direction::Spike { "spike" } else { "dip" }, anomaly.z));
            }
        }
        if idx < s.complete.0 || idx >= s.complete.1 {
            text.push_str(" · partial period, not modelled");
        }
        return Some(text);
    }
    let a = a?;
    let k = idx.checked_sub(a.model_range.1)?;
    let xs = forecast_x(s, a.model_range.1, a.forecast.point.len());
    let f = &a.forecast;
    Some(format!(
        "{}: forecast {} · 80 % {} – {} · 95 % {} – {}",
        s.format_start(*xs.get(k)? as i64),
        fmt(*f.point.get(k)?),
        fmt(*f.lower80.get(k)?),
        fmt(*f.upper80.get(k)?),
        fmt(*f.lower95.get(k)?),
        fmt(*f.upper95.get(k)?)
    ))
}

#[component]
fn TrendChart(report: Arc<TrendReport>, x_range: RwSignal<Option<(f64, f64)>>, hover: RwSignal<Option<usize>>, selected: RwSignal<Option<usize>>, rate: bool, title: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let canvas = NodeRef::<Canvas>::new();
    let problem = RwSignal::new(None::<String>);
    let drag = RwSignal::new(None::<(f64, f64)>);
    // A drag marks a window (baseline / incident) instead of zooming: with Shift held, or
    // while "Mark windows" is on.
    let mark_mode = RwSignal::new(false);
    let marking = RwSignal::new(false);
    let marks = state.trend_marks;
    let s = &report.series;
    let x: Arc<Vec<f64>> = Arc::new(s.starts_ms.iter().map(|&v| v as f64).collect());
    let fx = match &report.analysis {
        Ok(a) => forecast_x(s, a.model_range.1, a.forecast.point.len()),
        Err(_) => Vec::new(),
    };
    let fx = Arc::new(fx);
    let full_range = {
        let lo = x.first().copied().unwrap_or(0.0);
        let last_observed = s.next_start_ms(1).map_or(lo + 1.0, |v| v as f64);
        let hi = fx.last().copied().map_or(last_observed, |v| v.max(last_observed));
        (lo, hi)
    };
    // Combined index space: observed periods, then forecast periods past the last observed.
    let combined: Arc<Vec<f64>> = Arc::new(x.iter().copied().chain(fx.iter().copied().filter(|&v| v > x.last().copied().unwrap_or(f64::MIN))).collect());
    let granularity = s.granularity;
    let zone = s.zone();
    let draw_report = report.clone();
    let (x_draw, fx_draw, combined_draw) = (x.clone(), fx.clone(), combined.clone());
    Effect::new(move |_| {
        let range = x_range.get().unwrap_or(full_range);
        let hovered = hover.get();
        let brush = drag.get();
        let marked_ms = marks.get();
        let marked: Vec<(f64, f64, &str)> = marked_ms.iter().enumerate().map(|(k, &(a, b))| (a as f64, b as f64, mark_name(k, marked_ms.len()))).collect();
        let selected_incident = selected.get();
        let Some(element) = canvas.get() else { return };
        let r = &draw_report;
        let a = r.analysis.as_ref().ok();
        let anomalies: Vec<(usize, bool)> = a.map(|a| a.anomalies.iter().map(|x| (x.index, x.direction == Direction::Spike)).collect()).unwrap_or_default();
        let incidents: Vec<(usize, usize)> = a.map(|a| a.incidents.iter().map(|i| (i.start, i.end)).collect()).unwrap_or_default();
        let changepoints: Vec<(usize, f64, f64)> = a.map(|a| a.changepoints.iter().map(|c| (c.index, c.before, c.after)).collect()).unwrap_or_default();
        let linear: Vec<f64> = a.and_then(|a| a.linear.as_ref()).map(|l| (0..x_draw.len()).map(|i| if i >= r.series.complete.0 && i < r.series.complete.1 { l.at(i as f64) } else { f64::NAN }).collect()).unwrap_or_default();
        let partial: Vec<usize> = (0..r.series.complete.0).chain(r.series.complete.1..x_draw.len()).collect();
        let forecast = a.map(|a| ForecastDraw {
            x: &fx_draw,
            point: &a.forecast.point,
            lower80: &a.forecast.lower80,
            upper80: &a.forecast.upper80,
            lower95: &a.forecast.lower95,
            upper95: &a.forecast.upper95,
        });
        let chart = TimeChart {
            x: &x_draw,
            actual: &r.series.values,
            expected: a.map(|a| a.expected.as_slice()).unwrap_or_default(),
            linear: &linear,
            forecast,
            anomalies: &anomalies,
            incidents: &incidents,
            selected_incident,
            changepoints: &changepoints,
            partial: &partial,
            x_range: range,
            hover: hovered.and_then(|h| combined_draw.get(h).copied()),
            brush,
            marked: &marked,
        };
        let include_zero = !rate;
        let result = draw_on_canvas(&element, |area| {
            draw_time_chart(area, &chart, theme(), include_zero, &|v| format_bucket(granularity, zone, v as i64), &|v| axis_value(v, rate)).map_err(|e| e.to_string())
        });
        problem.set(result.err());
    });
    let value_at = move |event: &ev::MouseEvent| -> Option<f64> {
        let element = canvas.get_untracked()?;
        x_at(f64::from(event.offset_x()), f64::from(element.client_width()), x_range.get_untracked().unwrap_or(full_range))
    };
    let combined_hit = combined.clone();
    let on_move = move |event: ev::MouseEvent| {
        let value = value_at(&event);
        if let (Some((start, _)), Some(v)) = (drag.get_untracked(), value) {
            drag.set(Some((start, v)));
        }
        // Periods past the last observed one are forecast periods: the combined index is the
        // series index extended past its end (what `readout` expects).
        let found = value.and_then(|v| index_at(&combined_hit, v));
        if hover.get_untracked() != found {
            hover.set(found);
        }
    };
    let report_click = report.clone();
    let report_mark = report.clone();
    let on_up = move |_event: ev::MouseEvent| {
        let Some((a, b)) = drag.get_untracked() else { return };
        drag.set(None);
        if marking.get_untracked() {
            if let Some((start, end, _)) = report_mark.series.snap_window(a, b) {
                marks.update(|m| *m = add_mark(m, (start, end)));
            }
            return;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let range = x_range.get_untracked().unwrap_or(full_range);
        if hi - lo > (range.1 - range.0) / 100.0 {
            x_range.set(Some((lo, hi)));
        } else if let (Some(idx), Ok(analysis)) = (hover.get_untracked(), &report_click.analysis) {
            // A click on an incident (or one of its anomalies) opens it in Root cause.
            if let Some(incident) = analysis.incidents.iter().find(|i| idx >= i.start && idx <= i.end) {
                explain_periods(state, &report_click.series, incident.start, incident.end);
            }
        }
    };
    let report_readout = report.clone();
    let text = move || hover.get().and_then(|idx| readout(&report_readout, idx, rate));
    view! {
        <div class="chart trend-chart">
            <Exportable name="trend-chart" title=title>
                <canvas node_ref=canvas data-testid="trend-chart" style="height: 300px" class:marking=move || mark_mode.get()
                    on:mousemove=on_move
                    on:mousedown=move |e| { e.prevent_default(); if let Some(v) = value_at(&e) { marking.set(e.shift_key() || mark_mode.get_untracked()); drag.set(Some((v, v))) } }
                    on:mouseup=on_up
                    on:mouseleave=move |_| { hover.set(None); drag.set(None) }
                    on:dblclick=move |_| x_range.set(None)></canvas>
            </Exportable>
            <div class="chart-readout muted" aria-live="polite" data-testid="trend-readout">{move || text().unwrap_or_else(|| "\u{a0}".into())}</div>
            {move || problem.get().map(|p| view! { <p class="problem">"Chart could not be drawn: " {p}</p> })}
            <div class="legend small">
                <span><i class="swatch line-actual"></i>"actual"</span>
                <span><i class="swatch line-expected"></i>"expected (trend + seasonal)"</span>
                <span><i class="swatch line-linear"></i>"linear trend"</span>
                <span><i class="swatch band"></i>"forecast"</span>
                <span><i class="swatch dot"></i>"anomaly"</span>
                <button class="button small" data-testid="mark-mode" aria-pressed=move || mark_mode.get().to_string() class:active=move || mark_mode.get()
                    title="Drag on the chart to mark a baseline and an incident window (or hold Shift while dragging)"
                    on:click=move |_| mark_mode.update(|m| *m = !*m)>"Mark windows"</button>
                {move || x_range.get().map(|_| view! { <button class="button small" data-testid="zoom-reset" on:click=move |_| x_range.set(None)>"Reset zoom"</button> })}
            </div>
            <MarksBar series=Arc::new(report.series.clone())/>
        </div>
    }
}

/// The name drawn on marked window `k` of `count`: with two, the earlier is the baseline.
fn mark_name(k: usize, count: usize) -> &'static str {
    match (count, k) {
        (1, _) => "marked",
        (_, 0) => "baseline",
        _ => "incident",
    }
}

/// The marks after marking `window`: a third mark starts a new pair; kept in time order.
fn add_mark(marks: &[(i64, i64)], window: (i64, i64)) -> Vec<(i64, i64)> {
    let mut next: Vec<(i64, i64)> = if marks.len() >= 2 { Vec::new() } else { marks.to_vec() };
    next.push(window);
    next.sort_unstable();
    next
}

/// Periods of `series` starting in `[start, end)`, and the window as the reader sees it
/// (first period – last period).
fn describe_window(series: &Series, (start, end): (i64, i64)) -> (usize, String) {
    let inside: Vec<i64> = series.starts_ms.iter().copied().filter(|&s| s >= start && s < end).collect();
    let fmt = |ms: i64| series.format_start(ms);
    let text = match (inside.first(), inside.last()) {
        (Some(&a), Some(&b)) if a == b => fmt(a),
        (Some(&a), Some(&b)) => format!("{} – {}", fmt(a), fmt(b)),
        _ => fmt(start),
    };
    (inside.len(), text)
}

/// What is marked on the trend chart, and the buttons to explain it or start again.
#[component]
fn MarksBar(series: Arc<Series>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let marks = state.trend_marks;
    move || {
        let m = marks.get();
        if m.is_empty() {
            return ().into_any();
        }
        let unit = period_name(series.granularity);
        let show = |w: (i64, i64)| {
            let (n, text) = describe_window(&series, w);
            format!("{text} ({n} {unit}{})", if n == 1 { "" } else { "s" })
        };
        let clear = move |_| marks.set(Vec::new());
        let time_column = state.trend_settings.time.get_untracked();
        let body = match m.as_slice() {
            [only] => {
                let only = *only;
                let (granularity, data_start) = (series.granularity, series.starts_ms.first().copied());
                let explain = move |_| {
                    if let (Some(column), Some(data_start)) = (time_column.clone(), data_start) {
                        open_root_cause(state, column, only.0, only.1, baseline_span_ms(granularity), data_start);
                    }
                };
                view! {
                    <span>"Marked " <strong>{show(only)}</strong> ". Mark a second window to compare two ranges (the earlier is the baseline), or explain this one against the " {baseline_words(series.granularity)} " before it."</span>
                    <button class="button small primary" data-testid="marks-explain" on:click=explain>"Explain this window"</button>
                }
                .into_any()
            }
            [baseline, incident, ..] if baseline.1 > incident.0 => view! {
                <span class="problem" data-testid="marks-overlap">"The two windows overlap (" {show(*baseline)} " and " {show(*incident)} "): mark them apart."</span>
            }
            .into_any(),
            [baseline, incident, ..] => {
                let (baseline, incident) = (*baseline, *incident);
                let explain = move |_| {
                    if let Some(column) = time_column.clone() {
                        explain_windows(state, column, Window { start_ms: baseline.0, end_ms: baseline.1 }, Window { start_ms: incident.0, end_ms: incident.1 });
                    }
                };
                view! {
                    <span>"Baseline " <strong>{show(baseline)}</strong> " · incident " <strong>{show(incident)}</strong></span>
                    <button class="button small primary" data-testid="marks-explain" on:click=explain>"Explain the change"</button>
                }
                .into_any()
            }
            [] => ().into_any(),
        };
        view! {
            <div class="marks-bar small" data-testid="marks-bar">
                {body}
                <button class="button small" data-testid="marks-clear" on:click=clear>"Clear"</button>
            </div>
        }
        .into_any()
    }
}

/// The default baseline span in words (see [`baseline_span_ms`]).
fn baseline_words(granularity: Granularity) -> &'static str {
    match granularity {
        Granularity::Hour => "week",
        Granularity::Day | Granularity::Auto => "two weeks",
        Granularity::Week => "eight weeks",
        Granularity::Month => "six months",
    }
}

#[component]
fn Findings(report: Arc<TrendReport>, analysis: Arc<TrendAnalysis>, rate: bool) -> impl IntoView {
    let s = &report.series;
    let per = period_name(s.granularity);
    let fmt = |v: f64| fmt_value(v, rate);
    let projection = analysis.projection.as_ref().map(|p| {
        let xs = forecast_x(s, analysis.model_range.1, p.steps);
        let date = xs.last().map(|&ms| s.format_start(ms as i64)).unwrap_or_default();
        let goal = match (p.target, p.probability, p.target_above) {
            (Some(target), Some(prob), Some(above)) => format!(
                " Chance of {} {} by then: {:.0} %.",
                if above { "reaching" } else { "getting down to" },
                fmt(target),
                prob * 100.0
            ),
            _ => " Enter a goal above to see the chance of reaching it.".to_string(),
        };
        format!(
            "At the current trend, {} will be {} on {date} (80 % interval {} – {}).{goal}",
            s.metric_label,
            fmt(p.value),
            fmt(p.lower80),
            fmt(p.upper80)
        )
    });
    let linear = analysis.linear.as_ref().map(|l| {
        let p = if l.p_value < 0.001 { "p < 0.001".to_string() } else { format!("p = {:.3}", l.p_value) };
        let slope = if l.log { format!("{:+.2} % per {per}", (l.slope.exp() - 1.0) * 100.0) } else { format!("{} per {per}", fmt_signed(l.slope, rate)) };
        format!("Linear trend{}: {slope} (R² {:.2}, {p}, {} periods).", if l.log { " of log values" } else { "" }, l.r_squared, l.n)
    });
    let changepoints: Vec<String> = analysis
        .changepoints
        .iter()
        .filter_map(|c| {
            let start = *s.starts_ms.get(c.index)?;
            let change = if c.before.abs() > 0.0 { format!(" ({:+.0} %)", (c.after / c.before - 1.0) * 100.0) } else { String::new() };
            Some(format!("{}: level {} → {}{change}", s.format_start(start), fmt(c.before), fmt(c.after)))
        })
        .collect();
    view! {
        <section class="panel findings">
            <h2>"Outlook"</h2>
            {projection.map(|p| view! { <p data-testid="projection">{p}</p> })}
            {linear.map(|l| view! { <p data-testid="linear-trend">{l}</p> })}
            <div data-testid="changepoints">
                {if changepoints.is_empty() {
                    view! { <p class="muted">"No changepoint: the level has not shifted."</p> }.into_any()
                } else {
                    view! { <p>"Changepoints:"</p><ul>{changepoints.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul> }.into_any()
                }}
            </div>
        </section>
    }
}

/// The incident table as tab-separated text (pastes into documents and spreadsheets).
fn incidents_tsv(report: &TrendReport, incidents: &[Incident], rate: bool) -> String {
    let s = &report.series;
    let day = |idx: usize| s.starts_ms.get(idx).map(|&ms| s.format_start(ms)).unwrap_or_default();
    let mut out = format!("start\tend\tperiods\tpeak\tpeak value\tactual\texpected\texcess\tchange\tmax |z|\t({}, {})\n", s.metric_label, s.zone().label());
    for i in incidents {
        let change = if i.expected_total.abs() > 0.0 { format!("{:+.0} %", i.excess / i.expected_total * 100.0) } else { String::new() };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{change}\t{:.1}\n",
            day(i.start),
            day(i.end),
            i.end - i.start + 1,
            day(i.peak),
            fmt_value(i.peak_actual, rate),
            fmt_value(i.actual_total, rate),
            fmt_value(i.expected_total, rate),
            fmt_signed(i.excess, rate),
            i.max_z
        ));
    }
    out
}

#[component]
fn Incidents(report: Arc<TrendReport>, analysis: Arc<TrendAnalysis>, rate: bool, selected: RwSignal<Option<usize>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let s = report.series.clone();
    let incidents = analysis.incidents.clone();
    let copied = RwSignal::new(None::<String>);
    let tsv = incidents_tsv(&report, &incidents, rate);
    let tsv_copy = tsv.clone();
    let copy = move |_| {
        let text = tsv_copy.clone();
        let clipboard = web_sys::window().map(|w| w.navigator().clipboard());
        match clipboard {
            Some(clipboard) => {
                let _ = clipboard.write_text(&text);
                copied.set(Some("Copied as tab-separated text.".into()));
            }
            None => copied.set(Some("The clipboard is not available here; use Download.".into())),
        }
    };
    let csv = tsv.replace('\t', ",");
    let download = move |_| {
        if let Err(err) = download_text("incidents.csv", "text/csv", &csv) {
            copied.set(Some(format!("Download failed: {err}")));
        }
    };
    let time_column = state.trend_settings.time.get_untracked();
    let granularity = s.granularity;
    let zone = s.zone();
    let bucket = move |idx: usize| s.starts_ms.get(idx).map(|&ms| format_bucket(granularity, zone, ms)).unwrap_or_default();
    let series_for_filter = report.series.clone();
    let filter_to = move |first: usize, last: usize| {
        let Some(column) = time_column.clone() else { return };
        let start = series_for_filter.starts_ms.get(first).copied();
        let end = series_for_filter.starts_ms.get(last + 1).copied().or_else(|| series_for_filter.next_start_ms(1));
        state.filter.update(|f| f.clauses.push(Clause::TimeRange { column, start_ms: start, end_ms: end }));
        client::apply_view(state);
        state.tab.set(Tab::Data);
    };
    let series_for_explain = report.series.clone();
    let explain = move |first: usize, last: usize| explain_periods(state, &series_for_explain, first, last);
    view! {
        <section class="panel" data-testid="incidents">
            <div class="panel-head">
                <h2>{format!("Incidents · {}", incidents.len())}</h2>
                <span class="toggle">
                    <button class="button small" data-testid="copy-incidents" disabled=incidents.is_empty() on:click=copy>"Copy table"</button>
                    <button class="button small" data-testid="download-incidents" disabled=incidents.is_empty() on:click=download>"Download CSV"</button>
                </span>
            </div>
            {move || copied.get().map(|m| view! { <p class="muted small">{m}</p> })}
            {if incidents.is_empty() {
                view! { <p class="muted">"No stretch of periods stands out at this threshold."</p> }.into_any()
            } else {
                let bucket = bucket.clone();
                view! {
                    <div class="table-wrap short">
                        <table class="grid" data-testid="incident-table">
                            <thead><tr>
                                <th>"Start"</th><th>"End"</th><th class="num">"Periods"</th><th>"Peak"</th>
                                <th class="num">"Actual"</th><th class="num">"Expected"</th><th class="num">"Excess"</th><th class="num">"Change"</th><th class="num">"Max |z|"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {incidents.iter().enumerate().map(|(k, i)| {
                                    let (first, last) = (i.start, i.end);
                                    let filter_to = filter_to.clone();
                                    let explain = explain.clone();
                                    let change = if i.expected_total.abs() > 0.0 { format!("{:+.0} %", i.excess / i.expected_total * 100.0) } else { "—".into() };
                                    view! {
                                        <tr data-testid="incident-row" class:selected=move || selected.get() == Some(k) on:click=move |_| selected.set(Some(k))>
                                            <td>{bucket(i.start)}</td>
                                            <td>{bucket(i.end)}</td>
                                            <td class="num">{i.end - i.start + 1}</td>
                                            <td>{format!("{}: {}", bucket(i.peak), fmt_value(i.peak_actual, rate))}</td>
                                            <td class="num">{fmt_value(i.actual_total, rate)}</td>
                                            <td class="num">{fmt_value(i.expected_total, rate)}</td>
                                            <td class="num" class:spike=i.direction == Direction::Spike class:dip=i.direction == Direction::Dip>{fmt_signed(i.excess, rate)}</td>
                                            <td class="num">{change}</td>
                                            <td class="num">{format!("{:.1}", i.max_z)}</td>
                                            <td class="actions">
                                                <button class="button small primary" data-testid="incident-explain" title="What drove it: compare with the weeks before in Root cause"
                                                    on:click=move |e| { e.stop_propagation(); explain(first, last) }>"Explain"</button>
                                                <button class="button small" data-testid="incident-filter" title="Add this period to the global filter and show its rows"
                                                    on:click=move |e| { e.stop_propagation(); filter_to(first, last) }>"Show rows"</button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            <p class="muted small">{if rate {
                "Actual and expected are summed rates over the incident's periods; excess is their difference."
            } else {
                "Excess is actual minus expected (trend + seasonal), summed over the incident's periods: the volume to explain."
            }}</p>
        </section>
    }
}

/// A small panel chart sharing the main chart's zoom and hover.
#[component]
fn Panel(x: Arc<Vec<f64>>, y: Vec<f64>, color: (u8, u8, u8), bars: bool, x_range: RwSignal<Option<(f64, f64)>>, full_range: (f64, f64), hover: RwSignal<Option<usize>>, granularity: Granularity, zone: Zone, rate: bool, testid: String, title: String) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let problem = RwSignal::new(None::<String>);
    let xd = x.clone();
    Effect::new(move |_| {
        let range = x_range.get().unwrap_or(full_range);
        let hovered = hover.get();
        let Some(element) = canvas.get() else { return };
        let (r, g, b) = color;
        let result = draw_on_canvas(&element, |area| {
            draw_line_panel(area, &xd, &y, range, theme(), plotters::style::RGBColor(r, g, b), bars, hovered, &|v| format_bucket(granularity, zone, v as i64), &|v| axis_value(v, rate))
                .map_err(|e| e.to_string())
        });
        problem.set(result.err());
    });
    let xh = x.clone();
    let on_move = move |event: ev::MouseEvent| {
        let Some(element) = canvas.get_untracked() else { return };
        let found = x_at(f64::from(event.offset_x()), f64::from(element.client_width()), x_range.get_untracked().unwrap_or(full_range)).and_then(|v| index_at(&xh, v));
        if hover.get_untracked() != found {
            hover.set(found);
        }
    };
    view! {
        <Exportable name=testid.clone() title=title>
            <canvas node_ref=canvas data-testid=testid style="height: 110px" on:mousemove=on_move on:mouseleave=move |_| hover.set(None) on:dblclick=move |_| x_range.set(None)></canvas>
        </Exportable>
        {move || problem.get().map(|p| view! { <p class="problem">{p}</p> })}
    }
}

fn observed_range(series: &Series) -> (f64, f64) {
    let lo = series.starts_ms.first().map_or(0.0, |&v| v as f64);
    let hi = series.next_start_ms(1).map_or(lo + 1.0, |v| v as f64);
    (lo, hi)
}

#[component]
fn Decomposition(report: Arc<TrendReport>, analysis: Arc<TrendAnalysis>, x_range: RwSignal<Option<(f64, f64)>>, hover: RwSignal<Option<usize>>) -> impl IntoView {
    let s = &report.series;
    let x = Arc::new(s.starts_ms.iter().map(|&v| v as f64).collect::<Vec<f64>>());
    let full = observed_range(s);
    let rate = report.series.metric_label.starts_with("share");
    let (granularity, zone) = (s.granularity, s.zone());
    let per = period_name(granularity);
    /// Title, values, colour, drawn as bars, test id.
    struct Component(String, Vec<f64>, (u8, u8, u8), bool, String);
    let mut panels = vec![Component("Trend".into(), analysis.trend.clone(), PALETTE[0], false, "decomp-trend".into())];
    for (k, seasonal) in analysis.seasonal.iter().enumerate() {
        let color = PALETTE.get(2 + k).copied().unwrap_or(PALETTE[11]);
        panels.push(Component(format!("Seasonal: cycle of {} {per}s", seasonal.period), seasonal.values.clone(), color, false, format!("decomp-seasonal-{}", seasonal.period)));
    }
    panels.push(Component("Remainder (actual − trend − seasonal)".into(), analysis.remainder.clone(), PALETTE[3], true, "decomp-remainder".into()));
    view! {
        <section class="panel" data-testid="decomposition">
            <h2>"Decomposition"</h2>
            <div class="panels">
                {panels.into_iter().map(|Component(title, y, color, bars, testid)| view! {
                    <div class="chart">
                        <p class="small muted">{title.clone()}</p>
                        <Panel x=x.clone() y=y color=color bars=bars x_range=x_range full_range=full hover=hover granularity=granularity zone=zone rate=rate testid=testid title=format!("{} — {title}", report.series.metric_label)/>
                    </div>
                }).collect_view()}
            </div>
        </section>
    }
}

#[component]
fn SplitPanel(report: Arc<TrendReport>, x_range: RwSignal<Option<(f64, f64)>>, hover: RwSignal<Option<usize>>, rate: bool) -> impl IntoView {
    let state = expect_context::<AppState>();
    let s = report.series.clone();
    let x = Arc::new(s.starts_ms.iter().map(|&v| v as f64).collect::<Vec<f64>>());
    let full = observed_range(&s);
    let (granularity, zone) = (s.granularity, s.zone());
    let column = state.trend_settings.split.get_untracked().unwrap_or_default();
    // Shares and rates do not add up: stack only counts and sums.
    let stackable = matches!(state.trend_settings.kind.get_untracked(), MetricKind::Count | MetricKind::Sum);
    let canvas = NodeRef::<Canvas>::new();
    let problem = RwSignal::new(None::<String>);
    let groups = s.groups.clone();
    let xd = x.clone();
    Effect::new(move |_| {
        let view_kind = state.trend_settings.split_view.get();
        let range = x_range.get().unwrap_or(full);
        let hovered = hover.get();
        if view_kind != SplitView::Stacked || !stackable {
            return;
        }
        let Some(element) = canvas.get() else { return };
        let values: Vec<&[f64]> = groups.iter().map(|g| g.values.as_slice()).collect();
        let result = draw_on_canvas(&element, |area| {
            draw_stacked(area, &xd, &values, range, theme(), hovered, &|v| format_bucket(granularity, zone, v as i64), &|v| axis_value(v, rate)).map_err(|e| e.to_string())
        });
        problem.set(result.err());
    });
    let legend: Vec<(String, u64, usize)> = s.groups.iter().enumerate().map(|(k, g)| (g.label.clone(), g.rows, k)).collect();
    let multiples = s.groups.clone();
    view! {
        <section class="panel" data-testid="split-panel">
            <h2>{format!("By {column}")}</h2>
            <div class="legend small">
                {legend.into_iter().map(|(label, rows, k)| {
                    let (r, g, b) = PALETTE.get(k).copied().unwrap_or(PALETTE[11]);
                    view! { <span><i class="swatch" style=format!("background: rgb({r},{g},{b})")></i>{format!("{label} ({} rows)", format_count(rows))}</span> }
                }).collect_view()}
            </div>
            {move || {
                let view_kind = state.trend_settings.split_view.get();
                if view_kind == SplitView::Stacked && stackable {
                    view! { <div class="chart"><Exportable name="split-chart" title=format!("{} by {column}", s.metric_label)><canvas node_ref=canvas data-testid="split-chart" style="height: 240px"></canvas></Exportable></div> }.into_any()
                } else {
                    let x = x.clone();
                    view! {
                        {(!stackable && view_kind == SplitView::Stacked).then(|| view! { <p class="muted small">"Means, percentiles, distinct counts and shares do not add up across groups: shown as small multiples."</p> })}
                        <div class="multiples" data-testid="split-multiples">
                            {multiples.iter().enumerate().map(|(k, g)| {
                                let color = palette(k);
                                view! {
                                    <div class="chart">
                                        <p class="small">{g.label.clone()}</p>
                                        <Panel x=x.clone() y=g.values.clone() color=(color.0, color.1, color.2) bars=false x_range=x_range full_range=full hover=hover granularity=granularity zone=zone rate=rate testid=format!("multiple-{k}") title=format!("{} — {column} = {}", s.metric_label, g.label)/>
                                    </div>
                                }
                            }).collect_view()}
                        </div>
                    }.into_any()
                }
            }}
            {move || problem.get().map(|p| view! { <p class="problem">{p}</p> })}
        </section>
    }
}
