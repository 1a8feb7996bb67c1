//! Events grouped by customer in time order: the shape every per-customer pass of the engine
//! reads (funnels, paths, attribution, retention). Built once per query from the store's
//! [`EventTable`]; each customer's events are one contiguous range of rows.
//!
//! Building it is the cost every query pays before its own work unless the caller keeps the
//! `Journeys` (the grouped table is what "data loaded" means in the engine benchmark), so it
//! avoids a comparison sort of the whole table. The customer column is a dense 4-byte index per
//! row ([`CustomerColumn`]): a counting sort by that index gives every row its destination in one
//! pass, written over the index itself, and the rows of every loaded column are moved there in
//! place, so grouping holds no second copy of any column. How they move depends on the order the
//! store kept ([`move_rows`]): a store compacted in customer order needs no move at all; one with
//! events appended since its compaction has them merged in, each row moving once; any other order
//! is permuted in place (see [`permute_rows`]). Within a customer, events are recorded in time
//! order almost always, so after the counting sort, which keeps recorded order, each customer's
//! few rows are checked and only the rare out-of-order customer is sorted by time. The
//! result is the order of [`EventTable::sort_by_customer_time`]: customer, then time, then
//! recorded position.

use std::ops::Range;
use trailmap_model::{CustomerColumn, CustomerId, EventTable};

/// The events of a business, sorted by customer and time, with each customer's rows indexed. The
/// table's customer column then lists the customers in ascending id order, and row `r`'s index
/// into that list is the number of its customer's journey.
#[derive(Debug, Clone)]
pub struct Journeys {
    table: EventTable,
    /// `ends[k]` is one past the last row of customer `k` (`table.customer.ids()[k]`); their first
    /// row is `ends[k - 1]` (0 for the first).
    ends: Vec<usize>,
}

/// One customer's events: rows `rows` of [`Journeys::table`].
#[derive(Debug, Clone)]
pub struct Journey<'a> {
    pub customer: CustomerId,
    pub rows: Range<usize>,
    pub table: &'a EventTable,
}

/// The in-place permutation marks visited rows with this bit of their destination.
const SEEN: u32 = 1 << 31;

impl Journeys {
    /// Sorts the table by customer and time (ties keep their recorded order) and indexes it.
    /// Columns that were not loaded (empty vectors) stay empty.
    pub fn new(mut table: EventTable) -> Journeys {
        let rows = table.len();
        if rows == 0 || rows >= SEEN as usize || table.customer.len() != rows {
            return Journeys::by_comparison_sort(table);
        }
        // The customer column's indices are dense (0..distinct customers), so a counting sort by
        // index needs no range check; the distinct customers are ranked by id once, which is cheap
        // as there are a twentieth as many as rows.
        let (ids, mut index) = std::mem::take(&mut table.customer).into_parts();
        let mut next = vec![0u32; ids.len()];
        for &i in &index {
            next[i as usize] += 1;
        }
        let mut by_id: Vec<u32> = (0..ids.len() as u32).collect();
        by_id.sort_unstable_by_key(|&i| ids[i as usize]);
        let mut sorted_ids = Vec::with_capacity(ids.len());
        let mut ends = Vec::with_capacity(ids.len());
        let mut start = 0u32;
        for &i in &by_id {
            let count = next[i as usize];
            if count > 0 {
                sorted_ids.push(ids[i as usize]);
                ends.push((start + count) as usize);
            }
            next[i as usize] = start;
            start += count;
        }
        drop((by_id, ids));
        // Each row's destination replaces its customer index in the same buffer, and the rows
        // move in place, so grouping holds nothing a row besides the loaded columns.
        for slot in index.iter_mut() {
            let destination = &mut next[*slot as usize];
            *slot = *destination;
            *destination += 1;
        }
        drop(next);
        move_rows(&mut table, &mut index);

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
        table.customer = grouped_column(sorted_ids, &ends, index);
        Journeys { table, ends }
    }

    /// These journeys with the rows of `more` added, recorded after every row here (events
    /// appended to the store since these were loaded): the journeys [`Journeys::new`] gives for
    /// the table these came from with `more`'s rows after it, without loading anything again.
    /// `more.strings` holds the dictionary's entries after this table's (ids from
    /// `self.table().strings.len()` on), and `more`'s string ids index the whole dictionary. A
    /// column loaded in one table and not in the other ends empty. The rows here are already in
    /// customer and time order, so grouping moves each row once (a tail merge) when `more` is
    /// small, and each customer's new rows land after their old ones of the same time, as
    /// recorded order wants.
    pub fn appended(self, more: EventTable) -> Journeys {
        let Journeys { mut table, ends } = self;
        table.strings.extend(more.strings.iter().cloned());
        if more.is_empty() {
            return Journeys { table, ends };
        }
        let (old_rows, more_rows) = (table.len(), more.len());
        let (mut ids, mut index) = std::mem::take(&mut table.customer).into_parts();
        // The new rows' customers among the old ones (ascending, so searched), the rest added
        // after them; the counting sort ranks the ids itself.
        let (more_ids, more_index) = more.customer.clone().into_parts();
        let known = ids.len();
        let place: Vec<u32> = more_ids
            .iter()
            .map(|id| match ids[..known].binary_search(id) {
                Ok(k) => k as u32,
                Err(_) => {
                    ids.push(*id);
                    (ids.len() - 1) as u32
                }
            })
            .collect();
        index.extend(more_index.iter().map(|&k| place[k as usize]));
        fn extend<T: Clone>(column: &mut Vec<T>, added: &[T], old_rows: usize, more_rows: usize) {
            if column.len() == old_rows && added.len() == more_rows {
                column.extend_from_slice(added);
            } else {
                column.clear();
            }
        }
        let mut more = more;
        let added = more.columns_mut();
        let columns = table.columns_mut();
        for (column, new) in columns.numbers.into_iter().zip(added.numbers) {
            extend(column, new, old_rows, more_rows);
        }
        for (column, new) in columns.texts.into_iter().zip(added.texts) {
            extend(column, new, old_rows, more_rows);
        }
        match (table.properties.as_mut(), more.properties.as_ref()) {
            (Some(column), Some(new)) if column.len() == old_rows && new.len() == more_rows => column.extend_from_slice(new),
            (None, Some(new)) if old_rows == 0 && new.len() == more_rows => table.properties = Some(new.clone()),
            _ => table.properties = None,
        }
        match CustomerColumn::from_parts(ids, index) {
            Some(customer) => table.customer = customer,
            // Not reachable: every index points into `ids` by construction.
            None => return Journeys::by_comparison_sort(table),
        }
        Journeys::new(table)
    }

    /// For tables whose customer column is missing or too long for the counting sort: the
    /// table's own full sort.
    fn by_comparison_sort(mut table: EventTable) -> Journeys {
        table.sort_by_customer_time();
        let mut ids = Vec::new();
        let mut ends = Vec::new();
        let customers = table.customer.len();
        for row in 1..=customers {
            if row == customers || table.customer[row] != table.customer[row - 1] {
                ids.push(table.customer[row - 1]);
                ends.push(row);
            }
        }
        let buffer = std::mem::take(&mut table.customer).into_parts().1;
        table.customer = grouped_column(ids, &ends, buffer);
        Journeys { table, ends }
    }

    pub fn table(&self) -> &EventTable {
        &self.table
    }

    /// How many customers have at least one event.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The customers with events, in ascending id order: journey `k` is customer `ids()[k]`'s.
    pub fn ids(&self) -> &[CustomerId] {
        self.table.customer.ids()
    }

    /// One past the last row of each journey, in the order of [`Journeys::ids`].
    pub fn ends(&self) -> &[usize] {
        &self.ends
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Journey<'_>> + '_ {
        (0..self.ends.len()).map(|k| self.journey(k))
    }

    /// The journey of one customer, if they have events.
    pub fn get(&self, customer: CustomerId) -> Option<Journey<'_>> {
        let k = self.ids().binary_search(&customer).ok()?;
        Some(self.journey(k))
    }

    /// Journey number `k`, in the order of [`Journeys::ids`].
    pub fn journey(&self, k: usize) -> Journey<'_> {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        Journey { customer: self.ids()[k], rows: start..self.ends[k], table: &self.table }
    }
}

/// How [`move_rows`] put the rows at their destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moved {
    /// Every row was already there: a store compacted in customer order.
    Nothing,
    /// The rows were in order but for a tail (events appended after a compaction), merged in.
    TailMerged,
    /// Rows in any order, permuted in place.
    Permuted,
}

/// Moves every loaded column's row `i` to row `destination[i]` (a permutation of the rows), by the
/// cheapest way the order allows.
fn move_rows(table: &mut EventTable, destination: &mut [u32]) -> Moved {
    let rows = destination.len();
    // Destinations increase along the rows that are already in customer order.
    let ordered = 1 + destination.windows(2).take_while(|w| w[0] < w[1]).count();
    if ordered >= rows {
        return Moved::Nothing;
    }
    if rows - ordered <= rows / TAIL_SHARE {
        merge_tail(table, destination, ordered);
        return Moved::TailMerged;
    }
    permute_rows(table, destination);
    Moved::Permuted
}

/// Up to this share of the rows (1 in 8), a tail after rows in customer order is merged into them
/// rather than the whole table permuted: the merge moves every row once, in order, while the tail
/// is sorted apart (it is a store's events appended since its last compaction).
const TAIL_SHARE: usize = 8;

/// Rows `..ordered` are in destination order; the rest (the tail) are put in destination order
/// apart, and each column is then merged from its end: the next place from the end takes either
/// the tail's last row or the ordered rows' last, whichever belongs there, so every row moves
/// once and the ordered rows only ever move towards the end, over places already emptied.
fn merge_tail(table: &mut EventTable, destination: &[u32], ordered: usize) {
    let rows = destination.len();
    let mut tail: Vec<u32> = (ordered as u32..rows as u32).collect();
    tail.sort_unstable_by_key(|&row| destination[row as usize]);
    let tail_destinations: Vec<u32> = tail.iter().map(|&row| destination[row as usize]).collect();
    fn merge<T: Default>(column: &mut [T], ordered: usize, tail: &[u32], tail_destinations: &[u32]) {
        let mut taken: Vec<T> = tail.iter().map(|&row| std::mem::take(&mut column[row as usize])).collect();
        let (mut left, mut right) = (ordered, taken.len());
        for place in (0..column.len()).rev() {
            if right > 0 && tail_destinations[right - 1] as usize == place {
                right -= 1;
                column[place] = std::mem::take(&mut taken[right]);
            } else {
                left -= 1;
                column.swap(place, left);
            }
        }
    }
    let columns = table.columns_mut();
    for column in columns.numbers.into_iter().filter(|c| c.len() == rows) {
        merge(column, ordered, &tail, &tail_destinations);
    }
    for column in columns.texts.into_iter().filter(|c| c.len() == rows) {
        merge(column, ordered, &tail, &tail_destinations);
    }
    if let Some(properties) = columns.properties.filter(|p| p.len() == rows) {
        merge(properties, ordered, &tail, &tail_destinations);
    }
}

/// The customer column of grouped rows: customer `k` (of `ids`, ascending) owns the rows up to
/// `ends[k]`, written as index `k` into `buffer`, which is reused.
fn grouped_column(ids: Vec<CustomerId>, ends: &[usize], mut buffer: Vec<u32>) -> CustomerColumn {
    buffer.clear();
    let mut first = 0;
    for (k, &end) in ends.iter().enumerate() {
        buffer.resize(buffer.len() + (end - first), k as u32);
        first = end;
    }
    let rows = buffer.len();
    // The indices are below `ids.len()` by construction, so this cannot fail; an empty column
    // would only hide a bug, so the parts are checked rather than trusted.
    CustomerColumn::from_parts(ids, buffer).unwrap_or_else(|| (0..rows).map(|_| CustomerId(0)).collect())
}

/// Rows per block of the in-place permutation: a block of the funnel's columns (16 bytes a row
/// with the destination) stays in the processor's second-level cache.
const BLOCK_ROWS: usize = 1 << 15;

/// Moves every loaded column's row `i` to row `destination[i]` in place, so grouping needs no
/// second copy of any column (a copy of the time alone would be 8 bytes a row on top of the 16 of
/// a funnel's table). Following the permutation's cycles over the whole table would wait on one
/// cache miss after another, so rows move in passes that each keep few places in play (American
/// flag sort passes: one write position per bucket, so the writes stream): first every row into
/// its superblock of [`SUPER_ROWS`] destinations, then, within each superblock, into its block of
/// [`BLOCK_ROWS`], and each block is then permuted in cache. One pass straight into blocks would
/// keep thousands of write positions in play at a hundred million rows, more than the caches and
/// the address translation hold. The superblocks are independent, so the two halves of them run
/// on two threads. `destination` must be a permutation of `0..rows`; it ends as `0..rows`.
fn permute_rows(table: &mut EventTable, destination: &mut [u32]) {
    let rows = destination.len();
    let mut columns = LoadedColumns::of(table, rows);
    if rows > SUPER_ROWS {
        partition(&mut columns, destination, 0, SUPER_ROWS);
    }
    let superblocks = rows.div_ceil(SUPER_ROWS);
    let middle = if rows >= PARALLEL_ROWS { superblocks / 2 * SUPER_ROWS } else { rows };
    let (first, second) = columns.split_at(middle);
    let (first_destination, second_destination) = destination.split_at_mut(middle);
    if second_destination.is_empty() {
        permute_superblocks(first, first_destination, 0);
    } else {
        rayon::join(|| permute_superblocks(first, first_destination, 0), || permute_superblocks(second, second_destination, middle));
    }
}

/// Superblocks of the grouping's first pass: 64 blocks (2 million rows, 32 MB of a funnel's
/// table with the destinations), so both passes keep at most 64 write positions in play. In the
/// unit tests two blocks, so that their tables of a few blocks take every pass.
#[cfg(not(test))]
const SUPER_ROWS: usize = 64 * BLOCK_ROWS;
#[cfg(test)]
const SUPER_ROWS: usize = 2 * BLOCK_ROWS;

/// From this many rows, the superblocks are permuted on two threads (in the unit tests from two
/// superblocks, so that their tables of a few blocks take that path too).
#[cfg(not(test))]
const PARALLEL_ROWS: usize = 1 << 22;
#[cfg(test)]
const PARALLEL_ROWS: usize = 2 * SUPER_ROWS;

/// Moves each row of `columns` into its bucket of `bucket_rows` rows (row `i` belongs in the
/// bucket of `destination[i] - offset`); the rows' destinations must all lie within these rows.
fn partition(columns: &mut LoadedColumns<'_>, destination: &mut [u32], offset: usize, bucket_rows: usize) {
    let rows = destination.len();
    let buckets = rows.div_ceil(bucket_rows);
    let mut heads: Vec<usize> = (0..buckets).map(|b| b * bucket_rows).collect();
    for bucket in 0..buckets {
        let end = ((bucket + 1) * bucket_rows).min(rows);
        while heads[bucket] < end {
            let row = heads[bucket];
            let target = (destination[row] as usize - offset) / bucket_rows;
            if target == bucket {
                heads[bucket] += 1;
            } else {
                // The row goes to the next free place of its bucket; the row found there comes
                // here and is looked at next.
                let place = heads[target];
                heads[target] += 1;
                destination.swap(row, place);
                columns.swap(row, place);
            }
        }
    }
}

/// Rows `offset..` of the table, every row already in its destination's superblock: each
/// superblock's rows go into their blocks, and each block is permuted in place.
fn permute_superblocks(mut columns: LoadedColumns<'_>, mut destination: &mut [u32], mut offset: usize) {
    while !destination.is_empty() {
        let length = destination.len().min(SUPER_ROWS);
        let (mut superblock, rest) = columns.split_at(length);
        let (superblock_destination, rest_destination) = std::mem::take(&mut destination).split_at_mut(length);
        partition(&mut superblock, superblock_destination, offset, BLOCK_ROWS);
        permute_within_blocks(superblock, superblock_destination, offset);
        (columns, destination, offset) = (rest, rest_destination, offset + length);
    }
}

/// The last pass of [`permute_rows`] over rows `offset..` of the table (`columns` and
/// `destination` start there), every row's destination lying in its own block.
fn permute_within_blocks(mut columns: LoadedColumns<'_>, destination: &mut [u32], offset: usize) {
    for start in 0..destination.len() {
        // Each swap puts one row at its destination, which lies in this row's block.
        while destination[start] as usize - offset != start {
            let place = destination[start] as usize - offset;
            destination.swap(start, place);
            columns.swap(start, place);
        }
    }
}

/// Every loaded column of a table (those of `rows` rows), to swap rows in all of them at once.
struct LoadedColumns<'a> {
    times: Vec<&'a mut [i64]>,
    ids: Vec<&'a mut [u32]>,
    properties: Option<&'a mut [Option<Box<str>>]>,
}

impl<'a> LoadedColumns<'a> {
    fn of(table: &'a mut EventTable, rows: usize) -> LoadedColumns<'a> {
        let full = |len: usize| len == rows;
        let columns = table.columns_mut();
        let times: Vec<&mut [i64]> = columns.numbers.into_iter().filter(|c| full(c.len())).map(|c| c.as_mut_slice()).collect();
        let ids: Vec<&mut [u32]> = columns.texts.into_iter().filter(|c| full(c.len())).map(|c| c.as_mut_slice()).collect();
        let properties = columns.properties.filter(|p| full(p.len())).map(|p| p.as_mut_slice());
        LoadedColumns { times, ids, properties }
    }

    /// The rows before `middle` and those from it on, as two sets of columns.
    fn split_at(self, middle: usize) -> (LoadedColumns<'a>, LoadedColumns<'a>) {
        fn halves<T>(columns: Vec<&mut [T]>, middle: usize) -> (Vec<&mut [T]>, Vec<&mut [T]>) {
            columns.into_iter().map(|c| c.split_at_mut(middle)).unzip()
        }
        let (times, later_times) = halves(self.times, middle);
        let (ids, later_ids) = halves(self.ids, middle);
        let (properties, later_properties) = match self.properties.map(|p| p.split_at_mut(middle)) {
            Some((a, b)) => (Some(a), Some(b)),
            None => (None, None),
        };
        (LoadedColumns { times, ids, properties }, LoadedColumns { times: later_times, ids: later_ids, properties: later_properties })
    }

    fn swap(&mut self, a: usize, b: usize) {
        for column in &mut self.times {
            column.swap(a, b);
        }
        for column in &mut self.ids {
            column.swap(a, b);
        }
        if let Some(properties) = self.properties.as_mut() {
            properties.swap(a, b);
        }
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
    let columns = table.columns_mut();
    columns.numbers.into_iter().for_each(|c| apply(c, rows, destination, &range));
    columns.texts.into_iter().for_each(|c| apply(c, rows, destination, &range));
    if let Some(properties) = columns.properties {
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
        // The largest tables span several blocks and superblocks of the in-place permutation (in
        // the unit tests a superblock is two blocks), the last enough of them for two threads.
        let several_blocks = 3 * BLOCK_ROWS + 123;
        let two_threads = PARALLEL_ROWS + SUPER_ROWS / 2 + 7;
        for (rows, customers, base) in [
            (1, 1, 5),
            (2, 1, 1),
            (500, 40, 1_000),
            (3000, 7, 1),
            (2000, 3000, 1 << 40),
            (0, 1, 1),
            (several_blocks, 5000, 3),
            (two_threads, 20_000, 3),
        ]
        {
            let mut table = random_table(&mut rng, rows, customers, base);
            if base == 1 << 40 {
                // Sparse ids: the comparison-sort path.
                table.customer = table.customer.iter().map(|c| CustomerId((c.0 - base) * 1_000_003)).collect();
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
    fn a_compacted_table_with_a_tail_is_merged_and_equals_the_full_sort() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        // A compacted store's rows (in customer and time order) and events appended after it,
        // of customers old and new, at any times.
        for (body, tail, expected) in [
            (5000, 0, Moved::Nothing),
            (5000, 1, Moved::TailMerged),
            (5000, 600, Moved::TailMerged),
            (100, 100, Moved::Permuted),
            (4000, 1200, Moved::Permuted),
        ] {
            let mut table = random_table(&mut rng, body, 300, 1);
            table.sort_by_customer_time();
            let more = random_table(&mut rng, tail, 400, 1);
            table.time.extend(&more.time);
            for (column, added) in table.columns_mut().texts.into_iter().zip(more.clone().columns_mut().texts) {
                column.extend(added.iter());
            }
            table.revenue_minor.extend(&more.revenue_minor);
            table.properties.get_or_insert_with(Vec::new).extend(more.properties.clone().unwrap_or_default());
            for c in more.customer.iter() {
                table.customer.push(*c);
            }
            let mut expected_table = table.clone();
            expected_table.sort_by_customer_time();
            // The path taken, on a copy grouped the way `Journeys::new` does.
            let (ids, mut index) = table.clone().customer.into_parts();
            let mut by_id: Vec<u32> = (0..ids.len() as u32).collect();
            by_id.sort_unstable_by_key(|&i| ids[i as usize]);
            let mut start = vec![0u32; ids.len()];
            let mut counts = vec![0u32; ids.len()];
            index.iter().for_each(|&i| counts[i as usize] += 1);
            let mut at = 0;
            for &i in &by_id {
                start[i as usize] = at;
                at += counts[i as usize];
            }
            for slot in index.iter_mut() {
                let s = &mut start[*slot as usize];
                *slot = *s;
                *s += 1;
            }
            let mut moved = table.clone();
            assert_eq!(move_rows(&mut moved, &mut index), expected, "{body} + {tail}");
            assert_eq!(Journeys::new(table).table(), &expected_table, "{body} + {tail}");
        }
    }

    #[test]
    fn journeys_with_rows_appended_equal_the_journeys_of_the_whole_table() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for (body, tail) in [(0, 10), (10, 0), (3000, 1), (3000, 200), (500, 2000)] {
            let first = random_table(&mut rng, body, 200, 1);
            let mut more = random_table(&mut rng, tail, 300, 1);
            // Times after and before the old ones, and new strings.
            more.time.iter_mut().for_each(|t| *t += rng.random_range(-20..40));
            let mut whole = first.clone();
            whole.strings.extend(["x".into(), "y".into()]);
            more.strings = vec!["x".into(), "y".into()];
            more.channel.iter_mut().for_each(|c| *c = 1 + *c % 2);
            whole.time.extend(&more.time);
            for (column, added) in whole.columns_mut().texts.into_iter().zip(more.clone().columns_mut().texts) {
                column.extend(added.iter());
            }
            whole.revenue_minor.extend(&more.revenue_minor);
            whole.properties.get_or_insert_with(Vec::new).extend(more.properties.clone().unwrap_or_default());
            for c in more.customer.iter() {
                whole.customer.push(*c);
            }
            let appended = Journeys::new(first).appended(more);
            let fresh = Journeys::new(whole);
            assert_eq!(appended.table(), fresh.table(), "{body} + {tail}");
            assert_eq!(appended.ends(), fresh.ends(), "{body} + {tail}");
            assert_eq!(appended.ids(), fresh.ids(), "{body} + {tail}");
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
