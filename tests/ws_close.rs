//! Close codes and the closing handshake (RFC 6455 sections 5-7) on real sockets, with the
//! `close` callback observed: protocol errors -> 1002, bad UTF-8 -> 1007, too big -> 1009,
//! client closes echoed, server `end` and `close`, and fragmentation with pings in between.

mod support;
mod ws_support;

use std::sync::mpsc::{self, Receiver};

use support::serve;
use uweb::{App, OpCode, Server, WebSocketBehavior};
use ws_support::{RawWs, assert_quiet, close_frame, frame, recv};

/// An echo server on `/` with a 1 KiB message limit whose callbacks report to the channel.
fn server() -> (Server, Receiver<String>) {
    let (tx, rx) = mpsc::channel();
    let (on_close, on_ping, on_pong) = (tx.clone(), tx.clone(), tx);
    let app = App::new().ws::<()>(
        "/",
        WebSocketBehavior::new()
            .max_payload_length(1024)
            .message(|ws, msg, op| match msg {
                b"end" => ws.end(4002, "done"),
                b"close" => ws.close(),
                _ => {
                    ws.send(msg, op);
                }
            })
            .ping(move |ws, payload| {
                on_ping
                    .send(format!("ping {}", String::from_utf8_lossy(payload)))
                    .unwrap();
                ws.send(b"after ping", OpCode::Text);
            })
            .pong(move |_ws, payload| {
                on_pong
                    .send(format!("pong {}", String::from_utf8_lossy(payload)))
                    .unwrap();
            })
            .close(move |ws, code, reason| {
                // Sends are dropped once closing.
                assert_eq!(ws.send("late", OpCode::Text), uweb::SendStatus::Dropped);
                on_close.send(format!("close {code} {reason}")).unwrap();
            }),
    );
    (serve(app, 1), rx)
}

#[test]
fn protocol_errors_close_with_their_code() {
    let (server, rx) = server();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("unmasked frame", vec![0x81, 0x02, b'h', b'i'], 1002),
        ("reserved bit", frame(0xc1, b"x"), 1002),
        ("reserved opcode", frame(0x83, b""), 1002),
        (
            "control frame over 125 bytes",
            frame(0x89, &[b'p'; 126]),
            1002,
        ),
        ("fragmented control frame", frame(0x09, b"p"), 1002),
        ("continuation without a start", frame(0x80, b"x"), 1002),
        (
            "new message inside a fragmented one",
            [frame(0x01, b"a"), frame(0x82, b"b")].concat(),
            1002,
        ),
        ("close with a 1-byte payload", frame(0x88, b"x"), 1002),
        ("close with code 1005", close_frame(1005, b""), 1002),
        ("close with code 2999", close_frame(2999, b""), 1002),
        ("invalid UTF-8 text", frame(0x81, b"ok \xff"), 1007),
        (
            "invalid UTF-8 across fragments",
            [frame(0x01, b"\xce"), frame(0x80, b"a")].concat(),
            1007,
        ),
        (
            "invalid UTF-8 close reason",
            close_frame(1000, b"\xff"),
            1007,
        ),
        (
            "message over max_payload_length",
            frame(0x82, &[0; 1025]),
            1009,
        ),
        (
            "fragments over max_payload_length",
            [frame(0x02, &[0; 600]), frame(0x80, &[0; 600])].concat(),
            1009,
        ),
    ];
    for (name, bytes, code) in cases {
        let mut ws = RawWs::connect(server.local_addr(), "/");
        ws.send(&bytes);
        let (first, payload) = ws
            .frame()
            .unwrap_or_else(|| panic!("{name}: no close frame"));
        assert_eq!(first, 0x88, "{name}");
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code, "{name}");
        assert!(ws.closed(), "{name}: TCP connection left open");
        assert_eq!(recv(&rx), format!("close {code} "), "{name}");
    }
    assert_quiet(&rx);
    server.shutdown();
}

#[test]
fn client_close_is_echoed_with_its_code() {
    let (server, rx) = server();
    let mut ws = RawWs::connect(server.local_addr(), "/");
    ws.send(close_frame(4001, b"bye"));
    let (first, payload) = ws.frame().expect("close answer");
    assert_eq!((first, &payload[..2]), (0x88, &4001u16.to_be_bytes()[..]));
    assert!(ws.closed());
    assert_eq!(recv(&rx), "close 4001 bye");
    // An empty close is answered with an empty close and reported as 1005.
    let mut ws = RawWs::connect(server.local_addr(), "/");
    ws.send(frame(0x88, b""));
    assert_eq!(ws.frame(), Some((0x88, Vec::new())));
    assert!(ws.closed());
    assert_eq!(recv(&rx), "close 1005 ");
    assert_quiet(&rx);
    server.shutdown();
}

#[test]
fn server_end_sends_close_and_reports_once() {
    let (server, rx) = server();
    let mut ws = RawWs::connect(server.local_addr(), "/");
    ws.send(frame(0x81, b"end"));
    let (first, payload) = ws.frame().expect("close frame");
    assert_eq!(first, 0x88);
    assert_eq!(payload, [&4002u16.to_be_bytes()[..], b"done"].concat());
    assert_eq!(recv(&rx), "close 4002 done");
    // Messages after our close are not delivered; the client's close ends the TCP connection.
    ws.send(frame(0x81, b"ignored"));
    ws.send(close_frame(4002, b""));
    assert!(ws.closed());
    assert_quiet(&rx);
    server.shutdown();
}

#[test]
fn server_end_closes_tcp_when_the_client_never_answers() {
    let (server, rx) = server();
    let mut ws = RawWs::connect(server.local_addr(), "/");
    ws.send(frame(0x81, b"end"));
    assert_eq!(ws.frame().map(|f| f.0), Some(0x88));
    assert!(ws.closed(), "the close timeout must drop the connection");
    assert_eq!(recv(&rx), "close 4002 done");
    server.shutdown();
}

#[test]
fn server_close_drops_tcp_with_1006() {
    let (server, rx) = server();
    let mut ws = RawWs::connect(server.local_addr(), "/");
    ws.send(frame(0x81, b"close"));
    assert!(ws.closed());
    assert_eq!(recv(&rx), "close 1006 ");
    // A client vanishing without a close frame is reported as 1006 too.
    let ws = RawWs::connect(server.local_addr(), "/");
    drop(ws);
    assert_eq!(recv(&rx), "close 1006 ");
    assert_quiet(&rx);
    server.shutdown();
}

#[test]
fn fragments_reassemble_with_control_frames_between() {
    let (server, rx) = server();
    let mut ws = RawWs::connect(server.local_addr(), "/");
    let mut bytes = frame(0x01, "κό".as_bytes());
    bytes.extend(frame(0x89, b"in between"));
    bytes.extend(frame(0x00, &"σμε".as_bytes()[..1]));
    bytes.extend(frame(0x80, &"σμε".as_bytes()[1..]));
    // Byte by byte: frames split across reads anywhere.
    for b in &bytes {
        ws.send([*b]);
    }
    assert_eq!(
        ws.frame(),
        Some((0x8a, b"in between".to_vec())),
        "pong first"
    );
    assert_eq!(
        ws.frame(),
        Some((0x81, b"after ping".to_vec())),
        "then the ping callback"
    );
    assert_eq!(recv(&rx), "ping in between");
    assert_eq!(ws.frame(), Some((0x81, "κόσμε".as_bytes().to_vec())));
    ws.send(frame(0x8a, b"unsolicited"));
    assert_eq!(recv(&rx), "pong unsolicited");
    ws.send(close_frame(1000, b""));
    assert_eq!(ws.frame().map(|f| f.0), Some(0x88));
    assert!(ws.closed());
    assert_eq!(recv(&rx), "close 1000 ");
    server.shutdown();
}

#[test]
fn a_panicking_callback_closes_only_its_socket() {
    let (tx, rx) = mpsc::channel();
    let app = App::new().ws::<()>(
        "/",
        WebSocketBehavior::new()
            .message(|ws, msg, op| {
                if msg == b"panic" {
                    panic!("callback bug");
                }
                ws.send(msg, op);
            })
            .close(move |_ws, code, _reason| tx.send(code).unwrap()),
    );
    let server = serve(app, 1);
    let mut good = RawWs::connect(server.local_addr(), "/");
    let mut bad = RawWs::connect(server.local_addr(), "/");
    bad.send(frame(0x81, b"panic"));
    // RFC 6455 section 7.4.1: 1011, the server met an unexpected condition.
    bad.expect_close(1011);
    assert_eq!(recv(&rx), 1011, "close still runs once for it");
    assert_quiet(&rx);
    good.send(frame(0x81, b"still here"));
    assert_eq!(good.frame(), Some((0x81, b"still here".to_vec())));
    drop(good);
    assert_eq!(recv(&rx), 1006);
    server.shutdown();
}

#[test]
fn shutdown_sends_going_away() {
    let (server, rx) = server();
    let mut ws = RawWs::connect(server.local_addr(), "/");
    ws.send(frame(0x81, b"hello"));
    assert_eq!(ws.frame(), Some((0x81, b"hello".to_vec())));
    let stopping = std::thread::spawn(move || server.shutdown());
    ws.expect_close(1001);
    assert_eq!(recv(&rx), "close 1001 server shutting down");
    stopping.join().unwrap();
}
