//! Bodies of known size streamed under backpressure (uWebSockets' `tryEnd` / `onWritable` /
//! `getWriteOffset`): a 64 MiB download to a slow reader keeps the server's memory bounded,
//! from the handler and from a deferred handle; HEAD gets the fields only.

mod support;

use std::io::Read;
use std::sync::{Arc, Mutex};

use support::{Client, DEADLINE, get, request, serve};
use uweb::{App, HttpResponse};

const TOTAL: u64 = 64 << 20;
const CHUNK: usize = 64 << 10;

/// The body byte at `offset`: a pattern the reader checks, so nothing is lost or reordered.
fn byte_at(offset: u64) -> u8 {
    (offset % 251) as u8
}

/// Sends from the write offset on until the kernel pushes back or the body is complete;
/// returns whether it is complete. The chunk is cut from a pattern 251 bytes periodic, so a
/// slice of `data` at `offset % 251` is the body from `offset`.
fn pump(res: &mut HttpResponse<'_>, data: &[u8]) -> bool {
    loop {
        let offset = res.write_offset();
        let start = (offset % 251) as usize;
        let len = CHUNK.min((TOTAL - offset) as usize);
        let (ok, done) = res.try_end(&data[start..start + len], TOTAL);
        if done {
            return true;
        }
        if !ok {
            return false;
        }
    }
}

/// One period of slack beyond a chunk, so any offset can start a slice.
fn pattern() -> Arc<Vec<u8>> {
    Arc::new((0..(CHUNK as u64 + 251)).map(byte_at).collect())
}

/// Resident memory of this process (server and client), in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmRSS value");
    kib * 1024
}

/// Reads the 64 MiB body slowly (pausing between reads, as a client on a slow link would),
/// checking every byte; returns the largest growth of resident memory seen meanwhile.
fn read_slowly(client: &mut Client) -> u64 {
    let head = client.head_response();
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(TOTAL.to_string().as_str())
    );
    let mut offset = 0u64;
    for b in client.take_pending() {
        assert_eq!(b, byte_at(offset), "byte {offset}");
        offset += 1;
    }
    let base = rss();
    let mut peak = 0;
    let mut buf = vec![0u8; 256 * 1024];
    let started = std::time::Instant::now();
    while offset < TOTAL {
        assert!(started.elapsed() < DEADLINE * 3, "download too slow");
        let n = client.stream.read(&mut buf).expect("read body");
        assert!(n > 0, "closed at {offset}");
        for &b in &buf[..n] {
            assert_eq!(b, byte_at(offset), "byte {offset}");
            offset += 1;
        }
        peak = peak.max(rss().saturating_sub(base));
        // A slow reader: the server must wait for it, not buffer the body.
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    peak
}

/// Resident memory is process-wide: the tests of this file take turns (a panic's backtrace
/// alone, in a test running alongside, adds tens of MiB).
static MEASURING: Mutex<()> = Mutex::new(());

/// Bounded memory: at most this much growth while 64 MiB stream (a buffered body would be
/// the whole 64 MiB).
const RSS_BOUND: u64 = 16 << 20;

#[test]
fn a_64_mib_download_from_the_handler_keeps_memory_bounded() {
    let _turn = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let data = pattern();
    let server = serve(
        App::new().get("/big", move |res, _req| {
            if !pump(res, &data) {
                let data = Arc::clone(&data);
                res.on_writable(move |res, _offset| pump(res, &data));
                res.on_aborted(|| {});
            }
        }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    client.send(get("/big"));
    let peak = read_slowly(&mut client);
    assert!(peak < RSS_BOUND, "resident memory grew by {peak} bytes");
    // The connection is still usable: the response ended exactly at its length.
    client.send(get("/big"));
    let again = read_slowly(&mut client);
    assert!(again < RSS_BOUND, "resident memory grew by {again} bytes");
    eprintln!("RSS growth during 64 MiB downloads: {peak} and {again} bytes");
    server.shutdown();
}

#[test]
fn a_deferred_handle_streams_with_on_writable_from_another_thread() {
    let _turn = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let data = pattern();
    let server = serve(
        App::new().get("/big", move |res, _req| {
            let mut later = res.defer();
            let data = Arc::clone(&data);
            std::thread::spawn(move || {
                later.cork(move |res| {
                    if !pump(res, &data) {
                        res.on_writable(move |res, _offset| pump(res, &data));
                    }
                });
            });
        }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    client.send(get("/big"));
    let peak = read_slowly(&mut client);
    eprintln!("RSS growth during a 64 MiB download from a deferred handle: {peak} bytes");
    assert!(peak < RSS_BOUND, "resident memory grew by {peak} bytes");
    server.shutdown();
}

#[test]
fn try_end_pieces_and_head() {
    let _turn = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let (tx, seen) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    let server = serve(
        App::new().any("/pieces", move |res, _req| {
            let first = (res.try_end("hello ", 11), res.write_offset());
            // Past the announced size: cut at it.
            let second = (res.try_end("world and more", 11), res.write_offset());
            // Complete: nothing more goes out.
            let third = res.try_end("!", 11);
            tx.lock().unwrap().send((first, second, third)).unwrap();
        }),
        1,
    );
    let mut client = Client::connect(server.local_addr());
    let resp = client.request(get("/pieces"));
    assert_eq!(resp.header("content-length"), Some("11"));
    assert_eq!(resp.body_str(), "hello world");
    assert_eq!(
        seen.recv_timeout(DEADLINE).unwrap(),
        (((true, false), 6), ((true, true), 11), (false, true))
    );
    // HEAD: the fields, and the response is done at the first call.
    client.send(request("HEAD", "/pieces", &[]));
    let head = client.head_response();
    assert_eq!(head.header("content-length"), Some("11"));
    assert_eq!(
        seen.recv_timeout(DEADLINE).unwrap(),
        (((true, true), 0), ((false, true), 0), (false, true))
    );
    assert_eq!(client.request(get("/pieces")).body_str(), "hello world");
    server.shutdown();
}
