//! # uweb
//!
//! A uWebSockets-style HTTP/1.1 server: one `mio` event loop per core, each with its own
//! `SO_REUSEPORT` listener; corked writes (everything one readable event produces leaves in one
//! `write`); a specificity-ordered router with `set_yield` fall-through; strict RFC 9112
//! parsing that answers bad input with the standard status and closes.
//!
//! A server on every core, blocking (as in uWebSockets' `listen`):
//!
//! ```no_run
//! use uweb::App;
//!
//! fn main() -> std::io::Result<()> {
//!     App::new()
//!         .get("/", |res, _req| res.end("Hello World!"))
//!         .get("/user/:id", |res, req| {
//!             let id = req.parameter("id").unwrap_or_default().to_owned();
//!             res.write_header("Content-Type", "text/plain").end(format!("user {id}"));
//!         })
//!         .any("/*", |res, _req| res.write_status("404 Not Found").end("Not Found"))
//!         .listen(3000)
//! }
//! ```
//!
//! The same in the background on an ephemeral port, as tests and embedders use it:
//!
//! ```
//! use std::io::{Read, Write};
//!
//! let server = uweb::App::new()
//!     .threads(1)
//!     .get("/user/:id", |res, req| {
//!         let id = req.parameter("id").unwrap_or_default().to_owned();
//!         res.end(format!("user {id}"));
//!     })
//!     .bind("127.0.0.1:0")?;
//!
//! let mut client = std::net::TcpStream::connect(server.local_addr())?;
//! client.write_all(b"GET /user/42 HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n")?;
//! let mut response = String::new();
//! client.read_to_string(&mut response)?;
//! assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(response.ends_with("\r\n\r\nuser 42"));
//!
//! server.shutdown();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## WebSockets
//!
//! [`App::ws`] adds an RFC 6455 route with a [`WebSocketBehavior`]: an optional `upgrade` hook
//! (refuse with any HTTP response, or upgrade with per-socket user data), then `open`,
//! `message`, `close` and the other callbacks, each handed a [`WebSocket`] that sends (corked),
//! ends, and subscribes and publishes to topics reaching every core:
//!
//! ```no_run
//! use std::time::Duration;
//! use uweb::{App, WebSocketBehavior};
//!
//! #[derive(Default)]
//! struct Session {
//!     room: String,
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     App::new()
//!         .ws::<Session>("/chat/:room", WebSocketBehavior::new()
//!             .max_payload_length(16 * 1024)
//!             .idle_timeout(Duration::from_secs(120))
//!             .upgrade(|res, req, ctx| {
//!                 let room = req.parameter("room").unwrap_or_default().to_owned();
//!                 if room == "private" {
//!                     return res.write_status("403 Forbidden").end("no");
//!                 }
//!                 res.upgrade(Session { room }, ctx);
//!             })
//!             .open(|ws| {
//!                 let room = ws.user_data().room.clone();
//!                 ws.subscribe(&room);
//!             })
//!             .message(|ws, msg, opcode| {
//!                 let room = ws.user_data().room.clone();
//!                 ws.publish(&room, msg, opcode);
//!             })
//!             .close(|_ws, _code, _reason| { /* called once per open socket */ }))
//!         .listen(3000)
//! }
//! ```
//!
//! An echo on an ephemeral port, with tungstenite as the client:
//!
//! ```
//! use uweb::{App, WebSocketBehavior};
//!
//! let server = App::new()
//!     .threads(1)
//!     .ws::<()>("/echo", WebSocketBehavior::new().message(|ws, msg, opcode| {
//!         ws.send(msg, opcode);
//!     }))
//!     .bind("127.0.0.1:0")?;
//!
//! let stream = std::net::TcpStream::connect(server.local_addr())?;
//! let url = format!("ws://{}/echo", server.local_addr());
//! let (mut client, _response) = tungstenite::client(url, stream).expect("handshake");
//! client.send(tungstenite::Message::text("hello")).expect("send");
//! assert_eq!(client.read().expect("echo"), tungstenite::Message::text("hello"));
//!
//! drop(client);
//! server.shutdown();
//! # Ok::<(), std::io::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs, rust_2018_idioms)]

mod app;
#[cfg(feature = "redis")]
mod bridge;
mod config;
mod error;
mod event_loop;
pub mod fs;
mod http;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals;
mod message;
mod net;
mod router;
#[cfg(feature = "tokio")]
mod runtime;
mod spares;
mod stats;
mod ws;

pub use ::http::{Extensions, Method};
#[cfg(feature = "tokio")]
pub use app::AsyncRequest;
pub use app::{App, EndpointResult, HandlerReturn, HttpEndpoint, Listen, Router};
#[cfg(feature = "redis")]
pub use bridge::{redis::RedisBridge, stats::BridgeStats};
pub use config::Config;
pub use error::{BoxError, HandlerError, Stage};
pub use event_loop::Server;
pub use http::collect::BodyError;
pub use http::compress::Compression;
pub use http::later::{DeferredResponse, LoopHandle};
pub use http::owned::OwnedRequest;
pub use http::request::HttpRequest;
pub use http::respond::{IntoResponse, Json, Response};
pub use http::response::HttpResponse;
pub use message::named::IntoReply;
pub use message::{
    ChannelOptions, ChannelPusher, Channels, Headers, NamedRoutes, Reply, Subscribed,
};
pub use net::sni::ServerNames;
pub use net::tls_config::TlsConfig;
pub use net::tls_error::TlsError;
pub use router::ParamKey;
pub use rustls_pki_types::{CertificateDer, PrivateKeyDer};
pub use stats::{Counters, CountersHandle};
pub use ws::{
    CompressOptions, Compressor, Decode, Decompressor, Inbound, OpCode, PubSubBridge, Publisher,
    SendStatus, UNSUPPORTED_DATA, UpgradeContext, WebSocket, WebSocketBehavior, WebSocketEndpoint,
    WebSocketHandle,
};
