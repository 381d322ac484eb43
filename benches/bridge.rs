//! The Redis pub/sub bridge under load, one run (not a criterion bench: it needs a
//! redis-server, which benches/bridge.sh starts): two nodes, A in this process and B in a
//! child process (10,000 sockets at both ends do not fit one process's file limit here), one
//! loop each, each with its own `RedisBridge`; publish on A with a `Publisher`, receive on B.
//!
//! - Latency: with 1, 100 and 10,000 WebSocket subscribers on B, `MESSAGES` publishes one at
//!   a time, each timed until B's last-subscribed socket has it: p50 / p99 / max.
//! - Throughput: `BURST` messages published as fast as the bridge's queue takes them (kept
//!   under its limit), timed until one subscriber on B has received all: messages/s.
//!
//! `REDIS_URL=redis://127.0.0.1:6379/ cargo bench --features redis --bench bridge`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use uweb::{App, OpCode, Publisher, RedisBridge, Server, WebSocketBehavior};

fn node(url: &str) -> (Server, Publisher) {
    let bridge = RedisBridge::new(url);
    let app = App::new().threads(1).pubsub_bridge(bridge).ws::<()>(
        "/t",
        WebSocketBehavior::new()
            .max_backpressure(64 * 1024 * 1024)
            .open(|ws| {
                ws.subscribe("t");
            }),
    );
    let publisher = app.publisher();
    (app.bind("127.0.0.1:0").expect("bind"), publisher)
}

/// Node B in a child process (this binary with `BRIDGE_ROLE=b`); returns it and its address.
fn spawn_b() -> (std::process::Child, SocketAddr) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--bench")
        .env("BRIDGE_ROLE", "b")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start node B");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().parse().expect("node B's address"))
}

/// Node B's process: serves until its stdin closes.
fn run_b(url: &str) {
    let (server, _) = node(url);
    println!("{}", server.local_addr());
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
}

/// A raw WebSocket client of `/t` (the 101 read byte by byte, so no frame byte is taken).
fn subscribe(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).unwrap();
    stream
        .write_all(
            b"GET /t HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    stream
}

/// Reads `count` small server frames (payload under 126 bytes) from `stream`, adding each
/// to `seen`.
fn read_frames(stream: &mut TcpStream, count: usize, buffer: &mut Vec<u8>, seen: &AtomicUsize) {
    let goal = seen.load(Ordering::Relaxed) + count;
    while seen.load(Ordering::Relaxed) < goal {
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "closed");
        buffer.extend_from_slice(&chunk[..n]);
        let mut at = 0;
        while buffer.len() >= at + 2 && buffer.len() >= at + 2 + usize::from(buffer[at + 1]) {
            at += 2 + usize::from(buffer[at + 1]);
            seen.fetch_add(1, Ordering::Relaxed);
        }
        buffer.drain(..at);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

fn wait_for(redis: &str, subscribers: i64) {
    let mut c = redis::Client::open(redis)
        .unwrap()
        .get_connection()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg("uweb:t")
            .query(&mut c)
            .unwrap();
        if counts.first().map_or(0, |(_, n)| *n) >= subscribers {
            return;
        }
        assert!(Instant::now() < deadline, "nodes did not subscribe");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn main() {
    // `cargo test --all-targets` runs bench binaries too, without `--bench` and without the
    // server they need: nothing to do then.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("a load client: run it with cargo bench (see the file's header)");
        return;
    }
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let messages: usize = std::env::var("MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let burst: usize = std::env::var("BURST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    if std::env::var("BRIDGE_ROLE").as_deref() == Ok("b") {
        return run_b(&url);
    }
    let (_a, publisher) = node(&url);
    let (_b, b) = spawn_b();
    let seen = Arc::new(AtomicUsize::new(0));
    let mut held: Vec<TcpStream> = Vec::new();
    let mut buffer = Vec::new();
    for subscribers in [1usize, 100, 10_000] {
        while held.len() < subscribers {
            held.push(subscribe(b));
        }
        wait_for(&url, 1);
        let probe = held.last_mut().unwrap();
        let mut times = Vec::with_capacity(messages);
        for i in 0..messages {
            let started = Instant::now();
            publisher.publish("t", format!("m{i}"), OpCode::Text);
            read_frames(probe, 1, &mut buffer, &seen);
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "latency A->Redis->B, {subscribers:>6} subscriber(s) on B: p50 {:.0} us, p99 {:.0} us, max {:.0} us ({messages} messages)",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            percentile(&times, 1.0)
        );
    }
    held.truncate(0);
    let mut probe = subscribe(b);
    wait_for(&url, 1);
    buffer.clear();
    seen.store(0, Ordering::Relaxed);
    let started = Instant::now();
    let counted = Arc::clone(&seen);
    let reader = std::thread::spawn(move || {
        read_frames(&mut probe, burst, &mut buffer, &counted);
        Instant::now()
    });
    for i in 0..burst {
        publisher.publish("t", format!("b{i}"), OpCode::Text);
        if i % 1024 == 0 {
            // Keep the bridge's queue (65,536) from overflowing: wait for B to catch up.
            while i > seen.load(Ordering::Relaxed) + 30_000 {
                std::thread::yield_now();
            }
        }
    }
    let done = reader.join().unwrap();
    let secs = (done - started).as_secs_f64();
    println!(
        "throughput A->Redis->B: {burst} messages in {secs:.2} s = {:.0} messages/s",
        burst as f64 / secs
    );
}
