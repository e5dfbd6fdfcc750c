//! What sets each cluster apart: sizes, feature shifts (standardised mean differences),
//! over-represented category values and the label rate; the report; and what the worker keeps
//! for hover, selection and export.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::analysis::contract::Kept;
use super::fit::{event_sample, rows_of, silhouette, weighted_inertia, Fitter, KDistance, KScore, Model};
use super::map::{inside_polygon, pack_map, MapData, MAX_SELECTION};
use super::{Algorithm, ClusterError, LabelSpec, Prepared, NOISE, SILHOUETTE_SAMPLE};
use crate::analysis::contract::Weights;
use crate::analysis::features::{category_codes, weighted_median};
use crate::data::filter::Clause;
use crate::data::table::{Column, ColumnType, Table};

/// One feature's shift in a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureShift {
    pub feature: String,
    pub mean: f64,
    pub rest_mean: f64,
    /// Standardised mean difference (cluster vs the rest, pooled SD); ±[`SMD_UNBOUNDED`] when
    /// the means differ and neither side varies (the difference is then without bound).
    pub smd: f64,
    /// Cluster mean over the overall median (when the median is positive).
    pub median_ratio: Option<f64>,
}

/// The SMD of means that differ where neither side varies (a finite stand-in for ∞, which JSON
/// cannot carry; shown as ∞).
pub const SMD_UNBOUNDED: f64 = 99.0;

/// A category value over-represented in a cluster's rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryShare {
    pub column: String,
    pub value: String,
    pub share: f64,
    pub overall: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterProfile {
    /// 1.. by size; [`NOISE`] for DBSCAN's noise.
    pub id: i32,
    /// Points (rows, or entities).
    pub size: usize,
    /// Events of its points (a row's weight; an entity counts 1): `size` when each is one.
    pub events: f64,
    /// Its share of the events (rows) or of the entities.
    pub share: f64,
    /// Events in its table rows (the row count when unweighted).
    pub rows: f64,
    /// Positive share of its labelled events (`None` without a label column, or when none of
    /// its members has a label).
    pub label_rate: Option<f64>,
    pub shifts: Vec<FeatureShift>,
    pub categories: Vec<CategoryShare>,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterReport {
    /// "rows" or the entity column.
    pub level: String,
    pub entity: Option<String>,
    pub n_points: usize,
    pub n_rows: usize,
    /// Events in the rows read (`n_rows` when unweighted).
    pub events: f64,
    /// Whether rows were weighted: each point counts as its weight's number of events.
    pub weighted: bool,
    pub fit_points: usize,
    pub dropped: usize,
    pub imputed: usize,
    pub features: Vec<String>,
    pub transforms: Vec<String>,
    pub algorithm: String,
    pub k: usize,
    pub eps: Option<f64>,
    pub iterations: u64,
    pub clusters: Vec<ClusterProfile>,
    pub noise: usize,
    /// k-means: sum of squared distances of all points to their centroid (transformed units).
    pub inertia: Option<f64>,
    pub silhouette: Option<f64>,
    pub k_scan: Vec<KScore>,
    pub k_distance: Option<KDistance>,
    pub map: MapData,
    pub label: Option<String>,
    pub notes: Vec<String>,
    /// The points behind the report (in the worker; never sent to the page).
    #[serde(skip)]
    pub kept: Kept<Outcome>,
}

/// What a clustering keeps beside its report for hover, selection and export (points, their
/// clusters and map positions), inside the process that ran it.
pub struct Outcome {
    /// The entity column the points stand for (`None`: rows).
    pub entity: Option<String>,
    pub prepared: Prepared,
    /// Per point, 1.. by size or [`NOISE`].
    pub labels: Vec<i32>,
    /// Map point → point index.
    pub map_index: Vec<usize>,
    pub map_coords: Array2<f64>,
}

fn format_ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.1}×")
    }
}

/// Per table row: whether its label is positive (`None` when it has no label).
fn label_flags(table: &Table, label: &LabelSpec) -> Result<Vec<Option<bool>>, ClusterError> {
    label.truth(table).ok_or_else(|| ClusterError::NoColumn(label.column.clone()))
}

/// Cluster profiles, map and report from a finished fit (reads the table for category values
/// and labels; `weights` are the rows' own, as the features were prepared with).
pub fn describe(table: &Table, weights: Weights, prepared: Prepared, mut fitter: Fitter) -> Result<ClusterReport, ClusterError> {
    if prepared.member_rows.iter().any(|&r| r as usize >= table.n_rows) {
        return Err(ClusterError::Stale);
    }
    let params = fitter.params.clone();
    let (labels, n_clusters) = fitter.ordered_labels(&prepared.weights);
    let point_weights = &prepared.weights;
    let total_weight: f64 = point_weights.iter().sum();
    let row_weight = |m: usize| prepared.member_rows.get(m).map_or(0.0, |&r| weights.of(r));
    let n_points = prepared.n_points();
    let n_features = prepared.raw.ncols();

    let label_rows = params.label.as_ref().map(|l| label_flags(table, l)).transpose()?;
    let overall_medians: Vec<f64> = (0..n_features).map(|j| weighted_median(prepared.raw.column(j).iter().copied().zip(point_weights.iter().copied()))).collect();
    // Category columns worth profiling: categories with a handful of values.
    type Codes<'t> = (&'t Column, Vec<String>, Vec<Option<u32>>);
    let categorical: Vec<Codes> = table
        .columns
        .iter()
        .filter(|c| matches!(c.kind, ColumnType::Category | ColumnType::Boolean))
        .filter(|c| Some(c.name.as_str()) != params.entity.as_deref() && Some(&c.name) != params.label.as_ref().map(|l| &l.column))
        .filter_map(|c| {
            let (labels, codes) = category_codes(c, &prepared.member_rows);
            (labels.len() >= 2 && labels.len() <= 200).then_some((c, labels, codes))
        })
        .collect();

    let mut ids: Vec<i32> = (1..=n_clusters as i32).collect();
    let noise = labels.iter().filter(|&&l| l == NOISE).count();
    if noise > 0 {
        ids.push(NOISE);
    }
    let point_of_member: Vec<usize> = (0..n_points).flat_map(|p| std::iter::repeat_n(p, prepared.rows_of(p).len())).collect();
    let unit = params.entity.clone().unwrap_or_else(|| "rows".into());
    // Rows counted by weight are events; entities stay entities.
    let weighted_rows = prepared.weighted && params.entity.is_none();
    let mut clusters = Vec::new();
    for &id in &ids {
        let in_set: Vec<bool> = labels.iter().map(|&l| l == id).collect();
        let size = in_set.iter().filter(|&&i| i).count();
        let events: f64 = in_set.iter().zip(point_weights).filter(|(i, _)| **i).map(|(_, w)| w).sum();
        let mut shifts = Vec::new();
        for j in 0..n_features {
            let col = prepared.raw.column(j);
            let (mut s_in, mut q_in, mut s_out, mut q_out) = (0.0, 0.0, 0.0, 0.0);
            for ((p, &v), &w) in col.iter().enumerate().zip(point_weights) {
                if in_set[p] {
                    s_in += w * v;
                    q_in += w * v * v;
                } else {
                    s_out += w * v;
                    q_out += w * v * v;
                }
            }
            // Frequency weights: a point of weight w is w observations.
            let n_in = events;
            let n_out = total_weight - events;
            let mean = if n_in > 0.0 { s_in / n_in } else { f64::NAN };
            let rest_mean = if n_out > 0.0 { s_out / n_out } else { f64::NAN };
            let var_in = if n_in > 1.0 { ((q_in - n_in * mean * mean) / (n_in - 1.0)).max(0.0) } else { 0.0 };
            let var_out = if n_out > 1.0 { ((q_out - n_out * rest_mean * rest_mean) / (n_out - 1.0)).max(0.0) } else { 0.0 };
            let pooled = ((var_in + var_out) / 2.0).sqrt();
            let diff = mean - rest_mean;
            let smd = if pooled > 1e-12 { diff / pooled } else if diff.abs() > 1e-12 { diff.signum() * SMD_UNBOUNDED } else { 0.0 };
            let median = overall_medians.get(j).copied().unwrap_or(f64::NAN);
            let median_ratio = (median > 0.0 && mean.is_finite()).then(|| mean / median);
            shifts.push(FeatureShift { feature: prepared.names[j].clone(), mean, rest_mean, smd: if smd.is_finite() { smd } else { 0.0 }, median_ratio });
        }
        shifts.sort_by(|a, b| b.smd.abs().total_cmp(&a.smd.abs()));
        shifts.truncate(6);

        let member_set: Vec<usize> = (0..prepared.member_rows.len()).filter(|&m| point_of_member.get(m).is_some_and(|&p| in_set[p])).collect();
        let rows: f64 = member_set.iter().map(|&m| row_weight(m)).sum();
        let mut categories = Vec::new();
        for (column, values, codes) in &categorical {
            let mut counts_in = vec![0.0f64; values.len()];
            let mut counts_all = vec![0.0f64; values.len()];
            let mut total_all = 0.0;
            for (m, code) in codes.iter().enumerate() {
                let w = row_weight(m);
                total_all += w;
                if let Some(code) = code {
                    counts_all[*code as usize] += w;
                }
            }
            for &m in &member_set {
                if let Some(Some(code)) = codes.get(m) {
                    counts_in[*code as usize] += row_weight(m);
                }
            }
            let (rows_in, total_all) = (if rows > 0.0 { rows } else { 1.0 }, if total_all > 0.0 { total_all } else { 1.0 });
            let best = (0..values.len())
                .map(|v| (v, counts_in[v] / rows_in, counts_all[v] / total_all))
                .max_by(|a, b| (a.1 - a.2).total_cmp(&(b.1 - b.2)));
            if let Some((v, share, overall)) = best {
                if share - overall > 0.05 {
                    categories.push(CategoryShare { column: column.name.clone(), value: values[v].clone(), share, overall });
                }
            }
        }
        categories.sort_by(|a, b| (b.share - b.overall).total_cmp(&(a.share - a.overall)));
        categories.truncate(4);

        // Over the members with a label (as prevalence, rings and copies count): a member not
        // reviewed is not a negative. None when no member has a label.
        let label_rate = label_rows.as_ref().and_then(|flags| {
            let (mut labelled, mut hits) = (0.0, 0.0);
            for &m in &member_set {
                if let Some(Some(positive)) = prepared.member_rows.get(m).and_then(|&r| flags.get(r as usize)) {
                    labelled += row_weight(m);
                    if *positive {
                        hits += row_weight(m);
                    }
                }
            }
            (labelled > 0.0).then(|| hits / labelled)
        });

        let name = if id == NOISE { "Noise".to_string() } else { format!("Cluster {id}") };
        let share = if total_weight > 0.0 { events / total_weight } else { 0.0 };
        let counted = if weighted_rows { format!("{} events", crate::format::format_events(events)) } else { format!("{} {unit}", crate::format::format_count(size as u64)) };
        let mut parts = vec![format!("{name}: {counted} ({:.1} %)", 100.0 * share)];
        if let (Some(rate), Some(label)) = (label_rate, &params.label) {
            parts.push(format!("{} {} positive", crate::format::format_whole_percent(rate), label.column));
        }
        for shift in shifts.iter().filter(|s| s.smd.abs() >= 0.5).take(2) {
            match shift.median_ratio {
                Some(r) if !(0.5..=2.0).contains(&r) => parts.push(format!("{} {} median", shift.feature, format_ratio(r))),
                _ => parts.push(format!("{} {} (rest {})", shift.feature, short(shift.mean), short(shift.rest_mean))),
            }
        }
        if let Some(c) = categories.first() {
            parts.push(format!("{:.0} % {} = {}", 100.0 * c.share, c.column, c.value));
        }
        clusters.push(ClusterProfile {
            id,
            size,
            events,
            share,
            rows,
            label_rate,
            shifts,
            categories,
            summary: parts.join(", "),
        });
    }

    let inertia = match &fitter.model {
        Model::Centroids(c) => Some(weighted_inertia(prepared.x.view(), point_weights, c)),
        _ => None,
    };
    // Over events: points drawn by weight when they are not one each.
    let sil = if prepared.unit_weights() {
        silhouette(prepared.x.view(), &labels, params.seed)
    } else {
        let drawn = event_sample(point_weights, SILHOUETTE_SAMPLE, params.seed);
        let drawn_labels: Vec<i32> = drawn.iter().map(|&p| labels.get(p).copied().unwrap_or(NOISE)).collect();
        silhouette(rows_of(&prepared.x, &drawn).view(), &drawn_labels, params.seed)
    };
    let (map_index, map_coords, explained) = fitter.map.take().ok_or(ClusterError::Model("internal: no map".into()))?;
    let map = pack_map(&map_coords, &map_index, &labels, n_points, explained);
    let mut notes = std::mem::take(&mut fitter.notes);
    if !prepared.unit_weights() {
        let exact = (fitter.sample.len() as f64 - total_weight).abs() < 0.5 && point_weights.iter().all(|w| w.fract() == 0.0);
        notes.push(if exact {
            format!("Each row counts as its weight's number of events: the model was fitted on {} events, as on the raw rows.", crate::format::format_events(total_weight))
        } else {
            format!(
                "Fitted on {} events drawn (seeded, with replacement) in proportion to the rows' weights, of {} events; every row was then assigned.",
                crate::format::format_count(fitter.sample.len() as u64),
                crate::format::format_events(total_weight)
            )
        });
    } else if fitter.sample.len() < n_points {
        notes.push(format!(
            "Fitted on a seeded sample of {} of {} points; every point was then assigned.",
            crate::format::format_count(fitter.sample.len() as u64),
            crate::format::format_count(n_points as u64)
        ));
    }
    if map.n < n_points {
        notes.push(format!("The map shows a seeded sample of {} points.", crate::format::format_count(map.n as u64)));
    }
    let algorithm = match &params.algorithm {
        Algorithm::KMeans { n_init, .. } => format!("k-means, k = {}, best of {n_init} runs (k-means++), seed {}", fitter.k, params.seed),
        Algorithm::Dbscan { min_points, .. } => format!("DBSCAN, eps = {:.3}, min points = {min_points}", fitter.eps.unwrap_or(0.0)),
        Algorithm::Gmm { k, .. } => format!("Gaussian mixture, k = {k}, full covariances, seed {}", params.seed),
    };
    let report = ClusterReport {
        level: unit,
        entity: params.entity.clone(),
        n_points,
        n_rows: prepared.n_table_rows,
        events: prepared.events,
        weighted: prepared.weighted,
        fit_points: fitter.sample.len(),
        dropped: prepared.dropped,
        imputed: prepared.imputed,
        features: prepared.names.clone(),
        transforms: prepared.transforms.clone(),
        algorithm,
        k: n_clusters,
        eps: fitter.eps,
        iterations: fitter.iterations,
        clusters,
        noise,
        inertia,
        silhouette: sil,
        k_scan: std::mem::take(&mut fitter.k_scan),
        k_distance: fitter.k_distance.take(),
        map,
        label: params.label.as_ref().map(|l| l.column.clone()),
        notes,
        kept: Kept::default(),
    };
    let outcome = Outcome { entity: report.entity.clone(), prepared, labels, map_index, map_coords };
    Ok(ClusterReport { kept: Kept::new(outcome), ..report })
}

fn short(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

impl Outcome {
    /// Membership as CSV: id (or row number), cluster, and the two map coordinates where drawn.
    pub fn membership_csv(&self) -> String {
        let mut out = csv::Writer::from_writer(Vec::new());
        let id_header = self.entity.clone().unwrap_or_else(|| "row".into());
        let _ = out.write_record([id_header.as_str(), "cluster"]);
        for (p, &label) in self.labels.iter().enumerate() {
            let id = match self.prepared.entity_ids.get(p) {
                Some(id) => crate::data::export::neutralise_formula(id),
                None => self.prepared.rows_of(p).first().map_or(String::new(), |&r| (r as usize + 1).to_string()),
            };
            let cluster = if label == NOISE { "noise".to_string() } else { label.to_string() };
            let _ = out.write_record([id, cluster]);
        }
        String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// Map points inside a rectangle (data units), as point indices.
    pub fn points_in(&self, x: (f64, f64), y: (f64, f64)) -> Vec<usize> {
        let (x0, x1) = (x.0.min(x.1), x.0.max(x.1));
        let (y0, y1) = (y.0.min(y.1), y.0.max(y.1));
        self.map_coords
            .rows()
            .into_iter()
            .zip(&self.map_index)
            .filter(|(c, _)| c[0] >= x0 && c[0] <= x1 && c[1] >= y0 && c[1] <= y1)
            .map(|(_, &p)| p)
            .collect()
    }

    /// Map points inside a polygon (data units, implicitly closed), as point indices.
    pub fn points_in_polygon(&self, polygon: &[(f64, f64)]) -> Vec<usize> {
        if polygon.len() < 3 {
            return Vec::new();
        }
        self.map_coords
            .rows()
            .into_iter()
            .zip(&self.map_index)
            .filter(|(c, _)| inside_polygon(c[0], c[1], polygon))
            .map(|(_, &p)| p)
            .collect()
    }

    /// A filter clause selecting these points: their entity ids, or the values of a unique row
    /// identifier column for rows.
    pub fn clause_for(&self, table: &Table, points: &[usize]) -> Result<Clause, String> {
        if points.is_empty() {
            return Err("no points are selected".into());
        }
        if points.len() > MAX_SELECTION {
            return Err(format!("{} points are selected; a filter can hold at most {MAX_SELECTION}", points.len()));
        }
        if let Some(entity) = &self.entity {
            let values = points.iter().filter_map(|&p| self.prepared.entity_ids.get(p).cloned()).collect();
            return Ok(Clause::InSet { column: entity.clone(), values, negate: false });
        }
        let rows: Vec<u32> = points.iter().filter_map(|&p| self.prepared.rows_of(p).first().copied()).collect();
        let id_column = table
            .columns
            .iter()
            .find(|c| c.kind == ColumnType::Identifier && c.count_valid() == table.n_rows && c.count_distinct() == table.n_rows)
            .ok_or("the table has no unique row identifier column to filter rows by; cluster per entity instead")?;
        let values = rows.iter().map(|&r| id_column.value(r as usize).display()).collect();
        Ok(Clause::InSet { column: id_column.name.clone(), values, negate: false })
    }

    /// Points of one cluster (1.. or [`NOISE`]).
    pub fn points_of(&self, cluster: i32) -> Vec<usize> {
        (0..self.labels.len()).filter(|&p| self.labels[p] == cluster).collect()
    }
}

