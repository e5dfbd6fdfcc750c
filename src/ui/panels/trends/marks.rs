//! Windows marked on the trend chart, and explaining a change: the marks bar, and the
//! intent that opens Root cause on two windows.

use super::*;

/// Opens periods `first ..= last` of the series in the Root cause tab, against the span before
/// them (whole weeks, not before the data starts).
pub(super) fn explain_periods(state: AppState, series: &Series, first: usize, last: usize) {
    if let Some((baseline, incident)) = incident_windows(series, first, last) {
        explain(state, baseline, incident);
    }
}

/// Asks the Root cause tab to explain the change between two windows, in this tab's metric.
pub(super) fn explain(state: AppState, baseline: Window, incident: Window) {
    let settings = TrendsPanel::get().settings.get_untracked();
    let Some(time_column) = settings.time.clone() else { return };
    state.intent.set(Some(Intent::Explain { time_column, metric: settings.decomposable_metric(), baseline, incident }));
}

/// Asks the Measure tab for the impact of a launch from `start_ms`, in this tab's metric,
/// periods and split.
fn measure_launch(state: AppState, start_ms: i64, granularity: Granularity) {
    let settings = TrendsPanel::get().settings.get_untracked();
    let (Some(time_column), Some(metric)) = (settings.time.clone(), settings.metric()) else { return };
    state.intent.set(Some(Intent::MeasureLaunch { time_column, metric, weekly: granularity == Granularity::Week, split: settings.split.clone(), intervention_ms: start_ms }));
}

/// The name drawn on marked window `k` of `count`: with two, the earlier is the baseline.
pub(super) fn mark_name(k: usize, count: usize) -> &'static str {
    match (count, k) {
        (1, _) => "marked",
        (_, 0) => "baseline",
        _ => "incident",
    }
}

/// The marks after marking `window`: a third mark starts a new pair; kept in time order.
pub(super) fn add_mark(marks: &[(i64, i64)], window: (i64, i64)) -> Vec<(i64, i64)> {
    let mut next: Vec<(i64, i64)> = if marks.len() >= 2 { Vec::new() } else { marks.to_vec() };
    next.push(window);
    next.sort_unstable();
    next
}

/// Periods of `series` starting in `[start, end)`, and the window as the reader sees it
/// (first period – last period).
pub(super) fn describe_window(series: &Series, (start, end): (i64, i64)) -> (usize, String) {
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
pub(super) fn MarksBar(series: Arc<Series>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let marks = TrendsPanel::get().marks;
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
        let body = match m.as_slice() {
            [only] => {
                let only = *only;
                let (granularity, data_start) = (series.granularity, series.starts_ms.first().copied());
                let explain = move |_| {
                    if let Some(data_start) = data_start {
                        let baseline = baseline_before(only.0, granularity, data_start);
                        explain(state, baseline, Window { start_ms: only.0, end_ms: only.1 });
                    }
                };
                let launch = move |_| measure_launch(state, only.0, granularity);
                view! {
                    <span>"Marked " <strong>{show(only)}</strong> ". Mark a second window to compare two ranges (the earlier is the baseline), or explain this one against the " {baseline_words(series.granularity)} " before it."</span>
                    <button class="button small primary" data-testid="marks-explain" on:click=explain>"Explain this window"</button>
                    <button class="button small" data-testid="marks-launch" title="Measure the impact of a launch that took effect when this window starts (Measure tab)" on:click=launch>"Measure a launch from here"</button>
                }
                .into_any()
            }
            [baseline, incident, ..] if baseline.1 > incident.0 => view! {
                <span class="problem" data-testid="marks-overlap">"The two windows overlap (" {show(*baseline)} " and " {show(*incident)} "): mark them apart."</span>
            }
            .into_any(),
            [baseline, incident, ..] => {
                let (baseline, incident) = (*baseline, *incident);
                let explain = move |_| explain(state, Window { start_ms: baseline.0, end_ms: baseline.1 }, Window { start_ms: incident.0, end_ms: incident.1 });
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

/// The default baseline span in words (see [`crate::analysis::trend::baseline_span_ms`]).
pub(super) fn baseline_words(granularity: Granularity) -> &'static str {
    match granularity {
        Granularity::Hour => "week",
        Granularity::Day | Granularity::Auto => "two weeks",
        Granularity::Week => "eight weeks",
        Granularity::Month => "six months",
    }
}

