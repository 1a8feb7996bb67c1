//! The evidence a journey map's cards cite, as the editor needs it: the quote picker (the
//! business's feedback texts tied to a stage's touchpoints, most negative first, searchable by
//! text), and the check that an edit's evidence belongs to the business.
//!
//! Decisions a caller should know:
//! - A stage's quotes are the feedback texts whose touchpoint sits on that map stage; a stage
//!   without touchpoints has none.
//! - Order: the most negative VADER compound score first (pain points want the complaints), the
//!   newest first among equal scores, then by id, so the order is the same on every read.
//! - The search keeps texts containing the words typed, ignoring case; an empty search keeps all.

use crate::maps::MapEdit;
use crate::{App, AppError, Result};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use trailmap_analytics::voice::SentimentScorer;
use trailmap_model::{Business, Evidence, FeedbackId, JourneyMap, MapId, Timestamp, TouchpointId};
use trailmap_store::Store;

/// One feedback text offered as a quote for a card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuoteCandidate {
    pub feedback: FeedbackId,
    pub time: Timestamp,
    pub touchpoint: TouchpointId,
    pub touchpoint_name: String,
    pub source: String,
    /// On the 1-5 scale, when the source rated.
    pub rating: Option<f32>,
    pub text: String,
    /// VADER compound score, -1..1.
    pub compound: f64,
}

/// The quotes of one map stage that match a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageQuotes {
    pub stage: u32,
    /// Every text of the stage matching the search (the list may be cut to the limit).
    pub n: usize,
    pub quotes: Vec<QuoteCandidate>,
}

/// Whether `text` contains `search`, ignoring case; an empty search matches everything.
fn matches(text: &str, search: &str) -> bool {
    let search = search.trim();
    search.is_empty() || text.to_lowercase().contains(&search.to_lowercase())
}

/// The quotes of every stage of `map` from `feedback` (already scored), each list cut to `limit`.
fn quotes_by_stage(map: &JourneyMap, scored: &[QuoteCandidate], search: &str, limit: usize) -> BTreeMap<u32, StageQuotes> {
    map.stages
        .iter()
        .map(|stage| {
            let mut quotes: Vec<QuoteCandidate> =
                scored.iter().filter(|q| stage.touchpoints.contains(&q.touchpoint) && matches(&q.text, search)).cloned().collect();
            quotes.sort_by(|a, b| a.compound.total_cmp(&b.compound).then(b.time.cmp(&a.time)).then(a.feedback.cmp(&b.feedback)));
            let n = quotes.len();
            quotes.truncate(limit);
            (stage.id, StageQuotes { stage: stage.id, n, quotes })
        })
        .collect()
}

/// The quote picker lists at most this many quotes per stage unless asked; the search narrows
/// them.
pub const PICKER_QUOTES: usize = 40;

impl App {
    /// The business's feedback texts tied to a touchpoint, each with its sentiment.
    fn scored_feedback(&self, business: &Business) -> Result<Vec<QuoteCandidate>> {
        let names: HashMap<TouchpointId, String> = self.store().touchpoints(business.id)?.into_iter().map(|t| (t.id, t.name)).collect();
        let scorer = SentimentScorer::new();
        Ok(self
            .store()
            .feedback(business.id)?
            .into_iter()
            .filter_map(|f| {
                let touchpoint = f.touchpoint?;
                Some(QuoteCandidate {
                    feedback: f.id,
                    time: f.time,
                    touchpoint,
                    touchpoint_name: names.get(&touchpoint).cloned().unwrap_or_default(),
                    source: f.source,
                    rating: f.rating,
                    compound: scorer.score(&f.text).compound,
                    text: f.text,
                })
            })
            .collect())
    }

    /// The quote picker of every stage of a map: per stage, at most `limit` quotes matching
    /// `search` (see the module's note on order).
    pub fn map_quotes(&self, business: &Business, map: &JourneyMap, search: &str, limit: usize) -> Result<BTreeMap<u32, StageQuotes>> {
        let scored = self.scored_feedback(business)?;
        Ok(quotes_by_stage(map, &scored, search, limit))
    }

    /// The quote picker of one stage of a stored map; an unknown stage is an error naming it.
    pub fn stage_quotes(&self, business: &Business, map: MapId, stage: u32, search: &str, limit: usize) -> Result<StageQuotes> {
        let map = self.journey_map(business, map)?.map;
        if map.stage(stage).is_none() {
            return Err(AppError::Invalid(format!("stage: the map has no stage {stage}")));
        }
        let mut all = self.map_quotes(business, &map, search, limit)?;
        all.remove(&stage).ok_or_else(|| AppError::Invalid(format!("stage: the map has no stage {stage}")))
    }

    /// Checks the evidence an edit cites: quotes and answers must be the business's own, a
    /// score's touchpoint or stage the business's, a metric one the engine computes. Evidence the
    /// card already cites passes unchanged, so a card keeping an old free-text metric label can
    /// still be edited. Other edits pass.
    pub fn check_map_evidence(&self, business: &Business, edit: &MapEdit) -> Result<()> {
        self.check_new_evidence(business, edit, &[])
    }

    /// [`App::check_map_evidence`] with the evidence the card cites already (`cited`) let through.
    pub(crate) fn check_new_evidence(&self, business: &Business, edit: &MapEdit, cited: &[Evidence]) -> Result<()> {
        let MapEdit::EditCard { evidence, .. } = edit else { return Ok(()) };
        let new: Vec<(usize, &Evidence)> = evidence.iter().enumerate().filter(|(_, e)| !cited.contains(e)).collect();
        if new.is_empty() {
            return Ok(());
        }
        let wrong = |i: usize, reason: String| AppError::InvalidField { field: format!("evidence {}", i + 1), value: None, reason };
        let data = self.business_data(business.id)?;
        for (i, e) in new {
            match e {
                Evidence::Quote { feedback } => {
                    if !data.feedback().iter().any(|f| f.id == *feedback) {
                        return Err(wrong(i, format!("{} has no feedback {feedback}", business.name)));
                    }
                }
                Evidence::SurveyAnswer { response, question } => {
                    let answered = data.responses().iter().any(|r| r.id == *response && r.answers.iter().any(|a| a.question == *question));
                    if !answered {
                        return Err(wrong(i, format!("{} has no answer to question {question} in response {response}", business.name)));
                    }
                }
                Evidence::Score { touchpoint, stage, .. } => {
                    if let Some(t) = touchpoint
                        && !self.store().touchpoints(business.id)?.iter().any(|x| x.id == *t)
                    {
                        return Err(wrong(i, format!("{} has no touchpoint {t}", business.name)));
                    }
                    if let Some(s) = stage
                        && !self.store().stages(business.id)?.iter().any(|x| x.id == *s)
                    {
                        return Err(wrong(i, format!("{} has no stage {s}", business.name)));
                    }
                }
                Evidence::Metric { name } => {
                    name.parse::<trailmap_model::ChangeMetric>().map_err(|e| wrong(i, e.to_string()))?;
                }
                Evidence::Note { .. } => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailmap_model::{MapStage, MapVersionKind};

    fn quote(id: i64, touchpoint: i64, time: i64, text: &str, compound: f64) -> QuoteCandidate {
        QuoteCandidate {
            feedback: FeedbackId(id),
            time: Timestamp::from_millis(time),
            touchpoint: TouchpointId(touchpoint),
            touchpoint_name: String::new(),
            source: "google".into(),
            rating: None,
            text: text.into(),
            compound,
        }
    }

    #[test]
    fn a_stage_gets_its_touchpoints_quotes_most_negative_then_newest_first_filtered_and_cut() {
        let mut checkout = MapStage { id: 3, ..MapStage::named("Purchase") };
        checkout.touchpoints = vec![TouchpointId(7)];
        let empty = MapStage { id: 4, ..MapStage::named("Retention") };
        let map = JourneyMap {
            id: MapId(1),
            business: trailmap_model::BusinessId(1),
            name: "m".into(),
            kind: MapVersionKind::AsIs,
            owner: None,
            review_date: None,
            personas: Vec::new(),
            stages: vec![checkout, empty],
            as_is: None,
        };
        let scored = vec![
            quote(1, 7, 10, "Shipping cost a fortune", -0.6),
            quote(2, 7, 20, "Lovely dress", 0.8),
            quote(3, 7, 30, "SHIPPING was slow", -0.6),
            quote(4, 8, 40, "Shipping is awful", -0.9),
        ];
        let all = quotes_by_stage(&map, &scored, "", 10);
        let ids: Vec<i64> = all[&3].quotes.iter().map(|q| q.feedback.0).collect();
        // Equal scores: the newer (3, time 30) before the older (1); the other touchpoint's text is out.
        assert_eq!(ids, [3, 1, 2]);
        assert_eq!((all[&4].n, all[&4].quotes.len()), (0, 0));
        let searched = quotes_by_stage(&map, &scored, " shipping ", 1);
        assert_eq!(searched[&3].n, 2);
        assert_eq!(searched[&3].quotes.iter().map(|q| q.feedback.0).collect::<Vec<_>>(), [3]);
    }
}
