//! Personas and the customer rules that tie each one to real customers. The rule is data here; the
//! engine evaluates it against each customer's measured behaviour.

use crate::{BusinessId, PersonaId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Persona {
    pub id: PersonaId,
    pub business: BusinessId,
    pub name: String,
    /// A photo URL or data URI; the card shows initials when absent.
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

/// A rule over customers: every condition must hold.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CustomerRule {
    pub conditions: Vec<CustomerCondition>,
}
