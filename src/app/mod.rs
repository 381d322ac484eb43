//! The `App` builder: routes per method, groups, routing domains, the error handler, limits,
//! then `listen` / `bind`.

#[macro_use]
mod verbs;
mod builder;
mod compile;
mod dispatch;
mod endpoint;
mod error;
mod group;
mod handler;
mod listen;
mod tls;

pub use builder::App;
#[cfg(feature = "internals")]
pub use dispatch::Shared;
pub use endpoint::{EndpointResult, HttpEndpoint};
pub use group::Router;
pub use handler::HandlerReturn;
pub use listen::Listen;
