//! The opening handshake, server side (RFC 6455 section 4.2): which requests are upgrade
//! attempts, which of those are malformed (400) or speak another version (426), and the
//! `101 Switching Protocols` answer.

use crate::http::head::lists_token;
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;

/// What a request to a WebSocket route is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Check<'a> {
    /// No `Upgrade: websocket`: an ordinary request, for the next route.
    NotUpgrade,
    /// A malformed or unsupported handshake.
    Reject(Rejection),
    /// A valid handshake with this `Sec-WebSocket-Key`.
    Accept(&'a str),
}

/// Why a handshake is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// 400: not a GET over HTTP/1.1, no `Connection: Upgrade`, a body, or a missing or
    /// malformed `Sec-WebSocket-Key` (RFC 6455 section 4.2.1).
    BadRequest,
    /// 426 with `Sec-WebSocket-Version: 13`: a missing or other version (section 4.4).
    UpgradeRequired,
}

impl Rejection {
    /// Answers the request with this rejection and closes the connection.
    pub(crate) fn respond(self, res: &mut HttpResponse<'_>) {
        match self {
            Rejection::BadRequest => {
                res.write_status("400 Bad Request")
                    .write_header("Connection", "close")
                    .end("Bad WebSocket handshake");
            }
            Rejection::UpgradeRequired => {
                res.write_status("426 Upgrade Required")
                    .write_header("Sec-WebSocket-Version", "13")
                    .write_header("Connection", "close")
                    .end("Sec-WebSocket-Version 13 required");
            }
        }
    }
}

/// Classifies a request that reached a WebSocket route.
pub(crate) fn check<'a>(req: &HttpRequest<'a>) -> Check<'a> {
    if !req.is_websocket_upgrade() {
        return Check::NotUpgrade;
    }
    let connection_upgrade = req
        .headers()
        .filter(|(name, _)| name.eq_ignore_ascii_case("connection"))
        .any(|(_, v)| lists_token(v, "upgrade"));
    let has_body = req
        .header("content-length")
        .is_some_and(|v| v.trim() != "0")
        || req.header("transfer-encoding").is_some();
    if req.method() != "GET" || req.minor_version() < 1 || !connection_upgrade || has_body {
        return Check::Reject(Rejection::BadRequest);
    }
    let Some(key) = req
        .header("sec-websocket-key")
        .map(str::trim)
        .filter(|k| valid_key(k))
    else {
        return Check::Reject(Rejection::BadRequest);
    };
    if req.header("sec-websocket-version").map(str::trim) != Some("13") {
        return Check::Reject(Rejection::UpgradeRequired);
    }
    Check::Accept(key)
}

/// A `Sec-WebSocket-Key` must be the base64 of 16 bytes: 22 base64 digits (the last one
/// carrying only 2 bits) and `==` (RFC 6455 section 4.1, item 7).
fn valid_key(key: &str) -> bool {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = key.as_bytes();
    if bytes.len() != 24 || &bytes[22..] != b"==" {
        return false;
    }
    let digits = &bytes[..22];
    let value = |b: u8| ALPHABET.iter().position(|&a| a == b);
    digits.iter().all(|&b| value(b).is_some()) && value(digits[21]).is_some_and(|v| v & 0x0f == 0)
}

/// Appends the `101 Switching Protocols` response: `Upgrade`, `Connection`,
/// `Sec-WebSocket-Accept: accept`, then `fields` (already formatted `name: value\r\n` lines).
pub(crate) fn write_switching_protocols(out: &mut Vec<u8>, accept: &str, fields: &str) {
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
    );
    out.extend_from_slice(accept.as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(fields.as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(valid_key("AAAAAAAAAAAAAAAAAAAAAA=="));
        assert!(
            !valid_key("dGhlIHNhbXBsZSBub25jZR=="),
            "stray bits in the last digit"
        );
        assert!(!valid_key("dGhlIHNhbXBsZSBub25jZQ="));
        assert!(!valid_key("dGhlIHNhbXBsZSBub25jZQ==="));
        assert!(!valid_key("dGhlIHNhbXBsZSBub25j*Q=="));
        assert!(!valid_key(""));
    }

    #[test]
    fn switching_protocols_response() {
        let mut out = Vec::new();
        let accept = tungstenite::handshake::derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
        write_switching_protocols(&mut out, &accept, "Sec-WebSocket-Protocol: chat\r\n");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
        );
    }
}
