//! The BG/NBD model of repeat purchases (Fader, Hardie and Lee 2005, "Counting Your Customers the
//! Easy Way"): while alive a customer buys at a Poisson rate drawn from Gamma(r, alpha), and after
//! each purchase drops out with a probability drawn from Beta(a, b). Fitted by maximum likelihood
//! (Nelder-Mead on the logarithms of the four parameters).

use crate::optimize::{bfgs, nelder_mead};
use crate::special::{digamma, hyp2f1, ln_gamma, log_add_exp};
use crate::{CannotFit, ClvError, CustomerSummary, FitInfo, Result, TimeUnit};
use serde::{Deserialize, Serialize};

/// Fewer customers than this cannot pin four parameters down.
pub const MIN_CUSTOMERS: usize = 10;
/// Fewer customers who came back than this cannot tell how often customers return and when they
/// stop: the fit wanders to the edge of the parameter space (or takes long to fail).
pub const MIN_REPEAT_BUYERS: usize = 5;

/// A fitted BG/NBD model, its parameters named as in the paper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    pub fit: FitInfo,
}

/// The customers' (frequency, recency, age) with identical rows merged into one weighted row, as
/// lifetimes does: the likelihood is a sum over customers, and many customers share a row.
pub(crate) fn compress(data: &[CustomerSummary]) -> Vec<(f64, f64, f64, f64)> {
    let mut rows: Vec<(f64, f64, f64)> = data.iter().map(|c| (c.frequency, c.recency, c.age)).collect();
    rows.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.total_cmp(&q.1)).then(p.2.total_cmp(&q.2)));
    let mut out: Vec<(f64, f64, f64, f64)> = Vec::new();
    for (x, tx, t) in rows {
        match out.last_mut() {
            Some(last) if last.0 == x && last.1 == tx && last.2 == t => last.3 += 1.0,
            _ => out.push((x, tx, t, 1.0)),
        }
    }
    out
}

/// Checks that the data can support a repeat-purchase model before any fit: enough customers,
/// enough of them who came back, and summaries that make sense.
pub(crate) fn check_data(model: &'static str, data: &[CustomerSummary]) -> Result<()> {
    if let Some(c) = data.iter().find(|c| {
        !(c.frequency >= 0.0 && c.recency >= 0.0 && c.age >= c.recency && c.age.is_finite())
    }) {
        return Err(ClvError::InvalidArgument {
            argument: "summary",
            reason: format!("customer {} has frequency {}, recency {}, age {}: needs 0 <= recency <= age", c.customer, c.frequency, c.recency, c.age),
        });
    }
    if data.len() < MIN_CUSTOMERS {
        return Err(ClvError::CannotFit { model, because: CannotFit::TooFewCustomers { needed: MIN_CUSTOMERS, found: data.len() } });
    }
    let repeaters = data.iter().filter(|c| c.frequency > 0.0).count();
    if repeaters < MIN_REPEAT_BUYERS {
        return Err(ClvError::CannotFit { model, because: CannotFit::TooFewRepeatBuyers { needed: MIN_REPEAT_BUYERS, found: repeaters } });
    }
    Ok(())
}

impl BgNbd {
    /// The log-likelihood of one customer (x repeat purchases, last at t_x, observed for T).
    pub fn customer_log_likelihood(r: f64, alpha: f64, a: f64, b: f64, x: f64, tx: f64, t: f64) -> f64 {
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
        let a3 = -(r + x) * (alpha + t).ln();
        let a4 = if x > 0.0 { a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + tx).ln() } else { f64::NEG_INFINITY };
        a1 + a2 + log_add_exp(a3, a4)
    }

    /// The log-likelihood of all customers at the given parameters.
    pub fn log_likelihood(r: f64, alpha: f64, a: f64, b: f64, data: &[CustomerSummary]) -> f64 {
        data.iter().map(|c| Self::customer_log_likelihood(r, alpha, a, b, c.frequency, c.recency, c.age)).sum()
    }

    /// Fits the model to customer summaries counted in `unit`.
    pub fn fit(data: &[CustomerSummary], unit: TimeUnit) -> Result<BgNbd> {
        check_data("BG/NBD", data)?;
        let rows = compress(data);
        let mut objective = |p: &[f64], gradient: &mut [f64]| negative_log_likelihood(p, gradient, &rows);
        // BFGS with the analytic gradient takes a few dozen evaluations; Nelder-Mead, the fallback
        // when BFGS stalls, takes hundreds.
        let found = match bfgs(&mut objective, &[0.0; 4], 500) {
            Some(found) => found,
            None => {
                let mut gradient = [0.0; 4];
                let mut value_only = |p: &[f64]| negative_log_likelihood(p, &mut gradient, &rows);
                nelder_mead(&mut value_only, &[0.0; 4], 20_000)
                    .ok_or(ClvError::NotConverged { model: "BG/NBD", iterations: 20_000 })?
            }
        };
        let p: Vec<f64> = found.point.iter().map(|v| v.exp()).collect();
        if p.iter().any(|v| !v.is_finite() || *v <= 0.0 || *v > 1e8) || !found.value.is_finite() {
            return Err(ClvError::Degenerate { model: "BG/NBD", reason: format!("parameters {p:?}") });
        }
        Ok(BgNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
            fit: FitInfo { log_likelihood: -found.value, customers: data.len(), evaluations: found.evaluations, unit },
        })
    }

    /// The probability that a customer with this history is still alive at the end of it.
    pub fn probability_alive(&self, x: f64, tx: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let log_ratio = (self.a / (self.b + x - 1.0)).ln() + (self.r + x) * ((self.alpha + t) / (self.alpha + tx)).ln();
        1.0 / (1.0 + log_ratio.exp())
    }

    /// Expected purchases in the next `horizon` units by a customer with this history (equation
    /// 10 of the paper): [`BgNbd::expected_purchases_while_alive`] over
    /// [`BgNbd::alive_odds_denominator`].
    pub fn expected_purchases(&self, horizon: f64, x: f64, tx: f64, t: f64) -> Result<f64> {
        Ok(self.expected_purchases_while_alive(horizon, x, t)? / self.alive_odds_denominator(x, tx, t))
    }

    /// The numerator of equation 10, which depends on the history through x and T only (not
    /// t_x), so customers who share them share it:
    /// (a + b + x - 1) / (a - 1) × [1 - ((α + T) / (α + T + t))^(r + x) 2F1(r + x, b + x; a + b + x - 1; z)]
    /// with z = t / (α + T + t).
    pub fn expected_purchases_while_alive(&self, horizon: f64, x: f64, t: f64) -> Result<f64> {
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let z = horizon / (alpha + t + horizon);
        let hyp = hyp2f1(r + x, b + x, a + b + x - 1.0, z)?;
        let bracket = 1.0 - ((alpha + t) / (alpha + t + horizon)).powf(r + x) * hyp;
        Ok((a + b + x - 1.0) / (a - 1.0) * bracket)
    }

    /// The denominator of equation 10: 1 + the odds that the customer is no longer alive.
    pub fn alive_odds_denominator(&self, x: f64, tx: f64, t: f64) -> f64 {
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        if x > 0.0 {
            1.0 + a / (b + x - 1.0) * ((alpha + t) / (alpha + tx)).powf(r + x)
        } else {
            1.0
        }
    }

    /// Expected purchases in the first `horizon` units of a new customer (equation 9).
    pub fn expected_purchases_new(&self, horizon: f64) -> Result<f64> {
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let hyp = hyp2f1(r, b, a + b - 1.0, horizon / (alpha + horizon))?;
        Ok((a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + horizon)).powf(r) * hyp))
    }
}

/// The negative log-likelihood at log-parameters `p` over weighted rows (x, t_x, T, weight), and
/// its gradient with respect to the log-parameters. The x-only terms (log-gammas, digammas) are
/// shared by every row with that x, so they are computed once per distinct x (rows are sorted by
/// x); each row then costs a few logarithms.
fn negative_log_likelihood(p: &[f64], gradient: &mut [f64], rows: &[(f64, f64, f64, f64)]) -> f64 {
    let (r, alpha, a, b) = (p[0].exp(), p[1].exp(), p[2].exp(), p[3].exp());
    let (ln_alpha, ln_a) = (alpha.ln(), a.ln());
    let (lg_r, lg_ab, lg_b) = (ln_gamma(r), ln_gamma(a + b), ln_gamma(b));
    let (dg_r, dg_ab, dg_b) = (digamma(r), digamma(a + b), digamma(b));
    let mut total = 0.0;
    let mut d = [0.0f64; 4];
    let mut current_x = f64::NAN;
    let (mut shared, mut ln_b_x1) = (0.0, 0.0);
    let mut shared_d = [0.0f64; 4];
    for &(x, tx, t, w) in rows {
        if x != current_x {
            current_x = x;
            shared = ln_gamma(r + x) - lg_r + r * ln_alpha + lg_ab + ln_gamma(b + x) - lg_b - ln_gamma(a + b + x);
            let dg_abx = digamma(a + b + x);
            shared_d = [
                digamma(r + x) - dg_r + ln_alpha,
                r / alpha,
                dg_ab - dg_abx,
                dg_ab + digamma(b + x) - dg_b - dg_abx,
            ];
            ln_b_x1 = if x > 0.0 { (b + x - 1.0).ln() } else { 0.0 };
        }
        let ln_alpha_t = (alpha + t).ln();
        let a3 = -(r + x) * ln_alpha_t;
        let d3 = [-ln_alpha_t, -(r + x) / (alpha + t), 0.0, 0.0];
        let (ll, dl) = if x > 0.0 {
            let ln_alpha_tx = (alpha + tx).ln();
            let a4 = ln_a - ln_b_x1 - (r + x) * ln_alpha_tx;
            let d4 = [-ln_alpha_tx, -(r + x) / (alpha + tx), 1.0 / a, -1.0 / (b + x - 1.0)];
            let both = log_add_exp(a3, a4);
            let (w3, w4) = ((a3 - both).exp(), (a4 - both).exp());
            (both, [0, 1, 2, 3].map(|i| w3 * d3[i] + w4 * d4[i]))
        } else {
            (a3, d3)
        };
        total += w * (shared + ll);
        for i in 0..4 {
            d[i] += w * (shared_d[i] + dl[i]);
        }
    }
    // Chain rule to log-parameters: d/d ln p = p d/dp; negated with the objective.
    for (i, value) in [r, alpha, a, b].into_iter().enumerate() {
        gradient[i] = -d[i] * value;
    }
    -total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_central_differences_and_value_matches_the_per_customer_sum() {
        let rows = vec![(0.0, 0.0, 30.0, 3.0), (1.0, 4.5, 20.0, 1.0), (3.0, 10.0, 12.0, 2.0), (7.0, 35.0, 38.0, 1.0)];
        let data: Vec<CustomerSummary> = rows
            .iter()
            .flat_map(|&(x, tx, t, w)| {
                (0..w as usize).map(move |_| CustomerSummary {
                    customer: trailmap_model::CustomerId(0),
                    frequency: x,
                    recency: tx,
                    age: t,
                    monetary: 0.0,
                })
            })
            .collect();
        let p = [0.3f64.ln(), 4.0f64.ln(), 0.8f64.ln(), 2.5f64.ln()];
        let mut gradient = [0.0; 4];
        let value = negative_log_likelihood(&p, &mut gradient, &rows);
        let direct = -BgNbd::log_likelihood(0.3, 4.0, 0.8, 2.5, &data);
        assert!((value - direct).abs() < 1e-9 * direct.abs(), "{value} vs {direct}");
        for i in 0..4 {
            let h = 1e-6;
            let (mut up, mut down) = (p, p);
            up[i] += h;
            down[i] -= h;
            let mut scratch = [0.0; 4];
            let numeric = (negative_log_likelihood(&up, &mut scratch, &rows)
                - negative_log_likelihood(&down, &mut scratch, &rows))
                / (2.0 * h);
            assert!((gradient[i] - numeric).abs() < 1e-5 * numeric.abs().max(1.0), "parameter {i}: {} vs {numeric}", gradient[i]);
        }
    }
}
