//! What can go wrong in user code (a panic, a returned `Err`, a request left unanswered, a
//! response field that would split the response), as the app-wide error handler hears it
//! (socketify's `set_error_handler`). A leaf: every layer may report one.

use std::any::Any;
use std::fmt;

/// The error a handler may return; it goes to the app's error handler (by default logged,
/// and `500` when nothing was sent yet).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A failure in user code while serving one request, handed to the error handler
/// ([`App::on_error`](crate::App::on_error)).
///
/// Opaque (hyper's style): ask it with [`is_panic`](Self::is_panic),
/// [`is_returned`](Self::is_returned), [`is_unanswered`](Self::is_unanswered); read the
/// [`panic_message`](Self::panic_message), the returned error through
/// [`source`](std::error::Error::source), where it happened ([`stage`](Self::stage)) and on
/// which route ([`route`](Self::route)). Its `Display` says all of that in one line.
pub struct HandlerError(Box<Inner>);

struct Inner {
    kind: Kind,
    stage: Stage,
    route: Option<Box<str>>,
}

enum Kind {
    /// The panic payload's message (`&str` or `String` payloads; others are described).
    Panic(Box<str>),
    /// The `Err` a handler or middleware returned.
    Returned(BoxError),
    /// The handler returned without answering and without waiting for the body.
    Unanswered,
    /// A status line or header field that would have split the response: the name of the
    /// field (`":status"` for the status line), escaped.
    InvalidField(Box<str>),
}

/// Where in a route's chain the failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// A middleware running before the handler ([`Router::middleware`](crate::Router::middleware)).
    Middleware,
    /// The route's handler (or endpoint method).
    Handler,
    /// A hook running after the handler ([`Router::after`](crate::Router::after)).
    After,
    /// The handler's [`on_data`](crate::HttpResponse::on_data) callback, reading the body
    /// after the handler returned (the route and request are gone by then).
    OnData,
    /// A WebSocket route's `upgrade` callback ([`WebSocketBehavior::upgrade`](crate::WebSocketBehavior::upgrade)).
    Upgrade,
    /// A WebSocket `open` callback (the socket is upgraded: no response or request).
    Open,
    /// A WebSocket `message` callback.
    Message,
    /// A WebSocket `drain` callback.
    Drain,
    /// A WebSocket `ping` callback.
    Ping,
    /// A WebSocket `pong` callback.
    Pong,
    /// A WebSocket `subscription` callback.
    Subscription,
    /// A WebSocket `dropped` callback.
    Dropped,
    /// A WebSocket `close` callback.
    Close,
    /// Code answering later, run on the loop: the calls of a
    /// [`DeferredResponse`](crate::DeferredResponse), an `on_writable` or `on_aborted`
    /// callback (the route and request are gone by then).
    Deferred,
}

impl Stage {
    /// A short description, as `Display` of [`HandlerError`] uses it.
    fn describe(self) -> &'static str {
        match self {
            Stage::Middleware => "middleware",
            Stage::Handler => "handler",
            Stage::After => "after hook",
            Stage::OnData => "on_data callback",
            Stage::Upgrade => "WebSocket upgrade callback",
            Stage::Open => "WebSocket open callback",
            Stage::Message => "WebSocket message callback",
            Stage::Drain => "WebSocket drain callback",
            Stage::Ping => "WebSocket ping callback",
            Stage::Pong => "WebSocket pong callback",
            Stage::Subscription => "WebSocket subscription callback",
            Stage::Dropped => "WebSocket dropped callback",
            Stage::Close => "WebSocket close callback",
            Stage::Deferred => "deferred response",
        }
    }
}

impl HandlerError {
    pub(crate) fn panic(payload: &(dyn Any + Send), stage: Stage, route: Option<&str>) -> Self {
        Self::new(Kind::Panic(panic_message(payload).into()), stage, route)
    }

    pub(crate) fn returned(error: BoxError, stage: Stage, route: Option<&str>) -> Self {
        Self::new(Kind::Returned(error), stage, route)
    }

    pub(crate) fn unanswered(route: Option<&str>) -> Self {
        Self::new(Kind::Unanswered, Stage::Handler, route)
    }

    /// A status line or header field refused because it would split the response (CR, LF
    /// or NUL in it, or a name that is not an RFC 9110 token). `field` is escaped here.
    pub(crate) fn invalid_field(field: &str, stage: Stage, route: Option<&str>) -> Self {
        let escaped: String = field.escape_debug().collect();
        Self::new(Kind::InvalidField(escaped.into()), stage, route)
    }

    fn new(kind: Kind, stage: Stage, route: Option<&str>) -> Self {
        let route = route.map(Box::from);
        HandlerError(Box::new(Inner { kind, stage, route }))
    }

    /// True when user code panicked (the panic was caught; the loop goes on).
    pub fn is_panic(&self) -> bool {
        matches!(self.0.kind, Kind::Panic(_))
    }

    /// True when a handler or middleware returned `Err`; the error is
    /// [`source`](std::error::Error::source).
    pub fn is_returned(&self) -> bool {
        matches!(self.0.kind, Kind::Returned(_))
    }

    /// True when a handler returned without answering (no `end`, no `on_data`, no yield).
    pub fn is_unanswered(&self) -> bool {
        matches!(self.0.kind, Kind::Unanswered)
    }

    /// True when a status line or header field was refused because it would have split the
    /// response (RFC 9112 section 2.2: CR, LF or NUL in a value, a name that is not a token):
    /// nothing of that response reached the wire. [`field`](Self::field) names it.
    pub fn is_invalid_field(&self) -> bool {
        matches!(self.0.kind, Kind::InvalidField(_))
    }

    /// The refused field's name (escaped: `\r`, `\n`, `\0` shown as such), or `":status"`
    /// for the status line; `None` for other errors.
    pub fn field(&self) -> Option<&str> {
        match &self.0.kind {
            Kind::InvalidField(name) => Some(name),
            _ => None,
        }
    }

    /// The panic message (the `&str` or `String` passed to `panic!`), for a panic.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.0.kind {
            Kind::Panic(message) => Some(message),
            _ => None,
        }
    }

    /// Where in the route's chain it happened.
    pub fn stage(&self) -> Stage {
        self.0.stage
    }

    /// The route, as `"GET /api/users/:id"` (`ANY` for `any` routes; full pattern, prefixes
    /// included); `None` when it is no longer known (a request left unanswered after its body
    /// was read).
    pub fn route(&self) -> Option<&str> {
        self.0.route.as_deref()
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = self.0.stage.describe();
        match &self.0.kind {
            Kind::Panic(message) => write!(f, "{stage} panicked: {message}")?,
            Kind::Returned(error) => write!(f, "{stage} failed: {error}")?,
            Kind::Unanswered => write!(f, "{stage} returned without answering")?,
            Kind::InvalidField(name) => write!(
                f,
                "{stage} wrote field {name} with CR, LF or NUL or a name that is not a token; response discarded"
            )?,
        }
        match &self.0.route {
            Some(route) => write!(f, " (route {route})"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HandlerError")
            .field(&self.to_string())
            .finish()
    }
}

impl std::error::Error for HandlerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            Kind::Returned(error) => Some(&**error),
            _ => None,
        }
    }
}

/// The message of a panic payload (`&str` or `String`; other payloads are described), for
/// HTTP handlers and WebSocket callbacks alike.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic payload)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn predicates_display_and_source() {
        let payload: Box<dyn Any + Send> = Box::new(String::from("boom"));
        let e = HandlerError::panic(payload.as_ref(), Stage::Middleware, Some("GET /a"));
        assert!(e.is_panic() && !e.is_returned() && !e.is_unanswered());
        assert_eq!(e.panic_message(), Some("boom"));
        assert_eq!(e.stage(), Stage::Middleware);
        assert_eq!(e.to_string(), "middleware panicked: boom (route GET /a)");
        assert!(e.source().is_none());

        let e = HandlerError::returned("no db".into(), Stage::Handler, None);
        assert!(e.is_returned());
        assert_eq!(e.source().unwrap().to_string(), "no db");
        assert_eq!(e.to_string(), "handler failed: no db");

        let e = HandlerError::unanswered(Some("ANY /x"));
        assert!(e.is_unanswered());
        assert_eq!(e.route(), Some("ANY /x"));
        assert_eq!(
            e.to_string(),
            "handler returned without answering (route ANY /x)"
        );

        let payload: Box<dyn Any + Send> = Box::new(7u8);
        let e = HandlerError::panic(payload.as_ref(), Stage::After, None);
        assert_eq!(e.panic_message(), Some("(non-string panic payload)"));
    }

    #[test]
    fn is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<HandlerError>();
    }
}
