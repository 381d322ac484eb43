//! What travels from a [`DeferredResponse`](super::later::DeferredResponse) to its loop:
//! the calls ([`Op`]), the [`Ticket`] naming the response they are for, and the [`Courier`]
//! (the loop's mailbox) that carries them and wakes the loop.
//!
//! The loop checks each letter against the response it holds by identity of the shared
//! ticket (an `Arc` the letter keeps alive, so no newer response can have the same one): a
//! handle can never write into a connection that reused its slot.
//!
//! This file sits below the response writer, so the two callbacks that take an
//! `HttpResponse` travel type-erased ([`Op::Cork`], [`Op::OnWritable`]): the response's
//! state holds such callbacks, so naming `HttpResponse` here would make the files import
//! each other. The loop side turns them back with one `downcast`.

use std::any::Any;
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use bytes::Bytes;

use crate::error::HandlerError;
use crate::spares::{self, SpareList};
use crate::stats::LoopStats;

thread_local! {
    /// Tickets no one else holds any more, to be issued again by this thread's loop.
    static SPARE_TICKETS: SpareList<Arc<Ticket>> = const { RefCell::new(Vec::new()) };
    /// Emptied call lists, with their capacity.
    static SPARE_OPS: SpareList<Vec<Op>> = const { RefCell::new(Vec::new()) };
}

/// An empty call list, a spare one if this thread has it: a loop answering its own deferred
/// responses allocates none for each in steady state.
pub(crate) fn spare_ops() -> Vec<Op> {
    spares::take(&SPARE_OPS).unwrap_or_default()
}

/// Keeps an applied call list's allocation for [`spare_ops`]; what it still holds is dropped.
pub(crate) fn recycle_ops(mut ops: Vec<Op>) {
    // Dropped before the spares are borrowed: an op's drop may run user code.
    ops.clear();
    if ops.capacity() > 0 {
        spares::keep_up_to(&SPARE_OPS, ops, spares::SMALL_LIMIT);
    }
}

/// A loop's wake-up (its mailbox's waker), which [`hold_wakes`] can put off.
pub(crate) trait WakeLoop: Send + Sync {
    /// Wakes the loop now.
    fn wake_loop(&self);
}

thread_local! {
    /// Loops to wake when this thread's [`HeldWakes`] ends; `None`: wakes are not held.
    static HELD_WAKES: RefCell<Option<Vec<Arc<dyn WakeLoop>>>> = const { RefCell::new(None) };
}

/// While it lives, loops that letters posted from this thread should wake are woken once,
/// when it ends, instead of at each post: a task answering many requests wakes each loop
/// once for all of them (their letters are queued at once, and a loop takes all that wait).
#[cfg(feature = "tokio")]
pub(crate) struct HeldWakes(());

/// Holds this thread's loop wake-ups until the returned guard drops.
#[cfg(feature = "tokio")]
pub(crate) fn hold_wakes() -> HeldWakes {
    let _ = HELD_WAKES.try_with(|held| held.borrow_mut().get_or_insert_with(Vec::new).clear());
    HeldWakes(())
}

#[cfg(feature = "tokio")]
impl Drop for HeldWakes {
    fn drop(&mut self) {
        let held = HELD_WAKES
            .try_with(|held| held.borrow_mut().take())
            .ok()
            .flatten();
        for waker in held.into_iter().flatten() {
            waker.wake_loop();
        }
    }
}

/// Puts off waking `waker`'s loop if wakes are held on this thread (true), else leaves it to
/// the caller (false).
pub(crate) fn defer_wake<W: WakeLoop + 'static>(waker: &Arc<W>) -> bool {
    HELD_WAKES
        .try_with(|held| {
            let mut held = held.borrow_mut();
            let Some(held) = held.as_mut() else {
                return false;
            };
            let address = Arc::as_ptr(waker).cast::<()>();
            if !held.iter().any(|w| Arc::as_ptr(w).cast::<()>() == address) {
                held.push(Arc::clone(waker) as Arc<dyn WakeLoop>);
            }
            true
        })
        .unwrap_or(false)
}

/// Callback run once, on the owning loop, when the client goes before the answer is complete.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub type OnAborted = Box<dyn FnOnce() + Send>;

/// One call on a deferred response's handle, carried to its loop.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub enum Op {
    /// `write_status`.
    Status(Cow<'static, str>),
    /// `write_header`: name, value.
    Header(Cow<'static, str>, Cow<'static, str>),
    /// `write`.
    Write(Bytes),
    /// `try_end`: chunk, total size in bytes.
    TryEnd(Bytes, u64),
    /// `end`.
    End(Bytes),
    /// `end_without_body`: the `Content-Length` to announce.
    EndWithoutBody(Option<usize>),
    /// `close`.
    Close,
    /// `on_aborted`.
    OnAborted(OnAborted),
    /// `on_writable`: an `OnWritable` (`http::response`), erased.
    OnWritable(Box<dyn Any + Send>),
    /// `cork`: a `Corked` closure (`http::later`) run with the live response, erased.
    Cork(Box<dyn Any + Send>),
    /// `fail`: the app's error handler answers.
    Fail(HandlerError),
    /// The handle is gone: unless the response is complete or streams from an
    /// `on_writable` callback, it is unanswered (`500`).
    Release,
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Op::Status(_) => "Status",
            Op::Header(..) => "Header",
            Op::Write(_) => "Write",
            Op::TryEnd(..) => "TryEnd",
            Op::End(_) => "End",
            Op::EndWithoutBody(_) => "EndWithoutBody",
            Op::Close => "Close",
            Op::OnAborted(_) => "OnAborted",
            Op::OnWritable(_) => "OnWritable",
            Op::Cork(_) => "Cork",
            Op::Fail(_) => "Fail",
            Op::Release => "Release",
        };
        f.write_str(name)
    }
}

/// Carries calls to one loop and wakes it: the loop's mailbox, seen from HTTP.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub trait Courier: Send + Sync + 'static {
    /// Queues `ops` for the response `ticket` stands for. False when the loop has stopped
    /// (nothing was queued).
    fn post(&self, ticket: Arc<Ticket>, ops: Vec<Op>) -> bool;
    /// Queues `f` to run on the loop thread. False when the loop has stopped.
    fn run(&self, f: Box<dyn FnOnce() + Send>) -> bool;
    /// Called on the loop thread right after a handler deferred the response `ticket`
    /// stands for: the calls its handle posted meanwhile from this thread, taken back to be
    /// applied at once (so requests pipelined behind it go on in the same pass), as one
    /// letter. `None` when there are none, or when taking them could reorder them after
    /// other calls for the same response.
    fn reclaim(&self, ticket: &Arc<Ticket>) -> Option<(Arc<Ticket>, Vec<Op>)> {
        let _ = ticket;
        None
    }
}

/// Where a deferred response stands, as its handle can see it from any thread.
const LIVE: u8 = 0;
/// The response is complete.
const DONE: u8 = 1;
/// The client went first (or the handle was superseded): calls are no-ops.
const ABORTED: u8 = 2;

/// What a deferred response's handle and its loop share: the socket's slab key, the state,
/// and the way to the loop. Identity (the `Arc`'s address) is the generation check.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub struct Ticket {
    key: usize,
    state: AtomicU8,
    courier: Arc<dyn Courier>,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("key", &self.key)
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
impl Ticket {
    /// A live ticket for the response on socket `key` of the loop behind `courier`: a
    /// spare one of this thread's if it has one for that loop.
    pub(crate) fn new(key: usize, courier: &Arc<dyn Courier>) -> Arc<Ticket> {
        if let Some(mut spare) = spares::take(&SPARE_TICKETS)
            && let Some(ticket) = Arc::get_mut(&mut spare)
            && Arc::ptr_eq(&ticket.courier, courier)
        {
            ticket.key = key;
            *ticket.state.get_mut() = LIVE;
            return spare;
        }
        Arc::new(Ticket {
            key,
            state: AtomicU8::new(LIVE),
            courier: Arc::clone(courier),
        })
    }

    /// Keeps a ticket for [`Ticket::new`] once nothing else holds it. Identity stays the
    /// generation check: a ticket is issued again only when no handle, letter or response
    /// can still hold the old one, so none can mistake the new response for its own.
    pub(crate) fn recycle(mut ticket: Arc<Ticket>) {
        if Arc::get_mut(&mut ticket).is_some() {
            spares::keep_up_to(&SPARE_TICKETS, ticket, spares::SMALL_LIMIT);
        }
    }

    /// The slab key of the socket the response belongs to.
    pub fn key(&self) -> usize {
        self.key
    }

    /// The response completed (set by the loop).
    pub(crate) fn done(&self) {
        self.settle(DONE);
    }

    /// The client went before the response completed, or a newer handle replaced this one
    /// (set by the loop).
    pub(crate) fn abort(&self) {
        self.settle(ABORTED);
    }

    /// Leaves `LIVE` for `end`. Only the owning loop's thread writes the state (handles
    /// only read it), so a load and a store do what a compare-and-swap would.
    fn settle(&self, end: u8) {
        if self.state.load(Ordering::Relaxed) == LIVE {
            self.state.store(end, Ordering::Release);
        }
    }

    /// The way to the owning loop.
    pub(crate) fn courier(&self) -> &Arc<dyn Courier> {
        &self.courier
    }

    /// Whether the response is still open for this ticket's handle.
    pub(crate) fn is_live(&self) -> bool {
        self.state.load(Ordering::Acquire) == LIVE
    }
}

impl Ticket {
    /// Whether the client went before the response completed (or the handle was
    /// superseded).
    pub(crate) fn is_aborted(&self) -> bool {
        self.state.load(Ordering::Acquire) == ABORTED
    }
}

/// The loop and socket a response belongs to, lent to it for `HttpResponse::defer`.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Clone, Copy)]
pub struct Home<'a> {
    /// The owning loop's mailbox.
    pub courier: &'a Arc<dyn Courier>,
    /// The socket's slab key.
    pub key: usize,
    /// The loop's counters.
    pub(crate) stats: &'a LoopStats,
}

impl std::fmt::Debug for Home<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Home").field("key", &self.key).finish()
    }
}

/// The `on_aborted` callbacks among calls that reached the loop after their response was
/// over, to run when the client went first: registered late, each still runs exactly once.
pub(crate) fn late_on_aborted(ticket: &Ticket, ops: Vec<Op>) -> impl Iterator<Item = OnAborted> {
    let aborted = ticket.is_aborted();
    ops.into_iter().filter_map(move |op| match op {
        Op::OnAborted(f) if aborted => Some(f),
        _ => None,
    })
}
