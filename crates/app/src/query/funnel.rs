//! The funnel's request from parameters (`steps`, `window`, `mode`, `breakdown`) and its default
//! steps: without `steps`, the business's own events pick a sensible funnel, the online shop's
//! page_view → … → purchase when it has those events, else store_visit → purchase, else its first
//! two event names.

use trailmap_store::EventLoads;
use super::{FromParams, Params, choice, count, duration, field_error};
use crate::funnel_customers::{DEFAULT_CUSTOMERS_LIMIT, MAX_CUSTOMERS_LIMIT};
use crate::{App, FunnelCustomersRequest, FunnelRequest, Result};
use trailmap_model::{Business, EventField, EventSelection};

/// The shop funnel of the demo and of most online stores, in order.
const SHOP_STEPS: [&str; 5] = ["page_view", "product_view", "add_to_cart", "checkout_started", "purchase"];
const STORE_STEPS: [&str; 2] = ["store_visit", "purchase"];

impl Default for FunnelRequest {
    /// The business's default steps (see [`default_funnel_steps`]), a 7-day window, ordered.
    fn default() -> Self {
        App::funnel_request(Vec::new())
    }
}

impl FromParams for FunnelRequest {
    fn from_params(params: &Params) -> Result<FunnelRequest> {
        let mut request = FunnelRequest::default();
        if let Some(text) = params.get("steps") {
            request.steps = text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            if request.steps.is_empty() {
                return Err(field_error("steps", format!("{text:?} names no step; write event names, comma-separated")));
            }
        }
        if let Some(window) = params.get("window") {
            request.window_ms = duration("window", window)?;
        }
        let mode = choice("mode", params.get("mode"), "ordered", &["ordered", "strict", "unordered"])?;
        request.mode = mode.parse().map_err(|e: String| field_error("mode", e))?;
        request.breakdown = params.get("breakdown").map(str::to_string);
        request.customers = customers_request(params)?;
        request.pushdown = choice("pushdown", params.get("pushdown"), "false", &["true", "false"])? == "true";
        Ok(request)
    }
}

/// The page of customers asked with `customers_at` (a step, 1-based), `customers_who`
/// (`reached`, the default, or `dropped`), `customers_group` (a breakdown value), `limit` and
/// `offset`; the others without `customers_at` are refused, as they would silently do nothing.
fn customers_request(params: &Params) -> Result<Option<FunnelCustomersRequest>> {
    let Some(step) = params.get("customers_at") else {
        if let Some(field) = ["customers_who", "customers_group", "limit", "offset"].into_iter().find(|f| params.get(f).is_some()) {
            return Err(field_error(field, "lists a funnel step's customers, so it needs customers_at (the step, 1 for the first)"));
        }
        return Ok(None);
    };
    let step = count("customers_at", Some(step), 1, 1, trailmap_analytics::funnel::MAX_STEPS)?;
    let dropped = choice("customers_who", params.get("customers_who"), "reached", &["reached", "dropped"])? == "dropped";
    Ok(Some(FunnelCustomersRequest {
        step,
        dropped,
        group: params.get("customers_group").map(str::to_string),
        offset: count("offset", params.get("offset"), 0, 0, usize::MAX)?,
        limit: count("limit", params.get("limit"), DEFAULT_CUSTOMERS_LIMIT, 1, MAX_CUSTOMERS_LIMIT)?,
    }))
}

/// The steps used when none are asked: the first of the known funnels whose events the business
/// has (at least two of them), else its first two event names; none for a business without
/// events.
pub fn default_funnel_steps(app: &App, business: &Business) -> Result<Vec<String>> {
    let table = app.store().load_selected_events(business.id, EventSelection::NONE.with(&EventField::Name))?;
    let mut seen = vec![false; table.strings.len()];
    for &name in &table.name {
        if let Some(s) = seen.get_mut(name as usize) {
            *s = true;
        }
    }
    let names: Vec<String> =
        seen.iter().enumerate().filter(|(id, s)| **s && *id != 0).map(|(id, _)| table.string(id as u32).to_string()).collect();
    for known in [&SHOP_STEPS[..], &STORE_STEPS[..]] {
        let present: Vec<String> = known.iter().filter(|s| names.iter().any(|n| n == *s)).map(|s| s.to_string()).collect();
        if present.len() >= 2 {
            return Ok(present);
        }
    }
    let mut names = names;
    names.sort();
    names.truncate(2);
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_funnel_request_reads_its_parameters_and_names_the_bad_one() {
        let request = FunnelRequest::from_params(&Params::parse(Some("steps=a,%20b,&window=3d&mode=strict&breakdown=channel"))).ok();
        let request = request.expect("read");
        assert_eq!(request.steps, ["a", "b"]);
        assert_eq!(request.window_ms, 3 * 86_400_000);
        assert_eq!(request.mode.as_str(), "strict");
        assert_eq!(request.breakdown.as_deref(), Some("channel"));
        assert_eq!(FunnelRequest::from_params(&Params::default()).ok(), Some(FunnelRequest::default()));
        let paged = FunnelRequest::from_params(&Params::parse(Some("customers_at=2&customers_who=dropped&customers_group=Email&limit=5&offset=10"))).ok();
        let asked = paged.and_then(|r| r.customers).expect("a page asked");
        assert_eq!(asked, FunnelCustomersRequest { step: 2, dropped: true, group: Some("Email".into()), offset: 10, limit: 5 });
        let first = FunnelRequest::from_params(&Params::parse(Some("customers_at=1"))).ok().and_then(|r| r.customers);
        assert_eq!(first, Some(FunnelCustomersRequest::reaching(1)));
        for (query, field) in [
            ("steps=,", "steps: "),
            ("window=soon", "window: "),
            ("mode=sideways", "mode: "),
            ("customers_at=0", "customers_at: "),
            ("customers_at=two", "customers_at: "),
            ("customers_at=2&customers_who=left", "customers_who: "),
            ("customers_at=2&limit=0", "limit: "),
            ("customers_at=2&limit=10001", "limit: "),
            ("customers_at=2&offset=-1", "offset: "),
            ("limit=5", "limit: "),
            ("customers_group=Email", "customers_group: "),
        ] {
            let error = FunnelRequest::from_params(&Params::parse(Some(query))).expect_err(query).to_string();
            assert!(error.starts_with(field), "{query}: {error}");
        }
    }
}
