//! `vigil`: the app's UI thread in the browser (wasm32), the command line everywhere else.

#[cfg(target_arch = "wasm32")]
fn main() {
    vigil::ui::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    vigil::cli::main()
}
