//! Analyses over the table: pure functions of a `Table` and a row selection, with checked
//! parameters and typed reports. No browser APIs, no clock, no unseeded randomness.

pub mod backtest;
pub mod cluster;
pub mod contract;
pub mod copies;
pub mod features;
pub mod groups;
pub mod bsts;
pub mod impact;
pub mod objective;
pub mod parallel;
pub mod labels;
pub mod nan_serde;
pub mod prevalence;
pub mod profile;
pub mod regression;
pub mod rings;
pub mod registry;
pub mod rootcause;
pub mod series;
pub mod stats;
pub mod terms;
pub mod tree;
pub mod trend;
