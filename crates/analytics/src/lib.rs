//! The journey analytics engine: funnels, paths, attribution, retention and a map's stages over a business's
//! events. Pure computation on the store's columnar [`trailmap_model::EventTable`]: no I/O, no
//! clock, no async. Every answer keeps the customers behind its numbers, so a figure can be opened
//! to the people it counts.

pub mod funnel;
pub mod attribution;
pub mod journeys;
pub mod kpi;
pub mod paths;
pub mod retention;
pub mod rules;
pub mod stages;
pub mod stats;
pub mod voice;

pub use funnel::{Breakdown, FunnelError, FunnelMode, FunnelQuery, FunnelReport, FunnelStep, funnel};
pub use attribution::{Attribution, AttributionError, AttributionOptions, Model, Period, SpendRow, TouchKey};
pub use journeys::{Journey, Journeys};
pub use kpi::{EventActivity, KpiQuery, KpiReport, OrderFact, RatingFact, Scale, kpis, kpis_of_activity};
pub use paths::{PathItem, PathsOptions, PathsReport, paths, paths_of_sessions};
pub use retention::{BuyerPurchases, RetentionPeriod, RetentionReport, retention, retention_of_buyers};
pub use rules::{CompiledRule, RuleSet};
pub use stages::{Credit, StageTouchpoint, StagesQuery, StagesReport, stages};
