//! Data layer: CSV loading, type inference, the columnar [`table::Table`] and the demo
//! dataset. Pure Rust: no browser APIs, no clock, no unseeded randomness.

pub mod append;
pub mod builder;
pub mod demo;
pub mod export;
pub mod expr;
pub mod filter;
pub mod infer;
pub mod join;
pub mod json;
pub mod load;
#[cfg(feature = "readers")]
pub mod parquet;
pub mod readers;
pub mod sort;
pub mod table;
pub mod time;
pub mod weights;
pub mod wire;
#[cfg(feature = "readers")]
pub mod xlsx;
