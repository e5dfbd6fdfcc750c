//! The Data tab: what was loaded, how it was read, its schema, rows and rejected rows.

use leptos::prelude::*;

use crate::data::join::{JoinSpec, Repeated};
use crate::ui::controls::{name_options, Later, ShowMore};
use crate::ui::download::download_text;
use grid::RowGrid;
use crate::ui::export::{ExportKind, Exportable};
use crate::ui::state::AppState;
use crate::data::load::RejectedRow;
use crate::data::table::ColumnType;
use crate::format::{format_count, format_bytes};
use crate::protocol::TableSummary;

mod grid;

/// The Data tab.
pub const TAB: super::TabEntry = super::TabEntry { slug: "data", label: "Data", init: |_| {}, view: || view! { <DataTab/> }.into_any(), reset: || {}, link: None };

#[component]
pub fn DataTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    // The load whose view was built last (its time and rows): a new load's columns and rows are
    // built in tasks of their own; the same load's summary changing (a column re-typed) rebuilds
    // them at once, never a frame without them.
    let built_for = StoredValue::new(None::<(u64, usize)>);
    // The summary without its distinct counts: their arrival (the worker counts them after the
    // load) changes one cell per column in place. Rebuilding the tab for them (schema, type
    // controls, rows) added 20-27 ms to a main-thread task at the end of the 1 M-row demo's load.
    let built_from = Memo::new(move |_| {
        state.summary.get().map(|mut summary| {
            summary.columns.iter_mut().for_each(|column| column.distinct = None);
            summary
        })
    });
    move || match built_from.get() {
        None => view! {
            <section class="panel empty" data-testid="no-data">
                <h2>"No data loaded"</h2>
                <p>"Open a CSV file, drop one anywhere on the page, load one from a URL, or open the demo dataset."</p>
            </section>
        }
        .into_any(),
        Some(summary) => {
            let load = (summary.elapsed_ms.to_bits(), summary.n_rows);
            let defer = built_for.get_value() != Some(load);
            built_for.set_value(Some(load));
            let schema = summary.clone();
            view! {
                <LoadSummary summary=summary.clone()/>
                // Three tasks, not one: the columns, then the rows.
                <Later defer=defer><Schema summary=schema.clone()/></Later>
                <Later defer=defer>
                    <RowGrid columns=summary.columns.clone()/>
                    <Rejected summary=summary.clone()/>
                </Later>
            }
            .into_any()
        }
    }
}

#[component]
fn LoadSummary(summary: TableSummary) -> impl IntoView {
    let state = expect_context::<AppState>();
    let speed = summary.megabytes_per_second().map(|mbps| format!("{mbps:.0} MB/s")).unwrap_or_default();
    let stats = [
        ("rows", format_count(summary.n_rows as u64), "row-count"),
        ("columns", format_count(summary.columns.len() as u64), "column-count"),
        ("file size", format_bytes(summary.source_bytes), "file-size"),
        ("in memory", format_bytes(summary.heap_bytes as u64), "memory"),
        ("load time", format!("{:.2} s", summary.elapsed_ms / 1000.0), "load-time"),
        ("throughput", speed, "throughput"),
    ];
    view! {
        <section class="panel">
            <div class="panel-head">
                <h2>"Dataset"</h2>
                <label class="button small" title="Accounts, content metadata, reviewer rosters: each row takes the columns of the row of that file with its key">
                    "Add columns from another file…"<input type="file" class="hidden" accept=crate::ui::share::ACCEPTED data-testid="join-file" on:change=move |e| pick_lookup(state, e)/>
                </label>
            </div>
            <p class="source" data-testid="source">{summary.source.describe()} " · " {summary.format.clone()}</p>
            {summary.workbook.clone().filter(|book| book.sheets.len() > 1).map(|book| {
                let current = book.sheet.clone();
                view! {
                    <div class="control-row sheet-choice">
                        <label>"Sheet "
                            <select data-testid="sheet" on:change=move |e| crate::ui::client::load_sheet(state, event_target_value(&e))>
                                {book.sheets.into_iter().map(|name| view! { <option value=name.clone() selected=name == current>{name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                    </div>
                }
            })}
            <dl class="stats">
                {stats
                    .into_iter()
                    .map(|(label, value, testid)| {
                        view! {
                            <div class="stat">
                                <dt>{label}</dt>
                                <dd data-testid=testid>{value}</dd>
                            </div>
                        }
                    })
                    .collect_view()}
            </dl>
            {(!summary.notices.is_empty())
                .then(|| {
                    view! {
                        <ul class="notices" data-testid="notices">
                            {summary.notices.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                        </ul>
                    }
                })}
            <JoinForm/>
        </section>
    }
}

/// Reads the file chosen for "Add columns from another file" (a lookup join, see `data::join`)
/// in the worker, which proposes a key in each table; the form then takes over.
fn pick_lookup(state: AppState, event: leptos::ev::Event) {
    let Some(file) = crate::ui::share::picked_files(&event).into_iter().next() else { return };
    state.join_draft.set(None);
    crate::ui::client::join(state, file.name(), None, Some(file), move |answer| match answer.problem {
        Some(problem) => state.error.set(Some(problem)),
        None => state.join_draft.set(Some((answer, Repeated::Refuse))),
    });
}

/// The keys of the lookup join and what to do with a key on several rows of the lookup file
/// (refused, with examples, until the first or the last row is chosen). What a join did is
/// among the dataset's notices; the joins are part of the link.
#[component]
fn JoinForm() -> impl IntoView {
    let state = expect_context::<AppState>();
    let draft = state.join_draft;
    let add = move |_| {
        let Some((answer, repeated)) = draft.get_untracked() else { return };
        let spec = JoinSpec { key: answer.key, lookup_key: answer.lookup_key, repeated };
        crate::ui::client::join(state, answer.name, Some(spec), None, move |answer| match answer.problem {
            Some(problem) => state.error.set(Some(problem)),
            None => {
                state.error.set(None);
                draft.set(None);
            }
        });
    };
    // Edits change the draft without drawing the form again.
    let edit = move |e: leptos::ev::Event, which: u8| {
        let value = event_target_value(&e);
        draft.update_untracked(|d| {
            if let Some((answer, repeated)) = d {
                match which {
                    0 => answer.key = value,
                    1 => answer.lookup_key = value,
                    _ => *repeated = match value.as_str() { "first" => Repeated::First, "last" => Repeated::Last, _ => Repeated::Refuse },
                }
            }
        });
    };
    move || {
        draft.get().map(|(answer, repeated)| {
            let columns = state.summary.with_untracked(|s| s.as_ref().map(|s| s.columns.iter().map(|c| c.name.clone()).collect()).unwrap_or_default());
            let choices = [(Repeated::Refuse, "refuse", "refuse"), (Repeated::First, "first", "keep the first"), (Repeated::Last, "last", "keep the last")];
            view! {
                <div class="control-row join-form">
                    <span data-testid="join-lookup">{format!("{} · {} rows", answer.name, format_count(answer.rows))}</span>
                    <label>"key in this table " <select data-testid="join-key" on:change=move |e| edit(e, 0)>{name_options(columns, Some(answer.key), Some("choose"))}</select></label>
                    <label>{format!("key in {} ", answer.name)} <select data-testid="join-lookup-key" on:change=move |e| edit(e, 1)>{name_options(answer.columns, Some(answer.lookup_key), Some("choose"))}</select></label>
                    <label>"a key on several rows " <select data-testid="join-repeated" on:change=move |e| edit(e, 2)>
                        {choices.map(|(r, value, label)| view! { <option value=value selected=r == repeated>{label}</option> })}
                    </select></label>
                    <button class="button primary" data-testid="join-add" on:click=add>"Add columns"</button>
                    <button class="button" data-testid="join-cancel" on:click=move |_| draft.set(None)>"Cancel"</button>
                </div>
            }
        })
    }
}

#[component]
fn Schema(summary: TableSummary) -> impl IntoView {
    let state = expect_context::<AppState>();
    let n_rows = summary.n_rows.max(1) as f64;
    let total = summary.columns.len();
    // The first 200 columns, then all on request.
    let shown = RwSignal::new(200);
    let columns = std::sync::Arc::new(summary.columns);
    view! {
        <section class="panel">
            <h2>"Columns"</h2>
            <div class="table-wrap">
                <Exportable name="schema" kind=ExportKind::Table><table class="grid schema" data-testid="schema">
                    <thead>
                        <tr>
                            <th>"column"</th>
                            <th>"type"</th>
                            <th class="num">"missing"</th>
                            <th class="num">"distinct"</th>
                            <th class="num">"did not fit type"</th>
                            <th class="num">"memory"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || columns
                            .iter()
                            .take(shown.get())
                            .enumerate()
                            .map(|(index, column)| {
                                let missing_pct = column.missing as f64 / n_rows * 100.0;
                                view! {
                                    <tr>
                                        <td class="name">{column.name.clone()}</td>
                                        <td><TypeSelect name=column.name.clone() kind=column.kind/></td>
                                        <td class="num">{format!("{missing_pct:.1} %")}</td>
                                        <td class="num">{distinct(state, index)}</td>
                                        <td class="num">{format_count(column.mismatches as u64)}</td>
                                        <td class="num">{format_bytes(column.heap_bytes as u64)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table></Exportable>
            </div>
            <ShowMore shown=shown total=total step=usize::MAX noun="columns" testid="schema-show-all"/>
        </section>
    }
}

/// The distinct count of the column at `index`, "…" until the worker has counted: follows the
/// summary in place (see [`DataTab`]).
fn distinct(state: AppState, index: usize) -> impl Fn() -> String {
    move || {
        let count = state.summary.with(|s| s.as_ref().and_then(|s| s.columns.get(index)).and_then(|c| c.distinct));
        count.map_or_else(|| "…".to_string(), |d| format_count(d as u64))
    }
}

/// The column's type, as a control that re-types the column in the worker.
#[component]
fn TypeSelect(name: String, kind: ColumnType) -> impl IntoView {
    let label = format!("Type of {name}");
    let testid = format!("type-{name}");
    let state = expect_context::<AppState>();
    view! {
        <select class=format!("type type-{}", kind.label()) aria-label=label data-testid=testid
            on:change=move |event| {
                if let Some(new_kind) = ColumnType::from_label(&event_target_value(&event)) {
                    crate::ui::client::set_type(state, name.clone(), new_kind);
                }
            }>
            {ColumnType::ALL.into_iter().map(|option| view! {
                <option value=option.label() selected=option == kind>{option.label()}</option>
            }).collect_view()}
        </select>
    }
}

/// Rejected rows as CSV (formula-like text neutralised for spreadsheets).
fn rejected_csv(rows: &[RejectedRow]) -> String {
    let header = ["line", "byte_offset", "reason", "text"].map(String::from).to_vec();
    let body = rows.iter().map(|row| vec![row.line.to_string(), row.byte_offset.to_string(), row.reason.clone(), row.text.clone()]);
    crate::data::export::text_rows_csv(&std::iter::once(header).chain(body).collect::<Vec<_>>())
}

#[component]
fn Rejected(summary: TableSummary) -> impl IntoView {
    let state = expect_context::<AppState>();
    (summary.rejected_total > 0).then(|| {
        let shown = summary.rejected.len() as u64;
        let rows = summary.rejected.clone();
        let download = move |_| {
            if let Err(err) = download_text("rejected-rows.csv", "text/csv", &rejected_csv(&rows)) {
                state.error.set(Some(format!("Could not save the file: {err}")));
            }
        };
        view! {
            <section class="panel" data-testid="rejected">
                <div class="panel-head">
                    <h2>"Rejected rows (" {format_count(summary.rejected_total)} ")"</h2>
                    <button class="button small" data-testid="download-rejected" on:click=download>"Download CSV"</button>
                </div>
                {(shown < summary.rejected_total)
                    .then(|| view! { <p class="muted">"Showing the first " {format_count(shown)} "."</p> })}
                <div class="table-wrap">
                    <table class="grid">
                        <thead>
                            <tr><th class="num">"line"</th><th class="num">"byte"</th><th>"reason"</th><th>"text"</th></tr>
                        </thead>
                        <tbody>
                            {summary
                                .rejected
                                .iter()
                                .map(|row| {
                                    view! {
                                        <tr>
                                            <td class="num">{format_count(row.line)}</td>
                                            <td class="num">{format_count(row.byte_offset)}</td>
                                            <td>{row.reason.clone()}</td>
                                            <td class="mono">{row.text.clone()}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
        }
    })
}
