//! Responses as values, for answers that come later (an async handler's return value, or
//! [`DeferredResponse::respond`](super::later::DeferredResponse::respond)): a status, fields
//! and a body, and the conversions from what handlers naturally return.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Serialize;

use super::collect::BodyError;
use super::response::HttpResponse;
use crate::error::BoxError;

/// A whole response as a value: status line, header fields and body. Build one with
/// [`Response::new`] and the builder methods, or return anything that is
/// [`IntoResponse`].
///
/// Fields are checked when the response is written, as with
/// [`HttpResponse::write_header`](crate::HttpResponse::write_header): a field with CR, LF
/// or NUL discards the response and goes to the error handler.
#[derive(Debug)]
pub struct Response {
    pub(crate) status: Cow<'static, str>,
    pub(crate) fields: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    pub(crate) body: Bytes,
    /// An `Err` returned by the handler: the error handler answers instead.
    pub(crate) failure: Option<BoxError>,
}

impl Response {
    /// `200 OK` with `body` and no fields.
    pub fn new(body: impl Into<Bytes>) -> Response {
        Response {
            status: Cow::Borrowed("200 OK"),
            fields: Vec::new(),
            body: body.into(),
            failure: None,
        }
    }

    /// Sets the status by code, with its canonical reason phrase (RFC 9110 section 15),
    /// e.g. `404` -> `404 Not Found`; a code without one gets an empty phrase. Codes outside
    /// 100..=999 become `500 Internal Server Error`.
    pub fn status(mut self, code: u16) -> Response {
        self.status = match ::http::StatusCode::from_u16(code) {
            Ok(status) => Cow::Owned(format!(
                "{} {}",
                status.as_str(),
                status.canonical_reason().unwrap_or("")
            )),
            Err(_) => Cow::Borrowed("500 Internal Server Error"),
        };
        self
    }

    /// Adds a header field (do not set `Content-Length`, `Transfer-Encoding` or `Date`:
    /// they are managed by the writer).
    pub fn header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) -> Response {
        self.fields.push((name.into(), value.into()));
        self
    }

    /// The same response with `Content-Type: value` unless the handler set one.
    fn typed(mut self, value: &'static str) -> Response {
        if !self
            .fields
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            self.fields
                .push((Cow::Borrowed("Content-Type"), Cow::Borrowed(value)));
        }
        self
    }

    /// This response, or the error the app's error handler should answer: a handler's
    /// `Err` that is a [`BodyError`] is the client's mistake and answered `400 Bad Request`
    /// with its message instead (as [`HttpResponse::on_json`] answers bad JSON).
    pub(crate) fn or_failure(self) -> Result<Response, BoxError> {
        let Some(error) = self.failure else {
            return Ok(self);
        };
        match error.downcast_ref::<BodyError>() {
            Some(bad) => Ok(Response::new(bad.to_string())
                .status(400)
                .header("Content-Type", "text/plain; charset=utf-8")),
            None => Err(error),
        }
    }

    fn failed(error: BoxError) -> Response {
        Response {
            failure: Some(error),
            ..Response::new(Bytes::new())
        }
    }
}

/// What an async handler may return (axum's `IntoResponse`): text, bytes, [`Json`], a
/// [`Response`], a `(status code, body)` pair, or a `Result` whose `Err` goes to the app's
/// error handler ([`App::on_error`](crate::App::on_error); by default `500`).
pub trait IntoResponse {
    /// Converts into a whole response.
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl IntoResponse for &'static str {
    /// `text/plain; charset=utf-8`.
    fn into_response(self) -> Response {
        Response::new(self).typed("text/plain; charset=utf-8")
    }
}

impl IntoResponse for String {
    /// `text/plain; charset=utf-8`.
    fn into_response(self) -> Response {
        Response::new(self).typed("text/plain; charset=utf-8")
    }
}

impl IntoResponse for Vec<u8> {
    /// `application/octet-stream`.
    fn into_response(self) -> Response {
        Response::new(self).typed("application/octet-stream")
    }
}

impl IntoResponse for Bytes {
    /// `application/octet-stream`.
    fn into_response(self) -> Response {
        Response::new(self).typed("application/octet-stream")
    }
}

impl IntoResponse for () {
    /// `200 OK` with an empty body.
    fn into_response(self) -> Response {
        Response::new(Bytes::new())
    }
}

impl<T: IntoResponse> IntoResponse for (u16, T) {
    /// `T`'s response with the status `code` (see [`Response::status`]).
    fn into_response(self) -> Response {
        self.1.into_response().status(self.0)
    }
}

impl<T: IntoResponse, E: Into<BoxError>> IntoResponse for Result<T, E> {
    /// `Ok`: `T`'s response; `Err`: the app's error handler answers.
    fn into_response(self) -> Response {
        match self {
            Ok(value) => value.into_response(),
            Err(error) => Response::failed(error.into()),
        }
    }
}

/// A JSON body (`serde_json`), served with `Content-Type: application/json`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    /// A value that fails to serialize goes to the error handler.
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::new(body).typed("application/json"),
            Err(error) => Response::failed(error.into()),
        }
    }
}

impl HttpResponse<'_> {
    /// Answers with a whole response value (see [`IntoResponse`]): status line, fields, body.
    ///
    /// # Errors
    /// The `Err` of a `Result` response (other than a [`BodyError`], answered `400`), for
    /// the caller to hand to the error handler; nothing is written then.
    pub fn respond(&mut self, response: impl IntoResponse) -> Result<(), BoxError> {
        let response = response.into_response().or_failure()?;
        self.write_status(&response.status);
        for (name, value) in &response.fields {
            self.write_header(name, value);
        }
        self.end(&response.body);
        Ok(())
    }
}
