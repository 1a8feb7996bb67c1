//! The Gamma-Gamma model of spend per purchase (Fader and Hardie, "The Gamma-Gamma Model of
//! Monetary Value", 2013): each purchase's value is Gamma(p, nu) with nu drawn from Gamma(q,
//! gamma) per customer. Fitted on the repeat buyers' mean repeat spend, by maximum likelihood on
//! log-parameters. It assumes spend does not depend on purchase frequency.

use crate::optimize::nelder_mead;
use crate::special::ln_gamma;
use crate::{ClvError, CustomerSummary, FitInfo, Result, TimeUnit};
use serde::{Deserialize, Serialize};

/// Fewer repeat buyers than this cannot pin three parameters down.
pub const MIN_REPEAT_BUYERS: usize = 10;

/// A fitted Gamma-Gamma model. The paper calls the scale `gamma`; lifetimes calls it `v`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
    pub fit: FitInfo,
}

impl GammaGamma {
    pub fn customer_log_likelihood(p: f64, q: f64, gamma: f64, x: f64, m: f64) -> f64 {
        ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q) + q * gamma.ln() + (p * x - 1.0) * m.ln()
            + (p * x) * x.ln()
            - (p * x + q) * (x * m + gamma).ln()
    }

    /// Fits on the customers with at least one repeat purchase and a positive mean repeat spend.
    pub fn fit(data: &[CustomerSummary], unit: TimeUnit) -> Result<GammaGamma> {
        let rows: Vec<(f64, f64)> =
            data.iter().filter(|c| c.frequency > 0.0 && c.monetary > 0.0).map(|c| (c.frequency, c.monetary)).collect();
        if rows.len() < MIN_REPEAT_BUYERS {
            return Err(ClvError::TooFewCustomers {
                model: "Gamma-Gamma",
                needed: MIN_REPEAT_BUYERS,
                found: rows.len(),
                what: "a repeat purchase of positive value",
            });
        }
        let mut objective = |v: &[f64]| -> f64 {
            let (p, q, g) = (v[0].exp(), v[1].exp(), v[2].exp());
            -rows.iter().map(|&(x, m)| Self::customer_log_likelihood(p, q, g, x, m)).sum::<f64>()
        };
        let found = nelder_mead(&mut objective, &[0.0; 3], 20_000)
            .ok_or(ClvError::NotConverged { model: "Gamma-Gamma", iterations: 20_000 })?;
        let v: Vec<f64> = found.point.iter().map(|v| v.exp()).collect();
        if v.iter().any(|v| !v.is_finite() || *v <= 0.0 || *v > 1e8) || v[1] <= 1.0 {
            return Err(ClvError::Degenerate {
                model: "Gamma-Gamma",
                reason: format!("parameters {v:?} (q must exceed 1 for a finite mean spend)"),
            });
        }
        Ok(GammaGamma {
            p: v[0],
            q: v[1],
            gamma: v[2],
            fit: FitInfo { log_likelihood: -found.value, customers: rows.len(), evaluations: found.evaluations, unit },
        })
    }

    /// The expected spend per purchase of a customer with `x` repeat purchases of mean value `m`
    /// (for x = 0, the population mean p gamma / (q - 1)).
    pub fn expected_spend(&self, x: f64, m: f64) -> f64 {
        let (p, q, g) = (self.p, self.q, self.gamma);
        let population = p * g / (q - 1.0);
        let weight = p * x / (p * x + q - 1.0);
        (1.0 - weight) * population + weight * m
    }
}
