//! `trailmap source`: the write keys that let a website or app send events to the tracking API.
//! A new key is printed once, on the last line, and only its hash is stored.

use crate::output::{Format, Output};
use std::io::Write;
use trailmap_app::App;

#[derive(Debug, clap::Subcommand)]
pub enum SourceCommand {
    /// Create a write key for the business; prints the key once, on the last line.
    Create {
        /// What the key is for ("website", "ios app"), to tell keys apart when listing them.
        #[arg(default_value = "website")]
        name: String,
    },
    /// List the business's write keys (names and dates; the keys themselves are not kept).
    List,
    /// Messages the tracking API left out, by reason (bots, malformed messages), most first.
    Drops,
}

pub fn run(app: &mut App, business: Option<&str>, command: SourceCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    match command {
        SourceCommand::Create { name } => {
            if name.trim().is_empty() {
                anyhow::bail!("NAME must not be empty: give the source a name such as \"website\"");
            }
            let key = trailmap_server::generate_write_key();
            app.create_write_key(&business, name.trim(), &trailmap_server::hash_write_key(&key))?;
            let json = serde_json::json!({ "business": business.name, "name": name.trim(), "write_key": key });
            match format {
                Format::Table => {
                    writeln!(out, "Write key {:?} for {}. Copy it now: Trailmap keeps only its hash and cannot show it again.", name.trim(), business.name)?;
                    writeln!(out, "Clients send it as HTTP Basic auth (the key as user name, no password) or as writeKey in the body.")?;
                    writeln!(out, "{key}")?;
                    Ok(())
                }
                _ => Output::new(&["business", "name", "write_key"], vec![vec![business.name.clone(), name.trim().to_string(), key]], &json)?
                    .print(format, out),
            }
        }
        SourceCommand::List => {
            let keys = app.write_keys(&business)?;
            let rows = keys
                .iter()
                .map(|k| vec![k.id.to_string(), k.name.clone(), k.created_at.to_rfc3339()])
                .collect();
            Output::new(&["id", "name", "created"], rows, &keys)?.with_title(format!("Write keys of {}", business.name)).print(format, out)
        }
        SourceCommand::Drops => {
            let drops = app.tracking_drops(&business)?;
            let total: u64 = drops.iter().map(|(_, n)| n).sum();
            let rows = drops.iter().map(|(reason, n)| vec![reason.clone(), n.to_string()]).collect();
            let json: Vec<_> = drops.iter().map(|(reason, n)| serde_json::json!({ "reason": reason, "count": n })).collect();
            Output::new(&["reason", "count"], rows, &json)?
                .with_title(format!("Messages left out by the tracking API for {} (n = {total})", business.name))
                .print(format, out)
        }
    }
}
