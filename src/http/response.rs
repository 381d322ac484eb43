//! The response writer handed to handlers (uWebSockets' `HttpResponse`): it writes straight
//! into the loop's cork buffer, so everything one readable event produces leaves in one write.

use std::cell::RefCell;

use crate::net::link::{Link, uncork_when_full};

use super::chunked::write_hex;
use super::compress::plan::{FieldAction, Plan};
use super::exchange::{Exchange, Phase, ProtocolSwitch};
use super::field;
use super::letter::{Home, OnAborted, Ticket};
use crate::spares::{self, SpareList};
use std::sync::Arc;

/// Callback streaming the request body: `(response, chunk, is_last)`.
pub(crate) type OnData = Box<dyn FnMut(&mut HttpResponse<'_>, &[u8], bool) + Send>;

/// Callback run when the socket drained while a response streams: `(response, write
/// offset in bytes) -> whether the write it made (if any) was taken without backpressure`.
pub(crate) type OnWritable = Box<dyn FnMut(&mut HttpResponse<'_>, u64) -> bool + Send>;

/// A response whose answer comes later: who holds it, and the callbacks the loop runs for
/// it. Boxed in the response state, so a response answered at once pays one null pointer.
#[derive(Default)]
pub(crate) struct Held {
    /// The handle's ticket, while a [`DeferredResponse`](super::later::DeferredResponse) exists.
    pub(crate) ticket: Option<Arc<Ticket>>,
    pub(crate) on_aborted: Option<OnAborted>,
    pub(crate) on_writable: Option<OnWritable>,
}

thread_local! {
    /// `Held` boxes of responses that are over, kept for the next one on this thread.
    /// Boxes, not values: the box is what a response holds, and reusing it is the point.
    #[allow(clippy::vec_box)]
    static SPARE_HELD: SpareList<Box<Held>> = const { RefCell::new(Vec::new()) };
}

impl Held {
    /// An empty one, boxed: a spare box of this thread's if it has one.
    pub(crate) fn boxed() -> Box<Held> {
        spares::take(&SPARE_HELD).unwrap_or_default()
    }

    /// The response completed: the handle learns it; the callbacks go.
    pub(crate) fn settle(mut self: Box<Self>) {
        if let Some(ticket) = self.ticket.take() {
            ticket.done();
        }
        self.on_aborted = None;
        self.on_writable = None;
        self.recycle();
    }

    /// The client went first: the handle learns it, and `on_aborted` is handed back to run.
    pub(crate) fn abort(mut self: Box<Self>) -> Option<OnAborted> {
        if let Some(ticket) = self.ticket.take() {
            ticket.abort();
        }
        self.on_writable = None;
        let on_aborted = self.on_aborted.take();
        self.recycle();
        on_aborted
    }

    /// Keeps an emptied box for [`Held::boxed`].
    fn recycle(self: Box<Self>) {
        spares::keep_up_to(&SPARE_HELD, self, spares::SMALL_LIMIT);
    }

    /// Whether `ticket` is this response's current one.
    pub(crate) fn holds(&self, ticket: &Arc<Ticket>) -> bool {
        self.ticket.as_ref().is_some_and(|t| Arc::ptr_eq(t, ticket))
    }
}

/// Plain per-request response state, kept in the connection (uWS `HttpResponseData`).
pub(crate) struct ResponseState {
    pub(crate) phase: Phase,
    pub(crate) exchange: Exchange,
    pub(crate) on_data: Option<OnData>,
    /// Set while the answer comes later: a handle or loop callbacks hold the response.
    pub(crate) later: Option<Box<Held>>,
    /// Body bytes written so far (uWebSockets' write offset).
    pub(crate) offset: u64,
    /// The status line's three digits as written (zeros: none yet); copied, not parsed,
    /// on the hot path. Counted when the header section ends.
    pub(crate) status: [u8; 3],
    /// Set when the route enabled compression (`crate::http::compressed`); `None` costs
    /// the default path one untaken branch where fields and bodies are written. Boxed: the
    /// connection's slab entry stays within its budget (8 bytes here instead of 32).
    pub(crate) compress: Option<Box<Plan>>,
}

impl ResponseState {
    /// State for a connection with no request yet.
    pub(crate) const fn new() -> Self {
        ResponseState {
            phase: Phase::Ended,
            exchange: Exchange::NONE,
            on_data: None,
            later: None,
            offset: 0,
            status: [0; 3],
            compress: None,
        }
    }

    /// State for a request just parsed, described by `exchange`.
    pub(crate) fn for_request(exchange: Exchange) -> Self {
        ResponseState {
            phase: Phase::Fresh,
            exchange,
            on_data: None,
            later: None,
            offset: 0,
            status: [0; 3],
            compress: None,
        }
    }

    /// Whether the current response is complete (ended, aborted or switched).
    pub(crate) fn is_ended(&self) -> bool {
        matches!(
            self.phase,
            Phase::Ended | Phase::Aborted | Phase::Switched(_)
        )
    }

    /// Whether the answer comes later: the response is not complete and a handle or loop
    /// callbacks hold it.
    pub(crate) fn is_held(&self) -> bool {
        self.later.is_some() && !self.is_ended()
    }

    /// Once the response is complete: lets go of what held it (its handle learns it is
    /// over). Called after each piece of user code.
    pub(crate) fn settle(&mut self) {
        if self.is_ended()
            && let Some(held) = self.later.take()
        {
            held.settle();
        }
    }

    /// Whether nothing of the response is written yet.
    pub(crate) fn is_fresh(&self) -> bool {
        matches!(self.phase, Phase::Fresh)
    }

    /// Whether the status line is written and the header section still open.
    fn in_fields(&self) -> bool {
        matches!(self.phase, Phase::Fields)
    }

    pub(super) fn is(&self, flag: Exchange) -> bool {
        self.exchange.has(flag)
    }
}

/// Writes one HTTP/1.1 response (RFC 9112 section 4 onwards).
///
/// Order of use, as in uWebSockets: optionally [`write_status`](Self::write_status), then any
/// [`write_header`](Self::write_header)s, then either [`end`](Self::end) (adds
/// `Content-Length`) or some [`write`](Self::write)s (switch to `Transfer-Encoding: chunked`)
/// followed by `end`. `Date` is added from the loop's once-a-second cache; `200 OK` is implied
/// when no status was written. Calls out of order are ignored rather than corrupting the
/// stream.
pub struct HttpResponse<'a> {
    pub(super) state: &'a mut ResponseState,
    /// The loop's cork (tier 1 of DESIGN.md's writing).
    pub(super) out: &'a mut Vec<u8>,
    /// The socket's write side: what the kernel has not taken, and a flush of `out`.
    pub(super) link: &'a mut dyn Link,
    date: &'a [u8],
    /// The loop and socket, for answering later.
    pub(super) home: &'a Home<'a>,
    /// Where in `out` the status line was written, if this view wrote it: what a refused
    /// field truncates `out` back to. See [`refuse`](Self::refuse).
    start: Option<usize>,
    /// The field (`":status"` for the status line) refused because it would have split the
    /// response, until the app reports it ([`take_refused`](Self::take_refused)) before
    /// this view is dropped. Meanwhile the state says `Ended`: writes are ignored.
    refused: Option<Box<str>>,
}

impl<'a> HttpResponse<'a> {
    pub(crate) fn new(
        state: &'a mut ResponseState,
        out: &'a mut Vec<u8>,
        link: &'a mut dyn Link,
        date: &'a [u8],
        home: &'a Home<'a>,
    ) -> Self {
        HttpResponse {
            state,
            out,
            link,
            date,
            home,
            start: None,
            refused: None,
        }
    }

    /// Writes the status line, e.g. `res.write_status("404 Not Found")` (code and reason
    /// phrase, RFC 9112 section 4). Ignored once a status was written.
    ///
    /// A status containing CR, LF or NUL is refused (it would split the response, RFC 9112
    /// section 4): nothing of this response is sent, later writes to it are ignored, and
    /// the app's error handler ([`App::on_error`](crate::App::on_error)) gets a
    /// [`HandlerError`](crate::HandlerError) whose
    /// [`field`](crate::HandlerError::field) is `":status"`; by default the client gets
    /// `500 Internal Server Error`.
    #[inline]
    pub fn write_status(&mut self, status: &str) -> &mut Self {
        // Kept small, to be inlined: every write calls it (where it is mostly a no-op, and
        // the check of the implied "200 OK" folds away).
        if self.state.is_fresh() {
            match field::valid_value(status.as_bytes()) {
                true => self.status_line(status),
                false => self.refuse(":status"),
            }
        }
        self
    }

    /// Writes the status line of a fresh response.
    fn status_line(&mut self, status: &str) {
        self.start = Some(self.out.len());
        self.out.extend_from_slice(b"HTTP/1.1 ");
        self.out.extend_from_slice(status.as_bytes());
        self.out.extend_from_slice(b"\r\n");
        self.state.phase = Phase::Fields;
        if let [a, b, c, ..] = *status.as_bytes() {
            self.state.status = [a, b, c];
        }
    }

    /// Writes one header field (`200 OK` first if no status was written). A
    /// `Connection: close` field makes the connection close after this response. Do not write
    /// `Content-Length`, `Transfer-Encoding` or `Date`: they are managed here. Ignored once the
    /// body has started.
    ///
    /// A field that would split the response is refused (RFC 9110 sections 5.1 and 5.5): a
    /// `name` that is not a token (one or more of ``!#$%&'*+-.^_`|~``, digits and letters)
    /// or a `value` containing CR, LF or NUL (HTAB and bytes from 0x80 are fine). The whole
    /// response is then discarded, including the status line and the fields written before:
    /// nothing of it is sent and later writes to it are ignored. The app's error handler
    /// ([`App::on_error`](crate::App::on_error)) gets a [`HandlerError`](crate::HandlerError)
    /// naming the field ([`is_invalid_field`](crate::HandlerError::is_invalid_field),
    /// [`field`](crate::HandlerError::field)) and may answer instead; by default the client
    /// gets `500 Internal Server Error`. If the status line already left in an earlier
    /// callback (written by the handler, refused in [`on_data`](Self::on_data)), the
    /// connection is closed instead.
    pub fn write_header(&mut self, name: &str, value: &str) -> &mut Self {
        self.write_status("200 OK");
        if self.state.in_fields() {
            if !(field::valid_name(name.as_bytes()) && field::valid_value(value.as_bytes())) {
                self.refuse(name);
                return self;
            }
            if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
                // Written once, by `finish_fields`.
                self.state.exchange.set(Exchange::CLOSE_AFTER, true);
                return self;
            }
            let out = &mut *self.out;
            if let Some(plan) = &mut self.state.compress
                && plan.observe(name, value) == FieldAction::WeakenEtag
            {
                out.extend_from_slice(b"ETag: W/");
                out.extend_from_slice(value.as_bytes());
                out.extend_from_slice(b"\r\n");
                return self;
            }
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        self
    }

    /// Writes a part of the body, switching the response to `Transfer-Encoding: chunked`
    /// (RFC 9112 section 7.1; an HTTP/1.0 client gets the raw bytes and the connection closes at
    /// the end). The bytes are corked; past 64 KiB corked they are written out at once.
    ///
    /// Returns `true` while the kernel has taken everything written so far (uWebSockets'
    /// `write`), `false` when bytes wait in the socket's backpressure buffer because the
    /// client reads slower than we write, or the connection was lost.
    pub fn write(&mut self, chunk: impl AsRef<[u8]>) -> bool {
        let chunk = chunk.as_ref();
        if matches!(self.state.phase, Phase::Fresh | Phase::Fields) {
            self.write_status("200 OK");
            if self.state.compress.is_some() && self.state.in_fields() {
                self.start_compressed_stream();
            }
            if self.state.is(Exchange::HTTP10) {
                self.state.exchange.set(Exchange::CLOSE_AFTER, true);
                self.finish_fields(None);
                self.state.phase = Phase::UntilClose;
            } else {
                self.out
                    .extend_from_slice(b"Transfer-Encoding: chunked\r\n");
                self.finish_fields(None);
                self.state.phase = Phase::Chunked;
            }
        }
        if chunk.is_empty() || self.state.is(Exchange::HEAD) {
            return self.link.buffered() == 0;
        }
        if self.state.compress.is_some() && self.streams_coded() {
            return self.write_coded(chunk, false);
        }
        match self.state.phase {
            Phase::Chunked => {
                write_hex(self.out, chunk.len());
                self.out.extend_from_slice(b"\r\n");
                self.out.extend_from_slice(chunk);
                self.out.extend_from_slice(b"\r\n");
            }
            Phase::UntilClose => self.out.extend_from_slice(chunk),
            Phase::Sized(_) => return self.try_end(chunk, 0).0,
            _ => return false,
        }
        self.state.offset += chunk.len() as u64;
        if uncork_when_full(self.link, self.out).is_err() {
            // The connection is lost: nothing more can be sent on it.
            self.state.phase = Phase::Aborted;
            return false;
        }
        self.link.buffered() == 0
    }

    /// Ends the response with `body` as its last part. Without a prior [`write`](Self::write)
    /// this adds `Content-Length: body.len()`; for a HEAD request the length is kept and the
    /// body suppressed. Ignored if the response already ended.
    pub fn end(&mut self, body: impl AsRef<[u8]>) {
        let body = body.as_ref();
        match self.state.phase {
            Phase::Fresh | Phase::Fields => {
                if self.state.compress.is_some() && self.end_compressed(body) {
                    return;
                }
                self.write_status("200 OK");
                self.finish_fields(Some(body.len() as u64));
                if !self.state.is(Exchange::HEAD) {
                    self.out.extend_from_slice(body);
                    self.state.offset = body.len() as u64;
                }
            }
            Phase::Chunked => {
                if self.state.compress.is_some() && self.streams_coded() {
                    self.write_coded(body, true);
                } else {
                    self.write(body);
                }
                if !self.state.is(Exchange::HEAD) {
                    self.out.extend_from_slice(b"0\r\n\r\n");
                }
            }
            Phase::UntilClose => {
                if self.state.compress.is_some() && self.streams_coded() {
                    self.write_coded(body, true);
                } else {
                    self.write(body);
                }
            }
            Phase::Sized(_) => {
                // A body shorter than announced cannot be repaired: close.
                if !self.try_end(body, 0).1 {
                    self.close();
                }
                return;
            }
            Phase::Ended | Phase::Aborted | Phase::Switched(_) => return,
        }
        self.state.phase = Phase::Ended;
    }

    /// Ends the response without a body, for HEAD answers and `304`/`204`: writes
    /// `Content-Length: len` when `Some` (the length the body would have had).
    pub fn end_without_body(&mut self, content_length: Option<usize>) {
        if matches!(self.state.phase, Phase::Fresh | Phase::Fields) {
            self.write_status("200 OK");
            let mut content_length = content_length.map(|n| n as u64);
            if self.state.compress.is_some() {
                content_length = self.bodiless_length(content_length);
            }
            self.finish_fields(content_length);
            self.state.phase = Phase::Ended;
        }
    }

    /// Closes the connection at once, dropping anything not yet sent (uWebSockets' `close`).
    pub fn close(&mut self) {
        self.state.exchange.set(Exchange::CLOSE_AFTER, true);
        self.state.phase = Phase::Aborted;
    }

    /// Streams the request body: `handler(res, chunk, is_last)` is called for each de-chunked
    /// part as it arrives, and once with `is_last == true` (possibly with an empty chunk).
    /// A client that sent `Expect: 100-continue` is sent `100 Continue` now, once. Without an
    /// `on_data` the body is read and discarded. The response must be ended by the last call
    /// at the latest, or the server answers `500`.
    pub fn on_data(
        &mut self,
        handler: impl FnMut(&mut HttpResponse<'_>, &[u8], bool) + Send + 'static,
    ) {
        if self.state.is(Exchange::EXPECT_CONTINUE) && self.state.is_fresh() {
            self.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
            self.state.exchange.set(Exchange::EXPECT_CONTINUE, false);
        }
        self.state.on_data = Some(Box::new(handler));
    }

    /// The status code written so far (`Some(200)` once `end` implied `200 OK`), `None`
    /// before the status line; for after hooks and access logs.
    pub fn status(&self) -> Option<u16> {
        match status_code(&self.state.status) {
            0 => None,
            code => Some(code),
        }
    }

    /// Whether the response has been completed ([`end`](Self::end) or similar was called),
    /// or discarded for a refused field.
    pub fn has_responded(&self) -> bool {
        self.state.is_ended()
    }

    /// Answers with a protocol switch: `write` appends the `101` response, and `switch` is
    /// kept for the loop. False (nothing written) if the response has started or a request
    /// body is still expected.
    pub(crate) fn switch_protocols(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>),
        switch: ProtocolSwitch,
    ) -> bool {
        if !self.state.is_fresh() || self.state.is(Exchange::BODY_PENDING) {
            return false;
        }
        write(self.out);
        self.state.status = *b"101";
        self.home.stats.response(b'1');
        self.state.phase = Phase::Switched(switch);
        true
    }

    /// Whether an `on_data` callback waits for the request body (the answer comes later).
    pub(crate) fn awaits_body(&self) -> bool {
        self.state.on_data.is_some()
    }

    /// Whether nothing of this response has been written yet.
    pub(crate) fn is_fresh(&self) -> bool {
        self.state.is_fresh()
    }

    /// Refuses `field` (`":status"` for the status line): it would have split the response.
    /// The response is discarded and ignores writes (it counts as ended) until
    /// [`take_refused`](Self::take_refused). Only for a response being written (fresh, or
    /// its fields).
    ///
    /// Discarding truncates `out` back to where this view wrote the status line: earlier
    /// responses in the buffer (pipelined) stay, and an interim `100 Continue` stays too.
    /// Only a status line written through this same view can be taken back: the loop may
    /// flush its cork buffer between two callbacks (after the handler, before an `on_data`
    /// call; even within one readable event once it holds enough), so a response started by
    /// an earlier callback may already be on the wire, and the offset it started at would
    /// point into other bytes. Such a response cannot be repaired: the connection closes
    /// (`close` semantics; the bad field itself was never written). Knowing for sure whether
    /// the loop flushed would need a signal from the loop; responses continued in `on_data`
    /// after the handler wrote their status are rare enough for the close.
    #[cold]
    pub(crate) fn refuse(&mut self, field: &str) {
        debug_assert!(matches!(self.state.phase, Phase::Fresh | Phase::Fields));
        let repairable = match (&self.state.phase, self.start) {
            (Phase::Fields, Some(start)) => {
                self.out.truncate(start);
                true
            }
            (Phase::Fields, None) => false,
            _ => true,
        };
        self.refused = Some(field.into());
        if repairable {
            self.state.phase = Phase::Ended;
        } else {
            self.close();
        }
    }

    /// Whether a writer refused a field since the last [`take_refused`](Self::take_refused).
    #[inline]
    pub(crate) fn has_refused(&self) -> bool {
        self.refused.is_some()
    }

    /// The refused field, if a writer refused one since the last call: the response is then
    /// fresh again (nothing of it was sent), for the error handler or a `500`, unless it could
    /// not be discarded and the connection is closing.
    pub(crate) fn take_refused(&mut self) -> Option<Box<str>> {
        let field = self.refused.take()?;
        if let Some(plan) = &mut self.state.compress {
            plan.forget_fields();
        }
        if !matches!(self.state.phase, Phase::Aborted) {
            self.state.phase = Phase::Fresh;
        }
        Some(field)
    }

    /// Ends the header section: `Date`, connection management, `Content-Length`, blank line.
    pub(super) fn finish_fields(&mut self, content_length: Option<u64>) {
        self.home.stats.response(self.state.status[0]);
        let exchange = &mut self.state.exchange;
        if exchange.has(Exchange::EXPECT_CONTINUE) && exchange.has(Exchange::BODY_PENDING) {
            // The client may still be waiting to send a body we never asked for.
            exchange.set(Exchange::CLOSE_AFTER, true);
        }
        let out = &mut *self.out;
        out.extend_from_slice(self.date);
        if exchange.has(Exchange::CLOSE_AFTER) {
            out.extend_from_slice(b"Connection: close\r\n");
        } else if exchange.has(Exchange::HTTP10) {
            out.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        if let Some(plan) = &self.state.compress {
            plan.write_fields(out);
        }
        if let Some(len) = content_length {
            out.extend_from_slice(b"Content-Length: ");
            out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// The status code at the start of a status line (`"404 Not Found"` is 404); 0 when it
/// does not start with three digits.
fn status_code(status: &[u8]) -> u16 {
    match status {
        [a @ b'0'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9', ..] => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => 0,
    }
}

impl std::fmt::Debug for HttpResponse<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("phase", &self.state.phase)
            .finish_non_exhaustive()
    }
}
