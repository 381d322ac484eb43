//! Where an app accepts connections: `listen` / `bind` for one address, `listen_all` /
//! `bind_all` for several (plain and TLS side by side, e.g. ports 80 and 443).

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use super::builder::App;
use crate::event_loop::Server;
use crate::event_loop::listener::{self, Listener};
use crate::net::stream::ListenSocket;
use crate::net::tls;

/// One listening address and whether connections to it speak TLS, for
/// [`App::bind_all`] and [`App::listen_all`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listen {
    at: At,
    tls: bool,
    proxy: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum At {
    /// Every interface: `[::]` dual-stack, or `0.0.0.0` where IPv6 is unavailable.
    Port(u16),
    Addr(SocketAddr),
    /// A unix domain socket at this path.
    Unix(PathBuf),
}

impl Listen {
    /// Plain HTTP on `port`, every interface.
    pub fn plain(port: u16) -> Listen {
        Listen {
            at: At::Port(port),
            tls: false,
            proxy: false,
        }
    }

    /// HTTPS on `port`, every interface (needs [`App::tls`] or
    /// [`App::add_server_name`]).
    pub fn tls(port: u16) -> Listen {
        Listen {
            at: At::Port(port),
            tls: true,
            proxy: false,
        }
    }

    /// Plain HTTP on `addr` (port 0: any free port, see [`Server::local_addrs`]).
    pub fn plain_addr(addr: SocketAddr) -> Listen {
        Listen {
            at: At::Addr(addr),
            tls: false,
            proxy: false,
        }
    }

    /// HTTPS on `addr` (port 0: any free port, see [`Server::local_addrs`]).
    pub fn tls_addr(addr: SocketAddr) -> Listen {
        Listen {
            at: At::Addr(addr),
            tls: true,
            proxy: false,
        }
    }

    /// Connections to this listener start with a PROXY protocol header, version 1 or 2
    /// (HAProxy's; sent by HAProxy, nginx `proxy_protocol`, AWS NLB, ...): the client's
    /// address is then [`HttpRequest::proxied_remote_addr`](crate::HttpRequest::proxied_remote_addr)
    /// (and [`WebSocket::proxied_remote_addr`](crate::WebSocket::proxied_remote_addr)), while
    /// `remote_addr` stays the proxy. A connection whose first bytes are not a valid header
    /// (none, truncated, garbage, over 4 KiB) is closed; the header must arrive within
    /// [`Config::header_read_timeout`](crate::Config::header_read_timeout). Plain listeners
    /// only: `bind_all` refuses it on a TLS one.
    pub fn proxy_protocol(mut self) -> Listen {
        self.proxy = true;
        self
    }

    /// Plain HTTP on a unix domain socket at `path` (a local reverse proxy's cheapest way
    /// in; `curl --unix-socket path http://localhost/`). Every loop accepts from it. A stale
    /// socket file (nobody listening) is replaced; one in use is an `AddrInUse` error. Its
    /// connections report `0.0.0.0:0` as their peer (unix sockets have no IP address), and
    /// it appears as `0.0.0.0:0` in [`Server::local_addrs`]. Add
    /// [`proxy_protocol`](Self::proxy_protocol) if the proxy sends the client's address.
    pub fn unix(path: impl Into<PathBuf>) -> Listen {
        Listen {
            at: At::Unix(path.into()),
            tls: false,
            proxy: false,
        }
    }

    /// True for a TLS listener.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// One listener per loop on this address (`SO_REUSEPORT`).
    fn open(&self, loops: usize, backlog: i32) -> io::Result<Vec<ListenSocket>> {
        let tcp = match &self.at {
            At::Addr(addr) => listener::open_all(*addr, loops, backlog)?,
            At::Port(port) => listener::open_any(*port, loops, backlog)?,
            At::Unix(path) => return listener::open_unix(path, loops),
        };
        Ok(tcp.into_iter().map(ListenSocket::Tcp).collect())
    }
}

impl App {
    /// Serves on `port` on every interface (`[::]`, dual-stack) with one loop per configured
    /// thread, and blocks until the server stops: on `SIGTERM` or `SIGINT` it stops
    /// accepting, lets in-flight requests finish (up to `Config::shutdown_timeout`), closes
    /// WebSockets with 1001, and returns `Ok`. HTTPS when the app was made with
    /// [`App::tls`], plain HTTP otherwise.
    ///
    /// # Errors
    /// When the port cannot be bound (in use, no permission) or a loop cannot be created.
    pub fn listen(self, port: u16) -> io::Result<()> {
        let listen = match self.server_names.is_some() {
            true => Listen::tls(port),
            false => Listen::plain(port),
        };
        self.listen_all(&[listen])
    }

    /// Starts serving on `addr` (e.g. `"127.0.0.1:0"` for any free port) in background threads
    /// and returns at once; see [`Server::local_addr`] for the bound address. HTTPS when the
    /// app was made with [`App::tls`], plain HTTP otherwise.
    ///
    /// # Errors
    /// When `addr` does not resolve or cannot be bound.
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<Server> {
        let addr: SocketAddr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind"))?;
        let listen = match self.server_names.is_some() {
            true => Listen::tls_addr(addr),
            false => Listen::plain_addr(addr),
        };
        self.bind_all(&[listen])
    }

    /// Like [`bind_all`](Self::bind_all), then blocks until the server stops. `SIGTERM` or
    /// `SIGINT` shuts it down gracefully (and `listen` returns `Ok`); a second one exits the
    /// process at once ([`Server::shutdown_on_signals`]).
    ///
    /// # Errors
    /// As `bind_all`; or when the signal handlers cannot be installed.
    pub fn listen_all(self, listens: &[Listen]) -> io::Result<()> {
        let server = self.bind_all(listens)?;
        server.shutdown_on_signals()?;
        server.join();
        Ok(())
    }

    /// Starts serving the same routes on every address of `listens` (say plain HTTP on 80 and
    /// HTTPS on 443) in background threads: each loop owns one listener per address. The
    /// bound addresses are [`Server::local_addrs`], in the same order.
    ///
    /// # Errors
    /// `InvalidInput` for an empty list, a TLS listener on an app without certificates
    /// ([`App::tls`] / [`App::add_server_name`]), or a TLS listener asking for the PROXY
    /// protocol; an address that cannot be bound; a loop that
    /// cannot be created.
    pub fn bind_all(mut self, listens: &[Listen]) -> io::Result<Server> {
        if listens.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no address to bind",
            ));
        }
        let tls_config = match (&self.server_names, listens.iter().any(Listen::is_tls)) {
            (Some(names), true) => Some(tls::server_config(names)),
            (None, true) => {
                let msg = "a TLS listener needs App::tls or App::add_server_name";
                return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
            }
            (_, false) => None,
        };
        if listens.iter().any(|l| l.tls && l.proxy) {
            let msg = "the PROXY protocol is for plain listeners only";
            return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
        }
        let loops = self.config.threads;
        let mut per_loop: Vec<Vec<Listener>> = (0..loops).map(|_| Vec::new()).collect();
        for listen in listens {
            let tls = tls_config.as_ref().filter(|_| listen.tls);
            for (i, socket) in listen
                .open(loops, self.config.backlog)?
                .into_iter()
                .enumerate()
            {
                per_loop[i].push(Listener {
                    socket,
                    tls: tls.map(Arc::clone),
                    proxy: listen.proxy,
                });
            }
        }
        let server_names = self.server_names.take();
        let (publisher, counters) = (self.publisher.clone(), self.counters.clone());
        let on_shutdown = std::mem::take(&mut self.on_shutdown);
        Server::start(
            per_loop,
            Arc::new(self.into_shared()),
            server_names,
            publisher,
            counters,
            on_shutdown,
        )
    }
}
