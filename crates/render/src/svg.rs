//! The small SVG writer every chart uses: escaped text and attributes, numbers that can never be
//! NaN or infinite, safe links, truncated labels that keep their full text in a `<title>`, and the
//! common frame (size, `role="img"`, title, font stack, background).

use crate::style;
use std::fmt::Write as _;

/// A finished SVG document. The text is a complete, standalone `<svg>` element; it is safe to
/// inline into an HTML page because every label and link inside it was escaped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Svg(String);

impl Svg {
    /// Wraps markup made in this crate; kept private so every `Svg` is one of ours, escaped.
    pub(crate) fn from_markup(markup: String) -> Svg {
        Svg(markup)
    }

    /// The SVG markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SVG markup, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Svg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Escapes text for use in XML content or in a double-quoted attribute. Characters XML 1.0 does
/// not allow at all (control characters other than tab, newline and carriage return) are dropped,
/// because a parser would refuse the whole document for one stray byte in a user's label.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Formats a coordinate with at most one decimal. Non-finite numbers become 0 so that no
/// `NaN` or `inf` ever reaches the markup, whatever the input was.
pub fn num(value: f64) -> String {
    if !value.is_finite() {
        return "0".to_string();
    }
    let rounded = (value * 10.0).round() / 10.0;
    // Avoid "-0" which is valid but looks like a bug in snapshots.
    if rounded == 0.0 {
        return "0".to_string();
    }
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// Returns the link to use for a datum, or `None` when it must not be a link. Relative links and
/// `http`, `https` and `mailto` links pass; any other scheme (`javascript:`, `data:`, ...) is
/// dropped, because escaping alone does not stop a script URL from running when clicked.
pub fn safe_href(href: Option<&str>) -> Option<&str> {
    let href = href?.trim();
    if href.is_empty() {
        return None;
    }
    // Browsers ignore tabs, newlines and other controls inside a scheme ("java\tscript:"), so the
    // scheme is judged with them removed.
    let compact: String = href.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
    let end = compact.find([':', '/', '?', '#']);
    match end {
        Some(i) if compact[i..].starts_with(':') => {
            let scheme = compact[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto").then_some(href)
        }
        _ => Some(href),
    }
}

/// Estimated width of `text` in the embedded font (DejaVu Sans) at `font_size`. DejaVu Sans is
/// wider than most system UI fonts, so a label that fits by this estimate also fits in a browser.
pub fn text_width(text: &str, font_size: f64) -> f64 {
    text.chars().map(char_width).sum::<f64>() * font_size
}

fn char_width(c: char) -> f64 {
    match c {
        'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' | 'I' => 0.28,
        ' ' | 'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '-' | '/' => 0.36,
        'm' | 'w' | 'M' | 'W' | '%' | '@' => 0.9,
        '0'..='9' | '$' | '#' | '+' | '=' | '<' | '>' | '~' | '^' | '*' | '€' | '£' => 0.64,
        'A'..='Z' => 0.7,
        c if c.is_ascii() => 0.6,
        // Wide scripts (CJK) take about a full em; other letters about like Latin ones.
        c if ('\u{2E80}'..='\u{FFEF}').contains(&c) => 1.0,
        _ => 0.65,
    }
}

/// Shortens `text` with an ellipsis so that it fits `max_width` at `font_size`. Returns the text
/// to show and whether it was shortened.
pub fn fit_text(text: &str, max_width: f64, font_size: f64) -> (String, bool) {
    if text_width(text, font_size) <= max_width {
        return (text.to_string(), false);
    }
    let budget = max_width - text_width("…", font_size);
    let mut used = 0.0;
    let mut out = String::new();
    for c in text.chars() {
        let w = char_width(c) * font_size;
        if used + w > budget {
            break;
        }
        used += w;
        out.push(c);
    }
    let trimmed = out.trim_end();
    (format!("{trimmed}…"), true)
}

/// An attribute value: text (escaped when written) or a number (written through [`num`]).
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Text(&'a str),
    Owned(String),
    Number(f64),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(text: &'a str) -> Self {
        Value::Text(text)
    }
}

impl From<String> for Value<'_> {
    fn from(text: String) -> Self {
        Value::Owned(text)
    }
}

impl From<f64> for Value<'_> {
    fn from(value: f64) -> Self {
        Value::Number(value)
    }
}

/// Where a text is anchored horizontally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// One text label: position, size, colour, anchor and the width it may take (if any).
#[derive(Debug, Clone)]
pub struct Label<'a> {
    pub x: f64,
    pub y: f64,
    pub text: &'a str,
    pub size: f64,
    pub color: &'a str,
    pub anchor: Anchor,
    pub max_width: Option<f64>,
}

impl<'a> Label<'a> {
    pub fn new(x: f64, y: f64, text: &'a str) -> Self {
        Label { x, y, text, size: style::FONT_SIZE, color: style::TEXT, anchor: Anchor::Start, max_width: None }
    }
    pub fn size(mut self, size: f64) -> Self {
        self.size = size;
        self
    }
    pub fn color(mut self, color: &'a str) -> Self {
        self.color = color;
        self
    }
    pub fn anchor(mut self, anchor: Anchor) -> Self {
        self.anchor = anchor;
        self
    }
    pub fn max_width(mut self, width: f64) -> Self {
        self.max_width = Some(width);
        self
    }
}

/// Builds an SVG document element by element.
#[derive(Debug)]
pub struct Doc {
    buf: String,
    pub width: f64,
    pub height: f64,
    /// Whether a mark is a link: the frame is then a `group`, not an `img`, since an image's
    /// content is presentational and links inside it would be controls nested in an image
    /// (axe-core's `nested-interactive`), hidden from a screen reader.
    has_links: bool,
}

impl Doc {
    /// Starts a document of the given size with its accessible title, the font stack and a white
    /// background (exports have no page behind them, so the background is part of the chart).
    pub fn new(width: f64, height: f64, title: &str) -> Doc {
        let width = sane_size(width);
        let height = sane_size(height);
        let mut doc = Doc { buf: String::with_capacity(4096), width, height, has_links: false };
        let t = escape(title);
        let _ = write!(
            doc.buf,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{t}" font-family="{f}" font-size="{s}">"#,
            w = num(width),
            h = num(height),
            f = escape(style::FONT_FAMILY),
            s = num(style::FONT_SIZE),
        );
        let _ = writeln!(doc.buf, "\n<title>{t}</title>");
        doc.rect(0.0, 0.0, width, height, &[("fill", style::BACKGROUND.into())]);
        doc
    }

    /// Opens an element with attributes.
    pub fn open(&mut self, tag: &str, attrs: &[(&str, Value<'_>)]) {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.attrs(attrs);
        self.buf.push_str(">\n");
    }

    /// Closes an element opened with [`Doc::open`].
    pub fn close(&mut self, tag: &str) {
        let _ = writeln!(self.buf, "</{tag}>");
    }

    /// Writes an element without children.
    pub fn empty(&mut self, tag: &str, attrs: &[(&str, Value<'_>)]) {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.attrs(attrs);
        self.buf.push_str("/>\n");
    }

    /// Writes a `<title>` (a tooltip for the enclosing element, read by screen readers).
    pub fn title(&mut self, text: &str) {
        let _ = writeln!(self.buf, "<title>{}</title>", escape(text));
    }

    /// Opens a group that is a link when `href` is safe, and a plain group otherwise; the tooltip
    /// goes inside. Close it with [`Doc::close_link`] passing the same answer.
    pub fn open_link(&mut self, href: Option<&str>, tooltip: &str) -> bool {
        let link = safe_href(href);
        match link {
            Some(h) => self.open("a", &[("href", h.into())]),
            None => self.open("g", &[]),
        }
        self.title(tooltip);
        self.has_links |= link.is_some();
        link.is_some()
    }

    /// Closes what [`Doc::open_link`] opened.
    pub fn close_link(&mut self, was_link: bool) {
        self.close(if was_link { "a" } else { "g" });
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, attrs: &[(&str, Value<'_>)]) {
        let _ = write!(
            self.buf,
            r#"<rect x="{}" y="{}" width="{}" height="{}""#,
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0))
        );
        self.attrs(attrs);
        self.buf.push_str("/>\n");
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, attrs: &[(&str, Value<'_>)]) {
        let _ = write!(
            self.buf,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}""#,
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            escape(stroke)
        );
        self.attrs(attrs);
        self.buf.push_str("/>\n");
    }

    /// Writes a text label. A label wider than its `max_width` is cut with an ellipsis and wrapped
    /// in a group whose `<title>` holds the full text.
    pub fn label(&mut self, label: Label<'_>) {
        let (shown, cut) = match label.max_width {
            Some(w) => fit_text(label.text, w, label.size),
            None => (label.text.to_string(), false),
        };
        if cut {
            self.open("g", &[]);
            self.title(label.text);
        }
        let _ = write!(self.buf, r#"<text x="{}" y="{}""#, num(label.x), num(label.y));
        if label.size != style::FONT_SIZE {
            let _ = write!(self.buf, r#" font-size="{}""#, num(label.size));
        }
        if label.color != style::TEXT {
            let _ = write!(self.buf, r#" fill="{}""#, escape(label.color));
        } else {
            let _ = write!(self.buf, r#" fill="{}""#, style::TEXT);
        }
        if label.anchor != Anchor::Start {
            let _ = write!(self.buf, r#" text-anchor="{}""#, label.anchor.as_str());
        }
        let _ = writeln!(self.buf, ">{}</text>", escape(&shown));
        if cut {
            self.close("g");
        }
    }

    /// Writes the chart's visible heading at the top left.
    pub fn heading(&mut self, title: &str) {
        let max = self.width - 2.0 * style::PAD;
        self.label(Label::new(style::PAD, style::PAD + 12.0, title).size(style::TITLE_SIZE).max_width(max));
    }

    /// Writes the "No data" message in the middle of the chart.
    pub fn no_data(&mut self) {
        let (x, y) = (self.width / 2.0, self.height / 2.0 + 10.0);
        self.label(Label::new(x, y, "No data").anchor(Anchor::Middle).color(style::MUTED).size(style::FONT_SIZE + 2.0));
    }

    /// Ends the document.
    pub fn finish(mut self) -> Svg {
        if self.has_links {
            // The frame is the first tag, written by `new` with `role="img"`.
            self.buf = self.buf.replacen(r#" role="img" "#, r#" role="group" "#, 1);
        }
        self.buf.push_str("</svg>\n");
        Svg::from_markup(self.buf)
    }

    fn attrs(&mut self, attrs: &[(&str, Value<'_>)]) {
        for (name, value) in attrs {
            let text = match value {
                Value::Text(t) => escape(t),
                Value::Owned(t) => escape(t),
                Value::Number(v) => num(*v),
            };
            let _ = write!(self.buf, r#" {name}="{text}""#);
        }
    }
}

/// Keeps a requested chart dimension within 16..=8192 so a bad size never makes an unusable or
/// enormous document.
fn sane_size(value: f64) -> f64 {
    if value.is_finite() { value.clamp(16.0, 8192.0).round() } else { 16.0 }
}

/// Builds path data (`d` attribute) with numbers written through [`num`].
#[derive(Debug, Default)]
pub struct PathData(String);

impl PathData {
    pub fn move_to(&mut self, x: f64, y: f64) -> &mut Self {
        let _ = write!(self.0, "M{} {}", num(x), num(y));
        self
    }
    pub fn line_to(&mut self, x: f64, y: f64) -> &mut Self {
        let _ = write!(self.0, "L{} {}", num(x), num(y));
        self
    }
    pub fn cubic_to(&mut self, c1: (f64, f64), c2: (f64, f64), to: (f64, f64)) -> &mut Self {
        let _ = write!(
            self.0,
            "C{} {} {} {} {} {}",
            num(c1.0),
            num(c1.1),
            num(c2.0),
            num(c2.1),
            num(to.0),
            num(to.1)
        );
        self
    }
    pub fn close(&mut self) -> &mut Self {
        self.0.push('Z');
        self
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(escape(r#"<script>alert("x" & 'y')</script>"#), "&lt;script&gt;alert(&quot;x&quot; &amp; &apos;y&apos;)&lt;/script&gt;");
    }

    #[test]
    fn drops_characters_xml_forbids() {
        assert_eq!(escape("a\u{0}b\u{1b}c\td"), "abc\td");
    }

    #[test]
    fn numbers_are_always_finite() {
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(f64::INFINITY), "0");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(40.0), "40");
    }

    #[test]
    fn only_safe_links_pass() {
        assert_eq!(safe_href(Some("/customers?ids=1,2")), Some("/customers?ids=1,2"));
        assert_eq!(safe_href(Some("https://example.com/a")), Some("https://example.com/a"));
        assert_eq!(safe_href(Some("javascript:alert(1)")), None);
        assert_eq!(safe_href(Some(" JavaScript:alert(1)")), None);
        assert_eq!(safe_href(Some("java\tscript:alert(1)")), None);
        assert_eq!(safe_href(Some("data:text/html,x")), None);
        assert_eq!(safe_href(Some("")), None);
        assert_eq!(safe_href(None), None);
        // A colon after the path starts is not a scheme.
        assert_eq!(safe_href(Some("/a:b")), Some("/a:b"));
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        let (short, cut) = fit_text("Paid Social", 200.0, 12.0);
        assert_eq!((short.as_str(), cut), ("Paid Social", false));
        let (shown, cut) = fit_text("A very long channel name that does not fit", 80.0, 12.0);
        assert!(cut);
        assert!(shown.ends_with('…'));
        assert!(text_width(&shown, 12.0) <= 80.0 + 0.01);
    }
}
