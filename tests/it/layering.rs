//! The architecture invariant, checked: the pure layers (`data`, `analysis`, `plot` apart from
//! its canvas adapter, and `protocol`) import no browser crate, read no clock and use no
//! unseeded randomness, so they build and test natively.

use std::fs;
use std::path::{Path, PathBuf};

const FORBIDDEN: [&str; 9] = [
    "leptos", "web_sys", "wasm_bindgen", "js_sys", "Instant::now", "SystemTime", "thread_rng", "from_entropy", "OsRng",
];
/// The one file in `plot/` allowed to touch the browser.
const CANVAS_ADAPTER: &str = "canvas.rs";

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn pure_layers_do_not_touch_the_browser_clock_or_entropy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.join("protocol.rs"), root.join("viewport.rs"), root.join("viewstate.rs")];
    for layer in ["data", "analysis", "plot"] {
        rust_files(&root.join(layer), &mut files);
    }
    files.retain(|f| !(f.parent().is_some_and(|p| p.ends_with("plot")) && f.ends_with(CANVAS_ADAPTER)));
    assert!(files.len() > 5, "found only {files:?}");
    let mut violations = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        for (line_idx, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN {
                if code.contains(word) {
                    violations.push(format!("{}:{}: {word}", file.display(), line_idx + 1));
                }
            }
        }
    }
    assert!(violations.is_empty(), "pure layers must stay pure:\n{}", violations.join("\n"));
}

#[test]
fn lower_layers_do_not_import_higher_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rules = [("data", ["crate::analysis", "crate::plot", "crate::ui", "crate::worker", "crate::protocol"].as_slice()),
                 ("analysis", ["crate::plot", "crate::ui", "crate::worker"].as_slice()),
                 ("plot", ["crate::ui", "crate::worker"].as_slice())];
    let mut violations = Vec::new();
    for (layer, forbidden) in rules {
        let mut files = Vec::new();
        rust_files(&root.join(layer), &mut files);
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            for word in forbidden {
                if text.contains(word) {
                    violations.push(format!("{} uses {word}", file.display()));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
