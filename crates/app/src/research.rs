//! The research library: every quote of a business in one list (interview and focus-group notes,
//! survey free-text answers, reviews and social mentions, each a feedback record), filtered by
//! tag, kind, persona, touchpoint, stage, sentiment, date and words, with the count of each tag,
//! where each quote is cited on the maps, and the links to its session, survey and customer.
//! Tags are added to and removed from any item here, and quotes are attached to a map's card.
//!
//! Decisions a caller should know:
//! - Sentiment bands follow VADER's published thresholds: compound ≤ −0.05 is negative, ≥ 0.05
//!   positive, between them neutral.
//! - The tag counts are over the items matching every filter but the tag, so picking a tag does
//!   not hide the others.
//! - An item's persona is its customer's (by the personas' rules); an item without a known
//!   customer (most reviews) has none and is left out when a persona is asked.
//! - The order is newest first, then by id, so pages of the list are stable.

use crate::dashboard::zone_of;
use crate::engine::touchpoint_named;
use crate::query::{FromParams, Params, count, field_error, period};
use crate::{App, AppError, DayRange, MapEdit, Result};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use trailmap_model::{Business, CustomerId, Evidence, FeedbackId, FeedbackKind, Lane, MapId, SurveyId, TouchpointId};
use trailmap_store::Store;

/// Where a piece of research comes from, as the library groups it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResearchKind {
    Interview,
    FocusGroup,
    Survey,
    Review,
    Social,
}

impl ResearchKind {
    pub const ALL: [ResearchKind; 5] =
        [ResearchKind::Interview, ResearchKind::FocusGroup, ResearchKind::Survey, ResearchKind::Review, ResearchKind::Social];

    pub fn of(kind: FeedbackKind) -> ResearchKind {
        match kind {
            FeedbackKind::Note => ResearchKind::Interview,
            FeedbackKind::FocusGroup => ResearchKind::FocusGroup,
            FeedbackKind::SurveyText => ResearchKind::Survey,
            FeedbackKind::Review => ResearchKind::Review,
            FeedbackKind::Mention => ResearchKind::Social,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ResearchKind::Interview => "interview",
            ResearchKind::FocusGroup => "focus_group",
            ResearchKind::Survey => "survey",
            ResearchKind::Review => "review",
            ResearchKind::Social => "social",
        }
    }

    /// The kind as a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            ResearchKind::Interview => "Interview",
            ResearchKind::FocusGroup => "Focus group",
            ResearchKind::Survey => "Survey answer",
            ResearchKind::Review => "Review",
            ResearchKind::Social => "Social mention",
        }
    }

    pub fn parse(text: &str) -> Option<ResearchKind> {
        let text = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        ResearchKind::ALL.into_iter().find(|k| k.as_str() == text || (text == "mention" && *k == ResearchKind::Social))
    }
}

/// A text's sentiment band by its VADER compound score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SentimentBand {
    Negative,
    Neutral,
    Positive,
}

impl SentimentBand {
    pub const ALL: [SentimentBand; 3] = [SentimentBand::Negative, SentimentBand::Neutral, SentimentBand::Positive];

    /// VADER's thresholds: ≤ −0.05 negative, ≥ 0.05 positive.
    pub fn of(compound: f64) -> SentimentBand {
        if compound <= -0.05 {
            SentimentBand::Negative
        } else if compound >= 0.05 {
            SentimentBand::Positive
        } else {
            SentimentBand::Neutral
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SentimentBand::Negative => "negative",
            SentimentBand::Neutral => "neutral",
            SentimentBand::Positive => "positive",
        }
    }

    pub fn parse(text: &str) -> Option<SentimentBand> {
        SentimentBand::ALL.into_iter().find(|b| b.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// What the library shows: every filter is optional; names are matched ignoring case.
#[derive(Debug, Clone, PartialEq)]
pub struct ResearchQuery {
    pub tag: Option<String>,
    pub kind: Option<ResearchKind>,
    /// A persona by name or id.
    pub persona: Option<String>,
    /// A touchpoint by name or id.
    pub touchpoint: Option<String>,
    /// A business stage by name.
    pub stage: Option<String>,
    pub sentiment: Option<SentimentBand>,
    /// Whole days in the business's time zone, both included.
    pub period: Option<DayRange>,
    /// One session or survey: the source as stored ("Interview with Anna, 2024-03-05").
    pub source: Option<String>,
    /// Words the text contains, ignoring case.
    pub search: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

/// The items a page of the library lists unless asked.
pub const RESEARCH_PAGE: usize = 50;

impl Default for ResearchQuery {
    fn default() -> Self {
        ResearchQuery {
            tag: None,
            kind: None,
            persona: None,
            touchpoint: None,
            stage: None,
            sentiment: None,
            period: None,
            source: None,
            search: None,
            limit: RESEARCH_PAGE,
            offset: 0,
        }
    }
}

impl FromParams for ResearchQuery {
    fn from_params(params: &Params) -> Result<ResearchQuery> {
        let text = |name: &str| params.get(name).map(str::to_string);
        let kind = match params.get("kind") {
            None => None,
            Some(k) => Some(ResearchKind::parse(k).ok_or_else(|| {
                field_error("kind", format!("{k:?} is not one of {}", ResearchKind::ALL.map(ResearchKind::as_str).join(", ")))
            })?),
        };
        let sentiment = match params.get("sentiment") {
            None => None,
            Some(s) => Some(SentimentBand::parse(s).ok_or_else(|| field_error("sentiment", format!("{s:?} is not negative, neutral or positive")))?),
        };
        Ok(ResearchQuery {
            tag: text("tag").map(|t| t.trim_start_matches('#').to_lowercase()),
            kind,
            persona: text("persona"),
            touchpoint: text("touchpoint"),
            stage: text("stage"),
            sentiment,
            period: period(params.get("from"), params.get("to"))?,
            source: text("source"),
            search: text("search"),
            limit: count("limit", params.get("limit"), RESEARCH_PAGE, 1, 1000)?,
            offset: count("offset", params.get("offset"), 0, 0, usize::MAX)?,
        })
    }
}

/// A card on a map that cites a quote.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Citation {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub map: MapId,
    pub map_name: String,
    pub card: u32,
    pub card_text: String,
    pub stage: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub lane: Lane,
}

/// One quote of the library.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResearchItem {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub feedback: FeedbackId,
    pub kind: ResearchKind,
    /// The session's heading, the survey's name, or the review site.
    pub source: String,
    /// Who said it: the interviewee, the focus group's speaker, the review's author.
    pub author: Option<String>,
    /// The day in the business's time zone.
    pub date: NaiveDate,
    pub text: String,
    pub tags: Vec<String>,
    /// On the 1-5 scale, when the source rated.
    pub rating: Option<f32>,
    /// The review's or post's own address.
    pub link: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub touchpoint: Option<TouchpointId>,
    pub touchpoint_name: Option<String>,
    /// The business stage of its touchpoint.
    pub stage: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub customer: Option<CustomerId>,
    pub persona: Option<String>,
    /// The survey a free-text answer came from.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub survey: Option<SurveyId>,
    /// VADER compound score, -1..1.
    pub sentiment: f64,
    pub band: SentimentBand,
    /// The cards that cite it.
    pub cited_by: Vec<Citation>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagCount {
    pub tag: String,
    /// Items carrying the tag among those matching every filter but the tag.
    pub count: usize,
}

/// A page of the library.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResearchLibrary {
    /// Every item of the business.
    pub total: usize,
    /// The items matching the filters; `items` is the page of them asked for.
    pub n: usize,
    pub offset: usize,
    pub limit: usize,
    pub items: Vec<ResearchItem>,
    /// Most used first, then by name.
    pub tags: Vec<TagCount>,
    /// Items of each kind among those matching every filter but the kind.
    pub kinds: Vec<KindCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KindCount {
    pub kind: ResearchKind,
    pub count: usize,
}

/// The longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 40;

/// A tag as stored: lower case without `#`, letters, digits, `-` and `_` only.
pub fn clean_tag(text: &str) -> Result<String> {
    let tag = text.trim().trim_start_matches('#').to_lowercase();
    let fine = !tag.is_empty() && tag.chars().count() <= MAX_TAG_CHARS && tag.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if fine {
        Ok(tag)
    } else {
        Err(field_error("tag", format!("{text:?} is not a tag: 1 to {MAX_TAG_CHARS} letters, digits, - or _")))
    }
}

/// A card quotes can be attached to, as a picker lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardChoice {
    pub map: MapId,
    pub map_name: String,
    pub card: u32,
    pub stage: String,
    pub lane: Lane,
    pub text: String,
    /// How many quotes it cites already.
    pub quotes: usize,
}

impl App {
    /// Every card of the business's maps, pain points first, then opportunities, thoughts, goals
    /// and actions (what research most often backs), map by map.
    pub fn citable_cards(&self, business: &Business) -> Result<Vec<CardChoice>> {
        let order = [Lane::PainPoints, Lane::Opportunities, Lane::Thoughts, Lane::Goals, Lane::Actions];
        let mut choices = Vec::new();
        for map in self.store().maps(business.id)? {
            for lane in order {
                for (stage, _, card) in map.cards().filter(|(_, l, _)| *l == lane) {
                    choices.push(CardChoice {
                        map: map.id,
                        map_name: map.name.clone(),
                        card: card.id,
                        stage: stage.name.clone(),
                        lane,
                        text: card.text.clone(),
                        quotes: card.evidence.iter().filter(|e| matches!(e, Evidence::Quote { .. })).count(),
                    });
                }
            }
        }
        Ok(choices)
    }

    /// The cards of the business's maps (newest versions) that cite each quote.
    pub fn quote_citations(&self, business: &Business) -> Result<HashMap<FeedbackId, Vec<Citation>>> {
        let mut cited: HashMap<FeedbackId, Vec<Citation>> = HashMap::new();
        for map in self.store().maps(business.id)? {
            for (stage, lane, card) in map.cards() {
                for evidence in &card.evidence {
                    if let Evidence::Quote { feedback } = evidence {
                        cited.entry(*feedback).or_default().push(Citation {
                            map: map.id,
                            map_name: map.name.clone(),
                            card: card.id,
                            card_text: card.text.clone(),
                            stage: stage.name.clone(),
                            lane,
                        });
                    }
                }
            }
        }
        Ok(cited)
    }

    /// The library: the items matching `query`, a page of them, and the counts of tags and kinds.
    pub fn research(&self, business: &Business, query: &ResearchQuery) -> Result<ResearchLibrary> {
        let zone = zone_of(business);
        let data = self.business_data(business.id)?;
        let touchpoints = self.store().touchpoints(business.id)?;
        let stage_names: HashMap<_, _> = self.store().stages(business.id)?.into_iter().map(|s| (s.id, s.name)).collect();
        let surveys: HashMap<String, SurveyId> = self.store().surveys(business.id)?.into_iter().map(|s| (s.name, s.id)).collect();
        let wanted_touchpoint = match &query.touchpoint {
            None => None,
            Some(text) => Some(match text.parse::<i64>() {
                Ok(id) => touchpoints.iter().find(|t| t.id.0 == id).map(|t| t.id).ok_or_else(|| field_error("touchpoint", format!("{} has no touchpoint {id}", business.name)))?,
                Err(_) => touchpoint_named(&touchpoints, text).map(|t| t.id).map_err(|reason| field_error("touchpoint", reason))?,
            }),
        };
        let wanted_stage = match &query.stage {
            None => None,
            Some(text) => Some(
                stage_names
                    .iter()
                    .find(|(_, name)| name.eq_ignore_ascii_case(text.trim()))
                    .map(|(id, _)| *id)
                    .ok_or_else(|| field_error("stage", format!("{} has no stage named {text:?}", business.name)))?,
            ),
        };
        let wanted_persona = match &query.persona {
            None => None,
            Some(text) => {
                let personas = self.store().personas(business.id)?;
                let found = match text.parse::<i64>() {
                    Ok(id) => personas.iter().find(|p| p.id.0 == id),
                    Err(_) => personas.iter().find(|p| p.name.eq_ignore_ascii_case(text.trim())),
                };
                Some(found.map(|p| p.name.clone()).ok_or_else(|| field_error("persona", format!("{} has no persona {text:?}", business.name)))?)
            }
        };
        // Each item shows its customer's persona, so the labels are read whenever there are items.
        let labels = if data.feedback().is_empty() { None } else { Some(self.persona_labels(business)?) };
        let citations = self.quote_citations(business)?;
        let search = query.search.as_deref().map(str::to_lowercase);
        let touchpoint_of: HashMap<TouchpointId, &trailmap_model::Touchpoint> = touchpoints.iter().map(|t| (t.id, t)).collect();

        // Every item, with whether it passes each filter but the tag and the kind.
        let mut rows: Vec<(ResearchItem, bool)> = Vec::new();
        for (feedback, compound) in data.feedback().iter().zip(data.sentiment()) {
            let date = crate::dashboard::local_day(feedback.time.millis(), zone);
            let touchpoint = feedback.touchpoint.and_then(|t| touchpoint_of.get(&t).copied());
            let stage = touchpoint.and_then(|t| t.stage);
            let persona = feedback.customer.and_then(|c| labels.as_ref().and_then(|l| l.get(&c))).filter(|l| l.as_str() != "(no persona)").cloned();
            let kind = ResearchKind::of(feedback.kind);
            let passes = wanted_touchpoint.is_none_or(|t| feedback.touchpoint == Some(t))
                && wanted_stage.is_none_or(|s| stage == Some(s))
                && wanted_persona.as_ref().is_none_or(|p| persona.as_ref() == Some(p))
                && query.sentiment.is_none_or(|b| SentimentBand::of(*compound) == b)
                && query.period.is_none_or(|p| p.from <= date && date <= p.to)
                && query.source.as_ref().is_none_or(|s| feedback.source.eq_ignore_ascii_case(s.trim()))
                && search.as_ref().is_none_or(|s| feedback.text.to_lowercase().contains(s.as_str()));
            rows.push((
                ResearchItem {
                    feedback: feedback.id,
                    kind,
                    source: feedback.source.clone(),
                    author: feedback.author.clone(),
                    date,
                    text: feedback.text.clone(),
                    tags: feedback.tags.clone(),
                    rating: feedback.rating,
                    link: feedback.link.clone(),
                    touchpoint: feedback.touchpoint,
                    touchpoint_name: touchpoint.map(|t| t.name.clone()),
                    stage: stage.and_then(|s| stage_names.get(&s).cloned()),
                    customer: feedback.customer,
                    persona,
                    survey: (kind == ResearchKind::Survey).then(|| surveys.get(&feedback.source).copied()).flatten(),
                    sentiment: *compound,
                    band: SentimentBand::of(*compound),
                    cited_by: citations.get(&feedback.id).cloned().unwrap_or_default(),
                },
                passes,
            ));
        }
        let has_tag = |item: &ResearchItem| query.tag.as_ref().is_none_or(|t| item.tags.contains(t));
        let of_kind = |item: &ResearchItem| query.kind.is_none_or(|k| item.kind == k);
        let mut tag_counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut kind_counts: BTreeMap<ResearchKind, usize> = BTreeMap::new();
        for (item, passes) in &rows {
            if *passes && of_kind(item) {
                for tag in &item.tags {
                    *tag_counts.entry(tag.clone()).or_default() += 1;
                }
            }
            if *passes && has_tag(item) {
                *kind_counts.entry(item.kind).or_default() += 1;
            }
        }
        let total = rows.len();
        let mut matching: Vec<ResearchItem> = rows.into_iter().filter(|(i, passes)| *passes && has_tag(i) && of_kind(i)).map(|(i, _)| i).collect();
        matching.sort_by(|a, b| b.date.cmp(&a.date).then(b.feedback.cmp(&a.feedback)));
        let n = matching.len();
        let items = matching.into_iter().skip(query.offset).take(query.limit).collect();
        let mut tags: Vec<TagCount> = tag_counts.into_iter().map(|(tag, count)| TagCount { tag, count }).collect();
        tags.sort_by(|a, b| b.count.cmp(&a.count).then(a.tag.cmp(&b.tag)));
        Ok(ResearchLibrary { total, n, offset: query.offset, limit: query.limit, items, tags, kinds: kind_counts.into_iter().map(|(kind, count)| KindCount { kind, count }).collect() })
    }

    /// Adds and removes tags of one item; returns its tags after. Adding a tag it has, or removing
    /// one it has not, changes nothing.
    pub fn tag_research(&mut self, business: &Business, feedback: FeedbackId, add: &[String], remove: &[String]) -> Result<Vec<String>> {
        let add: Vec<String> = add.iter().map(|t| clean_tag(t)).collect::<Result<_>>()?;
        let remove: Vec<String> = remove.iter().map(|t| t.trim().trim_start_matches('#').to_lowercase()).collect();
        let item = self
            .store()
            .feedback(business.id)?
            .into_iter()
            .find(|f| f.id == feedback)
            .ok_or_else(|| AppError::NotFound(format!("{} has no research item {feedback}", business.name)))?;
        let mut tags: Vec<String> = item.tags.into_iter().filter(|t| !remove.contains(t)).collect();
        for tag in add {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        self.store_mut().write::<trailmap_store::StoreError>(&mut |w| w.set_feedback_tags(business.id, feedback, &tags))?;
        Ok(tags)
    }

    /// Attaches quotes to a card (those it cites already are kept once): one new version of the
    /// map. Returns how many quotes were new on the card.
    pub fn cite_quotes(&mut self, business: &Business, map: MapId, card: u32, quotes: &[FeedbackId], author: &str) -> Result<usize> {
        if quotes.is_empty() {
            return Err(field_error("feedback", "choose at least one quote"));
        }
        let stored = self.journey_map(business, map)?.map;
        let Some((_, _, found)) = stored.card(card) else {
            return Err(field_error("card", format!("the map {:?} has no card {card}", stored.name)));
        };
        let mut evidence = found.evidence.clone();
        let mut added = 0;
        for feedback in quotes {
            let quote = Evidence::Quote { feedback: *feedback };
            if !evidence.contains(&quote) {
                evidence.push(quote);
                added += 1;
            }
        }
        if added > 0 {
            let edit = MapEdit::EditCard { card, text: found.text.clone(), evidence };
            self.edit_map(business, map, &edit, author)?;
        }
        Ok(added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_bands_and_tags_read_their_words() {
        assert_eq!(ResearchKind::parse("focus group"), Some(ResearchKind::FocusGroup));
        assert_eq!(ResearchKind::parse("mention"), Some(ResearchKind::Social));
        assert_eq!(ResearchKind::of(FeedbackKind::SurveyText), ResearchKind::Survey);
        assert_eq!([-0.05, -0.049, 0.049, 0.05].map(SentimentBand::of), [
            SentimentBand::Negative,
            SentimentBand::Neutral,
            SentimentBand::Neutral,
            SentimentBand::Positive
        ]);
        assert_eq!(clean_tag(" #Shipping ").ok(), Some("shipping".to_string()));
        assert!(clean_tag("two words").is_err() && clean_tag("#").is_err());
        let params = Params::of([("kind", Some("review")), ("sentiment", Some("angry"))]);
        let error = ResearchQuery::from_params(&params).expect_err("refused").to_string();
        assert!(error.contains("sentiment") && error.contains("angry"), "{error}");
    }
}
