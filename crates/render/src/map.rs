//! The journey map drawn as one SVG: stages across, lanes down. Each stage column has its header,
//! optional live numbers under it (each a link to the customers behind it), its cards as wrapped
//! text boxes marked "assumption" or with an evidence badge, its touchpoints as chips, and a point
//! on every persona's emotion curve. The same SVG is the page's map and, through
//! [`crate::to_png`] and [`crate::to_pdf`], its PNG and PDF exports.

use crate::style::{self, GRID, MUTED, PAD, SMALL_SIZE, TRACK};
use crate::svg::{Anchor, Doc, Label, PathData, Svg, fit_text, text_width};

/// A journey map ready to draw: names already resolved, numbers already formatted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JourneyMapChart {
    pub title: String,
    /// A line under the title ("As is · owner Maya · review by 2026-01-15").
    pub subtitle: Option<String>,
    /// The card lanes' headings, top to bottom; each column has one card list per lane.
    pub lanes: Vec<String>,
    /// The names of the emotion curves (one per persona; one unnamed curve for a map without).
    pub personas: Vec<String>,
    pub stages: Vec<MapColumn>,
}

/// One stage of the map.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MapColumn {
    pub name: String,
    /// Live numbers shown under the header, in order.
    pub figures: Vec<MapFigure>,
    /// One list of cards per lane of [`JourneyMapChart::lanes`]; missing lists are empty.
    pub cards: Vec<Vec<MapCard>>,
    /// One score per persona curve, from -2 to +2; None where the persona has no score here.
    pub emotions: Vec<Option<f64>>,
    pub touchpoints: Vec<String>,
}

/// A number under a stage header: "Reach 1,204 (n)", opening its customers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MapFigure {
    pub label: String,
    pub value: String,
    pub href: Option<String>,
}

/// A card. `evidence` is the badge (the kind of evidence cited, "metric", "quote"...); a card
/// without evidence is drawn as an assumption, dashed and marked so.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MapCard {
    pub text: String,
    pub evidence: Option<String>,
    pub href: Option<String>,
}

const LABEL_COL: f64 = 110.0;
const COLUMN: f64 = 190.0;
const HEADER: f64 = 30.0;
const FIGURE_LINE: f64 = 16.0;
const LINE: f64 = 15.0;
const CARD_PAD: f64 = 6.0;
const CARD_GAP: f64 = 6.0;
const MAX_CARD_LINES: usize = 6;
const LANE_GAP: f64 = 10.0;
const EMOTION_LANE: f64 = 110.0;
const CHIP: f64 = 20.0;

/// Splits `text` into lines that fit `width`, at most `max_lines` (the last one cut with "…"
/// when text is left over). Words too long for a line are cut.
fn wrap(text: &str, width: f64, size: f64, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() { word.to_string() } else { format!("{current} {word}") };
        if text_width(&candidate, size) <= width {
            current = candidate;
        } else {
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            current = fit_text(word, width, size).0;
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            *last = fit_text(&format!("{last} …………"), width, size).0;
        }
    }
    lines
}

/// The height of a card with `lines` lines of text and its badge line.
fn card_height(lines: usize) -> f64 {
    2.0 * CARD_PAD + lines.max(1) as f64 * LINE + LINE
}

/// Touchpoint chips laid out in rows within `width`: (row, x offset, shown text, chip width).
fn chip_rows(names: &[String], width: f64) -> Vec<(usize, f64, String, f64)> {
    let mut out = Vec::new();
    let (mut row, mut x) = (0, 0.0);
    for name in names {
        let (shown, _) = fit_text(name, width - 12.0, SMALL_SIZE);
        let w = (text_width(&shown, SMALL_SIZE) + 12.0).min(width);
        if x > 0.0 && x + w > width {
            row += 1;
            x = 0.0;
        }
        out.push((row, x, shown, w));
        x += w + 4.0;
    }
    out
}

impl JourneyMapChart {
    pub fn render(&self) -> Svg {
        let k = self.stages.len();
        let width = 2.0 * PAD + LABEL_COL + COLUMN * k.max(1) as f64;
        let text_width_in_card = COLUMN - 8.0 - 2.0 * CARD_PAD;
        let top = PAD + if self.subtitle.is_some() { 44.0 } else { 28.0 };
        // Wrap every card once; the layout and the drawing both use the lines.
        let wrapped: Vec<Vec<Vec<Vec<String>>>> = self
            .stages
            .iter()
            .map(|stage| {
                (0..self.lanes.len())
                    .map(|lane| {
                        stage.cards.get(lane).map_or_else(Vec::new, |cards| {
                            cards.iter().map(|c| wrap(&c.text, text_width_in_card, SMALL_SIZE, MAX_CARD_LINES)).collect()
                        })
                    })
                    .collect()
            })
            .collect();
        let figures = self.stages.iter().map(|s| s.figures.len()).max().unwrap_or(0);
        let header_height = HEADER + figures as f64 * FIGURE_LINE;
        let lane_heights: Vec<f64> = (0..self.lanes.len())
            .map(|lane| {
                let tallest = wrapped
                    .iter()
                    .map(|stage| stage[lane].iter().map(|lines| card_height(lines.len()) + CARD_GAP).sum::<f64>())
                    .fold(0.0, f64::max);
                tallest.max(LINE + 2.0 * CARD_PAD)
            })
            .collect();
        let chip_rows_needed = self
            .stages
            .iter()
            .map(|s| chip_rows(&s.touchpoints, COLUMN - 8.0).last().map_or(1, |c| c.0 + 1))
            .max()
            .unwrap_or(1);
        let touchpoint_lane = chip_rows_needed as f64 * (CHIP + 4.0) + 4.0;
        let legend = if self.personas.len() > 1 || self.personas.iter().any(|p| !p.is_empty()) { 22.0 } else { 0.0 };
        let height = top
            + header_height
            + lane_heights.iter().map(|h| h + LANE_GAP).sum::<f64>()
            + EMOTION_LANE
            + LANE_GAP
            + touchpoint_lane
            + legend
            + PAD;
        let mut doc = Doc::new(width, height, &self.title);
        doc.heading(&self.title);
        if let Some(subtitle) = &self.subtitle {
            doc.label(Label::new(PAD, PAD + 30.0, subtitle).size(SMALL_SIZE).color(MUTED).max_width(width - 2.0 * PAD));
        }
        if self.stages.is_empty() {
            doc.no_data();
            return doc.finish();
        }
        let left = PAD + LABEL_COL;
        let column_x = |i: usize| left + i as f64 * COLUMN;

        // Stage headers and their live numbers.
        for (i, stage) in self.stages.iter().enumerate() {
            let x = column_x(i);
            doc.rect(x + 2.0, top, COLUMN - 4.0, HEADER - 4.0, &[("fill", style::color(0).into()), ("rx", 4.0.into())]);
            doc.label(
                Label::new(x + COLUMN / 2.0, top + 17.0, &stage.name)
                    .anchor(Anchor::Middle)
                    .color(style::BACKGROUND)
                    .max_width(COLUMN - 16.0),
            );
            for (j, figure) in stage.figures.iter().enumerate() {
                let text = format!("{} {}", figure.label, figure.value);
                let link = doc.open_link(figure.href.as_deref(), &format!("{}: {}", figure.label, figure.value));
                doc.label(
                    Label::new(x + 6.0, top + HEADER + 11.0 + j as f64 * FIGURE_LINE, &text).size(SMALL_SIZE).max_width(COLUMN - 12.0),
                );
                doc.close_link(link);
            }
        }

        // Card lanes.
        let mut y = top + header_height;
        for (lane, title) in self.lanes.iter().enumerate() {
            let h = lane_heights[lane];
            doc.rect(PAD, y, width - 2.0 * PAD, h, &[("fill", TRACK.into()), ("rx", 4.0.into())]);
            doc.label(Label::new(PAD + 6.0, y + 16.0, title).max_width(LABEL_COL - 10.0));
            for (i, stage) in self.stages.iter().enumerate() {
                let mut card_y = y + CARD_PAD;
                let Some(cards) = stage.cards.get(lane) else { continue };
                for (card, lines) in cards.iter().zip(&wrapped[i][lane]) {
                    let ch = card_height(lines.len());
                    let x = column_x(i) + 4.0;
                    let link = doc.open_link(card.href.as_deref(), &card.text);
                    let mut attrs = vec![("fill", style::BACKGROUND.into()), ("rx", 3.0.into()), ("stroke", GRID.into())];
                    if card.evidence.is_none() {
                        attrs = vec![
                            ("fill", style::BACKGROUND.into()),
                            ("rx", 3.0.into()),
                            ("stroke", style::AXIS.into()),
                            ("stroke-dasharray", "4 3".into()),
                        ];
                    }
                    doc.rect(x, card_y, COLUMN - 8.0, ch, &attrs);
                    for (l, line) in lines.iter().enumerate() {
                        doc.label(Label::new(x + CARD_PAD, card_y + CARD_PAD + 11.0 + l as f64 * LINE, line).size(SMALL_SIZE));
                    }
                    let badge_y = card_y + CARD_PAD + lines.len().max(1) as f64 * LINE + 10.0;
                    match &card.evidence {
                        Some(kind) => {
                            let text = format!("✓ {kind}");
                            let w = text_width(&text, 9.0) + 8.0;
                            doc.rect(x + CARD_PAD, badge_y - 9.0, w, 12.0, &[("fill", style::color(2).into()), ("rx", 2.0.into())]);
                            doc.label(Label::new(x + CARD_PAD + 4.0, badge_y, &text).size(9.0).color(style::BACKGROUND));
                        }
                        None => doc.label(Label::new(x + CARD_PAD, badge_y, "assumption").size(9.0).color(MUTED)),
                    }
                    doc.close_link(link);
                    card_y += ch + CARD_GAP;
                }
            }
            y += h + LANE_GAP;
        }

        // Emotions: a dashed neutral line and one curve per persona, -2 at the bottom, +2 at the top.
        doc.rect(PAD, y, width - 2.0 * PAD, EMOTION_LANE, &[("fill", TRACK.into()), ("rx", 4.0.into())]);
        doc.label(Label::new(PAD + 6.0, y + 16.0, "Emotions").max_width(LABEL_COL - 10.0));
        let (plot_top, plot_bottom) = (y + 12.0, y + EMOTION_LANE - 12.0);
        let score_y = |score: f64| {
            let s = if score.is_finite() { score.clamp(-2.0, 2.0) } else { 0.0 };
            plot_bottom - (s + 2.0) / 4.0 * (plot_bottom - plot_top)
        };
        for (score, text) in [(2.0, "+2"), (0.0, "0"), (-2.0, "−2")] {
            doc.label(Label::new(left - 6.0, score_y(score) + 4.0, text).size(9.0).color(MUTED).anchor(Anchor::End));
        }
        doc.line(left, score_y(0.0), column_x(self.stages.len()), score_y(0.0), style::AXIS, &[("stroke-dasharray", "3 3".into())]);
        for (p, persona) in self.personas.iter().enumerate() {
            let color = style::color(p + 1);
            let points: Vec<(f64, f64, f64)> = self
                .stages
                .iter()
                .enumerate()
                .filter_map(|(i, stage)| {
                    let score = stage.emotions.get(p).copied().flatten().filter(|s| s.is_finite())?;
                    Some((column_x(i) + COLUMN / 2.0, score_y(score), score))
                })
                .collect();
            let mut path = PathData::default();
            for (j, (x, py, _)) in points.iter().enumerate() {
                if j == 0 { path.move_to(*x, *py) } else { path.line_to(*x, *py) };
            }
            if points.len() > 1 {
                doc.empty("path", &[("d", path.into_string().into()), ("fill", "none".into()), ("stroke", color.into()), ("stroke-width", 2.0.into())]);
            }
            for (x, py, score) in &points {
                let name = if persona.is_empty() { "Emotion".to_string() } else { persona.clone() };
                doc.open("g", &[]);
                doc.title(&format!("{name}: {score:+.1}"));
                doc.empty("circle", &[("cx", (*x).into()), ("cy", (*py).into()), ("r", 4.0.into()), ("fill", color.into())]);
                doc.close("g");
            }
        }
        y += EMOTION_LANE + LANE_GAP;

        // Touchpoints as chips.
        doc.rect(PAD, y, width - 2.0 * PAD, touchpoint_lane, &[("fill", TRACK.into()), ("rx", 4.0.into())]);
        doc.label(Label::new(PAD + 6.0, y + 16.0, "Touchpoints").max_width(LABEL_COL - 10.0));
        for (i, stage) in self.stages.iter().enumerate() {
            for (row, dx, shown, w) in chip_rows(&stage.touchpoints, COLUMN - 8.0) {
                let (cx, cy) = (column_x(i) + 4.0 + dx, y + 4.0 + row as f64 * (CHIP + 4.0));
                doc.rect(cx, cy, w, CHIP, &[("fill", style::BACKGROUND.into()), ("stroke", style::color(5).into()), ("rx", 10.0.into())]);
                doc.label(Label::new(cx + 6.0, cy + 14.0, &shown).size(SMALL_SIZE));
            }
        }
        y += touchpoint_lane;

        // The legend names the curves when there is more than one or they have names.
        if legend > 0.0 {
            let mut x = left;
            for (p, persona) in self.personas.iter().enumerate() {
                let name = if persona.is_empty() { "Emotion" } else { persona.as_str() };
                doc.rect(x, y + 8.0, 12.0, 4.0, &[("fill", style::color(p + 1).into())]);
                doc.label(Label::new(x + 16.0, y + 14.0, name).size(SMALL_SIZE));
                x += text_width(name, SMALL_SIZE) + 36.0;
            }
        }
        doc.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_fits_the_width_and_caps_the_lines() {
        let lines = wrap("Morning queues of ten minutes or more at the counter", 100.0, 11.0, 6);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| text_width(l, 11.0) <= 100.0 + 0.01), "{lines:?}");
        assert_eq!(lines.join(" "), "Morning queues of ten minutes or more at the counter");
        let capped = wrap(&"word ".repeat(200), 100.0, 11.0, 3);
        assert_eq!(capped.len(), 3);
        assert!(capped[2].ends_with('…'));
        assert!(wrap("", 100.0, 11.0, 3).is_empty());
    }
}
