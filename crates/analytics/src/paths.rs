//! Paths: what customers do step by step, ready to draw as a Sankey diagram, as PostHog's paths do.
//! Each customer's events become items (the event name, or `page_view /page` when paths are by
//! page), split into sessions after an idle gap, with consecutive repeats collapsed. A session's
//! items are one path; a start or end item cuts it; nodes are (step, item) and edges count the
//! paths going from one node to the next. Only the top edges, and of those only the ones
//! reachable from step 1, are kept, so the diagram is a tree a person can read.

use crate::Journeys;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use trailmap_model::{CustomerId, EventTable};

/// What a path's item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PathItem {
    /// The event name.
    #[default]
    Event,
    /// The event name, and the page for `page_view` events: `page_view /checkout`.
    Page,
}

impl std::str::FromStr for PathItem {
    type Err = String;

    fn from_str(text: &str) -> Result<PathItem, String> {
        match text {
            "event" => Ok(PathItem::Event),
            "page" => Ok(PathItem::Page),
            other => Err(format!("unknown path item {other:?}: expected event or page")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathsOptions {
    pub by: PathItem,
    /// A session ends after this much idle time, in milliseconds.
    pub session_gap_ms: i64,
    /// Paths start at the session's first occurrence of this item (sessions without it are left out).
    pub start: Option<String>,
    /// Paths end at the session's first occurrence of this item (sessions without it are left out).
    pub end: Option<String>,
    /// How many edges to keep, by count.
    pub top_edges: usize,
    /// Steps per path in the diagram; with an end item, the last steps are kept.
    pub max_steps: usize,
    /// The item that counts as converting, for the whole-path lists.
    pub conversion: String,
    /// How many whole paths to list to a conversion and before a drop-off.
    pub top_paths: usize,
}

impl Default for PathsOptions {
    fn default() -> Self {
        PathsOptions {
            by: PathItem::Event,
            session_gap_ms: 30 * 60 * 1000,
            start: None,
            end: None,
            top_edges: 50,
            max_steps: 10,
            conversion: "purchase".into(),
            top_paths: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathsError {
    #[error("the session gap must be positive; got {0} ms")]
    SessionGap(i64),
    #[error("{0} must be at least 1")]
    Zero(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PathNode {
    /// 1-based position in the path.
    pub step: usize,
    pub item: String,
    /// Paths (sessions) at this item at this step.
    pub paths: usize,
    pub customers: Vec<CustomerId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PathEdge {
    /// Indices into [`PathsReport::nodes`].
    pub from: usize,
    pub to: usize,
    /// Paths going from `from` to `to`.
    pub paths: usize,
    pub customers: Vec<CustomerId>,
}

/// A whole path and how many sessions followed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WholePath {
    /// The items; a path longer than `max_steps` keeps its last steps after a leading "…".
    pub items: Vec<String>,
    pub paths: usize,
    pub customers: Vec<CustomerId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PathsReport {
    /// Paths counted (sessions left after the start and end cuts).
    pub paths: usize,
    /// Distinct customers with at least one path.
    pub customers: usize,
    pub nodes: Vec<PathNode>,
    pub edges: Vec<PathEdge>,
    pub conversion: String,
    /// The most common paths up to the first conversion item.
    pub to_conversion: Vec<WholePath>,
    /// The most common paths of sessions without the conversion item.
    pub before_drop_off: Vec<WholePath>,
}

/// Counts paths over every customer's journey.
pub fn paths(journeys: &Journeys, options: &PathsOptions) -> Result<PathsReport, PathsError> {
    check(options)?;
    let table = journeys.table();
    let mut names: HashMap<(u32, u32), String> = HashMap::new();
    // One journey's sessions at a time, so no more than a customer's items are held.
    let sessions = journeys.iter().flat_map(|journey| {
        let mut sessions: Vec<(CustomerId, Vec<String>)> = Vec::new();
        let mut session: Vec<String> = Vec::new();
        let mut last_time: Option<i64> = None;
        for row in journey.rows.clone() {
            if last_time.is_some_and(|t| table.time[row] - t > options.session_gap_ms) && !session.is_empty() {
                sessions.push((journey.customer, std::mem::take(&mut session)));
            }
            last_time = Some(table.time[row]);
            let item = item_of(table, row, options.by, &mut names);
            if session.last() != Some(&item) {
                session.push(item);
            }
        }
        if !session.is_empty() {
            sessions.push((journey.customer, session));
        }
        sessions
    });
    paths_of_sessions(sessions, options)
}

/// Refuses options no paths can be counted with.
fn check(options: &PathsOptions) -> Result<(), PathsError> {
    if options.session_gap_ms <= 0 {
        return Err(PathsError::SessionGap(options.session_gap_ms));
    }
    for (value, name) in [(options.top_edges, "top edges"), (options.max_steps, "max steps"), (options.top_paths, "top paths")] {
        if value == 0 {
            return Err(PathsError::Zero(name));
        }
    }
    Ok(())
}

/// Counts paths over sessions already made: each a customer's items in time order, split after
/// an idle gap, consecutive repeats collapsed, given customer by customer in ascending order (the
/// journeys' order) and each customer's in time order. [`paths`] is this over the journeys; a
/// pushed-down paths is this over the sessions ClickHouse made, so the counting is the same code.
pub fn paths_of_sessions(sessions: impl IntoIterator<Item = (CustomerId, Vec<String>)>, options: &PathsOptions) -> Result<PathsReport, PathsError> {
    check(options)?;
    let mut nodes: HashMap<(usize, String), Counted> = HashMap::new();
    let mut edges: HashMap<(usize, String, String), Counted> = HashMap::new();
    let mut converting: HashMap<Vec<String>, Counted> = HashMap::new();
    let mut dropping: HashMap<Vec<String>, Counted> = HashMap::new();
    let mut path_count = 0;
    let mut customer_count = 0;
    let mut last_counted: Option<CustomerId> = None;
    for (customer, session) in sessions {
        if let Some(path) = cut(&session, options) {
            path_count += 1;
            if last_counted != Some(customer) {
                customer_count += 1;
                last_counted = Some(customer);
            }
            count_path(&path, customer, options, &mut nodes, &mut edges, &mut converting, &mut dropping);
        }
    }
    let (nodes, edges) = top_tree(nodes, edges, options.top_edges);
    Ok(PathsReport {
        paths: path_count,
        customers: customer_count,
        nodes,
        edges,
        conversion: options.conversion.clone(),
        to_conversion: top_whole(converting, options.top_paths),
        before_drop_off: top_whole(dropping, options.top_paths),
    })
}

/// A count of paths and the customers behind it. Customers arrive one after another, so a
/// customer is added once by checking the last one.
#[derive(Debug, Default)]
struct Counted {
    paths: usize,
    customers: Vec<CustomerId>,
}

impl Counted {
    fn add(&mut self, customer: CustomerId) {
        self.paths += 1;
        if self.customers.last() != Some(&customer) {
            self.customers.push(customer);
        }
    }
}

fn item_of(table: &EventTable, row: usize, by: PathItem, names: &mut HashMap<(u32, u32), String>) -> String {
    let name = table.name[row];
    let page = match by {
        PathItem::Page if table.string(name) == "page_view" => table.page[row],
        _ => 0,
    };
    names
        .entry((name, page))
        .or_insert_with(|| match page {
            0 => table.string(name).to_string(),
            page => format!("{} {}", table.string(name), table.string(page)),
        })
        .clone()
}

/// Whether an item is the one named: the same text, or an event of that name (so `--from
/// page_view` finds `page_view /cart` when paths are by page).
fn is(item: &str, wanted: &str) -> bool {
    item == wanted || item.strip_prefix(wanted).is_some_and(|rest| rest.starts_with(' '))
}

/// Applies the start and end cuts; None when the session lacks them.
fn cut(session: &[String], options: &PathsOptions) -> Option<Vec<String>> {
    let mut path = session;
    if let Some(start) = &options.start {
        let at = path.iter().position(|i| is(i, start))?;
        path = &path[at..];
    }
    if let Some(end) = &options.end {
        let at = path.iter().position(|i| is(i, end))?;
        path = &path[..=at];
    }
    Some(path.to_vec())
}

/// The steps drawn: the first `max_steps`, or with an end item the last ones, which lead to it.
fn drawn<'a>(path: &'a [String], options: &PathsOptions) -> &'a [String] {
    if path.len() <= options.max_steps {
        path
    } else if options.end.is_some() {
        &path[path.len() - options.max_steps..]
    } else {
        &path[..options.max_steps]
    }
}

fn count_path(
    path: &[String],
    customer: CustomerId,
    options: &PathsOptions,
    nodes: &mut HashMap<(usize, String), Counted>,
    edges: &mut HashMap<(usize, String, String), Counted>,
    converting: &mut HashMap<Vec<String>, Counted>,
    dropping: &mut HashMap<Vec<String>, Counted>,
) {
    let steps = drawn(path, options);
    for (index, item) in steps.iter().enumerate() {
        nodes.entry((index + 1, item.clone())).or_default().add(customer);
        if let Some(next) = steps.get(index + 1) {
            edges.entry((index + 1, item.clone(), next.clone())).or_default().add(customer);
        }
    }
    let whole = |items: &[String]| -> Vec<String> {
        if items.len() <= options.max_steps {
            items.to_vec()
        } else {
            std::iter::once("…".to_string()).chain(items[items.len() - options.max_steps..].iter().cloned()).collect()
        }
    };
    match path.iter().position(|i| is(i, &options.conversion)) {
        Some(at) => converting.entry(whole(&path[..=at])).or_default().add(customer),
        None => dropping.entry(whole(path)).or_default().add(customer),
    }
}

/// Keeps the `top` edges by count, then of those only the ones reachable from step 1.
fn top_tree(
    nodes: HashMap<(usize, String), Counted>,
    edges: HashMap<(usize, String, String), Counted>,
    top: usize,
) -> (Vec<PathNode>, Vec<PathEdge>) {
    let mut edges: Vec<((usize, String, String), Counted)> = edges.into_iter().collect();
    edges.sort_by(|(ka, a), (kb, b)| b.paths.cmp(&a.paths).then_with(|| ka.cmp(kb)));
    edges.truncate(top);
    // Edges go from step s to s + 1, so one pass in step order finds what is reachable.
    edges.sort_by(|(ka, a), (kb, b)| ka.0.cmp(&kb.0).then_with(|| b.paths.cmp(&a.paths)).then_with(|| ka.cmp(kb)));
    let mut reachable: BTreeSet<(usize, String)> = nodes.keys().filter(|(step, _)| *step == 1).cloned().collect();
    edges.retain(|((step, from, to), _)| {
        let keep = reachable.contains(&(*step, from.clone()));
        if keep {
            reachable.insert((step + 1, to.clone()));
        }
        keep
    });
    // The nodes drawn: those the kept edges touch, and the busiest first steps.
    let mut shown: BTreeSet<(usize, String)> = BTreeSet::new();
    for ((step, from, to), _) in &edges {
        shown.insert((*step, from.clone()));
        shown.insert((step + 1, to.clone()));
    }
    let mut firsts: Vec<(&(usize, String), &Counted)> = nodes.iter().filter(|((step, _), _)| *step == 1).collect();
    firsts.sort_by(|(ka, a), (kb, b)| b.paths.cmp(&a.paths).then_with(|| ka.cmp(kb)));
    shown.extend(firsts.into_iter().take(top).map(|(k, _)| k.clone()));
    let mut node_list: Vec<PathNode> = shown
        .into_iter()
        .filter_map(|key| {
            let counted = nodes.get(&key)?;
            Some(PathNode { step: key.0, item: key.1, paths: counted.paths, customers: counted.customers.clone() })
        })
        .collect();
    node_list.sort_by(|a, b| a.step.cmp(&b.step).then_with(|| b.paths.cmp(&a.paths)).then_with(|| a.item.cmp(&b.item)));
    let index: HashMap<(usize, &str), usize> =
        node_list.iter().enumerate().map(|(i, n)| ((n.step, n.item.as_str()), i)).collect();
    let edge_list = edges
        .iter()
        .filter_map(|((step, from, to), counted)| {
            Some(PathEdge {
                from: *index.get(&(*step, from.as_str()))?,
                to: *index.get(&(step + 1, to.as_str()))?,
                paths: counted.paths,
                customers: counted.customers.clone(),
            })
        })
        .collect();
    (node_list, edge_list)
}

fn top_whole(paths: HashMap<Vec<String>, Counted>, top: usize) -> Vec<WholePath> {
    let mut list: Vec<WholePath> =
        paths.into_iter().map(|(items, c)| WholePath { items, paths: c.paths, customers: c.customers }).collect();
    list.sort_by(|a, b| b.paths.cmp(&a.paths).then_with(|| a.items.cmp(&b.items)));
    list.truncate(top);
    list
}
