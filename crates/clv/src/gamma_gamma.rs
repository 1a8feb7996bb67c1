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

/// The weighted rows (x, m, w) of the likelihood with what does not change between evaluations
/// worked out once: each row's ln m and ln x, and the rows of one x found together (rows are
/// sorted by x), so the log-gammas, which depend on x and the parameters only, are computed once
/// per distinct x. Each row's log-likelihood is then the same sum, term by term in the same
/// order, as [`GammaGamma::customer_log_likelihood`] (Rust never reorders or fuses floating-point
/// operations), so the objective, the search and the fitted parameters are exactly those of the
/// row-by-row sum; only the repeated work is gone.
struct LikelihoodTerms {
    /// (x, ln x, the rows with this x as a range of `rows`).
    runs: Vec<(f64, f64, std::ops::Range<usize>)>,
    /// (x m, ln m, w).
    rows: Vec<(f64, f64, f64)>,
}

impl LikelihoodTerms {
    fn new(rows: &[(f64, f64, f64)]) -> LikelihoodTerms {
        let mut runs: Vec<(f64, f64, std::ops::Range<usize>)> = Vec::new();
        for (i, &(x, _, _)) in rows.iter().enumerate() {
            match runs.last_mut() {
                Some(run) if run.0 == x => run.2.end = i + 1,
                _ => runs.push((x, x.ln(), i..i + 1)),
            }
        }
        LikelihoodTerms { runs, rows: rows.iter().map(|&(x, m, w)| (x * m, m.ln(), w)).collect() }
    }

    /// The log-likelihood summed over the rows, each weighted.
    fn sum(&self, p: f64, q: f64, gamma: f64) -> f64 {
        let (lg_q, q_ln_gamma) = (ln_gamma(q), q * gamma.ln());
        self.runs
            .iter()
            .flat_map(|(x, ln_x, range)| {
                let px = p * x;
                let shared = ln_gamma(px + q) - ln_gamma(px) - lg_q + q_ln_gamma;
                self.rows[range.clone()].iter().map(move |&(xm, ln_m, w)| {
                    w * (shared + (px - 1.0) * ln_m + px * ln_x - (px + q) * (xm + gamma).ln())
                })
            })
            .sum::<f64>()
    }
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
        let terms = LikelihoodTerms::new(&rows);
        let mut objective = |v: &[f64]| -> f64 { -terms.sum(v[0].exp(), v[1].exp(), v[2].exp()) };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_terms_give_the_row_by_row_sum_bit_for_bit() {
        // Sorted by x then m, with repeated x and a weighted row, as `fit` builds them.
        let rows = [(1.0, 3.25, 2.0), (1.0, 11.5, 1.0), (2.0, 4.0, 1.0), (2.0, 4.75, 3.0), (5.0, 20.125, 1.0), (13.0, 7.0, 1.0)];
        let terms = LikelihoodTerms::new(&rows);
        for (p, q, gamma) in [(6.25, 3.74, 15.44), (0.3, 1.2, 0.01), (40.0, 90.0, 2000.0)] {
            let direct = rows.iter().map(|&(x, m, w)| w * GammaGamma::customer_log_likelihood(p, q, gamma, x, m)).sum::<f64>();
            assert_eq!(terms.sum(p, q, gamma).to_bits(), direct.to_bits(), "p={p} q={q} gamma={gamma}");
        }
    }
}
