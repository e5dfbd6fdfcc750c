//! The cluster map: points rasterised into an RGBA pixel buffer (one pass, no path per point,
//! so 200 k points draw in milliseconds) with a per-pixel index of the point drawn there for
//! hover; and the small line charts that go with clustering (elbow / silhouette by k, the
//! k-distance curve), drawn through plotters.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::format::compact_number;
use super::timeseries::{frame, palette, MARGINS, PALETTE};
use super::PlotTheme;

/// The point buffer of a scatter and which point covers each pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    /// Row-major RGBA, transparent where no point is.
    pub rgba: Vec<u8>,
    /// Per pixel: the index (into the points) of the last point drawn there, or `u32::MAX`.
    pub hit: Vec<u32>,
}

/// Colour of cluster `id` (1..; noise and anything else grey).
pub fn cluster_colour(id: i32) -> (u8, u8, u8) {
    if id >= 1 {
        let idx = ((id - 1) as usize) % (PALETTE.len() - 1);
        PALETTE.get(idx).copied().unwrap_or((150, 150, 150))
    } else {
        (160, 160, 160)
    }
}

/// `v.round()` for `v ≥ 0`. `f64::round` is a libm routine in wasm (no instruction rounds half
/// away from zero); with millions of calls per map it was a third of the map's drawing time,
/// while `floor` is one instruction.
fn round_up_half(v: f64) -> f64 {
    (v + 0.5).floor()
}

/// Pixel of a data point inside a `width` × `height` plot area (y grows downwards).
pub fn to_pixel(x: f64, y: f64, x_range: (f64, f64), y_range: (f64, f64), width: u32, height: u32) -> Option<(u32, u32)> {
    let fx = (x - x_range.0) / (x_range.1 - x_range.0);
    let fy = (y - y_range.0) / (y_range.1 - y_range.0);
    if !(fx.is_finite() && fy.is_finite()) || width == 0 || height == 0 {
        return None;
    }
    let px = round_up_half(fx.clamp(0.0, 1.0) * f64::from(width - 1)) as u32;
    let py = round_up_half((1.0 - fy.clamp(0.0, 1.0)) * f64::from(height - 1)) as u32;
    Some((px, py))
}

/// Data coordinates of a pixel of the plot area.
pub fn from_pixel(px: f64, py: f64, x_range: (f64, f64), y_range: (f64, f64), width: u32, height: u32) -> (f64, f64) {
    let fx = px / f64::from(width.max(2) - 1);
    let fy = 1.0 - py / f64::from(height.max(2) - 1);
    (x_range.0 + fx * (x_range.1 - x_range.0), y_range.0 + fy * (y_range.1 - y_range.0))
}

/// Draws `points` (x, y, cluster) as small squares blended over each other; `focus` fades every
/// other cluster. Points are drawn in order, so the hit index holds the topmost.
pub fn rasterize(points: &[(f64, f64, i32)], x_range: (f64, f64), y_range: (f64, f64), width: u32, height: u32, focus: Option<i32>) -> Raster {
    let mut raster = Raster::blank(width, height);
    raster.paint(points, 0..points.len(), &DotStyle::for_points(points), x_range, y_range, focus);
    raster
}

/// How big and how opaque a map's dots are: fewer points, bigger dots; a dense map uses 2 px so
/// structure shows through. A cluster of under 2 % of a map of 2,000 points or more is drawn
/// bigger and nearly opaque: otherwise a small group (a ring of 40 accounts among 30,000) is a
/// few faint pixels under the large clusters, though it is often the finding.
#[derive(Debug, Clone, PartialEq)]
pub struct DotStyle {
    size: u32,
    alpha: f64,
    small: Vec<i32>,
}

impl DotStyle {
    pub fn for_points(points: &[(f64, f64, i32)]) -> DotStyle {
        let n = points.len();
        let size = if n < 2_000 { 4 } else if n < 50_000 { 3 } else { 2 };
        let alpha = if n < 20_000 { 0.85 } else { 0.55 };
        let mut counts = std::collections::BTreeMap::<i32, usize>::new();
        if n >= 2_000 {
            for &(_, _, cluster) in points {
                *counts.entry(cluster).or_default() += 1;
            }
        }
        let small = counts.into_iter().filter(|&(cluster, count)| cluster >= 1 && count * 50 < n).map(|(cluster, _)| cluster).collect();
        DotStyle { size, alpha, small }
    }

    /// The size (pixels) and opacity of a dot of `cluster`.
    fn dot(&self, cluster: i32) -> (u32, f64) {
        if self.small.contains(&cluster) {
            (self.size + 2, 0.9)
        } else {
            (self.size, self.alpha)
        }
    }
}

impl Raster {
    /// A transparent `width` × `height` raster with no point.
    pub fn blank(width: u32, height: u32) -> Raster {
        let pixels = width as usize * height as usize;
        Raster { width, height, rgba: vec![0u8; pixels * 4], hit: vec![u32::MAX; pixels] }
    }

    /// Draws `points[part]` over what is drawn, as [`rasterize`] draws them (`style` made from
    /// all the points): painting the parts of `0..points.len()` in order, in as many calls as
    /// wanted, gives the same raster (the UI paints a large map in slices of the main thread).
    pub fn paint(&mut self, points: &[(f64, f64, i32)], part: std::ops::Range<usize>, style: &DotStyle, x_range: (f64, f64), y_range: (f64, f64), focus: Option<i32>) {
        let Raster { width, height, rgba, hit } = self;
        let (width, height) = (*width, *height);
        let w = width as usize;
        let first = part.start;
        for (idx, &(x, y, cluster)) in points.get(part).unwrap_or_default().iter().enumerate().map(|(k, p)| (first + k, p)) {
            let Some((px, py)) = to_pixel(x, y, x_range, y_range, width, height) else { continue };
            let (r, g, b) = cluster_colour(cluster);
            let (size, alpha) = style.dot(cluster);
            let a = match focus {
                Some(f) if f != cluster => alpha * 0.12,
                _ => alpha,
            };
            let x0 = px.saturating_sub(size / 2);
            let y0 = py.saturating_sub(size / 2);
            for yy in y0..(y0 + size).min(height) {
                for xx in x0..(x0 + size).min(width) {
                    let p = yy as usize * w + xx as usize;
                    let Some(pixel) = rgba.get_mut(p * 4..p * 4 + 4) else { continue };
                    // "Over" compositing of a straight-alpha colour onto the buffer.
                    let dst_a = f64::from(pixel[3]) / 255.0;
                    let out_a = a + dst_a * (1.0 - a);
                    if out_a > 0.0 {
                        for (channel, src) in pixel.iter_mut().take(3).zip([r, g, b]) {
                            let blended = (f64::from(src) * a + f64::from(*channel) * dst_a * (1.0 - a)) / out_a;
                            *channel = round_up_half(blended).clamp(0.0, 255.0) as u8;
                        }
                        pixel[3] = round_up_half(out_a * 255.0) as u8;
                    }
                    if a >= alpha * 0.5 {
                        if let Some(slot) = hit.get_mut(p) {
                            *slot = idx as u32;
                        }
                    }
                }
            }
        }
    }

    /// The point nearest pixel (x, y) within `radius` pixels.
    pub fn point_at(&self, x: u32, y: u32, radius: u32) -> Option<u32> {
        let mut best: Option<(u32, u32)> = None;
        for yy in y.saturating_sub(radius)..=(y + radius).min(self.height.saturating_sub(1)) {
            for xx in x.saturating_sub(radius)..=(x + radius).min(self.width.saturating_sub(1)) {
                let Some(&idx) = self.hit.get(yy as usize * self.width as usize + xx as usize) else { continue };
                if idx == u32::MAX {
                    continue;
                }
                let d = xx.abs_diff(x).pow(2) + yy.abs_diff(y).pow(2);
                if best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, idx));
                }
            }
        }
        best.map(|(_, idx)| idx)
    }
}

/// The plot area of a `width` × `height` chart drawn with [`draw_map_frame`]: left, top, width,
/// height in pixels.
pub fn map_plot_area(width: u32, height: u32) -> (u32, u32, u32, u32) {
    let w = width.saturating_sub(MARGINS.left + MARGINS.right);
    let h = height.saturating_sub(MARGINS.top + MARGINS.bottom);
    (MARGINS.left, MARGINS.top, w, h)
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The axes and grid of the map (the points go on top as a raster).
pub fn draw_map_frame<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, x_range: (f64, f64), y_range: (f64, f64), theme: PlotTheme) -> DrawResult<DB> {
    frame(area, x_range.0..x_range.1, y_range.0..y_range.1, theme, false, &|v| compact_number(v), &|v| compact_number(v))?;
    Ok(())
}

/// A small line chart over integer or real x with an optional vertical marker (the chosen k)
/// or horizontal marker (the chosen eps).
#[allow(clippy::too_many_arguments)]
pub fn draw_xy<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[(f64, f64)],
    theme: PlotTheme,
    colour: usize,
    v_marker: Option<f64>,
    h_marker: Option<f64>,
    x_label: &dyn Fn(f64) -> String,
) -> DrawResult<DB> {
    let finite: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    let (Some(x0), Some(x1)) = (finite.first().map(|p| p.0), finite.last().map(|p| p.0)) else { return Ok(()) };
    let (mut lo, mut hi) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    if let Some(h) = h_marker.filter(|h| h.is_finite()) {
        lo = lo.min(h);
        hi = hi.max(h);
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.08;
    let (x0, x1) = if x1 > x0 { (x0.min(x1), x1.max(x0)) } else { (x0 - 1.0, x0 + 1.0) };
    let mut chart = frame(area, x0..x1, (lo - pad)..(hi + pad), theme, true, x_label, &|v| compact_number(v))?;
    let line = palette(colour);
    chart.draw_series(std::iter::once(PathElement::new(finite.clone(), line.stroke_width(2))))?;
    if finite.len() <= 40 {
        chart.draw_series(finite.iter().map(|&p| Circle::new(p, 3, line.filled())))?;
    }
    let marker = RGBColor(theme.highlight.0, theme.highlight.1, theme.highlight.2);
    if let Some(v) = v_marker {
        chart.draw_series(std::iter::once(PathElement::new(vec![(v, lo - pad), (v, hi + pad)], marker.stroke_width(2))))?;
    }
    if let Some(h) = h_marker {
        chart.draw_series(std::iter::once(PathElement::new(vec![(x0, h), (x1, h)], marker.stroke_width(2))))?;
    }
    Ok(())
}

/// Points (a residual plot) with a horizontal zero line; a few thousand at most.
pub fn draw_points<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, points: &[(f64, f64)], theme: PlotTheme, colour: usize) -> DrawResult<DB> {
    let finite: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    if finite.is_empty() {
        return Ok(());
    }
    let fold = |f: fn(&(f64, f64)) -> f64| finite.iter().map(f).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (x0, x1) = fold(|p| p.0);
    let (y0, y1) = fold(|p| p.1);
    let pad = |lo: f64, hi: f64| if hi > lo { (hi - lo) * 0.05 } else { 1.0 };
    let (px, py) = (pad(x0, x1), pad(y0.min(0.0), y1.max(0.0)));
    let mut chart = frame(area, (x0 - px)..(x1 + px), (y0.min(0.0) - py)..(y1.max(0.0) + py), theme, true, &|v| compact_number(v), &|v| compact_number(v))?;
    let dot = palette(colour);
    chart.draw_series(finite.iter().map(|&p| Circle::new(p, 2, dot.mix(0.5).filled())))?;
    let zero = RGBColor(theme.muted.0, theme.muted.1, theme.muted.2);
    chart.draw_series(std::iter::once(PathElement::new(vec![(x0 - px, 0.0), (x1 + px, 0.0)], zero.stroke_width(1))))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failing unwrap is a failing test
    use super::*;

    #[test]
    fn pixels_round_trip_and_corners_land_inside() {
        let (xr, yr) = ((0.0, 10.0), (-1.0, 1.0));
        assert_eq!(to_pixel(0.0, -1.0, xr, yr, 100, 50), Some((0, 49)));
        assert_eq!(to_pixel(10.0, 1.0, xr, yr, 100, 50), Some((99, 0)));
        let (x, y) = from_pixel(99.0, 0.0, xr, yr, 100, 50);
        assert!((x - 10.0).abs() < 1e-9 && (y - 1.0).abs() < 1e-9);
        assert_eq!(to_pixel(f64::NAN, 0.0, xr, yr, 100, 50), None);
    }

    #[test]
    fn raster_colours_points_and_finds_them_again() {
        let points = [(0.0, 0.0, 1), (10.0, 10.0, 2), (5.0, 5.0, -1)];
        let raster = rasterize(&points, (0.0, 10.0), (0.0, 10.0), 40, 40, None);
        assert_eq!(raster.rgba.len(), 40 * 40 * 4);
        let (x, y) = to_pixel(10.0, 10.0, (0.0, 10.0), (0.0, 10.0), 40, 40).unwrap();
        let p = (y * 40 + x) as usize * 4;
        assert_eq!(&raster.rgba[p..p + 3], &[cluster_colour(2).0, cluster_colour(2).1, cluster_colour(2).2]);
        assert_eq!(raster.point_at(x, y, 0), Some(1));
        assert_eq!(raster.point_at(20, 20, 2), Some(2));
        assert_eq!(raster.point_at(10, 30, 2), None);
        // Away from every point the buffer stays transparent.
        assert_eq!(raster.rgba[(30 * 40 + 10) * 4 + 3], 0);
    }

    #[test]
    fn painting_in_parts_gives_the_raster_of_one_pass() {
        // Overlapping points of several clusters, more than 2,000 (so the dots are 3 px), with a
        // focus: blending order, dot size and hit indices must all survive the split.
        let points: Vec<(f64, f64, i32)> = (0..2_500).map(|i| (f64::from(i % 37) / 3.7, f64::from(i % 23) / 2.3, i % 5 - 1)).collect();
        let whole = rasterize(&points, (0.0, 10.0), (0.0, 10.0), 50, 30, Some(2));
        let mut parts = Raster::blank(50, 30);
        let style = DotStyle::for_points(&points);
        for (a, b) in [(0, 1), (1, 700), (700, 700), (700, 2_499), (2_499, 2_500)] {
            parts.paint(&points, a..b, &style, (0.0, 10.0), (0.0, 10.0), Some(2));
        }
        assert!(parts.rgba == whole.rgba && parts.hit == whole.hit);
        // A range past the end paints nothing.
        parts.paint(&points, 2_400..9_000, &style, (0.0, 10.0), (0.0, 10.0), Some(2));
        assert!(parts.rgba == whole.rgba);
    }

    #[test]
    fn a_small_cluster_is_drawn_bigger_and_opaque() {
        // 3,000 points of cluster 1 and 40 of cluster 3 (1.3 %), all apart from each other.
        let point = |i: i32, cluster: i32| (f64::from(i % 100 + 1), f64::from(i / 100 + 1), cluster);
        let mut points: Vec<(f64, f64, i32)> = (0..3_000).map(|i| point(i, 1)).collect();
        points.extend((3_000..3_040).map(|i| point(i, 3)));
        points.push(point(3_040, -1));
        let style = DotStyle::for_points(&points);
        assert_eq!(style.dot(1), (3, 0.85));
        assert_eq!(style.dot(3), (5, 0.9));
        // Noise keeps the common dot; so does every cluster of a map under 2,000 points.
        assert_eq!(style.dot(-1), (3, 0.85));
        assert_eq!(DotStyle::for_points(&points[2_990..]).dot(3), (4, 0.85));
        // In the raster: 25 opaque pixels for the small cluster's dot, 9 for the large one's.
        let raster = rasterize(&points, (0.0, 101.0), (0.0, 32.0), 1_000, 330, None);
        let pixels_of = |index: u32| raster.hit.iter().filter(|&&hit| hit == index).count();
        assert_eq!((pixels_of(0), pixels_of(3_000)), (9, 25));
    }

    #[test]
    fn focus_fades_other_clusters() {
        let points = [(0.0, 0.0, 1), (10.0, 10.0, 2)];
        let raster = rasterize(&points, (0.0, 10.0), (0.0, 10.0), 20, 20, Some(2));
        let alpha_at = |x: f64, y: f64| {
            let (px, py) = to_pixel(x, y, (0.0, 10.0), (0.0, 10.0), 20, 20).unwrap();
            raster.rgba[(py * 20 + px) as usize * 4 + 3]
        };
        assert!(alpha_at(0.0, 0.0) < alpha_at(10.0, 10.0) / 4);
    }

    #[test]
    fn line_charts_draw_to_svg() {
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (300, 120)).into_drawing_area();
            draw_xy(&area, &[(2.0, 10.0), (3.0, 6.0), (4.0, 5.0)], PlotTheme::LIGHT, 0, Some(3.0), None, &|v| format!("{v:.0}")).unwrap();
            draw_xy(&area, &[], PlotTheme::LIGHT, 0, None, Some(1.0), &|v| format!("{v:.0}")).unwrap();
        }
        assert!(svg.contains("<polyline") || svg.contains("<path"), "{svg}");
    }
}
