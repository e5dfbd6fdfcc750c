//! The app's shared state: a small `Copy` struct of signals provided as context. It holds what
//! every panel shares (the data, the view's filter and sort, the label, navigation); each panel
//! keeps its own settings and analyses in its folder (`panels/`).

use leptos::prelude::*;

use crate::analysis::groups::DerivedColumn;
use crate::analysis::labels::{LabelParams, LabelSpec};
use crate::analysis::rootcause::Window;
use crate::analysis::series::Metric;
use crate::data::filter::{Clause, Filter};
use crate::data::sort::SortKey;
use crate::protocol::{ColumnSummary, Progress, TableSummary};
use crate::ui::jobs::Running;

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

/// What the Trends tab measures, as other panels read it (Root cause explains it).
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub time_column: String,
    /// The metric as a change can be explained by parts (count, sum or rate).
    pub metric: Metric,
    /// The Trends metric does not split into parts (mean, percentile, distinct): row counts are
    /// explained instead.
    pub counts_instead: bool,
}

/// What one panel asks of another, through the shell: panels never call each other.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Explain the change of `metric` between two windows (Root cause).
    Explain { time_column: String, metric: Metric, baseline: Window, incident: Window },
    /// Find the incidents of the view on screen (Trends publishes them in `incidents`).
    FindIncidents,
    /// Measure the impact of a launch from `intervention_ms` on `metric` (Measure), the groups
    /// from Trends' split when it has one.
    MeasureLaunch { time_column: String, metric: Metric, weekly: bool, split: Option<String>, intervention_ms: i64 },
}

/// An incident Trends found, as other panels read it.
pub use crate::analysis::trend::FoundIncident;

/// The incidents Trends found in what it measures (published by it; Root cause lists them).
#[derive(Debug, Clone, PartialEq)]
pub enum Incidents {
    /// Trends is building its series.
    Pending,
    /// Why there is no list (no time column, a metric to choose, a series too short…).
    Unavailable(String),
    Found {
        time_column: String,
        /// "Rows per day".
        measured: String,
        /// Values are rates (shown as percentages).
        rate: bool,
        /// Largest first.
        list: Vec<FoundIncident>,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct AppState {
    /// The slug of the tab on screen (see `panels::TABS`).
    pub tab: RwSignal<&'static str>,
    /// The Data tab is to scroll to its rows once drawn (after "show these rows" elsewhere).
    pub reveal_rows: RwSignal<bool>,
    pub summary: RwSignal<Option<TableSummary>>,
    pub loading: RwSignal<Option<Loading>>,
    /// A message for the banner (load failures, bad input); dismissible.
    pub error: RwSignal<Option<String>>,
    /// The failed load was too large for the tab: the banner offers to stream it into a cube.
    pub stream_offer: RwSignal<bool>,
    pub page: RwSignal<Option<RowPage>>,
    /// The global filter every view respects.
    pub filter: RwSignal<Filter>,
    /// The grid's sort order.
    pub sort: RwSignal<Option<SortKey>>,
    /// The column saying how many events each row stands for (`None`: one each).
    pub weight: RwSignal<Option<String>>,
    /// Rows passing the filter, once the worker has evaluated it.
    pub matched: RwSignal<Option<usize>>,
    /// Bumped whenever the worker's view changed, so the grid re-requests its rows and the
    /// analyses that follow the filter run again.
    pub view_version: RwSignal<u64>,
    pub column_values: RwSignal<Option<ColumnValues>>,
    /// The label column and its companions, chosen in the Profile tab's ground truth and read by
    /// every panel that needs a label.
    pub label_params: RwSignal<Option<LabelParams>>,
    /// A request from one panel to another, taken by the panel it is for.
    pub intent: RwSignal<Option<Intent>>,
    /// What the Trends tab measures (published by it).
    pub measure: RwSignal<Option<Measure>>,
    /// The incidents Trends found (published by it when asked with [`Intent::FindIncidents`]).
    pub incidents: RwSignal<Option<Incidents>>,
    /// Column types the user chose for the table on screen, in order (part of the view's link).
    pub type_overrides: RwSignal<Vec<(String, crate::data::table::ColumnType)>>,
    /// Columns derived from an analysis's groups (rings, copies), in the order made (part of the
    /// view's link).
    pub derived: RwSignal<Vec<DerivedColumn>>,
    /// Columns added from other files, in order (part of the view's link).
    pub joins: RwSignal<Vec<crate::viewstate::JoinRef>>,
    /// The lookup file read for "Add columns from another file", with the keys and the choice for
    /// repeated keys as chosen so far (kept here: the Data tab is drawn again as counts arrive).
    pub join_draft: RwSignal<Option<(crate::protocol::JoinAnswer, crate::data::join::Repeated)>>,
    /// An opened link adds columns from this local file: the reader is asked for their copy.
    pub lookup_wanted: RwSignal<Option<String>>,
    /// The derived column being made, and how far.
    pub deriving: RwSignal<Option<(String, Running)>>,
    /// The last derived column asked for, and whether it was made (or why not).
    pub derive_outcome: RwSignal<Option<(String, Result<(), String>)>>,
    /// The worker crashed and was restarted (or could not be): what happened.
    pub worker_notice: RwSignal<Option<String>>,
    /// What of an opened link's view could not be applied.
    pub link_notices: RwSignal<Vec<String>>,
    /// An opened link was made from this local file: the reader is asked for their copy.
    pub file_wanted: RwSignal<Option<String>>,
    /// An opened link loads its data from another site (this URL): nothing is fetched until the
    /// reader agrees.
    pub url_wanted: RwSignal<Option<String>>,
}

impl AppState {
    /// What the counts count: rows, or the events they stand for when the view weighs them.
    pub fn counted(&self) -> &'static str {
        if self.weight.get_untracked().is_some() {
            "events"
        } else {
            "rows"
        }
    }

    /// Whether `column` is the weight column (how many events a row stands for: never a
    /// feature, a predictor or a target).
    pub fn is_weight(&self, column: &str) -> bool {
        self.weight.with_untracked(|w| w.as_deref() == Some(column))
    }

    pub fn new() -> Self {
        Self {
            tab: RwSignal::new("data"),
            reveal_rows: RwSignal::new(false),
            summary: RwSignal::new(None),
            loading: RwSignal::new(None),
            error: RwSignal::new(None),
            stream_offer: RwSignal::new(false),
            page: RwSignal::new(None),
            filter: RwSignal::new(Filter::default()),
            sort: RwSignal::new(None),
            weight: RwSignal::new(None),
            matched: RwSignal::new(None),
            view_version: RwSignal::new(0),
            column_values: RwSignal::new(None),
            label_params: RwSignal::new(None),
            intent: RwSignal::new(None),
            measure: RwSignal::new(None),
            incidents: RwSignal::new(None),
            type_overrides: RwSignal::new(Vec::new()),
            derived: RwSignal::new(Vec::new()),
            joins: RwSignal::new(Vec::new()),
            join_draft: RwSignal::new(None),
            lookup_wanted: RwSignal::new(None),
            deriving: RwSignal::new(None),
            derive_outcome: RwSignal::new(None),
            worker_notice: RwSignal::new(None),
            link_notices: RwSignal::new(Vec::new()),
            file_wanted: RwSignal::new(None),
            url_wanted: RwSignal::new(None),
        }
    }

    /// The label as the panels read it; guessed from the column names (as the Profile tab
    /// does) when none is chosen yet.
    pub fn chosen_label(self) -> Option<LabelSpec> {
        if self.label_params.get_untracked().is_none() {
            let guessed = self.summary.with_untracked(|s| s.as_ref().and_then(|s| guess_label(&s.columns)));
            self.label_params.set(guessed);
        }
        self.label_params.get_untracked().map(|l| LabelSpec { column: l.label, positive: l.positive })
    }

    /// Adds a clause to the global filter and shows the rows in the Data tab.
    pub fn show_rows(self, clause: Clause) {
        self.add_to_filter([clause]);
        self.tab.set("data");
        // The rows, not the dataset's summary above them (`RowGrid` scrolls once drawn).
        self.reveal_rows.set(true);
    }

    /// Adds clauses to the global filter (the worker re-evaluates the view).
    pub fn add_to_filter(self, clauses: impl IntoIterator<Item = Clause>) {
        self.filter.update(|f| f.clauses.extend(clauses));
        super::client::apply_view(self);
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

/// A first guess at the label, item and reviewer columns (see
/// [`crate::analysis::labels::guess_label`]).
pub fn guess_label(columns: &[ColumnSummary]) -> Option<LabelParams> {
    let columns: Vec<(String, crate::data::table::ColumnType)> = columns.iter().map(|c| (c.name.clone(), c.kind)).collect();
    crate::analysis::labels::guess_label(&columns)
}
