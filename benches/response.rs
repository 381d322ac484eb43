//! Whole request -> response through the sans-IO connection (parse, route, handler, response
//! writer), with no socket: what one event-loop iteration costs per request, minus syscalls.
//!
//! `cargo bench --features internals --bench response`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use uweb::App;
use uweb::internals::{HttpConn, Letters, Next, drive, into_shared};

/// wrk's request in the TechEmpower plaintext test.
const REQUEST: &[u8] = b"GET /plaintext HTTP/1.1\r\n\
Host: tfb-server:8080\r\n\
Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n\
Connection: keep-alive\r\n\
\r\n";

/// The same request to the route that answers through a deferred handle.
const REQUEST_DEFERRED: &[u8] = b"GET /deferred HTTP/1.1\r\n\
Host: tfb-server:8080\r\n\
Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n\
Connection: keep-alive\r\n\
\r\n";

/// Requests per buffer in the pipelined case (wrk's `--pipeline 16`).
const PIPELINE: usize = 16;

fn app() -> App {
    App::new()
        .get("/plaintext", |res, _req| {
            res.write_header("Content-Type", "text/plain")
                .write_header("Server", "uweb")
                .end("Hello, World!");
        })
        .get("/json", |res, _req| res.end("{}"))
        .get("/deferred", |res, _req| {
            // Answered through a handle, from the loop itself: the handle's calls go to the
            // mailbox and are taken back as the handler returns.
            let mut later = res.defer();
            later
                .write_header("Content-Type", "text/plain")
                .write_header("Server", "uweb");
            later.end("Hello, World!");
        })
        .any("/*", |res, _req| res.write_status("404 Not Found").end(""))
}

fn bench(c: &mut Criterion) {
    let (shared, mut conn) = (into_shared(app()), HttpConn::new());
    let letters = Letters::default();
    let mut out = Vec::with_capacity(64 * 1024);

    // One response, checked once outside the timing.
    assert_eq!(
        drive(&mut conn, &shared, &letters, REQUEST, &mut out, false),
        REQUEST.len()
    );
    let one = out.len();
    assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(out.ends_with(b"\r\n\r\nHello, World!"));
    assert_eq!(conn.next(), Next::Serve);

    let pipelined = REQUEST.repeat(PIPELINE);
    out.clear();
    assert_eq!(
        drive(&mut conn, &shared, &letters, &pipelined, &mut out, false),
        pipelined.len()
    );
    assert_eq!(out.len(), one * PIPELINE);

    let mut group = c.benchmark_group("response");
    group.throughput(Throughput::Elements(1));
    group.bench_function("plaintext_get", |b| {
        b.iter(|| {
            out.clear();
            drive(
                &mut conn,
                &shared,
                &letters,
                black_box(REQUEST),
                &mut out,
                false,
            )
        });
    });
    group.throughput(Throughput::Elements(PIPELINE as u64));
    group.bench_function("plaintext_get_pipelined_16", |b| {
        b.iter(|| {
            out.clear();
            drive(
                &mut conn,
                &shared,
                &letters,
                black_box(&pipelined),
                &mut out,
                false,
            )
        });
    });

    // The same response through a deferred handle ended in the handler: the handle posts
    // its calls to the mailbox and the connection takes them back as the handler returns
    // (what the loop's mailbox does for letters posted from the loop thread itself).
    let deferred = REQUEST_DEFERRED;
    out.clear();
    assert_eq!(
        drive(&mut conn, &shared, &letters, deferred, &mut out, false),
        deferred.len()
    );
    assert_eq!(
        letters.answer(&mut conn, &shared, &mut out),
        0,
        "taken back"
    );
    assert_eq!(out.len(), one, "the same bytes as the synchronous answer");
    group.throughput(Throughput::Elements(1));
    group.bench_function("plaintext_get_deferred", |b| {
        b.iter(|| {
            out.clear();
            drive(
                &mut conn,
                &shared,
                &letters,
                black_box(deferred),
                &mut out,
                false,
            )
        });
    });
    let pipelined_deferred = REQUEST_DEFERRED.repeat(PIPELINE);
    out.clear();
    assert_eq!(
        drive(
            &mut conn,
            &shared,
            &letters,
            &pipelined_deferred,
            &mut out,
            false
        ),
        pipelined_deferred.len(),
        "a pipelined batch answered later from the loop goes on in one pass"
    );
    assert_eq!(out.len(), one * PIPELINE);
    group.throughput(Throughput::Elements(PIPELINE as u64));
    group.bench_function("plaintext_get_deferred_pipelined_16", |b| {
        b.iter(|| {
            out.clear();
            drive(
                &mut conn,
                &shared,
                &letters,
                black_box(&pipelined_deferred),
                &mut out,
                false,
            )
        });
    });
    group.finish();
    assert_eq!(conn.next(), Next::Serve);
}

criterion_group!(benches, bench);
criterion_main!(benches);
