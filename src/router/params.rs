//! The router's vocabulary, shared by the tree and its users: handler ids, captured
//! parameters, and the order of handlers on one node.

/// Index of a handler in the app's handler table.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub type HandlerId = u32;

/// Byte ranges (start, end) of `:param` segments in the matched path, in pattern order.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub type Params = smallvec::SmallVec<[(u32, u32); 8]>;

/// Order of handlers that sit on the same node (same method tree and pattern shape).
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// WebSocket upgrade routes; tried first.
    Upgrade,
    /// Ordinary method routes.
    Method,
}

/// A way to name a route parameter: its position (`0` is the first `:param` of the pattern)
/// or its name without the colon.
pub trait ParamKey {
    /// Position of the parameter among `names` (the route's `:param` names, in pattern order).
    fn position(&self, names: &[Box<str>]) -> Option<usize>;
}

impl ParamKey for usize {
    fn position(&self, _: &[Box<str>]) -> Option<usize> {
        Some(*self)
    }
}

impl ParamKey for &str {
    fn position(&self, names: &[Box<str>]) -> Option<usize> {
        names.iter().position(|n| **n == **self)
    }
}
