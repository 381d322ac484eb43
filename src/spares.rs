//! Per-thread spares: objects a loop thread keeps after use (emptied) so that the next use on
//! the same thread does not allocate. Each kind has its own `thread_local!` list; these two
//! functions are the whole policy: take the last kept, keep at most [`LIMIT`].

use std::cell::RefCell;
use std::thread::LocalKey;

/// How many spares of one kind a thread keeps.
pub(crate) const LIMIT: usize = 64;

/// A thread's list of spares of one kind.
pub(crate) type SpareList<T> = RefCell<Vec<T>>;

/// A spare of this thread's, if it has one (none while the thread is exiting).
pub(crate) fn take<T: 'static>(list: &'static LocalKey<SpareList<T>>) -> Option<T> {
    list.try_with(|spares| spares.borrow_mut().pop())
        .ok()
        .flatten()
}

/// How many spares of a small kind (a few hundred bytes, one per response answered later)
/// a thread keeps: as many as a busy loop has in flight at once, so that a pipelined batch
/// answered from another thread allocates nothing on either side (what is not kept here is
/// allocated by the answering thread and freed by the loop's, the slow path of malloc).
pub(crate) const SMALL_LIMIT: usize = 4096;

/// Keeps `item` (already emptied) for [`take`], unless [`LIMIT`] are kept already. An item
/// not kept is dropped outside the list's borrow: its drop may reach other spares.
#[inline]
pub(crate) fn keep<T: 'static>(list: &'static LocalKey<SpareList<T>>, item: T) {
    keep_up_to(list, item, LIMIT);
}

/// As [`keep`], with `limit` spares at most.
#[inline]
pub(crate) fn keep_up_to<T: 'static>(list: &'static LocalKey<SpareList<T>>, item: T, limit: usize) {
    let rejected = list
        .try_with(|spares| {
            let mut spares = spares.borrow_mut();
            if spares.len() < limit {
                spares.push(item);
                None
            } else {
                Some(item)
            }
        })
        .ok()
        .flatten();
    drop(rejected);
}
