//! The plain-language verdict of a comparison: "checkout conversion rose from 31% to 44% (95% CI
//! +9 to +17 points, n = 4,210); seasonality not ruled out". It says "rose" or "fell" only when the
//! interval excludes no change, always gives the n, adds the caveat a plain before/after needs, and
//! says "too few data" instead of a verdict when the sample cannot carry one.

use super::{Comparison, DifferenceInDifferences, Test};

/// The fewest observations on each side (people, orders) before a share or a mean gets a verdict.
pub const MIN_SAMPLE: u64 = 30;

/// The fewest events, both sides together, before a rate gets a verdict.
pub const MIN_EVENTS: u64 = 10;

/// How the metric's values are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    /// A share 0..1, written as a percentage; differences in percentage points.
    Proportion,
    /// Money, written with the symbol in front and two decimals ("$42.10").
    Currency { symbol: String },
    /// A plain number, with an optional suffix after the values (" per day").
    Number { suffix: String },
}

/// How the comparison was made, which decides the caveat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Design<'a> {
    /// Before and after a change, nothing to compare with: seasonality and anything else that
    /// changed at the same time are not ruled out.
    BeforeAfter,
    /// Before and after, with a difference-in-differences against an untouched group.
    WithControl(&'a DifferenceInDifferences),
    /// A randomised split (A/B): "before" is the control, "after" the variant.
    Split,
}

/// The sentence for `comparison` of the metric `label` ("checkout conversion").
pub fn verdict(label: &str, unit: &Unit, comparison: &Comparison, design: Design<'_>) -> String {
    let c = comparison;
    let n = c.n();
    if let Some(reason) = too_few(c) {
        return format!("too few data to judge {label}: {reason}");
    }
    let level = percent_label(c.confidence);
    let (values, interval) = if c.test == Test::PoissonRates {
        // Rates are judged on the ratio's exact interval, the one the verdict's "clear" reads.
        let ratio = c.rate_ratio.map_or((f64::NAN, (f64::NAN, f64::NAN)), |r| (r.ratio, r.ci));
        let decimals = decimals_for(ratio.1.1 - ratio.1.0).max(2);
        let (b, a) = value_pair(unit, c.before, c.after, decimals_for((c.after - c.before).abs() / 10.0));
        (
            (b, a),
            format!(
                "rate ratio {}, {level} CI {} to {}, n = {}",
                plain(ratio.0, decimals),
                plain(ratio.1.0, decimals),
                plain(ratio.1.1, decimals),
                thousands(n)
            ),
        )
    } else {
        let scale = if *unit == Unit::Proportion { 100.0 } else { 1.0 };
        let decimals = decimals_for(scale * (c.ci.1 - c.ci.0));
        (value_pair(unit, c.before, c.after, decimals), format!("{level} CI {}, n = {}", signed_range(unit, c.ci, decimals), thousands(n)))
    };
    let (before, after) = values;
    let sentence = match (design, c.is_clear()) {
        (Design::Split, true) => {
            let direction = if c.difference > 0.0 { "higher" } else { "lower" };
            format!("{label} was {direction} with the variant: {after} against {before} ({interval})")
        }
        (Design::Split, false) => format!("no clear difference in {label}: {before} in the control, {after} with the variant ({interval})"),
        (_, true) => {
            let direction = if c.difference > 0.0 { "rose" } else { "fell" };
            format!("{label} {direction} from {before} to {after} ({interval})")
        }
        (_, false) => format!("no clear change in {label}: {before} before, {after} after ({interval})"),
    };
    match design {
        Design::BeforeAfter => format!("{sentence}; seasonality not ruled out"),
        Design::Split => sentence,
        Design::WithControl(did) => {
            let scale = if *unit == Unit::Proportion { 100.0 } else { 1.0 };
            let decimals = decimals_for(scale * (did.ci.1 - did.ci.0));
            let what = if did.is_clear() { "beyond" } else { "not clearly beyond" };
            format!(
                "{sentence}; {what} the untouched comparison group's change: difference in differences {} ({} CI {}, n = {})",
                signed(unit, did.estimate, decimals),
                percent_label(did.confidence),
                signed_range(unit, did.ci, decimals),
                thousands(did.total_n())
            )
        }
    }
}

/// Why the sample cannot carry a verdict, or None when it can.
fn too_few(c: &Comparison) -> Option<String> {
    if c.test == Test::PoissonRates {
        return (c.n() < MIN_EVENTS).then(|| {
            format!("{} events before and {} after (n = {}; at least {MIN_EVENTS} needed)", c.n_before, c.n_after, c.n())
        });
    }
    if c.n_before < MIN_SAMPLE || c.n_after < MIN_SAMPLE {
        return Some(format!(
            "n = {} before and {} after (n = {}; at least {MIN_SAMPLE} needed on each side)",
            thousands(c.n_before),
            thousands(c.n_after),
            thousands(c.n())
        ));
    }
    if let Some((s0, s1)) = c.successes {
        if s0 + s1 == 0 {
            return Some(format!("no successes on either side (n = {})", thousands(c.n())));
        }
        if s0 + s1 == c.n() {
            return Some(format!("no failures on either side (n = {})", thousands(c.n())));
        }
    }
    None
}

fn percent_label(confidence: f64) -> String {
    let percent = confidence * 100.0;
    if (percent - percent.round()).abs() < 1e-9 { format!("{percent:.0}%") } else { format!("{percent:.1}%") }
}

/// Enough decimals to show an interval of `width` without false precision.
fn decimals_for(width: f64) -> usize {
    match width.abs() {
        w if !w.is_finite() || w >= 2.0 => 0,
        w if w >= 0.2 => 1,
        w if w >= 0.02 => 2,
        _ => 3,
    }
}

/// Both values at the same precision; more decimals (up to 3) when rounding would show two
/// different values as the same one.
fn value_pair(unit: &Unit, before: f64, after: f64, decimals: usize) -> (String, String) {
    let mut decimals = decimals;
    loop {
        let pair = (value(unit, before, decimals), value(unit, after, decimals));
        if pair.0 != pair.1 || before == after || decimals >= 3 {
            return pair;
        }
        decimals += 1;
    }
}

fn value(unit: &Unit, x: f64, decimals: usize) -> String {
    match unit {
        Unit::Proportion => format!("{}%", plain(100.0 * x, decimals)),
        Unit::Currency { symbol } => format!("{}{symbol}{}", if x < 0.0 { "−" } else { "" }, plain(x.abs(), 2)),
        Unit::Number { suffix } => format!("{}{suffix}", plain(x, decimals)),
    }
}

/// A difference with its sign: "+9", "−3.5", "+$3.20".
fn signed(unit: &Unit, x: f64, decimals: usize) -> String {
    let sign = if x < 0.0 { "−" } else { "+" };
    match unit {
        Unit::Proportion => format!("{sign}{}", plain((100.0 * x).abs(), decimals)),
        Unit::Currency { symbol } => format!("{sign}{symbol}{}", plain(x.abs(), 2)),
        Unit::Number { .. } => format!("{sign}{}", plain(x.abs(), decimals)),
    }
}

fn signed_range(unit: &Unit, (low, high): (f64, f64), decimals: usize) -> String {
    let points = if *unit == Unit::Proportion { " points" } else { "" };
    format!("{} to {}{points}", signed(unit, low, decimals), signed(unit, high, decimals))
}

/// A number with thousands separators and `decimals` decimals; "−" for negatives, "∞" for infinity.
fn plain(x: f64, decimals: usize) -> String {
    if x.is_infinite() {
        return if x > 0.0 { "∞".into() } else { "−∞".into() };
    }
    let text = format!("{:.*}", decimals, x.abs());
    let (whole, fraction) = text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let digits: Vec<char> = whole.chars().collect();
    let mut grouped = String::new();
    for (i, digit) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(*digit);
    }
    let negative = x < 0.0 && text.chars().any(|ch| ch.is_ascii_digit() && ch != '0');
    format!("{}{grouped}{}", if negative { "−" } else { "" }, fraction.map_or(String::new(), |f| format!(".{f}")))
}

fn thousands(n: u64) -> String {
    plain(n as f64, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_separators_signs_and_sensible_decimals() {
        assert_eq!(plain(4210.0, 0), "4,210");
        assert_eq!(plain(-1234567.891, 2), "−1,234,567.89");
        assert_eq!(plain(-0.0001, 1), "0.0");
        assert_eq!(plain(999.0, 0), "999");
        assert_eq!(decimals_for(8.0), 0);
        assert_eq!(decimals_for(0.5), 1);
        assert_eq!(percent_label(0.95), "95%");
        assert_eq!(percent_label(0.975), "97.5%");
        assert_eq!(signed(&Unit::Currency { symbol: "$".into() }, -3.2, 0), "−$3.20");
    }
}
