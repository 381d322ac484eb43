//! Topics (uWebSockets' pub/sub): a per-loop table of topic -> subscriber sockets, a per-loop
//! batch of messages published during the current callback, and the cross-loop [`Hub`] through
//! which a publish reaches subscribers on every core.
//!
//! A message is framed once into a [`Bytes`] and shared by every subscriber on every loop;
//! subscribers get clones of it (a reference count), never a copy, until the kernel refuses
//! bytes and the rest goes to that socket's backpressure buffer.
//!
//! A [`PubSubBridge`] (e.g. Redis, feature `redis`) carries the process's publishes to other
//! processes and theirs back; the hub tells it when the process gains its first subscriber of
//! a topic and loses its last.

use std::collections::HashMap;
use std::mem;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use mio::Waker;
use slab::Slab;

use super::codec::{self, OpCode};
use super::subscriptions::{SocketTopics, TopicId};

/// One framed message on its way to subscribers.
#[derive(Clone, Debug)]
pub(crate) struct Published {
    pub(crate) topic: Arc<str>,
    /// The whole frame: header and payload.
    pub(crate) frame: Bytes,
    pub(crate) header_len: u8,
    pub(crate) opcode: OpCode,
    /// The publishing socket on this loop, which does not receive its own message.
    pub(crate) sender: Option<usize>,
}

impl Published {
    /// Frames `payload` once.
    pub(crate) fn new(
        topic: Arc<str>,
        payload: &[u8],
        opcode: OpCode,
        sender: Option<usize>,
    ) -> Self {
        let mut frame = Vec::with_capacity(codec::MAX_HEADER_BYTES + payload.len());
        codec::write_header(&mut frame, opcode.raw(), true, payload.len());
        let header_len = frame.len() as u8;
        frame.extend_from_slice(payload);
        Published {
            topic,
            frame: Bytes::from(frame),
            header_len,
            opcode,
            sender,
        }
    }

    /// The message payload (without the frame header).
    pub(crate) fn payload(&self) -> &[u8] {
        &self.frame[usize::from(self.header_len)..]
    }
}

/// A topic with its subscribers on this loop (slab keys of their sockets).
#[derive(Debug)]
struct Topic {
    name: Arc<str>,
    subscribers: Vec<usize>,
    /// Subscribers on every loop, shared through the [`Hub`]: counting needs no lock.
    count: Arc<AtomicUsize>,
}

/// One loop's topics and the messages published since the last fan-out.
#[derive(Debug, Default)]
pub(crate) struct LoopTopics {
    index: HashMap<Arc<str>, TopicId>,
    topics: Slab<Topic>,
    /// Published during the current callback; fanned out when it returns.
    pub(crate) batch: Vec<Published>,
    /// Incremented at each fan-out, so per-socket marks into `batch` expire.
    pub(crate) generation: u32,
}

impl LoopTopics {
    /// The id of `name`, if some socket of this loop is subscribed to it.
    pub(crate) fn id(&self, name: &str) -> Option<TopicId> {
        self.index.get(name).copied()
    }

    /// The name of topic `id`.
    pub(crate) fn name(&self, id: TopicId) -> &str {
        &self.topics[id as usize].name
    }

    /// The shared name of topic `id`.
    pub(crate) fn shared_name(&self, id: TopicId) -> Arc<str> {
        Arc::clone(&self.topics[id as usize].name)
    }

    /// Slab keys of the sockets subscribed to `id`.
    pub(crate) fn subscribers(&self, id: TopicId) -> &[usize] {
        &self.topics[id as usize].subscribers
    }

    /// Adds socket `key` (whose subscriptions are `mine`) to `name`. Returns the topic's
    /// subscriber count on every loop after and before, or `None` if it already was.
    pub(crate) fn subscribe(
        &mut self,
        key: usize,
        mine: &mut SocketTopics,
        name: &str,
        hub: &Hub,
    ) -> Option<(usize, usize)> {
        let id = match self.index.get(name) {
            Some(&id) => id,
            None => {
                let name: Arc<str> = Arc::from(name);
                let id = self.topics.insert(Topic {
                    count: hub.counter(&name),
                    name: Arc::clone(&name),
                    subscribers: Vec::new(),
                }) as TopicId;
                self.index.insert(name, id);
                id
            }
        };
        if !mine.insert(id) {
            return None;
        }
        let topic = &mut self.topics[id as usize];
        topic.subscribers.push(key);
        let old = topic.count.fetch_add(1, Ordering::AcqRel);
        Some((old + 1, old))
    }

    /// Removes socket `key` from topic `id` (and `id` from `mine`); drops the topic when it
    /// has no subscriber left on this loop. Returns the count on every loop after and before.
    pub(crate) fn unsubscribe(
        &mut self,
        key: usize,
        mine: &mut SocketTopics,
        id: TopicId,
        hub: &Hub,
    ) -> (usize, usize) {
        mine.remove(id);
        let topic = &mut self.topics[id as usize];
        if let Some(i) = topic.subscribers.iter().position(|&k| k == key) {
            topic.subscribers.swap_remove(i);
        }
        let old = topic.count.fetch_sub(1, Ordering::AcqRel);
        if topic.subscribers.is_empty() {
            let topic = self.topics.remove(id as usize);
            self.index.remove(&topic.name);
            hub.release_counter(&topic.name, topic.count);
        }
        (old - 1, old)
    }

    /// Number of topics with subscribers on this loop.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.topics.len()
    }

    /// Starts a new batch: marks into the previous one no longer apply.
    pub(crate) fn take_batch(&mut self, into: &mut Vec<Published>) {
        debug_assert!(into.is_empty());
        mem::swap(&mut self.batch, into);
        self.generation = self.generation.wrapping_add(1);
    }
}

/// One loop's inbox of messages published elsewhere.
struct Inbox {
    queue: Mutex<Vec<Published>>,
    /// Set when `queue` went from empty to non-empty; the loop clears it when it takes.
    pending: AtomicBool,
    waker: Arc<Waker>,
}

/// Carries this process's pub/sub messages to other processes and theirs back, through a
/// broker (Redis with feature `redis`: [`RedisBridge`](crate::RedisBridge)), set with
/// [`App::pubsub_bridge`](crate::App::pubsub_bridge). Every method but `start` is called on
/// loop threads and must not block: queue the work for a thread of the bridge's own.
pub trait PubSubBridge: Send + Sync + std::fmt::Debug + 'static {
    /// The server started: messages from other processes go to `inbound`.
    fn start(&self, inbound: Inbound);
    /// A socket of this process subscribed to `topic`, where none was: subscribe on the
    /// broker. Called in order with [`unsubscribe`](Self::unsubscribe) for the same topic.
    fn subscribe(&self, topic: &str);
    /// The last socket of this process subscribed to `topic` left: unsubscribe on the broker.
    fn unsubscribe(&self, topic: &str);
    /// A message published in this process (by [`WebSocket::publish`](crate::WebSocket::publish),
    /// a [`WebSocketHandle`](crate::WebSocketHandle) or a [`Publisher`]), for the other
    /// processes; `opcode` is `Text` or `Binary`.
    fn publish(&self, topic: &str, payload: &[u8], opcode: OpCode);
    /// The server stopped (its loops have exited; nothing is published after this): hand
    /// over what is still queued, then let the broker go and end the bridge's threads.
    /// Called once, on the thread that joins the server, which waits for it: keep it
    /// bounded. The default does nothing.
    fn stop(&self) {}
}

/// Where a [`PubSubBridge`] hands messages from other processes: to every subscriber of this
/// process, on every loop, framed once (as a [`Publisher`] does, but not sent back out
/// through the bridge).
#[derive(Clone, Debug)]
pub struct Inbound {
    hub: Arc<Hub>,
}

impl Inbound {
    /// Delivers `payload` to the sockets subscribed to `topic` in this process. Returns false
    /// when none is (nothing is queued then).
    pub fn publish(&self, topic: &str, payload: &[u8], opcode: OpCode) -> bool {
        self.hub.deliver_everywhere(topic, payload, opcode)
    }

    /// Sockets of this process subscribed to `topic`.
    pub fn num_subscribers(&self, topic: &str) -> usize {
        self.hub.num_subscribers(topic)
    }
}

/// What every loop shares for pub/sub: an inbox per loop and the subscriber counts.
pub(crate) struct Hub {
    inboxes: Box<[Inbox]>,
    /// Subscriber count per topic, held by every loop with a subscriber to it; the lock is
    /// taken when a loop gains or loses its first subscriber of a topic, not per subscribe.
    counts: Mutex<HashMap<Arc<str>, Arc<AtomicUsize>>>,
    /// The bridge to other processes, if the app has one.
    bridge: OnceLock<Arc<dyn PubSubBridge>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("loops", &self.inboxes.len())
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub for loops woken by `wakers` (loop `i` by `wakers[i]`).
    pub(crate) fn new(wakers: &[Arc<Waker>]) -> Self {
        Hub {
            inboxes: wakers
                .iter()
                .map(|waker| Inbox {
                    queue: Mutex::new(Vec::new()),
                    pending: AtomicBool::new(false),
                    waker: Arc::clone(waker),
                })
                .collect(),
            counts: Mutex::new(HashMap::new()),
            bridge: OnceLock::new(),
        }
    }

    /// Connects `bridge` and starts it (once; a second bridge is ignored).
    pub(crate) fn attach_bridge(self: &Arc<Self>, bridge: Arc<dyn PubSubBridge>) {
        if self.bridge.set(Arc::clone(&bridge)).is_ok() {
            bridge.start(Inbound {
                hub: Arc::clone(self),
            });
        }
    }

    /// Whether publishes also leave for other processes.
    pub(crate) fn bridged(&self) -> bool {
        self.bridge.get().is_some()
    }

    /// Hands a message published on this process to the bridge, if any.
    pub(crate) fn bridge_out(&self, topic: &str, payload: &[u8], opcode: OpCode) {
        if let Some(bridge) = self.bridge.get() {
            bridge.publish(topic, payload, opcode);
        }
    }

    /// Number of loops.
    pub(crate) fn loops(&self) -> usize {
        self.inboxes.len()
    }

    /// Queues `items` for loop `to` and wakes it if its inbox was empty. One lock per call.
    pub(crate) fn post(&self, to: usize, items: impl IntoIterator<Item = Published>) {
        let inbox = &self.inboxes[to];
        inbox
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(items);
        if !inbox.pending.swap(true, Ordering::AcqRel)
            && let Err(e) = inbox.waker.wake()
        {
            log::error!("could not wake loop {to}: {e}");
        }
    }

    /// Moves loop `at`'s queued messages to the end of `into` (one lock, only when some are
    /// pending). Returns whether any were taken.
    pub(crate) fn take(&self, at: usize, into: &mut Vec<Published>) -> bool {
        let inbox = &self.inboxes[at];
        if !inbox.pending.load(Ordering::Acquire) {
            return false;
        }
        let mut queue = inbox.queue.lock().unwrap_or_else(PoisonError::into_inner);
        inbox.pending.store(false, Ordering::Release);
        into.append(&mut queue);
        true
    }

    /// Publishes `payload` to `topic` on every loop, and to other processes through the
    /// bridge; returns false if no socket of this process is subscribed (nothing is queued
    /// here then).
    pub(crate) fn publish_everywhere(&self, topic: &str, payload: &[u8], opcode: OpCode) -> bool {
        self.bridge_out(topic, payload, opcode);
        self.deliver_everywhere(topic, payload, opcode)
    }

    /// Publishes `payload` to `topic` on every loop of this process only.
    fn deliver_everywhere(&self, topic: &str, payload: &[u8], opcode: OpCode) -> bool {
        if self.num_subscribers(topic) == 0 {
            return false;
        }
        let message = Published::new(Arc::from(topic), payload, opcode, None);
        for to in 0..self.inboxes.len() {
            self.post(to, [message.clone()]);
        }
        true
    }

    /// The shared subscriber count of `topic`, for a loop that gains its first subscriber.
    fn counter(&self, topic: &Arc<str>) -> Arc<AtomicUsize> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(counter) = counts.get(topic) {
            return Arc::clone(counter);
        }
        // The process's first subscriber: told under the lock, so the bridge sees subscribes
        // and unsubscribes of a topic in order.
        if let Some(bridge) = self.bridge.get() {
            bridge.subscribe(topic);
        }
        Arc::clone(counts.entry(Arc::clone(topic)).or_default())
    }

    /// A loop lost its last subscriber of `topic`: it gives its counter back, and the entry
    /// goes once no loop holds it (no loop holding it means no subscriber).
    fn release_counter(&self, topic: &str, counter: Arc<AtomicUsize>) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        drop(counter);
        if counts.get(topic).is_some_and(|c| Arc::strong_count(c) == 1) {
            counts.remove(topic);
            if let Some(bridge) = self.bridge.get() {
                bridge.unsubscribe(topic);
            }
        }
    }

    /// Sockets subscribed to `topic` across every loop.
    pub(crate) fn num_subscribers(&self, topic: &str) -> usize {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.get(topic).map_or(0, |c| c.load(Ordering::Acquire))
    }
}

/// Publishes to WebSocket topics from anywhere: any thread, an HTTP handler, a WebSocket
/// callback (uWebSockets' `app.publish`). Cheap to clone; `Send + Sync`.
///
/// Get one from [`App::publisher`](crate::App::publisher) before starting the server, or from
/// [`Server::publisher`](crate::Server::publisher). Messages reach every subscriber on every
/// loop (the publishing socket included, unlike [`WebSocket::publish`](crate::WebSocket::publish)),
/// each in publish order.
#[derive(Clone, Debug, Default)]
pub struct Publisher {
    hub: Arc<OnceLock<Arc<Hub>>>,
    /// The app's bridge to other processes, connected to the hub when the server starts.
    bridge: Arc<OnceLock<Arc<dyn PubSubBridge>>>,
}

impl Publisher {
    /// A publisher whose hub is attached when the server starts.
    pub(crate) fn new() -> Self {
        Publisher::default()
    }

    /// Attaches the running server's hub (and starts the bridge, if any).
    pub(crate) fn attach(&self, hub: Arc<Hub>) {
        if let Some(bridge) = self.bridge.get() {
            hub.attach_bridge(Arc::clone(bridge));
        }
        let _ = self.hub.set(hub);
    }

    /// The server stopped: the bridge, if any, hands over what it queued and ends.
    pub(crate) fn stop_bridge(&self) {
        if let Some(bridge) = self.bridge.get() {
            bridge.stop();
        }
    }

    /// Sets the bridge to other processes, before the server starts; false if one was set.
    pub(crate) fn set_bridge(&self, bridge: Arc<dyn PubSubBridge>) -> bool {
        self.bridge.set(bridge).is_ok()
    }

    /// Sends `message` with `opcode` to every socket subscribed to `topic`, on every loop.
    /// Returns false when nobody is subscribed or the server has not started (the message is
    /// then dropped). The message is framed once and shared.
    pub fn publish(&self, topic: &str, message: impl AsRef<[u8]>, opcode: OpCode) -> bool {
        match self.hub.get() {
            Some(hub) => hub.publish_everywhere(topic, message.as_ref(), opcode),
            None => false,
        }
    }

    /// Sockets subscribed to `topic`, across every loop (0 before the server starts).
    pub fn num_subscribers(&self, topic: &str) -> usize {
        self.hub.get().map_or(0, |hub| hub.num_subscribers(topic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hub of two loops (their wakers are never woken here).
    fn hub() -> (Hub, mio::Poll) {
        let poll = mio::Poll::new().unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), mio::Token(0)).unwrap());
        (Hub::new(&[Arc::clone(&waker), waker]), poll)
    }

    #[test]
    fn subscribe_unsubscribe_and_reuse() {
        let (hub, _poll) = hub();
        let mut topics = LoopTopics::default();
        let (mut a, mut b) = (SocketTopics::default(), SocketTopics::default());
        assert_eq!(topics.subscribe(1, &mut a, "t", &hub), Some((1, 0)));
        assert_eq!(topics.subscribe(1, &mut a, "t", &hub), None);
        assert_eq!(topics.subscribe(2, &mut b, "t", &hub), Some((2, 1)));
        let id = topics.id("t").unwrap();
        assert_eq!(topics.subscribers(id), [1, 2]);
        assert_eq!(topics.unsubscribe(1, &mut a, id, &hub), (1, 2));
        assert_eq!(topics.subscribers(id), [2]);
        assert!(a.is_empty());
        assert_eq!(topics.unsubscribe(2, &mut b, id, &hub), (0, 1));
        assert_eq!(topics.id("t"), None);
        assert_eq!(topics.len(), 0);
        assert_eq!(hub.num_subscribers("t"), 0);
    }

    #[test]
    fn counts_are_shared_between_loops_and_released_by_the_last() {
        let (hub, _poll) = hub();
        let (mut first, mut second) = (LoopTopics::default(), LoopTopics::default());
        let (mut a, mut b) = (SocketTopics::default(), SocketTopics::default());
        assert_eq!(first.subscribe(1, &mut a, "t", &hub), Some((1, 0)));
        assert_eq!(second.subscribe(1, &mut b, "t", &hub), Some((2, 1)));
        assert_eq!(hub.num_subscribers("t"), 2);
        let id = first.id("t").unwrap();
        assert_eq!(first.unsubscribe(1, &mut a, id, &hub), (1, 2));
        assert_eq!(
            hub.num_subscribers("t"),
            1,
            "the second loop still holds the entry"
        );
        assert_eq!(first.subscribe(5, &mut a, "t", &hub), Some((2, 1)));
        let id = second.id("t").unwrap();
        assert_eq!(second.unsubscribe(1, &mut b, id, &hub), (1, 2));
        let id = first.id("t").unwrap();
        assert_eq!(first.unsubscribe(5, &mut a, id, &hub), (0, 1));
        assert!(
            hub.counts.lock().unwrap().is_empty(),
            "the entry went with the last loop"
        );
    }

    #[test]
    fn published_frames_once() {
        let p = Published::new(Arc::from("t"), &[7; 300], OpCode::Binary, Some(3));
        assert_eq!(p.payload(), [7; 300]);
        assert_eq!(p.header_len, 4);
        let h = codec::parse_header(&p.frame).unwrap().unwrap();
        assert_eq!(h.payload_len, 300);
        let copy = p.clone();
        assert_eq!(
            copy.frame.as_ptr(),
            p.frame.as_ptr(),
            "clones share the frame"
        );
    }
}
