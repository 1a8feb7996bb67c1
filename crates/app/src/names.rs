//! The names a page's choices and labels are made of: a business's stages, touchpoints and
//! personas, each with its id, read in one snapshot; and the few stored records the pages show
//! beside an analysis (a survey's latest answers, the quotes a shared map cites). The server reads
//! them here because it does not reach the store itself.

use crate::{App, AppError, Result};
use std::collections::{HashMap, HashSet};
use trailmap_model::{Business, BusinessId, FeedbackId, PersonaId, Survey, SurveyId, SurveyResponse, TouchpointId};
use trailmap_store::Store;

/// A business's stages, touchpoints and personas by name, in the order its people arranged them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BusinessNames {
    pub stages: Vec<String>,
    pub touchpoints: Vec<(TouchpointId, String)>,
    pub personas: Vec<(PersonaId, String)>,
}

impl BusinessNames {
    pub fn touchpoint_names(&self) -> Vec<String> {
        self.touchpoints.iter().map(|(_, name)| name.clone()).collect()
    }

    pub fn persona_names(&self) -> Vec<String> {
        self.personas.iter().map(|(_, name)| name.clone()).collect()
    }
}

impl App {
    /// The business's stage, touchpoint and persona names (see [`BusinessNames`]).
    pub fn names(&self, business: BusinessId) -> Result<BusinessNames> {
        let store = self.store();
        Ok(store.snapshot(|store| {
            Ok(BusinessNames {
                stages: store.stages(business)?.into_iter().map(|s| s.name).collect(),
                touchpoints: store.touchpoints(business)?.into_iter().map(|t| (t.id, t.name)).collect(),
                personas: store.personas(business)?.into_iter().map(|p| (p.id, p.name)).collect(),
            })
        })?)
    }

    /// The survey `id` of the business, as stored; `NotFound` naming the business when it has none.
    pub fn survey(&self, business: &Business, id: SurveyId) -> Result<Survey> {
        self.store()
            .surveys(business.id)?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| AppError::NotFound(format!("survey {} does not exist in {}", id.0, business.name)))
    }

    /// The survey's newest `limit` answers, newest first.
    pub fn latest_responses(&self, business: &Business, survey: SurveyId, limit: usize) -> Result<Vec<SurveyResponse>> {
        // The survey is looked up in the business first, so another business's answers never show.
        self.survey(business, survey)?;
        let mut responses = self.store().responses(survey)?;
        responses.sort_by_key(|r| std::cmp::Reverse(r.submitted_at));
        responses.truncate(limit);
        Ok(responses)
    }

    /// The texts of these feedback records of the business (others are left out).
    pub fn feedback_texts(&self, business: BusinessId, ids: &HashSet<FeedbackId>) -> Result<HashMap<FeedbackId, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let feedback = self.store().feedback(business)?;
        Ok(feedback.into_iter().filter(|f| ids.contains(&f.id)).map(|f| (f.id, f.text)).collect())
    }
}
