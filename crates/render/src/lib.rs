//! Trailmap's chart renderer. Every chart in the web UI is drawn here as SVG, and the same SVG is
//! turned into the PNG and PDF exports, so an export looks exactly like the page.
//!
//! # Charts
//! Each chart is a plain-data spec (public fields, `Default`) with a `render(&self) -> Svg`
//! method that never fails and never panics:
//!
//! - [`LineChart`] — values over dates, one or more [`Series`] (solid or dashed), 1-2-5 y ticks,
//!   values written by [`ValueFormat`], a legend. [`Sparkline`] — the tiny line of a dashboard tile.
//! - [`BarChart`] — horizontal [`Bar`]s with labels, values and optional comparison bars.
//! - [`FunnelChart`] — one [`FunnelStep`] per step: count, % of step 1, conversion from the
//!   previous step, drop-off.
//! - [`Sankey`] — [`SankeyNode`]s in columns, [`SankeyLink`]s as Bézier bands.
//! - [`Heatmap`] — retention cohorts ([`CohortRow`], [`HeatCell`]).
//! - [`Timeline`] — one customer's [`TimelineEvent`]s by day, marker by [`EventKind`].
//!
//! Every datum has an optional `href`: the mark is wrapped in `<a href>`, so a click opens the
//! customers behind the number. Only relative, `http(s):` and `mailto:` links are kept; other
//! schemes (`javascript:`) are dropped. Every mark has a `<title>` tooltip with its value.
//!
//! # What every SVG has
//! A fixed `viewBox` with matching `width`/`height`, `role="img"` (`role="group"` when a mark is a
//! link, so the links stay reachable controls rather than parts of an image), an `aria-label` and `<title>`
//! from the chart's title (also drawn as a visible heading, so exports stand alone), colours from
//! the Okabe-Ito palette, a white background, the system-ui font stack. All text and attributes
//! are escaped, so the markup can be inlined into HTML. Degenerate input is drawn, not refused:
//! no data gives a "No data" chart; non-finite values are gaps (lines) or 0 (bars, nodes) and
//! never reach the markup; values beyond ±1e15 are clamped; labels too long for their room are
//! cut with "…" and keep their full text in a `<title>`.
//!
//! # Exports
//! [`to_png`], [`to_pdf`] and [`to_pdf_pages`] read the SVG with usvg and draw text with the
//! embedded DejaVu Sans only: no system font is needed or read. Same input, same bytes.
//!
//! ```
//! use trailmap_render::{Bar, BarChart, ValueFormat};
//! let chart = BarChart {
//!     title: "New customers by channel".into(),
//!     format: ValueFormat::Count,
//!     bars: vec![Bar { label: "Referral".into(), value: 120.0, href: Some("/customers?channel=Referral".into()), ..Bar::default() }],
//!     ..BarChart::default()
//! };
//! let svg = chart.render();
//! assert!(svg.as_str().starts_with("<svg"));
//! let png = trailmap_render::to_png(&svg, 2.0).expect("renders");
//! assert!(png.starts_with(b"\x89PNG"));
//! ```

mod charts;
mod export;
mod format;
mod map;
pub mod report;
mod style;
mod svg;

pub use charts::bar::{Bar, BarChart};
pub use charts::funnel::{FunnelChart, FunnelStep};
pub use charts::heatmap::{CohortRow, HeatCell, Heatmap};
pub use charts::line::{LineChart, LineStyle, Point, Series, Sparkline};
pub use charts::sankey::{Sankey, SankeyLink, SankeyNode};
pub use charts::timeline::{EventKind, Timeline, TimelineEvent};
pub use export::{MAX_PNG_SIDE, RenderError, to_pdf, to_pdf_pages, to_png, validate};
pub use format::ValueFormat;
pub use map::{JourneyMapChart, MapCard, MapColumn, MapFigure};
pub use style::PALETTE;
pub use svg::{Svg, escape};

/// The size of a chart in SVG units (CSS pixels at 1×). Sizes are clamped to 16..=8192.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size {
    pub width: f64,
    pub height: f64,
}
