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

/// Keeps `item` (already emptied) for [`take`], unless [`LIMIT`] are kept already. An item
/// not kept is dropped outside the list's borrow: its drop may reach other spares.
pub(crate) fn keep<T: 'static>(list: &'static LocalKey<SpareList<T>>, item: T) {
    let rejected = list
        .try_with(|spares| {
            let mut spares = spares.borrow_mut();
            if spares.len() < LIMIT {
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
