//! Journey stages: where each customer is on a journey map, and the live numbers of each stage
//! that follow from it (reach, the customers who entered at the stage, conversion to the next
//! stage, drop-off, revenue), defined so that they add up.
//!
//! # Where a customer is
//!
//! A map has stages in order (Awareness, Consideration, Purchase, Retention, Advocacy by default),
//! each defined by touchpoints whose event rules say which events belong to it; one touchpoint may
//! sit on several stages (the till purchase is a first purchase and a repeat one). Each customer's
//! events are read in time order (ties keep their recorded order), and each event at a touchpoint
//! is assigned to one stage:
//!
//! - a touchpoint on several stages counts at its first stage the first time the customer uses
//!   it, at its next stage the next time, and so on, then at its last stage every time after
//!   (the first till purchase is Purchase's, the second and later ones Retention's; a loyalty
//!   sign-up is Purchase's and the newsletter read after it Retention's). An event at several
//!   touchpoints goes to the stage of the most specific of them, the one that matches the fewest
//!   of the business's events (a checkout page view is also a "Direct" visit, and it is the
//!   checkout's: Purchase, not Consideration); among equally specific ones, the earliest stage;
//! - the first event assigned to a stage **reaches** it. A customer may skip stages (a walk-in
//!   buys at once: Awareness, then Purchase), may start anywhere (a customer whose first event is
//!   a purchase **entered at** Purchase), and may reach a skipped stage later (a customer who
//!   recommends the shop after one purchase reaches Advocacy, and Retention when they buy again);
//!   later events assigned to a stage are activity there;
//! - a touchpoint marked [`Credit::Referrer`] on a stage counts, there, the customer who referred:
//!   its events that name a referrer other than their own customer ([`StagesQuery::referrers`],
//!   which [`referrers`] reads from the events' `referral_code` property) are events of that
//!   customer too, at the same time, matching only the stages where the touchpoint credits the
//!   referrer. So a friend's visit with a code is the friend's Awareness and the referrer's
//!   Advocacy.
//!
//! # The numbers of a stage
//!
//! With a period `[from, to)` (all time without one):
//!
//! - **reach**: the customers who reached the stage in the period;
//! - **entered here**: of them, those who had reached none of the earlier stages (in the map's
//!   order) before this one: they passed none of them; the others came from an earlier stage;
//! - **already past**: of the reach, those who had reached a later stage before this one (a
//!   regular who calls the shop reaches Consideration after Purchase): they come back to the stage
//!   rather than pass through it, so they neither go on from it nor drop off at it;
//! - **went on** (the conversion to the next stage): of the others (the stage's `n`), those who
//!   reached a later stage of the map within the window after reaching this one (boundary
//!   included; the later stage may fall after the period, as a funnel's last step may): the next
//!   measured stage, or only stages past it (they **skipped** it). Conversion is `went on / n`,
//!   never above 100 %;
//! - **drop-off**: the others who did not go on, so reach = already past + went on + dropped;
//! - **revenue**: each order of the period counts once, at the stage of the customer's latest
//!   event at or before it (the stage where it happened: a first purchase at Purchase, a repeat at
//!   Retention); an order placed before the customer reached any stage is counted apart
//!   ([`StagesReport::unplaced`]). The stages' revenue and the unplaced add up to the period's.
//!
//! A touchpoint's figures on a stage are those of the events assigned to that stage that match it:
//! its reach is the customers with such an event in the period (an event at two of the stage's
//! touchpoints counts for both), its revenue the orders placed at it, each order at one
//! touchpoint only (the most specific of those the event is at, then the first in the stage's
//! order), so a stage's revenue is the sum of its touchpoints'.
//!
//! A stage with no touchpoint is not measured: no customer reaches it, and "next stage" means the
//! next measured one.

use crate::{CompiledRule, Journeys, RuleSet};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use trailmap_model::{CustomerId, EventField, EventRule, EventTable};

/// The most stages a map's numbers handle: stages are bits of a `u64`.
pub const MAX_STAGES: usize = 63;
/// The most distinct touchpoints (counting a touchpoint that credits the referrer apart): they
/// are bits of a `u128`.
pub const MAX_TOUCHPOINTS: usize = 128;

/// Whom a touchpoint's event counts for on a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Named apart in the OpenAPI document: attribution's `Credit` is another type.
#[cfg_attr(feature = "openapi", schema(as = StageCredit))]
pub enum Credit {
    /// The customer whose event it is.
    Own,
    /// The customer whose referral code the event carries (the one who referred).
    Referrer,
}

/// One touchpoint on one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageTouchpoint {
    /// The caller's id of the touchpoint: the same id on several stages is one touchpoint.
    pub touchpoint: i64,
    pub rule: EventRule,
    pub credit: Credit,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StagesQuery {
    /// Per stage, in map order, its touchpoints in the stage's order.
    pub stages: Vec<Vec<StageTouchpoint>>,
    /// How long after reaching a stage a later one still counts as going on, in milliseconds.
    pub window_ms: i64,
    /// Stages reached, events and orders counted in `[from, to)` (milliseconds); None: all time.
    pub period: Option<(i64, i64)>,
    /// Who referred each referred event, by (its customer, its time): what a [`Credit::Referrer`]
    /// touchpoint credits. The events' properties are not needed otherwise, so the caller reads
    /// them for those events alone (see [`referrers`]).
    pub referrers: HashMap<(CustomerId, i64), CustomerId>,
    /// Only these customers are counted (a persona's); None: everyone.
    pub only: Option<BTreeSet<CustomerId>>,
    /// The orders: customer, time (milliseconds) and value (minor units of one currency).
    pub orders: Vec<(CustomerId, i64, i64)>,
}

/// Money counted once per order, with the orders and their buyers.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct StageRevenue {
    pub minor: i64,
    pub orders: usize,
    pub buyers: Vec<CustomerId>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TouchpointFigures {
    /// Customers with an event at this touchpoint on this stage in the period.
    pub reach: Vec<CustomerId>,
    pub revenue: StageRevenue,
}

/// Going on from a stage: see the module documentation.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Onward {
    /// The next measured stage's index.
    pub next_stage: usize,
    /// Had reached a later stage before this one.
    pub already_past: Vec<CustomerId>,
    pub went_on: Vec<CustomerId>,
    pub to_next: Vec<CustomerId>,
    pub skipped: Vec<CustomerId>,
    pub dropped: Vec<CustomerId>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct StageFigures {
    pub measured: bool,
    pub reach: Vec<CustomerId>,
    pub entered_here: Vec<CustomerId>,
    pub from_earlier: Vec<CustomerId>,
    /// None for the last measured stage and unmeasured ones.
    pub onward: Option<Onward>,
    pub revenue: StageRevenue,
    /// Per touchpoint of the stage, in its order.
    pub touchpoints: Vec<TouchpointFigures>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct StagesReport {
    pub stages: Vec<StageFigures>,
    /// Orders placed before their customer reached any stage.
    pub unplaced: StageRevenue,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StagesError {
    #[error("stages: a map's numbers handle at most {MAX_STAGES} stages, this map has {0}")]
    TooManyStages(usize),
    #[error("touchpoints: a map's numbers handle at most {MAX_TOUCHPOINTS} touchpoints, this map has {0}")]
    TooManyTouchpoints(usize),
    #[error("window: must be longer than zero")]
    Window,
}

/// An event of a customer's journey as the stages read it: when, which touchpoints it matches
/// (bits over [`Touchpoints`]), and whether it is credited to a referrer.
#[derive(Debug, Clone, Copy)]
struct Step {
    time: i64,
    matched: u128,
    credited: bool,
}

/// The map's distinct touchpoints, a touchpoint that credits the referrer apart from the same
/// one counting its own customer: each with the stages it sits on (bits) and its rule.
struct Touchpoints<'q> {
    stages: Vec<u64>,
    rules: Vec<&'q EventRule>,
    credits: Vec<Credit>,
    /// Per stage, its touchpoints' indices in the stage's order.
    of_stage: Vec<Vec<usize>>,
}

/// Where a customer went: for each stage, when they reached it; the stages in the order reached;
/// and their events assigned to a stage, in time order.
#[derive(Debug, Default)]
struct Walk {
    reached: Vec<Option<i64>>,
    /// The stages in the order reached, each once.
    order: Vec<usize>,
    assigned: Vec<Assigned>,
    /// Per touchpoint, the stages it has counted at (bits): the walk's working state.
    used: Vec<u64>,
}

/// One event assigned to a stage.
#[derive(Debug, Clone, Copy)]
struct Assigned {
    time: i64,
    stage: usize,
    /// The position on the stage of the touchpoint an order after it is placed at.
    position: usize,
    /// The positions on the stage of every touchpoint the event is at (a bit each).
    positions: u128,
}

/// Computes the stages' numbers for the customers of `journeys`. See the module documentation.
pub fn stages(journeys: &Journeys, query: &StagesQuery) -> Result<StagesReport, StagesError> {
    let n = query.stages.len();
    if n > MAX_STAGES {
        return Err(StagesError::TooManyStages(n));
    }
    if query.window_ms <= 0 {
        return Err(StagesError::Window);
    }
    let table = journeys.table();
    let mut tp = Touchpoints { stages: Vec::new(), rules: Vec::new(), credits: Vec::new(), of_stage: vec![Vec::new(); n] };
    let mut index: HashMap<(i64, Credit), usize> = HashMap::new();
    for (k, stage) in query.stages.iter().enumerate() {
        for t in stage {
            let i = *index.entry((t.touchpoint, t.credit)).or_insert_with(|| {
                tp.stages.push(0);
                tp.rules.push(&t.rule);
                tp.credits.push(t.credit);
                tp.stages.len() - 1
            });
            tp.stages[i] |= 1 << k;
            tp.of_stage[k].push(i);
        }
    }
    if tp.rules.len() > MAX_TOUCHPOINTS {
        return Err(StagesError::TooManyTouchpoints(tp.rules.len()));
    }
    // Every touchpoint's rule tested at once per row: which of them the row matches, as bits.
    let set = RuleSet::new(&tp.rules, table).ok_or(StagesError::TooManyTouchpoints(tp.rules.len()))?;
    let credit_mask = |credit: Credit| tp.credits.iter().enumerate().filter(|(_, c)| **c == credit).fold(0u128, |m, (i, _)| m | 1 << i);
    let (own_mask, referrer_mask) = (credit_mask(Credit::Own), credit_mask(Credit::Referrer));
    let any_referrer = referrer_mask != 0;
    // How many events each touchpoint matches in all: the fewer, the more specific it is.
    let mut volume = vec![0u64; tp.rules.len()];

    // Every customer's own steps, one run of `own_steps` each (customers in ascending id order,
    // as the journeys are), and the steps credited to referrers.
    let mut own_steps: Vec<Step> = Vec::new();
    let mut own: Vec<(CustomerId, std::ops::Range<usize>)> = Vec::new();
    let mut credited: HashMap<CustomerId, Vec<Step>> = HashMap::new();
    for journey in journeys.iter() {
        let first = own_steps.len();
        for row in journey.rows.clone() {
            let bits = set.matches(table, row);
            if bits == 0 {
                continue;
            }
            let time = table.time[row];
            let mine = bits & own_mask;
            for i in ones(mine) {
                volume[i] += 1;
            }
            if mine != 0 {
                own_steps.push(Step { time, matched: mine, credited: false });
            }
            let referred = bits & referrer_mask;
            if any_referrer && referred != 0 {
                let owner = query.referrers.get(&(journey.customer, time)).copied();
                if let Some(owner) = owner.filter(|o| *o != journey.customer) {
                    credited.entry(owner).or_default().push(Step { time, matched: referred, credited: true });
                }
            }
        }
        if own_steps.len() > first {
            own.push((journey.customer, first..own_steps.len()));
        }
    }
    let mut customers: Vec<CustomerId> = own.iter().map(|(c, _)| *c).chain(credited.keys().copied()).collect();
    customers.sort_unstable();
    customers.dedup();
    let wanted = |c: &CustomerId| query.only.as_ref().is_none_or(|only| only.contains(c));
    let in_period = |t: i64| query.period.is_none_or(|(from, to)| t >= from && t < to);

    let mut report = StagesReport {
        stages: query
            .stages
            .iter()
            .map(|s| StageFigures { measured: !s.is_empty(), touchpoints: vec![TouchpointFigures::default(); s.len()], ..StageFigures::default() })
            .collect(),
        unplaced: StageRevenue::default(),
    };
    let measured: Vec<usize> = (0..n).filter(|&k| !query.stages[k].is_empty()).collect();
    let next_measured = |k: usize| measured.iter().copied().find(|&m| m > k);
    for (k, stage) in report.stages.iter_mut().enumerate() {
        if stage.measured && let Some(next) = next_measured(k) {
            stage.onward = Some(Onward { next_stage: next, ..Onward::default() });
        }
    }
    // The counted orders by customer, then time and value: each customer's are one run.
    let mut orders: Vec<(CustomerId, i64, i64)> =
        query.orders.iter().copied().filter(|&(customer, time, _)| wanted(&customer) && in_period(time)).collect();
    orders.sort_unstable();
    let mut next_order = 0;

    let mut walk = Walk::default();
    let mut merged: Vec<Step> = Vec::new();
    let mut own_at = 0;
    for customer in customers.iter().filter(|c| wanted(c)) {
        // Orders of customers before this one without a step at all.
        while next_order < orders.len() && orders[next_order].0 < *customer {
            let (buyer, _, minor) = orders[next_order];
            add(&mut report.unplaced, buyer, minor);
            next_order += 1;
        }
        while own_at < own.len() && own[own_at].0 < *customer {
            own_at += 1;
        }
        let mine: &[Step] = match own.get(own_at) {
            Some((c, range)) if c == customer => &own_steps[range.clone()],
            _ => &[],
        };
        // Own steps are in recorded order; credited ones follow them at the same time.
        let steps: &[Step] = match credited.get(customer) {
            None => mine,
            Some(more) => {
                merged.clear();
                merged.extend_from_slice(mine);
                merged.extend_from_slice(more);
                merged.sort_by_key(|s| (s.time, s.credited));
                &merged
            }
        };
        walk_into(&mut walk, steps, &tp, &volume);
        count(&mut report, *customer, &walk, query, &in_period);
        while next_order < orders.len() && orders[next_order].0 == *customer {
            let (_, time, minor) = orders[next_order];
            next_order += 1;
            // The stage of the latest event at or before the order.
            let at = walk.assigned.partition_point(|a| a.time <= time);
            let revenue = match at.checked_sub(1).map(|i| walk.assigned[i]) {
                Some(Assigned { stage, position: touchpoint, .. }) => {
                    add(&mut report.stages[stage].touchpoints[touchpoint].revenue, *customer, minor);
                    &mut report.stages[stage].revenue
                }
                None => &mut report.unplaced,
            };
            add(revenue, *customer, minor);
        }
    }
    // Orders of customers with no step at all.
    for &(buyer, _, minor) in &orders[next_order..] {
        add(&mut report.unplaced, buyer, minor);
    }
    for stage in &mut report.stages {
        for list in [&mut stage.reach, &mut stage.entered_here, &mut stage.from_earlier, &mut stage.revenue.buyers] {
            tidy(list);
        }
        if let Some(onward) = &mut stage.onward {
            for list in [&mut onward.already_past, &mut onward.went_on, &mut onward.to_next, &mut onward.skipped, &mut onward.dropped] {
                tidy(list);
            }
        }
        for t in &mut stage.touchpoints {
            tidy(&mut t.reach);
            tidy(&mut t.revenue.buyers);
        }
    }
    tidy(&mut report.unplaced.buyers);
    Ok(report)
}

/// Who referred each event of `table` that matches one of `rules` and carries a `referral_code`
/// property naming a customer in `codes` (code -> its owner; the code's spaces around it
/// ignored): (the event's customer, its time) -> the owner. A customer citing their own code
/// referred nobody. The table needs its properties column; without it nothing is found.
pub fn referrers(table: &EventTable, rules: &[EventRule], codes: &HashMap<String, CustomerId>) -> HashMap<(CustomerId, i64), CustomerId> {
    let compiled: Vec<CompiledRule> = rules.iter().map(|r| CompiledRule::new(r, table)).collect();
    let code_field = EventField::Property("referral_code".into());
    let mut out = HashMap::new();
    for row in 0..table.len() {
        let Some(customer) = table.customer.get(row) else { continue };
        if !compiled.iter().any(|r| r.matches(table, row)) {
            continue;
        }
        let owner = table.field(row, &code_field).and_then(|code| codes.get(code.trim()).copied());
        if let Some(owner) = owner.filter(|o| *o != customer) {
            out.insert((customer, table.time[row]), owner);
        }
    }
    out
}

/// The indices of the bits set in `bits`, lowest first.
fn ones(mut bits: u128) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (bits != 0).then(|| {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            i
        })
    })
}

/// Assigns a customer's steps to stages (see the module documentation), into `w` (cleared
/// first, so one walk's memory serves every customer).
fn walk_into(w: &mut Walk, steps: &[Step], tp: &Touchpoints, volume: &[u64]) {
    w.reached.clear();
    w.reached.resize(tp.of_stage.len(), None);
    w.order.clear();
    w.assigned.clear();
    // Per touchpoint, the stages it has counted at for this customer.
    w.used.clear();
    w.used.resize(tp.stages.len(), 0);
    for step in steps {
        let touchpoints = || ones(step.matched);
        // The most specific of the step's touchpoints decide (credited steps count their own
        // touchpoints, whose volume is of the friends' events: specific too).
        let fewest = touchpoints().map(|i| volume.get(i).copied().unwrap_or(0)).min().unwrap_or(0);
        let deciding = || touchpoints().filter(|&i| volume.get(i).copied().unwrap_or(0) == fewest);
        // Each deciding touchpoint's next stage (its last once all are used); the earliest of them.
        let Some(stage) = deciding()
            .map(|i| {
                let unused = tp.stages[i] & !w.used[i];
                if unused != 0 { unused.trailing_zeros() as usize } else { 63 - tp.stages[i].leading_zeros() as usize }
            })
            .min()
        else {
            continue;
        };
        for i in touchpoints() {
            if tp.stages[i] & (1 << stage) != 0 {
                w.used[i] |= 1 << stage;
            }
        }
        if w.reached[stage].is_none() {
            w.reached[stage] = Some(step.time);
            w.order.push(stage);
        }
        // The stage's touchpoints the step is at (by their position on the stage), and the one
        // its order's revenue goes to: the most specific, then the first in the stage's order.
        let on_stage = tp.of_stage[stage].iter().enumerate().filter(|&(_, &i)| step.matched & (1 << i) != 0);
        let positions = on_stage.clone().fold(0u128, |m, (p, _)| m | 1 << p);
        let position = on_stage.min_by_key(|&(p, &i)| (volume.get(i).copied().unwrap_or(0), p)).map_or(0, |(p, _)| p);
        w.assigned.push(Assigned { time: step.time, stage, position, positions });
    }
}

/// Adds one customer's walk to the stages' counts.
fn count(report: &mut StagesReport, customer: CustomerId, walk: &Walk, query: &StagesQuery, in_period: &dyn Fn(i64) -> bool) {
    for (position, &stage) in walk.order.iter().enumerate() {
        let Some(time) = walk.reached[stage] else { continue };
        if !in_period(time) {
            continue;
        }
        let figures = &mut report.stages[stage];
        figures.reach.push(customer);
        if walk.order[..position].iter().any(|&earlier| earlier < stage) {
            figures.from_earlier.push(customer);
        } else {
            figures.entered_here.push(customer);
        }
        if let Some(onward) = &mut figures.onward {
            if walk.order[..position].iter().any(|&earlier| earlier > stage) {
                onward.already_past.push(customer);
                continue;
            }
            // The later stages of the map reached after this one, within the window.
            let within = |&s: &usize| s > stage && walk.reached[s].is_some_and(|t| t - time <= query.window_ms);
            let after = &walk.order[position + 1..];
            if after.iter().any(|s| *s == onward.next_stage && within(s)) {
                onward.went_on.push(customer);
                onward.to_next.push(customer);
            } else if after.iter().any(within) {
                onward.went_on.push(customer);
                onward.skipped.push(customer);
            } else {
                onward.dropped.push(customer);
            }
        }
    }
    for a in &walk.assigned {
        if in_period(a.time) {
            for (p, figures) in report.stages[a.stage].touchpoints.iter_mut().enumerate() {
                if a.positions & (1u128 << p) != 0 {
                    figures.reach.push(customer);
                }
            }
        }
    }
}

fn add(revenue: &mut StageRevenue, customer: CustomerId, minor: i64) {
    revenue.minor += minor;
    revenue.orders += 1;
    revenue.buyers.push(customer);
}

fn tidy(list: &mut Vec<CustomerId>) {
    list.sort_unstable();
    list.dedup();
}
