//! The event loops: one thread per core, each with its own `mio::Poll` and listeners,
//! generic over the [`Service`] they serve (monomorphised: no dynamic dispatch on the hot
//! path). The loop drives protocols through one narrow interface (`proto.rs`); when to
//! close and which timer to arm is decided by pure functions (`policy.rs`).

mod date;
pub(crate) mod listener;
mod mailbox;
mod policy;
mod proto;
mod server;
mod service;
mod socket;
mod stash;
mod timer;
mod worker;

pub use server::Server;
pub(crate) use server::ShutdownHook;
pub(crate) use service::Service;
