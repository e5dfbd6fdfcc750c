//! Weighted rows: a column saying how many events each row stands for (a cube's count, a
//! sample's 1/p). Checked once when it is chosen, so the analyses read plain numbers.

use serde::{Deserialize, Serialize};

use super::table::{ColumnType, Table};

/// Why a column cannot weigh the rows; rows are 1-based, as on screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum WeightError {
    #[error("there is no column “{0}” to weigh the rows by")]
    UnknownColumn(String),
    #[error("“{column}” is {kind}: a weight must be a number of events")]
    NotNumeric { column: String, kind: String },
    #[error("“{column}” has no value in {count} row(s), the first is row {row}: every row needs a weight (filter those rows out, or fill them)")]
    Missing { column: String, row: usize, count: usize },
    #[error("“{column}” is {value} in row {row}{more}: a weight is a number of events from 0 to 2^53 (9,007,199,254,740,992), past which sums are not exact")]
    Invalid { column: String, row: usize, value: String, more: String },
}

/// The largest weight: integers past 2^53 are not all exact in a float, and a sum of weights
/// this size over any number of rows a machine holds stays finite.
pub const MAX_WEIGHT: f64 = 9_007_199_254_740_992.0;

/// The weight of every table row from `column`: numbers, present, from 0 to [`MAX_WEIGHT`].
pub fn weight_column(table: &Table, column: &str) -> Result<Vec<f64>, WeightError> {
    let col = table.column(column).ok_or_else(|| WeightError::UnknownColumn(column.to_string()))?;
    if !matches!(col.kind, ColumnType::Integer | ColumnType::Float) {
        return Err(WeightError::NotNumeric { column: column.to_string(), kind: col.kind.label().to_string() });
    }
    let mut weights = Vec::with_capacity(table.n_rows);
    let (mut missing, mut first_missing) = (0usize, None);
    let (mut invalid, mut first_invalid) = (0usize, None);
    for row in 0..table.n_rows {
        match col.numeric(row) {
            None => {
                missing += 1;
                first_missing.get_or_insert(row);
                weights.push(0.0);
            }
            Some(w) if !w.is_finite() || !(0.0..=MAX_WEIGHT).contains(&w) => {
                invalid += 1;
                first_invalid.get_or_insert((row, w));
                weights.push(0.0);
            }
            Some(w) => weights.push(w),
        }
    }
    if let Some((row, value)) = first_invalid {
        let more = if invalid > 1 { format!(" (and {} more rows)", invalid - 1) } else { String::new() };
        return Err(WeightError::Invalid { column: column.to_string(), row: row + 1, value: super::table::format_float_brief(value), more });
    }
    if let Some(row) = first_missing {
        return Err(WeightError::Missing { column: column.to_string(), row: row + 1, count: missing });
    }
    Ok(weights)
}

/// The weight column of a cube (see `crate::warehouse`): each row's number of events.
pub const EVENTS: &str = "events";

/// Names that say "each row is this many events".
const WEIGHT_NAMES: &[&str] = &["n", "cnt", "count", "events", "weight", "num_events", "event_count", "events_count", "row_count", "n_events", "n_rows"];

/// The column the loader proposes as a weight: a number column named like a count of events
/// (`n`, `cnt`, `count`, `events`, `weight`, `event_count`, …, or ending in `_weight`; not any
/// `_count`: a `follower_count` describes the row), preferring the cube's `events`. `None` when
/// no column looks like one.
pub fn propose_weight(columns: &[(String, ColumnType)]) -> Option<String> {
    let numeric = |kind: &ColumnType| matches!(kind, ColumnType::Integer | ColumnType::Float);
    let named = |name: &str| {
        let lower = name.to_ascii_lowercase();
        WEIGHT_NAMES.contains(&lower.as_str()) || lower.ends_with("_weight")
    };
    let candidates: Vec<&String> = columns.iter().filter(|(name, kind)| numeric(kind) && named(name)).map(|(name, _)| name).collect();
    candidates.iter().find(|name| name.as_str() == EVENTS).or(candidates.first()).map(|name| (*name).clone())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failing unwrap is a failing test
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};

    fn table(csv: &str) -> Table {
        load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
    }

    #[test]
    fn weights_are_checked_and_named_by_row() {
        assert_eq!(weight_column(&table("a,n\nx,3\ny,0.5\n"), "n").unwrap(), [3.0, 0.5]);
        let err = weight_column(&table("a,n\nx,3\ny,-2\nz,-1\n"), "n").unwrap_err().to_string();
        assert!(err.contains("-2 in row 2 (and 1 more rows)"), "{err}");
        let err = weight_column(&table("a,n\nx,3\ny,1e308\n"), "n").unwrap_err().to_string();
        assert!(err.contains("is 1e308 in row 2") && err.contains("2^53"), "{err}");
        let err = weight_column(&table("a,n\nx,3\ny,\nz,\n"), "n").unwrap_err().to_string();
        assert!(err.contains("2 row(s), the first is row 2"), "{err}");
        assert!(matches!(weight_column(&table("a,n\nx,3\n"), "a"), Err(WeightError::NotNumeric { .. })));
        assert!(matches!(weight_column(&table("a,n\nx,3\n"), "m"), Err(WeightError::UnknownColumn(_))));
    }

    #[test]
    fn count_like_numbers_are_proposed() {
        let cols = |list: &[(&str, ColumnType)]| list.iter().map(|(n, k)| (n.to_string(), *k)).collect::<Vec<_>>();
        assert_eq!(propose_weight(&cols(&[("country", ColumnType::Category), ("CNT", ColumnType::Integer)])), Some("CNT".into()));
        assert_eq!(propose_weight(&cols(&[("n", ColumnType::Integer), ("events", ColumnType::Integer)])), Some("events".into()));
        assert_eq!(propose_weight(&cols(&[("count", ColumnType::Category), ("views", ColumnType::Integer)])), None);
        assert_eq!(propose_weight(&cols(&[("sample_weight", ColumnType::Float)])), Some("sample_weight".into()));
        assert_eq!(propose_weight(&cols(&[("follower_count", ColumnType::Integer)])), None);
    }
}
