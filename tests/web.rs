//! Browser tests (wasm-bindgen-test in headless Chromium): `make test-wasm`.
//!
//! These check what only a browser can: that the app mounts, and that the data core
//! behaves the same compiled to wasm32 as natively.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failing unwrap is a failing test

use vigil::data::demo::{demo_csv, DemoParams};
use vigil::data::load::{load_bytes, LoadOptions};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "common/demo_fingerprint.rs"]
mod demo_fingerprint;

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

#[wasm_bindgen_test]
fn app_mounts_with_every_tab() {
    leptos::mount::mount_to_body(vigil::ui::App);
    let tabs = document().query_selector_all("[role=tab]").unwrap();
    let labels: Vec<String> = (0..tabs.length()).map(|idx| tabs.item(idx).unwrap().text_content().unwrap()).collect();
    assert_eq!(labels, ["Data", "Profile", "Trends", "Root cause", "Clusters", "Models & rules"]);
    assert!(document().query_selector("[data-testid=load-demo]").unwrap().is_some());
}

#[wasm_bindgen_test]
fn loader_runs_in_wasm() {
    let csv = demo_csv(DemoParams { rows: 1000, seed: 11 });
    let report = load_bytes(&csv, LoadOptions::default()).unwrap();
    assert_eq!(report.table.n_rows, 1000);
    assert_eq!(report.table.columns.len(), 24);
}

#[wasm_bindgen_test]
fn the_demo_is_the_same_bytes_as_natively() {
    // Random draws over `usize` are 32-bit here and 64-bit natively; the generator avoids them.
    let csv = demo_csv(DemoParams::default());
    assert_eq!(csv.len(), demo_fingerprint::DEFAULT_DEMO_BYTES);
    assert_eq!(demo_fingerprint::fnv1a(&csv), demo_fingerprint::DEFAULT_DEMO_FNV1A);
}
