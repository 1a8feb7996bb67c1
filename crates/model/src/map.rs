//! Journey maps: stages across, lanes down (goals, actions, thoughts, emotions, pain points,
//! opportunities, touchpoints). A map is a document, stored whole as a version on every edit, so any
//! two versions can be compared and a JSON export imports back identical.

use crate::{BusinessId, FeedbackId, MapId, PersonaId, QuestionId, ResponseId, StageId, TouchpointId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapVersionKind {
    /// The journey as it is today.
    AsIs,
    /// The journey the business wants.
    ToBe,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JourneyMap {
    pub id: MapId,
    pub business: BusinessId,
    pub name: String,
    pub kind: MapVersionKind,
    /// The person who keeps the map true.
    pub owner: Option<String>,
    /// When the map should next be reviewed; past it, the map is flagged as stale.
    pub review_date: Option<NaiveDate>,
    pub personas: Vec<PersonaId>,
    pub stages: Vec<MapStage>,
}

/// One column of the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapStage {
    /// The business stage this column shows, when it is one of them.
    pub stage: Option<StageId>,
    pub name: String,
    pub goals: Vec<Card>,
    pub actions: Vec<Card>,
    pub thoughts: Vec<Card>,
    pub pain_points: Vec<Card>,
    pub opportunities: Vec<Card>,
    pub touchpoints: Vec<TouchpointId>,
    /// One emotion score per persona on the map, from -2 (very unhappy) to +2 (delighted).
    pub emotions: Vec<PersonaEmotion>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PersonaEmotion {
    /// None for a map with no persona.
    pub persona: Option<PersonaId>,
    pub score: f32,
}

/// The card lanes of a map stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    Goals,
    Actions,
    Thoughts,
    PainPoints,
    Opportunities,
}

/// A note on the map; it is backed by evidence or it is an assumption, and the map says which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub text: String,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

impl Card {
    pub fn assumption(text: &str) -> Card {
        Card { text: text.to_string(), evidence: Vec::new() }
    }

    pub fn is_assumption(&self) -> bool {
        self.evidence.is_empty()
    }
}

/// What a card cites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A named metric of the engine ("checkout conversion").
    Metric { name: String },
    SurveyAnswer { response: ResponseId, question: QuestionId },
    Quote { feedback: FeedbackId },
    Note { text: String },
}
