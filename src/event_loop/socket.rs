//! One connection's slab entry: its socket, protocol state, timer and the buffers it owns only
//! while it needs them (a partial request, bytes the kernel did not take).

use std::io::{self, IoSlice, Read, Write};
use std::net::SocketAddr;

use bytes::Bytes;
use mio::net::TcpStream;
use smallvec::SmallVec;

use crate::http::conn::HttpConn;
use crate::net::tls::TlsStream;
use crate::net::transport::Transport;
use crate::ws::session::WsState;
use crate::ws::socket::Link;

/// Which coarse timeout is armed for a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// None (a response is being produced).
    Off,
    /// Keep-alive idle, or a stalled request body.
    Idle,
    /// The request head started arriving; it must be complete by the deadline.
    HeadRead,
    /// We closed our side and wait briefly for the peer to close theirs.
    Linger,
    /// We sent a WebSocket close frame and wait briefly for the peer's.
    WsClose,
}

/// The protocol a connection speaks: HTTP/1.1 until a WebSocket upgrade, then WebSocket.
pub(crate) enum Proto {
    Http(HttpConn),
    Ws(WsState),
}

/// A connection in the loop's slab.
pub(crate) struct Socket {
    /// Plain TCP or TLS: every read and write goes through it.
    pub(crate) transport: Transport,
    pub(crate) remote: SocketAddr,
    pub(crate) proto: Proto,
    /// Received bytes not yet consumed (a partial head, or pipelined requests waiting).
    /// Empty, with no allocation, while the connection is idle.
    pub(crate) stash: Vec<u8>,
    /// Bytes the kernel did not take; drained on WRITABLE. Empty while idle.
    pub(crate) backpressure: Vec<u8>,
    /// Published WebSocket frames (shared, not copied) waiting for this socket's next write.
    pub(crate) outbox: Vec<Bytes>,
    pub(crate) timer: Timer,
    /// Loop second at which the armed timer fires.
    pub(crate) deadline: u32,
    /// The peer shut down its sending side (read returned 0).
    pub(crate) peer_closed: bool,
}

/// Backpressure above which the loop stops reading more requests from a socket, in bytes.
pub(crate) const READ_PAUSE_BYTES: usize = 256 * 1024;

impl Socket {
    /// Wraps an accepted stream.
    pub(crate) fn new(transport: Transport, remote: SocketAddr) -> Self {
        Socket {
            transport,
            remote,
            proto: Proto::Http(HttpConn::new()),
            stash: Vec::new(),
            backpressure: Vec::new(),
            outbox: Vec::new(),
            timer: Timer::Off,
            deadline: u32::MAX,
            peer_closed: false,
        }
    }

    /// Queues a shared published frame for the next flush. On plain TCP, past `MAX_SLICES`
    /// frames they are copied to the backpressure buffer, as `flush` would do anyway, so the
    /// outbox (and the sum over it in `buffered`, checked before every delivery) stays
    /// short: a subscriber sent M messages in one round costs O(M), not O(M^2). (Over TLS
    /// the backpressure buffer holds records, so frames wait in the outbox for encryption.)
    pub(crate) fn queue_frame(&mut self, frame: Bytes) {
        if self.outbox.len() >= MAX_SLICES && matches!(self.transport, Transport::Tcp(_)) {
            for queued in self.outbox.drain(..) {
                self.backpressure.extend_from_slice(&queued);
            }
        }
        self.outbox.push(frame);
    }

    /// Writes `cork` (and anything already waiting) with a single `write` call (TLS:
    /// encrypted first, then one vectored write of its records); what the kernel does not
    /// take is kept in the backpressure buffer. `cork` is left empty.
    pub(crate) fn flush(&mut self, cork: &mut Vec<u8>) -> io::Result<()> {
        if !self.outbox.is_empty() {
            return self.wire().flush(cork);
        }
        if cork.is_empty() && !self.transport.wants_write() {
            return Ok(());
        }
        let queued = !self.backpressure.is_empty();
        let result = self.transport.write_corked(cork, &mut self.backpressure);
        cork.clear();
        result?;
        if queued {
            self.drain_backpressure()
        } else {
            Ok(())
        }
    }

    /// Writes from the backpressure buffer until it is empty or the kernel pushes back.
    pub(crate) fn drain_backpressure(&mut self) -> io::Result<()> {
        drain(self.transport.tcp(), &mut self.backpressure)
    }

    /// The write side, as the WebSocket layer sees it.
    pub(crate) fn wire(&mut self) -> Wire<'_> {
        Wire {
            transport: &mut self.transport,
            backpressure: &mut self.backpressure,
            outbox: &mut self.outbox,
        }
    }

    /// Reads and discards what the peer still sends while we linger before closing.
    /// Returns true when the peer has closed (or failed) and the socket can go.
    pub(crate) fn discard_input(&mut self, scratch: &mut [u8]) -> bool {
        loop {
            match self.transport.tcp().read(scratch) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
    }
}

/// Writes `backpressure` until it is empty or the kernel pushes back.
fn drain(stream: &mut TcpStream, backpressure: &mut Vec<u8>) -> io::Result<()> {
    let mut written = 0;
    let result = loop {
        if written == backpressure.len() {
            break Ok(());
        }
        match stream.write(&backpressure[written..]) {
            Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    if written == backpressure.len() {
        // Give the memory back: an idle connection owns no buffer.
        *backpressure = Vec::new();
    } else {
        backpressure.drain(..written);
    }
    result
}

/// Most slices handed to one `writev` (well under `IOV_MAX`).
const MAX_SLICES: usize = 64;

/// A socket's write side borrowed apart from its protocol state, so a WebSocket callback can
/// write out its cork and see what is buffered.
pub(crate) struct Wire<'a> {
    pub(crate) transport: &'a mut Transport,
    pub(crate) backpressure: &'a mut Vec<u8>,
    pub(crate) outbox: &'a mut Vec<Bytes>,
}

impl Link for Wire<'_> {
    fn buffered(&self) -> usize {
        self.backpressure.len() + self.outbox.iter().map(Bytes::len).sum::<usize>()
    }

    /// Queued published frames, then `cork`, in one `writev` (tier 1 of DESIGN.md's writing,
    /// without copying the shared frames); what the kernel refuses is copied to the
    /// backpressure buffer.
    fn flush(&mut self, cork: &mut Vec<u8>) -> io::Result<()> {
        if self.outbox.is_empty() && cork.is_empty() && !self.transport.wants_write() {
            return Ok(());
        }
        let stream = match &mut *self.transport {
            Transport::Tls(tls) => return flush_tls(tls, self.outbox, cork, self.backpressure),
            Transport::Tcp(stream) => stream,
        };
        if !self.backpressure.is_empty() || self.outbox.len() >= MAX_SLICES {
            for frame in self.outbox.drain(..) {
                self.backpressure.extend_from_slice(&frame);
            }
            self.backpressure.extend_from_slice(cork);
            cork.clear();
            release(self.outbox);
            return drain(stream, self.backpressure);
        }
        let mut slices: SmallVec<[IoSlice<'_>; 8]> =
            self.outbox.iter().map(|f| IoSlice::new(f)).collect();
        if !cork.is_empty() {
            slices.push(IoSlice::new(cork));
        }
        let result = match stream.write_vectored(&slices) {
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        };
        if let Ok(mut written) = result {
            for slice in &slices {
                let skip = written.min(slice.len());
                written -= skip;
                self.backpressure.extend_from_slice(&slice[skip..]);
            }
        }
        drop(slices);
        release(self.outbox);
        cork.clear();
        result.map(drop)
    }
}

/// [`Wire::flush`] on TLS: the queued frames, then `cork`, are encrypted in order and leave
/// in one vectored write of records.
fn flush_tls(
    tls: &mut TlsStream,
    outbox: &mut Vec<Bytes>,
    cork: &mut Vec<u8>,
    backpressure: &mut Vec<u8>,
) -> io::Result<()> {
    let queued = !backpressure.is_empty();
    let mut result = outbox.iter().try_for_each(|frame| tls.encrypt(frame));
    if result.is_ok() {
        result = tls.write_corked(cork, backpressure);
    }
    release(outbox);
    cork.clear();
    result?;
    match queued {
        true => drain(&mut tls.tcp, backpressure),
        false => Ok(()),
    }
}

/// Empties the outbox, keeping a small allocation for the next publish (a subscriber is
/// likely to get another) but never a large one.
fn release(outbox: &mut Vec<Bytes>) {
    outbox.clear();
    if outbox.capacity() > 8 {
        *outbox = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    /// An idle connection (HTTP keep-alive or WebSocket) owns no buffer, so its memory is the
    /// slab entry: keep it within uWebSockets' 272 bytes per idle WebSocket.
    #[test]
    fn slab_entry_stays_small() {
        let entry = std::mem::size_of::<slab::Slab<super::Socket>>();
        assert!(entry < 64, "the slab header itself is small: {entry}");
        let socket = std::mem::size_of::<super::Socket>();
        assert!(socket <= 256, "Socket grew to {socket} bytes");
    }
}
