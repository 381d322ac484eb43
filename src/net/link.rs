//! The write side as a protocol sees it (uWS `AsyncSocket` seen from `HttpResponse` and
//! `WebSocket`): how much is buffered, and writing the cork out now. Both protocols write
//! through it, so neither knows whether a socket, TLS or a test buffer is underneath.

use std::io;

/// A socket's write side: the bytes it holds back, and a flush of the loop's cork.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub trait Link {
    /// Bytes waiting for the kernel (the backpressure buffer plus queued shared frames).
    fn buffered(&self) -> usize;
    /// Writes queued frames and `cork` with one call; keeps what the kernel refuses. `cork`
    /// is left empty (a detached link may keep it: see [`Detached`]).
    ///
    /// # Errors
    /// The write failed: the connection is lost.
    fn flush(&mut self, cork: &mut Vec<u8>) -> io::Result<()>;
}

/// Cork size past which what a callback writes goes out before it returns, in bytes
/// (uWebSockets uncorks when its 16 KiB cork buffer fills): a large streamed body or a burst
/// of sends does not wait for the callback's end in memory.
pub(crate) const CORK_WRITE_BYTES: usize = 64 * 1024;

/// Writes `cork` out through `link` once it holds [`CORK_WRITE_BYTES`] or more.
///
/// # Errors
/// The write failed: the connection is lost, and the cork is cleared.
pub(crate) fn uncork_when_full(link: &mut dyn Link, cork: &mut Vec<u8>) -> io::Result<()> {
    if cork.len() < CORK_WRITE_BYTES {
        return Ok(());
    }
    let flushed = link.flush(cork);
    if flushed.is_err() {
        cork.clear();
    }
    flushed
}

/// A link with no socket behind it, for sans-IO drivers (benches, fuzz targets, unit
/// tests): nothing is ever buffered and a flush leaves the cork in place, so the cork
/// accumulates everything written.
#[cfg(feature = "internals")]
#[derive(Debug, Default)]
pub struct Detached;

#[cfg(feature = "internals")]
impl Link for Detached {
    fn buffered(&self) -> usize {
        0
    }

    fn flush(&mut self, _cork: &mut Vec<u8>) -> io::Result<()> {
        Ok(())
    }
}

/// Bytes waiting for the kernel, as a WebSocket `send` drops and a read pauses on
/// (uWebSockets' `getBufferedAmount`), once it is `threshold` or more with the cork counted.
///
/// While the kernel takes everything the cork is not counted, so a burst of corked writes
/// is never refused. Once the kernel pushes back the cork can only queue behind, so when
/// the two together reach `threshold` the cork is written out first (a syscall only under
/// backpressure) and what the kernel still refuses is returned. This keeps a flooding
/// sender within its limit plus one message.
///
/// # Errors
/// The write failed; the connection is lost.
pub(crate) fn backlog(
    link: &mut dyn Link,
    cork: &mut Vec<u8>,
    threshold: usize,
) -> io::Result<usize> {
    let refused = link.buffered();
    if refused == 0 || refused + cork.len() < threshold {
        return Ok(refused);
    }
    let flushed = link.flush(cork);
    cork.clear();
    flushed.map(|()| link.buffered())
}
