//! The funnel-step parser's target: step items, exclusions and a breakdown as a person types them
//! (`page_view[page^=/checkout]`, `a|b`, `touchpoint:NAME`, `stage:NAME`, `property:KEY`), run by
//! `App::funnel` over the demo's coffee shop (a few customers, in memory, journeys kept between
//! runs).
//!
//! What must hold: a refused request is an error of its checks naming the field (and a rule's
//! offset inside the rule); an answer has one result per step, each step reached by no more
//! customers than the one before, and conversion rates between 0 and 1.

use std::cell::RefCell;
use std::sync::Arc;
use trailmap_analytics::FunnelMode;
use trailmap_app::journeys_cache::JourneysCache;
use crate::Outcome;
use crate::maps::assert_refused_by_checks;
use trailmap_app::{App, DemoOptions};
use trailmap_model::Business;

thread_local! {
    static APP: RefCell<Option<(App, Business)>> = const { RefCell::new(None) };
}

/// A funnel request, one item a line: a step; `!ITEM` an exclusion; `@TEXT` the breakdown;
/// `#strict` or `#unordered` the mode.
pub fn funnel_steps(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else { return Outcome::Skipped };
    let mut request = App::funnel_request(Vec::new());
    for line in text.lines() {
        if let Some(item) = line.strip_prefix('!') {
            request.exclude.push(item.to_string());
        } else if let Some(breakdown) = line.strip_prefix('@') {
            request.breakdown = Some(breakdown.to_string());
        } else if let Some(mode) = line.strip_prefix('#') {
            request.mode = match mode {
                "strict" => FunnelMode::Strict,
                "unordered" => FunnelMode::Unordered,
                _ => FunnelMode::Ordered,
            };
        } else {
            request.steps.push(line.to_string());
        }
    }
    APP.with(|cell| {
        let mut slot = cell.borrow_mut();
        let (app, business) = slot.get_or_insert_with(|| {
            let mut app = App::in_memory().expect("an in-memory store");
            app.demo(&DemoOptions { customers: 60, seed: 7 }).expect("the demo");
            let app = app.with_journeys_cache(Arc::new(JourneysCache::default()));
            let business = app.business(Some(trailmap_app::DEMO_BUSINESSES[0])).expect("the demo's coffee shop");
            (app, business)
        });
        let answer = match app.funnel(business, &request) {
            Ok(answer) => answer,
            Err(refused) => {
                assert_refused_by_checks(&refused, "a funnel request");
                return Outcome::Refused;
            }
        };
        let steps = &answer.report.overall.steps;
        // Without steps the app answers the business's default funnel, and says which steps.
        let asked = if request.steps.is_empty() { answer.steps.len() } else { request.steps.len() };
        assert_eq!(steps.len(), asked, "an answer with another number of steps than asked");
        for pair in steps.windows(2) {
            assert!(pair[1].reached <= pair[0].reached, "a step reached by more customers than the one before: {steps:?}");
        }
        for step in steps {
            for rate in [step.conversion_from_first, step.conversion_from_previous] {
                assert!((0.0..=1.0).contains(&rate), "a conversion rate of {rate}");
            }
        }
        Outcome::Accepted
    })
}
