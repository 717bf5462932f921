//! Which image formats an icon may be, told from its bytes (never from its
//! file name): what the dashboard serves from an extension on its own origin
//! and what `validate` expects `metadata.json`'s `icon` to name.

/// An image format dockhand serves as an icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
    /// SVG (served only with a sandboxing content security policy: an SVG
    /// may carry scripts).
    Svg,
    /// Windows icon.
    Ico,
}

impl ImageKind {
    /// The `Content-Type` to serve it with.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Gif => "image/gif",
            ImageKind::Webp => "image/webp",
            ImageKind::Svg => "image/svg+xml",
            ImageKind::Ico => "image/x-icon",
        }
    }
}

/// The image format of `bytes`, from its signature; `None` for anything else
/// (HTML, scripts, text, an empty file). An SVG is XML text whose first
/// element is `<svg`, after an optional byte-order mark, XML declaration,
/// doctype, comments and white space.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(PNG) {
        return Some(ImageKind::Png);
    }
    if bytes.starts_with(b"\xff\xd8\xff") {
        return Some(ImageKind::Jpeg);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some(ImageKind::Gif);
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Some(ImageKind::Webp);
    }
    if bytes.len() >= 6 && bytes.starts_with(b"\x00\x00\x01\x00") && bytes[4..6] != [0, 0] {
        return Some(ImageKind::Ico);
    }
    if is_svg(bytes) {
        return Some(ImageKind::Svg);
    }
    None
}

fn is_svg(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut rest = text.trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("<?") {
            let Some(end) = after.find("?>") else {
                return false;
            };
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            let Some(end) = after.find("-->") else {
                return false;
            };
            rest = &after[end + 3..];
        } else if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case("<!doctype") {
            let Some(end) = rest.find('>') else {
                return false;
            };
            rest = &rest[end + 1..];
        } else {
            let Some(tag) = rest.strip_prefix("<svg") else {
                return false;
            };
            return tag.starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_told_by_their_signature() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(ImageKind::Png)
        );
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"), Some(ImageKind::Jpeg));
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Some(ImageKind::Gif));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(ImageKind::Webp));
        assert_eq!(sniff(b"\0\0\x01\0\x01\0\x10\x10"), Some(ImageKind::Ico));
        for svg in [
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            "\u{feff}<?xml version=\"1.0\"?>\n<!-- c -->\n<!DOCTYPE svg>\n<svg>\n</svg>",
            "  <svg\nviewBox=\"0 0 1 1\"></svg>",
        ] {
            assert_eq!(sniff(svg.as_bytes()), Some(ImageKind::Svg), "{svg}");
        }
    }

    #[test]
    fn anything_else_is_not_an_icon() {
        for bytes in [
            &b""[..],
            b"<!doctype html><html><script>alert(1)</script>",
            b"<html><svg></svg></html>",
            b"<svgx>",
            b"<?xml version=\"1.0\"?><html/>",
            b"alert(document.cookie)",
            b"\0\0\x01\0\0\0",
            b"RIFF\0\0\0\0WAVE",
            b"<!-- unterminated <svg>",
        ] {
            assert_eq!(sniff(bytes), None, "{}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn content_types() {
        assert_eq!(ImageKind::Svg.content_type(), "image/svg+xml");
        assert_eq!(ImageKind::Png.content_type(), "image/png");
    }
}
