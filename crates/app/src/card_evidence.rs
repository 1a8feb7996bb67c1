//! The evidence of a map's cards as it is shown, live: a quote or a survey answer with its words,
//! source and date; a survey score (NPS, CSAT or CES of a touchpoint, a stage or the business)
//! with its n and interval; a metric in the forms changes use with its value, n and its trend
//! against the days before, or the reason it cannot be computed; and, on the card a change
//! answers, that change's verdict. All of it for the map's period and persona, so the card's
//! numbers agree with the funnel, the survey results and the change pages for the same period.
//!
//! Decisions a caller should know:
//! - The period: the map's (the live numbers' `from`/`to`), or every recorded day when none is
//!   chosen. A metric's trend compares the period with as many days just before it; over every
//!   recorded day, its last 30 days with the 30 before them.
//! - A persona keeps only its customers: answers and orders without a known customer drop out.
//! - A card rests on evidence when it cites anything; the map counts those cards. A card's
//!   quotes are shown strongest first (the largest absolute sentiment), so the card can show its
//!   two strongest and the count of the rest.

use crate::impact::{ImpactRequest, MetricOver};
use crate::{App, DayRange, MapNumbersRequest, Result};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use trailmap_analytics::voice::{ScoreAnswer, ScoreKind, ScoreResult};
use trailmap_model::{
    AnswerValue, Business, ChangeId, ChangeMetric, CustomerId, Evidence, FeedbackId, JourneyMap, QuestionId, QuestionKind, ResponseId,
    StageId, SurveyScore, Timestamp, TouchpointId,
};
use trailmap_store::Store;

/// One piece of a card's evidence, resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvidenceView {
    Quote {
        feedback: FeedbackId,
        text: String,
        /// Interview, focus group, survey answer, review or social mention.
        source_kind: crate::research::ResearchKind,
        source: String,
        author: Option<String>,
        date: chrono::NaiveDate,
        /// VADER compound score, -1..1.
        sentiment: f64,
    },
    SurveyAnswer {
        response: ResponseId,
        question: QuestionId,
        survey: String,
        question_text: String,
        answer: String,
        date: chrono::NaiveDate,
    },
    Score {
        score: SurveyScore,
        /// "Checkout", "stage Purchase", "the whole business".
        scope: String,
        /// NPS -100..100, CSAT a share 0..1, CES a mean 1..7; None without answers.
        value: Option<f64>,
        /// The value as written ("NPS 32", "CSAT 81%", "CES 2.4").
        shown: String,
        /// The answers counted.
        n: u64,
        /// The 95% interval, when the answers allow one.
        interval: Option<(f64, f64)>,
    },
    Metric {
        /// The metric's text form.
        form: String,
        /// None when it cannot be computed; `reason` says why.
        figure: Option<Box<MetricOver>>,
        reason: Option<String>,
    },
    Note {
        text: String,
    },
    /// Evidence whose item is gone (an erased customer's quote, a deleted survey).
    Missing {
        evidence: String,
        reason: String,
    },
}

impl EvidenceView {
    /// Its kind, as its serialised tag.
    pub fn kind(&self) -> &'static str {
        match self {
            EvidenceView::Quote { .. } => "quote",
            EvidenceView::SurveyAnswer { .. } => "survey_answer",
            EvidenceView::Score { .. } => "score",
            EvidenceView::Metric { .. } => "metric",
            EvidenceView::Note { .. } => "note",
            EvidenceView::Missing { .. } => "missing",
        }
    }
}

/// A change that answers a card, with its verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnsweringChange {
    pub change: ChangeId,
    pub title: String,
    pub date: chrono::NaiveDate,
    /// The impact's verdict with n, or why there is none (no metric, too early).
    pub verdict: String,
}

/// A piece of evidence with its place among the card's (what removing it names).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CitedEvidence {
    /// 0-based, in the card's order.
    pub index: usize,
    #[serde(flatten)]
    pub view: EvidenceView,
}

/// One card's evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardEvidence {
    pub card: u32,
    /// Quotes strongest first, then the other evidence in the card's order.
    pub items: Vec<CitedEvidence>,
    pub quotes: usize,
    pub changes: Vec<AnsweringChange>,
}

/// The evidence of every card of a map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapEvidence {
    /// The days the live evidence covers.
    pub period: DayRange,
    pub persona: Option<String>,
    pub cards: BTreeMap<u32, CardEvidence>,
    /// Cards that cite evidence, of `total` cards.
    pub evidenced: usize,
    pub total: usize,
}

impl MapEvidence {
    /// "12 of 35 cards rest on evidence".
    pub fn summary(&self) -> String {
        let cards = if self.total == 1 { "1 card".to_string() } else { format!("{} cards", self.total) };
        let verb = if self.evidenced == 1 { "rests" } else { "rest" };
        format!("{} of {cards} {verb} on evidence", self.evidenced)
    }
}

/// The survey answers of one kind, with their survey's stage and touchpoint.
fn score_answers(
    surveys: &[trailmap_model::Survey],
    responses: &[trailmap_model::SurveyResponse],
    kind: QuestionKind,
    within: impl Fn(Timestamp, Option<CustomerId>) -> bool,
) -> Vec<ScoreAnswer> {
    let mut answers = Vec::new();
    for survey in surveys {
        let questions: Vec<QuestionId> = survey.questions.iter().filter(|q| q.kind == kind).map(|q| q.id).collect();
        if questions.is_empty() {
            continue;
        }
        for response in responses.iter().filter(|r| r.survey == survey.id && within(r.submitted_at, r.customer)) {
            for answer in response.answers.iter().filter(|a| questions.contains(&a.question)) {
                answers.push(ScoreAnswer {
                    response: response.id,
                    customer: response.customer,
                    time: response.submitted_at,
                    value: crate::map_numbers::score_value(&answer.value),
                    touchpoint: survey.touchpoint,
                    stage: survey.stage,
                });
            }
        }
    }
    answers
}

fn score_shown(score: SurveyScore, result: &ScoreResult) -> String {
    match (score, result.value) {
        (_, None) => format!("{}: no answers", score.as_str().to_uppercase()),
        (SurveyScore::Nps, Some(v)) => format!("NPS {v:.0}"),
        (SurveyScore::Csat, Some(v)) => format!("CSAT {:.0}%", v * 100.0),
        (SurveyScore::Ces, Some(v)) => format!("CES {v:.1}"),
    }
}

impl App {
    /// The live evidence of every card of `map` for the live numbers' period and persona.
    pub fn map_evidence(&self, business: &Business, map: &JourneyMap, request: &MapNumbersRequest) -> Result<MapEvidence> {
        let data = self.business_data(business.id)?;
        let zone = crate::dashboard::zone_of(business);
        let local = |t: Timestamp| crate::dashboard::local_day(t.millis(), zone);
        // The numbers' period is whole days written as UTC instants (see `query::day_span`).
        let period = request.period.map(|(from, to)| DayRange { from: from.date(), to: to.add_millis(-1).date() });
        let persona_name = match request.persona {
            Some(p) => self.store().personas(business.id)?.into_iter().find(|x| x.id == p).map(|x| x.name),
            None => None,
        };
        let only: Option<HashSet<CustomerId>> = match &persona_name {
            Some(name) => Some(self.persona_labels(business)?.into_iter().filter(|(_, l)| l == name).map(|(c, _)| c).collect()),
            None => None,
        };
        let within = |time: Timestamp, customer: Option<CustomerId>| {
            request.period.is_none_or(|(from, to)| from <= time && time < to)
                && only.as_ref().is_none_or(|keep| customer.is_some_and(|c| keep.contains(&c)))
        };
        let feedback: HashMap<FeedbackId, (&trailmap_model::Feedback, f64)> =
            data.feedback().iter().zip(data.sentiment()).map(|(f, s)| (f.id, (f, *s))).collect();
        let surveys = self.store().surveys(business.id)?;
        let touchpoints = self.store().touchpoints(business.id)?;
        let stages = self.store().stages(business.id)?;
        let changes = self.store().changes(business.id)?;
        // Every metric the map cites, each computed once, over one read of the events and orders.
        let mut forms: Vec<&str> = map
            .cards()
            .flat_map(|(_, _, c)| c.evidence.iter())
            .filter_map(|e| match e {
                Evidence::Metric { name } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        forms.sort_unstable();
        forms.dedup();
        let mut metrics: HashMap<String, std::result::Result<MetricOver, String>> = HashMap::new();
        let mut readable: Vec<(&str, ChangeMetric)> = Vec::new();
        for name in forms {
            match name.parse::<ChangeMetric>() {
                Ok(metric) => readable.push((name, metric)),
                Err(e) => {
                    metrics.insert(name.to_string(), Err(format!("“{name}” is not a metric Trailmap computes ({e})")));
                }
            }
        }
        let asked: Vec<ChangeMetric> = readable.iter().map(|(_, m)| m.clone()).collect();
        match self.metrics_over(business, &asked, period, only.as_ref()) {
            Ok(answers) => {
                for ((name, _), answer) in readable.iter().zip(answers) {
                    metrics.insert(name.to_string(), answer.map_err(|e| e.to_string()));
                }
            }
            Err(e) => {
                for (name, _) in &readable {
                    metrics.insert(name.to_string(), Err(e.to_string()));
                }
            }
        }
        let mut cards = BTreeMap::new();
        let (mut evidenced, mut total) = (0, 0);
        for (_, _, card) in map.cards() {
            total += 1;
            if !card.evidence.is_empty() {
                evidenced += 1;
            }
            let mut quotes = Vec::new();
            let mut others = Vec::new();
            for (index, evidence) in card.evidence.iter().enumerate() {
                let view = match evidence {
                    Evidence::Quote { feedback: id } => match feedback.get(id) {
                        Some((f, sentiment)) => EvidenceView::Quote {
                            feedback: *id,
                            text: f.text.clone(),
                            source_kind: crate::research::ResearchKind::of(f.kind),
                            source: f.source.clone(),
                            author: f.author.clone(),
                            date: local(f.time),
                            sentiment: *sentiment,
                        },
                        None => EvidenceView::Missing { evidence: evidence.to_string(), reason: format!("quote {id} is no longer stored (erased or removed)") },
                    },
                    Evidence::SurveyAnswer { response, question } => {
                        let found = data.responses().iter().find(|r| r.id == *response).and_then(|r| {
                            let survey = surveys.iter().find(|s| s.id == r.survey)?;
                            let q = survey.questions.iter().find(|q| q.id == *question)?;
                            let a = r.answers.iter().find(|a| a.question == *question)?;
                            let answer = match &a.value {
                                AnswerValue::Number(v) => format!("{v}"),
                                AnswerValue::Text(t) => t.clone(),
                                AnswerValue::Choices(c) => c.join(", "),
                            };
                            Some(EvidenceView::SurveyAnswer {
                                response: *response,
                                question: *question,
                                survey: survey.name.clone(),
                                question_text: q.text.clone(),
                                answer,
                                date: local(r.submitted_at),
                            })
                        });
                        found.unwrap_or_else(|| EvidenceView::Missing {
                            evidence: evidence.to_string(),
                            reason: format!("answer {response}/{question} is no longer stored"),
                        })
                    }
                    Evidence::Score { score, touchpoint, stage } => self.score_view(*score, *touchpoint, *stage, &surveys, &data, &touchpoints, &stages, &within),
                    Evidence::Metric { name } => {
                        // Every form the map cites was computed above.
                        let computed = metrics.get(name).cloned().unwrap_or_else(|| Err(format!("“{name}” was not computed")));
                        match computed {
                            Ok(figure) => EvidenceView::Metric { form: name.clone(), figure: Some(Box::new(figure)), reason: None },
                            Err(reason) => EvidenceView::Metric { form: name.clone(), figure: None, reason: Some(reason) },
                        }
                    }
                    Evidence::Note { text } => EvidenceView::Note { text: text.clone() },
                };
                let cited = CitedEvidence { index, view };
                if matches!(cited.view, EvidenceView::Quote { .. }) { quotes.push(cited) } else { others.push(cited) }
            }
            quotes.sort_by(|a, b| strength(&b.view).total_cmp(&strength(&a.view)));
            let answering: Vec<AnsweringChange> = changes
                .iter()
                .filter(|c| c.answers.is_some_and(|r| r.map == map.id && r.card == card.id) || card.action.as_ref().is_some_and(|a| a.change == Some(c.id)))
                .map(|c| AnsweringChange {
                    change: c.id,
                    title: c.title.clone(),
                    date: c.date,
                    verdict: match self.change_impact(business, c.id, &ImpactRequest::default()) {
                        Ok(impact) => impact.verdict,
                        Err(e) => format!("no verdict yet: {e}"),
                    },
                })
                .collect();
            let n_quotes = quotes.len();
            quotes.extend(others);
            cards.insert(card.id, CardEvidence { card: card.id, items: quotes, quotes: n_quotes, changes: answering });
        }
        let period = match period {
            Some(p) => p,
            None => self.recorded_span(business)?.map_or_else(
                || {
                    let today = chrono::Utc::now().date_naive();
                    DayRange { from: today, to: today }
                },
                |s| s.period,
            ),
        };
        Ok(MapEvidence { period, persona: persona_name, cards, evidenced, total })
    }

    /// A survey score of a touchpoint, a stage (its surveys and its touchpoints' surveys) or the
    /// whole business, over the answers `within` keeps.
    #[allow(clippy::too_many_arguments)]
    fn score_view(
        &self,
        score: SurveyScore,
        touchpoint: Option<TouchpointId>,
        stage: Option<StageId>,
        surveys: &[trailmap_model::Survey],
        data: &crate::business_data::BusinessData,
        touchpoints: &[trailmap_model::Touchpoint],
        stages: &[trailmap_model::Stage],
        within: &dyn Fn(Timestamp, Option<CustomerId>) -> bool,
    ) -> EvidenceView {
        let (kind, question) = match score {
            SurveyScore::Nps => (ScoreKind::Nps, QuestionKind::Nps),
            SurveyScore::Csat => (ScoreKind::Csat, QuestionKind::Csat),
            SurveyScore::Ces => (ScoreKind::Ces, QuestionKind::Ces),
        };
        let stage_of = |t: Option<TouchpointId>| t.and_then(|t| touchpoints.iter().find(|x| x.id == t)).and_then(|t| t.stage);
        let chosen: Vec<trailmap_model::Survey> = surveys
            .iter()
            .filter(|s| match (touchpoint, stage) {
                (Some(t), _) => s.touchpoint == Some(t),
                (None, Some(st)) => s.stage == Some(st) || stage_of(s.touchpoint) == Some(st),
                (None, None) => true,
            })
            .cloned()
            .collect();
        let answers = score_answers(&chosen, data.responses(), question, within);
        let refs: Vec<&ScoreAnswer> = answers.iter().collect();
        let result = trailmap_analytics::voice::score(kind, &refs);
        let scope = match (touchpoint, stage) {
            (Some(t), _) => touchpoints.iter().find(|x| x.id == t).map_or_else(|| format!("touchpoint {t}"), |x| x.name.clone()),
            (None, Some(s)) => stages.iter().find(|x| x.id == s).map_or_else(|| format!("stage {s}"), |x| format!("stage {}", x.name)),
            (None, None) => "the whole business".to_string(),
        };
        EvidenceView::Score {
            score,
            scope,
            shown: score_shown(score, &result),
            value: result.value,
            n: result.n,
            interval: result.interval.map(|i| (i.low, i.high)),
        }
    }
}

/// How strongly a quote speaks: the size of its sentiment either way.
fn strength(view: &EvidenceView) -> f64 {
    match view {
        EvidenceView::Quote { sentiment, .. } => sentiment.abs(),
        _ => 0.0,
    }
}
