//! Opening the file to serve, and what its metadata says: length, modification time and
//! content type.

use std::borrow::Cow;
use std::fs::File;
use std::path::Path;
use std::time::SystemTime;

use super::refusal::Refusal;

/// A regular file opened for reading, with the metadata of the opened handle (not of a path
/// that may have changed since).
#[derive(Debug)]
pub(super) struct Opened {
    pub(super) file: File,
    /// Length in bytes.
    pub(super) len: u64,
    /// Last modification; `None` where the file system keeps none.
    pub(super) mtime: Option<SystemTime>,
}

/// Opens `path` if it is a regular file. Blocking file system calls, on the calling (loop)
/// thread.
///
/// # Errors
/// [`Refusal::NotFound`] for anything but a regular file (a directory, a FIFO, a device);
/// [`Refusal::from_io`] of a failed `stat` or `open`.
pub(super) fn open(path: &Path) -> Result<Opened, Refusal> {
    // Looked at before opening: opening a FIFO would block the loop until a writer came.
    let before = std::fs::metadata(path).map_err(|e| Refusal::from_io(&e))?;
    if !before.is_file() {
        return Err(Refusal::NotFound);
    }
    let file = File::open(path).map_err(|e| Refusal::from_io(&e))?;
    let meta = file.metadata().map_err(|e| Refusal::from_io(&e))?;
    if !meta.is_file() {
        return Err(Refusal::NotFound);
    }
    Ok(Opened {
        file,
        len: meta.len(),
        mtime: meta.modified().ok(),
    })
}

/// The `Content-Type` for `path`, guessed from its extension by `mime_guess`;
/// `application/octet-stream` when unknown. Text types (`text/*` and
/// `application/javascript`) get `; charset=utf-8`.
pub(super) fn content_type(path: &Path) -> Cow<'static, str> {
    match mime_guess::from_path(path).first_raw() {
        Some(t) if t.starts_with("text/") || t == "application/javascript" => {
            Cow::Owned(format!("{t}; charset=utf-8"))
        }
        Some(t) => Cow::Borrowed(t),
        None => Cow::Borrowed("application/octet-stream"),
    }
}

#[cfg(test)]
mod tests {
    use super::content_type;
    use std::path::Path;

    #[test]
    fn content_types() {
        for (name, expected) in [
            ("a.html", "text/html; charset=utf-8"),
            ("a.TXT", "text/plain; charset=utf-8"),
            ("a.css", "text/css; charset=utf-8"),
            ("a.js", "text/javascript; charset=utf-8"),
            ("a.mjs", "application/javascript; charset=utf-8"),
            ("a.json", "application/json"),
            ("a.png", "image/png"),
            ("a.zzzunknown", "application/octet-stream"),
            ("Makefile", "application/octet-stream"),
        ] {
            assert_eq!(content_type(Path::new(name)), expected, "{name}");
        }
    }
}
