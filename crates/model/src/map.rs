//! Journey maps: stages across, lanes down (goals, actions, thoughts, emotions, pain points,
//! opportunities, touchpoints). A map is a document, stored whole as a version on every edit, so any
//! two versions can be compared and a JSON export imports back identical.
//!
//! Stages and cards carry ids that are stable within their map ([`MapStage::id`], [`Card::id`]), so
//! an editor can name the card it changes and a diff can tell a moved or edited card from a removed
//! one. Id 0 means "not numbered yet": [`JourneyMap::number_items`] gives such items the next free
//! ids, in document order, so maps written before ids existed read the same way every time.

use crate::{BusinessId, ChangeId, FeedbackId, MapId, PersonaId, QuestionId, ResponseId, StageId, TouchpointId};
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
    /// For a "to be" map: the "as is" map it improves on, so the two can be shown side by side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_is: Option<MapId>,
}

impl JourneyMap {
    /// Gives every stage and card with id 0 the next free id (stages and cards have separate
    /// ranges), in document order. Items that have an id keep it.
    pub fn number_items(&mut self) {
        let mut next_stage = self.stages.iter().map(|s| s.id).max().unwrap_or(0);
        let mut next_card = self.cards().map(|(_, _, c)| c.id).max().unwrap_or(0);
        for stage in &mut self.stages {
            if stage.id == 0 {
                next_stage += 1;
                stage.id = next_stage;
            }
            for lane in Lane::ALL {
                for card in stage.lane_mut(lane) {
                    if card.id == 0 {
                        next_card += 1;
                        card.id = next_card;
                    }
                }
            }
        }
    }

    /// Every card with its stage and lane, in document order.
    pub fn cards(&self) -> impl Iterator<Item = (&MapStage, Lane, &Card)> + '_ {
        self.stages
            .iter()
            .flat_map(|stage| Lane::ALL.into_iter().flat_map(move |lane| stage.lane(lane).iter().map(move |c| (stage, lane, c))))
    }

    pub fn stage(&self, id: u32) -> Option<&MapStage> {
        self.stages.iter().find(|s| s.id == id)
    }

    /// The card with this id, with the stage and lane it sits in.
    pub fn card(&self, id: u32) -> Option<(&MapStage, Lane, &Card)> {
        self.cards().find(|(_, _, c)| c.id == id)
    }

    /// Records that `change` answers card `card`: when the card is an action (an opportunity
    /// with an owner) not yet linked to a change, its action now names the change. Returns
    /// whether the map changed, so the caller saves a new version only then. A pain point or a
    /// plain opportunity keeps no link on the map: the change itself names the card.
    pub fn record_change(&mut self, card: u32, change: ChangeId) -> bool {
        for stage in &mut self.stages {
            for found in stage.lane_mut(Lane::Opportunities) {
                if found.id == card
                    && let Some(action) = found.action.as_mut()
                    && action.change.is_none()
                {
                    action.change = Some(change);
                    return true;
                }
            }
        }
        false
    }
}

/// One column of the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapStage {
    /// Stable within the map; 0 until numbered (see [`JourneyMap::number_items`]).
    #[serde(default)]
    pub id: u32,
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
    /// Touchpoints of the business stage this column shows (`stage`) that were taken off this
    /// column by hand. A column that shows a business stage also shows every touchpoint the
    /// business places in that stage, as they are added (the app binds them when it reads the
    /// map), except these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_touchpoints: Vec<TouchpointId>,
}

impl MapStage {
    /// An empty column with this name.
    pub fn named(name: &str) -> MapStage {
        MapStage {
            id: 0,
            stage: None,
            name: name.to_string(),
            goals: Vec::new(),
            actions: Vec::new(),
            thoughts: Vec::new(),
            pain_points: Vec::new(),
            opportunities: Vec::new(),
            touchpoints: Vec::new(),
            emotions: Vec::new(),
            removed_touchpoints: Vec::new(),
        }
    }

    /// Shows the business's touchpoints placed in this column's business stage (`placed`: each
    /// touchpoint with its business stage, in catalogue order): those not listed yet and not
    /// taken off by hand are appended to `touchpoints`. A column showing no business stage keeps
    /// its list as it is.
    pub fn bind_touchpoints(&mut self, placed: &[(TouchpointId, Option<crate::StageId>)]) {
        let Some(stage) = self.stage else { return };
        for &(touchpoint, place) in placed {
            if place == Some(stage) && !self.touchpoints.contains(&touchpoint) && !self.removed_touchpoints.contains(&touchpoint) {
                self.touchpoints.push(touchpoint);
            }
        }
    }

    pub fn lane(&self, lane: Lane) -> &Vec<Card> {
        match lane {
            Lane::Goals => &self.goals,
            Lane::Actions => &self.actions,
            Lane::Thoughts => &self.thoughts,
            Lane::PainPoints => &self.pain_points,
            Lane::Opportunities => &self.opportunities,
        }
    }

    pub fn lane_mut(&mut self, lane: Lane) -> &mut Vec<Card> {
        match lane {
            Lane::Goals => &mut self.goals,
            Lane::Actions => &mut self.actions,
            Lane::Thoughts => &mut self.thoughts,
            Lane::PainPoints => &mut self.pain_points,
            Lane::Opportunities => &mut self.opportunities,
        }
    }

    /// The emotion score of `persona` (None: the map's single curve) at this stage.
    pub fn emotion(&self, persona: Option<PersonaId>) -> Option<f32> {
        self.emotions.iter().find(|e| e.persona == persona).map(|e| e.score)
    }
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

impl Lane {
    /// The card lanes, top to bottom as the map shows them.
    pub const ALL: [Lane; 5] = [Lane::Goals, Lane::Actions, Lane::Thoughts, Lane::PainPoints, Lane::Opportunities];

    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Goals => "goals",
            Lane::Actions => "actions",
            Lane::Thoughts => "thoughts",
            Lane::PainPoints => "pain_points",
            Lane::Opportunities => "opportunities",
        }
    }

    /// The lane's heading as a person reads it.
    pub fn title(self) -> &'static str {
        match self {
            Lane::Goals => "Goals",
            Lane::Actions => "Actions",
            Lane::Thoughts => "Thoughts",
            Lane::PainPoints => "Pain points",
            Lane::Opportunities => "Opportunities",
        }
    }

    /// Reads `goals`, `actions`, `thoughts`, `pain_points` (or `pain-points`) or `opportunities`.
    pub fn parse(text: &str) -> Option<Lane> {
        Lane::ALL.into_iter().find(|l| l.as_str() == text.trim().replace('-', "_"))
    }
}

/// A note on the map; it is backed by evidence or it is an assumption, and the map says which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// Stable within the map; 0 until numbered (see [`JourneyMap::number_items`]).
    #[serde(default)]
    pub id: u32,
    pub text: String,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// For an opportunity: the pain point card (by id) it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<u32>,
    /// For an opportunity the business acts on: who does what by when, and what came of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<CardAction>,
}

/// The action an opportunity became: an owner and a due date, then the change it led to and the
/// KPI to watch before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardAction {
    pub owner: String,
    pub due: Option<NaiveDate>,
    /// The change in the change log this action led to, once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeId>,
    /// The KPI to watch ("checkout conversion").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpi: Option<String>,
    #[serde(default)]
    pub done: bool,
}

impl Card {
    pub fn assumption(text: &str) -> Card {
        Card { id: 0, text: text.to_string(), evidence: Vec::new(), from: None, action: None }
    }

    pub fn is_assumption(&self) -> bool {
        self.evidence.is_empty()
    }
}

/// What a card cites.
///
/// Quotes and answers are cited by reference, so the card shows the words with their source and
/// date as they are stored; a survey score and a metric are computed live for the map's period
/// and persona when the map is shown, never copied onto the card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A metric in the text form changes use (`conversion:checkout_started>purchase:7d`,
    /// `reach:Purchase`, `repeat-rate`, `aov`, `nps`, `csat:Checkout`, `new-customers:Referral`;
    /// see [`crate::METRIC_FORMS`]). Maps written before metrics were computed hold free labels
    /// here ("checkout conversion"); those are shown with the reason they cannot be computed.
    Metric { name: String },
    SurveyAnswer { response: ResponseId, question: QuestionId },
    /// A quote: a note from an interview or focus group, a review, a mention or a survey's
    /// free-text answer (every one is a feedback record).
    Quote { feedback: FeedbackId },
    /// A survey score of a touchpoint or a business stage (neither: the whole business).
    Score {
        score: SurveyScore,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        touchpoint: Option<TouchpointId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<StageId>,
    },
    Note { text: String },
}

/// The survey scores a card can cite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyScore {
    /// Net Promoter Score, -100..100, from 0-10 answers.
    Nps,
    /// Share of satisfied answers (4 or 5 of 5).
    Csat,
    /// Customer effort, the mean of 1-7 answers.
    Ces,
}

impl SurveyScore {
    pub const ALL: [SurveyScore; 3] = [SurveyScore::Nps, SurveyScore::Csat, SurveyScore::Ces];

    pub fn as_str(self) -> &'static str {
        match self {
            SurveyScore::Nps => "nps",
            SurveyScore::Csat => "csat",
            SurveyScore::Ces => "ces",
        }
    }

    pub fn parse(text: &str) -> Option<SurveyScore> {
        SurveyScore::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// The text forms of [`Evidence::parse`], for help texts and error messages.
pub const EVIDENCE_FORMS: &str = "quote:FEEDBACK_ID, answer:RESPONSE_ID:QUESTION_ID, \
     score:nps|csat|ces[:touchpoint:ID|:stage:ID], metric:METRIC (e.g. metric:conversion:checkout_started>purchase:7d), note:TEXT";

impl Evidence {
    /// The kind of evidence, as its serialised tag: `metric`, `survey_answer`, `quote`, `score`
    /// or `note`.
    pub fn kind(&self) -> &'static str {
        match self {
            Evidence::Metric { .. } => "metric",
            Evidence::SurveyAnswer { .. } => "survey_answer",
            Evidence::Quote { .. } => "quote",
            Evidence::Score { .. } => "score",
            Evidence::Note { .. } => "note",
        }
    }

    /// Reads the one-line form of a piece of evidence (see [`EVIDENCE_FORMS`]); a metric must be
    /// one the engine computes ([`crate::ChangeMetric`]). The error says what was expected.
    pub fn parse(text: &str) -> Result<Evidence, String> {
        let text = text.trim();
        let (kind, rest) = text.split_once(':').unwrap_or((text, ""));
        let rest = rest.trim();
        let id = |what: &str, value: &str| -> Result<i64, String> {
            value.trim().parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| format!("{what} must be a positive number, not {value:?}"))
        };
        match kind.trim().to_ascii_lowercase().as_str() {
            "quote" => Ok(Evidence::Quote { feedback: FeedbackId(id("the quote's feedback id", rest)?) }),
            "answer" | "survey_answer" => {
                let (response, question) =
                    rest.split_once(':').ok_or_else(|| format!("an answer is answer:RESPONSE_ID:QUESTION_ID, not {text:?}"))?;
                Ok(Evidence::SurveyAnswer {
                    response: ResponseId(id("the response id", response)?),
                    question: QuestionId(id("the question id", question)?),
                })
            }
            "score" => {
                let mut parts = rest.splitn(3, ':');
                let name = parts.next().unwrap_or("");
                let score = SurveyScore::parse(name).ok_or_else(|| format!("a score is nps, csat or ces, not {name:?}"))?;
                let (mut touchpoint, mut stage) = (None, None);
                match (parts.next().map(str::trim), parts.next()) {
                    (None, _) => {}
                    (Some("touchpoint"), Some(value)) => touchpoint = Some(TouchpointId(id("the touchpoint id", value)?)),
                    (Some("stage"), Some(value)) => stage = Some(StageId(id("the stage id", value)?)),
                    _ => return Err(format!("a score is score:{name}, score:{name}:touchpoint:ID or score:{name}:stage:ID, not {text:?}")),
                }
                Ok(Evidence::Score { score, touchpoint, stage })
            }
            "metric" => {
                rest.parse::<crate::ChangeMetric>().map_err(|e| e.to_string())?;
                Ok(Evidence::Metric { name: rest.to_string() })
            }
            "note" if !rest.is_empty() => Ok(Evidence::Note { text: rest.to_string() }),
            "note" => Err("a note needs its text: note:TEXT".to_string()),
            _ => Err(format!("evidence is one of {EVIDENCE_FORMS}, not {text:?}")),
        }
    }
}

impl std::fmt::Display for Evidence {
    /// The form [`Evidence::parse`] reads back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Evidence::Quote { feedback } => write!(f, "quote:{}", feedback.0),
            Evidence::SurveyAnswer { response, question } => write!(f, "answer:{}:{}", response.0, question.0),
            Evidence::Score { score, touchpoint: Some(t), .. } => write!(f, "score:{}:touchpoint:{}", score.as_str(), t.0),
            Evidence::Score { score, stage: Some(s), .. } => write!(f, "score:{}:stage:{}", score.as_str(), s.0),
            Evidence::Score { score, .. } => write!(f, "score:{}", score.as_str()),
            Evidence::Metric { name } => write!(f, "metric:{name}"),
            Evidence::Note { text } => write!(f, "note:{text}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> JourneyMap {
        let mut first = MapStage::named("Awareness");
        first.goals.push(Card::assumption("Find coffee"));
        first.pain_points.push(Card { id: 7, ..Card::assumption("Queues") });
        let mut second = MapStage { id: 4, ..MapStage::named("Purchase") };
        second.opportunities.push(Card::assumption("Second till"));
        JourneyMap {
            id: MapId(1),
            business: BusinessId(1),
            name: "m".into(),
            kind: MapVersionKind::AsIs,
            owner: None,
            review_date: None,
            personas: vec![],
            stages: vec![first, second],
            as_is: None,
        }
    }

    #[test]
    fn numbering_fills_only_missing_ids_in_document_order() {
        let mut m = map();
        m.number_items();
        assert_eq!(m.stages.iter().map(|s| s.id).collect::<Vec<_>>(), vec![5, 4]);
        assert_eq!(m.cards().map(|(_, _, c)| c.id).collect::<Vec<_>>(), vec![8, 7, 9]);
        let again = { let mut n = m.clone(); n.number_items(); n };
        assert_eq!(again, m, "numbering twice changes nothing");
        assert_eq!(m.card(9).map(|(s, l, c)| (s.id, l, c.text.as_str())), Some((4, Lane::Opportunities, "Second till")));
    }

    #[test]
    fn old_documents_without_ids_still_read() {
        let json = r#"{"id":3,"business":1,"name":"x","kind":"to_be","owner":null,"review_date":null,"personas":[],
            "stages":[{"stage":null,"name":"A","goals":[{"text":"g"}],"actions":[],"thoughts":[],"pain_points":[],
            "opportunities":[],"touchpoints":[],"emotions":[{"persona":null,"score":-1.5}]}]}"#;
        let m: JourneyMap = serde_json::from_str(json).expect("an old map reads");
        assert_eq!((m.stages[0].id, m.stages[0].goals[0].id, m.as_is), (0, 0, None));
        assert_eq!(m.stages[0].emotion(None), Some(-1.5));
        assert_eq!(Lane::parse("pain-points"), Some(Lane::PainPoints));
        assert_eq!(Evidence::Note { text: "n".into() }.kind(), "note");
    }

    #[test]
    fn evidence_reads_its_text_form_and_writes_it_back() {
        for text in [
            "quote:12",
            "answer:5:3",
            "score:nps",
            "score:csat:touchpoint:4",
            "score:ces:stage:2",
            "metric:conversion:checkout_started>purchase:7d",
            "metric:new-customers:Referral",
            "note:Heard at the till",
        ] {
            let evidence = Evidence::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(evidence.to_string(), text);
        }
        assert_eq!(Evidence::parse("score:csat:touchpoint:4"), Ok(Evidence::Score { score: SurveyScore::Csat, touchpoint: Some(TouchpointId(4)), stage: None }));
        for (text, expected) in [
            ("quote:x", "positive number"),
            ("quote:-1", "positive number"),
            ("answer:5", "answer:RESPONSE_ID:QUESTION_ID"),
            ("score:wow", "nps, csat or ces"),
            ("score:nps:persona:1", "score:nps:touchpoint:ID"),
            ("metric:checkout conversion", "conversion:FROM>TO"),
            ("note:", "needs its text"),
            ("hunch", "evidence is one of"),
        ] {
            let error = Evidence::parse(text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
        let old = r#"{"kind":"score","score":"nps"}"#;
        assert_eq!(serde_json::from_str::<Evidence>(old).ok(), Some(Evidence::Score { score: SurveyScore::Nps, touchpoint: None, stage: None }));
    }
}
