//! `trailmap paths`: what customers do step by step, as the edges of a Sankey diagram (step,
//! from, to, paths), or with `--whole` the most common whole paths to a purchase and before a
//! drop-off.

use crate::commands::funnel::strip;
use trailmap_app::query::parse_duration;
use crate::output::Output;
use anyhow::Context;
use trailmap_app::App;
use trailmap_model::Business;

#[derive(Debug, clap::Args)]
pub struct PathsArgs {
    /// Paths leading to the first occurrence of this event in a session.
    #[arg(long, value_name = "EVENT", conflicts_with = "from")]
    to: Option<String>,
    /// Paths starting at the first occurrence of this event in a session.
    #[arg(long, value_name = "EVENT")]
    from: Option<String>,
    /// A step is the event name, or for page_view events the event and the page.
    #[arg(long, default_value = "event", value_parser = ["event", "page"])]
    by: String,
    /// A session ends after this much idle time, e.g. 30m.
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    session_gap: i64,
    /// How many edges to keep (the busiest; only those reachable from step 1 are shown).
    #[arg(long, default_value_t = 50)]
    top: usize,
    /// Steps per path.
    #[arg(long, default_value_t = 10)]
    max_steps: usize,
    /// Show the most common whole paths to a purchase (or the --to event) and before a drop-off.
    #[arg(long)]
    whole: bool,
    /// Make each customer's sessions in ClickHouse when the events are there (--events), instead
    /// of streaming every event into the engine: the same paths; otherwise the answer says why not.
    #[arg(long)]
    pushdown: bool,
}

pub fn run(app: &mut App, business: &Business, args: PathsArgs) -> anyhow::Result<Output> {
    let mut options = App::paths_options();
    options.by = args.by.parse().map_err(anyhow::Error::msg)?;
    options.session_gap_ms = args.session_gap;
    options.start = args.from.clone();
    options.end = args.to.clone();
    if let Some(end) = &args.to {
        options.conversion = end.clone();
    }
    for (value, name) in [(args.top, "--top"), (args.max_steps, "--max-steps")] {
        if value == 0 {
            anyhow::bail!("{name} must be at least 1");
        }
    }
    options.top_edges = args.top;
    options.max_steps = args.max_steps;
    let request = trailmap_app::PathsRequest { options, pushdown: args.pushdown };
    let answer = app.paths_answer(business, &request).with_context(|| format!("computing the paths of {}", business.name))?;
    let report = &answer.report;
    let mut json = serde_json::to_value(&answer)?;
    strip(&mut json, &["customers"]);
    if let Some(object) = json.as_object_mut() {
        object.insert("customers".into(), report.customers.into());
    }
    let mut title = format!(
        "Paths of {}: n = {} paths (sessions) from {} customers",
        business.name, report.paths, report.customers
    );
    match answer.path {
        trailmap_app::PathTaken::PushedDown => title.push_str("\nSessions made in ClickHouse."),
        trailmap_app::PathTaken::Streamed => title.push_str("\nCounted by the embedded engine over the events in ClickHouse."),
        trailmap_app::PathTaken::Embedded => {}
    }
    if let Some(note) = &answer.path_note {
        title.push_str(&format!("\n{note}"));
    }
    if args.whole {
        let mut rows = Vec::new();
        for (kind, list) in [(format!("to {}", report.conversion), &report.to_conversion), ("before drop-off".into(), &report.before_drop_off)] {
            for path in list.iter() {
                rows.push(vec![kind.clone(), path.items.join(" → "), path.paths.to_string(), path.customers.len().to_string()]);
            }
        }
        return Ok(Output { title: Some(title), columns: ["kind", "path", "paths", "customers"].map(String::from).to_vec(), rows, json });
    }
    let rows = report
        .edges
        .iter()
        .map(|edge| {
            let (from, to) = (&report.nodes[edge.from], &report.nodes[edge.to]);
            vec![
                format!("{} → {}", from.step, to.step),
                from.item.clone(),
                to.item.clone(),
                edge.paths.to_string(),
                format!("{:.1}%", 100.0 * edge.paths as f64 / from.paths.max(1) as f64),
                edge.customers.len().to_string(),
            ]
        })
        .collect();
    let columns = ["steps", "from", "to", "paths", "of from", "customers"].map(String::from).to_vec();
    Ok(Output { title: Some(title), columns, rows, json })
}
