//! The reads that feed the engine and keep a reader's copy of a business's data up to date, as
//! every backend offers them.
//!
//! A reader brings its copy up to date like this, inside one [`crate::Store::snapshot`]: read the
//! [`IncrementalReads::data_mark`] now; if the version is the one it has, nothing changed; else the
//! rows with ids above its mark's are what was appended, [`IncrementalReads::segments_unchanged`]
//! says whether the events it read are all still there (a compaction rewrites them under new
//! ids), and a larger [`DataMark::merged`] says customers were merged (their identities, orders,
//! answers and feedback now name the customer they became). Rows are deleted only by an erasure
//! of a customer, which a larger [`DataMark::erasures`] announces: the reader then reads
//! everything afresh. The customers' own columns (properties, name, email) change in place and
//! are read whole. Each kind is read in one pass (one statement, two for orders and their lines),
//! never a query per row.

use crate::Result;
use std::collections::HashMap;
use trailmap_model::*;

/// Where a reader's copy of one business's data stands: the business's data version and the
/// last row of each kind it read, all from one snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataMark {
    /// `businesses.data_version`.
    pub version: i64,
    /// The business's last event segment (0: none).
    pub segment: i64,
    /// How many event rows the business has (all in segments up to `segment`). Merging small
    /// segments (merge.rs) keeps every row in its place in the business's order, so these rows
    /// stay the first ones; a merge across the mark only moves some of them into a segment after
    /// `segment`, whose first rows a load after the mark then skips.
    pub rows: i64,
    /// Rewrites that reordered or removed the business's rows (`businesses.event_rewrites`: a
    /// compaction, retention, an erasure): when it differs, the reader's rows are not a prefix of
    /// the stored ones any more.
    pub rewrites: i64,
    /// Entries of the string dictionary (ids below this, "" included).
    pub strings: usize,
    /// The last identity of any business (ids are shared, rows of other businesses are skipped).
    pub identity: i64,
    /// Customers of the business merged into another; merges only ever add to it.
    pub merged: i64,
    /// The last order, survey response and feedback of any business.
    pub order: i64,
    pub response: i64,
    pub feedback: i64,
    /// Erasures of the business's customers (`erase.rs`): the one write that deletes rows, so a
    /// reader whose count differs reads everything afresh.
    pub erasures: i64,
    /// In-place edits of the business's feedback (tags): a reader whose count differs reads its
    /// feedback again.
    pub feedback_edits: i64,
}

/// Where to start a load of appended events: after the reader's mark, with its identities.
#[derive(Debug, Clone, Copy)]
pub struct EventsAfter<'a> {
    /// Segments with a larger id are loaded.
    pub segment: i64,
    /// The rows the reader holds ([`DataMark::rows`]; 0 with no mark): rows of the first
    /// segments after `segment` that a merge moved there from up to it are left out.
    pub rows: i64,
    /// Dictionary entries the reader has (see [`DataMark::strings`]).
    pub strings: usize,
    /// Identity id -> customer id (0 where not the business's), covering every identity the new
    /// segments name.
    pub customer_of: &'a [i64],
}

/// The business's merged customers: each to the customer it is part of now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merges(pub(crate) HashMap<CustomerId, CustomerId>);

impl Merges {
    /// The customer `id` is now (itself unless it was merged).
    pub fn current(&self, id: CustomerId) -> CustomerId {
        let mut now = id;
        // Merges re-point earlier merges, so one step is the rule; a bounded walk guards a store
        // written otherwise.
        for _ in 0..64 {
            match self.0.get(&now) {
                Some(&next) if next != now => now = next,
                _ => break,
            }
        }
        now
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Reads of rows appended since a mark, and of a business's rows in batches.
pub trait IncrementalReads {
    /// Where the business's data stands now (see [`DataMark`]); call it in the snapshot of the
    /// reads it marks.
    fn data_mark(&self, business: BusinessId) -> Result<DataMark>;

    /// Whether the rows the reader read are still the business's first rows, in the same order,
    /// so a load after the mark gives exactly the rest: no compaction, retention or erasure
    /// reordered or removed rows since (a merge of small segments keeps them in place, see
    /// merge.rs), and the segments up to the mark hold no more rows than the reader has.
    fn segments_unchanged(&self, business: BusinessId, mark: &DataMark) -> Result<bool>;

    /// The business's identities with an id above `after`: (identity id, customer id), by id.
    fn identities_after(&self, business: BusinessId, after: i64) -> Result<Vec<(i64, i64)>>;

    /// The business's merged customers, each to the customer it is now.
    fn merges(&self, business: BusinessId) -> Result<Merges>;

    /// The business's orders with an id above `after`, in (time, id) order, each on the customer
    /// it belongs to now (through `merges`): one statement.
    fn order_table(&self, business: BusinessId, after: i64, merges: &Merges) -> Result<OrderTable>;

    /// The business's whole orders (lines, status, properties) with an id above `after`, in
    /// (time, id) order, each on the customer it belongs to now: one statement for the orders
    /// and one for all their lines.
    fn orders_after(&self, business: BusinessId, after: i64) -> Result<Vec<Order>>;

    /// The order number and customer (as they are now) of each of the business's orders, in
    /// (time, id) order: one statement.
    fn order_customers(&self, business: BusinessId) -> Result<Vec<(String, CustomerId)>>;

    /// The customer (as they are now) of the business's order with this number, if there is one.
    fn order_customer(&self, business: BusinessId, number: &str) -> Result<Option<CustomerId>>;

    /// The survey answers of the business with an id above `after`, by id, each on the customer
    /// it belongs to now: one statement for all its surveys.
    fn responses_after(&self, business: BusinessId, after: i64) -> Result<Vec<SurveyResponse>>;

    /// The business's feedback with an id above `after`, in (time, id) order: one statement.
    fn feedback_after(&self, business: BusinessId, after: i64) -> Result<Vec<Feedback>>;

    /// The customers with these ids (a merged one's id gives the customer it became), in the
    /// order given, leaving out ids that are not the business's: one statement for them all.
    fn customers_by_ids(&self, business: BusinessId, ids: &[CustomerId]) -> Result<Vec<Customer>>;
}

/// Loads of a business's events for analysis beyond [`crate::Store::load_events`].
pub trait EventLoads {
    /// All events of a business like [`Store::load_events`], but only the selected columns (the
    /// others are empty vectors): what a query that reads few columns loads, in less time and
    /// memory. Each column is reserved at its exact final size, so the table holds no slack.
    fn load_selected_events(&self, business: BusinessId, selection: EventSelection) -> Result<EventTable>;

    /// [`Self::load_selected_events`] keeping only the events whose name passes `keep` (tested
    /// once per distinct string; the name column is loaded whatever `selection` says): what a
    /// funnel over named steps reads, as ClickHouse reads only the rows of `WHERE event IN (...)`.
    fn load_named_events(&self, business: BusinessId, selection: EventSelection, keep: &dyn Fn(&str) -> bool) -> Result<EventTable>;

    /// The events appended to `business` since a reader read up to `after` (segments with a
    /// larger id), each row resolved to its customer through `after.customer_of`, which must
    /// hold every identity the new segments name (a reader extends it with
    /// [`SqliteStore::identities_after`] in the same snapshot). The table's `strings` are the
    /// dictionary's entries from id `after.strings` on (the reader has the ones before); its
    /// rows' string ids index the whole dictionary. Run it inside [`SqliteStore::snapshot`]
    /// with the reads it must agree with.
    fn load_events_after(&self, business: BusinessId, selection: EventSelection, after: &EventsAfter<'_>) -> Result<EventTable>;
}
