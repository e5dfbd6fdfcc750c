//! The trend chart: actual, expected and the forecast bands, anomalies, incidents,
//! changepoints and marked windows; hover read-out, drag to zoom, Shift-drag to mark.

use super::*;

/// The hover text for a period (observed, or forecast when past the last observed).
pub(super) fn readout(report: &TrendReport, idx: usize, rate: bool) -> Option<String> {
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
            if let Some(change) = a.changepoints.iter().find(|c| c.index == idx) {
                text.push_str(&format!(" · changepoint: level {} → {}", fmt(change.before), fmt(change.after)));
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
pub(super) fn TrendChart(report: Arc<TrendReport>, x_range: RwSignal<Option<(f64, f64)>>, hover: RwSignal<Option<usize>>, selected: RwSignal<Option<usize>>, rate: bool, title: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let canvas = NodeRef::<Canvas>::new();
    let problem = RwSignal::new(None::<String>);
    let drag = RwSignal::new(None::<(f64, f64)>);
    // A drag marks a window (baseline / incident) instead of zooming: with Shift held, or
    // while "Mark windows" is on.
    let mark_mode = RwSignal::new(false);
    let marking = RwSignal::new(false);
    let marks = TrendsPanel::get().marks;
    let s = &report.series;
    let layers = Arc::new(TrendLayers::of(&report));
    let full_range = layers.full_range;
    // Combined index space: observed periods, then forecast periods past the last observed.
    let last_x = layers.x.last().copied().unwrap_or(f64::MIN);
    let combined: Arc<Vec<f64>> = Arc::new(layers.x.iter().copied().chain(layers.forecast_x.iter().copied().filter(|&v| v > last_x)).collect());
    let granularity = s.granularity;
    let zone = s.clock();
    let draw_report = report.clone();
    let combined_draw = combined.clone();
    Effect::new(move |_| {
        let range = x_range.get().unwrap_or(full_range);
        let hovered = hover.get();
        let brush = drag.get();
        let marked_ms = marks.get();
        let selected_incident = selected.get();
        let Some(element) = canvas.get() else { return };
        let hover = hovered.and_then(|h| combined_draw.get(h).copied());
        let (layers, draw_report, zone) = (layers.clone(), draw_report.clone(), zone.clone());
        draw_soon(&element, move |element| {
            let marked: Vec<(f64, f64, &str)> = marked_ms.iter().enumerate().map(|(k, &(a, b))| (a as f64, b as f64, mark_name(k, marked_ms.len()))).collect();
            let chart = TimeChart { selected_incident, hover, brush, marked: &marked, ..layers.chart(&draw_report, range) };
            let include_zero = !rate;
            let result = draw_on_canvas(element, |area| {
                draw_time_chart(area, &chart, theme(), include_zero, &|v| format_bucket(granularity, &zone, v as i64), &|v| axis_value(v, rate)).map_err(|e| e.to_string())
            });
            problem.try_set(result.err());
        });
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
    let has_changepoints = report.analysis.as_ref().is_ok_and(|a| !a.changepoints.is_empty());
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
                {has_changepoints.then(|| view! { <span data-testid="legend-changepoint" title="A dashed line where the level shifts, with the level before and after"><i class="swatch changepoint"></i>"changepoint"</span> })}
                <button class="button small" data-testid="mark-mode" aria-pressed=move || mark_mode.get().to_string() class:active=move || mark_mode.get()
                    title="Drag on the chart to mark a baseline and an incident window (or hold Shift while dragging)"
                    on:click=move |_| mark_mode.update(|m| *m = !*m)>"Mark windows"</button>
                {move || x_range.get().map(|_| view! { <button class="button small" data-testid="zoom-reset" on:click=move |_| x_range.set(None)>"Reset zoom"</button> })}
            </div>
            <MarksBar series=Arc::new(report.series.clone())/>
        </div>
    }
}

