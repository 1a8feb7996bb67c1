//! `trailmap dashboard [--period FROM..TO] [--today DATE]`: the key numbers of a business over a
//! period against the period before it, as the dashboard page shows them (new customers,
//! conversion, repeat rate, order value, revenue, NPS, CSAT, each with its sample size), and the
//! new customers by first channel. The JSON is the dashboard's whole answer, the customers behind
//! each number included. With the events in ClickHouse the numbers are counted there (pushed
//! down), and the answer says so.

use crate::commands::report::parse_period;
use crate::output::Output;
use anyhow::Context;
use chrono::NaiveDate;
use trailmap_app::{App, PathTaken};
use trailmap_model::Business;

#[derive(Debug, clap::Args)]
pub struct DashboardArgs {
    /// The period: FROM..TO (days YYYY-MM-DD or months YYYY-MM, both included), or one day or
    /// month. Default: the 30 days up to the latest event or order.
    #[arg(long, value_name = "FROM..TO")]
    period: Option<String>,
    /// The day the default period is found from when there is no data yet (YYYY-MM-DD). Default: today.
    #[arg(long, value_name = "DATE")]
    today: Option<NaiveDate>,
}

pub fn run(app: &App, business: &Business, args: DashboardArgs) -> anyhow::Result<Output> {
    let period = match &args.period {
        Some(text) => parse_period(text)?,
        None => app.default_period(business, args.today.unwrap_or_else(|| crate::commands::user::now().date()))?,
    };
    let board = app.dashboard(business, period).with_context(|| format!("computing the dashboard of {}", business.name))?;
    let rows = board
        .report
        .metrics
        .iter()
        .map(|m| {
            let number = trailmap_app::report::key_number(m, business.currency);
            vec![
                m.label.to_string(),
                number.current_text,
                format!("{} {}", m.current.n, number.n_means),
                number.previous_text,
                format!("{} {}", m.previous.n, number.n_means),
                number.change_text.unwrap_or_default(),
            ]
        })
        .collect();
    let mut title =
        format!("Dashboard of {}, {} to {} against {} to {}", business.name, board.period.from, board.period.to, board.previous.from, board.previous.to);
    let channels: Vec<String> = board.report.new_by_channel.iter().map(|c| format!("{} {} (before {})", c.channel, c.current, c.previous)).collect();
    if !channels.is_empty() {
        title.push_str(&format!("\nNew customers by first channel: {}", channels.join(", ")));
    }
    match board.path {
        PathTaken::PushedDown => title.push_str("\nEach customer's first event and active days summarised in ClickHouse."),
        PathTaken::Streamed => title.push_str("\nCounted by the embedded engine over the events in ClickHouse."),
        PathTaken::Embedded => {}
    }
    Ok(Output::new(&["metric", "now", "n", "before", "n before", "change"], rows, &board)?.with_title(title))
}
