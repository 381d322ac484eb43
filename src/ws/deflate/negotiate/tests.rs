use super::*;

const SHARED: CompressOptions = CompressOptions::SHARED;
const DEDICATED: CompressOptions = CompressOptions::DEDICATED;

fn response(fields: &[&str], options: &CompressOptions) -> Option<String> {
    negotiate(fields.iter().copied(), options).map(|(_, r)| r)
}

#[test]
fn negotiation_table() {
    let shared = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    let table: &[(&[&str], CompressOptions, Option<&str>)] = &[
        // Browsers' offer.
        (
            &["permessage-deflate; client_max_window_bits"],
            SHARED,
            Some(shared),
        ),
        (
            &["permessage-deflate; client_max_window_bits"],
            DEDICATED,
            Some("permessage-deflate"),
        ),
        (
            &["permessage-deflate"],
            DEDICATED,
            Some("permessage-deflate"),
        ),
        (
            &["permessage-deflate; server_no_context_takeover"],
            DEDICATED,
            Some("permessage-deflate; server_no_context_takeover"),
        ),
        (
            &["permessage-deflate; server_max_window_bits=10"],
            DEDICATED,
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
        (
            &["permessage-deflate; server_max_window_bits=\"12\""],
            SHARED,
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12",
            ),
        ),
        // A dedicated decompressor with a small window restricts a client that allows it.
        (
            &["permessage-deflate; client_max_window_bits"],
            DEDICATED.decompressor(Decompressor::Dedicated { window_bits: 10 }),
            Some("permessage-deflate; client_max_window_bits=10"),
        ),
        (
            &["permessage-deflate; client_max_window_bits=9"],
            DEDICATED.decompressor(Decompressor::Dedicated { window_bits: 12 }),
            Some("permessage-deflate; client_max_window_bits=9"),
        ),
        // ... and not one that did not say it can be restricted.
        (
            &["permessage-deflate"],
            DEDICATED.decompressor(Decompressor::Dedicated { window_bits: 10 }),
            Some("permessage-deflate"),
        ),
        // A dedicated compressor with a small window says so unasked (section 7.1.2.1), so
        // the client's inflater may keep a small window too.
        (
            &["permessage-deflate"],
            DEDICATED.compressor(Compressor::dedicated(10)),
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
        // Disabled: declined.
        (&["permessage-deflate"], CompressOptions::DISABLED, None),
        // Other extensions are skipped; the first acceptable offer wins.
        (
            &["x-webkit-deflate-frame, permessage-deflate"],
            DEDICATED,
            Some("permessage-deflate"),
        ),
        (
            &[
                "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9",
            ],
            DEDICATED,
            Some("permessage-deflate; server_max_window_bits=9"),
        ),
        (
            &[
                "permessage-deflate; foo=1",
                "permessage-deflate; server_no_context_takeover",
            ],
            DEDICATED,
            Some("permessage-deflate; server_no_context_takeover"),
        ),
        // Invalid or duplicate parameters: the offer is declined, not the handshake.
        (
            &["permessage-deflate; server_max_window_bits"],
            DEDICATED,
            None,
        ),
        (
            &["permessage-deflate; server_max_window_bits=16"],
            DEDICATED,
            None,
        ),
        (
            &["permessage-deflate; server_max_window_bits=7"],
            DEDICATED,
            None,
        ),
        (
            &["permessage-deflate; server_max_window_bits=010"],
            DEDICATED,
            None,
        ),
        (
            &["permessage-deflate; server_max_window_bits=1a"],
            DEDICATED,
            None,
        ),
        (
            &["permessage-deflate; client_max_window_bits=\"10"],
            DEDICATED,
            None,
        ),
        (
            &["permessage-deflate; server_no_context_takeover=1"],
            DEDICATED,
            None,
        ),
        (
            &["permessage-deflate; server_no_context_takeover; server_no_context_takeover"],
            DEDICATED,
            None,
        ),
        (
            &["permessage-deflate; client_max_window_bits; client_max_window_bits=10"],
            DEDICATED,
            None,
        ),
        (&["permessage-deflate; unknown"], DEDICATED, None),
        // zlib has no 256-byte raw window.
        (
            &["permessage-deflate; server_max_window_bits=8"],
            SHARED,
            None,
        ),
        // Names and parameters are case-insensitive.
        (
            &["Permessage-Deflate; Server_No_Context_Takeover"],
            DEDICATED,
            Some("permessage-deflate; server_no_context_takeover"),
        ),
        (&[""], DEDICATED, None),
    ];
    for (fields, options, expected) in table {
        assert_eq!(
            response(fields, options).as_deref(),
            *expected,
            "{fields:?} with {options:?}"
        );
    }
}

#[test]
fn agreements() {
    let (a, _) = negotiate(
        ["permessage-deflate; server_max_window_bits=11; client_max_window_bits=12"].into_iter(),
        &DEDICATED.decompressor(Decompressor::Dedicated { window_bits: 14 }),
    )
    .unwrap();
    assert_eq!(a, Agreement::new(11, 12, false, false));
    let (a, _) = negotiate(["permessage-deflate"].into_iter(), &SHARED).unwrap();
    assert!(a.server_reset() && a.client_reset());
    assert_eq!((a.server_window(), a.client_window()), (15, 15));
}
