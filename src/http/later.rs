//! Answering later (uWebSockets' `onAborted` + `Loop::defer`, made safe): a
//! [`DeferredResponse`] owns the right to answer one request from any thread. It is an
//! address, not a borrow (DESIGN.md "Answer later"): its calls travel to the owning loop as
//! letters (`http::letter`) and are applied there, corked, to the live response.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;

use super::letter::{Courier, Op, Ticket, spare_ops};
use super::respond::IntoResponse;
use super::response::{HttpResponse, OnWritable};
use crate::error::{BoxError, HandlerError, Stage};

/// A closure run on the owning loop with the live response ([`DeferredResponse::cork`]).
pub(crate) type Corked = Box<dyn FnOnce(&mut HttpResponse<'_>) + Send>;

/// A `Send` handle to one event loop (uWebSockets' `Loop::defer`): runs closures on that
/// loop's thread. Cheap to clone. Get one from [`HttpResponse::loop_handle`] or
/// [`DeferredResponse::loop_handle`].
#[derive(Clone)]
pub struct LoopHandle {
    courier: Arc<dyn Courier>,
}

impl std::fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopHandle").finish_non_exhaustive()
    }
}

impl LoopHandle {
    pub(crate) fn new(courier: Arc<dyn Courier>) -> Self {
        LoopHandle { courier }
    }

    /// Runs `f` on the loop's thread, soon, between two events (after the current one when
    /// called from the loop itself). What `f` does to [`DeferredResponse`]s of this loop is
    /// applied in the same wake-up, corked: one write per socket. A panic in `f` is caught
    /// and logged; the loop goes on.
    ///
    /// Returns false when the loop has stopped (`f` is dropped without running).
    pub fn defer(&self, f: impl FnOnce() + Send + 'static) -> bool {
        self.courier.run(Box::new(f))
    }
}

/// The right to answer one request, taken out of its handler with [`HttpResponse::defer`]:
/// `'static + Send`, so it may be moved to another thread, a pool or a task.
///
/// It offers the response API of [`HttpResponse`]. `write_status` and `write_header` are
/// kept in the handle; the other calls send everything kept so far to the owning loop,
/// which applies it to the live response (corked: all that one wake-up applies to a socket
/// leaves in one write) and wakes up for it through its `mio::Waker`. Calls return `false`
/// once the response is known to be over for this handle: the client went
/// ([`on_aborted`](Self::on_aborted) ran), the response already completed, or the server
/// stopped. `true` means the call was queued, not that the bytes arrived.
///
/// Dropping the handle before the response is complete sends what it kept; a response
/// that is then neither complete nor streaming from an
/// [`on_writable`](Self::on_writable) callback goes to the app's error handler as
/// unanswered (by default `500 Internal Server Error`): a client is never left hanging.
///
/// Requests pipelined behind this one are answered after it, in order. Those with safe
/// methods (GET, HEAD, OPTIONS, TRACE) and no body, behind a safe one, are dispatched at
/// once and their responses held back until their turn (RFC 9112 section 9.3.2; up to
/// [`Config::parallel_pipelined`](crate::Config::parallel_pipelined)); the others wait for
/// this response to complete.
pub struct DeferredResponse {
    ticket: Arc<Ticket>,
    ops: Vec<Op>,
    /// `end`, `close` or the like was sent: nothing more to say on drop.
    finished: bool,
}

impl std::fmt::Debug for DeferredResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeferredResponse")
            .field("ticket", &self.ticket)
            .field("kept", &self.ops)
            .finish()
    }
}

impl DeferredResponse {
    pub(crate) fn new(ticket: Arc<Ticket>) -> Self {
        DeferredResponse {
            ticket,
            ops: spare_ops(),
            finished: false,
        }
    }

    /// Keeps the status line for the next send, e.g. `"404 Not Found"`; as
    /// [`HttpResponse::write_status`] (a status with CR, LF or NUL is refused on the loop
    /// and reported to the error handler).
    pub fn write_status(&mut self, status: impl Into<Cow<'static, str>>) -> &mut Self {
        self.ops.push(Op::Status(status.into()));
        self
    }

    /// Keeps one header field for the next send; as [`HttpResponse::write_header`].
    pub fn write_header(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) -> &mut Self {
        self.ops.push(Op::Header(name.into(), value.into()));
        self
    }

    /// Sends a part of the body (chunked); as [`HttpResponse::write`]. To follow the
    /// socket's backpressure, write from an [`on_writable`](Self::on_writable) callback or
    /// from [`cork`](Self::cork), where `write` reports it.
    pub fn write(&mut self, chunk: impl Into<Bytes>) -> bool {
        self.send(Op::Write(chunk.into()))
    }

    /// Sends a part of a body of `total_size` bytes announced with `Content-Length`; as
    /// [`HttpResponse::try_end`], whose `(ok, done)` an [`on_writable`](Self::on_writable)
    /// callback sees.
    pub fn try_end(&mut self, chunk: impl Into<Bytes>, total_size: u64) -> bool {
        self.send(Op::TryEnd(chunk.into(), total_size))
    }

    /// Ends the response with `body`; as [`HttpResponse::end`].
    pub fn end(mut self, body: impl Into<Bytes>) -> bool {
        self.finished = true;
        self.send(Op::End(body.into()))
    }

    /// Ends the response without a body; as [`HttpResponse::end_without_body`].
    pub fn end_without_body(mut self, content_length: Option<usize>) -> bool {
        self.finished = true;
        self.send(Op::EndWithoutBody(content_length))
    }

    /// Answers with a whole response value (status, fields, body; see
    /// [`IntoResponse`]): one letter to the loop. A `Result::Err` goes to the app's error
    /// handler, as with [`fail`](Self::fail) (a [`BodyError`](crate::BodyError) is answered
    /// `400` instead).
    pub fn respond(mut self, response: impl IntoResponse) -> bool {
        let response = match response.into_response().or_failure() {
            Ok(response) => response,
            Err(error) => return self.fail(error),
        };
        // `200 OK` is what the loop writes when no status was given: one call less.
        if response.status != "200 OK" {
            self.ops.push(Op::Status(response.status));
        }
        for (name, value) in response.fields {
            self.ops.push(Op::Header(name, value));
        }
        self.end(response.body)
    }

    /// Hands `error` to the app's error handler, which answers (by default
    /// `500 Internal Server Error`), with [`Stage::Deferred`].
    pub fn fail(self, error: impl Into<BoxError>) -> bool {
        self.fail_with(HandlerError::returned(error.into(), Stage::Deferred, None))
    }

    /// Hands `error` (a panic, or an `Err`) to the app's error handler.
    pub(crate) fn fail_with(mut self, error: HandlerError) -> bool {
        self.finished = true;
        self.send(Op::Fail(error))
    }

    /// Closes the connection at once; as [`HttpResponse::close`].
    pub fn close(mut self) -> bool {
        self.finished = true;
        self.send(Op::Close)
    }

    /// Runs `f` once, on the owning loop, if the client goes before the response is
    /// complete (uWebSockets' `onAborted`). Sent at once; if the client is already gone
    /// when it arrives, it runs then.
    pub fn on_aborted(&mut self, f: impl FnOnce() + Send + 'static) -> bool {
        self.send(Op::OnAborted(Box::new(f)))
    }

    /// Streams with backpressure: `f(response, write_offset)` runs on the owning loop each
    /// time the socket has drained what it held (uWebSockets' `onWritable`); it returns
    /// whether what it wrote was taken without backpressure. See
    /// [`HttpResponse::on_writable`].
    pub fn on_writable(
        &mut self,
        f: impl FnMut(&mut HttpResponse<'_>, u64) -> bool + Send + 'static,
    ) -> bool {
        let f: OnWritable = Box::new(f);
        self.send(Op::OnWritable(Box::new(f)))
    }

    /// Runs `f` on the owning loop with the live response (uWebSockets' `res->cork(..)`):
    /// there `write` and `try_end` report backpressure and
    /// [`write_offset`](HttpResponse::write_offset) is known. Not run if the response is
    /// over by then.
    pub fn cork(&mut self, f: impl FnOnce(&mut HttpResponse<'_>) + Send + 'static) -> bool {
        let f: Corked = Box::new(f);
        self.send(Op::Cork(Box::new(f)))
    }

    /// Whether the response is over for this handle (client gone, response complete, or
    /// another handle took over). A `false` may be outdated by the time it is read.
    pub fn is_aborted(&self) -> bool {
        !self.ticket.is_live()
    }

    /// A handle to the owning loop, to run other work there.
    pub fn loop_handle(&self) -> LoopHandle {
        LoopHandle::new(Arc::clone(self.ticket.courier()))
    }

    /// Sends the kept calls and `last` in one letter.
    fn send(&mut self, last: Op) -> bool {
        if !self.ticket.is_live() {
            self.ops.clear();
            return false;
        }
        let mut ops = std::mem::take(&mut self.ops);
        if ops.capacity() == 0 {
            ops = spare_ops();
        }
        ops.push(last);
        self.ticket.courier().post(Arc::clone(&self.ticket), ops)
    }
}

impl Drop for DeferredResponse {
    fn drop(&mut self) {
        if !self.finished {
            self.send(Op::Release);
        }
    }
}
