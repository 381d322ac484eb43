//! Unix domain socket listeners: HTTP and WebSocket over a socket file, beside a TCP
//! listener of the same app; `curl --unix-socket`; a stale socket file replaced, one in use
//! refused.

mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::{DEADLINE, curl, get};
use uweb::{App, Listen, OpCode, Server, WebSocketBehavior};

/// A socket path of its own under the temp directory.
fn socket_path() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir().join(format!("uweb-{}-{n}.sock", std::process::id()))
}

fn app() -> App {
    App::new()
        .threads(2)
        .get("/who", |res, req| {
            res.end(format!("peer {}", req.remote_addr()))
        })
        .ws::<()>(
            "/ws",
            WebSocketBehavior::new().message(|ws, msg, _| {
                ws.send(msg, OpCode::Binary);
            }),
        )
}

fn serve(path: &PathBuf) -> Server {
    app()
        .bind_all(&[
            Listen::unix(path),
            Listen::plain_addr("127.0.0.1:0".parse().unwrap()),
        ])
        .expect("bind")
}

/// One request over the socket file, read to the end.
fn ask(path: &PathBuf, request: &str) -> String {
    let mut stream = UnixStream::connect(path).expect("connect");
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn http_and_websockets_over_a_socket_file() {
    let path = socket_path();
    let server = serve(&path);
    let answer = ask(
        &path,
        "GET /who HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("peer 0.0.0.0:0"), "{answer}");
    // The TCP listener of the same app serves too (plain, also when the suites run over TLS).
    let tcp = std::net::TcpStream::connect(server.local_addrs()[1]).unwrap();
    let mut tcp = support::Client::from_stream(tcp);
    assert!(
        tcp.request(get("/who"))
            .body_str()
            .starts_with("peer 127.0.0.1:")
    );
    let (ok, body, err) = curl(&["--unix-socket", path.to_str().unwrap(), "localhost/who"]);
    assert!(ok, "{err}");
    assert_eq!(body, b"peer 0.0.0.0:0");
    let stream = UnixStream::connect(&path).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let (mut ws, _) = tungstenite::client("ws://localhost/ws", stream).expect("handshake");
    ws.send(tungstenite::Message::binary(vec![1u8, 2, 3]))
        .unwrap();
    assert_eq!(
        ws.read().unwrap(),
        tungstenite::Message::binary(vec![1u8, 2, 3])
    );
    server.shutdown();
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_stale_socket_file_is_replaced_and_one_in_use_refused() {
    let path = socket_path();
    // Left behind by a process that is gone: a socket file nobody listens on.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let server = serve(&path);
    assert!(
        ask(
            &path,
            "GET /who HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n"
        )
        .contains("200 OK")
    );
    let second = app().bind_all(&[Listen::unix(&path)]);
    assert_eq!(
        second.expect_err("in use").kind(),
        std::io::ErrorKind::AddrInUse
    );
    // The first server still owns it.
    assert!(
        ask(
            &path,
            "GET /who HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n"
        )
        .contains("200 OK")
    );
    server.shutdown();
    let _ = std::fs::remove_file(&path);
}
