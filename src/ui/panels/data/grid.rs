//! The row grid: a virtualised window over the worker's current view (filtered, sorted).
//!
//! Only the rows in sight (plus a margin) cross from the worker; the scroll geometry is in
//! [`crate::viewport`].

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::ui::client::{self, send};
use crate::ui::state::AppState;
use crate::data::sort::SortKey;
use crate::data::table::ColumnType;
use crate::format::format_count;
use crate::protocol::{ColumnSummary, Request};
use crate::ui::state::RowPage;
use crate::viewport::{rows_to_draw, Geometry, HEADER_PX, ROW_PX, VIEWPORT_PX};

/// Columns drawn in the row grid.
const MAX_GRID_COLUMNS: usize = 100;

/// Rows fetched above and below those in sight: at the top, the first page drawn after a load
/// is 30 rows (with 20, 40 rows of 25 cells gave that frame 10 ms of style and 25 of layout on the
/// 1 M-row demo, the load's longest main-thread task at 51 ms).
const OVERSCAN: usize = 10;
/// Requests are aligned to this many rows, so small scrolls reuse the fetched window.
const FETCH_ALIGN: usize = 10;
/// New rows added to the grid a frame. A page of new rows (30 of 25 cells after a load) drawn in
/// one frame took 39–56 ms of style, layout and paint on the 1 M-row demo, the load's longest
/// main-thread task; a third of it a frame keeps each well under the 50 ms budget.
const ROWS_PER_FRAME: usize = 10;

/// The rows in the grid's DOM: a prefix of the page the worker sent, grown a slice a frame
/// ([`rows_to_draw`]). Rows are keyed by their number and text, so a row kept across pages (a
/// scroll) is not drawn again.
#[derive(Clone, Copy)]
struct Drawn {
    page: RwSignal<Option<RowPage>>,
    /// Bumped by every page, so that a slice scheduled for an older page is dropped.
    generation: StoredValue<u64>,
}

impl Drawn {
    fn new() -> Self {
        Self { page: RwSignal::new(None), generation: StoredValue::new(0) }
    }

    /// Draws the first rows of a page the worker sent, and the rest in the frames after.
    fn show(self, page: Option<RowPage>) {
        self.generation.update_value(|g| *g += 1);
        let Some(page) = page else {
            self.page.set(None);
            return;
        };
        let count = self.page.with_untracked(|drawn| rows_to_draw(&page.rows, drawn.as_ref().map_or(&[][..], |d| &d.rows), ROWS_PER_FRAME));
        self.grow(std::rc::Rc::new(page), count, self.generation.get_value());
    }

    fn grow(self, page: std::rc::Rc<RowPage>, count: usize, generation: u64) {
        // `try_`: the grid may be gone by the next frame (another file opened).
        if self.generation.try_get_value() != Some(generation) {
            return;
        }
        self.page.try_set(Some(RowPage { start: page.start, rows: page.rows[..count].to_vec() }));
        if count < page.rows.len() {
            // After the frame that draws these rows is on screen.
            let next = (count + ROWS_PER_FRAME).min(page.rows.len());
            request_animation_frame(move || set_timeout(move || self.grow(page, next, generation), std::time::Duration::ZERO));
        }
    }
}

fn sort_marker(sort: &Option<SortKey>, name: &str) -> &'static str {
    match sort {
        Some(key) if key.column == name && key.descending => " ▼",
        Some(key) if key.column == name => " ▲",
        _ => "",
    }
}

/// Next sort state on a header click: ascending → descending → unsorted.
fn next_sort(sort: &Option<SortKey>, name: &str) -> Option<SortKey> {
    match sort {
        Some(key) if key.column == name && !key.descending => Some(SortKey { column: name.to_string(), descending: true }),
        Some(key) if key.column == name => None,
        _ => Some(SortKey { column: name.to_string(), descending: false }),
    }
}

#[component]
pub fn RowGrid(columns: Vec<ColumnSummary>) -> impl IntoView {
    let state = expect_context::<AppState>();
    // A wide file shows its first columns here (thousands of cells a row would freeze the page);
    // every column stays in filters, profiles, analyses and exports.
    let total_columns = columns.len();
    let columns: Vec<ColumnSummary> = columns.into_iter().take(MAX_GRID_COLUMNS).collect();
    let scroll_top = RwSignal::new(0.0f64);
    let scroller = NodeRef::<leptos::html::Div>::new();
    // Asked to show the rows (a filter chosen in another tab): scrolled into sight once drawn.
    let section = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |_| {
        if let (true, Some(element)) = (state.reveal_rows.get(), section.get()) {
            state.reveal_rows.set(false);
            request_animation_frame(move || element.scroll_into_view());
        }
    });
    let geometry = Memo::new(move |_| Geometry { rows: state.matched.get().unwrap_or(0) });
    // The window to fetch, aligned so small scrolls do not refetch.
    let window = Memo::new(move |_| {
        let (first, _) = geometry.get().first_row(scroll_top.get());
        // Rows above the first in sight only once scrolled: at the top (the first page drawn
        // after a load, 25 cells a row) that is 30 rows.
        let start = first.saturating_sub(OVERSCAN) / FETCH_ALIGN * FETCH_ALIGN;
        let end = (first + Geometry::visible_rows() + OVERSCAN).div_ceil(FETCH_ALIGN) * FETCH_ALIGN;
        (start, end - start, state.view_version.get())
    });
    Effect::new(move |_| {
        let (start, count, _) = window.get();
        send(Request::Rows { start, count }, None);
    });
    let drawn = Drawn::new();
    Effect::new(move |_| drawn.show(state.page.get()));
    // A new view (filter, sort, load) starts at the top.
    Effect::new(move |previous: Option<u64>| {
        let version = state.view_version.get();
        if previous.is_some_and(|p| p != version) {
            if let Some(el) = scroller.get_untracked() {
                el.set_scroll_top(0);
            }
            scroll_top.set(0.0);
        }
        version
    });
    let on_scroll = move |event: ev::Event| {
        if let Some(el) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
            scroll_top.set(f64::from(el.scroll_top()));
        }
    };
    let numeric: Vec<bool> = columns.iter().map(|c| matches!(c.kind, ColumnType::Integer | ColumnType::Float)).collect();
    let header_names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    // Height of the blank space above the fetched rows, so that the first row in sight sits
    // right under the header; the space below fills the rest of the scroll height.
    let space_above = move || {
        let (first, offset) = geometry.get().first_row(scroll_top.get());
        let start = drawn.page.with(|p| p.as_ref().map_or(first, |p| p.start));
        (scroll_top.get() - offset - (first as f64 - start as f64) * ROW_PX).max(0.0)
    };
    let space_below = move || {
        let shown = drawn.page.with(|p| p.as_ref().map_or(0, |p| p.rows.len()));
        (geometry.get().content_px() - HEADER_PX - space_above() - shown as f64 * ROW_PX).max(0.0)
    };
    let range_text = move || {
        let rows = geometry.get().rows;
        if rows == 0 {
            return "no rows match the filter".to_string();
        }
        let (first, _) = geometry.get().first_row(scroll_top.get());
        let last = (first + Geometry::visible_rows()).min(rows);
        format!("rows {}–{} of {}", format_count(first as u64 + 1), format_count(last as u64), format_count(rows as u64))
    };
    view! {
        <section class="panel" data-testid="rows-panel" node_ref=section>
            <div class="panel-head">
                <h2>"Rows" {(total_columns > MAX_GRID_COLUMNS).then(|| view! {
                    <span class="muted small" data-testid="grid-columns-note">{format!(" · the first {MAX_GRID_COLUMNS} of {} columns (the CSV download has all)", format_count(total_columns as u64))}</span>
                })}</h2>
                <span class="toggle">
                    <span class="muted tabular" data-testid="grid-range">{range_text}</span>
                    <button class="button small" data-testid="export-rows" title="Save the rows that pass the filter, in this order, as CSV"
                        on:click=move |_| export_rows(state)>"Download CSV"</button>
                </span>
            </div>
            <div class="grid-scroll" node_ref=scroller on:scroll=on_scroll data-testid="grid-scroll"
                style=format!("height: {}px", VIEWPORT_PX + HEADER_PX)>
                    <table class="grid rows" data-testid="preview">
                        <thead>
                            <tr>
                                <th class="num rownum">"row"</th>
                                {header_names
                                    .into_iter()
                                    .zip(numeric.clone())
                                    .map(|(name, is_num)| {
                                        let label = name.clone();
                                        let key = name.clone();
                                        let testid = format!("sort-{name}");
                                        view! {
                                            <th class:num=is_num class="sortable" title="Sort by this column"
                                                data-testid=testid
                                                on:click=move |_| {
                                                    let next = next_sort(&state.sort.get_untracked(), &key);
                                                    state.sort.set(next);
                                                    client::apply_view(state);
                                                }>
                                                {label} {move || sort_marker(&state.sort.get(), &name)}
                                            </th>
                                        }
                                    })
                                    .collect_view()}
                            </tr>
                        </thead>
                        <tbody>
                            <tr class="spacer" aria-hidden="true" style=move || format!("height: {}px", space_above())></tr>
                            <For
                                each=move || drawn.page.with(|p| p.as_ref().map(|p| p.rows.clone()).unwrap_or_default())
                                key=|row| row.clone()
                                children=move |(table_row, cells)| {
                                    let numeric = numeric.clone();
                                    view! {
                                        <tr>
                                            <td class="num rownum">{format_count(table_row as u64 + 1)}</td>
                                            {cells
                                                .into_iter()
                                                .zip(numeric)
                                                .map(|(cell, is_num)| {
                                                    let title = cell.clone();
                                                    view! { <td class:num=is_num title=title>{cell}</td> }
                                                })
                                                .collect_view()}
                                        </tr>
                                    }
                                }
                            />
                            <tr class="spacer" aria-hidden="true" style=move || format!("height: {}px", space_below())></tr>
                        </tbody>
                    </table>
            </div>
        </section>
    }
}

/// Saves the filtered rows, in the grid's order, as CSV (the worker writes it).
fn export_rows(state: AppState) {
    crate::ui::client::ask(Request::ExportRows, move |response| {
        if let crate::protocol::Response::ExportRows { result, .. } = response {
            let saved = result.map_err(|e| e.to_string()).and_then(|csv| crate::ui::download::download_text("vigil-rows.csv", "text/csv", &csv));
            if let Err(message) = saved {
                state.error.set(Some(format!("Cannot export the rows: {message}")));
            }
        }
    });
}
