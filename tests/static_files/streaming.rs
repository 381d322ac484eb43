//! Large files: streamed under backpressure with every byte checked, memory bounded, a file
//! truncated meanwhile closing the connection, an aborted download closing the file.

use std::time::{Duration, Instant};

use crate::fixture::{Fixture, HELLO, ask, byte_at, read_pattern, serve_reporting, turn};
use crate::support::{Client, DEADLINE, get, request};

#[test]
fn a_large_file_goes_on_after_backpressure_every_byte_checked() {
    let _turn = turn();
    let fixture = Fixture::new();
    // Far more than the socket buffers on the way hold while the client reads nothing.
    const LEN: u64 = (64 << 20) + 12345;
    fixture.large("large.bin", LEN);
    let (server, answered) = serve_reporting(&fixture.root);
    let mut client = Client::connect(server.local_addr());
    // Whole, then a range starting inside a 64 KiB chunk and running to the end (so the
    // positioned reads after backpressure are relative to the range's start).
    let cases = [
        (None, 0, LEN - 1),
        (Some("bytes=1000000-"), 1000000, LEN - 1),
    ];
    for (range, start, end) in cases {
        let fields: &[(&str, &str)] = match range {
            Some(range) => &[("Range", range)],
            None => &[],
        };
        client.send(request("GET", "/static/large.bin", fields));
        // The client reads nothing yet: the socket fills and the handler returns with the
        // body under way, left to `on_writable`.
        assert_eq!(answered.recv_timeout(DEADLINE), Ok(false), "{range:?}");
        let head = client.head_response();
        let len = end - start + 1;
        assert_eq!(head.status, if range.is_some() { 206 } else { 200 });
        assert_eq!(
            head.header("content-length"),
            Some(len.to_string().as_str())
        );
        read_pattern(&mut client, start, len, Duration::ZERO);
    }
    // Small ranges with ends inside 64 KiB chunks.
    for (range, start, end) in [
        ("bytes=65530-200000", 65530, 200000),
        ("bytes=-70000", LEN - 70000, LEN - 1),
    ] {
        client.send(request("GET", "/static/large.bin", &[("Range", range)]));
        let head = client.head_response();
        assert_eq!(head.status, 206, "{range}");
        let content_range = format!("bytes {start}-{end}/{LEN}");
        assert_eq!(head.header("content-range"), Some(content_range.as_str()));
        read_pattern(&mut client, start, end - start + 1, Duration::ZERO);
    }
    // Nothing more than announced was sent: the next response follows at once.
    let next = client.request(get("/static/hello.txt"));
    assert_eq!((next.status, next.body_str()), (200, HELLO));
    server.shutdown();
}

#[test]
fn a_64_mib_file_to_a_slow_reader_keeps_memory_bounded() {
    let _turn = turn();
    let fixture = Fixture::new();
    const LEN: u64 = 64 << 20;
    fixture.large("big.bin", LEN);
    let server = fixture.serve();
    let mut client = Client::connect(server.local_addr());
    client.send(get("/static/big.bin"));
    let head = client.head_response();
    assert_eq!(
        head.header("content-length"),
        Some(LEN.to_string().as_str())
    );
    let peak = read_pattern(&mut client, 0, LEN, Duration::from_millis(1));
    eprintln!("RSS growth during a 64 MiB static download: {peak} bytes");
    // A buffered file would be the whole 64 MiB; one download holds one 64 KiB buffer.
    assert!(peak < 16 << 20, "resident memory grew by {peak} bytes");
    server.shutdown();
}

#[test]
fn a_file_truncated_while_sent_closes_the_connection() {
    let _turn = turn();
    let fixture = Fixture::new();
    // Far more than the socket buffers on the way can hold, so most of it is still to be
    // read from the file when it is truncated.
    const LEN: u64 = 64 << 20;
    let path = fixture.large("shrinking.bin", LEN);
    let server = fixture.serve();
    let mut client = Client::connect(server.local_addr());
    client.send(get("/static/shrinking.bin"));
    let head = client.head_response();
    assert_eq!(
        head.header("content-length"),
        Some(LEN.to_string().as_str())
    );
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    let body = client.read_until_close();
    assert!(
        (body.len() as u64) < LEN,
        "all {LEN} bytes arrived from a truncated file"
    );
    for (i, &b) in body.iter().enumerate() {
        assert_eq!(b, byte_at(i as u64), "byte {i}");
    }
    server.shutdown();
}

#[test]
fn an_aborted_download_closes_the_file() {
    let _turn = turn();
    let fixture = Fixture::new();
    let path = std::fs::canonicalize(fixture.large("aborted.bin", 64 << 20)).unwrap();
    let (server, answered) = serve_reporting(&fixture.root);
    let open_here = || {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .any(|target| target == path)
    };
    let mut client = Client::connect(server.local_addr());
    client.send(get("/static/aborted.bin"));
    // The handler returned with the body under way: the server holds the file while the
    // download waits for the client.
    assert_eq!(answered.recv_timeout(DEADLINE), Ok(false));
    assert!(open_here(), "the file is not open during the download");
    assert_eq!(client.head_response().status, 200);
    drop(client);
    // The loop learns of the close on its own schedule: wait for it, up to the deadline.
    let started = Instant::now();
    while open_here() {
        assert!(started.elapsed() < DEADLINE, "the file stayed open");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The server goes on serving.
    let resp = ask(&server, "GET", "/static/hello.txt", &[]);
    assert_eq!(resp.body_str(), HELLO);
    server.shutdown();
}
