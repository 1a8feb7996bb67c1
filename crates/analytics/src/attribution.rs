//! Multi-touch attribution: which channels deserve the credit for a business's conversions and
//! revenue, under eight models, with spend, cost per acquisition and return on ad spend.
//!
//! # Sessions, touches, conversions and paths
//!
//! A **touch** is a session's source, as GA4 attributes sessions. Each customer's events are read
//! in time order (ties keep their recorded order) and cut into **sessions**: a new session starts
//! after [`SESSION_GAP_MS`] (30 minutes) without an event. A session's source is that of its first
//! event carrying one (a campaign, a referrer, a referral code, or the "Direct" an import gives a
//! web page view with none of them; a till visit from a friend's referral), read in the column
//! chosen by [`TouchKey`] (the GA4 channel by default; or source or campaign); the later events of
//! the session (the page views after the landing page, the add to cart, the checkout) carry no
//! source of their own and make no touch: they inherit the session's. A session whose source
//! event has no value in the chosen column (no campaign, when attributing by campaign) makes no
//! touch. So a session is Direct only when it starts with no campaign, referrer or referral code.
//! By touchpoint, an event is a touch of the first touchpoint whose rule it matches, and a
//! touchpoint is one touch per session however many of its events the session holds. Events that
//! are conversions are never touches (a purchase is the outcome, not a marketing contact), nor do
//! they give a session its source; they do belong to the session.
//!
//! GA4 also gives a Direct session the source of the customer's last non-direct session within the
//! lookback. Trailmap does not: a customer who comes back by typing the address made a Direct
//! visit, and crediting the earlier campaign again for it would count that campaign twice in the
//! multi-touch models and make last touch the same as last non-direct. The "last non-direct"
//! model is GA4's view of the same paths.
//!
//! A **conversion** is an event matching the conversion rule (by default the `purchase` event);
//! its `revenue_minor` is its value. A conversion is credited from the touches **since that
//! customer's previous conversion** (any earlier touches already earned their credit) that fall
//! within the lookback window before it (`conversion time - lookback <= touch time <= conversion
//! time`), and always from the source of the session it happens in, as GA4 credits every
//! conversion of a session to its source: a second purchase in the same visit is that visit's too.
//! Events at the same millisecond keep their recorded order, so a touch recorded before a
//! conversion at the same time counts for it and one recorded after waits for the next. Only
//! conversions inside the analysed period count, but conversions before it still close their own
//! windows. With `new_customers_only`, only each customer's first conversion ever is a
//! conversion; later ones are ignored. A conversion with no touch in its window has **no recorded
//! touch**: it is counted apart ([`Attribution::without_touch`], with its customers), never as a
//! channel, and the models share out only the conversions with a touch. The touches a customer
//! made after their last conversion (inside the period) form a non-converting path; the Markov
//! model learns from them, the other models do not need them.
//!
//! # Models
//!
//! - first touch, last touch: all credit to the first (last) touch of the window;
//! - last non-direct: the last touch whose GA4 channel is not "Direct"; when all are Direct, the
//!   last touch;
//! - linear: equal credit to every touch (a channel touched twice gets two shares);
//! - time decay: credit proportional to `2^(-age / half-life)`, age measured to the conversion;
//! - position based: 40 % first, 40 % last, 20 % shared by the middle; one touch gets 100 %, two
//!   touches 50/50;
//! - Markov chain (order 1 to 3): a chain with a start state, a conversion and a null state, built
//!   from every path, converting or not; a state is the last `order` channels. The removal effect
//!   of a channel is `1 - P(conversion | channel removed) / P(conversion)`, where removing a channel
//!   sends every state containing it to null. The probabilities are computed **exactly** by solving
//!   the absorbing chain's linear system (not by simulation, which is off by several per cent on
//!   small channels). Credits are proportional to the removal effects, scaled to the number of
//!   conversions with a touch;
//! - Shapley values: the players are the channels seen in converting paths; the value of a
//!   coalition is the number of conversions whose set of touched channels is a subset of it (the
//!   "simplified" Shapley value used for attribution, Zhao et al. 2018, "Shapley Value Methods for
//!   Attribution Modeling in Online Advertising"). Exact over all coalitions with at most
//!   [`SHAPLEY_EXACT_LIMIT`] channels; above that, estimated from [`SHAPLEY_SAMPLES`] random
//!   permutations with a fixed seed (said in the model's notes).
//!
//! # Revenue
//!
//! For the heuristic models each conversion's value is split with the same weights as its count.
//! For Markov and Shapley, which credit channels rather than single conversions, the total revenue
//! of the conversions with a touch is split in proportion to each channel's conversion credit.
//!
//! # Spend
//!
//! Spend rows are matched to channels by name (ignoring ASCII case). A row partly overlapping the
//! analysed period counts in proportion to the days that overlap (both ends inclusive); without a
//! period, every row counts whole. CPA is spend / credited conversions and ROAS credited revenue /
//! spend; each is absent when its divisor is zero.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use crate::{CompiledRule, Journeys};
use serde::{Deserialize, Serialize};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use trailmap_model::{CustomerId, EventRule, EventTable};

/// Inactivity that ends a session: GA4's (and PostHog's) 30 minutes.
pub const SESSION_GAP_MS: i64 = 30 * 60 * 1000;
/// Up to this many channels the Shapley values are exact over all coalitions.
pub const SHAPLEY_EXACT_LIMIT: usize = 15;
/// Random permutations used for Shapley values above [`SHAPLEY_EXACT_LIMIT`] channels.
pub const SHAPLEY_SAMPLES: usize = 2_000;
/// The seed of those permutations, so the same data gives the same answer.
pub const SHAPLEY_SEED: u64 = 0x5EED_A77B;
const MS_PER_DAY: i64 = 86_400_000;

/// An attribution model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Model {
    First,
    Last,
    LastNonDirect,
    Linear,
    TimeDecay,
    Position,
    Markov,
    Shapley,
}

impl Model {
    pub const ALL: [Model; 8] = [
        Model::First,
        Model::Last,
        Model::LastNonDirect,
        Model::Linear,
        Model::TimeDecay,
        Model::Position,
        Model::Markov,
        Model::Shapley,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Model::First => "first",
            Model::Last => "last",
            Model::LastNonDirect => "last-non-direct",
            Model::Linear => "linear",
            Model::TimeDecay => "time-decay",
            Model::Position => "position",
            Model::Markov => "markov",
            Model::Shapley => "shapley",
        }
    }

    pub fn parse(text: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// Whether the model splits each conversion by weights of its own touches.
    pub fn is_heuristic(self) -> bool {
        !matches!(self, Model::Markov | Model::Shapley)
    }
}

/// What a touch is attributed to.
#[derive(Debug, Clone, PartialEq)]
pub enum TouchKey {
    /// The GA4 channel column.
    Channel,
    Source,
    Campaign,
    /// Named touchpoint rules, tried in order; an event is a touch of the first that matches.
    Touchpoint(Vec<(String, EventRule)>),
}

/// A half-open time range in milliseconds since the epoch: `start <= t < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Period {
    pub fn contains(&self, time: i64) -> bool {
        self.start_ms <= time && time < self.end_ms
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttributionOptions {
    pub conversion: EventRule,
    pub lookback_ms: i64,
    pub half_life_ms: i64,
    /// 1 to 3.
    pub markov_order: usize,
    pub by: TouchKey,
    /// Conversions counted; `None` is all time.
    pub period: Option<Period>,
    pub models: Vec<Model>,
    /// Count only each customer's first conversion (CPA becomes cost per new customer).
    pub new_customers_only: bool,
}

impl Default for AttributionOptions {
    fn default() -> Self {
        AttributionOptions {
            conversion: EventRule::named("purchase"),
            lookback_ms: 30 * MS_PER_DAY,
            half_life_ms: 7 * MS_PER_DAY,
            markov_order: 1,
            by: TouchKey::Channel,
            period: None,
            models: Model::ALL.to_vec(),
            new_customers_only: false,
        }
    }
}

/// Money spent on one channel over whole days, both ends inclusive (days since 1970-01-01).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendRow {
    pub channel: String,
    pub start_day: i64,
    pub end_day: i64,
    pub amount_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributionError {
    #[error("{option}: {reason}")]
    InvalidOption { option: &'static str, reason: String },
}

/// What the data says about one channel, independent of the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelFacts {
    pub channel: String,
    /// Customers whose analysed paths (converting or not) touch the channel.
    pub customers: u64,
    /// Converting customers with the channel in a credited window, for listing them.
    pub converting_customers: Vec<CustomerId>,
    /// Spend in the period, prorated, in minor units.
    pub spend_minor: f64,
}

/// The conversions with no recorded touch in their window: counted apart from the channels.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WithoutTouch {
    pub conversions: u64,
    pub revenue_minor: i64,
    /// The customers who made them.
    pub customers: Vec<CustomerId>,
}

/// One channel's credit under one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credit {
    pub channel: String,
    pub conversions: f64,
    /// Of the conversions with a touch (those without one are counted apart).
    pub share: f64,
    pub revenue_minor: f64,
    pub spend_minor: f64,
    /// Spend per credited conversion; absent with no credited conversion.
    pub cpa_minor: Option<f64>,
    /// Credited revenue per unit of spend; absent with no spend.
    pub roas: Option<f64>,
    /// Customers whose paths touch the channel.
    pub customers: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelCredit {
    pub model: Model,
    /// One entry per channel, in the order of [`Attribution::channels`].
    pub credits: Vec<Credit>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attribution {
    pub conversions: u64,
    pub conversions_without_touch: u64,
    /// The conversions with no recorded touch, their revenue and their customers.
    pub without_touch: WithoutTouch,
    pub revenue_minor: i64,
    pub converting_customers: u64,
    /// Customers with at least one analysed path (converting or not).
    pub customers: u64,
    pub converting_paths: u64,
    pub non_converting_paths: u64,
    /// The channels, most touched customers first.
    pub channels: Vec<ChannelFacts>,
    pub models: Vec<ModelCredit>,
    pub notes: Vec<String>,
}

impl Attribution {
    pub fn model(&self, model: Model) -> Option<&ModelCredit> {
        self.models.iter().find(|m| m.model == model)
    }

    /// The credit of `channel` under `model`.
    pub fn credit(&self, model: Model, channel: &str) -> Option<&Credit> {
        self.model(model)?.credits.iter().find(|c| c.channel == channel)
    }
}

/// One touch of a path: the channel index and when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Touch {
    /// The channel's index into the names [`build_paths`] returns; 4 bytes, so a touch is 16
    /// bytes, as a big business has tens of millions of them.
    pub channel: u32,
    pub time: i64,
    /// Whether the event's GA4 channel is "Direct", for the last-non-direct model.
    pub direct: bool,
}

/// A customer's touches ending in a conversion (with its time and value) or not.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub customer: CustomerId,
    pub touches: Vec<Touch>,
    /// Time and value (minor units) of the conversion; `None` for a non-converting path.
    pub conversion: Option<(i64, i64)>,
}

fn invalid(option: &'static str, reason: impl Into<String>) -> AttributionError {
    AttributionError::InvalidOption { option, reason: reason.into() }
}

fn check(options: &AttributionOptions) -> Result<(), AttributionError> {
    if options.conversion.conditions.is_empty() {
        return Err(invalid("conversion", "the conversion rule is empty, so nothing would convert"));
    }
    if options.lookback_ms <= 0 {
        return Err(invalid("lookback", "must be longer than zero"));
    }
    if options.half_life_ms <= 0 {
        return Err(invalid("half-life", "must be longer than zero"));
    }
    if !(1..=3).contains(&options.markov_order) {
        return Err(invalid("markov-order", format!("must be 1, 2 or 3, not {}", options.markov_order)));
    }
    if let Some(period) = options.period
        && period.end_ms <= period.start_ms
    {
        return Err(invalid("period", "the end must come after the start"));
    }
    if options.models.is_empty() {
        return Err(invalid("model", "no model asked for"));
    }
    Ok(())
}

/// How each row's touch key is read: a column, or touchpoint rules.
enum KeyReader {
    Column(fn(&EventTable, usize) -> u32),
    Rules(Vec<CompiledRule>),
}

/// Builds every customer's paths (see the module documentation for the rules) and the channel
/// names they index.
pub fn build_paths(journeys: &Journeys, options: &AttributionOptions) -> Result<(Vec<String>, Vec<Path>), AttributionError> {
    check(options)?;
    let table = journeys.table();
    let conversion = CompiledRule::new(&options.conversion, table);
    // A conversion rule on the event name alone is one lookup per row instead of a rule test.
    let conversion_by_name = if table.name.len() == table.len() { conversion.name_passes() } else { None };
    let is_conversion = |row: usize| match &conversion_by_name {
        Some(passes) => passes.get(table.name[row] as usize).copied().unwrap_or(false),
        None => conversion.matches(table, row),
    };
    let (reader, mut names): (KeyReader, Vec<String>) = match &options.by {
        TouchKey::Channel => (KeyReader::Column(|t, r| t.channel[r]), Vec::new()),
        TouchKey::Source => (KeyReader::Column(|t, r| t.source[r]), Vec::new()),
        TouchKey::Campaign => (KeyReader::Column(|t, r| t.campaign[r]), Vec::new()),
        TouchKey::Touchpoint(rules) => (
            KeyReader::Rules(rules.iter().map(|(_, rule)| CompiledRule::new(rule, table)).collect()),
            rules.iter().map(|(name, _)| name.clone()).collect(),
        ),
    };
    // Channel index + 1 per string id for the column keys, given in order of first appearance;
    // 0 while unseen, and blank strings (no channel) are never given one.
    let blank: Vec<bool> = table.strings.iter().enumerate().map(|(id, s)| id == 0 || s.trim().is_empty()).collect();
    let mut channel_of_string: Vec<usize> = vec![0; table.strings.len()];
    let direct = table.find_string("Direct");
    let has_source = |row: usize| !blank[table.channel[row] as usize] || !blank[table.source[row] as usize] || !blank[table.campaign[row] as usize];
    let mut paths = Vec::new();
    let mut pending: Vec<Touch> = Vec::new();
    // The touches of the current session: a conversion is always credited from its session's.
    let mut session: Vec<Touch> = Vec::new();
    // The touchpoints touched in the current session, by touchpoint rules.
    let mut session_touchpoints: Vec<usize> = Vec::new();
    for journey in journeys.iter() {
        pending.clear();
        let mut converted = false;
        let mut previous: Option<i64> = None;
        let mut sourced = false;
        for row in journey.rows.clone() {
            let time = table.time[row];
            if previous.is_none_or(|p| time - p > SESSION_GAP_MS) {
                session.clear();
                session_touchpoints.clear();
                sourced = false;
            }
            previous = Some(time);
            if is_conversion(row) {
                if options.new_customers_only && converted {
                    continue;
                }
                converted = true;
                if options.period.is_none_or(|p| p.contains(time)) {
                    let mut touches: Vec<Touch> = pending.iter().filter(|t| t.time >= time - options.lookback_ms).copied().collect();
                    for t in &session {
                        if !touches.contains(t) {
                            touches.push(*t);
                        }
                    }
                    touches.sort_by_key(|t| t.time);
                    paths.push(Path { customer: journey.customer, touches, conversion: Some((time, table.revenue_minor[row])) });
                }
                pending.clear();
                continue;
            }
            let channel = match &reader {
                KeyReader::Column(get) => {
                    // The session's first event with a source decides it; the rest inherit it.
                    if sourced || !has_source(row) {
                        continue;
                    }
                    sourced = true;
                    let id = get(table, row) as usize;
                    if blank.get(id).is_none_or(|&b| b) {
                        continue;
                    }
                    if channel_of_string[id] == 0 {
                        names.push(table.strings[id].to_string());
                        channel_of_string[id] = names.len();
                    }
                    channel_of_string[id] - 1
                }
                KeyReader::Rules(rules) => match rules.iter().position(|r| r.matches(table, row)) {
                    Some(index) if !session_touchpoints.contains(&index) => {
                        session_touchpoints.push(index);
                        index
                    }
                    _ => continue,
                },
            };
            let is_direct = direct.is_some_and(|d| table.channel[row] == d);
            // Channels are string ids or touchpoint rules, both far fewer than 2^32.
            let touch = Touch { channel: channel as u32, time, direct: is_direct };
            pending.push(touch);
            session.push(touch);
        }
        pending.retain(|t| options.period.is_none_or(|p| p.contains(t.time)));
        if !pending.is_empty() {
            paths.push(Path { customer: journey.customer, touches: pending.clone(), conversion: None });
        }
    }
    Ok((names, paths))
}

/// The share of one conversion each of its touches gets under a heuristic model; empty for a
/// path with no touch or a model that is not heuristic.
pub fn heuristic_weights(model: Model, touches: &[Touch], conversion_time: i64, half_life_ms: i64) -> Vec<f64> {
    let n = touches.len();
    let mut weights = vec![0.0; n];
    if n == 0 {
        return weights;
    }
    match model {
        Model::First => weights[0] = 1.0,
        Model::Last => weights[n - 1] = 1.0,
        Model::LastNonDirect => {
            let index = touches.iter().rposition(|t| !t.direct).unwrap_or(n - 1);
            weights[index] = 1.0;
        }
        Model::Linear => weights.iter_mut().for_each(|w| *w = 1.0 / n as f64),
        Model::TimeDecay => {
            for (w, t) in weights.iter_mut().zip(touches) {
                let age = (conversion_time - t.time).max(0) as f64;
                *w = (-age / half_life_ms as f64).exp2();
            }
            let total: f64 = weights.iter().sum();
            weights.iter_mut().for_each(|w| *w /= total);
        }
        Model::Position => match n {
            1 => weights[0] = 1.0,
            2 => weights.iter_mut().for_each(|w| *w = 0.5),
            _ => {
                weights[0] = 0.4;
                weights[n - 1] = 0.4;
                for w in &mut weights[1..n - 1] {
                    *w = 0.2 / (n - 2) as f64;
                }
            }
        },
        Model::Markov | Model::Shapley => weights.clear(),
    }
    weights
}

/// The conversion probability of a Markov chain over channel paths and its removal effects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarkovChain {
    /// Probability of reaching the conversion state from the start.
    pub conversion_probability: f64,
    /// `1 - P(conversion | channel removed) / P(conversion)`, per channel index.
    pub removal_effects: Vec<f64>,
    /// Transient states, start included.
    pub states: usize,
}

/// The transition counts of an order-`order` chain: states are the last `order` channels (fewer
/// at the start of a path); state 0 is the start.
struct Transitions {
    states: Vec<Vec<usize>>,
    /// Per state: counts to other states, to conversion, to null.
    to_state: Vec<FxHashMap<usize, f64>>,
    to_conversion: Vec<f64>,
    to_null: Vec<f64>,
}

impl Transitions {
    /// Counts the transitions of `paths`. The path's channels are kept in one reused buffer and a
    /// state is looked up by the slice of its last `order` channels, so a touch costs two hash
    /// lookups and no allocation; only a new state allocates its key.
    fn build<P, C>(paths: P, order: usize) -> Transitions
    where
        P: IntoIterator<Item = (C, bool)>,
        C: IntoIterator<Item = usize>,
    {
        let mut index: FxHashMap<Vec<usize>, usize> = FxHashMap::default();
        index.insert(Vec::new(), 0);
        let mut t = Transitions { states: vec![Vec::new()], to_state: vec![FxHashMap::default()], to_conversion: vec![0.0], to_null: vec![0.0] };
        let mut seen: Vec<usize> = Vec::new();
        for (channels, converted) in paths {
            seen.clear();
            let mut current = 0;
            for channel in channels {
                seen.push(channel);
                let window = &seen[seen.len().saturating_sub(order)..];
                let next = match index.get(window) {
                    Some(&state) => state,
                    None => {
                        let state = t.states.len();
                        index.insert(window.to_vec(), state);
                        t.states.push(window.to_vec());
                        t.to_state.push(FxHashMap::default());
                        t.to_conversion.push(0.0);
                        t.to_null.push(0.0);
                        state
                    }
                };
                *t.to_state[current].entry(next).or_insert(0.0) += 1.0;
                current = next;
            }
            // An empty path never left the start: it is not part of the chain.
            if seen.is_empty() {
                continue;
            }
            if converted {
                t.to_conversion[current] += 1.0;
            } else {
                t.to_null[current] += 1.0;
            }
        }
        t
    }

    /// Probability of conversion from the start when the states for which `removed` holds lead
    /// straight to null. Solves `x = r + Q x` over the kept states exactly, by Gaussian
    /// elimination with partial pivoting.
    fn conversion_probability(&self, removed: impl Fn(&[usize]) -> bool) -> f64 {
        let kept: Vec<usize> = (0..self.states.len()).filter(|&s| s == 0 || !removed(&self.states[s])).collect();
        let mut position = vec![usize::MAX; self.states.len()];
        for (i, &s) in kept.iter().enumerate() {
            position[s] = i;
        }
        let n = kept.len();
        // Augmented matrix [I - Q | r].
        let mut a = vec![vec![0.0; n + 1]; n];
        for (i, &s) in kept.iter().enumerate() {
            let total = self.to_state[s].values().sum::<f64>() + self.to_conversion[s] + self.to_null[s];
            a[i][i] = 1.0;
            if total == 0.0 {
                continue;
            }
            for (&target, &count) in &self.to_state[s] {
                if position[target] != usize::MAX {
                    a[i][position[target]] -= count / total;
                }
            }
            a[i][n] = self.to_conversion[s] / total;
        }
        solve(&mut a).first().copied().unwrap_or(0.0)
    }
}

/// Solves the augmented system in place and returns the solution. Every state of an absorbing
/// chain built from finite paths reaches an absorbing state, so `I - Q` is invertible.
fn solve(a: &mut [Vec<f64>]) -> Vec<f64> {
    let n = a.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        let p = a[col][col];
        if p.abs() < 1e-300 {
            continue;
        }
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r == col || row[col] == 0.0 {
                continue;
            }
            let factor = row[col] / p;
            for (cell, &pv) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *cell -= factor * pv;
            }
        }
    }
    (0..n).map(|i| if a[i][i] == 0.0 { 0.0 } else { a[i][n] / a[i][i] }).collect()
}

/// Builds the order-`order` chain from `paths` (channel indices, converted or not; empty paths
/// are skipped) and computes each of `channels` removal effects exactly.
pub fn markov_chain(paths: &[(Vec<usize>, bool)], channels: usize, order: usize) -> MarkovChain {
    markov_chain_from(paths.iter().map(|(path, converted)| (path.iter().copied(), *converted)), channels, order)
}

/// [`markov_chain`] over paths given as iterators, so callers holding [`Path`]s need not copy
/// their channels into vectors first.
pub fn markov_chain_from<P, C>(paths: P, channels: usize, order: usize) -> MarkovChain
where
    P: IntoIterator<Item = (C, bool)>,
    C: IntoIterator<Item = usize>,
{
    let transitions = Transitions::build(paths, order.max(1));
    let full = transitions.conversion_probability(|_| false);
    let removal_effects = (0..channels)
        .map(|c| {
            if full <= 0.0 {
                return 0.0;
            }
            let without = transitions.conversion_probability(|state| state.contains(&c));
            (1.0 - without / full).max(0.0)
        })
        .collect();
    MarkovChain { conversion_probability: full, removal_effects, states: transitions.states.len() }
}

/// Shapley values of the channels for conversions with the given touched-channel sets (bit masks
/// over `channels` players), with `v(S)` = conversions whose set is a subset of `S`. Returns the
/// values and whether they were sampled (more than [`SHAPLEY_EXACT_LIMIT`] players).
pub fn shapley_values(sets: &[u64], weights: &[f64], channels: usize) -> (Vec<f64>, bool) {
    let mut values = vec![0.0; channels];
    if channels == 0 {
        return (values, false);
    }
    if channels <= SHAPLEY_EXACT_LIMIT {
        // v over every coalition by a sum over subsets.
        let size = 1usize << channels;
        let mut v = vec![0.0; size];
        for (&set, &w) in sets.iter().zip(weights) {
            v[set as usize] += w;
        }
        for bit in 0..channels {
            for mask in 0..size {
                if mask & (1 << bit) != 0 {
                    v[mask] += v[mask ^ (1 << bit)];
                }
            }
        }
        // Weight of a coalition of size s not containing the player: s! (n-s-1)! / n!.
        let n = channels;
        let mut coalition_weight = vec![0.0; n];
        for (s, w) in coalition_weight.iter_mut().enumerate() {
            *w = (1..=n).map(|k| k as f64).fold(1.0, |acc, k| acc / k)
                * (1..=s).map(|k| k as f64).product::<f64>()
                * (1..n - s).map(|k| k as f64).product::<f64>();
        }
        for mask in 0..size {
            let s = (mask as u64).count_ones() as usize;
            if s == n {
                continue;
            }
            for (player, value) in values.iter_mut().enumerate() {
                if mask & (1 << player) == 0 {
                    *value += coalition_weight[s] * (v[mask | (1 << player)] - v[mask]);
                }
            }
        }
        return (values, false);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(SHAPLEY_SEED);
    let mut order: Vec<usize> = (0..channels).collect();
    let value_of = |coalition: u64| -> f64 {
        sets.iter().zip(weights).filter(|(s, _)| **s & !coalition == 0).map(|(_, w)| w).sum()
    };
    for _ in 0..SHAPLEY_SAMPLES {
        order.shuffle(&mut rng);
        let mut coalition = 0u64;
        let mut before = value_of(0);
        for &player in &order {
            coalition |= 1 << player;
            let after = value_of(coalition);
            values[player] += after - before;
            before = after;
        }
    }
    values.iter_mut().for_each(|v| *v /= SHAPLEY_SAMPLES as f64);
    (values, true)
}

/// Prorated spend per channel name (lower-cased) within `period` (whole rows without one).
fn spend_by_channel(spend: &[SpendRow], period: Option<Period>) -> HashMap<String, f64> {
    let mut totals: HashMap<String, f64> = HashMap::new();
    for row in spend {
        let days = (row.end_day - row.start_day + 1).max(1);
        let overlap = match period {
            None => days,
            Some(p) => {
                let first = row.start_day.max(p.start_ms.div_euclid(MS_PER_DAY));
                let last = row.end_day.min((p.end_ms - 1).div_euclid(MS_PER_DAY));
                (last - first + 1).clamp(0, days)
            }
        };
        *totals.entry(row.channel.to_lowercase()).or_insert(0.0) += row.amount_minor as f64 * overlap as f64 / days as f64;
    }
    totals
}

/// Attributes the conversions of `journeys` under the asked models. See the module documentation
/// for every rule.
pub fn attribute(journeys: &Journeys, options: &AttributionOptions, spend: &[SpendRow]) -> Result<Attribution, AttributionError> {
    let (names, paths) = build_paths(journeys, options)?;
    Ok(attribute_paths(&names, &paths, options, spend))
}

/// [`attribute`] on paths already built.
pub fn attribute_paths(names: &[String], paths: &[Path], options: &AttributionOptions, spend: &[SpendRow]) -> Attribution {
    let channels = names.len();
    let mut touched: Vec<Vec<CustomerId>> = vec![Vec::new(); channels];
    let mut converting: Vec<Vec<CustomerId>> = vec![Vec::new(); channels];
    let mut without = WithoutTouch::default();
    let mut all_customers = Vec::new();
    let mut converting_customers = Vec::new();
    let (mut conversions, mut without_touch, mut revenue, mut touched_revenue) = (0u64, 0u64, 0i64, 0i64);
    for path in paths {
        all_customers.push(path.customer);
        for t in &path.touches {
            touched[t.channel as usize].push(path.customer);
        }
        if let Some((_, value)) = path.conversion {
            conversions += 1;
            revenue += value;
            converting_customers.push(path.customer);
            if path.touches.is_empty() {
                without_touch += 1;
                without.revenue_minor += value;
                without.customers.push(path.customer);
            } else {
                touched_revenue += value;
                for t in &path.touches {
                    converting[t.channel as usize].push(path.customer);
                }
            }
        }
    }
    let distinct = |list: &mut Vec<CustomerId>| {
        list.sort_unstable();
        list.dedup();
        list.len() as u64
    };
    let customer_counts: Vec<u64> = touched.iter_mut().map(distinct).collect();
    converting.iter_mut().for_each(|l| {
        distinct(l);
    });
    without.conversions = without_touch;
    distinct(&mut without.customers);
    let touched_conversions = conversions - without_touch;
    let spend_totals = spend_by_channel(spend, options.period);
    let labels: Vec<String> = names.to_vec();
    let spend_of: Vec<f64> = labels.iter().map(|l| spend_totals.get(&l.to_lowercase()).copied().unwrap_or(0.0)).collect();

    let mut models = Vec::new();
    for &model in &options.models {
        let mut conv = vec![0.0; channels];
        let mut value = vec![0.0; channels];
        let mut notes = Vec::new();
        let converted_touches = || paths.iter().filter(|p| !p.touches.is_empty()).filter_map(|p| p.conversion.map(|c| (p, c)));
        match model {
            Model::Markov => {
                let touched = paths.iter().filter(|p| !p.touches.is_empty());
                let chain = markov_chain_from(
                    touched.clone().map(|p| (p.touches.iter().map(|t| t.channel as usize), p.conversion.is_some())),
                    channels,
                    options.markov_order,
                );
                let (converting, not) = touched.fold((0, 0), |(c, n), p| if p.conversion.is_some() { (c + 1, n) } else { (c, n + 1) });
                let total: f64 = chain.removal_effects.iter().sum();
                let to_share = touched_conversions as f64;
                if total > 0.0 {
                    for (c, effect) in chain.removal_effects.iter().enumerate() {
                        conv[c] = effect / total * to_share;
                        value[c] = effect / total * touched_revenue as f64;
                    }
                }
                notes.push(format!(
                    "Markov order {}: {} states from {} paths ({} converting, {} not); removal effects solved exactly from the absorbing chain (P(conversion) = {:.4}); credit in proportion to removal effects; revenue split like conversion credit.",
                    options.markov_order, chain.states, converting + not, converting, not, chain.conversion_probability
                ));
            }
            Model::Shapley => {
                let mut players: Vec<usize> = Vec::new();
                let mut sets: HashMap<u64, f64> = HashMap::new();
                let mut index_of = vec![usize::MAX; channels];
                for (path, _) in converted_touches() {
                    for t in &path.touches {
                        if index_of[t.channel as usize] == usize::MAX {
                            index_of[t.channel as usize] = players.len();
                            players.push(t.channel as usize);
                        }
                    }
                }
                if players.len() <= 64 {
                    for (path, _) in converted_touches() {
                        let set = path.touches.iter().fold(0u64, |m, t| m | 1 << index_of[t.channel as usize]);
                        *sets.entry(set).or_insert(0.0) += 1.0;
                    }
                    let (set_list, weights): (Vec<u64>, Vec<f64>) = sets.into_iter().unzip();
                    let (values, sampled) = shapley_values(&set_list, &weights, players.len());
                    let total: f64 = values.iter().sum();
                    for (player, &channel) in players.iter().enumerate() {
                        conv[channel] = values[player];
                        if total > 0.0 {
                            value[channel] = values[player] / total * touched_revenue as f64;
                        }
                    }
                    notes.push(if sampled {
                        format!("Shapley over {} channels: more than {SHAPLEY_EXACT_LIMIT}, so estimated from {SHAPLEY_SAMPLES} random permutations (fixed seed).", players.len())
                    } else {
                        format!("Shapley over {} channels: exact over all coalitions; value of a coalition = conversions whose touched channels all lie in it; revenue split like conversion credit.", players.len())
                    });
                } else {
                    notes.push(format!("Shapley not computed: {} channels (at most 64 supported).", players.len()));
                }
            }
            _ => {
                for (path, (time, worth)) in converted_touches() {
                    let weights = heuristic_weights(model, &path.touches, time, options.half_life_ms);
                    for (t, w) in path.touches.iter().zip(weights) {
                        conv[t.channel as usize] += w;
                        value[t.channel as usize] += w * worth as f64;
                    }
                }
            }
        }
        let credits = (0..channels)
            .map(|c| Credit {
                channel: labels[c].clone(),
                conversions: conv[c],
                share: if touched_conversions == 0 { 0.0 } else { conv[c] / touched_conversions as f64 },
                revenue_minor: value[c],
                spend_minor: spend_of[c],
                cpa_minor: (conv[c] > 0.0 && spend_of[c] > 0.0).then(|| spend_of[c] / conv[c]),
                roas: (spend_of[c] > 0.0).then(|| value[c] / spend_of[c]),
                customers: customer_counts[c],
            })
            .collect();
        models.push(ModelCredit { model, credits, notes });
    }

    let mut facts: Vec<ChannelFacts> = (0..channels)
        .map(|c| ChannelFacts {
            channel: labels[c].clone(),
            customers: customer_counts[c],
            converting_customers: converting[c].clone(),
            spend_minor: spend_of[c],
        })
        .collect();
    // Most touched first; every model's credits follow the same order.
    let mut order: Vec<usize> = (0..channels).collect();
    order.sort_by(|&a, &b| customer_counts[b].cmp(&customer_counts[a]).then_with(|| labels[a].cmp(&labels[b])));
    facts = order.iter().map(|&i| facts[i].clone()).collect();
    for model in &mut models {
        model.credits = order.iter().map(|&i| model.credits[i].clone()).collect();
    }
    let mut notes = vec![
        format!(
            "A touch is a session's source (a new session after {} without an event); a conversion is credited from its session's source and the touches since the customer's previous conversion within {} before it.",
            describe_ms(SESSION_GAP_MS),
            describe_ms(options.lookback_ms)
        ),
        format!(
            "{without_touch} of the {conversions} conversions (by {} customers) had no recorded touch in their window; they are counted apart, and every model shares out the {touched_conversions} with a touch.",
            without.customers.len()
        ),
        "Heuristic models split each conversion's value with the weights of its count; Markov and Shapley split the revenue of touched conversions in proportion to conversion credit.".to_string(),
    ];
    if options.period.is_some() {
        notes.push("Spend rows partly in the period are prorated by days.".to_string());
    }
    if options.new_customers_only {
        notes.push("Only first conversions count, so CPA is cost per new customer.".to_string());
    }
    Attribution {
        conversions,
        conversions_without_touch: without_touch,
        without_touch: without,
        revenue_minor: revenue,
        converting_customers: distinct(&mut converting_customers),
        customers: distinct(&mut all_customers),
        converting_paths: paths.iter().filter(|p| p.conversion.is_some()).count() as u64,
        non_converting_paths: paths.iter().filter(|p| p.conversion.is_none()).count() as u64,
        channels: facts,
        models,
        notes,
    }
}

fn describe_ms(ms: i64) -> String {
    if ms % MS_PER_DAY == 0 {
        format!("{} day(s)", ms / MS_PER_DAY)
    } else if ms % 60_000 == 0 && ms < 3_600_000 {
        format!("{} minutes", ms / 60_000)
    } else {
        format!("{:.1} hour(s)", ms as f64 / 3_600_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touches(channels: &[(usize, i64)]) -> Vec<Touch> {
        channels.iter().map(|&(channel, time)| Touch { channel: channel as u32, time, direct: channel == 9 }).collect()
    }

    #[test]
    fn position_based_handles_one_two_and_many_touches() {
        assert_eq!(heuristic_weights(Model::Position, &touches(&[(0, 0)]), 0, 1), vec![1.0]);
        assert_eq!(heuristic_weights(Model::Position, &touches(&[(0, 0), (1, 0)]), 0, 1), vec![0.5, 0.5]);
        let w = heuristic_weights(Model::Position, &touches(&[(0, 0), (1, 0), (2, 0), (3, 0)]), 0, 1);
        assert_eq!(w, vec![0.4, 0.1, 0.1, 0.4]);
    }

    #[test]
    fn last_non_direct_skips_direct_unless_all_are() {
        let w = heuristic_weights(Model::LastNonDirect, &touches(&[(0, 0), (9, 1)]), 2, 1);
        assert_eq!(w, vec![1.0, 0.0]);
        let w = heuristic_weights(Model::LastNonDirect, &touches(&[(9, 0), (9, 1)]), 2, 1);
        assert_eq!(w, vec![0.0, 1.0]);
    }

    #[test]
    fn time_decay_halves_per_half_life() {
        let w = heuristic_weights(Model::TimeDecay, &touches(&[(0, 0), (1, 10)]), 10, 10);
        assert!((w[0] - 1.0 / 3.0).abs() < 1e-12 && (w[1] - 2.0 / 3.0).abs() < 1e-12, "{w:?}");
    }

    #[test]
    fn the_linear_solver_solves() {
        // 2x + y = 5, x + 3y = 10 → x = 1, y = 3.
        let mut a = vec![vec![2.0, 1.0, 5.0], vec![1.0, 3.0, 10.0]];
        let x = solve(&mut a);
        assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 3.0).abs() < 1e-12);
    }
}
