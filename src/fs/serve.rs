//! Serving one file: fields, conditionals, ranges, then the body streamed from a 64 KiB
//! buffer with `try_end`, continued by `on_writable` under backpressure.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::conditional::{etag, not_modified};
use super::path::{Refusal, resolve};
use super::range::{Wanted, wanted};
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;

/// Bytes read from the file per `try_end`.
const CHUNK: usize = 64 * 1024;

/// Serves the files under a directory (uWebSockets users hand-roll this; socketify's
/// `app.static`): `GET`/`HEAD` of `<prefix>/<path>` answers the file `<root>/<path>` (a
/// directory's `index.html`), with
/// - `Content-Type` from the extension (`mime_guess`; `; charset=utf-8` for text,
///   `application/octet-stream` when unknown), `Last-Modified`, a strong `ETag` (length and
///   modification time) and `Accept-Ranges: bytes` (RFC 9110 sections 8.3, 8.8.2, 8.8.3,
///   14.3);
/// - `304 Not Modified` for a matching `If-None-Match`, or, without one, an `If-Modified-Since`
///   not before the file's time (section 13.1);
/// - `206 Partial Content` with `Content-Range` for one byte range, `416 Range Not
///   Satisfiable` with `Content-Range: bytes */<length>` for one past the end; several ranges
///   get the whole file (section 14.2); `If-Range` is not honoured (the whole file is sent
///   only when there is no `Range`);
/// - `404` for anything missing or outside the root (`..` in any encoding, `%2f` inside a
///   segment, a symlink leading out), `400` for a NUL byte or percent-encoding that is not
///   UTF-8.
///
/// Files are opened and read on the loop thread (as uWebSockets does): fast from the page
/// cache, but a slow disk holds the loop. The body leaves in 64 KiB pieces as the client
/// reads: memory per download is one buffer. A file that shrinks while being sent closes the
/// connection (fewer bytes than announced cannot be repaired).
///
/// ```no_run
/// use uweb::App;
/// use uweb::fs::ServeDir;
///
/// App::new()
///     .get("/static/*", ServeDir::new("public").prefix("/static").handler())
///     .listen(3000)
///     .unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct ServeDir {
    root: PathBuf,
    prefix: String,
}

impl ServeDir {
    /// Serves the directory `root` (made absolute and canonical now; a root that does not
    /// exist answers `404` to everything).
    pub fn new(root: impl AsRef<Path>) -> ServeDir {
        let root = root.as_ref();
        ServeDir {
            root: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()),
            prefix: String::new(),
        }
    }

    /// The URL prefix the route is mounted under, stripped from the request path (`"/static"`
    /// for a route `"/static/*"`).
    pub fn prefix(mut self, prefix: &str) -> ServeDir {
        self.prefix = prefix.trim_end_matches('/').to_owned();
        self
    }

    /// The route handler.
    pub fn handler(
        self,
    ) -> impl Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) + Send + Sync + 'static {
        move |res, req| {
            let relative = req.url().strip_prefix(self.prefix.as_str()).unwrap_or("");
            match resolve(&self.root, relative) {
                Ok(path) => serve(res, req, &path),
                Err(Refusal::BadRequest) => res.write_status("400 Bad Request").end("Bad Request"),
                Err(Refusal::NotFound) => res.write_status("404 Not Found").end("Not Found"),
            }
        }
    }
}

/// Serves one file, as [`ServeDir`] serves each of its files.
#[derive(Clone, Debug)]
pub struct ServeFile {
    path: PathBuf,
}

impl ServeFile {
    /// Serves the file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> ServeFile {
        ServeFile { path: path.into() }
    }

    /// The route handler.
    pub fn handler(
        self,
    ) -> impl Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) + Send + Sync + 'static {
        move |res, req| serve(res, req, &self.path)
    }
}

/// Answers `req` with the file at `path`.
fn serve(res: &mut HttpResponse<'_>, req: &HttpRequest<'_>, path: &Path) {
    let opened = File::open(path).and_then(|file| {
        let meta = file.metadata()?;
        match meta.is_file() {
            true => Ok((file, meta.len(), meta.modified()?)),
            false => Err(io::ErrorKind::NotFound.into()),
        }
    });
    let Ok((file, len, modified)) = opened else {
        return res.write_status("404 Not Found").end("Not Found");
    };
    let tag = etag(len, modified);
    let last_modified = httpdate::fmt_http_date(modified);
    if not_modified(
        req.header("if-none-match"),
        req.header("if-modified-since"),
        &tag,
        modified,
    ) {
        res.write_status("304 Not Modified")
            .write_header("ETag", &tag)
            .write_header("Last-Modified", &last_modified)
            .end_without_body(None);
        return;
    }
    let (start, end) = match wanted(req.header("range"), len) {
        Wanted::Whole => {
            res.write_status("200 OK");
            (0, len)
        }
        Wanted::Part { start, end } => {
            let range = format!("bytes {start}-{}/{len}", end - 1);
            res.write_status("206 Partial Content")
                .write_header("Content-Range", &range);
            (start, end)
        }
        Wanted::Unsatisfiable => {
            res.write_status("416 Range Not Satisfiable")
                .write_header("Content-Range", &format!("bytes */{len}"))
                .end("");
            return;
        }
    };
    res.write_header("Content-Type", &content_type(path))
        .write_header("ETag", &tag)
        .write_header("Last-Modified", &last_modified)
        .write_header("Accept-Ranges", "bytes");
    let mut body = Body {
        file,
        start,
        len: end - start,
        buf: Vec::new(),
    };
    if !body.pump(res) {
        res.on_writable(move |res, _offset| body.pump(res));
        // The file closes with the response when the client goes.
        res.on_aborted(|| {});
    }
}

/// `Content-Type` by extension, with `charset=utf-8` for text.
fn content_type(path: &Path) -> String {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    match mime.type_() == mime_guess::mime::TEXT || mime.subtype() == "javascript" {
        true => format!("{mime}; charset=utf-8"),
        false => mime.to_string(),
    }
}

/// A body being sent: `len` bytes of `file` from `start`.
struct Body {
    file: File,
    start: u64,
    len: u64,
    buf: Vec<u8>,
}

impl Body {
    /// Sends from the write offset until the kernel pushes back or the body is complete;
    /// true when there is nothing more to send (done, or the connection closed).
    fn pump(&mut self, res: &mut HttpResponse<'_>) -> bool {
        if self.buf.is_empty() {
            self.buf = vec![0; CHUNK.min(usize::try_from(self.len).unwrap_or(CHUNK)).max(1)];
        }
        loop {
            let offset = res.write_offset();
            let want = usize::try_from(self.len - offset)
                .map_or(self.buf.len(), |n| n.min(self.buf.len()));
            let read = match self
                .file
                .read_at(&mut self.buf[..want], self.start + offset)
            {
                Ok(n) if n > 0 || want == 0 => n,
                // The file shrank, or cannot be read: what was announced cannot be sent.
                _ => {
                    res.close();
                    return true;
                }
            };
            let (ok, done) = res.try_end(&self.buf[..read], self.len);
            if done || res.has_responded() {
                return true;
            }
            if !ok {
                return false;
            }
        }
    }
}
