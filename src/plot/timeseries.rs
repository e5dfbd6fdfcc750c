//! Time charts: the metric with its expected values, forecast bands, anomalies, incidents,
//! changepoints and linear trend; single-line panels (decomposition components, small
//! multiples); stacked areas for a split. Generic over the backend; x values are UTC
//! milliseconds, and [`index_at`] maps a pointer position back to a period for hover.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::Margins;
use super::PlotTheme;

/// Margins of the time charts (room for y labels and the date axis).
pub const MARGINS: Margins = Margins { left: 52, right: 12, top: 8, bottom: 22 };

/// Colours of split groups, in order (the last is reused beyond twelve).
pub const PALETTE: [(u8, u8, u8); 12] = [
    (53, 88, 212), (230, 120, 30), (34, 150, 110), (200, 60, 90), (130, 90, 200), (120, 120, 40),
    (30, 150, 190), (190, 100, 160), (100, 130, 90), (160, 110, 60), (90, 100, 130), (150, 150, 150),
];

pub fn palette(idx: usize) -> RGBColor {
    let (r, g, b) = PALETTE.get(idx).copied().unwrap_or(PALETTE[11]);
    RGBColor(r, g, b)
}

fn rgb((r, g, b): (u8, u8, u8)) -> RGBColor {
    RGBColor(r, g, b)
}

/// The forecast after the last observed period.
#[derive(Debug, Clone, Copy)]
pub struct ForecastDraw<'a> {
    pub x: &'a [f64],
    pub point: &'a [f64],
    pub lower80: &'a [f64],
    pub upper80: &'a [f64],
    pub lower95: &'a [f64],
    pub upper95: &'a [f64],
}

/// Everything on the main trend chart. Index-based inputs refer to `x` / `actual`.
#[derive(Debug, Clone, Copy)]
pub struct TimeChart<'a> {
    pub x: &'a [f64],
    pub actual: &'a [f64],
    /// Expected values (trend + seasonal); empty for none.
    pub expected: &'a [f64],
    /// Fitted linear trend per period; empty for none.
    pub linear: &'a [f64],
    pub forecast: Option<ForecastDraw<'a>>,
    /// Anomalous periods, `true` for spikes.
    pub anomalies: &'a [(usize, bool)],
    /// Incident spans (first, last period), and the selected one.
    pub incidents: &'a [(usize, usize)],
    pub selected_incident: Option<usize>,
    /// Changepoints: (first period of the new segment, level before, level after).
    pub changepoints: &'a [(usize, f64, f64)],
    /// Periods drawn hollow (partial first/last periods, not modelled).
    pub partial: &'a [usize],
    /// Visible x range (zoom).
    pub x_range: (f64, f64),
    /// Hovered period start, in x units.
    pub hover: Option<f64>,
    /// The range being dragged (zoom or a window being marked), in x units.
    pub brush: Option<(f64, f64)>,
    /// Marked windows, in x units, with their names (“baseline”, “incident”): the earlier is
    /// drawn in the muted colour, the later in the highlight colour.
    pub marked: &'a [(f64, f64, &'a str)],
}

/// Finite values of several slices, for the y range.
fn y_bounds<'a>(series: impl IntoIterator<Item = &'a [f64]>, include_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for values in series {
        for &v in values.iter().filter(|v| v.is_finite()) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if include_zero {
        lo = lo.min(0.0);
    }
    let pad = if hi > lo {
        ((hi - lo) * 0.06).max(hi.abs() * 1e-6)
    } else if hi != 0.0 {
        // A flat series sits mid-chart, its axis about its value.
        hi.abs() * 0.5
    } else {
        // Every value 0 (no events in the view): an axis of 0 to 1, not 0 to 10⁻⁹.
        1.0
    };
    (if include_zero && lo >= 0.0 { lo } else { lo - pad }, hi + pad)
}

/// The visible x range, widened when empty (a zoom onto one point).
fn span((lo, hi): (f64, f64)) -> (f64, f64) {
    if hi > lo { (lo, hi) } else { (lo - 1.0, lo + 1.0) }
}

/// Values of `xs` within the range, with their index (plus one point either side so lines run
/// to the edge).
fn visible(xs: &[f64], (lo, hi): (f64, f64)) -> std::ops::Range<usize> {
    let start = xs.partition_point(|&x| x < lo).saturating_sub(1);
    let end = (xs.partition_point(|&x| x <= hi) + 1).min(xs.len());
    start..end.max(start)
}

fn line_segments(xs: &[f64], ys: &[f64], range: std::ops::Range<usize>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for idx in range {
        match (xs.get(idx), ys.get(idx)) {
            (Some(&x), Some(&y)) if y.is_finite() => {
                if let Some(last) = out.last_mut() {
                    last.push((x, y));
                }
            }
            _ => {
                if out.last().is_some_and(|l| !l.is_empty()) {
                    out.push(Vec::new());
                }
            }
        }
    }
    out.retain(|segment| !segment.is_empty());
    out
}

pub(crate) type TimeContext<'a, DB> = ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

/// A chart over `x` × `y` with the shared frame: date labels below, value labels left, light
/// horizontal grid; `compact` for the small panels.
#[allow(clippy::too_many_arguments)]
pub(crate) fn frame<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    theme: PlotTheme,
    compact: bool,
    x_label: &dyn Fn(f64) -> String,
    y_label: &dyn Fn(f64) -> String,
) -> Result<TimeContext<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let text = rgb(theme.foreground);
    let grid = rgb(theme.grid);
    let mut chart = ChartBuilder::on(area)
        .margin_top(if compact { 4 } else { MARGINS.top })
        .margin_right(MARGINS.right)
        .x_label_area_size(MARGINS.bottom)
        .y_label_area_size(MARGINS.left)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(grid.mix(0.0))
        .bold_line_style(grid)
        .axis_style(grid)
        .x_labels(6)
        .y_labels(if compact { 3 } else { 5 })
        .x_label_formatter(&|v| x_label(*v))
        .y_label_formatter(&|v| y_label(*v))
        .label_style(("sans-serif", if compact { 10 } else { 11 }).into_font().color(&text))
        .draw()?;
    Ok(chart)
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draws the main trend chart.
pub fn draw_time_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart_data: &TimeChart<'_>,
    theme: PlotTheme,
    include_zero: bool,
    x_label: &dyn Fn(f64) -> String,
    y_label: &dyn Fn(f64) -> String,
) -> DrawResult<DB> {
    let d = chart_data;
    let (x0, x1) = span(d.x_range);
    let shown = visible(d.x, (x0, x1));
    let forecast_shown = d.forecast.map(|f| visible(f.x, (x0, x1)));
    let slice = |v: &'_ [f64], r: &std::ops::Range<usize>| v.get(r.clone()).unwrap_or_default().to_vec();
    let mut ranges: Vec<Vec<f64>> = vec![slice(d.actual, &shown), slice(d.expected, &shown)];
    if let (Some(f), Some(r)) = (d.forecast, &forecast_shown) {
        ranges.push(slice(f.lower95, r));
        ranges.push(slice(f.upper95, r));
    }
    let (y0, y1) = y_bounds(ranges.iter().map(Vec::as_slice), include_zero);

    let text = rgb(theme.foreground);
    let accent = rgb(theme.accent);
    let muted = rgb(theme.muted);
    let hot = rgb(theme.highlight);
    let alarm = RGBColor(214, 48, 49);
    let mut chart = frame(area, x0..x1, y0..y1, theme, false, x_label, y_label)?;

    // Incident spans and the brush behind everything.
    let step = |idx: usize| d.x.get(idx + 1).copied().or_else(|| d.forecast.and_then(|f| f.x.first().copied())).unwrap_or_else(|| d.x.get(idx).copied().unwrap_or(0.0) + 1.0);
    for (k, &(first, last)) in d.incidents.iter().enumerate() {
        let (Some(&a), b) = (d.x.get(first), step(last)) else { continue };
        let opacity = if d.selected_incident == Some(k) { 0.30 } else { 0.14 };
        chart.draw_series(std::iter::once(Rectangle::new([(a.max(x0), y0), (b.min(x1), y1)], alarm.mix(opacity).filled())))?;
    }
    for (k, &(a, b, name)) in d.marked.iter().enumerate() {
        let (a, b) = (a.min(b).max(x0), a.max(b).min(x1));
        if a >= b {
            continue;
        }
        let colour = if k == 0 && d.marked.len() > 1 { muted } else { hot };
        chart.draw_series(std::iter::once(Rectangle::new([(a, y0), (b, y1)], colour.mix(0.22).filled())))?;
        chart.draw_series(std::iter::once(PathElement::new(vec![(a, y0), (a, y1)], colour.stroke_width(1))))?;
        chart.draw_series(std::iter::once(PathElement::new(vec![(b, y0), (b, y1)], colour.stroke_width(1))))?;
        let style = ("sans-serif", 11).into_font().color(&colour).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Top,
        ));
        chart.draw_series(std::iter::once(EmptyElement::at((a, y1)) + Text::new(name.to_string(), (4, 3), style)))?;
    }
    if let Some((a, b)) = d.brush {
        let (a, b) = (a.min(b).max(x0), a.max(b).min(x1));
        chart.draw_series(std::iter::once(Rectangle::new([(a, y0), (b, y1)], accent.mix(0.15).filled())))?;
    }
    // Forecast bands and line.
    if let (Some(f), Some(r)) = (d.forecast, &forecast_shown) {
        for (lower, upper, opacity) in [(f.lower95, f.upper95, 0.12), (f.lower80, f.upper80, 0.22)] {
            let mut polygon: Vec<(f64, f64)> = r.clone().filter_map(|i| Some((*f.x.get(i)?, *upper.get(i)?))).filter(|p| p.1.is_finite()).collect();
            polygon.extend(r.clone().rev().filter_map(|i| Some((*f.x.get(i)?, *lower.get(i)?))).filter(|p| p.1.is_finite()));
            if polygon.len() >= 3 {
                chart.draw_series(std::iter::once(Polygon::new(polygon, accent.mix(opacity).filled())))?;
            }
        }
        // Join the forecast to the last modelled value (not to a partial period).
        let mut points: Vec<(f64, f64)> = Vec::new();
        if let Some(last) = d.actual.iter().enumerate().rposition(|(i, v)| v.is_finite() && !d.partial.contains(&i)) {
            if let (Some(&x), Some(&y)) = (d.x.get(last), d.actual.get(last)) {
                points.push((x, y));
            }
        }
        for segment in line_segments(f.x, f.point, r.clone()) {
            points.extend(segment);
        }
        chart.draw_series(std::iter::once(PathElement::new(points, accent.stroke_width(2))))?;
    }
    // Linear trend, expected, actual.
    for segment in line_segments(d.x, d.linear, shown.clone()) {
        chart.draw_series(std::iter::once(PathElement::new(segment, muted.mix(0.8).stroke_width(1))))?;
    }
    for segment in line_segments(d.x, d.expected, shown.clone()) {
        chart.draw_series(std::iter::once(PathElement::new(segment, hot.stroke_width(1))))?;
    }
    for segment in line_segments(d.x, d.actual, shown.clone()) {
        // A value with no neighbour (one period of data, or one between gaps) is a dot: a line
        // through one point draws nothing.
        if let [only] = segment.as_slice() {
            chart.draw_series(std::iter::once(Circle::new(*only, 3, text.filled())))?;
        }
        chart.draw_series(std::iter::once(PathElement::new(segment, text.stroke_width(2))))?;
    }
    for &idx in d.partial {
        if let (Some(&x), Some(&y)) = (d.x.get(idx), d.actual.get(idx)) {
            if y.is_finite() && x >= x0 && x <= x1 {
                chart.draw_series(std::iter::once(Circle::new((x, y), 4, ShapeStyle::from(&text).stroke_width(1))))?;
            }
        }
    }
    // Changepoints: a dashed vertical line and the level before / after.
    for &(idx, before, after) in d.changepoints {
        let Some(&x) = d.x.get(idx) else { continue };
        if x < x0 || x > x1 {
            continue;
        }
        let mut y = y0;
        let dash = (y1 - y0) / 30.0;
        while y < y1 {
            chart.draw_series(std::iter::once(PathElement::new(vec![(x, y), (x, (y + dash * 0.6).min(y1))], muted.stroke_width(1))))?;
            y += dash;
        }
        let from = d.x.get(idx.saturating_sub(3)).copied().unwrap_or(x);
        let to = d.x.get(idx + 3).copied().unwrap_or(x);
        chart.draw_series([
            PathElement::new(vec![(from, before), (x, before)], hot.stroke_width(3)),
            PathElement::new(vec![(x, after), (to, after)], hot.stroke_width(3)),
        ])?;
    }
    // Anomalies on top.
    chart.draw_series(d.anomalies.iter().filter_map(|&(idx, _)| {
        let (x, y) = (*d.x.get(idx)?, *d.actual.get(idx)?);
        (y.is_finite() && x >= x0 && x <= x1).then(|| Circle::new((x, y), 4, alarm.filled()))
    }))?;
    // Hover guide.
    if let Some(x) = d.hover.filter(|x| *x >= x0 && *x <= x1) {
        chart.draw_series(std::iter::once(PathElement::new(vec![(x, y0), (x, y1)], muted.mix(0.6).stroke_width(1))))?;
    }
    area.present()
}

/// One series in a small panel (a decomposition component, a small multiple); `bars` draws
/// it as bars from zero (the remainder).
#[allow(clippy::too_many_arguments)]
pub fn draw_line_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x: &[f64],
    y: &[f64],
    x_range: (f64, f64),
    theme: PlotTheme,
    color: RGBColor,
    bars: bool,
    hover: Option<usize>,
    x_label: &dyn Fn(f64) -> String,
    y_label: &dyn Fn(f64) -> String,
) -> DrawResult<DB> {
    let (x0, x1) = span(x_range);
    let shown = visible(x, (x0, x1));
    let (y0, y1) = y_bounds([y.get(shown.clone()).unwrap_or_default()], bars);
    let mut chart = frame(area, x0..x1, y0..y1, theme, true, x_label, y_label)?;
    if bars {
        let width = x.windows(2).next().map_or(1.0, |w| (w[1] - w[0]) * 0.8);
        chart.draw_series(shown.clone().filter_map(|i| {
            let (xi, yi) = (*x.get(i)?, *y.get(i)?);
            yi.is_finite().then(|| Rectangle::new([(xi, 0.0), (xi + width, yi)], color.mix(0.8).filled()))
        }))?;
    } else {
        for segment in line_segments(x, y, shown) {
            chart.draw_series(std::iter::once(PathElement::new(segment, color.stroke_width(2))))?;
        }
    }
    if let Some(xh) = hover.and_then(|h| x.get(h)).filter(|x| **x >= x0 && **x <= x1) {
        chart.draw_series(std::iter::once(PathElement::new(vec![(*xh, y0), (*xh, y1)], rgb(theme.muted).mix(0.6).stroke_width(1))))?;
    }
    area.present()
}

/// Lines over the same periods (treated and control means), each in its palette colour, with
/// a dashed vertical line at `marker` (an intervention) and the hovered period's guide.
#[allow(clippy::too_many_arguments)]
pub fn draw_lines_with_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x: &[f64],
    lines: &[(&[f64], usize)],
    marker: Option<f64>,
    theme: PlotTheme,
    hover: Option<usize>,
    x_label: &dyn Fn(f64) -> String,
    y_label: &dyn Fn(f64) -> String,
) -> DrawResult<DB> {
    let (x0, x1) = band_x_range(x);
    let (y0, y1) = y_bounds(lines.iter().map(|(ys, _)| *ys), false);
    let mut chart = frame(area, x0..x1, y0..y1, theme, false, x_label, y_label)?;
    for &(ys, colour) in lines {
        for segment in line_segments(x, ys, 0..x.len()) {
            chart.draw_series(std::iter::once(PathElement::new(segment, palette(colour).stroke_width(2))))?;
        }
    }
    if let Some(m) = marker.filter(|m| *m >= x0 && *m <= x1) {
        dashed_marker(&mut chart, m, (y0, y1), rgb(theme.foreground))?;
    }
    if let Some(xh) = hover.and_then(|h| x.get(h)) {
        chart.draw_series(std::iter::once(PathElement::new(vec![(*xh, y0), (*xh, y1)], rgb(theme.muted).mix(0.6).stroke_width(1))))?;
    }
    area.present()
}

/// The x range of [`draw_band_chart`]: the periods with a little room either side.
pub fn band_x_range(x: &[f64]) -> (f64, f64) {
    let (x0, x1) = span((x.first().copied().unwrap_or(0.0), x.last().copied().unwrap_or(1.0)));
    let pad = (x1 - x0) * 0.03;
    (x0 - pad, x1 + pad)
}

/// An estimate per period with its interval as a band (prevalence per day): the band, the
/// line through the estimates (broken where a period has none), a dot per period and the
/// hovered period's guide.
#[allow(clippy::too_many_arguments)]
pub fn draw_band_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x: &[f64],
    estimate: &[f64],
    low: &[f64],
    high: &[f64],
    theme: PlotTheme,
    hover: Option<usize>,
    x_label: &dyn Fn(f64) -> String,
    y_label: &dyn Fn(f64) -> String,
) -> DrawResult<DB> {
    let (x0, x1) = band_x_range(x);
    let (y0, y1) = y_bounds([estimate, low, high], true);
    let accent = rgb(theme.accent);
    let mut chart = frame(area, x0..x1, y0..y1, theme, false, x_label, y_label)?;
    let points = |ys: &[f64]| -> Vec<(f64, f64)> { x.iter().zip(ys).filter(|(_, y)| y.is_finite()).map(|(&x, &y)| (x, y)).collect() };
    band_runs(&mut chart, x, low, high, accent)?;
    for segment in line_segments(x, estimate, 0..x.len()) {
        chart.draw_series(std::iter::once(PathElement::new(segment, accent.stroke_width(2))))?;
    }
    chart.draw_series(points(estimate).into_iter().map(|p| Circle::new(p, 2, accent.filled())))?;
    if let Some(xh) = hover.and_then(|h| x.get(h)) {
        chart.draw_series(std::iter::once(PathElement::new(vec![(*xh, y0), (*xh, y1)], rgb(theme.muted).mix(0.6).stroke_width(1))))?;
    }
    area.present()
}

/// The band over each run of periods with an interval; a lone period gets a whisker.
fn band_runs<DB: DrawingBackend>(chart: &mut TimeContext<'_, DB>, x: &[f64], low: &[f64], high: &[f64], colour: RGBColor) -> DrawResult<DB> {
    let mut run: Vec<(f64, f64, f64)> = Vec::new();
    let bounds = x.iter().zip(low.iter().zip(high)).map(|(&x, (&l, &h))| (x, l, h));
    for item in bounds.chain(std::iter::once((f64::NAN, f64::NAN, f64::NAN))) {
        if item.1.is_finite() && item.2.is_finite() {
            run.push(item);
            continue;
        }
        match run.len() {
            0 => {}
            1 => {
                let (x, l, h) = run[0];
                chart.draw_series(std::iter::once(PathElement::new(vec![(x, l), (x, h)], colour.mix(0.5).stroke_width(3))))?;
            }
            _ => {
                let polygon: Vec<(f64, f64)> = run.iter().map(|&(x, _, h)| (x, h)).chain(run.iter().rev().map(|&(x, l, _)| (x, l))).collect();
                chart.draw_series(std::iter::once(Polygon::new(polygon, colour.mix(0.18).filled())))?;
            }
        }
        run.clear();
    }
    Ok(())
}

/// A dashed vertical line at `at` (the intervention) from y0 to y1.
fn dashed_marker<DB: DrawingBackend>(chart: &mut TimeContext<'_, DB>, at: f64, (y0, y1): (f64, f64), colour: RGBColor) -> DrawResult<DB> {
    let steps = 24;
    let dashes = (0..steps).step_by(2).map(|k| {
        let y = |k: i32| y0 + (y1 - y0) * f64::from(k) / f64::from(steps);
        PathElement::new(vec![(at, y(k)), (at, y(k + 1))], colour.mix(0.7).stroke_width(1))
    });
    chart.draw_series(dashes)?;
    Ok(())
}

/// One of CausalImpact's three panels: an estimate per period (dashed) with its interval as a
/// band, the actual series (solid) when given, a zero line when asked (the effect panels), a
/// target as a dashed horizontal line in the highlight colour (an objective's projection), the
/// intervention as a dashed vertical line, and the hovered period's guide.
#[allow(clippy::too_many_arguments)]
pub fn draw_counterfactual_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x: &[f64],
    actual: Option<&[f64]>,
    (estimate, low, high): (&[f64], &[f64], &[f64]),
    intervention: f64,
    zero_line: bool,
    target: Option<f64>,
    theme: PlotTheme,
    hover: Option<usize>,
    x_label: &dyn Fn(f64) -> String,
    y_label: &dyn Fn(f64) -> String,
) -> DrawResult<DB> {
    let (x0, x1) = band_x_range(x);
    let target_line = target.filter(|t| t.is_finite()).map(|t| [t]);
    let (y0, y1) = y_bounds([estimate, low, high, actual.unwrap_or(&[]), target_line.as_ref().map_or(&[][..], |t| &t[..])], zero_line);
    let accent = rgb(theme.accent);
    let mut chart = frame(area, x0..x1, y0..y1, theme, false, x_label, y_label)?;
    band_runs(&mut chart, x, low, high, accent)?;
    if zero_line {
        chart.draw_series(std::iter::once(PathElement::new(vec![(x0, 0.0), (x1, 0.0)], rgb(theme.muted).stroke_width(1))))?;
    }
    if let Some(actual) = actual {
        for segment in line_segments(x, actual, 0..x.len()) {
            chart.draw_series(std::iter::once(PathElement::new(segment, rgb(theme.foreground).stroke_width(2))))?;
        }
    }
    for segment in line_segments(x, estimate, 0..x.len()) {
        chart.draw_series(std::iter::once(plotters::element::DashedPathElement::new(segment, 6, 4, accent.stroke_width(2))))?;
    }
    if let Some([t]) = target_line {
        chart.draw_series(std::iter::once(plotters::element::DashedPathElement::new(vec![(x0, t), (x1, t)], 8, 5, rgb(theme.highlight).stroke_width(2))))?;
    }
    if (x0..=x1).contains(&intervention) {
        dashed_marker(&mut chart, intervention, (y0, y1), rgb(theme.foreground))?;
    }
    if let Some(xh) = hover.and_then(|h| x.get(h)) {
        chart.draw_series(std::iter::once(PathElement::new(vec![(*xh, y0), (*xh, y1)], rgb(theme.muted).mix(0.6).stroke_width(1))))?;
    }
    area.present()
}

#[allow(clippy::too_many_arguments)]
/// Stacked areas of split groups (each value ≥ 0 stacked in order; undefined counts as 0).
pub fn draw_stacked<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x: &[f64],
    groups: &[&[f64]],
    x_range: (f64, f64),
    theme: PlotTheme,
    hover: Option<usize>,
    x_label: &dyn Fn(f64) -> String,
    y_label: &dyn Fn(f64) -> String,
) -> DrawResult<DB> {
    let (x0, x1) = span(x_range);
    let shown = visible(x, (x0, x1));
    let mut cumulative = vec![vec![0.0; x.len()]; groups.len() + 1];
    for (g, values) in groups.iter().enumerate() {
        for i in 0..x.len() {
            let below = cumulative.get(g).and_then(|c| c.get(i)).copied().unwrap_or(0.0);
            let v = values.get(i).copied().filter(|v| v.is_finite() && *v > 0.0).unwrap_or(0.0);
            if let Some(slot) = cumulative.get_mut(g + 1).and_then(|c| c.get_mut(i)) {
                *slot = below + v;
            }
        }
    }
    let top = cumulative.last().map(|c| c.get(shown.clone()).unwrap_or_default().to_vec()).unwrap_or_default();
    let (_, y1) = y_bounds([top.as_slice()], true);
    let mut chart = frame(area, x0..x1, 0.0..y1, theme, false, x_label, y_label)?;
    for g in 0..groups.len() {
        let (Some(low), Some(high)) = (cumulative.get(g), cumulative.get(g + 1)) else { continue };
        let mut polygon: Vec<(f64, f64)> = shown.clone().filter_map(|i| Some((*x.get(i)?, *high.get(i)?))).collect();
        polygon.extend(shown.clone().rev().filter_map(|i| Some((*x.get(i)?, *low.get(i)?))));
        if polygon.len() >= 3 {
            chart.draw_series(std::iter::once(Polygon::new(polygon, palette(g).mix(0.85).filled())))?;
        }
    }
    if let Some(xh) = hover.and_then(|h| x.get(h)).filter(|x| **x >= x0 && **x <= x1) {
        chart.draw_series(std::iter::once(PathElement::new(vec![(*xh, 0.0), (*xh, y1)], rgb(theme.muted).stroke_width(1))))?;
    }
    area.present()
}

/// The x value under a horizontal pixel position of a chart `width_px` wide showing
/// `x_range`, or `None` outside the plotting area.
/// The period nearest to pixel `x_px` on a chart drawn over [`band_x_range`] of `x` (the band
/// and counterfactual charts): the hover of every such chart.
pub fn nearest_period(x_px: f64, width_px: f64, x: &[f64]) -> Option<usize> {
    let v = x_at(x_px, width_px, band_x_range(x))?;
    x.iter().enumerate().min_by(|a, b| (a.1 - v).abs().total_cmp(&(b.1 - v).abs())).map(|(i, _)| i)
}

pub fn x_at(x_px: f64, width_px: f64, x_range: (f64, f64)) -> Option<f64> {
    let left = f64::from(MARGINS.left);
    let plot_width = width_px - left - f64::from(MARGINS.right);
    if plot_width <= 0.0 || x_px < left || x_px > left + plot_width {
        return None;
    }
    Some(x_range.0 + (x_px - left) / plot_width * (x_range.1 - x_range.0))
}

/// The period (index into `xs`, sorted bucket starts) whose bucket holds x.
pub fn index_at(xs: &[f64], x: f64) -> Option<usize> {
    let idx = xs.partition_point(|&start| start <= x).checked_sub(1)?;
    Some(idx)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    fn label(v: f64) -> String {
        format!("{v:.0}")
    }

    #[test]
    fn flat_series_get_an_axis_about_their_value() {
        let zeros = [0.0; 5];
        assert_eq!(y_bounds([zeros.as_slice()], true), (0.0, 1.0));
        assert_eq!(y_bounds([zeros.as_slice()], false), (-1.0, 1.0));
        let rate = [0.004; 3];
        let (lo, hi) = y_bounds([rate.as_slice()], false);
        assert!((lo - 0.002).abs() < 1e-12 && (hi - 0.006).abs() < 1e-12, "{lo} {hi}");
        assert_eq!(y_bounds([[f64::NAN].as_slice()], true), (0.0, 1.0));
        let (lo, hi) = y_bounds([[1.0, 11.0].as_slice()], true);
        assert_eq!((lo, hi), (0.0, 11.0 + 11.0 * 0.06));
    }

    #[test]
    fn two_lines_and_a_marker() {
        let draw = |marker: Option<f64>| {
            let mut out = String::new();
            {
                let area = SVGBackend::with_string(&mut out, (400, 200)).into_drawing_area();
                let (a, b) = ([1.0, 2.0, 3.0, 2.5], [1.0, 2.1, 2.9, 3.4]);
                draw_lines_with_marker(&area, &[0.0, 1.0, 2.0, 3.0], &[(&a, 0), (&b, 1)], marker, PlotTheme::LIGHT, Some(2), &label, &label).unwrap();
            }
            out
        };
        let (with, without) = (draw(Some(1.5)), draw(None));
        for colour in ["#3558D4", "#E6781E"] {
            assert!(with.to_uppercase().contains(colour), "a line in {colour}");
        }
        assert_eq!(with.matches("<polyline").count() - without.matches("<polyline").count(), 12, "the launch as twelve dashes");
    }

    #[test]
    fn an_estimate_band_is_drawn_for_one_or_many_periods() {
        let svg = |x: &[f64], e: &[f64], l: &[f64], h: &[f64]| {
            let mut out = String::new();
            {
                let area = SVGBackend::with_string(&mut out, (400, 200)).into_drawing_area();
                draw_band_chart(&area, x, e, l, h, PlotTheme::LIGHT, Some(0), &label, &label).unwrap();
            }
            out
        };
        let many = svg(&[0.0, 1.0, 2.0], &[0.1, 0.2, 0.15], &[0.05, 0.1, 0.1], &[0.2, 0.3, 0.2]);
        assert!(many.contains("<polygon"), "the band");
        assert_eq!(many.matches("<circle").count(), 3);
        let one = svg(&[5.0], &[0.1], &[0.05], &[0.2]);
        assert!(!one.contains("<polygon") && one.contains("<polyline"), "a whisker instead of a band");
    }

    #[test]
    fn the_nearest_period_under_the_pointer() {
        let x = [0.0, 10.0, 20.0, 30.0];
        let width = 1000.0;
        let left = f64::from(MARGINS.left);
        let plot = width - left - f64::from(MARGINS.right);
        let (x0, x1) = band_x_range(&x);
        let px = |v: f64| left + (v - x0) / (x1 - x0) * plot;
        assert_eq!(nearest_period(px(11.0), width, &x), Some(1));
        assert_eq!(nearest_period(px(26.0), width, &x), Some(3));
        assert_eq!(nearest_period(left - 5.0, width, &x), None, "in the margin");
    }

    #[test]
    fn a_counterfactual_panel_has_its_band_actual_dashes_and_zero_line() {
        let svg_with = |actual: Option<&[f64]>, zero: bool, target: Option<f64>| {
            let mut out = String::new();
            {
                let area = SVGBackend::with_string(&mut out, (400, 200)).into_drawing_area();
                let (e, l, h) = ([1.0, 1.0, 1.0, 1.0], [-0.5, 0.5, 0.4, 0.3], [1.5, 1.5, 1.6, 1.7]);
                draw_counterfactual_panel(&area, &[0.0, 1.0, 2.0, 3.0], actual, (&e, &l, &h), 1.5, zero, target, PlotTheme::LIGHT, None, &label, &label).unwrap();
            }
            out
        };
        let svg = |actual: Option<&[f64]>, zero: bool| svg_with(actual, zero, None);
        // A target far above the data: drawn (dashes in the highlight colour), and the axis reaches it.
        let (r, g, b) = PlotTheme::LIGHT.highlight;
        let colour = format!("#{r:02X}{g:02X}{b:02X}");
        let targeted = svg_with(None, false, Some(9.0));
        assert!(targeted.contains(&colour) && !svg(None, false).contains(&colour), "the target line");
        let has_tick = |svg: &str, text: &str| svg.lines().any(|l| l.trim() == text);
        assert!(has_tick(&targeted, "8") && !has_tick(&svg(None, false), "8"), "the axis reaches the target");
        let full = svg(Some(&[1.1, 0.9, 1.6, 1.65]), false);
        assert!(full.contains("<polygon"), "the interval band");
        let bare = svg(None, false);
        // The actual line is one polyline; the intervention twelve dashes in both.
        assert_eq!(full.matches("<polyline").count(), bare.matches("<polyline").count() + 1);
        assert_eq!(svg(None, true).matches("<polyline").count(), bare.matches("<polyline").count() + 1, "the zero line");
    }

    #[test]
    fn draws_every_layer_as_svg() {
        let x: Vec<f64> = (0..20).map(f64::from).collect();
        let actual: Vec<f64> = (0..20).map(|i| if i == 12 { 40.0 } else { 10.0 + f64::from(i % 3) }).collect();
        let expected = vec![11.0; 20];
        let fx: Vec<f64> = (20..25).map(f64::from).collect();
        let point = vec![11.0; 5];
        let (lo80, hi80, lo95, hi95) = (vec![9.0; 5], vec![13.0; 5], vec![8.0; 5], vec![14.0; 5]);
        let chart = TimeChart {
            x: &x,
            actual: &actual,
            expected: &expected,
            linear: &expected,
            forecast: Some(ForecastDraw { x: &fx, point: &point, lower80: &lo80, upper80: &hi80, lower95: &lo95, upper95: &hi95 }),
            anomalies: &[(12, true)],
            incidents: &[(12, 12)],
            selected_incident: Some(0),
            changepoints: &[(8, 10.0, 11.0)],
            partial: &[19],
            x_range: (0.0, 25.0),
            hover: Some(22.0),
            brush: Some((2.0, 4.0)),
            marked: &[(1.0, 3.0, "baseline"), (12.0, 13.0, "incident")],
        };
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (600, 240)).into_drawing_area();
            draw_time_chart(&area, &chart, PlotTheme::LIGHT, true, &label, &label).unwrap();
        }
        assert!(svg.contains("<circle"), "anomaly and partial markers");
        assert!(svg.contains("<polygon"), "forecast bands");
        assert!(svg.contains("baseline") && svg.contains("incident"), "marked windows are named");
        assert!(svg.matches("<polyline").count() >= 4, "actual, expected, trend and forecast lines");
        // Zoomed to a range with nothing in it: still draws axes, no panic.
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (600, 240)).into_drawing_area();
            draw_time_chart(&area, &TimeChart { x_range: (100.0, 100.0), ..chart }, PlotTheme::DARK, false, &label, &label).unwrap();
        }
        // One period of data: its value is a dot (a line through one point draws nothing).
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (600, 240)).into_drawing_area();
            let one = TimeChart { x: &x[..1], actual: &actual[..1], expected: &[f64::NAN], linear: &[f64::NAN], forecast: None, anomalies: &[], incidents: &[], selected_incident: None, changepoints: &[], partial: &[], x_range: (0.0, 1.0), hover: None, brush: None, marked: &[] };
            draw_time_chart(&area, &one, PlotTheme::LIGHT, true, &label, &label).unwrap();
        }
        assert_eq!(svg.matches("<circle").count(), 1, "the one value");
        let groups: Vec<&[f64]> = vec![&actual, &expected];
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (600, 240)).into_drawing_area();
            draw_stacked(&area, &x, &groups, (0.0, 19.0), PlotTheme::LIGHT, Some(3), &label, &label).unwrap();
            draw_line_panel(&area, &x, &actual, (0.0, 19.0), PlotTheme::LIGHT, palette(0), true, None, &label, &label).unwrap();
        }
        assert!(svg.contains("<polygon"));
    }

    #[test]
    fn pointer_positions_map_to_periods() {
        let width = 100.0 + f64::from(MARGINS.left + MARGINS.right);
        let left = f64::from(MARGINS.left);
        assert_eq!(x_at(left + 50.0, width, (0.0, 10.0)), Some(5.0));
        assert_eq!(x_at(1.0, width, (0.0, 10.0)), None);
        let xs = [0.0, 10.0, 20.0];
        assert_eq!(index_at(&xs, 15.0), Some(1));
        assert_eq!(index_at(&xs, 25.0), Some(2));
        assert_eq!(index_at(&xs, -1.0), None);
    }
}

/// The layers of a trend report's chart, owned: what [`TimeChart`] borrows. Built once per
/// report by the Trends tab (redrawn on hover and zoom) and by the command line's report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrendLayers {
    /// Period starts (UTC ms).
    pub x: Vec<f64>,
    /// Forecast period starts.
    pub forecast_x: Vec<f64>,
    pub anomalies: Vec<(usize, bool)>,
    pub incidents: Vec<(usize, usize)>,
    pub changepoints: Vec<(usize, f64, f64)>,
    pub linear: Vec<f64>,
    pub partial: Vec<usize>,
    /// From the first period to the end of the forecast (or of the last period).
    pub full_range: (f64, f64),
}

impl TrendLayers {
    pub fn of(report: &crate::analysis::trend::TrendReport) -> Self {
        use crate::analysis::trend::Direction;
        let s = &report.series;
        let a = report.analysis.as_ref().ok();
        let x: Vec<f64> = s.starts_ms.iter().map(|&v| v as f64).collect();
        let forecast_x = a.map(|a| forecast_x(s, a.model_range.1, a.forecast.point.len())).unwrap_or_default();
        let (lo, hi) = periods_span(s, &forecast_x);
        let linear = a
            .and_then(|a| a.linear.as_ref())
            .map(|l| (0..x.len()).map(|i| if i >= s.complete.0 && i < s.complete.1 { l.at(i as f64) } else { f64::NAN }).collect())
            .unwrap_or_default();
        Self {
            anomalies: a.map(|a| a.anomalies.iter().map(|x| (x.index, x.direction == Direction::Spike)).collect()).unwrap_or_default(),
            incidents: a.map(|a| a.incidents.iter().map(|i| (i.start, i.end)).collect()).unwrap_or_default(),
            changepoints: a.map(|a| a.changepoints.iter().map(|c| (c.index, c.before, c.after)).collect()).unwrap_or_default(),
            linear,
            partial: (0..s.complete.0).chain(s.complete.1..x.len()).collect(),
            full_range: (lo, hi),
            x,
            forecast_x,
        }
    }

    /// The chart of `report` (whose layers these are), over `x_range`, without hover, brush or
    /// marks (the tab adds them).
    pub fn chart<'a>(&'a self, report: &'a crate::analysis::trend::TrendReport, x_range: (f64, f64)) -> TimeChart<'a> {
        let a = report.analysis.as_ref().ok();
        TimeChart {
            x: &self.x,
            actual: &report.series.values,
            expected: a.map(|a| a.expected.as_slice()).unwrap_or_default(),
            linear: &self.linear,
            forecast: a.map(|a| ForecastDraw {
                x: &self.forecast_x,
                point: &a.forecast.point,
                lower80: &a.forecast.lower80,
                upper80: &a.forecast.upper80,
                lower95: &a.forecast.lower95,
                upper95: &a.forecast.upper95,
            }),
            anomalies: &self.anomalies,
            incidents: &self.incidents,
            selected_incident: None,
            changepoints: &self.changepoints,
            partial: &self.partial,
            x_range,
            hover: None,
            brush: None,
            marked: &[],
        }
    }
}

/// From the first period to the end of the forecast at `forecast_x` (or of the last period).
fn periods_span(series: &crate::analysis::series::Series, forecast_x: &[f64]) -> (f64, f64) {
    let lo = series.starts_ms.first().map_or(0.0, |&v| v as f64);
    let last_observed = series.next_start_ms(1).map_or(lo + 1.0, |v| v as f64);
    (lo, forecast_x.last().copied().map_or(last_observed, |v| v.max(last_observed)))
}

/// [`TrendLayers::full_range`] of `report` without the layers: the charts stacked under the
/// trend chart use it too, so that their periods line up.
pub fn full_range(report: &crate::analysis::trend::TrendReport) -> (f64, f64) {
    let s = &report.series;
    let forecast_x = report.analysis.as_ref().ok().map(|a| forecast_x(s, a.model_range.1, a.forecast.point.len())).unwrap_or_default();
    periods_span(s, &forecast_x)
}

/// Starts of the forecast periods: the forecast begins at `model_end` (which may be a partial
/// period already in the series) and runs `horizon` periods.
pub fn forecast_x(series: &crate::analysis::series::Series, model_end: usize, horizon: usize) -> Vec<f64> {
    let n = series.starts_ms.len();
    (0..horizon)
        .filter_map(|k| {
            let idx = model_end + k;
            match series.starts_ms.get(idx) {
                Some(&ms) => Some(ms as f64),
                None => series.next_start_ms(idx + 1 - n).map(|ms| ms as f64),
            }
        })
        .collect()
}

/// A trend report's chart as SVG (`width` × `height` px), its axes labelled in the series'
/// own periods and zone.
pub fn trend_svg(report: &crate::analysis::trend::TrendReport, width: u32, height: u32, theme: PlotTheme, rate: bool) -> Result<String, String> {
    let layers = TrendLayers::of(report);
    let chart = layers.chart(report, layers.full_range);
    let (granularity, zone) = (report.series.granularity, report.series.clock());
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let y_label = |v: f64| if rate { format!("{:.1} %", v * 100.0) } else { crate::format::compact_number(v) };
        draw_time_chart(&area, &chart, theme, !rate, &|v| crate::analysis::series::format_bucket(granularity, &zone, v as i64), &y_label).map_err(|e| e.to_string())?;
        area.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
