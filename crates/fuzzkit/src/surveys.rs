//! The survey targets: a public survey form post (the body of `POST /s/{token}`, read as the
//! server reads it and stored through the app), one answer cell of a Google Forms or Typeform
//! export read by `forms::answer_value`, and a whole export read by `forms::read_form`.
//!
//! What must hold: an accepted post's answers fit their questions (a whole number on the scale,
//! options of the question, at most the answer limit, required questions answered unless
//! skipped) and keep the text rules, and it stores; a refused one names questions of the survey
//! by their number. An answer cell read as a scale is a finite number on it. An export's row
//! errors name the file and a line inside it.

use crate::{Outcome, assert_clean_text, json_of, line_count};
use std::cell::RefCell;
use trailmap_app::App;
use trailmap_app::survey_links::{MAX_ANSWER_CHARS, check_submission, form_submission, is_skipped, scale};
use trailmap_ingest::forms::{FormLayout, answer_value, read_form};
use trailmap_model::{AnswerValue, QuestionKind, Survey, Timestamp};

/// A survey with a question of every kind and a skip rule, as a definition file writes it.
const DEFINITION: &str = r#"
name = "Fuzzed survey"
stage = "Purchase"

[[questions]]
text = "How likely are you to recommend us to a friend?"
kind = "nps"
required = true

[[questions]]
text = "What stopped you from ordering more?"
kind = "single_choice"
options = ["Price", "Shipping cost", "Other"]
skip_if = { question = 1, values = [9, 10] }

[[questions]]
text = "Which did you use?"
kind = "multiple_choice"
options = ["Web", "Phone", "Shop, in person"]

[[questions]]
text = "How satisfied are you?"
kind = "csat"

[[questions]]
text = "How easy was it?"
kind = "ces"

[[questions]]
text = "Rate the packaging"
kind = "rating"
max = 10

[[questions]]
text = "Rate the delivery"
kind = "rating"
max = 3

[[questions]]
text = "Anything else?"
kind = "free_text"
"#;

/// Stored posts after which the store is made anew, so millions of runs stay in bounded memory.
const POSTS_PER_STORE: u32 = 2_000;

struct SurveyApp {
    app: App,
    token: String,
    survey: Survey,
    stored: u32,
}

thread_local! {
    static SURVEY: RefCell<Option<SurveyApp>> = const { RefCell::new(None) };
}

fn survey_app() -> SurveyApp {
    let mut app = App::in_memory().expect("an in-memory store");
    let business = app.business(None).expect("the default business");
    let definition = trailmap_app::surveys::parse_definition(DEFINITION, "fuzz.toml").expect("the survey definition");
    let survey = app.create_survey_from_definition(&business, &definition, "fuzz").expect("the survey");
    let token = app.ensure_survey_link(&business, survey.id).expect("a public link");
    SurveyApp { app, token, survey, stored: 0 }
}

/// The body of a public survey form post (`application/x-www-form-urlencoded`): answers in
/// `q{ID}` fields, hidden fields, anything else.
pub fn survey_post(data: &[u8]) -> Outcome {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    SURVEY.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_some_and(|s| s.stored >= POSTS_PER_STORE) {
            *slot = None;
        }
        let s = slot.get_or_insert_with(survey_app);
        let submission = form_submission(&s.survey, &pairs);
        let questions = &s.survey.questions;
        match check_submission(&s.survey, &submission) {
            Ok(answers) => {
                for (i, q) in questions.iter().enumerate() {
                    let answer = answers.iter().find(|a| a.question == q.id);
                    if q.required && answer.is_none() {
                        assert!(is_skipped(q, &answers), "required question {} accepted without an answer", i + 1);
                    }
                    let Some(answer) = answer else { continue };
                    match (&q.kind, &answer.value) {
                        (QuestionKind::FreeText, AnswerValue::Text(text)) => {
                            assert!(!text.trim().is_empty(), "an empty free-text answer");
                            for part in text.split('\n') {
                                assert!(part.chars().count() <= MAX_ANSWER_CHARS, "a free-text answer over the limit");
                            }
                        }
                        (QuestionKind::SingleChoice { options }, AnswerValue::Choices(chosen)) => {
                            assert_eq!(chosen.len(), 1, "a single choice with {} options chosen", chosen.len());
                            assert!(chosen.iter().all(|c| options.contains(c)), "a choice that is no option: {chosen:?}");
                        }
                        (QuestionKind::MultipleChoice { options }, AnswerValue::Choices(chosen)) => {
                            assert!(!chosen.is_empty(), "a multiple choice answered with nothing");
                            assert!(chosen.iter().all(|c| options.contains(c)), "a choice that is no option: {chosen:?}");
                        }
                        (kind, AnswerValue::Number(x)) => {
                            let (lo, hi) = scale(kind).unwrap_or_else(|| panic!("a number answering a {kind:?} question"));
                            assert!(x.fract() == 0.0 && (f64::from(lo)..=f64::from(hi)).contains(x), "{x} accepted on a {lo}-{hi} scale");
                        }
                        (kind, value) => panic!("a {kind:?} question answered with {value:?}"),
                    }
                    let value = json_of(&answer.value);
                    assert_clean_text(&value, "a public survey answer");
                }
                for (key, value) in &submission.hidden {
                    assert_clean_text(&serde_json::json!({ key: value }), "a hidden field");
                }
                let now = Timestamp(1_796_558_400_000);
                if let Err(e) = s.app.submit_public_response(&s.token, &submission, now) {
                    panic!("an accepted post was not stored: {e}");
                }
                s.stored += 1;
                Outcome::Accepted
            }
            Err(problems) => {
                assert!(!problems.is_empty(), "refused without a problem");
                for p in problems {
                    let q = questions.get(p.number.wrapping_sub(1)).unwrap_or_else(|| panic!("a problem naming question {}", p.number));
                    assert_eq!(q.id, p.question, "a problem naming question {} by another's id", p.number);
                    assert!(!p.reason.is_empty(), "a problem without a reason");
                }
                Outcome::Refused
            }
        }
    })
}

/// The question kinds an export's answer cell is read as.
fn answer_kinds() -> [QuestionKind; 7] {
    let options = vec!["Price".to_string(), "Shipping cost".to_string(), "Delivery, speed".to_string(), "Other".to_string()];
    [
        QuestionKind::Nps,
        QuestionKind::Csat,
        QuestionKind::Ces,
        QuestionKind::Rating { max: 10 },
        QuestionKind::SingleChoice { options: options.clone() },
        QuestionKind::MultipleChoice { options },
        QuestionKind::FreeText,
    ]
}

/// One answer cell of a form export. The first byte picks the layout (bit 0) and the question's
/// kind (the rest, mod 7); the rest is the cell, read when it is UTF-8 (as the export is).
pub fn form_answer(data: &[u8]) -> Outcome {
    let Some((&selector, rest)) = data.split_first() else { return Outcome::Skipped };
    let Ok(text) = std::str::from_utf8(rest) else { return Outcome::Skipped };
    let layout = if selector & 1 == 0 { FormLayout::GoogleForms } else { FormLayout::Typeform };
    let kinds = answer_kinds();
    let kind = &kinds[usize::from(selector >> 1) % kinds.len()];
    match answer_value(layout, kind, text) {
        Ok(AnswerValue::Number(x)) => {
            let (lo, hi) = scale(kind).unwrap_or_else(|| panic!("a number answering a {kind:?} question"));
            assert!(x.is_finite() && (f64::from(lo)..=f64::from(hi)).contains(&x), "{x} read on a {lo}-{hi} scale");
            Outcome::Accepted
        }
        Ok(value) => {
            assert_clean_text(&json_of(&value), "an answer cell");
            Outcome::Accepted
        }
        Err(reason) => {
            assert!(!reason.is_empty(), "a refused answer without a reason");
            Outcome::Refused
        }
    }
}

/// A whole Google Forms (first byte even) or Typeform (odd) export, its questions inferred.
pub fn form_export(data: &[u8]) -> Outcome {
    let Some((&selector, rest)) = data.split_first() else { return Outcome::Skipped };
    let layout = if selector & 1 == 0 { FormLayout::GoogleForms } else { FormLayout::Typeform };
    let lines = line_count(rest);
    match read_form(rest, layout, "fuzz.csv", None) {
        Ok(export) => {
            let mut refused = false;
            for row in &export.rows {
                match row {
                    Ok(response) => {
                        assert!((1..=lines).contains(&response.line), "a response at line {} of {lines}", response.line);
                        for (index, answer) in &response.answers {
                            let question = export.questions.get(*index).expect("an answer to a question of the export");
                            if let AnswerValue::Number(x) = answer {
                                assert!(x.is_finite(), "an answer {x} to {:?}", question.text);
                            }
                        }
                    }
                    Err(e) => {
                        refused = true;
                        assert_eq!(e.file, "fuzz.csv", "a row error naming another file");
                        assert!((1..=lines).contains(&e.line), "a row error at line {} of {lines}: {e}", e.line);
                    }
                }
            }
            Outcome::of(!refused && !export.rows.is_empty())
        }
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.csv"), "an error that does not name the file: {e}");
            Outcome::Refused
        }
    }
}
