//! What a WebSocket route hands the event loop: a behavior with its user-data type erased,
//! and, once a handler accepted a handshake, the socket's WebSocket side to switch to.

use std::any::Any;
use std::sync::Arc;

use super::deflate::negotiate::Agreement;
use super::handle::{Callback, Core};
use super::settings::Settings;
use super::side::RouteParams;

/// A behavior with its user-data type erased, shared by every loop.
pub(crate) trait ErasedBehavior: Send + Sync {
    /// The route's limits and timers.
    fn settings(&self) -> &Settings;
    /// Runs `callback` on the socket `core` whose user data is `user`.
    fn run<'a>(
        &'a self,
        core: &'a mut Core<'a>,
        user: &'a mut (dyn Any + Send),
        callback: Callback<'_>,
    );
}

/// A socket's WebSocket side, chosen by an accepted handshake: its route and user data. The
/// HTTP layer carries it as an opaque protocol switch until the loop takes it.
pub(crate) struct Accepted {
    /// The route's behavior (settings and callbacks).
    pub(crate) behavior: Arc<dyn ErasedBehavior>,
    pub(crate) user: Box<dyn Any + Send>,
    /// The route's parameters, when its pattern has some.
    pub(crate) params: Option<Box<RouteParams>>,
    /// The permessage-deflate agreement of the handshake, if one was negotiated.
    pub(crate) deflate: Option<Agreement>,
}

impl std::fmt::Debug for Accepted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accepted").finish_non_exhaustive()
    }
}
