//! Upkeep of the store that changes no answer: merging the small event segments that tracking
//! writes leave (see the store's merge.rs), one bounded transaction at a time, so the server's
//! writer can run it between group commits and its hourly task can finish it.

use crate::{App, Result};
use trailmap_model::Business;
use trailmap_store::{Compaction, SegmentMerging};
use trailmap_store::{CompactSummary, MERGE_AFTER, MergeSummary};

impl App {
    /// Whether this app's writes have left enough small segments for a merge to be worth a
    /// transaction ([`MERGE_AFTER`]).
    pub fn merge_due(&self) -> bool {
        self.store().unmerged_segments() >= MERGE_AFTER
    }

    /// One merge of small adjacent segments (one transaction of at most one segment's rows) in
    /// the first business that has some: among those this app wrote small segments to, or every
    /// business when `everywhere`. `None` when there is nothing (more) to merge.
    pub fn merge_small_segments(&mut self, everywhere: bool) -> Result<Option<MergeSummary>> {
        Ok(self.store_mut().merge_step(everywhere)?)
    }

    /// Rewrites the business's stored events in customer order (see the store's compaction): the
    /// same events, keys and answers, loaded without regrouping.
    pub fn compact_events(&mut self, business: &Business) -> Result<CompactSummary> {
        Ok(self.store_mut().compact_events(business.id)?)
    }
}
