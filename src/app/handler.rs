//! Handler types: what a route or middleware calls, and what it may return.

use std::sync::Arc;

use crate::error::BoxError;
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;

/// What a handler or middleware returns: `()` or `Result<(), E>` with `E: Into<BoxError>`.
pub trait HandlerReturn {
    /// Normalises the return value.
    fn into_result(self) -> Result<(), BoxError>;
}

impl HandlerReturn for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError>> HandlerReturn for Result<(), E> {
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// A type-erased handler or middleware, shared read-only by every loop.
pub(crate) type HandlerFn =
    dyn Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> Result<(), BoxError> + Send + Sync;

/// A route handler: owned by its one route.
pub(crate) type BoxedHandler = Box<HandlerFn>;

/// A middleware or after hook: shared by every route of its group.
pub(crate) type Middleware = Arc<HandlerFn>;

/// Erases a user handler's type.
pub(crate) fn boxed<H, R>(handler: H) -> BoxedHandler
where
    H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
    R: HandlerReturn,
{
    Box::new(move |res, req| handler(res, req).into_result())
}

/// Erases a user middleware's type.
pub(crate) fn shared<H, R>(middleware: H) -> Middleware
where
    H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
    R: HandlerReturn,
{
    Arc::new(move |res, req| middleware(res, req).into_result())
}
