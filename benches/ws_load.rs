//! WebSocket load client for benches/deflate_load.sh and benches/actions_load.sh: `CONNS`
//! connections to `ws://127.0.0.1:PORT{WS_PATH}`, each keeping `INFLIGHT` text messages in
//! flight for `SECS` seconds: JSON-like ones of `SIZE` bytes (64 variants), or `MESSAGE` as
//! given (an action, a JSON-RPC call). Every complete message received counts as a reply and
//! is answered with the next message. With permessage-deflate (`COMPRESS=1`, the default) the
//! client offers `client_no_context_takeover`, so it compresses its messages once up front and
//! spends its CPU on framing and counting, not deflate.
//! Prints one line: `RESULT msgs=.. secs=.. msgs_per_s=.. wire_bytes_per_reply=.. compressed=..%`
//! (wire bytes include frame headers; `compressed` is the share of replies with RSV1 set).
//!
//! `IDLE=N` instead opens N connections, sends one message on each and waits for its reply (so
//! per-socket contexts exist), in two steps (see `hold_idle`): the server's RSS per idle
//! socket.
//!
//! `FANOUT=N` opens N connections, sends `MESSAGE` (a subscribe) on each and waits for its
//! reply, then sends `POST_PATH` with body `POST_BODY` over HTTP and prints `RESULT fanout=N
//! first_ms=.. last_ms=..`: the time until the first and the last connection received a message.
//!
//! The server is not started here: `PORT=9001 SIZE=4096 cargo bench --bench ws_load` against a
//! running echo server.

use flate2::{Compress, Compression, FlushCompress};
use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Options {
    port: u16,
    path: String,
    message: Option<String>,
    fanout: Option<usize>,
    conns: usize,
    inflight: usize,
    size: usize,
    secs: f64,
    compress: bool,
    idle: Option<usize>,
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn options() -> Options {
    Options {
        port: env("PORT", 9001),
        path: std::env::var("WS_PATH").unwrap_or_else(|_| "/".into()),
        message: std::env::var("MESSAGE").ok(),
        fanout: std::env::var("FANOUT").ok().and_then(|v| v.parse().ok()),
        conns: env("CONNS", 16),
        inflight: env("INFLIGHT", 8),
        size: env("SIZE", 4096),
        secs: env("SECS", 5.0),
        compress: env("COMPRESS", 1) != 0,
        idle: std::env::var("IDLE").ok().and_then(|v| v.parse().ok()),
    }
}

/// A chat-like JSON array of `size` bytes; `variant` changes the ids so messages differ.
fn json_message(size: usize, variant: usize) -> Vec<u8> {
    let mut text = String::from("[");
    let mut id = variant * 1000;
    while text.len() < size {
        text.push_str(&format!(
            "{{\"id\":{id},\"user\":\"user{}\",\"room\":\"lobby\",\"text\":\"hello there, how is it going?\"}},",
            id % 97
        ));
        id += 1;
    }
    text.truncate(size);
    text.into_bytes()
}

/// One masked client frame (FIN, text), RSV1 and raw-deflated payload when `compress`.
fn client_frame(message: &[u8], compress: bool) -> Vec<u8> {
    let payload = if compress {
        let mut deflater = Compress::new(Compression::new(6), false);
        let mut out = Vec::with_capacity(message.len() + 64);
        deflater
            .compress_vec(message, &mut out, FlushCompress::Sync)
            .expect("deflate");
        // RFC 7692 7.2.1: the sync flush's empty stored block (00 00 ff ff) is removed.
        out.truncate(out.len() - 4);
        out
    } else {
        message.to_vec()
    };
    let mut frame = vec![if compress { 0xC1 } else { 0x81 }];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n <= 0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let mask = [0x12, 0x34, 0x56, 0x78];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

fn connect(options: &Options) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", options.port)).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let extension = if options.compress {
        "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; client_max_window_bits\r\n"
    } else {
        ""
    };
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extension}\r\n",
        options.path
    )
    .expect("handshake");
    // Reads the 101 byte by byte so no frame byte is consumed with it.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("101");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    if options.compress {
        assert!(
            head.contains("permessage-deflate"),
            "not negotiated: {head}"
        );
    }
    stream
}

/// Counts complete server messages in `buffer` from `start`; returns (messages, compressed,
/// bytes consumed). Server frames are unmasked (RFC 6455 5.1).
fn count_messages(buffer: &[u8]) -> (u64, u64, usize) {
    let (mut messages, mut compressed, mut at) = (0, 0, 0);
    loop {
        let rest = &buffer[at..];
        if rest.len() < 2 {
            break;
        }
        let (len, header) = match rest[1] & 0x7f {
            126 if rest.len() >= 4 => (u16::from_be_bytes([rest[2], rest[3]]) as usize, 4),
            127 if rest.len() >= 10 => (
                u64::from_be_bytes(rest[2..10].try_into().unwrap()) as usize,
                10,
            ),
            126 | 127 => break,
            n => (n as usize, 2),
        };
        if rest.len() < header + len {
            break;
        }
        if rest[0] & 0x80 != 0 {
            messages += 1;
        }
        if rest[0] & 0x40 != 0 {
            compressed += 1;
        }
        at += header + len;
    }
    (messages, compressed, at)
}

struct Totals {
    messages: AtomicU64,
    compressed: AtomicU64,
    wire_bytes: AtomicU64,
}

fn echo_loop(options: &Options, frames: &[Vec<u8>], stop: &AtomicBool, totals: &Totals) {
    let mut stream = connect(options);
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut next = 0;
    let mut batch = Vec::new();
    for _ in 0..options.inflight {
        batch.extend_from_slice(&frames[next % frames.len()]);
        next += 1;
    }
    stream.write_all(&batch).expect("write");
    let mut buffer = vec![0u8; 1 << 20];
    let mut filled = 0;
    while !stop.load(Ordering::Relaxed) {
        if filled == buffer.len() {
            buffer.resize(buffer.len() * 2, 0);
        }
        let read = match stream.read(&mut buffer[filled..]) {
            Ok(0) => panic!("server closed the connection"),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) => panic!("read: {e}"),
        };
        filled += read;
        totals.wire_bytes.fetch_add(read as u64, Ordering::Relaxed);
        let (messages, compressed, used) = count_messages(&buffer[..filled]);
        buffer.copy_within(used..filled, 0);
        filled -= used;
        totals.messages.fetch_add(messages, Ordering::Relaxed);
        totals.compressed.fetch_add(compressed, Ordering::Relaxed);
        // One write answers the whole batch of echoes read.
        batch.clear();
        for _ in 0..messages {
            batch.extend_from_slice(&frames[next % frames.len()]);
            next += 1;
        }
        stream.write_all(&batch).expect("write");
    }
}

/// Reads from `stream` until one whole message has arrived.
fn await_message(stream: &mut TcpStream, buffer: &mut Vec<u8>) {
    let mut filled = 0;
    while count_messages(&buffer[..filled]).0 == 0 {
        if filled == buffer.len() {
            buffer.resize(buffer.len() * 2, 0);
        }
        let read = stream.read(&mut buffer[filled..]).expect("reply");
        assert!(read > 0, "server closed the connection");
        filled += read;
    }
}

/// `count` connections, each having sent `frame` and received one reply.
fn open_answered(options: &Options, count: usize, frame: &[u8]) -> Vec<TcpStream> {
    let mut buffer = vec![0u8; options.size + 64];
    (0..count)
        .map(|_| {
            let mut stream = connect(options);
            stream.write_all(frame).expect("write");
            await_message(&mut stream, &mut buffer);
            stream
        })
        .collect()
}

/// Opens `count` answered connections in two steps (a third, then the rest), printing
/// `READY n` after each and waiting for a line on stdin before going on: the server's RSS
/// between the two steps is the cost per socket, without its fixed costs (a loop's contexts
/// and buffers, made by the first sockets).
fn hold_idle(options: &Options, count: usize, frame: &[u8]) {
    let first = count / 3;
    let mut held = open_answered(options, first, frame);
    println!("READY {first}");
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    held.extend(open_answered(options, count - first, frame));
    println!("READY {count}");
    let _ = std::io::stdin().lock().read_line(&mut line);
    drop(held);
}

/// Subscribes `count` connections, posts one broadcast and times its arrival on all.
fn fanout(options: &Options, count: usize, subscribe: &[u8]) {
    let mut subscribers = open_answered(options, count, subscribe);
    let path = std::env::var("POST_PATH").unwrap_or_else(|_| "/_broadcast".into());
    let body = std::env::var("POST_BODY").unwrap_or_default();
    let mut http = TcpStream::connect(("127.0.0.1", options.port)).expect("connect");
    let started = Instant::now();
    write!(
        http,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("post");
    let mut buffer = vec![0u8; 64 * 1024];
    let mut first = None;
    for stream in &mut subscribers {
        await_message(stream, &mut buffer);
        first.get_or_insert_with(|| started.elapsed());
    }
    let last = started.elapsed();
    let mut status = [0u8; 12];
    http.read_exact(&mut status).expect("POST answer");
    println!(
        "RESULT fanout={count} first_ms={:.2} last_ms={:.2} post={}",
        first.unwrap_or_default().as_secs_f64() * 1e3,
        last.as_secs_f64() * 1e3,
        String::from_utf8_lossy(&status[9..12])
    );
}

fn main() {
    // `cargo test --all-targets` runs bench binaries too, without `--bench` and without the
    // server they need: nothing to do then.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("a load client: run it with cargo bench (see the file's header)");
        return;
    }
    let options = options();
    let frames: Vec<Vec<u8>> = match &options.message {
        Some(message) => vec![client_frame(message.as_bytes(), options.compress)],
        None => (0..64)
            .map(|v| client_frame(&json_message(options.size, v), options.compress))
            .collect(),
    };
    if let Some(count) = options.fanout {
        fanout(&options, count, &frames[0]);
        return;
    }
    if let Some(count) = options.idle {
        hold_idle(&options, count, &frames[0]);
        return;
    }
    let totals = Arc::new(Totals {
        messages: AtomicU64::new(0),
        compressed: AtomicU64::new(0),
        wire_bytes: AtomicU64::new(0),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let options = Arc::new(options);
    let frames = Arc::new(frames);
    let started = Instant::now();
    let threads: Vec<_> = (0..options.conns)
        .map(|_| {
            let (options, frames, stop, totals) = (
                options.clone(),
                frames.clone(),
                stop.clone(),
                totals.clone(),
            );
            std::thread::spawn(move || echo_loop(&options, &frames, &stop, &totals))
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(options.secs));
    stop.store(true, Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64();
    for thread in threads {
        thread.join().expect("connection thread");
    }
    let messages = totals.messages.load(Ordering::Relaxed);
    let compressed = totals.compressed.load(Ordering::Relaxed);
    let wire = totals.wire_bytes.load(Ordering::Relaxed);
    println!(
        "RESULT msgs={messages} secs={secs:.2} msgs_per_s={:.0} wire_bytes_per_reply={:.1} compressed={:.0}%",
        messages as f64 / secs,
        wire as f64 / messages.max(1) as f64,
        100.0 * compressed as f64 / messages.max(1) as f64,
    );
}
