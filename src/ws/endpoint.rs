//! WebSocket endpoints with an encoding (Starlette's `WebSocketEndpoint`): a type with
//! `on_connect`, `on_receive` and `on_disconnect`, whose messages are decoded before they
//! reach it: text (`String`), bytes (`Bytes`, `Vec<u8>`) or JSON (`Json<T>`, any
//! `T: DeserializeOwned`). A message of the wrong kind, or JSON that does not decode into `T`,
//! closes the socket with 1003 ("unsupported data"), as Starlette does, with a reason saying
//! what was wrong.

use std::sync::Arc;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::behavior::WebSocketBehavior;
use super::codec::OpCode;
use super::handle::WebSocket;
use crate::http::request::HttpRequest;
use crate::http::respond::Json;

/// Close code for a message the endpoint cannot take (RFC 6455 section 7.4.1).
pub const UNSUPPORTED_DATA: u16 = 1003;

/// How an endpoint's messages are decoded (Starlette's `encoding`): `String` for `"text"`,
/// `Bytes` or `Vec<u8>` for `"bytes"`, [`Json<T>`](Json) for `"json"`.
pub trait Decode: Sized + Send + 'static {
    /// Decodes one whole message of type `opcode`.
    ///
    /// # Errors
    /// The close reason (at most 123 bytes are sent) when the message cannot be taken.
    fn decode(message: &[u8], opcode: OpCode) -> Result<Self, String>;
}

impl Decode for String {
    /// Text messages only (Starlette's `"text"`).
    fn decode(message: &[u8], opcode: OpCode) -> Result<Self, String> {
        match opcode {
            // Text frames were checked to be UTF-8 (RFC 6455 section 8.1, close 1007).
            OpCode::Text => Ok(String::from_utf8_lossy(message).into_owned()),
            _ => Err("Expected text websocket messages, but got bytes".into()),
        }
    }
}

impl Decode for Bytes {
    /// Binary messages only (Starlette's `"bytes"`).
    fn decode(message: &[u8], opcode: OpCode) -> Result<Self, String> {
        match opcode {
            OpCode::Binary => Ok(Bytes::copy_from_slice(message)),
            _ => Err("Expected bytes websocket messages, but got text".into()),
        }
    }
}

impl Decode for Vec<u8> {
    /// Binary messages only (Starlette's `"bytes"`).
    fn decode(message: &[u8], opcode: OpCode) -> Result<Self, String> {
        Bytes::decode(message, opcode).map(|bytes| bytes.to_vec())
    }
}

impl<T: DeserializeOwned + Send + 'static> Decode for Json<T> {
    /// A text or binary message holding UTF-8 JSON that decodes into `T` (Starlette's
    /// `"json"`, which checks only that it is JSON; here the shape is checked too, and the
    /// reason names what did not fit).
    fn decode(message: &[u8], _opcode: OpCode) -> Result<Self, String> {
        serde_json::from_slice(message)
            .map(Json)
            .map_err(|e| format!("Malformed JSON data received: {e}"))
    }
}

/// A WebSocket endpoint (Starlette's `WebSocketEndpoint`), registered with
/// [`App::ws_endpoint`](crate::App::ws_endpoint). One value serves every connection;
/// per-connection data lives in [`State`](Self::State), reachable through
/// [`WebSocket::user_data_mut`].
///
/// ```no_run
/// use uweb::{App, Json, WebSocket, WebSocketEndpoint};
///
/// #[derive(serde::Deserialize)]
/// struct Move { x: i32, y: i32 }
///
/// struct Board;
///
/// impl WebSocketEndpoint for Board {
///     type Message = Json<Move>;
///     type State = u32; // moves so far
///
///     fn on_receive(&self, ws: &mut WebSocket<'_, u32>, Json(m): Json<Move>) {
///         *ws.user_data_mut() += 1;
///         let moves = *ws.user_data();
///         ws.send_json(&serde_json::json!({"x": m.x, "y": m.y, "moves": moves}));
///     }
/// }
///
/// App::new().ws_endpoint("/ws", Board).listen(3000).unwrap();
/// ```
pub trait WebSocketEndpoint: Send + Sync + 'static {
    /// What each message is decoded into before [`on_receive`](Self::on_receive).
    type Message: Decode;
    /// Per-connection data, `Default` when the connection is accepted.
    type State: Default + Send + 'static;

    /// Before the handshake is answered: accept (`Ok`, after setting up `state`), or refuse
    /// with an HTTP status (`Err(403)`; Starlette refuses a socket closed before `accept`
    /// with 403). Sees the route's parameters, the query and the fields. Accepts by default.
    ///
    /// # Errors
    /// The status to refuse with (a code without a reason phrase is sent as `403`).
    fn on_connect(&self, req: &HttpRequest<'_>, state: &mut Self::State) -> Result<(), u16> {
        let _ = (req, state);
        Ok(())
    }

    /// Each message, decoded.
    fn on_receive(&self, ws: &mut WebSocket<'_, Self::State>, message: Self::Message);

    /// Once, when the socket closes: the close code (the client's, ours, 1003 for an
    /// undecodable message, or 1006 when the connection just ended).
    fn on_disconnect(&self, ws: &mut WebSocket<'_, Self::State>, close_code: u16) {
        let _ = (ws, close_code);
    }
}

/// The behavior that runs `endpoint`: `on_connect` in the upgrade hook, messages decoded
/// (1003 when they cannot be), `on_disconnect` in the close hook.
pub(crate) fn behavior<E: WebSocketEndpoint>(endpoint: E) -> WebSocketBehavior<E::State> {
    let endpoint = Arc::new(endpoint);
    let (connect, receive, disconnect) = (Arc::clone(&endpoint), Arc::clone(&endpoint), endpoint);
    WebSocketBehavior::new()
        .upgrade(move |res, req, ctx| {
            let mut state = E::State::default();
            match connect.on_connect(req, &mut state) {
                Ok(()) => res.upgrade(state, ctx),
                Err(code) => {
                    let status = ::http::StatusCode::from_u16(code)
                        .ok()
                        .and_then(|s| s.canonical_reason().map(|r| format!("{} {r}", s.as_str())))
                        .unwrap_or_else(|| "403 Forbidden".into());
                    res.write_status(&status).end("");
                }
            }
        })
        .message(
            move |ws, message, opcode| match E::Message::decode(message, opcode) {
                Ok(message) => receive.on_receive(ws, message),
                Err(reason) => ws.end(UNSUPPORTED_DATA, &reason),
            },
        )
        .close(move |ws, code, _reason| disconnect.on_disconnect(ws, code))
}
