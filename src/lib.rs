//! Vigil: a safety-signal explorer that runs entirely in the browser.
//!
//! Layers depend one way: `ui → plot → analysis → data`. `data` (and later `analysis`,
//! `plot`) and `protocol` are pure and build natively; `ui` and `worker` hold all browser
//! glue and build for wasm32 only. See ARCHITECTURE.md.

pub mod analysis;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod data;
pub mod document;
pub mod format;
pub mod plot;
pub mod protocol;
pub mod viewport;
pub mod viewstate;
pub mod warehouse;

#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;
