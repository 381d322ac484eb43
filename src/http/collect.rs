//! Whole request bodies (socketify's `get_data` / `get_json`): [`on_data`] chunks gathered
//! into one [`Bytes`], or decoded as JSON, and handed over once the body is complete. The
//! configured limit ([`Config::max_body_bytes`](crate::Config::max_body_bytes)) applies as
//! it does to every body: `413` past it.
//!
//! [`on_data`]: HttpResponse::on_data

use bytes::{Bytes, BytesMut};
use serde::de::DeserializeOwned;

use super::response::HttpResponse;

impl HttpResponse<'_> {
    /// Reads the whole request body, then calls `handler(res, body)` once (socketify's
    /// `get_data`). The body's size is limited by
    /// [`Config::max_body_bytes`](crate::Config::max_body_bytes) (`413 Content Too Large`
    /// past it, and `handler` is not called); a request without a body gives an empty one.
    /// The handler may answer at once or take the response out with
    /// [`defer`](Self::defer).
    pub fn on_body(&mut self, handler: impl FnOnce(&mut HttpResponse<'_>, Bytes) + Send + 'static) {
        let mut body = BytesMut::new();
        let mut handler = Some(handler);
        self.on_data(move |res, chunk, last| {
            body.extend_from_slice(chunk);
            if last && let Some(handler) = handler.take() {
                handler(res, std::mem::take(&mut body).freeze());
            }
        });
    }

    /// Reads the whole request body and decodes it as JSON into `T` (with `serde_json`),
    /// then calls `handler(res, value)` once (socketify's `get_json`). A body that is not
    /// valid JSON for `T` is answered `400 Bad Request` with a plain-text body saying why
    /// (`invalid JSON: ...`), and `handler` is not called. Size limit as in
    /// [`on_body`](Self::on_body).
    pub fn on_json<T: DeserializeOwned>(
        &mut self,
        handler: impl FnOnce(&mut HttpResponse<'_>, T) + Send + 'static,
    ) {
        self.on_body(move |res, body| match serde_json::from_slice::<T>(&body) {
            Ok(value) => handler(res, value),
            Err(e) => res
                .write_status("400 Bad Request")
                .write_header("Content-Type", "text/plain; charset=utf-8")
                .end(format!("invalid JSON: {e}")),
        });
    }
}

/// Why a request body could not be read or decoded (an async handler's
/// `AsyncRequest::body`, `text` or `json`). Returned as a handler's `Err`, it is answered
/// `400 Bad Request` with its message, as [`HttpResponse::on_json`] answers bad JSON; the
/// error handler does not hear it.
#[derive(Debug)]
#[non_exhaustive]
pub enum BodyError {
    /// The body will never be complete: over the size limit, or the client went.
    Incomplete,
    /// The body is not UTF-8.
    Utf8(std::str::Utf8Error),
    /// The body is not JSON of the expected shape.
    Json(serde_json::Error),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Incomplete => f.write_str("request body incomplete"),
            BodyError::Utf8(e) => write!(f, "request body is not UTF-8: {e}"),
            BodyError::Json(e) => write!(f, "invalid JSON: {e}"),
        }
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BodyError::Incomplete => None,
            BodyError::Utf8(e) => Some(e),
            BodyError::Json(e) => Some(e),
        }
    }
}
