//! Heap allocations on the keep-alive request path: a real server (one loop), a raw client, and
//! a counting global allocator that sees the threads taking part: the test's own thread and the
//! server's loop thread (each marks itself with `take_part`; the loop thread does it in the
//! handler it runs during warm-up). The test harness's own thread is left out: it prints another
//! test's result whenever that test ends, which would otherwise land in a measured window.
//!
//! After a warm-up, 1,000 requests one at a time and 1,000 more pipelined 16 per write must
//! allocate nothing at all, server or client side; so must the loop's once-a-second tick. To find an allocation that shows up, run
//! `UWEB_ALLOC_TRACE=1 cargo test --test alloc -- --nocapture --include-ignored`: every
//! allocation in the measured phase prints its thread and backtrace.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use uweb::App;

/// `System`, counting allocations (and reallocations) while `COUNTING` is set.
struct CountingAlloc;

/// Allocations seen while counting.
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
/// Count only during the measured phase.
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Print a backtrace for each counted allocation (`UWEB_ALLOC_TRACE`).
static TRACE: AtomicBool = AtomicBool::new(false);

/// The count is process-wide: tests that count take turns.
static SERIAL: Mutex<()> = Mutex::new(());

thread_local! {
    /// Set while this thread prints a trace, whose own allocations are not traced again.
    static TRACING: Cell<bool> = const { Cell::new(false) };
    /// Set on the threads whose allocations count (see `take_part`).
    static TAKES_PART: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as one whose allocations are counted.
fn take_part() {
    TAKES_PART.with(|t| t.set(true));
}

impl CountingAlloc {
    fn note(&self, layout: Layout) {
        if !COUNTING.load(Ordering::Relaxed) || !TAKES_PART.with(Cell::get) {
            return;
        }
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        if TRACE.load(Ordering::Relaxed) && !TRACING.with(Cell::get) {
            TRACING.with(|t| t.set(true));
            let thread = std::thread::current();
            let backtrace = std::backtrace::Backtrace::force_capture();
            eprintln!(
                "allocation of {} bytes on thread {:?}:\n{backtrace}",
                layout.size(),
                thread.name()
            );
            TRACING.with(|t| t.set(false));
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees hold; `note` only touches atomics and a const-initialised thread-local (neither
// allocates), and allocates itself only in the opt-in trace mode, guarded against recursion.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.note(layout);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.note(layout);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.note(layout);
        // SAFETY: `ptr` was allocated by `System` (every allocation goes through it) with
        // `layout`, as the caller guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// wrk's plaintext request, for the route at `path`.
fn request(path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n\
         Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n\
         Connection: keep-alive\r\n\r\n"
    )
    .into_bytes()
}
const BODY: &[u8] = b"Hello, World!";
const MEASURED: usize = 1_000;
const PIPELINE: usize = 16;

/// Runs `f` with allocation counting on; returns how many allocations it saw.
fn count(f: impl FnOnce()) -> usize {
    ALLOCATIONS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    f();
    COUNTING.store(false, Ordering::SeqCst);
    ALLOCATIONS.swap(0, Ordering::SeqCst)
}

/// Reads `n` responses of `len` bytes each into `buf` and checks each one.
fn read_responses(stream: &mut TcpStream, buf: &mut [u8], len: usize, n: usize) {
    let buf = &mut buf[..len * n];
    stream.read_exact(buf).expect("read responses");
    for response in buf.chunks(len) {
        assert!(response.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(response.ends_with(BODY));
    }
}

/// A server with one loop answering `GET /plaintext` in its handler and `GET /later` through a
/// deferred response ended from the loop itself, and a keep-alive client of one of them, warmed
/// up with both request patterns, so every buffer on both sides has reached its working size.
struct Setup {
    /// The request this client sends.
    request: Vec<u8>,
    server: uweb::Server,
    stream: TcpStream,
    /// Taken before the server started: its loop's first tick comes at least 1 s later.
    started: Instant,
    /// Length of every response (the `Date` line is fixed-width).
    len: usize,
    /// `PIPELINE` requests back to back.
    batch: Vec<u8>,
    /// Room for `PIPELINE` responses.
    buf: Vec<u8>,
}

impl Setup {
    fn new(path: &str) -> Setup {
        let started = Instant::now();
        let request = request(path);
        let server = App::new()
            .threads(1)
            .get("/plaintext", |res, _req| {
                take_part();
                res.write_header("Content-Type", "text/plain")
                    .write_header("Server", "uweb")
                    .end(BODY);
            })
            .get("/later", |res, _req| {
                take_part();
                let mut later = res.defer();
                later
                    .write_header("Content-Type", "text/plain")
                    .write_header("Server", "uweb");
                later.end(BODY);
            })
            .bind("127.0.0.1:0")
            .expect("bind");
        let mut stream = TcpStream::connect(server.local_addr()).expect("connect");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();

        stream.write_all(&request).unwrap();
        let mut first = Vec::new();
        let mut chunk = [0u8; 1024];
        while !first.ends_with(BODY) {
            let n = stream.read(&mut chunk).expect("first response");
            assert!(n > 0, "closed during the first response");
            first.extend_from_slice(&chunk[..n]);
        }
        let len = first.len();
        let mut setup = Setup {
            server,
            stream,
            started,
            len,
            batch: request.repeat(PIPELINE),
            request,
            buf: vec![0u8; len * PIPELINE],
        };
        for _ in 0..100 {
            setup.one();
        }
        for _ in 0..10 {
            setup.pipelined(PIPELINE);
        }
        setup
    }

    /// One request, one response.
    fn one(&mut self) {
        self.stream.write_all(&self.request).unwrap();
        read_responses(&mut self.stream, &mut self.buf, self.len, 1);
    }

    /// `n` requests in one write, then their `n` responses.
    fn pipelined(&mut self, n: usize) {
        self.stream
            .write_all(&self.batch[..n * self.request.len()])
            .unwrap();
        read_responses(&mut self.stream, &mut self.buf, self.len, n);
    }

    fn shutdown(self) {
        drop(self.stream);
        self.server.shutdown();
    }
}

/// The request path allocates nothing: 1,000 requests one at a time, then 1,000 pipelined.
///
/// The loop's once-a-second housekeeping is kept out of the window (it allocates: see
/// `date_refresh_does_not_allocate`): the whole measurement must end within the first second
/// of the server's life, before its first tick, which takes about 50 ms in a debug build; a
/// machine too slow for that gets a fresh server and another try.
#[test]
fn keep_alive_requests_do_not_allocate() {
    requests_do_not_allocate("/plaintext");
}

/// Nor do responses deferred and ended from the loop itself: the ticket, the handle's call list
/// and the held state are spares the loop reuses, and the loop's mailbox takes its own letters
/// without growing.
#[test]
fn deferred_answers_from_the_loop_do_not_allocate() {
    requests_do_not_allocate("/later");
}

/// 1,000 requests to `path` one at a time, then 1,000 pipelined, allocate nothing.
fn requests_do_not_allocate(path: &str) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    take_part();
    let probe = count(|| drop(std::hint::black_box(vec![0u8; 8])));
    assert_eq!(
        probe, 1,
        "the counting allocator must see this test's own allocation"
    );
    // After the probe, whose trace would allocate and be counted too.
    TRACE.store(
        std::env::var_os("UWEB_ALLOC_TRACE").is_some(),
        Ordering::SeqCst,
    );
    for attempt in 1..=5 {
        let mut setup = Setup::new(path);
        let one_at_a_time = count(|| {
            for _ in 0..MEASURED {
                setup.one();
            }
        });
        let pipelined = count(|| {
            let mut left = MEASURED;
            while left > 0 {
                let n = left.min(PIPELINE);
                setup.pipelined(n);
                left -= n;
            }
        });
        let before_first_tick = setup.started.elapsed() < Duration::from_millis(990);
        setup.shutdown();
        if !before_first_tick {
            eprintln!("attempt {attempt}: too slow to finish before the loop's first tick");
            continue;
        }
        assert_eq!(
            (one_at_a_time, pipelined),
            (0, 0),
            "allocations during {MEASURED} requests to {path} (one at a time, pipelined by {PIPELINE})"
        );
        return;
    }
    panic!("no attempt finished within the server's first second");
}

/// The loop's one-second tick refreshes the cached `Date` line; it should not allocate either.
#[test]
fn date_refresh_does_not_allocate() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    take_part();
    TRACE.store(
        std::env::var_os("UWEB_ALLOC_TRACE").is_some(),
        Ordering::SeqCst,
    );
    let mut setup = Setup::new("/plaintext");
    let allocations = count(|| {
        setup.one();
        // Past the first tick (1 s after the loop started) and the second.
        std::thread::sleep(Duration::from_millis(2100).saturating_sub(setup.started.elapsed()));
        setup.one();
    });
    setup.shutdown();
    assert_eq!(allocations, 0, "allocations over two ticks of an idle loop");
}

/// A masked client frame (binary) carrying `payload`.
fn ws_frame(payload: &[u8]) -> Vec<u8> {
    let mask = [0x11, 0x22, 0x33, 0x44];
    let mut frame = vec![0x82];
    if payload.len() < 126 {
        frame.push(0x80 | payload.len() as u8);
    } else {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// The WebSocket echo path allocates nothing: 16-byte messages one at a time and pipelined
/// 16 per write, and 4 KiB messages one at a time, each answered from the read buffer
/// (unmasked in place) through the cork. Same first-second window as the HTTP test.
#[test]
fn websocket_echo_does_not_allocate() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    take_part();
    TRACE.store(
        std::env::var_os("UWEB_ALLOC_TRACE").is_some(),
        Ordering::SeqCst,
    );
    let small = ws_frame(&[7u8; 16]);
    let large = ws_frame(&[9u8; 4096]);
    let batch = small.repeat(PIPELINE);
    let (small_echo, large_echo) = (2 + 16, 4 + 4096);
    let mut buf = vec![0u8; large_echo.max(small_echo * PIPELINE)];
    for attempt in 1..=5 {
        let started = Instant::now();
        let server = App::new()
            .threads(1)
            .ws::<()>(
                "/echo",
                uweb::WebSocketBehavior::new().message(|ws, msg, opcode| {
                    take_part();
                    ws.send(msg, opcode);
                }),
            )
            .bind("127.0.0.1:0")
            .expect("bind");
        let mut stream = TcpStream::connect(server.local_addr()).expect("connect");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream
            .write_all(
                b"GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            )
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("101 response");
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101 "));
        let mut echo = |frame: &[u8], len: usize, buf: &mut [u8]| {
            stream.write_all(frame).unwrap();
            stream.read_exact(&mut buf[..len]).expect("echo");
            assert_eq!(buf[0], 0x82);
        };
        for _ in 0..100 {
            echo(&small, small_echo, &mut buf);
            echo(&large, large_echo, &mut buf);
            echo(&batch, small_echo * PIPELINE, &mut buf);
        }
        let allocations = count(|| {
            for _ in 0..MEASURED {
                echo(&small, small_echo, &mut buf);
            }
            for _ in 0..MEASURED / PIPELINE {
                echo(&batch, small_echo * PIPELINE, &mut buf);
            }
            for _ in 0..MEASURED {
                echo(&large, large_echo, &mut buf);
            }
        });
        let before_first_tick = started.elapsed() < Duration::from_millis(990);
        drop(stream);
        server.shutdown();
        if !before_first_tick {
            eprintln!("attempt {attempt}: too slow to finish before the loop's first tick");
            continue;
        }
        assert_eq!(allocations, 0, "allocations during WebSocket echoes");
        return;
    }
    panic!("no attempt finished within the server's first second");
}
