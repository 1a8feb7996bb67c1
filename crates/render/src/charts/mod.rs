//! The chart types, one module each; each is a plain-data spec with a `render` method that
//! returns an [`Svg`](crate::Svg) and never fails.

pub mod bar;
pub mod funnel;
pub mod heatmap;
pub mod line;
pub mod sankey;
pub mod timeline;
