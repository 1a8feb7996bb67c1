//! Changes the business made: what, when, where in the journey, and what to watch. These are the
//! "implement changes" step of the practice; impact analysis measures them.

use crate::{BusinessId, ChangeId, StageId, TouchpointId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub id: ChangeId,
    pub business: BusinessId,
    pub title: String,
    pub description: String,
    /// The day the change took effect.
    pub date: NaiveDate,
    pub touchpoints: Vec<TouchpointId>,
    pub stages: Vec<StageId>,
    /// The KPI to watch, by name ("checkout conversion", "repeat rate").
    pub kpi: Option<String>,
    pub owner: Option<String>,
}
