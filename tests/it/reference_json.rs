//! JSON Lines against pandas: a seeded file of nested objects (objects in objects, arrays,
//! nulls, absent keys, a key that first appears after the first thousand records, text with
//! commas, quotes, line ends and non-ASCII letters, times) flattens to the columns
//! `pandas.json_normalize(records, sep=".")` gives, cell for cell. Runs
//! `tests/reference/json_reference.py` (`make py-deps`).

use std::path::Path;
use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use vigil::data::load::{load_bytes, LoadOptions};
use vigil::data::table::{ColumnType, Value as Cell};

fn records(seed: u64, n: usize) -> Vec<Value> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let reasons = ["spam", "scam, \"crypto\"", "harassment\nthread", "violence", "ça va", "🙂 emoji"];
    (0..n)
        .map(|i| {
            let mut record = json!({
                "id": i,
                "created_at": format!("2026-0{}-{:02}T{:02}:{:02}:00Z", rng.gen_range(1..10), rng.gen_range(1..29), rng.gen_range(0..24), rng.gen_range(0..60)),
                "reason": reasons[rng.gen_range(0..reasons.len())],
                "score": (rng.gen::<f64>() * 1000.0).round() / 100.0,
                "actioned": rng.gen_bool(0.3),
                "account": {"age_days": rng.gen_range(0..4000), "country": (["US", "BR", "IN", "DE"][rng.gen_range(0..4)]), "flags": {"verified": rng.gen_bool(0.5)}},
                "labels": (0..rng.gen_range(0..3)).map(|k| format!("l{k}")).collect::<Vec<_>>(),
            });
            let object = record.as_object_mut().unwrap();
            if rng.gen_bool(0.1) {
                object.remove("score");
            }
            if rng.gen_bool(0.05) {
                object.insert("account".into(), Value::Null);
            }
            if rng.gen_bool(0.05) {
                object.insert("reason".into(), Value::Null);
            }
            if i > 1_200 && rng.gen_bool(0.2) {
                object.insert("appeal".into(), json!({"filed": true, "days": rng.gen_range(1..30)}));
            }
            record
        })
        .collect()
}

#[test]
fn json_lines_flatten_as_pandas_json_normalize_does() {
    let records = records(11, 3_000);
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    let dir = std::env::temp_dir().join(format!("vigil-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("records.jsonl");
    std::fs::write(&path, &text).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/json_reference.py");
    let output = Command::new("python3").arg(&script).arg(&path).output().expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reference: Value = serde_json::from_slice(&output.stdout).unwrap();

    let report = load_bytes(text.as_bytes(), LoadOptions::default()).unwrap();
    let table = &report.table;
    assert_eq!(table.n_rows as u64, reference["rows"].as_u64().unwrap());
    let theirs = reference["columns"].as_object().unwrap();
    let mut ours: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let mut names: Vec<&str> = theirs.keys().map(String::as_str).collect();
    ours.sort_unstable();
    names.sort_unstable();
    assert_eq!(ours, names);
    for column in &table.columns {
        let cells = theirs[&column.name].as_array().unwrap();
        for (row, expected) in cells.iter().enumerate() {
            let got = column.value(row);
            let context = format!("{} row {row}: {got:?} against {expected}", column.name);
            match (&got, expected) {
                (Cell::Missing, Value::Null) => {}
                (Cell::Int(v), Value::Number(n)) => assert_eq!(*v as f64, n.as_f64().unwrap(), "{context}"),
                (Cell::Float(v), Value::Number(n)) => assert_eq!(*v, n.as_f64().unwrap(), "{context}"),
                // Identifiers stay text (Vigil's inference, as for CSV), written as in the file.
                (Cell::Str(s), Value::Number(n)) => assert_eq!(s.parse::<f64>().unwrap(), n.as_f64().unwrap(), "{context}"),
                (Cell::Bool(v), Value::Bool(b)) => assert_eq!(v, b, "{context}"),
                (Cell::Timestamp(ms), Value::Object(o)) => assert_eq!(*ms, o["ms"].as_i64().unwrap(), "{context}"),
                (Cell::Str(s), Value::Object(o)) => assert_eq!(*s, o.get("s").or(o.get("array")).unwrap().as_str().unwrap(), "{context}"),
                _ => panic!("{context}"),
            }
        }
    }
    // Types as an analyst expects them, and the late key's column is there, missing before.
    let kind = |name: &str| table.column(name).unwrap().kind;
    assert_eq!(kind("created_at"), ColumnType::Timestamp);
    assert_eq!(kind("score"), ColumnType::Float);
    assert_eq!(kind("account.flags.verified"), ColumnType::Boolean);
    assert_eq!(kind("appeal.days"), ColumnType::Integer);
    assert_eq!(table.column("appeal.filed").unwrap().count_valid(), theirs["appeal.filed"].as_array().unwrap().iter().filter(|v| !v.is_null()).count());
    assert!(report.notices.iter().any(|n| n.contains("“labels”")), "{:?}", report.notices);
}
