//! Several files of the same shape as one table: daily exports, one file per day. The files'
//! rows are appended in the order given, a `source` column says which file each row came from,
//! and files whose columns differ are refused with the difference named, file by file and
//! column by column.
//!
//! Columns are matched by name (their order may differ between files; the first file's order is
//! kept). A column typed differently in two files takes the type that holds both: integer and
//! float become float; category, identifier and text become the most general of them; any other
//! pair becomes text, with a notice.

use rustc_hash::FxHashMap;

use super::builder::retype_column;
use super::load::{LoadReport, RejectedRow};
use super::table::{Bitmap, Codes, Column, ColumnData, ColumnType, Mismatch, Strings, Table, MISSING_CODE};

/// Files whose columns differ: for each file after the first, what it lacks and what it adds.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("these files do not have the same columns as {first}: {}", describe(.differences))]
pub struct SchemaMismatch {
    pub first: String,
    /// (file, columns it lacks, columns it has that the first does not).
    pub differences: Vec<(String, Vec<String>, Vec<String>)>,
}

fn describe(differences: &[(String, Vec<String>, Vec<String>)]) -> String {
    let list = |names: &[String]| names.iter().take(8).map(|n| format!("“{n}”")).collect::<Vec<_>>().join(", ") + if names.len() > 8 { format!(" and {} more", names.len() - 8) } else { String::new() }.as_str();
    differences
        .iter()
        .map(|(file, lacks, extra)| {
            let mut parts = Vec::new();
            if !lacks.is_empty() {
                parts.push(format!("lacks {}", list(lacks)));
            }
            if !extra.is_empty() {
                parts.push(format!("has {} in addition", list(extra)));
            }
            format!("{file} {}", parts.join(" and "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The name of the column that says which file a row came from: `source`, or `source (2)`… when
/// the files have a column of that name.
fn source_name(table: &Table) -> String {
    let mut name = String::from("source");
    let mut n = 2;
    while table.column(&name).is_some() {
        name = format!("source ({n})");
        n += 1;
    }
    name
}

/// The loads of several files, named, as one: rows in the order given, a `source` column,
/// rejected rows and notices prefixed with their file's name. One file is returned as it is.
pub fn append(mut parts: Vec<(String, LoadReport)>) -> Result<LoadReport, SchemaMismatch> {
    if parts.len() < 2 {
        return parts.pop().map(|(_, report)| report).ok_or_else(|| SchemaMismatch { first: String::new(), differences: Vec::new() });
    }
    let (first_name, first) = &parts[0];
    let names: Vec<String> = first.table.columns.iter().map(|c| c.name.clone()).collect();
    let differences: Vec<(String, Vec<String>, Vec<String>)> = parts
        .iter()
        .skip(1)
        .filter_map(|(file, report)| {
            let lacks: Vec<String> = names.iter().filter(|n| report.table.column(n).is_none()).cloned().collect();
            let extra: Vec<String> = report.table.columns.iter().filter(|c| !names.contains(&c.name)).map(|c| c.name.clone()).collect();
            (!lacks.is_empty() || !extra.is_empty()).then(|| (file.clone(), lacks, extra))
        })
        .collect();
    if !differences.is_empty() {
        return Err(SchemaMismatch { first: first_name.clone(), differences });
    }

    let mut notices = Vec::new();
    let mut columns = Vec::with_capacity(names.len() + 1);
    for name in &names {
        let kinds: Vec<ColumnType> = parts.iter().filter_map(|(_, r)| r.table.column(name)).map(|c| c.kind).collect();
        let kind = common_type(&kinds);
        if kind == ColumnType::Text && kinds.iter().any(|k| !is_string(*k)) {
            let each: Vec<String> = parts.iter().filter_map(|(file, r)| r.table.column(name).map(|c| format!("{} in {file}", c.kind.label()))).collect();
            notices.push(format!("column “{name}” is {}: read as text", each.join(", ")));
        }
        let mut merged: Option<Column> = None;
        for (_, report) in &parts {
            let Some(column) = report.table.column(name) else { continue };
            let column = if column.kind == kind { column.clone() } else { retype_column(column, kind) };
            merged = Some(match merged {
                None => column,
                Some(so_far) => append_column(so_far, &column),
            });
        }
        if let Some(column) = merged {
            columns.push(column);
        }
    }

    let total_rows: usize = parts.iter().map(|(_, r)| r.table.n_rows).sum();
    let mut table = Table { columns, n_rows: total_rows };
    let source = source_name(&table);
    let mut codes = Codes::default();
    codes.reserve(total_rows);
    let mut dict: Vec<Box<str>> = Vec::with_capacity(parts.len());
    for (file, report) in &parts {
        let code = dict.iter().position(|d| **d == **file).unwrap_or_else(|| {
            dict.push(file.as_str().into());
            dict.len() - 1
        }) as u32;
        codes.extend(std::iter::repeat_n(code, report.table.n_rows));
    }
    table.columns.push(Column { name: source, kind: ColumnType::Category, data: ColumnData::Str(Strings::Dict { codes, dict }), mismatches: Vec::new(), non_finite: 0 });

    let mut rejected = Vec::new();
    let mut rejected_total = 0;
    let mut text_bytes = 0;
    for (file, report) in &mut parts {
        notices.extend(report.notices.drain(..).map(|n| format!("{file}: {n}")));
        rejected.extend(report.rejected.drain(..).map(|r| RejectedRow { reason: format!("{file}: {}", r.reason), ..r }));
        rejected_total += report.rejected_total;
        text_bytes += report.text_bytes;
    }
    rejected.truncate(super::load::MAX_REJECTED_KEPT);
    // Two parts or more (above): the first's dialect, with the others'.
    let others: Vec<_> = parts.drain(1..).map(|(_, report)| report.dialect).collect();
    let mut dialect = parts.swap_remove(0).1.dialect;
    dialect.others = others;
    Ok(LoadReport { table, dialect, rejected, rejected_total, notices, text_bytes })
}

fn is_string(kind: ColumnType) -> bool {
    matches!(kind, ColumnType::Category | ColumnType::Identifier | ColumnType::Text)
}

/// The type that holds every one of `kinds`.
fn common_type(kinds: &[ColumnType]) -> ColumnType {
    let Some(&first) = kinds.first() else { return ColumnType::Text };
    if kinds.iter().all(|&k| k == first) {
        return first;
    }
    if kinds.iter().all(|k| matches!(k, ColumnType::Integer | ColumnType::Float)) {
        return ColumnType::Float;
    }
    if kinds.iter().all(|&k| is_string(k)) {
        if kinds.contains(&ColumnType::Text) {
            return ColumnType::Text;
        }
        return if kinds.contains(&ColumnType::Identifier) { ColumnType::Identifier } else { ColumnType::Category };
    }
    ColumnType::Text
}

/// `b`'s rows after `a`'s (both of one type).
fn append_column(mut a: Column, b: &Column) -> Column {
    let offset = a.len();
    a.mismatches.extend(b.mismatches.iter().map(|m| Mismatch { row: m.row + offset, text: m.text.clone() }));
    a.non_finite += b.non_finite;
    a.data = match (a.data, &b.data) {
        (ColumnData::Int { mut values, mut valid }, ColumnData::Int { values: more, valid: more_valid }) => {
            values.extend_from_slice(more);
            valid.append(more_valid);
            ColumnData::Int { values, valid }
        }
        (ColumnData::Float { mut values, mut valid }, ColumnData::Float { values: more, valid: more_valid }) => {
            values.extend_from_slice(more);
            valid.append(more_valid);
            ColumnData::Float { values, valid }
        }
        (ColumnData::Bool { mut values, mut valid }, ColumnData::Bool { values: more, valid: more_valid }) => {
            values.append(more);
            valid.append(more_valid);
            ColumnData::Bool { values, valid }
        }
        (ColumnData::Timestamp { mut ms, mut valid }, ColumnData::Timestamp { ms: more, valid: more_valid }) => {
            ms.extend_from_slice(more);
            valid.append(more_valid);
            ColumnData::Timestamp { ms, valid }
        }
        (ColumnData::Str(Strings::Dict { mut codes, mut dict }), ColumnData::Str(Strings::Dict { codes: more, dict: more_dict })) => {
            let mut index: FxHashMap<Box<str>, u32> = dict.iter().enumerate().map(|(i, s)| (s.clone(), i as u32)).collect();
            let recode: Vec<u32> = more_dict
                .iter()
                .map(|s| {
                    *index.entry(s.clone()).or_insert_with(|| {
                        dict.push(s.clone());
                        (dict.len() - 1) as u32
                    })
                })
                .collect();
            codes.extend(more.iter().map(|c| if c == MISSING_CODE { MISSING_CODE } else { recode.get(c as usize).copied().unwrap_or(MISSING_CODE) }));
            ColumnData::Str(Strings::Dict { codes, dict })
        }
        (ColumnData::Str(strings), ColumnData::Str(more)) => {
            // An arena on either side: one arena of both.
            let mut bytes = String::new();
            let mut ends = Vec::with_capacity(strings.len() + more.len());
            let mut valid = Bitmap::default();
            for s in [&strings, more] {
                for row in 0..s.len() {
                    let value = s.get(row);
                    bytes.push_str(value.unwrap_or_default());
                    ends.push(bytes.len());
                    valid.push(value.is_some());
                }
            }
            ColumnData::Str(Strings::Arena { bytes, ends, valid })
        }
        (data, _) => data, // unreachable: both columns were given one type
    };
    a
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};
    use crate::data::table::Value;

    fn part(name: &str, text: &str) -> (String, LoadReport) {
        (name.to_string(), load_bytes(text.as_bytes(), LoadOptions::default()).unwrap())
    }

    #[test]
    fn files_are_appended_in_order_with_their_source() {
        let a = part("mon.csv", "at,country,n,note\n2026-01-05,BR,1,x\n2026-01-05,US,2,y\n");
        let b = part("tue.jsonl", "{\"n\": 2.5, \"at\": \"2026-01-06\", \"country\": \"IN\", \"note\": \"z\"}\n{\"n\": null, \"at\": \"2026-01-06\", \"country\": \"BR\", \"note\": \"bad,\\\"row\"}\n");
        let c = part("wed.csv", "at,country,n,note\n2026-01-07,DE,3,w\nnot,enough\n");
        let report = append(vec![a, b, c]).unwrap();
        let t = &report.table;
        assert_eq!(t.n_rows, 5);
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["at", "country", "n", "note", "source"]);
        assert_eq!(t.column("n").unwrap().kind, ColumnType::Float);
        let n: Vec<Option<f64>> = (0..5).map(|r| t.column("n").unwrap().numeric(r)).collect();
        assert_eq!(n, [Some(1.0), Some(2.0), Some(2.5), None, Some(3.0)]);
        let country: Vec<String> = (0..5).map(|r| t.column("country").unwrap().value(r).display()).collect();
        assert_eq!(country, ["BR", "US", "IN", "BR", "DE"]);
        assert_eq!(t.column("at").unwrap().kind, ColumnType::Timestamp);
        assert_eq!(t.column("note").unwrap().value(3), Value::Str("bad,\"row"));
        let source: Vec<String> = (0..5).map(|r| t.column("source").unwrap().value(r).display()).collect();
        assert_eq!(source, ["mon.csv", "mon.csv", "tue.jsonl", "tue.jsonl", "wed.csv"]);
        assert_eq!(report.rejected_total, 1);
        assert_eq!(report.rejected[0].line, 3);
        assert!(report.rejected[0].reason.starts_with("wed.csv: 2 fields"), "{}", report.rejected[0].reason);
        // Each file's format is kept, and the Data tab's source line gives them all.
        assert_eq!(report.dialect.others.len(), 2);
        assert_eq!(report.dialect.describe(), "comma-separated, header row, UTF-8 (2 files); JSON Lines, UTF-8 (1 file)");
        assert!(report.notices.iter().any(|n| n.starts_with("wed.csv: ")), "{:?}", report.notices);
    }

    #[test]
    fn different_columns_are_named_file_by_file() {
        let a = part("a.csv", "x,y,z\n1,2,3\n");
        let b = part("b.csv", "x,y\n1,2\n");
        let c = part("c.csv", "z,y,x,w\n1,2,3,4\n");
        let d = part("d.csv", "y,x,z\n5,6,7\n");
        let err = append(vec![a, b, c, d]).unwrap_err();
        assert_eq!(err.to_string(), "these files do not have the same columns as a.csv: b.csv lacks “z”; c.csv has “w” in addition");
    }

    #[test]
    fn types_that_differ_become_one_that_holds_both() {
        let a = part("a.csv", "t,v,k\n2026-01-01,1,aa\n2026-01-02,2,bb\n");
        let b = part("b.csv", "t,v,k\nsoon,yes,cc\nlater,no,dd\n");
        let report = append(vec![a, b]).unwrap();
        let t = &report.table;
        assert_eq!(t.column("t").unwrap().kind, ColumnType::Text);
        let text: Vec<String> = (0..4).map(|r| t.column("t").unwrap().value(r).display()).collect();
        assert_eq!(text[2..], ["soon", "later"]);
        assert!(report.notices.iter().any(|n| n.contains("column “t” is timestamp in a.csv, category in b.csv")), "{:?}", report.notices);
        assert_eq!(t.column("v").unwrap().kind, ColumnType::Text);
        let k: Vec<String> = (0..4).map(|r| t.column("k").unwrap().value(r).display()).collect();
        assert_eq!(k, ["aa", "bb", "cc", "dd"]);
    }

    #[test]
    fn a_source_column_in_the_files_keeps_its_name() {
        let a = part("a.csv", "source,v\nweb,1\n");
        let b = part("b.csv", "source,v\napp,2\n");
        let t = append(vec![a, b]).unwrap().table;
        assert_eq!(t.column("source").unwrap().value(1), Value::Str("app"));
        assert_eq!(t.column("source (2)").unwrap().value(1), Value::Str("b.csv"));
    }
}
