//! The Profile tab: alerts first, then one card per column, then correlations. Computed in
//! the worker over the rows passing the global filter, again whenever the filter changes.

use leptos::prelude::*;
use serde_json::{Map, Value};

use crate::analysis::contract::{has_column, missing_column, FitColumns};
use crate::analysis::labels::{LabelParams, Labels};
use crate::analysis::profile::{Alert, ColumnProfile, Correlation, Profile, ProfileDetail, ProfileParams, Severity, TableProfile};
use crate::analysis::stats::Describe;
use crate::data::filter::Clause;
use crate::data::table::ColumnType;
use crate::data::time::format_display_ms;
use crate::format::{format_count, format_events, format_value, format_value_range};
use crate::ui::chart::{run_in_slices, BarChart, XFormat};
use crate::ui::controls::ShowMore;
use crate::ui::export::{ExportKind, Exportable};
use crate::ui::jobs::{Job, JobProgress};
use crate::ui::state::AppState;
use crate::viewstate::take_setting;
use labels::LabelsPanel;

mod labels;

/// The Profile tab.
pub const TAB: super::TabEntry = super::TabEntry {
    slug: "profile",
    label: "Profile",
    init: |_| {
        ProfilePanel::get();
    },
    view: || view! { <ProfileTab/> }.into_any(),
    reset: || ProfilePanel::get().key.set(None),
    link: Some(super::Link { write, read }),
};

/// The Profile tab's state: the key column, the profile and the label checks.
#[derive(Clone, Copy)]
pub struct ProfilePanel {
    /// The column that should identify rows, for duplicate-key checks.
    pub key: RwSignal<Option<String>>,
    pub profile: Job<Profile>,
    pub labels: Job<Labels>,
}

impl ProfilePanel {
    fn new() -> Self {
        Self { key: RwSignal::new(None), profile: Job::new(), labels: Job::new() }
    }
}

super::panel_state!(ProfilePanel);

fn write(state: AppState, settings: &mut Map<String, Value>) {
    super::put(settings, "profile_key", &ProfilePanel::get().key.get());
    super::put(settings, "label", &state.label_params.get());
}

fn read(state: AppState, settings: &mut Map<String, Value>, columns: &[(String, ColumnType)], notices: &mut Vec<String>) {
    let key: Option<String> = take_setting(settings, "profile_key", "key column", notices);
    let key = key.filter(|k| has_column(columns, k) || {
        notices.push(missing_column("key column", k));
        false
    });
    ProfilePanel::get().key.set(key);
    let label: Option<LabelParams> = take_setting(settings, "label", "label settings", notices);
    state.label_params.set(label.and_then(|l| l.fit_columns(columns, notices)));
}

#[component]
pub fn ProfileTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    let panel = ProfilePanel::get();
    let job = panel.profile;
    // Profile again whenever the view (filter, new table) or the key changes; a memo, so the
    // distinct counts arriving just after a load do not profile twice.
    let has_data = Memo::new(move |_| state.summary.with(Option::is_some));
    Effect::new(move |_| {
        state.view_version.track();
        let key = panel.key.get();
        if has_data.get() {
            job.clear();
            job.request(ProfileParams { now_ms: Some(js_sys::Date::now() as i64), key, ..ProfileParams::default() });
        }
    });
    let running = Signal::derive(move || job.running.get());
    move || match job.result.get() {
        None if state.summary.with(Option::is_none) => view! {
            <section class="panel"><p>"Load data to profile it."</p></section>
        }
        .into_any(),
        None => view! {
            <JobProgress running=running on_cancel=Callback::new(move |()| job.cancel()) testid="profiling" cancel_testid="profile-cancel" idle="Profiling the selected rows"/>
        }
        .into_any(),
        // Cancelled (or failed): the reason, and a way to run it again without leaving the tab.
        Some(Err(err)) => view! {
            <section class="panel" data-testid="profile-error">
                <p class="problem">{format!("Cannot profile: {err}.")}</p>
                <button class="button small" data-testid="profile-again" on:click=move |_| {
                    job.clear();
                    job.request(ProfileParams { now_ms: Some(js_sys::Date::now() as i64), key: panel.key.get_untracked(), ..ProfileParams::default() });
                }>"Profile again"</button>
            </section>
        }
        .into_any(),
        Some(Ok(profile)) => view! { <ProfileView profile=(*profile).clone()/> }.into_any(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AlertOrder {
    Severity,
    Column,
    Kind,
}

#[component]
fn ProfileView(profile: TableProfile) -> impl IntoView {
    let rows = profile.rows;
    let alerts = profile.alerts.clone();
    let correlations = profile.correlations.clone();
    // Cards are drawn a page at a time: a wide file's thousands of cards (each with a chart)
    // would freeze the page.
    const PAGE: usize = 48;
    let total = profile.columns.len();
    let shown = RwSignal::new(PAGE);
    // And the page's cards are added a few per frame: 24 cards with their charts drawn in one
    // go held the main thread 120 ms. Keyed, so a frame draws only its new cards. Each few are
    // added in a task of their own after a frame (not in its animation-frame callback, whose new
    // cards that frame would lay out a second time after the panel's first layout: 84 ms).
    const PER_FRAME: usize = 4;
    let drawn = RwSignal::new(PER_FRAME.min(total));
    Effect::new(move |_| {
        let target = shown.get().min(total);
        if drawn.get() < target {
            run_in_slices(move || {
                // The view may be gone by then.
                drawn.try_update(|d| *d = (*d + PER_FRAME).min(target));
                false
            });
        }
    });
    let complete = move || (drawn.get() >= shown.get().min(total)).then_some("true");
    // The correlation matrix once the first page of cards is in: its layout is a frame of its own.
    let cards_in = Memo::new(move |_| drawn.get() >= PAGE.min(total));
    let correlation_sample = profile.correlation_sample;
    let columns = std::sync::Arc::new(profile.columns);
    view! {
        <Alerts alerts=alerts rows=rows/>
        <LabelsPanel/>
        <section class="panel">
            <h2>"Columns " <span class="muted">{format!("· {} {} profiled", format_events(rows), expect_context::<AppState>().counted())}</span></h2>
            <div class="cards" data-testid="profile-cards" data-complete=complete>
                <For each=move || 0..drawn.get() key=|i| *i children=move |i| view! { <ColumnCard column=columns[i].clone()/> }/>
            </div>
            <ShowMore shown=shown total=total step=PAGE noun="columns" testid="profile-more"/>
        </section>
        {move || cards_in.get().then(|| view! { <Correlations correlations=correlations.clone() sample=correlation_sample/> })}
    }
}

#[component]
fn Alerts(alerts: Vec<Alert>, rows: f64) -> impl IntoView {
    let state = expect_context::<AppState>();
    let order = RwSignal::new(AlertOrder::Severity);
    let count = alerts.len();
    // A wide file can raise thousands of alerts: the first ones, then on request.
    let shown = RwSignal::new(100);
    let sorted = move || {
        let mut list = alerts.clone();
        match order.get() {
            AlertOrder::Severity => {} // the worker's order: severity, then magnitude
            AlertOrder::Column => list.sort_by(|a, b| a.column.cmp(&b.column)),
            AlertOrder::Kind => list.sort_by(|a, b| a.kind.label().cmp(b.kind.label())),
        }
        list
    };
    let header = move |label: &'static str, key: AlertOrder| {
        view! {
            <th class="sortable" class:sorted=move || order.get() == key on:click=move |_| order.set(key)>{label}</th>
        }
    };
    let key_options: Vec<String> = state
        .summary
        .get_untracked()
        .map(|s| s.columns.into_iter().filter(|c| matches!(c.kind, ColumnType::Identifier | ColumnType::Category | ColumnType::Integer)).map(|c| c.name).collect())
        .unwrap_or_default();
    let current_key = ProfilePanel::get().key.get_untracked();
    view! {
        <section class="panel" data-testid="alerts">
            <div class="panel-head">
                <h2>{format!("Alerts ({count})")}</h2>
                <label class="muted">"key column "
                    <select data-testid="key-column" aria-label="Key column"
                        on:change=move |e| { let v = event_target_value(&e); ProfilePanel::get().key.set((!v.is_empty()).then_some(v)); }>
                        <option value="" selected=current_key.is_none()>"(none)"</option>
                        {key_options.into_iter().map(|name| {
                            let selected = current_key.as_deref() == Some(name.as_str());
                            view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
            </div>
            {(count == 0).then(|| view! { <p class="muted">{format!("No problems found in {} {}.", format_events(rows), expect_context::<AppState>().counted())}</p> })}
            {(count > 0).then(|| view! {
                <Exportable name="alerts" kind=ExportKind::Table><div class="table-wrap">
                    <table class="grid alerts">
                        <thead><tr>{header("severity", AlertOrder::Severity)}{header("kind", AlertOrder::Kind)}{header("column", AlertOrder::Column)}<th>"finding"</th><th></th></tr></thead>
                        <tbody>
                            {move || sorted().into_iter().take(shown.get()).map(|alert| {
                                let evidence = alert.evidence.clone();
                                let severity = match alert.severity { Severity::Warning => "warning", Severity::Info => "info" };
                                view! {
                                    <tr data-testid="alert">
                                        <td><span class=format!("severity {severity}")>{severity}</span></td>
                                        <td>{alert.kind.label()}</td>
                                        <td class="name">{alert.column.clone().unwrap_or_default()}</td>
                                        <td class="wrap">{alert.message.clone()}</td>
                                        <td>{evidence.map(|clause| view! {
                                            <button class="button small" data-testid="alert-show-rows"
                                                on:click=move |_| state.show_rows(clause.clone())>"Show rows"</button>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table></div>
                </Exportable>
                <ShowMore shown=shown total=count step=usize::MAX noun="alerts" testid="alerts-show-all"/>
            })}
        </section>
    }
}

fn describe_rows(d: &Describe) -> Vec<(&'static str, String)> {
    vec![
        ("mean", format_value(d.mean)),
        ("std", d.std.map_or("–".into(), format_value)),
        ("min", format_value(d.min)),
        ("median", format_value(d.median)),
        ("max", format_value(d.max)),
        ("q1 – q3", format_value_range(d.q1, d.q3)),
        ("skew", d.skew.map_or("–".into(), |s| format!("{s:.2}"))),
        ("zeros", format_events(d.zeros)),
    ]
}

fn stat_list(items: Vec<(&'static str, String)>) -> impl IntoView {
    view! {
        <dl class="mini-stats">
            {items.into_iter().map(|(k, v)| view! { <div><dt>{k}</dt><dd>{v}</dd></div> }).collect_view()}
        </dl>
    }
}

#[component]
fn ValueBars(column: String, top: Vec<(String, f64)>, other: f64, present: f64) -> impl IntoView {
    let state = expect_context::<AppState>();
    let max = top.first().map_or(1.0, |(_, n)| *n).max(1.0);
    let unit = expect_context::<AppState>().counted();
    view! {
        <ul class="value-bars">
            {top.into_iter().map(|(value, n)| {
                let clause = Clause::InSet { column: column.clone(), values: vec![value.clone()], negate: false };
                let width = n / max * 100.0;
                let share = n / present.max(1.0) * 100.0;
                let title = format!("{value}: {} {unit} ({share:.1} %) — click to filter", format_events(n));
                view! {
                    <li>
                        <button class="value-bar" title=title data-testid="value-bar" on:click=move |_| state.show_rows(clause.clone())>
                            <span class="bar-fill" style=format!("width: {width:.1}%")></span>
                            <span class="bar-label">{value}</span>
                            <span class="bar-count">{format_events(n)}</span>
                        </button>
                    </li>
                }
            }).collect_view()}
            {(other > 0.0).then(|| view! { <li class="muted other">{format!("other values: {}", format_events(other))}</li> })}
        </ul>
    }
}

#[component]
fn ColumnCard(column: ColumnProfile) -> impl IntoView {
    let state = expect_context::<AppState>();
    // Of the column's own total: the weight column and a cube's measures count rows, not events.
    let missing_pct = column.missing / (column.present + column.missing).max(1.0) * 100.0;
    let name = column.name.clone();
    let testid = format!("card-{}", column.name);
    let header = view! {
        <div class="card-head">
            <h3>{column.name.clone()}</h3>
            <span class=format!("type type-{}", column.kind.label())>{column.kind.label()}</span>
        </div>
        <p class="card-facts muted">
            {format!("{} present · {:.1} % missing · {} distinct", format_events(column.present), missing_pct, format_count(column.distinct as u64))}
        </p>
    };
    let body = match column.detail {
        ProfileDetail::Numeric { describe, histogram, log_histogram, outliers } => {
            let log = RwSignal::new(false);
            let has_log = log_histogram.is_some();
            let log_name = name.clone();
            view! {
                {describe.as_ref().map(|d| stat_list(describe_rows(d)))}
                <div class="card-row">
                    <span class="muted">{outliers.filter(|o| o.count() > 0.0).map(|o| format!("{} outliers (MAD rule)", format_events(o.count())))}</span>
                    {has_log.then(|| view! {
                        <label class="log-toggle"><input type="checkbox" data-testid=format!("log-{log_name}")
                            prop:checked=move || log.get() on:change=move |_| log.update(|l| *l = !*l)/>" log scale"</label>
                    })}
                </div>
                {move || {
                    let (chosen, format) = match (log.get(), &log_histogram) {
                        (true, Some(h)) => (Some(h.clone()), XFormat::Log10p1),
                        _ => (histogram.clone(), XFormat::Number),
                    };
                    chosen.map(|h| {
                        let (column, edges) = (name.clone(), h.edges.clone());
                        let pick = Callback::new(move |idx: usize| {
                            // Bars are [lo, hi) but the last, which includes its top edge.
                            let to_value = |e: f64| if format == XFormat::Log10p1 { 10f64.powf(e) - 1.0 } else { e };
                            let (Some(&lo), Some(&hi)) = (edges.get(idx), edges.get(idx + 1)) else { return };
                            let last = idx + 2 == edges.len();
                            let max = if last { to_value(hi) } else { to_value(hi).next_down() };
                            state.show_rows(Clause::Range { column: column.clone(), min: Some(to_value(lo)), max: Some(max) });
                        });
                        view! { <BarChart edges=h.edges heights=h.counts x_format=format on_pick=pick testid=format!("hist-{name}")/> }
                    })
                }}
            }
            .into_any()
        }
        ProfileDetail::Time { min_ms, max_ms, per_bucket, longest_gap, future, impossible } => {
            let range = min_ms.zip(max_ms).map(|(a, b)| format!("{} → {}", format_display_ms(a), format_display_ms(b)));
            // Only what is there to say: dates in the future, dates that cannot be, and the
            // longest run of empty days (or weeks) up to now.
            let unit = if per_bucket.as_ref().is_some_and(|p| p.bucket_ms != crate::data::time::DAY_MS) { "week" } else { "day" };
            let flags: Vec<String> = [
                (future > 0.0).then(|| format!("{} in the future", format_events(future))),
                (impossible > 0.0).then(|| format!("{} before 1900 or after 2099", format_events(impossible))),
                (longest_gap > 0).then(|| format!("longest run without a row: {longest_gap} {unit}{}", if longest_gap == 1 { "" } else { "s" })),
            ]
            .into_iter()
            .flatten()
            .collect();
            view! {
                <p>{range.unwrap_or_else(|| "no valid timestamps".into())}</p>
                {per_bucket.map(|p| {
                    let edges: Vec<f64> = (0..=p.counts.len()).map(|i| (p.start_ms + i as i64 * p.bucket_ms) as f64).collect();
                    let column = name.clone();
                    let (start, bucket) = (p.start_ms, p.bucket_ms);
                    let pick = Callback::new(move |idx: usize| {
                        let from = start + idx as i64 * bucket;
                        state.show_rows(Clause::TimeRange { column: column.clone(), start_ms: Some(from), end_ms: Some(from + bucket) });
                    });
                    let per = format!("{} per {} (UTC)", expect_context::<AppState>().counted(), if p.bucket_ms == crate::data::time::DAY_MS { "day" } else { "week" });
                    view! {
                        <p class="muted small">{per}</p>
                        <BarChart edges=edges heights=p.counts x_format=XFormat::Date height=90 on_pick=pick testid=format!("spark-{name}")/>
                    }
                })}
                {(!flags.is_empty()).then(|| view! { <p class="muted">{flags.join(" · ")}</p> })}
            }
            .into_any()
        }
        ProfileDetail::Values { top, other, repeated_values } => view! {
            {(repeated_values > 0 && column.kind == ColumnType::Identifier).then(|| view! {
                <p class="muted">{format!("{} values occur more than once", format_count(repeated_values as u64))}</p>
            })}
            <ValueBars column=name.clone() top=top other=other present=column.present/>
        }
        .into_any(),
        ProfileDetail::Text { lengths, length_histogram, top } => view! {
            {lengths.as_ref().map(|d| stat_list(vec![("mean length", format_value(d.mean)), ("min", format_value(d.min)), ("max", format_value(d.max))]))}
            {length_histogram.map(|h| view! { <BarChart edges=h.edges heights=h.counts unit="values" testid=format!("hist-{name}")/> })}
            <ValueBars column=name.clone() top=top other=0.0 present=column.present/>
        }
        .into_any(),
    };
    view! { <article class="card" data-testid=testid>{header}{body}</article> }
}

#[component]
fn Correlations(correlations: Vec<Correlation>, sample: Option<(usize, usize)>) -> impl IntoView {
    let spearman = RwSignal::new(false);
    let mut names: Vec<String> = Vec::new();
    for c in &correlations {
        for n in [&c.a, &c.b] {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    if names.len() < 2 {
        return view! { <section class="panel"><h2>"Correlations"</h2><p class="muted">"Needs two numeric columns."</p></section> }.into_any();
    }
    // (Pearson, Spearman) per cell, computed once: the cells only pick one.
    let pair = |a: &str, b: &str| -> Option<(f64, f64)> {
        if a == b {
            return Some((1.0, 1.0));
        }
        correlations.iter().find(|c| (c.a == a && c.b == b) || (c.a == b && c.b == a)).map(|c| (c.pearson, c.spearman))
    };
    let matrix: Vec<Vec<Option<(f64, f64)>>> = names.iter().map(|a| names.iter().map(|b| pair(a, b)).collect()).collect();
    let header_names = names.clone();
    view! {
        <section class="panel" data-testid="correlations">
            <div class="panel-head">
                <h2>"Correlations"</h2>
                <div class="toggle">
                    <button class="button small" class:primary=move || !spearman.get() on:click=move |_| spearman.set(false)>"Pearson"</button>
                    <button class="button small" class:primary=move || spearman.get() on:click=move |_| spearman.set(true)>"Spearman"</button>
                </div>
            </div>
            {sample.map(|(n, of)| view! { <p class="muted" data-testid="correlation-sample">{format!("From a seeded random sample of {} of the {} rows.", format_count(n as u64), format_count(of as u64))}</p> })}
            <Exportable name="correlations" kind=ExportKind::Table><div class="table-wrap">
                <table class="heatmap">
                    <thead><tr><th></th>{header_names.iter().map(|n| view! { <th class="rot">{n.clone()}</th> }).collect_view()}</tr></thead>
                    <tbody>
                        {names.iter().zip(matrix).map(|(row_name, cells)| view! {
                            <tr>
                                <th>{row_name.clone()}</th>
                                {cells.into_iter().map(|cell| {
                                    let value = move || cell.map(|(p, s)| if spearman.get() { s } else { p });
                                    let style = move || value().map_or(String::new(), |r| {
                                        let alpha = r.abs().min(1.0) * 0.85;
                                        if r >= 0.0 { format!("background: rgba(53, 88, 212, {alpha:.2})") } else { format!("background: rgba(214, 64, 64, {alpha:.2})") }
                                    });
                                    view! { <td style=style>{move || value().map_or("–".into(), |r| format!("{:.2}", if r.abs() < 0.005 { 0.0 } else { r }))}</td> }
                                }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table></div>
            </Exportable>
        </section>
    }
    .into_any()
}
