//! The dashboard's answers as the pages and the JSON API share them: the dashboard of a period
//! from the answer cache, the period asked for or the default one, and the customers behind a
//! number. The query's fields are read by the app (`trailmap_app::query::CustomersQuery`).

use crate::auth;
use crate::error::ApiError;
use crate::state::ServerState;
use std::sync::Arc;
use std::time::Duration;
use trailmap_app::query::CustomersQuery;
use trailmap_app::{Dashboard, DayRange};
use trailmap_model::{Business, CustomerId};

/// The dashboard of `business` for `period` from the answer cache: of the current data, or
/// computed less than `RECENT_ENOUGH` ago while a refresh runs (then with its age, which the page
/// and the API's `Age` header show), since tracking changes the data many times a second. With
/// `current`, always of the current data (an API caller's `Cache-Control: no-cache`).
pub(crate) async fn load_dashboard(
    state: &ServerState,
    business: &Business,
    period: DayRange,
    current: bool,
) -> Result<(Arc<Dashboard>, Option<Duration>), ApiError> {
    let b = business.clone();
    state.recent_read(business.id, format!("dashboard:{}:{}", period.from, period.to), current, move |app| app.dashboard(&b, period)).await
}

/// Whether a request asks for the answer of the current data (`Cache-Control: no-cache`, as
/// HTTP caches read it: revalidate before serving).
pub(crate) fn asks_current(headers: &axum::http::HeaderMap) -> bool {
    headers.get_all(axum::http::header::CACHE_CONTROL).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|directive| directive.trim().eq_ignore_ascii_case("no-cache"))
    })
}

/// The `Age` header (RFC 9111: whole seconds) of an answer that lags the data, none for a current one.
pub(crate) fn age_headers(age: Option<Duration>) -> axum::http::HeaderMap {
    let mut headers = axum::http::HeaderMap::new();
    if let Some(age) = age {
        headers.insert(axum::http::header::AGE, axum::http::HeaderValue::from(age.as_secs()));
    }
    headers
}

/// The period asked for, or the last 30 days with data (found in the current data with
/// `current`, as `load_dashboard`).
pub(crate) async fn period(state: &ServerState, business: &Business, query: &CustomersQuery, current: bool) -> Result<DayRange, ApiError> {
    if let Some(asked) = query.period()? {
        return Ok(asked);
    }
    let b = business.clone();
    let today = auth::now().date();
    // Finding the last day with data reads every event's time: worth keeping, and as the
    // dashboard's own answer it may lag as the dashboard does.
    let (found, _) = state.recent_read(business.id, format!("default_period:{today}"), current, move |app| app.default_period(&b, today)).await?;
    Ok(*found)
}

/// Which customers a customer list shows, and its title: explicit ids (links from analysis
/// pages), or the customers behind a dashboard metric (its numerator, or its whole sample with
/// `of=sample`), or the new customers of one first channel. Shared by the page and the API.
pub(crate) async fn customers_behind(
    state: &ServerState,
    business: &Business,
    query: &CustomersQuery,
) -> Result<(String, Vec<CustomerId>), ApiError> {
    Ok(if let Some(ids) = query.ids()? {
        ("Customers".to_string(), ids)
    } else {
        let key = query.metric().to_string();
        let period = period(state, business, query, false).await?;
        let (board, _) = load_dashboard(state, business, period, false).await?;
        let metric = board
            .report
            .metric(&key)
            .ok_or_else(|| ApiError::bad_request("invalid_input", format!("metric: {key:?} is not a dashboard metric")))?;
        match (&query.channel, query.of_sample()) {
            (Some(channel), _) => {
                let row = board.report.new_by_channel.iter().find(|c| &c.channel == channel);
                (format!("New customers from {channel}, {} to {}", period.from, period.to), row.map(|r| r.customers.clone()).unwrap_or_default())
            }
            (None, true) => (format!("{}: everyone counted, {} to {}", metric.label, period.from, period.to), metric.sample.clone()),
            (None, false) => (format!("{}, {} to {}", metric.label, period.from, period.to), metric.customers.clone()),
        }
    })
}
