//! Rates and ratios: the root cause is where the rate moved.
//!
//! What a set of rows "expected" in the incident: when rows are cells standing for many events
//! (a cube: at least [`MIN_CELL_TRAFFIC`] per combination of all dimensions' values), each
//! incident row's denominator at its cell's baseline rate, shrunk towards the overall rate when
//! the cell had little baseline ([`PRIOR_WEIGHT`]); when rows are single events, the set's own
//! baseline rate at its incident denominator, shrunk alike. A segment is then read as a Poisson
//! model: its observed numerator against that expectation, the rest of the rows against theirs,
//! each with its own factor. The search:
//!
//! 1. **Start** from the segment whose own factor explains the incident best (the largest
//!    log-likelihood gain over "nothing moved", [`Search::split_gain`]).
//! 2. **Generalise** (Occam): drop a condition when the rows it excluded moved as well —
//!    at least [`CLIMB_SHARE`] of them, by traffic, moved on their own ([`Search::moved_share`]).
//! 3. **Specialise**: add a condition only when the child keeps [`KEEP_EXCESS`] of the excess,
//!    the rows it leaves out did not move (less than [`DESCEND_SHARE`] of them) and the child's
//!    rate moved significantly more than theirs.
//! 4. **Describe** the segment by every condition its rows share (a column with one value there).
//! 5. **A second cause**: the sibling (one value different) that best explains what the first
//!    leaves, when it carries [`SECOND_EXCESS`] of the excess, moved itself and is significant;
//!    two siblings that together hold all of their parent's rows are the parent instead.

use rustc_hash::FxHashMap;

use super::cube::Acc;
use super::search::{Key, Search};
use super::stats::chi2_critical;
use super::ALPHA;

/// Baseline weight (denominator units per incident window) pulling a cell's own baseline rate
/// towards the overall one: a cell with 10 requests in its baseline has a half-trusted rate.
const PRIOR_WEIGHT: f64 = 10.0;
/// A cell or a segment moved when its numerator is this many times what its baseline rate
/// expects (or this many times less, for a drop) …
const MOVED_FACTOR: f64 = 1.5;
/// … and the Poisson tail of that is under this.
const MOVED_P: f64 = 0.01;
/// Drop a condition when this share of the rows it excluded (by traffic) moved too: of their
/// cells in a cube …
const CLIMB_SHARE: f64 = 0.3;
/// … of the other values of its column when rows are single events (the few values weigh more
/// each: one of two other markets moving is a second cause, not the whole).
const CLIMB_SHARE_BY_VALUE: f64 = 0.5;
/// Add a condition only when less than this share of the rows it leaves out moved …
const DESCEND_SHARE: f64 = 0.1;
/// … and the refinement keeps this share of the segment's excess.
const KEEP_EXCESS: f64 = 0.8;
/// A second cause carries at least this share of the excess.
const SECOND_EXCESS: f64 = 0.2;
/// Below this traffic per cell (denominator units in the incident) cells are single events, too
/// thin to say whether they moved: the rest is judged value by value instead.
const MIN_CELL_TRAFFIC: f64 = 2.0;

/// The cells of the two windows: rows grouped by the values of every dimension.
#[derive(Default)]
pub(super) struct Cells {
    /// Whether cells hold traffic (a cube) rather than single events.
    pub(super) dense: bool,
    /// Cell of each window row.
    of_row: Vec<u32>,
    /// A row of each cell (to read its values).
    first_row: Vec<usize>,
    /// Incident numerator, expected numerator and denominator of each cell.
    observed: Vec<f64>,
    expected: Vec<f64>,
    traffic: Vec<f64>,
}

impl Cells {
    /// Groups the window rows by their dimensions' codes and sets each incident row's expected
    /// numerator (`expected`, by window row) from its cell's baseline rate.
    pub(super) fn build(codes: &[&[u32]], acc_total: &Acc, window: impl Fn(usize) -> usize, num: impl Fn(usize) -> f64, den: impl Fn(usize) -> f64, scale: f64, n_rows: usize) -> (Cells, Vec<f64>) {
        let mut index: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
        let mut cells = Cells::default();
        let mut baseline: Vec<(f64, f64)> = Vec::new();
        for i in 0..n_rows {
            let key: Vec<u32> = codes.iter().map(|c| c.get(i).copied().unwrap_or(u32::MAX)).collect();
            let next = index.len() as u32;
            let cell = *index.entry(key).or_insert(next);
            if cell == next {
                cells.first_row.push(i);
                baseline.push((0.0, 0.0));
                cells.observed.push(0.0);
                cells.expected.push(0.0);
                cells.traffic.push(0.0);
            }
            cells.of_row.push(cell);
            if window(i) == 0 {
                if let Some(b) = baseline.get_mut(cell as usize) {
                    b.0 += num(i);
                    b.1 += den(i);
                }
            }
        }
        let overall = overall_rate(acc_total);
        let mut expected = vec![0.0; n_rows];
        for (i, e) in expected.iter_mut().enumerate() {
            if window(i) != 1 {
                continue;
            }
            let cell = cells.of_row.get(i).copied().unwrap_or(0) as usize;
            let (b_num, b_den) = baseline.get(cell).copied().unwrap_or_default();
            let rate = (b_num * scale + PRIOR_WEIGHT * overall) / (b_den * scale + PRIOR_WEIGHT);
            *e = den(i) * rate;
            if let (Some(o), Some(x), Some(t)) = (cells.observed.get_mut(cell), cells.expected.get_mut(cell), cells.traffic.get_mut(cell)) {
                *o += num(i);
                *x += *e;
                *t += den(i);
            }
        }
        let busy = cells.traffic.iter().filter(|&&t| t > 0.0).count();
        cells.dense = busy > 0 && acc_total.den[1] / busy as f64 >= MIN_CELL_TRAFFIC;
        (cells, expected)
    }
}

/// The baseline rate of all rows.
fn overall_rate(total: &Acc) -> f64 {
    if total.den[0] > 0.0 { total.num[0] / total.den[0] } else { 0.0 }
}

/// The Poisson log-likelihood gain of `observed` under its own factor over `expected` (the
/// factor 1): O ln(O/E) − (O − E).
fn gain_of(observed: f64, expected: f64) -> f64 {
    if expected <= 0.0 {
        return 0.0;
    }
    if observed <= 0.0 {
        return expected;
    }
    observed * (observed / expected).ln() - (observed - expected)
}

/// Whether `observed` moved from `expected` in the direction `up`: by [`MOVED_FACTOR`] and with a
/// Poisson tail under [`MOVED_P`].
fn moved(observed: f64, expected: f64, up: bool) -> bool {
    use statrs::function::gamma::{checked_gamma_lr, checked_gamma_ur};
    if expected <= 0.0 {
        return up && observed > 0.0;
    }
    if up {
        // P(X ≥ o) = P(o, e), the regularised lower incomplete gamma.
        observed >= MOVED_FACTOR * expected && observed > 0.0 && checked_gamma_lr(observed, expected).unwrap_or(1.0) < MOVED_P
    } else {
        // P(X ≤ o) = Q(o + 1, e).
        observed * MOVED_FACTOR <= expected && checked_gamma_ur(observed.max(0.0) + 1.0, expected).unwrap_or(1.0) < MOVED_P
    }
}

impl Search {
    fn up(&self) -> bool {
        self.cube.totals.delta > 0.0
    }

    /// The incident numerator a set of rows expected (see the module's documentation).
    fn expected_of(&self, acc: &Acc) -> f64 {
        if self.cells.dense {
            return acc.expected;
        }
        let scale = self.cube.scale;
        acc.den[1] * (acc.num[0] * scale + PRIOR_WEIGHT * overall_rate(&self.cube.total)) / (acc.den[0] * scale + PRIOR_WEIGHT)
    }

    /// The excess of a segment's numerator over what it expected.
    fn excess(&self, acc: &Acc) -> f64 {
        acc.num[1] - self.expected_of(acc)
    }

    /// How well "this segment's rates moved, the rest's did not" explains the incident: the
    /// Poisson log-likelihood gain of a factor for the segment and one for the rest over none,
    /// or 0 when the segment moved less than the rest (in the direction of the change).
    pub(super) fn split_gain(&self, acc: &Acc) -> f64 {
        let rest = self.cube.total.minus(acc);
        self.split_gain_of((acc.num[1], self.expected_of(acc)), (rest.num[1], self.expected_of(&rest)))
    }

    /// [`Search::split_gain`] from the (observed, expected) of the segment and of the rest.
    fn split_gain_of(&self, (o, e): (f64, f64), (ro, re): (f64, f64)) -> f64 {
        let factor = |o: f64, e: f64| if e > 0.0 { o / e } else { f64::INFINITY };
        let ahead = if self.up() { factor(o, e) > factor(ro, re) } else { factor(o, e) < factor(ro, re) };
        if !ahead {
            return 0.0;
        }
        gain_of(o, e) + gain_of(ro, re)
    }

    /// Whether window row `i` is in the segment `key`.
    fn holds(&self, key: &Key, i: usize) -> bool {
        key.iter().all(|&(d, v)| self.dims.get(d).and_then(|dim| dim.codes.get(i)).copied() == Some(v))
    }

    /// The share (by traffic, ln(1 + denominator)) of the incident rows in `outer` but not in
    /// `inner` that moved on their own: cell by cell when cells hold traffic, else value by value
    /// of the dimensions `inner` adds.
    fn moved_share(&self, outer: &Key, inner: &Key) -> f64 {
        let up = self.up();
        let in_rest = |i: usize| self.holds(outer, i) && !self.holds(inner, i);
        let cells = &self.cells;
        let rest_cells: Vec<usize> = (0..cells.first_row.len()).filter(|&c| cells.first_row.get(c).is_some_and(|&i| in_rest(i)) && cells.traffic.get(c).is_some_and(|&t| t > 0.0)).collect();
        if rest_cells.is_empty() {
            return 0.0;
        }
        let share = |parts: &[(f64, f64, f64)]| {
            let (mut moved_weight, mut weight) = (0.0, 0.0);
            for &(o, e, t) in parts {
                let w = t.ln_1p();
                weight += w;
                if moved(o, e, up) {
                    moved_weight += w;
                }
            }
            if weight > 0.0 { moved_weight / weight } else { 0.0 }
        };
        if cells.dense {
            let parts: Vec<(f64, f64, f64)> = rest_cells.iter().map(|&c| (cells.observed.get(c).copied().unwrap_or(0.0), cells.expected.get(c).copied().unwrap_or(0.0), cells.traffic.get(c).copied().unwrap_or(0.0))).collect();
            return share(&parts);
        }
        // Event rows: group the rest by the values of the conditions `inner` adds.
        let added: Vec<usize> = inner.iter().filter(|c| !outer.contains(c)).map(|&(d, _)| d).collect();
        let mut groups: FxHashMap<Vec<u32>, Acc> = FxHashMap::default();
        for i in (0..self.cube.rows.table_rows.len()).filter(|&i| in_rest(i)) {
            let key: Vec<u32> = added.iter().map(|&d| self.dims.get(d).and_then(|dim| dim.codes.get(i)).copied().unwrap_or(u32::MAX)).collect();
            self.add_row(groups.entry(key).or_default(), i);
        }
        // In key order: a sum in hash order differs in the last bit between builds.
        let mut groups: Vec<(Vec<u32>, Acc)> = groups.into_iter().collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        let parts: Vec<(f64, f64, f64)> = groups.iter().map(|(_, g)| g).filter(|g| g.den[1] > 0.0).map(|g| (g.num[1], self.expected_of(g), g.den[1])).collect();
        share(&parts)
    }

    /// The root causes of a rate's change (see the module's documentation), and how many
    /// segments were read beyond the beam.
    pub(super) fn rate_causes(&self, found: &[(Key, Acc)], max_depth: usize) -> (Vec<(Key, Acc)>, usize) {
        let Some(start) = found.iter().max_by(|a, b| self.split_gain(&a.1).total_cmp(&self.split_gain(&b.1)).then_with(|| b.0.len().cmp(&a.0.len())).then_with(|| b.0.cmp(&a.0))) else {
            return (Vec::new(), 0);
        };
        let (mut key, mut acc) = start.clone();
        let mut read = 0;
        // Generalise: drop the condition whose excluded rows moved the most, while they did.
        while key.len() > 1 {
            let best = key
                .iter()
                .map(|c| {
                    let parent: Key = key.iter().filter(|x| *x != c).copied().collect();
                    let share = self.moved_share(&parent, &key);
                    (share, parent)
                })
                .filter(|(share, _)| *share >= if self.cells.dense { CLIMB_SHARE } else { CLIMB_SHARE_BY_VALUE })
                .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(&a.1)));
            read += key.len();
            match best {
                Some((_, parent)) => {
                    acc = self.acc_of(&parent);
                    key = parent;
                }
                None => break,
            }
        }
        // Specialise: the child keeping most of the excess whose left-out rows stayed put.
        while key.len() < max_depth {
            let excess = self.excess(&acc) * if self.up() { 1.0 } else { -1.0 };
            let children = self.children(&key);
            let tried = children.len();
            read += tried;
            let best = children
                .into_iter()
                .filter(|(child, child_acc)| {
                    let kept = self.excess(child_acc) * if self.up() { 1.0 } else { -1.0 };
                    let left_out = acc.rows[1] > child_acc.rows[1];
                    left_out && kept >= KEEP_EXCESS * excess && self.moved_share(&key, child) < DESCEND_SHARE && self.splits(&acc, child_acc, tried)
                })
                .max_by(|a, b| (self.excess(&a.1).abs()).total_cmp(&self.excess(&b.1).abs()).then_with(|| b.0.cmp(&a.0)));
            match best {
                Some((child, child_acc)) => {
                    key = child;
                    acc = child_acc;
                }
                None => break,
            }
        }
        let key = self.closure(key);
        let acc = self.acc_of(&key);
        let Some(second) = self.second_rate_cause(&(key.clone(), acc)) else { return (vec![(key, acc)], read) };
        // Two values that together are all of their parent's rows are the parent moving.
        let parent: Key = key.iter().filter(|c| second.0.contains(c)).copied().collect();
        let parent_acc = self.acc_of(&parent);
        if acc.rows[1] + second.1.rows[1] < parent_acc.rows[1] {
            (vec![(key, acc), second], read)
        } else if parent.is_empty() {
            (vec![(key, acc)], read)
        } else {
            let parent = self.closure(parent);
            let parent_acc = self.acc_of(&parent);
            (vec![(parent, parent_acc)], read)
        }
    }

    /// Whether the child's rate moved significantly differently from the rest of its parent's:
    /// the likelihood-ratio test of a factor each against one for both, at α over the `tried`
    /// children.
    fn splits(&self, parent: &Acc, child: &Acc, tried: usize) -> bool {
        let rest = parent.minus(child);
        let (e, re) = (self.expected_of(child), self.expected_of(&rest));
        let statistic = 2.0 * (gain_of(child.num[1], e) + gain_of(rest.num[1], re) - gain_of(parent.num[1], e + re));
        statistic >= chi2_critical(ALPHA / tried.max(1) as f64)
    }

    /// `key` with every condition its rows (in both windows) share: a column with a single value
    /// there is part of what the segment is.
    fn closure(&self, mut key: Key) -> Key {
        let members: Vec<usize> = (0..self.cube.rows.table_rows.len()).filter(|&i| self.holds(&key, i)).collect();
        for (d, dim) in self.dims.iter().enumerate() {
            if key.iter().any(|&(used, _)| used == d) {
                continue;
            }
            let mut values = members.iter().filter_map(|&i| dim.codes.get(i).copied());
            let Some(first) = values.next() else { continue };
            if values.all(|v| v == first) && dim.labels.get(first as usize).is_some_and(|l| l != super::MISSING_LABEL) {
                key.push((d, first));
            }
        }
        key.sort_unstable();
        key
    }

    /// The sibling of the first cause (one value different) that best explains the change the
    /// first leaves (its rows taken as explained), if it carries [`SECOND_EXCESS`] of the excess,
    /// moved itself and its gain is significant at α over the siblings tried.
    fn second_rate_cause(&self, first: &(Key, Acc)) -> Option<(Key, Acc)> {
        let total = &self.cube.total;
        let excess_total = self.excess(total).abs();
        let siblings = self.siblings(&first.0);
        let critical = chi2_critical(ALPHA / siblings.len().max(1) as f64);
        siblings
            .into_iter()
            .map(|(key, acc)| {
                // The first cause explained: its rows expected what they observed.
                let rest = total.minus(&first.1).minus(&acc);
                let gain = self.split_gain_of((acc.num[1], self.expected_of(&acc)), (rest.num[1] + first.1.num[1], self.expected_of(&rest) + first.1.num[1]));
                (gain, key, acc)
            })
            .filter(|(gain, _, acc)| 2.0 * gain >= critical && self.excess(acc).abs() >= SECOND_EXCESS * excess_total && moved(acc.num[1], self.expected_of(acc), self.up()))
            .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
            .map(|(_, key, acc)| (key, acc))
    }
}
