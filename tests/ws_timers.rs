//! WebSocket timers on the loop's coarse tick, one smoke test each (the policy itself, with
//! its edge cases, is unit-tested on a fake clock in `src/event_loop/policy.rs`): idle
//! timeout with automatic pings, idle timeout without them, traffic both ways restarting it,
//! and `max_lifetime`. Waits are bounded by generous deadlines, never slept.

mod support;
mod ws_support;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::serve;
use uweb::{App, WebSocketBehavior};
use ws_support::{RawWs, close_frame, frame, recv};

fn app(behavior: WebSocketBehavior<()>) -> (uweb::Server, mpsc::Receiver<u16>) {
    let (tx, rx) = mpsc::channel();
    let behavior = behavior.close(move |_ws, code, _reason| tx.send(code).unwrap());
    (serve(App::new().ws::<()>("/", behavior), 1), rx)
}

#[test]
fn silence_gets_a_ping_then_a_close() {
    let (server, rx) = app(WebSocketBehavior::new().idle_timeout(Duration::from_secs(1)));
    let mut ws = RawWs::connect(server.local_addr(), "/");
    // Answering the ping keeps the socket alive: a second ping follows.
    assert_eq!(ws.frame(), Some((0x89, Vec::new())));
    ws.send(frame(0x8a, b""));
    assert_eq!(ws.frame(), Some((0x89, Vec::new())));
    // Continued silence closes the TCP connection.
    assert!(ws.closed());
    assert_eq!(recv(&rx), 1006);
    server.shutdown();
}

#[test]
fn without_automatic_pings_idle_sockets_are_closed() {
    let (server, rx) = app(WebSocketBehavior::new()
        .idle_timeout(Duration::from_secs(1))
        .send_pings_automatically(false));
    let mut ws = RawWs::connect(server.local_addr(), "/");
    let started = Instant::now();
    assert_eq!(ws.frame(), None, "closed without a ping");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(recv(&rx), 1006);
    server.shutdown();
}

#[test]
fn traffic_restarts_the_idle_timer() {
    let (server, rx) = app(WebSocketBehavior::new()
        .idle_timeout(Duration::from_secs(1))
        .send_pings_automatically(false));
    let mut ws = RawWs::connect(server.local_addr(), "/");
    // Messages every 500 ms for 3.5 s (past the latest a 1 s timeout can fire on the
    // coarse clock, 3 s) keep it open.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(3500) {
        ws.send(frame(0x81, b"tick"));
        assert!(
            rx.recv_timeout(Duration::from_millis(500)).is_err(),
            "closed while active"
        );
    }
    ws.send(close_frame(1000, b""));
    assert_eq!(ws.frame().map(|f| f.0), Some(0x88));
    assert_eq!(recv(&rx), 1000);
    server.shutdown();
}

#[test]
fn max_lifetime_ends_with_1000() {
    let (server, rx) = app(WebSocketBehavior::new().max_lifetime(Duration::from_secs(1)));
    let mut ws = RawWs::connect(server.local_addr(), "/");
    ws.expect_close(1000);
    assert_eq!(recv(&rx), 1000);
    server.shutdown();
}

#[test]
fn with_reset_on_send_outgoing_traffic_keeps_a_silent_client_open() {
    let app = App::new();
    let publisher = app.publisher();
    let (tx, rx) = mpsc::channel();
    let app = app.ws::<()>(
        "/",
        WebSocketBehavior::new()
            .idle_timeout(Duration::from_secs(1))
            .send_pings_automatically(false)
            .reset_idle_timeout_on_send(true)
            .open(|ws| {
                ws.subscribe("clock");
            })
            .close(move |_ws, code, _reason| tx.send(code).unwrap()),
    );
    let server = serve(app, 1);
    let mut ws = RawWs::connect(server.local_addr(), "/");
    while publisher.num_subscribers("clock") == 0 {
        std::thread::yield_now();
    }
    // The client never sends; the server publishes every 500 ms for 3.5 s (past the latest
    // a 1 s timeout can fire) and the socket stays open.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(3500) {
        assert!(publisher.publish("clock", "tick", uweb::OpCode::Text));
        assert_eq!(ws.frame(), Some((0x81, b"tick".to_vec())));
        assert!(
            rx.recv_timeout(Duration::from_millis(500)).is_err(),
            "closed while sending"
        );
    }
    // Silence both ways: closed.
    assert_eq!(ws.frame(), None);
    assert_eq!(recv(&rx), 1006);
    server.shutdown();
}
