//! Conditional requests: `If-None-Match` and `If-Modified-Since` (304), `If-Match` and
//! `If-Unmodified-Since` (412), `If-Range`.

use std::time::{Duration, SystemTime};

use crate::fixture::{DIGITS, Fixture, HELLO, ask, etag_of, turn};
use crate::support::{Client, request};

#[test]
fn if_none_match_gives_304() {
    let _turn = turn();
    let fixture = Fixture::new();
    let server = fixture.serve();
    let full = ask(&server, "GET", "/static/hello.txt", &[]);
    let etag = etag_of(&full);
    let weak = format!("W/{etag}");
    let listed = format!("\"nope\", {etag}");
    let mut client = Client::connect(server.local_addr());
    for value in [etag.as_str(), &weak, &listed, "*"] {
        let resp = client.request(request(
            "GET",
            "/static/hello.txt",
            &[("If-None-Match", value)],
        ));
        assert_eq!(resp.status, 304, "{value}");
        assert!(resp.body.is_empty(), "{value}");
        assert_eq!(resp.header("etag"), Some(etag.as_str()));
        assert_eq!(resp.header("last-modified"), full.header("last-modified"));
        assert_eq!(resp.header("content-length"), None);
    }
    // The connection goes on after the body-less 304s.
    for value in ["\"nope\"", "garbage"] {
        let resp = client.request(request(
            "GET",
            "/static/hello.txt",
            &[("If-None-Match", value)],
        ));
        assert_eq!((resp.status, resp.body_str()), (200, HELLO), "{value}");
    }
    server.shutdown();
}

#[test]
fn if_modified_since_gives_304_unless_if_none_match_differs() {
    let _turn = turn();
    let fixture = Fixture::new();
    let server = fixture.serve();
    let modified = fixture.last_modified("hello.txt");
    let hour_ago = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(3600));
    let mut client = Client::connect(server.local_addr());
    let ask = |client: &mut Client, fields: &[(&str, &str)]| {
        client.request(request("GET", "/static/hello.txt", fields))
    };
    let resp = ask(&mut client, &[("If-Modified-Since", &modified)]);
    assert_eq!(resp.status, 304);
    assert!(resp.body.is_empty());
    assert_eq!(resp.header("last-modified"), Some(modified.as_str()));
    assert!(resp.header("etag").is_some());
    let resp = ask(&mut client, &[("If-Modified-Since", &hour_ago)]);
    assert_eq!((resp.status, resp.body_str()), (200, HELLO));
    let resp = ask(&mut client, &[("If-Modified-Since", "not a date")]);
    assert_eq!(resp.status, 200);
    // If-None-Match takes precedence: a tag that differs means the file is sent.
    let fields = [
        ("If-None-Match", "\"other\""),
        ("If-Modified-Since", &modified),
    ];
    assert_eq!(ask(&mut client, &fields).status, 200);
    server.shutdown();
}

#[test]
fn if_match_and_if_unmodified_since_give_412() {
    let _turn = turn();
    let fixture = Fixture::new();
    let server = fixture.serve();
    let etag = etag_of(&ask(&server, "GET", "/static/hello.txt", &[]));
    let hour_ago = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(3600));
    let failed = [
        ("If-Match", "\"other\""),
        ("If-Match", &format!("W/{etag}")),
        ("If-Unmodified-Since", &hour_ago),
    ];
    for field in failed {
        let resp = ask(&server, "GET", "/static/hello.txt", &[field]);
        assert_eq!(resp.status, 412, "{field:?}");
        assert!(resp.body.is_empty());
    }
    let modified = fixture.last_modified("hello.txt");
    for field in [
        ("If-Match", etag.as_str()),
        ("If-Match", "*"),
        ("If-Unmodified-Since", &modified),
    ] {
        let resp = ask(&server, "GET", "/static/hello.txt", &[field]);
        assert_eq!((resp.status, resp.body_str()), (200, HELLO), "{field:?}");
    }
    server.shutdown();
}

#[test]
fn if_range_is_honoured() {
    let _turn = turn();
    let fixture = Fixture::new();
    let server = fixture.serve();
    let etag = etag_of(&ask(&server, "GET", "/static/digits.txt", &[]));
    let modified = fixture.last_modified("digits.txt");
    let hour_ago = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(3600));
    let weak = format!("W/{etag}");
    for (if_range, status) in [
        (etag.as_str(), 206),
        (modified.as_str(), 206),
        ("\"changed\"", 200),
        (weak.as_str(), 200),
        (hour_ago.as_str(), 200),
    ] {
        let fields = [("Range", "bytes=0-9"), ("If-Range", if_range)];
        let resp = ask(&server, "GET", "/static/digits.txt", &fields);
        assert_eq!(resp.status, status, "{if_range}");
        let body = if status == 206 { &DIGITS[..10] } else { DIGITS };
        assert_eq!(resp.body_str(), body, "{if_range}");
    }
    server.shutdown();
}
