//! WebSocket (RFC 6455): the opening handshake, the frame codec, the sans-IO connection, the
//! callback handle and its hooks, per-route behaviors, what a route hands the loop, pub/sub
//! topics, handles for other threads and endpoints with an encoding. Files import in this
//! order, never back: `codec`, `deflate`, `settings`, `utf8`, `conn`, `pubsub`, `handshake`, `remote` ->
//! `handle` -> `route` -> `upgrade` -> `behavior`, `session` -> `endpoint`.

pub(crate) mod behavior;
pub(crate) mod codec;
pub(crate) mod conn;
pub(crate) mod deflate;
pub(crate) mod endpoint;
pub(crate) mod handle;
pub(crate) mod handshake;
pub(crate) mod pubsub;
pub(crate) mod remote;
pub(crate) mod route;
pub(crate) mod session;
pub(crate) mod settings;
pub(crate) mod side;
pub(crate) mod subscriptions;
pub(crate) mod upgrade;
mod utf8;

pub use behavior::WebSocketBehavior;
pub use codec::OpCode;
pub use deflate::options::{CompressOptions, Compressor, Decompressor};
pub use endpoint::{Decode, UNSUPPORTED_DATA, WebSocketEndpoint};
pub use handle::{SendStatus, WebSocket};
pub use pubsub::{Inbound, PubSubBridge, Publisher};
pub use remote::WebSocketHandle;
pub use upgrade::UpgradeContext;
