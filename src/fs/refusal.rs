//! The answers for requests that name no file to serve: `400`, `403` and `404`.

use std::io;

use crate::http::response::HttpResponse;

/// Why a request gets no file. Each maps to one status and a short plain-text body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The path is malformed: bad percent-encoding or a NUL byte (`400 Bad Request`).
    BadRequest,
    /// The file system refused access (`403 Forbidden`).
    Forbidden,
    /// Nothing servable there: missing, outside the root, a path that tries to climb out,
    /// or not a regular file (`404 Not Found`).
    NotFound,
}

impl Refusal {
    /// The refusal for a failed file system call on a path: `Forbidden` for a permission
    /// error, else `NotFound` (missing, not a directory, a symlink loop, ...).
    pub(super) fn from_io(error: &io::Error) -> Refusal {
        match error.kind() {
            io::ErrorKind::PermissionDenied => Refusal::Forbidden,
            _ => Refusal::NotFound,
        }
    }

    /// Answers `res` with this refusal's status and reason as the body.
    pub(super) fn reply(self, res: &mut HttpResponse<'_>) {
        let (status, body) = match self {
            Refusal::BadRequest => ("400 Bad Request", "Bad Request"),
            Refusal::Forbidden => ("403 Forbidden", "Forbidden"),
            Refusal::NotFound => ("404 Not Found", "Not Found"),
        };
        res.write_status(status)
            .write_header("Content-Type", "text/plain; charset=utf-8")
            .end(body);
    }
}
