//! Publish fan-out to 1,000 subscribers, end to end on loopback: one server loop, 1,000
//! WebSocket clients subscribed to one topic; each iteration publishes through the app's
//! `Publisher` (hub inbox, wake, fan-out of one shared frame, one `writev` per subscriber) and
//! reads the frame on every client. Throughput counts delivered messages. A second case
//! publishes 16 messages per iteration, which the loop delivers in one write per subscriber.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use uweb::{App, OpCode, Publisher, Server, WebSocketBehavior};

const SUBSCRIBERS: usize = 1000;
const PAYLOAD: &[u8] = b"sixteen bytes!!!";
/// A 16-byte text message arrives as a 2-byte header and the payload.
const FRAME: usize = 2 + 16;

fn subscribe(server: &Server) -> TcpStream {
    let mut stream = TcpStream::connect(server.local_addr()).expect("connect");
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(
            b"GET /feed HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
    // The 101 head, then the "ready" text frame sent once subscribed.
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        seen.push(byte[0]);
    }
    let mut ready = [0u8; 7];
    stream.read_exact(&mut ready).unwrap();
    assert_eq!(&ready, b"\x81\x05ready");
    stream
}

fn setup() -> (Server, Publisher, Vec<TcpStream>) {
    let app = App::new().threads(1).ws::<()>(
        "/feed",
        WebSocketBehavior::new()
            .max_backpressure(1 << 20)
            .open(|ws| {
                ws.subscribe("feed");
                ws.send("ready", OpCode::Text);
            }),
    );
    let publisher = app.publisher();
    let server = app.bind("127.0.0.1:0").expect("bind");
    let clients = (0..SUBSCRIBERS).map(|_| subscribe(&server)).collect();
    (server, publisher, clients)
}

fn fan_out(c: &mut Criterion) {
    let (server, publisher, mut clients) = setup();
    let mut group = c.benchmark_group("pubsub_fan_out_1000");
    for batch in [1usize, 16] {
        let mut buf = vec![0u8; FRAME * batch];
        group.throughput(Throughput::Elements((SUBSCRIBERS * batch) as u64));
        group.bench_function(format!("{batch}_per_iteration"), |b| {
            b.iter(|| {
                for _ in 0..batch {
                    assert!(publisher.publish("feed", black_box(PAYLOAD), OpCode::Text));
                }
                for client in &mut clients {
                    client.read_exact(&mut buf).unwrap();
                    debug_assert_eq!(&buf[2..FRAME], PAYLOAD);
                }
            });
        });
    }
    group.finish();
    drop(clients);
    server.shutdown();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = fan_out
}
criterion_main!(benches);
