//! The live numbers of a journey map: per stage its reach, the customers who entered at it,
//! conversion to the next stage, drop-off and revenue, per touchpoint its reach and revenue, and
//! the satisfaction and sentiment of each; every figure with its n and its customers, and the
//! definition of each number in words, for the pages to show one click away.
//!
//! The numbers come from the engine's stage walk (`trailmap_analytics::stages`, whose
//! documentation defines them): each customer's events are assigned to stages in time order, a
//! touchpoint on several stages counting at its first stage the first time the customer uses it
//! and at its next stage after (so a first purchase is Purchase's and the next one Retention's);
//! reach is the customers who
//! reached a stage in the period, conversion the share of them who reached a later stage within
//! the window (never above 100 %), drop-off the rest, and revenue each order once, at the stage of
//! the customer's latest event before it, in the business's currency.
//!
//! Advocacy credits the customer who referred: a touchpoint of the referral channel that also
//! sits on an earlier stage of the map counts, on the later stages, the customer whose referral
//! code (their customer property `referral_code`) the event carries, not the friend who came; on
//! its first stage it counts the friend, as any touchpoint counts the customer whose event it is.

use crate::maps::CustomerCount;
use crate::business_data::BusinessData;
use crate::{App, AppError, Result};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use trailmap_analytics::voice::{ScoreAnswer, ScoreKind};
use trailmap_analytics::{Credit, StageTouchpoint, StagesQuery};
use trailmap_model::{
    AnswerValue, Business, Currency, CustomerId, EventColumns, EventField, EventRule, MapId, PersonaId, QuestionKind, StageId, Timestamp, TouchpointChannel,
    TouchpointId,
};
use trailmap_render::ValueFormat;
use trailmap_store::Store;

/// What the live numbers of a map are computed over.
#[derive(Debug, Clone, PartialEq)]
pub struct MapNumbersRequest {
    /// Stages reached, events and orders in `[from, to)`; None: all time.
    pub period: Option<(Timestamp, Timestamp)>,
    /// Only the customers of this persona.
    pub persona: Option<PersonaId>,
    /// How long after reaching a stage a later one still counts as going on.
    pub window_ms: i64,
}

impl Default for MapNumbersRequest {
    fn default() -> Self {
        MapNumbersRequest { period: None, persona: None, window_ms: 30 * Timestamp::MS_PER_DAY }
    }
}

/// Going on from a stage: `converted` over `n` (the stage's reach but those `already_past` it);
/// `converted` splits into those who reached the next stage and those who skipped it, and
/// `dropped` is the rest of `n`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageConversion {
    /// The next measured stage (its id on the map).
    pub next_stage: u32,
    /// Of the reach, those who had reached a later stage before this one (they come back to it).
    pub already_past: CustomerCount,
    /// The stage's reach but those already past it.
    pub n: usize,
    /// `converted.n / n`: at most 1.
    pub rate: f64,
    /// Reached a later stage within the window.
    pub converted: CustomerCount,
    /// Of them, reached the next stage.
    pub to_next_stage: CustomerCount,
    /// Of them, reached only stages past the next one.
    pub skipped: CustomerCount,
    /// Reached no later stage within the window: `n - converted.n` customers.
    pub dropped: CustomerCount,
}

/// Orders counted once each, in the business's currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revenue {
    /// In major units of `currency`.
    pub amount: f64,
    pub currency: String,
    /// The amount as the dashboard writes money: "$42,607", "€12.50".
    pub shown: String,
    pub orders: usize,
    /// The customers who placed those orders.
    pub buyers: CustomerCount,
}

impl Revenue {
    fn of(figures: &trailmap_analytics::stages::StageRevenue, currency: Currency) -> Revenue {
        let amount = figures.minor as f64 / currency.minor_per_major() as f64;
        Revenue {
            amount,
            currency: currency.as_str().to_string(),
            shown: ValueFormat::Money(currency).format(amount),
            orders: figures.orders,
            buyers: CustomerCount::of(figures.buyers.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageNumbers {
    pub stage: u32,
    pub name: String,
    /// The touchpoints whose rules define the stage's events; none: the stage is not measured.
    pub touchpoints: Vec<TouchpointId>,
    pub measured: bool,
    /// The customers who reached the stage in the period.
    pub reach: CustomerCount,
    /// Of the reach: those who had reached none of the earlier stages.
    pub entered_here: CustomerCount,
    /// Of the reach: those who came from an earlier stage.
    pub from_earlier: CustomerCount,
    /// None for the last measured stage.
    pub to_next: Option<StageConversion>,
    /// The orders placed at this stage.
    pub revenue: Revenue,
    /// CSAT (or NPS when the stage's surveys ask NPS) of the answers given in the period.
    pub satisfaction: Option<ScoreFigure>,
    /// The average sentiment of the feedback texts tied to the stage's touchpoints in the period.
    pub sentiment: Option<SentimentFigure>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TouchpointNumbers {
    pub stage: u32,
    pub touchpoint: TouchpointId,
    pub name: String,
    pub channel: String,
    /// Whom its events count for on this stage: "own" (the customer whose event it is) or
    /// "referrer" (the customer who referred them).
    pub credits: Credit,
    /// Customers with an event at this touchpoint on this stage in the period.
    pub reach: CustomerCount,
    /// The orders placed at it on this stage.
    pub revenue: Revenue,
    /// CSAT (or NPS) of the touchpoint's surveys in the period.
    pub satisfaction: Option<ScoreFigure>,
    /// The average sentiment of the touchpoint's feedback texts in the period.
    pub sentiment: Option<SentimentFigure>,
}

/// What one number of the map means, in words, for the popover beside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NumberDefinition {
    /// reach, entered_here, to_next, drop_off, revenue.
    pub key: &'static str,
    pub label: &'static str,
    pub text: String,
}

/// The definitions of the stage numbers for a window of `window_days` and a currency.
pub fn number_definitions(window_days: i64, currency: &str) -> Vec<NumberDefinition> {
    let days = if window_days == 1 { "1 day".to_string() } else { format!("{window_days} days") };
    vec![
        NumberDefinition {
            key: "reach",
            label: "Reach",
            text: "The customers whose first event at this stage fell in the period. A touchpoint on several stages counts at its first stage the first time a customer uses it and at the next stage after, so a first purchase counts at Purchase and the next ones at Retention. A referral touchpoint that also sits on an earlier stage counts here the customer who referred (whose code the friend used), not the friend.".to_string(),
        },
        NumberDefinition {
            key: "entered_here",
            label: "New here",
            text: "Of the reach, the customers who had reached none of the earlier stages: their journey starts at this stage (a walk-in whose first event is a purchase starts at Purchase). The others came from an earlier stage.".to_string(),
        },
        NumberDefinition {
            key: "to_next",
            label: "Went on",
            text: format!("Of the customers who reached this stage, the share who reached a later stage afterwards, within {days}: the next stage, or a stage past it when they skipped it. It is never above 100 %. Customers who had reached a later stage before this one (a regular who calls the shop after buying) came back from a later stage rather than passing through, so they are left out: n is the reach without them."),
        },
        NumberDefinition {
            key: "drop_off",
            label: "Drop-off",
            text: format!("Of the customers who reached this stage (those who came back from a later stage left out), those who reached no later stage within {days}. Reach = came back + went on + drop-off, so drop-off = n - went on."),
        },
        NumberDefinition {
            key: "revenue",
            label: "Revenue",
            text: format!("The orders placed in the period, in {currency}, each counted once: at the stage of the customer's latest event at or before it, the stage where it happened (a first purchase at Purchase, a repeat at Retention), so the stages' revenues differ and never count an order twice. Orders placed before their customer reached any stage are counted apart, so the stages and those add up to the period's revenue."),
        },
    ]
}

/// A satisfaction score shown on a map: a CSAT share (0..1) or an NPS (-100..100), never empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoreFigure {
    pub kind: ScoreKind,
    pub value: f64,
    /// The answers counted.
    pub n: u64,
    /// The customers who answered (those known).
    pub respondents: CustomerCount,
}

/// The average VADER compound score (-1..1) of feedback texts, never over zero texts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SentimentFigure {
    pub average: f64,
    /// The texts scored.
    pub n: usize,
    /// The customers who wrote them (those known).
    pub authors: CustomerCount,
}

/// The survey answers and feedback texts of a business, read once for all of a map's figures.
struct VoiceData {
    /// Per NPS or CSAT question: its kind, the survey's stage and touchpoint, and the answers.
    questions: Vec<(ScoreKind, Option<StageId>, Option<TouchpointId>, Vec<ScoreAnswer>)>,
    /// Per feedback text: its touchpoint, author and compound sentiment.
    feedback: Vec<(Option<TouchpointId>, Option<CustomerId>, f64)>,
}

impl VoiceData {
    /// The satisfaction of the questions `belongs` picks: NPS when any of them asks NPS, else CSAT.
    fn satisfaction(&self, belongs: impl Fn(Option<StageId>, Option<TouchpointId>) -> bool) -> Option<ScoreFigure> {
        let chosen: Vec<_> = self.questions.iter().filter(|(_, s, t, _)| belongs(*s, *t)).collect();
        let kind = if chosen.iter().any(|q| q.0 == ScoreKind::Nps) { ScoreKind::Nps } else { ScoreKind::Csat };
        let answers: Vec<&ScoreAnswer> = chosen.iter().filter(|q| q.0 == kind).flat_map(|q| q.3.iter()).collect();
        let result = trailmap_analytics::voice::score(kind, &answers);
        let value = result.value.filter(|_| result.n > 0)?;
        Some(ScoreFigure { kind, value, n: result.n, respondents: CustomerCount::of(result.customers) })
    }

    /// The average sentiment of the texts tied to one of `touchpoints`.
    fn sentiment(&self, touchpoints: &[TouchpointId]) -> Option<SentimentFigure> {
        let chosen: Vec<_> = self.feedback.iter().filter(|f| f.0.is_some_and(|t| touchpoints.contains(&t))).collect();
        if chosen.is_empty() {
            return None;
        }
        let average = chosen.iter().map(|f| f.2).sum::<f64>() / chosen.len() as f64;
        Some(SentimentFigure { average, n: chosen.len(), authors: CustomerCount::of(chosen.iter().filter_map(|f| f.1).collect()) })
    }
}

/// The live numbers of a map.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MapNumbers {
    pub map: MapId,
    pub period: Option<(Timestamp, Timestamp)>,
    pub persona: Option<String>,
    pub window_ms: i64,
    pub stages: Vec<StageNumbers>,
    pub touchpoints: Vec<TouchpointNumbers>,
    /// Orders placed before their customer reached any stage of the map.
    pub unplaced_revenue: Revenue,
    /// What each stage number means.
    pub definitions: Vec<NumberDefinition>,
}

/// An answer on a score's scale: a number typed as text still counts; anything else is off the
/// scale (NaN, which the scores leave out).
pub(crate) fn score_value(value: &AnswerValue) -> f64 {
    match value {
        AnswerValue::Number(v) => *v,
        AnswerValue::Text(text) => text.trim().parse().unwrap_or(f64::NAN),
        AnswerValue::Choices(_) => f64::NAN,
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::Invalid(message.into())
}

impl App {
    /// The NPS and CSAT answers and the feedback sentiment of the business within `period`
    /// (submitted or written in `[from, to)`), only of one persona's customers when `persona` is
    /// given: the kept answers and feedback of `data`, each on the customer it belongs to now.
    fn voice_data(
        &self,
        business: &Business,
        data: &BusinessData,
        period: Option<(Timestamp, Timestamp)>,
        persona: Option<(&BTreeMap<CustomerId, String>, &str)>,
    ) -> Result<VoiceData> {
        let within = |time: Timestamp| period.is_none_or(|(from, to)| from <= time && time < to);
        let kept = |customer: Option<CustomerId>| match persona {
            None => true,
            Some((labels, name)) => customer.and_then(|c| labels.get(&c)).is_some_and(|label| label == name),
        };
        let mut questions = Vec::new();
        for survey in self.store().surveys(business.id)? {
            let kinds: Vec<(trailmap_model::QuestionId, ScoreKind)> = survey
                .questions
                .iter()
                .filter_map(|q| match q.kind {
                    QuestionKind::Nps => Some((q.id, ScoreKind::Nps)),
                    QuestionKind::Csat => Some((q.id, ScoreKind::Csat)),
                    _ => None,
                })
                .collect();
            if kinds.is_empty() {
                continue;
            }
            // The kept answers of this survey, in id order as the survey lists them.
            let responses: Vec<&trailmap_model::SurveyResponse> = data.responses().iter().filter(|r| r.survey == survey.id).collect();
            for (question, kind) in kinds {
                let answers = responses
                    .iter()
                    .filter(|r| within(r.submitted_at) && kept(r.customer))
                    .copied()
                    .flat_map(|r| r.answers.iter().filter(|a| a.question == question).map(move |a| (r, a)))
                    .map(|(r, a)| ScoreAnswer {
                        response: r.id,
                        customer: r.customer,
                        time: r.submitted_at,
                        value: score_value(&a.value),
                        touchpoint: survey.touchpoint,
                        stage: survey.stage,
                    })
                    .collect();
                questions.push((kind, survey.stage, survey.touchpoint, answers));
            }
        }
        // Each text's sentiment as scored once when it was read.
        let feedback = data
            .feedback()
            .iter()
            .zip(data.sentiment())
            .filter(|(f, _)| f.touchpoint.is_some() && within(f.time) && kept(f.customer))
            .map(|(f, compound)| (f.touchpoint, f.customer, *compound))
            .collect();
        Ok(VoiceData { questions, feedback })
    }

    /// Who referred each referred event of the referral touchpoints' `rules`: the events that
    /// carry a referral code, kept with the business's data (`referrals`: the kept journeys have
    /// no properties), and the customers' `referral_code` property naming each code's owner.
    fn referrers(&self, business: &Business, data: &BusinessData, rules: &[EventRule]) -> Result<HashMap<(CustomerId, i64), CustomerId>> {
        let mut codes = HashMap::new();
        for customer in self.store().customers(business.id, usize::MAX, 0)? {
            if let Some(serde_json::Value::String(code)) = customer.properties.get(crate::referrals::REFERRAL_CODE) {
                codes.insert(code.trim().to_string(), customer.id);
            }
        }
        let events = data.referral_events(self.store(), rules)?;
        Ok(trailmap_analytics::stages::referrers(events.table(), rules, &codes))
    }

    /// The live numbers of a map's stages and touchpoints for a period and an optional persona.
    pub fn map_numbers(&self, business: &Business, id: MapId, request: &MapNumbersRequest) -> Result<MapNumbers> {
        let map = self.journey_map(business, id)?.map;
        if request.window_ms <= 0 {
            return Err(invalid("window: must be positive"));
        }
        if let Some((from, to)) = request.period
            && from >= to
        {
            return Err(invalid("period: the start must be before the end"));
        }
        let catalogue: HashMap<TouchpointId, trailmap_model::Touchpoint> =
            self.store().touchpoints(business.id)?.into_iter().map(|t| (t.id, t)).collect();
        let persona = match request.persona {
            Some(p) => Some(
                self.store()
                    .personas(business.id)?
                    .into_iter()
                    .find(|x| x.id == p)
                    .ok_or_else(|| invalid(format!("persona: {} has no persona {p}", business.name)))?,
            ),
            None => None,
        };
        let labels = match &persona {
            Some(_) => Some(self.persona_labels(business)?),
            None => None,
        };
        let persona_name = persona.as_ref().map(|p| p.name.clone());
        let data = self.business_data(business.id)?;
        let voice = self.voice_data(business, &data, request.period, labels.as_ref().zip(persona_name.as_deref()))?;
        // Each stage's touchpoints in the stage's order; a referral touchpoint already on an
        // earlier stage credits the referrer on the later ones.
        let mut seen: Vec<TouchpointId> = Vec::new();
        let stage_touchpoints: Vec<Vec<(&trailmap_model::Touchpoint, Credit)>> = map
            .stages
            .iter()
            .map(|stage| {
                let list: Vec<_> = stage
                    .touchpoints
                    .iter()
                    .filter_map(|t| catalogue.get(t))
                    .map(|t| {
                        let credit = if t.channel == TouchpointChannel::Referral && seen.contains(&t.id) { Credit::Referrer } else { Credit::Own };
                        (t, credit)
                    })
                    .collect();
                seen.extend(list.iter().map(|(t, _)| t.id));
                list
            })
            .collect();
        let referral_rules: Vec<EventRule> =
            stage_touchpoints.iter().flatten().filter(|(_, c)| *c == Credit::Referrer).map(|(t, _)| t.rule.clone()).collect();
        let referrers = if referral_rules.is_empty() { HashMap::new() } else { self.referrers(business, &data, &referral_rules)? };
        // The kept journeys, unless a touchpoint's rule reads an event property (they have none).
        let needs_properties = stage_touchpoints.iter().flatten().any(|(t, _)| t.rule.conditions.iter().any(|c| matches!(c.field, EventField::Property(_))));
        let journeys = self.journeys(business.id, EventColumns { properties: needs_properties })?;
        // The kept orders, each on the customer it belongs to now, as the events are.
        let table = data.orders();
        let orders: Vec<(CustomerId, i64, i64)> = (0..table.len())
            .filter(|&row| table.currency[row] == business.currency)
            .map(|row| (table.customer[row], table.time[row], table.total_minor[row]))
            .collect();
        let only: Option<BTreeSet<CustomerId>> = labels
            .as_ref()
            .zip(persona_name.as_deref())
            .map(|(labels, name)| labels.iter().filter(|(_, l)| l.as_str() == name).map(|(c, _)| *c).collect());
        let query = StagesQuery {
            stages: stage_touchpoints
                .iter()
                .map(|list| list.iter().map(|(t, credit)| StageTouchpoint { touchpoint: t.id.0, rule: t.rule.clone(), credit: *credit }).collect())
                .collect(),
            window_ms: request.window_ms,
            period: request.period.map(|(f, t)| (f.millis(), t.millis())),
            referrers,
            only,
            orders,
        };
        let figures = trailmap_analytics::stages(&journeys, &query).map_err(|e| invalid(format!("map numbers: {e}")))?;
        let currency = business.currency;
        let mut stages = Vec::new();
        let mut touchpoint_numbers = Vec::new();
        for (k, stage) in map.stages.iter().enumerate() {
            let f = &figures.stages[k];
            let reach = CustomerCount::of(f.reach.clone());
            let to_next = f.onward.as_ref().map(|o| StageConversion {
                next_stage: map.stages[o.next_stage].id,
                already_past: CustomerCount::of(o.already_past.clone()),
                n: o.went_on.len() + o.dropped.len(),
                rate: if o.went_on.is_empty() { 0.0 } else { o.went_on.len() as f64 / (o.went_on.len() + o.dropped.len()) as f64 },
                converted: CustomerCount::of(o.went_on.clone()),
                to_next_stage: CustomerCount::of(o.to_next.clone()),
                skipped: CustomerCount::of(o.skipped.clone()),
                dropped: CustomerCount::of(o.dropped.clone()),
            });
            // A survey counts on the stage it names, or on the stage holding its touchpoint.
            let satisfaction = voice.satisfaction(|s, t| (s.is_some() && s == stage.stage) || t.is_some_and(|t| stage.touchpoints.contains(&t)));
            let sentiment = voice.sentiment(&stage.touchpoints);
            stages.push(StageNumbers {
                stage: stage.id,
                name: stage.name.clone(),
                touchpoints: stage.touchpoints.clone(),
                measured: f.measured,
                entered_here: CustomerCount::of(f.entered_here.clone()),
                from_earlier: CustomerCount::of(f.from_earlier.clone()),
                reach,
                to_next,
                revenue: Revenue::of(&f.revenue, currency),
                satisfaction,
                sentiment,
            });
            for ((t, credit), tf) in stage_touchpoints[k].iter().zip(&f.touchpoints) {
                touchpoint_numbers.push(TouchpointNumbers {
                    stage: stage.id,
                    touchpoint: t.id,
                    name: t.name.clone(),
                    channel: t.channel.as_str().to_string(),
                    credits: *credit,
                    reach: CustomerCount::of(tf.reach.clone()),
                    revenue: Revenue::of(&tf.revenue, currency),
                    satisfaction: voice.satisfaction(|_, tp| tp == Some(t.id)),
                    sentiment: voice.sentiment(&[t.id]),
                });
            }
        }
        Ok(MapNumbers {
            map: id,
            period: request.period,
            persona: persona_name,
            window_ms: request.window_ms,
            stages,
            touchpoints: touchpoint_numbers,
            unplaced_revenue: Revenue::of(&figures.unplaced, currency),
            definitions: number_definitions(request.window_ms / Timestamp::MS_PER_DAY, currency.as_str()),
        })
    }
}
