//! The onboarding checklist of a business made from zero: what to do first, each step done by
//! itself as the data arrives, so an empty dashboard says what to do instead of showing empty
//! numbers.
//!
//! The steps and when each is done:
//! 1. `website`: the business has events: sent by its website or app through a write key (the
//!    checklist then says when the last one arrived) or imported.
//! 2. `import`: orders or customers came in: the business has orders, or an import of orders or
//!    customers landed (customers made by tracking visitors do not count).
//! 3. `touchpoints`: the business has at least one touchpoint.
//! 4. `map`: the business has at least one journey map.
//! 5. `invite`: the business has more than one member. Optional: a business run by one person
//!    is normal, so this step never keeps the checklist up by itself.
//!
//! The dashboard shows the checklist while one of the first four steps is not done and nobody has
//! hidden it; when they are all done it shows the usual numbers, with a link that opens the
//! checklist again. The demo businesses have data for all four, so they never get it.

use crate::{App, Result};
use serde::Serialize;
use trailmap_model::{Business, Timestamp};
use trailmap_store::{AccountStore, SettingsStore, Store};

/// One step of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnboardingStep {
    /// `website`, `import`, `touchpoints`, `map` or `invite`.
    pub key: &'static str,
    pub title: &'static str,
    pub done: bool,
    /// A step that does not keep the checklist up (inviting a colleague).
    pub optional: bool,
    /// Where the step stands, in a sentence with its figure ("3 touchpoints").
    pub status: String,
}

/// The checklist of a business and the figures behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Onboarding {
    pub steps: Vec<OnboardingStep>,
    /// Steps done, of all steps.
    pub done: usize,
    pub total: usize,
    /// Whether the dashboard shows the checklist by itself: a required step is not done and the
    /// checklist is not hidden.
    pub shown: bool,
    /// When a member hid the checklist, if one did.
    pub hidden_at: Option<Timestamp>,
    /// The business has no events, orders or survey answers yet: the dashboard has no numbers.
    pub empty: bool,
    /// Write keys not revoked.
    pub live_write_keys: usize,
    /// When the last message arrived through one of the business's write keys.
    pub last_event_at: Option<Timestamp>,
    pub events: u64,
    pub orders: u64,
    /// Imports of orders or customers that landed.
    pub order_or_customer_imports: u64,
    pub touchpoints: u64,
    pub maps: u64,
    pub members: u64,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl App {
    /// The business's onboarding checklist as it stands now.
    pub fn onboarding(&self, business: &Business) -> Result<Onboarding> {
        let summary = self.store().summary(business.id)?;
        let keys = self.store().write_keys(business.id)?;
        let live_write_keys = keys.iter().filter(|k| k.is_live()).count();
        // A revoked key's last use still says when the website last sent something.
        let last_event_at = keys.iter().filter_map(|k| k.last_used).max();
        let order_or_customer_imports: u64 =
            self.store().import_counts(business.id)?.iter().filter(|(kind, _)| kind == "orders" || kind == "customers").map(|(_, n)| n).sum();
        let members = self.store().members(business.id)?.len() as u64;
        let hidden_at = self.store().checklist_hidden(business.id)?;

        let website_status = match (last_event_at, summary.events) {
            (Some(_), n) => format!("{} in all; the website is sending", plural(n, "event", "events")),
            (None, 0) if live_write_keys > 0 => "Waiting for the first event".to_string(),
            (None, 0) => "No write key yet".to_string(),
            (None, n) => format!("{} imported; connect the website to keep them coming", plural(n, "event", "events")),
        };
        let imported = summary.orders > 0 || order_or_customer_imports > 0;
        let steps = vec![
            OnboardingStep { key: "website", title: "Connect your website", done: summary.events > 0, optional: false, status: website_status },
            OnboardingStep {
                key: "import",
                title: "Import orders or customers",
                done: imported,
                optional: false,
                status: match (summary.orders, order_or_customer_imports) {
                    (0, 0) => "No orders or customers imported yet".to_string(),
                    (0, n) => plural(n, "import of customers", "imports of customers"),
                    (n, _) => plural(n, "order", "orders"),
                },
            },
            OnboardingStep {
                key: "touchpoints",
                title: "Accept suggested touchpoints",
                done: summary.touchpoints > 0,
                optional: false,
                status: plural(summary.touchpoints, "touchpoint", "touchpoints"),
            },
            OnboardingStep {
                key: "map",
                title: "Start a map from a template",
                done: summary.maps > 0,
                optional: false,
                status: plural(summary.maps, "journey map", "journey maps"),
            },
            OnboardingStep {
                key: "invite",
                title: "Invite a colleague",
                done: members > 1,
                optional: true,
                status: plural(members, "member", "members"),
            },
        ];
        let required_done = steps.iter().filter(|s| !s.optional).all(|s| s.done);
        Ok(Onboarding {
            done: steps.iter().filter(|s| s.done).count(),
            total: steps.len(),
            shown: hidden_at.is_none() && !required_done,
            hidden_at,
            empty: summary.events == 0 && summary.orders == 0 && summary.responses == 0,
            steps,
            live_write_keys,
            last_event_at,
            events: summary.events,
            orders: summary.orders,
            order_or_customer_imports,
            touchpoints: summary.touchpoints,
            maps: summary.maps,
            members,
        })
    }

    /// Hides the business's checklist from its dashboard (`at`), or shows it again (None).
    pub fn set_checklist_hidden(&mut self, business: &Business, at: Option<Timestamp>) -> Result<()> {
        self.store_mut().set_checklist_hidden(business.id, at).map_err(crate::accounts::classify)
    }
}
