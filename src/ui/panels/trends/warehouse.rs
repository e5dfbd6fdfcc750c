//! "Aggregate in your warehouse": the query that computes the cube of the view on screen (its
//! time column, periods, zone, filter and weight), or a weighted sample of its rows, where the
//! events live. The worker writes it (the generator is not in the first-paint module).

use super::*;
use crate::protocol::{Request, Response};
use crate::warehouse::sql::{Dialect, Query};

#[component]
pub(super) fn WarehouseQuery() -> impl IntoView {
    let state = expect_context::<AppState>();
    let settings = TrendsPanel::get().settings;
    let open = RwSignal::new(false);
    let dialect = RwSignal::new(Dialect::Spark);
    let source = RwSignal::new("events".to_string());
    let sample = RwSignal::new(false);
    let answer = RwSignal::new(None::<Result<Query, String>>);
    let copied = RwSignal::new(None::<&'static str>);
    // Asked again whenever the view or a choice changes, while open.
    Effect::new(move |_| {
        if !open.get() {
            return;
        }
        state.view_version.track();
        let Some(time) = settings.with(|s| s.time.clone()) else { return };
        let (granularity, utc_offset_minutes, time_zone) = settings.with(|s| (s.granularity, s.utc_offset_minutes, s.time_zone.clone()));
        let request = Request::WarehouseSql { time, granularity, utc_offset_minutes, time_zone, dialect: dialect.get(), source: source.get(), sample: sample.get() };
        copied.set(None);
        crate::ui::client::ask(request, move |response| {
            if let Response::WarehouseSql { result, .. } = response {
                answer.set(Some(result.map_err(|e| e.to_string())));
            }
        });
    });
    let text = move || answer.with(|a| a.as_ref().and_then(|a| a.as_ref().ok()).map(|q| q.notes.iter().map(|n| format!("-- Note: {n}\n")).collect::<String>() + &q.sql));
    let copy = move |_| {
        let Some(sql) = text() else { return };
        match web_sys::window().map(|w| w.navigator().clipboard()) {
            Some(clipboard) => {
                let _ = clipboard.write_text(&sql);
                copied.set(Some("Copied."));
            }
            None => copied.set(Some("The clipboard is not available here; use Download.")),
        }
    };
    let download = move |_| {
        let Some(sql) = text() else { return };
        let name = if sample.get_untracked() { "vigil-sample.sql" } else { "vigil-cube.sql" };
        if let Err(err) = crate::ui::download::download_text(name, "application/sql", &sql) {
            state.error.set(Some(format!("Cannot save the query: {err}")));
        }
    };
    view! {
        <section class="panel" data-testid="warehouse">
            <button class="button small" aria-expanded=move || open.get().to_string() data-testid="warehouse-open" on:click=move |_| open.update(|o| *o = !*o)>
                {move || if open.get() { "Hide the warehouse query" } else { "Aggregate in your warehouse…" }}
            </button>
            {move || open.get().then(|| view! {
                <p class="muted small">
                    "Too many events for this tab? Run this query where they live and load its result here: Vigil recognises the cube, and Trends, incidents and Root cause answer as they would on the rows. "
                    "The sample query keeps about " {crate::format::format_count(crate::warehouse::sql::SAMPLE_PER_PERIOD as u64)} " rows per period, each weighted by how many it stands for, for Clusters, Decision tree and Regression, which need rows."
                </p>
                <div class="control-row">
                    <label>"Dialect"
                        <select data-testid="warehouse-dialect" on:change=move |e| if let Some(d) = Dialect::from_name(&event_target_value(&e)) { dialect.set(d) }>
                            {Dialect::ALL.into_iter().map(|d| view! { <option value=d.name() selected=move || dialect.get() == d>{d.title()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Table"
                        <input type="text" spellcheck="false" data-testid="warehouse-table" prop:value=move || source.get() on:change=move |e| source.set(event_target_value(&e).trim().to_string())/>
                    </label>
                    <span class="toggle">
                        <button class="button small" class:primary=move || !sample.get() data-testid="warehouse-cube" on:click=move |_| sample.set(false)>"cube"</button>
                        <button class="button small" class:primary=move || sample.get() data-testid="warehouse-sample" on:click=move |_| sample.set(true)>"weighted sample"</button>
                    </span>
                    <button class="button small" data-testid="warehouse-copy" on:click=copy>"Copy"</button>
                    <button class="button small" data-testid="warehouse-download" on:click=download>"Download .sql"</button>
                    {move || copied.get().map(|m| view! { <span class="muted small">{m}</span> })}
                </div>
                {move || match answer.get() {
                    None => view! { <p class="muted">"Writing the query…"</p> }.into_any(),
                    Some(Err(message)) => view! { <p class="problem" data-testid="warehouse-error">{format!("No query: {message}.")}</p> }.into_any(),
                    Some(Ok(query)) => view! {
                        <ul class="notices" data-testid="warehouse-notes">{query.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                        <pre class="sql warehouse-sql" data-testid="warehouse-sql">{query.sql}</pre>
                    }.into_any(),
                }}
            })}
        </section>
    }
}
