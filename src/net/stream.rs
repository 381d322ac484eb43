//! A connection's socket: TCP, or a unix domain stream socket (a local reverse proxy's
//! cheapest way in). Both read, write and register with the loop alike.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};

use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};

/// Implements mio's `Source` for a two-variant enum of sources by delegating to the variant.
macro_rules! delegate_source {
    ($enum:ident, $a:ident, $b:ident) => {
        impl Source for $enum {
            fn register(
                &mut self,
                registry: &Registry,
                token: Token,
                interests: Interest,
            ) -> io::Result<()> {
                match self {
                    $enum::$a(s) => s.register(registry, token, interests),
                    $enum::$b(s) => s.register(registry, token, interests),
                }
            }

            fn reregister(
                &mut self,
                registry: &Registry,
                token: Token,
                interests: Interest,
            ) -> io::Result<()> {
                match self {
                    $enum::$a(s) => s.reregister(registry, token, interests),
                    $enum::$b(s) => s.reregister(registry, token, interests),
                }
            }

            fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
                match self {
                    $enum::$a(s) => s.deregister(registry),
                    $enum::$b(s) => s.deregister(registry),
                }
            }
        }
    };
}

/// An accepted connection's socket.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// The peer address reported for unix-socket connections, which have no IP peer.
pub(crate) const UNIX_PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

impl Stream {
    /// Half-closes or closes the socket.
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(how),
            Stream::Unix(s) => s.shutdown(how),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Unix(s) => s.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

delegate_source!(Stream, Tcp, Unix);

/// A listening socket: TCP, or a unix domain socket at a path.
#[derive(Debug)]
pub(crate) enum ListenSocket {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl ListenSocket {
    /// Accepts one connection: its socket (`TCP_NODELAY` set on TCP) and peer address
    /// ([`UNIX_PEER`] on a unix socket).
    pub(crate) fn accept(&self) -> io::Result<(Stream, SocketAddr)> {
        match self {
            ListenSocket::Tcp(listener) => {
                let (stream, remote) = listener.accept()?;
                if let Err(e) = stream.set_nodelay(true) {
                    log::debug!("TCP_NODELAY failed: {e}");
                }
                Ok((Stream::Tcp(stream), remote))
            }
            ListenSocket::Unix(listener) => {
                let (stream, _) = listener.accept()?;
                Ok((Stream::Unix(stream), UNIX_PEER))
            }
        }
    }

    /// The bound address; [`UNIX_PEER`] for a unix socket.
    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            ListenSocket::Tcp(listener) => listener.local_addr(),
            ListenSocket::Unix(_) => Ok(UNIX_PEER),
        }
    }
}

delegate_source!(ListenSocket, Tcp, Unix);
