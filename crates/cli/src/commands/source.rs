//! `trailmap source`: the write keys that let a website or app send events to the tracking API.
//! A new key is printed once, on the last line, and only its hash is stored. Keys are listed with
//! their last use and revoked by id or name; a revoked key is refused by a running server at once
//! (its next request finds it revoked when its messages are committed).

use crate::output::{Format, Output};
use std::io::Write;
use trailmap_app::{App, WriteKey};

#[derive(Debug, clap::Subcommand)]
pub enum SourceCommand {
    /// Create a write key for the business; prints the key once, on the last line.
    Create {
        /// What the key is for ("website", "ios app"), to tell keys apart when listing them.
        #[arg(default_value = "website")]
        name: String,
    },
    /// List the business's write keys: name, created, last used, revoked (the keys themselves are not kept).
    List,
    /// Revoke a write key by its id or name: the tracking API refuses it from then on.
    Revoke {
        /// The key's id (from `source list`) or its name.
        key: String,
    },
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
            let rows = keys.iter().map(key_row).collect();
            let json: Vec<KeyOut> = keys.iter().map(KeyOut::from).collect();
            Output::new(&KEY_COLUMNS, rows, &json)?.with_title(format!("Write keys of {}", business.name)).print(format, out)
        }
        SourceCommand::Revoke { key } => {
            let found = app.write_key(&business, &key)?;
            let revoked = app.revoke_write_key(&business, found.id, crate::commands::user::now())?;
            Output::new(&KEY_COLUMNS, vec![key_row(&revoked)], &KeyOut::from(&revoked))?
                .with_title(format!("Revoked the write key {:?} of {}: the tracking API refuses it from now on.", revoked.name, business.name))
                .print(format, out)
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

const KEY_COLUMNS: [&str; 5] = ["id", "name", "created", "last used", "revoked"];

fn key_row(k: &WriteKey) -> Vec<String> {
    vec![
        k.id.to_string(),
        k.name.clone(),
        k.created_at.to_rfc3339(),
        k.last_used.map_or_else(|| "never".to_string(), |t| t.to_rfc3339()),
        k.revoked_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
    ]
}

/// A write key as `--format json` prints it: never its hash.
#[derive(Debug, serde::Serialize)]
struct KeyOut {
    id: i64,
    name: String,
    created: String,
    last_used: Option<String>,
    revoked: Option<String>,
}

impl From<&WriteKey> for KeyOut {
    fn from(k: &WriteKey) -> KeyOut {
        KeyOut {
            id: k.id,
            name: k.name.clone(),
            created: k.created_at.to_rfc3339(),
            last_used: k.last_used.map(|t| t.to_rfc3339()),
            revoked: k.revoked_at.map(|t| t.to_rfc3339()),
        }
    }
}
