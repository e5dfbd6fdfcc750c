//! `vigil`: the app's UI thread in the browser (wasm32), the command line everywhere else.

#[cfg(target_arch = "wasm32")]
fn main() {
    vigil::ui::start();
}

/// mimalloc natively: see ARCHITECTURE.md's dependencies (the load's many short-lived
/// allocations, and its columns' memory in huge pages).
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    vigil::cli::main()
}
