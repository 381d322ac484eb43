//! A WebSocket route's permessage-deflate settings (uWebSockets' `CompressOptions`), a leaf:
//! plain data.

/// Which deflate context compresses a socket's outgoing messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compressor {
    /// No outgoing compression (incoming compressed messages are still inflated if a
    /// decompressor is set).
    Disabled,
    /// One deflate context per loop, reset after every message (the response carries
    /// `server_no_context_takeover`): no memory per socket, and a published message is
    /// compressed once per loop for every subscriber (uWebSockets' `SHARED_COMPRESSOR`).
    Shared,
    /// One deflate context per socket with an LZ77 window of `2^window_bits` bytes
    /// (9..=15), kept between messages (context takeover): better ratios for chatty
    /// sockets, at the memory of one context per socket (uWebSockets'
    /// `DEDICATED_COMPRESSOR_*`: 9 is its 3KB, 15 its 256KB; flate2 fixes zlib's `memLevel`
    /// at 8, so a context costs about 128 KiB + 4 x 2^window_bits bytes, allocated on the
    /// first compressed send).
    Dedicated {
        /// Base-2 logarithm of the window, 9..=15.
        window_bits: u8,
    },
}

/// Which inflate context decompresses a socket's incoming messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decompressor {
    /// One inflate context per loop, reset after every message: the response carries
    /// `client_no_context_takeover`, so clients compress each message on its own
    /// (uWebSockets' `SHARED_DECOMPRESSOR`).
    Shared,
    /// One inflate context per socket, allocated on the first compressed message, so
    /// clients may keep their context (better ratios). A client that offered
    /// `client_max_window_bits` is told to use at most `2^window_bits` bytes of window
    /// (9..=15; uWebSockets' `DEDICATED_DECOMPRESSOR_512B` .. `_32KB`).
    Dedicated {
        /// Base-2 logarithm of the window, 9..=15.
        window_bits: u8,
    },
}

/// permessage-deflate (RFC 7692) settings of a WebSocket route, for
/// [`WebSocketBehavior::compression`](crate::WebSocketBehavior::compression). Disabled by
/// default, as in uWebSockets.
///
/// With compression negotiated, [`WebSocket::send`](crate::WebSocket::send) and publishes
/// compress text and binary messages of at least [`threshold`](Self::threshold) bytes;
/// [`WebSocket::send_with_compression`](crate::WebSocket::send_with_compression) chooses
/// per message (uWebSockets' `send(message, opCode, compress)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompressOptions {
    pub(crate) compressor: Compressor,
    /// `None`: permessage-deflate is not offered at all.
    pub(crate) decompressor: Option<Decompressor>,
    pub(crate) threshold: usize,
    pub(crate) level: u8,
}

impl Default for CompressOptions {
    fn default() -> Self {
        Self::DISABLED
    }
}

impl CompressOptions {
    /// No permessage-deflate: offers are declined (uWebSockets' `DISABLED`).
    pub const DISABLED: CompressOptions = CompressOptions {
        compressor: Compressor::Disabled,
        decompressor: None,
        threshold: 64,
        level: 1,
    };

    /// A shared compressor and a shared decompressor (uWebSockets' `SHARED_COMPRESSOR |
    /// SHARED_DECOMPRESSOR`): no compression memory per socket.
    pub const SHARED: CompressOptions = CompressOptions {
        compressor: Compressor::Shared,
        decompressor: Some(Decompressor::Shared),
        threshold: 64,
        level: 1,
    };

    /// A dedicated compressor with a 32 KiB window and a dedicated decompressor with a
    /// 32 KiB window (uWebSockets' `DEDICATED_COMPRESSOR | DEDICATED_DECOMPRESSOR`).
    pub const DEDICATED: CompressOptions = CompressOptions {
        compressor: Compressor::Dedicated { window_bits: 15 },
        decompressor: Some(Decompressor::Dedicated { window_bits: 15 }),
        threshold: 64,
        level: 1,
    };

    /// These options with `compressor` for outgoing messages (window bits clamped to
    /// 9..=15).
    pub const fn compressor(mut self, compressor: Compressor) -> Self {
        self.compressor = match compressor {
            Compressor::Dedicated { window_bits } => Compressor::Dedicated {
                window_bits: clamp_window(window_bits),
            },
            other => other,
        };
        if self.decompressor.is_none() {
            self.decompressor = Some(Decompressor::Shared);
        }
        self
    }

    /// These options with `decompressor` for incoming messages (window bits clamped to
    /// 9..=15). Setting one enables negotiation even with [`Compressor::Disabled`].
    pub const fn decompressor(mut self, decompressor: Decompressor) -> Self {
        self.decompressor = Some(match decompressor {
            Decompressor::Dedicated { window_bits } => Decompressor::Dedicated {
                window_bits: clamp_window(window_bits),
            },
            Decompressor::Shared => Decompressor::Shared,
        });
        self
    }

    /// Messages shorter than `bytes` are sent uncompressed (deflate cannot shrink them
    /// much, and costs the same fixed work). Default 64 bytes; 0 compresses everything.
    pub const fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// zlib compression level, 1 (fastest, the default) to 9 (smallest).
    pub const fn level(mut self, level: u8) -> Self {
        self.level = if level < 1 {
            1
        } else if level > 9 {
            9
        } else {
            level
        };
        self
    }

    /// Whether permessage-deflate is offered at all.
    pub(crate) fn enabled(&self) -> bool {
        self.decompressor.is_some()
    }
}

/// `bits` within the window range zlib's raw deflate supports, 9..=15.
const fn clamp_window(bits: u8) -> u8 {
    if bits < 9 {
        9
    } else if bits > 15 {
        15
    } else {
        bits
    }
}
