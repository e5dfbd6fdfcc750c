//! A ring as a node-link drawing: entities and the attribute values they share as two kinds of
//! node, placed by a seeded force-directed layout (Fruchterman–Reingold), drawn through plotters,
//! and hit-tested for the hover read-out.

use plotters::coord::Shift;
use plotters::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::PlotTheme;

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Node positions in the unit square for a graph of `n` nodes and `edges`, after `iterations`
/// rounds of Fruchterman–Reingold (repulsion k²/d between all pairs, attraction d²/k along
/// edges, a temperature cooling linearly). Seeded: the same graph always looks the same.
pub fn layout(n: usize, edges: &[(usize, usize)], iterations: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pos: Vec<(f64, f64)> = (0..n).map(|_| (rng.gen::<f64>(), rng.gen::<f64>())).collect();
    if n < 2 {
        return pos.into_iter().map(|_| (0.5, 0.5)).collect();
    }
    let k = (1.0 / n as f64).sqrt();
    let mut temperature = 0.1;
    let cooling = temperature / (iterations.max(1) as f64 + 1.0);
    let mut shift = vec![(0.0, 0.0); n];
    for _ in 0..iterations {
        shift.iter_mut().for_each(|s| *s = (0.0, 0.0));
        for i in 0..n {
            for j in (i + 1)..n {
                let (dx, dy) = (pos[i].0 - pos[j].0, pos[i].1 - pos[j].1);
                let d = (dx * dx + dy * dy).sqrt().max(1e-4);
                let force = k * k / d;
                let (fx, fy) = (dx / d * force, dy / d * force);
                shift[i].0 += fx;
                shift[i].1 += fy;
                shift[j].0 -= fx;
                shift[j].1 -= fy;
            }
        }
        for &(a, b) in edges {
            if a >= n || b >= n || a == b {
                continue;
            }
            let (dx, dy) = (pos[a].0 - pos[b].0, pos[a].1 - pos[b].1);
            let d = (dx * dx + dy * dy).sqrt().max(1e-4);
            let force = d * d / k;
            let (fx, fy) = (dx / d * force, dy / d * force);
            shift[a].0 -= fx;
            shift[a].1 -= fy;
            shift[b].0 += fx;
            shift[b].1 += fy;
        }
        for (p, s) in pos.iter_mut().zip(&shift) {
            let length = (s.0 * s.0 + s.1 * s.1).sqrt();
            if length > 0.0 {
                let step = length.min(temperature);
                p.0 += s.0 / length * step;
                p.1 += s.1 / length * step;
            }
        }
        temperature -= cooling;
    }
    normalise(pos)
}

/// Scales positions into [0.05, 0.95]² keeping their aspect.
fn normalise(pos: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let fold = |f: fn(&(f64, f64)) -> f64| pos.iter().map(f).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let ((x0, x1), (y0, y1)) = (fold(|p| p.0), fold(|p| p.1));
    let span = (x1 - x0).max(y1 - y0).max(1e-9);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    pos.into_iter().map(|(x, y)| (0.5 + (x - cx) / span * 0.9, 0.5 + (y - cy) / span * 0.9)).collect()
}

/// Where a unit-square position lands on a `width` × `height` drawing (the square centred).
pub fn to_pixel(p: (f64, f64), width: u32, height: u32) -> (i32, i32) {
    let side = f64::from(width.min(height));
    let (ox, oy) = ((f64::from(width) - side) / 2.0, (f64::from(height) - side) / 2.0);
    ((ox + p.0 * side).round() as i32, (oy + p.1 * side).round() as i32)
}

/// The node nearest to pixel `(x, y)` within `radius` pixels.
pub fn node_at(positions: &[(f64, f64)], x: f64, y: f64, width: u32, height: u32, radius: f64) -> Option<usize> {
    positions
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let (px, py) = to_pixel(p, width, height);
            (i, (f64::from(px) - x).hypot(f64::from(py) - y))
        })
        .filter(|&(_, d)| d <= radius)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// Draws the graph: edges as thin lines, entities (`is_entity`) as filled circles in the accent
/// colour, shared values as squares in the highlight colour; the hovered node and its edges
/// stand out.
pub fn draw_network<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    positions: &[(f64, f64)],
    is_entity: &[bool],
    edges: &[(usize, usize)],
    theme: PlotTheme,
    hover: Option<usize>,
) -> DrawResult<DB> {
    let (width, height) = area.dim_in_pixel();
    let rgb = |c: (u8, u8, u8)| RGBColor(c.0, c.1, c.2);
    let pixel = |i: usize| positions.get(i).map(|&p| to_pixel(p, width, height));
    for &(a, b) in edges {
        let (Some(pa), Some(pb)) = (pixel(a), pixel(b)) else { continue };
        let lit = hover.is_some_and(|h| h == a || h == b);
        let style = if lit { rgb(theme.foreground).stroke_width(2) } else { rgb(theme.muted).mix(0.45).stroke_width(1) };
        area.draw(&PathElement::new(vec![pa, pb], style))?;
    }
    let radius = if positions.len() > 150 { 3 } else { 5 };
    for (i, entity) in is_entity.iter().enumerate() {
        let Some(p) = pixel(i) else { continue };
        let size = if hover == Some(i) { radius + 3 } else { radius };
        if *entity {
            area.draw(&Circle::new(p, size, rgb(theme.accent).filled()))?;
        } else {
            area.draw(&Rectangle::new([(p.0 - size, p.1 - size), (p.0 + size, p.1 + size)], rgb(theme.highlight).filled()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    #[test]
    fn linked_nodes_end_closer_than_unlinked_ones_and_stay_in_the_square() {
        // Two stars of five leaves, not linked to each other.
        let edges: Vec<(usize, usize)> = (1..6).map(|i| (0, i)).chain((7..12).map(|i| (6, i))).collect();
        let pos = layout(12, &edges, 200, 1);
        assert_eq!(pos, layout(12, &edges, 200, 1), "seeded");
        assert!(pos.iter().all(|&(x, y)| (0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y)));
        let d = |a: usize, b: usize| (pos[a].0 - pos[b].0).hypot(pos[a].1 - pos[b].1);
        let within = (1..6).map(|i| d(0, i)).sum::<f64>() / 5.0;
        assert!(within < d(0, 6), "leaves near their hub ({within}) rather than the other hub ({})", d(0, 6));
    }

    #[test]
    fn the_node_under_the_pointer_is_found() {
        let pos = vec![(0.1, 0.1), (0.9, 0.9)];
        let (x, y) = to_pixel(pos[1], 400, 200);
        assert_eq!(node_at(&pos, f64::from(x) + 2.0, f64::from(y), 400, 200, 6.0), Some(1));
        assert_eq!(node_at(&pos, 200.0, 100.0, 400, 200, 6.0), None);
        assert_eq!(layout(1, &[], 10, 1), vec![(0.5, 0.5)]);
    }

    #[test]
    fn draws_as_svg() {
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (300, 200)).into_drawing_area();
            let pos = layout(3, &[(0, 2), (1, 2)], 50, 2);
            draw_network(&area, &pos, &[true, true, false], &[(0, 2), (1, 2)], PlotTheme::LIGHT, Some(2)).unwrap();
            area.present().unwrap();
        }
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("<rect") && svg.matches("<polyline").count() + svg.matches("<line").count() >= 2);
    }
}
