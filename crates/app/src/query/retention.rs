//! Retention's request: cohorts by `period`, month unless asked.

use super::{FromParams, Params, choice, field_error};
use crate::Result;
use serde::Serialize;
use trailmap_analytics::RetentionPeriod;

/// Which cohorts: buyers grouped by the week or the month of their first purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetentionRequest {
    pub period: RetentionPeriod,
}

impl Default for RetentionRequest {
    fn default() -> Self {
        RetentionRequest { period: RetentionPeriod::Month }
    }
}

impl FromParams for RetentionRequest {
    fn from_params(params: &Params) -> Result<RetentionRequest> {
        let period = choice("period", params.get("period"), "month", &["week", "month"])?;
        Ok(RetentionRequest { period: period.parse().map_err(|e: String| field_error("period", e))? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_monthly_unless_asked() {
        assert_eq!(RetentionRequest::from_params(&Params::default()).ok(), Some(RetentionRequest::default()));
        assert_eq!(RetentionRequest::from_params(&Params::parse(Some("period=week"))).ok().map(|r| r.period), Some(RetentionPeriod::Week));
        assert!(RetentionRequest::from_params(&Params::parse(Some("period=year"))).expect_err("refused").to_string().starts_with("period: "));
    }
}
