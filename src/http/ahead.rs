//! The connection's side of pipelined requests processed in parallel (`http::pipeline`):
//! which requests are dispatched ahead, how a response dispatched ahead is answered, and
//! how each takes its turn.

use std::mem::{self, MaybeUninit};
use std::sync::Arc;

use super::answer::abort_held;
use super::conn::{Dispatch, HttpConn, Io, MAX_FIELDS, Reading};
use super::exchange::{Exchange, Phase, is_safe};
use super::head::{BodyFraming, parse_head};
use super::letter::{Op, Ticket};
use super::pipeline::{Ahead, HeldBack, Pipeline};

impl HttpConn {
    /// The current response awaits its answer: dispatches the request at the front of
    /// `input` now if it may be processed in parallel, and returns its length. `None`:
    /// it waits its turn (incomplete, unsafe, with a body, malformed: the usual path
    /// takes it once the responses before it are complete).
    pub(super) fn dispatch_ahead(
        &mut self,
        input: &[u8],
        io: &mut Io<'_>,
        app: &impl Dispatch,
    ) -> Option<usize> {
        let depth = self.pipeline.as_ref().map_or(0, |p| p.len());
        let behind_safe = self.response.is(Exchange::SAFE)
            && !self.response.is(Exchange::CLOSE_AFTER)
            && self.response.is_held();
        if !behind_safe || depth >= io.config.parallel_pipelined || io.shutting_down {
            return None;
        }
        let mut slots = [const { MaybeUninit::uninit() }; MAX_FIELDS];
        let head = parse_head(input, &mut slots, io.config).ok()??;
        let parallel = is_safe(head.method)
            && head.framing == BodyFraming::None
            && head.keep_alive
            && head.minor_version == 1
            && !head.expect_continue
            && !head.upgrade_websocket;
        if !parallel {
            return None;
        }
        let mut ahead = Ahead::new();
        self.as_ahead(&mut ahead, io, |conn, io| conn.begin(&head, io, app));
        self.pipeline
            .get_or_insert_with(Pipeline::boxed)
            .push(ahead);
        Some(head.len)
    }

    /// Runs `f` with `ahead` as the current response, writing into its own buffer.
    fn as_ahead<R>(
        &mut self,
        ahead: &mut Ahead,
        io: &mut Io<'_>,
        f: impl FnOnce(&mut HttpConn, &mut Io<'_>) -> R,
    ) -> R {
        mem::swap(&mut self.response, &mut ahead.state);
        let mut held_back = HeldBack::over(&ahead.out);
        let mut own = Io {
            out: &mut ahead.out,
            link: &mut held_back,
            ..*io
        };
        let outcome = f(self, &mut own);
        mem::swap(&mut self.response, &mut ahead.state);
        outcome
    }

    /// Applies a deferred response's calls to the response dispatched ahead that `ticket`
    /// stands for. `Err(ops)`: none does.
    pub(super) fn answer_ahead(
        &mut self,
        ticket: &Arc<Ticket>,
        ops: Vec<Op>,
        io: &mut Io<'_>,
        app: &impl Dispatch,
    ) -> Result<(), Vec<Op>> {
        let Some(mut pipeline) = self.pipeline.take() else {
            return Err(ops);
        };
        let outcome = match pipeline.held_by(ticket) {
            Some(ahead) => {
                self.as_ahead(ahead, io, |conn, io| conn.apply_ops(ticket, ops, io, app))
            }
            None => Err(ops),
        };
        self.pipeline = Some(pipeline);
        outcome
    }

    /// The current response is complete: the responses dispatched after it that are
    /// complete too go out, and the first that is not becomes current (its `on_writable`
    /// runs if it streams, the socket being writable).
    pub(super) fn advance(&mut self, io: &mut Io<'_>, app: &impl Dispatch) {
        while matches!(self.response.phase, Phase::Ended) {
            let Some(pipeline) = self.pipeline.as_mut() else {
                return;
            };
            let Some(next) = pipeline.pop() else {
                return;
            };
            if pipeline.is_empty()
                && let Some(pipeline) = self.pipeline.take()
            {
                Pipeline::recycle(pipeline);
            }
            self.response = next.into_turn(io.out);
            if self.response.is(Exchange::CLOSE_AFTER) {
                self.reading = Reading::Closed;
            }
            if self.response.is_held() {
                self.run_on_writable(io, app);
            }
        }
    }

    /// The socket is closing: every response dispatched ahead that is still held is
    /// aborted (its handle learns it, its `on_aborted` runs once).
    pub(super) fn abort_ahead(&mut self, app: &impl Dispatch) {
        let Some(mut pipeline) = self.pipeline.take() else {
            return;
        };
        for mut ahead in pipeline.drain() {
            abort_held(&mut ahead.state, app);
        }
        Pipeline::recycle(pipeline);
    }
}
