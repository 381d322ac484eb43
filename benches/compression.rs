//! HTTP response compression: a whole request -> compressed response through the sans-IO
//! connection (negotiation, the writer, the encoder, framing), for JSON-like bodies of 4 KiB
//! and 64 KiB in `gzip`, `br` (feature `brotli`) and uncoded on the same route, plus the same
//! body on a route without compression. The coded sizes (ratio) are printed once, outside
//! the timing.
//!
//! `cargo bench --features internals,brotli --bench compression`

use std::hint::black_box;
use std::io::Read;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use uweb::internals::{HttpConn, Letters, drive, into_shared};
use uweb::{App, Compression};

/// A JSON array of user records, about `len` bytes: the shape of a typical API answer.
fn json(len: usize) -> String {
    let mut out = String::from("[");
    let mut i = 0;
    while out.len() < len {
        out.push_str(&format!(
            "{{\"id\":{i},\"name\":\"user {i}\",\"email\":\"user{i}@example.com\",\
             \"active\":{},\"score\":{}}},",
            i % 3 == 0,
            (i * 7919) % 1000
        ));
        i += 1;
    }
    out.truncate(len - 1);
    out.push(']');
    out
}

const SIZES: [(&str, usize); 2] = [("4KiB", 4 * 1024), ("64KiB", 64 * 1024)];

fn app() -> App {
    let mut app = App::new();
    for (name, len) in SIZES {
        let body = json(len);
        let plain = body.clone();
        app = app
            .include(uweb::Router::new().compress(Compression::default()).get(
                &format!("/{name}"),
                move |res, _req| {
                    res.write_header("Content-Type", "application/json")
                        .end(&body);
                },
            ))
            .get(&format!("/off/{name}"), move |res, _req| {
                res.write_header("Content-Type", "application/json")
                    .end(&plain);
            });
    }
    app
}

fn request(path: &str, accept: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: application/json\r\n\
         Accept-Encoding: {accept}\r\nConnection: keep-alive\r\n\r\n"
    )
    .into_bytes()
}

/// The body of the one response in `out`, decoded; and its coded length.
fn decode(out: &[u8], coding: &str) -> (Vec<u8>, usize) {
    let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let body = &out[head_end..];
    let mut plain = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut plain)
                .unwrap();
        }
        "br" => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut plain)
                .unwrap();
        }
        _ => plain.extend_from_slice(body),
    }
    (plain, body.len())
}

fn bench(c: &mut Criterion) {
    let shared = into_shared(app());
    let mut conn = HttpConn::new();
    let letters = Letters::default();
    let mut out = Vec::with_capacity(128 * 1024);
    let mut codings = vec!["gzip", "identity"];
    if cfg!(feature = "brotli") {
        codings.insert(0, "br");
    }
    let mut group = c.benchmark_group("compression");
    group.throughput(Throughput::Elements(1));
    for (name, len) in SIZES {
        let mut cases: Vec<(String, Vec<u8>, &str)> = codings
            .iter()
            .map(|&coding| {
                let req = request(&format!("/{name}"), coding);
                (format!("{name}/{coding}"), req, coding)
            })
            .collect();
        let off = request(&format!("/off/{name}"), "gzip, br");
        cases.push((format!("{name}/route_without_compression"), off, "identity"));
        for (label, req, coding) in cases {
            // Checked once, outside the timing: the body decodes to the original.
            out.clear();
            assert_eq!(
                drive(&mut conn, &shared, &letters, &req, &mut out, false),
                req.len()
            );
            let (plain, coded) = decode(&out, coding);
            assert_eq!(plain, json(len).as_bytes(), "{label}");
            println!(
                "{label}: {len} -> {coded} bytes (ratio {:.2}, {:.1}% of the original)",
                len as f64 / coded as f64,
                100.0 * coded as f64 / len as f64
            );
            group.bench_function(&label, |b| {
                b.iter(|| {
                    out.clear();
                    drive(
                        &mut conn,
                        &shared,
                        &letters,
                        black_box(&req),
                        &mut out,
                        false,
                    )
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
