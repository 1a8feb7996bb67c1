//! Comments on the cards of a journey map: members discuss a card (an assumption to check, a pain
//! point to act on) beside the map rather than in it. A comment names its author and its time,
//! and says when it was edited.
//!
//! The rules, checked here for every front end:
//! - Every member of the business may read and write comments, viewers included: commenting is
//!   how someone who may not edit the map says what should change.
//! - Only the author edits a comment. The author deletes it, and so may an owner of the business
//!   (to remove what should not be there); editors and viewers delete only their own.
//! - Comments are kept apart from the map, keyed by map and card id: commenting makes no map
//!   version and does not raise the business's data version (no analysis reads comments).
//! - A card removed from the map takes its comments with it (deleted in the edit's transaction,
//!   see `App::edit_map`), and so does a deleted map.
//! - Share links show the map without its comments (the share page never asks for them).

use crate::{App, AppError, Result};
use serde::Serialize;
use trailmap_model::{Business, CardRef, MapId, Role, Timestamp, UserId};
use trailmap_store::{AccountStore, CommentStore, StoredComment};

/// The longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 5_000;

/// A comment on a map card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub id: i64,
    pub map: MapId,
    pub card: u32,
    pub author: UserId,
    /// The author's name as it is now.
    pub author_name: String,
    pub text: String,
    pub created_at: Timestamp,
    /// When the text was last changed, if it was.
    pub edited_at: Option<Timestamp>,
}

impl From<StoredComment> for Comment {
    fn from(c: StoredComment) -> Comment {
        let author_name = if c.author_name.trim().is_empty() { c.author_email } else { c.author_name };
        Comment { id: c.id, map: c.map, card: c.card, author: c.author, author_name, text: c.text, created_at: c.created_at, edited_at: c.edited_at }
    }
}

/// What the person may do with a comment, by the rules above.
pub fn may_edit_comment(comment: &Comment, user: UserId) -> bool {
    comment.author == user
}

pub fn may_delete_comment(comment: &Comment, user: UserId, role: Role) -> bool {
    comment.author == user || role == Role::Owner
}

fn comment_text(text: &str) -> Result<String> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_COMMENT_CHARS {
        return Err(AppError::InvalidField {
            field: "text".into(),
            value: None,
            reason: format!("a comment has 1 to {MAX_COMMENT_CHARS} characters (this one has {chars})"),
        });
    }
    Ok(text.to_string())
}

impl App {
    /// The member's role in the business; NotFound for someone who is not a member, as if the
    /// business did not exist.
    fn member_role(&self, business: &Business, user: UserId) -> Result<Role> {
        self.store()
            .role(user, business.id)?
            .ok_or_else(|| AppError::NotFound(format!("no business {} for this user", business.id)))
    }

    /// Checks that the map is the business's and has the card.
    fn check_card(&self, business: &Business, map: MapId, card: u32) -> Result<()> {
        let found = self.stored_journey_map(business, map)?;
        if found.map.card(card).is_none() {
            return Err(AppError::NotFound(format!("journey map {map} has no card {card}")));
        }
        Ok(())
    }

    /// A comment of this card; NotFound when the id names a comment elsewhere.
    fn card_comment(&self, business: &Business, CardRef { map, card }: CardRef, id: i64) -> Result<Comment> {
        self.check_card(business, map, card)?;
        let found = self.store().comment(id)?.filter(|c| c.business == business.id && c.map == map && c.card == card);
        found.map(Comment::from).ok_or_else(|| AppError::NotFound(format!("card {card} of journey map {map} has no comment {id}")))
    }

    /// The comments of one card, oldest first.
    pub fn card_comments(&self, business: &Business, CardRef { map, card }: CardRef) -> Result<Vec<Comment>> {
        self.check_card(business, map, card)?;
        Ok(self.store().comments(map, Some(card))?.into_iter().map(Comment::from).collect())
    }

    /// The comments of every card of a map, by card then oldest first.
    pub fn map_comments(&self, business: &Business, map: MapId) -> Result<Vec<Comment>> {
        self.journey_map(business, map)?;
        Ok(self.store().comments(map, None)?.into_iter().map(Comment::from).collect())
    }

    /// `user` (a member of the business, any role) comments on a card at `now`.
    pub fn add_comment(&mut self, business: &Business, CardRef { map, card }: CardRef, user: UserId, text: &str, now: Timestamp) -> Result<Comment> {
        self.member_role(business, user)?;
        self.check_card(business, map, card)?;
        let text = comment_text(text)?;
        Ok(self.store_mut().insert_comment(map, card, user, &text, now).map_err(crate::accounts::classify)?.into())
    }

    /// Changes the text of one of `user`'s own comments; Forbidden for someone else's.
    pub fn edit_comment(&mut self, business: &Business, card: CardRef, id: i64, user: UserId, text: &str, now: Timestamp) -> Result<Comment> {
        self.member_role(business, user)?;
        let comment = self.card_comment(business, card, id)?;
        if !may_edit_comment(&comment, user) {
            return Err(AppError::Forbidden(format!("comment {id} is {}'s: only its author edits it", comment.author_name)));
        }
        let text = comment_text(text)?;
        Ok(self.store_mut().update_comment(id, &text, now).map_err(crate::accounts::classify)?.into())
    }

    /// Deletes a comment: the author's own, or any as an owner of the business; Forbidden else.
    pub fn delete_comment(&mut self, business: &Business, card: CardRef, id: i64, user: UserId) -> Result<()> {
        let role = self.member_role(business, user)?;
        let comment = self.card_comment(business, card, id)?;
        if !may_delete_comment(&comment, user, role) {
            return Err(AppError::Forbidden(format!(
                "comment {id} is {}'s: only its author or an owner of the business deletes it",
                comment.author_name
            )));
        }
        self.store_mut().delete_comment(id).map_err(crate::accounts::classify)
    }
}
