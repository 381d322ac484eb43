//! The chunked transfer coding (RFC 9112 §7.1): an incremental, sans-IO decoder, and the
//! chunk-size writer the response uses.

/// Cap on the trailer section's field lines, CRLFs included (RFC 9112 §7.1.2).
const MAX_TRAILER_BYTES: usize = 8 * 1024;

/// Why a chunked body is rejected (the connection answers 400 and closes; RFC 9112 §7.1).
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkedError {
    /// chunk-size is empty, not 1*HEXDIG, or wider than 64 bits (RFC 9112 §7.1).
    InvalidChunkSize,
    /// Missing CRLF, bare CR or LF, or a CTL in an extension or trailer (RFC 9112 §7.1, §2.2).
    InvalidFraming,
    /// Trailer section longer than 8 KiB (RFC 9112 §7.1.2).
    TrailerTooLarge,
}

/// Where the decoder is within the chunked-body grammar (RFC 9112 §7.1).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading chunk-size hex digits.
    #[default]
    Size,
    /// BWS after chunk-size, before `;` or CRLF.
    SizeWs,
    /// Skipping chunk-ext up to CR (RFC 9112 §7.1.1).
    Ext,
    /// Expecting the LF ending the chunk-size line.
    SizeLf,
    /// Inside chunk-data; `ChunkedDecoder::size` bytes remain.
    Data,
    /// Expecting the CR after chunk-data.
    DataCr,
    /// Expecting the LF after chunk-data.
    DataLf,
    /// At the start of a trailer field line or the final CRLF (RFC 9112 §7.1.2).
    TrailerStart,
    /// Skipping a trailer field line up to CR.
    Trailer,
    /// Expecting the LF ending a trailer field line.
    TrailerLf,
    /// Expecting the LF of the final CRLF.
    FinalLf,
    /// The whole chunked-body has been read.
    Done,
}

/// Incremental chunked-body decoder; no heap, resumable at any byte (RFC 9112 §7.1).
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Debug, Default)]
pub struct ChunkedDecoder {
    /// Current grammar position.
    state: State,
    /// chunk-size being parsed, then the bytes left in the current chunk-data.
    size: u64,
    /// Hex digits read so far for the current chunk-size.
    digits: u8,
    /// Trailer bytes seen so far, against `MAX_TRAILER_BYTES`.
    trailer_len: usize,
    /// chunk-ext bytes on the current size line, against `MAX_EXT_BYTES`.
    ext_len: u32,
}

/// Longest chunk-ext we skip on one size line: endless extensions carry no body data, so the
/// body limit would never stop them.
const MAX_EXT_BYTES: u32 = 4096;

/// True for CTLs other than HTAB, which may not appear in extensions or fields (RFC 9110 §5.5).
const fn is_bad_ctl(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
impl ChunkedDecoder {
    /// A decoder positioned at the first chunk-size (RFC 9112 §7.1).
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `input` (any split of the wire bytes, down to 1 byte at a time; RFC 9112 §7.1).
    /// Calls `on_data(slice)` for each run of de-chunked body data, in order; slices borrow `input`.
    /// Returns `Ok((consumed, done))`: `done` once the last-chunk, trailer section and final CRLF
    /// are read; bytes past `consumed` belong to the next request. When not done, all is consumed.
    pub fn decode(
        &mut self,
        input: &[u8],
        mut on_data: impl FnMut(&[u8]),
    ) -> Result<(usize, bool), ChunkedError> {
        let mut pos = 0;
        while pos < input.len() {
            match self.state {
                State::Done => return Ok((pos, true)),
                State::Data => {
                    let avail = input.len() - pos;
                    let take = usize::try_from(self.size).map_or(avail, |n| n.min(avail));
                    on_data(&input[pos..pos + take]);
                    pos += take;
                    self.size -= take as u64;
                    if self.size == 0 {
                        self.state = State::DataCr;
                    }
                }
                _ => {
                    self.step(input[pos])?;
                    pos += 1;
                }
            }
        }
        Ok((pos, self.state == State::Done))
    }

    /// Advances the state machine over one framing byte (RFC 9112 §7.1, §7.1.1, §7.1.2).
    fn step(&mut self, b: u8) -> Result<(), ChunkedError> {
        use ChunkedError::{InvalidChunkSize, InvalidFraming, TrailerTooLarge};
        self.state = match (self.state, b) {
            (State::Size, _) if b.is_ascii_hexdigit() => {
                let digit = u64::from((b as char).to_digit(16).unwrap_or(0));
                self.digits += 1;
                if self.digits > 16 {
                    return Err(InvalidChunkSize);
                }
                self.size = (self.size << 4) | digit;
                State::Size
            }
            (State::Size, _) if self.digits == 0 => return Err(InvalidChunkSize),
            (State::Size | State::SizeWs, b' ' | b'\t') => State::SizeWs,
            (State::Size | State::SizeWs, b';') => State::Ext,
            (State::Size | State::SizeWs | State::Ext, b'\r') => State::SizeLf,
            (State::Size | State::SizeWs | State::Ext, b'\n') => return Err(InvalidFraming),
            (State::Size | State::SizeWs, _) => return Err(InvalidChunkSize),
            (State::Ext, _) if is_bad_ctl(b) => return Err(InvalidFraming),
            (State::Ext, _) => {
                self.ext_len += 1;
                if self.ext_len > MAX_EXT_BYTES {
                    return Err(InvalidFraming);
                }
                State::Ext
            }
            (State::SizeLf, b'\n') => {
                self.digits = 0;
                self.ext_len = 0;
                if self.size == 0 {
                    State::TrailerStart
                } else {
                    State::Data
                }
            }
            (State::DataCr, b'\r') => State::DataLf,
            (State::DataLf, b'\n') => State::Size,
            (State::TrailerStart, b'\r') => State::FinalLf,
            (State::FinalLf, b'\n') => State::Done,
            (State::TrailerStart | State::Trailer | State::TrailerLf, _) => {
                self.trailer_len += 1;
                if self.trailer_len > MAX_TRAILER_BYTES {
                    return Err(TrailerTooLarge);
                }
                match (self.state, b) {
                    (State::TrailerLf, b'\n') => State::TrailerStart,
                    (State::TrailerStart | State::Trailer, b'\r') => State::TrailerLf,
                    (State::TrailerStart | State::Trailer, _) if !is_bad_ctl(b) => State::Trailer,
                    _ => return Err(InvalidFraming),
                }
            }
            (State::SizeLf | State::DataCr | State::DataLf | State::FinalLf, _) => {
                return Err(InvalidFraming);
            }
            (State::Data | State::Done, _) => unreachable!("handled in decode"),
        };
        Ok(())
    }
}

/// Appends `n` in lowercase hexadecimal (chunk-size, RFC 9112 section 7.1).
pub(crate) fn write_hex(out: &mut Vec<u8>, n: usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = DIGITS[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    //! Tests for the chunked decoder (RFC 9112 §7.1).
    use super::{ChunkedDecoder, ChunkedError};

    /// Multi-chunk message with extensions, BWS and trailers (RFC 9112 §7.1.1, §7.1.2).
    const MSG: &[u8] = b"5;a=b\r\nhello\r\n1 ;q=\"x;y\"\t\r\n \r\n6\r\nworld!\r\n\
        0;last\r\nX-T: 1\r\nY:\t2\r\n\r\n";
    /// De-chunked body of `MSG`.
    const BODY: &[u8] = b"hello world!";

    /// Feeds `parts` in order; returns (body, consumed per part, done) or the first error.
    fn run(parts: &[&[u8]]) -> Result<(Vec<u8>, Vec<usize>, bool), ChunkedError> {
        let (mut dec, mut body, mut used, mut done) =
            (ChunkedDecoder::new(), vec![], vec![], false);
        for part in parts {
            let range = part.as_ptr_range();
            let (n, d) = dec.decode(part, |s| {
                assert!(
                    !s.is_empty() && range.contains(&s.as_ptr()),
                    "borrows input"
                );
                body.extend_from_slice(s);
            })?;
            used.push(n);
            done = d;
        }
        Ok((body, used, done))
    }

    /// Result of decoding `msg` in one call.
    fn one(msg: &[u8]) -> Result<(Vec<u8>, Vec<usize>, bool), ChunkedError> {
        run(&[msg])
    }

    /// Whole message in a single call.
    #[test]
    fn single_call() {
        assert_eq!(one(MSG), Ok((BODY.to_vec(), vec![MSG.len()], true)));
    }

    /// Every two- and three-way split point yields the same body.
    #[test]
    fn every_split() {
        for i in 0..=MSG.len() {
            let (body, _, done) = run(&[&MSG[..i], &MSG[i..]]).unwrap();
            assert_eq!((body.as_slice(), done), (BODY, true), "split {i}");
            for j in i..=MSG.len() {
                let (body, _, done) = run(&[&MSG[..i], &MSG[i..j], &MSG[j..]]).unwrap();
                assert_eq!((body.as_slice(), done), (BODY, true), "split {i},{j}");
            }
        }
    }

    /// One byte per call; `done` only after the final LF.
    #[test]
    fn byte_by_byte() {
        let parts: Vec<&[u8]> = MSG.chunks(1).collect();
        let (mut dec, mut body) = (ChunkedDecoder::new(), vec![]);
        for (i, p) in parts.iter().enumerate() {
            let r = dec.decode(p, |s| body.extend_from_slice(s));
            assert_eq!(r, Ok((1, i == MSG.len() - 1)), "byte {i}");
        }
        assert_eq!(body, BODY);
    }

    /// Pipelined bytes after the body are left unconsumed, even after `done`.
    #[test]
    fn stops_at_end() {
        let mut wire = MSG.to_vec();
        wire.extend_from_slice(b"GET / HTTP/1.1\r\n");
        let (mut dec, mut body) = (ChunkedDecoder::new(), vec![]);
        let r = dec.decode(&wire, |s| body.extend_from_slice(s));
        assert_eq!(r, Ok((MSG.len(), true)));
        assert_eq!(dec.decode(b"GET", |_| panic!("no data")), Ok((0, true)));
        assert_eq!(body, BODY);
    }

    /// The minimal body: last-chunk and final CRLF only.
    #[test]
    fn empty_body() {
        assert_eq!(one(b"0\r\n\r\nX"), Ok((vec![], vec![5], true)));
        assert_eq!(one(b"000\r\n\r\n"), Ok((vec![], vec![7], true)));
        assert_eq!(one(b"0\r\n"), Ok((vec![], vec![3], false)));
    }

    /// Sizes up to 16 hex digits (`u64::MAX`) parse; data is streamed without buffering.
    #[test]
    fn large_sizes() {
        let (body, used, done) = one(b"FFFFFFFFFFFFFFFF\r\nabc").unwrap();
        assert_eq!((body, used, done), (b"abc".to_vec(), vec![21], false));
        let (body, _, done) = one(b"000000000000000a\r\n0123456789\r\n0\r\n\r\n").unwrap();
        assert_eq!((body.as_slice(), done), (&b"0123456789"[..], true));
        let big = vec![b'x'; 100_000];
        let mut wire = b"186a0\r\n".to_vec();
        wire.extend_from_slice(&big);
        wire.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(one(&wire), Ok((big, vec![wire.len()], true)));
    }

    /// Asserts each `|`-separated case fails with `want`, whole and one byte per call.
    fn assert_errs(cases: &str, want: ChunkedError) {
        for bad in cases.split('|').map(str::as_bytes) {
            assert_eq!(one(bad), Err(want), "{bad:?}");
            assert_eq!(
                run(&bad.chunks(1).collect::<Vec<_>>()),
                Err(want),
                "{bad:?}"
            );
        }
    }

    /// Empty, non-hex, and over-long chunk-size lines are `InvalidChunkSize`.
    #[test]
    fn bad_chunk_size() {
        let cases = "\r\n|;x\r\n| 5\r\n|\t5\r\n|g\r\n|5x\r\n|5 6\r\n|-1\r\n|0x5\r\n|+5\r\n\
            |10000000000000000\r\n|00000000000000000\r\n|5\r\nhello\r\n\r\n";
        assert_errs(cases, ChunkedError::InvalidChunkSize);
    }

    /// Missing or bare CR/LF and CTLs in extensions or trailers are `InvalidFraming`.
    #[test]
    fn bad_framing() {
        let cases = "5\nhello\r\n|5 \n|5;a\n|5;a\rb\n|5;a\x00\r\n|5;a\x7f\r\n|5\r\r|5\r\nhelloX\
            |5\r\nhello\rX|5\r\nhello\n|0\r\n\n|0\r\n\rX|0\r\nX: 1\n|0\r\nX: 1\rY|0\r\nX:\x01\r\n";
        assert_errs(cases, ChunkedError::InvalidFraming);
    }

    /// Trailers up to 8 KiB are accepted; one byte more is `TrailerTooLarge`.
    #[test]
    fn trailer_cap() {
        let field = |len: usize| {
            let mut t = b"0\r\nX: ".to_vec();
            t.resize(3 + len - 2, b'a');
            t.extend_from_slice(b"\r\n\r\n");
            t
        };
        assert_eq!(one(&field(8192)).map(|r| r.2), Ok(true));
        assert_eq!(one(&field(8193)), Err(ChunkedError::TrailerTooLarge));
    }
}
