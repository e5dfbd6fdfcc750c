//! The rows of the two windows with their metric values, and every dimension coded per row:
//! categories by value, numbers by quantile bucket.

use rustc_hash::FxHashMap;

use super::stats::{values_of, Test};
use super::{RcaError, RcaParams, Totals, DISCRETE_VALUES, MAX_VALUES, MISSING_LABEL, NUMERIC_BUCKETS, ROWS_PER_STEP};
use crate::analysis::contract::{Progress, Weights};
use crate::analysis::series::Metric;
use crate::data::filter::{evaluate_filter, Clause, Filter};
use crate::data::table::{Column, ColumnData, ColumnType, Strings, Table, Value, MISSING_CODE};

/// A dimension as codes per window row.
pub(super) struct Dimension {
    pub(super) column: String,
    pub(super) labels: Vec<String>,
    pub(super) clauses: Vec<Clause>,
    pub(super) codes: Vec<u32>,
}

/// Per-value accumulators: (baseline, incident) of the metric's numerator and denominator and
/// events (rows, or their summed weights).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Acc {
    pub(super) num: [f64; 2],
    pub(super) den: [f64; 2],
    pub(super) rows: [f64; 2],
    /// Rates and ratios: the incident numerator expected had every cell (combination of all
    /// dimensions) kept its baseline rate at its incident denominator.
    pub(super) expected: f64,
}

impl Acc {
    /// The accumulator of two disjoint sets of rows.
    pub(super) fn plus(&self, other: &Acc) -> Acc {
        Acc {
            num: [self.num[0] + other.num[0], self.num[1] + other.num[1]],
            den: [self.den[0] + other.den[0], self.den[1] + other.den[1]],
            rows: [self.rows[0] + other.rows[0], self.rows[1] + other.rows[1]],
            expected: self.expected + other.expected,
        }
    }

    /// The accumulator of these rows without `part`'s (a subset of them).
    pub(super) fn minus(&self, part: &Acc) -> Acc {
        Acc {
            num: [self.num[0] - part.num[0], self.num[1] - part.num[1]],
            den: [self.den[0] - part.den[0], self.den[1] - part.den[1]],
            rows: [(self.rows[0] - part.rows[0]).max(0.0), (self.rows[1] - part.rows[1]).max(0.0)],
            expected: self.expected - part.expected,
        }
    }

    /// Adds a row standing for `weight` events (`num` and `den` are already weighted).
    pub(super) fn add(&mut self, window: usize, num: f64, den: f64, weight: f64) {
        if let (Some(n), Some(d), Some(r)) = (self.num.get_mut(window), self.den.get_mut(window), self.rows.get_mut(window)) {
            *n += num;
            *d += den;
            *r += weight;
        }
    }
}

/// Rows of the two windows with their metric values (weighted: a row of weight w adds w times
/// its value).
pub(super) struct Rows {
    /// Table row of each window row.
    pub(super) table_rows: Vec<u32>,
    pub(super) weight: Vec<f64>,
    pub(super) window: Vec<u8>,
    pub(super) num: Vec<f64>,
    pub(super) den: Vec<f64>,
    pub(super) time: Vec<i64>,
}

pub(super) fn category_dimension(column: &Column, rows: &[u32]) -> Result<Dimension, String> {
    let mut index: FxHashMap<String, u32> = FxHashMap::default();
    let mut labels: Vec<String> = Vec::new();
    let mut codes = Vec::with_capacity(rows.len());
    let dict = match &column.data {
        ColumnData::Str(Strings::Dict { codes, dict }) => Some((codes, dict)),
        _ => None,
    };
    let mut dict_map: FxHashMap<u32, u32> = FxHashMap::default();
    for &row in rows {
        let code = match dict {
            Some((dict_codes, dict_values)) => {
                let raw = dict_codes.get(row as usize).unwrap_or(MISSING_CODE);
                match dict_map.get(&raw) {
                    Some(&c) => c,
                    None => {
                        let label = if raw == MISSING_CODE { MISSING_LABEL.to_string() } else { dict_values.get(raw as usize).map(|s| s.to_string()).unwrap_or_default() };
                        let c = *index.entry(label.clone()).or_insert_with(|| {
                            labels.push(label);
                            (labels.len() - 1) as u32
                        });
                        dict_map.insert(raw, c);
                        c
                    }
                }
            }
            None => {
                let value = column.value(row as usize);
                let label = if value == Value::Missing { MISSING_LABEL.to_string() } else { value.display() };
                match index.get(&label) {
                    Some(&c) => c,
                    None => {
                        labels.push(label.clone());
                        let c = (labels.len() - 1) as u32;
                        index.insert(label, c);
                        c
                    }
                }
            }
        };
        codes.push(code);
        if labels.len() > MAX_VALUES {
            return Err(format!("more than {MAX_VALUES} distinct values"));
        }
    }
    if labels.len() < 2 {
        return Err("a single value in these windows".into());
    }
    // Codes in the order of the labels, not of the rows, so that the same data in another row
    // order (or aggregated) breaks ties the same way.
    let mut order: Vec<u32> = (0..labels.len() as u32).collect();
    order.sort_by(|&a, &b| labels.get(a as usize).cmp(&labels.get(b as usize)));
    let mut new_code = vec![0u32; labels.len()];
    for (rank, &old) in order.iter().enumerate() {
        if let Some(slot) = new_code.get_mut(old as usize) {
            *slot = rank as u32;
        }
    }
    for code in codes.iter_mut() {
        *code = new_code.get(*code as usize).copied().unwrap_or(*code);
    }
    let labels: Vec<String> = order.iter().filter_map(|&old| labels.get(old as usize).cloned()).collect();
    let clauses = labels
        .iter()
        .map(|label| {
            if label == MISSING_LABEL {
                Clause::Missing { column: column.name.clone(), missing: true }
            } else {
                Clause::InSet { column: column.name.clone(), values: vec![label.clone()], negate: false }
            }
        })
        .collect();
    Ok(Dimension { column: column.name.clone(), labels, clauses, codes })
}

/// Quantile buckets of a numeric column over the window rows (of the weighted distribution):
/// `[lo, hi)` labels.
pub(super) fn numeric_dimension(column: &Column, rows: &[u32], weights: Weights<'_>) -> Result<Dimension, String> {
    let values: Vec<Option<f64>> = rows.iter().map(|&r| column.numeric(r as usize)).collect();
    let mut sorted: Vec<(f64, f64)> = rows.iter().zip(&values).filter_map(|(&r, v)| v.map(|v| (v, weights.of(r)))).filter(|&(_, w)| w > 0.0).collect();
    if sorted.is_empty() {
        return Err("no values in these windows".into());
    }
    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut distinct: Vec<f64> = sorted.iter().map(|&(v, _)| v).collect();
    distinct.dedup();
    if distinct.len() <= DISCRETE_VALUES {
        return Ok(discrete_dimension(column, &values, &distinct));
    }
    // The value at event k·W/buckets (a row of weight w is w events).
    let total: f64 = sorted.iter().map(|&(_, w)| w).sum();
    let mut edges: Vec<f64> = (1..NUMERIC_BUCKETS)
        .filter_map(|k| crate::analysis::stats::value_at_event(&sorted, (k as f64 * total / NUMERIC_BUCKETS as f64).floor()))
        .collect();
    edges.dedup();
    if let Some(&(min, _)) = sorted.first() {
        edges.retain(|&e| e > min);
    }
    if edges.is_empty() {
        return Err("a single value in these windows".into());
    }
    let fmt = |v: f64| crate::data::table::format_float(v);
    let mut labels: Vec<String> = Vec::new();
    let mut clauses: Vec<Clause> = Vec::new();
    let name = &column.name;
    for k in 0..=edges.len() {
        let lo = if k == 0 { None } else { edges.get(k - 1).copied() };
        let hi = edges.get(k).copied();
        labels.push(match (lo, hi) {
            (None, Some(h)) => format!("< {}", fmt(h)),
            (Some(l), Some(h)) => format!("[{}, {})", fmt(l), fmt(h)),
            (Some(l), None) => format!("≥ {}", fmt(l)),
            (None, None) => "any".into(),
        });
        // Ranges are closed in the filter: the upper edge's own value belongs to the next
        // bucket, so the filter stops just below it.
        clauses.push(Clause::Range { column: name.clone(), min: lo, max: hi.map(|h| f64::from_bits(h.to_bits().wrapping_sub(1)).min(h)) });
    }
    Ok(coded(name, labels, clauses, &values, |x| edges.partition_point(|&e| e <= x) as u32))
}

/// The dimension whose values' codes `code_of` gives, missing values coded after the labels
/// (with their own label and clause when there are any).
fn coded(name: &str, mut labels: Vec<String>, mut clauses: Vec<Clause>, values: &[Option<f64>], code_of: impl Fn(f64) -> u32) -> Dimension {
    let missing_code = labels.len() as u32;
    let codes: Vec<u32> = values.iter().map(|v| v.map_or(missing_code, &code_of)).collect();
    if values.iter().any(Option::is_none) {
        labels.push(MISSING_LABEL.into());
        clauses.push(Clause::Missing { column: name.to_string(), missing: true });
    }
    Dimension { column: name.to_string(), labels, clauses, codes }
}

/// A numeric column with few values (a build number, a count of strikes) by its values: a
/// bucket would merge values that behave differently.
fn discrete_dimension(column: &Column, values: &[Option<f64>], distinct: &[f64]) -> Dimension {
    let name = &column.name;
    let labels: Vec<String> = distinct.iter().map(|&v| crate::data::table::format_float(v)).collect();
    let clauses: Vec<Clause> = distinct.iter().map(|&v| Clause::Range { column: name.clone(), min: Some(v), max: Some(v) }).collect();
    coded(name, labels, clauses, values, |x| distinct.partition_point(|&d| d < x) as u32)
}

/// What a row adds to the metric: a column's value (sums, a ratio's numerator), a condition's
/// hits (rates), or 1 (counts); and a ratio's denominator column.
pub(super) struct MetricParts<'t> {
    pub(super) value: Option<&'t Column>,
    pub(super) hits: Option<Vec<bool>>,
    pub(super) denominator: Option<&'t Column>,
}

fn numeric_column<'t>(table: &'t Table, name: &str) -> Result<&'t Column, RcaError> {
    let c = table.column(name).ok_or_else(|| RcaError::UnknownColumn(name.to_string()))?;
    if !matches!(c.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean) {
        return Err(RcaError::NotNumeric { column: name.to_string(), kind: c.kind.label().to_string() });
    }
    Ok(c)
}

/// The columns a metric reads: the value summed (sum, ratio numerator), the rows that count
/// (rate) and the denominator (ratio).
pub(super) fn metric_parts<'t>(table: &'t Table, metric: &Metric) -> Result<MetricParts<'t>, RcaError> {
    match metric {
        Metric::Count => Ok(MetricParts { value: None, hits: None, denominator: None }),
        Metric::Sum { column } => Ok(MetricParts { value: Some(numeric_column(table, column)?), hits: None, denominator: None }),
        Metric::Ratio { numerator, denominator } => Ok(MetricParts { value: Some(numeric_column(table, numerator)?), hits: None, denominator: Some(numeric_column(table, denominator)?) }),
        Metric::Rate { condition } => {
            let matched = evaluate_filter(table, &Filter { clauses: vec![condition.clone()] })?;
            let mut hits = vec![false; table.n_rows];
            for row in matched {
                if let Some(h) = hits.get_mut(row as usize) {
                    *h = true;
                }
            }
            Ok(MetricParts { value: None, hits: Some(hits), denominator: None })
        }
        other => Err(RcaError::Metric(other.describe())),
    }
}

/// The windows' rows, their total, and what the metric did.
pub(super) struct Cube {
    pub(super) rows: Rows,
    pub(super) total: Acc,
    pub(super) totals: Totals,
    pub(super) is_rate: bool,
    /// Incident window length over the baseline's.
    pub(super) scale: f64,
    /// How every segment's change is tested. A count's share of events expected in the
    /// incident window when nothing changed is scale / (1 + scale), with the baseline's scale to
    /// the incident window (weekday by weekday when the baseline holds every weekday; else the
    /// windows' lengths), so that a segment's p-value tests the change the report shows. A ratio
    /// above 1 over both windows is tested as Poisson rates, every segment alike.
    pub(super) test: Test,
}

impl Cube {
    /// Selects the rows of the two windows among `rows`, stepping `progress` as it reads.
    pub(super) async fn select(table: &Table, rows: &[u32], weights: Weights<'_>, params: &RcaParams, progress: &mut impl Progress) -> Result<Cube, RcaError> {
        let time = table.column(&params.time_column).ok_or_else(|| RcaError::UnknownColumn(params.time_column.clone()))?;
        let ColumnData::Timestamp { ms, valid } = &time.data else { return Err(RcaError::NotTime(params.time_column.clone())) };
        let parts = metric_parts(table, &params.metric)?;
        let is_rate = params.metric.is_rate();
        let scale = params.incident.len() as f64 / params.baseline.len() as f64;
        let mut window_rows = Rows { table_rows: Vec::new(), weight: Vec::new(), window: Vec::new(), num: Vec::new(), den: Vec::new(), time: Vec::new() };
        let mut total = Acc::default();
        for (n, &row) in rows.iter().enumerate() {
            if n % ROWS_PER_STEP == 0 {
                progress.step("windows", "Selecting the windows' rows", 0.2 * n as f64 / rows.len() as f64).await?;
            }
            let r = row as usize;
            if !valid.get(r) {
                continue;
            }
            let Some(&t) = ms.get(r) else { continue };
            let window = if params.baseline.contains(t) {
                0
            } else if params.incident.contains(t) {
                1
            } else {
                continue;
            };
            let weight = weights.of(row);
            let num = weight
                * match (parts.value, &parts.hits) {
                    (Some(column), _) => column.numeric(r).unwrap_or(0.0),
                    (None, Some(hits)) => f64::from(u8::from(hits.get(r).copied().unwrap_or(false))),
                    (None, None) => 1.0,
                };
            // A ratio's row without a denominator weighs nothing.
            let den = weight * parts.denominator.map_or(1.0, |column| column.numeric(r).unwrap_or(0.0));
            total.add(window, num, den, weight);
            window_rows.table_rows.push(row);
            window_rows.weight.push(weight);
            window_rows.time.push(t);
            window_rows.window.push(window as u8);
            window_rows.num.push(num);
            window_rows.den.push(den);
        }
        if total.rows[0] <= 0.0 {
            return Err(RcaError::NoRows("baseline".to_string()));
        }
        if total.rows[1] <= 0.0 {
            return Err(RcaError::NoRows("incident".to_string()));
        }
        // Counts and sums: the baseline is scaled to the volume expected in the incident window,
        // weekday by weekday when the baseline holds every weekday (a weekend incident is not a
        // dip); rates are not scaled.
        let scale = if is_rate { scale } else { seasonal_scale(&window_rows, params).unwrap_or(scale) };
        let test = match is_rate {
            false => Test::Counts { incident_fraction: scale / (1.0 + scale) },
            true if total.num[0] + total.num[1] > total.den[0] + total.den[1] => Test::PoissonRates,
            true => Test::Proportions,
        };
        let (base_total, inc_total) = values_of(&total, is_rate, scale);
        let delta = inc_total - base_total;
        if delta.abs() <= f64::EPSILON * base_total.abs().max(1.0) {
            return Err(RcaError::NoChange);
        }
        let totals = Totals { baseline: base_total, incident: inc_total, delta, baseline_rows: events(total.rows[0]), incident_rows: events(total.rows[1]), scale };
        Ok(Cube { rows: window_rows, total, totals, is_rate, scale, test })
    }

    /// Window (0 baseline, 1 incident) of window row `i`.
    pub(super) fn window_of(&self, i: usize) -> usize {
        usize::from(self.rows.window.get(i).copied().unwrap_or(0))
    }

    /// Metric numerator of window row `i`.
    pub(super) fn num_of(&self, i: usize) -> f64 {
        self.rows.num.get(i).copied().unwrap_or(0.0)
    }

    /// Weight of window row `i`.
    pub(super) fn weight_of(&self, i: usize) -> f64 {
        self.rows.weight.get(i).copied().unwrap_or(1.0)
    }

    /// Metric denominator of window row `i` (its weight but for ratios).
    pub(super) fn den_of(&self, i: usize) -> f64 {
        self.rows.den.get(i).copied().unwrap_or(1.0)
    }
}

/// Events as a whole number for the report (exact for counts; a sample's weights rounded).
pub(super) fn events(weight: f64) -> u64 {
    weight.round().max(0.0) as u64
}

/// The baseline's scale to the incident window by weekday (UTC): the metric expected in each
/// incident day is the mean of the baseline's same weekday; `None` when the baseline is shorter
/// than a week or a weekday of the incident is missing from it.
fn seasonal_scale(rows: &Rows, params: &RcaParams) -> Option<f64> {
    use crate::data::time::DAY_MS;
    let (baseline, incident) = (&params.baseline, &params.incident);
    if baseline.end_ms - baseline.start_ms < 7 * DAY_MS {
        return None;
    }
    let weekday = |ms: i64| (ms.div_euclid(DAY_MS) + 3).rem_euclid(7) as usize;
    // Days of each weekday a window covers (partial days count by their share).
    let coverage = |start: i64, end: i64| {
        let mut days = [0.0f64; 7];
        let mut at = start;
        while at < end {
            let next = ((at.div_euclid(DAY_MS) + 1) * DAY_MS).min(end);
            days[weekday(at)] += (next - at) as f64 / DAY_MS as f64;
            at = next;
        }
        days
    };
    let (base_days, inc_days) = (coverage(baseline.start_ms, baseline.end_ms), coverage(incident.start_ms, incident.end_ms));
    let mut per_weekday = [0.0f64; 7];
    for (i, &t) in rows.time.iter().enumerate() {
        if rows.window.get(i) == Some(&0) {
            per_weekday[weekday(t)] += rows.num.get(i).copied().unwrap_or(0.0);
        }
    }
    let baseline_total: f64 = per_weekday.iter().sum();
    let mut expected = 0.0;
    for wd in 0..7 {
        if inc_days[wd] > 0.0 {
            if base_days[wd] <= 0.0 {
                return None;
            }
            expected += per_weekday[wd] / base_days[wd] * inc_days[wd];
        }
    }
    (baseline_total > 0.0 && expected > 0.0).then(|| expected / baseline_total)
}

/// The dimensions to explain by, coded per window row (`window_rows`: their table rows), and the
/// columns left out with why.
pub(super) async fn dimensions(table: &Table, params: &RcaParams, window_rows: &[u32], weights: Weights<'_>, progress: &mut impl Progress) -> Result<(Vec<Dimension>, Vec<(String, String)>), RcaError> {
    let metric_columns = params.metric.columns();
    let mut skipped: Vec<(String, String)> = Vec::new();
    let mut dims: Vec<Dimension> = Vec::new();
    let chosen: Vec<&Column> = match &params.dimensions {
        Some(names) => names.iter().map(|n| table.column(n).ok_or_else(|| RcaError::UnknownColumn(n.clone()))).collect::<Result<_, _>>()?,
        None => table.columns.iter().filter(|c| c.name != params.time_column && !metric_columns.contains(&c.name.as_str()) && weights.describes_events(&c.name)).collect(),
    };
    let n_chosen = chosen.len();
    for (k, column) in chosen.into_iter().enumerate() {
        progress.step("dimensions", "Grouping by each column", 0.2 + 0.4 * k as f64 / n_chosen.max(1) as f64).await?;
        let built = match column.kind {
            ColumnType::Category | ColumnType::Boolean => category_dimension(column, window_rows),
            ColumnType::Integer | ColumnType::Float => numeric_dimension(column, window_rows, weights),
            ColumnType::Identifier | ColumnType::Text | ColumnType::Timestamp => {
                if params.dimensions.is_some() {
                    Err(format!("a {} column does not group rows", column.kind.label()))
                } else {
                    continue;
                }
            }
        };
        match built {
            Ok(d) => dims.push(d),
            Err(why) => skipped.push((column.name.clone(), why)),
        }
    }
    if dims.is_empty() {
        return Err(RcaError::NoDimensions);
    }
    Ok((dims, skipped))
}
