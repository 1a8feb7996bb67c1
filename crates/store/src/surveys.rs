//! Public survey links beyond the [`crate::Store`] trait: each survey may have one random public
//! token, the address of its page for respondents (`/s/{token}`). Like map share links, each call
//! here is one small statement of its own, outside the business data's write transactions: a link
//! is a setting of the survey, not data the analyses read. The token is made by the app; this
//! module only keeps it and finds the survey by it.

use crate::Result;
use trailmap_model::{BusinessId, SurveyId};

/// Survey link queries behind a trait, as the rest of the store is, so another backend can
/// provide them.
pub trait SurveyLinkStore {
    /// Sets (or with None removes) the survey's public token; `StoreError::NotFound` when there is
    /// no such survey, `StoreError::Conflict` when another survey has the token.
    fn set_survey_token(&mut self, survey: SurveyId, token: Option<&str>) -> Result<()>;
    /// The survey's public token, when it has one; `StoreError::NotFound` when there is no such
    /// survey.
    fn survey_token(&self, survey: SurveyId) -> Result<Option<String>>;
    /// The survey (and its business) whose public token is `token`.
    fn survey_by_token(&self, token: &str) -> Result<Option<(BusinessId, SurveyId)>>;
}
