//! Letters from the mailbox, once per loop iteration: the calls of deferred responses'
//! handles, applied to their sockets corked (one write per socket per wake-up), and
//! closures deferred to this loop.

use std::mem;

use super::super::mailbox::{Letter, run_deferred};
use super::super::proto::{Conn, Lent};
use super::super::service::Service;
use super::Worker;
use crate::http::conn::answer_late;

/// Rounds per iteration: a round may queue more letters (a closure answering, the next
/// pipelined request answered later from the loop itself).
const MAX_ROUNDS: usize = 8;

impl<S: Service> Worker<S> {
    /// Applies every waiting letter. Within each stretch between two closures, a socket's
    /// letters are applied together, in the order they were posted, and the socket is
    /// written once after them.
    pub(super) fn deliver_letters(&mut self) {
        for _ in 0..MAX_ROUNDS {
            if !self.mailbox.take(&mut self.letters) {
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
                    self.after_answer(done);
                }
                match letter {
                    Letter::Run(f) => run_deferred(f),
                    Letter::Response(ticket, ops) if self.sockets.contains(key) => {
                        open = Some(key);
                        lend!(self, key, |socket, conn, lent| socket
                            .proto
                            .answer(&ticket, ops, conn, &mut lent));
                    }
                    // The socket is gone: a late `on_aborted` still runs.
                    Letter::Response(ticket, ops) => answer_late(&ticket, ops, &*self.service),
                    Letter::Socket(ticket, op) => {
                        open = Some(key);
                        lend!(self, key, |socket, conn, lent| socket
                            .proto
                            .remote(&ticket, op, conn, &mut lent));
                    }
                }
            }
            if let Some(done) = open {
                self.after_answer(done);
            }
            order.clear();
            slots.clear();
            self.order = order;
            self.slots = slots;
            self.letters = letters;
        }
    }

    /// After a socket's answers: requests pipelined behind a response that is now complete
    /// are read on; otherwise the socket's output is written.
    fn after_answer(&mut self, key: usize) {
        match self.sockets.get(key) {
            Some(socket) if socket.answered_with_input_waiting() => self.on_readable(key, true),
            Some(_) => self.after_io(key, false),
            None => {}
        }
    }
}
