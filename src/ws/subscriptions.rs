//! A socket's side of pub/sub: the topics it is subscribed to, kept out of line so that an
//! idle WebSocket that subscribes to nothing costs one pointer in its slab entry.

use std::ops::Deref;

/// Index of a topic in one loop's table (`LoopTopics` in `pubsub`).
pub(crate) type TopicId = u32;

/// A socket's topics.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    /// Topics this socket is subscribed to.
    pub(crate) topics: SocketTopics,
    /// `(generation, index)`: entries of the loop's publish batch already written to this
    /// socket's cork by a `send` (to keep publish-then-send order).
    pub(crate) delivered: (u32, u32),
}

/// The ids of the topics one socket is subscribed to, in no particular order. Boxed: one
/// pointer (8 bytes, against a `Vec`'s 24) in every slab entry, allocated on the first
/// subscribe and freed when the last topic is left. Subscribing is rare next to publishing,
/// which walks the topic's subscriber list, not this.
#[derive(Debug, Default)]
#[expect(
    clippy::box_collection,
    reason = "the box is what makes the slab entry's share one thin pointer"
)]
pub(crate) struct SocketTopics(Option<Box<Vec<TopicId>>>);

impl SocketTopics {
    /// Adds `id`; false if it was there already.
    pub(crate) fn insert(&mut self, id: TopicId) -> bool {
        if self.contains(&id) {
            return false;
        }
        self.0.get_or_insert_with(Box::default).push(id);
        true
    }

    /// Removes `id` if present; frees the list when it empties.
    pub(crate) fn remove(&mut self, id: TopicId) {
        let Some(list) = self.0.as_mut() else { return };
        if let Some(i) = list.iter().position(|&t| t == id) {
            list.swap_remove(i);
        }
        if list.is_empty() {
            self.0 = None;
        }
    }
}

impl Deref for SocketTopics {
    type Target = [TopicId];

    fn deref(&self) -> &[TopicId] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::SocketTopics;

    #[test]
    fn allocates_on_first_insert_and_frees_when_empty() {
        let mut topics = SocketTopics::default();
        assert!(topics.is_empty() && topics.0.is_none());
        assert!(topics.insert(3) && topics.insert(7));
        assert!(!topics.insert(3), "already there");
        assert_eq!(*topics, [3, 7]);
        topics.remove(9);
        assert_eq!(*topics, [3, 7]);
        topics.remove(3);
        assert_eq!(*topics, [7]);
        topics.remove(7);
        assert!(topics.is_empty() && topics.0.is_none(), "freed once empty");
        assert_eq!(std::mem::size_of::<SocketTopics>(), 8);
    }
}
