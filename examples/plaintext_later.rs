//! TechEmpower's plaintext answered later, to measure what answering later costs:
//! `MODE=deferred` (default) takes each response out with `res.defer()` and ends it from the
//! loop itself; `MODE=async` (feature `tokio`) answers from an async handler that is ready at
//! once (answered on the loop, as a synchronous handler); `MODE=async-task` from one that
//! waits once (`yield_now`), so every answer comes from a task on a one-worker tokio runtime
//! through a deferred response. `GET /plaintext` sends the same bytes as `hello_world`'s.
//! `benches/answer_later.sh` runs every mode beside hyper, and beside hyper with the handler
//! of `async-task` (`benches/peers/hyper_wait`).
//!
//! Run: `PORT=3000 THREADS=1 MODE=async cargo run --release --features tokio --example
//! plaintext_later`, then `wrk -c64 http://localhost:3000/plaintext`.

mod common;

use uweb::App;

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    let threads = common::threads();
    let mode = std::env::var("MODE").unwrap_or_else(|_| "deferred".into());
    println!("listening on http://localhost:{port} with {threads} loop(s), answering {mode}");
    let app = App::new().threads(threads);
    let app = match mode.as_str() {
        "deferred" => app.get("/plaintext", |res, _req| {
            let mut later = res.defer();
            later
                .write_header("Content-Type", "text/plain")
                .write_header("Server", "uweb");
            later.end("Hello, World!");
        }),
        #[cfg(feature = "tokio")]
        "async" | "async-task" => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?;
            let handle = runtime.handle().clone();
            // The runtime lives as long as the process.
            std::mem::forget(runtime);
            let wait = mode == "async-task";
            app.runtime(handle)
                .get_async("/plaintext", move |_req| async move {
                    if wait {
                        tokio::task::yield_now().await;
                    }
                    uweb::Response::new("Hello, World!")
                        .header("Content-Type", "text/plain")
                        .header("Server", "uweb")
                })
        }
        other => {
            eprintln!(
                "MODE={other}: expected deferred, async or async-task (async needs --features tokio)"
            );
            std::process::exit(2);
        }
    };
    app.listen(port)
}
