//! One event loop: a mio `Poll`, its own listener, a slab of connections, the cork buffer,
//! the receive buffer, coarse timers and the `Date` cache. Nothing here is shared with other
//! loops except the read-only app, the stop flag and the pub/sub hub. WebSocket sockets are
//! driven from `worker/ws.rs`, publishes fanned out from `worker/fanout.rs`.

mod fanout;
mod ws;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;

use super::date::DateCache;
use super::listener::Listener;
use super::socket::{Proto, READ_PAUSE_BYTES, Socket, Timer};
use crate::app::Shared;
use crate::http::conn::{Closing, HttpConn, Io};
use crate::net::tls::TlsStream;
use crate::net::transport::Transport;
use crate::ws::pubsub::{Hub, LoopTopics, Published};

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
    /// Pub/sub across loops, and this loop's index in it.
    hub: Arc<Hub>,
    at: usize,
    /// This loop's topics and the messages published since the last fan-out.
    topics: LoopTopics,
    /// Scratch for fan-out: the batch being delivered, and one topic's subscribers.
    fanning: Vec<Published>,
    subscribers: Vec<usize>,
    /// Sockets with published frames queued, written once per loop iteration.
    dirty: Vec<usize>,
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
            hub: Arc::new(Hub::new(&[])),
            at: 0,
            topics: LoopTopics::default(),
            fanning: Vec::new(),
            subscribers: Vec::new(),
            dirty: Vec::new(),
        };
        Ok((worker, waker))
    }

    /// Joins the pub/sub hub as loop number `at`.
    pub(crate) fn attach(&mut self, hub: Arc<Hub>, at: usize) {
        self.hub = hub;
        self.at = at;
    }

    /// Runs until the server is shut down and every connection is gone.
    pub(crate) fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let started = Instant::now();
        let mut next_tick = started + Duration::from_secs(1);
        loop {
            // Messages published by a callback outside event handling must not wait a tick.
            let timeout = if self.topics.batch.is_empty() {
                next_tick.saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
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
            // Publishes of this iteration (and from other loops) leave once per subscriber.
            self.fan_out();
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
        if matches!(socket.proto, Proto::Ws(_)) {
            self.on_ws_readable(key, read_closed);
            return;
        }
        // Lent to the protocol while the transport reads; given back below.
        let server_name = socket.transport.take_server_name();
        let mut io = Io {
            out: &mut self.cork,
            date: self.date.line(),
            config: &self.app.config,
            remote: socket.remote,
            shutting_down: self.stopping_since.is_some(),
            server_name: server_name.as_deref(),
        };
        let mut failed = false;
        while http_closing(socket) == Closing::No && socket.backpressure.len() < READ_PAUSE_BYTES {
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
        socket.transport.give_back_server_name(server_name);
        if failed {
            self.cork.clear();
            self.close(key);
        } else if http_closing(socket) == Closing::Upgrade {
            self.upgrade(key);
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
        let before = socket.backpressure.len();
        let was_paused = before >= READ_PAUSE_BYTES;
        if socket.drain_backpressure().is_err() {
            self.close(key);
            return;
        }
        if matches!(socket.proto, Proto::Ws(_)) {
            self.on_ws_writable(key, before);
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
        if matches!(socket.proto, Proto::Ws(_)) {
            self.ws_after_io(key, false);
            return;
        }
        if socket.flush(&mut self.cork).is_err() {
            self.close(key);
            return;
        }
        if self.cork.capacity() > CORK_KEEP_BYTES * 4 {
            self.cork.shrink_to(CORK_KEEP_BYTES);
        }
        let Proto::Http(http) = &socket.proto else {
            return;
        };
        let (closing, http_idle, in_body) = (http.closing(), http.is_idle(), http.in_body());
        let idle = http_idle && socket.stash.is_empty();
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
        let (timer, deadline) = if idle || in_body {
            (Timer::Idle, deadline(self.now, config.idle_timeout))
        } else if http_idle {
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

    /// Deregisters and drops a socket (closing it). A WebSocket's `close` callback runs
    /// first if it has not yet.
    fn close(&mut self, key: usize) {
        self.ws_closed(key);
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
            if grace_over {
                self.close(key);
            } else {
                self.on_timeout(key);
            }
        }
    }

    /// A socket's timer fired: WebSockets may ping or end gracefully; others close.
    fn on_timeout(&mut self, key: usize) {
        match self.sockets.get(key).map(|s| (&s.proto, s.timer)) {
            Some((Proto::Ws(_), Timer::Idle)) => self.on_ws_timeout(key),
            Some(_) => self.close(key),
            None => {}
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
                let http_idle = matches!(&s.proto, Proto::Http(h) if h.is_idle());
                s.timer == Timer::Linger
                    || http_idle && s.stash.is_empty() && s.backpressure.is_empty()
            })
            .map(|(key, _)| key)
            .collect();
        for key in idle {
            self.close(key);
        }
        self.end_all_ws();
    }
}

/// The loop second by which `timeout` has surely passed (the clock is coarse, so round up).
fn deadline(now: u32, timeout: Duration) -> u32 {
    let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    now.saturating_add(u32::try_from(secs).unwrap_or(u32::MAX))
        .saturating_add(1)
}

/// The HTTP connection's closing state (a WebSocket is never read as HTTP: `Abort`).
fn http_closing(socket: &Socket) -> Closing {
    match &socket.proto {
        Proto::Http(http) => http.closing(),
        Proto::Ws(_) => Closing::Abort,
    }
}

/// Offers received bytes to the protocol; keeps what it does not consume in the stash.
fn feed(socket: &mut Socket, input: &[u8], io: &mut Io<'_>, app: &Shared) {
    let Socket {
        proto: Proto::Http(http),
        stash,
        ..
    } = socket
    else {
        return;
    };
    feed_http(http, stash, input, io, app);
}

/// [`feed`] on the socket's parts.
fn feed_http(
    http: &mut HttpConn,
    stash: &mut Vec<u8>,
    input: &[u8],
    io: &mut Io<'_>,
    app: &Shared,
) {
    if stash.is_empty() {
        let used = http.process(input, io, app);
        if used < input.len() {
            stash.extend_from_slice(&input[used..]);
        }
    } else {
        stash.extend_from_slice(input);
        let used = http.process(stash, io, app);
        stash.drain(..used);
        if stash.is_empty() {
            *stash = Vec::new();
        }
    }
}
