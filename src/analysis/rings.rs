//! Rings: entities (accounts) tied together by attribute values they share (a device, an IP, a
//! payment instrument), found as the connected components of the entity–attribute graph.
//!
//! ```text
//! rows ──▶ entity e uses value v of attribute a      (an edge e — (a, v))
//!          values used by more than `cap` entities   → excluded (carrier NAT, default ids), listed
//!          optional window w: two uses of v tie their entities only when they are at most w
//!                             apart (a chain of such uses ties them all)
//! union-find over the edges ──▶ components with ≥ min_size entities
//! a component above `split_above` entities ──▶ Louvain communities of its bipartite graph
//! ```
//!
//! Each ring reports its size, the values that tie it (with how many of its entities use each),
//! its rows, the share labelled positive (or actioned), when its entities first appeared and how
//! tightly (the spread of first appearances), ranked by size. Components and modularity are
//! checked against networkx in `tests/it/reference_rings.rs`.

use std::borrow::Cow;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::contract::{has_column, has_time_column, missing_column, Analysis, FitColumns, Kept, Progress, RowGroups, Stopped, Weights};
use super::labels::LabelSpec;
use crate::data::table::{Column, ColumnData, ColumnType, Strings, Table, Value, MISSING_CODE};

/// Rings listed in a report (the largest).
pub const MAX_RINGS: usize = 200;
/// Entity names kept per ring (for the filter).
pub const MAX_MEMBERS: usize = 2_000;
/// Excluded values listed (the most shared).
pub const MAX_EXCLUDED: usize = 50;
/// Rings drawn as a graph: at most this many entities and shared values in all.
pub const MAX_DRAWN: usize = 400;
/// Attribute columns at most.
pub const MAX_ATTRIBUTES: usize = 8;
/// Scan rows between two progress steps.
const STEP_ROWS: usize = 50_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RingsParams {
    /// The column naming each entity (an account id).
    pub entity: String,
    /// Columns whose shared values tie entities (device id, IP, payment hash…).
    pub attributes: Vec<String>,
    /// A value used by more than this many entities ties nobody (listed as excluded).
    #[serde(default = "default_cap")]
    pub cap: usize,
    /// A timestamp column, for first appearances and the window.
    #[serde(default)]
    pub time: Option<String>,
    /// Uses of a value tie their entities only within this many ms of each other.
    #[serde(default)]
    pub window_ms: Option<i64>,
    /// The label whose positive share each ring reports.
    #[serde(default)]
    pub label: Option<LabelSpec>,
    /// Components this large are split into Louvain communities.
    #[serde(default = "default_split_above")]
    pub split_above: usize,
    /// Louvain's resolution (1: modularity as defined; larger: smaller communities).
    #[serde(default = "default_resolution")]
    pub resolution: f64,
    /// Rings smaller than this are not listed.
    #[serde(default = "default_min_size")]
    pub min_size: usize,
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_cap() -> usize {
    50
}
fn default_split_above() -> usize {
    200
}
fn default_resolution() -> f64 {
    1.0
}
fn default_min_size() -> usize {
    3
}
fn default_seed() -> u64 {
    1
}

impl RingsParams {
    /// Defaults for an entity and its attributes.
    pub fn of(entity: &str, attributes: &[&str]) -> Self {
        Self {
            entity: entity.into(),
            attributes: attributes.iter().map(|a| a.to_string()).collect(),
            cap: default_cap(),
            time: None,
            window_ms: None,
            label: None,
            split_above: default_split_above(),
            resolution: default_resolution(),
            min_size: default_min_size(),
            seed: default_seed(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum RingsError {
    #[error("choose {0}")]
    Choose(String),
    #[error("there is no column “{0}”")]
    UnknownColumn(String),
    #[error("at most {MAX_ATTRIBUTES} attribute columns")]
    TooManyAttributes,
    #[error("“{0}” is the entity column; choose other columns as attributes")]
    EntityAsAttribute(String),
    #[error("{0} must be at least {1}")]
    TooSmall(String, usize),
    #[error("the resolution must be a positive number")]
    Resolution,
    #[error("the window must be positive")]
    Window,
    #[error("the window needs a time column")]
    WindowWithoutTime,
    #[error("“{0}” is not a timestamp column")]
    NotTime(String),
    #[error("stopped before it finished")]
    Stopped,
}

impl From<Stopped> for RingsError {
    fn from(_: Stopped) -> Self {
        Self::Stopped
    }
}

/// An attribute value that ties entities in a ring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedValue {
    pub column: String,
    pub value: String,
    /// Entities of the ring that use it.
    pub entities: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ring {
    /// 1 for the largest ring, in the order listed.
    pub id: usize,
    pub entities: usize,
    /// The ring's entities (at most [`MAX_MEMBERS`], most active first).
    pub members: Vec<String>,
    /// Rows of the ring's entities (their weights).
    pub rows: f64,
    /// Values used by at least two of its entities, per attribute column.
    pub shared_values: Vec<(String, usize)>,
    /// The most used of those (at most 5).
    pub top_shared: Vec<SharedValue>,
    /// Share of its labelled rows that are positive, and how many were labelled.
    pub label_rate: Option<f64>,
    pub labelled: f64,
    /// Earliest and latest first appearance of its entities (UTC ms).
    pub first_seen_ms: Option<(i64, i64)>,
    /// Its last row (UTC ms).
    pub last_seen_ms: Option<i64>,
    /// The component it belongs to was split into communities (this is one of them).
    pub community_of: Option<usize>,
    /// Its graph, when small enough to draw ([`MAX_DRAWN`] nodes).
    pub graph: Option<RingGraph>,
}

/// A ring's entity–value graph: `links` join an entity (an index into the ring's `members`) and a
/// value (an index into `values`) it uses; only values two of its entities share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RingGraph {
    /// `(column, value)`.
    pub values: Vec<(String, String)>,
    pub links: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExcludedValue {
    pub column: String,
    pub value: String,
    pub entities: usize,
}

/// A component too large to be one ring, and how it split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub component: usize,
    pub entities: usize,
    pub communities: usize,
    /// Modularity of the split on the component's entity–value graph.
    pub modularity: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RingsReport {
    pub entity: String,
    pub attributes: Vec<String>,
    /// Distinct entities in the selected rows, and values of the attributes.
    pub entities: usize,
    pub values: usize,
    /// Entity–value pairs (edges of the graph), excluded values left out.
    pub edges: usize,
    /// Entities that share a value with at least one other.
    pub tied_entities: usize,
    /// Connected components of two entities or more, and the size of the largest.
    pub components: usize,
    pub largest_component: usize,
    pub rings: Vec<Ring>,
    /// Rings of at least `min_size` entities, listed or not.
    pub rings_found: usize,
    pub excluded: Vec<ExcludedValue>,
    pub excluded_count: usize,
    pub splits: Vec<Split>,
    pub label_overall: Option<f64>,
    pub cap: usize,
    pub min_size: usize,
    pub notes: Vec<String>,
    /// Each analysed row's ring, listed or not (for a derived `ring` column; in the worker only).
    #[serde(skip)]
    pub kept: Kept<RowGroups>,
}

pub struct Rings;

impl Analysis for Rings {
    const NAME: &'static str = "rings";
    const TITLE: &'static str = "Rings";
    const WEIGHTED: bool = true;
    const IN_LINK: bool = true;
    type Params = RingsParams;
    type Report = RingsReport;
    type Error = RingsError;

    fn fit_link(params: RingsParams, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<RingsParams> {
        params.fit_columns(columns, notices)
    }

    fn check(params: &RingsParams) -> Result<(), RingsError> {
        if params.entity.is_empty() {
            return Err(RingsError::Choose("the entity column (an account id)".into()));
        }
        if params.attributes.is_empty() {
            return Err(RingsError::Choose("at least one attribute column (a device, an IP)".into()));
        }
        if params.attributes.len() > MAX_ATTRIBUTES {
            return Err(RingsError::TooManyAttributes);
        }
        if params.attributes.contains(&params.entity) {
            return Err(RingsError::EntityAsAttribute(params.entity.clone()));
        }
        if params.cap < 2 {
            return Err(RingsError::TooSmall("the cap".into(), 2));
        }
        if params.min_size < 2 {
            return Err(RingsError::TooSmall("the smallest ring".into(), 2));
        }
        if params.split_above < 2 {
            return Err(RingsError::TooSmall("the size to split above".into(), 2));
        }
        if !(params.resolution.is_finite() && params.resolution > 0.0) {
            return Err(RingsError::Resolution);
        }
        match (params.window_ms, &params.time) {
            (Some(w), _) if w <= 0 => Err(RingsError::Window),
            (Some(_), None) => Err(RingsError::WindowWithoutTime),
            _ => Ok(()),
        }
    }

    async fn run(table: &Table, rows: &[u32], weights: Weights<'_>, params: &RingsParams, progress: &mut impl Progress) -> Result<RingsReport, RingsError> {
        let column = |name: &str| table.column(name).ok_or_else(|| RingsError::UnknownColumn(name.to_string()));
        let entity_column = column(&params.entity)?;
        let attribute_columns: Vec<&Column> = params.attributes.iter().map(|a| column(a)).collect::<Result<_, _>>()?;
        let time_column = match &params.time {
            Some(t) => {
                let c = column(t)?;
                if c.kind != ColumnType::Timestamp {
                    return Err(RingsError::NotTime(t.clone()));
                }
                Some(c)
            }
            None => None,
        };
        let truth = params.label.as_ref().and_then(|l| l.truth(table));
        let mut notes = Vec::new();
        let total_steps = (params.attributes.len() + 2) as f64;

        // Entities: a code per selected row.
        progress.step("entities", "Reading the entities", 0.0).await?;
        let mut entity_codes = Codes::new(entity_column);
        let mut row_entity = Vec::with_capacity(rows.len());
        for (done, &row) in rows.iter().enumerate() {
            if done % STEP_ROWS == STEP_ROWS - 1 {
                progress.step("entities", "Reading the entities", done as f64 / rows.len().max(1) as f64 / total_steps).await?;
            }
            row_entity.push(if weights.of(row) > 0.0 { entity_codes.code(row as usize) } else { None });
        }
        let n = entity_codes.names.len();
        let missing_entity = row_entity.iter().filter(|e| e.is_none()).count();
        if missing_entity > 0 {
            notes.push(format!("{} rows without an entity left out", missing_entity));
        }

        // Per entity: rows, positives, labelled, first and last time.
        let mut stats = vec![EntityStats::default(); n];
        for (&row, entity) in rows.iter().zip(&row_entity) {
            let Some(e) = entity else { continue };
            let s = &mut stats[*e as usize];
            let w = weights.of(row);
            s.rows += w;
            if let Some(Some(positive)) = truth.as_ref().map(|t| t.get(row as usize).copied().flatten()) {
                s.labelled += w;
                if positive {
                    s.positives += w;
                }
            }
            if let Some(Value::Timestamp(ms)) = time_column.map(|c| c.value(row as usize)) {
                s.first = Some(s.first.map_or(ms, |f: i64| f.min(ms)));
                s.last = Some(s.last.map_or(ms, |l: i64| l.max(ms)));
            }
        }

        // Attributes: the graph's edges, values over the cap left out, components by union-find.
        // Every value's entities sit in one flat list (`Uses`): a million values cost a few
        // large allocations, not a million small ones to make and to free.
        let mut union = UnionFind::new(n);
        let mut values = Uses::default();
        // Per attribute, its values' names (indexed by `ValueNode::code`).
        let mut value_names: Vec<Vec<Cow<str>>> = Vec::with_capacity(attribute_columns.len());
        let mut excluded: Vec<ExcludedValue> = Vec::new();
        let mut untimed = 0usize;
        for (a, attribute) in attribute_columns.iter().enumerate() {
            let phase_start = (a + 1) as f64 / total_steps;
            let detail = format!("Values of “{}”", params.attributes[a]);
            progress.step("attributes", &detail, phase_start).await?;
            let mut codes = Codes::new(attribute);
            // Each use: (value, time, entity); sorted, each value's uses are together in time order.
            let mut uses: Vec<(u32, i64, u32)> = Vec::with_capacity(rows.len());
            for (done, (&row, entity)) in rows.iter().zip(&row_entity).enumerate() {
                if done % STEP_ROWS == STEP_ROWS - 1 {
                    progress.step("attributes", &detail, phase_start + 0.4 * done as f64 / rows.len().max(1) as f64 / total_steps).await?;
                }
                let Some(e) = entity else { continue };
                let Some(v) = codes.code(row as usize) else { continue };
                let at = match (params.window_ms, time_column) {
                    (Some(_), Some(c)) => match c.value(row as usize) {
                        Value::Timestamp(ms) => ms,
                        _ => {
                            untimed += 1;
                            continue;
                        }
                    },
                    _ => 0,
                };
                uses.push((v, at, *e));
            }
            progress.step("attributes", &detail, phase_start + 0.4 / total_steps).await?;
            uses.sort_unstable();
            progress.step("attributes", &detail, phase_start + 0.5 / total_steps).await?;
            let mut done = 0;
            let mut stepped = 0;
            for used in uses.chunk_by(|x, y| x.0 == y.0) {
                if done >= stepped + STEP_ROWS {
                    stepped = done;
                    progress.step("attributes", &detail, phase_start + (0.5 + 0.5 * done as f64 / uses.len() as f64) / total_steps).await?;
                }
                done += used.len();
                let v = used[0].0;
                let entities = values.push_entities(used.iter().map(|&(_, _, e)| e));
                if entities.len() > params.cap {
                    let count = entities.len();
                    values.discard_last();
                    excluded.push(ExcludedValue { column: params.attributes[a].clone(), value: codes.names[v as usize].to_string(), entities: count });
                    continue;
                }
                match params.window_ms {
                    Some(window) => {
                        for pair in used.windows(2) {
                            if pair[1].1 - pair[0].1 <= window {
                                union.join(pair[0].2, pair[1].2);
                            }
                        }
                    }
                    None => {
                        for pair in entities.windows(2) {
                            union.join(pair[0], pair[1]);
                        }
                    }
                }
                values.keep_last(a, v);
            }
            value_names.push(codes.names);
        }
        if untimed > 0 {
            notes.push(format!("{untimed} attribute uses without a time left out (the window needs one)"));
        }
        excluded.sort_by(|x, y| y.entities.cmp(&x.entities).then_with(|| x.value.cmp(&y.value)));
        let excluded_count = excluded.len();
        excluded.truncate(MAX_EXCLUDED);

        // Components: each entity's root, then the members of roots with two or more (in entity
        // order), with no list for the entities alone.
        progress.step("rings", "Rings and communities", (params.attributes.len() + 1) as f64 / total_steps).await?;
        let rings_phase = (params.attributes.len() + 1) as f64 / total_steps;
        let mut root = vec![0u32; n];
        let mut size = vec![0u32; n];
        for e in 0..n as u32 {
            if e as usize % STEP_ROWS == STEP_ROWS - 1 {
                progress.step("rings", "Rings and communities", rings_phase + 0.2 * e as f64 / n as f64 / total_steps).await?;
            }
            let r = union.find(e);
            root[e as usize] = r;
            size[r as usize] += 1;
        }
        drop(union);
        let mut component_of = vec![u32::MAX; n];
        let mut components: Vec<Vec<u32>> = Vec::new();
        for (e, &r) in root.iter().enumerate() {
            let r = r as usize;
            if size[r] < 2 {
                continue;
            }
            if component_of[r] == u32::MAX {
                component_of[r] = components.len() as u32;
                components.push(Vec::with_capacity(size[r] as usize));
            }
            components[component_of[r] as usize].push(e as u32);
        }
        drop((root, size, component_of));
        components.sort_by(|x, y| y.len().cmp(&x.len()).then_with(|| x[0].cmp(&y[0])));
        let tied_entities = components.iter().map(Vec::len).sum();
        let largest_component = components.first().map_or(0, Vec::len);
        let edges = values.entities.len();

        progress.step("rings", "Rings and communities", rings_phase + 0.3 / total_steps).await?;
        // Values by entity, for the rings' shared values and the split graphs.
        let entity_values = values.by_entity(n);

        progress.step("rings", "Rings and communities", rings_phase + 0.4 / total_steps).await?;
        let mut groups: Vec<(Vec<u32>, Option<usize>)> = Vec::new();
        let mut splits = Vec::new();
        for (c, component) in components.iter().enumerate() {
            if component.len() > params.split_above {
                progress.step("rings", &format!("Communities of a component of {} entities", component.len()), rings_phase + 0.4 / total_steps).await?;
                let graph = component_graph(component, &entity_values);
                let communities = louvain(&graph, params.resolution, params.seed.wrapping_add(c as u64));
                let modularity = modularity(&graph, &communities, params.resolution);
                let mut by_community: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
                for (i, &e) in component.iter().enumerate() {
                    by_community.entry(communities[i]).or_default().push(e);
                }
                splits.push(Split { component: c + 1, entities: component.len(), communities: by_community.len(), modularity });
                groups.extend(by_community.into_values().map(|g| (g, Some(c + 1))));
            } else {
                groups.push((component.clone(), None));
            }
        }
        let component_count = components.len();
        drop(components);
        groups.retain(|(g, _)| g.len() >= params.min_size);
        groups.sort_by(|x, y| y.0.len().cmp(&x.0.len()).then_with(|| x.0.iter().min().cmp(&y.0.iter().min())));
        let rings_found = groups.len();
        progress.step("rings", "Rings and communities", rings_phase + 0.6 / total_steps).await?;
        let mut entity_ring = vec![0u32; n];
        for (idx, (group, _)) in groups.iter().enumerate() {
            for &e in group {
                entity_ring[e as usize] = idx as u32 + 1;
            }
        }
        let row_rings = RowGroups {
            rows: rows.iter().zip(&row_entity).filter_map(|(&row, e)| e.map(|e| (row, entity_ring[e as usize])).filter(|&(_, ring)| ring > 0)).collect(),
            groups: rings_found,
        };
        drop((entity_ring, row_entity));
        groups.truncate(MAX_RINGS);

        progress.step("rings", "Describing the rings", rings_phase + 0.8 / total_steps).await?;
        let names = Names { entities: &entity_codes.names, values: &value_names };
        let rings = groups
            .into_iter()
            .enumerate()
            .map(|(idx, (group, community_of))| describe(idx + 1, &group, community_of, &stats, names, &values, &entity_values, &params.attributes))
            .collect();

        let (labelled, positives) = stats.iter().fold((0.0, 0.0), |(l, p), s| (l + s.labelled, p + s.positives));
        Ok(RingsReport {
            entity: params.entity.clone(),
            attributes: params.attributes.clone(),
            entities: n,
            values: values.nodes.len() + excluded_count,
            edges,
            tied_entities,
            components: component_count,
            largest_component,
            rings,
            rings_found,
            excluded,
            excluded_count,
            splits,
            label_overall: (labelled > 0.0).then(|| positives / labelled),
            cap: params.cap,
            min_size: params.min_size,
            notes,
            kept: Kept::new(row_rings),
        })
    }
}

#[derive(Debug, Clone, Default)]
struct EntityStats {
    rows: f64,
    labelled: f64,
    positives: f64,
    first: Option<i64>,
    last: Option<i64>,
}

/// A value kept in the graph (used by `cap` entities at most); its entities are
/// `Uses::entities[start..end]`.
struct ValueNode {
    column: usize,
    /// Its index in the attribute's names.
    code: u32,
    start: usize,
    end: usize,
}

/// The values kept, each one's entities (sorted, distinct) one after another in a flat list.
#[derive(Default)]
struct Uses {
    nodes: Vec<ValueNode>,
    entities: Vec<u32>,
    scratch: Vec<u32>,
}

impl Uses {
    /// Appends a value's entities (any order, repeats allowed), sorted and distinct, after the
    /// last kept value's, and returns them: kept by `keep_last`, or dropped by `discard_last`.
    fn push_entities(&mut self, entities: impl Iterator<Item = u32>) -> &[u32] {
        self.discard_last();
        let start = self.entities.len();
        self.scratch.clear();
        self.scratch.extend(entities);
        self.scratch.sort_unstable();
        self.scratch.dedup();
        self.entities.extend_from_slice(&self.scratch);
        &self.entities[start..]
    }

    fn discard_last(&mut self) {
        let kept = self.nodes.last().map_or(0, |node| node.end);
        self.entities.truncate(kept);
    }

    fn keep_last(&mut self, column: usize, code: u32) {
        let start = self.nodes.last().map_or(0, |node| node.end);
        self.nodes.push(ValueNode { column, code, start, end: self.entities.len() });
    }

    /// Every entity's values (indexes into `nodes`, ascending), for `n` entities.
    fn by_entity(&self, n: usize) -> EntityValues {
        let mut starts = vec![0usize; n + 1];
        for &e in &self.entities {
            starts[e as usize + 1] += 1;
        }
        let mut sum = 0;
        for start in starts.iter_mut() {
            sum += *start;
            *start = sum;
        }
        let mut next = starts.clone();
        let mut values = vec![0u32; self.entities.len()];
        for (v, node) in self.nodes.iter().enumerate() {
            for &e in &self.entities[node.start..node.end] {
                values[next[e as usize]] = v as u32;
                next[e as usize] += 1;
            }
        }
        EntityValues { starts, values }
    }
}

/// Each entity's values: `values[starts[e]..starts[e + 1]]`.
struct EntityValues {
    starts: Vec<usize>,
    values: Vec<u32>,
}

impl EntityValues {
    fn of(&self, e: u32) -> &[u32] {
        &self.values[self.starts[e as usize]..self.starts[e as usize + 1]]
    }
}

/// The entities' names and, per attribute, its values' names.
#[derive(Clone, Copy)]
struct Names<'n, 'a> {
    entities: &'n [Cow<'a, str>],
    values: &'n [Vec<Cow<'a, str>>],
}

/// The ring's figures from its entities.
#[allow(clippy::too_many_arguments)]
fn describe(id: usize, group: &[u32], community_of: Option<usize>, stats: &[EntityStats], names: Names, values: &Uses, entity_values: &EntityValues, attributes: &[String]) -> Ring {
    let name = |v: u32| -> &str {
        let node = &values.nodes[v as usize];
        names.values.get(node.column).and_then(|n| n.get(node.code as usize)).map_or("", |s| s)
    };
    let mut by_activity: Vec<u32> = group.to_vec();
    by_activity.sort_by(|&a, &b| stats[b as usize].rows.total_cmp(&stats[a as usize].rows).then_with(|| names.entities[a as usize].cmp(&names.entities[b as usize])));
    let members: Vec<String> = by_activity.iter().take(MAX_MEMBERS).map(|&e| names.entities[e as usize].to_string()).collect();
    let (mut rows, mut labelled, mut positives) = (0.0, 0.0, 0.0);
    let (mut first, mut last): (Option<(i64, i64)>, Option<i64>) = (None, None);
    for &e in group {
        let s = &stats[e as usize];
        rows += s.rows;
        labelled += s.labelled;
        positives += s.positives;
        if let Some(f) = s.first {
            first = Some(first.map_or((f, f), |(lo, hi)| (lo.min(f), hi.max(f))));
        }
        if let Some(l) = s.last {
            last = Some(last.map_or(l, |x| x.max(l)));
        }
    }
    // Values used by two or more of the ring's entities.
    let mut counts: FxHashMap<u32, usize> = FxHashMap::default();
    for &e in group {
        for &v in entity_values.of(e) {
            *counts.entry(v).or_default() += 1;
        }
    }
    let mut shared: Vec<(u32, usize)> = counts.into_iter().filter(|&(_, c)| c >= 2).collect();
    shared.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| name(a.0).cmp(name(b.0))));
    let mut per_column = vec![0usize; attributes.len()];
    for &(v, _) in &shared {
        per_column[values.nodes[v as usize].column] += 1;
    }
    let graph = (group.len() + shared.len() <= MAX_DRAWN).then(|| {
        let index: FxHashMap<u32, u32> = shared.iter().enumerate().map(|(i, &(v, _))| (v, i as u32)).collect();
        let links = by_activity
            .iter()
            .enumerate()
            .flat_map(|(m, &e)| entity_values.of(e).iter().filter_map(|v| index.get(v)).map(move |&i| (m as u32, i)).collect::<Vec<_>>())
            .collect();
        RingGraph { values: shared.iter().map(|&(v, _)| (attributes[values.nodes[v as usize].column].clone(), name(v).to_string())).collect(), links }
    });
    Ring {
        id,
        entities: group.len(),
        members,
        rows,
        shared_values: attributes.iter().cloned().zip(per_column).filter(|(_, c)| *c > 0).collect(),
        top_shared: shared
            .iter()
            .take(5)
            .map(|&(v, c)| SharedValue { column: attributes[values.nodes[v as usize].column].clone(), value: name(v).to_string(), entities: c })
            .collect(),
        label_rate: (labelled > 0.0).then(|| positives / labelled),
        labelled,
        first_seen_ms: first,
        last_seen_ms: last,
        community_of,
        graph,
    }
}

/// A code per distinct value of a column, its text in `names` (dictionary columns reuse their
/// codes' order of first use; others key by their displayed text). Texts are borrowed from the
/// column where it holds them (strings), so a million distinct values cost no allocation each,
/// neither when read nor when freed.
pub(crate) struct Codes<'a> {
    column: &'a Column,
    pub(crate) names: Vec<Cow<'a, str>>,
    dict_map: Vec<u32>,
    text_map: FxHashMap<Cow<'a, str>, u32>,
}

impl<'a> Codes<'a> {
    pub(crate) fn new(column: &'a Column) -> Self {
        let dict_len = match &column.data {
            ColumnData::Str(Strings::Dict { dict, .. }) => dict.len(),
            _ => 0,
        };
        Self { column, names: Vec::new(), dict_map: vec![MISSING_CODE; dict_len], text_map: FxHashMap::default() }
    }

    pub(crate) fn code(&mut self, row: usize) -> Option<u32> {
        let column: &'a Column = self.column;
        if let ColumnData::Str(Strings::Dict { codes, dict }) = &column.data {
            let code = codes.get(row)?;
            let slot = self.dict_map.get_mut(code as usize)?;
            if *slot == MISSING_CODE {
                *slot = self.names.len() as u32;
                self.names.push(Cow::Borrowed(&**dict.get(code as usize)?));
            }
            return Some(*slot);
        }
        let text = match column.value(row) {
            Value::Missing => return None,
            Value::Str(s) => Cow::Borrowed(s),
            other => Cow::Owned(other.display()),
        };
        if let Some(&code) = self.text_map.get(&*text) {
            return Some(code);
        }
        let code = self.names.len() as u32;
        self.names.push(text.clone());
        self.text_map.insert(text, code);
        Some(code)
    }
}

/// Union-find with path halving and union by size.
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    pub fn new(n: usize) -> Self {
        Self { parent: (0..n as u32).collect(), size: vec![1; n] }
    }

    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    pub fn join(&mut self, a: u32, b: u32) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
    }
}

/// An undirected weighted graph as adjacency lists (no self loops).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub adjacency: Vec<Vec<(u32, f64)>>,
}

impl Graph {
    /// From edges `(a, b, weight)` over nodes `0..n` (parallel edges add up; self loops are
    /// dropped).
    pub fn from_edges(n: usize, edges: &[(u32, u32, f64)]) -> Self {
        let mut maps: Vec<FxHashMap<u32, f64>> = vec![FxHashMap::default(); n];
        for &(a, b, w) in edges {
            if a != b && (a as usize) < n && (b as usize) < n {
                *maps[a as usize].entry(b).or_default() += w;
                *maps[b as usize].entry(a).or_default() += w;
            }
        }
        Self { adjacency: sorted_lists(maps) }
    }

    pub fn len(&self) -> usize {
        self.adjacency.len()
    }

    pub fn is_empty(&self) -> bool {
        self.adjacency.is_empty()
    }
}

/// Neighbour maps as adjacency lists in node order (so that every run visits them alike).
fn sorted_lists(maps: Vec<FxHashMap<u32, f64>>) -> Vec<Vec<(u32, f64)>> {
    maps.into_iter()
        .map(|m| {
            let mut list: Vec<(u32, f64)> = m.into_iter().collect();
            list.sort_unstable_by_key(|&(node, _)| node);
            list
        })
        .collect()
}

/// The bipartite graph of a component: its entities first (in `component`'s order), then the
/// values they use.
fn component_graph(component: &[u32], entity_values: &EntityValues) -> Graph {
    let mut value_node: FxHashMap<u32, u32> = FxHashMap::default();
    let mut edges = Vec::new();
    for (i, &e) in component.iter().enumerate() {
        for &v in entity_values.of(e) {
            let next = (component.len() + value_node.len()) as u32;
            let node = *value_node.entry(v).or_insert(next);
            edges.push((i as u32, node, 1.0));
        }
    }
    Graph::from_edges(component.len() + value_node.len(), &edges)
}

/// Louvain community detection (Blondel et al. 2008): move each node to the neighbouring
/// community with the largest modularity gain until none improves, merge each community into one
/// node, repeat. Nodes are visited in a seeded random order. Returns a community per node.
pub fn louvain(graph: &Graph, resolution: f64, seed: u64) -> Vec<u32> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n = graph.len();
    let mut membership: Vec<u32> = (0..n as u32).collect();
    // The level's graph: adjacency without self loops, and each node's weight inside itself.
    let mut adjacency = graph.adjacency.clone();
    let mut inner = vec![0.0; n];
    let two_m: f64 = adjacency.iter().flatten().map(|&(_, w)| w).sum();
    if two_m <= 0.0 {
        return membership;
    }
    loop {
        let size = adjacency.len();
        let degree: Vec<f64> = (0..size).map(|i| adjacency[i].iter().map(|&(_, w)| w).sum::<f64>() + 2.0 * inner[i]).collect();
        let mut community: Vec<u32> = (0..size as u32).collect();
        let mut total: Vec<f64> = degree.clone();
        let mut order: Vec<usize> = (0..size).collect();
        order.shuffle(&mut rng);
        let mut moved_any = false;
        let mut weights_to: FxHashMap<u32, f64> = FxHashMap::default();
        loop {
            let mut moved = false;
            for &i in &order {
                let current = community[i];
                weights_to.clear();
                for &(j, w) in &adjacency[i] {
                    *weights_to.entry(community[j as usize]).or_default() += w;
                }
                let k = degree[i];
                total[current as usize] -= k;
                let gain = |c: u32, w: f64| w - resolution * total[c as usize] * k / two_m;
                let mut best = current;
                let mut best_gain = gain(current, weights_to.get(&current).copied().unwrap_or(0.0));
                let mut candidates: Vec<(u32, f64)> = weights_to.iter().map(|(&c, &w)| (c, w)).collect();
                candidates.sort_unstable_by_key(|&(c, _)| c);
                for (c, w) in candidates {
                    let g = gain(c, w);
                    if g > best_gain + 1e-12 {
                        best = c;
                        best_gain = g;
                    }
                }
                total[best as usize] += k;
                if best != current {
                    community[i] = best;
                    moved = true;
                    moved_any = true;
                }
            }
            if !moved {
                break;
            }
        }
        if !moved_any {
            break;
        }
        // Renumber and merge.
        let mut renumber: FxHashMap<u32, u32> = FxHashMap::default();
        for c in &mut community {
            let next = renumber.len() as u32;
            *c = *renumber.entry(*c).or_insert(next);
        }
        for m in &mut membership {
            *m = community[*m as usize];
        }
        let count = renumber.len();
        let mut next_inner = vec![0.0; count];
        let mut maps: Vec<FxHashMap<u32, f64>> = vec![FxHashMap::default(); count];
        for i in 0..size {
            let ci = community[i];
            next_inner[ci as usize] += inner[i];
            for &(j, w) in &adjacency[i] {
                let cj = community[j as usize];
                if ci == cj {
                    // Each inner edge is seen from both ends.
                    next_inner[ci as usize] += w / 2.0;
                } else {
                    *maps[ci as usize].entry(cj).or_default() += w;
                }
            }
        }
        adjacency = sorted_lists(maps);
        inner = next_inner;
        if count == size {
            break;
        }
    }
    membership
}

/// Newman's modularity of a partition, with a resolution (as networkx's `modularity`).
pub fn modularity(graph: &Graph, communities: &[u32], resolution: f64) -> f64 {
    let two_m: f64 = graph.adjacency.iter().flatten().map(|&(_, w)| w).sum();
    if two_m <= 0.0 {
        return 0.0;
    }
    let mut inside: FxHashMap<u32, f64> = FxHashMap::default();
    let mut degree: FxHashMap<u32, f64> = FxHashMap::default();
    for (i, list) in graph.adjacency.iter().enumerate() {
        let ci = communities[i];
        for &(j, w) in list {
            *degree.entry(ci).or_default() += w;
            if communities[j as usize] == ci {
                *inside.entry(ci).or_default() += w;
            }
        }
    }
    degree.iter().map(|(c, &d)| inside.get(c).copied().unwrap_or(0.0) / two_m - resolution * (d / two_m).powi(2)).sum()
}

impl FitColumns for RingsParams {
    fn fit_columns(mut self, columns: &[(String, ColumnType)], notices: &mut Vec<String>) -> Option<Self> {
        if !has_column(columns, &self.entity) {
            notices.push(missing_column("ring settings", &self.entity));
            return None;
        }
        let before: FxHashSet<String> = self.attributes.iter().cloned().collect();
        self.attributes.retain(|a| has_column(columns, a));
        for gone in before.iter().filter(|a| !self.attributes.contains(a)) {
            notices.push(missing_column("ring attribute", gone));
        }
        if self.attributes.is_empty() {
            return None;
        }
        if let Some(t) = self.time.clone() {
            if !has_time_column(columns, &t) {
                notices.push(missing_column("ring time column", &t));
                self.time = None;
                self.window_ms = None;
            }
        }
        if let Some(l) = self.label.clone() {
            if !has_column(columns, &l.column) {
                notices.push(missing_column("ring label", &l.column));
                self.label = None;
            }
        }
        Some(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::analysis::contract::run_now;
    use crate::data::load::{load_bytes, LoadOptions};

    fn table(csv: &str) -> Table {
        load_bytes(csv.as_bytes(), LoadOptions::default()).unwrap().table
    }

    #[test]
    fn shared_values_tie_entities_and_popular_values_do_not() {
        // a1–a3 share device d1 (a3 also d2, shared with a4): one ring of four; b1, b2 share
        // d9; the NAT ip is used by everyone and ties nobody with a cap of 5.
        let mut csv = String::from("account,device,ip,label\n");
        for (a, d) in [("a1", "d1"), ("a2", "d1"), ("a3", "d1"), ("a3", "d2"), ("a4", "d2"), ("b1", "d9"), ("b2", "d9")] {
            csv.push_str(&format!("{a},{d},nat,{}\n", if a.starts_with('a') { "bad" } else { "ok" }));
        }
        for i in 0..6 {
            csv.push_str(&format!("c{i},own{i},nat,ok\n"));
        }
        let t = table(&csv);
        let rows: Vec<u32> = (0..t.n_rows as u32).collect();
        let params = RingsParams { cap: 5, min_size: 2, label: Some(LabelSpec { column: "label".into(), positive: vec!["bad".into()] }), ..RingsParams::of("account", &["device", "ip"]) };
        let report = run_now::<Rings>(&t, &rows, &params).unwrap();
        assert_eq!(report.entities, 12);
        assert_eq!(report.components, 2);
        assert_eq!(report.rings.len(), 2);
        let ring = &report.rings[0];
        assert_eq!(ring.entities, 4);
        let mut members = ring.members.clone();
        members.sort();
        assert_eq!(members, ["a1", "a2", "a3", "a4"]);
        assert_eq!(ring.label_rate, Some(1.0));
        assert_eq!(ring.top_shared[0], SharedValue { column: "device".into(), value: "d1".into(), entities: 3 });
        assert_eq!(report.rings[1].label_rate, Some(0.0));
        assert_eq!(report.excluded, vec![ExcludedValue { column: "ip".into(), value: "nat".into(), entities: 12 }]);
        // Its graph: four entities, the two shared devices, a3 on both.
        let graph = ring.graph.as_ref().unwrap();
        assert_eq!(graph.values, vec![("device".to_string(), "d1".to_string()), ("device".to_string(), "d2".to_string())]);
        assert_eq!(graph.links.len(), 5);
        // With the cap above 12 the NAT ties everyone.
        let all = run_now::<Rings>(&t, &rows, &RingsParams { cap: 20, ..params.clone() }).unwrap();
        assert_eq!(all.components, 1);
        assert_eq!(all.largest_component, 12);
    }

    #[test]
    fn a_window_ties_only_uses_close_in_time() {
        let csv = "account,ip,at\nx,1.2.3.4,2026-01-01T00:00:00Z\ny,1.2.3.4,2026-01-01T00:30:00Z\nz,1.2.3.4,2026-01-03T00:00:00Z\n";
        let t = table(csv);
        let rows: Vec<u32> = (0..3).collect();
        let base = RingsParams { min_size: 2, time: Some("at".into()), ..RingsParams::of("account", &["ip"]) };
        let any = run_now::<Rings>(&t, &rows, &base).unwrap();
        assert_eq!(any.largest_component, 3);
        let hour = run_now::<Rings>(&t, &rows, &RingsParams { window_ms: Some(3_600_000), ..base.clone() }).unwrap();
        assert_eq!(hour.largest_component, 2);
        assert_eq!(hour.rings[0].first_seen_ms.map(|(a, b)| b - a), Some(1_800_000));
        assert!(matches!(Rings::check(&RingsParams { window_ms: Some(1), time: None, ..base }), Err(RingsError::WindowWithoutTime)));
    }

    #[test]
    fn louvain_splits_two_cliques_joined_by_an_edge() {
        let mut edges = Vec::new();
        for group in [0u32, 5] {
            for a in 0..5 {
                for b in (a + 1)..5 {
                    edges.push((group + a, group + b, 1.0));
                }
            }
        }
        edges.push((4, 5, 1.0));
        let graph = Graph::from_edges(10, &edges);
        let communities = louvain(&graph, 1.0, 3);
        assert!(communities[..5].iter().all(|&c| c == communities[0]));
        assert!(communities[5..].iter().all(|&c| c == communities[5]));
        assert_ne!(communities[0], communities[5]);
        // Two cliques of 10 edges and one bridge: 2·(10/21 − (21/42)²) = 0.4524.
        assert!((modularity(&graph, &communities, 1.0) - 0.452_380_952).abs() < 1e-6);
    }

    #[test]
    fn settings_are_checked() {
        assert!(matches!(Rings::check(&RingsParams::of("", &["ip"])), Err(RingsError::Choose(_))));
        assert!(matches!(Rings::check(&RingsParams::of("a", &[])), Err(RingsError::Choose(_))));
        assert!(matches!(Rings::check(&RingsParams::of("a", &["a"])), Err(RingsError::EntityAsAttribute(_))));
        assert!(matches!(Rings::check(&RingsParams { cap: 1, ..RingsParams::of("a", &["b"]) }), Err(RingsError::TooSmall(..))));
        assert!(matches!(Rings::check(&RingsParams { resolution: f64::NAN, ..RingsParams::of("a", &["b"]) }), Err(RingsError::Resolution)));
    }
}
