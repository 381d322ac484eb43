//! A connection's stash: received bytes it cannot use yet (a partial head, or requests
//! pipelined behind a response that comes later). Consumed from the front by moving a
//! cursor, not the bytes, so a deep pipeline is not copied once per request; an emptied
//! stash hands its buffer to this thread's spares (`crate::spares`), so an idle connection owns none and a
//! busy loop does not allocate one per pipelined batch.

use std::cell::RefCell;

use crate::spares::{self, SpareList};

/// A buffer larger than this (bytes) is freed rather than kept.
const KEEP_AT_MOST: usize = 64 * 1024;

thread_local! {
    /// Boxes, not buffers: the box is what a stash holds, and reusing it is the point.
    #[allow(clippy::vec_box)]
    static SPARE_BUFFERS: SpareList<Box<Buffer>> = const { RefCell::new(Vec::new()) };
}

/// Received bytes not yet consumed: none (and no allocation) while the connection is idle.
/// Boxed, so the socket's slab entry pays one pointer for it.
#[derive(Default)]
pub(crate) struct Stash(Option<Box<Buffer>>);

/// A stash's bytes; `bytes[at..]` is what is left, and never empty.
#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    /// Bytes at the front already consumed.
    at: usize,
}

impl Stash {
    /// Whether nothing is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// Bytes left.
    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |b| b.bytes.len() - b.at)
    }

    /// The bytes left, mutable (a WebSocket unmasks in place).
    pub(crate) fn left(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Some(b) => &mut b.bytes[b.at..],
            None => &mut [],
        }
    }

    /// Appends `bytes` after what is left.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let buffer = self
            .0
            .get_or_insert_with(|| spares::take(&SPARE_BUFFERS).unwrap_or_default());
        if buffer.at > 0 && buffer.bytes.len() + bytes.len() > buffer.bytes.capacity() {
            // Room at the front before growing.
            buffer.bytes.drain(..buffer.at);
            buffer.at = 0;
        }
        buffer.bytes.extend_from_slice(bytes);
    }

    /// `n` bytes at the front were used; once nothing is left the buffer goes back to the
    /// spares.
    pub(crate) fn consume(&mut self, n: usize) {
        let Some(buffer) = &mut self.0 else {
            return;
        };
        buffer.at += n;
        debug_assert!(buffer.at <= buffer.bytes.len());
        if buffer.at < buffer.bytes.len() {
            return;
        }
        let Some(mut buffer) = self.0.take() else {
            return;
        };
        if buffer.bytes.capacity() > KEEP_AT_MOST {
            return;
        }
        buffer.bytes.clear();
        buffer.at = 0;
        spares::keep(&SPARE_BUFFERS, buffer);
    }

    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.0.as_ref().map_or(0, |b| b.bytes.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::Stash;

    #[test]
    fn consumes_from_the_front_and_frees_when_empty() {
        let mut stash = Stash::default();
        assert!(stash.is_empty());
        stash.push(b"abcdef");
        stash.consume(2);
        assert_eq!(stash.left(), b"cdef");
        stash.push(b"gh");
        assert_eq!(stash.left(), b"cdefgh");
        assert_eq!(stash.len(), 6);
        stash.consume(6);
        assert!(stash.is_empty());
        assert_eq!(stash.capacity(), 0, "an empty stash owns no buffer");
        // The buffer comes back from the spares, empty.
        stash.push(b"xy");
        assert_eq!(stash.left(), b"xy");
        assert!(stash.capacity() >= 6);
    }

    #[test]
    fn makes_room_at_the_front_before_growing() {
        let mut stash = Stash::default();
        stash.push(&[1; 100]);
        let capacity = stash.capacity();
        stash.consume(90);
        stash.push(&vec![2; capacity - 20]);
        assert_eq!(stash.len(), capacity - 10);
        assert_eq!(stash.capacity(), capacity, "reused the consumed front");
        assert_eq!(&stash.left()[..10], &[1; 10]);
        assert!(stash.left()[10..].iter().all(|&b| b == 2));
    }
}
