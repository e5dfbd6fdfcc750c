//! Derived columns: the groups an analysis puts rows in (rings of accounts, copy-paste groups),
//! added to the table as a category column (`ring` = "ring 3") that every other tab can use — a
//! Trends split, a Root cause dimension, a Clusters feature, a rule.
//!
//! A derived column is described by what computes it ([`DerivedColumn`]: the analysis and its
//! settings, the filter and the weight column in force when it was made), so a link reproduces
//! it on the same data: the worker runs the analysis again over the rows that filter passes and
//! numbers the groups as its report ranks them. Rows in no group are missing.

use serde::{Deserialize, Serialize};

use super::contract::{Analysis, FitColumns, Progress, RowGroups, Weights};
use super::copies::{Copies, CopiesError, CopiesParams};
use super::registry::AnyReport;
use super::rings::{Rings, RingsError, RingsParams};
use crate::data::filter::{evaluate_filter, Filter, FilterError};
use crate::data::table::{Column, ColumnData, ColumnType, Strings, Table, MISSING_CODE};
use crate::data::weights::{weight_column, WeightError};

/// Where a derived column's groups come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Grouping {
    Rings(RingsParams),
    Copies(CopiesParams),
}

impl Grouping {
    /// The column's name when nothing else is called so ("ring", "copy_group").
    pub fn base_name(&self) -> &'static str {
        match self {
            Self::Rings(_) => "ring",
            Self::Copies(_) => "copy_group",
        }
    }

    /// A group's value in the column: "ring 3", "group 3".
    fn value(&self, group: u32) -> String {
        match self {
            Self::Rings(_) => format!("ring {group}"),
            Self::Copies(_) => format!("group {group}"),
        }
    }
}

/// A column computed from the table: its name, the grouping, and the filter and weight column
/// that were in force when it was made (part of the view's link).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DerivedColumn {
    pub column: String,
    pub from: Grouping,
    #[serde(default, skip_serializing_if = "Filter::is_empty")]
    pub filter: Filter,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<String>,
}

impl DerivedColumn {
    /// The columns it reads: the grouping's, the filter's and the weight.
    fn fits(&self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        let what = format!("derived column “{}”", super::contract::shorten(&self.column));
        let from = match &self.from {
            Grouping::Rings(p) => p.clone().fit_columns(columns, notices).map(Grouping::Rings),
            Grouping::Copies(p) => p.clone().fit_columns(columns, notices).map(Grouping::Copies),
        };
        let Some(from) = from else {
            notices.push(format!("ignored the {what}: its settings do not fit the data"));
            return None;
        };
        let has = |name: &str| super::contract::has_column(columns, name);
        if let Some(missing) = self.filter.clauses.iter().map(|c| c.column()).find(|c| !c.is_empty() && !has(c)).or(self.weight.as_deref().filter(|w| !has(w))) {
            notices.push(super::contract::missing_column(&what, missing));
            return None;
        }
        Some(Self { from, ..self.clone() })
    }
}

/// Keeps the derived columns that fit the table's `columns` (said in `notices` when one does
/// not), in order, and adds each one's name to `columns`, so that later parts of a view (another
/// derived column, the filter, a panel's settings) may name it.
pub fn fit_derived(derived: Vec<DerivedColumn>, columns: &mut Vec<(String, ColumnType)>, notices: &mut Vec<String>) -> Vec<DerivedColumn> {
    let mut kept = Vec::new();
    for spec in derived {
        if let Some(spec) = spec.fits(columns, notices) {
            if !super::contract::has_column(columns, &spec.column) {
                columns.push((spec.column.clone(), ColumnType::Category));
            }
            kept.push(spec);
        }
    }
    kept
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum DeriveError {
    #[error("name the column")]
    NoName,
    #[error("the data already has a column “{0}”; choose another name")]
    Taken(String),
    #[error("{0}")]
    Filter(String),
    #[error("{0}")]
    Weight(String),
    #[error("{0}")]
    Rings(RingsError),
    #[error("{0}")]
    Copies(CopiesError),
}

impl From<FilterError> for DeriveError {
    fn from(err: FilterError) -> Self {
        Self::Filter(err.to_string())
    }
}

impl From<WeightError> for DeriveError {
    fn from(err: WeightError) -> Self {
        Self::Weight(err.to_string())
    }
}

/// Computes `spec`'s column over `table`: the grouping's analysis over the rows its filter passes
/// (weighted by its weight column, `measures` being a cube's), and the report that numbered the
/// groups. `derived` names the table's columns that are themselves derived (one of them may be
/// replaced; any other column may not).
pub async fn derive(table: &Table, spec: &DerivedColumn, derived: &[String], measures: &[String], progress: &mut impl Progress) -> Result<(Column, AnyReport), DeriveError> {
    if spec.column.trim().is_empty() {
        return Err(DeriveError::NoName);
    }
    if table.column(&spec.column).is_some() && !derived.contains(&spec.column) {
        return Err(DeriveError::Taken(spec.column.clone()));
    }
    let rows = evaluate_filter(table, &spec.filter)?;
    let values = spec.weight.as_deref().map(|w| weight_column(table, w)).transpose()?;
    let weights = match (&spec.weight, &values) {
        (Some(column), Some(values)) => Weights::per_row(column, values).with_measures(measures),
        _ => Weights::ONE,
    };
    let (groups, report) = match &spec.from {
        Grouping::Rings(params) => {
            Rings::check(params).map_err(DeriveError::Rings)?;
            let report = Rings::run(table, &rows, weights, params, progress).await.map_err(DeriveError::Rings)?;
            (report.kept.get().cloned().unwrap_or_default(), AnyReport::Rings(report))
        }
        Grouping::Copies(params) => {
            Copies::check(params).map_err(DeriveError::Copies)?;
            let report = Copies::run(table, &rows, weights, params, progress).await.map_err(DeriveError::Copies)?;
            (report.kept.get().cloned().unwrap_or_default(), AnyReport::Copies(report))
        }
    };
    Ok((group_column(&spec.column, &spec.from, &groups, table.n_rows), report))
}

/// A category column of `n_rows` rows: each grouped row's group as `from` names it, the others
/// missing.
fn group_column(name: &str, from: &Grouping, groups: &RowGroups, n_rows: usize) -> Column {
    let mut codes = vec![MISSING_CODE; n_rows];
    for &(row, group) in &groups.rows {
        if let Some(slot) = codes.get_mut(row as usize) {
            *slot = group.saturating_sub(1);
        }
    }
    let dict = (1..=groups.groups as u32).map(|g| from.value(g).into_boxed_str()).collect();
    Column { name: name.to_string(), kind: ColumnType::Category, data: ColumnData::Str(Strings::Dict { codes: codes.into(), dict }), mismatches: Vec::new(), non_finite: 0 }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::analysis::contract::{complete, Unobserved};
    use crate::data::filter::Clause;
    use crate::data::load::{load_bytes, LoadOptions};

    fn table(csv: &str) -> Table {
        load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
    }

    fn run(table: &Table, spec: &DerivedColumn, derived: &[String]) -> Result<(Column, AnyReport), DeriveError> {
        complete(derive(table, spec, derived, &[], &mut Unobserved)).unwrap()
    }

    fn rings(filter: Filter) -> DerivedColumn {
        DerivedColumn { column: "ring".into(), from: Grouping::Rings(RingsParams { min_size: 2, ..RingsParams::of("account", &["device"]) }), filter, weight: None }
    }

    const CSV: &str = "account,device,country\n\
        a,d1,FR\nb,d1,FR\nc,d2,DE\nd,d2,DE\ne,d2,DE\nf,d3,FR\na,d9,FR\n";

    #[test]
    fn each_row_gets_its_ring_as_the_report_numbers_them() {
        let table = table(CSV);
        let (column, report) = run(&table, &rings(Filter::default()), &[]).unwrap();
        let AnyReport::Rings(report) = report else { panic!("not rings") };
        // c, d, e share d2 (ring 1, the largest); a and b share d1 (ring 2); f is alone.
        assert_eq!(report.rings.iter().map(|r| r.entities).collect::<Vec<_>>(), vec![3, 2]);
        let values: Vec<String> = (0..table.n_rows).map(|r| column.value(r).display()).collect();
        assert_eq!(values, vec!["ring 2", "ring 2", "ring 1", "ring 1", "ring 1", "", "ring 2"]);
        assert_eq!(column.kind, ColumnType::Category);
        assert_eq!(column.len(), table.n_rows);
    }

    #[test]
    fn only_the_rows_of_its_filter_are_grouped() {
        let table = table(CSV);
        let filter = Filter { clauses: vec![Clause::InSet { column: "country".into(), values: vec!["FR".into()], negate: false }] };
        let (column, _) = run(&table, &rings(filter), &[]).unwrap();
        let values: Vec<String> = (0..table.n_rows).map(|r| column.value(r).display()).collect();
        assert_eq!(values, vec!["ring 1", "ring 1", "", "", "", "", "ring 1"]);
    }

    #[test]
    fn a_loaded_column_is_never_replaced_and_bad_settings_are_typed_errors() {
        let table = table(CSV);
        let taken = DerivedColumn { column: "country".into(), ..rings(Filter::default()) };
        assert_eq!(run(&table, &taken, &[]).unwrap_err(), DeriveError::Taken("country".into()));
        // A derived column of that name may be computed again.
        assert!(run(&table, &taken, &["country".into()]).is_ok());
        let unnamed = DerivedColumn { column: " ".into(), ..rings(Filter::default()) };
        assert_eq!(run(&table, &unnamed, &[]).unwrap_err(), DeriveError::NoName);
        let bad = DerivedColumn { from: Grouping::Rings(RingsParams::of("nope", &["device"])), ..rings(Filter::default()) };
        assert!(matches!(run(&table, &bad, &[]), Err(DeriveError::Rings(RingsError::UnknownColumn(_)))));
        let weight = DerivedColumn { weight: Some("country".into()), ..rings(Filter::default()) };
        assert!(matches!(run(&table, &weight, &[]), Err(DeriveError::Weight(_))));
    }

    #[test]
    fn copy_groups_are_numbered_as_the_report_ranks_them() {
        let csv = "account,text\n\
            a,buy cheap followers now at example dot com\nb,buy cheap followers now at example dot com!\nc,buy cheap followers now at example dot com\n\
            d,hello there\ne,totally unrelated words here\nf,win a free phone today click\ng,win a free phone today click\n";
        let table = table(csv);
        let params = CopiesParams { entity: Some("account".into()), min_rows: 2, ..CopiesParams::of("text") };
        let spec = DerivedColumn { column: "copy_group".into(), from: Grouping::Copies(params), filter: Filter::default(), weight: None };
        let (column, report) = run(&table, &spec, &[]).unwrap();
        let AnyReport::Copies(report) = report else { panic!("not copies") };
        assert_eq!(report.groups_found, 2);
        for group in &report.groups {
            let label = format!("group {}", group.id);
            let rows = (0..table.n_rows).filter(|&r| column.value(r).display() == label).count();
            assert_eq!(rows as f64, group.rows, "{label}");
        }
        assert_eq!(column.value(3).display(), "");
    }

    #[test]
    fn a_link_keeps_what_fits_and_later_parts_may_name_the_column() {
        let mut columns: Vec<(String, ColumnType)> = [("account", ColumnType::Identifier), ("device", ColumnType::Category)].iter().map(|(n, k)| (n.to_string(), *k)).collect();
        let by_missing = DerivedColumn { filter: Filter { clauses: vec![Clause::InSet { column: "gone".into(), values: vec![], negate: false }] }, ..rings(Filter::default()) };
        let second = DerivedColumn { column: "ring_of_ring".into(), filter: Filter { clauses: vec![Clause::InSet { column: "ring".into(), values: vec!["ring 1".into()], negate: false }] }, ..rings(Filter::default()) };
        let mut notices = Vec::new();
        let kept = fit_derived(vec![by_missing, rings(Filter::default()), second.clone()], &mut columns, &mut notices);
        assert_eq!(kept, vec![rings(Filter::default()), second]);
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(notices[0].contains("gone"), "{notices:?}");
        assert!(columns.iter().any(|(n, k)| n == "ring" && *k == ColumnType::Category));
        assert!(columns.iter().any(|(n, _)| n == "ring_of_ring"));
    }
}
