//! Bad input on a TLS port: plaintext HTTP, garbage and truncated ClientHellos, a stalled
//! handshake. Each connection is closed (with a TLS alert where one applies), nothing panics,
//! and a well-behaved client served beside it loses nothing.

mod support;

use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use support::tls::{Pki, TlsClient, client_hello, is_alert, read_until_close};
use uweb::{App, Config, Server};

fn server(pki: &Pki, header_read_timeout: Duration) -> Server {
    let mut config = Config::default();
    config.header_read_timeout = header_read_timeout;
    // Far beyond the tests' deadline: a handshake must be bounded by the header-read timeout.
    config.idle_timeout = Duration::from_secs(600);
    let app = App::tls(pki.leaf(&["localhost"]).config)
        .config(config)
        .get("/", |res, _req| res.end("fine"));
    support::tls::serve(app, 1)
}

/// A TLS client mid-conversation, to check it is unaffected.
fn bystander(server: &Server, pki: &Pki) -> TlsClient {
    let mut client = TlsClient::connect(server.local_addr(), "localhost", pki.client_config());
    assert_eq!(client.send(support::get("/")).response().body_str(), "fine");
    client
}

fn still_fine(client: &mut TlsClient) {
    assert_eq!(client.send(support::get("/")).response().body_str(), "fine");
}

#[test]
fn plaintext_http_gets_an_alert_and_a_close() {
    let pki = Pki::new();
    let server = server(&pki, Duration::from_secs(10));
    let mut good = bystander(&server, &pki);
    let mut raw = TcpStream::connect(server.local_addr()).unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let got = read_until_close(&mut raw);
    assert!(is_alert(&got), "expected a TLS alert record, got {got:?}");
    assert!(
        !got.windows(4).any(|w| w == b"HTTP"),
        "no HTTP answer on a TLS port"
    );
    still_fine(&mut good);
    server.shutdown();
}

#[test]
fn garbage_client_hello_gets_an_alert_and_a_close() {
    let pki = Pki::new();
    let server = server(&pki, Duration::from_secs(10));
    let mut good = bystander(&server, &pki);
    // A handshake record (type 22) whose ClientHello body is nonsense.
    let mut record = vec![22, 3, 1, 0, 64, 1, 0, 0, 60];
    record.extend((0..60u8).map(|i| i.wrapping_mul(37)));
    let mut raw = TcpStream::connect(server.local_addr()).unwrap();
    raw.write_all(&record).unwrap();
    let got = read_until_close(&mut raw);
    assert!(is_alert(&got), "expected a TLS alert record, got {got:?}");
    // A record header announcing an impossible length.
    let mut raw = TcpStream::connect(server.local_addr()).unwrap();
    raw.write_all(&[22, 3, 1, 0xff, 0xff, 1, 2, 3]).unwrap();
    let got = read_until_close(&mut raw);
    assert!(is_alert(&got), "expected a TLS alert record, got {got:?}");
    still_fine(&mut good);
    server.shutdown();
}

#[test]
fn truncated_client_hello_then_eof_is_closed() {
    let pki = Pki::new();
    let server = server(&pki, Duration::from_secs(10));
    let mut good = bystander(&server, &pki);
    let hello = client_hello(pki.client_config(), "localhost");
    let mut raw = TcpStream::connect(server.local_addr()).unwrap();
    raw.write_all(&hello[..hello.len() / 2]).unwrap();
    raw.shutdown(Shutdown::Write).unwrap();
    let got = read_until_close(&mut raw);
    assert!(got.is_empty() || is_alert(&got), "{got:?}");
    still_fine(&mut good);
    server.shutdown();
}

#[test]
fn truncated_client_hello_and_fin_in_one_event_are_noticed() {
    // The loop is held in a handler while half a ClientHello and the FIN arrive, so it sees
    // both in one readiness event; it must still notice the end at once (the header-read
    // timeout is far beyond the test deadline).
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, release_rx) = (Mutex::new(started_tx), Mutex::new(release_rx));
    let pki = Pki::new();
    let mut config = Config::default();
    config.header_read_timeout = Duration::from_secs(600);
    let app = App::tls(pki.leaf(&["localhost"]).config)
        .config(config)
        .get("/hold", move |res, _req| {
            let _ = started_tx.lock().unwrap().send(());
            let _ = release_rx.lock().unwrap().recv_timeout(support::DEADLINE);
            res.end("held");
        });
    let server = support::tls::serve(app, 1);
    let mut holder = TlsClient::connect(server.local_addr(), "localhost", pki.client_config());
    holder.send(support::get("/hold"));
    started_rx
        .recv_timeout(support::DEADLINE)
        .expect("handler started");
    let hello = client_hello(pki.client_config(), "localhost");
    let mut raw = TcpStream::connect(server.local_addr()).unwrap();
    raw.write_all(&hello[..hello.len() / 2]).unwrap();
    raw.shutdown(Shutdown::Write).unwrap();
    release_tx.send(()).unwrap();
    assert_eq!(holder.response().body_str(), "held");
    let got = read_until_close(&mut raw);
    assert!(got.is_empty() || is_alert(&got), "{got:?}");
    server.shutdown();
}

#[test]
fn stalled_handshake_is_cut_off_by_the_header_read_timeout() {
    let pki = Pki::new();
    let server = server(&pki, Duration::from_secs(1));
    let mut good = bystander(&server, &pki);
    let hello = client_hello(pki.client_config(), "localhost");
    let mut raw = TcpStream::connect(server.local_addr()).unwrap();
    raw.write_all(&hello[..hello.len() / 2]).unwrap();
    // The stalled client never sends the rest nor closes: the server must.
    let got = read_until_close(&mut raw);
    assert!(got.is_empty() || is_alert(&got), "{got:?}");
    still_fine(&mut good);
    server.shutdown();
}

#[test]
fn silent_connection_is_cut_off_by_the_header_read_timeout() {
    let pki = Pki::new();
    let server = server(&pki, Duration::from_secs(1));
    let mut raw = TcpStream::connect(server.local_addr()).unwrap();
    assert!(read_until_close(&mut raw).is_empty());
    server.shutdown();
}

#[test]
fn client_hello_offering_only_h2_is_refused() {
    let pki = Pki::new();
    let server = server(&pki, Duration::from_secs(10));
    let mut config = (*pki.client_config()).clone();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let err = TlsClient::try_connect(server.local_addr(), "localhost", config.into())
        .err()
        .expect("no common application protocol");
    assert!(err.to_string().to_lowercase().contains("alert"), "{err}");
    let mut good = bystander(&server, &pki);
    still_fine(&mut good);
    server.shutdown();
}
