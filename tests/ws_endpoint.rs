//! WebSocket endpoints with an encoding (Starlette's `WebSocketEndpoint`): text, bytes and
//! JSON messages decoded before `on_receive`, 1003 for what cannot be decoded, `on_connect`
//! refusing with a status and seeing the route's parameters, `on_disconnect` hearing the code.

mod support;
mod ws_support;

use std::sync::Mutex;
use std::sync::mpsc;

use bytes::Bytes;
use serde::Deserialize;
use support::{Client, fetch, serve};
use tungstenite::Message;
use uweb::{App, HttpRequest, Json, OpCode, WebSocket, WebSocketEndpoint};
use ws_support::{connect, handshake_request, next_message, next_text, recv};

#[derive(Deserialize)]
struct Move {
    x: i32,
    y: i32,
}

/// JSON moves on `/rooms/:room?token=..`; the room is kept per connection.
struct Board {
    disconnects: Mutex<mpsc::Sender<u16>>,
}

#[derive(Default)]
struct Seat {
    room: String,
    moves: u32,
}

impl WebSocketEndpoint for Board {
    type Message = Json<Move>;
    type State = Seat;

    fn on_connect(&self, req: &HttpRequest<'_>, seat: &mut Seat) -> Result<(), u16> {
        if req.query_value("token").as_deref() != Some("ok") {
            return Err(401);
        }
        seat.room = req.parameter("room").unwrap_or_default().to_owned();
        Ok(())
    }

    fn on_receive(&self, ws: &mut WebSocket<'_, Seat>, Json(m): Json<Move>) {
        ws.user_data_mut().moves += 1;
        let seat = ws.user_data();
        let reply = serde_json::json!({"room": seat.room, "x": m.x, "y": m.y, "moves": seat.moves});
        ws.send_json(&reply);
    }

    fn on_disconnect(&self, _ws: &mut WebSocket<'_, Seat>, close_code: u16) {
        self.disconnects.lock().unwrap().send(close_code).unwrap();
    }
}

/// Text in, text out.
struct Shout;

impl WebSocketEndpoint for Shout {
    type Message = String;
    type State = ();

    fn on_receive(&self, ws: &mut WebSocket<'_, ()>, message: String) {
        ws.send(message.to_uppercase(), OpCode::Text);
    }
}

/// Bytes in, their length out.
struct Count;

impl WebSocketEndpoint for Count {
    type Message = Bytes;
    type State = ();

    fn on_receive(&self, ws: &mut WebSocket<'_, ()>, message: Bytes) {
        ws.send(message.len().to_string(), OpCode::Text);
    }
}

fn app(disconnects: mpsc::Sender<u16>) -> App {
    App::new()
        .ws_endpoint(
            "/rooms/:room",
            Board {
                disconnects: Mutex::new(disconnects),
            },
        )
        .ws_endpoint("/shout", Shout)
        .ws_endpoint("/count", Count)
}

/// The close frame's code and reason.
fn close_of(message: Message) -> (u16, String) {
    match message {
        Message::Close(Some(frame)) => (u16::from(frame.code), frame.reason.as_str().to_owned()),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[test]
fn json_messages_are_decoded_and_bad_json_closes_with_1003() {
    let (tx, disconnects) = mpsc::channel();
    let server = serve(app(tx), 1);
    let (mut ws, _) = connect(server.local_addr(), "/rooms/blue?token=ok");
    ws.send(Message::text(r#"{"x":1,"y":2}"#)).unwrap();
    let reply: serde_json::Value = serde_json::from_str(&next_text(&mut ws)).unwrap();
    assert_eq!(
        reply,
        serde_json::json!({"room": "blue", "x": 1, "y": 2, "moves": 1})
    );
    // JSON in a binary message is taken too, as by Starlette.
    ws.send(Message::binary(br#"{"x":3,"y":4}"#.to_vec()))
        .unwrap();
    let reply: serde_json::Value = serde_json::from_str(&next_text(&mut ws)).unwrap();
    assert_eq!(reply["moves"], 2);
    ws.send(Message::text(r#"{"x":1}"#)).unwrap();
    let (code, reason) = close_of(next_message(&mut ws));
    assert_eq!(code, 1003);
    assert!(
        reason.starts_with("Malformed JSON data received: missing field `y`"),
        "{reason}"
    );
    assert_eq!(recv(&disconnects), 1003);
    server.shutdown();
}

#[test]
fn the_client_close_code_reaches_on_disconnect() {
    let (tx, disconnects) = mpsc::channel();
    let server = serve(app(tx), 1);
    let (mut ws, _) = connect(server.local_addr(), "/rooms/red?token=ok");
    ws.close(Some(tungstenite::protocol::CloseFrame {
        code: 4001u16.into(),
        reason: "bye".into(),
    }))
    .unwrap();
    assert_eq!(recv(&disconnects), 4001);
    server.shutdown();
}

#[test]
fn on_connect_refuses_with_a_status() {
    let (tx, _disconnects) = mpsc::channel();
    let server = serve(app(tx), 1);
    let refused = fetch(
        server.local_addr(),
        handshake_request("/rooms/blue?token=no", ""),
    );
    assert_eq!(refused.status, 401);
    let mut client = Client::connect(server.local_addr());
    let accepted = client.request(handshake_request("/rooms/blue?token=ok", ""));
    assert_eq!(accepted.status, 101);
    server.shutdown();
}

#[test]
fn text_and_bytes_encodings_refuse_the_other_kind_with_1003() {
    let (tx, _disconnects) = mpsc::channel();
    let server = serve(app(tx), 1);
    let (mut shout, _) = connect(server.local_addr(), "/shout");
    shout.send(Message::text("hey")).unwrap();
    assert_eq!(next_text(&mut shout), "HEY");
    shout.send(Message::binary(vec![1u8])).unwrap();
    assert_eq!(
        close_of(next_message(&mut shout)),
        (
            1003,
            "Expected text websocket messages, but got bytes".into()
        )
    );
    let (mut count, _) = connect(server.local_addr(), "/count");
    count.send(Message::binary(vec![0u8; 5])).unwrap();
    assert_eq!(next_text(&mut count), "5");
    count.send(Message::text("five")).unwrap();
    assert_eq!(
        close_of(next_message(&mut count)),
        (
            1003,
            "Expected bytes websocket messages, but got text".into()
        )
    );
    server.shutdown();
}
