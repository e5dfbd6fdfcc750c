//! Exports: any chart as SVG or PNG (as drawn on screen, titled, with a footnote of the data
//! source, filter and date), any table as CSV, and the tab on screen as a self-contained HTML
//! report (charts as SVG, tables, summaries; no scripts). Everything is made in the browser
//! and saved as a download; nothing is uploaded.

use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlCanvasElement, HtmlElement};

use super::download::{download_text, download_url};
use super::state::AppState;
use crate::data::export::text_rows_csv;
use crate::plot::canvas::{RASTER_PROPERTY, SVG_PROPERTY};
use crate::plot::export::{compose_svg, composed_size, xml_escape};

/// What an [`Exportable`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// A canvas chart: PNG and SVG.
    Chart,
    /// A table: CSV.
    Table,
}

/// Wraps a chart or a table with small export buttons (shown on hover or focus).
#[component]
pub fn Exportable(
    /// File name stem and test id: `export-{name}-png`.
    #[prop(into)]
    name: String,
    /// The chart's title in the exported file (tables need none).
    #[prop(into, default = Signal::stored(String::new()))]
    title: Signal<String>,
    #[prop(default = ExportKind::Chart)] kind: ExportKind,
    children: Children,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let holder = NodeRef::<Div>::new();
    let problem = RwSignal::new(None::<String>);
    let stem = StoredValue::new(file_stem(&name));
    let run = move |format: &'static str| {
        let Some(holder) = holder.get_untracked() else { return };
        let stem = stem.get_value();
        let holder: HtmlElement = holder.into();
        let title = title.get_untracked();
        let result = match format {
            "csv" => table_csv(&holder).and_then(|csv| download_text(&format!("{stem}.csv"), "text/csv", &csv)),
            "svg" => chart_document(state, &holder, &title).and_then(|(svg, _, _)| download_text(&format!("{stem}.svg"), "image/svg+xml", &svg)),
            _ => chart_document(state, &holder, &title).map(|(svg, w, h)| {
                let filename = format!("{stem}.png");
                leptos::task::spawn_local(async move {
                    let saved = svg_to_png(&svg, w, h).await.and_then(|url| download_url(&filename, &url));
                    problem.set(saved.err());
                });
            }),
        };
        problem.set(result.err());
    };
    let testid = |format: &str| format!("export-{name}-{format}");
    view! {
        <div class=if kind == ExportKind::Table { "exportable table-export" } else { "exportable" } node_ref=holder>
            {children()}
            <div class="export-actions">
                {match kind {
                    ExportKind::Chart => view! {
                        <button class="button tiny" title="Save this chart as PNG" data-testid=testid("png") on:click=move |_| run("png")>"PNG"</button>
                        <button class="button tiny" title="Save this chart as SVG" data-testid=testid("svg") on:click=move |_| run("svg")>"SVG"</button>
                    }.into_any(),
                    ExportKind::Table => view! {
                        <button class="button tiny" title="Save this table as CSV" data-testid=testid("csv") on:click=move |_| run("csv")>"CSV"</button>
                    }.into_any(),
                }}
            </div>
            {move || problem.get().map(|p| view! { <p class="problem">"Export failed: " {p}</p> })}
        </div>
    }
}

/// A file name from a chart or table name: letters, digits and dashes.
fn file_stem(name: &str) -> String {
    let cleaned: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    format!("vigil-{}", cleaned.trim_matches('-'))
}

/// The footnote of every export: where the numbers come from.
fn footnote(state: AppState) -> Vec<String> {
    let source = state.summary.with_untracked(|s| s.as_ref().map(|s| format!("Data: {} · {} rows", s.source.describe(), crate::format::format_count(s.n_rows as u64))));
    let filter = state.filter.with_untracked(|f| f.clauses.iter().map(|c| c.describe()).collect::<Vec<_>>().join(" ∧ "));
    let matched = state.matched.get_untracked().map(|m| format!(" ({} rows)", crate::format::format_count(m as u64))).unwrap_or_default();
    let filter = if filter.is_empty() { "Filter: none (all rows)".to_string() } else { format!("Filter: {filter}{matched}") };
    let now = crate::data::time::format_display_ms(js_sys::Date::now() as i64);
    vec![source.unwrap_or_else(|| "Data: none".into()), filter, format!("Made with Vigil, {now} UTC")]
}

fn dark() -> bool {
    super::chart::theme() == crate::plot::PlotTheme::DARK
}

/// The SVG of the last drawing of `canvas`, with the raster laid over it (the cluster map).
fn recorded_svg(canvas: &HtmlCanvasElement) -> Option<String> {
    // Charts still waiting for their first drawing are drawn now.
    super::chart::draw_pending_now();
    let svg = js_sys::Reflect::get(canvas, &SVG_PROPERTY.into()).ok()?.as_string()?;
    let Some(raster) = js_sys::Reflect::get(canvas, &RASTER_PROPERTY.into()).ok().filter(|r| r.is_object()) else { return Some(svg) };
    let get = |key: &str| js_sys::Reflect::get(&raster, &key.into()).ok();
    let image = get("canvas").and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())?;
    let (x, y) = (get("x")?.as_f64()?, get("y")?.as_f64()?);
    let png = image.to_data_url().ok()?;
    let tag = format!("<image x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" href=\"{}\"/>\n", image.width(), image.height(), xml_escape(&png));
    let end = svg.rfind("</svg>")?;
    Some(format!("{}{tag}{}", &svg[..end], &svg[end..]))
}

/// The first chart in `holder` as a titled SVG document, and its size.
fn chart_document(state: AppState, holder: &HtmlElement, title: &str) -> Result<(String, u32, u32), String> {
    let canvas = holder
        .query_selector("canvas")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())
        .ok_or("there is no chart here")?;
    let svg = recorded_svg(&canvas).ok_or("the chart has not been drawn yet")?;
    let notes = footnote(state);
    let (w, h) = (canvas.width(), canvas.height());
    let document = compose_svg(&svg, w, h, title, &notes, super::chart::theme(), dark());
    let (cw, ch) = composed_size(w, h, notes.len());
    Ok((document, cw, ch))
}

/// Renders an SVG document to a PNG at twice its size (crisp on high-density screens and in
/// slides); returns it as a data URL.
async fn svg_to_png(svg: &str, width: u32, height: u32) -> Result<String, String> {
    const SCALE: u32 = 2;
    let err = |e: wasm_bindgen::JsValue| format!("{e:?}");
    let parts = js_sys::Array::of1(&svg.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("image/svg+xml;charset=utf-8");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(err)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(err)?;
    let image = web_sys::HtmlImageElement::new().map_err(err)?;
    image.set_src(&url);
    let decoded = wasm_bindgen_futures::JsFuture::from(image.decode()).await;
    let _ = web_sys::Url::revoke_object_url(&url);
    decoded.map_err(|_| "the chart could not be rendered as an image".to_string())?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let canvas: HtmlCanvasElement = document.create_element("canvas").map_err(err)?.dyn_into().map_err(|_| "not a canvas")?;
    canvas.set_width(width * SCALE);
    canvas.set_height(height * SCALE);
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").map_err(err)?.ok_or("no 2-D context")?.dyn_into().map_err(|_| "not a 2-D context")?;
    context.scale(f64::from(SCALE), f64::from(SCALE)).map_err(err)?;
    context.draw_image_with_html_image_element_and_dw_and_dh(&image, 0.0, 0.0, f64::from(width), f64::from(height)).map_err(err)?;
    canvas.to_data_url_with_type("image/png").map_err(err)
}

/// The text of a cell without its buttons ("Explain", "Filter", …).
fn cell_text(cell: &Element) -> String {
    let Ok(copy) = cell.clone_node_with_deep(true) else { return String::new() };
    let Ok(copy) = copy.dyn_into::<Element>() else { return String::new() };
    if let Ok(buttons) = copy.query_selector_all("button, .no-export") {
        for i in 0..buttons.length() {
            if let Some(node) = buttons.item(i) {
                if let Some(parent) = node.parent_node() {
                    let _ = parent.remove_child(&node);
                }
            }
        }
    }
    copy.text_content().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first table in `holder` as CSV, as shown (header and body rows).
fn table_csv(holder: &HtmlElement) -> Result<String, String> {
    let table = holder.query_selector("table").ok().flatten().ok_or("there is no table here")?;
    let rows = table.query_selector_all("tr").map_err(|e| format!("{e:?}"))?;
    let mut out: Vec<Vec<String>> = Vec::new();
    for i in 0..rows.length() {
        let Some(row) = rows.item(i).and_then(|r| r.dyn_into::<Element>().ok()) else { continue };
        let cells = row.query_selector_all("th, td").map_err(|e| format!("{e:?}"))?;
        let texts: Vec<String> = (0..cells.length()).filter_map(|j| cells.item(j).and_then(|c| c.dyn_into::<Element>().ok())).map(|c| cell_text(&c)).collect();
        if !texts.is_empty() && texts.iter().any(|t| !t.is_empty()) {
            out.push(texts);
        }
    }
    Ok(text_rows_csv(&out))
}

/// "Report": the tab on screen as one HTML file that needs no scripts and no network.
#[component]
pub fn ReportButton() -> impl IntoView {
    let state = expect_context::<AppState>();
    let problem = RwSignal::new(None::<String>);
    view! {
        <button class="button small" data-testid="export-report" disabled=move || state.summary.with(Option::is_none)
            title="Save the tab on screen as an HTML report (charts, tables, summaries) to email or archive"
            on:click=move |_| problem.set(html_report(state).err())>"Report"</button>
        {move || problem.get().map(|p| view! { <span class="problem small">"Report failed: " {p}</span> })}
    }
}

/// "JSON": the last report of every analysis, as the worker produced it, with ISO 8601 times —
/// the document `vigil analyze` writes for the same view.
#[component]
pub fn JsonButton() -> impl IntoView {
    let state = expect_context::<AppState>();
    let problem = RwSignal::new(None::<String>);
    // The worker holds the reports and writes the document (the page never serialises them).
    let save = move |_| {
        let mut notes = footnote(state);
        notes.push(format!("View: {}", super::share::current_link()));
        super::client::ask(crate::protocol::Request::ExportReports { notes }, move |response| {
            if let crate::protocol::Response::ExportReports { result, .. } = response {
                let saved = result.map_err(|e| e.to_string()).and_then(|text| download_text("vigil-report.json", "application/json", &text));
                problem.set(saved.err());
            }
        });
    };
    view! {
        <button class="button small" data-testid="export-json" disabled=move || state.summary.with(Option::is_none)
            title="Save the reports of every analysis on screen as JSON (what the vigil command writes)"
            on:click=save>"JSON"</button>
        {move || problem.get().map(|p| view! { <span class="problem small">"JSON failed: " {p}</span> })}
    }
}

/// Builds the report of the tab on screen and offers it as a download.
fn html_report(state: AppState) -> Result<(), String> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let main = document.query_selector("main.content").ok().flatten().ok_or("nothing on screen")?;
    let copy: Element = main.clone_node_with_deep(true).map_err(|e| format!("{e:?}"))?.dyn_into().map_err(|_| "not an element")?;
    // Charts: each canvas becomes its recorded SVG (same order in the page and the copy).
    let live = main.query_selector_all("canvas").map_err(|e| format!("{e:?}"))?;
    let copies = copy.query_selector_all("canvas").map_err(|e| format!("{e:?}"))?;
    for i in 0..copies.length() {
        let Some(target) = copies.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
        let svg = live.item(i).and_then(|n| n.dyn_into::<HtmlCanvasElement>().ok()).and_then(|c| recorded_svg(&c));
        match svg {
            Some(svg) => {
                let wrapper = document.create_element("div").map_err(|e| format!("{e:?}"))?;
                wrapper.set_class_name("report-chart");
                wrapper.set_inner_html(&svg);
                let _ = target.replace_with_with_node_1(&wrapper);
            }
            None => target.remove(),
        }
    }
    // Controls become their values as text; buttons and file inputs go.
    replace_controls(&document, &main, &copy)?;
    let tab = super::panels::tab(state.tab.get_untracked()).map_or("Vigil", |t| t.label);
    let notes = footnote(state);
    let styles = stylesheet_text(&document, dark());
    let body = copy.inner_html();
    let title = format!("Vigil report — {tab}");
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"color-scheme\" content=\"{}\">\n\
         <title>{}</title>\n<style>\n{styles}\n.report-head {{ padding: 16px 20px 0; }} .report-head p {{ margin: 2px 0; }}\n\
         .export-actions, .chart-readout:empty {{ display: none !important; }} .report-chart svg {{ max-width: 100%; height: auto; }}\n</style>\n</head>\n\
         <body>\n<header class=\"report-head\">\n<h1>{}</h1>\n{}\n<p class=\"muted small\"><a href=\"{}\">Open this view in Vigil</a> (needs the same data)</p>\n</header>\n<main class=\"content\">\n{body}\n</main>\n</body>\n</html>\n",
        if dark() { "dark" } else { "light" },
        xml_escape(&title),
        xml_escape(&title),
        notes.iter().map(|n| format!("<p class=\"muted small\">{}</p>", xml_escape(n))).collect::<Vec<_>>().join("\n"),
        xml_escape(&super::share::current_link()),
    );
    let stem = file_stem(&format!("report-{}", state.tab.get_untracked()));
    download_text(&format!("{stem}.html"), "text/html", &html)
}

/// In the report copy of `main`: selects, inputs and text areas become spans with their current
/// value (read from the live page, where the value is); buttons and file pickers are removed.
fn replace_controls(document: &web_sys::Document, main: &Element, copy: &Element) -> Result<(), String> {
    let selector = "select, input, textarea";
    let live = main.query_selector_all(selector).map_err(|e| format!("{e:?}"))?;
    let copies = copy.query_selector_all(selector).map_err(|e| format!("{e:?}"))?;
    for i in 0..copies.length() {
        let Some(target) = copies.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
        let value = live.item(i).map(|node| {
            if let Some(select) = node.dyn_ref::<web_sys::HtmlSelectElement>() {
                let index = select.selected_index();
                select.options().item(index.max(0) as u32).and_then(|o| o.text_content()).unwrap_or_default()
            } else if let Some(input) = node.dyn_ref::<web_sys::HtmlInputElement>() {
                match input.type_().as_str() {
                    "checkbox" | "radio" => if input.checked() { "☑".into() } else { "☐".into() },
                    "file" | "button" | "submit" | "range" => String::new(),
                    _ => input.value(),
                }
            } else if let Some(area) = node.dyn_ref::<web_sys::HtmlTextAreaElement>() {
                area.value()
            } else {
                String::new()
            }
        });
        let span = document.create_element("span").map_err(|e| format!("{e:?}"))?;
        span.set_class_name("report-value");
        span.set_text_content(value.as_deref());
        let _ = target.replace_with_with_node_1(&span);
    }
    let gone = copy.query_selector_all("button, .drop-overlay").map_err(|e| format!("{e:?}"))?;
    for i in 0..gone.length() {
        if let Some(node) = gone.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
            node.remove();
        }
    }
    Ok(())
}

/// The app's stylesheet as text, with the colour scheme on screen made unconditional (the
/// charts were drawn in it).
fn stylesheet_text(document: &web_sys::Document, dark: bool) -> String {
    let mut out = String::new();
    let sheets = document.style_sheets();
    for i in 0..sheets.length() {
        let Some(sheet) = sheets.item(i).and_then(|s| s.dyn_into::<web_sys::CssStyleSheet>().ok()) else { continue };
        let Ok(rules) = sheet.css_rules() else { continue };
        for j in 0..rules.length() {
            let Some(rule) = rules.item(j) else { continue };
            if let Some(media) = rule.dyn_ref::<web_sys::CssMediaRule>() {
                let condition = media.media().media_text();
                if condition.contains("prefers-color-scheme") {
                    if condition.contains("dark") == dark {
                        let inner = media.css_rules();
                        for k in 0..inner.length() {
                            if let Some(r) = inner.item(k) {
                                out.push_str(&r.css_text());
                                out.push('\n');
                            }
                        }
                    }
                    continue;
                }
            }
            out.push_str(&rule.css_text());
            out.push('\n');
        }
    }
    // A stylesheet cannot end a <style> element early, but be sure.
    out.replace("</", "<\\/")
}
