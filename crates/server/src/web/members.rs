//! A business's members and their roles. Every member sees the list; owners invite (an invitation
//! link, shown once), change roles and remove members. The store refuses to remove or demote the
//! last owner.

use crate::auth::{self, PageForm, SignedIn, require_manage};
use crate::links::{INVITATION_TTL_MS, base_url};
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, page, secret_box};
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use maud::{Markup, html};
use serde::Deserialize;
use trailmap_model::{BusinessId, Membership, Role, UserId};

pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>) -> PageResult {
    render(&state, &signed, BusinessId(id), None).await
}

/// The page, with a link to copy shown once above the table when one was just made: its words and the link.
async fn render(state: &ServerState, signed: &SignedIn, business: BusinessId, new_link: Option<(String, String)>) -> PageResult {
    let membership = auth::membership(state, signed.user.id, business).await?;
    let nav = Nav::load(state, signed, Some(business)).await?;
    let members = state.try_read(move |app| app.members(business)).await?;
    let manage = membership.role.can_manage();
    let base = format!("/b/{business}/settings/members");
    let content = html! {
        h1 { "Members of " (membership.business.name) }
        @if let Some((words, link)) = &new_link { (secret_box(words, link)) }
        div class="table-wrap" {
            table data-testid="members" {
                thead { tr { th { "Name" } th { "Email" } th { "Role" } @if manage { th {} } } }
                tbody {
                    @for (user, role) in &members {
                        tr {
                            td { (user.name) @if user.id == signed.user.id { span class="muted" { " (you)" } } }
                            td { (user.email) }
                            td {
                                @if manage {
                                    form class="inline" method="post" action={ (base) "/" (user.id) "/role" } {
                                        (csrf_field(&signed.csrf))
                                        (role_select(*role))
                                        button type="submit" class="secondary" { "Change" }
                                    }
                                } @else { (role) }
                            }
                            @if manage {
                                td {
                                    form class="inline" method="post" action={ (base) "/" (user.id) "/reset" } data-testid="reset-link" {
                                        (csrf_field(&signed.csrf))
                                        button type="submit" class="secondary" title="A one-time link, valid a day, that sets a new password" { "Password reset link" }
                                    }
                                    form class="inline" method="post" action={ (base) "/" (user.id) "/remove" }
                                        data-confirm={ "Remove " (user.name) " from " (membership.business.name) "?" } {
                                        (csrf_field(&signed.csrf))
                                        button type="submit" class="danger" { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if manage {
            h2 { "Invite someone" }
            form class="inline card" method="post" action={ (base) "/invite" } {
                (csrf_field(&signed.csrf))
                input type="email" name="email" placeholder="Email (optional)" title="When given, only this address may accept" aria-label="Email";
                (role_select(Role::Viewer))
                button type="submit" { "Create invitation link" }
            }
            p class="muted" { "The link works once, for 7 days." }
        }
    };
    Ok(html_response(page(&nav, "Members", content)))
}

fn role_select(selected: Role) -> Markup {
    html! {
        select name="role" aria-label="Role" {
            @for role in Role::ALL { option value=(role) selected[role == selected] { (role) } }
        }
    }
}

fn parse_role(text: &str) -> Result<Role, crate::error::ApiError> {
    Role::parse(text).ok_or_else(|| crate::error::ApiError::invalid_input(format!("role: {text:?} is not owner, editor or viewer")))
}

async fn managed(state: &ServerState, user: UserId, business: BusinessId) -> Result<Membership, crate::error::ApiError> {
    let membership = auth::membership(state, user, business).await?;
    require_manage(membership.role)?;
    Ok(membership)
}

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    pub email: Option<String>,
    pub role: String,
}

pub async fn invite(State(state): State<ServerState>, headers: HeaderMap, Path(id): Path<i64>, posted: PageForm<InviteForm>) -> PageResult {
    let business = BusinessId(id);
    let user = posted.user.user.id;
    managed(&state, user, business).await?;
    let role = parse_role(&posted.form.role)?;
    let email = posted.form.email.filter(|e| !e.trim().is_empty());
    let at = auth::now();
    let token = state
        .try_write(move |app| app.create_invitation(business, role, email.as_deref(), user, at, INVITATION_TTL_MS))
        .await?;
    let link = format!("{}/invite/{token}", base_url(&state, &headers));
    render(&state, &posted.user, business, Some(("Invitation link: send it to the person you invite.".into(), link))).await
}

/// POST `.../members/{user}/reset`: an owner issues a member's one-time password reset link,
/// shown once to pass on; using it sets a new password and ends the member's sessions.
pub async fn reset(State(state): State<ServerState>, headers: HeaderMap, Path((id, member)): Path<(i64, i64)>, posted: PageForm<Empty>) -> PageResult {
    let business = BusinessId(id);
    let owner = posted.user.user.id;
    managed(&state, owner, business).await?;
    let member = UserId(member);
    auth::membership(&state, member, business).await?;
    let at = auth::now();
    let reset = state.try_write(move |app| app.issue_password_reset(Some(owner), member, at)).await?;
    let link = format!("{}{}", base_url(&state, &headers), reset.path());
    let words = format!("Password reset link for {}: it works once, for a day; using it signs them out everywhere.", reset.user.name);
    render(&state, &posted.user, business, Some((words, link))).await
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    pub role: String,
}

pub async fn set_role(State(state): State<ServerState>, Path((id, member)): Path<(i64, i64)>, posted: PageForm<RoleForm>) -> PageResult {
    let business = BusinessId(id);
    managed(&state, posted.user.user.id, business).await?;
    let role = parse_role(&posted.form.role)?;
    let member = UserId(member);
    // Only existing members can be re-roled here; adding someone goes through an invitation.
    auth::membership(&state, member, business).await?;
    state.try_write(move |app| app.set_member(business, member, role)).await?;
    Ok(see_other(&format!("/b/{business}/settings/members")))
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn remove(State(state): State<ServerState>, Path((id, member)): Path<(i64, i64)>, posted: PageForm<Empty>) -> PageResult {
    let business = BusinessId(id);
    managed(&state, posted.user.user.id, business).await?;
    let member = UserId(member);
    auth::membership(&state, member, business).await?;
    state.try_write(move |app| app.remove_member(business, member)).await?;
    let to = if member == posted.user.user.id { "/businesses".to_string() } else { format!("/b/{business}/settings/members") };
    Ok(see_other(&to))
}
