//! Retention's request: cohorts by `period`, month unless asked, and `pushdown=true` to count it
//! in ClickHouse when the events are there.

use super::{FromParams, Params, choice, field_error};
use crate::Result;
use serde::Serialize;
use trailmap_analytics::RetentionPeriod;

/// Which cohorts: buyers grouped by the week or the month of their first purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetentionRequest {
    pub period: RetentionPeriod,
    /// Summarise each buyer in ClickHouse when the events are there, instead of streaming every
    /// event into the engine: the same report, and the answer says which path it took.
    pub pushdown: bool,
}

impl Default for RetentionRequest {
    fn default() -> Self {
        RetentionRequest { period: RetentionPeriod::Month, pushdown: false }
    }
}

impl FromParams for RetentionRequest {
    fn from_params(params: &Params) -> Result<RetentionRequest> {
        let period = choice("period", params.get("period"), "month", &["week", "month"])?;
        let pushdown = choice("pushdown", params.get("pushdown"), "false", &["true", "false"])? == "true";
        Ok(RetentionRequest { period: period.parse().map_err(|e: String| field_error("period", e))?, pushdown })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_monthly_unless_asked() {
        assert_eq!(RetentionRequest::from_params(&Params::default()).ok(), Some(RetentionRequest::default()));
        assert_eq!(RetentionRequest::from_params(&Params::parse(Some("period=week"))).ok().map(|r| r.period), Some(RetentionPeriod::Week));
        assert_eq!(RetentionRequest::from_params(&Params::parse(Some("pushdown=true"))).ok().map(|r| r.pushdown), Some(true));
        assert!(RetentionRequest::from_params(&Params::parse(Some("period=year"))).expect_err("refused").to_string().starts_with("period: "));
    }
}
