//! One builder method per HTTP method, shared by `App` and `Router` (both have `method`).

/// Expands to `pub fn get(self, pattern, handler) -> Self` etc., each calling
/// `self.method(TOKEN, pattern, handler)`.
macro_rules! method_routes {
    ($($(#[$doc:meta])* $name:ident => $method:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $name<H, R>(self, pattern: &str, handler: H) -> Self
            where
                H: Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> R + Send + Sync + 'static,
                R: HandlerReturn,
            {
                self.method($method, pattern, handler)
            }
        )*
    };
}

/// The per-method builders with their docs, for `App` and `Router`.
macro_rules! all_method_routes {
    () => {
        method_routes! {
            /// Routes `GET` requests matching `pattern` (`HEAD` falls back to it, body
            /// suppressed).
            get => "GET";
            /// Routes `POST` requests matching `pattern`.
            post => "POST";
            /// Routes `PUT` requests matching `pattern`.
            put => "PUT";
            /// Routes `PATCH` requests matching `pattern`.
            patch => "PATCH";
            /// Routes `DELETE` requests matching `pattern`.
            delete => "DELETE";
            /// Routes `HEAD` requests matching `pattern` (tried before the `GET` fallback).
            head => "HEAD";
            /// Routes `OPTIONS` requests matching `pattern`.
            options => "OPTIONS";
            /// Routes `CONNECT` requests matching `pattern`.
            connect => "CONNECT";
            /// Routes `TRACE` requests matching `pattern`.
            trace => "TRACE";
        }
    };
}
