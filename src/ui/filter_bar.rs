//! The global filter bar: removable chips for the clauses, and an editor to add one.
//!
//! The filter itself is evaluated in the worker (`Request::SetView`); this is only its editor.

use leptos::ev;
use leptos::prelude::*;

use super::client::{self, send};
use super::state::AppState;
use crate::data::filter::Clause;
use crate::data::table::ColumnType;
use crate::data::time::parse_timestamp_text;
use crate::format::format_count;
use crate::protocol::Request;

/// Values offered as checkboxes in the editor.
const PICK_LIMIT: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    In,
    NotIn,
    Range,
    TimeRange,
    Contains,
    Missing,
    Present,
}

impl Op {
    fn label(self) -> &'static str {
        match self {
            Op::In => "is one of",
            Op::NotIn => "is not one of",
            Op::Range => "is between",
            Op::TimeRange => "is between (UTC)",
            Op::Contains => "contains",
            Op::Missing => "is missing",
            Op::Present => "is present",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Op::In => "in",
            Op::NotIn => "not-in",
            Op::Range => "range",
            Op::TimeRange => "time-range",
            Op::Contains => "contains",
            Op::Missing => "missing",
            Op::Present => "present",
        }
    }

    /// Operations that make sense for a column type, the most useful first.
    fn for_kind(kind: ColumnType) -> &'static [Op] {
        match kind {
            ColumnType::Integer | ColumnType::Float => &[Op::Range, Op::In, Op::NotIn, Op::Missing, Op::Present],
            ColumnType::Timestamp => &[Op::TimeRange, Op::Missing, Op::Present],
            ColumnType::Category | ColumnType::Boolean => &[Op::In, Op::NotIn, Op::Contains, Op::Missing, Op::Present],
            ColumnType::Identifier | ColumnType::Text => &[Op::Contains, Op::In, Op::NotIn, Op::Missing, Op::Present],
        }
    }
}

fn parse_bound(text: &str) -> Result<Option<f64>, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    trimmed.parse::<f64>().ok().filter(|v| v.is_finite()).map(Some).ok_or_else(|| format!("{trimmed:?} is not a number"))
}

fn parse_time_bound(text: &str) -> Result<Option<i64>, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    parse_timestamp_text(trimmed).map(Some).ok_or_else(|| format!("{trimmed:?} is not a date or time"))
}

#[component]
pub fn FilterBar() -> impl IntoView {
    let state = expect_context::<AppState>();
    let editing = RwSignal::new(false);
    let remove = move |idx: usize| {
        state.filter.update(|f| {
            if idx < f.clauses.len() {
                f.clauses.remove(idx);
            }
        });
        client::apply_view(state);
    };
    view! {
        <div class="filter-bar" data-testid="filter-bar">
            <span class="filter-label">"Filter"</span>
            {move || {
                let clauses = state.filter.get().clauses;
                if clauses.is_empty() {
                    view! { <span class="muted">"all rows"</span> }.into_any()
                } else {
                    clauses
                        .into_iter()
                        .enumerate()
                        .map(|(idx, clause)| {
                            view! {
                                <span class="chip" data-testid="filter-chip">
                                    {clause.describe()}
                                    <button class="chip-remove" aria-label="Remove this filter" data-testid="filter-chip-remove"
                                        on:click=move |_| remove(idx)>"×"</button>
                                </span>
                            }
                        })
                        .collect_view()
                        .into_any()
                }
            }}
            <button class="button small" data-testid="add-filter" on:click=move |_| editing.update(|e| *e = !*e)>
                "+ Add filter"
            </button>
            <span class="matched muted" data-testid="matched">
                {move || {
                    let total = state.summary.get().map_or(0, |s| s.n_rows);
                    state.matched.get().filter(|&m| m != total).map(|m| {
                        format!("{} of {} rows match", format_count(m as u64), format_count(total as u64))
                    })
                }}
            </span>
        </div>
        {move || editing.get().then(|| view! { <FilterEditor on_done=move || editing.set(false)/> })}
        <WeightBar/>
    }
}

/// Saves the streamed file's sample (CSV with its weights) to open as a file.
fn download_sample() {
    let state = expect_context::<AppState>();
    let name = state.summary.with_untracked(|s| s.as_ref().map(|s| s.source.describe())).unwrap_or_default();
    let stem = name.rsplit('/').next().unwrap_or("data").split('.').next().unwrap_or("data").to_string();
    client::ask(crate::protocol::Request::StreamSample, move |answer| {
        let outcome = match answer {
            crate::protocol::Response::StreamSample { csv: Some(csv), .. } => crate::ui::download::download_text(&format!("{stem}-sample.csv"), "text/csv", &csv),
            _ => Err("the sample is no longer held (load the file as a cube again)".into()),
        };
        if let Err(message) = outcome {
            state.error.set(Some(format!("Could not save the sample: {message}")));
        }
    });
}

/// How many events each row stands for: one each, or a number column (a cube's `events`, an
/// exported `count`, a sample's weight). Shown when rows are weighted, when a column looks like a
/// count of events (proposed, never applied unasked) and for a cube; says which analyses count
/// rows once. One reactive block with few view types: the UI module has a first-paint budget.
#[component]
fn WeightBar() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        let summary = state.summary.get()?;
        let weight = state.weight.get();
        let proposed = summary.proposed_weight.clone().filter(|_| weight.is_none());
        let notice = summary.cube.as_ref().map(|c| c.notice.clone());
        let note = match (&weight, &proposed) {
            (Some(_), _) => match crate::analysis::registry::unweighted_titles() {
                once if once.is_empty() => "Every analysis counts each row as that many events.".into(),
                once => format!("Counted once per row: {}.", once.join(", ")),
            },
            (None, Some(name)) => format!("The rows look aggregated: choose “{name}” if it is each row's number of events."),
            (None, None) if notice.is_none() => return None,
            (None, None) => String::new(),
        };
        let options = summary
            .columns
            .iter()
            .filter(|c| matches!(c.kind, ColumnType::Integer | ColumnType::Float))
            .map(|c| view! { <option value=c.name.clone() selected=weight.as_deref() == Some(c.name.as_str())>{format!("“{}” events", c.name)}</option> })
            .collect_view();
        Some(view! {
            <div class="weight-bar small" data-testid="weight-bar">
                <label>"Each row is "
                    <select data-testid="weight-select" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        state.weight.set((!v.is_empty()).then_some(v));
                        client::apply_view(state);
                    }>
                        <option value="" selected=weight.is_none()>"one event"</option>
                        {options}
                    </select>
                </label>
                <span class="muted" data-testid="weight-note">{note}</span>
                {notice.map(|n| view! { <p class="muted" data-testid="cube-notice">{n}</p> })}
                {summary.streamed_sample.map(|rows| view! {
                    <p class="muted">
                        "The file was streamed: clusters, trees and regression need rows; "
                        <button class="button small" data-testid="download-sample" on:click=move |_| download_sample()>
                            {format!("download its sample ({} rows, weighted)", crate::format::format_count(rows as u64))}
                        </button>
                        " and open it to use them."
                    </p>
                })}
            </div>
        })
    }
}

#[component]
fn FilterEditor(on_done: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let state = expect_context::<AppState>();
    let columns = move || state.summary.get().map(|s| s.columns).unwrap_or_default();
    let column = RwSignal::new(String::new());
    let op = RwSignal::new(Op::In);
    let picked = RwSignal::new(Vec::<String>::new());
    let low = RwSignal::new(String::new());
    let high = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let kind_of = move |name: &str| columns().into_iter().find(|c| c.name == name).map(|c| c.kind);
    let choose_column = move |name: String| {
        let first_op = kind_of(&name).and_then(|k| Op::for_kind(k).first().copied()).unwrap_or(Op::In);
        op.set(first_op);
        picked.set(Vec::new());
        problem.set(None);
        state.column_values.set(None);
        if !name.is_empty() {
            send(Request::ColumnValues { column: name.clone(), limit: PICK_LIMIT }, None);
        }
        column.set(name);
    };
    let apply = move || {
        let name = column.get_untracked();
        if name.is_empty() {
            problem.set(Some("Choose a column.".into()));
            return;
        }
        let clause = match op.get_untracked() {
            Op::In | Op::NotIn => {
                let values = picked.get_untracked();
                if values.is_empty() {
                    problem.set(Some("Tick at least one value.".into()));
                    return;
                }
                Clause::InSet { column: name, values, negate: op.get_untracked() == Op::NotIn }
            }
            Op::Range => match (parse_bound(&low.get_untracked()), parse_bound(&high.get_untracked())) {
                (Ok(min), Ok(max)) => Clause::Range { column: name, min, max },
                (Err(e), _) | (_, Err(e)) => {
                    problem.set(Some(e));
                    return;
                }
            },
            Op::TimeRange => match (parse_time_bound(&low.get_untracked()), parse_time_bound(&high.get_untracked())) {
                (Ok(start_ms), Ok(end_ms)) => Clause::TimeRange { column: name, start_ms, end_ms },
                (Err(e), _) | (_, Err(e)) => {
                    problem.set(Some(e));
                    return;
                }
            },
            Op::Contains => {
                let needle = text.get_untracked();
                if needle.is_empty() {
                    problem.set(Some("Type the text to look for.".into()));
                    return;
                }
                Clause::Contains { column: name, text: needle }
            }
            Op::Missing => Clause::Missing { column: name, missing: true },
            Op::Present => Clause::Missing { column: name, missing: false },
        };
        state.filter.update(|f| f.clauses.push(clause));
        client::apply_view(state);
        on_done();
    };
    let toggle = move |value: String| {
        picked.update(|p| match p.iter().position(|v| *v == value) {
            Some(idx) => {
                p.remove(idx);
            }
            None => p.push(value),
        })
    };
    view! {
        <form class="filter-editor panel" data-testid="filter-editor"
            on:submit=move |event: ev::SubmitEvent| {
                event.prevent_default();
                apply();
            }
            // Escape from anywhere in the editor closes it, as Cancel does.
            on:keydown=move |event: ev::KeyboardEvent| {
                if event.key() == "Escape" {
                    on_done();
                }
            }>
            <div class="editor-row">
                <select aria-label="Column" data-testid="filter-column"
                    on:change=move |event| choose_column(event_target_value(&event))>
                    <option value="" selected=true>"Choose a column…"</option>
                    {move || columns().into_iter().map(|c| {
                        let name = c.name.clone();
                        view! { <option value=name.clone()>{name.clone()} " (" {c.kind.label()} ")"</option> }
                    }).collect_view()}
                </select>
                {move || {
                    let kind = kind_of(&column.get())?;
                    Some(view! {
                        <select aria-label="Condition" data-testid="filter-op"
                            on:change=move |event| {
                                let slug = event_target_value(&event);
                                if let Some(found) = Op::for_kind(kind).iter().find(|o| o.slug() == slug) {
                                    op.set(*found);
                                }
                            }>
                            {Op::for_kind(kind).iter().map(|o| view! {
                                <option value=o.slug() selected=move || op.get() == *o>{o.label()}</option>
                            }).collect_view()}
                        </select>
                    })
                }}
                <button type="submit" class="button small primary" data-testid="filter-apply">"Apply"</button>
                <button type="button" class="button small" on:click=move |_| on_done()>"Cancel"</button>
            </div>
            {move || problem.get().map(|p| view! { <p class="problem" role="alert">{p}</p> })}
            {move || match op.get() {
                Op::In | Op::NotIn => view! {
                    <div class="value-list" data-testid="filter-values">
                        {move || state.column_values.get().filter(|v| v.column == column.get()).map(|values| {
                            let more = values.distinct.saturating_sub(values.values.len());
                            view! {
                                {values.values.into_iter().map(|(value, count)| {
                                    let toggled = value.clone();
                                    let shown = value.clone();
                                    view! {
                                        <label class="value-option">
                                            <input type="checkbox" value=value.clone()
                                                prop:checked=move || picked.get().contains(&value)
                                                on:change=move |_| toggle(toggled.clone())/>
                                            <span class="value-text">{shown}</span>
                                            <span class="muted tabular">{format_count(count as u64)}</span>
                                        </label>
                                    }
                                }).collect_view()}
                                {(more > 0).then(|| view! {
                                    <p class="muted">{format!("and {} more values; use “contains” to reach them", format_count(more as u64))}</p>
                                })}
                            }
                        })}
                    </div>
                }.into_any(),
                Op::Range => view! {
                    <div class="editor-row">
                        <input type="text" inputmode="decimal" placeholder="min" aria-label="Minimum" data-testid="filter-low"
                            prop:value=move || low.get() on:input=move |e| low.set(event_target_value(&e))/>
                        <span>"to"</span>
                        <input type="text" inputmode="decimal" placeholder="max" aria-label="Maximum" data-testid="filter-high"
                            prop:value=move || high.get() on:input=move |e| high.set(event_target_value(&e))/>
                    </div>
                }.into_any(),
                Op::TimeRange => view! {
                    <div class="editor-row">
                        <input type="text" placeholder="from, e.g. 2026-09-24" aria-label="From" data-testid="filter-low"
                            prop:value=move || low.get() on:input=move |e| low.set(event_target_value(&e))/>
                        <span>"to (not including)"</span>
                        <input type="text" placeholder="to, e.g. 2026-09-28 12:00" aria-label="To" data-testid="filter-high"
                            prop:value=move || high.get() on:input=move |e| high.set(event_target_value(&e))/>
                    </div>
                }.into_any(),
                Op::Contains => view! {
                    <div class="editor-row">
                        <input type="text" placeholder="text (any case)" aria-label="Text" data-testid="filter-text"
                            prop:value=move || text.get() on:input=move |e| text.set(event_target_value(&e))/>
                    </div>
                }.into_any(),
                Op::Missing | Op::Present => view! { <span></span> }.into_any(),
            }}
        </form>
    }
}
