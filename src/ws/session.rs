//! One upgraded socket's WebSocket state, and the glue the event loop calls: feed received
//! bytes, report writability, timeouts and the end of the TCP connection. Each turns protocol
//! events into callbacks of the route's behavior, with panics contained to the socket.

use std::any::Any;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::behavior::{Callback, ErasedBehavior, Settings};
use super::codec::OpCode;
use super::conn::{ABNORMAL, Closing, Event, WsConn};
use super::pubsub::{Hub, LoopTopics};
use super::socket::{Core, Flags, Link, backlog};
use super::upgrade::PendingUpgrade;

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
}

/// A WebSocket in the loop's slab: protocol state, flags, user data and the route's behavior.
pub(crate) struct WsState {
    pub(crate) conn: WsConn,
    pub(crate) flags: Flags,
    user: Box<dyn Any + Send>,
    behavior: Arc<dyn ErasedBehavior>,
}

impl std::fmt::Debug for WsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsState")
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

impl WsState {
    /// The WebSocket side of a socket whose handshake was just accepted.
    pub(crate) fn new(pending: PendingUpgrade) -> Self {
        WsState {
            conn: WsConn::new(),
            flags: Flags::default(),
            user: pending.user,
            behavior: pending.behavior,
        }
    }

    /// The route's settings.
    pub(crate) fn settings(&self) -> &Settings {
        self.behavior.settings()
    }

    /// Runs one callback with a handle over this socket; a panic drops the socket (its
    /// `close` callback runs with 1006 unless `close` was what panicked).
    fn call(&mut self, env: &mut Env<'_>, callback: Callback<'_>) {
        let behavior = &*self.behavior;
        let core = Core {
            conn: &mut self.conn,
            flags: &mut self.flags,
            cork: &mut *env.cork,
            link: &mut *env.link,
            topics: &mut *env.topics,
            hub: env.hub,
            settings: behavior.settings(),
            at: env.at,
            key: env.key,
            remote: env.remote,
        };
        let user = &mut *self.user;
        let outcome = catch_unwind(AssertUnwindSafe(|| behavior.run(core, user, callback)));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(non-string panic)");
            log::error!("WebSocket callback panicked: {message}; closing the socket");
            self.flags.abort = true;
            self.conn.abort();
            if self.flags.close_reported {
                // The close callback itself panicked: clean up without it.
                self.leave_topics(env);
            } else {
                // `close` still runs exactly once for this open socket.
                self.call(env, Callback::Closed(ABNORMAL, ""));
            }
        }
    }

    /// Unsubscribes from every topic without callbacks (after a panic in `close`).
    fn leave_topics(&mut self, env: &mut Env<'_>) {
        while let Some(&id) = self.flags.topics.last() {
            env.topics
                .unsubscribe(env.key, &mut self.flags.topics, id, env.hub);
        }
    }

    /// The socket just opened: runs `open`.
    pub(crate) fn open(&mut self, env: &mut Env<'_>) {
        self.call(env, Callback::Open);
    }

    /// Processes received bytes; returns how many were used. The rest (a partial frame
    /// header or control frame, or what follows a message whose callback left `pause_at`
    /// bytes or more waiting for the kernel) must be offered again later.
    pub(crate) fn feed(&mut self, input: &mut [u8], env: &mut Env<'_>, pause_at: usize) -> usize {
        let max = self.settings().max_payload_length;
        let mut pos = 0;
        loop {
            if self.flags.abort {
                return input.len();
            }
            match backlog(&mut *env.link, env.cork, pause_at) {
                // The client does not read: leave its next messages unread rather than
                // produce output that would be dropped.
                Ok(waiting) if waiting >= pause_at => return pos,
                Ok(_) => {}
                Err(_) => {
                    self.flags.abort = true;
                    return input.len();
                }
            }
            let (used, event) = self.conn.next(&mut input[pos..], env.cork, max);
            pos += used;
            let Some(event) = event else {
                return pos;
            };
            let callback = match &event {
                Event::Message(payload, opcode) => Callback::Message(payload, *opcode),
                Event::Ping(payload) => Callback::Ping(payload),
                Event::Pong(payload) => {
                    self.flags.pinged = false;
                    Callback::Pong(payload)
                }
                Event::Close(code, reason) => Callback::Closed(*code, reason),
                Event::Fail(code) => Callback::Closed(*code, ""),
            };
            self.call(env, callback);
        }
    }

    /// Buffered bytes were written out: runs `drain`.
    pub(crate) fn drained(&mut self, env: &mut Env<'_>) {
        if !self.flags.close_reported {
            self.call(env, Callback::Drain);
        }
    }

    /// A published message was not delivered (backpressure): runs `dropped`.
    pub(crate) fn dropped(&mut self, env: &mut Env<'_>, message: &[u8], opcode: OpCode) {
        if !self.flags.close_reported {
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
        if self.flags.pinged || self.conn.closing() != Closing::Open {
            return false;
        }
        self.flags.pinged = true;
        self.conn.send(env.cork, b"", OpCode::Ping);
        true
    }

    /// The TCP connection is going away: reports the close (1006) if not done yet.
    pub(crate) fn closed(&mut self, env: &mut Env<'_>) {
        self.conn.abort();
        if !self.flags.close_reported {
            self.call(env, Callback::Closed(ABNORMAL, ""));
        }
        // A panicking close callback may have left subscriptions behind.
        self.leave_topics(env);
    }
}
