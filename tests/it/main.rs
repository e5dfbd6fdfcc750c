//! The native integration tests, as one test binary (one link of linfa, augurs and the rest
//! instead of one per file). Each module is a former `tests/<name>.rs`; run one with
//! `cargo test --test it <module>::`.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failing unwrap is a failing test

mod cli;
mod cluster_truths;
mod csv_spectrum;
mod demo_truths;
mod fuzz_replay;
mod layering;
mod load_props;
mod parallel_load;
mod reference_anomaly;
mod reference_bsts;
mod reference_cluster;
mod reference_impact;
mod reference_join;
mod reference_parquet;
mod reference_xlsx;
mod reference_json;
mod reference_labels;
mod reference_prevalence;
mod reference_regression;
mod reference_copies;
mod reference_rings;
mod reference_rootcause;
mod reference_rs;
mod reference_scores;
mod reference_stats;
mod reference_terms;
mod reference_tree;
mod reference_trend;
mod readers;
mod rootcause_hard;
mod rootcause_random;
mod rootcause_truths;
mod trend_incidents;
mod trend_truths;
mod warehouse;
