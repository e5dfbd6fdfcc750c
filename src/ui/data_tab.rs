//! The Data tab: what was loaded, how it was read, its schema, rows and rejected rows.

use leptos::prelude::*;

use super::client::{self, PAGE_ROWS};
use super::state::AppState;
use crate::protocol::{format_bytes, format_count, Request, TableSummary};

#[component]
pub fn DataTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || match state.summary.get() {
        None => view! {
            <section class="panel empty" data-testid="no-data">
                <h2>"No data loaded"</h2>
                <p>"Open a CSV file, drop one anywhere on the page, load one from a URL, or open the demo dataset."</p>
            </section>
        }
        .into_any(),
        Some(summary) => view! {
            <LoadSummary summary=summary.clone()/>
            <Schema summary=summary.clone()/>
            <RowGrid summary=summary.clone()/>
            <Rejected summary=summary/>
        }
        .into_any(),
    }
}

#[component]
fn LoadSummary(summary: TableSummary) -> impl IntoView {
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
            <h2>"Dataset"</h2>
            <p class="source" data-testid="source">{summary.source.describe()} " · " {summary.describe_dialect()}</p>
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
        </section>
    }
}

#[component]
fn Schema(summary: TableSummary) -> impl IntoView {
    let n_rows = summary.n_rows.max(1) as f64;
    view! {
        <section class="panel">
            <h2>"Columns"</h2>
            <div class="table-wrap">
                <table class="grid schema" data-testid="schema">
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
                        {summary
                            .columns
                            .iter()
                            .map(|column| {
                                let missing_pct = column.missing as f64 / n_rows * 100.0;
                                view! {
                                    <tr>
                                        <td class="name">{column.name.clone()}</td>
                                        <td><span class=format!("type type-{}", column.kind.label())>{column.kind.label()}</span></td>
                                        <td class="num">{format!("{missing_pct:.1} %")}</td>
                                        <td class="num">{format_count(column.distinct as u64)}</td>
                                        <td class="num">{format_count(column.mismatches as u64)}</td>
                                        <td class="num">{format_bytes(column.heap_bytes as u64)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn RowGrid(summary: TableSummary) -> impl IntoView {
    let state = expect_context::<AppState>();
    let names: Vec<String> = summary.columns.iter().map(|c| c.name.clone()).collect();
    let n_rows = summary.n_rows;
    let go = move |start: usize| {
        client::send(Request::Rows { start, count: PAGE_ROWS }, None);
    };
    let start = move || state.page.get().map_or(0, |p| p.start);
    view! {
        <section class="panel">
            <div class="panel-head">
                <h2>"Rows"</h2>
                <div class="pager">
                    <button class="button small" data-testid="page-prev" disabled=move || { start() == 0 }
                        on:click=move |_| go(start().saturating_sub(PAGE_ROWS))>"◀ Previous"</button>
                    <span data-testid="page-range">
                        {move || {
                            let first = start();
                            let last = (first + PAGE_ROWS).min(n_rows);
                            format!("rows {}–{} of {}", format_count(first as u64 + 1), format_count(last as u64), format_count(n_rows as u64))
                        }}
                    </span>
                    <button class="button small" data-testid="page-next" disabled=move || { start() + PAGE_ROWS >= n_rows }
                        on:click=move |_| go(start() + PAGE_ROWS)>"Next ▶"</button>
                </div>
            </div>
            <div class="table-wrap rows-wrap">
                <table class="grid rows" data-testid="preview">
                    <thead>
                        <tr>
                            <th class="num">"#"</th>
                            {names.iter().map(|n| view! { <th>{n.clone()}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            state
                                .page
                                .get()
                                .map(|page| {
                                    page.rows
                                        .into_iter()
                                        .enumerate()
                                        .map(|(offset, cells)| {
                                            view! {
                                                <tr>
                                                    <td class="num rownum">{format_count((page.start + offset + 1) as u64)}</td>
                                                    {cells.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}
                                                </tr>
                                            }
                                        })
                                        .collect_view()
                                })
                        }}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn Rejected(summary: TableSummary) -> impl IntoView {
    (summary.rejected_total > 0).then(|| {
        let shown = summary.rejected.len() as u64;
        view! {
            <section class="panel" data-testid="rejected">
                <h2>"Rejected rows (" {format_count(summary.rejected_total)} ")"</h2>
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
