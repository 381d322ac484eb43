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

/// Expands to `pub fn get_async(self, pattern, handler) -> Self` etc. (feature `tokio`), each
/// registering `handler`'s future through `asynchronous::async_handler`.
macro_rules! async_method_routes {
    ($($(#[$doc:meta])* $name:ident => $method:literal;)*) => {
        $(
            $(#[$doc])*
            ///
            /// The handler gets an owned [`AsyncRequest`](crate::AsyncRequest) and returns a
            /// future whose output is [`IntoResponse`](crate::IntoResponse); it runs on a
            /// tokio runtime (see [`App::runtime`](crate::App::runtime)), and its answer goes
            /// back through the connection's loop. A panic or `Err` goes to the error handler.
            #[cfg(feature = "tokio")]
            pub fn $name<F, Fut>(self, pattern: &str, handler: F) -> Self
            where
                F: Fn(super::asynchronous::AsyncRequest) -> Fut + Send + Sync + 'static,
                Fut: std::future::Future + Send + 'static,
                Fut::Output: crate::http::respond::IntoResponse,
            {
                self.method($method, pattern, super::asynchronous::async_handler(handler))
            }
        )*
    };
}

/// The async per-method builders, for `App` and `Router`.
macro_rules! all_async_method_routes {
    () => {
        async_method_routes! {
            /// Routes `GET` requests matching `pattern` to an async handler.
            get_async => "GET";
            /// Routes `POST` requests matching `pattern` to an async handler.
            post_async => "POST";
            /// Routes `PUT` requests matching `pattern` to an async handler.
            put_async => "PUT";
            /// Routes `PATCH` requests matching `pattern` to an async handler.
            patch_async => "PATCH";
            /// Routes `DELETE` requests matching `pattern` to an async handler.
            delete_async => "DELETE";
        }
    };
}
