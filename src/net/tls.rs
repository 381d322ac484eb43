//! One TLS connection driven without blocking: ciphertext from the socket into rustls,
//! plaintext out to the protocol; corked plaintext in, one vectored write of records out.

use std::io::{self, Read, Write};
use std::sync::Arc;

use super::stream::Stream;
use rustls::{ServerConfig, ServerConnection};

use super::sni::{Resolver, ServerNames};

/// Room kept free in the plaintext buffer before reading more ciphertext, in bytes: the
/// plaintext of a record already partly buffered inside rustls (at most 16 KiB, RFC 8446
/// section 5.1) plus slack, so every byte read can be decrypted and handed out at once.
const PLAINTEXT_HEADROOM: usize = 20 * 1024;

/// The rustls server configuration every TLS listener of an app shares: certificates chosen
/// by `names` for each handshake, ALPN `http/1.1` then `http/1.0` (RFC 7301; a client
/// offering only `h2` is refused with `no_application_protocol`), TLS 1.2 and 1.3 with the
/// `ring` provider's safe defaults.
pub(crate) fn server_config(names: &ServerNames) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Resolver(names.clone())));
    // HTTP/1.0 clients (`curl --http1.0`) offer only `http/1.0`, which this server speaks too.
    config.alpn_protocols = vec![b"http/1.1".to_vec(), b"http/1.0".to_vec()];
    Arc::new(config)
}

/// A TCP stream with a rustls server session on top.
pub(crate) struct TlsStream {
    pub(crate) tcp: Stream,
    conn: ServerConnection,
    /// The last read found the kernel's receive buffer empty (a short read or `WouldBlock`):
    /// anything arriving later raises a new readiness edge.
    drained: bool,
    /// `close_notify` was queued.
    closing: bool,
    /// The SNI name, copied from rustls once known (see `take_server_name`).
    pub(crate) server_name: Option<Box<str>>,
}

impl TlsStream {
    /// Starts a server session on an accepted stream.
    pub(crate) fn new(tcp: Stream, config: Arc<ServerConfig>) -> Result<Self, rustls::Error> {
        let mut conn = ServerConnection::new(config)?;
        // The loop's backpressure buffer bounds what is queued; rustls must accept every
        // corked byte at once.
        conn.set_buffer_limit(None);
        Ok(TlsStream {
            tcp,
            conn,
            drained: false,
            closing: false,
            server_name: None,
        })
    }

    /// True until the handshake has completed.
    pub(crate) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Takes the SNI name the client asked for (once its ClientHello has been processed),
    /// copying it from rustls the first time.
    pub(crate) fn take_server_name(&mut self) -> Option<Box<str>> {
        self.server_name
            .take()
            .or_else(|| self.conn.server_name().map(Box::from))
    }

    /// True when the last [`read`](Self::read) left the socket with nothing more to read
    /// until the next readable event.
    pub(crate) fn drained(&self) -> bool {
        self.drained
    }

    /// Fills `plain` with decrypted bytes, reading ciphertext through `scratch` (one syscall
    /// for up to `scratch.len()` bytes) until the kernel has no more or `plain` is nearly
    /// full. `Ok(0)` is the end of the stream (`close_notify` or TCP end); `WouldBlock` means
    /// nothing was available. A TLS error queues an alert, sends it (best effort) and
    /// returns `InvalidData`.
    pub(crate) fn read(&mut self, plain: &mut [u8], scratch: &mut [u8]) -> io::Result<usize> {
        debug_assert!(!scratch.is_empty(), "a TLS read needs a scratch buffer");
        self.drained = false;
        let mut filled = 0;
        loop {
            // Plaintext rustls already holds goes first.
            while filled < plain.len() {
                match self.conn.reader().read(&mut plain[filled..]) {
                    // close_notify, or TCP ended without one (an end all the same for
                    // HTTP/1.1, whose messages are self-delimiting): the caller must read
                    // again to see the 0.
                    Ok(0) => return self.ended(filled),
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        return self.ended(filled);
                    }
                    Err(e) => return Err(e),
                }
            }
            let room = plain.len() - filled;
            if room < PLAINTEXT_HEADROOM + 1 {
                return Ok(filled);
            }
            // A short read emptied the kernel buffer: hand out what we have and let the
            // caller skip the read that would block. With nothing to hand out, read once more:
            // a FIN that came with the bytes only shows as a read of 0, and the caller cannot
            // tell "nothing yet" from "ended" otherwise.
            if self.drained && filled > 0 {
                return Ok(filled);
            }
            let want = (room - PLAINTEXT_HEADROOM).min(scratch.len());
            let n = match self.tcp.read(&mut scratch[..want]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.drained = true;
                    return match filled {
                        0 => Err(e),
                        _ => Ok(filled),
                    };
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                // Let rustls see the end; its reader then reports it (clean or not).
                self.conn.read_tls(&mut io::empty())?;
                continue;
            }
            self.drained = n < want;
            self.take_ciphertext(&scratch[..n], plain, &mut filled)?;
        }
    }

    /// The stream ended after `filled` more bytes.
    fn ended(&mut self, filled: usize) -> io::Result<usize> {
        self.drained = false;
        Ok(filled)
    }

    /// Hands all of `cipher` to rustls, decrypting as it goes and moving plaintext to
    /// `plain[*filled..]` so rustls' received-plaintext limit is never reached.
    fn take_ciphertext(
        &mut self,
        mut cipher: &[u8],
        plain: &mut [u8],
        filled: &mut usize,
    ) -> io::Result<()> {
        while !cipher.is_empty() {
            if self.conn.read_tls(&mut cipher)? == 0 {
                // close_notify was received: what follows it is ignored (RFC 8446 6.1).
                return Ok(());
            }
            if let Err(e) = self.conn.process_new_packets() {
                // rustls queued the alert that fits (decode_error, handshake_failure, ...).
                let _ = self.conn.write_tls(&mut self.tcp);
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
            loop {
                match self.conn.reader().read(&mut plain[*filled..]) {
                    Ok(0) => break,
                    Ok(n) => *filled += n,
                    Err(_) => break,
                }
                if *filled == plain.len() {
                    break;
                }
            }
        }
        Ok(())
    }

    /// True when rustls holds records to send (handshake messages, alerts, data).
    pub(crate) fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// Encrypts `plain` into records kept by rustls until the next
    /// [`write_corked`](Self::write_corked) (published WebSocket frames ahead of the cork).
    pub(crate) fn encrypt(&mut self, plain: &[u8]) -> io::Result<()> {
        self.conn.writer().write_all(plain)
    }

    /// Encrypts `plain` (the cork: one or more whole responses) and writes the records with
    /// one vectored write; what the kernel does not take is appended to `backpressure`.
    /// When `backpressure` already holds bytes, the records go after them, unwritten.
    pub(crate) fn write_corked(
        &mut self,
        plain: &[u8],
        backpressure: &mut Vec<u8>,
    ) -> io::Result<()> {
        if !plain.is_empty() {
            self.conn.writer().write_all(plain)?;
        }
        if backpressure.is_empty() {
            while self.conn.wants_write() {
                match self.conn.write_tls(&mut self.tcp) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        while self.conn.wants_write() {
            self.conn.write_tls(backpressure)?;
        }
        Ok(())
    }

    /// Queues `close_notify` (RFC 8446 section 6.1) once and writes what rustls holds, best
    /// effort: the caller half-closes the TCP stream next.
    pub(crate) fn send_close_notify(&mut self) {
        if !self.closing {
            self.closing = true;
            self.conn.send_close_notify();
            let _ = self.conn.write_tls(&mut self.tcp);
        }
    }
}
