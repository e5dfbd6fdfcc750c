//! The Clusters tab: choose rows or entities, features, transforms and an algorithm; the worker
//! fits in steps (progress, cancel); the result shows a PCA map coloured by cluster (hover for
//! a point's details, drag a rectangle to select points and filter to them), the k scan or
//! k-distance curve behind the parameters, and a profile of every cluster.

use std::sync::Arc;

use leptos::ev;
use leptos::html::Canvas;
use leptos::prelude::*;

use crate::ui::chart::{draw_soon, run_in_slices, theme};
use crate::ui::controls::Later;
use crate::ui::client;
use crate::ui::controls::Checklist;
use crate::ui::jobs::{Job, JobProgress};
use crate::ui::export::{ExportKind, Exportable};
use crate::ui::state::AppState;
use crate::analysis::cluster::{drawing_order, Algorithm, ClusterParams, ClusterProfile, ClusterReport, Encoding, FeatureSpec, LabelSpec, MissingPolicy, DEFAULT_SAMPLE, NOISE};
use crate::data::table::ColumnType;
use crate::format::{format_count, format_events, format_percent};
use crate::plot::canvas::{draw_map_frame_on_canvas, draw_on_canvas, put_map_raster};
use crate::plot::scatter::{cluster_colour, draw_xy, from_pixel, map_plot_area, DotStyle, Raster};
use crate::analysis::cluster::Cluster;
use crate::analysis::contract::FitColumns;
use crate::data::filter::Clause;
use crate::protocol::{ColumnSummary, MapSelection, PointDetail, Request, Response};
use crate::viewstate::take_setting;
use serde_json::{Map, Value};

/// The Clusters tab.
pub const TAB: super::TabEntry = super::TabEntry {
    slug: "clusters",
    label: "Clusters",
    init: |_| {
        ClustersPanel::get();
    },
    view: || view! { <ClustersTab/> }.into_any(),
    reset: || {
        let panel = ClustersPanel::get();
        panel.point.set(None);
        panel.selection.set(None);
    },
    link: Some(super::Link { write, read }),
};

/// The Clusters tab's state: the clustering (its parameters are the form's last request), the
/// hovered point and a selection on the map.
#[derive(Clone, Copy)]
pub struct ClustersPanel {
    pub job: Job<Cluster>,
    pub point: RwSignal<Option<PointDetail>>,
    /// Points selected on the map as a filter clause and how many there are, or why not.
    pub selection: RwSignal<Option<Result<(Clause, usize), String>>>,
    /// `view_version` when the shown clustering was asked for (another filter makes it stale).
    pub view_at: RwSignal<u64>,
}

impl ClustersPanel {
    fn new() -> Self {
        Self { job: Job::new(), point: RwSignal::new(None), selection: RwSignal::new(None), view_at: RwSignal::new(0) }
    }

    /// Clusters with `params` over the rows passing the filter now.
    fn run(self, state: AppState, params: ClusterParams) {
        self.point.set(None);
        self.selection.set(None);
        self.view_at.set(state.view_version.get_untracked());
        self.job.request(params);
    }

    /// Asks the worker which points a map selection holds, as a filter clause.
    fn select(self, selection: MapSelection) {
        client::ask(Request::ClusterSelect { selection }, move |response| {
            if let Response::ClusterSelect { result, .. } = response {
                self.selection.set(Some(result.map_err(|e| e.to_string())));
            }
        });
    }
}

super::panel_state!(ClustersPanel);

fn write(_state: AppState, settings: &mut Map<String, Value>) {
    if let Some(params) = ClustersPanel::get().job.params.get() {
        super::put(settings, "cluster", &Some(params));
    }
}

fn read(state: AppState, settings: &mut Map<String, Value>, columns: &[(String, ColumnType)], notices: &mut Vec<String>) {
    let panel = ClustersPanel::get();
    match take_setting::<ClusterParams>(settings, "cluster", "clustering settings", notices).and_then(|p| p.fit_columns(columns, notices)) {
        Some(params) => panel.run(state, params),
        None => panel.job.reset(),
    }
}

/// At most this many numeric columns are ticked by default.
const DEFAULT_FEATURES: usize = 8;
/// Category columns with more values than this are not offered for one-hot encoding.
const MAX_CATEGORY_VALUES: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AlgoKind {
    KMeans,
    Dbscan,
    Gmm,
}

impl AlgoKind {
    const ALL: [AlgoKind; 3] = [AlgoKind::Dbscan, AlgoKind::KMeans, AlgoKind::Gmm];

    fn slug(self) -> &'static str {
        match self {
            AlgoKind::KMeans => "kmeans",
            AlgoKind::Dbscan => "dbscan",
            AlgoKind::Gmm => "gmm",
        }
    }

    fn label(self) -> &'static str {
        match self {
            AlgoKind::KMeans => "k-means",
            AlgoKind::Dbscan => "DBSCAN (dense groups + noise)",
            AlgoKind::Gmm => "Gaussian mixture",
        }
    }
}


fn short(v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if v.abs() >= 1000.0 {
        crate::format::compact_number(v)
    } else if v == v.trunc() {
        // A count reads "rows 2", not "rows 2.00" (and 0, not "-0").
        format!("{:.0}", v + 0.0)
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn cluster_name(id: i32) -> String {
    if id == NOISE { "noise".into() } else { format!("cluster {id}") }
}

fn swatch_style(id: i32) -> String {
    let (r, g, b) = cluster_colour(id);
    format!("background: rgb({r}, {g}, {b})")
}

fn numeric_kind(kind: ColumnType) -> bool {
    matches!(kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean)
}

/// The entity column an analyst most likely means: an id with repeats, preferring accounts.
fn default_entity(columns: &[ColumnSummary], n_rows: usize) -> Option<String> {
    let repeated = |c: &&ColumnSummary| c.kind == ColumnType::Identifier && c.distinct.is_some_and(|d| d > 1 && d * 3 < n_rows * 2);
    let candidates: Vec<&ColumnSummary> = columns.iter().filter(repeated).collect();
    candidates
        .iter()
        .find(|c| c.name.to_lowercase().contains("account") || c.name.to_lowercase().contains("user"))
        .or(candidates.first())
        .map(|c| c.name.clone())
}

/// The form's state; initialised from the last request or from the table.
#[derive(Clone, Copy)]
struct Form {
    entity: RwSignal<Option<String>>,
    numeric: RwSignal<Vec<String>>,
    categories: RwSignal<Vec<String>>,
    encoding: RwSignal<Encoding>,
    entity_count: RwSignal<bool>,
    log1p: RwSignal<bool>,
    standardise: RwSignal<bool>,
    clip: RwSignal<String>,
    missing: RwSignal<MissingPolicy>,
    algo: RwSignal<AlgoKind>,
    k: RwSignal<String>,
    runs: RwSignal<String>,
    eps: RwSignal<String>,
    min_points: RwSignal<String>,
    seed: RwSignal<String>,
    sample: RwSignal<String>,
    use_label: RwSignal<bool>,
}

impl Form {
    fn new(params: Option<ClusterParams>, columns: &[ColumnSummary], n_rows: usize) -> Self {
        let p = params.clone().unwrap_or_default();
        let (numeric, categories, encoding) = match &params {
            Some(p) => {
                let numeric = p.features.iter().filter(|f| f.encoding == Encoding::Numeric).map(|f| f.column.clone()).collect();
                let cats: Vec<&FeatureSpec> = p.features.iter().filter(|f| f.encoding != Encoding::Numeric).collect();
                let encoding = cats.first().map_or(Encoding::OneHot, |f| f.encoding);
                (numeric, cats.into_iter().map(|f| f.column.clone()).collect(), encoding)
            }
            None => (
                columns.iter().filter(|c| numeric_kind(c.kind) && c.kind != ColumnType::Boolean).take(DEFAULT_FEATURES).map(|c| c.name.clone()).collect(),
                Vec::new(),
                Encoding::OneHot,
            ),
        };
        let (algo, k, runs, eps, min_points) = match (&params, &p.algorithm) {
            (None, _) => (AlgoKind::Dbscan, String::new(), "4".to_string(), String::new(), "10".to_string()),
            (_, Algorithm::KMeans { k, n_init, .. }) => (AlgoKind::KMeans, k.map(|k| k.to_string()).unwrap_or_default(), n_init.to_string(), String::new(), "10".into()),
            (_, Algorithm::Dbscan { eps, min_points }) => (AlgoKind::Dbscan, String::new(), "4".into(), eps.map(|e| format!("{e:.4}")).unwrap_or_default(), min_points.to_string()),
            (_, Algorithm::Gmm { k, .. }) => (AlgoKind::Gmm, k.to_string(), "4".into(), String::new(), "10".into()),
        };
        Self {
            entity: RwSignal::new(if params.is_some() { p.entity.clone() } else { default_entity(columns, n_rows) }),
            numeric: RwSignal::new(numeric),
            categories: RwSignal::new(categories),
            encoding: RwSignal::new(encoding),
            entity_count: RwSignal::new(p.entity_count),
            log1p: RwSignal::new(p.log1p),
            standardise: RwSignal::new(p.standardise),
            clip: RwSignal::new(p.clip_z.map(|z| z.to_string()).unwrap_or_default()),
            missing: RwSignal::new(p.missing),
            algo: RwSignal::new(algo),
            k: RwSignal::new(k),
            runs: RwSignal::new(runs),
            eps: RwSignal::new(eps),
            min_points: RwSignal::new(min_points),
            seed: RwSignal::new(p.seed.to_string()),
            sample: RwSignal::new(p.sample_limit.to_string()),
            use_label: RwSignal::new(params.is_none_or(|p| p.label.is_some())),
        }
    }

    /// The request, or what is wrong with the form.
    fn params(&self, label: Option<LabelSpec>) -> Result<ClusterParams, String> {
        let number = |text: String, what: &str| -> Result<Option<f64>, String> {
            let t = text.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse::<f64>().ok().filter(|v| v.is_finite()).map(Some).ok_or_else(|| format!("{what}: “{t}” is not a number"))
        };
        let whole = |text: String, what: &str| -> Result<Option<usize>, String> {
            let t = text.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse::<usize>().map(Some).map_err(|_| format!("{what}: “{t}” is not a whole number"))
        };
        let mut features: Vec<FeatureSpec> = self.numeric.get_untracked().into_iter().map(|column| FeatureSpec { column, encoding: Encoding::Numeric }).collect();
        let encoding = self.encoding.get_untracked();
        features.extend(self.categories.get_untracked().into_iter().map(|column| FeatureSpec { column, encoding }));
        let algorithm = match self.algo.get_untracked() {
            AlgoKind::KMeans => Algorithm::KMeans { k: whole(self.k.get_untracked(), "k")?, n_init: whole(self.runs.get_untracked(), "runs")?.unwrap_or(4), max_iter: 300 },
            AlgoKind::Dbscan => Algorithm::Dbscan { eps: number(self.eps.get_untracked(), "eps")?, min_points: whole(self.min_points.get_untracked(), "min points")?.unwrap_or(10) },
            AlgoKind::Gmm => Algorithm::Gmm { k: whole(self.k.get_untracked(), "k")?.unwrap_or(5), max_iter: 200 },
        };
        Ok(ClusterParams {
            entity: self.entity.get_untracked(),
            features,
            entity_count: self.entity_count.get_untracked(),
            log1p: self.log1p.get_untracked(),
            standardise: self.standardise.get_untracked(),
            clip_z: number(self.clip.get_untracked(), "clip")?,
            missing: self.missing.get_untracked(),
            algorithm,
            sample_limit: whole(self.sample.get_untracked(), "fit sample")?.unwrap_or(DEFAULT_SAMPLE),
            seed: whole(self.seed.get_untracked(), "seed")?.unwrap_or(7) as u64,
            label: if self.use_label.get_untracked() { label } else { None },
            scan_k: true,
        })
    }
}

#[component]
pub fn ClustersTab() -> impl IntoView {
    let state = expect_context::<AppState>();
    // The report whose view was built last: a new one is built in two tasks (`Later`); the same
    // one rebuilt keeps all its parts on screen.
    let built_for = StoredValue::new(0usize);
    move || {
        let Some(summary) = state.summary.get() else {
            return view! { <section class="panel"><p>"Load data to look for clusters."</p></section> }.into_any();
        };
        // The weight column counts events: not a feature (chosen anew when it changes).
        state.weight.track();
        let columns: Vec<ColumnSummary> = summary.columns.iter().filter(|c| !state.is_weight(&c.name)).cloned().collect();
        let panel = ClustersPanel::get();
        let job = panel.job;
        let form = Form::new(job.params.get_untracked(), &columns, summary.n_rows);
        // First visit: run with the defaults, so the tab opens on a result.
        if job.result.get_untracked().is_none() && job.running.get_untracked().is_none() {
            if let Ok(params) = form.params(state.chosen_label()) {
                if !params.features.is_empty() {
                    panel.run(state, params);
                }
            }
        }
        view! {
            <ClusterForm form=form columns=columns/>
            <ClusterProgress/>
            {move || match job.result.get() {
                None => (!job.is_running()).then(|| view! {
                    <section class="panel"><p class="muted">"Choose features and press Cluster."</p></section>
                }.into_any()),
                Some(Err(err)) => Some(view! { <section class="panel" data-testid="cluster-error"><p class="problem">{format!("Cannot cluster: {err}.")}</p></section> }.into_any()),
                Some(Ok(report)) => {
                    let key = Arc::as_ptr(&report) as usize;
                    let defer = built_for.get_value() != key;
                    built_for.set_value(key);
                    Some(view! { <ClusterResults report=report defer=defer/> }.into_any())
                }
            }}
        }
        .into_any()
    }
}

#[component]
fn ClusterProgress() -> impl IntoView {
    let job = ClustersPanel::get().job;
    view! {
        <JobProgress running=Signal::derive(move || job.running.get()) on_cancel=Callback::new(move |()| job.cancel()) testid="cluster-progress" cancel_testid="cluster-cancel" idle="Reading features"/>
    }
}

#[component]
fn ClusterForm(form: Form, columns: Vec<ColumnSummary>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let problem = RwSignal::new(None::<String>);
    let numeric: Vec<String> = columns.iter().filter(|c| numeric_kind(c.kind)).map(|c| c.name.clone()).collect();
    let categorical: Vec<String> = columns
        .iter()
        .filter(|c| matches!(c.kind, ColumnType::Category | ColumnType::Boolean) && c.distinct.is_none_or(|d| d <= MAX_CATEGORY_VALUES))
        .map(|c| c.name.clone())
        .collect();
    let entities: Vec<String> = columns.iter().filter(|c| matches!(c.kind, ColumnType::Identifier | ColumnType::Category)).map(|c| c.name.clone()).collect();
    let panel = ClustersPanel::get();
    let run = move |_| match form.params(state.chosen_label()) {
        Ok(params) => {
            problem.set(None);
            panel.run(state, params);
        }
        Err(message) => problem.set(Some(message)),
    };
    let label_line = move || {
        state.label_params.get().map(|l| {
            let positive = if l.positive.is_empty() { "every class but the most common (true for a true/false column)".to_string() } else { l.positive.join(", ") };
            view! {
                <label class="log-toggle" title="Set in the Profile tab's label check">
                    <input type="checkbox" data-testid="cluster-use-label" prop:checked=move || form.use_label.get() on:change=move |e| form.use_label.set(event_target_checked(&e))/>
                    {format!("label rate: {} ∈ {{{positive}}}", l.label)}
                </label>
            }
        })
    };
    view! {
        <section class="panel cluster-controls" data-testid="cluster-controls">
            <div class="control-row">
                <label>"Cluster "
                    <select aria-label="Cluster level" data-testid="cluster-level" on:change=move |e| {
                        let v = event_target_value(&e);
                        form.entity.set((!v.is_empty()).then_some(v));
                    }>
                        <option value="" selected=move || form.entity.get().is_none()>"rows"</option>
                        {entities.into_iter().map(|name| {
                            let selected_name = name.clone();
                            view! { <option value=name.clone() selected=move || form.entity.get().as_deref() == Some(selected_name.as_str())>{format!("per {name}")}</option> }
                        }).collect_view()}
                    </select>
                </label>
                {move || form.entity.get().is_some().then(|| view! {
                    <label class="log-toggle"><input type="checkbox" data-testid="cluster-count" prop:checked=move || form.entity_count.get() on:change=move |e| form.entity_count.set(event_target_checked(&e))/>"rows per entity as a feature"</label>
                })}
                <label>"with "
                    <select aria-label="Algorithm" data-testid="cluster-algorithm" on:change=move |e| {
                        let v = event_target_value(&e);
                        if let Some(kind) = AlgoKind::ALL.into_iter().find(|k| k.slug() == v) { form.algo.set(kind) }
                    }>
                        {AlgoKind::ALL.into_iter().map(|k| view! { <option value=k.slug() selected=move || form.algo.get() == k>{k.label()}</option> }).collect_view()}
                    </select>
                </label>
                {move || match form.algo.get() {
                    AlgoKind::KMeans => view! {
                        <label>"k " <input class="narrow" data-testid="cluster-k" placeholder="auto" prop:value=move || form.k.get() on:change=move |e| form.k.set(event_target_value(&e))/></label>
                        <label>"runs " <input class="narrow" data-testid="cluster-runs" prop:value=move || form.runs.get() on:change=move |e| form.runs.set(event_target_value(&e))/></label>
                    }.into_any(),
                    AlgoKind::Gmm => view! {
                        <label>"components " <input class="narrow" data-testid="cluster-k" placeholder="5" prop:value=move || form.k.get() on:change=move |e| form.k.set(event_target_value(&e))/></label>
                    }.into_any(),
                    AlgoKind::Dbscan => view! {
                        <label>"eps " <input class="narrow" data-testid="cluster-eps" placeholder="auto" prop:value=move || form.eps.get() on:change=move |e| form.eps.set(event_target_value(&e))/></label>
                        <label>"min points " <input class="narrow" data-testid="cluster-min-points" prop:value=move || form.min_points.get() on:change=move |e| form.min_points.set(event_target_value(&e))/></label>
                    }.into_any(),
                }}
                <label>"seed " <input class="narrow" data-testid="cluster-seed" prop:value=move || form.seed.get() on:change=move |e| form.seed.set(event_target_value(&e))/></label>
                <label title="The model is fitted on a seeded sample of at most this many points; every point is then assigned">"fit on ≤ " <input class="narrow wide-number" data-testid="cluster-sample" prop:value=move || form.sample.get() on:change=move |e| form.sample.set(event_target_value(&e))/>" points"
                    {move || {
                        let (name, most) = match form.algo.get() {
                            AlgoKind::Dbscan => ("DBSCAN", crate::analysis::cluster::DBSCAN_MAX_FIT),
                            AlgoKind::Gmm => ("a mixture", crate::analysis::cluster::GMM_MAX_FIT),
                            AlgoKind::KMeans => return None,
                        };
                        Some(view! { <span class="muted" data-testid="cluster-fit-limit">{format!(" ({name}: at most {})", format_count(most as u64))}</span> })
                    }}
                </label>
                <button class="button primary" data-testid="cluster-run" on:click=run>"Cluster"</button>
                <button class="button" data-testid="cluster-export" disabled=move || panel.job.report().is_none()
                    on:click=move |_| export_membership(state)>"Export membership CSV"</button>
            </div>
            <div class="control-row features">
                <span class="control-label">"Numeric features"</span>
                <Checklist names=numeric chosen=form.numeric testid="cluster-feature"/>
            </div>
            {(!categorical.is_empty()).then(|| view! {
                <div class="control-row features">
                    <span class="control-label">"Categories"</span>
                    <select aria-label="Category encoding" data-testid="cluster-encoding" on:change=move |e| {
                        form.encoding.set(if event_target_value(&e) == "frequency" { Encoding::Frequency } else { Encoding::OneHot })
                    }>
                        <option value="onehot" selected=move || form.encoding.get() == Encoding::OneHot>{format!("one-hot (top {})", crate::analysis::cluster::ONE_HOT_TOP)}</option>
                        <option value="frequency" selected=move || form.encoding.get() == Encoding::Frequency>"frequency"</option>
                    </select>
                    <Checklist names=categorical chosen=form.categories testid="cluster-category"/>
                </div>
            })}
            <div class="control-row">
                <span class="control-label">"Transforms"</span>
                <label class="log-toggle"><input type="checkbox" data-testid="cluster-log" prop:checked=move || form.log1p.get() on:change=move |e| form.log1p.set(event_target_checked(&e))/>"log1p skewed counts"</label>
                <label class="log-toggle"><input type="checkbox" data-testid="cluster-standardise" prop:checked=move || form.standardise.get() on:change=move |e| form.standardise.set(event_target_checked(&e))/>"standardise"</label>
                <label>"clip at ± " <input class="narrow" data-testid="cluster-clip" placeholder="off" prop:value=move || form.clip.get() on:change=move |e| form.clip.set(event_target_value(&e))/>" SD"</label>
                <label>"missing values "
                    <select aria-label="Missing values" data-testid="cluster-missing" on:change=move |e| {
                        form.missing.set(if event_target_value(&e) == "drop" { MissingPolicy::Drop } else { MissingPolicy::Median })
                    }>
                        <option value="median" selected=move || form.missing.get() == MissingPolicy::Median>"replace by the median"</option>
                        <option value="drop" selected=move || form.missing.get() == MissingPolicy::Drop>"drop the point"</option>
                    </select>
                </label>
                {label_line}
            </div>
            {move || problem.get().map(|p| view! { <p class="problem" data-testid="cluster-form-problem">{p}</p> })}
        </section>
    }
}

#[component]
fn ClusterResults(report: Arc<ClusterReport>, defer: bool) -> impl IntoView {
    let state = expect_context::<AppState>();
    let focus = RwSignal::new(None::<i32>);
    let panel = ClustersPanel::get();
    let stale = move || state.view_version.get() != panel.view_at.get();
    let r = report.clone();
    let headline = {
        let found = if r.k == 1 { "1 cluster".to_string() } else { format!("{} clusters", r.k) };
        let noise = if r.noise > 0 { format!(" and {} noise", format_count(r.noise as u64)) } else { String::new() };
        let events = if r.weighted && r.entity.is_none() { format!(" ({} events)", format_events(r.events)) } else { String::new() };
        format!("{found}{noise} among {} {}{events}", format_count(r.n_points as u64), if r.entity.is_some() { r.level.clone() + " values" } else { "rows".into() })
    };
    let stats = {
        let mut parts = vec![r.algorithm.clone()];
        if let Some(s) = r.silhouette {
            parts.push(format!("silhouette {s:.2}"));
        }
        if let Some(i) = r.inertia {
            parts.push(format!("inertia {}", short(i)));
        }
        parts.push(format!("{:.1} s", panel.job.elapsed_ms.get_untracked() / 1000.0));
        parts.join(" · ")
    };
    let timings = panel
        .job
        .timings
        .get_untracked()
        .into_iter()
        .filter(|(_, ms)| *ms >= 1.0)
        .map(|(name, ms)| format!("{name} {:.2} s", ms / 1000.0))
        .collect::<Vec<_>>()
        .join(" · ");
    let details = {
        let mut lines = vec![format!("Features: {}.", r.features.join(", "))];
        if !r.transforms.is_empty() {
            lines.push(format!("Transforms: {}.", r.transforms.join("; ")));
        }
        lines.extend(r.notes.iter().cloned());
        if r.dropped > 0 {
            lines.push(format!("{} points dropped for missing values.", format_count(r.dropped as u64)));
        }
        lines
    };
    view! {
        <section class="panel" data-testid="cluster-summary" class:stale=stale>
            <div class="panel-head">
                <h2 data-testid="cluster-headline">{headline}</h2>
                <span class="muted small" title=format!("Worker time: {timings}")>{stats}</span>
            </div>
            {move || stale().then(|| view! { <p class="muted small" data-testid="cluster-stale">"The filter changed since this clustering ran: press Cluster to run it on the rows now selected."</p> })}
            <ul class="notices" data-testid="cluster-notes">{details.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
        </section>
        <div class="cluster-grid">
            <ClusterMap report=report.clone() focus=focus/>
            <ParameterChart report=report.clone()/>
        </div>
        <Later defer=defer><ProfilesTable report=report.clone() focus=focus/></Later>
    }
}

/// Pixel rectangle of a brush drag, in canvas coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Brush {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

/// The cluster map's points in drawing order: largest clusters first, so that small ones (a ring
/// of 40 accounts) are drawn on top, and noise under everything; `order` maps a drawn point back
/// to its place in the map.
struct MapOrder {
    points: Arc<Vec<(f64, f64, i32)>>,
    order: Vec<usize>,
    style: Arc<DotStyle>,
}

impl MapOrder {
    fn of(decoded: &[(f64, f64, i32)]) -> MapOrder {
        let order = drawing_order(decoded);
        let points = Arc::new(order.iter().filter_map(|&i| decoded.get(i).copied()).collect::<Vec<_>>());
        MapOrder { style: Arc::new(DotStyle::for_points(&points)), points, order }
    }
}

/// Points of the cluster map painted per step of a slice (about 2 ms).
const MAP_SLICE_POINTS: usize = 12_500;

#[component]
fn ClusterMap(report: Arc<ClusterReport>, focus: RwSignal<Option<i32>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let canvas = NodeRef::<Canvas>::new();
    let problem = RwSignal::new(None::<String>);
    let raster: StoredValue<Option<Raster>> = StoredValue::new(None);
    // The points in drawing order and, for each, its place in the map: made in the first two
    // slices of the first drawing (decoding 200,000 points, then ordering them, each a step).
    let ordered: StoredValue<Option<MapOrder>> = StoredValue::new(None);
    let (x_range, y_range) = (report.map.x_range, report.map.y_range);
    let brush = RwSignal::new(None::<Brush>);
    let lasso_mode = RwSignal::new(false);
    // The lasso's path in canvas pixels while it is drawn.
    let lasso = RwSignal::new(Vec::<(f64, f64)>::new());
    let dragging = RwSignal::new(false);
    let hovered = RwSignal::new(None::<u32>);
    let map_title = format!("Clusters ({}) on the first two principal components", report.algorithm);
    // Each drawing of the map has a number; a slice of an older one stops.
    let drawing = StoredValue::new(0u64);
    let map_report = report.clone();
    Effect::new(move |_| {
        let focus = focus.get();
        if canvas.get().is_none() {
            return;
        }
        let this = drawing.get_value() + 1;
        drawing.set_value(this);
        // Drawn after the frame that shows the panel, then the points painted in slices of the
        // main thread: a map of 200,000 points took 40 ms in one piece.
        let report = map_report.clone();
        let mut painting: Option<(Raster, usize, u32, u32)> = None;
        let mut decoded: Option<Vec<(f64, f64, i32)>> = None;
        run_in_slices(move || {
            // The panel may be gone, or a newer drawing started.
            let Some(element) = canvas.try_get_untracked().flatten() else { return false };
            if drawing.try_get_value() != Some(this) {
                return false;
            }
            let Some((draw_points, style)) = ordered.try_with_value(|o| o.as_ref().map(|o| (o.points.clone(), o.style.clone()))).flatten() else {
                match decoded.take() {
                    None => decoded = Some(report.map.points()),
                    Some(points) => {
                        let _ = ordered.try_set_value(Some(MapOrder::of(&points)));
                    }
                }
                return true;
            };
            // Timed as "vigil-map-draw" in the Performance timeline (`make bench` reads it).
            let performance = web_sys::window().and_then(|w| w.performance());
            let Some((painted, done, left, top)) = painting.as_mut() else {
                if let Some(p) = &performance {
                    let _ = p.mark("vigil-map-draw-start");
                }
                match draw_map_frame_on_canvas(&element, x_range, y_range, theme()) {
                    Ok(Some((left, top, width, height))) => {
                        painting = Some((Raster::blank(width, height), 0, left, top));
                        return true;
                    }
                    Ok(None) => {
                        let _ = raster.try_set_value(None);
                    }
                    Err(err) => {
                        problem.try_set(Some(err));
                    }
                }
                return false;
            };
            let end = (*done + MAP_SLICE_POINTS).min(draw_points.len());
            painted.paint(&draw_points, *done..end, &style, x_range, y_range, focus);
            *done = end;
            if end < draw_points.len() {
                return true;
            }
            if let Err(err) = put_map_raster(&element, painted, *left, *top) {
                problem.try_set(Some(err));
            }
            let _ = raster.try_set_value(painting.take().map(|(r, ..)| r));
            if let Some(p) = &performance {
                let _ = p.measure_with_start_mark("vigil-map-draw", "vigil-map-draw-start");
            }
            false
        });
    });
    let plot_xy = move |event: &ev::MouseEvent| -> Option<(f64, f64, u32, u32)> {
        let element = canvas.get_untracked()?;
        let (left, top, w, h) = map_plot_area(element.width(), element.height());
        let x = f64::from(event.offset_x()) - f64::from(left);
        let y = f64::from(event.offset_y()) - f64::from(top);
        (x >= 0.0 && y >= 0.0 && x < f64::from(w) && y < f64::from(h)).then_some((x, y, w, h))
    };
    let on_down = move |event: ev::MouseEvent| {
        let (x, y) = (f64::from(event.offset_x()), f64::from(event.offset_y()));
        dragging.set(true);
        ClustersPanel::get().selection.set(None);
        if lasso_mode.get_untracked() {
            brush.set(None);
            lasso.set(vec![(x, y)]);
        } else {
            lasso.set(Vec::new());
            brush.set(Some(Brush { x0: x, y0: y, x1: x, y1: y }));
        }
    };
    let on_move = move |event: ev::MouseEvent| {
        if dragging.get_untracked() {
            let (x, y) = (f64::from(event.offset_x()), f64::from(event.offset_y()));
            if lasso_mode.get_untracked() {
                let far = lasso.with_untracked(|path| path.last().is_none_or(|&(px, py)| (px - x).abs() + (py - y).abs() >= 3.0));
                if far {
                    lasso.update(|path| path.push((x, y)));
                }
                return;
            }
            brush.update(|b| {
                if let Some(b) = b.as_mut() {
                    b.x1 = x;
                    b.y1 = y;
                }
            });
            return;
        }
        let found = plot_xy(&event)
            .and_then(|(x, y, _, _)| raster.with_value(|r| r.as_ref().and_then(|r| r.point_at(x as u32, y as u32, 4))))
            .and_then(|drawn| ordered.with_value(|o| o.as_ref().and_then(|o| o.order.get(drawn as usize)).map(|&i| i as u32)));
        if found != hovered.get_untracked() {
            hovered.set(found);
            match found {
                Some(index) => client::ask(Request::ClusterPoint { index: index as usize }, |response| {
                    if let Response::ClusterPoint { result, .. } = response {
                        ClustersPanel::get().point.set(result.ok());
                    }
                }),
                None => ClustersPanel::get().point.set(None),
            }
        }
    };
    let on_up = move |_event: ev::MouseEvent| {
        if !dragging.get_untracked() {
            return;
        }
        dragging.set(false);
        let Some(element) = canvas.get_untracked() else { return };
        let (left, top, w, h) = map_plot_area(element.width(), element.height());
        let to_data = |px: f64, py: f64| from_pixel(px - f64::from(left), py - f64::from(top), x_range, y_range, w, h);
        if lasso_mode.get_untracked() {
            let path = lasso.get_untracked();
            let (xs, ys): (Vec<f64>, Vec<f64>) = path.iter().copied().unzip();
            let span = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max) - v.iter().copied().fold(f64::INFINITY, f64::min);
            if path.len() < 3 || span(&xs) < 5.0 || span(&ys) < 5.0 {
                lasso.set(Vec::new());
                return;
            }
            let corners = path.iter().map(|&(px, py)| to_data(px, py)).collect();
            ClustersPanel::get().select(MapSelection::Polygon(corners));
            return;
        }
        let Some(b) = brush.get_untracked() else { return };
        if (b.x1 - b.x0).abs() < 5.0 || (b.y1 - b.y0).abs() < 5.0 {
            brush.set(None);
            return;
        }
        let (xa, ya) = to_data(b.x0, b.y0);
        let (xb, yb) = to_data(b.x1, b.y1);
        ClustersPanel::get().select(MapSelection::Rectangle { x: (xa, xb), y: (ya, yb) });
    };
    let brush_style = move || {
        brush.get().map_or_else(
            || "display: none".to_string(),
            |b| format!("left: {}px; top: {}px; width: {}px; height: {}px", b.x0.min(b.x1), b.y0.min(b.y1), (b.x1 - b.x0).abs(), (b.y1 - b.y0).abs()),
        )
    };
    let readout = move || match ClustersPanel::get().point.get() {
        Some(p) if hovered.get().is_some() => {
            let features: Vec<String> = p.features.iter().take(6).map(|(n, v)| format!("{n} {}", short(*v))).collect();
            let rows = if p.rows > 1 { format!(" ({} rows)", format_count(p.rows as u64)) } else { String::new() };
            format!("{}{rows} — {}: {}", p.name, cluster_name(p.cluster), features.join(", "))
        }
        _ if lasso_mode.get() => "Hover a point for its details; draw around points to select them.".into(),
        _ => "Hover a point for its details; drag a rectangle to select points.".into(),
    };
    let explained = format!("PC1 {:.0} % · PC2 {:.0} % of the variance", report.map.explained[0] * 100.0, report.map.explained[1] * 100.0);
    let shown = if report.map.n < report.map.of {
        format!("{} of {} points shown", format_count(report.map.n as u64), format_count(report.map.of as u64))
    } else {
        format!("{} points", format_count(report.map.n as u64))
    };
    let selection = move || {
        ClustersPanel::get().selection.get().map(|result| match result {
            Ok((clause, n)) => {
                let add = clause.clone();
                view! {
                    <div class="selection-bar" data-testid="cluster-selection">
                        <span>{format!("{} points selected", format_count(n as u64))}</span>
                        <button class="button small primary" data-testid="cluster-filter-selection" on:click=move |_| {
                            state.filter.update(|f| f.clauses.push(add.clone()));
                            client::apply_view(state);
                            ClustersPanel::get().selection.set(None);
                            brush.set(None);
                            lasso.set(Vec::new());
                        }>"Filter to them"</button>
                        <button class="button small" on:click=move |_| { ClustersPanel::get().selection.set(None); brush.set(None); lasso.set(Vec::new()); }>"Clear"</button>
                    </div>
                }
                .into_any()
            }
            Err(message) => view! { <p class="problem small" data-testid="cluster-selection-problem">{message}</p> }.into_any(),
        })
    };
    let legend_ids: Vec<i32> = report.clusters.iter().map(|c| c.id).collect();
    view! {
        <section class="panel map-panel" data-testid="cluster-map-panel">
            <div class="panel-head">
                <h3>"Map (PCA)"</h3>
                <span class="muted small">{format!("{explained} · {shown}")}</span>
                <span class="toggle" role="group" aria-label="Selection tool">
                    <button class="button small" class:primary=move || !lasso_mode.get() data-testid="tool-rectangle" on:click=move |_| lasso_mode.set(false)>"rectangle"</button>
                    <button class="button small" class:primary=move || lasso_mode.get() data-testid="tool-lasso" on:click=move |_| lasso_mode.set(true)>"lasso"</button>
                </span>
            </div>
            <Exportable name="cluster-map" title=map_title>
            <div class="map-wrap">
                <canvas node_ref=canvas class="cluster-map" data-testid="cluster-map"
                    on:mousedown=on_down on:mousemove=on_move on:mouseup=on_up
                    on:mouseleave=move |_| { hovered.set(None); if dragging.get_untracked() { dragging.set(false); brush.set(None); lasso.set(Vec::new()); } }></canvas>
                <div class="brush" style=brush_style></div>
                <svg class="lasso" aria-hidden="true">
                    <polygon points=move || lasso.with(|path| path.iter().map(|(x, y)| format!("{x:.0},{y:.0}")).collect::<Vec<_>>().join(" "))></polygon>
                </svg>
            </div>
            </Exportable>
            <div class="chart-readout muted" aria-live="polite" data-testid="cluster-readout">{readout}</div>
            {selection}
            <div class="legend small" data-testid="cluster-legend">
                {legend_ids.into_iter().map(|id| view! {
                    <button class="legend-item" class:dim=move || focus.get().is_some_and(|f| f != id)
                        title="Click to highlight this cluster; click again to show all"
                        on:click=move |_| focus.update(|f| *f = if *f == Some(id) { None } else { Some(id) })>
                        <i class="swatch" style=swatch_style(id)></i>{cluster_name(id)}
                    </button>
                }).collect_view()}
            </div>
            {move || problem.get().map(|p| view! { <p class="problem">"Map could not be drawn: " {p}</p> })}
        </section>
    }
}

/// The elbow and silhouette scan (k-means) or the k-distance curve (DBSCAN).
#[component]
fn ParameterChart(report: Arc<ClusterReport>) -> impl IntoView {
    let first = NodeRef::<Canvas>::new();
    let second = NodeRef::<Canvas>::new();
    let problem = RwSignal::new(None::<String>);
    let r = report.clone();
    Effect::new(move |_| {
        let Some((a, b)) = first.get().zip(second.get()) else { return };
        let r = r.clone();
        draw_soon(&a, move |a| {
            let theme = theme();
            let k_label = |v: f64| format!("{v:.0}");
            let drawn = if !r.k_scan.is_empty() {
                let inertia: Vec<(f64, f64)> = r.k_scan.iter().map(|s| (s.k as f64, s.inertia)).collect();
                let silhouette: Vec<(f64, f64)> = r.k_scan.iter().map(|s| (s.k as f64, s.silhouette.unwrap_or(f64::NAN))).collect();
                let chosen = Some(r.k as f64);
                draw_on_canvas(a, |area| draw_xy(area, &inertia, theme, 0, chosen, None, &k_label).map_err(|e| e.to_string()))
                    .and_then(|()| draw_on_canvas(&b, |area| draw_xy(area, &silhouette, theme, 2, chosen, None, &k_label).map_err(|e| e.to_string())))
            } else if let Some(kd) = &r.k_distance {
                let n = kd.distances.len().max(1);
                let curve: Vec<(f64, f64)> = kd.distances.iter().enumerate().map(|(i, &d)| (i as f64 / n as f64 * kd.n as f64, d)).collect();
                draw_on_canvas(a, |area| draw_xy(area, &curve, theme, 0, None, r.eps, &|v| crate::format::compact_number(v)).map_err(|e| e.to_string()))
            } else {
                Ok(())
            };
            if let Err(err) = drawn {
                problem.try_set(Some(err));
            }
        });
    });
    let (title, first_caption, second_caption) = if !report.k_scan.is_empty() {
        (
            "Choosing k",
            "Elbow: sum of squared distances by k (lower is tighter; look for the bend)".to_string(),
            Some(format!("Silhouette by k (higher is better separated); the marker is k = {}", report.k)),
        )
    } else if let Some(kd) = &report.k_distance {
        (
            "Choosing eps",
            format!("Distance to the {}-th nearest neighbour, sorted; the line is eps = {:.3} (the knee suggests {:.3})", kd.k, report.eps.unwrap_or(0.0), kd.suggested_eps),
            None,
        )
    } else {
        ("Parameters", "A Gaussian mixture has no scan: choose the number of components, or compare runs by silhouette.".to_string(), None)
    };
    let has_chart = !report.k_scan.is_empty() || report.k_distance.is_some();
    view! {
        <section class="panel param-panel" data-testid="cluster-parameters">
            <h3>{title}</h3>
            <p class="muted small">{first_caption.clone()}</p>
            <Exportable name="cluster-parameters" title=format!("{title} — {first_caption}")>
                <canvas node_ref=first class="param-chart" data-testid="cluster-param-chart" class:hidden=!has_chart></canvas>
            </Exportable>
            <p class="muted small" class:hidden=second_caption.is_none()>{second_caption.clone().unwrap_or_default()}</p>
            <Exportable name="cluster-parameters-2" title=format!("{title} — {}", second_caption.clone().unwrap_or_default())>
                <canvas node_ref=second class="param-chart" class:hidden=second_caption.is_none()></canvas>
            </Exportable>
            {move || problem.get().map(|p| view! { <p class="problem">"Chart could not be drawn: " {p}</p> })}
        </section>
    }
}

#[component]
fn ProfilesTable(report: Arc<ClusterReport>, focus: RwSignal<Option<i32>>) -> impl IntoView {
    let has_label = report.label.is_some();
    let label_head = report.label.clone().map(|l| format!("{l} positive")).unwrap_or_default();
    let events = report.weighted && report.entity.is_none();
    let unit = if report.entity.is_some() { report.level.clone() } else if events { "events".into() } else { "rows".into() };
    let rows = report
        .clusters
        .iter()
        .map(|c: &ClusterProfile| {
            let id = c.id;
            let shifts: Vec<String> = c
                .shifts
                .iter()
                .filter(|s| s.smd.abs() >= 0.3)
                .take(3)
                .map(|s| format!("{} {} vs {} (SMD {})", s.feature, short(s.mean), short(s.rest_mean), format_smd(s.smd)))
                .collect();
            let categories: Vec<String> = c.categories.iter().take(3).map(|v| format!("{} = {}: {:.0} % (all {:.0} %)", v.column, v.value, v.share * 100.0, v.overall * 100.0)).collect();
            let summary = c.summary.clone();
            view! {
                <tr data-testid="cluster-profile" class:focused=move || focus.get() == Some(id) on:click=move |_| focus.update(|f| *f = if *f == Some(id) { None } else { Some(id) })>
                    <td><i class="swatch" style=swatch_style(id)></i>" " {cluster_name(id)}</td>
                    <td class="num">{if events { format_events(c.events) } else { format_count(c.size as u64) }}</td>
                    <td class="num">{format_percent(c.share)}</td>
                    {has_label.then(|| view! { <td class="num">{c.label_rate.map(format_percent).unwrap_or_else(|| "—".into())}</td> })}
                    <td>{if shifts.is_empty() { "—".to_string() } else { shifts.join("; ") }}</td>
                    <td>{if categories.is_empty() { "—".to_string() } else { categories.join("; ") }}</td>
                    <td>
                        <button class="button small" data-testid="cluster-filter" title=summary on:click=move |e: ev::MouseEvent| {
                            e.stop_propagation();
                            ClustersPanel::get().select(MapSelection::Cluster(id));
                        }>"Select"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let summaries: Vec<String> = report.clusters.iter().filter(|c| c.id != NOISE).take(12).map(|c| c.summary.clone()).collect();
    let copy_text = summaries.join("\n");
    let copy = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&copy_text);
        }
    };
    view! {
        <section class="panel" data-testid="cluster-profiles">
            <div class="panel-head">
                <h3>"Cluster profiles"</h3>
                <button class="button small" data-testid="copy-cluster-summary" on:click=copy>"Copy summaries"</button>
            </div>
            <ul class="cluster-summaries" data-testid="cluster-summaries">{summaries.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ul>
            <p class="muted small">"Distinguishing features are ranked by standardised mean difference (SMD) against the rest; values are means before transforms. “Select” turns a cluster into a filter you can apply."</p>
            <Exportable name="cluster-profiles" kind=ExportKind::Table><div class="table-wrap">
                <table class="grid profiles">
                    <thead><tr>
                        <th>"cluster"</th><th class="num">{unit}</th><th class="num">"share"</th>
                        {has_label.then(|| view! { <th class="num">{label_head.clone()}</th> })}
                        <th>"distinguishing features"</th><th>"over-represented values"</th><th></th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table></div>
            </Exportable>
        </section>
    }
}

/// Saves the clustering's membership (id or row, cluster) as CSV (the worker writes it).
fn export_membership(state: AppState) {
    client::ask(Request::ClusterExport, move |response| {
        if let Response::ClusterExport { result, .. } = response {
            let saved = result.map_err(|e| e.to_string()).and_then(|csv| crate::ui::download::download_text("clusters.csv", "text/csv", &csv));
            if let Err(message) = saved {
                state.error.set(Some(format!("Cannot export the clusters: {message}")));
            }
        }
    });
}

/// A feature's SMD as shown: signed to one place, or ±∞ when neither side varies.
fn format_smd(smd: f64) -> String {
    if smd >= crate::analysis::cluster::SMD_UNBOUNDED {
        "+∞".into()
    } else if smd <= -crate::analysis::cluster::SMD_UNBOUNDED {
        "−∞".into()
    } else {
        crate::format::format_signed(smd, 1)
    }
}
