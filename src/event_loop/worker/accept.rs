//! Accepting connections: each becomes a slab entry with its transport (TCP, unix, or TLS
//! over either), its first protocol (HTTP, or a PROXY header first) and its first timer.

use std::io;
use std::sync::Arc;

use mio::{Interest, Token};

use super::super::policy::deadline;
use super::super::proto::Proto;
use super::super::service::Service;
use super::super::socket::Socket;
use super::super::timer::{Armed, Timer};
use super::Worker;
use crate::net::tls::TlsStream;
use crate::net::transport::Transport;
use crate::net::wire::Wire;
use crate::stats::bump;

impl<S: Service> Worker<S> {
    /// Accepts on listener `index` until `WouldBlock`.
    pub(super) fn accept(&mut self, index: usize) {
        let Some(listener) = self.listeners.get(index) else {
            return;
        };
        loop {
            match listener.socket.accept() {
                Ok((mut stream, remote)) => {
                    let entry = self.sockets.vacant_entry();
                    let token = Token(entry.key());
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    if let Err(e) = self.poll.registry().register(&mut stream, token, interest) {
                        log::warn!("register failed: {e}");
                        continue;
                    }
                    let config = self.service.config();
                    let (transport, timer, timeout) = match &listener.tls {
                        None => (Transport::Tcp(stream), Timer::Idle, config.idle_timeout),
                        Some(tls) => match TlsStream::new(stream, Arc::clone(tls)) {
                            // The handshake is bounded like a request head.
                            Ok(tls) => (
                                Transport::Tls(Box::new(tls)),
                                Timer::HeadRead,
                                config.header_read_timeout,
                            ),
                            Err(e) => {
                                log::warn!("TLS session failed to start: {e}");
                                continue;
                            }
                        },
                    };
                    // A PROXY header is bounded like a request head.
                    let (timer, timeout) = match listener.proxy {
                        true => (Timer::HeadRead, config.header_read_timeout),
                        false => (timer, timeout),
                    };
                    let armed = Armed {
                        timer,
                        deadline: deadline(self.now, timeout),
                    };
                    let socket = entry.insert(Socket::new(Wire::new(transport), remote, armed));
                    if listener.proxy {
                        socket.proto = Proto::proxy();
                    }
                    bump(&self.stats.connections_opened);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // EMFILE and friends: try again on the next readiness edge.
                    log::warn!("accept failed: {e}");
                    return;
                }
            }
        }
    }
}
