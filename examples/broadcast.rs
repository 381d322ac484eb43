//! A chat room: `GET /` serves a page whose browser WebSocket joins `/chat/:room`; every
//! message is published to the room's topic, reaching the room's members on every core.
//!
//! Run: `PORT=3000 cargo run --release --example broadcast`, then open
//! `http://localhost:3000/#lobby` in two browser tabs. The room `private` is refused (403).
//! Browsers negotiate permessage-deflate (RFC 7692); the page shows the extension it got.
//! examples/cluster_chat.rs is the same chat across processes, through Redis.

mod chat;
mod common;

use uweb::App;

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    println!("chat on http://localhost:{port}/#lobby");
    chat::routes(App::new().threads(common::threads())).listen(port)
}
