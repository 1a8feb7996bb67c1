//! Free-text feedback that did not come from our own surveys: reviews, social mentions, interview
//! and focus-group notes.

use crate::{BusinessId, CustomerId, FeedbackId, Timestamp, TouchpointId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    Review,
    Mention,
    /// A quote from an interview's notes (one participant).
    Note,
    /// A quote from a focus group's notes: a session with several participants, the quote
    /// attributed to one of them (its author).
    FocusGroup,
    /// A free-text survey answer copied here so themes see all text in one place.
    SurveyText,
}

impl FeedbackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackKind::Review => "review",
            FeedbackKind::Mention => "mention",
            FeedbackKind::Note => "note",
            FeedbackKind::FocusGroup => "focus_group",
            FeedbackKind::SurveyText => "survey_text",
        }
    }

    pub fn parse(text: &str) -> Option<FeedbackKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "review" | "reviews" => Some(FeedbackKind::Review),
            "mention" | "mentions" | "social" => Some(FeedbackKind::Mention),
            "note" | "notes" | "interview" => Some(FeedbackKind::Note),
            "focus_group" | "focus-group" | "focus group" => Some(FeedbackKind::FocusGroup),
            "survey_text" | "survey" => Some(FeedbackKind::SurveyText),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub id: FeedbackId,
    pub business: BusinessId,
    pub kind: FeedbackKind,
    /// Where it came from: "google", "yelp", "instagram", "interview 2024-03".
    pub source: String,
    /// The id the source gave it, used to import it once.
    pub external_id: Option<String>,
    pub customer: Option<CustomerId>,
    pub author: Option<String>,
    pub time: Timestamp,
    /// A rating on the source's scale normalised to 1-5, when there is one.
    pub rating: Option<f32>,
    pub text: String,
    pub link: Option<String>,
    pub touchpoint: Option<TouchpointId>,
    pub tags: Vec<String>,
}
