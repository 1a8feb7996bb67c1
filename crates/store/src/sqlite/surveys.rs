//! The SQLite implementation of the surveys traits (see `crate::surveys`).

use crate::{Result, SqliteStore, StoreError};
use rusqlite::{OptionalExtension, params};
use trailmap_model::{BusinessId, SurveyId};
use crate::*;



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
