//! Reports as documents a reader or a scheduler takes away: JSON (the serde reports the worker
//! produces, with an ISO 8601 twin of every time), and every table of a report as CSV. The app's
//! "JSON" download and the `vigil` command write the same documents.

use serde_json::{Map, Value};

use crate::analysis::registry::AnyReport;
use crate::analysis::trend::TrendReport;
use crate::data::time::format_iso_ms;

/// A report as JSON: its serde form (as the worker produces it), plus, beside every time in UTC
/// milliseconds (`start_ms`, `starts_ms`, …), the same time in ISO 8601 (`start_iso`, …), and
/// for a trend, the dates of each anomaly, incident and changepoint.
pub fn report_json(report: &AnyReport) -> Value {
    let value = serde_json::to_value(report).unwrap_or(Value::Null);
    // Externally tagged: `{"Trend": {…}}`; the name travels beside it.
    let mut inner = match value {
        Value::Object(map) if map.len() == 1 => map.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null),
        other => other,
    };
    if let AnyReport::Trend(trend) = report {
        add_trend_dates(&mut inner, trend);
    }
    add_iso_times(&mut inner);
    inner
}

/// Several reports as one JSON object keyed by analysis name (a repeated analysis, such as one
/// root cause per incident, becomes a list), with what was noticed on the way.
pub fn reports_json(reports: &[AnyReport], notices: &[String]) -> Value {
    let mut out = Map::new();
    out.insert("vigil".into(), Value::String(env!("CARGO_PKG_VERSION").into()));
    if !notices.is_empty() {
        out.insert("notices".into(), Value::Array(notices.iter().cloned().map(Value::String).collect()));
    }
    let mut by_name = Map::new();
    for report in reports {
        let value = report_json(report);
        if reports.iter().filter(|r| r.name() == report.name()).count() > 1 {
            let list = by_name.entry(report.name()).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = list {
                list.push(value);
            }
        } else {
            by_name.insert(report.name().into(), value);
        }
    }
    out.insert("reports".into(), Value::Object(by_name));
    Value::Object(out)
}

/// Keys of times in UTC milliseconds; `bucket_ms` and the like are durations.
fn is_time_key(key: &str) -> bool {
    key.ends_with("_ms") && !matches!(key, "bucket_ms" | "elapsed_ms" | "span_ms")
}

fn iso(value: &Value) -> Option<Value> {
    match value {
        Value::Number(n) => n.as_i64().map(|ms| Value::String(format_iso_ms(ms))),
        Value::Array(items) => Some(Value::Array(items.iter().map(|v| iso(v).unwrap_or(Value::Null)).collect())),
        _ => None,
    }
}

/// `value` with `x_iso` beside every time key `x_ms`, at any depth.
pub fn with_iso_times(mut value: Value) -> Value {
    add_iso_times(&mut value);
    value
}

/// Adds `x_iso` beside every time key `x_ms`, at any depth.
fn add_iso_times(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let twins: Vec<(String, Value)> = map
                .iter()
                .filter(|(key, _)| is_time_key(key))
                .filter_map(|(key, v)| Some((format!("{}_iso", key.trim_end_matches("_ms")), iso(v)?)))
                .collect();
            for v in map.values_mut() {
                add_iso_times(v);
            }
            map.extend(twins);
        }
        Value::Array(items) => items.iter_mut().for_each(add_iso_times),
        _ => {}
    }
}

/// Dates of a trend's findings, which the report gives as period indices.
fn add_trend_dates(value: &mut Value, trend: &TrendReport) {
    let starts = &trend.series.starts_ms;
    let start_of = |i: usize| starts.get(i).map(|&ms| Value::String(format_iso_ms(ms)));
    // The end of a period: the next one's start (past the last, the series' next period).
    let end_of = |i: usize| starts.get(i + 1).copied().or_else(|| trend.series.next_start_ms(i + 2 - starts.len().min(i + 2))).map(|ms| Value::String(format_iso_ms(ms)));
    let Ok(analysis) = &trend.analysis else { return };
    let Some(model) = value.get_mut("analysis").and_then(|a| a.get_mut("Ok")) else { return };
    let mut set = |list: &str, k: usize, key: &str, date: Option<Value>| {
        if let (Some(Value::Object(item)), Some(date)) = (model.get_mut(list).and_then(|l| l.get_mut(k)), date) {
            item.insert(key.into(), date);
        }
    };
    for (k, incident) in analysis.incidents.iter().enumerate() {
        set("incidents", k, "start_iso", start_of(incident.start));
        set("incidents", k, "end_iso", end_of(incident.end));
        set("incidents", k, "peak_iso", start_of(incident.peak));
    }
    for (k, anomaly) in analysis.anomalies.iter().enumerate() {
        set("anomalies", k, "period_iso", start_of(anomaly.index));
    }
    for (k, change) in analysis.changepoints.iter().enumerate() {
        set("changepoints", k, "period_iso", start_of(change.index));
    }
}

/// One table of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvTable {
    /// Where it is in the report, dotted (`trend.analysis.incidents`).
    pub name: String,
    pub csv: String,
}

/// Every table in a report's JSON, as CSV: each list of records (their fields flattened to
/// dotted names; lists inside them become tables of their own), and each set of equally long
/// lists of values side by side in one record (a series with its dates and expected values).
pub fn tables(name: &str, value: &Value) -> Vec<CsvTable> {
    let mut out = Vec::new();
    collect_tables(name, value, &mut out);
    out
}

/// A list of values by its key: one column of a table.
type Column<'a> = (&'a str, &'a Vec<Value>);
/// A record, with the row of the enclosing table it belongs to.
type Record<'a> = (Option<usize>, &'a Value);
/// One list found in the records, per record (its row, the list).
type PerRecord<'a> = Vec<(usize, &'a Vec<Value>)>;
/// Lists by name.
type Named<'a> = (String, PerRecord<'a>);

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

fn collect_tables(path: &str, value: &Value, out: &mut Vec<CsvTable>) {
    match value {
        Value::Object(map) => {
            // Columns: lists of values of the same length, in the record's order.
            let mut groups: Vec<(usize, Vec<Column<'_>>)> = Vec::new();
            for (key, v) in map {
                if let Value::Array(items) = v {
                    if items.len() >= 2 && items.iter().all(is_scalar) {
                        match groups.iter_mut().find(|(len, _)| *len == items.len()) {
                            Some((_, columns)) => columns.push((key, items)),
                            None => groups.push((items.len(), vec![(key, items)])),
                        }
                    }
                }
            }
            for (len, columns) in &groups {
                let names: Vec<String> = columns.iter().map(|(k, _)| (*k).to_string()).collect();
                let rows = (0..*len).map(|i| columns.iter().map(|(_, items)| items.get(i).map(cell).unwrap_or_default()).collect());
                // The longest lists (the series itself) take the record's name.
                let longest = groups.iter().map(|(n, _)| *n).max().unwrap_or(0);
                let suffix = if *len == longest { String::new() } else { format!(".{}", columns.first().map_or("", |(k, _)| *k)) };
                push_csv(out, format!("{path}{suffix}"), &names, rows);
            }
            for (key, v) in map {
                if !is_scalar(v) {
                    // A result's success is the report itself: no `.Ok` in the names.
                    let inner = if key == "Ok" { path.to_string() } else { format!("{path}.{key}") };
                    collect_tables(&inner, v, out);
                }
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            let records: Vec<Record<'_>> = items.iter().map(|item| (None, item)).collect();
            records_table(path, &records, out);
        }
        Value::Array(items) => {
            for (k, item) in items.iter().enumerate() {
                collect_tables(&format!("{path}.{k}"), item, out);
            }
        }
        _ => {}
    }
}

/// A list of records as one table; `parent` is the row of the enclosing table a record belongs
/// to (a first column `row`). Lists inside the records become one table each (not one per
/// record), their rows pointing back at the record by `row`.
fn records_table(path: &str, records: &[Record<'_>], out: &mut Vec<CsvTable>) {
    let flat: Vec<(Option<usize>, Map<String, Value>)> = records
        .iter()
        .map(|(parent, item)| {
            let mut flat = Map::new();
            flatten("", item, &mut flat);
            (*parent, flat)
        })
        .collect();
    let mut names: Vec<String> = Vec::new();
    for (_, record) in &flat {
        for key in record.keys() {
            if !names.contains(key) {
                names.push(key.clone());
            }
        }
    }
    let with_parent = records.iter().any(|(parent, _)| parent.is_some());
    let header: Vec<String> = with_parent.then(|| "row".to_string()).into_iter().chain(names.iter().cloned()).collect();
    let rows = flat.iter().map(|(parent, r)| parent.filter(|_| with_parent).map(|p| p.to_string()).into_iter().chain(names.iter().map(|n| r.get(n).map(cell).unwrap_or_default())).collect());
    push_csv(out, path.to_string(), &header, rows);
    // Lists inside the records, gathered across records by their key path.
    let mut nested: Vec<Named<'_>> = Vec::new();
    for (k, (_, item)) in records.iter().enumerate() {
        let mut lists = Vec::new();
        lists_in("", item, &mut lists);
        for (key, list) in lists {
            match nested.iter_mut().find(|(name, _)| *name == key) {
                Some(entry) => entry.1.push((k, list)),
                None => nested.push((key, vec![(k, list)])),
            }
        }
    }
    // Lists of values side by side in each record (a timeline's dates and values) make one
    // table per object they sit in, as for a report's own lists; records make their own.
    let mut columns: Vec<(String, Vec<Named<'_>>)> = Vec::new();
    for (key, lists) in nested {
        let items: Vec<Record<'_>> = lists.iter().flat_map(|&(k, list)| list.iter().map(move |v| (Some(k), v))).collect();
        if items.iter().any(|(_, v)| v.is_object()) {
            records_table(&format!("{path}.{key}"), &items, out);
            continue;
        }
        let (parent, name) = key.rsplit_once('.').map_or((String::new(), key.clone()), |(p, n)| (p.to_string(), n.to_string()));
        match columns.iter_mut().find(|(p, _)| *p == parent) {
            Some(group) => group.1.push((name, lists)),
            None => columns.push((parent, vec![(name, lists)])),
        }
    }
    for (parent, group) in columns {
        let length = |lists: &[(usize, &Vec<Value>)], k: usize| lists.iter().find(|(r, _)| *r == k).map_or(0, |(_, l)| l.len());
        // Lists directly in the records are named by their own key (the records' table has the
        // records' name); lists in an object of theirs, by the object, when they align.
        let aligned = !parent.is_empty() && (0..records.len()).all(|k| group.iter().all(|(_, lists)| length(lists, k) == group.first().map_or(0, |(_, first)| length(first, k))));
        let parts: Vec<Vec<&Named<'_>>> = if aligned { vec![group.iter().collect()] } else { group.iter().map(|g| vec![g]).collect() };
        for part in parts {
            let own = if aligned { "" } else { part.first().map_or("", |(n, _)| n.as_str()) };
            let table = [path, parent.as_str(), own].iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(".");
            let header: Vec<String> = ["row".to_string()].into_iter().chain(part.iter().map(|(n, _)| n.clone())).collect();
            let mut rows: Vec<Vec<String>> = Vec::new();
            for k in 0..records.len() {
                let len = part.first().map_or(0, |(_, lists)| length(lists, k));
                for i in 0..len {
                    let value = |lists: &[(usize, &Vec<Value>)]| lists.iter().find(|(r, _)| *r == k).and_then(|(_, l)| l.get(i)).map(cell).unwrap_or_default();
                    rows.push([k.to_string()].into_iter().chain(part.iter().map(|(_, lists)| value(lists))).collect());
                }
            }
            if !rows.is_empty() {
                push_csv(out, table, &header, rows.into_iter());
            }
        }
    }
}

/// The lists in a record (at any depth of objects), by dotted key.
fn lists_in<'a>(prefix: &str, value: &'a Value, out: &mut Vec<(String, &'a Vec<Value>)>) {
    if let Value::Object(map) = value {
        for (key, v) in map {
            let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
            match v {
                Value::Array(list) => out.push((name, list)),
                Value::Object(_) => lists_in(&name, v, out),
                _ => {}
            }
        }
    }
}

/// A record's scalar fields, nested objects as dotted names (lists are left to their tables).
fn flatten(prefix: &str, value: &Value, out: &mut Map<String, Value>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(&name, v, out);
            }
        }
        Value::Array(_) => {}
        scalar => {
            out.insert(if prefix.is_empty() { "value".into() } else { prefix.into() }, scalar.clone());
        }
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn push_csv(out: &mut Vec<CsvTable>, name: String, header: &[String], rows: impl Iterator<Item = Vec<String>>) {
    // Names are unique (they become file names): a repeat gets a number.
    let mut name = name;
    let base = name.clone();
    let mut n = 1;
    while out.iter().any(|t| t.name == name) {
        n += 1;
        name = format!("{base}-{n}");
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut ok = writer.write_record(header).is_ok();
    for row in rows {
        ok &= writer.write_record(&row).is_ok();
    }
    if let (true, Ok(bytes)) = (ok, writer.into_inner()) {
        out.push(CsvTable { name, csv: String::from_utf8_lossy(&bytes).into_owned() });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;
    use serde_json::json;

    #[test]
    fn times_get_an_iso_twin_at_any_depth() {
        let mut v = json!({"baseline": {"start_ms": 0, "end_ms": 86_400_000}, "bucket_ms": 86_400_000, "timeline": {"starts_ms": [0, 3_600_000]}});
        add_iso_times(&mut v);
        assert_eq!(v["baseline"]["start_iso"], "1970-01-01T00:00:00Z");
        assert_eq!(v["baseline"]["end_iso"], "1970-01-02T00:00:00Z");
        assert_eq!(v["timeline"]["starts_iso"], json!(["1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z"]));
        assert!(v.get("bucket_iso").is_none(), "a duration is not a time");
    }

    #[test]
    fn records_and_side_by_side_lists_become_tables() {
        let v = json!({
            "segments": [{"name": "country=BR", "share": 0.5, "dims": {"a": 1}, "values": [{"x": 1}]}, {"name": "c, d", "extra": true}],
            "starts_ms": [1, 2, 3], "values": [4.5, null, 6], "short": [1, 2],
        });
        let t = tables("rca", &v);
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        // Fields in name order (JSON objects are unordered).
        assert_eq!(names, ["rca.short", "rca", "rca.segments", "rca.segments.values"], "the longest lists take the name");
        assert_eq!(t[1].csv, "starts_ms,values\n1,4.5\n2,\n3,6\n");
        assert_eq!(t[2].csv, "dims.a,name,share,extra\n1,country=BR,0.5,\n,\"c, d\",,true\n");
        assert_eq!(t[3].csv, "row,x\n0,1\n", "a list inside records: one table, rows pointing back");
        let list_in_records = json!([{"explaining": ["a", "b"]}, {"explaining": ["c"]}]);
        let t = tables("dims", &list_in_records);
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["dims", "dims.explaining"], "never the records' own name twice");
        assert_eq!(t[1].csv, "row,explaining\n0,a\n0,b\n1,c\n");
    }

    #[test]
    fn lists_side_by_side_in_records_share_a_table() {
        let v = json!([
            {"summary": "a", "timeline": {"starts_ms": [1, 2], "total": [3, 4]}},
            {"summary": "b", "timeline": {"starts_ms": [5], "total": [6]}},
        ]);
        let t = tables("causes", &v);
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["causes", "causes.timeline"]);
        assert_eq!(t[1].csv, "row,starts_ms,total\n0,1,3\n0,2,4\n1,5,6\n");
        // Lists of unequal lengths in one record stay apart.
        let ragged = json!([{"timeline": {"starts_ms": [1, 2], "total": [3]}}]);
        let t = tables("causes", &ragged);
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["causes", "causes.timeline.starts_ms", "causes.timeline.total"]);
        assert_eq!(t[2].csv, "row,total\n0,3\n");
    }
}
