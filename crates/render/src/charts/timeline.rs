//! One customer's timeline: events in time order as a vertical list grouped by day, each with
//! its time, a marker whose shape and colour say its kind, and its label.

use crate::style::{self, GRID, MUTED, PAD, SMALL_SIZE};
use crate::svg::{Doc, Label, PathData, Svg};
use chrono::Duration;
use trailmap_model::Timestamp;

/// What happened, which decides the marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventKind {
    /// A web or store visit, a page view: blue circle.
    #[default]
    Visit,
    /// A touchpoint the business runs (an email, an ad): orange diamond.
    Touchpoint,
    /// A purchase: green square.
    Order,
    /// An answer to a survey: purple triangle.
    SurveyAnswer,
    /// A review, mention or note: vermillion triangle pointing down.
    Feedback,
}

impl EventKind {
    const ALL: [EventKind; 5] = [EventKind::Visit, EventKind::Touchpoint, EventKind::Order, EventKind::SurveyAnswer, EventKind::Feedback];

    fn name(self) -> &'static str {
        match self {
            EventKind::Visit => "Visit",
            EventKind::Touchpoint => "Touchpoint",
            EventKind::Order => "Order",
            EventKind::SurveyAnswer => "Survey answer",
            EventKind::Feedback => "Feedback",
        }
    }

    fn color(self) -> &'static str {
        match self {
            EventKind::Visit => style::PALETTE[0],
            EventKind::Touchpoint => style::PALETTE[1],
            EventKind::Order => style::PALETTE[2],
            EventKind::SurveyAnswer => style::PALETTE[4],
            EventKind::Feedback => style::PALETTE[3],
        }
    }
}

/// One event on the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEvent {
    pub at: Timestamp,
    pub kind: EventKind,
    /// e.g. "Viewed /products/linen-shirt", "Order #1042 · $86.00".
    pub label: String,
    pub href: Option<String>,
}

/// A customer's timeline. Its height grows with the events and days.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    pub title: String,
    pub events: Vec<TimelineEvent>,
    /// Minutes east of UTC in which days and times are shown (the business's time zone at the
    /// time; 0 for UTC).
    pub utc_offset_minutes: i32,
    /// `None`: 560 wide.
    pub width: Option<f64>,
}

const DAY: f64 = 28.0;
const ROW: f64 = 22.0;

impl Timeline {
    pub fn render(&self) -> Svg {
        let width = self.width.unwrap_or(560.0);
        let offset = Duration::minutes(i64::from(self.utc_offset_minutes.clamp(-18 * 60, 18 * 60)));
        let mut events: Vec<&TimelineEvent> = self.events.iter().collect();
        events.sort_by_key(|e| e.at);
        let local = |e: &TimelineEvent| e.at.to_datetime().naive_utc() + offset;
        let mut days = 0;
        let mut last_day = None;
        for e in &events {
            let day = local(e).date();
            if last_day != Some(day) {
                days += 1;
                last_day = Some(day);
            }
        }
        let top = PAD + 52.0;
        let height = if events.is_empty() { 160.0 } else { top + days as f64 * DAY + events.len() as f64 * ROW + PAD };
        let mut doc = Doc::new(width, height, &self.title);
        doc.heading(&self.title);
        if events.is_empty() {
            doc.no_data();
            return doc.finish();
        }
        let width = doc.width;
        // Legend of the marker kinds.
        let mut x = PAD;
        for kind in EventKind::ALL {
            marker(&mut doc, kind, x + 5.0, PAD + 32.0);
            doc.label(Label::new(x + 14.0, PAD + 36.0, kind.name()).size(SMALL_SIZE).color(MUTED));
            x += 14.0 + crate::svg::text_width(kind.name(), SMALL_SIZE) + 14.0;
        }
        let spine_x = PAD + 54.0;
        let mut y = top;
        let first_marker = y + DAY;
        let mut last_day = None;
        let mut rows = Vec::new();
        for e in &events {
            let at = local(e);
            if last_day != Some(at.date()) {
                last_day = Some(at.date());
                rows.push((y, None, at.format("%a %-d %b %Y").to_string()));
                y += DAY;
            }
            rows.push((y, Some(*e), at.format("%H:%M").to_string()));
            y += ROW;
        }
        doc.line(spine_x, first_marker, spine_x, (y - ROW / 2.0).max(first_marker), GRID, &[("stroke-width", 2.0.into())]);
        for (y, event, text) in rows {
            match event {
                None => doc.label(Label::new(PAD, y + 18.0, &text).max_width(width - 2.0 * PAD)),
                Some(e) => {
                    let tip = format!("{} · {} · {}", text, e.kind.name(), e.label);
                    let link = doc.open_link(e.href.as_deref(), &tip);
                    doc.label(Label::new(PAD, y + 15.0, &text).size(SMALL_SIZE).color(MUTED));
                    marker(&mut doc, e.kind, spine_x, y + 11.0);
                    doc.label(Label::new(spine_x + 14.0, y + 15.0, &e.label).max_width(width - spine_x - 14.0 - PAD));
                    doc.close_link(link);
                }
            }
        }
        doc.finish()
    }
}

/// Draws the marker of `kind` centred on (x, y), about 10 units across.
fn marker(doc: &mut Doc, kind: EventKind, x: f64, y: f64) {
    let fill = kind.color();
    let attrs = [("fill", fill.into()), ("stroke", style::BACKGROUND.into()), ("stroke-width", 1.0.into())];
    let mut d = PathData::default();
    match kind {
        EventKind::Visit => {
            doc.empty("circle", &[("cx", x.into()), ("cy", y.into()), ("r", 5.0.into()), attrs[0].clone(), attrs[1].clone(), attrs[2].clone()]);
            return;
        }
        EventKind::Order => {
            doc.rect(x - 4.5, y - 4.5, 9.0, 9.0, &attrs);
            return;
        }
        EventKind::Touchpoint => {
            d.move_to(x, y - 6.0).line_to(x + 6.0, y).line_to(x, y + 6.0).line_to(x - 6.0, y).close();
        }
        EventKind::SurveyAnswer => {
            d.move_to(x, y - 6.0).line_to(x + 6.0, y + 5.0).line_to(x - 6.0, y + 5.0).close();
        }
        EventKind::Feedback => {
            d.move_to(x - 6.0, y - 5.0).line_to(x + 6.0, y - 5.0).line_to(x, y + 6.0).close();
        }
    }
    doc.empty("path", &[("d", d.into_string().into()), attrs[0].clone(), attrs[1].clone(), attrs[2].clone()]);
}
