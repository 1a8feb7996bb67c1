//! The voice of the customer as the app serves it: survey scores (NPS, CSAT, CES per question,
//! with confidence intervals and n, optionally per touchpoint, stage, persona or month, the worst
//! group first), the VADER sentiment of every feedback text, and the recurring themes of feedback
//! (optionally only the texts of one touchpoint or stage, and of the customers one persona's
//! segment rule covers), the most negative first. Bad requests are
//! [`AppError::InvalidField`] naming the request's field (`touchpoint`, `stage`, `persona`,
//! `min_count`, `to`), which the CLI shows as its flag and the server as a 400 `invalid_input`. The app loads
//! the current business's surveys, responses and feedback and runs the pure engine in
//! `trailmap_analytics::voice`.
//!
//! Free text is read from feedback only: free-text survey answers are copied there as
//! `survey_text` feedback when they are written, so reading both would count them twice.

use crate::{App, AppError, Result};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use trailmap_analytics::voice::{ScoreAnswer, ScoreLabels, SentimentScorer, ThemeDocument, score, score_groups, themes};
use trailmap_model::{
    AnswerValue, Business, CustomerId, Feedback, FeedbackId, QuestionId, QuestionKind, StageId, SurveyId, Timestamp, TouchpointId,
};
use trailmap_store::Store;

// The engine's types that requests and answers carry, so callers need not depend on the engine.
pub use trailmap_analytics::voice::{
    Interval, Quote, ScoreGroup, ScoreGrouping, ScoreKind, ScoreResult, Sentiment, Theme, ThemeOptions, ThemeOrder,
    ThemePhrase, Tone,
};

/// What `survey results` asks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SurveyResultsRequest {
    /// One survey by id or name; every survey when None.
    pub survey: Option<String>,
    /// Responses submitted on or after this day (UTC).
    pub from: Option<NaiveDate>,
    /// Responses submitted on or before this day (UTC).
    pub to: Option<NaiveDate>,
    pub by: Option<ScoreGrouping>,
}

/// The score of one NPS, CSAT or CES question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionScore {
    pub survey_id: SurveyId,
    pub survey: String,
    pub question_id: QuestionId,
    pub question: String,
    pub overall: ScoreResult,
    /// Per group when asked: by touchpoint, stage or persona the worst score first (groups with
    /// no answer last); by month in time order.
    pub groups: Vec<ScoreGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyResults {
    pub business: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub by: Option<ScoreGrouping>,
    pub questions: Vec<QuestionScore>,
}

/// One feedback text with its sentiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextSentiment {
    pub id: FeedbackId,
    pub time: Timestamp,
    pub kind: &'static str,
    pub source: String,
    pub touchpoint: Option<String>,
    pub rating: Option<f32>,
    pub text: String,
    pub sentiment: Sentiment,
    pub tone: Tone,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentimentReport {
    pub business: String,
    /// Texts scored: the n of the counts and the average.
    pub n: u64,
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    /// The average compound score; None without texts.
    pub average_compound: Option<f64>,
    /// The texts, the most negative first (oldest first on a tie), at most the limit asked.
    pub texts: Vec<TextSentiment>,
}

/// What `feedback themes` asks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ThemesRequest {
    /// Only feedback given at this touchpoint (by name).
    pub touchpoint: Option<String>,
    /// Only feedback given at a touchpoint of this stage (by name).
    pub stage: Option<String>,
    /// Only feedback of the customers this persona's segment rule covers (by name), as
    /// `persona_coverage` counts them; feedback without a known customer is left out.
    pub persona: Option<String>,
    pub options: ThemeOptions,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThemesReport {
    pub business: String,
    /// "all feedback", "touchpoint Checkout" or "stage Purchase", with ", persona X" when asked.
    pub scope: String,
    /// The persona asked for, by its stored name.
    pub persona: Option<String>,
    /// The extra stop words asked for, as given.
    pub stop_words: Vec<String>,
    /// Texts read: the corpus the theme counts are out of.
    pub texts: u64,
    pub min_count: usize,
    pub order: ThemeOrder,
    pub themes: Vec<Theme>,
}

/// A bad field of a request, named neutrally.
fn field_error(field: &str, value: Option<String>, reason: impl Into<String>) -> AppError {
    AppError::InvalidField { field: field.to_string(), value, reason: reason.into() }
}

fn score_kind(kind: &QuestionKind) -> Option<ScoreKind> {
    match kind {
        QuestionKind::Nps => Some(ScoreKind::Nps),
        QuestionKind::Csat => Some(ScoreKind::Csat),
        QuestionKind::Ces => Some(ScoreKind::Ces),
        _ => None,
    }
}

impl App {
    /// NPS, CSAT and CES of the business's surveys, per question.
    pub fn survey_results(&self, business: &Business, request: &SurveyResultsRequest) -> Result<SurveyResults> {
        if let (Some(from), Some(to)) = (request.from, request.to)
            && to < from
        {
            return Err(field_error("to", Some(to.to_string()), format!("is before the first day (from) {from}")));
        }
        let mut surveys = self.store().surveys(business.id)?;
        if let Some(wanted) = &request.survey {
            let wanted = wanted.trim();
            let chosen = surveys
                .iter()
                .position(|s| s.id.0.to_string() == wanted || s.name.eq_ignore_ascii_case(wanted))
                .ok_or_else(|| {
                    let known: Vec<String> = surveys.iter().map(|s| format!("{} ({})", s.id.0, s.name)).collect();
                    AppError::NotFound(format!(
                        "survey {wanted:?}: no survey with that id or name in {}; there are: {}",
                        business.name,
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    ))
                })?;
            surveys = vec![surveys.swap_remove(chosen)];
        }
        let start = request.from.map(|d| Timestamp::from_date(d).millis());
        let end = request.to.map(|d| Timestamp::from_date(d).millis() + Timestamp::MS_PER_DAY);
        let labels = self.score_labels(business, request.by)?;
        // Every survey's answers in one pass (kept between requests), by id within each survey.
        let data = self.business_data(business.id)?;
        let mut by_survey: HashMap<trailmap_model::SurveyId, Vec<&trailmap_model::SurveyResponse>> = HashMap::new();
        for response in data.responses() {
            by_survey.entry(response.survey).or_default().push(response);
        }
        let mut questions = Vec::new();
        for survey in &surveys {
            let scored: Vec<(&trailmap_model::Question, ScoreKind)> =
                survey.questions.iter().filter_map(|q| score_kind(&q.kind).map(|k| (q, k))).collect();
            if scored.is_empty() {
                continue;
            }
            let mut answers: HashMap<QuestionId, Vec<ScoreAnswer>> = HashMap::new();
            for response in by_survey.remove(&survey.id).unwrap_or_default() {
                let t = response.submitted_at.millis();
                if start.is_some_and(|s| t < s) || end.is_some_and(|e| t >= e) {
                    continue;
                }
                for answer in &response.answers {
                    let value = match &answer.value {
                        AnswerValue::Number(v) => *v,
                        // A number typed as text ("9") still counts; other text is off the scale.
                        AnswerValue::Text(text) => text.trim().parse().unwrap_or(f64::NAN),
                        AnswerValue::Choices(_) => f64::NAN,
                    };
                    answers.entry(answer.question).or_default().push(ScoreAnswer {
                        response: response.id,
                        customer: response.customer,
                        time: response.submitted_at,
                        value,
                        touchpoint: survey.touchpoint,
                        stage: survey.stage,
                    });
                }
            }
            for (question, kind) in scored {
                let given = answers.remove(&question.id).unwrap_or_default();
                let overall = score(kind, &given.iter().collect::<Vec<_>>());
                let mut groups = match request.by {
                    Some(grouping) => score_groups(kind, &given, grouping, &labels),
                    None => Vec::new(),
                };
                if request.by.is_some_and(|g| g != ScoreGrouping::Month) {
                    groups.sort_by(|a, b| match (a.result.value, b.result.value) {
                        (Some(x), Some(y)) => x.total_cmp(&y).then(a.group.cmp(&b.group)),
                        (Some(_), None) => std::cmp::Ordering::Less,
                        (None, Some(_)) => std::cmp::Ordering::Greater,
                        (None, None) => a.group.cmp(&b.group),
                    });
                }
                questions.push(QuestionScore {
                    survey_id: survey.id,
                    survey: survey.name.clone(),
                    question_id: question.id,
                    question: question.text.clone(),
                    overall,
                    groups,
                });
            }
        }
        Ok(SurveyResults { business: business.name.clone(), from: request.from, to: request.to, by: request.by, questions })
    }

    /// The names a grouping labels with; personas only when asked, as assigning them reads every
    /// customer's orders.
    fn score_labels(&self, business: &Business, by: Option<ScoreGrouping>) -> Result<ScoreLabels> {
        let mut labels = ScoreLabels::default();
        for touchpoint in self.store().touchpoints(business.id)? {
            if let Some(stage) = touchpoint.stage {
                labels.touchpoint_stages.insert(touchpoint.id, stage);
            }
            labels.touchpoints.insert(touchpoint.id, touchpoint.name);
        }
        for stage in self.store().stages(business.id)? {
            labels.stages.insert(stage.id, stage.name);
        }
        if by == Some(ScoreGrouping::Persona) {
            labels.personas = self.persona_labels(business)?;
        }
        Ok(labels)
    }

    /// The sentiment of every feedback text of the business, the most negative first; `limit`
    /// cuts the list (not the counts).
    pub fn feedback_sentiment(&self, business: &Business, limit: Option<usize>) -> Result<SentimentReport> {
        let touchpoints: HashMap<TouchpointId, String> =
            self.store().touchpoints(business.id)?.into_iter().map(|t| (t.id, t.name)).collect();
        let scorer = SentimentScorer::new();
        let mut texts: Vec<TextSentiment> = self
            .store()
            .feedback(business.id)?
            .into_iter()
            .map(|f| {
                let sentiment = scorer.score(&f.text);
                TextSentiment {
                    id: f.id,
                    time: f.time,
                    kind: f.kind.as_str(),
                    source: f.source,
                    touchpoint: f.touchpoint.and_then(|t| touchpoints.get(&t).cloned()),
                    rating: f.rating,
                    text: f.text,
                    tone: sentiment.tone(),
                    sentiment,
                }
            })
            .collect();
        texts.sort_by(|a, b| a.sentiment.compound.total_cmp(&b.sentiment.compound).then(a.time.cmp(&b.time)).then(a.id.cmp(&b.id)));
        let count = |tone: Tone| texts.iter().filter(|t| t.tone == tone).count() as u64;
        let n = texts.len() as u64;
        let report = SentimentReport {
            business: business.name.clone(),
            n,
            negative: count(Tone::Negative),
            neutral: count(Tone::Neutral),
            positive: count(Tone::Positive),
            average_compound: (n > 0).then(|| texts.iter().map(|t| t.sentiment.compound).sum::<f64>() / n as f64),
            texts: texts.into_iter().take(limit.unwrap_or(usize::MAX)).collect(),
        };
        Ok(report)
    }

    /// The recurring themes of the business's feedback, the most negative first.
    pub fn feedback_themes(&self, business: &Business, request: &ThemesRequest) -> Result<ThemesReport> {
        if request.touchpoint.is_some() && request.stage.is_some() {
            return Err(field_error("touchpoint", None, "give a touchpoint or a stage (stage), not both"));
        }
        if request.options.min_count == 0 {
            return Err(field_error("min_count", Some("0".into()), "must be at least 1"));
        }
        let touchpoints = self.store().touchpoints(business.id)?;
        let (scope, keep): (String, Option<Vec<TouchpointId>>) = if let Some(name) = &request.touchpoint {
            let found = touchpoints.iter().find(|t| t.name.eq_ignore_ascii_case(name.trim())).ok_or_else(|| {
                field_error(
                    "touchpoint",
                    Some(name.clone()),
                    format!(
                        "no such touchpoint in {}; there are: {}",
                        business.name,
                        touchpoints.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            (format!("touchpoint {}", found.name), Some(vec![found.id]))
        } else if let Some(name) = &request.stage {
            let stages = self.store().stages(business.id)?;
            let stage: StageId = stages.iter().find(|s| s.name.eq_ignore_ascii_case(name.trim())).map(|s| s.id).ok_or_else(|| {
                field_error(
                    "stage",
                    Some(name.clone()),
                    format!(
                        "no such stage in {}; there are: {}",
                        business.name,
                        stages.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            let name = stages.iter().find(|s| s.id == stage).map_or_else(String::new, |s| s.name.clone());
            (format!("stage {name}"), Some(touchpoints.iter().filter(|t| t.stage == Some(stage)).map(|t| t.id).collect()))
        } else {
            ("all feedback".to_string(), None)
        };
        let (scope, persona, covered) = match &request.persona {
            Some(name) => {
                let (persona, customers) = self.persona_customers(business, name)?;
                (format!("{scope}, persona {persona}"), Some(persona), Some(customers))
            }
            None => (scope, None, None),
        };
        let scorer = SentimentScorer::new();
        let feedback: Vec<Feedback> = self
            .store()
            .feedback(business.id)?
            .into_iter()
            .filter(|f| keep.as_ref().is_none_or(|ids| f.touchpoint.is_some_and(|t| ids.contains(&t))))
            .filter(|f| covered.as_ref().is_none_or(|c| f.customer.is_some_and(|customer| c.contains(&customer))))
            .collect();
        let documents: Vec<ThemeDocument> = feedback
            .iter()
            .map(|f| ThemeDocument {
                id: f.id.0.to_string(),
                customer: f.customer,
                text: f.text.clone(),
                compound: scorer.score(&f.text).compound,
            })
            .collect();
        Ok(ThemesReport {
            business: business.name.clone(),
            scope,
            persona,
            stop_words: request.options.stop_words.clone(),
            texts: documents.len() as u64,
            min_count: request.options.min_count,
            order: request.options.order,
            themes: themes(&documents, &request.options),
        })
    }

    /// The stored name of the persona called `name` (ignoring case) and the customers its
    /// segment rule covers, as `persona_coverage` counts them.
    fn persona_customers(&self, business: &Business, name: &str) -> Result<(String, BTreeSet<CustomerId>)> {
        let coverage = self.persona_coverage(business)?;
        let found = coverage.into_iter().find(|p| p.name.eq_ignore_ascii_case(name.trim()));
        let Some(persona) = found else {
            let names: Vec<String> = self.store().personas(business.id)?.into_iter().map(|p| p.name).collect();
            return Err(field_error(
                "persona",
                Some(name.to_string()),
                format!(
                    "no such persona in {}; there are: {}",
                    business.name,
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ),
            ));
        };
        if !persona.has_rule {
            return Err(field_error(
                "persona",
                Some(persona.name),
                "has no segment rule yet, so it covers no customer; give it one first",
            ));
        }
        Ok((persona.name, persona.customers.into_iter().collect()))
    }
}
