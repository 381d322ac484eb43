//! The request head parser and the chunked-body decoder on arbitrary bytes.
//!
//! Invariants: no panic; a complete head is no longer than the input and parses the same on
//! its own; errors are the statuses the connection answers with; the chunked decoder consumes
//! at most its input (all of it unless done), yields no more body than it consumed, and gives
//! the same outcome fed whole or one byte at a time.
#![no_main]

use std::mem::MaybeUninit;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use uweb::Config;
use uweb::internals::{BodyFraming, ChunkedDecoder, ChunkedError, Head, MAX_FIELDS, parse_head};

/// The defaults, and tight limits that put every limit check within the fuzzer's reach.
static CONFIGS: LazyLock<[Config; 2]> = LazyLock::new(|| {
    let mut tight = Config::default();
    tight.max_head_bytes = 96;
    tight.max_header_fields = 3;
    tight.max_request_target_bytes = 24;
    [Config::default(), tight]
});

fuzz_target!(|data: &[u8]| {
    for config in CONFIGS.iter() {
        check_head(data, config);
    }
    check_chunked(data);
});

/// What a head is compared on: length, field count, path length, framing, keep-alive.
type Summary = (usize, usize, usize, BodyFraming, bool);

fn summary(head: &Head<'_, '_>) -> Summary {
    let fields = head.headers.len();
    (
        head.len,
        fields,
        head.path.len(),
        head.framing,
        head.keep_alive,
    )
}

fn check_head(data: &[u8], config: &Config) {
    // As many header slots as the connection offers (`Config` may only lower it).
    let mut slots = [const { MaybeUninit::uninit() }; MAX_FIELDS];
    match parse_head(data, &mut slots, config) {
        Ok(Some(head)) => {
            assert!(head.len <= data.len(), "head longer than input");
            assert!(head.len <= config.max_head_bytes, "head over the limit");
            assert!(
                head.headers.len() <= config.max_header_fields,
                "too many fields"
            );
            assert!(head.path.len() < head.len);
            let mut again = [const { MaybeUninit::uninit() }; MAX_FIELDS];
            let alone = parse_head(&data[..head.len], &mut again, config);
            assert_eq!(
                alone.map(|h| h.map(|h| summary(&h))),
                Ok(Some(summary(&head)))
            );
        }
        Ok(None) => {}
        Err(error) => assert!(
            matches!(error.status(), 400 | 413 | 414 | 431 | 501 | 505),
            "unexpected status {}",
            error.status()
        ),
    }
}

/// What decoding produced: the body yielded (before any error) and either the bytes consumed
/// and whether the body is done, or the error (the bytes consumed before an error depend on
/// the split, so they are not compared).
type Outcome = (Vec<u8>, Result<(usize, bool), ChunkedError>);

fn check_chunked(data: &[u8]) {
    let whole = decode_parts(data, [data].into_iter());
    if data.len() <= 4096 {
        let bytewise = decode_parts(data, data.chunks(1));
        assert_eq!(whole, bytewise, "whole vs one byte at a time");
    }
    // And split in three at points taken from the input itself.
    if let [a, b, ..] = *data {
        let i = usize::from(a) % (data.len() + 1);
        let j = i + usize::from(b) % (data.len() - i + 1);
        let parts = [&data[..i], &data[i..j], &data[j..]];
        assert_eq!(
            whole,
            decode_parts(data, parts.into_iter()),
            "split {i},{j}"
        );
    }
}

fn decode_parts<'a>(data: &[u8], parts: impl Iterator<Item = &'a [u8]>) -> Outcome {
    let mut decoder = ChunkedDecoder::new();
    let (mut body, mut consumed) = (Vec::new(), 0);
    for part in parts {
        let before = body.len();
        match decoder.decode(part, |chunk| body.extend_from_slice(chunk)) {
            Ok((used, done)) => {
                assert!(used <= part.len(), "consumed more than given");
                assert!(done || used == part.len(), "not done but input left");
                assert!(body.len() - before <= used, "more body than consumed");
                consumed += used;
                if done {
                    assert!(consumed <= data.len());
                    return (body, Ok((consumed, true)));
                }
            }
            Err(e) => return (body, Err(e)),
        }
    }
    (body, Ok((consumed, false)))
}
