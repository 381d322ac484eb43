//! The main job: `GET /`, TechEmpower's `GET /plaintext`, and `POST /echo`, on every core.
//!
//! Run: `PORT=3000 cargo run --release --example hello_world`, then
//! `curl localhost:3000/plaintext` or `wrk -c64 http://localhost:3000/plaintext`.

use uweb::App;

fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    println!("listening on http://localhost:{port}");
    App::new()
        .get("/", |res, _req| res.end("Hello World!"))
        .get("/plaintext", |res, _req| {
            res.write_header("Content-Type", "text/plain")
                .write_header("Server", "uweb")
                .end("Hello, World!");
        })
        .post("/echo", |res, _req| {
            let mut body = Vec::new();
            res.on_data(move |res, chunk, is_last| {
                body.extend_from_slice(chunk);
                if is_last {
                    res.end(&body);
                }
            });
        })
        .listen(port)
}
