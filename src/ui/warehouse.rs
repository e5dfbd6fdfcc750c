//! "Aggregate in your warehouse": the SQL that makes a warehouse compute the view's cube (or a
//! weighted sample of its rows), in the analyst's dialect, to copy or save. The worker writes it
//! (`Request::WarehouseSql`); loading the query's result into Vigil is recognised as a cube.

use leptos::prelude::*;

use super::client::ask;
use super::download::download_text;
use super::state::AppState;
use crate::analysis::series::Granularity;
use crate::data::table::ColumnType;
use crate::protocol::{Request, Response, SqlAsk};
use crate::warehouse::sql::{Dialect, Query};

#[component]
pub fn SqlButton() -> impl IntoView {
    let state = expect_context::<AppState>();
    let open = RwSignal::new(false);
    view! {
        <button class="button small" data-testid="warehouse-open" disabled=move || state.summary.with(Option::is_none)
            title="The SQL that aggregates this view in your warehouse (Spark, Trino, BigQuery, Snowflake, DuckDB), for data too large for the browser"
            on:click=move |_| open.update(|o| *o = !*o)>"SQL"</button>
        {move || open.get().then(|| view! { <SqlDialog on_close=move || open.set(false)/> })}
    }
}

#[component]
fn SqlDialog(on_close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let state = expect_context::<AppState>();
    let times = move || state.summary.with(|s| s.as_ref().map(|s| s.columns.iter().filter(|c| c.kind == ColumnType::Timestamp).map(|c| c.name.clone()).collect::<Vec<_>>()).unwrap_or_default());
    // The Trends tab's time column when it has one.
    let time = RwSignal::new(state.measure.with_untracked(|m| m.as_ref().map(|m| m.time_column.clone())).or_else(|| times().into_iter().next()).unwrap_or_default());
    let dialect = RwSignal::new(Dialect::Spark);
    let table = RwSignal::new("events".to_string());
    let granularity = RwSignal::new(Granularity::Day);
    let zone = RwSignal::new(String::new());
    let top = RwSignal::new(crate::warehouse::DEFAULT_TOP);
    let sample = RwSignal::new(false);
    let answer = RwSignal::new(None::<Result<Query, String>>);
    // Asks the worker again whenever a choice or the view (filter, weight) changes.
    Effect::new(move |_| {
        state.view_version.track();
        let request = SqlAsk {
            dialect: dialect.get(),
            table: table.get(),
            top: top.get(),
            sample: sample.get(),
            time: Some(time.get()).filter(|t| !t.is_empty()),
            granularity: granularity.get(),
            utc_offset_minutes: 0,
            time_zone: Some(zone.get().trim().to_string()).filter(|z| !z.is_empty()),
        };
        ask(Request::WarehouseSql { ask: request }, move |response| {
            if let Response::WarehouseSql { result, .. } = response {
                answer.set(Some(result));
            }
        });
    });
    let sql = move || answer.with(|a| a.as_ref().and_then(|r| r.as_ref().ok()).map(|q| q.sql.clone())).unwrap_or_default();
    let problem = RwSignal::new(None::<String>);
    let copy = move |_| {
        let Some(clipboard) = web_sys::window().map(|w| w.navigator().clipboard()) else { return };
        let _ = clipboard.write_text(&sql());
    };
    let save = move |_| {
        let name = format!("vigil-{}-{}.sql", if sample.get_untracked() { "sample" } else { "cube" }, dialect.get_untracked().name());
        problem.set(download_text(&name, "application/sql", &sql()).err());
    };
    view! {
        <div class="dialog" role="dialog" aria-label="Aggregate in your warehouse" data-testid="warehouse-dialog">
            <div class="dialog-head">
                <h2>"Aggregate in your warehouse"</h2>
                <button class="button tiny" aria-label="Close" data-testid="warehouse-close" on:click=move |_| on_close()>"×"</button>
            </div>
            <p class="muted small">"Run this query where the events live and load its result here: Vigil recognises the cube, and trends, incidents and root cause run on it as on every row. The view's filter and weight are in the query."</p>
            <div class="controls">
                <label>"Dialect "
                    <select data-testid="warehouse-dialect" on:change=move |ev| { if let Some(d) = Dialect::from_name(&event_target_value(&ev)) { dialect.set(d) } }>
                        {Dialect::ALL.into_iter().map(|d| view! { <option value=d.name() selected=move || dialect.get() == d>{d.title()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Table " <input type="text" data-testid="warehouse-table" prop:value=move || table.get() on:change=move |ev| table.set(event_target_value(&ev))/></label>
                <label>"Time "
                    <select on:change=move |ev| time.set(event_target_value(&ev))>
                        {move || times().into_iter().map(|t| { let (value, label) = (t.clone(), t.clone()); view! { <option value=t selected=move || time.get() == value>{label}</option> } }).collect_view()}
                    </select>
                </label>
                <label>"Periods "
                    <select data-testid="warehouse-granularity" on:change=move |ev| { if let Some(g) = Granularity::from_label(&event_target_value(&ev)) { granularity.set(g) } }>
                        {[Granularity::Hour, Granularity::Day, Granularity::Week, Granularity::Month].into_iter().map(|g| view! { <option value=g.label() selected=move || granularity.get() == g>{g.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label title="An IANA time zone (America/Sao_Paulo); empty for UTC">"Zone " <input type="text" placeholder="UTC" size="16" prop:value=move || zone.get() on:change=move |ev| zone.set(event_target_value(&ev))/></label>
                <label title="Values kept per dimension; the rest become (other)">"Top values " <input type="number" min="1" max="100000" size="6" prop:value=move || top.get().to_string()
                    on:change=move |ev| { if let Ok(n) = event_target_value(&ev).parse::<usize>() { top.set(n.clamp(1, 100_000)) } }/></label>
                <label><input type="checkbox" data-testid="warehouse-sample" prop:checked=move || sample.get() on:change=move |ev| sample.set(event_target_checked(&ev))/>" a weighted sample of the rows instead (for clusters, trees, regression)"</label>
            </div>
            {move || match answer.get() {
                None => view! { <p class="muted">"Writing the query…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="problem" data-testid="warehouse-problem">{message}</p> }.into_any(),
                Some(Ok(query)) => view! {
                    <ul class="notes small">{query.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                    <pre class="sql" data-testid="warehouse-sql">{query.sql}</pre>
                }.into_any(),
            }}
            <div class="dialog-actions">
                <button class="button small" data-testid="warehouse-copy" on:click=copy>"Copy"</button>
                <button class="button small" data-testid="warehouse-save" on:click=save>"Save .sql"</button>
                {move || problem.get().map(|p| view! { <span class="problem small">{p}</span> })}
            </div>
        </div>
    }
}
