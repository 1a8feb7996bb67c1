//! The columnar form of a business's events, as the analytics engine reads them: one vector per
//! field, text interned as [`StringId`]s into one dictionary, each row already resolved to its
//! customer. The store builds it; the engine only reads it.

use crate::{CustomerId, EventField, EventRule};
use std::borrow::Cow;

/// An index into [`EventTable::strings`]; 0 is the empty string and means "absent".
pub type StringId = u32;

/// Which optional columns to load. Properties are JSON text per event and cost more to load than
/// everything else together, so they come only when asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventColumns {
    pub properties: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventTable {
    /// The dictionary; `strings[0]` is "".
    pub strings: Vec<Box<str>>,
    pub customer: Vec<CustomerId>,
    /// Milliseconds since the epoch.
    pub time: Vec<i64>,
    pub name: Vec<StringId>,
    pub channel: Vec<StringId>,
    pub source: Vec<StringId>,
    pub medium: Vec<StringId>,
    pub campaign: Vec<StringId>,
    pub referrer: Vec<StringId>,
    pub page: Vec<StringId>,
    /// Revenue in minor units; 0 with currency 0 means none.
    pub revenue_minor: Vec<i64>,
    pub currency: Vec<StringId>,
    /// Properties as JSON text, present when loaded with [`EventColumns::properties`].
    pub properties: Option<Vec<Option<Box<str>>>>,
}

impl EventTable {
    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    pub fn string(&self, id: StringId) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    /// The id of a string, if any event uses it. A linear scan: call once per query, not per row.
    pub fn find_string(&self, text: &str) -> Option<StringId> {
        self.strings.iter().position(|s| &**s == text).map(|i| i as StringId)
    }

    /// The dictionary column holding `field`; None for a property, which is JSON per row.
    pub fn text_column(&self, field: &EventField) -> Option<&[StringId]> {
        Some(match field {
            EventField::Name => &self.name,
            EventField::Channel => &self.channel,
            EventField::Source => &self.source,
            EventField::Medium => &self.medium,
            EventField::Campaign => &self.campaign,
            EventField::Referrer => &self.referrer,
            EventField::Page => &self.page,
            EventField::Property(_) => return None,
        })
    }

    /// One field of row `row` as text, for rule matching.
    pub fn field(&self, row: usize, field: &EventField) -> Option<Cow<'_, str>> {
        if let Some(column) = self.text_column(field) {
            let id = column[row];
            return (id != 0).then(|| Cow::Borrowed(self.string(id)));
        }
        let EventField::Property(key) = field else { return None };
        let json = self.properties.as_ref()?.get(row)?.as_deref()?;
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        value.get(key).map(|v| match v {
            serde_json::Value::String(s) => Cow::Owned(s.clone()),
            other => Cow::Owned(other.to_string()),
        })
    }

    pub fn matches(&self, row: usize, rule: &EventRule) -> bool {
        rule.matches_with(|field| self.field(row, field))
    }

    /// Reorders the rows by customer, then time, then original position (so ties keep their
    /// recorded order): the order every per-customer pass of the engine wants.
    pub fn sort_by_customer_time(&mut self) {
        // Sorting compact keys is several times faster than sorting indices whose comparisons
        // jump around two columns.
        let mut keys: Vec<(i64, i64, u32)> = (0..self.len())
            .map(|i| (self.customer[i].0, self.time[i], i as u32))
            .collect();
        keys.sort_unstable();
        let order: Vec<u32> = keys.into_iter().map(|(_, _, i)| i).collect();
        fn permute<T: Clone>(column: &mut Vec<T>, order: &[u32]) {
            *column = order.iter().map(|&i| column[i as usize].clone()).collect();
        }
        permute(&mut self.customer, &order);
        permute(&mut self.time, &order);
        permute(&mut self.name, &order);
        permute(&mut self.channel, &order);
        permute(&mut self.source, &order);
        permute(&mut self.medium, &order);
        permute(&mut self.campaign, &order);
        permute(&mut self.referrer, &order);
        permute(&mut self.page, &order);
        permute(&mut self.revenue_minor, &order);
        permute(&mut self.currency, &order);
        if let Some(properties) = self.properties.as_mut() {
            permute(properties, &order);
        }
    }
}
