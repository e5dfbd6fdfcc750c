//! Browser UI (Leptos, client-side rendered). All DOM glue lives here; analyses run in the
//! worker and arrive as small typed results.

mod app;
pub use app::App;
mod chart;
mod client;
mod controls;
mod download;
mod export;
mod filter_bar;
mod jobs;
mod panels;
mod share;
mod state;

use wasm_bindgen::JsCast;

/// Installs the panic banner and mounts the app on `<body>`.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_fatal(&info.to_string());
    }));
    // The app is drawn in a task of its own: this one already compiled and started the module
    // (a page-open task of 31–57 ms with both, 2026-12-05 traces; the drawing is about 16 ms).
    leptos::prelude::set_timeout(
        || {
            leptos::mount::mount_to_body(app::App);
            // index.html's "starting" line, in the same task: never on screen with the app.
            if let Some(boot) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("boot")) {
                boot.remove();
            }
            register_service_worker();
        },
        std::time::Duration::ZERO,
    );
}

/// Installs `sw.js` (the offline copy of the app's files) where the browser offers service
/// workers: http(s) pages in a secure context (https, or localhost).
fn register_service_worker() {
    let Some(window) = web_sys::window() else { return };
    let navigator = window.navigator();
    let offered = js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false) && window.is_secure_context();
    if offered {
        let promise = navigator.service_worker().register("./sw.js");
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(err) = wasm_bindgen_futures::JsFuture::from(promise).await {
                web_sys::console::warn_2(&"vigil: no offline copy (service worker not installed)".into(), &err);
            }
        });
    }
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
