//! The Web Worker's entry point: answers requests from the UI thread.

fn main() {
    #[cfg(target_arch = "wasm32")]
    vigil::worker::run();
}
