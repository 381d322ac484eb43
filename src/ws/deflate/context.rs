//! Deflate and inflate contexts for permessage-deflate (RFC 7692 section 7.2), on flate2's
//! zlib-rs backend: raw deflate, a chosen window, sync flush with its empty block's trailing
//! `00 00 FF FF` removed on the way out and put back on the way in. A context can be primed
//! with the bytes a socket's earlier messages left in its window (zlib's dictionary), so a
//! socket can keep just those bytes between messages instead of a whole context.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The tail a sync flush ends with, which the sender removes (RFC 7692 section 7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Output grown per inflate step, in bytes: bounds the work past the size limit.
const INFLATE_STEP: usize = 16 * 1024;

/// A raw deflate context: about 300 KiB with a 32 KiB window (zlib-rs keeps a fixed 128 KiB
/// hash table whatever the window).
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub struct Deflater {
    state: Compress,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater").finish_non_exhaustive()
    }
}

impl Deflater {
    /// A context with a `2^window_bits`-byte window (9..=15) at zlib `level` (1..=9).
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    pub fn new(window_bits: u8, level: u8) -> Self {
        Deflater {
            state: Compress::new_with_window_bits(
                Compression::new(u32::from(level.clamp(1, 9))),
                false,
                window_bits.clamp(9, 15),
            ),
        }
    }

    /// Makes `window` (the last bytes the peer's inflater holds, at most the window size) what
    /// the next message may refer back to. Only on a fresh or just reset context.
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    pub fn prime(&mut self, window: &[u8]) {
        if !window.is_empty()
            && let Err(e) = self.state.set_dictionary(window)
        {
            // Cannot happen on a reset raw context; the message then stands alone.
            log::error!("deflate dictionary refused: {e}");
            self.state.reset();
        }
    }

    /// Appends the compressed form of `message` to `out` (RFC 7692 section 7.2.1: sync
    /// flush, tail removed); with `reset`, the next message starts from an empty window.
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    pub fn compress(&mut self, message: &[u8], out: &mut Vec<u8>, reset: bool) {
        let start = out.len();
        let mut input = message;
        loop {
            // Deflate of incompressible data grows by a few bytes per 16 KiB block.
            out.reserve(input.len() + input.len() / 64 + 64);
            let before = self.state.total_in();
            let status = self.state.compress_vec(input, out, FlushCompress::Sync);
            let used = (self.state.total_in() - before) as usize;
            input = &input[used..];
            match status {
                // Done once all input is in and the flush fitted (room was left over).
                Ok(Status::Ok | Status::BufError)
                    if input.is_empty() && out.len() < out.capacity() =>
                {
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    // Cannot happen with a valid stream; an empty block keeps the frame valid.
                    log::error!("deflate failed: {e}");
                    out.truncate(start);
                    out.push(0x00);
                    self.state.reset();
                    return;
                }
            }
        }
        if out[start..].ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if out.len() == start {
            // The single `00` of an empty message (RFC 7692 section 7.2.3.6).
            out.push(0x00);
        }
        if reset {
            self.state.reset();
        }
    }
}

/// Why a compressed message could not be inflated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub enum InflateError {
    /// It inflates to more than the limit (close 1009).
    TooBig,
    /// It is not a valid deflate stream.
    Corrupt,
}

/// A raw inflate context.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub struct Inflater {
    state: Decompress,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater").finish_non_exhaustive()
    }
}

impl Inflater {
    /// A context for streams with windows of up to `2^window_bits` bytes (9..=15).
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    pub fn new(window_bits: u8) -> Self {
        Inflater {
            state: Decompress::new_with_window_bits(false, window_bits.clamp(9, 15)),
        }
    }

    /// Makes `window` (the last bytes of the peer's earlier messages, at most its window
    /// size) what the next message may refer back to. Only on a fresh or just reset context.
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    pub fn prime(&mut self, window: &[u8]) {
        if !window.is_empty()
            && let Err(e) = self.state.set_dictionary(window)
        {
            log::error!("inflate dictionary refused: {e}");
            self.state.reset(false);
        }
    }

    /// Appends the inflated form of `compressed` (one message, tail removed) to `out`,
    /// failing as soon as `out` would pass `limit` bytes: at most one step of
    /// [`INFLATE_STEP`] bytes of work past it, whatever the ratio (a decompression bomb).
    /// With `reset`, the next message starts from an empty window.
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    pub fn inflate(
        &mut self,
        compressed: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
        reset: bool,
    ) -> Result<(), InflateError> {
        let result = self
            .run(compressed, out, limit)
            .and_then(|()| self.run(&TAIL, out, limit));
        if reset || result.is_err() {
            self.state.reset(false);
        }
        result
    }

    /// Feeds `input` until it is used and all its output is out.
    fn run(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), InflateError> {
        loop {
            let room = limit
                .saturating_add(1)
                .saturating_sub(out.len())
                .clamp(1, INFLATE_STEP);
            out.reserve_exact(room);
            let spare = out.capacity() - out.len();
            let before = self.state.total_in();
            let produced_before = out.len();
            let status = self
                .state
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|_| InflateError::Corrupt)?;
            input = &input[(self.state.total_in() - before) as usize..];
            if out.len() > limit {
                return Err(InflateError::TooBig);
            }
            let filled = out.len() - produced_before == spare;
            match status {
                Status::StreamEnd => return Ok(()),
                _ if input.is_empty() && !filled => return Ok(()),
                Status::BufError if !filled => return Err(InflateError::Corrupt),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(messages: &[&[u8]], window: u8, reset: bool) {
        let mut deflater = Deflater::new(window, 1);
        let mut inflater = Inflater::new(15);
        for message in messages {
            let mut compressed = Vec::new();
            deflater.compress(message, &mut compressed, reset);
            assert!(!compressed.ends_with(&TAIL));
            let mut out = Vec::new();
            inflater
                .inflate(&compressed, &mut out, message.len(), reset)
                .unwrap();
            assert_eq!(out, *message);
        }
    }

    #[test]
    fn messages_round_trip_with_and_without_context_takeover() {
        let text = b"{\"type\":\"chat\",\"text\":\"hello hello hello\"}".repeat(50);
        let noise: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let messages: [&[u8]; 5] = [b"", b"a", &text, &noise, &text];
        for window in [9, 12, 15] {
            round_trip(&messages, window, false);
            round_trip(&messages, window, true);
        }
    }

    #[test]
    fn context_takeover_shrinks_a_repeated_message() {
        let message = b"{\"user\":\"ada\",\"room\":\"lobby\",\"text\":\"the same words again\"}";
        let mut deflater = Deflater::new(15, 1);
        let (mut first, mut second) = (Vec::new(), Vec::new());
        deflater.compress(message, &mut first, false);
        deflater.compress(message, &mut second, false);
        assert!(
            second.len() < first.len() / 2,
            "{} vs {}",
            second.len(),
            first.len()
        );
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        let zeros = vec![0u8; 10 << 20];
        let mut compressed = Vec::new();
        Deflater::new(15, 9).compress(&zeros, &mut compressed, true);
        assert!(compressed.len() < 20_000, "{}", compressed.len());
        let mut out = Vec::new();
        let limit = 1 << 20;
        let result = Inflater::new(15).inflate(&compressed, &mut out, limit, true);
        assert_eq!(result, Err(InflateError::TooBig));
        assert!(out.len() <= limit + INFLATE_STEP, "{}", out.len());
        assert!(
            out.capacity() <= limit + 2 * INFLATE_STEP,
            "{}",
            out.capacity()
        );
    }

    #[test]
    fn garbage_is_corrupt_and_the_context_recovers() {
        let mut inflater = Inflater::new(15);
        let mut out = Vec::new();
        assert_eq!(
            inflater.inflate(&[0xff, 0xff, 0xff, 0xff], &mut out, 1000, false),
            Err(InflateError::Corrupt)
        );
        let mut compressed = Vec::new();
        Deflater::new(15, 1).compress(b"fine", &mut compressed, true);
        out.clear();
        inflater
            .inflate(&compressed, &mut out, 1000, false)
            .unwrap();
        assert_eq!(out, b"fine");
    }
}
