//! `vigil detect`: what fired since a time — the trend's incidents (with their root cause) and
//! rules whose precision or volume left the band their backtest on the earlier rows sets.

use serde::Serialize;

use super::{explain, incidents, parse_time, DetectArgs, FoundIncident, Session};
use crate::analysis::backtest::{BacktestParams, BacktestReport, RuleResult};
use crate::analysis::registry::{AnyParams, AnyReport};
use crate::data::table::Value;
use crate::data::time::{format_iso_ms, DAY_MS};
use crate::format::{format_count, format_events};

/// z of the precision band (two-sided 95 %).
const PRECISION_Z: f64 = 1.96;
/// z of the volume band: daily volumes vary more than Poisson (weekdays, launches), so the band
/// is wider than for precision.
const VOLUME_Z: f64 = 3.0;

/// A rule that left its band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleFinding {
    pub rule: String,
    pub text: String,
    /// "precision" or "volume".
    pub measure: &'static str,
    /// What the rule did since `--since`.
    pub recent: f64,
    /// What its backtest on the earlier rows expects, and the band around it.
    pub expected: f64,
    pub band: (f64, f64),
    pub flagged_since: f64,
}

pub fn detect(args: DetectArgs) -> Result<u8, String> {
    let since = args.since.as_deref().map(|text| parse_time(text, "--since")).transpose()?;
    let session = Session::open(&args.input)?;
    if !session.view_lost.is_empty() {
        // Watching other rows, rules or times than the view's would raise (or hide) other incidents.
        return Err(format!("the view does not fully apply to the data, so detection would watch something else than the view: {}", session.view_lost.join("; ")));
    }
    let settings = session.plan.trend.clone().ok_or("there is no trend to watch: the data has no timestamp column, or the view's trend is incomplete")?;
    let report = match session.run(&AnyParams::Trend(settings.clone()))? {
        AnyReport::Trend(report) => report,
        _ => return Err("the trend gave another analysis's report".into()),
    };
    if let Err(err) = &report.analysis {
        return Err(format!("the trend cannot be modelled, so nothing can be detected: {err}"));
    }
    let series = &report.series;
    let since = match since {
        Some(since) => since,
        None => series.starts_ms.get(series.complete.1.saturating_sub(1)).copied().ok_or("the trend has no complete period")?,
    };
    let mut found: Vec<FoundIncident> = incidents(&report).into_iter().filter(|i| i.end_ms > since).collect();
    explain(&session, &settings, &mut found);
    // A rule that cannot run is an error of the scheduled check, not a rule that did not fire:
    // what did fire is still printed, then the command fails.
    let broken: Vec<String> = session.plan.backtest.iter().flat_map(|params| &params.rules).filter_map(|spec| {
        let compiled = crate::data::expr::parse(&spec.text).map_err(|e| e.to_string()).and_then(|expr| crate::data::expr::compile(session.table(), &expr).map(drop).map_err(|e| e.to_string()));
        compiled.err().map(|err| format!("rule “{}” cannot run: {err}", spec.name))
    }).collect();
    let rules = match (&session.plan.backtest, &settings.time) {
        (Some(params), Some(time)) => {
            // The trend's span: stray dates (a year 2031 typo) neither count nor stretch the days.
            let span = (series.starts_ms.first().copied().unwrap_or(since), series.next_start_ms(1).unwrap_or(since));
            rule_findings(&session, params, time, since, span)?
        }
        _ => Vec::new(),
    };

    let metric = settings.metric().map(|m| m.describe()).unwrap_or_else(|| "rows".into());
    let mut out = std::io::stdout().lock();
    use std::io::Write;
    for incident in &found {
        let line = if args.json {
            let mut value = crate::document::with_iso_times(serde_json::to_value(incident).unwrap_or_default());
            if let serde_json::Value::Object(map) = &mut value {
                map.insert("kind".into(), "incident".into());
                map.insert("metric".into(), metric.clone().into());
            }
            value.to_string()
        } else {
            let change = if incident.found.expected.abs() > 0.0 { format!(" ({:+.0} %)", incident.found.excess / incident.found.expected * 100.0) } else { String::new() };
            let direction = match incident.found.direction {
                crate::analysis::trend::Direction::Spike => "spike",
                crate::analysis::trend::Direction::Dip => "dip",
            };
            let cause = incident.root_cause.as_deref().map(|c| format!(" — {c}")).unwrap_or_default();
            format!("incident {} {direction} in {metric}: {} against {} expected{change}{cause}", incident.found.period, number(incident.found.actual), number(incident.found.expected))
        };
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    for rule in &rules {
        let line = if args.json {
            let mut value = serde_json::to_value(rule).unwrap_or_default();
            if let serde_json::Value::Object(map) = &mut value {
                map.insert("kind".into(), "rule".into());
                map.insert("since_iso".into(), format_iso_ms(since).into());
            }
            value.to_string()
        } else {
            let shown = |v: f64| if rule.measure == "precision" { format!("{:.1} %", v * 100.0) } else { format!("{v:.1}/day") };
            format!(
                "rule “{}” {} {} since {}, outside its backtested band {} – {} (expected {}; {} flagged since)",
                rule.rule,
                rule.measure,
                shown(rule.recent),
                format_iso_ms(since),
                shown(rule.band.0),
                shown(rule.band.1),
                shown(rule.expected),
                format_events(rule.flagged_since)
            )
        };
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    if !session.quiet {
        eprintln!("vigil: {} incidents and {} rules fired after {}", found.len(), rules.len(), format_iso_ms(since));
    }
    if !broken.is_empty() {
        return Err(broken.join("; "));
    }
    Ok(u8::from(!found.is_empty() || !rules.is_empty()))
}

fn number(value: f64) -> String {
    if value.abs() >= 1000.0 { format_count(value.round() as u64) } else { format!("{value:.3}").trim_end_matches('0').trim_end_matches('.').to_string() }
}

/// Backtests the rules on the rows before `since` and on those from `since` on, and lists each
/// rule whose recent precision or daily volume falls outside the band the earlier rows give:
/// precision `p` (the median week's) over `n` recent flags is expected within
/// `p ± 1.96 √(p(1−p)/n)` (plus half a flag for continuity); the recent flags per day within `m ± 3 σ / √k` over `k` recent days,
/// `m` being the median of the earlier days' flags and `σ` their spread (1.4826 × MAD, at least
/// Poisson's √m), so an earlier incident does not move the band. Rows count within the trend's
/// span `[first, end)`.
fn rule_findings(session: &Session, params: &BacktestParams, time: &str, since: i64, (first, end): (i64, i64)) -> Result<Vec<RuleFinding>, String> {
    let column = session.table().column(time).ok_or_else(|| format!("the time column {time} is missing"))?;
    let at = |row: u32| match column.value(row as usize) {
        Value::Timestamp(ms) => Some(ms),
        _ => None,
    };
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for &row in &session.rows {
        match at(row) {
            Some(ms) if ms >= first && ms < since => before.push(row),
            Some(ms) if ms >= since && ms < end => after.push(row),
            _ => {}
        }
    }
    if before.is_empty() || after.is_empty() {
        return Ok(Vec::new());
    }
    let backtest = |rows: &[u32]| -> Result<BacktestReport, String> {
        match session.run_on(&AnyParams::Backtest(params.clone()), rows)? {
            AnyReport::Backtest(report) => Ok(report),
            _ => Err("the backtest gave another analysis's report".into()),
        }
    };
    let (history, recent) = (backtest(&before)?, backtest(&after)?);
    let recent_days = ((end - since) as f64 / DAY_MS as f64).max(1.0 / 24.0);
    let mut out = Vec::new();
    for (old, new) in history.rules.iter().zip(&recent.rules) {
        let (Ok(old), Ok(new)) = (old, new) else { continue };
        out.extend(precision_finding(old, new));
        out.extend(volume_finding(old, new, recent_days));
    }
    Ok(out)
}

/// Days of history the volume band needs.
const MIN_HISTORY_DAYS: usize = 7;

fn volume_finding(old: &RuleResult, new: &RuleResult, recent_days: f64) -> Option<RuleFinding> {
    let mut daily: Vec<f64> = old.daily.iter().map(|&(_, n)| n).collect();
    if daily.len() < MIN_HISTORY_DAYS {
        return None;
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        let n = values.len();
        if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
    };
    let m = median(&mut daily);
    let mut deviations: Vec<f64> = daily.iter().map(|v| (v - m).abs()).collect();
    let sigma = (1.4826 * median(&mut deviations)).max(m.sqrt()).max(0.5);
    let flagged = new.confusion.tp + new.confusion.fp;
    let recent = flagged / recent_days;
    let half = VOLUME_Z * sigma / recent_days.max(1.0).sqrt();
    ((recent - m).abs() > half).then(|| RuleFinding {
        rule: new.name.clone(),
        text: new.text.clone(),
        measure: "volume",
        recent,
        expected: m,
        band: ((m - half).max(0.0), m + half),
        flagged_since: flagged,
    })
}

/// Flags a week needs for its precision to count in the robust baseline.
const MIN_WEEK_FLAGS: f64 = 5.0;

fn precision_finding(old: &RuleResult, new: &RuleResult) -> Option<RuleFinding> {
    let (tp, n) = (old.confusion.tp, old.confusion.tp + old.confusion.fp);
    let (k, m) = (new.confusion.tp, new.confusion.tp + new.confusion.fp);
    if n == 0.0 || m == 0.0 {
        return None;
    }
    // The median week's precision (an incident week does not move it); the pooled precision
    // when fewer than three weeks have enough flags.
    let mut weekly: Vec<f64> = old.weekly.iter().filter(|w| w.flagged >= MIN_WEEK_FLAGS).map(|w| w.true_positives / w.flagged).collect();
    weekly.sort_by(f64::total_cmp);
    let p = match weekly.len() {
        0..=2 => tp / n,
        len if len % 2 == 1 => weekly[len / 2],
        len => (weekly[len / 2 - 1] + weekly[len / 2]) / 2.0,
    };
    let half = PRECISION_Z * (p * (1.0 - p) / m).sqrt() + 0.5 / m;
    let recent = k / m;
    ((recent - p).abs() > half).then(|| RuleFinding {
        rule: new.name.clone(),
        text: new.text.clone(),
        measure: "precision",
        recent,
        expected: p,
        band: ((p - half).max(0.0), (p + half).min(1.0)),
        flagged_since: new.confusion.tp + new.confusion.fp,
    })
}
