//! The routing tables shared by every loop, and how one request is dispatched through them:
//! the table of the request's domain, routes in specificity order with `set_yield`
//! fall-through, each route's middleware chain, then the built-in 404/405 fallback; errors
//! and panics go to the error handler.

use std::any::Any;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};

use ::http::Extensions;
use smallvec::SmallVec;

use super::compile::{Route, Table};
use super::error::{ErrorHandler, hear, report};
use super::group::RouteKind;
use super::handler::BoxedHandler;
use crate::config::Config;
use crate::error::BoxError;
use crate::error::{HandlerError, Stage};
use crate::event_loop::Service;
use crate::http::conn::Dispatch;
use crate::http::head::Head;
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;
use crate::router::{DomainTree, Params, server_name};
use crate::ws::handshake;

/// Everything the loops share, read-only: the route tables, the error handler, the limits.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub struct Shared {
    /// Routes for hosts that no domain matches.
    pub default: Table,
    /// Domain patterns, mapping to indexes of `domain_tables`.
    pub(crate) domains: DomainTree,
    pub(crate) domain_tables: Vec<Table>,
    /// `None`: the default (log, then `500`).
    pub(crate) on_error: Option<ErrorHandler>,
    /// Upgrades WebSocket handshakes no route matches, to close them at once
    /// (`App::close_unmatched_websockets`).
    pub(crate) unmatched_websocket: Option<BoxedHandler>,
    pub(crate) config: Config,
    /// Entered by every loop thread (async handlers, `tokio::spawn` in handlers).
    #[cfg(feature = "tokio")]
    pub(crate) runtime: Option<tokio::runtime::Handle>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("default", &self.default)
            .field("domain_tables", &self.domain_tables)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Dispatch for Shared {
    fn dispatch(
        &self,
        head: &Head<'_, '_>,
        remote: SocketAddr,
        proxied: Option<SocketAddr>,
        server_name: Option<&str>,
        res: &mut HttpResponse<'_>,
    ) {
        let table = self.table_for_request(head, server_name);
        let mut params = Params::new();
        // Typed data from middleware; lazily allocated, carried across yields.
        let mut extensions = Extensions::new();
        let handled = table.tree.route(
            head.method,
            head.path,
            head.upgrade_websocket,
            &mut params,
            |id, params| {
                let route = &table.routes[id as usize];
                let mut req = HttpRequest::new(head, params, &route.param_names, remote)
                    .with_proxied(proxied)
                    .with_extensions(std::mem::take(&mut extensions));
                let handled = self.run(route, res, &mut req);
                extensions = req.take_extensions();
                handled
            },
        );
        if !handled && !res.has_responded() {
            let unmatched = self.unmatched_websocket.as_ref().map(|h| (h, remote));
            table.fallback(head, res, unmatched);
        }
        // `run` reports the refusals of route code; none is left unless another writer (the
        // fallback writes only method tokens) refused one: a discarded response must not go
        // unanswered.
        if res.has_refused() {
            self.report_refused(res, Stage::Handler, None, None);
        }
    }

    fn unanswered(&self, res: &mut HttpResponse<'_>) {
        report(
            self.on_error.as_ref(),
            &HandlerError::unanswered(None),
            res,
            None,
        );
    }

    fn panicked(&self, res: &mut HttpResponse<'_>, panic: &(dyn Any + Send), stage: Stage) {
        let error = HandlerError::panic(panic, stage, None);
        report(self.on_error.as_ref(), &error, res, None);
    }

    fn refused(&self, res: &mut HttpResponse<'_>, stage: Stage) {
        self.report_refused(res, stage, None, None);
    }

    fn report(&self, error: &HandlerError) {
        hear(self.on_error.as_ref(), error, None, None);
    }

    fn failed(&self, res: &mut HttpResponse<'_>, error: &HandlerError) {
        report(self.on_error.as_ref(), error, res, None);
    }
}

impl Service for Shared {
    fn config(&self) -> &Config {
        &self.config
    }

    fn run_loop(&self, run: &mut dyn FnMut()) {
        #[cfg(feature = "tokio")]
        if let Some(runtime) = &self.runtime {
            return crate::runtime::run_in(runtime, run);
        }
        run();
    }
}

impl Shared {
    /// The table serving `server_name` (a `Host` without its port, or a TLS SNI name): the
    /// first matching domain's, else the default one.
    pub(crate) fn table_for(&self, server_name: &str) -> &Table {
        match self.domains.find(server_name) {
            Some(i) => &self.domain_tables[i],
            None => &self.default,
        }
    }

    /// The table for a request: chosen by the TLS SNI name when the connection has one (a
    /// `Host` that disagrees with it does not override it), else by the `Host` field; the
    /// default table when there are no domains.
    fn table_for_request(&self, head: &Head<'_, '_>, sni: Option<&str>) -> &Table {
        if self.domains.is_empty() {
            return &self.default;
        }
        if let Some(name) = sni {
            return self.table_for(name);
        }
        let host = head.host.and_then(|h| std::str::from_utf8(h).ok());
        match host {
            Some(host) => self.table_for(server_name(host.trim())),
            None => &self.default,
        }
    }

    /// Runs one candidate route: middleware, handler, after hooks. Returns false when the
    /// route yielded (the search goes on), true when it took the request.
    ///
    /// A status line or field refused by the response writer (it would have split the
    /// response) discards the response and ends it for the route's code (`has_responded`
    /// is true, further writes are ignored, so a refused field followed by `end` sends
    /// nothing); it is reported once the middleware and handler returned, before anything
    /// else, so the error handler or the default `500` answers. The route took the request
    /// even if it yielded afterwards; a panic or `Err` after the refusal is reported too.
    #[inline]
    fn run(&self, route: &Route, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> bool {
        let (handler, handler_stage) = match &route.kind {
            RouteKind::Http(handler) => (handler, Stage::Handler),
            // Only handshakes reach these: the router walks its upgrade tree for them alone.
            RouteKind::Upgrade(handler) => (handler, Stage::Upgrade),
        };
        if route.compression.is_some() || res.compresses() {
            let accept_encoding = req
                .headers()
                .filter(|(name, _)| name.eq_ignore_ascii_case("accept-encoding"))
                .map(|(_, value)| value);
            res.compress_with(route.compression.as_ref(), accept_encoding);
        }
        let mut stage = Stage::Middleware;
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<bool, BoxError> {
            for middleware in &route.before {
                middleware(res, req)?;
                if req.is_yielded() {
                    return Ok(false);
                }
                if res.has_responded() {
                    return Ok(true);
                }
            }
            stage = handler_stage;
            handler(res, req)?;
            Ok(!req.is_yielded())
        }));
        if res.has_refused() {
            // Reported first (with the stage's panic or `Err`, if any); the route took the
            // request, whether it then yielded or not.
            let error = failure(outcome, stage, &route.label);
            self.report_refused(res, stage, Some((route, req)), error);
        } else {
            let error = match outcome {
                Ok(Ok(false)) => return false,
                Ok(Ok(true)) if !res.has_responded() && !res.awaits_body() && !res.is_held() => {
                    Some(HandlerError::unanswered(Some(&route.label)))
                }
                failed => failure(failed, stage, &route.label),
            };
            if let Some(error) = error {
                report(self.on_error.as_ref(), &error, res, Some(req));
            }
        }
        self.run_after(route, res, req);
        true
    }

    /// Runs the route's after hooks; the first that fails (or has a field refused) is
    /// reported and ends the run.
    fn run_after(&self, route: &Route, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) {
        for hook in &route.after {
            let outcome = catch_unwind(AssertUnwindSafe(|| hook(res, req)));
            let error = failure(outcome, Stage::After, &route.label);
            if res.has_refused() {
                return self.report_refused(res, Stage::After, Some((route, req)), error);
            }
            if let Some(error) = error {
                report(self.on_error.as_ref(), &error, res, Some(req));
                return;
            }
        }
    }

    /// Reports the field `res` refused in `stage` (the response is fresh again: the error
    /// handler or the default `500` answers), then `error`, a panic or `Err` of the same
    /// stage, which the error handler only hears of. Out of line: the hot path only checks
    /// [`has_refused`](HttpResponse::has_refused).
    #[cold]
    #[inline(never)]
    fn report_refused(
        &self,
        res: &mut HttpResponse<'_>,
        stage: Stage,
        route: Option<(&Route, &HttpRequest<'_>)>,
        error: Option<HandlerError>,
    ) {
        let Some(field) = res.take_refused() else {
            return;
        };
        let (label, req) = match route {
            Some((route, req)) => (Some(&*route.label), Some(req)),
            None => (None, None),
        };
        let refused = HandlerError::invalid_field(&field, stage, label);
        report(self.on_error.as_ref(), &refused, res, req);
        if let Some(error) = error {
            report(self.on_error.as_ref(), &error, res, req);
        }
    }
}

/// The panic or `Err` of a stage's outcome; `None` when it returned `Ok`.
fn failure<T>(
    outcome: std::thread::Result<Result<T, BoxError>>,
    stage: Stage,
    route: &str,
) -> Option<HandlerError> {
    match outcome {
        Ok(Ok(_)) => None,
        Ok(Err(error)) => Some(HandlerError::returned(error, stage, Some(route))),
        Err(panic) => Some(HandlerError::panic(panic.as_ref(), stage, Some(route))),
    }
}

impl Table {
    /// No route answered: `405` with `Allow` when only other methods have routes for this
    /// path, else `404` (RFC 9110 sections 15.5.5-6). Routes of the request's own method
    /// that all yielded make it a 404. A WebSocket upgrade attempt with another method than
    /// GET gets `400` instead of `405` (RFC 6455 section 4.2.1).
    fn fallback(
        &self,
        head: &Head<'_, '_>,
        res: &mut HttpResponse<'_>,
        unmatched_websocket: Option<(&BoxedHandler, SocketAddr)>,
    ) {
        let (method, path) = (head.method, head.path);
        // Allocation-free until a 405 has to list them.
        let mut allowed: SmallVec<[&str; 8]> = SmallVec::new();
        if !self.tree.any_matches(path) {
            self.tree.allowed_methods(path, |m| allowed.push(m));
        }
        if allowed.contains(&"GET") && !allowed.contains(&"HEAD") {
            allowed.push("HEAD");
        }
        // HEAD is allowed wherever GET is (added above), so this covers HEAD -> GET too.
        let own = allowed.contains(&method);
        if allowed.is_empty()
            && head.upgrade_websocket
            && let Some((upgrade, remote)) = unmatched_websocket
        {
            let params = Params::new();
            let mut req = HttpRequest::new(head, &params, &[], remote);
            // Its only failure is a refused field, which the caller reports.
            let _ = upgrade(res, &mut req);
        } else if allowed.is_empty() || own {
            res.write_status("404 Not Found").end("Not Found");
        } else if head.upgrade_websocket {
            handshake::Rejection::BadRequest.respond(res);
        } else {
            res.write_status("405 Method Not Allowed")
                .write_header("Allow", &allowed.join(", "))
                .end("Method Not Allowed");
        }
    }
}
