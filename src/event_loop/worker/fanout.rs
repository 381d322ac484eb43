//! Pub/sub fan-out, once per loop iteration: messages published on this loop (and taken from
//! its inbox) are queued, as shared frames, on every subscriber's outbox; each subscriber is
//! then written once. Local publishes are forwarded to the other loops in one post each.

use std::mem;

use super::Worker;
use super::ws::idle_deadline;
use crate::event_loop::socket::{Proto, Timer};
use crate::ws::conn::Closing;
use crate::ws::pubsub::Published;
use crate::ws::socket::Link;

/// Fan-out rounds per iteration: callbacks run by a round (`dropped`) may publish again.
const MAX_ROUNDS: usize = 4;

impl Worker {
    /// Delivers everything published since the last call, then writes each subscriber once.
    pub(super) fn fan_out(&mut self) {
        for _ in 0..MAX_ROUNDS {
            self.hub.take(self.at, &mut self.topics.batch);
            if self.topics.batch.is_empty() {
                break;
            }
            let generation = self.topics.generation;
            let mut batch = mem::take(&mut self.fanning);
            self.topics.take_batch(&mut batch);
            self.forward(&batch);
            for (index, message) in batch.iter().enumerate() {
                let Some(id) = self.topics.id(&message.topic) else {
                    continue;
                };
                // Copied out: a `dropped` callback may change the subscriber list.
                self.subscribers.clear();
                self.subscribers
                    .extend_from_slice(self.topics.subscribers(id));
                for i in 0..self.subscribers.len() {
                    let key = self.subscribers[i];
                    if message.sender != Some(key) {
                        self.deliver(key, message, index, generation);
                    }
                }
            }
            batch.clear();
            self.fanning = batch;
        }
        self.flush_dirty();
    }

    /// Posts this loop's own publishes to every other loop.
    fn forward(&self, batch: &[Published]) {
        if self.hub.loops() < 2 || batch.iter().all(|m| m.sender.is_none()) {
            return;
        }
        for to in (0..self.hub.loops()).filter(|&to| to != self.at) {
            let own = batch.iter().filter(|m| m.sender.is_some());
            self.hub.post(
                to,
                own.map(|m| Published {
                    sender: None,
                    ..m.clone()
                }),
            );
        }
    }

    /// Queues `message` (number `index` of batch `generation`) on subscriber `key`, or runs
    /// its `dropped` callback when it is over `max_backpressure`.
    fn deliver(&mut self, key: usize, message: &Published, index: usize, generation: u32) {
        let Some(socket) = self.sockets.get_mut(key) else {
            return;
        };
        let Proto::Ws(ws) = &socket.proto else {
            return;
        };
        let (mark_generation, mark) = ws.flags.delivered;
        if mark_generation == generation && index < mark as usize {
            return; // a `send` already wrote it, in order, to this socket
        }
        if ws.conn.closing() != Closing::Open || ws.flags.abort || ws.flags.close_reported {
            return;
        }
        let settings = *ws.settings();
        if socket.wire().buffered() > settings.max_backpressure {
            self.with_ws(key, |ws, env| {
                ws.dropped(env, message.payload(), message.opcode)
            });
            // What the callback sent is in the cork: it goes to this socket now.
            if let Some(socket) = self.sockets.get_mut(key)
                && socket.flush(&mut self.cork).is_err()
            {
                self.close(key);
            }
            return;
        }
        if socket.outbox.is_empty() {
            self.dirty.push(key);
        }
        socket.queue_frame(message.frame.clone());
        if settings.reset_idle_timeout_on_send
            && socket.timer == Timer::Idle
            && let Proto::Ws(ws) = &mut socket.proto
        {
            ws.flags.idle_end = idle_deadline(self.now, settings.idle_timeout);
            socket.deadline = ws.flags.idle_end.min(ws.flags.lifetime_end);
        }
    }

    /// Writes the queued frames of every subscriber touched by the fan-out: one syscall each.
    fn flush_dirty(&mut self) {
        for i in 0..self.dirty.len() {
            let key = self.dirty[i];
            if let Some(socket) = self.sockets.get_mut(key)
                && socket.flush(&mut self.cork).is_err()
            {
                self.close(key);
            }
        }
        self.dirty.clear();
    }
}
