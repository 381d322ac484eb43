//! The PROXY protocol header reader, fed arbitrary bytes whole and growing one byte at a time
//! as a connection would deliver them.
//!
//! Invariants: no panic; a complete header never claims more than it was given; the verdict
//! never goes back from complete or invalid to incomplete as bytes are added, and a complete
//! header keeps its length and address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uweb::internals::{ProxyHeader, read_proxy_header};

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(8192)];
    let mut settled: Option<ProxyHeader> = None;
    for end in 0..=data.len() {
        let verdict = read_proxy_header(&data[..end]);
        if let ProxyHeader::Complete { len, .. } = verdict {
            assert!(len <= end, "claimed {len} of {end} bytes");
        }
        match (settled, verdict) {
            (Some(before), now) => assert_eq!(before, now, "changed after settling at {end}"),
            (None, ProxyHeader::Incomplete) => {}
            (None, now) => settled = Some(now),
        }
    }
});
