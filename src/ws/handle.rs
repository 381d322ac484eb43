//! The handle handed to WebSocket callbacks (uWebSockets' `WebSocket<SSL, isServer, UserData>`)
//! and the hooks it calls: it borrows the socket's state, the loop's cork and topics for the
//! duration of one callback.

use std::net::SocketAddr;
use std::sync::Arc;

use super::codec::OpCode;
use super::conn::{ABNORMAL, WsConn};
use super::deflate::SocketDeflate;
use super::pubsub::{Hub, LoopTopics, Published};
use super::remote::{WebSocketHandle, WsCourier, WsOp};
use super::settings::Settings;
use super::side::Side;
use super::subscriptions::Subscriptions;
use crate::error::Stage;
use crate::net::link::{Link, backlog, uncork_when_full};
use crate::router::ParamKey;
use crate::stats::{LoopStats, bump};

pub(crate) type Hook<U> = Box<dyn Fn(&mut WebSocket<'_, U>) + Send + Sync>;
pub(crate) type MessageHook<U> = Box<dyn Fn(&mut WebSocket<'_, U>, &[u8], OpCode) + Send + Sync>;
pub(crate) type PayloadHook<U> = Box<dyn Fn(&mut WebSocket<'_, U>, &[u8]) + Send + Sync>;
pub(crate) type CloseHook<U> = Box<dyn Fn(&mut WebSocket<'_, U>, u16, &str) + Send + Sync>;
pub(crate) type SubscriptionHook<U> =
    Box<dyn Fn(&mut WebSocket<'_, U>, &str, usize, usize) + Send + Sync>;

/// A route's callbacks on open sockets (the upgrade hook, which runs before, is the
/// behavior's).
pub(crate) struct Hooks<U> {
    pub(crate) open: Option<Hook<U>>,
    pub(crate) message: Option<MessageHook<U>>,
    pub(crate) drain: Option<Hook<U>>,
    pub(crate) ping: Option<PayloadHook<U>>,
    pub(crate) pong: Option<PayloadHook<U>>,
    pub(crate) close: Option<CloseHook<U>>,
    pub(crate) subscription: Option<SubscriptionHook<U>>,
    pub(crate) dropped: Option<MessageHook<U>>,
}

impl<U> Default for Hooks<U> {
    fn default() -> Self {
        Hooks {
            open: None,
            message: None,
            drain: None,
            ping: None,
            pong: None,
            close: None,
            subscription: None,
            dropped: None,
        }
    }
}

/// What the loop asks a socket's hooks to do.
#[derive(Debug)]
pub(crate) enum Callback<'a> {
    Open,
    Message(&'a [u8], OpCode),
    Ping(&'a [u8]),
    Pong(&'a [u8]),
    Drain,
    Dropped(&'a [u8], OpCode),
    /// Report the close (once): code and reason.
    Closed(u16, &'a str),
    /// Start the closing handshake, as `ws.end(code, reason)`.
    End(u16, &'a str),
    /// A call made through a [`WebSocketHandle`].
    Remote(WsOp),
}

impl Callback<'_> {
    /// The error-handler stage of the hook this runs.
    pub(crate) fn stage(&self) -> Stage {
        match self {
            Callback::Open => Stage::Open,
            Callback::Message(..) => Stage::Message,
            Callback::Ping(_) => Stage::Ping,
            Callback::Pong(_) => Stage::Pong,
            Callback::Drain => Stage::Drain,
            Callback::Dropped(..) => Stage::Dropped,
            Callback::Closed(..) | Callback::End(..) => Stage::Close,
            Callback::Remote(_) => Stage::Deferred,
        }
    }
}

impl<U> Hooks<U> {
    /// Runs `callback` on `ws`.
    #[inline]
    pub(crate) fn run(&self, ws: &mut WebSocket<'_, U>, callback: Callback<'_>) {
        match callback {
            Callback::Open => call(&self.open, |f| f(ws)),
            Callback::Message(m, op) => call(&self.message, |f| f(ws, m, op)),
            Callback::Ping(p) => call(&self.ping, |f| f(ws, p)),
            Callback::Pong(p) => call(&self.pong, |f| f(ws, p)),
            Callback::Drain => call(&self.drain, |f| f(ws)),
            Callback::Dropped(m, op) => call(&self.dropped, |f| f(ws, m, op)),
            Callback::Closed(code, reason) => ws.report_close(code, reason),
            Callback::End(code, reason) => ws.end(code, reason),
            Callback::Remote(op) => ws.apply(op),
        }
    }
}

/// Calls the hook if there is one.
fn call<F: ?Sized>(hook: &Option<Box<F>>, run: impl FnOnce(&F)) {
    if let Some(f) = hook {
        run(f);
    }
}

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

/// Where an open socket stands, from the callbacks' point of view: "may it still receive" is
/// [`Lifecycle::is_open`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    /// Messages flow both ways; the close callback has not run.
    Open,
    /// The close callback has run; the closing handshake, or the TCP close, remains.
    Closing,
    /// Drop the TCP connection now, without a closing handshake. `reported`: the close
    /// callback has run (else the loop reports 1006 when it drops the socket).
    Aborted { reported: bool },
}

impl Lifecycle {
    /// Whether the socket may still send and receive messages.
    pub(crate) fn is_open(self) -> bool {
        self == Lifecycle::Open
    }

    /// Whether the close callback has run.
    pub(crate) fn close_reported(self) -> bool {
        !matches!(
            self,
            Lifecycle::Open | Lifecycle::Aborted { reported: false }
        )
    }

    /// Whether the TCP connection is to be dropped at once.
    pub(crate) fn is_aborted(self) -> bool {
        matches!(self, Lifecycle::Aborted { .. })
    }

    /// Marks the connection for dropping, keeping whether the close was reported.
    pub(crate) fn abort(&mut self) {
        let reported = self.close_reported();
        *self = Lifecycle::Aborted { reported };
    }
}

/// Everything a callback's handle borrows, except the user data.
pub(crate) struct Core<'a> {
    pub(crate) conn: &'a mut WsConn,
    /// The socket's negotiated permessage-deflate, if any.
    pub(crate) deflate: Option<SocketDeflate>,
    pub(crate) lifecycle: &'a mut Lifecycle,
    pub(crate) subs: &'a mut Subscriptions,
    /// Set when a frame is queued (for `reset_idle_timeout_on_send`).
    pub(crate) sent: &'a mut bool,
    /// The hook running now (innermost), for the error handler if it panics.
    pub(crate) stage: &'a mut Stage,
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
    /// The loop's side tables (tickets of sockets with handles, route parameters), and its
    /// mailbox to make a handle.
    pub(crate) side: &'a mut Side,
    pub(crate) courier: &'a Arc<dyn WsCourier>,
    /// The loop's counters.
    pub(crate) stats: &'a LoopStats,
}

impl Core<'_> {
    /// Bytes queued for this socket (cork included).
    fn buffered(&self) -> usize {
        self.link.buffered() + self.cork.len()
    }

    /// Before this socket writes: messages published to its topics earlier in this callback
    /// (not yet fanned out) go first.
    fn deliver_pending(&mut self) {
        // A socket with no topics has nothing pending (and an echo should not pay for a look
        // at the other loops' inbox per message).
        if self.subs.topics.is_empty() {
            return;
        }
        self.hub.take(self.at, &mut self.topics.batch);
        if self.topics.batch.is_empty() {
            return;
        }
        let generation = self.topics.generation;
        let (mark_gen, mark) = self.subs.delivered;
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
                    .is_some_and(|id| self.subs.topics.contains(&id));
            if to_me {
                match self.deflate {
                    Some(deflate)
                        if SocketDeflate::compresses(
                            &self.settings.compression,
                            true,
                            published.payload().len(),
                            published.opcode,
                        ) =>
                    {
                        deflate.write_frame(
                            self.key,
                            &self.settings.compression,
                            &mut self.side.deflate,
                            self.cork,
                            published.payload(),
                            published.opcode,
                        );
                    }
                    _ => self.cork.extend_from_slice(&published.frame),
                }
                bump(&self.stats.messages_sent);
            }
        }
        self.subs.delivered = (generation, self.topics.batch.len() as u32);
    }

    /// Writes one frame unless closed or over the backpressure limit. `Err(())`: the
    /// connection must be dropped (a failed write, or `close_on_backpressure_limit`).
    /// With `compress`, a data message of at least the route's threshold is compressed if
    /// the socket negotiated permessage-deflate.
    pub(crate) fn send(
        &mut self,
        message: &[u8],
        opcode: OpCode,
        compress: bool,
    ) -> Result<SendStatus, ()> {
        if !self.lifecycle.is_open() {
            return Ok(SendStatus::Dropped);
        }
        let limit = self.settings.max_backpressure;
        // `feed` pauses on the same measure (at most this limit), so a message it lets
        // through is never dropped here.
        match backlog(&mut *self.link, self.cork, limit.saturating_add(1)) {
            Ok(waiting) if waiting <= limit => {}
            Ok(_) if self.settings.close_on_backpressure_limit => return Err(()),
            Ok(_) => {
                bump(&self.stats.messages_dropped);
                return Ok(SendStatus::Dropped);
            }
            Err(_) => return Err(()),
        }
        self.deliver_pending();
        let options = &self.settings.compression;
        match self.deflate {
            Some(deflate)
                if SocketDeflate::compresses(options, compress, message.len(), opcode) =>
            {
                let shared = &mut self.side.deflate;
                let socket = (deflate, self.key);
                self.conn
                    .send_compressed(self.cork, message, opcode, socket, options, shared);
            }
            _ => {
                self.conn.send(self.cork, message, opcode);
            }
        }
        if matches!(opcode, OpCode::Text | OpCode::Binary) {
            bump(&self.stats.messages_sent);
        }
        *self.sent = true;
        if uncork_when_full(self.link, self.cork).is_err() {
            return Err(());
        }
        Ok(match self.link.buffered() {
            0 => SendStatus::Success,
            _ => SendStatus::Backpressure,
        })
    }

    /// Queues `message` for every other subscriber of `topic`, on every loop.
    fn publish(&mut self, topic: &str, message: &[u8], opcode: OpCode) -> bool {
        let local = self.topics.id(topic).map(|id| self.topics.shared_name(id));
        let elsewhere = self.hub.loops() > 1 || self.hub.bridged();
        if local.is_none() && !elsewhere {
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
    /// Borrowed, not owned: moving the whole core into every handle cost a `memcpy` per
    /// message.
    pub(crate) core: &'a mut Core<'a>,
    pub(crate) user: &'a mut U,
    pub(crate) hooks: &'a Hooks<U>,
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
    ///
    /// On a route with compression ([`WebSocketBehavior::compression`](crate::WebSocketBehavior::compression))
    /// and a socket that negotiated permessage-deflate, text and binary messages of at least
    /// the threshold are compressed (RFC 7692); see
    /// [`send_with_compression`](Self::send_with_compression) to choose per message.
    pub fn send(&mut self, message: impl AsRef<[u8]>, opcode: OpCode) -> SendStatus {
        self.send_frame(message.as_ref(), opcode, true)
    }

    /// [`send`](Self::send), compressing only if `compress` (uWebSockets'
    /// `send(message, opCode, compress)`): with `false` the message goes uncompressed even
    /// on a compressed socket (already compressed data, or latency-critical messages);
    /// with `true` it is compressed when the socket negotiated permessage-deflate and it is
    /// at least the route's threshold. Control frames are never compressed.
    pub fn send_with_compression(
        &mut self,
        message: impl AsRef<[u8]>,
        opcode: OpCode,
        compress: bool,
    ) -> SendStatus {
        self.send_frame(message.as_ref(), opcode, compress)
    }

    /// Whether this socket negotiated permessage-deflate (RFC 7692) in its handshake.
    pub fn is_compressed(&self) -> bool {
        self.core.deflate.is_some()
    }

    /// [`send`](Self::send) and [`ping`](Self::ping): a connection that must be dropped
    /// is closed here, so its close callback runs (1006) before this returns.
    fn send_frame(&mut self, message: &[u8], opcode: OpCode, compress: bool) -> SendStatus {
        match self.core.send(message, opcode, compress) {
            Ok(status) => status,
            Err(()) => {
                self.close();
                SendStatus::Dropped
            }
        }
    }

    /// Starts the closing handshake (RFC 6455 section 7.1.2): sends a close frame with `code`
    /// (1000 for a normal close) and `reason` (cut to 123 bytes), runs the `close` callback,
    /// and closes the TCP connection once the client answers or after a short timeout.
    pub fn end(&mut self, code: u16, reason: &str) {
        if self.core.lifecycle.close_reported() {
            return;
        }
        self.core.deliver_pending();
        self.core.conn.end(self.core.cork, code, reason);
        self.report_close(code, reason);
    }

    /// Closes the TCP connection at once, without a closing handshake (uWebSockets'
    /// `close`); the `close` callback runs with code 1006.
    pub fn close(&mut self) {
        self.core.conn.abort();
        self.core.lifecycle.abort();
        self.report_close(ABNORMAL, "");
    }

    /// Runs the `close` callback, once.
    pub(crate) fn report_close(&mut self, code: u16, reason: &str) {
        if self.core.lifecycle.close_reported() {
            return;
        }
        *self.core.lifecycle = match *self.core.lifecycle {
            Lifecycle::Aborted { .. } => Lifecycle::Aborted { reported: true },
            _ => Lifecycle::Closing,
        };
        if let Some(close) = &self.hooks.close {
            let outer = std::mem::replace(self.core.stage, Stage::Close);
            close(self, code, reason);
            *self.core.stage = outer;
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

    /// A parameter of the route's pattern from the handshake request, by position
    /// (`ws.parameter(0)`) or name (`ws.parameter("room")`), as
    /// [`HttpRequest::parameter`](crate::HttpRequest::parameter) gave it (websockets-routes'
    /// `path.params`). Copied once at the upgrade, only for routes with parameters.
    pub fn parameter(&self, key: impl ParamKey) -> Option<&str> {
        self.core.side.params(self.core.key)?.get(key)
    }

    /// The client's address from the PROXY protocol header, on a listener that reads one
    /// (see [`HttpRequest::proxied_remote_addr`](crate::HttpRequest::proxied_remote_addr)).
    pub fn proxied_remote_addr(&self) -> Option<SocketAddr> {
        self.core.side.proxied(self.core.key)
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
        if self.core.lifecycle.close_reported() {
            return false;
        }
        let core = &mut self.core;
        let Some((new, old)) =
            core.topics
                .subscribe(core.key, &mut core.subs.topics, topic, core.hub)
        else {
            return false;
        };
        self.run_subscription(topic, new, old);
        true
    }

    /// Runs the `subscription` hook, marked as the running stage.
    fn run_subscription(&mut self, topic: &str, new: usize, old: usize) {
        if let Some(subscription) = &self.hooks.subscription {
            let outer = std::mem::replace(self.core.stage, Stage::Subscription);
            subscription(self, topic, new, old);
            *self.core.stage = outer;
        }
    }

    /// Unsubscribes from `topic`; false if not subscribed. Runs the `subscription` callback.
    pub fn unsubscribe(&mut self, topic: &str) -> bool {
        let core = &mut self.core;
        let Some(id) = core
            .topics
            .id(topic)
            .filter(|id| core.subs.topics.contains(id))
        else {
            return false;
        };
        let (new, old) = core
            .topics
            .unsubscribe(core.key, &mut core.subs.topics, id, core.hub);
        self.run_subscription(topic, new, old);
        true
    }

    /// Leaves every topic (when the socket closes).
    fn unsubscribe_all(&mut self) {
        while let Some(&id) = self.core.subs.topics.last() {
            let name = self.core.topics.shared_name(id);
            self.unsubscribe(&name);
        }
    }

    /// Whether this socket is subscribed to `topic`.
    pub fn is_subscribed(&self, topic: &str) -> bool {
        self.core
            .topics
            .id(topic)
            .is_some_and(|id| self.core.subs.topics.contains(&id))
    }

    /// The topics this socket is subscribed to, in no particular order.
    pub fn topics(&self) -> impl Iterator<Item = &str> + '_ {
        self.core
            .subs
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

    /// A `Send` handle to this socket, to send, end, publish or subscribe from another
    /// thread or task (see [`WebSocketHandle`]). Every handle of a socket shares one
    /// ticket, made on the first call.
    pub fn handle(&mut self) -> WebSocketHandle {
        let core = &mut *self.core;
        let ticket = Arc::clone(core.side.tickets.get_or_make(core.key, core.courier));
        if core.lifecycle.close_reported() {
            core.side.tickets.close(core.key);
        }
        WebSocketHandle::new(ticket)
    }

    /// Makes a call that came through a [`WebSocketHandle`].
    fn apply(&mut self, op: WsOp) {
        match op {
            WsOp::Send(message, opcode) => {
                self.send(message, opcode);
            }
            WsOp::End(code, reason) => self.end(code, &reason),
            WsOp::Close => self.close(),
            WsOp::Publish(topic, message, opcode) => {
                self.publish(&topic, message, opcode);
            }
            WsOp::Subscribe(topic) => {
                self.subscribe(&topic);
            }
            WsOp::Unsubscribe(topic) => {
                self.unsubscribe(&topic);
            }
            // Intercepted by the session, which reports it.
            #[cfg(feature = "tokio")]
            WsOp::Fail(_) => {}
        }
    }

    /// Sends `value` as JSON (`serde_json`) in a text message; as [`send`](Self::send).
    /// A value that does not serialize (a map with non-string keys) is not sent:
    /// [`SendStatus::Dropped`].
    pub fn send_json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> SendStatus {
        match serde_json::to_vec(value) {
            Ok(json) => self.send_frame(&json, OpCode::Text, true),
            Err(e) => {
                log::error!("send_json: {e}");
                SendStatus::Dropped
            }
        }
    }

    /// Sends a ping with `payload` (cut to 125 bytes).
    pub fn ping(&mut self, payload: impl AsRef<[u8]>) -> SendStatus {
        self.send_frame(payload.as_ref(), OpCode::Ping, false)
    }
}

impl<U> std::fmt::Debug for WebSocket<'_, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("remote_addr", &self.core.remote)
            .field("lifecycle", &self.core.lifecycle)
            .finish_non_exhaustive()
    }
}
