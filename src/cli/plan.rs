//! A view (from a link) applied to a loaded table: column types, the filter, and the analyses
//! the view's tabs set up, read from the same settings and with the same defaults as the tabs.

use std::path::Path;

use serde_json::{Map, Value};

use crate::analysis::backtest::{BacktestParams, RuleSpec, ScoreParams, ScoreSettings};
use crate::analysis::cluster::ClusterParams;
use crate::analysis::contract::{complete, has_column, missing_column, FitColumns, Unobserved};
use crate::analysis::groups::{derive, fit_derived};
use crate::analysis::labels::{guess_label, LabelParams, LabelSpec};
use crate::analysis::profile::ProfileParams;
use crate::analysis::registry::{from_view, AnyParams};
use crate::analysis::regression::RegressionParams;
use crate::analysis::rootcause::RcaParams;
use crate::analysis::tree::TreeParams;
use crate::analysis::trend::{default_time_column, TrendSettings};
use crate::data::builder::retype_column;
use crate::data::filter::evaluate_filter;
use crate::data::table::{ColumnType, Table};
use crate::viewstate::{decode, reconcile, take_setting, Decoded, SourceRef, ViewState};

/// Reads `--view`: a link copied from the app, its `#…` fragment, the fragment without `#`, or
/// a file holding any of these.
pub fn read_view(arg: &str) -> Result<Decoded, String> {
    let path = Path::new(arg);
    // A file first (its path may hold `=`); then every part of a view is `key=value`: an
    // argument with neither `#` nor `=` can only be a file (a mistyped path, or an empty
    // argument from an unset variable, must not run a scheduled detection with no view).
    let text = if path.is_file() {
        std::fs::read_to_string(path).map_err(|err| format!("cannot read the view file {arg}: {err}"))?
    } else if arg.trim().is_empty() {
        return Err("the view is empty: give the app's link, its #… part, or a file holding it".into());
    } else if arg.contains('#') || arg.contains('=') {
        arg.to_string()
    } else if path.is_dir() {
        return Err(format!("the view {arg} is a folder: give the file holding the link, or the link itself"));
    } else {
        std::fs::read_to_string(path).map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => format!("the view {arg} is neither a file nor a link (a link is the app's Share → Copy link, or its #… part)"),
            _ => format!("cannot read the view file {arg}: {err}"),
        })?
    };
    let text = text.trim();
    let fragment = match text.split_once('#') {
        Some((_, fragment)) => fragment,
        None if text.contains("://") => return Err(format!("the link {} has no view (nothing after #)", crate::analysis::contract::shorten(text))),
        None => text,
    };
    Ok(decode(fragment))
}

/// File names for a sentence: "“a.csv”", "“a.csv” and “b.csv”", "“a.csv”, “b.csv” and “c.csv”".
fn list_names(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("“{n}”")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// What the link says about its data, against the data given on the command line.
pub fn source_notice(view: &ViewState, data: &str) -> Option<String> {
    let given = Path::new(data).file_name().and_then(|n| n.to_str()).unwrap_or(data);
    match &view.source {
        Some(SourceRef::File { name }) if name != given => Some(format!("the link was made on the file “{name}”; it is applied to {data}")),
        Some(SourceRef::Files { names }) => Some(format!("the link was made on the files {}; it is applied to {data}", list_names(names))),
        Some(SourceRef::Demo { .. }) => Some(format!("the link was made on the demo data; it is applied to {data}")),
        Some(SourceRef::Url { url }) => Some(format!("the link loads {url}; it is applied to {data} instead (vigil reads no network)")),
        _ => None,
    }
}

/// Column names and types as loaded.
pub fn columns(table: &Table) -> Vec<(String, ColumnType)> {
    table.columns.iter().map(|c| (c.name.clone(), c.kind)).collect()
}

/// Applies the view's column types and filter to `table`: what the worker does when a link
/// opens. A cube (see [`crate::warehouse`]) is checked, and its finest rows and events become
/// the view's filter and weight. Returns the rows passing the filter and the cube's measures
/// (columns that aggregate events; none for raw data); what does not fit is a notice; a cube
/// that is not sound is an error.
pub fn apply(table: &mut Table, view: &mut ViewState, notices: &mut Vec<String>) -> Result<(Vec<u32>, Vec<String>), String> {
    // Derived columns first: the filter and the settings may name them.
    let mut named = columns(table);
    view.derived = fit_derived(std::mem::take(&mut view.derived), &mut named, notices);
    notices.extend(reconcile(view, &named));
    for (name, kind) in &view.types {
        if let Some(column) = table.columns.iter_mut().find(|c| &c.name == name) {
            *column = retype_column(column, *kind);
        }
    }
    let mut measures = Vec::new();
    if let Some(cube) = crate::warehouse::recognise(table).map_err(|e| e.to_string())? {
        notices.push(cube.notice);
        measures = cube.measures;
        if !view.filter.clauses.contains(&cube.finest) {
            view.filter.clauses.push(cube.finest);
        }
        view.weight.get_or_insert(cube.weight);
        // Periods are the cube's wall-clock buckets: the trend reads them in UTC.
        if let Some(Value::Object(trend)) = view.settings.get_mut("trend") {
            trend.insert("utc_offset_minutes".into(), Value::from(0));
            trend.insert("time_zone".into(), Value::Null);
            if trend.get("time").and_then(Value::as_str).is_some_and(|t| table.column(t).is_none()) {
                trend.insert("time".into(), Value::from(cube.time.clone()));
            }
        }
    }
    let mut made: Vec<String> = Vec::new();
    for spec in &view.derived {
        match complete(derive(table, spec, &made, &measures, &mut Unobserved)) {
            Some(Ok((column, _))) => {
                table.put_column(column);
                made.push(spec.column.clone());
            }
            Some(Err(err)) => notices.push(format!("the derived column “{}” was not made: {err}", spec.column)),
            None => {}
        }
    }
    let rows = match evaluate_filter(table, &view.filter) {
        Ok(rows) => rows,
        Err(err) => {
            notices.push(format!("the filter was removed: {err}"));
            view.filter = Default::default();
            (0..table.n_rows as u32).collect()
        }
    };
    Ok((rows, measures))
}

/// The analyses a view sets up.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub profile: ProfileParams,
    pub labels: Option<LabelParams>,
    pub trend: Option<TrendSettings>,
    pub rca: Option<RcaParams>,
    pub cluster: Option<ClusterParams>,
    pub backtest: Option<BacktestParams>,
    pub scores: Option<ScoreParams>,
    pub tree: Option<TreeParams>,
    pub regression: Option<RegressionParams>,
    /// The analyses whose parameters the link carries as they are (`registry::from_view`).
    pub linked: Vec<AnyParams>,
}

impl Plan {
    /// Reads each tab's settings from the view (`settings`, its panels' part) as the tab does:
    /// a setting that does not fit the table is a notice and left out. Without settings (no
    /// view): the profile, the label checks when a label column can be guessed, and the trend
    /// of row counts over the time column the Trends tab starts with.
    pub fn of(mut settings: Map<String, Value>, columns: &[(String, ColumnType)], now_ms: i64, notices: &mut Vec<String>) -> Self {
        let key: Option<String> = take_setting(&mut settings, "profile_key", "key column", notices);
        let key = key.filter(|k| {
            has_column(columns, k) || {
                notices.push(missing_column("key column", k));
                false
            }
        });
        let profile = ProfileParams { now_ms: Some(now_ms), key, ..ProfileParams::default() };
        // The Profile tab guesses a label on its first visit; every tab asking for a label
        // uses that choice.
        let labels = take_setting::<LabelParams>(&mut settings, "label", "label settings", notices)
            .and_then(|l| l.fit_columns(columns, notices))
            .or_else(|| guess_label(columns))
            .map(|l| LabelParams { now_ms: Some(now_ms), ..l });
        let label = labels.as_ref().map(|l| LabelSpec { column: l.label.clone(), positive: l.positive.clone() });

        let mut trend = take_setting::<TrendSettings>(&mut settings, "trend", "trend settings", notices).and_then(|t| t.fit_columns(columns, notices)).unwrap_or_default();
        if trend.time.is_none() {
            trend.time = default_time_column(columns.iter().map(|(n, k)| (n.as_str(), *k)));
        }
        let rca = take_setting::<RcaParams>(&mut settings, "rca", "root-cause windows", notices).and_then(|p| p.fit_columns(columns, notices));
        let cluster = take_setting::<ClusterParams>(&mut settings, "cluster", "clustering settings", notices).and_then(|p| p.fit_columns(columns, notices));
        let rules: Vec<RuleSpec> = take_setting::<Vec<RuleSpec>>(&mut settings, "rules", "rules", notices).unwrap_or_default().into_iter().filter(|r| !r.text.trim().is_empty()).collect();
        let score = take_setting::<ScoreSettings>(&mut settings, "score", "score settings", notices).and_then(|s| s.fit_columns(columns, notices));
        let needs_label = |what: &str, notices: &mut Vec<String>| notices.push(format!("the view's {what} need a label column, and none is set or recognised: choose one in the Profile tab"));
        let backtest = match (rules.is_empty(), &label) {
            (true, _) => None,
            (false, Some(label)) => Some(BacktestParams { rules, label: label.clone(), time_column: None }),
            (false, None) => {
                needs_label("rules", notices);
                None
            }
        };
        let scores = match (score, &label) {
            (Some(score), Some(label)) => score.params(label.clone()),
            (Some(score), None) if score.column.is_some() => {
                needs_label("score curves", notices);
                None
            }
            _ => None,
        };
        Plan {
            profile,
            labels,
            trend: trend.job(),
            rca,
            cluster,
            backtest,
            scores,
            tree: take_setting::<TreeParams>(&mut settings, "tree", "decision tree settings", notices).and_then(|t| t.fit_columns(columns, notices)),
            regression: take_setting::<RegressionParams>(&mut settings, "regression", "regression settings", notices).and_then(|r| r.fit_columns(columns, notices)),
            linked: from_view(&mut settings, columns, notices),
        }
    }

    /// The analyses to run, in the registry's order.
    pub fn analyses(&self) -> Vec<AnyParams> {
        let mut out = vec![AnyParams::Profile(self.profile.clone())];
        out.extend(self.labels.clone().map(AnyParams::Labels));
        out.extend(self.trend.clone().map(AnyParams::Trend));
        out.extend(self.rca.clone().map(AnyParams::RootCause));
        out.extend(self.cluster.clone().map(AnyParams::Cluster));
        out.extend(self.backtest.clone().map(AnyParams::Backtest));
        out.extend(self.scores.clone().map(AnyParams::Scores));
        out.extend(self.tree.clone().map(AnyParams::Tree));
        out.extend(self.regression.clone().map(AnyParams::Regression));
        out.extend(self.linked.iter().cloned());
        out
    }
}
