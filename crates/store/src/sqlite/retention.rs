//! Retention of raw events: a business may keep its events for a number of days
//! (`businesses.event_retention_days`; none keeps them for ever). Expiring removes the events older
//! than the cut-off in one write transaction: segments entirely older are deleted with their keys,
//! a segment that straddles the cut-off is rewritten with its newer rows only (keys kept). Orders,
//! survey answers and feedback are business records, not raw events, and stay.
//!
//! Space is given back to the file system afterwards (`give_back_space`): stores are created with
//! incremental auto-vacuum, so freed pages are returned at once; a store made before that is
//! converted by one `VACUUM` the first time (a one-off cost proportional to the store's size).

use super::writer::{delete_segment, rewrite_segment, segment_blobs};
use crate::*;
use crate::{Result, SqliteStore, StoreError};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use trailmap_model::{BusinessId, Timestamp};

impl SqliteStore {

    /// Returns the file's free pages to the file system; answers the bytes the file shrank by.
    pub fn give_back_space(&mut self) -> Result<u64> {
        let size = |conn: &rusqlite::Connection| -> Result<i64> {
            let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            Ok(pages * page)
        };
        let before = size(&self.conn)?;
        let mode: i64 = self.conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
        // 2 is INCREMENTAL. A store from before it is converted by one VACUUM, once.
        if mode != 2 {
            self.conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")?;
        } else {
            // The pragma frees one page per step: it must be stepped to the end.
            let mut stmt = self.conn.prepare("PRAGMA incremental_vacuum")?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {}
        }
        // The log holds the pages the vacuum moved; a reader in the way leaves it for later.
        let _ = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        let after = size(&self.conn)?;
        Ok(u64::try_from(before - after).unwrap_or(0))
    }
}

impl Retention for SqliteStore {
    fn event_retention(&self, business: BusinessId) -> Result<Option<u32>> {
        let found: Option<Option<i64>> = self
            .conn
            .prepare_cached("SELECT event_retention_days FROM businesses WHERE id = ?1")?
            .query_row([business.0], |r| r.get(0))
            .optional()?;
        match found {
            None => Err(StoreError::NotFound { what: "business", id: business.0 }),
            Some(days) => Ok(days.and_then(|d| u32::try_from(d).ok())),
        }
    }

    fn set_event_retention(&mut self, business: BusinessId, days: Option<u32>) -> Result<()> {
        if let Some(d) = days
            && !(1..=MAX_RETENTION_DAYS).contains(&d)
        {
            return Err(StoreError::Invalid(format!("a retention of {d} days: give 1 to {MAX_RETENTION_DAYS} days")));
        }
        let changed = self.conn.execute("UPDATE businesses SET event_retention_days = ?2 WHERE id = ?1", params![business.0, days])?;
        if changed == 0 {
            return Err(StoreError::NotFound { what: "business", id: business.0 });
        }
        Ok(())
    }

    fn expire_events(&mut self, business: BusinessId, before: Timestamp) -> Result<ExpirySummary> {
        let mut summary = ExpirySummary { business, before, events: 0, segments_deleted: 0, segments_rewritten: 0, bytes_freed: 0 };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old: Vec<(i64, i64, i64)> = tx
            .prepare("SELECT id, rows, max_time FROM event_segments WHERE business = ?1 AND min_time < ?2 ORDER BY id")?
            .query_map(params![business.0, before.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        if old.is_empty() {
            return Ok(summary);
        }
        for (id, rows, max_time) in old {
            if max_time < before.0 {
                summary.events += u64::try_from(rows).unwrap_or(0);
                summary.segments_deleted += 1;
                // The rows' keys leave the key index, so the events could be sent again.
                let (_, keys) = segment_blobs(&tx, id)?;
                let keys = keys.ok_or_else(|| StoreError::Corrupt(format!("event segment {id} has no keys")))?;
                super::dedup::forget_keys(&tx, business, crate::segment::decode_keys(id, &keys)?)?;
                delete_segment(&tx, id)?;
                super::writer::note_event_rewrite(&tx, business)?;
            } else {
                let (columns, keys) = segment_blobs(&tx, id)?;
                summary.events += rewrite_segment(&tx, business, id, (&columns, keys.as_deref()), &mut |time, _, _| time >= before.0)?;
                summary.segments_rewritten += 1;
            }
        }
        tx.execute("UPDATE businesses SET data_version = data_version + 1 WHERE id = ?1", [business.0])?;
        tx.commit()?;
        // The events are gone either way; a vacuum that cannot run now (a reader in the way of the
        // one-off conversion) leaves the space for the next expiry.
        summary.bytes_freed = self.give_back_space().unwrap_or(0);
        Ok(summary)
    }
}
