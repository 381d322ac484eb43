//! The tokio side of async handlers (feature `tokio`): where their futures run, and how a
//! panic in one is caught. A loop thread of an app given a runtime
//! ([`App::runtime`](crate::App::runtime)) has entered it; elsewhere one runtime is started
//! for the process on first use.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use tokio::runtime::{Builder, Handle, Runtime};

/// Runs `future` on the runtime the calling thread has entered, else on uweb's own.
pub(crate) fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) {
    match Handle::try_current() {
        Ok(handle) => drop(handle.spawn(future)),
        Err(_) => drop(fallback().spawn(future)),
    }
}

thread_local! {
    /// Set while this thread runs a loop inside [`run_in`]: it has entered a runtime.
    static LOOP_ENTERED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `run` (a loop, for its whole life) with `handle` entered on this thread.
pub(crate) fn run_in(handle: &Handle, run: impl FnOnce()) {
    let _entered = handle.enter();
    LOOP_ENTERED.with(|entered| entered.set(true));
    run();
    LOOP_ENTERED.with(|entered| entered.set(false));
}

/// Enters the runtime a future should run on (the current one, else uweb's own) for a poll
/// outside a task: the first poll, made at once on the loop thread.
pub(crate) fn enter() -> Option<tokio::runtime::EnterGuard<'static>> {
    // A loop that entered its app's runtime: known without a look at tokio's context
    // (which clones the handle).
    if LOOP_ENTERED.with(Cell::get) {
        return None;
    }
    match Handle::try_current() {
        Ok(_) => None,
        Err(_) => Some(fallback().enter()),
    }
}

/// The runtime started for the process when an async handler runs on a thread that has
/// entered none: multi-threaded, one worker per core (workers mostly wait), named
/// `uweb-tokio`.
fn fallback() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            .thread_name("uweb-tokio")
            .enable_all()
            .build()
            .expect("starting uweb's tokio runtime")
    })
}

pin_project_lite::pin_project! {
    /// A future whose panic is caught and returned, as `catch_unwind` does for a call: the
    /// task survives to answer with the error handler. Holds the future in place (no box
    /// of its own).
    pub(crate) struct CatchUnwind<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> CatchUnwind<F> {
    pub(crate) fn new(future: F) -> Self {
        CatchUnwind { inner: future }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_are_caught_and_outputs_pass_through() {
        let runtime = Builder::new_current_thread().build().unwrap();
        let ok = runtime.block_on(CatchUnwind::new(async { 7 }));
        assert_eq!(ok.ok(), Some(7));
        let failed = runtime.block_on(CatchUnwind::new(async {
            if std::hint::black_box(true) {
                panic!("boom");
            }
        }));
        let panic = failed.expect_err("the panic is caught");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"boom"));
    }
}
