//! A whole sans-IO WebSocket connection fed arbitrary bytes in fuzzer-chosen pieces, as the
//! event loop feeds it (with its stash of unused bytes), echoing every message back.
//!
//! Input layout: `flags`, four piece lengths (each `n + 1`, cycled), then the wire bytes.
//! `flags` bit 0: a 64-byte message limit (else 1 MiB); bit 1: the server ends first.
//!
//! Invariants: no panic; each call uses at most what it is offered; no event after `Close` or
//! `Fail`; text messages are UTF-8 and no message exceeds the limit; the output is a sequence
//! of well-formed unmasked server frames, no larger than the input plus a close frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uweb::internals::{Event, OpCode, WsConn, parse_header};

fuzz_target!(|data: &[u8]| {
    let [flags, a, b, c, d, ref wire @ ..] = *data else {
        return;
    };
    let pieces = [a, b, c, d].map(|n| usize::from(n) + 1);
    let max = if flags & 1 != 0 { 64 } else { 1 << 20 };
    let mut conn = WsConn::new();
    let mut out = Vec::new();
    if flags & 2 != 0 {
        assert!(conn.end(&mut out, 1000, "bye"));
    }
    let mut stash: Vec<u8> = Vec::new();
    let mut finished = false;
    let mut at = 0;
    for (i, piece) in pieces.iter().cycle().enumerate() {
        if at >= wire.len() || i > wire.len() {
            break;
        }
        let end = (at + piece).min(wire.len());
        stash.extend_from_slice(&wire[at..end]);
        at = end;
        loop {
            let offered = stash.len();
            let (used, event) = conn.next(&mut stash, &mut out, max);
            assert!(used <= offered);
            let Some(event) = event else {
                stash.drain(..used);
                break;
            };
            assert!(!finished, "event after the connection finished: {event:?}");
            match event {
                Event::Message(payload, opcode) => {
                    assert!(payload.len() <= max);
                    if opcode == OpCode::Text {
                        assert!(std::str::from_utf8(&payload).is_ok());
                    }
                    let payload = payload.to_vec();
                    conn.send(&mut out, &payload, opcode);
                }
                Event::Ping(p) | Event::Pong(p) => assert!(p.len() <= 125),
                Event::Close(..) | Event::Fail(_) => finished = true,
            }
            stash.drain(..used);
        }
    }
    assert!(
        out.len() <= wire.len() + 2 + 125,
        "{} out for {} in",
        out.len(),
        wire.len()
    );
    // Everything written parses as whole, unmasked, final frames.
    let mut rest = &out[..];
    while !rest.is_empty() {
        let h = parse_header(rest)
            .expect("valid header")
            .expect("whole header");
        assert!(h.mask.is_none() && h.fin && !h.rsv);
        let len = h.header_len + h.payload_len as usize;
        assert!(len <= rest.len(), "truncated frame in the output");
        if u8::from(h.opcode) >= 8 {
            assert!(h.payload_len <= 125);
        }
        rest = &rest[len..];
    }
});
