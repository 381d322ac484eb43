//! Futures that answer later (async HTTP handlers that wait, `message_async`, async named
//! routes), spawned by the batch: those a loop thread collects in one iteration become one
//! tokio task, which polls each when it is woken (`FuturesUnordered`) and holds the loops'
//! wake-ups while it polls (`hold_wakes`). The loop spawns what it collected at the end of
//! each iteration; on a thread that is not a loop, a future is spawned at once.
//!
//! Why: a loop and the runtime's workers usually share cores. Spawned one by one, each
//! future woke a worker and each answer woke the loop back, about one context switch per
//! request. Batched, a loop iteration's requests cost one wake of a worker, and the answers
//! ready in one poll of the batch cost one wake of the loop. Each future still gets its own
//! waker, so one that waits long costs the others nothing.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use futures_util::stream::FuturesUnordered;

use super::letter::hold_wakes;
use crate::runtime;

/// A future that answers (through a deferred response or a WebSocket handle) when it
/// completes.
pub(crate) type Answer = Pin<Box<dyn Future<Output = ()> + Send>>;

thread_local! {
    /// Set on a loop thread: it spawns what it collected at the end of each iteration.
    static ON_LOOP: Cell<bool> = const { Cell::new(false) };
    /// The futures this loop thread collected in the current iteration.
    static COLLECTED: RefCell<Vec<Answer>> = const { RefCell::new(Vec::new()) };
}

/// Marks the calling thread as a loop that calls [`spawn_collected`] after each iteration.
pub(crate) fn enter_loop() {
    ON_LOOP.with(|on| on.set(true));
}

/// Spawns `answer` on the runtime: on a loop thread, with the others collected in this
/// iteration, as one task after the iteration's events; elsewhere at once.
pub(crate) fn spawn_later(answer: Answer) {
    if ON_LOOP.with(Cell::get) {
        COLLECTED.with(|collected| collected.borrow_mut().push(answer));
    } else {
        runtime::spawn(answer);
    }
}

/// Spawns what this thread collected, as one task (the loop calls it after each
/// iteration).
pub(crate) fn spawn_collected() {
    // Drained, not taken: the list keeps its capacity for the next iteration (grown from
    // nothing each time, its reallocations cost more than the batch's other allocations).
    let batch = COLLECTED.with(|collected| {
        let mut collected = collected.borrow_mut();
        (!collected.is_empty()).then(|| collected.drain(..).collect())
    });
    if let Some(batch) = batch {
        runtime::spawn(Batch(batch, FuturesUnordered::new()));
    }
}

/// Futures of one loop iteration, run in one task: handed over in a list, polled once, and
/// those that wait put in the set, on the task's thread (whose allocations are then made
/// and freed there).
struct Batch(Vec<Answer>, FuturesUnordered<Answer>);

impl Future for Batch {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Answers ready in this poll wake their loops once, when it ends.
        let _held = hold_wakes();
        let Batch(handed, set) = &mut *self;
        for mut answer in handed.drain(..) {
            // Polled here first: most complete now (they waited once, on the loop), and
            // cost the set nothing. One that waits again gets its own waker in the set,
            // whose first poll replaces what this one registered (at worst, a spurious
            // wake of the batch later).
            if answer.as_mut().poll(cx).is_pending() {
                set.push(answer);
            }
        }
        loop {
            match Pin::new(&mut *set).poll_next(cx) {
                Poll::Ready(Some(())) => {}
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
