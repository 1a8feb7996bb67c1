//! Funnel charts: one bar per step with its count, its share of step 1, the conversion from the
//! previous step and the drop-off between steps. Every step shows its n.

use crate::format::ValueFormat;
use crate::style::{self, MUTED, PAD, SMALL_SIZE, TRACK};
use crate::svg::{Doc, Label, Svg};

/// One step of a funnel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunnelStep {
    pub label: String,
    /// Customers who reached this step.
    pub count: u64,
    /// Opens the customers who reached this step.
    pub href: Option<String>,
    /// Opens the customers who reached the previous step but not this one.
    pub dropped_href: Option<String>,
}

/// A funnel. Its height grows with the number of steps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunnelChart {
    pub title: String,
    pub steps: Vec<FunnelStep>,
    /// `None`: 640 wide.
    pub width: Option<f64>,
}

const STEP: f64 = 34.0;
const GAP: f64 = 20.0;

impl FunnelChart {
    pub fn render(&self) -> Svg {
        let width = self.width.unwrap_or(640.0);
        let top = PAD + 30.0;
        let k = self.steps.len() as f64;
        let height = if self.steps.is_empty() { 160.0 } else { top + k * STEP + (k - 1.0) * GAP + PAD };
        let mut doc = Doc::new(width, height, &self.title);
        doc.heading(&self.title);
        let Some(first) = self.steps.first() else {
            doc.no_data();
            return doc.finish();
        };
        let width = doc.width;
        let label_col = (width * 0.26).min(180.0);
        let bar_left = PAD + label_col + 8.0;
        let bar_right = width - PAD;
        let max = self.steps.iter().map(|s| s.count).max().unwrap_or(0);
        let count = |n: u64| ValueFormat::Count.format(n as f64);
        let share = |part: u64, whole: u64| if whole == 0 { "–".to_string() } else { ValueFormat::Percent.format(part as f64 / whole as f64) };
        let mut y = top;
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                let prev = &self.steps[i - 1];
                let dropped = prev.count.saturating_sub(step.count);
                let text = format!("↓ {} continue · {} dropped", share(step.count, prev.count), count(dropped));
                let link = doc.open_link(step.dropped_href.as_deref(), &format!("Dropped between {} and {}: {}", prev.label, step.label, count(dropped)));
                doc.label(Label::new(bar_left + 4.0, y - GAP / 2.0 + 4.0, &text).size(SMALL_SIZE).color(MUTED).max_width(bar_right - bar_left));
                doc.close_link(link);
            }
            doc.label(Label::new(PAD, y + STEP / 2.0 + 4.0, &step.label).max_width(label_col));
            let text = format!("{} · {} of step 1", count(step.count), share(step.count, first.count));
            let link = doc.open_link(step.href.as_deref(), &format!("{}: {} (n={})", step.label, text, step.count));
            doc.rect(bar_left, y, bar_right - bar_left, STEP, &[("fill", TRACK.into()), ("rx", 3.0.into())]);
            let fraction = if max == 0 { 0.0 } else { step.count as f64 / max as f64 };
            doc.rect(bar_left, y, (bar_right - bar_left) * fraction, STEP, &[("fill", style::color(0).into()), ("rx", 3.0.into())]);
            // The count sits on the track after the bar when the bar is short, inside it otherwise.
            let bar_end = bar_left + (bar_right - bar_left) * fraction;
            let text_w = crate::svg::text_width(&text, style::FONT_SIZE) + 12.0;
            let label = if bar_end - bar_left >= text_w {
                Label::new(bar_left + 8.0, y + STEP / 2.0 + 4.0, &text).color(style::BACKGROUND)
            } else {
                Label::new(bar_end + 6.0, y + STEP / 2.0 + 4.0, &text).max_width((bar_right - bar_end - 8.0).max(24.0))
            };
            doc.label(label);
            doc.close_link(link);
            y += STEP + GAP;
        }
        doc.finish()
    }
}
