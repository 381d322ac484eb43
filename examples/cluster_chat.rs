//! examples/broadcast.rs's chat across processes: with `REDIS_URL` set, every node's rooms are
//! bridged through Redis (`App::pubsub_bridge(RedisBridge::new(url))`), so members connected
//! to different nodes chat together; without it, a single node.
//!
//! Run two nodes and open one browser tab on each:
//! `REDIS_URL=redis://127.0.0.1:6379 PORT=3000 cargo run --release --features redis --example cluster_chat`,
//! the same with `PORT=3001`, then `http://localhost:3000/#lobby` and `http://localhost:3001/#lobby`.

mod chat;
mod common;

use uweb::{App, RedisBridge};

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    let mut app = App::new().threads(common::threads());
    match std::env::var("REDIS_URL") {
        Ok(url) => {
            println!("chat on http://localhost:{port}/#lobby, rooms bridged through {url}");
            app = app.pubsub_bridge(RedisBridge::new(url));
        }
        Err(_) => {
            println!("chat on http://localhost:{port}/#lobby (one node: set REDIS_URL to bridge)")
        }
    }
    chat::routes(app).listen(port)
}
