//! A connection's byte stream: plain TCP or TLS. The loop reads plaintext from it and
//! writes its corked plaintext through it; only here does the difference show.

use std::io::{self, Read, Write};

use super::stream::Stream;

use super::tls::TlsStream;

/// Plain TCP, or rustls over TCP (boxed: a TLS session is large and most idle sockets of a
/// plain listener should not pay for it).
pub(crate) enum Transport {
    /// Plain TCP or a unix domain socket.
    Tcp(Stream),
    /// TLS over TCP.
    Tls(Box<TlsStream>),
}

impl Transport {
    /// The TCP stream underneath (to register, shut down, or discard input while lingering).
    pub(crate) fn tcp(&mut self) -> &mut Stream {
        match self {
            Transport::Tcp(tcp) => tcp,
            Transport::Tls(tls) => &mut tls.tcp,
        }
    }

    /// Reads plaintext into `buf`; `Ok(0)` is the end of the stream. TLS reads its
    /// ciphertext through `scratch` (the loop's, at least 1 byte); TCP ignores it.
    pub(crate) fn read(&mut self, buf: &mut [u8], scratch: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(tcp) => tcp.read(buf),
            Transport::Tls(tls) => tls.read(buf, scratch),
        }
    }

    /// After a read returned `n` of `asked` bytes: true when the kernel had nothing more, so
    /// another read would only return `WouldBlock` and a new event will announce new bytes
    /// (the syscall tokio also saves).
    pub(crate) fn drained(&self, n: usize, asked: usize) -> bool {
        match self {
            Transport::Tcp(_) => n < asked,
            Transport::Tls(tls) => tls.drained(),
        }
    }

    /// True when bytes must go out even with nothing corked (TLS handshake records, alerts).
    pub(crate) fn wants_write(&self) -> bool {
        match self {
            Transport::Tcp(_) => false,
            Transport::Tls(tls) => tls.wants_write(),
        }
    }

    /// Sends `cork` (plaintext) with one write call when `backpressure` is empty; bytes the
    /// kernel does not take (ciphertext for TLS) go to `backpressure`, and after it when it
    /// already holds some.
    pub(crate) fn write_corked(
        &mut self,
        cork: &[u8],
        backpressure: &mut Vec<u8>,
    ) -> io::Result<()> {
        let tcp = match self {
            Transport::Tls(tls) => return tls.write_corked(cork, backpressure),
            Transport::Tcp(tcp) => tcp,
        };
        if !backpressure.is_empty() {
            backpressure.extend_from_slice(cork);
            return Ok(());
        }
        match tcp.write(cork) {
            Ok(n) => backpressure.extend_from_slice(&cork[n..]),
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::Interrupted =>
            {
                backpressure.extend_from_slice(cork);
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// [`write_corked`](Self::write_corked), then, if bytes were already waiting, drains
    /// them as far as the kernel takes; `cork` is left empty.
    pub(crate) fn write_corked_then_drain(
        &mut self,
        cork: &mut Vec<u8>,
        backpressure: &mut Vec<u8>,
    ) -> io::Result<()> {
        let queued = !backpressure.is_empty();
        let result = self.write_corked(cork, backpressure);
        cork.clear();
        result?;
        match queued {
            true => drain(self.tcp(), backpressure),
            false => Ok(()),
        }
    }

    /// Lends out the SNI name of a TLS connection (known from the event that carried the
    /// ClientHello on, so before any request); `None` for TCP. The name lives in the TLS
    /// session, not in every socket's slab entry: give it back with
    /// [`give_back_server_name`](Self::give_back_server_name).
    pub(crate) fn take_server_name(&mut self) -> Option<Box<str>> {
        match self {
            Transport::Tcp(_) => None,
            Transport::Tls(tls) => tls.take_server_name(),
        }
    }

    /// Returns what [`take_server_name`](Self::take_server_name) lent.
    pub(crate) fn give_back_server_name(&mut self, name: Option<Box<str>>) {
        if let Transport::Tls(tls) = self {
            tls.server_name = name;
        }
    }

    /// True while a TLS handshake is in progress.
    pub(crate) fn is_handshaking(&self) -> bool {
        matches!(self, Transport::Tls(tls) if tls.is_handshaking())
    }

    /// Ends our sending side: `close_notify` first on TLS, then a TCP half-close.
    pub(crate) fn shutdown_write(&mut self) {
        if let Transport::Tls(tls) = self {
            tls.send_close_notify();
        }
        let _ = self.tcp().shutdown(std::net::Shutdown::Write);
    }
}

/// Writes `backpressure` until it is empty or the kernel pushes back.
pub(crate) fn drain(stream: &mut Stream, backpressure: &mut Vec<u8>) -> io::Result<()> {
    let mut written = 0;
    let result = loop {
        if written == backpressure.len() {
            break Ok(());
        }
        match stream.write(&backpressure[written..]) {
            Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    if written == backpressure.len() {
        // Give the memory back: an idle connection owns no buffer.
        *backpressure = Vec::new();
    } else {
        backpressure.drain(..written);
    }
    result
}
