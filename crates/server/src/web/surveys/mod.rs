//! The members' survey and feedback pages: `/b/{id}/surveys` (the surveys with their response
//! counts, public link and QR code, and a builder form that works without JavaScript),
//! `/b/{id}/surveys/{sid}` (NPS, CSAT and CES per question with their interval and n, by
//! touchpoint, stage or month, and the latest answers) and `/b/{id}/feedback` (themes with their
//! counts, average sentiment and quotes, the most negative first, optionally of one touchpoint or
//! stage, one persona's customers and with extra stop words, and the sentiment list). A bad
//! choice there (an unknown touchpoint) is a 400 page naming the field.
//! Viewers read; editors create surveys and make or replace public links (403 for viewers).

pub mod import;
pub mod qr;

use crate::auth::{self, PageForm, SignedIn, require_edit};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, page, when};
use crate::links::base_url;
use crate::web::{PageError, PageResult, html_response, see_other};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use trailmap_app::surveys::{QuestionDefinition, Scalar, SkipDefinition, SurveyDefinition, kind_label};
use trailmap_app::voice::{QuestionScore, ScoreKind, ScoreResult, SurveyResultsRequest, ThemesRequest};
use trailmap_render::{Bar, BarChart, ValueFormat};
use crate::web::analysis::customers_href;
use trailmap_model::{AnswerValue, BusinessId, SurveyId};

/// Question rows of the builder form; a survey needs at least one filled.
pub const BUILDER_ROWS: usize = 5;

const KINDS: [(&str, &str); 7] = [
    ("nps", "NPS (0-10)"),
    ("csat", "CSAT (1-5)"),
    ("ces", "CES (1-7)"),
    ("rating", "Rating (1-5)"),
    ("single_choice", "Single choice"),
    ("multiple_choice", "Multiple choice"),
    ("free_text", "Free text"),
];

/// GET `/b/{id}/surveys`.
pub async fn list(State(state): State<ServerState>, signed: SignedIn, headers: HeaderMap, Path(id): Path<i64>) -> PageResult {
    let business = BusinessId(id);
    let membership = auth::membership(&state, signed.user.id, business).await?;
    let nav = Nav::load(&state, &signed, Some(business)).await?;
    let b = membership.business.clone();
    let (surveys, touchpoints, stages) = state
        .try_read(move |app| {
            let listed = app.list_surveys(&b)?;
            let mut with_links = Vec::new();
            for s in listed {
                let link = app.survey_link(&b, SurveyId(s.id))?;
                with_links.push((s, link));
            }
            let names = app.names(b.id)?;
            Ok((with_links, names.touchpoint_names(), names.stages))
        })
        .await?;
    let edit = membership.role.can_edit();
    let base = format!("/b/{business}/surveys");
    let origin = base_url(&state, &headers);
    let content = html! {
        h1 { "Surveys" }
        p class="muted" { "Print a survey's QR code on a counter card or a receipt, or add its link to an email. Add "
            code { "?customer_id=…" } ", " code { "?order_id=…" } " or " code { "?email=…" } " to the link to join the answers to the customer." }
        div class="table-wrap" {
            table data-testid="surveys" {
                thead { tr { th { "Survey" } th { "Asked at" } th class="num" { "Questions" } th class="num" { "Responses (n)" } th { "Public link" } } }
                tbody {
                    @for (s, link) in &surveys {
                        tr {
                            td { a href={ (base) "/" (s.id) } { (s.name) } }
                            td { (s.touchpoint.clone().or(s.stage.clone()).unwrap_or_default()) }
                            td class="num" { (s.questions) }
                            td class="num" { (s.responses) }
                            td {
                                @if let Some(token) = link {
                                    a href={ "/s/" (token) } data-testid="public-link" { (origin) "/s/" (token) }
                                    " · QR: " a href={ (base) "/" (s.id) "/qr.svg" } download { "SVG" }
                                    " " a href={ (base) "/" (s.id) "/qr.png" } download { "PNG" }
                                }
                                @if edit {
                                    br;
                                    form method="post" action={ (base) "/" (s.id) "/link" } class="inline" {
                                        (csrf_field(&signed.csrf))
                                        button type="submit" class="secondary" {
                                            @if link.is_some() { "Replace link" } @else { "Make public link" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if surveys.is_empty() { p class="muted" { "No survey yet." } }
        @if edit { (builder(&base, &signed.csrf, &touchpoints, &stages)) }
        p { a href={ "/b/" (business) "/feedback" } { "Feedback themes and sentiment →" } }
    };
    Ok(html_response(page(&nav, "Surveys", content)))
}

fn builder(base: &str, csrf: &str, touchpoints: &[String], stages: &[String]) -> Markup {
    html! {
        h2 { "Create a survey" }
        form method="post" action=(base) class="stack card" data-testid="survey-builder" {
            (csrf_field(csrf))
            label { "Name" input type="text" name="name" required; }
            label { "Touchpoint"
                select name="touchpoint" { option value="" { "(none)" } @for t in touchpoints { option value=(t) { (t) } } } }
            label { "Stage"
                select name="stage" { option value="" { "(none)" } @for s in stages { option value=(s) { (s) } } } }
            p class="muted" { "Fill one row per question; empty rows are left out. Options are separated by |. \
                Skip if: the number of an earlier question and the answers that skip this one, as 1: 9 | 10." }
            @for row in 1..=BUILDER_ROWS {
                fieldset class="question-row" {
                    legend { "Question " (row) }
                    label { "Text" input type="text" name={ "text_" (row) }; }
                    label { "Kind" select name={ "kind_" (row) } { @for (value, label) in KINDS { option value=(value) { (label) } } } }
                    label { "Options" input type="text" name={ "options_" (row) } placeholder="Price | Shipping | Other"; }
                    label class="check" { input type="checkbox" name={ "required_" (row) } value="on"; "Required" }
                    label { "Skip if" input type="text" name={ "skip_" (row) } placeholder="1: 9 | 10"; }
                }
            }
            button type="submit" { "Create survey" }
        }
    }
}

/// Reads the builder form's fields into a definition; errors name the row and field.
pub fn definition_from_form(fields: &[(String, String)]) -> Result<SurveyDefinition, ApiError> {
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let optional = |v: String| (!v.is_empty()).then_some(v);
    let mut questions = Vec::new();
    for row in 1..=BUILDER_ROWS {
        let text = get(&format!("text_{row}"));
        if text.is_empty() {
            continue;
        }
        let kind = get(&format!("kind_{row}"));
        let options: Vec<String> = get(&format!("options_{row}")).split('|').map(str::trim).filter(|o| !o.is_empty()).map(String::from).collect();
        let skip = get(&format!("skip_{row}"));
        let skip_if = if skip.is_empty() {
            None
        } else {
            let (number, values) = skip
                .split_once(':')
                .ok_or_else(|| ApiError::invalid_input(format!("question row {row}: `skip_{row}`: write the question number, a colon and the answers, as 1: 9 | 10")))?;
            let question = number
                .trim()
                .parse::<usize>()
                .map_err(|_| ApiError::invalid_input(format!("question row {row}: `skip_{row}`: {:?} is not a question number", number.trim())))?;
            let values = values.split('|').map(str::trim).filter(|v| !v.is_empty()).map(|v| Scalar::Text(v.to_string())).collect();
            Some(SkipDefinition { question, values })
        };
        let choice = matches!(kind.as_str(), "single_choice" | "multiple_choice");
        questions.push(QuestionDefinition {
            text,
            kind,
            required: get(&format!("required_{row}")) == "on",
            options: choice.then_some(options),
            max: None,
            skip_if,
        });
    }
    Ok(SurveyDefinition { name: get("name"), touchpoint: optional(get("touchpoint")), stage: optional(get("stage")), questions })
}

/// POST `/b/{id}/surveys`: creates a survey from the builder form.
pub async fn create(State(state): State<ServerState>, Path(id): Path<i64>, posted: PageForm<Vec<(String, String)>>) -> PageResult {
    let business = BusinessId(id);
    let membership = auth::membership(&state, posted.user.user.id, business).await?;
    require_edit(membership.role)?;
    let definition = definition_from_form(&posted.form)?;
    let b = membership.business;
    let survey = state.try_write(move |app| app.create_survey_from_definition(&b, &definition, "the survey form")).await?;
    Ok(see_other(&format!("/b/{business}/surveys/{}", survey.id.0)))
}

/// POST `/b/{id}/surveys/{sid}/link`: makes the survey's public link, or replaces it (the old
/// link and its printed QR codes stop working).
pub async fn link(State(state): State<ServerState>, Path((id, sid)): Path<(i64, i64)>, posted: PageForm<Vec<(String, String)>>) -> PageResult {
    let business = BusinessId(id);
    let membership = auth::membership(&state, posted.user.user.id, business).await?;
    require_edit(membership.role)?;
    let b = membership.business;
    state.try_write(move |app| app.rotate_survey_link(&b, SurveyId(sid))).await?;
    Ok(see_other(&format!("/b/{business}/surveys")))
}

async fn public_link(state: &ServerState, signed: &SignedIn, headers: &HeaderMap, id: i64, sid: i64) -> Result<String, PageError> {
    let membership = auth::membership(state, signed.user.id, BusinessId(id)).await?;
    let b = membership.business;
    let token = state.try_read(move |app| app.survey_link(&b, SurveyId(sid))).await?;
    let token = token.ok_or_else(|| ApiError::not_found(format!("survey {sid} has no public link yet; make one on the surveys page")))?;
    Ok(format!("{}/s/{token}", base_url(state, headers)))
}

fn download(body: Vec<u8>, content_type: &'static str, file: String) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// GET `/b/{id}/surveys/{sid}/qr.svg`.
pub async fn qr_svg(State(state): State<ServerState>, signed: SignedIn, headers: HeaderMap, Path((id, sid)): Path<(i64, i64)>) -> PageResult {
    let link = public_link(&state, &signed, &headers, id, sid).await?;
    let svg = qr::svg(&link).ok_or_else(|| ApiError::invalid_input("the link is too long for a QR code"))?;
    Ok(download(svg.into_bytes(), "image/svg+xml", format!("survey-{sid}-qr.svg")))
}

/// GET `/b/{id}/surveys/{sid}/qr.png`.
pub async fn qr_png(State(state): State<ServerState>, signed: SignedIn, headers: HeaderMap, Path((id, sid)): Path<(i64, i64)>) -> PageResult {
    let link = public_link(&state, &signed, &headers, id, sid).await?;
    let png = qr::png(&link, 12).ok_or_else(|| ApiError::invalid_input("the link is too long for a QR code"))?;
    Ok(download(png, "image/png", format!("survey-{sid}-qr.png")))
}

#[derive(Debug, Deserialize, Default)]
pub struct ResultsQuery {
    pub by: Option<String>,
}

pub use trailmap_app::query::score_grouping as grouping;

/// A score as people read it: NPS as a whole number, CSAT as a percentage, CES with one decimal.
fn score_text(r: &ScoreResult) -> String {
    match (r.kind, r.value) {
        (_, None) => "—".into(),
        (ScoreKind::Nps, Some(v)) => format!("{v:+.0}"),
        (ScoreKind::Csat, Some(v)) => format!("{:.0}%", v * 100.0),
        (ScoreKind::Ces, Some(v)) => format!("{v:.1}"),
    }
}

fn interval_text(r: &ScoreResult) -> String {
    match (r.kind, &r.interval) {
        (_, None) => "—".into(),
        (ScoreKind::Nps, Some(i)) => format!("{:+.0} to {:+.0}", i.low, i.high),
        (ScoreKind::Csat, Some(i)) => format!("{:.0}% to {:.0}%", i.low * 100.0, i.high * 100.0),
        (ScoreKind::Ces, Some(i)) => format!("{:.1} to {:.1}", i.low, i.high),
    }
}

/// One question's score as bars: all answers first, then each group, every bar labelled with its
/// n and linked to the customers behind it. CSAT is a share, so it is drawn as a percentage.
fn score_chart(business: BusinessId, q: &QuestionScore) -> BarChart {
    let format = match q.overall.kind {
        ScoreKind::Csat => ValueFormat::Percent,
        ScoreKind::Nps | ScoreKind::Ces => ValueFormat::Number,
    };
    let bar = |label: &str, r: &ScoreResult| Bar {
        label: label.to_string(),
        value: r.value.unwrap_or(0.0),
        comparison: None,
        n: Some(r.n),
        href: customers_href(business, &r.customers),
    };
    let mut bars = vec![bar("All", &q.overall)];
    bars.extend(q.groups.iter().map(|g| bar(&g.group, &g.result)));
    BarChart { title: format!("{} · {}", q.overall.kind.as_str().to_uppercase(), q.question), format, bars, width: Some(760.0), ..BarChart::default() }
}

/// GET `/b/{id}/surveys/{sid}`: the survey's scores and latest answers.
pub async fn results(
    State(state): State<ServerState>,
    signed: SignedIn,
    Path((id, sid)): Path<(i64, i64)>,
    Query(query): Query<ResultsQuery>,
) -> PageResult {
    let business = BusinessId(id);
    let membership = auth::membership(&state, signed.user.id, business).await?;
    let nav = Nav::load(&state, &signed, Some(business)).await?;
    let by = grouping(query.by.as_deref())?;
    let b = membership.business.clone();
    let (survey, scores, responses) = state
        .try_read(move |app| {
            let survey = app.survey(&b, SurveyId(sid))?;
            let request = SurveyResultsRequest { survey: Some(sid.to_string()), by, ..SurveyResultsRequest::default() };
            let scores = app.survey_results(&b, &request)?;
            let responses = app.latest_responses(&b, SurveyId(sid), 50)?;
            Ok((survey, scores, responses))
        })
        .await?;
    let base = format!("/b/{business}/surveys/{sid}");
    let content = html! {
        p { a href={ "/b/" (business) "/surveys" } { "← Surveys" } }
        h1 { (survey.name) }
        form method="get" action=(base) class="inline" {
            label { "Split by"
                select name="by" {
                    option value="" { "(nothing)" }
                    @for g in ["touchpoint", "stage", "persona", "month"] {
                        option value=(g) selected[query.by.as_deref() == Some(g)] { (g) }
                    }
                }
            }
            button type="submit" class="secondary" { "Show" }
        }
        @if scores.questions.is_empty() { p class="muted" { "This survey has no NPS, CSAT or CES question." } }
        @for q in &scores.questions {
            h2 { (q.question) " " span class="muted" { "(" (q.overall.kind.as_str().to_uppercase()) ")" } }
            div class="chart" data-testid="score-chart" { (maud::PreEscaped(score_chart(business, q).render().into_string())) }
            div class="table-wrap" {
                table data-testid="scores" {
                    thead { tr { th { "Group" } th class="num" { "Score" } th { "95% interval" } th class="num" { "n" } th { "Counts" } } }
                    tbody {
                        tr class="total" {
                            td { "All" } td class="num" { (score_text(&q.overall)) } td { (interval_text(&q.overall)) }
                            td class="num" { (q.overall.n) }
                            td { @for (label, count) in &q.overall.counts { (label) ": " (count) " " } }
                        }
                        @for g in &q.groups {
                            tr {
                                td { (g.group) } td class="num" { (score_text(&g.result)) } td { (interval_text(&g.result)) }
                                td class="num" { (g.result.n) }
                                td { @for (label, count) in &g.result.counts { (label) ": " (count) " " } }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Latest answers" }
        p class="muted" { (responses.len()) " shown, newest first." }
        div class="table-wrap" {
            table data-testid="answers" {
                thead { tr { th { "When" } th { "Customer" } @for q in &survey.questions { th { (q.text) } } } }
                tbody {
                    @for r in &responses {
                        tr {
                            td { (when(r.submitted_at)) }
                            td { @if let Some(c) = r.customer { a href={ "/b/" (business) "/customers/" (c.0) } { "#" (c.0) } } }
                            @for q in &survey.questions {
                                td { @if let Some(a) = r.answers.iter().find(|a| a.question == q.id) {
                                    @match &a.value {
                                        AnswerValue::Number(x) => { (x) }
                                        AnswerValue::Choices(c) => { (c.join(", ")) }
                                        AnswerValue::Text(t) => { (t) }
                                    }
                                } }
                            }
                        }
                    }
                }
            }
        }
        p class="muted" { "Questions: " @for (i, q) in survey.questions.iter().enumerate() { (i + 1) ". " (kind_label(&q.kind)) "  " } }
    };
    Ok(html_response(page(&nav, &survey.name, content)))
}

#[derive(Debug, Deserialize, Default)]
pub struct FeedbackQuery {
    pub touchpoint: Option<String>,
    pub stage: Option<String>,
    /// Only feedback of the customers this persona's segment rule covers (by name).
    pub persona: Option<String>,
    /// Extra words that never make a theme alone, separated by commas or spaces.
    pub stop_words: Option<String>,
}

pub use trailmap_app::query::stop_word_list;

/// GET `/b/{id}/feedback`: themes (the most negative first) and the sentiment list.
pub async fn feedback(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(query): Query<FeedbackQuery>) -> PageResult {
    let business = BusinessId(id);
    let membership = auth::membership(&state, signed.user.id, business).await?;
    let nav = Nav::load(&state, &signed, Some(business)).await?;
    let mut request = ThemesRequest {
        touchpoint: query.touchpoint.clone().filter(|t| !t.trim().is_empty()),
        stage: query.stage.clone().filter(|s| !s.trim().is_empty()),
        persona: query.persona.clone().filter(|p| !p.trim().is_empty()),
        ..ThemesRequest::default()
    };
    request.options.stop_words = stop_word_list(query.stop_words.as_deref());
    let b = membership.business.clone();
    let (themes, sentiment, touchpoints, stages, personas) = state
        .try_read(move |app| {
            let names = app.names(b.id)?;
            Ok((
                app.feedback_themes(&b, &request)?,
                app.feedback_sentiment(&b, Some(20))?,
                names.touchpoint_names(),
                names.stages.clone(),
                names.persona_names(),
            ))
        })
        .await?;
    let content = html! {
        h1 { "Feedback" }
        @if membership.role.can_edit() {
            p { a href={ "/b/" (business) "/feedback/import" } data-testid="feedback-import-link" { "Import survey exports, notes or reviews" } }
        }
        form method="get" action={ "/b/" (business) "/feedback" } class="inline" {
            label { "Touchpoint" select name="touchpoint" { option value="" { "(all)" }
                @for t in &touchpoints { option value=(t) selected[query.touchpoint.as_deref() == Some(t.as_str())] { (t) } } } }
            label { "Stage" select name="stage" { option value="" { "(all)" }
                @for s in &stages { option value=(s) selected[query.stage.as_deref() == Some(s.as_str())] { (s) } } } }
            label { "Persona" select name="persona" { option value="" { "(all customers)" }
                @for p in &personas { option value=(p) selected[query.persona.as_deref() == Some(p.as_str())] { (p) } } } }
            label { "Also ignore" input type="text" name="stop_words" placeholder="dress, tee" value=(query.stop_words.clone().unwrap_or_default()); }
            button type="submit" class="secondary" { "Show" }
        }
        h2 { "Themes in " (themes.scope) }
        p class="muted" { (crate::web::analysis::counted(themes.texts, "text")) " read (n); a theme needs " (themes.min_count) " or more. The most negative first. "
            "Themes are key phrases scored by RAKE (Rose et al., 2010), cut at a kept stop-word list and grouped by their stems; words such as \"order\", \"product\" or \"item\" (and those you add) never make a theme alone." }
        // Long texts make these tables wider than a phone: the box scrolls sideways, so it takes
        // the keyboard's focus (arrow keys scroll it) and is a region named for a screen reader.
        @if themes.themes.is_empty() {
            p data-testid="no-themes" { "No theme yet: no phrase is held by " (themes.min_count) " or more texts." }
        }
        div class="table-wrap" tabindex="0" role="region" aria-label="Themes (scrolls sideways)" hidden[themes.themes.is_empty()] {
            table data-testid="themes" {
                thead { tr { th { "Theme" } th class="num" { "Texts (n)" } th class="num" { "Negative" } th class="num" { "Average sentiment" } th { "Examples" } } }
                tbody {
                    @for t in &themes.themes {
                        tr {
                            td { strong { (t.label) } br; span class="muted" { @for p in t.phrases.iter().take(4) { (p.phrase) " (" (p.texts) ") " } } }
                            td class="num" { (t.count) }
                            td class="num" { (t.negative) }
                            td class="num" { (format!("{:+.2}", t.average_compound)) }
                            td { @for q in &t.examples { q { (q.text) } " " span class="muted" { (format!("{:+.2}", q.compound)) } br; } }
                        }
                    }
                }
            }
        }
        h2 { "Sentiment" }
        p class="muted" {
            (crate::web::analysis::counted(sentiment.n, "text")) " (n): " (sentiment.negative) " negative, " (sentiment.neutral) " neutral, " (sentiment.positive) " positive"
            @if let Some(avg) = sentiment.average_compound { "; average " (format!("{avg:+.2}")) }
            ". The most negative first."
        }
        div class="table-wrap" tabindex="0" role="region" aria-label="Texts by sentiment (scrolls sideways)" {
            table data-testid="sentiment" {
                thead { tr { th { "When" } th { "Source" } th { "Touchpoint" } th { "Text" } th class="num" { "Sentiment" } } }
                tbody {
                    @for t in &sentiment.texts {
                        tr {
                            td { (when(t.time)) } td { (t.source) } td { (t.touchpoint.clone().unwrap_or_default()) }
                            td { (t.text) } td class="num" { (format!("{:+.2}", t.sentiment.compound)) }
                        }
                    }
                }
            }
        }
    };
    Ok(html_response(page(&nav, "Feedback", content)))
}
