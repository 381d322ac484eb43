//! The WebSocket frame hot path: the sans-IO connection parses a masked client frame
//! (tungstenite's `FrameHeader`), unmasks its payload in place eight bytes at a time (and
//! validates UTF-8 for text), then the echo is formatted into the output buffer. Throughput is
//! the client frame's bytes. Sizes: 16 B, 1 KiB, 64 KiB.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use uweb::internals::{self, Event, OpCode, WsConn};

const SIZES: [usize; 3] = [16, 1024, 64 * 1024];
/// XOR with 0x20 swaps ASCII letter case, so a text payload stays valid UTF-8 whether the
/// buffer currently holds it masked or unmasked (each iteration unmasks in place).
const MASK: [u8; 4] = [0x20; 4];

/// A masked client frame of `size` payload bytes: letters for text, a byte ramp for binary.
fn client_frame(size: usize, opcode: OpCode) -> Vec<u8> {
    let first = if opcode == OpCode::Text { 0x81 } else { 0x82 };
    let mut frame = vec![first];
    match size {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n < 65536 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&MASK);
    let payload = (0..size).map(|i| match opcode {
        OpCode::Text => b'a' + (i % 26) as u8,
        _ => i as u8,
    });
    frame.extend(payload.map(|b| b ^ 0x20));
    frame
}

fn echo(c: &mut Criterion) {
    for opcode in [OpCode::Binary, OpCode::Text] {
        let mut group = c.benchmark_group(format!("ws_echo_{opcode:?}").to_lowercase());
        for size in SIZES {
            let mut frame = client_frame(size, opcode);
            let mut out = Vec::with_capacity(size + 16);
            let mut conn = WsConn::new();
            group.throughput(Throughput::Bytes(frame.len() as u64));
            group.bench_function(BenchmarkId::from_parameter(size), |b| {
                b.iter(|| {
                    out.clear();
                    let (used, event) = conn.next(black_box(&mut frame), &mut out, 1 << 20);
                    match event {
                        Some(Event::Message(payload, op)) => conn.send(&mut out, &payload, op),
                        other => panic!("unexpected {other:?}"),
                    };
                    black_box((used, &out));
                });
            });
        }
        group.finish();
    }
}

fn unmask(c: &mut Criterion) {
    let mut group = c.benchmark_group("ws_unmask");
    for size in SIZES {
        let mut payload = vec![0x5a; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| internals::unmask(black_box(&mut payload), [1, 2, 3, 4], 0));
        });
    }
    group.finish();
}

/// The header parser alone: the hand-written one against tungstenite's `FrameHeader::parse`
/// (the reason the connection uses its own).
fn parse_header(c: &mut Criterion) {
    let mut group = c.benchmark_group("ws_parse_header");
    for size in SIZES {
        let frame = client_frame(size, OpCode::Binary);
        group.bench_function(BenchmarkId::new("uweb", size), |b| {
            b.iter(|| internals::parse_header(black_box(&frame)));
        });
        group.bench_function(BenchmarkId::new("tungstenite", size), |b| {
            b.iter(|| internals::parse_header_tungstenite(black_box(&frame)));
        });
    }
    group.finish();
}

criterion_group!(benches, echo, unmask, parse_header);
criterion_main!(benches);
