//! `trailmap map card add|edit|move|remove`, `trailmap map evidence add|remove` and
//! `trailmap map share create|list|revoke`: a map's cards, the evidence they cite and its
//! read-only share links from the command line. Every edit goes through the app's `edit_map`
//! (one `MapEdit`, one new version), evidence is read by the app in the one-line forms of
//! `Evidence::parse` (a score's touchpoint or stage may be a name), and share links through the
//! app's share-link code (password of at least 8 characters, optional last day).

use crate::output::{Format, Output};
use anyhow::{Context, bail};
use std::io::Write;
use trailmap_app::{App, MapEdit};
use trailmap_model::{Business, JourneyMap, Lane, MapId};

#[derive(Debug, clap::Subcommand)]
pub enum CardCommand {
    /// Add a card to a lane of a stage.
    Add {
        /// The map (id or name).
        map: String,
        /// The stage (its id on the map, or its name).
        #[arg(long)]
        stage: String,
        /// goals, actions, thoughts, pain-points or opportunities.
        #[arg(long)]
        lane: String,
        #[arg(long)]
        text: String,
        /// 0-based place in the lane; default: at the end.
        #[arg(long)]
        position: Option<usize>,
        #[arg(long)]
        author: Option<String>,
    },
    /// Change a card's text (its evidence stays; see `map evidence`).
    Edit {
        map: String,
        card: u32,
        #[arg(long)]
        text: String,
        #[arg(long)]
        author: Option<String>,
    },
    /// Move a card to another stage or lane, or within its lane.
    Move {
        map: String,
        card: u32,
        /// The stage to move to (id or name); default: its own.
        #[arg(long)]
        stage: Option<String>,
        /// The lane to move to; default: its own.
        #[arg(long)]
        lane: Option<String>,
        #[arg(long)]
        position: Option<usize>,
        #[arg(long)]
        author: Option<String>,
    },
    /// Make an opportunity an action (owner, due day, KPI, done), or clear it with --clear.
    Action {
        map: String,
        card: u32,
        #[arg(long, required_unless_present = "clear")]
        owner: Option<String>,
        /// The due day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        due: Option<String>,
        #[arg(long)]
        kpi: Option<String>,
        #[arg(long)]
        done: bool,
        /// Turn the action back into a plain opportunity.
        #[arg(long, conflicts_with_all = ["owner", "due", "kpi", "done"])]
        clear: bool,
        #[arg(long)]
        author: Option<String>,
    },
    /// Remove a card.
    Remove {
        map: String,
        card: u32,
        #[arg(long)]
        author: Option<String>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum EvidenceCommand {
    /// Cite evidence on a card: quote:ID, answer:RESPONSE:QUESTION,
    /// score:nps|csat|ces[:touchpoint:NAME|ID|:stage:NAME|ID], metric:FORM or note:TEXT.
    Add {
        map: String,
        card: u32,
        evidence: String,
        #[arg(long)]
        author: Option<String>,
    },
    /// Remove a card's evidence, given in the same form or by its place (1 for the first).
    Remove {
        map: String,
        card: u32,
        evidence: String,
        #[arg(long)]
        author: Option<String>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum ShareCommand {
    /// Make a read-only link to the map (the token is shown once).
    Create {
        map: String,
        /// Read the link's password (at least 8 characters) from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The last day the link works (YYYY-MM-DD); default: until revoked.
        #[arg(long, value_name = "DATE")]
        expires: Option<String>,
        #[arg(long)]
        author: Option<String>,
    },
    /// The map's links (their hashes: the tokens were shown once).
    List { map: String },
    /// Revoke a link by its token or by the hash `share list` shows.
    Revoke { map: String, link: String },
}

fn author(given: Option<String>) -> String {
    given.or_else(|| std::env::var("USER").ok()).filter(|a| !a.trim().is_empty()).unwrap_or_else(|| "cli".into())
}

fn lane(text: &str) -> anyhow::Result<Lane> {
    Lane::parse(&text.trim().replace('-', "_")).or_else(|| Lane::parse(text.trim())).with_context(|| {
        format!("--lane: {text:?} is not one of {}", Lane::ALL.iter().map(|l| l.as_str().replace('_', "-")).collect::<Vec<_>>().join(", "))
    })
}

/// A stage of the map by its id or name.
fn stage(map: &JourneyMap, wanted: &str) -> anyhow::Result<u32> {
    let wanted = wanted.trim();
    map.stages
        .iter()
        .find(|s| wanted.parse::<u32>().is_ok_and(|id| id == s.id))
        .or_else(|| map.stages.iter().find(|s| s.name.eq_ignore_ascii_case(wanted)))
        .map(|s| s.id)
        .with_context(|| {
            format!("--stage: map {} has no stage {wanted:?}; its stages are: {}", map.name, map.stages.iter().map(|s| format!("{} ({})", s.id, s.name)).collect::<Vec<_>>().join(", "))
        })
}

/// One card's row: where it is, its text and its evidence.
fn card_output(map: &JourneyMap, version: u32, card: u32, title: &str) -> anyhow::Result<Output> {
    let (stage, lane, found) = map.card(card).with_context(|| format!("map {} has no card {card}", map.name))?;
    let evidence: Vec<String> = found.evidence.iter().map(ToString::to_string).collect();
    let action = found.action.as_ref().map(|a| {
        format!("{}{}{}", a.owner, a.due.map(|d| format!(", due {d}")).unwrap_or_default(), if a.done { ", done" } else { "" })
    });
    let rows = vec![vec![
        map.id.0.to_string(),
        version.to_string(),
        found.id.to_string(),
        stage.name.clone(),
        lane.as_str().replace('_', "-"),
        found.text.clone(),
        if evidence.is_empty() { "(assumption)".to_string() } else { evidence.join("; ") },
        action.unwrap_or_default(),
    ]];
    let json = serde_json::json!({
        "map": map.id, "version": version, "card": found.id, "stage": stage.name, "stage_id": stage.id,
        "lane": lane, "text": found.text, "evidence": evidence, "assumption": found.is_assumption(), "action": found.action,
    });
    Ok(Output::new(&["map", "version", "card", "stage", "lane", "text", "evidence", "action"], rows, &json)?.with_title(title.to_string()))
}

fn edit(app: &mut App, business: &Business, map: MapId, edit: &MapEdit, who: Option<String>) -> anyhow::Result<(JourneyMap, u32)> {
    // `edit_map` checks the evidence an edit adds (what the card cites already passes).
    let saved = app.edit_map(business, map, edit, &author(who))?;
    Ok((saved.map, saved.version))
}

pub fn run_card(app: &mut App, business: Option<&str>, command: CardCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let output = match command {
        CardCommand::Add { map, stage: wanted, lane: lane_text, text, position, author: who } => {
            let id = app.map_by_id_or_name(&business, &map)?;
            let current = app.journey_map(&business, id)?.map;
            let (stage, lane) = (stage(&current, &wanted)?, lane(&lane_text)?);
            let before: Vec<u32> = current.cards().map(|(_, _, c)| c.id).collect();
            let (saved, version) = edit(app, &business, id, &MapEdit::AddCard { stage, lane, text, position }, who)?;
            let added = saved.cards().map(|(_, _, c)| c.id).find(|c| !before.contains(c)).context("the new card was not saved")?;
            card_output(&saved, version, added, "Card added")?
        }
        CardCommand::Edit { map, card, text, author: who } => {
            let id = app.map_by_id_or_name(&business, &map)?;
            let current = app.journey_map(&business, id)?.map;
            let (_, _, found) = current.card(card).with_context(|| format!("map {} has no card {card}", current.name))?;
            let evidence = found.evidence.clone();
            let (saved, version) = edit(app, &business, id, &MapEdit::EditCard { card, text, evidence }, who)?;
            card_output(&saved, version, card, "Card edited")?
        }
        CardCommand::Move { map, card, stage: wanted, lane: lane_text, position, author: who } => {
            let id = app.map_by_id_or_name(&business, &map)?;
            let current = app.journey_map(&business, id)?.map;
            let (from_stage, from_lane, _) = current.card(card).with_context(|| format!("map {} has no card {card}", current.name))?;
            let stage = match wanted {
                Some(w) => stage(&current, &w)?,
                None => from_stage.id,
            };
            let lane = match lane_text {
                Some(l) => lane(&l)?,
                None => from_lane,
            };
            let (saved, version) = edit(app, &business, id, &MapEdit::MoveCard { card, stage, lane, position }, who)?;
            card_output(&saved, version, card, "Card moved")?
        }
        CardCommand::Action { map, card, owner, due, kpi, done, clear, author: who } => {
            let id = app.map_by_id_or_name(&business, &map)?;
            let current = app.journey_map(&business, id)?.map;
            let (_, _, found) = current.card(card).with_context(|| format!("map {} has no card {card}", current.name))?;
            let action = if clear {
                None
            } else {
                let due = due.map(|d| trailmap_app::query::day("due", &d)).transpose()?;
                // The change an action led to is kept: `change add --answers` records it.
                let change = found.action.as_ref().and_then(|a| a.change);
                Some(trailmap_model::CardAction { owner: owner.unwrap_or_default(), due, change, kpi, done })
            };
            let (saved, version) = edit(app, &business, id, &MapEdit::SetAction { card, action }, who)?;
            card_output(&saved, version, card, "Action set")?
        }
        CardCommand::Remove { map, card, author: who } => {
            let id = app.map_by_id_or_name(&business, &map)?;
            let current = app.journey_map(&business, id)?.map;
            let gone = card_output(&current, 0, card, "Card removed")?;
            let (_, version) = edit(app, &business, id, &MapEdit::RemoveCard { card }, who)?;
            let mut gone = gone;
            gone.rows[0][1] = version.to_string();
            gone.json["version"] = serde_json::json!(version);
            gone
        }
    };
    print(output, format, out)
}

pub fn run_evidence(app: &mut App, business: Option<&str>, command: EvidenceCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let (map, card, text, who, adding) = match command {
        EvidenceCommand::Add { map, card, evidence, author } => (map, card, evidence, author, true),
        EvidenceCommand::Remove { map, card, evidence, author } => (map, card, evidence, author, false),
    };
    let id = app.map_by_id_or_name(&business, &map)?;
    let current = app.journey_map(&business, id)?.map;
    let (_, _, found) = current.card(card).with_context(|| format!("map {} has no card {card}", current.name))?;
    let mut evidence = found.evidence.clone();
    let card_text = found.text.clone();
    if adding {
        let piece = app.parse_evidence(&business, &text)?;
        if evidence.contains(&piece) {
            bail!("card {card} already cites {piece}");
        }
        evidence.push(piece);
    } else {
        let at = match text.trim().parse::<usize>() {
            Ok(place) if (1..=evidence.len()).contains(&place) => place - 1,
            Ok(place) => bail!("card {card} cites {} piece(s) of evidence; there is no number {place}", evidence.len()),
            Err(_) => {
                let piece = app.parse_evidence(&business, &text)?;
                evidence.iter().position(|e| *e == piece).with_context(|| {
                    format!("card {card} does not cite {piece}; it cites: {}", evidence.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
                })?
            }
        };
        evidence.remove(at);
    }
    let (saved, version) = edit(app, &business, id, &MapEdit::EditCard { card, text: card_text, evidence }, who)?;
    print(card_output(&saved, version, card, if adding { "Evidence added" } else { "Evidence removed" })?, format, out)
}

pub fn run_share(app: &mut App, business: Option<&str>, command: ShareCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let now = crate::commands::user::now();
    match command {
        ShareCommand::Create { map, password_stdin, expires, author: who } => {
            let id = app.map_by_id_or_name(&business, &map)?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
                Some(line.trim_end_matches(['\r', '\n']).to_string())
            } else {
                None
            };
            let expires = trailmap_app::query::link_expiry("expires", expires.as_deref().unwrap_or(""))?;
            let made = app.create_share_link(&business, id, password.as_deref(), expires, &author(who), now)?;
            let json = serde_json::json!({
                "map": made.map, "token": made.token, "path": made.path, "has_password": made.has_password,
                "expires_at": made.expires_at.map(|t| t.to_rfc3339()),
            });
            let mut output = Output::key_values(&json)?;
            if format == Format::Table {
                output = output.with_title("Share link made; the token is shown this once");
            }
            output.print(format, out)
        }
        ShareCommand::List { map } => {
            let id = app.map_by_id_or_name(&business, &map)?;
            let links = app.share_links(&business, id)?;
            let json: Vec<serde_json::Value> = links
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "token_hash": l.token_hash, "has_password": l.password_hash.is_some(),
                        "expires_at": l.expires_at.map(|t| t.to_rfc3339()), "expired": l.expires_at.is_some_and(|e| e <= now),
                        "created_by": l.created_by, "created_at": l.created_at.to_rfc3339(), "embed_on": l.frame_ancestors,
                    })
                })
                .collect();
            let rows = links
                .iter()
                .map(|l| {
                    vec![
                        l.token_hash.clone(),
                        if l.password_hash.is_some() { "yes".into() } else { "no".into() },
                        match l.expires_at {
                            Some(e) if e <= now => format!("{} (expired)", e.to_rfc3339()),
                            Some(e) => e.to_rfc3339(),
                            None => "never".into(),
                        },
                        l.created_by.clone(),
                        l.created_at.to_rfc3339(),
                    ]
                })
                .collect();
            Output::new(&["hash", "password", "expires", "created by", "created at"], rows, &json)?.print(format, out)
        }
        ShareCommand::Revoke { map, link } => {
            let id = app.map_by_id_or_name(&business, &map)?;
            let link = link.trim();
            let share_path = link.rsplit('/').next().unwrap_or(link);
            if share_path.starts_with("tms_") {
                app.revoke_share_link(&business, id, share_path)?;
            } else {
                app.revoke_share_link_by_hash(&business, id, link)?;
            }
            let json = serde_json::json!({ "map": id, "revoked": true });
            Output::key_values(&json)?.print(format, out)
        }
    }
}

fn print(output: Output, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    output.print(format, out)
}
