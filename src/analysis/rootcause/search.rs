//! The search for the segments that carry the change: Adtributor per dimension, a beam over
//! conjunctions of values, the descent from the best single value to the root cause, pruning of
//! conditions that do not concentrate the change, and the significance-first ranking.

use rustc_hash::FxHashMap;

use super::adtributor::adtributor;
use super::cube::{Acc, Cube, Dimension};
use super::rates::Cells;
use super::stats::{chi2_critical, g_test, p_value, segment_rate_contribution, share, specificity, values_of};
use super::summary::timeline;
use super::{Condition, DimensionFinding, RcaParams, Segment, Timeline, ALPHA, BEAM, BUCKET_DISCOUNT, KEEP, MIN_SPECIFICITY, PAIR_DENSITY, STARTS, MIN_BASELINE_ROWS, MIN_LIFT, MISSING_LABEL, SECOND_CAUSE_SHARE, TIMELINE_SEGMENTS, TOP_SEGMENTS};
use crate::analysis::contract::{Progress, Stopped};
use crate::analysis::parallel;

/// A segment: conditions as (dimension, value code), sorted.
pub(super) type Key = Vec<(usize, u32)>;

/// The windows' rows, their dimensions and every value's accumulator: what the search reads.
pub(super) struct Search {
    pub(super) cube: Cube,
    pub(super) dims: Vec<Dimension>,
    /// Level 1: every value of every dimension.
    level1: Vec<Vec<Acc>>,
    /// Rates and ratios: the rows grouped by every dimension's value …
    pub(super) cells: Cells,
    /// … and each incident row's numerator expected at its cell's baseline rate (0 otherwise).
    pub(super) expected: Vec<f64>,
}

impl Search {
    pub(super) fn new(cube: Cube, dims: Vec<Dimension>) -> Self {
        let n_rows = cube.rows.table_rows.len();
        let (cells, expected) = if cube.is_rate {
            let codes: Vec<&[u32]> = dims.iter().map(|d| d.codes.as_slice()).collect();
            Cells::build(&codes, &cube.total, |i| cube.window_of(i), |i| cube.num_of(i), |i| cube.den_of(i), cube.scale, n_rows)
        } else {
            (Cells::default(), Vec::new())
        };
        let mut search = Self { cube, dims, level1: Vec::new(), cells, expected };
        search.cube.total.expected = search.expected.iter().sum();
        search.level1 = search
            .dims
            .iter()
            .map(|d| {
                let mut accs = vec![Acc::default(); d.labels.len()];
                for (i, &code) in d.codes.iter().enumerate() {
                    if let Some(acc) = accs.get_mut(code as usize) {
                        search.add_row(acc, i);
                    }
                }
                accs
            })
            .collect();
        search
    }

    /// Adds window row `i` to `acc`.
    pub(super) fn add_row(&self, acc: &mut Acc, i: usize) {
        acc.add(self.cube.window_of(i), self.cube.num_of(i), self.cube.den_of(i), self.cube.weight_of(i));
        acc.expected += self.expected.get(i).copied().unwrap_or(0.0);
    }

    fn delta(&self) -> f64 {
        self.cube.totals.delta
    }

    /// Adtributor's finding for every dimension.
    pub(super) fn adtributor(&self, explain_share: f64) -> Vec<DimensionFinding> {
        self.dims.iter().zip(&self.level1).map(|(d, accs)| adtributor(d, accs, &self.cube.total, &self.cube.totals, self.cube.is_rate, explain_share)).collect()
    }

    /// A segment's contribution to the change (for rates, its rate plus mix effect).
    fn contribution(&self, acc: &Acc) -> f64 {
        if self.cube.is_rate {
            segment_rate_contribution(acc, &self.cube.total)
        } else {
            let (b, i) = values_of(acc, false, self.cube.scale);
            i - b
        }
    }

    /// Every one-condition extension of a segment, with its accumulator.
    ///
    /// The segment's rows are read once, each adding its window, metric and weight to every
    /// other dimension's accumulator of its value. Each accumulator adds its rows in their order,
    /// as a pass per dimension would, so the sums are the same bit for bit.
    pub(super) fn children(&self, key: &Key) -> Vec<(Key, Acc)> {
        let conditions: Vec<(&[u32], u32)> = key.iter().filter_map(|&(d, v)| self.dims.get(d).map(|dim| (dim.codes.as_slice(), v))).collect();
        let free: Vec<(usize, &[u32])> = self.dims.iter().enumerate().filter(|(d, _)| !key.iter().any(|&(used, _)| used == *d)).map(|(d, dim)| (d, dim.codes.as_slice())).collect();
        let mut accs: Vec<Vec<Acc>> = free.iter().map(|&(d, _)| vec![Acc::default(); self.dims.get(d).map_or(0, |dim| dim.labels.len())]).collect();
        for i in (0..self.cube.rows.table_rows.len()).filter(|&i| conditions.iter().all(|&(codes, v)| codes.get(i) == Some(&v))) {
            let (window, num, den, weight) = (self.cube.window_of(i), self.cube.num_of(i), self.cube.den_of(i), self.cube.weight_of(i));
            let expected = self.expected.get(i).copied().unwrap_or(0.0);
            for ((_, codes), accs) in free.iter().zip(&mut accs) {
                if let Some(acc) = codes.get(i).and_then(|&code| accs.get_mut(code as usize)) {
                    acc.add(window, num, den, weight);
                    acc.expected += expected;
                }
            }
        }
        let mut out = Vec::new();
        for ((d, _), accs) in free.iter().zip(accs) {
            for (code, acc) in accs.into_iter().enumerate().filter(|(_, acc)| acc.rows[0] + acc.rows[1] > 0.0) {
                let mut extended = key.clone();
                extended.push((*d, code as u32));
                extended.sort_unstable();
                out.push((extended, acc));
            }
        }
        out
    }

    /// Orders segments by their contribution in the direction of the change (rates and ratios:
    /// by how well their rate's move explains the incident, [`Search::split_gain`]).
    fn rank_by_contribution(&self, items: &mut [(Key, Acc)]) {
        let sign = self.delta().signum();
        let strength = |acc: &Acc| if self.cube.is_rate { self.split_gain(acc) } else { self.contribution(acc) * sign };
        // Ties by key: the order must not depend on hash iteration (which differs between
        // wasm32 and 64-bit builds), so the app and the command line rank alike.
        items.sort_by(|a, b| strength(&b.1).total_cmp(&strength(&a.1)).then_with(|| a.0.cmp(&b.0)));
    }

    /// The beam search over conjunctions up to `max_depth` conditions: the segments kept at every
    /// level, and how many were examined.
    pub(super) async fn beam(&self, max_depth: usize, progress: &mut impl Progress) -> Result<(Vec<(Key, Acc)>, usize), Stopped> {
        let mut examined = 0usize;
        let mut frontier: Vec<(Key, Acc)> = Vec::new();
        for (d, accs) in self.level1.iter().enumerate() {
            for (v, acc) in accs.iter().enumerate() {
                examined += 1;
                frontier.push((vec![(d, v as u32)], *acc));
            }
        }
        self.rank_by_contribution(&mut frontier);
        frontier.truncate(BEAM);
        let mut found = frontier.clone();
        for depth in 2..=max_depth {
            let mut next: FxHashMap<Key, Acc> = FxHashMap::default();
            // Natively as many segments at once as there are cores (each reads the window's rows
            // once); their children are merged in the frontier's order all the same.
            let at_once = parallel::threads().max(1);
            for (k, keys) in frontier.chunks(at_once).enumerate() {
                let done = (depth - 2) as f64 + (k * at_once) as f64 / frontier.len().max(1) as f64;
                progress.step("combinations", "Searching combinations", 0.6 + 0.3 * done / (max_depth - 1) as f64).await?;
                for (extended, acc) in parallel::map(keys, |(key, _)| self.children(key)).into_iter().flatten() {
                    if let std::collections::hash_map::Entry::Vacant(slot) = next.entry(extended) {
                        examined += 1;
                        slot.insert(acc);
                    }
                }
            }
            let mut level: Vec<(Key, Acc)> = next.into_iter().collect();
            self.rank_by_contribution(&mut level);
            level.truncate(BEAM);
            found.extend(level.iter().cloned());
            frontier = level;
        }
        Ok((found, examined))
    }

    fn level1_of(&self, &(d, v): &(usize, u32)) -> Acc {
        self.level1.get(d).and_then(|accs| accs.get(v as usize)).copied().unwrap_or_default()
    }

    fn baseline_share(&self, part: &Acc, whole: &Acc) -> f64 {
        if self.cube.is_rate { share(part.den[0], whole.den[0]) } else { share(part.num[0], whole.num[0]) }
    }

    /// Lift of the condition `added` that extends `parent` into `child`: the share of the
    /// parent's change the child keeps, and that over the share of the parent's baseline it holds
    /// (the overall baseline share of the value when the parent has too little baseline).
    fn lift(&self, parent: &Acc, child: &Acc, added: &(usize, u32)) -> (f64, f64) {
        let delta = self.delta();
        let kept = self.contribution(child) / self.contribution(parent).abs().min(delta.abs()).max(f64::MIN_POSITIVE) * delta.signum();
        let base = if parent.rows[0] >= MIN_BASELINE_ROWS { self.baseline_share(child, parent) } else { self.baseline_share(&self.level1_of(added), &self.cube.total) };
        // A value whose share grows everywhere (a roll-out, a mix shift) is no concentration:
        // compare with its share of the incident rows outside the parent as well.
        let pick = |a: &Acc| if self.cube.is_rate { a.den[1] } else { a.num[1] };
        let outside = share(pick(&self.level1_of(added)) - pick(child), pick(&self.cube.total) - pick(parent));
        let base = base.max(outside);
        (kept, if base > 0.0 { kept / base } else { f64::INFINITY })
    }

    fn is_missing(&self, &(d, v): &(usize, u32)) -> bool {
        self.dims.get(d).and_then(|dim| dim.labels.get(v as usize)).is_some_and(|l| l == MISSING_LABEL)
    }

    /// The accumulator of a segment (by reading its rows).
    pub(super) fn acc_of(&self, key: &Key) -> Acc {
        let mut acc = Acc::default();
        for i in 0..self.cube.rows.table_rows.len() {
            if key.iter().all(|&(d, v)| self.dims.get(d).and_then(|dim| dim.codes.get(i)).copied() == Some(v)) {
                self.add_row(&mut acc, i);
            }
        }
        acc
    }

    /// A segment's share of `delta` times its specificity: how much of the change it carries
    /// and how much of its own incident value is change (0 for segments moving against it).
    /// A share above 1 is scored as its inverse: a segment that moved more than the whole
    /// change is mostly a mix shift (a roll-out), not the cause.
    fn score_against(&self, acc: &Acc, delta: f64) -> f64 {
        let share_of = self.contribution(acc) / delta;
        if share_of <= 0.0 {
            return 0.0;
        }
        share_of.min(1.0 / share_of) * specificity(acc, self.cube.is_rate, self.cube.scale, delta)
    }

    /// Whether the condition `added` concentrates the change in `child` significantly more
    /// than in the rest of `parent`, in the direction of the change, at α over the `tried`
    /// extensions (Bonferroni). With enough baseline rows in the parent (≥
    /// [`MIN_BASELINE_ROWS`]), the G test of the 2×2 table (child, rest of the parent) ×
    /// (baseline, incident) of the metric's numerator in row units; with fewer (a segment that
    /// barely existed before), the G test of the child's share of the parent's incident against
    /// the added value's share of the whole baseline.
    fn concentrates(&self, parent: &Acc, child: &Acc, added: &(usize, u32), tried: usize) -> bool {
        let total = &self.cube.total;
        let unit = ((total.num[0] + total.num[1]) / (total.rows[0] + total.rows[1]).max(1.0)).abs().max(f64::MIN_POSITIVE);
        let (b, k) = ((child.num[0] / unit).max(0.0), (child.num[1] / unit).max(0.0));
        let (rest_b, rest_k) = (((parent.num[0] - child.num[0]) / unit).max(0.0), ((parent.num[1] - child.num[1]) / unit).max(0.0));
        let up = self.delta() > 0.0;
        let critical = chi2_critical(ALPHA / tried.max(1) as f64);
        if parent.rows[0] >= MIN_BASELINE_ROWS {
            let (share_b, share_k) = (b / (b + rest_b).max(f64::MIN_POSITIVE), k / (k + rest_k).max(f64::MIN_POSITIVE));
            return (share_k > share_b) == up && g_test(b, rest_b, k, rest_k) >= critical;
        }
        let expected_share = self.baseline_share(&self.level1_of(added), total);
        let incident = k + rest_k;
        let observed_share = k / incident.max(f64::MIN_POSITIVE);
        if (observed_share > expected_share) != up || !(0.0..1.0).contains(&expected_share) {
            return false;
        }
        let term = |observed: f64, expected: f64| if observed > 0.0 && expected > 0.0 { observed * (observed / expected).ln() } else { 0.0 };
        let g = 2.0 * (term(k, incident * expected_share) + term(rest_k, incident * (1.0 - expected_share)));
        g >= critical
    }

    /// The 2×2 test of [`Search::concentrates`] for a union of children (enough baseline rows
    /// in the parent), or false.
    fn union_concentrates(&self, parent: &Acc, union: &Acc, tried: usize) -> bool {
        if parent.rows[0] < MIN_BASELINE_ROWS {
            return true;
        }
        let total = &self.cube.total;
        let unit = ((total.num[0] + total.num[1]) / (total.rows[0] + total.rows[1]).max(1.0)).abs().max(f64::MIN_POSITIVE);
        let (b, k) = ((union.num[0] / unit).max(0.0), (union.num[1] / unit).max(0.0));
        let (rest_b, rest_k) = (((parent.num[0] - union.num[0]) / unit).max(0.0), ((parent.num[1] - union.num[1]) / unit).max(0.0));
        let (share_b, share_k) = (b / (b + rest_b).max(f64::MIN_POSITIVE), k / (k + rest_k).max(f64::MIN_POSITIVE));
        (share_k > share_b) == (self.delta() > 0.0) && g_test(b, rest_b, k, rest_k) >= chi2_critical(ALPHA / tried.max(1) as f64)
    }

    /// From `key`, add conditions while one keeps most of the change (≥ [`KEEP`] of the
    /// segment's, or of the whole change when the segment moved more than it), concentrates it
    /// (lift ≥ [`MIN_LIFT`] over its share of the segment's baseline and of the incident rows
    /// outside the segment) and does so significantly ([`Search::concentrates`]); then drop any
    /// condition that, given the others, does not ([`Search::needed`]). This is the Occam rule:
    /// a refinement replaces the simpler segment only when the data clearly says so. When no
    /// single condition qualifies but two values of one dimension together keep most of the
    /// change and each concentrates it, the change has two causes: both are returned. Returns
    /// the segments reached and how many were read beyond the beam.
    fn descend_from(&self, mut key: Key, mut acc: Acc, max_depth: usize) -> (Vec<(Key, Acc)>, usize) {
        let mut read = 0;
        while key.len() < max_depth {
            let children = self.children(&key);
            let tried = children.len();
            read += tried;
            let candidates: Vec<(Key, Acc, f64, bool, f64, f64, bool)> = children
                .into_iter()
                .filter_map(|(child_key, child)| {
                    let added = child_key.iter().find(|c| !key.contains(c)).copied()?;
                    let (kept, lifted) = self.lift(&acc, &child, &added);
                    let concentrates = self.concentrates(&acc, &child, &added, tried);
                    // Between conditions that concentrate alike, a category value describes
                    // the cause better than a quantile bucket of a number.
                    let preference = if self.is_bucket(&added) { lifted * BUCKET_DISCOUNT } else { lifted };
                    Some((child_key, child, preference, self.is_missing(&added), kept, lifted, concentrates))
                })
                .collect();
            let qualified: Vec<&(Key, Acc, f64, bool, f64, f64, bool)> = candidates.iter().filter(|c| c.5 >= MIN_LIFT && c.6).collect();
            let next = qualified
                .iter()
                .filter(|c| c.4 >= KEEP)
                // The most concentrating condition first; on a tie (redundant columns) a value
                // over "(missing)".
                .max_by(|a, b| {
                    let close = (a.2 - b.2).abs() <= 1e-9 * a.2.abs().max(b.2.abs());
                    if close { b.3.cmp(&a.3).then_with(|| b.0.cmp(&a.0)) } else { a.2.total_cmp(&b.2) }
                });
            match next {
                Some((child_key, child, ..)) => {
                    key = child_key.clone();
                    acc = *child;
                }
                None => {
                    if let Some(pair) = self.two_values((&key, &acc), &candidates) {
                        return (pair, read);
                    }
                    break;
                }
            }
        }
        let (key, acc) = self.needed(key, acc);
        (vec![(key, acc)], read)
    }

    /// Two children of `parent` on the same dimension that each changed significantly (p < α
    /// over the children tried) and keep at least [`SECOND_CAUSE_SHARE`] of the change, together
    /// at least [`KEEP`], and that together hold it more densely than the parent (a specificity at
    /// least [`PAIR_DENSITY`] times the parent's: the same change in fewer rows). The pair with
    /// the best score, the larger first.
    fn two_values(&self, parent: (&Key, &Acc), candidates: &[(Key, Acc, f64, bool, f64, f64, bool)]) -> Option<Vec<(Key, Acc)>> {
        let (parent_key, parent_acc) = parent;
        let delta = self.delta();
        let dim_of = |k: &Key| k.iter().find(|c| !parent_key.contains(c)).map(|c| c.0);
        let tried = candidates.len().max(1) as f64;
        let significant = |acc: &Acc| p_value(acc, self.cube.test, delta > 0.0) * tried < ALPHA;
        let each = |c: &(Key, Acc, f64, bool, f64, f64, bool)| c.4 >= SECOND_CAUSE_SHARE && !c.3 && significant(&c.1);
        let parent_specificity = specificity(parent_acc, self.cube.is_rate, self.cube.scale, delta);
        let mut best: Option<(f64, usize, usize)> = None;
        for (i, a) in candidates.iter().enumerate().filter(|(_, c)| each(c)) {
            for (j, b) in candidates.iter().enumerate().skip(i + 1).filter(|(_, c)| each(c)) {
                if dim_of(&a.0) != dim_of(&b.0) || a.4 + b.4 < KEEP {
                    continue;
                }
                let union = a.1.plus(&b.1);
                let denser = specificity(&union, self.cube.is_rate, self.cube.scale, delta) >= PAIR_DENSITY * parent_specificity;
                // The pair concentrates the change within the parent (their union's share of it
                // moved), at α over the pairs that could be formed.
                let concentrated = self.union_concentrates(parent_acc, &union, candidates.len() * candidates.len().saturating_sub(1) / 2);
                let score = self.score_against(&union, delta);
                if denser && concentrated && best.is_none_or(|(s, ..)| score > s) {
                    best = Some((score, i, j));
                }
            }
        }
        let (_, i, j) = best?;
        let (a, b) = (candidates.get(i)?, candidates.get(j)?);
        let (first, second) = if a.4 >= b.4 { (a, b) } else { (b, a) };
        Some(vec![(first.0.clone(), first.1), (second.0.clone(), second.1)])
    }

    /// `key` without the conditions that, given the others, do not concentrate the change
    /// significantly (dropped one at a time, the least needed first).
    fn needed(&self, mut key: Key, mut acc: Acc) -> (Key, Acc) {
        while key.len() > 1 {
            let unneeded = key.iter().find_map(|c| {
                let parent: Key = key.iter().filter(|x| *x != c).copied().collect();
                let parent_acc = self.acc_of(&parent);
                let (_, lifted) = self.lift(&parent_acc, &acc, c);
                let needed = lifted >= MIN_LIFT && self.concentrates(&parent_acc, &acc, c, key.len());
                (!needed).then_some((parent, parent_acc))
            });
            match unneeded {
                Some((parent, parent_acc)) => {
                    key = parent;
                    acc = parent_acc;
                }
                None => break,
            }
        }
        (key, acc)
    }

    fn is_bucket(&self, &(d, v): &(usize, u32)) -> bool {
        self.dims.get(d).and_then(|dim| dim.clauses.get(v as usize)).is_some_and(|c| matches!(c, crate::data::filter::Clause::Range { min, max, .. } if min != max))
    }

    /// A single value's score against the change, discounted by how much its dimension's other
    /// values moved the other way: a value that gained what its siblings lost is a mix shift (a
    /// roll-out), not the cause.
    fn single_score(&self, (key, acc): &(Key, Acc)) -> f64 {
        let delta = self.delta();
        let score = self.score_against(acc, delta);
        let Some(&(d, v)) = key.first() else { return 0.0 };
        let own = self.contribution(acc) * delta.signum();
        let against: f64 = self
            .level1
            .get(d)
            .into_iter()
            .flatten()
            .enumerate()
            .filter(|&(u, _)| u as u32 != v)
            .map(|(_, sibling)| (-self.contribution(sibling) * delta.signum()).max(0.0))
            .sum();
        let tie_missing = if self.is_missing(&(d, v)) { 1.0 - 1e-9 } else { 1.0 };
        if own <= 0.0 {
            return 0.0;
        }
        score * (1.0 - against / own).max(0.0) * tie_missing
    }

    /// The best of `candidates` against `delta` (score, then a value over "(missing)").
    fn best_of<'a>(&self, candidates: impl Iterator<Item = &'a (Key, Acc)>, delta: f64) -> Option<&'a (Key, Acc)> {
        candidates.max_by(|a, b| {
            let (sa, sb) = (self.score_against(&a.1, delta), self.score_against(&b.1, delta));
            if (sa - sb).abs() <= 1e-9 * sa.abs().max(sb.abs()) {
                b.0.iter().any(|c| self.is_missing(c)).cmp(&a.0.iter().any(|c| self.is_missing(c))).then_with(|| b.0.cmp(&a.0))
            } else {
                sa.total_cmp(&sb)
            }
        })
    }

    /// The root cause: from the best single value, the descent ([`Search::descend_from`]); and
    /// a second cause when a segment differing from the first in one value ([`Search::siblings`])
    /// carries at least [`SECOND_CAUSE_SHARE`] of the change significantly (p < α over the
    /// segments examined) and specifically (at least [`MIN_SPECIFICITY`] of its incident value is
    /// change), chosen by its score against the change the first leaves. Returns them and how many
    /// conditions the descents added (segments examined beyond the beam).
    pub(super) fn root_causes(&self, found: &[(Key, Acc)], max_depth: usize, examined: usize) -> (Vec<(Key, Acc)>, usize) {
        if self.cube.is_rate {
            return self.rate_causes(found, max_depth);
        }
        let delta = self.delta();
        // The descent from each of the best few single values; the answer that carries the
        // change best wins (a weak incident's best single value can be noise).
        let mut singles: Vec<&(Key, Acc)> = found.iter().filter(|(k, _)| k.len() == 1).collect();
        singles.sort_by(|a, b| self.single_score(b).total_cmp(&self.single_score(a)).then_with(|| a.0.cmp(&b.0)));
        let mut read = 0;
        let mut best: Option<(f64, Vec<(Key, Acc)>)> = None;
        for start in singles.into_iter().take(STARTS) {
            let (reached, steps) = self.descend_from(start.0.clone(), start.1, max_depth);
            read += steps;
            let mut together = Acc::default();
            for (_, acc) in &reached {
                together = together.plus(acc);
            }
            let score = self.score_against(&together, delta);
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, reached));
            }
        }
        let Some((_, mut causes)) = best else { return (Vec::new(), 0) };
        let explained: f64 = causes.iter().map(|(_, acc)| self.contribution(acc)).sum();
        let rest = delta - explained;
        if causes.len() == 1 && rest * delta.signum() > SECOND_CAUSE_SHARE * delta.abs() {
            let others: Vec<(Key, Acc)> = self.siblings(&causes[0].0);
            read += others.len();
            if let Some(second) = self.best_of(others.iter(), rest) {
                let share2 = self.contribution(&second.1) / delta;
                let p = p_value(&second.1, self.cube.test, delta > 0.0) * (examined + read) as f64;
                let specific = specificity(&second.1, self.cube.is_rate, self.cube.scale, delta) >= MIN_SPECIFICITY;
                if share2 >= SECOND_CAUSE_SHARE && specific && p < ALPHA {
                    causes.push(second.clone());
                }
            }
        }
        (causes, read)
    }

    /// The segments that differ from `key` in the value of one condition (two bitrates, two
    /// markets at once): the candidates for a second cause beside it.
    pub(super) fn siblings(&self, key: &Key) -> Vec<(Key, Acc)> {
        let mut out = Vec::new();
        for &(d, v) in key {
            let Some(dim) = self.dims.get(d) else { continue };
            for code in (0..dim.labels.len() as u32).filter(|&code| code != v) {
                let mut sibling: Key = key.iter().filter(|&&(e, _)| e != d).copied().collect();
                sibling.push((d, code));
                sibling.sort_unstable();
                let acc = self.acc_of(&sibling);
                if acc.rows[0] + acc.rows[1] > 0.0 {
                    out.push((sibling, acc));
                }
            }
        }
        out
    }

    /// Drops segments holding a condition that does not concentrate the change (their parent
    /// without it is in the list and explains as much), and the root cause itself (it leads the
    /// ranking on its own).
    pub(super) fn prune(&self, mut found: Vec<(Key, Acc)>, causes: &[(Key, Acc)]) -> Vec<(Key, Acc)> {
        let known: FxHashMap<Key, Acc> = found.iter().cloned().collect();
        found.retain(|(key, acc)| {
            key.len() < 2
                || key.iter().all(|c| {
                    let parent: Key = key.iter().filter(|x| *x != c).copied().collect();
                    known.get(&parent).is_none_or(|p| self.lift(p, acc, c).1 >= MIN_LIFT)
                })
        });
        found.retain(|(k, _)| !causes.iter().any(|(c, _)| c == k));
        found
    }

    /// Scores, tests and ranks the segments: the root causes first, in order, then the
    /// significant ones, then by score and fewer conditions. p-values are Bonferroni-adjusted
    /// over the `examined` segments.
    pub(super) fn rank(&self, causes: &[(Key, Acc)], found: Vec<(Key, Acc)>, examined: usize) -> Vec<Segment> {
        let (is_rate, scale, delta) = (self.cube.is_rate, self.cube.scale, self.delta());
        let segment = |key: &Key, acc: &Acc| -> Segment {
            let (baseline, incident) = values_of(acc, is_rate, scale);
            let seg_delta = self.contribution(acc);
            let share = seg_delta / delta;
            let specificity = specificity(acc, is_rate, scale, delta);
            let raw_p = p_value(acc, self.cube.test, delta > 0.0);
            let p_value = (raw_p * examined as f64).min(1.0);
            Segment {
                conditions: self.conditions(key),
                baseline,
                incident,
                delta: seg_delta,
                share_of_delta: share,
                specificity,
                score: if share > 0.0 { share.min(1.0 / share) * specificity } else { 0.0 },
                p_value,
                significant: p_value < ALPHA,
                baseline_rows: super::cube::events(acc.rows[0]),
                incident_rows: super::cube::events(acc.rows[1]),
            }
        };
        let mut in_key_order: Vec<&(Key, Acc)> = found.iter().collect();
        in_key_order.sort_by(|a, b| a.0.cmp(&b.0));
        let mut others: Vec<Segment> = in_key_order
            .into_iter()
            .filter(|(key, _)| !causes.iter().any(|(k, _)| k == key))
            .map(|(key, acc)| segment(key, acc))
            .filter(|s| s.share_of_delta > 0.0)
            .collect();
        others.sort_by(|a, b| {
            b.significant
                .cmp(&a.significant)
                .then_with(|| b.score.total_cmp(&a.score))
                .then_with(|| a.conditions.len().cmp(&b.conditions.len()))
        });
        let mut segments: Vec<Segment> = causes.iter().map(|(key, acc)| segment(key, acc)).collect();
        segments.extend(others);
        segments.truncate(TOP_SEGMENTS);
        segments
    }

    /// A segment's conditions as the reader sees them.
    fn conditions(&self, key: &Key) -> Vec<Condition> {
        key.iter()
            .filter_map(|&(d, v)| {
                let dim = self.dims.get(d)?;
                Some(Condition { column: dim.column.clone(), value: dim.labels.get(v as usize)?.clone(), clause: dim.clauses.get(v as usize)?.clone() })
            })
            .collect()
    }

    /// A segment's key back from its conditions (sorted like every key).
    fn key_of(&self, segment: &Segment) -> Option<Key> {
        let mut key: Key = segment
            .conditions
            .iter()
            .map(|c| {
                let d = self.dims.iter().position(|dim| dim.column == c.column)?;
                let v = self.dims.get(d)?.labels.iter().position(|l| *l == c.value)?;
                Some((d, v as u32))
            })
            .collect::<Option<_>>()?;
        key.sort_unstable();
        Some(key)
    }

    /// The metric per period over both windows, in total and for the top segments.
    pub(super) fn timeline(&self, params: &RcaParams, segments: &[Segment]) -> Timeline {
        let keys: Vec<Key> = segments.iter().take(TIMELINE_SEGMENTS).map(|s| self.key_of(s).unwrap_or_default()).collect();
        timeline(params, &self.cube.rows, self.cube.is_rate, |i, k| {
            keys.get(k).is_some_and(|key| key.iter().all(|&(d, v)| self.dims.get(d).and_then(|dim| dim.codes.get(i)).copied() == Some(v)))
        }, keys.len())
    }
}
