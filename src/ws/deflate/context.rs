//! Deflate and inflate contexts for permessage-deflate (RFC 7692 section 7.2): raw deflate, a
//! chosen window, sync flush with its empty block's trailing `00 00 FF FF` removed on the way out
//! and put back on the way in. Deflate runs on `zlib-rs` directly (the backend flate2 uses here,
//! which flate2 does not let choose zlib's `memLevel`: uWebSockets' small dedicated compressors
//! need it); inflate on flate2.

use flate2::{Decompress, FlushDecompress, Status};
use zlib_rs::{Deflate, DeflateConfig, DeflateFlush};

/// The tail a sync flush ends with, which the sender removes (RFC 7692 section 7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Output grown per inflate step, in bytes: bounds the work past the size limit.
const INFLATE_STEP: usize = 16 * 1024;

/// A raw deflate context.
pub(crate) struct Deflater {
    state: Deflate,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater").finish_non_exhaustive()
    }
}

impl Deflater {
    /// A context with a `2^window_bits`-byte window (9..=15) at zlib `level` (1..=9), its hash
    /// tables sized by zlib's `mem_level` (1..=9): about `2^(window_bits + 2) + 2^(mem_level +
    /// 9)` bytes, so 15/8 is 256 KiB and 9/1 is 3 KiB (uWebSockets' `DEDICATED_COMPRESSOR_*`).
    pub(crate) fn new(window_bits: u8, level: u8, mem_level: u8) -> Self {
        let config = DeflateConfig {
            level: i32::from(level.clamp(1, 9)),
            // Negative: raw deflate, no zlib header (RFC 7692 section 7.2.1).
            window_bits: -i32::from(window_bits.clamp(9, 15)),
            mem_level: i32::from(mem_level.clamp(1, 9)),
            ..DeflateConfig::default()
        };
        Deflater {
            state: Deflate::new_with_config(config),
        }
    }

    /// Appends the compressed form of `message` to `out` (RFC 7692 section 7.2.1: sync
    /// flush, tail removed); with `reset`, the next message starts from an empty window.
    pub(crate) fn compress(&mut self, message: &[u8], out: &mut Vec<u8>, reset: bool) {
        let start = out.len();
        let mut input = message;
        loop {
            // Deflate of incompressible data grows by a few bytes per 16 KiB block; the room
            // is zeroed rather than handed over uninitialised (no unsafe for a memset).
            let written = out.len();
            out.resize(written + input.len() + input.len() / 64 + 64, 0);
            let (before_in, before_out) = (self.state.total_in(), self.state.total_out());
            let status = self
                .state
                .compress(input, &mut out[written..], DeflateFlush::SyncFlush);
            let used = (self.state.total_in() - before_in) as usize;
            let produced = (self.state.total_out() - before_out) as usize;
            let room = out.len() - written;
            out.truncate(written + produced);
            input = &input[used..];
            match status {
                // Done once all input is in and the flush fitted (room was left over).
                Ok(_) if input.is_empty() && produced < room => break,
                Ok(_) => {}
                Err(e) => {
                    // Cannot happen with a valid stream; an empty block keeps the frame valid.
                    log::error!("deflate failed: {e:?}");
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
pub(crate) enum InflateError {
    /// It inflates to more than the limit (close 1009).
    TooBig,
    /// It is not a valid deflate stream.
    Corrupt,
}

/// A raw inflate context.
pub(crate) struct Inflater {
    state: Decompress,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater").finish_non_exhaustive()
    }
}

impl Inflater {
    /// A context for streams with windows of up to `2^window_bits` bytes (9..=15).
    pub(crate) fn new(window_bits: u8) -> Self {
        Inflater {
            state: Decompress::new_with_window_bits(false, window_bits.clamp(9, 15)),
        }
    }

    /// Appends the inflated form of `compressed` (one message, tail removed) to `out`,
    /// failing as soon as `out` would pass `limit` bytes: at most one step of
    /// [`INFLATE_STEP`] bytes of work past it, whatever the ratio (a decompression bomb).
    /// With `reset`, the next message starts from an empty window.
    pub(crate) fn inflate(
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
            let room = (limit + 1).saturating_sub(out.len()).clamp(1, INFLATE_STEP);
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

    fn round_trip(messages: &[&[u8]], window: u8, mem_level: u8, reset: bool) {
        let mut deflater = Deflater::new(window, 1, mem_level);
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
        // uWebSockets' smallest (3KB), a middle (32KB) and the largest (256KB) compressor.
        for (window, mem_level) in [(9, 1), (12, 5), (15, 8)] {
            round_trip(&messages, window, mem_level, false);
            round_trip(&messages, window, mem_level, true);
        }
    }

    #[test]
    fn context_takeover_shrinks_a_repeated_message() {
        let message = b"{\"user\":\"ada\",\"room\":\"lobby\",\"text\":\"the same words again\"}";
        let mut deflater = Deflater::new(15, 1, 8);
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
        Deflater::new(15, 9, 8).compress(&zeros, &mut compressed, true);
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
        Deflater::new(15, 1, 8).compress(b"fine", &mut compressed, true);
        out.clear();
        inflater
            .inflate(&compressed, &mut out, 1000, false)
            .unwrap();
        assert_eq!(out, b"fine");
    }
}
