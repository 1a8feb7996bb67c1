//! Customer value models, as pure numerics: transactions summarised per customer (frequency,
//! recency, age, repeat spend), historical value per customer and per group, the BG/NBD and
//! Pareto/NBD models of repeat purchases and the Gamma-Gamma model of spend (all fitted by maximum
//! likelihood), a calibration/holdout check, RFM scores and segments, and seeded k-means clusters
//! of customer behaviour. No I/O and no clock: the end of the observation period is an argument.

pub mod bgnbd;
pub mod gamma_gamma;
pub mod historical;
pub mod holdout;
pub mod kmeans;
mod optimize;
pub mod pareto;
pub mod rfm;
pub mod special;
pub mod summary;

pub use bgnbd::BgNbd;
pub use gamma_gamma::GammaGamma;
pub use historical::{CustomerValue, GroupValue, group_values};
pub use holdout::{HoldoutBucket, HoldoutReport, holdout_check};
pub use kmeans::{Clustering, KMeansOptions, kmeans, silhouette};
pub use pareto::ParetoNbd;
pub use rfm::{RfmScore, Segment, rfm_scores};
pub use summary::{CustomerSummary, TimeUnit, Transaction, summarise};

use serde::{Deserialize, Serialize};

/// Why a model cannot be fitted to the data, found by looking at the data before any fit, so a
/// business with too little data gets this answer at once rather than after a long search that
/// fails. The text (its `Display`) is written for an owner, in plain words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CannotFit {
    /// Fewer customers with a purchase than the model's parameters need.
    TooFewCustomers { needed: usize, found: usize },
    /// Fewer customers who came back (bought on a second day) than the model needs to learn how
    /// often customers return and when they stop.
    TooFewRepeatBuyers { needed: usize, found: usize },
    /// Every customer who came back spent the same on average per visit: with no spread in spend
    /// the Gamma-Gamma likelihood grows without bound, so there is nothing to fit; that amount is
    /// the expected spend per purchase.
    SameSpend { value: f64, repeat_buyers: usize },
}

impl std::fmt::Display for CannotFit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CannotFit::TooFewCustomers { needed, found } => {
                write!(f, "only {found} customer(s) have bought so far, and it needs at least {needed}")
            }
            CannotFit::TooFewRepeatBuyers { needed, found } => write!(
                f,
                "only {found} customer(s) have come back to buy on another day, and it needs at least {needed}"
            ),
            CannotFit::SameSpend { value, repeat_buyers } => write!(
                f,
                "all {repeat_buyers} customers who came back spent the same on average ({value:.2} per purchase day), so spend has no spread to learn from; expect {value:.2} per purchase"
            ),
        }
    }
}

/// Why a model could not give numbers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClvError {
    /// The data cannot support the model (too few customers or repeat buyers, spend that never
    /// varies); found before fitting.
    #[error("{model} cannot be fitted: {because}")]
    CannotFit { model: &'static str, because: CannotFit },
    #[error("{model}: the maximum-likelihood fit did not converge after {iterations} iterations")]
    NotConverged { model: &'static str, iterations: usize },
    #[error("{model}: the fitted parameters are not usable ({reason})")]
    Degenerate { model: &'static str, reason: String },
    #[error("invalid argument {argument}: {reason}")]
    InvalidArgument { argument: &'static str, reason: String },
}

impl ClvError {
    /// The reason found before fitting, when that is why.
    pub fn cannot_fit(&self) -> Option<&CannotFit> {
        match self {
            ClvError::CannotFit { because, .. } => Some(because),
            _ => None,
        }
    }
}

pub type Result<T, E = ClvError> = std::result::Result<T, E>;

/// What a maximum-likelihood fit reports beside its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitInfo {
    /// The log-likelihood at the fitted parameters (summed over customers).
    pub log_likelihood: f64,
    /// Customers the fit used.
    pub customers: usize,
    /// Objective evaluations of the optimiser (Nelder-Mead on log-parameters).
    pub evaluations: usize,
    /// The time unit of frequency, recency and age in the data.
    pub unit: TimeUnit,
}

/// The expected value of a customer over `horizon` periods: each period's expected purchases
/// (the difference of cumulative expectations) times the expected spend per purchase, discounted
/// by `(1 + discount)^k` for period k = 1..=horizon. `expected_cumulative(t)` gives expected
/// purchases in (0, t].
pub fn discounted_value(
    mut expected_cumulative: impl FnMut(f64) -> f64,
    spend_per_purchase: f64,
    horizon: u32,
    discount: f64,
) -> f64 {
    let mut total = 0.0;
    let mut previous = 0.0;
    for k in 1..=horizon {
        let cumulative = expected_cumulative(f64::from(k));
        total += (cumulative - previous) * spend_per_purchase / (1.0 + discount).powi(k as i32);
        previous = cumulative;
    }
    total
}

/// Checks the shared arguments of the value over a horizon.
pub fn check_horizon(horizon: u32, discount: f64) -> Result<()> {
    if horizon == 0 {
        return Err(ClvError::InvalidArgument { argument: "horizon", reason: "must be at least 1 period".into() });
    }
    if !(0.0..1.0).contains(&discount) {
        return Err(ClvError::InvalidArgument {
            argument: "discount",
            reason: format!("must be a rate per period in [0, 1), got {discount}"),
        });
    }
    Ok(())
}
