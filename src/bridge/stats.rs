//! A bridge's counters, readable by the app from any thread without a lock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Counters of a pub/sub bridge (e.g. [`RedisBridge::stats`](crate::RedisBridge::stats)):
/// cheap to clone, read from any thread. Counts only grow.
#[derive(Clone, Debug, Default)]
pub struct BridgeStats {
    inner: Arc<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    published: AtomicU64,
    received: AtomicU64,
    dropped: AtomicU64,
    malformed: AtomicU64,
    reconnects: AtomicU64,
    connected: AtomicBool,
}

impl BridgeStats {
    /// Messages of this process handed to the broker.
    pub fn published(&self) -> u64 {
        self.inner.published.load(Ordering::Relaxed)
    }

    /// Messages from other processes delivered here.
    pub fn received(&self) -> u64 {
        self.inner.received.load(Ordering::Relaxed)
    }

    /// Messages of this process that never reached the broker: published while it was
    /// unreachable, lost with a failed write, or over the bridge's queue limit.
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Messages on a bridged channel that were not a bridge's envelope (skipped).
    pub fn malformed(&self) -> u64 {
        self.inner.malformed.load(Ordering::Relaxed)
    }

    /// Times the subscribing connection was made again after losing the broker.
    pub fn reconnects(&self) -> u64 {
        self.inner.reconnects.load(Ordering::Relaxed)
    }

    /// Whether the subscribing connection is up.
    pub fn connected(&self) -> bool {
        self.inner.connected.load(Ordering::Relaxed)
    }

    pub(crate) fn add_published(&self, n: u64) {
        self.inner.published.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_received(&self) {
        self.inner.received.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n` dropped messages; returns the total before.
    pub(crate) fn add_dropped(&self, n: u64) -> u64 {
        self.inner.dropped.fetch_add(n, Ordering::Relaxed)
    }

    pub(crate) fn add_malformed(&self) {
        self.inner.malformed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_reconnect(&self) {
        self.inner.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_connected(&self, up: bool) {
        self.inner.connected.store(up, Ordering::Relaxed);
    }
}
