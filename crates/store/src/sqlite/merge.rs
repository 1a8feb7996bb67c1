//! Merging small segments, online. Every write that is not a bulk import ends in a segment of its
//! own (a tracking group commit holds a few hundred events), so a busy store collects thousands of
//! small segments, and every load pays per segment. A merge takes the first run of adjacent
//! segments of a business (adjacent: no segment of that business between them) whose rows fit in
//! one segment, [`SEGMENT_ROWS`], and writes their rows, in their order, as one segment under the
//! id of the run's last segment. So a load sees the same rows in the same order (each segment in
//! id order, its rows in order), every key is kept, and the business's `data_version` stays:
//! every answer is the same.
//!
//! One merge is one write transaction of at most [`SEGMENT_ROWS`] rows: the old segments and
//! their key rows are deleted and the merged one inserted, so a crash leaves either the old ones or
//! the new one, and memory stays bounded (one segment's columns). Merged segments are never
//! smaller than half a segment next to each other, since two neighbours that fit together are
//! merged: after merging, a business holds fewer than `2 × rows / SEGMENT_ROWS + 1` segments.
//!
//! A reader that keeps events and comes back for what was appended (`DataMark`) sees the same
//! rows up to its mark, under fewer segments: the mark counts the rows up to its last segment, not
//! the segments, so a merge below the mark does not make it load everything again.
//!
//! Who merges: the server's writer thread, one merge after a group commit whenever its writes have
//! left [`MERGE_AFTER`] small segments or more not merged yet, so merges interleave with
//! tracking writes; and the server's hourly upkeep, which merges every business to the end. The
//! segments a merge took count as merged, so the last, growing segment is rewritten once per
//! [`MERGE_AFTER`] small writes, not after each: a row is rewritten at most
//! `SEGMENT_ROWS / (MERGE_AFTER × rows a write)` times on its way into a full segment (11 at 355
//! rows a write; `bench/results/segments.md` measures the cost).

use crate::*;
use crate::segment::SEGMENT_ROWS;
use super::writer::{delete_segment, insert_segment_as, segment_blobs};
use crate::segment::copy_rows;
use crate::{Result, SqliteStore, StoreError};
use rusqlite::{OptionalExtension, TransactionBehavior};
use trailmap_model::BusinessId;

/// The first run of at least two adjacent segments, given as (id, rows) in id order, whose rows
/// fit in `limit`: the positions `start..end`.
fn first_run(segments: &[(i64, i64)], limit: i64) -> Option<(usize, usize)> {
    let mut start = 0;
    let mut held = 0i64;
    for (i, &(_, rows)) in segments.iter().enumerate() {
        if held + rows <= limit {
            held += rows;
            continue;
        }
        if i - start >= 2 {
            return Some((start, i));
        }
        start = i;
        held = rows;
    }
    (segments.len() - start >= 2).then_some((start, segments.len()))
}

impl SqliteStore {
    /// Merges the first run of small adjacent segments of `business` (see the module's comment) in
    /// one transaction; `None` when there is no run to merge.
    pub fn merge_small_segments(&mut self, business: BusinessId) -> Result<Option<MergeSummary>> {
        self.merge_small_segments_with(business, &mut |_| Ok(()))
    }

    /// [`Self::merge_small_segments`], calling `before_commit` once the merged segment is written
    /// and the old ones deleted, just before the commit (an error from it rolls the merge back); the
    /// kill test stops the process there.
    pub fn merge_small_segments_with(
        &mut self,
        business: BusinessId,
        before_commit: &mut dyn FnMut(&MergeSummary) -> Result<()>,
    ) -> Result<Option<MergeSummary>> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known: Option<i64> = tx.query_row("SELECT id FROM businesses WHERE id = ?1", [business.0], |r| r.get(0)).optional()?;
        if known.is_none() {
            return Err(StoreError::NotFound { what: "business", id: business.0 });
        }
        // Only the id and row count: the blobs are read for the run alone.
        let segments: Vec<(i64, i64)> = tx
            .prepare_cached("SELECT id, rows FROM event_segments WHERE business = ?1 ORDER BY id")?
            .query_map([business.0], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let Some((start, end)) = first_run(&segments, SEGMENT_ROWS as i64) else {
            return Ok(None);
        };
        let run = &segments[start..end];
        let mut builder = crate::segment::SegmentBuilder::default();
        for &(id, _) in run {
            let (columns, keys) = segment_blobs(&tx, id)?;
            copy_rows(id, (&columns, keys.as_deref()), &mut builder, &mut |_, _, _| true)?;
            delete_segment(&tx, id)?;
        }
        let expected: i64 = run.iter().map(|&(_, rows)| rows).sum();
        if builder.len() as i64 != expected {
            return Err(StoreError::Corrupt(format!(
                "merging segments {} to {} of business {} found {} rows, their counts say {expected}; nothing was changed",
                run[0].0,
                run[run.len() - 1].0,
                business.0,
                builder.len()
            )));
        }
        let last = run[run.len() - 1].0;
        let segment = insert_segment_as(&tx, business, Some(last), &mut builder)?;
        let summary = MergeSummary { business, segments: run.len() as u64, rows: expected as u64, segment };
        before_commit(&summary)?;
        tx.commit()?;
        Ok(Some(summary))
    }

    /// How many event segments the business has, and the rows they hold.
    pub fn segment_count(&self, business: BusinessId) -> Result<(u64, u64)> {
        let (segments, rows): (i64, i64) = self
            .conn
            .prepare_cached("SELECT count(*), coalesce(sum(rows), 0) FROM event_segments WHERE business = ?1")?
            .query_row([business.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((u64::try_from(segments).unwrap_or(0), u64::try_from(rows).unwrap_or(0)))
    }

    /// How many keys the business's key index holds (equal to its stored events once built).
    pub fn indexed_keys(&self, business: BusinessId) -> Result<u64> {
        super::dedup::indexed_keys(&self.conn, business)
    }

    /// The size of the store's file in bytes (pages times page size; the log apart).
    pub fn file_bytes(&self) -> Result<u64> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let page: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(u64::try_from(pages * page).unwrap_or(0))
    }
}

impl SegmentMerging for SqliteStore {
    fn unmerged_segments(&self) -> u64 {
        self.unmerged.values().sum()
    }

    fn merge_step(&mut self, everywhere: bool) -> Result<Option<MergeSummary>> {
        let mut businesses: Vec<BusinessId> = if everywhere {
            self.conn
                .prepare_cached("SELECT id FROM businesses ORDER BY id")?
                .query_map([], |r| Ok(BusinessId(r.get(0)?)))?
                .collect::<Result<_, _>>()?
        } else {
            self.unmerged.keys().copied().collect()
        };
        businesses.sort();
        for business in businesses {
            if let Some(summary) = self.merge_small_segments(business)? {
                // The merged segments count as merged, so the next merge waits for MERGE_AFTER new
                // ones: merging after every write would rewrite the growing last segment each
                // time (the run takes it in), a full segment's rows per small write.
                if let Some(count) = self.unmerged.get_mut(&business) {
                    *count = count.saturating_sub(summary.segments);
                    if *count == 0 {
                        self.unmerged.remove(&business);
                    }
                }
                return Ok(Some(summary));
            }
            self.unmerged.remove(&business);
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::first_run;

    #[test]
    fn the_first_run_is_adjacent_segments_that_fit_together() {
        assert_eq!(first_run(&[], 10), None);
        assert_eq!(first_run(&[(1, 3)], 10), None);
        assert_eq!(first_run(&[(1, 3), (2, 4)], 10), Some((0, 2)));
        assert_eq!(first_run(&[(1, 3), (2, 4), (3, 3), (4, 1)], 10), Some((0, 3)));
        // A full segment between small ones is left alone; the run starts after it.
        assert_eq!(first_run(&[(1, 8), (2, 10), (3, 9), (4, 1)], 10), Some((2, 4)));
        assert_eq!(first_run(&[(1, 6), (2, 6), (3, 6)], 10), None);
        assert_eq!(first_run(&[(1, 6), (2, 6), (3, 2), (4, 2)], 10), Some((1, 4)));
    }
}
