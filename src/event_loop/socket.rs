//! One connection's slab entry: its write side (and transport), protocol state, timer and
//! the input it owns only while it needs it (a partial request, pipelined requests waiting).

use std::net::SocketAddr;

use super::proto::Proto;
use super::stash::Stash;
use super::timer::{Armed, Timer};
use crate::net::wire::Wire;

/// A connection in the loop's slab.
pub(crate) struct Socket {
    /// The transport and everything waiting to be written to it.
    pub(crate) wire: Wire,
    pub(crate) remote: SocketAddr,
    pub(crate) proto: Proto,
    /// Received bytes not yet consumed (a partial head, or pipelined requests waiting).
    /// Empty, with no allocation, while the connection is idle.
    pub(crate) stash: Stash,
    /// The armed timer, kept as two fields (not an `Armed`) so that it packs with
    /// `peer_closed` and the entry stays within its size budget.
    pub(crate) timer: Timer,
    /// Loop second at which `timer` fires (`u32::MAX`: never).
    pub(crate) deadline: u32,
    /// The peer shut down its sending side (read returned 0).
    pub(crate) peer_closed: bool,
}

impl Socket {
    /// Wraps an accepted connection, speaking HTTP/1.1 first.
    pub(crate) fn new(wire: Wire, remote: SocketAddr, armed: Armed) -> Self {
        Socket {
            wire,
            remote,
            proto: Proto::http(),
            stash: Stash::default(),
            timer: armed.timer,
            deadline: armed.deadline,
            peer_closed: false,
        }
    }

    /// The armed timer.
    pub(crate) fn armed(&self) -> Armed {
        Armed {
            timer: self.timer,
            deadline: self.deadline,
        }
    }

    /// Whether requests wait in the stash behind a response that is now complete: the
    /// loop goes on reading them.
    pub(crate) fn answered_with_input_waiting(&self) -> bool {
        !self.stash.is_empty() && !self.proto.awaits_answer()
    }

    /// Arms `armed` (replacing the timer there was).
    pub(crate) fn arm(&mut self, armed: Armed) {
        self.timer = armed.timer;
        self.deadline = armed.deadline;
    }
}

#[cfg(test)]
mod tests {
    /// An idle connection (HTTP keep-alive or WebSocket) owns no buffer, so its memory is the
    /// slab entry: keep it within 0.8x of the 256 bytes uWebSockets C++ costs per idle
    /// WebSocket (issue 13's target). The budget is the release layout (CI runs this test
    /// with `--release` too); with debug assertions mio adds a selector id to each socket it
    /// registers (8 bytes, more with the unix variant of the stream).
    #[test]
    fn slab_entry_stays_small() {
        let entry = std::mem::size_of::<slab::Slab<super::Socket>>();
        assert!(entry < 64, "the slab header itself is small: {entry}");
        let socket = std::mem::size_of::<super::Socket>();
        let budget = if cfg!(debug_assertions) { 192 + 8 } else { 192 };
        assert!(socket <= budget, "Socket grew to {socket} bytes");
    }
}
