//! The chat room of examples/broadcast.rs and examples/cluster_chat.rs: `GET /` serves a page
//! whose browser WebSocket joins `/chat/:room`; every message is published to the room's topic.
//! The room `private` is refused (403). Browsers negotiate permessage-deflate (RFC 7692); the
//! page shows the extension it got.

use std::time::Duration;

use uweb::{App, CompressOptions, OpCode, WebSocketBehavior};

/// Per-socket data: the room joined and a short name for the member.
#[derive(Default)]
struct Member {
    room: String,
    name: String,
}

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>uweb chat</title>
<style>body{font:16px sans-serif;max-width:40em;margin:2em auto}#log{height:20em;overflow:auto;border:1px solid #ccc;padding:.5em}</style>
<h1>Room <span id="room"></span></h1>
<p>WebSocket extensions: <code id="ext">(connecting)</code></p>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" size="50" autofocus> <button>Send</button></form>
<script>
const room = decodeURIComponent(location.hash.slice(1)) || "lobby";
document.getElementById("room").textContent = room;
const log = document.getElementById("log");
const show = (line) => { const p = document.createElement("div"); p.textContent = line; log.append(p); log.scrollTop = log.scrollHeight; };
const ws = new WebSocket(`ws://${location.host}/chat/${encodeURIComponent(room)}`);
ws.onopen = () => { document.getElementById("ext").textContent = ws.extensions || "(none)"; };
ws.onmessage = (e) => show(e.data);
ws.onclose = (e) => show(`(closed: ${e.code} ${e.reason})`);
document.getElementById("form").onsubmit = (e) => {
  e.preventDefault();
  const text = document.getElementById("text");
  if (text.value) { ws.send(text.value); text.value = ""; }
};
</script>
"#;

/// `app` with the page and the room route.
pub(crate) fn routes(app: App) -> App {
    app.get("/", |res, _req| {
        res.write_header("Content-Type", "text/html; charset=utf-8")
            .end(PAGE);
    })
    .ws::<Member>(
        "/chat/:room",
        WebSocketBehavior::new()
            .max_payload_length(16 * 1024)
            .idle_timeout(Duration::from_secs(120))
            // permessage-deflate with one compressor per loop: a line published to a
            // room is compressed once for every member on the loop.
            .compression(CompressOptions::SHARED)
            .upgrade(|res, req, ctx| {
                let room = req.parameter("room").unwrap_or_default().to_owned();
                if room == "private" {
                    return res.write_status("403 Forbidden").end("no");
                }
                let name = format!("guest-{}", req.remote_addr().port());
                res.upgrade(Member { room, name }, ctx);
            })
            .open(|ws| {
                let Member { room, name } = ws.user_data();
                let (room, joined) = (room.clone(), format!("{name} joined"));
                ws.subscribe(&room);
                ws.publish(&room, &joined, OpCode::Text);
                let members = ws.num_subscribers(&room);
                ws.send(format!("welcome to {room} ({members} here)"), OpCode::Text);
            })
            .message(|ws, message, opcode| {
                if opcode != OpCode::Text {
                    return;
                }
                let Member { room, name } = ws.user_data();
                let line = format!("{name}: {}", String::from_utf8_lossy(message));
                let room = room.clone();
                // Everyone else through the topic, the author directly.
                ws.publish(&room, &line, OpCode::Text);
                ws.send(line, OpCode::Text);
            })
            .close(|ws, _code, _reason| {
                let Member { room, name } = ws.user_data();
                let (room, left) = (room.clone(), format!("{name} left"));
                ws.publish(&room, left, OpCode::Text);
            }),
    )
}
