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

/// Which columns to load, one by one, for queries that read few of them: a funnel over event names
/// needs the customer, the time and the name only, and loading nothing else keeps it at 20 bytes a
/// row instead of 60. The customer and the time are always loaded; a column not selected is an
/// empty vector in the [`EventTable`], so a query must select every field it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSelection {
    pub name: bool,
    pub channel: bool,
    pub source: bool,
    pub medium: bool,
    pub campaign: bool,
    pub referrer: bool,
    pub page: bool,
    /// Revenue and its currency.
    pub revenue: bool,
    pub properties: bool,
}

impl EventSelection {
    /// The customer and the time only.
    pub const NONE: EventSelection = EventSelection {
        name: false,
        channel: false,
        source: false,
        medium: false,
        campaign: false,
        referrer: false,
        page: false,
        revenue: false,
        properties: false,
    };

    /// Every column but the properties, as [`EventColumns::default`] loads.
    pub const ALL_BUT_PROPERTIES: EventSelection = EventSelection {
        name: true,
        channel: true,
        source: true,
        medium: true,
        campaign: true,
        referrer: true,
        page: true,
        revenue: true,
        properties: false,
    };

    /// This selection plus the column that holds `field` (the properties for a property).
    pub fn with(mut self, field: &EventField) -> EventSelection {
        match field {
            EventField::Name => self.name = true,
            EventField::Channel => self.channel = true,
            EventField::Source => self.source = true,
            EventField::Medium => self.medium = true,
            EventField::Campaign => self.campaign = true,
            EventField::Referrer => self.referrer = true,
            EventField::Page => self.page = true,
            EventField::Property(_) => self.properties = true,
        }
        self
    }
}

impl From<EventColumns> for EventSelection {
    fn from(columns: EventColumns) -> EventSelection {
        EventSelection { properties: columns.properties, ..EventSelection::ALL_BUT_PROPERTIES }
    }
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
    /// recorded order): the order every per-customer pass of the engine wants. Columns that were
    /// not loaded (empty) stay empty.
    pub fn sort_by_customer_time(&mut self) {
        // Sorting compact keys is several times faster than sorting indices whose comparisons
        // jump around two columns.
        let rows = self.len();
        let mut keys: Vec<(i64, i64, u32)> = (0..rows).map(|i| (self.customer[i].0, self.time[i], i as u32)).collect();
        keys.sort_unstable();
        let order: Vec<u32> = keys.into_iter().map(|(_, _, i)| i).collect();
        fn permute<T: Clone>(column: &mut Vec<T>, order: &[u32]) {
            if column.len() == order.len() {
                *column = order.iter().map(|&i| column[i as usize].clone()).collect();
            }
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

    /// Bytes held by the loaded columns and the dictionary (capacity, not length), for memory
    /// reports; the heap behind each string counts its text only.
    pub fn heap_bytes(&self) -> usize {
        fn bytes<T>(column: &Vec<T>) -> usize {
            column.capacity() * std::mem::size_of::<T>()
        }
        let strings: usize = self.strings.iter().map(|s| s.len()).sum::<usize>() + bytes(&self.strings);
        let properties = self
            .properties
            .as_ref()
            .map_or(0, |p| bytes(p) + p.iter().map(|s| s.as_ref().map_or(0, |s| s.len())).sum::<usize>());
        strings
            + bytes(&self.customer)
            + bytes(&self.time)
            + bytes(&self.name)
            + bytes(&self.channel)
            + bytes(&self.source)
            + bytes(&self.medium)
            + bytes(&self.campaign)
            + bytes(&self.referrer)
            + bytes(&self.page)
            + bytes(&self.revenue_minor)
            + bytes(&self.currency)
            + properties
    }
}
