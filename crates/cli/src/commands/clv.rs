//! `trailmap clv`: historical and predicted customer lifetime value by channel, touchpoint or
//! cohort, with the fitted model, its time unit and rules, and an optional holdout check.

use crate::output::{Format, Output};
use anyhow::Context;
use serde::Serialize;
use std::io::Write;
use trailmap_app::App;
use trailmap_model::Timestamp;

#[derive(Debug, clap::Args)]
pub struct ClvArgs {
    /// The model: bgnbd or pareto-nbd (repeat purchases), or gamma-gamma (spend per purchase;
    /// purchases then by BG/NBD).
    #[arg(long, default_value = "bgnbd")]
    model: String,
    /// Periods to predict over, in --unit.
    #[arg(long, default_value_t = 52)]
    horizon: u32,
    /// Time unit of the models: weeks or days.
    #[arg(long, default_value = "week")]
    unit: String,
    /// Discount rate per period.
    #[arg(long, default_value_t = 0.01)]
    discount: f64,
    /// Group by channel (of the first event), touchpoint (first matched) or cohort (first purchase month).
    #[arg(long, default_value = "channel")]
    by: String,
    /// The last day of the calibration period (YYYY-MM-DD), included, as lifetimes'
    /// calibration_period_end: the models read the orders up to the end of DATE, every value is
    /// as of then, and the predictions are checked against the orders after it (the holdout).
    /// Default: all the data, up to the day of the last order.
    #[arg(long, value_name = "DATE", visible_alias = "holdout")]
    until: Option<String>,
    /// End of the data (YYYY-MM-DD, exclusive). Default: the end of the day of the last order
    /// (other events do not move it).
    #[arg(long, value_name = "DATE")]
    now: Option<String>,
}

/// A YYYY-MM-DD date as midnight UTC.
pub fn parse_date(argument: &str, text: &str) -> anyhow::Result<Timestamp> {
    Timestamp::parse_rfc3339(&format!("{}T00:00:00Z", text.trim()))
        .map_err(|_| anyhow::anyhow!("{argument} {text:?} is not a date (expected YYYY-MM-DD)"))
}

pub fn run(app: &App, business: Option<&str>, args: ClvArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let mut request = app.clv_request();
    request.model = args.model.parse().map_err(|e: String| anyhow::anyhow!("--model: {e}"))?;
    request.unit = args.unit.parse().map_err(|e: String| anyhow::anyhow!("--unit: {e}"))?;
    request.by = args.by.parse().map_err(|e: String| anyhow::anyhow!("--by: {e}"))?;
    request.horizon = args.horizon;
    request.discount = args.discount;
    request.until = args.until.as_deref().map(|d| parse_date("--until", d).map(|t| t.date())).transpose()?;
    request.now = args.now.as_deref().map(|d| parse_date("--now", d)).transpose()?;
    let report = app.clv(&business, &request).with_context(|| format!("customer lifetime value of {}", business.name))?;
    if format == Format::Json {
        // The whole report, every customer's predictions included, written from the report
        // itself (not through a JSON value of it, which cost more than the models).
        return write_report_json(report, out);
    }
    let rows = report
        .groups
        .iter()
        .map(|g| {
            vec![
                g.group.clone(),
                g.customers.to_string(),
                format!("{:.2}", g.historical.mean),
                interval(g.historical.ci95_low, g.historical.ci95_high),
                g.predicted.as_ref().map_or("-".to_string(), |p| format!("{:.2}", p.mean)),
                g.predicted.as_ref().map_or("-".to_string(), |p| interval(p.ci95_low, p.ci95_high)),
            ]
        })
        .collect();
    let unit = serde_json::to_value(report.unit)?;
    let title = format!(
        "Customer value of {} by {} ({} customers; {} {}s ahead at {}/period; model {} {}; now {} = {}; {} {})",
        report.business,
        serde_json::to_value(report.grouped_by)?.as_str().unwrap_or(""),
        report.customers.len(),
        report.horizon,
        unit.as_str().unwrap_or(""),
        report.discount_per_period,
        serde_json::to_value(report.model)?.as_str().unwrap_or(""),
        report.parameters.as_ref().map_or("not fitted".to_string(), |p| p.to_string()),
        report.now,
        report.now_rule,
        report.currency,
        report.interval_rule,
    );
    let mut output = Output::rows_only(&["group", "customers", "historical mean", "95% CI", "predicted mean", "95% CI"], rows).with_title(title);
    if format == Format::Table {
        output.print(format, out)?;
        if let Some(e) = &report.prediction_error {
            writeln!(out, "No predictions: {e}.")?;
        }
        for fit in [&report.purchase_model, &report.spend_model] {
            match (&fit.log_likelihood, &fit.error) {
                (Some(ll), _) => writeln!(out, "{}: log-likelihood {ll:.2} over {} customers.", fit.model, fit.fitted_customers.unwrap_or(0))?,
                (None, Some(e)) if fit.model == "Gamma-Gamma" => writeln!(out, "Spend per purchase: {e}; each customer's average order value is used.")?,
                _ => {}
            }
        }
        writeln!(out, "Summary: {}.", report.summarising_rule)?;
        writeln!(out, "Value: {}.", report.value_rule)?;
        if let Some(h) = &report.holdout {
            writeln!(
                out,
                "Holdout ({:.1} {}s, {} customers): predicted {:.1} purchases, actual {:.0}.",
                h.holdout_length,
                unit.as_str().unwrap_or(""),
                h.customers,
                h.predicted_total,
                h.actual_total
            )?;
            for b in &h.buckets {
                writeln!(out, "  frequency {}: {} customers, predicted {:.2}, actual {:.2} per customer", b.frequency, b.customers, b.predicted_mean, b.actual_mean)?;
            }
        }
        return Ok(());
    }
    // CSV carries the per-group table.
    output.title = None;
    output.print(format, out)
}

/// serde_json's pretty formatter (two spaces a level, `": "` after a key) starting `indent`
/// levels deep, as it is at a row of the report's list of customers: its methods are those of
/// `serde_json::ser::PrettyFormatter`, whose depth cannot be set.
struct RowFormatter {
    indent: usize,
    has_value: bool,
}

impl RowFormatter {
    fn newline<W: ?Sized + Write>(&self, writer: &mut W, first: bool) -> std::io::Result<()> {
        writer.write_all(if first { b"\n" } else { b",\n" })?;
        (0..self.indent).try_for_each(|_| writer.write_all(b"  "))
    }

    /// An array or an object begins: one level deeper, nothing in it yet.
    fn open<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.indent += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    /// It ends: its closing bracket on a line of its own unless it was empty.
    fn close<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.indent -= 1;
        if self.has_value {
            writer.write_all(b"\n")?;
            (0..self.indent).try_for_each(|_| writer.write_all(b"  "))?;
        }
        writer.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for RowFormatter {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        self.newline(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.end_object_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        self.newline(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Customers written per batch: each batch's rows are serialised on every core at once, then
/// written in order, so the output never sits whole in memory.
const JSON_BATCH: usize = 16_384;

/// Writes the report exactly as [`crate::output::write_json`] would (the test below holds it to
/// that), with the rows of its customers, most of its bytes (750 MB at a million customers),
/// serialised on every core. Pretty JSON puts every row at the same depth, two levels in, so a
/// row serialised on its own by a formatter starting there ([`RowFormatter`]) is the row in
/// place; the rest of the report is serialised with an empty list of customers, whose one line
/// the rows then replace. A string never holds a raw newline (JSON escapes it), so that line is
/// found for certain.
pub fn write_report_json(report: trailmap_app::ClvReport, out: &mut dyn Write) -> anyhow::Result<()> {
    write_report_json_in(report, out, JSON_BATCH)
}

fn write_report_json_in(mut report: trailmap_app::ClvReport, out: &mut dyn Write, batch_rows: usize) -> anyhow::Result<()> {
    use rayon::prelude::*;
    const EMPTY: &[u8] = b"\n  \"customers\": [],\n";
    let customers = std::mem::take(&mut report.customers);
    let head = serde_json::to_vec_pretty(&report)?;
    let at = match head.windows(EMPTY.len()).rposition(|w| w == EMPTY) {
        Some(at) if !customers.is_empty() => at,
        _ => {
            report.customers = customers;
            return crate::output::write_json(&report, out);
        }
    };
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, out);
    // Up to and including `"customers": [`.
    buffered.write_all(&head[..at + EMPTY.len() - 3])?;
    for (batch, rows) in customers.chunks(batch_rows).enumerate() {
        let parts: Vec<Vec<u8>> = rows
            .par_chunks(batch_rows.div_ceil(16))
            .enumerate()
            .map(|(part, rows)| -> anyhow::Result<Vec<u8>> {
                let mut bytes = Vec::with_capacity(rows.len() * 800);
                for (i, customer) in rows.iter().enumerate() {
                    bytes.extend_from_slice(if batch == 0 && part == 0 && i == 0 { b"\n    " } else { b",\n    " });
                    customer.serialize(&mut serde_json::Serializer::with_formatter(&mut bytes, RowFormatter { indent: 2, has_value: false }))?;
                }
                Ok(bytes)
            })
            .collect::<anyhow::Result<_>>()?;
        for part in parts {
            buffered.write_all(&part)?;
        }
    }
    buffered.write_all(b"\n  ]")?;
    // From the comma after the empty list on.
    buffered.write_all(&head[at + EMPTY.len() - 2..])?;
    buffered.write_all(b"\n")?;
    buffered.flush()?;
    Ok(())
}

fn interval(low: Option<f64>, high: Option<f64>) -> String {
    match (low, high) {
        (Some(l), Some(h)) => format!("{l:.2} .. {h:.2}"),
        _ => "n < 2".to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_report_written_in_parallel_is_the_report_written_whole_byte_for_byte() {
        let mut fixture = String::new();
        for i in 0..9 {
            fixture.push_str(&format!("customer r{i}\n  2025-03-0{} 10:00:00 store_visit channel=Referral\n", i + 1));
            for k in 0..=i {
                fixture.push_str(&format!("  +{}d order total={}.50\n", if k == 0 { 0 } else { (k * 5 + i * 3) % 11 + 1 }, 10 + k * 3 + i));
            }
            fixture.push_str(&format!("customer s{i}\n  2025-03-0{} 11:00:00 page_view channel=\"Paid Social\"\n  +1h order total=5.00\n", i + 1));
        }
        let mut app = App::in_memory().unwrap();
        let business = app.business(None).unwrap();
        app.write_fixture(&trailmap_testkit::journeys(&fixture).unwrap(), &business).unwrap();
        let report = app.clv(&business, &app.clv_request()).unwrap();
        assert_eq!(report.customers.len(), 18);
        let mut whole = Vec::new();
        crate::output::write_json(&report, &mut whole).unwrap();
        // Batches of every size: one row, rows split across parts and batches, all in one.
        for batch in [1, 2, 5, 16, 17, 40, JSON_BATCH] {
            let mut parallel = Vec::new();
            write_report_json_in(report.clone(), &mut parallel, batch).unwrap();
            assert_eq!(String::from_utf8(parallel).unwrap(), String::from_utf8(whole.clone()).unwrap(), "batches of {batch}");
        }
        // No customers: the report as it is.
        let mut empty = report.clone();
        empty.customers.clear();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        crate::output::write_json(&empty, &mut a).unwrap();
        write_report_json(empty, &mut b).unwrap();
        assert_eq!(a, b);
    }
}
