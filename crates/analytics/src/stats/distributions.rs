//! The distribution functions the tests need (normal, Student's t, beta, binomial): from the
//! `statrs` crate, the normal tail from `libm`'s erfc (exact to the last digit, where `statrs`'s
//! is good to about 5e-11), and the quantiles polished by Newton steps on the distribution
//! function, so that the intervals agree with SciPy's to about 1e-12 rather than the 1e-9 or so of
//! `statrs`'s starting approximations. Shared with the survey scores (`voice::scores`).

use statrs::distribution::{Continuous, ContinuousCDF};
use statrs::function::beta::beta_reg;
use statrs::function::factorial::ln_binomial;

/// P(Z > z) for a standard normal Z.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// The `p` quantile of the standard normal distribution, 0 < p < 1.
pub fn normal_quantile(p: f64) -> f64 {
    let mut x = -std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(2.0 * p);
    // `statrs`'s `erfc_inv` is good to about 1e-11; two Newton steps on the distribution function (from the
    // upper tail above the median, where nothing cancels) bring it to the last digits.
    for _ in 0..2 {
        let density = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        if !x.is_finite() || density <= 0.0 {
            break;
        }
        let error = if p > 0.5 { (1.0 - p) - normal_sf(x) } else { normal_sf(-x) - p };
        x -= error / density;
    }
    x
}

/// The two-sided critical value of the standard normal distribution at `confidence` (1.96 at 0.95).
pub fn normal_critical(confidence: f64) -> f64 {
    normal_quantile(0.5 + confidence / 2.0)
}

fn students_t(df: f64) -> Option<statrs::distribution::StudentsT> {
    statrs::distribution::StudentsT::new(0.0, 1.0, df).ok()
}

/// P(T > t) for Student's t with `df` degrees of freedom (NaN for a df that is not positive).
pub fn student_t_sf(t: f64, df: f64) -> f64 {
    students_t(df).map_or(f64::NAN, |d| d.sf(t))
}

/// The `p` quantile (0 < p < 1) of Student's t with `df` degrees of freedom (NaN for a df that is
/// not positive).
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    let Some(dist) = students_t(df) else { return f64::NAN };
    if p.is_nan() || p <= 0.0 || p >= 1.0 {
        return f64::NAN;
    }
    if df >= 1e5 {
        // At this many degrees of freedom `statrs`'s incomplete beta (a = df / 2) drifts to about
        // 1e-9, while the Cornish–Fisher expansion around the normal quantile (Abramowitz and
        // Stegun 26.7.5) is exact to the last digit: its next term is of order df^-5.
        let x = normal_quantile(p);
        let (x2, nu) = (x * x, df);
        let g1 = (x2 + 1.0) * x / 4.0;
        let g2 = ((5.0 * x2 + 16.0) * x2 + 3.0) * x / 96.0;
        let g3 = (((3.0 * x2 + 19.0) * x2 + 17.0) * x2 - 15.0) * x / 384.0;
        let g4 = ((((79.0 * x2 + 776.0) * x2 + 1482.0) * x2 - 1920.0) * x2 - 945.0) * x / 92160.0;
        return x + g1 / nu + g2 / (nu * nu) + g3 / (nu * nu * nu) + g4 / (nu * nu * nu * nu);
    }
    let mut t = dist.inverse_cdf(p);
    // Newton on F(t) = p: the starting value is already close, so two or three steps suffice.
    for _ in 0..4 {
        let density = dist.pdf(t);
        if density.is_nan() || density <= 0.0 || !t.is_finite() {
            break;
        }
        // F(t) - p, from the upper tail above the median so that nothing cancels.
        let error = if p > 0.5 { (1.0 - p) - dist.sf(t) } else { dist.cdf(t) - p };
        let step = error / density;
        t -= step;
        if step.abs() <= 1e-15 * t.abs().max(1.0) {
            break;
        }
    }
    t
}

/// The `p` quantile of the Beta(a, b) distribution, as scipy.stats.beta.ppf.
pub fn beta_quantile(p: f64, a: f64, b: f64) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let Ok(dist) = statrs::distribution::Beta::new(a, b) else { return f64::NAN };
    let mut x = statrs::function::beta::inv_beta_reg(a, b, p);
    for _ in 0..6 {
        let density = dist.pdf(x);
        if density.is_nan() || density <= 0.0 || !density.is_finite() {
            break;
        }
        let next = (x - (beta_reg(a, b, x) - p) / density).clamp(0.0, 1.0);
        let moved = (next - x).abs();
        x = next;
        if moved <= 1e-16 * x.max(1e-300) {
            break;
        }
    }
    x
}

/// P(X = k) for X ~ Binomial(n, p).
pub fn binomial_pmf(k: u64, n: u64, p: f64) -> f64 {
    if k > n {
        return 0.0;
    }
    if p == 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    if p == 1.0 {
        return if k == n { 1.0 } else { 0.0 };
    }
    (ln_binomial(n, k) + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp()
}

/// P(X <= k) for X ~ Binomial(n, p), through the regularised incomplete beta function.
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if k >= n {
        return 1.0;
    }
    beta_reg((n - k) as f64, k as f64 + 1.0, 1.0 - p)
}

/// P(X > k) for X ~ Binomial(n, p).
pub fn binomial_sf(k: u64, n: u64, p: f64) -> f64 {
    if k >= n {
        return 0.0;
    }
    beta_reg(k as f64 + 1.0, (n - k) as f64, p)
}

/// The two-sided p-value of the exact binomial test of `k` successes in `n` trials against the
/// share `p`, as scipy.stats.binomtest: the probability of every outcome no more likely than the
/// one seen (with SciPy's relative slack of 1e-7 for ties).
pub fn binomial_test_two_sided(k: u64, n: u64, p: f64) -> f64 {
    let expected = p * n as f64;
    if k as f64 == expected {
        return 1.0;
    }
    let threshold = binomial_pmf(k, n, p) * (1.0 + 1e-7);
    let value = if (k as f64) < expected {
        // The outcomes above the mean are in non-increasing order of probability: find the
        // first one no more likely than k's, and add the tail from there.
        let (mut low, mut high) = (expected.ceil() as u64, n + 1);
        while low < high {
            let mid = low + (high - low) / 2;
            if binomial_pmf(mid, n, p) <= threshold { high = mid } else { low = mid + 1 }
        }
        let tail = if low > n { 0.0 } else if low == 0 { 1.0 } else { binomial_sf(low - 1, n, p) };
        binomial_cdf(k, n, p) + tail
    } else {
        // The outcomes below the mean are in non-decreasing order: count those no more likely.
        let (mut low, mut high) = (0u64, expected.floor() as u64 + 1);
        while low < high {
            let mid = low + (high - low) / 2;
            if binomial_pmf(mid, n, p) <= threshold { low = mid + 1 } else { high = mid }
        }
        let below = if low == 0 { 0.0 } else { binomial_cdf(low - 1, n, p) };
        below + if k == 0 { 1.0 } else { binomial_sf(k - 1, n, p) }
    };
    value.min(1.0)
}
