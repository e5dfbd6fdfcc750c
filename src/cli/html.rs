//! The self-contained HTML report of `vigil analyze`: one page, no scripts and no requests,
//! charts inline as SVG drawn by the app's own plotting code.

use serde_json::Value;

use super::{Analysed, Session};
use crate::analysis::registry::AnyReport;
use crate::analysis::trend::Direction;
use crate::document::{report_json, tables};
use crate::format::{format_count, format_whole_percent};
use crate::plot::export::xml_escape as esc;
use crate::plot::PlotTheme;

/// Rows of a table shown on the page (all of them are in the CSV).
const SHOWN_ROWS: usize = 25;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;color:#1c2230;margin:2rem auto;max-width:1100px;padding:0 1rem}\
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde1e8}h3{font-size:1rem}\
table{border-collapse:collapse;margin:.5rem 0;font-size:13px}td,th{border-bottom:1px solid #dde1e8;padding:3px 8px;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#5e6778}.warn{color:#a04000}.summary{font-size:15px;background:#f3f5fa;padding:.5rem .8rem;border-radius:6px}\
svg{max-width:100%;height:auto}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{color:#5e6778}";

pub fn report(session: &Session, analysed: &Analysed) -> String {
    let mut body = String::new();
    let table = session.table();
    body.push_str(&format!(
        "<h1>Vigil report: {}</h1>\n<p class=\"muted\">{} × {}; {} in the view. Written by vigil {} on {}.</p>\n",
        esc(&session.data),
        crate::format::plural(table.n_rows as u64, "row"),
        crate::format::plural(table.columns.len() as u64, "column"),
        crate::format::plural(session.rows.len() as u64, "row"),
        env!("CARGO_PKG_VERSION"),
        crate::data::time::format_iso_ms(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)),
    ));
    if !session.notices.is_empty() {
        body.push_str("<h2>Notes</h2>\n<ul>\n");
        for notice in &session.notices {
            body.push_str(&format!("<li>{}</li>\n", esc(notice)));
        }
        body.push_str("</ul>\n");
    }
    for (name, err) in &analysed.failed {
        body.push_str(&format!("<p class=\"warn\">{} failed: {}</p>\n", esc(name), esc(err)));
    }
    for report in &analysed.reports {
        body.push_str(&format!("<h2>{}</h2>\n", esc(report.title())));
        match report {
            AnyReport::Profile(profile) => {
                body.push_str("<h3>Alerts</h3>\n");
                if profile.alerts.is_empty() {
                    body.push_str("<p>No alerts.</p>\n");
                }
                body.push_str("<ul>\n");
                for alert in &profile.alerts {
                    body.push_str(&format!("<li><strong>{:?}</strong> {}</li>\n", alert.severity, esc(&alert.message)));
                }
                body.push_str("</ul>\n<h3>Columns</h3>\n<table><tr><th>column</th><th>type</th><th>present</th><th>missing</th><th>distinct</th></tr>\n");
                for c in &profile.columns {
                    body.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>\n",
                        esc(&c.name),
                        c.kind.label(),
                        format_count(c.present as u64),
                        format_count(c.missing as u64),
                        format_count(c.distinct as u64)
                    ));
                }
                body.push_str("</table>\n");
            }
            AnyReport::Trend(trend) => {
                let rate = session.plan.trend.as_ref().is_some_and(|t| matches!(t.metric, crate::analysis::series::MetricKind::Rate | crate::analysis::series::MetricKind::Ratio));
                match crate::plot::timeseries::trend_svg(trend, 1000, 320, PlotTheme::LIGHT, rate) {
                    Ok(svg) => {
                        body.push_str(&svg);
                        body.push_str("<p class=\"muted\">Dark line: the metric; orange: expected (trend and cycles); red dots: anomalies; shaded: incidents; dashed: a change of level; blue: the forecast with its 80 % and 95 % bands; hollow: a period the data covers only in part.</p>\n");
                    }
                    Err(err) => body.push_str(&format!("<p class=\"warn\">The chart could not be drawn: {}</p>", esc(&err))),
                }
                if let Err(err) = &trend.analysis {
                    body.push_str(&format!("<p class=\"warn\">No model of this series: {}</p>\n", esc(&err.to_string())));
                }
                body.push_str(&format!("<h3>Incidents ({})</h3>\n", analysed.incidents.len()));
                if analysed.incidents.is_empty() {
                    body.push_str("<p>No incidents.</p>\n");
                } else {
                    body.push_str("<table><tr><th>period</th><th></th><th>actual</th><th>expected</th><th>change</th><th>root cause</th></tr>\n");
                    for i in &analysed.incidents {
                        let change = if i.found.expected.abs() > 0.0 { format!("{:+.0} %", i.found.excess / i.found.expected * 100.0) } else { String::new() };
                        body.push_str(&format!(
                            "<tr><td>{}</td><td>{}</td><td class=n>{:.1}</td><td class=n>{:.1}</td><td class=n>{change}</td><td>{}</td></tr>\n",
                            esc(&i.found.period),
                            if i.found.direction == Direction::Spike { "spike" } else { "dip" },
                            i.found.actual,
                            i.found.expected,
                            esc(i.root_cause.as_deref().unwrap_or("not explained (only the largest are)"))
                        ));
                    }
                    body.push_str("</table>\n");
                }
            }
            AnyReport::RootCause(rca) => {
                body.push_str(&format!("<p class=\"summary\">{}</p>\n", esc(&rca.summary)));
                body.push_str("<table><tr><th>segment</th><th>baseline</th><th>incident</th><th>change</th><th>share of change</th></tr>\n");
                for s in rca.segments.iter().take(SHOWN_ROWS) {
                    let name: Vec<String> = s.conditions.iter().map(|c| c.describe()).collect();
                    body.push_str(&format!(
                        "<tr><td>{}</td><td class=n>{:.3}</td><td class=n>{:.3}</td><td class=n>{:+.3}</td><td class=n>{}</td></tr>\n",
                        esc(&name.join(" and ")),
                        s.baseline,
                        s.incident,
                        s.delta,
                        format_whole_percent(s.share_of_delta)
                    ));
                }
                body.push_str("</table>\n");
            }
            other => generic(&mut body, other),
        }
    }
    format!("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<title>Vigil report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n", esc(&session.data))
}

/// Any other report: its top-level numbers and text, then its tables (the first rows).
fn generic(body: &mut String, report: &AnyReport) {
    let value = report_json(report);
    if let Value::Object(map) = &value {
        body.push_str("<dl>\n");
        for (key, v) in map {
            let shown = match v {
                Value::Number(n) => short_number(&n.to_string()),
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            body.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", esc(&key.replace('_', " ")), esc(&shown)));
        }
        body.push_str("</dl>\n");
    }
    for table in tables(report.name(), &value) {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(table.csv.as_bytes());
        let records: Vec<csv::StringRecord> = reader.records().filter_map(Result::ok).collect();
        let rows = records.len().saturating_sub(1);
        body.push_str(&format!("<h3>{}</h3>\n<table>\n", esc(&table.name)));
        for (k, record) in records.iter().take(SHOWN_ROWS + 1).enumerate() {
            let tag = if k == 0 { "th" } else { "td" };
            body.push_str("<tr>");
            for field in record {
                body.push_str(&format!("<{tag}>{}</{tag}>", esc(&short_number(field))));
            }
            body.push_str("</tr>\n");
        }
        body.push_str("</table>\n");
        if rows > SHOWN_ROWS {
            body.push_str(&format!("<p class=\"muted\">The first {SHOWN_ROWS} of {} rows; all of them are in {}.csv.</p>\n", format_count(rows as u64), esc(&table.name)));
        }
    }
}

/// A decimal number with at most four decimals, for reading (the CSV keeps every digit).
fn short_number(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(v) if text.contains('.') && v.is_finite() => {
            let shown = format!("{v:.4}");
            shown.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        _ => text.to_string(),
    }
}
