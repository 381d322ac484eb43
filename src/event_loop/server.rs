//! The handle to running loops: address, shutdown, join.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use mio::Waker;

use super::worker::Worker;
use crate::app::Shared;
use crate::ws::Publisher;
use crate::ws::pubsub::Hub;

/// A running server: one event-loop thread per listener.
///
/// Dropping it leaves the loops running (as `listen` would); call [`shutdown`](Self::shutdown)
/// to stop them or [`join`](Self::join) to wait.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    wakers: Vec<Arc<Waker>>,
    threads: Vec<JoinHandle<()>>,
    publisher: Publisher,
}

impl Server {
    pub(crate) fn start(
        listeners: Vec<mio::net::TcpListener>,
        shared: Arc<Shared>,
        publisher: Publisher,
    ) -> io::Result<Server> {
        let local_addr = listeners
            .first()
            .ok_or_else(|| io::Error::other("no listener"))?
            .local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::with_capacity(listeners.len());
        let mut wakers = Vec::with_capacity(listeners.len());
        for listener in listeners {
            let (worker, waker) = Worker::new(listener, Arc::clone(&shared), Arc::clone(&stop))?;
            workers.push(worker);
            wakers.push(waker);
        }
        let hub = Arc::new(Hub::new(&wakers));
        publisher.attach(Arc::clone(&hub));
        let mut threads = Vec::with_capacity(workers.len());
        for (i, mut worker) in workers.into_iter().enumerate() {
            worker.attach(Arc::clone(&hub), i);
            let thread = std::thread::Builder::new()
                .name(format!("uweb-loop-{i}"))
                .spawn(move || worker.run())?;
            threads.push(thread);
        }
        Ok(Server {
            local_addr,
            stop,
            wakers,
            threads,
            publisher,
        })
    }

    /// A handle to publish to WebSocket topics on every loop, from any thread.
    pub fn publisher(&self) -> Publisher {
        self.publisher.clone()
    }

    /// The address the listeners are bound to (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets in-flight responses finish (up to 10 s), closes idle
    /// connections, and joins the loop threads.
    pub fn shutdown(self) {
        self.stop.store(true, Ordering::Release);
        for waker in &self.wakers {
            if let Err(e) = waker.wake() {
                log::error!("could not wake a loop: {e}");
            }
        }
        self.join();
    }

    /// Blocks until every loop thread has exited.
    pub fn join(self) {
        for thread in self.threads {
            if thread.join().is_err() {
                log::error!("an event loop panicked");
            }
        }
    }
}
