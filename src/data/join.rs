//! A lookup join: the columns of a second table (accounts, content metadata, reviewer rosters)
//! added to the loaded one, matched on a key, many rows to one.
//!
//! Keys match by the text they show (`42` in an integer column matches `"42"` in a text one; a
//! time by its displayed form), which is what an analyst compares when reading the two files.
//! Each row of the table takes the lookup row of its key; a row whose key is missing or not
//! found gets missing values. A key found on several lookup rows is refused, with examples,
//! unless the first or the last of those rows is chosen.

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::builder::ColumnBuilder;
use super::table::{Column, Table, Value};
use crate::format::format_count;

/// Examples kept of unmatched and repeated keys.
const EXAMPLES: usize = 5;

/// Which lookup row a key found on several takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Repeated {
    /// Refuse the join, naming the repeated keys.
    #[default]
    Refuse,
    First,
    Last,
}

/// A join: the key column in the table and in the lookup table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinSpec {
    pub key: String,
    pub lookup_key: String,
    #[serde(default)]
    pub repeated: Repeated,
}

/// What a join did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    /// The columns added, as named in the table (a name already taken gets " (2)", …).
    pub columns: Vec<String>,
    pub matched_rows: usize,
    /// Rows whose key is not in the lookup table, and up to five of those keys.
    pub unmatched_rows: usize,
    pub unmatched_examples: Vec<String>,
    /// Rows with no key.
    pub missing_key_rows: usize,
    /// Keys on more than one lookup row (kept first or last), with up to five of them and
    /// their counts.
    pub repeated_keys: usize,
    pub repeated_examples: Vec<(String, usize)>,
    /// Lookup rows no row of the table matched.
    pub unused_lookup_rows: usize,
}

impl Joined {
    /// "Added plan, region from accounts.csv: 9,980 rows matched, 20 rows with a key not found
    /// (a7, a9), 3 keys on several lookup rows (first row kept)."
    pub fn describe(&self, file: &str, repeated: Repeated) -> String {
        let rows = |n: usize| counted(n, "row");
        let mut parts = vec![format!("{} matched", rows(self.matched_rows))];
        if self.unmatched_rows > 0 {
            parts.push(format!("{} with a key not found ({})", rows(self.unmatched_rows), self.unmatched_examples.join(", ")));
        }
        if self.missing_key_rows > 0 {
            parts.push(format!("{} without a key", rows(self.missing_key_rows)));
        }
        if self.repeated_keys > 0 {
            let kept = if repeated == Repeated::Last { "last" } else { "first" };
            parts.push(format!("{} on several lookup rows ({kept} row kept)", counted(self.repeated_keys, "key")));
        }
        if self.unused_lookup_rows > 0 {
            parts.push(format!("{} of the lookup file unused", rows(self.unused_lookup_rows)));
        }
        format!("Added {} from {file}: {}.", self.columns.join(", "), parts.join(", "))
    }
}

/// Why a join was not made (the table is left as it was).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("the table has no column “{0}” to join on")]
    NoKey(String),
    #[error("the lookup file has no column “{0}” to join on")]
    NoLookupKey(String),
    #[error("the lookup file has no column besides its key “{0}”")]
    NothingToAdd(String),
    #[error("{} {} on more than one row of the lookup file ({}); keep the first or the last row of each, or remove the repeats", counted(*count, "key"), if *count == 1 { "is" } else { "are" }, examples.iter().map(|(k, n)| format!("“{k}” {n} times")).collect::<Vec<_>>().join(", "))]
    Repeated { count: usize, examples: Vec<(String, usize)> },
    #[error("no “{key}” of the table matches a “{lookup_key}” of the lookup file (the table has {}; the lookup file has {})", quoted(table_examples), quoted(lookup_examples))]
    NothingMatches { key: String, lookup_key: String, table_examples: Vec<String>, lookup_examples: Vec<String> },
}

/// "1 row", "2,000 rows".
fn counted(n: usize, noun: &str) -> String {
    format!("{} {noun}{}", format_count(n as u64), if n == 1 { "" } else { "s" })
}

fn quoted(keys: &[String]) -> String {
    if keys.is_empty() {
        return "no keys".into();
    }
    keys.iter().map(|k| format!("“{k}”")).collect::<Vec<_>>().join(", ")
}

/// A key as its text shows, borrowed when the column stores text.
fn key_text(column: &Column, row: usize) -> Option<Cow<'_, str>> {
    match column.value(row) {
        Value::Missing => None,
        Value::Str(text) => Some(Cow::Borrowed(text)),
        value => Some(Cow::Owned(value.display())),
    }
}

/// A first guess at the key pair, for the dialog: a column both tables name alike (one whose
/// name ends in "id" first), else a table column named as the lookup's id column with a prefix
/// (`reported_account_id` for `account_id`). `None` when nothing looks like a shared key.
pub fn propose_key(table: &[String], lookup: &[String]) -> Option<(String, String)> {
    let id_like = |name: &str| name.to_lowercase().ends_with("id");
    let shared = |name: &&String| table.contains(name);
    let pair = |name: &String| (name.clone(), name.clone());
    lookup.iter().filter(shared).find(|n| id_like(n)).map(pair).or_else(|| lookup.iter().find(shared).map(pair)).or_else(|| {
        lookup.iter().filter(|n| id_like(n)).find_map(|l| table.iter().find(|t| t.ends_with(&format!("_{l}"))).map(|t| (t.clone(), l.clone())))
    })
}

/// Adds the lookup table's columns (all but its key) to `table`, matched on `spec`'s keys.
pub fn lookup_join(table: &mut Table, lookup: &Table, spec: &JoinSpec) -> Result<Joined, JoinError> {
    let key = table.column(&spec.key).ok_or_else(|| JoinError::NoKey(spec.key.clone()))?;
    let lookup_key = lookup.column(&spec.lookup_key).ok_or_else(|| JoinError::NoLookupKey(spec.lookup_key.clone()))?;
    let adding: Vec<&Column> = lookup.columns.iter().filter(|c| c.name != spec.lookup_key).collect();
    if adding.is_empty() {
        return Err(JoinError::NothingToAdd(spec.lookup_key.clone()));
    }
    // Each key's lookup row, and how many rows have it.
    let mut rows_of: FxHashMap<Cow<'_, str>, (u32, usize)> = FxHashMap::default();
    let mut order: Vec<Cow<'_, str>> = Vec::new();
    for row in 0..lookup.n_rows {
        let Some(text) = key_text(lookup_key, row) else { continue };
        match rows_of.get_mut(&text) {
            Some((kept, n)) => {
                *n += 1;
                if spec.repeated == Repeated::Last {
                    *kept = row as u32;
                }
            }
            None => {
                order.push(text.clone());
                rows_of.insert(text, (row as u32, 1));
            }
        }
    }
    let repeats: Vec<(String, usize)> = order.iter().filter_map(|k| rows_of.get(k).filter(|(_, n)| *n > 1).map(|(_, n)| (k.to_string(), *n))).collect();
    let mut joined = Joined { repeated_keys: repeats.len(), repeated_examples: repeats.iter().take(EXAMPLES).cloned().collect(), ..Joined::default() };
    if !repeats.is_empty() && spec.repeated == Repeated::Refuse {
        return Err(JoinError::Repeated { count: repeats.len(), examples: joined.repeated_examples });
    }
    // Each table row's lookup row.
    let mut used = vec![false; lookup.n_rows];
    let mut unmatched: Vec<String> = Vec::new();
    let taken: Vec<Option<u32>> = (0..table.n_rows)
        .map(|row| {
            let Some(text) = key_text(key, row) else {
                joined.missing_key_rows += 1;
                return None;
            };
            match rows_of.get(&text) {
                Some(&(at, _)) => {
                    joined.matched_rows += 1;
                    if let Some(u) = used.get_mut(at as usize) {
                        *u = true;
                    }
                    Some(at)
                }
                None => {
                    joined.unmatched_rows += 1;
                    if unmatched.len() < EXAMPLES && !unmatched.iter().any(|u| *u == *text) {
                        unmatched.push(text.into_owned());
                    }
                    None
                }
            }
        })
        .collect();
    if joined.matched_rows == 0 {
        let table_examples = (0..table.n_rows).filter_map(|r| key_text(key, r)).take(3).map(Cow::into_owned).collect();
        return Err(JoinError::NothingMatches { key: spec.key.clone(), lookup_key: spec.lookup_key.clone(), table_examples, lookup_examples: order.iter().take(3).map(|k| k.to_string()).collect() });
    }
    joined.unmatched_examples = unmatched;
    // Lookup rows with a key that no row took (rows without a key count as unused too).
    joined.unused_lookup_rows = used.iter().filter(|u| !**u).count();
    let columns: Vec<Column> = adding.iter().map(|column| gather(column, &taken)).collect();
    for mut column in columns {
        column.name = free_name(table, &column.name);
        joined.columns.push(column.name.clone());
        table.columns.push(column);
    }
    Ok(joined)
}

/// The column's values at `taken` rows (missing where `None`), typed as the column is; a cell
/// that did not fit the column's type keeps its text as such a cell again.
fn gather(column: &Column, taken: &[Option<u32>]) -> Column {
    let misfits: FxHashMap<usize, &str> = column.mismatches.iter().map(|m| (m.row, m.text.as_str())).collect();
    let mut builder = ColumnBuilder::for_type(column.kind);
    for &at in taken {
        let Some(at) = at.map(|a| a as usize) else {
            builder.push("");
            continue;
        };
        match (misfits.get(&at), column.value(at)) {
            (Some(text), _) => builder.push(text),
            (None, Value::Missing) => builder.push(""),
            (None, Value::Str(text)) => builder.push(text),
            (None, value) => builder.push(&value.display()),
        }
    }
    builder.finish(&column.name)
}

/// `name`, or `name (2)`, `name (3)`, … when the table has it.
fn free_name(table: &Table, name: &str) -> String {
    if table.column(name).is_none() {
        return name.to_string();
    }
    (2..).map(|n| format!("{name} ({n})")).find(|candidate| table.column(candidate).is_none()).unwrap_or_else(|| name.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};
    use crate::data::table::ColumnType;

    fn table(csv: &str) -> Table {
        load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
    }

    fn spec(key: &str, lookup_key: &str, repeated: Repeated) -> JoinSpec {
        JoinSpec { key: key.into(), lookup_key: lookup_key.into(), repeated }
    }

    fn shown(table: &Table, column: &str) -> Vec<String> {
        let column = table.column(column).unwrap();
        (0..table.n_rows).map(|r| column.value(r).display()).collect()
    }

    #[test]
    fn many_rows_take_one_lookup_row_each() {
        let mut reports = table("report,account,at\nr1,7,2026-01-01\nr2,9,2026-01-02\nr3,7,2026-01-03\nr4,,2026-01-04\nr5,12,2026-01-05\n");
        // The lookup key is text, the table's an integer: they match by what they show.
        let accounts = table("id,plan,age_days,at\nA,free,3,2025-01-01\n7,pro,400,2024-05-01\n9,free,12.5,2025-12-01\n");
        let joined = lookup_join(&mut reports, &accounts, &spec("account", "id", Repeated::Refuse)).unwrap();
        assert_eq!(joined.columns, ["plan", "age_days", "at (2)"]);
        assert_eq!((joined.matched_rows, joined.unmatched_rows, joined.missing_key_rows, joined.unused_lookup_rows), (3, 1, 1, 1));
        assert_eq!(joined.unmatched_examples, ["12"]);
        assert_eq!(shown(&reports, "plan"), ["pro", "free", "pro", "", ""]);
        assert_eq!(reports.column("age_days").unwrap().kind, ColumnType::Float);
        assert_eq!(reports.column("age_days").unwrap().value(1), Value::Float(12.5));
        assert_eq!(reports.column("at (2)").unwrap().kind, ColumnType::Timestamp);
        assert_eq!(shown(&reports, "at (2)")[0], shown(&accounts, "at")[1]);
        assert_eq!(
            joined.describe("accounts.csv", Repeated::Refuse),
            "Added plan, age_days, at (2) from accounts.csv: 3 rows matched, 1 row with a key not found (12), 1 row without a key, 1 row of the lookup file unused."
        );
    }

    #[test]
    fn repeated_keys_are_refused_unless_first_or_last_is_chosen() {
        let base = table("k,n\na,1\nb,2\nc,3\n");
        let lookup = table("k,v\na,x\nb,y\na,z\nc,w\nc,q\nc,r\n");
        let mut refused = base.clone();
        let err = lookup_join(&mut refused, &lookup, &spec("k", "k", Repeated::Refuse)).unwrap_err();
        assert_eq!(err.to_string(), "2 keys are on more than one row of the lookup file (“a” 2 times, “c” 3 times); keep the first or the last row of each, or remove the repeats");
        assert_eq!(refused, base, "a refused join leaves the table as it was");
        let one = table("k,v\na,x\na,y\n");
        assert!(lookup_join(&mut refused, &one, &spec("k", "k", Repeated::Refuse)).unwrap_err().to_string().starts_with("1 key is on more than one row"));
        let mut first = base.clone();
        let joined = lookup_join(&mut first, &lookup, &spec("k", "k", Repeated::First)).unwrap();
        assert_eq!(shown(&first, "v"), ["x", "y", "w"]);
        assert_eq!(joined.repeated_keys, 2);
        assert_eq!(joined.unused_lookup_rows, 3);
        let mut last = base.clone();
        lookup_join(&mut last, &lookup, &spec("k", "k", Repeated::Last)).unwrap();
        assert_eq!(shown(&last, "v"), ["z", "y", "r"]);
    }

    #[test]
    fn the_proposed_key_is_a_shared_id_then_a_shared_name_then_a_prefixed_id() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(propose_key(&names(&["created_at", "country", "account_id"]), &names(&["country", "account_id", "plan"])), pair("account_id", "account_id"));
        assert_eq!(propose_key(&names(&["created_at", "country"]), &names(&["country", "plan"])), pair("country", "country"));
        assert_eq!(propose_key(&names(&["reported_account_id", "at"]), &names(&["account_id", "plan"])), pair("reported_account_id", "account_id"));
        assert_eq!(propose_key(&names(&["a", "b"]), &names(&["c", "d"])), None);
    }

    #[test]
    fn a_join_that_cannot_be_made_says_why() {
        let mut base = table("k,n\na,1\nb,2\n");
        let before = base.clone();
        let lookup = table("id,v\nx,1\ny,2\n");
        assert_eq!(lookup_join(&mut base, &lookup, &spec("nope", "id", Repeated::Refuse)).unwrap_err(), JoinError::NoKey("nope".into()));
        assert_eq!(lookup_join(&mut base, &lookup, &spec("k", "nope", Repeated::Refuse)).unwrap_err(), JoinError::NoLookupKey("nope".into()));
        let err = lookup_join(&mut base, &lookup, &spec("k", "id", Repeated::Refuse)).unwrap_err();
        assert_eq!(err.to_string(), "no “k” of the table matches a “id” of the lookup file (the table has “a”, “b”; the lookup file has “x”, “y”)");
        let only_key = table("id\na\n");
        assert_eq!(lookup_join(&mut base, &only_key, &spec("k", "id", Repeated::Refuse)).unwrap_err(), JoinError::NothingToAdd("id".into()));
        assert_eq!(base, before);
    }

    #[test]
    fn cells_that_did_not_fit_their_type_keep_their_text() {
        let mut base = table("k\na\nb\n");
        let mut rows = String::from("k,n\n");
        for i in 0..200 {
            rows.push_str(&format!("x{i},{i}\n"));
        }
        rows.push_str("a,n/a?\nb,5\n");
        let lookup = table(&rows);
        assert_eq!(lookup.column("n").unwrap().kind, ColumnType::Integer);
        lookup_join(&mut base, &lookup, &spec("k", "k", Repeated::Refuse)).unwrap();
        let n = base.column("n").unwrap();
        assert_eq!((n.value(0), n.value(1)), (Value::Missing, Value::Int(5)));
        assert_eq!(n.mismatches.len(), 1);
        assert_eq!(n.mismatches[0].text, "n/a?");
    }

    proptest::proptest! {
        /// Any keys (numbers, text, blanks, repeats) join as a scan of the lookup rows would:
        /// each row takes the first or last lookup row whose key shows the same text.
        #[test]
        fn a_join_is_a_scan_of_the_lookup_rows(
            keys in proptest::collection::vec(0u8..12, 1..60),
            lookup_keys in proptest::collection::vec(0u8..12, 1..30),
            last in proptest::bool::ANY,
        ) {
            // 0 is a blank key, 1..6 numbers, 6.. text ("k6"): numbers and text never match.
            let key_text = |k: u8| match k { 0 => String::new(), 1..=5 => k.to_string(), _ => format!("k{k}") };
            let mut csv = String::from("key,n\n");
            for (i, &k) in keys.iter().enumerate() {
                csv.push_str(&format!("{},{i}\n", key_text(k)));
            }
            let mut lookup_csv = String::from("key,v\n");
            for (i, &k) in lookup_keys.iter().enumerate() {
                lookup_csv.push_str(&format!("{},v{i}\n", key_text(k)));
            }
            let (base, lookup) = (table(&csv), table(&lookup_csv));
            let repeated = if last { Repeated::Last } else { Repeated::First };
            let mut joined_table = base.clone();
            let result = lookup_join(&mut joined_table, &lookup, &spec("key", "key", repeated));
            let found = |k: u8| {
                let mut at = lookup_keys.iter().enumerate().filter(|(_, &l)| l != 0 && key_text(l) == key_text(k)).map(|(i, _)| i);
                if last { at.next_back() } else { at.next() }
            };
            let expected: Vec<String> = keys.iter().map(|&k| if k == 0 { String::new() } else { found(k).map(|i| format!("v{i}")).unwrap_or_default() }).collect();
            match result {
                Ok(joined) => {
                    proptest::prop_assert_eq!(shown(&joined_table, "v"), expected);
                    proptest::prop_assert_eq!(joined.matched_rows + joined.unmatched_rows + joined.missing_key_rows, keys.len());
                }
                Err(JoinError::NothingMatches { .. }) => proptest::prop_assert!(expected.iter().all(String::is_empty)),
                Err(other) => proptest::prop_assert!(false, "{other}"),
            }
        }
    }
}
