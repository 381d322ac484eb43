//! An access log as middleware: an app-wide middleware notes when each request started, an
//! app-wide after hook writes one line per answered request through the `log` crate
//! (`remote method target status duration`), and a minimal logger prints it on stderr.
//!
//! Run: `PORT=3000 cargo run --example access_log`, then `curl localhost:3000/hello?x=1`.

mod common;

use std::time::Instant;

use uweb::App;

/// `log`'s records on stderr (use any logger crate instead: `env_logger`, `tracing-log`).
struct Stderr;

impl log::Log for Stderr {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        eprintln!("{} {}", record.target(), record.args());
    }

    fn flush(&self) {}
}

/// When the request's route started running.
#[derive(Clone, Copy)]
struct Started(Instant);

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    let threads = common::threads();
    log::set_logger(&Stderr).expect("one logger");
    log::set_max_level(log::LevelFilter::Info);
    println!("listening on http://localhost:{port} with {threads} loop(s)");
    App::new()
        .threads(threads)
        .middleware(|_res, req| {
            req.extensions_mut().insert(Started(Instant::now()));
        })
        .after(|res, req| {
            let took = req.extensions().get::<Started>().map(|s| s.0.elapsed());
            let target = match req.query() {
                "" => req.url().to_owned(),
                query => format!("{}?{query}", req.url()),
            };
            log::info!(
                target: "access",
                "{} {} {} {} {:?}",
                req.remote_addr(),
                req.method(),
                target,
                res.status().map_or("-".into(), |s| s.to_string()),
                took.unwrap_or_default()
            );
        })
        .get("/hello", |res, _req| res.end("hello"))
        .any("/*", |res, _req| {
            res.write_status("404 Not Found").end("Not Found")
        })
        .listen(port)
}
