//! A change's impact request from parameters: `days` in each window (default: the longest
//! matched length the data allows), `ramp_up` days after the change left out, `control` an
//! untouched comparable in the metric's text form, `split` an event property naming A/B variants,
//! `confidence` of the intervals (default 0.95). The change's page and the API read the same
//! fields.

use crate::impact::ImpactRequest;
use crate::{AppError, Result};
use serde::{Deserialize, Serialize};

/// The impact parameters as given; [`ImpactQuery::request`] reads them.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct ImpactQuery {
    pub days: Option<String>,
    pub ramp_up: Option<String>,
    pub control: Option<String>,
    pub split: Option<String>,
    pub confidence: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn invalid(field: &str, text: &str, reason: impl Into<String>) -> AppError {
    AppError::InvalidField { field: field.to_string(), value: Some(text.to_string()), reason: reason.into() }
}

impl ImpactQuery {
    /// The app's request; a field that does not read is refused naming it.
    pub fn request(&self) -> Result<ImpactRequest> {
        let days = |field: &str, value: &Option<String>| -> Result<Option<u32>> {
            given(value).map(|text| text.parse::<u32>().map_err(|_| invalid(field, text, "expected a whole number of days"))).transpose()
        };
        let mut request = ImpactRequest { window_days: days("days", &self.days)?, ..ImpactRequest::default() };
        request.ramp_up_days = days("ramp_up", &self.ramp_up)?.unwrap_or(0);
        request.control =
            given(&self.control).map(|text| text.parse().map_err(|e: trailmap_model::MetricParseError| invalid("control", text, e.to_string()))).transpose()?;
        request.split = given(&self.split).map(str::to_string);
        if let Some(text) = given(&self.confidence) {
            request.confidence = text
                .parse::<f64>()
                .ok()
                .filter(|c| *c > 0.5 && *c < 1.0)
                .ok_or_else(|| invalid("confidence", text, "expected a level between 0.5 and 1, such as 0.95"))?;
        }
        Ok(request)
    }

    /// The app names the request's fields; the query's names for two of them are shorter, and an
    /// error names what the caller typed.
    pub fn field_names(error: AppError) -> AppError {
        match error {
            AppError::InvalidField { field, value, reason } => {
                let field = match field.as_str() {
                    "window_days" => "days".to_string(),
                    "ramp_up_days" => "ramp_up".to_string(),
                    _ => field,
                };
                AppError::InvalidField { field, value, reason }
            }
            other => other,
        }
    }
}
