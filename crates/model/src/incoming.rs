//! Records on their way in: what an import, the tracking API or the demo generator hands to the
//! store before it has ids. Each names its customer by identities; the store resolves them to one
//! customer, creating or merging customers as needed.

use crate::{Event, FeedbackKind, Identity, Money, OrderLine, Properties, Timestamp};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An event and every identity its row carried. `event.identity` is the most trusted of them (an
/// external id, then an email, then an anonymous id); the others are linked to the same customer,
/// which is how an anonymous visitor who later identifies becomes one customer with one history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingEvent {
    pub event: Event,
    pub also_known_as: Vec<Identity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingCustomer {
    /// At least one identity; all of them end up on the same customer.
    pub identities: Vec<Identity>,
    pub name: Option<String>,
    pub first_seen: Option<Timestamp>,
    pub properties: Properties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingOrder {
    pub external_id: String,
    /// Whose numbering `external_id` follows: `shopify` and `stripe` for their exports, empty for
    /// the business's own (a generic file, the till, the demo). Order numbers are unique per
    /// business and origin, so Shopify's `#1001` and the till's `#1001` are two orders.
    #[serde(default)]
    pub origin: String,
    pub customer: Vec<Identity>,
    pub time: Timestamp,
    pub total: Money,
    pub subtotal: Option<Money>,
    pub shipping: Option<Money>,
    pub tax: Option<Money>,
    pub discount: Option<Money>,
    pub status: Option<String>,
    /// `online`, `in-store`, `phone`...
    pub channel: Option<String>,
    pub source: Option<String>,
    pub lines: Vec<OrderLine>,
    pub properties: Properties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingSpend {
    pub channel: String,
    pub source: Option<String>,
    pub campaign: Option<String>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingFeedback {
    pub kind: FeedbackKind,
    pub source: String,
    pub external_id: Option<String>,
    /// Empty when the author is not a known customer (most public reviews).
    pub customer: Vec<Identity>,
    pub author: Option<String>,
    pub time: Timestamp,
    pub rating: Option<f32>,
    pub text: String,
    pub link: Option<String>,
    /// A touchpoint by name, resolved by the store when it exists.
    pub touchpoint: Option<String>,
    pub tags: Vec<String>,
}

/// A survey response on its way in; the respondent, when known, by identities (hidden fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingResponse {
    pub survey: crate::SurveyId,
    pub customer: Vec<Identity>,
    pub submitted_at: Timestamp,
    pub hidden: std::collections::BTreeMap<String, String>,
    pub answers: Vec<crate::Answer>,
}
