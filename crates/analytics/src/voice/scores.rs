//! Survey scores by their standard definitions, each with a 95% confidence interval, its sample
//! size and the responses and customers behind it.
//!
//! - **NPS** (answers 0-10): % promoters (9-10) minus % detractors (0-6), -100..100. Interval: the
//!   normal interval from the variance of the difference of two trinomial shares,
//!   `var = (p_pro + p_det - (p_pro - p_det)^2) / n`, times 100, clamped to -100..100.
//! - **CSAT** (answers 1-5): the share of 4 and 5, 0..1, with the Wilson score interval.
//! - **CES** (answers 1-7): the mean, with the Student t interval (n - 1 degrees of freedom;
//!   none for a single answer).
//!
//! An answer off its scale (11 on NPS, 0 on CSAT, 2.5 anywhere) is not counted: it is listed in
//! `excluded` so the caller can name it, rather than silently moving the score.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use trailmap_model::{CustomerId, ResponseId, StageId, Timestamp, TouchpointId};

/// The t quantile of the CES interval: one implementation, shared with the impact statistics.
pub use crate::stats::distributions::student_t_quantile;

/// The two-sided 95% quantile of the standard normal distribution.
const Z95: f64 = 1.959_963_984_540_054;

/// Which standard score a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ScoreKind {
    Nps,
    Csat,
    Ces,
}

impl ScoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScoreKind::Nps => "nps",
            ScoreKind::Csat => "csat",
            ScoreKind::Ces => "ces",
        }
    }

    /// The lowest and highest answer of the scale.
    pub fn scale(self) -> (f64, f64) {
        match self {
            ScoreKind::Nps => (0.0, 10.0),
            ScoreKind::Csat => (1.0, 5.0),
            ScoreKind::Ces => (1.0, 7.0),
        }
    }

    fn on_scale(self, value: f64) -> bool {
        let (low, high) = self.scale();
        value.is_finite() && value.fract() == 0.0 && (low..=high).contains(&value)
    }
}

/// One numeric answer as the scores read it, with where it was given.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreAnswer {
    pub response: ResponseId,
    pub customer: Option<CustomerId>,
    pub time: Timestamp,
    pub value: f64,
    /// The touchpoint and stage of the survey the answer belongs to.
    pub touchpoint: Option<TouchpointId>,
    pub stage: Option<StageId>,
}

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    /// The confidence level, 0.95.
    pub level: f64,
}

/// One score over a set of answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreResult {
    pub kind: ScoreKind,
    /// NPS in -100..100, CSAT as a share 0..1, CES as a mean 1..7; None when n is 0.
    pub value: Option<f64>,
    /// None when n is 0 (and for CES when n is 1: a mean of one answer has no spread).
    pub interval: Option<Interval>,
    /// The answers counted.
    pub n: u64,
    /// NPS: promoters, passives, detractors. CSAT: satisfied (4-5), not satisfied. CES: the
    /// count of each answer 1..7.
    pub counts: Vec<(String, u64)>,
    /// The responses counted, sorted.
    pub responses: Vec<ResponseId>,
    /// The customers of the counted responses (those known), sorted, once each.
    pub customers: Vec<CustomerId>,
    /// NPS: the promoters; CSAT: the satisfied; CES: the customers answering 5 or more on 1..7
    /// (easy). Sorted, once each.
    pub positive_customers: Vec<CustomerId>,
    /// Responses whose answer is off the scale (or not a whole number), not counted.
    pub excluded: Vec<ResponseId>,
}

/// Computes one score over `answers`.
pub fn score(kind: ScoreKind, answers: &[&ScoreAnswer]) -> ScoreResult {
    let (counted, off): (Vec<&ScoreAnswer>, Vec<&ScoreAnswer>) = answers.iter().partition(|a| kind.on_scale(a.value));
    let n = counted.len() as u64;
    let positive_threshold = match kind {
        ScoreKind::Nps => 9.0,
        ScoreKind::Csat => 4.0,
        ScoreKind::Ces => 5.0,
    };
    let mut responses: Vec<ResponseId> = counted.iter().map(|a| a.response).collect();
    responses.sort_unstable();
    let mut excluded: Vec<ResponseId> = off.iter().map(|a| a.response).collect();
    excluded.sort_unstable();
    let customers = sorted_customers(counted.iter().copied());
    let positive_customers = sorted_customers(counted.iter().copied().filter(|a| a.value >= positive_threshold));
    let values: Vec<f64> = counted.iter().map(|a| a.value).collect();
    let (value, interval, counts) = match kind {
        ScoreKind::Nps => nps(&values),
        ScoreKind::Csat => csat(&values),
        ScoreKind::Ces => ces(&values),
    };
    ScoreResult { kind, value, interval, n, counts, responses, customers, positive_customers, excluded }
}

fn sorted_customers<'a>(answers: impl Iterator<Item = &'a ScoreAnswer>) -> Vec<CustomerId> {
    let mut customers: Vec<CustomerId> = answers.filter_map(|a| a.customer).collect();
    customers.sort_unstable();
    customers.dedup();
    customers
}

type Computed = (Option<f64>, Option<Interval>, Vec<(String, u64)>);

fn interval(low: f64, high: f64) -> Option<Interval> {
    Some(Interval { low, high, level: 0.95 })
}

fn nps(values: &[f64]) -> Computed {
    let promoters = values.iter().filter(|&&v| v >= 9.0).count() as u64;
    let detractors = values.iter().filter(|&&v| v <= 6.0).count() as u64;
    let passives = values.len() as u64 - promoters - detractors;
    let counts = vec![("promoters".into(), promoters), ("passives".into(), passives), ("detractors".into(), detractors)];
    if values.is_empty() {
        return (None, None, counts);
    }
    let n = values.len() as f64;
    let (pro, det) = (promoters as f64 / n, detractors as f64 / n);
    let difference = pro - det;
    // The variance of p_pro - p_det for one trinomial sample; max(0) guards rounding below zero.
    let variance = ((pro + det - difference * difference) / n).max(0.0);
    let half = Z95 * variance.sqrt();
    let low = (100.0 * (difference - half)).max(-100.0);
    let high = (100.0 * (difference + half)).min(100.0);
    (Some(100.0 * difference), interval(low, high), counts)
}

fn csat(values: &[f64]) -> Computed {
    let satisfied = values.iter().filter(|&&v| v >= 4.0).count() as u64;
    let counts = vec![("satisfied".into(), satisfied), ("not satisfied".into(), values.len() as u64 - satisfied)];
    if values.is_empty() {
        return (None, None, counts);
    }
    let n = values.len() as f64;
    let p = satisfied as f64 / n;
    let (low, high) = wilson(p, n);
    (Some(p), interval(low, high), counts)
}

/// The Wilson score interval of a share `p` of `n` at 95%.
fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

fn ces(values: &[f64]) -> Computed {
    let counts = (1..=7).map(|k| (k.to_string(), values.iter().filter(|&&v| v == f64::from(k)).count() as u64)).collect();
    if values.is_empty() {
        return (None, None, counts);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (Some(mean), None, counts);
    }
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    let half = student_t_quantile(0.975, n - 1.0) * (variance / n).sqrt();
    (Some(mean), interval(mean - half, mean + half), counts)
}

/// What to split the answers by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreGrouping {
    /// The touchpoint of the survey.
    Touchpoint,
    /// The stage of the survey (or of its touchpoint, when the survey names none).
    Stage,
    /// The respondent's persona.
    Persona,
    /// The calendar month (UTC) the response was submitted, "2026-05".
    Month,
}

/// The names the groups are labelled with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreLabels {
    pub touchpoints: HashMap<TouchpointId, String>,
    pub stages: HashMap<StageId, String>,
    /// Each touchpoint's stage, for answers whose survey names a touchpoint but no stage.
    pub touchpoint_stages: HashMap<TouchpointId, StageId>,
    /// Each customer's persona; customers not in it, and anonymous answers, are "(no persona)".
    pub personas: BTreeMap<CustomerId, String>,
}

/// One group's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreGroup {
    pub group: String,
    pub result: ScoreResult,
}

/// The group label "(none)" collects answers without a touchpoint or stage.
pub const NO_GROUP: &str = "(none)";

/// The score of each group, ordered by label (months in time order), worst first within
/// nothing: callers that rank sort by value themselves.
pub fn score_groups(kind: ScoreKind, answers: &[ScoreAnswer], grouping: ScoreGrouping, labels: &ScoreLabels) -> Vec<ScoreGroup> {
    let mut groups: BTreeMap<String, Vec<&ScoreAnswer>> = BTreeMap::new();
    for answer in answers {
        let label = match grouping {
            ScoreGrouping::Touchpoint => answer.touchpoint.and_then(|t| labels.touchpoints.get(&t)).cloned(),
            ScoreGrouping::Stage => answer
                .stage
                .or_else(|| answer.touchpoint.and_then(|t| labels.touchpoint_stages.get(&t).copied()))
                .and_then(|s| labels.stages.get(&s))
                .cloned(),
            ScoreGrouping::Persona => Some(
                answer
                    .customer
                    .and_then(|c| labels.personas.get(&c))
                    .cloned()
                    .unwrap_or_else(|| "(no persona)".to_string()),
            ),
            ScoreGrouping::Month => Some(answer.time.date().format("%Y-%m").to_string()),
        };
        groups.entry(label.unwrap_or_else(|| NO_GROUP.to_string())).or_default().push(answer);
    }
    groups.into_iter().map(|(group, answers)| ScoreGroup { group, result: score(kind, &answers) }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_published_table() {
        // Student's t, two-sided 95%: the familiar table values.
        for (df, expected) in [(1.0, 12.706_204_736), (2.0, 4.302_652_730), (9.0, 2.262_157_163), (30.0, 2.042_272_456), (1000.0, 1.962_339_081)] {
            let t = student_t_quantile(0.975, df);
            assert!((t - expected).abs() < 1e-6, "df {df}: {t} vs {expected}");
        }
    }
}
