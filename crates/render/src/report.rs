//! A report as a document: a title, headings, paragraphs, notes, tables of text and figures (SVG
//! charts with their sample size), laid out two ways. [`to_html`] writes one self-contained HTML
//! page (inline CSS, figures inline as SVG, every text escaped, print rules for A4).
//! [`to_pages`] lays the same document out on A4 portrait pages as SVG, one [`Svg`] per page, for
//! [`crate::to_pdf_pages`]: text wrapped to the column by [`text_width`], tables with wrapped
//! cells and their header repeated on each page, figures scaled to the column (a figure much
//! wider than tall is turned a quarter and drawn on a page of its own, so its text stays legible),
//! a block that does not fit continued on the next page, and a footer with the page number and the
//! "n =" of every figure on the page.
//!
//! The module knows nothing of businesses or metrics: the app builds the document, with numbers
//! already written as people read them.

use crate::style::{self, GRID, MUTED, TEXT, TRACK};
use crate::svg::{Svg, escape, fit_text, num};
/// The width estimate every line is wrapped by, for callers checking a layout.
pub use crate::svg::text_width;
use std::fmt::Write as _;

/// A report ready to lay out: every text already written as it is to be read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportDocument {
    pub title: String,
    /// A line under the title (the business and the period).
    pub subtitle: Option<String>,
    /// The text at the foot of every page and at the end of the HTML page.
    pub footer: String,
    pub blocks: Vec<Block>,
}

/// One block of a report, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section heading.
    Heading(String),
    /// Body text; a newline starts a new line.
    Paragraph(String),
    /// A remark set apart in a muted colour ("impact not available: ...").
    Note(String),
    Table(Table),
    Figure(Figure),
}

/// A table of text. Rows shorter than the header are padded with empty cells.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Which columns are aligned right (numbers); missing entries are left-aligned.
    pub right_aligned: Vec<bool>,
}

/// A chart with its caption and sample size.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub svg: Svg,
    pub caption: String,
    /// The sample size in words, shown as "n = {n}" under the figure and in the page's footer
    /// ("1,204 customers").
    pub n: String,
}

/// The page: A4 portrait in points (one SVG unit is one PDF point).
pub const PAGE_WIDTH: f64 = 595.0;
pub const PAGE_HEIGHT: f64 = 842.0;
/// The left and right margins, and the top one.
pub const MARGIN: f64 = 48.0;
/// The width every line of text and every table fits in.
pub const TEXT_COLUMN: f64 = PAGE_WIDTH - 2.0 * MARGIN;
/// Where the body ends; the footer is below.
const BODY_BOTTOM: f64 = PAGE_HEIGHT - 70.0;
const BODY_HEIGHT: f64 = BODY_BOTTOM - MARGIN;

const TITLE_SIZE: f64 = 20.0;
const HEADING_SIZE: f64 = 14.0;
const BODY_SIZE: f64 = 10.0;
const TABLE_SIZE: f64 = 9.0;
const CAPTION_SIZE: f64 = 9.0;
const FOOTER_SIZE: f64 = 8.0;
/// Line heights are the font size times this.
const LEADING: f64 = 1.4;
const CELL_PAD_X: f64 = 4.0;
const CELL_PAD_Y: f64 = 3.0;
const BLOCK_GAP: f64 = 8.0;
/// A heading needs this much room under it on its page, so it is never alone at a page's foot.
const KEEP_WITH_NEXT: f64 = 48.0;

/// Splits `text` into lines no wider than `width` at `size` by [`text_width`]. Explicit newlines
/// start new lines; a word wider than the line is split between characters, never cut, so every
/// character of the text is on some line.
pub fn wrap_text(text: &str, width: f64, size: f64) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut current = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if current.is_empty() { word.to_string() } else { format!("{current} {word}") };
            if text_width(&candidate, size) <= width {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            // The word alone: split it between characters when it is wider than a line.
            for c in word.chars() {
                let mut next = current.clone();
                next.push(c);
                if !current.is_empty() && text_width(&next, size) > width {
                    lines.push(std::mem::take(&mut current));
                    current.push(c);
                } else {
                    current = next;
                }
            }
        }
        if !current.is_empty() || lines.is_empty() || paragraph.trim().is_empty() {
            lines.push(current);
        }
    }
    // Blank lines at the end say nothing.
    while lines.len() > 1 && lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// The width and height of a figure's SVG, from its root element's `viewBox` (every SVG of this
/// crate has one); 640 × 360 if it cannot be read.
fn svg_size(svg: &Svg) -> (f64, f64) {
    let text = svg.as_str();
    let head = &text[..text.find('>').unwrap_or(text.len())];
    head.find("viewBox=\"")
        .and_then(|start| {
            let rest = &head[start + 9..];
            let values: Vec<f64> = rest[..rest.find('"')?].split_whitespace().filter_map(|v| v.parse().ok()).collect();
            (values.len() == 4 && values[2] > 0.0 && values[3] > 0.0).then(|| (values[2], values[3]))
        })
        .unwrap_or((640.0, 360.0))
}

/// The figure's markup as a nested `<svg>` placed at (x, y) with the given size: its root
/// element's width and height are replaced and a position added; the viewBox scales the rest.
fn nested_svg(svg: &Svg, x: f64, y: f64, width: f64, height: f64) -> String {
    let text = svg.as_str();
    let end = text.find('>').unwrap_or(0);
    let head = &text[..end];
    let mut attrs = String::new();
    // Keep every attribute of the root but its size, which the page sets.
    let mut rest = head.strip_prefix("<svg").unwrap_or(head);
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].trim();
        let after = &rest[eq + 2..];
        let Some(close) = after.find('"') else { break };
        if name != "width" && name != "height" {
            let _ = write!(attrs, " {name}=\"{}\"", &after[..close]);
        }
        rest = &after[close + 1..];
    }
    format!(
        "<svg x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"xMidYMid meet\"{attrs}{}",
        num(x),
        num(y),
        num(width),
        num(height),
        &text[end..]
    )
}

/// One page being filled.
#[derive(Default)]
struct Page {
    body: String,
    /// The "n =" of each figure on the page.
    samples: Vec<String>,
    /// Whether anything was drawn on the page.
    used: bool,
}

/// Lays blocks out on pages, top to bottom.
struct Layout {
    pages: Vec<Page>,
    y: f64,
}

impl Layout {
    fn new() -> Layout {
        Layout { pages: vec![Page::default()], y: MARGIN }
    }

    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = MARGIN;
    }

    /// Room left on this page.
    fn room(&self) -> f64 {
        BODY_BOTTOM - self.y
    }

    /// Starts a new page unless this one is empty or has `height` left.
    fn ensure(&mut self, height: f64) {
        if self.room() < height && self.pages.last().is_some_and(|p| p.used) {
            self.new_page();
        }
    }

    fn text(&mut self, x: f64, baseline: f64, text: &str, size: f64, color: &str, anchor_end: bool) {
        let page = self.page();
        page.used = true;
        let anchor = if anchor_end { " text-anchor=\"end\"" } else { "" };
        let _ = writeln!(
            page.body,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\"{anchor}>{}</text>",
            num(x),
            num(baseline),
            num(size),
            escape(color),
            escape(text)
        );
    }

    /// Lines of text at `size`, continued on the next page when the page is full.
    fn lines(&mut self, lines: &[String], size: f64, color: &str) {
        let height = size * LEADING;
        for line in lines {
            self.ensure(height);
            self.text(MARGIN, self.y + size, line, size, color, false);
            self.y += height;
        }
    }

    fn title(&mut self, title: &str, subtitle: Option<&str>) {
        self.lines(&wrap_text(title, TEXT_COLUMN, TITLE_SIZE), TITLE_SIZE, TEXT);
        if let Some(sub) = subtitle {
            self.lines(&wrap_text(sub, TEXT_COLUMN, BODY_SIZE + 1.0), BODY_SIZE + 1.0, MUTED);
        }
        self.y += 4.0;
        let y = self.y;
        let page = self.page();
        let _ = writeln!(page.body, "<line x1=\"{m}\" y1=\"{y}\" x2=\"{r}\" y2=\"{y}\" stroke=\"{GRID}\"/>", m = num(MARGIN), r = num(MARGIN + TEXT_COLUMN), y = num(y));
        self.y += BLOCK_GAP + 4.0;
    }

    /// A heading, on a new page unless `lead` (see [`section_lead`]) fits under it here.
    fn heading(&mut self, text: &str, lead: f64) {
        let lines = wrap_text(text, TEXT_COLUMN, HEADING_SIZE);
        let own = lines.len() as f64 * HEADING_SIZE * LEADING + KEEP_WITH_NEXT;
        self.y += 6.0;
        self.ensure(if lead <= BODY_HEIGHT { lead.max(own) } else { own });
        self.lines(&lines, HEADING_SIZE, TEXT);
        self.y += 2.0;
    }

    fn paragraph(&mut self, text: &str, color: &str) {
        self.lines(&wrap_text(text, TEXT_COLUMN, BODY_SIZE), BODY_SIZE, color);
        self.y += BLOCK_GAP;
    }

    fn table(&mut self, table: &Table) {
        let columns = table.columns.len().max(table.rows.iter().map(Vec::len).max().unwrap_or(0));
        if columns == 0 {
            return;
        }
        let cell = |row: &[String], i: usize| row.get(i).cloned().unwrap_or_default();
        let widths = column_widths(table, columns);
        let line = TABLE_SIZE * LEADING;
        let wrap_row = |row: &[String]| -> Vec<Vec<String>> {
            (0..columns).map(|i| wrap_text(&cell(row, i), widths[i] - 2.0 * CELL_PAD_X, TABLE_SIZE)).collect()
        };
        let header = wrap_row(&table.columns);
        let header_height = header.iter().map(Vec::len).max().unwrap_or(1) as f64 * line + 2.0 * CELL_PAD_Y;
        // The header and the first row go together (the row's first lines when it is very tall).
        let lead = table_lead(table);
        self.ensure(if lead <= BODY_HEIGHT { lead } else { header_height + line + 2.0 * CELL_PAD_Y });
        self.table_row(&header, &widths, table, true, 0, usize::MAX);
        for row in &table.rows {
            let cells = wrap_row(row);
            let total = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let mut start = 0;
            let mut moved = false;
            while start < total {
                // As many of the row's lines as fit; a row taller than a page continues on the next.
                let fit = ((self.room() - 2.0 * CELL_PAD_Y) / line).floor().max(0.0) as usize;
                let wanted = total - start;
                // A row that fits on a page is never split; a taller one fills each page.
                let fits_a_page = header_height + total as f64 * line + 2.0 * CELL_PAD_Y <= BODY_HEIGHT;
                let must_move = if start == 0 && fits_a_page { fit < total } else { fit == 0 };
                // Moved once, a row is drawn where it is: it cannot fit better on the next page.
                if must_move && !moved && self.pages.last().is_some_and(|p| p.used) {
                    moved = true;
                    self.new_page();
                    self.table_row(&header, &widths, table, true, 0, usize::MAX);
                    continue;
                }
                let take = wanted.min(fit.max(1));
                self.table_row(&cells, &widths, table, false, start, start + take);
                start += take;
                moved = false;
            }
        }
        self.y += BLOCK_GAP;
    }

    /// Draws lines `from..to` of a row's cells and moves down past them.
    fn table_row(&mut self, cells: &[Vec<String>], widths: &[f64], table: &Table, header: bool, from: usize, to: usize) {
        let line = TABLE_SIZE * LEADING;
        let shown = cells.iter().map(|c| c.len().min(to).saturating_sub(from)).max().unwrap_or(0).max(1);
        let height = shown as f64 * line + 2.0 * CELL_PAD_Y;
        let top = self.y;
        {
            let page = self.page();
            if header {
                let _ = writeln!(page.body, "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{TRACK}\"/>", num(MARGIN), num(top), num(TEXT_COLUMN), num(height));
            }
            let bottom = top + height;
            let _ = writeln!(page.body, "<line x1=\"{}\" y1=\"{b}\" x2=\"{}\" y2=\"{b}\" stroke=\"{GRID}\"/>", num(MARGIN), num(MARGIN + TEXT_COLUMN), b = num(bottom));
        }
        let mut x = MARGIN;
        for (i, lines) in cells.iter().enumerate() {
            let right = table.right_aligned.get(i).copied().unwrap_or(false);
            let tx = if right { x + widths[i] - CELL_PAD_X } else { x + CELL_PAD_X };
            let color = if header { MUTED } else { TEXT };
            for (k, text) in lines.iter().enumerate().skip(from).take(to.saturating_sub(from)) {
                let baseline = top + CELL_PAD_Y + (k - from) as f64 * line + TABLE_SIZE;
                self.text(tx, baseline, text, TABLE_SIZE, color, right);
            }
            x += widths[i];
        }
        self.page().used = true;
        self.y = top + height;
    }

    fn figure(&mut self, figure: &Figure) {
        let FigureFit { width: w, height: h, caption_lines, caption_height, upright, turned, turn } = FigureFit::of(figure);
        if turn {
            if self.pages.last().is_some_and(|p| p.used) {
                self.new_page();
            }
            let (dw, dh) = (w * turned, h * turned);
            // Turned a quarter anticlockwise, as landscape figures are in books: the figure's top
            // is at the page's left edge, and turning the page clockwise reads it.
            let (cx, cy) = (MARGIN + TEXT_COLUMN / 2.0, MARGIN + dw / 2.0);
            let inner = nested_svg(&figure.svg, -dw / 2.0, -dh / 2.0, dw, dh);
            let page = self.page();
            let _ = writeln!(page.body, "<g transform=\"translate({} {}) rotate(-90)\">\n{inner}</g>", num(cx), num(cy));
            page.samples.push(figure.n.clone());
            page.used = true;
            self.y = MARGIN + dw + 6.0;
            self.lines(&caption_lines, CAPTION_SIZE, MUTED);
            self.new_page();
            return;
        }
        let (dw, dh) = (w * upright, h * upright);
        self.ensure(dh + 6.0 + caption_height);
        let inner = nested_svg(&figure.svg, MARGIN + (TEXT_COLUMN - dw) / 2.0, self.y, dw, dh);
        let page = self.page();
        page.body.push_str(&inner);
        page.samples.push(figure.n.clone());
        page.used = true;
        self.y += dh + 6.0;
        self.lines(&caption_lines, CAPTION_SIZE, MUTED);
        self.y += BLOCK_GAP;
    }
}

/// How a figure fits the page: its size, its caption, and its scale upright and turned.
struct FigureFit {
    width: f64,
    height: f64,
    caption_lines: Vec<String>,
    caption_height: f64,
    upright: f64,
    turned: f64,
    /// Whether it is drawn turned a quarter, on a page of its own.
    turn: bool,
}

impl FigureFit {
    fn of(figure: &Figure) -> FigureFit {
        let (width, height) = svg_size(&figure.svg);
        let caption_lines = wrap_text(&format!("{} · n = {}", figure.caption, figure.n), TEXT_COLUMN, CAPTION_SIZE);
        let caption_height = caption_lines.len() as f64 * CAPTION_SIZE * LEADING;
        let room = BODY_HEIGHT - caption_height - 6.0;
        let upright = (TEXT_COLUMN / width).min(room / height);
        let turned = (room / width).min(TEXT_COLUMN / height);
        // A wide figure (a journey map) that upright would be shrunk so much that its text is
        // hard to read, and that turned a quarter gains a quarter or more, is turned.
        let turn = upright < 0.6 && turned > 1.25 * upright;
        FigureFit { width, height, caption_lines, caption_height, upright, turned, turn }
    }

    /// The height it takes on the page when drawn upright.
    fn upright_height(&self) -> f64 {
        self.height * self.upright + 6.0 + self.caption_height + BLOCK_GAP
    }
}

/// The height a section's heading needs kept with it: the heading, the notes and paragraphs that
/// follow it, and its first figure or the start of its first table, when all that fits on one
/// page; else just the heading and a little room.
fn section_lead(blocks: &[Block]) -> f64 {
    let mut height = 0.0;
    for (i, block) in blocks.iter().enumerate() {
        height += match block {
            Block::Heading(text) if i == 0 => 8.0 + wrap_text(text, TEXT_COLUMN, HEADING_SIZE).len() as f64 * HEADING_SIZE * LEADING,
            Block::Heading(_) => break,
            Block::Paragraph(text) | Block::Note(text) => wrap_text(text, TEXT_COLUMN, BODY_SIZE).len() as f64 * BODY_SIZE * LEADING + BLOCK_GAP,
            Block::Table(table) => return height + table_lead(table),
            Block::Figure(figure) => {
                let fit = FigureFit::of(figure);
                return if fit.turn { height + KEEP_WITH_NEXT } else { height + fit.upright_height() };
            }
        };
    }
    height + KEEP_WITH_NEXT
}

/// The height of a table's header and first row: what must be on the page a table starts on.
fn table_lead(table: &Table) -> f64 {
    let columns = table.columns.len().max(table.rows.iter().map(Vec::len).max().unwrap_or(0));
    if columns == 0 {
        return 0.0;
    }
    let widths = column_widths(table, columns);
    let height = |row: &[String]| {
        let lines = (0..columns)
            .map(|i| wrap_text(row.get(i).map_or("", String::as_str), widths[i] - 2.0 * CELL_PAD_X, TABLE_SIZE).len())
            .max()
            .unwrap_or(1);
        lines as f64 * TABLE_SIZE * LEADING + 2.0 * CELL_PAD_Y
    };
    height(&table.columns) + table.rows.first().map_or(0.0, |row| height(row))
}

/// Column widths that fill the text column: each column's natural width (its longest cell on
/// one line) when they all fit; else each at least its longest word, the rest shared in
/// proportion to what each would still need.
fn column_widths(table: &Table, columns: usize) -> Vec<f64> {
    let cells = || std::iter::once(&table.columns).chain(&table.rows);
    let measure = |i: usize, f: &dyn Fn(&str) -> f64| -> f64 {
        cells().map(|row| row.get(i).map_or(0.0, |t| f(t))).fold(0.0, f64::max) + 2.0 * CELL_PAD_X
    };
    let natural: Vec<f64> = (0..columns)
        .map(|i| measure(i, &|t| t.split('\n').map(|l| text_width(l, TABLE_SIZE)).fold(0.0, f64::max)))
        .collect();
    let longest_word = |t: &str| t.split_whitespace().map(|w| text_width(w, TABLE_SIZE)).fold(0.0, f64::max);
    // A column never needs less than its longest word, nor more than a third of the page for it.
    let minimum: Vec<f64> = (0..columns).map(|i| measure(i, &longest_word).min(TEXT_COLUMN / 3.0)).collect();
    let total: f64 = natural.iter().sum();
    if total <= TEXT_COLUMN {
        let extra = (TEXT_COLUMN - total) / columns as f64;
        return natural.iter().map(|w| w + extra).collect();
    }
    let min_total: f64 = minimum.iter().sum();
    if min_total >= TEXT_COLUMN {
        return minimum.iter().map(|w| w * TEXT_COLUMN / min_total).collect();
    }
    let wanting: f64 = natural.iter().zip(&minimum).map(|(n, m)| n - m).sum();
    let spare = TEXT_COLUMN - min_total;
    natural.iter().zip(&minimum).map(|(n, m)| m + if wanting > 0.0 { spare * (n - m) / wanting } else { 0.0 }).collect()
}

/// The document on A4 portrait pages, one SVG per page, for [`crate::to_pdf_pages`].
pub fn to_pages(document: &ReportDocument) -> Vec<Svg> {
    let mut layout = Layout::new();
    layout.title(&document.title, document.subtitle.as_deref());
    for (i, block) in document.blocks.iter().enumerate() {
        match block {
            Block::Heading(text) => layout.heading(text, section_lead(&document.blocks[i..])),
            Block::Paragraph(text) => layout.paragraph(text, TEXT),
            Block::Note(text) => layout.paragraph(text, MUTED),
            Block::Table(table) => layout.table(table),
            Block::Figure(figure) => layout.figure(figure),
        }
    }
    let mut pages: Vec<Page> = layout.pages.into_iter().filter(|p| p.used).collect();
    if pages.is_empty() {
        pages.push(Page::default());
    }
    let count = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(i, page)| {
            let mut svg = String::with_capacity(page.body.len() + 1024);
            let title = escape(&format!("{} — page {} of {count}", document.title, i + 1));
            let _ = write!(
                svg,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{title}\" font-family=\"{f}\" font-size=\"{s}\">\n<title>{title}</title>\n<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"{bg}\"/>\n",
                w = num(PAGE_WIDTH),
                h = num(PAGE_HEIGHT),
                f = escape(style::FONT_FAMILY),
                s = num(BODY_SIZE),
                bg = style::BACKGROUND,
            );
            svg.push_str(&page.body);
            let foot_rule = BODY_BOTTOM + 14.0;
            let _ = writeln!(svg, "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{GRID}\"/>", num(MARGIN), num(MARGIN + TEXT_COLUMN), y = num(foot_rule));
            let mut baseline = foot_rule + FOOTER_SIZE + 4.0;
            let page_label = format!("Page {} of {count}", i + 1);
            let label_width = text_width(&page_label, FOOTER_SIZE) + 12.0;
            let (footer, _) = fit_text(&document.footer, TEXT_COLUMN - label_width, FOOTER_SIZE);
            let text = |svg: &mut String, x: f64, y: f64, t: &str, end: bool| {
                let anchor = if end { " text-anchor=\"end\"" } else { "" };
                let _ = writeln!(svg, "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{MUTED}\"{anchor}>{}</text>", num(x), num(y), num(FOOTER_SIZE), escape(t));
            };
            text(&mut svg, MARGIN, baseline, &footer, false);
            text(&mut svg, MARGIN + TEXT_COLUMN, baseline, &page_label, true);
            if !page.samples.is_empty() {
                let samples = page.samples.iter().map(|n| format!("n = {n}")).collect::<Vec<_>>().join(" · ");
                let intro = if page.samples.len() == 1 { "Figure on this page: " } else { "Figures on this page: " };
                for line in wrap_text(&format!("{intro}{samples}"), TEXT_COLUMN, FOOTER_SIZE).iter().take(2) {
                    baseline += FOOTER_SIZE * LEADING;
                    text(&mut svg, MARGIN, baseline, line, false);
                }
            }
            svg.push_str("</svg>\n");
            Svg::from_markup(svg)
        })
        .collect()
}

const CSS: &str = "
:root { color: #1f2933; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif; }
body { margin: 0; background: #f5f7fa; }
main { max-width: 52rem; margin: 2rem auto; padding: 2rem 2.5rem; background: #fff; line-height: 1.45; }
h1 { font-size: 1.7rem; margin: 0 0 .2rem; }
.subtitle { color: #5f6b7a; margin: 0 0 1.2rem; padding-bottom: .8rem; border-bottom: 1px solid #e4e7eb; }
h2 { font-size: 1.2rem; margin: 1.8rem 0 .5rem; }
p { margin: .4rem 0 .7rem; white-space: pre-line; }
.note { color: #5f6b7a; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-size: .9rem; }
th { text-align: left; color: #5f6b7a; font-weight: normal; background: #f1f3f5; }
th, td { padding: .3rem .45rem; border-bottom: 1px solid #e4e7eb; vertical-align: top; white-space: pre-line; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: #5f6b7a; font-size: .85rem; margin-top: .3rem; }
footer { color: #5f6b7a; font-size: .8rem; margin-top: 2rem; border-top: 1px solid #e4e7eb; padding-top: .5rem; }
@page { size: A4 portrait; margin: 16mm; }
@media print {
  body { background: #fff; }
  main { margin: 0; padding: 0; max-width: none; }
  h2 { break-after: avoid; }
  figure, tr { break-inside: avoid; }
}
";

/// The document as one self-contained HTML page: inline CSS, figures inline as SVG, every text
/// escaped.
pub fn to_html(document: &ReportDocument) -> String {
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n",
        escape(&document.title),
        escape(&document.title)
    );
    if let Some(sub) = &document.subtitle {
        let _ = writeln!(html, "<p class=\"subtitle\">{}</p>", escape(sub));
    }
    for block in &document.blocks {
        match block {
            Block::Heading(text) => {
                let _ = writeln!(html, "<h2>{}</h2>", escape(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(html, "<p>{}</p>", escape(text));
            }
            Block::Note(text) => {
                let _ = writeln!(html, "<p class=\"note\">{}</p>", escape(text));
            }
            Block::Table(table) => {
                let columns = table.columns.len().max(table.rows.iter().map(Vec::len).max().unwrap_or(0));
                let class = |i: usize| if table.right_aligned.get(i).copied().unwrap_or(false) { " class=\"num\"" } else { "" };
                html.push_str("<table>\n<thead><tr>");
                for i in 0..columns {
                    let _ = write!(html, "<th{}>{}</th>", class(i), escape(table.columns.get(i).map_or("", String::as_str)));
                }
                html.push_str("</tr></thead>\n<tbody>\n");
                for row in &table.rows {
                    html.push_str("<tr>");
                    for i in 0..columns {
                        let _ = write!(html, "<td{}>{}</td>", class(i), escape(row.get(i).map_or("", String::as_str)));
                    }
                    html.push_str("</tr>\n");
                }
                html.push_str("</tbody>\n</table>\n");
            }
            Block::Figure(figure) => {
                // The figure's markup is ours and already escaped inside (see `Svg`).
                let _ = writeln!(
                    html,
                    "<figure>\n{}<figcaption>{} · n = {}</figcaption>\n</figure>",
                    figure.svg.as_str(),
                    escape(&figure.caption),
                    escape(&figure.n)
                );
            }
        }
    }
    let _ = writeln!(html, "<footer>{}</footer>\n</main>\n</body>\n</html>", escape(&document.footer));
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_and_splits_long_ones() {
        let lines = wrap_text("one two three", 1000.0, 10.0);
        assert_eq!(lines, ["one two three"]);
        let long = "x".repeat(200);
        let lines = wrap_text(&long, 100.0, 10.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), long);
        assert!(lines.iter().all(|l| text_width(l, 10.0) <= 100.0));
        assert_eq!(wrap_text("a\nb", 100.0, 10.0), ["a", "b"]);
        assert_eq!(wrap_text("", 100.0, 10.0), [""]);
    }

    #[test]
    fn sizes_come_from_the_view_box() {
        let svg = crate::BarChart::default().render();
        assert_eq!(svg_size(&svg), (640.0, 160.0));
        let nested = nested_svg(&svg, 10.0, 20.0, 320.0, 80.0);
        assert!(nested.starts_with("<svg x=\"10\" y=\"20\" width=\"320\" height=\"80\""), "{}", &nested[..120]);
        assert!(nested.contains("viewBox=\"0 0 640 160\""));
        assert!(!nested[..nested.find('>').unwrap_or(0)].contains("width=\"640\""));
    }
}
