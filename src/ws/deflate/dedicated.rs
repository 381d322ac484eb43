//! A socket's dedicated permessage-deflate state (context takeover, RFC 7692 section 7.1.1):
//! with a full 32 KiB window, a deflate or inflate context of its own (fastest); with a smaller
//! window only the bytes that window holds, which prime the loop's shared context per message
//! (zlib's dictionary; uWebSockets' small `DEDICATED_COMPRESSOR_*` sizes, for a fraction of
//! the memory).

use super::context::{Deflater, InflateError, Inflater};

/// The window (bits) from which a socket owns a whole context rather than its window's bytes.
pub(super) const OWN_CONTEXT_BITS: u8 = 15;

/// A socket's dedicated contexts or windows, each made on first use.
#[derive(Debug, Default)]
pub(super) struct Dedicated {
    pub(super) deflater: Option<Deflater>,
    pub(super) inflater: Option<Inflater>,
    /// The last bytes sent, what the client's inflater refers back to (small windows).
    pub(super) sent: Window,
    /// The last bytes received, what the client's deflater refers back to (small windows).
    pub(super) received: Window,
}

/// The last `2^bits` bytes of a direction's messages, its capacity reserved exactly.
#[derive(Debug, Default)]
pub(super) struct Window(Vec<u8>);

impl Window {
    /// The bytes a context is primed with.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Slides the window over `message`, keeping its last `2^bits` bytes.
    pub(super) fn slide(&mut self, message: &[u8], bits: u8) {
        let size = 1usize << bits;
        if self.0.capacity() < size {
            self.0.reserve_exact(size - self.0.len());
        }
        if message.len() >= size {
            self.0.clear();
            self.0.extend_from_slice(&message[message.len() - size..]);
            return;
        }
        let excess = (self.0.len() + message.len()).saturating_sub(size);
        self.0.drain(..excess);
        self.0.extend_from_slice(message);
    }
}

/// Compresses `message` for a dedicated socket into `out`: with its own context at the full
/// window, or with `shared` (a loop context for `bits`, reset after each use) primed with the
/// socket's window. `reset`: the client asked for no context takeover.
pub(super) fn deflate(
    socket: &mut Dedicated,
    shared: &mut Deflater,
    own: impl FnOnce() -> Deflater,
    bits: u8,
    message: &[u8],
    out: &mut Vec<u8>,
    reset: bool,
) {
    if bits >= OWN_CONTEXT_BITS {
        socket
            .deflater
            .get_or_insert_with(own)
            .compress(message, out, reset);
        return;
    }
    if reset {
        shared.compress(message, out, true);
        return;
    }
    shared.prime(socket.sent.bytes());
    shared.compress(message, out, true);
    socket.sent.slide(message, bits);
}

/// Inflates a dedicated socket's `compressed` message into `out` (at most `limit` bytes):
/// with its own context at the full window, or with `shared` (the loop's inflater, reset
/// after each use) primed with the socket's window. `reset`: no client context takeover.
pub(super) fn inflate(
    socket: &mut Dedicated,
    shared: &mut Inflater,
    bits: u8,
    compressed: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
    reset: bool,
) -> Result<(), InflateError> {
    if bits >= OWN_CONTEXT_BITS {
        return socket
            .inflater
            .get_or_insert_with(|| Inflater::new(bits))
            .inflate(compressed, out, limit, reset);
    }
    if reset {
        return shared.inflate(compressed, out, limit, true);
    }
    shared.prime(socket.received.bytes());
    shared.inflate(compressed, out, limit, true)?;
    socket.received.slide(out, bits);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_keeps_the_last_bytes_and_never_grows_past_its_size() {
        let mut window = Window::default();
        window.slide(b"abc", 1);
        assert_eq!(window.bytes(), b"bc");
        window.slide(b"d", 1);
        assert_eq!(window.bytes(), b"cd");
        window.slide(b"efgh", 1);
        assert_eq!(window.bytes(), b"gh");
        let mut big = Window::default();
        for _ in 0..100 {
            big.slide(&[7; 300], 9);
        }
        assert_eq!(big.bytes().len(), 512);
        assert_eq!(big.0.capacity(), 512);
    }

    /// A socket that keeps only its window speaks the same stream as one that keeps a
    /// whole context: a continuing peer context decodes it, and the other way round.
    #[test]
    fn windows_and_whole_contexts_speak_the_same_stream() {
        let messages: Vec<Vec<u8>> = (0..40)
            .map(|i| {
                format!("{{\"id\":{i},\"user\":\"ada\",\"text\":\"hello again\"}}").into_bytes()
            })
            .chain([vec![b'x'; 3000], Vec::new(), b"tail".to_vec()])
            .collect();
        for bits in [9, 10, 12, 14] {
            let mut socket = Dedicated::default();
            let mut shared_deflater = Deflater::new(bits, 1);
            let mut shared_inflater = Inflater::new(15);
            let mut peer_inflater = Inflater::new(bits);
            let mut peer_deflater = Deflater::new(bits, 1);
            let mut total = 0;
            for message in &messages {
                let mut compressed = Vec::new();
                let own = || unreachable!("small windows use the shared context");
                deflate(
                    &mut socket,
                    &mut shared_deflater,
                    own,
                    bits,
                    message,
                    &mut compressed,
                    false,
                );
                total += compressed.len();
                let mut back = Vec::new();
                peer_inflater
                    .inflate(&compressed, &mut back, usize::MAX, false)
                    .unwrap();
                assert_eq!(&back, message, "bits {bits}");

                let mut compressed = Vec::new();
                peer_deflater.compress(message, &mut compressed, false);
                let mut back = Vec::new();
                inflate(
                    &mut socket,
                    &mut shared_inflater,
                    bits,
                    &compressed,
                    &mut back,
                    usize::MAX,
                    false,
                )
                .unwrap();
                assert_eq!(&back, message, "bits {bits}");
            }
            // Context takeover at work: the 40 similar messages shrink well below their size.
            let plain: usize = messages.iter().map(Vec::len).sum();
            assert!(total * 3 < plain, "bits {bits}: {total} of {plain}");
        }
    }
}
