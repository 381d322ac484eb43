//! The event loops: one thread per core, each with its own `mio::Poll` and listeners,
//! generic over the [`Service`] they serve (monomorphised: no dynamic dispatch on the hot
//! path). The loop drives protocols through one narrow interface (`proto.rs`); when to
//! close and which timer to arm is decided by pure functions (`policy.rs`).

mod date;
pub(crate) mod listener;
mod policy;
mod proto;
mod server;
mod socket;
mod worker;

pub use server::Server;

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
