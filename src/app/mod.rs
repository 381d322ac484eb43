//! The `App` builder: routes per method, limits, then `listen` / `bind`.

mod dispatch;
mod handler;
mod listen;
mod tls;

use dispatch::Route;
pub(crate) use dispatch::Shared;
pub use handler::{BoxError, HandlerReturn};
pub use listen::Listen;

use crate::config::Config;
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;
use crate::net::sni::ServerNames;
use crate::router::{HandlerId, Priority, Router};

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
    /// Certificates, when the app serves TLS.
    server_names: Option<ServerNames>,
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
            server_names: None,
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

    fn add<H, R>(mut self, method: Option<&str>, pattern: &str, handler: H) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        let id = HandlerId::try_from(self.routes.len()).expect("too many routes");
        self.router.add(method, pattern, Priority::Method, id);
        self.routes.push(Route {
            handler: handler::boxed(handler),
            param_names: param_names(pattern),
        });
        self
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
