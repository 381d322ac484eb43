//! A panic in any WebSocket callback reaches the app's error handler with a stage naming the
//! callback, its socket is closed with 1011 (RFC 6455 section 7.4.1) where a close frame can
//! still be sent (else the TCP connection closes), and a second client is served meanwhile.

mod support;
mod ws_support;

use std::sync::mpsc::{self, Receiver};

use support::serve;
use uweb::{App, OpCode, SendStatus, Stage, WebSocketBehavior};
use ws_support::{RawWs, close_frame, frame, recv};

/// What the error handler heard: the stage, the panic message, and whether it was given a
/// response and a request.
type Heard = (Stage, String, bool, bool);

/// Serves `behavior` on `/bad` and a plain echo on `/good`, with an error handler that
/// reports to the returned receiver.
fn app(behavior: WebSocketBehavior<()>) -> (uweb::Server, Receiver<Heard>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let app = App::new()
        .ws::<()>("/bad", behavior)
        .ws::<()>(
            "/good",
            WebSocketBehavior::new().message(|ws, msg, op| {
                ws.send(msg, op);
            }),
        )
        .on_error(move |error, res, req| {
            let heard = (
                error.stage(),
                error.panic_message().unwrap_or_default().to_owned(),
                res.is_some(),
                req.is_some(),
            );
            tx.lock().unwrap().send(heard).unwrap();
        });
    (serve(app, 1), rx)
}

/// The error handler heard a panic `message` in `stage`, without response or request.
fn heard(rx: &Receiver<Heard>, stage: Stage, message: &str) {
    assert_eq!(recv(rx), (stage, message.to_owned(), false, false));
}

/// A second client on the same loop is served normally.
fn others_are_served(server: &uweb::Server) {
    let mut good = RawWs::connect(server.local_addr(), "/good");
    good.send(frame(0x81, b"still here"));
    assert_eq!(good.frame(), Some((0x81, b"still here".to_vec())));
}

#[test]
fn open_panics() {
    let (server, rx) = app(WebSocketBehavior::new().open(|_ws| panic!("open bug")));
    let mut bad = RawWs::connect(server.local_addr(), "/bad");
    bad.expect_close(1011);
    heard(&rx, Stage::Open, "open bug");
    others_are_served(&server);
    server.shutdown();
}

#[test]
fn message_panics_and_close_still_reports_1011_once() {
    let (codes_tx, codes) = mpsc::channel();
    let (server, rx) = app(WebSocketBehavior::new()
        .message(|_ws, _msg, _op| panic!("message bug"))
        .close(move |_ws, code, _reason| codes_tx.send(code).unwrap()));
    let mut bad = RawWs::connect(server.local_addr(), "/bad");
    let mut good = RawWs::connect(server.local_addr(), "/good");
    bad.send(frame(0x81, b"boom"));
    bad.expect_close(1011);
    heard(&rx, Stage::Message, "message bug");
    assert_eq!(recv(&codes), 1011);
    good.send(frame(0x82, b"\x00\x01"));
    assert_eq!(good.frame(), Some((0x82, vec![0, 1])));
    drop(good);
    server.shutdown();
    assert!(codes.try_recv().is_err(), "close ran once");
}

#[test]
fn ping_panics_after_the_pong_is_queued() {
    let (server, rx) = app(WebSocketBehavior::new().ping(|_ws, _payload| panic!("ping bug")));
    let mut bad = RawWs::connect(server.local_addr(), "/bad");
    bad.send(frame(0x89, b"p"));
    assert_eq!(bad.frame(), Some((0x8a, b"p".to_vec())));
    bad.expect_close(1011);
    heard(&rx, Stage::Ping, "ping bug");
    others_are_served(&server);
    server.shutdown();
}

#[test]
fn pong_panics() {
    let (server, rx) = app(WebSocketBehavior::new().pong(|_ws, _payload| panic!("pong bug")));
    let mut bad = RawWs::connect(server.local_addr(), "/bad");
    bad.send(frame(0x8a, b""));
    bad.expect_close(1011);
    heard(&rx, Stage::Pong, "pong bug");
    others_are_served(&server);
    server.shutdown();
}

#[test]
fn subscription_panics_inside_open_and_names_the_innermost_callback() {
    let (server, rx) = app(WebSocketBehavior::new()
        .open(|ws| {
            ws.subscribe("room");
        })
        .subscription(|_ws, _topic, new, _old| {
            if new == 1 {
                panic!("subscription bug");
            }
        }));
    let mut bad = RawWs::connect(server.local_addr(), "/bad");
    bad.expect_close(1011);
    heard(&rx, Stage::Subscription, "subscription bug");
    others_are_served(&server);
    server.shutdown();
}

#[test]
fn drain_panics() {
    // `open` sends 1 MiB messages until one reports backpressure (at once on plain TCP; over
    // the test's TLS pipe, which reads on its own, once the pipe and the client's socket are
    // full), so `drain` surely runs when the client reads.
    let part = vec![7u8; 1 << 20];
    let (server, rx) = app(WebSocketBehavior::new()
        .max_backpressure(256 << 20)
        .open(move |ws| {
            for _ in 0..256 {
                if ws.send(&part, OpCode::Binary) == SendStatus::Backpressure {
                    return;
                }
            }
            panic!("no backpressure after 256 MiB");
        })
        .drain(|_ws| panic!("drain bug")));
    let mut bad = RawWs::connect(server.local_addr(), "/bad");
    // The messages sent before the drain, then the close frame.
    let mut messages = 0;
    let close = loop {
        match bad.frame().expect("the messages, then a close frame") {
            (0x82, payload) => {
                assert_eq!(payload.len(), 1 << 20);
                messages += 1;
            }
            other => break other,
        }
    };
    assert!(messages > 0);
    assert_eq!(close.0, 0x88, "expected close, got {close:?}");
    assert_eq!(close.1[..2], 1011u16.to_be_bytes());
    bad.send(close_frame(1011, b""));
    assert!(bad.closed());
    heard(&rx, Stage::Drain, "drain bug");
    others_are_served(&server);
    server.shutdown();
}

#[test]
fn close_panics_after_the_closing_handshake() {
    let (server, rx) = app(WebSocketBehavior::new().close(|_ws, code, _reason| {
        if code == 1000 {
            panic!("close bug");
        }
    }));
    let mut bad = RawWs::connect(server.local_addr(), "/bad");
    bad.send(close_frame(1000, b"bye"));
    // Our close frame (the echo) was written before the callback ran; no 1011 can follow.
    assert_eq!(bad.frame(), Some((0x88, 1000u16.to_be_bytes().to_vec())));
    assert!(bad.closed());
    heard(&rx, Stage::Close, "close bug");
    others_are_served(&server);
    server.shutdown();
}

#[test]
fn upgrade_panics_get_a_500_with_the_request() {
    let (server, rx) = app(WebSocketBehavior::new().upgrade(|_res, _req, _ctx| {
        panic!("upgrade bug");
    }));
    let mut bad = RawWs::open(server.local_addr());
    bad.send(ws_support::handshake_request("/bad", ""));
    let head = bad.head();
    assert!(head.starts_with("HTTP/1.1 500 "), "{head}");
    // Before the upgrade the handler still has the response and the request.
    assert_eq!(
        recv(&rx),
        (Stage::Upgrade, "upgrade bug".to_owned(), true, true)
    );
    others_are_served(&server);
    server.shutdown();
}

#[test]
fn a_panicking_error_handler_does_not_take_the_loop_down() {
    let app = App::new()
        .ws::<()>(
            "/bad",
            WebSocketBehavior::new().message(|_ws, _msg, _op| panic!("message bug")),
        )
        .ws::<()>(
            "/good",
            WebSocketBehavior::new().message(|ws, msg, op| {
                ws.send(msg, op);
            }),
        )
        .on_error(|_error, _res, _req| panic!("the error handler is broken too"));
    let server = serve(app, 1);
    let mut bad = RawWs::connect(server.local_addr(), "/bad");
    bad.send(frame(0x81, b"boom"));
    bad.expect_close(1011);
    others_are_served(&server);
    server.shutdown();
}
