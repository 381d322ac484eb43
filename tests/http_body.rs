//! Request bodies: Content-Length and chunked (de-chunked for `on_data`), `100 Continue`, the
//! body limit.

mod support;

use support::{Client, Log, config, curl, get, serve};
use uweb::App;

/// `POST /echo` answers the whole body once the last part arrived; `POST /parts` answers how
/// many non-empty parts `on_data` saw; `POST /ignore` answers at once without reading;
/// `POST /forget` reads but never answers.
fn app(log: &Log) -> App {
    let parts_log = log.clone();
    App::new()
        .get("/", |res, _req| res.end("root"))
        .post("/echo", support::echo)
        .post("/parts", move |res, _req| {
            let log = parts_log.clone();
            let mut len = 0;
            res.on_data(move |res, chunk, is_last| {
                assert!(!chunk.is_empty() || is_last, "empty non-final chunk");
                len += chunk.len();
                log.push(format!("{}:{is_last}", chunk.len()));
                if is_last {
                    res.end(len.to_string());
                }
            });
        })
        .post("/ignore", |res, _req| res.end("ignored"))
        .post("/forget", |res, _req| res.on_data(|_res, _chunk, _last| {}))
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn chunked_head(path: &str) -> String {
    format!("POST {path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
}

#[test]
fn content_length_body_streams_to_on_data() {
    let log = Log::default();
    let server = serve(app(&log), 1);
    let mut c = Client::connect(server.local_addr());
    assert_eq!(
        c.request(post("/echo", "hello body")).body_str(),
        "hello body"
    );
    // The body in several writes, the head alone first.
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\n");
    c.send("abc").send("def").send("ghi");
    assert_eq!(c.response().body_str(), "abcdefghi");
    // A large body arrives in many parts.
    let big: String = (0..300_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let r = c.request(post("/echo", &big));
    assert_eq!(r.body.len(), big.len());
    assert!(r.body == big.as_bytes());
}

#[test]
fn chunked_body_is_de_chunked_with_extensions_and_trailers() {
    let log = Log::default();
    let server = serve(app(&log), 1);
    let mut c = Client::connect(server.local_addr());
    let body = "5;name=value\r\nhello\r\n1;a;b=\"q;x\"\r\n \r\nA\r\n0123456789\r\n\
                0;last\r\nX-Trailer: 1\r\nY-Trailer: two\r\n\r\n";
    let r = c.request(format!("{}{body}", chunked_head("/echo")));
    assert_eq!((r.status, r.body_str()), (200, "hello 0123456789"));
    // Case-insensitive coding name, uppercase hex, no extensions, no trailers.
    let r = c.request(
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: ChUnKeD\r\n\r\n\
         B\r\nhello world\r\n0\r\n\r\n",
    );
    assert_eq!(r.body_str(), "hello world");
    // An empty chunked body.
    let r = c.request(format!("{}0\r\n\r\n", chunked_head("/echo")));
    assert_eq!((r.status, r.body_str()), (200, ""));
}

#[test]
fn chunked_body_split_byte_by_byte() {
    let log = Log::default();
    let server = serve(app(&log), 1);
    let mut c = Client::connect(server.local_addr());
    c.send(chunked_head("/echo"));
    for b in b"3;x=y\r\nabc\r\n4\r\ndefg\r\n0\r\nT: v\r\n\r\n" {
        c.send([*b]);
    }
    assert_eq!(c.response().body_str(), "abcdefg");
    assert_eq!(c.request(get("/")).body_str(), "root");
}

#[test]
fn on_data_sees_only_data_and_one_last_call() {
    let log = Log::default();
    let server = serve(app(&log), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(format!(
        "{}3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        chunked_head("/parts")
    ));
    assert_eq!(r.body_str(), "5");
    let entries = log.take();
    assert_eq!(
        entries.last().map(String::as_str),
        Some("0:true"),
        "{entries:?}"
    );
    assert_eq!(
        entries.iter().filter(|e| e.ends_with(":true")).count(),
        1,
        "{entries:?}"
    );
}

#[test]
fn on_data_gets_is_last_for_an_empty_body() {
    // `on_data` promises a final `is_last == true` call; with `Content-Length: 0` (or no body
    // at all) there is no data, but the handler must still be told the body is complete.
    let log = Log::default();
    let server = serve(app(&log), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(post("/echo", ""));
    assert_eq!(
        (r.status, r.body_str()),
        (200, ""),
        "POST with Content-Length: 0"
    );
    let r = c.request("POST /echo HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((r.status, r.body_str()), (200, ""), "POST without a body");
}

#[test]
fn unread_bodies_are_skipped_for_the_next_request() {
    let log = Log::default();
    let server = serve(app(&log), 1);
    let mut c = Client::connect(server.local_addr());
    c.send(post("/ignore", "GET / HTTP/1.1\r\nHost: t\r\n\r\n"))
        .send(get("/"))
        .send(format!("{}4\r\nGET \r\n0\r\n\r\n", chunked_head("/ignore")))
        .send(get("/"));
    for want in ["ignored", "root", "ignored", "root"] {
        let r = c.response();
        assert_eq!((r.status, r.body_str()), (200, want));
    }
}

#[test]
fn on_data_that_never_answers_gets_500_and_the_connection_goes_on() {
    let log = Log::default();
    let server = serve(app(&log), 1);
    let mut c = Client::connect(server.local_addr());
    assert_eq!(c.request(post("/forget", "xyz")).status, 500);
    assert_eq!(c.request(get("/")).body_str(), "root");
    assert_eq!(
        c.request(format!("{}1\r\nx\r\n0\r\n\r\n", chunked_head("/forget")))
            .status,
        500
    );
    assert_eq!(c.request(get("/")).body_str(), "root");
}

#[test]
fn expect_100_continue_is_sent_once_before_the_body() {
    let log = Log::default();
    let server = serve(app(&log), 1);
    let mut c = Client::connect(server.local_addr());
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 6\r\n\r\n");
    // The client waits for the interim response before sending anything.
    let interim = c.response();
    assert_eq!(interim.raw, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.send("abc").send("def");
    let r = c.response();
    assert_eq!((r.status, r.body_str()), (200, "abcdef"));
    // The same for a chunked body; then nothing stray (a second 100) precedes later answers.
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(c.response().status, 100);
    c.send("2\r\nxy\r\n").send("0\r\n\r\n");
    assert_eq!(c.response().body_str(), "xy");
    let r = c.request(get("/"));
    assert_eq!((r.status, r.body_str()), (200, "root"));
}

#[test]
fn no_100_continue_unless_asked_or_when_the_body_is_not_read() {
    let log = Log::default();
    let server = serve(app(&log), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(post("/echo", "abc"));
    assert_eq!((r.status, r.body_str()), (200, "abc"));
    assert!(c.pending().is_empty());
    // Asked, but the handler answers without reading: the final response comes directly.
    c.send("POST /ignore HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    let r = c.response();
    assert_eq!((r.status, r.body_str()), (200, "ignored"));
    assert_eq!(r.header("connection"), Some("close"));
}

#[test]
fn expect_continue_answered_without_reading_closes_promptly() {
    // The server says `Connection: close` because the client, still waiting for `100
    // Continue`, may never send the body; it must then close rather than wait for that body
    // until the idle timeout (set far beyond the test deadline here).
    let log = Log::default();
    let app = app(&log).config(config(|c| {
        c.idle_timeout = std::time::Duration::from_secs(120)
    }));
    let server = serve(app, 1);
    let mut c = Client::connect(server.local_addr());
    c.send("POST /ignore HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    let r = c.response();
    assert_eq!((r.status, r.body_str()), (200, "ignored"));
    assert_eq!(r.header("connection"), Some("close"));
    assert!(
        c.is_closed(),
        "the server kept the connection open waiting for the body"
    );
}

#[test]
fn default_body_limit_is_one_mib() {
    let log = Log::default();
    let server = serve(app(&log), 1);
    let mut c = Client::connect(server.local_addr());
    let mib = "z".repeat(1024 * 1024);
    let r = c.request(post("/parts", &mib));
    assert_eq!((r.status, r.body_str()), (200, "1048576"));
    c.send("POST /parts HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n");
    let r = c.response();
    assert_eq!(r.status, 413);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());
}

#[test]
fn configured_body_limit_applies_to_length_and_chunked() {
    let log = Log::default();
    let app = app(&log).config(config(|c| c.max_body_bytes = 10));
    let server = serve(app, 1);
    let addr = server.local_addr();
    let mut c = Client::connect(addr);
    assert_eq!(
        c.request(post("/echo", "0123456789")).body_str(),
        "0123456789"
    );
    let r = c.request(format!(
        "{}5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n",
        chunked_head("/echo")
    ));
    assert_eq!(r.body_str(), "0123456789");

    let r = c.request(post("/echo", "0123456789A"));
    assert_eq!(r.status, 413);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());

    // Chunked: the total counts, whatever the chunk sizes.
    let mut c = Client::connect(addr);
    let r = c.request(format!(
        "{}6\r\n012345\r\n5\r\n6789A\r\n0\r\n\r\n",
        chunked_head("/echo")
    ));
    assert_eq!(r.status, 413);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());
}

#[test]
fn curl_uploads_chunked_with_expect_continue() {
    let log = Log::default();
    let server = serve(app(&log), 1);
    let url = format!("http://{}/echo", server.local_addr());
    let payload = "the quick brown fox ".repeat(500);
    let (ok, out, err) = curl(&[
        "-H",
        "Transfer-Encoding: chunked",
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        &payload,
        &url,
    ]);
    assert!(ok, "curl failed: {err}");
    assert!(
        out == payload.as_bytes(),
        "echo differs ({} bytes)",
        out.len()
    );
    // And a plain Content-Length upload.
    let (ok, out, err) = curl(&["--data-binary", "k=v&x=y", &url]);
    assert!(ok, "curl failed: {err}");
    assert_eq!(String::from_utf8_lossy(&out), "k=v&x=y");
}
