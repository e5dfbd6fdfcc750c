//! What the models found: the outlook (trend, projection, changepoints) and the incident
//! table (copy, download, show rows, explain).

use super::*;

#[component]
pub(super) fn Findings(report: Arc<TrendReport>, analysis: Arc<TrendAnalysis>, rate: bool) -> impl IntoView {
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
        let slope = if l.log { format!("{} % per {per}", crate::format::format_signed((l.slope.exp() - 1.0) * 100.0, 2)) } else { format!("{} per {per}", fmt_signed(l.slope, rate)) };
        format!("Linear trend{}: {slope} (R² {:.2}, {p}, {} periods).", if l.log { " of log values" } else { "" }, l.r_squared, l.n)
    });
    let changepoints: Vec<String> = analysis
        .changepoints
        .iter()
        .filter_map(|c| {
            let start = *s.starts_ms.get(c.index)?;
            let change = if c.before.abs() > 0.0 { format!(" ({} %)", crate::format::format_signed((c.after / c.before - 1.0) * 100.0, 0)) } else { String::new() };
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
pub(super) fn incidents_tsv(report: &TrendReport, incidents: &[Incident], rate: bool) -> String {
    let s = &report.series;
    let day = |idx: usize| s.starts_ms.get(idx).map(|&ms| s.format_start(ms)).unwrap_or_default();
    let mut out = format!("start\tend\tperiods\tpeak\tpeak value\tactual\texpected\texcess\tchange\tmax |z|\t({}, {})\n", s.metric_label, s.zone_label());
    for i in incidents {
        let change = if i.expected_total.abs() > 0.0 { format!("{} %", crate::format::format_signed(i.excess / i.expected_total * 100.0, 0)) } else { String::new() };
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
pub(super) fn Incidents(report: Arc<TrendReport>, analysis: Arc<TrendAnalysis>, rate: bool, selected: RwSignal<Option<usize>>) -> impl IntoView {
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
    let time_column = TrendsPanel::get().settings.with_untracked(|s| s.time.clone());
    let granularity = s.granularity;
    let zone = s.clock();
    let bucket = move |idx: usize| s.starts_ms.get(idx).map(|&ms| format_bucket(granularity, &zone, ms)).unwrap_or_default();
    let series_for_filter = report.series.clone();
    let filter_to = move |first: usize, last: usize| {
        let Some(column) = time_column.clone() else { return };
        let start = series_for_filter.starts_ms.get(first).copied();
        let end = series_for_filter.starts_ms.get(last + 1).copied().or_else(|| series_for_filter.next_start_ms(1));
        state.show_rows(Clause::TimeRange { column, start_ms: start, end_ms: end });
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
                                <th>"Start"</th><th>"End"</th><th class="num">"Periods"</th><th title="The period furthest from what was expected (not always the highest value), and its value">"Furthest from expected"</th>
                                <th class="num">"Actual"</th><th class="num">"Expected"</th><th class="num">"Excess"</th><th class="num">"Change"</th><th class="num">"Max |z|"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {incidents.iter().enumerate().map(|(k, i)| {
                                    let (first, last) = (i.start, i.end);
                                    let filter_to = filter_to.clone();
                                    let explain = explain.clone();
                                    let change = if i.expected_total.abs() > 0.0 { format!("{} %", crate::format::format_signed(i.excess / i.expected_total * 100.0, 0)) } else { "—".into() };
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

