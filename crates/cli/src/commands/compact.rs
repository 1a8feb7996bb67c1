//! `trailmap compact`: rewrites each business's stored events in customer order, so a fresh
//! process loading them for analysis need not regroup them (see the store's compaction). Nothing
//! else changes: the same events, keys and answers. A business already in order is only checked.
//! The file's free pages go back to the file system after each business, so the file never ends
//! larger than it began.

use crate::output::{Format, Output};
use std::io::Write;
use std::time::Instant;
use trailmap_app::App;

pub fn run(app: &mut App, business: Option<&str>, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    // All businesses unless one is named: compaction is upkeep of the whole store.
    let businesses = match business {
        Some(name) => vec![app.business(Some(name))?],
        None => app.businesses()?,
    };
    let mut rows = Vec::new();
    let mut json = Vec::new();
    for business in &businesses {
        let started = Instant::now();
        let summary = app.compact_events(business)?;
        let seconds = (started.elapsed().as_secs_f64() * 100.0).round() / 100.0;
        rows.push(vec![
            business.name.clone(),
            summary.events.to_string(),
            summary.segments_before.to_string(),
            summary.segments_after.to_string(),
            match (summary.rewritten, summary.events) {
                (true, _) => "rewritten",
                (false, 0) => "no events",
                (false, _) => "already in order",
            }
            .to_string(),
            format!("{:.1}", summary.file_bytes_after as f64 / 1_048_576.0),
            format!("{seconds:.2}"),
        ]);
        json.push(serde_json::json!({
            "business": business.name,
            "events": summary.events,
            "segments_before": summary.segments_before,
            "segments_after": summary.segments_after,
            "rewritten": summary.rewritten,
            "passes": summary.passes,
            "file_bytes_before": summary.file_bytes_before,
            "file_bytes_after": summary.file_bytes_after,
            "seconds": seconds,
        }));
    }
    Output::new(&["business", "events", "segments before", "segments after", "result", "file MiB after", "seconds"], rows, &json)?
        .with_title("Events stored in customer order")
        .print(format, out)
}
