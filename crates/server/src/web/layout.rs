//! The frame of every page: the top bar (product name, business switcher, user menu with sign-out as
//! a POST form) around a page's content, and the bare frame of pages shown before signing in.

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::state::ServerState;
use maud::{DOCTYPE, Markup, html};
use trailmap_model::{BusinessId, Membership, User};

/// What the top bar shows: who is signed in, their businesses, and which one is open.
#[derive(Debug, Clone)]
pub struct Nav {
    pub user: User,
    pub csrf: String,
    pub memberships: Vec<Membership>,
    pub current: Option<BusinessId>,
}

impl Nav {
    /// The top bar of `signed`'s pages, with `current` as the open business.
    pub async fn load(state: &ServerState, signed: &SignedIn, current: Option<BusinessId>) -> Result<Nav, ApiError> {
        let user = signed.user.id;
        let memberships = state.try_read(move |app| app.memberships(user)).await?;
        Ok(Nav { user: signed.user.clone(), csrf: signed.csrf.clone(), memberships, current })
    }

    fn current_membership(&self) -> Option<&Membership> {
        self.current.and_then(|id| self.memberships.iter().find(|m| m.business.id == id))
    }
}

/// The hidden CSRF field every signed-in form carries.
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Trailmap" }
            link rel="stylesheet" href="/static/app.css";
            script src="/static/app.js" defer {}
        }
    }
}

/// A signed-in page: the top bar, then `content` in a column a comfortable reading width.
pub fn page(nav: &Nav, title: &str, content: Markup) -> Markup {
    page_in(nav, title, content, None)
}

/// A signed-in page whose content takes the window's whole width: the journey map, whose stages
/// sit side by side and would otherwise be cut off after two or three of them.
pub fn wide_page(nav: &Nav, title: &str, content: Markup) -> Markup {
    page_in(nav, title, content, Some("wide"))
}

fn page_in(nav: &Nav, title: &str, content: Markup, main_class: Option<&str>) -> Markup {
    let current = nav.current_membership();
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header class="topbar" {
                    a class="brand" href="/" { "Trailmap" }
                    details class="menu switcher" {
                        summary data-testid="business-switcher" {
                            @match current {
                                Some(m) => { (m.business.name) }
                                None => { "Businesses" }
                            }
                        }
                        nav class="dropdown" {
                            @for m in &nav.memberships {
                                a href={ "/b/" (m.business.id) "/" } class=[(Some(m.business.id) == nav.current).then_some("active")] {
                                    span { (m.business.name) }
                                    span class="role" { (m.role) }
                                }
                            }
                            a class="all" href="/businesses" { "All businesses" }
                            a class="all" href="/portfolio" { "Portfolio" }
                        }
                    }
                    @if let Some(m) = current {
                        nav class="sections" {
                            a href={ "/b/" (m.business.id) "/" } { "Dashboard" }
                            a href={ "/b/" (m.business.id) "/analysis/" } { "Analysis" }
                            a href={ "/b/" (m.business.id) "/surveys" } { "Surveys" }
                            a href={ "/b/" (m.business.id) "/feedback" } { "Feedback" }
                            a href={ "/b/" (m.business.id) "/research" } { "Research" }
                            a href={ "/b/" (m.business.id) "/maps" } { "Maps" }
                            a href={ "/b/" (m.business.id) "/actions" } { "Actions" }
                            a href={ "/b/" (m.business.id) "/personas" } { "Personas" }
                            a href={ "/b/" (m.business.id) "/touchpoints" } { "Touchpoints" }
                            a href={ "/b/" (m.business.id) "/changes" } { "Changes" }
                            @if m.role.can_edit() { a href={ "/b/" (m.business.id) "/import" } { "Import" } }
                            a href={ "/b/" (m.business.id) "/insights" } { "Insights" }
                            a href={ "/b/" (m.business.id) "/report" } { "Report" }
                            a href={ "/b/" (m.business.id) "/settings/members" } { "Members" }
                        }
                    }
                    span class="spacer" {}
                    details class="menu user" {
                        summary { (nav.user.name) }
                        nav class="dropdown right" {
                            span class="muted" { (nav.user.email) }
                            a href="/businesses" { "Businesses" }
                            a href="/account/security" { "Account security" }
                            a href="/account/keys" { "API keys" }
                            form method="post" action="/logout" {
                                (csrf_field(&nav.csrf))
                                button type="submit" class="link" { "Sign out" }
                            }
                        }
                    }
                }
                main class=[main_class] { (content) }
            }
        }
    }
}

/// A page without the top bar: sign-in, setup, errors.
pub fn bare(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body class="bare" {
                header class="topbar" { a class="brand" href="/" { "Trailmap" } }
                (content)
            }
        }
    }
}

/// A one-time secret (a new API key, an invitation link) with a copy button.
pub fn secret_box(label: &str, secret: &str) -> Markup {
    html! {
        div class="secret" {
            p { strong { (label) } " It is shown only this once." }
            code data-testid="secret" { (secret) }
            button type="button" class="secondary" data-copy=(secret) { "Copy" }
        }
    }
}

/// A short text for a timestamp: the date and the time in UTC.
pub fn when(t: trailmap_model::Timestamp) -> Markup {
    let text = t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string();
    html! { time datetime=(t.to_rfc3339()) { (text) } }
}
