//! Journey maps as the CLI and the web pages use them: templates, create, rename, delete, the
//! single edits an editor makes (each one call, each saved as a new version with its author),
//! versions and the diff between any two, JSON export and import, Mermaid `journey` text, SVG,
//! PNG and PDF through the chart renderer (with the live numbers of `map_numbers`), read-only
//! share links, stale maps and persona coverage.
//!
//! Decisions a caller should know:
//! - Stages and cards have ids stable within their map; maps saved before ids existed are numbered
//!   in document order when read, so their ids are the same on every read.
//! - A customer belongs to the first persona (in creation order) whose segment rule they match,
//!   as in the funnel's persona breakdown; coverage and the persona filter of the live numbers use
//!   that one assignment, so the personas' counts add up to at most the customers.
//! - Live numbers are computed in `map_numbers` (its documentation defines them).
//! - The JSON export names touchpoints, stages and personas instead of giving their ids, so it
//!   imports into another business; names that business lacks are dropped and reported. Evidence
//!   keeps its ids (survey answers, quotes), which only mean something in the business they came
//!   from.

use crate::{App, AppError, Result};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use chrono::NaiveDate;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use crate::map_numbers::MapNumbers;
use trailmap_model::{
    StageId, Business, Card, CardAction, CustomerId, Evidence, JourneyMap, Lane, MapId, MapStage,
    MapVersionKind, PersonaEmotion, PersonaId, Timestamp, TouchpointId,
};
use trailmap_store::{MapStore, MapVersion, ShareLink, Store, StoreError};

/// The longest text a card, a name or a stage may have, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// The identifier and version of the JSON export format.
pub const MAP_DOCUMENT_FORMAT: &str = "trailmap-journey-map";
pub const MAP_DOCUMENT_VERSION: u32 = 1;

/// The maps a business can start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MapTemplate {
    CoffeeShop,
    WebShop,
    Services,
    Blank,
}

impl MapTemplate {
    pub const ALL: [MapTemplate; 4] = [MapTemplate::CoffeeShop, MapTemplate::WebShop, MapTemplate::Services, MapTemplate::Blank];

    pub fn as_str(self) -> &'static str {
        match self {
            MapTemplate::CoffeeShop => "coffee-shop",
            MapTemplate::WebShop => "web-shop",
            MapTemplate::Services => "services",
            MapTemplate::Blank => "blank",
        }
    }

    pub fn parse(text: &str) -> Result<MapTemplate> {
        MapTemplate::ALL.into_iter().find(|t| t.as_str() == text.trim()).ok_or_else(|| {
            AppError::Invalid(format!("template {text:?}: expected coffee-shop, web-shop, services or blank"))
        })
    }

    /// What the template is for, in a sentence.
    pub fn description(self) -> &'static str {
        match self {
            MapTemplate::CoffeeShop => "A café or bakery: walk-ins and referrals, the counter, regulars.",
            MapTemplate::WebShop => "An online shop: ads and search, product pages, checkout, delivery, reviews.",
            MapTemplate::Services => "A salon, studio or trade: enquiries, booking, the appointment, rebooking.",
            MapTemplate::Blank => "The business's own stages with nothing on them yet.",
        }
    }
}

/// One stage of a template: name, then goals, actions, thoughts, pain points, opportunities, and
/// the emotion (-2..+2).
type TemplateStage = (&'static str, &'static [&'static str], &'static [&'static str], &'static [&'static str], &'static [&'static str], &'static [&'static str], f32);

const COFFEE_SHOP: &[TemplateStage] = &[
    ("Awareness", &["Find good coffee close to home or work"], &["Hears about us from a friend", "Walks past the shop"], &["Is it worth the detour?"], &["Passers-by cannot see the menu from the street"], &["A board outside with today's specials"], 0.5),
    ("Consideration", &["Know the menu, prices and opening hours"], &["Checks the hours on Google Maps", "Looks at photos on Instagram"], &["Do they have oat milk?"], &["Opening hours online are out of date"], &["Keep the Google listing current"], 0.0),
    ("Purchase", &["Get a good coffee quickly"], &["Orders at the counter", "Pays by card"], &["The line is long this morning"], &["Morning queues of ten minutes or more"], &["A second till at peak hours"], -1.0),
    ("Retention", &["Make the café part of the routine"], &["Comes back several times a week", "Collects stamps"], &["They know my order"], &["Nothing rewards coming back"], &["A stamp card or loyalty app"], 1.0),
    ("Advocacy", &["Share a favourite place"], &["Brings friends", "Writes a review"], &["My friends should try this"], &["No reason or reward to refer"], &["A referral reward for both friends"], 1.5),
];

const WEB_SHOP: &[TemplateStage] = &[
    ("Awareness", &["Find something that fits my style"], &["Sees an ad on Instagram", "Searches on Google"], &["Never heard of this shop"], &["Ads bring visitors who leave at once"], &["Target ads at lookalikes of buyers"], 0.0),
    ("Consideration", &["Be sure of size, quality and price"], &["Browses product pages", "Reads reviews", "Adds to cart"], &["Will it fit?"], &["Size guide is hard to find"], &["Fit notes from reviews on each product"], 0.5),
    ("Purchase", &["Pay quickly with no surprises"], &["Starts checkout", "Picks shipping", "Pays"], &["Why is shipping so expensive?"], &["Shipping cost appears only at the last step"], &["Free shipping over a threshold, shown early"], -1.5),
    ("Retention", &["Get the order on time and as pictured"], &["Tracks the parcel", "Opens the newsletter"], &["Will returns be easy?"], &["No news between order and delivery"], &["Shipping updates by email"], 0.5),
    ("Advocacy", &["Show off a good find"], &["Writes a review", "Tags the shop on social media"], &["Everyone asks where it is from"], &["Few customers are asked for a review"], &["A review request a week after delivery"], 1.0),
];

const SERVICES: &[TemplateStage] = &[
    ("Awareness", &["Find someone trustworthy nearby"], &["Asks friends", "Searches for reviews"], &["Who do people recommend?"], &["Few recent reviews online"], &["Ask happy clients for a review"], 0.0),
    ("Consideration", &["Understand prices and availability"], &["Visits the website", "Calls with questions"], &["How much will it cost?"], &["Prices are not on the website"], &["Publish a simple price list"], -0.5),
    ("Purchase", &["Book a time that suits"], &["Books online or by phone", "Gets a confirmation"], &["I hope I can get an evening slot"], &["Phone only answered during working hours"], &["Online booking with reminders"], -1.0),
    ("Retention", &["A good result without hassle"], &["Comes to the appointment", "Rebooks"], &["That was worth it"], &["Nobody suggests the next appointment"], &["Offer to rebook before the client leaves"], 1.0),
    ("Advocacy", &["Recommend someone good"], &["Tells friends", "Leaves a review"], &["You should go there"], &["No easy way to refer a friend"], &["A thank-you for referrals"], 1.5),
];

/// The most stages a map holds: a journey has a handful, and the map's page lays out at most this
/// many columns.
pub const MAX_STAGES: usize = 30;

/// One edit of a map: each is a single call of [`App::edit_map`] and a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MapEdit {
    Rename { name: String },
    /// Owner, review date and kind; every field is set as given (None clears).
    SetDetails { owner: Option<String>, review_date: Option<NaiveDate>, kind: MapVersionKind },
    /// Adds an empty stage at `position` (0-based; None: at the end).
    AddStage { name: String, position: Option<usize> },
    RenameStage { stage: u32, name: String },
    /// Moves a stage to `position` (0-based, among the stages after the move).
    MoveStage { stage: u32, position: usize },
    RemoveStage { stage: u32 },
    /// Adds a card to a lane of a stage at `position` (None: at the end of the lane).
    AddCard { stage: u32, lane: Lane, text: String, position: Option<usize> },
    /// Changes a card's text and the evidence it cites.
    EditCard { card: u32, text: String, evidence: Vec<Evidence> },
    /// Moves a card to another stage or lane, or within its lane.
    MoveCard { card: u32, stage: u32, lane: Lane, position: Option<usize> },
    RemoveCard { card: u32 },
    /// Turns a pain point into an opportunity on the same stage that points back at it.
    PainPointToOpportunity { card: u32, text: String },
    /// Makes an opportunity an action (owner, due date, change, KPI), or clears it with None.
    SetAction { card: u32, action: Option<CardAction> },
    /// Sets a persona's emotion at a stage (None: the map's single curve); -2 to +2.
    SetEmotion { stage: u32, persona: Option<PersonaId>, score: f32 },
    AddTouchpoint { stage: u32, touchpoint: TouchpointId },
    RemoveTouchpoint { stage: u32, touchpoint: TouchpointId },
    AddPersona { persona: PersonaId },
    RemovePersona { persona: PersonaId },
}

/// A map in a list: what it is, how big, whether it needs review, and its newest version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapSummary {
    pub id: MapId,
    pub name: String,
    pub kind: MapVersionKind,
    pub as_is: Option<MapId>,
    pub owner: Option<String>,
    pub review_date: Option<NaiveDate>,
    /// The review date is before the day asked about.
    pub stale: bool,
    pub stages: usize,
    pub cards: usize,
    /// Cards that cite no evidence.
    pub assumptions: usize,
    pub version: u32,
    pub updated_by: String,
    pub updated_at: Timestamp,
}

/// A version of a map in its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    pub version: u32,
    pub author: String,
    pub created_at: Timestamp,
}

/// One difference between two versions of a map.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum MapChange {
    Renamed { from: String, to: String },
    /// The owner, review date, kind or "as is" link changed (values as text).
    DetailChanged { field: String, from: String, to: String },
    PersonaAdded { persona: PersonaId },
    PersonaRemoved { persona: PersonaId },
    StageAdded { stage: u32, name: String, position: usize },
    StageRemoved { stage: u32, name: String },
    StageRenamed { stage: u32, from: String, to: String },
    /// The stage changed place relative to the stages both versions have.
    StageMoved { stage: u32, name: String, from: usize, to: usize },
    CardAdded { card: u32, stage: String, lane: Lane, text: String },
    CardRemoved { card: u32, stage: String, lane: Lane, text: String },
    /// The card's text, evidence, source pain point or action changed; `what` says which.
    CardChanged { card: u32, stage: String, lane: Lane, from: String, to: String, what: Vec<String> },
    CardMoved { card: u32, text: String, from_stage: String, from_lane: Lane, to_stage: String, to_lane: Lane },
    EmotionChanged { stage: String, persona: Option<PersonaId>, from: Option<f32>, to: Option<f32> },
    TouchpointAdded { stage: String, touchpoint: TouchpointId },
    TouchpointRemoved { stage: String, touchpoint: TouchpointId },
}

impl MapChange {
    /// The change as a sentence.
    pub fn describe(&self) -> String {
        let score = |s: &Option<f32>| s.map_or_else(|| "none".to_string(), |s| format!("{s:+.1}"));
        let persona = |p: &Option<PersonaId>| p.map_or_else(|| "the map".to_string(), |p| format!("persona {p}"));
        match self {
            MapChange::Renamed { from, to } => format!("map renamed from {from:?} to {to:?}"),
            MapChange::DetailChanged { field, from, to } => format!("{field} changed from {from:?} to {to:?}"),
            MapChange::PersonaAdded { persona } => format!("persona {persona} added"),
            MapChange::PersonaRemoved { persona } => format!("persona {persona} removed"),
            MapChange::StageAdded { name, position, .. } => format!("stage {name:?} added at position {}", position + 1),
            MapChange::StageRemoved { name, .. } => format!("stage {name:?} removed"),
            MapChange::StageRenamed { from, to, .. } => format!("stage {from:?} renamed to {to:?}"),
            MapChange::StageMoved { name, from, to, .. } => format!("stage {name:?} moved from position {} to {}", from + 1, to + 1),
            MapChange::CardAdded { stage, lane, text, .. } => format!("card {text:?} added to {stage} / {}", lane.title()),
            MapChange::CardRemoved { stage, lane, text, .. } => format!("card {text:?} removed from {stage} / {}", lane.title()),
            MapChange::CardChanged { stage, lane, from, to, what, .. } => {
                if from == to {
                    format!("card {from:?} in {stage} / {}: {} changed", lane.title(), what.join(", "))
                } else {
                    format!("card {from:?} in {stage} / {} changed to {to:?}", lane.title())
                }
            }
            MapChange::CardMoved { text, from_stage, from_lane, to_stage, to_lane, .. } => {
                format!("card {text:?} moved from {from_stage} / {} to {to_stage} / {}", from_lane.title(), to_lane.title())
            }
            MapChange::EmotionChanged { stage, persona: p, from, to } => {
                format!("emotion of {} at {stage} changed from {} to {}", persona(p), score(from), score(to))
            }
            MapChange::TouchpointAdded { stage, touchpoint } => format!("touchpoint {touchpoint} added to {stage}"),
            MapChange::TouchpointRemoved { stage, touchpoint } => format!("touchpoint {touchpoint} removed from {stage}"),
        }
    }
}

/// The differences between two versions, as a list and as text (one sentence a line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapDiff {
    pub map: MapId,
    pub from: u32,
    pub to: u32,
    pub changes: Vec<MapChange>,
    pub text: String,
}

/// The JSON export: the map with names in place of the business's ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapDocument {
    /// Always [`MAP_DOCUMENT_FORMAT`].
    pub format: String,
    /// [`MAP_DOCUMENT_VERSION`] when written; a newer one is refused.
    pub version: u32,
    pub name: String,
    pub kind: MapVersionKind,
    pub owner: Option<String>,
    pub review_date: Option<NaiveDate>,
    /// The name of the "as is" map a "to be" map improves on.
    #[serde(default)]
    pub as_is: Option<String>,
    pub personas: Vec<String>,
    pub stages: Vec<DocumentStage>,
    /// The touchpoints the stages use (name, channel, rule, stage, description), so the import
    /// into another business can create those it lacks.
    #[serde(default)]
    pub touchpoints: Vec<crate::map_touchpoints::DocumentTouchpoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentStage {
    pub id: u32,
    pub name: String,
    /// The business stage this column shows, by name.
    #[serde(default)]
    pub business_stage: Option<String>,
    #[serde(default)]
    pub goals: Vec<Card>,
    #[serde(default)]
    pub actions: Vec<Card>,
    #[serde(default)]
    pub thoughts: Vec<Card>,
    #[serde(default)]
    pub pain_points: Vec<Card>,
    #[serde(default)]
    pub opportunities: Vec<Card>,
    /// Touchpoints by name.
    #[serde(default)]
    pub touchpoints: Vec<String>,
    #[serde(default)]
    pub emotions: Vec<DocumentEmotion>,
    /// Touchpoints of the business stage taken off this column by hand, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_touchpoints: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentEmotion {
    /// The persona by name; None for the map's single curve.
    pub persona: Option<String>,
    pub score: f32,
}

/// What an import made: the new map, the names the business did not have (left out), the
/// touchpoints it created from the document, and the touchpoints the business already had under
/// a document's name but with another rule (kept as they were).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedMap {
    pub id: MapId,
    pub map: JourneyMap,
    pub dropped: Vec<String>,
    pub touchpoints_created: Vec<String>,
    pub touchpoints_kept: Vec<String>,
}

/// How a map is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapExportFormat {
    Svg,
    Png,
    Pdf,
    Json,
    Mermaid,
}

impl MapExportFormat {
    pub fn parse(text: &str) -> Result<MapExportFormat> {
        Ok(match text.trim().to_ascii_lowercase().as_str() {
            "svg" => MapExportFormat::Svg,
            "png" => MapExportFormat::Png,
            "pdf" => MapExportFormat::Pdf,
            "json" => MapExportFormat::Json,
            "mermaid" | "mmd" => MapExportFormat::Mermaid,
            other => return Err(AppError::Invalid(format!("export format {other:?}: expected svg, png, pdf, json or mermaid"))),
        })
    }

    pub fn extension(self) -> &'static str {
        match self {
            MapExportFormat::Svg => "svg",
            MapExportFormat::Png => "png",
            MapExportFormat::Pdf => "pdf",
            MapExportFormat::Json => "json",
            MapExportFormat::Mermaid => "mmd",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            MapExportFormat::Svg => "image/svg+xml",
            MapExportFormat::Png => "image/png",
            MapExportFormat::Pdf => "application/pdf",
            MapExportFormat::Json => "application/json",
            MapExportFormat::Mermaid => "text/vnd.mermaid",
        }
    }
}

/// A share link just made: the token is shown once and kept only as its hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewShareLink {
    pub map: MapId,
    pub token: String,
    /// The page path of the read-only view.
    pub path: String,
    pub has_password: bool,
    pub expires_at: Option<Timestamp>,
}

/// Why a share link does not open a map. The server answers every one of them the same way to
/// a stranger except `PasswordNeeded` and `WrongPassword`, which ask for the password.
#[derive(Debug, thiserror::Error)]
pub enum ShareLinkError {
    #[error("no map is shared under this link")]
    Unknown,
    #[error("this share link expired at {0}")]
    Expired(String),
    #[error("this shared map needs its password")]
    PasswordNeeded,
    #[error("the password of this shared map is wrong")]
    WrongPassword,
    #[error(transparent)]
    App(#[from] AppError),
}

/// What a share link opens: the newest version of the map, read-only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharedMap {
    pub map: JourneyMap,
    pub version: u32,
    pub expires_at: Option<Timestamp>,
    /// The origins whose pages may embed the shared map; none: no site may frame it.
    pub frame_ancestors: Vec<String>,
}

/// A persona and the customers it covers (see the module's note on assignment).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonaCoverage {
    pub persona: PersonaId,
    pub name: String,
    /// False when the persona has no segment rule yet (it covers nobody).
    pub has_rule: bool,
    pub n: usize,
    pub customers: Vec<CustomerId>,
}

/// A count of customers, with who they are.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerCount {
    pub n: usize,
    pub customers: Vec<CustomerId>,
}

impl CustomerCount {
    pub(crate) fn of(mut customers: Vec<CustomerId>) -> CustomerCount {
        customers.sort();
        customers.dedup();
        CustomerCount { n: customers.len(), customers }
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::Invalid(message.into())
}

/// Checks a name or a card's text: trimmed, not empty, not too long.
fn clean_text(text: &str, what: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(format!("{what}: must not be empty")));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(format!("{what}: at most {MAX_TEXT_CHARS} characters")));
    }
    Ok(text.to_string())
}

fn check_score(score: f32) -> Result<()> {
    if !score.is_finite() || !(-2.0..=2.0).contains(&score) {
        return Err(invalid(format!("score: {score} is not between -2 and +2")));
    }
    Ok(())
}

fn stage_index(map: &JourneyMap, stage: u32) -> Result<usize> {
    map.stages.iter().position(|s| s.id == stage).ok_or_else(|| invalid(format!("stage: the map has no stage {stage}")))
}

/// Where a card is: stage index, lane, index in the lane.
fn card_place(map: &JourneyMap, card: u32) -> Result<(usize, Lane, usize)> {
    for (s, stage) in map.stages.iter().enumerate() {
        for lane in Lane::ALL {
            if let Some(i) = stage.lane(lane).iter().position(|c| c.id == card) {
                return Ok((s, lane, i));
            }
        }
    }
    Err(invalid(format!("card: the map has no card {card}")))
}

fn next_card_id(map: &JourneyMap) -> u32 {
    map.cards().map(|(_, _, c)| c.id).max().unwrap_or(0) + 1
}

/// Applies one edit to a map (numbered); pure, so the editor's rules are tested without a store.
/// Ids of touchpoints and personas are checked by the caller against the business.
pub fn apply_edit(map: &mut JourneyMap, edit: &MapEdit) -> Result<()> {
    match edit {
        MapEdit::Rename { name } => map.name = clean_text(name, "name")?,
        MapEdit::SetDetails { owner, review_date, kind } => {
            map.owner = owner.as_deref().map(|o| clean_text(o, "owner")).transpose()?;
            map.review_date = *review_date;
            map.kind = *kind;
            if *kind == MapVersionKind::AsIs {
                map.as_is = None;
            }
        }
        MapEdit::AddStage { name, position } => {
            if map.stages.len() >= MAX_STAGES {
                return Err(invalid(format!("a map holds at most {MAX_STAGES} stages")));
            }
            let position = position.unwrap_or(map.stages.len());
            if position > map.stages.len() {
                return Err(invalid(format!("position: {position} is beyond the map's {} stages", map.stages.len())));
            }
            let id = map.stages.iter().map(|s| s.id).max().unwrap_or(0) + 1;
            let mut stage = MapStage { id, ..MapStage::named(&clean_text(name, "name")?) };
            // A new stage starts neutral for every persona already on the map.
            stage.emotions = map.stages.first().map_or_else(Vec::new, |s| {
                s.emotions.iter().map(|e| PersonaEmotion { persona: e.persona, score: 0.0 }).collect()
            });
            map.stages.insert(position, stage);
        }
        MapEdit::RenameStage { stage, name } => {
            let i = stage_index(map, *stage)?;
            map.stages[i].name = clean_text(name, "name")?;
        }
        MapEdit::MoveStage { stage, position } => {
            let i = stage_index(map, *stage)?;
            if *position >= map.stages.len() {
                return Err(invalid(format!("position: {position} is beyond the map's {} stages", map.stages.len())));
            }
            let moved = map.stages.remove(i);
            map.stages.insert(*position, moved);
        }
        MapEdit::RemoveStage { stage } => {
            let i = stage_index(map, *stage)?;
            let removed = map.stages.remove(i);
            // Opportunities elsewhere that answered a pain point of the removed stage lose the link.
            let gone: BTreeSet<u32> = removed.pain_points.iter().map(|c| c.id).collect();
            for stage in &mut map.stages {
                for card in &mut stage.opportunities {
                    if card.from.is_some_and(|f| gone.contains(&f)) {
                        card.from = None;
                    }
                }
            }
        }
        MapEdit::AddCard { stage, lane, text, position } => {
            let i = stage_index(map, *stage)?;
            let id = next_card_id(map);
            let cards = map.stages[i].lane_mut(*lane);
            let position = position.unwrap_or(cards.len());
            if position > cards.len() {
                return Err(invalid(format!("position: {position} is beyond the lane's {} cards", cards.len())));
            }
            cards.insert(position, Card { id, ..Card::assumption(&clean_text(text, "text")?) });
        }
        MapEdit::EditCard { card, text, evidence } => {
            let (s, lane, i) = card_place(map, *card)?;
            let text = clean_text(text, "text")?;
            for (k, e) in evidence.iter().enumerate() {
                let empty = match e {
                    Evidence::Metric { name } => name.trim().is_empty(),
                    Evidence::Note { text } => text.trim().is_empty(),
                    _ => false,
                };
                if empty {
                    return Err(invalid(format!("evidence {}: a {} needs its text", k + 1, e.kind())));
                }
            }
            let target = &mut map.stages[s].lane_mut(lane)[i];
            target.text = text;
            target.evidence = evidence.clone();
        }
        MapEdit::MoveCard { card, stage, lane, position } => {
            let to = stage_index(map, *stage)?;
            let (s, from_lane, i) = card_place(map, *card)?;
            let moved = map.stages[s].lane_mut(from_lane).remove(i);
            let cards = map.stages[to].lane_mut(*lane);
            let position = position.unwrap_or(cards.len()).min(cards.len());
            cards.insert(position, moved);
        }
        MapEdit::RemoveCard { card } => {
            let (s, lane, i) = card_place(map, *card)?;
            map.stages[s].lane_mut(lane).remove(i);
            for stage in &mut map.stages {
                for c in &mut stage.opportunities {
                    if c.from == Some(*card) {
                        c.from = None;
                    }
                }
            }
        }
        MapEdit::PainPointToOpportunity { card, text } => {
            let (s, lane, _) = card_place(map, *card)?;
            if lane != Lane::PainPoints {
                return Err(invalid(format!("card: card {card} is in {}, not a pain point", lane.title())));
            }
            let id = next_card_id(map);
            let text = clean_text(text, "text")?;
            map.stages[s].opportunities.push(Card { id, from: Some(*card), ..Card::assumption(&text) });
        }
        MapEdit::SetAction { card, action } => {
            let (s, lane, i) = card_place(map, *card)?;
            if lane != Lane::Opportunities && action.is_some() {
                return Err(invalid(format!("card: card {card} is in {}; only opportunities become actions", lane.title())));
            }
            let action = match action {
                Some(a) => Some(CardAction {
                    owner: clean_text(&a.owner, "owner")?,
                    kpi: a.kpi.as_deref().map(|k| clean_text(k, "kpi")).transpose()?,
                    ..a.clone()
                }),
                None => None,
            };
            map.stages[s].lane_mut(lane)[i].action = action;
        }
        MapEdit::SetEmotion { stage, persona, score } => {
            check_score(*score)?;
            if persona.is_some_and(|p| !map.personas.contains(&p)) {
                return Err(invalid(format!("persona: persona {} is not on this map", persona.map_or(0, |p| p.0))));
            }
            let i = stage_index(map, *stage)?;
            let emotions = &mut map.stages[i].emotions;
            match emotions.iter_mut().find(|e| e.persona == *persona) {
                Some(e) => e.score = *score,
                None => emotions.push(PersonaEmotion { persona: *persona, score: *score }),
            }
        }
        MapEdit::AddTouchpoint { stage, touchpoint } => {
            let i = stage_index(map, *stage)?;
            map.stages[i].removed_touchpoints.retain(|t| t != touchpoint);
            if !map.stages[i].touchpoints.contains(touchpoint) {
                map.stages[i].touchpoints.push(*touchpoint);
            }
        }
        MapEdit::RemoveTouchpoint { stage, touchpoint } => {
            let i = stage_index(map, *stage)?;
            let column = &mut map.stages[i];
            let before = column.touchpoints.len();
            column.touchpoints.retain(|t| t != touchpoint);
            // A column showing a business stage would show the touchpoint again if the business
            // places it there: it is remembered as taken off. (`App::edit_map` has checked that
            // the column shows it.)
            if column.stage.is_some() {
                if !column.removed_touchpoints.contains(touchpoint) {
                    column.removed_touchpoints.push(*touchpoint);
                }
            } else if column.touchpoints.len() == before {
                return Err(invalid(format!("touchpoint: touchpoint {touchpoint} is not on stage {stage}")));
            }
        }
        MapEdit::AddPersona { persona } => {
            if !map.personas.contains(persona) {
                map.personas.push(*persona);
            }
        }
        MapEdit::RemovePersona { persona } => {
            if !map.personas.contains(persona) {
                return Err(invalid(format!("persona: persona {persona} is not on this map")));
            }
            map.personas.retain(|p| p != persona);
            for stage in &mut map.stages {
                stage.emotions.retain(|e| e.persona != Some(*persona));
            }
        }
    }
    Ok(())
}

/// The longest common subsequence of two id lists (the stages that kept their relative order).
fn common_order(a: &[u32], b: &[u32]) -> BTreeSet<u32> {
    let mut table = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            table[i][j] = if a[i] == b[j] { table[i + 1][j + 1] + 1 } else { table[i + 1][j].max(table[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut kept) = (0, 0, BTreeSet::new());
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            kept.insert(a[i]);
            i += 1;
            j += 1;
        } else if table[i + 1][j] >= table[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    kept
}

/// The differences from map `a` to map `b` (both numbered), in a fixed order: the map, its
/// personas, stages, cards, emotions, touchpoints.
pub fn diff_maps(a: &JourneyMap, b: &JourneyMap) -> Vec<MapChange> {
    let mut changes = Vec::new();
    if a.name != b.name {
        changes.push(MapChange::Renamed { from: a.name.clone(), to: b.name.clone() });
    }
    let text = |v: Option<String>| v.unwrap_or_default();
    for (field, from, to) in [
        ("owner", a.owner.clone(), b.owner.clone()),
        ("review date", a.review_date.map(|d| d.to_string()), b.review_date.map(|d| d.to_string())),
        ("kind", Some(kind_name(a.kind).to_string()), Some(kind_name(b.kind).to_string())),
        ("as-is map", a.as_is.map(|m| m.to_string()), b.as_is.map(|m| m.to_string())),
    ] {
        if from != to {
            changes.push(MapChange::DetailChanged { field: field.into(), from: text(from), to: text(to) });
        }
    }
    changes.extend(b.personas.iter().filter(|p| !a.personas.contains(p)).map(|&persona| MapChange::PersonaAdded { persona }));
    changes.extend(a.personas.iter().filter(|p| !b.personas.contains(p)).map(|&persona| MapChange::PersonaRemoved { persona }));

    let a_ids: Vec<u32> = a.stages.iter().map(|s| s.id).collect();
    let b_ids: Vec<u32> = b.stages.iter().map(|s| s.id).collect();
    let both_a: Vec<u32> = a_ids.iter().copied().filter(|id| b_ids.contains(id)).collect();
    let both_b: Vec<u32> = b_ids.iter().copied().filter(|id| a_ids.contains(id)).collect();
    let kept = common_order(&both_a, &both_b);
    for (position, stage) in b.stages.iter().enumerate() {
        if !a_ids.contains(&stage.id) {
            changes.push(MapChange::StageAdded { stage: stage.id, name: stage.name.clone(), position });
        }
    }
    for stage in a.stages.iter().filter(|s| !b_ids.contains(&s.id)) {
        changes.push(MapChange::StageRemoved { stage: stage.id, name: stage.name.clone() });
    }
    for (to, stage) in b.stages.iter().enumerate() {
        let Some((from, old)) = a.stages.iter().enumerate().find(|(_, s)| s.id == stage.id) else { continue };
        if old.name != stage.name {
            changes.push(MapChange::StageRenamed { stage: stage.id, from: old.name.clone(), to: stage.name.clone() });
        }
        if !kept.contains(&stage.id) {
            changes.push(MapChange::StageMoved { stage: stage.id, name: stage.name.clone(), from, to });
        }
    }

    let a_cards: HashMap<u32, (&MapStage, Lane, &Card)> = a.cards().map(|(s, l, c)| (c.id, (s, l, c))).collect();
    let b_cards: HashMap<u32, (&MapStage, Lane, &Card)> = b.cards().map(|(s, l, c)| (c.id, (s, l, c))).collect();
    for (stage, lane, card) in b.cards() {
        match a_cards.get(&card.id) {
            None => changes.push(MapChange::CardAdded { card: card.id, stage: stage.name.clone(), lane, text: card.text.clone() }),
            Some((old_stage, old_lane, old)) => {
                if old_stage.id != stage.id || *old_lane != lane {
                    changes.push(MapChange::CardMoved {
                        card: card.id,
                        text: card.text.clone(),
                        from_stage: old_stage.name.clone(),
                        from_lane: *old_lane,
                        to_stage: stage.name.clone(),
                        to_lane: lane,
                    });
                }
                let mut what = Vec::new();
                if old.text != card.text {
                    what.push("text".to_string());
                }
                if old.evidence != card.evidence {
                    what.push("evidence".to_string());
                }
                if old.from != card.from {
                    what.push("pain point".to_string());
                }
                if old.action != card.action {
                    what.push("action".to_string());
                }
                if !what.is_empty() {
                    changes.push(MapChange::CardChanged {
                        card: card.id,
                        stage: stage.name.clone(),
                        lane,
                        from: old.text.clone(),
                        to: card.text.clone(),
                        what,
                    });
                }
            }
        }
    }
    for (stage, lane, card) in a.cards() {
        if !b_cards.contains_key(&card.id) {
            changes.push(MapChange::CardRemoved { card: card.id, stage: stage.name.clone(), lane, text: card.text.clone() });
        }
    }

    for stage in &b.stages {
        let Some(old) = a.stage(stage.id) else { continue };
        let mut personas: Vec<Option<PersonaId>> = old.emotions.iter().chain(&stage.emotions).map(|e| e.persona).collect();
        personas.sort();
        personas.dedup();
        for persona in personas {
            let (from, to) = (old.emotion(persona), stage.emotion(persona));
            if from != to {
                changes.push(MapChange::EmotionChanged { stage: stage.name.clone(), persona, from, to });
            }
        }
        for &touchpoint in stage.touchpoints.iter().filter(|t| !old.touchpoints.contains(t)) {
            changes.push(MapChange::TouchpointAdded { stage: stage.name.clone(), touchpoint });
        }
        for &touchpoint in old.touchpoints.iter().filter(|t| !stage.touchpoints.contains(t)) {
            changes.push(MapChange::TouchpointRemoved { stage: stage.name.clone(), touchpoint });
        }
        // A touchpoint the column showed only through its business stage, taken off (or put back).
        for &touchpoint in stage.removed_touchpoints.iter().filter(|t| !old.removed_touchpoints.contains(t) && !old.touchpoints.contains(t)) {
            changes.push(MapChange::TouchpointRemoved { stage: stage.name.clone(), touchpoint });
        }
        for &touchpoint in old.removed_touchpoints.iter().filter(|t| !stage.removed_touchpoints.contains(t) && !stage.touchpoints.contains(t)) {
            changes.push(MapChange::TouchpointAdded { stage: stage.name.clone(), touchpoint });
        }
    }
    changes
}

fn kind_name(kind: MapVersionKind) -> &'static str {
    match kind {
        MapVersionKind::AsIs => "as is",
        MapVersionKind::ToBe => "to be",
    }
}

/// An emotion from -2..+2 as Mermaid's 1..5 score (rounded to the nearest whole point).
pub fn mermaid_score(emotion: f32) -> u8 {
    let e = if emotion.is_finite() { emotion.clamp(-2.0, 2.0) } else { 0.0 };
    (e.round() as i32 + 3) as u8
}

/// Text Mermaid reads as one task or actor: no line breaks, and no `:` `,` `;` or `#`, which its
/// journey grammar uses as separators or comments.
fn mermaid_text(text: &str) -> String {
    let cleaned: String =
        text.chars().map(|c| match c { ':' | ';' | '#' | ',' => ' ', c if c.is_control() => ' ', c => c }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The map as a Mermaid `journey` diagram: a section per stage, its actions as tasks (the first
/// goal, or the stage's name, when it has none), scored by each persona's emotion there; personas
/// with the same score share a task line as its actors.
pub fn mermaid(map: &JourneyMap, persona_names: &HashMap<PersonaId, String>) -> String {
    let mut out = String::from("journey\n");
    let _ = writeln!(out, "    title {}", mermaid_text(&map.name));
    let curves: Vec<(Option<PersonaId>, String)> = if map.personas.is_empty() {
        vec![(None, "Customer".to_string())]
    } else {
        map.personas
            .iter()
            .map(|p| (Some(*p), mermaid_text(persona_names.get(p).map_or("Persona", String::as_str))))
            .collect()
    };
    for stage in &map.stages {
        let _ = writeln!(out, "    section {}", mermaid_text(&stage.name));
        let mut tasks: Vec<String> = stage.actions.iter().map(|c| mermaid_text(&c.text)).filter(|t| !t.is_empty()).collect();
        if tasks.is_empty() {
            tasks.push(stage.goals.first().map_or_else(|| mermaid_text(&stage.name), |c| mermaid_text(&c.text)));
        }
        let mut by_score: BTreeMap<std::cmp::Reverse<u8>, Vec<&str>> = BTreeMap::new();
        for (persona, name) in &curves {
            let score = stage.emotion(*persona).map_or(3, mermaid_score);
            by_score.entry(std::cmp::Reverse(score)).or_default().push(name);
        }
        for task in &tasks {
            for (std::cmp::Reverse(score), actors) in &by_score {
                let _ = writeln!(out, "      {task}: {score}: {}", actors.join(", "));
            }
        }
    }
    out
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_password(password: &str) -> Result<String> {
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| invalid(format!("password: cannot be salted: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| invalid(format!("password: cannot be hashed: {e}")))
}

fn store_error(error: StoreError) -> AppError {
    match error {
        StoreError::NotFound { what, id } => AppError::NotFound(format!("{what} {id} does not exist")),
        StoreError::Conflict(m) => AppError::Conflict(m),
        other => AppError::Store(other),
    }
}

impl App {
    /// A business's map, numbered, with its newest version's number, author and time; NotFound
    /// when the map does not exist or belongs to another business.
    pub fn journey_map(&self, business: &Business, id: MapId) -> Result<MapVersion> {
        let mut version = self.stored_journey_map(business, id)?;
        self.bind_touchpoints(&mut version.map)?;
        Ok(version)
    }

    /// The map as stored (numbered), without the touchpoints its columns show through their
    /// business stages: what edits apply to and what is saved.
    pub(crate) fn stored_journey_map(&self, business: &Business, id: MapId) -> Result<MapVersion> {
        let found = self.store().map(id)?.filter(|v| v.map.business == business.id);
        let mut version = found.ok_or_else(|| AppError::NotFound(format!("journey map {id} does not exist in {}", business.name)))?;
        version.map.number_items();
        Ok(version)
    }

    /// Every column showing a business stage also shows the touchpoints the business places in
    /// that stage now (but those taken off by hand): a map made from a template before the
    /// business had touchpoints is measured as soon as they are added, and gets numbers as soon
    /// as their events arrive.
    fn bind_touchpoints(&self, map: &mut JourneyMap) -> Result<()> {
        if map.stages.iter().all(|s| s.stage.is_none()) {
            return Ok(());
        }
        let placed: Vec<(TouchpointId, Option<StageId>)> = self.store().touchpoints(map.business)?.into_iter().map(|t| (t.id, t.stage)).collect();
        for stage in &mut map.stages {
            stage.bind_touchpoints(&placed);
        }
        Ok(())
    }

    /// The business's maps, with `stale` set for those whose review date is before `today`.
    pub fn journey_maps(&self, business: &Business, today: NaiveDate) -> Result<Vec<MapSummary>> {
        let mut out = Vec::new();
        for map in self.store().maps(business.id)? {
            let version = self.journey_map(business, map.id)?;
            let m = &version.map;
            out.push(MapSummary {
                id: m.id,
                name: m.name.clone(),
                kind: m.kind,
                as_is: m.as_is,
                owner: m.owner.clone(),
                review_date: m.review_date,
                stale: m.review_date.is_some_and(|d| d < today),
                stages: m.stages.len(),
                cards: m.cards().count(),
                assumptions: m.cards().filter(|(_, _, c)| c.is_assumption()).count(),
                version: version.version,
                updated_by: version.author.clone(),
                updated_at: version.created_at,
            });
        }
        Ok(out)
    }

    /// The maps past their review date on `today`: the dashboard's staleness flag.
    pub fn stale_maps(&self, business: &Business, today: NaiveDate) -> Result<Vec<MapSummary>> {
        Ok(self.journey_maps(business, today)?.into_iter().filter(|m| m.stale).collect())
    }

    /// Creates a map from a template: the template's stages, matched by name (ignoring case) to
    /// the business's stages, with its cards (all assumptions) and one emotion curve. A stage that
    /// matched a business stage starts with the touchpoints the business puts in that stage
    /// (`Touchpoint::stage`); a stage that matched none starts without touchpoints.
    pub fn create_map(&mut self, business: &Business, name: &str, template: MapTemplate, author: &str) -> Result<JourneyMap> {
        let name = clean_text(name, "name")?;
        let author = clean_text(author, "author")?;
        let stages = self.store().stages(business.id)?;
        let rows: &[TemplateStage] = match template {
            MapTemplate::CoffeeShop => COFFEE_SHOP,
            MapTemplate::WebShop => WEB_SHOP,
            MapTemplate::Services => SERVICES,
            MapTemplate::Blank => &[],
        };
        let map_stages: Vec<MapStage> = if template == MapTemplate::Blank {
            stages
                .iter()
                .map(|s| MapStage { stage: Some(s.id), emotions: vec![PersonaEmotion { persona: None, score: 0.0 }], ..MapStage::named(&s.name) })
                .collect()
        } else {
            rows.iter()
                .map(|(stage_name, goals, actions, thoughts, pains, opportunities, emotion)| {
                    let cards = |texts: &[&str]| texts.iter().map(|t| Card::assumption(t)).collect();
                    MapStage {
                        stage: stages.iter().find(|s| s.name.eq_ignore_ascii_case(stage_name)).map(|s| s.id),
                        goals: cards(goals),
                        actions: cards(actions),
                        thoughts: cards(thoughts),
                        pain_points: cards(pains),
                        opportunities: cards(opportunities),
                        emotions: vec![PersonaEmotion { persona: None, score: *emotion }],
                        ..MapStage::named(stage_name)
                    }
                })
                .collect()
        };
        // Templates carry no touchpoints: each stage that shows one of the business's stages
        // shows the business's touchpoints placed in that stage, now and as they are added (see
        // `bind_touchpoints`), so it is measured.
        let map = JourneyMap {
            id: MapId(0),
            business: business.id,
            name,
            kind: MapVersionKind::AsIs,
            owner: Some(author.clone()),
            review_date: None,
            personas: Vec::new(),
            stages: map_stages,
            as_is: None,
        };
        let saved = self.save_new_map(map, &author)?;
        Ok(self.journey_map(business, saved.id)?.map)
    }

    /// Creates the "to be" map of an "as is" map: a copy linked to it, to edit into the target.
    pub fn create_to_be_map(&mut self, business: &Business, as_is: MapId, author: &str) -> Result<JourneyMap> {
        let source = self.stored_journey_map(business, as_is)?.map;
        if source.kind != MapVersionKind::AsIs {
            return Err(invalid(format!("map {as_is} is a \"to be\" map; start from an \"as is\" map")));
        }
        let map = JourneyMap { id: MapId(0), name: format!("{} (to be)", source.name), kind: MapVersionKind::ToBe, as_is: Some(as_is), ..source };
        let saved = self.save_new_map(map, &clean_text(author, "author")?)?;
        Ok(self.journey_map(business, saved.id)?.map)
    }

    fn save_new_map(&mut self, mut map: JourneyMap, author: &str) -> Result<JourneyMap> {
        map.number_items();
        let mut id = MapId(0);
        self.store_mut().write::<StoreError>(&mut |w| {
            id = w.save_map(&map, author)?;
            Ok(())
        })?;
        map.id = id;
        Ok(map)
    }

    /// Applies one edit and saves the result as a new version by `author`; returns the new map.
    pub fn edit_map(&mut self, business: &Business, id: MapId, edit: &MapEdit, author: &str) -> Result<MapVersion> {
        let author = clean_text(author, "author")?;
        // Edits apply to the map as stored; the touchpoints its columns show through their
        // business stages are bound again when it is read.
        let mut map = self.stored_journey_map(business, id)?.map;
        match edit {
            MapEdit::RemoveTouchpoint { stage, touchpoint } => {
                let shown = self.journey_map(business, id)?.map;
                if !shown.stage(*stage).is_some_and(|s| s.touchpoints.contains(touchpoint)) {
                    return Err(invalid(format!("touchpoint: touchpoint {touchpoint} is not on stage {stage}")));
                }
            }
            MapEdit::AddTouchpoint { touchpoint, .. } if !self.store().touchpoints(business.id)?.iter().any(|t| t.id == *touchpoint) => {
                return Err(invalid(format!("touchpoint: {} has no touchpoint {touchpoint}", business.name)));
            }
            MapEdit::AddPersona { persona } if !self.store().personas(business.id)?.iter().any(|p| p.id == *persona) => {
                return Err(invalid(format!("persona: {} has no persona {persona}", business.name)));
            }
            MapEdit::SetAction { action: Some(CardAction { change: Some(change), .. }), .. }
                if !self.store().changes(business.id)?.iter().any(|c| c.id == *change) =>
            {
                return Err(invalid(format!("change: {} has no change {change}", business.name)));
            }
            _ => {}
        }
        let cards_before: BTreeSet<u32> = map.cards().map(|(_, _, c)| c.id).collect();
        apply_edit(&mut map, edit)?;
        // Comments go with their card: a removed card's comments are deleted in the same
        // transaction, so a card that later gets the freed id starts without them.
        let cards_after: BTreeSet<u32> = map.cards().map(|(_, _, c)| c.id).collect();
        let removed: Vec<u32> = cards_before.difference(&cards_after).copied().collect();
        self.store_mut().write::<StoreError>(&mut |w| {
            w.save_map(&map, &author)?;
            if !removed.is_empty() {
                w.delete_card_comments(id, &removed)?;
            }
            Ok(())
        })?;
        self.journey_map(business, id)
    }

    pub fn delete_map(&mut self, business: &Business, id: MapId) -> Result<()> {
        self.journey_map(business, id)?;
        self.store_mut().delete_map(id).map_err(store_error)
    }

    pub fn map_versions(&self, business: &Business, id: MapId) -> Result<Vec<VersionInfo>> {
        self.journey_map(business, id)?;
        Ok(self
            .store()
            .map_versions(id)?
            .into_iter()
            .map(|v| VersionInfo { version: v.version, author: v.author, created_at: v.created_at })
            .collect())
    }

    /// One version of a map, numbered.
    pub fn map_version(&self, business: &Business, id: MapId, version: u32) -> Result<MapVersion> {
        self.journey_map(business, id)?;
        let mut found = self
            .store()
            .map_version(id, version)?
            .ok_or_else(|| AppError::NotFound(format!("journey map {id} has no version {version}")))?;
        found.map.number_items();
        Ok(found)
    }

    /// What changed from version `from` to version `to` of a map.
    pub fn diff_map_versions(&self, business: &Business, id: MapId, from: u32, to: u32) -> Result<MapDiff> {
        let a = self.map_version(business, id, from)?.map;
        let b = self.map_version(business, id, to)?.map;
        let changes = diff_maps(&a, &b);
        let text = changes.iter().map(|c| format!("{}\n", c.describe())).collect();
        Ok(MapDiff { map: id, from, to, changes, text })
    }

    /// The map as a document with names in place of ids, to import here or into another business.
    pub fn export_map_document(&self, business: &Business, id: MapId) -> Result<MapDocument> {
        let map = self.journey_map(business, id)?.map;
        let document_touchpoints = self.document_touchpoints(business, &map)?;
        let stages: HashMap<_, _> = self.store().stages(business.id)?.into_iter().map(|s| (s.id, s.name)).collect();
        let touchpoints: HashMap<_, _> = self.store().touchpoints(business.id)?.into_iter().map(|t| (t.id, t.name)).collect();
        let personas = self.persona_names(business)?;
        let as_is = match map.as_is {
            Some(as_is) => self.store().map(as_is)?.filter(|v| v.map.business == business.id).map(|v| v.map.name),
            None => None,
        };
        Ok(MapDocument {
            format: MAP_DOCUMENT_FORMAT.into(),
            version: MAP_DOCUMENT_VERSION,
            name: map.name,
            kind: map.kind,
            owner: map.owner,
            review_date: map.review_date,
            as_is,
            personas: map.personas.iter().filter_map(|p| personas.get(p).cloned()).collect(),
            stages: map
                .stages
                .into_iter()
                .map(|s| DocumentStage {
                    id: s.id,
                    name: s.name,
                    business_stage: s.stage.and_then(|id| stages.get(&id).cloned()),
                    goals: s.goals,
                    actions: s.actions,
                    thoughts: s.thoughts,
                    pain_points: s.pain_points,
                    opportunities: s.opportunities,
                    touchpoints: s.touchpoints.iter().filter_map(|t| touchpoints.get(t).cloned()).collect(),
                    removed_touchpoints: s.removed_touchpoints.iter().filter_map(|t| touchpoints.get(t).cloned()).collect(),
                    emotions: s
                        .emotions
                        .iter()
                        .filter_map(|e| match e.persona {
                            None => Some(DocumentEmotion { persona: None, score: e.score }),
                            Some(p) => personas.get(&p).map(|name| DocumentEmotion { persona: Some(name.clone()), score: e.score }),
                        })
                        .collect(),
                })
                .collect(),
            touchpoints: document_touchpoints,
        })
    }

    /// Reads an exported document (JSON text) into a new map of `business`; the touchpoints it
    /// carries that the business lacks are created (see `map_touchpoints`), and other names the
    /// business does not have are left out and listed in `dropped`.
    pub fn import_map_json(&mut self, business: &Business, json: &str, author: &str) -> Result<ImportedMap> {
        let document: MapDocument =
            serde_json::from_str(json).map_err(|e| invalid(format!("map document: line {}, column {}: {e}", e.line(), e.column())))?;
        self.import_map_document(business, &document, author)
    }

    pub fn import_map_document(&mut self, business: &Business, document: &MapDocument, author: &str) -> Result<ImportedMap> {
        if document.format != MAP_DOCUMENT_FORMAT {
            return Err(invalid(format!("format: {:?} is not a Trailmap journey map ({MAP_DOCUMENT_FORMAT:?})", document.format)));
        }
        if document.version > MAP_DOCUMENT_VERSION {
            return Err(invalid(format!(
                "version: the document is version {}, newer than this Trailmap reads ({MAP_DOCUMENT_VERSION})",
                document.version
            )));
        }
        let author = clean_text(author, "author")?;
        if document.stages.len() > MAX_STAGES {
            return Err(invalid(format!("stages: {} stages, where a map holds at most {MAX_STAGES}", document.stages.len())));
        }
        let mut seen_stages = BTreeSet::new();
        let mut seen_cards = BTreeSet::new();
        for (k, stage) in document.stages.iter().enumerate() {
            clean_text(&stage.name, &format!("stages[{k}].name"))?;
            if stage.id != 0 && !seen_stages.insert(stage.id) {
                return Err(invalid(format!("stages[{k}].id: stage id {} appears twice", stage.id)));
            }
            for card in [&stage.goals, &stage.actions, &stage.thoughts, &stage.pain_points, &stage.opportunities].into_iter().flatten() {
                clean_text(&card.text, &format!("stages[{k}]: card {}", card.id))?;
                if card.id != 0 && !seen_cards.insert(card.id) {
                    return Err(invalid(format!("stages[{k}]: card id {} appears twice", card.id)));
                }
            }
            for e in &stage.emotions {
                check_score(e.score).map_err(|err| invalid(format!("stages[{k}].emotions: {err}")))?;
            }
        }
        let by_name = |names: &[(String, i64)], wanted: &str| {
            names.iter().find(|(n, _)| n.eq_ignore_ascii_case(wanted.trim())).map(|(_, id)| *id)
        };
        let stages: Vec<(String, i64)> = self.store().stages(business.id)?.into_iter().map(|s| (s.name, s.id.0)).collect();
        let plan = self.plan_document_touchpoints(business, &document.touchpoints)?;
        let personas: Vec<(String, i64)> = self.store().personas(business.id)?.into_iter().map(|p| (p.name, p.id.0)).collect();
        let mut dropped = plan.dropped.clone();
        let mut persona_ids = Vec::new();
        for name in &document.personas {
            match by_name(&personas, name) {
                Some(id) => persona_ids.push(PersonaId(id)),
                None => dropped.push(format!("persona {name:?}")),
            }
        }
        let mut map_stages = Vec::new();
        for stage in &document.stages {
            let business_stage = match &stage.business_stage {
                Some(name) => {
                    let found = by_name(&stages, name);
                    if found.is_none() {
                        dropped.push(format!("business stage {name:?}"));
                    }
                    found.map(trailmap_model::StageId)
                }
                None => None,
            };
            let mut tps = Vec::new();
            for name in &stage.touchpoints {
                match plan.resolve(name) {
                    Some(id) => tps.push(id),
                    None => dropped.push(format!("touchpoint {name:?} (stage {:?})", stage.name)),
                }
            }
            // A touchpoint taken off the column that the business lacks is simply not there (the
            // plan's placeholders, negative, are touchpoints the import creates, on no column yet).
            let removed = stage.removed_touchpoints.iter().filter_map(|name| plan.resolve(name)).filter(|id| id.0 >= 0).collect();
            let mut emotions = Vec::new();
            // An emotion of a persona the business lacks goes with it; the persona is reported once.
            for e in &stage.emotions {
                let persona = match &e.persona {
                    None => None,
                    Some(name) => match by_name(&personas, name) {
                        Some(id) => Some(PersonaId(id)),
                        None => continue,
                    },
                };
                emotions.push(PersonaEmotion { persona, score: e.score });
            }
            map_stages.push(MapStage {
                id: stage.id,
                stage: business_stage,
                name: stage.name.trim().to_string(),
                goals: stage.goals.clone(),
                actions: stage.actions.clone(),
                thoughts: stage.thoughts.clone(),
                pain_points: stage.pain_points.clone(),
                opportunities: stage.opportunities.clone(),
                touchpoints: tps,
                emotions,
                removed_touchpoints: removed,
            });
        }
        let as_is = match &document.as_is {
            Some(name) => {
                let found = self.store().maps(business.id)?.into_iter().find(|m| m.name == *name).map(|m| m.id);
                if found.is_none() {
                    dropped.push(format!("as-is map {name:?}"));
                }
                found
            }
            None => None,
        };
        dropped.dedup();
        let mut map = JourneyMap {
            id: MapId(0),
            business: business.id,
            name: clean_text(&document.name, "name")?,
            kind: document.kind,
            owner: document.owner.clone(),
            review_date: document.review_date,
            personas: persona_ids,
            stages: map_stages,
            as_is,
        };
        map.number_items();
        // The touchpoints and the map land together, or neither does.
        let mut others = self.store().maps(business.id)?;
        self.store_mut().write::<StoreError>(&mut |w| {
            plan.write(w, &mut map, &mut others, &author)?;
            map.id = w.save_map(&map, &author)?;
            Ok(())
        })?;
        // Read back as pages show it: template stages bound to the business's touchpoints.
        let map = self.journey_map(business, map.id)?.map;
        Ok(ImportedMap { id: map.id, map, dropped, touchpoints_created: plan.created(), touchpoints_kept: plan.kept.clone() })
    }

    /// A persona of the business by name (ignoring ASCII case); the error lists the names.
    pub fn persona_by_name(&self, business: &Business, name: &str) -> Result<PersonaId> {
        let personas = self.store().personas(business.id)?;
        let found = personas.iter().find(|p| p.name.eq_ignore_ascii_case(name.trim())).map(|p| p.id);
        found.ok_or_else(|| {
            let names: Vec<&str> = personas.iter().map(|p| p.name.as_str()).collect();
            invalid(format!("persona {name:?}: {} has no such persona; it has: {}", business.name, names.join(", ")))
        })
    }

    fn persona_names(&self, business: &Business) -> Result<HashMap<PersonaId, String>> {
        Ok(self.store().personas(business.id)?.into_iter().map(|p| (p.id, p.name)).collect())
    }

    /// The map as Mermaid `journey` text.
    pub fn map_mermaid(&self, business: &Business, id: MapId) -> Result<String> {
        let map = self.journey_map(business, id)?.map;
        Ok(mermaid(&map, &self.persona_names(business)?))
    }

    /// The map as the renderer draws it, with the live numbers under each stage when given.
    pub fn map_chart(&self, business: &Business, id: MapId, numbers: Option<&MapNumbers>) -> Result<trailmap_render::JourneyMapChart> {
        use trailmap_render::{MapCard, MapColumn, MapFigure};
        let version = self.journey_map(business, id)?;
        let map = version.map;
        let personas = self.persona_names(business)?;
        let touchpoints: HashMap<_, _> = self.store().touchpoints(business.id)?.into_iter().map(|t| (t.id, t.name)).collect();
        let curves: Vec<Option<PersonaId>> = if map.personas.is_empty() { vec![None] } else { map.personas.iter().map(|p| Some(*p)).collect() };
        let mut subtitle = vec![if map.kind == MapVersionKind::AsIs { "As is".to_string() } else { "To be".to_string() }];
        if let Some(owner) = &map.owner {
            subtitle.push(format!("owner {owner}"));
        }
        if let Some(date) = map.review_date {
            subtitle.push(format!("review by {date}"));
        }
        subtitle.push(format!("version {} by {}", version.version, version.author));
        let stages = map
            .stages
            .iter()
            .map(|stage| {
                let mut figures = Vec::new();
                if let Some(numbers) = numbers.and_then(|n| n.stages.iter().find(|s| s.stage == stage.id)).filter(|s| s.measured) {
                    let ids = |c: &CustomerCount| format!("/customers?ids={}", c.customers.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(","));
                    let count = |n: usize| trailmap_render::ValueFormat::Count.format(n as f64);
                    figures.push(MapFigure { label: "Reach".into(), value: format!("{} customers", count(numbers.reach.n)), href: Some(ids(&numbers.reach)) });
                    figures.push(MapFigure { label: "New here".into(), value: format!("{} customers", count(numbers.entered_here.n)), href: Some(ids(&numbers.entered_here)) });
                    if let Some(next) = &numbers.to_next {
                        figures.push(MapFigure {
                            label: "Went on".into(),
                            value: format!("{:.0}% (n={})", next.rate * 100.0, count(next.n)),
                            href: Some(ids(&next.converted)),
                        });
                        figures.push(MapFigure { label: "Drop-off".into(), value: format!("{} customers", count(next.dropped.n)), href: Some(ids(&next.dropped)) });
                    }
                    figures.push(MapFigure {
                        label: "Revenue".into(),
                        value: format!("{}, n={} orders", numbers.revenue.shown, count(numbers.revenue.orders)),
                        href: Some(ids(&numbers.revenue.buyers)),
                    });
                }
                MapColumn {
                    name: stage.name.clone(),
                    figures,
                    cards: Lane::ALL
                        .iter()
                        .map(|lane| {
                            stage
                                .lane(*lane)
                                .iter()
                                .map(|c| MapCard {
                                    text: match &c.action {
                                        Some(a) => format!("{} → {}{}", c.text, a.owner, a.due.map(|d| format!(" by {d}")).unwrap_or_default()),
                                        None => c.text.clone(),
                                    },
                                    evidence: c.evidence.first().map(|e| {
                                        if c.evidence.len() > 1 { format!("{} +{}", e.kind().replace('_', " "), c.evidence.len() - 1) } else { e.kind().replace('_', " ") }
                                    }),
                                    href: None,
                                })
                                .collect()
                        })
                        .collect(),
                    emotions: curves.iter().map(|p| stage.emotion(*p).map(f64::from)).collect(),
                    touchpoints: stage.touchpoints.iter().map(|t| touchpoints.get(t).cloned().unwrap_or_else(|| format!("touchpoint {t}"))).collect(),
                }
            })
            .collect();
        Ok(trailmap_render::JourneyMapChart {
            title: map.name.clone(),
            subtitle: Some(subtitle.join(" · ")),
            lanes: Lane::ALL.iter().map(|l| l.title().to_string()).collect(),
            personas: curves.iter().map(|p| p.and_then(|p| personas.get(&p).cloned()).unwrap_or_default()).collect(),
            stages,
        })
    }

    /// The map exported in `format`, as bytes (text formats in UTF-8).
    pub fn export_map(&self, business: &Business, id: MapId, format: MapExportFormat, numbers: Option<&MapNumbers>) -> Result<Vec<u8>> {
        let render_error = |e: trailmap_render::RenderError| invalid(format!("the map cannot be drawn: {e}"));
        Ok(match format {
            MapExportFormat::Json => {
                let mut text = serde_json::to_string_pretty(&self.export_map_document(business, id)?)
                    .map_err(|e| invalid(format!("the map cannot be written as JSON: {e}")))?;
                text.push('\n');
                text.into_bytes()
            }
            MapExportFormat::Mermaid => self.map_mermaid(business, id)?.into_bytes(),
            MapExportFormat::Svg => self.map_chart(business, id, numbers)?.render().into_string().into_bytes(),
            MapExportFormat::Png => trailmap_render::to_png(&self.map_chart(business, id, numbers)?.render(), 2.0).map_err(render_error)?,
            MapExportFormat::Pdf => trailmap_render::to_pdf(&self.map_chart(business, id, numbers)?.render()).map_err(render_error)?,
        })
    }

    /// Makes a read-only share link of a map, optionally with a password and an expiry.
    pub fn create_share_link(
        &mut self,
        business: &Business,
        id: MapId,
        password: Option<&str>,
        expires_at: Option<Timestamp>,
        author: &str,
        now: Timestamp,
    ) -> Result<NewShareLink> {
        self.journey_map(business, id)?;
        if expires_at.is_some_and(|e| e <= now) {
            return Err(invalid("expires: the expiry must be in the future"));
        }
        let password_hash = match password {
            Some(p) if p.chars().count() < 8 => return Err(invalid("password: at least 8 characters are needed")),
            Some(p) if p.len() > 1024 => return Err(invalid("password: at most 1024 bytes")),
            Some(p) => Some(hash_password(p)?),
            None => None,
        };
        let token = format!("tms_{}", crate::accounts::random_token(32));
        self.store_mut()
            .insert_share_link(&ShareLink {
                token_hash: token_hash(&token),
                map: id,
                business: business.id,
                password_hash,
                expires_at,
                created_by: clean_text(author, "author")?,
                created_at: now,
                frame_ancestors: Vec::new(),
            })
            .map_err(store_error)?;
        Ok(NewShareLink { map: id, path: format!("/share/{token}"), token, has_password: password.is_some(), expires_at })
    }

    /// Opens a share link at `now`: the map, or why not.
    pub fn open_share_link(&self, token: &str, password: Option<&str>, now: Timestamp) -> std::result::Result<SharedMap, ShareLinkError> {
        let link = self.store().share_link(&token_hash(token)).map_err(AppError::from)?.ok_or(ShareLinkError::Unknown)?;
        if let Some(expires) = link.expires_at.filter(|e| *e <= now) {
            return Err(ShareLinkError::Expired(expires.to_rfc3339()));
        }
        if let Some(hash) = &link.password_hash {
            match password {
                None => return Err(ShareLinkError::PasswordNeeded),
                Some(p) if !crate::accounts::verify_password(p, hash) => return Err(ShareLinkError::WrongPassword),
                Some(_) => {}
            }
        }
        let mut version = self.store().map(link.map).map_err(AppError::from)?.ok_or(ShareLinkError::Unknown)?;
        version.map.number_items();
        self.bind_touchpoints(&mut version.map)?;
        Ok(SharedMap { map: version.map, version: version.version, expires_at: link.expires_at, frame_ancestors: link.frame_ancestors })
    }

    /// The map's share links as stored (hashes only; the tokens were shown once).
    pub fn share_links(&self, business: &Business, id: MapId) -> Result<Vec<ShareLink>> {
        self.journey_map(business, id)?;
        Ok(self.store().share_links(id)?)
    }

    /// Lets the pages of `origins` (`https://intranet.example`, at most 10; empty: none) embed
    /// the share link `token` of map `id` in a frame; every other site still may not.
    pub fn set_share_link_embedding(&mut self, business: &Business, id: MapId, token: &str, origins: &[String]) -> Result<()> {
        self.journey_map(business, id)?;
        let clean = check_embed_origins(origins)?;
        self.store_mut().set_share_link_frame_ancestors(id, &token_hash(token), &clean).map_err(store_error)
    }

    /// Revokes a share link by its token.
    pub fn revoke_share_link(&mut self, business: &Business, id: MapId, token: &str) -> Result<()> {
        self.journey_map(business, id)?;
        self.store_mut().delete_share_link(id, &token_hash(token)).map_err(store_error)
    }

    /// Revokes a share link by its stored hash (the lists show no tokens), after checking the map
    /// is the business's and has that link.
    pub fn revoke_share_link_by_hash(&mut self, business: &Business, id: MapId, hash: &str) -> Result<()> {
        self.journey_map(business, id)?;
        if !self.share_links(business, id)?.iter().any(|l| l.token_hash == hash) {
            return Err(AppError::NotFound(format!("journey map {} has no such share link", id.0)));
        }
        self.store_mut().delete_share_link(id, hash).map_err(store_error)
    }
}

/// The origins a share link may be embedded in, checked (at most 10, each `http(s)://host[:port]`)
/// and lower-cased; errors name the field `embed_on`.
pub fn check_embed_origins(origins: &[String]) -> Result<Vec<String>> {
    if origins.len() > 10 {
        return Err(invalid("embed_on: at most 10 origins"));
    }
    origins
        .iter()
        .map(|origin| check_origin(origin.trim()).map_err(|why| invalid(format!("embed_on: {origin:?} {why}"))))
        .collect()
}

/// An origin a page may be embedded in: `https://host[:port]` (or `http://` for a local one),
/// with nothing after the host; answered lower-cased, or why not.
fn check_origin(text: &str) -> std::result::Result<String, &'static str> {
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://")).ok_or("is not an http(s):// origin")?;
    let (host, port) = rest.split_once(':').map_or((rest, None), |(h, p)| (h, Some(p)));
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
        return Err("is not an origin: give the scheme and host only, as in https://intranet.example");
    }
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 5) {
        return Err("has a port that is not a number");
    }
    Ok(text.to_ascii_lowercase())
}
