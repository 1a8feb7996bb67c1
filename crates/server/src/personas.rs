//! What the personas page and the personas API share, kept out of both so neither imports the
//! other: the customers' measured facts kept per data version (so the live count of a rule being
//! typed reads them instead of measuring every customer again), the address a persona's photo is
//! served at, the photo's response, and the parameters of suggested personas.

use crate::error::ApiError;
use crate::state::ServerState;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use trailmap_app::customer_facts::CustomerFacts;
use trailmap_app::AppError;
use trailmap_app::personas::Photo;
use serde::{Deserialize, Serialize};
use trailmap_model::{Business, BusinessId, PersonaId};

/// The customers' facts of `business`, from the answer cache while its data is unchanged.
pub async fn customer_facts(state: &ServerState, business: &Business) -> Result<Arc<CustomerFacts>, ApiError> {
    let b = business.clone();
    state.cached_read(business.id, "customer-facts".into(), move |app| app.customer_facts(&b)).await
}

/// Where a persona's photo is served (to members of its business, with its own type).
pub fn photo_path(business: BusinessId, persona: PersonaId) -> String {
    format!("/api/businesses/{business}/personas/{persona}/photo")
}

/// A stored photo as an answer: its checked type, never sniffed, never cached by proxies.
pub fn photo_response(photo: Photo) -> Response {
    let mut response = photo.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(photo.content_type));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'"));
    response
}

/// How to cluster: `k` clusters (default: the best silhouette over 2..6) and the `seed`.
#[derive(Debug, Default, Clone, Serialize, Deserialize, utoipa::IntoParams)]
pub struct SuggestionsQuery {
    pub k: Option<String>,
    pub seed: Option<String>,
}

impl SuggestionsQuery {
    /// The app's request; a parameter that does not read is a 400 naming it.
    pub fn request(&self, app: &trailmap_app::App) -> Result<trailmap_app::PersonaRequest, AppError> {
        let mut request = app.persona_request();
        let number = |name: &str, text: &str| {
            text.trim().parse::<u64>().map_err(|_| AppError::InvalidField {
                field: name.into(),
                value: Some(text.into()),
                reason: "expected a whole number".into(),
            })
        };
        if let Some(k) = self.k.as_deref().filter(|k| !k.trim().is_empty()) {
            request.k = Some(number("k", k)? as usize);
        }
        if let Some(seed) = self.seed.as_deref().filter(|s| !s.trim().is_empty()) {
            request.seed = number("seed", seed)?;
        }
        Ok(request)
    }
}

