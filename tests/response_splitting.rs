//! Response splitting (RFC 9110 sections 5.1 and 5.5, RFC 9112 section 4): a status line or
//! header field with CR, LF or NUL in it, or a field name that is not a token, never reaches
//! the wire. The response is discarded, the error handler hears of it, the client gets `500`
//! (or, when the response had already left, a closed connection), and the connection goes on.

mod support;

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Client, DEADLINE, Response, get, serve};
use uweb::{App, HandlerError, Router, Stage, WebSocketBehavior};

/// The field every attack tries to add to the response.
const INJECTED: &str = "a\r\nInjected: value";

/// Handlers that each write one bad status or field, then end with a body that must not
/// reach the client either.
fn attacks(app: App) -> App {
    app.get("/value-crlf", |res, _req| {
        res.write_header("X-Test", INJECTED).end("handler body");
    })
    .get("/value-lf", |res, _req| {
        res.write_header("X-Test", "a\nInjected: value")
            .end("handler body");
    })
    .get("/value-cr", |res, _req| {
        res.write_header("X-Test", "a\rInjected: value")
            .end("handler body");
    })
    .get("/value-nul", |res, _req| {
        res.write_header("X-Test", "a\0Injected: value")
            .end("handler body");
    })
    .get("/name-crlf", |res, _req| {
        res.write_header("X-Test\r\nInjected", "value")
            .end("handler body");
    })
    .get("/name-space", |res, _req| {
        res.write_header("X-Test Injected", "value")
            .end("handler body");
    })
    .get("/name-colon", |res, _req| {
        res.write_header("X-Test: Injected", "value")
            .end("handler body");
    })
    .get("/name-empty", |res, _req| {
        res.write_header("", "Injected: value").end("handler body");
    })
    .get("/status-crlf", |res, _req| {
        res.write_status("200 OK\r\nInjected: value")
            .end("handler body");
    })
    .get("/valid-then-bad", |res, _req| {
        res.write_status("201 Created")
            .write_header("X-Valid", "fine")
            .write_header("X-Test", INJECTED)
            .write_header("X-After", "ignored")
            .end("handler body");
    })
    // What the handler does after the refusal does not bring the response back.
    .get("/bad-then-write", |res, _req| {
        res.write_header("X-Test", INJECTED);
        res.write("handler body");
        res.end("handler body");
    })
    .get("/bad-then-panic", |res, _req| {
        res.write_header("X-Test", INJECTED);
        boom();
    })
    .get("/bad-then-yield", |res, req| {
        res.write_header("X-Test", INJECTED);
        req.set_yield(true);
    })
    .any("/bad-then-yield", |res, _req| res.end("handler body"))
    .nest(
        "/guarded",
        Router::new()
            .middleware(|res, _req| {
                res.write_header("X-Test", INJECTED);
            })
            .get("/handler", |res, _req| res.end("handler body")),
    )
}

/// Panics (a closure whose body is only `panic!` is not a handler).
fn boom() {
    panic!("after the refusal")
}

/// The attack routes, plus plain routes, `on_data` routes and WebSocket routes.
fn app() -> App {
    attacks(App::new())
        .get("/ok", |res, _req| {
            res.write_header("Content-Type", "text/plain; charset=utf-8")
                .end("ok");
        })
        .get("/obs-text", |res, _req| {
            res.write_header("X-Obs", "a\tb \u{e9}~").end("obs");
        })
        // The status line leaves with the handler; the bad field comes with the body.
        .post("/on-data-started", |res, _req| {
            res.write_status("200 OK").write_header("X-Valid", "fine");
            res.on_data(|res, _chunk, last| {
                if last {
                    res.write_header("X-Test", INJECTED).end("handler body");
                }
            });
        })
        // The whole response is written by `on_data`.
        .post("/on-data-fresh", |res, _req| {
            res.on_data(|res, _chunk, last| {
                if last {
                    res.write_header("X-Valid", "fine")
                        .write_header("X-Test", INJECTED)
                        .end("handler body");
                }
            });
        })
        .ws::<()>(
            "/ws-header",
            WebSocketBehavior::new().upgrade(|res, _req, mut ctx| {
                ctx.write_header("X-Test", INJECTED);
                res.upgrade((), ctx);
            }),
        )
        .ws::<()>(
            "/ws-name",
            WebSocketBehavior::new().upgrade(|res, _req, mut ctx| {
                ctx.write_header("X-Test\r\nInjected", "value");
                res.upgrade((), ctx);
            }),
        )
        .ws::<()>(
            "/ws-protocol",
            WebSocketBehavior::new().upgrade(|res, _req, mut ctx| {
                ctx.select_protocol("chat\r\nInjected: value");
                res.upgrade((), ctx);
            }),
        )
        .ws::<()>(
            "/ws-ok",
            WebSocketBehavior::new().upgrade(|res, _req, mut ctx| {
                ctx.select_protocol("chat").write_header("X-Room", "lobby");
                res.upgrade((), ctx);
            }),
        )
}

/// A WebSocket handshake for `path`.
fn handshake(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// True if `raw` holds a line starting with `name` followed by `:` (any case).
fn has_line(raw: &[u8], name: &str) -> bool {
    let text = String::from_utf8_lossy(raw).to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    text.split(['\r', '\n', '\0'])
        .any(|line| line.trim_start().starts_with(&format!("{name}:")))
}

/// Asserts that nothing of the refused response reached the client.
fn assert_nothing_leaked(raw: &[u8], what: &str) {
    let text = String::from_utf8_lossy(raw);
    assert!(
        !has_line(raw, "Injected"),
        "{what}: injected field on the wire: {text:?}"
    );
    assert!(
        !has_line(raw, "X-Test"),
        "{what}: refused field on the wire: {text:?}"
    );
    assert!(
        !text.contains("Injected"),
        "{what}: injected text on the wire: {text:?}"
    );
    assert!(
        !text.contains("handler body"),
        "{what}: handler body on the wire: {text:?}"
    );
    assert!(
        !has_line(raw, "X-Valid"),
        "{what}: earlier field kept: {text:?}"
    );
    assert!(
        !has_line(raw, "X-After"),
        "{what}: later field written: {text:?}"
    );
    assert!(!text.contains(" 101 "), "{what}: upgraded: {text:?}");
}

/// Asserts a default `500` with nothing of the refused response in it.
fn assert_500(res: &Response, what: &str) {
    assert_nothing_leaked(&res.raw, what);
    assert_eq!(
        (res.status, res.body_str()),
        (500, "Internal Server Error"),
        "{what}: {:?}",
        String::from_utf8_lossy(&res.raw)
    );
}

/// Asserts the connection still serves requests: `GET /ok` gets its `200`.
fn assert_serves(client: &mut Client, what: &str) {
    let res = client.request(get("/ok"));
    assert_eq!(
        (res.status, res.body_str()),
        (200, "ok"),
        "{what}: next request"
    );
}

const ATTACKS: [&str; 14] = [
    "/value-crlf",
    "/value-lf",
    "/value-cr",
    "/value-nul",
    "/name-crlf",
    "/name-space",
    "/name-colon",
    "/name-empty",
    "/status-crlf",
    "/valid-then-bad",
    "/bad-then-write",
    "/bad-then-panic",
    "/bad-then-yield",
    "/guarded/handler",
];

#[test]
fn refused_fields_give_500_and_the_connection_goes_on() {
    let server = serve(app(), 1);
    let addr = server.local_addr();
    // Every case on its own connection, so one failure does not hide the others.
    let failed: Vec<&str> = ATTACKS
        .into_iter()
        .filter(|path| {
            std::panic::catch_unwind(|| {
                let mut client = Client::connect(addr);
                let res = client.request(get(path));
                assert_500(&res, path);
                assert_serves(&mut client, path);
            })
            .is_err()
        })
        .collect();
    assert!(failed.is_empty(), "failed: {failed:?}");
    server.shutdown();
}

#[test]
fn valid_fields_go_through_unchanged() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    let res = client.request(get("/ok"));
    assert_eq!(res.status, 200);
    assert_eq!(
        res.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    // HTAB, SP, obs-text (bytes >= 0x80) and are not CR, LF or NUL: written as given.
    let res = client.request(get("/obs-text"));
    assert_eq!((res.status, res.body_str()), (200, "obs"));
    let want = "X-Obs: a\tb \u{e9}~\r\n".as_bytes();
    assert!(
        res.raw.windows(want.len()).any(|w| w == want),
        "{:?}",
        String::from_utf8_lossy(&res.raw)
    );
    server.shutdown();
}

/// What the error handler saw: (field, stage, route, url).
type Seen = Arc<Mutex<Vec<(Option<String>, Stage, Option<String>, Option<String>)>>>;

#[test]
fn the_error_handler_hears_the_refused_field() {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let app = app().on_error(move |err: &HandlerError, res, req| {
        assert!(err.is_invalid_field(), "{err}");
        assert!(!err.is_panic() && !err.is_returned() && !err.is_unanswered());
        log.lock().unwrap().push((
            err.field().map(str::to_owned),
            err.stage(),
            err.route().map(str::to_owned),
            req.map(|r| r.url().to_owned()),
        ));
        let Some(res) = res else { return };
        match req.map(|r| r.url()) {
            // The refused response is gone: the error handler may answer afresh.
            Some("/value-cr") => res
                .write_status("503 Service Unavailable")
                .end(err.to_string()),
            // An error handler writing a bad field itself: still a 500, still nothing leaks.
            Some("/value-lf") => res.write_header("X-Test", INJECTED).end("handler body"),
            _ => {}
        }
    });
    let server = serve(app, 1);
    let mut client = Client::connect(server.local_addr());

    let res = client.request(get("/value-crlf"));
    assert_500(&res, "/value-crlf");
    let entry = seen.lock().unwrap().pop().expect("error handler called");
    assert_eq!(
        entry,
        (
            Some("X-Test".to_owned()),
            Stage::Handler,
            Some("GET /value-crlf".to_owned()),
            Some("/value-crlf".to_owned())
        )
    );

    let res = client.request(get("/status-crlf"));
    assert_500(&res, "/status-crlf");
    let entry = seen.lock().unwrap().pop().unwrap();
    assert_eq!(entry.0.as_deref(), Some(":status"));

    let res = client.request(get("/guarded/handler"));
    assert_500(&res, "/guarded/handler");
    let entry = seen.lock().unwrap().pop().unwrap();
    assert_eq!(
        (entry.0.as_deref(), entry.1),
        (Some("X-Test"), Stage::Middleware)
    );

    // The name is escaped in `field()`.
    let res = client.request(get("/name-crlf"));
    assert_500(&res, "/name-crlf");
    let entry = seen.lock().unwrap().pop().unwrap();
    assert_eq!(entry.0.as_deref(), Some("X-Test\\r\\nInjected"));

    let res = client.request(get("/value-cr"));
    assert_nothing_leaked(&res.raw, "/value-cr");
    assert_eq!(res.status, 503);
    assert_eq!(
        res.body_str(),
        "handler wrote field X-Test with CR, LF or NUL or a name that is not a token; \
         response discarded (route GET /value-cr)"
    );
    seen.lock().unwrap().clear();

    let res = client.request(get("/value-lf"));
    assert_500(&res, "/value-lf");
    assert_eq!(seen.lock().unwrap().len(), 1, "reported once");
    seen.lock().unwrap().clear();

    // WebSocket upgrades report the field too.
    let res = client.request(handshake("/ws-protocol"));
    assert_500(&res, "/ws-protocol");
    let entry = seen.lock().unwrap().pop().unwrap();
    assert_eq!(entry.0.as_deref(), Some("Sec-WebSocket-Protocol"));
    assert_eq!(entry.2.as_deref(), Some("GET /ws-protocol"));

    // `on_data`: the route is gone by then.
    let res = client.request(post("/on-data-fresh", "hello"));
    assert_500(&res, "/on-data-fresh");
    let entry = seen.lock().unwrap().pop().unwrap();
    assert_eq!(
        (entry.0.as_deref(), entry.1),
        (Some("X-Test"), Stage::OnData)
    );
    assert_serves(&mut client, "after all");
    server.shutdown();
}

#[test]
fn pipelined_responses_before_the_refused_one_stay_intact() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    // One write: the first answer is in the same output buffer as the refused one.
    client.send(format!(
        "{}{}{}",
        get("/ok"),
        get("/valid-then-bad"),
        get("/ok")
    ));
    let first = client.response();
    assert_eq!((first.status, first.body_str()), (200, "ok"));
    assert_eq!(
        first.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(
        first
            .raw
            .starts_with(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n")
    );
    let second = client.response();
    assert_500(&second, "pipelined /valid-then-bad");
    let third = client.response();
    assert_eq!((third.status, third.body_str()), (200, "ok"));
    assert_serves(&mut client, "pipelined");
    server.shutdown();
}

/// A POST of `body` to `path`.
fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// How the server answered: a whole response, or a close (with what came before it).
enum Outcome {
    Response(Response),
    Closed(Vec<u8>),
}

/// Reads one whole response or everything until the server closes, whichever comes first.
fn response_or_close(client: &mut Client) -> Outcome {
    let deadline = Instant::now() + DEADLINE;
    let mut buf = client.pending().to_vec();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((mut res, used)) = Response::parse(&buf) {
            res.raw = buf[..used].to_vec();
            assert_eq!(used, buf.len(), "unexpected bytes after the response");
            return Outcome::Response(res);
        }
        assert!(
            Instant::now() < deadline,
            "no response and no close in time"
        );
        match client.stream.read(&mut chunk) {
            Ok(0) => return Outcome::Closed(buf),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Outcome::Closed(buf);
            }
            Err(e) => panic!("read failed: {e}; have {:?}", String::from_utf8_lossy(&buf)),
        }
    }
}

#[test]
fn a_response_written_by_on_data_is_discarded() {
    let server = serve(app(), 1);
    // Written by `on_data` alone: discarded, 500, keep-alive.
    let mut client = Client::connect(server.local_addr());
    let res = client.request(post("/on-data-fresh", "hello"));
    assert_500(&res, "/on-data-fresh");
    assert_serves(&mut client, "/on-data-fresh");
    server.shutdown();
}

#[test]
fn a_response_started_by_the_handler_is_closed_when_on_data_is_refused() {
    let server = serve(app(), 1);
    // The status line was written by the handler: it may already have left, so the
    // connection closes (a 500 would do too); the bad field never leaves.
    for split in [false, true] {
        let mut client = Client::connect(server.local_addr());
        let request = post("/on-data-started", "hello");
        if split {
            // The head alone first: the handler's status line is flushed before the body.
            let (head, body) = request.split_at(request.len() - 5);
            client.send(head);
            std::thread::sleep(Duration::from_millis(100));
            client.send(body);
        } else {
            client.send(request);
        }
        match response_or_close(&mut client) {
            Outcome::Response(res) => {
                assert_500(&res, "/on-data-started");
                assert_serves(&mut client, "/on-data-started");
            }
            Outcome::Closed(raw) => {
                let text = String::from_utf8_lossy(&raw);
                assert!(!has_line(&raw, "Injected"), "{text:?}");
                assert!(!has_line(&raw, "X-Test"), "{text:?}");
                assert!(!text.contains("handler body"), "{text:?}");
                // At most the head the handler started, never a complete response.
                assert!(!text.contains("\r\n\r\n"), "{text:?}");
            }
        }
    }
    server.shutdown();
}

#[test]
fn upgrades_with_refused_fields_are_not_carried_out() {
    let server = serve(app(), 1);
    let addr = server.local_addr();
    let failed: Vec<&str> = ["/ws-header", "/ws-name", "/ws-protocol"]
        .into_iter()
        .filter(|path| {
            std::panic::catch_unwind(|| {
                let mut client = Client::connect(addr);
                let res = client.request(handshake(path));
                assert_500(&res, path);
                // Not upgraded: the connection still speaks HTTP.
                assert_serves(&mut client, path);
            })
            .is_err()
        })
        .collect();
    assert!(failed.is_empty(), "failed: {failed:?}");
    // Valid fields still upgrade.
    let mut client = Client::connect(addr);
    client.send(handshake("/ws-ok"));
    let head = client.head_response();
    assert_eq!(head.status, 101, "{:?}", String::from_utf8_lossy(&head.raw));
    assert_eq!(head.header("Sec-WebSocket-Protocol"), Some("chat"));
    assert_eq!(head.header("X-Room"), Some("lobby"));
    drop(client);
    server.shutdown();
}

#[test]
fn route_methods_must_be_tokens() {
    // The 405 fallback lists route methods in `Allow`: a method with CR LF in it would be an
    // injected field there. Requests only carry tokens, so such a route could never match.
    for method in ["GET\r\nInjected: value", "GET POST", "", "G:ET"] {
        let app =
            std::panic::catch_unwind(|| App::new().method(method, "/a", |res, _req| res.end("")));
        assert!(app.is_err(), "{method:?}");
        let router = std::panic::catch_unwind(|| {
            Router::new().method(method, "/a", |res, _req| res.end(""))
        });
        assert!(router.is_err(), "{method:?}");
    }
    let server = serve(
        App::new()
            .method("PROPFIND", "/a", |res, _req| res.end("propfind"))
            .put("/a", |res, _req| res.end("put")),
        1,
    );
    let res = Client::connect(server.local_addr()).request(get("/a"));
    assert_eq!(res.status, 405);
    assert_eq!(res.header("Allow"), Some("PROPFIND, PUT"));
    server.shutdown();
}
