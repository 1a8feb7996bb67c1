//! Public survey links beyond the [`crate::Store`] trait: each survey may have one random public
//! token, the address of its page for respondents (`/s/{token}`). Like map share links, each call
//! here is one small statement of its own, outside the business data's write transactions: a link
//! is a setting of the survey, not data the analyses read. The token is made by the app; this
//! module only keeps it and finds the survey by it.

use crate::{Result, SqliteStore, StoreError};
use rusqlite::{OptionalExtension, params};
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

impl SurveyLinkStore for SqliteStore {
    fn set_survey_token(&mut self, survey: SurveyId, token: Option<&str>) -> Result<()> {
        let changed = self
            .conn
            .execute("UPDATE surveys SET public_token = ?2 WHERE id = ?1", params![survey.0, token])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::Conflict("another survey has this public token".into())
                }
                other => other.into(),
            })?;
        if changed == 0 {
            return Err(StoreError::NotFound { what: "survey", id: survey.0 });
        }
        Ok(())
    }

    fn survey_token(&self, survey: SurveyId) -> Result<Option<String>> {
        let row: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT public_token FROM surveys WHERE id = ?1")?
            .query_row([survey.0], |r| r.get(0))
            .optional()?;
        row.ok_or(StoreError::NotFound { what: "survey", id: survey.0 })
    }

    fn survey_by_token(&self, token: &str) -> Result<Option<(BusinessId, SurveyId)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT business, id FROM surveys WHERE public_token = ?1")?
            .query_row([token], |r| Ok((BusinessId(r.get(0)?), SurveyId(r.get(1)?))))
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use trailmap_model::{Question, QuestionId, QuestionKind, Survey};

    fn survey(store: &mut SqliteStore, business: BusinessId, name: &str) -> SurveyId {
        let s = Survey {
            id: SurveyId(0),
            business,
            name: name.into(),
            touchpoint: None,
            stage: None,
            questions: vec![Question { id: QuestionId(1), text: "Q".into(), kind: QuestionKind::Nps, required: true, skip: None }],
        };
        let mut id = None;
        store
            .write::<StoreError>(&mut |w| {
                id = Some(w.create_survey(&s)?.id);
                Ok(())
            })
            .unwrap();
        id.unwrap()
    }

    #[test]
    fn tokens_are_set_found_unique_and_removed() {
        let mut store = SqliteStore::in_memory().unwrap();
        let mut business = None;
        store
            .write::<StoreError>(&mut |w| {
                business = Some(w.create_business("Shop", trailmap_model::Currency::parse("USD").unwrap(), "UTC")?.0.id);
                Ok(())
            })
            .unwrap();
        let business = business.unwrap();
        let a = survey(&mut store, business, "A");
        let b = survey(&mut store, business, "B");
        assert_eq!(store.survey_token(a).unwrap(), None);
        store.set_survey_token(a, Some("tok-a")).unwrap();
        assert_eq!(store.survey_token(a).unwrap().as_deref(), Some("tok-a"));
        assert_eq!(store.survey_by_token("tok-a").unwrap(), Some((business, a)));
        assert_eq!(store.survey_by_token("nope").unwrap(), None);
        assert!(matches!(store.set_survey_token(b, Some("tok-a")), Err(StoreError::Conflict(_))));
        assert!(matches!(store.set_survey_token(SurveyId(999), Some("x")), Err(StoreError::NotFound { .. })));
        assert!(matches!(store.survey_token(SurveyId(999)), Err(StoreError::NotFound { .. })));
        store.set_survey_token(a, None).unwrap();
        assert_eq!(store.survey_by_token("tok-a").unwrap(), None);
    }
}
