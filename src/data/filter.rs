//! The global filter: an AND of clauses on columns, evaluated to a row selection.
//!
//! Every view (grid, profile, trends, …) reads the table through the selection, so a filter is
//! evaluated once per change, in the worker. Clauses name columns by name (that is what a
//! shared link carries); a clause that does not fit the table (unknown column, a range on a
//! text column) is an error naming the clause, never a panic.

use serde::{Deserialize, Serialize};

use super::table::{Column, ColumnData, ColumnType, Strings, Table, Value, MISSING_CODE};

/// One condition on one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Clause {
    /// The cell's displayed value is (or, with `negate`, is not) one of `values`.
    /// Missing cells never match `in` and always match `not in`.
    InSet { column: String, values: Vec<String>, negate: bool },
    /// Numeric value in `[min, max]` (either bound optional). Missing never matches.
    Range { column: String, min: Option<f64>, max: Option<f64> },
    /// Timestamp in `[start_ms, end_ms)` (either bound optional). Missing never matches.
    TimeRange { column: String, start_ms: Option<i64>, end_ms: Option<i64> },
    /// Displayed text contains `text`, ignoring case. Missing never matches.
    Contains { column: String, text: String },
    /// The cell is missing (`missing: true`) or present (`false`).
    Missing { column: String, missing: bool },
    /// Rows a rule flags (`negate`: rows it does not flag, unknown included), in the rule
    /// language of [`super::expr`].
    Rule { name: String, text: String, negate: bool },
}

impl Clause {
    pub fn column(&self) -> &str {
        match self {
            Clause::InSet { column, .. }
            | Clause::Range { column, .. }
            | Clause::TimeRange { column, .. }
            | Clause::Contains { column, .. }
            | Clause::Missing { column, .. } => column,
            // A rule names its columns in its text; the filter checks them when compiling it.
            Clause::Rule { .. } => "",
        }
    }

    /// Short text for a filter chip: `country in {BR, US}`.
    pub fn describe(&self) -> String {
        let fmt_num = |v: f64| super::table::format_float(v);
        match self {
            Clause::InSet { column, values, negate } => {
                let shown: Vec<&str> = values.iter().take(4).map(String::as_str).collect();
                let more = if values.len() > 4 { format!(", +{}", values.len() - 4) } else { String::new() };
                let op = if *negate { "not in" } else { "in" };
                format!("{column} {op} {{{}{more}}}", shown.join(", "))
            }
            Clause::Range { column, min, max } => match (min, max) {
                (Some(lo), Some(hi)) if lo == hi => format!("{column} = {}", fmt_num(*lo)),
                (Some(lo), Some(hi)) => format!("{} ≤ {column} ≤ {}", fmt_num(*lo), fmt_num(*hi)),
                (Some(lo), None) => format!("{column} ≥ {}", fmt_num(*lo)),
                (None, Some(hi)) => format!("{column} ≤ {}", fmt_num(*hi)),
                (None, None) => format!("{column} any value"),
            },
            Clause::TimeRange { column, start_ms, end_ms } => {
                let show = |ms: i64| super::time::format_display_ms(ms);
                match (start_ms, end_ms) {
                    (Some(a), Some(b)) => format!("{column} from {} to {}", show(*a), show(*b)),
                    (Some(a), None) => format!("{column} from {}", show(*a)),
                    (None, Some(b)) => format!("{column} before {}", show(*b)),
                    (None, None) => format!("{column} any time"),
                }
            }
            Clause::Contains { column, text } => format!("{column} contains “{text}”"),
            Clause::Missing { column, missing: true } => format!("{column} is missing"),
            Clause::Missing { column, missing: false } => format!("{column} is present"),
            Clause::Rule { name, negate: false, .. } => format!("rule “{name}” flags"),
            Clause::Rule { name, negate: true, .. } => format!("rule “{name}” does not flag"),
        }
    }
}

/// An AND of clauses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub clauses: Vec<Clause>,
}

impl Filter {
    /// No clause: every row passes.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("filter on {column:?}: there is no such column")]
    UnknownColumn { column: String },
    #[error("filter on {column:?}: a {op} filter does not apply to a {kind} column")]
    WrongType { column: String, op: String, kind: String },
    #[error("filter on {column:?}: the lower bound is above the upper bound")]
    EmptyRange { column: String },
    #[error("rule “{name}”: {message}")]
    Rule { name: String, message: String },
}

/// The rows that pass a filter, in table order.
pub type Selection = Vec<u32>;

/// Checks a clause against the table before any row is scanned.
fn check_clause<'t>(table: &'t Table, clause: &Clause) -> Result<&'t Column, FilterError> {
    let name = clause.column();
    let column = table.column(name).ok_or_else(|| FilterError::UnknownColumn { column: name.to_string() })?;
    let wrong = |op| FilterError::WrongType { column: name.to_string(), op, kind: column.kind.label().to_string() };
    match clause {
        Clause::Range { min: Some(lo), max: Some(hi), .. } if lo > hi => {
            return Err(FilterError::EmptyRange { column: name.to_string() })
        }
        Clause::TimeRange { start_ms: Some(a), end_ms: Some(b), .. } if a > b => {
            return Err(FilterError::EmptyRange { column: name.to_string() })
        }
        Clause::Range { .. }
            if !matches!(column.data, ColumnData::Int { .. } | ColumnData::Float { .. } | ColumnData::Bool { .. }) =>
        {
            return Err(wrong("numeric range".to_string()))
        }
        Clause::TimeRange { .. } if column.kind != ColumnType::Timestamp => return Err(wrong("time range".to_string())),
        _ => {}
    }
    Ok(column)
}

/// Evaluates `filter` to the selected rows (all rows for an empty filter).
pub fn evaluate_filter(table: &Table, filter: &Filter) -> Result<Selection, FilterError> {
    let mut predicates: Vec<Box<dyn Fn(usize) -> bool + '_>> = Vec::with_capacity(filter.clauses.len());
    for clause in &filter.clauses {
        if let Clause::Rule { name, text, negate } = clause {
            let failed = |message: String| FilterError::Rule { name: name.clone(), message };
            let expr = super::expr::parse(text).map_err(|e| failed(e.to_string()))?;
            let compiled = super::expr::compile(table, &expr).map_err(|e| failed(e.to_string()))?;
            let negate = *negate;
            predicates.push(Box::new(move |row| compiled.flags(row) != negate));
        } else {
            let column = check_clause(table, clause)?;
            predicates.push(row_predicate(column, clause));
        }
    }
    let mut selection: Selection = (0..table.n_rows as u32).collect();
    for keep in predicates {
        selection.retain(|&row| keep(row as usize));
    }
    Ok(selection)
}

/// A per-row test for one clause; dictionary columns resolve `in` sets to codes once.
fn row_predicate<'a>(column: &'a Column, clause: &'a Clause) -> Box<dyn Fn(usize) -> bool + 'a> {
    match clause {
        Clause::InSet { values, negate, .. } => {
            // A hash set: selections from the cluster map carry thousands of ids.
            let set: rustc_hash::FxHashSet<&str> = values.iter().map(String::as_str).collect();
            if let ColumnData::Str(Strings::Dict { codes, dict }) = &column.data {
                let wanted: Vec<bool> = dict.iter().map(|d| set.contains(&**d)).collect();
                let negate = *negate;
                return Box::new(move |row| {
                    let code = codes.get(row).unwrap_or(MISSING_CODE);
                    let hit = code != MISSING_CODE && wanted.get(code as usize).copied().unwrap_or(false);
                    hit != negate
                });
            }
            let negate = *negate;
            Box::new(move |row| {
                let hit = match column.value(row) {
                    Value::Missing => false,
                    Value::Str(text) => set.contains(text),
                    other => set.contains(other.display().as_str()),
                };
                hit != negate
            })
        }
        Clause::Range { min, max, .. } => {
            let (lo, hi) = (min.unwrap_or(f64::NEG_INFINITY), max.unwrap_or(f64::INFINITY));
            Box::new(move |row| column.numeric(row).is_some_and(|v| v >= lo && v <= hi))
        }
        Clause::TimeRange { start_ms, end_ms, .. } => {
            let (lo, hi) = (start_ms.unwrap_or(i64::MIN), end_ms.unwrap_or(i64::MAX));
            Box::new(move |row| matches!(column.value(row), Value::Timestamp(ms) if ms >= lo && ms < hi))
        }
        Clause::Contains { text, .. } => {
            let needle = text.to_lowercase();
            Box::new(move |row| match column.value(row) {
                Value::Missing => false,
                Value::Str(s) => s.to_lowercase().contains(&needle),
                other => other.display().to_lowercase().contains(&needle),
            })
        }
        Clause::Missing { missing, .. } => {
            let missing = *missing;
            Box::new(move |row| (column.value(row) == Value::Missing) == missing)
        }
        // Compiled in `evaluate_filter` (it names its own columns); never reaches here.
        Clause::Rule { .. } => Box::new(|_| false),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};

    fn table() -> Table {
        let csv = "country,n,when,note\nBR,1,2026-01-01,Scam link\nUS,5,2026-01-02,hello\n,3,2026-01-03,\nBR,,2026-01-04,SCAMMY\n";
        load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
    }

    fn run(clauses: Vec<Clause>) -> Result<Selection, FilterError> {
        evaluate_filter(&table(), &Filter { clauses })
    }

    fn in_set(column: &str, values: &[&str], negate: bool) -> Clause {
        Clause::InSet { column: column.into(), values: values.iter().map(|v| v.to_string()).collect(), negate }
    }

    #[test]
    fn rules_filter_and_name_their_errors() {
        let rule = |text: &str, negate| Clause::Rule { name: "r".into(), text: text.into(), negate };
        assert_eq!(run(vec![rule("country = BR and n >= 1", false)]).unwrap(), vec![0]);
        // Not flagged includes unknown (row 3 has no n).
        assert_eq!(run(vec![rule("country = BR and n >= 1", true)]).unwrap(), vec![1, 2, 3]);
        let err = run(vec![rule("country = ", false)]).unwrap_err().to_string();
        assert!(err.starts_with("rule “r”: at character 11: expected a value"), "{err}");
        assert!(run(vec![rule("nope = 1", false)]).unwrap_err().to_string().contains("no column “nope”"));
    }

    #[test]
    fn empty_filter_selects_everything() {
        assert_eq!(run(vec![]).unwrap(), vec![0, 1, 2, 3]);
    }

    #[test]
    fn in_and_not_in_treat_missing_as_outside_the_set() {
        assert_eq!(run(vec![in_set("country", &["BR"], false)]).unwrap(), vec![0, 3]);
        assert_eq!(run(vec![in_set("country", &["BR"], true)]).unwrap(), vec![1, 2]);
        assert_eq!(run(vec![in_set("n", &["5", "3"], false)]).unwrap(), vec![1, 2]);
    }

    #[test]
    fn ranges_contains_missing_and_conjunction() {
        let range = Clause::Range { column: "n".into(), min: Some(2.0), max: None };
        assert_eq!(run(vec![range.clone()]).unwrap(), vec![1, 2]);
        let day = 86_400_000;
        let jan2 = crate::data::time::days_from_civil(2026, 1, 2) * day;
        let time = Clause::TimeRange { column: "when".into(), start_ms: Some(jan2), end_ms: Some(jan2 + 2 * day) };
        assert_eq!(run(vec![time.clone()]).unwrap(), vec![1, 2]);
        assert_eq!(run(vec![range, time]).unwrap(), vec![1, 2]);
        let contains = Clause::Contains { column: "note".into(), text: "scam".into() };
        assert_eq!(run(vec![contains]).unwrap(), vec![0, 3]);
        assert_eq!(run(vec![Clause::Missing { column: "n".into(), missing: true }]).unwrap(), vec![3]);
        assert_eq!(run(vec![Clause::Missing { column: "country".into(), missing: false }]).unwrap(), vec![0, 1, 3]);
    }

    #[test]
    fn clauses_that_do_not_fit_are_errors() {
        assert_eq!(
            run(vec![in_set("nope", &["x"], false)]),
            Err(FilterError::UnknownColumn { column: "nope".into() })
        );
        assert!(matches!(
            run(vec![Clause::Range { column: "country".into(), min: None, max: Some(1.0) }]),
            Err(FilterError::WrongType { .. })
        ));
        assert!(matches!(
            run(vec![Clause::Range { column: "n".into(), min: Some(5.0), max: Some(1.0) }]),
            Err(FilterError::EmptyRange { .. })
        ));
    }

    #[test]
    fn chips_read_well() {
        assert_eq!(in_set("country", &["BR", "US"], false).describe(), "country in {BR, US}");
        assert_eq!(Clause::Range { column: "n".into(), min: Some(2.0), max: None }.describe(), "n ≥ 2");
    }
}
