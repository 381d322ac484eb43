//! The async handlers' futures that wait, spawned by the batch: those a loop collects in one
//! iteration become one tokio task, which polls each when it is woken (`FuturesUnordered`)
//! and holds the loops' wake-ups while it polls (`hold_wakes`).
//!
//! Why: a loop and the runtime's workers usually share cores. Spawned one by one, each
//! future woke a worker and each answer woke the loop back, about one context switch per
//! request. Batched, a loop iteration's requests cost one wake of a worker, and the answers
//! ready in one poll of the batch cost one wake of the loop. Each future still gets its own
//! waker, so one that waits long costs the others nothing.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use futures_util::stream::FuturesUnordered;

use crate::http::later::LoopHandle;
use crate::http::letter::hold_wakes;
use crate::runtime;

/// A request's future, answering through its deferred response when it completes.
pub(super) type Answer = Pin<Box<dyn Future<Output = ()> + Send>>;

thread_local! {
    /// The futures this loop thread collected in the current iteration.
    static COLLECTED: RefCell<Vec<Answer>> = const { RefCell::new(Vec::new()) };
}

/// Spawns `answer` on the runtime with the others collected in this loop iteration: the
/// first one collected asks the loop (`loop_handle`, this thread's) to spawn them all after
/// its events.
pub(super) fn spawn_later(answer: Answer, loop_handle: &LoopHandle) {
    let first = COLLECTED.with(|collected| {
        let mut collected = collected.borrow_mut();
        collected.push(answer);
        collected.len() == 1
    });
    if first && !loop_handle.defer(spawn_collected) {
        // The loop has stopped: nobody else will spawn them.
        spawn_collected();
    }
}

/// Spawns what this thread collected as one task.
fn spawn_collected() {
    let collected = COLLECTED.with(|collected| std::mem::take(&mut *collected.borrow_mut()));
    if collected.is_empty() {
        return;
    }
    runtime::spawn(Batch(collected.into_iter().collect()));
}

/// Futures of one loop iteration, run in one task.
struct Batch(FuturesUnordered<Answer>);

impl Future for Batch {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Answers ready in this poll wake their loops once, when it ends.
        let _held = hold_wakes();
        loop {
            match Pin::new(&mut self.0).poll_next(cx) {
                Poll::Ready(Some(())) => {}
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
