//! Protocol errors and their pre-baked responses (RFC 9110 section 15.5/15.6).

/// A request the server refuses to process. Each maps to one pre-baked response carrying
/// `Connection: close`; the connection is closed after it is sent.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoError {
    /// 400: malformed request line or field, conflicting or invalid framing.
    BadRequest,
    /// 413: body larger than [`Config::max_body_bytes`](crate::Config::max_body_bytes).
    ContentTooLarge,
    /// 414: request target longer than the limit.
    UriTooLong,
    /// 431: header section over its size or field-count limit.
    HeaderFieldsTooLarge,
    /// 501: a transfer coding other than `chunked`.
    NotImplemented,
    /// 505: an HTTP version other than 1.0 or 1.1.
    VersionNotSupported,
}

macro_rules! baked {
    ($status:literal) => {
        concat!(
            "HTTP/1.1 ",
            $status,
            "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        )
        .as_bytes()
    };
}

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
impl ProtoError {
    /// The complete response bytes for this error: status line, `Connection: close`, empty body.
    pub fn response(self) -> &'static [u8] {
        match self {
            ProtoError::BadRequest => baked!("400 Bad Request"),
            ProtoError::ContentTooLarge => baked!("413 Content Too Large"),
            ProtoError::UriTooLong => baked!("414 URI Too Long"),
            ProtoError::HeaderFieldsTooLarge => baked!("431 Request Header Fields Too Large"),
            ProtoError::NotImplemented => baked!("501 Not Implemented"),
            ProtoError::VersionNotSupported => baked!("505 HTTP Version Not Supported"),
        }
    }

    /// The status code of [`response`](Self::response): 400, 413, 414, 431, 501 or 505.
    /// Read off the baked status line, so the two cannot disagree.
    pub fn status(self) -> u16 {
        let code = &self.response()[b"HTTP/1.1 ".len()..][..3];
        code.iter().fold(0, |n, d| n * 10 + u16::from(d - b'0'))
    }
}

#[cfg(test)]
mod tests {
    use super::ProtoError::*;

    #[test]
    fn status_is_the_baked_status_line() {
        let statuses = [
            BadRequest,
            ContentTooLarge,
            UriTooLong,
            HeaderFieldsTooLarge,
            NotImplemented,
            VersionNotSupported,
        ]
        .map(|e| e.status());
        assert_eq!(statuses, [400, 413, 414, 431, 501, 505]);
    }
}
