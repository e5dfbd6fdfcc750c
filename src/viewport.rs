//! Virtual scrolling geometry for the row grid (pure: no browser types).
//!
//! The scroll area's height stands for every row; past [`MAX_SCROLL_PX`] (browsers cap element
//! heights) the scroll position maps proportionally onto the rows, so millions of rows stay
//! reachable while a small table scrolls one pixel per pixel.

pub const ROW_PX: f64 = 28.0;
pub const HEADER_PX: f64 = 32.0;
pub const VIEWPORT_PX: f64 = 504.0;
pub const MAX_SCROLL_PX: f64 = 4_000_000.0;

/// Pure scroll geometry: which row is at the top for a scroll offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    pub rows: usize,
}

impl Geometry {
    pub fn natural_px(self) -> f64 {
        self.rows as f64 * ROW_PX
    }

    pub fn scaled(self) -> bool {
        self.natural_px() > MAX_SCROLL_PX
    }

    pub fn content_px(self) -> f64 {
        self.natural_px().min(MAX_SCROLL_PX) + HEADER_PX
    }

    pub fn visible_rows() -> usize {
        (VIEWPORT_PX / ROW_PX).ceil() as usize
    }

    /// First row in sight and the pixel offset of that row's top above the viewport top.
    pub fn first_row(self, scroll_top: f64) -> (usize, f64) {
        let max_first = self.rows.saturating_sub(Self::visible_rows());
        if self.scaled() {
            let span = (self.content_px() - VIEWPORT_PX).max(1.0);
            let fraction = (scroll_top / span).clamp(0.0, 1.0);
            (((fraction * max_first as f64).round() as usize).min(max_first), 0.0)
        } else {
            let first = (scroll_top / ROW_PX).floor().max(0.0) as usize;
            let first = first.min(self.rows.saturating_sub(1));
            (first, scroll_top - first as f64 * ROW_PX)
        }
    }
}

/// How many of a page's first rows to draw in the frame after it arrives: rows already in the
/// grid cost nothing to keep, so the count runs up to (not including) the `per_frame + 1`-th row
/// that is not drawn yet. The rest follow, `per_frame` a frame: a page of all new rows (a load, a
/// filter, a sort) is laid out and painted in slices, while a small scroll, which brings a few new
/// rows, draws at once.
pub fn rows_to_draw<K: PartialEq>(page: &[K], drawn: &[K], per_frame: usize) -> usize {
    let mut new = 0;
    for (i, row) in page.iter().enumerate() {
        if !drawn.contains(row) {
            new += 1;
            if new > per_frame {
                return i;
            }
        }
    }
    page.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_new_rows_is_drawn_a_slice_a_frame_and_a_scroll_at_once() {
        let page: Vec<u32> = (0..30).collect();
        // A load: nothing drawn, the first 10 rows now.
        assert_eq!(rows_to_draw(&page, &[], 10), 10);
        // Scrolled down by 10: 20 rows kept, 10 new, all at once.
        let scrolled: Vec<u32> = (10..40).collect();
        assert_eq!(rows_to_draw(&scrolled, &page, 10), 30);
        // Scrolled up by 20 from there: 20 new rows first, then 10 kept; the first 10 now.
        let up: Vec<u32> = (0..30).collect();
        assert_eq!(rows_to_draw(&up, &(20..50).collect::<Vec<u32>>(), 10), 10);
        // A page no longer than a slice, and an empty one.
        assert_eq!(rows_to_draw(&page[..4], &[], 10), 4);
        assert_eq!(rows_to_draw::<u32>(&[], &page, 10), 0);
        // Rows kept do not count: new rows at 0, 2 and 4 with a slice of 2 stop before row 4.
        assert_eq!(rows_to_draw(&[0, 1, 2, 3, 4, 5], &[1, 3, 5], 2), 4);
    }

    #[test]
    fn small_views_scroll_one_to_one() {
        let g = Geometry { rows: 1000 };
        assert!(!g.scaled());
        assert_eq!(g.first_row(0.0), (0, 0.0));
        assert_eq!(g.first_row(ROW_PX * 10.0 + 5.0), (10, 5.0));
    }

    #[test]
    fn huge_views_map_proportionally_and_reach_the_end() {
        let g = Geometry { rows: 10_000_000 };
        assert!(g.scaled());
        let bottom = g.content_px() - VIEWPORT_PX;
        assert_eq!(g.first_row(bottom).0, 10_000_000 - Geometry::visible_rows());
        assert_eq!(g.first_row(0.0).0, 0);
    }
}
