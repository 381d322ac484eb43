//! The test directory, the app serving it, and helpers shared by the static file tests.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use crate::support::{Client, DEADLINE, Response, request, serve};
use uweb::fs::{ServeDir, ServeFile};
use uweb::{App, Server};

/// What must never reach a client: the content of the files outside the root.
pub(crate) const SECRET: &str = "TOP SECRET, outside the root";
pub(crate) const HELLO: &str = "Hello, static world!\n";
pub(crate) const DIGITS: &str = "0123456789abcdefghijklmnopqrstuvwxyz";
pub(crate) const INDEX: &str = "<!doctype html><h1>sub</h1>\n";

/// Resident memory is process-wide and one test measures it: the tests of this file take
/// turns (the large downloads of the others would show in its measure).
static TURN: Mutex<()> = Mutex::new(());

pub(crate) fn turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The byte at `offset` of the large files: a pattern that shows a lost or reordered byte.
pub(crate) fn byte_at(offset: u64) -> u8 {
    (offset % 251) as u8
}

/// A temporary directory, removed on drop:
/// ```text
/// <base>/Cargo.toml, <base>/secret.txt     SECRET (outside the root)
/// <base>/root/hello.txt                    HELLO
///            /digits.txt                   DIGITS (36 bytes)
///            /a b.txt, style.css, image.png, data.bin, noext
///            /sub/index.html               INDEX
///            /empty/                       (no index)
///            /escape.txt -> ../secret.txt  (symlink out of the root)
///            /escape_dir -> ..             (symlink out of the root)
///            /inside.txt -> hello.txt      (symlink within the root)
/// ```
pub(crate) struct Fixture {
    base: PathBuf,
    pub(crate) root: PathBuf,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let base = std::env::temp_dir().join(format!("uweb-static-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        let files: &[(&Path, &[u8])] = &[
            (&base.join("Cargo.toml"), SECRET.as_bytes()),
            (&base.join("secret.txt"), SECRET.as_bytes()),
            (&root.join("hello.txt"), HELLO.as_bytes()),
            (&root.join("digits.txt"), DIGITS.as_bytes()),
            (&root.join("a b.txt"), b"spaced"),
            (&root.join("style.css"), b"body {}"),
            (&root.join("image.png"), b"\x89PNG\r\n\x1a\n"),
            (&root.join("data.bin"), &[0, 1, 2, 255]),
            (&root.join("noext"), b"?"),
            (&root.join("sub/index.html"), INDEX.as_bytes()),
        ];
        for (path, content) in files {
            std::fs::write(path, content).unwrap();
        }
        std::os::unix::fs::symlink("../secret.txt", root.join("escape.txt")).unwrap();
        std::os::unix::fs::symlink("..", root.join("escape_dir")).unwrap();
        std::os::unix::fs::symlink("hello.txt", root.join("inside.txt")).unwrap();
        Fixture { base, root }
    }

    /// Writes `root/name`, `len` bytes of the [`byte_at`] pattern.
    pub(crate) fn large(&self, name: &str, len: u64) -> PathBuf {
        let path = self.root.join(name);
        let period: Vec<u8> = (0..251 * 1024).map(byte_at).collect();
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut left = len;
        while left > 0 {
            let n = left.min(period.len() as u64) as usize;
            std::io::Write::write_all(&mut file, &period[..n]).unwrap();
            left -= n as u64;
        }
        std::io::Write::flush(&mut file).unwrap();
        path
    }

    /// The app under test: the root under `/static/`, and `hello.txt` alone as `/one`.
    pub(crate) fn serve(&self) -> Server {
        let app = App::new()
            .get(
                "/static/*",
                ServeDir::new(&self.root).prefix("/static").handler(),
            )
            .get(
                "/one",
                ServeFile::new(self.root.join("hello.txt")).handler(),
            )
            .get("/gone", ServeFile::new(self.root.join("nope")).handler());
        serve(app, 1)
    }

    /// `Last-Modified` as the server should send it for `root/name`.
    pub(crate) fn last_modified(&self, name: &str) -> String {
        let mtime = std::fs::metadata(self.root.join(name))
            .unwrap()
            .modified()
            .unwrap();
        httpdate::fmt_http_date(mtime)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Sends `method path` with `fields` on a fresh connection and reads the response (the head
/// only for HEAD).
pub(crate) fn ask(server: &Server, method: &str, path: &str, fields: &[(&str, &str)]) -> Response {
    let mut client = Client::connect(server.local_addr());
    client.send(request(method, path, fields));
    match method {
        "HEAD" => client.head_response(),
        _ => client.response(),
    }
}

pub(crate) fn etag_of(resp: &Response) -> String {
    resp.header("etag").expect("ETag").to_owned()
}

/// Reads the body of `len` bytes that follows a response head, checking every byte against
/// the pattern from `first` on; `pause`: wait this long between reads (a slow client).
/// Returns the largest growth of resident memory seen while reading.
pub(crate) fn read_pattern(client: &mut Client, first: u64, len: u64, pause: Duration) -> u64 {
    let mut got = 0u64;
    for b in client.take_pending() {
        assert_eq!(b, byte_at(first + got), "byte {got}");
        got += 1;
    }
    let base = rss();
    let mut peak = 0;
    let mut buf = vec![0u8; 256 * 1024];
    let started = Instant::now();
    while got < len {
        assert!(started.elapsed() < DEADLINE * 3, "download too slow");
        let n = client.stream.read(&mut buf).expect("read body");
        assert!(n > 0, "closed after {got} of {len} bytes");
        for &b in &buf[..n] {
            assert_eq!(b, byte_at(first + got), "byte {got}");
            got += 1;
        }
        assert!(got <= len, "more than announced");
        peak = peak.max(rss().saturating_sub(base));
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
    peak
}

/// Resident memory of this process (server and client), in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// The root under `/static/` through a handler that reports, once `ServeDir::serve` returns,
/// whether the response is complete (`false`: the rest of the body waits for the socket).
pub(crate) fn serve_reporting(root: &Path) -> (Server, mpsc::Receiver<bool>) {
    let (tx, answered) = mpsc::channel();
    let tx = Mutex::new(tx);
    let dir = ServeDir::new(root).prefix("/static");
    let app = App::new().get("/static/*", move |res, req| {
        dir.serve(res, req);
        tx.lock().unwrap().send(res.has_responded()).unwrap();
    });
    (serve(app, 1), answered)
}
