//! The routing table shared by every loop, and how one request is dispatched through it:
//! routes in specificity order with `set_yield` fall-through, then the built-in 404/405
//! fallback; panics and errors become `500`.

use std::any::Any;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::handler::{BoxError, BoxedHandler};
use crate::config::Config;
use crate::http::conn::Dispatch;
use crate::http::head::Head;
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;
use crate::router::{Params, Router};
use crate::ws::behavior::ErasedBehavior;
use crate::ws::handshake;

/// One registered route: its handler and the names of its `:param`s, in pattern order.
pub(crate) struct Route {
    pub(crate) handler: BoxedHandler,
    pub(crate) param_names: Box<[Box<str>]>,
}

/// Everything the loops share, read-only: the router, the routes, the limits.
pub(crate) struct Shared {
    pub(crate) router: Router,
    pub(crate) routes: Vec<Route>,
    pub(crate) config: Config,
    /// WebSocket routes' behaviors, by route index.
    pub(crate) ws: Vec<Arc<dyn ErasedBehavior>>,
}

impl Dispatch for Shared {
    fn dispatch(&self, head: &Head<'_, '_>, remote: SocketAddr, res: &mut HttpResponse<'_>) {
        let mut params = Params::new();
        let handled = self
            .router
            .route(head.method, head.path, &mut params, |id, params| {
                let route = &self.routes[id as usize];
                let mut req = HttpRequest::new(head, params, &route.param_names, remote);
                let outcome = catch_unwind(AssertUnwindSafe(|| (route.handler)(res, &mut req)));
                match outcome {
                    Ok(Ok(())) => !req.is_yielded(),
                    Ok(Err(error)) => {
                        handler_failed(res, &error);
                        true
                    }
                    Err(panic) => {
                        handler_panicked(res, panic.as_ref());
                        true
                    }
                }
            });
        if !handled && !res.has_responded() {
            self.fallback(head, res);
        }
    }

    fn unanswered(&self, res: &mut HttpResponse<'_>) {
        log::error!("handler returned without answering; sending 500");
        internal_error(res);
    }

    fn panicked(&self, res: &mut HttpResponse<'_>, panic: &(dyn Any + Send)) {
        handler_panicked(res, panic);
    }
}

impl Shared {
    /// No route answered: `405` with `Allow` when only other methods have routes for this
    /// path, else `404` (RFC 9110 sections 15.5.5-6). Routes of the request's own method
    /// that all yielded make it a 404. A WebSocket upgrade attempt with another method than
    /// GET gets `400` instead of `405` (RFC 6455 section 4.2.1).
    fn fallback(&self, head: &Head<'_, '_>, res: &mut HttpResponse<'_>) {
        let (method, path) = (head.method, head.path);
        let mut allowed: Vec<String> = Vec::new();
        if !self.router.any_matches(path) {
            self.router
                .allowed_methods(path, |m| allowed.push(m.to_owned()));
        }
        if allowed.iter().any(|m| m == "GET") && !allowed.iter().any(|m| m == "HEAD") {
            allowed.push("HEAD".to_owned());
        }
        let own = |m: &str| m == method || method == "HEAD" && m == "GET";
        let allow = if allowed.iter().any(|m| own(m)) {
            String::new()
        } else {
            allowed.join(", ")
        };
        if allow.is_empty() {
            res.write_status("404 Not Found").end("Not Found");
        } else if handshake::is_upgrade_attempt(head.headers.iter().map(|h| (h.name, h.value))) {
            handshake::Rejection::BadRequest.respond(res);
        } else {
            res.write_status("405 Method Not Allowed")
                .write_header("Allow", &allow)
                .end("Method Not Allowed");
        }
    }
}

/// A handler returned `Err`.
fn handler_failed(res: &mut HttpResponse<'_>, error: &BoxError) {
    log::error!("handler failed: {error}");
    internal_error(res);
}

/// A handler panicked; the loop and the other connections go on.
fn handler_panicked(res: &mut HttpResponse<'_>, panic: &(dyn Any + Send)) {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic)");
    log::error!("handler panicked: {message}");
    internal_error(res);
}

/// `500` if nothing was sent yet; otherwise the response cannot be repaired: close.
fn internal_error(res: &mut HttpResponse<'_>) {
    if res.is_fresh() {
        res.write_status("500 Internal Server Error")
            .end("Internal Server Error");
    } else if !res.has_responded() {
        res.close();
    }
}
