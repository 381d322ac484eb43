//! Protocol errors and their pre-baked responses (RFC 9110 section 15.5/15.6).

/// A request the server refuses to process. Each maps to one pre-baked response carrying
/// `Connection: close`; the connection is closed after it is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProtoError {
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

impl ProtoError {
    /// The complete response bytes for this error: status line, `Connection: close`, empty body.
    pub(crate) fn response(self) -> &'static [u8] {
        match self {
            ProtoError::BadRequest => baked!("400 Bad Request"),
            ProtoError::ContentTooLarge => baked!("413 Content Too Large"),
            ProtoError::UriTooLong => baked!("414 URI Too Long"),
            ProtoError::HeaderFieldsTooLarge => baked!("431 Request Header Fields Too Large"),
            ProtoError::NotImplemented => baked!("501 Not Implemented"),
            ProtoError::VersionNotSupported => baked!("505 HTTP Version Not Supported"),
        }
    }
}
