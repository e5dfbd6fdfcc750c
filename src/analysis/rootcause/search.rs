//! The search for the segments that carry the change: Adtributor per dimension, a beam over
//! conjunctions of values, the descent from the best single value to the root cause, pruning of
//! conditions that do not concentrate the change, and the significance-first ranking.

use rustc_hash::FxHashMap;

use super::adtributor::adtributor;
use super::cube::{Acc, Cube, Dimension};
use super::stats::{p_value, segment_rate_contribution, share, specificity, values_of};
use super::summary::timeline;
use super::{Condition, DimensionFinding, RcaParams, Segment, Timeline, ALPHA, BEAM, BUCKET_DISCOUNT, KEEP, MIN_BASELINE_ROWS, MIN_LIFT, MISSING_LABEL, TIMELINE_SEGMENTS, TOP_SEGMENTS};
use crate::analysis::contract::{Progress, Stopped};
use crate::data::filter::Clause;

/// A segment: conditions as (dimension, value code), sorted.
pub(super) type Key = Vec<(usize, u32)>;

/// The windows' rows, their dimensions and every value's accumulator: what the search reads.
pub(super) struct Search {
    pub(super) cube: Cube,
    dims: Vec<Dimension>,
    /// Level 1: every value of every dimension.
    level1: Vec<Vec<Acc>>,
}

impl Search {
    pub(super) fn new(cube: Cube, dims: Vec<Dimension>, _params: &RcaParams) -> Self {
        let level1 = dims
            .iter()
            .map(|d| {
                let mut accs = vec![Acc::default(); d.labels.len()];
                for (i, &code) in d.codes.iter().enumerate() {
                    if let Some(acc) = accs.get_mut(code as usize) {
                        acc.add(cube.window_of(i), cube.num_of(i), 1.0);
                    }
                }
                accs
            })
            .collect();
        Self { cube, dims, level1 }
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
    fn children(&self, key: &Key) -> Vec<(Key, Acc)> {
        let members: Vec<usize> = (0..self.cube.rows.table_rows.len())
            .filter(|&i| key.iter().all(|&(d, v)| self.dims.get(d).and_then(|dim| dim.codes.get(i)).copied() == Some(v)))
            .collect();
        let mut out = Vec::new();
        for (d, dim) in self.dims.iter().enumerate() {
            if key.iter().any(|&(used, _)| used == d) {
                continue;
            }
            let mut accs = vec![Acc::default(); dim.labels.len()];
            for &i in &members {
                if let Some(acc) = dim.codes.get(i).and_then(|&code| accs.get_mut(code as usize)) {
                    acc.add(self.cube.window_of(i), self.cube.num_of(i), 1.0);
                }
            }
            for (code, acc) in accs.into_iter().enumerate().filter(|(_, acc)| acc.rows[0] + acc.rows[1] > 0) {
                let mut extended = key.clone();
                extended.push((d, code as u32));
                extended.sort_unstable();
                out.push((extended, acc));
            }
        }
        out
    }

    /// Orders segments by their contribution in the direction of the change.
    fn rank_by_contribution(&self, items: &mut [(Key, Acc)]) {
        let sign = self.delta().signum();
        items.sort_by(|a, b| (self.contribution(&b.1) * sign).total_cmp(&(self.contribution(&a.1) * sign)));
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
            for (k, (key, _)) in frontier.iter().enumerate() {
                let done = (depth - 2) as f64 + k as f64 / frontier.len().max(1) as f64;
                progress.step("combinations", "Searching combinations", 0.6 + 0.3 * done / (max_depth - 1) as f64).await?;
                for (extended, acc) in self.children(key) {
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

    /// Share of the change times specificity (0 for segments moving against the change).
    fn score(&self, acc: &Acc) -> f64 {
        let share_of = self.contribution(acc) / self.delta();
        if share_of <= 0.0 {
            return 0.0;
        }
        share_of.min(1.0 / share_of) * specificity(acc, self.cube.is_rate, self.cube.scale, self.delta())
    }

    fn is_missing(&self, &(d, v): &(usize, u32)) -> bool {
        self.dims.get(d).and_then(|dim| dim.labels.get(v as usize)).is_some_and(|l| l == MISSING_LABEL)
    }

    fn is_bucket(&self, &(d, v): &(usize, u32)) -> bool {
        self.dims.get(d).and_then(|dim| dim.clauses.get(v as usize)).is_some_and(|c| matches!(c, Clause::Range { .. }))
    }

    /// The root cause: from the best single value, add conditions while one keeps most of the
    /// change and concentrates it (iDice / HotSpot-style descent). Returns it and how many
    /// extensions were taken.
    pub(super) fn descend(&self, found: &[(Key, Acc)], max_depth: usize) -> (Option<(Key, Acc)>, usize) {
        let start = found
            .iter()
            .filter(|(k, _)| k.len() == 1)
            .max_by(|a, b| {
                let (sa, sb) = (self.score(&a.1), self.score(&b.1));
                // On a tie (redundant columns), a value over "(missing)".
                if (sa - sb).abs() <= 1e-9 * sa.abs().max(sb.abs()) {
                    b.0.iter().any(|c| self.is_missing(c)).cmp(&a.0.iter().any(|c| self.is_missing(c)))
                } else {
                    sa.total_cmp(&sb)
                }
            })
            .cloned();
        let Some((mut key, mut acc)) = start else { return (None, 0) };
        let mut taken = 0;
        while key.len() < max_depth {
            let next = self
                .children(&key)
                .into_iter()
                .filter_map(|(child_key, child)| {
                    let added = child_key.iter().find(|c| !key.contains(c)).copied()?;
                    let (kept, lifted) = self.lift(&acc, &child, &added);
                    // Between conditions that concentrate alike, a category value describes the
                    // cause better than a quantile bucket of a number.
                    let preference = if self.is_bucket(&added) { lifted * BUCKET_DISCOUNT } else { lifted };
                    (kept >= KEEP && lifted >= MIN_LIFT).then_some((child_key, child, preference, self.is_missing(&added)))
                })
                // The most concentrating condition first (rarer in the baseline, same change);
                // on a tie (redundant columns) a value over "(missing)".
                .max_by(|a, b| {
                    let close = (a.2 - b.2).abs() <= 1e-9 * a.2.abs().max(b.2.abs());
                    if close { b.3.cmp(&a.3) } else { a.2.total_cmp(&b.2) }
                });
            match next {
                Some((child_key, child, _, _)) => {
                    taken += 1;
                    key = child_key;
                    acc = child;
                }
                None => break,
            }
        }
        (Some((key, acc)), taken)
    }

    /// Drops segments holding a condition that does not concentrate the change (their parent
    /// without it is in the list and explains as much), and the root cause itself (it leads the
    /// ranking on its own).
    pub(super) fn prune(&self, mut found: Vec<(Key, Acc)>, best: Option<&(Key, Acc)>) -> Vec<(Key, Acc)> {
        let known: FxHashMap<Key, Acc> = found.iter().cloned().collect();
        found.retain(|(key, acc)| {
            key.len() < 2
                || key.iter().all(|c| {
                    let parent: Key = key.iter().filter(|x| *x != c).copied().collect();
                    known.get(&parent).is_none_or(|p| self.lift(p, acc, c).1 >= MIN_LIFT)
                })
        });
        if let Some(best) = best {
            found.retain(|(k, _)| k != &best.0);
        }
        found
    }

    /// Scores, tests and ranks the segments: significant first, the descended root cause first
    /// among them, then by score and fewer conditions. p-values are Bonferroni-adjusted over the
    /// `examined` segments.
    pub(super) fn rank(&self, best: Option<(Key, Acc)>, found: Vec<(Key, Acc)>, examined: usize) -> Vec<Segment> {
        let (is_rate, scale, delta) = (self.cube.is_rate, self.cube.scale, self.delta());
        let first_key = best.as_ref().map(|(k, _)| k.clone());
        let mut segments: Vec<Segment> = best
            .into_iter()
            .chain(found)
            .filter_map(|(key, acc)| {
                let (baseline, incident) = values_of(&acc, is_rate, scale);
                let seg_delta = self.contribution(&acc);
                let share = seg_delta / delta;
                if share <= 0.0 {
                    return None;
                }
                let specificity = specificity(&acc, is_rate, scale, delta);
                let raw_p = p_value(&acc, is_rate, self.cube.incident_fraction, delta > 0.0);
                let p_value = (raw_p * examined as f64).min(1.0);
                Some(Segment {
                    conditions: self.conditions(&key),
                    baseline,
                    incident,
                    delta: seg_delta,
                    share_of_delta: share,
                    specificity,
                    score: share.min(1.0 / share) * specificity,
                    p_value,
                    significant: p_value < ALPHA,
                    baseline_rows: acc.rows[0],
                    incident_rows: acc.rows[1],
                })
            })
            .collect();
        let is_first = |s: &Segment| first_key.as_ref().is_some_and(|k| k.len() == s.conditions.len() && self.key_of(s).is_some_and(|key| key == *k));
        segments.sort_by(|a, b| {
            b.significant
                .cmp(&a.significant)
                .then_with(|| is_first(b).cmp(&is_first(a)))
                .then_with(|| b.score.total_cmp(&a.score))
                .then_with(|| a.conditions.len().cmp(&b.conditions.len()))
        });
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
