//! The Gamma-Gamma model of spend per purchase (Fader and Hardie, "The Gamma-Gamma Model of
//! Monetary Value", 2013): each purchase's value is Gamma(p, nu) with nu drawn from Gamma(q,
//! gamma) per customer. Fitted on the repeat buyers' mean repeat spend, by maximum likelihood on
//! log-parameters. It assumes spend does not depend on purchase frequency.

use crate::optimize::nelder_mead;
use crate::special::ln_gamma;
use crate::{CannotFit, ClvError, CustomerSummary, FitInfo, Result, TimeUnit};
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

    /// Checks, before any fit, that the repeat buyers' spend can support the model: at least
    /// [`MIN_REPEAT_BUYERS`] of them, and not all with the same mean spend (then the likelihood
    /// has no maximum: it grows as the spread of spend shrinks to nothing).
    pub fn check(data: &[CustomerSummary]) -> Result<()> {
        let spends: Vec<f64> = data.iter().filter(|c| c.frequency > 0.0 && c.monetary > 0.0).map(|c| c.monetary).collect();
        if spends.len() < MIN_REPEAT_BUYERS {
            return Err(ClvError::CannotFit {
                model: "Gamma-Gamma",
                because: CannotFit::TooFewRepeatBuyers { needed: MIN_REPEAT_BUYERS, found: spends.len() },
            });
        }
        let (low, high) = spends.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &m| (l.min(m), h.max(m)));
        // Spends equal to a millionth of the amount are the same amount written twice.
        if high - low <= 1e-6 * high {
            return Err(ClvError::CannotFit { model: "Gamma-Gamma", because: CannotFit::SameSpend { value: high, repeat_buyers: spends.len() } });
        }
        Ok(())
    }

    /// Fits on the customers with at least one repeat purchase and a positive mean repeat spend,
    /// after [`GammaGamma::check`]. Customers with the same (frequency, mean spend) are one
    /// weighted row of the likelihood, as in the purchase models.
    pub fn fit(data: &[CustomerSummary], unit: TimeUnit) -> Result<GammaGamma> {
        Self::check(data)?;
        let mut pairs: Vec<(f64, f64)> =
            data.iter().filter(|c| c.frequency > 0.0 && c.monetary > 0.0).map(|c| (c.frequency, c.monetary)).collect();
        let customers = pairs.len();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut rows: Vec<(f64, f64, f64)> = Vec::new();
        for (x, m) in pairs {
            match rows.last_mut() {
                Some(last) if last.0 == x && last.1 == m => last.2 += 1.0,
                _ => rows.push((x, m, 1.0)),
            }
        }
        let mut objective = |v: &[f64]| -> f64 {
            let (p, q, g) = (v[0].exp(), v[1].exp(), v[2].exp());
            -rows.iter().map(|&(x, m, w)| w * Self::customer_log_likelihood(p, q, g, x, m)).sum::<f64>()
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
            fit: FitInfo { log_likelihood: -found.value, customers, evaluations: found.evaluations, unit },
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
