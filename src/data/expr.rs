//! The rule language: conditions on columns joined by `and` / `or` / `not` with parentheses,
//! parsed with errors at the exact position, evaluated per row with SQL's three-valued logic
//! (a condition on a missing cell is unknown, and a rule flags a row only when it is true, as
//! a warehouse `WHERE` would), and written back as an ANSI SQL `WHERE` clause.
//!
//! ```text
//! prior_strikes >= 2 and account_age_days < 30
//! country in ("BR", "ID") or (reason = scam and not platform = web)
//! risk_score between 0.5 and 0.9 and follower_count is not missing
//! `report text` contains "free money"
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::table::{Column, ColumnData, ColumnType, Strings, Table, Value, MISSING_CODE};
use super::time::{format_iso_ms, parse_timestamp_text};

/// A parsed rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cond(Cond),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ordering == Equal,
            CmpOp::Ne => ordering != Equal,
            CmpOp::Lt => ordering == Less,
            CmpOp::Le => ordering != Greater,
            CmpOp::Gt => ordering == Greater,
            CmpOp::Ge => ordering != Less,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Literal {
    Number(f64),
    Text(String),
}

impl Literal {
    fn text(&self) -> String {
        match self {
            Literal::Number(n) => super::table::format_float(*n),
            Literal::Text(t) => t.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cond {
    Compare { column: String, op: CmpOp, value: Literal },
    In { column: String, values: Vec<Literal>, negate: bool },
    Between { column: String, low: f64, high: f64 },
    Missing { column: String, missing: bool },
    /// Case-insensitive substring.
    Contains { column: String, text: String },
}

impl Cond {
    pub fn column(&self) -> &str {
        match self {
            Cond::Compare { column, .. } | Cond::In { column, .. } | Cond::Between { column, .. } | Cond::Missing { column, .. } | Cond::Contains { column, .. } => column,
        }
    }
}

/// What is wrong with a rule, and where (0-based character offset into its text).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[error("at character {}: {message}", position + 1)]
pub struct RuleError {
    pub position: usize,
    pub message: String,
}

fn error(position: usize, message: impl Into<String>) -> RuleError {
    RuleError { position, message: message.into() }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Quoted(String),
    Str(String),
    Num(f64),
    Op(CmpOp),
    LParen,
    RParen,
    Comma,
}

fn describe(tok: Option<&(Tok, usize)>) -> String {
    match tok.map(|t| &t.0) {
        None => "the end of the rule".into(),
        Some(Tok::Ident(s)) => format!("“{s}”"),
        Some(Tok::Quoted(s)) => format!("`{s}`"),
        Some(Tok::Str(s)) => format!("\"{s}\""),
        Some(Tok::Num(n)) => format!("the number {n}"),
        Some(Tok::Op(op)) => format!("“{}”", op.symbol()),
        Some(Tok::LParen) => "“(”".into(),
        Some(Tok::RParen) => "“)”".into(),
        Some(Tok::Comma) => "“,”".into(),
    }
}

fn tokenize(text: &str) -> Result<Vec<(Tok, usize)>, RuleError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => {
                out.push((Tok::LParen, start));
                i += 1;
            }
            ')' => {
                out.push((Tok::RParen, start));
                i += 1;
            }
            ',' => {
                out.push((Tok::Comma, start));
                i += 1;
            }
            '=' => {
                i += if chars.get(i + 1) == Some(&'=') { 2 } else { 1 };
                out.push((Tok::Op(CmpOp::Eq), start));
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push((Tok::Op(CmpOp::Ne), start));
                i += 2;
            }
            '<' => {
                let (op, len) = match chars.get(i + 1) {
                    Some('=') => (CmpOp::Le, 2),
                    Some('>') => (CmpOp::Ne, 2),
                    _ => (CmpOp::Lt, 1),
                };
                out.push((Tok::Op(op), start));
                i += len;
            }
            '>' => {
                let (op, len) = if chars.get(i + 1) == Some(&'=') { (CmpOp::Ge, 2) } else { (CmpOp::Gt, 1) };
                out.push((Tok::Op(op), start));
                i += len;
            }
            '"' | '\'' | '`' => {
                let quote = c;
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(error(start, format!("the text opened here with {quote} is not closed"))),
                        Some(&ch) if ch == quote => {
                            // A doubled quote stands for itself.
                            if chars.get(i + 1) == Some(&quote) {
                                value.push(quote);
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(&ch) => {
                            value.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push((if quote == '`' { Tok::Quoted(value) } else { Tok::Str(value) }, start));
            }
            c if c.is_ascii_digit() || ((c == '-' || c == '.') && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit() || *n == '.')) => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || matches!(chars[j], '.' | '-' | '+' | ':')) {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                match word.parse::<f64>() {
                    Ok(value) if value.is_finite() => out.push((Tok::Num(value), start)),
                    // A bare date or version ("2026-01-10", "32.1.4") is a text value.
                    _ if word.chars().next().is_some_and(|c| c.is_ascii_digit()) => out.push((Tok::Ident(word), start)),
                    _ => return Err(error(start, format!("“{word}” is not a number"))),
                }
                i = j;
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_alphanumeric() || matches!(chars[j], '_' | '.' | '-' | ':' | '/')) {
                    j += 1;
                }
                out.push((Tok::Ident(chars[i..j].iter().collect()), start));
                i = j;
            }
            other => return Err(error(start, format!("unexpected “{other}”"))),
        }
    }
    Ok(out)
}

/// How deep `not` and parentheses may nest. Every step of nesting is a call in the parser,
/// in [`compile`] and in [`to_sql_in`]: without a bound, a rule of ten thousand `(` overflows
/// the stack (a wasm worker's is 1 MiB) and kills the process, which no error can report.
pub const MAX_NESTING: usize = 64;

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
    end: usize,
    /// `not`s and open parentheses around the token at `at`.
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&(Tok, usize)> {
        self.toks.get(self.at)
    }

    fn position(&self) -> usize {
        self.peek().map_or(self.end, |t| t.1)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some((Tok::Ident(w), _)) if w.eq_ignore_ascii_case(word))
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        let found = self.keyword(word);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect_keyword(&mut self, word: &str, context: &str) -> Result<(), RuleError> {
        if self.eat_keyword(word) {
            Ok(())
        } else {
            Err(error(self.position(), format!("expected “{word}” {context}, found {}", describe(self.peek()))))
        }
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let mut parts = vec![self.and()?];
        while self.eat_keyword("or") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Or(parts) })
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut parts = vec![self.unary()?];
        while self.eat_keyword("and") {
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::And(parts) })
    }

    fn unary(&mut self) -> Result<Expr, RuleError> {
        let nests = self.keyword("not") || matches!(self.peek(), Some((Tok::LParen, _)));
        if nests && self.depth >= MAX_NESTING {
            return Err(error(self.position(), format!("“not” and “(” nest more than {MAX_NESTING} deep here: write the rule flatter")));
        }
        if self.eat_keyword("not") {
            self.depth += 1;
            let inner = self.unary();
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner?)));
        }
        if matches!(self.peek(), Some((Tok::LParen, _))) {
            let open = self.position();
            self.at += 1;
            self.depth += 1;
            let inner = self.or();
            self.depth -= 1;
            let inner = inner?;
            return match self.peek() {
                Some((Tok::RParen, _)) => {
                    self.at += 1;
                    Ok(inner)
                }
                other => Err(error(self.position(), format!("expected “)” to close the “(” at character {}, found {}", open + 1, describe(other)))),
            };
        }
        self.condition()
    }

    fn column(&mut self) -> Result<String, RuleError> {
        match self.peek().cloned() {
            Some((Tok::Ident(name), _)) if !["and", "or", "not", "in", "between", "is", "contains"].iter().any(|k| name.eq_ignore_ascii_case(k)) => {
                self.at += 1;
                Ok(name)
            }
            Some((Tok::Quoted(name), _)) => {
                self.at += 1;
                Ok(name)
            }
            other => Err(error(self.position(), format!("expected a column name, found {}", describe(other.as_ref())))),
        }
    }

    fn literal(&mut self, after: &str) -> Result<Literal, RuleError> {
        match self.peek().cloned() {
            Some((Tok::Num(n), _)) => {
                self.at += 1;
                Ok(Literal::Number(n))
            }
            Some((Tok::Str(s), _)) => {
                self.at += 1;
                Ok(Literal::Text(s))
            }
            Some((Tok::Ident(s), _)) if !["and", "or", "not"].iter().any(|k| s.eq_ignore_ascii_case(k)) => {
                self.at += 1;
                Ok(Literal::Text(s))
            }
            other => Err(error(self.position(), format!("expected a value after {after}, found {}", describe(other.as_ref())))),
        }
    }

    fn number(&mut self, after: &str) -> Result<f64, RuleError> {
        match self.peek().cloned() {
            Some((Tok::Num(n), _)) => {
                self.at += 1;
                Ok(n)
            }
            other => Err(error(self.position(), format!("expected a number after {after}, found {}", describe(other.as_ref())))),
        }
    }

    fn condition(&mut self) -> Result<Expr, RuleError> {
        let column = self.column()?;
        let cond = match self.peek().cloned() {
            Some((Tok::Op(op), _)) => {
                self.at += 1;
                let value = self.literal(&format!("“{}”", op.symbol()))?;
                Cond::Compare { column, op, value }
            }
            Some((Tok::Ident(word), _)) => {
                let word = word.to_ascii_lowercase();
                self.at += 1;
                match word.as_str() {
                    "in" => Cond::In { values: self.list()?, column, negate: false },
                    "not" => {
                        self.expect_keyword("in", &format!("after “{column} not”"))?;
                        Cond::In { values: self.list()?, column, negate: true }
                    }
                    "between" => {
                        let low = self.number("“between”")?;
                        self.expect_keyword("and", "between the two bounds")?;
                        let high = self.number("“and”")?;
                        if high < low {
                            return Err(error(self.position(), format!("the range {low} to {high} is empty: the lower bound comes first")));
                        }
                        Cond::Between { column, low, high }
                    }
                    "is" => {
                        let negate = self.eat_keyword("not");
                        if !(self.eat_keyword("missing") || self.eat_keyword("null")) {
                            return Err(error(self.position(), format!("expected “missing” after “is{}”, found {}", if negate { " not" } else { "" }, describe(self.peek()))));
                        }
                        Cond::Missing { column, missing: !negate }
                    }
                    "contains" => match self.literal("“contains”")? {
                        Literal::Text(text) => Cond::Contains { column, text },
                        Literal::Number(n) => Cond::Contains { column, text: super::table::format_float(n) },
                    },
                    _ => {
                        self.at -= 1;
                        return Err(error(self.position(), format!("expected a comparison (=, !=, <, <=, >, >=, in, not in, between, is missing, contains) after the column “{column}”, found {}", describe(self.peek()))));
                    }
                }
            }
            other => return Err(error(self.position(), format!("expected a comparison (=, !=, <, <=, >, >=, in, not in, between, is missing, contains) after the column “{column}”, found {}", describe(other.as_ref())))),
        };
        Ok(Expr::Cond(cond))
    }

    fn list(&mut self) -> Result<Vec<Literal>, RuleError> {
        if !matches!(self.peek(), Some((Tok::LParen, _))) {
            return Err(error(self.position(), format!("expected “(” to start the list of values, found {}", describe(self.peek()))));
        }
        self.at += 1;
        let mut values = vec![self.literal("“(”")?];
        loop {
            match self.peek() {
                Some((Tok::Comma, _)) => {
                    self.at += 1;
                    values.push(self.literal("“,”")?);
                }
                Some((Tok::RParen, _)) => {
                    self.at += 1;
                    return Ok(values);
                }
                other => return Err(error(self.position(), format!("expected “,” or “)” in the list of values, found {}", describe(other)))),
            }
        }
    }
}

const KEYWORDS: [&str; 9] = ["and", "or", "not", "in", "between", "is", "contains", "missing", "null"];

/// A column name as rule text: bare when it reads as one word, else in backticks.
pub fn quote_column(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.'));
    if plain && !KEYWORDS.contains(&name.to_ascii_lowercase().as_str()) {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

/// A value as rule text: numbers bare, anything else in double quotes.
pub fn quote_value(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.parse::<f64>().is_ok_and(f64::is_finite) {
        trimmed.to_string()
    } else {
        format!("\"{}\"", trimmed.replace('"', "\"\""))
    }
}

/// Parses a rule.
pub fn parse(text: &str) -> Result<Expr, RuleError> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err(error(0, "the rule is empty"));
    }
    let mut parser = Parser { toks, at: 0, end: text.chars().count(), depth: 0 };
    let expr = parser.or()?;
    if parser.peek().is_some() {
        return Err(error(parser.position(), format!("expected “and”, “or” or the end of the rule, found {}", describe(parser.peek()))));
    }
    Ok(expr)
}

/// A condition that does not fit the table.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FitError {
    #[error("there is no column “{0}”")]
    NoColumn(String),
    #[error("“{column}” holds {kind}: compare it with a number, not “{value}”")]
    NotText { column: String, kind: &'static str, value: String },
    #[error("“{column}” is {kind}: “between” needs numbers")]
    NotNumeric { column: String, kind: &'static str },
}

/// A rule compiled against a table: `eval(row)` is `Some(true)`, `Some(false)` or `None`
/// (unknown: a condition on a missing cell).
pub struct Compiled<'t> {
    eval: Box<dyn Fn(usize) -> Option<bool> + 't>,
}

impl Compiled<'_> {
    pub fn eval(&self, row: usize) -> Option<bool> {
        (self.eval)(row)
    }

    /// Whether the rule flags the row (true, not unknown).
    pub fn flags(&self, row: usize) -> bool {
        (self.eval)(row) == Some(true)
    }
}

fn is_numeric(column: &Column) -> bool {
    matches!(column.kind, ColumnType::Integer | ColumnType::Float | ColumnType::Boolean)
}

/// The cell as an `f64` for comparisons: numbers, booleans, timestamps (ms).
fn number_of(column: &Column, row: usize) -> Option<f64> {
    match column.value(row) {
        Value::Timestamp(ms) => Some(ms as f64),
        _ => column.numeric(row),
    }
}

/// A literal as the column compares it: numbers stay numbers, timestamps parse, text stays.
fn literal_number(column: &Column, value: &Literal) -> Option<f64> {
    match (column.kind, value) {
        (ColumnType::Timestamp, Literal::Text(t)) => parse_timestamp_text(t).map(|ms| ms as f64),
        (ColumnType::Boolean, Literal::Text(t)) => match t.to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(1.0),
            "false" | "no" => Some(0.0),
            _ => None,
        },
        (_, Literal::Number(n)) => Some(*n),
        _ => None,
    }
}

fn compile_cond<'t>(table: &'t Table, cond: &Cond) -> Result<Box<dyn Fn(usize) -> Option<bool> + 't>, FitError> {
    let column = table.column(cond.column()).ok_or_else(|| FitError::NoColumn(cond.column().to_string()))?;
    let numeric = is_numeric(column) || column.kind == ColumnType::Timestamp;
    Ok(match cond.clone() {
        Cond::Missing { missing, .. } => Box::new(move |row| Some((column.value(row) == Value::Missing) == missing)),
        Cond::Compare { op, value, .. } if numeric => {
            let Some(target) = literal_number(column, &value) else {
                return Err(FitError::NotText { column: column.name.clone(), kind: column.kind.label(), value: value.text() });
            };
            Box::new(move |row| number_of(column, row).map(|v| v.partial_cmp(&target).is_some_and(|o| op.holds(o))))
        }
        Cond::Compare { op, value, .. } => {
            let target = value.text();
            // Text compares as text; with a dictionary, equality is decided per code once.
            if let (ColumnData::Str(Strings::Dict { codes, dict }), CmpOp::Eq | CmpOp::Ne) = (&column.data, op) {
                let hit: Vec<bool> = dict.iter().map(|d| op.holds((**d).cmp(target.as_str()))).collect();
                return Ok(Box::new(move |row| {
                    let code = codes.get(row).unwrap_or(MISSING_CODE);
                    (code != MISSING_CODE).then(|| hit.get(code as usize).copied().unwrap_or(false))
                }));
            }
            Box::new(move |row| match column.value(row) {
                Value::Missing => None,
                Value::Str(s) => Some(op.holds(s.cmp(target.as_str()))),
                other => Some(op.holds(other.display().as_str().cmp(target.as_str()))),
            })
        }
        Cond::In { values, negate, .. } => {
            if numeric {
                let mut targets = Vec::new();
                for v in &values {
                    targets.push(literal_number(column, v).ok_or_else(|| FitError::NotText { column: column.name.clone(), kind: column.kind.label(), value: v.text() })?);
                }
                Box::new(move |row| number_of(column, row).map(|v| targets.contains(&v) != negate))
            } else {
                let set: rustc_hash::FxHashSet<String> = values.iter().map(Literal::text).collect();
                Box::new(move |row| match column.value(row) {
                    Value::Missing => None,
                    Value::Str(s) => Some(set.contains(s) != negate),
                    other => Some(set.contains(&other.display()) != negate),
                })
            }
        }
        Cond::Between { low, high, .. } => {
            if !numeric {
                return Err(FitError::NotNumeric { column: column.name.clone(), kind: column.kind.label() });
            }
            Box::new(move |row| number_of(column, row).map(|v| v >= low && v <= high))
        }
        Cond::Contains { text, .. } => {
            let needle = text.to_lowercase();
            Box::new(move |row| match column.value(row) {
                Value::Missing => None,
                Value::Str(s) => Some(s.to_lowercase().contains(&needle)),
                other => Some(other.display().to_lowercase().contains(&needle)),
            })
        }
    })
}

/// Compiles a rule against a table (column names and types checked once).
pub fn compile<'t>(table: &'t Table, expr: &Expr) -> Result<Compiled<'t>, FitError> {
    fn build<'t>(table: &'t Table, expr: &Expr) -> Result<Box<dyn Fn(usize) -> Option<bool> + 't>, FitError> {
        Ok(match expr {
            Expr::Cond(cond) => compile_cond(table, cond)?,
            Expr::Not(inner) => {
                let inner = build(table, inner)?;
                Box::new(move |row| inner(row).map(|v| !v))
            }
            Expr::And(parts) => {
                let parts = parts.iter().map(|p| build(table, p)).collect::<Result<Vec<_>, _>>()?;
                Box::new(move |row| {
                    let mut unknown = false;
                    for part in &parts {
                        match part(row) {
                            Some(false) => return Some(false),
                            None => unknown = true,
                            Some(true) => {}
                        }
                    }
                    (!unknown).then_some(true)
                })
            }
            Expr::Or(parts) => {
                let parts = parts.iter().map(|p| build(table, p)).collect::<Result<Vec<_>, _>>()?;
                Box::new(move |row| {
                    let mut unknown = false;
                    for part in &parts {
                        match part(row) {
                            Some(true) => return Some(true),
                            None => unknown = true,
                            Some(false) => {}
                        }
                    }
                    (!unknown).then_some(false)
                })
            }
        })
    }
    Ok(Compiled { eval: build(table, expr)? })
}

/// How a SQL dialect writes what a rule needs: identifiers, strings, timestamps and a
/// case-insensitive substring test. [`SqlStyle::ANSI`] is the rule's own translation;
/// `crate::warehouse::sql` has one per warehouse.
#[derive(Clone, Copy)]
pub struct SqlStyle {
    pub identifier: fn(&str) -> String,
    pub string: fn(&str) -> String,
    /// A timestamp literal from `YYYY-MM-DD HH:MM:SS[.fff]` (UTC).
    pub timestamp: fn(&str) -> String,
    /// `column` (already quoted) contains the lower-cased `needle`, ignoring case.
    pub contains: fn(&str, &str) -> String,
}

/// `"name"` with embedded quotes doubled (ANSI identifiers).
pub fn ansi_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` with embedded quotes doubled (ANSI strings).
pub fn ansi_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn ansi_timestamp(text: &str) -> String {
    format!("TIMESTAMP {}", ansi_string(text))
}

fn ansi_contains(column: &str, needle: &str) -> String {
    let escaped = needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("LOWER({column}) LIKE {} ESCAPE '\\'", ansi_string(&format!("%{escaped}%")))
}

impl SqlStyle {
    pub const ANSI: SqlStyle = SqlStyle { identifier: ansi_identifier, string: ansi_string, timestamp: ansi_timestamp, contains: ansi_contains };

    /// `ms` as this style's timestamp literal.
    pub fn timestamp_ms(&self, ms: i64) -> String {
        (self.timestamp)(format_iso_ms(ms).replace('T', " ").trim_end_matches('Z'))
    }
}

fn sql_literal(style: &SqlStyle, column: Option<&Column>, value: &Literal) -> String {
    match (column.map(|c| c.kind), value) {
        (Some(ColumnType::Timestamp), Literal::Text(t)) => match parse_timestamp_text(t) {
            Some(ms) => style.timestamp_ms(ms),
            None => (style.string)(t),
        },
        (Some(ColumnType::Boolean), Literal::Text(t)) if matches!(t.to_ascii_lowercase().as_str(), "true" | "false") => t.to_ascii_uppercase(),
        (_, Literal::Number(n)) => super::table::format_float(*n),
        (_, Literal::Text(t)) => (style.string)(t),
    }
}

/// The rule as an ANSI SQL `WHERE` condition, and notes on where dialects differ. `table`
/// (when given) types the literals (timestamps, booleans).
pub fn to_sql(expr: &Expr, table: Option<&Table>) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let sql = to_sql_in(&SqlStyle::ANSI, expr, table, &mut notes);
    notes.push("Identifiers are in double quotes (ANSI); MySQL and BigQuery use backticks instead.".into());
    notes.push("A condition on a NULL is unknown and the row is not flagged, as in Vigil.".into());
    (sql, notes)
}

/// The rule as a condition in `style`, adding to `notes` what a reader of the SQL should know.
pub fn to_sql_in(style: &SqlStyle, expr: &Expr, table: Option<&Table>, notes: &mut Vec<String>) -> String {
    fn walk(style: &SqlStyle, expr: &Expr, table: Option<&Table>, notes: &mut Vec<String>, top: bool) -> String {
        let text = match expr {
            Expr::And(parts) => parts.iter().map(|p| walk(style, p, table, notes, false)).collect::<Vec<_>>().join(" AND "),
            Expr::Or(parts) => parts.iter().map(|p| walk(style, p, table, notes, false)).collect::<Vec<_>>().join(" OR "),
            Expr::Not(inner) => return format!("NOT ({})", walk(style, inner, table, notes, true)),
            Expr::Cond(cond) => {
                let column = table.and_then(|t| t.column(cond.column()));
                let id = (style.identifier)(cond.column());
                return match cond {
                    Cond::Compare { op, value, .. } => {
                        let op = if *op == CmpOp::Ne { "<>" } else { op.symbol() };
                        format!("{id} {op} {}", sql_literal(style, column, value))
                    }
                    Cond::In { values, negate, .. } => {
                        let list = values.iter().map(|v| sql_literal(style, column, v)).collect::<Vec<_>>().join(", ");
                        format!("{id} {}IN ({list})", if *negate { "NOT " } else { "" })
                    }
                    Cond::Between { low, high, .. } => format!("{id} BETWEEN {} AND {}", super::table::format_float(*low), super::table::format_float(*high)),
                    Cond::Missing { missing, .. } => {
                        if !notes.iter().any(|n| n.starts_with("“is missing”")) {
                            notes.push("“is missing” is IS NULL: a warehouse may store an empty text as '' rather than NULL; add OR col = '' there if so.".into());
                        }
                        format!("{id} IS {}NULL", if *missing { "" } else { "NOT " })
                    }
                    Cond::Contains { text, .. } => {
                        if !notes.iter().any(|n| n.starts_with("“contains”")) {
                            notes.push("“contains” is case-insensitive: LOWER(col) LIKE with ESCAPE '\\' (PostgreSQL and Snowflake also have ILIKE; BigQuery has no ESCAPE clause: use STRPOS(LOWER(col), …) > 0 there).".into());
                        }
                        (style.contains)(&id, &text.to_lowercase())
                    }
                };
            }
        };
        if top { text } else { format!("({text})") }
    }
    walk(style, expr, table, notes, true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)] // test code: a failing unwrap is a failing test
    use super::*;
    use crate::data::load::{load_bytes, LoadOptions};

    fn table() -> Table {
        let csv = "country,strikes,age,score,text,at\nBR,2,10,0.9,Free MONEY now,2026-01-05T00:00:00Z\nUS,0,400,0.1,hello,2026-02-01T00:00:00Z\n,3,5,,50% off_sale,\nID,1,20,0.5,,2026-01-20T00:00:00Z\n";
        load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
    }

    fn flagged(rule: &str) -> Vec<usize> {
        let t = table();
        let expr = parse(rule).unwrap();
        let compiled = compile(&t, &expr).unwrap();
        (0..t.n_rows).filter(|&r| compiled.flags(r)).collect()
    }

    #[test]
    fn conditions_and_logic() {
        assert_eq!(flagged("strikes >= 2 and age < 30"), [0, 2]);
        assert_eq!(flagged("country in (BR, \"ID\") or score between 0.05 and 0.2"), [0, 1, 3]);
        assert_eq!(flagged("country not in ('BR')"), [1, 3]);
        assert_eq!(flagged("country is missing"), [2]);
        assert_eq!(flagged("score is not missing and not (country = US)"), [0, 3]);
        assert_eq!(flagged("text contains \"money\""), [0]);
        assert_eq!(flagged("text contains '%'"), [2]);
        assert_eq!(flagged("at >= 2026-01-10 and at < \"2026-02-01\""), [3]);
        assert_eq!(flagged("`country` == BR"), [0]);
        assert_eq!(flagged("country <> BR"), [1, 3]);
    }

    #[test]
    fn unknown_is_not_flagged_and_not_of_unknown_stays_unknown() {
        // Row 2 has no country: `country = US` is unknown, so is its negation.
        assert_eq!(flagged("not country = US"), [0, 3]);
        // Unknown OR true is true; unknown AND false is false.
        assert_eq!(flagged("country = US or strikes = 3"), [1, 2]);
        // Row 1 is US with 0 strikes: false, negated true; row 2: unknown and true is unknown.
        assert_eq!(flagged("not (country = US and strikes = 3)"), [0, 1, 3]);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let at = |rule: &str| parse(rule).unwrap_err();
        let e = at("strikes >= and age < 30");
        assert_eq!(e.position, 11, "{e}");
        assert!(e.message.contains("expected a value after “>=”"), "{e}");
        let e = at("strikes >= 2 and (age < 30");
        assert_eq!(e.position, 26);
        assert!(e.message.contains("close the “(” at character 18"), "{e}");
        let e = at("country in BR");
        assert_eq!(e.position, 11);
        let e = at("country equals BR");
        assert_eq!(e.position, 8, "{e}");
        let e = at("text contains \"open");
        assert_eq!(e.position, 14);
        assert_eq!(at("").message, "the rule is empty");
        let e = at("strikes > 2 age < 3");
        assert_eq!(e.position, 12);
        assert!(at("score between 0.9 and 0.1").message.contains("empty"));
        assert!(at("a ? b").message.contains("unexpected “?”"));
        assert_eq!(at("strikes > 2 and (age < 30").to_string(), "at character 26: expected “)” to close the “(” at character 17, found the end of the rule");
    }

    #[test]
    fn nesting_is_bounded_before_the_stack_is() {
        let nested = |depth: usize, open: &str, close: &str| format!("{}strikes > 1{}", open.repeat(depth), close.repeat(depth));
        for (open, close) in [("(", ")"), ("not ", ""), ("not (", ")")] {
            assert!(parse(&nested(MAX_NESTING / 2, open, close)).is_ok(), "{open}");
            // Deep enough to overflow a native thread's stack without the bound.
            let e = parse(&nested(100_000, open, close)).unwrap_err();
            assert!(e.message.contains("nest more than 64 deep"), "{e}");
        }
        let e = parse(&nested(MAX_NESTING + 1, "(", ")")).unwrap_err();
        assert_eq!(e.position, MAX_NESTING, "{e}");
        assert!(parse(&nested(MAX_NESTING, "(", ")")).is_ok());
    }

    #[test]
    fn columns_and_types_are_checked_against_the_table() {
        let t = table();
        let fit = |rule: &str| compile(&t, &parse(rule).unwrap()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(fit("nope = 1").contains("no column “nope”"));
        assert!(fit("strikes = many").contains("compare it with a number"));
        assert!(fit("country between 1 and 2").contains("needs numbers"));
    }

    #[test]
    fn sql_is_ansi_with_notes() {
        let t = table();
        let (sql, notes) = to_sql(&parse("strikes >= 2 and (country in (BR, 'O''Hara') or text contains \"50%_x\") and not score is missing and at < 2026-01-10").unwrap(), Some(&t));
        assert_eq!(
            sql,
            "\"strikes\" >= 2 AND (\"country\" IN ('BR', 'O''Hara') OR LOWER(\"text\") LIKE '%50\\%\\_x%' ESCAPE '\\') AND NOT (\"score\" IS NULL) AND \"at\" < TIMESTAMP '2026-01-10 00:00:00'"
        );
        assert!(notes.iter().any(|n| n.contains("ILIKE")));
        assert!(notes.iter().any(|n| n.contains("backticks")));
    }

    #[test]
    fn quoted_names_and_values_parse_back() {
        for (column, value) in [("plain", "BR"), ("with space", "O\"Hara"), ("and", "12.5"), ("a`b", "x y")] {
            let text = format!("{} = {}", quote_column(column), quote_value(value));
            let Expr::Cond(Cond::Compare { column: c, value: v, .. }) = parse(&text).unwrap() else { panic!("{text}") };
            assert_eq!(c, column);
            assert_eq!(v.text(), value.trim());
        }
    }

    #[test]
    fn rules_round_trip_as_json() {
        let expr = parse("a = 1 or not (b in (x, y) and c is missing)").unwrap();
        let json = serde_json::to_string(&expr).unwrap();
        assert_eq!(serde_json::from_str::<Expr>(&json).unwrap(), expr);
    }
}
