//! One upgraded socket's WebSocket state, and what the event loop calls on it: feed received
//! bytes, report writability, timers and the end of the TCP connection. Each turns protocol
//! events into callbacks of the route's behavior; a panic in one reaches the app's error
//! handler and ends only its socket (close code 1011 where a close frame can still go).

use std::any::Any;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use bytes::Bytes;

use super::codec::OpCode;
use super::conn::{ABNORMAL, CloseState, Event, INTERNAL_ERROR, Inflate, Payload, WsConn};
use super::deflate::{LoopDeflate, SharedFrames, SocketDeflate};
use super::handle::{Callback, Core, Lifecycle};
use super::pubsub::{Hub, LoopTopics, Published};
use super::remote::{WsCourier, WsOp, WsTicket};
use super::route::{Accepted, ErasedBehavior};
use super::settings::Settings;
use super::side::Side;
use super::subscriptions::Subscriptions;
use crate::error::HandlerError;
use crate::net::link::{Link, backlog};
use crate::stats::{LoopStats, bump};

/// What the loop lends a socket's WebSocket side for one call.
pub(crate) struct Env<'a> {
    /// The loop's cork buffer (empty or holding only this socket's output).
    pub(crate) cork: &'a mut Vec<u8>,
    pub(crate) link: &'a mut dyn Link,
    pub(crate) topics: &'a mut LoopTopics,
    pub(crate) hub: &'a Hub,
    /// This loop's index in the hub.
    pub(crate) at: usize,
    /// The socket's slab key.
    pub(crate) key: usize,
    pub(crate) remote: SocketAddr,
    /// The app's error handler, for panicking callbacks.
    pub(crate) report: &'a dyn Fn(&HandlerError),
    /// The loop's side tables (tickets, route parameters) and mailbox.
    pub(crate) side: &'a mut Side,
    /// The loop's counters.
    pub(crate) stats: &'a LoopStats,
    pub(crate) courier: &'a Arc<dyn WsCourier>,
}

/// The idle and lifetime timers of an open WebSocket, in loop seconds; the loop's timer
/// policy reads and advances them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IdleClock {
    /// Loop second at which the idle timer fires (`u32::MAX`: never).
    pub(crate) idle_end: u32,
    /// Loop second at which `max_lifetime` ends the socket (`u32::MAX`: never).
    pub(crate) lifetime_end: u32,
    /// An automatic ping is outstanding.
    pub(crate) pinged: bool,
    /// A frame was queued since the loop last looked (for `reset_idle_timeout_on_send`).
    pub(crate) sent: bool,
}

impl Default for IdleClock {
    fn default() -> Self {
        IdleClock {
            idle_end: u32::MAX,
            lifetime_end: u32::MAX,
            pinged: false,
            sent: false,
        }
    }
}

/// A WebSocket in the loop's slab: protocol state, lifecycle, topics, timers, user data and
/// the route's behavior.
pub(crate) struct WsState {
    conn: WsConn,
    deflate: Option<SocketDeflate>,
    lifecycle: Lifecycle,
    pub(crate) subs: Subscriptions,
    pub(crate) clock: IdleClock,
    user: Box<dyn Any + Send>,
    behavior: Arc<dyn ErasedBehavior>,
}

impl std::fmt::Debug for WsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsState")
            .field("conn", &self.conn)
            .field("lifecycle", &self.lifecycle)
            .finish_non_exhaustive()
    }
}

impl WsState {
    /// The WebSocket side of a socket whose handshake was just accepted.
    pub(crate) fn new(accepted: Accepted) -> Self {
        WsState {
            deflate: accepted.deflate.map(SocketDeflate::new),
            conn: WsConn::new(),
            lifecycle: Lifecycle::Open,
            subs: Subscriptions::default(),
            clock: IdleClock::default(),
            user: accepted.user,
            behavior: accepted.behavior,
        }
    }

    /// The frame carrying published `message` to this socket: compressed if it negotiated
    /// permessage-deflate (`frames` keeps the loop's shared compressions of it), else the
    /// message's own frame.
    pub(crate) fn publish_frame(
        &self,
        key: usize,
        message: &Published,
        shared: &mut LoopDeflate,
        frames: &mut SharedFrames,
    ) -> Bytes {
        let options = &self.behavior.settings().compression;
        self.deflate
            .and_then(|deflate| {
                let (payload, opcode) = (message.payload(), message.opcode);
                deflate.publish_frame(key, options, shared, frames, payload, opcode)
            })
            .unwrap_or_else(|| message.frame.clone())
    }

    /// The route's settings.
    pub(crate) fn settings(&self) -> &Settings {
        self.behavior.settings()
    }

    /// Whether the socket may still receive messages (and publishes).
    pub(crate) fn is_open(&self) -> bool {
        self.lifecycle.is_open()
    }

    /// Whether the TCP connection is to be dropped at once.
    pub(crate) fn is_aborted(&self) -> bool {
        self.lifecycle.is_aborted()
    }

    /// Whether received bytes are still read (until both close frames are exchanged or
    /// the connection failed).
    pub(crate) fn may_read(&self) -> bool {
        self.conn.close_state() != CloseState::Done
    }

    /// The closing handshake's state.
    pub(crate) fn close_state(&self) -> CloseState {
        self.conn.close_state()
    }

    /// Runs one callback with a handle over this socket. A panic goes to the error handler
    /// with the stage of the innermost hook that was running, then ends the socket.
    fn call(&mut self, env: &mut Env<'_>, callback: Callback<'_>) {
        let behavior = &*self.behavior;
        let mut stage = callback.stage();
        let mut core = Core {
            conn: &mut self.conn,
            deflate: self.deflate,
            lifecycle: &mut self.lifecycle,
            subs: &mut self.subs,
            sent: &mut self.clock.sent,
            stage: &mut stage,
            cork: &mut *env.cork,
            link: &mut *env.link,
            topics: &mut *env.topics,
            hub: env.hub,
            settings: behavior.settings(),
            at: env.at,
            key: env.key,
            remote: env.remote,
            side: &mut *env.side,
            stats: env.stats,
            courier: env.courier,
        };
        let user = &mut *self.user;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            behavior.run(&mut core, user, callback);
        }));
        if let Err(panic) = outcome {
            (env.report)(&HandlerError::panic(panic.as_ref(), stage, None));
            self.end_after_panic(env);
        }
        if self.lifecycle.close_reported() {
            env.side.tickets.close(env.key);
        }
    }

    /// After a callback panicked: close with 1011 if a close frame can still be sent (the
    /// `close` callback runs with it), else drop the connection; `close` runs exactly once
    /// either way, unless it was what panicked.
    fn end_after_panic(&mut self, env: &mut Env<'_>) {
        if self.conn.end(env.cork, INTERNAL_ERROR, "") {
            self.call(env, Callback::Closed(INTERNAL_ERROR, ""));
            return;
        }
        self.conn.abort();
        self.lifecycle.abort();
        if self.lifecycle.close_reported() {
            // The close callback itself panicked: clean up without it.
            self.leave_topics(env);
        } else {
            self.call(env, Callback::Closed(ABNORMAL, ""));
        }
    }

    /// Unsubscribes from every topic without callbacks (after a panic in `close`).
    fn leave_topics(&mut self, env: &mut Env<'_>) {
        while let Some(&id) = self.subs.topics.last() {
            env.topics
                .unsubscribe(env.key, &mut self.subs.topics, id, env.hub);
        }
    }

    /// The socket just opened: runs `open`.
    pub(crate) fn open(&mut self, env: &mut Env<'_>) {
        self.call(env, Callback::Open);
    }

    /// Processes received bytes; returns how many were used. The rest (a partial frame
    /// header or control frame, or what follows a message whose callback left `pause_at`
    /// bytes or more waiting for the kernel) must be offered again later. A failed write
    /// marks the socket aborted.
    pub(crate) fn feed(&mut self, input: &mut [u8], env: &mut Env<'_>, pause_at: usize) -> usize {
        let max = self.settings().max_payload_length;
        let mut pos = 0;
        loop {
            if self.lifecycle.is_aborted() {
                return input.len();
            }
            match backlog(&mut *env.link, env.cork, pause_at) {
                // The client does not read: leave its next messages unread rather than
                // produce output that would be dropped.
                Ok(waiting) if waiting >= pause_at => return pos,
                Ok(_) => {}
                Err(_) => {
                    self.lifecycle.abort();
                    return input.len();
                }
            }
            let options = &self.behavior.settings().compression;
            let inflate = self.deflate.map(|socket| Inflate {
                socket,
                key: env.key,
                shared: &mut env.side.deflate,
                options,
            });
            let (used, event) = self
                .conn
                .next_inflating(&mut input[pos..], env.cork, max, inflate);
            pos += used;
            let Some(event) = event else {
                return pos;
            };
            let callback = match &event {
                Event::Message(payload, opcode) => {
                    bump(&env.stats.messages_received);
                    Callback::Message(payload, *opcode)
                }
                Event::Ping(payload) => Callback::Ping(payload),
                Event::Pong(payload) => {
                    self.clock.pinged = false;
                    Callback::Pong(payload)
                }
                Event::Close(code, reason) => Callback::Closed(*code, reason),
                Event::Fail(code) => Callback::Closed(*code, ""),
            };
            self.call(env, callback);
            if let Event::Message(Payload::Owned(buffer), _) = event {
                env.side.deflate.recycle(buffer);
            }
        }
    }

    /// Buffered bytes were written out: runs `drain`.
    pub(crate) fn drained(&mut self, env: &mut Env<'_>) {
        if !self.lifecycle.close_reported() {
            self.call(env, Callback::Drain);
        }
    }

    /// A published message was not delivered (backpressure): runs `dropped`.
    pub(crate) fn dropped(&mut self, env: &mut Env<'_>, message: &[u8], opcode: OpCode) {
        if !self.lifecycle.close_reported() {
            self.call(env, Callback::Dropped(message, opcode));
        }
    }

    /// Starts the closing handshake from the server side (lifetime over, shutdown).
    pub(crate) fn end(&mut self, env: &mut Env<'_>, code: u16, reason: &str) {
        self.call(env, Callback::End(code, reason));
    }

    /// Sends an automatic ping (idle timeout); false if one was already outstanding, so the
    /// socket should be closed.
    pub(crate) fn auto_ping(&mut self, env: &mut Env<'_>) -> bool {
        if self.clock.pinged || !self.lifecycle.is_open() {
            return false;
        }
        self.clock.pinged = true;
        self.conn.send(env.cork, b"", OpCode::Ping);
        true
    }

    /// The TCP connection is going away: reports the close (1006) if not done yet.
    pub(crate) fn closed(&mut self, env: &mut Env<'_>) {
        self.conn.abort();
        if !self.lifecycle.close_reported() {
            self.call(env, Callback::Closed(ABNORMAL, ""));
        }
        // A panicking close callback may have left subscriptions behind.
        self.leave_topics(env);
        env.side.close(env.key);
        bump(&env.stats.websockets_closed);
    }

    /// A call made through a handle: made as from a callback if `ticket` is this socket's
    /// and it is still open. Once its `close` callback has run, handles learn it.
    pub(crate) fn remote(&mut self, env: &mut Env<'_>, ticket: &Arc<WsTicket>, op: WsOp) {
        if !env.side.tickets.is_current(env.key, ticket) || self.lifecycle.close_reported() {
            return;
        }
        #[cfg(feature = "tokio")]
        if let WsOp::Fail(error) = op {
            (env.report)(&error);
            self.end_after_panic(env);
            return;
        }
        self.call(env, Callback::Remote(op));
    }
}
