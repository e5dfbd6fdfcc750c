//! The `vigil` command: a view's analyses without a browser, for scheduled detection. It reads
//! the file, applies a link's view (types, filter, each tab's settings) and runs the analyses of
//! the registry with the same pure code as the app's worker; only reading files, writing
//! reports and the exit code are its own.
//!
//! Native only (`src/main.rs` is the app on wasm32 and this command elsewhere).

mod detect;
mod html;
mod input;
pub mod plan;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use serde_json::Value;

use crate::analysis::contract::{complete, Progress, Stopped, Weights};
use crate::analysis::registry::{run_any, AnyParams, AnyReport};
use crate::analysis::rootcause::{RcaParams, RcaReport, Window};
use crate::analysis::trend::{self, TrendReport, TrendSettings};
use crate::data::load::{LoadOptions, LoadReport};
use crate::data::table::Table;
use crate::data::time::{format_iso_ms, parse_timestamp_text};
use crate::document::{report_json, reports_json, tables, with_iso_times};
use crate::viewstate::ViewState;
use plan::Plan;

/// Incidents explained by a root cause, largest first (the rest are listed without one).
pub const MAX_EXPLAINED: usize = 20;

#[derive(Debug, Parser)]
#[command(
    name = "vigil",
    version,
    about = "Vigil's analyses without a browser: profile, label checks, trends and incidents, root cause, rules — on a CSV, JSON, Excel or Parquet export (or several of the same columns), from a view built in the app.",
    after_help = "A view is the app's link (Share → Copy link): the whole link, its #… part, or a file holding it.\nExit codes: 0 success (detect: nothing fired), 1 detect: something fired, 2 an error."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load DATA, apply the view and write every analysis's report (JSON, HTML, CSV).
    ///
    /// Without --view: the profile and its alerts, the label checks when a label column is
    /// recognised, the trend of row counts over the time column the Trends tab starts with
    /// (names with "created", "reported", "time", "date", "_at" first), with anomalies and
    /// incidents, and the root cause of each incident against the span before it (two weeks
    /// for daily periods).
    Analyze(AnalyzeArgs),
    /// Print what fired: incidents ending after --since (with their root cause) and, when the
    /// view has rules, rules whose precision or volume since then left their backtested band.
    /// Exit 0 when nothing fired, 1 when something did, 2 on an error.
    Detect(DetectArgs),
    /// Print the SQL that makes a warehouse compute the view's cube (or, with --sample, a
    /// weighted sample of its rows). Load its result into Vigil: it is recognised as a cube.
    Sql(SqlArgs),
    /// Write the view's cube of DATA as CSV (what the warehouse's query returns), to make a
    /// file too large for the browser small enough for it.
    Cube(CubeArgs),
}

#[derive(Debug, Args)]
struct Input {
    /// The data: a CSV, TSV or JSON (Lines) file, gzip-compressed too, an Excel workbook (.xlsx),
    /// a Parquet file, or - for standard input.
    data: String,
    /// More files with the same columns, appended in order; a `source` column then says which
    /// file each row came from.
    #[arg(value_name = "MORE")]
    more: Vec<String>,
    /// The view: a link copied from the app, its #… part, or a file holding it.
    #[arg(long, value_name = "LINK")]
    view: Option<String>,
    /// "Now" for the checks of future dates (ISO 8601); default: this machine's clock.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// The column saying how many events each row stands for (overrides the view's).
    #[arg(long, value_name = "COLUMN")]
    weight: Option<String>,
    /// A lookup file (accounts, content metadata, reviewer rosters): its columns are added to
    /// each row of the data whose key it has. The key is given with --on, or by the view when
    /// its link added columns from a file (then give your copy of each, in the link's order).
    /// May be repeated.
    #[arg(long, value_name = "FILE")]
    join: Vec<String>,
    /// The key of the --join at the same position: COLUMN when both files name it so, or
    /// COLUMN=LOOKUP_COLUMN.
    #[arg(long, value_name = "KEY[=LOOKUP_KEY]", requires = "join")]
    on: Vec<String>,
    /// A key on several rows of a --join file keyed with --on: refuse the join, naming them (the
    /// default), or keep the first or the last of those rows.
    #[arg(long, value_enum, default_value = "refuse", value_name = "ROW")]
    repeated: RepeatedRow,
    /// The sheet of an Excel workbook to read (default: the view's, else the first with data).
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
    /// Stream the data into a cube (counts by period and dimension, as the app's "Large file as
    /// cube…") instead of loading it whole; implied by a view made from a streamed file.
    #[arg(long)]
    stream: bool,
    /// No progress on standard error.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RepeatedRow {
    Refuse,
    First,
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Html,
    Csv,
}

#[derive(Debug, Args)]
struct AnalyzeArgs {
    #[command(flatten)]
    input: Input,
    /// Directory for the reports (created if needed).
    #[arg(long, default_value = "vigil-report", value_name = "DIR")]
    out: PathBuf,
    /// Which reports to write (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "json,html,csv")]
    format: Vec<Format>,
}

#[derive(Debug, Args)]
struct DetectArgs {
    #[command(flatten)]
    input: Input,
    /// Report what ends after this time (ISO 8601 date or time, UTC); default: the start of
    /// the last complete period of the trend (what the newest data shows).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// One JSON object per finding (one per line) instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SqlArgs {
    #[command(flatten)]
    input: Input,
    /// The warehouse's dialect: spark, trino (or presto), bigquery, snowflake, duckdb.
    #[arg(long, value_name = "DIALECT")]
    dialect: String,
    /// The table (or view) holding the events, as the warehouse names it.
    #[arg(long, value_name = "TABLE")]
    table: String,
    /// Values kept per dimension; the rest are "(other)".
    #[arg(long, default_value_t = crate::warehouse::DEFAULT_TOP)]
    top: usize,
    /// The query for a stratified weighted sample of the rows instead of the cube.
    #[arg(long)]
    sample: bool,
    /// Rows the sample keeps per period (about).
    #[arg(long, default_value_t = crate::warehouse::sql::SAMPLE_PER_PERIOD)]
    per_period: usize,
    /// The sample's seed (Spark and Snowflake; the others draw anew each run).
    #[arg(long, default_value_t = crate::warehouse::sql::SAMPLE_SEED)]
    seed: u64,
}

#[derive(Debug, Args)]
struct CubeArgs {
    #[command(flatten)]
    input: Input,
    /// Values kept per dimension; the rest are "(other)".
    #[arg(long, default_value_t = crate::warehouse::DEFAULT_TOP)]
    top: usize,
    /// Where to write the cube (default: standard output).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Runs the command line; the exit code is 0 (done, nothing fired), 1 (detect: fired) or 2.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("vigil: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<u8, String> {
    match cli.command {
        Command::Analyze(args) => analyze(args).map(|()| 0),
        Command::Detect(args) => detect::detect(args),
        Command::Sql(args) => sql(args).map(|()| 0),
        Command::Cube(args) => cube(args).map(|()| 0),
    }
}

/// A loaded table with the view applied: what every subcommand starts from.
pub struct Session {
    pub data: String,
    pub load: LoadReport,
    pub rows: Vec<u32>,
    pub plan: Plan,
    /// The view as applied (types, filter, weight); its tabs' settings are in `plan`.
    pub view: ViewState,
    /// The weight column and each table row's weight, when rows are weighted.
    pub weights: Option<(String, Vec<f64>)>,
    /// A cube's measures (they aggregate events rather than describe them).
    pub measures: Vec<String>,
    pub notices: Vec<String>,
    pub quiet: bool,
    /// What of the view did not reach the analyses, for `detect`, which refuses to watch other
    /// rows or rules than the view does: parts of the link that were damaged or unknown,
    /// conditions of its filter that did not fit the data, rules dropped whole (no label), and
    /// a trend's time column replaced.
    pub view_lost: Vec<String>,
}

impl Session {
    fn open(input: &Input) -> Result<Self, String> {
        let now_ms = match &input.now {
            Some(text) => parse_time(text, "--now")?,
            None => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64),
        };
        let mut notices = Vec::new();
        let mut view_lost = Vec::new();
        let mut view = match &input.view {
            Some(link) => {
                let decoded = plan::read_view(link).map_err(|e| format!("--view: {e}"))?;
                view_lost.extend(decoded.notices.iter().map(|n| format!("link: {n}")));
                notices.extend(decoded.notices.into_iter().map(|n| format!("link: {n}")));
                notices.extend(plan::source_notice(&decoded.state, &input.data));
                decoded.state
            }
            None => Default::default(),
        };
        let started = Instant::now();
        // What messages call the data: the file, or the files.
        let label = match input.more.len() {
            0 => input.data.clone(),
            n => format!("{} and {n} more file{}", input.data, if n == 1 { "" } else { "s" }),
        };
        // The sheet named here, else the view's: a copy of the workbook without the view's
        // sheet is read from its first sheet, with a notice.
        let options = LoadOptions { sheet: input.sheet.clone().or_else(|| view.sheet.clone()), sheet_or_first: input.sheet.is_none() && view.sheet.is_some(), ..LoadOptions::default() };
        let mut load = match (input.stream || view.streamed, input.more.is_empty()) {
            (true, true) => input::load_streamed(&input.data, options)?,
            (true, false) => return Err("--stream reads one file; give one, or leave out --stream".into()),
            (false, true) => input::load(&input.data, input.quiet, options)?,
            (false, false) => {
                let mut parts = Vec::with_capacity(input.more.len() + 1);
                for data in std::iter::once(&input.data).chain(&input.more) {
                    parts.push((data.clone(), input::load(data, input.quiet, options.clone())?));
                }
                crate::data::append::append(parts).map_err(|e| e.to_string())?
            }
        };
        let workbooks = std::iter::once(&load.dialect).chain(&load.dialect.others).filter(|d| d.workbook.is_some()).count();
        if let (Some(sheet), 0) = (&input.sheet, workbooks) {
            return Err(format!("--sheet {sheet}: {} is not an Excel workbook", if input.more.is_empty() { input.data.clone() } else { format!("none of the {} files", input.more.len() + 1) }));
        }
        if input.join.len() < view.joins.len() {
            let wanted: Vec<String> = view.joins.iter().map(|j| format!("--join {} --on {}={}", j.file, j.spec.key, j.spec.lookup_key)).collect();
            return Err(format!("--view adds columns from {} other file{}: give your copy of each, in this order ({})", view.joins.len(), if view.joins.len() == 1 { "" } else { "s" }, wanted.join(" ")));
        }
        if input.on.len() > input.join.len() {
            return Err(format!("{} --on for {} --join: give one key per file", input.on.len(), input.join.len()));
        }
        if !input.join.is_empty() && (input.stream || view.streamed) {
            return Err("--join adds columns to the data loaded whole; leave out --stream".into());
        }
        for (i, file) in input.join.iter().enumerate() {
            let spec = match (input.on.get(i), view.joins.get(i)) {
                (Some(on), _) => join_spec(on, input.repeated)?,
                (None, Some(by_view)) => by_view.spec.clone(),
                (None, None) => return Err(format!("--join {file}: give its key with --on KEY or --on KEY=LOOKUP_KEY")),
            };
            notices.push(join(&mut load.table, file, &spec, input.quiet)?);
        }
        if !input.quiet {
            let seconds = started.elapsed().as_secs_f64();
            eprintln!(
                "vigil: loaded {} × {} from {} in {seconds:.2} s ({:.0} MB/s), {} in memory{}",
                crate::format::plural(load.table.n_rows as u64, "row"),
                crate::format::plural(load.table.columns.len() as u64, "column"),
                label,
                load.text_bytes as f64 / 1e6 / seconds.max(1e-9),
                crate::format::format_bytes(load.table.heap_bytes() as u64),
                peak_memory()
            );
        }
        // Several files' notices already name their file.
        notices.extend(load.notices.iter().map(|n| if input.more.is_empty() { format!("{label}: {n}") } else { n.clone() }));
        if load.rejected_total > 0 {
            let listed = if load.rejected_total > load.rejected.len() as u64 { format!(", the first {} listed", load.rejected.len()) } else { String::new() };
            notices.push(format!("{}: {} {} set aside (rejected-rows.csv beside the reports{listed}); the first, line {}: {}", label, crate::format::plural(load.rejected_total, "row"), if load.rejected_total == 1 { "was" } else { "were" }, load.rejected.first().map_or(0, |r| r.line), load.rejected.first().map_or("", |r| r.reason.as_str())));
        }
        let mut applied = Vec::new();
        if input.weight.is_some() {
            view.weight.clone_from(&input.weight);
        }
        let asked_filter = view.filter.clauses.clone();
        let (rows, measures) = plan::apply(&mut load.table, &mut view, &mut applied).map_err(|e| format!("{label}: {e}"))?;
        if asked_filter.iter().any(|clause| !view.filter.clauses.contains(clause)) {
            view_lost.extend(applied.iter().filter(|n| n.contains("filter")).map(|n| format!("view: {n}")));
        }
        // A weight asked for on the command line is not dropped as a link's would be: counting
        // each row once instead would be a different answer.
        if let Some(asked) = input.weight.as_ref().filter(|&asked| view.weight.as_ref() != Some(asked)) {
            return Err(format!("--weight: {label} has no column “{asked}”"));
        }
        let columns = plan::columns(&load.table);
        let asked_rules = view.settings.get("rules").and_then(serde_json::Value::as_array).is_some_and(|rules| !rules.is_empty());
        let asked = |part: &str, field: &str| view.settings.get(part).and_then(|p| p.get(field)).and_then(serde_json::Value::as_str).map(str::to_string);
        let (asked_time, asked_label) = (asked("trend", "time"), asked("label", "label"));
        let plan = Plan::of(std::mem::take(&mut view.settings), &columns, now_ms, &mut applied);
        if asked_rules && plan.backtest.is_none() {
            view_lost.push(format!("view: the rules were not run ({})", applied.iter().filter(|n| n.contains("rule") || n.contains("label")).cloned().collect::<Vec<_>>().join("; ")));
        }
        if let Some(time) = asked_time.filter(|time| plan.trend.as_ref().is_some_and(|t| t.time.as_ref() != Some(time))) {
            view_lost.push(format!("view: the trend's time column “{time}” is not in the data"));
        }
        if let Some(label) = asked_label.filter(|label| plan.labels.as_ref().is_none_or(|l| &l.label != label)) {
            view_lost.push(format!("view: the label column “{label}” is not in the data"));
        }
        let weights = match &view.weight {
            Some(column) => {
                let weights = crate::data::weights::weight_column(&load.table, column).map_err(|e| format!("{label}: {e}"))?;
                let unweighted: Vec<&str> = plan.analyses().iter().filter(|p| !p.weighted()).map(AnyParams::title).collect();
                if !unweighted.is_empty() {
                    applied.push(format!("rows are weighted by “{column}”; {} count each row once", unweighted.join(", ")));
                }
                Some((column.clone(), weights))
            }
            None => None,
        };
        notices.extend(applied.into_iter().map(|n| format!("view: {n}")));
        if !input.quiet {
            for notice in &notices {
                eprintln!("vigil: note: {notice}");
            }
        }
        Ok(Session { data: label, load, rows, plan, view, weights, measures, notices, quiet: input.quiet, view_lost })
    }

    fn table(&self) -> &Table {
        &self.load.table
    }

    /// Each row's weight (one each when the view has no weight column).
    pub fn weights(&self) -> Weights<'_> {
        match &self.weights {
            Some((column, values)) => Weights::per_row(column, values).with_measures(&self.measures),
            None => Weights::ONE,
        }
    }

    /// The cube of the view: its trend's time column and periods (the default time column
    /// and daily periods without one), its weight and filter.
    fn cube_spec(&self, top: usize) -> Result<crate::warehouse::CubeSpec, String> {
        if top == 0 {
            return Err("--top: keep at least one value per dimension (0 would fold every value into “(other)”)".into());
        }
        let trend = self.plan.trend.clone().unwrap_or_default();
        let time = trend.time.clone().or_else(|| trend::default_time_column(self.table().columns.iter().map(|c| (c.name.as_str(), c.kind)))).ok_or("the data has no time column to make periods of")?;
        let mut spec = crate::warehouse::CubeSpec::for_view(self.table(), &time, trend.granularity, trend.utc_offset_minutes, trend.time_zone.clone(), self.view.weight.clone(), self.view.filter.clone()).map_err(|e| e.to_string())?;
        spec.top = top;
        Ok(spec)
    }

    /// Runs one analysis over the view's rows (progress on standard error).
    pub fn run(&self, params: &AnyParams) -> Result<AnyReport, String> {
        self.run_on(params, &self.rows)
    }

    fn run_on(&self, params: &AnyParams, rows: &[u32]) -> Result<AnyReport, String> {
        let mut progress = Stderr { name: params.title(), quiet: self.quiet, started: Instant::now(), last: None };
        let result = complete(run_any(self.table(), rows, self.weights(), params, &mut progress)).ok_or_else(|| format!("{} did not finish", params.title()))?;
        progress.done();
        result.map_err(|err| format!("{}: {err}", params.title()))
    }
}

/// The join of `--on` (`KEY` or `KEY=LOOKUP_KEY`).
fn join_spec(on: &str, repeated: RepeatedRow) -> Result<crate::data::join::JoinSpec, String> {
    use crate::data::join::Repeated;
    let (key, lookup_key) = on.split_once('=').unwrap_or((on, on));
    let (key, lookup_key) = (key.trim(), lookup_key.trim());
    if key.is_empty() || lookup_key.is_empty() {
        return Err(format!("--on: “{on}” names no column (write KEY, or KEY=LOOKUP_KEY)"));
    }
    let repeated = match repeated {
        RepeatedRow::Refuse => Repeated::Refuse,
        RepeatedRow::First => Repeated::First,
        RepeatedRow::Last => Repeated::Last,
    };
    Ok(crate::data::join::JoinSpec { key: key.to_string(), lookup_key: lookup_key.to_string(), repeated })
}

/// Adds the columns of the lookup file `file` to `table`, matched as `spec` says; what it did,
/// as a notice.
fn join(table: &mut Table, file: &str, spec: &crate::data::join::JoinSpec, quiet: bool) -> Result<String, String> {
    let lookup = input::load(file, quiet, LoadOptions::default()).map_err(|e| format!("--join: {e}"))?;
    let joined = crate::data::join::lookup_join(table, &lookup.table, spec).map_err(|e| {
        let hint = if matches!(e, crate::data::join::JoinError::Repeated { .. }) { " (--repeated first or --repeated last)" } else { "" };
        format!("--join {file}: {e}{hint}")
    })?;
    let set_aside = if lookup.rejected_total > 0 { format!(" ({} of {file} {} set aside as unreadable)", crate::format::plural(lookup.rejected_total, "row"), if lookup.rejected_total == 1 { "was" } else { "were" }) } else { String::new() };
    Ok(format!("join: {}{set_aside}", joined.describe(file, spec.repeated)))
}

/// “, peak memory 1.2 GB”: the most this process held in memory since the last call (on Linux,
/// where the kernel keeps that figure and lets it be reset; nothing elsewhere), so that each
/// step's line says what that step needed.
fn peak_memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return String::new() };
    let Some(kib) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()) else {
        return String::new();
    };
    // "5" resets the high-water mark to the memory held now (proc(5), clear_refs).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    format!(", peak memory {}", crate::format::format_bytes(kib * 1024))
}

/// Progress on standard error, at most a few lines a second.
struct Stderr {
    name: &'static str,
    quiet: bool,
    started: Instant,
    last: Option<Instant>,
}

impl Stderr {
    fn done(&self) {
        if !self.quiet {
            eprintln!("vigil: {}: done in {:.2} s{}", self.name, self.started.elapsed().as_secs_f64(), peak_memory());
        }
    }
}

impl Progress for Stderr {
    fn step(&mut self, phase: &'static str, detail: &str, fraction: f64) -> impl std::future::Future<Output = Result<(), Stopped>> {
        if !self.quiet && self.last.is_none_or(|t| t.elapsed().as_millis() >= 500) {
            self.last = Some(Instant::now());
            let what = if detail.is_empty() { phase } else { detail };
            eprintln!("vigil: {}: {what} ({:.0} %)", self.name, fraction * 100.0);
        }
        std::future::ready(Ok(()))
    }
}

/// Parses a time given on the command line (ISO 8601, UTC unless it says otherwise).
fn parse_time(text: &str, what: &str) -> Result<i64, String> {
    parse_timestamp_text(text.trim()).ok_or_else(|| format!("{what}: “{text}” is not a date or time (write it as 2026-08-17 or 2026-08-17T06:00:00Z)"))
}

/// An incident of a trend (as the Trends tab lists it) with its periods in UTC ms and ISO 8601
/// and, when asked, its explanation.
#[derive(Debug, Clone, Serialize)]
pub struct FoundIncident {
    #[serde(flatten)]
    pub found: trend::FoundIncident,
    /// The incident's periods, `[start, end)`.
    pub start_ms: i64,
    pub end_ms: i64,
    pub start_iso: String,
    pub end_iso: String,
    /// The root cause's one-line summary, or why there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    #[serde(skip)]
    pub report: Option<RcaReport>,
}

/// A trend's incidents, largest first, as the Trends tab lists them for Root cause.
pub fn incidents(report: &TrendReport) -> Vec<FoundIncident> {
    trend::found_incidents(report)
        .into_iter()
        .map(|found| {
            let Window { start_ms, end_ms } = found.incident.clone();
            FoundIncident { found, start_ms, end_ms, start_iso: format_iso_ms(start_ms), end_iso: format_iso_ms(end_ms), root_cause: None, report: None }
        })
        .collect()
}

/// Explains the largest incidents (at most [`MAX_EXPLAINED`], a core each) in the trend's
/// metric, as the Trends tab's "Explain" does.
pub fn explain(session: &Session, settings: &TrendSettings, found: &mut [FoundIncident]) {
    let Some(time_column) = settings.time.clone() else { return };
    let asks: Vec<AnyParams> = found
        .iter()
        .take(MAX_EXPLAINED)
        .map(|i| AnyParams::RootCause(RcaParams::explaining(time_column.clone(), settings.decomposable_metric(), i.found.baseline.clone(), i.found.incident.clone())))
        .collect();
    // As many at once as there are cores (each root cause runs on one), not one thread each.
    let answers: Vec<Result<AnyReport, String>> = crate::analysis::parallel::map(&asks, |params| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.run(params))).unwrap_or_else(|_| Err("the root cause stopped unexpectedly".into()))
    });
    for (incident, answer) in found.iter_mut().zip(answers) {
        match answer {
            Ok(AnyReport::RootCause(report)) => {
                incident.root_cause = Some(report.summary.clone());
                incident.report = Some(report);
            }
            Ok(_) => {}
            Err(err) => incident.root_cause = Some(format!("no root cause: {err}")),
        }
    }
}

/// Everything `analyze` computed.
pub struct Analysed {
    pub reports: Vec<AnyReport>,
    /// Analyses that failed, with why.
    pub failed: Vec<(String, String)>,
    pub incidents: Vec<FoundIncident>,
}

/// Runs every analysis of the session's plan, one after another, explaining the trend's
/// incidents as soon as the trend is done.
///
/// One at a time: each spreads its own work over the cores where it can (the profile's columns,
/// the label checks' columns, several incidents' root causes), and the memory any one of them
/// needs beside the table is not added to the others'. Run side by side, they held 1.9× the
/// table at their peak on 10 million rows (1.56× one after another, 13 % longer).
pub fn analyse(session: &Session) -> Analysed {
    let mut out = Analysed { reports: Vec::new(), failed: Vec::new(), incidents: Vec::new() };
    for params in &session.plan.analyses() {
        let result = session.run(params);
        if let (Ok(AnyReport::Trend(trend)), Some(settings)) = (&result, &session.plan.trend) {
            let mut found = incidents(trend);
            explain(session, settings, &mut found);
            out.incidents.extend(found);
        }
        match result {
            Ok(report) => out.reports.push(report),
            Err(err) => out.failed.push((params.name().to_string(), err)),
        }
    }
    out
}

/// The JSON document of an analysis run: every report, the incidents with their root causes,
/// what failed and what was noticed.
pub fn document(session: &Session, analysed: &Analysed) -> Value {
    let mut doc = reports_json(&analysed.reports, &session.notices);
    if let Value::Object(map) = &mut doc {
        map.insert("data".into(), serde_json::json!({ "source": session.data, "rows": session.table().n_rows, "rows_in_view": session.rows.len(), "rejected_rows": session.load.rejected_total }));
        let incidents: Vec<Value> = analysed
            .incidents
            .iter()
            .map(|i| {
                let mut value = with_iso_times(serde_json::to_value(i).unwrap_or(Value::Null));
                if let (Value::Object(obj), Some(report)) = (&mut value, &i.report) {
                    obj.insert("root_cause_report".into(), report_json(&AnyReport::RootCause(report.clone())));
                }
                value
            })
            .collect();
        map.insert("incidents".into(), Value::Array(incidents));
        if !analysed.failed.is_empty() {
            map.insert("failed".into(), analysed.failed.iter().map(|(name, err)| (name.clone(), Value::String(err.clone()))).collect::<serde_json::Map<_, _>>().into());
        }
    }
    doc
}

fn analyze(args: AnalyzeArgs) -> Result<(), String> {
    let session = Session::open(&args.input)?;
    let analysed = analyse(&session);
    for (name, err) in &analysed.failed {
        eprintln!("vigil: {name} failed: {err}");
    }
    let out = &args.out;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create the report directory {}: {e}", out.display()))?;
    let doc = document(&session, &analysed);
    let mut written = Vec::new();
    if args.format.contains(&Format::Json) {
        let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
        written.push(write(out, "vigil-report.json", text.as_bytes())?);
    }
    if args.format.contains(&Format::Csv) {
        for (name, value) in doc.get("reports").and_then(Value::as_object).into_iter().flatten() {
            for table in tables(name, value) {
                written.push(write(out, &format!("{}.csv", table.name), table.csv.as_bytes())?);
            }
        }
        // One row per incident, and its root cause's tables apart (their `row` is the incident's).
        let list = doc.get("incidents").and_then(Value::as_array).cloned().unwrap_or_default();
        let (mut plain, mut causes) = (Vec::new(), Vec::new());
        for mut incident in list {
            causes.push(incident.as_object_mut().and_then(|o| o.remove("root_cause_report")).unwrap_or(Value::Null));
            plain.push(incident);
        }
        for table in tables("incidents", &Value::Array(plain)).into_iter().chain(tables("incident_root_causes", &Value::Array(causes))) {
            written.push(write(out, &format!("{}.csv", table.name), table.csv.as_bytes())?);
        }
    }
    if args.format.contains(&Format::Html) {
        let page = html::report(&session, &analysed);
        written.push(write(out, "vigil-report.html", page.as_bytes())?);
    }
    if session.load.rejected_total > 0 {
        written.push(write(out, "rejected-rows.csv", input::rejected_csv(&session.load).as_bytes())?);
    }
    if !session.quiet {
        eprintln!("vigil: wrote {} files to {}", written.len(), out.display());
    }
    let mut stdout = std::io::stdout().lock();
    for path in written {
        let _ = writeln!(stdout, "{}", path.display());
    }
    Ok(())
}

fn sql(args: SqlArgs) -> Result<(), String> {
    use crate::warehouse::sql::{cube_sql, sample_sql, Dialect};
    let dialect = Dialect::from_name(&args.dialect).ok_or_else(|| format!("--dialect: “{}” is not one of {}", args.dialect, Dialect::ALL.map(Dialect::name).join(", ")))?;
    if args.sample && args.per_period == 0 {
        return Err("--per-period: keep at least one row per period".into());
    }
    let session = Session::open(&args.input)?;
    let spec = session.cube_spec(args.top)?;
    let query = if args.sample { sample_sql(&spec, dialect, &args.table, Some(session.table()), args.per_period, args.seed) } else { cube_sql(&spec, dialect, &args.table, Some(session.table())) }.map_err(|e| e.to_string())?;
    let mut stdout = std::io::stdout().lock();
    for note in &query.notes {
        let _ = writeln!(stdout, "-- Note: {note}");
    }
    let _ = write!(stdout, "{}", query.sql);
    Ok(())
}

fn cube(args: CubeArgs) -> Result<(), String> {
    let session = Session::open(&args.input)?;
    let spec = session.cube_spec(args.top)?;
    // The cube's own filter is the view's: every row is offered to it.
    let all: Vec<u32> = (0..session.table().n_rows as u32).collect();
    let csv = crate::warehouse::aggregate_csv(session.table(), &all, session.weights(), &spec).map_err(|e| e.to_string())?;
    match &args.out {
        Some(path) => std::fs::write(path, csv).map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        None => {
            let _ = std::io::stdout().lock().write_all(csv.as_bytes());
        }
    }
    Ok(())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
