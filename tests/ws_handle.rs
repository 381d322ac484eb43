//! WebSockets written from other threads through `ws.handle()`: sends and a closing
//! handshake from a thread, subscriptions and publishes on behalf of a socket, handles of
//! closed sockets reporting it, and a stale handle never reaching the socket that reused its
//! slot.

mod support;
mod ws_support;

use std::sync::Mutex;
use std::sync::mpsc;

use support::{serve, wait_until};
use tungstenite::Message;
use tungstenite::protocol::frame::coding::CloseCode;
use uweb::{App, OpCode, WebSocketBehavior, WebSocketHandle};
use ws_support::{connect, next_message, next_text, recv};

/// `/ws`: every socket's handle goes to the test on open; `hello` is answered in-loop.
fn app(handles: mpsc::Sender<WebSocketHandle>) -> App {
    let handles = Mutex::new(handles);
    App::new().ws::<()>(
        "/ws",
        WebSocketBehavior::new()
            .open(move |ws| {
                handles.lock().unwrap().send(ws.handle()).unwrap();
            })
            .message(|ws, msg, opcode| {
                if msg == b"hello" {
                    ws.send("hi", opcode);
                }
            }),
    )
}

#[test]
fn a_thread_sends_then_ends_with_a_close_code() {
    let (tx, handles) = mpsc::channel();
    let server = serve(app(tx), 1);
    let (mut client, _) = connect(server.local_addr(), "/ws");
    let handle = recv(&handles);
    let sender = std::thread::spawn(move || {
        for i in 0..3 {
            assert!(handle.send(format!("from a thread {i}"), OpCode::Text));
        }
        assert!(handle.send(vec![1u8, 2, 3], OpCode::Binary));
        assert!(handle.end(4000, "done"));
        handle
    });
    for i in 0..3 {
        assert_eq!(next_text(&mut client), format!("from a thread {i}"));
    }
    assert_eq!(next_message(&mut client), Message::binary(vec![1u8, 2, 3]));
    match next_message(&mut client) {
        Message::Close(Some(frame)) => {
            assert_eq!(frame.code, CloseCode::from(4000));
            assert_eq!(frame.reason.as_str(), "done");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    let handle = sender.join().unwrap();
    assert!(handle.is_closed(), "the close callback ran");
    assert!(!handle.send("after the end", OpCode::Text));
    server.shutdown();
}

#[test]
fn handles_subscribe_and_publish_on_behalf_of_their_socket() {
    let (tx, handles) = mpsc::channel();
    let server = serve(app(tx), 2);
    let (mut first, _) = connect(server.local_addr(), "/ws");
    let first_handle = recv(&handles);
    let (mut second, _) = connect(server.local_addr(), "/ws");
    let second_handle = recv(&handles);
    assert!(first_handle.subscribe("room"));
    assert!(second_handle.subscribe("room"));
    // Round trips through each loop: the subscriptions were made before these answers.
    for client in [&mut first, &mut second] {
        client.send(Message::text("hello")).unwrap();
        assert_eq!(next_text(client), "hi");
    }
    assert!(first_handle.publish("room", "news from first", OpCode::Text));
    assert_eq!(next_text(&mut second), "news from first");
    // The publisher does not get its own message; its next message is the echo.
    first.send(Message::text("hello")).unwrap();
    assert_eq!(next_text(&mut first), "hi");
    assert!(second_handle.unsubscribe("room"));
    second.send(Message::text("hello")).unwrap();
    assert_eq!(next_text(&mut second), "hi");
    assert!(first_handle.publish("room", "nobody else", OpCode::Text));
    second.send(Message::text("hello")).unwrap();
    assert_eq!(next_text(&mut second), "hi", "unsubscribed: no news");
    server.shutdown();
}

#[test]
fn a_stale_handle_reports_closed_and_never_reaches_the_slot_reused() {
    let (tx, handles) = mpsc::channel();
    let server = serve(app(tx), 1);
    let (mut client, _) = connect(server.local_addr(), "/ws");
    let old = recv(&handles);
    client.close(None).unwrap();
    while client.read().is_ok() {}
    drop(client);
    wait_until("the handle to learn of the close", || old.is_closed());
    assert!(!old.send("stale", OpCode::Text));
    assert!(!old.end(1000, ""));
    // A new socket (likely in the same slab slot): the old handle stays out of it.
    let (mut client, _) = connect(server.local_addr(), "/ws");
    let new = recv(&handles);
    assert!(!old.send("stale", OpCode::Text));
    assert!(new.send("fresh", OpCode::Text));
    assert_eq!(next_text(&mut client), "fresh");
    client.send(Message::text("hello")).unwrap();
    assert_eq!(next_text(&mut client), "hi");
    server.shutdown();
}
