//! `WebSocketBehavior<U>`: a WebSocket route's settings and callbacks (uWebSockets'
//! `WebSocketBehavior`), its type-erased form the event loops call, and the route handler
//! that checks the handshake.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use super::codec::OpCode;
use super::deflate::options::CompressOptions;
use super::handle::{Callback, Core, Hooks, WebSocket};
use super::handshake::{self, Check};
use super::route::ErasedBehavior;
use super::settings::Settings;
use super::upgrade::UpgradeContext;
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;

type UpgradeHook<U> =
    Box<dyn Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>, UpgradeContext<U>) + Send + Sync>;

/// Settings and callbacks of a WebSocket route, for [`App::ws`](crate::App::ws).
///
/// `U` is the per-socket user data, created by the `upgrade` callback (or `U::default()`
/// without one) and reachable in every callback through [`WebSocket::user_data`]. Callbacks
/// run on the loop that owns the socket and must not block. A panicking callback goes to the
/// app's error handler ([`App::on_error`](crate::App::on_error), with the callback's
/// [`Stage`](crate::Stage) and no response or request); its socket is closed with 1011
/// (RFC 6455 section 7.4.1, "internal error") when a close frame can still be sent, else
/// dropped, and the loop goes on.
pub struct WebSocketBehavior<U> {
    pub(crate) settings: Settings,
    pub(crate) upgrade: Option<UpgradeHook<U>>,
    pub(crate) hooks: Hooks<U>,
}

impl<U> Default for WebSocketBehavior<U> {
    fn default() -> Self {
        Self::new()
    }
}

impl<U> std::fmt::Debug for WebSocketBehavior<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketBehavior")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<U> WebSocketBehavior<U> {
    /// Defaults as in uWebSockets: 16 KiB messages, 120 s idle timeout with automatic pings,
    /// 64 KiB backpressure, no lifetime limit, no callbacks.
    pub fn new() -> Self {
        WebSocketBehavior {
            settings: Settings::default(),
            upgrade: None,
            hooks: Hooks::default(),
        }
    }

    /// Largest message (all fragments together) in bytes, at most `u32::MAX` (4 GiB - 1); a
    /// larger one fails the connection with close code 1009. Default 16 KiB.
    pub fn max_payload_length(mut self, bytes: usize) -> Self {
        self.settings.max_payload_length = bytes.min(u32::MAX as usize);
        self
    }

    /// How long a socket may stay silent (seconds resolution). With automatic pings, silence
    /// past it sends a ping and a further `idle_timeout` of silence closes the TCP connection
    /// (close code 1006 reported); without, the first expiry closes. `Duration::ZERO`
    /// disables it. Default 120 s.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.settings.idle_timeout = timeout;
        self
    }

    /// Handles each message with an async function (feature `tokio`): `handler(handle,
    /// message, opcode)` gets a [`WebSocketHandle`](crate::WebSocketHandle) to answer
    /// through and its own copy of the message, and its future runs on the app's tokio
    /// runtime ([`App::runtime`](crate::App::runtime)). Futures of one socket run
    /// concurrently: answers may come out of order. A panic goes to the error handler
    /// ([`Stage::Message`](crate::Stage::Message)) and closes the socket with 1011. Replaces
    /// [`message`](Self::message).
    #[cfg(feature = "tokio")]
    pub fn message_async<F, Fut>(self, handler: F) -> Self
    where
        F: Fn(super::remote::WebSocketHandle, bytes::Bytes, OpCode) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.message(move |ws, message, opcode| {
            let handle = ws.handle();
            let future = handler(
                handle.clone(),
                bytes::Bytes::copy_from_slice(message),
                opcode,
            );
            crate::http::batch::spawn_later(Box::pin(async move {
                if let Err(panic) = crate::runtime::CatchUnwind::new(future).await {
                    let error = crate::error::HandlerError::panic(
                        panic.as_ref(),
                        crate::error::Stage::Message,
                        None,
                    );
                    handle.fail(error);
                }
            }));
        })
    }

    /// Bytes a socket may have buffered before [`WebSocket::send`] and publishes to it are
    /// dropped ([`SendStatus::Dropped`](crate::SendStatus::Dropped)). Default 64 KiB.
    pub fn max_backpressure(mut self, bytes: usize) -> Self {
        self.settings.max_backpressure = bytes;
        self
    }

    /// Close the TCP connection (instead of just dropping the message) when a send hits
    /// `max_backpressure`. Default off.
    pub fn close_on_backpressure_limit(mut self, on: bool) -> Self {
        self.settings.close_on_backpressure_limit = on;
        self
    }

    /// Whether sending (not only receiving) restarts the idle timer. Default off.
    pub fn reset_idle_timeout_on_send(mut self, on: bool) -> Self {
        self.settings.reset_idle_timeout_on_send = on;
        self
    }

    /// Whether an idle socket is pinged before it is closed. Default on.
    pub fn send_pings_automatically(mut self, on: bool) -> Self {
        self.settings.send_pings_automatically = on;
        self
    }

    /// Ends every socket of this route with close code 1000 this long after it opened
    /// (seconds resolution). Default: no limit.
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.max_lifetime = Some(lifetime).filter(|l| !l.is_zero());
        self
    }

    /// permessage-deflate (RFC 7692) for this route: which compressor and decompressor
    /// (shared per loop or dedicated per socket), the size threshold and level
    /// (uWebSockets' `compression`). Default [`CompressOptions::DISABLED`]: offers are
    /// declined. With compression on, [`max_payload_length`](Self::max_payload_length)
    /// limits the inflated size, checked while inflating (close 1009).
    pub fn compression(mut self, options: CompressOptions) -> Self {
        self.settings.compression = options;
        self
    }

    /// Called for every valid handshake, with the request (path parameters, query, fields)
    /// and a context to pass to [`HttpResponse::upgrade`]. The handler either upgrades with
    /// its user data, or answers with any HTTP response to refuse. Without this callback,
    /// every valid handshake is upgraded with `U::default()`.
    pub fn upgrade(
        mut self,
        f: impl Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>, UpgradeContext<U>)
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.upgrade = Some(Box::new(f));
        self
    }

    /// Called once the socket is open (after the `101` is queued).
    pub fn open(mut self, f: impl Fn(&mut WebSocket<'_, U>) + Send + Sync + 'static) -> Self {
        self.hooks.open = Some(Box::new(f));
        self
    }

    /// Called with each whole message: its payload (valid UTF-8 for [`OpCode::Text`]) and
    /// opcode, `Text` or `Binary`. The payload is valid only during the call.
    pub fn message(
        mut self,
        f: impl Fn(&mut WebSocket<'_, U>, &[u8], OpCode) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.message = Some(Box::new(f));
        self
    }

    /// Called when buffered bytes were written out (the socket can take more sends); check
    /// [`WebSocket::buffered_amount`].
    pub fn drain(mut self, f: impl Fn(&mut WebSocket<'_, U>) + Send + Sync + 'static) -> Self {
        self.hooks.drain = Some(Box::new(f));
        self
    }

    /// Called with each ping's payload, after the pong was queued.
    pub fn ping(
        mut self,
        f: impl Fn(&mut WebSocket<'_, U>, &[u8]) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.ping = Some(Box::new(f));
        self
    }

    /// Called with each pong's payload.
    pub fn pong(
        mut self,
        f: impl Fn(&mut WebSocket<'_, U>, &[u8]) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.pong = Some(Box::new(f));
        self
    }

    /// Called exactly once per opened socket, with the close code and reason: the client's
    /// (1005 if its close frame had none), ours from [`WebSocket::end`], the protocol error
    /// we failed it with (1002, 1007, 1009), or 1006 when the TCP connection ended without a
    /// closing handshake. Sends are dropped from here on.
    pub fn close(
        mut self,
        f: impl Fn(&mut WebSocket<'_, U>, u16, &str) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.close = Some(Box::new(f));
        self
    }

    /// Called after each subscribe and unsubscribe with the topic and its subscriber count
    /// (every loop) after and before.
    pub fn subscription(
        mut self,
        f: impl Fn(&mut WebSocket<'_, U>, &str, usize, usize) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.subscription = Some(Box::new(f));
        self
    }

    /// Called with each published message this socket did not get because it had more than
    /// `max_backpressure` bytes buffered.
    pub fn dropped(
        mut self,
        f: impl Fn(&mut WebSocket<'_, U>, &[u8], OpCode) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.dropped = Some(Box::new(f));
        self
    }
}

impl<U: Send + 'static> ErasedBehavior for WebSocketBehavior<U> {
    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn run<'a>(
        &'a self,
        core: &'a mut Core<'a>,
        user: &'a mut (dyn Any + Send),
        callback: Callback<'_>,
    ) {
        let Some(user) = user.downcast_mut::<U>() else {
            log::error!("WebSocket user data of the wrong type; callback skipped");
            return;
        };
        let mut ws = WebSocket {
            core,
            user,
            hooks: &self.hooks,
        };
        self.hooks.run(&mut ws, callback);
    }
}

/// The GET handler of a WebSocket route: non-upgrade requests yield to the next route,
/// malformed handshakes get 400 or 426, valid ones go to the `upgrade` callback or are
/// upgraded at once with `U::default()`.
pub(crate) fn route_handler<U: Default + Send + 'static>(
    behavior: Arc<WebSocketBehavior<U>>,
) -> impl Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) + Send + Sync + 'static {
    move |res, req| match handshake::check(req) {
        Check::NotUpgrade => req.set_yield(true),
        Check::Reject(rejection) => rejection.respond(res),
        Check::Accept(key) => {
            let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
            let erased = Arc::clone(&behavior) as Arc<dyn ErasedBehavior>;
            let ctx = UpgradeContext::new(accept, erased)
                .with_params(req)
                .with_deflate(req);
            match &behavior.upgrade {
                Some(hook) => hook(res, req, ctx),
                None => res.upgrade(U::default(), ctx),
            }
        }
    }
}
