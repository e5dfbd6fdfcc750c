//! The Trends tab's controls: what to measure, over which time column and zone, split by
//! what, and the models' settings.

use super::*;

/// Time zones offered (minutes east of UTC).
pub(super) const OFFSETS: [i32; 30] = [
    -720, -660, -600, -540, -480, -420, -360, -300, -240, -180, -120, -60, 0, 60, 120, 180, 210, 240, 270, 300, 330, 345, 360,
    420, 480, 540, 570, 600, 660, 720,
];

/// IANA zones offered besides fixed offsets (analysts' usual reporting zones).
pub(super) const ZONES: [&str; 39] = [
    "America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York", "America/Toronto", "America/Mexico_City",
    "America/Bogota", "America/Sao_Paulo", "America/Argentina/Buenos_Aires", "Europe/London", "Europe/Dublin", "Europe/Lisbon",
    "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Warsaw", "Europe/Istanbul",
    "Europe/Moscow", "Africa/Lagos", "Africa/Cairo", "Africa/Johannesburg", "Africa/Nairobi", "Asia/Dubai", "Asia/Karachi",
    "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok", "Asia/Jakarta", "Asia/Singapore", "Asia/Manila", "Asia/Shanghai",
    "Asia/Hong_Kong", "Asia/Seoul", "Asia/Tokyo", "Australia/Perth", "Australia/Sydney", "Pacific/Auckland",
];

/// The browser's own IANA zone (the worker says so if the tz database does not know it).
/// Asked once per page.
pub(super) fn browser_zone() -> Option<String> {
    thread_local! {
        static ZONE: Option<String> = {
            temporal_zone().or_else(intl_zone).filter(|name| {
                // A UTC browser adds nothing to the fixed offsets.
                let fixed = name == "UTC" || name == "GMT" || name.starts_with("Etc/");
                !fixed && crate::analysis::series::plausible_zone_name(name)
            })
        };
    }
    ZONE.with(Clone::clone)
}

/// `Temporal.Now.timeZoneId()`, where the browser has Temporal (Chromium 156 here does): under
/// 0.1 ms, where the first `Intl.DateTimeFormat` of a page took 17–41 ms of the main thread
/// (2026-12-05), and a 38–64 ms task in budget runs.
fn temporal_zone() -> Option<String> {
    use wasm_bindgen::JsCast;
    let get = |target: &wasm_bindgen::JsValue, key: &str| js_sys::Reflect::get(target, &key.into()).ok().filter(|v| !v.is_undefined() && !v.is_null());
    let now = get(&js_sys::global(), "Temporal").and_then(|temporal| get(&temporal, "Now"))?;
    let zone_id = get(&now, "timeZoneId")?.dyn_into::<js_sys::Function>().ok()?;
    zone_id.call0(&now).ok()?.as_string()
}

/// The zone an `Intl.DateTimeFormat` resolves to, where the browser has no Temporal.
fn intl_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into()).ok().and_then(|z| z.as_string())
}

/// The zone choices: the browser's first, the usual ones, and one chosen elsewhere (a link).
pub(super) fn zone_choices(chosen: Option<String>) -> Vec<(String, String)> {
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


#[component]
pub(super) fn TrendControls(columns: Memo<Vec<ColumnSummary>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let s = TrendsPanel::get().settings;
    let names_of = move |pred: fn(ColumnType) -> bool| columns.get().into_iter().filter(|c| pred(c.kind)).map(|c| c.name).collect::<Vec<_>>();
    // The select's value is set through `prop:value` so it follows the settings.
    let options = crate::ui::controls::name_options;
    let opt_string = |v: String| (!v.is_empty()).then_some(v);
    // Values for the rate condition (the most frequent values of its column).
    Effect::new(move |_| {
        if s.with(|s| s.metric) == MetricKind::Rate {
            if let Some(column) = s.with(|s| s.column.clone()) {
                client::send(crate::protocol::Request::ColumnValues { column, limit: 200 }, None);
            }
        }
    });
    let column_choice = move || {
        let kind = s.with(|s| s.metric);
        let pred: fn(ColumnType) -> bool = match kind {
            MetricKind::Count => return None,
            MetricKind::Sum | MetricKind::Mean | MetricKind::Median | MetricKind::P95 | MetricKind::Ratio => |k| matches!(k, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean),
            MetricKind::Distinct => |k| k != ColumnType::Text,
            MetricKind::Rate => |k| matches!(k, ColumnType::Category | ColumnType::Boolean | ColumnType::Integer),
        };
        let names = names_of(pred);
        // Keep the chosen column only if it fits the metric.
        let current = s.with(|s| s.column.clone()).filter(|c| names.contains(c));
        if current.is_none() && s.with_untracked(|s| s.column.clone()).is_some() {
            s.update(|s| s.column = None);
        }
        Some(view! {
            <select aria-label="Metric column" data-testid="trend-column" prop:value=move || s.with(|s| s.column.clone()).unwrap_or_default() on:change=move |e| { s.update(|s| s.rate_value = None); s.update(|s| s.column = opt_string(event_target_value(&e))) }>
                {options(names, current, Some("choose a column…"))}
            </select>
        })
    };
    let rate_value = move || {
        (s.with(|s| s.metric) == MetricKind::Rate).then(|| {
            let column = s.with(|s| s.column.clone());
            let values: Vec<String> = state
                .column_values
                .get()
                .filter(|cv| Some(&cv.column) == column.as_ref())
                .map(|cv| cv.values.into_iter().map(|(v, _)| v).collect())
                .unwrap_or_default();
            view! {
                <span class="muted">"="</span>
                <select aria-label="Rate value" data-testid="trend-rate-value" prop:value=move || s.with(|s| s.rate_value.clone()).unwrap_or_default() on:change=move |e| s.update(|s| s.rate_value = opt_string(event_target_value(&e)))>
                    {options(values, s.with(|s| s.rate_value.clone()), Some("choose a value…"))}
                </select>
            }
        })
    };
    // A ratio of sums: the numerator is the metric column, the denominator another numeric one.
    let denominator = move || {
        (s.with(|s| s.metric) == MetricKind::Ratio).then(|| {
            let names = names_of(|k| matches!(k, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean));
            let current = s.with(|s| s.denominator.clone()).filter(|c| names.contains(c));
            view! {
                <span class="muted">"÷"</span>
                <select aria-label="Ratio denominator" data-testid="trend-denominator" prop:value=move || s.with(|s| s.denominator.clone()).unwrap_or_default() on:change=move |e| s.update(|s| s.denominator = opt_string(event_target_value(&e)))>
                    {options(names, current, Some("choose a denominator…"))}
                </select>
            }
        })
    };
    view! {
        <section class="panel trend-controls" data-testid="trend-controls">
            <div class="control-row">
                <label>"Metric "
                    <select aria-label="Metric" data-testid="trend-metric" on:change=move |e| {
                        if let Some(kind) = MetricKind::from_slug(&event_target_value(&e)) { s.update(|s| s.metric = kind) }
                    }>
                        {MetricKind::ALL.into_iter().map(|k| view! { <option value=k.slug() selected=move || s.with(|s| s.metric) == k>{k.label()}</option> }).collect_view()}
                    </select>
                </label>
                <span class="control-group">{column_choice}{rate_value}{denominator}</span>
                <label>"over "
                    <select aria-label="Time column" data-testid="trend-time" prop:value=move || s.with(|s| s.time.clone()).unwrap_or_default() on:change=move |e| s.update(|s| s.time = opt_string(event_target_value(&e)))>
                        {move || options(names_of(|k| k == ColumnType::Timestamp), s.with(|s| s.time.clone()), None)}
                    </select>
                </label>
                <label>"per "
                    <select aria-label="Granularity" data-testid="trend-granularity" on:change=move |e| {
                        if let Some(g) = Granularity::from_label(&event_target_value(&e)) {
                            // The series on screen: what the setting stood for, and the span a new Auto resolves over.
                            let (shown, span) = TrendsPanel::get().job.result.with_untracked(|r| match r {
                                Some(Ok(report)) => {
                                    let series = &report.series;
                                    let span = series.starts_ms.first().zip(series.next_start_ms(1)).map(|(a, b)| b - a);
                                    (Some(series.granularity), span)
                                }
                                _ => (None, None),
                            });
                            s.update(|s| s.set_granularity(g, shown, span));
                        }
                    }>
                        {Granularity::ALL.into_iter().map(|g| view! { <option value=g.label() selected=move || s.with(|s| s.granularity) == g>{g.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"time zone "
                    <select aria-label="Time zone" class="zone-select" data-testid="trend-offset" on:change=move |e| {
                        let value = event_target_value(&e);
                        if let Some(name) = value.strip_prefix("zone:") {
                            s.update(|s| s.time_zone = Some(name.to_string()));
                        } else if let Ok(minutes) = value.trim_start_matches("offset:").parse::<i32>() {
                            s.update(|s| s.time_zone = None);
                            s.update(|s| s.utc_offset_minutes = minutes);
                        }
                    }>
                        <optgroup label="Fixed offsets">
                            {OFFSETS.into_iter().map(|m| view! { <option value=format!("offset:{m}") selected=move || s.with(|s| s.time_zone.clone()).is_none() && s.with(|s| s.utc_offset_minutes) == m>{format_offset(m)}</option> }).collect_view()}
                        </optgroup>
                        <optgroup label="Time zones (daylight saving)">
                            {zone_choices(s.with_untracked(|s| s.time_zone.clone())).into_iter().map(|(name, text)| {
                                let value = format!("zone:{name}");
                                view! { <option value=value selected=move || s.with(|s| s.time_zone.clone()).as_deref() == Some(name.as_str())>{text}</option> }
                            }).collect_view()}
                        </optgroup>
                    </select>
                </label>
            </div>
            <div class="control-row">
                <label>"split by "
                    <select aria-label="Split by" data-testid="trend-split" prop:value=move || s.with(|s| s.split.clone()).unwrap_or_default() on:change=move |e| s.update(|s| s.split = opt_string(event_target_value(&e)))>
                        {move || options(names_of(|k| matches!(k, ColumnType::Category | ColumnType::Boolean)), s.with(|s| s.split.clone()), Some("(nothing)"))}
                    </select>
                </label>
                {move || s.with(|s| s.split.clone()).is_some().then(|| view! {
                    <label>"top "
                        <input type="number" min="1" max=crate::analysis::series::MAX_SPLIT.to_string() class="narrow" data-testid="trend-top"
                            prop:value=move || s.with(|s| s.top).to_string()
                            on:change=move |e| { if let Ok(n) = event_target_value(&e).parse::<usize>() { s.update(|s| s.top = n.clamp(1, crate::analysis::series::MAX_SPLIT)) } }/>
                    </label>
                    <span class="toggle">
                        <button class="button small" class:primary=move || !s.with(|s| s.multiples) data-testid="split-stacked" on:click=move |_| s.update(|s| s.multiples = false)>"stacked"</button>
                        <button class="button small" class:primary=move || s.with(|s| s.multiples) data-testid="split-multiples" on:click=move |_| s.update(|s| s.multiples = true)>"small multiples"</button>
                    </span>
                })}
                <label>"forecast "
                    <input type="number" min="0" max=MAX_HORIZON.to_string() class="narrow" data-testid="trend-horizon"
                        prop:value=move || s.with(|s| s.horizon).to_string()
                        on:change=move |e| { if let Ok(n) = event_target_value(&e).parse::<usize>() { s.update(|s| s.horizon = n.min(MAX_HORIZON)) } }/>
                    " periods"
                </label>
                <label title="Robust standard deviations from the expected value before a point is called anomalous">"anomaly threshold "
                    <input type="range" min="2" max="8" step="0.5" data-testid="trend-sensitivity"
                        prop:value=move || s.with(|s| s.sensitivity).to_string()
                        on:change=move |e| { if let Ok(v) = event_target_value(&e).parse::<f64>() { s.update(|s| s.sensitivity = v) } }/>
                    <span class="tabular">{move || format!(" {:.1} σ", s.with(|s| s.sensitivity))}</span>
                </label>
                <label class="log-toggle"><input type="checkbox" data-testid="trend-log" prop:checked=move || s.with(|s| s.log_trend) on:change=move |e| s.update(|s| s.log_trend = event_target_checked(&e))/>"log trend"</label>
                <label>"goal "
                    <input type="number" step="any" class="narrow" placeholder="value" data-testid="trend-target"
                        prop:value=move || s.with(|s| s.target).map(|t| t.to_string()).unwrap_or_default()
                        on:change=move |e| s.update(|s| s.target = event_target_value(&e).trim().parse::<f64>().ok().filter(|t| t.is_finite()))/>
                </label>
            </div>
        </section>
    }
}

