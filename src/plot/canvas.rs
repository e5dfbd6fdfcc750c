//! The canvas adapter: the one place plot/ touches the browser. Sizes the canvas to its CSS
//! box (one canvas pixel per CSS pixel, so hover hit-testing and label sizes agree) and hands
//! plotters a backend for it.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::bars::{draw_bars, BarSeries};
use super::PlotTheme;

/// Draws bars into `canvas` at its CSS size; errors are returned as text for the UI.
pub fn draw_bars_on_canvas(
    canvas: &HtmlCanvasElement,
    series: &BarSeries<'_>,
    theme: PlotTheme,
    axes: bool,
    highlight: Option<usize>,
    x_label: &dyn Fn(f64) -> String,
    y_label: &dyn Fn(f64) -> String,
) -> Result<(), String> {
    draw_on_canvas(canvas, |area| draw_bars(area, series, theme, axes, highlight, x_label, y_label).map_err(|e| e.to_string()))
}

/// Sizes `canvas` to its CSS box and runs `draw` on a plotters area over it; errors come back
/// as text for the UI. Nothing is drawn while the canvas is not laid out (a hidden tab).
pub fn draw_on_canvas(
    canvas: &HtmlCanvasElement,
    draw: impl FnOnce(&DrawingArea<CanvasBackend, plotters::coord::Shift>) -> Result<(), String>,
) -> Result<(), String> {
    let (css_w, css_h) = (canvas.client_width(), canvas.client_height());
    if css_w <= 0 || css_h <= 0 {
        return Ok(());
    }
    canvas.set_width(css_w.unsigned_abs());
    canvas.set_height(css_h.unsigned_abs());
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("the canvas has no 2-D context")?;
    let area = backend.into_drawing_area();
    area.fill(&TRANSPARENT).map_err(|e| e.to_string())?;
    draw(&area)
}
