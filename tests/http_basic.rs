//! The request view, the response writer, keep-alive and HTTP/1.0, on a real server.

mod support;

use std::time::{Duration, SystemTime};

use support::{Client, curl, get, serve};
use uweb::App;

/// Routes shared by most tests here.
fn app() -> App {
    App::new()
        .get("/hello", |res, _req| res.end("Hello!"))
        .get("/status", |res, _req| {
            res.write_status("201 Created")
                .write_header("X-Custom", "yes")
                .end("made");
        })
        .get("/chunked", |res, _req| {
            res.write_header("Content-Type", "text/plain");
            res.write("hello");
            res.write(" world");
            res.end("!");
        })
        .get("/chunked-empty-end", |res, _req| {
            res.write("ab");
            res.write("cd");
            res.end("");
        })
        .any("/view/*", |res, req| {
            let body = format!("{}|{}|{}", req.method(), req.url(), req.query());
            res.end(body);
        })
        .get("/q", |res, req| {
            let keys = ["a", "b", "c", "e", "k y", "missing", "plus"];
            let body: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}={:?}", req.query_value(k).map(|v| v.into_owned())))
                .collect();
            res.end(body.join("\n"));
        })
        .get("/headers", |res, req| {
            let mut body = format!(
                "{:?}|{:?}|{:?}|{:?}\n",
                req.header("x-dup"),
                req.header("X-DUP"),
                req.header("hOsT"),
                req.header("missing")
            );
            for (name, value) in req.headers() {
                body.push_str(&format!("{name}={}\n", String::from_utf8_lossy(value)));
            }
            res.end(body);
        })
        .get("/u/:id/p/:pid", |res, req| {
            let body = format!(
                "{:?} {:?} {:?} {:?} {:?}",
                req.parameter(0),
                req.parameter("pid"),
                req.parameter("id"),
                req.parameter(2),
                req.parameter("nope")
            );
            res.end(body);
        })
        .get("/peer", |res, req| res.end(req.remote_addr().to_string()))
        .head("/h", |res, _req| res.end_without_body(Some(42)))
        .get("/not-modified", |res, _req| {
            res.write_status("304 Not Modified").end_without_body(None);
        })
        .get("/close-header", |res, _req| {
            res.write_header("Connection", "close").end("bye");
        })
        .get("/abort", |res, _req| res.close())
}

#[test]
fn method_url_and_query_are_split() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(get("/view/a/b?x=1&y=%20"));
    assert_eq!(r.body_str(), "GET|/view/a/b|x=1&y=%20");
    let r = c.request("DELETE /view/p HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.body_str(), "DELETE|/view/p|");
    let r = c.request("PROPFIND /view/?only HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.body_str(), "PROPFIND|/view/|only");
    // Absolute-form: the path and the query of the target.
    let r = c.request("GET http://test/view/abs?q=1 HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_eq!(r.body_str(), "GET|/view/abs|q=1");
}

#[test]
fn query_value_is_percent_and_plus_decoded() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(get(
        "/q?a=1&b=hello+world&c=%E2%82%AC%20x&a=2&e&k%20y=v&plus=%2B",
    ));
    assert_eq!(r.status, 200);
    let want = [
        "a=Some(\"1\")",
        "b=Some(\"hello world\")",
        "c=Some(\"€ x\")",
        "e=Some(\"\")",
        "k y=Some(\"v\")",
        "missing=None",
        "plus=Some(\"+\")",
    ];
    assert_eq!(r.body_str(), want.join("\n"));
    let r = c.request(get("/q"));
    assert!(
        r.body_str().lines().all(|l| l.ends_with("=None")),
        "{}",
        r.body_str()
    );
}

#[test]
fn header_lookup_is_case_insensitive_and_first_wins() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let r =
        c.request("GET /headers HTTP/1.1\r\nX-Dup: one\r\nHost: h1\r\nx-dup: two\r\nZ: \r\n\r\n");
    let body = r.body_str();
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some(r#"Some("one")|Some("one")|Some("h1")|None"#)
    );
    // Every field, in arrival order, names as sent.
    let rest: Vec<&str> = lines.collect();
    assert_eq!(rest, ["X-Dup=one", "Host=h1", "x-dup=two", "Z="]);
}

#[test]
fn parameters_by_index_and_name_are_raw() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(get("/u/a%20b/p/c+d%2F?id=zzz"));
    assert_eq!(
        r.body_str(),
        r#"Some("a%20b") Some("c+d%2F") Some("a%20b") None None"#
    );
}

#[test]
fn remote_addr_is_the_peer() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(get("/peer"));
    assert_eq!(r.body_str(), c.origin().to_string());
}

#[test]
fn end_adds_content_length_and_a_valid_date() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(get("/hello"));
    assert!(
        r.raw.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{:?}",
        String::from_utf8_lossy(&r.raw)
    );
    assert_eq!(r.header_all("content-length"), ["6"]);
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.body_str(), "Hello!");
    let dates = r.header_all("date");
    assert_eq!(dates.len(), 1, "exactly one Date: {:?}", r.headers);
    let date = dates[0];
    assert!(
        date.len() == 29 && date.ends_with(" GMT"),
        "IMF-fixdate: {date:?}"
    );
    let when = httpdate::parse_http_date(date).expect("well-formed Date");
    let now = SystemTime::now();
    let skew = now.duration_since(when).unwrap_or_else(|e| e.duration());
    assert!(
        skew < Duration::from_secs(3600),
        "Date {date} is far from now"
    );
}

#[test]
fn write_status_and_write_header() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(get("/status"));
    assert!(r.raw.starts_with(b"HTTP/1.1 201 Created\r\n"));
    assert_eq!(r.header("x-custom"), Some("yes"));
    assert_eq!(r.header("content-length"), Some("4"));
    assert!(r.header("date").is_some());
    assert_eq!(r.body_str(), "made");
}

#[test]
fn write_switches_to_valid_chunked_framing() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(get("/chunked"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert!(r.header("date").is_some());
    let raw = String::from_utf8_lossy(&r.raw).into_owned();
    let body_start = raw.find("\r\n\r\n").unwrap() + 4;
    assert_eq!(
        &raw[body_start..],
        "5\r\nhello\r\n6\r\n world\r\n1\r\n!\r\n0\r\n\r\n"
    );
    assert_eq!(r.body_str(), "hello world!");
    // end("") after writes: just the last-chunk.
    let r = c.request(get("/chunked-empty-end"));
    assert!(
        r.raw.ends_with(b"\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n"),
        "{:?}",
        String::from_utf8_lossy(&r.raw)
    );
    // The connection is still in sync.
    assert_eq!(c.request(get("/hello")).body_str(), "Hello!");
    assert!(c.pending().is_empty());
}

#[test]
fn head_of_a_chunked_route_sends_no_body_bytes() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    // The HEAD and a GET behind it in one write: stray body bytes would corrupt the second.
    c.send("HEAD /chunked HTTP/1.1\r\nHost: t\r\n\r\n")
        .send(get("/hello"));
    let head = c.head_response();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    let next = c.response();
    assert_eq!((next.status, next.body_str()), (200, "Hello!"));
}

#[test]
fn end_without_body_for_head_and_304() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    c.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n")
        .send(get("/not-modified"))
        .send(get("/hello"));
    let head = c.head_response();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("42"));
    let nm = c.head_response();
    assert_eq!(nm.status, 304);
    assert_eq!(nm.header("content-length"), None);
    assert_eq!(nm.header("transfer-encoding"), None);
    assert_eq!(c.response().body_str(), "Hello!");
}

#[test]
fn http11_keeps_the_connection_alive_by_default() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    for _ in 0..5 {
        let r = c.request(get("/hello"));
        assert_eq!(r.body_str(), "Hello!");
        assert_eq!(r.header("connection"), None);
    }
}

#[test]
fn connection_close_is_honoured() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    // A request pipelined after the closing one is never answered.
    c.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .send(get("/status"));
    let r = c.response();
    assert_eq!(r.body_str(), "Hello!");
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(
        c.read_until_close(),
        b"",
        "nothing after the closing response"
    );
}

#[test]
fn http10_closes_unless_keep_alive() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request("GET /hello HTTP/1.0\r\n\r\n");
    assert_eq!((r.status, r.body_str()), (200, "Hello!"));
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());

    let mut c = Client::connect(server.local_addr());
    for _ in 0..3 {
        let r = c.request("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert_eq!(r.body_str(), "Hello!");
        assert_eq!(r.header("connection"), Some("keep-alive"));
    }
    // Without keep-alive on a later request, that one closes.
    let r = c.request("GET /hello HTTP/1.0\r\n\r\n");
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());
}

#[test]
fn http10_streamed_write_is_delimited_by_close() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    c.send("GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let raw = c.read_until_close();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        !text.to_ascii_lowercase().contains("transfer-encoding"),
        "{text}"
    );
    assert!(text.ends_with("\r\n\r\nhello world!"), "{text}");
}

#[test]
fn handler_written_connection_close_closes_once() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(get("/close-header"));
    assert_eq!(r.body_str(), "bye");
    assert_eq!(
        r.header_all("connection"),
        ["close"],
        "one Connection field: {:?}",
        r.headers
    );
    assert!(c.is_closed());
}

#[test]
fn close_drops_the_connection_without_a_response() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    c.send(get("/hello")).send(get("/abort"));
    assert_eq!(c.response().body_str(), "Hello!");
    assert_eq!(c.read_until_close(), b"");
    // The server goes on.
    let mut other = Client::connect(server.local_addr());
    assert_eq!(other.request(get("/hello")).body_str(), "Hello!");
}

#[test]
fn curl_reuses_the_connection_and_decodes_chunked() {
    let server = serve(app(), 1);
    let base = format!("http://{}", server.local_addr());
    let (ok, out, err) = curl(&[&format!("{base}/hello"), &format!("{base}/chunked")]);
    assert!(ok, "curl failed: {err}");
    assert_eq!(String::from_utf8_lossy(&out), "Hello!hello world!");
}

#[test]
fn curl_head_and_http10() {
    let server = serve(app(), 1);
    let base = format!("http://{}", server.local_addr());
    let (ok, out, err) = curl(&["--head", &format!("{base}/chunked")]);
    assert!(ok, "curl failed: {err}");
    let text = String::from_utf8_lossy(&out).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200 ok\r\n"), "{text}");
    assert!(text.contains("transfer-encoding: chunked\r\n"), "{text}");
    let (ok, out, err) = curl(&["--http1.0", "--include", &format!("{base}/hello")]);
    assert!(ok, "curl failed: {err}");
    let text = String::from_utf8_lossy(&out).to_ascii_lowercase();
    assert!(text.contains("connection: close\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nhello!"), "{text}");
}
