//! Pipelined requests processed in parallel (RFC 9112 section 9.3.2): safe requests
//! pipelined behind a safe one that is answered later are dispatched at once, and their
//! responses still leave in order. Unsafe methods, bodies and the configured depth keep
//! requests waiting their turn; a client leaving aborts every response held; a response
//! dispatched ahead may stream with backpressure.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use support::{Client, DEADLINE, config, fetch, get, request, serve, wait_until};
use uweb::{App, Config, DeferredResponse, HttpResponse, Server};

/// A server with one loop whose `/slow` (any method) parks its response, and whose
/// `/fast/:n` counts its calls and answers at once; and a client connected to it.
struct Parking {
    server: Server,
    client: Client,
    handles: mpsc::Receiver<DeferredResponse>,
    ran: Arc<AtomicUsize>,
}

impl Parking {
    fn start(config: Config) -> Parking {
        let (parked, handles) = mpsc::channel();
        let parked = Mutex::new(parked);
        let ran = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&ran);
        let app = App::new()
            .config(config)
            .any("/slow", move |res, _req| {
                parked.lock().unwrap().send(res.defer()).unwrap();
            })
            .get("/fast/:n", move |res, req| {
                count.fetch_add(1, Ordering::SeqCst);
                res.end(format!("fast {}", req.parameter("n").unwrap()));
            })
            .get("/barrier", |res, _req| res.end("barrier"));
        let server = serve(app, 1);
        let client = Client::connect(server.local_addr());
        Parking {
            server,
            client,
            handles,
            ran,
        }
    }

    /// The next parked response; `what` names it in the failure.
    fn next(&self, what: &str) -> DeferredResponse {
        self.handles.recv_timeout(DEADLINE).expect(what)
    }

    /// Calls of `/fast/:n` so far.
    fn ran(&self) -> usize {
        self.ran.load(Ordering::SeqCst)
    }

    /// A request on another connection to the same (single) loop, answered: everything the
    /// loop had read before it was processed (the pipelined batch arrived in one write).
    fn barrier(&self) {
        assert_eq!(
            fetch(self.server.local_addr(), get("/barrier")).body_str(),
            "barrier"
        );
    }

    fn body(&mut self) -> String {
        self.client.response().body_str().to_owned()
    }
}

#[test]
fn safe_requests_behind_a_deferred_get_run_at_once_and_answer_in_order() {
    let mut p = Parking::start(Config::default());
    p.client.send(format!(
        "{}{}{}",
        get("/slow"),
        get("/fast/1"),
        get("/fast/2")
    ));
    let later = p.next("the slow handler ran");
    p.barrier();
    assert_eq!(p.ran(), 2, "both ran before /slow answered");
    assert!(p.client.pending().is_empty(), "nothing overtook /slow");
    assert!(later.end("slow"));
    for expected in ["slow", "fast 1", "fast 2"] {
        assert_eq!(p.body(), expected);
    }
    p.server.shutdown();
}

#[test]
fn requests_behind_an_unsafe_one_wait_their_turn() {
    let mut p = Parking::start(Config::default());
    let post = request("POST", "/slow", &[("Content-Length", "0")]);
    p.client.send(format!("{post}{}", get("/fast/1")));
    let later = p.next("the slow handler ran");
    p.barrier();
    assert_eq!(p.ran(), 0, "a GET behind a POST waits");
    assert!(later.end("posted"));
    assert_eq!(p.body(), "posted");
    assert_eq!(p.body(), "fast 1");
    assert_eq!(p.ran(), 1);
    p.server.shutdown();
}

#[test]
fn an_unsafe_request_in_the_pipeline_stops_parallel_dispatch_there() {
    let mut p = Parking::start(Config::default());
    let delete = request("DELETE", "/slow", &[]);
    p.client.send(format!(
        "{}{}{delete}{}",
        get("/slow"),
        get("/fast/1"),
        get("/fast/2")
    ));
    let first = p.next("the first /slow ran");
    p.barrier();
    assert_eq!(p.ran(), 1, "only /fast/1 ran ahead");
    assert!(first.end("first"));
    assert_eq!(p.body(), "first");
    assert_eq!(p.body(), "fast 1");
    let second = p.next("the DELETE ran");
    p.barrier();
    assert_eq!(p.ran(), 1, "/fast/2 waits behind the DELETE");
    assert!(second.end("deleted"));
    assert_eq!(p.body(), "deleted");
    assert_eq!(p.body(), "fast 2");
    p.server.shutdown();
}

#[test]
fn responses_answered_later_out_of_order_leave_in_order() {
    let mut p = Parking::start(Config::default());
    p.client.send(get("/slow").repeat(5));
    let mut parked: Vec<DeferredResponse> =
        (0..5).map(|_| p.next("each /slow ran at once")).collect();
    // Answered last to first, from another thread: the wire order is the request order.
    let answerer = std::thread::spawn(move || {
        for (i, later) in parked.drain(..).enumerate().rev() {
            assert!(later.end(format!("slow {i}")));
        }
    });
    for i in 0..5 {
        assert_eq!(p.body(), format!("slow {i}"));
    }
    answerer.join().unwrap();
    p.server.shutdown();
}

#[test]
fn a_pipeline_deeper_than_the_limit_is_answered_whole_and_in_order() {
    const DEPTH: usize = 3;
    const REQUESTS: usize = 20;
    let mut p = Parking::start(config(|c| c.parallel_pipelined = DEPTH));
    p.client.send(get("/slow").repeat(REQUESTS));
    let first: Vec<DeferredResponse> = (0..=DEPTH)
        .map(|_| p.next("dispatched up to the limit"))
        .collect();
    p.barrier();
    assert!(
        p.handles.try_recv().is_err(),
        "no more than {DEPTH} dispatched ahead"
    );
    let Parking {
        server,
        mut client,
        handles,
        ..
    } = p;
    let answerer = std::thread::spawn(move || {
        let mut n = 0;
        for later in first {
            assert!(later.end(format!("slow {n}")));
            n += 1;
        }
        while n < REQUESTS {
            let later = handles.recv_timeout(DEADLINE).expect("the rest follow");
            assert!(later.end(format!("slow {n}")));
            n += 1;
        }
    });
    for i in 0..REQUESTS {
        assert_eq!(client.response().body_str(), format!("slow {i}"));
    }
    answerer.join().unwrap();
    server.shutdown();
}

#[test]
fn a_client_leaving_aborts_every_response_held_once() {
    let aborted = Arc::new(AtomicUsize::new(0));
    let (parked, handles) = mpsc::channel::<DeferredResponse>();
    let parked = Mutex::new(parked);
    let count = Arc::clone(&aborted);
    let server = serve(
        App::new().get("/wait", move |res, _req| {
            let count = Arc::clone(&count);
            res.on_aborted(move || {
                count.fetch_add(1, Ordering::SeqCst);
            });
            parked.lock().unwrap().send(res.defer()).unwrap();
        }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    client.send(get("/wait").repeat(4));
    let parked: Vec<DeferredResponse> = (0..4)
        .map(|_| {
            handles
                .recv_timeout(DEADLINE)
                .expect("each /wait ran at once")
        })
        .collect();
    drop(client);
    wait_until("every held response aborted", || {
        aborted.load(Ordering::SeqCst) == 4
    });
    for later in parked {
        wait_until("the handle learns it", || later.is_aborted());
        assert!(!later.end("too late"));
    }
    assert_eq!(
        aborted.load(Ordering::SeqCst),
        4,
        "each on_aborted ran once"
    );
    assert_eq!(
        fetch(server.local_addr(), get("/missing")).status,
        404,
        "the server still serves"
    );
    server.shutdown();
}

#[test]
fn a_handle_dropped_ahead_gets_the_unanswered_path_in_its_turn() {
    let mut p = Parking::start(Config::default());
    p.client.send(get("/slow").repeat(3));
    let first = p.next("the first /slow ran");
    let second = p.next("the second /slow ran ahead");
    let third = p.next("the third /slow ran ahead");
    drop(second);
    assert!(third.end("third"));
    assert!(first.end("first"));
    assert_eq!(p.body(), "first");
    assert_eq!(p.client.response().status, 500);
    assert_eq!(p.body(), "third");
    p.server.shutdown();
}

/// Sends `BIG` bytes in 64 KiB pieces with `try_end`, going on from `on_writable` while
/// the pieces are held back.
fn stream_big(res: &mut HttpResponse<'_>) -> bool {
    const PIECE: usize = 64 * 1024;
    loop {
        let offset = res.write_offset() as usize;
        let end = (offset + PIECE).min(BIG);
        let piece: Vec<u8> = (offset..end).map(|i| (i % 251) as u8).collect();
        let (ok, done) = res.try_end(&piece, BIG as u64);
        if done {
            return true;
        }
        if !ok {
            return false;
        }
    }
}

const BIG: usize = 4 << 20;

#[test]
fn a_response_dispatched_ahead_streams_with_backpressure_in_its_turn() {
    let (parked, handles) = mpsc::channel::<DeferredResponse>();
    let parked = Mutex::new(parked);
    let server = serve(
        App::new()
            .get("/slow", move |res, _req| {
                parked.lock().unwrap().send(res.defer()).unwrap();
            })
            .get("/big", |res, _req| {
                if !stream_big(res) {
                    res.on_writable(|res, _offset| stream_big(res));
                }
            }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    client.send(format!("{}{}{}", get("/slow"), get("/big"), get("/slow")));
    let first = handles.recv_timeout(DEADLINE).expect("the first /slow ran");
    let last = handles
        .recv_timeout(DEADLINE)
        .expect("the last /slow ran ahead");
    assert!(last.end("last"));
    assert!(first.end("first"));
    assert_eq!(client.response().body_str(), "first");
    let big = client.response();
    assert_eq!(big.status, 200);
    assert_eq!(big.body.len(), BIG);
    assert!(
        big.body
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (i % 251) as u8),
        "the streamed body arrives intact"
    );
    assert_eq!(client.response().body_str(), "last");
    server.shutdown();
}

#[test]
fn parallel_dispatch_can_be_turned_off() {
    let mut p = Parking::start(config(|c| c.parallel_pipelined = 0));
    p.client.send(format!("{}{}", get("/slow"), get("/fast/1")));
    let later = p.next("the slow handler ran");
    p.barrier();
    assert_eq!(p.ran(), 0);
    assert!(later.end("slow"));
    assert_eq!(p.body(), "slow");
    assert_eq!(p.body(), "fast 1");
    p.server.shutdown();
}
