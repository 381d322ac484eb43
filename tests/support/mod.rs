//! Shared test helpers: a real server on 127.0.0.1:0 and a raw-bytes client with deadlines.
// Each test crate uses a different part of these helpers, and `pub` here only means "for the
// test files" (the crate-level `unreachable_pub` lint is for the library).
#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uweb::{App, Config, HttpRequest, HttpResponse, Server};

pub mod examples;
pub mod tls;
pub mod tls_pipe;

/// Generous deadline for any single wait: tests must not depend on timing.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Starts `app` on an ephemeral loopback port with `threads` loops (HTTPS when the suites
/// run over TLS, see [`tls_pipe`]).
pub fn serve(app: App, threads: usize) -> Server {
    if tls_pipe::enabled() {
        return tls_pipe::serve(app.threads(threads));
    }
    app.threads(threads).bind("127.0.0.1:0").expect("bind")
}

/// Polls `done` (every 2 ms) until it holds; panics after [`DEADLINE`] naming `what`. For
/// states no event announces (a handle learning its socket closed), not to synchronise with
/// something that can be awaited.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A `Config` with the defaults, adjusted by `f`.
pub fn config(f: impl FnOnce(&mut Config)) -> Config {
    let mut c = Config::default();
    f(&mut c);
    c
}

/// A shared, ordered log that handlers append to (which handler ran, what it saw).
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }

    /// Everything logged so far, emptying the log.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Runs `curl` with `args` (plus a generous `--max-time`), returning (exit ok, stdout, stderr).
pub fn curl(args: &[&str]) -> (bool, Vec<u8>, String) {
    // Over TLS: the same URLs as https, trusting the test certificate.
    let tls = tls_pipe::enabled();
    let args = args.iter().map(|a| match a.strip_prefix("http://") {
        Some(rest) if tls => format!("https://{rest}"),
        _ => a.to_string(),
    });
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20"])
        .args(if tls { &["--insecure"][..] } else { &[][..] })
        .args(args)
        .output()
        .expect("run curl");
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A connected stream to a server started by [`serve`]: plain TCP, or the plaintext end of a
/// TLS pipe when the suites run over TLS.
pub fn connect_stream(addr: SocketAddr) -> TcpStream {
    connect_stream_with_origin(addr).0
}

/// Like [`connect_stream`], with the client address the server sees as the peer.
pub fn connect_stream_with_origin(addr: SocketAddr) -> (TcpStream, SocketAddr) {
    if tls_pipe::enabled() {
        return tls_pipe::pipe(addr);
    }
    let stream = TcpStream::connect(addr).expect("connect");
    let origin = stream.local_addr().unwrap();
    (stream, origin)
}

/// A handler that answers with the request body once it has all arrived (`POST /echo`).
pub fn echo(res: &mut HttpResponse<'_>, _req: &mut HttpRequest<'_>) {
    let mut body = Vec::new();
    res.on_data(move |res, chunk, is_last| {
        body.extend_from_slice(chunk);
        if is_last {
            res.end(&body);
        }
    });
}

/// A raw TCP client speaking hand-written bytes.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
    /// The client address the server sees (the TLS pipe's, when the suites run over TLS).
    origin: SocketAddr,
}

impl Client {
    /// Connects to a server started by [`serve`] (through a TLS pipe when the suites run
    /// over TLS).
    pub fn connect(addr: SocketAddr) -> Client {
        if tls_pipe::enabled() {
            let (stream, origin) = tls_pipe::pipe(addr);
            return Client {
                origin,
                ..Client::from_stream(stream)
            };
        }
        Client::from_stream(TcpStream::connect(addr).expect("connect"))
    }

    /// Wraps an already connected stream (read deadline and `TCP_NODELAY` set).
    pub fn from_stream(stream: TcpStream) -> Client {
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            origin: stream.local_addr().unwrap(),
            stream,
            buf: Vec::new(),
        }
    }

    /// The client address the server sees as the peer.
    pub fn origin(&self) -> SocketAddr {
        self.origin
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) -> &mut Self {
        self.stream.write_all(bytes.as_ref()).expect("write");
        self
    }

    /// Reads one whole response (Content-Length or chunked framing, or until close).
    pub fn response(&mut self) -> Response {
        read_response(&mut self.stream, &mut self.buf)
    }

    /// Sends `bytes` and reads one response.
    pub fn request(&mut self, bytes: impl AsRef<[u8]>) -> Response {
        self.send(bytes);
        self.response()
    }

    /// Reads one response to a HEAD request: the head only, never a body.
    pub fn head_response(&mut self) -> Response {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some((status, headers, len)) = Response::head(&self.buf) {
                let raw = self.buf.drain(..len).collect();
                return Response {
                    status,
                    headers,
                    body: Vec::new(),
                    raw,
                };
            }
            assert!(
                Instant::now() < deadline,
                "no complete response head in time"
            );
            self.fill();
        }
    }

    /// Everything the server sends until it closes the connection (EOF or reset).
    pub fn read_until_close(&mut self) -> Vec<u8> {
        let mut all = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 65536];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return all,
                Ok(n) => all.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return all,
                Err(e) => panic!("read failed: {e}; have {:?}", String::from_utf8_lossy(&all)),
            }
        }
    }

    /// Reads more bytes into the buffer; panics on EOF or error.
    fn fill(&mut self) {
        let mut chunk = [0u8; 65536];
        match self.stream.read(&mut chunk) {
            Ok(0) => panic!(
                "connection closed; have {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
            Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!(
                "read failed: {e}; have {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
        }
    }

    /// Bytes received but not yet consumed as a response.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Takes the bytes received but not yet consumed (a body read by hand after
    /// [`head_response`](Self::head_response)).
    pub fn take_pending(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// True when the server closes the connection (EOF or reset) before the deadline,
    /// discarding anything else it sends.
    pub fn is_closed(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}

/// Reads one whole response from `stream` (Content-Length or chunked framing, or until
/// close), keeping bytes that follow it in `buf`; panics at the deadline.
pub fn read_response(stream: &mut impl Read, buf: &mut Vec<u8>) -> Response {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some((mut resp, used)) = Response::parse(buf) {
            resp.raw = buf.drain(..used).collect();
            return resp;
        }
        assert!(Instant::now() < deadline, "no complete response in time");
        let mut chunk = [0u8; 65536];
        match stream.read(&mut chunk) {
            Ok(0) => {
                // A response delimited by close.
                let resp = Response::parse_until_close(buf).unwrap_or_else(|| {
                    panic!(
                        "connection closed mid-response: {:?}",
                        String::from_utf8_lossy(buf)
                    )
                });
                buf.clear();
                return resp;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("read failed: {e}; have {:?}", String::from_utf8_lossy(buf)),
        }
    }
}

/// Header fields as (name, value), in order.
pub type Fields = Vec<(String, String)>;

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Fields,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// The response exactly as received (head and framed body).
    pub raw: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the fields named `name`, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).expect("utf-8 body")
    }

    /// Parses a response head: status, fields, and the head's length.
    fn head(buf: &[u8]) -> Option<(u16, Fields, usize)> {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        let len = match resp.parse(buf).expect("valid response head") {
            httparse::Status::Complete(len) => len,
            httparse::Status::Partial => return None,
        };
        let fields = resp
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        Some((resp.code.unwrap(), fields, len))
    }

    /// Parses one whole response (a 1xx head, Content-Length, chunked, or 204/304) from the
    /// front of `buf`: the response and the bytes used; `None` until it is complete.
    pub fn parse(buf: &[u8]) -> Option<(Response, usize)> {
        let (status, headers, len) = Self::head(buf)?;
        let mut resp = Response {
            status,
            headers,
            body: Vec::new(),
            raw: Vec::new(),
        };
        if (100..200).contains(&status) {
            return Some((resp, len));
        }
        if let Some(cl) = resp.header("content-length") {
            let cl: usize = cl.parse().unwrap();
            if buf.len() < len + cl {
                return None;
            }
            resp.body = buf[len..len + cl].to_vec();
            return Some((resp, len + cl));
        }
        if resp
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            let mut pos = len;
            loop {
                let line_end = find(&buf[pos..], b"\r\n")? + pos;
                let size = usize::from_str_radix(
                    std::str::from_utf8(&buf[pos..line_end]).unwrap().trim(),
                    16,
                )
                .unwrap();
                pos = line_end + 2;
                if size == 0 {
                    // No trailers from this server: the final CRLF follows at once.
                    if buf.len() < pos + 2 {
                        return None;
                    }
                    assert_eq!(&buf[pos..pos + 2], b"\r\n", "bad chunked ending");
                    return Some((resp, pos + 2));
                }
                if buf.len() < pos + size + 2 {
                    return None;
                }
                resp.body.extend_from_slice(&buf[pos..pos + size]);
                assert_eq!(
                    &buf[pos + size..pos + size + 2],
                    b"\r\n",
                    "chunk-data not followed by CRLF"
                );
                pos += size + 2;
            }
        }
        // No framing: 204/304, or delimited by close (handled by the caller).
        if status == 204 || status == 304 {
            return Some((resp, len));
        }
        None
    }

    fn parse_until_close(buf: &[u8]) -> Option<Response> {
        let (status, headers, len) = Self::head(buf)?;
        Some(Response {
            status,
            headers,
            body: buf[len..].to_vec(),
            raw: buf.to_vec(),
        })
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `GET path` with a Host field, as bytes.
pub fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")
}

/// `method path` as HTTP/1.1 bytes with `fields` (name, value); `Host: test` unless a Host
/// field is given.
pub fn request(method: &str, path: &str, fields: &[(&str, &str)]) -> String {
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    if !fields.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        out.push_str("Host: test\r\n");
    }
    for (name, value) in fields {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out
}

/// Sends one request on a fresh connection and reads its response.
pub fn fetch(addr: SocketAddr, bytes: impl AsRef<[u8]>) -> Response {
    Client::connect(addr).send(bytes).response()
}
