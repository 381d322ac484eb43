//! The parts of [`HttpConn`] for answers that come later: applying a deferred response's
//! calls, its handle's release, a streaming response's `on_writable`, and the client leaving
//! first (`on_aborted`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::conn::{Dispatch, HttpConn, Io};
use super::later::Corked;
use super::letter::{OnAborted, Op, Ticket, late_on_aborted, recycle_ops};
use super::response::{HttpResponse, OnWritable, ResponseState};
use crate::error::{HandlerError, Stage};

impl HttpConn {
    /// Whether the current response's answer comes later (a handle or loop callbacks hold it).
    pub(crate) fn awaits_answer(&self) -> bool {
        self.response.is_held()
    }

    /// A handler deferred its response and its handle was used at once, on this thread
    /// (`res.defer()` then `end` in the handler, or an answer ready at once): the calls
    /// are taken back from the loop's queue and applied now, so the requests pipelined
    /// behind this one are served in the same pass, as a synchronous answer's are.
    pub(crate) fn answer_own(&mut self, io: &mut Io<'_>, app: &impl Dispatch) {
        let Some(ticket) = self.response.later.as_ref().and_then(|h| h.ticket.as_ref()) else {
            return;
        };
        let Some((ticket, ops)) = io.home.courier.reclaim(ticket) else {
            return;
        };
        if let Err(ops) = self.apply_ops(&ticket, ops, io, app) {
            answer_late(&ticket, ops, app);
        }
        Ticket::recycle(ticket);
    }

    /// Applies the calls of a deferred response's handle to the response it stands for.
    /// `Err(ops)`: `ticket` is not this connection's current one (the response is over, or
    /// the slot was reused), and nothing was applied.
    pub(crate) fn answer(
        &mut self,
        ticket: &Arc<Ticket>,
        ops: Vec<Op>,
        io: &mut Io<'_>,
        app: &impl Dispatch,
    ) -> Result<(), Vec<Op>> {
        match self.apply_ops(ticket, ops, io, app) {
            Ok(()) => {
                self.advance(io, app);
                Ok(())
            }
            Err(ops) => self.answer_ahead(ticket, ops, io, app),
        }
    }

    /// Applies the calls of `ticket`'s handle to the current response, if it is the one
    /// `ticket` stands for (`Err(ops)` otherwise).
    pub(super) fn apply_ops(
        &mut self,
        ticket: &Arc<Ticket>,
        ops: Vec<Op>,
        io: &mut Io<'_>,
        app: &impl Dispatch,
    ) -> Result<(), Vec<Op>> {
        let current = matches!(&self.response.later, Some(held) if held.holds(ticket));
        if !current || self.response.is_ended() {
            return Err(ops);
        }
        let mut released = false;
        let mut res =
            HttpResponse::new(&mut self.response, io.out, &mut *io.link, io.date, &io.home);
        let mut ops = ops;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            for op in ops.drain(..) {
                released |= apply(&mut res, op, app);
            }
        }));
        recycle_ops(ops);
        after_callback(&mut res, outcome, app, Stage::Deferred);
        self.response.settle();
        if released {
            self.release(ticket, io, app);
        }
        Ok(())
    }

    /// The handle of `ticket` went: its response is unanswered unless complete or streaming
    /// from an `on_writable` callback.
    fn release(&mut self, ticket: &Arc<Ticket>, io: &mut Io<'_>, app: &impl Dispatch) {
        let Some(held) = self.response.later.as_mut().filter(|h| h.holds(ticket)) else {
            return;
        };
        held.ticket = None;
        if held.on_writable.is_some() || self.response.is_ended() {
            return;
        }
        let mut res =
            HttpResponse::new(&mut self.response, io.out, &mut *io.link, io.date, &io.home);
        app.unanswered(&mut res);
        if !res.has_responded() {
            res.close();
        }
        self.response.settle();
    }

    /// The socket drained what it held back: a streaming response's `on_writable` runs
    /// (and the responses dispatched after it go out if it completed).
    pub(crate) fn writable(&mut self, io: &mut Io<'_>, app: &impl Dispatch) {
        self.run_on_writable(io, app);
        self.advance(io, app);
    }

    /// Runs the current response's `on_writable`, if it streams and nothing is held back.
    pub(super) fn run_on_writable(&mut self, io: &mut Io<'_>, app: &impl Dispatch) {
        if io.link.buffered() > 0 || !self.response.is_held() {
            return;
        }
        let Some(mut on_writable) = self
            .response
            .later
            .as_mut()
            .and_then(|h| h.on_writable.take())
        else {
            return;
        };
        let offset = self.response.offset;
        let mut res =
            HttpResponse::new(&mut self.response, io.out, &mut *io.link, io.date, &io.home);
        let outcome = catch_unwind(AssertUnwindSafe(|| on_writable(&mut res, offset)));
        after_callback(&mut res, outcome, app, Stage::Deferred);
        self.response.settle();
        if let Some(held) = self.response.later.as_mut()
            && held.on_writable.is_none()
        {
            held.on_writable = Some(on_writable);
        }
    }

    /// The socket is closing: a response still held is aborted (its handle learns it, and
    /// its `on_aborted` runs, once).
    pub(crate) fn closed(&mut self, app: &impl Dispatch) {
        abort_held(&mut self.response, app);
        self.abort_ahead(app);
    }
}

/// The socket is closing: `response`, if still held, is aborted (its handle learns it, and
/// its `on_aborted` runs, once).
pub(super) fn abort_held(response: &mut ResponseState, app: &impl Dispatch) {
    let Some(held) = response.later.take() else {
        return;
    };
    if response.is_ended() {
        return held.settle();
    }
    if let Some(on_aborted) = held.abort() {
        run_on_aborted(on_aborted, app);
    }
}

/// Applies one call of a deferred response's handle; true for the handle's release.
fn apply(res: &mut HttpResponse<'_>, op: Op, app: &impl Dispatch) -> bool {
    match op {
        Op::Status(status) => {
            res.write_status(&status);
        }
        Op::Header(name, value) => {
            res.write_header(&name, &value);
        }
        Op::Write(chunk) => {
            res.write(chunk);
        }
        Op::TryEnd(chunk, total) => {
            res.try_end(chunk, total);
        }
        Op::End(body) => res.end(body),
        Op::EndWithoutBody(length) => res.end_without_body(length),
        Op::Close => res.close(),
        Op::OnAborted(f) => res.hold_on_aborted(f),
        Op::OnWritable(f) => {
            if let Ok(f) = f.downcast::<OnWritable>() {
                res.hold_on_writable(*f);
            }
        }
        Op::Cork(f) => {
            if let Ok(f) = f.downcast::<Corked>() {
                (*f)(res);
            }
        }
        Op::Fail(error) => app.failed(res, &error),
        Op::Release => return true,
    }
    false
}

/// After user code ran on `res` outside the handler: reports a refused field, then a panic.
fn after_callback<T>(
    res: &mut HttpResponse<'_>,
    outcome: std::thread::Result<T>,
    app: &impl Dispatch,
    stage: Stage,
) {
    if res.has_refused() {
        app.refused(res, stage);
    }
    if let Err(panic) = outcome {
        app.panicked(res, panic.as_ref(), stage);
    }
}

/// Calls of a deferred response's handle that reached the loop after the response was over
/// (or its socket gone): an `on_aborted` among them runs if the client went first.
pub(crate) fn answer_late(ticket: &Ticket, ops: Vec<Op>, app: &impl Dispatch) {
    for on_aborted in late_on_aborted(ticket, ops) {
        run_on_aborted(on_aborted, app);
    }
}

/// Runs an `on_aborted` callback; a panic goes to the error handler.
fn run_on_aborted(on_aborted: OnAborted, app: &impl Dispatch) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(on_aborted)) {
        app.report(&HandlerError::panic(panic.as_ref(), Stage::Deferred, None));
    }
}
