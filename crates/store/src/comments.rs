//! Comments on the cards of journey maps. They live beside the map documents, not in them, keyed
//! by map and card id: a comment is a conversation about a card, not a change of the map, so it
//! makes no map version and raises no data version. Each call here is one small transaction of
//! its own, as accounts are; the comments of cards a map edit removes are deleted inside that
//! edit's transaction (`Writer::delete_card_comments`).

use crate::Result;
use trailmap_model::{BusinessId, MapId, Timestamp, UserId};

/// A comment as stored, with its author's name and email as they are now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredComment {
    pub id: i64,
    pub business: BusinessId,
    pub map: MapId,
    pub card: u32,
    pub author: UserId,
    pub author_name: String,
    pub author_email: String,
    pub text: String,
    pub created_at: Timestamp,
    /// When the text was last changed, if it was.
    pub edited_at: Option<Timestamp>,
}

/// Comments behind a trait, as the rest of the store is, so another backend can provide them.
pub trait CommentStore {
    /// The comments of a map, by card then oldest first; of one card when `card` is given.
    fn comments(&self, map: MapId, card: Option<u32>) -> Result<Vec<StoredComment>>;
    fn comment(&self, id: i64) -> Result<Option<StoredComment>>;
    /// Adds a comment; `StoreError::NotFound` when the map does not exist.
    fn insert_comment(&mut self, map: MapId, card: u32, author: UserId, text: &str, now: Timestamp) -> Result<StoredComment>;
    /// Changes a comment's text; `StoreError::NotFound` when there is no such comment.
    fn update_comment(&mut self, id: i64, text: &str, now: Timestamp) -> Result<StoredComment>;
    /// `StoreError::NotFound` when there is no such comment.
    fn delete_comment(&mut self, id: i64) -> Result<()>;
}
