//! WebSocket test clients: tungstenite over a blocking `TcpStream`, and a raw client that
//! writes hand-made frames (for what a well-behaved client library never sends).
// Each test crate uses a different part of these helpers, and `pub` here only means "for the
// test files" (the crate-level `unreachable_pub` lint is for the library).
#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use tungstenite::protocol::WebSocket as Client;
use tungstenite::{Message, handshake::client::Response};

/// Generous deadline for any single wait.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A tungstenite client connected to `ws://addr{path}`.
pub fn connect(addr: SocketAddr, path: &str) -> (Client<TcpStream>, Response) {
    let (ws, response, _) = connect_with_origin(addr, path);
    (ws, response)
}

/// Like [`connect`], with the client address the server sees (`WebSocket::remote_addr`).
pub fn connect_with_origin(
    addr: SocketAddr,
    path: &str,
) -> (Client<TcpStream>, Response, SocketAddr) {
    let (stream, origin) = crate::support::connect_stream_with_origin(addr);
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    stream.set_nodelay(true).unwrap();
    let (ws, response) =
        tungstenite::client(format!("ws://{addr}{path}"), stream).expect("handshake");
    (ws, response, origin)
}

/// The next data message (pings are answered by tungstenite and skipped).
pub fn next_message(ws: &mut Client<TcpStream>) -> Message {
    loop {
        match ws.read().expect("read a message") {
            Message::Ping(_) | Message::Pong(_) => {}
            m => return m,
        }
    }
}

/// The next text message, as a String.
pub fn next_text(ws: &mut Client<TcpStream>) -> String {
    match next_message(ws) {
        Message::Text(t) => t.as_str().to_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// Receives from `rx` within the deadline.
pub fn recv<T>(rx: &Receiver<T>) -> T {
    rx.recv_timeout(DEADLINE)
        .expect("event within the deadline")
}

/// Asserts nothing more arrives on `rx` for a short while.
pub fn assert_quiet<T: std::fmt::Debug>(rx: &Receiver<T>) {
    match rx.recv_timeout(Duration::from_millis(300)) {
        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
        Ok(v) => panic!("unexpected event {v:?}"),
    }
}

/// A client writing raw bytes and reading raw frames.
pub struct RawWs {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

/// The handshake request for `path` with `key`, plus `extra` field lines.
pub fn handshake_request(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// A masked client frame: `first` is FIN|RSV|opcode.
pub fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0xa1, 0x02, 0xc3, 0x44];
    let mut out = vec![first];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n < 65536 => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// A masked close frame with `code` and `reason`.
pub fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    frame(0x88, &payload)
}

impl RawWs {
    /// Connects and completes the handshake to `path` (panics unless 101).
    pub fn connect(addr: SocketAddr, path: &str) -> RawWs {
        let mut ws = RawWs::open(addr);
        ws.send(handshake_request(path, ""));
        let head = ws.head();
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        ws
    }

    /// A plain TCP connection (no handshake yet).
    pub fn open(addr: SocketAddr) -> RawWs {
        let stream = crate::support::connect_stream(addr);
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream.set_nodelay(true).unwrap();
        RawWs {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) -> &mut Self {
        self.stream.write_all(bytes.as_ref()).expect("write");
        self
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 65536];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => false,
            Err(e) => panic!("read failed: {e}"),
        }
    }

    /// Reads an HTTP response head (up to the blank line) and returns it.
    pub fn head(&mut self) -> String {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8(self.buf[..end + 4].to_vec()).unwrap();
                self.buf.drain(..end + 4);
                return head;
            }
            assert!(self.fill(), "closed before a response head");
        }
    }

    /// Reads one server frame: `(first byte, payload)`; `None` if the connection closed.
    pub fn frame(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            if self.buf.len() >= 2 {
                assert_eq!(self.buf[1] & 0x80, 0, "server frames are not masked");
                let (len, at) = match self.buf[1] & 0x7f {
                    126 if self.buf.len() >= 4 => {
                        (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
                    }
                    127 if self.buf.len() >= 10 => (
                        u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize,
                        10,
                    ),
                    n @ 0..=125 => (n as usize, 2),
                    _ => (usize::MAX, 0),
                };
                if len != usize::MAX && self.buf.len() >= at + len {
                    let first = self.buf[0];
                    let payload = self.buf[at..at + len].to_vec();
                    self.buf.drain(..at + len);
                    return Some((first, payload));
                }
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// Expects a close frame with `code`, then the TCP connection closing.
    pub fn expect_close(&mut self, code: u16) {
        let (first, payload) = self.frame().expect("a close frame");
        assert_eq!(first, 0x88, "expected close, got {first:#x} {payload:?}");
        assert!(payload.len() >= 2, "close without code");
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code);
        // Answer as a client would; the server then closes the TCP connection.
        let _ = self.stream.write_all(&close_frame(code, b""));
        assert!(
            self.closed(),
            "server kept the connection open after closing"
        );
    }

    /// True once the server has closed the connection (EOF or reset), skipping other bytes.
    pub fn closed(&mut self) -> bool {
        let deadline = Instant::now() + DEADLINE;
        self.buf.clear();
        while Instant::now() < deadline {
            if !self.fill() {
                return true;
            }
            self.buf.clear();
        }
        false
    }
}
