//! The event loops: one thread per core, each with its own `mio::Poll` and listener.

mod date;
pub(crate) mod listener;
mod server;
mod socket;
mod worker;

pub use server::Server;
