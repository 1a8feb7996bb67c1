//! `trailmap --db FILE migrate-store --to postgres://...`: moves a SQLite store into an empty
//! PostgreSQL database, every table with its ids, in one transaction (see the app's
//! `migrate_store`), and prints what was copied. The SQLite file is left as it was.

use crate::output::{Format, Output};
use anyhow::Context;
use std::io::Write;
use std::time::Instant;
use trailmap_app::StoreLocation;

pub fn run(from: &StoreLocation, to: &str, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    // As `--db` is read in main.rs: the store's error, in the app's words, under the flag.
    let to = StoreLocation::parse(to).map_err(trailmap_app::AppError::from).context("--to")?;
    let started = Instant::now();
    let summary = trailmap_app::migrate_store(from, &to)?;
    let seconds = started.elapsed().as_secs_f64();
    let rows: Vec<Vec<String>> = summary.tables.iter().filter(|(_, rows)| *rows > 0).map(|(table, rows)| vec![table.clone(), rows.to_string()]).collect();
    let json = serde_json::json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "tables": summary.tables.iter().map(|(table, rows)| serde_json::json!({"table": table, "rows": rows})).collect::<Vec<_>>(),
        "events": summary.events,
        "seconds": (seconds * 100.0).round() / 100.0,
    });
    Output::new(&["table", "rows"], rows, &json)?.with_title("Copied to PostgreSQL").print(format, out)?;
    if format == Format::Table {
        writeln!(out, "Moved {from} to {to}: {} events, {} tables, in {seconds:.1} s. Start the server with --db {to}.", summary.events, summary.tables.len())?;
    }
    Ok(())
}
