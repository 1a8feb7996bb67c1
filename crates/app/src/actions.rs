//! The action board: every action card (an opportunity with an owner, a due date, done or not,
//! and the change it led to) across a business's maps, in one list. Each action shows the pain
//! point it answers, its status against today in the business's time zone (open, done, or
//! overdue: past its due day and not done), and the change it led to with that change's verdict
//! and n from the impact analysis (`impact`). [`ActionsRequest`] is the one typed request the
//! CLI, the API and the page translate to: filters by status, owner and map, and the sort.

use crate::impact::ImpactRequest;
use crate::query::{FromParams, Params, choice};
use crate::{App, AppError, Result};
use chrono::NaiveDate;
use serde::Serialize;
use trailmap_model::{Business, ChangeId, Lane, MapId, Timestamp};

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ActionStatus {
    /// Past its due day and not done.
    Overdue,
    /// Not done, and not past its due day (or without one).
    Open,
    Done,
}

impl ActionStatus {
    pub const NAMES: [&'static str; 3] = ["open", "done", "overdue"];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Overdue => "overdue",
            ActionStatus::Open => "open",
            ActionStatus::Done => "done",
        }
    }

    /// The status of an action due on `due` (if any), done or not, on `today`.
    pub fn of(done: bool, due: Option<NaiveDate>, today: NaiveDate) -> ActionStatus {
        match (done, due) {
            (true, _) => ActionStatus::Done,
            (false, Some(due)) if due < today => ActionStatus::Overdue,
            (false, _) => ActionStatus::Open,
        }
    }
}

/// How the board is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ActionSort {
    /// The earliest due day first (actions without one last).
    #[default]
    Due,
    /// Overdue, then open, then done; by due day within each.
    Status,
    /// By owner's name, then due day.
    Owner,
    /// By map name, then due day.
    Map,
}

impl ActionSort {
    pub const NAMES: [&'static str; 4] = ["due", "status", "owner", "map"];
}

/// What the action board asks: each filter optional.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActionsRequest {
    pub status: Option<ActionStatus>,
    /// Only this owner's actions (ignoring case and surrounding spaces).
    pub owner: Option<String>,
    /// Only the actions of this map: its id or its name (ignoring case).
    pub map: Option<String>,
    pub sort: ActionSort,
}

impl FromParams for ActionsRequest {
    /// Reads `status` (open, done, overdue), `owner`, `map` and `sort` (due, status, owner, map).
    fn from_params(params: &Params) -> Result<ActionsRequest> {
        let status = match params.get("status") {
            None => None,
            Some(text) => Some(match choice("status", Some(text), "open", &ActionStatus::NAMES)? {
                "done" => ActionStatus::Done,
                "overdue" => ActionStatus::Overdue,
                _ => ActionStatus::Open,
            }),
        };
        let sort = match choice("sort", params.get("sort"), "due", &ActionSort::NAMES)? {
            "status" => ActionSort::Status,
            "owner" => ActionSort::Owner,
            "map" => ActionSort::Map,
            _ => ActionSort::Due,
        };
        Ok(ActionsRequest { status, owner: params.get("owner").map(str::to_string), map: params.get("map").map(str::to_string), sort })
    }
}

/// The pain point an action answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PainPointRef {
    pub card: u32,
    pub text: String,
}

/// The change an action led to, with its verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionChange {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: ChangeId,
    /// None when the change is no longer in the change log.
    pub title: Option<String>,
    pub date: Option<NaiveDate>,
    /// The impact analysis's plain-language verdict (it gives its n); None when it cannot be
    /// measured, with the reason in `note`.
    pub verdict: Option<String>,
    /// The n of the windows before and after the change (people, orders, answers or days, as
    /// `n_means` says).
    pub n_before: Option<u64>,
    pub n_after: Option<u64>,
    pub n_means: Option<String>,
    /// Why there is no verdict.
    pub note: Option<String>,
}

/// One action card on the board.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionItem {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub map: MapId,
    pub map_name: String,
    pub stage: String,
    /// The opportunity card's id within its map.
    pub card: u32,
    pub text: String,
    /// The pain point it answers, when it names one.
    pub from: Option<PainPointRef>,
    pub owner: String,
    pub due: Option<NaiveDate>,
    pub done: bool,
    pub status: ActionStatus,
    /// Past due and not done (the status is `overdue`).
    pub overdue: bool,
    /// The KPI to watch, in the owner's words.
    pub kpi: Option<String>,
    pub change: Option<ActionChange>,
}

/// The board: the actions the request keeps, and the counts over all of the business's actions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionBoard {
    pub business: String,
    /// The day the statuses are judged on, in the business's time zone.
    pub today: NaiveDate,
    pub time_zone: String,
    /// Every action card of the business's maps (the n of the counts).
    pub total: u64,
    pub open: u64,
    pub done: u64,
    pub overdue: u64,
    /// The owners of all the actions, sorted, once each (for a filter).
    pub owners: Vec<String>,
    pub items: Vec<ActionItem>,
}

impl App {
    /// The business's action cards across its maps, filtered and sorted as asked, statuses judged
    /// on the day `now` falls on in the business's time zone.
    pub fn action_board(&self, business: &Business, request: &ActionsRequest, now: Timestamp) -> Result<ActionBoard> {
        let today = crate::dashboard::local_day(now.millis(), crate::dashboard::zone_of(business));
        let summaries = self.journey_maps(business, today)?;
        let map_filter = match request.map.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            None => None,
            Some(wanted) => {
                let found = summaries
                    .iter()
                    .find(|m| wanted.parse::<i64>().is_ok_and(|id| id == m.id.0) || m.name.eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| {
                        AppError::InvalidField {
                            field: "map".into(),
                            value: Some(wanted.to_string()),
                            reason: format!(
                                "no such journey map in {}; its maps are: {}",
                                business.name,
                                if summaries.is_empty() {
                                    "none".to_string()
                                } else {
                                    summaries.iter().map(|m| format!("{} ({})", m.id.0, m.name)).collect::<Vec<_>>().join(", ")
                                }
                            ),
                        }
                    })?;
                Some(found.id)
            }
        };
        let changes = self.changes(business)?;
        let mut all = Vec::new();
        for summary in &summaries {
            let map = self.journey_map(business, summary.id)?.map;
            for (stage, lane, card) in map.cards() {
                let Some(action) = card.action.as_ref().filter(|_| lane == Lane::Opportunities) else { continue };
                let status = ActionStatus::of(action.done, action.due, today);
                let from = card.from.and_then(|id| map.card(id)).map(|(_, _, pain)| PainPointRef { card: pain.id, text: pain.text.clone() });
                let change = action.change.map(|id| self.action_change(business, &changes, id));
                all.push(ActionItem {
                    map: map.id,
                    map_name: map.name.clone(),
                    stage: stage.name.clone(),
                    card: card.id,
                    text: card.text.clone(),
                    from,
                    owner: action.owner.clone(),
                    due: action.due,
                    done: action.done,
                    status,
                    overdue: status == ActionStatus::Overdue,
                    kpi: action.kpi.clone(),
                    change,
                });
            }
        }
        let count = |s: ActionStatus| all.iter().filter(|a| a.status == s).count() as u64;
        let mut owners: Vec<String> = all.iter().map(|a| a.owner.clone()).collect();
        owners.sort_by_key(|o| o.to_lowercase());
        owners.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        let (open, done, overdue, total) = (count(ActionStatus::Open), count(ActionStatus::Done), count(ActionStatus::Overdue), all.len() as u64);
        let owner = request.owner.as_deref().map(str::trim).filter(|o| !o.is_empty());
        let mut items: Vec<ActionItem> = all
            .into_iter()
            .filter(|a| map_filter.is_none_or(|m| a.map == m))
            .filter(|a| request.status.is_none_or(|s| a.status == s))
            .filter(|a| owner.is_none_or(|o| a.owner.trim().eq_ignore_ascii_case(o)))
            .collect();
        // Actions without a due day come after those with one.
        let due_key = |a: &ActionItem| (a.due.is_none(), a.due);
        match request.sort {
            ActionSort::Due => items.sort_by_key(|a| (due_key(a), a.map_name.to_lowercase(), a.card)),
            ActionSort::Status => items.sort_by_key(|a| (a.status, due_key(a), a.map_name.to_lowercase(), a.card)),
            ActionSort::Owner => items.sort_by_key(|a| (a.owner.to_lowercase(), due_key(a), a.map_name.to_lowercase(), a.card)),
            ActionSort::Map => items.sort_by_key(|a| (a.map_name.to_lowercase(), a.map, due_key(a), a.card)),
        }
        Ok(ActionBoard {
            business: business.name.clone(),
            today,
            time_zone: business.timezone.clone(),
            total,
            open,
            done,
            overdue,
            owners,
            items,
        })
    }

    /// The change an action led to, with its impact verdict or the reason there is none.
    fn action_change(&self, business: &Business, changes: &[crate::changes::ChangeView], id: ChangeId) -> ActionChange {
        let Some(change) = changes.iter().find(|c| c.id == id) else {
            return ActionChange {
                id,
                title: None,
                date: None,
                verdict: None,
                n_before: None,
                n_after: None,
                n_means: None,
                note: Some(format!("change {} is no longer in the change log", id.0)),
            };
        };
        let mut out = ActionChange {
            id,
            title: Some(change.title.clone()),
            date: Some(change.date),
            verdict: None,
            n_before: None,
            n_after: None,
            n_means: None,
            note: None,
        };
        match self.change_impact(business, id, &ImpactRequest::default()) {
            Ok(impact) => {
                out.verdict = Some(impact.verdict);
                out.n_before = Some(impact.before.n);
                out.n_after = Some(impact.after.n);
                out.n_means = Some(impact.n_means);
            }
            Err(AppError::InvalidField { reason, .. }) => out.note = Some(reason),
            Err(e) => out.note = Some(e.to_string()),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a day")
    }

    #[test]
    fn an_action_is_overdue_only_after_its_due_day_and_while_not_done() {
        let today = day("2026-06-10");
        assert_eq!(ActionStatus::of(false, Some(day("2026-06-09")), today), ActionStatus::Overdue);
        assert_eq!(ActionStatus::of(false, Some(day("2026-06-10")), today), ActionStatus::Open);
        assert_eq!(ActionStatus::of(true, Some(day("2026-06-01")), today), ActionStatus::Done);
        assert_eq!(ActionStatus::of(false, None, today), ActionStatus::Open);
    }

    #[test]
    fn the_request_reads_its_fields_and_names_a_bad_one() {
        let request = ActionsRequest::from_params(&Params::of([("status", Some("overdue")), ("owner", Some(" Sam ")), ("sort", Some("owner"))]))
            .expect("reads");
        assert_eq!(request.status, Some(ActionStatus::Overdue));
        assert_eq!(request.owner.as_deref(), Some("Sam"));
        assert_eq!(request.sort, ActionSort::Owner);
        let bad = ActionsRequest::from_params(&Params::of([("status", Some("late"))])).expect_err("refused").to_string();
        assert!(bad.starts_with("status: \"late\" is not one of open, done, overdue"), "{bad}");
        assert!(ActionsRequest::from_params(&Params::of([("sort", Some("x"))])).expect_err("refused").to_string().starts_with("sort: "));
        assert_eq!(ActionsRequest::from_params(&Params::default()).expect("defaults"), ActionsRequest::default());
    }
}
