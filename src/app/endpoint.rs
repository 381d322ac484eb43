//! Class-style endpoints (Starlette's `HTTPEndpoint`): one type, one method per HTTP verb.

use std::sync::Arc;

use ::http::Method;

use super::group::Router;
use crate::error::BoxError;
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;

/// The result of an endpoint method; an `Err` goes to the app's error handler.
pub type EndpointResult = Result<(), BoxError>;

/// A resource with one method per HTTP verb, mounted with
/// [`App::endpoint`](crate::App::endpoint) or [`Router::endpoint`].
///
/// List the verbs you implement in [`METHODS`](Self::METHODS) and implement their methods;
/// the others keep their defaults. Rust has no safe way to ask whether a default method was
/// overridden, so the list is what routes: each listed verb is routed to its method, and
/// every other method on the pattern is answered by the endpoint itself with
/// `405 Method Not Allowed` and an `Allow` field naming the listed verbs, plus `HEAD` when
/// `GET` is listed (answered by `get` with the body suppressed) and `OPTIONS`. `OPTIONS` is
/// answered with `204 No Content` and the same `Allow` unless `OPTIONS` is listed
/// (RFC 9110 sections 9.3.7 and 15.5.6). A verb listed but not implemented answers `500`
/// through the error handler, naming the verb, so the mistake shows on the first request.
///
/// ```
/// use uweb::{App, EndpointResult, HttpEndpoint, HttpRequest, HttpResponse, Method};
///
/// struct Items;
///
/// impl HttpEndpoint for Items {
///     const METHODS: &'static [Method] = &[Method::GET, Method::PUT];
///
///     fn get(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
///         res.end(format!("item {}", req.parameter("id").unwrap_or_default()));
///         Ok(())
///     }
///
///     fn put(&self, res: &mut HttpResponse<'_>, _req: &mut HttpRequest<'_>) -> EndpointResult {
///         res.write_status("204 No Content").end_without_body(None);
///         Ok(())
///     }
/// }
///
/// let app = App::new().endpoint("/items/:id", Items);
/// # drop(app);
/// ```
pub trait HttpEndpoint: Send + Sync + 'static {
    /// The verbs this endpoint implements, e.g. `&[Method::GET, Method::PUT]`. Only verbs
    /// with a method below may be listed (registration panics otherwise).
    const METHODS: &'static [Method];

    /// Answers `GET` (and `HEAD`, body suppressed, unless `HEAD` is listed).
    fn get(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        not_implemented(Method::GET, res, req)
    }

    /// Answers `HEAD`.
    fn head(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        not_implemented(Method::HEAD, res, req)
    }

    /// Answers `POST`.
    fn post(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        not_implemented(Method::POST, res, req)
    }

    /// Answers `PUT`.
    fn put(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        not_implemented(Method::PUT, res, req)
    }

    /// Answers `PATCH`.
    fn patch(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        not_implemented(Method::PATCH, res, req)
    }

    /// Answers `DELETE`.
    fn delete(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        not_implemented(Method::DELETE, res, req)
    }

    /// Answers `OPTIONS` (default when not listed: `204` with `Allow`).
    fn options(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        not_implemented(Method::OPTIONS, res, req)
    }

    /// Answers `TRACE`.
    fn trace(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        not_implemented(Method::TRACE, res, req)
    }
}

/// What a listed but unimplemented verb does: an error naming it (the error handler answers).
fn not_implemented(
    method: Method,
    _res: &mut HttpResponse<'_>,
    _req: &mut HttpRequest<'_>,
) -> EndpointResult {
    Err(format!("{method} is listed in HttpEndpoint::METHODS but not implemented").into())
}

/// An endpoint method as a plain function.
type Verb<E> = fn(&E, &mut HttpResponse<'_>, &mut HttpRequest<'_>) -> EndpointResult;

/// The trait method answering `method`, if the trait has one.
fn verb<E: HttpEndpoint>(method: &Method) -> Option<Verb<E>> {
    Some(match *method {
        Method::GET => E::get,
        Method::HEAD => E::head,
        Method::POST => E::post,
        Method::PUT => E::put,
        Method::PATCH => E::patch,
        Method::DELETE => E::delete,
        Method::OPTIONS => E::options,
        Method::TRACE => E::trace,
        _ => return None,
    })
}

/// The `Allow` field value for an endpoint listing `methods` (RFC 9110 section 10.2.1).
fn allow(methods: &[Method]) -> String {
    let order = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
    ];
    let allowed = |m: &Method| {
        methods.contains(m)
            || *m == Method::OPTIONS
            || *m == Method::HEAD && methods.contains(&Method::GET)
    };
    let names: Vec<&str> = order
        .iter()
        .filter(|m| allowed(m))
        .map(Method::as_str)
        .collect();
    names.join(", ")
}

impl Router {
    /// Routes `pattern` to `endpoint`: each verb in [`HttpEndpoint::METHODS`] to its method,
    /// `OPTIONS` (unless listed) to `204` with `Allow`, and every other method to `405`
    /// with `Allow`.
    ///
    /// # Panics
    /// If `pattern` is invalid, or `METHODS` names a verb `HttpEndpoint` has no method for.
    pub fn endpoint<E: HttpEndpoint>(self, pattern: &str, endpoint: E) -> Self {
        let endpoint = Arc::new(endpoint);
        let allow: Arc<str> = allow(E::METHODS).into();
        let mut router = self;
        for method in E::METHODS {
            let Some(call) = verb::<E>(method) else {
                panic!("HttpEndpoint::METHODS lists {method}, which has no endpoint method");
            };
            let endpoint = Arc::clone(&endpoint);
            router = router.method(method.as_str(), pattern, move |res, req| {
                call(&endpoint, res, req)
            });
        }
        if !E::METHODS.contains(&Method::OPTIONS) {
            let allow = Arc::clone(&allow);
            router = router.options(pattern, move |res, _req| {
                res.write_status("204 No Content")
                    .write_header("Allow", &allow)
                    .end_without_body(None);
            });
        }
        router.any(pattern, move |res, _req| {
            res.write_status("405 Method Not Allowed")
                .write_header("Allow", &allow)
                .end("Method Not Allowed");
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_verbs_head_with_get_and_options() {
        assert_eq!(
            allow(&[Method::PUT, Method::GET]),
            "GET, HEAD, PUT, OPTIONS"
        );
        assert_eq!(allow(&[Method::POST]), "POST, OPTIONS");
        assert_eq!(allow(&[Method::OPTIONS, Method::DELETE]), "DELETE, OPTIONS");
        assert_eq!(allow(&[]), "OPTIONS");
    }

    struct Odd;
    impl HttpEndpoint for Odd {
        const METHODS: &'static [Method] = &[Method::CONNECT];
    }

    #[test]
    #[should_panic(expected = "lists CONNECT")]
    fn unknown_verb_panics() {
        let _ = Router::new().endpoint("/x", Odd);
    }
}
