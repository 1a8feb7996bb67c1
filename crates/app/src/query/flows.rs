//! The flows' (paths') request from parameters: `by`, `from`, `to`, `session_gap`, `top` and
//! `max_steps`, and `pushdown=true` to make the sessions in ClickHouse when the events are there. The defaults are the engine's (PostHog's: by event, 30-minute sessions, the 50
//! busiest edges) but for the steps per path, [`SANKEY_STEPS`].

use super::{FromParams, Params, choice, count, duration, field_error};
use crate::Result;
use trailmap_analytics::PathsOptions;

/// Steps per path read from parameters unless asked: as many columns as a readable Sankey holds
/// (a Sankey of ten columns leaves each label a few letters). The command line, which prints the
/// edges as a table, keeps the engine's ten.
pub const SANKEY_STEPS: usize = 6;

impl FromParams for PathsOptions {
    fn from_params(params: &Params) -> Result<PathsOptions> {
        let mut options = PathsOptions::default();
        let by = choice("by", params.get("by"), "event", &["event", "page"])?;
        options.by = by.parse().map_err(|e: String| field_error("by", e))?;
        if let Some(gap) = params.get("session_gap") {
            options.session_gap_ms = duration("session_gap", gap)?;
        }
        if params.get("from").is_some() && params.get("to").is_some() {
            return Err(field_error("to", "give either from or to, not both"));
        }
        options.start = params.get("from").map(str::to_string);
        options.end = params.get("to").map(str::to_string);
        if let Some(end) = &options.end {
            options.conversion = end.clone();
        }
        options.top_edges = count("top", params.get("top"), options.top_edges, 1, 500)?;
        options.max_steps = count("max_steps", params.get("max_steps"), SANKEY_STEPS, 2, 50)?;
        Ok(options)
    }
}

/// Paths as a request asks them: the engine's options, and whether to push the sessions down.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PathsRequest {
    pub options: PathsOptions,
    /// Make each customer's sessions in ClickHouse when the events are there, instead of
    /// streaming every event into the engine: the same report, and the answer says which path it
    /// took.
    pub pushdown: bool,
}

impl FromParams for PathsRequest {
    fn from_params(params: &Params) -> Result<PathsRequest> {
        let pushdown = choice("pushdown", params.get("pushdown"), "false", &["true", "false"])? == "true";
        Ok(PathsRequest { options: PathsOptions::from_params(params)?, pushdown })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_read_their_parameters_with_the_sankey_default() {
        let options = PathsOptions::from_params(&Params::parse(Some("to=purchase&top=10&session_gap=1h"))).expect("read");
        assert_eq!((options.end.as_deref(), options.conversion.as_str()), (Some("purchase"), "purchase"));
        assert_eq!((options.top_edges, options.max_steps, options.session_gap_ms), (10, SANKEY_STEPS, 3_600_000));
        assert!(PathsRequest::from_params(&Params::parse(Some("pushdown=true"))).expect("read").pushdown);
        for (query, field) in [("pushdown=yes", "pushdown: "), ("by=mood", "by: "), ("top=0", "top: "), ("from=a&to=b", "to: "), ("max_steps=1", "max_steps: ")] {
            let error = PathsRequest::from_params(&Params::parse(Some(query))).expect_err(query).to_string();
            assert!(error.starts_with(field), "{query}: {error}");
        }
    }
}
