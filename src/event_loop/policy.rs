//! Timer and close policy: after I/O and when a timer fires, what becomes of a socket, as pure
//! functions of (protocol state, facts the loop read, now, settings). No clock, no socket:
//! unit-tested below with a fake clock, so the wall-clock tests need only smoke the wiring.

use std::time::Duration;

use super::timer::{Armed, Timer};
use crate::config::Config;
use crate::http::conn::Next;
use crate::ws::conn::CloseState;
use crate::ws::session::IdleClock;
use crate::ws::settings::Settings;

/// Seconds we wait for a peer to close after our close (lingering close), or for the peer's
/// WebSocket close frame after ours.
pub(crate) const LINGER_SECS: u32 = 2;
/// Close code of `max_lifetime` ("normal closure").
pub(crate) const NORMAL: u16 = 1000;

/// What the loop read off a socket after I/O.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    /// Nothing waits to be written (no refused bytes, no queued frames).
    pub(crate) drained: bool,
    /// The peer shut down its sending side.
    pub(crate) peer_closed: bool,
    /// A TLS handshake is in progress.
    pub(crate) handshaking: bool,
    /// The server is shutting down.
    pub(crate) stopping: bool,
    /// Bytes arrived in this I/O step.
    pub(crate) received: bool,
}

/// Where an HTTP connection stands, as the policy needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HttpView {
    pub(crate) next: Next,
    /// Between requests with no pending input: keep-alive idle.
    pub(crate) idle: bool,
    /// Part of a request head has arrived (the connection is otherwise between requests).
    pub(crate) head_started: bool,
    /// A request body is being read.
    pub(crate) in_body: bool,
}

/// Where a WebSocket stands, as the policy needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WsView {
    pub(crate) aborted: bool,
    pub(crate) close_state: CloseState,
}

/// What becomes of a socket after I/O.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    /// Keep it, with this timer.
    Keep(Armed),
    /// Close it now.
    Close,
    /// Our side is done: half-close (once), then wait until this deadline for the peer's
    /// close, discarding what it sends.
    Linger(u32),
    /// Switch protocol (HTTP to WebSocket), then read on.
    Switch,
}

/// What a fired timer does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fired {
    /// Close the connection.
    Close,
    /// Start the WebSocket closing handshake with this code (`max_lifetime`).
    End(u16),
    /// Send an automatic ping; the idle timer restarts from `now`.
    Ping,
    /// Nothing is due (a deadline moved since the timer was armed).
    Rearm,
}

/// The loop second by which `timeout` has surely passed (the clock is coarse, so round up).
pub(crate) fn deadline(now: u32, timeout: Duration) -> u32 {
    let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    now.saturating_add(u32::try_from(secs).unwrap_or(u32::MAX))
        .saturating_add(1)
}

/// The loop second an idle timer of `timeout` fires; never for a zero timeout.
pub(crate) fn idle_deadline(now: u32, timeout: Duration) -> u32 {
    if timeout.is_zero() {
        u32::MAX
    } else {
        deadline(now, timeout)
    }
}

/// The timers of a WebSocket that opens at `now`.
pub(crate) fn ws_opened(settings: &Settings, now: u32) -> (IdleClock, Armed) {
    let clock = IdleClock {
        idle_end: idle_deadline(now, settings.idle_timeout),
        lifetime_end: settings
            .max_lifetime
            .map_or(u32::MAX, |lifetime| deadline(now, lifetime)),
        ..IdleClock::default()
    };
    let armed = Armed {
        timer: Timer::Idle,
        deadline: clock.idle_end.min(clock.lifetime_end),
    };
    (clock, armed)
}

/// An HTTP connection after I/O (its output flushed).
pub(crate) fn http_after(
    http: HttpView,
    facts: Facts,
    armed: Armed,
    now: u32,
    config: &Config,
) -> After {
    match http.next {
        Next::Switch => return After::Switch,
        Next::Abort => return After::Close,
        _ => {}
    }
    // A peer that shut down its side gets what is already written, then the socket goes.
    if facts.peer_closed && facts.drained || http.idle && facts.stopping {
        return After::Close;
    }
    if facts.peer_closed {
        return keep(Timer::Linger, deadline(now, config.idle_timeout));
    }
    if http.next == Next::CloseAfterFlush {
        // Half-close once everything is out, then wait for the peer: closing with unread
        // input would reset the connection and could destroy the response we just sent.
        return match facts.drained {
            true => After::Linger(now + LINGER_SECS),
            false => After::Keep(armed),
        };
    }
    if facts.handshaking {
        // The deadline set at accept stands: a dribbled handshake cannot extend it.
        return After::Keep(armed);
    }
    if http.idle || http.in_body {
        keep(Timer::Idle, deadline(now, config.idle_timeout))
    } else if http.head_started {
        // The clock started at the head's first byte.
        match armed.timer {
            Timer::HeadRead => After::Keep(armed),
            _ => keep(Timer::HeadRead, deadline(now, config.header_read_timeout)),
        }
    } else {
        After::Keep(Armed::OFF)
    }
}

/// A WebSocket after I/O (its output flushed); restarts its idle timer on traffic.
pub(crate) fn ws_after(
    ws: WsView,
    clock: &mut IdleClock,
    settings: &Settings,
    facts: Facts,
    armed: Armed,
    now: u32,
) -> After {
    if ws.aborted {
        return After::Close;
    }
    let wait_for_close = || match armed.timer {
        Timer::WsClose => After::Keep(armed),
        _ => keep(Timer::WsClose, now + LINGER_SECS),
    };
    match ws.close_state {
        // Our close frame is still queued: wait for WRITABLE, but not forever.
        CloseState::Done if !facts.drained => wait_for_close(),
        CloseState::Done if facts.peer_closed => After::Close,
        // The server closes the TCP connection first (RFC 6455 section 7.1.1): half-close,
        // then drain until the peer closes too.
        CloseState::Done => After::Linger(now + LINGER_SECS),
        CloseState::Sent if facts.peer_closed => After::Close,
        CloseState::Sent => wait_for_close(),
        // The TCP connection ended without a closing handshake.
        CloseState::Open if facts.peer_closed => After::Close,
        CloseState::Open => {
            if facts.received || clock.sent && settings.reset_idle_timeout_on_send {
                clock.idle_end = idle_deadline(now, settings.idle_timeout);
                if facts.received {
                    clock.pinged = false;
                }
            }
            clock.sent = false;
            keep(Timer::Idle, clock.idle_end.min(clock.lifetime_end))
        }
    }
}

/// A published message was queued for an open WebSocket at `now`: with
/// `reset_idle_timeout_on_send`, its idle timer restarts; returns the new deadline then.
pub(crate) fn ws_published(
    clock: &mut IdleClock,
    settings: &Settings,
    armed: Armed,
    now: u32,
) -> Option<Armed> {
    if !settings.reset_idle_timeout_on_send || armed.timer != Timer::Idle {
        return None;
    }
    clock.idle_end = idle_deadline(now, settings.idle_timeout);
    Some(Armed {
        timer: Timer::Idle,
        deadline: clock.idle_end.min(clock.lifetime_end),
    })
}

/// The `Idle` timer of an open WebSocket fired at `now`: end it at the end of its lifetime;
/// ping it once when silent past the idle timeout, and close it when silent past a ping.
pub(crate) fn ws_fired(clock: &IdleClock, settings: &Settings, now: u32) -> Fired {
    if clock.lifetime_end <= now {
        Fired::End(NORMAL)
    } else if clock.idle_end <= now {
        match settings.send_pings_automatically && !clock.pinged {
            true => Fired::Ping,
            false => Fired::Close,
        }
    } else {
        Fired::Rearm
    }
}

fn keep(timer: Timer, deadline: u32) -> After {
    After::Keep(Armed { timer, deadline })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config {
            idle_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(5),
            ..Config::default()
        }
    }

    const SERVE: HttpView = HttpView {
        next: Next::Serve,
        idle: true,
        head_started: false,
        in_body: false,
    };

    fn drained() -> Facts {
        Facts {
            drained: true,
            ..Facts::default()
        }
    }

    fn armed(timer: Timer, deadline: u32) -> Armed {
        Armed { timer, deadline }
    }

    #[test]
    fn keep_alive_idle_rearms_from_now_and_a_head_keeps_its_first_deadline() {
        let c = config();
        // Idle at second 100: fires 11 s later (10 s rounded up past the coarse tick).
        let after = http_after(SERVE, drained(), Armed::OFF, 100, &c);
        assert_eq!(after, keep(Timer::Idle, 111));
        // A head starts arriving at 100: 5 s from then...
        let started = HttpView {
            idle: false,
            head_started: true,
            ..SERVE
        };
        let first = http_after(started, drained(), armed(Timer::Idle, 111), 100, &c);
        assert_eq!(first, keep(Timer::HeadRead, 106));
        // ...and a dribbled byte at 104 does not extend it.
        let later = http_after(started, drained(), armed(Timer::HeadRead, 106), 104, &c);
        assert_eq!(later, keep(Timer::HeadRead, 106));
        // A body being read counts as idle time between its bytes.
        let body = HttpView {
            idle: false,
            in_body: true,
            ..SERVE
        };
        assert_eq!(
            http_after(body, drained(), Armed::OFF, 7, &c),
            keep(Timer::Idle, 18)
        );
        // Producing a response: no timer.
        let busy = HttpView {
            idle: false,
            ..SERVE
        };
        assert_eq!(
            http_after(busy, drained(), Armed::OFF, 7, &c),
            After::Keep(Armed::OFF)
        );
    }

    #[test]
    fn close_after_flush_lingers_only_once_drained() {
        let c = config();
        let closing = HttpView {
            next: Next::CloseAfterFlush,
            idle: false,
            ..SERVE
        };
        let waiting = armed(Timer::Off, u32::MAX);
        assert_eq!(
            http_after(closing, Facts::default(), waiting, 50, &c),
            After::Keep(waiting),
            "bytes still buffered: wait for WRITABLE"
        );
        assert_eq!(
            http_after(closing, drained(), waiting, 50, &c),
            After::Linger(50 + LINGER_SECS)
        );
    }

    #[test]
    fn abort_switch_peer_close_shutdown_and_handshake() {
        let c = config();
        let at = |next| HttpView { next, ..SERVE };
        assert_eq!(
            http_after(at(Next::Abort), drained(), Armed::OFF, 0, &c),
            After::Close
        );
        assert_eq!(
            http_after(at(Next::Switch), drained(), Armed::OFF, 0, &c),
            After::Switch
        );
        let peer_gone = Facts {
            peer_closed: true,
            ..drained()
        };
        assert_eq!(
            http_after(SERVE, peer_gone, Armed::OFF, 0, &c),
            After::Close
        );
        // The peer is gone but our response is still buffered: give it the idle timeout.
        let buffered = Facts {
            peer_closed: true,
            ..Facts::default()
        };
        assert_eq!(
            http_after(SERVE, buffered, Armed::OFF, 3, &c),
            keep(Timer::Linger, 14)
        );
        let stopping = Facts {
            stopping: true,
            ..drained()
        };
        assert_eq!(http_after(SERVE, stopping, Armed::OFF, 0, &c), After::Close);
        let handshake = Facts {
            handshaking: true,
            ..drained()
        };
        let accept = armed(Timer::HeadRead, 6);
        assert_eq!(
            http_after(SERVE, handshake, accept, 5, &c),
            After::Keep(accept)
        );
    }

    fn settings(idle: u64, pings: bool, lifetime: Option<u64>) -> Settings {
        Settings {
            idle_timeout: Duration::from_secs(idle),
            send_pings_automatically: pings,
            max_lifetime: lifetime.map(Duration::from_secs),
            ..Settings::default()
        }
    }

    const OPEN: WsView = WsView {
        aborted: false,
        close_state: CloseState::Open,
    };

    #[test]
    fn an_idle_websocket_is_pinged_once_then_closed() {
        let s = settings(120, true, None);
        let (mut clock, armed_at_open) = ws_opened(&s, 1000);
        assert_eq!(armed_at_open, armed(Timer::Idle, 1121));
        // Nothing due before the deadline.
        assert_eq!(ws_fired(&clock, &s, 1120), Fired::Rearm);
        assert_eq!(ws_fired(&clock, &s, 1121), Fired::Ping);
        // The loop pings and restarts the idle timer; silence again closes.
        clock.pinged = true;
        clock.idle_end = idle_deadline(1121, s.idle_timeout);
        assert_eq!(ws_fired(&clock, &s, 1242), Fired::Close);
        // A pong (any traffic) in between clears the ping and restarts the timer.
        let traffic = Facts {
            received: true,
            ..drained()
        };
        let after = ws_after(OPEN, &mut clock, &s, traffic, armed_at_open, 1200);
        assert_eq!(after, keep(Timer::Idle, 1321));
        assert!(!clock.pinged);
    }

    #[test]
    fn without_pings_an_idle_websocket_is_closed_and_zero_disables() {
        let s = settings(1, false, None);
        let (clock, armed) = ws_opened(&s, 0);
        assert_eq!(armed.deadline, 2);
        assert_eq!(ws_fired(&clock, &s, 2), Fired::Close);
        let off = settings(0, true, None);
        let (clock, armed) = ws_opened(&off, 0);
        assert_eq!(armed.deadline, u32::MAX);
        assert_eq!(ws_fired(&clock, &off, u32::MAX - 1), Fired::Rearm);
    }

    #[test]
    fn sending_restarts_the_idle_timer_only_when_configured() {
        let mut s = settings(10, true, None);
        let (mut clock, armed) = ws_opened(&s, 0);
        clock.sent = true;
        assert_eq!(
            ws_after(OPEN, &mut clock, &s, drained(), armed, 5),
            keep(Timer::Idle, 11)
        );
        assert!(!clock.sent, "the loop consumed the flag");
        s.reset_idle_timeout_on_send = true;
        clock.sent = true;
        assert_eq!(
            ws_after(OPEN, &mut clock, &s, drained(), armed, 5),
            keep(Timer::Idle, 16)
        );
    }

    #[test]
    fn publishes_restart_the_idle_timer_only_when_configured() {
        let mut s = settings(10, false, Some(100));
        let (mut clock, armed) = ws_opened(&s, 0);
        assert_eq!(ws_published(&mut clock, &s, armed, 5), None);
        s.reset_idle_timeout_on_send = true;
        let rearmed = ws_published(&mut clock, &s, armed, 5);
        assert_eq!(
            rearmed,
            Some(Armed {
                timer: Timer::Idle,
                deadline: 16
            })
        );
        // Never past the lifetime, and not while closing.
        assert_eq!(
            ws_published(&mut clock, &s, armed, 95).map(|a| a.deadline),
            Some(101)
        );
        let closing = Armed {
            timer: Timer::WsClose,
            deadline: 9,
        };
        assert_eq!(ws_published(&mut clock, &s, closing, 5), None);
    }

    #[test]
    fn max_lifetime_ends_with_1000_before_idle() {
        let s = settings(120, true, Some(30));
        let (clock, armed) = ws_opened(&s, 10);
        assert_eq!(armed.deadline, 41);
        assert_eq!(ws_fired(&clock, &s, 41), Fired::End(NORMAL));
    }

    #[test]
    fn closing_handshake_timers() {
        let s = settings(120, true, None);
        let (mut clock, open) = ws_opened(&s, 0);
        let sent = WsView {
            close_state: CloseState::Sent,
            ..OPEN
        };
        // Our close frame went out: wait 2 s for the peer's, not re-armed by traffic.
        let waiting = ws_after(sent, &mut clock, &s, drained(), open, 7);
        assert_eq!(waiting, keep(Timer::WsClose, 9));
        let After::Keep(waiting) = waiting else {
            unreachable!()
        };
        assert_eq!(
            ws_after(sent, &mut clock, &s, drained(), waiting, 8),
            After::Keep(waiting)
        );
        let done = WsView {
            close_state: CloseState::Done,
            ..OPEN
        };
        // Both closes exchanged: the server half-closes first, unless bytes are queued.
        assert_eq!(
            ws_after(done, &mut clock, &s, drained(), waiting, 8),
            After::Linger(10)
        );
        assert_eq!(
            ws_after(done, &mut clock, &s, Facts::default(), open, 8),
            keep(Timer::WsClose, 10)
        );
        let gone = Facts {
            peer_closed: true,
            ..drained()
        };
        for state in [CloseState::Open, CloseState::Sent, CloseState::Done] {
            let view = WsView {
                close_state: state,
                ..OPEN
            };
            assert_eq!(ws_after(view, &mut clock, &s, gone, open, 8), After::Close);
        }
        let aborted = WsView {
            aborted: true,
            ..OPEN
        };
        assert_eq!(
            ws_after(aborted, &mut clock, &s, drained(), open, 8),
            After::Close
        );
    }

    #[test]
    fn deadlines_round_up_and_saturate() {
        assert_eq!(deadline(10, Duration::from_millis(1500)), 13);
        assert_eq!(deadline(10, Duration::from_secs(1)), 12);
        assert_eq!(deadline(u32::MAX - 1, Duration::from_secs(5)), u32::MAX);
        assert_eq!(idle_deadline(10, Duration::ZERO), u32::MAX);
    }
}
