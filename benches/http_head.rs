//! Request head parsing (httparse plus the RFC 9112 framing checks), per request.
//!
//! `cargo bench --features internals --bench http_head`

use std::hint::black_box;
use std::mem::MaybeUninit;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use uweb::Config;
use uweb::internals::{MAX_FIELDS, parse_head};

/// A typical browser navigation: 10 header fields, about 500 bytes.
const BROWSER_GET: &[u8] = b"GET /blog/2024/05/zero-copy-parsing?utm_source=feed HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://www.example.com/blog/\r\n\
Connection: keep-alive\r\n\
Cookie: session=9f2c1e7a4b8d4f0e; theme=dark; consent=1\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\n\
\r\n";

/// What wrk sends in the TechEmpower plaintext test (its `-H` fields plus `Host`).
const WRK_PLAINTEXT: &[u8] = b"GET /plaintext HTTP/1.1\r\n\
Host: tfb-server:8080\r\n\
Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n\
Connection: keep-alive\r\n\
\r\n";

fn bench(c: &mut Criterion) {
    let config = Config::default();
    let mut group = c.benchmark_group("http_head");
    for (name, raw, fields) in [
        ("browser_get", BROWSER_GET, 10),
        ("wrk_plaintext", WRK_PLAINTEXT, 3),
    ] {
        let mut slots = [const { MaybeUninit::uninit() }; MAX_FIELDS];
        let head = parse_head(raw, &mut slots, &config)
            .expect("valid head")
            .expect("complete head");
        assert_eq!(
            (head.len, head.headers.len()),
            (raw.len(), fields),
            "{name}"
        );
        group.throughput(Throughput::Bytes(raw.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                // Fresh (uninitialised, so free) slots per parse, as the connection has.
                let mut slots = [const { MaybeUninit::uninit() }; MAX_FIELDS];
                let _ = black_box(parse_head(black_box(raw), &mut slots, &config));
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
