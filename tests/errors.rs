//! The global error handler: panics in handlers, middleware, after hooks and the error handler
//! itself; `Result` errors; requests left unanswered. The loop and other connections go on.

mod support;

use std::io;
use std::sync::{Arc, Mutex};

use support::{Client, fetch, get, serve};
use uweb::{App, HandlerError, Router, Stage};

/// Panics with `message`. A closure whose body is only `panic!` has the type `!`, which is
/// not a handler return type; going through a function returning `()` keeps it one.
fn boom(message: &str) {
    panic!("{message}")
}

/// Routes that fail in every way, shared by the tests.
fn failing_routes(app: App) -> App {
    let guarded = Router::new()
        .middleware(|_res, req| {
            if req.header("x-fail").is_some() {
                return Err(io::Error::other("middleware refused"));
            }
            if req.header("x-panic").is_some() {
                panic!("middleware blew up");
            }
            Ok(())
        })
        .get("/handler", |res, _req| res.end("handler ran"));
    app.get("/ok", |res, _req| res.end("ok"))
        .get("/panic", |_res, _req| boom("handler blew up"))
        .get("/panic-string", |_res, req| {
            boom(&format!("blew up on {}", req.url()))
        })
        .get("/err", |_res, _req| -> Result<(), io::Error> {
            Err(io::Error::other("database is down"))
        })
        .get("/err-str", |_res, _req| -> Result<(), &str> {
            Err("plain text error")
        })
        .get("/silent", |_res, _req| {})
        .get("/half", |res, _req| {
            res.write_status("200 OK").write("partial");
            boom("mid-body");
        })
        .get("/answered-then-panic", |res, _req| {
            res.end("answered");
            boom("too late");
        })
        .nest("/guarded", guarded)
}

#[test]
fn default_handler_answers_500_and_the_connection_goes_on() {
    let server = serve(failing_routes(App::new()), 1);
    let mut client = Client::connect(server.local_addr());
    let headers =
        |name: &str| format!("GET /guarded/handler HTTP/1.1\r\nHost: t\r\n{name}: 1\r\n\r\n");
    // All pipelined in one write: every answer comes back, in order.
    let mut batch = String::new();
    for path in [
        "/ok",
        "/panic",
        "/panic-string",
        "/err",
        "/err-str",
        "/silent",
    ] {
        batch.push_str(&get(path));
    }
    batch.push_str(&headers("X-Fail"));
    batch.push_str(&headers("X-Panic"));
    batch.push_str(&get("/answered-then-panic"));
    batch.push_str(&get("/guarded/handler"));
    batch.push_str(&get("/ok"));
    client.send(batch);
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let res = client.response();
        statuses.push((res.status, res.body_str().to_owned()));
    }
    let e500 = (500, "Internal Server Error".to_owned());
    assert_eq!(
        statuses,
        [
            (200, "ok".to_owned()),
            e500.clone(),
            e500.clone(),
            e500.clone(),
            e500.clone(),
            e500.clone(),
            e500.clone(),
            e500.clone(),
            (200, "answered".to_owned()),
            (200, "handler ran".to_owned()),
            (200, "ok".to_owned()),
        ]
    );
    // A response already under way cannot become a 500: the connection is closed.
    let mut half = Client::connect(server.local_addr());
    half.send(get("/half"));
    assert!(half.is_closed());
    assert_eq!(fetch(server.local_addr(), get("/ok")).body_str(), "ok");
    server.shutdown();
}

/// What the error handler saw: (kind, stage, route, message, url from req).
type Seen = Arc<Mutex<Vec<String>>>;

fn describe(err: &HandlerError, url: Option<&str>) -> String {
    let kind = if err.is_panic() {
        "panic"
    } else if err.is_returned() {
        "returned"
    } else if err.is_unanswered() {
        "unanswered"
    } else {
        "other"
    };
    let detail = err
        .panic_message()
        .map(str::to_owned)
        .or_else(|| std::error::Error::source(err).map(|e| e.to_string()))
        .unwrap_or_default();
    let stage = match err.stage() {
        Stage::Middleware => "middleware",
        Stage::Handler => "handler",
        Stage::After => "after",
        Stage::OnData => "on_data",
        _ => "?",
    };
    format!(
        "{kind} {stage} {} {detail:?} {}",
        err.route().unwrap_or("-"),
        url.unwrap_or("-")
    )
}

#[test]
fn custom_handler_gets_the_error_the_response_and_the_request() {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let app = failing_routes(App::new()).on_error(move |err, res, req| {
        log.lock()
            .unwrap()
            .push(describe(err, req.map(|r| r.url())));
        if let Some(res) = res {
            res.write_status("503 Service Unavailable")
                .end(format!("sorry: {err}"));
        }
    });
    let server = serve(app, 1);
    let addr = server.local_addr();
    let cases = [
        (
            get("/panic"),
            "panic handler GET /panic \"handler blew up\" /panic",
            "sorry: handler panicked: handler blew up (route GET /panic)",
        ),
        (
            get("/panic-string"),
            "panic handler GET /panic-string \"blew up on /panic-string\" /panic-string",
            "sorry: handler panicked: blew up on /panic-string (route GET /panic-string)",
        ),
        (
            get("/err"),
            "returned handler GET /err \"database is down\" /err",
            "sorry: handler failed: database is down (route GET /err)",
        ),
        (
            get("/silent"),
            "unanswered handler GET /silent \"\" /silent",
            "sorry: handler returned without answering (route GET /silent)",
        ),
        (
            "GET /guarded/handler HTTP/1.1\r\nHost: t\r\nX-Panic: 1\r\n\r\n".to_owned(),
            "panic middleware GET /guarded/handler \"middleware blew up\" /guarded/handler",
            "sorry: middleware panicked: middleware blew up (route GET /guarded/handler)",
        ),
        (
            "GET /guarded/handler HTTP/1.1\r\nHost: t\r\nX-Fail: 1\r\n\r\n".to_owned(),
            "returned middleware GET /guarded/handler \"middleware refused\" /guarded/handler",
            "sorry: middleware failed: middleware refused (route GET /guarded/handler)",
        ),
    ];
    let mut client = Client::connect(addr);
    for (req, want_seen, want_body) in cases {
        let res = client.send(&req).response();
        assert_eq!((res.status, res.body_str()), (503, want_body), "{req:?}");
        assert_eq!(seen.lock().unwrap().pop().as_deref(), Some(want_seen));
    }
    // The response was already answered: the handler hears of it, the client keeps it.
    let res = client.send(get("/answered-then-panic")).response();
    assert_eq!((res.status, res.body_str()), (200, "answered"));
    let last = seen.lock().unwrap().pop().unwrap();
    assert!(last.starts_with("panic handler GET /answered-then-panic \"too late\""));
    server.shutdown();
}

#[test]
fn error_handler_that_does_not_answer_gets_the_500_fallback() {
    let app = failing_routes(App::new()).on_error(|_err, _res, _req| {});
    let server = serve(app, 1);
    let mut client = Client::connect(server.local_addr());
    for path in ["/panic", "/err", "/silent", "/ok"] {
        let res = client.send(get(path)).response();
        let want = if path == "/ok" { 200 } else { 500 };
        assert_eq!(res.status, want, "{path}");
    }
    server.shutdown();
}

#[test]
fn panicking_error_handler_closes_only_its_connection() {
    let app = failing_routes(App::new()).on_error(|err, _res, _req| {
        panic!("error handler blew up too, after: {err}");
    });
    // One loop: every connection shares the thread the panics happen on.
    let server = serve(app, 1);
    let addr = server.local_addr();
    let mut bystander = Client::connect(addr);
    bystander.send(format!("{}{}", get("/ok"), get("/ok")));
    let mut victim = Client::connect(addr);
    victim.send(format!("{}{}{}", get("/ok"), get("/panic"), get("/ok")));
    let first = victim.response();
    assert_eq!((first.status, first.body_str()), (200, "ok"));
    assert!(victim.is_closed(), "the failing connection is closed");
    // The other connection's pipelined requests are all answered, and it keeps working.
    bystander.send(get("/ok"));
    for _ in 0..3 {
        assert_eq!(bystander.response().body_str(), "ok");
    }
    // And the loop still accepts and serves.
    assert_eq!(fetch(addr, get("/ok")).body_str(), "ok");
    let mut again = Client::connect(addr);
    again.send(get("/err"));
    assert!(again.is_closed());
    server.shutdown();
}

#[test]
fn after_hook_failures_are_reported_and_the_answer_stands() {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let group = Router::new()
        .after(|_res, _req| -> Result<(), &str> { Err("hook failed") })
        .after(|_res, _req| boom("never reached: the first failure ends the hooks"))
        .get("/x", |res, _req| res.end("x"));
    let app = App::new()
        .nest("/g", group)
        .after(|_res, req| {
            if req.url() == "/boom" {
                panic!("app hook blew up");
            }
        })
        .get("/boom", |res, _req| res.end("boom answered"))
        .on_error(move |err, _res, req| {
            log.lock()
                .unwrap()
                .push(describe(err, req.map(|r| r.url())));
        });
    let server = serve(app, 1);
    let mut client = Client::connect(server.local_addr());
    assert_eq!(client.send(get("/g/x")).response().body_str(), "x");
    assert_eq!(
        client.send(get("/boom")).response().body_str(),
        "boom answered"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "returned after GET /g/x \"hook failed\" /g/x",
            "panic after GET /boom \"app hook blew up\" /boom",
        ]
    );
    server.shutdown();
}

#[test]
fn unanswered_after_the_body_reaches_the_handler_without_a_request() {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let app = App::new()
        .post("/upload", |res, _req| {
            // Reads the body but never answers.
            res.on_data(|_res, _chunk, _last| {});
        })
        .on_error(move |err, res, req| {
            log.lock()
                .unwrap()
                .push(describe(err, req.map(|r| r.url())));
            if let Some(res) = res {
                res.write_status("500 Internal Server Error").end("forgot");
            }
        });
    let server = serve(app, 1);
    let mut client = Client::connect(server.local_addr());
    client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    let res = client.response();
    assert_eq!((res.status, res.body_str()), (500, "forgot"));
    assert_eq!(*seen.lock().unwrap(), ["unanswered handler - \"\" -"]);
    server.shutdown();
}

#[test]
fn on_data_panics_reach_the_error_handler() {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let app = App::new()
        .post("/upload", |res, _req| {
            res.on_data(|_res, _chunk, last| {
                if last {
                    boom("body reader blew up");
                }
            });
        })
        .get("/ok", |res, _req| res.end("ok"))
        .on_error(move |err, res, req| {
            log.lock()
                .unwrap()
                .push(describe(err, req.map(|r| r.url())));
            if let Some(res) = res {
                res.write_status("500 Internal Server Error")
                    .end("body failed");
            }
        });
    let server = serve(app, 1);
    let mut client = Client::connect(server.local_addr());
    client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
    let res = client.response();
    assert_eq!((res.status, res.body_str()), (500, "body failed"));
    assert_eq!(
        *seen.lock().unwrap(),
        ["panic on_data - \"body reader blew up\" -"]
    );
    assert_eq!(client.send(get("/ok")).response().body_str(), "ok");
    server.shutdown();
}
