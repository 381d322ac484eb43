//! What a loop serves: the one thing the loop knows of the app above it.

use crate::config::Config;
use crate::error::HandlerError;
use crate::http::conn::Dispatch;

/// What a loop serves: it dispatches HTTP requests, has limits, and hears failures in user
/// code that no response can carry (a panicking WebSocket callback).
pub(crate) trait Service: Dispatch + Send + Sync + 'static {
    /// Limits and timeouts.
    fn config(&self) -> &Config;
    /// A failure with no response to answer on (the socket is already upgraded).
    fn report(&self, error: &HandlerError);
}
