//! The parts of [`HttpResponse`] for answers that outlive the handler (uWebSockets'
//! `tryEnd`, `getWriteOffset`, `onWritable`, `onAborted`, and `Loop::defer` made safe):
//! streaming a body of known size under backpressure, and handing the response to another
//! thread.

use std::sync::Arc;

use super::exchange::{Exchange, Phase};
use super::later::{DeferredResponse, LoopHandle};
use super::letter::OnAborted;
use super::letter::Ticket;
use super::response::{Held, HttpResponse, OnWritable};
use crate::net::link::uncork_when_full;

impl HttpResponse<'_> {
    /// Sends part of a body of `total_size` bytes, announced with `Content-Length` by the
    /// first call (uWebSockets' `tryEnd`). Returns `(ok, done)`:
    /// - `ok`: all of `chunk` was taken and nothing waits for the kernel. When `false`,
    ///   register [`on_writable`](Self::on_writable) and go on from
    ///   [`write_offset`](Self::write_offset) when it runs.
    /// - `done`: the response is complete (the write offset reached `total_size`).
    ///
    /// While bytes already wait for the kernel nothing is taken (the offset stays), so
    /// memory stays within one chunk per socket. Bytes past `total_size` are never sent. For
    /// a HEAD request the fields go out and the response is done at once. Ignored (`(false,
    /// done)`) on a response that was started with [`write`](Self::write) or is over.
    ///
    /// On a route with [compression](crate::Compression): a first call with the whole body
    /// is [`end`](Self::end); a body sent piecewise that gets a coding goes with chunked
    /// framing instead of `Content-Length`, each piece coded and flushed, and the write
    /// offset counts the bytes given (before coding), so resuming from it works as usual.
    pub fn try_end(&mut self, chunk: impl AsRef<[u8]>, total_size: u64) -> (bool, bool) {
        let chunk = chunk.as_ref();
        if matches!(self.state.phase, Phase::Fresh | Phase::Fields) {
            if self.state.compress.is_some() && chunk.len() as u64 == total_size {
                // The whole body in one call: compressed as `end` would.
                return self.end_whole(chunk);
            }
            self.write_status("200 OK");
            if !matches!(self.state.phase, Phase::Fields) {
                return (false, self.state.is_ended());
            }
            let mut length = Some(total_size);
            if self.state.compress.is_some() {
                length = self.start_sized_coded(total_size);
            }
            self.finish_fields(length);
            self.state.offset = 0;
            if total_size == 0 || self.state.is(Exchange::HEAD) {
                self.state.phase = Phase::Ended;
                return (true, true);
            }
            self.state.phase = Phase::Sized(total_size);
        }
        let Phase::Sized(total) = self.state.phase else {
            return (false, self.state.is_ended());
        };
        if self.link.buffered() > 0 {
            return (chunk.is_empty(), false);
        }
        let room = total - self.state.offset;
        let take = chunk.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if self.state.compress.is_some() && self.streams_coded() {
            return self.try_end_coded(&chunk[..take], room == take as u64);
        }
        self.out.extend_from_slice(&chunk[..take]);
        self.state.offset += take as u64;
        if self.state.offset == total {
            self.state.phase = Phase::Ended;
        }
        if uncork_when_full(self.link, self.out).is_err() {
            self.state.phase = Phase::Aborted;
            return (false, false);
        }
        let done = matches!(self.state.phase, Phase::Ended);
        (self.link.buffered() == 0, done)
    }

    /// `try_end` of a whole body, as `end` (which may compress it).
    #[inline(never)]
    fn end_whole(&mut self, body: &[u8]) -> (bool, bool) {
        self.end(body);
        if uncork_when_full(self.link, self.out).is_err() {
            self.state.phase = Phase::Aborted;
            return (false, false);
        }
        (self.link.buffered() == 0, self.state.is_ended())
    }

    /// Body bytes sent so far, framing not counted (uWebSockets' `getWriteOffset`).
    pub fn write_offset(&self) -> u64 {
        self.state.offset
    }

    /// Streams with backpressure: `f(response, write_offset)` runs on this loop each time
    /// the socket has written out what it held back, until the response is complete
    /// (uWebSockets' `onWritable`). It writes the next part ([`try_end`](Self::try_end) or
    /// [`write`](Self::write)) and returns whether that was taken without backpressure.
    ///
    /// Registering it means the answer comes later: the handler may return without ending
    /// the response. Register it when a write reported backpressure, as it runs only after
    /// the kernel pushed back. A panic in `f` goes to the app's error handler.
    pub fn on_writable(
        &mut self,
        f: impl FnMut(&mut HttpResponse<'_>, u64) -> bool + Send + 'static,
    ) {
        self.hold_on_writable(Box::new(f));
    }

    /// Keeps an already boxed `on_writable` (from a deferred handle's letter).
    pub(super) fn hold_on_writable(&mut self, f: OnWritable) {
        if let Some(held) = self.held() {
            held.on_writable = Some(f);
        }
    }

    /// Runs `f` once, on this loop, if the client goes before the response is complete
    /// (uWebSockets' `onAborted`): after it, nothing can be sent. Registering it means the
    /// answer comes later: the handler may return without ending the response.
    pub fn on_aborted(&mut self, f: impl FnOnce() + Send + 'static) {
        self.hold_on_aborted(Box::new(f));
    }

    /// Keeps an already boxed `on_aborted` (from a deferred handle's letter).
    pub(super) fn hold_on_aborted(&mut self, f: OnAborted) {
        if let Some(held) = self.held() {
            held.on_aborted = Some(f);
        }
    }

    /// Takes the right to answer this request out of the handler: the returned handle is
    /// `'static + Send` and may answer from any thread (see [`DeferredResponse`]). The
    /// handler returns without answering; copy what you need of the request first
    /// ([`HttpRequest::to_owned`](crate::HttpRequest::to_owned)).
    ///
    /// Calling it again supersedes the earlier handle (whose calls then return `false`).
    /// On a response that is already complete the handle's calls return `false`.
    pub fn defer(&mut self) -> DeferredResponse {
        let ticket = Ticket::new(self.home.key, self.home.courier);
        match self.held() {
            Some(held) => {
                if let Some(old) = held.ticket.replace(Arc::clone(&ticket)) {
                    old.abort();
                }
            }
            None => ticket.done(),
        }
        DeferredResponse::new(ticket)
    }

    /// A handle to this response's loop, to run work there from any thread
    /// (uWebSockets' `Loop::defer`).
    pub fn loop_handle(&self) -> LoopHandle {
        LoopHandle::new(Arc::clone(self.home.courier))
    }

    /// Whether a request body is still to come (`on_data` would be called).
    #[cfg(feature = "tokio")]
    pub(crate) fn expects_body(&self) -> bool {
        self.state.is(Exchange::BODY_PENDING)
    }

    /// Whether the answer comes later (`defer`, `on_writable` or `on_aborted` was used and the
    /// response is not complete).
    pub(crate) fn is_held(&self) -> bool {
        self.state.is_held()
    }

    /// What holds this response, created on first use; `None` once it is complete.
    fn held(&mut self) -> Option<&mut Held> {
        if self.state.is_ended() {
            return None;
        }
        Some(self.state.later.get_or_insert_with(Held::boxed))
    }
}
