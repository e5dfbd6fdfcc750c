//! Shared UI state: a small `Copy` struct of signals provided as context.

use leptos::prelude::*;

use crate::analysis::cluster::{ClusterParams, ClusterReport};
use crate::analysis::labels::{LabelParams, LabelReport};
use crate::analysis::profile::TableProfile;
use crate::analysis::rootcause::{RcaParams, RcaReport};
use crate::analysis::series::Granularity;
use crate::data::filter::Filter;
use crate::data::sort::SortKey;
use crate::data::filter::Clause;
use crate::protocol::{PointDetail, Progress, TableSummary, TrendReport};

/// The analysis tabs, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Data,
    Profile,
    Trends,
    RootCause,
    Clusters,
    Models,
}

impl Tab {
    pub const ALL: [Tab; 6] = [Tab::Data, Tab::Profile, Tab::Trends, Tab::RootCause, Tab::Clusters, Tab::Models];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Data => "Data",
            Tab::Profile => "Profile",
            Tab::Trends => "Trends",
            Tab::RootCause => "Root cause",
            Tab::Clusters => "Clusters",
            Tab::Models => "Models & rules",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Tab::Data => "data",
            Tab::Profile => "profile",
            Tab::Trends => "trends",
            Tab::RootCause => "root-cause",
            Tab::Clusters => "clusters",
            Tab::Models => "models",
        }
    }
}

/// A load in flight.
#[derive(Debug, Clone, PartialEq)]
pub struct Loading {
    pub id: u64,
    pub what: String,
    pub progress: Option<Progress>,
}

/// A window of the row grid: position in the view, and each row's table index and cells.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPage {
    pub start: usize,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// The most frequent values of a column, for the filter picker.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnValues {
    pub column: String,
    pub values: Vec<(String, usize)>,
    pub distinct: usize,
}

/// What a trend measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Count,
    Sum,
    Mean,
    Median,
    P95,
    Distinct,
    Rate,
}

impl MetricKind {
    pub const ALL: [MetricKind; 7] = [Self::Count, Self::Sum, Self::Mean, Self::Median, Self::P95, Self::Distinct, Self::Rate];

    pub fn label(self) -> &'static str {
        match self {
            Self::Count => "row count",
            Self::Sum => "sum of",
            Self::Mean => "mean of",
            Self::Median => "median of",
            Self::P95 => "p95 of",
            Self::Distinct => "distinct count of",
            Self::Rate => "share of rows where",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Sum => "sum",
            Self::Mean => "mean",
            Self::Median => "median",
            Self::P95 => "p95",
            Self::Distinct => "distinct",
            Self::Rate => "rate",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }
}

/// How a split series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitView {
    Stacked,
    Multiples,
}

/// The Trends tab's choices; they outlive the tab (switching tabs keeps them).
#[derive(Debug, Clone, Copy)]
pub struct TrendSettings {
    pub time: RwSignal<Option<String>>,
    pub kind: RwSignal<MetricKind>,
    /// The metric's column (sum … distinct) or the rate condition's column.
    pub column: RwSignal<Option<String>>,
    /// The value the rate counts (`column = value`).
    pub rate_value: RwSignal<Option<String>>,
    pub granularity: RwSignal<Granularity>,
    pub utc_offset_minutes: RwSignal<i32>,
    /// An IANA zone chosen instead of the fixed offset.
    pub time_zone: RwSignal<Option<String>>,
    pub split: RwSignal<Option<String>>,
    pub top: RwSignal<usize>,
    pub split_view: RwSignal<SplitView>,
    pub horizon: RwSignal<usize>,
    pub sensitivity: RwSignal<f64>,
    pub log_trend: RwSignal<bool>,
    pub target: RwSignal<Option<f64>>,
}

impl TrendSettings {
    fn new() -> Self {
        Self {
            time: RwSignal::new(None),
            kind: RwSignal::new(MetricKind::Count),
            column: RwSignal::new(None),
            rate_value: RwSignal::new(None),
            granularity: RwSignal::new(Granularity::Auto),
            utc_offset_minutes: RwSignal::new(0),
            time_zone: RwSignal::new(None),
            split: RwSignal::new(None),
            top: RwSignal::new(5),
            split_view: RwSignal::new(SplitView::Stacked),
            horizon: RwSignal::new(14),
            sensitivity: RwSignal::new(crate::analysis::trend::TrendParams::default().sensitivity),
            log_trend: RwSignal::new(false),
            target: RwSignal::new(None),
        }
    }

    /// Back to the defaults (a new table).
    pub fn reset(&self) {
        let fresh = Self::new();
        self.time.set(fresh.time.get_untracked());
        self.kind.set(MetricKind::Count);
        self.column.set(None);
        self.rate_value.set(None);
        self.split.set(None);
        self.target.set(None);
    }
}

#[derive(Debug, Clone, Copy)]
pub struct AppState {
    pub tab: RwSignal<Tab>,
    pub summary: RwSignal<Option<TableSummary>>,
    pub loading: RwSignal<Option<Loading>>,
    /// A message for the banner (load failures, bad input); dismissible.
    pub error: RwSignal<Option<String>>,
    pub page: RwSignal<Option<RowPage>>,
    /// The global filter every view respects.
    pub filter: RwSignal<Filter>,
    /// The grid's sort order.
    pub sort: RwSignal<Option<SortKey>>,
    /// Rows passing the filter, once the worker has evaluated it.
    pub matched: RwSignal<Option<usize>>,
    /// Bumped whenever the worker's view changed, so the grid re-requests its rows.
    pub view_version: RwSignal<u64>,
    pub column_values: RwSignal<Option<ColumnValues>>,
    /// The profile of the current view, once computed.
    pub profile: RwSignal<Option<TableProfile>>,
    /// The column that should identify rows, for duplicate-key checks.
    pub profile_key: RwSignal<Option<String>>,
    /// The label column and its companions chosen for ground-truth checks (shared with the
    /// Models tab later).
    pub label_params: RwSignal<Option<LabelParams>>,
    pub labels: RwSignal<Option<Result<LabelReport, String>>>,
    pub trend_settings: TrendSettings,
    /// The last trend report (or why the series could not be built).
    pub trend: RwSignal<Option<Result<Box<TrendReport>, String>>>,
    /// A trend request is in flight.
    pub trend_pending: RwSignal<bool>,
    /// The change to explain (windows, metric), set by the Trends tab or typed.
    pub rca_params: RwSignal<Option<RcaParams>>,
    pub rca: RwSignal<Option<Result<Box<RcaReport>, String>>>,
    pub rca_elapsed_ms: RwSignal<f64>,
    pub rca_pending: RwSignal<bool>,
    /// Stage and completed fraction of the root-cause analysis in flight.
    pub rca_progress: RwSignal<Option<(String, f64)>>,
    /// Windows marked on the trend chart (UTC ms, `[start, end)`, in time order; at most two:
    /// baseline then incident).
    pub trend_marks: RwSignal<Vec<(i64, i64)>>,
    /// The clustering asked for last (features, algorithm, …).
    pub cluster_params: RwSignal<Option<ClusterParams>>,
    pub cluster: RwSignal<Option<Result<Box<ClusterReport>, String>>>,
    /// A clustering in flight: its request id, stage and completed fraction.
    pub cluster_running: RwSignal<Option<ClusterRun>>,
    pub cluster_elapsed_ms: RwSignal<f64>,
    /// Worker time per phase of the shown clustering.
    pub cluster_timings: RwSignal<Vec<(String, f64)>>,
    /// `view_version` when the shown clustering was requested (another filter makes it stale).
    pub cluster_view: RwSignal<u64>,
    /// The hovered map point.
    pub cluster_point: RwSignal<Option<PointDetail>>,
    /// The rules of the Models tab, in order.
    pub rules: RwSignal<Vec<crate::analysis::backtest::RuleSpec>>,
    pub backtest: RwSignal<Option<Result<Box<crate::analysis::backtest::BacktestReport>, String>>>,
    /// The score column and threshold of the Models tab.
    pub score_column: RwSignal<Option<String>>,
    pub score_threshold: RwSignal<Option<f64>>,
    pub score_min_precision: RwSignal<f64>,
    pub scores: RwSignal<Option<Result<Box<crate::analysis::backtest::ScoreReport>, String>>>,
    pub tree: RwSignal<Option<Result<Box<crate::analysis::tree::TreeReport>, String>>>,
    pub tree_pending: RwSignal<bool>,
    /// The tree and regression asked for last (part of the view's link).
    pub tree_params: RwSignal<Option<crate::analysis::tree::TreeParams>>,
    pub regression_params: RwSignal<Option<crate::analysis::regression::RegressionParams>>,
    pub regression: RwSignal<Option<Result<Box<crate::analysis::regression::RegressionReport>, String>>>,
    /// A brushed selection of map points as a filter clause, and how many points it holds.
    pub cluster_selection: RwSignal<Option<Result<(Clause, usize), String>>>,
    /// Column types the user chose for the table on screen, in order (part of the view's link).
    pub type_overrides: RwSignal<Vec<(String, crate::data::table::ColumnType)>>,
    /// The worker crashed and was restarted (or could not be): what happened.
    pub worker_notice: RwSignal<Option<String>>,
    /// What of an opened link's view could not be applied.
    pub link_notices: RwSignal<Vec<String>>,
    /// An opened link was made from this local file: the reader is asked for their copy.
    pub file_wanted: RwSignal<Option<String>>,
}

/// The Models tab's rules before the user writes any: one empty rule.
pub fn default_rules() -> Vec<crate::analysis::backtest::RuleSpec> {
    vec![crate::analysis::backtest::RuleSpec { name: "rule 1".into(), text: String::new() }]
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterRun {
    pub id: u64,
    pub stage: String,
    pub fraction: f64,
}

impl AppState {
    pub fn new() -> Self {
        Self {
            tab: RwSignal::new(Tab::Data),
            summary: RwSignal::new(None),
            loading: RwSignal::new(None),
            error: RwSignal::new(None),
            page: RwSignal::new(None),
            filter: RwSignal::new(Filter::default()),
            sort: RwSignal::new(None),
            matched: RwSignal::new(None),
            view_version: RwSignal::new(0),
            column_values: RwSignal::new(None),
            profile: RwSignal::new(None),
            profile_key: RwSignal::new(None),
            label_params: RwSignal::new(None),
            labels: RwSignal::new(None),
            trend_settings: TrendSettings::new(),
            trend: RwSignal::new(None),
            trend_pending: RwSignal::new(false),
            rca_params: RwSignal::new(None),
            rca: RwSignal::new(None),
            rca_elapsed_ms: RwSignal::new(0.0),
            rca_pending: RwSignal::new(false),
            rca_progress: RwSignal::new(None),
            trend_marks: RwSignal::new(Vec::new()),
            cluster_params: RwSignal::new(None),
            cluster: RwSignal::new(None),
            cluster_running: RwSignal::new(None),
            cluster_elapsed_ms: RwSignal::new(0.0),
            cluster_timings: RwSignal::new(Vec::new()),
            cluster_view: RwSignal::new(0),
            cluster_point: RwSignal::new(None),
            cluster_selection: RwSignal::new(None),
            rules: RwSignal::new(default_rules()),
            backtest: RwSignal::new(None),
            score_column: RwSignal::new(None),
            score_threshold: RwSignal::new(None),
            score_min_precision: RwSignal::new(0.9),
            scores: RwSignal::new(None),
            tree: RwSignal::new(None),
            tree_pending: RwSignal::new(false),
            tree_params: RwSignal::new(None),
            regression_params: RwSignal::new(None),
            regression: RwSignal::new(None),
            type_overrides: RwSignal::new(Vec::new()),
            worker_notice: RwSignal::new(None),
            link_notices: RwSignal::new(Vec::new()),
            file_wanted: RwSignal::new(None),
        }
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}
