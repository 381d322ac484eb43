//! The seeds' WebSocket message layers, on top of WebSocket routes: named request/response
//! routes with request ids and status codes (django-channels-router), and channels and
//! actions (SocketAPI). Each speaks its seed's
//! wire format, so an existing front end can switch its backend unchanged.

pub(crate) mod channels;
pub(crate) mod named;

pub use channels::{ChannelOptions, ChannelPusher, Channels, Subscribed};
pub use named::{Headers, NamedRoutes, Reply};
