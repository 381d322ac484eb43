//! Pipelining: requests sent back to back (in one write or split anywhere) are answered in
//! request order, bodies included.

mod support;

use std::io::Write;

use support::{Client, Response, get, serve};
use uweb::App;

fn app() -> App {
    App::new()
        .get("/n/:i", |res, req| {
            let i = req.parameter(0).unwrap_or_default().to_owned();
            res.end(format!("get {i}"));
        })
        .post("/echo/:i", |res, req| {
            let i = req.parameter("i").unwrap_or_default().to_owned();
            let mut body = Vec::new();
            res.on_data(move |res, chunk, last| {
                body.extend_from_slice(chunk);
                if last {
                    let text = String::from_utf8_lossy(&body).into_owned();
                    res.end(format!("post {i} {text}"));
                }
            });
        })
        .get("/stream/:i", |res, req| {
            let i = req.parameter(0).unwrap_or_default().to_owned();
            res.write("stream ");
            res.end(i);
        })
}

/// Request `i` of a mixed batch, and the body its answer must have.
fn mixed(i: usize) -> (String, String) {
    match i % 5 {
        1 => {
            let body = format!("cl-body-{i}");
            let req = format!(
                "POST /echo/{i} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            (req, format!("post {i} {body}"))
        }
        3 => {
            let req = format!(
                "POST /echo/{i} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
                 3;ext=1\r\nab{}\r\n4\r\n-xyz\r\n0\r\nTrailer: t\r\n\r\n",
                i % 10
            );
            (req, format!("post {i} ab{}-xyz", i % 10))
        }
        4 => (get(&format!("/stream/{i}")), format!("stream {i}")),
        _ => (get(&format!("/n/{i}")), format!("get {i}")),
    }
}

fn expect_in_order(c: &mut Client, want: &[String]) {
    for (i, want) in want.iter().enumerate() {
        let r: Response = c.response();
        assert_eq!(r.status, 200, "response {i}");
        assert_eq!(r.body_str(), want, "response {i}");
    }
    assert!(
        c.pending().is_empty(),
        "stray bytes: {:?}",
        String::from_utf8_lossy(c.pending())
    );
}

#[test]
fn hundred_gets_in_one_write_are_answered_in_order() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let batch: String = (0..100).map(|i| get(&format!("/n/{i}"))).collect();
    c.send(batch);
    let want: Vec<String> = (0..100).map(|i| format!("get {i}")).collect();
    expect_in_order(&mut c, &want);
    // The connection is still usable afterwards.
    assert_eq!(c.request(get("/n/x")).body_str(), "get x");
}

#[test]
fn gets_mixed_with_post_bodies_in_one_write() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let (reqs, want): (Vec<String>, Vec<String>) = (0..100).map(mixed).unzip();
    c.send(reqs.concat());
    expect_in_order(&mut c, &want);
}

#[test]
fn pipelined_bytes_split_at_every_kind_of_boundary() {
    let server = serve(app(), 1);
    let (reqs, want): (Vec<String>, Vec<String>) = (0..20).map(mixed).unzip();
    let wire = reqs.concat().into_bytes();
    for piece in [1, 2, 3, 7, 13, 64, 1000] {
        let mut c = Client::connect(server.local_addr());
        for part in wire.chunks(piece) {
            c.send(part);
        }
        expect_in_order(&mut c, &want);
    }
}

#[test]
fn head_requests_in_a_pipeline_keep_the_stream_in_sync() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    c.send("HEAD /n/1 HTTP/1.1\r\nHost: t\r\n\r\n")
        .send("HEAD /stream/2 HTTP/1.1\r\nHost: t\r\n\r\n")
        .send(get("/n/3"));
    let first = c.head_response();
    assert_eq!(first.header("content-length"), Some("5"));
    let second = c.head_response();
    assert_eq!(second.header("transfer-encoding"), Some("chunked"));
    assert_eq!(c.response().body_str(), "get 3");
    assert!(c.pending().is_empty());
}

#[test]
fn connection_close_in_a_pipeline_stops_there() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    c.send(get("/n/0"))
        .send("POST /echo/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx")
        .send("GET /n/2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .send(get("/n/3"))
        .send(get("/n/4"));
    assert_eq!(c.response().body_str(), "get 0");
    assert_eq!(c.response().body_str(), "post 1 x");
    let last = c.response();
    assert_eq!(last.body_str(), "get 2");
    assert_eq!(last.header("connection"), Some("close"));
    assert_eq!(
        c.read_until_close(),
        b"",
        "requests after Connection: close are not answered"
    );
}

#[test]
fn thousands_pipelined_while_reading_concurrently() {
    // More than the receive and cork buffers hold: the responses apply backpressure while
    // requests are still being written.
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    let (reqs, want): (Vec<String>, Vec<String>) = (0..3000).map(mixed).unzip();
    let mut writer = c.stream.try_clone().unwrap();
    let wire = reqs.concat();
    let sender = std::thread::spawn(move || writer.write_all(wire.as_bytes()));
    expect_in_order(&mut c, &want);
    sender.join().unwrap().expect("write the batch");
}
