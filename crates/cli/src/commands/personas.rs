//! `trailmap personas suggest`: behaviour clusters described as personas, and `--create N` to
//! store cluster N as a persona whose segment rule approximates it.

use crate::commands::clv::parse_date;
use crate::output::{Format, Output};
use anyhow::bail;
use std::io::Write;
use trailmap_app::App;

#[derive(Debug, clap::Subcommand)]
pub enum PersonasCommand {
    /// Cluster customers on behaviour (seeded k-means) and describe each cluster.
    Suggest {
        /// Number of clusters; default: the best silhouette over 2..6.
        #[arg(long)]
        k: Option<usize>,
        /// Seed of the clustering; the same seed gives the same clusters.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Store cluster N (as numbered in the output) as a persona.
        #[arg(long, value_name = "N")]
        create: Option<usize>,
        /// End of the data (YYYY-MM-DD, exclusive). Default: the day after the last event.
        #[arg(long, value_name = "DATE")]
        now: Option<String>,
    },
}

pub fn run(app: &mut App, business: Option<&str>, command: PersonasCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let PersonasCommand::Suggest { k, seed, create, now } = command;
    let business = app.business(business)?;
    let mut request = app.persona_request();
    request.k = k;
    request.seed = seed;
    request.now = now.as_deref().map(|d| parse_date("--now", d)).transpose()?;
    let report = app.suggest_personas(&business, &request)?;
    let rows = report
        .clusters
        .iter()
        .map(|c| vec![c.cluster.to_string(), c.name.clone(), c.customers.to_string(), c.description.clone()])
        .collect();
    let title = format!(
        "Suggested personas for {} ({} customers with an order, k = {} {}, seed {}; features: {})",
        report.business,
        report.customers,
        report.k,
        report.k_rule,
        report.seed,
        report.features.join(", ")
    );
    let mut output = Output::new(&["cluster", "name", "customers", "description"], rows, &report)?;
    if format == Format::Table {
        output = output.with_title(title);
    }
    output.print(format, out)?;
    if let Some(n) = create {
        let Some(cluster) = report.clusters.iter().find(|c| c.cluster == n) else {
            bail!("--create {n}: there is no cluster {n} (clusters are 1..={})", report.clusters.len());
        };
        let id = app.create_persona_from_suggestion(&business, cluster)?;
        eprintln!("Created persona {:?} (id {id}) with rule {}", cluster.name, serde_json::to_string(&cluster.rule)?);
    }
    Ok(())
}
