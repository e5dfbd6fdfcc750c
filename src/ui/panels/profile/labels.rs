//! Ground truth, in the Profile tab: choose the label column (and item and reviewer), read
//! prevalence, conflicts, reviewer agreement and leakage. Checked in the worker over the rows
//! passing the global filter, on every change of a choice or of the filter.

use leptos::prelude::*;

use super::ProfilePanel;
use crate::analysis::labels::{Agreement, Conflicts, LabelParams, LabelReport};
use crate::data::table::ColumnType;
use crate::format::{format_count, format_events, format_percent};
use crate::ui::chart::{BarChart, XFormat, YFormat};
use crate::ui::export::{ExportKind, Exportable};
use crate::ui::jobs::JobProgress;
use crate::ui::state::{guess_label, AppState};

#[component]
pub fn LabelsPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let columns = move || state.summary.get().map(|s| s.columns).unwrap_or_default();
    // First visit: a guess from the column names.
    if state.label_params.get_untracked().is_none() {
        state.label_params.set(guess_label(&columns()));
    }
    let job = ProfilePanel::get().labels;
    Effect::new(move |_| {
        state.view_version.track();
        if let Some(mut params) = state.label_params.get() {
            params.now_ms = Some(js_sys::Date::now() as i64);
            job.clear();
            job.request(params);
        }
    });
    let set = move |update: &dyn Fn(&mut LabelParams)| {
        state.label_params.update(|p| {
            if let Some(p) = p.as_mut() {
                update(p);
            }
        });
    };
    let choose_label = move |name: String| {
        if name.is_empty() {
            state.label_params.set(None);
            job.reset();
        } else {
            let mut params = state.label_params.get_untracked().unwrap_or(LabelParams {
                label: String::new(),
                positive: Vec::new(),
                item: None,
                reviewer: None,
                time: None,
                now_ms: None,
            });
            params.label = name;
            params.positive.clear();
            state.label_params.set(Some(params));
        }
    };
    let select = move |testid: &'static str, aria: &'static str, current: Option<String>, options: Vec<String>, optional: bool| {
        view! {
            <select aria-label=aria data-testid=testid>
                <option value="" selected=current.is_none()>{if optional { "(none)" } else { "Choose…" }}</option>
                {options.into_iter().map(|name| {
                    let selected = current.as_deref() == Some(name.as_str());
                    view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                }).collect_view()}
            </select>
        }
    };
    view! {
        <section class="panel" data-testid="ground-truth">
            <h2>"Ground truth"</h2>
            <div class="editor-row label-choices">
                {move || {
                    let cols = columns();
                    let params = state.label_params.get();
                    let label_options: Vec<String> = cols.iter().filter(|c| matches!(c.kind, ColumnType::Category | ColumnType::Boolean)).map(|c| c.name.clone()).collect();
                    let id_options: Vec<String> = cols.iter().filter(|c| matches!(c.kind, ColumnType::Identifier | ColumnType::Category | ColumnType::Integer)).map(|c| c.name.clone()).collect();
                    view! {
                        <label>"label " <span on:change=move |e| choose_label(event_target_value(&e))>
                            {select("label-column", "Label column", params.as_ref().map(|p| p.label.clone()), label_options, false)}
                        </span></label>
                        <label>"item " <span on:change=move |e| { let v = event_target_value(&e); set(&|p| p.item = (!v.is_empty()).then(|| v.clone())) }>
                            {select("item-column", "Item id column", params.as_ref().and_then(|p| p.item.clone()), id_options.clone(), true)}
                        </span></label>
                        <label>"reviewer " <span on:change=move |e| { let v = event_target_value(&e); set(&|p| p.reviewer = (!v.is_empty()).then(|| v.clone())) }>
                            {select("reviewer-column", "Reviewer column", params.as_ref().and_then(|p| p.reviewer.clone()), id_options, true)}
                        </span></label>
                    }
                }}
            </div>
            {move || match (state.label_params.get(), job.result.get()) {
                (None, _) => view! { <p class="muted">"Choose the column holding the reviewers' decisions to check it."</p> }.into_any(),
                (Some(_), None) => view! {
                    <JobProgress running=Signal::derive(move || job.running.get()) on_cancel=Callback::new(move |()| job.cancel()) testid="labels-pending" cancel_testid="labels-cancel" idle="Checking labels"/>
                }.into_any(),
                (Some(_), Some(Err(err))) => view! { <p class="problem">{format!("Cannot check labels: {err}.")}</p> }.into_any(),
                (Some(_), Some(Ok(report))) => view! { <LabelResults report=(*report).clone()/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn LabelResults(report: LabelReport) -> impl IntoView {
    let state = expect_context::<AppState>();
    let total: f64 = report.classes.iter().map(|(_, n)| n).sum();
    let unit = state.counted();
    // The worker always returns the resolved positive list: toggling starts from it.
    let resolved = report.positive.clone();
    let toggle = move |class: String| {
        let mut next = resolved.clone();
        match next.iter().position(|c| *c == class) {
            Some(idx) => {
                next.remove(idx);
            }
            None => next.push(class),
        }
        state.label_params.update(|p| {
            if let Some(p) = p.as_mut() {
                p.positive = next;
            }
        });
    };
    let positive = report.positive.clone();
    let imbalanced = report.positive_rate < 0.05 || report.positive_rate > 0.95;
    view! {
        <div class="label-results">
            <div class="label-block">
                <h3>"Prevalence"</h3>
                <p data-testid="positive-rate">
                    <strong>{format_percent(report.positive_rate)}</strong>
                    {format!(" positive ({}) of {} labelled {unit}", report.positive.join(", "), format_events(total))}
                    {(report.missing > 0.0).then(|| format!(" · {} unlabelled", format_events(report.missing)))}
                </p>
                {imbalanced.then(|| view! { <p class="problem">"The label is imbalanced: precision and accuracy will mislead; prefer recall at a fixed precision."</p> })}
                <ul class="class-list">
                    {report.classes.iter().map(|(class, n)| {
                        let checked = positive.contains(class);
                        let name = class.clone();
                        let toggle = toggle.clone();
                        view! {
                            <li>
                                <label title="Counts as positive">
                                    <input type="checkbox" prop:checked=checked data-testid="positive-class" on:change=move |_| toggle(name.clone())/>
                                    {class.clone()}
                                </label>
                                <span class="muted tabular">{format!("{} ({})", format_events(*n), format_percent(*n / total.max(1.0)))}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                {report.over_time.map(|t| {
                    let edges: Vec<f64> = (0..=t.totals.len()).map(|i| (t.start_ms + i as i64 * t.bucket_ms) as f64).collect();
                    // A day without a label is a gap, not 0 % positive.
                    let rates: Vec<f64> = t.totals.iter().zip(&t.positives).map(|(&n, &p)| if n > 0.0 { p / n } else { f64::NAN }).collect();
                    let per = if t.bucket_ms == crate::data::time::DAY_MS { "positive share per day (UTC)" } else { "positive share per week (UTC)" };
                    view! {
                        <p class="muted small">{per}</p>
                        <BarChart edges=edges heights=rates x_format=XFormat::Date y_format=YFormat::Percent unit="positive" height=100 testid="prevalence-chart".to_string()/>
                    }
                })}
            </div>
            {report.conflicts.map(|c| view! { <ConflictsBlock conflicts=c/> })}
            {report.agreement.map(|a| view! { <AgreementBlock agreement=a weighted=unit != "rows"/> })}
            <div class="label-block" data-testid="leaks">
                <h3>"Leakage"</h3>
                {if let Some(why) = report.leaks_not_judged.clone() {
                    view! { <p class="muted" data-testid="leaks-not-judged">{why}</p> }.into_any()
                } else if report.leaks.is_empty() {
                    view! { <p class="muted">{format!("No column predicts positive vs the rest with {:.0} % balanced accuracy or more.", crate::analysis::labels::LEAK_ACCURACY * 100.0)}</p> }.into_any()
                } else {
                    view! {
                        <ul>
                            {report.leaks.iter().map(|l| view! {
                                <li data-testid="leak"><strong>{l.column.clone()}</strong>
                                    {format!(" predicts positive vs the rest with {} balanced accuracy from {} — likely filled after review; keep it out of models and rules.", format_percent(l.balanced_accuracy), l.how)}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
                <p class="muted small">{format!("Balanced accuracy is the mean of the hit rates on positives and on the rest: a guess scores 50 %, however rare positives are (always guessing the commonest class is right {} of the time).", format_percent(report.baseline))}</p>
            </div>
        </div>
    }
}

#[component]
fn ConflictsBlock(conflicts: Conflicts) -> impl IntoView {
    let rate = conflicts.conflicting_items as f64 / conflicts.repeated_items.max(1) as f64;
    view! {
        <div class="label-block" data-testid="conflicts">
            <h3>"Conflicting labels"</h3>
            <p>{format!("{} of {} items seen more than once carry different labels ({})",
                format_count(conflicts.conflicting_items as u64), format_count(conflicts.repeated_items as u64), format_percent(rate))}</p>
            {(!conflicts.examples.is_empty()).then(|| view! {
                <Exportable name="conflicting-labels" kind=ExportKind::Table><div class="table-wrap short">
                    <table class="grid">
                        <thead><tr><th>"item"</th><th>"labels"</th></tr></thead>
                        <tbody>
                            {conflicts.examples.into_iter().map(|(item, labels)| view! {
                                <tr><td class="mono">{item}</td><td>{labels.iter().map(|(l, n)| format!("{l} ×{n}")).collect::<Vec<_>>().join(", ")}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                </Exportable>
            })}
        </div>
    }
}

#[component]
fn AgreementBlock(agreement: Agreement, weighted: bool) -> impl IntoView {
    let kappa = |k: Option<f64>| k.map_or("–".to_string(), |k| format!("{k:.3}"));
    let mut reviewers = agreement.reviewers.clone();
    // Least agreement first: the reviewers to look at.
    reviewers.sort_by(|a, b| a.agreement.unwrap_or(1.0).total_cmp(&b.agreement.unwrap_or(1.0)));
    view! {
        <div class="label-block" data-testid="agreement">
            <h3>"Reviewer agreement"</h3>
            <p>
                "Cohen's κ " <strong data-testid="cohen-kappa">{kappa(agreement.cohen_kappa)}</strong>
                {format!(" on {} items rated twice", format_count(agreement.pairs as u64))}
                " · Fleiss' κ " <strong>{kappa(agreement.fleiss_kappa)}</strong>
                {format!(" on {} items × {} raters", format_count(agreement.fleiss_items as u64), agreement.raters)}
            </p>
            // Agreement is between judgments: a rating is one whatever its row's weight.
            {weighted.then(|| view! { <p class="muted" data-testid="agreement-unweighted">"Each rating counts once here: row weights are not applied to agreement."</p> })}
            <Exportable name="reviewers" kind=ExportKind::Table><div class="table-wrap short">
                <table class="grid">
                    <thead><tr><th>"reviewer"</th><th class="num">"ratings"</th><th class="num">"positive rate"</th><th class="num" title="Of this reviewer's ratings of items others also rated: the share that match the other ratings' majority (a tie among the others counts as no match)">"agrees"</th></tr></thead>
                    <tbody>
                        {reviewers.into_iter().map(|r| view! {
                            <tr data-testid="reviewer-row">
                                <td>{r.reviewer}</td>
                                <td class="num">{format_count(r.ratings as u64)}</td>
                                <td class="num">{format_percent(r.positive_rate)}</td>
                                <td class="num">{r.agreement.map_or("–".into(), format_percent)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table></div>
            </Exportable>
        </div>
    }
}
