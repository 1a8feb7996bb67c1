//! Orders and their lines: what a customer bought, online or at the till. Importing an order also
//! records a `purchase` event carrying its total, so the engine sees one stream of events.

use crate::{BusinessId, CustomerId, Money, OrderId, Properties, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub business: BusinessId,
    /// The order number in the business's own system (Shopify's `Name`, Stripe's charge id).
    pub external_id: String,
    /// Whose numbering `external_id` follows (`shopify`, `stripe`; empty for the business's own).
    #[serde(default)]
    pub origin: String,
    pub customer: CustomerId,
    pub time: Timestamp,
    /// What the customer paid in total, shipping and tax included, discounts taken off.
    pub total: Money,
    pub subtotal: Option<Money>,
    pub shipping: Option<Money>,
    pub tax: Option<Money>,
    pub discount: Option<Money>,
    /// Paid, refunded, pending... as the source system says.
    pub status: Option<String>,
    /// Where it was bought: `online`, `in-store`, `phone`.
    pub channel: Option<String>,
    pub source: Option<String>,
    pub lines: Vec<OrderLine>,
    pub properties: Properties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: Option<String>,
    pub name: String,
    pub quantity: i64,
    pub unit_price: Money,
}
