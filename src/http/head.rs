//! Request head parsing (RFC 9112 sections 2-6) on top of httparse, plus the framing checks
//! httparse leaves to its caller.

use std::mem::MaybeUninit;

use super::errors::ProtoError;
use crate::config::Config;

/// Stack storage for the header fields of one request head.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub type HeaderSlots<'b> = [MaybeUninit<httparse::Header<'b>>];

/// How the message body of a request is delimited (RFC 9112 section 6.3).
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed and validated request head; borrows the read buffer.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Debug)]
pub struct Head<'h, 'b> {
    /// Method token, case-sensitive (RFC 9110 section 9.1).
    pub method: &'b str,
    /// Request target as sent (RFC 9112 section 3.2).
    pub target: &'b str,
    /// Path of the target, without the query.
    pub path: &'b str,
    /// Query of the target, without `?` (empty when absent).
    pub query: &'b str,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Header fields in arrival order.
    pub headers: &'h [httparse::Header<'b>],
    /// Length of the head in bytes, final CRLF included.
    pub len: usize,
    /// Body framing.
    pub framing: BodyFraming,
    /// Whether the connection stays open after this exchange (RFC 9112 section 9.3).
    pub keep_alive: bool,
    /// `Expect: 100-continue` was sent (RFC 9110 section 10.1.1).
    pub expect_continue: bool,
    /// The `Host` field's value (at most one is accepted), for routing domains.
    pub host: Option<&'b [u8]>,
    /// An `Upgrade` field lists `websocket`: a WebSocket handshake, valid or not (RFC 6455
    /// section 4.2.1), found in the same pass so routing need not search the fields again.
    pub upgrade_websocket: bool,
}

/// Parses one request head from the front of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed and the limits still allow them.
///
/// # Errors
/// The protocol error the connection answers with (its pre-baked response, then close).
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub fn parse_head<'h, 'b>(
    buf: &'b [u8],
    slots: &'h mut HeaderSlots<'b>,
    config: &Config,
) -> Result<Option<Head<'h, 'b>>, ProtoError> {
    let limit = config.max_header_fields.min(slots.len());
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut slots[..limit]) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return partial(buf, config),
        Err(httparse::Error::TooManyHeaders) => return Err(ProtoError::HeaderFieldsTooLarge),
        Err(httparse::Error::Version) => return Err(version_error(buf)),
        Err(_) => return Err(ProtoError::BadRequest),
    };
    let (Some(method), Some(target), Some(minor_version)) = (req.method, req.path, req.version)
    else {
        return Err(ProtoError::BadRequest);
    };
    // The target is judged first: an over-long one is 414 even if it also overflows the head.
    if target.len() > config.max_request_target_bytes {
        return Err(ProtoError::UriTooLong);
    }
    if len > config.max_head_bytes {
        return Err(ProtoError::HeaderFieldsTooLarge);
    }
    let headers: &'h [httparse::Header<'b>] = req.headers;
    let fields = scan_fields(headers, minor_version)?;
    let (path, query) = split_target(target);
    Ok(Some(Head {
        method,
        target,
        path,
        query,
        minor_version,
        headers,
        len,
        framing: fields.framing,
        keep_alive: fields.keep_alive,
        expect_continue: fields.expect_continue,
        host: fields.host,
        upgrade_websocket: fields.upgrade_websocket,
    }))
}

/// An incomplete head: fine while under the limits, else 414 (still in the request line) or 431.
fn partial<T>(buf: &[u8], config: &Config) -> Result<Option<T>, ProtoError> {
    let line_end = buf.iter().position(|&b| b == b'\n');
    match line_end {
        None if buf.len() > config.max_request_target_bytes.max(config.max_head_bytes) => {
            Err(ProtoError::UriTooLong)
        }
        Some(end) if buf.len() > config.max_head_bytes => {
            let target_len = buf[..end]
                .split(|&b| b == b' ')
                .nth(1)
                .map_or(0, <[u8]>::len);
            if target_len > config.max_request_target_bytes {
                Err(ProtoError::UriTooLong)
            } else {
                Err(ProtoError::HeaderFieldsTooLarge)
            }
        }
        _ => Ok(None),
    }
}

/// `HTTP/x.y` with other digits is a version we do not support (505); anything else is 400.
/// httparse rejects the version as soon as its major digit is not 1, so on a request line
/// still arriving the rest of `x.y` may be missing: the same answer comes however the bytes
/// are split.
fn version_error(buf: &[u8]) -> ProtoError {
    let complete = buf.contains(&b'\n');
    let line = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut parts = line.split(|&b| b == b' ');
    let (Some(_method), Some(_target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return ProtoError::BadRequest;
    };
    let Some([major, rest @ ..]) = version.strip_prefix(b"HTTP/") else {
        return ProtoError::BadRequest;
    };
    let minor_ok = match rest {
        [] => true,
        [b'.', minor] => minor.is_ascii_digit(),
        [b'.'] => !complete,
        _ => false,
    };
    match major.is_ascii_digit() && minor_ok {
        true => ProtoError::VersionNotSupported,
        false => ProtoError::BadRequest,
    }
}

/// Splits a request target into path and query. Origin-form (`/p?q`) is the common case;
/// absolute-form (`http://h/p?q`, RFC 9112 section 3.2.2) yields its path; other forms
/// (`*`, authority-form) are returned whole as the path and match no route pattern.
fn split_target(target: &str) -> (&str, &str) {
    if target.starts_with('/') {
        return split_origin_form(target);
    }
    let without_fragment = target.split('#').next().unwrap_or(target);
    let path_and_query = if let Some(after_scheme) = without_fragment.find("://") {
        let rest = &without_fragment[after_scheme + 3..];
        rest.find(['/', '?']).map_or("/", |i| &rest[i..])
    } else {
        without_fragment
    };
    match path_and_query.split_once('?') {
        Some((path, query)) if !path.is_empty() => (path, query),
        Some((_, query)) => ("/", query),
        None => (path_and_query, ""),
    }
}

/// `/path?query#fragment` in one pass over the bytes: the common case, on every request
/// (two `str` searches cost 4% of a pipelined plaintext run).
fn split_origin_form(target: &str) -> (&str, &str) {
    let bytes = target.as_bytes();
    let Some(end) = bytes.iter().position(|&b| b == b'?' || b == b'#') else {
        return (target, "");
    };
    let path = &target[..end];
    if bytes[end] == b'#' {
        return (path, "");
    }
    let rest = &target[end + 1..];
    let query_end = rest.bytes().position(|b| b == b'#').unwrap_or(rest.len());
    (path, &rest[..query_end])
}

/// What the framing-relevant fields say.
struct Fields<'b> {
    host: Option<&'b [u8]>,
    framing: BodyFraming,
    keep_alive: bool,
    expect_continue: bool,
    upgrade_websocket: bool,
}

/// One pass over the fields: Content-Length, Transfer-Encoding, Connection, Host, Expect,
/// Upgrade.
fn scan_fields<'b>(
    headers: &[httparse::Header<'b>],
    minor_version: u8,
) -> Result<Fields<'b>, ProtoError> {
    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    let mut has_transfer_encoding = false;
    let mut hosts = 0u32;
    let mut host = None;
    let mut conn_close = false;
    let mut conn_keep_alive = false;
    let mut expect_continue = false;
    let mut upgrade_websocket = false;
    for h in headers {
        let name = h.name.as_bytes();
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => {
                hosts += 1;
                host = Some(h.value);
            }
            7 if name.eq_ignore_ascii_case(b"upgrade") => {
                upgrade_websocket |= lists_token(h.value, "websocket");
            }
            6 if name.eq_ignore_ascii_case(b"expect") => {
                expect_continue = trim(h.value).eq_ignore_ascii_case(b"100-continue");
            }
            10 if name.eq_ignore_ascii_case(b"connection") => {
                for option in h.value.split(|&b| b == b',').map(trim) {
                    conn_close |= option.eq_ignore_ascii_case(b"close");
                    conn_keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                let value = parse_content_length(h.value)?;
                if content_length.is_some_and(|seen| seen != value) {
                    return Err(ProtoError::BadRequest);
                }
                content_length = Some(value);
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                has_transfer_encoding = true;
                for coding in h.value.split(|&b| b == b',').map(trim) {
                    if chunked || !coding.eq_ignore_ascii_case(b"chunked") {
                        // chunked must be the final coding, once; we implement no other coding.
                        return Err(if coding.is_empty() {
                            ProtoError::BadRequest
                        } else {
                            ProtoError::NotImplemented
                        });
                    }
                    chunked = true;
                }
            }
            _ => {}
        }
    }
    if has_transfer_encoding && (content_length.is_some() || minor_version == 0) {
        return Err(ProtoError::BadRequest);
    }
    // RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0, and a
    // valid `uri-host [ ":" port ]` in it.
    if minor_version == 1 && hosts != 1 || hosts > 1 || host.is_some_and(|h| !super::host::valid(h))
    {
        return Err(ProtoError::BadRequest);
    }
    let framing = match (chunked, content_length) {
        (true, _) => BodyFraming::Chunked,
        (false, Some(0) | None) => BodyFraming::None,
        (false, Some(n)) => BodyFraming::Length(n),
    };
    let keep_alive = if minor_version == 1 {
        !conn_close
    } else {
        conn_keep_alive && !conn_close
    };
    Ok(Fields {
        host,
        framing,
        keep_alive,
        expect_continue: expect_continue && minor_version == 1,
        upgrade_websocket,
    })
}

/// Whether `value`, a comma-separated field value (RFC 9110 section 5.6.1), lists `token`
/// (case-insensitive).
pub(crate) fn lists_token(value: &[u8], token: &str) -> bool {
    std::str::from_utf8(value)
        .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// `Content-Length = 1*DIGIT`; a list of identical values is accepted (RFC 9112 section 6.3).
fn parse_content_length(value: &[u8]) -> Result<u64, ProtoError> {
    let mut result: Option<u64> = None;
    for item in value.split(|&b| b == b',').map(trim) {
        if item.is_empty() || item.len() > 19 || !item.iter().all(u8::is_ascii_digit) {
            return Err(ProtoError::BadRequest);
        }
        let n = item.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        if result.is_some_and(|seen| seen != n) {
            return Err(ProtoError::BadRequest);
        }
        result = Some(n);
    }
    result.ok_or(ProtoError::BadRequest)
}

/// Strips optional whitespace (SP / HTAB) from both ends.
fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |e| e + 1);
    &v[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Option<(String, String, BodyFraming, bool)>, ProtoError> {
        let mut slots = [const { MaybeUninit::uninit() }; 100];
        let config = Config::default();
        parse_head(raw, &mut slots, &config).map(|h| {
            h.map(|h| {
                (
                    h.path.to_owned(),
                    h.query.to_owned(),
                    h.framing,
                    h.keep_alive,
                )
            })
        })
    }

    #[test]
    fn parses_origin_form_with_query() {
        let (path, query, framing, keep) = parse(b"GET /a/b?x=1&y HTTP/1.1\r\nHost: h\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((path.as_str(), query.as_str()), ("/a/b", "x=1&y"));
        assert_eq!(framing, BodyFraming::None);
        assert!(keep);
    }

    #[test]
    fn absolute_form_yields_path() {
        let (path, query, ..) = parse(b"GET http://h:1/p/q?z HTTP/1.1\r\nHost: h\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((path.as_str(), query.as_str()), ("/p/q", "z"));
    }

    #[test]
    fn target_forms_split_into_path_and_query() {
        let cases = [
            ("/", ("/", "")),
            ("/a/b", ("/a/b", "")),
            ("/a?x=1", ("/a", "x=1")),
            ("/a?", ("/a", "")),
            ("/a?x#f", ("/a", "x")),
            ("/a#f?x", ("/a", "")),
            ("/a?x?y", ("/a", "x?y")),
            ("http://h/p?q#f", ("/p", "q")),
            ("http://h?q", ("/", "q")),
            ("http://h", ("/", "")),
            ("*", ("*", "")),
            ("h:443", ("h:443", "")),
        ];
        for (target, want) in cases {
            assert_eq!(split_target(target), want, "{target}");
        }
    }

    #[test]
    fn tokens_and_websocket_upgrade_attempts() {
        assert!(lists_token(b"keep-alive, Upgrade", "upgrade"));
        assert!(lists_token(b"WebSocket", "websocket"));
        assert!(!lists_token(b"websockets", "websocket"));
        let upgrade = |raw: &[u8]| {
            let mut slots = [const { MaybeUninit::uninit() }; 100];
            let head = parse_head(raw, &mut slots, &Config::default());
            head.unwrap().unwrap().upgrade_websocket
        };
        assert!(upgrade(
            b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c, websocket\r\n\r\n"
        ));
        assert!(!upgrade(
            b"GET / HTTP/1.1\r\nHost: h\r\nX-Upgrade: websocket\r\n\r\n"
        ));
        assert!(!upgrade(
            b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n\r\n"
        ));
    }

    #[test]
    fn partial_head_is_none() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: h\r\n").unwrap(), None);
    }

    #[test]
    fn framing_rules() {
        let cases: &[(&[u8], Result<BodyFraming, ProtoError>)] = &[
            (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", Ok(BodyFraming::Length(5))),
            (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", Ok(BodyFraming::Length(5))),
            (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n", Ok(BodyFraming::Chunked)),
            (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", Err(ProtoError::NotImplemented)),
            (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", Err(ProtoError::NotImplemented)),
            (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"GET / HTTP/1.1\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"GET / HTTP/1.1\r\nHost: a:b\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"GET / HTTP/1.0\r\nHost: a/b\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"GET / HTTP/1.0\r\n\r\n", Ok(BodyFraming::None)),
            (b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", Ok(BodyFraming::None)),
            (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", Err(ProtoError::VersionNotSupported)),
            // Split before the minor digit arrived: the same answer.
            (b"GET / HTTP/2.", Err(ProtoError::VersionNotSupported)),
            (b"GET / HTTP/2", Err(ProtoError::VersionNotSupported)),
            (b"GET / HTTP/2.\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"GET / HTTP/1.x\r\nHost: a\r\n\r\n", Err(ProtoError::BadRequest)),
            (b"GET / FOO\r\nHost: a\r\n\r\n", Err(ProtoError::BadRequest)),
        ];
        for (raw, want) in cases {
            let got = parse(raw).map(|h| h.unwrap().2);
            assert_eq!(&got, want, "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn http10_closes_unless_keep_alive() {
        assert!(!parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap().3);
        assert!(
            parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                .unwrap()
                .unwrap()
                .3
        );
        assert!(
            !parse(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
                .unwrap()
                .unwrap()
                .3
        );
    }

    #[test]
    fn limits_give_414_and_431() {
        let mut long = b"GET /".to_vec();
        long.extend(std::iter::repeat_n(b'a', 9000));
        assert_eq!(parse(&long), Err(ProtoError::UriTooLong));
        let mut big = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        for i in 0..400 {
            big.extend(format!("X-{i}: {}\r\n", "v".repeat(20)).as_bytes());
        }
        assert_eq!(parse(&big), Err(ProtoError::HeaderFieldsTooLarge));
        let mut many = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        for i in 0..101 {
            many.extend(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend(b"\r\n");
        assert_eq!(parse(&many), Err(ProtoError::HeaderFieldsTooLarge));
    }
}
