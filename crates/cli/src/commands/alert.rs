//! `trailmap alert list|add|remove|test|fired`: rules that watch a KPI and fire, once per period,
//! when its change against the period before is significant (the test a change's impact uses,
//! with n) or when it crosses a threshold; delivered by e-mail or a signed webhook.

use crate::output::{Format, Output};
use std::io::Write;
use trailmap_app::App;
use trailmap_app::alerts::{AlertRule, NewAlertRule};
use trailmap_app::delivery::DeliverySettings;

#[derive(Debug, clap::Subcommand)]
pub enum AlertCommand {
    /// The business's alert rules.
    List,
    /// Add a rule. A webhook rule prints its signing secret once.
    Add {
        /// conversion:FROM>TO[:Nd], new-customers[:CHANNEL], nps, csat[:TOUCHPOINT], revenue, volume:TOUCHPOINT, ...
        #[arg(long)]
        kpi: String,
        /// significant, rise, drop, above:X or below:X (2% for a share).
        #[arg(long = "when", default_value = "significant")]
        when: String,
        /// weekly or monthly: the periods compared.
        #[arg(long, default_value = "weekly")]
        cadence: String,
        /// email or webhook.
        #[arg(long, default_value = "email")]
        channel: String,
        /// The addresses (comma-separated) or the webhook's http(s) URL.
        #[arg(long = "to", value_name = "EMAIL|URL")]
        to: String,
    },
    /// Remove a rule by its id.
    Remove { id: i64 },
    /// Judge a rule over its last period and send the result to its target now, as a test.
    Test {
        id: i64,
        #[arg(long, env = "TRAILMAP_SMTP_URL", value_name = "URL")]
        smtp_url: Option<String>,
    },
    /// What fired, newest first.
    Fired,
}

const COLUMNS: [&str; 6] = ["id", "kpi", "when", "cadence", "channel", "to"];

fn row(r: &AlertRule) -> Vec<String> {
    vec![
        r.id.to_string(),
        format!("{} ({})", r.kpi, r.label),
        r.when.clone(),
        r.cadence.as_str().to_string(),
        serde_json::to_value(r.channel).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        r.target.clone(),
    ]
}

pub fn run(app: &mut App, business: Option<&str>, command: AlertCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let now = crate::commands::user::now();
    match command {
        AlertCommand::List => {
            let rules = app.alert_rules(&business)?;
            Output::new(&COLUMNS, rules.iter().map(row).collect(), &rules)?.with_title(format!("Alert rules of {}", business.name)).print(format, out)
        }
        AlertCommand::Add { kpi, when, cadence, channel, to } => {
            let rule = app
                .add_alert_rule(&business, &NewAlertRule { kpi, cadence, when, channel, target: to }, now)
                .map_err(|e| crate::commands::digest::flagged(e, "target", "to"))?;
            let title = match &rule.secret {
                Some(secret) => format!("Added alert {}. Its webhook signing secret (shown once): {secret}", rule.id),
                None => format!("Added alert {}", rule.id),
            };
            Output::new(&COLUMNS, vec![row(&rule)], &rule)?.with_title(title).print(format, out)
        }
        AlertCommand::Remove { id } => {
            app.remove_alert_rule(&business, id)?;
            Output::new(&["removed"], vec![vec![id.to_string()]], &serde_json::json!({ "removed": id }))?.print(format, out)
        }
        AlertCommand::Test { id, smtp_url } => {
            let settings = DeliverySettings { smtp: crate::commands::digest::smtp(smtp_url.as_deref())? };
            let (check, queued) = app.test_alert(&business, id, now)?;
            let sent = app.send_delivery_now(queued.id, now, &settings)?;
            let json = serde_json::json!({ "check": check, "delivery": crate::commands::report::delivery_json(&sent) });
            let rows = vec![
                vec!["period".into(), format!("{} to {} against {} to {}", check.period.from, check.period.to, check.previous.from, check.previous.to)],
                vec!["fires".into(), check.fires.to_string()],
                vec!["why".into(), check.reason.clone()],
                vec!["test sent".into(), format!("{} to {}: {}", sent.channel, sent.target, sent.status)],
            ];
            Output::new(&["what", "value"], rows, &json)?.with_title(format!("Alert {id} of {}", business.name)).print(format, out)?;
            if sent.status != "sent" {
                anyhow::bail!("the test was not delivered: {}", sent.last_error.unwrap_or_default());
            }
            Ok(())
        }
        AlertCommand::Fired => {
            let fired = app.alert_firings(&business, 100)?;
            let rows = fired.iter().map(|f| vec![f.fired_at.to_rfc3339(), f.rule.to_string(), f.period.clone(), f.message.clone()]).collect();
            Output::new(&["fired", "rule", "period", "why"], rows, &fired)?.with_title(format!("Alerts fired for {}", business.name)).print(format, out)
        }
    }
}
