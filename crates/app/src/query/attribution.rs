//! Attribution's request from parameters: `model` (one of eight or all), `by`, `lookback`,
//! `half_life`, `conversion`, `count` (every conversion or each customer's first), `from` and
//! `to` (days, both included). The request keeps the text it was given, which the report echoes;
//! each value is checked here and read again, by the same readers, where the app builds the
//! engine's options, so both name the same field.

use super::{FromParams, Params, choice, day, duration};
use crate::{AttributionRequest, Result};

/// The models a request may name, with `all` first.
pub const ATTRIBUTION_MODELS: [&str; 9] = ["all", "first", "last", "last-non-direct", "linear", "time-decay", "position", "markov", "shapley"];

/// What a touch may be credited to.
pub const ATTRIBUTION_KEYS: [&str; 4] = ["channel", "source", "campaign", "touchpoint"];

impl FromParams for AttributionRequest {
    fn from_params(params: &Params) -> Result<AttributionRequest> {
        let mut request = AttributionRequest {
            model: choice("model", params.get("model"), "all", &ATTRIBUTION_MODELS)?.to_string(),
            by: choice("by", params.get("by"), "channel", &ATTRIBUTION_KEYS)?.to_string(),
            ..AttributionRequest::default()
        };
        for (field, value) in [("lookback", &mut request.lookback), ("half_life", &mut request.half_life)] {
            if let Some(text) = params.get(field) {
                duration(field, text)?;
                *value = text.to_string();
            }
        }
        if let Some(conversion) = params.get("conversion") {
            request.conversion = conversion.to_string();
        }
        for (field, value) in [("from", &mut request.from), ("to", &mut request.to)] {
            if let Some(text) = params.get(field) {
                day(field, text)?;
                *value = Some(text.to_string());
            }
        }
        request.new_customers = choice("count", params.get("count"), "all", &["all", "first"])? == "first";
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribution_reads_its_parameters_and_names_the_bad_one() {
        let request = AttributionRequest::from_params(&Params::parse(Some("model=markov&lookback=14d&count=first"))).expect("read");
        assert_eq!((request.model.as_str(), request.lookback.as_str(), request.new_customers), ("markov", "14d", true));
        assert_eq!(AttributionRequest::from_params(&Params::default()).ok(), Some(AttributionRequest::default()));
        for (query, field) in [("model=magic", "model: "), ("lookback=forever", "lookback: "), ("count=some", "count: "), ("from=May", "from: ")] {
            let error = AttributionRequest::from_params(&Params::parse(Some(query))).expect_err(query).to_string();
            assert!(error.starts_with(field), "{query}: {error}");
        }
    }
}
