//! `App`: the builder users start from. It only collects routes, groups, domains, limits and
//! certificates; `listen`/`bind` (in `listen.rs`) compile them and start the loops.

use super::compile::{Chain, compile};
use super::dispatch::Shared;
use super::endpoint::HttpEndpoint;
use super::error;
use super::group::Router;
use super::handler::{self, HandlerReturn};

use crate::config::Config;
use crate::error::HandlerError;
use crate::event_loop::ShutdownHook;
use crate::http::compress::Compression;
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;
use crate::net::sni::ServerNames;
use crate::router::{DomainTree, check_pattern};
use crate::stats::CountersHandle;
use crate::ws::{Publisher, WebSocketBehavior, WebSocketEndpoint};

/// Builds a server: register routes, groups and domains, set limits, then
/// [`listen`](Self::listen) (blocking, every core) or [`bind`](Self::bind) (background threads,
/// for tests and embedding).
///
/// Handlers are `Fn(&mut HttpResponse, &mut HttpRequest)` returning `()` or
/// `Result<(), E>`; they run on the loop thread that owns the connection and must not block.
/// Routes are matched by specificity, not registration order (uWebSockets semantics): see the
/// crate documentation for the rules. Everything registered is compiled into one route tree
/// per domain when the server starts.
pub struct App {
    /// The default domain's routes, and the app-wide middleware.
    pub(super) root: Router,
    /// Domain patterns, mapping to indexes of `domain_routers`.
    pub(super) domains: DomainTree,
    pub(super) domain_routers: Vec<Router>,
    pub(super) on_error: Option<error::ErrorHandler>,
    /// Close code for WebSocket handshakes no route matches, accepted then closed
    /// (websockets-routes' 4040); `None`: they get `404`.
    pub(super) unmatched_websocket: Option<u16>,
    pub(super) config: Config,
    /// Certificates, when the app serves TLS.
    pub(super) server_names: Option<ServerNames>,
    /// Publishes to WebSocket topics once the server runs.
    pub(super) publisher: Publisher,
    /// Reads the counters once the server runs.
    pub(super) counters: CountersHandle,
    /// The runtime async handlers run on; each loop thread enters it.
    #[cfg(feature = "tokio")]
    pub(super) runtime: Option<tokio::runtime::Handle>,
    /// Run once when a graceful shutdown begins.
    pub(super) on_shutdown: Vec<ShutdownHook>,
}

impl Default for App {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("domains", &self.domain_routers.len())
            .field("config", &self.config)
            .field("tls", &self.server_names.is_some())
            .finish_non_exhaustive()
    }
}

impl App {
    /// An app with no routes and [`Config::default`] limits.
    pub fn new() -> Self {
        App {
            root: Router::new(),
            domains: DomainTree::default(),
            domain_routers: Vec::new(),
            on_error: None,
            unmatched_websocket: None,
            config: Config::default(),
            server_names: None,
            publisher: Publisher::new(),
            counters: CountersHandle::default(),
            #[cfg(feature = "tokio")]
            runtime: None,
            on_shutdown: Vec::new(),
        }
    }

    /// Runs `f` once when a graceful shutdown begins ([`Server::shutdown`](crate::Server::shutdown),
    /// or the first `SIGTERM`/`SIGINT` under [`listen`](Self::listen)), before the loops stop
    /// accepting and drain (Starlette's `on_shutdown`). The place to end what would otherwise
    /// run until [`Config::shutdown_timeout`]: Server-Sent Events streams, long polls, feeds
    /// pushed from threads (end their [`DeferredResponse`](crate::DeferredResponse)s here).
    /// Hooks run in the order they were added, on the thread that began the shutdown (the
    /// caller of `shutdown`, or the signal thread); a panic in one is logged and the others
    /// still run. A hook that blocks delays the shutdown by as long.
    pub fn on_shutdown(mut self, f: impl FnOnce() + Send + 'static) -> Self {
        self.on_shutdown.push(Box::new(f));
        self
    }

    /// The tokio runtime async handlers ([`get_async`](Self::get_async) and the like,
    /// [`WebSocketBehavior::message_async`]) run on: every loop thread enters it, so
    /// `tokio::spawn` works in synchronous handlers too. Without it, uweb starts one
    /// multi-threaded runtime for the process on first use (one worker per core, threads
    /// named `uweb-tokio`). Feature `tokio`.
    #[cfg(feature = "tokio")]
    pub fn runtime(mut self, handle: tokio::runtime::Handle) -> Self {
        self.runtime = Some(handle);
        self
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

    all_method_routes!();
    all_async_method_routes!();

    /// Routes requests of any method matching `pattern`, after every method-specific route.
    pub fn any<H, R>(self, pattern: &str, handler: H) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        check_pattern(pattern);
        self.with_root(|root| root.any(pattern, handler))
    }

    /// Routes requests whose method token is exactly `method` (case-sensitive, any token,
    /// e.g. `"PROPFIND"`).
    ///
    /// # Panics
    /// If `pattern` is invalid: it must start with `/`; `:name` segments need a unique,
    /// non-empty name; `*` may only be the whole last segment. If `method` is not a token
    /// (RFC 9110 section 9.1: letters, digits and ``!#$%&'*+-.^_`|~``).
    pub fn method<H, R>(self, method: &str, pattern: &str, handler: H) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        check_pattern(pattern);
        self.with_root(|root| root.method(method, pattern, handler))
    }

    /// Adds a WebSocket route (RFC 6455): a `GET` route for `pattern` with the highest
    /// priority, as in uWebSockets: a handshake tries every WebSocket route before any other
    /// route, at every level of the tree. Requests without `Upgrade: websocket` never see it,
    /// so `get` and `ws` can share a path; malformed handshakes get `400`,
    /// other versions `426`; valid ones go to the behavior's `upgrade` callback, or are
    /// upgraded at once with `U::default()` as the socket's user data. App-wide middleware
    /// runs before the handshake (and may refuse it). See [`Router::ws`] for groups.
    ///
    /// # Panics
    /// If `pattern` is invalid (see [`method`](Self::method)).
    pub fn ws<U: Default + Send + 'static>(
        self,
        pattern: &str,
        behavior: WebSocketBehavior<U>,
    ) -> Self {
        check_pattern(pattern);
        self.with_root(|root| root.ws(pattern, behavior))
    }

    /// Serves django-channels-router's named routes on the WebSocket route `pattern`: each
    /// message `{"uuid", "route", "headers"?, "payload"?}` goes to the route's handler and is
    /// answered `{"uuid", "route", "headers", "payload", "status"}` (see [`NamedRoutes`](crate::NamedRoutes)).
    ///
    /// # Panics
    /// If `pattern` is invalid (see [`method`](Self::method)).
    pub fn named_routes(self, pattern: &str, routes: crate::message::NamedRoutes) -> Self {
        self.ws(pattern, routes.into_behavior())
    }

    /// Serves SocketAPI's channels and actions on the WebSocket route `pattern` (the seed
    /// serves them on `/`): see [`Channels`](crate::Channels). Channel pushes go through this
    /// app's pub/sub ([`publisher`](Self::publisher)), reaching subscribers on every core.
    ///
    /// # Panics
    /// If `pattern` is invalid (see [`method`](Self::method)).
    pub fn channels(self, pattern: &str, channels: crate::message::Channels) -> Self {
        let behavior = channels.into_behavior(self.publisher());
        self.ws(pattern, behavior)
    }

    /// Accepts a WebSocket handshake that no route matches and closes the socket at once with
    /// `close_code`, as websockets-routes does by default with 4040 (an invented "404"),
    /// instead of answering the handshake `404 Not Found` (uweb's default, and
    /// websockets-routes' `process_request` hook). Only requests for which no route of any
    /// method matches the path are concerned.
    pub fn close_unmatched_websockets(mut self, close_code: u16) -> Self {
        self.unmatched_websocket = Some(close_code);
        self
    }

    /// Adds a WebSocket endpoint (Starlette's `WebSocketEndpoint`): `endpoint`'s
    /// `on_connect` decides on the handshake, each message is decoded with its
    /// [`Message`](WebSocketEndpoint::Message) encoding (text, bytes or JSON; 1003 when it
    /// cannot be) before `on_receive`, and `on_disconnect` hears the close code. A WebSocket
    /// route otherwise, as [`ws`](Self::ws).
    ///
    /// # Panics
    /// If `pattern` is invalid (see [`method`](Self::method)).
    pub fn ws_endpoint<E: WebSocketEndpoint>(self, pattern: &str, endpoint: E) -> Self {
        self.ws(pattern, crate::ws::endpoint::behavior(endpoint))
    }

    /// A handle to publish to WebSocket topics from any thread once the server runs
    /// (uWebSockets' `app.publish`); publishes before then are dropped.
    pub fn publisher(&self) -> Publisher {
        self.publisher.clone()
    }

    /// Bridges pub/sub to other processes through a broker (Django Channels' Redis channel
    /// layer, socket.io's Redis adapter): with it, `publish` from a WebSocket, a
    /// [`WebSocketHandle`](crate::WebSocketHandle), a [`Publisher`] or a channel push also
    /// reaches the subscribers of every process connected to the same broker, and messages
    /// published there reach this one's. E.g. `App::new().pubsub_bridge(RedisBridge::new(
    /// "redis://127.0.0.1:6379"))` (feature `redis`). The bridge starts with the server; a
    /// second one is ignored. Delivery across processes is the broker's (Redis pub/sub:
    /// at most once).
    pub fn pubsub_bridge(self, bridge: impl crate::ws::PubSubBridge) -> Self {
        if !self.publisher.set_bridge(std::sync::Arc::new(bridge)) {
            log::warn!("pubsub_bridge: a bridge was already set; this one is ignored");
        }
        self
    }

    /// A handle to read the server's [`Counters`](crate::Counters) from a handler of this app
    /// (a `/metrics` route) or any thread; zeros until the server runs. The same numbers as
    /// [`Server::counters`](crate::Server::counters).
    pub fn counters(&self) -> CountersHandle {
        self.counters.clone()
    }

    /// Compresses responses app-wide (domains included) with `compression`'s settings: see
    /// [`Compression`] for which bodies qualify, the codings and the fields added. Groups
    /// override it with [`Router::compress`]. Off by default.
    ///
    /// ```
    /// use uweb::{App, Compression};
    ///
    /// let app = App::new()
    ///     .compress(Compression::default())
    ///     .get("/", |res, _req| {
    ///         res.write_header("Content-Type", "text/html; charset=utf-8")
    ///             .end("<!doctype html><p>compressed when the client accepts gzip and this is 1 KiB or more</p>");
    ///     });
    /// # drop(app);
    /// ```
    pub fn compress(self, compression: Compression) -> Self {
        self.with_root(|root| root.compress(compression))
    }

    /// Adds an app-wide middleware: it runs before the middleware of every group, for every
    /// route of the app, domains included. See [`Router::middleware`] for continue/stop and
    /// handing data to handlers.
    pub fn middleware<H, R>(self, middleware: H) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        self.with_root(|root| root.middleware(middleware))
    }

    /// Adds an app-wide after hook: it runs after every other after hook, for every route of
    /// the app, domains included. See [`Router::after`].
    pub fn after<H, R>(self, hook: H) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        self.with_root(|root| root.after(hook))
    }

    /// Mounts `router` under `prefix` (e.g. `"/api"`): its routes serve `prefix` + their
    /// pattern, with its middleware. See [`Router::nest`] for the prefix rules.
    pub fn nest(self, prefix: &str, router: Router) -> Self {
        self.with_root(|root| root.nest(prefix, router))
    }

    /// Merges `router`'s routes into the app without a prefix (SocketAPI's
    /// `include_router`).
    pub fn include(self, router: Router) -> Self {
        self.with_root(|root| root.include(router))
    }

    /// Routes `pattern` to a class-style endpoint: see [`HttpEndpoint`] and
    /// [`Router::endpoint`].
    pub fn endpoint<E: HttpEndpoint>(self, pattern: &str, endpoint: E) -> Self {
        check_pattern(pattern);
        self.with_root(|root| root.endpoint(pattern, endpoint))
    }

    /// Serves `router` for requests whose server name matches `pattern` (uWebSockets'
    /// `domain`; socketify's per-SNI routers). The name is the TLS SNI name on a TLS
    /// connection that sent one (a `Host` that disagrees does not override it), else the
    /// `Host` field without its port, compared case-insensitively. Patterns are `.`-separated
    /// labels where `*` matches exactly one label and exact labels are tried before `*`:
    /// `*.google.*` matches `www.google.com`, not `google.com` nor `a.b.google.com`.
    ///
    /// A matching request is served only by that domain's routes (and the app-wide
    /// middleware), with the built-in 404/405 fallback; requests for other hosts, or without
    /// `Host`, use the routes registered on the app. Calling `domain` again with the same
    /// pattern adds to that domain.
    ///
    /// # Panics
    /// If `pattern` is empty or has an empty label, or a `*` that is not a whole label.
    pub fn domain(mut self, pattern: &str, router: Router) -> Self {
        match self.domains.get(pattern) {
            Some(i) => {
                let existing = std::mem::take(&mut self.domain_routers[i]);
                self.domain_routers[i] = existing.include(router);
            }
            None => {
                self.domains.add(pattern, self.domain_routers.len());
                self.domain_routers.push(router);
            }
        }
        self
    }

    /// Sets the app-wide error handler (socketify's `set_error_handler`):
    /// `handler(error, res, req)` is called when a handler, middleware or after hook panics
    /// (the panic is caught; the loop and other connections go on), returns `Err`, or when a
    /// handler returns without answering, or writes a status or field that would split the
    /// response ([`HandlerError::is_invalid_field`]). A WebSocket callback that panics comes
    /// here too, with its [`Stage`](crate::Stage) (`Open`, `Message`, ...) and `res` and `req`
    /// `None` (the socket is upgraded; it is closed with 1011). `res` is `None` when the
    /// response is gone; `req` is `None` when the request is no longer there (the handler
    /// left it unanswered after its body was read).
    ///
    /// If the handler leaves the response unanswered, `500 Internal Server Error` is sent when
    /// nothing was sent yet, else the connection is closed. If it panics, the connection is
    /// closed. The default handler logs the error with `log::error!` and answers `500`.
    pub fn on_error<F>(mut self, handler: F) -> Self
    where
        F: Fn(&HandlerError, Option<&mut HttpResponse<'_>>, Option<&HttpRequest<'_>>)
            + Send
            + Sync
            + 'static,
    {
        self.on_error = Some(Box::new(handler));
        self
    }

    fn with_root(mut self, f: impl FnOnce(Router) -> Router) -> Self {
        self.root = f(std::mem::take(&mut self.root));
        self
    }

    /// Compiles every router into its route table.
    ///
    /// # Panics
    /// If a full pattern (prefixes concatenated) is invalid.
    pub(crate) fn into_shared(self) -> Shared {
        // The root's middleware is app-wide: domains are compiled inside it too.
        let app_wide = Chain {
            before: self.root.middleware.clone(),
            after: self.root.after.clone(),
            compression: self.root.compression,
        };
        let domain_tables = self
            .domain_routers
            .into_iter()
            .map(|router| compile(router, &app_wide))
            .collect();
        Shared {
            default: compile(self.root, &Chain::default()),
            domains: self.domains,
            domain_tables,
            on_error: self.on_error,
            unmatched_websocket: self.unmatched_websocket.map(|code| {
                let behavior = WebSocketBehavior::<()>::new().open(move |ws| ws.end(code, ""));
                handler::boxed(crate::ws::behavior::route_handler(std::sync::Arc::new(
                    behavior,
                )))
            }),
            config: self.config,
            #[cfg(feature = "tokio")]
            runtime: self.runtime,
        }
    }
}
