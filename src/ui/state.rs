//! Shared UI state: a small `Copy` struct of signals provided as context.

use leptos::prelude::*;

use crate::analysis::labels::{LabelParams, LabelReport};
use crate::analysis::profile::TableProfile;
use crate::data::filter::Filter;
use crate::data::sort::SortKey;
use crate::protocol::{Progress, TableSummary};

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
        }
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}
