//! The decomposition panels and the split view, sharing the main chart's zoom and hover.

use super::*;

/// A small panel chart sharing the main chart's zoom and hover.
#[component]
pub(super) fn Panel(x: Arc<Vec<f64>>, y: Vec<f64>, color: (u8, u8, u8), bars: bool, x_range: RwSignal<Option<(f64, f64)>>, full_range: (f64, f64), hover: RwSignal<Option<usize>>, granularity: Granularity, zone: Clock, rate: bool, testid: String, title: String) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let problem = RwSignal::new(None::<String>);
    let (xd, y) = (x.clone(), Arc::new(y));
    Effect::new(move |_| {
        let range = x_range.get().unwrap_or(full_range);
        let hovered = hover.get();
        let Some(element) = canvas.get() else { return };
        let (r, g, b) = color;
        let (xd, y, zone) = (xd.clone(), y.clone(), zone.clone());
        draw_soon(&element, move |element| {
            let result = draw_on_canvas(element, |area| {
                draw_line_panel(area, &xd, &y, range, theme(), plotters::style::RGBColor(r, g, b), bars, hovered, &|v| format_bucket(granularity, &zone, v as i64), &|v| axis_value(v, rate))
                    .map_err(|e| e.to_string())
            });
            problem.try_set(result.err());
        });
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

#[component]
pub(super) fn Decomposition(report: Arc<TrendReport>, analysis: Arc<TrendAnalysis>, x_range: RwSignal<Option<(f64, f64)>>, hover: RwSignal<Option<usize>>) -> impl IntoView {
    let s = &report.series;
    let x = Arc::new(s.starts_ms.iter().map(|&v| v as f64).collect::<Vec<f64>>());
    // The trend chart's range (to the forecast's end): the periods line up down the page.
    let full = crate::plot::timeseries::full_range(&report);
    let rate = report.series.metric_label.starts_with("share");
    let (granularity, zone) = (s.granularity, s.clock());
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
                        <Panel x=x.clone() y=y color=color bars=bars x_range=x_range full_range=full hover=hover granularity=granularity zone=zone.clone() rate=rate testid=testid title=format!("{} — {title}", report.series.metric_label)/>
                    </div>
                }).collect_view()}
            </div>
        </section>
    }
}

#[component]
pub(super) fn SplitPanel(report: Arc<TrendReport>, x_range: RwSignal<Option<(f64, f64)>>, hover: RwSignal<Option<usize>>, rate: bool) -> impl IntoView {
    let s = report.series.clone();
    let x = Arc::new(s.starts_ms.iter().map(|&v| v as f64).collect::<Vec<f64>>());
    let full = crate::plot::timeseries::full_range(&report);
    let (granularity, zone) = (s.granularity, s.clock());
    let settings = TrendsPanel::get().settings;
    let column = settings.with_untracked(|s| s.split.clone()).unwrap_or_default();
    // Shares and rates do not add up: stack only counts and sums.
    let stackable = matches!(settings.with_untracked(|s| s.metric), MetricKind::Count | MetricKind::Sum);
    let canvas = NodeRef::<Canvas>::new();
    let problem = RwSignal::new(None::<String>);
    let groups = Arc::new(s.groups.clone());
    let (xd, stacked_zone) = (x.clone(), zone.clone());
    Effect::new(move |_| {
        let multiples = settings.with(|s| s.multiples);
        let range = x_range.get().unwrap_or(full);
        let hovered = hover.get();
        if multiples || !stackable {
            return;
        }
        let Some(element) = canvas.get() else { return };
        let (groups, xd, stacked_zone) = (groups.clone(), xd.clone(), stacked_zone.clone());
        draw_soon(&element, move |element| {
            let values: Vec<&[f64]> = groups.iter().map(|g| g.values.as_slice()).collect();
            let result = draw_on_canvas(element, |area| {
                draw_stacked(area, &xd, &values, range, theme(), hovered, &|v| format_bucket(granularity, &stacked_zone, v as i64), &|v| axis_value(v, rate)).map_err(|e| e.to_string())
            });
            problem.try_set(result.err());
        });
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
                let chosen_multiples = settings.with(|s| s.multiples);
                if !chosen_multiples && stackable {
                    view! { <div class="chart"><Exportable name="split-chart" title=format!("{} by {column}", s.metric_label)><canvas node_ref=canvas data-testid="split-chart" style="height: 240px"></canvas></Exportable></div> }.into_any()
                } else {
                    let x = x.clone();
                    view! {
                        {(!stackable && !chosen_multiples).then(|| view! { <p class="muted small">"Means, percentiles, distinct counts and shares do not add up across groups: shown as small multiples."</p> })}
                        <div class="multiples" data-testid="split-multiples">
                            {multiples.iter().enumerate().map(|(k, g)| {
                                let color = palette(k);
                                view! {
                                    <div class="chart">
                                        <p class="small">{g.label.clone()}</p>
                                        <Panel x=x.clone() y=g.values.clone() color=(color.0, color.1, color.2) bars=false x_range=x_range full_range=full hover=hover granularity=granularity zone=zone.clone() rate=rate testid=format!("multiple-{k}") title=format!("{} — {column} = {}", s.metric_label, g.label)/>
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

