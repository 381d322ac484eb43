//! Listening sockets: one per loop, sharing the port through `SO_REUSEPORT`.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

/// Opens a non-blocking listener on `addr` with `SO_REUSEADDR` and `SO_REUSEPORT` (so every
/// loop can own one and the kernel spreads connections), dual-stack when `addr` is IPv6.
pub(crate) fn open(addr: SocketAddr, backlog: i32) -> io::Result<mio::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(false)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog.max(1024))?;
    Ok(mio::net::TcpListener::from_std(socket.into()))
}

/// Opens `count` listeners on the same port; with port 0 the first one picks the port.
pub(crate) fn open_all(
    addr: SocketAddr,
    count: usize,
    backlog: i32,
) -> io::Result<Vec<mio::net::TcpListener>> {
    let first = open(addr, backlog)?;
    let bound = first.local_addr()?;
    let mut all = vec![first];
    for _ in 1..count {
        all.push(open(bound, backlog)?);
    }
    Ok(all)
}

/// The address `listen(port)` binds: `[::]:port` dual-stack, or `0.0.0.0:port` where IPv6 is
/// unavailable.
pub(crate) fn open_any(
    port: u16,
    count: usize,
    backlog: i32,
) -> io::Result<Vec<mio::net::TcpListener>> {
    let v6: SocketAddr = (std::net::Ipv6Addr::UNSPECIFIED, port).into();
    open_all(v6, count, backlog).or_else(|_| {
        let v4: SocketAddr = (std::net::Ipv4Addr::UNSPECIFIED, port).into();
        open_all(v4, count, backlog)
    })
}

/// One loop's listening socket and how its connections are served.
pub(crate) struct Listener {
    pub(crate) socket: mio::net::TcpListener,
    /// `Some` for a TLS listener: the rustls configuration each accepted connection starts
    /// a session with.
    pub(crate) tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// Connections start with a PROXY protocol header.
    pub(crate) proxy: bool,
}
