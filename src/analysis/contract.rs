//! The analysis contract: every analysis is checked parameters in, a typed report out, run over
//! a table and a row selection while it reports progress and stops when asked.
//!
//! ```text
//! Params (serde) ──check──▶ run(table, rows, params, progress) ──▶ Report (serde) | Error (serde)
//!                                         │  step(phase, detail, fraction).await
//!                                         ▼
//!                               Progress: report, yield, say stop
//! ```
//!
//! One implementation serves the browser's worker, which awaits each step to let its event
//! loop run (a Cancel or a newer table gets through) and posts the progress, and native callers
//! (tests, the command line), whose progress never stops and never waits ([`run_now`]). The
//! registry ([`super::registry`]) lists every analysis once.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::data::table::{ColumnType, Table};

/// The answer of a [`Progress`] that the analysis should stop (cancelled, or its table was
/// replaced). Every analysis error converts from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// Where an analysis reports how far it is, and learns whether to go on.
pub trait Progress {
    /// The analysis is in `phase` (a short fixed name: "fit", "assign"), doing `detail` (for the
    /// reader: "k-means run 2 of 4"; empty when the phase says it all), with `fraction` of the
    /// whole done. Resolves to `Err(Stopped)` when the analysis should stop.
    fn step(&mut self, phase: &'static str, detail: &str, fraction: f64) -> impl Future<Output = Result<(), Stopped>>;
}

/// Progress nobody watches: never waits, never stops (native runs, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct Unobserved;

impl Progress for Unobserved {
    fn step(&mut self, _phase: &'static str, _detail: &str, _fraction: f64) -> impl Future<Output = Result<(), Stopped>> {
        std::future::ready(Ok(()))
    }
}

/// How many events each row of a table stands for: one each (raw events), or a weight per
/// table row (a cube's count, a sample's 1/p) read from the view's weight column by
/// [`crate::data::weights::weight_column`], which checks it (finite, not negative).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Weights<'a>(Option<Weighted<'a>>);

#[derive(Debug, Clone, Copy, PartialEq)]
struct Weighted<'a> {
    column: &'a str,
    values: &'a [f64],
    /// Columns that are aggregates of the events (a cube's measures), not their attributes.
    measures: &'a [String],
}

impl<'a> Weights<'a> {
    /// Every row is one event.
    pub const ONE: Weights<'static> = Weights(None);

    /// A weight per table row, read from `column` (which is then no dimension of the data).
    pub fn per_row(column: &'a str, values: &'a [f64]) -> Self {
        Self(Some(Weighted { column, values, measures: &[] }))
    }

    /// The same weights, with columns that aggregate the events rather than describe them (a
    /// cube's measures): analyses do not group by them unless asked to.
    pub fn with_measures(self, measures: &'a [String]) -> Self {
        Self(self.0.map(|w| Weighted { measures, ..w }))
    }

    /// The weight of table row `row` (0 past the end: such a row is not in the table).
    pub fn of(self, row: u32) -> f64 {
        match self.0 {
            None => 1.0,
            Some(w) => w.values.get(row as usize).copied().unwrap_or(0.0),
        }
    }

    /// The weight column, if rows are weighted.
    pub fn column(self) -> Option<&'a str> {
        self.0.map(|w| w.column)
    }

    /// Whether `column` describes the events (it is neither the weight nor a measure).
    pub fn describes_events(self, column: &str) -> bool {
        self.0.is_none_or(|w| w.column != column && !w.measures.iter().any(|m| m == column))
    }

    /// Whether rows carry weights (an analysis that cannot use them says so).
    pub fn is_weighted(self) -> bool {
        self.0.is_some()
    }
}

/// An analysis: checked parameters → a typed report (or a typed error), with progress.
///
/// `run` may assume `check` passed. Implementations step at least at the start of each phase
/// and every few hundred thousand rows of a scan, so a Cancel is seen within a fraction of a
/// second.
pub trait Analysis {
    /// Its name in links, reports and on the command line ("trend").
    const NAME: &'static str;
    /// What it is called on screen ("Trend").
    const TITLE: &'static str;
    /// Whether it counts each row as its weight (see [`Weights`]). One that does not counts
    /// every row once, and the page and the command line say so when a weight column is set.
    const WEIGHTED: bool;
    /// Whether the view's link carries its parameters as they are, under its [`NAME`](Self::NAME)
    /// (what the command line then runs, through [`super::registry::from_view`]). The older
    /// analyses say no: their tabs store settings of their own, read in `cli/plan.rs`.
    const IN_LINK: bool = false;
    type Params: Debug + Clone + PartialEq + Serialize + DeserializeOwned;
    type Report: Debug + Clone + PartialEq + Serialize + DeserializeOwned;
    type Error: std::error::Error + Debug + Clone + PartialEq + Serialize + DeserializeOwned + From<Stopped>;

    /// Parameters read from a link, fitted to the table's columns (what does not fit is a
    /// notice; `None` when nothing usable is left). Analyses in the link implement it with
    /// their [`FitColumns`].
    fn fit_link(params: Self::Params, _columns: &[(String, ColumnType)], _notices: &mut Vec<String>) -> Option<Self::Params> {
        Some(params)
    }

    /// Checks the parameters before any work (ranges, choices that must be made).
    fn check(params: &Self::Params) -> Result<(), Self::Error>;

    /// Runs over `rows` (indices into `table`, the rows passing the view's filter), each
    /// standing for its weight in `weights`.
    fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &Self::Params, progress: &mut impl Progress) -> impl Future<Output = Result<Self::Report, Self::Error>>;
}

/// Runs an analysis to the end on this thread: checks, then runs with progress unobserved.
pub fn run_now<A: Analysis>(table: &Table, rows: &[u32], params: &A::Params) -> Result<A::Report, A::Error> {
    run_weighted::<A>(table, rows, Weights::ONE, params)
}

/// [`run_now`] with weighted rows.
pub fn run_weighted<A: Analysis>(table: &Table, rows: &[u32], weights: Weights<'_>, params: &A::Params) -> Result<A::Report, A::Error> {
    A::check(params)?;
    complete(A::run(table, rows, weights, params, &mut Unobserved)).unwrap_or_else(|| Err(Stopped.into()))
}

/// Polls a future that never waits (every step of [`Unobserved`] is ready) to its end.
pub fn complete<F: Future>(future: F) -> Option<F::Output> {
    let future = std::pin::pin!(future);
    match future.poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(output) => Some(output),
        std::task::Poll::Pending => None,
    }
}

/// Data an analysis keeps beside its report for follow-up questions inside the process that ran
/// it (the cluster map's points, for hover and selection). It is left out when the report is
/// serialised, so a report that crossed to the page carries none.
pub struct Kept<T>(Option<Arc<T>>);

impl<T> Clone for Kept<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Kept<T> {
    pub fn new(value: T) -> Self {
        Self(Some(Arc::new(value)))
    }

    pub fn get(&self) -> Option<&T> {
        self.0.as_deref()
    }
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<T> Debug for Kept<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Kept(..)" } else { "Kept(none)" })
    }
}

/// Two reports are equal whatever they keep: only what crosses to the page is compared.
impl<T> PartialEq for Kept<T> {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

/// The groups an analysis put rows in (rings, copy-paste groups), numbered as its report ranks
/// them (1 first), listed or not: `(row, group)` for each analysed row in a group. Kept beside the
/// report so the worker can add them to the table as a column (see [`super::groups`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowGroups {
    pub rows: Vec<(u32, u32)>,
    /// How many groups there are (the highest number).
    pub groups: usize,
}

/// Settings a link stores, fitted to the table they are applied to: what names a column the
/// table lacks is dropped (and said, in `notices`), values are brought into range. `None` when
/// nothing usable is left.
pub trait FitColumns: Sized {
    fn fit_columns(self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self>;
}

/// Whether `columns` has a column `name`.
pub fn has_column(columns: &[(String, ColumnType)], name: &str) -> bool {
    columns.iter().any(|(n, _)| n == name)
}

/// Whether `columns` has a timestamp column `name`.
pub fn has_time_column(columns: &[(String, ColumnType)], name: &str) -> bool {
    columns.iter().any(|(n, k)| n == name && *k == ColumnType::Timestamp)
}

/// The notice for a setting dropped because the data lacks its column.
pub fn missing_column(what: &str, column: &str) -> String {
    format!("ignored the {what}: the data has no column “{}”", shorten(column))
}

/// At most 40 characters of `text` for a notice, with an ellipsis when cut.
pub fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stops at the `stop_at`-th step, recording the steps.
    struct StopAt {
        stop_at: usize,
        seen: Vec<(&'static str, f64)>,
    }

    impl Progress for StopAt {
        fn step(&mut self, phase: &'static str, _detail: &str, fraction: f64) -> impl Future<Output = Result<(), Stopped>> {
            self.seen.push((phase, fraction));
            std::future::ready(if self.seen.len() > self.stop_at { Err(Stopped) } else { Ok(()) })
        }
    }

    async fn three_steps(progress: &mut impl Progress) -> Result<u32, Stopped> {
        progress.step("one", "", 0.0).await?;
        progress.step("two", "", 0.5).await?;
        progress.step("three", "", 0.9).await?;
        Ok(3)
    }

    #[test]
    fn a_progress_that_says_stop_stops_the_analysis() {
        assert_eq!(complete(three_steps(&mut Unobserved)), Some(Ok(3)));
        for stop_at in 0..3 {
            let mut progress = StopAt { stop_at, seen: Vec::new() };
            assert_eq!(complete(three_steps(&mut progress)), Some(Err(Stopped)));
            assert_eq!(progress.seen.len(), stop_at + 1);
        }
    }
}
