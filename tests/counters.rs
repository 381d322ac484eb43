//! The server's counters move as traffic does: connections, requests, responses by class,
//! protocol errors, WebSockets and their messages; the Prometheus text shows them.

mod support;
mod ws_support;

use support::{Client, fetch, get, serve, wait_until};
use tungstenite::Message;
use uweb::{App, Counters, OpCode, WebSocketBehavior};
use ws_support::{connect, next_text};

#[test]
fn counters_follow_the_traffic() {
    let app = App::new()
        .get("/", |res, _req| res.end("ok"))
        .get("/created", |res, _req| {
            res.write_status("201 Created").end("")
        })
        .ws::<()>(
            "/ws",
            WebSocketBehavior::new().message(|ws, msg, _| {
                ws.send(msg, OpCode::Text);
            }),
        );
    let handle = app.counters();
    assert_eq!(
        handle.read(),
        Counters::default(),
        "zeros before the server runs"
    );
    let server = serve(app, 2);

    let mut client = Client::connect(server.local_addr());
    for _ in 0..3 {
        assert_eq!(client.request(get("/")).status, 200);
    }
    assert_eq!(client.request(get("/created")).status, 201);
    assert_eq!(client.request(get("/missing")).status, 404);
    assert_eq!(
        fetch(server.local_addr(), "GET / HTTP/2.0\r\n\r\n").status,
        505
    );
    assert_eq!(fetch(server.local_addr(), "BAD\r\n\r\n").status, 400);
    let (mut ws, _) = connect(server.local_addr(), "/ws");
    for text in ["one", "two"] {
        ws.send(Message::text(text)).unwrap();
        assert_eq!(next_text(&mut ws), text);
    }
    let during = server.counters();
    assert_eq!(during.requests, 5 + 1, "five requests and the handshake");
    assert_eq!(
        during.responses,
        [1, 4, 0, 2, 1],
        "101; 200 x3 + 201; 404 + 400; 505"
    );
    assert_eq!(during.bad_requests, [1, 0, 0, 0, 0, 1]);
    assert_eq!((during.websockets_open, during.websockets_total), (1, 1));
    assert_eq!((during.messages_received, during.messages_sent), (2, 2));
    assert!(during.connections_open >= 2, "{during:?}");
    assert_eq!(
        handle.read().requests,
        during.requests,
        "the app's handle reads the same"
    );

    drop(client);
    ws.close(None).unwrap();
    while ws.read().is_ok() {}
    drop(ws);
    wait_until("every connection to close", || {
        let now = server.counters();
        now.connections_open == 0 && now.websockets_open == 0
    });
    let after = server.counters();
    assert_eq!(after.connections_total, 4);
    let text = after.prometheus();
    assert!(text.contains("uweb_requests_total 6\n"), "{text}");
    assert!(
        text.contains("uweb_bad_requests_total{status=\"505\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("uweb_websockets_open 0\n"), "{text}");
    server.shutdown();
}

#[test]
fn after_hooks_read_the_status_written() {
    let log = support::Log::default();
    let seen = log.clone();
    let server = serve(
        App::new()
            .after(move |res, req| {
                let status = res.status().map_or("none".to_owned(), |s| s.to_string());
                seen.push(format!("{} {status}", req.url()));
            })
            .get("/ok", |res, _req| res.end("ok"))
            .get("/teapot", |res, _req| {
                res.write_status("418 I'm a teapot").end("")
            }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    assert_eq!(client.request(get("/ok")).status, 200);
    assert_eq!(client.request(get("/teapot")).status, 418);
    assert_eq!(log.take(), ["/ok 200", "/teapot 418"]);
    server.shutdown();
}
