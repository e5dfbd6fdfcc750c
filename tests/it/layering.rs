//! The architecture invariants, checked: the pure layers (`format`, `data`, `analysis`, `plot`
//! apart from its canvas adapter, and `protocol`) import no browser crate, read no clock and use
//! no unseeded randomness, so they build and test natively; no layer imports one above it; and
//! no panel imports another (they talk through an intent).

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
    let mut files = vec![root.join("format.rs"), root.join("protocol.rs"), root.join("viewport.rs"), root.join("viewstate.rs"), root.join("document.rs")];
    for layer in ["data", "analysis", "plot", "warehouse"] {
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

/// Paths a file of `src/` names (`crate::x`, `super::x`), with the line they are on.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (line_idx, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for prefix in ["crate::", "super::"] {
            let mut rest = code;
            while let Some(at) = rest.find(prefix) {
                let tail = &rest[at..];
                let end = tail.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(tail.len());
                found.push((line_idx + 1, tail[..end].to_string()));
                rest = &tail[prefix.len()..];
            }
        }
    }
    found
}

#[test]
fn lower_layers_do_not_import_higher_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    // Bottom to top: format → data → analysis → plot → protocol / viewstate → worker, ui.
    let above = |layer: &str| -> &'static [&'static str] {
        match layer {
            "format" => &["crate::data", "crate::analysis", "crate::plot", "crate::protocol", "crate::viewstate", "crate::viewport", "crate::ui", "crate::worker"],
            "data" => &["crate::analysis", "crate::plot", "crate::protocol", "crate::viewstate", "crate::ui", "crate::worker", "crate::cli", "crate::document", "crate::warehouse"],
            "analysis" => &["crate::plot", "crate::protocol", "crate::viewstate", "crate::ui", "crate::worker", "crate::cli", "crate::document", "crate::warehouse"],
            "plot" => &["crate::protocol", "crate::viewstate", "crate::ui", "crate::worker", "crate::cli", "crate::document"],
            "protocol" | "viewstate" => &["crate::ui", "crate::worker", "crate::plot"],
            "document" => &["crate::plot", "crate::protocol", "crate::viewstate", "crate::ui", "crate::worker", "crate::cli"],
            // The cube and its SQL: above data and analysis, read by the protocol, the worker,
            // the UI and the command line.
            "warehouse" => &["crate::plot", "crate::protocol", "crate::viewstate", "crate::ui", "crate::worker", "crate::cli", "crate::document"],
            // The command line is glue like the UI, beside it: it never reaches into the app.
            "cli" => &["crate::ui", "crate::worker"],
            _ => &[],
        }
    };
    let mut checked = Vec::new();
    for layer in ["data", "analysis", "plot", "cli", "warehouse"] {
        let mut files = Vec::new();
        rust_files(&root.join(layer), &mut files);
        checked.extend(files.into_iter().map(|f| (layer, f)));
    }
    for layer in ["format", "protocol", "viewstate", "document"] {
        checked.push((layer, root.join(format!("{layer}.rs"))));
    }
    let mut violations = Vec::new();
    for (layer, file) in &checked {
        let text = fs::read_to_string(file).unwrap();
        for (line, path) in crate_paths(&text) {
            if above(layer).iter().any(|up| path.starts_with(up)) {
                violations.push(format!("{}:{line}: {layer} uses {path}", file.display()));
            }
        }
    }
    assert!(checked.len() > 30, "found only {} files", checked.len());
    assert!(violations.is_empty(), "a layer imports one above it:\n{}", violations.join("\n"));
}

#[test]
fn panels_do_not_import_panels() {
    let panels = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui/panels");
    let names: Vec<String> = fs::read_dir(&panels).unwrap().flatten().filter(|e| e.path().is_dir()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(names.len() >= 6, "{names:?}");
    let mut violations = Vec::new();
    for own in &names {
        let mut files = Vec::new();
        rust_files(&panels.join(own), &mut files);
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            for (line, path) in crate_paths(&text) {
                for other in names.iter().filter(|n| *n != own) {
                    let imports = [format!("crate::ui::panels::{other}"), format!("super::{other}"), format!("super::super::{other}")];
                    if imports.iter().any(|i| path == *i || path.starts_with(&format!("{i}::"))) {
                        violations.push(format!("{}:{line}: the {own} panel uses {path}", file.display()));
                    }
                }
            }
        }
    }
    assert!(violations.is_empty(), "panels talk through an intent, never by importing each other:\n{}", violations.join("\n"));
}
