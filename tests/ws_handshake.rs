//! The opening handshake (RFC 6455 section 4.2) on real sockets: accept key, 400/426/404,
//! `get` and `ws` sharing a path, path parameters and query in `upgrade`, rejection,
//! subprotocol selection, and frames that arrive with the handshake.

mod support;
mod ws_support;

use std::sync::mpsc;

use support::{Client, serve};
use tungstenite::Message;
use uweb::{App, OpCode, WebSocketBehavior};
use ws_support::{RawWs, connect, frame, handshake_request, next_text, recv};

#[derive(Default)]
struct Room {
    name: String,
    who: String,
}

fn app() -> App {
    App::new()
        .ws::<()>(
            "/echo",
            WebSocketBehavior::new().message(|ws, msg, op| {
                ws.send(msg, op);
            }),
        )
        .get("/echo", |res, _req| res.end("plain GET"))
        .ws::<Room>(
            "/room/:name",
            WebSocketBehavior::new()
                .upgrade(|res, req, mut ctx| {
                    let name = req.parameter("name").unwrap_or_default().to_owned();
                    if name == "private" {
                        return res.write_status("403 Forbidden").end("no");
                    }
                    let who = req.query_value("who").unwrap_or_default().into_owned();
                    let offered = req.header("sec-websocket-protocol").unwrap_or_default();
                    if offered.split(',').any(|p| p.trim() == "chat.v2") {
                        ctx.select_protocol("chat.v2");
                    }
                    ctx.write_header("X-Room", &name);
                    res.upgrade(Room { name, who }, ctx);
                })
                .open(|ws| {
                    let greeting = format!("{} in {}", ws.user_data().who, ws.user_data().name);
                    ws.send(greeting, OpCode::Text);
                }),
        )
}

#[test]
fn accept_key_and_echo() {
    let server = serve(app(), 1);
    let mut raw = RawWs::open(server.local_addr());
    raw.send(handshake_request("/echo", ""));
    let head = raw.head();
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    // RFC 6455 section 1.3's example key and answer.
    assert!(
        head.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("\r\nupgrade: websocket\r\n"),
        "{head}"
    );
    raw.send(frame(0x81, b"hi"));
    assert_eq!(raw.frame(), Some((0x81, b"hi".to_vec())));
    drop(raw);
    server.shutdown();
}

#[test]
fn frames_sent_with_the_handshake_are_read() {
    let server = serve(app(), 1);
    let mut raw = RawWs::open(server.local_addr());
    let mut bytes = handshake_request("/echo", "").into_bytes();
    bytes.extend(frame(0x81, b"one"));
    bytes.extend(frame(0x82, b"two"));
    raw.send(bytes);
    assert!(raw.head().starts_with("HTTP/1.1 101"));
    assert_eq!(raw.frame(), Some((0x81, b"one".to_vec())));
    assert_eq!(raw.frame(), Some((0x82, b"two".to_vec())));
    drop(raw);
    server.shutdown();
}

#[test]
fn get_and_ws_share_a_path() {
    let server = serve(app(), 1);
    let mut http = Client::connect(server.local_addr());
    let res = http.send(support::get("/echo")).response();
    assert_eq!((res.status, res.body_str()), (200, "plain GET"));
    let (mut ws, res) = connect(server.local_addr(), "/echo");
    assert_eq!(res.status(), 101);
    ws.send(Message::text("via ws")).unwrap();
    assert_eq!(next_text(&mut ws), "via ws");
    drop((ws, http));
    server.shutdown();
}

#[test]
fn params_query_protocol_and_fields_reach_upgrade() {
    let server = serve(app(), 1);
    let mut raw = RawWs::open(server.local_addr());
    raw.send(handshake_request(
        "/room/kitchen?who=ann",
        "Sec-WebSocket-Protocol: chat.v1, chat.v2\r\n",
    ));
    let head = raw.head();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.contains("\r\nSec-WebSocket-Protocol: chat.v2\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nX-Room: kitchen\r\n"), "{head}");
    assert_eq!(raw.frame(), Some((0x81, b"ann in kitchen".to_vec())));
    drop(raw);
    server.shutdown();
}

#[test]
fn upgrade_hook_may_refuse_with_any_response() {
    let server = serve(app(), 1);
    let mut http = Client::connect(server.local_addr());
    let res = http.send(handshake_request("/room/private", "")).response();
    assert_eq!((res.status, res.body_str()), (403, "no"));
    let err = tungstenite::client(
        format!("ws://{}/room/private", server.local_addr()),
        support::connect_stream(server.local_addr()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    server.shutdown();
}

#[test]
fn malformed_handshakes_get_400_426_or_404() {
    let server = serve(app(), 1);
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let up = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    let cases: Vec<(String, u16)> = vec![
        // missing or malformed key
        (
            format!("GET /echo HTTP/1.1\r\nHost: t\r\n{up}Sec-WebSocket-Version: 13\r\n\r\n"),
            400,
        ),
        (
            format!(
                "GET /echo HTTP/1.1\r\nHost: t\r\n{up}Sec-WebSocket-Key: short==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ),
            400,
        ),
        // no Connection: Upgrade
        (
            format!(
                "GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n{key}Sec-WebSocket-Version: 13\r\n\r\n"
            ),
            400,
        ),
        // upgrade on another method than GET
        (
            format!(
                "POST /echo HTTP/1.1\r\nHost: t\r\n{up}{key}Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"
            ),
            400,
        ),
        // HTTP/1.0
        (
            format!("GET /echo HTTP/1.0\r\n{up}{key}Sec-WebSocket-Version: 13\r\n\r\n"),
            400,
        ),
        // wrong or missing version
        (
            format!("GET /echo HTTP/1.1\r\nHost: t\r\n{up}{key}Sec-WebSocket-Version: 8\r\n\r\n"),
            426,
        ),
        (
            format!("GET /echo HTTP/1.1\r\nHost: t\r\n{up}{key}\r\n"),
            426,
        ),
        // no ws route at this path: the router's answer
        (
            format!(
                "GET /nowhere HTTP/1.1\r\nHost: t\r\n{up}{key}Sec-WebSocket-Version: 13\r\n\r\n"
            ),
            404,
        ),
    ];
    for (request, status) in cases {
        let mut client = Client::connect(server.local_addr());
        let res = client.send(&request).response();
        assert_eq!(res.status, status, "{request}");
        if status == 426 {
            assert_eq!(res.header("sec-websocket-version"), Some("13"));
        }
        if status != 404 {
            assert!(client.is_closed(), "connection must close after {status}");
        }
    }
    server.shutdown();
}

#[test]
fn open_runs_once_per_upgrade_on_each_connection() {
    let (tx, rx) = mpsc::channel();
    let server = serve(
        App::new().ws::<()>(
            "/",
            WebSocketBehavior::new().open(move |ws| {
                tx.send(ws.remote_addr()).unwrap();
            }),
        ),
        2,
    );
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (ws, _, origin) = ws_support::connect_with_origin(server.local_addr(), "/");
        assert_eq!(recv(&rx), origin);
        clients.push(ws);
    }
    ws_support::assert_quiet(&rx);
    drop(clients);
    server.shutdown();
}

#[test]
fn groups_carry_ws_routes_and_their_middleware_guards_the_handshake() {
    let api = uweb::Router::new()
        .middleware(|res, req| {
            if req.query_value("token").as_deref() != Some("ok") {
                res.write_status("401 Unauthorized").end("no token");
            }
        })
        .ws::<()>(
            "/live",
            WebSocketBehavior::new().message(|ws, msg, op| {
                ws.send(msg, op);
            }),
        );
    let server = serve(App::new().nest("/api", api), 1);
    let mut http = Client::connect(server.local_addr());
    let res = http.send(handshake_request("/api/live", "")).response();
    assert_eq!((res.status, res.body_str()), (401, "no token"));
    let (mut ws, _) = connect(server.local_addr(), "/api/live?token=ok");
    ws.send(Message::text("in the group")).unwrap();
    assert_eq!(next_text(&mut ws), "in the group");
    drop((ws, http));
    server.shutdown();
}

#[test]
fn plain_requests_skip_the_ws_route_before_its_middleware() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let group = uweb::Router::new()
        .middleware(move |_res, _req| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .ws::<()>("/feed", WebSocketBehavior::new())
        .get("/feed", |res, _req| res.end("page"));
    let server = serve(App::new().include(group), 1);
    let mut http = Client::connect(server.local_addr());
    let res = http.send(support::get("/feed")).response();
    assert_eq!((res.status, res.body_str()), (200, "page"));
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "middleware ran once, for the GET route"
    );
    let (ws, _) = connect(server.local_addr(), "/feed");
    assert_eq!(runs.load(Ordering::SeqCst), 2, "and once for the handshake");
    drop((ws, http));
    server.shutdown();
}

/// uWebSockets gives `ws()` routes the highest priority: a handshake tries them before every
/// other route, at every level of the tree, not only before a GET of the same pattern.
#[test]
fn ws_routes_come_first_at_every_level() {
    let server = serve(
        App::new()
            .ws::<()>(
                "/*",
                WebSocketBehavior::new().message(|ws, msg, op| {
                    ws.send(msg, op);
                }),
            )
            .get("/static", |res, _req| res.end("static page"))
            .any("/api/:name", |res, _req| res.end("api")),
        1,
    );
    // A valid handshake to a path with a more specific GET (and ANY) route upgrades.
    for path in ["/static", "/api/x", "/anything/else"] {
        let (mut ws, response) = connect(server.local_addr(), path);
        assert_eq!(response.status(), 101, "{path}");
        ws.send(Message::text(path)).unwrap();
        assert_eq!(next_text(&mut ws), path);
    }
    // Requests without `Upgrade: websocket` skip the ws route: plain GETs are unaffected.
    let mut http = Client::connect(server.local_addr());
    let res = http.request(support::get("/static"));
    assert_eq!((res.status, res.body_str()), (200, "static page"));
    let res = http.request(support::get("/api/x"));
    assert_eq!((res.status, res.body_str()), (200, "api"));
    let res = http.request(support::get("/nothing"));
    assert_eq!(res.status, 404, "the ws route does not answer plain GETs");
    // Other methods still see GET allowed where only the ws route matches.
    let res = http.request(support::request(
        "POST",
        "/nothing",
        &[("Content-Length", "0")],
    ));
    assert_eq!(res.status, 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
    server.shutdown();
}
