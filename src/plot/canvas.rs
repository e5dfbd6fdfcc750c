//! The canvas adapter: the one place plot/ touches the browser. Sizes the canvas to its CSS
//! box (one canvas pixel per CSS pixel, so hover hit-testing and label sizes agree) and hands
//! plotters a backend for it.

use plotters::prelude::*;
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};
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
///
/// The same drawing is recorded as SVG on the canvas element (property [`SVG_PROPERTY`]), so
/// that any chart can be exported as SVG or PNG exactly as it is on screen (zoom included).
pub fn draw_on_canvas(
    canvas: &HtmlCanvasElement,
    draw: impl FnOnce(&DrawingArea<Tee<'_>, plotters::coord::Shift>) -> Result<(), String>,
) -> Result<(), String> {
    let (css_w, css_h) = (canvas.client_width(), canvas.client_height());
    if css_w <= 0 || css_h <= 0 {
        return Ok(());
    }
    let (w, h) = (css_w.unsigned_abs(), css_h.unsigned_abs());
    canvas.set_width(w);
    canvas.set_height(h);
    let mut svg = String::new();
    {
        let on_canvas = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("the canvas has no 2-D context")?;
        let area = Tee { canvas: on_canvas, svg: SVGBackend::with_string(&mut svg, (w, h)) }.into_drawing_area();
        area.fill(&TRANSPARENT).map_err(|e| e.to_string())?;
        draw(&area)?;
        area.present().map_err(|e| e.to_string())?;
    }
    let _ = js_sys::Reflect::set(canvas, &SVG_PROPERTY.into(), &svg.into());
    let _ = js_sys::Reflect::delete_property(canvas, &RASTER_PROPERTY.into());
    Ok(())
}

/// Whether `canvas` holds a drawing (made by [`draw_on_canvas`]).
pub fn drawn_before(canvas: &HtmlCanvasElement) -> bool {
    js_sys::Reflect::has(canvas, &SVG_PROPERTY.into()).unwrap_or(false)
}

/// The canvas element property holding the SVG of its last drawing.
pub const SVG_PROPERTY: &str = "vigilSvg";
/// The canvas element property holding a raster drawn over the SVG (the cluster map's points):
/// `{canvas, x, y}`.
pub const RASTER_PROPERTY: &str = "vigilRaster";

/// A plotters backend that draws on a canvas and writes the same drawing as SVG. Text is
/// measured by the canvas, so both lay out alike.
pub struct Tee<'a> {
    canvas: CanvasBackend,
    svg: SVGBackend<'a>,
}

/// A backend failure, as text (the canvas and SVG backends have different error types).
#[derive(Debug)]
pub struct TeeError(String);

impl std::fmt::Display for TeeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TeeError {}

fn tee_err<E: std::error::Error + Send + Sync>(err: DrawingErrorKind<E>) -> DrawingErrorKind<TeeError> {
    match err {
        DrawingErrorKind::DrawingError(e) => DrawingErrorKind::DrawingError(TeeError(e.to_string())),
        DrawingErrorKind::FontError(e) => DrawingErrorKind::FontError(e),
    }
}

impl DrawingBackend for Tee<'_> {
    type ErrorType = TeeError;

    fn get_size(&self) -> (u32, u32) {
        self.canvas.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<TeeError>> {
        self.canvas.ensure_prepared().map_err(tee_err)?;
        self.svg.ensure_prepared().map_err(tee_err)
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<TeeError>> {
        self.canvas.present().map_err(tee_err)?;
        self.svg.present().map_err(tee_err)
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingErrorKind<TeeError>> {
        self.canvas.draw_pixel(point, color).map_err(tee_err)?;
        self.svg.draw_pixel(point, color).map_err(tee_err)
    }

    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> Result<(), DrawingErrorKind<TeeError>> {
        self.canvas.draw_line(from, to, style).map_err(tee_err)?;
        self.svg.draw_line(from, to, style).map_err(tee_err)
    }

    fn draw_rect<S: BackendStyle>(&mut self, upper_left: BackendCoord, bottom_right: BackendCoord, style: &S, fill: bool) -> Result<(), DrawingErrorKind<TeeError>> {
        self.canvas.draw_rect(upper_left, bottom_right, style, fill).map_err(tee_err)?;
        self.svg.draw_rect(upper_left, bottom_right, style, fill).map_err(tee_err)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, path: I, style: &S) -> Result<(), DrawingErrorKind<TeeError>> {
        let points: Vec<BackendCoord> = path.into_iter().collect();
        self.canvas.draw_path(points.iter().copied(), style).map_err(tee_err)?;
        self.svg.draw_path(points, style).map_err(tee_err)
    }

    fn draw_circle<S: BackendStyle>(&mut self, center: BackendCoord, radius: u32, style: &S, fill: bool) -> Result<(), DrawingErrorKind<TeeError>> {
        self.canvas.draw_circle(center, radius, style, fill).map_err(tee_err)?;
        self.svg.draw_circle(center, radius, style, fill).map_err(tee_err)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, vert: I, style: &S) -> Result<(), DrawingErrorKind<TeeError>> {
        let points: Vec<BackendCoord> = vert.into_iter().collect();
        self.canvas.fill_polygon(points.iter().copied(), style).map_err(tee_err)?;
        self.svg.fill_polygon(points, style).map_err(tee_err)
    }

    fn draw_text<T: BackendTextStyle>(&mut self, text: &str, style: &T, pos: BackendCoord) -> Result<(), DrawingErrorKind<TeeError>> {
        self.canvas.draw_text(text, style, pos).map_err(tee_err)?;
        self.svg.draw_text(text, style, pos).map_err(tee_err)
    }

    fn estimate_text_size<T: BackendTextStyle>(&self, text: &str, style: &T) -> Result<(u32, u32), DrawingErrorKind<TeeError>> {
        self.canvas.estimate_text_size(text, style).map_err(tee_err)
    }
}

/// Draws the cluster map's frame (axes, grid) on `canvas` and returns its plot area (left, top,
/// width, height), or `None` while the canvas is not laid out. The points are painted into a
/// [`Raster`](super::scatter::Raster) of that size and laid over with [`put_map_raster`].
pub fn draw_map_frame_on_canvas(canvas: &HtmlCanvasElement, x_range: (f64, f64), y_range: (f64, f64), theme: PlotTheme) -> Result<Option<(u32, u32, u32, u32)>, String> {
    draw_on_canvas(canvas, |area| super::scatter::draw_map_frame(area, x_range, y_range, theme).map_err(|e| e.to_string()))?;
    let (left, top, width, height) = super::scatter::map_plot_area(canvas.width(), canvas.height());
    Ok((width > 0 && height > 0 && canvas.client_width() > 0).then_some((left, top, width, height)))
}

/// Lays `raster` over the plot area of a frame drawn by [`draw_map_frame_on_canvas`], at
/// (`left`, `top`), and keeps it on the canvas for exports.
pub fn put_map_raster(canvas: &HtmlCanvasElement, raster: &super::scatter::Raster, left: u32, top: u32) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    use web_sys::{CanvasRenderingContext2d, ImageData};
    let (width, height) = (raster.width, raster.height);
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
    // For exports: the points are laid over the recorded SVG frame.
    let placed = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&placed, &"canvas".into(), &offscreen);
    let _ = js_sys::Reflect::set(&placed, &"x".into(), &f64::from(left).into());
    let _ = js_sys::Reflect::set(&placed, &"y".into(), &f64::from(top).into());
    let _ = js_sys::Reflect::set(canvas, &RASTER_PROPERTY.into(), &placed);
    Ok(())
}
