//! The tracking API's side of the app: write keys (kept as hashes; the server makes and hashes
//! them), listed with their last use and revoked, the one-transaction write of many requests'
//! messages at once (the server's group commit), and the counts of messages dropped on purpose,
//! by reason.
//!
//! A key's last use is recorded once per group commit (one UPDATE per key in the group, not one
//! per message), in the group's own transaction. The same statement checks that the key is still
//! live, so a key revoked while its requests waited (by the web app, or by the CLI in another
//! process) sends nothing more: its requests are refused and named in [`TrackingCommit`].

use crate::{App, AppError, Result};
use std::borrow::Borrow;
use std::collections::BTreeSet;
use trailmap_ingest::segment::Converted;
use trailmap_model::{Business, BusinessId, Timestamp};
use trailmap_store::{Store, StoreError, WriteSummary};

pub use trailmap_store::WriteKey;

/// The longest name a write key may have, in characters.
const MAX_KEY_NAME_CHARS: usize = 200;

/// The drop reason of a tracking message that names a customer erased at their request.
pub const ERASED_DROP: &str = "erased";

/// The messages of one tracking request, converted, for one business.
#[derive(Debug, Clone, Default)]
pub struct TrackingWrite {
    pub business: Option<BusinessId>,
    /// The write key (by id) the request came with; its last use is recorded, and the write is
    /// refused when the key was revoked since it was looked up. None: a write made on the spot
    /// (`trailmap track offline`), which no key vouches for.
    pub key: Option<i64>,
    pub messages: Vec<Converted>,
    /// Messages left out, by reason name, to be counted.
    pub drops: Vec<(&'static str, u64)>,
}

/// What one group commit did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackingCommit {
    pub summary: WriteSummary,
    /// Keys found revoked (or deleted) at the commit: the writes that came with them were left
    /// out, and their requests must be refused.
    pub refused_keys: Vec<i64>,
}

impl App {
    /// Records a write key named `name` for `business` by the SHA-256 hex of the key.
    pub fn create_write_key(&mut self, business: &Business, name: &str, key_hash: &str) -> Result<WriteKey> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_KEY_NAME_CHARS {
            return Err(AppError::InvalidField {
                field: "name".into(),
                value: Some(name.to_string()),
                reason: format!("a write key needs a name of 1 to {MAX_KEY_NAME_CHARS} characters, such as \"website\""),
            });
        }
        self.store_mut().write::<StoreError>(&mut |w| w.create_write_key(business.id, name, key_hash).map(|_| ()))?;
        self.store()
            .write_key_by_hash(key_hash)?
            .ok_or_else(|| AppError::Invalid("the write key was not stored".into()))
    }

    /// A live (not revoked) write key by its hash, with the business it sends to.
    pub fn live_write_key(&self, key_hash: &str) -> Result<Option<(WriteKey, Business)>> {
        match self.store().write_key_by_hash(key_hash)?.filter(WriteKey::is_live) {
            Some(key) => {
                let business = self.store().business(key.business)?;
                Ok(Some((key, business)))
            }
            None => Ok(None),
        }
    }

    /// The business a live write key (given by its hash) sends to, if the key exists.
    pub fn business_for_write_key(&self, key_hash: &str) -> Result<Option<Business>> {
        Ok(self.live_write_key(key_hash)?.map(|(_, business)| business))
    }

    /// The business's write keys, oldest first, revoked ones included (with when).
    pub fn write_keys(&self, business: &Business) -> Result<Vec<WriteKey>> {
        Ok(self.store().write_keys(business.id)?)
    }

    /// One of the business's write keys, by id or, when `which` is not a number, by name.
    pub fn write_key(&self, business: &Business, which: &str) -> Result<WriteKey> {
        let keys = self.write_keys(business)?;
        let which = which.trim();
        let by_id = which.parse::<i64>().ok().and_then(|id| keys.iter().find(|k| k.id == id));
        if let Some(key) = by_id {
            return Ok(key.clone());
        }
        let named: Vec<&WriteKey> = keys.iter().filter(|k| k.name.eq_ignore_ascii_case(which)).collect();
        match named.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(AppError::NotFound(format!(
                "{} has no write key {which:?}; its keys: {}",
                business.name,
                if keys.is_empty() { "none".to_string() } else { keys.iter().map(|k| format!("{} ({})", k.id, k.name)).collect::<Vec<_>>().join(", ") }
            ))),
            several => {
                // Only live keys count when a name is shared with revoked ones.
                let live: Vec<&&WriteKey> = several.iter().filter(|k| k.is_live()).collect();
                match live.as_slice() {
                    [one] => Ok((**one).clone()),
                    _ => Err(AppError::InvalidField {
                        field: "key".into(),
                        value: Some(which.to_string()),
                        reason: format!(
                            "several write keys have this name (ids {}); give the id",
                            several.iter().map(|k| k.id.to_string()).collect::<Vec<_>>().join(", ")
                        ),
                    }),
                }
            }
        }
    }

    /// Revokes one of the business's write keys at `now`: the tracking API refuses it from then
    /// on. NotFound when the business has no such key, Conflict when it is revoked already.
    pub fn revoke_write_key(&mut self, business: &Business, key: i64, now: Timestamp) -> Result<WriteKey> {
        self.store_mut()
            .write::<StoreError>(&mut |w| w.revoke_write_key(business.id, key, now))
            .map_err(crate::accounts::classify)?;
        self.write_keys(business)?
            .into_iter()
            .find(|k| k.id == key)
            .ok_or_else(|| AppError::NotFound(format!("write key {key} does not exist")))
    }

    /// Writes the messages of several requests in one transaction: when this returns Ok they are
    /// all on disk (but those of `refused_keys`), and when it returns Err none of them is.
    /// Duplicates (the same message id again) are left out by the store. Each key's last use is
    /// set to `now` once. The writes may be shared (`Arc`), so that the server's handlers, not
    /// its one writer thread, pay for freeing them.
    pub fn write_tracking<W: Borrow<TrackingWrite>>(&mut self, writes: &[W], now: Timestamp) -> Result<TrackingCommit> {
        let keys: BTreeSet<i64> = writes.iter().filter_map(|w| w.borrow().key).collect();
        let mut refused = Vec::new();
        let summary = self.store_mut().write::<StoreError>(&mut |w| {
            refused.clear();
            for &key in &keys {
                if !w.touch_write_key(key, now)? {
                    refused.push(key);
                }
            }
            for write in writes {
                let write = write.borrow();
                let Some(business) = write.business else { continue };
                if write.key.is_some_and(|k| refused.contains(&k)) {
                    continue;
                }
                let mut erased = 0u64;
                for message in &write.messages {
                    // A message naming someone erased at their request is dropped with its reason
                    // (counted below), not stored and not an error for the rest of the commit.
                    let named = std::iter::once(&message.event.event.identity)
                        .chain(&message.event.also_known_as)
                        .chain(message.customer.iter().flat_map(|c| &c.identities));
                    let mut is_erased = false;
                    for identity in named {
                        if w.erased(business, identity)?.is_some() {
                            is_erased = true;
                            break;
                        }
                    }
                    if is_erased {
                        erased += 1;
                        continue;
                    }
                    w.add_event(business, &message.event)?;
                    if let Some(customer) = &message.customer {
                        w.add_customer(business, customer)?;
                    }
                }
                for &(reason, count) in &write.drops {
                    w.count_tracking_drops(business, reason, count)?;
                }
                if erased > 0 {
                    w.count_tracking_drops(business, ERASED_DROP, erased)?;
                }
            }
            Ok(())
        })?;
        Ok(TrackingCommit { summary, refused_keys: refused })
    }

    /// Messages the tracking API left out for `business`, by reason, most first.
    pub fn tracking_drops(&self, business: &Business) -> Result<Vec<(String, u64)>> {
        Ok(self.store().tracking_drops(business.id)?)
    }
}
