//! Pub/sub topics on real sockets: across two loops (two threads), publish order per
//! subscriber, publish-then-send order, subscription bookkeeping, slow subscribers dropped,
//! and 1,000 subscribers.

mod support;
mod ws_support;

use std::net::TcpStream;
use std::sync::mpsc;

use support::serve;
use tungstenite::Message;
use tungstenite::protocol::WebSocket as Client;
use uweb::{App, OpCode, Publisher, Server, WebSocketBehavior};
use ws_support::{DEADLINE, connect, next_text, recv};

/// Subscribers of `news` on `/sub`; the first message each gets names its loop thread.
/// Commands: `pub:x` publishes x (not to self), `both:x` publishes `p-x` through the app
/// publisher (self included) then sends `s-x`, `sub:t` / `unsub:t` / `topics`.
fn app(threads: usize) -> (Server, Publisher) {
    let app = App::new();
    let publisher = app.publisher();
    let inner = publisher.clone();
    let app = app.ws::<()>(
        "/sub",
        WebSocketBehavior::new()
            .open(|ws| {
                assert!(ws.subscribe("news"));
                assert!(!ws.subscribe("news"), "already subscribed");
                let name = std::thread::current().name().unwrap_or_default().to_owned();
                ws.send(name, OpCode::Text);
            })
            .message(move |ws, msg, _op| {
                let text = std::str::from_utf8(msg).unwrap();
                if let Some(rest) = text.strip_prefix("pub:") {
                    ws.publish("news", rest, OpCode::Text);
                } else if let Some(rest) = text.strip_prefix("both:") {
                    inner.publish("news", format!("p-{rest}"), OpCode::Text);
                    ws.send(format!("s-{rest}"), OpCode::Text);
                } else if let Some(topic) = text.strip_prefix("sub:") {
                    ws.subscribe(topic);
                } else if let Some(topic) = text.strip_prefix("unsub:") {
                    ws.unsubscribe(topic);
                } else if text == "topics" {
                    let mut topics: Vec<&str> = ws.topics().collect();
                    topics.sort_unstable();
                    let reply = format!("{} {}", topics.join(","), ws.is_subscribed("news"));
                    ws.send(reply, OpCode::Text);
                } else {
                    ws.send(format!("echo {text}"), OpCode::Text);
                }
            }),
    );
    (serve(app, threads), publisher)
}

/// Connects a subscriber; returns it with the name of the loop thread serving it.
fn subscriber(server: &Server) -> (Client<TcpStream>, String) {
    let (mut ws, _) = connect(server.local_addr(), "/sub");
    let name = next_text(&mut ws);
    (ws, name)
}

/// Subscribers until both loops have one (the kernel spreads connections at random).
fn on_both_loops(server: &Server) -> Vec<(Client<TcpStream>, String)> {
    let mut clients: Vec<(Client<TcpStream>, String)> = Vec::new();
    for _ in 0..64 {
        clients.push(subscriber(server));
        let first = &clients[0].1;
        if clients.iter().any(|(_, name)| name != first) {
            return clients;
        }
    }
    panic!("64 connections all landed on one loop");
}

#[test]
fn publish_reaches_every_other_subscriber_on_both_loops_in_order() {
    let (server, publisher) = app(2);
    let mut clients = on_both_loops(&server);
    assert_eq!(publisher.num_subscribers("news"), clients.len());
    // The sender is on the second loop; subscribers on both loops receive, in order.
    let sender = clients.len() - 1;
    for i in 0..300 {
        clients[sender]
            .0
            .send(Message::text(format!("pub:{i}")))
            .unwrap();
    }
    for (n, (ws, _)) in clients.iter_mut().enumerate() {
        if n == sender {
            continue;
        }
        for i in 0..300 {
            assert_eq!(next_text(ws), i.to_string(), "subscriber {n}");
        }
    }
    // The sender got none of its own: its next message is the echo.
    let ws = &mut clients[sender].0;
    ws.send(Message::text("after")).unwrap();
    assert_eq!(next_text(ws), "echo after");
    // App-level publishes reach everyone, in order.
    for i in 0..300 {
        assert!(publisher.publish("news", format!("app {i}"), OpCode::Text));
    }
    for (ws, _) in &mut clients {
        for i in 0..300 {
            assert_eq!(next_text(ws), format!("app {i}"));
        }
    }
    assert!(!publisher.publish("nobody", "x", OpCode::Text));
    drop(clients);
    server.shutdown();
}

#[test]
fn a_send_after_a_publish_arrives_after_it() {
    let (server, _publisher) = app(2);
    let mut clients = on_both_loops(&server);
    for round in 0..50 {
        clients[0]
            .0
            .send(Message::text(format!("both:{round}")))
            .unwrap();
        assert_eq!(next_text(&mut clients[0].0), format!("p-{round}"));
        assert_eq!(next_text(&mut clients[0].0), format!("s-{round}"));
        for (ws, _) in &mut clients[1..] {
            assert_eq!(next_text(ws), format!("p-{round}"));
        }
    }
    drop(clients);
    server.shutdown();
}

#[test]
fn subscribe_unsubscribe_topics_and_counts() {
    let (server, publisher) = app(1);
    let (mut a, _) = subscriber(&server);
    let (mut b, _) = subscriber(&server);
    a.send(Message::text("sub:sports")).unwrap();
    a.send(Message::text("topics")).unwrap();
    assert_eq!(next_text(&mut a), "news,sports true");
    assert_eq!(publisher.num_subscribers("sports"), 1);
    assert_eq!(publisher.num_subscribers("news"), 2);
    a.send(Message::text("unsub:news")).unwrap();
    a.send(Message::text("topics")).unwrap();
    assert_eq!(next_text(&mut a), "sports false");
    assert_eq!(publisher.num_subscribers("news"), 1);
    // b publishes to news: a is no longer there, so a's next message is its own echo.
    b.send(Message::text("pub:only b's peers")).unwrap();
    a.send(Message::text("x")).unwrap();
    assert_eq!(next_text(&mut a), "echo x");
    // Closing unsubscribes.
    drop(b);
    let deadline = std::time::Instant::now() + DEADLINE;
    while publisher.num_subscribers("news") != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "closed socket still counted"
        );
        std::thread::yield_now();
    }
    drop(a);
    server.shutdown();
}

#[test]
fn slow_subscribers_get_dropped_messages_not_unbounded_buffers() {
    let (tx, rx) = mpsc::channel();
    let app = App::new();
    let publisher = app.publisher();
    let app = app.ws::<()>(
        "/",
        WebSocketBehavior::new()
            .max_backpressure(64 * 1024)
            .open(|ws| {
                ws.subscribe("firehose");
                ws.send("ready", OpCode::Text);
            })
            .dropped(move |ws, msg, _op| {
                let _ = tx.send((msg.len(), ws.buffered_amount()));
            }),
    );
    let server = serve(app, 1);
    let (mut ws, _) = connect(server.local_addr(), "/");
    assert_eq!(next_text(&mut ws), "ready");
    let total = 2_000;
    let payload = vec![b'z'; 16 * 1024];
    for i in 0..total {
        let mut message = payload.clone();
        message[..8].copy_from_slice(&(i as u64).to_be_bytes());
        publisher.publish("firehose", message, OpCode::Binary);
    }
    let (len, buffered) = recv(&rx);
    assert_eq!(len, 16 * 1024);
    assert!(buffered > 64 * 1024);
    let mut dropped = 1 + rx.try_iter().count();
    // What arrives is in publish order; with the dropped ones, it adds up to every publish.
    let mut received = 0;
    let mut last = None;
    while received + dropped < total {
        match ws_support::next_message(&mut ws) {
            Message::Binary(b) => {
                let i = u64::from_be_bytes(b[..8].try_into().unwrap());
                assert!(last.is_none_or(|l| i > l), "{i} after {last:?}");
                last = Some(i);
                received += 1;
            }
            other => panic!("{other:?}"),
        }
        dropped += rx.try_iter().count();
    }
    assert_eq!(received + dropped, total);
    assert!(received > 0);
    drop(ws);
    server.shutdown();
}

#[test]
fn a_thousand_subscribers_all_receive() {
    let (server, publisher) = app(2);
    let mut clients: Vec<Client<TcpStream>> = (0..1000).map(|_| subscriber(&server).0).collect();
    assert_eq!(publisher.num_subscribers("news"), 1000);
    for i in 0..3 {
        assert!(publisher.publish("news", format!("to all {i}"), OpCode::Text));
    }
    for (n, ws) in clients.iter_mut().enumerate() {
        for i in 0..3 {
            assert_eq!(next_text(ws), format!("to all {i}"), "subscriber {n}");
        }
    }
    drop(clients);
    server.shutdown();
}

#[test]
fn subscription_callback_sees_counts_after_and_before() {
    let (tx, rx) = mpsc::channel();
    let app = App::new().ws::<()>(
        "/",
        WebSocketBehavior::new()
            .open(|ws| {
                ws.subscribe("t");
            })
            .message(|ws, _msg, _op| {
                ws.unsubscribe("t");
            })
            .subscription(move |_ws, topic, new, old| {
                tx.send(format!("{topic} {new} {old}")).unwrap();
            }),
    );
    let server = serve(app, 2);
    let (mut a, _) = connect(server.local_addr(), "/");
    assert_eq!(recv(&rx), "t 1 0");
    let (b, _) = connect(server.local_addr(), "/");
    assert_eq!(recv(&rx), "t 2 1");
    a.send(Message::text("leave")).unwrap();
    assert_eq!(recv(&rx), "t 1 2");
    // Closing leaves every topic, with the callback.
    drop(b);
    assert_eq!(recv(&rx), "t 0 1");
    ws_support::assert_quiet(&rx);
    drop(a);
    server.shutdown();
}
