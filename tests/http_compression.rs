//! HTTP response compression (issue 10, RFC 9110 sections 8.4 and 12.5.3): a real server, raw
//! requests, every coded body decoded here (flate2, brotli) and compared with the original.

mod support;

use std::io::Read;
use std::sync::mpsc;

use support::{Client, Response, curl, fetch, serve};
use uweb::{App, Compression, Router};

/// A JSON-like body of about `len` bytes, the same every time.
fn json(len: usize) -> String {
    let mut out = String::from("[");
    let mut i = 0;
    while out.len() < len {
        out.push_str(&format!(
            "{{\"id\":{i},\"name\":\"user {i}\",\"email\":\"user{i}@example.com\",\"active\":{}}},",
            i % 3 == 0
        ));
        i += 1;
    }
    out.push(']');
    out
}

const BIG: usize = 8 * 1024;

/// The app under test: compression on, with handlers for each case.
fn app() -> App {
    App::new()
        .compress(Compression::default())
        .get("/json", |res, _req| {
            res.write_header("Content-Type", "application/json")
                .end(json(BIG));
        })
        .get("/small", |res, _req| {
            res.write_header("Content-Type", "text/plain")
                .end(json(200));
        })
        .get("/png", |res, _req| {
            res.write_header("Content-Type", "image/png").end(json(BIG));
        })
        .get("/untyped", |res, _req| res.end(json(BIG)))
        .get("/encoded", |res, _req| {
            res.write_header("Content-Type", "text/plain")
                .write_header("Content-Encoding", "identity")
                .end(json(BIG));
        })
        .get("/no-transform", |res, _req| {
            res.write_header("Content-Type", "text/plain")
                .write_header("Cache-Control", "public, no-transform")
                .end(json(BIG));
        })
        .get("/not-modified", |res, _req| {
            res.write_status("304 Not Modified")
                .write_header("ETag", "W/\"1\"")
                .end_without_body(None);
        })
        .get("/etag", |res, _req| {
            res.write_header("Content-Type", "text/html")
                .write_header("ETag", "\"v1\"")
                .end(json(BIG));
        })
        .get("/stream", |res, _req| {
            res.write_header("Content-Type", "text/event-stream");
            for i in 0..50 {
                res.write(format!("data: {}\n\n", json(100 + i)));
            }
            res.end("data: end\n\n");
        })
        .get("/whole-try-end", |res, _req| {
            let body = json(BIG);
            res.write_header("Content-Type", "text/plain");
            assert_eq!(res.try_end(&body, body.len() as u64), (true, true));
        })
        .get("/piecewise-try-end", |res, _req| {
            let body = json(BIG);
            res.write_header("Content-Type", "text/plain");
            let (first, rest) = body.as_bytes().split_at(100);
            res.try_end(first, body.len() as u64);
            res.try_end(rest, body.len() as u64);
        })
        .nest(
            "/plain",
            Router::new()
                .compress(Compression::default().threshold(usize::MAX))
                .get("/json", |res, _req| {
                    res.write_header("Content-Type", "application/json")
                        .end(json(BIG));
                }),
        )
}

/// `GET path` with an `Accept-Encoding` field of `accept` (none when `None`).
fn get(path: &str, accept: Option<&str>) -> String {
    let field = accept.map_or(String::new(), |a| format!("Accept-Encoding: {a}\r\n"));
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n{field}\r\n")
}

/// The body of `r`, decoded per its `Content-Encoding`.
fn decoded(r: &Response) -> Vec<u8> {
    decode(r.header("content-encoding"), &r.body)
}

fn decode(coding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        None => out.extend_from_slice(body),
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("valid gzip");
        }
        Some("br") => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .expect("valid brotli");
        }
        Some(other) => panic!("unexpected coding {other}"),
    }
    out
}

/// `br` when the server has the `brotli` feature, else `fallback`.
fn br_or(fallback: Option<&'static str>) -> Option<&'static str> {
    if cfg!(feature = "brotli") {
        Some("br")
    } else {
        fallback
    }
}

/// Asserts `r` is a `200` for `/json` in `coding` (`None`: uncoded), with `Vary`, a
/// `Content-Length` that is the coded length, and the original body once decoded.
fn assert_json(r: &Response, coding: Option<&str>, case: &str) {
    assert_eq!(r.status, 200, "{case}");
    assert_eq!(r.header("content-encoding"), coding, "{case}");
    assert_eq!(r.header_all("vary"), ["Accept-Encoding"], "{case}");
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str()),
        "{case}"
    );
    assert_eq!(decoded(r), json(BIG).as_bytes(), "{case}");
    if coding.is_some() {
        assert!(r.body.len() * 3 < BIG, "{case}: {} bytes", r.body.len());
    }
}

#[test]
fn accept_encoding_chooses_the_coding() {
    let server = serve(app(), 1);
    let cases: &[(Option<&str>, Option<&str>)] = &[
        (Some("gzip"), Some("gzip")),
        (Some("br"), br_or(None)),
        (Some("br;q=0, gzip"), Some("gzip")),
        (Some("gzip;q=0.5, br;q=0.9"), br_or(Some("gzip"))),
        (Some("gzip;q=0.9, br;q=0.5"), Some("gzip")),
        (Some("gzip, deflate, br, zstd"), br_or(Some("gzip"))),
        // Nothing acceptable, identity excluded too: sent uncoded anyway (as nginx does).
        (Some("identity;q=0"), None),
        (Some("*;q=0"), None),
        (Some("*"), br_or(Some("gzip"))),
        (Some("zstd, compress, deflate"), None),
        (None, None),
        (Some(""), None),
        (Some("gzip;q=1.000"), Some("gzip")),
        (Some("  gzip ;  q=0.8 ,br;q=0 "), Some("gzip")),
        (Some("GZIP"), Some("gzip")),
        (Some("x-gzip"), Some("gzip")),
        (Some("gzip;q=0"), None),
        (Some("gzip;q=0.5, identity"), None),
        // Malformed: skipped, never an error.
        (Some("gzip;q=5"), None),
        (Some("gzip;q=, br;q=0.x, ;;=, q=1"), None),
    ];
    let mut client = Client::connect(server.local_addr());
    for &(accept, want) in cases {
        let r = client.request(get("/json", accept));
        assert_json(&r, want, &format!("Accept-Encoding: {accept:?}"));
    }
    // Two field lines make one list.
    let r = client.request(
        "GET /json HTTP/1.1\r\nHost: t\r\nAccept-Encoding: br;q=0\r\naccept-encoding: gzip\r\n\r\n",
    );
    assert_json(&r, Some("gzip"), "two field lines");
    server.shutdown();
}

#[test]
fn bodies_that_do_not_qualify_stay_uncoded_with_vary() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    for path in ["/small", "/png", "/untyped"] {
        let r = client.request(get(path, Some("gzip, br")));
        assert_eq!(r.header("content-encoding"), None, "{path}");
        assert_eq!(r.header_all("vary"), ["Accept-Encoding"], "{path}");
        let want = if path == "/small" {
            json(200)
        } else {
            json(BIG)
        };
        assert_eq!(r.body, want.as_bytes(), "{path}");
    }
    // Groups override the app: this one's threshold is never reached.
    let r = client.request(get("/plain/json", Some("gzip")));
    assert_json(&r, None, "group override");
    server.shutdown();
}

#[test]
fn responses_with_their_own_coding_or_no_transform_are_left_alone() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    let r = client.request(get("/encoded", Some("gzip")));
    assert_eq!(r.header_all("content-encoding"), ["identity"]);
    assert_eq!(r.header("vary"), None);
    assert_eq!(r.body, json(BIG).as_bytes());
    let r = client.request(get("/no-transform", Some("gzip")));
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.header("vary"), None);
    assert_eq!(r.body, json(BIG).as_bytes());
    // 304: no body to code, but Vary as the 200 would have it (RFC 9110 section 15.4.5).
    let r = client.request(get("/not-modified", Some("gzip")));
    assert_eq!(r.status, 304);
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.header_all("vary"), ["Accept-Encoding"]);
    server.shutdown();
}

#[test]
fn head_gets_the_fields_get_gets_and_no_body() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    for accept in ["gzip", "br", "identity"] {
        let get_r = client.request(get("/json", Some(accept)));
        client.send(format!(
            "HEAD /json HTTP/1.1\r\nHost: t\r\nAccept-Encoding: {accept}\r\n\r\n"
        ));
        let head_r = client.head_response();
        for field in ["content-encoding", "vary", "content-length", "content-type"] {
            assert_eq!(
                head_r.header(field),
                get_r.header(field),
                "{accept}: {field}"
            );
        }
        // Nothing followed the HEAD answer's fields: the next response parses.
        let after = client.request(get("/json", Some(accept)));
        assert_eq!(decoded(&after), json(BIG).as_bytes(), "{accept}");
    }
    server.shutdown();
}

#[test]
fn streamed_writes_are_coded_and_decode_to_what_was_written() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    let mut want = String::new();
    for i in 0..50 {
        want.push_str(&format!("data: {}\n\n", json(100 + i)));
    }
    want.push_str("data: end\n\n");
    for (accept, coding) in [("gzip", Some("gzip")), ("br", br_or(None)), ("", None)] {
        let r = client.request(get("/stream", Some(accept)));
        assert_eq!(r.header("transfer-encoding"), Some("chunked"), "{accept}");
        assert_eq!(r.header("content-encoding"), coding, "{accept}");
        assert_eq!(r.header_all("vary"), ["Accept-Encoding"], "{accept}");
        assert_eq!(decoded(&r), want.as_bytes(), "{accept}");
        if coding.is_some() {
            assert!(r.body.len() * 3 < want.len(), "{accept}: {}", r.body.len());
        }
    }
    server.shutdown();
}

#[test]
fn each_streamed_write_decodes_before_the_body_ends() {
    // An event stream: the first event must be readable while the response is still open.
    let (go_on, wait) = mpsc::channel::<()>();
    let wait = std::sync::Mutex::new(Some(wait));
    let app = App::new()
        .compress(Compression::default())
        .get("/events", move |res, _req| {
            res.write_header("Content-Type", "text/event-stream");
            res.write("data: first\n\n");
            let mut later = res.defer();
            let wait = wait.lock().unwrap().take().expect("one request");
            std::thread::spawn(move || {
                wait.recv().unwrap();
                later.write("data: second\n\n");
                later.end("");
            });
        });
    let server = serve(app, 1);
    let mut client = Client::connect(server.local_addr());
    client.send(get("/events", Some("gzip")));
    let head = client.head_response();
    assert_eq!(head.header("content-encoding"), Some("gzip"));
    // Read chunks until the coded bytes so far decode to the first event.
    let mut coded = Vec::new();
    let mut pending = client.take_pending();
    let decoded_so_far = |coded: &[u8]| {
        let mut out = Vec::new();
        let mut decoder = flate2::write::GzDecoder::new(&mut out);
        std::io::Write::write_all(&mut decoder, coded).unwrap();
        std::io::Write::flush(&mut decoder).unwrap();
        drop(decoder);
        out
    };
    loop {
        while let Some((data, used)) = chunk(&pending) {
            coded.extend_from_slice(data);
            pending.drain(..used);
        }
        if decoded_so_far(&coded) == b"data: first\n\n" {
            break;
        }
        let mut buf = [0u8; 4096];
        let n = client.stream.read(&mut buf).expect("read");
        assert!(n > 0, "closed early");
        pending.extend_from_slice(&buf[..n]);
    }
    go_on.send(()).unwrap();
    let rest = {
        let mut rest = pending;
        rest.extend(client.read_until_close_or_end());
        rest
    };
    let mut pos = 0;
    while let Some((data, used)) = chunk(&rest[pos..]) {
        if data.is_empty() {
            break;
        }
        coded.extend_from_slice(data);
        pos += used;
    }
    assert_eq!(
        decode(Some("gzip"), &coded),
        b"data: first\n\ndata: second\n\n"
    );
    server.shutdown();
}

/// One chunk (RFC 9112 section 7.1) at the front of `buf`: its data and the bytes it used.
fn chunk(buf: &[u8]) -> Option<(&[u8], usize)> {
    let line = buf.windows(2).position(|w| w == b"\r\n")?;
    let size = usize::from_str_radix(std::str::from_utf8(&buf[..line]).ok()?, 16).ok()?;
    let start = line + 2;
    if buf.len() < start + size + 2 {
        return None;
    }
    Some((&buf[start..start + size], start + size + 2))
}

trait ReadToEnd {
    /// Reads until the last chunk (`0\r\n\r\n`) has arrived.
    fn read_until_close_or_end(&mut self) -> Vec<u8>;
}

impl ReadToEnd for Client {
    fn read_until_close_or_end(&mut self) -> Vec<u8> {
        let mut all = Vec::new();
        while !all.ends_with(b"0\r\n\r\n") {
            let mut buf = [0u8; 4096];
            let n = self.stream.read(&mut buf).expect("read");
            assert!(n > 0, "closed before the last chunk");
            all.extend_from_slice(&buf[..n]);
        }
        all
    }
}

#[test]
fn try_end_bodies_are_coded_whole_or_piecewise() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    // The whole body in one call: as `end`, with the coded Content-Length.
    let r = client.request(get("/whole-try-end", Some("gzip")));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    assert_eq!(decoded(&r), json(BIG).as_bytes());
    // Piecewise: chunked framing instead of the announced length.
    for (accept, coding) in [("gzip", Some("gzip")), ("br", br_or(None))] {
        let r = client.request(get("/piecewise-try-end", Some(accept)));
        assert_eq!(r.header("content-encoding"), coding, "{accept}");
        assert_eq!(r.header_all("vary"), ["Accept-Encoding"]);
        let length = coding.is_none().then(|| json(BIG).len().to_string());
        assert_eq!(r.header("content-length"), length.as_deref(), "{accept}");
        assert_eq!(decoded(&r), json(BIG).as_bytes(), "{accept}");
    }
    // HTTP/1.0 has no chunked framing: uncoded, with its length.
    let mut client = Client::connect(server.local_addr());
    let r = client.request("GET /piecewise-try-end HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n");
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.body, json(BIG).as_bytes());
    server.shutdown();
}

#[test]
fn static_files_are_coded_except_ranges_and_compressed_types() {
    let dir = std::env::temp_dir().join(format!("uweb-compress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = json(300 * 1024);
    std::fs::write(dir.join("small.json"), json(BIG)).unwrap();
    std::fs::write(dir.join("big.json"), &big).unwrap();
    std::fs::write(dir.join("image.png"), json(BIG)).unwrap();
    let app = App::new().compress(Compression::default()).get(
        "/static/*",
        uweb::fs::ServeDir::new(&dir).prefix("/static").handler(),
    );
    let server = serve(app, 1);
    let mut client = Client::connect(server.local_addr());
    // In one piece (64 KiB or less), and in several.
    for (name, body) in [("small.json", json(BIG)), ("big.json", big.clone())] {
        let r = client.request(get(&format!("/static/{name}"), Some("gzip")));
        assert_eq!(r.status, 200, "{name}");
        assert_eq!(r.header("content-encoding"), Some("gzip"), "{name}");
        assert_eq!(r.header_all("vary"), ["Accept-Encoding"], "{name}");
        assert!(r.header("etag").unwrap().starts_with("W/"), "{name}");
        assert_eq!(decoded(&r), body.as_bytes(), "{name}");
        // HEAD: the coding, no length (the coded length is not known without coding).
        client.send(format!(
            "HEAD /static/{name} HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n"
        ));
        let head = client.head_response();
        assert_eq!(head.header("content-encoding"), Some("gzip"), "{name}");
        assert_eq!(head.header_all("vary"), ["Accept-Encoding"], "{name}");
        // The weakened ETag still validates (weak comparison, RFC 9110 section 13.1.2).
        let etag = r.header("etag").unwrap().to_owned();
        let r = client.request(format!(
            "GET /static/{name} HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nIf-None-Match: {etag}\r\n\r\n"
        ));
        assert_eq!(r.status, 304, "{name}");
        assert_eq!(r.header_all("vary"), ["Accept-Encoding"], "{name}");
    }
    // A range is a part of the file as stored: never coded.
    let r = client.request(
        "GET /static/big.json HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nRange: bytes=10-2009\r\n\r\n",
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.body, big.as_bytes()[10..2010]);
    let r = client.request(get("/static/image.png", Some("gzip")));
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.body, json(BIG).as_bytes());
    server.shutdown();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_strong_etag_becomes_weak_when_a_coding_may_apply() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    let r = client.request(get("/etag", Some("gzip")));
    assert_eq!(r.header("etag"), Some("W/\"v1\""));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let r = client.request(get("/etag", None));
    assert_eq!(r.header("etag"), Some("\"v1\""));
    server.shutdown();
}

#[test]
fn routes_without_compression_are_unchanged() {
    let server = serve(
        App::new().get("/json", |res, _req| {
            res.write_header("Content-Type", "application/json")
                .end(json(BIG));
        }),
        1,
    );
    let r = fetch(server.local_addr(), get("/json", Some("gzip, br")));
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.header("vary"), None);
    assert_eq!(r.body, json(BIG).as_bytes());
    server.shutdown();
}

#[test]
fn pipelined_and_http10_responses_are_coded() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    // Eight at once: the loop's one gzip compressor, reset between them.
    client.send(get("/json", Some("gzip")).repeat(8));
    for i in 0..8 {
        assert_json(&client.response(), Some("gzip"), &format!("pipelined {i}"));
    }
    // HTTP/1.0 streaming: no chunked framing, the coded body runs until the close.
    let mut client = Client::connect(server.local_addr());
    client.send("GET /stream HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n");
    let r = client.response();
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert!(decoded(&r).ends_with(b"data: end\n\n"));
    server.shutdown();
}

#[test]
fn curl_compressed_decodes_the_bodies() {
    let server = serve(app(), 1);
    let base = format!("http://{}", server.local_addr());
    let (ok, body, err) = curl(&["--compressed", &format!("{base}/json")]);
    assert!(ok, "{err}");
    assert_eq!(body, json(BIG).as_bytes());
    let (ok, body, err) = curl(&["--compressed", &format!("{base}/stream")]);
    assert!(ok, "{err}");
    assert!(body.ends_with(b"data: end\n\n"));
    // What curl asked for and got: the coding it names, headers only.
    for coding in ["gzip", "br"] {
        let (ok, head, err) = curl(&[
            "-sD",
            "-",
            "-o",
            "/dev/null",
            "-H",
            &format!("Accept-Encoding: {coding}"),
            &format!("{base}/json"),
        ]);
        assert!(ok, "{err}");
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let want = match coding {
            "br" if !cfg!(feature = "brotli") => None,
            c => Some(c),
        };
        match want {
            Some(c) => assert!(head.contains(&format!("content-encoding: {c}")), "{head}"),
            None => assert!(!head.contains("content-encoding"), "{head}"),
        }
        let (ok, body, err) = curl(&[
            "--compressed",
            "-H",
            &format!("Accept-Encoding: {coding}"),
            &format!("{base}/json"),
        ]);
        assert!(ok, "{err}");
        assert_eq!(body, json(BIG).as_bytes(), "{coding}");
    }
    server.shutdown();
}
