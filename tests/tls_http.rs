//! HTTP/1.1 over TLS behaves as over TCP: GET/POST, pipelining, chunked bodies both ways,
//! large bodies through backpressure, `Connection: close` with `close_notify`, and a plain and
//! a TLS listener serving one app.

mod support;

use std::net::SocketAddr;

use support::Client;
use support::tls::{Pki, TlsClient};
use uweb::{App, Listen, Server};

fn routes(app: App) -> App {
    app.get("/", |res, _req| res.end("hello over tls"))
        .get("/big", |res, _req| res.end(vec![b'x'; 24 * 1024 * 1024]))
        .get("/streamed", |res, _req| {
            res.write("one,");
            res.write("two,");
            res.end("three");
        })
        .post("/echo", support::echo)
}

fn tls_server(pki: &Pki) -> Server {
    let leaf = pki.leaf(&["localhost"]);
    support::tls::serve(routes(App::tls(leaf.config)), 2)
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn get_and_post_over_tls() {
    let pki = Pki::new();
    let server = tls_server(&pki);
    let mut client = TlsClient::connect(server.local_addr(), "localhost", pki.client_config());
    assert_eq!(client.stream.conn.alpn_protocol(), Some(&b"http/1.1"[..]));

    let resp = client.send(support::get("/")).response();
    assert_eq!((resp.status, resp.body_str()), (200, "hello over tls"));
    assert!(resp.header("date").is_some());

    let body = "a=1&b=2";
    client.send(format!(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    let resp = client.response();
    assert_eq!((resp.status, resp.body_str()), (200, body));

    let resp = client.send(support::get("/nope")).response();
    assert_eq!(resp.status, 404);
    server.shutdown();
}

#[test]
fn tls12_client_is_served() {
    let pki = Pki::new();
    let server = tls_server(&pki);
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(pki.roots())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut client = TlsClient::connect(server.local_addr(), "localhost", config.into());
    assert_eq!(
        client.stream.conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(
        client.send(support::get("/")).response().body_str(),
        "hello over tls"
    );
    let body = vec![b'z'; 200_000];
    let mut request = format!(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    assert_eq!(client.send(request).response().body, body);
    server.shutdown();
}

#[test]
fn pipelined_requests_answer_in_order() {
    let pki = Pki::new();
    let server = tls_server(&pki);
    let mut client = TlsClient::connect(server.local_addr(), "localhost", pki.client_config());
    let mut batch = String::new();
    for i in 0..20 {
        batch.push_str(&format!(
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\nreq{i}",
            format!("req{i}").len()
        ));
        batch.push_str(&support::get("/"));
    }
    client.send(batch);
    for i in 0..20 {
        assert_eq!(client.response().body_str(), format!("req{i}"));
        assert_eq!(client.response().body_str(), "hello over tls");
    }
    server.shutdown();
}

#[test]
fn chunked_bodies_both_ways() {
    let pki = Pki::new();
    let server = tls_server(&pki);
    let mut client = TlsClient::connect(server.local_addr(), "localhost", pki.client_config());
    client.send(
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
         5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\n\r\n",
    );
    let resp = client.response();
    assert_eq!((resp.status, resp.body_str()), (200, "hello, world"));

    let resp = client.send(support::get("/streamed")).response();
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    assert_eq!(resp.body_str(), "one,two,three");
    server.shutdown();
}

#[test]
fn large_bodies_cross_backpressure() {
    let pki = Pki::new();
    let server = tls_server(&pki);
    let mut client = TlsClient::connect(server.local_addr(), "localhost", pki.client_config());
    // 24 MiB down: more than the kernel takes at once, so the rest waits for WRITABLE.
    let resp = client.send(support::get("/big")).response();
    assert_eq!(resp.body.len(), 24 * 1024 * 1024);
    assert!(resp.body.iter().all(|&b| b == b'x'));
    // 900 KiB up, in many records.
    let body: Vec<u8> = (0..900 * 1024).map(|i| (i % 251) as u8).collect();
    let mut request = format!(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let resp = client.send(request).response();
    assert_eq!(resp.body, body);
    server.shutdown();
}

#[test]
fn connection_close_ends_with_close_notify() {
    let pki = Pki::new();
    let server = tls_server(&pki);
    let mut client = TlsClient::connect(server.local_addr(), "localhost", pki.client_config());
    client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let resp = client.response();
    assert_eq!(
        (resp.status, resp.header("connection")),
        (200, Some("close"))
    );
    assert!(
        client.closed_cleanly(),
        "expected close_notify before the TCP close"
    );
    server.shutdown();
}

#[test]
fn many_sequential_connections() {
    let pki = Pki::new();
    let server = tls_server(&pki);
    let config = pki.client_config();
    for _ in 0..30 {
        let mut client = TlsClient::connect(server.local_addr(), "localhost", config.clone());
        assert_eq!(client.send(support::get("/")).response().status, 200);
    }
    server.shutdown();
}

#[test]
fn plain_and_tls_listeners_serve_one_app() {
    let pki = Pki::new();
    let leaf = pki.leaf(&["localhost"]);
    let server = routes(App::tls(leaf.config))
        .threads(2)
        .bind_all(&[Listen::plain_addr(loopback()), Listen::tls_addr(loopback())])
        .unwrap();
    let [plain, secure] = server.local_addrs() else {
        panic!("two listeners expected");
    };
    assert_ne!(plain.port(), secure.port());

    let mut http = Client::from_stream(std::net::TcpStream::connect(plain).unwrap());
    assert_eq!(
        http.send(support::get("/")).response().body_str(),
        "hello over tls"
    );
    let mut https = TlsClient::connect(*secure, "localhost", pki.client_config());
    assert_eq!(
        https.send(support::get("/")).response().body_str(),
        "hello over tls"
    );
    // A TLS client on the plain port fails its handshake; both listeners keep serving.
    assert!(TlsClient::try_connect(*plain, "localhost", pki.client_config()).is_err());
    assert_eq!(http.send(support::get("/")).response().status, 200);
    assert_eq!(https.send(support::get("/")).response().status, 200);
    server.shutdown();
}

#[test]
fn tls_listener_without_certificates_is_refused() {
    let err = App::new()
        .bind_all(&[Listen::tls_addr(loopback())])
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
