//! One response's compression: the coding its request accepts, what its header fields have
//! said so far, and the decision made from them when the body comes.

use super::encoder::Stream;
use super::{Coding, Compression, media};

/// Facts gathered from the fields a handler wrote: a documented set of independent flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Seen(u8);

impl Seen {
    /// A `Content-Type` was written.
    const TYPED: Seen = Seen(1);
    /// The last `Content-Type` written is worth compressing ([`media::compressible`]).
    const COMPRESSIBLE: Seen = Seen(1 << 1);
    /// The response brings its own `Content-Encoding`, or `Cache-Control: no-transform`:
    /// it is left alone (RFC 9110 section 8.4; RFC 9111 section 5.2.2.6).
    const HANDS_OFF: Seen = Seen(1 << 2);
    /// A `Content-Range` was written: a part of a representation is not recoded.
    const RANGE: Seen = Seen(1 << 3);
    /// A `Vary` that already names `Accept-Encoding` (or is `*`) was written.
    const VARIES: Seen = Seen(1 << 4);

    fn has(self, flag: Seen) -> bool {
        self.0 & flag.0 == flag.0
    }

    fn set(&mut self, flag: Seen, on: bool) {
        if on {
            self.0 |= flag.0;
        } else {
            self.0 &= !flag.0;
        }
    }
}

/// What the writer does with a field it shows to [`Plan::observe`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FieldAction {
    /// Write it as given.
    Write,
    /// Write it as the weak validator `W/` + value (RFC 9110 section 8.8.3).
    WeakenEtag,
}

/// Compression state of one response of a route that enabled it; kept, boxed, in the
/// response state (one small allocation per response of such a route; the coder's state is
/// the encoder's business).
#[derive(Debug)]
pub(crate) struct Plan {
    config: Compression,
    /// The coding `Accept-Encoding` allows; `None`: identity.
    accepted: Option<Coding>,
    seen: Seen,
    /// The coding chosen for this response, once its header section is being ended.
    chosen: Option<Coding>,
    /// The encoder of a body being streamed in the chosen coding.
    pub(crate) stream: Option<Box<Stream>>,
}

impl Plan {
    /// A response to a request that accepts `accepted`, under `config`.
    pub(crate) fn new(config: Compression, accepted: Option<Coding>) -> Self {
        Plan {
            config,
            accepted,
            seen: Seen::default(),
            chosen: None,
            stream: None,
        }
    }

    /// The settings.
    pub(crate) fn config(&self) -> &Compression {
        &self.config
    }

    /// Notes a header field the handler writes; returns how to write it.
    pub(crate) fn observe(&mut self, name: &str, value: &str) -> FieldAction {
        let name = name.as_bytes();
        let value = value.as_bytes();
        let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
        if is(b"content-type") {
            self.seen.set(Seen::TYPED, true);
            self.seen
                .set(Seen::COMPRESSIBLE, media::compressible(value));
        } else if is(b"content-encoding") {
            self.seen.set(Seen::HANDS_OFF, true);
        } else if is(b"cache-control") {
            if list_has(value, |e| e.eq_ignore_ascii_case(b"no-transform")) {
                self.seen.set(Seen::HANDS_OFF, true);
            }
        } else if is(b"content-range") {
            self.seen.set(Seen::RANGE, true);
        } else if is(b"vary") {
            if list_has(value, |e| {
                e == b"*" || e.eq_ignore_ascii_case(b"accept-encoding")
            }) {
                self.seen.set(Seen::VARIES, true);
            }
        } else if is(b"etag") && value.first() == Some(&b'"') && self.may_compress_type() {
            return FieldAction::WeakenEtag;
        }
        FieldAction::Write
    }

    /// Whether the response, as far as its fields tell, could be compressed: a coding was
    /// negotiated and the type is compressible or not written yet.
    fn may_compress_type(&self) -> bool {
        self.accepted.is_some()
            && !self.seen.has(Seen::HANDS_OFF)
            && (!self.seen.has(Seen::TYPED) || self.seen.has(Seen::COMPRESSIBLE))
    }

    /// The coding for a response with status `status` (its three digits) and a body of
    /// `len` bytes (`None`: streamed, of unknown length; the threshold does not apply), if it
    /// gets one. Remembered for [`write_fields`](Self::write_fields).
    pub(crate) fn choose(&mut self, status: [u8; 3], len: Option<usize>) -> Option<Coding> {
        let status_allows = !matches!(&status, b"204" | b"206" | b"304" | [b'1', ..]);
        let fits = len.is_none_or(|len| len >= self.config.threshold);
        let ok = status_allows
            && fits
            && self.seen.has(Seen::COMPRESSIBLE)
            && !self.seen.has(Seen::HANDS_OFF)
            && !self.seen.has(Seen::RANGE);
        self.chosen = if ok { self.accepted } else { None };
        self.chosen
    }

    /// The fields compression adds as the header section ends: `Content-Encoding` of the
    /// chosen coding, and `Vary: Accept-Encoding` unless the response is left alone or
    /// already varies on it (RFC 9110 sections 8.4 and 12.5.5).
    pub(crate) fn write_fields(&self, out: &mut Vec<u8>) {
        if self.seen.has(Seen::HANDS_OFF) {
            return;
        }
        if !self.seen.has(Seen::VARIES) {
            out.extend_from_slice(b"Vary: Accept-Encoding\r\n");
        }
        if let Some(coding) = self.chosen {
            out.extend_from_slice(b"Content-Encoding: ");
            out.extend_from_slice(coding.token().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }

    /// No coding for this response after all (its `Vary` stays).
    pub(crate) fn decline(&mut self) {
        self.chosen = None;
    }

    /// Forgets the fields seen: the response they belonged to was discarded.
    pub(crate) fn forget_fields(&mut self) {
        self.seen = Seen::default();
        self.chosen = None;
        self.stream = None;
    }
}

/// Whether the comma-separated list `value` has an element (trimmed, parameters kept) for
/// which `matches` holds.
fn list_has(value: &[u8], matches: impl Fn(&[u8]) -> bool) -> bool {
    value.split(|&b| b == b',').any(|e| matches(e.trim_ascii()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan::new(Compression::default(), Some(Coding::Gzip))
    }

    fn fields(p: &Plan) -> String {
        let mut out = Vec::new();
        p.write_fields(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn compressible_body_over_the_threshold_gets_the_coding() {
        let mut p = plan();
        p.observe("Content-Type", "application/json");
        assert_eq!(p.choose(*b"200", Some(1023)), None);
        assert_eq!(fields(&p), "Vary: Accept-Encoding\r\n");
        assert_eq!(p.choose(*b"200", Some(1024)), Some(Coding::Gzip));
        assert_eq!(
            fields(&p),
            "Vary: Accept-Encoding\r\nContent-Encoding: gzip\r\n"
        );
        assert_eq!(p.choose(*b"404", None), Some(Coding::Gzip));
    }

    #[test]
    fn statuses_ranges_and_types_that_stay_uncoded() {
        for status in [*b"204", *b"206", *b"304", *b"101"] {
            let mut p = plan();
            p.observe("content-type", "text/html");
            assert_eq!(p.choose(status, Some(5000)), None);
        }
        let mut p = plan();
        assert_eq!(p.choose(*b"200", Some(5000)), None, "no Content-Type");
        p.observe("Content-Type", "text/html");
        p.observe("Content-Type", "image/png");
        assert_eq!(p.choose(*b"200", Some(5000)), None, "the last type counts");
        let mut p = plan();
        p.observe("Content-Type", "text/html");
        p.observe("Content-Range", "bytes 0-9/100");
        assert_eq!(p.choose(*b"200", Some(5000)), None);
        let mut p = Plan::new(Compression::default(), None);
        p.observe("Content-Type", "text/html");
        assert_eq!(p.choose(*b"200", Some(5000)), None, "identity negotiated");
        assert_eq!(fields(&p), "Vary: Accept-Encoding\r\n");
    }

    #[test]
    fn own_coding_and_no_transform_are_left_alone() {
        for (name, value) in [
            ("Content-Encoding", "gzip"),
            ("Cache-Control", "public, No-Transform"),
        ] {
            let mut p = plan();
            p.observe("Content-Type", "text/html");
            p.observe(name, value);
            assert_eq!(p.choose(*b"200", Some(5000)), None, "{name}");
            assert_eq!(fields(&p), "", "{name}");
        }
        let mut p = plan();
        p.observe("Cache-Control", "max-age=60");
        p.observe("Content-Type", "text/html");
        assert!(p.choose(*b"200", Some(5000)).is_some());
    }

    #[test]
    fn vary_is_not_repeated() {
        let mut p = plan();
        p.observe("Vary", "Origin, accept-encoding");
        assert_eq!(fields(&p), "");
        let mut p = plan();
        p.observe("Vary", "Origin");
        assert_eq!(fields(&p), "Vary: Accept-Encoding\r\n");
    }

    #[test]
    fn strong_etags_weaken_only_where_a_coding_may_apply() {
        let mut p = plan();
        assert_eq!(p.observe("ETag", "\"abc\""), FieldAction::WeakenEtag);
        assert_eq!(p.observe("ETag", "W/\"abc\""), FieldAction::Write);
        p.observe("Content-Type", "image/png");
        assert_eq!(p.observe("ETag", "\"abc\""), FieldAction::Write);
        let mut p = Plan::new(Compression::default(), None);
        assert_eq!(p.observe("ETag", "\"abc\""), FieldAction::Write);
    }
}
