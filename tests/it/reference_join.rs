//! The lookup join against pandas: a seeded table of reports (an account key that is sometimes
//! missing or absent from the lookup file) joined to a roster of accounts (some accounts on
//! several rows) gives the columns, cell for cell, and the counts that pandas' left merge with
//! `validate="m:1"` gives after `drop_duplicates(keep="first" | "last")`. Runs
//! `tests/reference/join_reference.py` (`make py-deps`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use vigil::data::join::{lookup_join, JoinSpec, Repeated};
use vigil::data::load::{load_bytes, LoadOptions};
use vigil::data::table::{Table, Value as Cell};

fn files(seed: u64) -> (String, String) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut reports = String::from("report_id,account,score\n");
    for i in 0..5_000 {
        let account = if rng.gen_bool(0.05) { String::new() } else { rng.gen_range(0..1_200).to_string() };
        writeln!(reports, "r{i},{account},{:.2}", rng.gen::<f64>() * 10.0).unwrap();
    }
    // Accounts 0..1,000 (so 1,000..1,200 are never found), about 3 % of them on a second row
    // with other values, in shuffled order.
    let plans = ["free", "pro", "team", "enterprise"];
    let mut rows: Vec<String> = Vec::new();
    for id in 0..1_000 {
        let times = if rng.gen_bool(0.03) { 2 } else { 1 };
        for _ in 0..times {
            let age = if rng.gen_bool(0.1) { String::new() } else { rng.gen_range(0..4_000).to_string() };
            let region = ["EU", "NA", "APAC", "LATAM"][rng.gen_range(0..4)];
            rows.push(format!("{id},{},{age},{region},{:.3}", plans[rng.gen_range(0..plans.len())], rng.gen::<f64>()));
        }
    }
    for i in (1..rows.len()).rev() {
        rows.swap(i, rng.gen_range(0..=i));
    }
    let accounts = format!("account_id,plan,age_days,region,risk\n{}\n", rows.join("\n"));
    (reports, accounts)
}

fn cell_json(table: &Table, column: &str, row: usize) -> Value {
    match table.column(column).unwrap().value(row) {
        Cell::Missing => Value::Null,
        Cell::Str(s) => Value::from(s),
        Cell::Int(v) => Value::from(v as f64),
        Cell::Float(v) => Value::from(v),
        other => Value::from(other.display()),
    }
}

#[test]
fn a_lookup_join_equals_pandas_left_merge() {
    let (reports, accounts) = files(23);
    let dir = std::env::temp_dir().join(format!("vigil-join-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (reports_path, accounts_path) = (dir.join("reports.csv"), dir.join("accounts.csv"));
    std::fs::write(&reports_path, &reports).unwrap();
    std::fs::write(&accounts_path, &accounts).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/join_reference.py");
    let output = Command::new("python3").arg(&script).arg(&reports_path).arg(&accounts_path).args(["account", "account_id"]).output().expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reference: Value = serde_json::from_slice(&output.stdout).unwrap();
    let base = load_bytes(reports.as_bytes(), LoadOptions::default()).unwrap().table;
    let lookup = load_bytes(accounts.as_bytes(), LoadOptions::default()).unwrap().table;

    // Repeated accounts are refused until a row is chosen.
    let refused = lookup_join(&mut base.clone(), &lookup, &JoinSpec { key: "account".into(), lookup_key: "account_id".into(), repeated: Repeated::Refuse });
    assert!(refused.unwrap_err().to_string().contains("keys are on more than one row of the lookup file"));

    for (keep, repeated) in [("first", Repeated::First), ("last", Repeated::Last)] {
        let mut table = base.clone();
        let joined = lookup_join(&mut table, &lookup, &JoinSpec { key: "account".into(), lookup_key: "account_id".into(), repeated }).unwrap();
        let expected = &reference[keep];
        assert_eq!(joined.matched_rows as u64, expected["matched"].as_u64().unwrap(), "{keep}");
        assert_eq!(joined.unmatched_rows as u64, expected["unmatched"].as_u64().unwrap(), "{keep}");
        assert_eq!(joined.missing_key_rows as u64, expected["missing_key"].as_u64().unwrap(), "{keep}");
        assert!(joined.matched_rows > 3_000 && joined.unmatched_rows > 300 && joined.repeated_keys > 10, "{joined:?}");
        assert_eq!(joined.columns, ["plan", "age_days", "region", "risk"]);
        for column in &joined.columns {
            let want = expected["columns"][column].as_array().unwrap();
            assert_eq!(want.len(), table.n_rows);
            for (row, want) in want.iter().enumerate() {
                let got = cell_json(&table, column, row);
                let same = match (&got, want) {
                    (Value::Number(a), Value::Number(b)) => (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() <= 1e-12,
                    _ => got == *want,
                };
                assert!(same, "{keep}: {column} row {row}: {got} ≠ pandas' {want}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
