//! Journey map queries beyond the [`crate::Store`] trait: one map with its newest version, one
//! given version, deleting a map, and its read-only share links. Like accounts, each call here is
//! one small transaction of its own, outside the business data's write transactions; saving a map
//! (a new version) stays on [`crate::Writer::save_map`].
//!
//! Share links are kept by their token's SHA-256 and an optional password hash, both made by the
//! app: this module never sees a token or a password.

use crate::{MapVersion, Result};
use trailmap_model::{BusinessId, MapId, Timestamp};

/// A read-only share link of a map, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLink {
    /// SHA-256 of the link's token, in lower-case hex.
    pub token_hash: String,
    pub map: MapId,
    pub business: BusinessId,
    /// Argon2id hash (PHC string) of the link's password, when it has one.
    pub password_hash: Option<String>,
    /// The link stops working at this time, when set.
    pub expires_at: Option<Timestamp>,
    pub created_by: String,
    pub created_at: Timestamp,
    /// The origins whose pages may embed the shared map (`https://example.com`); none: no site.
    pub frame_ancestors: Vec<String>,
}

/// Map queries behind a trait, as the rest of the store is, so another backend can provide them.
pub trait MapStore {
    /// The newest version of a map, with its author and time; None when there is no such map.
    fn map(&self, id: MapId) -> Result<Option<MapVersion>>;
    /// One version of a map; None when the map or the version does not exist.
    fn map_version(&self, id: MapId, version: u32) -> Result<Option<MapVersion>>;
    /// Deletes a map with all its versions, share links and comments; `StoreError::NotFound` when there is
    /// no such map.
    fn delete_map(&mut self, id: MapId) -> Result<()>;

    /// Records a share link (its token's hash is the key); `StoreError::NotFound` when the map
    /// does not exist.
    fn insert_share_link(&mut self, link: &ShareLink) -> Result<()>;
    /// The link with this token hash, expired or not (the caller decides).
    fn share_link(&self, token_hash: &str) -> Result<Option<ShareLink>>;
    /// A map's links, oldest first.
    fn share_links(&self, map: MapId) -> Result<Vec<ShareLink>>;
    /// Revokes a link of `map`; `StoreError::NotFound` when the map has no such link.
    fn delete_share_link(&mut self, map: MapId, token_hash: &str) -> Result<()>;
    /// Sets the origins whose pages may embed a link of `map` (none: no site may).
    fn set_share_link_frame_ancestors(&mut self, map: MapId, token_hash: &str, origins: &[String]) -> Result<()>;
}
