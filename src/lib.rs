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
#![forbid(unsafe_code)]
#![deny(missing_docs, rust_2018_idioms)]

mod app;
mod config;
mod event_loop;
mod http;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals;
mod router;
mod ws;

pub use app::{App, BoxError, HandlerReturn};
pub use config::Config;
pub use event_loop::Server;
pub use http::request::{HttpRequest, ParamKey};
pub use http::response::HttpResponse;
pub use ws::{OpCode, Publisher, SendStatus, UpgradeContext, WebSocket, WebSocketBehavior};
