//! The Models & rules tab: write detection rules in the rule language, backtest them against
//! the label (confusion, precision, recall, drift, overlaps, the rule set), browse their false
//! positives and negatives, export them as SQL or JSON; and read a score column's ROC and
//! precision-recall curves with a threshold slider.

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;

use serde_json::{Map, Value};

use crate::analysis::backtest::{Backtest, BacktestParams, BacktestReport, Confusion, RuleResult, RuleSpec, ScoreReport, ScoreSettings, Scores, MAX_RULES};
use crate::analysis::contract::FitColumns;
use crate::analysis::regression::{Regression, RegressionParams};
use crate::analysis::tree::{Tree, TreeParams};
use crate::data::filter::Clause;
use crate::data::table::ColumnType;
use crate::format::{format_events, format_percent, format_value, format_value_range};
use crate::plot::canvas::draw_on_canvas;
use crate::plot::scatter::draw_xy;
use crate::ui::chart::{draw_soon, theme, BarChart, XFormat, YFormat};
use crate::ui::controls::Checklist;
use crate::ui::download::download_text;
use crate::ui::export::{ExportKind, Exportable};
use crate::ui::jobs::{Job, JobProgress};
use crate::ui::state::AppState;
use crate::viewstate::take_setting;

/// The Models & rules tab.
pub const TAB: super::TabEntry = super::TabEntry {
    slug: "models",
    label: "Models & rules",
    init: |_| {
        ModelsPanel::get();
    },
    view: || view! { <ModelsTab/> }.into_any(),
    reset: || {
        let panel = ModelsPanel::get();
        panel.rules.set(default_rules());
        panel.score.set(ScoreSettings::default());
    },
    link: Some(super::Link { write, read }),
};

/// The Models tab's state: the rules and their backtest, the score column's curves, the
/// decision tree and the regression.
#[derive(Clone, Copy)]
pub struct ModelsPanel {
    /// The rules, in order.
    pub rules: RwSignal<Vec<RuleSpec>>,
    pub backtest: Job<Backtest>,
    pub score: RwSignal<ScoreSettings>,
    pub scores: Job<Scores>,
    pub tree: Job<Tree>,
    pub regression: Job<Regression>,
}

impl ModelsPanel {
    fn new() -> Self {
        Self { rules: RwSignal::new(default_rules()), backtest: Job::new(), score: RwSignal::new(ScoreSettings::default()), scores: Job::new(), tree: Job::new(), regression: Job::new() }
    }
}

super::panel_state!(ModelsPanel);

/// The rules before the user writes any: one empty rule.
fn default_rules() -> Vec<RuleSpec> {
    vec![RuleSpec { name: "rule 1".into(), text: String::new() }]
}

fn write(_state: AppState, settings: &mut Map<String, Value>) {
    let panel = ModelsPanel::get();
    let rules = panel.rules.get();
    if rules != default_rules() {
        super::put(settings, "rules", &rules);
    }
    super::put(settings, "score", &panel.score.get());
    super::put(settings, "tree", &panel.tree.params.get());
    super::put(settings, "regression", &panel.regression.params.get());
}

fn read(state: AppState, settings: &mut Map<String, Value>, columns: &[(String, ColumnType)], notices: &mut Vec<String>) {
    let panel = ModelsPanel::get();
    let rules: Vec<RuleSpec> = take_setting(settings, "rules", "rules", notices).unwrap_or_default();
    if rules.is_empty() {
        panel.rules.set(default_rules());
        panel.backtest.reset();
    } else {
        panel.rules.set(rules);
        evaluate(state);
    }
    let score = take_setting::<ScoreSettings>(settings, "score", "score settings", notices).and_then(|s| s.fit_columns(columns, notices));
    panel.score.set(score.unwrap_or_default());
    request_scores(state);
    match take_setting::<TreeParams>(settings, "tree", "decision tree settings", notices).and_then(|t| t.fit_columns(columns, notices)) {
        Some(params) => panel.tree.request(params),
        None => panel.tree.reset(),
    }
    match take_setting::<RegressionParams>(settings, "regression", "regression settings", notices).and_then(|r| r.fit_columns(columns, notices)) {
        Some(params) => panel.regression.request(params),
        None => panel.regression.reset(),
    }
}

/// Backtests the rules written so far against the label.
fn evaluate(state: AppState) {
    let panel = ModelsPanel::get();
    let label = state.chosen_label().unwrap_or_else(|| crate::analysis::labels::LabelSpec { column: String::new(), positive: Vec::new() });
    let rules: Vec<RuleSpec> = panel.rules.get_untracked().into_iter().filter(|r| !r.text.trim().is_empty()).collect();
    panel.backtest.request(BacktestParams { rules, label, time_column: None });
}

/// The score column's curves, once a column (and a label) is chosen.
fn request_scores(state: AppState) {
    let panel = ModelsPanel::get();
    let params = state.chosen_label().and_then(|label| panel.score.with_untracked(|s| s.params(label)));
    match params {
        Some(params) => panel.scores.request(params),
        None => panel.scores.reset(),
    }
}

/// An analysis's error, as a sentence.
fn sentence(err: &crate::protocol::JobError) -> String {
    let text = err.to_string();
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>() + ".").unwrap_or_default()
}

/// Flags below which the best threshold's precision is given with its interval.
const FEW_FLAGGED: f64 = 200.0;

#[component]
pub fn ModelsTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        if state.summary.with(Option::is_none) {
            return view! { <section class="panel"><p>"Load data to backtest rules."</p></section> }.into_any();
        }
        let panel = ModelsPanel::get();
        let label_line = match state.chosen_label() {
            Some(l) => {
                let positive = if l.positive.is_empty() { "every class but the most common (true for a true/false column)".to_string() } else { l.positive.join(", ") };
                format!("Ground truth: {} ∈ {{{positive}}} (change it in the Profile tab). Rows without a label are left out.", l.column)
            }
            None => "No label column: choose one in the Profile tab (Ground truth) to backtest against.".into(),
        };
        view! {
            <p class="muted small" data-testid="models-label">{label_line}</p>
            <RulesEditor/>
            <JobProgress running=Signal::derive(move || panel.backtest.running.get()) on_cancel=Callback::new(move |()| panel.backtest.cancel()) testid="backtest-pending" cancel_testid="backtest-cancel" idle="Evaluating the rules"/>
            {move || match panel.backtest.result.get() {
                None => None,
                Some(Err(err)) => Some(view! { <section class="panel" data-testid="backtest-error"><p class="problem">{sentence(&err)}</p></section> }.into_any()),
                Some(Ok(report)) => Some(view! { <BacktestView report=report/> }.into_any()),
            }}
            <ScoresPanel/>
            <TreePanel/>
            <RegressionPanel/>
        }
        .into_any()
    }
}

#[component]
fn RulesEditor() -> impl IntoView {
    let state = expect_context::<AppState>();
    let import_problem = RwSignal::new(None::<String>);
    let set_rule = move |idx: usize, update: Box<dyn Fn(&mut RuleSpec)>| {
        ModelsPanel::get().rules.update(|rules| {
            if let Some(rule) = rules.get_mut(idx) {
                update(rule);
            }
        });
    };
    let rows = move || {
        let count = ModelsPanel::get().rules.with(Vec::len);
        (0..count)
            .map(|idx| {
                let name = move || ModelsPanel::get().rules.with(|r| r.get(idx).map(|r| r.name.clone()).unwrap_or_default());
                let text = move || ModelsPanel::get().rules.with(|r| r.get(idx).map(|r| r.text.clone()).unwrap_or_default());
                view! {
                    <div class="rule-row" data-testid="rule-row">
                        <input class="rule-name" aria-label="Rule name" data-testid="rule-name" prop:value=name
                            on:change=move |e| { let v = event_target_value(&e); set_rule(idx, Box::new(move |r| r.name = v.clone())) }/>
                        <textarea class="rule-text mono" rows="2" aria-label="Rule" data-testid="rule-text" spellcheck="false"
                            placeholder="prior_strikes >= 2 and account_age_days < 30   ·   country in (BR, ID) or reason = scam   ·   risk_score between 0.5 and 0.9   ·   text contains \"free\"   ·   country is missing"
                            prop:value=text
                            on:change=move |e| { let v = event_target_value(&e); set_rule(idx, Box::new(move |r| r.text = v.clone())) }></textarea>
                        <button class="button small" title="Remove this rule" on:click=move |_| ModelsPanel::get().rules.update(|r| { if r.len() > 1 { r.remove(idx); } })>"×"</button>
                    </div>
                }
            })
            .collect_view()
    };
    let add = move |_| {
        ModelsPanel::get().rules.update(|r| {
            if r.len() < MAX_RULES {
                let name = format!("rule {}", r.len() + 1);
                r.push(RuleSpec { name, text: String::new() });
            }
        })
    };
    let export_json = move |_| {
        let json = serde_json::to_string_pretty(&ModelsPanel::get().rules.get_untracked()).unwrap_or_default();
        if let Err(message) = download_text("vigil-rules.json", "application/json", &json) {
            state.error.set(Some(format!("Cannot export the rules: {message}")));
        }
    };
    let import_json = move |e: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        wasm_bindgen_futures::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text()).await.ok().and_then(|v| v.as_string()).unwrap_or_default();
            match serde_json::from_str::<Vec<RuleSpec>>(&text) {
                Ok(rules) if !rules.is_empty() && rules.len() <= MAX_RULES => {
                    import_problem.set(None);
                    ModelsPanel::get().rules.set(rules);
                    evaluate(state);
                }
                Ok(_) => import_problem.set(Some(format!("The file holds no rules, or more than {MAX_RULES}."))),
                Err(err) => import_problem.set(Some(format!("Not a Vigil rules file: {err}."))),
            }
        });
    };
    view! {
        <section class="panel rules-panel" data-testid="rules-panel">
            <div class="panel-head">
                <h2>"Rules"</h2>
                <span class="toggle">
                    <button class="button small" data-testid="rule-add" on:click=add>"Add rule"</button>
                    <button class="button small" data-testid="rules-export" on:click=export_json>"Export JSON"</button>
                    <label class="button small">"Import JSON"<input type="file" accept=".json,application/json" class="hidden" data-testid="rules-import" on:change=import_json/></label>
                </span>
            </div>
            <p class="muted small">"Conditions: = != < <= > >= · in (a, b) · not in (…) · between x and y · is missing · is not missing · contains \"text\"; join with and, or, not and parentheses. Quote names with spaces in backticks."</p>
            {rows}
            <RuleBuilder/>
            <div class="control-row">
                <button class="button primary" data-testid="rules-evaluate" on:click=move |_| evaluate(state)>"Evaluate"</button>
            </div>
            {move || import_problem.get().map(|p| view! { <p class="problem">{p}</p> })}
        </section>
    }
}

const OPERATORS: [&str; 12] = ["=", "!=", "<", "<=", ">", ">=", "in", "not in", "between", "is missing", "is not missing", "contains"];

/// The condition a builder row describes, as rule text.
fn condition_from_form(column: &str, op: &str, value: &str) -> Result<String, String> {
    use crate::data::expr::{quote_column, quote_value};
    let col = quote_column(column);
    let list = |v: &str| v.split(',').map(str::trim).filter(|x| !x.is_empty()).map(quote_value).collect::<Vec<_>>();
    let text = match op {
        "is missing" | "is not missing" => format!("{col} {op}"),
        "in" | "not in" => {
            let values = list(value);
            if values.is_empty() {
                return Err("List the values, separated by commas.".into());
            }
            format!("{col} {op} ({})", values.join(", "))
        }
        "between" => {
            let bounds: Vec<&str> = value.split([',']).flat_map(|p| p.split(" and ")).map(str::trim).filter(|x| !x.is_empty()).collect();
            match bounds.as_slice() {
                [lo, hi] if lo.parse::<f64>().is_ok() && hi.parse::<f64>().is_ok() => format!("{col} between {lo} and {hi}"),
                _ => return Err("Give two numbers: low, high.".into()),
            }
        }
        "contains" => format!("{col} contains \"{}\"", value.trim().replace('"', "\"\"")),
        _ => {
            if value.trim().is_empty() {
                return Err("Give a value to compare with.".into());
            }
            format!("{col} {op} {}", quote_value(value))
        }
    };
    crate::data::expr::parse(&text).map(|_| text).map_err(|e| e.to_string())
}

/// Builds a condition from choices and appends it to a rule (the form beside the typed text).
#[component]
fn RuleBuilder() -> impl IntoView {
    let state = expect_context::<AppState>();
    let columns: Vec<String> = state.summary.get_untracked().map(|s| s.columns.into_iter().map(|c| c.name).collect()).unwrap_or_default();
    let target = RwSignal::new(0usize);
    let column = RwSignal::new(columns.first().cloned().unwrap_or_default());
    let op = RwSignal::new("=".to_string());
    let value = RwSignal::new(String::new());
    let join = RwSignal::new("and".to_string());
    let problem = RwSignal::new(None::<String>);
    let add = move |_| match condition_from_form(&column.get_untracked(), &op.get_untracked(), &value.get_untracked()) {
        Ok(condition) => {
            problem.set(None);
            let join = join.get_untracked();
            ModelsPanel::get().rules.update(|rules| {
                if let Some(rule) = rules.get_mut(target.get_untracked()) {
                    rule.text = if rule.text.trim().is_empty() { condition } else { format!("{} {join} {condition}", rule.text.trim()) };
                }
            });
            value.set(String::new());
        }
        Err(message) => problem.set(Some(message)),
    };
    view! {
        <div class="control-row rule-builder" data-testid="rule-builder">
            <span class="control-label">"Add a condition"</span>
            <select aria-label="Rule" data-testid="builder-rule" on:change=move |e| target.set(event_target_value(&e).parse().unwrap_or(0))>
                {move || ModelsPanel::get().rules.get().into_iter().enumerate().map(|(i, r)| view! { <option value=i.to_string() selected=move || target.get() == i>{format!("to {}", r.name)}</option> }).collect_view()}
            </select>
            <select aria-label="Join" data-testid="builder-join" on:change=move |e| join.set(event_target_value(&e))>
                <option value="and">"and"</option>
                <option value="or">"or"</option>
            </select>
            <select aria-label="Column" data-testid="builder-column" on:change=move |e| column.set(event_target_value(&e))>
                {columns.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
            </select>
            <select aria-label="Operator" data-testid="builder-op" on:change=move |e| op.set(event_target_value(&e))>
                {OPERATORS.into_iter().map(|o| view! { <option value=o>{o}</option> }).collect_view()}
            </select>
            <input aria-label="Value" data-testid="builder-value" placeholder="value (a, b for lists and ranges)" prop:value=move || value.get() on:input=move |e| value.set(event_target_value(&e))/>
            <button class="button small" data-testid="builder-add" on:click=add>"Add"</button>
            {move || problem.get().map(|p| view! { <span class="problem small" data-testid="builder-problem">{p}</span> })}
        </div>
    }
}

/// Shows rows of a rule's outcome in the Data tab.
fn show_rows(state: AppState, rule: &RuleResult, false_positives: bool, label: &str, positives: &[String]) {
    let rule_clause = |negate| Clause::Rule { name: rule.name.clone(), text: rule.text.clone(), negate };
    let clauses = if false_positives {
        vec![
            rule_clause(false),
            Clause::InSet { column: label.to_string(), values: positives.to_vec(), negate: true },
            Clause::Missing { column: label.to_string(), missing: false },
        ]
    } else {
        vec![rule_clause(true), Clause::InSet { column: label.to_string(), values: positives.to_vec(), negate: false }]
    };
    state.add_to_filter(clauses);
    state.tab.set("data");
}

/// "at character 12: …" → the rule with a caret under character 12.
fn caret_line(text: &str, message: &str) -> Option<String> {
    let position: usize = message.strip_prefix("at character ")?.split(':').next()?.parse().ok()?;
    Some(format!("{}\n{}^", text, " ".repeat(position.saturating_sub(1))))
}

#[component]
fn BacktestView(report: Arc<BacktestReport>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let unit = expect_context::<AppState>().counted();
    let selected = RwSignal::new(report.rules.iter().position(Result::is_ok).unwrap_or(0));
    let rules = ModelsPanel::get().rules.get_untracked();
    let row = |name: String, c: &Confusion, marginal: Option<f64>, total: f64| {
        view! {
            <td class="num">{format_events(c.flagged())}</td>
            <td class="num">{format_percent(c.flagged() / total.max(1.0))}</td>
            <td class="num" data-testid="rule-precision">{format_percent(c.precision())}</td>
            <td class="num" data-testid="rule-recall">{format_percent(c.recall())}</td>
            <td class="num">{if c.f1().is_finite() { format!("{:.3}", c.f1()) } else { "—".into() }}</td>
            <td class="num mono">{format!("{} / {} / {} / {}", format_events(c.tp), format_events(c.fp), format_events(c.fn_), format_events(c.tn))}</td>
            <td class="num">{marginal.map(format_events).unwrap_or_default()}</td>
            <td class="hidden">{name}</td>
        }
    };
    let total = report.rows;
    let body = report
        .rules
        .iter()
        .enumerate()
        .map(|(idx, result)| match result {
            Ok(r) => {
                let cells = row(r.name.clone(), &r.confusion, Some(r.marginal), total);
                view! {
                    <tr data-testid="rule-result" class:focused=move || selected.get() == idx on:click=move |_| selected.set(idx)>
                        <td>{r.name.clone()}</td>{cells}
                    </tr>
                }
                .into_any()
            }
            Err(message) => {
                let text = rules.get(idx).map(|r| r.text.clone()).unwrap_or_default();
                let caret = caret_line(&text, message);
                view! {
                    <tr data-testid="rule-result-error">
                        <td>{rules.get(idx).map(|r| r.name.clone()).unwrap_or_default()}</td>
                        <td colspan="8">
                            <span class="problem" data-testid="rule-error">{message.clone()}</span>
                            {caret.map(|c| view! { <pre class="caret mono">{c}</pre> })}
                        </td>
                    </tr>
                }
                .into_any()
            }
        })
        .collect_view();
    let union = report.union.filter(|_| report.rules.iter().filter(|r| r.is_ok()).count() > 1).map(|c| {
        let cells = row(String::new(), &c, None, total);
        view! { <tr class="union" data-testid="rule-set"><td>"rule set (any)"</td>{cells}</tr> }
    });
    let names: Vec<String> = report.rules.iter().enumerate().map(|(i, r)| r.as_ref().map(|r| r.name.clone()).unwrap_or_else(|_| format!("rule {}", i + 1))).collect();
    let running: Vec<usize> = (0..report.rules.len()).filter(|&i| report.rules[i].is_ok()).collect();
    let overlap = (running.len() > 1).then(|| {
        let head = running.iter().map(|&j| view! { <th class="num">{names[j].clone()}</th> }).collect_view();
        let rows = running
            .iter()
            .map(|&i| {
                let cells = running
                    .iter()
                    .map(|&j| {
                        let text = if i == j { format_events(report.overlap[i][j]) } else { format!("{} both · {} one", format_events(report.overlap[i][j]), format_events(report.disagree[i][j])) };
                        view! { <td class="num">{text}</td> }
                    })
                    .collect_view();
                view! { <tr><th>{names[i].clone()}</th>{cells}</tr> }
            })
            .collect_view();
        view! {
            <h3>"Overlap"</h3>
            <p class="muted small">"Rows both rules flag, and rows only one of them flags (the diagonal: each rule's flagged rows)."</p>
            <div class="table-wrap"><Exportable name="rule-overlap" kind=ExportKind::Table><table class="grid" data-testid="rule-overlap"><thead><tr><th></th>{head}</tr></thead><tbody>{rows}</tbody></table></Exportable></div>
        }
    });
    let label = report.label.clone();
    let positives = report.positive_classes.clone();
    let detail_report = report.clone();
    let detail = move || {
        let idx = selected.get();
        let r = detail_report.rules.get(idx)?.as_ref().ok()?.clone();
        let (edges, heights): (Vec<f64>, Vec<f64>) = {
            let mut edges: Vec<f64> = r.daily.iter().map(|(ms, _)| *ms as f64).collect();
            if let Some(last) = edges.last().copied() {
                edges.push(last + 86_400_000.0);
            }
            (edges, r.daily.iter().map(|(_, n)| *n).collect())
        };
        let (week_edges, week_precision): (Vec<f64>, Vec<f64>) = {
            let mut edges: Vec<f64> = r.weekly.iter().map(|w| w.start_ms as f64).collect();
            if let Some(last) = edges.last().copied() {
                edges.push(last + 7.0 * 86_400_000.0);
            }
            (edges, r.weekly.iter().map(|w| if w.flagged > 0.0 { w.true_positives / w.flagged } else { 0.0 }).collect())
        };
        let sql = r.sql.clone();
        let notes = r.sql_notes.clone();
        let copy_sql = sql.clone();
        let (fp_rule, fn_rule) = (r.clone(), r.clone());
        let (label_fp, label_fn, pos_fp, pos_fn) = (label.clone(), label.clone(), positives.clone(), positives.clone());
        Some(view! {
            <div class="rule-detail" data-testid="rule-detail">
                <div class="panel-head">
                    <h3>{format!("“{}”", r.name)}</h3>
                    <span class="toggle">
                        <button class="button small" data-testid="show-false-positives" on:click=move |_| show_rows(state, &fp_rule, true, &label_fp, &pos_fp)>{format!("Show {} false positives", format_events(r.confusion.fp))}</button>
                        <button class="button small" data-testid="show-false-negatives" on:click=move |_| show_rows(state, &fn_rule, false, &label_fn, &pos_fn)>{format!("Show {} false negatives", format_events(r.confusion.fn_))}</button>
                        <button class="button small" data-testid="copy-sql" on:click=move |_| {
                            if let Some(w) = web_sys::window() { let _ = w.navigator().clipboard().write_text(&copy_sql); }
                        }>"Copy SQL"</button>
                    </span>
                </div>
                <div class="rule-charts">
                    <div>
                        <p class="muted small">{format!("Flagged {unit} per day")}</p>
                        {(!heights.is_empty()).then(|| view! { <BarChart edges=edges heights=heights x_format=XFormat::Date height=120 unit="flagged" testid="rule-daily".to_string()/> })}
                    </div>
                    <div>
                        <p class="muted small">"Precision per week (does the rule drift?)"</p>
                        {(!week_precision.is_empty()).then(|| view! { <BarChart edges=week_edges heights=week_precision y_format=YFormat::Percent x_format=XFormat::Date height=120 unit="precision" testid="rule-weekly".to_string()/> })}
                    </div>
                </div>
                <p class="muted small">"As SQL (ANSI WHERE clause):"</p>
                <pre class="sql mono" data-testid="rule-sql">{sql}</pre>
                <ul class="notices small">{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            </div>
        })
    };
    let summary = format!(
        "{} labelled {unit}, {} positive ({}){}",
        format_events(report.rows),
        format_events(report.positives),
        format_percent(report.positives / report.rows.max(1.0)),
        if report.missing_label > 0.0 { format!("; {} {unit} without a label left out", format_events(report.missing_label)) } else { String::new() }
    );
    view! {
        <section class="panel" data-testid="backtest">
            <div class="panel-head"><h2>"Backtest"</h2><span class="muted small">{summary}</span></div>
            <div class="table-wrap">
                <Exportable name="rules" kind=ExportKind::Table><table class="grid rules-table">
                    <thead><tr>
                        <th>"rule"</th><th class="num">"flagged"</th><th class="num">"share"</th><th class="num">"precision"</th><th class="num">"recall"</th>
                        <th class="num">"F1"</th><th class="num">"TP / FP / FN / TN"</th><th class="num" title="Positives only this rule catches">"only this rule"</th><th class="hidden"></th>
                    </tr></thead>
                    <tbody>{body}{union}</tbody>
                </table></Exportable>
            </div>
            {detail}
            {overlap}
        </section>
    }
}

#[component]
fn ScoresPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let numeric: Vec<String> = state
        .summary
        .get_untracked()
        .map(|s| s.columns.into_iter().filter(|c| matches!(c.kind, ColumnType::Float | ColumnType::Integer)).map(|c| c.name).collect())
        .unwrap_or_default();
    let panel = ModelsPanel::get();
    let score = panel.score;
    if score.with_untracked(|s| s.column.is_none()) {
        let guess = numeric.iter().find(|n| ["score", "prob", "risk"].iter().any(|w| n.to_lowercase().contains(w))).cloned();
        score.update(|s| s.column = guess);
    }
    Effect::new(move |_| {
        state.view_version.track();
        score.track();
        request_scores(state);
    });
    view! {
        <section class="panel" data-testid="scores-panel">
            <div class="panel-head">
                <h2>"Score thresholds"</h2>
                <label>"score column "
                    <select aria-label="Score column" data-testid="score-column" on:change=move |e| {
                        let v = event_target_value(&e);
                        score.update(|s| {
                            s.threshold = None;
                            s.column = (!v.is_empty()).then_some(v);
                        });
                    }>
                        <option value="" selected=move || score.with(|s| s.column.is_none())>"choose…"</option>
                        {numeric.into_iter().map(|n| { let m = n.clone(); view! { <option value=n.clone() selected=move || score.with(|s| s.column.as_deref() == Some(m.as_str()))>{n.clone()}</option> } }).collect_view()}
                    </select>
                </label>
            </div>
            {move || match panel.scores.result.get() {
                None => view! { <p class="muted">"Choose a numeric score column to see its ROC and precision-recall curves."</p> }.into_any(),
                Some(Err(err)) => view! { <p class="problem" data-testid="scores-error">{sentence(&err)}</p> }.into_any(),
                Some(Ok(report)) => view! { <ScoreView report=report/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ScoreView(report: Arc<ScoreReport>) -> impl IntoView {
    let roc = NodeRef::<Canvas>::new();
    let pr = NodeRef::<Canvas>::new();
    let problem = RwSignal::new(None::<String>);
    let r = report.clone();
    Effect::new(move |_| {
        if let (Some(a), Some(b)) = (roc.get(), pr.get()) {
            let (r, b) = (r.clone(), b.clone());
            draw_soon(&a, move |a| {
                let theme = theme();
                // The marker: the curve point of the current threshold.
                let at = r.curve.iter().take_while(|c| c.threshold >= r.threshold).last().copied();
                let roc_points: Vec<(f64, f64)> = std::iter::once((0.0, 0.0)).chain(r.curve.iter().map(|c| (c.fpr, c.tpr))).collect();
                let pr_points: Vec<(f64, f64)> = r.curve.iter().map(|c| (c.tpr, c.precision)).collect();
                let label = |v: f64| format!("{v:.1}");
                let drawn = draw_on_canvas(a, |area| draw_xy(area, &roc_points, theme, 0, at.map(|c| c.fpr), None, &label).map_err(|e| e.to_string()))
                    .and_then(|()| draw_on_canvas(&b, |area| draw_xy(area, &pr_points, theme, 2, at.map(|c| c.tpr), Some(r.min_precision), &label).map_err(|e| e.to_string())));
                if let Err(err) = drawn {
                    problem.try_set(Some(err));
                }
            });
        }
    });
    let (lo, hi) = (report.curve.last().map_or(0.0, |c| c.threshold), report.curve.first().map_or(1.0, |c| c.threshold));
    let step = ((hi - lo) / 200.0).max(1e-9);
    let c = report.at_threshold;
    let best = report.best_for_precision.map_or_else(
        || format!("No threshold reaches {} precision.", format_percent(report.min_precision)),
        |b| {
            // A precision measured on a handful of flags (the top of the scores) is no promise:
            // say how many, and how uncertain.
            let flagged = b.tpr * report.positives + b.fpr * (report.rows - report.positives);
            // (Rows, not events: a weighted row's events are not independent trials.)
            let weighted = expect_context::<AppState>().weight.with_untracked(Option::is_some);
            let few = (flagged < FEW_FLAGGED && !weighted).then(|| {
                let (low, high) = crate::analysis::prevalence::wilson(b.tpr * report.positives, flagged, 0.95);
                format!(" Only {} flagged there: the precision's 95 % interval is {} – {}.", format_events(flagged), format_percent(low), format_percent(high))
            });
            format!(
                "Best threshold for precision ≥ {}: {} (precision {}, recall {}).{}",
                format_percent(report.min_precision),
                crate::data::table::format_float((b.threshold * 1e6).round() / 1e6),
                format_percent(b.precision),
                format_percent(b.tpr),
                few.unwrap_or_default()
            )
        },
    );
    let best_threshold = report.best_for_precision.map(|b| b.threshold);
    view! {
        <p data-testid="score-summary">
            {format!("ROC AUC {:.4} · average precision {:.4} · {} {}, {} positive", report.roc_auc, report.average_precision, format_events(report.rows), expect_context::<AppState>().counted(), format_events(report.positives))}
            {(report.missing_score > 0.0).then(|| format!(" · {} without a score left out", format_events(report.missing_score)))}
        </p>
        <div class="control-row">
            <label>"flag score ≥ "
                <input type="range" data-testid="score-threshold" min=lo.to_string() max=hi.to_string() step=step.to_string()
                    prop:value=report.threshold.to_string()
                    on:change=move |e| { if let Ok(v) = event_target_value(&e).parse::<f64>() { ModelsPanel::get().score.update(|s| s.threshold = Some(v)) } }/>
                <span class="tabular" data-testid="score-threshold-value">{format!(" {:.3}", report.threshold)}</span>
            </label>
            <label>"precision target "
                <input type="number" class="narrow" min="0" max="1" step="0.01" data-testid="score-min-precision" prop:value=report.min_precision.to_string()
                    on:change=move |e| { if let Ok(v) = event_target_value(&e).parse::<f64>() { if (0.0..=1.0).contains(&v) { ModelsPanel::get().score.update(|s| s.min_precision = v) } } }/>
            </label>
            {best_threshold.map(|t| view! { <button class="button small" data-testid="use-best-threshold" on:click=move |_| ModelsPanel::get().score.update(|s| s.threshold = Some(t))>"Use it"</button> })}
        </div>
        <p class="small" data-testid="score-best">{best}</p>
        <Exportable name="score-confusion" kind=ExportKind::Table><table class="grid confusion" data-testid="score-confusion">
            <thead><tr><th></th><th class="num">"label positive"</th><th class="num">"label negative"</th></tr></thead>
            <tbody>
                <tr><th>"flagged"</th><td class="num">{format_events(c.tp)}</td><td class="num">{format_events(c.fp)}</td></tr>
                <tr><th>"not flagged"</th><td class="num">{format_events(c.fn_)}</td><td class="num">{format_events(c.tn)}</td></tr>
            </tbody>
        </table></Exportable>
        <p class="small">{format!("At {:.3}: precision {}, recall {}, F1 {}, {} flagged.", report.threshold, format_percent(c.precision()), format_percent(c.recall()), if c.f1().is_finite() { format!("{:.3}", c.f1()) } else { "—".into() }, format_events(c.flagged()))}</p>
        <div class="rule-charts">
            <div><p class="muted small">"ROC: true-positive rate by false-positive rate (marker: the threshold)"</p><Exportable name="roc-chart" title=format!("ROC of {} against the label (AUC {:.3})", report.score, report.roc_auc)><canvas node_ref=roc class="param-chart" data-testid="roc-chart"></canvas></Exportable></div>
            <div><p class="muted small">"Precision by recall (line: the precision target)"</p><Exportable name="pr-chart" title=format!("Precision by recall of {} (average precision {:.3})", report.score, report.average_precision)><canvas node_ref=pr class="param-chart" data-testid="pr-chart"></canvas></Exportable></div>
        </div>
        {move || problem.get().map(|p| view! { <p class="problem">"Chart could not be drawn: " {p}</p> })}
    }
}

#[component]
fn TreePanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let columns: Vec<(String, ColumnType)> = state.summary.get_untracked().map(|s| s.columns.into_iter().map(|c| (c.name, c.kind)).collect()).unwrap_or_default();
    let numeric: Vec<String> = columns.iter().filter(|(n, k)| matches!(k, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean) && !state.is_weight(n)).map(|(n, _)| n.clone()).collect();
    // The form starts from the tree fitted last (a link's), else the defaults.
    let job = ModelsPanel::get().tree;
    let last = job.params.get_untracked();
    // Defaults: the first 30 numeric columns (a wide file has thousands).
    let chosen: RwSignal<Vec<String>> = RwSignal::new(last.as_ref().map_or_else(|| numeric.iter().take(30).cloned().collect(), |p| p.features.iter().map(|f| f.column.clone()).collect()));
    let depth = RwSignal::new(last.as_ref().map_or(4, |p| p.max_depth).to_string());
    let min_leaf = RwSignal::new(last.as_ref().map_or(50, |p| p.min_leaf).to_string());
    let target = RwSignal::new(last.as_ref().map_or(0.85, |p| p.precision_target).to_string());
    let seed = RwSignal::new(last.as_ref().map_or(7, |p| p.seed).to_string());
    let problem = RwSignal::new(None::<String>);
    let fit = move |_| {
        let Some(label) = state.chosen_label() else {
            problem.set(Some("Choose a label column in the Profile tab first.".into()));
            return;
        };
        let parsed = (|| -> Result<crate::analysis::tree::TreeParams, String> {
            let whole = |s: String, what: &str| s.trim().parse::<usize>().map_err(|_| format!("{what}: “{s}” is not a whole number"));
            let number = |s: String, what: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("{what}: “{s}” is not a number"));
            let features: Vec<crate::analysis::cluster::FeatureSpec> = chosen
                .get_untracked()
                .into_iter()
                .map(|column| crate::analysis::cluster::FeatureSpec { column, encoding: crate::analysis::cluster::Encoding::Numeric })
                .collect();
            if features.is_empty() {
                return Err("Choose at least one feature.".into());
            }
            Ok(crate::analysis::tree::TreeParams {
                features,
                label,
                max_depth: whole(depth.get_untracked(), "depth")?,
                min_leaf: whole(min_leaf.get_untracked(), "minimum leaf")?,
                test_share: 0.3,
                seed: whole(seed.get_untracked(), "seed")? as u64,
                precision_target: number(target.get_untracked(), "precision target")?,
            })
        })();
        match parsed {
            Ok(params) => {
                problem.set(None);
                job.request(params);
            }
            Err(message) => problem.set(Some(message)),
        }
    };

    view! {
        <section class="panel" data-testid="tree-panel">
            <div class="panel-head"><h2>"Learned heuristics (decision tree)"</h2></div>
            <div class="control-row features"><span class="control-label">"Features"</span><Checklist names=numeric chosen=chosen testid="tree-feature"/></div>
            <div class="control-row">
                <label>"depth " <input class="narrow" data-testid="tree-depth" prop:value=move || depth.get() on:change=move |e| depth.set(event_target_value(&e))/></label>
                <label>"minimum leaf " <input class="narrow" data-testid="tree-min-leaf" prop:value=move || min_leaf.get() on:change=move |e| min_leaf.set(event_target_value(&e))/>" " {move || { state.weight.track(); state.counted() }}</label>
                <label title="A leaf predicts positive only at this training precision">"positive leaves at precision ≥ " <input class="narrow" data-testid="tree-target" prop:value=move || target.get() on:change=move |e| target.set(event_target_value(&e))/></label>
                <label>"seed " <input class="narrow" data-testid="tree-seed" prop:value=move || seed.get() on:change=move |e| seed.set(event_target_value(&e))/></label>
                <span class="muted small">"30 % of the labelled rows are held out."</span>
                <button class="button primary" data-testid="tree-fit" on:click=fit>"Fit tree"</button>
            </div>
            {move || problem.get().map(|p| view! { <p class="problem" data-testid="tree-problem">{p}</p> })}
            <JobProgress running=Signal::derive(move || job.running.get()) on_cancel=Callback::new(move |()| job.cancel()) testid="tree-pending" cancel_testid="tree-cancel" idle="Fitting"/>
            {move || match job.result.get() {
                None => None,
                Some(Err(err)) => Some(view! { <p class="problem" data-testid="tree-error">{sentence(&err)}</p> }.into_any()),
                Some(Ok(report)) => Some(view! { <TreeView report=report/> }.into_any()),
            }}
        </section>
    }
}

#[component]
fn TreeView(report: Arc<crate::analysis::tree::TreeReport>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let leaf_share = |positives: f64, events: f64| if events <= 0.0 { "—".to_string() } else { format!("{:.0} % of {}", positives / events * 100.0, format_events(events)) };
    let outline = report
        .nodes
        .iter()
        .map(|n| {
            let head = n.condition.clone().unwrap_or_else(|| format!("all labelled {}", state.counted()));
            let facts = format!(
                "train {} · held out {}",
                leaf_share(n.train_positives, n.train_rows),
                leaf_share(n.test_positives, n.test_rows)
            );
            let leaf = n.leaf_index.and_then(|i| report.leaves.get(i).cloned());
            view! {
                <li class="tree-node" class:leaf=n.leaf class:positive=n.leaf && n.predicts_positive style=format!("margin-left: {}px", n.depth * 22) data-testid="tree-node">
                    <span class="mono">{head}</span>
                    <span class="muted small">" — " {facts}</span>
                    {leaf.filter(|l| l.predicts_positive).map(|l| {
                        let text = l.text.clone();
                        view! {
                            <span class="tag">"→ positive"</span>
                            <button class="button small" data-testid="leaf-to-rule" title=text.clone() on:click=move |_| {
                                let text = text.clone();
                                ModelsPanel::get().rules.update(|rules| {
                                    rules.retain(|r| !r.text.trim().is_empty());
                                    if rules.len() < MAX_RULES {
                                        let name = format!("tree leaf {}", rules.len() + 1);
                                        rules.push(RuleSpec { name, text });
                                    }
                                });
                                evaluate(state);
                            }>"Use as rule"</button>
                        }
                    })}
                </li>
            }
        })
        .collect_view();
    let importance = report.importance.iter().take(6).map(|(f, v)| format!("{f} {:.0} %", v * 100.0)).collect::<Vec<_>>().join(" · ");
    view! {
        <p data-testid="tree-summary">{format!(
            "Held-out accuracy {:.1} % (always the majority: {:.1} %), training {:.1} %; {} leaves. Held out, the positive leaves' precision is {} and their recall {}.",
            report.test_accuracy * 100.0, report.baseline_accuracy * 100.0, report.train_accuracy * 100.0, report.leaves.len(),
            report.test_precision.map_or_else(|| "— (no held-out row in one)".to_string(), format_percent),
            report.test_recall.map_or_else(|| "— (no held-out positive)".to_string(), format_percent),
        )}</p>
        <p class="muted small">{format!("Feature importance: {importance}")}</p>
        <ul class="notices small">{report.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul>
        <ul class="tree">{outline}</ul>
    }
}

#[component]
fn RegressionPanel() -> impl IntoView {
    use crate::analysis::regression::{RegressionKind, RegressionParams, MAX_LEVELS};
    let state = expect_context::<AppState>();
    let columns: Vec<_> = state.summary.get_untracked().map(|s| s.columns).unwrap_or_default().into_iter().filter(|c| !state.is_weight(&c.name)).collect();
    let numeric: Vec<String> = columns.iter().filter(|c| matches!(c.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean)).map(|c| c.name.clone()).collect();
    let predictors: Vec<String> = columns
        .iter()
        .filter(|c| matches!(c.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean) || (c.kind == ColumnType::Category && c.distinct.is_some_and(|d| d <= MAX_LEVELS)))
        .map(|c| c.name.clone())
        .collect();
    let job = ModelsPanel::get().regression;
    let last = job.params.get_untracked();
    let logistic = RwSignal::new(last.as_ref().is_none_or(|p| p.kind == RegressionKind::Logistic));
    let target = RwSignal::new(last.as_ref().and_then(|p| p.target.clone()).or_else(|| numeric.first().cloned()));
    let chosen = RwSignal::new(last.map(|p| p.predictors).unwrap_or_default());
    let fit = move |_| {
        let params = RegressionParams {
            kind: if logistic.get_untracked() { RegressionKind::Logistic } else { RegressionKind::Linear },
            target: target.get_untracked(),
            label: state.chosen_label(),
            predictors: chosen.get_untracked(),
        };
        job.request(params);
    };

    view! {
        <section class="panel" data-testid="regression-panel">
            <div class="panel-head"><h2>"Regression"</h2></div>
            <div class="control-row">
                <select aria-label="Regression kind" data-testid="regression-kind" on:change=move |e| logistic.set(event_target_value(&e) == "logistic")>
                    <option value="logistic" selected=move || logistic.get()>"logistic: the label"</option>
                    <option value="linear" selected=move || !logistic.get()>"linear (OLS): a number"</option>
                </select>
                {move || (!logistic.get()).then(|| view! {
                    <label>"explain "
                        <select aria-label="Outcome" data-testid="regression-target" on:change=move |e| target.set(Some(event_target_value(&e)))>
                            {numeric.iter().map(|n| { let m = n.clone(); view! { <option value=n.clone() selected=move || target.get().as_deref() == Some(m.as_str())>{n.clone()}</option> } }).collect_view()}
                        </select>
                    </label>
                })}
                <button class="button primary" data-testid="regression-fit" on:click=fit>"Fit"</button>
            </div>
            <div class="control-row features"><span class="control-label">"Predictors"</span><Checklist names=predictors chosen=chosen testid="regression-predictor"/></div>
            <JobProgress running=Signal::derive(move || job.running.get()) on_cancel=Callback::new(move |()| job.cancel()) testid="regression-pending" cancel_testid="regression-cancel" idle="Fitting"/>
            {move || match job.result.get() {
                None => None,
                Some(Err(err)) => Some(view! { <p class="problem" data-testid="regression-error">{sentence(&err)}</p> }.into_any()),
                Some(Ok(report)) => Some(view! { <RegressionView report=report/> }.into_any()),
            }}
        </section>
    }
}

#[component]
fn RegressionView(report: Arc<crate::analysis::regression::RegressionReport>) -> impl IntoView {
    use crate::analysis::regression::RegressionKind;
    let canvas = NodeRef::<Canvas>::new();
    let problem = RwSignal::new(None::<String>);
    let points = Arc::new(report.residuals.clone());
    Effect::new(move |_| {
        if let Some(element) = canvas.get() {
            let points = points.clone();
            draw_soon(&element, move |element| {
                if let Err(err) = draw_on_canvas(element, |area| crate::plot::scatter::draw_points(area, &points, theme(), 0).map_err(|e| e.to_string())) {
                    problem.try_set(Some(err));
                }
            });
        }
    });
    let logistic = report.kind == RegressionKind::Logistic;
    let num = |v: f64| if !v.is_finite() { "—".to_string() } else if v.abs() >= 1e4 || (v != 0.0 && v.abs() < 1e-3) { format!("{v:.4e}") } else { format!("{v:.4}") };
    let p_text = |p: f64| if p < 1e-4 { "< 0.0001".to_string() } else { format!("{p:.4}") };
    let rows = report
        .coefficients
        .iter()
        .map(|c| {
            let odds = logistic.then(|| view! {
                <td class="num">{format_value(c.estimate.exp())}</td>
                <td class="num">{format_value_range(c.ci_low.exp(), c.ci_high.exp())}</td>
            });
            view! {
                <tr data-testid="coefficient">
                    <td class="mono">{c.name.clone()}</td>
                    <td class="num">{num(c.estimate)}</td>
                    <td class="num">{num(c.std_error)}</td>
                    <td class="num">{format!("{:.3}", c.statistic)}</td>
                    <td class="num">{p_text(c.p_value)}</td>
                    <td class="num">{format!("{} – {}", num(c.ci_low), num(c.ci_high))}</td>
                    {odds}
                </tr>
            }
        })
        .collect_view();
    let fit_line = match report.kind {
        RegressionKind::Linear => format!(
            "{} {} · R² {:.4} · adjusted R² {:.4} · {} residual degrees of freedom",
            format_events(report.rows), expect_context::<AppState>().counted(), report.r_squared.unwrap_or(f64::NAN), report.adj_r_squared.unwrap_or(f64::NAN), format_events(report.df_residual)
        ),
        RegressionKind::Logistic => format!(
            "{} {} · log-loss {:.4} · McFadden pseudo-R² {:.4} · AUC {:.4}",
            format_events(report.rows), expect_context::<AppState>().counted(), report.log_loss.unwrap_or(f64::NAN), report.pseudo_r_squared.unwrap_or(f64::NAN), report.auc.unwrap_or(f64::NAN)
        ),
    };
    let stat = if logistic { "z" } else { "t" };
    view! {
        <p data-testid="regression-summary">{format!("Outcome: {}. ", report.outcome)}{fit_line}</p>
        <ul class="notices small">{report.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul>
        <div class="table-wrap">
            <Exportable name="coefficients" kind=ExportKind::Table><table class="grid" data-testid="coefficients">
                <thead><tr>
                    <th>"term"</th><th class="num">"estimate"</th><th class="num">"std. error"</th><th class="num">{stat}</th><th class="num">"p-value"</th><th class="num">"95 % interval"</th>
                    {logistic.then(|| view! { <th class="num">"odds ratio"</th><th class="num">"95 % interval"</th> })}
                </tr></thead>
                <tbody>{rows}</tbody>
            </table></Exportable>
        </div>
        <p class="muted small">{if logistic { "Pearson residuals by fitted probability" } else { "Residuals by fitted value" }}</p>
        <Exportable name="residual-chart" title=if logistic { "Pearson residuals by fitted probability" } else { "Residuals by fitted value" }>
            <canvas node_ref=canvas class="param-chart" data-testid="residual-chart"></canvas>
        </Exportable>
        {move || problem.get().map(|p| view! { <p class="problem">"Chart could not be drawn: " {p}</p> })}
    }
}
