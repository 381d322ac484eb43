//! A WebSocket route's limits and timers, with uWebSockets' defaults (a leaf: plain data).

use std::time::Duration;

use super::deflate::options::CompressOptions;

/// Limits and timers of one WebSocket route, with uWebSockets' defaults.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) max_payload_length: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_backpressure: usize,
    pub(crate) close_on_backpressure_limit: bool,
    pub(crate) reset_idle_timeout_on_send: bool,
    pub(crate) send_pings_automatically: bool,
    pub(crate) max_lifetime: Option<Duration>,
    pub(crate) compression: CompressOptions,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_payload_length: 16 * 1024,
            idle_timeout: Duration::from_secs(120),
            max_backpressure: 64 * 1024,
            close_on_backpressure_limit: false,
            reset_idle_timeout_on_send: false,
            send_pings_automatically: true,
            max_lifetime: None,
            compression: CompressOptions::DISABLED,
        }
    }
}
