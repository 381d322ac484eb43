//! permessage-deflate (RFC 7692): a route's options, the handshake's negotiation, the deflate
//! and inflate contexts, and where they live: one shared set per loop, or dedicated ones per
//! socket. Files import in this order, never back: `options`, `negotiate`, `context`,
//! `dedicated` -> here.

pub(crate) mod context;
mod dedicated;
pub(crate) mod negotiate;
pub(crate) mod options;

use std::collections::HashMap;

use bytes::Bytes;

use self::context::{Deflater, InflateError, Inflater};
use self::dedicated::Dedicated;
use self::negotiate::Agreement;
use self::options::{CompressOptions, Compressor, Decompressor};
use super::codec::{self, OpCode};

/// A loop's contexts, made on first use: the shared ones (a compressor per window size asked
/// for, 9..=15, and one inflater; every message they handle starts afresh), the dedicated
/// ones of sockets whose route asks for them (by slab key: a socket's slab entry stays
/// the same size with or without compression), and scratch space.
#[derive(Debug, Default)]
pub(crate) struct LoopDeflate {
    deflaters: [Option<Deflater>; 7],
    inflater: Option<Inflater>,
    dedicated: HashMap<usize, Dedicated>,
    /// Compressed bytes on their way into a frame.
    scratch: Vec<u8>,
    /// An inflated message's buffer, kept for the next one.
    spare: Vec<u8>,
}

/// One published message compressed by a loop's shared compressor, per window size
/// (9..=15), made for the first subscriber that needs it and shared by the rest.
pub(crate) type SharedFrames = [Option<Bytes>; 7];

/// A socket's negotiated permessage-deflate (2 bytes in its slab entry). Each call names
/// the socket (slab `key`) and passes the route's options and the loop's contexts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SocketDeflate {
    pub(crate) agreement: Agreement,
}

impl SocketDeflate {
    /// A socket whose handshake agreed on `agreement`.
    pub(crate) fn new(agreement: Agreement) -> Self {
        SocketDeflate { agreement }
    }

    /// Whether a message of `len` bytes with `opcode` is compressed when sent with
    /// `compress` (control frames never are, RFC 7692 section 6.1).
    pub(crate) fn compresses(
        options: &CompressOptions,
        compress: bool,
        len: usize,
        opcode: OpCode,
    ) -> bool {
        compress
            && !opcode.is_control()
            && options.compressor != Compressor::Disabled
            && len >= options.threshold
    }

    /// Appends one frame with `message` compressed (RSV1 set) to `out`, for socket `key`.
    pub(crate) fn write_frame(
        &self,
        key: usize,
        options: &CompressOptions,
        contexts: &mut LoopDeflate,
        out: &mut Vec<u8>,
        message: &[u8],
        opcode: OpCode,
    ) {
        let (level, window) = (options.level, self.agreement.server_window());
        let reset = self.agreement.server_reset();
        let mut scratch = std::mem::take(&mut contexts.scratch);
        scratch.clear();
        match options.compressor {
            Compressor::Dedicated { .. } => {
                let slot = LoopDeflate::slot(window);
                let shared =
                    contexts.deflaters[slot].get_or_insert_with(|| Deflater::new(window, level));
                dedicated::deflate(
                    contexts.dedicated.entry(key).or_default(),
                    shared,
                    || Deflater::new(window, level),
                    window,
                    message,
                    &mut scratch,
                    reset,
                );
            }
            _ => contexts
                .deflater(window, level)
                .compress(message, &mut scratch, true),
        }
        write_compressed(out, opcode, &scratch);
        contexts.scratch = scratch;
    }

    /// The frame that carries published `message` to socket `key`: compressed by its
    /// dedicated compressor, or taken from (or made into) `frames`, the loop's one
    /// compression of it per window size. `None`: this message goes uncompressed.
    pub(crate) fn publish_frame(
        &self,
        key: usize,
        options: &CompressOptions,
        contexts: &mut LoopDeflate,
        frames: &mut SharedFrames,
        message: &[u8],
        opcode: OpCode,
    ) -> Option<Bytes> {
        if !Self::compresses(options, true, message.len(), opcode) {
            return None;
        }
        if options.compressor == Compressor::Shared {
            let window = self.agreement.server_window().clamp(9, 15);
            let frame = frames[usize::from(window - 9)].get_or_insert_with(|| {
                contexts.shared_frame(message, opcode, window, options.level)
            });
            return Some(frame.clone());
        }
        let mut frame = Vec::new();
        self.write_frame(key, options, contexts, &mut frame, message, opcode);
        Some(Bytes::from(frame))
    }

    /// Inflates one received message of socket `key` into a buffer of its own, at most
    /// `limit` bytes.
    pub(crate) fn inflate(
        &self,
        key: usize,
        options: &CompressOptions,
        contexts: &mut LoopDeflate,
        compressed: &[u8],
        limit: usize,
    ) -> Result<Vec<u8>, InflateError> {
        let mut out = std::mem::take(&mut contexts.spare);
        out.clear();
        let reset = self.agreement.client_reset();
        let window = self.agreement.client_window();
        let result = match options.decompressor {
            Some(Decompressor::Dedicated { .. }) => dedicated::inflate(
                contexts.dedicated.entry(key).or_default(),
                contexts.inflater.get_or_insert_with(|| Inflater::new(15)),
                window,
                compressed,
                &mut out,
                limit,
                reset,
            ),
            _ => contexts
                .inflater
                .get_or_insert_with(|| Inflater::new(15))
                .inflate(compressed, &mut out, limit, true),
        };
        match result {
            Ok(()) => Ok(out),
            Err(e) => {
                out.clear();
                contexts.spare = out;
                Err(e)
            }
        }
    }
}

impl LoopDeflate {
    /// The index of the shared compressor for `window` bits.
    fn slot(window: u8) -> usize {
        usize::from(window.clamp(9, 15) - 9)
    }

    /// The shared compressor for `window` bits.
    fn deflater(&mut self, window: u8, level: u8) -> &mut Deflater {
        self.deflaters[Self::slot(window)].get_or_insert_with(|| Deflater::new(window, level))
    }

    /// A published `message` compressed once by the shared compressor for `window` bits,
    /// framed with RSV1: shared by every subscriber of the loop that agreed on that window.
    fn shared_frame(&mut self, message: &[u8], opcode: OpCode, window: u8, level: u8) -> Bytes {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        self.deflater(window, level)
            .compress(message, &mut scratch, true);
        let mut frame = Vec::with_capacity(codec::MAX_HEADER_BYTES + scratch.len());
        write_compressed(&mut frame, opcode, &scratch);
        self.scratch = scratch;
        Bytes::from(frame)
    }

    /// Takes back an inflated message's buffer once its callback is over.
    pub(crate) fn recycle(&mut self, mut buffer: Vec<u8>) {
        // A huge message's buffer is not kept for every later small one.
        if buffer.capacity() <= 64 * 1024 && buffer.capacity() > self.spare.capacity() {
            buffer.clear();
            self.spare = buffer;
        }
    }

    /// Socket `key` is gone: its dedicated contexts go with it.
    pub(crate) fn close(&mut self, key: usize) {
        if !self.dedicated.is_empty() {
            self.dedicated.remove(&key);
        }
    }

    /// Sockets with dedicated contexts on this loop.
    #[cfg(test)]
    pub(crate) fn dedicated_len(&self) -> usize {
        self.dedicated.len()
    }
}

/// Appends a frame with RSV1 set ("Per-Message Compressed", RFC 7692 section 6) carrying the
/// already compressed `payload`.
fn write_compressed(out: &mut Vec<u8>, opcode: OpCode, payload: &[u8]) {
    let start = out.len();
    codec::write_frame(out, opcode.raw(), true, payload);
    out[start] |= codec::RSV1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedicated_contexts_live_and_die_with_their_socket() {
        let mut contexts = LoopDeflate::default();
        let socket = SocketDeflate::new(Agreement::new(15, 15, false, false));
        let options = CompressOptions::DEDICATED;
        let message = b"{\"text\":\"a message long enough to be worth compressing at all\"}";
        let mut frame = Vec::new();
        socket.write_frame(
            7,
            &options,
            &mut contexts,
            &mut frame,
            message,
            OpCode::Text,
        );
        assert_eq!(frame[0], 0x80 | codec::RSV1 | 0x1, "FIN, RSV1, text");
        assert_eq!(contexts.dedicated_len(), 1);
        let inflated = socket
            .inflate(9, &options, &mut contexts, &frame[2..], 1000)
            .unwrap();
        assert_eq!(inflated, message);
        assert_eq!(contexts.dedicated_len(), 2);
        contexts.close(7);
        contexts.close(9);
        assert_eq!(contexts.dedicated_len(), 0);
        // The shared compressor keeps nothing per socket.
        let shared = CompressOptions::SHARED;
        socket.write_frame(7, &shared, &mut contexts, &mut frame, message, OpCode::Text);
        assert_eq!(contexts.dedicated_len(), 0);
    }
}
