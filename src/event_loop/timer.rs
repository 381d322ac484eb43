//! The coarse timers a connection may have armed (a leaf: the policy decides, the slab entry
//! keeps, the tick fires them).

/// Which coarse timeout is armed for a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// None (a response is being produced).
    Off,
    /// Keep-alive idle, a stalled request body, or an open WebSocket's idle and lifetime
    /// timers.
    Idle,
    /// The request head started arriving; it must be complete by the deadline.
    HeadRead,
    /// We closed our side (or the peer closed theirs) and wait briefly for the rest.
    Linger,
    /// We sent a WebSocket close frame and wait briefly for the peer's.
    WsClose,
}

/// A timer and the loop second at which it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Armed {
    pub(crate) timer: Timer,
    /// Loop second at which `timer` fires (`u32::MAX`: never).
    pub(crate) deadline: u32,
}

impl Armed {
    /// No timer.
    pub(crate) const OFF: Armed = Armed {
        timer: Timer::Off,
        deadline: u32::MAX,
    };
}
