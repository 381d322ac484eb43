//! Static files: the directory `ROOT` (default: this crate's `examples/`) served under
//! `/static/` with `uweb::fs::ServeDir`, GET and HEAD, with conditional requests and ranges,
//! streamed under backpressure.
//!
//! Run: `PORT=3000 cargo run --release --example static_files`, then
//! - `curl -i localhost:3000/static/hello_world.rs` (200 with `ETag`, `Last-Modified`,
//!   `Accept-Ranges`),
//! - `curl -i -r 0-9 localhost:3000/static/hello_world.rs` (206, the first 10 bytes),
//! - `curl -i -z "$(date -R)" localhost:3000/static/hello_world.rs` (304: not modified since),
//! - `curl -I localhost:3000/static/hello_world.rs` (HEAD).
//!
//! `ROOT=/some/dir` serves another directory; `THREADS=1` runs one loop.

mod common;

use uweb::App;
use uweb::fs::ServeDir;

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    let threads = common::threads();
    let root = std::env::var("ROOT")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/examples").to_owned());
    let dir = ServeDir::try_new(&root)?.prefix("/static");
    println!(
        "serving {} on http://localhost:{port}/static/ with {threads} loop(s)",
        dir.root().display()
    );
    App::new()
        .threads(threads)
        .get("/static/*", dir.handler())
        .listen(port)
}
