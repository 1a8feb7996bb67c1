//! Public survey links: the random token that makes a survey answerable at `/s/{token}` without an
//! account, and the checking and storing of what a respondent submits there.
//!
//! Skip logic is applied on one page: every question is shown, and a question whose skip rule
//! matches an earlier answer is skipped, which means its answer is ignored (not stored) and it is
//! not required. Answers are checked against their question's kind (NPS 0-10, CSAT 1-5, CES 1-7,
//! a rating's scale, a choice among the options), a free-text answer may hold at most
//! `MAX_ANSWER_CHARS` characters, and every problem names its question by number and text. The
//! hidden fields `customer_id`, `email` and `order_id` are stored with the response and join it
//! to the customer (the order through its stored order number); free-text answers are also
//! stored as feedback, as form imports do, so themes see them.

use crate::surveys::survey_text_feedback;
use crate::{AppError, Result};
use std::collections::BTreeMap;
use trailmap_model::{
    Answer, AnswerValue, Business, Identity, IncomingResponse, Question, QuestionId,
    QuestionKind, Survey, SurveyId, Timestamp,
};
use trailmap_store::IncrementalReads;
use trailmap_store::{Store, StoreError, SurveyLinkStore};

/// The longest answer (in characters) a respondent may give to one question.
pub const MAX_ANSWER_CHARS: usize = 2_000;

/// The hidden fields a public link may carry in its query string, kept on the response.
pub const HIDDEN_FIELDS: [&str; 3] = ["customer_id", "order_id", "email"];

/// Characters of a new public token (alphanumeric, about 190 bits).
const TOKEN_CHARS: usize = 32;

/// A survey found by its public token, with its business.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicSurvey {
    pub business: Business,
    pub survey: Survey,
}

/// What a respondent sent: the values given per question (several for a multiple choice; empty
/// strings are no answer) and the hidden fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Submission {
    pub answers: BTreeMap<QuestionId, Vec<String>>,
    pub hidden: BTreeMap<String, String>,
}

/// One problem with a submission, naming the question.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("question {number} ({text:?}): {reason}")]
pub struct AnswerProblem {
    pub question: QuestionId,
    /// The question's number on the page, from 1.
    pub number: usize,
    pub text: String,
    pub reason: String,
}

/// Whether `question` is skipped given the answers so far: its rule's question was answered with
/// one of the rule's values (numbers compared as numbers, texts without regard to case).
pub fn is_skipped(question: &Question, answers: &[Answer]) -> bool {
    let Some(rule) = &question.skip else { return false };
    let Some(answer) = answers.iter().find(|a| a.question == rule.question) else { return false };
    let given: Vec<String> = match &answer.value {
        AnswerValue::Number(x) => vec![x.to_string()],
        AnswerValue::Choices(c) => c.clone(),
        AnswerValue::Text(t) => vec![t.clone()],
    };
    rule.values.iter().any(|v| {
        given.iter().any(|g| match (v.trim().parse::<f64>(), g.trim().parse::<f64>()) {
            (Ok(a), Ok(b)) => a == b,
            _ => v.trim().eq_ignore_ascii_case(g.trim()),
        })
    })
}

/// The lowest and highest answer of a scale question, or None for choices and free text.
pub fn scale(kind: &QuestionKind) -> Option<(u8, u8)> {
    match kind {
        QuestionKind::Nps => Some((0, 10)),
        QuestionKind::Csat => Some((1, 5)),
        QuestionKind::Ces => Some((1, 7)),
        // A rating out of 10 runs from 0, as form tools' opinion scales do; smaller ones from 1.
        QuestionKind::Rating { max } => Some((if *max >= 10 { 0 } else { 1 }, *max)),
        _ => None,
    }
}

/// Checks a submission against the survey's questions, in order (skip rules see the answers
/// before them), and gives the answers to store, or every problem found.
pub fn check_submission(survey: &Survey, submission: &Submission) -> std::result::Result<Vec<Answer>, Vec<AnswerProblem>> {
    let mut answers: Vec<Answer> = Vec::new();
    let mut problems = Vec::new();
    for (i, q) in survey.questions.iter().enumerate() {
        if is_skipped(q, &answers) {
            continue;
        }
        let problem = |reason: String| AnswerProblem { question: q.id, number: i + 1, text: q.text.clone(), reason };
        let given: Vec<&str> = submission
            .answers
            .get(&q.id)
            .map(|values| values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect())
            .unwrap_or_default();
        if let Some(long) = given.iter().find(|v| v.chars().count() > MAX_ANSWER_CHARS) {
            problems.push(problem(format!(
                "the answer has {} characters; at most {MAX_ANSWER_CHARS} are accepted",
                long.chars().count()
            )));
            continue;
        }
        // The text rules every way in keeps (a bell or a NUL in a form post is never an answer);
        // free text may span lines, as a text area sends them.
        if let Some(refused) = given.iter().find_map(|v| trailmap_ingest::text::check(v, trailmap_ingest::TextRule::TEXT).err()) {
            problems.push(problem(format!("the answer holds {refused}")));
            continue;
        }
        if given.is_empty() {
            if q.required {
                problems.push(problem("this question needs an answer".into()));
            }
            continue;
        }
        let value = match &q.kind {
            QuestionKind::FreeText => AnswerValue::Text(given.join("\n")),
            QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => {
                if given.len() > 1 && matches!(q.kind, QuestionKind::SingleChoice { .. }) {
                    problems.push(problem("choose one option only".into()));
                    continue;
                }
                let mut chosen: Vec<String> = Vec::new();
                let mut unknown = None;
                for g in &given {
                    match options.iter().find(|o| o.eq_ignore_ascii_case(g)) {
                        Some(o) if !chosen.contains(o) => chosen.push(o.clone()),
                        Some(_) => {}
                        None => unknown = unknown.or(Some(*g)),
                    }
                }
                if let Some(g) = unknown {
                    problems.push(problem(format!("{g:?} is not one of the options ({})", options.join(" | "))));
                    continue;
                }
                AnswerValue::Choices(chosen)
            }
            kind => {
                let (lo, hi) = scale(kind).unwrap_or((0, 10));
                match (given.len(), given[0].parse::<f64>()) {
                    (1, Ok(x)) if x.fract() == 0.0 && (f64::from(lo)..=f64::from(hi)).contains(&x) => AnswerValue::Number(x),
                    _ => {
                        problems.push(problem(format!("choose a whole number from {lo} to {hi}")));
                        continue;
                    }
                }
            }
        };
        answers.push(Answer { question: q.id, value });
    }
    if problems.is_empty() { Ok(answers) } else { Err(problems) }
}

/// What a public form post gives: the values of the fields named `q{ID}` for the survey's
/// questions (several for a multiple choice, in the order posted) and the hidden fields. Other
/// fields (the honeypot, the signed start time, unknown names) are left out.
pub fn form_submission(survey: &Survey, pairs: &[(String, String)]) -> Submission {
    let hidden = hidden_fields(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut answers: BTreeMap<QuestionId, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        if let Some(id) = k.strip_prefix('q').and_then(|id| id.parse::<i64>().ok())
            && survey.questions.iter().any(|q| q.id.0 == id)
        {
            answers.entry(QuestionId(id)).or_default().push(v.clone());
        }
    }
    Submission { answers, hidden }
}

/// The hidden fields kept from a link's query string: the known names only, trimmed, non-empty, at
/// most `MAX_ANSWER_CHARS` characters and within the text rules of one line (no control
/// character), like every other text that comes in.
pub fn hidden_fields<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter(|(k, v)| {
            HIDDEN_FIELDS.contains(k)
                && !v.trim().is_empty()
                && v.chars().count() <= MAX_ANSWER_CHARS
                && trailmap_ingest::text::check(v.trim(), trailmap_ingest::TextRule::LINE).is_ok()
        })
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

fn new_token() -> String {
    crate::accounts::random_token(TOKEN_CHARS)
}

impl crate::App {
    fn business_survey(&self, business: &Business, survey: SurveyId) -> Result<Survey> {
        self.store
            .surveys(business.id)?
            .into_iter()
            .find(|s| s.id == survey)
            .ok_or_else(|| AppError::NotFound(format!("survey {} does not exist in {}", survey.0, business.name)))
    }

    /// The survey's public token, when it has one.
    pub fn survey_link(&self, business: &Business, survey: SurveyId) -> Result<Option<String>> {
        self.business_survey(business, survey)?;
        Ok(self.store.survey_token(survey)?)
    }

    /// The survey's public token, made when it has none yet.
    pub fn ensure_survey_link(&mut self, business: &Business, survey: SurveyId) -> Result<String> {
        match self.survey_link(business, survey)? {
            Some(token) => Ok(token),
            None => self.rotate_survey_link(business, survey),
        }
    }

    /// Gives the survey a new public token; the old link stops working.
    pub fn rotate_survey_link(&mut self, business: &Business, survey: SurveyId) -> Result<String> {
        self.business_survey(business, survey)?;
        let token = new_token();
        self.store.set_survey_token(survey, Some(&token))?;
        Ok(token)
    }

    /// The survey whose public token is `token`; `AppError::NotFound` when none is.
    pub fn survey_by_token(&self, token: &str) -> Result<PublicSurvey> {
        let not_found = || AppError::NotFound("no survey has this link; it may have been replaced by a new one".into());
        if token.is_empty() || token.len() > 128 {
            return Err(not_found());
        }
        let (business_id, survey_id) = self.store.survey_by_token(token)?.ok_or_else(not_found)?;
        let business = self.store.businesses()?.into_iter().find(|b| b.id == business_id).ok_or_else(not_found)?;
        let survey = self.business_survey(&business, survey_id)?;
        Ok(PublicSurvey { business, survey })
    }

    /// Checks and stores a response given through the survey's public link at `now`, joined to the
    /// customer its hidden fields name. An invalid submission is `AppError::Invalid` naming every
    /// question at fault (the page checks with `check_submission` first to show them in place).
    /// Returns the survey.
    pub fn submit_public_response(&mut self, token: &str, submission: &Submission, now: Timestamp) -> Result<Survey> {
        let PublicSurvey { business, survey } = self.survey_by_token(token)?;
        let answers = check_submission(&survey, submission).map_err(|problems| {
            AppError::Invalid(problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
        })?;
        let hidden = hidden_fields(submission.hidden.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut customer: Vec<Identity> = Vec::new();
        customer.extend(hidden.get("customer_id").and_then(|v| Identity::external(v)));
        customer.extend(hidden.get("email").and_then(|v| Identity::email(v)));
        if customer.is_empty()
            && let Some(number) = hidden.get("order_id")
            && let Some(buyer) = self.store.order_customer(business.id, number)?
        {
            let c = self.store.customer(buyer)?;
            customer.extend(c.external_id.as_deref().and_then(Identity::external).or_else(|| c.email.as_deref().and_then(Identity::email)));
        }
        let touchpoint = self.touchpoint_name(&business, survey.touchpoint)?;
        let incoming = IncomingResponse { survey: survey.id, customer: customer.clone(), submitted_at: now, hidden, answers };
        self.store.write::<StoreError>(&mut |w| {
            w.add_response(business.id, &incoming)?;
            for feedback in survey_text_feedback(&survey.name, &incoming, &touchpoint) {
                w.add_feedback(business.id, &feedback)?;
            }
            Ok(())
        })?;
        Ok(survey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailmap_model::SkipRule;

    fn q(id: i64, kind: QuestionKind, required: bool, skip: Option<SkipRule>) -> Question {
        Question { id: QuestionId(id), text: format!("Question {id}"), kind, required, skip }
    }

    fn survey() -> Survey {
        Survey {
            id: SurveyId(1),
            business: trailmap_model::BusinessId(1),
            name: "S".into(),
            touchpoint: None,
            stage: None,
            questions: vec![
                q(10, QuestionKind::Nps, true, None),
                q(11, QuestionKind::FreeText, true, Some(SkipRule { question: QuestionId(10), values: vec!["9".into(), "10".into()] })),
                q(12, QuestionKind::MultipleChoice { options: vec!["Price".into(), "Shipping".into()] }, false, None),
                q(13, QuestionKind::Rating { max: 10 }, false, None),
            ],
        }
    }

    fn submit(pairs: &[(i64, &str)]) -> Submission {
        let mut s = Submission::default();
        for (id, v) in pairs {
            s.answers.entry(QuestionId(*id)).or_default().push((*v).to_string());
        }
        s
    }

    #[test]
    fn a_skipped_question_is_not_required_and_its_answer_is_ignored() {
        let answers = check_submission(&survey(), &submit(&[(10, "9"), (11, "ignored")])).unwrap();
        assert_eq!(answers, vec![Answer { question: QuestionId(10), value: AnswerValue::Number(9.0) }]);
        let problems = check_submission(&survey(), &submit(&[(10, "3")])).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].number, problems[0].reason.as_str()), (2, "this question needs an answer"));
    }

    #[test]
    fn answers_are_checked_against_their_kind() {
        let problems = check_submission(&survey(), &submit(&[(10, "11"), (12, "Postage"), (13, "0")])).unwrap_err();
        let numbers: Vec<usize> = problems.iter().map(|p| p.number).collect();
        // Question 2 is not skipped, because question 1 has no valid answer, and it is required.
        assert_eq!(numbers, vec![1, 2, 3], "{problems:?}");
        assert!(problems[0].reason.contains("from 0 to 10"));
        assert!(problems[2].reason.contains("\"Postage\""));
        let ok = check_submission(&survey(), &submit(&[(10, "10"), (12, "price"), (12, "Shipping"), (13, "0")])).unwrap();
        assert_eq!(ok[1].value, AnswerValue::Choices(vec!["Price".into(), "Shipping".into()]));
        assert_eq!(ok[2].value, AnswerValue::Number(0.0));
        assert!(check_submission(&survey(), &submit(&[(10, "7.5")])).is_err());
    }

    #[test]
    fn long_answers_are_refused_at_the_limit() {
        let at_limit = "a".repeat(MAX_ANSWER_CHARS);
        assert!(check_submission(&survey(), &submit(&[(10, "1"), (11, &at_limit)])).is_ok());
        let over = "é".repeat(MAX_ANSWER_CHARS + 1);
        let problems = check_submission(&survey(), &submit(&[(10, "1"), (11, &over)])).unwrap_err();
        assert!(problems[0].reason.contains("2001 characters"), "{problems:?}");
    }

    #[test]
    fn only_known_hidden_fields_are_kept() {
        let kept = hidden_fields([("customer_id", " C-1 "), ("utm_source", "x"), ("email", ""), ("order_id", "1001")]);
        assert_eq!(kept.into_iter().collect::<Vec<_>>(), vec![("customer_id".into(), "C-1".into()), ("order_id".into(), "1001".into())]);
    }
}
