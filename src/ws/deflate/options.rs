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
    /// A compressor per socket with an LZ77 window of `2^window_bits` bytes (9..=15), kept
    /// between messages (context takeover): better ratios for chatty sockets. With the full
    /// 32 KiB window the socket owns a deflate context (about 300 KiB, made on the first
    /// compressed send; fastest); with a smaller one it keeps only the window's bytes
    /// (`2^window_bits`) and the loop's shared context is primed with them per message (zlib's
    /// dictionary: a little more work per message, far less memory). The constants
    /// `Compressor::DEDICATED_3KB` .. `DEDICATED_256KB` are uWebSockets'
    /// `DEDICATED_COMPRESSOR_*` windows.
    Dedicated {
        /// Base-2 logarithm of the window, 9..=15.
        window_bits: u8,
    },
}

impl Compressor {
    /// A 512-byte window (uWebSockets' `DEDICATED_COMPRESSOR_3KB`): 512 bytes per socket.
    pub const DEDICATED_3KB: Compressor = Compressor::dedicated(9);
    /// A 512-byte window (`DEDICATED_COMPRESSOR_4KB`, whose larger zlib `memLevel` has no
    /// counterpart here): 512 bytes per socket.
    pub const DEDICATED_4KB: Compressor = Compressor::dedicated(9);
    /// A 1 KiB window (`DEDICATED_COMPRESSOR_8KB`): 1 KiB per socket.
    pub const DEDICATED_8KB: Compressor = Compressor::dedicated(10);
    /// A 2 KiB window (`DEDICATED_COMPRESSOR_16KB`): 2 KiB per socket.
    pub const DEDICATED_16KB: Compressor = Compressor::dedicated(11);
    /// A 4 KiB window (`DEDICATED_COMPRESSOR_32KB`): 4 KiB per socket.
    pub const DEDICATED_32KB: Compressor = Compressor::dedicated(12);
    /// An 8 KiB window (`DEDICATED_COMPRESSOR_64KB`): 8 KiB per socket.
    pub const DEDICATED_64KB: Compressor = Compressor::dedicated(13);
    /// A 16 KiB window (`DEDICATED_COMPRESSOR_128KB`): 16 KiB per socket.
    pub const DEDICATED_128KB: Compressor = Compressor::dedicated(14);
    /// A 32 KiB window and a context of its own per socket (`DEDICATED_COMPRESSOR_256KB`,
    /// uWebSockets' `DEDICATED_COMPRESSOR`): about 300 KiB per socket.
    pub const DEDICATED_256KB: Compressor = Compressor::dedicated(15);

    /// A dedicated compressor with a `2^window_bits`-byte window, clamped to 9..=15.
    pub const fn dedicated(window_bits: u8) -> Compressor {
        Compressor::Dedicated {
            window_bits: clamp_window(window_bits),
        }
    }
}

/// Which inflate context decompresses a socket's incoming messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decompressor {
    /// One inflate context per loop, reset after every message: the response carries
    /// `client_no_context_takeover`, so clients compress each message on its own
    /// (uWebSockets' `SHARED_DECOMPRESSOR`).
    Shared,
    /// A decompressor per socket, so clients may keep their context (better ratios). A
    /// client that offered `client_max_window_bits` is told to use at most `2^window_bits`
    /// bytes of window (9..=15; uWebSockets' `DEDICATED_DECOMPRESSOR_512B` .. `_32KB`); one
    /// that did not may use 32 KiB. With a full 32 KiB window the socket owns an inflate
    /// context (about 40 KiB, made on the first compressed message); with a smaller one it
    /// keeps only the window's bytes and the loop's shared context is primed with them.
    Dedicated {
        /// Base-2 logarithm of the window, 9..=15.
        window_bits: u8,
    },
}

impl Decompressor {
    /// A 512-byte window (uWebSockets' `DEDICATED_DECOMPRESSOR_512B`).
    pub const DEDICATED_512B: Decompressor = Decompressor::Dedicated { window_bits: 9 };
    /// A 1 KiB window (`DEDICATED_DECOMPRESSOR_1KB`).
    pub const DEDICATED_1KB: Decompressor = Decompressor::Dedicated { window_bits: 10 };
    /// A 2 KiB window (`DEDICATED_DECOMPRESSOR_2KB`).
    pub const DEDICATED_2KB: Decompressor = Decompressor::Dedicated { window_bits: 11 };
    /// A 4 KiB window (`DEDICATED_DECOMPRESSOR_4KB`).
    pub const DEDICATED_4KB: Decompressor = Decompressor::Dedicated { window_bits: 12 };
    /// An 8 KiB window (`DEDICATED_DECOMPRESSOR_8KB`).
    pub const DEDICATED_8KB: Decompressor = Decompressor::Dedicated { window_bits: 13 };
    /// A 16 KiB window (`DEDICATED_DECOMPRESSOR_16KB`).
    pub const DEDICATED_16KB: Decompressor = Decompressor::Dedicated { window_bits: 14 };
    /// A 32 KiB window, the most RFC 7692 allows (uWebSockets' `DEDICATED_DECOMPRESSOR`).
    pub const DEDICATED_32KB: Decompressor = Decompressor::Dedicated { window_bits: 15 };
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
    /// 32 KiB window (uWebSockets' `DEDICATED_COMPRESSOR | DEDICATED_DECOMPRESSOR`): about
    /// 340 KiB per socket once it has sent and received a compressed message, the fastest;
    /// choose smaller windows with [`compressor`](Self::compressor) and
    /// [`decompressor`](Self::decompressor) (e.g. [`Compressor::DEDICATED_3KB`]: 512 bytes).
    pub const DEDICATED: CompressOptions = CompressOptions {
        compressor: Compressor::DEDICATED_256KB,
        decompressor: Some(Decompressor::DEDICATED_32KB),
        threshold: 64,
        level: 1,
    };

    /// These options with `compressor` for outgoing messages (window bits clamped to
    /// 9..=15).
    pub const fn compressor(mut self, compressor: Compressor) -> Self {
        self.compressor = match compressor {
            Compressor::Dedicated { window_bits } => Compressor::dedicated(window_bits),
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
