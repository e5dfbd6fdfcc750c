//! Tabs whose analyses have not landed yet: each says plainly what it will do.

use leptos::prelude::*;

use super::state::Tab;

fn plan(tab: Tab) -> (&'static str, &'static [&'static str]) {
    match tab {
        Tab::Trends => (
            "A metric over time, decomposed, forecast, with anomalies and incidents flagged.",
            &[
                "Row count, sum / mean / percentile of a column, distinct count or a rate, by hour, day, week or month",
                "Seasonal decomposition and a forecast with 80 % and 95 % intervals",
                "Anomalies, changepoints and an incident list with excess volume",
            ],
        ),
        Tab::RootCause => (
            "What drove a spike: the dimension values and combinations that explain a change.",
            &[
                "Compare an incident window with a baseline window",
                "Rank values and combinations of up to three dimensions by contribution and surprise",
                "A one-line summary to paste into an incident review",
            ],
        ),
        Tab::Models => (
            "Detection rules and models, backtested against ground-truth labels.",
            &[
                "Write rules and see precision, recall, flagged volume and drift over time",
                "Precision-recall and ROC curves for a score column, with a threshold slider",
                "Decision trees read as rules; linear and logistic regression with a coefficient table; export a rule as SQL",
            ],
        ),
        Tab::Data | Tab::Profile | Tab::Clusters => ("", &[]),
    }
}

/// What a tab will do, for tabs not built yet.
#[component]
pub fn Planned(tab: Tab) -> impl IntoView {
    let (summary, points) = plan(tab);
    view! {
        <section class="panel planned" data-testid=format!("planned-{}", tab.slug())>
            <h2>{tab.label()}</h2>
            <p class="lead">{summary}</p>
            <p class="muted">"This tab is not built yet. It will offer:"</p>
            <ul>{points.iter().map(|p| view! { <li>{*p}</li> }).collect_view()}</ul>
        </section>
    }
}
