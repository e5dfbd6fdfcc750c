//! The `vigil` command, run as a user runs it (the built binary, files, exit codes): the demo's
//! incidents found and explained without a view and with one, every report written, the same
//! numbers as the analyses run in-process, bad input answered with a message and exit 2.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use vigil::analysis::contract::run_now;
use vigil::analysis::trend::{Trend, TrendSettings};
use vigil::data::demo::{demo_csv, DemoParams};
use vigil::data::load::{load_bytes, LoadOptions};
use vigil::analysis::prevalence::{Prevalence, PrevalenceParams, PrevalenceReport};
use vigil::viewstate::{encode, SourceRef, ViewState};

fn vigil(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bytes) = stdin {
        // Written from a thread: the child may fill its output pipes before reading all input.
        let mut pipe = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        std::thread::spawn(move || pipe.write_all(&bytes));
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch directory of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vigil-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn demo_file(dir: &Path, rows: usize) -> PathBuf {
    let path = dir.join("reports.csv");
    std::fs::write(&path, demo_csv(DemoParams { rows, seed: 7 })).unwrap();
    path
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn analyze_without_a_view_finds_and_explains_the_demo_incidents() {
    let dir = scratch("default");
    // The size the app opens with.
    let data = demo_file(&dir, 100_000);
    let out = dir.join("out");
    let run = vigil(&["analyze", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--now", "2026-11-02"], None);
    assert!(run.status.success(), "{}", text(&run.stderr));
    // Every file written is listed on standard output.
    let listed = text(&run.stdout);
    let files: std::collections::BTreeSet<&str> = listed.lines().collect();
    assert_eq!(files.len(), listed.lines().count(), "a file written twice (one table over another): {listed}");
    assert!(files.iter().all(|f| Path::new(f).is_file()));
    for file in ["vigil-report.json", "vigil-report.html", "incidents.csv", "trend.series.csv", "profile.columns.csv", "profile.alerts.csv"] {
        assert!(listed.lines().any(|l| l.ends_with(file)), "{file} not in {listed}");
        assert!(out.join(file).is_file(), "{file}");
    }
    let doc = read_json(&out.join("vigil-report.json"));
    let reports = doc["reports"].as_object().unwrap();
    assert!(reports.contains_key("profile") && reports.contains_key("trend") && reports.contains_key("labels"), "{:?}", reports.keys().collect::<Vec<_>>());
    // The trend of row counts over created_at, daily, with ISO dates beside the milliseconds.
    let series = &doc["reports"]["trend"]["series"];
    assert_eq!(series["granularity"], "Day");
    assert_eq!(series["starts_iso"][0], "2026-08-03T00:00:00Z");
    // Both injected incidents, each explained by its injected segment.
    let incidents = doc["incidents"].as_array().unwrap();
    let find = |start: &str| incidents.iter().find(|i| i["start_iso"].as_str().is_some_and(|s| s.starts_with(start)));
    let scam = find("2026-09-2").unwrap_or_else(|| panic!("no scam wave in {incidents:?}"));
    let cause = scam["root_cause"].as_str().unwrap();
    for part in ["reason=scam", "country=BR", "app_version=32.1"] {
        assert!(cause.contains(part), "{cause}");
    }
    assert_eq!(scam["direction"], "Spike");
    let brigade = find("2026-10-1").unwrap_or_else(|| panic!("no brigade in {incidents:?}"));
    let cause = brigade["root_cause"].as_str().unwrap();
    for part in ["reason=harassment", "country=US", "platform=web"] {
        assert!(cause.contains(part), "{cause}");
    }
    // The root cause compares the incident with the two weeks before it.
    let rca = &scam["root_cause_report"];
    assert_eq!(rca["incident"]["start_ms"].as_i64().unwrap() - rca["baseline"]["start_ms"].as_i64().unwrap(), 14 * 86_400_000);
    // The CSV of incidents has one row per incident.
    let csv = std::fs::read_to_string(out.join("incidents.csv")).unwrap();
    assert_eq!(csv.lines().count(), incidents.len() + 1, "{csv}");
    // The HTML report stands alone: the chart inline, no scripts, nothing fetched.
    let html = std::fs::read_to_string(out.join("vigil-report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("reason=scam"), "no chart or no incident");
    for loads in ["<script", "src=", "href=", "url(", "@import"] {
        assert!(!html.contains(loads), "the report must not load anything: {loads}");
    }
}

/// The command's trend is the in-process analysis, number for number (same code, same input).
#[test]
fn the_command_reports_what_the_analysis_computes() {
    let dir = scratch("same");
    let data = demo_file(&dir, 20_000);
    let settings = TrendSettings { time: Some("created_at".into()), metric: vigil::analysis::series::MetricKind::Rate, column: Some("reason".into()), rate_value: Some("scam".into()), ..TrendSettings::default() };
    let mut view = ViewState { source: Some(SourceRef::File { name: "reports.csv".into() }), tab: Some("trends".into()), ..ViewState::default() };
    view.settings.insert("trend".into(), serde_json::to_value(&settings).unwrap());
    let label = vigil::analysis::labels::LabelSpec { column: "decision".into(), positive: vec!["removed".into()] };
    let prevalence = PrevalenceParams { time: Some("created_at".into()), by: Some("country".into()), target_margin: Some(0.002), ..PrevalenceParams::of(label) };
    view.settings.insert("prevalence".into(), serde_json::to_value(&prevalence).unwrap());
    let link = format!("https://vigil.example/#{}", encode(&view));
    let out = dir.join("out");
    let run = vigil(&["analyze", data.to_str().unwrap(), "--view", &link, "--out", out.to_str().unwrap(), "--format", "json", "-q"], None);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert!(!out.join("vigil-report.html").exists(), "only the JSON was asked for");
    let doc = read_json(&out.join("vigil-report.json"));
    let table = load_bytes(&std::fs::read(&data).unwrap(), LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let expected = run_now::<Trend>(&table, &rows, &settings).unwrap();
    let ours: vigil::analysis::trend::TrendReport = serde_json::from_value(strip_iso(doc["reports"]["trend"].clone())).unwrap();
    assert_eq!(ours.series.values, expected.series.values, "bit-equal series");
    let (a, b) = (ours.analysis.unwrap(), expected.analysis.unwrap());
    assert_eq!(a.incidents, b.incidents);
    assert_eq!(a.expected.len(), b.expected.len());
    for (x, y) in a.expected.iter().zip(&b.expected) {
        assert!(x == y || (x.is_nan() && y.is_nan()), "{x} vs {y}");
    }
    let ours: PrevalenceReport = serde_json::from_value(strip_iso(doc["reports"]["prevalence"].clone())).unwrap();
    assert_eq!(ours, run_now::<Prevalence>(&table, &rows, &prevalence).unwrap());
}

/// A link's derived column is made before its filter, which names it: the command answers over
/// the ring's rows, as in-process.
#[test]
fn a_derived_column_in_the_link_is_made_before_its_filter() {
    use vigil::analysis::contract::{complete, Unobserved};
    use vigil::analysis::groups::{derive, DerivedColumn, Grouping};
    use vigil::analysis::rings::RingsParams;
    use vigil::data::filter::{evaluate_filter, Clause, Filter};
    let dir = scratch("derived");
    let data = demo_file(&dir, 20_000);
    let spec = DerivedColumn { column: "ring".into(), from: Grouping::Rings(RingsParams::of("reported_account_id", &["device_id"])), filter: Filter::default(), weight: None };
    let filter = Filter { clauses: vec![Clause::InSet { column: "ring".into(), values: vec!["ring 1".into()], negate: false }] };
    let label = vigil::analysis::labels::LabelSpec { column: "decision".into(), positive: vec!["removed".into()] };
    let prevalence = PrevalenceParams { time: Some("created_at".into()), ..PrevalenceParams::of(label) };
    let mut view = ViewState { source: Some(SourceRef::File { name: "reports.csv".into() }), derived: vec![spec.clone()], filter: filter.clone(), ..ViewState::default() };
    view.settings.insert("prevalence".into(), serde_json::to_value(&prevalence).unwrap());
    let link = format!("https://vigil.example/#{}", encode(&view));
    let out = dir.join("out");
    let run = vigil(&["analyze", data.to_str().unwrap(), "--view", &link, "--out", out.to_str().unwrap(), "--format", "json", "-q"], None);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let doc = read_json(&out.join("vigil-report.json"));
    let mut table = load_bytes(&std::fs::read(&data).unwrap(), LoadOptions::default()).unwrap().table;
    let (column, _) = complete(derive(&table, &spec, &[], &[], &mut Unobserved)).unwrap().unwrap();
    table.columns.push(column);
    let rows = evaluate_filter(&table, &filter).unwrap();
    assert!(rows.len() >= 40, "the ring's rows: {}", rows.len());
    let ours: PrevalenceReport = serde_json::from_value(strip_iso(doc["reports"]["prevalence"].clone())).unwrap();
    assert_eq!(ours, run_now::<Prevalence>(&table, &rows, &prevalence).unwrap());
}

/// Removes the `…_iso` twins (the report's own fields are what deserialises).
fn strip_iso(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.into_iter().filter(|(k, _)| !k.ends_with("_iso")).map(|(k, v)| (k, strip_iso(v))).collect()),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_iso).collect()),
        other => other,
    }
}

#[test]
fn detect_exits_by_what_fired() {
    let dir = scratch("detect");
    let data = demo_file(&dir, 30_000);
    let path = data.to_str().unwrap();
    // Nothing fired in the last week of the demo.
    let quiet = vigil(&["detect", path, "--since", "2026-10-25", "-q"], None);
    assert_eq!(quiet.status.code(), Some(0), "{}{}", text(&quiet.stdout), text(&quiet.stderr));
    assert!(quiet.stdout.is_empty());
    // Since October: the harassment brigade, one line, explained.
    let fired = vigil(&["detect", path, "--since", "2026-10-01", "-q"], None);
    assert_eq!(fired.status.code(), Some(1), "{}", text(&fired.stderr));
    let out = text(&fired.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("incident 2026-10-1") && out.contains("reason=harassment"), "{out}");
    // As JSON: one object per line, with its ISO times and root cause.
    let json = vigil(&["detect", path, "--since", "2026-09-01", "--json", "-q"], None);
    assert_eq!(json.status.code(), Some(1));
    let lines: Vec<Value> = text(&json.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "both incidents since September");
    for finding in &lines {
        assert_eq!(finding["kind"], "incident");
        assert!(finding["start_iso"].as_str().unwrap().starts_with("2026-"));
        assert!(finding["baseline"]["start_iso"].is_string());
        assert!(!finding["root_cause"].as_str().unwrap().is_empty());
    }
}

#[test]
fn detect_reports_a_rule_that_left_its_band() {
    let dir = scratch("rules");
    let data = demo_file(&dir, 30_000);
    // A rule flagging scam reports from Brazil: its volume quadruples in the scam wave.
    let mut view = ViewState::default();
    view.settings.insert("rules".into(), serde_json::json!([{ "name": "br scam", "text": "reason = \"scam\" and country = \"BR\"" }]));
    let fragment = encode(&view);
    let link_file = dir.join("view.txt");
    std::fs::write(&link_file, format!("#{fragment}\n")).unwrap();
    let run = vigil(&["detect", data.to_str().unwrap(), "--view", link_file.to_str().unwrap(), "--since", "2026-09-24", "--json", "-q"], None);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    let findings: Vec<Value> = text(&run.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rule = findings.iter().find(|f| f["kind"] == "rule" && f["measure"] == "volume").unwrap_or_else(|| panic!("{findings:?}"));
    assert_eq!(rule["rule"], "br scam");
    assert!(rule["recent"].as_f64().unwrap() > rule["band"][1].as_f64().unwrap());
    // After the wave, the rule is back in its band: the wave in its history does not move it.
    let after = vigil(&["detect", data.to_str().unwrap(), "--view", link_file.to_str().unwrap(), "--since", "2026-10-20", "-q"], None);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after.stdout));
    // A rule that cannot run fails the check (exit 2, named), after what fired is printed.
    view.settings.insert("rules".into(), serde_json::json!([{ "name": "br scam", "text": "reason = \"scam\" and country = \"BR\"" }, { "name": "typo", "text": "contry = BR" }]));
    let broken = vigil(&["detect", data.to_str().unwrap(), "--view", &format!("#{}", encode(&view)), "--since", "2026-09-24", "-q"], None);
    assert_eq!(broken.status.code(), Some(2), "{}", text(&broken.stderr));
    assert!(text(&broken.stderr).contains("rule “typo” cannot run: there is no column “contry”"), "{}", text(&broken.stderr));
    assert!(text(&broken.stdout).contains("rule “br scam” volume"), "{}", text(&broken.stdout));
    // A filter that no longer fits the data is not dropped silently: the view watches other rows.
    view.settings.remove("rules");
    view.filter.clauses.push(vigil::data::filter::Clause::InSet { column: "contry".into(), values: vec!["BR".into()], negate: false });
    let unfit = vigil(&["detect", data.to_str().unwrap(), "--view", &format!("#{}", encode(&view)), "-q"], None);
    assert_eq!(unfit.status.code(), Some(2), "{}", text(&unfit.stderr));
    assert!(text(&unfit.stderr).contains("does not fully apply to the data") && text(&unfit.stderr).contains("contry"), "{}", text(&unfit.stderr));
    // So is a link cut short (its settings unreadable), and rules without their label column.
    let cut = vigil(&["detect", data.to_str().unwrap(), "--view", &format!("#{}", &encode(&view)[..40]), "-q"], None);
    assert_eq!(cut.status.code(), Some(2), "{}", text(&cut.stderr));
    assert!(text(&cut.stderr).contains("link:"), "{}", text(&cut.stderr));
    view.filter.clauses.clear();
    view.settings.insert("rules".into(), serde_json::json!([{ "name": "br", "text": "country = BR" }]));
    view.settings.insert("label".into(), serde_json::json!({ "label": "no_such_label", "positive": ["x"], "item": null, "reviewer": null, "time": null }));
    let unlabelled = vigil(&["detect", data.to_str().unwrap(), "--view", &format!("#{}", encode(&view)), "-q"], None);
    assert_eq!(unlabelled.status.code(), Some(2), "{}", text(&unlabelled.stderr));
    assert!(text(&unlabelled.stderr).contains("the label column “no_such_label” is not in the data"), "{}", text(&unlabelled.stderr));
}

#[test]
fn standard_input_and_gzip_read_like_a_file() {
    let dir = scratch("stdin");
    let csv = demo_csv(DemoParams { rows: 5_000, seed: 7 });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&csv).unwrap();
    let gz = gz.finish().unwrap();
    let gz_path = dir.join("reports.csv.gz");
    std::fs::write(&gz_path, &gz).unwrap();
    let from_stdin = vigil(&["analyze", "-", "--out", dir.join("a").to_str().unwrap(), "--format", "json", "--now", "2026-11-02", "-q"], Some(&csv));
    assert!(from_stdin.status.success(), "{}", text(&from_stdin.stderr));
    let from_gz = vigil(&["analyze", gz_path.to_str().unwrap(), "--out", dir.join("b").to_str().unwrap(), "--format", "json", "--now", "2026-11-02", "-q"], None);
    assert!(from_gz.status.success(), "{}", text(&from_gz.stderr));
    let (a, b) = (read_json(&dir.join("a/vigil-report.json")), read_json(&dir.join("b/vigil-report.json")));
    assert_eq!(a["reports"], b["reports"]);
    assert_eq!(a["data"]["rows"], 5_000);
}

#[test]
fn several_files_read_as_one_with_their_source() {
    let dir = scratch("several");
    let csv = demo_csv(DemoParams { rows: 6_000, seed: 7 });
    let whole = dir.join("whole.csv");
    std::fs::write(&whole, &csv).unwrap();
    // The same rows in three files: a CSV, a gzipped CSV, and JSON Lines.
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let to_csv = |rows: &[csv::StringRecord]| {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&header).unwrap();
        rows.iter().for_each(|r| writer.write_record(r).unwrap());
        writer.into_inner().unwrap()
    };
    std::fs::write(dir.join("1.csv"), to_csv(&records[..2_000])).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&to_csv(&records[2_000..4_000])).unwrap();
    std::fs::write(dir.join("2.csv.gz"), gz.finish().unwrap()).unwrap();
    let jsonl: String = records[4_000..]
        .iter()
        .map(|r| {
            let object: serde_json::Map<String, Value> = header.iter().zip(r.iter()).filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.clone(), Value::String(v.into()))).collect();
            format!("{}\n", Value::Object(object))
        })
        .collect();
    std::fs::write(dir.join("3.jsonl"), jsonl).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let run = |files: &[String], out: &str| {
        let mut args: Vec<&str> = vec!["analyze"];
        args.extend(files.iter().map(String::as_str));
        let out = dir.join(out);
        args.extend(["--out", out.to_str().unwrap(), "--format", "json", "--now", "2026-11-02", "-q"]);
        let output = vigil(&args, None);
        assert!(output.status.success(), "{}", text(&output.stderr));
        read_json(&out.join("vigil-report.json"))
    };
    let one = run(&[path("whole.csv")], "one");
    let three = run(&[path("1.csv"), path("2.csv.gz"), path("3.jsonl")], "three");
    assert_eq!(three["data"]["rows"], 6_000);
    assert_eq!(strip_iso(three["reports"]["trend"].clone()), strip_iso(one["reports"]["trend"].clone()));
    let columns = three["reports"]["profile"]["columns"].as_array().unwrap();
    let source = columns.iter().find(|c| c["name"] == "source").expect("a source column");
    assert_eq!(source["distinct"], 3);

    // Files whose columns differ: the difference, and exit 2.
    std::fs::write(dir.join("other.csv"), "created_at,reason\n2026-01-01,spam\n").unwrap();
    let output = vigil(&["analyze", &path("1.csv"), &path("other.csv"), "--out", dir.join("x").to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("do not have the same columns as"), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("other.csv lacks “"), "{}", text(&output.stderr));
}

#[test]
fn an_excel_sheet_is_read_by_name_or_by_the_view() {
    let dir = scratch("xlsx");
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports.xlsx");
    let book = book.to_str().unwrap();
    let first = vigil(&["analyze", book, "--out", dir.join("a").to_str().unwrap(), "--format", "json", "-q"], None);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(read_json(&dir.join("a/vigil-report.json"))["data"]["rows"], 1, "the notes sheet, the first with data");
    let named = vigil(&["analyze", book, "--sheet", "Reports", "--out", dir.join("b").to_str().unwrap(), "--format", "json", "-q"], None);
    assert!(named.status.success(), "{}", text(&named.stderr));
    let doc = read_json(&dir.join("b/vigil-report.json"));
    assert_eq!(doc["data"]["rows"], 400);
    let view = ViewState { sheet: Some("Reports".into()), ..ViewState::default() };
    let by_view = vigil(&["analyze", book, "--view", &format!("#{}", encode(&view)), "--out", dir.join("c").to_str().unwrap(), "--format", "json", "-q"], None);
    assert!(by_view.status.success(), "{}", text(&by_view.stderr));
    assert_eq!(read_json(&dir.join("c/vigil-report.json"))["data"]["rows"], 400);
    let missing = vigil(&["analyze", book, "--sheet", "Appeals", "--out", dir.join("d").to_str().unwrap()], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("the workbook has no sheet “Appeals” (its sheets: “Notes”, “Empty”, “Reports”)"), "{}", text(&missing.stderr));
    // A view made on another copy of the workbook, with a sheet this one lacks: its first sheet
    // with data, and a notice (the app does the same).
    let view = ViewState { sheet: Some("Appeals".into()), ..ViewState::default() };
    let other_copy = vigil(&["analyze", book, "--view", &format!("#{}", encode(&view)), "--out", dir.join("e").to_str().unwrap(), "--format", "json", "-q"], None);
    assert!(other_copy.status.success(), "{}", text(&other_copy.stderr));
    let doc = read_json(&dir.join("e/vigil-report.json"));
    assert_eq!(doc["data"]["rows"], 1, "the notes sheet, the first with data");
    let notices = doc["notices"].to_string();
    assert!(notices.contains("This workbook has no sheet “Appeals”, which the link names: read “Notes”, the first with data"), "{notices}");
}

#[test]
fn a_lookup_file_adds_its_columns_before_the_view_filters() {
    use vigil::data::filter::{Clause, Filter};
    let dir = scratch("join");
    let data = demo_file(&dir, 5_000);
    // A roster of the reported accounts seen: a tier for each, account A000205 on two rows.
    let table = load_bytes(&std::fs::read(&data).unwrap(), LoadOptions::default()).unwrap().table;
    let accounts = table.column("reported_account_id").unwrap();
    let mut seen: Vec<String> = (0..table.n_rows).map(|r| accounts.value(r).display()).collect();
    seen.sort();
    seen.dedup();
    let mut roster = String::from("account,tier\n");
    for (i, id) in seen.iter().enumerate() {
        roster.push_str(&format!("{id},{}\n", if i % 3 == 0 { "vip" } else { "standard" }));
    }
    roster.push_str(&format!("{},{}\n", seen[0], "banned"));
    let lookup = dir.join("roster.csv");
    std::fs::write(&lookup, roster).unwrap();
    let (data, lookup) = (data.to_str().unwrap(), lookup.to_str().unwrap());
    let on = "reported_account_id=account";
    // The repeated account is refused, with the way out.
    let refused = vigil(&["analyze", data, "--join", lookup, "--on", on, "--out", dir.join("x").to_str().unwrap()], None);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains(&format!("“{}” 2 times", seen[0])), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("--repeated first or --repeated last"), "{}", text(&refused.stderr));
    // With the last row kept, the tier is a column the view's filter can use.
    let view = ViewState { filter: Filter { clauses: vec![Clause::InSet { column: "tier".into(), values: vec!["vip".into()], negate: false }] }, ..ViewState::default() };
    let link = format!("#{}", encode(&view));
    let out = dir.join("out");
    let run = vigil(&["analyze", data, "--join", lookup, "--on", on, "--repeated", "last", "--view", &link, "--out", out.to_str().unwrap(), "--format", "json", "-q"], None);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let doc = read_json(&out.join("vigil-report.json"));
    let notices = doc["notices"].to_string();
    assert!(notices.contains("join: Added tier from"), "{notices}");
    assert!(notices.contains("5,000 rows matched") && notices.contains("1 key on several lookup rows (last row kept)"), "{notices}");
    let tier = doc["reports"]["profile"]["columns"].as_array().unwrap().iter().find(|c| c["name"] == "tier").expect("a tier column").clone();
    assert_eq!(tier["distinct"], 1, "only vip rows are in view: {tier}");
    let vip = (0..table.n_rows).filter(|&r| seen.iter().position(|s| *s == accounts.value(r).display()).is_some_and(|i| i % 3 == 0 && i != 0)).count();
    assert_eq!(doc["data"]["rows_in_view"], vip);

    // A link from the app that added the roster states the join: the command asks for the file,
    // then takes the keys and the choice from the link.
    use vigil::data::join::{JoinSpec, Repeated};
    use vigil::viewstate::JoinRef;
    let spec = JoinSpec { key: "reported_account_id".into(), lookup_key: "account".into(), repeated: Repeated::Last };
    let joined_view = ViewState { joins: vec![JoinRef { file: "roster.csv".into(), spec }], ..view };
    let link = format!("#{}", encode(&joined_view));
    let asked = vigil(&["analyze", data, "--view", &link, "--out", dir.join("y").to_str().unwrap()], None);
    assert_eq!(asked.status.code(), Some(2));
    assert!(text(&asked.stderr).contains("give your copy of each, in this order (--join roster.csv --on reported_account_id=account)"), "{}", text(&asked.stderr));
    let by_link = dir.join("by-link");
    let run = vigil(&["analyze", data, "--join", lookup, "--view", &link, "--out", by_link.to_str().unwrap(), "--format", "json", "-q"], None);
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(read_json(&by_link.join("vigil-report.json"))["data"]["rows_in_view"], vip);
}

#[test]
fn bad_input_is_a_message_and_exit_2_never_a_panic() {
    let dir = scratch("bad");
    let binary = dir.join("image.csv");
    std::fs::write(&binary, [0x89, b'P', b'N', b'G', 0, 0, 0, 13, 0, 1, 2, 3]).unwrap();
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, b"").unwrap();
    let data = demo_file(&dir, 2_000);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["analyze", "/no/such/file.csv"], "/no/such/file.csv"),
        (vec!["analyze", binary.to_str().unwrap()], "image.csv"),
        (vec!["analyze", empty.to_str().unwrap()], "empty"),
        (vec!["detect", data.to_str().unwrap(), "--since", "yesterday-ish"], "--since"),
        (vec!["analyze", data.to_str().unwrap(), "--view", "https://vigil.example/app/"], "--view"),
        // A mistyped view file must not run with no view (a scheduled detection would pass).
        (vec!["detect", data.to_str().unwrap(), "--view", "links/no-such-view.txt"], "neither a file nor a link"),
        (vec!["detect", data.to_str().unwrap(), "--view", dir.to_str().unwrap()], "folder"),
        (vec!["detect", data.to_str().unwrap(), "--view", ""], "the view is empty"),
        (vec!["detect", data.to_str().unwrap(), "--weight", "no_such_column"], "--weight"),
        (vec!["cube", data.to_str().unwrap(), "--top", "0"], "--top"),
        (vec!["analyze", data.to_str().unwrap(), "--sheet", "Sheet9"], "not an Excel workbook"),
        (vec!["analyze", data.to_str().unwrap(), "--join", "/no/such/lookup.csv", "--on", "country"], "--join: cannot open"),
        (vec!["sql", data.to_str().unwrap(), "--dialect", "duckdb", "--table", "t", "--sample", "--per-period", "0"], "--per-period"),
        (vec!["sql", data.to_str().unwrap(), "--dialect", "duckdb", "--table", "t; DROP TABLE t"], "“;”"),
        (vec!["analyze", data.to_str().unwrap(), "--format", "pdf"], "pdf"),
        (vec!["launch"], "launch"),
    ];
    for (args, named) in cases {
        let run = vigil(&args, None);
        let err = text(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?}: the message should name {named}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // A damaged link part is a note; the rest of the view applies and the reports are written.
    let out = dir.join("out");
    let run = vigil(&["analyze", data.to_str().unwrap(), "--view", "#tab=trends&v=@@not-base64@@&zzz=1", "--out", out.to_str().unwrap(), "--format", "json"], None);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let notices = read_json(&out.join("vigil-report.json"))["notices"].to_string();
    assert!(notices.contains("damaged") && notices.contains("zzz"), "{notices}");
}

#[test]
fn rejected_rows_are_written_beside_the_reports() {
    let dir = scratch("rejected");
    let path = dir.join("short.csv");
    let mut csv = String::from("created_at,country\n");
    for day in 1..=28 {
        csv.push_str(&format!("2026-08-{day:02}T10:00:00Z,BR\n"));
    }
    csv.push_str("2026-08-29T10:00:00Z,BR,extra,fields\n");
    std::fs::write(&path, csv).unwrap();
    let out = dir.join("out");
    let run = vigil(&["analyze", path.to_str().unwrap(), "--out", out.to_str().unwrap(), "--format", "json"], None);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let rejected = std::fs::read_to_string(out.join("rejected-rows.csv")).unwrap();
    assert!(rejected.starts_with("line,byte_offset,reason,text\n30,"), "{rejected}");
    assert!(text(&run.stderr).contains("set aside"));
}

/// The README's cron line and Airflow task call exactly this command.
#[test]
fn the_scheduled_detection_command_of_the_readme_runs() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let command = readme.lines().find_map(|l| l.trim().strip_prefix("SCHEDULED: ")).expect("the README names the scheduled command with `SCHEDULED: `");
    assert!(readme.matches(&format!("vigil {command}")).count() >= 2, "the cron and Airflow examples use it");
    let dir = scratch("readme");
    let data = demo_file(&dir, 30_000);
    let view = dir.join("view.txt");
    std::fs::write(&view, "https://vigil.example/app/#file=reports.csv&tab=trends\n").unwrap();
    let args: Vec<String> = command
        .split_whitespace()
        .map(|a| a.replace("$DATA", data.to_str().unwrap()).replace("$SINCE", "2026-10-01").replace("/etc/vigil/view.txt", view.to_str().unwrap()))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = vigil(&args, None);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    assert!(text(&run.stdout).contains("\"kind\":\"incident\""));
}

/// `--stream` reads the data into a cube, as the app's "Large file as cube…": the trend counts
/// every row's event.
#[test]
fn a_streamed_file_is_analysed_as_its_cube() {
    let dir = scratch("stream");
    let data = demo_file(&dir, 20_000);
    let out = dir.join("out");
    let run = vigil(&["analyze", data.to_str().unwrap(), "--stream", "--out", out.to_str().unwrap(), "--format", "json", "--now", "2026-11-02", "-q"], None);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let doc = read_json(&out.join("vigil-report.json"));
    let text = doc.to_string();
    assert!(text.contains("Read 20,000 rows into a cube by created_at"), "{text:.2000}");
    let values = doc["reports"]["trend"]["series"]["values"].as_array().unwrap();
    let total: f64 = values.iter().filter_map(Value::as_f64).sum();
    // Two demo rows lie far in the future and are left out of the chart.
    assert_eq!(total, 19_998.0, "{:?}", &doc["reports"]["trend"]["notes"]);
}
