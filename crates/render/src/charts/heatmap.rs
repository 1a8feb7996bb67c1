//! Retention heatmaps: one row per first-purchase cohort with its size n, one column per period
//! since the first purchase, each cell coloured by its rate and showing it; missing cells blank.

use crate::format::{ValueFormat, clean};
use crate::style::{self, MUTED, PAD, SMALL_SIZE};
use crate::svg::{Anchor, Doc, Label, Svg};

/// One cell: the share of the cohort that bought again in that period.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeatCell {
    /// 0..=1; values outside are clamped, non-finite ones shown as blank.
    pub rate: f64,
    /// Opens the customers counted in the cell.
    pub href: Option<String>,
}

/// One cohort.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CohortRow {
    /// e.g. "Nov 2025".
    pub label: String,
    /// Customers in the cohort (the n every rate in the row is a share of).
    pub size: u64,
    /// Cells by period since the first purchase, from period 0; `None` for a period not yet
    /// reached (drawn blank).
    pub cells: Vec<Option<HeatCell>>,
    pub href: Option<String>,
}

/// A retention heatmap. Its height grows with the number of cohorts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Heatmap {
    pub title: String,
    /// What a column is: "Month", "Week".
    pub period_name: String,
    pub cohorts: Vec<CohortRow>,
    /// The rate that gets the darkest colour. `None`: the highest rate in the table (so that
    /// typical repeat rates of 5–30% are not all pale).
    pub scale_max: Option<f64>,
    /// `None`: 640 wide.
    pub width: Option<f64>,
}

const ROW: f64 = 24.0;

impl Heatmap {
    pub fn render(&self) -> Svg {
        let width = self.width.unwrap_or(640.0);
        let periods = self.cohorts.iter().map(|c| c.cells.len()).max().unwrap_or(0);
        let top = PAD + 66.0;
        let empty = periods == 0;
        let height = if empty { 160.0 } else { top + self.cohorts.len() as f64 * ROW + PAD + 20.0 };
        let mut doc = Doc::new(width, height, &self.title);
        doc.heading(&self.title);
        if empty {
            doc.no_data();
            return doc.finish();
        }
        let width = doc.width;
        let rate = |cell: &HeatCell| clean(cell.rate).map(|r| r.clamp(0.0, 1.0));
        let table_max = self.cohorts.iter().flat_map(|c| c.cells.iter().flatten()).filter_map(rate).fold(0.0, f64::max);
        let scale_max = self.scale_max.and_then(clean).filter(|m| *m > 0.0).unwrap_or(table_max).max(f64::MIN_POSITIVE);
        let label_col = (width * 0.18).min(110.0);
        let size_col = 56.0;
        let cells_left = PAD + label_col + size_col;
        let cell_w = ((width - PAD - cells_left) / periods as f64).max(1.0);
        let header_y = top - 8.0;
        doc.label(Label::new(cells_left, PAD + 36.0, &format!("{} since first purchase", self.period_name)).size(SMALL_SIZE).color(MUTED).max_width(width - cells_left - PAD));
        doc.label(Label::new(PAD, header_y, "Cohort").size(SMALL_SIZE).color(MUTED));
        doc.label(Label::new(cells_left - 8.0, header_y, "n").size(SMALL_SIZE).color(MUTED).anchor(Anchor::End));
        for p in 0..periods {
            let x = cells_left + (p as f64 + 0.5) * cell_w;
            doc.label(Label::new(x, header_y, &p.to_string()).size(SMALL_SIZE).color(MUTED).anchor(Anchor::Middle));
        }
        let cell_font = if cell_w < 34.0 { 9.0 } else { SMALL_SIZE };
        for (r, cohort) in self.cohorts.iter().enumerate() {
            let y = top + r as f64 * ROW;
            let link = doc.open_link(cohort.href.as_deref(), &format!("{}: {} customers", cohort.label, cohort.size));
            doc.label(Label::new(PAD, y + 16.0, &cohort.label).max_width(label_col - 6.0));
            doc.close_link(link);
            doc.label(Label::new(cells_left - 8.0, y + 16.0, &ValueFormat::Count.format(cohort.size as f64)).size(SMALL_SIZE).color(MUTED).anchor(Anchor::End));
            for (p, cell) in cohort.cells.iter().enumerate() {
                let x = cells_left + p as f64 * cell_w;
                let Some((cell, value)) = cell.as_ref().and_then(|c| rate(c).map(|v| (c, v))) else { continue };
                let t = value / scale_max;
                let text = ValueFormat::Percent.format(value);
                let tip = format!("{}, {} {}: {} of {}", cohort.label, self.period_name, p, text, cohort.size);
                let link = doc.open_link(cell.href.as_deref(), &tip);
                doc.rect(x + 1.0, y + 1.0, cell_w - 2.0, ROW - 2.0, &[("fill", style::sequential(t).into())]);
                let color = if style::needs_light_text(t) { style::BACKGROUND } else { style::TEXT };
                if cell_w >= 22.0 {
                    doc.label(Label::new(x + cell_w / 2.0, y + 16.0, &text).size(cell_font).color(color).anchor(Anchor::Middle).max_width(cell_w - 2.0));
                }
                doc.close_link(link);
            }
        }
        // Legend: the scale from 0 to its maximum.
        let legend_y = top + self.cohorts.len() as f64 * ROW + 8.0;
        let steps = 5;
        for s in 0..steps {
            let t = s as f64 / (steps - 1) as f64;
            doc.rect(cells_left + s as f64 * 16.0, legend_y, 16.0, 10.0, &[("fill", style::sequential(t).into())]);
        }
        let legend_text = format!("0% → {}", ValueFormat::Percent.format(scale_max.min(1.0)));
        doc.label(Label::new(cells_left + steps as f64 * 16.0 + 6.0, legend_y + 9.0, &legend_text).size(SMALL_SIZE).color(MUTED));
        doc.rect(cells_left + steps as f64 * 16.0 + 80.0, legend_y, 16.0, 10.0, &[("fill", style::BACKGROUND.into()), ("stroke", style::AXIS.into())]);
        doc.label(Label::new(cells_left + steps as f64 * 16.0 + 100.0, legend_y + 9.0, "blank: not yet reached").size(SMALL_SIZE).color(MUTED));
        doc.finish()
    }
}
