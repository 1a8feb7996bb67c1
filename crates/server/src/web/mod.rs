//! The web app: server-rendered HTML pages (maud templates, no front-end build), one module per page
//! or group of pages, each a few handler functions; `routes` lists them, one line per route. Pages
//! answer errors as a small HTML page with the same status and code the JSON API would give.
//!
//! To add a page: a module here with its handlers (take `SignedIn` for a signed-in GET, `PageForm<T>`
//! for a form post, which checks CSRF), call `auth::membership` for a business route, render with
//! `layout::page`, and add its route line below.

pub mod account;
pub mod analysis;
pub mod assets;
pub mod businesses;
pub mod actions;
pub mod changes;
pub mod dashboard;
pub mod imports;
pub mod invite;
pub mod keys;
pub mod insights;
pub mod layout;
pub mod login;
pub mod maps;
pub mod members;
pub mod onboarding;
pub mod personas;
pub mod privacy;
pub mod public_survey;
pub mod research;
pub mod reports;
pub mod setup;
pub mod surveys;
pub mod share;
pub mod touchpoints;

use crate::error::ApiError;
use crate::state::ServerState;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};

/// Every page route of the web app.
pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/", get(businesses::root))
        .route("/setup", get(setup::show).post(setup::submit))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/businesses", get(businesses::list).post(businesses::create))
        .route("/businesses/{business_id}/rename", post(businesses::rename))
        .route("/b/{business_id}", get(dashboard::without_slash))
        .route("/b/{business_id}/", get(dashboard::show))
        .route("/b/{business_id}/dashboard.csv", get(dashboard::csv))
        .route("/b/{business_id}/customers", get(dashboard::customers))
        .route("/b/{business_id}/customers/{customer_id}", get(dashboard::customer))
        .route("/b/{business_id}/customers/{customer_id}/export", get(privacy::export))
        .route("/b/{business_id}/customers/{customer_id}/erase", post(privacy::erase))
        .route("/b/{business_id}/settings/members", get(members::show))
        .route("/b/{business_id}/onboarding", post(onboarding::hide))
        .route("/b/{business_id}/settings/sources", get(onboarding::sources).post(onboarding::create))
        .route("/b/{business_id}/settings/sources/{key_id}/revoke", post(onboarding::revoke))
        .route("/b/{business_id}/analysis", get(analysis::index_without_slash))
        .route("/b/{business_id}/analysis/", get(analysis::index))
        .route("/b/{business_id}/analysis/funnel", get(analysis::show::<analysis::funnel::Funnel>))
        .route("/b/{business_id}/analysis/funnel/customers", get(analysis::funnel_customers::show))
        .route("/b/{business_id}/analysis/flows", get(analysis::show::<analysis::flows::Flows>))
        .route("/b/{business_id}/analysis/attribution", get(analysis::show::<analysis::attribution::Attribution>))
        .route("/b/{business_id}/analysis/retention", get(analysis::show::<analysis::retention::Retention>))
        .route("/b/{business_id}/analysis/clv", get(analysis::show::<analysis::clv::Clv>))
        .route("/b/{business_id}/surveys", get(surveys::list).post(surveys::create))
        .route("/b/{business_id}/surveys/{survey_id}", get(surveys::results))
        .route("/b/{business_id}/surveys/{survey_id}/link", post(surveys::link))
        .route("/b/{business_id}/surveys/{survey_id}/qr.svg", get(surveys::qr_svg))
        .route("/b/{business_id}/surveys/{survey_id}/qr.png", get(surveys::qr_png))
        .route("/b/{business_id}/feedback", get(surveys::feedback))
        .route("/b/{business_id}/research", get(research::show))
        .route("/b/{business_id}/research/cite", post(research::cite))
        .route("/b/{business_id}/research/{feedback_id}/tags", post(research::tags))
        .route(
            "/b/{business_id}/feedback/import",
            get(surveys::import::show)
                .post(surveys::import::upload)
                .layer(axum::extract::DefaultBodyLimit::max(crate::feedback_uploads::MAX_UPLOAD_BYTES + crate::feedback_uploads::MULTIPART_SLACK_BYTES)),
        )
        .route("/b/{business_id}/settings/members/invite", post(members::invite))
        .route("/b/{business_id}/settings/members/{user_id}/role", post(members::set_role))
        .route("/b/{business_id}/settings/members/{user_id}/remove", post(members::remove))
        .route("/b/{business_id}/settings/members/{user_id}/reset", post(members::reset))
        .route("/invite/{token}", get(invite::show).post(invite::accept))
        .route("/s/{token}", get(public_survey::show).post(public_survey::submit))
        .route("/s/{token}/thanks", get(public_survey::thanks))
        .route("/account/keys", get(keys::show).post(keys::create))
        .route("/account/security", get(account::show))
        .route("/account/password", post(account::change_password))
        .route("/account/sessions/end-others", post(account::end_others))
        .route("/account/sessions/{session_id}/end", post(account::end_session))
        .route("/reset/{token}", get(account::reset_form).post(account::reset))
        .route("/account/keys/{key_id}/revoke", post(keys::revoke))
        .route("/static/app.css", get(assets::css))
        .route("/static/app.js", get(assets::js))
        .route("/b/{business_id}/maps", get(maps::list).post(maps::create))
        .route(
            "/b/{business_id}/personas",
            get(personas::show).post(personas::form::create).layer(axum::extract::DefaultBodyLimit::max(personas::form::MAX_FORM_BYTES)),
        )
        .route("/b/{business_id}/personas/new", get(personas::form::new))
        .route("/b/{business_id}/personas/suggestions", get(personas::suggestions::show))
        .route(
            "/b/{business_id}/personas/{persona_id}",
            post(personas::form::update).layer(axum::extract::DefaultBodyLimit::max(personas::form::MAX_FORM_BYTES)),
        )
        .route("/b/{business_id}/personas/{persona_id}/edit", get(personas::form::edit))
        .route("/b/{business_id}/personas/{persona_id}/delete", post(personas::form::delete))
        .route("/b/{business_id}/touchpoints", get(touchpoints::show).post(touchpoints::form::create))
        .route("/b/{business_id}/touchpoints/new", get(touchpoints::form::new))
        .route("/b/{business_id}/touchpoints/suggestions", get(touchpoints::suggestions::show).post(touchpoints::suggestions::choose))
        .route("/b/{business_id}/touchpoints/{touchpoint_id}/edit", get(touchpoints::form::edit).post(touchpoints::form::save))
        .route("/b/{business_id}/touchpoints/{touchpoint_id}/move", post(touchpoints::move_one))
        .route("/b/{business_id}/touchpoints/{touchpoint_id}/delete", post(touchpoints::delete))
        .route("/b/{business_id}/actions", get(actions::board))
        .route("/b/{business_id}/changes", get(changes::list).post(changes::create))
        .route("/b/{business_id}/changes/{change_id}", get(changes::impact))
        .route("/b/{business_id}/insights", get(insights::show))
        .route("/b/{business_id}/report", get(reports::show))
        .route("/b/{business_id}/report.pdf", get(reports::pdf))
        .route("/b/{business_id}/settings/delivery", get(reports::delivery))
        .route("/b/{business_id}/settings/delivery/digests", post(reports::create_digest))
        .route("/b/{business_id}/settings/delivery/digests/{digest_id}/send", post(reports::send_digest))
        .route("/b/{business_id}/settings/delivery/digests/{digest_id}/remove", post(reports::remove_digest))
        .route("/b/{business_id}/settings/delivery/alerts", post(reports::create_alert))
        .route("/b/{business_id}/settings/delivery/alerts/{alert_id}/test", post(reports::test_alert))
        .route("/b/{business_id}/settings/delivery/alerts/{alert_id}/remove", post(reports::remove_alert))
        .route("/portfolio", get(reports::portfolio))
        .route("/b/{business_id}/maps/{map_id}", get(maps::editor::show))
        .route("/b/{business_id}/maps/{map_id}/edit", post(maps::editor::edit))
        .route("/b/{business_id}/maps/{map_id}/cards/{card_id}/comments", post(maps::comments::add))
        .route("/b/{business_id}/maps/{map_id}/cards/{card_id}/comments/{comment_id}/edit", post(maps::comments::edit))
        .route("/b/{business_id}/maps/{map_id}/cards/{card_id}/comments/{comment_id}/delete", post(maps::comments::delete))
        .route("/b/{business_id}/maps/{map_id}/versions", get(maps::pages::versions))
        .route("/b/{business_id}/maps/{map_id}/compare", get(maps::pages::compare))
        .route("/b/{business_id}/maps/{map_id}/to-be", post(maps::pages::create_to_be))
        .route("/b/{business_id}/maps/{map_id}/export", get(maps::pages::export))
        .route("/b/{business_id}/maps/{map_id}/share", get(maps::pages::share).post(maps::pages::create_share))
        .route("/b/{business_id}/maps/{map_id}/share/{link}/revoke", post(maps::pages::revoke_share))
        .route("/share/{token}", get(share::show).post(share::unlock))
        .route("/static/maps.js", get(assets::maps_js))
        .route("/static/touchpoints.js", get(assets::touchpoints_js))
        .route("/static/onboarding.js", get(assets::onboarding_js))
        .route("/static/imports.js", get(assets::imports_js))
        .route(
            "/b/{business_id}/import",
            get(imports::show).post(imports::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/b/{business_id}/import/{upload_id}", get(imports::preview).post(imports::submit))
}

/// An error on a page: shown as a small HTML page with its status.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> PageError {
        PageError(error)
    }
}

impl From<trailmap_app::AppError> for PageError {
    fn from(error: trailmap_app::AppError) -> PageError {
        PageError(ApiError::from(error))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(self.0)
    }
}

/// What a page handler returns.
pub type PageResult = Result<Response, PageError>;

/// An HTML page for an error, with the error's status and code.
pub fn error_page(error: ApiError) -> Response {
    if error.status.is_server_error() {
        tracing::error!(code = error.code, message = %error.message, "request failed");
    }
    let title = match error.status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        s if s.is_client_error() => "That did not work",
        _ => "Something went wrong",
    };
    let body = html! {
        main class="narrow" {
            h1 { (title) }
            p class="error" data-code=(error.code) { (error.message) }
            p { a href="/" { "Back to Trailmap" } }
        }
    };
    let mut response = (error.status, html_response(layout::bare(title, body))).into_response();
    if let Some(secs) = error.retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// A day given as YYYY-MM-DD in the query or form field `field`; the error names the field.
pub(crate) use trailmap_app::query::day as parse_day;

/// A page as a response, never cached: pages show private data.
pub fn html_response(markup: Markup) -> Response {
    let mut response = axum::response::Html(markup.into_string()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A 303 to `to`: what a successful form post answers, so a reload does not post again.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}
