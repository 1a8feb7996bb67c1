//! Personas and the customer rules that tie each one to real customers. The rule is data here (its
//! text form is in `persona_rule`); the app measures each customer and the rule compares.

use crate::{BusinessId, PersonaId};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Persona {
    pub id: PersonaId,
    pub business: BusinessId,
    pub name: String,
    /// Up to three letters or digits the card shows when there is no photo; None: taken from the
    /// name (see [`initials_of`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initials: Option<String>,
    /// A small uploaded photo as a `data:image/png|jpeg|webp;base64,...` URI, checked by the app
    /// (type by its first bytes, size limited) before it is stored; never a link elsewhere.
    pub photo: Option<String>,
    /// Age band, occupation, location... as label and value pairs, in the order shown.
    pub demographics: Vec<(String, String)>,
    pub goals: Vec<String>,
    pub frustrations: Vec<String>,
    pub behaviours: Vec<String>,
    pub quote: Option<String>,
    /// Which customers this persona stands for; None for a persona not yet tied to data.
    pub segment: Option<CustomerRule>,
}

impl Persona {
    /// The initials the card shows: the ones given, or those of the name.
    pub fn shown_initials(&self) -> String {
        self.initials.clone().filter(|i| !i.trim().is_empty()).unwrap_or_else(|| initials_of(&self.name))
    }
}

/// The initials of a name: the first letter or digit of each of its first two words that has one,
/// upper-cased ("Weekend brunch crowd" -> "WB", "ann" -> "A").
pub fn initials_of(name: &str) -> String {
    name.split_whitespace().filter_map(|w| w.chars().find(|c| c.is_alphanumeric())).take(2).flat_map(char::to_uppercase).collect()
}

/// A measured or recorded attribute of a customer a segment rule can test.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerField {
    /// The channel of the customer's first event.
    FirstChannel,
    /// The source of the customer's first event.
    FirstSource,
    /// Number of orders.
    Orders,
    /// Total revenue in major units.
    Revenue,
    /// Days since the last order.
    DaysSinceLastOrder,
    /// A customer property (trait) by key.
    Property(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerCondition {
    pub field: CustomerField,
    #[serde(flatten)]
    pub op: crate::Op,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negate: bool,
}

/// A rule over customers: every condition must hold. An empty rule matches nobody, as an empty
/// event rule matches no event.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CustomerRule {
    pub conditions: Vec<CustomerCondition>,
}

impl CustomerRule {
    /// Tests the rule with an accessor giving each field's value as text (numbers as decimal
    /// text); the caller measures the customer, the rule only compares.
    pub fn matches_with<'a>(&self, get: impl Fn(&CustomerField) -> Option<Cow<'a, str>>) -> bool {
        !self.conditions.is_empty()
            && self.conditions.iter().all(|c| c.op.test(get(&c.field).as_deref()) != c.negate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Op;

    #[test]
    fn initials_come_from_the_first_two_words_unless_given() {
        assert_eq!(initials_of("Weekend brunch crowd"), "WB");
        assert_eq!(initials_of("  ann "), "A");
        assert_eq!(initials_of("(the) éclair fans"), "TÉ");
        assert_eq!(initials_of(""), "");
        let json = r#"{"id":1,"business":1,"name":"Morning regulars","photo":null,"demographics":[],"goals":[],
            "frustrations":[],"behaviours":[],"quote":null,"segment":null}"#;
        let mut persona: Persona = serde_json::from_str(json).unwrap();
        assert_eq!((persona.initials.as_deref(), persona.shown_initials().as_str()), (None, "MR"));
        persona.initials = Some("Mo".into());
        assert_eq!(persona.shown_initials(), "Mo");
    }

    #[test]
    fn every_condition_must_hold_and_numbers_compare_as_numbers() {
        let rule = CustomerRule {
            conditions: vec![
                CustomerCondition { field: CustomerField::FirstChannel, op: Op::Equals("referral".into()), negate: false },
                CustomerCondition { field: CustomerField::Orders, op: Op::GreaterThan(10.0), negate: false },
                CustomerCondition { field: CustomerField::Property("city".into()), op: Op::Equals("Leeds".into()), negate: true },
            ],
        };
        let customer = |channel: &'static str, orders: &'static str, city: Option<&'static str>| {
            move |field: &CustomerField| -> Option<Cow<'static, str>> {
                match field {
                    CustomerField::FirstChannel => Some(Cow::Borrowed(channel)),
                    CustomerField::Orders => Some(Cow::Borrowed(orders)),
                    CustomerField::Property(_) => city.map(Cow::Borrowed),
                    _ => None,
                }
            }
        };
        assert!(rule.matches_with(customer("Referral", "12", Some("York"))));
        assert!(rule.matches_with(customer("Referral", "12", None)));
        assert!(!rule.matches_with(customer("Referral", "12", Some("Leeds"))));
        assert!(!rule.matches_with(customer("Referral", "9", None)));
        assert!(!rule.matches_with(customer("Paid Social", "40", None)));
        assert!(!CustomerRule::default().matches_with(customer("Referral", "12", None)));
    }
}
