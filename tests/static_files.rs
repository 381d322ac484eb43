//! Static files (`uweb::fs`): a directory made here, served under `/static/`, read back by a
//! raw client: fields and validators, `HEAD`, `304`, ranges (`206`, `416`), a body larger than
//! the socket buffers (every byte checked), directory index, and no way out of the root.

mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::{Client, fetch, get, request, serve};
use uweb::App;
use uweb::fs::{ServeDir, ServeFile};

/// A fresh directory with known files: `hello.txt`, `big.bin` (3 MiB of a pattern),
/// `docs/index.html`, `empty/`, and `escape` -> a file outside the root.
struct Site {
    root: PathBuf,
    outside: PathBuf,
}

impl Site {
    fn new() -> Site {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let base = std::env::temp_dir().join(format!("uweb-static-{}-{n}", std::process::id()));
        let root = base.join("root");
        std::fs::create_dir_all(root.join("docs")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("hello.txt"), "hello, static world\n").unwrap();
        std::fs::write(root.join("big.bin"), big()).unwrap();
        std::fs::write(root.join("docs/index.html"), "<h1>docs</h1>").unwrap();
        let outside = base.join("secret.txt");
        std::fs::write(&outside, "SECRET").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
        Site { root, outside }
    }

    fn app(&self) -> App {
        App::new()
            .get(
                "/static/*",
                ServeDir::new(&self.root).prefix("/static").handler(),
            )
            .get(
                "/one",
                ServeFile::new(self.root.join("hello.txt")).handler(),
            )
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.root.parent().unwrap());
    }
}

fn big() -> Vec<u8> {
    (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect()
}

#[test]
fn files_with_their_fields_and_head() {
    let site = Site::new();
    let server = serve(site.app(), 1);
    let mut client = Client::connect(server.local_addr());
    let resp = client.request(get("/static/hello.txt"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body_str(), "hello, static world\n");
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(resp.header("content-length"), Some("20"));
    assert_eq!(resp.header("accept-ranges"), Some("bytes"));
    let etag = resp.header("etag").expect("ETag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let modified = std::fs::metadata(site.root.join("hello.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        resp.header("last-modified"),
        Some(httpdate::fmt_http_date(modified).as_str())
    );

    client.send(request("HEAD", "/static/hello.txt", &[]));
    let head = client.head_response();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("20"));
    assert_eq!(head.header("etag"), Some(etag.as_str()));

    let html = client.request(get("/static/docs/"));
    assert_eq!(html.body_str(), "<h1>docs</h1>");
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        client.request(get("/one")).body_str(),
        "hello, static world\n"
    );
    assert_eq!(client.request(get("/static/empty/")).status, 404);
    assert_eq!(client.request(get("/static/missing.txt")).status, 404);
    server.shutdown();
}

#[test]
fn conditional_requests_get_304() {
    let site = Site::new();
    let server = serve(site.app(), 1);
    let mut client = Client::connect(server.local_addr());
    let first = client.request(get("/static/hello.txt"));
    let etag = first.header("etag").unwrap().to_owned();
    let last_modified = first.header("last-modified").unwrap().to_owned();
    let cached = client.request(request(
        "GET",
        "/static/hello.txt",
        &[("If-None-Match", &etag)],
    ));
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());
    assert_eq!(cached.header("etag"), Some(etag.as_str()));
    let by_date = client.request(request(
        "GET",
        "/static/hello.txt",
        &[("If-Modified-Since", &last_modified)],
    ));
    assert_eq!(by_date.status, 304);
    // If-None-Match wins: another tag means the file is sent, whatever the date says.
    let other = client.request(request(
        "GET",
        "/static/hello.txt",
        &[
            ("If-None-Match", "\"other\""),
            ("If-Modified-Since", &last_modified),
        ],
    ));
    assert_eq!(other.status, 200);
    let old = client.request(request(
        "GET",
        "/static/hello.txt",
        &[("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")],
    ));
    assert_eq!(old.status, 200);
    server.shutdown();
}

#[test]
fn byte_ranges() {
    let site = Site::new();
    let server = serve(site.app(), 1);
    let mut client = Client::connect(server.local_addr());
    let range = |client: &mut Client, spec: &str| {
        client.request(request("GET", "/static/hello.txt", &[("Range", spec)]))
    };
    let first = range(&mut client, "bytes=0-4");
    assert_eq!(first.status, 206);
    assert_eq!(first.body_str(), "hello");
    assert_eq!(first.header("content-range"), Some("bytes 0-4/20"));
    let tail = range(&mut client, "bytes=14-");
    assert_eq!((tail.status, tail.body_str()), (206, "world\n"));
    let suffix = range(&mut client, "bytes=-6");
    assert_eq!((suffix.status, suffix.body_str()), (206, "world\n"));
    let past = range(&mut client, "bytes=999999-");
    assert_eq!(past.status, 416);
    assert_eq!(past.header("content-range"), Some("bytes */20"));
    let several = range(&mut client, "bytes=0-1,3-4");
    assert_eq!((several.status, several.body.len()), (200, 20));
    // A range of the large file, from its middle.
    let mut big_client = Client::connect(server.local_addr());
    let part = big_client.request(request(
        "GET",
        "/static/big.bin",
        &[("Range", "bytes=1000000-1999999")],
    ));
    assert_eq!(part.status, 206);
    assert_eq!(part.body, big()[1_000_000..2_000_000]);
    server.shutdown();
}

#[test]
fn a_large_file_arrives_whole_through_backpressure() {
    let site = Site::new();
    let server = serve(site.app(), 1);
    let mut client = Client::connect(server.local_addr());
    // Two in a row on one connection: the first ends exactly at its length.
    for _ in 0..2 {
        let resp = client.request(get("/static/big.bin"));
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.header("content-type"),
            Some("application/octet-stream")
        );
        assert_eq!(resp.body.len(), 3 * 1024 * 1024);
        assert!(resp.body == big(), "every byte in order");
    }
    server.shutdown();
}

#[test]
fn nothing_outside_the_root() {
    let site = Site::new();
    let server = serve(site.app(), 1);
    let secret = std::fs::read_to_string(&site.outside).unwrap();
    for (path, status) in [
        ("/static/../Cargo.toml", 404),
        ("/static/%2e%2e/Cargo.toml", 404),
        ("/static/..%2fCargo.toml", 404),
        ("/static/docs/..%2f..%2fsecret.txt", 404),
        ("/static/..%5csecret.txt", 404),
        ("/static/escape", 404),
        ("/static/a%00b", 400),
        ("/static/%ff", 400),
    ] {
        let resp = fetch(server.local_addr(), get(path));
        assert_eq!(resp.status, status, "{path}");
        assert!(!resp.body_str().contains(&secret), "{path} leaked the file");
        assert!(
            !resp.body_str().contains("[package]"),
            "{path} leaked Cargo.toml"
        );
    }
    server.shutdown();
}
