//! The public survey page, `/s/{token}`: what a customer opens from a QR code on a counter card or
//! a link in an email, with no account. It is a plain HTML form that works on a phone and without
//! JavaScript: NPS, CSAT, CES and ratings as radio buttons, choices as radio buttons or check
//! boxes, free text as a text area.
//!
//! Skip logic is applied on the one page (see `trailmap_app::survey_links`): each question that
//! may be skipped says when, and the server ignores its answer and does not require it when the
//! earlier answer skips it. The hidden fields `customer_id`, `order_id` and `email` of the link's
//! query string are carried in hidden inputs and stored on the response, which joins it to the
//! customer.
//!
//! Spam protection, none of which needs JavaScript or a third party: a honeypot field that people
//! do not see (a filled one is thanked and discarded, so a bot learns nothing), a minimum time
//! between showing the form and sending it, proven by a timestamp signed with HMAC-SHA256 under a
//! secret made when the server starts, a token bucket per client address and survey and
//! one twenty times as large per survey (429 `rate_limited` with Retry-After), answers of at most 2,000 characters and bodies of at most 64 KiB (413
//! `too_large`). Whatever a respondent writes is stored as text and escaped wherever it is shown.

use crate::auth::{client_address, now};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock, RwLock};
use std::time::Instant;
use trailmap_app::survey_links::{AnswerProblem, PublicSurvey, check_submission, form_submission, hidden_fields, scale};
use trailmap_model::{Question, QuestionId, QuestionKind, Timestamp};

/// The largest body a survey post may have.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The honeypot's field name: a plausible field a form-filling bot completes.
pub const HONEYPOT_FIELD: &str = "website";
/// The signed timestamp's field name.
pub const STARTED_FIELD: &str = "started";

/// How the public page guards against spam.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublicSurveyOptions {
    /// The least time (milliseconds) between showing the form and sending it; faster posts are
    /// refused as a bot's. Zero in tests, which must not sleep.
    pub min_fill_ms: i64,
    /// Posts each client address may send to one survey at once (the bucket's size).
    pub burst: f64,
    /// Posts per minute each client address may send to one survey, sustained.
    pub per_minute: f64,
}

impl Default for PublicSurveyOptions {
    fn default() -> PublicSurveyOptions {
        // A café's customers often share one Wi-Fi address, so the bucket is roomy.
        PublicSurveyOptions { min_fill_ms: 3_000, burst: 30.0, per_minute: 10.0 }
    }
}

fn options() -> PublicSurveyOptions {
    OPTIONS.get_or_init(|| RwLock::new(PublicSurveyOptions::default())).read().map_or_else(|_| PublicSurveyOptions::default(), |o| *o)
}

static OPTIONS: OnceLock<RwLock<PublicSurveyOptions>> = OnceLock::new();

/// Sets the spam protection of every public survey page of this process (tests set a zero
/// minimum fill time).
pub fn configure(new: PublicSurveyOptions) {
    let lock = OPTIONS.get_or_init(|| RwLock::new(new));
    if let Ok(mut o) = lock.write() {
        *o = new;
    }
}

/// The secret the form timestamps are signed with: random per process, so a form shown before a
/// restart is refused after it and simply shown again.
fn secret() -> &'static [u8; 32] {
    static SECRET: OnceLock<[u8; 32]> = OnceLock::new();
    SECRET.get_or_init(|| {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        bytes
    })
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The signed timestamp a form carries: `millis.hmac`, bound to the survey's token.
pub fn sign_started(key: &[u8], token: &str, at: Timestamp) -> String {
    format!("{}.{}", at.0, hex(&hmac_sha256(key, format!("survey:{token}:{}", at.0).as_bytes())))
}

/// Why a signed timestamp is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartedError {
    /// Missing, malformed or not signed by this server for this survey.
    NotOurs,
    /// Sent sooner than the minimum fill time after the form was shown.
    TooFast,
}

/// Checks a form's signed timestamp at `now`.
pub fn check_started(key: &[u8], token: &str, given: &str, now: Timestamp, min_fill_ms: i64) -> Result<(), StartedError> {
    let (millis, _) = given.split_once('.').ok_or(StartedError::NotOurs)?;
    let at = Timestamp(millis.parse::<i64>().map_err(|_| StartedError::NotOurs)?);
    if !crate::auth::same_secret(&sign_started(key, token, at), given) {
        return Err(StartedError::NotOurs);
    }
    if now.0 - at.0 < min_fill_ms { Err(StartedError::TooFast) } else { Ok(()) }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// How many times the per-address bucket the bucket of a whole link holds: a link handed out on
/// receipts is answered from many addresses, but a flood from many addresses is still bounded.
const LINK_BUCKET_TIMES: f64 = 20.0;

/// Takes one post from the bucket of (address, survey token) and from the link's own bucket; when
/// either is empty, the seconds until it holds one again.
fn take_post(address: &str, token: &str) -> Result<(), u64> {
    static BUCKETS: OnceLock<Mutex<HashMap<(String, String), Bucket>>> = OnceLock::new();
    let o = options();
    if o.per_minute <= 0.0 {
        return Ok(());
    }
    let now = Instant::now();
    let Ok(mut buckets) = BUCKETS.get_or_init(|| Mutex::new(HashMap::new())).lock() else { return Ok(()) };
    // Forget full buckets now and then, so the map stays as small as the clients of the moment.
    if buckets.len() > 10_000 {
        let per_second = o.per_minute / 60.0;
        buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * per_second < o.burst);
    }
    // The link's bucket is keyed with an empty address, which no client has.
    let keys = [((address.to_string(), token.to_string()), 1.0), ((String::new(), token.to_string()), LINK_BUCKET_TIMES)];
    let mut wait: u64 = 0;
    for (key, times) in &keys {
        let (burst, per_second) = (o.burst * times, o.per_minute * times / 60.0);
        let bucket = buckets.entry(key.clone()).or_insert(Bucket { tokens: burst, at: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_second).min(burst);
        bucket.at = now;
        if bucket.tokens < 1.0 {
            wait = wait.max(((1.0 - bucket.tokens) / per_second).ceil().max(1.0) as u64);
        }
    }
    if wait > 0 {
        return Err(wait);
    }
    for (key, _) in &keys {
        if let Some(bucket) = buckets.get_mut(key) {
            bucket.tokens -= 1.0;
        }
    }
    Ok(())
}

fn rate_limited(retry_after: u64) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many answers from this address; try again in {retry_after} second(s)"),
    );
    e.retry_after = Some(retry_after);
    e
}

/// GET `/s/{token}`: the form, with the link's hidden fields.
pub async fn show(State(state): State<ServerState>, Path(token): Path<String>, Query(query): Query<Vec<(String, String)>>) -> PageResult {
    let lookup = token.clone();
    let public = state.try_read(move |app| app.survey_by_token(&lookup)).await?;
    let hidden = hidden_fields(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let form = FormState { hidden, ..FormState::default() };
    Ok(respond(StatusCode::OK, survey_page(&public, &token, &form)))
}

/// What the form shows again after a refused post: the answers given and the problems.
#[derive(Debug, Default)]
struct FormState {
    hidden: BTreeMap<String, String>,
    given: BTreeMap<QuestionId, Vec<String>>,
    problems: Vec<AnswerProblem>,
    /// A problem with the whole form, shown at the top.
    message: Option<String>,
}

/// POST `/s/{token}`: checks and stores the answers, then 303 to the thank-you page.
pub async fn submit(State(state): State<ServerState>, Path(token): Path<String>, request: Request) -> PageResult {
    let address = client_address(request.extensions());
    if let Err(retry_after) = take_post(&address, &token) {
        return Err(rate_limited(retry_after).into());
    }
    let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await.map_err(|_| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("the answers are larger than {} KiB", MAX_BODY_BYTES / 1024))
    })?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
    let lookup = token.clone();
    let public = state.try_read(move |app| app.survey_by_token(&lookup)).await?;

    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let submission = form_submission(&public.survey, &pairs);
    let thanks = format!("/s/{token}/thanks");
    // A filled honeypot is a bot's: thanked like a person, so it learns nothing, and not stored.
    if field(HONEYPOT_FIELD).is_some_and(|v| !v.trim().is_empty()) {
        tracing::info!("a public survey post filled the honeypot and was discarded");
        return Ok(see_other(&thanks));
    }
    let mut form = FormState { hidden: submission.hidden.clone(), given: submission.answers.clone(), ..FormState::default() };
    match check_started(secret(), &token, field(STARTED_FIELD).unwrap_or(""), now(), options().min_fill_ms) {
        Ok(()) => {}
        Err(StartedError::NotOurs) => {
            form.message = Some("This form has expired. Your answers are kept below: please send them again.".into());
            return Ok(refused(&public, &token, &form, "started"));
        }
        Err(StartedError::TooFast) => {
            form.message = Some("That was quick! Please check your answers and send them again.".into());
            return Ok(refused(&public, &token, &form, "started"));
        }
    }
    if let Err(problems) = check_submission(&public.survey, &submission) {
        form.problems = problems;
        return Ok(refused(&public, &token, &form, "answers"));
    }
    let stored_token = token.clone();
    state.try_write(move |app| app.submit_public_response(&stored_token, &submission, now())).await?;
    Ok(see_other(&thanks))
}

/// A refused post: the form again with status 400, its answers and the problems next to them.
fn refused(public: &PublicSurvey, token: &str, form: &FormState, what: &str) -> Response {
    tracing::info!(what, "a public survey post was refused");
    respond(StatusCode::BAD_REQUEST, survey_page(public, token, form))
}

/// GET `/s/{token}/thanks`.
pub async fn thanks(State(state): State<ServerState>, Path(token): Path<String>) -> PageResult {
    let public = state.try_read(move |app| app.survey_by_token(&token)).await?;
    let content = html! {
        div class="survey-card" data-testid="thanks" {
            h1 { "Thank you!" }
            p { "Your answers reached " (public.business.name) ". They help make the next visit better." }
        }
    };
    Ok(respond(StatusCode::OK, frame(&public.business.name, content)))
}

fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, html_response(markup)).into_response();
    // The page may hold a customer's identifiers from the link; no one else's page should embed it.
    response.headers_mut().insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}


fn frame(business: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (business) }
                link rel="stylesheet" href="/static/app.css";
            }
            body class="survey" { main { (content) } }
        }
    }
}

/// A reason as a sentence on the page: its first letter in capitals.
fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn survey_page(public: &PublicSurvey, token: &str, form: &FormState) -> Markup {
    let survey = &public.survey;
    let started = sign_started(secret(), token, now());
    let content = html! {
        div class="survey-card" {
            p class="muted" { (public.business.name) }
            h1 { (survey.name) }
            @if let Some(message) = &form.message {
                p class="error" data-code="invalid_input" role="alert" { (message) }
            }
            @if !form.problems.is_empty() {
                p class="error" data-code="invalid_input" role="alert" {
                    "Please look at the question" @if form.problems.len() > 1 { "s" } " marked below."
                }
            }
            form method="post" action={ "/s/" (token) } novalidate {
                input type="hidden" name=(STARTED_FIELD) value=(started);
                @for (name, value) in &form.hidden {
                    input type="hidden" name=(name) value=(value);
                }
                div class="trap" aria-hidden="true" {
                    label { "Leave this empty" input type="text" name=(HONEYPOT_FIELD) tabindex="-1" autocomplete="off"; }
                }
                @for (i, q) in survey.questions.iter().enumerate() {
                    (question(survey, i, q, form))
                }
                button type="submit" class="send" { "Send" }
            }
        }
    };
    frame(&public.business.name, content)
}

fn question(survey: &trailmap_model::Survey, index: usize, q: &Question, form: &FormState) -> Markup {
    let name = format!("q{}", q.id.0);
    let problem = form.problems.iter().find(|p| p.question == q.id);
    let given = form.given.get(&q.id).cloned().unwrap_or_default();
    let chosen = |v: &str| given.iter().any(|g| g.trim().eq_ignore_ascii_case(v));
    let error_id = format!("{name}-error");
    let skip_hint = q.skip.as_ref().and_then(|rule| {
        let number = survey.questions.iter().position(|e| e.id == rule.question)? + 1;
        Some(format!("Skip this one if your answer to question {number} was {}.", rule.values.join(" or ")))
    });
    html! {
        fieldset class={ "question" @if problem.is_some() { " invalid" } } id=(name) data-question=(index + 1)
            aria-describedby=[problem.map(|_| error_id.clone())] {
            legend { (index + 1) ". " (q.text) @if q.required { " " span class="error" title="required" { "*" } } }
            @if let Some(hint) = &skip_hint { p class="hint" { (hint) } }
            @match &q.kind {
                QuestionKind::FreeText => {
                    textarea name=(name) maxlength="2000" aria-label=(q.text) { (given.join("\n")) }
                }
                QuestionKind::SingleChoice { options } => {
                    div class="options" {
                        @for o in options {
                            label { input type="radio" name=(name) value=(o) checked[chosen(o)]; (o) }
                        }
                    }
                }
                QuestionKind::MultipleChoice { options } => {
                    div class="options" {
                        @for o in options {
                            label { input type="checkbox" name=(name) value=(o) checked[chosen(o)]; (o) }
                        }
                    }
                }
                kind => {
                    @let (lo, hi) = scale(kind).unwrap_or((0, 10));
                    div class="scale" role="radiogroup" aria-label=(q.text) {
                        @for v in lo..=hi {
                            label { input type="radio" name=(name) value=(v) checked[chosen(&v.to_string())]; span { (v) } }
                        }
                    }
                    div class="ends" {
                        @match kind {
                            QuestionKind::Nps => { span { "Not at all likely" } span { "Extremely likely" } }
                            QuestionKind::Csat => { span { "Very unsatisfied" } span { "Very satisfied" } }
                            QuestionKind::Ces => { span { "Very easy" } span { "Very difficult" } }
                            _ => { span { "Low" } span { "High" } }
                        }
                    }
                }
            }
            @if let Some(p) = problem {
                p class="field-error" id=(error_id) data-code="invalid_input" { (sentence_case(&p.reason)) "." }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn a_started_stamp_is_bound_to_the_key_the_survey_and_the_minimum_time() {
        let key = [7u8; 32];
        let stamp = sign_started(&key, "abc", Timestamp(1_000));
        assert_eq!(check_started(&key, "abc", &stamp, Timestamp(4_000), 3_000), Ok(()));
        assert_eq!(check_started(&key, "abc", &stamp, Timestamp(3_999), 3_000), Err(StartedError::TooFast));
        assert_eq!(check_started(&key, "other", &stamp, Timestamp(9_000), 0), Err(StartedError::NotOurs));
        assert_eq!(check_started(&[8u8; 32], "abc", &stamp, Timestamp(9_000), 0), Err(StartedError::NotOurs));
        let forged = stamp.replacen("1000", "0", 1);
        assert_eq!(check_started(&key, "abc", &forged, Timestamp(9_000), 3_000), Err(StartedError::NotOurs));
        assert_eq!(check_started(&key, "abc", "", Timestamp(9_000), 0), Err(StartedError::NotOurs));
    }
}
