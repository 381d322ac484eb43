//! The one interface between the loop and a connection's protocol (DESIGN.md "Layers"): feed
//! it input; ask what comes next after I/O; tell it the socket is writable, a timer fired,
//! or the socket closed. The loop holds a `Proto` and never looks inside it.

use std::net::SocketAddr;
use std::sync::Arc;

use super::policy::{self, After, Facts, Fired, HttpView, WsView};
use super::service::Service;
use super::timer::Armed;
use crate::error::HandlerError;
use crate::http::answer::answer_late;
use crate::http::conn::{HttpConn, Io, Next};
use crate::http::letter::{Courier, Home, Op, Ticket};
use crate::net::proxy::{ProxyHeader, read_header};
use crate::net::wire::Wire;
use crate::stats::{LoopStats, bump};
use crate::ws::codec::OpCode;
use crate::ws::pubsub::{Hub, LoopTopics};
use crate::ws::remote::{WsCourier, WsOp, WsTicket};
use crate::ws::route::Accepted;
use crate::ws::session::{Env, WsState};
use crate::ws::side::Side;

/// Backpressure above which the loop stops reading more requests from a socket, in bytes.
pub(crate) const READ_PAUSE_BYTES: usize = 256 * 1024;

/// What the loop lends a protocol for one call, besides the socket itself.
pub(crate) struct Lent<'a, S> {
    /// The loop's cork buffer (tier 1 of DESIGN.md's writing).
    pub(crate) cork: &'a mut Vec<u8>,
    /// The cached `Date: ...\r\n` line.
    pub(crate) date: &'a [u8],
    pub(crate) service: &'a S,
    pub(crate) topics: &'a mut LoopTopics,
    pub(crate) hub: &'a Hub,
    /// This loop's index in the hub.
    pub(crate) at: usize,
    /// The server is shutting down.
    pub(crate) stopping: bool,
    /// The loop's mailbox, for responses answered later and WebSocket handles.
    pub(crate) courier: &'a Arc<dyn Courier>,
    pub(crate) ws_courier: &'a Arc<dyn WsCourier>,
    /// Side tables of the WebSockets (tickets, route parameters).
    pub(crate) side: &'a mut Side,
    /// The loop's counters.
    pub(crate) stats: &'a LoopStats,
}

/// The socket a protocol call is about.
pub(crate) struct Conn<'a> {
    pub(crate) wire: &'a mut Wire,
    pub(crate) key: usize,
    pub(crate) remote: SocketAddr,
}

/// The protocol a connection speaks: a PROXY protocol header first on listeners that ask for
/// one, then HTTP/1.1 until a protocol switch, then WebSocket.
pub(crate) enum Proto {
    /// Waiting for the PROXY header; `true` once what arrived cannot be one (the
    /// connection closes).
    Proxy(bool),
    Http(HttpConn),
    Ws(WsState),
}

impl Proto {
    /// A new connection's protocol.
    pub(crate) fn http() -> Proto {
        Proto::Http(HttpConn::new())
    }

    /// A new connection of a listener that reads a PROXY protocol header first.
    pub(crate) fn proxy() -> Proto {
        Proto::Proxy(false)
    }

    /// Whether more input should be read now: the protocol still reads, and no more than
    /// its pause threshold waits for the kernel (input that would only produce output the
    /// client does not read stays in the kernel, which pushes back on the client). `stashed`:
    /// received bytes not consumed yet; requests pipelined behind a response answered later
    /// wait there up to the same threshold.
    pub(crate) fn wants_input(&self, wire: &Wire, stashed: usize) -> bool {
        let reads = match self {
            Proto::Http(http) => {
                http.next() == Next::Serve && (stashed < READ_PAUSE_BYTES || !http.awaits_answer())
            }
            Proto::Ws(ws) => !ws.is_aborted() && ws.may_read(),
            Proto::Proxy(failed) => !failed,
        };
        reads && wire.refused() < self.read_pause()
    }

    /// Bytes waiting for the kernel at which reading pauses.
    pub(crate) fn read_pause(&self) -> usize {
        match self {
            Proto::Http(_) | Proto::Proxy(_) => READ_PAUSE_BYTES,
            Proto::Ws(ws) => ws_read_pause(ws),
        }
    }

    /// Feeds received bytes; returns how many were used. The rest must be offered again
    /// with more input.
    pub(crate) fn feed<S: Service>(
        &mut self,
        input: &mut [u8],
        conn: Conn<'_>,
        lent: &mut Lent<'_, S>,
    ) -> usize {
        match self {
            Proto::Http(http) => {
                // Lent to the protocol while it runs; given back below.
                let server_name = conn.wire.transport.take_server_name();
                let service = lent.service;
                let used = {
                    let mut io = http_io(conn.wire, conn.key, conn.remote, lent);
                    io.server_name = server_name.as_deref();
                    http.process(input, &mut io, service)
                };
                conn.wire.transport.give_back_server_name(server_name);
                used
            }
            Proto::Ws(ws) => {
                let pause_at = ws_read_pause(ws);
                with_env(conn, lent, |env| ws.feed(input, env, pause_at))
            }
            Proto::Proxy(failed) => match read_header(input) {
                ProxyHeader::Incomplete => 0,
                ProxyHeader::Invalid => {
                    *failed = true;
                    input.len()
                }
                ProxyHeader::Complete { len, source } => {
                    *self = Proto::Http(HttpConn::with_proxied(source));
                    len + self.feed(&mut input[len..], conn, lent)
                }
            },
        }
    }

    /// What becomes of the socket after I/O (its output flushed). `stash_empty`: no
    /// received input waits.
    pub(crate) fn after(
        &mut self,
        facts: Facts,
        armed: Armed,
        now: u32,
        stash_empty: bool,
        config: &crate::config::Config,
    ) -> After {
        match self {
            Proto::Http(http) => {
                let between = http.is_idle();
                let view = HttpView {
                    next: http.next(),
                    idle: between && stash_empty,
                    head_started: between && !stash_empty,
                    in_body: http.in_body(),
                };
                policy::http_after(view, facts, armed, now, config)
            }
            // The header is bounded by the timer armed at accept (the header-read timeout).
            Proto::Proxy(failed) => match *failed || facts.peer_closed {
                true => After::Close,
                false => After::Keep(armed),
            },
            Proto::Ws(ws) => {
                let view = WsView {
                    aborted: ws.is_aborted(),
                    close_state: ws.close_state(),
                };
                let settings = *ws.settings();
                policy::ws_after(view, &mut ws.clock, &settings, facts, armed, now)
            }
        }
    }

    /// Whether a handler accepted a protocol switch that the loop has not carried out yet.
    pub(crate) fn switching(&self) -> bool {
        matches!(self, Proto::Http(http) if http.next() == Next::Switch)
    }

    /// Carries out an accepted protocol switch: the socket becomes a WebSocket and its
    /// `open` callback runs. Returns the timers to arm, or `None` when there was nothing
    /// to switch to (the connection should close).
    pub(crate) fn switch<S: Service>(
        &mut self,
        conn: Conn<'_>,
        lent: &mut Lent<'_, S>,
        now: u32,
    ) -> Option<Armed> {
        let Proto::Http(http) = self else {
            return None;
        };
        let accepted = match http.take_switch()?.downcast::<Accepted>() {
            Ok(accepted) => accepted,
            Err(_) => {
                log::error!("a protocol switch this loop does not speak; closing");
                return None;
            }
        };
        let mut accepted = *accepted;
        if let Some(params) = accepted.params.take() {
            lent.side.set_params(conn.key, params);
        }
        if let Some(proxied) = http.proxied() {
            lent.side.set_proxied(conn.key, proxied);
        }
        bump(&lent.stats.websockets_opened);
        let mut ws = WsState::new(accepted);
        let (clock, armed) = policy::ws_opened(ws.settings(), now);
        ws.clock = clock;
        with_env(conn, lent, |env| ws.open(env));
        *self = Proto::Ws(ws);
        Some(armed)
    }

    /// Buffered bytes went out: a WebSocket's `drain` callback runs, or a streaming HTTP
    /// response's `on_writable`.
    pub(crate) fn writable<S: Service>(&mut self, conn: Conn<'_>, lent: &mut Lent<'_, S>) {
        match self {
            Proto::Ws(ws) => with_env(conn, lent, |env| ws.drained(env)),
            Proto::Http(http) => {
                let service = lent.service;
                http.writable(
                    &mut http_io(conn.wire, conn.key, conn.remote, lent),
                    service,
                );
            }
            Proto::Proxy(_) => {}
        }
    }

    /// Applies the calls of a deferred response's handle, or runs what still matters of
    /// them (a late `on_aborted`) when its response is over.
    pub(crate) fn answer<S: Service>(
        &mut self,
        ticket: &Arc<Ticket>,
        ops: Vec<Op>,
        conn: Conn<'_>,
        lent: &mut Lent<'_, S>,
    ) {
        let service = lent.service;
        let ops = match self {
            Proto::Http(http) => {
                let mut io = http_io(conn.wire, conn.key, conn.remote, lent);
                match http.answer(ticket, ops, &mut io, service) {
                    Ok(()) => return,
                    Err(ops) => ops,
                }
            }
            Proto::Ws(_) | Proto::Proxy(_) => ops,
        };
        answer_late(ticket, ops, service);
    }

    /// A call made through a WebSocket's handle (nothing if the socket is not that
    /// WebSocket any more).
    pub(crate) fn remote<S: Service>(
        &mut self,
        ticket: &Arc<WsTicket>,
        op: WsOp,
        conn: Conn<'_>,
        lent: &mut Lent<'_, S>,
    ) {
        if let Proto::Ws(ws) = self {
            with_env(conn, lent, |env| ws.remote(env, ticket, op));
        }
    }

    /// Whether an HTTP response's answer comes later (requests behind it wait).
    pub(crate) fn awaits_answer(&self) -> bool {
        matches!(self, Proto::Http(http) if http.awaits_answer())
    }

    /// A published message was not delivered (over `max_backpressure`): a WebSocket's
    /// `dropped` callback runs.
    pub(crate) fn dropped<S: Service>(
        &mut self,
        conn: Conn<'_>,
        lent: &mut Lent<'_, S>,
        message: &[u8],
        opcode: OpCode,
    ) {
        if let Proto::Ws(ws) = self {
            with_env(conn, lent, |env| ws.dropped(env, message, opcode));
        }
    }

    /// The socket's timer fired at `now` (`armed` was its timer): what the loop does.
    pub(crate) fn timer_fired<S: Service>(
        &mut self,
        armed: Armed,
        now: u32,
        conn: Conn<'_>,
        lent: &mut Lent<'_, S>,
    ) -> Fired {
        let Proto::Ws(ws) = self else {
            return Fired::Close;
        };
        if armed.timer != super::timer::Timer::Idle {
            return Fired::Close;
        }
        let settings = *ws.settings();
        let fired = policy::ws_fired(&ws.clock, &settings, now);
        match fired {
            Fired::End(code) => with_env(conn, lent, |env| ws.end(env, code, "")),
            Fired::Ping => {
                if !with_env(conn, lent, |env| ws.auto_ping(env)) {
                    return Fired::Close;
                }
                ws.clock.idle_end = policy::idle_deadline(now, settings.idle_timeout);
            }
            Fired::Close | Fired::Rearm => {}
        }
        fired
    }

    /// The server is shutting down: a WebSocket starts its closing handshake with 1001
    /// ("going away"); true when this is an HTTP connection between requests, which
    /// should close now.
    pub(crate) fn going_away<S: Service>(
        &mut self,
        conn: Conn<'_>,
        lent: &mut Lent<'_, S>,
    ) -> bool {
        match self {
            Proto::Proxy(_) => true,
            Proto::Http(http) => http.going_away(),
            Proto::Ws(ws) => {
                with_env(conn, lent, |env| {
                    ws.end(env, GOING_AWAY, "server shutting down")
                });
                false
            }
        }
    }

    /// The socket is about to be dropped: a WebSocket's `close` callback runs (1006) if it
    /// has not.
    pub(crate) fn closed<S: Service>(&mut self, conn: Conn<'_>, lent: &mut Lent<'_, S>) {
        match self {
            Proto::Ws(ws) => with_env(conn, lent, |env| ws.closed(env)),
            Proto::Http(http) => http.closed(lent.service),
            Proto::Proxy(_) => {}
        }
    }

    /// The socket's WebSocket state, if it is one (for pub/sub fan-out).
    pub(crate) fn ws_mut(&mut self) -> Option<&mut WsState> {
        match self {
            Proto::Ws(ws) => Some(ws),
            Proto::Http(_) | Proto::Proxy(_) => None,
        }
    }
}

/// A WebSocket's read pause: its `max_backpressure` (a message it lets through is then never
/// dropped by `send`), at most the loop's.
fn ws_read_pause(ws: &WsState) -> usize {
    ws.settings().max_backpressure.clamp(1, READ_PAUSE_BYTES)
}

/// Close code sent to every WebSocket when the server shuts down ("going away").
const GOING_AWAY: u16 = 1001;

/// What an HTTP call borrows: the loop's cork, the socket's write side, its home for
/// answers that come later (no TLS server name: only a new request needs it).
fn http_io<'a, S: Service>(
    wire: &'a mut Wire,
    key: usize,
    remote: SocketAddr,
    lent: &'a mut Lent<'_, S>,
) -> Io<'a> {
    Io {
        out: lent.cork,
        link: wire,
        date: lent.date,
        config: lent.service.config(),
        remote,
        shutting_down: lent.stopping,
        server_name: None,
        home: Home {
            courier: lent.courier,
            key,
            stats: lent.stats,
        },
    }
}

/// Runs `f` with the WebSocket environment of `conn`: the loop's cork and topics, the
/// socket's write side, and the app's error handler.
fn with_env<S: Service, R>(
    conn: Conn<'_>,
    lent: &mut Lent<'_, S>,
    f: impl FnOnce(&mut Env<'_>) -> R,
) -> R {
    let service = lent.service;
    let report = |error: &HandlerError| service.report(error);
    let mut env = Env {
        cork: &mut *lent.cork,
        link: conn.wire,
        topics: &mut *lent.topics,
        hub: lent.hub,
        at: lent.at,
        key: conn.key,
        remote: conn.remote,
        report: &report,
        side: &mut *lent.side,
        stats: lent.stats,
        courier: lent.ws_courier,
    };
    f(&mut env)
}
