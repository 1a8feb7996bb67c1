//! Horizontal bar charts: one labelled bar per category with its value (e.g. new customers by
//! channel), optionally with a thinner comparison bar (e.g. the previous period) under it.

use crate::format::{ValueFormat, clean};
use crate::style::{self, AXIS, MUTED, PAD, SMALL_SIZE};
use crate::svg::{Anchor, Doc, Label, Svg, text_width};

/// One category.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bar {
    pub label: String,
    /// The value; non-finite counts as 0. Negative values draw to the left of the zero line.
    pub value: f64,
    /// The comparison value (e.g. the previous period), drawn as a thinner bar under this one.
    pub comparison: Option<f64>,
    /// The sample size behind the value when it is not itself a count (a rate, an average).
    pub n: Option<u64>,
    /// Opens the customers behind the value.
    pub href: Option<String>,
}

/// A horizontal bar chart. Its height grows with the number of bars.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarChart {
    pub title: String,
    pub format: ValueFormat,
    pub bars: Vec<Bar>,
    /// Legend names for the main and the comparison bars, shown when any bar has a comparison.
    pub value_name: String,
    pub comparison_name: String,
    /// `None`: 640 wide. The height is always computed from the bars.
    pub width: Option<f64>,
}

const ROW: f64 = 30.0;

impl BarChart {
    pub fn render(&self) -> Svg {
        let width = self.width.unwrap_or(640.0);
        let has_comparison = self.bars.iter().any(|b| b.comparison.is_some());
        let top = PAD + if has_comparison { 52.0 } else { 30.0 };
        let rows = self.bars.len().max(1) as f64;
        let height = if self.bars.is_empty() { 160.0 } else { top + rows * ROW + PAD };
        let mut doc = Doc::new(width, height, &self.title);
        doc.heading(&self.title);
        if self.bars.is_empty() {
            doc.no_data();
            return doc.finish();
        }
        let width = doc.width;
        if has_comparison {
            let y = PAD + 36.0;
            let mut x = PAD;
            for (name, color) in [(&self.value_name, style::color(0)), (&self.comparison_name, style::color(1))] {
                doc.rect(x, y - 9.0, 10.0, 10.0, &[("fill", color.into())]);
                doc.label(Label::new(x + 14.0, y, name).size(SMALL_SIZE).color(MUTED).max_width(180.0));
                x += 14.0 + text_width(name, SMALL_SIZE).min(180.0) + 18.0;
            }
        }
        let value = |v: f64| clean(v).unwrap_or(0.0);
        let all = self.bars.iter().flat_map(|b| std::iter::once(value(b.value)).chain(b.comparison.map(value)));
        let (min, max) = all.fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let labels: Vec<String> = self.bars.iter().map(|b| self.value_text(b)).collect();
        let label_col = (width * 0.28).min(200.0);
        let value_col = labels.iter().map(|t| text_width(t, SMALL_SIZE)).fold(0.0, f64::max).min(width * 0.25) + 8.0;
        let plot_left = PAD + label_col + 8.0;
        let plot_right = width - PAD - value_col;
        // Negative values need room on the left for their value text as well.
        let (plot_left, neg_room) = if min < 0.0 { (plot_left + value_col, value_col) } else { (plot_left, 0.0) };
        let span = (max - min).max(f64::MIN_POSITIVE);
        let x_of = |v: f64| plot_left + (v - min) / span * (plot_right - plot_left).max(1.0);
        let zero = x_of(0.0);
        for (i, (bar, text)) in self.bars.iter().zip(&labels).enumerate() {
            let y = top + i as f64 * ROW;
            doc.label(Label::new(PAD, y + 15.0, &bar.label).max_width(label_col));
            let v = value(bar.value);
            let bar_h = if bar.comparison.is_some() { 13.0 } else { 18.0 };
            let tip = format!("{}: {}", bar.label, text);
            let link = doc.open_link(bar.href.as_deref(), &tip);
            let (x0, x1) = (x_of(v.min(0.0)), x_of(v.max(0.0)));
            doc.rect(x0, y + 2.0, (x1 - x0).max(if v != 0.0 { 1.0 } else { 0.0 }), bar_h, &[("fill", style::color(0).into()), ("rx", 2.0.into())]);
            let (tx, anchor) = if v < 0.0 { (x0 - 4.0, Anchor::End) } else { (x1 + 4.0, Anchor::Start) };
            doc.label(Label::new(tx, y + 2.0 + bar_h / 2.0 + 4.0, text).size(SMALL_SIZE).anchor(anchor).max_width(value_col.max(neg_room)));
            doc.close_link(link);
            if let Some(c) = bar.comparison {
                let c = value(c);
                let (c0, c1) = (x_of(c.min(0.0)), x_of(c.max(0.0)));
                doc.open("g", &[]);
                doc.title(&format!("{} ({}): {}", bar.label, self.comparison_name, self.format.format(c)));
                doc.rect(c0, y + 17.0, (c1 - c0).max(if c != 0.0 { 1.0 } else { 0.0 }), 7.0, &[("fill", style::color(1).into()), ("rx", 1.5.into())]);
                doc.close("g");
            }
        }
        doc.line(zero, top - 2.0, zero, top + rows * ROW - 4.0, AXIS, &[]);
        doc.finish()
    }

    fn value_text(&self, bar: &Bar) -> String {
        let text = self.format.format(clean(bar.value).unwrap_or(0.0));
        match bar.n {
            Some(n) => format!("{text} (n={})", ValueFormat::Count.format(n as f64)),
            None => text,
        }
    }
}
