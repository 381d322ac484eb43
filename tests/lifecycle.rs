//! Lifecycle: bind and local_addr, several loops, the header-read and idle timeouts, shutdown.

mod support;

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Client, DEADLINE, config, get, serve};
use uweb::{App, Server};

fn app() -> App {
    App::new()
        .get("/", |res, _req| res.end("ok"))
        .get("/thread", |res, _req| {
            let name = std::thread::current().name().unwrap_or("?").to_owned();
            res.end(name);
        })
        .post("/echo", support::echo)
}

/// Calls `shutdown` on another thread and waits (with the generous deadline) for it to return.
fn shutdown_within_deadline(server: Server) {
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        server.shutdown();
        let _ = done_tx.send(());
    });
    done_rx
        .recv_timeout(DEADLINE)
        .expect("Server::shutdown did not return");
}

#[test]
fn bind_reports_the_bound_address() {
    let a = serve(app(), 1);
    let b = serve(app(), 1);
    let (addr_a, addr_b) = (a.local_addr(), b.local_addr());
    assert_eq!(addr_a.ip().to_string(), "127.0.0.1");
    assert_ne!(addr_a.port(), 0);
    assert_ne!(addr_a.port(), addr_b.port());
    for addr in [addr_a, addr_b] {
        assert_eq!(Client::connect(addr).request(get("/")).body_str(), "ok");
    }
}

#[test]
fn two_loops_serve_many_connections() {
    let server = serve(app(), 2);
    let addr = server.local_addr();
    // 200 connections open at once, each used for a few requests.
    let mut clients: Vec<Client> = (0..200).map(|_| Client::connect(addr)).collect();
    let mut loops = BTreeSet::new();
    for round in 0..3 {
        for c in &mut clients {
            c.send(get("/thread"));
        }
        for (i, c) in clients.iter_mut().enumerate() {
            let r = c.response();
            assert_eq!(r.status, 200, "round {round}, connection {i}");
            loops.insert(r.body_str().to_owned());
        }
    }
    // The kernel spreads 200 connections over both listeners.
    assert_eq!(
        loops,
        BTreeSet::from(["uweb-loop-0".to_owned(), "uweb-loop-1".to_owned()])
    );
    // And from several client threads at once.
    let workers: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..10 {
                    let mut c = Client::connect(addr);
                    let body = format!("t{t}c{i}");
                    let req = format!(
                        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    for _ in 0..5 {
                        assert_eq!(c.request(&req).body_str(), body);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("client thread");
    }
}

#[test]
fn header_read_timeout_cuts_off_a_dribbling_client() {
    let app = app().config(config(|c| {
        c.header_read_timeout = Duration::from_secs(1);
        c.idle_timeout = Duration::from_secs(120);
    }));
    let server = serve(app, 1);
    let mut stream = Client::connect(server.local_addr()).stream;
    // Wait for a close between bytes, briefly: the pace of the dribble, not a synchronisation.
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ";
    let started = Instant::now();
    let mut sent = 0usize;
    let closed = loop {
        let byte = head.get(sent).copied().unwrap_or(b'a');
        if stream.write_all(&[byte]).is_err() {
            break true;
        }
        sent += 1;
        let mut buf = [0u8; 256];
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => {} // e.g. a 408 before the close
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break true,
        }
        if started.elapsed() > DEADLINE {
            break false;
        }
    };
    assert!(
        closed,
        "still open after {sent} bytes over {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed before the timeout"
    );
    assert!(sent > 2, "the client kept sending");
    // Other connections are fine.
    assert_eq!(
        Client::connect(server.local_addr())
            .request(get("/"))
            .body_str(),
        "ok"
    );
}

#[test]
fn idle_keep_alive_connections_are_closed_after_the_idle_timeout() {
    let app = app().config(config(|c| {
        c.idle_timeout = Duration::from_secs(1);
        c.header_read_timeout = Duration::from_secs(120);
    }));
    let server = serve(app, 1);
    let addr = server.local_addr();
    let mut c = Client::connect(addr);
    assert_eq!(c.request(get("/")).body_str(), "ok");
    let idle_since = Instant::now();
    assert!(c.is_closed(), "idle connection still open");
    assert!(
        idle_since.elapsed() >= Duration::from_millis(900),
        "closed before the timeout"
    );
    // A connection that never sends anything is idle too.
    let mut silent = Client::connect(addr);
    assert!(silent.is_closed());
    // A stalled request body as well.
    let mut stalled = Client::connect(addr);
    stalled.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhalf.");
    assert!(stalled.is_closed());
}

#[test]
fn shutdown_returns_closes_idle_connections_and_refuses_new_ones() {
    let server = serve(app(), 2);
    let addr = server.local_addr();
    let mut idle: Vec<Client> = (0..6).map(|_| Client::connect(addr)).collect();
    for c in &mut idle {
        assert_eq!(c.request(get("/")).body_str(), "ok");
    }
    let mut never_used = Client::connect(addr);
    shutdown_within_deadline(server);
    for (i, c) in idle.iter_mut().enumerate() {
        assert!(c.is_closed(), "idle connection {i} still open");
    }
    assert!(never_used.is_closed());
    // Nobody listens any more: the connect fails, or the connection is closed at once.
    match TcpStream::connect(addr) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}"),
        Ok(stream) => {
            let mut c = Client::from_stream(stream);
            let _ = c.stream.write_all(get("/").as_bytes());
            assert!(c.is_closed(), "a connection after shutdown was served");
        }
    }
}

#[test]
fn shutdown_lets_an_in_flight_request_finish() {
    let server = serve(app(), 1);
    let mut c = Client::connect(server.local_addr());
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\nfirst");
    // The head has been dispatched once an unrelated request on the same loop is answered.
    assert_eq!(
        Client::connect(server.local_addr())
            .request(get("/"))
            .body_str(),
        "ok"
    );
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        server.shutdown();
        let _ = done_tx.send(());
    });
    c.send("end");
    let r = c.response();
    assert_eq!((r.status, r.body_str()), (200, "firstend"));
    assert!(c.is_closed());
    done_rx
        .recv_timeout(DEADLINE)
        .expect("Server::shutdown did not return");
}

#[test]
fn peer_half_close_after_a_request_is_noticed() {
    // A client that sends its request and shuts down its sending side gets the response, then
    // the server closes too (it must not keep the socket until the idle timeout, set far
    // beyond the test deadline here). The loop is held in a handler while the request and the
    // FIN arrive, so the server sees both in one readiness event.
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let started_tx = Mutex::new(started_tx);
    let release_rx = Arc::new(Mutex::new(release_rx));
    let app = app()
        .get("/hold", move |res, _req| {
            let _ = started_tx.lock().unwrap().send(());
            let _ = release_rx.lock().unwrap().recv_timeout(DEADLINE);
            res.end("held");
        })
        .config(config(|c| c.idle_timeout = Duration::from_secs(120)));
    let server = serve(app, 1);
    let addr = server.local_addr();
    let mut holder = Client::connect(addr);
    holder.send(get("/hold"));
    started_rx.recv_timeout(DEADLINE).expect("handler started");
    let mut c = Client::connect(addr);
    c.send(get("/"));
    c.stream.shutdown(Shutdown::Write).unwrap();
    release_tx.send(()).unwrap();
    assert_eq!(holder.response().body_str(), "held");
    assert_eq!(c.response().body_str(), "ok");
    assert!(c.is_closed(), "the server did not notice the client's FIN");
}
