//! Bar charts over contiguous bins: histograms (bins with edges) and per-period counts
//! (sparklines). One drawing routine, generic over the backend, plus hit-testing for hover.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotTheme;

/// Bars over `[edges[i], edges[i + 1])` with heights `heights[i]` (counts, or rates).
#[derive(Debug, Clone, PartialEq)]
pub struct BarSeries<'a> {
    pub edges: &'a [f64],
    pub heights: &'a [f64],
}

/// Pixel margins around the plotting area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Margins {
    pub left: u32,
    pub right: u32,
    pub top: u32,
    pub bottom: u32,
}

impl Margins {
    /// Room for axis labels.
    pub const AXES: Margins = Margins { left: 44, right: 8, top: 6, bottom: 22 };
    /// A bare sparkline.
    pub const NONE: Margins = Margins { left: 1, right: 1, top: 2, bottom: 1 };
}

/// Draws the bars into `area`; `highlight` colours one bar (hover). With `axes`, labels the
/// x range and the y scale using `x_label` to format x values.
pub fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &BarSeries<'_>,
    theme: PlotTheme,
    axes: bool,
    highlight: Option<usize>,
    x_label: &dyn Fn(f64) -> String,
    y_label: &dyn Fn(f64) -> String,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (Some(&lo), Some(&hi)) = (series.edges.first(), series.edges.last()) else { return Ok(()) };
    let top = series.heights.iter().copied().filter(|h| h.is_finite()).fold(0.0, f64::max);
    let max_count = if top > 0.0 { top } else { 1.0 };
    let margins = if axes { Margins::AXES } else { Margins::NONE };
    let (r, g, b) = theme.foreground;
    let text = RGBColor(r, g, b);
    let (r, g, b) = theme.grid;
    let grid = RGBColor(r, g, b);
    let mut builder = ChartBuilder::on(area);
    builder.margin_top(margins.top).margin_right(margins.right);
    if axes {
        builder.x_label_area_size(margins.bottom).y_label_area_size(margins.left);
    }
    let x_range = if hi > lo { lo..hi } else { lo - 0.5..hi + 0.5 };
    let mut chart = builder.build_cartesian_2d(x_range, 0.0..max_count * 1.05)?;
    if axes {
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(grid.mix(0.0))
            .bold_line_style(grid)
            .axis_style(grid)
            .x_labels(4)
            .y_labels(3)
            .x_label_formatter(&|v| x_label(*v))
            .y_label_formatter(&|v| y_label(*v))
            .label_style(("sans-serif", 11).into_font().color(&text))
            .draw()?;
    }
    let (r, g, b) = theme.accent;
    let accent = RGBColor(r, g, b);
    let (r, g, b) = theme.highlight;
    let hot = RGBColor(r, g, b);
    // A height that is not a number (a share of nothing) is a gap, not a bar of 0.
    chart.draw_series(series.heights.iter().enumerate().filter(|(_, height)| height.is_finite()).filter_map(|(idx, &height)| {
        let (x0, x1) = (*series.edges.get(idx)?, *series.edges.get(idx + 1)?);
        let color = if highlight == Some(idx) { hot } else { accent };
        Some(Rectangle::new([(x0, 0.0), (x1, height)], color.filled()))
    }))?;
    area.present()
}

/// Which bar is under a horizontal pixel position, given the drawing's width and margins.
pub fn bar_at(series: &BarSeries<'_>, x_px: f64, width_px: f64, axes: bool) -> Option<usize> {
    let margins = if axes { Margins::AXES } else { Margins::NONE };
    let plot_left = f64::from(margins.left);
    let plot_width = width_px - plot_left - f64::from(margins.right);
    if plot_width <= 0.0 || x_px < plot_left || x_px > plot_left + plot_width {
        return None;
    }
    let fraction = (x_px - plot_left) / plot_width;
    let (&lo, &hi) = (series.edges.first()?, series.edges.last()?);
    let x = lo + fraction * (hi - lo);
    let idx = series.edges.partition_point(|&e| e <= x).checked_sub(1)?;
    (idx < series.heights.len()).then_some(idx).or_else(|| series.heights.len().checked_sub(1))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;
    use crate::format::compact_number;

    #[test]
    fn draws_an_svg_with_one_rect_per_bar() {
        let edges = [0.0, 1.0, 2.0, 3.0];
        let heights = [3.0, 0.0, 5.0];
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (300, 120)).into_drawing_area();
            let series = BarSeries { edges: &edges, heights: &heights };
            draw_bars(&area, &series, PlotTheme::LIGHT, true, Some(2), &compact_number, &compact_number).unwrap();
        }
        // Three bars (the zero-height one is a degenerate rect) in accent or highlight colour.
        let bars = svg.matches("fill=\"#3558D4\"").count() + svg.matches("fill=\"#E6781E\"").count();
        assert_eq!(bars, 3, "{svg}");
        assert!(svg.contains("#E6781E"), "the hovered bar is highlighted");
        // An undefined height is a gap: two bars.
        let mut gap = String::new();
        {
            let area = SVGBackend::with_string(&mut gap, (300, 120)).into_drawing_area();
            let heights = [0.5, f64::NAN, 0.25];
            draw_bars(&area, &BarSeries { edges: &edges, heights: &heights }, PlotTheme::LIGHT, true, None, &compact_number, &compact_number).unwrap();
        }
        assert_eq!(gap.matches("fill=\"#3558D4\"").count(), 2, "{gap}");
        assert!(!gap.contains("NaN"), "{gap}");
    }

    #[test]
    fn hit_testing_maps_pixels_to_bars() {
        let edges = [0.0, 1.0, 2.0, 4.0];
        let heights = [1.0, 1.0, 1.0];
        let series = BarSeries { edges: &edges, heights: &heights };
        let width = 100.0 + f64::from(Margins::AXES.left + Margins::AXES.right);
        let left = f64::from(Margins::AXES.left);
        assert_eq!(bar_at(&series, left + 10.0, width, true), Some(0));
        assert_eq!(bar_at(&series, left + 30.0, width, true), Some(1));
        assert_eq!(bar_at(&series, left + 99.9, width, true), Some(2));
        assert_eq!(bar_at(&series, left + 100.0, width, true), Some(2));
        assert_eq!(bar_at(&series, 1.0, width, true), None);
    }
}
