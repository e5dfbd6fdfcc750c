//! The analysis in words (the line to paste) and the timelines of the top segments.

use super::cube::Rows;
use super::{RcaParams, Segment, Timeline, TimelineSeries, Totals};
use crate::format::format_whole_percent;

/// A cause carrying more than this share of the change is said to carry more than all of it
/// (the rest moved the other way); up to it, the rest's move is noise and it carries "100 %".
const OVERSHOOT: f64 = 1.02;

pub(super) fn summarise(segments: &[Segment], totals: &Totals, metric_label: &str, is_rate: bool) -> String {
    let pct = if totals.baseline.abs() > 0.0 { format!(" ({:+.0} %)", totals.delta / totals.baseline * 100.0) } else { String::new() };
    let signed = |delta: f64| {
        if is_rate {
            format!("{:+.2} points", delta * 100.0)
        } else {
            let sign = if delta >= 0.0 { "+" } else { "−" };
            format!("{sign}{}", crate::format::format_count(delta.abs().round() as u64))
        }
    };
    let change = signed(totals.delta);
    match segments {
        [] => format!("The {change} {metric_label}{pct} is spread out: no segment carries it."),
        // More than the whole change: the rest moved the other way; say so rather than "109 %".
        [top] if top.share_of_delta > OVERSHOOT => format!(
            "{} {metric_label} came from {}, more than the whole change of {change} {metric_label}{pct}: the rest moved {}",
            signed(top.delta),
            top.describe(),
            signed(totals.delta - top.delta)
        ),
        [top] => format!("{} of the {change} {metric_label}{pct} came from {}", format_whole_percent(top.share_of_delta.min(1.0)), top.describe()),
        // Two causes together: name both, with each one's part.
        [first, rest @ ..] => {
            let together: f64 = segments.iter().map(|s| s.delta).sum();
            let share: f64 = segments.iter().map(|s| s.share_of_delta).sum();
            let each = |s: &Segment| if share > OVERSHOOT { format!("{} ({})", s.describe(), signed(s.delta)) } else { format!("{} ({})", s.describe(), format_whole_percent(s.share_of_delta)) };
            let names = std::iter::once(first).chain(rest).map(each).collect::<Vec<_>>().join(" and ");
            if share > OVERSHOOT {
                format!("{} {metric_label} came from {names} together, more than the whole change of {change} {metric_label}{pct}: the rest moved {}", signed(together), signed(totals.delta - together))
            } else {
                format!("{} of the {change} {metric_label}{pct} came from {names} together", format_whole_percent(share.min(1.0)))
            }
        }
    }
}

/// Buckets of an hour for spans up to four days, of a day beyond (UTC).
pub(super) fn timeline(params: &RcaParams, rows: &Rows, is_rate: bool, member: impl Fn(usize, usize) -> bool, n_segments: usize) -> Timeline {
    let start = params.baseline.start_ms.min(params.incident.start_ms);
    let end = params.baseline.end_ms.max(params.incident.end_ms);
    let bucket_ms = if end - start <= 4 * crate::data::time::DAY_MS { crate::data::time::HOUR_MS } else { crate::data::time::DAY_MS };
    let first = start.div_euclid(bucket_ms) * bucket_ms;
    let n = usize::try_from((end - 1 - first).div_euclid(bucket_ms) + 1).unwrap_or(0).min(20_000);
    let starts_ms: Vec<i64> = (0..n).map(|i| first + i as i64 * bucket_ms).collect();
    // [num, den] per bucket: total, then (with, without) per segment.
    let mut total = vec![[0.0f64; 2]; n];
    let mut with = vec![vec![[0.0f64; 2]; n]; n_segments];
    let mut without = vec![vec![[0.0f64; 2]; n]; n_segments];
    for (i, &t) in rows.time.iter().enumerate() {
        let Ok(b) = usize::try_from((t - first).div_euclid(bucket_ms)) else { continue };
        let num = rows.num.get(i).copied().unwrap_or(0.0);
        let den = rows.den.get(i).copied().unwrap_or(1.0);
        let add = |slot: Option<&mut [f64; 2]>| {
            if let Some(slot) = slot {
                slot[0] += num;
                slot[1] += den;
            }
        };
        add(total.get_mut(b));
        for k in 0..n_segments {
            let target = if member(i, k) { with.get_mut(k) } else { without.get_mut(k) };
            add(target.and_then(|series| series.get_mut(b)));
        }
    }
    let finish = |cells: Vec<[f64; 2]>| -> Vec<f64> {
        cells.into_iter().map(|[num, den]| if is_rate { if den > 0.0 { num / den } else { f64::NAN } } else { num }).collect()
    };
    Timeline {
        bucket_ms,
        starts_ms,
        total: finish(total),
        segments: with.into_iter().zip(without).map(|(w, o)| TimelineSeries { with: finish(w), without: finish(o) }).collect(),
    }
}
