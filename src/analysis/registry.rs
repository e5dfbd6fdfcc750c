//! Every analysis, listed once. The list generates what crosses between the page, the worker
//! and the command line: [`AnyParams`] (a request to run one), [`AnyReport`] and [`AnyError`]
//! (its answer), [`run_any`] (check, then run), and the [`Registered`] conversions a typed
//! caller uses to go from its own analysis to these and back.
//!
//! Adding an analysis is one line here (see ARCHITECTURE.md, "Adding an analysis").

use serde::{Deserialize, Serialize};

use super::contract::{Analysis, Progress, Weights};
use crate::data::table::Table;

/// An analysis that the registry knows: its parameters, report and error convert to and from
/// the registry's enums.
pub trait Registered: Analysis + Sized {
    fn wrap(params: Self::Params) -> AnyParams;
    fn wrap_error(error: Self::Error) -> AnyError;
    /// The report, if `report` is this analysis's.
    fn report_of(report: AnyReport) -> Option<Self::Report>;
    /// The error, if `error` is this analysis's.
    fn error_of(error: AnyError) -> Option<Self::Error>;
}

/// Deserializes a `T` in a function of its own, not inlined into its enum's decoder: the page's
/// wasm is compiled a function at a time, on its first call, so a report's decoder is compiled when
/// that report first arrives. Inlined, every report's decoder made one function (182 KB in the
/// shipped module), compiled whole in the task of the first report: 17.5 ms in one trace. (The
/// page's wasm-opt would inline these back, one caller each, without `-ocimfs` in index.html.)
#[inline(never)]
pub fn deserialize_apart<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<T, D::Error> {
    T::deserialize(deserializer)
}

macro_rules! registry {
    ($($variant:ident => $analysis:ty),+ $(,)?) => {
        /// A request to run one analysis, with its parameters.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub enum AnyParams {
            $($variant(<$analysis as Analysis>::Params),)+
        }

        /// The report of one analysis.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[allow(clippy::large_enum_variant)] // moved once per run, boxed in messages
        pub enum AnyReport {
            $(#[serde(deserialize_with = "crate::analysis::registry::deserialize_apart")] $variant(<$analysis as Analysis>::Report),)+
        }

        /// Why one analysis failed (its own typed error).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
        pub enum AnyError {
            $(#[error("{0}")] $variant(<$analysis as Analysis>::Error),)+
        }

        /// The parameters a view's link carries for the analyses in it
        /// ([`Analysis::IN_LINK`]), taken out of its settings and fitted to `columns`; a wrong
        /// shape or a column the table lacks is a notice.
        pub fn from_view(settings: &mut serde_json::Map<String, serde_json::Value>, columns: &[(String, crate::data::table::ColumnType)], notices: &mut Vec<String>) -> Vec<AnyParams> {
            let mut out = Vec::new();
            $(if <$analysis as Analysis>::IN_LINK {
                if let Some(value) = settings.remove(<$analysis as Analysis>::NAME) {
                    match serde_json::from_value::<<$analysis as Analysis>::Params>(value) {
                        Ok(params) => out.extend(<$analysis as Analysis>::fit_link(params, columns, notices).map(AnyParams::$variant)),
                        Err(err) => notices.push(format!("ignored the {} settings in the link: {err}", <$analysis as Analysis>::NAME)),
                    }
                }
            })+
            out
        }

        /// Names of every analysis, in the registry's order (links, reports, the command line).
        pub const NAMES: &[&str] = &[$(<$analysis as Analysis>::NAME),+];

        impl AnyParams {
            /// The analysis's name ("trend").
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => <$analysis as Analysis>::NAME,)+
                }
            }

            /// What it is called on screen ("Trend").
            pub fn title(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => <$analysis as Analysis>::TITLE,)+
                }
            }

            /// Whether it counts each row as its weight.
            pub fn weighted(&self) -> bool {
                match self {
                    $(Self::$variant(_) => <$analysis as Analysis>::WEIGHTED,)+
                }
            }
        }

        /// Titles of the analyses that count every row once even when rows carry weights, for
        /// the notice shown beside a weight column.
        pub fn unweighted_titles() -> Vec<&'static str> {
            let mut titles = Vec::new();
            $(if !<$analysis as Analysis>::WEIGHTED { titles.push(<$analysis as Analysis>::TITLE); })+
            titles
        }

        impl AnyReport {
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => <$analysis as Analysis>::NAME,)+
                }
            }

            pub fn title(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => <$analysis as Analysis>::TITLE,)+
                }
            }
        }

        /// Checks the parameters, then runs the analysis they are for.
        pub async fn run_any(table: &Table, rows: &[u32], weights: Weights<'_>, params: &AnyParams, progress: &mut impl Progress) -> Result<AnyReport, AnyError> {
            match params {
                $(AnyParams::$variant(params) => {
                    <$analysis as Analysis>::check(params).map_err(AnyError::$variant)?;
                    <$analysis as Analysis>::run(table, rows, weights, params, progress).await.map(AnyReport::$variant).map_err(AnyError::$variant)
                })+
            }
        }

        $(impl Registered for $analysis {
            fn wrap(params: Self::Params) -> AnyParams {
                AnyParams::$variant(params)
            }

            fn wrap_error(error: Self::Error) -> AnyError {
                AnyError::$variant(error)
            }

            fn report_of(report: AnyReport) -> Option<Self::Report> {
                match report {
                    AnyReport::$variant(report) => Some(report),
                    #[allow(unreachable_patterns)] // a registry of one analysis
                    _ => None,
                }
            }

            fn error_of(error: AnyError) -> Option<Self::Error> {
                match error {
                    AnyError::$variant(error) => Some(error),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        })+
    };
}

registry! {
    Profile => super::profile::Profile,
    Labels => super::labels::Labels,
    Trend => super::trend::Trend,
    RootCause => super::rootcause::RootCause,
    Cluster => super::cluster::Cluster,
    Backtest => super::backtest::Backtest,
    Scores => super::backtest::Scores,
    Tree => super::tree::Tree,
    Regression => super::regression::Regression,
    Impact => super::impact::Impact,
    Prevalence => super::prevalence::Prevalence,
    Objective => super::objective::Objective,
    Rings => super::rings::Rings,
    Copies => super::copies::Copies,
    Terms => super::terms::Terms,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)] // test code
    use super::*;
    use crate::analysis::contract::{complete, Stopped, Weights};
    use crate::data::demo::{demo_csv, DemoParams};
    use crate::data::load::{load_bytes, LoadOptions};

    /// Stops at the `stop_at`-th step.
    struct StopAt(usize, usize);

    impl Progress for StopAt {
        fn step(&mut self, _phase: &'static str, _detail: &str, fraction: f64) -> impl std::future::Future<Output = Result<(), Stopped>> {
            assert!((0.0..=1.0).contains(&fraction), "fraction {fraction}");
            self.1 += 1;
            std::future::ready(if self.1 > self.0 { Err(Stopped) } else { Ok(()) })
        }
    }

    fn every_analysis() -> Vec<AnyParams> {
        use crate::analysis::*;
        let label = labels::LabelSpec { column: "decision".into(), positive: vec!["removed".into(), "restricted".into()] };
        let day = crate::data::time::DAY_MS;
        let start = crate::data::time::days_from_civil(2026, 8, 3) * day;
        vec![
            AnyParams::Profile(profile::ProfileParams::default()),
            AnyParams::Labels(labels::LabelParams { label: "decision".into(), positive: Vec::new(), item: Some("report_id".into()), reviewer: Some("reviewer_id".into()), time: None, now_ms: None }),
            AnyParams::Trend(trend::TrendSettings { time: Some("created_at".into()), ..trend::TrendSettings::default() }),
            AnyParams::RootCause(rootcause::RcaParams {
                time_column: "created_at".into(),
                metric: series::Metric::Count,
                baseline: rootcause::Window { start_ms: start, end_ms: start + 14 * day },
                incident: rootcause::Window { start_ms: start + 14 * day, end_ms: start + 18 * day },
                dimensions: None,
                max_depth: 2,
                explain_share: 0.8,
            }),
            AnyParams::Cluster(cluster::ClusterParams {
                features: vec![cluster::FeatureSpec { column: "posts_per_day".into(), encoding: cluster::Encoding::Numeric }],
                algorithm: cluster::Algorithm::KMeans { k: Some(3), n_init: 1, max_iter: 20 },
                scan_k: false,
                ..cluster::ClusterParams::default()
            }),
            AnyParams::Backtest(backtest::BacktestParams { rules: vec![backtest::RuleSpec { name: "r".into(), text: "prior_strikes >= 2".into() }], label: label.clone(), time_column: None }),
            AnyParams::Scores(backtest::ScoreParams { score: "risk_score".into(), label: label.clone(), threshold: None, min_precision: 0.9 }),
            AnyParams::Tree(tree::TreeParams {
                features: tree::numeric_features(&[("prior_strikes".into(), crate::data::table::ColumnType::Integer)], "decision"),
                label: label.clone(),
                max_depth: 3,
                min_leaf: 20,
                test_share: 0.3,
                seed: 7,
                precision_target: 0.8,
            }),
            AnyParams::Regression(regression::RegressionParams { kind: regression::RegressionKind::Logistic, target: None, label: Some(label.clone()), predictors: vec!["prior_strikes".into()] }),
            AnyParams::Impact(impact::ImpactParams {
                time_column: "created_at".into(),
                metric: series::Metric::Count,
                granularity: series::Granularity::Day,
                split: "country".into(),
                treated: vec!["BR".into()],
                control: Vec::new(),
                intervention_ms: start + 30 * day,
                counterfactual: Some(crate::analysis::bsts::BstsSettings { iterations: 100, seasons: 7, ..Default::default() }),
            }),
            AnyParams::Prevalence(prevalence::PrevalenceParams { time: Some("created_at".into()), by: Some("country".into()), target_margin: Some(0.01), ..prevalence::PrevalenceParams::of(label) }),
            AnyParams::Objective(objective::ObjectiveParams {
                source: objective::ObjectiveSource::Metric { time_column: "created_at".into(), metric: series::Metric::Count, granularity: series::Granularity::Day },
                by_ms: start + 400 * day,
                target: Some(100.0),
            }),
            AnyParams::Rings(rings::RingsParams { time: Some("created_at".into()), ..rings::RingsParams::of("reported_account_id", &["reporter_id", "content_id"]) }),
            AnyParams::Copies(copies::CopiesParams { entity: Some("reported_account_id".into()), time: Some("created_at".into()), ..copies::CopiesParams::of("content_text") }),
            AnyParams::Terms(terms::TermsParams::of("content_text", "created_at")),
        ]
    }

    /// Every analysis runs through the registry, reports progress in 0–1, and stops at
    /// whichever step it is told to, with its own "stopped" error.
    #[test]
    fn every_analysis_runs_and_stops_when_told() {
        let table = load_bytes(&demo_csv(DemoParams { rows: 3_000, seed: 7 }), LoadOptions::default()).unwrap().table;
        let rows: Vec<u32> = (0..table.n_rows as u32).collect();
        let all = every_analysis();
        assert_eq!(all.iter().map(AnyParams::name).collect::<Vec<_>>(), NAMES);
        for params in &all {
            let mut counting = StopAt(usize::MAX, 0);
            let report = complete(run_any(&table, &rows, Weights::ONE, params, &mut counting)).unwrap();
            let report = report.unwrap_or_else(|err| panic!("{}: {err}", params.name()));
            assert_eq!(report.name(), params.name());
            let steps = counting.1;
            assert!(steps >= 1, "{} reports no progress", params.name());
            for stop_at in [0, steps / 2] {
                let stopped = complete(run_any(&table, &rows, Weights::ONE, params, &mut StopAt(stop_at, 0))).unwrap();
                let err = stopped.err().unwrap_or_else(|| panic!("{} did not stop at step {stop_at}", params.name()));
                assert_eq!(err.to_string(), "stopped before it finished", "{}", params.name());
            }
        }
    }

    #[test]
    fn parameters_are_checked_before_the_run() {
        let table = load_bytes(b"a\n1\n", LoadOptions::default()).unwrap().table;
        let bad = AnyParams::Profile(crate::analysis::profile::ProfileParams { missing_alert_share: 2.0, ..Default::default() });
        let mut progress = StopAt(usize::MAX, 0);
        let err = complete(run_any(&table, &[0], Weights::ONE, &bad, &mut progress)).unwrap().unwrap_err();
        assert!(matches!(err, AnyError::Profile(crate::analysis::profile::ProfileError::BadThreshold(_))), "{err:?}");
        assert_eq!(progress.1, 0, "no step before the check passes");
        // Requests and typed errors cross as MessagePack like every message.
        let bytes = rmp_serde::to_vec_named(&err).unwrap();
        assert_eq!(rmp_serde::from_slice::<AnyError>(&bytes).unwrap(), err);
    }
}
