//! The public handlers: [`ServeDir`] for the files below a directory, [`ServeFile`] for one
//! file.

use std::io;
use std::path::{Path, PathBuf};

use super::path;
use super::refusal::Refusal;
use super::respond::respond;
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;

/// The file a directory is answered with.
const INDEX: &str = "index.html";

/// Serves the files below a root directory, mapped from the request path: with
/// `prefix("/static")`, `GET /static/css/site.css` answers with `<root>/css/site.css`.
///
/// ```no_run
/// use uweb::App;
/// use uweb::fs::ServeDir;
///
/// fn main() -> std::io::Result<()> {
///     // GET and HEAD (HEAD falls back to the GET route).
///     App::new()
///         .get("/static/*", ServeDir::new("public").prefix("/static").handler())
///         .listen(3000)
/// }
/// ```
///
/// What a request gets (the [module documentation](crate::fs) details the fields, the
/// conditional requests and the ranges, with their RFC 9110 sections):
/// - the file, or the part asked for by `Range`, streamed under backpressure;
/// - for a directory, its `index.html` when the path ends with `/`; a path to such a
///   directory without the final `/` is redirected there (`301 Moved Permanently`, so that
///   relative links in the page resolve); a directory without `index.html` is `404`;
/// - `404 Not Found` for a path outside the prefix, a missing file, a path with a `..`
///   segment (also percent-encoded, `%2e%2e`), a segment that decodes to something holding
///   `/` or `\` (`..%2f`), anything that resolves outside the root (symlinks are followed,
///   then checked), a file named with a final `/`, or anything but a regular file;
/// - `404 Not Found` for a dotfile or a path through a dot-directory (`.env`, `.git/config`,
///   also percent-encoded), unless [`dotfiles(true)`](Self::dotfiles): such names are
///   usually secrets or tooling, not content (Express's `serve-static` ignores them too);
/// - `400 Bad Request` for malformed percent-encoding or an encoded NUL byte (`%00`);
/// - `403 Forbidden` when the file system denies access.
///
/// The handler serves whatever method routes to it, as GET (HEAD without a body); route it
/// with [`App::get`](crate::App::get) so that other methods get the router's `405`.
#[derive(Debug, Clone)]
pub struct ServeDir {
    /// Canonical: symlinks resolved, absolute.
    root: PathBuf,
    /// The URL prefix stripped before resolving: empty, or `/` + segments without a final `/`.
    prefix: String,
    /// Serve names starting with `.`.
    dotfiles: bool,
}

impl ServeDir {
    /// Serves the directory `root` (relative to the working directory, or absolute), mapping
    /// the whole request path unless a [`prefix`](Self::prefix) is set. The root is resolved
    /// once, here (`std::fs::canonicalize`): every path served is checked to lie below it.
    ///
    /// # Panics
    /// If `root` does not exist, cannot be resolved, or is not a directory; see
    /// [`try_new`](Self::try_new) to handle that as an error.
    pub fn new(root: impl AsRef<Path>) -> ServeDir {
        let root = root.as_ref();
        Self::try_new(root).unwrap_or_else(|e| panic!("ServeDir::new({}): {e}", root.display()))
    }

    /// Like [`new`](Self::new), returning an error instead of panicking.
    ///
    /// # Errors
    /// What `std::fs::canonicalize` reports for `root` (e.g. `NotFound`), or
    /// [`io::ErrorKind::NotADirectory`] when it names something else than a directory.
    pub fn try_new(root: impl AsRef<Path>) -> io::Result<ServeDir> {
        let root = std::fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "the root to serve is not a directory",
            ));
        }
        Ok(ServeDir {
            root,
            prefix: String::new(),
            dotfiles: false,
        })
    }

    /// Whether files and directories whose name starts with `.` are served (default
    /// `false`: they are `404`, as if absent). Only names below the root count; the root
    /// itself may lie in a dot-directory.
    pub fn dotfiles(mut self, serve: bool) -> ServeDir {
        self.dotfiles = serve;
        self
    }

    /// Sets the URL prefix removed from the request path before it is resolved, e.g.
    /// `"/static"` for a route `"/static/*"`: `/static/a.txt` then serves `<root>/a.txt`. It
    /// is compared with the path as sent (not percent-decoded), segment by segment: `/static`
    /// does not cover `/staticx`. A missing leading `/` is added, a final `/` ignored; `""`
    /// or `"/"` means no prefix. A request outside the prefix gets `404`.
    pub fn prefix(mut self, prefix: &str) -> ServeDir {
        let trimmed = prefix.trim_end_matches('/');
        self.prefix = match trimmed.starts_with('/') || trimmed.is_empty() {
            true => trimmed.to_owned(),
            false => format!("/{trimmed}"),
        };
        self
    }

    /// The canonical root directory files are served from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Answers `req` from the directory, as described on [`ServeDir`]: for use inside a
    /// handler of your own (after a check of your own, say). Blocking file system calls
    /// (`canonicalize`, `stat`, `open`, and a read of up to 64 KiB per step) run on the
    /// calling loop thread, as in uWebSockets programs.
    pub fn serve(&self, res: &mut HttpResponse<'_>, req: &HttpRequest<'_>) {
        let url = req.url();
        let rest = match self.prefix.is_empty() {
            true => Some(url),
            false => url
                .strip_prefix(self.prefix.as_str())
                .filter(|rest| rest.is_empty() || rest.starts_with('/')),
        };
        let Some(rest) = rest else {
            return Refusal::NotFound.reply(res);
        };
        match self.resolve(rest) {
            Ok(Target::File(file)) => respond(res, req, &file),
            Ok(Target::AddSlash) => {
                let query = req.query();
                let location = match query.is_empty() {
                    true => format!("{url}/"),
                    false => format!("{url}/?{query}"),
                };
                res.write_status("301 Moved Permanently")
                    .write_header("Location", &location)
                    .end("");
            }
            Err(refusal) => refusal.reply(res),
        }
    }

    /// The file that `rest` (the request path below the prefix, as sent) names.
    fn resolve(&self, rest: &str) -> Result<Target, Refusal> {
        let relative = path::decode(rest)?;
        if !self.dotfiles && path::has_dot_name(&relative.path) {
            return Err(Refusal::NotFound);
        }
        let real = path::contain(&self.root, &self.root.join(&relative.path))?;
        if !real.is_dir() {
            return match relative.dir_form {
                true => Err(Refusal::NotFound),
                false => Ok(Target::File(real)),
            };
        }
        // The index may be a symlink too: checked like any other path.
        let index = path::contain(&self.root, &real.join(INDEX))?;
        match relative.dir_form {
            true => Ok(Target::File(index)),
            false if index.is_file() => Ok(Target::AddSlash),
            false => Err(Refusal::NotFound),
        }
    }

    /// This directory as a route handler:
    /// `app.get("/static/*", ServeDir::new("public").prefix("/static").handler())`.
    pub fn handler(
        self,
    ) -> impl Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) + Send + Sync + 'static {
        move |res, req| self.serve(res, req)
    }
}

/// What a request path below the root leads to.
enum Target {
    /// A file to answer with (canonical path).
    File(PathBuf),
    /// A directory with an index, named without the final `/`: redirect there.
    AddSlash,
}

/// Serves one file, whatever the request path: `app.get("/favicon.ico",
/// ServeFile::new("public/favicon.ico").handler())`. The same answers as [`ServeDir`]
/// (conditionals, ranges, HEAD, streaming); `404` while the file is missing.
///
/// The path is trusted (it comes from the program, not the request): it is opened as given,
/// symlinks included, at each request.
#[derive(Debug, Clone)]
pub struct ServeFile {
    path: PathBuf,
}

impl ServeFile {
    /// Serves the file at `path` (relative to the working directory, or absolute). Nothing
    /// is checked here: a missing file gets `404` when requested.
    pub fn new(path: impl Into<PathBuf>) -> ServeFile {
        ServeFile { path: path.into() }
    }

    /// Answers `req` with the file, for use inside a handler of your own. Blocking file
    /// system calls run on the calling loop thread (see [`ServeDir::serve`]).
    pub fn serve(&self, res: &mut HttpResponse<'_>, req: &HttpRequest<'_>) {
        respond(res, req, &self.path);
    }

    /// This file as a route handler.
    pub fn handler(
        self,
    ) -> impl Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) + Send + Sync + 'static {
        move |res, req| self.serve(res, req)
    }
}
