//! The Pareto/NBD model of repeat purchases (Schmittlein, Morrison and Colombo 1987): while alive
//! a customer buys at a Poisson rate drawn from Gamma(r, alpha) and dies at an exponential rate
//! drawn from Gamma(s, beta). The likelihood follows Fader and Hardie's note and lifetimes'
//! implementation (the A0 term through 2F1); fitted by maximum likelihood on log-parameters.

use crate::bgnbd::{check_data, compress};
use crate::optimize::nelder_mead;
use crate::special::{hyp2f1, ln_gamma, log_add_exp};
use crate::{ClvError, CustomerSummary, FitInfo, Result, TimeUnit};
use serde::{Deserialize, Serialize};

/// A fitted Pareto/NBD model, its parameters named as in the paper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParetoNbd {
    pub r: f64,
    pub alpha: f64,
    pub s: f64,
    pub beta: f64,
    pub fit: FitInfo,
}

/// ln A0 of Fader and Hardie's note; the larger of alpha and beta goes in the denominators so the
/// 2F1 argument stays in [0, 1).
fn log_a0(r: f64, alpha: f64, s: f64, beta: f64, x: f64, tx: f64, t: f64) -> Result<f64> {
    let (min, max, third) = if alpha < beta { (alpha, beta, r + x) } else { (beta, alpha, s + 1.0) };
    let rsx = r + s + x;
    let gap = max - min;
    let p1 = hyp2f1(rsx, third, rsx + 1.0, gap / (max + tx))?;
    let p2 = hyp2f1(rsx, third, rsx + 1.0, gap / (max + t))?;
    let (q1, q2) = (max + tx, max + t);
    // ln(p1 q2^rsx - p2 q1^rsx) - rsx ln(q1 q2); the first term is the larger.
    let big = p1.ln() + rsx * q2.ln();
    let small = p2.ln() + rsx * q1.ln();
    Ok(big + (-(small - big).exp()).ln_1p() - rsx * (q1 * q2).ln())
}

impl ParetoNbd {
    pub fn customer_log_likelihood(r: f64, alpha: f64, s: f64, beta: f64, x: f64, tx: f64, t: f64) -> Result<f64> {
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
        let rsx = r + s + x;
        let a0 = log_a0(r, alpha, s, beta, x, tx, t)?;
        let a2 = log_add_exp(-(r + x) * (alpha + t).ln() - s * (beta + t).ln(), s.ln() + a0 - rsx.ln());
        Ok(a1 + a2)
    }

    pub fn log_likelihood(r: f64, alpha: f64, s: f64, beta: f64, data: &[CustomerSummary]) -> Result<f64> {
        data.iter().map(|c| Self::customer_log_likelihood(r, alpha, s, beta, c.frequency, c.recency, c.age)).sum()
    }

    /// Fits the model to customer summaries counted in `unit`.
    pub fn fit(data: &[CustomerSummary], unit: TimeUnit) -> Result<ParetoNbd> {
        check_data("Pareto/NBD", data)?;
        let rows = compress(data);
        let mut objective = |p: &[f64]| -> f64 {
            let (r, alpha, s, beta) = (p[0].exp(), p[1].exp(), p[2].exp(), p[3].exp());
            let mut total = 0.0;
            for &(x, tx, t, w) in &rows {
                match Self::customer_log_likelihood(r, alpha, s, beta, x, tx, t) {
                    Ok(ll) => total += w * ll,
                    Err(_) => return f64::INFINITY,
                }
            }
            -total
        };
        let found = nelder_mead(&mut objective, &[0.0; 4], 20_000)
            .ok_or(ClvError::NotConverged { model: "Pareto/NBD", iterations: 20_000 })?;
        let p: Vec<f64> = found.point.iter().map(|v| v.exp()).collect();
        if p.iter().any(|v| !v.is_finite() || *v <= 0.0 || *v > 1e8) || !found.value.is_finite() {
            return Err(ClvError::Degenerate { model: "Pareto/NBD", reason: format!("parameters {p:?}") });
        }
        Ok(ParetoNbd {
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
            fit: FitInfo { log_likelihood: -found.value, customers: data.len(), evaluations: found.evaluations, unit },
        })
    }

    pub fn probability_alive(&self, x: f64, tx: f64, t: f64) -> Result<f64> {
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        let a0 = log_a0(r, alpha, s, beta, x, tx, t)?;
        let rsx = r + s + x;
        Ok(1.0 / (1.0 + (s.ln() - rsx.ln() + (r + x) * (alpha + t).ln() + s * (beta + t).ln() + a0).exp()))
    }

    /// Expected purchases in the next `horizon` units by a customer with this history.
    pub fn expected_purchases(&self, horizon: f64, x: f64, tx: f64, t: f64) -> Result<f64> {
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        let ll = Self::customer_log_likelihood(r, alpha, s, beta, x, tx, t)?;
        let first = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln()
            - (r + x) * (alpha + t).ln()
            - s * (beta + t).ln();
        let second = (r + x).ln() + (beta + t).ln() - (alpha + t).ln();
        // (1 - ((beta+T)/(beta+T+t))^(s-1)) / (s-1), whose limit at s = 1 is ln((beta+T+t)/(beta+T)).
        let ratio = (beta + t) / (beta + t + horizon);
        let third = if (s - 1.0).abs() < 1e-9 { -ratio.ln() } else { (1.0 - ratio.powf(s - 1.0)) / (s - 1.0) };
        Ok((first + second + third.ln() - ll).exp())
    }
}
