//! A JSON-encoded WebSocket endpoint (Starlette's `WebSocketEndpoint` with
//! `encoding = "json"`) on `/ws`: each message must be `{"text": ...}`; the reply counts the
//! messages of the connection. A message that is not such JSON closes the socket with 1003.
//!
//! Run: `PORT=3000 cargo run --example ws_endpoint`, then with `websocat ws://localhost:3000/ws`
//! (or any client) send `{"text":"hi"}`.

mod common;

use serde::Deserialize;
use uweb::{App, HttpRequest, Json, WebSocket, WebSocketEndpoint};

#[derive(Deserialize)]
struct Say {
    text: String,
}

struct Echo;

impl WebSocketEndpoint for Echo {
    type Message = Json<Say>;
    /// Messages received on this connection.
    type State = u64;

    fn on_connect(&self, req: &HttpRequest<'_>, _count: &mut u64) -> Result<(), u16> {
        println!("connect from {}", req.remote_addr());
        Ok(())
    }

    fn on_receive(&self, ws: &mut WebSocket<'_, u64>, Json(say): Json<Say>) {
        *ws.user_data_mut() += 1;
        let count = *ws.user_data();
        ws.send_json(&serde_json::json!({"echo": say.text, "count": count}));
    }

    fn on_disconnect(&self, _ws: &mut WebSocket<'_, u64>, close_code: u16) {
        println!("disconnect: {close_code}");
    }
}

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    let threads = common::threads();
    println!("listening on ws://localhost:{port}/ws with {threads} loop(s)");
    App::new()
        .threads(threads)
        .ws_endpoint("/ws", Echo)
        .listen(port)
}
