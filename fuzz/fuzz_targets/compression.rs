//! Compression on arbitrary bytes: the permessage-deflate offer parser (RFC 7692 section 7.1),
//! inflate of untrusted streams, and the Accept-Encoding negotiation (RFC 9110 section 12.5.3).
//!
//! Invariants: no panic; an accepted offer's response field is a permessage-deflate value with
//! no CR or LF and windows of 9..=15 bits; inflate never produces more than its limit, whatever
//! the input (decompression bombs); what a deflater compresses inflates back to the same bytes
//! with every window and level.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uweb::internals::{
    Deflater, InflateError, Inflater, negotiate_accept_encoding, negotiate_permessage_deflate,
};
use uweb::{CompressOptions, Compressor, Decompressor};

const LIMIT: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let options = match selector % 3 {
        0 => CompressOptions::SHARED,
        1 => CompressOptions::DEDICATED,
        _ => CompressOptions::SHARED
            .compressor(Compressor::dedicated(selector >> 4))
            .decompressor(Decompressor::Dedicated {
                window_bits: selector >> 3,
            }),
    };

    // Offers: the bytes as header field values, one per line.
    let text = String::from_utf8_lossy(rest);
    if let Some((agreement, field)) = negotiate_permessage_deflate(text.lines(), &options) {
        assert!(field.starts_with("permessage-deflate"), "{field}");
        assert!(!field.contains(['\r', '\n']), "{field:?}");
        assert!((9..=15).contains(&agreement.server_window()));
        assert!((9..=15).contains(&agreement.client_window()));
    }

    // Accept-Encoding values: no panic.
    let _ = negotiate_accept_encoding(rest.split(|&b| b == b'\n'));

    // Untrusted compressed bytes: bounded output, and the context stays usable.
    let mut inflater = Inflater::new(9 + selector % 7);
    let mut out = Vec::new();
    match inflater.inflate(rest, &mut out, LIMIT, selector & 0x80 != 0) {
        Ok(()) => assert!(out.len() <= LIMIT),
        Err(InflateError::TooBig | InflateError::Corrupt) => {}
    }

    // Round trip with a fresh pair (window from the selector).
    let window = 9 + selector % 7;
    let mut deflater = Deflater::new(window, 1 + selector % 9);
    let mut inflater = Inflater::new(window);
    for reset in [false, true, false] {
        let mut compressed = Vec::new();
        deflater.compress(rest, &mut compressed, reset);
        let mut back = Vec::new();
        inflater
            .inflate(&compressed, &mut back, rest.len(), reset)
            .expect("our own stream inflates within its length");
        assert_eq!(back, rest);
    }
});
