//! The request view handed to handlers (uWebSockets' `HttpRequest`).

use std::borrow::Cow;
use std::net::SocketAddr;

use ::http::Extensions;

use super::head::Head;
use super::owned::OwnedRequest;
use super::query;
use crate::router::{ParamKey, Params};

/// A borrowed view of one request head, valid only during the handler call (as in
/// uWebSockets: copy out what you need to keep).
///
/// Names follow RFC 9110/9112: the *request target* is split into [`url`](Self::url) (the path)
/// and [`query`](Self::query); header *fields* are looked up case-insensitively.
pub struct HttpRequest<'a> {
    head: &'a Head<'a, 'a>,
    params: &'a Params,
    param_names: &'a [Box<str>],
    remote_addr: SocketAddr,
    proxied: Option<SocketAddr>,
    yielded: bool,
    extensions: Extensions,
}

impl<'a> HttpRequest<'a> {
    pub(crate) fn new(
        head: &'a Head<'a, 'a>,
        params: &'a Params,
        param_names: &'a [Box<str>],
        remote_addr: SocketAddr,
    ) -> Self {
        HttpRequest {
            head,
            params,
            param_names,
            remote_addr,
            proxied: None,
            yielded: false,
            extensions: Extensions::new(),
        }
    }

    /// This view with the client address of a PROXY protocol header.
    pub(crate) fn with_proxied(mut self, proxied: Option<SocketAddr>) -> Self {
        self.proxied = proxied;
        self
    }

    /// This view carrying `extensions` (from an earlier candidate route that yielded).
    pub(crate) fn with_extensions(mut self, extensions: Extensions) -> Self {
        self.extensions = extensions;
        self
    }

    /// Takes the extensions out, leaving an empty map.
    pub(crate) fn take_extensions(&mut self) -> Extensions {
        std::mem::take(&mut self.extensions)
    }

    /// Typed data attached to this request by middleware, read by the handler:
    /// `req.extensions().get::<User>()` (one value per type; see
    /// [`Extensions`](::http::Extensions)). Empty, and unallocated, until something is inserted.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Typed data attached to this request, for writing:
    /// `req.extensions_mut().insert(User { .. })` (values must be `Clone + Send + Sync`).
    /// The first insert allocates the map; it lives until the request's last route returns,
    /// and follows the request to the next route when one yields.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }

    /// The method token exactly as sent, e.g. `"GET"` (case-sensitive, RFC 9110 section 9.1).
    pub fn method(&self) -> &'a str {
        self.head.method
    }

    /// The path of the request target, without the query, not percent-decoded
    /// (`"/user/42"` for `GET /user/42?x=1`).
    pub fn url(&self) -> &'a str {
        self.head.path
    }

    /// The query of the request target without the `?`, raw; empty when absent.
    pub fn query(&self) -> &'a str {
        self.head.query
    }

    /// The first value of query parameter `key`, percent- and `+`-decoded (form encoding).
    /// `None` when the key is absent; `Some("")` for `?key` or `?key=`.
    pub fn query_value(&self, key: &str) -> Option<Cow<'a, str>> {
        query::query_value(self.head.query, key)
    }

    /// The value of the first header field named `name` (case-insensitive), as raw bytes
    /// interpreted as UTF-8; `None` when absent or not valid UTF-8. See [`headers`](Self::headers)
    /// for every field.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.head
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
    }

    /// Every header field as `(name, value)` in arrival order; names as sent.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.head.headers.iter().map(|h| (h.name, h.value))
    }

    /// The raw (not percent-decoded) value of a `:param` of the matched route pattern, by
    /// position (`req.parameter(0)`) or by name (`req.parameter("id")`).
    pub fn parameter(&self, key: impl ParamKey) -> Option<&'a str> {
        let index = key.position(self.param_names)?;
        let &(start, end) = self.params.get(index)?;
        self.head.path.get(start as usize..end as usize)
    }

    /// Asks the router to go on to the next matching route after this handler returns
    /// (uWebSockets' `setYield`). The handler must not have answered.
    pub fn set_yield(&mut self, yield_: bool) {
        self.yielded = yield_;
    }

    /// Whether [`set_yield(true)`](Self::set_yield) was called.
    pub fn is_yielded(&self) -> bool {
        self.yielded
    }

    /// The peer's address (the proxy's, behind one).
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// The client's address as the PROXY protocol header (versions 1 and 2) of a listener
    /// that reads one gave it ([`Listen::proxy_protocol`](crate::Listen::proxy_protocol);
    /// socketify's `get_proxied_remote_address`); `None` on other listeners, and for the
    /// proxy's own health checks (`UNKNOWN`, `LOCAL`).
    pub fn proxied_remote_addr(&self) -> Option<SocketAddr> {
        self.proxied
    }

    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub fn minor_version(&self) -> u8 {
        self.head.minor_version
    }

    /// An owned copy of this request head, to answer later from another thread
    /// (socketify's `req.preserve()`): method, target, fields, route parameters, peer
    /// address and extensions, in one buffer. The view itself stays zero-copy; copy only
    /// when the answer comes later ([`HttpResponse::defer`](crate::HttpResponse::defer)).
    #[allow(clippy::should_implement_trait)]
    pub fn to_owned(&self) -> OwnedRequest {
        OwnedRequest::copy(
            self.head,
            self.param_names,
            self.params,
            self.remote_addr,
            &self.extensions,
        )
    }

    /// The route's parameter names and their spans in the path.
    pub(crate) fn parameter_spans(&self) -> (&'a [Box<str>], &'a [(u32, u32)]) {
        (self.param_names, self.params)
    }

    /// An `Upgrade` field lists `websocket` (found while parsing the head).
    pub(crate) fn is_websocket_upgrade(&self) -> bool {
        self.head.upgrade_websocket
    }
}

impl std::fmt::Debug for HttpRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.head.method)
            .field("target", &self.head.target)
            .field("remote_addr", &self.remote_addr)
            .finish_non_exhaustive()
    }
}
