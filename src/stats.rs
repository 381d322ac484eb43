//! Counters (issue: production operations): each loop counts what it does in its own
//! [`LoopStats`], written by that loop alone with a plain load and store (no lock, no locked
//! instruction: the cost of an add), read by any thread; [`Counters`] is their sum, a
//! snapshot taken by [`Server::counters`](crate::Server::counters).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// Statuses of the protocol errors answered before any handler, in [`Counters::bad_requests`]
/// order.
pub(crate) const BAD_REQUEST_STATUSES: [u16; 6] = [400, 413, 414, 431, 501, 505];

/// One loop's counters.
#[derive(Debug, Default)]
pub(crate) struct LoopStats {
    pub(crate) connections_opened: AtomicU64,
    pub(crate) connections_closed: AtomicU64,
    pub(crate) requests: AtomicU64,
    /// Responses by status class, `1xx` to `5xx`.
    pub(crate) responses: [AtomicU64; 5],
    /// Protocol errors, by [`BAD_REQUEST_STATUSES`].
    pub(crate) bad_requests: [AtomicU64; 6],
    pub(crate) websockets_opened: AtomicU64,
    pub(crate) websockets_closed: AtomicU64,
    pub(crate) messages_received: AtomicU64,
    pub(crate) messages_sent: AtomicU64,
    pub(crate) messages_dropped: AtomicU64,
}

/// Adds one to a counter of the calling loop (its only writer).
#[inline]
pub(crate) fn bump(counter: &AtomicU64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

impl LoopStats {
    /// Counts a response whose status code starts with the digit `class` (`b'2'` for
    /// 2xx).
    #[inline]
    pub(crate) fn response(&self, class: u8) {
        if let b'1'..=b'5' = class {
            bump(&self.responses[usize::from(class - b'1')]);
        }
    }

    /// Counts a protocol error answered with `status`.
    pub(crate) fn bad_request(&self, status: u16) {
        if let Some(i) = BAD_REQUEST_STATUSES.iter().position(|&s| s == status) {
            bump(&self.bad_requests[i]);
        }
        self.response(b'0' + (status / 100) as u8);
    }
}

/// A snapshot of a server's counters, summed over its loops (each read without a lock, so
/// the sum is not one instant: counters may be a few events apart). Counts since the server
/// started, except the two `_open` gauges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Connections open now (HTTP and WebSocket, TLS included).
    pub connections_open: u64,
    /// Connections accepted.
    pub connections_total: u64,
    /// Requests whose head was parsed and dispatched.
    pub requests: u64,
    /// Responses by status class: `[1xx, 2xx, 3xx, 4xx, 5xx]` (`101` upgrades are `1xx`).
    pub responses: [u64; 5],
    /// Requests refused before any handler, by status: `[400, 413, 414, 431, 501, 505]`
    /// (also counted in `responses`).
    pub bad_requests: [u64; 6],
    /// WebSockets open now.
    pub websockets_open: u64,
    /// WebSockets opened.
    pub websockets_total: u64,
    /// WebSocket messages received (whole messages, after reassembly).
    pub messages_received: u64,
    /// WebSocket messages sent (`send` and published messages queued to a socket).
    pub messages_sent: u64,
    /// WebSocket messages not sent because the socket was over `max_backpressure` (sends
    /// returning `Dropped`, publishes skipped).
    pub messages_dropped: u64,
}

impl Counters {
    /// Sums the counters of `loops`.
    pub(crate) fn sum<'a>(loops: impl IntoIterator<Item = &'a LoopStats>) -> Counters {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut total = Counters::default();
        let (mut opened, mut closed, mut ws_opened, mut ws_closed) = (0u64, 0u64, 0u64, 0u64);
        for s in loops {
            opened += read(&s.connections_opened);
            closed += read(&s.connections_closed);
            ws_opened += read(&s.websockets_opened);
            ws_closed += read(&s.websockets_closed);
            total.requests += read(&s.requests);
            for (sum, c) in total.responses.iter_mut().zip(&s.responses) {
                *sum += read(c);
            }
            for (sum, c) in total.bad_requests.iter_mut().zip(&s.bad_requests) {
                *sum += read(c);
            }
            total.messages_received += read(&s.messages_received);
            total.messages_sent += read(&s.messages_sent);
            total.messages_dropped += read(&s.messages_dropped);
        }
        total.connections_total = opened;
        total.connections_open = opened.saturating_sub(closed);
        total.websockets_total = ws_opened;
        total.websockets_open = ws_opened.saturating_sub(ws_closed);
        total
    }

    /// The counters in the Prometheus text exposition format (version 0.0.4), metric names
    /// prefixed `uweb_`, for a `/metrics` route (serve it with `Content-Type: text/plain;
    /// version=0.0.4`).
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, rows: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP uweb_{name} {help}\n# TYPE uweb_{name} {kind}");
            for (labels, value) in rows {
                let _ = writeln!(out, "uweb_{name}{labels} {value}");
            }
        };
        metric(
            "connections_open",
            "gauge",
            "Connections open now.",
            &[("", self.connections_open)],
        );
        metric(
            "connections_total",
            "counter",
            "Connections accepted.",
            &[("", self.connections_total)],
        );
        metric(
            "requests_total",
            "counter",
            "Requests dispatched.",
            &[("", self.requests)],
        );
        let classes = ["1xx", "2xx", "3xx", "4xx", "5xx"].map(|c| format!("{{class=\"{c}\"}}"));
        let rows: Vec<(&str, u64)> = classes
            .iter()
            .map(String::as_str)
            .zip(self.responses)
            .collect();
        metric(
            "responses_total",
            "counter",
            "Responses by status class.",
            &rows,
        );
        let statuses = BAD_REQUEST_STATUSES.map(|s| format!("{{status=\"{s}\"}}"));
        let rows: Vec<(&str, u64)> = statuses
            .iter()
            .map(String::as_str)
            .zip(self.bad_requests)
            .collect();
        metric(
            "bad_requests_total",
            "counter",
            "Requests refused before any handler.",
            &rows,
        );
        metric(
            "websockets_open",
            "gauge",
            "WebSockets open now.",
            &[("", self.websockets_open)],
        );
        metric(
            "websockets_total",
            "counter",
            "WebSockets opened.",
            &[("", self.websockets_total)],
        );
        metric(
            "messages_received_total",
            "counter",
            "WebSocket messages received.",
            &[("", self.messages_received)],
        );
        metric(
            "messages_sent_total",
            "counter",
            "WebSocket messages sent.",
            &[("", self.messages_sent)],
        );
        metric(
            "messages_dropped_total",
            "counter",
            "WebSocket messages dropped over max_backpressure.",
            &[("", self.messages_dropped)],
        );
        out
    }
}

/// Reads a server's [`Counters`] from anywhere, before or after it starts: from
/// [`App::counters`](crate::App::counters), for a `/metrics` handler of the same app. Cheap
/// to clone; all zeros until the server runs.
#[derive(Clone, Debug, Default)]
pub struct CountersHandle {
    loops: Arc<OnceLock<Vec<Arc<LoopStats>>>>,
}

impl CountersHandle {
    /// Attaches the running server's loops.
    pub(crate) fn attach(&self, loops: Vec<Arc<LoopStats>>) {
        let _ = self.loops.set(loops);
    }

    /// A snapshot of the counters (see [`Counters`]).
    pub fn read(&self) -> Counters {
        match self.loops.get() {
            Some(loops) => Counters::sum(loops.iter().map(|s| &**s)),
            None => Counters::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_gauges() {
        let (a, b) = (LoopStats::default(), LoopStats::default());
        bump(&a.connections_opened);
        bump(&a.connections_opened);
        bump(&b.connections_opened);
        bump(&a.connections_closed);
        a.response(b'2');
        b.response(b'4');
        b.bad_request(431);
        let total = Counters::sum([&a, &b]);
        assert_eq!((total.connections_open, total.connections_total), (2, 3));
        assert_eq!(total.responses, [0, 1, 0, 2, 0]);
        assert_eq!(total.bad_requests, [0, 0, 0, 1, 0, 0]);
        let text = total.prometheus();
        assert!(
            text.contains("uweb_responses_total{class=\"4xx\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE uweb_connections_open gauge\nuweb_connections_open 2\n"));
    }
}
