//! WebSocket sockets in the loop: the switch from HTTP, reads, writability, timers and the
//! end of the TCP connection. The protocol and callbacks live in `crate::ws::session`.

use std::io;

use super::{CORK_FLUSH_BYTES, CORK_KEEP_BYTES, LINGER_SECS, Worker, deadline};
use crate::event_loop::socket::{Proto, READ_PAUSE_BYTES, Socket, Timer, Wire};
use crate::ws::conn::Closing;
use crate::ws::session::{Env, WsState};

/// Close code sent to every WebSocket when the server shuts down ("going away").
const GOING_AWAY: u16 = 1001;
/// Close code of `max_lifetime` ("normal closure").
const NORMAL: u16 = 1000;

/// Builds the [`Env`] of socket `$key` from the worker's fields and the socket's parts.
macro_rules! ws_env {
    ($self:ident, $wire:ident, $key:expr, $remote:expr) => {
        Env {
            cork: &mut $self.cork,
            link: &mut $wire,
            topics: &mut $self.topics,
            hub: &$self.hub,
            at: $self.at,
            key: $key,
            remote: $remote,
        }
    };
}

impl Worker {
    /// Runs `f` on socket `key`'s WebSocket state with the loop lent to it.
    pub(super) fn with_ws<R>(
        &mut self,
        key: usize,
        f: impl FnOnce(&mut WsState, &mut Env<'_>) -> R,
    ) -> Option<R> {
        let Socket {
            transport,
            proto: Proto::Ws(ws),
            backpressure,
            outbox,
            remote,
            ..
        } = self.sockets.get_mut(key)?
        else {
            return None;
        };
        let mut wire = Wire {
            transport,
            backpressure,
            outbox,
        };
        let mut env = ws_env!(self, wire, key, *remote);
        Some(f(ws, &mut env))
    }

    /// The HTTP side accepted an upgrade: the socket becomes a WebSocket, `open` runs, and
    /// bytes after the handshake are read as frames.
    pub(super) fn upgrade(&mut self, key: usize) {
        let Some(socket) = self.sockets.get_mut(key) else {
            return;
        };
        let Proto::Http(http) = &mut socket.proto else {
            return;
        };
        let Some(pending) = http.take_upgrade() else {
            return;
        };
        let mut ws = WsState::new(pending);
        let settings = *ws.settings();
        ws.flags.idle_end = idle_deadline(self.now, settings.idle_timeout);
        ws.flags.lifetime_end = settings
            .max_lifetime
            .map_or(u32::MAX, |lifetime| deadline(self.now, lifetime));
        socket.proto = Proto::Ws(ws);
        socket.timer = Timer::Idle;
        self.with_ws(key, |ws, env| ws.open(env));
        // The HTTP side stopped reading at the upgrade: read on until `WouldBlock`.
        self.on_ws_readable(key, true);
    }

    /// Reads until `WouldBlock`, feeding frames to the WebSocket, then flushes once.
    /// `read_all`: do not stop at a short read (the peer's FIN was announced, or the caller
    /// cannot tell whether the kernel buffer was drained).
    pub(super) fn on_ws_readable(&mut self, key: usize, read_all: bool) {
        let mut received = false;
        if self.sockets.get(key).is_some_and(|s| !s.stash.is_empty()) {
            // Frames that arrived with the handshake, or after a paused read.
            self.ws_feed(key, 0);
            received = true;
        }
        let mut failed = false;
        loop {
            let Some(socket) = self.sockets.get_mut(key) else {
                return;
            };
            let Proto::Ws(ws) = &socket.proto else {
                return;
            };
            if ws.flags.abort
                || ws.conn.closing() == Closing::Done
                || socket.backpressure.len() >= read_pause(ws)
            {
                break;
            }
            match socket.transport.read(&mut self.recv, &mut self.tls_recv) {
                Ok(0) => {
                    socket.peer_closed = true;
                    break;
                }
                Ok(n) => {
                    received = true;
                    let drained = socket.transport.drained(n, self.recv.len());
                    self.ws_feed(key, n);
                    if self.cork.len() >= CORK_FLUSH_BYTES
                        && let Some(socket) = self.sockets.get_mut(key)
                        && socket.flush(&mut self.cork).is_err()
                    {
                        failed = true;
                        break;
                    }
                    if drained && !read_all {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            self.cork.clear();
            self.close(key);
        } else {
            self.ws_after_io(key, received);
        }
    }

    /// Feeds the stash and `recv[..n]` to the WebSocket; keeps what it does not use.
    fn ws_feed(&mut self, key: usize, n: usize) {
        let Some(Socket {
            transport,
            proto: Proto::Ws(ws),
            backpressure,
            outbox,
            remote,
            stash,
            ..
        }) = self.sockets.get_mut(key)
        else {
            return;
        };
        let pause_at = read_pause(ws);
        let mut wire = Wire {
            transport,
            backpressure,
            outbox,
        };
        let mut env = ws_env!(self, wire, key, *remote);
        if stash.is_empty() {
            let input = &mut self.recv[..n];
            let used = ws.feed(input, &mut env, pause_at);
            stash.extend_from_slice(&input[used..]);
        } else {
            stash.extend_from_slice(&self.recv[..n]);
            let used = ws.feed(stash, &mut env, pause_at);
            stash.drain(..used);
            if stash.is_empty() {
                *stash = Vec::new();
            }
        }
    }

    /// Buffered bytes went out: `drain` runs, and reading resumes if it had paused.
    pub(super) fn on_ws_writable(&mut self, key: usize, before: usize) {
        self.with_ws(key, |ws, env| ws.drained(env));
        let resume = match self.sockets.get(key) {
            Some(Socket {
                proto: Proto::Ws(ws),
                backpressure,
                ..
            }) => {
                let pause = read_pause(ws);
                before >= pause && backpressure.len() < pause
            }
            _ => false,
        };
        if resume {
            self.on_ws_readable(key, true);
        } else {
            self.ws_after_io(key, false);
        }
    }

    /// Flushes the cork, then closes, lingers or re-arms the timers as the socket's state
    /// requires. `received`: bytes arrived (the idle timer restarts).
    pub(super) fn ws_after_io(&mut self, key: usize, received: bool) {
        let Some(socket) = self.sockets.get_mut(key) else {
            return;
        };
        if socket.flush(&mut self.cork).is_err() {
            self.close(key);
            return;
        }
        if self.cork.capacity() > CORK_KEEP_BYTES * 4 {
            self.cork.shrink_to(CORK_KEEP_BYTES);
        }
        let Proto::Ws(ws) = &mut socket.proto else {
            return;
        };
        if ws.flags.abort {
            self.close(key);
            return;
        }
        match ws.conn.closing() {
            Closing::Done => {
                if !socket.backpressure.is_empty() {
                    // Our close frame is still queued: wait for WRITABLE, but not forever.
                    if socket.timer != Timer::WsClose {
                        socket.timer = Timer::WsClose;
                        socket.deadline = self.now + LINGER_SECS;
                    }
                    return;
                }
                if socket.peer_closed {
                    self.close(key);
                    return;
                }
                if socket.timer != Timer::Linger {
                    // The server closes the TCP connection first (RFC 6455 section 7.1.1):
                    // half-close, then drain until the peer closes too.
                    socket.transport.shutdown_write();
                    socket.timer = Timer::Linger;
                    socket.deadline = self.now + LINGER_SECS;
                }
                if socket.discard_input(&mut self.recv) {
                    self.close(key);
                }
            }
            Closing::Sent => {
                if socket.peer_closed {
                    self.close(key);
                } else if socket.timer != Timer::WsClose {
                    socket.timer = Timer::WsClose;
                    socket.deadline = self.now + LINGER_SECS;
                }
            }
            Closing::Open => {
                if socket.peer_closed {
                    // The TCP connection ended without a closing handshake.
                    self.close(key);
                    return;
                }
                let settings = *ws.settings();
                if received || ws.flags.sent && settings.reset_idle_timeout_on_send {
                    ws.flags.idle_end = idle_deadline(self.now, settings.idle_timeout);
                    if received {
                        ws.flags.pinged = false;
                    }
                }
                ws.flags.sent = false;
                socket.timer = Timer::Idle;
                socket.deadline = ws.flags.idle_end.min(ws.flags.lifetime_end);
            }
        }
    }

    /// The idle or lifetime timer of an open WebSocket fired.
    pub(super) fn on_ws_timeout(&mut self, key: usize) {
        let now = self.now;
        let Some(Socket {
            proto: Proto::Ws(ws),
            ..
        }) = self.sockets.get_mut(key)
        else {
            return;
        };
        let settings = *ws.settings();
        if ws.flags.lifetime_end <= now {
            self.with_ws(key, |ws, env| ws.end(env, NORMAL, ""));
        } else if ws.flags.idle_end <= now {
            let ping = settings.send_pings_automatically;
            let idle = settings.idle_timeout;
            if !ping || self.with_ws(key, |ws, env| ws.auto_ping(env)) != Some(true) {
                // Silent past the timeout (and past a ping): drop the connection.
                self.close(key);
                return;
            }
            if let Some(Socket {
                proto: Proto::Ws(ws),
                ..
            }) = self.sockets.get_mut(key)
            {
                ws.flags.idle_end = idle_deadline(now, idle);
            }
        }
        self.ws_after_io(key, false);
    }

    /// Before a socket is dropped: a WebSocket's `close` callback runs (1006) if it has not.
    pub(super) fn ws_closed(&mut self, key: usize) {
        self.with_ws(key, |ws, env| ws.closed(env));
    }

    /// Server shutdown: every open WebSocket gets a close frame with 1001.
    pub(super) fn end_all_ws(&mut self) {
        let keys: Vec<usize> = self
            .sockets
            .iter()
            .filter(|(_, s)| matches!(s.proto, Proto::Ws(_)))
            .map(|(key, _)| key)
            .collect();
        for key in keys {
            self.with_ws(key, |ws, env| {
                ws.end(env, GOING_AWAY, "server shutting down")
            });
            self.ws_after_io(key, false);
        }
    }
}

/// Backpressure at which a WebSocket stops being read, in bytes: its `max_backpressure`
/// (input that would only produce dropped output waits in the kernel), at most the loop's.
fn read_pause(ws: &WsState) -> usize {
    ws.settings().max_backpressure.clamp(1, READ_PAUSE_BYTES)
}

/// The loop second an idle timer of `timeout` fires; never for a zero timeout.
pub(super) fn idle_deadline(now: u32, timeout: std::time::Duration) -> u32 {
    if timeout.is_zero() {
        u32::MAX
    } else {
        deadline(now, timeout)
    }
}
