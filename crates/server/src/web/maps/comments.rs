//! Comments on map cards in the editor: every card shows how many comments it has, and opens its
//! thread in place (author, time, "edited", the text) with a form to add one; the author edits
//! and deletes their own, an owner deletes any. Plain forms posting to
//! `/b/{id}/maps/{map}/cards/{card}/comments[/{comment}/edit|/delete]`, answered with a 303 back to
//! the map with that card's thread open, so they work without JavaScript (and `maps.js` leaves
//! them alone). Viewers comment too; the rules are the app's (`trailmap_app::comments`). The
//! share page and the "as is / to be" comparison show no comments.

use crate::auth::{self, PageForm};
use crate::state::ServerState;
use crate::web::layout::{csrf_field, when};
use crate::web::{PageResult, see_other};
use axum::extract::{Path, State};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;
use trailmap_app::Comment;
use trailmap_app::comments::{MAX_COMMENT_CHARS, may_delete_comment, may_edit_comment};
use trailmap_model::{BusinessId, CardRef, MapId, Role, UserId};

/// The comments of a map as the editor shows them, and who is looking.
#[derive(Debug)]
pub(crate) struct CardComments {
    pub business: BusinessId,
    pub map: MapId,
    /// Each card's comments, oldest first.
    pub by_card: HashMap<u32, Vec<Comment>>,
    pub user: UserId,
    pub role: Role,
    pub csrf: String,
    /// The card whose thread is open (the one just commented on).
    pub open: Option<u32>,
}

impl CardComments {
    pub fn new(business: BusinessId, map: MapId, comments: Vec<Comment>, user: UserId, role: Role, csrf: String, open: Option<u32>) -> CardComments {
        let mut by_card: HashMap<u32, Vec<Comment>> = HashMap::new();
        for c in comments {
            by_card.entry(c.card).or_default().push(c);
        }
        CardComments { business, map, by_card, user, role, csrf, open }
    }

    fn base(&self, card: u32) -> String {
        format!("/b/{}/maps/{}/cards/{card}/comments", self.business, self.map)
    }

    /// A card's comment count and its thread, folded.
    pub fn thread(&self, card: u32) -> Markup {
        let comments = self.by_card.get(&card).map(Vec::as_slice).unwrap_or_default();
        let base = self.base(card);
        html! {
            details class="card-comments" id={ "comments-" (card) } data-testid="card-comments" open[self.open == Some(card)] {
                summary {
                    span data-testid="comment-count" data-count=(comments.len()) { (comments.len()) }
                    @if comments.len() == 1 { " comment" } @else { " comments" }
                }
                @for c in comments {
                    div class="comment" data-comment=(c.id) {
                        p class="comment-meta" {
                            strong data-testid="comment-author" { (c.author_name) } " · " (when(c.created_at))
                            @if let Some(t) = c.edited_at { " · " span class="muted" title=(t.to_rfc3339()) { "edited" } }
                        }
                        p class="comment-text" data-testid="comment-text" { (c.text) }
                        div class="comment-tools" {
                            @if may_edit_comment(c, self.user) {
                                details class="comment-edit" {
                                    summary { "Edit" }
                                    form method="post" action={ (base) "/" (c.id) "/edit" } {
                                        (csrf_field(&self.csrf))
                                        textarea name="text" rows="3" required maxlength=(MAX_COMMENT_CHARS) aria-label="Comment text" { (c.text) }
                                        button type="submit" class="secondary" { "Save" }
                                    }
                                }
                            }
                            @if may_delete_comment(c, self.user, self.role) {
                                form class="inline comment-delete" method="post" action={ (base) "/" (c.id) "/delete" } data-confirm="Delete this comment?" {
                                    (csrf_field(&self.csrf))
                                    button type="submit" class="link danger" { "Delete" }
                                }
                            }
                        }
                    }
                }
                form class="comment-add" method="post" action=(base) data-testid="comment-form" {
                    (csrf_field(&self.csrf))
                    textarea name="text" rows="2" required maxlength=(MAX_COMMENT_CHARS) placeholder="Add a comment" aria-label="New comment" {}
                    button type="submit" class="secondary" { "Comment" }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CommentForm {
    pub text: String,
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

/// Back to the map with the card's thread open.
fn back_to(id: i64, map: i64, card: u32) -> axum::response::Response {
    see_other(&format!("/b/{id}/maps/{map}?comments={card}#comments-{card}"))
}

/// Adds a comment (any member).
pub async fn add(State(state): State<ServerState>, Path((id, map, card)): Path<(i64, i64, u32)>, posted: PageForm<CommentForm>) -> PageResult {
    let member = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    let (business, user, now, text) = (member.business, posted.user.user.id, auth::now(), posted.form.text);
    state.try_write(move |app| app.add_comment(&business, CardRef { map: MapId(map), card }, user, &text, now)).await?;
    Ok(back_to(id, map, card))
}

/// Changes the text of one's own comment.
pub async fn edit(
    State(state): State<ServerState>,
    Path((id, map, card, comment)): Path<(i64, i64, u32, i64)>,
    posted: PageForm<CommentForm>,
) -> PageResult {
    let member = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    let (business, user, now, text) = (member.business, posted.user.user.id, auth::now(), posted.form.text);
    state.try_write(move |app| app.edit_comment(&business, CardRef { map: MapId(map), card }, comment, user, &text, now)).await?;
    Ok(back_to(id, map, card))
}

/// Deletes one's own comment, or any as an owner.
pub async fn delete(State(state): State<ServerState>, Path((id, map, card, comment)): Path<(i64, i64, u32, i64)>, posted: PageForm<Empty>) -> PageResult {
    let member = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    let (business, user) = (member.business, posted.user.user.id);
    state.try_write(move |app| app.delete_comment(&business, CardRef { map: MapId(map), card }, comment, user)).await?;
    Ok(back_to(id, map, card))
}
