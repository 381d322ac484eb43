//! The built-in fallback: 404, 405 with `Allow`, HEAD via GET, and 500 for handlers that do not
//! answer, panic or fail, after which the server keeps serving.

mod support;

use std::collections::BTreeSet;

use support::{Client, Log, get, serve};
use uweb::App;

fn allow_set(allow: Option<&str>) -> BTreeSet<String> {
    allow
        .expect("Allow field")
        .split(',')
        .map(|m| m.trim().to_owned())
        .collect()
}

fn set(methods: &[&str]) -> BTreeSet<String> {
    methods.iter().map(|m| (*m).to_owned()).collect()
}

#[test]
fn nothing_matched_is_404_and_the_connection_stays() {
    let server = serve(App::new().get("/x", |res, _req| res.end("x")), 1);
    let mut c = Client::connect(server.local_addr());
    for target in ["/", "/y", "/x/", "/x/y", "*"] {
        let r = c.request(format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n"));
        assert_eq!(r.status, 404, "{target}");
        assert_eq!(r.header("connection"), None);
        assert!(r.header("date").is_some());
    }
    assert_eq!(c.request(get("/x")).body_str(), "x");
}

#[test]
fn all_yielded_is_404() {
    let log = Log::default();
    let (l1, l2) = (log.clone(), log.clone());
    let app = App::new()
        .get("/a", move |_res, req| {
            l1.push("get");
            req.set_yield(true);
        })
        .get("/*", move |_res, req| {
            l2.push("get-star");
            req.set_yield(true);
        });
    let server = serve(app, 1);
    let mut c = Client::connect(server.local_addr());
    // The GET routes matched (and yielded): GET is allowed here, so this is no 405.
    let r = c.request(get("/a"));
    assert_eq!(log.take(), ["get", "get-star"]);
    assert_eq!(r.status, 404, "Allow: {:?}", r.header("allow"));
    assert_eq!(r.header("allow"), None);
}

#[test]
fn all_yielded_with_an_any_route_is_404() {
    let app = App::new()
        .post("/x", |res, _req| res.end("post"))
        .any("/x", |_res, req| req.set_yield(true));
    let server = serve(app, 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(get("/x"));
    assert_eq!(r.status, 404);
    assert_eq!(r.header("allow"), None);
}

#[test]
fn only_other_methods_match_is_405_with_allow() {
    let app = App::new()
        .post("/x", |res, _req| res.end("post"))
        .put("/x", |res, _req| res.end("put"))
        .method("PROPFIND", "/:any", |res, _req| res.end("propfind"))
        .get("/g/*", |res, _req| res.end("get"))
        .delete("/g/:id", |res, _req| res.end("delete"));
    let server = serve(app, 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(get("/x"));
    assert_eq!(r.status, 405);
    assert_eq!(
        allow_set(r.header("allow")),
        set(&["POST", "PUT", "PROPFIND"])
    );
    assert!(r.header("date").is_some());
    // GET routes allow HEAD too.
    let r = c.request("POST /g/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.status, 405);
    assert_eq!(
        allow_set(r.header("allow")),
        set(&["GET", "HEAD", "DELETE"])
    );
    // An unknown method token is no different.
    let r = c.request("FOO /g/1 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 405);
    assert_eq!(
        allow_set(r.header("allow")),
        set(&["GET", "HEAD", "DELETE"])
    );
    // Nothing for the path at all: 404, no Allow.
    let r = c.request("POST /nothing/here HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    assert_eq!((r.status, r.header("allow")), (404, None));
    // The connection is still fine after 405s.
    assert_eq!(
        c.request("PUT /x HTTP/1.1\r\nHost: t\r\n\r\n").body_str(),
        "put"
    );
}

#[test]
fn allow_lists_each_method_once() {
    let app = App::new()
        .get("/x", |res, _req| res.end("get"))
        .head("/x", |res, _req| res.end_without_body(Some(3)));
    let server = serve(app, 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request("DELETE /x HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(r.status, 405);
    let allow = r.header("allow").expect("Allow").to_owned();
    let listed: Vec<&str> = allow.split(',').map(str::trim).collect();
    assert_eq!(
        listed.len(),
        allow_set(Some(&allow)).len(),
        "duplicates in Allow: {allow}"
    );
    assert_eq!(allow_set(Some(&allow)), set(&["GET", "HEAD"]));
}

#[test]
fn head_falls_back_to_get_without_body_keeping_content_length() {
    let log = Log::default();
    let l = log.clone();
    let app = App::new().get("/text", move |res, req| {
        l.push(req.method());
        res.write_header("X-Kind", "text").end("eleven char");
    });
    let server = serve(app, 1);
    let mut c = Client::connect(server.local_addr());
    c.send("HEAD /text HTTP/1.1\r\nHost: t\r\n\r\n")
        .send(get("/text"));
    let head = c.head_response();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("11"));
    assert_eq!(head.header("x-kind"), Some("text"));
    // The GET behind it parses cleanly: the HEAD response carried no body.
    let r = c.response();
    assert_eq!(r.body_str(), "eleven char");
    assert!(c.pending().is_empty());
    assert_eq!(log.take(), ["HEAD", "GET"]);
    // HEAD of an unknown path is a body-less 404.
    c.send("HEAD /nope HTTP/1.1\r\nHost: t\r\n\r\n")
        .send(get("/text"));
    assert_eq!(c.head_response().status, 404);
    assert_eq!(c.response().body_str(), "eleven char");
}

/// Panics; returns `()` so that handlers calling it return `()` too.
fn boom(message: &str) {
    panic!("{message}");
}

fn failing_app() -> App {
    App::new()
        .get("/ok", |res, _req| res.end("ok"))
        .get("/silent", |_res, _req| {})
        .get("/panic", |_res, _req| {
            boom("handler panic (expected by the test)")
        })
        .get("/panic-late", |res, _req| {
            res.write_header("X-Started", "1");
            boom("late handler panic (expected by the test)");
        })
        .get("/err", |_res, _req| -> Result<(), std::io::Error> {
            Err(std::io::Error::other(
                "handler error (expected by the test)",
            ))
        })
        .get("/err-ok", |res, _req| -> Result<(), std::io::Error> {
            res.end("fine");
            Ok(())
        })
        .post("/panic-on-data", |res, _req| {
            res.on_data(|_res, _chunk, last| {
                if last {
                    panic!("on_data panic (expected by the test)");
                }
            });
        })
}

#[test]
fn handler_without_response_gets_500_and_the_connection_goes_on() {
    let server = serve(failing_app(), 1);
    let mut c = Client::connect(server.local_addr());
    for _ in 0..3 {
        let r = c.request(get("/silent"));
        assert_eq!(r.status, 500);
        assert_eq!(r.header("connection"), None);
        assert_eq!(c.request(get("/ok")).body_str(), "ok");
    }
}

#[test]
fn panicking_handler_gets_500_and_the_server_keeps_serving() {
    let server = serve(failing_app(), 1);
    let addr = server.local_addr();
    let mut other = Client::connect(addr);
    assert_eq!(other.request(get("/ok")).body_str(), "ok");
    let mut c = Client::connect(addr);
    for _ in 0..3 {
        assert_eq!(c.request(get("/panic")).status, 500);
        assert_eq!(c.request(get("/ok")).body_str(), "ok");
        assert_eq!(other.request(get("/ok")).body_str(), "ok");
    }
    // A panic after the response started cannot become a 500: that connection closes, the
    // others go on.
    c.send(get("/panic-late"));
    assert!(c.is_closed());
    assert_eq!(other.request(get("/ok")).body_str(), "ok");
    assert_eq!(Client::connect(addr).request(get("/ok")).body_str(), "ok");
}

#[test]
fn handler_returning_err_gets_500() {
    let server = serve(failing_app(), 1);
    let mut c = Client::connect(server.local_addr());
    let r = c.request(get("/err"));
    assert_eq!(r.status, 500);
    assert_eq!(c.request(get("/err-ok")).body_str(), "fine");
    assert_eq!(c.request(get("/ok")).body_str(), "ok");
}

#[test]
fn panic_in_on_data_gets_500_and_the_server_keeps_serving() {
    let server = serve(failing_app(), 1);
    let addr = server.local_addr();
    let mut other = Client::connect(addr);
    assert_eq!(other.request(get("/ok")).body_str(), "ok");
    let mut c = Client::connect(addr);
    c.send("POST /panic-on-data HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
    let r = c.response();
    assert_eq!(r.status, 500);
    assert_eq!(other.request(get("/ok")).body_str(), "ok");
    assert_eq!(Client::connect(addr).request(get("/ok")).body_str(), "ok");
}
