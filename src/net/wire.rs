//! One write side for every protocol (DESIGN.md "Writing: three tiers"): the transport, the
//! bytes the kernel refused (tier 3, drained on WRITABLE) and the shared published frames
//! waiting for the next write. The loop's cork (tier 1) is written through it with one
//! syscall per flush; an idle socket's `Wire` owns no buffer.

use std::io::{self, IoSlice, Read, Write};

use bytes::Bytes;
use smallvec::SmallVec;

use super::link::Link;
use super::transport::{Transport, drain};

/// A connection's write side (and its transport, which reads too).
pub(crate) struct Wire {
    /// Plain TCP or TLS: every read and write goes through it.
    pub(crate) transport: Transport,
    /// Bytes the kernel did not take; drained on WRITABLE. Empty while idle.
    backpressure: Vec<u8>,
    /// Published WebSocket frames (shared, not copied) waiting for this socket's next write.
    outbox: Vec<Bytes>,
}

impl Wire {
    /// The write side of a new connection: nothing buffered.
    pub(crate) fn new(transport: Transport) -> Self {
        Wire {
            transport,
            backpressure: Vec::new(),
            outbox: Vec::new(),
        }
    }

    /// Bytes the kernel refused, waiting for WRITABLE (the outbox not counted).
    pub(crate) fn refused(&self) -> usize {
        self.backpressure.len()
    }

    /// True when nothing waits: no refused bytes, no queued frames.
    pub(crate) fn is_drained(&self) -> bool {
        self.backpressure.is_empty() && self.outbox.is_empty()
    }

    /// True when shared frames wait for the next flush.
    pub(crate) fn has_queued_frames(&self) -> bool {
        !self.outbox.is_empty()
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

    /// Writes from the backpressure buffer until it is empty or the kernel pushes back.
    ///
    /// # Errors
    /// The write failed: the connection is lost.
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        drain(self.transport.tcp(), &mut self.backpressure)
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

/// Most slices handed to one `writev` (well under `IOV_MAX`).
const MAX_SLICES: usize = 64;

impl Link for Wire {
    /// O(outbox), and the outbox stays short (see [`Wire::queue_frame`]).
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
        let stream = match &mut self.transport {
            // TLS: the queued frames are encrypted first, in order, then leave with the cork
            // in one vectored write of records.
            Transport::Tls(tls) => {
                let encrypted = self.outbox.iter().try_for_each(|frame| tls.encrypt(frame));
                release(&mut self.outbox);
                if encrypted.is_err() {
                    cork.clear();
                    return encrypted;
                }
                return self
                    .transport
                    .write_corked_then_drain(cork, &mut self.backpressure);
            }
            // The common case (HTTP, WebSocket echo): one plain write of the cork.
            Transport::Tcp(_) if self.outbox.is_empty() => {
                return self
                    .transport
                    .write_corked_then_drain(cork, &mut self.backpressure);
            }
            Transport::Tcp(stream) => stream,
        };
        if !self.backpressure.is_empty() || self.outbox.len() >= MAX_SLICES {
            for frame in self.outbox.drain(..) {
                self.backpressure.extend_from_slice(&frame);
            }
            self.backpressure.extend_from_slice(cork);
            cork.clear();
            release(&mut self.outbox);
            return drain(stream, &mut self.backpressure);
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
        release(&mut self.outbox);
        cork.clear();
        result.map(drop)
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
