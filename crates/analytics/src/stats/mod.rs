//! Honest statistics for before/after impact and A/B splits: one result type, [`Comparison`], from
//! the test that fits the metric (two proportions, Welch's t, a seeded bootstrap, Poisson rates),
//! a difference-in-differences estimate against an untouched group, and [`verdict`], the plain
//! sentence that never claims more than the numbers do and always carries its sample size.
//!
//! Each test follows a named reference implementation (SciPy or statsmodels), and the integration
//! tests hold that implementation's numbers on fixtures (`tests/data/stats_reference.json`).
//! Differences are always "after minus before" (or "variant minus control"). A/B splits use the
//! same functions with the control as "before" and [`Design::Split`] for the verdict. Pure
//! computation: no I/O, no clock; the bootstrap's randomness comes from the seed it is given.

pub mod distributions;
mod verdict;

use distributions::{
    beta_quantile, binomial_test_two_sided, normal_critical, normal_sf, student_t_quantile, student_t_sf,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

pub use verdict::{Design, MIN_EVENTS, MIN_SAMPLE, Unit, verdict};

/// Bad input to a test, naming the argument and the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("{argument}: {reason}")]
    Invalid { argument: &'static str, reason: String },
    /// Every value on both sides is the same: a t test has no spread to measure against.
    #[error("{argument}: every value is the same on both sides, so there is no spread to test against")]
    NoVariation { argument: &'static str },
}

fn invalid(argument: &'static str, reason: impl Into<String>) -> StatsError {
    StatsError::Invalid { argument, reason: reason.into() }
}

/// The test behind a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// The pooled two-proportion z test; Newcombe's hybrid score interval.
    TwoProportions,
    /// Welch's unequal-variances t test and its interval.
    Welch,
    /// A seeded bootstrap of the difference of a statistic.
    Bootstrap { statistic: Statistic, interval: BootstrapInterval },
    /// The exact conditional test of two Poisson rates (a binomial test of the counts' split).
    PoissonRates,
}

impl Test {
    /// The test's name in words, for output.
    pub fn describe(self) -> &'static str {
        match self {
            Test::TwoProportions => "two-proportion z test (Newcombe interval)",
            Test::Welch => "Welch's t test",
            Test::Bootstrap { statistic: Statistic::Mean, interval: BootstrapInterval::Percentile } => {
                "bootstrap of the difference of means (percentile interval)"
            }
            Test::Bootstrap { statistic: Statistic::Mean, interval: BootstrapInterval::Bca } => {
                "bootstrap of the difference of means (BCa interval)"
            }
            Test::Bootstrap { statistic: Statistic::Median, interval: BootstrapInterval::Percentile } => {
                "bootstrap of the difference of medians (percentile interval)"
            }
            Test::Bootstrap { statistic: Statistic::Median, interval: BootstrapInterval::Bca } => {
                "bootstrap of the difference of medians (BCa interval)"
            }
            Test::PoissonRates => "exact conditional test of two Poisson rates",
        }
    }
}

/// What a bootstrap compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    Mean,
    /// The median, as numpy's: the middle value, or the mean of the two middle values.
    Median,
}

/// How a bootstrap turns its resampled differences into an interval, by SciPy's method names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BootstrapInterval {
    /// The resampled differences' quantiles at (1 - confidence) / 2 and (1 + confidence) / 2.
    Percentile,
    /// Bias-corrected and accelerated (Efron and Tibshirani 14.3): the quantiles moved for the
    /// resamples' median bias and for the skew the jackknife measures. Closer to its stated
    /// coverage on skewed data such as order values.
    Bca,
}

/// A ratio with its interval (Poisson rates: after's rate over before's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RatioInterval {
    /// Infinite when the before count is 0.
    pub ratio: f64,
    pub ci: (f64, f64),
}

/// A before/after (or control/variant) comparison of one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub test: Test,
    /// The metric before (a share 0..1, a mean, a median or a rate per unit of exposure).
    pub before: f64,
    pub after: f64,
    /// after - before.
    pub difference: f64,
    /// The difference relative to before (0.25 for +25%); None when before is 0.
    pub relative_change: Option<f64>,
    /// The interval of the difference at `confidence`.
    pub ci: (f64, f64),
    /// 0.95 for a 95% interval.
    pub confidence: f64,
    /// Two-sided.
    pub p_value: f64,
    /// The z or t statistic where the test has one.
    pub statistic: Option<f64>,
    /// Welch–Satterthwaite degrees of freedom (Welch only).
    pub degrees_of_freedom: Option<f64>,
    /// The sample sizes: people or orders for shares and means, events counted for rates.
    pub n_before: u64,
    pub n_after: u64,
    /// Proportions: the successes on each side; None otherwise.
    pub successes: Option<(u64, u64)>,
    /// Rates: the exposure (days, visits) on each side; None otherwise.
    pub exposure: Option<(f64, f64)>,
    /// Rates: the rate ratio with its exact interval; the verdict of a rate reads this.
    pub rate_ratio: Option<RatioInterval>,
}

impl Comparison {
    /// n before plus n after.
    pub fn n(&self) -> u64 {
        self.n_before + self.n_after
    }

    /// Whether the interval excludes "no change": the ratio's interval excludes 1 for rates (the
    /// exact interval), the difference's excludes 0 otherwise.
    pub fn is_clear(&self) -> bool {
        match self.rate_ratio {
            Some(r) => r.ci.0 > 1.0 || r.ci.1 < 1.0,
            None => self.ci.0 > 0.0 || self.ci.1 < 0.0,
        }
    }
}

fn check_confidence(confidence: f64) -> Result<(), StatsError> {
    if confidence.is_finite() && confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(invalid("confidence", format!("must lie strictly between 0 and 1, got {confidence}")))
    }
}

fn relative(before: f64, difference: f64) -> Option<f64> {
    (before != 0.0 && before.is_finite()).then(|| difference / before)
}

/// The Wilson score interval of `successes` out of `n` (statsmodels `proportion_confint(...,
/// method="wilson")`).
pub fn wilson_interval(successes: u64, n: u64, confidence: f64) -> (f64, f64) {
    let z = normal_critical(confidence);
    let (n, p) = (n as f64, successes as f64 / n as f64);
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Two proportions: `successes_after` of `n_after` against `successes_before` of `n_before`.
///
/// The p-value is the pooled two-sided z test (statsmodels `proportions_ztest`); when both sides
/// are all successes or all failures there is nothing to test and it is 1. The interval of the
/// difference is Newcombe's hybrid score interval (statsmodels `confint_proportions_2indep(...,
/// method="newcomb")`), built from each side's Wilson interval: unlike the Wald interval it never
/// collapses to a width of zero at 0 or n successes and keeps close to its stated coverage at
/// small counts, where conversions of a few percent over a few dozen visitors are common.
pub fn two_proportions(
    successes_before: u64,
    n_before: u64,
    successes_after: u64,
    n_after: u64,
    confidence: f64,
) -> Result<Comparison, StatsError> {
    check_confidence(confidence)?;
    for (argument, successes, n) in [("before", successes_before, n_before), ("after", successes_after, n_after)] {
        if n == 0 {
            return Err(invalid(argument, "no observations (n = 0)"));
        }
        if successes > n {
            return Err(invalid(argument, format!("{successes} successes out of only {n}")));
        }
    }
    let (p0, p1) = (successes_before as f64 / n_before as f64, successes_after as f64 / n_after as f64);
    let difference = p1 - p0;
    let pooled = (successes_before + successes_after) as f64 / (n_before + n_after) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n_before as f64 + 1.0 / n_after as f64)).sqrt();
    let (statistic, p_value) = if se > 0.0 {
        let z = difference / se;
        (Some(z), (2.0 * normal_sf(z.abs())).min(1.0))
    } else {
        (None, 1.0)
    };
    let (l0, u0) = wilson_interval(successes_before, n_before, confidence);
    let (l1, u1) = wilson_interval(successes_after, n_after, confidence);
    let low = difference - ((p1 - l1).powi(2) + (u0 - p0).powi(2)).sqrt();
    let high = difference + ((u1 - p1).powi(2) + (p0 - l0).powi(2)).sqrt();
    Ok(Comparison {
        test: Test::TwoProportions,
        before: p0,
        after: p1,
        difference,
        relative_change: relative(p0, difference),
        ci: (low, high),
        confidence,
        p_value,
        statistic,
        degrees_of_freedom: None,
        n_before,
        n_after,
        successes: Some((successes_before, successes_after)),
        exposure: None,
        rate_ratio: None,
    })
}

fn check_values(argument: &'static str, values: &[f64], at_least: usize) -> Result<(), StatsError> {
    if values.len() < at_least {
        return Err(invalid(argument, format!("needs at least {at_least} values, got {}", values.len())));
    }
    if let Some(position) = values.iter().position(|v| !v.is_finite()) {
        return Err(invalid(argument, format!("value {} (position {position}) is not a finite number", values[position])));
    }
    Ok(())
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample variance (n - 1 in the denominator), two-pass.
fn variance(values: &[f64], mean: f64) -> f64 {
    values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (values.len() as f64 - 1.0)
}

/// Welch's t test of after's mean against before's (scipy.stats.ttest_ind(after, before,
/// equal_var=False) and its `confidence_interval`): t on the Welch–Satterthwaite degrees of freedom.
pub fn welch(before: &[f64], after: &[f64], confidence: f64) -> Result<Comparison, StatsError> {
    check_confidence(confidence)?;
    check_values("before", before, 2)?;
    check_values("after", after, 2)?;
    let (m0, m1) = (mean(before), mean(after));
    let (n0, n1) = (before.len() as f64, after.len() as f64);
    let (v0, v1) = (variance(before, m0) / n0, variance(after, m1) / n1);
    let se2 = v0 + v1;
    if se2.is_nan() || se2 <= 0.0 {
        return Err(StatsError::NoVariation { argument: "before and after" });
    }
    let se = se2.sqrt();
    let df = se2 * se2 / (v0 * v0 / (n0 - 1.0) + v1 * v1 / (n1 - 1.0));
    let difference = m1 - m0;
    let t = difference / se;
    let p_value = (2.0 * student_t_sf(t.abs(), df)).min(1.0);
    let half = student_t_quantile(0.5 + confidence / 2.0, df) * se;
    Ok(Comparison {
        test: Test::Welch,
        before: m0,
        after: m1,
        difference,
        relative_change: relative(m0, difference),
        ci: (difference - half, difference + half),
        confidence,
        p_value,
        statistic: Some(t),
        degrees_of_freedom: Some(df),
        n_before: before.len() as u64,
        n_after: after.len() as u64,
        successes: None,
        exposure: None,
        rate_ratio: None,
    })
}

/// The `q` quantile (0..=1) of sorted values by linear interpolation between the closest ranks,
/// as numpy's default `percentile` (which SciPy's percentile bootstrap interval uses).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let fraction = position - below as f64;
    let (low, high) = (sorted[below], sorted[above]);
    // numpy interpolates from the nearer end, which keeps the result monotone in q.
    if fraction >= 0.5 { high - (high - low) * (1.0 - fraction) } else { low + (high - low) * fraction }
}

/// The median as numpy's: the middle value, or the two middle values' sum halved (so that the
/// observed median and the resampled ones tie exactly where numpy's do).
fn median_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn statistic_of(statistic: Statistic, values: &mut [f64]) -> f64 {
    match statistic {
        Statistic::Mean => mean(values),
        Statistic::Median => {
            values.sort_unstable_by(f64::total_cmp);
            median_sorted(values)
        }
    }
}

/// A bootstrap of after's statistic minus before's: each side resampled with replacement,
/// `resamples` times, from a ChaCha8 generator seeded with `seed` (the same seed gives the same
/// answer). The interval is SciPy's `method="percentile"` or `method="BCa"` (see
/// [`bca_interval`]). The p-value inverts the percentile interval: twice the smaller share of
/// resampled differences at or beyond zero on either side, each share counted as
/// (k + 1) / (resamples + 1) so that a finite number of resamples never claims p = 0; capped at 1.
pub fn bootstrap_difference(
    before: &[f64],
    after: &[f64],
    statistic: Statistic,
    interval: BootstrapInterval,
    resamples: u32,
    seed: u64,
    confidence: f64,
) -> Result<Comparison, StatsError> {
    check_confidence(confidence)?;
    check_values("before", before, 2)?;
    check_values("after", after, 2)?;
    if resamples < 100 {
        return Err(invalid("resamples", format!("needs at least 100 resamples, got {resamples}")));
    }
    let observed_before = statistic_of(statistic, &mut before.to_vec());
    let observed_after = statistic_of(statistic, &mut after.to_vec());
    let difference = observed_after - observed_before;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut sample_before, mut sample_after) = (vec![0.0; before.len()], vec![0.0; after.len()]);
    let mut differences = Vec::with_capacity(resamples as usize);
    for _ in 0..resamples {
        for slot in sample_before.iter_mut() {
            *slot = before[rng.random_range(0..before.len())];
        }
        for slot in sample_after.iter_mut() {
            *slot = after[rng.random_range(0..after.len())];
        }
        differences.push(statistic_of(statistic, &mut sample_after) - statistic_of(statistic, &mut sample_before));
    }
    differences.sort_unstable_by(f64::total_cmp);
    let ci = match interval {
        BootstrapInterval::Percentile => {
            let alpha = 1.0 - confidence;
            (quantile_sorted(&differences, alpha / 2.0), quantile_sorted(&differences, 1.0 - alpha / 2.0))
        }
        BootstrapInterval::Bca => bca_interval(before, after, statistic, &differences, confidence).0,
    };
    let at_or_below = differences.iter().filter(|&&d| d <= 0.0).count() as f64;
    let at_or_above = differences.iter().filter(|&&d| d >= 0.0).count() as f64;
    let share = |k: f64| (k + 1.0) / (f64::from(resamples) + 1.0);
    let p_value = (2.0 * share(at_or_below).min(share(at_or_above))).min(1.0);
    Ok(Comparison {
        test: Test::Bootstrap { statistic, interval },
        before: observed_before,
        after: observed_after,
        difference,
        relative_change: relative(observed_before, difference),
        ci,
        confidence,
        p_value,
        statistic: None,
        degrees_of_freedom: None,
        n_before: before.len() as u64,
        n_after: after.len() as u64,
        successes: None,
        exposure: None,
        rate_ratio: None,
    })
}

/// The BCa interval of after's statistic minus before's from the sorted resampled differences,
/// as SciPy's `_bca_interval` for two samples: the bias correction z0 from the share of resampled
/// differences below the observed one (ties counted half), the acceleration from each sample's
/// jackknife, and the interval read at the moved quantiles. Returns the interval and the
/// acceleration. When every resample falls on one side of the observed difference z0 is
/// infinite (SciPy answers NaN): the percentile interval is returned instead, with acceleration 0.
pub fn bca_interval(
    before: &[f64],
    after: &[f64],
    statistic: Statistic,
    sorted_differences: &[f64],
    confidence: f64,
) -> ((f64, f64), f64) {
    let alpha = (1.0 - confidence) / 2.0;
    let percentile = || (quantile_sorted(sorted_differences, alpha), quantile_sorted(sorted_differences, 1.0 - alpha));
    let observed = statistic_of(statistic, &mut after.to_vec()) - statistic_of(statistic, &mut before.to_vec());
    let below = sorted_differences.partition_point(|&d| d < observed);
    let at_or_below = sorted_differences.partition_point(|&d| d <= observed);
    let share = (below + at_or_below) as f64 / (2.0 * sorted_differences.len() as f64);
    let z0 = distributions::normal_quantile(share);
    if !z0.is_finite() {
        return (percentile(), 0.0);
    }
    // Each sample's leave-one-out statistics; the other sample's statistic is a constant that
    // cancels in U, except for its sign: before enters the difference negatively.
    let mut sums = (0.0, 0.0);
    for (sample, sign) in [(after, 1.0), (before, -1.0)] {
        let jackknife: Vec<f64> = leave_one_out(sample, statistic).into_iter().map(|t| sign * t).collect();
        let n = jackknife.len() as f64;
        let centre = jackknife.iter().sum::<f64>() / n;
        let (cubes, squares) = jackknife.iter().fold((0.0, 0.0), |(c, q), t| {
            let u = (n - 1.0) * (centre - t);
            (c + u * u * u, q + u * u)
        });
        sums.0 += cubes / (n * n * n);
        sums.1 += squares / (n * n);
    }
    let acceleration = if sums.1 > 0.0 { sums.0 / (6.0 * sums.1.powf(1.5)) } else { 0.0 };
    let z_alpha = distributions::normal_quantile(alpha);
    let moved = |z: f64| {
        let shifted = z0 + z;
        1.0 - distributions::normal_sf(z0 + shifted / (1.0 - acceleration * shifted))
    };
    let (low, high) = (moved(z_alpha), moved(-z_alpha));
    ((quantile_sorted(sorted_differences, low), quantile_sorted(sorted_differences, high)), acceleration)
}

/// The statistic of `values` without each value in turn (in sorted order for the median, which
/// does not change the set of answers).
fn leave_one_out(values: &[f64], statistic: Statistic) -> Vec<f64> {
    let n = values.len();
    match statistic {
        Statistic::Mean => {
            let sum: f64 = values.iter().sum();
            values.iter().map(|v| (sum - v) / (n - 1) as f64).collect()
        }
        Statistic::Median => {
            let mut sorted = values.to_vec();
            sorted.sort_unstable_by(f64::total_cmp);
            // Without sorted position k, the remaining value at rank r is sorted[r] below k and
            // sorted[r + 1] from k on.
            let rank = |k: usize, r: usize| if r < k { sorted[r] } else { sorted[r + 1] };
            let m = n - 1;
            (0..n)
                .map(|k| if m % 2 == 1 { rank(k, m / 2) } else { (rank(k, m / 2 - 1) + rank(k, m / 2)) / 2.0 })
                .collect()
        }
    }
}

/// Two Poisson rates: `count_after` events over `exposure_after` (days, visits) against
/// `count_before` over `exposure_before`.
///
/// Given the total count, the after count is binomial with share exposure_after / total exposure
/// when the rates are equal: the p-value is that exact conditional test (scipy.stats.binomtest,
/// two-sided), and the rate ratio's interval maps the Clopper–Pearson interval of the share,
/// (π_low, π_high), through ratio = π / (1 - π) × exposure_before / exposure_after. The rate
/// difference's interval is the Wald interval (statsmodels `confint_poisson_2indep(...,
/// method="wald", compare="diff")`); the verdict reads the ratio's exact interval instead.
pub fn poisson_rates(
    count_before: u64,
    exposure_before: f64,
    count_after: u64,
    exposure_after: f64,
    confidence: f64,
) -> Result<Comparison, StatsError> {
    check_confidence(confidence)?;
    for (argument, exposure) in [("exposure_before", exposure_before), ("exposure_after", exposure_after)] {
        if !(exposure.is_finite() && exposure > 0.0) {
            return Err(invalid(argument, format!("must be a positive number, got {exposure}")));
        }
    }
    let total = count_before + count_after;
    if total == 0 {
        return Err(invalid("count_before and count_after", "no events on either side"));
    }
    let (r0, r1) = (count_before as f64 / exposure_before, count_after as f64 / exposure_after);
    let difference = r1 - r0;
    let share = exposure_after / (exposure_before + exposure_after);
    let p_value = binomial_test_two_sided(count_after, total, share);
    let alpha = 1.0 - confidence;
    let pi_low = if count_after == 0 { 0.0 } else { beta_quantile(alpha / 2.0, count_after as f64, count_before as f64 + 1.0) };
    let pi_high =
        if count_before == 0 { 1.0 } else { beta_quantile(1.0 - alpha / 2.0, count_after as f64 + 1.0, count_before as f64) };
    let to_ratio = |pi: f64| if pi >= 1.0 { f64::INFINITY } else { pi / (1.0 - pi) * exposure_before / exposure_after };
    let ratio = if count_before == 0 { f64::INFINITY } else { r1 / r0 };
    let z = normal_critical(confidence);
    let half = z * (count_after as f64 / (exposure_after * exposure_after) + count_before as f64 / (exposure_before * exposure_before)).sqrt();
    Ok(Comparison {
        test: Test::PoissonRates,
        before: r0,
        after: r1,
        difference,
        relative_change: relative(r0, difference),
        ci: (difference - half, difference + half),
        confidence,
        p_value,
        statistic: None,
        degrees_of_freedom: None,
        n_before: count_before,
        n_after: count_after,
        successes: None,
        exposure: Some((exposure_before, exposure_after)),
        rate_ratio: Some(RatioInterval { ratio, ci: (to_ratio(pi_low), to_ratio(pi_high)) }),
    })
}

/// One group in one period, for a difference-in-differences.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum GroupPeriod {
    /// `successes` out of `n`: the share's variance is p(1 - p) / n.
    Proportion { successes: u64, n: u64 },
    /// A mean with the sample variance of its values and their number: the mean's variance is
    /// variance / n.
    Mean { mean: f64, variance: f64, n: u64 },
}

impl GroupPeriod {
    fn n(self) -> u64 {
        match self {
            GroupPeriod::Proportion { n, .. } | GroupPeriod::Mean { n, .. } => n,
        }
    }

    /// The estimate and its variance.
    fn estimate(self, argument: &'static str) -> Result<(f64, f64), StatsError> {
        match self {
            GroupPeriod::Proportion { successes, n } => {
                if n == 0 || successes > n {
                    return Err(invalid(argument, format!("{successes} successes out of {n}")));
                }
                let p = successes as f64 / n as f64;
                Ok((p, p * (1.0 - p) / n as f64))
            }
            GroupPeriod::Mean { mean, variance, n } => {
                if n == 0 || !mean.is_finite() || !(variance.is_finite() && variance >= 0.0) {
                    return Err(invalid(argument, format!("mean {mean}, variance {variance}, n {n} is not a valid summary")));
                }
                Ok((mean, variance / n as f64))
            }
        }
    }
}

/// A difference-in-differences estimate: the treated group's change minus the untouched control
/// group's change over the same windows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DifferenceInDifferences {
    /// Treated after - treated before.
    pub treated_change: f64,
    /// Control after - control before.
    pub control_change: f64,
    /// treated_change - control_change.
    pub estimate: f64,
    /// The square root of the sum of the four estimates' variances (independent groups).
    pub standard_error: f64,
    /// The normal interval at `confidence`.
    pub ci: (f64, f64),
    pub confidence: f64,
    /// Two-sided, from the normal distribution; 1 when the standard error is 0 and the estimate 0.
    pub p_value: f64,
    /// n of treated before, treated after, control before, control after.
    pub n: [u64; 4],
}

impl DifferenceInDifferences {
    /// All four groups' n added up.
    pub fn total_n(&self) -> u64 {
        self.n.iter().sum()
    }

    pub fn is_clear(&self) -> bool {
        self.ci.0 > 0.0 || self.ci.1 < 0.0
    }
}

/// The difference-in-differences of `treated` (before, after) against `control` (before, after);
/// all four must be proportions or all four means.
pub fn difference_in_differences(
    treated: (GroupPeriod, GroupPeriod),
    control: (GroupPeriod, GroupPeriod),
    confidence: f64,
) -> Result<DifferenceInDifferences, StatsError> {
    check_confidence(confidence)?;
    let groups = [treated.0, treated.1, control.0, control.1];
    let proportions = groups.iter().filter(|g| matches!(g, GroupPeriod::Proportion { .. })).count();
    if proportions != 0 && proportions != 4 {
        return Err(invalid("treated and control", "all four groups must be proportions, or all four means"));
    }
    let names = ["treated before", "treated after", "control before", "control after"];
    let mut estimates = [(0.0, 0.0); 4];
    for (slot, (group, name)) in estimates.iter_mut().zip(groups.iter().zip(names)) {
        *slot = group.estimate(name)?;
    }
    let treated_change = estimates[1].0 - estimates[0].0;
    let control_change = estimates[3].0 - estimates[2].0;
    let estimate = treated_change - control_change;
    let standard_error = estimates.iter().map(|e| e.1).sum::<f64>().sqrt();
    let half = normal_critical(confidence) * standard_error;
    let p_value = if standard_error > 0.0 {
        (2.0 * normal_sf((estimate / standard_error).abs())).min(1.0)
    } else if estimate == 0.0 {
        1.0
    } else {
        0.0
    };
    Ok(DifferenceInDifferences {
        treated_change,
        control_change,
        estimate,
        standard_error,
        ci: (estimate - half, estimate + half),
        confidence,
        p_value,
        n: groups.map(GroupPeriod::n),
    })
}
