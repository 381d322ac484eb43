//! Writing to a WebSocket from outside its callbacks: a [`WebSocketHandle`] is an address
//! (DESIGN.md "Answer later"), `Send`, usable from any thread or task. Its calls travel to
//! the owning loop as [`WsOp`]s and run there as if a callback had made them, corked.
//!
//! The loop checks each call against the socket by identity of the shared [`WsTicket`]: a
//! handle never reaches a newer socket that reused the slot.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;

use super::codec::OpCode;

/// One call made through a [`WebSocketHandle`].
#[derive(Debug)]
pub(crate) enum WsOp {
    /// `send`: message, opcode.
    Send(Bytes, OpCode),
    /// `end`: close code, reason.
    End(u16, String),
    /// `close`.
    Close,
    /// `publish`: topic, message, opcode.
    Publish(String, Bytes, OpCode),
    /// `subscribe`.
    Subscribe(String),
    /// `unsubscribe`.
    Unsubscribe(String),
    /// An async message handler panicked: the error handler hears it and the socket is
    /// closed with 1011, as for a callback.
    #[cfg(feature = "tokio")]
    Fail(crate::error::HandlerError),
}

/// Carries calls to one loop and wakes it: the loop's mailbox, seen from WebSockets.
pub(crate) trait WsCourier: Send + Sync + 'static {
    /// Queues `op` for the socket `ticket` stands for. False when the loop has stopped.
    fn post_ws(&self, ticket: Arc<WsTicket>, op: WsOp) -> bool;
}

/// What a socket's handles and its loop share: the slab key, whether the socket is still
/// open, the way to the loop. Identity (the `Arc`'s address) is the generation check.
pub(crate) struct WsTicket {
    key: usize,
    open: AtomicBool,
    courier: Arc<dyn WsCourier>,
}

impl std::fmt::Debug for WsTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsTicket")
            .field("key", &self.key)
            .field("open", &self.open.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl WsTicket {
    pub(crate) fn new(key: usize, courier: Arc<dyn WsCourier>) -> Arc<WsTicket> {
        Arc::new(WsTicket {
            key,
            open: AtomicBool::new(true),
            courier,
        })
    }

    /// The slab key of the socket.
    pub(crate) fn key(&self) -> usize {
        self.key
    }

    /// The socket closed (set by the loop once its `close` callback ran or the connection
    /// went).
    pub(crate) fn closed(&self) {
        self.open.store(false, Ordering::Release);
    }

    fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }
}

/// One loop's tickets, by socket key: only sockets that handed out a handle have one, so
/// the slab entry of every socket does not grow for them.
#[derive(Debug, Default)]
pub(crate) struct Tickets(HashMap<usize, Arc<WsTicket>>);

impl Tickets {
    /// The ticket of socket `key`, made (for the loop behind `courier`) on first use.
    pub(crate) fn get_or_make(
        &mut self,
        key: usize,
        courier: &Arc<dyn WsCourier>,
    ) -> &Arc<WsTicket> {
        self.0
            .entry(key)
            .or_insert_with(|| WsTicket::new(key, Arc::clone(courier)))
    }

    /// Whether `ticket` is socket `key`'s current one.
    pub(crate) fn is_current(&self, key: usize, ticket: &Arc<WsTicket>) -> bool {
        self.0.get(&key).is_some_and(|t| Arc::ptr_eq(t, ticket))
    }

    /// Socket `key` closed: its handles learn it, and its ticket goes.
    pub(crate) fn close(&mut self, key: usize) {
        if let Some(ticket) = self.0.remove(&key) {
            ticket.closed();
        }
    }
}

/// A `Send + Sync` handle to one WebSocket, from [`WebSocket::handle`](crate::WebSocket::handle):
/// send, end, publish and subscribe from any thread or task. Cheap to clone.
///
/// Each call is carried to the socket's loop (through its `mio::Waker`) and made there as
/// from a callback: corked (everything one wake-up sends to a socket leaves in one write),
/// in call order per handle, with the same rules (`max_backpressure`, closing). Calls return
/// `false` once the socket is known to be closed (its `close` callback ran, or the server
/// stopped); `true` means queued, not delivered.
#[derive(Clone)]
pub struct WebSocketHandle {
    ticket: Arc<WsTicket>,
}

impl std::fmt::Debug for WebSocketHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketHandle")
            .field("ticket", &self.ticket)
            .finish()
    }
}

impl WebSocketHandle {
    pub(crate) fn new(ticket: Arc<WsTicket>) -> Self {
        WebSocketHandle { ticket }
    }

    /// Sends one message; as [`WebSocket::send`](crate::WebSocket::send) (a message over the
    /// socket's `max_backpressure` is dropped there).
    pub fn send(&self, message: impl Into<Bytes>, opcode: OpCode) -> bool {
        self.post(WsOp::Send(message.into(), opcode))
    }

    /// Starts the closing handshake; as [`WebSocket::end`](crate::WebSocket::end).
    pub fn end(&self, code: u16, reason: impl Into<String>) -> bool {
        self.post(WsOp::End(code, reason.into()))
    }

    /// Closes the TCP connection at once; as [`WebSocket::close`](crate::WebSocket::close).
    pub fn close(&self) -> bool {
        self.post(WsOp::Close)
    }

    /// Publishes to `topic` on behalf of this socket (which does not receive it); as
    /// [`WebSocket::publish`](crate::WebSocket::publish).
    pub fn publish(
        &self,
        topic: impl Into<String>,
        message: impl Into<Bytes>,
        opcode: OpCode,
    ) -> bool {
        self.post(WsOp::Publish(topic.into(), message.into(), opcode))
    }

    /// Subscribes the socket to `topic`; as [`WebSocket::subscribe`](crate::WebSocket::subscribe).
    pub fn subscribe(&self, topic: impl Into<String>) -> bool {
        self.post(WsOp::Subscribe(topic.into()))
    }

    /// Unsubscribes the socket from `topic`; as
    /// [`WebSocket::unsubscribe`](crate::WebSocket::unsubscribe).
    pub fn unsubscribe(&self, topic: impl Into<String>) -> bool {
        self.post(WsOp::Unsubscribe(topic.into()))
    }

    /// Whether the socket is known to be closed. A `false` may be outdated by the time it
    /// is read.
    pub fn is_closed(&self) -> bool {
        !self.ticket.is_open()
    }

    /// Reports a failure of code acting for this socket (an async handler's panic).
    #[cfg(feature = "tokio")]
    pub(crate) fn fail(&self, error: crate::error::HandlerError) -> bool {
        self.post(WsOp::Fail(error))
    }

    fn post(&self, op: WsOp) -> bool {
        self.ticket.is_open() && self.ticket.courier.post_ws(Arc::clone(&self.ticket), op)
    }
}
