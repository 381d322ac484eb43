//! Static files: the directory in `ROOT` (default: this crate's `examples/`) served under
//! `/static/`, with `Content-Type`, `ETag`/`Last-Modified` and `304`, byte ranges (`206`,
//! `416`), `HEAD`, and `404` for anything outside it.
//!
//! Run: `PORT=3000 cargo run --example static_files`, then
//! `curl -i localhost:3000/static/sse.rs`, `curl -r 0-99 localhost:3000/static/sse.rs`, or
//! `curl -i -H 'If-None-Match: <the ETag>' localhost:3000/static/sse.rs` (304).

use uweb::App;
use uweb::fs::ServeDir;

fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let threads = std::env::var("THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let root = std::env::var("ROOT")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/examples").to_owned());
    println!("serving {root} at http://localhost:{port}/static/ with {threads} loop(s)");
    App::new()
        .threads(threads)
        .get(
            "/static/*",
            ServeDir::new(&root).prefix("/static").handler(),
        )
        .listen(port)
}
