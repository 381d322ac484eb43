//! The WebSocket frame codec on arbitrary bytes: header parsing (hand-written, checked against
//! tungstenite's `FrameHeader`), formatting, and the word-at-a-time mask.
//!
//! Invariants: no panic; the two parsers agree; a parsed header fits its input, is 2-14 bytes and its length field
//! matches the encoding used; formatting any payload parses back to the same length; the mask
//! applied in two pieces equals the mask applied at once, and twice is the identity.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uweb::internals::{
    RawData, RawOpCode, parse_header, parse_header_tungstenite, unmask, write_frame,
};

fuzz_target!(|data: &[u8]| {
    // The hand-written parser agrees with tungstenite's, except that it refuses a reserved
    // opcode before the whole header has arrived.
    let (ours, reference) = (parse_header(data), parse_header_tungstenite(data));
    match ours {
        Err(_) => assert!(!matches!(reference, Ok(Some(_))), "{data:x?}"),
        _ => assert_eq!(ours, reference, "{data:x?}"),
    }
    if reference.is_err() {
        assert!(ours.is_err());
    }

    if let Ok(Some(h)) = parse_header(data) {
        assert!(h.header_len <= data.len());
        assert!((2..=14).contains(&h.header_len));
        let extended = match data[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let masked = if h.mask.is_some() { 4 } else { 0 };
        assert_eq!(h.header_len, 2 + extended + masked);
        assert!(u8::from(h.opcode) <= 0x0f);
    }

    let mut out = Vec::new();
    write_frame(&mut out, RawOpCode::Data(RawData::Binary), true, data);
    let h = parse_header(&out).unwrap().unwrap();
    assert_eq!(h.payload_len, data.len() as u64);
    assert_eq!(h.header_len + data.len(), out.len());
    assert!(h.fin && !h.rsv && h.mask.is_none());

    let [m0, m1, m2, m3, split, rest @ ..] = data else {
        return;
    };
    let mask = [*m0, *m1, *m2, *m3];
    let mut whole = rest.to_vec();
    unmask(&mut whole, mask, 0);
    let mut pieces = rest.to_vec();
    let at = usize::from(*split).min(pieces.len());
    let (a, b) = pieces.split_at_mut(at);
    unmask(a, mask, 0);
    unmask(b, mask, at);
    assert_eq!(pieces, whole);
    for (i, (x, y)) in whole.iter().zip(rest).enumerate() {
        assert_eq!(*x, y ^ mask[i % 4]);
    }
    unmask(&mut whole, mask, 0);
    assert_eq!(whole, rest);
});
