//! The SQL that makes a warehouse compute the cube of a view (and a weighted sample of its
//! rows), in the dialects analysts' warehouses speak. Hand-written for these two query shapes:
//! each dialect differs in quoting, strings, time zones, truncation and random numbers, and
//! nothing else is needed.

use serde::{Deserialize, Serialize};

use super::{CubeError, CubeSpec, EVENTS, GROUPING_ID, OTHER, TS_BUCKET};
use crate::analysis::series::Granularity;
use crate::data::expr::{ansi_identifier, ansi_string, to_sql_in, SqlStyle};
use crate::data::filter::Clause;
use crate::data::table::{format_float, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dialect {
    Spark,
    Trino,
    BigQuery,
    Snowflake,
    DuckDb,
}

impl Dialect {
    pub const ALL: [Dialect; 5] = [Dialect::Spark, Dialect::Trino, Dialect::BigQuery, Dialect::Snowflake, Dialect::DuckDb];

    /// Its name on the command line and in `sqlglot` ("spark", "trino", "bigquery",
    /// "snowflake", "duckdb").
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Spark => "spark",
            Dialect::Trino => "trino",
            Dialect::BigQuery => "bigquery",
            Dialect::Snowflake => "snowflake",
            Dialect::DuckDb => "duckdb",
        }
    }

    /// What it is called on screen.
    pub fn title(self) -> &'static str {
        match self {
            Dialect::Spark => "Spark SQL",
            Dialect::Trino => "Trino / Presto",
            Dialect::BigQuery => "BigQuery",
            Dialect::Snowflake => "Snowflake",
            Dialect::DuckDb => "DuckDB",
        }
    }

    pub fn from_name(name: &str) -> Option<Dialect> {
        let lower = name.to_ascii_lowercase();
        Self::ALL.into_iter().find(|d| d.name() == lower || (lower == "presto" && *d == Dialect::Trino))
    }

    fn style(self) -> SqlStyle {
        match self {
            Dialect::Spark => SqlStyle { identifier: backtick_doubled, string: backslash_string, timestamp: ansi_timestamp, contains: instr_contains },
            Dialect::BigQuery => SqlStyle { identifier: backtick_escaped, string: backslash_string, timestamp: ansi_timestamp, contains: bigquery_contains },
            Dialect::Snowflake => SqlStyle { identifier: ansi_identifier, string: snowflake_string, timestamp: snowflake_timestamp, contains: position_contains },
            Dialect::Trino | Dialect::DuckDb => SqlStyle { identifier: ansi_identifier, string: ansi_string, timestamp: ansi_timestamp, contains: strpos_contains },
        }
    }

    fn text_type(self) -> &'static str {
        match self {
            Dialect::Spark | Dialect::BigQuery => "STRING",
            _ => "VARCHAR",
        }
    }

    fn double_type(self) -> &'static str {
        match self {
            Dialect::BigQuery => "FLOAT64",
            _ => "DOUBLE",
        }
    }

    /// The wall-clock time of UTC timestamp `ts` (already quoted) at a fixed offset or in an
    /// IANA zone.
    fn local_time(self, ts: &str, offset_minutes: i32, zone: Option<&str>) -> String {
        let string = self.style().string;
        match (self, zone) {
            (Dialect::Spark, Some(z)) => format!("convert_timezone('UTC', {}, {ts})", string(z)),
            (Dialect::Trino, Some(z)) => format!("CAST({ts} AT TIME ZONE 'UTC' AT TIME ZONE {} AS TIMESTAMP)", string(z)),
            (Dialect::BigQuery, Some(z)) => format!("DATETIME({ts}, {})", string(z)),
            (Dialect::Snowflake, Some(z)) => format!("CONVERT_TIMEZONE('UTC', {}, {ts})", string(z)),
            (Dialect::DuckDb, Some(z)) => format!("timezone({}, timezone('UTC', {ts}))", string(z)),
            (Dialect::BigQuery, None) if offset_minutes == 0 => format!("DATETIME({ts})"),
            (_, None) if offset_minutes == 0 => ts.to_string(),
            (Dialect::Spark, None) => format!("{ts} + INTERVAL {offset_minutes} MINUTES"),
            (Dialect::Trino, None) => format!("{ts} + INTERVAL '{offset_minutes}' MINUTE"),
            (Dialect::BigQuery, None) => format!("DATETIME_ADD(DATETIME({ts}), INTERVAL {offset_minutes} MINUTE)"),
            (Dialect::Snowflake, None) => format!("DATEADD(MINUTE, {offset_minutes}, {ts})"),
            (Dialect::DuckDb, None) => format!("{ts} + INTERVAL ({offset_minutes}) MINUTE"),
        }
    }

    /// The start of the period holding wall-clock time `local`.
    fn truncate(self, granularity: Granularity, local: &str) -> String {
        let unit = match granularity {
            Granularity::Hour => "HOUR",
            Granularity::Day | Granularity::Auto => "DAY",
            Granularity::Week => "WEEK",
            Granularity::Month => "MONTH",
        };
        match self {
            Dialect::BigQuery => format!("DATETIME_TRUNC({local}, {})", if unit == "WEEK" { "ISOWEEK" } else { unit }),
            Dialect::Trino | Dialect::DuckDb => format!("date_trunc('{}', {local})", unit.to_ascii_lowercase()),
            Dialect::Spark | Dialect::Snowflake => format!("DATE_TRUNC('{unit}', {local})"),
        }
    }

    /// A uniform random number in [0, 1), seeded where the dialect allows it.
    fn random(self, seed: u64) -> String {
        match self {
            Dialect::Spark => format!("rand({seed})"),
            Dialect::Snowflake => format!("UNIFORM(0::FLOAT, 1::FLOAT, RANDOM({seed}))"),
            Dialect::BigQuery => "RAND()".into(),
            Dialect::Trino | Dialect::DuckDb => "random()".into(),
        }
    }
}

fn backtick_doubled(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn backtick_escaped(name: &str) -> String {
    format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
}

fn backslash_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn snowflake_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

fn ansi_timestamp(text: &str) -> String {
    format!("TIMESTAMP '{text}'")
}

fn snowflake_timestamp(text: &str) -> String {
    format!("TO_TIMESTAMP_NTZ('{text}')")
}

fn instr_contains(column: &str, needle: &str) -> String {
    format!("instr(lower({column}), {}) > 0", backslash_string(needle))
}

fn strpos_contains(column: &str, needle: &str) -> String {
    format!("STRPOS(LOWER({column}), {}) > 0", ansi_string(needle))
}

fn bigquery_contains(column: &str, needle: &str) -> String {
    format!("STRPOS(LOWER({column}), {}) > 0", backslash_string(needle))
}

fn position_contains(column: &str, needle: &str) -> String {
    format!("POSITION({} IN LOWER({column})) > 0", snowflake_string(needle))
}

/// A query and what its reader should know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    pub dialect: Dialect,
    pub sql: String,
    pub notes: Vec<String>,
}

/// The filter's clauses as a condition (`None` when there are none).
fn filter_sql(dialect: Dialect, clauses: &[Clause], table: Option<&Table>, notes: &mut Vec<String>) -> Result<Option<String>, CubeError> {
    let style = dialect.style();
    let id = |c: &str| (style.identifier)(c);
    let text = |c: &str| format!("CAST({} AS {})", id(c), dialect.text_type());
    let mut parts = Vec::new();
    for clause in clauses {
        parts.push(match clause {
            Clause::InSet { column, values, negate } => {
                let list = values.iter().map(|v| (style.string)(v)).collect::<Vec<_>>().join(", ");
                if *negate { format!("({} IS NULL OR {} NOT IN ({list}))", id(column), text(column)) } else { format!("{} IN ({list})", text(column)) }
            }
            Clause::Range { column, min, max } => {
                let bounds: Vec<String> = [min.map(|v| format!("{} >= {}", id(column), format_float(v))), max.map(|v| format!("{} <= {}", id(column), format_float(v)))].into_iter().flatten().collect();
                if bounds.is_empty() { format!("{} IS NOT NULL", id(column)) } else { bounds.join(" AND ") }
            }
            Clause::TimeRange { column, start_ms, end_ms } => {
                let bounds: Vec<String> = [start_ms.map(|v| format!("{} >= {}", id(column), style.timestamp_ms(v))), end_ms.map(|v| format!("{} < {}", id(column), style.timestamp_ms(v)))].into_iter().flatten().collect();
                if bounds.is_empty() { format!("{} IS NOT NULL", id(column)) } else { bounds.join(" AND ") }
            }
            Clause::Contains { column, text: needle } => (style.contains)(&text(column), &needle.to_lowercase()),
            Clause::Missing { column, missing } => format!("{} IS {}NULL", id(column), if *missing { "" } else { "NOT " }),
            Clause::Rule { name, text: rule, negate } => {
                let expr = crate::data::expr::parse(rule).map_err(|e| CubeError::Filter(format!("rule “{name}”: {e}")))?;
                let condition = to_sql_in(&style, &expr, table, notes);
                if *negate { format!("NOT COALESCE(({condition}), FALSE)") } else { format!("COALESCE(({condition}), FALSE)") }
            }
        });
    }
    notes.retain(|n| !n.starts_with("“contains”"));
    if clauses.iter().any(|c| matches!(c, Clause::InSet { .. } | Clause::Contains { .. })) {
        notes.push("Values are compared as text, as Vigil shows them: a number column's 3.0 may read “3.0” in the warehouse and “3” in Vigil.".into());
    }
    Ok((!parts.is_empty()).then(|| parts.into_iter().map(|p| format!("({p})")).collect::<Vec<_>>().join(" AND ")))
}

/// What both queries start from: each row's period, its weight (1, or the source's weight
/// column) and the `WHERE` conditions (a time, and the view's filter).
struct Base {
    bucket: String,
    weight: String,
    conditions: Vec<String>,
}

fn base(spec: &CubeSpec, dialect: Dialect, table: Option<&Table>, notes: &mut Vec<String>) -> Result<Base, CubeError> {
    let id = dialect.style().identifier;
    let local = dialect.local_time(&id(&spec.time), spec.utc_offset_minutes, spec.time_zone.as_deref());
    let weight = match &spec.weight {
        Some(w) => format!("CAST({} AS {})", id(w), dialect.double_type()),
        None => "1".into(),
    };
    let mut conditions = vec![format!("{} IS NOT NULL", id(&spec.time))];
    conditions.extend(filter_sql(dialect, &spec.filter.clauses, table, notes)?);
    Ok(Base { bucket: dialect.truncate(spec.granularity, &local), weight, conditions })
}

/// Refuses a table name that would end the query or hide its rest: it is written into the
/// query as given (`project.dataset.events`, quoted or not, as the warehouse reads it), so a
/// pasted `events; DELETE …` or a `--` would run as more than a name.
fn check_source(source: &str) -> Result<(), CubeError> {
    let what = if source.trim().is_empty() {
        "nothing"
    } else if source.contains(';') {
        "“;”, which ends a statement"
    } else if source.contains("--") || source.contains("/*") {
        "a comment, which would hide the rest of the query"
    } else if source.contains(['\n', '\r']) {
        "a line break"
    } else {
        return Ok(());
    };
    Err(CubeError::Source { name: crate::analysis::contract::shorten(source), what })
}

/// The query producing the cube of `spec` from `source` (a table name, used as written:
/// `project.dataset.events`). `table` (when given) types the filter's literals.
pub fn cube_sql(spec: &CubeSpec, dialect: Dialect, source: &str, table: Option<&Table>) -> Result<Query, CubeError> {
    check_source(source)?;
    if spec.top == 0 {
        return Err(CubeError::Choose("at least one value kept per dimension".into()));
    }
    let style = dialect.style();
    let id = |c: &str| (style.identifier)(c);
    let mut notes = Vec::new();
    let Base { bucket, weight, conditions } = base(spec, dialect, table, &mut notes)?;
    let mut select = vec![format!("{bucket} AS {}", id(TS_BUCKET))];
    select.extend(spec.dimensions.iter().map(|d| format!("CAST({} AS {}) AS {}", id(d), dialect.text_type(), id(d))));
    select.push(format!("{weight} AS vigil_w"));
    select.extend(spec.measures.iter().map(|m| format!("CAST({} AS {}) AS {}", id(m), dialect.double_type(), id(m))));
    let mut ctes = vec![format!("base AS (\n  SELECT\n    {}\n  FROM {source}\n  WHERE {}\n)", select.join(",\n    "), conditions.join("\n    AND "))];
    for (i, d) in spec.dimensions.iter().enumerate() {
        ctes.push(format!("top_{i} AS (\n  SELECT {d} AS v FROM base WHERE {d} IS NOT NULL GROUP BY {d} ORDER BY SUM(vigil_w) DESC, {d} LIMIT {}\n)", spec.top, d = id(d)));
    }
    let mut folded = vec![id(TS_BUCKET)];
    folded.extend(spec.dimensions.iter().enumerate().map(|(i, d)| format!("CASE WHEN {d} IS NULL THEN NULL WHEN {d} IN (SELECT v FROM top_{i}) THEN {d} ELSE {} END AS {d}", (style.string)(OTHER), d = id(d))));
    folded.push("vigil_w".into());
    folded.extend(spec.measures.iter().map(|m| id(m)));
    ctes.push(format!("folded AS (\n  SELECT\n    {}\n  FROM base\n)", folded.join(",\n    ")));
    let k = spec.dimensions.len();
    let grouping_id = if k == 0 {
        "0".to_string()
    } else {
        spec.dimensions.iter().enumerate().map(|(i, d)| format!("GROUPING({}) * {}", id(d), 1u64 << (k - 1 - i).min(62))).collect::<Vec<_>>().join(" + ")
    };
    let mut outer = vec![id(TS_BUCKET)];
    outer.extend(spec.dimensions.iter().map(|d| id(d)));
    outer.push(format!("{grouping_id} AS {}", id(GROUPING_ID)));
    outer.push(format!("SUM(vigil_w) AS {}", id(EVENTS)));
    outer.extend(spec.measures.iter().map(|m| format!("SUM({m} * vigil_w) / SUM(vigil_w) AS {m}", m = id(m))));
    let sets: Vec<String> = super::grouping_sets(k)
        .iter()
        .map(|set| format!("({})", std::iter::once(id(TS_BUCKET)).chain(set.iter().filter_map(|&i| spec.dimensions.get(i)).map(|d| id(d))).collect::<Vec<_>>().join(", ")))
        .collect();
    let group_by = if k == 0 { format!("GROUP BY {}", id(TS_BUCKET)) } else { format!("GROUP BY GROUPING SETS (\n  {}\n)", sets.join(",\n  ")) };
    let order: Vec<String> = [id(TS_BUCKET), id(GROUPING_ID)].into_iter().chain(spec.dimensions.iter().map(|d| id(d))).collect();
    let sql = format!(
        "-- Vigil cube: {granularity} periods of {time}{zone}; {k} dimension(s), top {top} values each (the rest are '{OTHER}'); {m} measure(s) per event.\n-- Rows per period: every dimension (grouping_id 0), {rolled}, and the total.\n-- Load the result into Vigil: it is recognised as a cube.\nWITH {ctes}\nSELECT\n  {outer}\nFROM folded\n{group_by}\nORDER BY {order}\n",
        granularity = spec.granularity.label().to_lowercase(),
        time = spec.time,
        zone = match (&spec.time_zone, spec.utc_offset_minutes) {
            (Some(z), _) => format!(" in {z}"),
            (None, 0) => " in UTC".into(),
            (None, m) => format!(" at UTC{}{:02}:{:02}", if m < 0 { '−' } else { '+' }, m.abs() / 60, m.abs() % 60),
        },
        top = spec.top,
        m = spec.measures.len(),
        rolled = if k <= super::MAX_PAIRED { "each dimension alone and each pair".to_string() } else { format!("each dimension alone (pairs only up to {} dimensions)", super::MAX_PAIRED) },
        ctes = ctes.join(",\n"),
        outer = outer.join(",\n  "),
        order = order.join(", "),
    );
    notes.push(format!("{} must hold UTC times of type TIMESTAMP; {TS_BUCKET} is the period's start on the wall clock of the view's zone.", spec.time));
    match dialect {
        Dialect::Snowflake if spec.granularity == Granularity::Week => notes.push("Weeks start on Monday when the session's WEEK_START is 0 or 1 (the default).".into()),
        Dialect::Spark | Dialect::Trino if spec.time_zone.is_some() => notes.push(format!("Run with the session's time zone set to UTC ({}).", if dialect == Dialect::Spark { "spark.sql.session.timeZone" } else { "SET TIME ZONE 'UTC'" })),
        _ => {}
    }
    Ok(Query { dialect, sql, notes })
}

/// Rows per period the sample keeps (about).
pub const SAMPLE_PER_PERIOD: usize = 2_000;
/// The sample's seed unless one is chosen.
pub const SAMPLE_SEED: u64 = 1;

/// The query for a stratified sample of the view's rows: about `per_period` rows of each
/// period, each with `vigil_weight` = 1/p, the events it stands for (load it with that weight
/// column for clusters, trees and regression).
pub fn sample_sql(spec: &CubeSpec, dialect: Dialect, source: &str, table: Option<&Table>, per_period: usize, seed: u64) -> Result<Query, CubeError> {
    check_source(source)?;
    if per_period == 0 {
        return Err(CubeError::Choose("a sample of at least one row per period".into()));
    }
    let mut notes = Vec::new();
    let Base { bucket, weight, conditions } = base(spec, dialect, table, &mut notes)?;
    let sql = format!(
        "-- Vigil sample: about {per_period} rows of each {granularity} of {time}, each weighted by 1/p (vigil_weight).\nWITH base AS (\n  SELECT t.*, {bucket} AS vigil_period, {random} AS vigil_u, {weight} AS vigil_w0\n  FROM {source} AS t\n  WHERE {conditions}\n),\nsized AS (\n  SELECT base.*, LEAST(1.0, {per_period} / CAST(COUNT(*) OVER (PARTITION BY vigil_period) AS {double})) AS vigil_p\n  FROM base\n)\nSELECT sized.*, vigil_w0 / vigil_p AS vigil_weight\nFROM sized\nWHERE vigil_u < vigil_p\n",
        granularity = spec.granularity.label().to_lowercase(),
        time = spec.time,
        random = dialect.random(seed),
        conditions = conditions.join("\n    AND "),
        double = dialect.double_type(),
    );
    notes.push("Drop the vigil_period, vigil_u, vigil_w0 and vigil_p columns if you like; choose vigil_weight as the weight column in Vigil.".into());
    if matches!(dialect, Dialect::BigQuery | Dialect::Trino | Dialect::DuckDb) {
        notes.push(format!("{} has no seeded random numbers: each run draws another sample.", dialect.title()));
    }
    Ok(Query { dialect, sql, notes })
}
