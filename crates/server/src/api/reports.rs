//! Reports, digests, alerts and the portfolio as JSON. `GET .../report?period=2026-10` answers the
//! report's data (`format=pdf` the PDF, `format=html` the page); `POST .../report/send` queues it
//! by e-mail; `.../digests` and `.../alerts` list, add and remove the scheduled digests and alert
//! rules (`POST .../digests/{id}/send` sends one now, `POST .../alerts/{id}/test` judges a rule and
//! sends the result as a test); `.../alerts/fired` lists what fired and `.../deliveries` the send
//! log. Every member reads; editors and owners add, remove and send (else 403). Sending happens
//! in the server's delivery task, never in the request: a send answers 202 with the delivery
//! queued. `GET /api/portfolio?sort=` lists every business the caller can see.

use super::maps::AnyJson;
use super::{ApiPath, ApiResult, JsonBody, editor, openapi::ErrorBody};
use crate::auth::{self, ApiUser};
use crate::state::ServerState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use trailmap_app::StoredDelivery;
use trailmap_app::alerts::NewAlertRule;
use trailmap_app::portfolio::PortfolioSort;
use trailmap_model::BusinessId;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ReportQuery {
    /// A month (2026-10), a day, or FROM..TO; default: the business's default period.
    pub period: Option<String>,
    /// json (default), pdf or html.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SendReport {
    /// A month (2026-10), a day, or FROM..TO; default: the business's default period.
    pub period: Option<String>,
    /// E-mail addresses, comma-separated.
    pub to: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateDigest {
    /// weekly or monthly.
    pub cadence: String,
    /// E-mail addresses, comma-separated.
    pub recipients: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateAlert {
    /// conversion:FROM>TO[:Nd], new-customers[:CHANNEL], nps, csat[:TOUCHPOINT], revenue, volume:TOUCHPOINT, aov, revenue-per-customer, repeat-rate, reach:STAGE.
    pub kpi: String,
    /// significant (default), rise, drop, above:X or below:X.
    pub when: Option<String>,
    /// weekly (default) or monthly.
    pub cadence: Option<String>,
    /// email (default) or webhook.
    pub channel: Option<String>,
    /// The e-mail addresses (comma-separated) or the webhook's http(s) URL.
    pub target: String,
}

/// A delivery in the send log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryOut {
    pub id: i64,
    /// digest, report, alert or test.
    pub kind: String,
    /// email or webhook.
    pub channel: String,
    pub target: String,
    pub subject: String,
    /// pending, sent or failed (given up).
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// RFC 3339, while pending.
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// Whether a PDF is attached.
    pub attachment: bool,
}

impl From<&StoredDelivery> for DeliveryOut {
    fn from(d: &StoredDelivery) -> DeliveryOut {
        DeliveryOut {
            id: d.id,
            kind: d.kind.clone(),
            channel: d.channel.clone(),
            target: d.target.clone(),
            subject: d.subject.clone(),
            status: d.status.clone(),
            attempts: d.attempts,
            last_error: d.last_error.clone(),
            next_attempt_at: d.next_attempt_at.map(|t| t.to_rfc3339()),
            created_at: d.created_at.to_rfc3339(),
            sent_at: d.sent_at.map(|t| t.to_rfc3339()),
            attachment: d.attachment.is_some(),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct PortfolioQuery {
    /// name (default), new_customers, conversion_rate, revenue, nps, revenue_change, stale_maps or open_alerts.
    pub sort: Option<String>,
}

fn json<T: Serialize>(value: &T) -> Result<serde_json::Value, crate::error::ApiError> {
    serde_json::to_value(value).map_err(|e| crate::error::ApiError::internal(e.to_string()))
}

/// Queues a delivery made on a reader; the writer's part is one insert.
pub(crate) async fn queue(state: &ServerState, delivery: trailmap_app::NewDelivery, now: trailmap_model::Timestamp) -> Result<StoredDelivery, crate::error::ApiError> {
    state
        .try_write(move |app| app.queue_delivery(&delivery, now)?.ok_or_else(|| trailmap_app::AppError::Invalid("the e-mail was not queued".into())))
        .await
}

fn queued(state: &ServerState, delivery: &StoredDelivery) -> Response {
    state.delivery.wake();
    (StatusCode::ACCEPTED, Json(DeliveryOut::from(delivery))).into_response()
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/report", tag = "reports",
    params(("business_id" = i64, Path, description = "The business"), ReportQuery),
    responses((status = 200, description = "The report's data as JSON (key numbers with n, the map, changes with their impact, insights); with format=pdf the PDF, with format=html the page"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn report(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, Query(q): Query<ReportQuery>) -> ApiResult<Response> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "pdf" | "html") {
        return Err(crate::error::ApiError::invalid_input(format!("format {format:?}: is json, pdf or html")));
    }
    let report = crate::reports::report_for(&state, &business, q.period.as_deref()).await?;
    Ok(match format {
        "pdf" => crate::reports::pdf_download(&report)?,
        "html" => crate::downloads::download(
            "text/html; charset=utf-8",
            crate::downloads::file_name(&format!("{} report {} {}", report.business, report.period.from, report.period.to), "html"),
            report.html().into_bytes(),
        ),
        _ => Json(json(&report)?).into_response(),
    })
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/report/send", tag = "reports", request_body = SendReport,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 202, body = DeliveryOut, description = "The e-mail, queued: the delivery task sends it at once and retries with backoff"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn send_report(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, JsonBody(body): JsonBody<SendReport>) -> ApiResult<Response> {
    let business = editor(&state, &caller, id).await?;
    let period = crate::reports::period_of(&state, &business, body.period.as_deref()).await?;
    let now = auth::now();
    // The report and its PDF are made on a reader; the writer only queues them.
    let email = state.try_read(move |app| app.report_email(&business, None, period, &body.to, now)).await?;
    let delivery = queue(&state, email, now).await?;
    Ok(queued(&state, &delivery))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/digests", tag = "reports",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = [AnyJson], description = "The scheduled digests: id, cadence, recipients, created_at"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn digests(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<serde_json::Value>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let digests = state.try_read(move |app| app.digests(&business)).await?;
    Ok(Json(json(&digests)?))
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/digests", tag = "reports", request_body = CreateDigest,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 201, body = AnyJson, description = "The digest"),
        (status = 400, body = ErrorBody, description = "A recipient is not an e-mail address, the cadence is unknown, or no SMTP server is configured or it cannot be reached"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_digest(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, JsonBody(body): JsonBody<CreateDigest>) -> ApiResult<Response> {
    let business = editor(&state, &caller, id).await?;
    // Checking the SMTP server talks to the network: a blocking thread, never the writer.
    let smtp = state.delivery.settings.smtp.clone();
    let (cadence, recipients) =
        tokio::task::spawn_blocking(move || trailmap_app::digests::check_digest(&body.cadence, &body.recipients, smtp.as_ref()))
            .await
            .map_err(|e| crate::error::ApiError::internal(e.to_string()))??;
    let now = auth::now();
    let digest = state.try_write(move |app| app.save_digest(&business, cadence, &recipients, now)).await?;
    Ok((StatusCode::CREATED, Json(json(&digest)?)).into_response())
}

#[utoipa::path(delete, path = "/api/businesses/{business_id}/digests/{digest_id}", tag = "reports",
    params(("business_id" = i64, Path, description = "The business"), ("digest_id" = i64, Path, description = "One of its digests")),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_digest(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, digest)): ApiPath<(i64, i64)>) -> ApiResult<StatusCode> {
    let business = editor(&state, &caller, id).await?;
    state.try_write(move |app| app.remove_digest(&business, digest)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/digests/{digest_id}/send", tag = "reports",
    params(("business_id" = i64, Path, description = "The business"), ("digest_id" = i64, Path, description = "One of its digests")),
    responses((status = 202, body = DeliveryOut, description = "The digest of its last whole period, queued"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn send_digest(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, digest)): ApiPath<(i64, i64)>) -> ApiResult<Response> {
    let business = editor(&state, &caller, id).await?;
    let now = auth::now();
    let email = state.try_read(move |app| app.digest_now(&business, digest, now)).await?;
    let delivery = queue(&state, email, now).await?;
    Ok(queued(&state, &delivery))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/alerts", tag = "reports",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = [AnyJson], description = "The alert rules: id, kpi, label, cadence, when, channel, target"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn alerts(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<serde_json::Value>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let rules = state.try_read(move |app| app.alert_rules(&business)).await?;
    Ok(Json(json(&rules)?))
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/alerts", tag = "reports", request_body = CreateAlert,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 201, body = AnyJson, description = "The rule; a webhook rule carries its signing secret (`secret`), shown only now"),
        (status = 400, body = ErrorBody, description = "The KPI, condition, cadence or channel does not read or names what the business lacks, an address is not an e-mail address, or a webhook URL is not http(s)"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_alert(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, JsonBody(body): JsonBody<CreateAlert>) -> ApiResult<Response> {
    let business = editor(&state, &caller, id).await?;
    let now = auth::now();
    let new = NewAlertRule {
        kpi: body.kpi,
        cadence: body.cadence.unwrap_or_default(),
        when: body.when.unwrap_or_default(),
        channel: body.channel.unwrap_or_default(),
        target: body.target,
    };
    // Checking measures the KPI once: on a reader, never the writer.
    let checked = state.try_read(move |app| app.check_alert_rule(&business, &new, now)).await?;
    let rule = state.try_write(move |app| app.save_alert_rule(checked)).await?;
    Ok((StatusCode::CREATED, Json(json(&rule)?)).into_response())
}

#[utoipa::path(delete, path = "/api/businesses/{business_id}/alerts/{alert_id}", tag = "reports",
    params(("business_id" = i64, Path, description = "The business"), ("alert_id" = i64, Path, description = "One of its alert rules")),
    responses((status = 204, description = "Removed, with the record of its firings"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_alert(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, alert)): ApiPath<(i64, i64)>) -> ApiResult<StatusCode> {
    let business = editor(&state, &caller, id).await?;
    state.try_write(move |app| app.remove_alert_rule(&business, alert)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/alerts/{alert_id}/test", tag = "reports",
    params(("business_id" = i64, Path, description = "The business"), ("alert_id" = i64, Path, description = "One of its alert rules")),
    responses((status = 202, body = AnyJson, description = "The rule judged over its last period (check: period, comparison with n, fires, reason) and the test delivery queued (delivery)"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn test_alert(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, alert)): ApiPath<(i64, i64)>) -> ApiResult<Response> {
    let business = editor(&state, &caller, id).await?;
    let now = auth::now();
    let judged = business.clone();
    let check = state.try_read(move |app| app.check_alert(&judged, alert, None, now)).await?;
    let queued_check = check.clone();
    let delivery = state.try_write(move |app| app.queue_alert_test(&business, &queued_check, now)).await?;
    state.delivery.wake();
    let body = serde_json::json!({ "check": json(&check)?, "delivery": json(&DeliveryOut::from(&delivery))? });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/alerts/fired", tag = "reports",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = [AnyJson], description = "What fired, newest first: rule, period, fired_at, message (with n)"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn fired(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<serde_json::Value>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let fired = state.try_read(move |app| app.alert_firings(&business, 200)).await?;
    Ok(Json(json(&fired)?))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/deliveries", tag = "reports",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = [DeliveryOut], description = "The send log, newest first"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deliveries(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<DeliveryOut>>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let log = state.try_read(move |app| app.delivery_log(business.id, 200)).await?;
    Ok(Json(log.iter().map(DeliveryOut::from).collect()))
}

#[utoipa::path(get, path = "/api/portfolio", tag = "reports", params(PortfolioQuery),
    responses((status = 200, body = [AnyJson], description = "Every business the caller can see: key numbers with n, previous values and trend, stale maps, open alerts"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn portfolio(caller: ApiUser, State(state): State<ServerState>, Query(q): Query<PortfolioQuery>) -> ApiResult<Json<serde_json::Value>> {
    let sort = PortfolioSort::parse(q.sort.as_deref().unwrap_or("name"))?;
    let user = caller.user.id;
    let now = auth::now();
    let rows = state
        .try_read(move |app| {
            let businesses: Vec<_> = app.memberships(user)?.into_iter().map(|m| m.business).collect();
            app.portfolio(&businesses, sort, now)
        })
        .await?;
    Ok(Json(json(&rows)?))
}
