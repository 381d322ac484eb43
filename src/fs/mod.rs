//! Static files: [`ServeDir`] serves the files below a directory, [`ServeFile`] one file,
//! each as a route handler for GET (and HEAD, which falls back to GET routes).
//!
//! ```
//! use std::io::{Read, Write};
//! use uweb::App;
//! use uweb::fs::ServeFile;
//!
//! let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
//! let server = App::new()
//!     .threads(1)
//!     .get("/manifest", ServeFile::new(manifest).handler())
//!     .bind("127.0.0.1:0")?;
//!
//! let mut client = std::net::TcpStream::connect(server.local_addr())?;
//! client.write_all(
//!     b"GET /manifest HTTP/1.1\r\nHost: example\r\nRange: bytes=0-8\r\nConnection: close\r\n\r\n",
//! )?;
//! let mut response = String::new();
//! client.read_to_string(&mut response)?;
//! assert!(response.starts_with("HTTP/1.1 206 Partial Content\r\n"));
//! assert!(response.contains("\r\nContent-Range: bytes 0-8/"));
//! assert!(response.ends_with("\r\n\r\n[package]"));
//!
//! server.shutdown();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # What a file is answered with
//! Sections are those of RFC 9110.
//! - `200 OK` with `Content-Length`, `Content-Type` (guessed from the extension by
//!   `mime_guess`, `application/octet-stream` when unknown, `; charset=utf-8` added to
//!   `text/*` and `application/javascript`), `Last-Modified` (8.8.2: the modification time,
//!   whole seconds, never later than now), `ETag` (8.8.3: strong,
//!   `"<length>-<mtime seconds>.<mtime nanoseconds>"` in lowercase hex, so it changes when
//!   the file is rewritten) and `Accept-Ranges: bytes`.
//! - Preconditions in the order of 13.2.2: `If-Match` (13.1.1, strong comparison) or else
//!   `If-Unmodified-Since` (13.1.4) failing gives `412 Precondition Failed`;
//!   `If-None-Match` (13.1.2, weak comparison, `*` included) or else `If-Modified-Since`
//!   (13.1.3, dates that do not parse are ignored) gives `304 Not Modified` with `ETag` and
//!   `Last-Modified` and no body. `If-None-Match` takes precedence over `If-Modified-Since`.
//! - One `Range: bytes=a-b`, `bytes=a-` or `bytes=-n` (14.1.2) on a GET gives `206 Partial
//!   Content` (15.3.7) with `Content-Range: bytes a-b/len`; a range starting at or past the
//!   end (or `-0`) gives `416 Range Not Satisfiable` (15.5.17) with
//!   `Content-Range: bytes */len`. Several ranges, another unit, a malformed value, or an
//!   empty file get the whole file with `200`, as 14.2 allows. `If-Range` (13.1.5) is
//!   honoured: the range applies only while the field's strong entity tag equals the
//!   file's, or its date equals the file's `Last-Modified`; otherwise the whole file is sent.
//! - HEAD gets the fields of the GET answer (with its `Content-Length`) and no body; it
//!   ignores `Range` (14.2: range handling is defined for GET only).
//!
//! # Streaming and blocking
//! As in uWebSockets programs, the file is opened and read on the event loop thread that
//! owns the connection: the file system calls of one request (resolving, `stat`, `open`, and
//! one read of up to 64 KiB per step) block that loop while they run, which is quick for
//! files in the page cache and local disks; a slow network file system would stall every
//! connection of that loop. The body goes out with
//! [`HttpResponse::try_end`](crate::HttpResponse::try_end) from one reusable buffer of at
//! most 64 KiB per download, refilled with positioned reads (`pread`) at the write offset;
//! when the client reads slower than the file is read,
//! [`HttpResponse::on_writable`](crate::HttpResponse::on_writable) goes on once the socket
//! drains, so a download never holds more than that buffer (plus the socket's usual
//! backpressure). A file that turns out shorter than announced while it is sent (truncated
//! meanwhile) closes the connection, so the client sees the body cut short instead of
//! receiving fewer bytes silently. The file is closed when its response completes or the
//! client goes.
//!
//! # Safety of paths
//! See [`ServeDir`]: each path segment is percent-decoded on its own, `..` and encoded
//! separators are refused, and whatever the path resolves to (symlinks followed) must lie
//! below the root, which was resolved once when the `ServeDir` was made. Dotfiles and
//! dot-directories (`.env`, `.git/`) are `404` unless [`ServeDir::dotfiles`] allows them.

mod conditional;
mod open;
mod path;
mod range;
mod refusal;
mod respond;
mod serve;
mod stream;

pub use serve::{ServeDir, ServeFile};
