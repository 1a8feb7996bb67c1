//! Events grouped by customer in time order: the shape every per-customer pass of the engine
//! reads (funnels, paths, attribution, retention). Built once per query from the store's
//! [`EventTable`]; each customer's events are one contiguous range of rows.
//!
//! Building it is the cost every query pays before its own work, so it avoids a comparison sort
//! of the whole table. Customer ids are row ids of the store's customer table, so one business's
//! ids are dense small integers: a counting sort by customer gives every row its destination in
//! one pass, and each loaded column is scattered there in turn (the customer column is rebuilt
//! from the index instead), so at most one column is ever held twice. Events are recorded in time order almost always (the store writes segments in arrival
//! order), so after the counting sort, which keeps recorded order, each customer's few rows are
//! checked and only the rare out-of-order customer is sorted by time. The result is the order of
//! [`EventTable::sort_by_customer_time`]: customer, then time, then recorded position.

use std::ops::Range;
use trailmap_model::{CustomerId, EventTable};

/// The events of a business, sorted by customer and time, with each customer's rows indexed.
#[derive(Debug, Clone)]
pub struct Journeys {
    table: EventTable,
    /// Customers in ascending id order, each with at least one event.
    ids: Vec<CustomerId>,
    /// `ends[k]` is one past the last row of customer `ids[k]`; their first row is `ends[k - 1]`
    /// (0 for the first). Two vectors instead of `(id, range)` pairs save a third of the index.
    ends: Vec<usize>,
}

/// One customer's events: rows `rows` of [`Journeys::table`].
#[derive(Debug, Clone)]
pub struct Journey<'a> {
    pub customer: CustomerId,
    pub rows: Range<usize>,
    pub table: &'a EventTable,
}

/// The counting sort's bucket array is one u32 per id in the table's id range; above this many
/// ids per row (sparse ids, as in hand-made tables), a comparison sort is cheaper.
const MAX_IDS_PER_ROW: i64 = 4;

/// The in-place permutation marks visited rows with this bit of their destination.
const SEEN: u32 = 1 << 31;

impl Journeys {
    /// Sorts the table by customer and time (ties keep their recorded order) and indexes it.
    /// Columns that were not loaded (empty vectors) stay empty.
    pub fn new(mut table: EventTable) -> Journeys {
        let rows = table.len();
        if rows == 0 {
            return Journeys { table, ids: Vec::new(), ends: Vec::new() };
        }
        let (min, max) = table
            .customer
            .iter()
            .fold((i64::MAX, i64::MIN), |(lo, hi), c| (lo.min(c.0), hi.max(c.0)));
        let span = max.saturating_sub(min).saturating_add(1);
        let dense = span <= (rows as i64).max(1 << 16).saturating_mul(MAX_IDS_PER_ROW);
        if !dense || rows >= SEEN as usize || table.customer.len() != rows {
            return Journeys::by_comparison_sort(table);
        }

        // Counting sort by customer: `next[c]` is the next free row of customer `min + c`.
        let mut next = vec![0u32; span as usize];
        for c in &table.customer {
            next[(c.0 - min) as usize] += 1;
        }
        let mut ids = Vec::new();
        let mut ends = Vec::new();
        let mut start = 0u32;
        for (offset, slot) in next.iter_mut().enumerate() {
            let count = *slot;
            if count > 0 {
                ids.push(CustomerId(min + offset as i64));
                ends.push((start + count) as usize);
            }
            *slot = start;
            start += count;
        }
        let mut destination: Vec<u32> = Vec::with_capacity(rows);
        let mut in_place = true;
        for (row, c) in table.customer.iter().enumerate() {
            let slot = &mut next[(c.0 - min) as usize];
            in_place &= *slot as usize == row;
            destination.push(*slot);
            *slot += 1;
        }
        drop(next);
        // The customer column is rebuilt from the index below, so its buffer (8 bytes a row, as
        // the time's) receives the moved times: with customer, time and name loaded (20 bytes a
        // row) the peak is 20 + 4 for the destinations, plus 4 for the moved names once the old
        // times are freed. Reusing the buffer instead of freeing it and allocating another also
        // keeps an allocator that returns freed memory late from holding both.
        let spare: Vec<i64> = std::mem::take(&mut table.customer).into_iter().map(|c| c.0).collect();
        if !in_place {
            scatter_columns(&mut table, &destination, spare);
        }
        drop(destination);

        // Within a customer the rows are now in recorded order; sort by time the few whose
        // recorded order is not time order (a stable sort keeps ties in recorded order).
        let mut order: Vec<u32> = Vec::new();
        let mut local: Vec<u32> = Vec::new();
        let mut first = 0;
        for &end in &ends {
            let times = &table.time[first..end];
            if times.windows(2).any(|w| w[1] < w[0]) {
                order.clear();
                order.extend(0..(end - first) as u32);
                order.sort_by_key(|&k| times[k as usize]);
                local.clear();
                local.resize(order.len(), 0);
                for (position, &source) in order.iter().enumerate() {
                    local[source as usize] = position as u32;
                }
                permute_columns(&mut table, &mut local, first..end);
            }
            first = end;
        }

        let mut customer = Vec::with_capacity(rows);
        let mut first = 0;
        for (id, &end) in ids.iter().zip(&ends) {
            customer.resize(customer.len() + (end - first), *id);
            first = end;
        }
        table.customer = customer;
        Journeys { table, ids, ends }
    }

    /// For customer ids too sparse for a counting sort: the table's own full sort.
    fn by_comparison_sort(mut table: EventTable) -> Journeys {
        table.sort_by_customer_time();
        let mut ids = Vec::new();
        let mut ends = Vec::new();
        for row in 1..=table.len() {
            if row == table.len() || table.customer[row] != table.customer[row - 1] {
                ids.push(table.customer[row - 1]);
                ends.push(row);
            }
        }
        Journeys { table, ids, ends }
    }

    pub fn table(&self) -> &EventTable {
        &self.table
    }

    /// How many customers have at least one event.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Journey<'_>> + '_ {
        (0..self.ids.len()).map(|k| self.journey(k))
    }

    /// The journey of one customer, if they have events.
    pub fn get(&self, customer: CustomerId) -> Option<Journey<'_>> {
        let k = self.ids.binary_search(&customer).ok()?;
        Some(self.journey(k))
    }

    fn journey(&self, k: usize) -> Journey<'_> {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        Journey { customer: self.ids[k], rows: start..self.ends[k], table: &self.table }
    }
}

/// Moves every loaded column's row `i` to row `destination[i]`, one column at a time into a new
/// vector: the writes go to independent addresses, which the processor overlaps, where following
/// the permutation's cycles in place would wait on one cache miss after another. The peak is the
/// loaded columns plus the destinations plus one new column.
fn scatter_columns(table: &mut EventTable, destination: &[u32], mut spare: Vec<i64>) {
    fn scatter<T: Default>(column: &mut Vec<T>, destination: &[u32]) {
        if column.len() != destination.len() {
            return;
        }
        let mut moved: Vec<T> = std::iter::repeat_with(T::default).take(column.len()).collect();
        for (value, &to) in column.iter_mut().zip(destination) {
            moved[to as usize] = std::mem::take(value);
        }
        *column = moved;
    }
    // The time goes into the spare buffer (every value is overwritten, as `destination` is a
    // permutation); the old time buffer is freed before the next column is allocated.
    if spare.len() == destination.len() && table.time.len() == destination.len() {
        for (&value, &to) in table.time.iter().zip(destination) {
            spare[to as usize] = value;
        }
        table.time = spare;
    } else {
        drop(spare);
        scatter(&mut table.time, destination);
    }
    scatter(&mut table.name, destination);
    scatter(&mut table.channel, destination);
    scatter(&mut table.source, destination);
    scatter(&mut table.medium, destination);
    scatter(&mut table.campaign, destination);
    scatter(&mut table.referrer, destination);
    scatter(&mut table.page, destination);
    scatter(&mut table.revenue_minor, destination);
    scatter(&mut table.currency, destination);
    if let Some(properties) = table.properties.as_mut() {
        scatter(properties, destination);
    }
}

/// Moves every loaded column's rows `range` so that row `range.start + i` goes to
/// `range.start + destination[i]`. Columns of another length (not loaded) are left alone.
fn permute_columns(table: &mut EventTable, destination: &mut [u32], range: Range<usize>) {
    let rows = table.time.len();
    fn apply<T>(column: &mut [T], rows: usize, destination: &mut [u32], range: &Range<usize>) {
        if column.len() == rows {
            permute_in_place(&mut column[range.clone()], destination);
        }
    }
    apply(&mut table.time, rows, destination, &range);
    apply(&mut table.name, rows, destination, &range);
    apply(&mut table.channel, rows, destination, &range);
    apply(&mut table.source, rows, destination, &range);
    apply(&mut table.medium, rows, destination, &range);
    apply(&mut table.campaign, rows, destination, &range);
    apply(&mut table.referrer, rows, destination, &range);
    apply(&mut table.page, rows, destination, &range);
    apply(&mut table.revenue_minor, rows, destination, &range);
    apply(&mut table.currency, rows, destination, &range);
    if let Some(properties) = table.properties.as_mut() {
        apply(properties, rows, destination, &range);
    }
}

/// Moves `values[i]` to `values[destination[i]]` for every i, following each cycle of the
/// permutation with swaps, so no second copy of the column is needed. `destination` must be a
/// permutation of `0..values.len()` below 2^31; it is marked while working and restored after.
fn permute_in_place<T>(values: &mut [T], destination: &mut [u32]) {
    debug_assert_eq!(values.len(), destination.len());
    for start in 0..values.len() {
        if destination[start] & SEEN != 0 {
            continue;
        }
        // The value at `start` is carried along its cycle: each swap puts it where it belongs
        // and brings back the value displaced from there, until the cycle closes at `start`.
        let mut row = start;
        loop {
            let target = (destination[row] & !SEEN) as usize;
            destination[row] |= SEEN;
            if target == start {
                break;
            }
            values.swap(start, target);
            row = target;
        }
    }
    for d in destination.iter_mut() {
        *d &= !SEEN;
    }
}

impl Journey<'_> {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Time of the journey's row `row` (an index into the table).
    pub fn time(&self, row: usize) -> i64 {
        self.table.time[row]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random_table(rng: &mut ChaCha8Rng, rows: usize, customers: i64, base: i64) -> EventTable {
        let mut table = EventTable { strings: vec!["".into()], ..EventTable::default() };
        for row in 0..rows {
            table.customer.push(CustomerId(base + rng.random_range(0..customers)));
            // Mostly increasing times with some out of order and many ties, as real logs have.
            let time = if rng.random_bool(0.2) { rng.random_range(0..50) } else { row as i64 / 3 };
            table.time.push(time);
            table.name.push(row as u32);
            table.channel.push(rng.random_range(0..5));
            table.revenue_minor.push(row as i64 * 10);
            table.properties.get_or_insert_with(Vec::new).push(Some(format!("{row}").into()));
        }
        table
    }

    #[test]
    fn counting_sort_equals_the_full_sort_on_random_tables() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for (rows, customers, base) in [(1, 1, 5), (2, 1, 1), (500, 40, 1_000), (3000, 7, 1), (2000, 3000, 1 << 40), (0, 1, 1)] {
            let mut table = random_table(&mut rng, rows, customers, base);
            if base == 1 << 40 {
                // Sparse ids: the comparison-sort path.
                table.customer.iter_mut().for_each(|c| c.0 = (c.0 - base) * 1_000_003);
            }
            let mut expected = table.clone();
            expected.sort_by_customer_time();
            let journeys = Journeys::new(table);
            assert_eq!(journeys.table(), &expected, "{rows} rows, {customers} customers");
            let mut seen = 0;
            for journey in journeys.iter() {
                assert!(journey.rows.clone().all(|r| expected.customer[r] == journey.customer));
                assert_eq!(journeys.get(journey.customer).map(|j| j.rows), Some(journey.rows.clone()));
                seen += journey.len();
            }
            assert_eq!(seen, rows);
        }
    }

    #[test]
    fn columns_not_loaded_stay_empty() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let mut table = random_table(&mut rng, 1000, 30, 1);
        table.channel = Vec::new();
        table.revenue_minor = Vec::new();
        table.properties = None;
        let mut expected = table.clone();
        expected.sort_by_customer_time();
        let journeys = Journeys::new(table);
        assert!(journeys.table().channel.is_empty() && journeys.table().revenue_minor.is_empty());
        assert_eq!(journeys.table().name, expected.name);
        assert_eq!(journeys.table().time, expected.time);
        assert_eq!(journeys.len(), 30);
    }

    #[test]
    fn permutes_in_place() {
        let mut values = vec!['a', 'b', 'c', 'd', 'e'];
        let mut destination = vec![2, 0, 1, 4, 3];
        permute_in_place(&mut values, &mut destination);
        assert_eq!(values, vec!['b', 'c', 'a', 'e', 'd']);
        assert_eq!(destination, vec![2, 0, 1, 4, 3]);
    }
}
