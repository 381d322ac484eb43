//! permessage-deflate negotiation, server side (RFC 7692 section 7.1): the first acceptable
//! offer of the request's `Sec-WebSocket-Extensions` fields, and the response's field.
//!
//! An offer with an unknown, duplicate or malformed parameter is declined, and the next is
//! tried (section 5: a server declines an offer it cannot accept; the handshake goes on
//! without the extension).

use super::options::{CompressOptions, Compressor, Decompressor};

/// The extension's name (RFC 7692 section 7).
pub(crate) const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// What one socket's handshake agreed on, packed into 2 bytes (it sits in every
/// compressed socket's slab entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub struct Agreement {
    /// Our compressor's window bits (high nibble) and the client's at most (low nibble),
    /// each 9..=15.
    windows: u8,
    resets: Resets,
}

/// Which sides compress each message on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resets {
    Neither,
    Server,
    Client,
    Both,
}

impl Agreement {
    /// An agreement on window bits (9..=15) and context takeover.
    pub(crate) fn new(
        server_window: u8,
        client_window: u8,
        server_reset: bool,
        client_reset: bool,
    ) -> Self {
        let resets = match (server_reset, client_reset) {
            (false, false) => Resets::Neither,
            (true, false) => Resets::Server,
            (false, true) => Resets::Client,
            (true, true) => Resets::Both,
        };
        Agreement {
            windows: server_window.clamp(9, 15) << 4 | client_window.clamp(9, 15),
            resets,
        }
    }

    /// Base-2 logarithm of our compressor's window, within what the client allows.
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    pub fn server_window(self) -> u8 {
        self.windows >> 4
    }

    /// Base-2 logarithm of the client's window at most (15 unless restricted).
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    pub fn client_window(self) -> u8 {
        self.windows & 0x0f
    }

    /// We compress each message on its own (`server_no_context_takeover`, or a shared
    /// compressor).
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    pub fn server_reset(self) -> bool {
        matches!(self.resets, Resets::Server | Resets::Both)
    }

    /// The client compresses each message on its own (`client_no_context_takeover` in our
    /// response): the inflate context may be reset (and shared).
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    pub fn client_reset(self) -> bool {
        matches!(self.resets, Resets::Client | Resets::Both)
    }
}

/// Parameters of one offer (RFC 7692 section 7.1), `None` where absent.
#[derive(Default)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: offered without a value.
    client_max_window_bits: Option<Option<u8>>,
}

/// Picks the first offer in `fields` (the values of every `Sec-WebSocket-Extensions` field,
/// in order) that `options` can accept. Returns the agreement and the response field's
/// value, or `None` (no extension: the handshake goes on uncompressed).
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub fn negotiate<'a>(
    fields: impl Iterator<Item = &'a str>,
    options: &CompressOptions,
) -> Option<(Agreement, String)> {
    let decompressor = options.decompressor?;
    fields
        .flat_map(|value| value.split(','))
        .filter_map(parse_offer)
        .find_map(|offer| accept(&offer, options.compressor, decompressor))
}

/// Parses one element of the extension list; `None` if it is not a valid
/// permessage-deflate offer.
fn parse_offer(element: &str) -> Option<Offer> {
    let mut parts = element.split(';');
    let name = parts.next()?.trim();
    if !name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
        return None;
    }
    let mut offer = Offer::default();
    for param in parts {
        let (key, value) = match param.split_once('=') {
            Some((key, value)) => (key.trim(), Some(unquote(value.trim())?)),
            None => (param.trim(), None),
        };
        if key.eq_ignore_ascii_case("server_no_context_takeover") {
            if offer.server_no_context_takeover || value.is_some() {
                return None;
            }
            offer.server_no_context_takeover = true;
        } else if key.eq_ignore_ascii_case("client_no_context_takeover") {
            if offer.client_no_context_takeover || value.is_some() {
                return None;
            }
            offer.client_no_context_takeover = true;
        } else if key.eq_ignore_ascii_case("server_max_window_bits") {
            if offer.server_max_window_bits.is_some() {
                return None;
            }
            offer.server_max_window_bits = Some(window_bits(value?)?);
        } else if key.eq_ignore_ascii_case("client_max_window_bits") {
            if offer.client_max_window_bits.is_some() {
                return None;
            }
            offer.client_max_window_bits = Some(match value {
                Some(value) => Some(window_bits(value)?),
                None => None,
            });
        } else {
            return None;
        }
    }
    Some(offer)
}

/// A parameter value without the quotes of a quoted-string (RFC 7692 section 7.1: the
/// value must parse the same either way); `None` for an unbalanced quote.
fn unquote(value: &str) -> Option<&str> {
    match value.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"'),
        None if value.contains('"') => None,
        None => Some(value),
    }
}

/// A window size: a decimal 8..=15 without leading zeros (RFC 7692 section 7.1.2.1).
fn window_bits(value: &str) -> Option<u8> {
    if value.len() > 2 || value.starts_with('0') || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|bits| (8..=15).contains(bits))
}

/// Accepts `offer` with our settings, or declines it.
fn accept(
    offer: &Offer,
    compressor: Compressor,
    decompressor: Decompressor,
) -> Option<(Agreement, String)> {
    let ours = match compressor {
        Compressor::Dedicated { window_bits, .. } => window_bits,
        Compressor::Shared | Compressor::Disabled => 15,
    };
    // zlib's raw deflate has no 256-byte window: an offer limiting us to it is declined.
    let server_window = match offer.server_max_window_bits {
        Some(8) => return None,
        Some(limit) => ours.min(limit),
        None => ours,
    };
    let server_reset =
        offer.server_no_context_takeover || !matches!(compressor, Compressor::Dedicated { .. });
    let client_reset = decompressor == Decompressor::Shared;
    // The client's window: restricted only if it said it can be (section 7.1.2.2).
    let client_window = match (offer.client_max_window_bits, decompressor) {
        (None, _) => 15,
        (Some(hint), Decompressor::Dedicated { window_bits }) => {
            window_bits.min(hint.unwrap_or(15)).max(9)
        }
        // The loop's inflate context has the full window.
        (Some(_), Decompressor::Shared) => 15,
    };
    let mut response = String::from(PERMESSAGE_DEFLATE);
    if server_reset {
        response.push_str("; server_no_context_takeover");
    }
    if client_reset {
        response.push_str("; client_no_context_takeover");
    }
    // Said when asked, or when smaller than the default 32 KiB: the client's inflater may then
    // keep a smaller window (section 7.1.2.1 allows it unasked).
    if offer.server_max_window_bits.is_some() || server_window < 15 {
        response.push_str("; server_max_window_bits=");
        response.push_str(itoa::Buffer::new().format(server_window));
    }
    if offer.client_max_window_bits.is_some() && client_window < 15 {
        response.push_str("; client_max_window_bits=");
        response.push_str(itoa::Buffer::new().format(client_window));
    }
    let agreement = Agreement::new(server_window, client_window, server_reset, client_reset);
    Some((agreement, response))
}

#[cfg(test)]
mod tests;
