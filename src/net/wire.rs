//! One write side for every protocol (DESIGN.md "Writing: three tiers"): the transport, the
//! bytes the kernel refused (tier 3, drained on WRITABLE) and the shared published frames
//! waiting for the next write. The loop's cork (tier 1) is written through it with one
//! syscall per flush; an idle socket's `Wire` owns no buffer (one null pointer).

use std::cell::RefCell;
use std::io::{self, IoSlice, Read, Write};

use crate::spares::{self, SpareList};

use bytes::Bytes;
use smallvec::SmallVec;

use super::link::Link;
use super::transport::{Transport, drain};

/// A connection's write side (and its transport, which reads too).
pub(crate) struct Wire {
    /// Plain TCP or TLS: every read and write goes through it.
    pub(crate) transport: Transport,
    /// What waits to be written; `None` (no allocation, one pointer in the slab entry) while
    /// nothing does, on every idle socket that has not been sent publishes.
    pending: Option<Box<Pending>>,
}

/// Bytes and frames waiting for a socket's next write.
#[derive(Default)]
struct Pending {
    /// Bytes the kernel did not take; drained on WRITABLE.
    backpressure: Vec<u8>,
    /// Published WebSocket frames (shared, not copied) waiting for this socket's next write.
    outbox: Vec<Bytes>,
}

thread_local! {
    /// Boxes, not values: the box is what a socket holds, and reusing it is the point.
    #[allow(clippy::vec_box)]
    static SPARE_PENDING: SpareList<Box<Pending>> = const { RefCell::new(Vec::new()) };
}

/// `pending`, made if there is none (a spare box of this thread's if it has one).
fn pending_mut(pending: &mut Option<Box<Pending>>) -> &mut Pending {
    pending.get_or_insert_with(|| spares::take(&SPARE_PENDING).unwrap_or_default())
}

/// Once nothing waits in `pending`: a subscriber's box (`subscriber`: frames were just
/// written, or its outbox kept a small allocation) stays, as it is likely to get another
/// publish; any other goes back to the spares, so an idle socket that was never sent a
/// publish owns nothing.
fn settle(pending: &mut Option<Box<Pending>>, subscriber: bool) {
    let Some(p) = pending else {
        return;
    };
    if !p.backpressure.is_empty() || !p.outbox.is_empty() {
        return;
    }
    p.backpressure = Vec::new();
    release(&mut p.outbox);
    if subscriber || p.outbox.capacity() > 0 {
        return;
    }
    let Some(p) = pending.take() else {
        return;
    };
    spares::keep(&SPARE_PENDING, p);
}

/// Runs `f` with the transport and the backpressure buffer: the pending one, or a new empty
/// one (no allocation) kept only if `f` leaves bytes in it.
fn with_backpressure<R>(
    transport: &mut Transport,
    pending: &mut Option<Box<Pending>>,
    f: impl FnOnce(&mut Transport, &mut Vec<u8>) -> R,
) -> R {
    let result = match pending {
        Some(p) => f(transport, &mut p.backpressure),
        None => {
            let mut fresh = Vec::new();
            let result = f(transport, &mut fresh);
            if !fresh.is_empty() {
                pending_mut(pending).backpressure = fresh;
            }
            result
        }
    };
    settle(pending, false);
    result
}

impl Wire {
    /// The write side of a new connection: nothing buffered.
    pub(crate) fn new(transport: Transport) -> Self {
        Wire {
            transport,
            pending: None,
        }
    }

    /// Bytes the kernel refused, waiting for WRITABLE (the outbox not counted).
    pub(crate) fn refused(&self) -> usize {
        self.pending.as_ref().map_or(0, |p| p.backpressure.len())
    }

    /// True when nothing waits: no refused bytes, no queued frames.
    pub(crate) fn is_drained(&self) -> bool {
        self.pending
            .as_ref()
            .is_none_or(|p| p.backpressure.is_empty() && p.outbox.is_empty())
    }

    /// True when shared frames wait for the next flush.
    pub(crate) fn has_queued_frames(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| !p.outbox.is_empty())
    }

    /// Queues a shared published frame for the next flush. On plain TCP, past `MAX_SLICES`
    /// frames they are copied to the backpressure buffer, as `flush` would do anyway, so the
    /// outbox (and the sum over it in `buffered`, checked before every delivery) stays
    /// short: a subscriber sent M messages in one round costs O(M), not O(M^2). (Over TLS
    /// the backpressure buffer holds records, so frames wait in the outbox for encryption.)
    pub(crate) fn queue_frame(&mut self, frame: Bytes) {
        let tcp = matches!(self.transport, Transport::Tcp(_));
        let p = pending_mut(&mut self.pending);
        if p.outbox.len() >= MAX_SLICES && tcp {
            for queued in p.outbox.drain(..) {
                p.backpressure.extend_from_slice(&queued);
            }
        }
        p.outbox.push(frame);
    }

    /// Writes from the backpressure buffer until it is empty or the kernel pushes back.
    ///
    /// # Errors
    /// The write failed: the connection is lost.
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        let Some(p) = &mut self.pending else {
            return Ok(());
        };
        let result = drain(self.transport.tcp(), &mut p.backpressure);
        settle(&mut self.pending, false);
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

/// Most slices handed to one `writev` (well under `IOV_MAX`).
const MAX_SLICES: usize = 64;

impl Link for Wire {
    /// O(outbox), and the outbox stays short (see [`Wire::queue_frame`]).
    fn buffered(&self) -> usize {
        self.pending.as_ref().map_or(0, |p| {
            p.backpressure.len() + p.outbox.iter().map(Bytes::len).sum::<usize>()
        })
    }

    /// Queued published frames, then `cork`, in one `writev` (tier 1 of DESIGN.md's writing,
    /// without copying the shared frames); what the kernel refuses is copied to the
    /// backpressure buffer.
    fn flush(&mut self, cork: &mut Vec<u8>) -> io::Result<()> {
        let queued = self.has_queued_frames();
        if !queued && cork.is_empty() && !self.transport.wants_write() {
            return Ok(());
        }
        let stream = match &mut self.transport {
            // TLS: the queued frames are encrypted first, in order, then leave with the cork
            // in one vectored write of records.
            Transport::Tls(tls) => {
                if let Some(p) = &mut self.pending {
                    let encrypted = p.outbox.iter().try_for_each(|frame| tls.encrypt(frame));
                    release(&mut p.outbox);
                    if encrypted.is_err() {
                        cork.clear();
                        settle(&mut self.pending, queued);
                        return encrypted;
                    }
                }
                return with_backpressure(&mut self.transport, &mut self.pending, |t, b| {
                    t.write_corked_then_drain(cork, b)
                });
            }
            // The common case (HTTP, WebSocket echo): one plain write of the cork.
            Transport::Tcp(_) if !queued => {
                return with_backpressure(&mut self.transport, &mut self.pending, |t, b| {
                    t.write_corked_then_drain(cork, b)
                });
            }
            Transport::Tcp(stream) => stream,
        };
        let p = pending_mut(&mut self.pending);
        if !p.backpressure.is_empty() || p.outbox.len() >= MAX_SLICES {
            for frame in p.outbox.drain(..) {
                p.backpressure.extend_from_slice(&frame);
            }
            p.backpressure.extend_from_slice(cork);
            cork.clear();
            release(&mut p.outbox);
            let result = drain(stream, &mut p.backpressure);
            settle(&mut self.pending, true);
            return result;
        }
        let mut slices: SmallVec<[IoSlice<'_>; 8]> =
            p.outbox.iter().map(|f| IoSlice::new(f)).collect();
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
        let mut refused = Vec::new();
        if let Ok(mut written) = result {
            for slice in &slices {
                let skip = written.min(slice.len());
                written -= skip;
                refused.extend_from_slice(&slice[skip..]);
            }
        }
        drop(slices);
        p.backpressure = refused;
        release(&mut p.outbox);
        cork.clear();
        settle(&mut self.pending, true);
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
