//! Which media types are worth compressing: text and structured text compress well; images
//! (but SVG), audio, video, archives and WOFF fonts are compressed already.

/// `application/` subtypes that are text or compress well, besides `+json` and `+xml`.
const APPLICATION: &[&[u8]] = &[
    b"json",
    b"javascript",
    b"x-javascript",
    b"ecmascript",
    b"xml",
    b"xhtml+xml",
    b"x-ndjson",
    b"x-www-form-urlencoded",
    b"graphql",
    b"wasm",
    b"x-sh",
    b"x-tar",
    b"vnd.ms-fontobject",
    b"x-font-ttf",
    b"x-font-opentype",
    b"rtf",
    b"yaml",
    b"x-yaml",
    b"toml",
    b"csv",
];

/// Whether a body of type `content_type` (a `Content-Type` field value, RFC 9110 section
/// 8.3, parameters allowed) is worth compressing: `text/*` (`text/event-stream` too),
/// `application/json`, `application/javascript`, `application/xml`, any `+json` or `+xml`
/// subtype (`image/svg+xml`, `application/ld+json`, `application/rss+xml`...), a few other
/// text-like `application/` types and WebAssembly, `font/ttf`, `font/otf`, `image/x-icon`
/// and `image/bmp`. Anything else (`image/png`, `application/zip`, `video/*`, `font/woff2`,
/// `application/octet-stream`, a malformed value) is not.
pub(crate) fn compressible(content_type: &[u8]) -> bool {
    let essence = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    let Some(slash) = essence.iter().position(|&b| b == b'/') else {
        return false;
    };
    let (kind, subtype) = (&essence[..slash], &essence[slash + 1..]);
    if subtype.is_empty() {
        return false;
    }
    let is = |a: &[u8], b: &[u8]| a.eq_ignore_ascii_case(b);
    let suffix = |s: &[u8]| subtype.len() > s.len() && is(&subtype[subtype.len() - s.len()..], s);
    if is(kind, b"text") {
        return true;
    }
    if suffix(b"+json") || suffix(b"+xml") {
        return true;
    }
    if is(kind, b"application") {
        return APPLICATION.iter().any(|t| is(subtype, t));
    }
    if is(kind, b"font") {
        return is(subtype, b"ttf") || is(subtype, b"otf");
    }
    if is(kind, b"image") {
        return is(subtype, b"x-icon") || is(subtype, b"vnd.microsoft.icon") || is(subtype, b"bmp");
    }
    false
}

#[cfg(test)]
mod tests {
    use super::compressible;

    #[test]
    fn text_and_structured_types_compress() {
        for t in [
            "text/html",
            "text/plain; charset=utf-8",
            "TEXT/CSS",
            "text/event-stream",
            "application/json",
            "Application/JSON; charset=UTF-8",
            "application/javascript",
            "application/xml",
            "image/svg+xml",
            "application/ld+json",
            "application/problem+json",
            "application/rss+xml",
            "application/wasm",
            "font/ttf",
            " text/html ; charset=utf-8",
        ] {
            assert!(compressible(t.as_bytes()), "{t}");
        }
    }

    #[test]
    fn compressed_and_unknown_types_do_not() {
        for t in [
            "image/png",
            "image/jpeg",
            "image/webp",
            "application/zip",
            "application/gzip",
            "application/octet-stream",
            "video/mp4",
            "audio/mpeg",
            "font/woff2",
            "font/woff",
            "application/pdf",
            "text",
            "text/",
            "/json",
            "",
            "+json",
            "application/+json",
            "\u{ff}/\u{fe}",
        ] {
            assert!(!compressible(t.as_bytes()), "{t}");
        }
    }
}
