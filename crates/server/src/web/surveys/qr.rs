//! QR codes of public survey links, for a counter card or a receipt: as SVG (sharp at any print
//! size) and as PNG (for tools that only take pictures). The code is made by the `qrcode` crate
//! without its image features; both pictures are drawn here from its modules, the PNG with a
//! small encoder over `flate2`, because a QR code is black and white squares and needs no
//! renderer.

use qrcode::{Color, EcLevel, QrCode};
use std::fmt::Write as _;
use std::io::Write as _;

/// Light modules around the code, as the standard asks, so phones find its edges.
const QUIET_ZONE: usize = 4;

/// The modules of a QR code of `text` (error correction M, which survives a smudge), row by row,
/// with their side; `None` when the text is too long for any QR code.
pub fn modules(text: &str) -> Option<(usize, Vec<bool>)> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let dark = code.to_colors().into_iter().map(|c| c == Color::Dark).collect();
    Some((code.width(), dark))
}

/// The QR code of `text` as an SVG picture, one unit per module, quiet zone included.
pub fn svg(text: &str) -> Option<String> {
    let (width, dark) = modules(text)?;
    let side = width + 2 * QUIET_ZONE;
    let mut path = String::new();
    for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
        let _ = write!(path, "M{} {}h1v1h-1z", i % width + QUIET_ZONE, i / width + QUIET_ZONE);
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" width=\"{px}\" height=\"{px}\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>",
        px = side * 8
    ))
}

/// The QR code of `text` as a grayscale PNG with `scale` pixels per module.
pub fn png(text: &str, scale: usize) -> Option<Vec<u8>> {
    let (width, dark) = modules(text)?;
    let scale = scale.clamp(1, 32);
    let side = (width + 2 * QUIET_ZONE) * scale;
    // Each row: filter byte 0 (none), then one byte per pixel, 0 black, 255 white.
    let mut raw = Vec::with_capacity(side * (side + 1));
    for y in 0..side {
        raw.push(0u8);
        for x in 0..side {
            let (mx, my) = ((x / scale).checked_sub(QUIET_ZONE), (y / scale).checked_sub(QUIET_ZONE));
            let is_dark = match (mx, my) {
                (Some(mx), Some(my)) if mx < width && my < width => dark[my * width + mx],
                _ => false,
            };
            raw.push(if is_dark { 0 } else { 255 });
        }
    }
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zlib.write_all(&raw).ok()?;
    let data = zlib.finish().ok()?;

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let side = u32::try_from(side).ok()?;
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&side.to_be_bytes());
    // Bit depth 8, colour type 0 (grayscale), deflate, no filter method variants, no interlace.
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &data);
    chunk(&mut png, b"IEND", &[]);
    Some(png)
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_and_the_png_draw_the_same_modules() {
        let link = "https://shop.example/s/abc123?customer_id=C-1";
        let (width, dark) = modules(link).unwrap();
        assert_eq!(width % 4, 1, "QR sides are 17 + 4 × version");
        // The finder pattern's corner module is dark in the top-left, top-right and bottom-left.
        assert!(dark[0] && dark[width - 1] && dark[(width - 1) * width]);
        let svg = svg(link).unwrap();
        assert_eq!(svg.matches("h1v1h-1z").count(), dark.iter().filter(|d| **d).count());
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));

        let png = png(link, 2).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let side = u32::from_be_bytes([png[16], png[17], png[18], png[19]]) as usize;
        assert_eq!(side, (width + 8) * 2);
        // Decompress the image data and compare every pixel with the modules.
        let start = png.windows(4).position(|w| w == b"IDAT").unwrap();
        let len = u32::from_be_bytes([png[start - 4], png[start - 3], png[start - 2], png[start - 1]]) as usize;
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&png[start + 4..start + 4 + len]), &mut raw).unwrap();
        assert_eq!(raw.len(), side * (side + 1));
        for my in 0..width {
            for mx in 0..width {
                let (x, y) = ((mx + 4) * 2, (my + 4) * 2);
                assert_eq!(raw[y * (side + 1) + 1 + x] == 0, dark[my * width + mx], "module {mx},{my}");
            }
        }
        assert!(modules(&"x".repeat(5_000)).is_none(), "too long for a QR code");
    }
}
