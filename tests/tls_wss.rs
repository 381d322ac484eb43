//! WebSockets over TLS (`wss://`): tungstenite as the client over a rustls stream that
//! verifies the server's certificate. Echo of small and large messages, the close handshake,
//! pub/sub between `ws://` and `wss://` clients of one app, and a WebSocket route inside a
//! routing domain chosen by SNI.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use support::DEADLINE;
use support::tls::Pki;
use tungstenite::protocol::{CloseFrame, WebSocket, frame::coding::CloseCode};
use tungstenite::{Message, Utf8Bytes};
use uweb::{App, Listen, OpCode, Router, WebSocketBehavior};

type Wss = WebSocket<StreamOwned<ClientConnection, TcpStream>>;

/// `wss://name{path}` at `addr`, SNI `name`, certificate checked against the test CA.
fn wss(addr: SocketAddr, name: &str, path: &str, config: Arc<ClientConfig>) -> Wss {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(DEADLINE)).unwrap();
    let conn = ClientConnection::new(config, ServerName::try_from(name.to_owned()).unwrap());
    let stream = StreamOwned::new(conn.unwrap(), tcp);
    let url = format!("wss://{name}:{}{path}", addr.port());
    tungstenite::client(url, stream).expect("wss handshake").0
}

/// The next data message (control frames skipped).
fn next(ws: &mut Wss) -> Message {
    loop {
        match ws.read().expect("a message") {
            Message::Ping(_) | Message::Pong(_) => {}
            m => return m,
        }
    }
}

fn echo() -> WebSocketBehavior<()> {
    WebSocketBehavior::new()
        .max_payload_length(2 * 1024 * 1024)
        .message(|ws, msg, opcode| {
            ws.send(msg, opcode);
        })
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn wss_echo_small_and_large_then_close() {
    let pki = Pki::new();
    let app = App::tls(pki.leaf(&["localhost"]).config).ws("/echo", echo());
    let server = support::tls::serve(app, 2);
    let mut ws = wss(
        server.local_addr(),
        "localhost",
        "/echo",
        pki.client_config(),
    );
    for i in 0..50 {
        ws.send(Message::text(format!("hello {i}"))).unwrap();
    }
    for i in 0..50 {
        assert_eq!(next(&mut ws), Message::text(format!("hello {i}")));
    }
    let big: Vec<u8> = (0..1024 * 1024).map(|i| (i % 253) as u8).collect();
    ws.send(Message::binary(big.clone())).unwrap();
    assert_eq!(next(&mut ws), Message::binary(big));

    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: Utf8Bytes::from_static("bye"),
    }))
    .unwrap();
    loop {
        match ws.read() {
            Ok(Message::Close(frame)) => {
                assert_eq!(frame.map(|f| f.code), Some(CloseCode::Normal));
            }
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("unclean close: {e}"),
        }
    }
    server.shutdown();
}

#[test]
fn pub_sub_between_ws_and_wss_clients() {
    let pki = Pki::new();
    let room = WebSocketBehavior::<()>::new()
        .open(|ws| {
            ws.subscribe("room");
            ws.send("joined", OpCode::Text);
        })
        .message(|ws, msg, opcode| {
            ws.publish("room", msg, opcode);
        });
    let server = App::tls(pki.leaf(&["localhost"]).config)
        .ws("/room", room)
        .threads(2)
        .bind_all(&[Listen::tls_addr(loopback()), Listen::plain_addr(loopback())])
        .unwrap();
    let [secure, plain] = server.local_addrs() else {
        panic!("two listeners expected");
    };
    let mut a = wss(*secure, "localhost", "/room", pki.client_config());
    let tcp = TcpStream::connect(plain).unwrap();
    tcp.set_read_timeout(Some(DEADLINE)).unwrap();
    let (mut b, _) = tungstenite::client(format!("ws://{plain}/room"), tcp).unwrap();
    assert_eq!(next(&mut a), Message::text("joined"));
    assert_eq!(b.read().unwrap(), Message::text("joined"));

    a.send(Message::text("from wss")).unwrap();
    assert_eq!(b.read().unwrap(), Message::text("from wss"));
    b.send(Message::text("from ws")).unwrap();
    assert_eq!(next(&mut a), Message::text("from ws"));
    // Published from outside any loop: reaches both.
    assert!(server.publisher().publish("room", "news", OpCode::Text));
    assert_eq!(next(&mut a), Message::text("news"));
    assert_eq!(b.read().unwrap(), Message::text("news"));
    server.shutdown();
}

#[test]
fn websocket_route_in_a_domain_chosen_by_sni() {
    let pki = Pki::new();
    let chat = WebSocketBehavior::<()>::new().open(|ws| {
        ws.send("chat.example.test", OpCode::Text);
    });
    let app = App::tls(pki.leaf(&["localhost"]).config)
        .ws(
            "/ws",
            WebSocketBehavior::<()>::new().open(|ws| {
                ws.send("default", OpCode::Text);
            }),
        )
        .add_server_name("*.example.test", pki.leaf(&["*.example.test"]).config)
        .domain("chat.example.test", Router::new().ws("/ws", chat));
    let server = support::tls::serve(app, 1);
    let config = pki.client_config();
    let mut chat = wss(
        server.local_addr(),
        "chat.example.test",
        "/ws",
        config.clone(),
    );
    assert_eq!(next(&mut chat), Message::text("chat.example.test"));
    let mut default = wss(server.local_addr(), "localhost", "/ws", config);
    assert_eq!(next(&mut default), Message::text("default"));
    server.shutdown();
}
