//! A map's live answers as the editor page and the JSON API share them: its live numbers and its
//! cards' evidence, from the answer cache while the business's data version is the one they were
//! computed at. Any write moves the version (a map edit, a change, a tracking event), so nothing
//! is served stale; looking at the map again, or another member opening it, computes nothing.

use crate::error::ApiError;
use crate::state::ServerState;
use std::sync::Arc;
use trailmap_app::card_evidence::MapEvidence;
use trailmap_app::MapNumbers;
use trailmap_app::query::NumbersQuery;
use trailmap_model::{Business, MapId};

/// The request as asked, for the cache's key (the persona is resolved inside, at the version).
fn asked(map: i64, query: &NumbersQuery) -> String {
    format!("{map}:{:?}:{:?}:{:?}:{:?}", query.from, query.to, query.persona, query.window)
}

/// The live numbers of map `map` for `query`.
pub(crate) async fn map_numbers(state: &ServerState, business: &Business, map: i64, query: &NumbersQuery) -> Result<Arc<MapNumbers>, ApiError> {
    let (b, q) = (business.clone(), query.clone());
    state
        .cached_read(business.id, format!("map-numbers:{}", asked(map, query)), move |app| {
            let request = q.request(app, &b)?;
            app.map_numbers(&b, MapId(map), &request)
        })
        .await
}

/// The evidence of map `map`'s cards (its current version) for `query`. Over every recorded day
/// of a business without data it names today, which the key includes.
pub(crate) async fn map_evidence(state: &ServerState, business: &Business, map: i64, query: &NumbersQuery) -> Result<Arc<MapEvidence>, ApiError> {
    let (b, q) = (business.clone(), query.clone());
    let today = crate::auth::now().date();
    state
        .cached_read(business.id, format!("map-evidence:{}:{today}", asked(map, query)), move |app| {
            let request = q.request(app, &b)?;
            let shown = app.journey_map(&b, MapId(map))?.map;
            app.map_evidence(&b, &shown, &request)
        })
        .await
}
