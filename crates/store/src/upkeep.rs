//! Upkeep of the stored events that changes no answer: compaction (events rewritten in customer
//! order so loads need no regrouping) and merging small segments (what tracking writes leave).
//! A backend that keeps events otherwise may do nothing here and say so in its summaries.

use crate::Result;
use serde::Serialize;
use trailmap_model::BusinessId;

/// What a compaction found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CompactSummary {
    pub business: BusinessId,
    /// The business's events, the same number before and after.
    pub events: u64,
    pub segments_before: u64,
    pub segments_after: u64,
    /// Whether the segments were rewritten; `false` when they were in customer order already.
    pub rewritten: bool,
    /// Passes over the old segments the rewrite made after the first (one per chunk of customers).
    pub passes: u64,
    /// The store file's size before and after, free pages given back to the file system (the
    /// old segments' pages, and any left free before), so a compaction never leaves it larger.
    pub file_bytes_before: u64,
    pub file_bytes_after: u64,
}

/// Small segments written by this store's connection, not merged yet, at which a merge is due.
pub const MERGE_AFTER: u64 = 16;

/// What one merge did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MergeSummary {
    pub business: BusinessId,
    /// The segments merged (at least two).
    pub segments: u64,
    /// Their rows, now in one segment.
    pub rows: u64,
    /// The merged segment's id: the id of the last segment of the run.
    pub segment: i64,
}

/// Rewriting a business's events in customer order.
pub trait Compaction {
    /// Rewrites the event segments of `business` in (customer, time, recorded position) order,
    /// customers resolved through the identities as they are now, so that loads need no regrouping;
    /// leaves them alone when they are in that order already (one check pass). Rows, keys and
    /// every column are kept exactly; the business's `data_version` does not change, because the
    /// events and every answer computed from them are the same.
    fn compact_events(&mut self, business: BusinessId) -> Result<CompactSummary>;
}

/// Merging the small segments that tracking writes leave, online, one transaction at a time.
pub trait SegmentMerging {
    /// Small segments this connection's writes made that no merge has looked at yet, over all
    /// businesses; a merge is due at [`MERGE_AFTER`].
    fn unmerged_segments(&self) -> u64;

    /// One merge (one transaction) in the first business with a run to merge: among those this
    /// connection wrote small segments to, or among every business when `everywhere` (the
    /// periodic upkeep, which also finds what other processes wrote). A business found with
    /// nothing to merge is forgotten until its next small segment. `None` when nothing is left.
    fn merge_step(&mut self, everywhere: bool) -> Result<Option<MergeSummary>>;
}
