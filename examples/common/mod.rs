//! What every example reads from its environment: `PORT` (the port to listen on) and
//! `THREADS` (event loops; default: one per core). Each example includes it with
//! `mod common;` and uses what it needs.
#![allow(dead_code)]

/// `PORT`, or `default` when unset or not a port number.
pub(crate) fn port(default: u16) -> u16 {
    std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(default)
}

/// `THREADS`, or the number of cores when unset or not a number.
pub(crate) fn threads() -> usize {
    std::env::var("THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
