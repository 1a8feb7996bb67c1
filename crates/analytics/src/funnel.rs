//! Funnels: how many customers go through a sequence of steps within a conversion window, where
//! they drop off, how long each step takes, and who they are. One pass per customer over their
//! time-ordered events, as PostHog's funnel state machine and ClickHouse's `windowFunnel` do, so
//! the customers behind every number can be listed.
//!
//! Semantics, which the brute-force test in `tests/analytics.rs` checks on random journeys:
//!
//! - A step is "any of" several event rules. Each event can satisfy at most one step of a chain.
//! - Events are in time order; events at the same millisecond keep their recorded order (the
//!   order the store returned them), and that order decides which of them comes first.
//! - A chain starts at an event matching step 1 (the "anchor"; in unordered mode any step) and
//!   every event of the chain falls within `window_ms` of the anchor, boundary included.
//!   - ordered: the chain's events match steps 1, 2, ... in order; other events may come between.
//!   - strict: the chain's events are consecutive events of the customer: any other event in
//!     between ends the chain, and a later step-1 event starts a new one (PostHog's strict mode).
//!   - unordered: the chain's events match distinct steps in any order; a customer "reaches step
//!     k" when they did k of the steps, whichever they were.
//! - A customer's furthest step is the longest chain over all anchors (windowFunnel's answer).
//!   Among the longest chains the engine keeps the one with the earliest anchor and, for that
//!   anchor, the earliest possible last event; its times feed the time-to-convert figures.
//! - Exclusions: a customer with an event matching an exclusion rule strictly between the kept
//!   chain's anchor and its last event is excluded from the funnel entirely (counted apart).
//! - A period keeps only anchors whose time falls in `[from, to)`; the chain may end after `to`.
//!
//! Speed: when every rule of the steps and exclusions tests the event name only (the usual funnel),
//! they are compiled to one table per name id, so marking an event is one lookup; other rules are
//! evaluated per event. Customers without an event that can start a chain are skipped after a scan
//! of their names, buffers are reused from customer to customer, and ranges of customers run on
//! the machine's cores at once, joined in customer order, so the result does not depend on them.
//! An ordered funnel of up to 8 steps finds each customer's furthest step in one pass without a
//! branch per event, then follows one chain for its times (none for customers who only entered).

use crate::{CompiledRule, Journey, Journeys};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Range;
use trailmap_model::{CustomerId, EventField, EventRule, EventTable};

/// The most steps a funnel may have: steps are bits of a `u64` per event.
pub const MAX_STEPS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FunnelMode {
    #[default]
    Ordered,
    Strict,
    Unordered,
}

impl FunnelMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FunnelMode::Ordered => "ordered",
            FunnelMode::Strict => "strict",
            FunnelMode::Unordered => "unordered",
        }
    }
}

impl std::str::FromStr for FunnelMode {
    type Err = String;

    fn from_str(text: &str) -> Result<FunnelMode, String> {
        match text {
            "ordered" => Ok(FunnelMode::Ordered),
            "strict" => Ok(FunnelMode::Strict),
            "unordered" => Ok(FunnelMode::Unordered),
            other => Err(format!("unknown funnel mode {other:?}: expected ordered, strict or unordered")),
        }
    }
}

/// One step: an event matching any of `any_of` satisfies it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelStep {
    pub label: String,
    pub any_of: Vec<EventRule>,
}

impl FunnelStep {
    /// A step matching events with this name.
    pub fn named(name: &str) -> FunnelStep {
        FunnelStep { label: name.to_string(), any_of: vec![EventRule::named(name)] }
    }

    fn needs_properties(&self) -> bool {
        self.any_of
            .iter()
            .any(|rule| rule.conditions.iter().any(|c| matches!(c.field, EventField::Property(_))))
    }
}

/// How to split a funnel into one funnel per value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Breakdown {
    /// The field of the customer's first event of all ("first touch").
    FirstTouch(EventField),
    /// The field of the event that started the customer's chain (their step-1 event).
    StepOne(EventField),
    /// A label per customer decided by the caller: their persona, a customer property. Customers
    /// without a label fall in the "(none)" group.
    Customer(BTreeMap<CustomerId, String>),
}

impl Breakdown {
    fn field(&self) -> Option<&EventField> {
        match self {
            Breakdown::FirstTouch(field) | Breakdown::StepOne(field) => Some(field),
            Breakdown::Customer(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunnelQuery {
    pub steps: Vec<FunnelStep>,
    /// The conversion window from the step-1 event, in milliseconds, boundary included.
    pub window_ms: i64,
    pub mode: FunnelMode,
    /// Events that exclude a customer when they fall inside the customer's chain.
    pub exclusions: Vec<FunnelStep>,
    pub breakdown: Option<Breakdown>,
    /// Only step-1 events with a time in `[from, to)` (milliseconds) start a chain.
    pub period: Option<(i64, i64)>,
}

impl FunnelQuery {
    /// Whether matching or breaking down needs the events' properties loaded.
    pub fn needs_properties(&self) -> bool {
        self.steps.iter().chain(&self.exclusions).any(FunnelStep::needs_properties)
            || self.breakdown.as_ref().and_then(Breakdown::field).is_some_and(|f| matches!(f, EventField::Property(_)))
    }

    /// When the answer depends only on the events whose name passes a step's or an exclusion's
    /// rule, the test of a name for that, so a caller may load only those events, as ClickHouse
    /// reads only the rows of `WHERE event IN (...)`. Other events matter, and this is None, when
    /// a rule tests another field than the name, in strict mode (any event between two steps
    /// breaks the chain) and with a first-touch breakdown (it reads the customer's first event).
    pub fn relevant_names(&self) -> Option<impl Fn(&str) -> bool + '_> {
        if self.mode == FunnelMode::Strict || matches!(self.breakdown, Some(Breakdown::FirstTouch(_))) {
            return None;
        }
        let rules: Vec<&EventRule> = self.steps.iter().chain(&self.exclusions).flat_map(|s| &s.any_of).collect();
        if rules.iter().any(|r| r.conditions.iter().any(|c| c.field != EventField::Name)) {
            return None;
        }
        // An empty rule matches nothing, as in the model.
        Some(move |name: &str| rules.iter().any(|r| !r.conditions.is_empty() && r.conditions.iter().all(|c| c.op.test(Some(name)) != c.negate)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FunnelError {
    #[error("a funnel needs at least one step")]
    NoSteps,
    #[error("a funnel has at most {MAX_STEPS} steps; this one has {0}")]
    TooManySteps(usize),
    #[error("step {0:?} has no rule, so no event can match it")]
    EmptyStep(String),
    #[error("the conversion window must be positive; got {0} ms")]
    Window(i64),
    #[error("the period must start before it ends")]
    Period,
}

/// What the engine knows of one event for funnel purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// Milliseconds since the epoch.
    pub time: i64,
    /// Bit `k` set when the event matches step `k` (0-based).
    pub steps: u64,
    /// Whether the event matches an exclusion rule.
    pub excluded: bool,
}

/// The chain the engine keeps for one customer. Indices are into the customer's marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// How many steps the chain covers (1 = only step 1).
    pub reached: usize,
    /// The chain's first event.
    pub anchor: usize,
    /// The chain's last event.
    pub end: usize,
    /// The chain's events in time order, one per step reached.
    pub events: Vec<usize>,
    /// Whether an exclusion event falls strictly between `anchor` and `end`.
    pub excluded: bool,
}

/// The longest chain of one customer's events (see the module's semantics), or None when no
/// event can start one.
pub fn best_chain(marks: &[Mark], steps: usize, window_ms: i64, mode: FunnelMode, period: Option<(i64, i64)>) -> Option<Chain> {
    let mut events = Vec::new();
    let mut anchors = [i64::MIN; MAX_STEPS];
    longest_chain(marks, steps, window_ms, mode, period, (&mut Vec::new(), &mut events, &mut anchors)).then(|| chain_of(marks, events))
}

/// The kept chain's summary from its events (non-empty, in time order).
fn chain_of(marks: &[Mark], events: Vec<usize>) -> Chain {
    let anchor = events[0];
    let end = events[events.len() - 1];
    let excluded = marks[anchor + 1..end.max(anchor + 1)].iter().any(|m| m.excluded);
    Chain { reached: events.len(), anchor, end, events, excluded }
}

/// The work of [`best_chain`] into buffers the caller reuses from customer to customer: `best`
/// receives the kept chain's events; false when no event starts a chain.
fn longest_chain<E: Events + ?Sized>(
    marks: &E,
    steps: usize,
    window_ms: i64,
    mode: FunnelMode,
    period: Option<(i64, i64)>,
    (current, best, anchors): (&mut Vec<usize>, &mut Vec<usize>, &mut [i64; MAX_STEPS]),
) -> bool {
    let mut steps = steps.min(MAX_STEPS);
    if mode == FunnelMode::Ordered {
        // One pass finds how far the longest chain goes; the anchors are then tried in order
        // only until one reaches that far, and no chain is followed past it.
        steps = marks.furthest_ordered_step(steps, window_ms, period, anchors);
        best.clear();
        if steps == 0 {
            return false;
        }
        if steps == 1 {
            // Most customers who enter go no further: their chain is the first anchor.
            let first = (0..marks.len()).find(|&e| marks.steps(e) & 1 == 1 && period.is_none_or(|(from, to)| (from..to).contains(&marks.time(e))));
            best.extend(first);
            return first.is_some();
        }
    }
    let mut found = false;
    best.clear();
    for anchor in 0..marks.len() {
        let starts = match mode {
            FunnelMode::Unordered => marks.steps(anchor) != 0,
            FunnelMode::Ordered | FunnelMode::Strict => marks.steps(anchor) & 1 == 1,
        };
        let in_period = period.is_none_or(|(from, to)| (from..to).contains(&marks.time(anchor)));
        if !starts || !in_period {
            continue;
        }
        let limit = marks.time(anchor).saturating_add(window_ms);
        current.clear();
        // Whether a later anchor could still do better than this one's chain.
        let mut later_may_be_longer = true;
        match mode {
            FunnelMode::Ordered => later_may_be_longer = ordered_chain(marks, anchor, steps, limit, current),
            FunnelMode::Strict => strict_chain(marks, anchor, steps, limit, current),
            FunnelMode::Unordered => unordered_chain(marks, anchor, steps, limit, current),
        }
        // Only a strictly longer chain replaces the kept one, so the earliest anchor wins ties.
        if !found || current.len() > best.len() {
            found = true;
            std::mem::swap(current, best);
            if best.len() == steps {
                break;
            }
        }
        if !later_may_be_longer {
            break;
        }
    }
    found
}

/// How many steps the longest ordered chain of `marks` covers (0: no event starts one), in one
/// pass, as ClickHouse's `windowFunnel` does: for each step, the latest anchor time of a chain
/// reaching it so far. The latest anchor is the best one to extend, as its window ends last, so
/// an event of step k extends the chain of step k - 1 when it falls within that anchor's window.
/// The steps an event matches are taken from the last to the first, so that one event is never
/// two steps of a chain.
///
/// `latest_anchor` is the caller's buffer, reused from customer to customer: only its first
/// `steps` entries are reset.
fn furthest_ordered_step<E: Events + ?Sized>(
    marks: &E,
    steps: usize,
    window_ms: i64,
    period: Option<(i64, i64)>,
    latest_anchor: &mut [i64; MAX_STEPS],
) -> usize {
    latest_anchor[..steps].fill(i64::MIN);
    let relevant = if steps == MAX_STEPS { u64::MAX } else { (1u64 << steps) - 1 };
    let mut furthest = 0;
    for event in 0..marks.len() {
        let mut matched = marks.steps(event) & relevant;
        if matched == 0 {
            continue;
        }
        let time = marks.time(event);
        while matched != 0 {
            let step = 63 - matched.leading_zeros() as usize;
            matched &= !(1u64 << step);
            if step == 0 {
                if period.is_none_or(|(from, to)| (from..to).contains(&time)) {
                    latest_anchor[0] = time;
                    furthest = furthest.max(1);
                }
            } else {
                let anchor = latest_anchor[step - 1];
                if anchor != i64::MIN && time <= anchor.saturating_add(window_ms) {
                    latest_anchor[step] = anchor;
                    furthest = furthest.max(step + 1);
                }
            }
        }
        if furthest == steps {
            break;
        }
    }
    furthest
}

/// Each step at its earliest event after the previous one: this reaches as far as any chain from
/// this anchor can, and ends as early as possible. Returns whether the window cut the chain short:
/// when it did not, the chain ran out of events, and no later anchor can reach further (its
/// earliest event for each step comes no sooner than this chain's).
fn ordered_chain<E: Events + ?Sized>(marks: &E, anchor: usize, steps: usize, limit: i64, events: &mut Vec<usize>) -> bool {
    events.push(anchor);
    for index in anchor + 1..marks.len() {
        if events.len() == steps {
            return false;
        }
        if marks.time(index) > limit {
            return true;
        }
        if marks.steps(index) >> events.len() & 1 == 1 {
            events.push(index);
        }
    }
    false
}

fn strict_chain<E: Events + ?Sized>(marks: &E, anchor: usize, steps: usize, limit: i64, events: &mut Vec<usize>) {
    events.push(anchor);
    while events.len() < steps {
        let next = anchor + events.len();
        if next < marks.len() && marks.time(next) <= limit && marks.steps(next) >> events.len() & 1 == 1 {
            events.push(next);
        } else {
            break;
        }
    }
}

/// A maximum matching of steps to distinct events from the anchor on, grown one event at a time
/// (Kuhn's augmenting paths), stopped at the first event where it reaches its final size.
fn unordered_chain<E: Events + ?Sized>(marks: &E, anchor: usize, steps: usize, limit: i64, events: &mut Vec<usize>) {
    let mut owner: Vec<Option<usize>> = vec![None; steps];
    let mut size = 0;
    let mut best_owner = owner.clone();
    for index in anchor..marks.len() {
        if size == steps || marks.time(index) > limit {
            break;
        }
        if marks.steps(index) == 0 {
            continue;
        }
        let mut visited = 0u64;
        if augment(marks, index, &mut owner, &mut visited) {
            size += 1;
            best_owner.clone_from(&owner);
        }
    }
    // Augmenting paths never unmatch an event, so the anchor (matched first) stays in the chain,
    // and the last event matched is the earliest possible end of a chain this long.
    events.extend(best_owner.into_iter().flatten());
    events.sort_unstable();
}

fn augment<E: Events + ?Sized>(marks: &E, event: usize, owner: &mut [Option<usize>], visited: &mut u64) -> bool {
    for step in 0..owner.len() {
        if marks.steps(event) >> step & 1 == 0 || *visited >> step & 1 == 1 {
            continue;
        }
        *visited |= 1 << step;
        let free = match owner[step] {
            None => true,
            Some(other) => augment(marks, other, owner, visited),
        };
        if free {
            owner[step] = Some(event);
            return true;
        }
    }
    false
}

/// What the chain search reads of one customer's events, by position: marks built per event, or
/// the rows of a table read through the name tables, which saves building marks in the usual
/// funnel (every rule on the event name).
trait Events {
    fn len(&self) -> usize;
    fn time(&self, event: usize) -> i64;
    /// Bit `k` set when the event matches step `k`.
    fn steps(&self, event: usize) -> u64;
    fn excluded(&self, event: usize) -> bool;

    /// How far the longest ordered chain goes: [`furthest_ordered_step`], which a source may do
    /// faster.
    fn furthest_ordered_step(&self, steps: usize, window_ms: i64, period: Option<(i64, i64)>, latest_anchor: &mut [i64; MAX_STEPS]) -> usize {
        furthest_ordered_step(self, steps, window_ms, period, latest_anchor)
    }
}

impl Events for [Mark] {
    fn len(&self) -> usize {
        <[Mark]>::len(self)
    }

    fn time(&self, event: usize) -> i64 {
        self[event].time
    }

    fn steps(&self, event: usize) -> u64 {
        self[event].steps
    }

    fn excluded(&self, event: usize) -> bool {
        self[event].excluded
    }
}

/// Consecutive rows of a table as [`Events`], looked up in the name tables of a [`Matcher`].
struct NamedRows<'a> {
    times: &'a [i64],
    names: &'a [u32],
    masks: &'a [u64],
    exclusions: &'a [bool],
}

impl Events for NamedRows<'_> {
    fn len(&self) -> usize {
        self.times.len()
    }

    fn time(&self, event: usize) -> i64 {
        self.times[event]
    }

    fn steps(&self, event: usize) -> u64 {
        self.masks.get(self.names[event] as usize).copied().unwrap_or(0)
    }

    fn excluded(&self, event: usize) -> bool {
        self.exclusions.get(self.names[event] as usize).copied().unwrap_or(false)
    }

    fn furthest_ordered_step(&self, steps: usize, window_ms: i64, period: Option<(i64, i64)>, latest_anchor: &mut [i64; MAX_STEPS]) -> usize {
        // Funnels of up to 8 steps (nearly all) get a pass whose steps are known when compiled.
        let fast = match steps {
            1 => self.furthest_without_branches::<1>(window_ms, period),
            2 => self.furthest_without_branches::<2>(window_ms, period),
            3 => self.furthest_without_branches::<3>(window_ms, period),
            4 => self.furthest_without_branches::<4>(window_ms, period),
            5 => self.furthest_without_branches::<5>(window_ms, period),
            6 => self.furthest_without_branches::<6>(window_ms, period),
            7 => self.furthest_without_branches::<7>(window_ms, period),
            8 => self.furthest_without_branches::<8>(window_ms, period),
            _ => None,
        };
        fast.unwrap_or_else(|| furthest_ordered_step(self, steps, window_ms, period, latest_anchor))
    }
}

impl NamedRows<'_> {
    /// [`furthest_ordered_step`] for `STEPS` steps with no branch that depends on the events:
    /// every event updates every step's anchor with a conditional move (keep it, or take the
    /// previous step's when this event extends that chain). Which events match a step, and
    /// whether they fall within the window, follow no pattern a processor can predict, so at a
    /// hundred million events the branching version spent most of its time on mispredictions. The
    /// result is the same: each step's new anchor is computed from the anchors before this event,
    /// so one event is never two steps of a chain.
    ///
    /// An unset anchor is `i64::MIN`, which no event extends: times are kept within
    /// [`FAST_TIMES`] (the generic pass takes the rest) and the window is capped at its width, so
    /// `anchor + window` neither overflows nor reaches an event from an unset anchor.
    fn furthest_without_branches<const STEPS: usize>(&self, window_ms: i64, period: Option<(i64, i64)>) -> Option<usize> {
        let (first, last) = (*self.times.first()?, *self.times.last()?);
        if !FAST_TIMES.contains(&first) || !FAST_TIMES.contains(&last) {
            return None;
        }
        let window = window_ms.min(FAST_TIMES.end - FAST_TIMES.start);
        let (from, to) = period.unwrap_or((i64::MIN, i64::MAX));
        let mut anchor = [i64::MIN; STEPS];
        for (&name, &time) in self.names.iter().zip(self.times) {
            let matched = self.masks.get(name as usize).copied().unwrap_or(0);
            let before = anchor;
            for step in 1..STEPS {
                let extends = (matched >> step) & 1 == 1 && time <= before[step - 1] + window;
                anchor[step] = if extends { before[step - 1] } else { before[step] };
            }
            let starts = matched & 1 == 1 && from <= time && time < to;
            anchor[0] = if starts { time } else { before[0] };
            if anchor[STEPS - 1] != i64::MIN {
                break;
            }
        }
        Some(anchor.iter().filter(|&&a| a != i64::MIN).count())
    }
}

/// The times the branch-free pass takes (about 73 million years either side of 1970; parsed
/// times are within 0.3 million): an anchor plus a window capped at this range's width stays
/// below `i64::MAX`, and `i64::MIN` plus that width stays below every time in it.
const FAST_TIMES: Range<i64> = -(1 << 61)..(1 << 61);

/// The outcome for one customer who entered the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CustomerOutcome {
    pub customer: CustomerId,
    /// Steps reached, at most [`MAX_STEPS`]; 4 bytes, so an outcome is 16 bytes.
    pub reached: u32,
    pub excluded: bool,
}

/// A time summary over `n` customers, by nearest rank: the median is the smallest value with at
/// least half of the values at or below it, p90 the smallest with at least 90%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeSummary {
    pub n: usize,
    pub median_ms: i64,
    pub p90_ms: i64,
}

impl TimeSummary {
    /// The summary of `values` (any order); None when there are none. The two ranks are found by
    /// selection rather than a sort, as a step of a big funnel has hundreds of thousands of times.
    pub fn of(mut values: Vec<i64>) -> Option<TimeSummary> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let (median_rank, p90_rank) = (rank_index(n, 0.5), rank_index(n, 0.9));
        let (_, &mut median_ms, above) = values.select_nth_unstable(median_rank);
        let p90_ms = if p90_rank == median_rank { median_ms } else { *above.select_nth_unstable(p90_rank - median_rank - 1).1 };
        Some(TimeSummary { n, median_ms, p90_ms })
    }
}

/// The nearest-rank percentile of sorted, non-empty values.
pub(crate) fn nearest_rank<T: Copy>(sorted: &[T], p: f64) -> T {
    sorted[rank_index(sorted.len(), p)]
}

/// The 0-based position of the nearest-rank `p` percentile among `n` sorted values (n > 0).
fn rank_index(n: usize, p: f64) -> usize {
    ((p * n as f64).ceil() as usize).clamp(1, n) - 1
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepResult {
    pub label: String,
    /// Customers reaching this step.
    pub reached: usize,
    /// `reached` over the customers who entered (step 1); 1 for step 1, 0 when nobody entered.
    pub conversion_from_first: f64,
    /// `reached` over the previous step's `reached`.
    pub conversion_from_previous: f64,
    /// Customers who reached the previous step but not this one.
    pub dropped: usize,
    /// Time from the previous step's event to this step's, over the customers reaching it.
    pub time_from_previous: Option<TimeSummary>,
    /// The customers reaching this step, in ascending id order. Never serialised: at ten million
    /// events a funnel's lists are megabytes of ids that no figure needs, so an answer lists them
    /// only when asked, a page at a time (`trailmap_app::FunnelCustomersRequest`).
    #[serde(skip)]
    pub customers: Vec<CustomerId>,
    /// The customers who reached the previous step but not this one, in ascending id order; not
    /// serialised, as `customers`.
    #[serde(skip)]
    pub dropped_customers: Vec<CustomerId>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelResult {
    /// Customers who entered the funnel (did step 1), excluded ones left out: the n of step 1.
    pub entered: usize,
    pub steps: Vec<StepResult>,
    /// Time from step 1 to the last step, over the customers completing the funnel.
    pub time_to_convert: Option<TimeSummary>,
    /// Customers left out because of an exclusion event.
    pub excluded: Vec<CustomerId>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BreakdownGroup {
    pub value: String,
    pub result: FunnelResult,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelReport {
    pub mode: FunnelMode,
    pub window_ms: i64,
    /// `[from, to)` in ms since the epoch, when the funnel was limited to a period.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<i64>>))]
    pub period: Option<(i64, i64)>,
    pub overall: FunnelResult,
    /// One funnel per breakdown value, largest first; empty without a breakdown.
    pub breakdown: Vec<BreakdownGroup>,
    /// Per customer of `overall.excluded`, the steps their chain reached; [`FunnelReport::outcomes`]
    /// needs it, and no figure shows it.
    #[serde(skip)]
    excluded_reached: Vec<u32>,
}

impl FunnelReport {
    /// The report of an ordered funnel from its counts alone, the customers reaching each step
    /// (`reached[0]` entered), as a query pushed down to ClickHouse's `windowFunnel` gives them:
    /// the engine's figures for the same counts (conversions, drop-offs), without step times or
    /// customer lists, which need each customer's chain.
    pub fn from_counts(window_ms: i64, period: Option<(i64, i64)>, labels: &[String], reached: &[usize]) -> FunnelReport {
        let entered = reached.first().copied().unwrap_or(0);
        let mut steps: Vec<StepResult> = Vec::with_capacity(labels.len());
        for (label, &count) in labels.iter().zip(reached) {
            let previous = steps.last().map_or(entered, |s| s.reached);
            steps.push(StepResult {
                label: label.clone(),
                reached: count,
                conversion_from_first: ratio(count, entered),
                conversion_from_previous: ratio(count, previous),
                dropped: previous.saturating_sub(count),
                time_from_previous: None,
                customers: Vec::new(),
                dropped_customers: Vec::new(),
            });
        }
        FunnelReport {
            mode: FunnelMode::Ordered,
            window_ms,
            period,
            overall: FunnelResult { entered, steps, time_to_convert: None, excluded: Vec::new() },
            breakdown: Vec::new(),
            excluded_reached: Vec::new(),
        }
    }

    /// The report of a funnel nobody entered.
    pub fn empty(mode: FunnelMode, window_ms: i64) -> FunnelReport {
        FunnelReport {
            mode,
            window_ms,
            period: None,
            overall: FunnelResult { entered: 0, steps: Vec::new(), time_to_convert: None, excluded: Vec::new() },
            breakdown: Vec::new(),
            excluded_reached: Vec::new(),
        }
    }

    /// Every customer who entered, excluded ones included, in ascending customer id order, with
    /// the steps they reached. Read from the step lists when asked rather than kept beside them:
    /// at a hundred million events the list was 60 MB a funnel that no screen shows.
    pub fn outcomes(&self) -> Vec<CustomerOutcome> {
        let steps = &self.overall.steps;
        let entered: &[CustomerId] = steps.first().map_or(&[], |s| &s.customers);
        let mut next = vec![0usize; steps.len()];
        let counted = entered.iter().map(|&customer| {
            // A customer in step k's list is in every earlier step's, so the lists are walked
            // together, each advanced only past the customers it holds.
            let mut reached = 1;
            for (k, step) in steps.iter().enumerate().skip(1) {
                if step.customers.get(next[k]) != Some(&customer) {
                    break;
                }
                next[k] += 1;
                reached += 1;
            }
            CustomerOutcome { customer, reached, excluded: false }
        });
        let excluded = self.overall.excluded.iter().zip(&self.excluded_reached).map(|(&customer, &reached)| CustomerOutcome { customer, reached, excluded: true });
        // An excluded customer is in no step list, so each customer comes once.
        let mut outcomes: Vec<CustomerOutcome> = counted.chain(excluded).collect();
        outcomes.sort_unstable_by_key(|o| o.customer);
        outcomes
    }
}

/// The breakdown value written for events without the field.
pub const NO_VALUE: &str = "(none)";

/// Runs a funnel over every customer's journey.
pub fn funnel(journeys: &Journeys, query: &FunnelQuery) -> Result<FunnelReport, FunnelError> {
    check(query)?;
    let matcher = Matcher::new(journeys.table(), query);
    let rows = journeys.table().len();
    let threads = rayon::current_num_threads().min(rows / ROWS_PER_THREAD).max(1);
    Ok(report(journeys, query, &matcher, threads))
}

/// Below this many events one thread does the whole funnel: starting threads would cost more
/// than it saves.
const ROWS_PER_THREAD: usize = 250_000;

/// The funnel computed over `threads` ranges of customers at once (ranges of about equal rows),
/// each range tallied completely by its thread (chains, outcomes, the customers and times behind
/// every step, per breakdown group), then the tallies joined in range order. Journeys are in
/// ascending customer order, so the joined lists are too, and the result does not depend on the
/// number of threads.
fn report(journeys: &Journeys, query: &FunnelQuery, matcher: &Matcher, threads: usize) -> FunnelReport {
    let rows = journeys.table().len();
    let ends = journeys.ends();
    let mut bounds = vec![0];
    for part in 1..threads {
        let target = rows / threads * part;
        bounds.push(ends.partition_point(|&end| end <= target));
    }
    bounds.push(journeys.len());
    let ranges: Vec<Range<usize>> = bounds.windows(2).map(|w| w[0]..w[1]).collect();
    // Rayon's threads live as long as the process, so the memory their tallies took is reused by
    // the next funnel's; threads started per funnel would each take fresh memory from the kernel.
    // The first range's lists are reserved for every customer, so the other ranges' are appended
    // to them in place; the others' for their own customers. Reserved memory the lists never fill
    // is never touched, so it costs address space, not resident memory, and no list is ever
    // copied to grow.
    let everyone = journeys.len();
    let parts: Vec<Part> = if let [range] = ranges.as_slice() {
        vec![tally_range(journeys, range.clone(), query, matcher, everyone)]
    } else {
        ranges
            .into_par_iter()
            .enumerate()
            .map(|(k, range)| {
                let capacity = if k == 0 { everyone } else { range.len() };
                tally_range(journeys, range, query, matcher, capacity)
            })
            .collect()
    };

    let steps = query.steps.len();
    let labels: Vec<String> = match query.mode {
        FunnelMode::Unordered => (1..=steps).map(|k| format!("{k} of {steps} steps")).collect(),
        _ => query.steps.iter().map(|s| s.label.clone()).collect(),
    };
    let mut overall = Vec::with_capacity(parts.len());
    let mut groups: BTreeMap<String, Vec<Tally>> = BTreeMap::new();
    for part in parts {
        overall.push(part.overall);
        for (value, tally) in part.groups {
            groups.entry(value).or_default().push(tally);
        }
    }
    let mut breakdown: Vec<BreakdownGroup> = groups
        .into_iter()
        .map(|(value, tallies)| BreakdownGroup { value, result: Tally::join(tallies, steps).result(&labels) })
        .collect();
    breakdown.sort_by(|a, b| b.result.entered.cmp(&a.result.entered).then_with(|| a.value.cmp(&b.value)));
    let mut overall = Tally::join(overall, steps);
    let excluded_reached = std::mem::take(&mut overall.excluded_reached);
    FunnelReport { mode: query.mode, window_ms: query.window_ms, period: query.period, overall: overall.result(&labels), breakdown, excluded_reached }
}

/// What one thread finds over its range of customers.
#[derive(Debug)]
struct Part {
    overall: Tally,
    /// One tally per breakdown value; empty without a breakdown.
    groups: BTreeMap<String, Tally>,
}

/// The customers and times behind one funnel's figures (the overall funnel or one breakdown
/// group) over a range of customers, in customer order.
#[derive(Debug)]
struct Tally {
    /// Per step, the customers reaching it.
    reached: Vec<Vec<CustomerId>>,
    /// Per step, the customers who reached the previous step but not this one (none at step 1).
    dropped: Vec<Vec<CustomerId>>,
    /// Per step, the time from the previous step's event to this one's (none at step 1).
    from_previous: Vec<Vec<i64>>,
    /// Time from step 1 to the last step, for the customers completing a funnel of 2 steps or more.
    to_convert: Vec<i64>,
    excluded: Vec<CustomerId>,
    /// Per excluded customer, the steps their chain reached.
    excluded_reached: Vec<u32>,
}

impl Tally {
    fn new(steps: usize) -> Tally {
        Tally::with_capacity(steps, 0)
    }

    /// A tally whose lists can hold `customers` each without growing.
    fn with_capacity(steps: usize, customers: usize) -> Tally {
        fn lists<T>(steps: usize, from: usize, customers: usize) -> Vec<Vec<T>> {
            (0..steps).map(|k| Vec::with_capacity(if k < from { 0 } else { customers })).collect()
        }
        Tally {
            reached: lists(steps, 0, customers),
            // Nobody drops at step 1 and nobody has a time from before it.
            dropped: lists(steps, 1, customers),
            from_previous: lists(steps, 1, customers),
            to_convert: Vec::with_capacity(customers),
            excluded: Vec::new(),
            excluded_reached: Vec::new(),
        }
    }

    /// Counts one customer whose chain's events happened at `times` (one per step reached).
    fn add(&mut self, customer: CustomerId, excluded: bool, times: &[i64]) {
        if excluded {
            self.excluded.push(customer);
            self.excluded_reached.push(times.len() as u32);
            return;
        }
        let steps = self.reached.len();
        for (k, reached) in self.reached.iter_mut().enumerate().take(times.len()) {
            reached.push(customer);
            if k > 0 {
                self.from_previous[k].push(times[k] - times[k - 1]);
            }
        }
        if times.len() < steps {
            self.dropped[times.len()].push(customer);
        } else if steps > 1 {
            self.to_convert.push(times[steps - 1] - times[0]);
        }
    }

    /// The tallies of consecutive ranges as one: the others' lists are copied after the first's.
    fn join(tallies: Vec<Tally>, steps: usize) -> Tally {
        fn extend<'a, T: Copy + 'a>(into: &mut Vec<T>, more: impl Iterator<Item = &'a Vec<T>> + Clone) {
            // A no-op when the first range's lists were reserved for everyone.
            into.reserve(more.clone().map(Vec::len).sum());
            more.for_each(|list| into.extend_from_slice(list));
        }
        let mut tallies = tallies.into_iter();
        let Some(mut joined) = tallies.next() else {
            return Tally::new(steps);
        };
        let rest: Vec<Tally> = tallies.collect();
        for k in 0..steps {
            extend(&mut joined.reached[k], rest.iter().map(|t| &t.reached[k]));
            extend(&mut joined.dropped[k], rest.iter().map(|t| &t.dropped[k]));
            extend(&mut joined.from_previous[k], rest.iter().map(|t| &t.from_previous[k]));
        }
        extend(&mut joined.to_convert, rest.iter().map(|t| &t.to_convert));
        extend(&mut joined.excluded, rest.iter().map(|t| &t.excluded));
        extend(&mut joined.excluded_reached, rest.iter().map(|t| &t.excluded_reached));
        joined
    }

    fn result(self, labels: &[String]) -> FunnelResult {
        let entered = self.reached.first().map_or(0, Vec::len);
        let mut steps: Vec<StepResult> = Vec::with_capacity(labels.len());
        let lists = self.reached.into_iter().zip(self.dropped).zip(self.from_previous);
        for (k, (label, ((customers, dropped_customers), times))) in labels.iter().zip(lists).enumerate() {
            let previous = steps.last().map_or(entered, |s| s.reached);
            steps.push(StepResult {
                label: label.clone(),
                reached: customers.len(),
                conversion_from_first: ratio(customers.len(), entered),
                conversion_from_previous: ratio(customers.len(), previous),
                dropped: dropped_customers.len(),
                time_from_previous: if k == 0 { None } else { TimeSummary::of(times) },
                customers,
                dropped_customers,
            });
        }
        FunnelResult { entered, steps, time_to_convert: TimeSummary::of(self.to_convert), excluded: self.excluded }
    }
}

/// Tallies the customers of journeys `range`. The marks and chain buffers are reused from
/// customer to customer, and a customer with no event that can start a chain is skipped after a
/// scan of their names.
fn tally_range(journeys: &Journeys, range: Range<usize>, query: &FunnelQuery, matcher: &Matcher, capacity: usize) -> Part {
    let table = journeys.table();
    let steps = query.steps.len();
    let starts = match query.mode {
        FunnelMode::Unordered => u64::MAX,
        FunnelMode::Ordered | FunnelMode::Strict => 1,
    };
    let mut part = Part {
        overall: Tally::with_capacity(steps, capacity),
        groups: BTreeMap::new(),
    };
    let mut buffers = ChainBuffers::default();
    for k in range {
        let journey = journeys.journey(k);
        // No chain starts before the first event that matches a starting step, and what happens
        // before a chain does not matter to it, so the events read begin there. With the name
        // tables the rows are read in place; otherwise each row is marked once.
        let Some(first) = matcher.first_start(table, journey.rows.clone(), starts) else {
            continue;
        };
        let span = first..journey.rows.end;
        let found = if let Some((masks, exclusions)) = &matcher.by_name {
            let events = NamedRows { times: &table.time[span.clone()], names: &table.name[span], masks, exclusions };
            buffers.chain(&events, query, matcher)
        } else {
            let mut marks = std::mem::take(&mut buffers.marks);
            marks.clear();
            marks.extend(span.map(|row| matcher.mark(table, row)));
            let found = buffers.chain(marks.as_slice(), query, matcher);
            buffers.marks = marks;
            found
        };
        let Some((anchor, excluded)) = found else {
            continue;
        };
        let times = &buffers.times;
        part.overall.add(journey.customer, excluded, times);
        if let Some(breakdown) = &query.breakdown {
            let value = breakdown_value(table, &journey, breakdown, first - journey.rows.start + anchor);
            part.groups.entry(value).or_insert_with(|| Tally::new(steps)).add(journey.customer, excluded, times);
        }
    }
    part
}

/// The buffers of the chain search, reused from customer to customer.
#[derive(Debug)]
struct ChainBuffers {
    marks: Vec<Mark>,
    current: Vec<usize>,
    best: Vec<usize>,
    /// The kept chain's event times, one per step reached.
    times: Vec<i64>,
    /// The latest anchor per step of the ordered funnel's one-pass search.
    anchors: [i64; MAX_STEPS],
}

impl Default for ChainBuffers {
    fn default() -> ChainBuffers {
        ChainBuffers { marks: Vec::new(), current: Vec::new(), best: Vec::new(), times: Vec::new(), anchors: [i64::MIN; MAX_STEPS] }
    }
}

impl ChainBuffers {
    /// Finds the longest chain among one customer's `events`; when there is one, leaves its times
    /// in `self.times` and returns its anchor (a position in `events`) and whether an exclusion
    /// event falls inside it.
    fn chain<E: Events + ?Sized>(&mut self, events: &E, query: &FunnelQuery, matcher: &Matcher) -> Option<(usize, bool)> {
        let buffers = (&mut self.current, &mut self.best, &mut self.anchors);
        if !longest_chain(events, query.steps.len(), query.window_ms, query.mode, query.period, buffers) {
            return None;
        }
        let (anchor, end) = (self.best[0], self.best[self.best.len() - 1]);
        let excluded = matcher.has_exclusions && (anchor + 1..end.max(anchor + 1)).any(|e| events.excluded(e));
        self.times.clear();
        self.times.extend(self.best.iter().map(|&e| events.time(e)));
        Some((anchor, excluded))
    }
}

/// A funnel's steps and exclusions compiled against one table.
struct Matcher {
    /// When every rule tests the event name only (and the names are loaded): each name id's step
    /// bits and whether it is an exclusion, so marking a row is one lookup.
    by_name: Option<(Vec<u64>, Vec<bool>)>,
    steps: Vec<Vec<CompiledRule>>,
    exclusions: Vec<CompiledRule>,
    has_exclusions: bool,
}

impl Matcher {
    fn new(table: &EventTable, query: &FunnelQuery) -> Matcher {
        let compile = |steps: &[FunnelStep]| -> Vec<Vec<CompiledRule>> {
            steps.iter().map(|s| s.any_of.iter().map(|r| CompiledRule::new(r, table)).collect()).collect()
        };
        let steps = compile(&query.steps);
        let exclusions: Vec<CompiledRule> = compile(&query.exclusions).into_iter().flatten().collect();
        let by_name = (table.name.len() == table.len()).then(|| Matcher::name_tables(table, &steps, &exclusions)).flatten();
        Matcher { by_name, steps, has_exclusions: !exclusions.is_empty(), exclusions }
    }

    fn name_tables(table: &EventTable, steps: &[Vec<CompiledRule>], exclusions: &[CompiledRule]) -> Option<(Vec<u64>, Vec<bool>)> {
        let mut masks = vec![0u64; table.strings.len()];
        for (k, rules) in steps.iter().enumerate() {
            for rule in rules {
                for (id, passes) in rule.name_passes()?.into_iter().enumerate() {
                    if passes {
                        masks[id] |= 1 << k;
                    }
                }
            }
        }
        let mut excluded = vec![false; table.strings.len()];
        for rule in exclusions {
            for (id, passes) in rule.name_passes()?.into_iter().enumerate() {
                excluded[id] |= passes;
            }
        }
        Some((masks, excluded))
    }

    fn mark(&self, table: &EventTable, row: usize) -> Mark {
        if let Some((masks, excluded)) = &self.by_name {
            let name = table.name[row] as usize;
            return Mark {
                time: table.time[row],
                steps: masks.get(name).copied().unwrap_or(0),
                excluded: excluded.get(name).copied().unwrap_or(false),
            };
        }
        let mut properties = crate::rules::RowProperties::default();
        Mark {
            time: table.time[row],
            steps: self.steps.iter().enumerate().fold(0u64, |mask, (k, rules)| {
                if rules.iter().any(|r| r.matches_row(table, row, &mut properties)) { mask | 1 << k } else { mask }
            }),
            excluded: self.exclusions.iter().any(|r| r.matches_row(table, row, &mut properties)),
        }
    }

    /// The first of the rows that matches one of the `starts` steps; the first row without the
    /// name tables (the rows are then marked and checked in full).
    fn first_start(&self, table: &EventTable, rows: Range<usize>, starts: u64) -> Option<usize> {
        let Some((masks, _)) = &self.by_name else {
            return (!rows.is_empty()).then_some(rows.start);
        };
        let offset = table.name[rows.clone()].iter().position(|&name| masks.get(name as usize).is_some_and(|m| m & starts != 0))?;
        Some(rows.start + offset)
    }
}

fn check(query: &FunnelQuery) -> Result<(), FunnelError> {
    if query.steps.is_empty() {
        return Err(FunnelError::NoSteps);
    }
    if query.steps.len() > MAX_STEPS {
        return Err(FunnelError::TooManySteps(query.steps.len()));
    }
    if let Some(step) = query.steps.iter().chain(&query.exclusions).find(|s| s.any_of.is_empty()) {
        return Err(FunnelError::EmptyStep(step.label.clone()));
    }
    if query.window_ms <= 0 {
        return Err(FunnelError::Window(query.window_ms));
    }
    if query.period.is_some_and(|(from, to)| from >= to) {
        return Err(FunnelError::Period);
    }
    Ok(())
}

fn breakdown_value(table: &EventTable, journey: &Journey<'_>, breakdown: &Breakdown, anchor: usize) -> String {
    let (row, field) = match breakdown {
        Breakdown::FirstTouch(field) => (journey.rows.start, field),
        Breakdown::StepOne(field) => (journey.rows.start + anchor, field),
        Breakdown::Customer(labels) => {
            return labels.get(&journey.customer).cloned().unwrap_or_else(|| NO_VALUE.to_string());
        }
    };
    table
        .field(row, field)
        .filter(|v| !v.is_empty())
        .map_or_else(|| NO_VALUE.to_string(), |v| v.into_owned())
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(items: &[(i64, u64)]) -> Vec<Mark> {
        items.iter().map(|&(time, steps)| Mark { time, steps, excluded: false }).collect()
    }

    #[test]
    fn the_earliest_anchor_wins_among_equally_long_chains() {
        // Steps a=1, b=2. Two a's then one b: both chains reach 2; the first a is kept.
        let m = marks(&[(0, 1), (5, 1), (6, 2)]);
        let chain = best_chain(&m, 2, 10, FunnelMode::Ordered, None).expect("a chain");
        assert_eq!((chain.reached, chain.anchor, chain.end), (2, 0, 2));
        // With a window of 5 only the second a reaches b.
        let chain = best_chain(&m, 2, 5, FunnelMode::Ordered, None).expect("a chain");
        assert_eq!((chain.reached, chain.anchor), (2, 1));
    }

    #[test]
    fn unordered_keeps_the_anchor_in_its_chain() {
        // Anchor matches a and b; the later event matches a only.
        let m = marks(&[(0, 3), (1, 1)]);
        let chain = best_chain(&m, 2, 10, FunnelMode::Unordered, None).expect("a chain");
        assert_eq!(chain.events, vec![0, 1]);
    }

    #[test]
    fn the_branch_free_pass_finds_the_generic_furthest_step() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(23);
        let mut compared = [0usize; 3];
        for round in 0..4000 {
            let steps = rng.random_range(1..=10);
            // Name ids 1..=6 match random sets of steps; name 0 and 7 (past the table) match none.
            let masks: Vec<u64> = (0..7).map(|id| if id == 0 { 0 } else { rng.random_range(0..1u64 << steps) }).collect();
            let events = rng.random_range(0..12);
            let names: Vec<u32> = (0..events).map(|_| rng.random_range(0..8)).collect();
            // Times far outside the pass's range take the generic pass; it must agree there too.
            let base = if round % 10 == 0 { i64::MAX - 100 } else if round % 10 == 1 { i64::MIN } else { 0 };
            let mut times: Vec<i64> = (0..events).map(|_| base.saturating_add(rng.random_range(0..50))).collect();
            times.sort_unstable();
            let window_ms = if round % 7 == 0 { i64::MAX } else { rng.random_range(1..30) };
            let period = rng.random_bool(0.3).then(|| (base.saturating_add(10), base.saturating_add(30)));
            let rows = NamedRows { times: &times, names: &names, masks: &masks, exclusions: &[] };
            let mut anchors = [i64::MIN; MAX_STEPS];
            let expected = furthest_ordered_step(&rows, steps, window_ms, period, &mut anchors);
            let got = rows.furthest_ordered_step(steps, window_ms, period, &mut anchors);
            assert_eq!(got, expected, "round {round}: {steps} steps, names {names:?}, times {times:?}, window {window_ms}, period {period:?}, masks {masks:?}");
            compared[expected.min(2)] += 1;
        }
        // Customers who never enter, who enter only, and who go further are all compared.
        assert!(compared.iter().all(|&n| n > 300), "{compared:?}");
    }

    #[test]
    fn any_number_of_threads_gives_the_same_outcomes() {
        use rand::{Rng, SeedableRng};
        use trailmap_model::{EventTable, Op};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let names = ["", "a", "b", "c", "d"];
        let mut table = EventTable { strings: names.iter().map(|&n| n.into()).collect(), ..EventTable::default() };
        for row in 0..6000 {
            table.customer.push(CustomerId(rng.random_range(1..400)));
            table.time.push(row * 1000 + rng.random_range(0..3000));
            table.name.push(rng.random_range(1..5));
            table.page.push(rng.random_range(0..3));
        }
        let journeys = Journeys::new(table);
        let by_name = FunnelQuery {
            steps: ["a", "b", "c"].iter().map(|n| FunnelStep::named(n)).collect(),
            // About five of a customer's events fall in a window.
            window_ms: 2_000_000,
            mode: FunnelMode::Ordered,
            exclusions: vec![FunnelStep::named("d")],
            breakdown: Some(Breakdown::StepOne(EventField::Page)),
            period: None,
        };
        // A condition on another field than the name takes the per-row matcher.
        let mut per_row = by_name.clone();
        per_row.steps[1].any_of = vec![EventRule::named("b").and_not(EventField::Page, Op::Equals("zzz".into()))];
        for query in [&by_name, &per_row] {
            for mode in [FunnelMode::Ordered, FunnelMode::Strict, FunnelMode::Unordered] {
                let query = FunnelQuery { mode, ..query.clone() };
                let matcher = Matcher::new(journeys.table(), &query);
                let one = report(&journeys, &query, &matcher, 1);
                assert!(one.outcomes().len() > 100, "{mode:?}: {} entered", one.outcomes().len());
                assert!(one.breakdown.len() > 1, "{mode:?}: {} groups", one.breakdown.len());
                for threads in [2, 3, 7] {
                    assert_eq!(report(&journeys, &query, &matcher, threads), one, "{mode:?} on {threads} threads");
                }
            }
        }
        // The name tables and the per-row matcher agree in every mode, with a period too.
        assert!(Matcher::new(journeys.table(), &by_name).by_name.is_some());
        assert!(Matcher::new(journeys.table(), &per_row).by_name.is_none());
        for mode in [FunnelMode::Ordered, FunnelMode::Strict, FunnelMode::Unordered] {
            for period in [None, Some((1_000_000, 4_000_000))] {
                let query = FunnelQuery { mode, period, ..by_name.clone() };
                let name_only = Matcher::new(journeys.table(), &query);
                let general = Matcher { by_name: None, ..Matcher::new(journeys.table(), &query) };
                let expected = report(&journeys, &query, &general, 1);
                // A strict chain is consecutive events, so no exclusion can fall inside it.
                assert!(expected.outcomes().iter().any(|o| o.reached == 3), "{mode:?}");
                assert_eq!(expected.outcomes().iter().any(|o| o.excluded), mode != FunnelMode::Strict, "{mode:?}");
                assert_eq!(report(&journeys, &query, &name_only, 2), expected, "{mode:?} {period:?}");
            }
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(TimeSummary::of(vec![4, 1, 3, 2]), Some(TimeSummary { n: 4, median_ms: 2, p90_ms: 4 }));
        assert_eq!(TimeSummary::of(vec![7]), Some(TimeSummary { n: 1, median_ms: 7, p90_ms: 7 }));
        assert_eq!(TimeSummary::of(vec![]), None);
        // Selection gives the ranks a sort would, on shuffled values with repeats.
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for n in 1..200 {
            let values: Vec<i64> = (0..n).map(|_| rng.random_range(0..20)).collect();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let expected = TimeSummary { n, median_ms: nearest_rank(&sorted, 0.5), p90_ms: nearest_rank(&sorted, 0.9) };
            assert_eq!(TimeSummary::of(values), Some(expected), "n = {n}");
        }
    }
}
