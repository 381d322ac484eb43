//! The `App` builder: routes per method, groups, routing domains, the error handler, limits,
//! then `listen` / `bind`.

#[macro_use]
mod verbs;
#[cfg(feature = "tokio")]
mod asynchronous;
mod builder;
mod compile;
mod dispatch;
mod endpoint;
mod error;
mod group;
mod handler;
mod listen;
mod tls;

#[cfg(feature = "tokio")]
pub use asynchronous::AsyncRequest;
pub use builder::App;
#[cfg(feature = "internals")]
pub use dispatch::Shared;
pub use endpoint::{EndpointResult, HttpEndpoint};
pub use group::Router;
pub use handler::HandlerReturn;
pub use listen::Listen;
