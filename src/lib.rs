//! # uweb
//!
//! A uWebSockets-style HTTP/1.1 server: one `mio` event loop per core, each with its own
//! `SO_REUSEPORT` listener; corked writes (everything one readable event produces leaves in one
//! `write`); a specificity-ordered router with `set_yield` fall-through.
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
#![forbid(unsafe_code)]
#![deny(missing_docs, rust_2018_idioms)]

mod app;
mod config;
mod event_loop;
mod http;
mod router;
mod ws;

pub use app::{App, BoxError, HandlerReturn};
pub use config::Config;
pub use event_loop::Server;
pub use http::request::{HttpRequest, ParamKey};
pub use http::response::HttpResponse;
pub use ws::{OpCode, Publisher, SendStatus, UpgradeContext, WebSocket, WebSocketBehavior};
