//! WebSocket echo on every path (the Autobahn fuzzing client's target): every message comes
//! back with its opcode; messages up to 16 MiB. A plain GET answers 200 with a line of text.
//!
//! permessage-deflate (RFC 7692) is negotiated as `COMPRESSION` says: `shared` (the default:
//! one compressor per loop), `dedicated` (one per socket, with context takeover: uWebSockets'
//! `DEDICATED_COMPRESSOR | DEDICATED_DECOMPRESSOR`), `dedicated_3kb` (uWebSockets'
//! `DEDICATED_COMPRESSOR_3KB | DEDICATED_DECOMPRESSOR_512B`: 512-byte windows) or `off`.
//!
//! Run: `PORT=9001 cargo run --release --example echo_server` (`THREADS=1` for one loop, as the
//! single-core peers in ../shared/peers run).

mod common;

use uweb::{App, CompressOptions, Compressor, Decompressor, WebSocketBehavior};

/// `COMPRESSION`: `shared` (default), `dedicated`, `dedicated_3kb` or `off`.
fn compression() -> (&'static str, CompressOptions) {
    match std::env::var("COMPRESSION").as_deref() {
        Ok("off") => ("off", CompressOptions::DISABLED),
        Ok("dedicated") => ("dedicated", CompressOptions::DEDICATED),
        Ok("dedicated_3kb") => (
            "dedicated_3kb",
            CompressOptions::SHARED
                .compressor(Compressor::DEDICATED_3KB)
                .decompressor(Decompressor::DEDICATED_512B),
        ),
        _ => ("shared", CompressOptions::SHARED),
    }
}

fn main() -> std::io::Result<()> {
    let port = common::port(9001);
    let threads = common::threads();
    let (mode, compression) = compression();
    println!("echo server on ws://localhost:{port}/ with {threads} loop(s), compression {mode}");
    App::new()
        .threads(threads)
        .ws::<()>(
            "/*",
            WebSocketBehavior::new()
                .max_payload_length(16 * 1024 * 1024)
                // An echo of a 16 MiB message must not be dropped; reading pauses meanwhile.
                .max_backpressure(64 * 1024 * 1024)
                .compression(compression)
                .message(|ws, message, opcode| {
                    ws.send(message, opcode);
                }),
        )
        .get("/*", |res, _req| {
            res.write_header("Content-Type", "text/plain")
                .end("uweb echo server: connect with a WebSocket client\n");
        })
        .listen(port)
}
