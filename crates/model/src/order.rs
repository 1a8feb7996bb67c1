//! Orders and their lines: what a customer bought, online or at the till. Importing an order also
//! records a `purchase` event carrying its total, so the engine sees one stream of events.

use crate::{BusinessId, Currency, CustomerId, Money, OrderId, Properties, Timestamp};
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

/// A business's orders as the analyses read them: one vector per field, in (time, id) order,
/// each order on the customer it belongs to now. What the dashboard, insights, customer value
/// and map numbers need of an order; the whole [`Order`] (lines, status, properties) is read
/// where a page shows one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderTable {
    pub id: Vec<OrderId>,
    pub customer: Vec<CustomerId>,
    /// Milliseconds since the epoch.
    pub time: Vec<i64>,
    pub currency: Vec<Currency>,
    /// The total in minor units of the order's currency.
    pub total_minor: Vec<i64>,
}

impl OrderTable {
    pub fn len(&self) -> usize {
        self.id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.id.is_empty()
    }

    /// An empty table with room for `orders` orders, so a read of known size fills it without
    /// growing (and copying) its vectors.
    pub fn with_capacity(orders: usize) -> OrderTable {
        OrderTable {
            id: Vec::with_capacity(orders),
            customer: Vec::with_capacity(orders),
            time: Vec::with_capacity(orders),
            currency: Vec::with_capacity(orders),
            total_minor: Vec::with_capacity(orders),
        }
    }

    /// Appends one order (the caller keeps the (time, id) order).
    pub fn push(&mut self, id: OrderId, customer: CustomerId, time: i64, total: Money) {
        self.id.push(id);
        self.customer.push(customer);
        self.time.push(time);
        self.currency.push(total.currency);
        self.total_minor.push(total.minor);
    }

    /// Order `row`'s total.
    pub fn total(&self, row: usize) -> Money {
        Money::new(self.total_minor[row], self.currency[row])
    }

    /// The first and last order time, if there is an order.
    pub fn span(&self) -> Option<(i64, i64)> {
        let first = self.time.iter().copied().min()?;
        Some((first, self.time.iter().copied().max().unwrap_or(first)))
    }

    /// These orders with `more` merged in, both in (time, id) order: the table a fresh read of
    /// all of them would give.
    pub fn merged_with(self, more: OrderTable) -> OrderTable {
        if more.is_empty() {
            return self;
        }
        if self.is_empty() {
            return more;
        }
        let key = |t: &OrderTable, row: usize| (t.time[row], t.id[row]);
        let mut out = OrderTable::default();
        let (mut a, mut b) = (0, 0);
        while a < self.len() || b < more.len() {
            let from_self = b >= more.len() || (a < self.len() && key(&self, a) <= key(&more, b));
            let (table, row) = if from_self { (&self, a) } else { (&more, b) };
            out.push(table.id[row], table.customer[row], table.time[row], table.total(row));
            if from_self { a += 1 } else { b += 1 }
        }
        out
    }

    /// Puts every order of a customer merged into another on the customer it became.
    pub fn remap_customers(&mut self, current: &dyn Fn(CustomerId) -> CustomerId) {
        self.customer.iter_mut().for_each(|c| *c = current(*c));
    }
}
