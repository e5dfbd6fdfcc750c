//! The UI thread's entry point: mounts the app.

fn main() {
    #[cfg(target_arch = "wasm32")]
    vigil::ui::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("vigil is a browser app: run `make serve` and open it in a browser");
}
