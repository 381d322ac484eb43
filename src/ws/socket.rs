//! The handle handed to WebSocket callbacks (uWebSockets' `WebSocket<SSL, isServer, UserData>`):
//! it borrows the socket's state, the loop's cork and topics for the duration of one callback.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use super::behavior::{Settings, WebSocketBehavior};
use super::codec::OpCode;
use super::conn::{ABNORMAL, Closing, WsConn};
use super::pubsub::{Hub, LoopTopics, Published, TopicId};

/// Cork size past which a callback's sends are written out before it returns, in bytes
/// (uWebSockets uncorks when its 16 KiB cork buffer fills).
const CORK_WRITE_BYTES: usize = 64 * 1024;

/// Result of [`WebSocket::send`] (uWebSockets' `SendStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendStatus {
    /// Queued, and nothing waits for the kernel.
    Success,
    /// Queued, but bytes are buffered because the client reads slower than we write: wait for
    /// the `drain` callback before sending much more.
    Backpressure,
    /// Not sent: over `max_backpressure`, or the socket is closing.
    Dropped,
}

/// The transport under one WebSocket: how much is buffered, and writing out the cork.
pub(crate) trait Link {
    /// Bytes waiting for the kernel (backpressure buffer plus queued published frames).
    fn buffered(&self) -> usize;
    /// Writes queued frames and `cork` in one call; keeps what the kernel refuses.
    fn flush(&mut self, cork: &mut Vec<u8>) -> io::Result<()>;
}

/// Bytes waiting for the kernel, as `send` drops and `feed` pauses on (uWebSockets'
/// `getBufferedAmount`), once it is `threshold` or more with the cork counted.
///
/// While the kernel takes everything the cork is not counted, so a burst of corked sends
/// is never refused. Once the kernel pushes back the cork can only queue behind, so when
/// the two together reach `threshold` the cork is written out first (a syscall only under
/// backpressure) and what the kernel still refuses is returned. This keeps a flooding
/// sender within its limit plus one message.
///
/// # Errors
/// The write failed; the connection is lost.
pub(crate) fn backlog(
    link: &mut dyn Link,
    cork: &mut Vec<u8>,
    threshold: usize,
) -> io::Result<usize> {
    let refused = link.buffered();
    if refused == 0 || refused + cork.len() < threshold {
        return Ok(refused);
    }
    let flushed = link.flush(cork);
    cork.clear();
    flushed.map(|()| link.buffered())
}

/// Per-socket WebSocket state besides the protocol and the user data.
#[derive(Debug)]
pub(crate) struct Flags {
    /// Topics this socket is subscribed to.
    pub(crate) topics: Vec<TopicId>,
    /// `(generation, index)`: entries of the loop's publish batch already written to this
    /// socket's cork by a `send` (to keep publish-then-send order).
    pub(crate) delivered: (u32, u32),
    /// The close callback has run.
    pub(crate) close_reported: bool,
    /// Drop the TCP connection without a closing handshake (`close()`, or a failed write).
    pub(crate) abort: bool,
    /// A frame was queued by a callback (for `reset_idle_timeout_on_send`).
    pub(crate) sent: bool,
    /// An automatic ping is outstanding.
    pub(crate) pinged: bool,
    /// Loop second at which the idle timer fires (`u32::MAX`: never).
    pub(crate) idle_end: u32,
    /// Loop second at which `max_lifetime` ends the socket (`u32::MAX`: never).
    pub(crate) lifetime_end: u32,
}

impl Default for Flags {
    fn default() -> Self {
        Flags {
            topics: Vec::new(),
            delivered: (0, 0),
            close_reported: false,
            abort: false,
            sent: false,
            pinged: false,
            idle_end: u32::MAX,
            lifetime_end: u32::MAX,
        }
    }
}

/// Everything a callback's handle borrows, except the user data.
pub(crate) struct Core<'a> {
    pub(crate) conn: &'a mut WsConn,
    pub(crate) flags: &'a mut Flags,
    pub(crate) cork: &'a mut Vec<u8>,
    pub(crate) link: &'a mut dyn Link,
    pub(crate) topics: &'a mut LoopTopics,
    pub(crate) hub: &'a Hub,
    pub(crate) settings: &'a Settings,
    /// Index of this loop in the hub.
    pub(crate) at: usize,
    /// This socket's slab key.
    pub(crate) key: usize,
    pub(crate) remote: SocketAddr,
}

impl Core<'_> {
    /// Bytes queued for this socket (cork included).
    fn buffered(&self) -> usize {
        self.link.buffered() + self.cork.len()
    }

    /// Before this socket writes: messages published to its topics earlier in this callback
    /// (not yet fanned out) go first.
    fn deliver_pending(&mut self) {
        self.hub.take(self.at, &mut self.topics.batch);
        if self.flags.topics.is_empty() || self.topics.batch.is_empty() {
            return;
        }
        let generation = self.topics.generation;
        let (mark_gen, mark) = self.flags.delivered;
        let start = if mark_gen == generation {
            mark as usize
        } else {
            0
        };
        for published in &self.topics.batch[start.min(self.topics.batch.len())..] {
            let to_me = published.sender != Some(self.key)
                && self
                    .topics
                    .id(&published.topic)
                    .is_some_and(|id| self.flags.topics.contains(&id));
            if to_me {
                self.cork.extend_from_slice(&published.frame);
            }
        }
        self.flags.delivered = (generation, self.topics.batch.len() as u32);
    }

    /// Writes one frame unless closed or over the backpressure limit.
    pub(crate) fn send(&mut self, message: &[u8], opcode: OpCode) -> SendStatus {
        if self.conn.closing() != Closing::Open || self.flags.abort {
            return SendStatus::Dropped;
        }
        let limit = self.settings.max_backpressure;
        // `feed` pauses on the same measure (at most this limit), so a message it lets
        // through is never dropped here.
        match backlog(&mut *self.link, self.cork, limit.saturating_add(1)) {
            Ok(waiting) if waiting <= limit => {}
            Ok(_) => {
                if self.settings.close_on_backpressure_limit {
                    self.flags.abort = true;
                }
                return SendStatus::Dropped;
            }
            Err(_) => {
                self.flags.abort = true;
                return SendStatus::Dropped;
            }
        }
        self.deliver_pending();
        self.conn.send(self.cork, message, opcode);
        self.flags.sent = true;
        if self.cork.len() >= CORK_WRITE_BYTES {
            self.write_out();
        }
        if self.link.buffered() > 0 {
            SendStatus::Backpressure
        } else {
            SendStatus::Success
        }
    }

    /// Writes the cork out now; a failed write drops the connection.
    fn write_out(&mut self) {
        if self.link.flush(self.cork).is_err() {
            self.cork.clear();
            self.flags.abort = true;
        }
    }

    /// Queues `message` for every other subscriber of `topic`, on every loop.
    fn publish(&mut self, topic: &str, message: &[u8], opcode: OpCode) -> bool {
        let local = self.topics.id(topic).map(|id| self.topics.shared_name(id));
        let remote_loops = self.hub.loops() > 1;
        if local.is_none() && !remote_loops {
            return false;
        }
        let name = local.unwrap_or_else(|| Arc::from(topic));
        let published = Published::new(name, message, opcode, Some(self.key));
        self.topics.batch.push(published);
        true
    }
}

/// A WebSocket during one callback, with typed access to its user data `U`.
///
/// Valid only for the callback (as in uWebSockets); sends are corked, so everything one
/// callback sends to a socket leaves in one write.
pub struct WebSocket<'a, U> {
    pub(crate) core: Core<'a>,
    pub(crate) user: &'a mut U,
    pub(crate) behavior: &'a WebSocketBehavior<U>,
}

impl<U> WebSocket<'_, U> {
    /// Sends one message (a single frame) of type `opcode` (RFC 6455 section 5.6). A `Text`
    /// message must be UTF-8 (not checked, as in uWebSockets); ping and pong payloads are cut
    /// to 125 bytes.
    ///
    /// Returns [`SendStatus::Dropped`] without sending when more than `max_backpressure`
    /// bytes are already buffered (and closes the socket if `close_on_backpressure_limit`),
    /// or once the socket is closing; [`SendStatus::Backpressure`] when queued behind bytes
    /// the kernel has not taken; else [`SendStatus::Success`].
    pub fn send(&mut self, message: impl AsRef<[u8]>, opcode: OpCode) -> SendStatus {
        self.core.send(message.as_ref(), opcode)
    }

    /// Starts the closing handshake (RFC 6455 section 7.1.2): sends a close frame with `code`
    /// (1000 for a normal close) and `reason` (cut to 123 bytes), runs the `close` callback,
    /// and closes the TCP connection once the client answers or after a short timeout.
    pub fn end(&mut self, code: u16, reason: &str) {
        if self.core.flags.close_reported {
            return;
        }
        self.core.deliver_pending();
        self.core.conn.end(self.core.cork, code, reason);
        self.report_close(code, reason);
    }

    /// Closes the TCP connection at once, without a closing handshake (uWebSockets'
    /// `close`); the `close` callback runs with code 1006.
    pub fn close(&mut self) {
        self.core.flags.abort = true;
        self.core.conn.abort();
        self.report_close(ABNORMAL, "");
    }

    /// Runs the `close` callback, once.
    pub(crate) fn report_close(&mut self, code: u16, reason: &str) {
        if std::mem::replace(&mut self.core.flags.close_reported, true) {
            return;
        }
        if let Some(close) = &self.behavior.close {
            close(self, code, reason);
        }
        self.unsubscribe_all();
    }

    /// The data attached at upgrade (`U::default()` when the route has no `upgrade` hook).
    pub fn user_data(&self) -> &U {
        self.user
    }

    /// The data attached at upgrade, mutably.
    pub fn user_data_mut(&mut self) -> &mut U {
        self.user
    }

    /// The peer's address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.core.remote
    }

    /// Bytes queued for this socket and not yet taken by the kernel (uWebSockets'
    /// `getBufferedAmount`).
    pub fn buffered_amount(&self) -> usize {
        self.core.buffered()
    }

    /// Subscribes to `topic`; false if already subscribed. Runs the `subscription` callback
    /// with the topic's subscriber counts (every loop) after and before.
    pub fn subscribe(&mut self, topic: &str) -> bool {
        if self.core.flags.close_reported {
            return false;
        }
        let core = &mut self.core;
        let Some((new, old)) =
            core.topics
                .subscribe(core.key, &mut core.flags.topics, topic, core.hub)
        else {
            return false;
        };
        if let Some(subscription) = &self.behavior.subscription {
            subscription(self, topic, new, old);
        }
        true
    }

    /// Unsubscribes from `topic`; false if not subscribed. Runs the `subscription` callback.
    pub fn unsubscribe(&mut self, topic: &str) -> bool {
        let core = &mut self.core;
        let Some(id) = core
            .topics
            .id(topic)
            .filter(|id| core.flags.topics.contains(id))
        else {
            return false;
        };
        let (new, old) = core
            .topics
            .unsubscribe(core.key, &mut core.flags.topics, id, core.hub);
        if let Some(subscription) = &self.behavior.subscription {
            subscription(self, topic, new, old);
        }
        true
    }

    /// Leaves every topic (when the socket closes).
    fn unsubscribe_all(&mut self) {
        while let Some(&id) = self.core.flags.topics.last() {
            let name = self.core.topics.shared_name(id);
            self.unsubscribe(&name);
        }
    }

    /// Whether this socket is subscribed to `topic`.
    pub fn is_subscribed(&self, topic: &str) -> bool {
        self.core
            .topics
            .id(topic)
            .is_some_and(|id| self.core.flags.topics.contains(&id))
    }

    /// The topics this socket is subscribed to, in no particular order.
    pub fn topics(&self) -> impl Iterator<Item = &str> + '_ {
        self.core
            .flags
            .topics
            .iter()
            .map(|&id| self.core.topics.name(id))
    }

    /// Sends `message` to every subscriber of `topic` on every loop except this socket
    /// (uWebSockets' `ws.publish`). Returns false when nobody can receive it. The message is
    /// framed once and shared; each subscriber gets it in publish order, before anything sent
    /// to it later.
    pub fn publish(&mut self, topic: &str, message: impl AsRef<[u8]>, opcode: OpCode) -> bool {
        self.core.publish(topic, message.as_ref(), opcode)
    }

    /// Sockets subscribed to `topic`, across every loop.
    pub fn num_subscribers(&self, topic: &str) -> usize {
        self.core.hub.num_subscribers(topic)
    }

    /// Sends a ping with `payload` (cut to 125 bytes).
    pub fn ping(&mut self, payload: impl AsRef<[u8]>) -> SendStatus {
        self.core.send(payload.as_ref(), OpCode::Ping)
    }
}

impl<U> std::fmt::Debug for WebSocket<'_, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("remote_addr", &self.core.remote)
            .field("closing", &self.core.conn.closing())
            .finish_non_exhaustive()
    }
}
