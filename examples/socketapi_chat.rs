//! SocketAPI's chat example in Rust, its protocol on WebSocket `/`:
//! - channel `chat_room`, with `room_id` required on subscribe and keyed by it (a message
//!   reaches only its room's subscribers; the seed sends it to every subscriber);
//! - action `send_message` taking `{"message": {"user", "text", "room"}}`: pushes the message
//!   to `chat_room` for that room and answers `{"sent": true}`;
//! - action `get_history` taking `room_id` and an optional `limit` (default 50): answers
//!   `{"room", "messages"}` (the last messages sent to the room, up to `limit`);
//! - `POST /_broadcast` `{"channel", "data"}` from this machine pushes to a channel;
//! - `GET /chat` a page whose JavaScript client joins the room in the URL's fragment
//!   (`/chat#lobby`), shows what the room receives, and sends what is typed.
//!
//! Run: `PORT=3000 cargo run --example socketapi_chat`, then open
//! `http://localhost:3000/chat#lobby` in two tabs, or with a WebSocket client on
//! `ws://localhost:3000/` send `{"type":"subscribe","channel":"chat_room","data":{"room_id":"lobby"}}`.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::json;
use uweb::{App, ChannelOptions, ChannelPusher, Channels};

#[derive(Clone, Deserialize, Serialize)]
struct Message {
    user: String,
    text: String,
    room: String,
}

#[derive(Deserialize)]
struct ChatRoom {
    room_id: String,
    message: Option<Message>,
}

#[derive(Deserialize)]
struct Send {
    message: Message,
}

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>uweb SocketAPI chat</title>
<style>body{font:16px sans-serif;max-width:40em;margin:2em auto}#log{min-height:10em;border:1px solid #ccc;padding:.5em}</style>
<h1>Room <span id="room"></span> <small id="state">connecting</small></h1>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" size="40"> <button>Send</button></form>
<script>
const room = decodeURIComponent(location.hash.slice(1)) || "lobby";
const user = "guest" + Math.floor(Math.random() * 1000);
document.getElementById("room").textContent = room;
const log = document.getElementById("log");
const show = (line, cls) => { const p = document.createElement("div"); p.className = cls; p.textContent = line; log.append(p); };
const ws = new WebSocket(`ws://${location.host}/`);
const send = (message) => ws.send(JSON.stringify(message));
ws.onopen = () => send({type: "subscribe", channel: "chat_room", data: {room_id: room}});
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (m.type === "subscribed") document.getElementById("state").textContent = "joined";
  else if (m.type === "data") show(`${m.data.user || "server"}: ${m.data.text}`, "message");
  else if (m.type === "error") show(`error: ${m.message}`, "error");
};
document.getElementById("form").onsubmit = (e) => {
  e.preventDefault();
  const text = document.getElementById("text");
  if (text.value) send({type: "action", channel: "send_message", data: {message: {user, text: text.value, room}}});
  text.value = "";
};
</script>
"#;

fn default_limit() -> usize {
    50
}

#[derive(Deserialize)]
struct History {
    room_id: String,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    let threads = common::threads();
    // The seed keeps no history ("fetch from database"); here, the messages sent, per room.
    let history: Arc<Mutex<HashMap<String, Vec<Message>>>> = Arc::default();
    let saved = Arc::clone(&history);
    let channels = Channels::new()
        .channel_with(
            "chat_room",
            ChannelOptions::new().keyed_by("room_id"),
            |room: ChatRoom| match room.message {
                Some(message) => json!(message),
                None => json!({"room": room.room_id, "text": "Welcome to the chat room!"}),
            },
        )
        .action(
            "send_message",
            move |send: Send, channels: &ChannelPusher| {
                let room = send.message.room.clone();
                saved
                    .lock()
                    .unwrap()
                    .entry(room.clone())
                    .or_default()
                    .push(send.message.clone());
                channels.push(
                    "chat_room",
                    json!({"room_id": room, "message": send.message}),
                )?;
                Ok::<_, String>(json!({"sent": true}))
            },
        )
        .action("get_history", move |query: History, _: &ChannelPusher| {
            let rooms = history.lock().unwrap();
            let messages = rooms.get(&query.room_id).map_or(&[][..], Vec::as_slice);
            let last = &messages[messages.len().saturating_sub(query.limit)..];
            Ok::<_, String>(json!({"room": query.room_id, "messages": last}))
        });
    let app = App::new().threads(threads);
    let pusher = channels.pusher(app.publisher());
    println!("listening on ws://localhost:{port}/ with {threads} loop(s)");
    app.channels("/", channels)
        .post("/_broadcast", pusher.broadcast_handler())
        .get("/chat", |res, _req| {
            res.write_header("Content-Type", "text/html; charset=utf-8")
                .end(PAGE);
        })
        .listen(port)
}
