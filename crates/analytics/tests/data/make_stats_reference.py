"""Reference values for trailmap-analytics' `stats` module, computed once with SciPy and statsmodels
and kept in stats_reference.json beside this script; tests/analytics/stats.rs compares the engine
with them.

Rerun (from the repository root), after changing a fixture:

    python3 -m venv /tmp/venv-stats && /tmp/venv-stats/bin/pip install scipy statsmodels numpy
    /tmp/venv-stats/bin/python crates/analytics/tests/data/make_stats_reference.py

Made with numpy 2.4.6, scipy 1.17.1, statsmodels 0.15.0 (the script writes the versions it ran
with into the JSON). Input arrays are generated here from a seeded numpy generator and written
into the JSON as text with full precision, so the Rust side reads the very same numbers.
"""

import json
import math
import pathlib
import re

import numpy as np
import scipy
import scipy.stats as st
import statsmodels
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.rates import confint_poisson_2indep

OUT = pathlib.Path(__file__).with_name("stats_reference.json")


def num(x):
    """JSON has no NaN or infinity: None stands for NaN, "inf" and "-inf" for the infinities."""
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def exact(value):
    """Every float written as its shortest round-trip text: a JSON reader need not parse numbers
    to the last bit (serde_json's default does not), and the bootstrap's ties need the very bits."""
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact(v) for v in value]
    if isinstance(value, float):
        return repr(value)
    return value


def two_proportions():
    cases = [
        # (successes before, n before, successes after, n after, confidence)
        (310, 1000, 440, 1000, 0.95),
        (1290, 4160, 1850, 4210, 0.95),
        (3, 40, 9, 38, 0.95),
        (0, 50, 0, 60, 0.95),  # no successes anywhere: nothing to test
        (0, 45, 5, 50, 0.95),
        (50, 50, 48, 50, 0.95),
        (120, 120, 120, 120, 0.95),  # all successes: nothing to test
        (1, 10, 2, 12, 0.90),
        (50000, 200000, 51000, 200000, 0.99),
        (17, 300, 17, 300, 0.95),
        (7, 7, 0, 9, 0.95),
    ]
    out = []
    for s0, n0, s1, n1, conf in cases:
        with np.errstate(all="ignore"):
            z, p = proportions_ztest([s1, s0], [n1, n0], alternative="two-sided")
        low, high = confint_proportions_2indep(s1, n1, s0, n0, method="newcomb", compare="diff", alpha=1 - conf)
        out.append({
            "successes_before": s0, "n_before": n0, "successes_after": s1, "n_after": n1, "confidence": conf,
            "difference": s1 / n1 - s0 / n0, "z": num(z), "p_value": num(p), "ci": [num(low), num(high)],
        })
    return out


def welch():
    rng = np.random.default_rng(20261123)
    cases = [
        ("small", rng.normal(10, 2, 3), rng.normal(12, 2, 4), 0.95),
        ("large", rng.normal(50, 10, 1000), rng.normal(50.8, 10, 1000), 0.95),
        ("equal means", rng.normal(5, 1, 40), rng.normal(5, 1, 40), 0.95),
        ("unequal variances", rng.normal(20, 1, 25), rng.normal(22, 9, 60), 0.95),
        ("unequal sizes", rng.normal(3, 2, 200), rng.normal(3.4, 2, 15), 0.90),
        ("order values", rng.lognormal(3.5, 0.8, 300), rng.lognormal(3.7, 0.8, 280), 0.95),
        ("ratings", rng.integers(1, 8, 50).astype(float), rng.integers(2, 8, 45).astype(float), 0.99),
        ("two each", np.array([1.0, 2.0]), np.array([4.0, 7.0]), 0.95),
        ("big numbers", rng.normal(1e6, 5e3, 30), rng.normal(1.001e6, 5e3, 30), 0.95),
        ("tiny difference", rng.normal(0, 1, 500), rng.normal(0.01, 1, 500), 0.95),
    ]
    out = []
    for name, before, after, conf in cases:
        result = st.ttest_ind(after, before, equal_var=False)
        ci = result.confidence_interval(confidence_level=conf)
        out.append({
            "name": name, "before": [float(v) for v in before], "after": [float(v) for v in after],
            "confidence": conf, "mean_before": float(np.mean(before)), "mean_after": float(np.mean(after)),
            "t": num(result.statistic), "df": num(result.df), "p_value": num(result.pvalue),
            "ci": [num(ci.low), num(ci.high)],
        })
    return out


def poisson():
    cases = [
        # (count before, exposure before, count after, exposure after, confidence)
        (120, 30.0, 165, 30.0, 0.95),
        (3, 10.0, 9, 12.0, 0.95),
        (0, 14.0, 6, 14.0, 0.95),  # nothing before: the ratio is infinite
        (8, 14.0, 0, 14.0, 0.95),  # nothing after
        (40, 20.0, 40, 20.0, 0.95),  # exactly the same rate
        (10000, 180.0, 10450, 185.0, 0.99),
        (1, 1.0, 2, 3.5, 0.90),
        (250, 91.0, 310, 92.0, 0.95),
        (57, 1000.0, 31, 400.0, 0.95),
        (5, 7.0, 30, 7.0, 0.95),
    ]
    out = []
    for c0, e0, c1, e1, conf in cases:
        total = c0 + c1
        test = st.binomtest(c1, total, p=e1 / (e0 + e1), alternative="two-sided")
        ci = test.proportion_ci(confidence_level=conf, method="exact")
        scale = e0 / e1

        def ratio(pi):
            return math.inf if pi >= 1.0 else pi / (1.0 - pi) * scale

        with np.errstate(all="ignore"):
            dlow, dhigh = confint_poisson_2indep(c1, e1, c0, e0, method="wald", compare="diff", alpha=1 - conf)
        out.append({
            "count_before": c0, "exposure_before": e0, "count_after": c1, "exposure_after": e1, "confidence": conf,
            "rate_before": c0 / e0, "rate_after": c1 / e1, "p_value": num(test.pvalue),
            "share_ci": [num(ci.low), num(ci.high)], "ratio_ci": [num(ratio(ci.low)), num(ratio(ci.high))],
            "difference_ci": [num(dlow), num(dhigh)],
        })
    return out


def bca():
    """SciPy's BCa interval for a given set of resampled differences. scipy.stats.bootstrap draws
    its own resamples, which no other generator reproduces, so the reference calls the function
    behind its method="BCa" (scipy.stats._resampling._bca_interval, private: check its signature
    when upgrading SciPy) on resampled differences drawn here and kept in the JSON."""
    from scipy.stats._resampling import _bca_interval

    rng = np.random.default_rng(99)
    cases = [
        ("mean, skewed", "mean", rng.exponential(40.0, 45), rng.exponential(47.0, 52), 0.95),
        ("mean, normal", "mean", rng.normal(10, 2, 30), rng.normal(11, 2, 31), 0.90),
        ("median, odd and even", "median", rng.lognormal(3.5, 0.7, 41), rng.lognormal(3.7, 0.7, 50), 0.95),
    ]
    out = []
    for name, kind, before, after, conf in cases:
        f = np.mean if kind == "mean" else np.median

        def statistic(a, b, axis=-1):
            return f(a, axis=axis) - f(b, axis=axis)

        resampled = np.array([f(rng.choice(after, len(after))) - f(rng.choice(before, len(before))) for _ in range(999)])
        alpha = (1 - conf) / 2
        low_q, high_q, a_hat = _bca_interval((after, before), statistic, axis=-1, alpha=alpha,
                                             theta_hat_b=resampled, batch=None, xp=np)
        out.append({
            "name": name, "statistic": kind, "before": [float(v) for v in before], "after": [float(v) for v in after],
            "confidence": conf, "resampled": [float(v) for v in resampled], "acceleration": float(a_hat),
            "ci": [float(np.percentile(resampled, 100 * low_q)), float(np.percentile(resampled, 100 * high_q))],
        })
    return out


def distributions():
    t = [{"p": p, "df": df, "quantile": float(st.t.ppf(p, df)), "sf_of_2": float(st.t.sf(2.0, df))}
         for df in [1.0, 2.5, 9.0, 30.0, 87.3, 1000.0, 1e6] for p in [0.95, 0.975, 0.995]]
    beta = [{"p": p, "a": a, "b": b, "quantile": float(st.beta.ppf(p, a, b))}
            for a, b in [(1.0, 20.0), (3.0, 10.0), (9.0, 4.0), (165.0, 121.0), (10450.0, 10001.0), (0.5, 0.5)]
            for p in [0.005, 0.025, 0.05, 0.95, 0.975, 0.995]]
    normal = [{"p": p, "quantile": float(st.norm.ppf(p)), "sf": float(st.norm.sf(st.norm.ppf(p)))}
              for p in [0.5, 0.9, 0.95, 0.975, 0.995, 0.9995]]
    binomial = [{"k": k, "n": n, "p": p, "p_value": float(st.binomtest(k, n, p).pvalue)}
                for k, n, p in [(0, 10, 0.3), (10, 10, 0.3), (3, 10, 0.3), (7, 20, 0.5), (13, 20, 0.5),
                                (1, 100, 0.05), (12, 100, 0.05), (480, 1000, 0.5), (530, 1000, 0.5), (2, 3, 0.4)]]
    rng = np.random.default_rng(7)
    values = rng.normal(0, 1, 37)
    quantiles = [{"q": q, "value": float(np.percentile(values, 100 * q))} for q in [0.0, 0.025, 0.1, 0.5, 0.9, 0.975, 1.0]]
    return {"student_t": t, "beta": beta, "normal": normal, "binomial": binomial,
            "percentile": {"values": [float(v) for v in values], "quantiles": quantiles,
                           "median_of_even": float(np.median(values[:36]))}}


def main():
    reference = {
        "made_with": {"numpy": np.__version__, "scipy": scipy.__version__, "statsmodels": statsmodels.__version__},
        "two_proportions": two_proportions(),
        "welch": welch(),
        "poisson": poisson(),
        "bca": bca(),
        "distributions": distributions(),
    }
    text = json.dumps(exact(reference), indent=1)
    # Arrays of numbers on one line each, to keep the file short to read and to diff.
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    OUT.write_text(text + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
