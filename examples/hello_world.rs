//! The main job: `GET /`, TechEmpower's `GET /plaintext`, `POST /echo`, a WebSocket echo on
//! `/ws` (messages up to 1 MiB), and the server's counters on `GET /metrics` (Prometheus text
//! format), on every core; `SIGTERM` or `SIGINT` shuts it down gracefully. With
//! `PROXY_PROTOCOL=1` its listener reads a PROXY protocol header first (behind HAProxy, nginx
//! `proxy_protocol`, a cloud load balancer); with `UNIX_SOCKET=/path` it also listens on that
//! unix domain socket (`curl --unix-socket /path localhost/plaintext`).
//!
//! Run: `PORT=3000 cargo run --release --example hello_world`, then
//! `curl localhost:3000/plaintext` or `wrk -c64 http://localhost:3000/plaintext`.

mod common;

use uweb::{App, Listen, WebSocketBehavior};

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    // THREADS=1 runs one loop, as the single-core peers in ../shared/peers do.
    let threads = common::threads();
    let mut listeners = vec![match std::env::var("PROXY_PROTOCOL").as_deref() {
        Ok("1") => Listen::plain(port).proxy_protocol(),
        _ => Listen::plain(port),
    }];
    if let Ok(path) = std::env::var("UNIX_SOCKET") {
        listeners.push(Listen::unix(path));
    }
    println!("listening on http://localhost:{port} with {threads} loop(s)");
    let app = App::new();
    let counters = app.counters();
    app.threads(threads)
        .get("/metrics", move |res, _req| {
            res.write_header("Content-Type", "text/plain; version=0.0.4")
                .end(counters.read().prometheus());
        })
        .get("/", |res, _req| res.end("Hello World!"))
        .get("/plaintext", |res, _req| {
            res.write_header("Content-Type", "text/plain")
                .write_header("Server", "uweb")
                .end("Hello, World!");
        })
        .ws::<()>(
            "/ws",
            WebSocketBehavior::new()
                .max_payload_length(1024 * 1024)
                // Room for the echo of one whole message before sends are dropped.
                .max_backpressure(2 * 1024 * 1024)
                .message(|ws, message, opcode| {
                    ws.send(message, opcode);
                }),
        )
        .post("/echo", |res, _req| {
            let mut body = Vec::new();
            res.on_data(move |res, chunk, is_last| {
                body.extend_from_slice(chunk);
                if is_last {
                    res.end(&body);
                }
            });
        })
        .listen_all(&listeners)
}
