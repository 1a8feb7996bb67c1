//! Inputs the fuzz campaigns (`fuzz/`, `bench/results/fuzz-*.md`) found to break a parser the app
//! owns, each kept as the test of its fix: the bytes as found, and what must now happen.

use trailmap_app::App;
use trailmap_app::survey_links::{check_submission, form_submission};
use trailmap_model::{AnswerValue, Survey};

/// A survey in a fresh store: an NPS question, then a free-text one.
fn survey() -> Survey {
    let mut app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    let definition = trailmap_app::surveys::parse_definition(
        "name = \"Regressions\"\nstage = \"Purchase\"\n\n[[questions]]\ntext = \"How likely?\"\nkind = \"nps\"\n\n[[questions]]\ntext = \"Anything else?\"\nkind = \"free_text\"\n",
        "regressions.toml",
    )
    .unwrap();
    app.create_survey_from_definition(&business, &definition, "test").unwrap()
}

fn post(survey: &Survey, body: &[u8]) -> Result<Vec<trailmap_model::Answer>, Vec<trailmap_app::survey_links::AnswerProblem>> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    check_submission(survey, &form_submission(survey, &pairs))
}

/// survey_post: a bell (U+0007) in a free-text answer was accepted and stored, past the text rules
/// every other way in keeps. It is refused now, naming the question and the character.
#[test]
fn a_control_character_in_a_public_survey_answer_is_refused_with_its_question() {
    let survey = survey();
    let free = survey.questions[1].id.0;
    let body = format!("q{}=7&q{free}=Gordereat+coffee%2C+slow+queu%07e%7C", survey.questions[0].id.0);
    let problems = post(&survey, body.as_bytes()).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!((problems[0].number, problems[0].question), (2, survey.questions[1].id));
    assert_eq!(problems[0].reason, "the answer holds a control character U+0007 at character 28");
    // A text area's line breaks (CRLF in a form post) and tabs are text, not control characters.
    let body = format!("q{free}=Great+coffee%0D%0Aslow%09queue");
    let answers = post(&survey, body.as_bytes()).unwrap();
    assert_eq!(answers[0].value, AnswerValue::Text("Great coffee\r\nslow\tqueue".into()));
}

/// survey_post: a hidden field of the link (`email`, `order_id`, `customer_id`) holding a control
/// character (U+0001) was kept and stored with the response. It is left out now, as an over-long
/// one is, and the answers still count.
#[test]
fn a_hidden_field_with_a_control_character_is_left_out() {
    let survey = survey();
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(b"q1=9&email=ann%40example.co%01m&order_id=1001&customer_id=%09").into_owned().collect();
    let submission = form_submission(&survey, &pairs);
    assert_eq!(submission.hidden.into_iter().collect::<Vec<_>>(), vec![("order_id".to_string(), "1001".to_string())]);
}
