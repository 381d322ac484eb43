//! The encoders: a whole body at once ([`compress_whole`]), or a body streamed piece by
//! piece ([`Stream`]), each piece flushed so the client can decode it at once.
//!
//! Reuse, per event loop (each loop is one thread, so a thread-local is a per-loop value):
//! one `gzip` compressor, reset between responses instead of rebuilt (zlib's state is about
//! 270 KiB at level 6), and one output buffer shared by whole bodies and streamed pieces,
//! kept up to [`SCRATCH_KEEP`] bytes between responses. A streamed body owns its compressor
//! until it ends, as several may be under way on one loop. The `brotli` crate's encoder has
//! no reset: each `br` body builds one, with a window fitted to the body's size.

use std::cell::RefCell;

use flate2::{Compress, FlushCompress, Status};

use super::{Coding, Compression};

/// The largest capacity, in bytes, the per-loop output buffer keeps between responses; a
/// bigger one (after a large body) is released.
pub(crate) const SCRATCH_KEEP: usize = 256 * 1024;

/// The gzip window, as a power of two bytes (zlib's largest, 32 KiB).
const GZIP_WINDOW_BITS: u8 = 15;

/// Per-loop encoder state.
#[derive(Default)]
struct Reused {
    /// The gzip compressor for whole bodies and its level.
    gzip: Option<(Compress, u8)>,
    /// Output of the encoders, before it is framed into the cork buffer.
    scratch: Vec<u8>,
}

thread_local! {
    static REUSED: RefCell<Reused> = RefCell::default();
}

/// Compresses all of `body` with `coding` and hands the result to `f`; `None` (and `f` is
/// not called) if the encoder failed, in which case the body should go uncoded.
pub(crate) fn compress_whole<R>(
    coding: Coding,
    config: &Compression,
    body: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Option<R> {
    REUSED.with(|reused| {
        let mut reused = reused.borrow_mut();
        let Reused { gzip, scratch } = &mut *reused;
        scratch.clear();
        let ok = match coding {
            Coding::Gzip => {
                let compress = gzip_for(gzip, config.gzip_level);
                scratch.reserve(deflate_bound(body.len()));
                let ok = gzip_run(compress, body, scratch, FlushCompress::Finish);
                compress.reset();
                ok
            }
            #[cfg(feature = "brotli")]
            Coding::Brotli => {
                let mut state = brotli::State::new(config, Some(body.len()));
                state.run(body, scratch, brotli::Op::Finish)
            }
        };
        let result = ok.then(|| f(scratch));
        release_if_large(scratch);
        result
    })
}

/// Runs `f` with the per-loop output buffer, emptied.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    REUSED.with(|reused| {
        let scratch = &mut reused.borrow_mut().scratch;
        scratch.clear();
        let result = f(scratch);
        release_if_large(scratch);
        result
    })
}

fn release_if_large(scratch: &mut Vec<u8>) {
    if scratch.capacity() > SCRATCH_KEEP {
        *scratch = Vec::new();
    }
}

/// The loop's gzip compressor at `level`, created on first use (fresh: it is reset after
/// each body).
fn gzip_for(slot: &mut Option<(Compress, u8)>, level: u8) -> &mut Compress {
    if let Some((compress, current)) = slot
        && *current != level
    {
        if compress
            .set_level(flate2::Compression::new(level.into()))
            .is_ok()
        {
            *current = level;
        } else {
            *slot = None;
        }
    }
    let (compress, _) = slot.get_or_insert_with(|| (new_gzip(level), level));
    compress
}

fn new_gzip(level: u8) -> Compress {
    Compress::new_gzip(flate2::Compression::new(level.into()), GZIP_WINDOW_BITS)
}

/// zlib's `deflateBound` for the gzip wrapper: the most a body of `len` bytes can take.
fn deflate_bound(len: usize) -> usize {
    len + (len >> 12) + (len >> 14) + (len >> 25) + 13 + 18
}

/// Feeds `input` to `compress` with `flush` (`Sync`: all of it comes out, byte-aligned;
/// `Finish`: the stream ends), appending to `out`. False if the encoder failed.
fn gzip_run(
    compress: &mut Compress,
    input: &[u8],
    out: &mut Vec<u8>,
    flush: FlushCompress,
) -> bool {
    let start = compress.total_in();
    loop {
        let consumed = (compress.total_in() - start) as usize;
        if out.capacity() - out.len() < 64 {
            out.reserve((input.len() - consumed) / 2 + 4096);
        }
        let before = (compress.total_in(), compress.total_out());
        let status = match compress.compress_vec(&input[consumed..], out, flush) {
            Ok(status) => status,
            Err(_) => return false,
        };
        let consumed = (compress.total_in() - start) as usize;
        let room_left = out.len() < out.capacity();
        match (flush, status) {
            (FlushCompress::Finish, Status::StreamEnd) => return true,
            (FlushCompress::Finish, _) => {}
            // Sync: done once the input is in and the output did not fill the room.
            (_, _) if consumed == input.len() && room_left => return true,
            _ => {}
        }
        if before == (compress.total_in(), compress.total_out()) && room_left {
            // No progress with room to spare: the encoder is stuck.
            return false;
        }
    }
}

/// The encoder of one streamed body.
pub(crate) enum Stream {
    Gzip(Compress),
    #[cfg(feature = "brotli")]
    Brotli(brotli::State),
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stream::Gzip(_) => "Stream::Gzip",
            #[cfg(feature = "brotli")]
            Stream::Brotli(_) => "Stream::Brotli",
        })
    }
}

impl Stream {
    /// An encoder for a body of unknown length in `coding`.
    pub(crate) fn new(coding: Coding, config: &Compression) -> Stream {
        match coding {
            Coding::Gzip => Stream::Gzip(new_gzip(config.gzip_level)),
            #[cfg(feature = "brotli")]
            Coding::Brotli => Stream::Brotli(brotli::State::new(config, None)),
        }
    }

    /// Compresses `chunk` and flushes, appending to `out` everything the client needs to
    /// decode the body so far. False if the encoder failed.
    pub(crate) fn write(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> bool {
        match self {
            Stream::Gzip(compress) => gzip_run(compress, chunk, out, FlushCompress::Sync),
            #[cfg(feature = "brotli")]
            Stream::Brotli(state) => state.run(chunk, out, brotli::Op::Flush),
        }
    }

    /// Compresses `chunk` as the last piece and ends the coding's stream, appending to
    /// `out`. False if the encoder failed.
    pub(crate) fn finish(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> bool {
        match self {
            Stream::Gzip(compress) => gzip_run(compress, chunk, out, FlushCompress::Finish),
            #[cfg(feature = "brotli")]
            Stream::Brotli(state) => state.run(chunk, out, brotli::Op::Finish),
        }
    }
}

/// Brotli through the `brotli` crate's streaming encoder.
#[cfg(feature = "brotli")]
mod brotli {
    use ::brotli::enc::StandardAlloc;
    use ::brotli::enc::encode::{
        BrotliEncoderDestroyInstance, BrotliEncoderOperation, BrotliEncoderParameter,
        BrotliEncoderStateStruct,
    };
    use ::brotli::interface::{PredictionModeContextMap, StaticCommand};
    use ::brotli::{InputPair, InputReferenceMut};

    use super::Compression;

    /// What a call to [`State::run`] asks of the encoder.
    #[derive(Clone, Copy)]
    pub(super) enum Op {
        /// Take the input and emit everything needed to decode it so far.
        Flush,
        /// Take the input and end the stream.
        Finish,
    }

    /// One Brotli encoder (boxed: the state is large).
    pub(crate) struct State(Box<BrotliEncoderStateStruct<StandardAlloc>>);

    impl State {
        /// An encoder under `config`, for a body of `len` bytes if known: its window is
        /// then the smallest that holds the body (at least 2^10), up to the configured one.
        pub(super) fn new(config: &Compression, len: Option<usize>) -> State {
            let mut state = Box::new(BrotliEncoderStateStruct::new(StandardAlloc::default()));
            let mut lgwin = u32::from(config.brotli_window);
            if let Some(len) = len {
                while lgwin > 10 && (1usize << (lgwin - 1)) >= len + 16 {
                    lgwin -= 1;
                }
                let hint = u32::try_from(len).unwrap_or(u32::MAX);
                state.set_parameter(BrotliEncoderParameter::BROTLI_PARAM_SIZE_HINT, hint);
            }
            state.set_parameter(
                BrotliEncoderParameter::BROTLI_PARAM_QUALITY,
                config.brotli_quality.into(),
            );
            state.set_parameter(BrotliEncoderParameter::BROTLI_PARAM_LGWIN, lgwin);
            State(state)
        }

        /// Feeds `input` with `op`, appending the output to `out`. False if the encoder
        /// failed.
        pub(super) fn run(&mut self, input: &[u8], out: &mut Vec<u8>, op: Op) -> bool {
            let operation = match op {
                Op::Flush => BrotliEncoderOperation::BROTLI_OPERATION_FLUSH,
                Op::Finish => BrotliEncoderOperation::BROTLI_OPERATION_FINISH,
            };
            let mut nop = |_: &mut PredictionModeContextMap<InputReferenceMut<'_>>,
                           _: &mut [StaticCommand],
                           _: InputPair<'_>,
                           _: &mut StandardAlloc| ();
            let mut available_in = input.len();
            let mut in_offset = 0;
            loop {
                let start = out.len();
                let room = (available_in / 2).max(4096);
                out.resize(start + room, 0);
                let mut available_out = room;
                let mut out_offset = start;
                let ok = self.0.compress_stream(
                    operation,
                    &mut available_in,
                    input,
                    &mut in_offset,
                    &mut available_out,
                    out,
                    &mut out_offset,
                    &mut None,
                    &mut nop,
                );
                out.truncate(out_offset);
                if !ok {
                    return false;
                }
                let done = match op {
                    Op::Flush => available_in == 0 && !self.0.has_more_output(),
                    Op::Finish => self.0.is_finished(),
                };
                if done {
                    return true;
                }
            }
        }
    }

    impl Drop for State {
        fn drop(&mut self) {
            BrotliEncoderDestroyInstance(&mut self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"{\"id\": 12, \"name\": \"uweb\"}, "[i % 28] ^ (i / 977) as u8)
            .collect()
    }

    #[test]
    fn whole_gzip_bodies_round_trip_with_the_compressor_reused() {
        let config = Compression::default();
        for len in [0, 1, 1000, 70_000, 300_000] {
            let body = sample(len);
            let packed = compress_whole(Coding::Gzip, &config, &body, <[u8]>::to_vec).unwrap();
            assert_eq!(gunzip(&packed), body, "{len}");
        }
        // Another level on the same loop.
        let body = sample(5000);
        let fast = compress_whole(Coding::Gzip, &config.gzip_level(1), &body, <[u8]>::to_vec);
        assert_eq!(gunzip(&fast.unwrap()), body);
        REUSED.with(|r| assert!(r.borrow().scratch.capacity() <= SCRATCH_KEEP));
    }

    #[test]
    fn streamed_gzip_pieces_decode_as_they_come() {
        let mut stream = Stream::new(Coding::Gzip, &Compression::default());
        let mut wire = Vec::new();
        let mut sent = Vec::new();
        for piece in [
            &b"data: one\n\n"[..],
            b"data: two\n\n",
            b"",
            b"data: three\n\n",
        ] {
            assert!(stream.write(piece, &mut wire));
            sent.extend_from_slice(piece);
            // A sync flush: everything so far decodes without the end of the stream.
            let mut partial = Vec::new();
            let mut decoder = flate2::write::GzDecoder::new(&mut partial);
            std::io::Write::write_all(&mut decoder, &wire).unwrap();
            std::io::Write::flush(&mut decoder).unwrap();
            drop(decoder);
            assert_eq!(partial, sent);
        }
        assert!(stream.finish(b"end", &mut wire));
        sent.extend_from_slice(b"end");
        assert_eq!(gunzip(&wire), sent);
    }

    #[cfg(feature = "brotli")]
    #[test]
    fn brotli_whole_and_streamed_round_trip() {
        let unbrotli = |data: &[u8]| {
            let mut out = Vec::new();
            ::brotli::Decompressor::new(data, 4096)
                .read_to_end(&mut out)
                .unwrap();
            out
        };
        let config = Compression::default();
        for len in [0, 5, 4096, 200_000] {
            let body = sample(len);
            let packed = compress_whole(Coding::Brotli, &config, &body, <[u8]>::to_vec).unwrap();
            assert_eq!(unbrotli(&packed), body, "{len}");
        }
        let mut stream = Stream::new(Coding::Brotli, &config);
        let mut wire = Vec::new();
        assert!(stream.write(b"first ", &mut wire));
        assert!(stream.write(&sample(100_000), &mut wire));
        assert!(stream.finish(b" last", &mut wire));
        let mut want = b"first ".to_vec();
        want.extend_from_slice(&sample(100_000));
        want.extend_from_slice(b" last");
        assert_eq!(unbrotli(&wire), want);
    }
}
