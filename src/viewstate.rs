//! The view as a link: everything that defines what is on screen (never row data), written to
//! and read from the URL fragment.
//!
//! Fragment layout (`application/x-www-form-urlencoded` pairs):
//! `demo=ROWS.SEED` | `src=URL` | `file=NAME` (the data), `tab=SLUG`, and `v=` the rest of the
//! view as JSON, raw-deflated and base64url-encoded (a filter with a few hundred values stays a
//! few hundred characters). Reading is tolerant: every part, and every setting inside `v`,
//! decodes on its own; what is damaged or unknown is ignored with a notice and the rest
//! applies. Once the data has loaded, [`reconcile`] drops what names columns the table lacks.
//!
//! The data source, tab, column types, joined and derived columns, filter and sort are the
//! view's own; everything else is a panel's settings, kept here by key ("trend", "rca", …) as the panel wrote
//! them and read back by that panel ([`take_setting`], then the settings' own `fit_columns`).
//! Links made before the panels owned their keys have the same shape and still open.

use std::io::{Read, Write};

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::analysis::contract::shorten;
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
/// Most filter conditions read from a link (the filter bar shows each as a chip; a view built
/// by hand has a handful, and a list of values is one condition).
pub const MAX_LINK_CLAUSES: usize = 200;
/// File names written out in full where a link asks for its files; the rest are counted.
const NAMES_SHOWN: usize = 5;

/// Where the data of a view comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SourceRef {
    Demo { rows: usize, seed: u64 },
    /// A CSV the browser fetches (same origin or a CORS-enabled host).
    Url { url: String },
    /// A local file, by name only: whoever opens the link is asked for their copy.
    File { name: String },
    /// Several local files appended into one table, by name, in order (a `file` part each).
    Files { names: Vec<String> },
}

/// Columns added from a second file: by its name only (whoever opens the link is asked for
/// their copy, as for a `file=` source), with the keys and the choice for repeated keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRef {
    pub file: String,
    pub spec: crate::data::join::JoinSpec,
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
    #[serde(default, skip_serializing_if = "Filter::is_empty")]
    pub filter: Filter,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<SortKey>,
    /// The column saying how many events each row stands for (a cube's `events`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
    /// The sheet read, when the data is an Excel workbook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Columns added from other files, in the order added (before the derived columns: every
    /// later part may name their columns).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joins: Vec<JoinRef>,
    /// Columns derived from an analysis's groups, in the order made (later parts may name them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived: Vec<crate::analysis::groups::DerivedColumn>,
    /// The data is streamed into a cube (see [`crate::warehouse::stream`]), not loaded whole.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub streamed: bool,
    /// Each panel's settings by key, as the panel wrote them.
    #[serde(flatten)]
    pub settings: Map<String, Value>,
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
        Some(SourceRef::Files { names }) => {
            for name in names {
                out.append_pair("file", name);
            }
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
            // Several `file` parts: the files appended into one table, in order.
            "file" if !value.trim().is_empty() => match &mut decoded.state.source {
                Some(SourceRef::File { name }) => {
                    decoded.state.source = Some(SourceRef::Files { names: vec![std::mem::take(name), value.trim().to_string()] });
                    None
                }
                Some(SourceRef::Files { names }) => {
                    names.push(value.trim().to_string());
                    None
                }
                _ => Some(SourceRef::File { name: value.trim().to_string() }),
            },
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

/// The files a link names, as the request for them says it: every name up to a few, then the
/// first few and how many more ("a.csv, b.csv, … and 4,995 more files").
pub fn describe_files(names: &[String]) -> String {
    match names.len().checked_sub(NAMES_SHOWN) {
        Some(more @ 1..) => format!(
            "{} and {} more {}",
            names.get(..NAMES_SHOWN).unwrap_or_default().join(", "),
            crate::format::format_count(more as u64),
            if more == 1 { "file" } else { "files" }
        ),
        _ => names.join(", "),
    }
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
    if state.filter.clauses.len() > MAX_LINK_CLAUSES {
        notices.push(format!(
            "the link's filter has {} conditions; the first {MAX_LINK_CLAUSES} are used",
            crate::format::format_count(state.filter.clauses.len() as u64)
        ));
        state.filter.clauses.truncate(MAX_LINK_CLAUSES);
    }
    state.sort = take(&mut map, "sort", "sort order", notices);
    state.weight = take(&mut map, "weight", "weight column", notices);
    state.sheet = take(&mut map, "sheet", "sheet", notices);
    state.streamed = take(&mut map, "streamed", "streamed file", notices).unwrap_or_default();
    state.joins = take(&mut map, "joins", "columns from other files", notices).unwrap_or_default();
    state.derived = take(&mut map, "derived", "derived columns", notices).unwrap_or_default();
    state.settings = map;
}

/// A panel's setting `key`, read as `T` and removed from the view's settings; a value of the wrong
/// shape is a notice naming `what` and ignored.
pub fn take_setting<T: DeserializeOwned>(settings: &mut Map<String, Value>, key: &str, what: &str, notices: &mut Vec<String>) -> Option<T> {
    take(settings, key, what, notices)
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

/// Drops from the view's own parts (types, filter, sort) what does not fit the loaded table's
/// columns (`(name, type)` as loaded); returns what was dropped, for the notice. Each panel fits
/// its own settings.
pub fn reconcile(state: &mut ViewState, columns: &[(String, ColumnType)]) -> Vec<String> {
    let has = |name: &str| columns.iter().any(|(n, _)| n == name);
    let mut notices = Vec::new();
    let missing = crate::analysis::contract::missing_column;

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
    if let Some(weight) = state.weight.take_if(|w| !has(w)) {
        notices.push(missing("weight column", &weight));
    }
    notices
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::backtest::{RuleSpec, ScoreSettings};
    use crate::analysis::cluster::{ClusterParams, FeatureSpec};
    use crate::analysis::contract::FitColumns;
    use crate::analysis::groups::{DerivedColumn, Grouping};
    use crate::analysis::rings::RingsParams;
    use crate::analysis::regression::RegressionParams;
    use crate::analysis::rootcause::{RcaParams, Window};
    use crate::analysis::series::{Metric, MetricKind};
    use crate::analysis::tree::TreeParams;
    use crate::analysis::trend::TrendSettings;
    use crate::data::filter::Clause;
    use crate::data::join::{JoinSpec, Repeated};

    fn trend() -> TrendSettings {
        TrendSettings { time: Some("created_at".into()), metric: MetricKind::Rate, column: Some("reason".into()), rate_value: Some("scam".into()), target: Some(0.2), ..TrendSettings::default() }
    }

    fn rca() -> RcaParams {
        RcaParams {
            time_column: "created_at".into(),
            metric: Metric::Count,
            baseline: Window { start_ms: 0, end_ms: 10 },
            incident: Window { start_ms: 10, end_ms: 20 },
            dimensions: Some(vec!["country".into(), "gone".into()]),
            max_depth: 2,
            explain_share: 0.8,
        }
    }

    fn cluster() -> ClusterParams {
        ClusterParams { features: vec![FeatureSpec { column: "risk_score".into(), encoding: crate::analysis::cluster::Encoding::Numeric }], ..ClusterParams::default() }
    }

    fn rules() -> Vec<RuleSpec> {
        vec![RuleSpec { name: "new & risky".into(), text: "account_age_days < 7 and `risk score` >= 0.9".into() }]
    }

    fn score() -> ScoreSettings {
        ScoreSettings { column: Some("risk_score".into()), threshold: Some(0.7), min_precision: 0.8 }
    }

    fn tree() -> TreeParams {
        TreeParams {
            features: vec![FeatureSpec { column: "account_age_days".into(), encoding: crate::analysis::cluster::Encoding::Numeric }],
            label: crate::analysis::labels::LabelSpec { column: "decision".into(), positive: vec!["removed".into()] },
            max_depth: 4,
            min_leaf: 50,
            test_share: 0.3,
            seed: 7,
            precision_target: 0.85,
        }
    }

    fn regression() -> RegressionParams {
        RegressionParams { kind: crate::analysis::regression::RegressionKind::Linear, target: Some("risk_score".into()), label: None, predictors: vec!["account_age_days".into()] }
    }

    fn put<T: Serialize>(settings: &mut Map<String, Value>, key: &str, value: &T) {
        settings.insert(key.into(), serde_json::to_value(value).unwrap_or_default());
    }

    fn full() -> ViewState {
        let mut settings = Map::new();
        put(&mut settings, "profile_key", &"report_id");
        put(&mut settings, "trend", &trend());
        put(&mut settings, "rca", &rca());
        put(&mut settings, "cluster", &cluster());
        put(&mut settings, "rules", &rules());
        put(&mut settings, "score", &score());
        put(&mut settings, "tree", &tree());
        put(&mut settings, "regression", &regression());
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
            weight: Some("prior_strikes".into()),
            sheet: Some("Reports".into()),
            joins: vec![JoinRef { file: "accounts.csv".into(), spec: JoinSpec { key: "reported_account_id".into(), lookup_key: "account_id".into(), repeated: Repeated::First } }],
            derived: vec![DerivedColumn {
                column: "ring".into(),
                from: Grouping::Rings(RingsParams::of("account_id", &["device_id", "ip_address"])),
                filter: Filter { clauses: vec![Clause::InSet { column: "country".into(), values: vec!["BR".into()], negate: false }] },
                weight: None,
            }],
            streamed: true,
            settings,
        }
    }

    /// Every panel's setting, as the panels read them.
    type AllSettings = (Option<String>, Option<TrendSettings>, Option<RcaParams>, Option<ClusterParams>, Option<Vec<RuleSpec>>, Option<ScoreSettings>, Option<TreeParams>, Option<RegressionParams>);

    /// Reads every panel's setting back the way the panels do; asserts nothing was left over.
    fn read_all(mut settings: Map<String, Value>, notices: &mut Vec<String>) -> AllSettings {
        let all = (
            take_setting(&mut settings, "profile_key", "key column", notices),
            take_setting(&mut settings, "trend", "trend settings", notices),
            take_setting(&mut settings, "rca", "root-cause windows", notices),
            take_setting(&mut settings, "cluster", "clustering settings", notices),
            take_setting(&mut settings, "rules", "rules", notices),
            take_setting(&mut settings, "score", "score settings", notices),
            take_setting(&mut settings, "tree", "decision tree settings", notices),
            take_setting(&mut settings, "regression", "regression settings", notices),
        );
        assert!(settings.is_empty(), "{settings:?}");
        all
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

    /// A link the app wrote before the panels owned their settings (2026-11-25, the same view as
    /// [`full`]) opens with every setting, in the types the panels read now.
    #[test]
    fn links_made_before_open_with_every_setting() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/links/full-view-2026-11-25.txt");
        let fragment = std::fs::read_to_string(path).unwrap_or_default();
        let decoded = decode(fragment.trim());
        assert!(decoded.notices.is_empty(), "{:?}", decoded.notices);
        let want = full();
        assert_eq!((&decoded.state.source, &decoded.state.tab, &decoded.state.types, &decoded.state.filter, &decoded.state.sort), (&want.source, &want.tab, &want.types, &want.filter, &want.sort));
        let mut notices = Vec::new();
        let got = read_all(decoded.state.settings, &mut notices);
        assert!(notices.is_empty(), "{notices:?}");
        assert_eq!(got, (Some("report_id".into()), Some(trend()), Some(rca()), Some(cluster()), Some(rules()), Some(score()), Some(tree()), Some(regression())));
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
        let names: Vec<String> = ["mon.csv", "tue & wed.csv", "thu.jsonl"].map(String::from).to_vec();
        let files = decode(&encode(&ViewState { source: Some(SourceRef::Files { names: names.clone() }), ..ViewState::default() }));
        assert_eq!(files.state.source, Some(SourceRef::Files { names }));
        assert!(files.notices.is_empty(), "{:?}", files.notices);
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
        assert_eq!(decoded.state.sort, None);
        assert_eq!(decoded.notices.len(), 1, "{:?}", decoded.notices);
        assert!(decoded.notices.iter().any(|n| n.contains("sort order")));
        let mut settings = decoded.state.settings;
        let mut notices = Vec::new();
        let key: Option<String> = take_setting(&mut settings, "profile_key", "key column", &mut notices);
        assert_eq!(key.as_deref(), Some("id"));
        let trend: TrendSettings = take_setting::<TrendSettings>(&mut settings, "trend", "trend settings", &mut notices).and_then(|t| t.fit_columns(&[], &mut notices)).unwrap_or_default();
        assert_eq!((trend.top, trend.sensitivity, trend.metric, trend.horizon), (crate::analysis::trend::TREND_TOP.1, 3.5, MetricKind::Sum, 14));
        assert_eq!(take_setting::<Vec<RuleSpec>>(&mut settings, "rules", "rules", &mut notices), None);
        assert!(notices.iter().any(|n| n.contains("out of range")), "{notices:?}");
        assert!(notices.iter().any(|n| n.contains("rules")), "{notices:?}");
        // What no panel took is left for the notice of unknown settings.
        assert_eq!(settings.keys().collect::<Vec<_>>(), ["x"]);
    }

    #[test]
    fn a_link_with_thousands_of_conditions_or_files_is_cut_short() {
        let clauses: Vec<String> = (0..3000).map(|i| format!(r#"{{"op": "contains", "column": "c", "text": "{i}"}}"#)).collect();
        let decoded = decode(&pack(&format!(r#"{{"filter": {{"clauses": [{}]}}}}"#, clauses.join(","))));
        assert_eq!(decoded.state.filter.clauses.len(), MAX_LINK_CLAUSES);
        assert_eq!(decoded.notices, ["the link's filter has 3,000 conditions; the first 200 are used"]);
        let names: Vec<String> = (0..5000).map(|i| format!("f{i}.csv")).collect();
        assert_eq!(describe_files(&names), "f0.csv, f1.csv, f2.csv, f3.csv, f4.csv and 4,995 more files");
        assert_eq!(describe_files(&names[..6]), "f0.csv, f1.csv, f2.csv, f3.csv, f4.csv and 1 more file");
        assert_eq!(describe_files(&names[..5]), "f0.csv, f1.csv, f2.csv, f3.csv, f4.csv");
        assert_eq!(describe_files(&names[..1]), "f0.csv");
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
    fn reconcile_and_fit_drop_what_names_missing_columns() {
        let mut state = full();
        let columns: Vec<(String, ColumnType)> = ["created_at", "reason", "account_age_days"].iter().map(|c| (c.to_string(), ColumnType::Category)).collect();
        let mut notices = reconcile(&mut state, &columns);
        assert!(state.types.is_empty());
        // The rule clause stays (its columns are checked when it is compiled).
        assert_eq!(state.filter.clauses.len(), 1);
        assert_eq!(state.sort, Some(SortKey { column: "created_at".into(), descending: true }));
        let (_, trend, rca, cluster, rules, score, tree, regression) = read_all(state.settings, &mut notices);
        assert_eq!(trend.and_then(|t| t.fit_columns(&columns, &mut notices)).and_then(|t| t.column).as_deref(), Some("reason"));
        assert_eq!(rca.and_then(|r| r.fit_columns(&columns, &mut notices)).and_then(|r| r.dimensions), Some(vec![]));
        assert_eq!(cluster.and_then(|c| c.fit_columns(&columns, &mut notices)), None);
        assert_eq!(score.and_then(|s| s.fit_columns(&columns, &mut notices)).and_then(|s| s.column), None);
        assert_eq!(rules.map(|r| r.len()), Some(1));
        assert_eq!(tree.and_then(|t| t.fit_columns(&columns, &mut notices)), None);
        assert_eq!(regression.and_then(|r| r.fit_columns(&columns, &mut notices)), None);
        for needle in ["type change", "filter condition", "weight column", "root-cause dimension", "clustering settings", "score column", "decision tree settings", "regression settings"] {
            assert!(notices.iter().any(|n| n.contains(needle)), "{needle}: {notices:?}");
        }
        assert_eq!(notices.len(), 9, "{notices:?}");
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
