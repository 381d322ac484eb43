//! The Redis pub/sub bridge (feature `redis`): two threads per process on blocking
//! connections of the `redis` crate. The subscriber holds one connection in pub/sub mode,
//! SUBSCRIBEd (never PSUBSCRIBE: topic names are not patterns) to exactly the topics this
//! process has subscribers for; the publisher sends what the loops queued, many PUBLISHes per
//! pipelined write. Either reconnects with backoff when the broker goes away; loops never wait
//! for it.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use redis::{Client, Connection};

use super::envelope;
use super::stats::BridgeStats;
use crate::ws::{Inbound, OpCode, PubSubBridge};

/// Messages waiting for the publisher thread at most; more are dropped (and counted).
const QUEUE_LIMIT: usize = 65_536;
/// PUBLISH commands per pipelined write at most.
const BATCH: usize = 1024;
/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How often the subscriber looks at topic changes while no message arrives.
const POLL: Duration = Duration::from_millis(20);
/// First and longest wait between reconnection attempts.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(50), Duration::from_secs(2));

/// Bridges an app's pub/sub through Redis (`App::pubsub_bridge(RedisBridge::new(url))`), as
/// Django Channels' `channels_redis` layer and socket.io's Redis adapter do: a publish in one
/// process reaches subscribers in every process connected to the same Redis.
///
/// - Each topic is the Redis channel `prefix + topic` (prefix `uweb:` by default); a process
///   subscribes only to topics it has subscribers for, and leaves them with the last one.
/// - Messages keep their opcode (text or binary); a process does not deliver its own
///   messages twice (each carries its origin's random id).
/// - **Delivery is at most once**, as Redis pub/sub's: a message published while a process's
///   subscribing connection is down never reaches that process. Messages this process could
///   not hand to Redis (down, or over 65,536 queued) are counted in
///   [`stats`](Self::stats)`.dropped()` and logged, never silently lost.
/// - A Redis that is down or never reachable does not stop the server: local pub/sub goes on,
///   and the bridge reconnects with backoff (50 ms doubling to 2 s), subscribing again to the
///   topics still in use.
///
/// Two threads per process (`uweb-redis-sub`, `uweb-redis-pub`), started with the server.
/// When the server has stopped ([`Server::join`](crate::Server::join), after
/// [`Server::shutdown`](crate::Server::shutdown)) they hand Redis what is still queued
/// (dropped and counted if Redis cannot take it at once), close their connections and end.
#[derive(Debug, Clone)]
pub struct RedisBridge {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    url: String,
    prefix: String,
    /// This process's id in every envelope.
    origin: u64,
    stats: BridgeStats,
    /// Topics with subscribers in this process, and whether that changed since last read.
    topics: Mutex<(HashSet<String>, bool)>,
    /// (channel, envelope) pairs for the publisher thread.
    outgoing: Mutex<VecDeque<(String, Vec<u8>)>>,
    ready: Condvar,
    /// Set (under the `outgoing` lock) when the server stopped: the threads end.
    stopping: AtomicBool,
    /// Wakes a thread waiting out its reconnection backoff when `stopping` is set.
    backoff: (Mutex<()>, Condvar),
    /// The two threads, joined by `stop`.
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl RedisBridge {
    /// A bridge to the Redis at `url` (`redis://host:port[/db]`, `rediss://` for TLS is not
    /// built in). Nothing connects until the server starts.
    pub fn new(url: impl Into<String>) -> Self {
        RedisBridge {
            shared: Arc::new(Shared {
                url: url.into(),
                prefix: "uweb:".into(),
                origin: origin_id(),
                stats: BridgeStats::default(),
                topics: Mutex::new((HashSet::new(), false)),
                outgoing: Mutex::new(VecDeque::new()),
                ready: Condvar::new(),
                stopping: AtomicBool::new(false),
                backoff: (Mutex::new(()), Condvar::new()),
                threads: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The Redis channel of topic `t` is `prefix + t` (default `uweb:`): processes sharing a
    /// Redis with other applications keep to their own channels.
    ///
    /// # Panics
    /// If called after the bridge was cloned (set it first).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        Arc::get_mut(&mut self.shared)
            .expect("RedisBridge::prefix before the bridge is cloned")
            .prefix = prefix.into();
        self
    }

    /// The bridge's counters (published, received, dropped, malformed, reconnects,
    /// connected), readable from any thread.
    pub fn stats(&self) -> BridgeStats {
        self.shared.stats.clone()
    }
}

impl PubSubBridge for RedisBridge {
    fn start(&self, inbound: Inbound) {
        let shared = Arc::clone(&self.shared);
        let subscribing = thread::Builder::new()
            .name("uweb-redis-sub".into())
            .spawn(move || subscriber(&shared, &inbound));
        let shared = Arc::clone(&self.shared);
        let publishing = thread::Builder::new()
            .name("uweb-redis-pub".into())
            .spawn(move || publisher(&shared));
        let mut threads = lock(&self.shared.threads);
        for spawned in [subscribing, publishing] {
            match spawned {
                Ok(thread) => threads.push(thread),
                Err(e) => log::error!("redis bridge: could not start a thread: {e}"),
            }
        }
    }

    fn stop(&self) {
        {
            let _queue = lock(&self.shared.outgoing);
            self.shared.stopping.store(true, Ordering::Release);
            self.shared.ready.notify_all();
        }
        // Passing through the lock: a thread about to wait out its backoff then sees the
        // flag, or is already waiting and gets the wake.
        drop(lock(&self.shared.backoff.0));
        self.shared.backoff.1.notify_all();
        let threads = std::mem::take(&mut *lock(&self.shared.threads));
        for thread in threads {
            if thread.join().is_err() {
                log::error!("redis bridge: a thread panicked");
            }
        }
    }

    fn subscribe(&self, topic: &str) {
        let mut topics = lock(&self.shared.topics);
        topics.0.insert(topic.to_owned());
        topics.1 = true;
    }

    fn unsubscribe(&self, topic: &str) {
        let mut topics = lock(&self.shared.topics);
        topics.0.remove(topic);
        topics.1 = true;
    }

    fn publish(&self, topic: &str, payload: &[u8], opcode: OpCode) {
        let channel = format!("{}{topic}", self.shared.prefix);
        let message = envelope::encode(self.shared.origin, opcode, payload);
        let mut queue = lock(&self.shared.outgoing);
        if queue.len() >= QUEUE_LIMIT {
            drop(queue);
            self.shared.dropped(1, "its queue is full");
            return;
        }
        queue.push_back((channel, message));
        drop(queue);
        self.shared.ready.notify_one();
    }
}

impl Shared {
    /// Counts `n` dropped messages, logging the first of each thousand.
    fn dropped(&self, n: u64, why: &str) {
        let before = self.stats.add_dropped(n);
        if before / 1000 != (before + n) / 1000 || before == 0 {
            log::warn!(
                "redis bridge: {} message(s) dropped in all, {why}",
                before + n
            );
        }
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Waits out a reconnection backoff; false if the bridge stopped meanwhile.
    fn pause(&self, backoff: Duration) -> bool {
        let (waiting, wake) = &self.backoff;
        let waiting = lock(waiting);
        let _ = wake
            .wait_timeout_while(waiting, backoff, |()| !self.is_stopping())
            .unwrap_or_else(PoisonError::into_inner);
        !self.is_stopping()
    }

    fn connect(&self) -> redis::RedisResult<Connection> {
        Client::open(self.url.as_str())?.get_connection_with_timeout(CONNECT_TIMEOUT)
    }
}

/// The publisher thread: sends queued messages in pipelined batches until the bridge stops
/// and its queue is empty.
fn publisher(shared: &Shared) {
    let mut connection: Option<Connection> = None;
    let mut backoff = BACKOFF.0;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        {
            let mut queue = lock(&shared.outgoing);
            while queue.is_empty() {
                if shared.is_stopping() {
                    return;
                }
                queue = shared
                    .ready
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            let n = queue.len().min(BATCH);
            batch.extend(queue.drain(..n));
        }
        if connection.is_none() {
            match shared.connect() {
                Ok(made) => {
                    connection = Some(made);
                    backoff = BACKOFF.0;
                }
                Err(e) => {
                    shared.dropped(batch.len() as u64, &format!("Redis unreachable: {e}"));
                    batch.clear();
                    if !shared.pause(backoff) {
                        // Stopped, and Redis is not there to take the rest.
                        let rest = std::mem::take(&mut *lock(&shared.outgoing));
                        if !rest.is_empty() {
                            shared.dropped(rest.len() as u64, "the bridge stopped");
                        }
                        return;
                    }
                    backoff = (backoff * 2).min(BACKOFF.1);
                    continue;
                }
            }
        }
        let mut pipe = redis::pipe();
        for (channel, message) in &batch {
            pipe.cmd("PUBLISH").arg(channel).arg(message).ignore();
        }
        let sent = connection.as_mut().map(|c| pipe.exec(c));
        match sent {
            Some(Ok(())) => shared.stats.add_published(batch.len() as u64),
            Some(Err(e)) => {
                shared.dropped(batch.len() as u64, &format!("write to Redis failed: {e}"));
                connection = None;
            }
            None => {}
        }
        batch.clear();
    }
}

/// The subscriber thread: keeps one pub/sub connection subscribed to the topics in use and
/// hands what arrives to the loops, until the bridge stops.
fn subscriber(shared: &Shared, inbound: &Inbound) {
    let mut backoff = BACKOFF.0;
    let mut first = true;
    while !shared.is_stopping() {
        let mut connection = match shared.connect() {
            Ok(connection) => connection,
            Err(e) => {
                if backoff == BACKOFF.0 {
                    log::warn!("redis bridge: cannot reach {}: {e}", shared.url);
                }
                if !shared.pause(backoff) {
                    return;
                }
                backoff = (backoff * 2).min(BACKOFF.1);
                continue;
            }
        };
        if !first {
            shared.stats.add_reconnect();
            log::info!("redis bridge: reconnected to {}", shared.url);
        }
        first = false;
        backoff = BACKOFF.0;
        shared.stats.set_connected(true);
        if let Err(e) = listen(shared, inbound, &mut connection) {
            log::warn!("redis bridge: lost {}: {e}", shared.url);
        }
        shared.stats.set_connected(false);
    }
}

/// Serves one subscribing connection until it fails or the bridge stops.
fn listen(
    shared: &Shared,
    inbound: &Inbound,
    connection: &mut Connection,
) -> redis::RedisResult<()> {
    let mut pubsub = connection.as_pubsub();
    pubsub.set_read_timeout(Some(POLL))?;
    let mut subscribed: HashSet<String> = HashSet::new();
    // A fresh connection subscribes to everything in use.
    lock(&shared.topics).1 = true;
    while !shared.is_stopping() {
        let wanted = {
            let mut topics = lock(&shared.topics);
            std::mem::take(&mut topics.1).then(|| topics.0.clone())
        };
        if let Some(wanted) = wanted {
            let channel = |t: &String| format!("{}{t}", shared.prefix);
            let add: Vec<String> = wanted.difference(&subscribed).map(channel).collect();
            let remove: Vec<String> = subscribed.difference(&wanted).map(channel).collect();
            if !add.is_empty() {
                pubsub.subscribe(&add)?;
            }
            if !remove.is_empty() {
                pubsub.unsubscribe(&remove)?;
            }
            subscribed = wanted;
        }
        let message = match pubsub.get_message() {
            Ok(message) => message,
            Err(e) if e.is_timeout() => continue,
            Err(e) => return Err(e),
        };
        let Some(topic) = message.get_channel_name().strip_prefix(&shared.prefix) else {
            continue;
        };
        match envelope::decode(message.get_payload_bytes()) {
            Some((origin, _, _)) if origin == shared.origin => {}
            Some((_, opcode, payload)) => {
                shared.stats.add_received();
                inbound.publish(topic, payload, opcode);
            }
            None => shared.stats.add_malformed(),
        }
    }
    Ok(())
}

/// A process id for envelopes: random enough that two processes never share one.
fn origin_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
