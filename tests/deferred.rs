//! Answering later: responses taken out of the handler with `res.defer()` and answered from
//! another thread, a pool, or the loop itself (`LoopHandle::defer`); clients that leave first
//! (`on_aborted`); handles dropped unanswered; pipelined requests behind a deferred one;
//! owned request copies; whole bodies (`on_body`, `on_json`).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use support::{Client, DEADLINE, Log, get, request, serve, wait_until};
use uweb::{App, DeferredResponse, OwnedRequest};

#[test]
fn a_thread_answers_with_status_fields_and_body() {
    let server = serve(
        App::new().get("/user/:id", |res, req| {
            let req = req.to_owned();
            let mut later = res.defer();
            std::thread::spawn(move || {
                let id = req.parameter("id").unwrap_or_default().to_owned();
                later
                    .write_status("201 Created")
                    .write_header("Content-Type", "application/json")
                    .write_header("X-Agent", req.header("user-agent").unwrap_or("").to_owned());
                assert!(later.end(format!("{{\"id\":\"{id}\"}}")));
            });
        }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    for id in ["7", "42"] {
        let resp = client.request(request(
            "GET",
            &format!("/user/{id}"),
            &[("User-Agent", "probe")],
        ));
        assert_eq!(resp.status, 201);
        assert_eq!(resp.header("content-type"), Some("application/json"));
        assert_eq!(resp.header("x-agent"), Some("probe"));
        assert_eq!(resp.body_str(), format!("{{\"id\":\"{id}\"}}"));
    }
    server.shutdown();
}

#[test]
fn a_pool_answers_a_thousand_requests_in_order_per_connection() {
    const CONNECTIONS: usize = 200;
    const PER_CONNECTION: usize = 5;
    let (jobs, inbox) = mpsc::channel::<(OwnedRequest, DeferredResponse)>();
    let inbox = Arc::new(Mutex::new(inbox));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let inbox = Arc::clone(&inbox);
            std::thread::spawn(move || {
                loop {
                    let job = inbox.lock().unwrap().recv();
                    let Ok((req, later)) = job else { return };
                    later.end(req.query().to_owned());
                }
            })
        })
        .collect();
    let jobs = Mutex::new(jobs);
    let server = serve(
        App::new().get("/job", move |res, req| {
            let job = (req.to_owned(), res.defer());
            jobs.lock().unwrap().send(job).unwrap();
        }),
        1,
    );
    let mut clients: Vec<Client> = (0..CONNECTIONS)
        .map(|_| Client::connect(server.local_addr()))
        .collect();
    for (c, client) in clients.iter_mut().enumerate() {
        let batch: String = (0..PER_CONNECTION)
            .map(|i| get(&format!("/job?{c}-{i}")))
            .collect();
        client.send(batch);
    }
    for (c, client) in clients.iter_mut().enumerate() {
        for i in 0..PER_CONNECTION {
            let resp = client.response();
            assert_eq!(resp.status, 200);
            assert_eq!(
                resp.body_str(),
                format!("{c}-{i}"),
                "order on connection {c}"
            );
        }
    }
    server.shutdown();
    for worker in workers {
        worker.join().unwrap();
    }
}

#[test]
fn requests_pipelined_behind_a_deferred_one_wait_their_turn() {
    let (handles, parked) = mpsc::channel::<DeferredResponse>();
    let handles = Mutex::new(handles);
    let server = serve(
        App::new()
            .get("/slow", move |res, _req| {
                handles.lock().unwrap().send(res.defer()).unwrap();
            })
            .get("/fast/:n", |res, req| {
                res.end(format!("fast {}", req.parameter("n").unwrap()))
            }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    client.send(format!(
        "{}{}{}",
        get("/fast/1"),
        get("/slow"),
        get("/fast/2")
    ));
    assert_eq!(client.response().body_str(), "fast 1");
    let later = parked.recv_timeout(DEADLINE).expect("the slow handler ran");
    assert!(later.end("slow"));
    assert_eq!(client.response().body_str(), "slow");
    assert_eq!(client.response().body_str(), "fast 2");
    server.shutdown();
}

#[test]
fn a_client_leaving_first_aborts_once_and_the_late_answer_says_so() {
    let aborted = Arc::new(AtomicUsize::new(0));
    let (handles, parked) = mpsc::channel::<DeferredResponse>();
    let handles = Mutex::new(handles);
    let count = Arc::clone(&aborted);
    let server = serve(
        App::new()
            .get("/wait", move |res, _req| {
                let count = Arc::clone(&count);
                res.on_aborted(move || {
                    count.fetch_add(1, Ordering::SeqCst);
                });
                handles.lock().unwrap().send(res.defer()).unwrap();
            })
            .get("/", |res, _req| res.end("still serving")),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    client.send(get("/wait"));
    let mut later = parked.recv_timeout(DEADLINE).expect("the handler ran");
    drop(client);
    wait_until("on_aborted", || aborted.load(Ordering::SeqCst) == 1);
    assert!(later.is_aborted());
    assert!(!later.write("late"), "a write after the abort reports it");
    assert!(!later.end("late"), "so does the end");
    let resp = Client::connect(server.local_addr()).request(get("/"));
    assert_eq!(resp.body_str(), "still serving");
    assert_eq!(aborted.load(Ordering::SeqCst), 1, "exactly once");
    server.shutdown();
}

#[test]
fn on_aborted_on_a_handle_that_knows_of_the_abort_is_refused() {
    let aborted = Arc::new(AtomicUsize::new(0));
    let (handles, parked) = mpsc::channel::<DeferredResponse>();
    let handles = Mutex::new(handles);
    let server = serve(
        App::new().get("/wait", move |res, _req| {
            handles.lock().unwrap().send(res.defer()).unwrap();
        }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    client.send(get("/wait"));
    let mut later = parked.recv_timeout(DEADLINE).expect("the handler ran");
    drop(client);
    wait_until("the abort to reach the handle", || later.is_aborted());
    let count = Arc::clone(&aborted);
    // The handle knows: the call is refused, so the callback is not sent.
    assert!(!later.on_aborted(move || {
        count.fetch_add(1, Ordering::SeqCst);
    }));
    assert_eq!(aborted.load(Ordering::SeqCst), 0);
    server.shutdown();
}

#[test]
fn a_handle_dropped_unanswered_gets_the_error_handlers_500() {
    let log = Log::default();
    let heard = log.clone();
    let server = serve(
        App::new()
            .get("/dropped", |res, _req| {
                let later = res.defer();
                std::thread::spawn(move || drop(later));
            })
            .on_error(move |error, _res, _req| heard.push(error.to_string())),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    let resp = client.request(get("/dropped"));
    assert_eq!(resp.status, 500);
    assert_eq!(log.take().len(), 1, "the error handler heard it");
    // The connection goes on.
    assert_eq!(client.request(get("/dropped")).status, 500);
    server.shutdown();
}

#[test]
fn loop_handle_runs_closures_on_the_loop_thread_and_their_answers_go_out() {
    let server = serve(
        App::new().get("/defer", |res, _req| {
            let mut later = res.defer();
            later.write_header("Content-Type", "text/plain");
            let handle = later.loop_handle();
            std::thread::spawn(move || {
                handle.defer(move || {
                    let thread = std::thread::current().name().unwrap_or("").to_owned();
                    later.end(thread);
                });
            });
        }),
        1,
    );
    let resp = Client::connect(server.local_addr()).request(get("/defer"));
    assert_eq!(resp.body_str(), "uweb-loop-0");
    server.shutdown();
}

#[test]
fn cork_runs_with_the_live_response_and_stale_handles_cannot_write() {
    let (handles, parked) = mpsc::channel::<DeferredResponse>();
    let handles = Mutex::new(handles);
    let server = serve(
        App::new().get("/twice", move |res, _req| {
            let first = res.defer();
            // A second `defer` supersedes the first handle.
            let second = res.defer();
            let sender = handles.lock().unwrap();
            sender.send(first).unwrap();
            sender.send(second).unwrap();
        }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    client.send(get("/twice"));
    let mut first = parked.recv_timeout(DEADLINE).unwrap();
    let mut second = parked.recv_timeout(DEADLINE).unwrap();
    assert!(first.is_aborted(), "superseded");
    assert!(!first.write("stale"));
    assert!(second.cork(|res| {
        res.write_header("X-Offset", &res.write_offset().to_string());
        res.end("from cork");
    }));
    let resp = client.response();
    assert_eq!(resp.header("x-offset"), Some("0"));
    assert_eq!(resp.body_str(), "from cork");
    drop(second);
    // The second handle's release after its answer changes nothing: the connection serves on.
    client.send(get("/twice"));
    let first = parked.recv_timeout(DEADLINE).unwrap();
    let second = parked.recv_timeout(DEADLINE).unwrap();
    drop(first);
    assert!(second.end("again"));
    assert_eq!(client.response().body_str(), "again");
    server.shutdown();
}

#[test]
fn streaming_from_a_thread_uses_chunked_framing() {
    let server = serve(
        App::new().get("/stream", |res, _req| {
            let mut later = res.defer();
            std::thread::spawn(move || {
                for part in ["one ", "two ", "three"] {
                    assert!(later.write(part));
                }
                later.end("");
            });
        }),
        1,
    );
    let resp = Client::connect(server.local_addr()).request(get("/stream"));
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    assert_eq!(resp.body_str(), "one two three");
    server.shutdown();
}

/// What a handle did in its handler is applied as the handler returns; what a thread does with
/// it afterwards follows, in order, for each of several pipelined requests.
#[test]
fn a_handle_used_in_its_handler_then_by_a_thread_keeps_its_order() {
    let server = serve(
        App::new().get("/mixed/:n", |res, req| {
            let n = req.parameter("n").unwrap().to_owned();
            let mut later = res.defer();
            later.write_header("X-N", n.clone());
            assert!(later.write(format!("{n}: loop, ")));
            std::thread::spawn(move || {
                assert!(later.write("thread, "));
                later.end("end");
            });
        }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    let batch: String = (0..20).map(|n| get(&format!("/mixed/{n}"))).collect();
    client.send(batch);
    for n in 0..20 {
        let resp = client.response();
        assert_eq!(resp.header("x-n"), Some(n.to_string().as_str()));
        assert_eq!(resp.body_str(), format!("{n}: loop, thread, end"));
    }
    server.shutdown();
}

#[test]
fn owned_requests_keep_everything_the_handler_saw() {
    let (sender, received) = mpsc::channel::<OwnedRequest>();
    let sender = Mutex::new(sender);
    let server = serve(
        App::new().get("/items/:kind/:id", move |res, req| {
            sender.lock().unwrap().send(req.to_owned()).unwrap();
            res.end("ok");
        }),
        1,
    );
    let resp = Client::connect(server.local_addr()).request(request(
        "GET",
        "/items/book/17?sort=price+asc&x",
        &[("X-Trace", "abc"), ("Accept", "*/*")],
    ));
    assert_eq!(resp.status, 200);
    let req = received.recv_timeout(DEADLINE).unwrap();
    assert_eq!(req.method(), "GET");
    assert_eq!(req.url(), "/items/book/17");
    assert_eq!(req.query(), "sort=price+asc&x");
    assert_eq!(req.query_value("sort").as_deref(), Some("price asc"));
    assert_eq!(req.parameter("kind"), Some("book"));
    assert_eq!(req.parameter(1), Some("17"));
    assert_eq!(req.parameter("nope"), None);
    assert_eq!(req.header("x-trace"), Some("abc"));
    assert_eq!(req.headers().count(), 3, "Host, X-Trace, Accept");
    assert_eq!(req.minor_version(), 1);
    server.shutdown();
}

#[derive(serde::Deserialize)]
struct Order {
    item: String,
    quantity: u32,
}

#[test]
fn whole_bodies_as_bytes_and_json_answered_later() {
    let server = serve(
        App::new()
            .config(support::config(|c| c.max_body_bytes = 1024))
            .post("/bytes", |res, _req| {
                res.on_body(|res, body| {
                    let later = res.defer();
                    std::thread::spawn(move || {
                        later.end(format!("{} bytes", body.len()));
                    });
                });
            })
            .post("/order", |res, _req| {
                res.on_json(|res, order: Order| {
                    res.end(format!("{} x {}", order.quantity, order.item));
                });
            }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    let body = "x".repeat(700);
    let chunked = format!(
        "POST /bytes HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
         12c\r\n{}\r\n190\r\n{}\r\n0\r\n\r\n",
        &body[..300],
        &body[300..]
    );
    assert_eq!(client.request(chunked).body_str(), "700 bytes");
    let json = r#"{"item":"tea","quantity":3}"#;
    let post = |path: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    assert_eq!(client.request(post("/order", json)).body_str(), "3 x tea");
    let bad = client.request(post("/order", r#"{"item":"tea"}"#));
    assert_eq!(bad.status, 400);
    assert!(
        bad.body_str()
            .starts_with("invalid JSON: missing field `quantity`"),
        "{}",
        bad.body_str()
    );
    let not_json = client.request(post("/order", "tea please"));
    assert_eq!(not_json.status, 400);
    let too_large = Client::connect(server.local_addr()).request(post("/bytes", &"y".repeat(2000)));
    assert_eq!(too_large.status, 413);
    server.shutdown();
}

#[test]
fn a_graceful_shutdown_waits_for_a_deferred_answer() {
    let (handles, parked) = mpsc::channel::<DeferredResponse>();
    let handles = Mutex::new(handles);
    let server = serve(
        App::new().get("/wait", move |res, _req| {
            handles.lock().unwrap().send(res.defer()).unwrap();
        }),
        1,
    );
    let addr = server.local_addr();
    let mut client = Client::connect(addr);
    client.send(get("/wait"));
    let later = parked.recv_timeout(DEADLINE).expect("the handler ran");
    let stopping = std::thread::spawn(move || server.shutdown());
    // New connections are refused once the loop has stopped accepting.
    wait_until("the listener to close", || {
        std::net::TcpStream::connect(addr).is_err() || stopping.is_finished()
    });
    assert!(
        !stopping.is_finished(),
        "the server waits for the deferred answer"
    );
    assert!(later.end("answered during shutdown"));
    let resp = client.response();
    assert_eq!(resp.body_str(), "answered during shutdown");
    assert_eq!(resp.header("connection"), Some("close"));
    stopping.join().unwrap();
}

/// `App::on_shutdown` hooks run once, when the shutdown begins: here one ends an open stream
/// (as an SSE server would), so the drain does not wait for the (60 s) shutdown timeout and the
/// client gets the stream's proper end rather than a cut connection.
#[test]
fn on_shutdown_hooks_run_once_and_can_end_open_streams() {
    let streams: Arc<Mutex<Vec<DeferredResponse>>> = Arc::default();
    let (held, ending) = (Arc::clone(&streams), Arc::clone(&streams));
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let mut config = uweb::Config::default();
    config.shutdown_timeout = std::time::Duration::from_secs(60);
    let server = serve(
        App::new()
            .config(config)
            .on_shutdown(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                for stream in ending.lock().unwrap().drain(..) {
                    assert!(stream.end("bye\n"));
                }
            })
            .get("/stream", move |res, _req| {
                let mut stream = res.defer();
                stream.write("hello\n");
                held.lock().unwrap().push(stream);
            }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    client.send(get("/stream"));
    wait_until("the stream to open", || streams.lock().unwrap().len() == 1);
    server.shutdown();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let resp = client.response();
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    assert_eq!(resp.body_str(), "hello\nbye\n");
}

#[test]
fn a_pipelined_batch_answered_later_from_the_loop_and_threads_keeps_its_order() {
    let server = serve(
        App::new().get("/n/:n", |res, req| {
            let n: usize = req.parameter("n").unwrap().parse().unwrap();
            let later = res.defer();
            if n.is_multiple_of(3) {
                std::thread::spawn(move || later.end(format!("thread {n}")));
            } else {
                later.end(format!("loop {n}"));
            }
        }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    let batch: String = (0..100).map(|n| get(&format!("/n/{n}"))).collect();
    client.send(batch);
    for n in 0..100 {
        let expected = match n % 3 {
            0 => format!("thread {n}"),
            _ => format!("loop {n}"),
        };
        assert_eq!(client.response().body_str(), expected);
    }
    server.shutdown();
}

#[test]
fn the_server_hands_out_one_loop_handle_per_loop() {
    let server = serve(App::new().get("/", |res, _req| res.end("ok")), 2);
    assert_eq!(server.loops().len(), 2);
    let (names, ran) = mpsc::channel();
    for handle in server.loops() {
        let names = names.clone();
        assert!(handle.defer(move || {
            let name = std::thread::current().name().unwrap_or_default().to_owned();
            names.send(name).unwrap();
        }));
    }
    let mut seen: Vec<String> = (0..2)
        .map(|_| ran.recv_timeout(DEADLINE).unwrap())
        .collect();
    seen.sort();
    assert_eq!(seen, ["uweb-loop-0", "uweb-loop-1"]);
    let handle = server.loops()[0].clone();
    server.shutdown();
    assert!(!handle.defer(|| {}), "a stopped loop refuses work");
}
