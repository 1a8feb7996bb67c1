//! Rewrites of a business's events on PostgreSQL, with the SQLite store's rules: merging small
//! segments (merge.rs: the first run of adjacent segments whose rows fit in one, written as one
//! under the run's last id, every row and key kept in place), retention (retention.rs: events
//! older than a cut-off removed, their keys with them) and erasure on request (erase.rs: a person's
//! rows taken out of every segment, their identities, orders, answers, feedback and customer rows
//! deleted, a tombstone per identity kept). Each is one transaction that first takes the write
//! lock, so it never interleaves with another process's write.

use super::pool::Pooled;
use super::writer::key_halves;
use super::{PgStore, WRITE_LOCK};
use crate::{Erasure, Retention, SegmentMerging};
use crate::identity_hash;
use crate::segment::{self, ColumnSelection, DecodedSegment, SEGMENT_ROWS, SegmentBuilder, TEXT_COLUMNS, decode_keys};
use crate::segment::copy_rows;
use crate::{ErasureSummary, ExpirySummary, MAX_RETENTION_DAYS, MergeSummary, Person, Result, StoreError};
use postgres::Transaction;
use std::collections::{BTreeSet, HashSet};
use trailmap_model::{BusinessId, CustomerId, Identity, IdentityKind, Timestamp};

/// A write transaction holding the write lock.
fn locked<'c>(conn: &'c mut Pooled<'_>) -> Result<Transaction<'c>> {
    let mut tx = conn.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
    Ok(tx)
}

fn check_business(tx: &mut Transaction<'_>, business: BusinessId) -> Result<()> {
    if tx.query_opt("SELECT id FROM businesses WHERE id = $1", &[&business.0])?.is_none() {
        return Err(StoreError::NotFound { what: "business", id: business.0 });
    }
    Ok(())
}

/// Segment `id`'s columns and keys, as stored.
fn segment_blobs(tx: &mut Transaction<'_>, id: i64) -> Result<(Vec<u8>, Vec<u8>)> {
    let row = tx.query_one("SELECT columns, keys FROM event_segments WHERE id = $1", &[&id])?;
    Ok((row.get(0), row.get(1)))
}

/// Inserts what `builder` holds as a segment of `business`, under `id` when given.
fn insert_segment_as(tx: &mut Transaction<'_>, business: BusinessId, id: Option<i64>, builder: &mut SegmentBuilder) -> Result<i64> {
    let rows = builder.len() as i64;
    let (min, max) = builder.min_max_time();
    let (columns, keys) = builder.finish();
    let row = match id {
        Some(id) => tx.query_one(
            "INSERT INTO event_segments (id, business, rows, min_time, max_time, columns, keys) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[&id, &business.0, &rows, &min, &max, &columns, &keys],
        )?,
        None => tx.query_one(
            "INSERT INTO event_segments (business, rows, min_time, max_time, columns, keys) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[&business.0, &rows, &min, &max, &columns, &keys],
        )?,
    };
    Ok(row.get(0))
}

/// Removes these keys from the business's stored keys, so the events could be sent again.
fn forget_keys(tx: &mut Transaction<'_>, business: BusinessId, keys: impl Iterator<Item = u128>) -> Result<()> {
    let (high, low): (Vec<i64>, Vec<i64>) = keys.map(key_halves).unzip();
    for (high, low) in high.chunks(50_000).zip(low.chunks(50_000)) {
        tx.execute(
            "DELETE FROM event_keys k USING unnest($2::bigint[], $3::bigint[]) AS f(h, l) WHERE k.business = $1 AND k.key_high = f.h AND k.key_low = f.l",
            &[&business.0, &high, &low],
        )?;
    }
    Ok(())
}

fn note_event_rewrite(tx: &mut Transaction<'_>, business: BusinessId) -> Result<()> {
    tx.execute("UPDATE businesses SET event_rewrites = event_rewrites + 1 WHERE id = $1", &[&business.0])?;
    Ok(())
}

/// Rewrites segment `id` keeping the rows `keep` accepts (every column and key copied as
/// stored); the removed rows' keys are forgotten. Answers how many rows were left out.
fn rewrite_segment(
    tx: &mut Transaction<'_>,
    business: BusinessId,
    id: i64,
    (columns, keys): (&[u8], &[u8]),
    keep: &mut dyn FnMut(i64, i64, &[u32; TEXT_COLUMNS]) -> bool,
) -> Result<u64> {
    let mut builder = SegmentBuilder::default();
    let removed = copy_rows(id, (columns, Some(keys)), &mut builder, keep)?;
    forget_keys(tx, business, removed.iter().copied())?;
    note_event_rewrite(tx, business)?;
    tx.execute("DELETE FROM event_segments WHERE id = $1", &[&id])?;
    if !builder.is_empty() {
        insert_segment_as(tx, business, None, &mut builder)?;
    }
    Ok(removed.len() as u64)
}

/// The first run of at least two adjacent segments, given as (id, rows) in id order, whose rows
/// fit in `limit` (as merge.rs finds it).
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

impl PgStore {
    /// Merges the first run of small adjacent segments of `business` in one transaction, as
    /// `SqliteStore::merge_small_segments`; `None` when there is no run to merge.
    pub fn merge_small_segments(&mut self, business: BusinessId) -> Result<Option<MergeSummary>> {
        let mut conn = self.pool.get()?;
        let mut tx = locked(&mut conn)?;
        check_business(&mut tx, business)?;
        let segments: Vec<(i64, i64)> = tx
            .query("SELECT id, rows FROM event_segments WHERE business = $1 ORDER BY id", &[&business.0])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let Some((start, end)) = first_run(&segments, SEGMENT_ROWS as i64) else {
            return Ok(None);
        };
        let run = &segments[start..end];
        let mut builder = SegmentBuilder::default();
        for &(id, _) in run {
            let (columns, keys) = segment_blobs(&mut tx, id)?;
            copy_rows(id, (&columns, Some(&keys)), &mut builder, &mut |_, _, _| true)?;
            tx.execute("DELETE FROM event_segments WHERE id = $1", &[&id])?;
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
        let segment = insert_segment_as(&mut tx, business, Some(run[run.len() - 1].0), &mut builder)?;
        tx.commit()?;
        Ok(Some(MergeSummary { business, segments: run.len() as u64, rows: expected as u64, segment }))
    }

    /// How many event segments the business has, and the rows they hold.
    pub fn segment_count(&self, business: BusinessId) -> Result<(u64, u64)> {
        let r = self.query_one("SELECT count(*), coalesce(sum(rows), 0)::bigint FROM event_segments WHERE business = $1", &[&business.0])?;
        Ok((r.get::<_, i64>(0).max(0) as u64, r.get::<_, i64>(1).max(0) as u64))
    }

    /// [`Self::erase_customer`], calling `before_commit` when everything is removed, just before
    /// the commit (an error from it rolls everything back).
    pub fn erase_customer_with(
        &mut self,
        business: BusinessId,
        customer: CustomerId,
        at: Timestamp,
        before_commit: &mut dyn FnMut(&ErasureSummary) -> Result<()>,
    ) -> Result<ErasureSummary> {
        let mut conn = self.pool.get()?;
        let mut tx = locked(&mut conn)?;
        let (person, identity_ids) = person_of(&mut tx, business, customer)?;
        let root = person.customer.0;
        let group: Vec<i64> = std::iter::once(root).chain(person.merged.iter().map(|c| c.0)).collect();
        let identity_ids: HashSet<i64> = identity_ids.into_iter().collect();
        let mut summary = ErasureSummary {
            business,
            erased_at: at,
            customers: group.len() as u64,
            identities: person.identities.len() as u64,
            events: 0,
            orders: 0,
            survey_responses: 0,
            feedback: 0,
            segments_rewritten: 0,
        };
        let (events, rewritten, strings) = remove_events(&mut tx, business, &identity_ids)?;
        summary.events = events;
        summary.segments_rewritten = rewritten;
        remove_unused_strings(&mut tx, &strings)?;
        tx.execute("DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders WHERE customer = ANY($1))", &[&group])?;
        summary.orders = tx.execute("DELETE FROM orders WHERE customer = ANY($1)", &[&group])?;
        summary.survey_responses = tx.execute("DELETE FROM survey_responses WHERE customer = ANY($1)", &[&group])?;
        summary.feedback = tx.execute("DELETE FROM feedback WHERE customer = ANY($1)", &[&group])?;
        tx.execute("DELETE FROM identities WHERE customer = ANY($1)", &[&group])?;
        // Merged customers point at the root; they go first.
        tx.execute("DELETE FROM customers WHERE id = ANY($1) AND id != $2", &[&group as &(dyn postgres::types::ToSql + Sync), &root])?;
        tx.execute("DELETE FROM customers WHERE id = $1", &[&root])?;
        let n = |v: u64| v as i64;
        let erasure: i64 = tx
            .query_one(
                "INSERT INTO erasures (business, erased_at, customers, identities, events, orders, survey_responses, feedback)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    &business.0,
                    &at.0,
                    &n(summary.customers),
                    &n(summary.identities),
                    &n(summary.events),
                    &n(summary.orders),
                    &n(summary.survey_responses),
                    &n(summary.feedback),
                ],
            )?
            .get(0);
        for identity in &person.identities {
            tx.execute(
                "INSERT INTO erased_identities (business, hash, erasure) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&business.0 as &(dyn postgres::types::ToSql + Sync), &identity_hash(identity.kind, &identity.value), &erasure],
            )?;
        }
        tx.execute("UPDATE businesses SET data_version = data_version + 1 WHERE id = $1", &[&business.0])?;
        before_commit(&summary)?;
        tx.commit()?;
        Ok(summary)
    }

}

/// The person `customer` is part of, with their identities' ids (as erase.rs finds them).
fn person_of(tx: &mut Transaction<'_>, business: BusinessId, customer: CustomerId) -> Result<(Person, Vec<i64>)> {
    let found: Option<(i64, Option<i64>)> =
        tx.query_opt("SELECT business, merged_into FROM customers WHERE id = $1", &[&customer.0])?.map(|r| (r.get(0), r.get(1)));
    let root = match found {
        Some((b, merged_into)) if b == business.0 => merged_into.unwrap_or(customer.0),
        _ => return Err(StoreError::NotFound { what: "customer", id: customer.0 }),
    };
    let merged: Vec<CustomerId> =
        tx.query("SELECT id FROM customers WHERE merged_into = $1 ORDER BY id", &[&root])?.iter().map(|r| CustomerId(r.get(0))).collect();
    let mut identities = Vec::new();
    let mut ids = Vec::new();
    for c in std::iter::once(root).chain(merged.iter().map(|c| c.0)) {
        for r in tx.query("SELECT id, kind, value FROM identities WHERE customer = $1 ORDER BY id", &[&c])? {
            let kind: &str = r.get(1);
            let kind = IdentityKind::parse(kind).ok_or_else(|| StoreError::Corrupt(format!("identity kind {kind:?}")))?;
            identities.push(Identity { kind, value: r.get(2) });
            ids.push(r.get(0));
        }
    }
    Ok((Person { customer: CustomerId(root), merged, identities }, ids))
}

/// Rewrites every segment of `business` holding a row of `identities` without those rows;
/// answers the rows removed, the segments rewritten, and the strings the removed rows used.
fn remove_events(tx: &mut Transaction<'_>, business: BusinessId, identities: &HashSet<i64>) -> Result<(u64, u64, BTreeSet<u32>)> {
    let mut removed = 0u64;
    let mut rewritten = 0u64;
    let mut strings = BTreeSet::new();
    if identities.is_empty() {
        return Ok((0, 0, strings));
    }
    let segments: Vec<i64> = tx.query("SELECT id FROM event_segments WHERE business = $1 ORDER BY id", &[&business.0])?.iter().map(|r| r.get(0)).collect();
    let only_identity = ColumnSelection { text: [false; TEXT_COLUMNS], revenue: false, properties: false };
    let mut scratch = Vec::new();
    for id in segments {
        let (columns, keys) = segment_blobs(tx, id)?;
        let mut probe = DecodedSegment::default();
        segment::decode_into(id, &columns, &only_identity, &mut probe, &mut scratch)?;
        if !probe.identity.iter().any(|i| identities.contains(i)) {
            continue;
        }
        removed += rewrite_segment(tx, business, id, (&columns, &keys), &mut |_, identity, text| {
            let theirs = identities.contains(&identity);
            if theirs {
                strings.extend(text.iter().copied().filter(|&s| s != 0));
            }
            !theirs
        })?;
        rewritten += 1;
    }
    Ok((removed, rewritten, strings))
}

/// Deletes the dictionary strings among `candidates` that no event segment of any business uses
/// any more (the dictionary is shared), so a person's email in a page address does not stay.
fn remove_unused_strings(tx: &mut Transaction<'_>, candidates: &BTreeSet<u32>) -> Result<()> {
    if candidates.is_empty() {
        return Ok(());
    }
    let mut unused: HashSet<u32> = candidates.iter().copied().collect();
    let texts = ColumnSelection { text: [true; TEXT_COLUMNS], revenue: false, properties: false };
    let mut scratch = Vec::new();
    let ids: Vec<i64> = tx.query("SELECT id FROM event_segments ORDER BY id", &[])?.iter().map(|r| r.get(0)).collect();
    for id in ids {
        if unused.is_empty() {
            break;
        }
        let columns: Vec<u8> = tx.query_one("SELECT columns FROM event_segments WHERE id = $1", &[&id])?.get(0);
        let mut decoded = DecodedSegment::default();
        segment::decode_into(id, &columns, &texts, &mut decoded, &mut scratch)?;
        for column in &decoded.text {
            for s in column {
                unused.remove(s);
            }
        }
    }
    let unused: Vec<i64> = unused.into_iter().map(i64::from).collect();
    tx.execute("DELETE FROM strings WHERE id = ANY($1)", &[&unused])?;
    Ok(())
}

impl SegmentMerging for PgStore {
    fn unmerged_segments(&self) -> u64 {
        self.unmerged.values().sum()
    }

    fn merge_step(&mut self, everywhere: bool) -> Result<Option<MergeSummary>> {
        let mut businesses: Vec<BusinessId> = if everywhere {
            self.query("SELECT id FROM businesses ORDER BY id", &[])?.iter().map(|r| BusinessId(r.get(0))).collect()
        } else {
            self.unmerged.keys().copied().collect()
        };
        businesses.sort();
        for business in businesses {
            if let Some(summary) = self.merge_small_segments(business)? {
                // The merged segments count as merged, so the next merge waits for new ones.
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

impl Retention for PgStore {
    fn event_retention(&self, business: BusinessId) -> Result<Option<u32>> {
        match self.query_opt("SELECT event_retention_days FROM businesses WHERE id = $1", &[&business.0])? {
            None => Err(StoreError::NotFound { what: "business", id: business.0 }),
            Some(r) => Ok(r.get::<_, Option<i64>>(0).and_then(|d| u32::try_from(d).ok())),
        }
    }

    fn set_event_retention(&mut self, business: BusinessId, days: Option<u32>) -> Result<()> {
        if let Some(d) = days
            && !(1..=MAX_RETENTION_DAYS).contains(&d)
        {
            return Err(StoreError::Invalid(format!("a retention of {d} days: give 1 to {MAX_RETENTION_DAYS} days")));
        }
        if self.execute("UPDATE businesses SET event_retention_days = $2 WHERE id = $1", &[&business.0, &days.map(i64::from)])? == 0 {
            return Err(StoreError::NotFound { what: "business", id: business.0 });
        }
        Ok(())
    }

    fn expire_events(&mut self, business: BusinessId, before: Timestamp) -> Result<ExpirySummary> {
        let mut summary = ExpirySummary { business, before, events: 0, segments_deleted: 0, segments_rewritten: 0, bytes_freed: 0 };
        let mut conn = self.pool.get()?;
        let mut tx = locked(&mut conn)?;
        let old: Vec<(i64, i64, i64)> = tx
            .query("SELECT id, rows, max_time FROM event_segments WHERE business = $1 AND min_time < $2 ORDER BY id", &[&business.0, &before.0])?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        if old.is_empty() {
            return Ok(summary);
        }
        for (id, rows, max_time) in old {
            let (columns, keys) = segment_blobs(&mut tx, id)?;
            if max_time < before.0 {
                summary.events += u64::try_from(rows).unwrap_or(0);
                summary.segments_deleted += 1;
                forget_keys(&mut tx, business, decode_keys(id, &keys)?)?;
                tx.execute("DELETE FROM event_segments WHERE id = $1", &[&id])?;
                note_event_rewrite(&mut tx, business)?;
            } else {
                summary.events += rewrite_segment(&mut tx, business, id, (&columns, &keys), &mut |time, _, _| time >= before.0)?;
                summary.segments_rewritten += 1;
            }
        }
        tx.execute("UPDATE businesses SET data_version = data_version + 1 WHERE id = $1", &[&business.0])?;
        tx.commit()?;
        Ok(summary)
    }
}

impl Erasure for PgStore {
    fn erase_customer(&mut self, business: BusinessId, customer: CustomerId, at: Timestamp) -> Result<ErasureSummary> {
        self.erase_customer_with(business, customer, at, &mut |_| Ok(()))
    }

    fn person(&self, business: BusinessId, customer: CustomerId) -> Result<Person> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.build_transaction().read_only(true).start()?;
        let person = person_of(&mut tx, business, customer)?.0;
        tx.commit()?;
        Ok(person)
    }

    fn customer_with_identity(&self, business: BusinessId, kind: IdentityKind, value: &str) -> Result<Option<CustomerId>> {
        Ok(self
            .query_opt(
                "SELECT coalesce(c.merged_into, c.id) FROM identities i JOIN customers c ON c.id = i.customer
                 WHERE i.business = $1 AND i.kind = $2 AND i.value = $3",
                &[&business.0, &kind.as_str(), &value],
            )?
            .map(|r| CustomerId(r.get(0))))
    }

    fn erased_at(&self, business: BusinessId, kind: IdentityKind, value: &str) -> Result<Option<Timestamp>> {
        Ok(self
            .query_opt(
                "SELECT e.erased_at FROM erased_identities t JOIN erasures e ON e.id = t.erasure WHERE t.business = $1 AND t.hash = $2",
                &[&business.0, &identity_hash(kind, value)],
            )?
            .map(|r| Timestamp(r.get(0))))
    }

    fn erasures(&self, business: BusinessId) -> Result<Vec<ErasureSummary>> {
        Ok(self
            .query(
                "SELECT erased_at, customers, identities, events, orders, survey_responses, feedback FROM erasures WHERE business = $1 ORDER BY id",
                &[&business.0],
            )?
            .iter()
            .map(|r| {
                let n = |i: usize| r.get::<_, i64>(i).max(0) as u64;
                ErasureSummary {
                    business,
                    erased_at: Timestamp(r.get(0)),
                    customers: n(1),
                    identities: n(2),
                    events: n(3),
                    orders: n(4),
                    survey_responses: n(5),
                    feedback: n(6),
                    segments_rewritten: 0,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::first_run;

    #[test]
    fn the_first_run_is_adjacent_segments_that_fit_together() {
        assert_eq!(first_run(&[], 10), None);
        assert_eq!(first_run(&[(1, 3), (2, 4)], 10), Some((0, 2)));
        assert_eq!(first_run(&[(1, 8), (2, 10), (3, 9), (4, 1)], 10), Some((2, 4)));
        assert_eq!(first_run(&[(1, 6), (2, 6), (3, 6)], 10), None);
    }
}
