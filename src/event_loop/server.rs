//! The handle to running loops: address, shutdown, join.

use std::io;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use mio::Waker;

use super::listener::Listener;
use super::service::Service;
use super::worker::Worker;
use crate::error::panic_message;
use crate::http::later::LoopHandle;
use crate::net::sni::ServerNames;
use crate::stats::{Counters, CountersHandle, LoopStats};
use crate::ws::Publisher;
use crate::ws::pubsub::Hub;

/// A running server: one event-loop thread per core, each with its own listeners.
///
/// Dropping it leaves the loops running (as `listen` would); call [`shutdown`](Self::shutdown)
/// to stop them or [`join`](Self::join) to wait.
#[derive(Debug)]
pub struct Server {
    local_addrs: Vec<SocketAddr>,
    server_names: Option<ServerNames>,
    stopper: Arc<Stopper>,
    threads: Vec<JoinHandle<()>>,
    publisher: Publisher,
    loops: Vec<LoopHandle>,
    stats: Vec<Arc<LoopStats>>,
}

impl Server {
    /// Starts one loop per element of `loops`, each owning its listeners (the same
    /// addresses, in the same order, on every loop).
    pub(crate) fn start<S: Service>(
        loops: Vec<Vec<Listener>>,
        shared: Arc<S>,
        server_names: Option<ServerNames>,
        publisher: Publisher,
        counters: CountersHandle,
        on_shutdown: Vec<ShutdownHook>,
    ) -> io::Result<Server> {
        let local_addrs = loops
            .first()
            .filter(|first| !first.is_empty())
            .ok_or_else(|| io::Error::other("no listener"))?
            .iter()
            .map(|l| l.socket.local_addr())
            .collect::<io::Result<Vec<_>>>()?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::with_capacity(loops.len());
        let mut wakers = Vec::with_capacity(loops.len());
        for listeners in loops {
            let (worker, waker) = Worker::new(listeners, Arc::clone(&shared), Arc::clone(&stop))?;
            workers.push(worker);
            wakers.push(waker);
        }
        let loops = workers.iter().map(Worker::loop_handle).collect();
        let stats: Vec<Arc<LoopStats>> = workers.iter().map(Worker::stats).collect();
        counters.attach(stats.clone());
        let hub = Arc::new(Hub::new(&wakers));
        publisher.attach(Arc::clone(&hub));
        let mut threads = Vec::with_capacity(workers.len());
        for (i, mut worker) in workers.into_iter().enumerate() {
            worker.attach(Arc::clone(&hub), i);
            let service = Arc::clone(&shared);
            let thread = std::thread::Builder::new()
                .name(format!("uweb-loop-{i}"))
                .spawn(move || {
                    let mut worker = Some(worker);
                    service.run_loop(&mut || {
                        if let Some(worker) = worker.take() {
                            worker.run();
                        }
                    });
                })?;
            threads.push(thread);
        }
        let stopper = Arc::new(Stopper {
            flag: stop,
            wakers,
            hooks: Mutex::new(on_shutdown),
        });
        Ok(Server {
            local_addrs,
            server_names,
            stopper,
            threads,
            publisher,
            loops,
            stats,
        })
    }

    /// A handle to publish to WebSocket topics on every loop, from any thread.
    pub fn publisher(&self) -> Publisher {
        self.publisher.clone()
    }

    /// Handles to the event loops, one per loop thread (uWebSockets' `Loop::get()` of each
    /// thread): run closures on a loop with [`LoopHandle::defer`], e.g. to answer
    /// [`DeferredResponse`](crate::DeferredResponse)s of that loop together.
    pub fn loops(&self) -> &[LoopHandle] {
        &self.loops
    }

    /// A snapshot of the counters of every loop (connections, requests, responses by class,
    /// bad requests, WebSockets, messages), read without a lock: see [`Counters`]
    /// (`Counters::prometheus` for a `/metrics` route).
    pub fn counters(&self) -> Counters {
        Counters::sum(self.stats.iter().map(|s| &**s))
    }

    /// The address of the first listener (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addrs[0]
    }

    /// Every listener's address, in the order they were given to
    /// [`App::bind_all`](crate::App::bind_all) (or the one of `bind`).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// The certificates of the TLS listeners, to add or remove server names while serving
    /// (uWebSockets' `addServerName` / `removeServerName` on a running app); `None` when the
    /// app has no TLS configuration.
    pub fn server_names(&self) -> Option<&ServerNames> {
        self.server_names.as_ref()
    }

    /// Stops accepting, closes idle connections, sends every WebSocket a close frame with
    /// 1001 ("going away"), lets in-flight responses finish (up to
    /// [`Config::shutdown_timeout`](crate::Config::shutdown_timeout), 10 s by default), and
    /// joins the loop threads.
    pub fn shutdown(self) {
        self.stopper.stop();
        self.join();
    }

    /// Shuts down gracefully on the first `SIGTERM` or `SIGINT`, as
    /// [`shutdown`](Self::shutdown) does (then [`join`](Self::join) returns), and exits the
    /// process at once, with status 128 + the signal's number, on a second one.
    /// [`App::listen`](crate::App::listen) does this itself; a server from
    /// [`App::bind`](crate::App::bind) opts in here. The signals are watched by one thread
    /// (`signal-hook`'s iterator: the handler only writes to a pipe) for the rest of the
    /// process's life.
    ///
    /// # Errors
    /// When the signal handlers cannot be installed.
    pub fn shutdown_on_signals(&self) -> io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
        let stopper = Arc::clone(&self.stopper);
        std::thread::Builder::new()
            .name("uweb-signals".into())
            .spawn(move || {
                let mut seen = 0;
                for signal in signals.forever() {
                    seen += 1;
                    if seen > 1 {
                        log::warn!("signal {signal} again: exiting now");
                        std::process::exit(128 + signal);
                    }
                    log::info!("signal {signal}: shutting down (again to exit at once)");
                    stopper.stop();
                }
            })?;
        Ok(())
    }

    /// Blocks until every loop thread has exited; then the app's pub/sub bridge, if any,
    /// hands over what it queued and stops ([`PubSubBridge::stop`](crate::ws::PubSubBridge::stop)).
    pub fn join(self) {
        for thread in self.threads {
            if thread.join().is_err() {
                log::error!("an event loop panicked");
            }
        }
        self.publisher.stop_bridge();
    }
}

/// Runs once when a graceful shutdown begins (`App::on_shutdown`).
pub(crate) type ShutdownHook = Box<dyn FnOnce() + Send>;

/// What stopping the loops takes, shared by the server and its signal thread.
struct Stopper {
    /// Set once: the loops stop accepting and drain.
    flag: Arc<AtomicBool>,
    wakers: Vec<Arc<Waker>>,
    /// The app's `on_shutdown` hooks, taken by the first stop.
    hooks: Mutex<Vec<ShutdownHook>>,
}

impl std::fmt::Debug for Stopper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stopper")
            .field("stopping", &self.flag.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Stopper {
    /// Tells every loop to stop: no more accepts, then a graceful drain. The first time,
    /// the shutdown hooks run first, in order, on this thread (a panic in one is logged).
    fn stop(&self) {
        let hooks = std::mem::take(&mut *self.hooks.lock().unwrap_or_else(PoisonError::into_inner));
        for hook in hooks {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(hook)) {
                log::error!(
                    "an on_shutdown hook panicked: {}",
                    panic_message(panic.as_ref())
                );
            }
        }
        self.flag.store(true, Ordering::Release);
        for waker in &self.wakers {
            if let Err(e) = waker.wake() {
                log::error!("could not wake a loop: {e}");
            }
        }
    }
}
