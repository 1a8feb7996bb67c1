//! Events grouped by customer in time order: the shape every per-customer pass of the engine
//! reads (funnels, paths, attribution, retention). Built once per query from the store's
//! [`EventTable`]; each customer's events are one contiguous range of rows.

use std::ops::Range;
use trailmap_model::{CustomerId, EventTable};

/// The events of a business, sorted by customer and time, with each customer's rows indexed.
#[derive(Debug, Clone)]
pub struct Journeys {
    table: EventTable,
    customers: Vec<(CustomerId, Range<usize>)>,
}

/// One customer's events: rows `rows` of [`Journeys::table`].
#[derive(Debug, Clone)]
pub struct Journey<'a> {
    pub customer: CustomerId,
    pub rows: Range<usize>,
    pub table: &'a EventTable,
}

impl Journeys {
    /// Sorts the table by customer and time (ties keep their recorded order) and indexes it.
    pub fn new(mut table: EventTable) -> Journeys {
        table.sort_by_customer_time();
        let mut customers = Vec::new();
        let mut start = 0;
        for row in 1..=table.len() {
            if row == table.len() || table.customer[row] != table.customer[start] {
                customers.push((table.customer[start], start..row));
                start = row;
            }
        }
        Journeys { table, customers }
    }

    pub fn table(&self) -> &EventTable {
        &self.table
    }

    /// How many customers have at least one event.
    pub fn len(&self) -> usize {
        self.customers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Journey<'_>> + '_ {
        self.customers
            .iter()
            .map(|(customer, rows)| Journey { customer: *customer, rows: rows.clone(), table: &self.table })
    }

    /// The journey of one customer, if they have events.
    pub fn get(&self, customer: CustomerId) -> Option<Journey<'_>> {
        let index = self.customers.binary_search_by_key(&customer, |(c, _)| *c).ok()?;
        let (customer, rows) = &self.customers[index];
        Some(Journey { customer: *customer, rows: rows.clone(), table: &self.table })
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
