//! The sans-IO HTTP/1.1 server connection: bytes in, handler calls, bytes out.
//!
//! It never sees a socket or a clock (DESIGN.md "Sans-IO protocol cores"): the event loop hands
//! it what it read and a cork buffer to write into, and asks it afterwards whether to close.

use std::any::Any;
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::chunked::ChunkedDecoder;
use super::errors::ProtoError;
use super::exchange::{Exchange, Phase, ProtocolSwitch, is_safe};
use super::head::{BodyFraming, Head, parse_head};
use super::letter::Home;
use super::pipeline::Pipeline;
use super::response::{HttpResponse, ResponseState};
use crate::config::Config;
use crate::error::{HandlerError, Stage};
use crate::net::link::Link;
use crate::stats::bump;

/// Most header fields parsed into stack slots; `Config::max_header_fields` may only lower it.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub const MAX_FIELDS: usize = 128;

/// What handles a parsed request head: the app's router and handlers.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub trait Dispatch {
    /// Answers (or starts answering) one request. `res` is fresh for this request.
    /// `server_name` is the connection's TLS SNI name, if any: it chooses the routing domain
    /// before the `Host` field does.
    fn dispatch(
        &self,
        head: &Head<'_, '_>,
        remote: SocketAddr,
        proxied: Option<SocketAddr>,
        server_name: Option<&str>,
        res: &mut HttpResponse<'_>,
    );
    /// Called when a handler left the response unanswered (`on_data` finished or none), or a
    /// deferred response's handle went without answering.
    fn unanswered(&self, res: &mut HttpResponse<'_>);
    /// Called when a callback run after the handler (`on_data`, a deferred response's calls,
    /// `on_writable`) panicked in `stage`; the loop goes on.
    fn panicked(&self, res: &mut HttpResponse<'_>, panic: &(dyn Any + Send), stage: Stage);
    /// Called when a callback run after the handler wrote, in `stage`, a status line or field
    /// that would have split the response (`HttpResponse::has_refused`): the response was
    /// discarded, or, if it had started before this callback, the connection is closing.
    fn refused(&self, res: &mut HttpResponse<'_>, stage: Stage);
    /// A deferred response's handle asked the error handler to answer (`fail`, or an async
    /// handler's `Err` or panic).
    fn failed(&self, res: &mut HttpResponse<'_>, error: &HandlerError);
    /// A failure with no response to answer on (an `on_aborted` callback or a WebSocket
    /// callback panicked): the error handler hears it.
    fn report(&self, error: &HandlerError);
}

/// Everything from the loop that one `process` call needs.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub struct Io<'a> {
    /// The loop's cork buffer.
    pub out: &'a mut Vec<u8>,
    /// The socket's write side, for `HttpResponse::write` to flush through and report on.
    pub link: &'a mut dyn Link,
    /// The cached `Date: ...\r\n` line.
    pub date: &'a [u8],
    /// Limits.
    pub config: &'a Config,
    /// The peer, for `HttpRequest::remote_addr`.
    pub remote: SocketAddr,
    /// The server is shutting down: close after the current response.
    pub shutting_down: bool,
    /// The TLS SNI name the client sent (RFC 6066 section 3); `None` on plain TCP.
    pub server_name: Option<&'a str>,
    /// The loop and socket, for responses answered later.
    pub home: Home<'a>,
}

/// Which part of a request the connection is reading.
#[derive(Debug)]
pub(super) enum Reading {
    /// The next request head.
    Head,
    /// A `Content-Length` body with this many bytes left.
    Length(u64),
    /// A chunked body.
    Chunked(ChunkedDecoder),
    /// Nothing more is read: the connection is closing.
    Closed,
}

/// What the connection wants after a `process` call: the loop asks, then acts.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Keep serving.
    Serve,
    /// Send what is buffered, then close (after a protocol error or `Connection: close`).
    CloseAfterFlush,
    /// Close at once (`res.close()`).
    Abort,
    /// A handler accepted a protocol switch: the loop takes it with
    /// `HttpConn::take_switch` and hands the rest of the input to the new protocol.
    Switch,
}

/// One HTTP/1.1 connection's protocol state. Small, and owns no buffer.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub struct HttpConn {
    pub(super) reading: Reading,
    pub(super) response: ResponseState,
    body_read: u64,
    /// The client's address from a PROXY protocol header, on listeners that read one (boxed:
    /// the slab entry of every connection must not grow for it).
    proxied: Option<Box<SocketAddr>>,
    /// Responses to safe requests pipelined behind the current one, dispatched while it
    /// awaits its answer (`http::pipeline`); `None` otherwise (boxed, as `proxied`).
    pub(super) pipeline: Option<Box<Pipeline>>,
}

impl std::fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io")
            .field("out", &self.out.len())
            .field("buffered", &self.link.buffered())
            .field("config", self.config)
            .field("remote", &self.remote)
            .field("shutting_down", &self.shutting_down)
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for HttpConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConn")
            .field("reading", &self.reading)
            .field("next", &self.next())
            .field("body_read", &self.body_read)
            .finish_non_exhaustive()
    }
}

impl Default for HttpConn {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
impl HttpConn {
    /// A connection waiting for its first request.
    pub const fn new() -> Self {
        HttpConn {
            reading: Reading::Head,
            response: ResponseState::new(),
            body_read: 0,
            proxied: None,
            pipeline: None,
        }
    }

    /// A connection whose PROXY protocol header named the client `proxied`.
    pub(crate) fn with_proxied(proxied: Option<SocketAddr>) -> Self {
        HttpConn {
            proxied: proxied.map(Box::new),
            ..HttpConn::new()
        }
    }

    /// The client's address from the PROXY protocol header, if the listener reads one.
    pub(crate) fn proxied(&self) -> Option<SocketAddr> {
        self.proxied.as_deref().copied()
    }

    /// What the connection wants next.
    pub fn next(&self) -> Next {
        match self.response.phase {
            Phase::Aborted => Next::Abort,
            Phase::Switched(_) => Next::Switch,
            Phase::Ended if matches!(self.reading, Reading::Closed) => Next::CloseAfterFlush,
            _ => Next::Serve,
        }
    }

    /// True between requests: nothing half-read, the last response complete.
    pub fn is_idle(&self) -> bool {
        matches!(self.reading, Reading::Head) && self.response.is_ended() && self.pipeline.is_none()
    }

    /// The protocol switch accepted by the last request's handler, if any; the connection
    /// is done with HTTP afterwards.
    pub(crate) fn take_switch(&mut self) -> Option<ProtocolSwitch> {
        match std::mem::replace(&mut self.response.phase, Phase::Ended) {
            Phase::Switched(switch) => {
                self.reading = Reading::Closed;
                Some(switch)
            }
            other => {
                self.response.phase = other;
                None
            }
        }
    }

    /// True while a request body is being read.
    pub fn in_body(&self) -> bool {
        matches!(self.reading, Reading::Length(_) | Reading::Chunked(_))
    }

    /// Feeds received bytes; returns how many were consumed. Unconsumed bytes (a partial head,
    /// or requests queued behind a pending response) must be offered again with more data.
    pub fn process(&mut self, input: &[u8], io: &mut Io<'_>, app: &impl Dispatch) -> usize {
        let mut pos = 0;
        loop {
            match self.response.phase {
                Phase::Aborted => return input.len(),
                // What follows the upgrade request belongs to the new protocol.
                Phase::Switched(_) => return pos,
                _ => {}
            }
            match &mut self.reading {
                Reading::Closed => return input.len(),
                Reading::Head => {
                    if pos == input.len() {
                        return pos;
                    }
                    // A response still pending keeps later pipelined requests queued, or
                    // dispatches them in parallel when they are safe (`http::pipeline`).
                    if !self.response.is_ended() {
                        match self.dispatch_ahead(&input[pos..], io, app) {
                            Some(len) => {
                                pos += len;
                                continue;
                            }
                            None => return pos,
                        }
                    }
                    match self.start_request(&input[pos..], io, app) {
                        Ok(Some(len)) => pos += len,
                        Ok(None) => return pos,
                        Err(e) => {
                            self.fail(e, io);
                            return input.len();
                        }
                    }
                }
                Reading::Length(remaining) => {
                    let available = input.len() - pos;
                    let take = (*remaining).min(available as u64) as usize;
                    *remaining -= take as u64;
                    let last = *remaining == 0;
                    let chunk = &input[pos..pos + take];
                    pos += take;
                    if take > 0 || last {
                        self.deliver(chunk, last, io, app);
                    }
                    if !last {
                        return pos;
                    }
                    self.finish_request(io, app);
                }
                Reading::Chunked(decoder) => {
                    let mut decoder = std::mem::take(decoder);
                    let limit = io.config.max_body_bytes;
                    let mut too_large = false;
                    let result = decoder.decode(&input[pos..], |data| {
                        self.body_read += data.len() as u64;
                        if self.body_read > limit {
                            too_large = true;
                        } else if !too_large {
                            self.deliver(data, false, io, app);
                        }
                    });
                    match result {
                        _ if too_large => {
                            self.fail(ProtoError::ContentTooLarge, io);
                            return input.len();
                        }
                        Err(_) => {
                            self.fail(ProtoError::BadRequest, io);
                            return input.len();
                        }
                        Ok((used, done)) => {
                            pos += used;
                            if !done {
                                self.reading = Reading::Chunked(decoder);
                                return pos;
                            }
                            self.deliver(&[], true, io, app);
                            self.finish_request(io, app);
                        }
                    }
                }
            }
        }
    }

    /// Parses a head from the front of `input` and dispatches it. `Ok(None)`: need more bytes.
    fn start_request(
        &mut self,
        input: &[u8],
        io: &mut Io<'_>,
        app: &impl Dispatch,
    ) -> Result<Option<usize>, ProtoError> {
        let mut slots = [const { MaybeUninit::uninit() }; MAX_FIELDS];
        let Some(head) = parse_head(input, &mut slots, io.config)? else {
            return Ok(None);
        };
        if let BodyFraming::Length(n) = head.framing
            && n > io.config.max_body_bytes
        {
            return Err(ProtoError::ContentTooLarge);
        }
        self.begin(&head, io, app);
        Ok(Some(head.len))
    }

    /// Dispatches a parsed request head: the current response becomes a fresh one for it.
    #[inline(always)]
    pub(super) fn begin(&mut self, head: &Head<'_, '_>, io: &mut Io<'_>, app: &impl Dispatch) {
        bump(&io.home.stats.requests);
        let has_body = head.framing != BodyFraming::None;
        let exchange = Exchange::default()
            .with(Exchange::HEAD, head.method == "HEAD")
            .with(Exchange::CLOSE_AFTER, !head.keep_alive || io.shutting_down)
            .with(Exchange::HTTP10, head.minor_version == 0)
            .with(Exchange::EXPECT_CONTINUE, head.expect_continue && has_body)
            .with(Exchange::BODY_PENDING, has_body);
        self.response = ResponseState::for_request(exchange);
        self.body_read = 0;
        self.reading = match head.framing {
            BodyFraming::None => Reading::Head,
            BodyFraming::Length(n) => Reading::Length(n),
            BodyFraming::Chunked => Reading::Chunked(ChunkedDecoder::new()),
        };
        {
            let mut res =
                HttpResponse::new(&mut self.response, io.out, &mut *io.link, io.date, &io.home);
            let proxied = self.proxied.as_deref().copied();
            app.dispatch(head, io.remote, proxied, io.server_name, &mut res);
        }
        self.response.settle();
        if self.response.is_held() {
            // Whether requests pipelined behind it may be dispatched meanwhile (only a
            // response answered later asks).
            let safe = is_safe(head.method);
            self.response.exchange.set(Exchange::SAFE, safe);
            self.answer_own(io, app);
        }
        if !has_body {
            self.finish_request(io, app);
        } else if self.response.is_ended() && self.response.exchange.has(Exchange::CLOSE_AFTER) {
            // Answered before the body and closing anyway (e.g. an unread `Expect:
            // 100-continue` body): stop reading; the lingering close discards the rest.
            self.response.on_data = None;
            self.reading = Reading::Closed;
        }
    }

    /// Hands body bytes to the handler's `on_data`, if any; otherwise they are dropped.
    fn deliver(&mut self, chunk: &[u8], last: bool, io: &mut Io<'_>, app: &impl Dispatch) {
        if last {
            self.response.exchange.set(Exchange::BODY_PENDING, false);
        }
        let Some(mut on_data) = self.response.on_data.take() else {
            return;
        };
        let mut res =
            HttpResponse::new(&mut self.response, io.out, &mut *io.link, io.date, &io.home);
        let outcome = catch_unwind(AssertUnwindSafe(|| on_data(&mut res, chunk, last)));
        // A refused field is reported first: its response was discarded, so the error
        // handler (or the default 500) can still answer.
        if res.has_refused() {
            app.refused(&mut res, Stage::OnData);
        }
        if let Err(panic) = outcome {
            app.panicked(&mut res, panic.as_ref(), Stage::OnData);
            self.response.settle();
            return;
        }
        self.response.settle();
        if !last && !self.response.is_ended() {
            self.response.on_data = Some(on_data);
        }
    }

    /// The request is fully read: make sure it was answered, decide about keep-alive.
    fn finish_request(&mut self, io: &mut Io<'_>, app: &impl Dispatch) {
        if self.response.on_data.is_some() {
            // A request without a body still tells `on_data` it is complete.
            self.deliver(&[], true, io, app);
        }
        self.response.exchange.set(Exchange::BODY_PENDING, false);
        self.response.on_data = None;
        if !self.response.is_ended() && !self.response.is_held() {
            let mut res =
                HttpResponse::new(&mut self.response, io.out, &mut *io.link, io.date, &io.home);
            app.unanswered(&mut res);
            if !res.has_responded() {
                res.close();
            }
        }
        self.reading = if self.response.exchange.has(Exchange::CLOSE_AFTER) {
            Reading::Closed
        } else {
            Reading::Head
        };
    }

    /// The server is shutting down: true when the connection is between requests and
    /// should close now; otherwise the current response is the last (`Connection: close`
    /// if it has not started), and requests pipelined behind it are not read.
    pub(crate) fn going_away(&mut self) -> bool {
        if self.is_idle() {
            return true;
        }
        if let Some(last) = self.pipeline.as_mut().and_then(|p| p.last_mut()) {
            // The last response dispatched ahead is the last one (with `Connection:
            // close` if its header section is still open).
            last.set(Exchange::CLOSE_AFTER, true);
            self.reading = Reading::Closed;
            return false;
        }
        self.response.exchange.set(Exchange::CLOSE_AFTER, true);
        if matches!(self.reading, Reading::Head) {
            self.reading = Reading::Closed;
        }
        false
    }

    /// Answers a protocol error with its pre-baked response (unless a response has already
    /// started, in which case the connection just closes) and stops reading.
    fn fail(&mut self, error: ProtoError, io: &mut Io<'_>) {
        // An error in a head follows a finished response; one in a body is answered only if
        // the handler has not: a response under way is cut short by the close, and an
        // answered request gets no second, unsolicited response.
        let answer = match self.reading {
            Reading::Head => true,
            _ => self.response.is_fresh(),
        };
        if answer {
            io.out.extend_from_slice(error.response());
            io.home.stats.bad_request(error.status());
        }
        self.response.on_data = None;
        self.response.phase = Phase::Ended;
        self.reading = Reading::Closed;
    }
}
