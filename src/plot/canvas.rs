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

/// Draws the cluster map: axes through plotters, then the points as one raster composited
/// into the plot area (through an offscreen canvas, so the grid shows between points).
/// Returns the raster for hover hit-testing; `None` while the canvas is not laid out.
pub fn draw_map_on_canvas(
    canvas: &HtmlCanvasElement,
    points: &[(f64, f64, i32)],
    x_range: (f64, f64),
    y_range: (f64, f64),
    theme: PlotTheme,
    focus: Option<i32>,
) -> Result<Option<super::scatter::Raster>, String> {
    use wasm_bindgen::JsCast;
    use web_sys::{CanvasRenderingContext2d, ImageData};
    draw_on_canvas(canvas, |area| super::scatter::draw_map_frame(area, x_range, y_range, theme).map_err(|e| e.to_string()))?;
    let (left, top, width, height) = super::scatter::map_plot_area(canvas.width(), canvas.height());
    if width == 0 || height == 0 || canvas.client_width() <= 0 {
        return Ok(None);
    }
    let raster = super::scatter::rasterize(points, x_range, y_range, width, height, focus);
    let context = |c: &HtmlCanvasElement| -> Result<CanvasRenderingContext2d, String> {
        c.get_context("2d")
            .map_err(|e| format!("{e:?}"))?
            .ok_or("the canvas has no 2-D context")?
            .dyn_into::<CanvasRenderingContext2d>()
            .map_err(|_| "not a 2-D context".to_string())
    };
    let document = canvas.owner_document().ok_or("the canvas is not in a document")?;
    let offscreen: HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "not a canvas".to_string())?;
    offscreen.set_width(width);
    offscreen.set_height(height);
    let image = ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(&raster.rgba), width, height).map_err(|e| format!("{e:?}"))?;
    context(&offscreen)?.put_image_data(&image, 0.0, 0.0).map_err(|e| format!("{e:?}"))?;
    context(canvas)?
        .draw_image_with_html_canvas_element(&offscreen, f64::from(left), f64::from(top))
        .map_err(|e| format!("{e:?}"))?;
    Ok(Some(raster))
}
