//! The columnar form of a business's events, as the analytics engine reads them: one vector per
//! field, text interned as [`StringId`]s into one dictionary, each row already resolved to its
//! customer. The store builds it; the engine only reads it. The customer column is a 4-byte index
//! per row into the table's distinct customers ([`CustomerColumn`]).

use crate::{CustomerId, EventField, EventRule};
use std::borrow::Cow;
use std::collections::HashMap;

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

    /// Whether each dictionary column is selected, in the order of [`ColumnsMut::texts`]; the
    /// currency goes with the revenue.
    pub fn texts(&self) -> [bool; 8] {
        [self.name, self.channel, self.source, self.medium, self.campaign, self.referrer, self.page, self.revenue]
    }

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
    pub customer: CustomerColumn,
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

/// Every row-aligned column of a table but the customer, borrowed at once, so code that moves
/// or appends rows treats them alike and a new column is added in one place.
#[derive(Debug)]
pub struct ColumnsMut<'a> {
    /// The 8-byte columns: time and revenue.
    pub numbers: [&'a mut Vec<i64>; 2],
    /// The dictionary columns in a fixed order, the order the store writes them: name, channel,
    /// source, medium, campaign, referrer, page, currency.
    pub texts: [&'a mut Vec<StringId>; 8],
    pub properties: Option<&'a mut Vec<Option<Box<str>>>>,
}

impl EventTable {
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Every column but the customer, borrowed at once (see [`ColumnsMut`]).
    pub fn columns_mut(&mut self) -> ColumnsMut<'_> {
        ColumnsMut {
            numbers: [&mut self.time, &mut self.revenue_minor],
            texts: [
                &mut self.name,
                &mut self.channel,
                &mut self.source,
                &mut self.medium,
                &mut self.campaign,
                &mut self.referrer,
                &mut self.page,
                &mut self.currency,
            ],
            properties: self.properties.as_mut(),
        }
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
        self.customer.reorder(&order);
        let columns = self.columns_mut();
        columns.numbers.into_iter().for_each(|c| permute(c, &order));
        columns.texts.into_iter().for_each(|c| permute(c, &order));
        if let Some(properties) = columns.properties {
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
            + self.customer.heap_bytes()
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

/// The customer of every row, held as a 4-byte index into the table's distinct customers instead
/// of an 8-byte id per row: with the time (8 bytes) and the name (4 bytes) a funnel's table is 16
/// bytes a row instead of 20. It reads like a `Vec<CustomerId>` (`column[row]`, `iter`, `push`,
/// `len`), so code that builds or reads tables row by row does not see the difference.
#[derive(Debug, Clone, Default)]
pub struct CustomerColumn {
    /// The distinct customers, in the order they were first pushed (or as [`Self::from_parts`] set them).
    ids: Vec<CustomerId>,
    /// Per row, an index into `ids`.
    rows: Vec<u32>,
    /// For `push`: `dense[id] = index + 1` for small non-negative ids (store ids are row ids, so
    /// dense), 0 for ids not seen; built lazily, as tables grouped by the engine are never pushed to.
    dense: Vec<u32>,
    /// For `push`: the ids too large or negative for `dense`, as hand-made tables have.
    sparse: HashMap<CustomerId, u32>,
    /// How many of `ids` are entered in `dense` or `sparse`.
    indexed: usize,
}

/// Ids below this always use the dense lookup; above it, only while the lookup stays within a few
/// entries per row, so a table of far-apart ids cannot make the lookup larger than the column.
const DENSE_IDS: i64 = 1 << 16;

impl CustomerColumn {
    /// A column from its distinct customers and each row's index into them; None when an index
    /// points past `ids` or there are more than `u32::MAX` customers.
    pub fn from_parts(ids: Vec<CustomerId>, rows: Vec<u32>) -> Option<CustomerColumn> {
        if ids.len() > u32::MAX as usize || rows.iter().any(|&i| i as usize >= ids.len()) {
            return None;
        }
        Some(CustomerColumn { ids, rows, ..CustomerColumn::default() })
    }

    /// The distinct customers and each row's index into them.
    pub fn into_parts(self) -> (Vec<CustomerId>, Vec<u32>) {
        (self.ids, self.rows)
    }

    /// The distinct customers, each once; `indices()[row]` points into it.
    pub fn ids(&self) -> &[CustomerId] {
        &self.ids
    }

    /// Each row's index into [`Self::ids`].
    pub fn indices(&self) -> &[u32] {
        &self.rows
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn reserve_exact(&mut self, additional: usize) {
        self.rows.reserve_exact(additional);
    }

    pub fn get(&self, row: usize) -> Option<CustomerId> {
        self.rows.get(row).map(|&i| self.ids[i as usize])
    }

    pub fn iter(&self) -> CustomerIter<'_> {
        CustomerIter { ids: &self.ids, rows: self.rows.iter() }
    }

    /// Appends a row of customer `id`.
    pub fn push(&mut self, id: CustomerId) {
        while self.indexed < self.ids.len() {
            let (known, index) = (self.ids[self.indexed], self.indexed as u32);
            self.remember(known, index);
            self.indexed += 1;
        }
        let index = match self.lookup(id) {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
                self.ids.push(id);
                self.remember(id, index);
                self.indexed += 1;
                index
            }
        };
        self.rows.push(index);
    }

    fn lookup(&self, id: CustomerId) -> Option<u32> {
        match usize::try_from(id.0).ok().and_then(|slot| self.dense.get(slot)) {
            Some(&entry) if entry > 0 => Some(entry - 1),
            Some(_) => None,
            None => self.sparse.get(&id).copied(),
        }
    }

    fn remember(&mut self, id: CustomerId, index: u32) {
        let bound = DENSE_IDS.max(2 * self.rows.capacity().max(self.rows.len()) as i64);
        if (0..bound).contains(&id.0) {
            let slot = id.0 as usize;
            if slot >= self.dense.len() {
                self.dense.resize((slot + 1).max(self.dense.len() * 2).min(bound as usize), 0);
            }
            self.dense[slot] = index + 1;
        } else {
            self.sparse.insert(id, index);
        }
    }

    /// Reorders the rows: row `i` becomes the old row `order[i]`.
    fn reorder(&mut self, order: &[u32]) {
        self.rows = order.iter().map(|&i| self.rows[i as usize]).collect();
    }

    /// Bytes held (capacity), for memory reports.
    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * 4
            + self.ids.capacity() * std::mem::size_of::<CustomerId>()
            + self.dense.capacity() * 4
            + self.sparse.capacity() * (std::mem::size_of::<CustomerId>() + 4)
    }
}

/// Two columns are equal when every row has the same customer, however the ids are numbered.
impl PartialEq for CustomerColumn {
    fn eq(&self, other: &CustomerColumn) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::ops::Index<usize> for CustomerColumn {
    type Output = CustomerId;

    fn index(&self, row: usize) -> &CustomerId {
        &self.ids[self.rows[row] as usize]
    }
}

impl<'a> IntoIterator for &'a CustomerColumn {
    type Item = &'a CustomerId;
    type IntoIter = CustomerIter<'a>;

    fn into_iter(self) -> CustomerIter<'a> {
        self.iter()
    }
}

impl FromIterator<CustomerId> for CustomerColumn {
    fn from_iter<I: IntoIterator<Item = CustomerId>>(iter: I) -> CustomerColumn {
        let mut column = CustomerColumn::default();
        for id in iter {
            column.push(id);
        }
        column
    }
}

/// The rows' customers in row order, from [`CustomerColumn::iter`].
#[derive(Debug, Clone)]
pub struct CustomerIter<'a> {
    ids: &'a [CustomerId],
    rows: std::slice::Iter<'a, u32>,
}

impl<'a> Iterator for CustomerIter<'a> {
    type Item = &'a CustomerId;

    fn next(&mut self) -> Option<&'a CustomerId> {
        self.rows.next().map(|&i| &self.ids[i as usize])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.rows.size_hint()
    }
}

impl ExactSizeIterator for CustomerIter<'_> {}

impl DoubleEndedIterator for CustomerIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.rows.next_back().map(|&i| &self.ids[i as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_customer_column_reads_like_a_vector_of_ids() {
        // Dense ids, a negative id and a huge one (the last two take the sparse lookup).
        let ids = [5, 3, 5, -2, 1 << 40, 3, 5, 1 << 40, 0];
        let column: CustomerColumn = ids.iter().map(|&i| CustomerId(i)).collect();
        assert_eq!(column.len(), ids.len());
        assert_eq!(column.ids(), &[CustomerId(5), CustomerId(3), CustomerId(-2), CustomerId(1 << 40), CustomerId(0)]);
        assert_eq!(column.indices(), &[0, 1, 0, 2, 3, 1, 0, 3, 4]);
        for (row, &id) in ids.iter().enumerate() {
            assert_eq!(column[row], CustomerId(id));
            assert_eq!(column.get(row), Some(CustomerId(id)));
        }
        assert_eq!(column.get(ids.len()), None);
        assert_eq!(column.iter().next_back(), Some(&CustomerId(0)));

        // Pushing to a column made from parts looks up the ids it was given.
        let (parts_ids, parts_rows) = column.clone().into_parts();
        let mut rebuilt = CustomerColumn::from_parts(parts_ids, parts_rows).expect("valid parts");
        assert_eq!(rebuilt, column);
        rebuilt.push(CustomerId(3));
        rebuilt.push(CustomerId(7));
        assert_eq!(rebuilt.indices()[ids.len()..], [1, 5]);
        assert_eq!(rebuilt.ids().len(), 6);
        assert_ne!(rebuilt, column);
        assert!(CustomerColumn::from_parts(vec![CustomerId(1)], vec![0, 1]).is_none());
    }

    #[test]
    fn equal_columns_may_number_their_customers_differently() {
        let a = CustomerColumn::from_parts(vec![CustomerId(1), CustomerId(2)], vec![0, 1, 0]).expect("valid");
        let b = CustomerColumn::from_parts(vec![CustomerId(2), CustomerId(1), CustomerId(9)], vec![1, 0, 1]).expect("valid");
        assert_eq!(a, b);
    }

    #[test]
    fn sorting_by_customer_and_time_moves_the_customers_with_their_rows() {
        let mut table = EventTable { strings: vec!["".into()], ..EventTable::default() };
        for (customer, time) in [(2, 5), (1, 9), (2, 1), (1, 3)] {
            table.customer.push(CustomerId(customer));
            table.time.push(time);
        }
        table.sort_by_customer_time();
        let rows: Vec<(i64, i64)> = table.customer.iter().zip(&table.time).map(|(c, t)| (c.0, *t)).collect();
        assert_eq!(rows, vec![(1, 3), (1, 9), (2, 1), (2, 5)]);
    }
}
