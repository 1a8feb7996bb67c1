//! The one look of every chart: the colour-blind-safe Okabe-Ito palette, the text and grid
//! colours, the font stack and the sizes. Charts take their colours from here and nowhere else.

/// The font stack: the reader's system UI font in a browser, the embedded DejaVu Sans in PNG and
/// PDF exports (the exporter loads only that font, so every name before it is skipped).
pub const FONT_FAMILY: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif";
/// Body text size in SVG units (pixels at 1x).
pub const FONT_SIZE: f64 = 12.0;
/// Small text: axis ticks, notes.
pub const SMALL_SIZE: f64 = 11.0;
/// The visible chart heading.
pub const TITLE_SIZE: f64 = 14.0;
/// Outer padding.
pub const PAD: f64 = 12.0;

pub const BACKGROUND: &str = "#ffffff";
pub const TEXT: &str = "#1f2933";
pub const MUTED: &str = "#5f6b7a";
pub const GRID: &str = "#e4e7eb";
pub const AXIS: &str = "#9aa5b1";
/// Fill of a bar's track or of a missing value.
pub const TRACK: &str = "#f1f3f5";

/// Okabe & Ito's palette (2008), distinguishable with every common colour-vision deficiency; in
/// the order series take them. Black is left out: it reads as text.
pub const PALETTE: [&str; 7] = [
    "#0072B2", // blue
    "#E69F00", // orange
    "#009E73", // bluish green
    "#D55E00", // vermillion
    "#CC79A7", // reddish purple
    "#56B4E9", // sky blue
    "#F0E442", // yellow
];

/// The colour of the `index`-th series, bar group or node column.
pub fn color(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// A sequential blue scale for rates 0..=1 (heatmap cells): from near-white to deep blue, so the
/// order of values survives every colour-vision deficiency and greyscale printing.
pub fn sequential(t: f64) -> String {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let from = (0xef_u8, 0xf5_u8, 0xfb_u8);
    let to = (0x08_u8, 0x45_u8, 0x94_u8);
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}

/// Whether text on a [`sequential`] cell of value `t` should be white rather than dark.
pub fn needs_light_text(t: f64) -> bool {
    t.is_finite() && t > 0.55
}

/// `color` (a `#rrggbb` palette colour) mixed with white: `strength` 1 is the colour, 0 white.
/// Used instead of opacity, which PDF exports cannot write deterministically.
pub fn tint(color: &str, strength: f64) -> String {
    let channel = |i: usize| u8::from_str_radix(color.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    let t = strength.clamp(0.0, 1.0);
    let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(channel(1)), mix(channel(3)), mix(channel(5)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tints_and_scales() {
        assert_eq!(tint("#0072B2", 1.0), "#0072b2");
        assert_eq!(tint("#0072B2", 0.0), "#ffffff");
        assert_eq!(tint("#000000", 0.5), "#808080");
        assert_eq!(sequential(0.0), "#eff5fb");
        assert_eq!(sequential(1.0), "#084594");
        assert_eq!(sequential(f64::NAN), "#eff5fb");
    }
}
