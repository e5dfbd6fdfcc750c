//! CSV conformance: every case of the public `csv-spectrum` suite parses to its expected JSON.
//!
//! The suite is an npm package installed by `make e2e-deps` into `tests/e2e/node_modules`
//! (it is not copied into this repository). Types are not inferred here: the suite checks
//! tokenising, so every cell is compared as written.

use std::fs;
use std::path::Path;

use vigil::data::load::{load_bytes, LoadOptions};

type Row = serde_json::Map<String, serde_json::Value>;

/// Where csv-spectrum 2.0.0's expected JSON contradicts its own CSV: (case, column, the value
/// the CSV holds, the value the JSON claims). Vigil must read what the CSV holds.
const SUITE_DEFECTS: [(&str, &str, &str, &str); 1] =
    [("location_coordinates", "Contact Phone Number", "2095257564", "1234567890")];

/// The expected rows: an array of objects (one case is a bare object: one row).
fn expected_rows(json: &[u8]) -> Vec<Row> {
    match serde_json::from_slice::<serde_json::Value>(json).unwrap() {
        serde_json::Value::Array(rows) => rows.into_iter().map(|r| r.as_object().cloned().unwrap()).collect(),
        serde_json::Value::Object(row) => vec![row],
        other => panic!("unexpected JSON: {other}"),
    }
}

#[test]
fn every_csv_spectrum_case_parses_to_its_expected_json() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/node_modules/csv-spectrum");
    assert!(suite.is_dir(), "csv-spectrum is not installed: run `make e2e-deps` (npm install in tests/e2e)");
    let mut cases = 0;
    let mut failures = Vec::new();
    for entry in fs::read_dir(suite.join("csvs")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let mut expected = expected_rows(&fs::read(suite.join("json").join(format!("{name}.json"))).unwrap());
        for (case, column, in_csv, in_json) in SUITE_DEFECTS {
            for row in expected.iter_mut().filter(|_| case == name) {
                assert_eq!(row.get(column), Some(&serde_json::Value::String(in_json.into())), "suite defect changed");
                row.insert(column.into(), serde_json::Value::String(in_csv.into()));
            }
        }
        let options = LoadOptions { delimiter: Some(b','), has_header: Some(true), infer_types: false, ..LoadOptions::default() };
        let table = load_bytes(&fs::read(&path).unwrap(), options).unwrap_or_else(|e| panic!("{name}: {e}")).table;
        cases += 1;
        let got: Vec<Row> = (0..table.n_rows)
            .map(|row| {
                table.columns.iter().map(|c| (c.name.clone(), serde_json::Value::String(c.value(row).display()))).collect()
            })
            .collect();
        if got != expected {
            failures.push(format!("{name}:\n  expected {expected:?}\n  got      {got:?}"));
        }
    }
    assert!(cases >= 12, "only {cases} cases found");
    assert!(failures.is_empty(), "{} of {cases} cases differ:\n{}", failures.len(), failures.join("\n"));
}
