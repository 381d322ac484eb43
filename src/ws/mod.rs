//! WebSocket (RFC 6455): the opening handshake, the frame codec, the sans-IO connection, the
//! callback handle and its hooks, per-route behaviors, what a route hands the loop, and
//! pub/sub topics. Files import in this order, never back: `settings`, `codec`, `utf8`,
//! `conn`, `pubsub`, `handshake` -> `handle` -> `route` -> `upgrade` -> `behavior`, `session`.

pub(crate) mod behavior;
pub(crate) mod codec;
pub(crate) mod conn;
pub(crate) mod handle;
pub(crate) mod handshake;
pub(crate) mod pubsub;
pub(crate) mod remote;
pub(crate) mod route;
pub(crate) mod session;
pub(crate) mod settings;
pub(crate) mod upgrade;
mod utf8;

pub use behavior::WebSocketBehavior;
pub use codec::OpCode;
pub use handle::{SendStatus, WebSocket};
pub use pubsub::Publisher;
pub use remote::WebSocketHandle;
pub use upgrade::UpgradeContext;
