//! `trailmap actions list [--status open|done|overdue] [--owner O] [--map M] [--sort due|status|owner|map]`:
//! every action card across the business's maps, with the pain point it answers, its owner, due
//! day and status (overdue: past due and not done, today in the business's time zone), and the
//! change it led to with that change's verdict and n. The flags become the app's one request
//! (`ActionsRequest`), read as the API reads its query.

use crate::output::{Format, Output};
use std::io::Write;
use trailmap_app::App;
use trailmap_app::actions::ActionsRequest;
use trailmap_app::query::{FromParams, Params};

#[derive(Debug, clap::Subcommand)]
pub enum ActionsCommand {
    /// The action board: every action card of the business's maps.
    List {
        /// open, done or overdue.
        #[arg(long)]
        status: Option<String>,
        /// Only this owner's actions.
        #[arg(long)]
        owner: Option<String>,
        /// Only this map's actions (id or name).
        #[arg(long)]
        map: Option<String>,
        /// due (default), status, owner or map.
        #[arg(long)]
        sort: Option<String>,
    },
}

pub fn run(app: &mut App, business: Option<&str>, command: ActionsCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let ActionsCommand::List { status, owner, map, sort } = command;
    let business = app.business(business)?;
    let params = Params::of([("status", status.as_deref()), ("owner", owner.as_deref()), ("map", map.as_deref()), ("sort", sort.as_deref())]);
    let request = ActionsRequest::from_params(&params)?;
    let board = app.action_board(&business, &request, crate::commands::user::now())?;
    let rows = board
        .items
        .iter()
        .map(|a| {
            let change = a.change.as_ref().map_or_else(String::new, |c| {
                let what = c.title.clone().unwrap_or_else(|| format!("change {}", c.id.0));
                match (&c.verdict, &c.note) {
                    (Some(verdict), _) => format!("{what}: {verdict}"),
                    (None, Some(note)) => format!("{what} (no verdict: {note})"),
                    (None, None) => what,
                }
            });
            vec![
                format!("{} ({})", a.map_name, a.map.0),
                a.stage.clone(),
                a.card.to_string(),
                a.text.clone(),
                a.from.as_ref().map_or_else(String::new, |p| p.text.clone()),
                a.owner.clone(),
                a.due.map(|d| d.to_string()).unwrap_or_default(),
                if a.overdue { "OVERDUE".to_string() } else { a.status.as_str().to_string() },
                change,
            ]
        })
        .collect();
    let columns = ["map", "stage", "card", "action", "answers (pain point)", "owner", "due", "status", "change and verdict"];
    let mut output = Output::new(&columns, rows, &board)?;
    if format == Format::Table {
        output = output.with_title(format!(
            "Actions of {} on {} ({}): {} of {} shown; {} open, {} overdue, {} done",
            board.business,
            board.today,
            board.time_zone,
            board.items.len(),
            board.total,
            board.open,
            board.overdue,
            board.done
        ));
    }
    output.print(format, out)
}
