//! The touchpoints a map document carries, so a map moved to another business keeps what its
//! stages measure. The JSON export lists every touchpoint its stages use (name, channel, rule in
//! the event rule language, business stage, description); the import creates those the target
//! business lacks, matched by name in any case. A touchpoint the business already has under that
//! name keeps its own rule: when the document's rule differs, the import keeps the business's and
//! says so, since that rule is what the business's numbers were counted with.

use crate::touchpoint_edits::{MapMove, move_on_maps, rule_of, save_maps};
use crate::{App, AppError, Result};
use serde::{Deserialize, Serialize};
use trailmap_model::{Business, JourneyMap, Touchpoint, TouchpointChannel, TouchpointId};
use trailmap_store::{Store, StoreError, Writer};

/// A touchpoint in a map document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentTouchpoint {
    pub name: String,
    /// web, ads, social, email, in-store, phone, referral or other.
    pub channel: String,
    /// The rule in the event rule language; empty for a touchpoint without one.
    #[serde(default)]
    pub rule: String,
    /// The business stage it sits on, by name.
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// What an import does with a document's touchpoints.
#[derive(Debug, Default)]
pub(crate) struct TouchpointPlan {
    /// The business's touchpoints, by name.
    existing: Vec<(String, TouchpointId)>,
    /// Those to create, in document order.
    create: Vec<Touchpoint>,
    /// "kept" notes: a name the business has with another rule.
    pub kept: Vec<String>,
    /// Business stages a created touchpoint named that the business lacks.
    pub dropped: Vec<String>,
}

impl TouchpointPlan {
    /// The touchpoint `name` names: one the business has, or a placeholder for one the plan
    /// creates (replaced by its id in [`TouchpointPlan::write`]); None when neither.
    pub fn resolve(&self, name: &str) -> Option<TouchpointId> {
        let name = name.trim();
        if let Some((_, id)) = self.existing.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Some(*id);
        }
        // Placeholders are negative, -1 for the first created: no stored id is.
        self.create.iter().position(|t| t.name.eq_ignore_ascii_case(name)).map(|k| TouchpointId(-(k as i64) - 1))
    }

    /// The names the plan creates.
    pub fn created(&self) -> Vec<String> {
        self.create.iter().map(|t| t.name.clone()).collect()
    }

    /// Inside the import's write: creates the planned touchpoints, puts their ids in place of
    /// the placeholders in `map`, and places them on `others` (the business's other maps) that
    /// show their stage, as every new touchpoint is. Returns the indices of `others` changed.
    pub fn write(&self, w: &mut dyn Writer, map: &mut JourneyMap, others: &mut [JourneyMap], author: &str) -> std::result::Result<Vec<usize>, StoreError> {
        let ids: Vec<TouchpointId> = self.create.iter().map(|t| w.create_touchpoint(t)).collect::<std::result::Result<_, _>>()?;
        for stage in &mut map.stages {
            for t in &mut stage.touchpoints {
                if t.0 < 0 {
                    *t = ids[(-t.0 - 1) as usize];
                }
            }
        }
        let moves: Vec<MapMove> =
            self.create.iter().zip(&ids).map(|(t, id)| MapMove { touchpoint: *id, from: None, to: t.stage, everywhere: false }).collect();
        let changed = move_on_maps(others, &moves);
        save_maps(w, others, &changed, author)?;
        Ok(changed)
    }
}

impl App {
    /// The touchpoints a map's stages use, in the business's order, as a document carries them.
    pub(crate) fn document_touchpoints(&self, business: &Business, map: &JourneyMap) -> Result<Vec<DocumentTouchpoint>> {
        let stages = self.store().stages(business.id)?;
        Ok(self
            .store()
            .touchpoints(business.id)?
            .into_iter()
            .filter(|t| map.stages.iter().any(|s| s.touchpoints.contains(&t.id)))
            .map(|t| DocumentTouchpoint {
                channel: t.channel.as_str().to_string(),
                rule: t.rule.to_text(),
                stage: t.stage.and_then(|id| stages.iter().find(|s| s.id == id)).map(|s| s.name.clone()),
                name: t.name,
                description: t.description,
            })
            .collect())
    }

    /// Reads a document's touchpoints against the business: each is checked (errors name
    /// `touchpoints[k].FIELD`), then either matched by name or planned for creation.
    pub(crate) fn plan_document_touchpoints(&self, business: &Business, documents: &[DocumentTouchpoint]) -> Result<TouchpointPlan> {
        let have = self.store().touchpoints(business.id)?;
        let stages = self.store().stages(business.id)?;
        let mut plan = TouchpointPlan { existing: have.iter().map(|t| (t.name.clone(), t.id)).collect(), ..TouchpointPlan::default() };
        for (k, d) in documents.iter().enumerate() {
            let field = |name: &str| format!("touchpoints[{k}].{name}");
            let name = d.name.trim();
            if name.is_empty() || name.chars().any(char::is_control) {
                return Err(AppError::InvalidField { field: field("name"), value: Some(d.name.clone()), reason: "is empty or holds a control character".into() });
            }
            let channel = TouchpointChannel::parse(&d.channel).ok_or_else(|| AppError::InvalidField {
                field: field("channel"),
                value: Some(d.channel.clone()),
                reason: format!("expected one of {}", TouchpointChannel::ALL.map(|c| c.as_str()).join(", ")),
            })?;
            let rule = if d.rule.trim().is_empty() { trailmap_model::EventRule::default() } else { rule_of(&field("rule"), &d.rule)? };
            if let Some(existing) = have.iter().find(|t| t.name.eq_ignore_ascii_case(name)) {
                if existing.rule != rule {
                    plan.kept.push(format!(
                        "touchpoint {:?} keeps this business's rule ({}), not the map's ({})",
                        existing.name,
                        if existing.rule.conditions.is_empty() { "none".to_string() } else { existing.rule.to_text() },
                        if d.rule.trim().is_empty() { "none" } else { d.rule.trim() }
                    ));
                }
                continue;
            }
            if plan.create.iter().any(|t| t.name.eq_ignore_ascii_case(name)) {
                continue;
            }
            let stage = match d.stage.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(wanted) => {
                    let found = stages.iter().find(|s| s.name.eq_ignore_ascii_case(wanted)).map(|s| s.id);
                    if found.is_none() {
                        plan.dropped.push(format!("business stage {wanted:?} (touchpoint {name:?})"));
                    }
                    found
                }
            };
            plan.create.push(Touchpoint {
                id: TouchpointId(0),
                business: business.id,
                name: name.to_string(),
                channel,
                stage,
                online: channel.is_online(),
                rule,
                description: d.description.trim().to_string(),
            });
        }
        Ok(plan)
    }
}
