//! Limits and timeouts, with their defaults and units.

use std::time::Duration;

/// Server limits and timeouts shared by every event loop.
///
/// Every field has a documented default; build one with [`Config::default`] and adjust the
/// fields you need, then hand it to [`App::config`](crate::App::config).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Event-loop threads, one per core. Default: `std::thread::available_parallelism()`.
    pub threads: usize,
    /// Largest request head (request line + header section), in bytes. Beyond it the
    /// request is answered `431` (or `414` while still in the request line). Default 8 KiB.
    pub max_head_bytes: usize,
    /// Most header fields in one request; one more is answered `431`. Default 100.
    pub max_header_fields: usize,
    /// Longest request target (RFC 9112 section 3.2), in bytes; longer is answered `414`.
    /// Default 8 KiB.
    pub max_request_target_bytes: usize,
    /// Largest request body, in bytes (`Content-Length` or de-chunked total); larger is
    /// answered `413 Content Too Large` (RFC 9110 section 15.5.14). Default 1 MiB.
    pub max_body_bytes: u64,
    /// How long a client may take to send a whole request head, from its first byte.
    /// A client dribbling its head is cut off after this. On a TLS listener it also bounds
    /// the handshake, from accept to its end. Default 10 s.
    pub header_read_timeout: Duration,
    /// How long an idle keep-alive connection (or a stalled request body) is kept. Default 10 s.
    pub idle_timeout: Duration,
    /// Listen backlog passed to `listen(2)`. Default 2048 (at least 1024).
    pub backlog: i32,
    /// How long in-flight requests (and WebSocket closing handshakes) may go on after a
    /// shutdown starts ([`Server::shutdown`](crate::Server::shutdown), or `SIGTERM`/`SIGINT`
    /// with [`App::listen`](crate::App::listen)) before their connections are closed, at
    /// whole-second resolution. Default 10 s.
    pub shutdown_timeout: Duration,
    /// Most requests pipelined behind one whose answer comes later (a deferred response,
    /// an async handler) that are dispatched before it completes. Only requests with safe
    /// methods (GET, HEAD, OPTIONS, TRACE), without a body, behind a safe one, are
    /// (RFC 9112 section 9.3.2); their responses are held back and sent in order. The
    /// others wait their turn. 0 turns parallel processing off. Default 32.
    pub parallel_pipelined: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_head_bytes: 8 * 1024,
            max_header_fields: 100,
            max_request_target_bytes: 8 * 1024,
            max_body_bytes: 1024 * 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            backlog: 2048,
            shutdown_timeout: Duration::from_secs(10),
            parallel_pipelined: 32,
        }
    }
}
