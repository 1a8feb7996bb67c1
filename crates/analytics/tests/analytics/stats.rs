//! The impact statistics against reference implementations: every test's numbers on fixtures
//! compared with SciPy's and statsmodels' (tests/data/stats_reference.json, made by
//! tests/data/make_stats_reference.py) to 1e-9 relative; the bootstrap's determinism and its
//! coverage on seeded simulations; a hand-checked difference-in-differences; the verdict's
//! sentence for each branch, each carrying its n.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use trailmap_analytics::stats::distributions::{
    beta_quantile, binomial_test_two_sided, normal_quantile, normal_sf, student_t_quantile, student_t_sf,
};
use trailmap_analytics::stats::{
    BootstrapInterval, Comparison, bca_interval, Design, GroupPeriod, StatsError, Statistic, Test, Unit, bootstrap_difference,
    difference_in_differences, poisson_rates, quantile_sorted, two_proportions, verdict, welch,
};

const REFERENCE: &str = include_str!("../data/stats_reference.json");

/// The agreement asked of every number with a closed form (SciPy's own results are that precise).
const RELATIVE: f64 = 1e-9;

fn reference() -> Value {
    serde_json::from_str(REFERENCE).expect("valid reference JSON")
}

/// A number of the reference. Floats are written as text ("0.1", "inf") because serde_json's
/// default reader may miss the last bit, and the bootstrap's ties need every bit; null is NaN.
fn number(value: &Value) -> f64 {
    match value {
        Value::Null => f64::NAN,
        Value::String(text) => text.parse().expect("a number as text"),
        other => other.as_f64().expect("a number"),
    }
}

fn numbers(value: &Value) -> Vec<f64> {
    value.as_array().expect("an array").iter().map(number).collect()
}

fn count(value: &Value) -> u64 {
    value.as_u64().expect("a count")
}

#[track_caller]
fn assert_close(actual: f64, expected: f64, relative: f64, what: &str) {
    let ok = if expected.is_infinite() || expected == 0.0 {
        actual == expected || (expected == 0.0 && actual.abs() <= 1e-15)
    } else {
        (actual - expected).abs() <= relative * expected.abs()
    };
    assert!(ok, "{what}: {actual} against the reference's {expected} (relative error {:e})", ((actual - expected) / expected).abs());
}

#[test]
fn two_proportions_match_statsmodels() {
    let reference = reference();
    let cases = reference["two_proportions"].as_array().expect("cases");
    assert!(cases.len() >= 10);
    for case in cases {
        let (s0, n0, s1, n1) =
            (count(&case["successes_before"]), count(&case["n_before"]), count(&case["successes_after"]), count(&case["n_after"]));
        let what = format!("{s0}/{n0} -> {s1}/{n1}");
        let result = two_proportions(s0, n0, s1, n1, number(&case["confidence"])).expect("a comparison");
        assert_eq!((result.n_before, result.n_after, result.successes), (n0, n1, Some((s0, s1))));
        assert_close(result.difference, number(&case["difference"]), RELATIVE, &format!("{what} difference"));
        let expected_p = number(&case["p_value"]);
        if expected_p.is_nan() {
            // statsmodels divides 0 by 0 when every answer is the same; there is nothing to test.
            assert_eq!((result.p_value, result.statistic), (1.0, None), "{what}");
        } else {
            assert_close(result.p_value, expected_p, RELATIVE, &format!("{what} p"));
            assert_close(result.statistic.expect("a z"), number(&case["z"]), RELATIVE, &format!("{what} z"));
        }
        let ci = numbers(&case["ci"]);
        assert_close(result.ci.0, ci[0], RELATIVE, &format!("{what} low"));
        assert_close(result.ci.1, ci[1], RELATIVE, &format!("{what} high"));
    }
}

#[test]
fn welch_matches_scipy() {
    let reference = reference();
    let cases = reference["welch"].as_array().expect("cases");
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().expect("a name");
        let (before, after) = (numbers(&case["before"]), numbers(&case["after"]));
        let result = welch(&before, &after, number(&case["confidence"])).expect("a comparison");
        assert_eq!((result.test, result.n_before, result.n_after), (Test::Welch, before.len() as u64, after.len() as u64));
        assert_close(result.before, number(&case["mean_before"]), RELATIVE, &format!("{name} mean before"));
        assert_close(result.after, number(&case["mean_after"]), RELATIVE, &format!("{name} mean after"));
        assert_close(result.statistic.expect("a t"), number(&case["t"]), RELATIVE, &format!("{name} t"));
        assert_close(result.degrees_of_freedom.expect("a df"), number(&case["df"]), RELATIVE, &format!("{name} df"));
        assert_close(result.p_value, number(&case["p_value"]), RELATIVE, &format!("{name} p"));
        let ci = numbers(&case["ci"]);
        assert_close(result.ci.0, ci[0], RELATIVE, &format!("{name} low"));
        assert_close(result.ci.1, ci[1], RELATIVE, &format!("{name} high"));
    }
}

#[test]
fn poisson_rates_match_scipy_and_statsmodels() {
    let reference = reference();
    let cases = reference["poisson"].as_array().expect("cases");
    assert!(cases.len() >= 10);
    for case in cases {
        let (c0, e0, c1, e1) =
            (count(&case["count_before"]), number(&case["exposure_before"]), count(&case["count_after"]), number(&case["exposure_after"]));
        let what = format!("{c0}/{e0} -> {c1}/{e1}");
        let result = poisson_rates(c0, e0, c1, e1, number(&case["confidence"])).expect("a comparison");
        assert_eq!((result.n_before, result.n_after, result.exposure), (c0, c1, Some((e0, e1))));
        assert_close(result.before, number(&case["rate_before"]), RELATIVE, &format!("{what} rate before"));
        assert_close(result.after, number(&case["rate_after"]), RELATIVE, &format!("{what} rate after"));
        assert_close(result.p_value, number(&case["p_value"]), RELATIVE, &format!("{what} p"));
        let ratio = result.rate_ratio.expect("a ratio");
        let expected = numbers(&case["ratio_ci"]);
        assert_close(ratio.ci.0, expected[0], RELATIVE, &format!("{what} ratio low"));
        assert_close(ratio.ci.1, expected[1], RELATIVE, &format!("{what} ratio high"));
        let expected = numbers(&case["difference_ci"]);
        assert_close(result.ci.0, expected[0], RELATIVE, &format!("{what} difference low"));
        assert_close(result.ci.1, expected[1], RELATIVE, &format!("{what} difference high"));
    }
}

#[test]
fn distribution_functions_match_scipy() {
    let reference = reference();
    let d = &reference["distributions"];
    for case in d["student_t"].as_array().expect("cases") {
        let (p, df) = (number(&case["p"]), number(&case["df"]));
        assert_close(student_t_quantile(p, df), number(&case["quantile"]), RELATIVE, &format!("t quantile {p} df {df}"));
        assert_close(student_t_sf(2.0, df), number(&case["sf_of_2"]), RELATIVE, &format!("t sf df {df}"));
    }
    for case in d["beta"].as_array().expect("cases") {
        let (p, a, b) = (number(&case["p"]), number(&case["a"]), number(&case["b"]));
        assert_close(beta_quantile(p, a, b), number(&case["quantile"]), RELATIVE, &format!("beta quantile {p} ({a}, {b})"));
    }
    for case in d["normal"].as_array().expect("cases") {
        let p = number(&case["p"]);
        let expected = number(&case["quantile"]);
        if expected == 0.0 {
            assert!(normal_quantile(p).abs() < 1e-15);
        } else {
            assert_close(normal_quantile(p), expected, RELATIVE, &format!("normal quantile {p}"));
        }
        assert_close(normal_sf(expected), number(&case["sf"]), RELATIVE, &format!("normal sf {p}"));
    }
    for case in d["binomial"].as_array().expect("cases") {
        let (k, n, p) = (count(&case["k"]), count(&case["n"]), number(&case["p"]));
        assert_close(binomial_test_two_sided(k, n, p), number(&case["p_value"]), RELATIVE, &format!("binomtest {k} of {n} at {p}"));
    }
    let percentile = &d["percentile"];
    let mut values = numbers(&percentile["values"]);
    values.sort_by(f64::total_cmp);
    for case in percentile["quantiles"].as_array().expect("cases") {
        let q = number(&case["q"]);
        assert_close(quantile_sorted(&values, q), number(&case["value"]), 1e-12, &format!("percentile {q}"));
    }
    // The bootstrap's observed median of an even number of values is numpy's: the middle two's mean.
    let mut even = numbers(&percentile["values"]);
    even.truncate(36);
    let result = bootstrap_difference(&even, &even, Statistic::Median, BootstrapInterval::Percentile, 100, 1, 0.95).expect("a bootstrap");
    assert_close(result.before, number(&percentile["median_of_even"]), 1e-12, "median");
}

#[test]
fn the_bca_interval_matches_scipy_on_the_same_resamples() {
    let reference = reference();
    for case in reference["bca"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("a name");
        let statistic = if case["statistic"] == "mean" { Statistic::Mean } else { Statistic::Median };
        let mut resampled = numbers(&case["resampled"]);
        resampled.sort_by(f64::total_cmp);
        let (ci, acceleration) =
            bca_interval(&numbers(&case["before"]), &numbers(&case["after"]), statistic, &resampled, number(&case["confidence"]));
        assert_close(acceleration, number(&case["acceleration"]), RELATIVE, &format!("{name} acceleration"));
        let expected = numbers(&case["ci"]);
        assert_close(ci.0, expected[0], RELATIVE, &format!("{name} low"));
        assert_close(ci.1, expected[1], RELATIVE, &format!("{name} high"));
    }
}

#[test]
fn the_bootstrap_is_deterministic_for_a_seed() {
    let before: Vec<f64> = (0..50).map(|i| f64::from(i % 7) * 3.5 + 20.0).collect();
    let after: Vec<f64> = (0..45).map(|i| f64::from(i % 5) * 4.0 + 34.0).collect();
    let run = |seed| bootstrap_difference(&before, &after, Statistic::Mean, BootstrapInterval::Percentile, 2000, seed, 0.95).expect("a bootstrap");
    let (first, again, other) = (run(42), run(42), run(43));
    assert_eq!(first, again);
    assert_ne!(first.ci, other.ci, "another seed resamples differently");
    // The observed difference does not depend on the resampling.
    assert_eq!(first.difference, other.difference);
    assert!((first.difference - (after.iter().sum::<f64>() / 45.0 - before.iter().sum::<f64>() / 50.0)).abs() < 1e-12);
    assert!(first.ci.0 < first.difference && first.difference < first.ci.1);
    assert_eq!((first.n_before, first.n_after, first.test), (50, 45, Test::Bootstrap { statistic: Statistic::Mean, interval: BootstrapInterval::Percentile }));
    // Shifted apart this far, no resample crosses zero: the p-value is the smallest 2000 allow.
    assert!((first.p_value - 2.0 / 2001.0).abs() < 1e-15, "p {}", first.p_value);
}

#[test]
fn the_bootstraps_95_percent_interval_covers_the_true_difference_about_95_percent_of_the_time() {
    // Skewed data (exponential order values) where a normal interval would be least trustworthy.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (before_mean, after_mean) = (40.0, 46.0);
    // Exponential draws by inversion: -mean × ln(1 - U).
    let exponential = |rng: &mut ChaCha8Rng, mean: f64| -mean * (1.0 - rng.random::<f64>()).ln();
    let simulations: u32 = 200;
    let truth = after_mean - before_mean;
    // Covered by the percentile interval, by the BCa interval.
    let mut covered = [0u32; 2];
    for simulation in 0..simulations {
        let before: Vec<f64> = (0..60).map(|_| exponential(&mut rng, before_mean)).collect();
        let after: Vec<f64> = (0..60).map(|_| exponential(&mut rng, after_mean)).collect();
        for (slot, interval) in [BootstrapInterval::Percentile, BootstrapInterval::Bca].into_iter().enumerate() {
            let result =
                bootstrap_difference(&before, &after, Statistic::Mean, interval, 400, u64::from(simulation), 0.95).expect("a bootstrap");
            if result.ci.0 <= truth && truth <= result.ci.1 {
                covered[slot] += 1;
            }
        }
    }
    for (name, covered) in ["percentile", "BCa"].into_iter().zip(covered) {
        let coverage = f64::from(covered) / f64::from(simulations);
        assert!((0.90..=0.99).contains(&coverage), "{name} coverage {coverage}");
    }
}

#[test]
fn welch_and_the_bootstrap_agree_on_normal_data() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    // Standard normal draws by Box–Muller.
    let mut normal = || (-2.0 * (1.0 - rng.random::<f64>()).ln()).sqrt() * (std::f64::consts::TAU * rng.random::<f64>()).cos();
    let before: Vec<f64> = (0..400).map(|_| 10.0 + 2.0 * normal()).collect();
    let after: Vec<f64> = (0..400).map(|_| 10.5 + 2.0 * normal()).collect();
    let t = welch(&before, &after, 0.95).expect("welch");
    let boot = bootstrap_difference(&before, &after, Statistic::Mean, BootstrapInterval::Percentile, 4000, 11, 0.95).expect("a bootstrap");
    // With 400 a side the two intervals differ by little more than the bootstrap's own noise.
    assert!((t.ci.0 - boot.ci.0).abs() < 0.03 && (t.ci.1 - boot.ci.1).abs() < 0.03, "{:?} {:?}", t.ci, boot.ci);
    assert!((t.p_value - boot.p_value).abs() < 0.01, "{} {}", t.p_value, boot.p_value);
}

#[test]
fn difference_in_differences_by_hand() {
    // Treated: 300/1000 -> 420/1000 (+12 points); control: 200/800 -> 220/800 (+2.5 points).
    let treated = (GroupPeriod::Proportion { successes: 300, n: 1000 }, GroupPeriod::Proportion { successes: 420, n: 1000 });
    let control = (GroupPeriod::Proportion { successes: 200, n: 800 }, GroupPeriod::Proportion { successes: 220, n: 800 });
    let did = difference_in_differences(treated, control, 0.95).expect("a did");
    assert!((did.treated_change - 0.12).abs() < 1e-12 && (did.control_change - 0.025).abs() < 1e-12);
    assert!((did.estimate - 0.095).abs() < 1e-12);
    // Variances: .3*.7/1000 = .00021, .42*.58/1000 = .0002436, .25*.75/800 = .000234375,
    // .275*.725/800 = .000249219 (to 9 places); sum .000937194, SE .0306136...
    let variance: f64 = 0.00021 + 0.0002436 + 0.000234375 + 0.275 * 0.725 / 800.0;
    assert!((did.standard_error - variance.sqrt()).abs() < 1e-15);
    assert!((did.standard_error - 0.030_613_6).abs() < 1e-6);
    assert!((did.ci.0 - (0.095 - 1.959_963_984_540_054 * variance.sqrt())).abs() < 1e-12);
    // z = .095 / .0306136 = 3.1032; two-sided p = 0.001914 (normal table).
    assert!((did.p_value - 0.001_914).abs() < 2e-6, "p {}", did.p_value);
    assert_eq!((did.n, did.total_n()), ([1000, 1000, 800, 800], 3600));

    // Means: order value 40 -> 46 in the treated shop, 38 -> 41 in the control: 6 - 3 = 3.
    let mean = |mean, variance, n| GroupPeriod::Mean { mean, variance, n };
    let did = difference_in_differences((mean(40.0, 100.0, 100), mean(46.0, 144.0, 100)), (mean(38.0, 81.0, 81), mean(41.0, 64.0, 64)), 0.95)
        .expect("a did");
    assert!((did.estimate - 3.0).abs() < 1e-12);
    // The means' variances: 100/100 + 144/100 + 81/81 + 64/64 = 4.44.
    assert!((did.standard_error - 4.44_f64.sqrt()).abs() < 1e-12);
    // Mixing proportions and means is refused, naming the groups.
    let mixed = difference_in_differences((mean(1.0, 1.0, 10), mean(1.0, 1.0, 10)), control, 0.95);
    assert!(matches!(mixed, Err(StatsError::Invalid { argument: "treated and control", .. })));
}

fn percent() -> Unit {
    Unit::Proportion
}

#[test]
fn verdicts_say_no_more_than_the_numbers_and_always_the_n() {
    let dollars = Unit::Currency { symbol: "$".into() };
    let per_day = Unit::Number { suffix: " a day".into() };
    // A clear rise, before/after, the issue's own example: "seasonality not ruled out".
    let rise = two_proportions(653, 2105, 926, 2105, 0.95).expect("a comparison");
    let cases: Vec<(String, &str)> = vec![
        (
            verdict("checkout conversion", &percent(), &rise, Design::BeforeAfter),
            "checkout conversion rose from 31% to 44% (95% CI +10 to +16 points, n = 4,210); seasonality not ruled out",
        ),
        // An interval that holds 0: no direction is claimed.
        (
            verdict("checkout conversion", &percent(), &two_proportions(17, 300, 19, 300, 0.95).expect("ok"), Design::BeforeAfter),
            "no clear change in checkout conversion: 5.7% before, 6.3% after (95% CI −3 to +5 points, n = 600); seasonality not ruled out",
        ),
        // Fewer than 30 on a side, and no successes at all: no verdict, but the n.
        (
            verdict("checkout conversion", &percent(), &two_proportions(3, 20, 9, 25, 0.95).expect("ok"), Design::BeforeAfter),
            "too few data to judge checkout conversion: n = 20 before and 25 after (n = 45; at least 30 needed on each side)",
        ),
        (
            verdict("checkout conversion", &percent(), &two_proportions(0, 50, 0, 60, 0.95).expect("ok"), Design::BeforeAfter),
            "too few data to judge checkout conversion: no successes on either side (n = 110)",
        ),
        (
            verdict("checkout conversion", &percent(), &two_proportions(50, 50, 60, 60, 0.95).expect("ok"), Design::BeforeAfter),
            "too few data to judge checkout conversion: no failures on either side (n = 110)",
        ),
        // With an untouched comparison group the caveat gives way to the difference in differences.
        (
            verdict("checkout conversion", &percent(), &rise, Design::WithControl(&difference_in_differences(
                (GroupPeriod::Proportion { successes: 653, n: 2105 }, GroupPeriod::Proportion { successes: 926, n: 2105 }),
                (GroupPeriod::Proportion { successes: 200, n: 800 }, GroupPeriod::Proportion { successes: 220, n: 800 }),
                0.95,
            ).expect("a did"))),
            "checkout conversion rose from 31% to 44% (95% CI +10 to +16 points, n = 4,210); beyond the untouched comparison group's change: difference in differences +10 (95% CI +5 to +16 points, n = 5,810)",
        ),
        // Means in money, an A/B split: no seasonality caveat, a randomised split has none.
        (
            verdict("average order value", &dollars, &welch(&order_values(0.0), &order_values(-4.0), 0.95).expect("ok"), Design::Split),
            "average order value was lower with the variant: $38.12 against $42.12 (95% CI −$6.31 to −$1.69, n = 160)",
        ),
        (
            verdict("average order value", &dollars, &welch(&order_values(0.0), &order_values(0.5), 0.95).expect("ok"), Design::Split),
            "no clear difference in average order value: $42.12 in the control, $42.62 with the variant (95% CI −$1.81 to +$2.81, n = 160)",
        ),
        (
            verdict("median order value", &dollars, &bootstrap_difference(&order_values(0.0), &order_values(6.0), Statistic::Median, BootstrapInterval::Percentile, 1000, 5, 0.95).expect("ok"), Design::BeforeAfter),
            "median order value rose from $42.00 to $48.00 (95% CI +$2.50 to +$9.50, n = 160); seasonality not ruled out",
        ),
        // Rates are judged on the rate ratio's exact interval.
        (verdict("referrals", &per_day, &poisson_rates(120, 30.0, 165, 30.0, 0.95).expect("ok"), Design::BeforeAfter), "referrals rose from 4.00 a day to 5.50 a day (rate ratio 1.38, 95% CI 1.08 to 1.75, n = 285); seasonality not ruled out"),
        (verdict("referrals", &per_day, &poisson_rates(40, 20.0, 44, 20.0, 0.95).expect("ok"), Design::BeforeAfter), "no clear change in referrals: 2.00 a day before, 2.20 a day after (rate ratio 1.10, 95% CI 0.70 to 1.73, n = 84); seasonality not ruled out"),
        (verdict("referrals", &per_day, &poisson_rates(3, 10.0, 4, 10.0, 0.95).expect("ok"), Design::BeforeAfter), "too few data to judge referrals: 3 events before and 4 after (n = 7; at least 10 needed)"),
    ];
    for (text, expected) in &cases {
        assert_eq!(text, expected);
        assert!(text.contains("n = "), "no n in {text:?}");
    }
}

/// 80 order values around $42 plus `shift`, spread $30..$54.
fn order_values(shift: f64) -> Vec<f64> {
    (0..80).map(|i| 30.0 + f64::from(i * 37 % 25) + shift).collect()
}

#[test]
fn bad_input_is_an_error_naming_the_argument() {
    let invalid = |result: Result<Comparison, StatsError>| match result {
        Err(StatsError::Invalid { argument, .. }) => argument,
        other => panic!("expected an error, got {other:?}"),
    };
    assert_eq!(invalid(two_proportions(5, 4, 1, 10, 0.95)), "before");
    assert_eq!(invalid(two_proportions(1, 10, 1, 0, 0.95)), "after");
    assert_eq!(invalid(two_proportions(1, 10, 1, 10, 1.0)), "confidence");
    assert_eq!(invalid(welch(&[1.0], &[1.0, 2.0], 0.95)), "before");
    assert_eq!(invalid(welch(&[1.0, 2.0], &[1.0, f64::NAN], 0.95)), "after");
    assert_eq!(invalid(poisson_rates(1, 0.0, 1, 1.0, 0.95)), "exposure_before");
    assert_eq!(invalid(poisson_rates(0, 1.0, 0, 1.0, 0.95)), "count_before and count_after");
    assert_eq!(invalid(bootstrap_difference(&[1.0, 2.0], &[1.0, 2.0], Statistic::Mean, BootstrapInterval::Percentile, 10, 1, 0.95)), "resamples");
    assert!(matches!(welch(&[3.0, 3.0], &[3.0, 3.0, 3.0], 0.95), Err(StatsError::NoVariation { .. })));
}



