//! PROXY protocol listeners (versions 1 and 2): the client's address reaches handlers and
//! WebSockets; missing, truncated or garbage headers close the connection; `curl
//! --haproxy-protocol` as a real client. Plain TCP only (a TLS listener refuses the option).

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use support::{Client, DEADLINE, curl, get};
use uweb::{App, Listen, OpCode, Server, WebSocketBehavior};

/// `GET /who` answers `remote=<peer> proxied=<client or none>`; `/ws` sends the same on open.
fn server() -> Server {
    let who = |remote: SocketAddr, proxied: Option<SocketAddr>| {
        let proxied = proxied.map_or("none".to_owned(), |a| a.to_string());
        format!("remote={remote} proxied={proxied}")
    };
    App::new()
        .threads(1)
        .get("/who", move |res, req| {
            res.end(who(req.remote_addr(), req.proxied_remote_addr()))
        })
        .ws::<()>(
            "/ws",
            WebSocketBehavior::new().open(move |ws| {
                let text = who(ws.remote_addr(), ws.proxied_remote_addr());
                ws.send(text, OpCode::Text);
            }),
        )
        .bind_all(&[Listen::plain_addr("127.0.0.1:0".parse().unwrap()).proxy_protocol()])
        .expect("bind")
}

/// A plain TCP client (also when the suites run over TLS: these listeners are plain).
fn connect(server: &Server) -> Client {
    Client::from_stream(TcpStream::connect(server.local_addr()).unwrap())
}

/// Sends `bytes` on a new connection and reads one response.
fn ask(server: &Server, bytes: &[u8]) -> String {
    let mut client = connect(server);
    client.send(bytes);
    client.response().body_str().to_owned()
}

/// A version 2 header: PROXY command over TCP/IPv4 from 10.0.0.7:1234 to 10.0.0.1:80, or
/// the LOCAL command without addresses.
fn v2(local: bool) -> Vec<u8> {
    let mut header = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    if local {
        header.extend_from_slice(&[0x20, 0x00, 0, 0]);
        return header;
    }
    header.extend_from_slice(&[0x21, 0x11, 0, 12]);
    header.extend_from_slice(&[10, 0, 0, 7, 10, 0, 0, 1]);
    header.extend_from_slice(&1234u16.to_be_bytes());
    header.extend_from_slice(&80u16.to_be_bytes());
    header
}

#[test]
fn version_one_headers() {
    let server = server();
    let request = get("/who");
    let tcp4 = format!("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n{request}");
    let answer = ask(&server, tcp4.as_bytes());
    assert!(answer.starts_with("remote=127.0.0.1:"), "{answer}");
    assert!(answer.ends_with("proxied=192.0.2.1:56324"), "{answer}");
    let tcp6 = format!("PROXY TCP6 2001:db8::1 2001:db8::2 4000 80\r\n{request}");
    assert!(ask(&server, tcp6.as_bytes()).ends_with("proxied=[2001:db8::1]:4000"));
    let unknown = format!("PROXY UNKNOWN\r\n{request}");
    assert!(ask(&server, unknown.as_bytes()).ends_with("proxied=none"));
    server.shutdown();
}

#[test]
fn version_two_headers_and_a_header_in_pieces() {
    let server = server();
    let mut bytes = v2(false);
    bytes.extend_from_slice(get("/who").as_bytes());
    assert!(ask(&server, &bytes).ends_with("proxied=10.0.0.7:1234"));
    let mut local = v2(true);
    local.extend_from_slice(get("/who").as_bytes());
    assert!(ask(&server, &local).ends_with("proxied=none"));
    // One byte per write: the header waits in the stash until complete.
    let mut client = connect(&server);
    for &b in &bytes {
        client.send([b]);
    }
    assert!(
        client
            .response()
            .body_str()
            .ends_with("proxied=10.0.0.7:1234")
    );
    // Keep-alive: the next request on the connection keeps the address.
    assert!(
        client
            .request(get("/who"))
            .body_str()
            .ends_with("proxied=10.0.0.7:1234")
    );
    server.shutdown();
}

#[test]
fn missing_truncated_or_garbage_headers_close_the_connection() {
    let server = server();
    let plain = get("/who");
    let cases: [&[u8]; 4] = [
        plain.as_bytes(),
        b"PROXY TCP4 192.0.2.1 198.51.100.2 notaport 443\r\nGET /who HTTP/1.1\r\n\r\n",
        b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\x0a\x00",
        b"\x16\x03\x01\x02\x00garbage",
    ];
    for bytes in cases {
        let mut stream = TcpStream::connect(server.local_addr()).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream.write_all(bytes).unwrap();
        // A truncated header: the client gives up sending; the server must not answer.
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        assert!(
            answer.is_empty(),
            "{:?} got {:?}",
            bytes,
            String::from_utf8_lossy(&answer)
        );
    }
    // The listener still serves well-formed connections.
    let ok = format!("PROXY UNKNOWN\r\n{}", get("/who"));
    assert!(ask(&server, ok.as_bytes()).ends_with("proxied=none"));
    server.shutdown();
}

#[test]
fn curl_with_haproxy_protocol() {
    let server = server();
    // Without a scheme (curl's default is http): the suite's curl helper turns http:// into
    // https:// when the suites run over TLS.
    let url = format!("{}/who", server.local_addr());
    let (ok, body, err) = curl(&["--haproxy-protocol", &url]);
    assert!(ok, "{err}");
    let body = String::from_utf8(body).unwrap();
    // curl announces its own end of the connection as the client.
    assert!(body.contains("proxied=127.0.0.1:"), "{body}");
    let (ok, _, _) = curl(&[&url]);
    assert!(!ok, "without the header the connection closes");
    server.shutdown();
}

#[test]
fn websockets_see_the_proxied_address() {
    let server = server();
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream
        .write_all(b"PROXY TCP4 203.0.113.9 198.51.100.2 777 80\r\n")
        .unwrap();
    let url = format!("ws://{}/ws", server.local_addr());
    let (mut ws, _) = tungstenite::client(url, stream).expect("handshake");
    let text = ws.read().unwrap().into_text().unwrap();
    assert!(text.ends_with("proxied=203.0.113.9:777"), "{text}");
    server.shutdown();
}

#[test]
fn tls_listeners_refuse_the_option() {
    let listen = Listen::tls_addr("127.0.0.1:0".parse().unwrap()).proxy_protocol();
    let error = App::new().bind_all(&[listen]).expect_err("refused");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}
