//! The change log: record a change the business made (what, when, the touchpoints and stages it
//! touches, the KPI to watch, who owns it, the map card it answers) and list them, newest first.
//! The CLI (`trailmap change add|list`) and the API (`/api/businesses/{id}/changes`) both call
//! these functions, so both validate the same way.
//!
//! Decisions a caller should know:
//! - Touchpoints, stages, the metric's stage or touchpoint, and the map are named by people, so
//!   they are matched case-insensitively and stored with the business's own spelling.
//! - A metric is checked against the business as it is now: a conversion's steps must be what
//!   `trailmap funnel --steps` accepts for this business (the events must exist), a channel must
//!   be one of GA4's channel groups (or ours, In-store and Phone), a stage or touchpoint must exist.
//! - A change answers a pain point, or an opportunity (an "action" once it has an owner); the card
//!   is kept as map id + card id, both stable, so it still names the card after edits.
//! - Every error about the request is [`AppError::InvalidField`] naming the request's field
//!   (`title`, `touchpoints`, `stages`, `metric`, `answers`, ...), for each front end to show its
//!   own way.

use crate::engine::{list, stage_named, touchpoint_named};
use crate::maps::MAX_TEXT_CHARS;
use crate::{App, AppError, Result};
use chrono::NaiveDate;
use serde::Serialize;
use trailmap_model::{Business, CardRef, Change, ChangeId, ChangeMetric, Channel, JourneyMap, Lane, MapId, StageId, TouchpointId};
use trailmap_store::{Store, StoreError};

/// A change to record; names are resolved against the business.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRequest {
    pub title: String,
    pub description: String,
    /// The day the change took effect.
    pub date: NaiveDate,
    /// Touchpoint names.
    pub touchpoints: Vec<String>,
    /// Stage names.
    pub stages: Vec<String>,
    /// The KPI in the person's words; the metric's label is shown when absent.
    pub kpi: Option<String>,
    pub metric: Option<ChangeMetric>,
    pub owner: Option<String>,
    /// The pain point or action card it answers (see [`App::find_card`] to name one in text).
    pub answers: Option<CardRef>,
}

/// The map card a change answers, as a person reads it. `kind`, `map_name`, `stage` and `text`
/// are None when the card is no longer on the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnsweredCard {
    pub map: MapId,
    pub card: u32,
    pub map_name: Option<String>,
    /// `pain_point`, `opportunity`, or `action` (an opportunity with an owner).
    pub kind: Option<String>,
    pub stage: Option<String>,
    pub text: Option<String>,
}

/// A change with names in place of ids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeView {
    pub id: ChangeId,
    pub title: String,
    pub description: String,
    pub date: NaiveDate,
    pub touchpoints: Vec<String>,
    pub stages: Vec<String>,
    /// The KPI's label: the person's words, else the metric's own label.
    pub kpi: Option<String>,
    /// The metric as data, for impact analysis.
    pub metric: Option<ChangeMetric>,
    /// The metric's text form (`conversion:checkout_started>purchase:7d`).
    pub metric_text: Option<String>,
    pub owner: Option<String>,
    pub answers: Option<AnsweredCard>,
}

fn invalid(field: &str, value: Option<String>, reason: impl Into<String>) -> AppError {
    AppError::InvalidField { field: field.to_string(), value, reason: reason.into() }
}

/// Trimmed text, None when empty, refused when longer than a card may be.
fn optional_text(field: &str, text: Option<&str>) -> Result<Option<String>> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    if let Some(t) = text
        && t.chars().count() > MAX_TEXT_CHARS
    {
        return Err(invalid(field, None, format!("is longer than {MAX_TEXT_CHARS} characters")));
    }
    Ok(text.map(str::to_string))
}

/// What a card is, for a change that answers it: None for lanes a change cannot answer.
fn card_kind(lane: Lane, has_action: bool) -> Option<&'static str> {
    match lane {
        Lane::PainPoints => Some("pain_point"),
        Lane::Opportunities if has_action => Some("action"),
        Lane::Opportunities => Some("opportunity"),
        _ => None,
    }
}

impl App {
    /// Records a change in `business` after checking every field; returns it as listed.
    pub fn add_change(&mut self, business: &Business, request: ChangeRequest) -> Result<ChangeView> {
        let change = self.checked_change(business, request)?;
        // The action card the change answers names the change from now on; both land in one
        // write, so neither is recorded without the other.
        let mut answered_map = match change.answers {
            Some(card) => numbered_maps(self.store().maps(business.id)?).into_iter().find(|m| m.id == card.map),
            None => None,
        };
        let author = change.owner.clone().unwrap_or_else(|| "Trailmap".to_string());
        let mut id = ChangeId(0);
        self.store_mut().write::<StoreError>(&mut |w| {
            id = w.add_change(&change)?;
            if let (Some(card), Some(map)) = (change.answers, answered_map.as_mut())
                && map.record_change(card.card, id)
            {
                w.save_map(map, &author)?;
            }
            Ok(())
        })?;
        let stored = Change { id, ..change };
        self.change_view(business, &stored, &numbered_maps(self.store().maps(business.id)?))
    }

    /// The business's changes, newest first (by date, then the later recorded first).
    pub fn changes(&self, business: &Business) -> Result<Vec<ChangeView>> {
        let maps = numbered_maps(self.store().maps(business.id)?);
        let mut changes = self.store().changes(business.id)?;
        changes.sort_by_key(|c| std::cmp::Reverse((c.date, c.id.0)));
        changes.iter().map(|c| self.change_view(business, c, &maps)).collect()
    }

    /// A card named in text as `MAP:CARD`: the map by id or name, the card by id or by its text
    /// (case-insensitive; names and texts may hold colons, so every split is tried). Only pain
    /// points and opportunities can be answered. Errors name the field `answers`.
    pub fn find_card(&self, business: &Business, text: &str) -> Result<CardRef> {
        let maps = numbered_maps(self.store().maps(business.id)?);
        let value = Some(text.to_string());
        let map_matches = |name: &str| -> Option<&JourneyMap> {
            let name = name.trim();
            maps.iter().find(|m| name.parse::<i64>().is_ok_and(|id| m.id.0 == id) || m.name.eq_ignore_ascii_case(name))
        };
        let mut map_found = None;
        for (at, _) in text.match_indices(':') {
            let Some(map) = map_matches(&text[..at]) else { continue };
            map_found = Some(map);
            let card = text[at + 1..].trim();
            let found: Vec<u32> = map
                .cards()
                .filter(|(_, _, c)| card.parse::<u32>().is_ok_and(|id| c.id == id) || c.text.trim().eq_ignore_ascii_case(card))
                .map(|(_, _, c)| c.id)
                .collect();
            match found.as_slice() {
                [id] => return Ok(CardRef { map: map.id, card: *id }),
                [] => continue,
                _ => return Err(invalid("answers", value, format!("{} cards of map {:?} read {card:?}; name the card by its id", found.len(), map.name))),
            }
        }
        Err(match map_found {
            Some(map) => invalid("answers", value, format!("map {:?} has no card with that id or text", map.name)),
            None => invalid(
                "answers",
                value,
                format!(
                    "expected MAP:CARD (map by id or name, card by id or text); the maps are: {}",
                    list(maps.iter().map(|m| format!("{} (id {})", m.name, m.id)).collect::<Vec<_>>().iter().map(String::as_str))
                ),
            ),
        })
    }

    fn checked_change(&self, business: &Business, request: ChangeRequest) -> Result<Change> {
        let title = optional_text("title", Some(&request.title))?.ok_or_else(|| invalid("title", None, "is empty; a change needs a title"))?;
        let description = optional_text("description", Some(&request.description))?.unwrap_or_default();
        let date = request.date;
        let kpi = optional_text("kpi", request.kpi.as_deref())?;
        let owner = optional_text("owner", request.owner.as_deref())?;
        let all_touchpoints = self.store().touchpoints(business.id)?;
        let all_stages = self.store().stages(business.id)?;
        let mut touchpoints: Vec<TouchpointId> = Vec::new();
        for name in &request.touchpoints {
            let found = touchpoint_named(&all_touchpoints, name).map_err(|_| {
                invalid("touchpoints", Some(name.clone()), format!("no such touchpoint; the business has: {}", list(all_touchpoints.iter().map(|t| t.name.as_str()))))
            })?;
            if !touchpoints.contains(&found.id) {
                touchpoints.push(found.id);
            }
        }
        let mut stages: Vec<StageId> = Vec::new();
        for name in &request.stages {
            let found = stage_named(&all_stages, name).map_err(|_| {
                invalid("stages", Some(name.clone()), format!("no such stage; the business has: {}", list(all_stages.iter().map(|s| s.name.as_str()))))
            })?;
            if !stages.contains(&found.id) {
                stages.push(found.id);
            }
        }
        let metric = request.metric.map(|m| self.checked_metric(business, m)).transpose()?;
        if let Some(card) = request.answers {
            let maps = numbered_maps(self.store().maps(business.id)?);
            let value = Some(format!("{}:{}", card.map, card.card));
            let map = maps.iter().find(|m| m.id == card.map).ok_or_else(|| {
                invalid("answers", value.clone(), format!("{} has no map {}; its maps are: {}", business.name, card.map, list(maps.iter().map(|m| m.name.as_str()))))
            })?;
            let (_, lane, found) = map
                .card(card.card)
                .ok_or_else(|| invalid("answers", value.clone(), format!("map {:?} has no card {}", map.name, card.card)))?;
            if card_kind(lane, found.action.is_some()).is_none() {
                return Err(invalid(
                    "answers",
                    value,
                    format!("card {} ({:?}) is in the {} lane; a change answers a pain point or an opportunity", card.card, found.text, lane.title()),
                ));
            }
        }
        Ok(Change {
            id: ChangeId(0),
            business: business.id,
            title,
            description,
            date,
            touchpoints,
            stages,
            kpi,
            owner,
            metric,
            answers: request.answers,
        })
    }

    /// The metric with the business's spelling of the names it holds, or an error naming `metric`.
    fn checked_metric(&self, business: &Business, metric: ChangeMetric) -> Result<ChangeMetric> {
        let value = Some(metric.to_string());
        let wrong = |reason: String| invalid("metric", value.clone(), reason);
        Ok(match metric {
            ChangeMetric::StepConversion { from, to, window_days } => {
                if window_days == 0 {
                    return Err(wrong("the window must be at least 1 day".into()));
                }
                // The funnel decides what a step is, so the metric accepts exactly what
                // `trailmap funnel --steps` does and impact can run the same funnel.
                let mut request = App::funnel_request(vec![from.trim().to_string(), to.trim().to_string()]);
                request.window_ms = i64::from(window_days) * trailmap_model::Timestamp::MS_PER_DAY;
                match self.funnel_with_lists(business, &request) {
                    Ok(_) => ChangeMetric::StepConversion { from: from.trim().to_string(), to: to.trim().to_string(), window_days },
                    Err(AppError::Invalid(reason)) => return Err(wrong(reason)),
                    Err(other) => return Err(other),
                }
            }
            ChangeMetric::StageReach { stage } => {
                let stages = self.store().stages(business.id)?;
                let found = stage_named(&stages, &stage).map_err(wrong)?;
                ChangeMetric::StageReach { stage: found.name.clone() }
            }
            ChangeMetric::Csat { touchpoint: Some(name) } => {
                let touchpoints = self.store().touchpoints(business.id)?;
                let found = touchpoint_named(&touchpoints, &name).map_err(wrong)?;
                ChangeMetric::Csat { touchpoint: Some(found.name.clone()) }
            }
            ChangeMetric::NewCustomers { channel: Some(name) } => {
                let channel = Channel::parse(&name).ok_or_else(|| {
                    wrong(format!("no channel named {name:?}; the channels are: {}", list(Channel::ALL.iter().map(|c| c.as_str()))))
                })?;
                ChangeMetric::NewCustomers { channel: Some(channel.as_str().to_string()) }
            }
            other => other,
        })
    }

    /// The change with names; `maps` are the business's maps, numbered.
    fn change_view(&self, business: &Business, change: &Change, maps: &[JourneyMap]) -> Result<ChangeView> {
        let touchpoints = self.store().touchpoints(business.id)?;
        let stages = self.store().stages(business.id)?;
        let answers = change.answers.map(|card| {
            let map = maps.iter().find(|m| m.id == card.map);
            let found = map.and_then(|m| m.card(card.card).map(|(stage, lane, c)| (stage.name.clone(), card_kind(lane, c.action.is_some()), c.text.clone())));
            AnsweredCard {
                map: card.map,
                card: card.card,
                map_name: map.map(|m| m.name.clone()),
                kind: found.as_ref().and_then(|(_, kind, _)| kind.map(str::to_string)),
                stage: found.as_ref().map(|(stage, _, _)| stage.clone()),
                text: found.map(|(_, _, text)| text),
            }
        });
        Ok(ChangeView {
            id: change.id,
            title: change.title.clone(),
            description: change.description.clone(),
            date: change.date,
            // A touchpoint or stage deleted since keeps its place as its id, so nothing is hidden.
            touchpoints: change
                .touchpoints
                .iter()
                .map(|id| touchpoints.iter().find(|t| t.id == *id).map_or_else(|| format!("touchpoint {}", id.0), |t| t.name.clone()))
                .collect(),
            stages: change
                .stages
                .iter()
                .map(|id| stages.iter().find(|s| s.id == *id).map_or_else(|| format!("stage {}", id.0), |s| s.name.clone()))
                .collect(),
            kpi: change.kpi_label(),
            metric: change.metric.clone(),
            metric_text: change.metric.as_ref().map(ToString::to_string),
            owner: change.owner.clone(),
            answers,
        })
    }
}

fn numbered_maps(mut maps: Vec<JourneyMap>) -> Vec<JourneyMap> {
    for map in &mut maps {
        map.number_items();
    }
    maps
}
