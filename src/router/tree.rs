//! Segment tree of one method (or the ANY tree) and its depth-first matcher.

use super::params::{HandlerId, Params, Priority};
use super::pattern::Segment;

/// Handler slots of one position, indexed by `Priority` (so iteration is priority order).
type Slots = [Option<HandlerId>; 2];

/// Short-string key: byte length in the high 64 bits, first (up to) 8 bytes little-endian
/// and zero-padded in the low 64 bits. Equal strings have equal keys; strings of at most
/// 8 bytes are equal iff their keys are, so most comparisons need no `memcmp`.
pub(crate) type Key = u128;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// First (up to) 8 bytes of `b`, little-endian, zero-padded.
#[inline]
fn load8(b: &[u8]) -> u64 {
    match b.first_chunk::<8>() {
        Some(chunk) => u64::from_le_bytes(*chunk),
        None => b
            .iter()
            .enumerate()
            .fold(0, |w, (i, &c)| w | u64::from(c) << (8 * i)),
    }
}

/// Like `load8(&path[at..])` (empty if `at` is past the end), but avoids the byte loop near
/// the end of the path by loading the last 8 bytes and shifting.
#[inline]
fn load8_at(path: &[u8], at: usize) -> u64 {
    let rest = path.get(at..).unwrap_or_default();
    match (rest.first_chunk::<8>(), path.last_chunk::<8>()) {
        (Some(chunk), _) => u64::from_le_bytes(*chunk),
        (None, _) if rest.is_empty() => 0,
        (None, Some(last)) => u64::from_le_bytes(*last) >> (8 * (8 - rest.len())),
        (None, None) => load8(rest),
    }
}

/// Index of the first `/` byte in the little-endian word `w`, or 8 if there is none.
#[inline]
fn slash_in(w: u64) -> usize {
    let x = w ^ (ONES * u64::from(b'/'));
    // Classic zero-byte test; the lowest flagged byte is exact (false flags only above it).
    ((x.wrapping_sub(ONES) & !x & HIGHS).trailing_zeros() / 8) as usize
}

/// Builds the key of a segment of `len` bytes whose first 8 bytes (padded) are `w`.
#[inline]
fn make_key(len: usize, w: u64) -> Key {
    let head = if len >= 8 {
        w
    } else {
        w & ((1u64 << (8 * len)) - 1)
    };
    (len as u128) << 64 | u128::from(head)
}

/// The key of the byte string `b`.
#[inline]
pub(crate) fn key_of(b: &[u8]) -> Key {
    make_key(b.len(), load8(b))
}

/// Splits off the segment starting at byte `start` of `path` (up to the next `/` or the
/// end) and returns its length and key, scanning 8 bytes at a time.
#[inline(always)]
fn scan(path: &[u8], start: usize) -> (usize, Key) {
    let w = load8_at(path, start);
    let (mut i, mut at) = (slash_in(w), start + 8);
    let mut len = i;
    while i == 8 && at < path.len() {
        // No `/` in the bytes seen so far: continue with the next word.
        i = slash_in(load8_at(path, at));
        len += i;
        at += 8;
    }
    // Zero padding past the end never looks like `/`, so clamping is exact.
    let len = len.min(path.len().saturating_sub(start));
    (len, make_key(len, w))
}

/// One node of a route tree; the root stands for "before the first path segment".
#[derive(Debug, Default)]
pub(crate) struct Node {
    /// Keys of the static children, sorted (ties between long keys broken by the bytes).
    keys: Vec<Key>,
    /// Static children, parallel to `keys`: full segment text and subtree.
    statics: Vec<(Box<[u8]>, Node)>,
    /// Child reached through a `:param` segment.
    param: Option<Box<Node>>,
    /// Handlers of patterns that end exactly at this node.
    here: Slots,
    /// Handlers of patterns that end with `*` right after this node.
    wildcard: Slots,
}

/// Calls `visit` for each handler in `slots`, in priority order; true if one accepted.
#[inline]
fn visit_slots<F>(slots: &Slots, params: &Params, visit: &mut F) -> bool
where
    F: FnMut(HandlerId, &Params) -> bool,
{
    slots.iter().flatten().any(|&h| visit(h, params))
}

impl Node {
    /// Registers `handler` for the pattern `segments`, replacing any handler of the same
    /// shape and priority.
    pub(crate) fn insert(
        &mut self,
        segments: &[Segment<'_>],
        priority: Priority,
        handler: HandlerId,
    ) {
        let slot = priority as usize;
        let mut node = self;
        for seg in segments {
            node = match *seg {
                Segment::Static(text) => node.static_child_mut(text.as_bytes()),
                Segment::Param(_) => node.param.get_or_insert_with(Box::default),
                Segment::Wildcard => {
                    node.wildcard[slot] = Some(handler);
                    return;
                }
            };
        }
        node.here[slot] = Some(handler);
    }

    /// Returns the static child for `seg`, creating it if missing.
    fn static_child_mut(&mut self, seg: &[u8]) -> &mut Node {
        let key = key_of(seg);
        let lo = self.keys.partition_point(|&k| k < key);
        let hi = self.keys.partition_point(|&k| k <= key);
        let tie = self.statics[lo..hi].binary_search_by(|(text, _)| (**text).cmp(seg));
        let i = match tie {
            Ok(i) => lo + i,
            Err(i) => {
                self.keys.insert(lo + i, key);
                self.statics.insert(lo + i, (seg.into(), Node::default()));
                lo + i
            }
        };
        &mut self.statics[i].1
    }

    /// Returns the static child for `seg` (whose key is `key`), if any.
    #[inline]
    fn static_child(&self, seg: &[u8], key: Key) -> Option<&Node> {
        let keys = self.keys.as_slice();
        let i = if keys.len() <= 8 {
            keys.iter().position(|&k| k == key)?
        } else {
            keys.binary_search(&key).ok()?
        };
        if seg.len() <= 8 {
            return Some(&self.statics[i].1);
        }
        // Long segments: several children may share the key; compare the full text.
        let lo = keys[..=i].partition_point(|&k| k < key);
        let hi = i + keys[i..].partition_point(|&k| k == key);
        let tie = self.statics[lo..hi].iter().find(|(text, _)| **text == *seg);
        tie.map(|(_, node)| node)
    }

    /// Depth-first search from this node, consuming the path segment that starts at byte
    /// `start` (route searches start at 1 on a path that starts with `/`; `path.len()` must
    /// fit in `u32` so param offsets do).
    ///
    /// Candidates are passed to `visit` in specificity order (static child, then param
    /// child, then this node's wildcard handlers, each explored fully before the next);
    /// returns true as soon as one accepts. On false, `params` is as it was on entry.
    pub(crate) fn walk<F>(
        &self,
        path: &[u8],
        start: usize,
        params: &mut Params,
        visit: &mut F,
    ) -> bool
    where
        F: FnMut(HandlerId, &Params) -> bool,
    {
        let (mut node, mut start) = (self, start);
        loop {
            let (len, key) = scan(path, start);
            let end = start + len;
            // Start of the next segment, or `None` if this segment is the last one.
            let next = (end < path.len()).then_some(end + 1);
            let seg = path.get(start..end).unwrap_or_default();
            let child = node.static_child(seg, key);
            if node.param.is_none() && node.wildcard == [None; 2] {
                // No alternative at this node: descend without recursion or backtracking.
                match (child, next) {
                    (None, _) => return false,
                    (Some(child), None) => return visit_slots(&child.here, params, visit),
                    (Some(child), Some(next)) => (node, start) = (child, next),
                }
                continue;
            }
            if let Some(child) = child
                && child.enter(path, next, params, visit)
            {
                return true;
            }
            if let Some(child) = &node.param
                && len > 0
            {
                // Offsets fit in u32: the caller guarantees `path.len() <= u32::MAX`.
                params.push((start as u32, end as u32));
                if child.enter(path, next, params, visit) {
                    return true;
                }
                params.pop();
            }
            return visit_slots(&node.wildcard, params, visit);
        }
    }

    /// Continues the search at this node: visits its own handlers if the path is fully
    /// consumed (`next` is `None`), else walks the next segment.
    #[inline]
    fn enter<F>(&self, path: &[u8], next: Option<usize>, params: &mut Params, visit: &mut F) -> bool
    where
        F: FnMut(HandlerId, &Params) -> bool,
    {
        match next {
            None => visit_slots(&self.here, params, visit),
            Some(start) => self.walk(path, start, params, visit),
        }
    }

    /// True if the tree holds no handler at all.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.here == [None; 2]
            && self.wildcard == [None; 2]
            && self.param.as_ref().is_none_or(|p| p.is_empty())
            && self.statics.iter().all(|(_, n)| n.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::super::pattern::parse;
    use super::*;

    fn tree(patterns: &[&str]) -> Node {
        let mut root = Node::default();
        for (id, p) in patterns.iter().enumerate() {
            root.insert(&parse(p), Priority::Method, id as u32);
        }
        root
    }

    fn all(root: &Node, path: &str) -> Vec<u32> {
        let mut out = Vec::new();
        let mut params = Params::new();
        let found = root.walk(path.as_bytes(), 1, &mut params, &mut |h, _| {
            out.push(h);
            false
        });
        assert!(!found && params.is_empty());
        out
    }

    #[test]
    fn scan_finds_segment_end_and_key() {
        let cases: &[(&str, usize)] = &[
            ("", 0),
            ("/", 0),
            ("a", 1),
            ("abc/d", 3),
            ("abcdefg/", 7),
            ("abcdefgh", 8),
            ("abcdefgh/", 8),
            ("abcdefghi", 9),
            ("abcdefghijklmnop/q", 16),
            ("abcdefghijklmnopqrstu", 21),
            ("é/ñ", 2),
            ("\0\0/", 2),
        ];
        for &(rest, want) in cases {
            for prefix in ["", "/", "/0123456789/"] {
                let path = format!("{prefix}{rest}");
                let (len, key) = scan(path.as_bytes(), prefix.len());
                assert_eq!(len, want, "{path:?}");
                assert_eq!(key, key_of(&rest.as_bytes()[..len]), "{path:?}");
            }
        }
        assert_eq!(scan(b"/a", 2), (0, key_of(b"")));
        assert_eq!(scan(b"/a", 9), (0, key_of(b"")));
        assert_ne!(key_of(b""), key_of(b"\0"));
    }

    #[test]
    fn many_static_children_and_long_keys() {
        let mut patterns: Vec<String> = (0..40).map(|i| format!("/s{i}")).collect();
        patterns.extend((0..20).map(|i| format!("/same-prefix-{i}")));
        patterns.extend(["/bb", "/a", "/", "/abcdefgh", "/abcdefghi"].map(String::from));
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let root = tree(&refs);
        assert!(root.keys.is_sorted());
        for (i, p) in refs.iter().enumerate() {
            assert_eq!(all(&root, p), [i as u32], "{p}");
        }
        for p in [
            "/c",
            "/abcdefghij",
            "/same-prefix-99",
            "/same-prefix-",
            "/s",
            "//",
        ] {
            assert_eq!(all(&root, p), [] as [u32; 0], "{p}");
        }
    }

    #[test]
    fn empty_tree_matches_nothing() {
        let root = Node::default();
        assert!(root.is_empty());
        assert!(all(&root, "/").is_empty());
        assert!(!tree(&["/x"]).is_empty());
    }
}
