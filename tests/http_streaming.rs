//! Streamed responses: `HttpResponse::write` reports the truth, `true` while the kernel takes
//! everything and `false` once bytes wait in the socket's backpressure buffer (uWebSockets'
//! `write`), and what waits still reaches the client in order.

mod support;

use std::sync::mpsc;

use support::{Client, get, serve};
use uweb::App;

/// `GET /stream/N/SIZE` writes N parts of SIZE bytes in one callback and reports each
/// `write`'s result.
fn app(results: mpsc::Sender<Vec<bool>>) -> App {
    let results = std::sync::Mutex::new(results);
    App::new().get("/stream/:parts/:size", move |res, req| {
        let parts: usize = req.parameter("parts").unwrap_or("1").parse().unwrap();
        let size: usize = req.parameter("size").unwrap_or("1").parse().unwrap();
        let part = vec![b'x'; size];
        let seen: Vec<bool> = (0..parts).map(|_| res.write(&part)).collect();
        res.end("");
        results.lock().unwrap().send(seen).unwrap();
    })
}

#[test]
fn write_returns_false_once_the_client_falls_behind_and_everything_still_arrives() {
    let (tx, rx) = mpsc::channel();
    let server = serve(app(tx), 1);
    let mut client = Client::connect(server.local_addr());
    // 32 MiB in one callback, while the client reads nothing: more than loopback's socket
    // buffers take.
    client.send(get("/stream/32/1048576"));
    let seen = rx.recv().unwrap();
    assert_eq!(seen.len(), 32);
    assert!(
        seen.iter().any(|ok| !ok),
        "no write reported backpressure: {seen:?}"
    );
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len(), 32 << 20);
    assert!(
        response.body.iter().all(|&b| b == b'x'),
        "bytes arrived as written"
    );
    server.shutdown();
}

#[test]
fn a_small_write_to_a_reading_client_returns_true() {
    let (tx, rx) = mpsc::channel();
    let server = serve(app(tx), 1);
    let mut client = Client::connect(server.local_addr());
    // 16 KiB stays corked until the callback returns: nothing is waiting for the kernel.
    let response = client.request(get("/stream/1/16384"));
    assert_eq!(response.body.len(), 16384);
    assert_eq!(rx.recv().unwrap(), vec![true]);
    server.shutdown();
}
