//! Replays the fuzz corpora (`tests/fuzz/corpus/<target>/`) through the fuzz targets' bodies,
//! without libFuzzer: every input the fuzzer kept, and every crash it found (saved there as a
//! regression case), must run without a panic. `make fuzz` grows the corpora.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus").join(target);
    let mut inputs = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| run(&bytes));
        assert!(outcome.is_ok(), "{target}: {} panics", path.display());
        inputs += 1;
    }
    assert!(inputs >= 5, "{target}: only {inputs} corpus inputs");
}

#[test]
fn csv_load_corpus() {
    replay("csv_load", targets::csv_load);
}

#[test]
fn csv_parallel_corpus() {
    replay("csv_parallel", targets::csv_parallel);
}

#[test]
fn rule_corpus() {
    replay("rule", targets::rule);
}

#[test]
fn view_link_corpus() {
    replay("view_link", targets::view_link);
}

#[test]
fn analyses_corpus() {
    replay("analyses", targets::analyses);
}
