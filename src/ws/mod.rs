//! WebSocket (RFC 6455): the opening handshake, the frame codec, the sans-IO connection, the
//! callback handle, per-route behaviors and pub/sub topics.

pub(crate) mod behavior;
pub(crate) mod codec;
pub(crate) mod conn;
pub(crate) mod handshake;
pub(crate) mod pubsub;
pub(crate) mod session;
pub(crate) mod socket;
pub(crate) mod upgrade;
mod utf8;

pub use behavior::WebSocketBehavior;
pub use codec::OpCode;
pub use pubsub::Publisher;
pub use socket::{SendStatus, WebSocket};
pub(crate) use upgrade::PendingUpgrade;
pub use upgrade::UpgradeContext;
