//! The hand-off from HTTP to WebSocket: the context an `upgrade` callback passes to
//! [`HttpResponse::upgrade`], which answers `101` and leaves the socket's WebSocket side for
//! the loop as an opaque protocol switch.

use std::marker::PhantomData;
use std::sync::Arc;

use super::deflate::negotiate::{Agreement, negotiate};
use super::handshake;
use super::route::{Accepted, ErasedBehavior};
use super::side::RouteParams;
use crate::http::field;
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;

/// A valid handshake waiting for [`HttpResponse::upgrade`]: the `Sec-WebSocket-Accept`
/// value, the route's behavior, and optional response fields (uWebSockets passes the key,
/// protocol, extensions and context separately; here they travel together).
pub struct UpgradeContext<U> {
    accept: String,
    behavior: Arc<dyn ErasedBehavior>,
    fields: String,
    _user: PhantomData<fn() -> U>,
    /// The first field refused by `write_header` (it would have split the `101`).
    refused: Option<Box<str>>,
    /// The route's parameters, for `WebSocket::parameter`.
    params: Option<Box<RouteParams>>,
    /// permessage-deflate, if negotiated (its response field is in `fields`).
    deflate: Option<Agreement>,
}

impl<U> std::fmt::Debug for UpgradeContext<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpgradeContext")
            .field("accept", &self.accept)
            .finish_non_exhaustive()
    }
}

impl<U> UpgradeContext<U> {
    /// The context of a valid handshake whose `Sec-WebSocket-Accept` value is `accept`.
    pub(crate) fn new(accept: String, behavior: Arc<dyn ErasedBehavior>) -> Self {
        UpgradeContext {
            accept,
            behavior,
            fields: String::new(),
            _user: PhantomData,
            refused: None,
            params: None,
            deflate: None,
        }
    }

    /// Negotiates permessage-deflate (RFC 7692) with the request's offers under the route's
    /// options: the agreement is kept and `Sec-WebSocket-Extensions` answered.
    pub(crate) fn with_deflate(mut self, req: &HttpRequest<'_>) -> Self {
        let options = self.behavior.settings().compression;
        if !options.enabled() {
            return self;
        }
        let offers = req
            .headers()
            .filter(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-extensions"))
            .filter_map(|(_, value)| std::str::from_utf8(value).ok());
        if let Some((agreement, response)) = negotiate(offers, &options) {
            self.write_header("Sec-WebSocket-Extensions", &response);
            self.deflate = Some(agreement);
        }
        self
    }

    /// Keeps the route's parameters of the handshake request (none: nothing kept).
    pub(crate) fn with_params(mut self, req: &HttpRequest<'_>) -> Self {
        let (names, _) = req.parameter_spans();
        if !names.is_empty() {
            let values = (0..names.len()).map(|i| req.parameter(i).unwrap_or_default());
            self.params = Some(Box::new(RouteParams::new(names, values)));
        }
        self
    }

    /// Answers with `Sec-WebSocket-Protocol: protocol`: pick one of those the client offered
    /// in its `Sec-WebSocket-Protocol` field (RFC 6455 section 4.2.2, item 5.4).
    ///
    /// A `protocol` containing CR, LF or NUL is refused as by
    /// [`write_header`](Self::write_header): no upgrade, and the error handler hears of the
    /// `Sec-WebSocket-Protocol` field.
    pub fn select_protocol(&mut self, protocol: &str) -> &mut Self {
        self.write_header("Sec-WebSocket-Protocol", protocol)
    }

    /// Adds a field to the `101` response (e.g. `Set-Cookie`).
    ///
    /// A field that would split the response is refused, as by
    /// [`HttpResponse::write_header`] (RFC 9110 sections 5.1 and 5.5): a `name` that is not a
    /// token or a `value` containing CR, LF or NUL. It is not added, nor is any field after
    /// it, and [`HttpResponse::upgrade`] with this context does not upgrade: nothing is sent,
    /// the app's error handler ([`App::on_error`](crate::App::on_error)) gets a
    /// [`HandlerError`](crate::HandlerError) naming the field
    /// ([`field`](crate::HandlerError::field)), and by default the client gets
    /// `500 Internal Server Error`.
    pub fn write_header(&mut self, name: &str, value: &str) -> &mut Self {
        if self.refused.is_some() {
            return self;
        }
        if !(field::valid_name(name.as_bytes()) && field::valid_value(value.as_bytes())) {
            self.refused = Some(name.into());
            return self;
        }
        self.fields.push_str(name);
        self.fields.push_str(": ");
        self.fields.push_str(value);
        self.fields.push_str("\r\n");
        self
    }
}

impl HttpResponse<'_> {
    /// Accepts the WebSocket handshake of `ctx` (RFC 6455 section 4.2.2): queues
    /// `101 Switching Protocols` and makes the socket a WebSocket with `user_data` once the
    /// current callback returns; the route's `open` callback runs then. Bytes the client sent
    /// after the handshake are read as WebSocket frames.
    ///
    /// Ignored (with an error logged) if a response was already started. Not carried out if
    /// `ctx` holds a refused field ([`UpgradeContext::write_header`]): the response is
    /// discarded as by a refused [`write_header`](Self::write_header), and the error handler
    /// or the default `500` answers.
    pub fn upgrade<U: Send + 'static>(&mut self, user_data: U, ctx: UpgradeContext<U>) {
        if let Some(field) = &ctx.refused {
            match self.is_fresh() {
                true => self.refuse(field),
                false => log::error!("upgrade() after the response started; ignored"),
            }
            return;
        }
        let accepted = Accepted {
            behavior: ctx.behavior,
            user: Box::new(user_data),
            params: ctx.params,
            deflate: ctx.deflate,
        };
        let write = |out: &mut Vec<u8>| {
            handshake::write_switching_protocols(out, &ctx.accept, &ctx.fields);
        };
        if !self.switch_protocols(write, Box::new(accepted)) {
            log::error!("upgrade() after the response started; ignored");
        }
    }
}
