//! Server-Sent Events (WHATWG HTML, "Server-sent events") answered later: `GET /events` keeps
//! each response open (`res.defer()`), and one background thread pushes the same event to every
//! connected client once a second through their `DeferredResponse`s; `GET /` serves a page
//! whose `EventSource` shows them. A client that leaves is forgotten at the next event (its
//! `write` returns false). On shutdown (`SIGTERM`, Ctrl-C) every stream is ended at once
//! (`App::on_shutdown`), so the process exits without waiting for the drain timeout.
//!
//! Run: `PORT=3000 cargo run --example sse`, then open `http://localhost:3000/` or
//! `curl -N localhost:3000/events`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use uweb::{App, DeferredResponse};

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>uweb server-sent events</title>
<style>body{font:16px sans-serif;max-width:40em;margin:2em auto}</style>
<h1>Events</h1>
<p>State: <span id="state">connecting</span></p>
<ul id="events"></ul>
<script>
const source = new EventSource("/events");
const state = document.getElementById("state");
source.onopen = () => { state.textContent = "open"; };
source.onerror = () => { state.textContent = "reconnecting"; };
source.onmessage = (e) => {
  const li = document.createElement("li");
  li.textContent = `#${e.lastEventId}: ${e.data}`;
  document.getElementById("events").append(li);
};
</script>
"#;

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    let threads = common::threads();
    // Every open stream; the ticker writes to all of them.
    let clients: Arc<Mutex<Vec<DeferredResponse>>> = Arc::default();
    let ticking = Arc::clone(&clients);
    let ending = Arc::clone(&clients);
    std::thread::spawn(move || {
        for id in 1u64.. {
            std::thread::sleep(Duration::from_secs(1));
            // Made once, shared by every client (a reference count each, no copy).
            let event = Bytes::from(format!("id: {id}\ndata: tick {id}\n\n"));
            // Clients whose write fails have gone: dropped here.
            ticking
                .lock()
                .unwrap()
                .retain_mut(|client| client.write(event.clone()));
        }
    });
    println!("listening on http://localhost:{port} with {threads} loop(s)");
    App::new()
        .threads(threads)
        // On SIGTERM/SIGINT the open streams end at once (the browser's EventSource will
        // reconnect elsewhere), instead of running until the drain timeout.
        .on_shutdown(move || {
            for client in ending.lock().unwrap().drain(..) {
                client.end("");
            }
        })
        .get("/", |res, _req| {
            res.write_header("Content-Type", "text/html; charset=utf-8")
                .end(PAGE);
        })
        .get("/events", move |res, req| {
            if req.method() == "HEAD" {
                // The fields only: a held HEAD would never end, and would hold back the
                // requests pipelined behind it.
                res.write_header("Content-Type", "text/event-stream")
                    .end_without_body(None);
                return;
            }
            let mut stream = res.defer();
            stream
                .write_header("Content-Type", "text/event-stream")
                .write_header("Cache-Control", "no-cache");
            // A comment line at once: the headers leave, and the browser's `onopen` fires.
            stream.write(": connected\n\n");
            clients.lock().unwrap().push(stream);
        })
        .listen(port)
}
