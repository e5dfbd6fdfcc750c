//! What to explain: the metric (the one Trends measures, or one chosen here) and the incidents
//! Trends found, each one click from its explanation.

use super::*;
use crate::ui::state::{Incidents, Intent};

/// The kinds of metric a change can be explained in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// Whatever Trends measures (row counts when its metric does not split into parts).
    #[default]
    Trends,
    Count,
    Sum,
    Rate,
    Ratio,
}

impl Kind {
    const ALL: [Kind; 5] = [Kind::Trends, Kind::Count, Kind::Sum, Kind::Rate, Kind::Ratio];

    fn slug(self) -> &'static str {
        match self {
            Kind::Trends => "trends",
            Kind::Count => "count",
            Kind::Sum => "sum",
            Kind::Rate => "rate",
            Kind::Ratio => "ratio",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Trends => "the Trends metric",
            Kind::Count => "row count",
            Kind::Sum => "sum of",
            Kind::Rate => "share of rows where",
            Kind::Ratio => "ratio of sums",
        }
    }
}

/// The metric chosen in this tab.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Choice {
    pub kind: Kind,
    /// The summed column, the rate's column, or the ratio's numerator.
    pub column: Option<String>,
    /// The value the rate counts.
    pub value: Option<String>,
    pub denominator: Option<String>,
}

impl Choice {
    /// The choice that asks for `metric` (from a link), or the Trends metric when it is that.
    pub fn of(metric: &Metric, trends: Option<&Metric>) -> Choice {
        match metric {
            m if Some(m) == trends => Choice::default(),
            Metric::Sum { column } => Choice { kind: Kind::Sum, column: Some(column.clone()), ..Choice::default() },
            Metric::Rate { condition: Clause::InSet { column, values, negate: false } } if values.len() == 1 => {
                Choice { kind: Kind::Rate, column: Some(column.clone()), value: values.first().cloned(), ..Choice::default() }
            }
            Metric::Ratio { numerator, denominator } => Choice { kind: Kind::Ratio, column: Some(numerator.clone()), denominator: Some(denominator.clone()), ..Choice::default() },
            _ => Choice { kind: Kind::Count, ..Choice::default() },
        }
    }

    /// The metric to explain, or what is still to choose.
    pub fn metric(&self, state: AppState) -> Result<Metric, String> {
        let column = || self.column.clone().ok_or_else(|| "choose a column".to_string());
        Ok(match self.kind {
            Kind::Trends => state.measure.get_untracked().map_or(Metric::Count, |m| m.metric),
            Kind::Count => Metric::Count,
            Kind::Sum => Metric::Sum { column: column()? },
            Kind::Rate => {
                let column = column()?;
                Metric::Rate { condition: Clause::InSet { column, values: vec![self.value.clone().ok_or_else(|| "choose the value the rate counts".to_string())?], negate: false } }
            }
            Kind::Ratio => {
                let numerator = column()?;
                Metric::Ratio { numerator, denominator: self.denominator.clone().ok_or_else(|| "choose the ratio's denominator".to_string())? }
            }
        })
    }
}

/// The depth asked last (3 at first).
pub(super) fn current_depth() -> usize {
    RootCausePanel::get().job.params.with_untracked(|p| p.as_ref().map_or(3, |p| p.max_depth))
}

/// Runs the explanation of `incident` against `baseline` in the chosen metric.
pub(super) fn explain_windows(state: AppState, time_column: String, (baseline, incident): (Window, Window), max_depth: usize, problem: RwSignal<Option<String>>) {
    let panel = RootCausePanel::get();
    match panel.choice.with_untracked(|c| c.metric(state)) {
        Ok(metric) => {
            problem.set(None);
            panel.job.request(RcaParams { time_column, metric, baseline, incident, dimensions: None, max_depth, explain_share: 0.8 });
        }
        Err(message) => problem.set(Some(format!("To explain a change in this metric, {message}."))),
    }
}

/// The metric chooser: a kind, then its columns (and the rate's value).
#[component]
pub(super) fn MetricChooser() -> impl IntoView {
    let state = expect_context::<AppState>();
    let choice = RootCausePanel::get().choice;
    let names_of = move |pred: fn(ColumnType) -> bool| state.summary.with(|s| s.as_ref().map(|s| s.columns.iter().filter(|c| pred(c.kind)).map(|c| c.name.clone()).collect::<Vec<_>>()).unwrap_or_default());
    let numeric = |k: ColumnType| matches!(k, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean);
    let countable = |k: ColumnType| matches!(k, ColumnType::Category | ColumnType::Boolean | ColumnType::Integer);
    let options = crate::ui::controls::name_options;
    let opt = |v: String| (!v.is_empty()).then_some(v);
    // The rate's values: the most frequent of its column.
    Effect::new(move |_| {
        if let (Kind::Rate, Some(column)) = choice.with(|c| (c.kind, c.column.clone())) {
            crate::ui::client::send(crate::protocol::Request::ColumnValues { column, limit: 200 }, None);
        }
    });
    let trends_label = move || match state.measure.get() {
        Some(measure) if measure.counts_instead => format!("{} (Trends' metric does not split into parts)", measure.metric.describe()),
        Some(measure) => measure.metric.describe(),
        None => Metric::Count.describe(),
    };
    let column = move || {
        let kind = choice.with(|c| c.kind);
        let pred: fn(ColumnType) -> bool = match kind {
            Kind::Trends | Kind::Count => return None,
            Kind::Sum | Kind::Ratio => numeric,
            Kind::Rate => countable,
        };
        let names = names_of(pred);
        let current = choice.with(|c| c.column.clone()).filter(|c| names.contains(c));
        Some(view! {
            <select aria-label="Column explained" data-testid="rca-metric-column" on:change=move |e| choice.update(|c| { c.column = opt(event_target_value(&e)); c.value = None })>
                {options(names, current, Some("choose a column…"))}
            </select>
        })
    };
    let value = move || {
        (choice.with(|c| c.kind) == Kind::Rate).then(|| {
            let column = choice.with(|c| c.column.clone());
            let values: Vec<String> = state.column_values.get().filter(|cv| Some(&cv.column) == column.as_ref()).map(|cv| cv.values.into_iter().map(|(v, _)| v).collect()).unwrap_or_default();
            view! {
                <span class="muted">"="</span>
                <select aria-label="Value counted" data-testid="rca-metric-value" on:change=move |e| choice.update(|c| c.value = opt(event_target_value(&e)))>
                    {options(values, choice.with(|c| c.value.clone()), Some("choose a value…"))}
                </select>
            }
        })
    };
    let denominator = move || {
        (choice.with(|c| c.kind) == Kind::Ratio).then(|| {
            let names = names_of(numeric);
            let current = choice.with(|c| c.denominator.clone()).filter(|c| names.contains(c));
            view! {
                <span class="muted">"÷"</span>
                <select aria-label="Ratio denominator" data-testid="rca-metric-denominator" on:change=move |e| choice.update(|c| c.denominator = opt(event_target_value(&e)))>
                    {options(names, current, Some("choose a denominator…"))}
                </select>
            }
        })
    };
    view! {
        <label>"Explain "
            <select aria-label="Metric explained" data-testid="rca-metric-kind" on:change=move |e| {
                let slug = event_target_value(&e);
                if let Some(kind) = Kind::ALL.into_iter().find(|k| k.slug() == slug) {
                    choice.update(|c| *c = Choice { kind, ..Choice::default() });
                }
            }>
                {Kind::ALL.into_iter().map(|k| view! { <option value=k.slug() selected=move || choice.with(|c| c.kind) == k>{k.label()}</option> }).collect_view()}
            </select>
        </label>
        {move || (choice.with(|c| c.kind) == Kind::Trends).then(|| view! { <strong data-testid="rca-metric">{trends_label}</strong> })}
        <span class="control-group">{column}{value}{denominator}</span>
    }
}

/// The incidents Trends found, largest first, each with the button that explains it.
#[component]
pub(super) fn TrendIncidents() -> impl IntoView {
    let state = expect_context::<AppState>();
    let job = RootCausePanel::get().job;
    let problem = RwSignal::new(None::<String>);
    // Ask Trends for the incidents of the view on screen.
    Effect::new(move |_| {
        state.view_version.track();
        state.intent.set(Some(Intent::FindIncidents));
    });
    let list = move || {
        let (time_column, measured, rate, list) = match state.incidents.get() {
            None | Some(Incidents::Pending) => return view! { <p class="muted" data-testid="rca-incidents-pending">"Trends is looking for incidents…"</p> }.into_any(),
            Some(Incidents::Unavailable(why)) => return view! { <p class="muted">{format!("No incidents to list: {why}. Type the windows below.")}</p> }.into_any(),
            Some(Incidents::Found { list, measured, .. }) if list.is_empty() => {
                return view! { <p class="muted" data-testid="rca-incidents-none">{format!("Trends found no incident in {} at its threshold: mark two windows on its chart, or type them below.", measured.to_lowercase())}</p> }.into_any()
            }
            Some(Incidents::Found { time_column, measured, rate, list }) => (time_column, measured, rate, list),
        };
        let shown = list.len().min(8);
        let more = list.len() - shown;
        let rows = list.into_iter().take(shown).enumerate().map(|(rank, i)| {
            let change = if i.expected.abs() > 0.0 { format!("{} ({} %)", fmt_delta(i.excess, rate), crate::format::format_signed(i.excess / i.expected * 100.0, 0)) } else { fmt_delta(i.excess, rate) };
            let current = i.incident.clone();
            let explaining = move || job.params.with(|p| p.as_ref().is_some_and(|p| p.incident == current));
            // The button to press: the incident explained, or the first before any is.
            let primary = {
                let explaining = explaining.clone();
                move || explaining() || (rank == 0 && job.params.with(Option::is_none))
            };
            let time_column = time_column.clone();
            let windows = (i.baseline.clone(), i.incident.clone());
            view! {
                <tr data-testid="rca-incident" class:selected=explaining>
                    <td>{i.period.clone()}</td>
                    <td class="num">{i.periods}</td>
                    <td class="num">{fmt(i.actual, rate)}</td>
                    <td class="num">{fmt(i.expected, rate)}</td>
                    <td class="num">{change}</td>
                    <td><button class="button small" class:primary=primary data-testid="rca-incident-explain"
                        on:click=move |_| explain_windows(state, time_column.clone(), windows.clone(), current_depth(), problem)>"Explain"</button></td>
                </tr>
            }
        }).collect_view();
        view! {
            <div class="table-wrap short">
                <table class="grid" data-testid="rca-incidents">
                    <thead><tr><th>"Incident"</th><th class="num">"Periods"</th><th class="num">"Actual"</th><th class="num">"Expected"</th><th class="num">"Excess"</th><th></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <p class="muted small">{format!(
                "{measured}, the largest change against what was expected first{}; each is explained against the span before it.",
                if more > 0 { format!(" ({more} more in the Trends tab)") } else { String::new() }
            )}</p>
        }.into_any()
    };
    view! {
        <section class="panel" data-testid="rca-incidents-panel">
            <h2>"Incidents Trends found"</h2>
            {list}
            {move || problem.get().map(|p| view! { <p class="problem">{p}</p> })}
        </section>
    }
}
