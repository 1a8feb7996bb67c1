//! The closed sets of values the API's parameters take, as schema enums so that the OpenAPI
//! document declares them (a client generator or Schemathesis reads them there). They only
//! describe: each handler still reads the text and refuses anything else with 400
//! `invalid_input`, naming the parameter. A test checks each list against the parsers.

use serde::Serialize;
use utoipa::ToSchema;

/// An attribution model.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AttributionModel {
    All,
    First,
    Last,
    LastNonDirect,
    Linear,
    TimeDecay,
    Position,
    Markov,
    Shapley,
}

/// What attribution credits.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AttributionBy {
    Channel,
    Source,
    Campaign,
    Touchpoint,
}

/// What the flows follow.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FlowsBy {
    Event,
    Page,
}

/// What customer value is broken down by.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ClvBy {
    Channel,
    Touchpoint,
    Cohort,
    Persona,
}

/// A customer-value model.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ClvModel {
    Bgnbd,
    ParetoNbd,
    GammaGamma,
}

/// The unit of customer-value periods.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ClvUnit {
    Week,
    Day,
}

/// A member's role.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RoleName {
    Owner,
    Editor,
    Viewer,
}

/// A map export's format.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MapExportFormat {
    Json,
    Mermaid,
    Svg,
    Png,
    Pdf,
}

/// Which conversions attribution counts.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AttributionCount {
    /// Every conversion.
    All,
    /// Each customer's first conversion (new customers).
    First,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<T: Serialize>(values: &[T]) -> Vec<String> {
        values.iter().map(|v| serde_json::to_value(v).ok().and_then(|j| j.as_str().map(str::to_string)).unwrap_or_default()).collect()
    }

    #[test]
    fn the_documented_values_are_the_ones_the_app_reads() {
        use AttributionModel as A;
        let models = names(&[A::All, A::First, A::Last, A::LastNonDirect, A::Linear, A::TimeDecay, A::Position, A::Markov, A::Shapley]);
        let known: Vec<&str> = trailmap_analytics::Model::ALL.iter().map(|m| m.as_str()).collect();
        assert_eq!(models[0], "all");
        assert_eq!(models[1..], known[..]);
        assert_eq!(models, trailmap_app::query::ATTRIBUTION_MODELS);
        assert_eq!(names(&[AttributionBy::Channel, AttributionBy::Source, AttributionBy::Campaign, AttributionBy::Touchpoint]), trailmap_app::query::ATTRIBUTION_KEYS);
        assert_eq!(names(&[AttributionCount::All, AttributionCount::First]), ["all", "first"]);
        assert_eq!(names(&[ClvModel::Bgnbd, ClvModel::ParetoNbd, ClvModel::GammaGamma]), ["bgnbd", "pareto-nbd", "gamma-gamma"]);
        for r in names(&[RoleName::Owner, RoleName::Editor, RoleName::Viewer]) {
            assert!(trailmap_model::Role::parse(&r).is_some(), "{r}");
        }
    }
}
