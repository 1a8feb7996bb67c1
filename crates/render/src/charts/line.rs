//! Line charts over dates (one or more series, e.g. this period solid and the previous period
//! dashed) and sparklines for dashboard tiles.

use crate::format::{ValueFormat, clean, date_ticks, nice_ticks};
use crate::style::{self, AXIS, GRID, MUTED, PAD, SMALL_SIZE};
use crate::svg::{Anchor, Doc, Label, PathData, Svg, text_width};
use crate::Size;
use chrono::NaiveDate;

/// How a series' line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineStyle {
    /// The main series, e.g. this period.
    #[default]
    Solid,
    /// A comparison series, e.g. the previous period shifted onto this period's dates.
    Dashed,
}

/// One value on one date.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Point {
    pub date: NaiveDate,
    /// The value; a non-finite value is a gap in the line.
    pub value: f64,
    /// How many customers (or orders) the value is computed from, shown in the tooltip.
    pub n: Option<u64>,
    /// Opens the customers behind the value.
    pub href: Option<String>,
}

/// A named series of points. Points need not be sorted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub name: String,
    pub style: LineStyle,
    pub points: Vec<Point>,
}

/// A line chart over dates. To compare with a previous period, give the previous period's
/// points the dates they line up with in this period and [`LineStyle::Dashed`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    pub title: String,
    pub format: ValueFormat,
    pub series: Vec<Series>,
    /// `None`: 640 × 320.
    pub size: Option<Size>,
}

impl LineChart {
    pub fn render(&self) -> Svg {
        let size = self.size.unwrap_or(Size { width: 640.0, height: 320.0 });
        let mut doc = Doc::new(size.width, size.height, &self.title);
        doc.heading(&self.title);
        let points: Vec<(&Point, f64)> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter_map(|p| clean(p.value).map(|v| (p, v)))
            .collect();
        let (Some(first), Some(last)) =
            (points.iter().map(|(p, _)| p.date).min(), points.iter().map(|(p, _)| p.date).max())
        else {
            doc.no_data();
            return doc.finish();
        };
        let min = points.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
        let max = points.iter().map(|(_, v)| *v).fold(f64::NEG_INFINITY, f64::max);
        let ticks = nice_ticks(min, max, 5, self.format);
        let (lo, hi) = (ticks.first().copied().unwrap_or(0.0), ticks.last().copied().unwrap_or(1.0));
        let tick_labels: Vec<String> = ticks.iter().map(|t| self.format.format_tick(*t)).collect();
        let label_width = tick_labels.iter().map(|t| text_width(t, SMALL_SIZE)).fold(0.0, f64::max);

        // Legend row under the heading.
        let legend_y = PAD + 36.0;
        let mut x = PAD;
        for (i, series) in self.series.iter().enumerate() {
            let color = style::color(i);
            let dash = dash_attr(series.style);
            doc.line(x, legend_y - 4.0, x + 20.0, legend_y - 4.0, color, &[("stroke-width", 2.0.into()), ("stroke-dasharray", dash.into())]);
            let room = (doc.width - PAD - x - 26.0).clamp(0.0, 200.0);
            doc.label(Label::new(x + 26.0, legend_y, &series.name).size(SMALL_SIZE).color(MUTED).max_width(room));
            x += 26.0 + text_width(&series.name, SMALL_SIZE).min(room) + 18.0;
        }

        let left = PAD + label_width + 8.0;
        let right = doc.width - PAD - 8.0;
        let top = legend_y + 18.0;
        let bottom = doc.height - PAD - 18.0;
        let span_days = (last - first).num_days() as f64;
        let x_of = |d: NaiveDate| {
            if span_days <= 0.0 { (left + right) / 2.0 } else { left + (d - first).num_days() as f64 / span_days * (right - left) }
        };
        let y_of = |v: f64| bottom - (v - lo) / (hi - lo) * (bottom - top);

        for (tick, label) in ticks.iter().zip(&tick_labels) {
            let y = y_of(*tick);
            doc.line(left, y, right, y, if *tick == 0.0 { AXIS } else { GRID }, &[]);
            doc.label(Label::new(left - 6.0, y + 4.0, label).size(SMALL_SIZE).color(MUTED).anchor(Anchor::End));
        }
        let date_labels = date_ticks(first, last);
        let slot = (right - left) / date_labels.len().max(1) as f64;
        let mut free_from = f64::NEG_INFINITY;
        for (date, label) in &date_labels {
            let x = x_of(*date);
            doc.line(x, bottom, x, bottom + 4.0, AXIS, &[]);
            // Labels are centred on their tick, but kept inside the chart at both ends; a label
            // that would touch the one before it is left out (its tick stays).
            let width = text_width(label, SMALL_SIZE).min(slot.max(40.0));
            let half = width / 2.0;
            let (x, anchor, from, to) = if x - half < PAD {
                (PAD.max(x - 2.0), Anchor::Start, PAD.max(x - 2.0), PAD.max(x - 2.0) + width)
            } else if x + half > doc.width - PAD / 2.0 {
                (x, Anchor::End, x - width, x)
            } else {
                (x, Anchor::Middle, x - half, x + half)
            };
            if from < free_from + 6.0 {
                continue;
            }
            free_from = to;
            doc.label(Label::new(x, bottom + 16.0, label).size(SMALL_SIZE).color(MUTED).anchor(anchor).max_width(slot.max(40.0)));
        }

        for (i, series) in self.series.iter().enumerate() {
            let color = style::color(i);
            let mut sorted: Vec<&Point> = series.points.iter().collect();
            sorted.sort_by_key(|p| p.date);
            let mut path = PathData::default();
            let mut pen_down = false;
            let mut finite = 0;
            for p in &sorted {
                match clean(p.value) {
                    Some(v) => {
                        finite += 1;
                        if pen_down {
                            path.line_to(x_of(p.date), y_of(v));
                        } else {
                            path.move_to(x_of(p.date), y_of(v));
                        }
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            if !path.is_empty() {
                doc.empty(
                    "path",
                    &[
                        ("d", path.into_string().into()),
                        ("fill", "none".into()),
                        ("stroke", color.into()),
                        ("stroke-width", 2.0.into()),
                        ("stroke-linejoin", "round".into()),
                        ("stroke-dasharray", dash_attr(series.style).into()),
                    ],
                );
            }
            let dots = finite <= 31;
            for p in &sorted {
                let Some(v) = clean(p.value) else { continue };
                if !dots && p.href.is_none() && finite > 1 {
                    continue;
                }
                let mut tip = format!("{} · {}: {}", series.name, p.date.format("%b %-d, %Y"), self.format.format(v));
                if let Some(n) = p.n {
                    tip.push_str(&format!(" (n={n})"));
                }
                let link = doc.open_link(p.href.as_deref(), &tip);
                doc.empty(
                    "circle",
                    &[("cx", x_of(p.date).into()), ("cy", y_of(v).into()), ("r", 3.0.into()), ("fill", color.into()), ("stroke", style::BACKGROUND.into())],
                );
                doc.close_link(link);
            }
        }
        doc.finish()
    }
}

fn dash_attr(style: LineStyle) -> &'static str {
    match style {
        LineStyle::Solid => "none",
        LineStyle::Dashed => "6 4",
    }
}

/// A tiny line for a dashboard tile: no axes, no labels, the last value marked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sparkline {
    /// Read by screen readers and shown as the tooltip; say what and which period.
    pub title: String,
    /// Values in time order; non-finite values are gaps.
    pub values: Vec<f64>,
    /// Opens the detail behind the tile.
    pub href: Option<String>,
    /// `None`: 120 × 32.
    pub size: Option<Size>,
}

impl Sparkline {
    pub fn render(&self) -> Svg {
        let size = self.size.unwrap_or(Size { width: 120.0, height: 32.0 });
        let mut doc = Doc::new(size.width, size.height, &self.title);
        let values: Vec<Option<f64>> = self.values.iter().map(|v| clean(*v)).collect();
        let finite: Vec<f64> = values.iter().flatten().copied().collect();
        if finite.is_empty() {
            doc.no_data();
            return doc.finish();
        }
        let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (left, right, top, bottom) = (3.0, doc.width - 4.0, 4.0, doc.height - 4.0);
        let x_of = |i: usize| {
            if values.len() <= 1 { (left + right) / 2.0 } else { left + i as f64 / (values.len() - 1) as f64 * (right - left) }
        };
        // A flat series is drawn through the middle rather than stuck to an edge.
        let y_of = |v: f64| if max > min { bottom - (v - min) / (max - min) * (bottom - top) } else { (top + bottom) / 2.0 };
        let link = doc.open_link(self.href.as_deref(), &self.title);
        let mut path = PathData::default();
        let mut pen_down = false;
        for (i, v) in values.iter().enumerate() {
            match v {
                Some(v) if pen_down => {
                    path.line_to(x_of(i), y_of(*v));
                }
                Some(v) => {
                    path.move_to(x_of(i), y_of(*v));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        doc.empty(
            "path",
            &[("d", path.into_string().into()), ("fill", "none".into()), ("stroke", style::color(0).into()), ("stroke-width", 1.5.into()), ("stroke-linejoin", "round".into())],
        );
        if let Some((i, v)) = values.iter().enumerate().rev().find_map(|(i, v)| v.map(|v| (i, v))) {
            doc.empty("circle", &[("cx", x_of(i).into()), ("cy", y_of(v).into()), ("r", 2.5.into()), ("fill", style::color(0).into())]);
        }
        doc.close_link(link);
        doc.finish()
    }
}
