//! Root cause on the demo dataset: each injected incident's cause ranks first.

use vigil::analysis::contract::{complete, Analysis, Progress, Stopped, Weights};
use vigil::analysis::rootcause::{explain_change, RcaParams, Window};
use vigil::analysis::series::Metric;
use vigil::data::demo::{demo_csv, truths, DemoParams};
use vigil::data::load::{load_bytes, LoadOptions};

#[test]
fn demo_incidents_are_explained_by_their_injected_cause() {
    let table = load_bytes(&demo_csv(DemoParams::default()), LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    for truth in truths() {
        let len = truth.end_ms - truth.start_ms;
        // Baseline: the two weeks before the incident.
        let baseline = Window { start_ms: truth.start_ms - 14 * 86_400_000, end_ms: truth.start_ms };
        let params = RcaParams {
            time_column: "created_at".into(),
            metric: Metric::Count,
            baseline,
            incident: Window { start_ms: truth.start_ms, end_ms: truth.start_ms + len },
            dimensions: None,
            max_depth: 3,
            explain_share: 0.8,
        };
        let started = std::time::Instant::now();
        let report = explain_change(&table, &rows, &params).unwrap();
        eprintln!("{}: {:?}, examined {}", truth.name, started.elapsed(), report.examined);
        eprintln!("  {}", report.summary);
        for s in report.segments.iter().take(6) {
            eprintln!("  {:<60} share {:.2} spec {:.2} score {:.3} p {:.1e}", s.describe(), s.share_of_delta, s.specificity, s.score, s.p_value);
        }
        for d in report.dimensions.iter().take(4) {
            eprintln!("  dim {} surprise {:.3} explaining {:?}", d.column, d.surprise, d.explaining);
        }
        let top = &report.segments[0];
        // Every condition of the top segment is part of the injected cause. The scam wave's
        // accounts are also all under a week old and post 5–30 times a day (DEMO.md): the
        // quantile buckets holding those ranges count as part of its cause, and with depth 3 any
        // three of its conditions are the full answer.
        let young = |c: &vigil::analysis::rootcause::Condition| {
            let bound = |prefix: &str| c.value.strip_prefix(prefix).and_then(|v| v.parse::<f64>().ok());
            truth.name == "scam wave"
                && ((c.column == "account_age_days" && bound("< ").is_some_and(|upper| upper >= 7.0))
                    || (c.column == "posts_per_day" && bound("≥ ").is_some_and(|lower| lower <= 5.0)))
        };
        for c in &top.conditions {
            assert!(
                truth.cause.contains(&(c.column.as_str(), c.value.as_str())) || young(c),
                "{}: top segment {} has {}={} outside the cause",
                truth.name,
                top.describe(),
                c.column,
                c.value
            );
        }
        assert_eq!(top.conditions.len(), 3, "{}: top segment {}", truth.name, top.describe());
        assert!(top.significant && top.share_of_delta > 0.8, "{}: {top:?}", truth.name);
    }
}

/// Records the steps; says stop after `stop_at` of them.
struct Steps {
    stop_at: usize,
    seen: Vec<(&'static str, f64)>,
}

impl Progress for Steps {
    fn step(&mut self, phase: &'static str, _detail: &str, fraction: f64) -> impl std::future::Future<Output = Result<(), Stopped>> {
        self.seen.push((phase, fraction));
        std::future::ready(if self.seen.len() > self.stop_at { Err(Stopped) } else { Ok(()) })
    }
}

#[test]
fn the_analysis_reports_its_steps_and_stops_when_told() {
    use vigil::analysis::rootcause::{RcaError, RootCause};
    let table = load_bytes(&demo_csv(DemoParams::default()), LoadOptions::default()).unwrap().table;
    let rows: Vec<u32> = (0..table.n_rows as u32).collect();
    let truth = &truths()[0];
    let params = RcaParams {
        time_column: "created_at".into(),
        metric: Metric::Count,
        baseline: Window { start_ms: truth.start_ms - 14 * 86_400_000, end_ms: truth.start_ms },
        incident: Window { start_ms: truth.start_ms, end_ms: truth.end_ms },
        dimensions: None,
        max_depth: 3,
        explain_share: 0.8,
    };
    // Every stage is reported, fractions only grow, and the result is the one-call result.
    let mut progress = Steps { stop_at: usize::MAX, seen: Vec::new() };
    let stepped = complete(RootCause::run(&table, &rows, Weights::ONE, &params, &mut progress)).unwrap().unwrap();
    assert_eq!(stepped, explain_change(&table, &rows, &params).unwrap());
    let seen = progress.seen;
    let stages: Vec<&str> = seen.iter().map(|s| s.0).fold(Vec::new(), |mut v, s| {
        if v.last() != Some(&s) {
            v.push(s);
        }
        v
    });
    assert_eq!(stages, ["windows", "dimensions", "combinations", "ranking"]);
    assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1), "{seen:?}");
    assert!(seen.iter().all(|s| (0.0..=1.0).contains(&s.1)));
    assert!(seen.len() > 40, "steps are small enough to cancel promptly: {}", seen.len());
    // Told to stop at any step, it stops there.
    for stop_at in [0, 5, seen.len() / 2, seen.len() - 1] {
        let mut progress = Steps { stop_at, seen: Vec::new() };
        let result = complete(RootCause::run(&table, &rows, Weights::ONE, &params, &mut progress)).unwrap();
        assert_eq!(result, Err(RcaError::Stopped), "stopping at step {stop_at}");
        assert_eq!(progress.seen.len(), stop_at + 1);
    }
}
