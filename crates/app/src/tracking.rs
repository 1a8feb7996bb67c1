//! The tracking API's side of the app: write keys (kept as hashes; the server makes and hashes
//! them), the one-transaction write of many requests' messages at once (the server's group
//! commit), and the counts of messages dropped on purpose, by reason.

use crate::Result;
use std::borrow::Borrow;
use trailmap_ingest::segment::Converted;
use trailmap_model::{Business, BusinessId};
use trailmap_store::{Store, StoreError, WriteSummary};

pub use trailmap_store::WriteKey;

/// The messages of one tracking request, converted, for one business.
#[derive(Debug, Clone, Default)]
pub struct TrackingWrite {
    pub business: Option<BusinessId>,
    pub messages: Vec<Converted>,
    /// Messages left out, by reason name, to be counted.
    pub drops: Vec<(&'static str, u64)>,
}

impl crate::App {
    /// Records a write key for `business` by the SHA-256 hex of the key.
    pub fn create_write_key(&mut self, business: &Business, name: &str, key_hash: &str) -> Result<WriteKey> {
        self.store_mut().write::<StoreError>(&mut |w| w.create_write_key(business.id, name, key_hash).map(|_| ()))?;
        self.store()
            .write_key_by_hash(key_hash)?
            .ok_or_else(|| crate::AppError::Invalid("the write key was not stored".into()))
    }

    /// The business a write key (given by its hash) sends to, if the key exists.
    pub fn business_for_write_key(&self, key_hash: &str) -> Result<Option<Business>> {
        match self.store().write_key_by_hash(key_hash)? {
            Some(key) => Ok(Some(self.store().business(key.business)?)),
            None => Ok(None),
        }
    }

    pub fn write_keys(&self, business: &Business) -> Result<Vec<WriteKey>> {
        Ok(self.store().write_keys(business.id)?)
    }

    /// Writes the messages of several requests in one transaction: when this returns Ok they are
    /// all on disk, and when it returns Err none of them is. Duplicates (the same message id
    /// again) are left out by the store. The writes may be shared (`Arc`), so that the server's
    /// handlers, not its one writer thread, pay for freeing them.
    pub fn write_tracking<W: Borrow<TrackingWrite>>(&mut self, writes: &[W]) -> Result<WriteSummary> {
        Ok(self.store_mut().write::<StoreError>(&mut |w| {
            for write in writes {
                let write = write.borrow();
                let Some(business) = write.business else { continue };
                for message in &write.messages {
                    w.add_event(business, &message.event)?;
                    if let Some(customer) = &message.customer {
                        w.add_customer(business, customer)?;
                    }
                }
                for &(reason, count) in &write.drops {
                    w.count_tracking_drops(business, reason, count)?;
                }
            }
            Ok(())
        })?)
    }

    /// Messages the tracking API left out for `business`, by reason, most first.
    pub fn tracking_drops(&self, business: &Business) -> Result<Vec<(String, u64)>> {
        Ok(self.store().tracking_drops(business.id)?)
    }
}
