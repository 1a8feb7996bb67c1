//! Exports of a rendered [`Svg`] to PNG (resvg and tiny-skia) and PDF (svg2pdf), with text set in
//! the font embedded in this crate, so an export looks like the page on any machine, with no system
//! font and no download.

use crate::Svg;
use resvg::usvg::{self, fontdb};
use std::sync::{Arc, OnceLock};

/// DejaVu Sans (Bitstream Vera licence, see `fonts/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const FONT_NAME: &str = "DejaVu Sans";

/// The largest PNG side, in pixels; bigger requests are refused rather than allocating gigabytes.
pub const MAX_PNG_SIDE: u32 = 16_384;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the SVG could not be read: {0}")]
    Parse(String),
    #[error("scale {0} is not allowed: it must be a finite number above 0 and at most 10")]
    InvalidScale(f32),
    #[error("the image would be {width}×{height} pixels; at most {MAX_PNG_SIDE} per side")]
    TooLarge { width: u32, height: u32 },
    #[error("PNG encoding failed: {0}")]
    Png(String),
    #[error("PDF conversion failed: {0}")]
    Pdf(String),
    #[error("a PDF needs at least one page")]
    NoPages,
}

/// The font database every export uses: only the embedded font, which also answers for the
/// generic families, so any `font-family` falls back to it.
fn fonts() -> Arc<fontdb::Database> {
    static FONTS: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = fontdb::Database::new();
            db.load_font_data(FONT.to_vec());
            db.set_sans_serif_family(FONT_NAME);
            db.set_serif_family(FONT_NAME);
            db.set_monospace_family(FONT_NAME);
            db.set_cursive_family(FONT_NAME);
            db.set_fantasy_family(FONT_NAME);
            Arc::new(db)
        })
        .clone()
}

fn parse(svg: &Svg) -> Result<usvg::Tree, RenderError> {
    let options = usvg::Options { font_family: FONT_NAME.to_string(), fontdb: fonts(), ..usvg::Options::default() };
    usvg::Tree::from_str(svg.as_str(), &options).map_err(|e| RenderError::Parse(e.to_string()))
}

/// Checks that an SVG is one the exporters can read (well-formed XML, valid SVG).
pub fn validate(svg: &Svg) -> Result<(), RenderError> {
    parse(svg).map(|_| ())
}

/// Renders the SVG to a PNG at `scale` pixels per SVG unit (2.0 for a sharp image on a
/// high-density screen), on the chart's own white background.
pub fn to_png(svg: &Svg, scale: f32) -> Result<Vec<u8>, RenderError> {
    if !scale.is_finite() || scale <= 0.0 || scale > 10.0 {
        return Err(RenderError::InvalidScale(scale));
    }
    let tree = parse(svg)?;
    let size = tree.size();
    let width = (size.width() * scale).ceil();
    let height = (size.height() * scale).ceil();
    if width > MAX_PNG_SIDE as f32 || height > MAX_PNG_SIDE as f32 {
        return Err(RenderError::TooLarge { width: width as u32, height: height as u32 });
    }
    let (width, height) = ((width as u32).max(1), (height as u32).max(1));
    let mut pixmap = resvg::tiny_skia::Pixmap::new(width, height).ok_or(RenderError::TooLarge { width, height })?;
    resvg::render(&tree, resvg::tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| RenderError::Png(e.to_string()))
}

/// Converts the SVG to a one-page PDF of the chart's size (one SVG unit = one point), with
/// vector shapes and real, selectable text in the embedded font.
pub fn to_pdf(svg: &Svg) -> Result<Vec<u8>, RenderError> {
    let tree = parse(svg)?;
    svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), svg2pdf::PageOptions::default()).map_err(|e| RenderError::Pdf(e.to_string()))
}

/// Converts several SVGs into one PDF, one page each, every page the size of its chart.
pub fn to_pdf_pages(svgs: &[Svg]) -> Result<Vec<u8>, RenderError> {
    use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, TextStr};
    if svgs.is_empty() {
        return Err(RenderError::NoPages);
    }
    let mut next = Ref::new(1);
    let catalog = next.bump();
    let page_tree = next.bump();
    let mut pdf = Pdf::new();
    let mut pages = Vec::new();
    for svg in svgs {
        let tree = parse(svg)?;
        let (chunk, root) = svg2pdf::to_chunk(&tree, svg2pdf::ConversionOptions::default()).map_err(|e| RenderError::Pdf(e.to_string()))?;
        // The chunk numbers its objects from 1; move them after the ones already written.
        let mut map = std::collections::HashMap::new();
        let chunk = chunk.renumber(|old| *map.entry(old).or_insert_with(|| next.bump()));
        let root = *map.get(&root).ok_or_else(|| RenderError::Pdf("the converted chart lost its root object".to_string()))?;
        let (w, h) = (tree.size().width(), tree.size().height());
        let page = next.bump();
        let contents = next.bump();
        let name = Name(b"Chart");
        let mut content = Content::new();
        // The chart is a 1×1 form; scaling it by the page size fills the page, as for an image.
        content.save_state().transform([w, 0.0, 0.0, h, 0.0, 0.0]).x_object(name).restore_state();
        pdf.stream(contents, &content.finish());
        let mut writer = pdf.page(page);
        writer.media_box(Rect::new(0.0, 0.0, w, h)).parent(page_tree).contents(contents);
        writer.resources().x_objects().pair(name, root);
        writer.finish();
        pdf.extend(&chunk);
        pages.push(page);
    }
    pdf.catalog(catalog).pages(page_tree);
    pdf.pages(page_tree).kids(pages.iter().copied()).count(pages.len() as i32);
    let info = next.bump();
    pdf.document_info(info).producer(TextStr("Trailmap"));
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_markup_is_a_parse_error() {
        let broken = Svg::from_markup("<svg".to_string());
        assert!(matches!(to_pdf(&broken), Err(RenderError::Parse(_))));
        assert!(matches!(to_png(&broken, 1.0), Err(RenderError::Parse(_))));
        assert!(matches!(to_pdf_pages(&[broken]), Err(RenderError::Parse(_))));
    }
}
