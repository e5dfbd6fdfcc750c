//! Ordering the selected rows by one column (the grid's sortable header).
//!
//! Missing values go last in both directions; ties keep table order (the sort is stable).
//! Dictionary-encoded strings are ranked once through their sorted dictionary, so sorting a
//! million category cells compares integers.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::filter::Selection;
use super::table::{ColumnData, Strings, Table, MISSING_CODE};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortKey {
    pub column: String,
    pub descending: bool,
}

/// Sorts `selection` in place by `key`; `false` when the column does not exist (left as is).
pub fn sort_selection(table: &Table, selection: &mut Selection, key: &SortKey) -> bool {
    let Some(column) = table.column(&key.column) else { return false };
    let descending = key.descending;
    // `None` sorts last whatever the direction.
    fn order<T: PartialOrd>(a: Option<T>, b: Option<T>, descending: bool) -> Ordering {
        match (a, b) {
            (Some(x), Some(y)) => {
                let ord = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                if descending { ord.reverse() } else { ord }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    let at = |row: u32| row as usize;
    match &column.data {
        ColumnData::Int { values, valid } | ColumnData::Timestamp { ms: values, valid } => {
            let get = |row: u32| values.get(at(row)).copied().filter(|_| valid.get(at(row)));
            selection.sort_by(|&a, &b| order(get(a), get(b), descending));
        }
        ColumnData::Float { values, valid } => {
            let get = |row: u32| values.get(at(row)).copied().filter(|_| valid.get(at(row)));
            selection.sort_by(|&a, &b| order(get(a), get(b), descending));
        }
        ColumnData::Bool { values, valid } => {
            let get = |row: u32| valid.get(at(row)).then(|| values.get(at(row)));
            selection.sort_by(|&a, &b| order(get(a), get(b), descending));
        }
        ColumnData::Str(Strings::Dict { codes, dict }) => {
            let mut by_text: Vec<u32> = (0..dict.len() as u32).collect();
            by_text.sort_by(|&a, &b| dict.get(a as usize).cmp(&dict.get(b as usize)));
            let mut rank = vec![0u32; dict.len()];
            for (position, &code) in by_text.iter().enumerate() {
                if let Some(slot) = rank.get_mut(code as usize) {
                    *slot = position as u32;
                }
            }
            let get = |row: u32| {
                codes.get(at(row)).filter(|&c| c != MISSING_CODE).and_then(|c| rank.get(c as usize).copied())
            };
            selection.sort_by(|&a, &b| order(get(a), get(b), descending));
        }
        ColumnData::Str(strings @ Strings::Arena { .. }) => {
            selection.sort_by(|&a, &b| order(strings.get(at(a)), strings.get(at(b)), descending));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};

    #[test]
    fn sorts_each_storage_with_missing_last() {
        let csv = "name,n,x,when\ncarol,3,0.5,2026-01-03\n,1,,2026-01-01\nalice,,2.5,\nbob,2,-1,2026-01-02\n";
        let table = load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table;
        let sorted = |column: &str, descending| {
            let mut selection: Selection = (0..4).collect();
            assert!(sort_selection(&table, &mut selection, &SortKey { column: column.into(), descending }));
            selection
        };
        assert_eq!(sorted("name", false), vec![2, 3, 0, 1]);
        assert_eq!(sorted("name", true), vec![0, 3, 2, 1]);
        assert_eq!(sorted("n", false), vec![1, 3, 0, 2]);
        assert_eq!(sorted("n", true), vec![0, 3, 1, 2]);
        assert_eq!(sorted("x", false), vec![3, 0, 2, 1]);
        assert_eq!(sorted("when", true), vec![0, 3, 1, 2]);
        let mut selection: Selection = vec![0, 1];
        assert!(!sort_selection(&table, &mut selection, &SortKey { column: "nope".into(), descending: false }));
    }
}
