//! Bad input: one pre-baked response with `Connection: close`, then the connection closes;
//! never a panic or a stuck loop, and other connections are untouched.

mod support;

use std::net::SocketAddr;

use support::{Client, Response, config, get, serve};
use uweb::{App, Server};

/// One loop, so every connection shares the loop that saw the bad input.
fn server() -> Server {
    let app = App::new()
        .get("/", |res, _req| res.end("ok"))
        .post("/echo", support::echo)
        .any("/*", |res, _req| res.end("any"));
    serve(app, 1)
}

/// Sends `raw` on a new connection; returns the one response, after checking that it carries
/// `Connection: close` and that nothing follows it but the close.
fn refused(addr: SocketAddr, raw: &[u8]) -> Response {
    let mut c = Client::connect(addr);
    c.send(raw);
    let r = c.response();
    let what = String::from_utf8_lossy(raw);
    assert_eq!(
        r.header("connection"),
        Some("close"),
        "{what:?}: {:?}",
        r.headers
    );
    // Framed by Content-Length, so that the client knows where it ends.
    assert!(r.header("content-length").is_some(), "{what:?}");
    assert_eq!(
        c.read_until_close(),
        b"",
        "{what:?}: bytes after the error response"
    );
    r
}

/// Checks each `(raw request, status)` on its own connection, and that a keep-alive connection
/// opened before them still works after each one.
fn check_table(cases: &[(&[u8], u16)]) {
    let server = server();
    let addr = server.local_addr();
    let mut good = Client::connect(addr);
    assert_eq!(good.request(get("/")).body_str(), "ok");
    for (i, (raw, status)) in cases.iter().enumerate() {
        let r = refused(addr, raw);
        assert_eq!(
            r.status,
            *status,
            "case {i}: {:?}",
            String::from_utf8_lossy(raw)
        );
        assert_eq!(good.request(get("/")).body_str(), "ok", "after case {i}");
    }
}

#[test]
fn malformed_request_lines_get_400() {
    check_table(&[
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET\r\nHost: t\r\n\r\n", 400),
        (b"GET /\r\nHost: t\r\n\r\n", 400),
        (b"GET / HTTP/1.1 extra\r\nHost: t\r\n\r\n", 400),
        (b"G(T / HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        (b"GET / http/1.1\r\nHost: t\r\n\r\n", 400),
        (b"GET / HTTP/1.x\r\nHost: t\r\n\r\n", 400),
        (b"GET /\x7f HTTP/1.1\r\nHost: t\r\n\r\n", 400),
        (b"GET / HTTP/1.1\nHost: t\r\n\rX\r\n", 400),
        (b"\x00\x01\x02\x03\xff\xfe\r\n\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
    ]);
}

#[test]
fn request_line_with_a_space_in_the_target_gets_400() {
    // The last word looks like a version, but the line is malformed: 400, not 505.
    check_table(&[(b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", 400)]);
}

#[test]
fn malformed_fields_get_400() {
    check_table(&[
        // obs-fold
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n\tb\r\n\r\n", 400),
        // whitespace before the colon
        (b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-A\t: a\r\n\r\n", 400),
        // NUL and other CTLs in values
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x01b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x1fb\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x7fb\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n", 400),
        // bad field names
        (b"GET / HTTP/1.1\r\nHost: t\r\nX(A): a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: t\r\n: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: t\r\nno-colon\r\n\r\n", 400),
        // Host: missing in 1.1, or repeated
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX-A: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        // Host: not `uri-host [ ":" port ]` (RFC 9112 section 3.2), in 1.1 and 1.0
        (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: example.com:http\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: example.com:80:80\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: example.com/x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: [nonsense]:80\r\n\r\n", 400),
        (b"GET / HTTP/1.0\r\nHost: <script>\r\n\r\n", 400),
    ]);
}

#[test]
fn valid_hosts_are_served_and_http10_needs_none() {
    let server = server();
    let addr = server.local_addr();
    let mut c = Client::connect(addr);
    for host in [
        "example.com:8080",
        "127.0.0.1",
        "[::1]:443",
        "xn--bcher-kva.example",
        "",
    ] {
        let raw = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
        assert_eq!(c.request(raw).body_str(), "ok", "{host:?}");
    }
    let r = Client::connect(addr).request("GET / HTTP/1.0\r\n\r\n");
    assert_eq!((r.status, r.body_str()), (200, "ok"));
}

#[test]
fn bad_framing_gets_400() {
    check_table(&[
        // both Content-Length and Transfer-Encoding
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
        // differing duplicate Content-Length (separate fields or one list)
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 6\r\n\r\nhello!", 400),
        // invalid Content-Length
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5 5\r\n\r\nhello", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0x5\r\n\r\nhello", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
        // invalid chunk sizes and framing
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400),
        // Transfer-Encoding in HTTP/1.0
        (b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ]);
}

#[test]
fn unknown_transfer_codings_get_501() {
    check_table(&[
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: GZIP\r\n\r\n", 501),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 501),
    ]);
}

#[test]
fn unsupported_versions_get_505() {
    check_table(&[
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        (b"GET / HTTP/1.2\r\nHost: t\r\n\r\n", 505),
        (b"GET / HTTP/0.9\r\nHost: t\r\n\r\n", 505),
        (b"GET / HTTP/3\r\nHost: t\r\n\r\n", 505),
    ]);
}

#[test]
fn overlong_request_line_still_arriving_gets_414() {
    let server = server();
    let line = format!("GET /{} HTTP/1.1", "a".repeat(9000));
    // No line end yet: the target alone is over the limit.
    let r = refused(server.local_addr(), &line.as_bytes()[..9005]);
    assert_eq!(r.status, 414);
}

#[test]
fn overlong_request_target_in_a_complete_request_gets_414() {
    // The whole request in one write: the target is over 8 KiB, the rest is tiny.
    let server = server();
    let raw = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(9000));
    let r = refused(server.local_addr(), raw.as_bytes());
    assert_eq!(r.status, 414);
}

#[test]
fn configured_target_limit_gets_414() {
    let app = App::new()
        .get("/*", |res, _req| res.end("ok"))
        .config(config(|c| c.max_request_target_bytes = 64));
    let server = serve(app, 1);
    let addr = server.local_addr();
    let mut c = Client::connect(addr);
    let ok = format!("/{}", "b".repeat(63));
    assert_eq!(c.request(get(&ok)).body_str(), "ok");
    let r = refused(addr, get(&format!("/{}", "b".repeat(64))).as_bytes());
    assert_eq!(r.status, 414);
}

/// A complete head of exactly `len` bytes: the request line, Host, and padding fields.
fn head_of_len(len: usize) -> String {
    let mut head = String::from("GET / HTTP/1.1\r\nHost: t\r\n");
    let pad_field = |n: usize| format!("X-Pad: {}\r\n", "p".repeat(n - 9));
    while len - head.len() - 2 > 4000 {
        head.push_str(&pad_field(3000));
    }
    let rest = len - head.len() - 2;
    head.push_str(&pad_field(rest));
    head.push_str("\r\n");
    assert_eq!(head.len(), len);
    head
}

#[test]
fn header_section_over_8_kib_gets_431() {
    let server = server();
    let addr = server.local_addr();
    let mut c = Client::connect(addr);
    let r = c.request(head_of_len(8192));
    assert_eq!(
        (r.status, r.body_str()),
        (200, "ok"),
        "8 KiB exactly is accepted"
    );
    assert_eq!(refused(addr, head_of_len(8193).as_bytes()).status, 431);
    // One huge field, and a head that never ends.
    let big = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "v".repeat(9000)
    );
    assert_eq!(refused(addr, big.as_bytes()).status, 431);
    let endless = format!("GET / HTTP/1.1\r\nHost: t\r\n{}", "X-A: b\r\n".repeat(1100));
    assert_eq!(refused(addr, endless.as_bytes()).status, 431);
    assert_eq!(c.request(get("/")).body_str(), "ok");
}

#[test]
fn more_than_100_fields_get_431() {
    let server = server();
    let addr = server.local_addr();
    let fields = |n: usize| {
        let mut head = String::from("GET / HTTP/1.1\r\nHost: t\r\n");
        for i in 1..n {
            head.push_str(&format!("X-{i}: v\r\n"));
        }
        head + "\r\n"
    };
    let mut c = Client::connect(addr);
    assert_eq!(
        c.request(fields(100)).body_str(),
        "ok",
        "100 fields are accepted"
    );
    assert_eq!(refused(addr, fields(101).as_bytes()).status, 431);
    assert_eq!(refused(addr, fields(500).as_bytes()).status, 431);
}

#[test]
fn bad_input_sent_byte_by_byte_gets_the_same_answer() {
    let server = server();
    let addr = server.local_addr();
    for (raw, status) in [
        (&b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n"[..], 400),
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nq\r\n", 400),
    ] {
        let mut c = Client::connect(addr);
        for b in raw {
            // The server may close as soon as it has seen enough: later writes may then fail.
            if std::io::Write::write_all(&mut c.stream, &[*b]).is_err() {
                break;
            }
        }
        let r = c.response();
        assert_eq!(r.status, status, "{:?}", String::from_utf8_lossy(raw));
        assert_eq!(r.header("connection"), Some("close"));
        assert!(c.is_closed());
    }
}

#[test]
fn bad_request_after_good_pipelined_ones_is_answered_in_order() {
    let server = server();
    let mut c = Client::connect(server.local_addr());
    c.send(get("/"))
        .send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
        .send("GET / HTTP/1.1\r\nHost : t\r\n\r\n")
        .send(get("/"));
    assert_eq!(c.response().body_str(), "ok");
    assert_eq!(c.response().body_str(), "hi");
    let r = c.response();
    assert_eq!(r.status, 400);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(
        c.read_until_close(),
        b"",
        "nothing is answered after the bad request"
    );
}

#[test]
fn bad_chunk_after_an_answered_request_sends_no_unsolicited_response() {
    // The handler has answered; the body turns out to be malformed. The client must not get a
    // second, unrequested response (it would be taken as the answer to its next request): the
    // server just closes.
    let app = App::new().post("/early", |res, _req| res.end("early"));
    let server = serve(app, 1);
    let mut c = Client::connect(server.local_addr());
    c.send("POST /early HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    assert_eq!(c.response().body_str(), "early");
    let rest = c.read_until_close();
    assert_eq!(
        String::from_utf8_lossy(&rest),
        "",
        "unsolicited bytes after the response"
    );
}

#[test]
fn many_bad_connections_do_not_disturb_a_good_one() {
    let server = server();
    let addr = server.local_addr();
    let mut good = Client::connect(addr);
    let garbage: [&[u8]; 5] = [
        b"\r\n\r\nXX YY ZZ\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"\xff\xff\xff\xff\r\n\r\n",
    ];
    let mut bad: Vec<Client> = Vec::new();
    for round in 0..20 {
        let mut c = Client::connect(addr);
        c.send(garbage[round % garbage.len()]);
        bad.push(c);
        let r = good.request(get("/"));
        assert_eq!((r.status, r.body_str()), (200, "ok"), "round {round}");
    }
    for mut c in bad {
        let r = c.response();
        assert!(r.status == 400 || r.status == 505, "{}", r.status);
        assert!(c.is_closed());
    }
    assert_eq!(good.request(get("/")).body_str(), "ok");
}
