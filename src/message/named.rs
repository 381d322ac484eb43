//! Named routes with request ids and status codes (django-channels-router's
//! `SocketRouterConsumer`), wire-compatible with the seed:
//!
//! - client: `{"uuid": str, "route": str, "headers"?: object, "payload"?: any}`
//! - server: `{"uuid", "route", "headers", "payload", "status"}` with the request's uuid and
//!   route and an HTTP-style status.
//!
//! `PING` is answered `200` with null headers and payload (a heartbeat); an unknown route
//! `404` (payload null); a missing or non-string `uuid` or `route` `400` (uuid and route
//! echoed as sent, `""` when absent, as the seed does); a handler that panics or returns an
//! error `500` with `{"Error": "..."}`. The socket stays open in every case.
//!
//! With the `tokio` feature, routes may be async ([`NamedRoutes::route_async`]): their
//! replies are sent when their futures finish, so a slow route does not hold back the
//! socket's other requests (the client matches replies by `uuid`).

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::error::{BoxError, panic_message};
use crate::ws::{OpCode, WebSocket, WebSocketBehavior};

/// A message's `headers`: metadata beside the payload (an empty map when the client sent
/// none, or something that is not an object).
pub type Headers = Map<String, Value>;

/// What a named route answers: an HTTP-style status, the payload, and optional headers
/// (the seed's `{"status", "payload", "headers"}` result).
#[derive(Clone, Debug, PartialEq)]
pub struct Reply<T> {
    /// HTTP-style status (`200`, `201`, `404`...).
    pub status: u16,
    /// The reply's payload.
    pub payload: T,
    /// The reply's headers (`null` on the wire when `None`).
    pub headers: Option<Headers>,
}

impl<T> Reply<T> {
    /// `200` with `payload`.
    pub fn ok(payload: T) -> Reply<T> {
        Reply::with_status(200, payload)
    }

    /// `status` with `payload`.
    pub fn with_status(status: u16, payload: T) -> Reply<T> {
        Reply {
            status,
            payload,
            headers: None,
        }
    }

    /// Adds a reply header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Value>) -> Reply<T> {
        self.headers
            .get_or_insert_with(Map::new)
            .insert(name.into(), value.into());
        self
    }
}

/// A route's handler with its types erased: `(headers, payload) -> (status, headers,
/// payload)`, or the `{"Error": ...}` text of a `500`, or a `400` for a payload that did not
/// decode.
type Erased = Box<dyn Fn(&Headers, Value) -> Outcome + Send + Sync>;

/// An async route's handler with its types erased: the payload decoded at once (`Err`: the
/// `400`'s reason), the rest in the future.
#[cfg(feature = "tokio")]
type ErasedAsync = Box<dyn Fn(Headers, Value) -> Result<Pending, String> + Send + Sync>;

/// What an async route's future resolves to.
#[cfg(feature = "tokio")]
type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = Outcome> + Send>>;

/// A route's handler, answering now or (feature `tokio`) later.
enum Handler {
    Now(Erased),
    #[cfg(feature = "tokio")]
    Later(ErasedAsync),
}

/// A message's reply: its JSON text now, or (feature `tokio`) a future that makes it.
pub(crate) enum Answer {
    Now(String),
    #[cfg(feature = "tokio")]
    Later(std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send>>),
}

enum Outcome {
    Replied(u16, Option<Headers>, Value),
    BadPayload(String),
    Failed(String),
}

/// A table of named routes (django-channels-router's `routes` with their `on_*` methods),
/// served on a WebSocket route with [`App::named_routes`](crate::App::named_routes).
///
/// ```no_run
/// use uweb::{App, Headers, NamedRoutes, Reply};
///
/// #[derive(serde::Deserialize)]
/// struct Hello { name: Option<String> }
///
/// let routes = NamedRoutes::new()
///     .route("sayHello", |hello: Option<Hello>, _headers: &Headers| {
///         let name = hello.and_then(|h| h.name).unwrap_or_else(|| "World".into());
///         Reply::ok(format!("Hello, {name}!"))
///     });
/// App::new().named_routes("/ws/app/", routes).listen(3000).unwrap();
/// ```
#[derive(Default)]
pub struct NamedRoutes {
    routes: HashMap<String, Handler>,
}

impl std::fmt::Debug for NamedRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.routes.keys().collect();
        names.sort();
        f.debug_struct("NamedRoutes")
            .field("routes", &names)
            .finish()
    }
}

impl NamedRoutes {
    /// No routes (`PING` is always answered).
    pub fn new() -> Self {
        NamedRoutes::default()
    }

    /// Routes messages whose `route` is `name` (as the seed's clients send it, e.g.
    /// `"sayHello"`) to `handler(payload, headers)`. The payload is decoded into `P` with
    /// serde (a missing payload is JSON `null`: use `Option<P>` to accept it); one that
    /// does not decode is answered `400` with `{"Error": "invalid payload: <field path>:
    /// <what was wrong>"}`. The handler returns a [`Reply`], or a `Result` whose `Err` is
    /// answered `500` with `{"Error": <its text>}`; a panic too.
    pub fn route<P, R, F>(self, name: &str, handler: F) -> Self
    where
        P: DeserializeOwned,
        R: IntoReply,
        F: Fn(P, &Headers) -> R + Send + Sync + 'static,
    {
        self.route_with(
            name,
            |_headers: &Headers, payload: P| payload,
            handler,
            |r: R::Payload| r,
        )
    }

    /// A route with the seed's `hydrate` and `dehydrate`: `hydrate(headers, payload)` makes
    /// the handler's input (e.g. loads an article by `headers.id`), and `dehydrate(payload)`
    /// turns a successful (2xx) reply's payload into what is sent (e.g. `{"id", "title"}`);
    /// other replies send their payload as is.
    pub fn route_with<P, T, R, D, F, H, Z>(
        mut self,
        name: &str,
        hydrate: H,
        handler: F,
        dehydrate: Z,
    ) -> Self
    where
        P: DeserializeOwned,
        H: Fn(&Headers, P) -> T + Send + Sync + 'static,
        R: IntoReply,
        F: Fn(T, &Headers) -> R + Send + Sync + 'static,
        D: Serialize,
        Z: Fn(R::Payload) -> D + Send + Sync + 'static,
    {
        let erased = move |headers: &Headers, payload: Value| -> Outcome {
            let payload: P = match serde_path_to_error::deserialize(payload) {
                Ok(payload) => payload,
                Err(e) => return Outcome::BadPayload(describe(&e)),
            };
            let ran = catch_unwind(AssertUnwindSafe(|| {
                let input = hydrate(headers, payload);
                let reply = handler(input, headers).into_reply()?;
                let success = (200..300).contains(&reply.status);
                let payload = match success {
                    true => serde_json::to_value(dehydrate(reply.payload))?,
                    false => serde_json::to_value(&reply.payload)?,
                };
                Sent::Ok((reply.status, reply.headers, payload))
            }));
            outcome(ran)
        };
        self.routes
            .insert(name.to_owned(), Handler::Now(Box::new(erased)));
        self
    }

    /// An async route (feature `tokio`): `handler(payload, headers)` returns a future that
    /// runs on the tokio runtime (the app's, else uweb's own), and its reply goes out when it
    /// finishes, through the socket's [`WebSocketHandle`](crate::WebSocketHandle); meanwhile
    /// the socket's other messages are answered. Payload decoding, `Err` and panics (in the
    /// call or the future) are answered as for [`route`](Self::route). A reply whose socket
    /// has closed is dropped.
    #[cfg(feature = "tokio")]
    pub fn route_async<P, R, F, Fut>(mut self, name: &str, handler: F) -> Self
    where
        P: DeserializeOwned,
        R: IntoReply + 'static,
        F: Fn(P, Headers) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = R> + Send + 'static,
    {
        let erased = move |headers: Headers, payload: Value| -> Result<Pending, String> {
            let payload: P = serde_path_to_error::deserialize(payload).map_err(|e| describe(&e))?;
            let future = catch_unwind(AssertUnwindSafe(|| handler(payload, headers)));
            Ok(Box::pin(async move {
                let ran = match future {
                    Ok(future) => crate::runtime::CatchUnwind::new(future).await,
                    Err(panic) => Err(panic),
                };
                outcome(ran.map(|reply| {
                    let reply = reply.into_reply()?;
                    let payload = serde_json::to_value(&reply.payload)?;
                    Sent::Ok((reply.status, reply.headers, payload))
                }))
            }))
        };
        self.routes
            .insert(name.to_owned(), Handler::Later(Box::new(erased)));
        self
    }

    /// Answers one message (the text or binary payload of a WebSocket message): the reply's
    /// JSON text, now or from a future.
    pub(crate) fn answer(&self, message: &[u8]) -> Answer {
        Answer::Now(match self.answer_or_defer(message) {
            Ok(text) => text,
            #[cfg(feature = "tokio")]
            Err((uuid, route, pending)) => {
                return Answer::Later(Box::pin(async move { render(uuid, route, pending.await) }));
            }
            #[cfg(not(feature = "tokio"))]
            Err(never) => match never {},
        })
    }

    /// The reply's JSON text, or the request's uuid and route with the future of an async
    /// route's outcome.
    fn answer_or_defer(&self, message: &[u8]) -> Result<String, Deferred> {
        let Ok(Value::Object(mut content)) = serde_json::from_slice::<Value>(message) else {
            return Ok(envelope(
                Value::from(""),
                Value::from(""),
                Value::Null,
                Value::Null,
                400,
            ));
        };
        let (uuid, route) = (content.remove("uuid"), content.remove("route"));
        let (Some(Value::String(uuid)), Some(Value::String(route))) = (&uuid, &route) else {
            // As the seed: what was sent (or "") goes back with 400.
            let echo = |v: Option<Value>| v.unwrap_or_else(|| Value::from(""));
            return Ok(envelope(
                echo(uuid),
                echo(route),
                Value::Null,
                Value::Null,
                400,
            ));
        };
        if uuid.is_empty() || route.is_empty() {
            return Ok(envelope(
                uuid.as_str().into(),
                route.as_str().into(),
                Value::Null,
                Value::Null,
                400,
            ));
        }
        let (uuid_value, route_value) = (Value::from(uuid.as_str()), Value::from(route.as_str()));
        if route == "PING" {
            return Ok(envelope(
                uuid_value,
                route_value,
                Value::Null,
                Value::Null,
                200,
            ));
        }
        let Some(handler) = self.routes.get(route.as_str()) else {
            return Ok(envelope(
                uuid_value,
                route_value,
                Value::Null,
                Value::Null,
                404,
            ));
        };
        let headers = match content.remove("headers") {
            Some(Value::Object(headers)) => headers,
            _ => Map::new(),
        };
        let payload = content.remove("payload").unwrap_or(Value::Null);
        let outcome = match handler {
            Handler::Now(handler) => handler(&headers, payload),
            #[cfg(feature = "tokio")]
            Handler::Later(handler) => match handler(headers, payload) {
                Ok(pending) => return Err((uuid_value, route_value, pending)),
                Err(why) => Outcome::BadPayload(why),
            },
        };
        Ok(render(uuid_value, route_value, outcome))
    }

    /// The WebSocket behavior serving these routes: every message answered in one text
    /// message.
    pub(crate) fn into_behavior(self) -> WebSocketBehavior<()> {
        let routes = Arc::new(self);
        WebSocketBehavior::new().message(move |ws: &mut WebSocket<'_, ()>, message, _opcode| {
            match routes.answer(message) {
                Answer::Now(reply) => {
                    ws.send(reply, OpCode::Text);
                }
                #[cfg(feature = "tokio")]
                Answer::Later(reply) => {
                    let handle = ws.handle();
                    crate::http::batch::spawn_later(Box::pin(async move {
                        handle.send(reply.await, OpCode::Text);
                    }));
                }
            }
        })
    }
}

/// A message whose route is async: its uuid, its route and the future of its outcome.
#[cfg(feature = "tokio")]
type Deferred = (Value, Value, Pending);

/// Nothing is deferred without the `tokio` feature.
#[cfg(not(feature = "tokio"))]
type Deferred = std::convert::Infallible;

/// A handler's reply as sent: status, headers and payload; or its error.
type Sent = Result<(u16, Option<Headers>, Value), BoxError>;

/// A handler's run (a panic caught as `Err`) as the reply's outcome.
fn outcome<E: AsRef<dyn std::any::Any + Send>>(ran: Result<Sent, E>) -> Outcome {
    match ran {
        Ok(Ok((status, headers, payload))) => Outcome::Replied(status, headers, payload),
        Ok(Err(error)) => Outcome::Failed(error.to_string()),
        Err(panic) => Outcome::Failed(panic_message(panic.as_ref()).to_owned()),
    }
}

/// The envelope for `outcome` of the request `uuid` on `route`.
fn render(uuid: Value, route: Value, outcome: Outcome) -> String {
    match outcome {
        Outcome::Replied(status, headers, payload) => {
            let headers = headers.map_or(Value::Null, Value::Object);
            envelope(uuid, route, headers, payload, status)
        }
        Outcome::BadPayload(why) => {
            let payload = json!({"Error": format!("invalid payload: {why}")});
            envelope(uuid, route, Value::Null, payload, 400)
        }
        Outcome::Failed(why) => envelope(uuid, route, Value::Null, json!({"Error": why}), 500),
    }
}

/// The seed's reply, fields in its order (`uuid`, `route`, `headers`, `payload`, `status`).
fn envelope(uuid: Value, route: Value, headers: Value, payload: Value, status: u16) -> String {
    // `Value`s always serialize; `Map` would sort the keys.
    format!(
        r#"{{"uuid":{uuid},"route":{route},"headers":{headers},"payload":{payload},"status":{status}}}"#
    )
}

/// `payload.<path>: <error>` for a payload that did not decode (`.` alone for the root).
fn describe(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = error.path().to_string();
    let inner = error.inner().to_string();
    match path.as_str() {
        "." => inner,
        path => format!("{path}: {inner}"),
    }
}

/// What a named route's handler returns: a [`Reply`], or a `Result` of one whose `Err` is
/// answered `500`.
pub trait IntoReply {
    /// The reply's payload type.
    type Payload: Serialize;
    /// The reply, or the error to answer `500` with.
    ///
    /// # Errors
    /// The handler's `Err`.
    fn into_reply(self) -> Result<Reply<Self::Payload>, BoxError>;
}

impl<T: Serialize> IntoReply for Reply<T> {
    type Payload = T;

    fn into_reply(self) -> Result<Reply<T>, BoxError> {
        Ok(self)
    }
}

impl<T: Serialize, E: Into<BoxError>> IntoReply for Result<Reply<T>, E> {
    type Payload = T;

    fn into_reply(self) -> Result<Reply<T>, BoxError> {
        self.map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> NamedRoutes {
        #[derive(serde::Deserialize)]
        struct Hello {
            name: Option<String>,
        }
        NamedRoutes::new()
            .route("sayHello", |hello: Option<Hello>, _: &Headers| {
                let name = hello.and_then(|h| h.name).unwrap_or_else(|| "World".into());
                Reply::ok(format!("Hello, {name}!"))
            })
            .route("fail", |_: Value, _: &Headers| {
                Err::<Reply<()>, _>("no luck")
            })
    }

    fn now(answer: Answer) -> String {
        match answer {
            Answer::Now(text) => text,
            #[cfg(feature = "tokio")]
            Answer::Later(_) => panic!("a sync route answered later"),
        }
    }

    fn answer(message: &str) -> Value {
        serde_json::from_str(&now(routes().answer(message.as_bytes()))).unwrap()
    }

    #[test]
    fn envelopes_as_the_seed() {
        assert_eq!(
            answer(r#"{"uuid":"1","route":"sayHello","payload":{"name":"Ada"}}"#),
            json!({"uuid":"1","route":"sayHello","headers":null,"payload":"Hello, Ada!","status":200})
        );
        assert_eq!(
            answer(r#"{"uuid":"2","route":"PING"}"#),
            json!({"uuid":"2","route":"PING","headers":null,"payload":null,"status":200})
        );
        assert_eq!(answer(r#"{"uuid":"3","route":"nope"}"#)["status"], 404);
        assert_eq!(
            answer(r#"{"uuid":7,"route":"sayHello"}"#),
            json!({"uuid":7,"route":"sayHello","headers":null,"payload":null,"status":400})
        );
        assert_eq!(
            answer(r#"{"route":"sayHello"}"#),
            json!({"uuid":"","route":"sayHello","headers":null,"payload":null,"status":400})
        );
        assert_eq!(
            answer(r#"{"uuid":"4","route":"fail"}"#)["payload"],
            json!({"Error": "no luck"})
        );
        let bad = answer(r#"{"uuid":"5","route":"sayHello","payload":{"name":5}}"#);
        assert_eq!(bad["status"], 400);
        assert!(
            bad["payload"]["Error"]
                .as_str()
                .unwrap()
                .starts_with("invalid payload: name: invalid type"),
            "{bad}"
        );
        assert_eq!(answer("not json")["status"], 400);
    }

    #[test]
    fn field_order_is_the_seeds() {
        let text = now(routes().answer(br#"{"uuid":"1","route":"PING"}"#));
        assert_eq!(
            text,
            r#"{"uuid":"1","route":"PING","headers":null,"payload":null,"status":200}"#
        );
    }
}
