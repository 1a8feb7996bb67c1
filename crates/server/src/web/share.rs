//! The public, read-only page of a shared journey map at `/share/{token}`: no sign-in, the map's
//! newest version as a grid with its emotion curve, no numbers and no customers. A link with a
//! password asks for it first (a form with the double-submit token of pages shown before signing
//! in); a wrong password is a 403 `wrong_password`, an expired link a 410 `expired`, and an
//! unknown or revoked token a 404 `not_found`, all as HTML pages with their code. Wrong passwords
//! are throttled per link and address and per link (429 `rate_limited` with Retry-After).

use crate::auth::{self, AnonymousForm};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::throttle;
use crate::web::layout::bare;
use crate::web::maps::editor::{EditorData, GridContext, emotion_curve, grid_with};
use crate::web::{PageResult, error_page, html_response};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use trailmap_app::{SharedMap, ShareLinkError};
use trailmap_model::{Evidence, FeedbackId, PersonaId, TouchpointId};

/// What opening a link found: the map with the names and quotes it shows, or why not.
type Opened = Result<(SharedMap, HashMap<TouchpointId, String>, HashMap<PersonaId, String>, EditorData), ShareLinkError>;

async fn open(state: &ServerState, token: String, password: Option<String>) -> Result<Opened, ApiError> {
    let now = auth::now();
    state
        .read(move |app| {
            let shared = app.open_share_link(&token, password.as_deref(), now)?;
            let business = shared.map.business;
            let names = app.names(business)?;
            let touchpoints: HashMap<_, _> = names.touchpoints.into_iter().collect();
            let personas: HashMap<_, _> = names.personas.into_iter().collect();
            // The words of the quotes the map's cards cite, and of no other feedback: the link
            // shows the map, not the business's feedback.
            let cited: HashSet<FeedbackId> = shared
                .map
                .cards()
                .flat_map(|(_, _, card)| &card.evidence)
                .filter_map(|e| match e {
                    Evidence::Quote { feedback } => Some(*feedback),
                    _ => None,
                })
                .collect();
            let quote_texts = app.feedback_texts(business, &cited)?;
            Ok((shared, touchpoints, personas, EditorData { quote_texts, ..EditorData::default() }))
        })
        .await
}

fn shown(shared: &SharedMap, touchpoints: &HashMap<TouchpointId, String>, personas: &HashMap<PersonaId, String>, quotes: &EditorData) -> Response {
    let map = &shared.map;
    let ctx = GridContext { business: map.business, touchpoints, personas, numbers: None, csrf: None, link_customers: false, comments: None, evidence: None };
    let body = html! {
        main class="shared" {
            h1 data-testid="map-name" { (map.name) }
            p class="muted" {
                "A read-only journey map, version " (shared.version) "."
                @if let Some(t) = shared.expires_at { " This link works until " (crate::web::layout::when(t)) "." }
            }
            (grid_with(map, &ctx, quotes))
            (emotion_curve(map, personas))
        }
    };
    let mut response = html_response(bare(&map.name, body));
    // A shared map is for the people given the link, not for search engines.
    response.headers_mut().insert("x-robots-tag", axum::http::HeaderValue::from_static("noindex"));
    if !shared.frame_ancestors.is_empty()
        && let Ok(policy) = axum::http::HeaderValue::from_str(&crate::headers::policy_embeddable_in(&shared.frame_ancestors))
    {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

fn password_form(status: StatusCode, token: &str, form_token: &str, error: Option<&ApiError>) -> Response {
    let body = html! {
        main class="narrow" {
            h1 { "This map needs a password" }
            @if let Some(e) = error { p class="error" role="alert" data-code=(e.code) { (e.message) } }
            form method="post" action={ "/share/" (token) } data-testid="share-password" {
                input type="hidden" name="csrf" value=(form_token);
                label { "Password " input type="password" name="password" required autocomplete="current-password"; }
                button type="submit" { "Open the map" }
            }
        }
    };
    (status, html_response(bare("Shared map", body))).into_response()
}

fn answer(state: &ServerState, headers: &HeaderMap, token: &str, opened: Opened) -> Response {
    match opened {
        Ok((shared, touchpoints, personas, quotes)) => shown(&shared, &touchpoints, &personas, &quotes),
        Err(ShareLinkError::Unknown) => error_page(ApiError::not_found("no map is shared under this link; it may have been revoked")),
        Err(e @ ShareLinkError::Expired(_)) => error_page(ApiError::new(StatusCode::GONE, "expired", e.to_string())),
        Err(e @ (ShareLinkError::PasswordNeeded | ShareLinkError::WrongPassword)) => {
            let (form_token, cookie) = auth::form_token(state, headers);
            let (status, error) = match e {
                ShareLinkError::WrongPassword => (StatusCode::FORBIDDEN, Some(ApiError::new(StatusCode::FORBIDDEN, "wrong_password", e.to_string()))),
                _ => (StatusCode::OK, None),
            };
            let mut response = password_form(status, token, &form_token, error.as_ref());
            if let Some(cookie) = cookie {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(ShareLinkError::App(e)) => error_page(ApiError::from(e)),
    }
}

pub async fn show(State(state): State<ServerState>, headers: HeaderMap, Path(token): Path<String>) -> PageResult {
    let opened = open(&state, token.clone(), None).await?;
    Ok(answer(&state, &headers, &token, opened))
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub password: String,
}

/// POST `/share/{token}`: the password of a link. Wrong tries are throttled per link and address
/// and per link (`throttle`): past the free ones, 429 with Retry-After, however right the password.
pub async fn unlock(State(state): State<ServerState>, headers: HeaderMap, Path(token): Path<String>, posted: AnonymousForm<PasswordForm>) -> PageResult {
    let at = auth::now();
    let keys = throttle::share_keys(&token, &posted.address);
    if let Err(wait) = state.auth.throttle.check(&keys, at) {
        tracing::warn!(network = %throttle::masked(&posted.address), "share-link password refused: too many wrong tries");
        return Err(ApiError::too_many("wrong passwords for this link", wait).into());
    }
    let opened = open(&state, token.clone(), Some(posted.form.password)).await?;
    match &opened {
        Err(ShareLinkError::WrongPassword) => state.auth.throttle.record_failure(&keys, at),
        Ok(_) => state.auth.throttle.forget(&throttle::share_key(&token, &posted.address)),
        Err(_) => {}
    }
    Ok(answer(&state, &headers, &token, opened))
}
