//! A loop's mailbox (DESIGN.md "Answer later"): other threads, and the loop itself, queue
//! letters (a deferred response's calls, closures to run there) and wake the loop through its
//! `mio::Waker`; the loop takes them all at once, after the events of an iteration.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use mio::Waker;

use crate::error::panic_message;
use crate::http::letter::{Courier, Op, Ticket, WakeLoop, defer_wake};
use crate::ws::remote::{WsCourier, WsOp, WsTicket};

/// One thing for the loop to do.
pub(crate) enum Letter {
    /// Calls of a deferred response's handle, in order.
    Response(Arc<Ticket>, Vec<Op>),
    /// A call made through a WebSocket's handle.
    Socket(Arc<WsTicket>, WsOp),
    /// A closure to run on the loop thread (`LoopHandle::defer`).
    Run(Box<dyn FnOnce() + Send>),
}

impl Letter {
    /// The socket a letter is about; `None` for a closure.
    pub(crate) fn key(&self) -> Option<usize> {
        match self {
            Letter::Response(ticket, _) => Some(ticket.key()),
            Letter::Socket(ticket, _) => Some(ticket.key()),
            Letter::Run(_) => None,
        }
    }
}

thread_local! {
    /// The mailbox whose loop runs on this thread (its address), so that a post from the
    /// loop itself does not wake it: the loop looks at its mailbox before it sleeps.
    static HOME: Cell<usize> = const { Cell::new(0) };
    /// Letters the loop posted to itself while its locked queue was empty, kept without the
    /// lock: taken before that queue, which is then still in posting order (a letter from
    /// another thread that must come first was already in the locked queue, so this one
    /// went there too).
    static OWN: RefCell<Vec<Letter>> = const { RefCell::new(Vec::new()) };
}

/// A loop's mailbox: a queue behind a lock taken once per post and once per iteration with
/// letters (the loop checks an atomic flag first), and the loop's waker.
pub(crate) struct Mailbox {
    queue: Mutex<Vec<Letter>>,
    /// Letters wait: set by a post, cleared by the loop when it takes them.
    pending: AtomicBool,
    /// The loop has exited: posts are refused.
    stopped: AtomicBool,
    waker: Arc<Waker>,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailbox")
            .field("pending", &self.pending.load(Ordering::Relaxed))
            .field("stopped", &self.stopped.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Mailbox {
    /// An empty mailbox waking its loop with `waker`.
    pub(crate) fn new(waker: Arc<Waker>) -> Arc<Mailbox> {
        Arc::new(Mailbox {
            queue: Mutex::new(Vec::new()),
            pending: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            waker,
        })
    }

    /// Marks the calling thread as this mailbox's loop.
    pub(crate) fn enter(&self) {
        HOME.with(|home| home.set(self.address()));
    }

    /// Whether letters wait (called on the loop thread).
    pub(crate) fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
            || OWN
                .try_with(|own| !own.borrow().is_empty())
                .unwrap_or(false)
    }

    /// Moves the waiting letters to the end of `into`, in posting order; false when there
    /// were none (called on the loop thread).
    pub(crate) fn take(&self, into: &mut Vec<Letter>) -> bool {
        let own = OWN
            .try_with(|own| {
                let mut own = own.borrow_mut();
                let any = !own.is_empty();
                into.append(&mut own);
                any
            })
            .unwrap_or(false);
        if !self.pending.load(Ordering::Acquire) {
            return own;
        }
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        self.pending.store(false, Ordering::Release);
        into.append(&mut queue);
        true
    }

    /// The loop exits (called on its thread): later posts are refused, and the letters
    /// still queued are dropped (outside the lock: dropping one may drop a handle, which
    /// posts).
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        let own = OWN
            .try_with(|own| std::mem::take(&mut *own.borrow_mut()))
            .unwrap_or_default();
        drop(own);
        let queued =
            std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner));
        drop(queued);
    }

    fn address(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// Queues `letter`; wakes the loop unless letters were already waiting or the caller is
    /// the loop itself.
    fn send(&self, letter: Letter) -> bool {
        if self.stopped.load(Ordering::Acquire) {
            return false;
        }
        let on_loop = HOME.with(Cell::get) == self.address();
        let mut letter = Some(letter);
        if on_loop && !self.pending.load(Ordering::Acquire) {
            let kept = OWN.try_with(|own| {
                if let Some(letter) = letter.take() {
                    own.borrow_mut().push(letter);
                }
            });
            if kept.is_ok() {
                return true;
            }
        }
        let Some(letter) = letter else {
            return false;
        };
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(letter);
        if !self.pending.swap(true, Ordering::AcqRel) && !on_loop && !defer_wake(&self.waker) {
            self.waker.wake_loop();
        }
        true
    }
}

impl Courier for Mailbox {
    fn post(&self, ticket: Arc<Ticket>, ops: Vec<Op>) -> bool {
        self.send(Letter::Response(ticket, ops))
    }

    fn run(&self, f: Box<dyn FnOnce() + Send>) -> bool {
        self.send(Letter::Run(f))
    }

    /// The letters for `ticket` at the end of the loop's own queue, if no other letter for
    /// it waits anywhere (earlier in that queue, or in the locked one, whose letters would
    /// then have to come first).
    fn reclaim(&self, ticket: &Arc<Ticket>) -> Option<(Arc<Ticket>, Vec<Op>)> {
        if HOME.with(Cell::get) != self.address() || self.pending.load(Ordering::Acquire) {
            return None;
        }
        let is_for =
            |letter: &Letter| matches!(letter, Letter::Response(t, _) if Arc::ptr_eq(t, ticket));
        OWN.try_with(|own| {
            let mut own = own.borrow_mut();
            // Usually one letter, the handler's own; several are joined in posting order.
            let mut reclaimed: Option<(Arc<Ticket>, Vec<Op>)> = None;
            while own.last().is_some_and(is_for) {
                if let Some(Letter::Response(t, mut ops)) = own.pop() {
                    if let Some((_, later)) = reclaimed.take() {
                        ops.extend(later);
                    }
                    reclaimed = Some((t, ops));
                }
            }
            if reclaimed.is_some() && own.iter().any(is_for) {
                // An older letter for it came first: all of them go the usual way.
                if let Some((t, ops)) = reclaimed.take() {
                    own.push(Letter::Response(t, ops));
                }
            }
            reclaimed
        })
        .ok()
        .flatten()
    }
}

impl WsCourier for Mailbox {
    fn post_ws(&self, ticket: Arc<WsTicket>, op: WsOp) -> bool {
        self.send(Letter::Socket(ticket, op))
    }
}

impl WakeLoop for Waker {
    fn wake_loop(&self) {
        if let Err(e) = self.wake() {
            log::error!("could not wake a loop: {e}");
        }
    }
}

/// Runs a deferred closure; a panic is logged and the loop goes on.
pub(crate) fn run_deferred(f: Box<dyn FnOnce() + Send>) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
        log::error!(
            "a closure deferred to the loop panicked: {}",
            panic_message(panic.as_ref())
        );
    }
}
