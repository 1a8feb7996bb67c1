//! What the report page and the report API share: the report of a period (the `period`
//! parameter, `2026-10` or `FROM..TO`, else the business's default period) and its PDF download.

use crate::auth;
use crate::error::ApiError;
use crate::state::ServerState;
use trailmap_app::DayRange;
use trailmap_app::report::{Report, ReportRequest};
use trailmap_model::Business;

/// The period asked for, or the business's default one.
pub async fn period_of(state: &ServerState, business: &Business, text: Option<&str>) -> Result<DayRange, ApiError> {
    let today = auth::now().date();
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => Ok(trailmap_app::portfolio::parse_period(text)?),
        None => {
            let business = business.clone();
            state.try_read(move |app| app.default_period(&business, today)).await
        }
    }
}

/// The report of `business` for the period asked for.
pub async fn report_for(state: &ServerState, business: &Business, period: Option<&str>) -> Result<Report, ApiError> {
    let period = period_of(state, business, period).await?;
    let business = business.clone();
    let today = auth::now().date();
    state.try_read(move |app| app.report(&business, &ReportRequest { period, today })).await
}

/// The report as a PDF download.
pub fn pdf_download(report: &Report) -> Result<axum::response::Response, ApiError> {
    let bytes = report.pdf()?;
    let name = crate::downloads::file_name(&format!("{} report {} {}", report.business, report.period.from, report.period.to), "pdf");
    Ok(crate::downloads::download("application/pdf", name, bytes))
}
