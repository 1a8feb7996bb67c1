//! Special functions the models need: the log-gamma function and the Gaussian hypergeometric
//! function 2F1, which no well-kept crate provides.

use crate::{ClvError, Result};

/// Lanczos coefficients for g = 7, n = 9: about 15 significant digits for positive arguments.
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln Γ(x) for x > 0 (the models only take positive arguments); NaN otherwise.
pub fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x < 0.5 {
        // Reflection keeps the approximation in the range where it is accurate.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = LANCZOS[0];
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The Gaussian hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1 and c not zero or a
/// negative integer (where it is undefined), by its power
/// series summed until the terms no longer change the sum (relative 1e-15). The series converges
/// geometrically with ratio z, so z close to 1 costs more terms; past a million terms it gives up
/// with an error rather than a wrong number.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64> {
    if !(0.0..1.0).contains(&z) || (c <= 0.0 && c.fract() == 0.0) {
        return Err(ClvError::InvalidArgument {
            argument: "hyp2f1",
            reason: format!("needs 0 <= z < 1 and c not 0, -1, -2, ...; got a={a}, b={b}, c={c}, z={z}"),
        });
    }
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 0..1_000_000u32 {
        let n = f64::from(n);
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() <= 1e-15 * sum.abs() {
            return Ok(sum);
        }
    }
    Err(ClvError::InvalidArgument { argument: "hyp2f1", reason: format!("series did not converge at z={z}") })
}

/// The digamma function ψ(x) = d/dx ln Γ(x) for x > 0: the recurrence ψ(x) = ψ(x + 1) - 1/x up
/// to x >= 10, then the asymptotic series (truncation error about 1e-14 there).
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let mut x = x;
    let mut result = 0.0;
    while x < 10.0 {
        result -= 1.0 / x;
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    result + x.ln() - 0.5 / x
        - f * (1.0 / 12.0 - f * (1.0 / 120.0 - f * (1.0 / 252.0 - f * (1.0 / 240.0 - f * (1.0 / 132.0)))))
}

/// ln(e^a + e^b) without overflow.
pub(crate) fn log_add_exp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ((a - m).exp() + (b - m).exp()).ln()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials_and_half_integers() {
        let mut factorial = 1.0f64;
        for n in 1..30 {
            assert!((ln_gamma(n as f64) - factorial.ln()).abs() < 1e-12 * factorial.ln().max(1.0), "n={n}");
            factorial *= n as f64;
        }
        // Γ(1/2) = √π, Γ(0.1) = 9.513507698668732.
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
        assert!((ln_gamma(0.1) - 9.513_507_698_668_732f64.ln()).abs() < 1e-13);
        assert!(ln_gamma(0.0).is_nan());
    }

    #[test]
    fn digamma_matches_known_values_and_the_recurrence() {
        // ψ(1) = -γ, ψ(1/2) = -γ - 2 ln 2.
        let euler = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler).abs() < 1e-12);
        assert!((digamma(0.5) + euler + 2.0 * 2f64.ln()).abs() < 1e-12);
        for x in [0.01, 0.3, 2.5, 7.0, 40.0] {
            assert!((digamma(x + 1.0) - digamma(x) - 1.0 / x).abs() < 1e-11 * (1.0 / x), "x={x}");
            // Against the derivative of ln_gamma by central differences.
            let h = 1e-5 * x;
            let numeric = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!((digamma(x) - numeric).abs() < 1e-6 * digamma(x).abs().max(1.0), "x={x}");
        }
    }

    #[test]
    fn hyp2f1_matches_closed_forms() {
        for z in [0.0, 0.1, 0.5, 0.9, 0.99] {
            // 2F1(1, 1; 2; z) = -ln(1 - z) / z.
            let expected = if z == 0.0 { 1.0 } else { -(1.0f64 - z).ln() / z };
            assert!((hyp2f1(1.0, 1.0, 2.0, z).unwrap() - expected).abs() < 1e-10 * expected, "z={z}");
            // 2F1(a, b; b; z) = (1 - z)^-a.
            let expected = (1.0 - z).powf(-2.5);
            assert!((hyp2f1(2.5, 3.0, 3.0, z).unwrap() - expected).abs() < 1e-10 * expected, "z={z}");
        }
        // 2F1(1/2, 1/2; 3/2; x²) = asin(x) / x.
        let x: f64 = 0.8;
        assert!((hyp2f1(0.5, 0.5, 1.5, x * x).unwrap() - x.asin() / x).abs() < 1e-12);
        assert!(hyp2f1(1.0, 1.0, 2.0, 1.0).is_err());
        assert!(hyp2f1(1.0, 1.0, -2.0, 0.5).is_err());
        // A negative, non-integer c is fine: 2F1(a, b; b; z) = (1 - z)^-a holds for any b.
        let expected = (1.0f64 - 0.4).powf(-0.3);
        assert!((hyp2f1(0.3, -0.55, -0.55, 0.4).unwrap() - expected).abs() < 1e-12);
    }
}
