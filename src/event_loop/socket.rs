//! One connection's slab entry: its socket, protocol state, timer and the buffers it owns only
//! while it needs them (a partial request, bytes the kernel did not take).

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use crate::http::conn::HttpConn;
use crate::net::transport::Transport;

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
}

/// A connection in the loop's slab.
pub(crate) struct Socket {
    /// Plain TCP or TLS: every read and write goes through it.
    pub(crate) transport: Transport,
    /// The TLS SNI name, copied once the ClientHello is read (it chooses the routing domain).
    pub(crate) server_name: Option<Box<str>>,
    pub(crate) remote: SocketAddr,
    pub(crate) http: HttpConn,
    /// Received bytes not yet consumed (a partial head, or pipelined requests waiting).
    /// Empty, with no allocation, while the connection is idle.
    pub(crate) stash: Vec<u8>,
    /// Bytes the kernel did not take; drained on WRITABLE. Empty while idle.
    pub(crate) backpressure: Vec<u8>,
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
            server_name: None,
            remote,
            http: HttpConn::new(),
            stash: Vec::new(),
            backpressure: Vec::new(),
            timer: Timer::Off,
            deadline: u32::MAX,
            peer_closed: false,
        }
    }

    /// Writes `cork` (and anything already waiting) with a single `write` call (TLS:
    /// encrypted first, then one vectored write of its records); what the kernel does not
    /// take is kept in the backpressure buffer. `cork` is left empty.
    pub(crate) fn flush(&mut self, cork: &mut Vec<u8>) -> io::Result<()> {
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
        let mut written = 0;
        let result = loop {
            if written == self.backpressure.len() {
                break Ok(());
            }
            match self.transport.tcp().write(&self.backpressure[written..]) {
                Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        if written == self.backpressure.len() {
            // Give the memory back: an idle connection owns no buffer.
            self.backpressure = Vec::new();
        } else {
            self.backpressure.drain(..written);
        }
        result
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
