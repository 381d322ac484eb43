//! Thin wrappers over crate internals for the benches and fuzz targets (cargo feature
//! `internals`, off by default). Not part of the public API: no stability promise.
//!
//! Every wrapper runs the real code path: [`parse_head`] is the connection's head parser,
//! [`ChunkedDecoder`] the body decoder, [`Router`] the specificity router and [`Driver`] a whole
//! sans-IO connection dispatching into an [`App`]'s routes, exactly as an event loop does.
//! [`AppRoutes`] is an app's compiled route table (groups flattened), looked up as dispatch does.
//! [`ws_parse_header`], [`ws_unmask`] and [`ws_write_frame`] are the WebSocket frame codec and
//! [`WsConnection`] the sans-IO WebSocket connection.

use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, SocketAddr};

use crate::app::{App, Shared};
use crate::config::Config;
use crate::http::{chunked, conn, errors::ProtoError, head};
use crate::net::link::Detached;
use crate::router::{Params, Priority, RouteTree};
use crate::ws;

/// Header slots offered to the parser, as `HttpConn` does (`Config` may only lower it).
const MAX_FIELDS: usize = 128;

/// The fixed `Date` line [`Driver`] writes (the loop's cache has the same length), so output
/// is deterministic.
pub const DATE_LINE: &[u8] = b"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";

/// How a parsed request's body is delimited (RFC 9112 section 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// What [`parse_head`] found in a complete head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadSummary {
    /// Length of the head in bytes, final CRLF included.
    pub len: usize,
    /// Number of header fields.
    pub fields: usize,
    /// Length of the path part of the target.
    pub path_len: usize,
    /// Body framing.
    pub framing: Framing,
    /// Whether the connection stays open after this exchange.
    pub keep_alive: bool,
}

/// Parses one request head from the front of `bytes` with `config`'s limits, as a connection
/// does. `Ok(None)`: incomplete, more bytes are needed. `Err(status)`: the request is refused
/// with that status code (400, 413, 414, 431, 501 or 505).
///
/// # Errors
/// The status code of the protocol error the connection would answer with.
pub fn parse_head(bytes: &[u8], config: &Config) -> Result<Option<HeadSummary>, u16> {
    let mut slots = [const { MaybeUninit::uninit() }; MAX_FIELDS];
    match head::parse_head(bytes, &mut slots, config) {
        Ok(Some(h)) => Ok(Some(HeadSummary {
            len: h.len,
            fields: h.headers.len(),
            path_len: h.path.len(),
            framing: match h.framing {
                head::BodyFraming::None => Framing::None,
                head::BodyFraming::Length(n) => Framing::Length(n),
                head::BodyFraming::Chunked => Framing::Chunked,
            },
            keep_alive: h.keep_alive,
        })),
        Ok(None) => Ok(None),
        Err(e) => Err(status_of(e)),
    }
}

/// The status code of a protocol error, read from its pre-baked response
/// (`HTTP/1.1 NNN ...`), so new variants need no change here.
fn status_of(error: ProtoError) -> u16 {
    error
        .response()
        .get(9..12)
        .and_then(|code| std::str::from_utf8(code).ok())
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// A chunked body the decoder rejected (the connection answers `400`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkedError(chunked::ChunkedError);

/// The incremental chunked-body decoder (RFC 9112 section 7.1).
#[derive(Debug, Default)]
pub struct ChunkedDecoder(chunked::ChunkedDecoder);

impl ChunkedDecoder {
    /// A decoder positioned at the first chunk-size.
    pub fn new() -> Self {
        ChunkedDecoder(chunked::ChunkedDecoder::new())
    }

    /// Feeds `input`; calls `on_data` for each run of body data. Returns `(consumed, done)`.
    ///
    /// # Errors
    /// When the framing is invalid.
    pub fn decode(
        &mut self,
        input: &[u8],
        on_data: impl FnMut(&[u8]),
    ) -> Result<(usize, bool), ChunkedError> {
        self.0.decode(input, on_data).map_err(ChunkedError)
    }
}

/// The app's router on its own: handler ids are positions in the route list.
#[derive(Debug)]
pub struct Router(RouteTree);

impl Router {
    /// Builds a router from `(method, pattern)` pairs, `None` meaning any method; route `i`
    /// gets handler id `i`.
    ///
    /// # Panics
    /// On an invalid pattern, or more than `u32::MAX` routes.
    pub fn new(routes: &[(Option<&str>, &str)]) -> Self {
        let mut r = RouteTree::default();
        for (i, &(method, pattern)) in routes.iter().enumerate() {
            let id = u32::try_from(i).expect("too many routes");
            r.add(method, pattern, Priority::Method, id);
        }
        Router(r)
    }

    /// The id of the first (most specific) route matching `method` and `path`, if any.
    pub fn lookup(&self, method: &str, path: &str) -> Option<u32> {
        let mut params = Params::new();
        let mut hit = None;
        self.0.route(method, path, &mut params, |id, _| {
            hit = Some(id);
            true
        });
        hit
    }
}

/// One sans-IO HTTP/1.1 connection driven by an [`App`]'s routes, as an event loop drives it
/// (minus sockets, timers and the receive stash).
pub struct Driver {
    app: Shared,
    conn: conn::HttpConn,
    remote: SocketAddr,
    shutting_down: bool,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("remote", &self.remote)
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// A fresh connection served by `app`'s routes and limits.
    pub fn new(app: App) -> Self {
        Driver {
            app: app.into_shared(),
            conn: conn::HttpConn::new(),
            remote: SocketAddr::from((Ipv4Addr::LOCALHOST, 40000)),
            shutting_down: false,
        }
    }

    /// Feeds received bytes, appending whatever the connection writes to `out`. Returns how
    /// many bytes were consumed: the rest must be offered again, with more data after it.
    pub fn process(&mut self, input: &[u8], out: &mut Vec<u8>) -> usize {
        let mut link = Detached;
        let mut io = conn::Io {
            out,
            link: &mut link,
            date: DATE_LINE,
            config: &self.app.config,
            remote: self.remote,
            shutting_down: self.shutting_down,
            server_name: None,
        };
        self.conn.process(input, &mut io, &self.app)
    }

    /// Starts over with a new connection on the same app.
    pub fn reset(&mut self) {
        self.conn = conn::HttpConn::new();
    }

    /// Marks the server as shutting down: connections close after the current response.
    pub fn set_shutting_down(&mut self, shutting_down: bool) {
        self.shutting_down = shutting_down;
    }

    /// True once the connection wants to close (after a flush, or at once).
    pub fn is_closing(&self) -> bool {
        self.conn.next() != conn::Next::Serve
    }

    /// True between requests: nothing half-read, the last response complete.
    pub fn is_idle(&self) -> bool {
        self.conn.is_idle()
    }

    /// True while a request body is being read.
    pub fn in_body(&self) -> bool {
        self.conn.in_body()
    }
}

/// An [`App`]'s compiled default route table: groups, prefixes and endpoints flattened into
/// the one tree, as the loops get it. Handler ids are positions in compilation order (an
/// app's routes in registration order, a nested group's where it was nested).
pub struct AppRoutes(Shared);

impl std::fmt::Debug for AppRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppRoutes")
            .field("routes", &self.len())
            .finish_non_exhaustive()
    }
}

impl AppRoutes {
    /// Compiles `app`'s routes.
    ///
    /// # Panics
    /// If a full pattern (prefixes concatenated) is invalid.
    pub fn new(app: App) -> Self {
        AppRoutes(app.into_shared())
    }

    /// Number of compiled routes.
    pub fn len(&self) -> usize {
        self.0.default.routes.len()
    }

    /// True if the app has no route.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of the first (most specific) route matching `method` and `path`, if any.
    pub fn lookup(&self, method: &str, path: &str) -> Option<u32> {
        let mut params = Params::new();
        let mut hit = None;
        self.0
            .default
            .tree
            .route(method, path, &mut params, |id, _| {
                hit = Some(id);
                true
            });
        hit
    }
}

// ---- WebSocket: frame codec and the sans-IO connection -------------------------------------

pub use crate::ws::OpCode;

/// A parsed WebSocket frame header (RFC 6455 section 5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsHeader {
    /// FIN bit.
    pub fin: bool,
    /// Any of RSV1-3 set.
    pub rsv: bool,
    /// The 4-bit opcode.
    pub opcode: u8,
    /// Masking key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub payload_len: u64,
    /// Header length in bytes (2 to 14).
    pub header_len: usize,
}

/// A frame header the connection refuses (close 1002): a reserved opcode, or a 64-bit
/// length with its top bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsBadHeader;

/// Parses the frame header at the front of `bytes`, as the connection does.
/// `Ok(None)`: incomplete.
///
/// # Errors
/// [`WsBadHeader`] for a reserved opcode or a 64-bit length with its top bit set.
pub fn ws_parse_header(bytes: &[u8]) -> Result<Option<WsHeader>, WsBadHeader> {
    convert(ws::codec::parse_header(bytes))
}

/// [`ws_parse_header`] through tungstenite's `FrameHeader::parse`, the reference the
/// hand-written parser is checked against. The two agree on every complete header; ours fails
/// a reserved opcode before the rest of the header arrives.
///
/// # Errors
/// As [`ws_parse_header`].
pub fn ws_parse_header_reference(bytes: &[u8]) -> Result<Option<WsHeader>, WsBadHeader> {
    convert(ws::codec::parse_header_tungstenite(bytes))
}

/// The wrapper's view of a parse result.
fn convert(
    parsed: Result<Option<ws::codec::Header>, ws::codec::BadHeader>,
) -> Result<Option<WsHeader>, WsBadHeader> {
    match parsed {
        Ok(Some(h)) => Ok(Some(WsHeader {
            fin: h.fin,
            rsv: h.rsv,
            opcode: u8::from(h.opcode),
            mask: h.mask,
            payload_len: h.payload_len,
            header_len: h.header_len,
        })),
        Ok(None) => Ok(None),
        Err(_) => Err(WsBadHeader),
    }
}

/// XORs `buf` with `mask`, `buf` starting `offset` bytes into the payload (RFC 6455 5.3).
pub fn ws_unmask(buf: &mut [u8], mask: [u8; 4], offset: usize) {
    ws::codec::unmask(buf, mask, offset);
}

/// Appends one unmasked (server) frame carrying `payload`.
pub fn ws_write_frame(out: &mut Vec<u8>, opcode: OpCode, payload: &[u8]) {
    ws::codec::write_frame(out, opcode.raw(), true, payload);
}

/// What [`WsConnection::next`] found.
#[derive(Debug)]
pub enum WsEvent<'a> {
    /// A whole message (text is valid UTF-8): borrowed from the input when it came in one
    /// frame, owned when assembled.
    Message(std::borrow::Cow<'a, [u8]>, OpCode),
    /// A ping; the pong is already written.
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The peer's close frame: code (1005 for none) and reason; answered if we had not closed.
    Close(u16, &'a str),
    /// A protocol error: a close frame with this code is written, nothing more is read.
    Fail(u16),
}

/// The sans-IO WebSocket server connection the event loop drives: bytes in, events and
/// frames out.
#[derive(Debug, Default)]
pub struct WsConnection {
    conn: ws::conn::WsConn,
}

impl WsConnection {
    /// An open connection, right after the handshake.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes bytes from the front of `input` up to and including the next event (frames
    /// are unmasked in place); answers (pong, close) go to `out`. Unused bytes must be offered
    /// again with more. Messages over `max_payload` bytes fail with 1009.
    pub fn next<'a>(
        &mut self,
        input: &'a mut [u8],
        out: &mut Vec<u8>,
        max_payload: usize,
    ) -> (usize, Option<WsEvent<'a>>) {
        use ws::conn::Event;
        let (used, event) = self.conn.next(input, out, max_payload);
        let event = event.map(|e| match e {
            Event::Message(ws::conn::Payload::Borrowed(p), op) => {
                WsEvent::Message(std::borrow::Cow::Borrowed(p), op)
            }
            Event::Message(ws::conn::Payload::Owned(p), op) => {
                WsEvent::Message(std::borrow::Cow::Owned(p), op)
            }
            Event::Ping(p) => WsEvent::Ping(p),
            Event::Pong(p) => WsEvent::Pong(p),
            Event::Close(code, reason) => WsEvent::Close(code, reason),
            Event::Fail(code) => WsEvent::Fail(code),
        });
        (used, event)
    }

    /// Appends a message frame; false once we have closed.
    pub fn send(&self, out: &mut Vec<u8>, payload: &[u8], opcode: OpCode) -> bool {
        self.conn.send(out, payload, opcode)
    }

    /// Starts the closing handshake with `code` and `reason`; false if already closed.
    pub fn end(&mut self, out: &mut Vec<u8>, code: u16, reason: &str) -> bool {
        self.conn.end(out, code, reason)
    }

    /// Whether messages still flow both ways.
    pub fn is_open(&self) -> bool {
        self.conn.close_state() == ws::conn::CloseState::Open
    }
}
