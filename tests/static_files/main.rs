//! Static files (`uweb::fs`): a real server on a temporary directory, spoken to in raw bytes.
//! Here: fields, HEAD, ranges (206, 416) and `ServeFile`; in the modules: conditionals (304,
//! 412, `If-Range`), paths (directory index, traversal, encoded separators, NUL, symlinks out
//! of the root, 404), and large files streamed under backpressure (every byte checked,
//! memory bounded, a truncated file closing the connection, an aborted download closing the
//! file).

#[path = "../support/mod.rs"]
mod support;

mod conditional;
mod fixture;
mod paths;
mod streaming;

use fixture::{DIGITS, Fixture, HELLO, ask, etag_of, turn};
use support::{Client, get, request};

#[test]
fn get_serves_the_file_with_its_fields() {
    let _turn = turn();
    let fixture = Fixture::new();
    let server = fixture.serve();
    let resp = ask(&server, "GET", "/static/hello.txt", &[]);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body_str(), HELLO);
    assert_eq!(resp.header("content-length"), Some("21"));
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(resp.header("accept-ranges"), Some("bytes"));
    let modified = fixture.last_modified("hello.txt");
    assert_eq!(resp.header("last-modified"), Some(modified.as_str()));
    // Strong, quoted, starting with the length in hex.
    let etag = etag_of(&resp);
    assert!(etag.starts_with("\"15-") && etag.ends_with('"'), "{etag}");
    // Stable while the file is.
    assert_eq!(
        etag_of(&ask(&server, "GET", "/static/hello.txt", &[])),
        etag
    );
    for (path, content_type, body) in [
        (
            "/static/style.css",
            "text/css; charset=utf-8",
            &b"body {}"[..],
        ),
        ("/static/image.png", "image/png", b"\x89PNG\r\n\x1a\n"),
        (
            "/static/data.bin",
            "application/octet-stream",
            &[0, 1, 2, 255],
        ),
        ("/static/noext", "application/octet-stream", b"?"),
        ("/static/a%20b.txt", "text/plain; charset=utf-8", b"spaced"),
        (
            "/static/inside.txt",
            "text/plain; charset=utf-8",
            HELLO.as_bytes(),
        ),
        (
            "/static/hello.txt?v=2",
            "text/plain; charset=utf-8",
            HELLO.as_bytes(),
        ),
    ] {
        let resp = ask(&server, "GET", path, &[]);
        assert_eq!(resp.status, 200, "{path}");
        assert_eq!(resp.header("content-type"), Some(content_type), "{path}");
        assert_eq!(resp.body, body, "{path}");
    }
    server.shutdown();
}

#[test]
fn head_gets_the_fields_and_no_body() {
    let _turn = turn();
    let fixture = Fixture::new();
    let server = fixture.serve();
    let got = ask(&server, "GET", "/static/digits.txt", &[]);
    let mut client = Client::connect(server.local_addr());
    // A Range too: HEAD ignores it (RFC 9110 section 14.2).
    client.send(request(
        "HEAD",
        "/static/digits.txt",
        &[("Range", "bytes=0-1")],
    ));
    let head = client.head_response();
    assert_eq!(head.status, 200);
    for field in [
        "content-length",
        "content-type",
        "etag",
        "last-modified",
        "accept-ranges",
    ] {
        assert_eq!(head.header(field), got.header(field), "{field}");
    }
    assert_eq!(head.header("content-length"), Some("36"));
    // No body went out: the next response on the connection starts right after the head.
    let next = client.request(get("/static/hello.txt"));
    assert_eq!((next.status, next.body_str()), (200, HELLO));
    // A 304 to HEAD too.
    let etag = etag_of(&got);
    client.send(request(
        "HEAD",
        "/static/digits.txt",
        &[("If-None-Match", &etag)],
    ));
    assert_eq!(client.head_response().status, 304);
    assert_eq!(client.request(get("/static/hello.txt")).body_str(), HELLO);
    server.shutdown();
}

#[test]
fn single_ranges_give_206() {
    let _turn = turn();
    let fixture = Fixture::new();
    let server = fixture.serve();
    let mut client = Client::connect(server.local_addr());
    for (range, content_range, body) in [
        ("bytes=0-9", "bytes 0-9/36", "0123456789"),
        ("bytes=10-", "bytes 10-35/36", "abcdefghijklmnopqrstuvwxyz"),
        ("bytes=-5", "bytes 31-35/36", "vwxyz"),
        ("bytes=30-1000", "bytes 30-35/36", "uvwxyz"),
        ("bytes=-100", "bytes 0-35/36", DIGITS),
    ] {
        let resp = client.request(request("GET", "/static/digits.txt", &[("Range", range)]));
        assert_eq!(resp.status, 206, "{range}");
        assert_eq!(resp.header("content-range"), Some(content_range), "{range}");
        assert_eq!(
            resp.header("content-length"),
            Some(body.len().to_string().as_str())
        );
        assert_eq!(resp.body_str(), body, "{range}");
        assert_eq!(
            resp.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert!(resp.header("etag").is_some());
    }
    server.shutdown();
}

#[test]
fn unsatisfiable_range_gives_416_and_several_ranges_the_whole_file() {
    let _turn = turn();
    let fixture = Fixture::new();
    let server = fixture.serve();
    let mut client = Client::connect(server.local_addr());
    for range in ["bytes=999999-", "bytes=36-", "bytes=-0"] {
        let resp = client.request(request("GET", "/static/digits.txt", &[("Range", range)]));
        assert_eq!(resp.status, 416, "{range}");
        assert_eq!(resp.header("content-range"), Some("bytes */36"), "{range}");
        assert!(resp.body.is_empty());
    }
    // Several ranges, a malformed one, another unit: the whole file, as 200.
    for range in ["bytes=0-1,5-6", "bytes=5-1", "lines=1-2", "bytes=x"] {
        let resp = client.request(request("GET", "/static/digits.txt", &[("Range", range)]));
        assert_eq!((resp.status, resp.body_str()), (200, DIGITS), "{range}");
        assert_eq!(resp.header("content-range"), None);
    }
    server.shutdown();
}

#[test]
fn serve_file_serves_one_file() {
    let _turn = turn();
    let fixture = Fixture::new();
    let server = fixture.serve();
    let resp = ask(&server, "GET", "/one", &[]);
    assert_eq!((resp.status, resp.body_str()), (200, HELLO));
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let etag = etag_of(&resp);
    let resp = ask(&server, "GET", "/one", &[("Range", "bytes=-6")]);
    assert_eq!((resp.status, resp.body_str()), (206, "orld!\n"));
    assert_eq!(
        ask(&server, "GET", "/one", &[("If-None-Match", &etag)]).status,
        304
    );
    // Only GET and HEAD are routed to it.
    assert_eq!(
        ask(&server, "POST", "/one", &[("Content-Length", "0")]).status,
        405
    );
    server.shutdown();
}
