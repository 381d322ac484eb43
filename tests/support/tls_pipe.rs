//! Runs the plain-TCP test suites over TLS: with `UWEB_TEST_TLS=1`, [`serve`](super::serve)
//! binds an HTTPS listener and [`Client::connect`](super::Client::connect) returns a loopback
//! TCP stream whose bytes a pair of threads carry over a real rustls client connection to the
//! server. Tests keep writing hand-made plaintext bytes, half-closing and reading until close;
//! the server sees only TLS. A half-close by the test becomes `close_notify` plus a TCP
//! half-close; the server's end of stream becomes a half-close towards the test.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};
use uweb::{App, Server};

use super::tls::{Leaf, Pki};

/// True when the suites run over TLS (`UWEB_TEST_TLS` set to anything but `0`).
pub fn enabled() -> bool {
    std::env::var("UWEB_TEST_TLS").is_ok_and(|v| v != "0" && !v.is_empty())
}

/// One certificate for `localhost` and `127.0.0.1` per test binary, and a client trusting it.
fn shared() -> &'static (Leaf, Arc<ClientConfig>) {
    static SHARED: OnceLock<(Leaf, Arc<ClientConfig>)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let pki = Pki::new();
        (pki.leaf(&["localhost", "127.0.0.1"]), pki.client_config())
    })
}

/// Serves `app` over TLS on an ephemeral loopback port.
pub fn serve(app: App) -> Server {
    app.default_certificate(shared().0.config.clone())
        .bind("127.0.0.1:0")
        .expect("bind")
}

/// Connects to the TLS server at `addr` (handshake done); returns the plaintext end and the
/// client address the server sees.
pub fn pipe(addr: SocketAddr) -> (TcpStream, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind pipe");
    let test_side = TcpStream::connect(listener.local_addr().unwrap()).expect("connect pipe");
    let (plain, _) = listener.accept().expect("accept pipe");
    plain.set_nodelay(true).unwrap();

    // By IP address: no SNI name, so routing domains are chosen by `Host` as over TCP.
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = ClientConnection::new(Arc::clone(&shared().1), name).unwrap();
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_nodelay(true).unwrap();
    let origin = tcp.local_addr().unwrap();
    // The handshake happens on the pipe's thread: a test may connect while the server's
    // loop is busy, and bytes it writes meanwhile wait in the kernel.
    std::thread::spawn(move || {
        let mut conn = conn;
        let mut tcp = tcp;
        while conn.is_handshaking() {
            if conn.complete_io(&mut tcp).is_err() {
                let _ = plain.shutdown(Shutdown::Both);
                return;
            }
        }
        let conn = Arc::new(Mutex::new(conn));
        let (down_plain, down_tcp, down_conn) = (
            plain.try_clone().unwrap(),
            tcp.try_clone().unwrap(),
            Arc::clone(&conn),
        );
        std::thread::spawn(move || downstream(down_plain, down_tcp, &down_conn));
        upstream(plain, tcp, &conn);
    });
    (test_side, origin)
}

/// Test -> server: plaintext in, records out. The lock is held only to encrypt.
fn upstream(mut plain: TcpStream, mut tcp: TcpStream, conn: &Mutex<ClientConnection>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut records = Vec::new();
    loop {
        let n = plain.read(&mut buf).unwrap_or(0);
        {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            if n == 0 {
                conn.send_close_notify();
            } else {
                conn.writer().write_all(&buf[..n]).unwrap();
            }
            while conn.wants_write() {
                conn.write_tls(&mut records).unwrap();
            }
        }
        let sent = tcp.write_all(&records);
        records.clear();
        if n == 0 || sent.is_err() {
            let _ = tcp.shutdown(Shutdown::Write);
            return;
        }
    }
}

/// Server -> test: records in, plaintext out. The lock is held only to decrypt.
fn downstream(mut plain: TcpStream, mut tcp: TcpStream, conn: &Mutex<ClientConnection>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    let mut replies = Vec::new();
    loop {
        let n = tcp.read(&mut buf).unwrap_or(0);
        let mut ended = n == 0;
        {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            let mut cipher = &buf[..n];
            loop {
                if conn.read_tls(&mut cipher).is_err() || conn.process_new_packets().is_err() {
                    ended = true;
                    break;
                }
                let mut reader = conn.reader();
                match reader.read_to_end(&mut out) {
                    Ok(_) => ended = true, // close_notify
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => ended = true,
                }
                if cipher.is_empty() || ended {
                    break;
                }
            }
            while conn.wants_write() {
                conn.write_tls(&mut replies).unwrap();
            }
        }
        if !replies.is_empty() {
            let _ = tcp.write_all(&replies);
            replies.clear();
        }
        if plain.write_all(&out).is_err() {
            return;
        }
        out.clear();
        if ended {
            let _ = plain.shutdown(Shutdown::Write);
            return;
        }
    }
}
