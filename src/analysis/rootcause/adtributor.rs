//! Adtributor (Bhagwan et al., NSDI 2014) per dimension: each value's shares, contribution and
//! surprise, rate and mix effects for rates, and the explanatory set.

use super::cube::{Acc, Dimension};
use super::stats::{js_divergence, share, values_of};
use super::{DimensionFinding, Totals, ValueFinding};

pub(super) fn adtributor(d: &Dimension, accs: &[Acc], total: &Acc, totals: &Totals, is_rate: bool, explain_share: f64) -> DimensionFinding {
    let delta = totals.delta;
    let mut values: Vec<ValueFinding> = d
        .labels
        .iter()
        .zip(accs)
        .map(|(label, acc)| {
            let (baseline, incident) = values_of(acc, is_rate, totals.scale);
            let (baseline_share, incident_share) = if is_rate {
                (share(acc.den[0], total.den[0]), share(acc.den[1], total.den[1]))
            } else {
                (share(acc.num[0], total.num[0]), share(acc.num[1], total.num[1]))
            };
            let (rate_effect, mix_effect, contribution) = if is_rate {
                let (r0, r1) = (share(acc.num[0], acc.den[0]), share(acc.num[1], acc.den[1]));
                let rate = (baseline_share + incident_share) / 2.0 * (r1 - r0);
                let mix = (r0 + r1) / 2.0 * (incident_share - baseline_share);
                (Some(rate), Some(mix), rate + mix)
            } else {
                (None, None, incident - baseline)
            };
            ValueFinding {
                value: label.clone(),
                baseline,
                incident,
                delta: contribution,
                share_of_delta: contribution / delta,
                surprise: js_divergence(baseline_share, incident_share),
                rate_effect,
                mix_effect,
                baseline_share,
                incident_share,
            }
        })
        .collect();
    values.sort_by(|a, b| b.share_of_delta.total_cmp(&a.share_of_delta).then_with(|| a.value.cmp(&b.value)));
    // Adtributor's explanatory set: by surprise, values each explaining ≥ 10 % until the set
    // explains `explain_share`; the dimension's score is the set's surprise.
    let mut by_surprise: Vec<&ValueFinding> = values.iter().filter(|v| v.share_of_delta >= 0.1).collect();
    by_surprise.sort_by(|a, b| b.surprise.total_cmp(&a.surprise).then_with(|| a.value.cmp(&b.value)));
    let (mut surprise, mut explained_ep) = (0.0, 0.0);
    for v in &by_surprise {
        if explained_ep >= explain_share {
            break;
        }
        surprise += v.surprise;
        explained_ep += v.share_of_delta;
    }
    // The fewest values (by contribution) reaching the share.
    let mut explaining = Vec::new();
    let mut explained = 0.0;
    for v in values.iter().filter(|v| v.share_of_delta > 0.0) {
        if explained >= explain_share {
            break;
        }
        explained += v.share_of_delta;
        explaining.push(v.value.clone());
    }
    if explained < explain_share {
        explaining.clear();
    }
    DimensionFinding { column: d.column.clone(), surprise, values, explaining, explained }
}
