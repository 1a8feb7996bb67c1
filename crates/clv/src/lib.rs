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

/// Why a model could not give numbers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClvError {
    #[error("{model} needs at least {needed} customers with {what}; the data have {found}")]
    TooFewCustomers { model: &'static str, needed: usize, found: usize, what: &'static str },
    #[error("{model}: the maximum-likelihood fit did not converge after {iterations} iterations")]
    NotConverged { model: &'static str, iterations: usize },
    #[error("{model}: the fitted parameters are not usable ({reason})")]
    Degenerate { model: &'static str, reason: String },
    #[error("invalid argument {argument}: {reason}")]
    InvalidArgument { argument: &'static str, reason: String },
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
