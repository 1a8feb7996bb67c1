//! Touchpoints a business makes itself: create, edit, reorder and delete them, each in one store
//! write. The web app, the API and the CLI hand the app a [`TouchpointRequest`] or a
//! [`TouchpointEdit`] of plain texts; the app reads every field once here, and an error names the
//! field (`name`, `channel`, `rule`, `stage`, `position`), a rule's with the character offset
//! where it stops making sense ([`AppError::InvalidRule`]).
//!
//! What the app decides around a touchpoint:
//!
//! - **Its rule** is one test of events in the event rule language (`trailmap_model::rule_text`):
//!   `page_view[page^=/checkout]`, `email_open|email_click`, `*[channel=Paid Social]`,
//!   `[utm_source=instagram][utm_medium=cpc]`, `*[referral_code]`, `*[offline_kind=till]`.
//! - **Its order** is the business's own: new touchpoints go last, and a position (1-based)
//!   moves one; the catalogue and new maps list them in that order.
//! - **It follows its stage on the maps.** A touchpoint made with a stage is placed on every map
//!   column that shows that stage; when its stage changes it moves from the columns of the old
//!   stage to those of the new one (a placement made by hand on another column stays). Each map
//!   so changed gets a new version by the person who made the change, in the same write.
//! - **A rename follows it** into the change metrics that name it (`touchpoint:NAME` steps,
//!   `csat:NAME`), so a change stays measurable.
//! - **Deleting** takes it off every map (a new version of each map that held it; the old
//!   versions keep it), but is refused, naming them, while a change, a survey or feedback
//!   records what happened at it: those are history, and rewriting them would lose it. The
//!   person renames or redefines the touchpoint instead.

use crate::engine::{list, stage_named};
use crate::touchpoints::rule_in_words;
use crate::{App, AppError, Result};
use serde::Serialize;
use std::collections::BTreeSet;
use trailmap_model::{Business, EventField, EventRule, JourneyMap, Op, StageId, Touchpoint, TouchpointChannel, TouchpointId};
use trailmap_store::{Store, StoreError, Writer};

/// The longest touchpoint name and description accepted, in characters.
const MAX_NAME_CHARS: usize = 100;
const MAX_DESCRIPTION_CHARS: usize = 1_000;

/// A touchpoint to create, as a person typed it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TouchpointRequest {
    pub name: String,
    /// web, ads, social, email, in-store, phone, referral or other.
    pub channel: String,
    /// The rule over events, in the event rule language.
    pub rule: String,
    /// The business stage it sits on, by name; None or empty for none.
    pub stage: Option<String>,
    pub description: String,
}

/// Changes to a touchpoint; None leaves a field as it is. `stage: Some("")` takes it off its
/// stage; `position` (1-based) moves it in the business's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TouchpointEdit {
    pub name: Option<String>,
    pub channel: Option<String>,
    pub rule: Option<String>,
    pub stage: Option<String>,
    pub description: Option<String>,
    pub position: Option<usize>,
}

/// A touchpoint as the web app, the API and the CLI show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TouchpointView {
    pub id: TouchpointId,
    pub name: String,
    pub channel: String,
    /// The rule in the event rule language; empty when it has none (it then counts no event).
    pub rule: String,
    pub rule_in_words: String,
    pub stage: Option<String>,
    /// 1-based, in the business's order.
    pub position: usize,
    pub online: bool,
    pub description: String,
}

/// What a create or an edit did: the touchpoint as saved, the maps that got a new version
/// because it followed its stage, and the changes whose metric now names it by its new name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TouchpointSaved {
    pub touchpoint: TouchpointView,
    pub maps: Vec<String>,
    pub changes_renamed: Vec<String>,
}

/// What a delete did: the touchpoint's name and the maps it was taken off.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TouchpointDeleted {
    pub name: String,
    pub maps: Vec<String>,
}

fn invalid(field: &str, value: &str, reason: impl Into<String>) -> AppError {
    AppError::InvalidField { field: field.into(), value: Some(value.into()), reason: reason.into() }
}

/// A name or description: trimmed, not too long, no control characters.
fn clean(field: &str, text: &str, max: usize, required: bool) -> Result<String> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(invalid(field, text, "is empty; a touchpoint needs a name"));
    }
    if text.chars().count() > max {
        return Err(invalid(field, text, format!("is longer than {max} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(field, text, "holds a control character"));
    }
    Ok(text.to_string())
}

fn channel_of(text: &str) -> Result<TouchpointChannel> {
    TouchpointChannel::parse(text).ok_or_else(|| {
        let known: Vec<&str> = TouchpointChannel::ALL.iter().map(|c| c.as_str()).collect();
        invalid("channel", text, format!("expected one of {}", known.join(", ")))
    })
}

/// Reads a touchpoint's rule from `field`; an error carries the offset.
pub(crate) fn rule_of(field: &str, text: &str) -> Result<EventRule> {
    let rule = EventRule::parse(text).map_err(|error| AppError::InvalidRule { field: field.into(), rule: text.into(), error })?;
    // `touchpoint:` and `stage:` are funnel steps' references, not events a rule can test.
    let names = rule.conditions.iter().filter(|c| c.field == EventField::Name).flat_map(|c| match &c.op {
        Op::Equals(name) => vec![name.as_str()],
        Op::OneOf(names) => names.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    });
    for name in names {
        if name.starts_with("touchpoint:") || name.starts_with("stage:") {
            let offset = text.find(name).map_or(0, |at| text[..at].chars().count());
            return Err(AppError::InvalidRule {
                field: field.into(),
                rule: text.into(),
                error: trailmap_model::RuleError {
                    offset,
                    reason: format!("{name:?}: a touchpoint's rule tests events; touchpoint: and stage: belong in funnel steps"),
                },
            });
        }
    }
    Ok(rule)
}

/// The stage a form names (None or blank: no stage).
fn stage_of(app: &App, business: &Business, text: Option<&str>) -> Result<Option<StageId>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(name) => {
            let stages = app.store().stages(business.id)?;
            Ok(Some(stage_named(&stages, name).map_err(|reason| invalid("stage", name, reason))?.id))
        }
    }
}

fn store_error(error: StoreError) -> AppError {
    match error {
        StoreError::NotFound { what, id } => AppError::NotFound(format!("{what} {id} does not exist")),
        StoreError::Conflict(message) => AppError::Conflict(message),
        other => AppError::Store(other),
    }
}

/// One touchpoint's move on the maps: off the columns showing `from`, onto those showing `to`;
/// with `everywhere`, off every column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MapMove {
    pub touchpoint: TouchpointId,
    pub from: Option<StageId>,
    pub to: Option<StageId>,
    pub everywhere: bool,
}

/// Applies the moves to the maps; returns the indices of the maps that changed.
pub(crate) fn move_on_maps(maps: &mut [JourneyMap], moves: &[MapMove]) -> Vec<usize> {
    let mut changed = Vec::new();
    for (index, map) in maps.iter_mut().enumerate() {
        let before = map.stages.iter().map(|s| s.touchpoints.clone()).collect::<Vec<_>>();
        for m in moves {
            for column in &mut map.stages {
                let shows = |stage: Option<StageId>| stage.is_some() && column.stage == stage;
                if m.everywhere || (m.from != m.to && shows(m.from)) {
                    column.touchpoints.retain(|t| *t != m.touchpoint);
                }
                if !m.everywhere && shows(m.to) && !column.touchpoints.contains(&m.touchpoint) {
                    column.touchpoints.push(m.touchpoint);
                }
            }
        }
        if map.stages.iter().map(|s| &s.touchpoints).ne(before.iter()) {
            changed.push(index);
        }
    }
    changed
}

/// Saves the maps at `changed` as new versions by `author`, inside a write.
pub(crate) fn save_maps(w: &mut dyn Writer, maps: &[JourneyMap], changed: &[usize], author: &str) -> std::result::Result<(), StoreError> {
    for &index in changed {
        w.save_map(&maps[index], author)?;
    }
    Ok(())
}

impl App {
    /// The business's touchpoints in its order.
    pub fn touchpoints(&self, business: &Business) -> Result<Vec<TouchpointView>> {
        let stages = self.store().stages(business.id)?;
        Ok(self
            .store()
            .touchpoints(business.id)?
            .into_iter()
            .enumerate()
            .map(|(k, t)| TouchpointView {
                id: t.id,
                channel: t.channel.as_str().to_string(),
                rule: t.rule.to_text(),
                rule_in_words: rule_in_words(&t.rule),
                stage: t.stage.and_then(|id| stages.iter().find(|s| s.id == id)).map(|s| s.name.clone()),
                position: k + 1,
                online: t.online,
                name: t.name,
                description: t.description,
            })
            .collect())
    }

    /// One touchpoint of the business; NotFound when it is not the business's.
    pub fn touchpoint(&self, business: &Business, id: TouchpointId) -> Result<TouchpointView> {
        self.touchpoints(business)?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| AppError::NotFound(format!("touchpoint {id} does not exist in {}", business.name)))
    }

    /// The touchpoint a person named: by name (any case) or by id.
    pub fn touchpoint_named(&self, business: &Business, name_or_id: &str) -> Result<TouchpointId> {
        let touchpoints = self.store().touchpoints(business.id)?;
        if let Ok(t) = crate::engine::touchpoint_named(&touchpoints, name_or_id) {
            return Ok(t.id);
        }
        name_or_id
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|id| touchpoints.iter().find(|t| t.id.0 == id))
            .map(|t| t.id)
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "no touchpoint named {name_or_id:?}; {} has: {}",
                    business.name,
                    list(touchpoints.iter().map(|t| t.name.as_str()))
                ))
            })
    }

    /// Creates a touchpoint after the business's others and places it on the maps showing its
    /// stage, in one write; `author` signs the maps' new versions.
    pub fn create_touchpoint(&mut self, business: &Business, request: &TouchpointRequest, author: &str) -> Result<TouchpointSaved> {
        let name = clean("name", &request.name, MAX_NAME_CHARS, true)?;
        let channel = channel_of(&request.channel)?;
        let rule = rule_of("rule", &request.rule)?;
        let stage = stage_of(self, business, request.stage.as_deref())?;
        let description = clean("description", &request.description, MAX_DESCRIPTION_CHARS, false)?;
        self.check_name_free(business, &name, None)?;
        let touchpoint =
            Touchpoint { id: TouchpointId(0), business: business.id, name, channel, stage, online: channel.is_online(), rule, description };
        let (id, maps) = self.write_new_touchpoints(business, std::slice::from_ref(&touchpoint), &[], &[], author)?;
        let id = id.first().copied().ok_or_else(|| AppError::Invalid("the touchpoint was not created".into()))?;
        Ok(TouchpointSaved { touchpoint: self.touchpoint(business, id)?, maps, changes_renamed: Vec::new() })
    }

    /// Creates touchpoints (and ties surveys to them: `(index into touchpoints, survey)`, and
    /// records the suggestions dismissed with them) in one write, each placed on the maps showing its stage; returns their ids and the maps changed.
    pub(crate) fn write_new_touchpoints(
        &mut self,
        business: &Business,
        touchpoints: &[Touchpoint],
        surveys: &[(usize, trailmap_model::SurveyId)],
        dismiss: &[String],
        author: &str,
    ) -> Result<(Vec<TouchpointId>, Vec<String>)> {
        let author = author_of(author)?;
        let mut maps = self.store().maps(business.id)?;
        let mut ids = Vec::new();
        let mut changed = Vec::new();
        self.store_mut()
            .write::<StoreError>(&mut |w| {
                for key in dismiss {
                    w.dismiss_touchpoint_suggestion(business.id, key)?;
                }
                ids = touchpoints.iter().map(|t| w.create_touchpoint(t)).collect::<std::result::Result<_, _>>()?;
                for &(index, survey) in surveys {
                    w.set_survey_touchpoint(business.id, survey, ids.get(index).copied())?;
                }
                let moves: Vec<MapMove> = touchpoints
                    .iter()
                    .zip(&ids)
                    .map(|(t, id)| MapMove { touchpoint: *id, from: None, to: t.stage, everywhere: false })
                    .collect();
                changed = move_on_maps(&mut maps, &moves);
                save_maps(w, &maps, &changed, &author)
            })
            .map_err(store_error)?;
        Ok((ids, changed.iter().map(|&k| maps[k].name.clone()).collect()))
    }

    /// Changes a touchpoint in one write: its fields, its place on the maps when its stage
    /// changed, the change metrics that name it when it was renamed, and its position.
    pub fn edit_touchpoint(&mut self, business: &Business, id: TouchpointId, edit: &TouchpointEdit, author: &str) -> Result<TouchpointSaved> {
        let author = author_of(author)?;
        let all = self.store().touchpoints(business.id)?;
        let old = all
            .iter()
            .find(|t| t.id == id)
            .cloned()
            .ok_or_else(|| AppError::NotFound(format!("touchpoint {id} does not exist in {}", business.name)))?;
        let mut new = old.clone();
        if let Some(name) = &edit.name {
            new.name = clean("name", name, MAX_NAME_CHARS, true)?;
            self.check_name_free(business, &new.name, Some(id))?;
        }
        if let Some(channel) = &edit.channel {
            new.channel = channel_of(channel)?;
            new.online = new.channel.is_online();
        }
        if let Some(rule) = &edit.rule {
            // A touchpoint without a rule yet (a survey's) may keep having none.
            new.rule = if rule.trim().is_empty() && old.rule.conditions.is_empty() { EventRule::default() } else { rule_of("rule", rule)? };
        }
        if let Some(stage) = &edit.stage {
            new.stage = stage_of(self, business, Some(stage))?;
        }
        if let Some(description) = &edit.description {
            new.description = clean("description", description, MAX_DESCRIPTION_CHARS, false)?;
        }
        let order = match edit.position {
            None => None,
            Some(position) if (1..=all.len()).contains(&position) => {
                let mut order: Vec<TouchpointId> = all.iter().map(|t| t.id).filter(|t| *t != id).collect();
                order.insert(position - 1, id);
                Some(order)
            }
            Some(position) => {
                return Err(invalid("position", &position.to_string(), format!("expected a position from 1 to {}", all.len())));
            }
        };
        let renamed = !new.name.eq(&old.name);
        let mut metrics = Vec::new();
        if renamed {
            for change in self.store().changes(business.id)? {
                if let Some(mut metric) = change.metric.clone()
                    && metric.rename_touchpoint(&old.name, &new.name)
                {
                    metrics.push((change.id, change.title.clone(), metric));
                }
            }
        }
        let mut maps = self.store().maps(business.id)?;
        let mut changed = Vec::new();
        self.store_mut()
            .write::<StoreError>(&mut |w| {
                w.update_touchpoint(&new)?;
                for (change, _, metric) in &metrics {
                    w.set_change_metric(business.id, *change, Some(metric))?;
                }
                if let Some(order) = &order {
                    w.reorder_touchpoints(business.id, order)?;
                }
                // Only a change of stage moves it: a touchpoint placed by hand elsewhere stays.
                if old.stage != new.stage {
                    changed = move_on_maps(&mut maps, &[MapMove { touchpoint: id, from: old.stage, to: new.stage, everywhere: false }]);
                }
                save_maps(w, &maps, &changed, &author)
            })
            .map_err(store_error)?;
        Ok(TouchpointSaved {
            touchpoint: self.touchpoint(business, id)?,
            maps: changed.iter().map(|&k| maps[k].name.clone()).collect(),
            changes_renamed: metrics.into_iter().map(|(_, title, _)| title).collect(),
        })
    }

    /// Moves a touchpoint to `position` (1-based) in the business's order.
    pub fn move_touchpoint(&mut self, business: &Business, id: TouchpointId, position: usize) -> Result<Vec<TouchpointView>> {
        self.edit_touchpoint(business, id, &TouchpointEdit { position: Some(position), ..TouchpointEdit::default() }, "trailmap")?;
        self.touchpoints(business)
    }

    /// Puts the business's touchpoints in this order: `order` names each of them once (by id);
    /// an error names field `order` and says what is missing or repeated.
    pub fn reorder_touchpoints(&mut self, business: &Business, order: &[TouchpointId]) -> Result<Vec<TouchpointView>> {
        let have: Vec<TouchpointId> = self.store().touchpoints(business.id)?.into_iter().map(|t| t.id).collect();
        let shown = |ids: &[TouchpointId]| ids.iter().map(|t| t.0.to_string()).collect::<Vec<_>>().join(", ");
        let order_text = shown(order);
        if let Some(stranger) = order.iter().find(|t| !have.contains(t)) {
            return Err(invalid("order", &order_text, format!("touchpoint {stranger} is not one of {}'s ({})", business.name, shown(&have))));
        }
        if let Some(twice) = order.iter().enumerate().find(|(k, t)| order[..*k].contains(t)).map(|(_, t)| t) {
            return Err(invalid("order", &order_text, format!("names touchpoint {twice} twice")));
        }
        let missing: Vec<TouchpointId> = have.iter().copied().filter(|t| !order.contains(t)).collect();
        if !missing.is_empty() {
            return Err(invalid("order", &order_text, format!("leaves out touchpoint(s) {}; name each of them once", shown(&missing))));
        }
        self.store_mut().write::<StoreError>(&mut |w| w.reorder_touchpoints(business.id, order)).map_err(store_error)?;
        self.touchpoints(business)
    }

    /// Deletes a touchpoint: off every map (a new version of each map that held it), then gone;
    /// refused, naming them, while a change, a survey or feedback records what happened at it.
    pub fn delete_touchpoint(&mut self, business: &Business, id: TouchpointId, author: &str) -> Result<TouchpointDeleted> {
        let author = author_of(author)?;
        let touchpoint = self.touchpoint(business, id)?;
        let users = self.touchpoint_users(business, id, &touchpoint.name)?;
        if !users.is_empty() {
            return Err(AppError::Conflict(format!(
                "touchpoint {:?} is used by {}, which record what happened at it, so it stays; rename it or change its rule instead",
                touchpoint.name,
                and_list(&users)
            )));
        }
        let mut maps = self.store().maps(business.id)?;
        let mut changed = Vec::new();
        self.store_mut()
            .write::<StoreError>(&mut |w| {
                changed = move_on_maps(&mut maps, &[MapMove { touchpoint: id, from: None, to: None, everywhere: true }]);
                save_maps(w, &maps, &changed, &author)?;
                w.delete_touchpoint(business.id, id)
            })
            .map_err(store_error)?;
        Ok(TouchpointDeleted { name: touchpoint.name, maps: changed.iter().map(|&k| maps[k].name.clone()).collect() })
    }

    /// What records the touchpoint: changes (by id or in their metric), surveys, feedback.
    fn touchpoint_users(&self, business: &Business, id: TouchpointId, name: &str) -> Result<Vec<String>> {
        let mut users = Vec::new();
        for change in self.store().changes(business.id)? {
            if change.touchpoints.contains(&id) || change.metric.as_ref().is_some_and(|m| m.names_touchpoint(name)) {
                users.push(format!("change {:?} ({})", change.title, change.date));
            }
        }
        for survey in self.store().surveys(business.id)? {
            if survey.touchpoint == Some(id) {
                users.push(format!("survey {:?}", survey.name));
            }
        }
        let feedback = self.store().feedback(business.id)?.iter().filter(|f| f.touchpoint == Some(id)).count();
        if feedback > 0 {
            users.push(format!("{feedback} feedback text{}", if feedback == 1 { "" } else { "s" }));
        }
        Ok(users)
    }

    /// A conflict when another touchpoint of the business has this name (in any case).
    fn check_name_free(&self, business: &Business, name: &str, except: Option<TouchpointId>) -> Result<()> {
        let taken = self.store().touchpoints(business.id)?.into_iter().any(|t| Some(t.id) != except && t.name.eq_ignore_ascii_case(name));
        if taken {
            return Err(AppError::Conflict(format!("name: {} already has a touchpoint named {name:?}", business.name)));
        }
        Ok(())
    }
}

/// The person who signs map versions: trimmed, not empty.
fn author_of(author: &str) -> Result<String> {
    let author = author.trim();
    if author.is_empty() {
        return Err(AppError::Invalid("author: empty".into()));
    }
    Ok(author.to_string())
}

/// "a", "a and b", "a, b and c".
pub(crate) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The distinct values of `items`, in the order first seen.
pub(crate) fn distinct<T: Ord + Clone>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = BTreeSet::new();
    items.into_iter().filter(|i| seen.insert(i.clone())).collect()
}
