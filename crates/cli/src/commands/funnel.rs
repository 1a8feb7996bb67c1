//! `trailmap funnel`: how many customers go through a sequence of steps, where they drop off and
//! how long each step takes; by breakdown value, over two periods side by side, or the customers
//! reaching or dropping at one step.

use crate::output::Output;
use anyhow::{Context, bail};
use trailmap_app::App;
use trailmap_app::query::parse_duration;
use trailmap_model::{Business, Timestamp};

#[derive(Debug, clap::Args)]
pub struct FunnelArgs {
    /// The steps, comma-separated: event names, `a|b` (any of these events),
    /// `page_view[page^=/checkout]` (with conditions: = != ^= *= > <), `touchpoint:NAME` or
    /// `stage:NAME` (any touchpoint on the stage).
    #[arg(long, value_delimiter = ',', required = true, value_name = "STEPS")]
    steps: Vec<String>,
    /// The conversion window from step 1, boundary included, e.g. 30m, 24h, 7d.
    #[arg(long, default_value = "7d", value_parser = parse_duration)]
    window: i64,
    /// ordered: steps in order, other events allowed between; strict: no other event between
    /// steps; unordered: the steps in any order.
    #[arg(long, default_value = "ordered", value_parser = ["ordered", "strict", "unordered"])]
    mode: String,
    /// Leave out customers who do this event between step 1 and the last step they reach (same
    /// language as a step; repeatable).
    #[arg(long, value_name = "STEP")]
    exclude: Vec<String>,
    /// One funnel per value of: first-channel or first-source (of the customer's first event),
    /// or channel, source, medium, campaign, page or property:KEY (of the step-1 event), or
    /// persona (by the personas' segment rules) or customer:KEY (a customer property).
    #[arg(long, value_name = "FIELD")]
    breakdown: Option<String>,
    /// Only customers whose step 1 is on or after this date (YYYY-MM-DD, UTC, or RFC 3339).
    #[arg(long, value_parser = parse_time, requires = "to")]
    from: Option<Timestamp>,
    /// ... and before this date.
    #[arg(long, value_parser = parse_time, requires = "from")]
    to: Option<Timestamp>,
    /// A second period shown beside the first (needs --from and --to).
    #[arg(long, value_parser = parse_time, requires_all = ["compare_to", "from"])]
    compare_from: Option<Timestamp>,
    #[arg(long, value_parser = parse_time, requires = "compare_from")]
    compare_to: Option<Timestamp>,
    /// List the customers reaching step STEP (1-based) instead of the funnel, a page of them
    /// (--limit, --offset).
    #[arg(long, value_name = "STEP", alias = "customers")]
    customers_at: Option<usize>,
    /// With --customers-at: reached (the customers reaching STEP) or dropped (those who reached
    /// the step before STEP but not STEP).
    #[arg(long, default_value = "reached", value_parser = ["reached", "dropped"], requires = "customers_at")]
    customers_who: String,
    /// Short for --customers-who dropped.
    #[arg(long, requires = "customers_at")]
    dropped: bool,
    /// With --customers-at: the customers of one breakdown group (a value of --breakdown).
    #[arg(long, value_name = "VALUE", requires_all = ["customers_at", "breakdown"])]
    customers_group: Option<String>,
    /// With --customers-at: how many customers to list (1 to 10000).
    #[arg(long, default_value_t = trailmap_app::funnel_customers::DEFAULT_CUSTOMERS_LIMIT, requires = "customers_at")]
    limit: usize,
    /// With --customers-at: how many to skip first (the next page starts at offset + limit).
    #[arg(long, default_value_t = 0, requires = "customers_at")]
    offset: usize,
    /// Count the steps in ClickHouse (windowFunnel) when the events are there (--events) and the
    /// funnel can be: the same counts without step times; otherwise the answer says why not.
    #[arg(long)]
    pushdown: bool,
}

/// Reads a date (`2026-01-01`, midnight UTC) or an RFC 3339 time.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    let full = if text.len() == 10 { format!("{text}T00:00:00Z") } else { text.to_string() };
    Timestamp::parse_rfc3339(&full).map_err(|_| format!("{text:?} is not a date: expected YYYY-MM-DD or an RFC 3339 time"))
}

/// A duration as a person reads it: 45s, 12m, 3.5h, 2.1d.
pub fn human_duration(ms: i64) -> String {
    let seconds = ms as f64 / 1000.0;
    match seconds {
        s if s < 60.0 => format!("{s:.0}s"),
        s if s < 3600.0 => format!("{:.0}m", s / 60.0),
        s if s < 86_400.0 => format!("{:.1}h", s / 3600.0),
        s => format!("{:.1}d", s / 86_400.0),
    }
}

pub fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// Removes bulky keys (customer lists) from a JSON value, at any depth.
pub fn strip(value: &mut serde_json::Value, keys: &[&str]) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| !keys.contains(&k.as_str()));
            map.values_mut().for_each(|v| strip(v, keys));
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| strip(v, keys)),
        _ => {}
    }
}

fn period_tag(index: usize) -> &'static str {
    if index == 0 { "A" } else { "B" }
}

fn day(time: Timestamp) -> String {
    time.to_rfc3339().get(..10).unwrap_or_default().to_string()
}

pub fn run(app: &mut App, business: &Business, args: FunnelArgs) -> anyhow::Result<Output> {
    let mut request = App::funnel_request(args.steps.clone());
    request.window_ms = args.window;
    request.mode = args.mode.parse().map_err(anyhow::Error::msg)?;
    request.exclude = args.exclude.clone();
    request.breakdown = args.breakdown.clone();
    request.period = args.from.zip(args.to);
    request.compare = args.compare_from.zip(args.compare_to);
    request.pushdown = args.pushdown;
    for (name, period) in [("--from/--to", request.period), ("--compare-from/--compare-to", request.compare)] {
        if let Some((from, to)) = period
            && from >= to
        {
            bail!("{name}: the period must start before it ends ({} is not before {})", day(from), day(to));
        }
    }
    if let Some(step) = args.customers_at {
        let max = trailmap_app::funnel_customers::MAX_CUSTOMERS_LIMIT;
        if !(1..=max).contains(&args.limit) {
            bail!("--limit {}: list 1 to {max} customers at a time (page with --offset)", args.limit);
        }
        let dropped = args.dropped || args.customers_who == "dropped";
        request.customers = Some(trailmap_app::FunnelCustomersRequest { step, dropped, group: args.customers_group.clone(), offset: args.offset, limit: args.limit });
    }
    let answer = app.funnel(business, &request).with_context(|| format!("computing the funnel of {}", business.name))?;
    let report = &answer.report;
    let step_count = report.overall.steps.len();

    if let Some(page) = &answer.customers {
        let rows = page.customers.iter().map(|id| vec![id.to_string()]).collect();
        let what = if page.dropped { "dropping at" } else { "reaching" };
        let group = page.group.as_ref().map(|g| format!(", group {g}")).unwrap_or_default();
        let shown = if page.customers.is_empty() {
            format!("none from {}", page.offset + 1)
        } else {
            format!("{} to {}", page.offset + 1, page.offset + page.customers.len())
        };
        return Ok(Output::new(&["customer"], rows, page)?.with_title(format!(
            "{} customers {what} step {} ({}{group}) in {}; listed: {shown}",
            page.total, page.step, page.label, business.name
        )));
    }

    // One block of columns per period; one row per step, per breakdown value when asked.
    let periods: Vec<_> = std::iter::once(report).chain(answer.compare.as_ref()).collect();
    let mut columns: Vec<String> = Vec::new();
    if answer.breakdown.is_some() {
        columns.extend(["breakdown".to_string(), "n".to_string()]);
    }
    columns.push("step".into());
    let compare = periods.len() > 1;
    // Periods are tagged A and B in the column names and spelled out in the title, so the
    // table stays narrow enough for a terminal.
    for (index, _) in periods.iter().enumerate() {
        let tag = if compare { format!(" {}", period_tag(index)) } else { String::new() };
        for name in ["customers", "of step 1", "of previous", "dropped", "median time", "p90 time"] {
            columns.push(format!("{name}{tag}"));
        }
    }
    macro_rules! cells {
        ($result:expr, $k:expr) => {{
            match $result.and_then(|r| r.steps.get($k)) {
                Some(s) => vec![
                    s.reached.to_string(),
                    percent(s.conversion_from_first),
                    if $k == 0 { String::new() } else { percent(s.conversion_from_previous) },
                    if $k == 0 { String::new() } else { s.dropped.to_string() },
                    s.time_from_previous.map(|t| human_duration(t.median_ms)).unwrap_or_default(),
                    s.time_from_previous.map(|t| human_duration(t.p90_ms)).unwrap_or_default(),
                ],
                None => vec![String::new(); 6],
            }
        }};
    }
    let mut rows = Vec::new();
    let groups: Vec<Option<&str>> = if answer.breakdown.is_some() {
        let mut values: Vec<&str> = report.breakdown.iter().map(|g| g.value.as_str()).collect();
        for other in periods.iter().skip(1) {
            for group in &other.breakdown {
                if !values.contains(&group.value.as_str()) {
                    values.push(group.value.as_str());
                }
            }
        }
        values.into_iter().map(Some).collect()
    } else {
        vec![None]
    };
    for group in groups {
        for k in 0..step_count {
            let mut row = Vec::new();
            if let Some(value) = group {
                let n: Vec<String> = periods
                    .iter()
                    .map(|p| p.breakdown.iter().find(|g| g.value == value).map_or(0, |g| g.result.entered).to_string())
                    .collect();
                row.push(value.to_string());
                row.push(n.join(" / "));
            }
            row.push(format!("{}. {}", k + 1, report.overall.steps[k].label));
            for period in &periods {
                let result = match group {
                    Some(value) => period.breakdown.iter().find(|g| g.value == value).map(|g| &g.result),
                    None => Some(&period.overall),
                };
                row.extend(cells!(result, k));
            }
            rows.push(row);
        }
    }
    let mut title = format!(
        "Funnel of {} ({} mode, {} window): ",
        business.name,
        report.mode.as_str(),
        human_duration(report.window_ms)
    );
    for (index, period) in periods.iter().enumerate() {
        let result = &period.overall;
        let last = result.steps.last().map_or(0, |s| s.reached);
        let span = match period.period {
            Some((from, to)) if compare => format!(
                "{} = {}..{}: ",
                period_tag(index),
                day(Timestamp::from_millis(from)),
                day(Timestamp::from_millis(to))
            ),
            Some((from, to)) => format!("{}..{}: ", day(Timestamp::from_millis(from)), day(Timestamp::from_millis(to))),
            None => String::new(),
        };
        if index > 0 {
            title.push_str(";\n");
        }
        title.push_str(&format!(
            "{span}n = {} customers entered, {} converted ({}), {} excluded",
            result.entered,
            last,
            percent(if result.entered == 0 { 0.0 } else { last as f64 / result.entered as f64 }),
            result.excluded.len()
        ));
        if let Some(t) = result.time_to_convert {
            title.push_str(&format!(", step 1 to last: median {} (p90 {}, n = {})", human_duration(t.median_ms), human_duration(t.p90_ms), t.n));
        }
    }
    match answer.path {
        trailmap_app::PathTaken::PushedDown => title.push_str("\nCounted in ClickHouse (windowFunnel): no step times."),
        trailmap_app::PathTaken::Streamed => title.push_str("\nCounted by the embedded engine over the events in ClickHouse."),
        trailmap_app::PathTaken::Embedded => {}
    }
    if let Some(note) = &answer.path_note {
        title.push_str(&format!(" ({note})"));
    }
    let json = serde_json::to_value(&answer)?;
    Ok(Output { title: Some(title), columns, rows, json })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_durations_as_people_read_them() {
        assert_eq!(parse_time("1970-01-02").map(|t| t.millis()), Ok(86_400_000));
        assert!(parse_time("2026-13-01").is_err());
        assert_eq!(human_duration(90_000), "2m");
        assert_eq!(human_duration(36 * 3_600_000), "1.5d");
    }
}
