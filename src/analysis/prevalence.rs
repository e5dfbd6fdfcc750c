//! Prevalence from a labelled sample: the share of content (or of its views) that violates, with
//! a confidence interval, overall, per stratum, per day or week and per value of a dimension,
//! and how many more labels reach a chosen precision.
//!
//! ```text
//! design weight d = 1                     simple random sample
//!                 = N_h / n_h             stratified: population N_h of each stratum h
//!                 = 1 / π                 Horvitz–Thompson: inclusion probability π per row
//! unit weight   u = d · views             (views: the violative *view* rate)
//! estimate      p̂ = Σ u·y / Σ u           (a ratio: Hájek / stratified estimator)
//! ```
//!
//! A simple sample gets the three binomial intervals (Wilson, Clopper–Pearson, Jeffreys, as
//! statsmodels' `proportion_confint`). Any other design gets the Taylor-linearised variance of
//! the ratio (`z = u·(y − p̂)/Σu`, summed within strata with `(1 − f_h)·n_h/(n_h − 1)`, as
//! samplics' `TaylorEstimator` and Stata's `svy: proportion`), the logit interval with
//! `n − H` degrees of freedom, and Kish's design effect against a simple sample of the same size.
//! Periods, strata and dimension values are domains of the whole sample (their variance keeps
//! every stratum), so a domain estimate is what samplics gives with `domain=`.
//!
//! Rows carrying a weight in the view (a cube's count) stand for that many sampled units.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::contract::{has_column, missing_column, Analysis, FitColumns, Progress, Weights};
use super::labels::LabelSpec;
use crate::data::table::{Column, ColumnType, Table, Value};
use super::series::bulk_range;
use crate::data::time::Buckets;

/// How the labelled rows were sampled.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "column")]
pub enum Design {
    /// Every unit had the same chance of being labelled.
    #[default]
    Simple,
    /// Strata sampled at different rates: this column holds each stratum's population size.
    Population(String),
    /// Each row's inclusion probability (weight 1/π).
    Probability(String),
}

/// Which binomial interval is the headline for a simple sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    #[default]
    Wilson,
    ClopperPearson,
    Jeffreys,
}

impl Interval {
    pub fn label(self) -> &'static str {
        match self {
            Self::Wilson => "Wilson",
            Self::ClopperPearson => "Clopper–Pearson",
            Self::Jeffreys => "Jeffreys",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrevalenceParams {
    pub label: LabelSpec,
    /// Stratum of each row (a classifier score band, a queue).
    #[serde(default)]
    pub stratum: Option<String>,
    #[serde(default)]
    pub design: Design,
    /// Views of each item: the estimate becomes the share of views that are violating.
    #[serde(default)]
    pub views: Option<String>,
    /// A timestamp column: the estimate per day (or week, beyond 400 days), UTC.
    #[serde(default)]
    pub time: Option<String>,
    /// A column to break the estimate down by (country, surface).
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    #[serde(default)]
    pub interval: Interval,
    /// The planner's goal: the interval's half-width (0.005 = ±0.5 points).
    #[serde(default)]
    pub target_margin: Option<f64>,
}

fn default_confidence() -> f64 {
    0.95
}

impl PrevalenceParams {
    /// A simple sample of `label`, 95 % Wilson intervals.
    pub fn of(label: LabelSpec) -> Self {
        Self { label, stratum: None, design: Design::Simple, views: None, time: None, by: None, confidence: 0.95, interval: Interval::Wilson, target_margin: None }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum PrevalenceError {
    #[error("there is no column “{0}”")]
    UnknownColumn(String),
    #[error("choose the label column")]
    NoLabelColumn,
    #[error("the confidence must be between 50 % and 99.99 %, not {0}")]
    Confidence(f64),
    #[error("the target margin must be between 0 and 0.5, not {0}")]
    Margin(f64),
    #[error("“{column}” is {kind}; {needs}")]
    WrongType { column: String, kind: String, needs: String },
    #[error("no selected row has a label in “{0}”")]
    NoLabels(String),
    #[error("no positive class is chosen for “{0}”")]
    NoPositive(String),
    #[error("row {row}: {what} is {value}; {needs}")]
    BadValue { row: usize, what: String, value: String, needs: String },
    #[error("stratum “{stratum}”: its population size is {first} on one row and {other} on row {row}; it must be the same on every row of the stratum")]
    PopulationVaries { stratum: String, first: f64, other: f64, row: usize },
    #[error("stratum “{stratum}”: the population ({population}) is smaller than its labelled sample ({sample})")]
    PopulationTooSmall { stratum: String, population: f64, sample: f64 },
    #[error("a stratified design needs the stratum column")]
    NoStratum,
    #[error("“{column}” spans {periods} days or weeks (a far-off date?); filter it to the period of the sample")]
    TooManyPeriods { column: String, periods: usize },
    #[error("stopped before it finished")]
    Stopped,
}

impl From<super::contract::Stopped> for PrevalenceError {
    fn from(_: super::contract::Stopped) -> Self {
        Self::Stopped
    }
}

/// Lower and upper bounds.
pub type Bounds = (f64, f64);

/// The three binomial intervals of a simple sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BinomialIntervals {
    pub wilson: Bounds,
    pub clopper_pearson: Bounds,
    pub jeffreys: Bounds,
}

/// One estimate: overall, or of a domain (a stratum, a period, a value of the breakdown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Labelled units (rows, or the sum of the view's weights).
    pub labelled: f64,
    /// Of those, positive.
    pub positives: f64,
    pub estimate: f64,
    /// Standard error: binomial for a simple sample, Taylor-linearised otherwise.
    pub se: f64,
    /// The headline interval.
    pub low: f64,
    pub high: f64,
    /// Kish's design effect (the design's variance over a simple sample's of the same size);
    /// `None` for a simple sample or when the estimate is 0 or 1.
    pub deff: Option<f64>,
    /// All three binomial intervals, for a simple sample.
    pub binomial: Option<BinomialIntervals>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StratumRow {
    pub name: String,
    /// Its population size, when the design gives it.
    pub population: Option<f64>,
    /// Its share of the estimate's total weight (of the population, or of the views).
    pub weight_share: f64,
    pub estimate: Estimate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodRow {
    pub start_ms: i64,
    pub estimate: Estimate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverTime {
    pub column: String,
    pub bucket_ms: i64,
    /// Periods with labelled units, in time order.
    pub periods: Vec<PeriodRow>,
    /// Labelled units left out for a time far outside the rest (a mistyped year).
    #[serde(default)]
    pub left_out: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    pub value: String,
    pub estimate: Estimate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    pub column: String,
    /// The values with most labelled units (at most [`MAX_GROUPS`]), most first.
    pub groups: Vec<GroupRow>,
    /// Values left out.
    pub more: usize,
}

/// More labels for one stratum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StratumPlan {
    pub name: String,
    pub labelled: f64,
    /// Its share of the total in the allocation.
    pub allocated: f64,
    pub more: f64,
}

/// How many labels reach the target margin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelPlan {
    pub target_margin: f64,
    /// Labelled units the target needs in all.
    pub needed: f64,
    /// Beyond those already labelled (0: the target is met).
    pub more: f64,
    /// Neyman allocation across strata (stratified by population); empty otherwise.
    pub strata: Vec<StratumPlan>,
    /// How it was worked out, in a sentence.
    pub method: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrevalenceReport {
    pub label: String,
    pub positive: Vec<String>,
    /// The label's values with their labelled units (the view's weights), most first (at most
    /// [`MAX_GROUPS`]), to choose which count as positive.
    pub classes: Vec<(String, f64)>,
    /// The design in words ("simple random sample", "stratified by “band”, 4 strata").
    pub design: String,
    pub simple: bool,
    pub confidence: f64,
    /// The headline interval's name.
    pub interval: String,
    /// Degrees of freedom of the design's interval (`n − H`); `None` for a simple sample.
    pub degrees_of_freedom: Option<f64>,
    pub overall: Estimate,
    /// Per stratum (empty without a stratum column).
    pub strata: Vec<StratumRow>,
    pub over_time: Option<OverTime>,
    pub breakdown: Option<Breakdown>,
    pub plan: Option<LabelPlan>,
    /// Selected rows without a label (left out).
    pub unlabelled: f64,
    pub notes: Vec<String>,
}

/// Most values of a breakdown shown.
pub const MAX_GROUPS: usize = 50;
/// Most strata.
pub const MAX_STRATA: usize = 1000;
/// Most periods over time (a stray far-off date would make the chart meaningless).
pub const MAX_PERIODS: usize = 5000;

pub struct Prevalence;

impl Analysis for Prevalence {
    const NAME: &'static str = "prevalence";
    const TITLE: &'static str = "Prevalence";
    const WEIGHTED: bool = true;
    const IN_LINK: bool = true;
    type Params = PrevalenceParams;
    type Report = PrevalenceReport;
    type Error = PrevalenceError;

    fn fit_link(params: PrevalenceParams, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<PrevalenceParams> {
        params.fit_columns(columns, notices)
    }

    fn check(params: &PrevalenceParams) -> Result<(), PrevalenceError> {
        if params.label.column.is_empty() {
            return Err(PrevalenceError::NoLabelColumn);
        }
        if !(0.5..=0.9999).contains(&params.confidence) {
            return Err(PrevalenceError::Confidence(params.confidence));
        }
        if let Some(m) = params.target_margin.filter(|m| !(*m > 0.0 && *m <= 0.5)) {
            return Err(PrevalenceError::Margin(m));
        }
        if matches!(params.design, Design::Population(_)) && params.stratum.is_none() {
            return Err(PrevalenceError::NoStratum);
        }
        Ok(())
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &PrevalenceParams, progress: &mut impl Progress) -> Result<PrevalenceReport, PrevalenceError> {
        progress.step("read", "Reading labels and the design", 0.0).await?;
        let sample = Sample::read(table, rows, weights, params, progress).await?;
        progress.step("estimate", "Overall and per stratum", 0.3).await?;
        let z = normal_quantile(params.confidence);
        let ctx = Ctx { sample: &sample, params, z };
        let overall = ctx.estimates(|_| Some(0), 1, progress, 0.3).await?.pop().flatten().ok_or_else(|| PrevalenceError::NoLabels(params.label.column.clone()))?;
        let strata: Vec<StratumRow> = if params.stratum.is_some() {
            let total_weight: f64 = sample.units.iter().map(|u| u.w * u.u).sum();
            let mut weight = vec![0.0; sample.strata.len()];
            for u in &sample.units {
                if let Some(w) = weight.get_mut(u.h) {
                    *w += u.w * u.u;
                }
            }
            let estimates = ctx.estimates(|i| sample.units.get(i).map(|u| u.h), sample.strata.len(), progress, 0.35).await?;
            sample
                .strata
                .iter()
                .zip(estimates)
                .zip(weight)
                .filter_map(|((s, estimate), weight)| Some(StratumRow { name: s.name.clone(), population: s.population, weight_share: weight / total_weight, estimate: estimate? }))
                .collect()
        } else {
            Vec::new()
        };
        progress.step("periods", "Per period", 0.5).await?;
        let over_time = match &params.time {
            Some(name) => Some(ctx.over_time(table, name, progress).await?),
            None => None,
        };
        progress.step("breakdown", "Per value", 0.75).await?;
        let breakdown = match &params.by {
            Some(name) => Some(ctx.breakdown(table, name, progress).await?),
            None => None,
        };
        let plan = params.target_margin.map(|m| ctx.plan(&overall, m));
        let mut notes = sample.notes.clone();
        if sample.strata.iter().any(|s| s.n <= 1.0) && !sample.simple {
            notes.push("a stratum with a single labelled unit adds no variance (it cannot be estimated from one unit): label more in it".into());
        }
        Ok(PrevalenceReport {
            label: params.label.column.clone(),
            positive: sample.positive.clone(),
            classes: sample.classes.clone(),
            design: sample.describe(params),
            simple: sample.simple,
            confidence: params.confidence,
            interval: if sample.simple { params.interval.label().to_string() } else { "logit, Taylor-linearised".to_string() },
            degrees_of_freedom: (!sample.simple).then(|| sample.degrees_of_freedom()),
            overall,
            strata,
            over_time,
            breakdown,
            plan,
            unlabelled: sample.unlabelled,
            notes,
        })
    }
}

/// Sums of one domain's units within one stratum.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    /// Units (Σ w) and positive units (Σ w·y).
    n: f64,
    x: f64,
    /// Σ w·u·y, Σ w·u, Σ w·u²·y, Σ w·u².
    a: f64,
    b: f64,
    c: f64,
    e: f64,
}

impl Sums {
    fn add(&mut self, unit: &Unit) {
        let (w, u, y) = (unit.w, unit.u, unit.y);
        self.n += w;
        self.x += w * y;
        self.a += w * u * y;
        self.b += w * u;
        self.c += w * u * u * y;
        self.e += w * u * u;
    }

    fn plus(self, o: &Sums) -> Sums {
        Sums { n: self.n + o.n, x: self.x + o.x, a: self.a + o.a, b: self.b + o.b, c: self.c + o.c, e: self.e + o.e }
    }
}

/// One labelled row.
#[derive(Debug, Clone, Copy)]
struct Unit {
    row: u32,
    /// Its stratum.
    h: usize,
    /// Sampled units it stands for (the view's weight).
    w: f64,
    /// Each one's weight in the estimate (design weight × views).
    u: f64,
    y: f64,
}

#[derive(Debug, Clone)]
struct Stratum {
    name: String,
    /// Sampled units.
    n: f64,
    population: Option<f64>,
    /// Finite population correction's sampled share `n_h / N_h` (0 without a population).
    f: f64,
}

struct Sample {
    units: Vec<Unit>,
    strata: Vec<Stratum>,
    positive: Vec<String>,
    classes: Vec<(String, f64)>,
    simple: bool,
    unlabelled: f64,
    notes: Vec<String>,
}

fn column<'t>(table: &'t Table, name: &str) -> Result<&'t Column, PrevalenceError> {
    table.column(name).ok_or_else(|| PrevalenceError::UnknownColumn(name.to_string()))
}

fn numeric<'t>(table: &'t Table, name: &str, needs: &'static str) -> Result<&'t Column, PrevalenceError> {
    let c = column(table, name)?;
    match c.kind {
        ColumnType::Integer | ColumnType::Float => Ok(c),
        kind => Err(PrevalenceError::WrongType { column: name.to_string(), kind: kind.label().to_string(), needs: needs.to_string() }),
    }
}

fn text(column: &Column, row: u32) -> Option<String> {
    match column.value(row as usize) {
        Value::Missing => None,
        value => Some(value.display()),
    }
}

impl Sample {
    async fn read(table: &Table, rows: &[u32], weights: Weights<'_>, params: &PrevalenceParams, progress: &mut impl Progress) -> Result<Self, PrevalenceError> {
        let label = column(table, &params.label.column)?;
        if !matches!(label.kind, ColumnType::Category | ColumnType::Boolean | ColumnType::Integer) {
            return Err(PrevalenceError::WrongType { column: label.name.clone(), kind: label.kind.label().to_string(), needs: "choose a category or boolean label".into() });
        }
        let positive = params.label.positive_classes(table).unwrap_or_default();
        if positive.is_empty() {
            return Err(PrevalenceError::NoPositive(params.label.column.clone()));
        }
        let stratum = params.stratum.as_deref().map(|s| column(table, s)).transpose()?;
        let views = params.views.as_deref().map(|v| numeric(table, v, "views must be a number column")).transpose()?;
        let (population, probability) = match &params.design {
            Design::Simple => (None, None),
            Design::Population(c) => (Some(numeric(table, c, "population sizes must be a number column")?), None),
            Design::Probability(c) => (None, Some(numeric(table, c, "inclusion probabilities must be a number column")?)),
        };
        let mut notes = Vec::new();
        let mut units = Vec::with_capacity(rows.len());
        let mut strata: Vec<Stratum> = Vec::new();
        let mut index: FxHashMap<String, usize> = FxHashMap::default();
        let mut unlabelled = 0.0;
        let mut no_stratum = 0usize;
        let mut classes: FxHashMap<String, f64> = FxHashMap::default();
        let mut other_strata = false;
        for (k, &row) in rows.iter().enumerate() {
            if k % (1 << 18) == (1 << 18) - 1 {
                progress.step("read", "Reading labels and the design", 0.3 * k as f64 / rows.len() as f64).await?;
            }
            let w = weights.of(row);
            if w <= 0.0 {
                continue;
            }
            let Some(value) = text(label, row) else {
                unlabelled += w;
                continue;
            };
            let y = if positive.contains(&value) { 1.0 } else { 0.0 };
            *classes.entry(value).or_insert(0.0) += w;
            let name = match stratum {
                Some(s) => match text(s, row) {
                    Some(name) => name,
                    None => {
                        no_stratum += 1;
                        continue;
                    }
                },
                None => String::new(),
            };
            let h = match index.get(&name) {
                Some(&h) => h,
                None if strata.len() >= MAX_STRATA => {
                    other_strata = true;
                    continue;
                }
                None => {
                    index.insert(name.clone(), strata.len());
                    strata.push(Stratum { name, n: 0.0, population: None, f: 0.0 });
                    strata.len() - 1
                }
            };
            let mut d = 1.0;
            if let Some(p) = probability {
                let pi = p.numeric(row as usize);
                match pi {
                    Some(pi) if pi > 0.0 && pi <= 1.0 => d = 1.0 / pi,
                    _ => return Err(bad(row, p, "an inclusion probability", "it must be above 0 and at most 1")),
                }
            }
            if let (Some(p), Some(s)) = (population, strata.get_mut(h)) {
                match p.numeric(row as usize) {
                    Some(n) if n.is_finite() && n > 0.0 => match s.population {
                        None => s.population = Some(n),
                        Some(first) if first != n => return Err(PrevalenceError::PopulationVaries { stratum: s.name.clone(), first, other: n, row: row as usize + 1 }),
                        Some(_) => {}
                    },
                    _ => return Err(bad(row, p, "a population size", "it must be a positive number")),
                }
            }
            let v = match views {
                Some(c) => match c.numeric(row as usize) {
                    Some(v) if v.is_finite() && v >= 0.0 => v,
                    _ => return Err(bad(row, c, "a view count", "it must be a number, 0 or more")),
                },
                None => 1.0,
            };
            if let Some(s) = strata.get_mut(h) {
                s.n += w;
            }
            units.push(Unit { row, h, w, u: d * v, y });
        }
        if units.is_empty() {
            return Err(PrevalenceError::NoLabels(params.label.column.clone()));
        }
        for s in &mut strata {
            if let Some(population) = s.population {
                if population < s.n {
                    return Err(PrevalenceError::PopulationTooSmall { stratum: s.name.clone(), population, sample: s.n });
                }
                s.f = s.n / population;
            }
        }
        if population.is_some() {
            for unit in &mut units {
                if let Some(s) = strata.get(unit.h) {
                    unit.u *= s.population.unwrap_or(s.n) / s.n;
                }
            }
        }
        if no_stratum > 0 {
            notes.push(format!("{no_stratum} labelled rows without a stratum were left out"));
        }
        if other_strata {
            notes.push(format!("only the first {MAX_STRATA} strata were kept; rows of later ones were left out"));
        }
        if units.iter().all(|u| u.u == 0.0) {
            return Err(PrevalenceError::NoLabels(params.label.column.clone()));
        }
        let simple = matches!(params.design, Design::Simple) && views.is_none();
        let mut classes: Vec<(String, f64)> = classes.into_iter().collect();
        classes.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        classes.truncate(MAX_GROUPS);
        Ok(Self { units, strata, positive, classes, simple, unlabelled, notes })
    }

    fn labelled(&self) -> f64 {
        self.strata.iter().map(|s| s.n).sum()
    }

    /// `n − H`, at least 1.
    fn degrees_of_freedom(&self) -> f64 {
        (self.labelled() - self.strata.len() as f64).max(1.0)
    }

    fn describe(&self, params: &PrevalenceParams) -> String {
        let strata = match &params.stratum {
            Some(s) => format!(", {} strata of “{s}”", self.strata.len()),
            None => String::new(),
        };
        let design = match &params.design {
            Design::Simple if params.stratum.is_some() => "simple random sample (strata as domains)".to_string(),
            Design::Simple => "simple random sample".to_string(),
            Design::Population(c) => format!("stratified sample, population sizes from “{c}”"),
            Design::Probability(c) => format!("unequal-probability sample (Horvitz–Thompson weights 1/“{c}”)"),
        };
        let views = params.views.as_ref().map(|v| format!(", weighted by views in “{v}”")).unwrap_or_default();
        format!("{design}{strata}{views}")
    }
}

fn bad(row: u32, column: &Column, what: &str, needs: &'static str) -> PrevalenceError {
    let value = match column.value(row as usize) {
        Value::Missing => "missing".to_string(),
        v => format!("“{}”", v.display()),
    };
    PrevalenceError::BadValue { row: row as usize + 1, what: format!("{what} in “{}”", column.name), value, needs: needs.to_string() }
}

struct Ctx<'a> {
    sample: &'a Sample,
    params: &'a PrevalenceParams,
    z: f64,
}

impl Ctx<'_> {
    /// The estimate of every domain (`domain_of(i)`: unit `i`'s, if any, below `domains`), from
    /// one pass over the units; `None` for a domain without weight.
    async fn estimates(&self, domain_of: impl Fn(usize) -> Option<usize>, domains: usize, progress: &mut impl Progress, fraction: f64) -> Result<Vec<Option<Estimate>>, PrevalenceError> {
        let strata = self.sample.strata.len();
        let mut sums = vec![Sums::default(); domains * strata];
        for (i, unit) in self.sample.units.iter().enumerate() {
            if let Some(s) = domain_of(i).filter(|d| *d < domains).and_then(|d| sums.get_mut(d * strata + unit.h)) {
                s.add(unit);
            }
        }
        let mut out = Vec::with_capacity(domains);
        for (d, per_stratum) in sums.chunks(strata.max(1)).enumerate() {
            if d % 64 == 63 {
                progress.step("estimate", "Intervals", fraction).await?;
            }
            out.push(self.estimate(per_stratum));
        }
        Ok(out)
    }

    /// The estimate of a domain from its sums in each stratum.
    fn estimate(&self, per_stratum: &[Sums]) -> Option<Estimate> {
        let total = per_stratum.iter().fold(Sums::default(), |t, s| t.plus(s));
        let (weight, labelled, positives) = (total.b, total.n, total.x);
        if weight <= 0.0 || labelled <= 0.0 {
            return None;
        }
        let p = total.a / weight;
        if self.sample.simple {
            let binomial = binomial_intervals(positives, labelled, self.params.confidence);
            let (low, high) = match self.params.interval {
                Interval::Wilson => binomial.wilson,
                Interval::ClopperPearson => binomial.clopper_pearson,
                Interval::Jeffreys => binomial.jeffreys,
            };
            return Some(Estimate { labelled, positives, estimate: p, se: (p * (1.0 - p) / labelled).sqrt(), low, high, deff: None, binomial: Some(binomial) });
        }
        // Taylor linearisation of the ratio: z = u (y − p) / Σu inside the domain, 0 outside;
        // within stratum h, Σ w (z − z̄_h)² = Σ w z² − (Σ w z)² / n_h, and for y ∈ {0, 1}
        // Σ w u² (y − p)² = (1 − 2p) Σ w u² y + p² Σ w u².
        let variance: f64 = per_stratum
            .iter()
            .zip(&self.sample.strata)
            .filter(|(_, st)| st.n > 1.0)
            .map(|(s, st)| {
                let sum_z = (s.a - p * s.b) / weight;
                let sum_z2 = ((1.0 - 2.0 * p) * s.c + p * p * s.e) / (weight * weight);
                (1.0 - st.f) * st.n / (st.n - 1.0) * (sum_z2 - sum_z * sum_z / st.n).max(0.0)
            })
            .sum();
        let se = variance.sqrt();
        let (low, high) = if p > 0.0 && p < 1.0 {
            let t = t_quantile(self.params.confidence, self.sample.degrees_of_freedom());
            let logit = (p / (1.0 - p)).ln();
            let half = t * se / (p * (1.0 - p));
            (expit(logit - half), expit(logit + half))
        } else {
            // No spread to linearise: the exact binomial bound on the labelled units.
            let cp = clopper_pearson(positives, labelled, self.params.confidence);
            if p <= 0.0 { (0.0, cp.1) } else { (cp.0, 1.0) }
        };
        let deff = (p > 0.0 && p < 1.0).then(|| variance / (p * (1.0 - p) / labelled));
        Some(Estimate { labelled, positives, estimate: p, se, low, high, deff, binomial: None })
    }

    async fn over_time(&self, table: &Table, name: &str, progress: &mut impl Progress) -> Result<OverTime, PrevalenceError> {
        let time = column(table, name)?;
        if time.kind != ColumnType::Timestamp {
            return Err(PrevalenceError::WrongType { column: name.to_string(), kind: time.kind.label().to_string(), needs: "choose a timestamp column for the estimate over time".into() });
        }
        let stamp = |u: &Unit| match time.value(u.row as usize) {
            Value::Timestamp(ms) => Some(ms),
            _ => None,
        };
        let mut stamps: Vec<Option<i64>> = self.sample.units.iter().map(stamp).collect();
        // A few labels far outside the rest (a mistyped year) are left out, as Trends does.
        let mut sorted: Vec<(i64, f64)> = self.sample.units.iter().zip(&stamps).filter_map(|(u, t)| Some(((*t)?, u.w))).collect();
        sorted.sort_unstable_by_key(|&(t, _)| t);
        let (lo, hi) = bulk_range(&sorted);
        let (Some(&(min, _)), Some(&(max, _))) = (sorted.get(lo), hi.checked_sub(1).and_then(|h| sorted.get(h))) else {
            return Ok(OverTime { column: name.to_string(), bucket_ms: crate::data::time::DAY_MS, periods: Vec::new(), left_out: 0.0 });
        };
        let mut left_out = 0.0;
        for (t, u) in stamps.iter_mut().zip(&self.sample.units) {
            if t.is_some_and(|t| t < min || t > max) {
                *t = None;
                left_out += u.w;
            }
        }
        let buckets = Buckets::day_or_week(min, max);
        if buckets.count > MAX_PERIODS {
            return Err(PrevalenceError::TooManyPeriods { column: name.to_string(), periods: buckets.count });
        }
        let of: Vec<Option<usize>> = stamps.iter().map(|t| buckets.index((*t)?)).collect();
        let estimates = self.estimates(|i| of.get(i).copied().flatten(), buckets.count, progress, 0.5).await?;
        let periods = estimates
            .into_iter()
            .enumerate()
            .filter_map(|(idx, estimate)| Some(PeriodRow { start_ms: buckets.start_ms + idx as i64 * buckets.bucket_ms, estimate: estimate? }))
            .collect();
        Ok(OverTime { column: name.to_string(), bucket_ms: buckets.bucket_ms, periods, left_out })
    }

    async fn breakdown(&self, table: &Table, name: &str, progress: &mut impl Progress) -> Result<Breakdown, PrevalenceError> {
        let by = column(table, name)?;
        let mut ids: FxHashMap<String, usize> = FxHashMap::default();
        let mut counts: Vec<(String, f64)> = Vec::new();
        let group: Vec<usize> = self
            .sample
            .units
            .iter()
            .map(|u| {
                let value = text(by, u.row).unwrap_or_else(|| "(missing)".to_string());
                let next = ids.len();
                let id = *ids.entry(value.clone()).or_insert(next);
                if id == counts.len() {
                    counts.push((value, 0.0));
                }
                if let Some(c) = counts.get_mut(id) {
                    c.1 += u.w;
                }
                id
            })
            .collect();
        let mut order: Vec<usize> = (0..counts.len()).collect();
        order.sort_by(|&a, &b| counts[b].1.total_cmp(&counts[a].1).then_with(|| counts[a].0.cmp(&counts[b].0)));
        let more = order.len().saturating_sub(MAX_GROUPS);
        order.truncate(MAX_GROUPS);
        // Group id → its place among those shown.
        let mut shown = vec![None; counts.len()];
        for (k, &g) in order.iter().enumerate() {
            if let Some(slot) = shown.get_mut(g) {
                *slot = Some(k);
            }
        }
        let estimates = self.estimates(|i| group.get(i).and_then(|&g| shown.get(g).copied().flatten()), order.len(), progress, 0.75).await?;
        let groups = order.iter().zip(estimates).filter_map(|(&g, estimate)| Some(GroupRow { value: counts.get(g)?.0.clone(), estimate: estimate? })).collect();
        Ok(Breakdown { column: name.to_string(), groups, more })
    }

    /// Labels needed for a margin of `m` at the normal quantile of the confidence. The
    /// planning proportion of a stratum is `(x + ½)/(n + 1)`, so that a stratum with no
    /// positive yet still asks for labels.
    fn plan(&self, overall: &Estimate, m: f64) -> LabelPlan {
        let z = self.z;
        let target_variance = (m / z).powi(2);
        let planning = |x: f64, n: f64| {
            let p = (x + 0.5) / (n + 1.0);
            p * (1.0 - p)
        };
        let strata = &self.sample.strata;
        let stratified = matches!(self.params.design, Design::Population(_)) && self.params.views.is_none();
        if stratified {
            let total: f64 = strata.iter().map(|s| s.population.unwrap_or(0.0)).sum();
            let spread: Vec<(f64, f64)> = strata
                .iter()
                .enumerate()
                .map(|(h, s)| {
                    let x: f64 = self.sample.units.iter().filter(|u| u.h == h).map(|u| u.w * u.y).sum();
                    (s.population.unwrap_or(0.0) / total, planning(x, s.n).sqrt())
                })
                .collect();
            let sum_ws: f64 = spread.iter().map(|(w, s)| w * s).sum();
            let sum_ws2: f64 = spread.iter().map(|(w, s)| w * s * s).sum();
            let needed = sum_ws * sum_ws / (target_variance + sum_ws2 / total);
            let rows: Vec<StratumPlan> = strata
                .iter()
                .zip(&spread)
                .map(|(s, (w, sd))| {
                    let share = if sum_ws > 0.0 { w * sd / sum_ws } else { 0.0 };
                    let allocated = (needed * share).min(s.population.unwrap_or(f64::INFINITY)).ceil();
                    StratumPlan { name: s.name.clone(), labelled: s.n, allocated, more: (allocated - s.n).max(0.0) }
                })
                .collect();
            let more = rows.iter().map(|r| r.more).sum();
            return LabelPlan {
                target_margin: m,
                needed: rows.iter().map(|r| r.allocated.max(r.labelled)).sum(),
                more,
                strata: rows,
                method: format!(
                    "Neyman allocation: labels in each stratum in proportion to its population share × its standard deviation √(p(1 − p)), for a variance of (margin / {z:.2})² with the finite population correction; strata already past their allocation keep their labels"
                ),
            };
        }
        let deff = overall.deff.unwrap_or(1.0).max(1e-9);
        let needed = (deff * z * z * planning(overall.positives, overall.labelled) / (m * m)).ceil();
        let method = if self.sample.simple {
            format!("n = {z:.2}² · p(1 − p) / margin², with p from the labels so far")
        } else {
            format!("n = design effect ({deff:.2}) × {z:.2}² · p(1 − p) / margin², the labels drawn as they were so far")
        };
        LabelPlan { target_margin: m, needed, more: (needed - overall.labelled).max(0.0), strata: Vec::new(), method }
    }
}

fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The two-sided normal quantile of a confidence level (1.96 at 95 %).
pub fn normal_quantile(confidence: f64) -> f64 {
    Normal::standard().inverse_cdf(1.0 - (1.0 - confidence) / 2.0)
}

fn t_quantile(confidence: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) => t.inverse_cdf(1.0 - (1.0 - confidence) / 2.0),
        Err(_) => normal_quantile(confidence),
    }
}

/// The `q` quantile of Beta(a, b): bisection on the regularised incomplete beta function to
/// the last bit (statrs' own inverse stops short of the 1e-9 the reference checks need).
pub fn beta_quantile(q: f64, a: f64, b: f64) -> f64 {
    use statrs::function::beta::beta_reg;
    if q <= 0.0 {
        return 0.0;
    }
    if q >= 1.0 {
        return 1.0;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi || hi - lo <= 4.0 * f64::EPSILON * mid {
            break;
        }
        if beta_reg(a, b, mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Clopper–Pearson ("exact") bounds for `x` positives of `n`, as statsmodels' `method="beta"`.
pub fn clopper_pearson(x: f64, n: f64, confidence: f64) -> Bounds {
    let alpha = (1.0 - confidence) / 2.0;
    let low = if x <= 0.0 { 0.0 } else { beta_quantile(alpha, x, n - x + 1.0) };
    let high = if x >= n { 1.0 } else { beta_quantile(1.0 - alpha, x + 1.0, n - x) };
    (low, high)
}

/// The Wilson score interval for `x` positives of `n`, as statsmodels' `method="wilson"`.
pub fn wilson(x: f64, n: f64, confidence: f64) -> Bounds {
    let z = normal_quantile(confidence);
    let p = x / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let dist = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    ((center - dist).clamp(0.0, 1.0), (center + dist).clamp(0.0, 1.0))
}

/// Wilson, Clopper–Pearson and Jeffreys intervals for `x` positives of `n`, as statsmodels'
/// `proportion_confint`.
pub fn binomial_intervals(x: f64, n: f64, confidence: f64) -> BinomialIntervals {
    let alpha = (1.0 - confidence) / 2.0;
    let wilson = wilson(x, n, confidence);
    let jeffreys = (beta_quantile(alpha, x + 0.5, n - x + 0.5), beta_quantile(1.0 - alpha, x + 0.5, n - x + 0.5));
    BinomialIntervals { wilson, clopper_pearson: clopper_pearson(x, n, confidence), jeffreys }
}

impl FitColumns for PrevalenceParams {
    /// Dropped whole when the label column is gone; another missing column is dropped alone
    /// (a design whose column is gone becomes a simple sample).
    fn fit_columns(mut self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        if !has_column(columns, &self.label.column) {
            notices.push(missing_column("prevalence settings", &self.label.column));
            return None;
        }
        for (slot, what) in [(&mut self.stratum, "prevalence stratum"), (&mut self.views, "prevalence views"), (&mut self.time, "prevalence time column"), (&mut self.by, "prevalence breakdown")] {
            if let Some(column) = slot.take_if(|c| !has_column(columns, c)) {
                notices.push(missing_column(what, &column));
            }
        }
        let design_column = match &self.design {
            Design::Simple => None,
            Design::Population(c) | Design::Probability(c) => Some(c.clone()),
        };
        if let Some(c) = design_column.filter(|c| !has_column(columns, c) || self.stratum.is_none() && matches!(self.design, Design::Population(_))) {
            notices.push(missing_column("sampling design (read as a simple sample)", &c));
            self.design = Design::Simple;
        }
        self.confidence = self.confidence.clamp(0.5, 0.9999);
        self.target_margin = self.target_margin.filter(|m| *m > 0.0 && *m <= 0.5);
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;
    use crate::analysis::contract::{run_now, run_weighted};
    use crate::data::load::{load_bytes, LoadOptions};

    fn table(csv: &str) -> Table {
        load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
    }

    fn all(t: &Table) -> Vec<u32> {
        (0..t.n_rows as u32).collect()
    }

    fn spec(positive: &str) -> LabelSpec {
        LabelSpec { column: "label".into(), positive: vec![positive.into()] }
    }

    #[test]
    fn intervals_match_known_values() {
        // statsmodels.stats.proportion.proportion_confint(7, 50, method=…), alpha 0.05.
        let i = binomial_intervals(7.0, 50.0, 0.95);
        let close = |a: Bounds, b: Bounds| (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9;
        assert!(close(i.wilson, (0.06950833427016288, 0.26186193710585537)), "{:?}", i.wilson);
        assert!(close(i.clopper_pearson, (0.05819170034037209, 0.2673960024970084)), "{:?}", i.clopper_pearson);
        assert!(close(i.jeffreys, (0.0648717011505185, 0.25532502815639163)), "{:?}", i.jeffreys);
        // No positives: the exact interval starts at 0.
        let zero = binomial_intervals(0.0, 20.0, 0.95);
        assert_eq!(zero.clopper_pearson.0, 0.0);
        assert!((zero.clopper_pearson.1 - 0.16843347098308536).abs() < 1e-9);
    }

    #[test]
    fn a_simple_sample_and_its_aggregation_agree() {
        let raw = table("label,band\nbad,a\nok,a\nok,a\nok,b\nbad,b\nok,b\nok,b\n");
        let params = PrevalenceParams::of(spec("bad"));
        let report = run_now::<Prevalence>(&raw, &all(&raw), &params).unwrap();
        assert!(report.simple);
        assert!((report.overall.estimate - 2.0 / 7.0).abs() < 1e-12);
        let cube = table("label,band,n\nbad,a,1\nok,a,2\nok,b,3\nbad,b,1\n");
        let n: Vec<f64> = vec![1.0, 2.0, 3.0, 1.0];
        let weighted = run_weighted::<Prevalence>(&cube, &all(&cube), Weights::per_row("n", &n), &params).unwrap();
        assert_eq!(weighted.overall, report.overall);
        // A stratified design, too.
        let stratified = PrevalenceParams { stratum: Some("band".into()), ..params };
        let a = run_now::<Prevalence>(&raw, &all(&raw), &stratified).unwrap();
        let b = run_weighted::<Prevalence>(&cube, &all(&cube), Weights::per_row("n", &n), &stratified).unwrap();
        assert_eq!(a.strata, b.strata);
    }

    #[test]
    fn a_stratified_sample_weights_strata_by_population() {
        // Band a: 1 of 4 positive, population 1000; band b: 3 of 4, population 100.
        let t = table("label,band,N\nbad,a,1000\nok,a,1000\nok,a,1000\nok,a,1000\nbad,b,100\nbad,b,100\nbad,b,100\nok,b,100\n");
        let params = PrevalenceParams { stratum: Some("band".into()), design: Design::Population("N".into()), target_margin: Some(0.05), ..PrevalenceParams::of(spec("bad")) };
        let report = run_now::<Prevalence>(&t, &all(&t), &params).unwrap();
        assert!(!report.simple);
        let expected = (1000.0 * 0.25 + 100.0 * 0.75) / 1100.0;
        assert!((report.overall.estimate - expected).abs() < 1e-12);
        assert!(report.overall.low < expected && expected < report.overall.high);
        assert_eq!(report.strata.len(), 2);
        assert_eq!(report.degrees_of_freedom, Some(6.0));
        let plan = report.plan.unwrap();
        assert_eq!(plan.strata.len(), 2);
        // Neyman: the big stratum gets most of the labels.
        assert!(plan.strata[0].allocated > plan.strata[1].allocated, "{plan:?}");
    }

    #[test]
    fn bad_designs_are_typed_errors_with_the_row() {
        let t = table("label,band,N,p\nbad,a,10,0.5\nok,a,12,0\n");
        let population = PrevalenceParams { stratum: Some("band".into()), design: Design::Population("N".into()), ..PrevalenceParams::of(spec("bad")) };
        assert!(matches!(run_now::<Prevalence>(&t, &all(&t), &population), Err(PrevalenceError::PopulationVaries { row: 2, .. })));
        let probability = PrevalenceParams { design: Design::Probability("p".into()), ..PrevalenceParams::of(spec("bad")) };
        assert!(matches!(run_now::<Prevalence>(&t, &all(&t), &probability), Err(PrevalenceError::BadValue { row: 2, .. })));
        let no_stratum = PrevalenceParams { design: Design::Population("N".into()), ..PrevalenceParams::of(spec("bad")) };
        assert_eq!(run_now::<Prevalence>(&t, &all(&t), &no_stratum), Err(PrevalenceError::NoStratum));
        assert_eq!(run_now::<Prevalence>(&t, &[], &PrevalenceParams::of(spec("bad"))), Err(PrevalenceError::NoLabels("label".into())));
        let words = PrevalenceParams { views: Some("band".into()), ..PrevalenceParams::of(spec("bad")) };
        assert!(matches!(run_now::<Prevalence>(&t, &all(&t), &words), Err(PrevalenceError::WrongType { .. })));
    }

    #[test]
    fn a_simple_samples_plan_is_statsmodels_sample_size() {
        // 40 positives of 400, ±2 points at 95 %: statsmodels'
        // samplesize_confint_proportion(40.5 / 401, 0.02, alpha=0.05) = 871.98 → 872 labels.
        let mut csv = String::from("label\n");
        for i in 0..400 {
            csv.push_str(if i % 10 == 0 { "bad\n" } else { "ok\n" });
        }
        let t = table(&csv);
        let params = PrevalenceParams { target_margin: Some(0.02), ..PrevalenceParams::of(spec("bad")) };
        let plan = run_now::<Prevalence>(&t, &all(&t), &params).unwrap().plan.unwrap();
        assert_eq!((plan.needed, plan.more), (872.0, 472.0), "{plan:?}");
    }

    #[test]
    fn one_row_and_no_positives_do_not_break() {
        let t = table("label,band,N\nok,a,5\n");
        let params = PrevalenceParams { stratum: Some("band".into()), design: Design::Population("N".into()), target_margin: Some(0.1), ..PrevalenceParams::of(spec("bad")) };
        let report = run_now::<Prevalence>(&t, &all(&t), &params).unwrap();
        assert_eq!(report.overall.estimate, 0.0);
        assert!(report.overall.high > 0.0 && report.overall.high < 1.0);
        assert!(report.notes.iter().any(|n| n.contains("single labelled unit")));
        assert!(report.plan.unwrap().more > 0.0);
    }
}
