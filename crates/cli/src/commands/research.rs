//! `trailmap research`: the research library from the command line. `research list [--tag T]
//! [--kind K] [--persona P] [--touchpoint T] [--stage S] [--sentiment negative|neutral|positive]
//! [--period FROM..TO] [--search WORDS] [--limit N]` lists every quote (interview and focus-group
//! notes, survey answers in words, reviews, mentions) newest first with its tags and where it is
//! cited; `research tag ID [--add T]... [--remove T]...` changes an item's tags; `research cite
//! MAP CARD ID...` attaches quotes to a card. Filters are read by the app's one request type, so
//! they mean what the page's and the API's do.

use crate::output::{Format, Output};
use std::io::Write;
use trailmap_app::research::ResearchQuery;
use trailmap_app::{App, FromParams, Params};
use trailmap_model::{FeedbackId, MapId};

#[derive(Debug, clap::Subcommand)]
pub enum ResearchCommand {
    /// List the library's items, newest first, with the tag counts.
    List(ListArgs),
    /// Add or remove tags of one item (by its id from `research list`).
    Tag {
        id: i64,
        #[arg(long = "add", value_name = "TAG")]
        add: Vec<String>,
        #[arg(long = "remove", value_name = "TAG")]
        remove: Vec<String>,
    },
    /// Attach quotes (by id) to a card of a map (ids from `map show`): the card cites them as evidence.
    Cite {
        map: i64,
        card: u32,
        #[arg(required = true, value_name = "ID")]
        quotes: Vec<i64>,
        /// Who made the edit, for the map's history (default: the system user).
        #[arg(long)]
        author: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[arg(long)]
    tag: Option<String>,
    /// interview, focus_group, survey, review or social.
    #[arg(long)]
    kind: Option<String>,
    /// A persona by name or id: items of its customers.
    #[arg(long)]
    persona: Option<String>,
    #[arg(long)]
    touchpoint: Option<String>,
    /// A business stage by name.
    #[arg(long)]
    stage: Option<String>,
    /// negative, neutral or positive.
    #[arg(long)]
    sentiment: Option<String>,
    /// Days FROM..TO (YYYY-MM-DD, both included).
    #[arg(long, value_name = "FROM..TO")]
    period: Option<String>,
    /// Words the text contains.
    #[arg(long)]
    search: Option<String>,
    /// One session or survey, by its source.
    #[arg(long)]
    source: Option<String>,
    /// At most N items (default 50).
    #[arg(long, value_name = "N")]
    limit: Option<String>,
}

pub fn run(app: &mut App, business: Option<&str>, command: ResearchCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    match command {
        ResearchCommand::List(args) => {
            let (from, to) = match args.period.as_deref() {
                Some(p) => match p.split_once("..") {
                    Some((from, to)) => (Some(from.to_string()), Some(to.to_string())),
                    None => (Some(p.to_string()), Some(p.to_string())),
                },
                None => (None, None),
            };
            let params = Params::of([
                ("tag", args.tag.as_deref()),
                ("kind", args.kind.as_deref()),
                ("persona", args.persona.as_deref()),
                ("touchpoint", args.touchpoint.as_deref()),
                ("stage", args.stage.as_deref()),
                ("sentiment", args.sentiment.as_deref()),
                ("from", from.as_deref()),
                ("to", to.as_deref()),
                ("search", args.search.as_deref()),
                ("source", args.source.as_deref()),
                ("limit", args.limit.as_deref()),
            ]);
            let library = app.research(&business, &ResearchQuery::from_params(&params)?)?;
            let rows = library
                .items
                .iter()
                .map(|i| {
                    vec![
                        i.feedback.to_string(),
                        i.date.to_string(),
                        i.kind.as_str().to_string(),
                        i.source.clone(),
                        i.author.clone().unwrap_or_default(),
                        i.text.clone(),
                        i.tags.join(" "),
                        format!("{:+.2}", i.sentiment),
                        i.cited_by.iter().map(|c| format!("map {} card {}", c.map, c.card)).collect::<Vec<_>>().join("; "),
                    ]
                })
                .collect();
            let output = Output::new(&["id", "date", "kind", "source", "author", "text", "tags", "sentiment", "cited on"], rows, &library)?;
            if format != Format::Table {
                return output.print(format, out);
            }
            let title = format!("Research library of {}: {} of {} items", business.name, library.n, library.total);
            output.with_title(title).print(format, out)?;
            if library.n > library.items.len() {
                writeln!(out, "Showing {} of {}; --limit shows more.", library.items.len(), library.n)?;
            }
            if !library.tags.is_empty() {
                let tags: Vec<String> = library.tags.iter().map(|t| format!("#{} ({})", t.tag, t.count)).collect();
                writeln!(out, "Tags: {}", tags.join(", "))?;
            }
            Ok(())
        }
        ResearchCommand::Tag { id, add, remove } => {
            if add.is_empty() && remove.is_empty() {
                anyhow::bail!("give --add TAG or --remove TAG (or both)");
            }
            let tags = app.tag_research(&business, FeedbackId(id), &add, &remove)?;
            let json = serde_json::json!({ "id": id, "tags": tags });
            Output::new(&["id", "tags"], vec![vec![id.to_string(), tags.join(" ")]], &json)?.print(format, out)
        }
        ResearchCommand::Cite { map, card, quotes, author } => {
            let author = author.unwrap_or_else(|| "trailmap".to_string());
            let quotes: Vec<FeedbackId> = quotes.into_iter().map(FeedbackId).collect();
            let added = app.cite_quotes(&business, MapId(map), card, &quotes, &author)?;
            let json = serde_json::json!({ "map": map, "card": card, "added": added });
            Output::new(&["map", "card", "added"], vec![vec![map.to_string(), card.to_string(), added.to_string()]], &json)?.print(format, out)
        }
    }
}
