//! Getting a business started: the onboarding checklist the dashboard shows while the business is
//! new (each step done or not from the store's real state, kept up to date in the page by
//! `onboarding.js` polling `GET /api/businesses/{id}/onboarding`), and the business's write keys
//! page (`/b/{id}/settings/sources`): keys listed with their last use, a new key shown once with
//! the website snippet that carries it and "last event received … ago" as events arrive, and
//! revocation. The steps themselves are decided in `trailmap_app::onboarding`.

use crate::auth::{self, PageForm, SignedIn, require_edit};
use crate::keys;
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, page, secret_box, when};
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use maud::{Markup, html};
use serde::Deserialize;
use trailmap_app::{MapTemplate, Onboarding, OnboardingStep, WriteKey};
use trailmap_model::{BusinessId, Membership, Timestamp};

/// A time in the past as a person says it: "3 s ago", "4 min ago", "2 h ago", "5 days ago".
/// `onboarding.js` says it the same way as it counts on.
pub fn ago(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s ago"),
        60..3600 => format!("{} min ago", s / 60),
        3600..86_400 => format!("{} h ago", s / 3600),
        _ if s < 2 * 86_400 => "1 day ago".to_string(),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// Seconds from `then` to `now`, never negative.
fn seconds_between(then: Timestamp, now: Timestamp) -> i64 {
    ((now.0 - then.0) / 1000).max(0)
}

/// The line that says when the website last sent something, kept current by the script; hidden
/// until the first event arrives.
fn last_event_line(onboarding: &Onboarding, now: Timestamp) -> Markup {
    let seconds = onboarding.last_event_at.map(|t| seconds_between(t, now));
    html! {
        p class="last-event" data-testid="last-event" data-last-event data-seconds=[seconds] hidden[seconds.is_none()] {
            @if let Some(s) = seconds { "Last event received " (ago(s)) }
        }
    }
}

fn tick(step: &OnboardingStep) -> Markup {
    html! { span class="tick" aria-hidden="true" data-tick { @if step.done { "✓" } @else { "○" } } }
}

/// The checklist as the dashboard shows it. `member` says what the viewer may do: editors and
/// owners get the forms (a write key, a map, hiding the list), viewers the links.
pub fn checklist(member: &Membership, onboarding: &Onboarding, csrf: &str, now: Timestamp) -> Markup {
    let id = member.business.id;
    let can_edit = member.role.can_edit();
    let name = &member.business.name;
    html! {
        section class="card checklist" data-testid="checklist" data-onboarding={ "/api/businesses/" (id) "/onboarding" } {
            div class="checklist-head" {
                h2 { "Get " (name) " started" }
                span class="muted" { span data-done-count { (onboarding.done) } " of " (onboarding.total) " done" }
            }
            @if onboarding.empty {
                p class="muted" { "No visits, orders or survey answers yet, so there are no numbers to show. Each step below ticks itself as soon as what it asks for is there." }
            }
            ol class="steps" {
                @for step in &onboarding.steps {
                    li class={ "step" @if step.done { " done" } } data-step=(step.key) data-done=(step.done) {
                        (tick(step))
                        div class="step-body" {
                            h3 { (step.title) @if step.optional { span class="muted" { " (optional)" } } }
                            p class="muted" data-step-status { (step.status) }
                            (step_detail(step.key, id, can_edit, csrf, onboarding, now))
                        }
                    }
                }
            }
            @if can_edit {
                form class="inline hide-checklist" method="post" action={ "/b/" (id) "/onboarding" } {
                    (csrf_field(csrf))
                    input type="hidden" name="hidden" value="yes";
                    button type="submit" class="link" { "Hide this checklist" }
                }
            }
        }
    }
}

/// What a step says to do, with its form or link.
fn step_detail(key: &str, id: BusinessId, can_edit: bool, csrf: &str, onboarding: &Onboarding, now: Timestamp) -> Markup {
    match key {
        "website" => html! {
            (last_event_line(onboarding, now))
            @if onboarding.live_write_keys == 0 && can_edit {
                p { "Make a write key, then add the snippet it comes with to every page of your website." }
                form class="inline" method="post" action={ "/b/" (id) "/settings/sources" } data-testid="create-key" {
                    (csrf_field(csrf))
                    input type="text" name="name" value="website" required maxlength="200" aria-label="What the key is for";
                    button type="submit" { "Create a write key" }
                }
            } @else {
                p { a href={ "/b/" (id) "/settings/sources" } { "Write keys and the website snippet" } }
            }
        },
        "import" => html! {
            @if can_edit {
                p { a href={ "/b/" (id) "/import?kind=orders" } data-testid="import-link" { "Upload orders or customers" }
                    " (CSV, NDJSON or Parquet): you see how the file will be read before anything is imported." }
            }
            (crate::web::imports::export_steps(id))
            p class="muted" { "Any other CSV works too: the Import page lists the column names recognised, and its preview lets you pick a column for any field." }
        },
        "touchpoints" => html! {
            p { a href={ "/b/" (id) "/touchpoints" } data-testid="touchpoints-link" { "Review the suggested touchpoints" } " and accept the ones your customers meet." }
        },
        "map" => html! {
            @if can_edit && onboarding.maps == 0 {
                form class="inline" method="post" action={ "/b/" (id) "/maps" } data-testid="create-map" {
                    (csrf_field(csrf))
                    input type="hidden" name="name" value="Customer journey";
                    select name="template" aria-label="Template" {
                        @for t in MapTemplate::ALL.iter().filter(|t| **t != MapTemplate::Blank) {
                            option value=(t.as_str()) { (crate::web::maps::template_title(*t)) }
                        }
                    }
                    button type="submit" class="secondary" { "Start the map" }
                }
                p class="muted" { "Its stages show the touchpoints you place in them, so their numbers appear as soon as the data does." }
            } @else {
                p { a href={ "/b/" (id) "/maps" } { "Journey maps" } }
            }
        },
        "invite" => html! {
            p { a href={ "/b/" (id) "/settings/members" } { "Invite a colleague" } " as an owner, editor or viewer." }
        },
        _ => html! {},
    }
}

/// The one line the dashboard shows instead of a hidden checklist that still has steps to do.
pub fn show_again(member: &Membership, onboarding: &Onboarding, csrf: &str) -> Markup {
    html! {
        form class="inline show-checklist" method="post" action={ "/b/" (member.business.id) "/onboarding" } {
            (csrf_field(csrf))
            input type="hidden" name="hidden" value="no";
            span class="muted" { "Getting started: " (onboarding.done) " of " (onboarding.total) " steps done." }
            button type="submit" class="link inline" { "Show the checklist" }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct HideForm {
    /// `yes` hides the checklist, `no` shows it again.
    pub hidden: String,
}

/// Hides the dashboard's checklist or shows it again (editors and owners).
pub async fn hide(State(state): State<ServerState>, Path(id): Path<i64>, posted: PageForm<HideForm>) -> PageResult {
    let member = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(member.role)?;
    let hidden = match posted.form.hidden.as_str() {
        "yes" => Some(auth::now()),
        "no" => None,
        other => return Err(crate::error::ApiError::bad_request("invalid_input", format!("hidden: {other:?} is neither yes nor no")).into()),
    };
    let business = member.business;
    state.try_write(move |app| app.set_checklist_hidden(&business, hidden)).await?;
    Ok(see_other(&format!("/b/{id}/")))
}

/// The write keys page.
pub async fn sources(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>) -> PageResult {
    let member = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    render_sources(&state, &signed, member, None).await
}

/// A key just made, to show once: the key and its snippet.
struct NewKey {
    key: String,
    snippet: String,
}

async fn render_sources(state: &ServerState, signed: &SignedIn, member: Membership, new_key: Option<NewKey>) -> PageResult {
    let nav = Nav::load(state, signed, Some(member.business.id)).await?;
    let business = member.business.clone();
    let (keys, onboarding) = state.try_read(move |app| Ok((app.write_keys(&business)?, app.onboarding(&business)?))).await?;
    let id = member.business.id;
    let can_edit = member.role.can_edit();
    let now = auth::now();
    let content = html! {
        h1 { "Write keys" }
        p class="muted" {
            "A write key lets your website, app or till send events to the tracking API. Websites add the snippet below to every page; "
            "Segment's client libraries work with the key as their write key. A revoked key is refused from its next request on."
        }
        @if let Some(new) = &new_key {
            (secret_box("Your new write key.", &new.key))
            div class="secret snippet" {
                p { strong { "The website snippet." } " Paste it into every page of your website, just before the closing body tag. It carries the key." }
                pre data-testid="snippet" { code { (new.snippet) } }
                button type="button" class="secondary" data-copy=(new.snippet) { "Copy the snippet" }
            }
        }
        section class="card live" data-onboarding={ "/api/businesses/" (id) "/onboarding" } data-testid="live" {
            @if onboarding.last_event_at.is_none() {
                p class="waiting" data-waiting { "Waiting for the first event… This page shows it as soon as it arrives." }
            }
            (last_event_line(&onboarding, now))
            p class="muted" { "Events received in all: " span data-events { (onboarding.events) } "." }
        }
        @if keys.is_empty() {
            p class="muted" { "No write keys yet." }
        } @else {
            div class="table-wrap" {
                table data-testid="write-keys" data-sources={ "/api/businesses/" (id) "/sources" } {
                    thead { tr { th { "Name" } th { "Id" } th { "Created" } th { "Last used" } th {} } }
                    tbody {
                        @for key in &keys { (key_row(id, key, can_edit, &signed.csrf, now)) }
                    }
                }
            }
        }
        @if can_edit {
            h2 { "Create a write key" }
            form class="inline card" method="post" action={ "/b/" (id) "/settings/sources" } {
                (csrf_field(&signed.csrf))
                input type="text" name="name" placeholder="What it is for, e.g. website" aria-label="Name" required maxlength="200";
                button type="submit" { "Create key" }
            }
        }
        script src="/static/onboarding.js" defer {}
    };
    Ok(html_response(page(&nav, "Write keys", content)))
}

fn key_row(id: BusinessId, key: &WriteKey, can_edit: bool, csrf: &str, now: Timestamp) -> Markup {
    html! {
        tr data-key=(key.id) {
            td { (key.name) }
            td { (key.id) }
            td { (when(key.created_at)) }
            td data-testid="last-used" {
                @match key.last_used {
                    Some(t) => { span data-ago=(seconds_between(t, now)) { (ago(seconds_between(t, now))) } " (" (when(t)) ")" }
                    None => { span class="muted" { "never" } }
                }
            }
            td {
                @match key.revoked_at {
                    Some(t) => { span class="muted" { "revoked " (when(t)) } }
                    None if can_edit => {
                        form class="inline" method="post" action={ "/b/" (id) "/settings/sources/" (key.id) "/revoke" }
                            data-confirm={ "Revoke " (key.name) "? Whatever sends with it stops being recorded." } {
                            (csrf_field(csrf))
                            button type="submit" class="danger" { "Revoke" }
                        }
                    }
                    None => { span class="muted" { "live" } }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    pub name: String,
}

/// Makes a write key and shows it once, with its snippet (editors and owners).
pub async fn create(State(state): State<ServerState>, headers: HeaderMap, Path(id): Path<i64>, posted: PageForm<CreateForm>) -> PageResult {
    let member = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(member.role)?;
    let (_, key) = keys::create_for(&state, member.business.clone(), posted.form.name).await?;
    let snippet = keys::snippet(&keys::site_origin(&headers, state.auth.secure_cookies), &key);
    render_sources(&state, &posted.user, member, Some(NewKey { key, snippet })).await
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

/// Revokes a write key (editors and owners).
pub async fn revoke(State(state): State<ServerState>, Path((id, key)): Path<(i64, i64)>, posted: PageForm<Empty>) -> PageResult {
    let member = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(member.role)?;
    keys::revoke_for(&state, member.business, key).await?;
    Ok(see_other(&format!("/b/{id}/settings/sources")))
}

#[cfg(test)]
mod tests {
    use super::ago;

    #[test]
    fn ago_says_seconds_minutes_hours_and_days() {
        assert_eq!([ago(-2), ago(3), ago(59), ago(60), ago(3599), ago(3600), ago(86_400), ago(3 * 86_400)], [
            "0 s ago",
            "3 s ago",
            "59 s ago",
            "1 min ago",
            "59 min ago",
            "1 h ago",
            "1 day ago",
            "3 days ago"
        ]);
    }
}
