//! permessage-deflate (RFC 7692) on real sockets: the handshake's answer to offers, compressed
//! echo with the shared and the dedicated compressor, fragmented compressed messages, RSV1
//! rules (1002), corrupt streams (1007), a decompression bomb (1009 with memory bounded), and
//! one publish reaching compressed and uncompressed subscribers at once.

mod support;
mod ws_support;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use support::serve;
use uweb::{App, CompressOptions, Compressor, OpCode, Publisher, WebSocketBehavior};
use ws_support::{RawWs, frame, handshake_request};

const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];
const OFFER: &str = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";

/// A client-side deflate context (raw, sync flush, tail removed: RFC 7692 section 7.2.1).
struct ClientDeflate(Compress);

impl ClientDeflate {
    fn new() -> Self {
        ClientDeflate(Compress::new(Compression::default(), false))
    }

    fn compress(&mut self, message: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(message.len() + 64);
        self.0
            .compress_vec(message, &mut out, FlushCompress::Sync)
            .unwrap();
        assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - 4);
        out
    }
}

/// A client-side inflate context, kept across messages (a server with context takeover).
struct ClientInflate(Decompress);

impl ClientInflate {
    fn new() -> Self {
        ClientInflate(Decompress::new(false))
    }

    fn inflate(&mut self, payload: &[u8]) -> Vec<u8> {
        let mut input = payload.to_vec();
        input.extend_from_slice(&TAIL);
        let mut out = Vec::with_capacity(1 << 20);
        self.0
            .decompress_vec(&input, &mut out, FlushDecompress::Sync)
            .unwrap();
        out
    }
}

fn echo() -> WebSocketBehavior<()> {
    WebSocketBehavior::new()
        .max_payload_length(1 << 20)
        .max_backpressure(8 << 20)
        .message(|ws, message, opcode| {
            ws.send(message, opcode);
        })
}

/// An echo server: `/s` shared compressor, `/d` dedicated, `/d3` uWebSockets' smallest
/// dedicated compressor (3 KB) with the shared decompressor, `/off` no compression.
fn echo_server() -> uweb::Server {
    let app = App::new()
        .ws("/s", echo().compression(CompressOptions::SHARED))
        .ws("/d", echo().compression(CompressOptions::DEDICATED))
        .ws(
            "/d3",
            echo().compression(CompressOptions::SHARED.compressor(Compressor::DEDICATED_3KB)),
        )
        .ws("/off", echo());
    serve(app, 1)
}

/// Connects to `path` offering `extensions` (field lines); returns the client and the
/// response's `Sec-WebSocket-Extensions` value.
fn connect(addr: std::net::SocketAddr, path: &str, extensions: &str) -> (RawWs, Option<String>) {
    let mut ws = RawWs::open(addr);
    ws.send(handshake_request(path, extensions));
    let head = ws.head();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    let answer = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Extensions: "))
        .map(str::to_owned);
    (ws, answer)
}

fn json_like(len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < len {
        out.extend_from_slice(
            format!("{{\"id\":{i},\"user\":\"ada\",\"text\":\"hello\"}},").as_bytes(),
        );
        i += 1;
    }
    out.truncate(len);
    out
}

#[test]
fn handshake_answers_offers_per_route() {
    let server = echo_server();
    let addr = server.local_addr();
    let shared = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    let cases = [
        ("/s", OFFER, Some(shared)),
        ("/d", OFFER, Some("permessage-deflate")),
        // A 512-byte window is announced unasked (RFC 7692 section 7.1.2.1).
        (
            "/d3",
            OFFER,
            Some("permessage-deflate; client_no_context_takeover; server_max_window_bits=9"),
        ),
        ("/off", OFFER, None),
        ("/s", "", None),
        // Declined offers: the handshake still succeeds, without the extension.
        (
            "/s",
            "Sec-WebSocket-Extensions: permessage-deflate; bogus\r\n",
            None,
        ),
        (
            "/d",
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8\r\n",
            None,
        ),
        // The first acceptable offer, across two fields.
        (
            "/d",
            "Sec-WebSocket-Extensions: x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=99\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n",
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
    ];
    for (path, offer, expected) in cases {
        let (_, answer) = connect(addr, path, offer);
        assert_eq!(answer.as_deref(), expected, "{path} {offer:?}");
    }
}

/// Sends messages compressed and uncompressed, and checks the echoes come back compressed
/// and inflate to them. With `client_reset` (the server answered
/// `client_no_context_takeover`) the client compresses each message on its own.
fn echo_round_trip(path: &str, client_reset: bool) {
    let server = echo_server();
    let (mut ws, answer) = connect(server.local_addr(), path, OFFER);
    assert!(answer.is_some());
    let mut deflate = ClientDeflate::new();
    let mut inflate = ClientInflate::new();
    for len in [64, 1000, 100_000] {
        let message = json_like(len);
        if client_reset {
            deflate = ClientDeflate::new();
        }
        ws.send(frame(0xc1, &deflate.compress(&message)));
        let (first, payload) = ws.frame().unwrap();
        assert_eq!(first, 0xc1, "FIN, RSV1, text");
        assert!(
            payload.len() < message.len(),
            "{} >= {}",
            payload.len(),
            len
        );
        assert_eq!(inflate.inflate(&payload), message);
        // An uncompressed message is answered compressed too (at least the threshold).
        ws.send(frame(0x82, &message));
        let (first, payload) = ws.frame().unwrap();
        assert_eq!(first, 0xc2, "FIN, RSV1, binary");
        assert_eq!(inflate.inflate(&payload), message);
    }
    // Under the threshold (64 bytes): sent uncompressed.
    if client_reset {
        deflate = ClientDeflate::new();
    }
    ws.send(frame(0xc1, &deflate.compress(b"short")));
    assert_eq!(ws.frame().unwrap(), (0x81, b"short".to_vec()));
    // A ping is answered with an uncompressed pong.
    ws.send(frame(0x89, b"p"));
    assert_eq!(ws.frame().unwrap(), (0x8a, b"p".to_vec()));
}

#[test]
fn shared_compressor_echoes_compressed() {
    echo_round_trip("/s", true);
}

#[test]
fn dedicated_compressor_echoes_compressed() {
    echo_round_trip("/d", false);
}

#[test]
fn smallest_dedicated_compressor_echoes_compressed() {
    echo_round_trip("/d3", true);
}

#[test]
fn dedicated_compressors_keep_their_context() {
    // The second message must be under 1/3 (32 KB window) or 3/4 (3 KB: its small hash
    // tables find fewer matches) of the first.
    for (path, bound) in [("/d", (1, 3)), ("/d3", (3, 4))] {
        dedicated_compressor_keeps_its_context(path, bound);
    }
}

fn dedicated_compressor_keeps_its_context(path: &str, (num, den): (usize, usize)) {
    let server = echo_server();
    let (mut ws, _) = connect(server.local_addr(), path, OFFER);
    let message = json_like(300);
    let mut inflate = ClientInflate::new();
    let mut sizes = Vec::new();
    for _ in 0..2 {
        ws.send(frame(0x81, &message));
        let (first, payload) = ws.frame().unwrap();
        assert_eq!(first, 0xc1);
        assert_eq!(inflate.inflate(&payload), message);
        sizes.push(payload.len());
    }
    // The second refers back to the first (context takeover): a fraction of its size.
    assert!(sizes[1] * den < sizes[0] * num, "{path}: {sizes:?}");
}

#[test]
fn fragmented_compressed_message() {
    let server = echo_server();
    for path in ["/s", "/d"] {
        let (mut ws, _) = connect(server.local_addr(), path, OFFER);
        let message = json_like(5000);
        let compressed = ClientDeflate::new().compress(&message);
        let third = compressed.len() / 3;
        // RSV1 on the first frame only (RFC 7692 section 6.1).
        ws.send(frame(0x41, &compressed[..third]));
        ws.send(frame(0x00, &compressed[third..2 * third]));
        ws.send(frame(0x80, &compressed[2 * third..]));
        let (first, payload) = ws.frame().unwrap();
        assert_eq!(first, 0xc1);
        assert_eq!(ClientInflate::new().inflate(&payload), message);
    }
}

#[test]
fn reserved_bits_outside_the_rules_get_1002() {
    let server = echo_server();
    let addr = server.local_addr();
    let compressed = ClientDeflate::new().compress(&json_like(200));
    // RSV1 without permessage-deflate negotiated.
    let (mut ws, _) = connect(addr, "/off", OFFER);
    ws.send(frame(0xc1, &compressed));
    ws.expect_close(1002);
    let (mut ws, _) = connect(addr, "/s", "");
    ws.send(frame(0xc1, &compressed));
    ws.expect_close(1002);
    // RSV1 on a continuation frame.
    let (mut ws, _) = connect(addr, "/s", OFFER);
    ws.send(frame(0x41, &compressed[..10]));
    ws.send(frame(0xc0, &compressed[10..]));
    ws.expect_close(1002);
    // RSV1 on a control frame.
    let (mut ws, _) = connect(addr, "/s", OFFER);
    ws.send(frame(0xc9, b"ping"));
    ws.expect_close(1002);
    // RSV2 means nothing here.
    let (mut ws, _) = connect(addr, "/s", OFFER);
    ws.send(frame(0xa1, b"text"));
    ws.expect_close(1002);
}

#[test]
fn corrupt_stream_or_bad_utf8_gets_1007() {
    let server = echo_server();
    let (mut ws, _) = connect(server.local_addr(), "/s", OFFER);
    ws.send(frame(0xc1, &[0xff, 0xff, 0xff, 0xff, 0xff]));
    ws.expect_close(1007);
    let (mut ws, _) = connect(server.local_addr(), "/d", OFFER);
    ws.send(frame(
        0xc1,
        &ClientDeflate::new().compress(&[0xc3, 0x28, 0x41]),
    ));
    ws.expect_close(1007);
}

/// Resident memory of this process (which runs the server), in bytes.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

#[test]
fn decompression_bomb_gets_1009_with_memory_bounded() {
    let server = echo_server();
    let addr = server.local_addr();
    let zeros = vec![0u8; 10 << 20];
    let mut bomb = ClientDeflate(Compress::new(Compression::best(), false)).compress(&zeros);
    drop(zeros);
    assert!(bomb.len() < 20_000, "{}", bomb.len());
    let before = rss();
    for path in ["/s", "/d"] {
        let (mut ws, _) = connect(addr, path, OFFER);
        let mut other = connect(addr, path, OFFER).0;
        ws.send(frame(0xc2, &bomb));
        ws.expect_close(1009);
        // Another socket on the loop is served meanwhile.
        other.send(frame(0x81, b"still here"));
        assert_eq!(other.frame().unwrap(), (0x81, b"still here".to_vec()));
    }
    let grown = rss().saturating_sub(before);
    // The limit is 1 MiB: inflating stops there, never near the 10 MiB the bomb holds.
    assert!(grown < 8 << 20, "RSS grew by {grown} bytes");
    // The same bomb split in fragments is stopped the same way.
    let (mut ws, _) = connect(addr, "/s", OFFER);
    let half = bomb.len() / 2;
    let rest = bomb.split_off(half);
    ws.send(frame(0x42, &bomb));
    ws.send(frame(0x80, &rest));
    ws.expect_close(1009);
}

#[test]
fn publish_reaches_compressed_and_plain_subscribers() {
    let room = |options| {
        WebSocketBehavior::<()>::new()
            .compression(options)
            .open(|ws| {
                ws.subscribe("room");
                ws.send("ready", OpCode::Text);
            })
            .message(|ws, message, opcode| {
                ws.publish("room", message, opcode);
            })
    };
    let app = App::new()
        .ws("/s", room(CompressOptions::SHARED))
        .ws("/d", room(CompressOptions::DEDICATED))
        .ws("/off", room(CompressOptions::DISABLED));
    let publisher: Publisher = app.publisher();
    let server = serve(app, 2);
    let addr = server.local_addr();
    let mut shared_a = connect(addr, "/s", OFFER).0;
    let mut shared_b = connect(addr, "/s", OFFER).0;
    let mut dedicated = connect(addr, "/d", OFFER).0;
    let mut plain_on_shared = connect(addr, "/s", "").0;
    let mut plain = connect(addr, "/off", OFFER).0;
    let mut sender = connect(addr, "/off", "").0;
    let mut all = [
        &mut shared_a,
        &mut shared_b,
        &mut dedicated,
        &mut plain_on_shared,
        &mut plain,
        &mut sender,
    ];
    for ws in all.iter_mut() {
        assert_eq!(ws.frame().unwrap(), (0x81, b"ready".to_vec()));
    }
    let message = json_like(2000);
    let mut inflaters: Vec<ClientInflate> = (0..5).map(|_| ClientInflate::new()).collect();
    let mut receive = |all: &mut [&mut RawWs; 6], opcode: u8| {
        let compressed = [true, true, true, false, false];
        for (i, ws) in all.iter_mut().take(5).enumerate() {
            let (first, payload) = ws.frame().unwrap();
            match compressed[i] {
                true => {
                    assert_eq!(first, 0xc0 | opcode, "subscriber {i}");
                    assert_eq!(inflaters[i].inflate(&payload), message, "subscriber {i}");
                }
                false => assert_eq!(
                    (first, &payload),
                    (0x80 | opcode, &message),
                    "subscriber {i}"
                ),
            }
        }
    };
    // From a socket's callback, then from another thread.
    all[5].send(frame(0x81, &message));
    receive(&mut all, 0x1);
    assert!(publisher.publish("room", &message, OpCode::Binary));
    receive(&mut all, 0x2);
    // The sender gets only the Publisher's message (not its own).
    assert_eq!(all[5].frame().unwrap(), (0x82, message.clone()));
}
