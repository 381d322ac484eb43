//! One event loop: a mio `Poll`, its own listeners, a slab of connections, the cork buffer,
//! the receive buffer, coarse timers and the `Date` cache. Nothing here is shared with other
//! loops except the read-only service, the stop flag and the pub/sub hub. Every protocol is
//! driven through `proto.rs` by one read loop and one after-I/O step; publishes are fanned
//! out from `worker/fanout.rs`.

/// Lends the loop's shared parts and socket `$key`'s parts to a protocol call:
/// `lend!(self, key, |socket, conn, lent| socket.proto.call(conn, &mut lent))` is `None` when
/// there is no such socket. Defined before `mod fanout` so that the fan-out lends the same way.
macro_rules! lend {
    ($self:ident, $key:expr, |$socket:ident, $conn:ident, $lent:ident| $body:expr) => {{
        let key = $key;
        match $self.sockets.get_mut(key) {
            None => None,
            Some($socket) => {
                let mut $lent = Lent {
                    cork: &mut $self.cork,
                    date: $self.date.line(),
                    service: &*$self.service,
                    topics: &mut $self.topics,
                    hub: &$self.hub,
                    at: $self.at,
                    stopping: $self.draining_until.is_some(),
                    courier: &$self.courier,
                    ws_courier: &$self.ws_courier,
                    side: &mut $self.side,
                    stats: &$self.stats,
                };
                let $conn = Conn {
                    wire: &mut $socket.wire,
                    key,
                    remote: $socket.remote,
                };
                Some($body)
            }
        }
    }};
}

mod accept;
mod answers;
mod fanout;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;

use super::date::DateCache;
use super::listener::Listener;
use super::mailbox::{Letter, Mailbox};
use super::policy::{After, Facts, Fired, deadline};
use super::proto::{Conn, Lent};
use super::service::Service;
use super::socket::Socket;
use super::timer::{Armed, Timer};
use crate::http::later::LoopHandle;
use crate::http::letter::Courier;
use crate::net::link::Link;
use crate::stats::{LoopStats, bump};
use crate::ws::pubsub::{Hub, LoopTopics, Published};
use crate::ws::remote::WsCourier;
use crate::ws::side::Side;

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

/// One per-core event loop, serving `S`'s routes.
pub(crate) struct Worker<S> {
    poll: Poll,
    listeners: Vec<Listener>,
    sockets: Slab<Socket>,
    cork: Vec<u8>,
    recv: Box<[u8]>,
    /// Ciphertext read buffer for TLS connections (empty when the loop has no TLS listener).
    tls_recv: Box<[u8]>,
    service: Arc<S>,
    date: DateCache,
    stop: Arc<AtomicBool>,
    /// Set once the server stops: the loop second by which the last connections are closed
    /// (`Config::shutdown_timeout` after the stop).
    draining_until: Option<u32>,
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
    /// Letters from other threads and deferred code (`mailbox` seen as the courier that
    /// responses answered later hold), and scratch for taking them.
    mailbox: Arc<Mailbox>,
    courier: Arc<dyn Courier>,
    ws_courier: Arc<dyn WsCourier>,
    side: Side,
    /// This loop's counters, read by `Server::counters`.
    stats: Arc<LoopStats>,
    letters: Vec<Letter>,
    order: Vec<(u32, usize, u32)>,
    slots: Vec<Option<Letter>>,
    /// Scratch for letters taken while following one socket's pipeline.
    following: Vec<Letter>,
}

impl<S: Service> Worker<S> {
    /// Builds a loop around its `listeners`; returns it with the waker that interrupts its
    /// poll.
    pub(crate) fn new(
        mut listeners: Vec<Listener>,
        service: Arc<S>,
        stop: Arc<AtomicBool>,
    ) -> io::Result<(Worker<S>, Arc<Waker>)> {
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
        let mailbox = Mailbox::new(Arc::clone(&waker));
        let worker = Worker {
            poll,
            listeners,
            sockets: Slab::with_capacity(1024),
            cork: Vec::with_capacity(CORK_KEEP_BYTES),
            recv: vec![0; RECV_BYTES].into_boxed_slice(),
            tls_recv,
            service,
            date: DateCache::new(),
            stop,
            draining_until: None,
            now: 0,
            expired: Vec::new(),
            hub: Arc::new(Hub::new(&[])),
            at: 0,
            topics: LoopTopics::default(),
            fanning: Vec::new(),
            subscribers: Vec::new(),
            dirty: Vec::new(),
            courier: Arc::clone(&mailbox) as Arc<dyn Courier>,
            ws_courier: Arc::clone(&mailbox) as Arc<dyn WsCourier>,
            side: Side::default(),
            stats: Arc::default(),
            mailbox,
            letters: Vec::new(),
            order: Vec::new(),
            slots: Vec::new(),
            following: Vec::new(),
        };
        Ok((worker, waker))
    }

    /// This loop's counters.
    pub(crate) fn stats(&self) -> Arc<LoopStats> {
        Arc::clone(&self.stats)
    }

    /// A handle to run closures on this loop.
    pub(crate) fn loop_handle(&self) -> LoopHandle {
        LoopHandle::new(Arc::clone(&self.courier))
    }

    /// Joins the pub/sub hub as loop number `at`.
    pub(crate) fn attach(&mut self, hub: Arc<Hub>, at: usize) {
        self.hub = hub;
        self.at = at;
    }

    /// Runs until the server is shut down and every connection is gone; then refuses
    /// letters.
    pub(crate) fn run(mut self) {
        self.mailbox.enter();
        #[cfg(feature = "tokio")]
        crate::http::batch::enter_loop();
        self.serve();
        self.mailbox.stop();
    }

    fn serve(&mut self) {
        let mut events = Events::with_capacity(1024);
        let started = Instant::now();
        let mut next_tick = started + Duration::from_secs(1);
        loop {
            // Messages published by a callback outside event handling must not wait a tick.
            let idle = self.topics.batch.is_empty() && self.letters.is_empty();
            let timeout = if idle && !self.mailbox.is_pending() {
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
            // Answers from other threads and deferred code, applied corked.
            self.deliver_letters();
            // Publishes of this iteration (and from other loops) leave once per subscriber.
            self.fan_out();
            // Futures of this iteration that answer later go to the runtime as one task.
            #[cfg(feature = "tokio")]
            crate::http::batch::spawn_collected();
            if self.draining_until.is_some() && self.sockets.is_empty() {
                return;
            }
        }
    }

    /// Reads until `WouldBlock` (mio's contract) while the protocol wants input, feeding it,
    /// then takes the one after-I/O step. `read_all`: do not stop at a short read (the peer's
    /// FIN was announced, or the caller cannot tell whether the kernel buffer was drained).
    fn on_readable(&mut self, key: usize, read_all: bool) {
        let Some(socket) = self.sockets.get_mut(key) else {
            return;
        };
        if socket.armed().timer == Timer::Linger {
            if socket.wire.discard_input(&mut self.recv) {
                self.close(key);
            }
            return;
        }
        let mut received = false;
        if !socket.stash.is_empty() && socket.proto.wants_input(&socket.wire, socket.stash.len()) {
            // Input kept from before: what followed a protocol switch, or a paused read.
            self.feed(key, 0);
            received = true;
        }
        let mut failed = false;
        loop {
            let Some(socket) = self.sockets.get_mut(key) else {
                return;
            };
            if !socket.proto.wants_input(&socket.wire, socket.stash.len()) {
                break;
            }
            match socket
                .wire
                .transport
                .read(&mut self.recv, &mut self.tls_recv)
            {
                Ok(0) => {
                    socket.peer_closed = true;
                    break;
                }
                Ok(n) => {
                    received = true;
                    // A short read drained the kernel buffer: anything arriving later raises
                    // a new edge, so the extra read that would return WouldBlock is saved
                    // (as tokio does).
                    let drained = socket.wire.transport.drained(n, self.recv.len());
                    self.feed(key, n);
                    if self.cork.len() >= CORK_FLUSH_BYTES
                        && let Some(socket) = self.sockets.get_mut(key)
                        && socket.wire.flush(&mut self.cork).is_err()
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
            self.after_io(key, received);
        }
    }

    /// Feeds the stash and `recv[..n]` to the socket's protocol; keeps what it does not use.
    fn feed(&mut self, key: usize, n: usize) {
        let recv = &mut self.recv[..n];
        lend!(self, key, |socket, conn, lent| {
            let stash = &mut socket.stash;
            if stash.is_empty() {
                let used = socket.proto.feed(recv, conn, &mut lent);
                stash.push(&recv[used..]);
            } else {
                stash.push(recv);
                let used = socket.proto.feed(stash.left(), conn, &mut lent);
                stash.consume(used);
            }
        });
    }

    /// Drains the backpressure buffer; tells the protocol; resumes reading if it had paused.
    fn on_writable(&mut self, key: usize) {
        let Some(socket) = self.sockets.get_mut(key) else {
            return;
        };
        let before = socket.wire.refused();
        if before == 0 {
            return;
        }
        let was_paused = before >= socket.proto.read_pause();
        if socket.wire.drain().is_err() {
            self.close(key);
            return;
        }
        lend!(self, key, |socket, conn, lent| socket
            .proto
            .writable(conn, &mut lent));
        let resume = self.sockets.get(key).is_some_and(|socket| {
            was_paused && socket.wire.refused() < socket.proto.read_pause()
                || socket.answered_with_input_waiting()
        });
        if resume {
            // Edge-triggered: bytes may be waiting that no new event will announce.
            self.on_readable(key, true);
        } else {
            self.after_io(key, false);
        }
    }

    /// The one step after I/O: flush the cork, then ask the protocol what comes next (keep
    /// with a timer, linger, close, or switch protocol) and do it. `received`: bytes arrived.
    fn after_io(&mut self, key: usize, received: bool) {
        let Some(socket) = self.sockets.get_mut(key) else {
            return;
        };
        if socket.proto.switching() {
            // The `101` and what `open` sends leave in one write.
            return self.switch(key);
        }
        if socket.wire.flush(&mut self.cork).is_err() {
            self.close(key);
            return;
        }
        if self.cork.capacity() > CORK_KEEP_BYTES * 4 {
            self.cork.shrink_to(CORK_KEEP_BYTES);
        }
        let facts = Facts {
            drained: socket.wire.is_drained(),
            peer_closed: socket.peer_closed,
            handshaking: socket.wire.transport.is_handshaking(),
            stopping: self.draining_until.is_some(),
            received,
        };
        let config = self.service.config();
        let stash_empty = socket.stash.is_empty();
        match socket
            .proto
            .after(facts, socket.armed(), self.now, stash_empty, config)
        {
            After::Keep(armed) => socket.arm(armed),
            After::Close => self.close(key),
            After::Linger(deadline) => {
                if socket.armed().timer != Timer::Linger {
                    socket.wire.transport.shutdown_write();
                    socket.arm(Armed {
                        timer: Timer::Linger,
                        deadline,
                    });
                }
                if socket.wire.discard_input(&mut self.recv) {
                    self.close(key);
                }
            }
            After::Switch => self.switch(key),
        }
    }

    /// The HTTP side accepted a protocol switch: the socket becomes a WebSocket, `open`
    /// runs, and bytes after the handshake are read as frames.
    fn switch(&mut self, key: usize) {
        let now = self.now;
        match lend!(self, key, |socket, conn, lent| socket
            .proto
            .switch(conn, &mut lent, now))
        {
            Some(Some(armed)) => {
                if let Some(socket) = self.sockets.get_mut(key) {
                    socket.arm(armed);
                }
                // The HTTP side stopped reading at the switch: read on until `WouldBlock`.
                self.on_readable(key, true);
            }
            Some(None) => {
                self.cork.clear();
                self.close(key);
            }
            None => {}
        }
    }

    /// Deregisters and drops a socket (closing it), after telling its protocol.
    fn close(&mut self, key: usize) {
        lend!(self, key, |socket, conn, lent| socket
            .proto
            .closed(conn, &mut lent));
        if let Some(mut socket) = self.sockets.try_remove(key) {
            let _ = self.poll.registry().deregister(socket.wire.transport.tcp());
            bump(&self.stats.connections_closed);
        }
    }

    /// Once a second: refresh `Date`, fire the timers that are due.
    fn tick(&mut self) {
        self.date.refresh();
        let now = self.now;
        let grace_over = self.draining_until.is_some_and(|until| now >= until);
        self.expired.clear();
        for (key, socket) in &self.sockets {
            if grace_over || socket.armed().timer != Timer::Off && socket.armed().deadline <= now {
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

    /// A socket's timer fired: the protocol says whether it closes, pings or ends.
    fn on_timeout(&mut self, key: usize) {
        let now = self.now;
        let Some(armed) = self.sockets.get(key).map(Socket::armed) else {
            return;
        };
        let fired = lend!(self, key, |socket, conn, lent| socket
            .proto
            .timer_fired(armed, now, conn, &mut lent));
        match fired {
            Some(Fired::Close) => self.close(key),
            Some(Fired::End(_) | Fired::Ping | Fired::Rearm) => self.after_io(key, false),
            None => {}
        }
    }

    /// The server asked us to stop: no more accepts, idle connections close now, busy ones
    /// after their current response, WebSockets get a close frame with 1001.
    fn on_wake(&mut self) {
        if !self.stop.load(Ordering::Acquire) || self.draining_until.is_some() {
            return;
        }
        let drain = self.service.config().shutdown_timeout;
        self.draining_until = Some(deadline(self.now, drain));
        for mut listener in self.listeners.drain(..) {
            let _ = self.poll.registry().deregister(&mut listener.socket);
        }
        let keys: Vec<usize> = self.sockets.iter().map(|(key, _)| key).collect();
        for key in keys {
            let idle = lend!(self, key, |socket, conn, lent| {
                let lingering = socket.timer == Timer::Linger;
                let quiet = socket.stash.is_empty() && conn.wire.refused() == 0;
                let idle_http = socket.proto.going_away(conn, &mut lent) && quiet;
                lingering || idle_http
            });
            match idle {
                Some(true) => self.close(key),
                Some(false) => self.after_io(key, false),
                None => {}
            }
        }
    }
}
