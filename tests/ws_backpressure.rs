//! Backpressure: a client that does not read makes sends report `Backpressure`, then
//! `Dropped` past `max_backpressure`, never unbounded memory; `drain` runs once it reads;
//! `close_on_backpressure_limit` closes instead.

mod support;
mod ws_support;

use std::sync::mpsc;

use support::serve;
use tungstenite::Message;
use uweb::{App, OpCode, SendStatus, WebSocketBehavior};
use ws_support::{connect, next_message, recv};

/// Sends of this size until one is dropped (or a cap that would mean no limit works).
const MESSAGE: usize = 16 * 1024;
const CAP: usize = 100_000;

#[derive(Debug)]
enum Report {
    Flooded {
        queued: usize,
        backpressure: usize,
        buffered: usize,
    },
    Drain(usize),
}

fn app(close_on_limit: bool) -> (uweb::Server, mpsc::Receiver<Report>) {
    let (tx, rx) = mpsc::channel();
    let drain_tx = tx.clone();
    let behavior = WebSocketBehavior::<()>::new()
        .max_backpressure(64 * 1024)
        .close_on_backpressure_limit(close_on_limit)
        .message(move |ws, _msg, _op| {
            let payload = vec![b'x'; MESSAGE];
            let (mut queued, mut backpressure) = (0, 0);
            for _ in 0..CAP {
                match ws.send(&payload, OpCode::Binary) {
                    SendStatus::Success => queued += 1,
                    SendStatus::Backpressure => {
                        queued += 1;
                        backpressure += 1;
                    }
                    SendStatus::Dropped => break,
                    _ => unreachable!(),
                }
            }
            let buffered = ws.buffered_amount();
            tx.send(Report::Flooded {
                queued,
                backpressure,
                buffered,
            })
            .unwrap();
        })
        .drain(move |ws| {
            let _ = drain_tx.send(Report::Drain(ws.buffered_amount()));
        });
    (serve(App::new().ws::<()>("/", behavior), 1), rx)
}

#[test]
fn slow_reader_gets_dropped_sends_then_drain() {
    let (server, rx) = app(false);
    let (mut ws, _) = connect(server.local_addr(), "/");
    ws.send(Message::text("flood")).unwrap();
    let Report::Flooded {
        queued,
        backpressure,
        buffered,
    } = recv(&rx)
    else {
        panic!("expected the flood report");
    };
    assert!(queued < CAP, "no send was ever dropped");
    assert!(
        backpressure > 0,
        "the limit was hit without any Backpressure status first"
    );
    assert!(
        buffered > 64 * 1024,
        "Dropped while under the limit: {buffered}"
    );
    assert!(
        buffered < 64 * 1024 + 2 * MESSAGE,
        "buffered past the limit: {buffered}"
    );
    // Every queued message arrives, whole and in order; nothing else does.
    for i in 0..queued {
        match next_message(&mut ws) {
            Message::Binary(b) => assert_eq!(b.len(), MESSAGE, "message {i}"),
            other => panic!("message {i}: {other:?}"),
        }
    }
    // Reading let the server drain its buffer.
    let mut drained = false;
    while let Ok(report) = rx.recv_timeout(ws_support::DEADLINE) {
        if let Report::Drain(0) = report {
            drained = true;
            break;
        }
    }
    assert!(drained, "drain never reported an empty buffer");
    ws.send(Message::text("flood")).unwrap();
    assert!(
        matches!(recv(&rx), Report::Flooded { .. }),
        "the socket still works"
    );
    drop(ws);
    server.shutdown();
}

#[test]
fn close_on_backpressure_limit_closes_the_socket() {
    let (server, rx) = app(true);
    let (mut ws, _) = connect(server.local_addr(), "/");
    ws.send(Message::text("flood")).unwrap();
    let Report::Flooded { queued, .. } = recv(&rx) else {
        panic!("expected the flood report");
    };
    assert!(queued < CAP);
    // What was queued before the limit is not delivered in full: the connection is gone.
    let mut received = 0;
    loop {
        match ws.read() {
            Ok(Message::Binary(_)) => received += 1,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("the server left the connection open")
            }
            Err(_) => break,
        }
    }
    assert!(received <= queued);
    server.shutdown();
}

#[test]
fn a_pipelining_client_that_reads_late_loses_no_echo() {
    use std::io::Write;
    // Default 64 KiB max_backpressure: reading pauses instead of dropping echoes.
    let (tx, rx) = mpsc::sync_channel(1);
    let app = App::new().ws::<()>(
        "/",
        WebSocketBehavior::new().message(move |ws, msg, op| match ws.send(msg, op) {
            SendStatus::Dropped => panic!("an echo was dropped"),
            SendStatus::Backpressure => {
                let _ = tx.try_send(());
            }
            _ => {}
        }),
    );
    let server = serve(app, 1);
    let mut ws = ws_support::RawWs::connect(server.local_addr(), "/");
    let count = 2_000u32;
    let mut bytes = Vec::new();
    for i in 0..count {
        let mut payload = vec![b'.'; 16 * 1024];
        payload[..4].copy_from_slice(&i.to_be_bytes());
        bytes.extend(ws_support::frame(0x82, &payload));
    }
    let mut writer = ws.stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || writer.write_all(&bytes).unwrap());
    // Read nothing until the kernel has refused the server's echoes.
    recv(&rx);
    for i in 0..count {
        let (first, payload) = ws.frame().expect("echo");
        assert_eq!(first, 0x82);
        assert_eq!(payload[..4], i.to_be_bytes(), "echo {i}");
    }
    sending.join().unwrap();
    drop(ws);
    server.shutdown();
}
