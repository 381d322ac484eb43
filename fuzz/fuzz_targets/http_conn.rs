//! A whole HTTP/1.1 connection (parser, router, handlers, response writer, body decoding) fed
//! arbitrary bytes in fuzzer-chosen pieces, as the event loop feeds it (with its stash of
//! unconsumed bytes).
//!
//! Input layout: `flags`, four piece lengths (each `n + 1`, cycled), then the wire bytes.
//! `flags` bit 0: tight limits; bit 1: the server is shutting down. Requests to `/later/..`
//! are answered later: their handles are parked and, before the next piece is fed, ended,
//! streamed, dropped unanswered (`500`) or closed (chosen by the piece's length), then the
//! letters are applied as the loop applies them and the stash is offered again.
//!
//! Invariants: no panic; each call consumes at most what it is offered; the output is bounded
//! by a multiple of the input; whatever is written starts like an HTTP/1.1 response.
#![no_main]

use std::cell::RefCell;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use uweb::internals::{HttpConn, Letters, Next, Shared, drive, into_shared};
use uweb::{App, Config, DeferredResponse};

thread_local! {
    /// Handles of responses answered later, waiting for the next piece.
    static PARKED: RefCell<Vec<DeferredResponse>> = const { RefCell::new(Vec::new()) };
}

/// Answers the parked handles, each in the way `how` picks.
fn answer_parked(how: usize) {
    for (i, mut later) in PARKED.with(|p| p.take()).into_iter().enumerate() {
        match (how + i) % 4 {
            0 => {
                later.write_header("X-Later", "1");
                later.end("later");
            }
            1 => {
                later.write("part");
                later.end("");
            }
            2 => drop(later),
            _ => {
                later.close();
            }
        }
    }
}

/// Output bytes allowed per input byte, plus a constant: the largest answer (a `405` with
/// `Allow`, or `100 Continue` then a response) to the shortest request (18 bytes), and the
/// echo route's chunk framing (6 bytes out per body byte fed one at a time), fit well inside.
const OUT_PER_IN: usize = 32;
const OUT_CONST: usize = 4096;

fn app(config: Config) -> App {
    App::new()
        .config(config)
        .get("/plaintext", |res, _req| {
            res.write_header("Content-Type", "text/plain")
                .write_header("Server", "uweb")
                .end("Hello, World!");
        })
        .get("/user/:id", |res, req| {
            let id = req.parameter("id").unwrap_or_default().len();
            let q = req.query_value("q").map_or(0, |v| v.len());
            res.write_header("X-Lens", &format!("{id},{q}")).end("user");
        })
        .get("/stream", |res, _req| {
            res.write("one");
            res.write("two");
            res.end("three");
        })
        .post("/echo/:id", |res, _req| {
            res.write_header("Content-Type", "application/octet-stream");
            res.on_data(|res, chunk, last| {
                res.write(chunk);
                if last {
                    res.end("");
                }
            });
        })
        .post("/count", |res, _req| {
            let mut total = 0usize;
            res.on_data(move |res, chunk, last| {
                total += chunk.len();
                if last {
                    res.end(total.to_string());
                }
            });
        })
        .post("/early", |res, _req| {
            res.write_status("201 Created").end("early")
        })
        .put("/unanswered", |_res, _req| {})
        .delete("/fail", |_res, _req| Err::<(), _>("handler error"))
        .get("/close", |res, _req| res.close())
        .get("/yield/*", |_res, req| req.set_yield(true))
        .get("/yield/:x", |res, _req| res.end("after yield"))
        .method("PROPFIND", "/*", |res, _req| res.end_without_body(Some(3)))
        .any("/later/*", |res, _req| {
            let later = res.defer();
            PARKED.with(|p| p.borrow_mut().push(later));
        })
}

/// The app compiled with the default limits, and with tight ones.
static APPS: LazyLock<[Shared; 2]> = LazyLock::new(|| {
    let mut tight = Config::default();
    tight.max_head_bytes = 128;
    tight.max_header_fields = 4;
    tight.max_request_target_bytes = 32;
    tight.max_body_bytes = 64;
    [app(Config::default()), app(tight)].map(into_shared)
});

fuzz_target!(|data: &[u8]| {
    let [flags, a, b, c, d, ref wire @ ..] = *data else {
        return;
    };
    let pieces = [a, b, c, d].map(|n| usize::from(n) + 1);
    let shared = &APPS[usize::from(flags & 1)];
    let shutting_down = flags & 2 != 0;
    let mut conn = HttpConn::new();
    let letters = Letters::default();
    PARKED.with(|p| p.borrow_mut().clear());

    let mut out = Vec::new();
    let mut stash: Vec<u8> = Vec::new();
    let (mut pos, mut fed) = (0, 0);
    for &piece in pieces.iter().cycle() {
        if pos == wire.len() || conn.next() != Next::Serve {
            break;
        }
        let input = &wire[pos..wire.len().min(pos + piece)];
        pos += input.len();
        fed += input.len();
        // Answers from "another thread" arrive between two reads.
        answer_parked(piece);
        if letters.answer(&mut conn, shared, &mut out) > 0 && !stash.is_empty() {
            let used = drive(&mut conn, shared, &letters, &stash, &mut out, shutting_down);
            assert!(used <= stash.len(), "consumed {used} of {}", stash.len());
            stash.drain(..used);
        }
        if conn.next() != Next::Serve {
            break;
        }
        // As the loop's `feed`: process the read directly, or behind what is stashed.
        if stash.is_empty() {
            let used = drive(&mut conn, shared, &letters, input, &mut out, shutting_down);
            assert!(used <= input.len(), "consumed {used} of {}", input.len());
            stash.extend_from_slice(&input[used..]);
        } else {
            stash.extend_from_slice(input);
            let used = drive(&mut conn, shared, &letters, &stash, &mut out, shutting_down);
            assert!(used <= stash.len(), "consumed {used} of {}", stash.len());
            stash.drain(..used);
        }
        assert!(
            out.len() <= OUT_PER_IN * fed + OUT_CONST,
            "{} output bytes for {fed} input bytes",
            out.len()
        );
    }
    // What is still parked is answered, and must leave well-formed output too.
    answer_parked(0);
    letters.answer(&mut conn, shared, &mut out);
    assert!(letters.is_empty());
    assert!(out.is_empty() || out.starts_with(b"HTTP/1.1 "), "{out:?}");
    if conn.next() != Next::Serve {
        // A closing connection reads nothing more and writes nothing more.
        let before = out.len();
        assert_eq!(
            drive(
                &mut conn,
                shared,
                &letters,
                b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
                &mut out,
                shutting_down
            ),
            27
        );
        assert_eq!(out.len(), before, "output after close");
    }
});
