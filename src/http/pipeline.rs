//! Pipelined requests processed in parallel (RFC 9112 section 9.3.2), the queue: while the current
//! response awaits its answer (a deferred handle, an async handler), safe requests
//! pipelined behind a safe one are dispatched at once instead of waiting their turn. Their
//! responses are written into buffers of their own and go out in order, each when the one
//! before it completes.
//!
//! Without it every pipelined request answered later costs a round trip to whatever
//! answers it (another thread, a tokio task) and a write of its own; with it a batch of
//! them is dispatched, answered and written together. The connection's side is
//! `http::ahead`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use super::exchange::Exchange;
use super::letter::Ticket;
use super::response::ResponseState;
use crate::net::link::{CORK_WRITE_BYTES, Link};
use crate::spares::{self, SpareList};

/// Responses dispatched ahead of their turn, oldest first.
#[derive(Default)]
pub(crate) struct Pipeline {
    ahead: VecDeque<Ahead>,
}

/// One response dispatched ahead: its state and everything written to it so far.
pub(super) struct Ahead {
    pub(super) state: ResponseState,
    pub(super) out: Vec<u8>,
}

thread_local! {
    /// Emptied pipelines (their queue's capacity kept) and response buffers, for the next
    /// connection on this thread that dispatches ahead.
    #[allow(clippy::vec_box)]
    static SPARE_PIPELINES: SpareList<Box<Pipeline>> = const { RefCell::new(Vec::new()) };
    static SPARE_OUTS: SpareList<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A response buffer is kept as a spare only up to this capacity, in bytes (a loop keeps
/// up to `spares::SMALL_LIMIT` of them: 4 MiB at worst).
const SPARE_OUT_BYTES: usize = 1024;
/// A fresh response buffer's capacity, in bytes: most responses fit without growing it.
const OUT_BYTES: usize = 512;
/// Pipelines a loop keeps as spares: one per connection dispatching ahead at the same time
/// on a busy loop (each a queue of up to `Config::parallel_pipelined` entries of ~100 bytes).
const SPARE_PIPELINE_LIMIT: usize = 256;

impl Pipeline {
    /// An empty one: a spare of this thread's if it has one.
    pub(super) fn boxed() -> Box<Pipeline> {
        spares::take(&SPARE_PIPELINES).unwrap_or_default()
    }

    /// Keeps an emptied one for [`Pipeline::boxed`].
    pub(super) fn recycle(mut pipeline: Box<Pipeline>) {
        pipeline.ahead.clear();
        spares::keep_up_to(&SPARE_PIPELINES, pipeline, SPARE_PIPELINE_LIMIT);
    }

    /// How many responses are dispatched ahead.
    pub(super) fn len(&self) -> usize {
        self.ahead.len()
    }

    /// Whether none is.
    pub(super) fn is_empty(&self) -> bool {
        self.ahead.is_empty()
    }

    /// Queues the response dispatched last.
    pub(super) fn push(&mut self, ahead: Ahead) {
        self.ahead.push_back(ahead);
    }

    /// The oldest response dispatched ahead, taken out.
    pub(super) fn pop(&mut self) -> Option<Ahead> {
        self.ahead.pop_front()
    }

    /// The response `ticket`'s handle holds, if it is still open.
    pub(super) fn held_by(&mut self, ticket: &Arc<Ticket>) -> Option<&mut Ahead> {
        self.ahead.iter_mut().find(|a| {
            !a.state.is_ended() && matches!(&a.state.later, Some(held) if held.holds(ticket))
        })
    }

    /// Every response dispatched ahead, taken out.
    pub(super) fn drain(&mut self) -> impl Iterator<Item = Ahead> + '_ {
        self.ahead.drain(..)
    }

    /// The exchange of the response dispatched last, if any.
    pub(super) fn last_mut(&mut self) -> Option<&mut Exchange> {
        self.ahead.back_mut().map(|a| &mut a.state.exchange)
    }
}

impl Ahead {
    /// A response about to be dispatched ahead, with a buffer of its own.
    pub(super) fn new() -> Ahead {
        Ahead {
            state: ResponseState::new(),
            out: spares::take(&SPARE_OUTS).unwrap_or_else(|| Vec::with_capacity(OUT_BYTES)),
        }
    }

    /// Its turn came: what it wrote is moved to `cork`; its state is returned.
    pub(super) fn into_turn(mut self, cork: &mut Vec<u8>) -> ResponseState {
        cork.extend_from_slice(&self.out);
        self.out.clear();
        if self.out.capacity() <= SPARE_OUT_BYTES {
            spares::keep_up_to(&SPARE_OUTS, self.out, spares::SMALL_LIMIT);
        }
        self.state
    }
}

/// The write side of a response dispatched ahead: nothing reaches the socket before the
/// responses ahead of it complete. What it writes stays in its buffer, as in a cork; once
/// that holds [`CORK_WRITE_BYTES`] the bytes count as held back by the kernel, so `write`
/// and `try_end` report backpressure and a streaming response waits for its `on_writable`,
/// which runs when its turn comes. Memory stays bounded as on a socket.
pub(super) struct HeldBack {
    held: usize,
}

impl HeldBack {
    /// The write side of a response dispatched ahead that wrote `out` so far.
    pub(super) fn over(out: &[u8]) -> Self {
        let held = if out.len() >= CORK_WRITE_BYTES {
            out.len()
        } else {
            0
        };
        HeldBack { held }
    }
}

impl Link for HeldBack {
    fn buffered(&self) -> usize {
        self.held
    }

    fn flush(&mut self, cork: &mut Vec<u8>) -> io::Result<()> {
        // Kept in place: it leaves, in order, when this response's turn comes.
        self.held = cork.len();
        Ok(())
    }
}
