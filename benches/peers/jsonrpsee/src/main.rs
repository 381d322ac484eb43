//! jsonrpsee peer for benches/actions_load.sh: `get_history {room_id, limit}` over WebSocket
//! JSON-RPC 2.0, answering `{"room", "messages"}` from a mutex-guarded map, as
//! examples/socketapi_chat's action does. One current-thread runtime: one core. Port from PORT.

use std::collections::HashMap;
use std::sync::Mutex;

use jsonrpsee::server::{RpcModule, Server};
use jsonrpsee::types::ErrorObjectOwned;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct History {
    room_id: String,
    #[serde(default = "fifty")]
    limit: usize,
}

fn fifty() -> usize {
    50
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(9100);
    let server = Server::builder().build(("127.0.0.1", port)).await?;
    let mut module = RpcModule::new(Mutex::new(HashMap::<String, Vec<Value>>::new()));
    module.register_method("get_history", |params, rooms, _| {
        let query: History = params.parse()?;
        let rooms = rooms.lock().unwrap();
        let messages = rooms.get(&query.room_id).map_or(&[][..], Vec::as_slice);
        let last = &messages[messages.len().saturating_sub(query.limit)..];
        Ok::<_, ErrorObjectOwned>(json!({"room": query.room_id, "messages": last}))
    })?;
    println!("jsonrpsee on ws://127.0.0.1:{port}/");
    server.start(module).stopped().await;
    Ok(())
}
