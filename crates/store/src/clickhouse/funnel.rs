//! The ordered funnel pushed down to ClickHouse: `windowFunnel` per customer on the shards, the
//! customers per furthest step counted on the node that took the query, giving exactly the
//! engine's `reached` per step (`trailmap_analytics::funnel`, the reference).
//!
//! Where `windowFunnel` on 18.16 and the engine agree, checked on the rig and by the tests:
//! - the window's end is inclusive in both (`timestamp <= anchor + window`);
//! - a chain that restarts: both keep, per level, the chain with the latest anchor, so the
//!   furthest level is the longest chain over all anchors;
//! - an event matching several steps moves a chain one step only, in both;
//! - events of one customer at the same millisecond: the engine takes them in recorded order,
//!   `windowFunnel` in the order rows reach it (a stable sort on time). That order is not fixed
//!   across shards and threads, so each customer's events are gathered into one array sorted by
//!   (time, event key), this backend's recorded order (events.rs), and fed to `windowFunnelArray`
//!   in one call, which keeps the array's order for ties.
//!
//! Where they differ, the SQL makes up for it: 18.16's `windowFunnel` takes 32-bit timestamps
//! (levels kept in an Int32), too small for milliseconds since 1970 and too coarse in seconds.
//! Each customer's timeline is cut into blocks of `B` milliseconds from their first relevant
//! event; the events of block `b` are the ones from `b*B` up to (not including) `(b+1)*B + W`,
//! timed from the block's start, so every chain lies whole in the block of its anchor, and a
//! customer's furthest step is the largest over the blocks holding a step-1 event. `B + W` must
//! stay below 2^31, so windows up to [`MAX_PUSHDOWN_WINDOW_MS`] (about 23 days) are pushed down.
//!
//! Where the work is done: on a cluster, each shard's node counts the customers whose events are
//! all on it (every customer but those who absorbed others in a merge) over its own rows, and a
//! last query counts the merged ones over the Distributed table; the answers are added up. So a
//! shard holds only its own customers' events, and the node that took the query only the merged
//! customers' (see [`funnel_queries`]). A funnel over a period reads only the rows that can be in
//! one of its chains (from the period's start to its end plus the window).
//!
//! What takes the stream path (the business's rows streamed into the embedded engine) instead,
//! each with its [`PushdownRefusal`]: strict and unordered funnels, exclusions and breakdowns
//! (they need the chain, not only its length), a rule on an event property or a numeric
//! comparison (JSON and number parsing differ from Rust's), a longer window, and more steps than
//! `windowFunnel` takes.

use super::events::merge_join;
use super::http::quote;
use super::schema::{events_table, merges_table};
use super::{ClickHouseError, ClickHouseEvents};
use trailmap_model::{BusinessId, Condition, EventField, EventRule, Op};

/// The longest window pushed down: a block of at least a day plus the window fits in 2^31 ms.
pub const MAX_PUSHDOWN_WINDOW_MS: i64 = (1 << 31) - 1 - DAY_MS;

const DAY_MS: i64 = 86_400_000;

/// The most steps 18.16's `windowFunnel` takes.
const MAX_PUSHDOWN_STEPS: usize = 32;

/// An ordered funnel as the pushdown takes it: per step the rules any of which an event must
/// match, the window from the step-1 event (milliseconds, end included), and the period step-1
/// events must fall in (`[from, to)`, milliseconds).
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelSpec {
    pub steps: Vec<Vec<EventRule>>,
    pub window_ms: i64,
    pub period: Option<(i64, i64)>,
}

/// Which path a funnel took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunnelPath {
    /// Computed by ClickHouse: per step, the customers who reached it (the engine's `reached`).
    Pushdown(Vec<u64>),
    /// Not pushed down, for this reason: the caller streams the rows into the engine.
    Stream(PushdownRefusal),
}

/// Why a funnel is not pushed down.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushdownRefusal {
    #[error("a funnel needs at least one step")]
    NoSteps,
    #[error("{0} steps: windowFunnel takes at most {MAX_PUSHDOWN_STEPS}")]
    TooManySteps(usize),
    #[error("a window of {0} ms: on ClickHouse 18.16 windows up to {MAX_PUSHDOWN_WINDOW_MS} ms are pushed down")]
    Window(i64),
    #[error("a rule on {0}: matched by the embedded engine")]
    Rule(String),
}

impl ClickHouseEvents {
    /// The ordered funnel's customers per step, computed in ClickHouse, or the reason it takes
    /// the stream path. The answer equals the engine's `reached` on the events
    /// [`ClickHouseEvents::load_selected_events`] gives, counts equal, not close.
    pub fn funnel(&self, business: BusinessId, spec: &FunnelSpec) -> Result<FunnelPath, ClickHouseError> {
        // Without merges there are no merged customers to count apart, and the query that looks
        // for them would read the business's rows for nothing.
        let any_merges = self.location.cluster.is_some() && {
            let sql = format!("SELECT count() FROM {} FINAL WHERE business = {} FORMAT TabSeparated", merges_table(&self.location), business.0);
            self.http.text(0, &sql, &[])?.trim() != "0"
        };
        let queries = match funnel_queries(&self.location, business, spec, any_merges) {
            Ok(queries) => queries,
            Err(refusal) => return Ok(FunnelPath::Stream(refusal)),
        };
        // The shards' queries run side by side: the funnel takes as long as the slowest shard.
        let answers: Vec<Result<String, ClickHouseError>> = std::thread::scope(|scope| {
            let running: Vec<_> = queries.iter().map(|(node, sql)| scope.spawn(move || self.http.text(*node, sql, &[]))).collect();
            running.into_iter().map(|query| query.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        });
        let mut furthest = vec![0u64; spec.steps.len() + 1];
        for ((node, _), answer) in queries.iter().zip(answers) {
            for line in answer?.lines() {
                let parsed = line.split_once('\t').and_then(|(level, count)| Some((level.parse::<usize>().ok()?, count.parse::<u64>().ok()?)));
                match parsed {
                    Some((level, count)) if level <= spec.steps.len() => furthest[level] += count,
                    _ => return Err(ClickHouseError::Decode(format!("{}: funnel row {line:?}", self.http.shown(*node)))),
                }
            }
        }
        // A customer whose furthest step is k reached every step up to k.
        let reached = (1..=spec.steps.len()).map(|k| furthest[k..].iter().sum()).collect();
        Ok(FunnelPath::Pushdown(reached))
    }
}

/// The queries that count the funnel, each with the node (its place in the URL) it is sent to,
/// their answers to be added up; or why there are none.
///
/// On one server, one query. On a cluster, the per-customer work runs on each shard over its own
/// rows (`events_local`), so a shard holds only its customers' events and sends back a row per
/// step: exact for every customer whose events are all on that shard. A customer who absorbed
/// others in a merge may not be (events are sharded by the customer they were written under, and
/// a merge is applied at read time), so the shards leave those out and one more query counts
/// them alone over the Distributed table, their events gathered on the first node; it is left
/// out when the business has no merges (`any_merges`).
fn funnel_queries(
    location: &super::ClickHouseLocation,
    business: BusinessId,
    spec: &FunnelSpec,
    any_merges: bool,
) -> Result<Vec<(usize, String)>, PushdownRefusal> {
    // The customers in a merge, either side: their rows are exactly those whose current customer
    // absorbed someone (a customer merged away points at one who is not merged). The test is on
    // the stored customer, which a server that uses the table's key for an IN set finds by it
    // (18.16 does not for a GLOBAL IN: it reads the customer column).
    let in_merges = format!(
        "(SELECT customer FROM {merges} FINAL WHERE business = {b} UNION ALL SELECT merged_into FROM {merges} FINAL WHERE business = {b})",
        merges = merges_table(location),
        b = business.0
    );
    if location.cluster.is_none() {
        return Ok(vec![(0, funnel_sql(spec, business, &events_table(location), &merge_join(location, business), "1")?)]);
    }
    let local = format!("{}.events_local", location.database);
    // On a shard's node, the merges are read through the Distributed table as a plain subquery.
    let join = format!("ANY LEFT JOIN (SELECT customer, merged_into FROM {} FINAL WHERE business = {}) USING customer", merges_table(location), business.0);
    let on_shard = funnel_sql(spec, business, &local, &join, &format!("customer NOT IN {in_merges}"))?;
    let mut queries: Vec<(usize, String)> = (0..location.shards.len()).map(|node| (node, on_shard.clone())).collect();
    if any_merges {
        queries.push((0, funnel_sql(spec, business, &events_table(location), &merge_join(location, business), &format!("customer GLOBAL IN {in_merges}"))?));
    }
    Ok(queries)
}

/// The query over `events` (a table and `FINAL`), its rows put on their current customer by
/// `join` and kept when `scope` holds, or why there is none.
fn funnel_sql(spec: &FunnelSpec, business: BusinessId, events: &str, join: &str, scope: &str) -> Result<String, PushdownRefusal> {
    let steps = spec.steps.len();
    if steps == 0 {
        return Err(PushdownRefusal::NoSteps);
    }
    if steps > MAX_PUSHDOWN_STEPS {
        return Err(PushdownRefusal::TooManySteps(steps));
    }
    if spec.window_ms <= 0 || spec.window_ms > MAX_PUSHDOWN_WINDOW_MS {
        return Err(PushdownRefusal::Window(spec.window_ms));
    }
    let window = spec.window_ms;
    let block = (1i64 << 31) - 1 - window;
    let mut conditions = Vec::with_capacity(steps);
    let mut any_step = Vec::with_capacity(steps);
    for (k, rules) in spec.steps.iter().enumerate() {
        let mut any = rules.iter().map(rule_sql).collect::<Result<Vec<_>, _>>()?;
        if any.is_empty() {
            any.push("0".to_string());
        }
        let mut condition = format!("({})", any.join(" OR "));
        any_step.push(condition.clone());
        if k == 0
            && let Some((from, to)) = spec.period
        {
            condition = format!("({condition} AND t >= {from} AND t < {to})");
        }
        conditions.push(format!("toUInt8({condition}) AS c{k}"));
    }
    // With a period, no event before it or after its last step-1 time plus the window is in a
    // chain, so only the rows in between are read: the seconds test lets ClickHouse skip
    // partitions and key ranges, the milliseconds one is exact.
    let period = match spec.period {
        Some((from, to)) => {
            let last = to.saturating_sub(1).saturating_add(window);
            format!(
                " AND time >= toDateTime({}) AND time <= toDateTime({}) AND toInt64(time) * 1000 + ms >= {from} AND toInt64(time) * 1000 + ms <= {last}",
                from.div_euclid(1000).clamp(0, u32::MAX as i64),
                last.div_euclid(1000).clamp(0, u32::MAX as i64),
            )
        }
        None => String::new(),
    };
    let flags: Vec<String> = (0..steps).map(|k| format!("c{k}")).collect();
    let tuple_flags: Vec<String> = (0..steps).map(|k| format!("x.{}", k + 3)).collect();
    let funnel_args: Vec<String> = tuple_flags.iter().map(|flag| format!("arrayMap(x -> {flag}, inblock)")).collect();
    // Innermost: each event matching a step on its current customer with its step flags (18.16
    // does not move the outer filter on the flags into the rows a shard sends, so the steps are
    // tested there too); then each customer's events as one array in (time, key) order; then
    // one row per block holding a step-1 event; then windowFunnel over each block's events; then
    // the furthest step per customer, and the customers per furthest step. 18.16's lambdas cannot read a column of
    // the query (`x -> x.1 - origin` is an unknown identifier), so such a value is passed as a
    // second array of equal length (`arrayResize([v], length(a), v)`).
    Ok(format!(
        "SELECT level, count() FROM (
           SELECT current, max(block_level) AS level FROM (
             SELECT current, blk, windowFunnelArray({window})(arrayMap((x, b) -> toUInt32(x.1 - b), inblock, {base_spread}), {funnel_args}) AS block_level
             FROM (
               SELECT current, blk, origin + blk * {block} AS base,
                      arrayFilter((x, b) -> x.1 >= b AND x.1 < b + {block} + {window}, sorted, arrayResize([base], length(sorted), base)) AS inblock
               FROM (
                 SELECT current, origin, arraySort(events) AS sorted, arrayFilter(x -> x.3 = 1, events) AS starts,
                        arrayDistinct(arrayMap((x, o) -> intDiv(x.1 - o, {block}), starts, arrayResize([origin], length(starts), origin))) AS blocks
                 FROM (
                   SELECT current, groupArray(({tuple})) AS events, min(t) AS origin FROM (
                     SELECT toInt64(if(merged_into = 0, customer, merged_into)) AS current, toInt64(time) * 1000 + ms AS t, key, {conditions}
                     FROM {events} FINAL {join}
                     WHERE business = {business}{period} AND {scope} AND ({any_step})
                   ) WHERE {any_flag}
                   GROUP BY current
                 )
               ) ARRAY JOIN blocks AS blk
             ) GROUP BY current, blk
           ) GROUP BY current
         ) WHERE level > 0 GROUP BY level ORDER BY level FORMAT TabSeparated",
        base_spread = "arrayResize([base], length(inblock), base)",
        funnel_args = funnel_args.join(", "),
        tuple = ["t".to_string(), "key".to_string()].into_iter().chain(flags.iter().cloned()).collect::<Vec<_>>().join(", "),
        conditions = conditions.join(", "),
        business = business.0,
        any_flag = flags.join(" OR "),
        any_step = any_step.join(" OR "),
    ))
}

/// One rule as a SQL condition over the events table, matching exactly what
/// `EventRule::matches` matches: every condition holds; an empty rule matches nothing; text is
/// compared without ASCII case (`lower` folds ASCII only, as `eq_ignore_ascii_case`); an absent
/// field (the empty string) passes no test.
fn rule_sql(rule: &EventRule) -> Result<String, PushdownRefusal> {
    if rule.conditions.is_empty() {
        return Ok("0".to_string());
    }
    let parts = rule.conditions.iter().map(condition_sql).collect::<Result<Vec<_>, _>>()?;
    Ok(format!("({})", parts.join(" AND ")))
}

fn condition_sql(condition: &Condition) -> Result<String, PushdownRefusal> {
    let column = match &condition.field {
        EventField::Name => "name",
        EventField::Channel => "channel",
        EventField::Source => "source",
        EventField::Medium => "medium",
        EventField::Campaign => "campaign",
        EventField::Referrer => "referrer",
        EventField::Page => "page",
        EventField::Property(key) => return Err(PushdownRefusal::Rule(format!("the property {key:?}"))),
    };
    let lower = |text: &str| quote(&text.to_ascii_lowercase());
    let test = match &condition.op {
        Op::Equals(want) => format!("lower({column}) = {}", lower(want)),
        Op::OneOf(wants) if wants.is_empty() => "0".to_string(),
        Op::OneOf(wants) => format!("lower({column}) IN ({})", wants.iter().map(|w| lower(w)).collect::<Vec<_>>().join(", ")),
        Op::Contains(part) => format!("position(lower({column}), {}) > 0", lower(part)),
        // Bytes, as the engine compares the value's first bytes; a prefix is valid UTF-8, so equal
        // bytes end on a character boundary of the value too.
        Op::StartsWith(prefix) => format!("substring(lower({column}), 1, {}) = {}", prefix.len(), lower(prefix)),
        Op::Exists => "1".to_string(),
        Op::GreaterThan(_) | Op::LessThan(_) | Op::AtLeast(_) | Op::AtMost(_) => {
            return Err(PushdownRefusal::Rule(format!("a number comparison on {column}")));
        }
    };
    let test = format!("({column} != '' AND {test})");
    Ok(if condition.negate { format!("NOT {test}") } else { test })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_become_conditions_that_quote_their_values() {
        let rule = EventRule::named("Page_View").and(EventField::Page, Op::StartsWith("/it's".into()));
        assert_eq!(rule_sql(&rule).unwrap(), "((name != '' AND lower(name) = 'page_view') AND (page != '' AND substring(lower(page), 1, 5) = '/it\\'s'))");
        let negated = EventRule::default().and_not(EventField::Medium, Op::OneOf(vec!["CPC".into(), "ppc".into()]));
        assert_eq!(rule_sql(&negated).unwrap(), "(NOT (medium != '' AND lower(medium) IN ('cpc', 'ppc')))");
        assert_eq!(rule_sql(&EventRule::default()).unwrap(), "0");
    }

    #[test]
    fn what_cannot_be_pushed_down_says_why() {
        let property = EventRule::default().and(EventField::Property("plan".into()), Op::Equals("pro".into()));
        assert!(matches!(rule_sql(&property), Err(PushdownRefusal::Rule(_))));
        let number = EventRule::default().and(EventField::Page, Op::AtLeast(2.0));
        assert!(matches!(rule_sql(&number), Err(PushdownRefusal::Rule(_))));
        let location = super::super::ClickHouseLocation::parse("clickhouse://h:1/db").unwrap();
        let spec = |window_ms| FunnelSpec { steps: vec![vec![EventRule::named("a")]], window_ms, period: None };
        assert_eq!(funnel_queries(&location, BusinessId(1), &spec(MAX_PUSHDOWN_WINDOW_MS + 1), true), Err(PushdownRefusal::Window(MAX_PUSHDOWN_WINDOW_MS + 1)));
        assert_eq!(funnel_queries(&location, BusinessId(1), &spec(0), true), Err(PushdownRefusal::Window(0)));
        assert!(funnel_queries(&location, BusinessId(1), &spec(MAX_PUSHDOWN_WINDOW_MS), true).is_ok());
        let none = FunnelSpec { steps: vec![], window_ms: 1, period: None };
        assert_eq!(funnel_queries(&location, BusinessId(1), &none, true), Err(PushdownRefusal::NoSteps));
    }

    #[test]
    fn on_a_cluster_each_shard_counts_its_own_customers_and_the_first_node_the_merged_ones() {
        let spec = FunnelSpec { steps: vec![vec![EventRule::named("a")], vec![EventRule::named("b")]], window_ms: 60_000, period: Some((10_500, 20_000)) };
        let one = super::super::ClickHouseLocation::parse("clickhouse://h:1/db").unwrap();
        let queries = funnel_queries(&one, BusinessId(1), &spec, true).unwrap();
        assert_eq!(queries.len(), 1);
        assert!(queries[0].1.contains("FROM db.events_local FINAL ANY LEFT JOIN") && queries[0].1.contains("AND 1 AND ((((name != '' AND lower(name) = 'a'))) OR (((name != '' AND lower(name) = 'b'))))\n"), "{}", queries[0].1);
        let cluster = super::super::ClickHouseLocation::parse("clickhouse://h:1,g:2,f:3/db?cluster=c").unwrap();
        // Without merges, only the shards' queries.
        assert_eq!(funnel_queries(&cluster, BusinessId(1), &spec, false).unwrap().iter().map(|(node, _)| *node).collect::<Vec<_>>(), [0, 1, 2]);
        let queries = funnel_queries(&cluster, BusinessId(1), &spec, true).unwrap();
        assert_eq!(queries.iter().map(|(node, _)| *node).collect::<Vec<_>>(), [0, 1, 2, 0]);
        for (_, sql) in &queries[..3] {
            assert!(sql.contains("FROM db.events_local FINAL ANY LEFT JOIN (SELECT customer, merged_into FROM db.merges FINAL"), "{sql}");
            assert!(sql.contains("AND customer NOT IN (SELECT customer FROM db.merges FINAL WHERE business = 1 UNION ALL SELECT merged_into FROM db.merges FINAL WHERE business = 1)"), "{sql}");
        }
        let merged = &queries[3].1;
        assert!(merged.contains("FROM db.events FINAL GLOBAL ANY LEFT JOIN") && merged.contains("AND customer GLOBAL IN (SELECT customer FROM db.merges"), "{merged}");
        // The period's rows only: from 10.5 s to 19.999 s plus the minute's window.
        assert!(merged.contains("AND time >= toDateTime(10) AND time <= toDateTime(79) AND toInt64(time) * 1000 + ms >= 10500 AND toInt64(time) * 1000 + ms <= 79999"), "{merged}");
    }
}
