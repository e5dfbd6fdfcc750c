//! Charts on a canvas: a bar chart (histograms, rows per period) with a hover read-out, the
//! queue every chart is drawn through ([`draw_soon`]), and a chart over periods with its hover
//! ([`period_chart`]). Drawing is plotters through `plot::canvas`; hit-testing is the pure
//! `plot::bars::bar_at` and `plot::timeseries::nearest_period`.

use std::rc::Rc;
use std::sync::Arc;

use leptos::ev;
use leptos::html::Canvas;
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::DrawingArea;
use web_sys::HtmlCanvasElement;

use super::export::Exportable;
use crate::plot::bars::{bar_at, BarSeries};
use crate::plot::canvas::{draw_bars_on_canvas, draw_on_canvas, Tee};
use crate::plot::timeseries::nearest_period;
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

    /// An axis tick: on a log axis, ticks fall at uneven values (10^0.2 − 1 = 0.58, 10^1.4 − 1 =
    /// 24.1), read to two significant digits ("0.58", "24", "1k" for 999) so no two read alike
    /// and none is off by more than half a per cent; the hover text keeps `format`'s.
    fn tick(self, value: f64) -> String {
        match self {
            XFormat::Log10p1 => {
                let v = 10f64.powf(value) - 1.0;
                let rounded = if v > 0.0 {
                    let unit = 10f64.powf(v.log10().floor() - 1.0);
                    (v / unit).round() * unit
                } else {
                    0.0
                };
                crate::format::compact_number(rounded)
            }
            other => other.format(value),
        }
    }
}

/// Drawing goes on in a main-thread task while it has taken less than this, in milliseconds:
/// a task is at most this plus one step (one chart, or one part of the cluster map), and a
/// chart drawn for the first time also compiles the drawing code it calls first.
const DRAW_SLICE_MS: f64 = 6.0;

/// A chart waiting for its first drawing: its canvas and how to draw it.
type PendingDraw = (HtmlCanvasElement, Box<dyn FnOnce(&HtmlCanvasElement)>);

thread_local! {
    /// Charts waiting for their first drawing, in the order they asked, one entry per canvas.
    static PENDING: std::cell::RefCell<Vec<PendingDraw>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Whether a slice of drawing is already scheduled.
    static SCHEDULED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Draws a chart on `canvas`: at once when the canvas was drawn before (hover, zoom: a single
/// chart, drawn in the frame that shows it), else after the next frame, in slices with the
/// others that wait (see [`DRAW_SLICE_MS`]).
///
/// A panel's charts used to be drawn in the task that built the panel: their first
/// `clientWidth` forced a layout of the new panel, and the drawings followed in the same task
/// (the Profile, Trends and Clusters tabs held the main thread 50–80 ms on the 1 M-row demo).
/// After the frame the layout is done, and each slice is its own short task.
///
/// `draw` runs outside any reactive owner: it reads no signal (read them before, in the effect
/// that calls this, so the effect tracks them) and uses `try_set` on signals the panel may have
/// dropped by then.
pub fn draw_soon(canvas: &HtmlCanvasElement, draw: impl FnOnce(&HtmlCanvasElement) + 'static) {
    let waiting = PENDING.with_borrow_mut(|pending| match pending.iter_mut().find(|(c, _)| c == canvas) {
        Some(slot) => {
            slot.1 = Box::new(draw);
            None
        }
        None if crate::plot::canvas::drawn_before(canvas) => Some(draw),
        None => {
            pending.push((canvas.clone(), Box::new(draw)));
            None
        }
    });
    match waiting {
        Some(draw) => draw(canvas),
        None => schedule_slice(true),
    }
}

/// Draws every chart still waiting, now: exports and reports read what the canvases hold.
pub fn draw_pending_now() {
    while let Some((canvas, draw)) = PENDING.with_borrow_mut(|p| (!p.is_empty()).then(|| p.remove(0))) {
        draw(&canvas);
    }
}

/// Runs `step` after the next frame, again and again, in slices of the main thread (see
/// [`DRAW_SLICE_MS`]), until it returns `false` (done, or nothing left to do).
pub fn run_in_slices(step: impl FnMut() -> bool + 'static) {
    fn slice(mut step: impl FnMut() -> bool + 'static) {
        let now = || web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now());
        let start = now();
        while step() {
            if now() - start > DRAW_SLICE_MS {
                set_timeout(move || slice(step), std::time::Duration::ZERO);
                return;
            }
        }
    }
    request_animation_frame(move || set_timeout(move || slice(step), std::time::Duration::ZERO));
}

fn schedule_slice(after_frame: bool) {
    if SCHEDULED.replace(true) {
        return;
    }
    let run = || {
        SCHEDULED.set(false);
        draw_slice();
    };
    if after_frame {
        // The timeout set in the frame callback runs after that frame's layout and paint.
        request_animation_frame(move || set_timeout(run, std::time::Duration::ZERO));
    } else {
        set_timeout(run, std::time::Duration::ZERO);
    }
}

fn draw_slice() {
    let now = || web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now());
    let start = now();
    while let Some((canvas, draw)) = PENDING.with_borrow_mut(|p| (!p.is_empty()).then(|| p.remove(0))) {
        draw(&canvas);
        if now() - start > DRAW_SLICE_MS {
            if PENDING.with_borrow(|p| !p.is_empty()) {
                schedule_slice(false);
            }
            return;
        }
    }
}

/// A chart of periods along `x` on `canvas`, with a hover: drawn by `draw` (given `x` and the
/// hovered period) when the canvas is shown and again whenever `hover` changes, a failure to draw put in
/// `problem`. Returns the canvas's `mousemove` handler, which hovers the period nearest the
/// pointer.
pub fn period_chart(
    canvas: NodeRef<Canvas>,
    x: Arc<Vec<f64>>,
    hover: RwSignal<Option<usize>>,
    problem: RwSignal<Option<String>>,
    draw: impl Fn(&DrawingArea<Tee<'_>, Shift>, &[f64], Option<usize>) -> Result<(), String> + 'static,
) -> impl Fn(ev::MouseEvent) + Clone + 'static {
    let draw = Rc::new(draw);
    let xd = x.clone();
    Effect::new(move |_| {
        let hovered = hover.get();
        let Some(element) = canvas.get() else { return };
        let (draw, xd) = (draw.clone(), xd.clone());
        draw_soon(&element, move |element| {
            problem.try_set(draw_on_canvas(element, |area| draw(area, &xd, hovered)).err());
        });
    });
    move |event: ev::MouseEvent| {
        let Some(element) = canvas.get_untracked() else { return };
        let found = nearest_period(f64::from(event.offset_x()), f64::from(element.client_width()), &x);
        if hover.get_untracked() != found {
            hover.set(found);
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
            // A share of nothing (no rows that day) has no value to read.
            YFormat::Percent if !value.is_finite() => "no rows".into(),
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
    let (edges_draw, heights_draw) = (Arc::new(edges_draw), Arc::new(heights_draw));
    Effect::new(move |_| {
        let highlight = hover.get();
        if let Some(element) = canvas.get() {
            let (edges_draw, heights_draw) = (edges_draw.clone(), heights_draw.clone());
            draw_soon(&element, move |element| {
                let series = BarSeries { edges: &edges_draw, heights: &heights_draw };
                let drawn = draw_bars_on_canvas(element, &series, theme(), axes, highlight, &|v| x_format.tick(v), &|v| y_format.format(v));
                if let Err(err) = drawn {
                    problem.try_set(Some(err));
                }
            });
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
