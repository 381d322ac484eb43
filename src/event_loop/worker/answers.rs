//! Letters from the mailbox, once per loop iteration: the calls of deferred responses'
//! handles, applied to their sockets corked (one write per socket per wake-up), and
//! closures deferred to this loop.

use std::mem;

use super::super::mailbox::{Letter, run_deferred};
use super::super::proto::{Conn, Lent};
use super::super::service::Service;
use super::{CORK_FLUSH_BYTES, Worker};
use crate::http::answer::answer_late;
use crate::http::letter::Ticket;
use crate::net::link::Link;

/// Rounds per iteration: a round may queue more letters (a closure answering, the next
/// pipelined request answered later from the loop itself).
const MAX_ROUNDS: usize = 8;
/// Requests of one socket's pipeline served per `after_answer` (a bound, so that one
/// client's deep pipeline cannot hold the loop).
const MAX_FOLLOW: usize = 64;

impl<S: Service> Worker<S> {
    /// Applies every waiting letter. Within each stretch between two closures, a socket's
    /// letters are applied together, in the order they were posted, and the socket is
    /// written once after them.
    pub(super) fn deliver_letters(&mut self) {
        for _ in 0..MAX_ROUNDS {
            // Letters carried from the last round (taken while following a socket) first.
            self.mailbox.take(&mut self.letters);
            if self.letters.is_empty() {
                return;
            }
            let mut letters = mem::take(&mut self.letters);
            let mut order = mem::take(&mut self.order);
            let mut stretch = 0u32;
            for (i, letter) in letters.iter().enumerate() {
                let key = letter.key().unwrap_or_else(|| {
                    stretch += 1;
                    usize::MAX
                });
                order.push((stretch, key, i as u32));
            }
            order.sort_unstable();
            // With closures in between, a socket's letters may come in several stretches:
            // answers taken early could then overtake older ones.
            let follow = stretch == 0;
            let mut slots = mem::take(&mut self.slots);
            slots.extend(letters.drain(..).map(Some));
            let mut open: Option<usize> = None;
            for &(_, key, i) in &order {
                let Some(letter) = slots[i as usize].take() else {
                    continue;
                };
                if open.is_some_and(|open| open != key)
                    && let Some(done) = open.take()
                {
                    self.after_answer(done, follow);
                }
                if let Letter::Response(..) | Letter::Socket(..) = letter {
                    open = Some(key);
                }
                self.apply(letter);
            }
            if let Some(done) = open {
                self.after_answer(done, follow);
            }
            order.clear();
            slots.clear();
            self.order = order;
            self.slots = slots;
            // What `after_answer` carried over stays in `self.letters` for the next round.
            letters.append(&mut self.letters);
            self.letters = letters;
        }
    }

    /// Applies one letter.
    fn apply(&mut self, letter: Letter) {
        match letter {
            Letter::Run(f) => run_deferred(f),
            Letter::Response(ticket, ops) => {
                let key = ticket.key();
                if self.sockets.contains(key) {
                    lend!(self, key, |socket, conn, lent| socket
                        .proto
                        .answer(&ticket, ops, conn, &mut lent));
                } else {
                    // The socket is gone: a late `on_aborted` still runs.
                    answer_late(&ticket, ops, &*self.service);
                }
                Ticket::recycle(ticket);
            }
            Letter::Socket(ticket, op) => {
                lend!(self, ticket.key(), |socket, conn, lent| socket
                    .proto
                    .remote(&ticket, op, conn, &mut lent));
            }
        }
    }

    /// After a socket's answers: requests pipelined behind a response that is now complete
    /// are served, and their answers posted meanwhile from this thread (a handler that
    /// defers and answers at once, an async handler) applied, until the stash is used up or
    /// an answer has to wait; so a pipelined batch answered later still leaves in one write.
    /// Then the socket reads on (its stash empty) or its output is written.
    fn after_answer(&mut self, key: usize, follow: bool) {
        for _ in 0..if follow { MAX_FOLLOW } else { 0 } {
            match self.sockets.get(key) {
                Some(socket) if socket.answered_with_input_waiting() => {}
                Some(_) => break,
                None => return,
            }
            self.feed(key, 0);
            if self.cork.len() >= CORK_FLUSH_BYTES
                && let Some(socket) = self.sockets.get_mut(key)
                && socket.wire.flush(&mut self.cork).is_err()
            {
                self.cork.clear();
                self.close(key);
                return;
            }
            let mut taken = mem::take(&mut self.following);
            if !self.mailbox.take(&mut taken) {
                self.following = taken;
                break;
            }
            for letter in taken.drain(..) {
                match letter.key() {
                    Some(k) if k == key => self.apply(letter),
                    // Another socket's, or a closure: in order, next round.
                    _ => self.letters.push(letter),
                }
            }
            self.following = taken;
        }
        match self.sockets.get(key) {
            Some(socket) if socket.answered_with_input_waiting() => self.on_readable(key, true),
            Some(_) => self.after_io(key, false),
            None => {}
        }
    }
}
