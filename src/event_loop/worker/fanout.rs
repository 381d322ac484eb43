//! Pub/sub fan-out, once per loop iteration: messages published on this loop (and taken from
//! its inbox) are queued, as shared frames, on every subscriber's outbox; each subscriber is
//! then written once. Local publishes are forwarded to the other loops in one post each.

use std::mem;

use super::super::policy::ws_published;
use super::super::proto::{Conn, Lent};
use super::super::service::Service;
use super::Worker;
use crate::net::link::Link;
use crate::stats::bump;
use crate::ws::deflate::SharedFrames;
use crate::ws::pubsub::Published;

/// Fan-out rounds per iteration: callbacks run by a round (`dropped`) may publish again.
const MAX_ROUNDS: usize = 4;

impl<S: Service> Worker<S> {
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
                let mut frames = SharedFrames::default();
                // Copied out: a `dropped` callback may change the subscriber list.
                self.subscribers.clear();
                self.subscribers
                    .extend_from_slice(self.topics.subscribers(id));
                for i in 0..self.subscribers.len() {
                    let key = self.subscribers[i];
                    if message.sender != Some(key) {
                        self.deliver(key, message, (index, generation), &mut frames);
                    }
                }
            }
            batch.clear();
            self.fanning = batch;
        }
        self.flush_dirty();
    }

    /// Posts this loop's own publishes to every other loop, and to other processes through
    /// the bridge. (Messages from other loops or processes arrive without a sender, so none
    /// goes around twice.)
    fn forward(&self, batch: &[Published]) {
        if batch.iter().all(|m| m.sender.is_none()) {
            return;
        }
        if self.hub.bridged() {
            for message in batch.iter().filter(|m| m.sender.is_some()) {
                self.hub
                    .bridge_out(&message.topic, message.payload(), message.opcode);
            }
        }
        if self.hub.loops() < 2 {
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
    /// its `dropped` callback when it is over `max_backpressure`. A compressed socket gets
    /// the message compressed: once per loop and window size (`frames`) with the shared
    /// compressor, by its own with a dedicated one.
    fn deliver(
        &mut self,
        key: usize,
        message: &Published,
        (index, generation): (usize, u32),
        frames: &mut SharedFrames,
    ) {
        let Some(socket) = self.sockets.get_mut(key) else {
            return;
        };
        let (buffered, armed) = (socket.wire.buffered(), socket.armed());
        let Some(ws) = socket.proto.ws_mut() else {
            return;
        };
        let (mark_generation, mark) = ws.subs.delivered;
        if mark_generation == generation && index < mark as usize {
            return; // a `send` already wrote it, in order, to this socket
        }
        if !ws.is_open() {
            return;
        }
        let settings = *ws.settings();
        if buffered > settings.max_backpressure {
            bump(&self.stats.messages_dropped);
            let (payload, opcode) = (message.payload(), message.opcode);
            lend!(self, key, |socket, conn, lent| socket
                .proto
                .dropped(conn, &mut lent, payload, opcode));
            // What the callback sent is in the cork: it goes to this socket now.
            if let Some(socket) = self.sockets.get_mut(key)
                && socket.wire.flush(&mut self.cork).is_err()
            {
                self.close(key);
            }
            return;
        }
        if !socket.wire.has_queued_frames() {
            self.dirty.push(key);
        }
        let frame = ws.publish_frame(key, message, &mut self.side.deflate, frames);
        socket.wire.queue_frame(frame);
        bump(&self.stats.messages_sent);
        if let Some(armed) = ws_published(&mut ws.clock, &settings, armed, self.now) {
            socket.arm(armed);
        }
    }

    /// Writes the queued frames of every subscriber touched by the fan-out: one syscall each.
    fn flush_dirty(&mut self) {
        for i in 0..self.dirty.len() {
            let key = self.dirty[i];
            if let Some(socket) = self.sockets.get_mut(key)
                && socket.wire.flush(&mut self.cork).is_err()
            {
                self.close(key);
            }
        }
        self.dirty.clear();
    }
}
