//! Listening sockets: one per loop, sharing the port through `SO_REUSEPORT`; a unix domain
//! socket shared by every loop.

use std::io;
use std::net::SocketAddr;
use std::path::Path;

use socket2::{Domain, Protocol, Socket, Type};

use crate::net::stream::ListenSocket;

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

/// Opens a unix domain socket listener at `path`, one handle per loop (the same socket:
/// every loop accepts from it). A socket file left by an earlier process that nobody
/// listens on any more is replaced; one in use is an `AddrInUse` error, and a path that is
/// not a socket is left alone (the bind fails).
pub(crate) fn open_unix(path: &Path, count: usize) -> io::Result<Vec<ListenSocket>> {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && meta.file_type().is_socket()
    {
        match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => {
                let msg = format!("{} is in use by another server", path.display());
                return Err(io::Error::new(io::ErrorKind::AddrInUse, msg));
            }
            Err(_) => std::fs::remove_file(path)?,
        }
    }
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    listener.set_nonblocking(true)?;
    let mut all = Vec::with_capacity(count);
    for _ in 1..count {
        let clone = listener.try_clone()?;
        all.push(ListenSocket::Unix(mio::net::UnixListener::from_std(clone)));
    }
    all.push(ListenSocket::Unix(mio::net::UnixListener::from_std(
        listener,
    )));
    Ok(all)
}

/// One loop's listening socket and how its connections are served.
pub(crate) struct Listener {
    pub(crate) socket: ListenSocket,
    /// `Some` for a TLS listener: the rustls configuration each accepted connection starts
    /// a session with.
    pub(crate) tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// Connections start with a PROXY protocol header.
    pub(crate) proxy: bool,
}
