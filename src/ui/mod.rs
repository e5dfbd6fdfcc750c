//! Browser UI (Leptos, client-side rendered). All DOM glue lives here; analyses run in the
//! worker and arrive as small typed results.

mod app;
pub use app::App;
mod chart;
mod client;
mod clusters_tab;
mod controls;
mod data_tab;
mod download;
mod filter_bar;
mod grid;
mod labels_panel;
mod models_tab;
mod profile_tab;
mod rootcause_tab;
mod share;
mod state;
mod trends_tab;

use wasm_bindgen::JsCast;

/// Installs the panic banner and mounts the app on `<body>`.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_fatal(&info.to_string());
    }));
    leptos::mount::mount_to_body(app::App);
}

/// Shows the static banner from index.html; works even when Leptos can no longer render.
fn show_fatal(message: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    if let Some(banner) = document.get_element_by_id("fatal") {
        if let Some(detail) = document.get_element_by_id("fatal-detail") {
            detail.set_text_content(Some(message));
        }
        if let Ok(banner) = banner.dyn_into::<web_sys::HtmlElement>() {
            banner.set_hidden(false);
        }
    }
}
