//! `trailmap change impact ID [--days N] [--ramp-up N] [--control METRIC] [--split PROPERTY]
//! [--confidence 0.95]`: the impact of a recorded change on the KPI it names, as the app measures
//! it. The table leads with the verdict and lists before and after with their windows and n, the
//! test, p-value and interval, the difference-in-differences, the A/B split and how the numbers
//! were made; JSON is the whole answer; CSV has one row per window or variant.

use crate::output::{Format, Output};
use std::io::Write;
use trailmap_app::impact::{Impact, ImpactRequest, ImpactUnit, WindowValue};
use trailmap_app::App;
use trailmap_model::{Business, ChangeId, ChangeMetric};

#[derive(Debug, clap::Args)]
pub struct ImpactArgs {
    /// The change's id, as `change list` shows it.
    id: i64,
    /// Days in each window; by default the longest matched length the data allows.
    #[arg(long, value_name = "N")]
    days: Option<u32>,
    /// Days right after the change left out of the after window while it settles in.
    #[arg(long = "ramp-up", value_name = "N", default_value_t = 0)]
    ramp_up: u32,
    /// An untouched comparable for a difference-in-differences, in the metric forms of
    /// `change add --metric` (e.g. conversion:product_view>add_to_cart:7d).
    #[arg(long, value_name = "METRIC")]
    control: Option<ChangeMetric>,
    /// A/B: the event property whose value puts each customer in a variant.
    #[arg(long, value_name = "PROPERTY")]
    split: Option<String>,
    /// The confidence of the intervals, between 0 and 1.
    #[arg(long, default_value_t = 0.95)]
    confidence: f64,
}

fn value_text(unit: ImpactUnit, currency: &str, value: Option<f64>) -> String {
    match value {
        None => "no data".into(),
        Some(v) => match unit {
            ImpactUnit::Proportion => format!("{:.1}%", 100.0 * v),
            ImpactUnit::Money => format!("{v:.2} {currency}"),
            ImpactUnit::PerDay => format!("{v:.2} per day"),
            ImpactUnit::Score => format!("{v:.1}"),
        },
    }
}

fn difference_text(unit: ImpactUnit, currency: &str, x: f64) -> String {
    let sign = if x < 0.0 { "−" } else { "+" };
    match unit {
        ImpactUnit::Proportion => format!("{sign}{:.1} points", 100.0 * x.abs()),
        ImpactUnit::Money => format!("{sign}{:.2} {currency}", x.abs()),
        ImpactUnit::PerDay => format!("{sign}{:.2} per day", x.abs()),
        ImpactUnit::Score => format!("{sign}{:.1}", x.abs()),
    }
}

fn window_text(impact: &Impact, w: &WindowValue) -> String {
    let successes = w.successes.map_or(String::new(), |s| format!(", {s} succeeded"));
    format!(
        "{} ({} to {}, n = {} {}{successes})",
        value_text(impact.unit, &impact.currency, w.value),
        w.window.from,
        w.window.to,
        w.n,
        impact.n_means
    )
}

fn table_rows(impact: &Impact) -> Vec<Vec<String>> {
    let row = |what: &str, value: String| vec![what.to_string(), value];
    let (unit, currency) = (impact.unit, impact.currency.as_str());
    let mut rows = vec![
        row("change", format!("{} {} ({})", impact.change.id, impact.change.title, impact.change.date)),
        row("metric", format!("{} ({})", impact.label, impact.metric)),
        row("before", window_text(impact, &impact.before)),
        row("after", window_text(impact, &impact.after)),
    ];
    if let Some(c) = &impact.comparison {
        rows.push(row("test", c.test.describe().to_string()));
        rows.push(row("difference", difference_text(unit, currency, c.difference)));
        rows.push(row(
            &format!("{:.0}% CI", c.confidence * 100.0),
            format!("{} to {}", difference_text(unit, currency, c.ci.0), difference_text(unit, currency, c.ci.1)),
        ));
        if let Some(r) = c.rate_ratio {
            rows.push(row("rate ratio", format!("{:.2} ({:.2} to {:.2})", r.ratio, r.ci.0, r.ci.1)));
        }
        rows.push(row("p-value", format!("{:.4}", c.p_value)));
    }
    match (&impact.control, &impact.control_note) {
        (Some(control), _) => {
            let d = &control.did;
            rows.push(row(
                "difference in differences",
                format!(
                    "{} ({:.0}% CI {} to {}, p = {:.4}, n = {}) against {}",
                    difference_text(unit, currency, d.estimate),
                    d.confidence * 100.0,
                    difference_text(unit, currency, d.ci.0),
                    difference_text(unit, currency, d.ci.1),
                    d.p_value,
                    d.total_n(),
                    control.label
                ),
            ));
            rows.push(row("comparison group", control.verdict.clone()));
        }
        // The app's note says "choose a control metric" to every reader; here that is a flag.
        (None, Some(note)) => rows.push(row("difference in differences", note.replace("choose a control metric", "name one with --control"))),
        (None, None) => {}
    }
    if let Some(split) = &impact.split {
        rows.push(row(
            &format!("{} = {} (baseline)", split.property, split.baseline.variant),
            window_text(impact, &split.baseline.value),
        ));
        for (variant, _, verdict) in &split.variants {
            rows.push(row(&format!("{} = {}", split.property, variant.variant), format!("{}; {verdict}", window_text(impact, &variant.value))));
        }
    }
    rows.extend(impact.method.iter().map(|m| row("method", m.clone())));
    rows
}

const CSV_COLUMNS: [&str; 7] = ["part", "from", "to", "value", "n", "successes", "customers"];

fn csv_rows(impact: &Impact) -> Vec<Vec<String>> {
    let line = |part: String, w: &WindowValue| {
        vec![
            part,
            w.window.from.to_string(),
            w.window.to.to_string(),
            w.value.map_or(String::new(), |v| v.to_string()),
            w.n.to_string(),
            w.successes.map_or(String::new(), |s| s.to_string()),
            w.customers.len().to_string(),
        ]
    };
    let mut rows = vec![line("before".into(), &impact.before), line("after".into(), &impact.after)];
    if let Some(c) = &impact.control {
        rows.push(line("control before".into(), &c.before));
        rows.push(line("control after".into(), &c.after));
    }
    if let Some(split) = &impact.split {
        rows.push(line(format!("variant {}", split.baseline.variant), &split.baseline.value));
        for (variant, _, _) in &split.variants {
            rows.push(line(format!("variant {}", variant.variant), &variant.value));
        }
    }
    rows
}

pub fn run(app: &App, business: &Business, args: ImpactArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let request = ImpactRequest {
        window_days: args.days,
        ramp_up_days: args.ramp_up,
        control: args.control,
        split: args.split,
        confidence: args.confidence,
    };
    // The query's short names (`days`, `ramp_up`) are the flags' too; `main` writes them as flags.
    let impact = app.change_impact(business, ChangeId(args.id), &request).map_err(trailmap_app::query::ImpactQuery::field_names)?;
    let output = match format {
        Format::Csv => Output::new(&CSV_COLUMNS, csv_rows(&impact), &impact)?,
        _ => Output::new(&["what", "value"], table_rows(&impact), &impact)?.with_title(impact.verdict.clone()),
    };
    output.print(format, out)
}
