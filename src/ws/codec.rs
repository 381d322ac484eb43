//! Frame header parsing and formatting (RFC 6455 section 5.2) on tungstenite's `FrameHeader`,
//! and the payload mask applied eight bytes at a time.

use std::io::Cursor;

use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::frame::coding::{Control, Data, OpCode as RawOpCode};

/// Opcode of a message or control frame (RFC 6455 section 5.2), as handed to and taken from
/// the WebSocket callbacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpCode {
    /// `0x1`: a text message; its payload is valid UTF-8.
    Text,
    /// `0x2`: a binary message.
    Binary,
    /// `0x9`: a ping (control frame, payload at most 125 bytes).
    Ping,
    /// `0xA`: a pong (control frame, payload at most 125 bytes).
    Pong,
}

impl OpCode {
    /// The tungstenite opcode for this one.
    pub(crate) fn raw(self) -> RawOpCode {
        match self {
            OpCode::Text => RawOpCode::Data(Data::Text),
            OpCode::Binary => RawOpCode::Data(Data::Binary),
            OpCode::Ping => RawOpCode::Control(Control::Ping),
            OpCode::Pong => RawOpCode::Control(Control::Pong),
        }
    }

    /// Whether this is a control opcode (payload limited to 125 bytes, never fragmented).
    pub(crate) fn is_control(self) -> bool {
        matches!(self, OpCode::Ping | OpCode::Pong)
    }
}

/// The longest frame header: 2 bytes, 8 bytes of extended length, 4 bytes of mask.
pub(crate) const MAX_HEADER_BYTES: usize = 14;

/// RSV1 in a frame's first byte: the message is compressed (RFC 7692 section 6).
pub(crate) const RSV1: u8 = 0x40;

/// RSV1 in [`Header::rsv_bits`].
pub(crate) const RSV1_BIT: u8 = 0b100;

/// Largest control frame payload (RFC 6455 section 5.5), in bytes.
pub(crate) const MAX_CONTROL_PAYLOAD: usize = 125;

/// A parsed frame header.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// FIN bit: last frame of its message.
    pub fin: bool,
    /// Any of RSV1-3 set (a protocol error unless an extension gave it a meaning).
    pub rsv: bool,
    /// The reserved bits: RSV1 as `0b100` (permessage-deflate's "compressed", RFC 7692
    /// section 6), RSV2 as `0b010`, RSV3 as `0b001`.
    pub rsv_bits: u8,
    /// The opcode.
    pub opcode: RawOpCode,
    /// The masking key; clients must mask every frame (RFC 6455 section 5.3).
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub payload_len: u64,
    /// Header length in bytes (2 to 14).
    pub header_len: usize,
}

/// Why a header cannot be accepted: a reserved opcode or a 64-bit length with its top bit set.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadHeader;

/// Parses the frame header at the front of `buf`; `Ok(None)` while it is incomplete.
///
/// Hand-written: `benches/ws_frame.rs` showed tungstenite's `FrameHeader::parse` (a `Cursor`
/// and `Read` calls) costing most of a 16-byte echo. Tests and the `ws_codec` fuzz target
/// check it against tungstenite's parser ([`parse_header_tungstenite`]). It fails a reserved
/// opcode as soon as the first byte shows it, where tungstenite waits for the whole header.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub fn parse_header(buf: &[u8]) -> Result<Option<Header>, BadHeader> {
    let [first, second, ..] = *buf else {
        return Ok(None);
    };
    let opcode = first & 0x0f;
    if matches!(opcode, 3..=7 | 11..=15) {
        return Err(BadHeader);
    }
    let (payload_len, mut header_len) = match second & 0x7f {
        126 => match buf.get(2..4) {
            Some(&[hi, lo]) => (u64::from(u16::from_be_bytes([hi, lo])), 4),
            _ => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            // "the most significant bit MUST be 0" (RFC 6455 section 5.2).
            Some(bytes) if bytes[0] & 0x80 != 0 => return Err(BadHeader),
            Some(bytes) => (u64::from_be_bytes(bytes), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    let mask = if second & 0x80 != 0 {
        match buf
            .get(header_len..header_len + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
        {
            Some(mask) => {
                header_len += 4;
                Some(mask)
            }
            None => return Ok(None),
        }
    } else {
        None
    };
    Ok(Some(Header {
        fin: first & 0x80 != 0,
        rsv: first & 0x70 != 0,
        rsv_bits: (first >> 4) & 0b111,
        opcode: RawOpCode::from(opcode),
        mask,
        payload_len,
        header_len,
    }))
}

/// The same parse through tungstenite's `FrameHeader`: the reference [`parse_header`] is
/// tested and fuzzed against.
#[cfg_attr(not(feature = "internals"), allow(dead_code, unreachable_pub))]
pub fn parse_header_tungstenite(buf: &[u8]) -> Result<Option<Header>, BadHeader> {
    let mut cursor = Cursor::new(buf);
    match FrameHeader::parse(&mut cursor) {
        Ok(None) => Ok(None),
        Ok(Some((h, payload_len))) => {
            if payload_len >> 63 != 0 {
                return Err(BadHeader);
            }
            Ok(Some(Header {
                fin: h.is_final,
                rsv: h.rsv1 || h.rsv2 || h.rsv3,
                rsv_bits: u8::from(h.rsv1) << 2 | u8::from(h.rsv2) << 1 | u8::from(h.rsv3),
                opcode: h.opcode,
                mask: h.mask,
                payload_len,
                header_len: cursor.position() as usize,
            }))
        }
        Err(_) => Err(BadHeader),
    }
}

/// Appends one unmasked (server-to-client) frame to `out`: header, then `payload`.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub fn write_frame(out: &mut Vec<u8>, opcode: RawOpCode, fin: bool, payload: &[u8]) {
    write_header(out, opcode, fin, payload.len());
    out.extend_from_slice(payload);
}

/// Appends the header of an unmasked frame carrying `payload_len` bytes (RFC 6455 section
/// 5.2: 7-bit, 16-bit or 64-bit length). Hand-written for the reason given at
/// [`parse_header`]; tested against tungstenite's `FrameHeader::format`.
pub(crate) fn write_header(out: &mut Vec<u8>, opcode: RawOpCode, fin: bool, payload_len: usize) {
    out.reserve(MAX_HEADER_BYTES + payload_len);
    let first = u8::from(opcode) | if fin { 0x80 } else { 0 };
    if payload_len < 126 {
        out.extend_from_slice(&[first, payload_len as u8]);
    } else if let Ok(len) = u16::try_from(payload_len) {
        let [hi, lo] = len.to_be_bytes();
        out.extend_from_slice(&[first, 126, hi, lo]);
    } else {
        out.extend_from_slice(&[first, 127]);
        out.extend_from_slice(&(payload_len as u64).to_be_bytes());
    }
}

/// Appends a close frame: `code` (big-endian) and `reason`, or an empty payload for `None`.
/// `reason` is cut at a character boundary to fit the 125-byte control payload.
pub(crate) fn write_close(out: &mut Vec<u8>, code: Option<u16>, reason: &str) {
    let close = RawOpCode::Control(Control::Close);
    let Some(code) = code else {
        write_header(out, close, true, 0);
        return;
    };
    let reason = truncate(reason, MAX_CONTROL_PAYLOAD - 2);
    write_header(out, close, true, 2 + reason.len());
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(reason.as_bytes());
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// XORs `buf` with `mask` (RFC 6455 section 5.3), where `buf` starts `offset` bytes into the
/// masked payload (so a payload can be unmasked piece by piece as it arrives).
///
/// Eight bytes at a time through `u64` words: safe code the compiler vectorises.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub fn unmask(buf: &mut [u8], mask: [u8; 4], offset: usize) {
    let o = offset & 3;
    let half = u32::from_ne_bytes([
        mask[o],
        mask[(o + 1) & 3],
        mask[(o + 2) & 3],
        mask[(o + 3) & 3],
    ]);
    // The same four bytes twice: the layout is the same on either endianness.
    let word = u64::from(half) << 32 | u64::from(half);
    let rotated = word.to_ne_bytes();
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let bytes: &mut [u8; 8] = chunk.try_into().expect("chunks of 8");
        *bytes = (u64::from_ne_bytes(*bytes) ^ word).to_ne_bytes();
    }
    for (byte, m) in chunks.into_remainder().iter_mut().zip(rotated) {
        *byte ^= m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmask_bytewise(buf: &mut [u8], mask: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= mask[(offset + i) % 4];
        }
    }

    #[test]
    fn unmask_matches_bytewise_at_every_length_and_offset() {
        let mask = [0x6d, 0xb6, 0xb2, 0x80];
        let data: Vec<u8> = (0..100u8).collect();
        for len in 0..data.len() {
            for offset in 0..8 {
                let mut fast = data[..len].to_vec();
                let mut slow = fast.clone();
                unmask(&mut fast, mask, offset);
                unmask_bytewise(&mut slow, mask, offset);
                assert_eq!(fast, slow, "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn unmask_in_pieces_equals_unmask_whole() {
        let mask = [1, 2, 3, 4];
        let data: Vec<u8> = (0..57u8).collect();
        let mut whole = data.clone();
        unmask(&mut whole, mask, 0);
        for split in 0..data.len() {
            let mut parts = data.clone();
            let (a, b) = parts.split_at_mut(split);
            unmask(a, mask, 0);
            unmask(b, mask, split);
            assert_eq!(parts, whole, "split {split}");
        }
    }

    #[test]
    fn parses_rfc_examples() {
        // RFC 6455 section 5.7: a masked "Hello".
        let frame = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let h = parse_header(&frame).unwrap().unwrap();
        assert!(h.fin && !h.rsv);
        assert_eq!(h.opcode, RawOpCode::Data(Data::Text));
        assert_eq!((h.payload_len, h.header_len), (5, 6));
        let mut payload = frame[6..].to_vec();
        unmask(&mut payload, h.mask.unwrap(), 0);
        assert_eq!(payload, b"Hello");
        for cut in 0..6 {
            assert_eq!(parse_header(&frame[..cut]), Ok(None), "cut {cut}");
        }
    }

    #[test]
    fn extended_lengths_and_errors() {
        let h = parse_header(&[0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4])
            .unwrap()
            .unwrap();
        assert_eq!((h.payload_len, h.header_len), (256, 8));
        let mut long = vec![0x82, 0xff];
        long.extend_from_slice(&65536u64.to_be_bytes());
        long.extend_from_slice(&[1, 2, 3, 4]);
        let h = parse_header(&long).unwrap().unwrap();
        assert_eq!((h.payload_len, h.header_len), (65536, 14));
        long[2] = 0x80;
        assert_eq!(parse_header(&long), Err(BadHeader));
        assert_eq!(parse_header(&[0x83, 0x80, 0, 0, 0, 0]), Err(BadHeader));
        assert_eq!(parse_header(&[0x8b, 0x80, 0, 0, 0, 0]), Err(BadHeader));
        let h = parse_header(&[0xc1, 0x00]).unwrap().unwrap();
        assert!(h.rsv && h.mask.is_none());
    }

    #[test]
    fn formats_round_trip_through_the_parser() {
        for len in [0usize, 1, 125, 126, 65535, 65536, 100_000] {
            let payload = vec![7u8; len];
            let mut out = Vec::new();
            write_frame(&mut out, OpCode::Binary.raw(), true, &payload);
            let h = parse_header(&out).unwrap().unwrap();
            assert_eq!(h.payload_len, len as u64);
            assert_eq!(out.len(), h.header_len + len);
            assert!(h.mask.is_none());
        }
    }

    #[test]
    fn parser_agrees_with_tungstenite() {
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for first in [
            0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0a, 0x0b, 0x81, 0xc2, 0xf1, 0x7f,
        ] {
            for second in [0x00, 0x05, 0x7d, 0x7e, 0x7f, 0x80, 0x85, 0xfd, 0xfe, 0xff] {
                let mut bytes = vec![first, second, 0x80, 0x01, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7];
                for len in 0..bytes.len() {
                    inputs.push(bytes[..len].to_vec());
                }
                bytes[2] = 0x00;
                inputs.push(bytes);
            }
        }
        for input in inputs {
            let ours = parse_header(&input);
            let theirs = parse_header_tungstenite(&input);
            match ours {
                // Ours fails reserved opcodes before the header is complete.
                Err(BadHeader) => assert!(!matches!(theirs, Ok(Some(_))), "{input:x?}"),
                _ => assert_eq!(ours, theirs, "{input:x?}"),
            }
            if theirs.is_err() {
                assert_eq!(ours, Err(BadHeader), "{input:x?}");
            }
        }
    }

    #[test]
    fn formatter_agrees_with_tungstenite() {
        for len in [0usize, 1, 125, 126, 127, 65535, 65536, 1 << 20] {
            for (opcode, fin) in [(OpCode::Text.raw(), true), (OpCode::Binary.raw(), false)] {
                let mut ours = Vec::new();
                write_header(&mut ours, opcode, fin, len);
                let mut theirs = Vec::new();
                let header = FrameHeader {
                    is_final: fin,
                    opcode,
                    ..FrameHeader::default()
                };
                header.format(len as u64, &mut theirs).unwrap();
                assert_eq!(ours, theirs, "len {len}");
            }
        }
    }

    #[test]
    fn close_reason_is_cut_on_a_char_boundary() {
        let mut out = Vec::new();
        write_close(&mut out, Some(1000), &"é".repeat(100));
        let h = parse_header(&out).unwrap().unwrap();
        assert!(h.payload_len <= 125);
        let reason = &out[h.header_len + 2..];
        assert!(std::str::from_utf8(reason).is_ok());
        assert_eq!(reason.len(), 122);
        out.clear();
        write_close(&mut out, None, "ignored");
        assert_eq!(out, [0x88, 0x00]);
    }
}
