//! The rule parsers' targets: the event rule language (`trailmap_model::rule_text`, which funnel
//! steps, touchpoint rules and map documents share) and the customer rule language of personas
//! (`trailmap_model::persona_rule`). Both read what a person types in a form, a flag or a JSON
//! field, so any text must either read or be refused at a place inside it.
//!
//! What must hold, besides no panic: a refused text's error offset is within the text (counted in
//! characters, as the parsers promise) and its reason is not empty; a rule that reads prints to a
//! text that reads back to the same rule, and printing that again gives the same text (the
//! round trip the parsers' documentation promises).

use crate::Outcome;
use trailmap_model::{Condition, CustomerRule, EventRule, parse_alternatives};

/// An event rule, as a touchpoint's rule field and a funnel step take it: read by
/// `EventRule::parse` (a touchpoint) and by `parse_alternatives` (a funnel step).
pub fn event_rule(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else { return Outcome::Skipped };
    let chars = text.chars().count();
    let outcome = match EventRule::parse(text) {
        Ok(rule) => {
            let printed = rule.to_text();
            let again = EventRule::parse(&printed).unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which does not read: {e}"));
            // The name test moves to the front when it becomes the head (`[page=/x][event=a]`
            // prints as `a[page=/x]`): the same tests, possibly in another order.
            assert_eq!(sorted(&again.conditions), sorted(&rule.conditions), "{text:?} printed as {printed:?} reads as another rule");
            assert_eq!(again.to_text(), printed, "{text:?}: printing is not stable");
            Outcome::Accepted
        }
        Err(e) => {
            assert!(e.offset <= chars, "{text:?}: an error at offset {} of a {chars}-character text: {e}", e.offset);
            assert!(!e.reason.is_empty(), "{text:?}: an error without a reason");
            Outcome::Refused
        }
    };
    match parse_alternatives(text) {
        Ok(alternatives) => {
            assert!(!alternatives.is_empty(), "{text:?}: a funnel step of no alternative");
            for alternative in alternatives {
                let printed = alternative.to_text();
                // An alternative whose name condition lists several names prints as a|b, which a
                // funnel step reads as several alternatives and a touchpoint as the one rule again.
                let again = EventRule::parse(&printed).unwrap_or_else(|e| panic!("{text:?}: the alternative {printed:?} does not read: {e}"));
                assert_eq!(sorted(&again.conditions), sorted(&alternative.conditions), "{text:?}: the alternative {printed:?} reads as another rule");
            }
        }
        Err(e) => assert!(e.offset <= chars, "{text:?}: a funnel step's error at offset {} of {chars}: {e}", e.offset),
    }
    outcome
}

/// A persona's customer rule, as the personas page, `--rule` and the API's `"rule"` take it.
pub fn persona_rule(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else { return Outcome::Skipped };
    let chars = text.chars().count();
    match CustomerRule::parse(text) {
        Ok(rule) => {
            assert!(!rule.conditions.is_empty(), "{text:?}: a rule of no condition");
            let printed = rule.to_text();
            let again = CustomerRule::parse(&printed).unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which does not read: {e}"));
            assert_eq!(again, rule, "{text:?} printed as {printed:?} reads as another rule");
            assert_eq!(again.to_text(), printed, "{text:?}: printing is not stable");
            Outcome::Accepted
        }
        Err(e) => {
            assert!(e.offset <= chars, "{text:?}: an error at offset {} of a {chars}-character text: {e}", e.offset);
            assert!(!e.reason.is_empty(), "{text:?}: an error without a reason");
            Outcome::Refused
        }
    }
}

/// A rule's conditions in a fixed order, to compare rules whose tests are the same.
fn sorted(conditions: &[Condition]) -> Vec<String> {
    let mut out: Vec<String> = conditions.iter().map(|c| format!("{c:?}")).collect();
    out.sort();
    out
}
