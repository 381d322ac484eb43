//! Crate internals for the benches (`benches/`) and the cargo-fuzz targets (`fuzz/`), behind
//! the cargo feature `internals` (off by default).
//!
//! **Not a public API**: hidden from the docs, no stability promise; anything here may change
//! or go away in any release.
//!
//! These are the real items, re-exported, not copies: a bench or fuzz target runs exactly the
//! code a connection runs. Each is `pub` in its crate-private module (marked
//! `allow(unreachable_pub)` for builds without this feature) and reachable from outside only
//! through here. The only definitions of this module are the glue a caller outside the crate
//! cannot write: [`into_shared`] (`App::into_shared` is crate-private, so that `App`'s public
//! API does not grow) and [`drive`] (with [`DATE_LINE`]: one `process` call with the `Io` the
//! event loop lends, minus the socket).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use crate::app::App;

// ---- HTTP/1.1: head parser, body decoder, protocol errors ----------------------------------

pub use crate::http::chunked::{ChunkedDecoder, ChunkedError};
pub use crate::http::conn::MAX_FIELDS;
pub use crate::http::errors::ProtoError;
pub use crate::http::head::{BodyFraming, Head, HeaderSlots, parse_head};

// ---- HTTP response compression: Accept-Encoding ---------------------------------------------

pub use crate::http::compress::Coding;
pub use crate::http::compress::accept::negotiate as negotiate_accept_encoding;

// ---- Routing -------------------------------------------------------------------------------

pub use crate::router::{HandlerId, Params, Priority, RouteTree};

// ---- The sans-IO HTTP connection and the app it dispatches to ------------------------------

pub use crate::app::Shared;
pub use crate::http::conn::{Dispatch, HttpConn, Io, Next};
pub use crate::http::letter::{Courier, Home, OnAborted, Op, Ticket};
pub use crate::net::link::{Detached, Link};
pub use crate::net::proxy::{ProxyHeader, read_header as read_proxy_header};

// ---- WebSocket: frame codec and the sans-IO connection -------------------------------------

pub use crate::ws::OpCode;
pub use crate::ws::codec::{
    BadHeader, Header, parse_header, parse_header_tungstenite, unmask, write_frame,
};
pub use crate::ws::conn::{CloseState, Event, Payload, WsConn};
pub use crate::ws::deflate::context::{Deflater, InflateError, Inflater};
pub use crate::ws::deflate::negotiate::{Agreement, negotiate as negotiate_permessage_deflate};
// The wire opcode the codec reads and writes (`Header::opcode`, `write_frame`): tungstenite's,
// which the crate does not re-export (`OpCode` is the public one).
pub use tungstenite::protocol::frame::coding::{Data as RawData, OpCode as RawOpCode};

// ---- Glue ----------------------------------------------------------------------------------

/// The fixed `Date` line [`drive`] lends the connection (the loop's cached line has the same
/// length), so output is deterministic.
pub const DATE_LINE: &[u8] = b"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";

/// Compiles `app` into the tables the loops share, as the server does when it starts.
///
/// # Panics
/// If a full pattern (group prefixes concatenated) is invalid.
pub fn into_shared(app: App) -> Shared {
    app.into_shared()
}

/// One [`HttpConn::process`] call with the [`Io`] the event loop lends (see
/// `event_loop/proto.rs`), minus the socket: a [`Detached`] link (nothing is ever flushed, so
/// `out` gathers everything written), [`DATE_LINE`], `shared`'s limits, a fixed loopback peer
/// and no TLS server name. `shutting_down`: the server is stopping, so the connection closes
/// after the current response. Returns how many bytes of `input` were consumed; the rest must
/// be offered again, with more data after it.
/// Responses deferred by handlers run through [`drive`] are answered into [`Letters`]
/// that [`Letters::answer`] applies.
pub fn drive(
    conn: &mut HttpConn,
    shared: &Shared,
    letters: &Letters,
    input: &[u8],
    out: &mut Vec<u8>,
    shutting_down: bool,
) -> usize {
    let mut io = detached_io(letters, out, shared, shutting_down);
    conn.process(input, &mut io, shared)
}

/// The `Io` of [`drive`]: socket key 0.
fn detached_io<'a>(
    letters: &'a Letters,
    out: &'a mut Vec<u8>,
    shared: &'a Shared,
    shutting_down: bool,
) -> Io<'a> {
    Io {
        out,
        // Zero-sized: leaking one allocates nothing, and gives the `&mut` the `Io` needs.
        link: Box::leak(Box::new(Detached)),
        date: DATE_LINE,
        config: &shared.config,
        remote: SocketAddr::from((Ipv4Addr::LOCALHOST, 40000)),
        shutting_down,
        server_name: None,
        home: Home {
            courier: &letters.courier,
            key: 0,
            stats: &letters.stats,
        },
    }
}

/// A mailbox with no loop behind it, for [`drive`]: deferred responses' calls are kept
/// until [`answer`](Self::answer), except those a handler's own handle made, which the
/// connection takes back at once (as from a loop's mailbox); deferred closures run at once.
pub struct Letters {
    courier: Arc<dyn Courier>,
    queue: Arc<Queue>,
    /// The counters a loop would keep.
    stats: crate::stats::LoopStats,
}

#[derive(Debug, Default)]
struct Queue(Mutex<Vec<(Arc<Ticket>, Vec<Op>)>>);

impl Courier for Queue {
    fn post(&self, ticket: Arc<Ticket>, ops: Vec<Op>) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((ticket, ops));
        true
    }

    fn run(&self, f: Box<dyn FnOnce() + Send>) -> bool {
        f();
        true
    }

    /// As the loop's mailbox: the letter for `ticket`, if it is the last kept and the only
    /// one for that response.
    fn reclaim(&self, ticket: &Arc<Ticket>) -> Option<(Arc<Ticket>, Vec<Op>)> {
        let mut queue = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let is_for = |(t, _): &(Arc<Ticket>, Vec<Op>)| Arc::ptr_eq(t, ticket);
        match queue.split_last() {
            Some((last, earlier)) if is_for(last) && !earlier.iter().any(is_for) => queue.pop(),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Letters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Letters")
            .field("queue", &self.queue)
            .finish()
    }
}

impl Default for Letters {
    fn default() -> Self {
        let queue = Arc::new(Queue::default());
        Letters {
            courier: Arc::clone(&queue) as Arc<dyn Courier>,
            queue,
            stats: crate::stats::LoopStats::default(),
        }
    }
}

impl Letters {
    /// Applies every kept letter to `conn`, as the loop does after its events; returns how
    /// many there were. Input queued behind an answered response is the caller's to offer
    /// again.
    pub fn answer(&self, conn: &mut HttpConn, shared: &Shared, out: &mut Vec<u8>) -> usize {
        let letters =
            std::mem::take(&mut *self.queue.0.lock().unwrap_or_else(PoisonError::into_inner));
        let count = letters.len();
        for (ticket, ops) in letters {
            let mut io = detached_io(self, out, shared, false);
            if let Err(ops) = conn.answer(&ticket, ops, &mut io, shared) {
                crate::http::answer::answer_late(&ticket, ops, shared);
            }
            Ticket::recycle(ticket);
        }
        count
    }

    /// Whether letters wait.
    pub fn is_empty(&self) -> bool {
        self.queue
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }
}

/// A route tree where route `i` of `routes` (`None`: an `any` route) gets handler id `i`,
/// as a compiled app numbers its routes.
///
/// # Panics
/// If a pattern is invalid, or there are more than `u32::MAX` routes.
pub fn route_tree(routes: &[(Option<&str>, &str)]) -> RouteTree {
    let mut tree = RouteTree::default();
    for (i, &(method, pattern)) in routes.iter().enumerate() {
        let id = HandlerId::try_from(i).expect("too many routes");
        tree.add(method, pattern, Priority::Method, id);
    }
    tree
}

/// The id of the first (most specific) route of `tree` matching `method` and `path`, if any:
/// the search dispatch makes for a request that is not a WebSocket handshake when no handler
/// yields.
pub fn first_match(tree: &RouteTree, method: &str, path: &str) -> Option<HandlerId> {
    let mut params = Params::new();
    let mut hit = None;
    tree.route(method, path, false, &mut params, |id, _| {
        hit = Some(id);
        true
    });
    hit
}
