//! `trailmap track`: record what happened away from the website by hand or from a script, the
//! same way `POST /v1/offline` does: `trailmap track offline --email E --touchpoint phone
//! [--at TIME] [--property KEY=VALUE]...`. The touchpoint joins the customer with that email or
//! id (or starts one), with the event name and channel the tracking API gives it.

use crate::output::{Format, Output};
use anyhow::{Context, bail};
use std::io::Write;
use trailmap_app::{App, TrackingWrite};
use trailmap_ingest::enrich::Enricher;
use trailmap_ingest::parse_timestamp;
use trailmap_ingest::segment::{MessageContext, OfflineTouchpoint, convert_offline};
use trailmap_model::Timestamp;

#[derive(Debug, clap::Subcommand)]
pub enum TrackCommand {
    /// Record an offline touchpoint (till, phone, visit, or any name) for a customer known by
    /// email or by id.
    Offline {
        /// The customer's email.
        #[arg(long)]
        email: Option<String>,
        /// The customer's id in your own systems (the tracking API's userId).
        #[arg(long = "customer", value_name = "ID")]
        customer: Option<String>,
        /// What happened: till (a purchase), phone (a call), visit (a store visit), or another name.
        #[arg(long)]
        touchpoint: String,
        /// When it happened (RFC 3339, a date, or Unix seconds); now when not given.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// A property of the touchpoint, e.g. --property topic=catering or --property revenue=4.50.
        #[arg(long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
        properties: Vec<(String, String)>,
        /// An id for this report, so recording it twice stores it once.
        #[arg(long, value_name = "ID")]
        id: Option<String>,
    },
}

fn parse_property(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

fn now() -> Timestamp {
    Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
    )
}

pub fn run(app: &mut App, business: Option<&str>, command: TrackCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let TrackCommand::Offline { email, customer, touchpoint, at, properties, id } = command;
    if email.as_deref().is_none_or(|e| e.trim().is_empty()) && customer.as_deref().is_none_or(|c| c.trim().is_empty()) {
        bail!("say whose touchpoint this is: give --email or --customer");
    }
    if touchpoint.trim().is_empty() {
        bail!("--touchpoint must not be empty: till, phone, visit or another name");
    }
    let timestamp = match &at {
        Some(text) => Some(parse_timestamp(text).map_err(|e| anyhow::anyhow!("--at {text:?}: {e}"))?),
        None => None,
    };
    let offline = OfflineTouchpoint {
        email,
        user_id: customer,
        touchpoint,
        timestamp,
        properties: properties.into_iter().map(|(k, v)| (k, v.into())).collect(),
        message_id: id,
    };
    let context = MessageContext { received_at: now(), batch_sent_at: None, currency: business.currency };
    let converted = convert_offline(&offline, &context, &mut Enricher::new())
        .map_err(|drop| anyhow::anyhow!("the touchpoint was not recorded: {drop}"))?;
    let event = converted.event.event.clone();
    let summary = app
        .write_tracking(&[TrackingWrite { business: Some(business.id), key: None, messages: vec![converted], drops: Vec::new() }], now())
        .context("recording the touchpoint")?;
    let stored = summary.summary.events_added > 0;
    let who = offline.email.clone().or(offline.user_id.clone()).unwrap_or_default();
    let row = vec![
        event.name.clone(),
        event.channel.clone().unwrap_or_default(),
        who.clone(),
        event.time.to_rfc3339(),
        if stored { "recorded" } else { "already recorded" }.to_string(),
    ];
    let json = serde_json::json!({
        "business": business.name,
        "event": event.name,
        "channel": event.channel,
        "customer": who,
        "time": event.time.to_rfc3339(),
        "recorded": stored,
    });
    Output::new(&["event", "channel", "customer", "time", "status"], vec![row], &json)?
        .with_title(format!("Offline touchpoint for {}", business.name))
        .print(format, out)
}
