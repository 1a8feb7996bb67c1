//! The events a map's referral touchpoints may credit to the customer who referred, kept beside a
//! business's data ([`crate::business_data::BusinessData`]) and brought up to date with it, so a
//! map's live numbers do not read the business's events again, with their properties, on every
//! answer after a write.
//!
//! What is kept: for one set of referral touchpoint rules, every event whose name those rules'
//! name conditions let through (a rule without one lets every name through; an empty rule none)
//! and that carries a `referral_code` property, with every column and its properties, in the
//! store's order. Those are all the events [`trailmap_analytics::stages::referrers`] can find a
//! referrer for, so it finds the same referrers in them as in all the business's events.
//!
//! - They are read the first time a map's numbers ask for them at a data version (one read of
//!   the named events with their properties, as the numbers did on every answer before), and
//!   kept only when the store is still at the version of the data they go with.
//! - After events are appended, the new rows (read with their properties for this) add theirs.
//! - Other rules (a touchpoint edited) read them again; a merge, an erasure or a compaction,
//!   after which the events are read again whole, drops them until they are asked for.
//!
//! Customers' `referral_code` properties, which name each code's owner, change in place without
//! a trace the store keeps (see `business_data`), so the owners are read on every answer (one
//! statement over the customers).

use std::collections::HashMap;
use trailmap_model::{CustomerId, EventField, EventRule, EventTable, StringId};

/// The customer property that names a customer's own referral code, and the event property that
/// cites the code of the customer who referred.
pub const REFERRAL_CODE: &str = "referral_code";

/// See the module.
#[derive(Debug, Clone)]
pub struct ReferralEvents {
    /// The referral rules the rows were chosen for.
    rules: Vec<EventRule>,
    /// The rows, with a dictionary of their own strings.
    table: EventTable,
    /// Each string of `table.strings` to its id, for appending.
    ids: HashMap<Box<str>, StringId>,
}

impl ReferralEvents {
    /// None kept yet for `rules`.
    pub fn new(rules: &[EventRule]) -> ReferralEvents {
        let table = EventTable { strings: vec!["".into()], properties: Some(Vec::new()), ..EventTable::default() };
        ReferralEvents { rules: rules.to_vec(), table, ids: HashMap::from([("".into(), 0)]) }
    }

    /// The rules these rows were chosen for.
    pub fn rules(&self) -> &[EventRule] {
        &self.rules
    }

    /// The kept events (every column, properties included).
    pub fn table(&self) -> &EventTable {
        &self.table
    }

    /// Whether an event named `name` could match one of the rules: each rule's name conditions
    /// alone (the whole rule is checked on the rows by the numbers).
    pub fn wants_name(&self, name: &str) -> bool {
        wants_name(&self.rules, name)
    }

    /// Appends the rows of `from` (read with their properties) that the rules' names let through
    /// and that carry a referral code; `string` gives the text of `from`'s string ids (which may
    /// index a dictionary larger than `from.strings`, as an appended load's do).
    pub fn extend(&mut self, from: &EventTable, string: &dyn Fn(StringId) -> String) {
        let Some(properties) = from.properties.as_ref() else { return };
        for row in 0..from.len() {
            let Some(json) = properties.get(row).and_then(|p| p.as_deref()) else { continue };
            let Some(customer) = from.customer.get(row) else { continue };
            if from.name.get(row).is_none_or(|&id| !self.wants_name(&string(id))) || !carries_code(json) {
                continue;
            }
            self.push(from, row, customer, json, string);
        }
    }

    fn push(&mut self, from: &EventTable, row: usize, customer: CustomerId, json: &str, string: &dyn Fn(StringId) -> String) {
        let mut intern = |id: StringId| -> StringId {
            if id == 0 {
                return 0;
            }
            let text = string(id);
            if let Some(&known) = self.ids.get(text.as_str()) {
                return known;
            }
            let new = StringId::try_from(self.table.strings.len()).unwrap_or(StringId::MAX);
            self.table.strings.push(text.clone().into_boxed_str());
            self.ids.insert(text.into_boxed_str(), new);
            new
        };
        let texts: Vec<StringId> = [&from.name, &from.channel, &from.source, &from.medium, &from.campaign, &from.referrer, &from.page, &from.currency]
            .into_iter()
            .map(|column| intern(column.get(row).copied().unwrap_or(0)))
            .collect();
        let t = &mut self.table;
        t.customer.push(customer);
        t.time.push(from.time[row]);
        for (column, id) in [&mut t.name, &mut t.channel, &mut t.source, &mut t.medium, &mut t.campaign, &mut t.referrer, &mut t.page, &mut t.currency].into_iter().zip(texts) {
            column.push(id);
        }
        t.revenue_minor.push(from.revenue_minor.get(row).copied().unwrap_or(0));
        t.properties.get_or_insert_with(Vec::new).push(Some(json.into()));
    }

    /// Whether both hold the same events for the same rules, each field as text (their
    /// dictionaries may number the strings apart), in the same order per customer and time.
    /// Rows of different customers may come in another order (a compaction regroups them by
    /// customer), which no answer reads: `referrers` keys its credit by customer and time.
    pub fn same_as(&self, other: &ReferralEvents) -> bool {
        let (a, b) = (&self.table, &other.table);
        let rows_of = |t: &EventTable| {
            let mut rows: Vec<_> = (0..t.len())
                .map(|row| {
                    let texts: Vec<&str> =
                        [&t.name, &t.channel, &t.source, &t.medium, &t.campaign, &t.referrer, &t.page, &t.currency].iter().map(|c| t.string(c[row])).collect();
                    (t.customer.get(row), t.time[row], texts.join("\u{1f}"), t.revenue_minor[row], t.properties.as_ref().and_then(|p| p[row].clone()))
                })
                .collect();
            // Stable: a customer's events at the same instant keep their order.
            rows.sort_by_key(|row| (row.0, row.1));
            rows
        };
        self.rules == other.rules && a.len() == b.len() && rows_of(a) == rows_of(b)
    }
}

/// See [`ReferralEvents::wants_name`].
pub fn wants_name(rules: &[EventRule], name: &str) -> bool {
    rules.iter().any(|r| !r.conditions.is_empty() && r.conditions.iter().filter(|c| c.field == EventField::Name).all(|c| c.op.test(Some(name)) != c.negate))
}

/// Whether an event's properties (JSON text) hold a referral code: the key at the top level,
/// whatever its value, as [`EventTable::field`] reads it.
fn carries_code(json: &str) -> bool {
    json.contains(REFERRAL_CODE)
        && serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json).is_ok_and(|p| p.contains_key(REFERRAL_CODE))
}
