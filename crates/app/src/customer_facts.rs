//! What a persona's segment rule tests, measured once for every customer of a business: the
//! channel and source of their first event, their orders, revenue and days since the last order,
//! and their properties (traits). Persona coverage, the live count of a rule being written, and
//! every persona breakdown (funnels, map numbers, feedback, customer value) read these facts and
//! one assignment rule, so they always agree.
//!
//! - The customers are every customer of the business not merged into another, with events or
//!   without (a customer imported with traits but no visit yet can match `property:` rules).
//! - "Now", for days since the last order, is the day after the business's last event or order
//!   (UTC days, as the customer-value models count them); a business with neither has no "now".
//! - Orders count whatever their currency; revenue adds only orders in the business's currency
//!   (others are not converted), in major units, as the business summary does. An order stored
//!   before its buyer was merged into another customer counts for the customer it belongs to now.
//! - Overlaps: a customer belongs to the first persona, in the order the personas were created,
//!   whose rule they match ([`PRECEDENCE`]). A persona's rule may match more customers than it
//!   covers; the rest count for earlier personas.

use crate::{App, Result};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use trailmap_model::{Business, CustomerField, CustomerId, CustomerRule, EventColumns, Properties, Timestamp};
use trailmap_store::Store;

const DAY_MS: i64 = 86_400_000;

/// How overlapping personas are resolved, in the words the page, the API and the CLI show.
pub const PRECEDENCE: &str = "Each customer counts for one persona: the first, in the order the personas were created, whose segment rule they match. A rule that also matches customers of an earlier persona covers fewer customers than it matches.";

/// One customer as the segment rules see them.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerFact {
    pub customer: CustomerId,
    /// The channel of the first event ("(none)" when it had none); None without events.
    pub first_channel: Option<String>,
    /// The source of the first event; None without events or source.
    pub first_source: Option<String>,
    pub orders: u64,
    /// Revenue of the orders in the business's currency, in major units.
    pub revenue: f64,
    /// Whole days from the last order's day to "now"'s; None without orders.
    pub days_since_last_order: Option<i64>,
    pub properties: Properties,
}

impl CustomerFact {
    /// The value a rule's condition on `field` compares, as text: numbers in Rust's shortest
    /// form ("12.5"), the way a rule's number values are kept, so `revenue=12.5` finds them.
    pub fn field(&self, field: &CustomerField) -> Option<Cow<'_, str>> {
        Some(match field {
            CustomerField::FirstChannel => self.first_channel.as_deref()?.into(),
            CustomerField::FirstSource => self.first_source.as_deref()?.into(),
            CustomerField::Orders => self.orders.to_string().into(),
            // Sums of cents in binary floating point drift in the last digits (0.1 + 0.2); a
            // millionth of a unit is finer than any currency.
            CustomerField::Revenue => ((self.revenue * 1e6).round() / 1e6).to_string().into(),
            CustomerField::DaysSinceLastOrder => self.days_since_last_order?.to_string().into(),
            CustomerField::Property(key) => match self.properties.get(key)? {
                serde_json::Value::String(s) => s.as_str().into(),
                serde_json::Value::Null => return None,
                other => other.to_string().into(),
            },
        })
    }

    pub fn matches(&self, rule: &CustomerRule) -> bool {
        rule.matches_with(|field| self.field(field))
    }
}

/// Every customer's facts, in customer id order, with the "now" they were measured at.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerFacts {
    /// The day after the last event or order; None for a business with neither.
    pub now: Option<Timestamp>,
    pub facts: Vec<CustomerFact>,
}

impl CustomerFacts {
    /// How many customers there are: the n every persona count is out of.
    pub fn len(&self) -> usize {
        self.facts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }

    /// The customers `rule` matches, on its own.
    pub fn matching(&self, rule: &CustomerRule) -> Vec<CustomerId> {
        self.facts.iter().filter(|f| f.matches(rule)).map(|f| f.customer).collect()
    }

    /// Each customer's persona as an index into `rules` (the personas in creation order; None
    /// for one without a rule): the first whose rule they match, None when none does. In the
    /// order of `facts`.
    pub fn assign(&self, rules: &[Option<&CustomerRule>]) -> Vec<Option<usize>> {
        self.facts.iter().map(|f| rules.iter().position(|r| r.is_some_and(|r| f.matches(r)))).collect()
    }
}

impl App {
    /// Measures every customer of the business for the segment rules (see the module).
    pub fn customer_facts(&self, business: &Business) -> Result<CustomerFacts> {
        let journeys = self.journeys(business.id, EventColumns::default())?;
        let table = journeys.table();
        let mut facts: BTreeMap<CustomerId, CustomerFact> = BTreeMap::new();
        let blank = |customer| CustomerFact {
            customer,
            first_channel: None,
            first_source: None,
            orders: 0,
            revenue: 0.0,
            days_since_last_order: None,
            properties: Properties::new(),
        };
        for customer in self.store().customers(business.id, usize::MAX, 0)? {
            facts.insert(customer.id, CustomerFact { properties: customer.properties, ..blank(customer.id) });
        }
        for journey in journeys.iter() {
            let first = journey.rows.start;
            let channel = table.string(table.channel[first]);
            let source = table.string(table.source[first]);
            let fact = facts.entry(journey.customer).or_insert_with(|| blank(journey.customer));
            fact.first_channel = Some(if channel.is_empty() { "(none)".to_string() } else { channel.to_string() });
            fact.first_source = (!source.is_empty()).then(|| source.to_string());
        }
        // The kept orders, each on the customer it belongs to now.
        let data = self.business_data(business.id)?;
        let orders = data.orders();
        let last_event = table.time.iter().copied().max();
        let last_order = orders.span().map(|(_, last)| last);
        let now = last_event.max(last_order).map(|last| Timestamp((last.div_euclid(DAY_MS) + 1) * DAY_MS));
        let mut last_orders: HashMap<CustomerId, i64> = HashMap::new();
        for row in 0..orders.len() {
            let (customer, time) = (orders.customer[row], orders.time[row]);
            let fact = facts.entry(customer).or_insert_with(|| blank(customer));
            fact.orders += 1;
            if orders.currency[row] == business.currency {
                fact.revenue += orders.total(row).major();
            }
            let last = last_orders.entry(customer).or_insert(time);
            *last = (*last).max(time);
        }
        if let Some(now) = now {
            let today = now.millis().div_euclid(DAY_MS);
            for (customer, last) in last_orders {
                if let Some(fact) = facts.get_mut(&customer) {
                    fact.days_since_last_order = Some(today - last.div_euclid(DAY_MS));
                }
            }
        }
        Ok(CustomerFacts { now, facts: facts.into_values().collect() })
    }

    /// Each customer's persona by name (see [`PRECEDENCE`]); "(no persona)" for the rest. What
    /// the persona breakdowns group by.
    pub(crate) fn persona_labels(&self, business: &Business) -> Result<BTreeMap<CustomerId, String>> {
        let personas = self.store().personas(business.id)?;
        let facts = self.customer_facts(business)?;
        let rules: Vec<Option<&CustomerRule>> = personas.iter().map(|p| p.segment.as_ref()).collect();
        Ok(facts
            .facts
            .iter()
            .zip(facts.assign(&rules))
            .map(|(fact, persona)| (fact.customer, persona.map_or_else(|| "(no persona)".to_string(), |k| personas[k].name.clone())))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(orders: u64, revenue: f64, channel: &str) -> CustomerFact {
        let mut properties = Properties::new();
        properties.insert("age".into(), serde_json::json!(31));
        properties.insert("plan".into(), serde_json::json!("Pro"));
        properties.insert("gone".into(), serde_json::Value::Null);
        CustomerFact {
            customer: CustomerId(orders as i64),
            first_channel: Some(channel.into()),
            first_source: None,
            orders,
            revenue,
            days_since_last_order: (orders > 0).then_some(3),
            properties,
        }
    }

    #[test]
    fn fields_read_as_rules_write_them() {
        let rule = |text: &str| CustomerRule::parse(text).unwrap();
        let f = fact(2, 0.1 + 0.2, "Referral");
        assert!(f.matches(&rule("orders=2 & revenue=0.3 & first_channel=referral")));
        assert!(f.matches(&rule("property:age>=31 & property:plan=pro & days_since_last_order<=3")));
        assert!(!f.matches(&rule("first_source exists")));
        assert!(f.matches(&rule("!property:gone exists")), "a null property is no property");
        assert!(!fact(0, 0.0, "Direct").matches(&rule("days_since_last_order>=0")));
    }

    #[test]
    fn each_customer_goes_to_the_first_persona_that_matches() {
        let facts = CustomerFacts { now: None, facts: vec![fact(1, 5.0, "Email"), fact(3, 50.0, "Referral"), fact(5, 90.0, "Email")] };
        let (a, b) = (CustomerRule::parse("orders>=3").unwrap(), CustomerRule::parse("first_channel=Email").unwrap());
        assert_eq!(facts.assign(&[None, Some(&a), Some(&b)]), vec![Some(2), Some(1), Some(1)]);
        assert_eq!(facts.assign(&[Some(&b), Some(&a)]), vec![Some(0), Some(1), Some(0)]);
        assert_eq!(facts.matching(&b), vec![CustomerId(1), CustomerId(5)]);
    }
}
