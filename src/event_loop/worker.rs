//! One event loop: a mio `Poll`, its own listener, a slab of connections, the cork buffer,
//! the receive buffer, coarse timers and the `Date` cache. Nothing here is shared with other
//! loops except the read-only app and the stop flag.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;

use super::date::DateCache;
use super::listener::Listener;
use super::socket::{READ_PAUSE_BYTES, Socket, Timer};
use crate::app::Shared;
use crate::http::conn::{Closing, Io};
use crate::net::tls::TlsStream;
use crate::net::transport::Transport;

const WAKER: Token = Token(usize::MAX - 2);
/// Listener `i` has token `LISTENER_BASE - i` (below every slab key in practice).
const LISTENER_BASE: usize = usize::MAX - 3;
/// Most listeners per loop (plain and TLS, on different addresses).
const MAX_LISTENERS: usize = 16;
/// Shared receive buffer per loop, in bytes.
const RECV_BYTES: usize = 64 * 1024;
/// Cork size that triggers a write before the readable event is fully handled, in bytes.
const CORK_FLUSH_BYTES: usize = 256 * 1024;
/// Cork capacity kept between events; a larger one is shrunk back, in bytes.
const CORK_KEEP_BYTES: usize = 64 * 1024;
/// Seconds we wait for a peer to close after our close (lingering close).
const LINGER_SECS: u32 = 2;
/// Seconds in-flight responses get after `Server::shutdown` before their sockets are closed.
const SHUTDOWN_GRACE_SECS: u32 = 10;

/// One per-core event loop.
pub(crate) struct Worker {
    poll: Poll,
    listeners: Vec<Listener>,
    sockets: Slab<Socket>,
    cork: Vec<u8>,
    recv: Box<[u8]>,
    /// Ciphertext read buffer for TLS connections (empty when the loop has no TLS listener).
    tls_recv: Box<[u8]>,
    app: Arc<Shared>,
    date: DateCache,
    stop: Arc<AtomicBool>,
    stopping_since: Option<u32>,
    /// Coarse clock: whole seconds since the loop started.
    now: u32,
    expired: Vec<usize>,
}

impl Worker {
    /// Builds a loop around its `listeners`; returns it with the waker that interrupts its
    /// poll.
    pub(crate) fn new(
        mut listeners: Vec<Listener>,
        app: Arc<Shared>,
        stop: Arc<AtomicBool>,
    ) -> io::Result<(Worker, Arc<Waker>)> {
        if listeners.len() > MAX_LISTENERS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "too many listeners",
            ));
        }
        let poll = Poll::new()?;
        for (i, listener) in listeners.iter_mut().enumerate() {
            let token = Token(LISTENER_BASE - i);
            poll.registry()
                .register(&mut listener.socket, token, Interest::READABLE)?;
        }
        let tls_recv = match listeners.iter().any(|l| l.tls.is_some()) {
            true => vec![0; RECV_BYTES].into_boxed_slice(),
            false => Box::default(),
        };
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let worker = Worker {
            poll,
            listeners,
            sockets: Slab::with_capacity(1024),
            cork: Vec::with_capacity(CORK_KEEP_BYTES),
            recv: vec![0; RECV_BYTES].into_boxed_slice(),
            tls_recv,
            app,
            date: DateCache::new(),
            stop,
            stopping_since: None,
            now: 0,
            expired: Vec::new(),
        };
        Ok((worker, waker))
    }

    /// Runs until the server is shut down and every connection is gone.
    pub(crate) fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let started = Instant::now();
        let mut next_tick = started + Duration::from_secs(1);
        loop {
            let timeout = next_tick.saturating_duration_since(Instant::now());
            if let Err(e) = self.poll.poll(&mut events, Some(timeout))
                && e.kind() != io::ErrorKind::Interrupted
            {
                log::error!("poll failed, loop exits: {e}");
                return;
            }
            for event in events.iter() {
                match event.token() {
                    WAKER => self.on_wake(),
                    Token(key) if key > LISTENER_BASE - MAX_LISTENERS && key <= LISTENER_BASE => {
                        self.accept(LISTENER_BASE - key);
                    }
                    Token(key) => {
                        if event.is_readable() || event.is_read_closed() || event.is_error() {
                            self.on_readable(key, event.is_read_closed());
                        }
                        if event.is_writable() {
                            self.on_writable(key);
                        }
                    }
                }
            }
            let now = Instant::now();
            if now >= next_tick {
                self.now = now.duration_since(started).as_secs() as u32;
                next_tick = now + Duration::from_secs(1);
                self.tick();
            }
            if self.stopping_since.is_some() && self.sockets.is_empty() {
                return;
            }
        }
    }

    /// Accepts on listener `index` until `WouldBlock`.
    fn accept(&mut self, index: usize) {
        let Some(listener) = self.listeners.get(index) else {
            return;
        };
        loop {
            match listener.socket.accept() {
                Ok((mut stream, remote)) => {
                    if let Err(e) = stream.set_nodelay(true) {
                        log::debug!("TCP_NODELAY failed: {e}");
                    }
                    let entry = self.sockets.vacant_entry();
                    let token = Token(entry.key());
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    if let Err(e) = self.poll.registry().register(&mut stream, token, interest) {
                        log::warn!("register failed: {e}");
                        continue;
                    }
                    let config = &self.app.config;
                    let (transport, timer, timeout) = match &listener.tls {
                        None => (Transport::Tcp(stream), Timer::Idle, config.idle_timeout),
                        Some(tls) => match TlsStream::new(stream, Arc::clone(tls)) {
                            // The handshake is bounded like a request head.
                            Ok(tls) => (
                                Transport::Tls(Box::new(tls)),
                                Timer::HeadRead,
                                config.header_read_timeout,
                            ),
                            Err(e) => {
                                log::warn!("TLS session failed to start: {e}");
                                continue;
                            }
                        },
                    };
                    let mut socket = Socket::new(transport, remote);
                    socket.timer = timer;
                    socket.deadline = deadline(self.now, timeout);
                    entry.insert(socket);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // EMFILE and friends: try again on the next readiness edge.
                    log::warn!("accept failed: {e}");
                    return;
                }
            }
        }
    }

    /// Reads until `WouldBlock` (mio's contract), feeding the protocol, then flushes once.
    /// `read_closed`: the event announced the peer's FIN, so read until it shows.
    fn on_readable(&mut self, key: usize, read_closed: bool) {
        let Some(socket) = self.sockets.get_mut(key) else {
            return;
        };
        if socket.timer == Timer::Linger {
            if socket.discard_input(&mut self.recv) {
                self.close(key);
            }
            return;
        }
        if socket.server_name.is_none() {
            // Known from the event that carried the ClientHello on, before any request.
            socket.server_name = socket.transport.server_name().map(Box::from);
        }
        let server_name = socket.server_name.take();
        let mut io = Io {
            out: &mut self.cork,
            date: self.date.line(),
            config: &self.app.config,
            remote: socket.remote,
            shutting_down: self.stopping_since.is_some(),
            server_name: server_name.as_deref(),
        };
        let mut failed = false;
        while socket.http.closing() == Closing::No && socket.backpressure.len() < READ_PAUSE_BYTES {
            match socket.transport.read(&mut self.recv, &mut self.tls_recv) {
                Ok(0) => {
                    socket.peer_closed = true;
                    break;
                }
                Ok(n) => {
                    feed(socket, &self.recv[..n], &mut io, &self.app);
                    if io.out.len() >= CORK_FLUSH_BYTES && socket.flush(io.out).is_err() {
                        failed = true;
                        break;
                    }
                    // A short read drained the kernel buffer: anything arriving later raises a
                    // new edge, so the extra read that would return WouldBlock is saved (as
                    // tokio does).
                    if socket.transport.drained(n, self.recv.len()) && !read_closed {
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
        socket.server_name = server_name;
        if failed {
            self.cork.clear();
            self.close(key);
        } else {
            self.after_io(key);
        }
    }

    /// Drains the backpressure buffer; resumes reading if it had been paused by it.
    fn on_writable(&mut self, key: usize) {
        let Some(socket) = self.sockets.get_mut(key) else {
            return;
        };
        if socket.backpressure.is_empty() {
            return;
        }
        let was_paused = socket.backpressure.len() >= READ_PAUSE_BYTES;
        if socket.drain_backpressure().is_err() {
            self.close(key);
            return;
        }
        if was_paused && socket.backpressure.len() < READ_PAUSE_BYTES {
            // Edge-triggered: bytes may be waiting that no new event will announce.
            self.on_readable(key, false);
        } else {
            self.after_io(key);
        }
    }

    /// Flushes the cork, then closes or re-arms the socket's timer as its state requires.
    fn after_io(&mut self, key: usize) {
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
        let closing = socket.http.closing();
        let idle = socket.http.is_idle() && socket.stash.is_empty();
        // A peer that shut down its side gets what is already written, then the socket goes.
        if closing == Closing::Abort
            || socket.peer_closed && socket.backpressure.is_empty()
            || idle && self.stopping_since.is_some()
        {
            self.close(key);
            return;
        }
        if socket.peer_closed {
            socket.timer = Timer::Linger;
            socket.deadline = deadline(self.now, self.app.config.idle_timeout);
            return;
        }
        if closing == Closing::AfterFlush {
            if socket.backpressure.is_empty() {
                // Half-close, then wait for the peer: closing with unread input would reset
                // the connection and could destroy the response we just sent.
                socket.transport.shutdown_write();
                socket.timer = Timer::Linger;
                socket.deadline = self.now + LINGER_SECS;
                if socket.discard_input(&mut self.recv) {
                    self.close(key);
                }
            }
            return;
        }
        if socket.transport.is_handshaking() {
            // The deadline set at accept stands: a dribbled handshake cannot extend it.
            return;
        }
        let config = &self.app.config;
        let (timer, deadline) = if idle || socket.http.in_body() {
            (Timer::Idle, deadline(self.now, config.idle_timeout))
        } else if socket.http.is_idle() {
            // Part of a head has arrived: the clock started at its first byte.
            if socket.timer == Timer::HeadRead {
                (Timer::HeadRead, socket.deadline)
            } else {
                (
                    Timer::HeadRead,
                    deadline(self.now, config.header_read_timeout),
                )
            }
        } else {
            (Timer::Off, u32::MAX)
        };
        socket.timer = timer;
        socket.deadline = deadline;
    }

    /// Deregisters and drops a socket (closing it).
    fn close(&mut self, key: usize) {
        if let Some(mut socket) = self.sockets.try_remove(key) {
            let _ = self.poll.registry().deregister(socket.transport.tcp());
        }
    }

    /// Once a second: refresh `Date`, close sockets whose timer fired.
    fn tick(&mut self) {
        self.date.refresh();
        let now = self.now;
        let grace_over = self
            .stopping_since
            .is_some_and(|since| now >= since + SHUTDOWN_GRACE_SECS);
        self.expired.clear();
        for (key, socket) in &self.sockets {
            if grace_over || socket.timer != Timer::Off && socket.deadline <= now {
                self.expired.push(key);
            }
        }
        for i in 0..self.expired.len() {
            let key = self.expired[i];
            self.close(key);
        }
    }

    /// The server asked us to stop: no more accepts, idle sockets close now, busy ones after
    /// their current response.
    fn on_wake(&mut self) {
        if !self.stop.load(Ordering::Acquire) || self.stopping_since.is_some() {
            return;
        }
        self.stopping_since = Some(self.now);
        for mut listener in self.listeners.drain(..) {
            let _ = self.poll.registry().deregister(&mut listener.socket);
        }
        let idle: Vec<usize> = self
            .sockets
            .iter()
            .filter(|(_, s)| {
                s.timer == Timer::Linger
                    || s.http.is_idle() && s.stash.is_empty() && s.backpressure.is_empty()
            })
            .map(|(key, _)| key)
            .collect();
        for key in idle {
            self.close(key);
        }
    }
}

/// The loop second by which `timeout` has surely passed (the clock is coarse, so round up).
fn deadline(now: u32, timeout: Duration) -> u32 {
    let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    now.saturating_add(u32::try_from(secs).unwrap_or(u32::MAX))
        .saturating_add(1)
}

/// Offers received bytes to the protocol; keeps what it does not consume in the stash.
fn feed(socket: &mut Socket, input: &[u8], io: &mut Io<'_>, app: &Shared) {
    if socket.stash.is_empty() {
        let used = socket.http.process(input, io, app);
        if used < input.len() {
            socket.stash.extend_from_slice(&input[used..]);
        }
    } else {
        socket.stash.extend_from_slice(input);
        let used = socket.http.process(&socket.stash, io, app);
        socket.stash.drain(..used);
        if socket.stash.is_empty() {
            socket.stash = Vec::new();
        }
    }
}
