//! HTTP response compression (RFC 9110 section 8.4, content codings): which coding a request
//! accepts ([`accept`]), which media types are worth compressing ([`media`]), what one
//! response has said about itself so far and whether it gets compressed ([`plan`]), and the
//! encoders ([`encoder`]). Sans-IO like the rest of `http`: bytes in, bytes out.
//!
//! The response writer consults this only when a route enabled compression
//! ([`App::compress`](crate::App::compress), [`Router::compress`](crate::Router::compress)):
//! otherwise its state is a `None` that nothing allocates for.

pub(crate) mod accept;
pub(crate) mod encoder;
pub(crate) mod media;
pub(crate) mod plan;

/// A content coding uweb can apply to a response body (RFC 9110 section 8.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub enum Coding {
    /// `gzip` (RFC 9110 section 8.4.1.3): deflate in the gzip container (RFC 1952).
    Gzip,
    /// `br`, Brotli (RFC 7932). Only with the `brotli` cargo feature.
    #[cfg(feature = "brotli")]
    Brotli,
}

impl Coding {
    /// The coding's token, as written in `Content-Encoding`.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            #[cfg(feature = "brotli")]
            Coding::Brotli => "br",
        }
    }
}

/// Settings of HTTP response compression, enabled per app, group or route with
/// [`App::compress`](crate::App::compress) or [`Router::compress`](crate::Router::compress).
///
/// A body given to [`HttpResponse::end`](crate::HttpResponse::end) (or to one
/// [`try_end`](crate::HttpResponse::try_end) call that carries all of it) is compressed when
/// all of these hold:
/// - the request's `Accept-Encoding` (RFC 9110 section 12.5.3) accepts `br` (with the
///   `brotli` feature) or `gzip`; the coding with the highest q-value wins, ties going to
///   `br` before `gzip`;
/// - the body is at least [`threshold`](Self::threshold) bytes;
/// - the response has a `Content-Type` worth compressing: `text/*`, `application/json`,
///   `application/javascript`, `application/xml`, `image/svg+xml`, any `+json` or `+xml`
///   type, and a few more (already-compressed types such as `image/png`, archives, audio,
///   video or `font/woff2` are not);
/// - it is not a `204`, `206` or `304` (nor `1xx`), has no `Content-Range`, no
///   `Content-Encoding` of its own and no `Cache-Control: no-transform`.
///
/// The compressed response carries `Content-Encoding` and `Content-Length` of the compressed
/// body in bytes. A HEAD request gets the same fields as the GET would (its body is
/// compressed to learn the length, then dropped). Bodies sent with
/// [`write`](crate::HttpResponse::write) are compressed as they go (chunked transfer coding,
/// each write flushed so that event streams arrive at once); the threshold does not apply
/// to them. A body sent piecewise with [`try_end`](crate::HttpResponse::try_end) (static
/// files over 64 KiB) is coded piece by piece too, with chunked framing instead of its
/// `Content-Length`; a HEAD answer to it gets `Content-Encoding` and no length (RFC 9110
/// section 9.3.2 allows leaving it out). HTTP/1.0 clients get such bodies uncoded.
///
/// Every response of a route with compression enabled gets `Vary: Accept-Encoding` (RFC 9110
/// section 12.5.5), compressed or not, since the representation varies with that field;
/// except responses that set their own `Content-Encoding` or `Cache-Control: no-transform`,
/// which are left entirely alone. A strong `ETag` written while a coding was negotiated for
/// a compressible type is made weak (`W/"..."`), since a strong validator must change with
/// the content coding (RFC 9110 section 8.8.3).
///
/// When the request accepts no coding that uweb has, not even `identity` (`identity;q=0`,
/// `*;q=0`), the response is sent without a coding anyway, as nginx does, rather than `406`.
///
/// Costs: a route without compression pays nothing (no allocation, one untaken branch per
/// field and per end). With it, `gzip` reuses one compressor and one output buffer per
/// event loop (thread) for bodies given whole; a streamed body owns its own compressor (about
/// 270 KiB for `gzip`) until it ends. Brotli's encoder cannot be reset, so each `br`
/// response builds one, sized to the body (its window shrinks to fit small bodies).
///
/// ```
/// use uweb::{App, Compression, Router};
///
/// let app = App::new()
///     .compress(Compression::default().threshold(512))
///     .get("/report", |res, _req| {
///         res.write_header("Content-Type", "application/json")
///             .end("[1, 2, 3]");
///     })
///     // Inner groups override outer ones.
///     .nest("/raw", Router::new().compress(Compression::default().gzip_level(1)));
/// # drop(app);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compression {
    pub(crate) threshold: usize,
    pub(crate) gzip_level: u8,
    pub(crate) brotli_quality: u8,
    pub(crate) brotli_window: u8,
}

impl Default for Compression {
    /// Threshold 1024 bytes, gzip level 6, Brotli quality 4 with a window of 2^20 bytes.
    ///
    /// Brotli quality 4 is the usual choice for responses compressed on the fly (as opposed
    /// to files compressed ahead of time at 11): it runs about as fast as gzip level 6 and
    /// compresses better; from quality 5 on, Brotli switches to slower match finders.
    fn default() -> Self {
        Compression {
            threshold: 1024,
            gzip_level: 6,
            brotli_quality: 4,
            brotli_window: 20,
        }
    }
}

impl Compression {
    /// Compression with the default settings (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The smallest body, in bytes, that [`end`](crate::HttpResponse::end) compresses
    /// (default 1024): below it, the coding's header and the work cost more than they save.
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// The `gzip` compression level, 1 (fastest) to 9 (smallest); default 6. Values out of
    /// range are clamped.
    pub fn gzip_level(mut self, level: u32) -> Self {
        self.gzip_level = level.clamp(1, 9) as u8;
        self
    }

    /// The Brotli quality, 0 (fastest) to 11 (smallest); default 4. Values out of range are
    /// clamped. Used with the `brotli` cargo feature only.
    pub fn brotli_quality(mut self, quality: u32) -> Self {
        self.brotli_quality = quality.min(11) as u8;
        self
    }

    /// The largest Brotli window, as a power of two bytes, 10 (1 KiB) to 24 (16 MiB);
    /// default 20 (1 MiB). A streamed body's encoder keeps a window this large once the body
    /// has grown to it. Values out of range are clamped. Used with the `brotli` cargo
    /// feature only.
    pub fn brotli_window(mut self, bits: u32) -> Self {
        self.brotli_window = bits.clamp(10, 24) as u8;
        self
    }
}
