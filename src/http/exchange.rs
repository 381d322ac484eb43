//! Where a response stands ([`Phase`]) and the facts of the exchange it answers
//! ([`Exchange`]): the plain state the response writer and the connection share.

use std::any::Any;

/// A protocol switch accepted by a handler (RFC 9110 section 7.8), opaque to HTTP: the loop
/// that takes it knows what it holds (a WebSocket's route and user data).
pub(crate) type ProtocolSwitch = Box<dyn Any + Send>;

/// Where the response being written stands. Each exchange ends in exactly one of the last
/// three phases. Whether the answer comes later (a [`DeferredResponse`](super::later::DeferredResponse)
/// or loop callbacks hold it) is not a phase: it is [`ResponseState::later`](super::response::ResponseState::later).
#[derive(Debug)]
pub(crate) enum Phase {
    /// Nothing written yet.
    Fresh,
    /// Status line written; header fields may follow.
    Fields,
    /// Header section ended; body chunks follow with chunked framing.
    Chunked,
    /// Header section ended; body runs until the connection closes (HTTP/1.0 streaming).
    UntilClose,
    /// Header section ended with `Content-Length` of this many body bytes, sent piecewise
    /// (`try_end`); the response ends when the write offset reaches it.
    Sized(u64),
    /// The response is complete.
    Ended,
    /// The user asked for the connection to be closed at once (`res.close()`).
    Aborted,
    /// A `101 Switching Protocols` was written; the connection changes protocol once the
    /// request is processed.
    Switched(ProtocolSwitch),
}

/// Facts about the request being answered, and whether the connection persists after it: a
/// documented set of independent flags (one byte).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Exchange(u8);

impl Exchange {
    /// No flag set.
    pub(crate) const NONE: Exchange = Exchange(0);
    /// HEAD request: write fields, suppress the body (RFC 9110 section 9.3.2).
    pub(crate) const HEAD: Exchange = Exchange(1);
    /// The request was HTTP/1.0.
    pub(crate) const HTTP10: Exchange = Exchange(1 << 1);
    /// The client waits for `100 Continue` before sending its body (RFC 9110 section 10.1.1).
    pub(crate) const EXPECT_CONTINUE: Exchange = Exchange(1 << 2);
    /// The request body has not been fully received yet.
    pub(crate) const BODY_PENDING: Exchange = Exchange(1 << 3);
    /// The connection closes after this response (RFC 9112 section 9.6).
    pub(crate) const CLOSE_AFTER: Exchange = Exchange(1 << 4);
    /// The request's method is safe (RFC 9110 section 9.2.1: GET, HEAD, OPTIONS, TRACE):
    /// requests pipelined behind it may be processed in parallel (RFC 9112 section 9.3.2).
    pub(crate) const SAFE: Exchange = Exchange(1 << 5);

    /// Whether every flag of `flag` is set.
    pub(crate) fn has(self, flag: Exchange) -> bool {
        self.0 & flag.0 == flag.0
    }

    /// Sets or clears `flag`.
    pub(crate) fn set(&mut self, flag: Exchange, on: bool) {
        if on {
            self.0 |= flag.0;
        } else {
            self.0 &= !flag.0;
        }
    }

    /// These flags with `flag` set when `on`.
    pub(crate) fn with(mut self, flag: Exchange, on: bool) -> Exchange {
        self.set(flag, on);
        self
    }
}

/// Whether `method` is safe (RFC 9110 section 9.2.1): its request asks for nothing but
/// a read.
pub(crate) fn is_safe(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}
