//! What a loop serves: the one thing the loop knows of the app above it.

use crate::config::Config;
use crate::http::conn::Dispatch;

/// What a loop serves: it dispatches HTTP requests (and hears failures in user code that no
/// response can carry, [`Dispatch::report`]) and has limits.
pub(crate) trait Service: Dispatch + Send + Sync + 'static {
    /// Limits and timeouts.
    fn config(&self) -> &Config;
    /// Runs a loop thread's `run` inside what the service needs around it (an async
    /// runtime entered for the thread's life).
    fn run_loop(&self, run: &mut dyn FnMut()) {
        run();
    }
}
