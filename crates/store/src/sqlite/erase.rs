//! Erasing one person, on their request: everything held about a customer (and every customer
//! merged into them) is removed in one write transaction: their events from inside every event
//! segment (the segments holding them are rewritten without their rows, and those rows'
//! deduplication keys go with them), their identities, orders and order lines, survey answers and
//! feedback (quotes, reviews, notes), and the customer rows. Dictionary strings that only their
//! events used are removed too, so a page address carrying their email does not outlive them.
//!
//! What stays is the fact that an erasure happened (when, and how many records of each kind, in
//! `erasures`) and a tombstone per identity: the SHA-256 of its kind and value, which cannot be
//! read back into an email but does recognise it. A record that names a tombstoned identity is
//! refused with the date of the erasure (`SqliteWriter::resolve`), so a re-import of an old file or
//! a client's retry cannot bring the person back without anyone noticing.
//!
//! The connection runs the erasure with `secure_delete` on, so freed pages are overwritten with
//! zeros, and truncates the write-ahead log afterwards: the data is gone from the file, not only
//! unlinked. A crash before the commit leaves the whole person; after it, nothing of them.

use crate::*;
use crate::segment::{self, ColumnSelection, DecodedSegment, TEXT_COLUMNS};
use super::writer::{rewrite_segment, segment_blobs};
use crate::{Result, SqliteStore, StoreError};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::{BTreeSet, HashSet};
use trailmap_model::{BusinessId, CustomerId, Identity, IdentityKind, Timestamp};

impl SqliteStore {

    /// [`Self::erase_customer`], calling `before_commit` when everything is removed, just before the
    /// commit (an error from it rolls everything back); the kill test stops the process there.
    pub fn erase_customer_with(
        &mut self,
        business: BusinessId,
        customer: CustomerId,
        at: Timestamp,
        before_commit: &mut dyn FnMut(&ErasureSummary) -> Result<()>,
    ) -> Result<ErasureSummary> {
        self.conn.execute_batch("PRAGMA secure_delete = ON;")?;
        let result = self.erase_in_transaction(business, customer, at, before_commit);
        let _ = self.conn.execute_batch("PRAGMA secure_delete = OFF;");
        let summary = result?;
        // The log still holds pages written before the erasure; checkpoint it into the (now
        // zeroed) file and truncate it. A reader in the way leaves it for later, which is no error.
        let _ = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        Ok(summary)
    }

    fn erase_in_transaction(
        &mut self,
        business: BusinessId,
        customer: CustomerId,
        at: Timestamp,
        before_commit: &mut dyn FnMut(&ErasureSummary) -> Result<()>,
    ) -> Result<ErasureSummary> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (person, identity_ids) = person_of(&tx, business, customer)?;
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

        let (events, rewritten, strings) = remove_events(&tx, business, &identity_ids)?;
        summary.events = events;
        summary.segments_rewritten = rewritten;
        remove_unused_strings(&tx, &strings)?;

        let ids = group.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        // The ids are our own integers, so writing them into the statement is safe.
        tx.execute(&format!("DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders WHERE customer IN ({ids}))"), [])?;
        summary.orders = tx.execute(&format!("DELETE FROM orders WHERE customer IN ({ids})"), [])? as u64;
        summary.survey_responses = tx.execute(&format!("DELETE FROM survey_responses WHERE customer IN ({ids})"), [])? as u64;
        summary.feedback = tx.execute(&format!("DELETE FROM feedback WHERE customer IN ({ids})"), [])? as u64;
        tx.execute(&format!("DELETE FROM identities WHERE customer IN ({ids})"), [])?;
        // Merged customers point at the root; they go first.
        tx.execute(&format!("DELETE FROM customers WHERE id IN ({ids}) AND id != ?1"), [root])?;
        tx.execute("DELETE FROM customers WHERE id = ?1", [root])?;

        tx.execute(
            "INSERT INTO erasures (business, erased_at, customers, identities, events, orders, survey_responses, feedback) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                business.0,
                at.0,
                summary.customers as i64,
                summary.identities as i64,
                summary.events as i64,
                summary.orders as i64,
                summary.survey_responses as i64,
                summary.feedback as i64
            ],
        )?;
        let erasure = tx.last_insert_rowid();
        {
            let mut stmt = tx.prepare("INSERT OR IGNORE INTO erased_identities (business, hash, erasure) VALUES (?1, ?2, ?3)")?;
            for identity in &person.identities {
                stmt.execute(params![business.0, identity_hash(identity.kind, &identity.value), erasure])?;
            }
        }
        // Every answer computed from this business's data is out of date.
        tx.execute("UPDATE businesses SET data_version = data_version + 1 WHERE id = ?1", [business.0])?;
        before_commit(&summary)?;
        tx.commit()?;
        Ok(summary)
    }

}

/// The person `customer` is part of (see [`SqliteStore::person`]), with their identities' ids.
fn person_of(conn: &Connection, business: BusinessId, customer: CustomerId) -> Result<(Person, Vec<i64>)> {
    let found: Option<(i64, Option<i64>)> = conn
        .query_row("SELECT business, merged_into FROM customers WHERE id = ?1", [customer.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let root = match found {
        Some((b, merged_into)) if b == business.0 => merged_into.unwrap_or(customer.0),
        _ => return Err(StoreError::NotFound { what: "customer", id: customer.0 }),
    };
    // Merging re-points every earlier merge at the surviving customer, so the person is the root
    // and the customers whose merged_into is the root.
    let merged: Vec<CustomerId> = conn
        .prepare("SELECT id FROM customers WHERE merged_into = ?1 ORDER BY id")?
        .query_map([root], |r| r.get(0).map(CustomerId))?
        .collect::<Result<_, _>>()?;
    let mut identities = Vec::new();
    let mut ids = Vec::new();
    let mut stmt = conn.prepare("SELECT id, kind, value FROM identities WHERE customer = ?1 ORDER BY id")?;
    for c in std::iter::once(root).chain(merged.iter().map(|c| c.0)) {
        for row in stmt.query_map([c], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))? {
            let (id, kind, value) = row?;
            let kind = IdentityKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("identity kind {kind:?}")))?;
            identities.push(Identity { kind, value });
            ids.push(id);
        }
    }
    Ok((Person { customer: CustomerId(root), merged, identities }, ids))
}

/// The time of the erasure that tombstoned `hash` in `business`, if any.
pub(crate) fn erased_at(conn: &Connection, business: BusinessId, hash: &str) -> Result<Option<Timestamp>> {
    Ok(conn
        .prepare_cached("SELECT e.erased_at FROM erased_identities t JOIN erasures e ON e.id = t.erasure WHERE t.business = ?1 AND t.hash = ?2")?
        .query_row(params![business.0, hash], |r| r.get::<_, i64>(0))
        .optional()?
        .map(Timestamp))
}

/// Rewrites every segment of `business` that holds a row of `identities` without those rows
/// (deleting it when nothing else is left); answers the rows removed, the segments rewritten, and
/// the dictionary strings the removed rows used.
fn remove_events(conn: &Connection, business: BusinessId, identities: &HashSet<i64>) -> Result<(u64, u64, BTreeSet<u32>)> {
    let mut removed = 0u64;
    let mut rewritten = 0u64;
    let mut strings = BTreeSet::new();
    if identities.is_empty() {
        return Ok((0, 0, strings));
    }
    let segments: Vec<i64> =
        conn.prepare("SELECT id FROM event_segments WHERE business = ?1 ORDER BY id")?.query_map([business.0], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let only_identity = ColumnSelection { text: [false; TEXT_COLUMNS], revenue: false, properties: false };
    let mut scratch = Vec::new();
    for id in segments {
        let (columns, keys) = segment_blobs(conn, id)?;
        // A first look at the identity column alone: most segments hold none of the person's rows.
        let mut probe = DecodedSegment::default();
        segment::decode_into(id, &columns, &only_identity, &mut probe, &mut scratch)?;
        if !probe.identity.iter().any(|i| identities.contains(i)) {
            continue;
        }
        removed += rewrite_segment(conn, business, id, (&columns, keys.as_deref()), &mut |_, identity, text| {
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
/// any more. The dictionary is shared, so every segment's text columns are read; an erasure is
/// rare, and this is what keeps a person's email in a page address from staying behind.
fn remove_unused_strings(conn: &Connection, candidates: &BTreeSet<u32>) -> Result<()> {
    if candidates.is_empty() {
        return Ok(());
    }
    let mut unused: HashSet<u32> = candidates.iter().copied().collect();
    let texts = ColumnSelection { text: [true; TEXT_COLUMNS], revenue: false, properties: false };
    let mut scratch = Vec::new();
    let mut stmt = conn.prepare("SELECT id, columns FROM event_segments")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        if unused.is_empty() {
            break;
        }
        let id: i64 = row.get(0)?;
        let mut decoded = DecodedSegment::default();
        segment::decode_into(id, row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?, &texts, &mut decoded, &mut scratch)?;
        for column in &decoded.text {
            for s in column {
                unused.remove(s);
            }
        }
    }
    let mut delete = conn.prepare("DELETE FROM strings WHERE id = ?1")?;
    for s in unused {
        delete.execute([i64::from(s)])?;
    }
    Ok(())
}

impl Erasure for SqliteStore {
    fn person(&self, business: BusinessId, customer: CustomerId) -> Result<Person> {
        Ok(person_of(&self.conn, business, customer)?.0)
    }

    fn customer_with_identity(&self, business: BusinessId, kind: IdentityKind, value: &str) -> Result<Option<CustomerId>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT coalesce(c.merged_into, c.id) FROM identities i JOIN customers c ON c.id = i.customer WHERE i.business = ?1 AND i.kind = ?2 AND i.value = ?3",
            )?
            .query_row(params![business.0, kind.as_str(), value], |r| r.get(0))
            .optional()?
            .map(CustomerId))
    }

    fn erased_at(&self, business: BusinessId, kind: IdentityKind, value: &str) -> Result<Option<Timestamp>> {
        erased_at(&self.conn, business, &identity_hash(kind, value))
    }

    fn erasures(&self, business: BusinessId) -> Result<Vec<ErasureSummary>> {
        let mut stmt = self.conn.prepare(
            "SELECT erased_at, customers, identities, events, orders, survey_responses, feedback FROM erasures WHERE business = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([business.0], |r| {
            let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
            Ok(ErasureSummary {
                business,
                erased_at: Timestamp(r.get(0)?),
                customers: n(1)?,
                identities: n(2)?,
                events: n(3)?,
                orders: n(4)?,
                survey_responses: n(5)?,
                feedback: n(6)?,
                segments_rewritten: 0,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn erase_customer(&mut self, business: BusinessId, customer: CustomerId, at: Timestamp) -> Result<ErasureSummary> {
        self.erase_customer_with(business, customer, at, &mut |_| Ok(()))
    }
}
