//! The `App` builder: routes per method, limits, then `listen` / `bind`.

mod dispatch;
mod handler;

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use dispatch::Route;
pub(crate) use dispatch::Shared;
pub use handler::{BoxError, HandlerReturn};

use crate::config::Config;
use crate::event_loop::{self, Server};
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;
use crate::router::{HandlerId, Priority, Router};
use crate::ws::behavior::ErasedBehavior;
use crate::ws::{Publisher, WebSocketBehavior};

/// Builds a server: register routes, set limits, then [`listen`](Self::listen) (blocking, every
/// core) or [`bind`](Self::bind) (background threads, for tests and embedding).
///
/// Handlers are `Fn(&mut HttpResponse, &mut HttpRequest)` returning `()` or
/// `Result<(), E>`; they run on the loop thread that owns the connection and must not block.
/// Routes are matched by specificity, not registration order (uWebSockets semantics): see the
/// crate documentation for the rules.
pub struct App {
    router: Router,
    routes: Vec<Route>,
    config: Config,
    ws: Vec<Arc<dyn ErasedBehavior>>,
    publisher: Publisher,
}

impl Default for App {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! method_routes {
    ($($(#[$doc:meta])* $name:ident => $method:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $name<H, R>(self, pattern: &str, handler: H) -> Self
            where
                H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
                R: HandlerReturn,
            {
                self.method($method, pattern, handler)
            }
        )*
    };
}

impl App {
    /// An app with no routes and [`Config::default`] limits.
    pub fn new() -> Self {
        App {
            router: Router::new(),
            routes: Vec::new(),
            config: Config::default(),
            ws: Vec::new(),
            publisher: Publisher::new(),
        }
    }

    /// Replaces the limits and timeouts.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the number of event-loop threads (at least 1).
    pub fn threads(mut self, threads: usize) -> Self {
        self.config.threads = threads.max(1);
        self
    }

    method_routes! {
        /// Routes `GET` requests matching `pattern` (`HEAD` falls back to it, body suppressed).
        get => "GET";
        /// Routes `POST` requests matching `pattern`.
        post => "POST";
        /// Routes `PUT` requests matching `pattern`.
        put => "PUT";
        /// Routes `PATCH` requests matching `pattern`.
        patch => "PATCH";
        /// Routes `DELETE` requests matching `pattern`.
        delete => "DELETE";
        /// Routes `HEAD` requests matching `pattern` (tried before the `GET` fallback).
        head => "HEAD";
        /// Routes `OPTIONS` requests matching `pattern`.
        options => "OPTIONS";
        /// Routes `CONNECT` requests matching `pattern`.
        connect => "CONNECT";
        /// Routes `TRACE` requests matching `pattern`.
        trace => "TRACE";
    }

    /// Routes requests of any method matching `pattern`, after every method-specific route.
    pub fn any<H, R>(self, pattern: &str, handler: H) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        self.add(None, pattern, handler)
    }

    /// Routes requests whose method token is exactly `method` (case-sensitive, any token,
    /// e.g. `"PROPFIND"`).
    ///
    /// # Panics
    /// If `pattern` is invalid: it must start with `/`; `:name` segments need a unique,
    /// non-empty name; `*` may only be the whole last segment.
    pub fn method<H, R>(self, method: &str, pattern: &str, handler: H) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        self.add(Some(method), pattern, handler)
    }

    /// Adds a WebSocket route (RFC 6455): a `GET` route for `pattern` tried before the
    /// ordinary `GET` routes of the same pattern. Requests without `Upgrade: websocket` fall
    /// through to them, so `get` and `ws` can share a path; malformed handshakes get `400`,
    /// other versions `426`; valid ones go to the behavior's `upgrade` callback, or are
    /// upgraded at once with `U::default()` as the socket's user data.
    ///
    /// # Panics
    /// If `pattern` is invalid (see [`method`](Self::method)).
    pub fn ws<U: Default + Send + 'static>(
        mut self,
        pattern: &str,
        behavior: WebSocketBehavior<U>,
    ) -> Self {
        let route = u32::try_from(self.ws.len()).expect("too many WebSocket routes");
        let behavior = Arc::new(behavior);
        self.ws
            .push(Arc::clone(&behavior) as Arc<dyn ErasedBehavior>);
        let handler = crate::ws::upgrade::route_handler(route, behavior);
        self.route(Some("GET"), pattern, Priority::Upgrade, handler)
    }

    /// A handle to publish to WebSocket topics from any thread once the server runs
    /// (uWebSockets' `app.publish`); publishes before then are dropped.
    pub fn publisher(&self) -> Publisher {
        self.publisher.clone()
    }

    fn add<H, R>(self, method: Option<&str>, pattern: &str, handler: H) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        self.route(method, pattern, Priority::Method, handler)
    }

    fn route<H, R>(
        mut self,
        method: Option<&str>,
        pattern: &str,
        priority: Priority,
        handler: H,
    ) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        let id = HandlerId::try_from(self.routes.len()).expect("too many routes");
        self.router.add(method, pattern, priority, id);
        self.routes.push(Route {
            handler: handler::boxed(handler),
            param_names: param_names(pattern),
        });
        self
    }

    /// Serves on `port` on every interface (`[::]`, dual-stack) with one loop per configured
    /// thread, and blocks until the server stops.
    ///
    /// # Errors
    /// When the port cannot be bound (in use, no permission) or a loop cannot be created.
    pub fn listen(self, port: u16) -> io::Result<()> {
        let threads = self.config.threads;
        let backlog = self.config.backlog;
        let listeners = event_loop::listener::open_any(port, threads, backlog)?;
        self.start(listeners)?.join();
        Ok(())
    }

    /// Starts serving on `addr` (e.g. `"127.0.0.1:0"` for any free port) in background threads
    /// and returns at once; see [`Server::local_addr`] for the bound address.
    ///
    /// # Errors
    /// When `addr` does not resolve or cannot be bound.
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        let addr: SocketAddr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind"))?;
        let listeners =
            event_loop::listener::open_all(addr, self.config.threads, self.config.backlog)?;
        self.start(listeners)
    }

    fn start(self, listeners: Vec<mio::net::TcpListener>) -> io::Result<Server> {
        let shared = Arc::new(Shared {
            router: self.router,
            routes: self.routes,
            config: self.config,
            ws: self.ws,
        });
        Server::start(listeners, shared, self.publisher)
    }
}

#[cfg(feature = "internals")]
impl App {
    /// The routing table `start` hands the loops, for `crate::internals`.
    pub(crate) fn into_shared(self) -> Shared {
        Shared {
            router: self.router,
            routes: self.routes,
            config: self.config,
            ws: self.ws,
        }
    }
}

/// The `:name`s of a pattern, in order.
fn param_names(pattern: &str) -> Box<[Box<str>]> {
    pattern
        .split('/')
        .filter_map(|segment| segment.strip_prefix(':'))
        .map(Box::from)
        .collect()
}
