//! The view as a link: everything that defines what is on screen (never row data), written to
//! and read from the URL fragment.
//!
//! Fragment layout (`application/x-www-form-urlencoded` pairs):
//! `demo=ROWS.SEED` | `src=URL` | `file=NAME` (the data), `tab=SLUG`, and `v=` the rest of the
//! view as JSON, raw-deflated and base64url-encoded (a filter with a few hundred values stays a
//! few hundred characters). Reading is tolerant: every part, and every setting inside `v`,
//! decodes on its own; what is damaged or unknown is ignored with a notice and the rest
//! applies. Once the data has loaded, [`reconcile`] drops what names columns the table lacks.

use std::io::{Read, Write};

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::analysis::backtest::RuleSpec;
use crate::analysis::cluster::ClusterParams;
use crate::analysis::labels::LabelParams;
use crate::analysis::regression::RegressionParams;
use crate::analysis::rootcause::RcaParams;
use crate::analysis::tree::TreeParams;
use crate::analysis::series::{Granularity, Metric};
use crate::data::filter::Filter;
use crate::data::sort::SortKey;
use crate::data::table::ColumnType;

/// Longest fragment read; longer links are ignored with a notice (browsers accept them, but no
/// view of ours is that large, so it is damage or an attempt to make the tab work hard).
pub const MAX_FRAGMENT_CHARS: usize = 200_000;
/// Largest inflated `v` part (guards against a deflate bomb).
pub const MAX_STATE_BYTES: usize = 1 << 20;
/// Largest demo dataset a link may ask for (the app's own button makes 100,000 rows).
pub const MAX_DEMO_ROWS: usize = 2_000_000;

/// Where the data of a view comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SourceRef {
    Demo { rows: usize, seed: u64 },
    /// A CSV the browser fetches (same origin or a CORS-enabled host).
    Url { url: String },
    /// A local file, by name only: whoever opens the link is asked for their copy.
    File { name: String },
}

/// The Trends tab's choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrendView {
    pub time: Option<String>,
    /// `MetricKind` slug: count, sum, mean, median, p95, distinct, rate.
    pub metric: String,
    pub column: Option<String>,
    pub rate_value: Option<String>,
    pub granularity: Granularity,
    pub utc_offset_minutes: i32,
    /// An IANA zone, replacing the offset.
    pub time_zone: Option<String>,
    pub split: Option<String>,
    pub top: usize,
    pub multiples: bool,
    pub horizon: usize,
    pub sensitivity: f64,
    pub log_trend: bool,
    pub target: Option<f64>,
}

impl Default for TrendView {
    fn default() -> Self {
        Self {
            time: None,
            metric: "count".into(),
            column: None,
            rate_value: None,
            granularity: Granularity::Auto,
            utc_offset_minutes: 0,
            time_zone: None,
            split: None,
            top: 5,
            multiples: false,
            horizon: 14,
            sensitivity: crate::analysis::trend::TrendParams::default().sensitivity,
            log_trend: false,
            target: None,
        }
    }
}

/// Ranges the Trends controls offer; values outside are clamped on reading.
pub const TREND_TOP: (usize, usize) = (1, 12);
pub const TREND_HORIZON: (usize, usize) = (1, 365);
pub const TREND_SENSITIVITY: (f64, f64) = (1.0, 10.0);
pub const UTC_OFFSET_MINUTES: i32 = 14 * 60;

impl TrendView {
    /// Brings numbers into the ranges the controls offer; says what changed.
    fn clamp(&mut self, notices: &mut Vec<String>) {
        let top = self.top.clamp(TREND_TOP.0, TREND_TOP.1);
        let horizon = self.horizon.clamp(TREND_HORIZON.0, TREND_HORIZON.1);
        let sensitivity = if self.sensitivity.is_finite() { self.sensitivity.clamp(TREND_SENSITIVITY.0, TREND_SENSITIVITY.1) } else { TrendView::default().sensitivity };
        let offset = self.utc_offset_minutes.clamp(-UTC_OFFSET_MINUTES, UTC_OFFSET_MINUTES);
        if (top, horizon, offset) != (self.top, self.horizon, self.utc_offset_minutes) || sensitivity.to_bits() != self.sensitivity.to_bits() {
            notices.push("some trend settings were out of range and were brought back into it".into());
        }
        (self.top, self.horizon, self.sensitivity, self.utc_offset_minutes) = (top, horizon, sensitivity, offset);
        if self.target.is_some_and(|t| !t.is_finite()) {
            self.target = None;
        }
        if let Some(name) = self.time_zone.take() {
            match crate::analysis::series::Zone::new(0, Some(&name)) {
                Ok(_) => self.time_zone = Some(name),
                Err(_) => notices.push(format!("the time zone {name:?} is not known; the UTC offset is used")),
            }
        }
    }
}

/// The Models tab's score column and threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScoreView {
    pub column: Option<String>,
    pub threshold: Option<f64>,
    pub min_precision: f64,
}

impl Default for ScoreView {
    fn default() -> Self {
        Self { column: None, threshold: None, min_precision: 0.9 }
    }
}

/// Everything that defines a view. `source` and `tab` travel as their own readable parts of
/// the fragment; the rest as the `v` part.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ViewState {
    #[serde(skip)]
    pub source: Option<SourceRef>,
    #[serde(skip)]
    pub tab: Option<String>,
    /// Column types chosen by the user, in the order they were chosen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<(String, ColumnType)>,
    #[serde(default, skip_serializing_if = "filter_is_empty")]
    pub filter: Filter,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<SortKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelParams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<TrendView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rca: Option<RcaParams>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterParams>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<ScoreView>,
    /// The decision tree last fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree: Option<TreeParams>,
    /// The regression last fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regression: Option<RegressionParams>,
}

fn filter_is_empty(filter: &Filter) -> bool {
    filter.clauses.is_empty()
}

/// A decoded fragment and what was ignored in it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decoded {
    pub state: ViewState,
    pub notices: Vec<String>,
}

/// The fragment (without `#`) for `state`.
pub fn encode(state: &ViewState) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    match &state.source {
        Some(SourceRef::Demo { rows, seed }) => {
            out.append_pair("demo", &format!("{rows}.{seed}"));
        }
        Some(SourceRef::Url { url }) => {
            out.append_pair("src", url);
        }
        Some(SourceRef::File { name }) => {
            out.append_pair("file", name);
        }
        None => {}
    }
    if let Some(tab) = &state.tab {
        out.append_pair("tab", tab);
    }
    // Serialising these plain structs cannot fail; an empty string would only drop `v`.
    let json = serde_json::to_vec(state).unwrap_or_default();
    if json.len() > 2 {
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        let packed = encoder.write_all(&json).and_then(|()| encoder.finish());
        if let Ok(bytes) = packed {
            out.append_pair("v", &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
        }
    }
    out.finish()
}

/// Reads a fragment (with or without the leading `#`). Never fails: what cannot be read is
/// left out and named in `notices`.
pub fn decode(fragment: &str) -> Decoded {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    let mut decoded = Decoded::default();
    if fragment.len() > MAX_FRAGMENT_CHARS {
        decoded.notices.push(format!("the link's view is {} characters long (at most {MAX_FRAGMENT_CHARS} are read) and was ignored", fragment.len()));
        return decoded;
    }
    for (key, value) in form_urlencoded::parse(fragment.as_bytes()) {
        let source = match key.as_ref() {
            "demo" => match parse_demo(&value) {
                Ok(source) => Some(source),
                Err(message) => {
                    decoded.notices.push(message);
                    None
                }
            },
            "src" if !value.trim().is_empty() => Some(SourceRef::Url { url: value.trim().to_string() }),
            "file" if !value.trim().is_empty() => Some(SourceRef::File { name: value.trim().to_string() }),
            "tab" => {
                decoded.state.tab = Some(value.into_owned());
                None
            }
            "v" => {
                read_settings(&value, &mut decoded);
                None
            }
            "" => None,
            other => {
                decoded.notices.push(format!("ignored the unknown part “{}” of the link", shorten(other)));
                None
            }
        };
        if let Some(source) = source {
            if decoded.state.source.is_some() {
                decoded.notices.push("the link names more than one data source; the first one is used".into());
            } else {
                decoded.state.source = Some(source);
            }
        }
    }
    decoded
}

fn parse_demo(value: &str) -> Result<SourceRef, String> {
    let bad = || format!("ignored the demo size “{}” in the link (expected ROWS.SEED)", shorten(value));
    let (rows, seed) = value.split_once('.').ok_or_else(bad)?;
    let rows: usize = rows.parse().map_err(|_| bad())?;
    let seed: u64 = seed.parse().map_err(|_| bad())?;
    if !(1..=MAX_DEMO_ROWS).contains(&rows) {
        return Err(format!("the link asks for a demo of {rows} rows; the demo makes 1 to {MAX_DEMO_ROWS} rows, so the default size is used"));
    }
    Ok(SourceRef::Demo { rows, seed })
}

fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Unpacks the `v` part into `decoded.state`, setting by setting.
fn read_settings(packed: &str, decoded: &mut Decoded) {
    let damaged = |what: &str| format!("the view settings in the link are damaged ({what}) and were ignored");
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(packed.trim_end_matches('=')) else {
        decoded.notices.push(damaged("not base64url"));
        return;
    };
    let mut json = Vec::new();
    let inflated = flate2::read::DeflateDecoder::new(bytes.as_slice()).take(MAX_STATE_BYTES as u64 + 1).read_to_end(&mut json);
    if inflated.is_err() {
        decoded.notices.push(damaged("not deflate data"));
        return;
    }
    if json.len() > MAX_STATE_BYTES {
        decoded.notices.push(damaged("larger than 1 MB unpacked"));
        return;
    }
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(&json) else {
        decoded.notices.push(damaged("not a JSON object"));
        return;
    };
    let state = &mut decoded.state;
    let notices = &mut decoded.notices;
    state.types = take(&mut map, "types", "column types", notices).unwrap_or_default();
    state.filter = take(&mut map, "filter", "filter", notices).unwrap_or_default();
    state.sort = take(&mut map, "sort", "sort order", notices);
    state.profile_key = take(&mut map, "profile_key", "key column", notices);
    state.label = take(&mut map, "label", "label settings", notices);
    state.trend = take::<TrendView>(&mut map, "trend", "trend settings", notices).map(|mut trend| {
        trend.clamp(notices);
        trend
    });
    state.rca = take(&mut map, "rca", "root-cause windows", notices);
    state.cluster = take(&mut map, "cluster", "clustering settings", notices);
    state.rules = take(&mut map, "rules", "rules", notices).unwrap_or_default();
    state.score = take(&mut map, "score", "score settings", notices);
    state.tree = take(&mut map, "tree", "decision tree settings", notices);
    state.regression = take(&mut map, "regression", "regression settings", notices);
    for key in map.keys() {
        notices.push(format!("ignored the unknown setting “{}” in the link", shorten(key)));
    }
}

/// Removes `key` from `map` and reads it as `T`; a value of the wrong shape is a notice.
fn take<T: DeserializeOwned>(map: &mut Map<String, Value>, key: &str, what: &str, notices: &mut Vec<String>) -> Option<T> {
    let value = map.remove(key)?;
    match serde_json::from_value(value) {
        Ok(parsed) => Some(parsed),
        Err(err) => {
            notices.push(format!("ignored the {what} in the link: {err}"));
            None
        }
    }
}

/// Drops from `state` what does not fit the loaded table's columns (`(name, type)` as loaded);
/// returns what was dropped, for the notice.
pub fn reconcile(state: &mut ViewState, columns: &[(String, ColumnType)]) -> Vec<String> {
    let has = |name: &str| columns.iter().any(|(n, _)| n == name);
    let mut notices = Vec::new();
    let missing = |what: &str, column: &str| format!("ignored the {what}: the data has no column “{}”", shorten(column));

    state.types.retain(|(column, _)| has(column) || {
        notices.push(missing("type change", column));
        false
    });
    state.filter.clauses.retain(|clause| {
        let column = clause.column();
        column.is_empty() || has(column) || {
            notices.push(missing("filter condition", column));
            false
        }
    });
    if let Some(sort) = state.sort.take_if(|s| !has(&s.column)) {
        notices.push(missing("sort order", &sort.column));
    }
    if let Some(key) = state.profile_key.take_if(|k| !has(k)) {
        notices.push(missing("key column", &key));
    }
    if let Some(label) = state.label.take_if(|l| !has(&l.label)) {
        notices.push(missing("label settings", &label.label));
    }
    if let Some(label) = state.label.as_mut() {
        for slot in [&mut label.item, &mut label.reviewer, &mut label.time] {
            if let Some(column) = slot.take_if(|c| !has(c)) {
                notices.push(missing("label companion column", &column));
            }
        }
    }
    if let Some(trend) = state.trend.as_mut() {
        for slot in [&mut trend.time, &mut trend.column, &mut trend.split] {
            if let Some(column) = slot.take_if(|c| !has(c)) {
                notices.push(missing("trend setting", &column));
            }
        }
    }
    if let Some(rca) = state.rca.as_ref() {
        let mut named = vec![rca.time_column.clone()];
        named.extend(metric_column(&rca.metric));
        if let Some(column) = named.into_iter().find(|c| !has(c)) {
            notices.push(missing("root-cause windows", &column));
            state.rca = None;
        }
    }
    if let Some(dimensions) = state.rca.as_mut().and_then(|r| r.dimensions.as_mut()) {
        dimensions.retain(|column| has(column) || {
            notices.push(missing("root-cause dimension", column));
            false
        });
    }
    if let Some(cluster) = state.cluster.as_ref() {
        let mut named: Vec<&str> = cluster.features.iter().map(|f| f.column.as_str()).collect();
        named.extend(cluster.entity.as_deref());
        named.extend(cluster.label.as_ref().map(|l| l.column.as_str()));
        if let Some(column) = named.into_iter().find(|c| !has(c)) {
            notices.push(missing("clustering settings", column));
            state.cluster = None;
        }
    }
    if let Some(column) = state.score.as_mut().and_then(|s| s.column.take_if(|c| !has(c))) {
        notices.push(missing("score column", &column));
    }
    let absent_in_tree = state.tree.as_ref().and_then(|tree| tree.features.iter().map(|f| f.column.as_str()).chain([tree.label.column.as_str()]).find(|c| !has(c)).map(str::to_string));
    if let Some(column) = absent_in_tree {
        notices.push(missing("decision tree settings", &column));
        state.tree = None;
    }
    let absent_in_regression = state.regression.as_ref().and_then(|r| {
        r.predictors.iter().map(String::as_str).chain(r.target.as_deref()).chain(r.label.as_ref().map(|l| l.column.as_str())).find(|c| !has(c)).map(str::to_string)
    });
    if let Some(column) = absent_in_regression {
        notices.push(missing("regression settings", &column));
        state.regression = None;
    }
    notices
}

fn metric_column(metric: &Metric) -> Option<String> {
    match metric {
        Metric::Count => None,
        Metric::Sum { column } | Metric::Mean { column } | Metric::Median { column } | Metric::P95 { column } | Metric::Distinct { column } => Some(column.clone()),
        Metric::Rate { condition } => Some(condition.column().to_string()).filter(|c| !c.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cluster::FeatureSpec;
    use crate::analysis::rootcause::Window;
    use crate::data::filter::Clause;

    fn full() -> ViewState {
        ViewState {
            source: Some(SourceRef::Demo { rows: 5000, seed: 7 }),
            tab: Some("trends".into()),
            types: vec![("risk_score".into(), ColumnType::Category)],
            filter: Filter {
                clauses: vec![
                    Clause::InSet { column: "country".into(), values: vec!["BR".into(), "a & b = c".into()], negate: false },
                    Clause::Rule { name: "r".into(), text: "prior_strikes >= 2".into(), negate: true },
                ],
            },
            sort: Some(SortKey { column: "created_at".into(), descending: true }),
            profile_key: Some("report_id".into()),
            label: None,
            trend: Some(TrendView { time: Some("created_at".into()), metric: "rate".into(), column: Some("reason".into()), rate_value: Some("scam".into()), target: Some(0.2), ..TrendView::default() }),
            rca: Some(RcaParams {
                time_column: "created_at".into(),
                metric: Metric::Count,
                baseline: Window { start_ms: 0, end_ms: 10 },
                incident: Window { start_ms: 10, end_ms: 20 },
                dimensions: Some(vec!["country".into(), "gone".into()]),
                max_depth: 2,
                explain_share: 0.8,
            }),
            cluster: Some(ClusterParams { features: vec![FeatureSpec { column: "risk_score".into(), encoding: crate::analysis::cluster::Encoding::Numeric }], ..ClusterParams::default() }),
            rules: vec![RuleSpec { name: "new & risky".into(), text: "account_age_days < 7 and `risk score` >= 0.9".into() }],
            score: Some(ScoreView { column: Some("risk_score".into()), threshold: Some(0.7), min_precision: 0.8 }),
            tree: Some(TreeParams {
                features: vec![FeatureSpec { column: "account_age_days".into(), encoding: crate::analysis::cluster::Encoding::Numeric }],
                label: crate::analysis::labels::LabelSpec { column: "decision".into(), positive: vec!["removed".into()] },
                max_depth: 4,
                min_leaf: 50,
                test_share: 0.3,
                seed: 7,
                precision_target: 0.85,
            }),
            regression: Some(RegressionParams {
                kind: crate::analysis::regression::RegressionKind::Linear,
                target: Some("risk_score".into()),
                label: None,
                predictors: vec!["account_age_days".into()],
            }),
        }
    }

    #[test]
    fn round_trip_keeps_everything() {
        let state = full();
        let fragment = encode(&state);
        assert!(fragment.starts_with("demo=5000.7&tab=trends&v="), "{fragment}");
        let decoded = decode(&format!("#{fragment}"));
        assert!(decoded.notices.is_empty(), "{:?}", decoded.notices);
        assert_eq!(decoded.state, state);
    }

    #[test]
    fn source_and_tab_stay_readable() {
        let state = ViewState { source: Some(SourceRef::Url { url: "https://example.org/a b.csv?x=1&y=2".into() }), tab: Some("data".into()), ..ViewState::default() };
        let fragment = encode(&state);
        assert_eq!(fragment, "src=https%3A%2F%2Fexample.org%2Fa+b.csv%3Fx%3D1%26y%3D2&tab=data");
        assert_eq!(decode(&fragment).state, state);
        // Typed by hand, unencoded.
        let typed = decode("#src=https://example.org/export.csv.gz");
        assert_eq!(typed.state.source, Some(SourceRef::Url { url: "https://example.org/export.csv.gz".into() }));
        assert!(typed.notices.is_empty());
        let file = decode(&encode(&ViewState { source: Some(SourceRef::File { name: "reports (1).csv".into() }), ..ViewState::default() }));
        assert_eq!(file.state.source, Some(SourceRef::File { name: "reports (1).csv".into() }));
    }

    #[test]
    fn an_empty_view_is_an_empty_fragment() {
        assert_eq!(encode(&ViewState::default()), "");
        assert_eq!(decode(""), Decoded::default());
        assert_eq!(decode("#"), Decoded::default());
    }

    #[test]
    fn damaged_parts_are_ignored_with_a_notice() {
        let fragment = encode(&full());
        let (head, packed) = fragment.split_once("&v=").unwrap_or_default();
        // Truncated compressed data: the source and tab survive, the settings are named.
        let cut = decode(&format!("{head}&v={}", &packed[..packed.len() / 2]));
        assert_eq!(cut.state.source, Some(SourceRef::Demo { rows: 5000, seed: 7 }));
        assert_eq!(cut.state.tab.as_deref(), Some("trends"));
        assert_eq!(cut.state.filter, Filter::default());
        assert_eq!(cut.notices.len(), 1, "{:?}", cut.notices);
        assert!(cut.notices[0].contains("damaged"), "{:?}", cut.notices);
        for bad in ["v=!!!", "v=", "v=AAAA", "demo=abc", "demo=0.1", "demo=99999999999.1", "demo=5.x", "zzz=1", "v=%FF%FE"] {
            let decoded = decode(bad);
            assert_eq!(decoded.notices.len(), 1, "{bad}: {:?}", decoded.notices);
            assert_eq!(decoded.state, ViewState::default(), "{bad}");
        }
    }

    fn pack(json: &str) -> String {
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(json.as_bytes()).unwrap_or_default();
        format!("v={}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(encoder.finish().unwrap_or_default()))
    }

    #[test]
    fn each_setting_is_read_on_its_own() {
        let decoded = decode(&pack(r#"{"sort": {"column": 3}, "profile_key": "id", "trend": {"top": 1000, "sensitivity": 3.5, "metric": "sum"}, "x": 1, "rules": "nope"}"#));
        assert_eq!(decoded.state.profile_key.as_deref(), Some("id"));
        assert_eq!(decoded.state.sort, None);
        let trend = decoded.state.trend.clone().unwrap_or_default();
        assert_eq!((trend.top, trend.sensitivity, trend.metric.as_str(), trend.horizon), (TREND_TOP.1, 3.5, "sum", 14));
        assert_eq!(decoded.notices.len(), 4, "{:?}", decoded.notices);
        assert!(decoded.notices.iter().any(|n| n.contains("sort order")));
        assert!(decoded.notices.iter().any(|n| n.contains("out of range")));
        assert!(decoded.notices.iter().any(|n| n.contains("“x”")));
        assert!(decoded.notices.iter().any(|n| n.contains("rules")));
    }

    #[test]
    fn a_deflate_bomb_is_refused() {
        let huge = format!("{{\"profile_key\": \"{}\"}}", "a".repeat(MAX_STATE_BYTES + 10));
        let decoded = decode(&pack(&huge));
        assert_eq!(decoded.state, ViewState::default());
        assert!(decoded.notices[0].contains("larger than 1 MB"), "{:?}", decoded.notices);
        let long = decode(&"a".repeat(MAX_FRAGMENT_CHARS + 1));
        assert!(long.notices[0].contains("was ignored"));
    }

    #[test]
    fn reconcile_drops_what_names_missing_columns() {
        let mut state = full();
        let columns: Vec<(String, ColumnType)> = ["created_at", "reason", "account_age_days"].iter().map(|c| (c.to_string(), ColumnType::Category)).collect();
        let notices = reconcile(&mut state, &columns);
        assert!(state.types.is_empty());
        // The rule clause stays (its columns are checked when it is compiled).
        assert_eq!(state.filter.clauses.len(), 1);
        assert_eq!(state.sort, Some(SortKey { column: "created_at".into(), descending: true }));
        assert_eq!(state.profile_key, None);
        assert_eq!(state.trend.as_ref().and_then(|t| t.column.clone()).as_deref(), Some("reason"));
        assert_eq!(state.rca.as_ref().and_then(|r| r.dimensions.clone()), Some(vec![]));
        assert_eq!(state.cluster, None);
        assert_eq!(state.score.as_ref().and_then(|s| s.column.clone()), None);
        assert_eq!(state.rules.len(), 1);
        for needle in ["type change", "filter condition", "key column", "root-cause dimension", "clustering settings", "score column", "decision tree settings", "regression settings"] {
            assert!(notices.iter().any(|n| n.contains(needle)), "{needle}: {notices:?}");
        }
        assert_eq!(notices.len(), 9, "{notices:?}");
        assert_eq!((state.tree.clone(), state.regression.clone()), (None, None));
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(text in "\\PC{0,300}") {
            let _ = decode(&text);
        }

        #[test]
        fn round_trip_of_names(name in "\\PC{1,40}", value in "\\PC{0,40}") {
            let state = ViewState {
                source: Some(SourceRef::File { name: name.trim().to_string() }).filter(|_| !name.trim().is_empty()),
                filter: Filter { clauses: vec![Clause::Contains { column: name.clone(), text: value.clone() }] },
                ..ViewState::default()
            };
            proptest::prop_assert_eq!(decode(&encode(&state)).state, state);
        }
    }
}
