//! `Router`: a group of routes with an ordered middleware chain, built anywhere (another module,
//! another file) and mounted on an [`App`](crate::App) under a prefix (socketify's
//! `app.router(prefix, *middlewares)`, SocketAPI's `include_router`).

use super::handler::{self, BoxedHandler, HandlerReturn, Middleware};
use crate::http::compress::Compression;
use crate::http::field;
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;
use crate::router::{Priority, check_pattern};
use crate::ws::WebSocketBehavior;

use std::sync::Arc;

/// A group of routes with middleware, mounted with [`App::nest`](crate::App::nest) (under a
/// prefix), [`App::include`](crate::App::include) (as is), [`App::domain`](crate::App::domain)
/// or nested in another `Router` with [`nest`](Self::nest).
///
/// Nothing is looked up through the group at request time: when the app starts, every route
/// is compiled into the app's one route tree under its full pattern (prefixes concatenated),
/// with its middleware chain resolved. Lookup costs what it costs for routes registered on the
/// `App` directly, and the specificity rules hold across groups (`/api/users/me` in one group
/// beats `/api/users/:id` in another).
///
/// ```
/// use uweb::{App, Router};
///
/// #[derive(Clone)]
/// struct User(String);
///
/// let api = Router::new()
///     .middleware(|res, req| match req.header("authorization") {
///         Some("Bearer demo-token") => {
///             req.extensions_mut().insert(User("demo".into()));
///         }
///         _ => res.write_status("401 Unauthorized").end("Unauthorized"),
///     })
///     .get("/users", |res, req| {
///         let user = req.extensions().get::<User>().expect("set by the middleware");
///         res.end(format!("[\"{}\"]", user.0));
///     });
/// let app = App::new().nest("/api", api).get("/", |res, _req| res.end("home"));
/// # drop(app);
/// ```
#[derive(Default)]
pub struct Router {
    pub(crate) middleware: Vec<Middleware>,
    pub(crate) after: Vec<Middleware>,
    pub(crate) entries: Vec<Entry>,
    /// Response compression for this group's routes, unless an inner group sets its own.
    pub(crate) compression: Option<Compression>,
}

/// One registration in a group, in registration order.
pub(crate) enum Entry {
    /// A route; its pattern is relative to the group's prefix.
    Route(RouteDef),
    /// A nested group under `prefix` (relative to this group's).
    Nested { prefix: Box<str>, router: Router },
}

/// A route as registered, before compilation.
pub(crate) struct RouteDef {
    /// Method token; `None` for `any`.
    pub(crate) method: Option<Box<str>>,
    /// Pattern relative to the group's prefix (`""` is the prefix itself).
    pub(crate) pattern: Box<str>,
    /// Order among handlers of the same node.
    pub(crate) priority: Priority,
    /// What the route runs.
    pub(crate) kind: RouteKind,
}

/// What a route runs. The extension point for other kinds of routes.
pub(crate) enum RouteKind {
    /// A plain HTTP handler.
    Http(BoxedHandler),
    /// A WebSocket handshake (registered with `Priority::Upgrade` by [`Router::ws`]): the
    /// router keeps it in the upgrade tree, which only handshakes walk (first), so requests
    /// without `Upgrade: websocket` never reach it or its middleware.
    Upgrade(BoxedHandler),
}

impl Router {
    /// An empty group.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a middleware that runs before the handler of every route in this group,
    /// including routes of nested groups and routes registered before this call.
    ///
    /// Order: the app's middleware first, then outer groups', then inner ones', each in the
    /// order they were added. A middleware gets `(res, req)` like a handler and returns `()`
    /// or `Result<(), E>`. It **stops** the chain by answering (`res.end(..)`, e.g. a `401`:
    /// the handler is not called) or by `req.set_yield(true)` (the route passes the request
    /// to the next matching route); otherwise the chain **continues**. It hands typed data to
    /// the handler with `req.extensions_mut().insert(value)`. An `Err` or a panic stops the
    /// chain and goes to the error handler ([`App::on_error`](crate::App::on_error)).
    pub fn middleware<H, R>(mut self, middleware: H) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        self.middleware.push(handler::shared(middleware));
        self
    }

    /// Appends a hook that runs after the handler of every route in this group (timing,
    /// logging): inner groups' hooks first, then outer ones', each in the order added.
    ///
    /// Hooks run once a route took the request: after the handler returned, after a
    /// middleware stopped the chain, or after an error or panic was handled; not when the
    /// route yielded. The response is usually finished by then (check
    /// [`HttpResponse::has_responded`]; a body streamed with `on_data` ends later). Data
    /// from a middleware is in `req.extensions()`.
    pub fn after<H, R>(mut self, hook: H) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        self.after.push(handler::shared(hook));
        self
    }

    /// Compresses the responses of every route in this group, nested groups included unless
    /// they set their own, with `compression`'s settings (see [`Compression`]: which bodies
    /// qualify, the codings, `Vary`). The innermost group's setting wins, whenever it was
    /// called. For a single route, put it in a group of its own:
    /// `app.include(Router::new().compress(Compression::default()).get("/report", handler))`.
    pub fn compress(mut self, compression: Compression) -> Self {
        self.compression = Some(compression);
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
        self.add(None, pattern, handler)
    }

    /// Routes requests whose method token is exactly `method` (case-sensitive).
    ///
    /// `pattern` is relative to the group's prefix: `"/users"` under `/api` serves
    /// `/api/users`, and `""` serves the prefix itself (`/api`).
    ///
    /// # Panics
    /// If `pattern` is neither `""` nor a valid pattern (see [`App::method`](crate::App::method)),
    /// or `method` is not a token.
    pub fn method<H, R>(self, method: &str, pattern: &str, handler: H) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        self.add(Some(method), pattern, handler)
    }

    /// Adds a WebSocket route to this group: see [`App::ws`](crate::App::ws). The group's
    /// middleware runs before the handshake and may refuse it (answer, e.g. `401`) or hand
    /// data to the `upgrade` callback through `req.extensions()`.
    ///
    /// # Panics
    /// If `pattern` is neither `""` nor a valid pattern.
    pub fn ws<U: Default + Send + 'static>(
        self,
        pattern: &str,
        behavior: WebSocketBehavior<U>,
    ) -> Self {
        if !pattern.is_empty() {
            check_pattern(pattern);
        }
        let handshake = crate::ws::behavior::route_handler(Arc::new(behavior));
        self.route(RouteDef {
            method: Some("GET".into()),
            pattern: pattern.into(),
            priority: Priority::Upgrade,
            kind: RouteKind::Upgrade(handler::boxed(handshake)),
        })
    }

    /// Adds a WebSocket endpoint to the group; see
    /// [`App::ws_endpoint`](crate::App::ws_endpoint).
    pub fn ws_endpoint<E: crate::ws::WebSocketEndpoint>(self, pattern: &str, endpoint: E) -> Self {
        self.ws(pattern, crate::ws::endpoint::behavior(endpoint))
    }

    /// Mounts `router` under `prefix` inside this group: prefixes concatenate
    /// (`/api` + `/v1` + `/users` is `/api/v1/users`), this group's middleware runs before
    /// the nested group's, and its after hooks after the nested group's.
    ///
    /// # Panics
    /// If `prefix` is not `""`, `"/"` (both: no prefix) or a pattern that starts with `/`,
    /// does not end with `/` and has no `*` (`:param` segments are fine).
    pub fn nest(mut self, prefix: &str, router: Router) -> Self {
        let prefix = check_prefix(prefix).into();
        self.entries.push(Entry::Nested { prefix, router });
        self
    }

    /// Merges `router`'s routes into this group without a prefix (SocketAPI's
    /// `include_router`); its middleware applies to its own routes only.
    pub fn include(self, router: Router) -> Self {
        self.nest("", router)
    }

    fn add<H, R>(self, method: Option<&str>, pattern: &str, handler: H) -> Self
    where
        H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
        R: HandlerReturn,
    {
        if !pattern.is_empty() {
            check_pattern(pattern);
        }
        if let Some(method) = method {
            check_method(method);
        }
        self.route(RouteDef {
            method: method.map(Box::from),
            pattern: pattern.into(),
            priority: Priority::Method,
            kind: RouteKind::Http(handler::boxed(handler)),
        })
    }

    /// Registers a route of any kind (the WebSocket layer's `ws` goes through here).
    pub(crate) fn route(mut self, route: RouteDef) -> Self {
        self.entries.push(Entry::Route(route));
        self
    }
}

/// A method must be a token (RFC 9110 section 9.1): requests only ever carry tokens, and the
/// `405` fallback lists route methods in its `Allow` field, where anything else would be a
/// field the response writer refuses.
fn check_method(method: &str) {
    if !field::valid_name(method.as_bytes()) {
        panic!("invalid method {method:?}: must be a token (RFC 9110 section 9.1)");
    }
}

/// Validates a mount prefix; returns it with `"/"` normalised to `""`.
fn check_prefix(prefix: &str) -> &str {
    if prefix.is_empty() || prefix == "/" {
        return "";
    }
    if prefix.ends_with('/') || prefix.contains('*') {
        panic!("invalid prefix {prefix:?}: must not end with '/' or contain '*'");
    }
    check_pattern(prefix);
    prefix
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("middleware", &self.middleware.len())
            .field("after", &self.after.len())
            .field("entries", &self.entries.len())
            .field("compression", &self.compression)
            .finish()
    }
}
