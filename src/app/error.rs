//! The app-wide error handler and how a failure reaches it: the handler hears the
//! [`HandlerError`], then the response is finished (`500`, or a close).

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{HandlerError, panic_message};
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;

/// The app-wide error handler: `(error, response if still there, request if still there)`.
pub(crate) type ErrorHandler = Box<
    dyn Fn(&HandlerError, Option<&mut HttpResponse<'_>>, Option<&HttpRequest<'_>>) + Send + Sync,
>;

/// Hands `error` to `handler` (or the default: log and `500`), then makes sure the response
/// is finished: `500` if nothing was sent, else the connection closes. A panicking error
/// handler closes the connection.
pub(crate) fn report(
    handler: Option<&ErrorHandler>,
    error: &HandlerError,
    res: &mut HttpResponse<'_>,
    req: Option<&HttpRequest<'_>>,
) {
    if hear(handler, error, Some(&mut *res), req) {
        internal_error(res);
    } else {
        // The handler may have left the response in any state.
        res.close();
    }
}

/// Hands `error` to `handler` with what is left of the exchange, or logs it without one;
/// false when the handler panicked (logged too).
pub(crate) fn hear(
    handler: Option<&ErrorHandler>,
    error: &HandlerError,
    res: Option<&mut HttpResponse<'_>>,
    req: Option<&HttpRequest<'_>>,
) -> bool {
    let Some(handler) = handler else {
        log::error!("{error}");
        return true;
    };
    match catch_unwind(AssertUnwindSafe(|| handler(error, res, req))) {
        Ok(()) => true,
        Err(panic) => {
            let message = panic_message(panic.as_ref());
            log::error!("error handler panicked: {message} (after: {error})");
            false
        }
    }
}

/// `500` if nothing was sent yet; a response already under way cannot be repaired: close.
/// Does nothing to a finished response. A field the error handler had refused (it would have
/// split the response) is logged; its response was discarded, so the `500` follows.
pub(crate) fn internal_error(res: &mut HttpResponse<'_>) {
    if let Some(field) = res.take_refused() {
        log::error!(
            "error handler wrote field {} with CR, LF or NUL or a name that is not a token; \
             response discarded",
            field.escape_debug()
        );
    }
    if res.is_fresh() {
        res.write_status("500 Internal Server Error")
            .end("Internal Server Error");
    } else if !res.has_responded() {
        res.close();
    }
}
