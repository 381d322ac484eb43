//! Graceful shutdown on signals, in a real child process: `SIGTERM` lets a slow upload finish
//! and the process exit 0, sends WebSockets 1001, and a second signal exits at once.
//!
//! The child is this test binary again, running the ignored `child_server` test with
//! `UWEB_SIGNAL_CHILD` set: it serves on 127.0.0.1:0, prints its address, installs the signal
//! handling with `Server::shutdown_on_signals` and waits in `join`, as `App::listen` does.
//! Signals do not depend on the transport, and the TLS pipe's certificates live in one
//! process: under `UWEB_TEST_TLS` these tests skip themselves (the plain pass covers them).

mod support;
mod ws_support;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::Client;
use uweb::{App, Config, WebSocketBehavior};
use ws_support::RawWs;

const CHILD_ENV: &str = "UWEB_SIGNAL_CHILD";
const ADDR_LINE: &str = "uweb-child-addr ";

#[test]
#[ignore = "the server process the other tests of this file spawn"]
fn child_server() {
    let Ok(drain) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut config = Config::default();
    config.shutdown_timeout = Duration::from_secs(drain.parse().unwrap());
    let app = App::new()
        .config(config)
        .post("/upload", |res, _req| {
            let mut len = 0;
            res.on_data(move |res, chunk, last| {
                len += chunk.len();
                if last {
                    res.end(len.to_string());
                }
            });
        })
        .ws::<()>("/ws", WebSocketBehavior::new());
    let server = app.threads(1).bind("127.0.0.1:0").unwrap();
    // Ready once the handlers are in: a signal before would kill the process.
    server.shutdown_on_signals().unwrap();
    println!("{ADDR_LINE}{}", server.local_addr());
    server.join();
}

/// The child server, with `drain` seconds of shutdown timeout, and its address; `None` when
/// the suites run over TLS.
fn spawn(drain: u64) -> Option<(Child, SocketAddr)> {
    if support::tls_pipe::enabled() {
        return None;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "child_server", "--nocapture"])
        .env(CHILD_ENV, drain.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if let Some(addr) = line.unwrap().strip_prefix(ADDR_LINE) {
            // Keep reading: the child's test harness reports on stdout when it ends.
            std::thread::spawn(move || lines.for_each(drop));
            return Some((child, addr.parse().unwrap()));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the child never printed its address");
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Once the server has taken the signal, its listener is gone: connecting is refused.
fn wait_until_refused(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting after the signal"
        );
        std::thread::yield_now();
    }
}

/// The child's exit status, waited for at most `within`.
fn exit_status(mut child: Child, within: Duration) -> ExitStatus {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait().unwrap()));
    rx.recv_timeout(within)
        .expect("the child did not exit in time")
}

/// A POST whose handler is running (its `100 Continue` came back) with half the body sent.
fn upload_in_flight(addr: SocketAddr) -> Client {
    let mut client = Client::connect(addr);
    client.send(
        "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n",
    );
    let interim = client.head_response();
    assert_eq!(interim.status, 100);
    client.send("hello");
    client
}

#[test]
fn sigterm_lets_a_slow_upload_finish_then_the_process_exits_0() {
    let Some((child, addr)) = spawn(10) else {
        return;
    };
    let mut client = upload_in_flight(addr);
    signal(&child, "TERM");
    wait_until_refused(addr);
    client.send("world");
    let response = client.response();
    assert_eq!((response.status, response.body_str()), (200, "10"));
    assert!(client.is_closed(), "closed after the last response");
    let status = exit_status(child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn sigint_sends_websockets_going_away() {
    let Some((child, addr)) = spawn(10) else {
        return;
    };
    let mut ws = RawWs::connect(addr, "/ws");
    signal(&child, "INT");
    ws.expect_close(1001);
    let status = exit_status(child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn a_second_signal_exits_at_once() {
    // A drain of a minute: exiting well before it shows the second signal did not wait.
    let Some((child, addr)) = spawn(60) else {
        return;
    };
    let _client = upload_in_flight(addr);
    signal(&child, "TERM");
    wait_until_refused(addr);
    signal(&child, "TERM");
    let status = exit_status(child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(128 + 15), "{status}");
}
