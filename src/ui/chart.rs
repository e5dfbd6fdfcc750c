//! A bar chart on a canvas (histograms, rows per period) with a hover read-out. Drawing is
//! plotters through `plot::canvas`; hit-testing is the pure `plot::bars::bar_at`.

use leptos::ev;
use leptos::html::Canvas;
use leptos::prelude::*;

use super::export::Exportable;
use crate::plot::bars::{bar_at, BarSeries};
use crate::plot::canvas::draw_bars_on_canvas;
use crate::plot::PlotTheme;

/// How x values read in labels and the hover text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum XFormat {
    Number,
    /// UTC milliseconds, shown as dates.
    Date,
    /// log10(1 + x), labelled in the original units.
    Log10p1,
}

impl XFormat {
    fn format(self, value: f64) -> String {
        match self {
            XFormat::Number => crate::format::compact_number(value),
            XFormat::Date => crate::data::time::format_date_ms(value as i64),
            XFormat::Log10p1 => crate::format::compact_number((10f64.powf(value) - 1.0).round()),
        }
    }
}

pub fn theme() -> PlotTheme {
    let dark = web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches());
    if dark { PlotTheme::DARK } else { PlotTheme::LIGHT }
}

/// How bar heights read: counts, or shares shown as percentages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum YFormat {
    Count,
    Percent,
}

impl YFormat {
    fn format(self, value: f64) -> String {
        match self {
            YFormat::Count => crate::format::compact_number(value),
            YFormat::Percent => format!("{:.0} %", value * 100.0),
        }
    }

    fn readout(self, value: f64, unit: &str) -> String {
        match self {
            YFormat::Count => format!("{} {unit}", crate::format::format_count(value.max(0.0) as u64)),
            YFormat::Percent => format!("{:.1} % {unit}", value * 100.0),
        }
    }
}

#[component]
pub fn BarChart(
    edges: Vec<f64>,
    heights: Vec<f64>,
    #[prop(default = YFormat::Count)] y_format: YFormat,
    #[prop(default = true)] axes: bool,
    #[prop(default = XFormat::Number)] x_format: XFormat,
    #[prop(default = 120)] height: u32,
    /// Label of what a bar counts, for the hover text ("rows").
    #[prop(default = "rows")] unit: &'static str,
    testid: String,
    /// The chart's title in exports (default: the test id).
    #[prop(optional, into)]
    title: Option<String>,
    /// Called with the index of a clicked bar.
    #[prop(optional)]
    on_pick: Option<Callback<usize>>,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let hover = RwSignal::new(None::<usize>);
    let problem = RwSignal::new(None::<String>);
    let (edges_draw, heights_draw) = (edges.clone(), heights.clone());
    Effect::new(move |_| {
        let highlight = hover.get();
        if let Some(element) = canvas.get() {
            let series = BarSeries { edges: &edges_draw, heights: &heights_draw };
            let drawn = draw_bars_on_canvas(&element, &series, theme(), axes, highlight, &|v| x_format.format(v), &|v| y_format.format(v));
            if let Err(err) = drawn {
                problem.set(Some(err));
            }
        }
    });
    let (edges_hit, heights_hit) = (edges.clone(), heights.clone());
    let on_move = move |event: ev::MouseEvent| {
        let Some(element) = canvas.get_untracked() else { return };
        let series = BarSeries { edges: &edges_hit, heights: &heights_hit };
        let found = bar_at(&series, f64::from(event.offset_x()), f64::from(element.client_width()), axes);
        if hover.get_untracked() != found {
            hover.set(found);
        }
    };
    let readout = move || {
        hover.get().and_then(|idx| {
            let (lo, hi, height) = (*edges.get(idx)?, *edges.get(idx + 1)?, *heights.get(idx)?);
            let range = match x_format {
                XFormat::Date => x_format.format(lo),
                XFormat::Number | XFormat::Log10p1 => format!("{} – {}", x_format.format(lo), x_format.format(hi)),
            };
            Some(format!("{range}: {}", y_format.readout(height, unit)))
        })
    };
    view! {
        <div class="chart">
            <Exportable name=testid.clone() title=title.unwrap_or_else(|| testid.clone())>
            <canvas node_ref=canvas data-testid=testid style=format!("height: {height}px")
                class:pickable=on_pick.is_some()
                title=on_pick.map(|_| "Click a bar to filter to its range")
                on:mousemove=on_move on:mouseleave=move |_| hover.set(None)
                on:click=move |_| {
                    if let (Some(pick), Some(idx)) = (on_pick, hover.get_untracked()) {
                        pick.run(idx);
                    }
                }></canvas>
            </Exportable>
            <div class="chart-readout muted" aria-live="polite">{move || readout().unwrap_or_else(|| "\u{a0}".into())}</div>
            {move || problem.get().map(|p| view! { <p class="problem">"Chart could not be drawn: " {p}</p> })}
        </div>
    }
}
